package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/oklog/ulid/v2"

	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Token types, carried in the JOSE "typ" header so that a reset or invite
// token can never pass as an access token (RFC 8725 §3.11).
const (
	TypeAccess = "at+jwt"
	TypeReset  = "reset+jwt"
	TypeInvite = "invite+jwt"
)

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// ErrInvalidToken is any token that does not verify; the reason is internal.
var ErrInvalidToken = errors.New("auth: invalid token")

// Claims are Medusa's token claims plus iss, aud, sub, tid, jti, sid and
// auth_time.
type Claims struct {
	ActorID                 string         `json:"actor_id"`
	ActorType               string         `json:"actor_type"`
	AuthIdentityID          string         `json:"auth_identity_id"`
	AuthProvider            string         `json:"auth_provider,omitempty"`
	AppMetadata             map[string]any `json:"app_metadata"`
	UserMetadata            map[string]any `json:"user_metadata"`
	MFAEnabled              bool           `json:"mfa_enabled"`
	MFAChallengeCompletedAt *string        `json:"mfa_challenge_completed_at"`
	TenantID                string         `json:"tid"`
	SessionID               string         `json:"sid,omitempty"`
	AuthTime                int64          `json:"auth_time,omitempty"`
	jwt.RegisteredClaims
}

// ResetClaims are a password-reset token's claims (Medusa's shape plus tid).
type ResetClaims struct {
	EntityID  string `json:"entity_id"`
	Provider  string `json:"provider"`
	ActorType string `json:"actor_type"`
	Purpose   string `json:"purpose"`
	TenantID  string `json:"tid"`
	jwt.RegisteredClaims
}

// InviteClaims are an invite token's claims.
type InviteClaims struct {
	InviteID string `json:"id"`
	Email    string `json:"email"`
	TenantID string `json:"tid"`
	jwt.RegisteredClaims
}

func (c *ResetClaims) tenant() string  { return c.TenantID }
func (c *InviteClaims) tenant() string { return c.TenantID }
func (c *Claims) tenant() string       { return c.TenantID }

type tenantClaims interface {
	jwt.Claims
	tenant() string
}

// Tokens issues and verifies JWTs with each tenant's keys. Verified access
// tokens are cached until they expire, so a repeated token costs a hash and a
// map lookup; revocation is checked separately on every request.
type Tokens struct {
	keys      *Keys
	publicURL string
	seed      maphash.Seed
	cache     *lru.Cache[uint64, verified]
	now       func() time.Time
}

// NewTokens returns a token service. publicURL is the externally visible base
// URL; a tenant's issuer is publicURL + "/t/" + slug.
func NewTokens(keys *Keys, publicURL string, cacheSize int) *Tokens {
	if cacheSize <= 0 {
		cacheSize = 100000
	}
	cache, _ := lru.New[uint64, verified](cacheSize)
	return &Tokens{keys: keys, publicURL: strings.TrimRight(publicURL, "/"), seed: maphash.MakeSeed(), cache: cache, now: time.Now}
}

// verified is a cached access token: its claims, under the token's keyed
// 64-bit hash (seeded per process, so hashes cannot be aimed at each other),
// and its signature segment, which a hit must match too. A colliding token
// would need that signature as well: the cache never answers for a token it
// did not verify, and it keeps no whole token. (It used to be keyed by
// SHA-256, a microsecond per request on CPUs without SHA extensions.)
type verified struct {
	claims *Claims
	sig    string
}

// signature is the third segment of a compact JWS ("" if malformed).
func signature(raw string) string {
	if i := strings.LastIndexByte(raw, '.'); i >= 0 {
		return raw[i+1:]
	}
	return ""
}

// Issuer is the iss of the tenant's tokens.
func (t *Tokens) Issuer(tn *ent.Tenant) string { return t.publicURL + "/t/" + tn.Slug }

func newJTI() string { return ulid.MustNew(ulid.Now(), rand.Reader).String() }

func newID(prefix string) string { return prefix + "_" + newJTI() }

