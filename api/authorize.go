package api

import (
	"context"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/admin"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

var errForbidden = gatehouse.Errorf(gatehouse.EFORBIDDEN, "Forbidden")

// authorize runs after authenticate: it looks up the policies the matched
// route declares in table and asks the Authorizer at request time, so a
// removed role stops working on the next request. An actor with no role gets
// Medusa's 403 "Forbidden", one lacking a policy gets "Insufficient
// permissions. Required policies: …" (the missing ones). A route missing from
// the table is refused.
func (s *Server) authorize(table map[string][]rbac.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		need, declared := table[c.Request.Method+" "+c.FullPath()]
		ac, _ := auth.FromContext(c.Request.Context())
		channels, err := requestChannels(c, ac, pathChannel(c.Request.URL.Path))
		if err != nil {
			wire.Render(c, err)
			return
		}
		if declared && len(need) == 0 && len(channels) == 0 {
			c.Next()
			return
		}
		if err := s.checkPolicies(c.Request.Context(), ac, need, declared, channels); err != nil {
			wire.Render(c, err)
			return
		}
		c.Next()
	}
}

// checkPolicies decides whether ac holds every policy in need, in each of the
// sales channels the request names, as one auth.check span. undeclared
// refuses outright (a route nobody mapped).
func (s *Server) checkPolicies(ctx context.Context, ac *auth.Context, need []rbac.Permission, declared bool, channels []string) error {
	tn, _ := tenants.FromContext(ctx)
	ctx, check := s.deps.Telemetry.StartAuthCheck(ctx, tn.ID, "rbac")
	if ac != nil && check.Recording() {
		check.SetAttributes(attribute.String("auth.actor_type", ac.ActorType))
	}
	if !declared {
		check.End(ctx, observability.Deny, "undeclared_route")
		return errForbidden
	}
	if check.Recording() {
		keys := make([]string, 0, len(need))
		for _, p := range need {
			keys = append(keys, p.String())
		}
		check.SetAttributes(attribute.String("rbac.required", strings.Join(keys, ",")))
	}
	subject := admin.Subject(ac)
	if subject == "" {
		check.End(ctx, observability.Deny, "no_roles")
		return errForbidden
	}
	missing, err := s.deps.RBAC.Authorizer().Check(ctx, subject, need, channels...)
	var denied *rbac.ChannelDenied
	switch {
	case errors.As(err, &denied):
		check.End(ctx, observability.Deny, "sales_channel")
		return &gatehouse.Error{Code: gatehouse.EFORBIDDEN, Type: "not_allowed",
			Message: "API key is not allowed to access sales channel " + denied.Channel}
	case errors.Is(err, rbac.ErrNoRoles):
		check.End(ctx, observability.Deny, "no_roles")
		return errForbidden
	case err != nil:
		check.End(ctx, observability.Error, "unavailable")
		return gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "Authorization is unavailable, try again shortly")
	case len(missing) > 0:
		keys := make([]string, 0, len(missing))
		for _, p := range missing {
			keys = append(keys, p.String())
		}
		check.SetAttributes(attribute.String("rbac.missing", strings.Join(keys, ",")))
		check.End(ctx, observability.Deny, "insufficient_permissions")
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "Insufficient permissions. Required policies: %s", strings.Join(keys, ", "))
	}
	check.End(ctx, observability.Allow, "ok")
	return nil
}
