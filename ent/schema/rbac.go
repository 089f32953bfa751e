package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RBACRole is a tenant's RBAC role (Medusa's rbac_role). Its primary key is a
// surrogate, because clients address roles by role_id and Medusa fixes some of
// them (role_super_admin) in every tenant: role_id is unique per tenant, not
// globally. Parents are evaluated (Medusa only stores them): a role holds its
// parent's policies too.
type RBACRole struct{ ent.Schema }

// Mixin of the RBACRole.
func (RBACRole) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RBACRole.
func (RBACRole) Fields() []ent.Field {
	return []ent.Field{
		idField("rbrole"),
		field.String("role_id").Immutable().NotEmpty(),
		field.String("name").NotEmpty(),
		field.String("description").Optional().Nillable(),
		field.String("parent_id").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Indexes of the RBACRole.
func (RBACRole) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "role_id").Unique(),
		index.Fields("tenant_id", "name").Unique(),
	}
}

// RBACPolicy is a permission (Medusa's rbac_policy): key "resource:operation",
// where either part may be "*". policy_id is unique per tenant, like role_id.
type RBACPolicy struct{ ent.Schema }

// Mixin of the RBACPolicy.
func (RBACPolicy) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RBACPolicy.
func (RBACPolicy) Fields() []ent.Field {
	return []ent.Field{
		idField("rbpol"),
		field.String("policy_id").Immutable().NotEmpty(),
		field.String("key").NotEmpty(),
		field.String("resource").NotEmpty(),
		field.String("operation").NotEmpty(),
		field.String("name").Optional().Nillable(),
		field.String("description").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Indexes of the RBACPolicy.
func (RBACPolicy) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "policy_id").Unique(),
		index.Fields("tenant_id", "key").Unique(),
	}
}

// RBACRolePolicy grants a policy to a role (Medusa's rbac_role_policy, rlpl_).
// role_id and policy_id are the API-visible ids.
type RBACRolePolicy struct{ ent.Schema }

// Mixin of the RBACRolePolicy.
func (RBACRolePolicy) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RBACRolePolicy.
func (RBACRolePolicy) Fields() []ent.Field {
	return []ent.Field{
		idField("rlpl"),
		field.String("role_id").NotEmpty(),
		field.String("policy_id").NotEmpty(),
	}
}

// Indexes of the RBACRolePolicy.
func (RBACRolePolicy) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "role_id", "policy_id").Unique()}
}

// RBACAssignment gives a role to a subject: an admin user ("user") or a
// secret API key ("apikey"). The Casbin subject is "{subject_type}:{subject_id}".
type RBACAssignment struct{ ent.Schema }

// Mixin of the RBACAssignment.
func (RBACAssignment) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RBACAssignment.
func (RBACAssignment) Fields() []ent.Field {
	return []ent.Field{
		idField("rlas"),
		field.Enum("subject_type").Values("user", "apikey"),
		field.String("subject_id").NotEmpty(),
		field.String("role_id").NotEmpty(),
	}
}

// Indexes of the RBACAssignment.
func (RBACAssignment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "subject_type", "subject_id", "role_id").Unique(),
		index.Fields("tenant_id", "role_id"),
	}
}
