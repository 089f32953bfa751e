package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent records who did what to which identity object, when and from
// where. Details never carry a secret. Platform operations are stored under
// the tenant id "platform".
type AuditEvent struct{ ent.Schema }

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}} }

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		idField("audit"),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.String("actor_type").Default(""),
		field.String("actor_id").Default(""),
		field.String("action").NotEmpty(),
		field.String("target_type").Default(""),
		field.String("target_id").Default(""),
		field.Enum("result").Values("success", "failure"),
		field.Int("status").Default(0),
		field.String("ip").Default(""),
		field.String("user_agent").Default(""),
		field.String("request_id").Default(""),
		field.String("trace_id").Default(""),
		field.JSON("details", map[string]any{}).Optional(),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "created_at"),
		index.Fields("tenant_id", "actor_id"),
		index.Fields("tenant_id", "target_id"),
	}
}
