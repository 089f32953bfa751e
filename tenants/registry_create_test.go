package tenants_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestCreateKeepsCachedTenants: a creation makes every node forget that the
// new slug and domains were unknown, but leaves the tenants they cached
// alone (a creation used to empty every node's whole cache).
func TestCreateKeepsCachedTenants(t *testing.T) {
	db := dbtest.Open(t)
	bus := &fakeBus{}
	bus.fresh.Store(true)
	ctx := context.Background()
	var nodes [2]*tenants.Registry
	for i := range nodes {
		nodes[i] = tenants.NewRegistry(db.Client, tenants.Options{Bus: bus})
		if err := nodes[i].Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nodes[i].Close)
	}
	a, err := nodes[0].Create(ctx, tenants.CreateInput{Slug: "a", Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if _, err := n.FindBySlugOrID(ctx, "a"); err != nil {
			t.Fatalf("node %d: FindBySlugOrID(a) = %v", i, err)
		}
		if _, err := n.FindBySlugOrID(ctx, "b"); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("node %d: FindBySlugOrID(b) = %v, want not found", i, err)
		}
		if _, err := n.Resolve(ctx, tenants.Request{Host: "b.shop.test"}); !errors.Is(err, tenants.ErrNotFound) {
			t.Fatalf("node %d: Resolve(b.shop.test) = %v, want not found", i, err)
		}
	}
	// Renamed behind the registries' backs: the cached name shows whether
	// the creation below dropped the entry.
	sys := tenants.SystemContext(ctx, "test")
	if err := db.Client.Tenant.UpdateOneID(a.ID).SetName("A renamed").Exec(sys); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[0].Create(ctx, tenants.CreateInput{Slug: "b", Name: "B", Domains: []string{"b.shop.test"}}); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		if b, err := n.FindBySlugOrID(ctx, "b"); err != nil || b.Slug != "b" {
			t.Errorf("node %d: FindBySlugOrID(b) after its creation = %v, %v; want b", i, b, err)
		}
		if b, err := n.Resolve(ctx, tenants.Request{Host: "b.shop.test"}); err != nil || b.Slug != "b" {
			t.Errorf("node %d: Resolve(b.shop.test) after the creation = %v, %v; want b", i, b, err)
		}
		if got, err := n.FindBySlugOrID(ctx, "a"); err != nil || got.Name != "A" {
			t.Errorf("node %d: FindBySlugOrID(a) = %v, %v; want the cached tenant named A", i, got, err)
		}
	}
}
