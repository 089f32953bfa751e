package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuthVerification is Medusa's auth_verification (authver_…): proof that an
// auth identity controls an entity (an email address, usually). Only the
// SHA-256 of the code is stored; the code alone identifies the row, so the
// hash is unique.
type AuthVerification struct{ ent.Schema }

// Mixin of the AuthVerification.
func (AuthVerification) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the AuthVerification.
func (AuthVerification) Fields() []ent.Field {
	return []ent.Field{
		idField("authver"),
		field.String("auth_identity_id").NotEmpty(),
		field.String("entity_id").NotEmpty(),
		field.String("entity_type").NotEmpty(),
		field.String("code_provider").Default("token"),
		field.String("code_hash").Optional().Nillable().Sensitive(),
		field.Time("requested_at").Default(time.Now),
		field.Time("verified_at").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Indexes of the AuthVerification.
func (AuthVerification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "auth_identity_id", "entity_id", "entity_type").Unique(),
		index.Fields("code_hash").Unique(),
	}
}

// RouteRule maps one route of a tenant's upstream (method + path pattern) to
// the resource:operation that /decisions asks Casbin about. Rules override
// the built-in Medusa route table; path patterns use ':' segments and a
// trailing '*'.
type RouteRule struct{ ent.Schema }

// Mixin of the RouteRule.
func (RouteRule) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RouteRule.
func (RouteRule) Fields() []ent.Field {
	return []ent.Field{
		idField("rroute"),
		field.String("method").NotEmpty(),
		field.String("path").NotEmpty(),
		field.String("resource").NotEmpty(),
		field.String("operation").NotEmpty(),
		// public rules need no credential at all (e.g. a health route).
		field.Bool("public").Default(false),
	}
}

// Indexes of the RouteRule.
func (RouteRule) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "method", "path").Unique()}
}
