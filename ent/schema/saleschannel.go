package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// SalesChannel is a storefront or channel of a tenant (Medusa's sc_).
type SalesChannel struct{ ent.Schema }

// Mixin of the SalesChannel.
func (SalesChannel) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the SalesChannel.
func (SalesChannel) Fields() []ent.Field {
	return []ent.Field{
		idField("sc"),
		field.String("name").NotEmpty(),
		field.String("description").Optional().Nillable(),
		field.Bool("is_disabled").Default(false),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Edges of the SalesChannel.
func (SalesChannel) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("api_keys", APIKey.Type).Ref("sales_channels"),
	}
}
