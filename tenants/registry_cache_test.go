package tenants_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/tenants"
)

// fakeBus is an in-process FreshBus whose freshness a test sets.
type fakeBus struct {
	fresh atomic.Bool
	mu    sync.Mutex
	subs  map[string][]func(string)
}

func (f *fakeBus) Fresh() bool { return f.fresh.Load() }

func (f *fakeBus) Publish(_ context.Context, channel, msg string) error {
	f.mu.Lock()
	subs := append([]func(string){}, f.subs[channel]...)
	f.mu.Unlock()
	for _, fn := range subs {
		fn(msg)
	}
	return nil
}

func (f *fakeBus) Subscribe(_ context.Context, channel string, fn func(string)) (func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[string][]func(string){}
	}
	f.subs[channel] = append(f.subs[channel], fn)
	return func() {}, nil
}

// TestRegistryStaleBusReadsThrough: while the bus is not fresh (a change
// message may be lost), a suspension made behind the registry's back is
// seen at once; when it is fresh, the cache answers and a message drops it.
func TestRegistryStaleBusReadsThrough(t *testing.T) {
	db := dbtest.Open(t)
	bus := &fakeBus{}
	bus.fresh.Store(true)
	r := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "localhost", Bus: bus})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	tn, err := r.Create(ctx, tenants.CreateInput{Slug: "stale", Name: "Stale"})
	if err != nil {
		t.Fatal(err)
	}
	req := tenants.Request{HeaderID: "stale"}
	if _, err := r.Resolve(ctx, req); err != nil {
		t.Fatalf("Resolve = %v", err)
	}
	// Suspend without telling the registry (another node whose message
	// was lost).
	sys := tenants.SystemContext(ctx, "test")
	if err := db.Client.Tenant.UpdateOneID(tn.ID).SetStatus(tenant.StatusSuspended).Exec(sys); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, req); err != nil {
		t.Fatalf("Resolve with a fresh bus = %v, want the cached (active) tenant", err)
	}
	bus.fresh.Store(false)
	if _, err := r.Resolve(ctx, req); !errors.Is(err, tenants.ErrSuspended) {
		t.Errorf("Resolve with a stale bus = %v, want %v", err, tenants.ErrSuspended)
	}
	// Resumed, again behind its back; with the bus fresh again a change
	// message is what drops the (suspended) entry: nothing was cached
	// while stale, so the active cached entry answers until the message.
	if err := db.Client.Tenant.UpdateOneID(tn.ID).SetStatus(tenant.StatusActive).Exec(sys); err != nil {
		t.Fatal(err)
	}
	bus.fresh.Store(true)
	if err := db.Client.Tenant.UpdateOneID(tn.ID).SetStatus(tenant.StatusSuspended).Exec(sys); err != nil {
		t.Fatal(err)
	}
	if err := bus.Publish(ctx, tenants.ChangesChannel, tn.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(ctx, req); !errors.Is(err, tenants.ErrSuspended) {
		t.Errorf("Resolve after the change message = %v, want %v", err, tenants.ErrSuspended)
	}
}
