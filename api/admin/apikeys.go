package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

type keyChannelJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type apiKeyJSON struct {
	ID            string           `json:"id"`
	Title         string           `json:"title"`
	Token         string           `json:"token"`
	Redacted      string           `json:"redacted"`
	Type          string           `json:"type"`
	LastUsedAt    *string          `json:"last_used_at"`
	CreatedBy     string           `json:"created_by"`
	RevokedBy     *string          `json:"revoked_by"`
	RevokedAt     *string          `json:"revoked_at"`
	CreatedAt     string           `json:"created_at"`
	UpdatedAt     string           `json:"updated_at"`
	DeletedAt     *string          `json:"deleted_at"`
	SalesChannels []keyChannelJSON `json:"sales_channels"`
	// RateLimit (ours) is the key's own limit in requests per minute; absent
	// when it has none, so Medusa's shape is unchanged.
	RateLimit *int `json:"rate_limit,omitempty"`
}

// toAPIKey renders a key. A secret key's token is "" except in the create
// response (raw), so it is shown exactly once.
func toAPIKey(k *ent.APIKey, raw string, withChannels bool) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, Title: k.Title, Token: k.Token, Redacted: k.Redacted, Type: string(k.Type),
		LastUsedAt: isoTimePtr(k.LastUsedAt), CreatedBy: k.CreatedBy, RevokedBy: k.RevokedBy,
		RevokedAt: isoTimePtr(k.RevokedAt), CreatedAt: isoTime(k.CreatedAt), UpdatedAt: isoTime(k.UpdatedAt),
		RateLimit: k.RateLimit}
	if raw != "" {
		out.Token = raw
	}
	if withChannels {
		out.SalesChannels = []keyChannelJSON{}
		for _, sc := range k.Edges.SalesChannels {
			out.SalesChannels = append(out.SalesChannels, keyChannelJSON{ID: sc.ID, Name: sc.Name})
		}
	}
	return out
}

type createKeyRequest struct {
	Title           *string  `json:"title"`
	Type            *string  `json:"type"`
	SalesChannelIDs []string `json:"sales_channel_ids"`
	RateLimit       *int     `json:"rate_limit"`
	// Roles (ours): a secret key gets only these of its creator's roles
	// instead of all of them.
	Roles *[]string `json:"roles"`
}

func (r *createKeyRequest) Validate() error {
	if r.Title == nil {
		return wire.Invalid("Field 'title' is required")
	}
	if r.Type == nil {
		return wire.Invalid("Field 'type' is required")
	}
	if *r.Type != auth.KeySecret && *r.Type != auth.KeyPublishable {
		return wire.Invalid("Expected: 'publishable, secret' for field 'type', but got: '%s'", *r.Type)
	}
	return nil
}

type updateKeyRequest struct {
	Title *string `json:"title"`
	// RateLimit: absent leaves it, null removes it, a number sets it.
	RateLimit json.RawMessage `json:"rate_limit"`
}

func (r *updateKeyRequest) Validate() error {
	if r.Title == nil && r.RateLimit == nil {
		return wire.Invalid("Field 'title' is required")
	}
	return nil
}

type revokeRequest struct {
	RevokeIn *float64 `json:"revoke_in"`
}

type linkRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

