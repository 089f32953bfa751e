// Package tenants owns the Tenant: its domains and settings, its lifecycle
// (create, suspend, resume, delete), the resolution of a request to a tenant,
// and the tenant carried in a context.Context that scopes every Ent query.
// It may import ent and observability.
package tenants
