package api

import (
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
// (success or failure) once the handler has answered: the route, the actor,
// the target id from the path, the status, the client address, the request
// and trace ids. Bodies are never recorded, so no password, token or key is.
func (s *Server) auditTrail(targetType func(c *gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		switch c.Request.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return
		}
		if s.deps.Audit == nil || c.FullPath() == "" || c.Writer.Status() == 499 {
			return
		}
		ctx := c.Request.Context()
		e := audit.Entry{
			Action:     c.Request.Method + " " + c.FullPath(),
			TargetType: targetType(c),
			TargetID:   c.Param("id"),
			Status:     c.Writer.Status(),
			Success:    c.Writer.Status() < 400,
			IP:         c.ClientIP(),
			UserAgent:  c.Request.UserAgent(),
			RequestID:  c.Writer.Header().Get("x-request-id"),
		}
		if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
			e.TraceID = sc.TraceID().String()
		}
		if ac, ok := auth.FromContext(ctx); ok {
			e.ActorType, e.ActorID = ac.ActorType, ac.ActorID
			if e.ActorID == "" {
				e.ActorID = ac.AuthIdentityID
			}
		} else if at := c.Param("actor_type"); at != "" {
			e.ActorType = at
		}
		if err := s.deps.Audit.Record(ctx, e); err != nil {
			s.deps.Telemetry.Logger.ErrorContext(ctx, "audit event lost", slog.String("action", e.Action), slog.String("error", err.Error()))
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
