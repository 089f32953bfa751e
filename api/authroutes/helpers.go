package authroutes

import (
	"github.com/gatehousehq/gatehouse/auth"
)

// claimsJSON renders a token's claims as Medusa's POST /auth/session body.
func claimsJSON(c *auth.Claims) map[string]any {
	if c == nil {
		return map[string]any{}
	}
	out := map[string]any{
		"actor_id":                   c.ActorID,
		"actor_type":                 c.ActorType,
		"auth_identity_id":           c.AuthIdentityID,
		"app_metadata":               c.AppMetadata,
		"user_metadata":              c.UserMetadata,
		"mfa_enabled":                c.MFAEnabled,
		"mfa_challenge_completed_at": c.MFAChallengeCompletedAt,
	}
	if c.AuthProvider != "" {
		out["auth_provider"] = c.AuthProvider
	}
	if c.IssuedAt != nil {
		out["iat"] = c.IssuedAt.Unix()
	}
	if c.ExpiresAt != nil {
		out["exp"] = c.ExpiresAt.Unix()
	}
	return out
}
