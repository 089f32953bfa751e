package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// registerSalesChannels mounts Medusa's /admin/sales-channels routes.
func registerSalesChannels(g *gin.RouterGroup, d Deps) {
	h := &salesChannels{svc: d.Channels, auth: d.Auth}
	g.GET("/sales-channels", wire.H(h.list))
	g.POST("/sales-channels", wire.H(h.create))
	g.GET("/sales-channels/:id", wire.H(h.get))
	g.POST("/sales-channels/:id", wire.H(h.update))
	g.DELETE("/sales-channels/:id", wire.H(h.delete))
}

type salesChannels struct {
	svc *tenants.Channels
	// auth drops cached publishable keys when a channel is disabled or
	// deleted, so the change takes effect on the next /store request.
	auth *auth.Service
}

// salesChannelJSON is Medusa's sales channel, with the linked publishable
// keys (Medusa's fields=*publishable_api_keys) always included.
type salesChannelJSON struct {
	ID                 string               `json:"id"`
	Name               string               `json:"name"`
	Description        *string              `json:"description"`
	IsDisabled         bool                 `json:"is_disabled"`
	Metadata           map[string]any       `json:"metadata"`
	CreatedAt          string               `json:"created_at"`
	UpdatedAt          string               `json:"updated_at"`
	DeletedAt          *string              `json:"deleted_at"`
	PublishableAPIKeys []publishableKeyJSON `json:"publishable_api_keys"`
}

// publishableKeyJSON is a publishable key as listed under a channel.
// Publishable tokens are public, so the token is shown.
type publishableKeyJSON struct {
	ID        string  `json:"id"`
	Token     string  `json:"token"`
	Redacted  string  `json:"redacted"`
	Title     string  `json:"title"`
	Type      string  `json:"type"`
	CreatedBy string  `json:"created_by"`
	RevokedBy *string `json:"revoked_by"`
	RevokedAt *string `json:"revoked_at"`
	CreatedAt string  `json:"created_at"`
	UpdatedAt string  `json:"updated_at"`
}

func salesChannelToJSON(ch *ent.SalesChannel) salesChannelJSON {
	keys := make([]publishableKeyJSON, 0, len(ch.Edges.APIKeys))
	for _, k := range ch.Edges.APIKeys {
		keys = append(keys, publishableKeyJSON{
			ID:        k.ID,
			Token:     k.Token,
			Redacted:  k.Redacted,
			Title:     k.Title,
			Type:      string(k.Type),
			CreatedBy: k.CreatedBy,
			RevokedBy: k.RevokedBy,
			RevokedAt: isoTimePtr(k.RevokedAt),
			CreatedAt: isoTime(k.CreatedAt),
			UpdatedAt: isoTime(k.UpdatedAt),
		})
	}
	return salesChannelJSON{
		ID:                 ch.ID,
		Name:               ch.Name,
		Description:        ch.Description,
		IsDisabled:         ch.IsDisabled,
		Metadata:           ch.Metadata,
		CreatedAt:          isoTime(ch.CreatedAt),
		UpdatedAt:          isoTime(ch.UpdatedAt),
		DeletedAt:          nil, // deleted channels are gone, never shown
		PublishableAPIKeys: keys,
	}
}

type salesChannelResponse struct {
	SalesChannel salesChannelJSON `json:"sales_channel"`
}

type salesChannelListResponse struct {
	SalesChannels []salesChannelJSON `json:"sales_channels"`
	Count         int                `json:"count"`
	Offset        int                `json:"offset"`
	Limit         int                `json:"limit"`
}

