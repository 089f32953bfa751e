package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

func TestPrunerKeepsEachTenantsRetention(t *testing.T) {
	db := dbtest.Open(t)
	log := audit.New(db.Client)
	sys := tenants.SystemContext(context.Background(), "test")
	mk := func(slug string, settings map[string]any) *ent.Tenant {
		t.Helper()
		tn, err := db.Tenant.Create().SetSlug(slug).SetName(slug).SetSettings(settings).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	def := mk("acme", map[string]any{})                                       // 365 days
	month := mk("month", map[string]any{"audit_retention_days": float64(30)}) // as decoded from JSON
	forever := mk("forever", map[string]any{"audit_retention_days": float64(0)})
	const perTenant = 3
	for _, tn := range []*ent.Tenant{def, month, forever} {
		for i := 0; i < perTenant; i++ {
			if err := log.Record(tenants.NewContext(context.Background(), tn), audit.Entry{Action: fmt.Sprintf("POST /admin/x/%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := log.Record(context.Background(), audit.Entry{Action: "POST /platform/tenants"}); err != nil {
		t.Fatal(err)
	}
	count := func(tenantID string) int {
		t.Helper()
		n, err := db.AuditEvent.Query().Count(tenants.WithTenant(context.Background(), tenantID))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := time.Now()
	steps := []struct {
		after time.Duration
		want  map[string]int
	}{
		{29 * 24 * time.Hour, map[string]int{def.ID: 3, month.ID: 3, forever.ID: 3, audit.PlatformTenant: 1}},
		{31 * 24 * time.Hour, map[string]int{def.ID: 3, month.ID: 0, forever.ID: 3, audit.PlatformTenant: 1}},
		{364 * 24 * time.Hour, map[string]int{def.ID: 3, month.ID: 0, forever.ID: 3, audit.PlatformTenant: 1}},
		{366 * 24 * time.Hour, map[string]int{def.ID: 0, month.ID: 0, forever.ID: 3, audit.PlatformTenant: 0}},
		{10 * 365 * 24 * time.Hour, map[string]int{def.ID: 0, month.ID: 0, forever.ID: 3, audit.PlatformTenant: 0}},
	}
	for _, s := range steps {
		now := start.Add(s.after)
		p := audit.NewPruner(db.Client, audit.PrunerOptions{PlatformRetentionDays: 365, Batch: 2, Now: func() time.Time { return now }})
		if _, err := p.PruneOnce(context.Background()); err != nil {
			t.Fatalf("PruneOnce at +%v: %v", s.after, err)
		}
		for id, want := range s.want {
			if got := count(id); got != want {
				t.Errorf("at +%v: %s has %d events, want %d", s.after, id, got, want)
			}
		}
	}
}

func TestPrunerStartAndClose(t *testing.T) {
	db := dbtest.Open(t)
	log := audit.New(db.Client)
	if err := log.Record(context.Background(), audit.Entry{Action: "POST /platform/tenants"}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().AddDate(2, 0, 0)
	p := audit.NewPruner(db.Client, audit.PrunerOptions{PlatformRetentionDays: 365, Interval: time.Hour, Now: func() time.Time { return later }})
	p.Start(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := db.AuditEvent.Query().Count(tenants.WithTenant(context.Background(), audit.PlatformTenant))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the started pruner did not prune on its first pass")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Close()
	p.Close() // idempotent
}
