package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/passwordresettoken"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
)

// emit writes an event to the outbox, in tx when it is not nil (delivered by
// the webhooks dispatcher once committed). Events carry tokens (invites,
// resets, verification codes), so they are never logged: in development the
// Mailbox receives each one after its transaction commits, so a developer
// can follow a reset or an invite without a mail server.
func (s *Service) emit(ctx context.Context, tx *ent.Tx, name string, data map[string]any) error {
	db := s.db
	if tx != nil {
		db = tx.Client()
	}
	if _, err := db.Event.Create().SetName(name).SetData(data).Save(ctx); err != nil {
		return fmt.Errorf("emit %s: %w", name, err)
	}
	mb := s.cfg.Mailbox
	switch {
	case mb == nil:
	case tx == nil:
		mb.Deliver(ctx, name, data)
	default:
		// Only what is committed: a rolled-back invite has no token to use.
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(c context.Context, tx *ent.Tx) error {
				if err := next.Commit(c, tx); err != nil {
					return err
				}
				mb.Deliver(ctx, name, data)
				return nil
			})
		})
	}
	return nil
}

// RequestPasswordReset issues a single-use reset token for identifier and
// emits auth.password_reset with it. Unknown identifiers do nothing, and the
// caller answers 201 either way (no enumeration).
func (s *Service) RequestPasswordReset(ctx context.Context, tn *ent.Tenant, actorType, provider, identifier string, metadata map[string]any) error {
	if err := s.CheckProvider(tn, actorType, provider); err != nil {
		// A provider the actor may not use is Medusa's 400; an unregistered
		// one is swallowed like an unknown identifier.
		if gatehouse.ErrorCode(err) == gatehouse.ENOTALLOWED {
			return err
		}
		return nil
	}
	if err := s.guardAddress(ctx, tn); err != nil {
		return err
	}
	if err := s.guardResets(ctx, tn, NormalizeEmail(identifier)); err != nil {
		return err
	}
	// The lookup and the token (a signature, a transaction, an event) run
	// after the caller has its answer, on the same path for known and
	// unknown identifiers: the response time tells nothing about the
	// account. Drain waits for them at shutdown.
	return s.detach(ctx, func(ctx context.Context) error {
		_, err := s.resetToken(ctx, tn, actorType, provider, NormalizeEmail(identifier), metadata)
		return err
	})
}

// detachTimeout bounds work that runs after its request has been answered.
const detachTimeout = 30 * time.Second

// detach runs fn in the background with ctx's values but not its
// cancellation. At most cap(s.detached) run at once; past that the caller
// waits for a slot, known and unknown identifiers alike.
func (s *Service) detach(ctx context.Context, fn func(context.Context) error) error {
	select {
	case s.detached <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.bg.Add(1)
	go func() {
		defer func() { <-s.detached; s.bg.Done() }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachTimeout)
		defer cancel()
		if err := fn(ctx); err != nil && s.log != nil {
			s.log.ErrorContext(ctx, "background auth work failed", slog.String("error", err.Error()))
		}
	}()
	return nil
}

