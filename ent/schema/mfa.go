package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// MFAFactor is Medusa's auth MFA factor (authmfa_…): a TOTP seed of an auth
// identity. The seed is stored AES-256-GCM encrypted under a key derived from
// the master key; last_used_step is the last accepted TOTP time step, so a
// code is accepted once.
type MFAFactor struct{ ent.Schema }

// Mixin of the MFAFactor.
func (MFAFactor) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the MFAFactor.
func (MFAFactor) Fields() []ent.Field {
	return []ent.Field{
		idField("authmfa"),
		field.String("auth_identity_id").NotEmpty(),
		field.String("provider").Default("totp"),
		field.Enum("status").Values("pending", "enabled", "disabled").Default("pending"),
		field.String("label").Optional().Nillable(),
		field.JSON("metadata", map[string]any{}).Optional(),
		field.String("secret").Sensitive(),
		field.Int64("last_used_step").Default(0),
	}
}

// Indexes of the MFAFactor.
func (MFAFactor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "auth_identity_id")}
}

// RecoveryCode is one single-use MFA recovery code of an auth identity; only
// its SHA-256 is stored (the codes carry 128 random bits).
type RecoveryCode struct{ ent.Schema }

// Mixin of the RecoveryCode.
func (RecoveryCode) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the RecoveryCode.
func (RecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		idField("authrc"),
		field.String("auth_identity_id").NotEmpty(),
		field.String("code_hash").NotEmpty().Sensitive(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the RecoveryCode.
func (RecoveryCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "auth_identity_id")}
}

// MFAChallenge is a pending MFA login challenge (authmfachal_…), valid for
// 300 s and max_attempts failed verifications. Attempts and completion are
// updated with conditional UPDATEs, so concurrent guesses cannot exceed the
// limit and a challenge completes once.
type MFAChallenge struct{ ent.Schema }

// Mixin of the MFAChallenge.
func (MFAChallenge) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the MFAChallenge.
func (MFAChallenge) Fields() []ent.Field {
	return []ent.Field{
		idField("authmfachal"),
		field.String("auth_identity_id").NotEmpty(),
		field.String("auth_provider"),
		field.String("actor_type"),
		field.JSON("methods", []string{}),
		field.Time("expires_at"),
		field.Int("attempts").Default(0),
		field.Int("max_attempts").Default(5),
		field.Time("completed_at").Optional().Nillable(),
		field.String("session_id").Optional(),
		field.Int64("auth_time").Default(0),
	}
}

// Indexes of the MFAChallenge.
func (MFAChallenge) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "auth_identity_id")}
}