func (h *salesChannels) list(c *gin.Context) error {
	p, err := wire.SortedListParams(c, 20, tenants.ChannelOrderFields)
	if err != nil {
		return err
	}
	f := tenants.ChannelFilter{
		Q:                 strings.TrimSpace(p.Q),
		Names:             wire.QueryList(c, "name"),
		PublishableKeyIDs: wire.QueryList(c, "publishable_key_id"),
		LocationIDs:       wire.QueryList(c, "location_id"),
		Dates:             p.Dates,
		Order:             p.Order,
		Offset:            p.Offset,
		Limit:             p.Limit,
	}
	if ids := wire.QueryList(c, "id"); len(ids) > 0 {
		f.IDs = ids
	}
	// Present in any form (description[0]= too), else no filter.
	if wire.QueryList(c, "description") != nil {
		d, err := wire.QueryOne(c, "description")
		if err != nil {
			return err
		}
		f.Description = &d
	}
	if s, ok := c.GetQuery("is_disabled"); ok {
		switch strings.ToLower(s) {
		case "true":
			f.IsDisabled = new(true)
		case "false":
			f.IsDisabled = new(false)
		default:
			return wire.Invalid("Expected type: 'boolean' for field 'is_disabled', got: 'string'")
		}
	}
	// A partner key lists only the channels it holds.
	ac, _ := auth.FromContext(c.Request.Context())
	ids, any := auth.ScopeChannels(ac, f.IDs)
	if !any {
		c.JSON(http.StatusOK, gin.H{"sales_channels": []salesChannelJSON{}, "count": 0, "offset": p.Offset, "limit": p.Limit})
		return nil
	}
	f.IDs = ids
	chs, count, err := h.svc.FindChannels(c.Request.Context(), f)
	if err != nil {
		return err
	}
	out := salesChannelListResponse{
		SalesChannels: make([]salesChannelJSON, 0, len(chs)),
		Count:         count, Offset: p.Offset, Limit: p.Limit,
	}
	for _, ch := range chs {
		out.SalesChannels = append(out.SalesChannels, salesChannelToJSON(ch))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type createSalesChannelRequest struct {
	Name        *string        `json:"name"`
	Description *string        `json:"description"`
	IsDisabled  *bool          `json:"is_disabled"`
	Metadata    map[string]any `json:"metadata"`
}

// Validate implements wire.Validator.
func (r *createSalesChannelRequest) Validate() error {
	if r.Name == nil {
		return wire.Invalid("Field 'name' is required")
	}
	return nil
}

func (h *salesChannels) create(c *gin.Context) error {
	var req createSalesChannelRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	ch, err := h.svc.CreateChannel(c.Request.Context(), tenants.ChannelInput{
		Name:        req.Name,
		Description: req.Description,
		IsDisabled:  req.IsDisabled,
		Metadata:    req.Metadata,
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, salesChannelResponse{SalesChannel: salesChannelToJSON(ch)})
	return nil
}

func (h *salesChannels) get(c *gin.Context) error {
	ch, err := h.svc.FindChannelByID(c.Request.Context(), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, salesChannelResponse{SalesChannel: salesChannelToJSON(ch)})
	return nil
}

// nullableField is a body field that tells absent, null and a value apart,
// for Medusa's nullish update fields.
type nullableField[T any] struct {
	Set   bool
	Value *T // nil when the field was null
}

// UnmarshalJSON implements json.Unmarshaler; it only runs for present fields.
func (n *nullableField[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}

type updateSalesChannelRequest struct {
	Name        *string                       `json:"name"`
	Description nullableField[string]         `json:"description"`
	IsDisabled  *bool                         `json:"is_disabled"`
	Metadata    nullableField[map[string]any] `json:"metadata"`
}

func (h *salesChannels) update(c *gin.Context) error {
	var req updateSalesChannelRequest
	if err := wire.Bind(c, &req); err != nil {
		return err
	}
	in := tenants.ChannelInput{
		Name:           req.Name,
		Description:    req.Description.Value,
		DescriptionSet: req.Description.Set,
		IsDisabled:     req.IsDisabled,
		MetadataSet:    req.Metadata.Set,
	}
	if req.Metadata.Value != nil {
		in.Metadata = *req.Metadata.Value
		if in.Metadata == nil {
			in.Metadata = map[string]any{}
		}
	}
	ch, err := h.svc.UpdateChannel(c.Request.Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	if in.IsDisabled != nil {
		h.auth.ChannelsChanged(c.Request.Context())
	}
	c.JSON(http.StatusOK, salesChannelResponse{SalesChannel: salesChannelToJSON(ch)})
	return nil
}

func (h *salesChannels) delete(c *gin.Context) error {
	id := c.Param("id")
	if err := h.svc.DeleteChannel(c.Request.Context(), id); err != nil {
		return err
	}
	h.auth.ChannelsChanged(c.Request.Context())
	c.JSON(http.StatusOK, wire.Deleted{ID: id, Object: "sales-channel", Deleted: true}) // Medusa's hyphen
	return nil
}
