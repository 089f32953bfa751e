package api

import (
	"encoding/base64"
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/observability"
	"github.com/gatehousehq/gatehouse/tenants"
)

// SessionCookie is Medusa's session cookie name.
const SessionCookie = "connect.sid"

func slogTenant(id string) slog.Attr { return slog.String("tenant_id", id) }

var errSecretAsBearer = &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED,
	Message: "A secret API key was passed as a Bearer token. Secret API keys must be sent using HTTP Basic authentication instead (Authorization: Basic <secret-api-key>)."}

var errMFARequired = &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED, Message: "MFA verification is required to complete this request"}

// secretKeyFrom extracts a secret key from Basic auth (raw sk_…, or base64 of
// sk_… or sk_…:) or the legacy x-medusa-access-token header.
func secretKeyFrom(c *gin.Context) string {
	if v := strings.TrimSpace(c.GetHeader("X-Medusa-Access-Token")); strings.HasPrefix(v, "sk_") {
		return v
	}
	return ParseBasicSecret(c.GetHeader("Authorization"))
}

// ParseBasicSecret returns the sk_ token of an "Authorization: Basic …"
// header, or "". Medusa accepts the raw token or base64 of "sk_…" / "sk_…:".
func ParseBasicSecret(h string) string {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "basic") || len(rest) > 512 {
		return ""
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "sk_") {
		dec, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return ""
		}
		rest = string(dec)
	}
	// "sk_…:" is Basic's user:password with an empty password; any other
	// colon means it is not a key.
	tok := strings.TrimSuffix(rest, ":")
	if !strings.HasPrefix(tok, "sk_") || strings.Contains(tok, ":") {
		return ""
	}
	return tok
}

// bearerFrom returns the token of an "Authorization: Bearer …" header.
func bearerFrom(c *gin.Context) string { return wire.BearerToken(c.GetHeader("Authorization")) }

func permits(actors []string, actorType string) bool {
	for _, a := range actors {
		if a == "*" || a == actorType {
			return true
		}
	}
	return false
}

// authenticateFor builds Medusa's authenticate middleware for spec: secret
// key, then session (which wins over Bearer), then Bearer; the MFA gate; then
// the actor rules. Every decision is one auth.check span. A store outage
// fails closed with 503, never as an anonymous pass.
func (s *Server) authenticateFor(spec wire.AuthSpec) gin.HandlerFunc {
	return func(c *gin.Context) {
		tn, _ := tenants.FromContext(c.Request.Context())
		ctx, check := s.deps.Telemetry.StartAuthCheck(c.Request.Context(), tn.ID, "none")
		c.Request = c.Request.WithContext(ctx)
		ac, err := s.authenticate(c, spec, check)
		if err != nil {
			reason := "invalid"
			decision := observability.Deny
			switch gatehouse.ErrorCode(err) {
			case gatehouse.EUNAVAILABLE, gatehouse.EINTERNAL:
				decision, reason = observability.Error, "unavailable"
			}
			if auth.IsRevoked(err) {
				reason = "revoked"
			}
			if gatehouse.ErrorCode(err) == gatehouse.ERATELIMITED {
				reason = "rate_limited"
			}
			check.End(ctx, decision, reason)
			wire.Render(c, err)
			return
		}
		if ac == nil {
			check.End(ctx, observability.Allow, "anonymous")
			c.Next()
			return
		}
		if check.Recording() {
			check.SetAttributes(attribute.String("auth.actor_type", ac.ActorType))
		}
		check.End(ctx, observability.Allow, "ok")
		c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), ac))
		c.Next()
	}
}

