// Package admin serves Medusa's /admin routes of a tenant: users, invites,
// API keys, sales channels and RBAC roles. Authentication happens before these handlers
// run; they read the caller from the request context.
package admin

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
	"github.com/gatehousehq/gatehouse/webhooks"
)

// Deps are the services the admin routes call.
type Deps struct {
	Auth     *auth.Service
	Channels *tenants.Channels
	RBAC     *rbac.Service
	Audit    *audit.Log
	// Webhooks serves /admin/webhooks; nil answers 503 there.
	Webhooks *webhooks.Service
	// RouteMap serves /admin/rbac/route-map; nil answers 503 there.
	RouteMap *rbac.RouteMap
}

// Register mounts the admin routes on g (already authenticated).
func Register(g *gin.RouterGroup, d Deps) {
	registerUsers(g, d)
	registerInvites(g, d)
	registerSalesChannels(g, d)
	registerAPIKeys(g, d)
	registerRBAC(g, d)
	registerRouteMap(g, d)
	registerAudit(g, d)
	registerWebhooks(g, d)
}

// isoTime renders times as Medusa does (ISO 8601, UTC, milliseconds).
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func isoTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}
