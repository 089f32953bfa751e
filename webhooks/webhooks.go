package webhooks

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/schema"
	"github.com/gatehousehq/gatehouse/ent/webhook"
	"github.com/gatehousehq/gatehouse/ent/webhookdelivery"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Window is how long a delivery is retried: 24 hours after its event, or
// after a manual retry. Then it is dead.
const Window = 24 * time.Hour

// AllEvents in a webhook's event types subscribes it to every event.
const AllEvents = "*"

// Options configure a Service.
type Options struct {
	// Dialect is the database's Ent dialect: on PostgreSQL dispatchers claim
	// rows with SELECT … FOR UPDATE SKIP LOCKED; on SQLite the single
	// writer serialises the claims of one process.
	Dialect string
	// AllowPrivateTargets accepts loopback and private addresses as targets
	// (development and tests). Production refuses them unless configured.
	AllowPrivateTargets bool
	// Now is the clock; time.Now when nil (tests inject one).
	Now func() time.Time
}

// Service manages a tenant's webhooks and their delivery history. Every
// method works in the tenant of ctx.
type Service struct {
	db   *ent.Client
	seal *sealer
	opts Options
}

// New returns the webhook service over db; masterKey (GATEHOUSE_MASTER_KEY)
// is the root of the key that encrypts signing secrets.
func New(db *ent.Client, masterKey []byte, o Options) (*Service, error) {
	s, err := newSealer(masterKey)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{db: db, seal: s, opts: o}, nil
}

func (s *Service) now() time.Time { return s.opts.Now() }

func (s *Service) postgres() bool { return s.opts.Dialect == dialect.Postgres }

// CreateInput describes a new webhook.
type CreateInput struct {
	URL         string
	Description string
	// EventTypes lists the event names delivered; nil means all ("*").
	EventTypes []string
	// Enabled defaults to true.
	Enabled *bool
}

// UpdateInput changes a webhook; nil fields are left as they are.
type UpdateInput struct {
	URL         *string
	Description *string
	EventTypes  []string
	Enabled     *bool
}

