package ws

import (
	"runtime"
	"slices"
	"sync"
)

// flusher writes room traffic to sockets from a long-lived goroutine, a
// few of them per hub (one per CPU), instead of starting a writer
// goroutine on every connection for every burst: under fan-out that start
// and its scheduling were an eighth of the server's CPU.
//
// A connection with frames queued is put on its flusher's list once; the
// flusher takes the whole list, writes each connection's queue with one
// writev that does not wait for the socket, and starts over. So frames
// that arrive while a pass is under way share the write of the next pass:
// the busier the room, the more frames each write carries, and the fewer
// writes the kernel and the clients see (as a group commit shares a sync).
//
// A socket that does not take everything is handed to the connection's
// writer goroutine (writeLoop), which waits for it under the write
// deadline; so does every queue with a close frame, a revocation's
// deadline or a notice someone waits for. A slow or hostile reader never
// holds a flusher up.
type flusher struct {
	wake chan struct{} // a pass is due; a buffer of one
	stop chan struct{}
	mu   sync.Mutex
	list []*conn // connections with frames to write, in the order they came
}

// newFlushers starts the flushers, which end when stop is closed.
func newFlushers(stop chan struct{}, wg *sync.WaitGroup) []*flusher {
	if !canWritevNow {
		return nil
	}
	fs := make([]*flusher, runtime.GOMAXPROCS(0))
	for i := range fs {
		fs[i] = &flusher{wake: make(chan struct{}, 1), stop: stop}
		wg.Go(fs[i].run)
	}
	return fs
}

// add puts c on the list; c.mu is held and c.dirty was false.
func (f *flusher) add(c *conn) {
	f.mu.Lock()
	f.list = append(f.list, c)
	first := len(f.list) == 1
	f.mu.Unlock()
	if first {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

func (f *flusher) run() {
	var spare []*conn
	for {
		select {
		case <-f.wake:
		case <-f.stop:
			return
		}
		select {
		case <-f.stop: // a wake and stop both ready: stop
			return
		default:
		}
		f.mu.Lock()
		list := f.list
		f.list = spare[:0]
		f.mu.Unlock()
		for _, c := range list {
			c.flush()
		}
		clear(list) // let closed connections go
		spare = list
	}
}

// flush writes what c has queued, as the socket takes it without waiting.
func (c *conn) flush() {
	c.mu.Lock()
	c.dirty = false
	if c.writing || c.closed || len(c.queue) == 0 {
		c.mu.Unlock()
		return
	}
	batch := c.takeLocked() // a revocation's or a notice's deadline may be left on the socket
	c.writing = true
	c.mu.Unlock()

	rest, err := writevNow(c.raw, batch)
	c.mu.Lock()
	c.hub.backlog.done(c.writingN)
	c.writingN = 0
	if err != nil {
		c.mu.Unlock()
		c.kill()
		return
	}
	c.wrote += uint64(len(batch) - len(rest))
	if c.closed {
		// Killed during the write: kill took the queue and its count
		// off the backlog; what the socket did not take goes with them.
		c.mu.Unlock()
		return
	}
	if len(rest) == 0 {
		c.writing = false
		if len(c.queue) > 0 {
			c.scheduleLocked()
		}
		c.mu.Unlock()
		return
	}
	// The socket is full: the writer goroutine waits for it, with what is
	// left first.
	for _, b := range rest {
		c.queued += len(b)
	}
	c.queue = slices.Concat(rest, c.queue)
	if k := min(len(rest), perConnBacklog-c.counted); k > 0 {
		c.counted += k
		c.hub.backlog.add(k)
	}
	c.mu.Unlock()
	go c.writeLoop()
}
