package admin

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

type userJSON struct {
	ID        string         `json:"id"`
	Email     string         `json:"email"`
	FirstName *string        `json:"first_name"`
	LastName  *string        `json:"last_name"`
	AvatarURL *string        `json:"avatar_url"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt string         `json:"created_at"`
	UpdatedAt string         `json:"updated_at"`
	DeletedAt *string        `json:"deleted_at"`
}

func toUser(u *ent.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, AvatarURL: u.AvatarURL,
		Metadata: u.Metadata, CreatedAt: isoTime(u.CreatedAt), UpdatedAt: isoTime(u.UpdatedAt)}
}

func registerUsers(g *gin.RouterGroup, d Deps) {
	g.GET("/users", wire.H(func(c *gin.Context) error {
		p, err := wire.SortedListParams(c, 50, auth.UserOrderFields)
		if err != nil {
			return err
		}
		v, err := wire.QueryOnes(c, "email", "first_name", "last_name")
		if err != nil {
			return err
		}
		us, count, err := d.Auth.FindUsers(c.Request.Context(), auth.UserFilter{
			Q: p.Q, IDs: wire.QueryList(c, "id"), Email: v["email"],
			FirstName: v["first_name"], LastName: v["last_name"], Dates: p.Dates, Order: p.Order, Offset: p.Offset, Limit: p.Limit})
		if err != nil {
			return err
		}
		out := make([]userJSON, 0, len(us))
		for _, u := range us {
			out = append(out, toUser(u))
		}
		c.JSON(http.StatusOK, gin.H{"users": out, "count": count, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.GET("/users/me", wire.H(func(c *gin.Context) error {
		ac, _ := auth.FromContext(c.Request.Context())
		if ac.ActorID == "" {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "User ID not found")
		}
		u, err := d.Auth.FindUserByID(c.Request.Context(), ac.ActorID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"user": toUser(u)})
		return nil
	}))
	// Ours: a signed-in user changes their own password with the current
	// one. Every other login of the user ends; this one continues with the
	// returned token (and its cookie session, when it used one).
	g.POST("/users/me/password", wire.H(func(c *gin.Context) error {
		var in struct {
			Current *string `json:"current_password"`
			New     *string `json:"new_password"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		if in.Current == nil || in.New == nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "current_password and new_password are required")
		}
		ctx := c.Request.Context()
		ac, _ := auth.FromContext(ctx)
		if ac == nil || ac.ActorID == "" || ac.Method == auth.MethodSecretKey {
			return gatehouse.Errorf(gatehouse.ENOTALLOWED, "Only a signed-in user can change their password")
		}
		tok, err := d.Auth.ChangePassword(ctx, ac, auth.PasswordChange{Current: *in.Current, New: *in.New})
		if err != nil {
			return err
		}
		u, err := d.Auth.FindUserByID(ctx, ac.ActorID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"user": toUser(u), "token": tok})
		return nil
	}))
	g.GET("/users/:id", wire.H(func(c *gin.Context) error {
		u, err := d.Auth.FindUserByID(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"user": toUser(u)})
		return nil
	}))
	g.POST("/users/:id", wire.H(func(c *gin.Context) error {
		var in struct {
			FirstName json.RawMessage `json:"first_name"`
			LastName  json.RawMessage `json:"last_name"`
			AvatarURL json.RawMessage `json:"avatar_url"`
			Metadata  json.RawMessage `json:"metadata"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		var up auth.UserUpdate
		var err error
		if up.FirstName, up.SetFirstName, err = nullableString(in.FirstName, "first_name"); err != nil {
			return err
		}
		if up.LastName, up.SetLastName, err = nullableString(in.LastName, "last_name"); err != nil {
			return err
		}
		if up.AvatarURL, up.SetAvatarURL, err = nullableString(in.AvatarURL, "avatar_url"); err != nil {
			return err
		}
		if up.Metadata, up.SetMetadata, err = nullableObject(in.Metadata, "metadata"); err != nil {
			return err
		}
		u, err := d.Auth.UpdateUser(c.Request.Context(), c.Param("id"), up)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"user": toUser(u)})
		return nil
	}))
	g.DELETE("/users/:id", wire.H(func(c *gin.Context) error {
		ac, _ := auth.FromContext(c.Request.Context())
		if err := d.Auth.DeleteUser(c.Request.Context(), ac, c.Param("id")); err != nil {
			return err
		}
		c.JSON(http.StatusOK, wire.Deleted{ID: c.Param("id"), Object: "user", Deleted: true})
		return nil
	}))
	g.GET("/users/:id/auth-providers", wire.H(func(c *gin.Context) error {
		ps, err := d.Auth.UserProviders(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"providers": ps})
		return nil
	}))
	g.POST("/users/:id/reset-password", wire.H(func(c *gin.Context) error {
		tok, err := d.Auth.UserResetToken(c.Request.Context(), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"token": tok})
		return nil
	}))
}

// nullableString decodes an optional, nullable string field: set reports
// whether it was sent at all.
func nullableString(raw json.RawMessage, field string) (v *string, set bool, err error) {
	if raw == nil {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false, wire.Invalid("Expected type: 'string' for field '%s', got: '%s'", field, wire.JSONKind(raw))
	}
	return &s, true, nil
}

// nullableObject decodes an optional, nullable object field.
func nullableObject(raw json.RawMessage, field string) (v map[string]any, set bool, err error) {
	if raw == nil {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false, wire.Invalid("Expected type: 'object' for field '%s', got: '%s'", field, wire.JSONKind(raw))
	}
	return v, true, nil
}
