package tenants

import (
	"context"
	"errors"

	"github.com/gatehousehq/gatehouse/ent"
)

// ErrNoTenant is returned by every tenant-scoped query made without a tenant
// in its context (and without an explicit SystemContext).
var ErrNoTenant = errors.New("tenants: no tenant in context")

type ctxKey int

const (
	tenantKey ctxKey = iota
	systemKey
)

// WithTenant returns ctx scoped to the tenant with the given id. Every Ent
// query made with it is filtered to that tenant, and every create is stamped.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey, tenantID)
}

// IDFromContext returns the tenant id ctx is scoped to.
func IDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(tenantKey).(string)
	return id, ok && id != ""
}

// SystemContext marks ctx as platform-scoped: tenant-owned queries made with it
// are not filtered. It is the only bypass of tenant scoping; reason says why
// and is kept for audit and greppability.
func SystemContext(ctx context.Context, reason string) context.Context {
	if reason == "" {
		panic("tenants.SystemContext: a reason is required")
	}
	return context.WithValue(ctx, systemKey, reason)
}

// SystemReason reports whether ctx is platform-scoped, and why.
func SystemReason(ctx context.Context) (string, bool) {
	r, ok := ctx.Value(systemKey).(string)
	return r, ok
}

type valueKey struct{}

// NewContext returns ctx scoped to t (as WithTenant) and carrying t itself, so
// handlers can read its settings without another lookup.
func NewContext(ctx context.Context, t *ent.Tenant) context.Context {
	return context.WithValue(WithTenant(ctx, t.ID), valueKey{}, t)
}

// FromContext returns the tenant stored by NewContext.
func FromContext(ctx context.Context) (*ent.Tenant, bool) {
	t, ok := ctx.Value(valueKey{}).(*ent.Tenant)
	return t, ok
}
