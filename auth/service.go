package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/authidentity"
	"github.com/gatehousehq/gatehouse/ent/customer"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
	"github.com/gatehousehq/gatehouse/ent/user"
	"github.com/gatehousehq/gatehouse/seal"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Mailbox receives outbox events as they are committed. The development
// server writes them to a file only its user can read (cmd/gatehouse).
type Mailbox interface {
	Deliver(ctx context.Context, event string, data map[string]any)
}

// Config tunes the auth service.
type Config struct {
	TokenTTL    time.Duration // default access-token lifetime (1 day, like Medusa)
	SessionTTL  time.Duration // cookie session lifetime (10 h), never beyond its JWT
	AbsoluteTTL time.Duration // longest a login can be refreshed (30 days)
	IdleTTL     time.Duration // longest a cookie session may go unused (2 h)
	ResetTTL    time.Duration // password-reset token lifetime (15 min)
	InviteTTL   time.Duration // invite lifetime (7 days)
	MinPassword int           // default minimum password length (8)
	// Mailbox, when set (development), receives every committed outbox
	// event, tokens included; nothing logs them.
	Mailbox       Mailbox
	DefaultKeyAlg string
	// Now is the clock (time.Now); tests move it.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.TokenTTL <= 0 {
		c.TokenTTL = 24 * time.Hour
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 10 * time.Hour
	}
	if c.AbsoluteTTL <= 0 {
		c.AbsoluteTTL = 30 * 24 * time.Hour
	}
	if c.IdleTTL <= 0 {
		c.IdleTTL = defaultIdleTTL
	}
	if c.ResetTTL <= 0 {
		c.ResetTTL = 15 * time.Minute
	}
	if c.InviteTTL <= 0 {
		c.InviteTTL = 7 * 24 * time.Hour
	}
	if c.MinPassword <= 0 {
		c.MinPassword = 8
	}
}

// MaxPasswordBytes bounds passwords: long enough for any passphrase, short
// enough that hashing stays cheap to refuse.
const MaxPasswordBytes = 1024

// Service implements Medusa's auth flows for every tenant.
type Service struct {
	db      *ent.Client
	store   Store
	hasher  *Hasher
	keys    *Keys
	tokens  *Tokens
	apiKeys *APIKeys
	// throttle limits login, registration and reset attempts.
	throttle Throttle
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	// onInviteAccepted assigns an invite's roles (set by rbac wiring).
	onInviteAccepted func(ctx context.Context, u *ent.User, roles []string) error
	roles            RoleHooks
	// mfaKey encrypts TOTP seeds (SetMasterKey); MFA is refused without it.
	mfaBox *seal.Box
	// actors caches users and customers read by id (over a CachedStore only).
	actors *actorCache
	// detached bounds, and bg tracks, work done after a response (detach).
	detached chan struct{}
	bg       sync.WaitGroup
}

// NewService returns the auth service.
func NewService(db *ent.Client, store Store, hasher *Hasher, keys *Keys, tokens *Tokens, apiKeys *APIKeys, cfg Config, log *slog.Logger) *Service {
	cfg.defaults()
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, store: store, hasher: hasher, keys: keys, tokens: tokens, apiKeys: apiKeys, throttle: NewMemoryThrottle(), cfg: cfg, log: log, now: now,
		detached: make(chan struct{}, 64), actors: newActorCache(store)}
}

// Keys returns the key manager.
func (s *Service) Keys() *Keys { return s.keys }

// Tokens returns the token service.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Store returns the session and revocation store.
func (s *Service) Store() Store { return s.store }

// Errors shared by the flows, with Medusa's messages.
var (
	ErrInvalidCredentials = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Invalid email or password")
	ErrIdentityExists     = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Identity with email already exists")
	ErrUnauthorized       = &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED, Message: "Unauthorized"}
	errInvalidResetToken  = gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Invalid token")
)

func storeUnavailable(err error) error {
	return gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "Session store unavailable, try again shortly")
}

// NormalizeEmail lower-cases and trims an email (Gatehouse compares emails
// case-insensitively, unlike Medusa).
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// setting reads a tenant setting with a default.
func setting[T any](tn *ent.Tenant, key string, def T) T {
	if tn == nil || tn.Settings == nil {
		return def
	}
	v, ok := tn.Settings[key]
	if !ok {
		return def
	}
	switch d := any(def).(type) {
	case int:
		if f, ok := v.(float64); ok {
			return any(int(f)).(T)
		}
		if i, ok := v.(int); ok {
			return any(i).(T)
		}
		return any(d).(T)
	}
	if t, ok := v.(T); ok {
		return t
	}
	return def
}

