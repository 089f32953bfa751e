package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

// inviteJSON is an invite; Token is set only by create and resend (Medusa
// returns it everywhere, which lets any admin read every pending invite).
type inviteJSON struct {
	ID        string         `json:"id"`
	Email     string         `json:"email"`
	Accepted  bool           `json:"accepted"`
	Token     string         `json:"token,omitempty"`
	ExpiresAt string         `json:"expires_at"`
	Metadata  map[string]any `json:"metadata"`
	Roles     []string       `json:"roles,omitempty"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
	DeletedAt *string        `json:"deleted_at"`
}

func toInvite(i *ent.Invite, token string) inviteJSON {
	return inviteJSON{ID: i.ID, Email: i.Email, Accepted: i.Accepted, Token: token, ExpiresAt: isoTime(i.ExpiresAt),
		Metadata: i.Metadata, Roles: i.Roles, CreatedAt: isoTime(i.CreatedAt), UpdatedAt: isoTime(i.UpdatedAt)}
}

type createInviteRequest struct {
	Email    *string        `json:"email"`
	Roles    []string       `json:"roles"`
	Metadata map[string]any `json:"metadata"`
}

func (r *createInviteRequest) Validate() error {
	if r.Email == nil {
		return wire.Invalid("Field 'email' is required")
	}
	return nil
}

func registerInvites(g *gin.RouterGroup, d Deps) {
	g.GET("/invites", wire.H(func(c *gin.Context) error {
		p, err := wire.SortedListParams(c, 50, auth.InviteOrderFields)
		if err != nil {
			return err
		}
		is, count, err := d.Auth.FindInvites(c.Request.Context(), auth.InviteFilter{
			Q: p.Q, IDs: wire.QueryList(c, "id"), Emails: wire.QueryList(c, "email"), Dates: p.Dates, Order: p.Order, Offset: p.Offset, Limit: p.Limit})
		if err != nil {
			return err
		}
		out := make([]inviteJSON, 0, len(is))
		for _, i := range is {
			out = append(out, toInvite(i, ""))
		}
		c.JSON(http.StatusOK, gin.H{"invites": out, "count": count, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.POST("/invites", wire.H(func(c *gin.Context) error {
		var in createInviteRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if len(in.Roles) > 0 {
			// The inviter must hold what the roles grant (Medusa's workflow check).
			if err := d.RBAC.CheckAssignable(c.Request.Context(), callerOrNone(c), in.Roles); err != nil {
				return err
			}
		}
		inv, tok, err := d.Auth.CreateInvite(c.Request.Context(), auth.InviteInput{Email: *in.Email, Roles: in.Roles, Metadata: in.Metadata})
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"invite": toInvite(inv, tok)})
		return nil
	}))
	g.GET("/invites/:id", wire.H(func(c *gin.Context) error {
		inv, err := d.Auth.FindInviteByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"invite": toInvite(inv, "")})
		return nil
	}))
	g.DELETE("/invites/:id", wire.H(func(c *gin.Context) error {
		if err := d.Auth.DeleteInvite(c.Request.Context(), c.Param("id")); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Object: "invite", Deleted: true})
		return nil
	}))
	g.POST("/invites/:id/resend", wire.H(func(c *gin.Context) error {
		inv, tok, err := d.Auth.ResendInvite(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"invite": toInvite(inv, tok)})
		return nil
	}))
}

type acceptRequest struct {
	Email     *string `json:"email"`
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
}

// RegisterAccept mounts POST /accept on g, which authenticates with a
// registration token (no API keys) instead of the admin middleware.
func RegisterAccept(g *gin.RouterGroup, d Deps) {
	g.POST("/accept", wire.H(func(c *gin.Context) error {
		var in acceptRequest
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		ac, _ := auth.FromContext(c.Request.Context())
		u, err := d.Auth.AcceptInvite(c.Request.Context(), ac, c.Query("token"), auth.AcceptInput{
			Email: in.Email, FirstName: in.FirstName, LastName: in.LastName})
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"user": toUser(u)})
		return nil
	}))
}
