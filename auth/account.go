package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
)

// Session and login lifetimes, each overridable per tenant (settings
// session_idle_seconds and absolute_lifetime_seconds). ASVS 7.3.1–7.3.2: an
// idle timeout and an absolute lifetime are both enforced.
const (
	defaultIdleTTL = 2 * time.Hour
	// touchEvery bounds the writes a busy session costs: its last-seen time
	// is stored again at most once per interval, so the idle timeout is
	// exact to within this interval.
	touchEvery = time.Minute
)

// absoluteTTL is the longest a login (auth_time) may be extended by refreshes
// or a cookie session.
func (s *Service) absoluteTTL(tn *ent.Tenant) time.Duration {
	if sec := setting(tn, "absolute_lifetime_seconds", 0); sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return s.cfg.AbsoluteTTL
}

// idleTTL is how long a cookie session may go unused.
func (s *Service) idleTTL(tn *ent.Tenant) time.Duration {
	if sec := setting(tn, "session_idle_seconds", 0); sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return s.cfg.IdleTTL
}

// loginExpired reports whether a login that began at authTime (unix seconds)
// is past the tenant's absolute lifetime.
func (s *Service) loginExpired(tn *ent.Tenant, authTime int64) bool {
	return authTime > 0 && s.now().Sub(time.Unix(authTime, 0)) > s.absoluteTTL(tn)
}

// touchSession enforces the idle timeout of a session and records its use.
// A session unused for longer than the idle timeout is deleted.
func (s *Service) touchSession(ctx context.Context, tn *ent.Tenant, id string, rec SessionRecord, d *sessionData) error {
	now := s.now()
	last := d.LastSeen
	if last.IsZero() {
		last = rec.CreatedAt
	}
	if now.Sub(last) > s.idleTTL(tn) {
		_ = s.store.DeleteSession(ctx, tn.ID, id)
		return ErrUnauthorized
	}
	if now.Sub(last) < touchEvery {
		return nil
	}
	d.LastSeen = now
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	rec.Data = data
	if err := s.store.PutSession(ctx, id, rec); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

// PasswordChange is a signed-in user's request to change their own password.
type PasswordChange struct {
	Current string
	New     string
}

// ChangePassword sets a new password for the caller's emailpass identity
// after checking the current one, and ends every other login of the
// identity. The caller's own login continues with the token returned (its
// cookie session, when it has one, is moved to that token). Wrong current
// passwords count towards the account's back-off like failed logins.
// Errors: not_allowed (API keys, no emailpass identity), invalid (wrong
// current password, password policy), rate_limited, unavailable.
func (s *Service) ChangePassword(ctx context.Context, ac *Context, in PasswordChange) (string, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return "", err
	}
	if ac == nil || ac.Claims == nil || ac.AuthIdentityID == "" {
		return "", gatehouse.Errorf(gatehouse.ENOTALLOWED, "Only a signed-in user can change their password")
	}
	audit.SetTarget(ctx, ac.ActorID)
	pi, err := s.db.ProviderIdentity.Query().Where(
		provideridentity.AuthIdentityID(ac.AuthIdentityID), provideridentity.Provider("emailpass"),
	).Only(ctx)
	if ent.IsNotFound(err) {
		return "", gatehouse.Errorf(gatehouse.ENOTALLOWED, "This account has no password to change")
	}
	if err != nil {
		return "", fmt.Errorf("change password: %w", err)
	}
	account := NormalizeEmail(pi.EntityID)
	if err := s.guardAddress(ctx, tn); err != nil {
		return "", err
	}
	if err := s.guardAccount(ctx, tn, account); err != nil {
		return "", err
	}
	if len(in.Current) > MaxPasswordBytes {
		s.accountFailed(ctx, tn, account)
		return "", errWrongCurrentPassword
	}
	ok, _, err := s.hasher.Verify(ctx, in.Current, passwordHash(pi))
	if err != nil && ctx.Err() != nil {
		return "", ctx.Err()
	}
	if !ok {
		s.accountFailed(ctx, tn, account)
		return "", errWrongCurrentPassword
	}
	if err := s.checkPasswordPolicy(tn, in.New); err != nil {
		return "", err
	}
	if err := s.setPassword(ctx, tn.ID, pi, in.New); err != nil {
		return "", err
	}
	// setPassword revoked every token issued so far, the caller's included;
	// the caller's login goes on with a fresh token of the same claims.
	c := *ac.Claims
	c.AppMetadata = copyMap(ac.Claims.AppMetadata)
	c.UserMetadata = copyMap(ac.Claims.UserMetadata)
	tok, err := s.tokens.IssueAccess(ctx, tn, &c, s.tokenTTL(tn))
	if err != nil {
		return "", err
	}
	if ac.SessionID != "" {
		if err := s.moveSession(ctx, tn, ac.SessionID, &c); err != nil {
			return "", err
		}
	}
	return tok, nil
}

var errWrongCurrentPassword = gatehouse.Errorf(gatehouse.EINVALID, "The current password is incorrect")

// moveSession points a cookie session at new claims (same login, new jti).
func (s *Service) moveSession(ctx context.Context, tn *ent.Tenant, id string, c *Claims) error {
	rec, err := s.store.GetSession(ctx, tn.ID, id)
	if err != nil {
		return storeUnavailable(err)
	}
	data, err := json.Marshal(sessionData{Claims: c, LastSeen: s.now()})
	if err != nil {
		return err
	}
	rec.JTI, rec.SID, rec.Subject, rec.Data = c.ID, c.SessionID, revocationSubject(c), data
	if c.ExpiresAt != nil && c.ExpiresAt.Time.Before(rec.ExpiresAt) {
		rec.ExpiresAt = c.ExpiresAt.Time
	}
	if err := s.store.PutSession(ctx, id, rec); err != nil {
		return storeUnavailable(err)
	}
	return nil
}