func (s *Service) tokenTTL(tn *ent.Tenant) time.Duration {
	if sec := setting(tn, "jwt_ttl_seconds", 0); sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return s.cfg.TokenTTL
}

// CheckProvider applies the tenant's provider allow-list for an actor type
// (Medusa's authMethodsPerActor, default user: [emailpass]).
func (s *Service) CheckProvider(tn *ent.Tenant, actorType, provider string) error {
	allowed := map[string][]string{ActorUser: {"emailpass"}}
	if m, ok := tn.Settings["auth_methods_per_actor"].(map[string]any); ok {
		for actor, v := range m {
			list, _ := v.([]any)
			allowed[actor] = nil
			for _, p := range list {
				if ps, ok := p.(string); ok {
					allowed[actor] = append(allowed[actor], ps)
				}
			}
		}
	}
	if list, ok := allowed[actorType]; ok {
		found := false
		for _, p := range list {
			found = found || p == provider
		}
		if !found {
			return gatehouse.Errorf(gatehouse.ENOTALLOWED, "The actor type %s is not allowed to use the auth provider %s", actorType, provider)
		}
	}
	if provider != "emailpass" {
		return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Unable to retrieve the auth provider with id: %s\nPlease make sure that the provider is registered in the container and it is configured correctly in your project configuration file.", provider)
	}
	return nil
}

// Providers lists the providers an actor type may use.
func (s *Service) Providers(tn *ent.Tenant, actorType string) []string {
	if s.CheckProvider(tn, actorType, "emailpass") != nil {
		return []string{}
	}
	return []string{"emailpass"}
}

// Credentials are the emailpass login or register body. Fields are raw JSON
// values because Medusa answers "Password should be a string" for a number.
type Credentials struct {
	Email    any
	Password any
}

func (c Credentials) strings() (email, password string, err error) {
	pw, ok := c.Password.(string)
	if !ok {
		return "", "", gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Password should be a string")
	}
	em, ok := c.Email.(string)
	if !ok {
		return "", "", gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Email should be a string")
	}
	return NormalizeEmail(em), pw, nil
}

func (s *Service) checkPasswordPolicy(tn *ent.Tenant, pw string) error {
	min := setting(tn, "password_min_length", s.cfg.MinPassword)
	if len(pw) > MaxPasswordBytes {
		return gatehouse.Errorf(gatehouse.EINVALID, "Password must be at most %d bytes", MaxPasswordBytes)
	}
	if utf8.RuneCountInString(pw) < min {
		return gatehouse.Errorf(gatehouse.EINVALID, "Password must be at least %d characters", min)
	}
	if IsCommonPassword(pw) {
		return gatehouse.Errorf(gatehouse.EINVALID, "Password is too common: choose one that is not on lists of frequently used passwords")
	}
	return nil
}

// findEmailIdentity returns the emailpass provider identity of email with its
// auth identity, or nil.
func (s *Service) findEmailIdentity(ctx context.Context, db *ent.Client, email string) (*ent.ProviderIdentity, error) {
	pi, err := db.ProviderIdentity.Query().
		Where(provideridentity.Provider("emailpass"), provideridentity.EntityID(email)).
		WithAuthIdentity().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return pi, nil
}

func passwordHash(pi *ent.ProviderIdentity) string {
	h, _ := pi.ProviderMetadata["password"].(string)
	return h
}

