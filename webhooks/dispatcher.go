package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/event"
	"github.com/gatehousehq/gatehouse/ent/webhook"
	"github.com/gatehousehq/gatehouse/ent/webhookdelivery"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Headers of a delivery.
const (
	HeaderID        = "Gatehouse-Webhook-Id"
	HeaderTimestamp = "Gatehouse-Webhook-Timestamp"
	HeaderSignature = "Gatehouse-Webhook-Signature"
)

// DispatcherOptions tune a Dispatcher; zero values take the defaults.
type DispatcherOptions struct {
	// Interval is the pause between polls when there is nothing to do (1 s).
	Interval time.Duration
	// Batch is how many events are fanned out, and how many deliveries sent
	// concurrently, per pass (32).
	Batch int
	// Timeout bounds one delivery, connection to last byte (10 s).
	Timeout time.Duration
	// Lease is how far a claim pushes a delivery's next attempt: if the
	// node dies mid-send, another retries it after this (1 min; longer
	// than Timeout).
	Lease time.Duration
	// MinBackoff and MaxBackoff bound the exponential back-off between
	// attempts (10 s doubling up to 1 h, with jitter).
	MinBackoff, MaxBackoff time.Duration
	// Client sends the requests; by default one with Timeout, no redirects,
	// no proxy, and the non-public address guard unless private targets
	// are allowed.
	Client *http.Client
	Logger *slog.Logger
}

// Dispatcher delivers the outbox: it fans pending events out into
// deliveries and sends the deliveries that are due. Any number of
// dispatchers may run on one database; each event reaches each webhook at
// least once, and normally exactly once.
type Dispatcher struct {
	svc    *Service
	o      DispatcherOptions
	log    *slog.Logger
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewDispatcher returns a dispatcher over s's database; Start runs it.
func (s *Service) NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Lease <= o.Timeout {
		o.Lease = max(time.Minute, 2*o.Timeout)
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 10 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Hour, o.MinBackoff)
	}
	if o.Client == nil {
		o.Client = newClient(s.opts.AllowPrivateTargets, o.Timeout)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{svc: s, o: o, log: log}
}

// Start runs the dispatcher in the background until Close (or ctx ends).
func (d *Dispatcher) Start(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cancel != nil {
		return
	}
	ctx, d.cancel = context.WithCancel(ctx)
	d.done = make(chan struct{})
	go d.loop(ctx, d.done)
}

// Close stops the dispatcher and waits for the deliveries in flight to
// finish and be recorded (at most Timeout), so a graceful stop loses and
// repeats nothing.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel, d.done = nil, nil
	d.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (d *Dispatcher) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "webhook dispatch failed", slog.String("error", err.Error()))
		}
		if n > 0 && err == nil {
			t.Reset(0) // more may be waiting
		} else {
			t.Reset(d.o.Interval)
		}
	}
}

// RunOnce makes one pass: fans out a batch of pending events and sends a
// batch of due deliveries, waiting for them. It returns how many events
// and deliveries it handled. Once rows are claimed the pass finishes even
// if ctx ends, so that its results are recorded.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fanned, ferr := d.fanOut(ctx)
	sent, serr := d.sendDue(ctx)
	return fanned + sent, errors.Join(ferr, serr)
}

// claimOpts locks the selected rows and skips rows another node holds, on
// PostgreSQL; SQLite has no row locks and one writer.
func (d *Dispatcher) locking() bool { return d.svc.postgres() }