func (s *Server) authenticate(c *gin.Context, spec wire.AuthSpec, check *observability.AuthCheck) (*auth.Context, error) {
	ctx := c.Request.Context()
	tn, _ := tenants.FromContext(ctx)
	var ac *auth.Context
	var lastErr error
	note := func(err error) error {
		if err != nil && gatehouse.ErrorCode(err) != gatehouse.EUNAUTHENTICATED {
			return err // unavailable: fail closed
		}
		if err != nil {
			lastErr = err
		}
		return nil
	}

	if spec.APIKey && len(spec.Actors) == 1 && spec.Actors[0] == auth.ActorUser {
		if raw := secretKeyFrom(c); raw != "" {
			check.SetMethod(auth.MethodSecretKey)
			k, err := s.deps.Auth.AuthenticateSecretKey(ctx, tn, raw)
			if e := note(err); e != nil {
				return nil, e
			}
			if err == nil {
				return k, nil
			}
		}
	}
	if spec.Session {
		if sid, err := c.Cookie(SessionCookie); err == nil && sid != "" {
			check.SetMethod(auth.MethodSession)
			a, err := s.deps.Auth.AuthenticateSession(ctx, tn, sid)
			if e := note(err); e != nil {
				return nil, e
			}
			if err == nil && permits(spec.Actors, a.ActorType) {
				if err := checkCSRF(c, tn); err != nil {
					return nil, err
				}
				ac = a
			}
		}
	}
	bearer := bearerFrom(c)
	if ac == nil && spec.Bearer && bearer != "" && !strings.HasPrefix(bearer, "sk_") {
		check.SetMethod(auth.MethodBearer)
		a, err := s.deps.Auth.AuthenticateBearer(ctx, tn, bearer)
		if e := note(err); e != nil {
			return nil, e
		}
		if err == nil && permits(spec.Actors, a.ActorType) {
			ac = a
		}
	}
	if ac != nil {
		if !spec.SkipMFA && !spec.Optional && ac.MFAEnabled && ac.MFAChallengeCompletedAt == nil {
			return nil, errMFARequired
		}
		if ac.ActorID != "" {
			return ac, nil
		}
		if ac.AuthIdentityID != "" && spec.AllowUnregistered {
			return ac, nil
		}
	}
	if spec.Optional {
		return nil, nil
	}
	if spec.APIKey && strings.HasPrefix(bearer, "sk_") {
		return nil, errSecretAsBearer
	}
	if lastErr != nil {
		return nil, lastErr // "Unauthorized", with the reason kept for the span
	}
	return nil, wire.Unauthorized
}

var (
	errPKRequired = gatehouse.Errorf(gatehouse.ENOTALLOWED, "Publishable API key required in the request header: x-publishable-api-key. You can manage your keys in settings in the dashboard.")
	errPKInvalid  = gatehouse.Errorf(gatehouse.ENOTALLOWED, "A valid publishable key is required to proceed with the request")
)

// publishableKey requires a valid publishable key on every /store route and
// puts its sales channels in the request context.
func (s *Server) publishableKey() gin.HandlerFunc {
	return func(c *gin.Context) {
		tn, _ := tenants.FromContext(c.Request.Context())
		pk, err := s.checkPublishable(c, tn)
		if err != nil {
			wire.Render(c, err)
			return
		}
		c.Request = c.Request.WithContext(auth.NewPublishableContext(c.Request.Context(), pk))
		c.Next()
	}
}

// checkPublishable verifies the request's x-publishable-api-key as one
// auth.check: missing → Medusa's "required" 400, anything invalid (unknown,
// revoked, another tenant's, several values) → its "valid key" 400, a store
// outage → 503.
func (s *Server) checkPublishable(c *gin.Context, tn *ent.Tenant) (*auth.Publishable, error) {
	vals := c.Request.Header.Values("X-Publishable-Api-Key")
	if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
		return nil, errPKRequired
	}
	ctx, check := s.deps.Telemetry.StartAuthCheck(c.Request.Context(), tn.ID, auth.MethodPublishable)
	if len(vals) > 1 || strings.Contains(vals[0], ",") {
		check.End(ctx, observability.Deny, "invalid")
		return nil, errPKInvalid
	}
	pk, err := s.deps.Auth.AuthenticatePublishableKey(ctx, tn, strings.TrimSpace(vals[0]))
	if err != nil {
		if auth.IsUnavailable(err) {
			check.End(ctx, observability.Error, "unavailable")
			return nil, err
		}
		if gatehouse.ErrorCode(err) == gatehouse.ERATELIMITED {
			check.End(ctx, observability.Deny, "rate_limited")
			return nil, err
		}
		check.End(ctx, observability.Deny, "invalid")
		return nil, errPKInvalid
	}
	check.End(ctx, observability.Allow, "ok")
	return pk, nil
}