// Login authenticates emailpass credentials and returns an access token for
// actorType (Medusa: the token's actor_id is "" when no actor of that type is
// linked yet). When the identity has MFA enabled the result carries a
// challenge and an actorless token instead. Errors: unauthorized (Medusa's
// messages), not_allowed.
func (s *Service) Login(ctx context.Context, tn *ent.Tenant, actorType, provider string, cred Credentials) (*LoginResult, error) {
	if err := s.CheckProvider(tn, actorType, provider); err != nil {
		return nil, err
	}
	email, pw, err := cred.strings()
	if err != nil {
		return nil, err
	}
	if err := s.guardAddress(ctx, tn); err != nil {
		return nil, err
	}
	if err := s.guardAccount(ctx, tn, email); err != nil {
		return nil, err
	}
	if len(pw) > MaxPasswordBytes {
		s.hasher.VerifyDummy(ctx, pw[:MaxPasswordBytes])
		s.accountFailed(ctx, tn, email)
		return nil, ErrInvalidCredentials
	}
	pi, err := s.findEmailIdentity(ctx, s.db, email)
	if err != nil {
		return nil, err
	}
	if pi == nil || pi.Edges.AuthIdentity == nil {
		// Equal work for unknown emails: no enumeration by timing, and the
		// same back-off, so throttling tells nothing either.
		s.hasher.VerifyDummy(ctx, pw)
		s.accountFailed(ctx, tn, email)
		return nil, ErrInvalidCredentials
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, passwordHash(pi))
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if !ok {
		s.accountFailed(ctx, tn, email)
		return nil, ErrInvalidCredentials
	}
	s.accountSucceeded(ctx, tn, email)
	loginActor(ctx, pi.Edges.AuthIdentity, actorType)
	if rehash {
		if h, err := s.hasher.Hash(ctx, pw); err == nil {
			meta := copyMap(pi.ProviderMetadata)
			meta["password"] = h
			_ = s.db.ProviderIdentity.UpdateOne(pi).SetProviderMetadata(meta).Exec(ctx)
		}
	}
	return s.issueFor(ctx, tn, pi.Edges.AuthIdentity, actorType, "emailpass", newJTI(), s.now().Unix())
}

// loginActor names the actor of a login in its audit entry: the actor of
// actorType linked to ai, else the identity.
func loginActor(ctx context.Context, ai *ent.AuthIdentity, actorType string) {
	audit.Annotate(ctx, func(e *audit.Entry) {
		e.ActorType, e.ActorID = actorType, ai.ID
		if id, _ := ai.AppMetadata[actorType+"_id"].(string); id != "" {
			e.ActorID = id
		}
	})
}

// issueFor issues an access token for identity ai acting as actorType, in
// login session sid, or an MFA challenge when the identity has MFA enabled.
func (s *Service) issueFor(ctx context.Context, tn *ent.Tenant, ai *ent.AuthIdentity, actorType, provider, sid string, authTime int64) (*LoginResult, error) {
	// Verification comes before MFA, as in Medusa.
	if v, pending, err := s.pendingVerification(ctx, tn, ai, actorType, provider); err != nil {
		return nil, err
	} else if pending {
		return s.verificationPending(ctx, tn, ai, actorType, provider, sid, authTime, v)
	}
	if mfa, err := s.hasEnabledFactor(ctx, ai.ID); err != nil {
		return nil, err
	} else if mfa {
		return s.mfaPending(ctx, tn, ai, actorType, provider, sid, authTime)
	}
	app := copyMap(ai.AppMetadata)
	actorID, _ := app[actorType+"_id"].(string)
	if err := s.setRoleClaim(ctx, app, actorType, actorID); err != nil {
		return nil, err
	}
	c := &Claims{
		ActorID:        actorID,
		ActorType:      actorType,
		AuthIdentityID: ai.ID,
		AuthProvider:   provider,
		AppMetadata:    app,
		UserMetadata:   map[string]any{},
		SessionID:      sid,
		AuthTime:       authTime,
	}
	tok, err := s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok}, nil
}

// Register creates an emailpass identity and returns an actorless token.
// Registering again an identity that has no actor yet, with the same
// password, answers again (Medusa). Errors: unauthorized, invalid (password
// policy), not_allowed.
func (s *Service) Register(ctx context.Context, tn *ent.Tenant, actorType, provider string, cred Credentials) (string, error) {
	if err := s.CheckProvider(tn, actorType, provider); err != nil {
		return "", err
	}
	email, pw, err := cred.strings()
	if err != nil {
		return "", err
	}
	if email == "" {
		return "", gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Email should be a string")
	}
	if err := s.guardAddress(ctx, tn); err != nil {
		return "", err
	}
	pi, err := s.findEmailIdentity(ctx, s.db, email)
	if err != nil {
		return "", err
	}
	if pi != nil {
		ai := pi.Edges.AuthIdentity
		ok, _, _ := s.hasher.Verify(ctx, pw, passwordHash(pi))
		if ai == nil || len(ai.AppMetadata) != 0 || !ok {
			return "", ErrIdentityExists
		}
		return s.registrationToken(ctx, tn, ai, actorType)
	}
	if err := s.checkPasswordPolicy(tn, pw); err != nil {
		return "", err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", err
	}
	ai, err := s.createIdentity(ctx, s.db, email, hash, nil)
	if err != nil {
		return "", err
	}
	return s.registrationToken(ctx, tn, ai, actorType)
}

