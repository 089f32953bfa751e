// Package authroutes serves Medusa's /auth routes of a tenant: emailpass
// login and registration, token refresh, cookie sessions, password reset, and
// Gatehouse's logout-everywhere.
package authroutes

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/tenants"
)

// SessionCookie is Medusa's session cookie name.
const SessionCookie = "connect.sid"

// Deps are what the auth routes need.
type Deps struct {
	Auth          *auth.Service
	Telemetry     *observability.Telemetry
	SecureCookies bool
	// Authenticate builds the authentication middleware for a route.
	Authenticate func(wire.AuthSpec) gin.HandlerFunc
}

type handlers struct{ Deps }

// Register mounts the /auth routes on g (already tenant-scoped).
func Register(g *gin.RouterGroup, d Deps) {
	h := handlers{d}
	anyActor := []string{"*"}
	bearerOnly := d.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, AllowUnregistered: true, SkipMFA: true})
	sessionOnly := d.Authenticate(wire.AuthSpec{Actors: anyActor, Session: true, AllowUnregistered: true, SkipMFA: true})
	either := d.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, Session: true, AllowUnregistered: true, SkipMFA: true})

	g.POST("/session", bearerOnly, wire.H(h.createSession))
	g.DELETE("/session", sessionOnly, wire.H(h.destroySession))
	g.POST("/token/refresh", either, wire.H(h.refresh))
	g.POST("/logout-all", either, wire.H(h.logoutAll))
	secretKey := d.Authenticate(wire.AuthSpec{Actors: []string{auth.ActorUser}, APIKey: true})
	g.POST("/introspect", secretKey, wire.H(h.introspect))
	registerMFA(g, h)
	registerVerification(g, h)

	g.GET("/:actor_type/providers", wire.H(h.providers))
	g.POST("/:actor_type/:provider", wire.H(h.login))
	g.GET("/:actor_type/:provider", wire.H(h.login))
	g.GET("/:actor_type/:provider/callback", wire.H(h.callback))
	g.POST("/:actor_type/:provider/callback", wire.H(h.callback))
	// Medusa's POST /auth/{provider}/user; the static segment wins over
	// login's /{actor_type}/{provider}, as in Medusa's router.
	newUser := d.Authenticate(wire.AuthSpec{Actors: []string{auth.ActorUser}, Bearer: true, AllowUnregistered: true})
	g.POST("/:actor_type/user", newUser, wire.H(h.provisionUser))
	g.POST("/:actor_type/:provider/register", wire.H(h.register))
	g.POST("/:actor_type/:provider/reset-password", wire.H(h.requestReset))
	g.POST("/:actor_type/:provider/update", wire.H(h.updateProvider))
}

func tenantOf(c *gin.Context) *ent.Tenant {
	tn, _ := tenants.FromContext(c.Request.Context())
	return tn
}

// credentialsBody reads login/register bodies loosely, as Medusa does (no
// schema: unknown fields are ignored, and a non-string password is answered
// "Password should be a string").
func credentialsBody(c *gin.Context) (auth.Credentials, error) {
	var raw map[string]any
	if c.Request.Body != nil && c.Request.ContentLength != 0 {
		r := http.MaxBytesReader(c.Writer, c.Request.Body, wire.MaxBody)
		dec := json.NewDecoder(r)
		if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return auth.Credentials{}, gatehouse.Errorf(gatehouse.ETOOLARGE, "Request body too large (at most %d bytes)", wire.MaxBody)
			}
			return auth.Credentials{}, gatehouse.Errorf(gatehouse.EINVALID, "Invalid JSON in request body")
		}
	}
	return auth.Credentials{Email: raw["email"], Password: raw["password"]}, nil
}

func (h handlers) login(c *gin.Context) error {
	cred, err := credentialsBody(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	res, err := h.Auth.Login(ctx, tenantOf(c), c.Param("actor_type"), c.Param("provider"), cred)
	if err != nil {
		h.Telemetry.Metrics.Login(ctx, "failure")
		return err
	}
	h.Telemetry.Metrics.Login(ctx, "success")
	c.JSON(http.StatusOK, loginJSON(res))
	return nil
}

// callback is the second leg of an OAuth login. emailpass, the one provider,
// has none: Medusa's module answers 401 with the provider's error, after the
// same allow-list as login (an unregistered provider: its 401).
func (h handlers) callback(c *gin.Context) error {
	provider := c.Param("provider")
	if err := h.Auth.CheckProvider(tenantOf(c), c.Param("actor_type"), provider); err != nil {
		return err
	}
	return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Callback authentication not implemented for provider %s", provider)
}

// provisionUser is Medusa's POST /auth/{provider}/user: a registration token
// of an OAuth identity creates (or links) an admin user from the identity's
// email. An emailpass identity carries no such email (user_metadata), so
// with emailpass, the one provider, it ends in Medusa's 400s.
func (h handlers) provisionUser(c *gin.Context) error {
	provider := c.Param("actor_type") // the route is /auth/{provider}/user
	if err := h.Auth.CheckProvider(tenantOf(c), auth.ActorUser, provider); err != nil {
		return err
	}
	if ac, ok := auth.FromContext(c.Request.Context()); ok && ac.ActorID != "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "The user is already registered and cannot create a new account.")
	}
	return gatehouse.Errorf(gatehouse.EINVALID, "Email is required to create a user account.")
}

