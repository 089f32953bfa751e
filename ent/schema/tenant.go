package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Tenant is one merchant. It is not tenant-scoped itself: platform operations
// reach it through tenants.SystemContext or by id.
type Tenant struct{ ent.Schema }

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		idField("ten"),
		field.String("slug").Unique().NotEmpty().MaxLen(63),
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("status").Values("active", "suspended").Default("active"),
		field.JSON("settings", map[string]any{}).Default(map[string]any{}),
	}
}

// Edges of the Tenant.
func (Tenant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("domains", Domain.Type),
	}
}

// Domain is a verified host name that resolves to its tenant. Hosts are
// unique across all tenants.
type Domain struct{ ent.Schema }

// Mixin of the Domain.
func (Domain) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Domain.
func (Domain) Fields() []ent.Field {
	return []ent.Field{
		idField("dom"),
		field.String("host").Unique().NotEmpty().MaxLen(253),
		field.String("tenant_id").Immutable().NotEmpty(),
	}
}

// Edges of the Domain.
func (Domain) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("tenant", Tenant.Type).Ref("domains").Field("tenant_id").Unique().Required().Immutable(),
	}
}