func (s *Service) registrationToken(ctx context.Context, tn *ent.Tenant, ai *ent.AuthIdentity, actorType string) (string, error) {
	// A registration token never carries an actor, even when the identity is
	// linked to one of this type already.
	c := &Claims{
		ActorType:      actorType,
		AuthIdentityID: ai.ID,
		AuthProvider:   "emailpass",
		AppMetadata:    copyMap(ai.AppMetadata),
		SessionID:      newJTI(),
		AuthTime:       s.now().Unix(),
	}
	mfa, err := s.hasEnabledFactor(ctx, ai.ID)
	if err != nil {
		return "", err
	}
	c.MFAEnabled = mfa
	delete(c.AppMetadata, actorType+"_id")
	delete(c.AppMetadata, "roles")
	return s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
}

// createIdentity creates an auth identity with its emailpass credential.
func (s *Service) createIdentity(ctx context.Context, db *ent.Client, email, hash string, app map[string]any) (*ent.AuthIdentity, error) {
	if app == nil {
		app = map[string]any{}
	}
	tx, err := db.Tx(ctx)
	if err != nil {
		// db may already be a transaction's client.
		return createIdentityWith(ctx, db, email, hash, app)
	}
	ai, err := createIdentityWith(ctx, tx.Client(), email, hash, app)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	return ai, nil
}

func createIdentityWith(ctx context.Context, db *ent.Client, email, hash string, app map[string]any) (*ent.AuthIdentity, error) {
	ai, err := db.AuthIdentity.Create().SetAppMetadata(app).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	_, err = db.ProviderIdentity.Create().SetAuthIdentityID(ai.ID).SetProvider("emailpass").SetEntityID(email).
		SetProviderMetadata(map[string]any{"password": hash}).SetUserMetadata(map[string]any{}).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, ErrIdentityExists
	}
	if err != nil {
		return nil, fmt.Errorf("create provider identity: %w", err)
	}
	return ai, nil
}

// Refresh issues a fresh token for the caller, after checking that the
// identity (and its actor) still exist; revocation was checked when the
// caller authenticated. An actorless token whose identity has MFA enabled and
// that has not passed a challenge gets a new challenge instead (Medusa re-runs
// the MFA check). Errors: unauthorized.
func (s *Service) Refresh(ctx context.Context, tn *ent.Tenant, ac *Context) (*LoginResult, error) {
	if ac.AuthProvider == "" {
		return nil, gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "The auth provider is not set while refreshing token")
	}
	ai, err := s.db.AuthIdentity.Query().Where(authidentity.ID(ac.AuthIdentityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("refresh: %w", err)
	}
	if s.loginExpired(tn, ac.AuthTime) {
		return nil, ErrUnauthorized
	}
	if ac.ActorID == "" {
		if v, pending, err := s.pendingVerification(ctx, tn, ai, ac.ActorType, ac.AuthProvider); err != nil {
			return nil, err
		} else if pending {
			sid := ac.SID
			if sid == "" {
				sid = newJTI()
			}
			return s.verificationPending(ctx, tn, ai, ac.ActorType, ac.AuthProvider, sid, ac.AuthTime, v)
		}
	}
	if ac.ActorID == "" && ac.MFAChallengeCompletedAt == nil {
		if mfa, err := s.hasEnabledFactor(ctx, ai.ID); err != nil {
			return nil, err
		} else if mfa {
			sid := ac.SID
			if sid == "" {
				sid = newJTI()
			}
			return s.mfaPending(ctx, tn, ai, ac.ActorType, ac.AuthProvider, sid, ac.AuthTime)
		}
	}
	app := copyMap(ai.AppMetadata)
	actorID, _ := app[ac.ActorType+"_id"].(string)
	if actorID != "" {
		if exists, err := s.actorExists(ctx, ac.ActorType, actorID); err != nil {
			return nil, err
		} else if !exists {
			return nil, ErrUnauthorized
		}
	}
	c := &Claims{
		ActorID:                 actorID,
		ActorType:               ac.ActorType,
		AuthIdentityID:          ai.ID,
		AuthProvider:            ac.AuthProvider,
		AppMetadata:             app,
		UserMetadata:            copyMap(ac.UserMetadata),
		MFAEnabled:              ac.MFAEnabled,
		MFAChallengeCompletedAt: ac.MFAChallengeCompletedAt,
		SessionID:               ac.SID,
		AuthTime:                ac.AuthTime,
	}
	for k, v := range ac.AppMetadata {
		if _, ok := c.AppMetadata[k]; !ok && !strings.HasSuffix(k, "_id") {
			c.AppMetadata[k] = v
		}
	}
	if err := s.setRoleClaim(ctx, c.AppMetadata, ac.ActorType, actorID); err != nil {
		return nil, err
	}
	if c.SessionID == "" {
		c.SessionID = newJTI()
	}
	tok, err := s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok}, nil
}

