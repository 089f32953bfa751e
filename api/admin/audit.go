package admin

import (
	"net/http"
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
// created_at[gte] and created_at[lte] (RFC 3339).
func AuditFilter(c *gin.Context) (audit.Filter, error) {
	f := audit.Filter{ActorID: c.Query("actor_id"), Action: c.Query("action"), TargetID: c.Query("target_id")}
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
