package tenants_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

func TestAuditRetentionSetting(t *testing.T) {
	tests := []struct {
		value any
		ok    bool
		days  int
	}{
		{float64(30), true, 30},
		{float64(0), true, 0},
		{30, true, 30},
		{json.Number("90"), true, 90},
		{float64(tenants.MaxAuditRetentionDays), true, tenants.MaxAuditRetentionDays},
		{float64(-1), false, 365},
		{1.5, false, 365},
		{"30", false, 365},
		{nil, false, 365},
		{true, false, 365},
		{float64(tenants.MaxAuditRetentionDays + 1), false, 365},
	}
	for _, tt := range tests {
		s := map[string]any{"audit_retention_days": tt.value}
		err := tenants.ValidateSettings(s)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateSettings(%#v) = %v, want ok=%v", tt.value, err, tt.ok)
		}
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EINVALID {
			t.Errorf("ValidateSettings(%#v) code = %s, want invalid", tt.value, gatehouse.ErrorCode(err))
		}
		if got := tenants.AuditRetentionDays(&ent.Tenant{Settings: s}); got != tt.days {
			t.Errorf("AuditRetentionDays(%#v) = %d, want %d", tt.value, got, tt.days)
		}
	}
	if got := tenants.AuditRetentionDays(&ent.Tenant{}); got != tenants.DefaultAuditRetentionDays {
		t.Errorf("AuditRetentionDays(no settings) = %d, want %d", got, tenants.DefaultAuditRetentionDays)
	}
	if err := tenants.ValidateSettings(map[string]any{"anything_else": "kept"}); err != nil {
		t.Errorf("ValidateSettings(unknown key) = %v, want nil", err)
	}
}

func TestRegistryValidatesSettings(t *testing.T) {
	reg := tenants.NewRegistry(dbtest.Open(t).Client, tenants.Options{BaseDomain: "localhost"})
	ctx := context.Background()
	if _, err := reg.Create(ctx, tenants.CreateInput{Slug: "bad", Name: "Bad", Settings: map[string]any{"audit_retention_days": -5.0}}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("Create with audit_retention_days -5 = %v, want invalid", err)
	}
	tn, err := reg.Create(ctx, tenants.CreateInput{Slug: "acme", Name: "Acme", Settings: map[string]any{"audit_retention_days": 90.0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tenants.AuditRetentionDays(tn); got != 90 {
		t.Errorf("AuditRetentionDays = %d, want 90", got)
	}
	if _, err := reg.Update(ctx, tn.ID, tenants.UpdateInput{Settings: map[string]any{"audit_retention_days": "forever"}}); gatehouse.ErrorCode(err) != gatehouse.EINVALID {
		t.Errorf("Update with audit_retention_days \"forever\" = %v, want invalid", err)
	}
	tn, err = reg.Update(ctx, tn.ID, tenants.UpdateInput{Settings: map[string]any{"audit_retention_days": 0.0}})
	if err != nil || tenants.AuditRetentionDays(tn) != 0 {
		t.Errorf("Update to 0 = %v, %v; want kept forever", tn, err)
	}
}
