package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/database"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/event"
	"github.com/gatehousehq/gatehouse/ent/webhookdelivery"
	"github.com/gatehousehq/gatehouse/tenants"
)

var testMaster = []byte("test-master-key-0123456789abcdef0123456789")

// clock is an injectable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest endpoint that records requests and answers with
// the status status() returns.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status func(n int) int
	delay  time.Duration
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b})
		n := len(r.got)
		d := r.delay
		r.mu.Unlock()
		time.Sleep(d)
		code := http.StatusNoContent
		if r.status != nil {
			code = r.status(n)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// eventIDs counts deliveries per event id.
func (r *receiver) eventIDs() map[string]int {
	out := map[string]int{}
	for _, g := range r.requests() {
		out[g.header.Get(HeaderID)]++
	}
	return out
}

type fixture struct {
	db    *database.DB
	svc   *Service
	clock *clock
	acme  context.Context
	other context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := dbtest.Open(t)
	return fixtureOn(t, db)
}

func fixtureOn(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, clock: newClock()}
	var err error
	f.svc, err = New(db.Client, testMaster, Options{Dialect: db.Dialect, AllowPrivateTargets: true, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.acme = f.tenant(t, "acme")
	f.other = f.tenant(t, "other")
	return f
}

func (f *fixture) tenant(t *testing.T, slug string) context.Context {
	t.Helper()
	ctx := context.Background()
	created, err := f.db.Tenant.Create().SetSlug(slug).SetName(strings.ToUpper(slug)).Save(tenants.SystemContext(ctx, "test"))
	if err != nil {
		t.Fatal(err)
	}
	return tenants.NewContext(ctx, created)
}

func (f *fixture) emit(t *testing.T, ctx context.Context, name string, data map[string]any) *ent.Event {
	t.Helper()
	ev, err := f.db.Event.Create().SetName(name).SetData(data).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (f *fixture) dispatcher(o DispatcherOptions) *Dispatcher {
	if o.Interval == 0 {
		o.Interval = 10 * time.Millisecond
	}
	return f.svc.NewDispatcher(o)
}

func (f *fixture) deliveries(t *testing.T, ctx context.Context) []*ent.WebhookDelivery {
	t.Helper()
	ds, err := f.db.WebhookDelivery.Query().Order(ent.Asc(webhookdelivery.FieldCreatedAt)).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func runOnce(t *testing.T, d *Dispatcher) int {
	t.Helper()
	n, err := d.RunOnce(t.Context())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

func TestDeliverySignedAndVerifiable(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, nil)
	w, secret, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL + "/hooks?k=1", Description: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != len(SecretPrefix)+43 {
		t.Errorf("secret = %q, want whsec_ and 43 base64url characters", secret)
	}
	if strings.Contains(string(w.Secret), secret) || strings.Contains(string(w.Secret), strings.TrimPrefix(secret, SecretPrefix)) {
		t.Error("the stored secret contains the plaintext")
	}
	ev := f.emit(t, f.acme, "auth.password_reset", map[string]any{"entity_id": "a@acme.test"})
	d := f.dispatcher(DispatcherOptions{})
	if n := runOnce(t, d); n != 2 {
		t.Errorf("RunOnce handled %d, want 2 (one event, one delivery)", n)
	}
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	r := got[0]
	if err := Verify(secret, r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature), r.body, f.clock.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	if err := Verify("whsec_wrong", r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature), r.body, f.clock.Now(), 5*time.Minute); err == nil {
		t.Error("Verify with the wrong secret = nil, want an error")
	}
	if err := Verify(secret, r.header.Get(HeaderTimestamp), r.header.Get(HeaderSignature), r.body, f.clock.Now().Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("Verify an hour later = nil, want an error (replay)")
	}
	if r.header.Get(HeaderID) != ev.ID || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", r.header)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": ev.ID, "type": "auth.password_reset", "tenant_id": ev.TenantID,
		"created_at": ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"), "data": map[string]any{"entity_id": "a@acme.test"}}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	ds := f.deliveries(t, f.acme)
	if len(ds) != 1 || ds[0].Status != webhookdelivery.StatusSucceeded || ds[0].Attempts != 1 || ds[0].DeliveredAt == nil ||
		ds[0].LastStatusCode == nil || *ds[0].LastStatusCode != 204 {
		t.Errorf("deliveries = %+v, want one succeeded after 1 attempt with 204", ds)
	}
	if e, _ := f.db.Event.Get(f.acme, ev.ID); e.Status != event.StatusDelivered {
		t.Errorf("event status = %s, want delivered", e.Status)
	}
	// Nothing more to do.
	if n := runOnce(t, d); n != 0 || len(rcv.requests()) != 1 {
		t.Errorf("second RunOnce handled %d, receiver got %d; want 0 and 1", n, len(rcv.requests()))
	}
}

func TestFailedDeliveryIsRetriedWithBackoff(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	if _, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	d := f.dispatcher(DispatcherOptions{MinBackoff: 10 * time.Second})
	runOnce(t, d)
	ds := f.deliveries(t, f.acme)
	if len(ds) != 1 || ds[0].Status != webhookdelivery.StatusPending || ds[0].Attempts != 1 ||
		*ds[0].LastStatusCode != 500 || *ds[0].LastError != "HTTP 500" {
		t.Fatalf("after a 500: %+v, want pending, 1 attempt, 500", ds[0])
	}
	wait := ds[0].NextAttemptAt.Sub(f.clock.Now())
	if wait < 5*time.Second || wait > 10*time.Second {
		t.Errorf("next attempt in %v, want 5-10 s (10 s with jitter)", wait)
	}
	if runOnce(t, d); len(rcv.requests()) != 1 {
		t.Errorf("retried before the back-off: %d requests", len(rcv.requests()))
	}
	f.clock.Advance(10 * time.Second)
	runOnce(t, d)
	ds = f.deliveries(t, f.acme)
	if len(rcv.requests()) != 2 || ds[0].Status != webhookdelivery.StatusSucceeded || ds[0].Attempts != 2 || ds[0].LastError != nil {
		t.Errorf("after the back-off: %d requests, delivery %+v; want 2 and succeeded after 2 attempts", len(rcv.requests()), ds[0])
	}
	// The event id is the same on every attempt: receivers deduplicate by it.
	if got := rcv.eventIDs(); len(got) != 1 {
		t.Errorf("event ids = %v, want one id on both attempts", got)
	}
}

func TestDeliveryDiesAfterTheWindowAndCanBeRetried(t *testing.T) {
	f := newFixture(t)
	var ok atomic.Bool
	rcv := newReceiver(t, func(int) int {
		if ok.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	w, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ev := f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	d := f.dispatcher(DispatcherOptions{})
	deadline := ev.CreatedAt.Add(Window)
	for i := 0; i < 500; i++ {
		runOnce(t, d)
		dl := f.deliveries(t, f.acme)[0]
		if dl.Status == webhookdelivery.StatusDead {
			if f.clock.Now().Before(deadline) {
				t.Fatalf("dead at %v, before the window closes at %v", f.clock.Now(), deadline)
			}
			break
		}
		if dl.NextAttemptAt.After(deadline) {
			t.Fatalf("next attempt %v after the window %v", dl.NextAttemptAt, deadline)
		}
		f.clock.Advance(dl.NextAttemptAt.Sub(f.clock.Now()) + time.Millisecond)
	}
	dl := f.deliveries(t, f.acme)[0]
	if dl.Status != webhookdelivery.StatusDead {
		t.Fatalf("status = %s, want dead", dl.Status)
	}
	// Exponential: about 10 s doubling to 1 h over 24 h is some 30 attempts.
	if dl.Attempts < 15 || dl.Attempts > 60 || len(rcv.requests()) != dl.Attempts {
		t.Errorf("attempts = %d (receiver got %d), want 15-60 and equal", dl.Attempts, len(rcv.requests()))
	}
	dead, n, err := f.svc.FindDeliveries(f.acme, w.ID, DeliveryFilter{Status: "dead", Limit: 10})
	if err != nil || n != 1 || dead[0].ID != dl.ID {
		t.Errorf("FindDeliveries(dead) = %v, %d, %v; want the delivery", dead, n, err)
	}
	// Nothing happens to a dead delivery…
	f.clock.Advance(time.Hour)
	before := len(rcv.requests())
	if runOnce(t, d); len(rcv.requests()) != before {
		t.Error("a dead delivery was sent again")
	}
	// …until an admin retries it.
	ok.Store(true)
	if _, err := f.svc.RetryDelivery(f.acme, w.ID, dl.ID); err != nil {
		t.Fatal(err)
	}
	runOnce(t, d)
	if dl := f.deliveries(t, f.acme)[0]; dl.Status != webhookdelivery.StatusSucceeded {
		t.Errorf("after a manual retry: %s, want succeeded", dl.Status)
	}
}

func TestFanOutMatchesEventTypesAndTenant(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, nil)
	all, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL + "/all"})
	if err != nil {
		t.Fatal(err)
	}
	invites, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL + "/invites", EventTypes: []string{"invite.created"}})
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if _, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL + "/off", Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	otherHook, _, err := f.svc.CreateWebhook(f.other, CreateInput{URL: rcv.URL + "/other"})
	if err != nil {
		t.Fatal(err)
	}
	f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	f.emit(t, f.acme, "invite.created", map[string]any{})
	runOnce(t, f.dispatcher(DispatcherOptions{}))
	per := map[string]int{}
	for _, dl := range f.deliveries(t, tenants.SystemContext(context.Background(), "test")) {
		per[dl.WebhookID]++
	}
	if diff := cmp.Diff(map[string]int{all.ID: 2, invites.ID: 1}, per); diff != "" {
		t.Errorf("deliveries per webhook (-want +got):\n%s", diff)
	}
	if n, _ := f.db.WebhookDelivery.Query().Count(f.other); n != 0 {
		t.Errorf("tenant other got %d deliveries of acme's events (webhook %s)", n, otherHook.ID)
	}
	if n, _ := f.db.Event.Query().Where(event.StatusEQ(event.StatusPending)).Count(f.acme); n != 0 {
		t.Errorf("%d events still pending after the fan-out", n)
	}
}

