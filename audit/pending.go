package audit

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Pending is the audit entry of a request being served. The API middleware
// puts it in the request context before the handler runs; a service whose
// change runs in a transaction writes it there with RecordTx, so the change
// and its audit event commit or roll back together; the middleware writes
// whatever is left (failures, changes made without a transaction) once the
// handler has answered.
type Pending struct {
	mu    sync.Mutex
	entry Entry
	fill  func(context.Context, *Entry)
	rowID string // the row RecordTx wrote, "" until then
}

// NewPending returns a pending entry for e. fill, when not nil, completes
// the entry from the context it is written with (the actor, known only once
// the request is authenticated).
func NewPending(e Entry, fill func(context.Context, *Entry)) *Pending {
	return &Pending{entry: e, fill: fill}
}

type pendingKey struct{}

// WithPending returns ctx carrying p.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

func pendingFrom(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// Annotate lets the code serving a request complete its pending entry (the
// actor of a login, the id of a created object, details). fn must not record
// a secret. Without a pending entry in ctx it does nothing.
func Annotate(ctx context.Context, fn func(e *Entry)) {
	p := pendingFrom(ctx)
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.entry)
}

// SetTarget names the target of the pending entry of ctx when its route has
// no id (creation).
func SetTarget(ctx context.Context, id string) {
	Annotate(ctx, func(e *Entry) {
		if e.TargetID == "" {
			e.TargetID = id
		}
	})
}

// RecordTx writes the pending entry of ctx, as a success, through tx, the
// transaction of the change it records: call it right before the commit.
// The status is not known yet (the middleware fills it in after the
// response). Without a pending entry, or when it is already written, it
// does nothing.
func RecordTx(ctx context.Context, tx *ent.Client) error {
	p := pendingFrom(ctx)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rowID != "" {
		return nil
	}
	if p.fill != nil {
		p.fill(ctx, &p.entry)
	}
	e := p.entry
	e.Success, e.Status = true, 0
	id, err := create(ctx, tx, e)
	if err != nil {
		return err
	}
	p.rowID = id
	return nil
}

// Finish records the pending entry p once the handler has answered with
// status: the entry RecordTx wrote gets the status; an entry not written,
// or written in a transaction that rolled back, is written now (success
// when status < 400).
func (l *Log) Finish(ctx context.Context, p *Pending, status int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rowID != "" {
		n, err := l.db.AuditEvent.Update().Where(idIs(p.rowID)).SetStatus(status).Save(scope(ctx))
		if err != nil {
			return fmt.Errorf("finish audit event: %w", err)
		}
		if n == 1 {
			return nil
		}
		p.rowID = "" // the transaction rolled back
	}
	if p.fill != nil {
		p.fill(ctx, &p.entry)
	}
	e := p.entry
	e.Status, e.Success = status, status < 400
	id, err := create(ctx, l.db, e)
	if err != nil {
		return err
	}
	p.rowID = id
	return nil
}

// scope gives ctx the platform's system scope when it has no tenant.
func scope(ctx context.Context) context.Context {
	if _, ok := tenants.IDFromContext(ctx); !ok {
		return tenants.SystemContext(ctx, "platform audit event")
	}
	return ctx
}
