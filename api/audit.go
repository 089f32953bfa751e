package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse/api/admin"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
)

// auditTrail records every state-changing request of the group it guards
// (success or failure): the action (admin.AuditAction: its semantic name,
// else "METHOD /route"), the actor, the target id from the path, the status,
// the client address, the request and trace ids, and the route in the
// details.
// The entry is pending in the request context while the handler runs, so a
// service that makes the change in a transaction writes it there
// (audit.RecordTx); what is left is written once the handler has answered.
// Bodies are never recorded, so no password, token or key is.
func (s *Server) auditTrail(targetType func(c *gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			c.Next()
			return
		}
		if s.deps.Audit == nil || c.FullPath() == "" {
			c.Next()
			return
		}
		route := c.Request.Method + " " + c.FullPath()
		action := admin.AuditAction(route)
		e := audit.Entry{
			Action:     action,
			TargetType: targetType(c),
			TargetID:   c.Param("id"),
			IP:         c.ClientIP(),
			UserAgent:  c.Request.UserAgent(),
			RequestID:  c.Writer.Header().Get("X-Request-Id"),
			Details:    map[string]any{"route": route},
		}
		if p := c.Param("provider"); p != "" && e.TargetType == "auth" {
			e.Details["provider"] = p
		}
		actorType := c.Param("actor_type")
		p := audit.NewPending(e, func(ctx context.Context, e *audit.Entry) {
			if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
				e.TraceID = sc.TraceID().String()
			}
			if ac, ok := auth.FromContext(ctx); ok {
				e.ActorType, e.ActorID = ac.ActorType, ac.ActorID
				if e.ActorID == "" {
					e.ActorID = ac.AuthIdentityID
				}
			} else if e.ActorType == "" {
				e.ActorType = actorType
			}
		})
		c.Request = c.Request.WithContext(audit.WithPending(c.Request.Context(), p))
		c.Next()
		if c.Writer.Status() == 499 {
			return
		}
		ctx := c.Request.Context()
		if err := s.deps.Audit.Finish(ctx, p, c.Writer.Status()); err != nil {
			s.deps.Telemetry.Logger.ErrorContext(ctx, "audit event lost", slog.String("action", action), slog.String("error", err.Error()))
		}
	}
}

// targetFromPath names the object type of an /admin or /auth route from its
// first segment after the family: /admin/api-keys/:id → api_key.
func targetFromPath(c *gin.Context) string {
	return admin.TargetType(c.FullPath())
}

func platformTarget(*gin.Context) string { return "tenant" }

// platformAudit serves GET /platform/audit-events.
func (s *Server) platformAudit(c *gin.Context) error {
	p, err := wire.ListParams(c, 50)
	if err != nil {
		return err
	}
	f, err := admin.AuditFilter(c)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = p.Offset, p.Limit
	es, count, err := s.deps.Audit.Find(c.Request.Context(), f)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"audit_events": admin.AuditEventsJSON(es), "count": count, "offset": p.Offset, "limit": p.Limit})
	return nil
}
