// Package schema defines Gatehouse's persisted entities. Every tenant-owned
// entity embeds TenantMixin; it may import tenants (for the context key) and
// nothing else of ours.
package schema

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
	"github.com/oklog/ulid/v2"

	"github.com/gatehousehq/gatehouse/ent/intercept"
	"github.com/gatehousehq/gatehouse/tenants"
)

// NewID returns prefix + "_" + a ULID, Medusa's id format (user_01H…).
func NewID(prefix string) string {
	return prefix + "_" + ulid.MustNew(ulid.Timestamp(time.Now()), rand.Reader).String()
}

func idField(prefix string) ent.Field {
	return field.String("id").
		DefaultFunc(func() string { return NewID(prefix) }).
		Immutable().
		NotEmpty()
}

// TimeMixin adds created_at and updated_at.
type TimeMixin struct{ mixin.Schema }

// Fields of the TimeMixin.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}

// TenantMixin scopes an entity to a tenant: a tenant_id column with an index,
// an interceptor that adds tenant_id = ? to every query and traversal, and a
// hook that stamps tenant_id on create and scopes update and delete. Without a
// tenant in the context (and without tenants.SystemContext) both fail closed
// with tenants.ErrNoTenant.
type TenantMixin struct{ mixin.Schema }

// Fields of the TenantMixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("tenant_id").Immutable().NotEmpty(),
	}
}

// Indexes of the TenantMixin.
func (TenantMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id")}
}

// wherer is implemented by every generated mutation.
type wherer interface {
	WhereP(...func(*sql.Selector))
}

// Interceptors of the TenantMixin.
func (TenantMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
			if _, ok := tenants.SystemReason(ctx); ok {
				return nil
			}
			id, ok := tenants.IDFromContext(ctx)
			if !ok {
				return tenants.ErrNoTenant
			}
			q.WhereP(sql.FieldEQ("tenant_id", id))
			return nil
		}),
	}
}

// Hooks of the TenantMixin.
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				_, system := tenants.SystemReason(ctx)
				id, ok := tenants.IDFromContext(ctx)
				if !ok && !system {
					return nil, tenants.ErrNoTenant
				}
				if m.Op().Is(ent.OpCreate) {
					if v, set := m.Field("tenant_id"); set {
						if ok && v != id {
							return nil, fmt.Errorf("tenant mixin: create for tenant %v in context of %s", v, id)
						}
						return next.Mutate(ctx, m)
					}
					if !ok {
						return nil, tenants.ErrNoTenant
					}
					if err := m.SetField("tenant_id", id); err != nil {
						return nil, err
					}
					return next.Mutate(ctx, m)
				}
				if ok {
					w, can := m.(wherer)
					if !can {
						return nil, fmt.Errorf("tenant mixin: mutation %T cannot be scoped", m)
					}
					w.WhereP(sql.FieldEQ("tenant_id", id))
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}
