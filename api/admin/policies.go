package admin

import (
	"strings"

	"github.com/gatehousehq/gatehouse/rbac"
)

// Policies declares, for every route of the authenticated /admin group, the
// policies it requires ("METHOD /admin/path" as Gin names the route). An
// empty list: any authenticated admin. A route missing here is refused with
// 403 by the authorize middleware, and TestEveryAdminRouteDeclaresPolicies
// fails: forgetting a declaration fails closed.
var Policies = map[string][]rbac.Permission{
	"GET /admin/users":                       need("user:read"),
	"GET /admin/users/me":                    need(),
	"POST /admin/users/me/password":          need(),
	"GET /admin/users/:id":                   need("user:read"),
	"POST /admin/users/:id":                  need("user:update"),
	"DELETE /admin/users/:id":                need("user:delete"),
	"GET /admin/users/:id/auth-providers":    need("user:read"),
	"POST /admin/users/:id/reset-password":   need("user:update"),
	"GET /admin/users/:id/roles":             need("user:read", "rbac_role:read"),
	"POST /admin/users/:id/roles":            need("user:update", "rbac_role:update"),
	"DELETE /admin/users/:id/roles":          need("user:update", "rbac_role:update"),
	"DELETE /admin/users/:id/roles/:role_id": need("user:update", "rbac_role:update"),

	"GET /admin/invites":             need("invite:read"),
	"POST /admin/invites":            need("invite:create"),
	"GET /admin/invites/:id":         need("invite:read"),
	"DELETE /admin/invites/:id":      need("invite:delete"),
	"POST /admin/invites/:id/resend": need("invite:update"),

	// Medusa: every /admin/api-keys route needs api_key:read as well.
	"GET /admin/api-keys":                     need("api_key:read"),
	"POST /admin/api-keys":                    need("api_key:read", "api_key:create"),
	"GET /admin/api-keys/:id":                 need("api_key:read"),
	"POST /admin/api-keys/:id":                need("api_key:read", "api_key:update"),
	"DELETE /admin/api-keys/:id":              need("api_key:read", "api_key:delete"),
	"POST /admin/api-keys/:id/revoke":         need("api_key:read", "api_key:update"),
	"POST /admin/api-keys/:id/sales-channels": need("api_key:read", "api_key:update"),
	"GET /admin/api-keys/:id/roles":           need("api_key:read", "rbac_role:read"),
	"POST /admin/api-keys/:id/roles":          need("api_key:read", "api_key:update", "rbac_role:update"),
	"DELETE /admin/api-keys/:id/roles":        need("api_key:read", "api_key:update", "rbac_role:update"),

	"GET /admin/sales-channels":        need("sales_channel:read"),
	"POST /admin/sales-channels":       need("sales_channel:create"),
	"GET /admin/sales-channels/:id":    need("sales_channel:read"),
	"POST /admin/sales-channels/:id":   need("sales_channel:update"),
	"DELETE /admin/sales-channels/:id": need("sales_channel:delete"),

	"GET /admin/rbac/roles":                            need("rbac_role:read"),
	"POST /admin/rbac/roles":                           need(), // escalation is checked by rbac.Service
	"GET /admin/rbac/roles/assignable":                 need("rbac_role:read"),
	"GET /admin/rbac/roles/:id":                        need("rbac_role:read"),
	"POST /admin/rbac/roles/:id":                       need("rbac_role:update"),
	"DELETE /admin/rbac/roles/:id":                     need("rbac_role:delete"),
	"GET /admin/rbac/roles/:id/policies":               need("rbac_role:read"),
	"POST /admin/rbac/roles/:id/policies":              need("rbac_role:update"),
	"DELETE /admin/rbac/roles/:id/policies/:policy_id": need("rbac_role:update"),
	"GET /admin/rbac/policies":                         need("rbac_policy:read"),
	"GET /admin/rbac/route-map":                        need("rbac_policy:read"),
	"PUT /admin/rbac/route-map":                        need("rbac_policy:update"),
	"GET /admin/rbac/policies/assignable":              need("rbac_policy:read"),
	"GET /admin/rbac/policies/:id":                     need("rbac_policy:read"),
	"POST /admin/rbac/policies":                        need("rbac_policy:create"),
	"POST /admin/rbac/policies/:id":                    need("rbac_policy:update"),
	"DELETE /admin/rbac/policies/:id":                  need("rbac_policy:delete"),
	"GET /admin/rbac/policies/:id/roles":               need("rbac_policy:read", "rbac_role:read"),
	"GET /admin/rbac/roles/:id/users":                  need("user:read"),
	"POST /admin/rbac/roles/:id/users":                 need("user:update", "rbac_role:update"),
	"DELETE /admin/rbac/roles/:id/users":               need("user:update", "rbac_role:update"),
	"GET /admin/rbac/me/permissions":                   need(),

	"GET /admin/audit-events": need("audit:read"),

	"GET /admin/webhooks":                                    need("webhook:read"),
	"POST /admin/webhooks":                                   need("webhook:create"),
	"GET /admin/webhooks/:id":                                need("webhook:read"),
	"POST /admin/webhooks/:id":                               need("webhook:update"),
	"DELETE /admin/webhooks/:id":                             need("webhook:delete"),
	"GET /admin/webhooks/:id/deliveries":                     need("webhook:read"),
	"POST /admin/webhooks/:id/deliveries/:delivery_id/retry": need("webhook:read", "webhook:update"),
}

// need parses "resource:operation" keys.
func need(keys ...string) []rbac.Permission {
	out := make([]rbac.Permission, 0, len(keys))
	for _, k := range keys {
		res, op, ok := strings.Cut(k, ":")
		if !ok {
			panic("admin: bad policy key " + k)
		}
		out = append(out, rbac.Permission{Resource: res, Operation: op})
	}
	return out
}