func (s *Service) actorExists(ctx context.Context, actorType, id string) (bool, error) {
	switch actorType {
	case ActorUser:
		return s.db.User.Query().Where(user.ID(id)).Exist(ctx)
	case ActorCustomer:
		return s.db.Customer.Query().Where(customer.ID(id)).Exist(ctx)
	}
	return true, nil
}

// contextFromClaims turns verified claims into an auth context.
func contextFromClaims(c *Claims, method string) *Context {
	return &Context{
		TenantID:                c.TenantID,
		ActorID:                 c.ActorID,
		ActorType:               c.ActorType,
		AuthIdentityID:          c.AuthIdentityID,
		AuthProvider:            c.AuthProvider,
		AppMetadata:             c.AppMetadata,
		UserMetadata:            c.UserMetadata,
		MFAEnabled:              c.MFAEnabled,
		MFAChallengeCompletedAt: c.MFAChallengeCompletedAt,
		Method:                  method,
		JTI:                     c.ID,
		SID:                     c.SessionID,
		IssuedAt:                issuedAt(c.ID, c.IssuedAt),
		ExpiresAt:               c.ExpiresAt.Time,
		AuthTime:                c.AuthTime,
		Claims:                  c,
	}
}

// revocationSubject is the key of an identity's not-before time.
func revocationSubject(c *Claims) string {
	if c.AuthIdentityID != "" {
		return c.AuthIdentityID
	}
	return c.ActorID
}

func (s *Service) checkRevoked(ctx context.Context, c *Claims) error {
	st, err := s.store.Check(ctx, RevocationQuery{TenantID: c.TenantID, JTI: c.ID, SID: c.SessionID, Subject: revocationSubject(c)})
	if err != nil {
		return storeUnavailable(err)
	}
	if revoked(st, c) {
		return errRevoked
	}
	return nil
}

// revoked applies a revocation state to a token: its jti or login session is
// on the deny-list, or it was issued before its identity's not-before.
func revoked(st RevocationState, c *Claims) bool {
	return st.Revoked(issuedAt(c.ID, c.IssuedAt))
}

var errRevoked = &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED, Message: "Unauthorized", Err: errors.New("revoked")}

// IsRevoked reports whether err says a credential was revoked.
func IsRevoked(err error) bool { return errors.Is(err, errRevoked) }

// AuthenticateBearer verifies an access token and its revocation state.
// Errors: unauthenticated (invalid, expired, revoked), unavailable.
func (s *Service) AuthenticateBearer(ctx context.Context, tn *ent.Tenant, raw string) (*Context, error) {
	c, err := s.tokens.VerifyAccess(ctx, tn, raw)
	if err != nil {
		if errors.Is(err, ErrInvalidToken) {
			return nil, &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED, Message: "Unauthorized", Err: err}
		}
		return nil, err
	}
	if err := s.checkRevoked(ctx, c); err != nil {
		return nil, err
	}
	return contextFromClaims(c, MethodBearer), nil
}

