package auth

import (
	"context"
	"time"
)

// Methods by which a request authenticated.
const (
	MethodBearer      = "bearer"
	MethodSession     = "session"
	MethodSecretKey   = "secret_key"
	MethodPublishable = "publishable_key"
)

// Actor types.
const (
	ActorUser     = "user"
	ActorCustomer = "customer"
	ActorAPIKey   = "api-key"
)

// Context is the authenticated caller of a request: Medusa's auth_context
// plus where it came from.
type Context struct {
	TenantID       string
	ActorID        string
	ActorType      string
	AuthIdentityID string
	AuthProvider   string
	AppMetadata    map[string]any
	UserMetadata   map[string]any
	MFAEnabled     bool
	// MFAChallengeCompletedAt is nil until an MFA challenge was passed.
	MFAChallengeCompletedAt *string

	Method    string
	JTI       string // id of the JWT (bearer, or the one a session came from)
	SID       string // login session: every token refreshed from one login shares it
	SessionID string // cookie session id, for DELETE /auth/session
	IssuedAt  time.Time
	ExpiresAt time.Time
	AuthTime  int64
	// Claims is the verified token, for session creation and refresh.
	Claims *Claims
	// KeyCreatedBy is the creator of a secret key (Medusa's secret_key_context).
	KeyCreatedBy string
	// SalesChannels limits a partner secret key when ChannelLimited.
	SalesChannels  []string
	ChannelLimited bool
}

type contextKey struct{}

// NewContext returns ctx carrying ac.
func NewContext(ctx context.Context, ac *Context) context.Context {
	return context.WithValue(ctx, contextKey{}, ac)
}

// FromContext returns the authenticated caller, if any.
func FromContext(ctx context.Context) (*Context, bool) {
	ac, ok := ctx.Value(contextKey{}).(*Context)
	return ac, ok && ac != nil
}
