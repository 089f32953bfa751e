package authroutes

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
)

// introspect is RFC 7662 token introspection for services that prefer asking
// over verifying with JWKS. The caller authenticates with a secret key of the
// tenant; the answer is {"active":false} for any token that is not a live
// access token of this tenant (invalid, expired, revoked, another tenant's).
func (h handlers) introspect(c *gin.Context) error {
	ac, _ := auth.FromContext(c.Request.Context())
	if ac == nil || ac.ActorType != auth.ActorAPIKey {
		return wire.Unauthorized
	}
	token := ""
	if strings.HasPrefix(c.ContentType(), "application/json") {
		var in struct {
			Token         string `json:"token"`
			TokenTypeHint string `json:"token_type_hint"`
		}
		if err := wire.Bind(c, &in); err != nil {
			return err
		}
		token = in.Token
	} else {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, wire.MaxBody)
		token = c.PostForm("token")
	}
	if token == "" {
		return wire.Invalid("Field 'token' is required")
	}
	tn := tenantOf(c)
	who, err := h.Auth.AuthenticateBearer(c.Request.Context(), tn, token)
	if err != nil {
		if auth.IsUnavailable(err) {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"active": false})
		return nil
	}
	cl := who.Claims
	out := map[string]any{
		"active":           true,
		"token_type":       "access_token",
		"sub":              cl.Subject,
		"iss":              cl.Issuer,
		"aud":              cl.Audience,
		"jti":              cl.ID,
		"tid":              cl.TenantID,
		"actor_type":       cl.ActorType,
		"actor_id":         cl.ActorID,
		"auth_identity_id": cl.AuthIdentityID,
	}
	if cl.IssuedAt != nil {
		out["iat"] = cl.IssuedAt.Unix()
	}
	if cl.ExpiresAt != nil {
		out["exp"] = cl.ExpiresAt.Unix()
	}
	b, _ := json.Marshal(out)
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
	return nil
}
