// Package platform serves the platform operators' API under /platform:
// creating, listing, changing, suspending and deleting tenants and their
// domains. The group is guarded by the platform key before these handlers
// run; they call tenants.Registry only. It may import tenants, ent and
// api/wire.
package platform

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Register mounts the tenant routes on g (already mounted at /platform and
// guarded by the platform key).
func Register(g *gin.RouterGroup, reg *tenants.Registry) {
	h := &handler{reg: reg}
	g.GET("/tenants", wire.H(h.list))
	g.POST("/tenants", wire.H(h.create))
	g.GET("/tenants/:id", wire.H(h.get))
	g.POST("/tenants/:id", wire.H(h.update))
	g.DELETE("/tenants/:id", wire.H(h.delete))
	g.POST("/tenants/:id/suspend", wire.H(h.setStatus(tenant.StatusSuspended)))
	g.POST("/tenants/:id/resume", wire.H(h.setStatus(tenant.StatusActive)))
	g.POST("/tenants/:id/domains", wire.H(h.addDomain))
	g.DELETE("/tenants/:id/domains", wire.H(h.removeDomain))
}

type handler struct {
	reg *tenants.Registry
}

// tenantJSON is a tenant as operators see it.
type tenantJSON struct {
	ID        string         `json:"id"`
	Slug      string         `json:"slug"`
	Name      string         `json:"name"`
	Status    string         `json:"status"`
	Settings  map[string]any `json:"settings"`
	Domains   []string       `json:"domains"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
}

func toJSON(t *ent.Tenant) tenantJSON {
	domains := make([]string, 0, len(t.Edges.Domains))
	for _, d := range t.Edges.Domains {
		domains = append(domains, d.Host)
	}
	sort.Strings(domains)
	settings := t.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	return tenantJSON{
		ID:        t.ID,
		Slug:      t.Slug,
		Name:      t.Name,
		Status:    string(t.Status),
		Settings:  settings,
		Domains:   domains,
		CreatedAt: isoTime(t.CreatedAt),
		UpdatedAt: isoTime(t.UpdatedAt),
	}
}

type tenantResponse struct {
	Tenant tenantJSON `json:"tenant"`
}

type listResponse struct {
	Tenants []tenantJSON `json:"tenants"`
	Count   int          `json:"count"`
	Offset  int          `json:"offset"`
	Limit   int          `json:"limit"`
}

// isoTime renders times as Medusa does (ISO 8601, UTC, milliseconds).
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func (h *handler) list(c *gin.Context) error {
	p, err := wire.ListParams(c, 20)
	if err != nil {
		return err
	}
	ts, count, err := h.reg.List(c.Request.Context(), tenants.ListFilter{
		Q: strings.TrimSpace(c.Query("q")), Offset: p.Offset, Limit: p.Limit,
	})
	if err != nil {
		return err
	}
	out := listResponse{Tenants: make([]tenantJSON, 0, len(ts)), Count: count, Offset: p.Offset, Limit: p.Limit}
	for _, t := range ts {
		out.Tenants = append(out.Tenants, toJSON(t))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type createRequest struct {
	Slug     *string        `json:"slug"`
	Name     *string        `json:"name"`
	Domains  []string       `json:"domains"`
	Settings map[string]any `json:"settings"`
}

// Validate implements wire.Validator.
func (r *createRequest) Validate() error {
	switch {
	case r.Slug == nil:
		return wire.Invalid("Field 'slug' is required")
	case r.Name == nil:
		return wire.Invalid("Field 'name' is required")
	}
	return nil
}

func (h *handler) create(c *gin.Context) error {
	var req createRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	t, err := h.reg.Create(c.Request.Context(), tenants.CreateInput{
		Slug: *req.Slug, Name: *req.Name, Domains: req.Domains, Settings: req.Settings,
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
	return nil
}

// find resolves the :id parameter, a tenant id or slug.
func (h *handler) find(c *gin.Context) (*ent.Tenant, error) {
	return h.reg.FindBySlugOrID(c.Request.Context(), c.Param("id"))
}

func (h *handler) get(c *gin.Context) error {
	t, err := h.find(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
	return nil
}

type updateRequest struct {
	Name     *string        `json:"name"`
	Settings map[string]any `json:"settings"`
}

func (h *handler) update(c *gin.Context) error {
	var req updateRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	t, err := h.find(c)
	if err != nil {
		return err
	}
	t, err = h.reg.Update(c.Request.Context(), t.ID, tenants.UpdateInput{Name: req.Name, Settings: req.Settings})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
	return nil
}

func (h *handler) delete(c *gin.Context) error {
	t, err := h.find(c)
	if err != nil {
		return err
	}
	if err := h.reg.Delete(c.Request.Context(), t.ID); err != nil {
		return err
	}
	c.JSON(http.StatusOK, wire.Deleted{ID: t.ID, Object: "tenant", Deleted: true})
	return nil
}

func (h *handler) setStatus(status tenant.Status) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		// No fields are accepted, but a body that is not an empty object is
		// still refused, as everywhere else.
		if err := wire.Bind(c, &struct{}{}); err != nil {
			return err
		}
		t, err := h.find(c)
		if err != nil {
			return err
		}
		t, err = h.reg.SetStatus(c.Request.Context(), t.ID, status)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
		return nil
	}
}

type domainRequest struct {
	Host *string `json:"host"`
}

func (h *handler) addDomain(c *gin.Context) error {
	var req domainRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	if req.Host == nil {
		return wire.Invalid("Field 'host' is required")
	}
	t, err := h.find(c)
	if err != nil {
		return err
	}
	t, err = h.reg.AddDomain(c.Request.Context(), t.ID, *req.Host)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
	return nil
}

// removeDomain takes the host from the body or, since some clients cannot
// send a body with DELETE, from ?host=.
func (h *handler) removeDomain(c *gin.Context) error {
	var req domainRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	host := c.Query("host")
	if req.Host != nil {
		host = *req.Host
	}
	if strings.TrimSpace(host) == "" {
		return wire.Invalid("Field 'host' is required")
	}
	t, err := h.find(c)
	if err != nil {
		return err
	}
	t, err = h.reg.RemoveDomain(c.Request.Context(), t.ID, host)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, tenantResponse{Tenant: toJSON(t)})
	return nil
}
