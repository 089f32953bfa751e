package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Webhook is a tenant's endpoint for outbox events (wh_…). The signing secret
// is stored AES-256-GCM encrypted under a key derived from the master key and
// shown once, at creation.
type Webhook struct{ ent.Schema }

// Mixin of the Webhook.
func (Webhook) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the Webhook.
func (Webhook) Fields() []ent.Field {
	return []ent.Field{
		idField("wh"),
		field.String("url").NotEmpty(),
		field.String("description").Default(""),
		field.Bytes("secret").Sensitive(),
		// event_types lists the event names delivered; ["*"] means all.
		field.JSON("event_types", []string{}),
		field.Bool("enabled").Default(true),
	}
}

// WebhookDelivery is one event to one webhook (whdel_…): at-least-once, with
// exponential back-off for 24 h and then the dead state.
type WebhookDelivery struct{ ent.Schema }

// Mixin of the WebhookDelivery.
func (WebhookDelivery) Mixin() []ent.Mixin { return []ent.Mixin{TenantMixin{}, TimeMixin{}} }

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		idField("whdel"),
		field.String("webhook_id").NotEmpty(),
		field.String("event_id").NotEmpty(),
		field.String("event_name").NotEmpty(),
		field.Enum("status").Values("pending", "succeeded", "dead").Default("pending"),
		field.Int("attempts").Default(0),
		// next_attempt_at is when the delivery is next due; a dispatcher that
		// claims it pushes it forward by its lease, so a crashed node's claim
		// falls due again.
		field.Time("next_attempt_at").Default(time.Now),
		// expires_at is when retrying stops and the delivery is dead: 24 h after
		// the event, or after a manual retry; nil counts from the event.
		field.Time("expires_at").Optional().Nillable(),
		field.Time("last_attempt_at").Optional().Nillable(),
		field.Int("last_status_code").Optional().Nillable(),
		field.String("last_error").Optional().Nillable(),
		field.Time("delivered_at").Optional().Nillable(),
	}
}

// Indexes of the WebhookDelivery.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("webhook_id", "event_id").Unique(),
		index.Fields("status", "next_attempt_at"),
		index.Fields("tenant_id", "webhook_id"),
	}
}
