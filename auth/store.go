package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrSessionNotFound is returned by Store.GetSession when there is no such
// session, it has expired, or it belongs to another tenant: the three are
// indistinguishable to the caller so that a session id from one tenant tells
// nothing in another.
var ErrSessionNotFound = errors.New("auth: session not found")

// ErrStoreUnavailable wraps any failure to reach the backing store. Callers
// fail closed (503): a revocation that cannot be read must not be taken as "not
// revoked".
var ErrStoreUnavailable = errors.New("auth: session store unavailable")

// errInvalidTenant is returned for an empty tenant id or one containing a
// brace. Every key is scoped by a tenant, and an empty one would be a shared
// namespace; a brace would break the Redis hash tag and could make the keys of
// two tenants collide.
var errInvalidTenant = errors.New("auth: tenant id is empty or contains a brace")

// errSessionExpired is returned by PutSession for a record whose ExpiresAt has
// passed, which could only be stored with a zero or negative TTL.
var errSessionExpired = errors.New("auth: session already expired")

// errEmptyID is returned for an empty session id, jti, sid, subject or
// channel: storing it would revoke or find nothing.
var errEmptyID = errors.New("auth: empty id")

// errBadTTL is returned by SetNotBefore for a ttl that would forget the
// not-before at once, silently revoking nothing.
var errBadTTL = errors.New("auth: not-before ttl must be positive")

// errStoreClosed is returned by every Store method called after Close.
var errStoreClosed = fmt.Errorf("%w: store closed", ErrStoreUnavailable)

// RevocationQuery names what to check for one credential. TenantID is
// required; the other fields are checked only when not empty.
type RevocationQuery struct {
	TenantID string
	// JTI is the token's jti claim.
	JTI string
	// SID is the session id the token or cookie belongs to.
	SID string
	// Subject is the actor the credential was issued to, for its not-before.
	Subject string
}

// RevocationState is what Store.Check found for one RevocationQuery.
type RevocationState struct {
	// JTIRevoked and SIDRevoked report a revoked token id or session id.
	JTIRevoked, SIDRevoked bool
	// NotBefore is zero when none is set. Credentials of the subject issued
	// before it are revoked. It has millisecond precision.
	NotBefore time.Time
}

// Revoked reports whether a credential issued at issuedAt is revoked by s:
// its jti or sid is revoked, or it was issued before NotBefore. A JWT's iat
// has second precision, so a token issued later in the same second as a
// not-before is revoked too; that errs on the safe side.
func (s RevocationState) Revoked(issuedAt time.Time) bool {
	return s.JTIRevoked || s.SIDRevoked || (!s.NotBefore.IsZero() && issuedAt.Before(s.NotBefore))
}

// SessionRecord is what a cookie session stores. Data is opaque to the store.
type SessionRecord struct {
	TenantID  string
	Subject   string
	JTI       string
	SID       string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps sessions and revocations, and carries cache-invalidation
// messages between nodes. Every key is scoped by tenant id: what is stored for
// one tenant is never seen through another. All methods are safe for
// concurrent use, and every failure to reach the backing store is returned
// wrapped with ErrStoreUnavailable.
type Store interface {
	// Check reads the revocation state of one credential in one round trip
	// (Redis: a single MGET of the jti, sid and not-before keys), because it
	// runs on every authenticated request.
	Check(ctx context.Context, q RevocationQuery) (RevocationState, error)
	// RevokeJTI revokes the token id jti until until, the token's expiry plus
	// any leeway the verifier allows; after that the token is rejected for
	// having expired and the revocation is forgotten. An until in the past is
	// a no-op.
	RevokeJTI(ctx context.Context, tenantID, jti string, until time.Time) error
	// RevokeSID revokes the session id sid until until, as RevokeJTI does for
	// a token id.
	RevokeSID(ctx context.Context, tenantID, sid string, until time.Time) error
	// SetNotBefore records that credentials of subject issued before t are
	// revoked, for ttl (the longest token lifetime). It never moves an
	// existing not-before back, so concurrent logouts cannot undo each other.
	SetNotBefore(ctx context.Context, tenantID, subject string, t time.Time, ttl time.Duration) error
	// PutSession stores rec under id in rec.TenantID until rec.ExpiresAt,
	// replacing any session with that id. It returns an error if
	// rec.ExpiresAt has passed.
	PutSession(ctx context.Context, id string, rec SessionRecord) error
	// GetSession returns the session id of tenantID, or ErrSessionNotFound
	// when it is absent, has expired, or belongs to another tenant.
	GetSession(ctx context.Context, tenantID, id string) (SessionRecord, error)
	// GetSessionChecked returns a session together with the revocation state
	// of its JTI, SID and Subject, in one round trip (Redis: one script).
	GetSessionChecked(ctx context.Context, tenantID, id string) (SessionRecord, RevocationState, error)
	// DeleteSession removes the session id of tenantID. Deleting a missing
	// session is not an error.
	DeleteSession(ctx context.Context, tenantID, id string) error
	// Publish sends msg to every subscriber of channel (memory: in this
	// process only; Redis: on every node). Delivery is at most once: a
	// subscriber that is disconnected when msg is sent misses it.
	Publish(ctx context.Context, channel, msg string) error
	// Subscribe calls fn for every message on channel until the returned stop
	// func is called, one message at a time and in order. The subscription is
	// active when Subscribe returns, so a message published after that is
	// delivered; ctx bounds only that setup. After stop returns fn is not
	// called again; fn must therefore not call stop itself. stop is
	// idempotent.
	Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error)
	// Ping reports whether the backing store is reachable.
	Ping(ctx context.Context) error
	// Close stops background work and every subscription made through the
	// store. After Close every method returns an error wrapping
	// ErrStoreUnavailable. Close is idempotent.
	Close() error
}

var (
	_ Store = (*MemoryStore)(nil)
	_ Store = (*RedisStore)(nil)
)

// checkTenant validates a tenant id used to scope keys.
func checkTenant(tenantID string) error {
	if tenantID == "" || strings.ContainsAny(tenantID, "{}") {
		return errInvalidTenant
	}
	return nil
}