func registerAPIKeys(g *gin.RouterGroup, d Deps) {
	g.GET("/api-keys", wire.H(func(c *gin.Context) error {
		p, err := wire.SortedListParams(c, 20, auth.APIKeyOrderFields)
		if err != nil {
			return err
		}
		typ, err := wire.QueryOne(c, "type")
		if err != nil {
			return err
		}
		f := auth.APIKeyFilter{Q: p.Q, IDs: wire.QueryList(c, "id"), Titles: wire.QueryList(c, "title"), Tokens: wire.QueryList(c, "token"),
			Type: typ, Dates: p.Dates, Order: p.Order, Offset: p.Offset, Limit: p.Limit}
		if t := f.Type; t != "" && t != auth.KeySecret && t != auth.KeyPublishable {
			return wire.Invalid("Expected: 'publishable, secret' for field 'type', but got: '%s'", t)
		}
		if err := revokedAtFilter(c, &f); err != nil {
			return err
		}
		ks, count, err := d.Auth.FindAPIKeys(c.Request.Context(), f)
		if err != nil {
			return err
		}
		out := make([]apiKeyJSON, 0, len(ks))
		for _, k := range ks {
			out = append(out, toAPIKey(k, "", true))
		}
		c.JSON(http.StatusOK, gin.H{"api_keys": out, "count": count, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.POST("/api-keys", wire.H(func(c *gin.Context) error {
		var in createKeyRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		ac, _ := auth.FromContext(c.Request.Context())
		input := auth.CreateAPIKeyInput{Title: *in.Title, Type: *in.Type, SalesChannelIDs: in.SalesChannelIDs, RateLimit: in.RateLimit}
		if in.Roles != nil {
			input.Narrow = append([]string{}, *in.Roles...)
			// The guard of role assignment: the creator must hold every
			// policy the roles grant (it cannot mint a stronger key).
			if *in.Type == auth.KeySecret && len(input.Narrow) > 0 {
				if err := d.RBAC.CheckAssignable(c.Request.Context(), Subject(ac), input.Narrow); err != nil {
					return err
				}
			}
		}
		k, raw, err := d.Auth.CreateAPIKey(c.Request.Context(), ac, input)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"api_key": toAPIKey(k, raw, true)})
		return nil
	}))
	g.GET("/api-keys/:id", wire.H(func(c *gin.Context) error {
		k, err := d.Auth.FindAPIKeyByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"api_key": toAPIKey(k, "", true)})
		return nil
	}))
	g.POST("/api-keys/:id", wire.H(func(c *gin.Context) error {
		var in updateKeyRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		up := auth.UpdateAPIKeyInput{Title: in.Title}
		if in.RateLimit != nil {
			up.SetRateLimit = true
			if string(in.RateLimit) != "null" {
				var n int
				if err := json.Unmarshal(in.RateLimit, &n); err != nil {
					return wire.Invalid("Field 'rate_limit' must be a whole number or null")
				}
				up.RateLimit = &n
			}
		}
		k, err := d.Auth.UpdateAPIKey(c.Request.Context(), c.Param("id"), up)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"api_key": toAPIKey(k, "", true)})
		return nil
	}))
	g.DELETE("/api-keys/:id", wire.H(func(c *gin.Context) error {
		if err := d.Auth.DeleteAPIKey(c.Request.Context(), c.Param("id")); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Object: "api_key", Deleted: true})
		return nil
	}))
	g.POST("/api-keys/:id/revoke", wire.H(func(c *gin.Context) error {
		var in revokeRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		ac, _ := auth.FromContext(c.Request.Context())
		var after float64
		if in.RevokeIn != nil {
			after = *in.RevokeIn
		}
		k, err := d.Auth.RevokeAPIKey(c.Request.Context(), ac, c.Param("id"), after)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"api_key": toAPIKey(k, "", true)})
		return nil
	}))
	g.POST("/api-keys/:id/sales-channels", wire.H(func(c *gin.Context) error {
		var in linkRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		k, err := d.Auth.LinkSalesChannels(c.Request.Context(), c.Param("id"), in.Add, in.Remove)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"api_key": toAPIKey(k, "", true)})
		return nil
	}))
}

// revokedAtFilter reads Medusa's revoked_at filter: revoked_at=null (or
// revoked_at[$eq]=null) for live keys, revoked_at[$ne]=null for revoked ones,
// and revoked_at[$gt|$gte|$lt|$lte]=<ISO time>.
func revokedAtFilter(c *gin.Context, f *auth.APIKeyFilter) error {
	isNull := func(v string) bool { return v == "" || v == "null" }
	if v, ok := c.GetQuery("revoked_at"); ok {
		if !isNull(v) {
			return wire.Invalid("Expected: 'null' or an operator map for field 'revoked_at', got: '%s'", v)
		}
		f.Revoked = new(false)
	}
	for op, v := range c.QueryMap("revoked_at") {
		switch op {
		case "$eq", "$ne":
			if !isNull(v) {
				return wire.Invalid("Expected: 'null' for field 'revoked_at.%s', got: '%s'", op, v)
			}
			f.Revoked = new(op == "$ne")
		case "$gt", "$gte", "$lt", "$lte":
			t, err := wire.Date("revoked_at", op, v)
			if err != nil {
				return err
			}
			if f.RevokedAt == nil {
				f.RevokedAt = map[string]time.Time{}
			}
			f.RevokedAt[op] = t
		default:
			return wire.Invalid("Unsupported operator '%s' for field 'revoked_at'", op)
		}
	}
	return nil
}
