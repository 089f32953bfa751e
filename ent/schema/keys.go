package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SigningKey is one of a tenant's JWT signing keys. The private key is
// encrypted at rest under GATEHOUSE_MASTER_KEY.
type SigningKey struct{ ent.Schema }

// Mixin of the SigningKey.
func (SigningKey) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the SigningKey.
func (SigningKey) Fields() []ent.Field {
	return []ent.Field{
		idField("key"),
		field.String("algorithm").NotEmpty(),
		field.Bytes("private_key").Sensitive(),
		field.Bytes("public_key"),
		field.Enum("status").Values("active", "next", "retired").Default("active"),
		// verify_until is when a retired key stops verifying: the expiry of the
		// longest-lived token it may have signed.
		field.Time("verify_until").Optional().Nillable(),
	}
}

// PasswordResetToken records a reset token by the hash of its jti, so each
// token is single-use and a newer one replaces the older.
type PasswordResetToken struct{ ent.Schema }

// Mixin of the PasswordResetToken.
func (PasswordResetToken) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the PasswordResetToken.
func (PasswordResetToken) Fields() []ent.Field {
	return []ent.Field{
		idField("authprt"),
		field.String("token_hash").Unique().Sensitive(),
		field.String("entity_id").NotEmpty(),
		field.String("provider").NotEmpty(),
		field.String("actor_type").NotEmpty(),
		field.Time("expires_at"),
	}
}

// Indexes of the PasswordResetToken.
func (PasswordResetToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "provider", "entity_id")}
}

// Event is a row of the outbox: something that happened and must reach the
// tenant (reset tokens, invites). Later delivered by webhook.
type Event struct{ ent.Schema }

// Mixin of the Event.
func (Event) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		idField("evt"),
		field.String("name").NotEmpty(),
		field.JSON("data", map[string]any{}).Sensitive(),
		field.Enum("status").Values("pending", "delivered", "dead").Default("pending"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at").Default(time.Now),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "next_attempt_at")}
}

// APIKey is a secret (sk_) or publishable (pk_) key. Secret keys are stored
// only as an HMAC digest; publishable keys are public and kept in clear.
type APIKey struct{ ent.Schema }

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		idField("apk"),
		field.String("title").NotEmpty(),
		field.Enum("type").Values("secret", "publishable"),
		// token is the publishable key in clear; "" for secret keys.
		field.String("token").Default(""),
		// digest is HMAC-SHA256(pepper, raw token), globally unique: the
		// lookup key for both types.
		field.String("digest").Unique().Sensitive(),
		field.String("redacted"),
		field.String("created_by").Default(""),
		field.String("revoked_by").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("deleted_at").Optional().Nillable(),
		// rate_limit is the key's own limit in requests per minute (nil: none).
		field.Int("rate_limit").Optional().Nillable(),
	}
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("sales_channels", SalesChannel.Type),
	}
}
