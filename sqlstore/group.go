package sqlstore

import (
	"context"
	"sync"

	"github.com/parley-chat/parley"
)

// maxGroup bounds the writes one group commit carries.
const maxGroup = 256

// group commits small writes together: the writes that arrive while one
// transaction commits share the next, each in a savepoint of its own so
// that one write's failure is its caller's alone, and every caller returns
// once the transaction holding its write is durable. On SQLite, where each
// commit is a sync to disk, a storm of audit records and token spends
// costs one sync per group instead of one per write.
type group struct {
	s    *Store
	jobs chan *job
	wg   sync.WaitGroup

	mu      sync.Mutex
	stopped bool
}

type job struct {
	ctx  context.Context
	fn   func(context.Context, querier) error
	done chan error
}

func startGroup(s *Store) *group {
	g := &group{s: s, jobs: make(chan *job, maxGroup)}
	g.wg.Add(1)
	go g.run()
	return g
}

// do runs fn, and appends the outbox entries of ctx, in the next group
// commit, and returns its outcome. A caller that gives up (ctx) before its
// write starts is left out of the group.
func (g *group) do(ctx context.Context, fn func(context.Context, querier) error) error {
	j := &job{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return parley.Errorf(parley.KindUnavailable, "the store is closed")
	}
	select {
	case g.jobs <- j:
		g.mu.Unlock()
	case <-ctx.Done():
		g.mu.Unlock()
		return ctx.Err()
	}
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *group) run() {
	defer g.wg.Done()
	batch := make([]*job, 0, maxGroup)
	for j := range g.jobs {
		batch = append(batch[:0], j)
	more:
		for len(batch) < maxGroup {
			select {
			case j, ok := <-g.jobs:
				if !ok {
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		g.commit(batch)
	}
}

// commit runs batch in one transaction and tells each job its outcome.
func (g *group) commit(batch []*job) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	err := g.s.tx(context.Background(), func(q querier) error {
		for i, j := range live {
			ctx := context.WithoutCancel(j.ctx)
			if len(live) == 1 {
				errs[i] = write(ctx, q, j.fn)
				return errs[i]
			}
			if _, err := q.exec(ctx, `SAVEPOINT grouped`); err != nil {
				return err
			}
			if errs[i] = write(ctx, q, j.fn); errs[i] != nil {
				if _, err := q.exec(ctx, `ROLLBACK TO SAVEPOINT grouped`); err != nil {
					return err
				}
			}
			if _, err := q.exec(ctx, `RELEASE SAVEPOINT grouped`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, j := range live {
		if err != nil && (len(live) > 1 || errs[i] == nil) {
			errs[i] = err // the transaction failed: nobody's write is in
		}
		j.done <- errs[i]
	}
}

// write runs fn and appends the outbox entries of ctx with it.
func write(ctx context.Context, q querier, fn func(context.Context, querier) error) error {
	if err := fn(ctx, q); err != nil {
		return err
	}
	return appendOutbox(ctx, q, parley.OutboxFrom(ctx))
}

// stop commits what is queued and ends the group.
func (g *group) stop() {
	g.mu.Lock()
	if !g.stopped {
		g.stopped = true
		close(g.jobs)
	}
	g.mu.Unlock()
	g.wg.Wait()
}
