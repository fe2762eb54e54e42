// Package retention keeps the database from growing without end: it drops
// spent chat tokens once they can no longer be presented, removes audit
// records older than the operator's retention (writing them to an export
// file first, if asked), and gives the freed space back to the file system.
package retention

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parley-chat/parley"
)

// Store is what retention removes data from.
type Store interface {
	PurgeTokens(ctx context.Context, now time.Time) error
	ExpireAudit(ctx context.Context, before time.Time, limit int, export func([]*parley.AuditRecord) error) (int, error)
	Compact(ctx context.Context) error
}

// Config says what is kept; zero values take the defaults named.
type Config struct {
	// Audit is how long audit records are kept; zero keeps them forever.
	Audit time.Duration
	// ExportDir, if set, receives each audit record before it is removed,
	// as a line of JSON in audit-<date removed>.jsonl.
	ExportDir string
	// Interval is how often the pass runs; zero means every minute.
	Interval time.Duration
}

// batch is how many audit records one transaction removes.
const batch = 1000

// Keeper runs the retention passes.
type Keeper struct {
	store Store
	cfg   Config
	clock parley.Clock
	log   *slog.Logger
}

// New returns a keeper of store's retention.
func New(store Store, cfg Config, clock parley.Clock, log *slog.Logger) *Keeper {
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	return &Keeper{store: store, cfg: cfg, clock: clock, log: log}
}

// Run makes a pass every Interval until ctx ends.
func (k *Keeper) Run(ctx context.Context) {
	t := time.NewTicker(k.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Pass(ctx); err != nil && ctx.Err() == nil {
				k.log.Error("retention pass", "err", err)
			}
		}
	}
}

// Pass drops spent tokens that have expired, removes (and exports) audit
// records past the retention, and compacts the store if anything went.
func (k *Keeper) Pass(ctx context.Context) error {
	now := k.clock.Now()
	if err := k.store.PurgeTokens(ctx, now); err != nil {
		return fmt.Errorf("purging spent chat tokens: %w", err)
	}
	removed := 0
	if k.cfg.Audit > 0 {
		for {
			n, err := k.store.ExpireAudit(ctx, now.Add(-k.cfg.Audit), batch, k.export)
			if err != nil {
				return fmt.Errorf("expiring audit records: %w", err)
			}
			removed += n
			if n < batch {
				break
			}
		}
		if removed > 0 {
			k.log.Info("audit records past retention removed", "count", removed, "retention", k.cfg.Audit, "exported_to", k.cfg.ExportDir)
		}
	}
	if err := k.store.Compact(ctx); err != nil {
		return fmt.Errorf("compacting the store: %w", err)
	}
	return nil
}

// export appends recs to today's export file and syncs it, before the
// store removes them.
func (k *Keeper) export(recs []*parley.AuditRecord) error {
	if k.cfg.ExportDir == "" {
		return nil
	}
	if err := os.MkdirAll(k.cfg.ExportDir, 0o700); err != nil {
		return err
	}
	name := filepath.Join(k.cfg.ExportDir, "audit-"+k.clock.Now().UTC().Format("2006-01-02")+".jsonl")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