// fanOut turns pending events into deliveries, one per enabled webhook of
// the event's tenant that subscribes to its name, and marks the events
// delivered (fanned out), all in one transaction.
func (d *Dispatcher) fanOut(ctx context.Context) (int, error) {
	sys := tenants.SystemContext(ctx, "webhooks: claim pending events of every tenant")
	tx, err := d.svc.db.Tx(sys)
	if err != nil {
		return 0, fmt.Errorf("fan out: %w", err)
	}
	q := tx.Event.Query().Where(event.StatusEQ(event.StatusPending)).
		Order(ent.Asc(event.FieldCreatedAt), ent.Asc(event.FieldID)).Limit(d.o.Batch)
	if d.locking() {
		q = q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
	evs, err := q.All(sys)
	if err != nil || len(evs) == 0 {
		_ = tx.Rollback()
		if err != nil {
			return 0, fmt.Errorf("fan out: claim events: %w", err)
		}
		return 0, nil
	}
	now := d.svc.now()
	hooks := map[string][]*ent.Webhook{}
	ids := make([]string, 0, len(evs))
	for _, ev := range evs {
		tctx := tenants.WithTenant(ctx, ev.TenantID)
		ws, ok := hooks[ev.TenantID]
		if !ok {
			if ws, err = tx.Webhook.Query().Where(webhook.Enabled(true)).All(tctx); err != nil {
				_ = tx.Rollback()
				return 0, fmt.Errorf("fan out: webhooks of %s: %w", ev.TenantID, err)
			}
			hooks[ev.TenantID] = ws
		}
		var creates []*ent.WebhookDeliveryCreate
		for _, w := range ws {
			if matches(w.EventTypes, ev.Name) {
				creates = append(creates, tx.WebhookDelivery.Create().SetWebhookID(w.ID).SetEventID(ev.ID).
					SetEventName(ev.Name).SetNextAttemptAt(now).SetExpiresAt(ev.CreatedAt.Add(Window)))
			}
		}
		if len(creates) > 0 {
			err := tx.WebhookDelivery.CreateBulk(creates...).
				OnConflictColumns(webhookdelivery.FieldWebhookID, webhookdelivery.FieldEventID).DoNothing().Exec(tctx)
			if err != nil {
				_ = tx.Rollback()
				return 0, fmt.Errorf("fan out %s: %w", ev.ID, err)
			}
		}
		ids = append(ids, ev.ID)
	}
	if err := tx.Event.Update().Where(event.IDIn(ids...)).SetStatus(event.StatusDelivered).Exec(sys); err != nil {
		_ = tx.Rollback()
		return 0, fmt.Errorf("fan out: mark events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("fan out: %w", err)
	}
	return len(evs), nil
}

// claim selects due deliveries and leases them: their next attempt moves to
// lease, so no other dispatcher takes them meanwhile, and a crashed node's
// claims fall due again.
func (d *Dispatcher) claim(ctx context.Context, now, lease time.Time) ([]*ent.WebhookDelivery, error) {
	sys := tenants.SystemContext(ctx, "webhooks: claim due deliveries of every tenant")
	tx, err := d.svc.db.Tx(sys)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	q := tx.WebhookDelivery.Query().
		Where(webhookdelivery.StatusEQ(webhookdelivery.StatusPending), webhookdelivery.NextAttemptAtLTE(now)).
		Order(ent.Asc(webhookdelivery.FieldNextAttemptAt), ent.Asc(webhookdelivery.FieldID)).Limit(d.o.Batch)
	if d.locking() {
		q = q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
	ds, err := q.All(sys)
	if err != nil || len(ds) == 0 {
		_ = tx.Rollback()
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		return nil, nil
	}
	ids := make([]string, len(ds))
	for i, dl := range ds {
		ids[i] = dl.ID
	}
	if err := tx.WebhookDelivery.Update().Where(webhookdelivery.IDIn(ids...)).SetNextAttemptAt(lease).Exec(sys); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return ds, nil
}

// sendDue claims a batch of due deliveries and sends them concurrently.
func (d *Dispatcher) sendDue(ctx context.Context) (int, error) {
	now := d.svc.now()
	// Millisecond precision survives every database's timestamp type, so
	// the lease can be compared when the result is recorded.
	lease := now.Add(d.o.Lease).Truncate(time.Millisecond)
	ds, err := d.claim(ctx, now, lease)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	work := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	errs := make([]error, len(ds))
	for i, dl := range ds {
		wg.Go(func() { errs[i] = d.deliver(work, dl, lease) })
	}
	wg.Wait()
	return len(ds), errors.Join(errs...)
}

// payload is the JSON body of a delivery.
type payload struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	TenantID  string         `json:"tenant_id"`
	CreatedAt string         `json:"created_at"`
	Data      map[string]any `json:"data"`
}

// outcome of one attempt.
type outcome struct {
	status int    // HTTP status, 0 when none
	err    string // why it failed; "" on success
	final  bool   // dead without retrying (webhook or event gone)
}

// deliver sends one claimed delivery and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, dl *ent.WebhookDelivery, lease time.Time) error {
	tctx := tenants.WithTenant(ctx, dl.TenantID)
	out, err := d.attempt(tctx, dl)
	if err != nil {
		// A database error before sending: leave the claim to expire.
		return err
	}
	return d.record(tctx, dl, lease, out)
}

func (d *Dispatcher) attempt(ctx context.Context, dl *ent.WebhookDelivery) (outcome, error) {
	ev, err := d.svc.db.Event.Get(ctx, dl.EventID)
	if ent.IsNotFound(err) {
		return outcome{err: "the event no longer exists", final: true}, nil
	}
	if err != nil {
		return outcome{}, fmt.Errorf("deliver %s: %w", dl.ID, err)
	}
	w, err := d.svc.db.Webhook.Get(ctx, dl.WebhookID)
	if ent.IsNotFound(err) {
		return outcome{err: "the webhook no longer exists", final: true}, nil
	}
	if err != nil {
		return outcome{}, fmt.Errorf("deliver %s: %w", dl.ID, err)
	}
	if !w.Enabled {
		return outcome{err: "the webhook is disabled", final: true}, nil
	}
	secret, err := d.svc.seal.open(w.TenantID, w.ID, w.Secret)
	if err != nil {
		return outcome{}, fmt.Errorf("deliver %s: %w", dl.ID, err)
	}
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	body, err := json.Marshal(payload{ID: ev.ID, Type: ev.Name, TenantID: ev.TenantID,
		CreatedAt: ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Data: data})
	if err != nil {
		return outcome{err: "the event data is not JSON", final: true}, nil
	}
	ts := d.svc.now()
	rctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: "invalid URL", final: true}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Gatehouse-Webhooks/1")
	req.Header.Set(HeaderID, ev.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(string(secret), ts, body))
	res, err := d.o.Client.Do(req)
	if err != nil {
		return outcome{err: transportError(err)}, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return outcome{status: res.StatusCode, err: "HTTP " + strconv.Itoa(res.StatusCode)}, nil
	}
	return outcome{status: res.StatusCode}, nil
}