func TestDisabledOrDeletedWebhookStopsDeliveries(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, func(int) int { return 500 })
	w, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	d := f.dispatcher(DispatcherOptions{})
	runOnce(t, d)
	off := false
	if _, err := f.svc.UpdateWebhook(f.acme, w.ID, UpdateInput{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	runOnce(t, d)
	dl := f.deliveries(t, f.acme)[0]
	if dl.Status != webhookdelivery.StatusDead || *dl.LastError != "the webhook is disabled" || len(rcv.requests()) != 1 {
		t.Errorf("after disabling: %s %q, %d requests; want dead, disabled, 1", dl.Status, *dl.LastError, len(rcv.requests()))
	}
	if err := f.svc.DeleteWebhook(f.acme, w.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(f.deliveries(t, f.acme)); n != 0 {
		t.Errorf("%d deliveries left after deleting the webhook", n)
	}
}

// TestNoLossAcrossRestart stops a dispatcher mid-way and starts a new one
// (a new service, as a restarted process has) on the same database: every
// event arrives.
func TestNoLossAcrossRestart(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, nil)
	rcv.delay = 20 * time.Millisecond
	if _, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	const n = 30
	ids := map[string]bool{}
	for i := 0; i < n; i++ {
		ids[f.emit(t, f.acme, "auth.password_reset", map[string]any{"i": i}).ID] = true
	}
	d1 := f.dispatcher(DispatcherOptions{Batch: 4})
	d1.Start(context.Background())
	waitFor(t, 20*time.Second, func() bool { return len(rcv.eventIDs()) >= 8 })
	d1.Close()
	stoppedAt := len(rcv.eventIDs())
	if stoppedAt >= n {
		t.Fatalf("the first dispatcher delivered all %d before it was stopped", n)
	}
	svc2, err := New(f.db.Client, testMaster, Options{Dialect: f.db.Dialect, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	d2 := svc2.NewDispatcher(DispatcherOptions{Interval: 10 * time.Millisecond})
	d2.Start(context.Background())
	t.Cleanup(d2.Close)
	waitFor(t, 30*time.Second, func() bool { return len(rcv.eventIDs()) >= n })
	got := rcv.eventIDs()
	for id := range ids {
		if got[id] == 0 {
			t.Errorf("event %s never arrived", id)
		}
	}
	t.Logf("stopped after %d events; %d requests for %d events", stoppedAt, len(rcv.requests()), n)
	// A graceful stop finishes its in-flight deliveries: nothing repeats.
	for id, c := range got {
		if c != 1 {
			t.Errorf("event %s arrived %d times, want once", id, c)
		}
	}
}

// TestCrashedClaimIsRetried: a node that claimed deliveries and died holds
// them only for the lease; then another node sends them.
func TestCrashedClaimIsRetried(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, nil)
	if _, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	crashed := f.dispatcher(DispatcherOptions{Lease: time.Minute})
	if _, err := crashed.fanOut(t.Context()); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	ds, err := crashed.claim(t.Context(), now, now.Add(time.Minute))
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim = %d, %v; want 1", len(ds), err)
	}
	// …and the node dies without sending.
	d := f.dispatcher(DispatcherOptions{})
	if runOnce(t, d); len(rcv.requests()) != 0 {
		t.Fatal("a leased delivery was sent by another dispatcher before the lease ran out")
	}
	f.clock.Advance(time.Minute + time.Second)
	runOnce(t, d)
	if len(rcv.requests()) != 1 || f.deliveries(t, f.acme)[0].Status != webhookdelivery.StatusSucceeded {
		t.Errorf("after the lease: %d requests, want 1 and succeeded", len(rcv.requests()))
	}
}

// TestTwoDispatchersDeliverOnce runs two dispatchers on one database (two
// connection pools on PostgreSQL, as two nodes have; one on SQLite, whose
// claims are single-process) and checks that each event arrives once.
func TestTwoDispatchersDeliverOnce(t *testing.T) {
	u := dbtest.URL(t)
	open := func() *database.DB {
		db, err := database.Open(u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	db1 := open()
	if err := db1.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	db2 := db1
	if db1.Dialect != "sqlite3" {
		db2 = open()
	}
	f := fixtureOn(t, db1)
	rcv := newReceiver(t, nil)
	rcv.delay = 5 * time.Millisecond
	if _, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: rcv.URL}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateWebhook(f.other, CreateInput{URL: rcv.URL + "/other"}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := 0; i < n; i++ {
		ctx := f.acme
		if i%2 == 1 {
			ctx = f.other
		}
		f.emit(t, ctx, "auth.password_reset", map[string]any{"i": i})
	}
	var ds []*Dispatcher
	sent := make([]*countingTransport, 2)
	for i, db := range []*database.DB{db1, db2} {
		svc, err := New(db.Client, testMaster, Options{Dialect: db.Dialect, AllowPrivateTargets: true})
		if err != nil {
			t.Fatal(err)
		}
		sent[i] = &countingTransport{next: newClient(true, 10*time.Second).Transport}
		d := svc.NewDispatcher(DispatcherOptions{Interval: 5 * time.Millisecond, Batch: 3, Client: &http.Client{Transport: sent[i]}})
		d.Start(context.Background())
		ds = append(ds, d)
	}
	waitFor(t, 30*time.Second, func() bool { return len(rcv.eventIDs()) >= n })
	time.Sleep(100 * time.Millisecond) // let a duplicate, if any, arrive
	for _, d := range ds {
		d.Close()
	}
	for id, c := range rcv.eventIDs() {
		if c != 1 {
			t.Errorf("event %s arrived %d times, want once", id, c)
		}
	}
	if got := len(rcv.requests()); got != n {
		t.Errorf("%d requests for %d events", got, n)
	}
	t.Logf("dispatcher 1 sent %d, dispatcher 2 sent %d", sent[0].n.Load(), sent[1].n.Load())
}

// countingTransport counts the requests a dispatcher sends.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.com/gatehouse", false, true},
		{"http://hooks.example.com:8080/x?y=1", false, true},
		{"ftp://hooks.example.com/", true, false},
		{"javascript:alert(1)", true, false},
		{"hooks.example.com/x", true, false},
		{"https://user:pw@hooks.example.com/", true, false},
		{"https:///nohost", true, false},
		{"", true, false},
		{"http://127.0.0.1:9000/", false, false},
		{"http://127.0.0.1:9000/", true, true},
		{"http://localhost/", false, false},
		{"http://api.localhost/", false, false},
		{"http://[::1]/", false, false},
		{"http://10.1.2.3/", false, false},
		{"http://192.168.0.10/", false, false},
		{"http://172.16.0.1/", false, false},
		{"http://169.254.169.254/latest/meta-data", false, false},
		{"http://100.64.0.1/", false, false},
		{"http://0.0.0.0/", false, false},
		{"http://[::ffff:127.0.0.1]/", false, false},
		{"http://93.184.215.14/", false, true},
	}
	for _, tt := range tests {
		_, err := checkURL(tt.url, tt.allowPrivate)
		if (err == nil) != tt.ok {
			t.Errorf("checkURL(%q, allowPrivate=%v) = %v, want ok=%v", tt.url, tt.allowPrivate, err, tt.ok)
		}
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			t.Errorf("checkURL(%q) code = %s, want invalid", tt.url, gatehouse.ErrorCode(err))
		}
	}
}

