package tenants

import (
	"encoding/json"
	"math"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
)

// Audit retention of a tenant's settings (audit_retention_days).
const (
	// DefaultAuditRetentionDays applies when a tenant does not set one.
	DefaultAuditRetentionDays = 365
	// MaxAuditRetentionDays bounds the setting (100 years).
	MaxAuditRetentionDays = 36500
)

// ValidateSettings checks the settings that have rules here; other keys are
// kept as they are. audit_retention_days must be a whole number of days
// from 0 (keep forever) to MaxAuditRetentionDays. Errors: invalid.
func ValidateSettings(s map[string]any) error {
	if v, ok := s["audit_retention_days"]; ok {
		if _, ok := wholeNumber(v); !ok {
			return gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: settings.audit_retention_days must be a whole number of days from 0 (keep forever) to %d", MaxAuditRetentionDays)
		}
	}
	return nil
}

// AuditRetentionDays returns how many days the tenant's audit events are
// kept; 0 keeps them forever.
func AuditRetentionDays(t *ent.Tenant) int {
	if t == nil || t.Settings == nil {
		return DefaultAuditRetentionDays
	}
	v, ok := t.Settings["audit_retention_days"]
	if !ok {
		return DefaultAuditRetentionDays
	}
	n, ok := wholeNumber(v)
	if !ok {
		return DefaultAuditRetentionDays
	}
	return n
}

// wholeNumber reads a JSON number (float64 once decoded) that is a whole
// number in [0, MaxAuditRetentionDays].
func wholeNumber(v any) (int, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f != math.Trunc(f) || f < 0 || f > MaxAuditRetentionDays {
		return 0, false
	}
	return int(f), true
}
