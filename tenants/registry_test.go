package tenants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestTenantCacheExpires: a node that never hears of a change (no bus, as
// when a message is lost) stops serving a suspended tenant within CacheTTL.
func TestTenantCacheExpires(t *testing.T) {
	db := dbtest.Open(t)
	a := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "localhost"})
	b := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "localhost", CacheTTL: 200 * time.Millisecond})
	ctx := context.Background()
	tn, err := a.Create(ctx, tenants.CreateInput{Slug: "ttl", Name: "TTL"})
	if err != nil {
		t.Fatal(err)
	}
	req := tenants.Request{HeaderID: "ttl"}
	if _, err := b.Resolve(ctx, req); err != nil {
		t.Fatalf("Resolve on node b = %v", err)
	}
	if _, err := a.SetStatus(ctx, tn.ID, tenant.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resolve(ctx, req); !errors.Is(err, tenants.ErrSuspended) {
		t.Errorf("Resolve on the node that suspended = %v, want %v", err, tenants.ErrSuspended)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := b.Resolve(ctx, req)
		if errors.Is(err, tenants.ErrSuspended) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node b still resolves the suspended tenant after 2 s (CacheTTL 200 ms): %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResolveOrder pins the resolution order: domain, {slug}.base, path
// prefix, header; and rejects unknown or malformed names with Unknown tenant.
func TestResolveOrder(t *testing.T) {
	db := dbtest.Open(t)
	r := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "gh.test"})
	ctx := context.Background()
	acme, err := r.Create(ctx, tenants.CreateInput{Slug: "acme", Name: "Acme", Domains: []string{"Shop.Acme.Test"}})
	if err != nil {
		t.Fatal(err)
	}
	beta, err := r.Create(ctx, tenants.CreateInput{Slug: "beta", Name: "Beta"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  tenants.Request
		want string
	}{
		{"domain wins over header", tenants.Request{Host: "shop.acme.test:443", HeaderID: "beta"}, acme.ID},
		{"slug subdomain", tenants.Request{Host: "beta.gh.test"}, beta.ID},
		{"path prefix over header", tenants.Request{Host: "127.0.0.1:9000", PathSlug: "acme", HeaderID: "beta"}, acme.ID},
		{"header slug", tenants.Request{Host: "localhost", HeaderID: "beta"}, beta.ID},
		{"header id", tenants.Request{HeaderID: acme.ID}, acme.ID},
		{"unknown", tenants.Request{HeaderID: "nope"}, ""},
		{"bad characters", tenants.Request{HeaderID: "a/../b"}, ""},
		{"bad path slug", tenants.Request{PathSlug: "Ac me"}, ""},
		{"nothing", tenants.Request{Host: "localhost"}, ""},
	}
	for _, tt := range tests {
		got, err := r.Resolve(ctx, tt.req)
		if tt.want == "" {
			if !errors.Is(err, tenants.ErrNotFound) {
				t.Errorf("%s: Resolve(%+v) = %v, %v; want ErrNotFound", tt.name, tt.req, got, err)
			}
			continue
		}
		if err != nil || got.ID != tt.want {
			t.Errorf("%s: Resolve(%+v) = %v, %v; want %s", tt.name, tt.req, got, err, tt.want)
		}
	}
}