// Drain waits for background work (password-reset tokens) to finish, or
// for ctx to end.
func (s *Service) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// resetToken makes a reset token for an existing identity, replacing any
// earlier one. It returns "" when the identity does not exist.
func (s *Service) resetToken(ctx context.Context, tn *ent.Tenant, actorType, provider, entityID string, metadata map[string]any) (string, error) {
	exists, err := s.db.ProviderIdentity.Query().
		Where(provideridentity.Provider(provider), provideridentity.EntityID(entityID)).Exist(ctx)
	if err != nil {
		return "", fmt.Errorf("reset: %w", err)
	}
	if !exists {
		return "", nil
	}
	now := s.now()
	jti := newJTI()
	iss := s.tokens.Issuer(tn)
	tok, err := s.tokens.Sign(ctx, TypeReset, &ResetClaims{
		EntityID: entityID, Provider: provider, ActorType: actorType, Purpose: "reset", TenantID: tn.ID,
		RegisteredClaims: jwt.RegisteredClaims{Issuer: iss, Audience: jwt.ClaimStrings{iss}, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.ResetTTL))},
	})
	if err != nil {
		return "", err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return "", err
	}
	if _, err := tx.PasswordResetToken.Delete().Where(passwordresettoken.Provider(provider), passwordresettoken.EntityID(entityID)).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return "", fmt.Errorf("reset: %w", err)
	}
	if _, err := tx.PasswordResetToken.Create().SetTokenHash(sha256Hex(jti)).SetEntityID(entityID).SetProvider(provider).
		SetActorType(actorType).SetExpiresAt(now.Add(s.cfg.ResetTTL)).Save(ctx); err != nil {
		_ = tx.Rollback()
		return "", fmt.Errorf("reset: %w", err)
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	if err := s.emit(ctx, tx, "auth.password_reset", map[string]any{
		"entity_id": entityID, "actor_type": actorType, "token": tok, "metadata": metadata,
	}); err != nil {
		_ = tx.Rollback()
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return tok, nil
}

// UpdatePassword sets a new password with a reset token, which it consumes,
// and revokes every token and session the identity had. Any problem with the
// token is 401 "Invalid token". A missing or non-string password consumes the
// token and changes nothing (Medusa).
func (s *Service) UpdatePassword(ctx context.Context, tn *ent.Tenant, actorType, provider, raw string, password any) error {
	if err := s.CheckProvider(tn, actorType, provider); err != nil && gatehouse.ErrorCode(err) == gatehouse.ENOTALLOWED {
		return err
	}
	if raw == "" {
		return errInvalidResetToken
	}
	c, err := s.tokens.VerifyReset(ctx, tn, raw)
	if err != nil || c.ActorType != actorType || c.Purpose != "reset" || c.EntityID == "" || c.ID == "" || c.Provider != provider {
		return errInvalidResetToken
	}
	pw, isString := password.(string)
	if isString {
		if err := s.checkPasswordPolicy(tn, pw); err != nil {
			return err
		}
	}
	// Consume first: a token is good for one update even under races.
	n, err := s.db.PasswordResetToken.Delete().Where(
		passwordresettoken.TokenHash(sha256Hex(c.ID)),
		passwordresettoken.Provider(provider),
		passwordresettoken.EntityID(c.EntityID),
		passwordresettoken.ExpiresAtGT(s.now()),
	).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update password: %w", err)
	}
	if n != 1 {
		return errInvalidResetToken
	}
	pi, err := s.db.ProviderIdentity.Query().
		Where(provideridentity.Provider(provider), provideridentity.EntityID(c.EntityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return errInvalidResetToken
	}
	if err != nil {
		return fmt.Errorf("update password: %w", err)
	}
	if !isString {
		return nil
	}
	return s.setPassword(ctx, tn.ID, pi, pw)
}

func (s *Service) setPassword(ctx context.Context, tenantID string, pi *ent.ProviderIdentity, pw string) error {
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	meta := copyMap(pi.ProviderMetadata)
	meta["password"] = hash
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := tx.ProviderIdentity.UpdateOne(pi).SetProviderMetadata(meta).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("set password: %w", err)
	}
	// The notification a merchant sends its user ("your password was
	// changed"), delivered by webhooks.
	if err := s.emit(ctx, tx, "auth.password_changed", map[string]any{
		"auth_identity_id": pi.AuthIdentityID, "entity_id": pi.EntityID, "provider": pi.Provider,
	}); err != nil {
		_ = tx.Rollback()
		return err
	}
	audit.Annotate(ctx, func(e *audit.Entry) { // a reset completes without a signed-in actor
		if e.ActorID == "" {
			e.ActorID = pi.AuthIdentityID
		}
	})
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	// A new password ends every earlier login (Medusa leaves them valid).
	return s.revokeIdentity(ctx, tenantID, pi.AuthIdentityID)
}
