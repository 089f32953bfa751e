package admin

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
)

type auditEventJSON struct {
	ID         string         `json:"id"`
	CreatedAt  string         `json:"created_at"`
	ActorType  string         `json:"actor_type"`
	ActorID    string         `json:"actor_id"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Result     string         `json:"result"`
	Status     int            `json:"status"`
	IP         string         `json:"ip"`
	UserAgent  string         `json:"user_agent"`
	RequestID  string         `json:"request_id"`
	TraceID    string         `json:"trace_id"`
	Details    map[string]any `json:"details"`
}

// AuditEventsJSON renders audit events.
func AuditEventsJSON(es []*ent.AuditEvent) []auditEventJSON {
	out := make([]auditEventJSON, 0, len(es))
	for _, e := range es {
		out = append(out, auditEventJSON{ID: e.ID, CreatedAt: isoTime(e.CreatedAt), ActorType: e.ActorType, ActorID: e.ActorID,
			Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Result: string(e.Result), Status: e.Status,
			IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, TraceID: e.TraceID, Details: e.Details})
	}
	return out
}

// AuditFilter reads the audit filters: actor_id, action, target_id,
// created_at[gte] and created_at[lte] (RFC 3339). An action given as its
// route ("POST /admin/api-keys/:id/revoke") means the route's action.
func AuditFilter(c *gin.Context) (audit.Filter, error) {
	f := audit.Filter{ActorID: c.Query("actor_id"), Action: c.Query("action"), TargetID: c.Query("target_id")}
	if f.Action != "" {
		f.Action = AuditAction(f.Action)
	}
	for op, v := range c.QueryMap("created_at") {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, wire.Invalid("Expected type: 'date' for field 'created_at.%s', got: '%s'", op, v)
		}
		switch op {
		case "$gte", "gte":
			f.Since = t
		case "$lte", "lte":
			f.Until = t
		default:
			return f, wire.Invalid("Unsupported operator '%s' for field 'created_at'", op)
		}
	}
	return f, nil
}

// auditActions names the actions of the audited routes of every family
// ("METHOD /route" as Gin names the route).
var auditActions = map[string]string{
	"POST /auth/:actor_type/:provider":                "auth.login",
	"POST /auth/:actor_type/:provider/register":       "auth.register",
	"POST /auth/:actor_type/:provider/reset-password": "auth.password_reset.request",
	"POST /auth/:actor_type/:provider/update":         "auth.password_reset.complete",
	"POST /auth/session":                              "auth.session.create",
	"DELETE /auth/session":                            "auth.session.destroy",
	"POST /auth/token/refresh":                        "auth.token.refresh",
	"POST /auth/logout-all":                           "auth.logout",
	"POST /auth/mfa/factors":                          "auth.mfa.factor.enroll",
	"POST /auth/mfa/factors/:id/verify":               "auth.mfa.factor.enable",
	"DELETE /auth/mfa/factors/:id":                    "auth.mfa.factor.disable",
	"POST /auth/mfa/recovery-codes":                   "auth.mfa.recovery_codes.generate",
	"POST /auth/mfa/challenges/:id/verify":            "auth.mfa.challenge.verify",
	"POST /auth/verification/request":                 "auth.verification.request",
	"POST /auth/verification/confirm":                 "auth.verification.confirm",

	"POST /admin/users/me/password":          "user.password.change",
	"POST /admin/users/:id":                  "user.update",
	"DELETE /admin/users/:id":                "user.delete",
	"POST /admin/users/:id/reset-password":   "user.password_reset.request",
	"POST /admin/users/:id/roles":            "user.roles.assign",
	"DELETE /admin/users/:id/roles":          "user.roles.unassign",
	"DELETE /admin/users/:id/roles/:role_id": "user.roles.unassign",

	"POST /admin/invites":            "invite.create",
	"DELETE /admin/invites/:id":      "invite.delete",
	"POST /admin/invites/:id/resend": "invite.resend",
	"POST /admin/invites/accept":     "user.create", // from an invite

	"POST /admin/api-keys":                    "api_key.create",
	"POST /admin/api-keys/:id":                "api_key.update",
	"DELETE /admin/api-keys/:id":              "api_key.delete",
	"POST /admin/api-keys/:id/revoke":         "api_key.revoke",
	"POST /admin/api-keys/:id/sales-channels": "api_key.sales_channels.update",
	"POST /admin/api-keys/:id/roles":          "api_key.roles.assign",
	"DELETE /admin/api-keys/:id/roles":        "api_key.roles.unassign",

	"POST /admin/sales-channels":       "sales_channel.create",
	"POST /admin/sales-channels/:id":   "sales_channel.update",
	"DELETE /admin/sales-channels/:id": "sales_channel.delete",

	"POST /admin/rbac/roles":                           "rbac_role.create",
	"POST /admin/rbac/roles/:id":                       "rbac_role.update",
	"DELETE /admin/rbac/roles/:id":                     "rbac_role.delete",
	"POST /admin/rbac/roles/:id/policies":              "rbac_role.policies.add",
	"DELETE /admin/rbac/roles/:id/policies/:policy_id": "rbac_role.policies.remove",
	"POST /admin/rbac/roles/:id/users":                 "rbac_role.users.assign",
	"DELETE /admin/rbac/roles/:id/users":               "rbac_role.users.unassign",
	"POST /admin/rbac/policies":                        "rbac_policy.create",
	"POST /admin/rbac/policies/:id":                    "rbac_policy.update",
	"DELETE /admin/rbac/policies/:id":                  "rbac_policy.delete",
	"PUT /admin/rbac/route-map":                        "rbac_route_map.update",

	"POST /admin/webhooks":                                   "webhook.create",
	"POST /admin/webhooks/:id":                               "webhook.update",
	"DELETE /admin/webhooks/:id":                             "webhook.delete",
	"POST /admin/webhooks/:id/deliveries/:delivery_id/retry": "webhook.delivery.retry",

	"POST /store/customers":    "customer.create",
	"POST /store/customers/me": "customer.update",

	"POST /store/customers/me/addresses":               "customer.address.create",
	"POST /store/customers/me/addresses/:address_id":   "customer.address.update",
	"DELETE /store/customers/me/addresses/:address_id": "customer.address.delete",

	"POST /platform/tenants":               "tenant.create",
	"POST /platform/tenants/:id":           "tenant.update",
	"DELETE /platform/tenants/:id":         "tenant.delete",
	"POST /platform/tenants/:id/suspend":   "tenant.suspend",
	"POST /platform/tenants/:id/resume":    "tenant.resume",
	"POST /platform/tenants/:id/domains":   "tenant.domain.add",
	"DELETE /platform/tenants/:id/domains": "tenant.domain.remove",
}

// AuditAction names the action of a route ("METHOD /route"): its semantic
// name ("api_key.revoke"), or the route itself when it has none.
func AuditAction(route string) string {
	if a, ok := auditActions[route]; ok {
		return a
	}
	return route
}

// TargetType names the object type of a route: its segment after the route
// family, singular, with underscores (/admin/api-keys/:id → api_key).
func TargetType(route string) string {
	segs := strings.Split(strings.Trim(route, "/"), "/")
	if len(segs) < 2 {
		return ""
	}
	seg := segs[1]
	if segs[0] == "admin" && seg == "rbac" && len(segs) > 2 {
		seg = "rbac_" + segs[2]
	}
	if segs[0] == "auth" {
		return "auth"
	}
	if slices.Contains(segs, "addresses") {
		return "customer_address"
	}
	seg = strings.ReplaceAll(seg, "-", "_")
	if strings.HasSuffix(seg, "ies") {
		return strings.TrimSuffix(seg, "ies") + "y"
	}
	return strings.TrimSuffix(seg, "s")
}

func registerAudit(g *gin.RouterGroup, d Deps) {
	g.GET("/audit-events", wire.H(func(c *gin.Context) error {
		p, err := wire.ListParams(c, 50)
		if err != nil {
			return err
		}
		f, err := AuditFilter(c)
		if err != nil {
			return err
		}
		f.Offset, f.Limit = p.Offset, p.Limit
		es, count, err := d.Audit.Find(c.Request.Context(), f)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"audit_events": AuditEventsJSON(es), "count": count, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
}
