// Package audit keeps the audit trail: who did what to which identity object,
// when, from where, and with what result. Entries never carry a secret. It
// may import ent and tenants.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/auditevent"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/tenants"
)

// PlatformTenant is the tenant id under which platform operations (tenant
// lifecycle, domains) are recorded.
const PlatformTenant = "platform"

// Entry is one audited action.
type Entry struct {
	ActorType, ActorID   string
	Action               string // e.g. "api_key.revoke"; "METHOD /route" for a route without a name
	TargetType, TargetID string
	Success              bool
	Status               int
	IP, UserAgent        string
	RequestID, TraceID   string
	Details              map[string]any
}

// Log writes and reads audit events.
type Log struct{ db *ent.Client }

// New returns the audit log over db.
func New(db *ent.Client) *Log { return &Log{db: db} }

// Record writes e for the tenant in ctx, or for the platform when ctx has no
// tenant.
func (l *Log) Record(ctx context.Context, e Entry) error {
	_, err := create(ctx, l.db, e)
	return err
}

// create writes e through db (the log's client or a transaction's) and
// returns the row's id.
func create(ctx context.Context, db *ent.Client, e Entry) (string, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		tenantID = PlatformTenant
		ctx = tenants.SystemContext(ctx, "platform audit event")
	}
	result := auditevent.ResultFailure
	if e.Success {
		result = auditevent.ResultSuccess
	}
	if len(e.UserAgent) > 256 {
		e.UserAgent = e.UserAgent[:256]
	}
	c := db.AuditEvent.Create().SetTenantID(tenantID).SetActorType(e.ActorType).SetActorID(e.ActorID).
		SetAction(e.Action).SetTargetType(e.TargetType).SetTargetID(e.TargetID).SetResult(result).
		SetStatus(e.Status).SetIP(e.IP).SetUserAgent(e.UserAgent).SetRequestID(e.RequestID).SetTraceID(e.TraceID)
	if e.Details != nil {
		c.SetDetails(e.Details)
	}
	ev, err := c.Save(ctx)
	if err != nil {
		return "", fmt.Errorf("record audit event: %w", err)
	}
	return ev.ID, nil
}

func idIs(id string) predicate.AuditEvent { return auditevent.ID(id) }

// Filter selects events; zero fields do not filter.
type Filter struct {
	ActorID, Action, TargetID string
	Since, Until              time.Time
	Offset, Limit             int
}

// Find returns a page of the events of the tenant in ctx (the platform's
// when ctx has no tenant), newest first, and the total count.
func (l *Log) Find(ctx context.Context, f Filter) ([]*ent.AuditEvent, int, error) {
	q := l.db.AuditEvent.Query()
	if _, ok := tenants.IDFromContext(ctx); !ok {
		ctx = tenants.SystemContext(ctx, "platform audit events")
		q = q.Where(auditevent.TenantID(PlatformTenant))
	}
	if f.ActorID != "" {
		q = q.Where(auditevent.ActorID(f.ActorID))
	}
	if f.Action != "" {
		q = q.Where(auditevent.Action(f.Action))
	}
	if f.TargetID != "" {
		q = q.Where(auditevent.TargetID(f.TargetID))
	}
	if !f.Since.IsZero() {
		q = q.Where(auditevent.CreatedAtGTE(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where(auditevent.CreatedAtLTE(f.Until))
	}
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count audit events: %w", err)
	}
	es, err := q.Order(ent.Desc(auditevent.FieldCreatedAt), ent.Desc(auditevent.FieldID)).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return es, count, nil
}
