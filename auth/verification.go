package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/authverification"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
)

// Email verification (Medusa 2.16+, contract 2.12). A tenant requires it per
// actor type with the setting auth_verifications_per_actor, Medusa's
// http.authVerificationsPerActor: {"customer": [{"auth_provider":
// "emailpass", "entity_type": "email"}]}. Codes go out through the outbox
// (auth.verification_requested); only their SHA-256 is stored.

// VerificationTTL is how long a verification code is valid (Medusa: 900 s).
const VerificationTTL = 15 * time.Minute

const (
	verificationCodeBytes       = 32
	defaultVerificationsPerHour = 10 // verification requests per identity per hour
)

// VerificationView is the wire form of an auth verification (never its code).
type VerificationView struct {
	ID             string         `json:"id"`
	AuthIdentityID string         `json:"auth_identity_id"`
	EntityID       string         `json:"entity_id"`
	EntityType     string         `json:"entity_type"`
	CodeProvider   string         `json:"code_provider"`
	VerifiedAt     *time.Time     `json:"verified_at"`
	RequestedAt    time.Time      `json:"requested_at"`
	Metadata       map[string]any `json:"metadata"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	DeletedAt      *time.Time     `json:"deleted_at"`
}

func verificationView(v *ent.AuthVerification) *VerificationView {
	return &VerificationView{ID: v.ID, AuthIdentityID: v.AuthIdentityID, EntityID: v.EntityID, EntityType: v.EntityType,
		CodeProvider: v.CodeProvider, VerifiedAt: v.VerifiedAt, RequestedAt: v.RequestedAt, Metadata: v.Metadata,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

// VerificationRequest asks for a code proving control of an entity.
type VerificationRequest struct {
	EntityID     string
	EntityType   string
	CodeProvider string
	Metadata     map[string]any
}

// VerificationResult is what a confirmed code proves.
type VerificationResult struct {
	EntityID     string    `json:"entity_id"`
	EntityType   string    `json:"entity_type"`
	CodeProvider string    `json:"code_provider"`
	VerifiedAt   time.Time `json:"verified_at"`
}

var (
	errVerificationInvalid = gatehouse.Errorf(gatehouse.ENOTALLOWED, "Verification code is invalid or already used")
	errVerificationExpired = gatehouse.Errorf(gatehouse.ENOTALLOWED, "Verification code has expired")
)

// RequestVerification creates or refreshes the caller's verification of an
// entity and emits auth.verification_requested with a new code. An entity
// already verified is returned as it is, with no new code. Requests are
// limited per client address and per identity. Errors: invalid,
// not_allowed, rate_limited.
func (s *Service) RequestVerification(ctx context.Context, ac *Context, in VerificationRequest) (*VerificationView, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if ac == nil || ac.AuthIdentityID == "" {
		return nil, ErrUnauthorized
	}
	if in.CodeProvider == "" {
		in.CodeProvider = "token"
	}
	if in.CodeProvider != "token" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Unknown verification code provider %q", in.CodeProvider)
	}
	if in.Metadata == nil {
		in.Metadata = map[string]any{}
	}
	if err := s.guardAddress(ctx, tn); err != nil {
		return nil, err
	}
	l := Limit{Rate: setting(tn, "verifications_per_hour", defaultVerificationsPerHour), Burst: setting(tn, "verifications_per_hour", defaultVerificationsPerHour), Period: time.Hour}
	if after, err := s.throttle.Allow(ctx, "verify:"+tn.ID+":"+ac.AuthIdentityID, l); err != nil {
		return nil, storeUnavailable(err)
	} else if after > 0 {
		return nil, rateLimited(after)
	}
	b := make([]byte, verificationCodeBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	now := s.now().UTC()

	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("request verification: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	v, err := tx.AuthVerification.Query().Where(
		authverification.AuthIdentityID(ac.AuthIdentityID),
		authverification.EntityID(in.EntityID),
		authverification.EntityType(in.EntityType),
	).Only(ctx)
	switch {
	case err == nil && v.VerifiedAt != nil:
		return verificationView(v), nil
	case err == nil:
		v, err = tx.AuthVerification.UpdateOne(v).SetCodeHash(sha256Hex(code)).SetCodeProvider(in.CodeProvider).
			SetRequestedAt(now).SetMetadata(in.Metadata).Save(ctx)
	case ent.IsNotFound(err):
		v, err = tx.AuthVerification.Create().SetAuthIdentityID(ac.AuthIdentityID).SetEntityID(in.EntityID).
			SetEntityType(in.EntityType).SetCodeProvider(in.CodeProvider).SetCodeHash(sha256Hex(code)).
			SetRequestedAt(now).SetMetadata(in.Metadata).Save(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("request verification: %w", err)
	}
	if err := s.emit(ctx, tx, "auth.verification_requested", map[string]any{
		"entity_id": in.EntityID, "entity_type": in.EntityType, "code_provider": in.CodeProvider,
		"auth_identity_id": ac.AuthIdentityID, "code": code, "expires_at": now.Add(VerificationTTL).Format(time.RFC3339Nano),
		"metadata": in.Metadata,
	}); err != nil {
		return nil, err
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("request verification: %w", err)
	}
	return verificationView(v), nil
}

// ConfirmVerification marks the verification the code belongs to verified.
// The code alone identifies it (Medusa: the caller's identity is not
// compared); it is good once. Attempts spend the client address's auth
// budget. Errors: not_allowed (Medusa's messages), rate_limited.
func (s *Service) ConfirmVerification(ctx context.Context, code, provider string) (*VerificationResult, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.guardAddress(ctx, tn); err != nil {
		return nil, err
	}
	if len(code) > 256 {
		return nil, errVerificationInvalid
	}
	hash := sha256Hex(code)
	v, err := s.db.AuthVerification.Query().Where(authverification.CodeHash(hash)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errVerificationInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("confirm verification: %w", err)
	}
	if v.VerifiedAt != nil {
		return nil, errVerificationInvalid
	}
	if provider != "" && provider != v.CodeProvider {
		return nil, gatehouse.Errorf(gatehouse.ENOTALLOWED, "Verification code does not belong to provider %q", provider)
	}
	now := s.now().UTC()
	if now.After(v.RequestedAt.Add(VerificationTTL)) {
		return nil, errVerificationExpired
	}
	// Conditional on the code still being there: two confirmations of one
	// code cannot both succeed.
	n, err := s.db.AuthVerification.Update().Where(
		authverification.ID(v.ID), authverification.CodeHash(hash), authverification.VerifiedAtIsNil(),
	).SetVerifiedAt(now).ClearCodeHash().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("confirm verification: %w", err)
	}
	if n != 1 {
		return nil, errVerificationInvalid
	}
	return &VerificationResult{EntityID: v.EntityID, EntityType: v.EntityType, CodeProvider: v.CodeProvider, VerifiedAt: now}, nil
}

// requiredVerification returns the entity types the tenant requires
// verified for actorType logging in with provider.
func requiredVerification(tn *ent.Tenant, actorType, provider string) []string {
	per, _ := setting[map[string]any](tn, "auth_verifications_per_actor", nil)[actorType].([]any)
	var out []string
	for _, r := range per {
		m, _ := r.(map[string]any)
		p, _ := m["auth_provider"].(string)
		et, _ := m["entity_type"].(string)
		if p == provider && et != "" {
			out = append(out, et)
		}
	}
	return out
}

// pendingVerification returns, when the tenant requires a verification the
// identity lacks, the verification to show (nil when none was requested
// yet) and true.
func (s *Service) pendingVerification(ctx context.Context, tn *ent.Tenant, ai *ent.AuthIdentity, actorType, provider string) (*VerificationView, bool, error) {
	types := requiredVerification(tn, actorType, provider)
	if len(types) == 0 {
		return nil, false, nil
	}
	pi, err := s.db.ProviderIdentity.Query().Where(provideridentity.AuthIdentityID(ai.ID), provideridentity.Provider(provider)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("verification: %w", err)
	}
	for _, et := range types {
		v, err := s.db.AuthVerification.Query().Where(
			authverification.AuthIdentityID(ai.ID), authverification.EntityID(pi.EntityID), authverification.EntityType(et),
		).Order(authverification.ByRequestedAt(sql.OrderDesc())).First(ctx)
		if ent.IsNotFound(err) {
			return nil, true, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("verification: %w", err)
		}
		if v.VerifiedAt == nil {
			return verificationView(v), true, nil
		}
	}
	return nil, false, nil
}

// verificationPending issues the actorless token of a login that must
// verify first (Medusa's {verification_required, verification, token}).
func (s *Service) verificationPending(ctx context.Context, tn *ent.Tenant, ai *ent.AuthIdentity, actorType, provider, sid string, authTime int64, v *VerificationView) (*LoginResult, error) {
	c := &Claims{
		ActorType:      actorType,
		AuthIdentityID: ai.ID,
		AuthProvider:   provider,
		AppMetadata:    copyMap(ai.AppMetadata),
		UserMetadata:   map[string]any{},
		SessionID:      sid,
		AuthTime:       authTime,
	}
	delete(c.AppMetadata, actorType+"_id")
	delete(c.AppMetadata, "roles")
	tok, err := s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok, VerificationRequired: true, Verification: v}, nil
}
