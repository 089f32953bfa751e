package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/auditevent"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/tenants"
)

// PrunerOptions tune a Pruner; zero values take the defaults.
type PrunerOptions struct {
	// Interval between passes (1 h); the first pass runs at Start.
	Interval time.Duration
	// PlatformRetentionDays is how long platform events (tenant lifecycle)
	// are kept; 0 keeps them forever.
	PlatformRetentionDays int
	// Batch is how many events one DELETE removes (1,000), so a large
	// backlog never holds a long lock.
	Batch int
	// Now is the clock; time.Now when nil (tests inject one).
	Now    func() time.Time
	Logger *slog.Logger
}

// Pruner deletes audit events past their retention: per tenant,
// settings.audit_retention_days (365 by default, 0 keeps them forever),
// and for the platform, PlatformRetentionDays. Every node may run one:
// deleting is idempotent.
type Pruner struct {
	db     *ent.Client
	o      PrunerOptions
	log    *slog.Logger
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewPruner returns a pruner over db; Start runs it.
func NewPruner(db *ent.Client, o PrunerOptions) *Pruner {
	if o.Interval <= 0 {
		o.Interval = time.Hour
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pruner{db: db, o: o, log: log}
}

// Start prunes now and then every Interval until Close (or ctx ends).
func (p *Pruner) Start(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		return
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := p.PruneOnce(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				p.log.ErrorContext(ctx, "audit pruning failed", slog.String("error", err.Error()))
			case n > 0:
				p.log.InfoContext(ctx, "audit events pruned", slog.Int("deleted", n))
			}
			t.Reset(p.o.Interval)
		}
	}(p.done)
}

// Close stops the pruner and waits for a pass in progress.
func (p *Pruner) Close() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel, p.done = nil, nil
	p.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// PruneOnce deletes every expired event of every tenant and of the
// platform, and returns how many it deleted.
func (p *Pruner) PruneOnce(ctx context.Context) (int, error) {
	now := p.o.Now()
	total := 0
	if days := p.o.PlatformRetentionDays; days > 0 {
		n, err := p.prune(tenants.WithTenant(ctx, PlatformTenant), now.AddDate(0, 0, -days))
		total += n
		if err != nil {
			return total, err
		}
	}
	sys := tenants.SystemContext(ctx, "audit: read every tenant's retention")
	after := ""
	for {
		ts, err := p.db.Tenant.Query().Where(tenant.IDGT(after)).Order(ent.Asc(tenant.FieldID)).Limit(500).All(sys)
		if err != nil {
			return total, fmt.Errorf("prune audit events: list tenants: %w", err)
		}
		for _, t := range ts {
			if days := tenants.AuditRetentionDays(t); days > 0 {
				n, err := p.prune(tenants.WithTenant(ctx, t.ID), now.AddDate(0, 0, -days))
				total += n
				if err != nil {
					return total, err
				}
			}
		}
		if len(ts) < 500 {
			return total, nil
		}
		after = ts[len(ts)-1].ID
	}
}

// prune deletes the events of the tenant in ctx created before cutoff, a
// batch at a time.
func (p *Pruner) prune(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		ids, err := p.db.AuditEvent.Query().Where(auditevent.CreatedAtLT(cutoff)).Limit(p.o.Batch).IDs(ctx)
		if err != nil {
			return total, fmt.Errorf("prune audit events: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		n, err := p.db.AuditEvent.Delete().Where(auditevent.IDIn(ids...)).Exec(ctx)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune audit events: %w", err)
		}
		if len(ids) < p.o.Batch {
			return total, nil
		}
	}
}