var eventTypeRE = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*)$`)

func checkEventTypes(ts []string) ([]string, error) {
	if len(ts) == 0 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: event_types must list at least one event name or \"*\"")
	}
	if len(ts) > 100 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: event_types lists at most 100 names")
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		t = strings.TrimSpace(t)
		if len(t) > 100 || !eventTypeRE.MatchString(t) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: invalid event type %q", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len(d) > 500 {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: description is at most 500 characters")
	}
	return d, nil
}

// matches reports whether a webhook subscribed to types receives name.
func matches(types []string, name string) bool {
	return slices.Contains(types, AllEvents) || slices.Contains(types, name)
}

func notFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Webhook with id: %s not found", id)
}

// CreateWebhook registers a webhook and returns it with its signing secret
// (whsec_…), which is shown this once and stored only encrypted. Errors:
// invalid (URL not http(s), a private target where refused, bad event types).
func (s *Service) CreateWebhook(ctx context.Context, in CreateInput) (*ent.Webhook, string, error) {
	tenantID, ok := tenants.IDFromContext(ctx)
	if !ok {
		return nil, "", tenants.ErrNoTenant
	}
	u, err := checkURL(in.URL, s.opts.AllowPrivateTargets)
	if err != nil {
		return nil, "", err
	}
	desc, err := checkDescription(in.Description)
	if err != nil {
		return nil, "", err
	}
	types := []string{AllEvents}
	if in.EventTypes != nil {
		if types, err = checkEventTypes(in.EventTypes); err != nil {
			return nil, "", err
		}
	}
	enabled := true
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	id := schema.NewID("wh")
	sealed, err := s.seal.seal(tenantID, id, []byte(secret))
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	w, err := s.db.Webhook.Create().SetID(id).SetURL(u).SetDescription(desc).SetEventTypes(types).
		SetEnabled(enabled).SetSecret(sealed).Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("create webhook: %w", err)
	}
	audit.SetTarget(ctx, w.ID)
	return w, secret, nil
}

// FindWebhookByID returns a webhook of the tenant. Errors: not_found (also
// for another tenant's webhook).
func (s *Service) FindWebhookByID(ctx context.Context, id string) (*ent.Webhook, error) {
	w, err := s.db.Webhook.Query().Where(webhook.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook: %w", err)
	}
	return w, nil
}

// Filter pages lists.
type Filter struct {
	Offset, Limit int
}

// FindWebhooks returns a page of the tenant's webhooks, oldest first, and
// the total count.
func (s *Service) FindWebhooks(ctx context.Context, f Filter) ([]*ent.Webhook, int, error) {
	q := s.db.Webhook.Query()
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count webhooks: %w", err)
	}
	ws, err := q.Order(ent.Asc(webhook.FieldCreatedAt), ent.Asc(webhook.FieldID)).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list webhooks: %w", err)
	}
	return ws, count, nil
}

// UpdateWebhook changes a webhook. Errors: not_found, invalid.
func (s *Service) UpdateWebhook(ctx context.Context, id string, in UpdateInput) (*ent.Webhook, error) {
	u := s.db.Webhook.Update().Where(webhook.ID(id))
	if in.URL != nil {
		v, err := checkURL(*in.URL, s.opts.AllowPrivateTargets)
		if err != nil {
			return nil, err
		}
		u.SetURL(v)
	}
	if in.Description != nil {
		d, err := checkDescription(*in.Description)
		if err != nil {
			return nil, err
		}
		u.SetDescription(d)
	}
	if in.EventTypes != nil {
		ts, err := checkEventTypes(in.EventTypes)
		if err != nil {
			return nil, err
		}
		u.SetEventTypes(ts)
	}
	if in.Enabled != nil {
		u.SetEnabled(*in.Enabled)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if n == 0 {
		return nil, notFound(id)
	}
	return s.FindWebhookByID(ctx, id)
}

// DeleteWebhook deletes a webhook and its delivery history; deliveries not
// yet made are dropped. Errors: not_found.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	n, err := tx.Webhook.Delete().Where(webhook.ID(id)).Exec(ctx)
	if err == nil && n == 1 {
		_, err = tx.WebhookDelivery.Delete().Where(webhookdelivery.WebhookID(id)).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n == 0 {
		_ = tx.Rollback()
		return notFound(id)
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// DeliveryFilter selects deliveries of a webhook.
type DeliveryFilter struct {
	// Status is pending, succeeded or dead; "" for all.
	Status        string
	Offset, Limit int
}

// FindDeliveries returns a page of a webhook's deliveries, newest first,
// and the total count. Errors: not_found (the webhook), invalid (status).
func (s *Service) FindDeliveries(ctx context.Context, webhookID string, f DeliveryFilter) ([]*ent.WebhookDelivery, int, error) {
	if _, err := s.FindWebhookByID(ctx, webhookID); err != nil {
		return nil, 0, err
	}
	q := s.db.WebhookDelivery.Query().Where(webhookdelivery.WebhookID(webhookID))
	if f.Status != "" {
		st := webhookdelivery.Status(f.Status)
		if err := webhookdelivery.StatusValidator(st); err != nil {
			return nil, 0, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: status must be pending, succeeded or dead")
		}
		q = q.Where(webhookdelivery.StatusEQ(st))
	}
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count deliveries: %w", err)
	}
	ds, err := q.Order(ent.Desc(webhookdelivery.FieldCreatedAt), ent.Desc(webhookdelivery.FieldID)).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", err)
	}
	return ds, count, nil
}

// RetryDelivery makes a delivery due now, whatever its status (a dead one
// is revived, a succeeded one is sent again), with a fresh 24-hour window.
// Errors: not_found (the webhook or the delivery).
func (s *Service) RetryDelivery(ctx context.Context, webhookID, deliveryID string) (*ent.WebhookDelivery, error) {
	if _, err := s.FindWebhookByID(ctx, webhookID); err != nil {
		return nil, err
	}
	now := s.now()
	n, err := s.db.WebhookDelivery.Update().
		Where(webhookdelivery.ID(deliveryID), webhookdelivery.WebhookID(webhookID)).
		SetStatus(webhookdelivery.StatusPending).SetNextAttemptAt(now).SetExpiresAt(now.Add(Window)).
		ClearDeliveredAt().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	if n == 0 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Webhook delivery with id: %s not found", deliveryID)
	}
	return s.db.WebhookDelivery.Get(ctx, deliveryID)
}
