package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuthIdentity is Medusa's auth_identity: one per email+provider, linked to its
// actors through app_metadata.{user_id|customer_id}.
type AuthIdentity struct{ ent.Schema }

// Mixin of the AuthIdentity.
func (AuthIdentity) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the AuthIdentity.
func (AuthIdentity) Fields() []ent.Field {
	return []ent.Field{
		idField("authid"),
		field.JSON("app_metadata", map[string]any{}).Default(map[string]any{}),
	}
}

// Edges of the AuthIdentity.
func (AuthIdentity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("provider_identities", ProviderIdentity.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// ProviderIdentity is one credential of an AuthIdentity. For emailpass,
// entity_id is the email in lower case and provider_metadata holds the
// password hash.
type ProviderIdentity struct{ ent.Schema }

// Mixin of the ProviderIdentity.
func (ProviderIdentity) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the ProviderIdentity.
func (ProviderIdentity) Fields() []ent.Field {
	return []ent.Field{
		idField("provid"),
		field.String("entity_id").NotEmpty(),
		field.String("provider").NotEmpty(),
		field.String("auth_identity_id").NotEmpty(),
		field.JSON("user_metadata", map[string]any{}).Optional(),
		field.JSON("provider_metadata", map[string]any{}).Optional().Sensitive(),
	}
}

// Edges of the ProviderIdentity.
func (ProviderIdentity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("auth_identity", AuthIdentity.Type).Ref("provider_identities").
			Field("auth_identity_id").Unique().Required(),
	}
}

// Indexes of the ProviderIdentity.
func (ProviderIdentity) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "provider", "entity_id").Unique()}
}

// User is an admin user of a tenant.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		idField("user"),
		field.String("email").NotEmpty(),
		field.String("first_name").Optional().Nillable(),
		field.String("last_name").Optional().Nillable(),
		field.String("avatar_url").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "email").Unique()}
}

// Customer is a store customer of a tenant. Guests (has_account false) and one
// registered customer may share an email.
type Customer struct{ ent.Schema }

// Mixin of the Customer.
func (Customer) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the Customer.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		idField("cus"),
		field.String("email").NotEmpty(),
		field.String("company_name").Optional().Nillable(),
		field.String("first_name").Optional().Nillable(),
		field.String("last_name").Optional().Nillable(),
		field.String("phone").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
		field.Bool("has_account").Default(false),
	}
}

// Indexes of the Customer.
func (Customer) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "email"),
		index.Fields("tenant_id", "email").Unique().
			StorageKey("customer_tenant_email_account").
			Annotations(entsql.IndexWhere("has_account")),
	}
}

// Edges of the Customer.
func (Customer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("addresses", CustomerAddress.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// CustomerAddress is one of a store customer's addresses (Medusa's
// customer_address). At most one of a customer's addresses is the default
// shipping one, and one the default billing one.
type CustomerAddress struct{ ent.Schema }

// Mixin of the CustomerAddress.
func (CustomerAddress) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the CustomerAddress.
func (CustomerAddress) Fields() []ent.Field {
	text := func(name string) ent.Field { return field.String(name).Optional().Nillable() }
	return []ent.Field{
		idField("cuaddr"),
		field.String("customer_id"),
		text("address_name"), text("company"), text("first_name"), text("last_name"),
		text("address_1"), text("address_2"), text("city"), text("province"),
		text("postal_code"), text("country_code"), text("phone"),
		field.JSON("metadata", map[string]any{}).Optional(),
		field.Bool("is_default_shipping").Default(false),
		field.Bool("is_default_billing").Default(false),
	}
}

// Edges of the CustomerAddress.
func (CustomerAddress) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("customer", Customer.Type).Ref("addresses").Field("customer_id").Unique().Required(),
	}
}

// Indexes of the CustomerAddress.
func (CustomerAddress) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "customer_id")}
}

// Invite invites an email to become an admin user. Only a hash of its token is
// stored: the token is shown to the caller of create and resend alone.
type Invite struct{ ent.Schema }

// Mixin of the Invite.
func (Invite) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the Invite.
func (Invite) Fields() []ent.Field {
	return []ent.Field{
		idField("invite"),
		field.String("email").NotEmpty(),
		field.Bool("accepted").Default(false),
		field.String("token_hash").Sensitive(),
		field.Time("expires_at"),
		field.JSON("roles", []string{}).Optional(),
		field.JSON("metadata", map[string]any{}).Optional(),
	}
}

// Indexes of the Invite.
func (Invite) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "email").Unique()}
}