func (h handlers) register(c *gin.Context) error {
	cred, err := credentialsBody(c)
	if err != nil {
		return err
	}
	tok, err := h.Auth.Register(c.Request.Context(), tenantOf(c), c.Param("actor_type"), c.Param("provider"), cred)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"token": tok})
	return nil
}

type providerJSON struct {
	ID          string `json:"id"`
	Identifier  string `json:"identifier"`
	DisplayName string `json:"display_name"`
	Flow        string `json:"flow"`
}

func (h handlers) providers(c *gin.Context) error {
	out := []providerJSON{}
	for _, p := range h.Auth.Providers(tenantOf(c), c.Param("actor_type")) {
		if p == "emailpass" {
			out = append(out, providerJSON{ID: p, Identifier: p, DisplayName: "Email/Password Authentication", Flow: "credentials"})
		}
	}
	c.JSON(http.StatusOK, gin.H{"providers": out})
	return nil
}

func (h handlers) createSession(c *gin.Context) error {
	ac, _ := auth.FromContext(c.Request.Context())
	id, exp, err := h.Auth.CreateSession(c.Request.Context(), ac)
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: id, Path: "/", Expires: exp,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	c.JSON(http.StatusOK, gin.H{"user": claimsJSON(ac.Claims)})
	return nil
}

func (h handlers) destroySession(c *gin.Context) error {
	ac, _ := auth.FromContext(c.Request.Context())
	if err := h.Auth.DestroySession(c.Request.Context(), ac); err != nil {
		return err
	}
	clearCookie(c, h.SecureCookies)
	c.JSON(http.StatusOK, gin.H{"success": true})
	return nil
}

func clearCookie(c *gin.Context, secure bool) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h handlers) refresh(c *gin.Context) error {
	ac, _ := auth.FromContext(c.Request.Context())
	res, err := h.Auth.Refresh(c.Request.Context(), tenantOf(c), ac)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, loginJSON(res))
	return nil
}

func (h handlers) logoutAll(c *gin.Context) error {
	ac, _ := auth.FromContext(c.Request.Context())
	if err := h.Auth.LogoutAll(c.Request.Context(), ac); err != nil {
		return err
	}
	if ac.Method == auth.MethodSession {
		clearCookie(c, h.SecureCookies)
	}
	c.JSON(http.StatusOK, gin.H{"success": true})
	return nil
}

type resetRequest struct {
	Identifier *string        `json:"identifier"`
	Metadata   map[string]any `json:"metadata"`
}

func (r *resetRequest) Validate() error {
	if r.Identifier == nil {
		return wire.Invalid("Field 'identifier' is required")
	}
	return nil
}

// requestReset always answers 201, for known and unknown identifiers alike.
func (h handlers) requestReset(c *gin.Context) error {
	var in resetRequest
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	if err := h.Auth.RequestPasswordReset(c.Request.Context(), tenantOf(c), c.Param("actor_type"), c.Param("provider"), *in.Identifier, in.Metadata); err != nil {
		switch gatehouse.ErrorCode(err) {
		case gatehouse.EUNAVAILABLE, gatehouse.EINTERNAL, gatehouse.ENOTALLOWED, gatehouse.ERATELIMITED:
			return err
		}
	}
	c.String(http.StatusCreated, "Created")
	return nil
}

func (h handlers) updateProvider(c *gin.Context) error {
	var raw map[string]any
	if c.Request.ContentLength != 0 && c.Request.Body != nil {
		_ = json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, wire.MaxBody)).Decode(&raw)
	}
	token := wire.BearerToken(c.GetHeader("Authorization"))
	if err := h.Auth.UpdatePassword(c.Request.Context(), tenantOf(c), c.Param("actor_type"), c.Param("provider"), token, raw["password"]); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"success": true})
	return nil
}
