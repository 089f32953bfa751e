package admin

import "github.com/gatehousehq/gatehouse/api/wire"

// Query lists the query parameters of each /admin route that Medusa 2.21
// validates (its routes' validators.js, made strict by zodValidator): any
// other parameter is a 400 "Unrecognized fields", so a typo or a filter that
// does not exist is never silently ignored. The Medusa-only $and/$or are not
// listed, as Gatehouse does not combine filters; fields and with_deleted are
// accepted and have no effect (every field is returned, deleted records are
// never listed), and so is "policies" on a role (Medusa reads nothing
// from it). Routes missing here read no query (ours: audit events,
// webhooks, the route map) and are not checked.
var Query = wire.QueryFields{
	"GET /admin/users": wire.Fields(wire.Find, "q", "id", "email", "first_name", "last_name",
		"created_at", "updated_at", "deleted_at"),
	"GET /admin/users/me":        wire.Select,
	"GET /admin/users/:id":       wire.Select,
	"POST /admin/users/:id":      wire.Select,
	"GET /admin/users/:id/roles": wire.Fields(wire.Find, "role_id"),
	// Ours, shaped as a user's roles.
	"GET /admin/api-keys/:id/roles": wire.Fields(wire.Find, "role_id"),

	"GET /admin/invites":             wire.Fields(wire.Find, "q", "id", "email", "created_at", "updated_at", "deleted_at"),
	"POST /admin/invites":            wire.Select,
	"GET /admin/invites/:id":         wire.Select,
	"POST /admin/invites/:id/resend": wire.Select,
	"POST /admin/invites/accept":     wire.Fields(wire.Select, "token"),

	"GET /admin/api-keys": wire.Fields(wire.Find, "q", "id", "title", "token", "type",
		"created_at", "updated_at", "deleted_at", "revoked_at"),
	"POST /admin/api-keys":                    wire.Select,
	"GET /admin/api-keys/:id":                 wire.Select,
	"POST /admin/api-keys/:id":                wire.Select,
	"POST /admin/api-keys/:id/revoke":         wire.Select,
	"POST /admin/api-keys/:id/sales-channels": wire.Select,

	"GET /admin/sales-channels": wire.Fields(wire.Find, "q", "id", "name", "description", "is_disabled",
		"created_at", "updated_at", "deleted_at", "location_id", "publishable_key_id"),
	"POST /admin/sales-channels":     wire.Select,
	"GET /admin/sales-channels/:id":  wire.Select,
	"POST /admin/sales-channels/:id": wire.Select,

	"GET /admin/rbac/roles":            wire.Fields(wire.Find, rolesFilters...),
	"GET /admin/rbac/roles/assignable": wire.Fields(wire.Find, rolesFilters...),
	"POST /admin/rbac/roles":           wire.Fields(wire.Select, "policies"),
	"GET /admin/rbac/roles/:id":        wire.Fields(wire.Select, "policies"),
	"POST /admin/rbac/roles/:id":       wire.Fields(wire.Select, "policies"),
	// Medusa's validator here has no offset and limit, yet its answer is a
	// page: ours takes them (a superset never refuses a Medusa request).
	"GET /admin/rbac/roles/:id/policies":  wire.Fields(wire.Find, "policies"),
	"POST /admin/rbac/roles/:id/policies": wire.Fields(wire.Select, "policies"),
	"GET /admin/rbac/roles/:id/users":     wire.Fields(wire.Find, "user_id"),

	"GET /admin/rbac/policies":            wire.Fields(wire.Find, policiesFilters...),
	"GET /admin/rbac/policies/assignable": wire.Fields(wire.Find, policiesFilters...),
	"POST /admin/rbac/policies":           wire.Select,
	"GET /admin/rbac/policies/:id":        wire.Select,
	"POST /admin/rbac/policies/:id":       wire.Select,
	"GET /admin/rbac/policies/:id/roles":  wire.Find,
}

var (
	rolesFilters    = []string{"q", "id", "name", "parent_id", "created_at", "updated_at", "deleted_at"}
	policiesFilters = []string{"q", "id", "key", "resource", "operation", "created_at", "updated_at", "deleted_at"}
)