// record writes an attempt's outcome, only while this dispatcher's lease
// holds (a manual retry or another node's reclaim in the meantime wins).
func (d *Dispatcher) record(ctx context.Context, dl *ent.WebhookDelivery, lease time.Time, out outcome) error {
	now := d.svc.now()
	u := d.svc.db.WebhookDelivery.Update().Where(webhookdelivery.ID(dl.ID),
		webhookdelivery.StatusEQ(webhookdelivery.StatusPending), webhookdelivery.NextAttemptAt(lease)).
		AddAttempts(1).SetLastAttemptAt(now)
	if out.status != 0 {
		u.SetLastStatusCode(out.status)
	} else {
		u.ClearLastStatusCode()
	}
	attrs := []any{slog.String("tenant_id", dl.TenantID), slog.String("webhook_id", dl.WebhookID),
		slog.String("delivery_id", dl.ID), slog.String("event", dl.EventName), slog.Int("attempt", dl.Attempts+1)}
	switch {
	case out.err == "":
		u.SetStatus(webhookdelivery.StatusSucceeded).SetDeliveredAt(now).ClearLastError()
		d.log.DebugContext(ctx, "webhook delivered", attrs...)
	default:
		u.SetLastError(out.err)
		expires := dl.CreatedAt.Add(Window)
		if dl.ExpiresAt != nil {
			expires = *dl.ExpiresAt
		}
		next := now.Add(d.backoff(dl.Attempts + 1))
		if out.final || !now.Before(expires) {
			u.SetStatus(webhookdelivery.StatusDead)
			d.log.WarnContext(ctx, "webhook delivery dead", append(attrs, slog.String("error", out.err))...)
			break
		}
		if next.After(expires) {
			next = expires
		}
		u.SetNextAttemptAt(next)
		d.log.InfoContext(ctx, "webhook delivery failed, will retry", append(attrs, slog.String("error", out.err), slog.Time("next_attempt_at", next))...)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", dl.ID, err)
	}
	if n == 0 {
		d.log.InfoContext(ctx, "webhook delivery outcome not recorded: its claim was taken over", attrs...)
	}
	return nil
}

// backoff is the pause after the n-th failed attempt: MinBackoff doubling
// per attempt up to MaxBackoff, the upper half jittered so that retries of
// one outage spread out.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.o.MinBackoff
	for i := 1; i < n && b < d.o.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.o.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}