// sessionData is what a cookie session stores: the claims of its JWT.
type sessionData struct {
	Claims *Claims `json:"claims"`
	// LastSeen is when the session was last used (to within touchEvery),
	// for the idle timeout; zero means its creation time.
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// CreateSession stores a cookie session for the caller's verified token and
// returns its opaque id (256 bits from the CSPRNG) and expiry, which never
// passes the token's.
func (s *Service) CreateSession(ctx context.Context, ac *Context) (string, time.Time, error) {
	if ac.Claims == nil {
		return "", time.Time{}, ErrUnauthorized
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	exp := s.now().Add(s.cfg.SessionTTL)
	if ac.ExpiresAt.Before(exp) {
		exp = ac.ExpiresAt
	}
	data, err := json.Marshal(sessionData{Claims: ac.Claims})
	if err != nil {
		return "", time.Time{}, err
	}
	rec := SessionRecord{TenantID: ac.TenantID, Subject: revocationSubject(ac.Claims), JTI: ac.JTI, SID: ac.SID,
		Data: data, CreatedAt: s.now(), ExpiresAt: exp}
	if err := s.store.PutSession(ctx, id, rec); err != nil {
		return "", time.Time{}, storeUnavailable(err)
	}
	return id, exp, nil
}

// AuthenticateSession loads a cookie session and checks the revocation state
// of the token it came from. Errors: unauthenticated, unavailable.
func (s *Service) AuthenticateSession(ctx context.Context, tn *ent.Tenant, id string) (*Context, error) {
	if id == "" || len(id) > 128 {
		return nil, ErrUnauthorized
	}
	rec, st, err := s.store.GetSessionChecked(ctx, tn.ID, id)
	if errors.Is(err, ErrSessionNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, storeUnavailable(err)
	}
	var d sessionData
	if err := json.Unmarshal(rec.Data, &d); err != nil || d.Claims == nil || d.Claims.TenantID != tn.ID {
		return nil, ErrUnauthorized
	}
	c := d.Claims
	// The state was read for the record's own jti, sid and subject; they must
	// be the token's, or the check would have looked at the wrong keys.
	if c.ID != rec.JTI || c.SessionID != rec.SID || revocationSubject(c) != rec.Subject {
		return nil, ErrUnauthorized
	}
	if c.ExpiresAt == nil || s.now().After(c.ExpiresAt.Time) {
		return nil, ErrUnauthorized
	}
	if revoked(st, c) {
		return nil, errRevoked
	}
	if s.loginExpired(tn, c.AuthTime) {
		return nil, ErrUnauthorized
	}
	if err := s.touchSession(ctx, tn, id, rec, &d); err != nil {
		return nil, err
	}
	ac := contextFromClaims(d.Claims, MethodSession)
	ac.SessionID = id
	return ac, nil
}

// DestroySession deletes the cookie session and revokes the login it came
// from: the JWT that created it, and every token refreshed from that login.
func (s *Service) DestroySession(ctx context.Context, ac *Context) error {
	if err := s.store.DeleteSession(ctx, ac.TenantID, ac.SessionID); err != nil {
		return storeUnavailable(err)
	}
	return s.revokeLogin(ctx, ac)
}

func (s *Service) revokeLogin(ctx context.Context, ac *Context) error {
	if ac.JTI != "" {
		if err := s.store.RevokeJTI(ctx, ac.TenantID, ac.JTI, ac.ExpiresAt.Add(Leeway)); err != nil {
			return storeUnavailable(err)
		}
	}
	if ac.SID != "" {
		if err := s.store.RevokeSID(ctx, ac.TenantID, ac.SID, s.now().Add(s.cfg.AbsoluteTTL)); err != nil {
			return storeUnavailable(err)
		}
	}
	return nil
}

// LogoutAll revokes every token and session of the caller's identity.
func (s *Service) LogoutAll(ctx context.Context, ac *Context) error {
	if ac.SessionID != "" {
		_ = s.store.DeleteSession(ctx, ac.TenantID, ac.SessionID)
	}
	return s.revokeIdentity(ctx, ac.TenantID, ac.AuthIdentityID)
}

// revokeIdentity revokes everything issued to an identity until now.
func (s *Service) revokeIdentity(ctx context.Context, tenantID, identityID string) error {
	if identityID == "" {
		return nil
	}
	// Token issue times have millisecond precision: revoke up to the next
	// millisecond boundary, and return only once it has passed, so every token
	// issued before this call is revoked and none issued after it.
	nbf := s.now().Truncate(time.Millisecond).Add(time.Millisecond)
	if err := s.store.SetNotBefore(ctx, tenantID, identityID, nbf, s.cfg.AbsoluteTTL); err != nil {
		return storeUnavailable(err)
	}
	if d := time.Until(nbf); d > 0 {
		time.Sleep(d)
	}
	return nil
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// tenantOf returns the tenant in ctx or fails closed.
func tenantOf(ctx context.Context) (*ent.Tenant, error) {
	tn, ok := tenants.FromContext(ctx)
	if !ok {
		return nil, tenants.ErrNoTenant
	}
	return tn, nil
}

// hashEqual compares two secrets (digests, token signatures) in constant time.
func hashEqual(a, b string) bool {
	// subtle.ConstantTimeCompare's loop, on strings: converting to []byte
	// would allocate for anything over 32 bytes, on every request.
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

// IsUnavailable reports whether err means a backing store is down (503),
// as opposed to a credential being refused.
func IsUnavailable(err error) bool {
	code := gatehouse.ErrorCode(err)
	return code == gatehouse.EUNAVAILABLE || code == gatehouse.EINTERNAL
}
