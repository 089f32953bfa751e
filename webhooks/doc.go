// Package webhooks delivers the events outbox to tenants' HTTPS endpoints:
// the Webhook registrations (Service: create, list, update, delete, delivery
// history, manual retry) and the Dispatcher, which fans each pending Event out
// into one WebhookDelivery per matching webhook and sends due deliveries,
// signed, with exponential back-off for 24 hours and then the dead state.
// Delivery is at least once across restarts and nodes. It may import ent, audit,
// tenants and the root error package, and never api.
package webhooks