// TestDialerRefusesPrivateAddresses: a public name that resolves to a
// private address is refused when dialled (the receiver here is loopback).
func TestDialerRefusesPrivateAddresses(t *testing.T) {
	rcv := newReceiver(t, nil)
	_, err := newClient(false, time.Second).Post(rcv.URL, "application/json", strings.NewReader("{}"))
	if err == nil || transportError(err) != "refused: the URL resolves to a non-public address" {
		t.Errorf("POST to loopback with the guard = %v, want refused", err)
	}
	if len(rcv.requests()) != 0 {
		t.Error("the request reached the loopback receiver")
	}
	res, err := newClient(true, time.Second).Post(rcv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST with private targets allowed: %v", err)
	}
	_ = res.Body.Close()
}

func TestSecretSealedPerWebhook(t *testing.T) {
	f := newFixture(t)
	a, secret, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: "https://hooks.example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: "https://hooks.example.com/b"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.seal.open(a.TenantID, a.ID, a.Secret)
	if err != nil || string(got) != secret {
		t.Errorf("open = %q, %v; want the secret", got, err)
	}
	if _, err := f.svc.seal.open(b.TenantID, b.ID, a.Secret); err == nil {
		t.Error("a's sealed secret opened as b's")
	}
	other, _ := New(f.db.Client, []byte("another-master-key-0123456789abcdef012345"), Options{})
	if _, err := other.seal.open(a.TenantID, a.ID, a.Secret); err == nil {
		t.Error("the secret opened under another master key")
	}
}

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	w, _, err := f.svc.CreateWebhook(f.acme, CreateInput{URL: "https://hooks.example.com/a"})
	if err != nil {
		t.Fatal(err)
	}
	f.emit(t, f.acme, "auth.password_reset", map[string]any{})
	runOnce(t, f.dispatcher(DispatcherOptions{Client: &http.Client{Transport: failTransport{}}}))
	dl := f.deliveries(t, f.acme)[0]
	enabled := false
	checks := map[string]error{}
	_, checks["find"] = f.svc.FindWebhookByID(f.other, w.ID)
	_, checks["update"] = f.svc.UpdateWebhook(f.other, w.ID, UpdateInput{Enabled: &enabled})
	checks["delete"] = f.svc.DeleteWebhook(f.other, w.ID)
	_, _, checks["deliveries"] = f.svc.FindDeliveries(f.other, w.ID, DeliveryFilter{Limit: 10})
	_, checks["retry"] = f.svc.RetryDelivery(f.other, w.ID, dl.ID)
	for name, err := range checks {
		if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			t.Errorf("%s from another tenant = %v, want not_found", name, err)
		}
	}
	if ws, n, _ := f.svc.FindWebhooks(f.other, Filter{Limit: 10}); n != 0 || len(ws) != 0 {
		t.Errorf("other tenant lists %d webhooks", n)
	}
	if _, _, err := f.svc.FindWebhooks(context.Background(), Filter{Limit: 10}); err == nil {
		t.Error("FindWebhooks without a tenant = nil error")
	}
	if got, err := f.svc.FindWebhookByID(f.acme, w.ID); err != nil || !got.Enabled {
		t.Errorf("acme's webhook after the other tenant's attempts = %v, %v", got, err)
	}
}

type failTransport struct{}

func (failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	d := (&Service{}).NewDispatcher(DispatcherOptions{MinBackoff: 10 * time.Second, MaxBackoff: time.Hour, Client: http.DefaultClient})
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 5: 160 * time.Second, 12: time.Hour, 40: time.Hour} {
		for i := 0; i < 20; i++ {
			if got := d.backoff(n); got < want/2 || got > want {
				t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, got, want/2, want)
			}
		}
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