// Sign signs claims of the given type with the active key of the tenant in ctx.
func (t *Tokens) Sign(ctx context.Context, typ string, claims jwt.Claims) (string, error) {
	s, err := t.keys.set(ctx)
	if err != nil {
		return "", err
	}
	tok := jwt.NewWithClaims(s.active.method, claims)
	tok.Header["kid"] = s.active.id
	tok.Header["typ"] = typ
	signed, err := tok.SignedString(s.active.private)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

// IssueAccess fills in the registered claims (iss, aud, sub, tid, jti, iat,
// exp) and signs an access token for tenant tn.
func (t *Tokens) IssueAccess(ctx context.Context, tn *ent.Tenant, c *Claims, ttl time.Duration) (string, error) {
	now := t.now()
	iss := t.Issuer(tn)
	c.TenantID = tn.ID
	if c.AppMetadata == nil {
		c.AppMetadata = map[string]any{}
	}
	if c.UserMetadata == nil {
		c.UserMetadata = map[string]any{}
	}
	sub := c.ActorID
	if sub == "" {
		sub = c.AuthIdentityID
	}
	c.RegisteredClaims = jwt.RegisteredClaims{
		Issuer:    iss,
		Subject:   sub,
		Audience:  jwt.ClaimStrings{iss},
		ID:        newJTI(),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	return t.Sign(ctx, TypeAccess, c)
}

func (t *Tokens) parser(iss string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{AlgEdDSA, AlgES256, AlgRS256, AlgHS256}),
		jwt.WithLeeway(Leeway),
		jwt.WithIssuer(iss),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
}

// verify checks signature, type, issuer, expiry and tenant of raw into dst.
// The key is chosen by kid among the tenant's own keys only, and must be of
// the algorithm the token claims: alg "none" and algorithm confusion (an HMAC
// over a public key) fail here, before any claim is trusted.
func (t *Tokens) verify(ctx context.Context, tn *ent.Tenant, raw, typ string, dst tenantClaims) error {
	if len(raw) > 8192 || strings.Count(raw, ".") != 2 {
		return ErrInvalidToken
	}
	kctx := tenants.WithTenant(ctx, tn.ID)
	_, err := t.parser(t.Issuer(tn)).ParseWithClaims(raw, dst, func(tok *jwt.Token) (any, error) {
		if h, _ := tok.Header["typ"].(string); h != typ {
			return nil, ErrInvalidToken
		}
		kid, _ := tok.Header["kid"].(string)
		k, err := t.keys.lookup(kctx, kid)
		if err != nil {
			return nil, err
		}
		if k.method.Alg() != tok.Method.Alg() {
			return nil, ErrInvalidToken
		}
		if k.verifyUntil != nil && t.now().After(*k.verifyUntil) {
			return nil, ErrInvalidToken
		}
		return k.public, nil
	})
	if err != nil {
		if errors.Is(err, tenants.ErrNoTenant) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if dst.tenant() != tn.ID {
		return fmt.Errorf("%w: tenant mismatch", ErrInvalidToken)
	}
	return nil
}

// VerifyAccess verifies an access token of tenant tn. A token verified before
// is answered from the cache until its expiry. The returned claims are shared:
// callers must not modify them.
func (t *Tokens) VerifyAccess(ctx context.Context, tn *ent.Tenant, raw string) (*Claims, error) {
	key, sig := maphash.String(t.seed, raw), signature(raw)
	if v, ok := t.cache.Get(key); ok {
		if c := v.claims; sig != "" && hashEqual(v.sig, sig) &&
			c.TenantID == tn.ID && t.now().Before(c.ExpiresAt.Add(Leeway)) {
			return c, nil
		}
		t.cache.Remove(key)
	}
	c := &Claims{}
	if err := t.verify(ctx, tn, raw, TypeAccess, c); err != nil {
		return nil, err
	}
	if c.ID == "" {
		return nil, fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	t.cache.Add(key, verified{claims: c, sig: strings.Clone(sig)})
	return c, nil
}

// VerifyReset verifies a password-reset token of tenant tn.
func (t *Tokens) VerifyReset(ctx context.Context, tn *ent.Tenant, raw string) (*ResetClaims, error) {
	c := &ResetClaims{}
	if err := t.verify(ctx, tn, raw, TypeReset, c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyInvite verifies an invite token of tenant tn.
func (t *Tokens) VerifyInvite(ctx context.Context, tn *ent.Tenant, raw string) (*InviteClaims, error) {
	c := &InviteClaims{}
	if err := t.verify(ctx, tn, raw, TypeInvite, c); err != nil {
		return nil, err
	}
	return c, nil
}

// issuedAt returns when a token was issued, to the millisecond: the jti is a
// ULID whose first 48 bits are its creation time. Whole-second iat would make
// a token issued in the same second as a logout-everywhere ambiguous.
func issuedAt(jti string, iat *jwt.NumericDate) time.Time {
	if id, err := ulid.ParseStrict(jti); err == nil {
		return ulid.Time(id.Time())
	}
	if iat != nil {
		return iat.Time
	}
	return time.Time{}
}
