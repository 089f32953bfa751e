package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/mfachallenge"
	"github.com/gatehousehq/gatehouse/ent/mfafactor"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
	"github.com/gatehousehq/gatehouse/ent/recoverycode"
	"github.com/gatehousehq/gatehouse/seal"
)

// MFA parameters (Medusa's defaults).
const (
	MFAChallengeTTL     = 300 * time.Second
	MFAMaxAttempts      = 5
	RecoveryCodeCount   = 10
	totpPeriod          = 30
	totpSkew            = 1
	mfaMethodTOTP       = "totp"
	mfaMethodRecovery   = "recovery_code"
	defaultTOTPIssuer   = "Medusa"
	mfaSecretVersion    = "v1:"
	maxRecoveryCodes    = 50
	recoveryCodeByteLen = 16
)

var (
	errMFAKeyMissing    = gatehouse.Errorf(gatehouse.EINVALID, "MFA encryption key is required to use MFA methods")
	errInvalidTOTP      = gatehouse.Errorf(gatehouse.ENOTALLOWED, "Invalid TOTP code")
	errInvalidChallenge = gatehouse.Errorf(gatehouse.ENOTALLOWED, "Invalid MFA challenge code")
	errTooManyAttempts  = gatehouse.Errorf(gatehouse.ENOTALLOWED, "MFA challenge has too many failed attempts")
	errChallengeExpired = gatehouse.Errorf(gatehouse.ENOTALLOWED, "MFA challenge has expired")
	errChallengeDone    = gatehouse.Errorf(gatehouse.ENOTALLOWED, "MFA challenge has already been completed")
)

// SetMasterKey derives the key that encrypts TOTP seeds (AES-256-GCM) from
// the master key. Without it MFA enrollment fails, as in Medusa without
// mfa.encryption_key.
func (s *Service) SetMasterKey(masterKey []byte) error {
	b, err := seal.New(masterKey, "gatehouse mfa totp seed v1")
	if err != nil {
		return err
	}
	s.mfaBox = b
	return nil
}

func (s *Service) mfaSeal() (*seal.Box, error) {
	if s.mfaBox == nil {
		return nil, errMFAKeyMissing
	}
	return s.mfaBox, nil
}

// seedAAD binds a sealed seed to its tenant and identity.
func seedAAD(tenantID, identityID string) []byte { return []byte(tenantID + "\x00" + identityID) }

func (s *Service) sealSeed(tenantID, identityID, seed string) (string, error) {
	b, err := s.mfaSeal()
	if err != nil {
		return "", err
	}
	ct, err := b.Seal([]byte(seed), seedAAD(tenantID, identityID))
	if err != nil {
		return "", err
	}
	return mfaSecretVersion + base64.RawStdEncoding.EncodeToString(ct), nil
}

func (s *Service) openSeed(f *ent.MFAFactor) (string, error) {
	b, err := s.mfaSeal()
	if err != nil {
		return "", err
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(f.Secret, mfaSecretVersion))
	if err != nil || !strings.HasPrefix(f.Secret, mfaSecretVersion) {
		return "", errors.New("mfa: malformed sealed seed")
	}
	pt, err := b.Open(raw, seedAAD(f.TenantID, f.AuthIdentityID))
	if err != nil {
		return "", fmt.Errorf("mfa: open seed: %w", err)
	}
	return string(pt), nil
}

// MFAFactorView is a factor as the API shows it (no secret).
type MFAFactorView struct {
	ID             string         `json:"id"`
	AuthIdentityID string         `json:"auth_identity_id"`
	Provider       string         `json:"provider"`
	Status         string         `json:"status"`
	Label          *string        `json:"label"`
	Metadata       map[string]any `json:"metadata"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	DeletedAt      *time.Time     `json:"deleted_at"`
}

func factorView(f *ent.MFAFactor) MFAFactorView {
	return MFAFactorView{ID: f.ID, AuthIdentityID: f.AuthIdentityID, Provider: f.Provider, Status: string(f.Status),
		Label: f.Label, Metadata: f.Metadata, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
}

// MFAChallengeView is a login challenge as the API shows it.
type MFAChallengeView struct {
	ID             string         `json:"id"`
	AuthIdentityID string         `json:"auth_identity_id"`
	AuthProvider   string         `json:"auth_provider"`
	Methods        []string       `json:"methods"`
	ExpiresAt      time.Time      `json:"expires_at"`
	Attempts       int            `json:"attempts"`
	MaxAttempts    int            `json:"max_attempts"`
	CompletedAt    *time.Time     `json:"completed_at"`
	Metadata       map[string]any `json:"metadata"`
}

// LoginResult is the outcome of a login or refresh: a token, and when the
// identity has MFA enabled, the challenge to pass (the token is then
// actorless).
type LoginResult struct {
	Token        string
	MFAChallenge *MFAChallengeView
	// VerificationRequired: the tenant requires a verification the identity
	// lacks; Verification is the pending one, nil when none was requested.
	VerificationRequired bool
	Verification         *VerificationView
}

func notFoundFactor(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "MFA factor with id %q was not found", id)
}

func notFoundChallenge(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "MFA challenge with id %q was not found", id)
}

func (s *Service) hasEnabledFactor(ctx context.Context, identityID string) (bool, error) {
	ok, err := s.db.MFAFactor.Query().Where(mfafactor.AuthIdentityID(identityID), mfafactor.StatusEQ(mfafactor.StatusEnabled)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("mfa factors: %w", err)
	}
	return ok, nil
}

// ListMFAFactors lists the caller's factors.
func (s *Service) ListMFAFactors(ctx context.Context, ac *Context) ([]MFAFactorView, error) {
	fs, err := s.db.MFAFactor.Query().Where(mfafactor.AuthIdentityID(ac.AuthIdentityID)).Order(ent.Asc(mfafactor.FieldCreatedAt)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("mfa factors: %w", err)
	}
	out := make([]MFAFactorView, 0, len(fs))
	for _, f := range fs {
		out = append(out, factorView(f))
	}
	return out, nil
}

// CreateMFAFactorInput is POST /auth/mfa/factors.
type CreateMFAFactorInput struct {
	Provider string
	Label    *string
	Issuer   string
	Metadata map[string]any
}

// Enrollment is a new pending factor and its seed, shown once.
type Enrollment struct {
	Factor     MFAFactorView
	Secret     string
	OTPAuthURL string
}

// CreateMFAFactor starts a TOTP enrollment: a pending factor whose seed is
// returned once. A previous pending factor is replaced. Errors: not_allowed
// (an enabled factor exists), invalid.
func (s *Service) CreateMFAFactor(ctx context.Context, ac *Context, in CreateMFAFactorInput) (*Enrollment, error) {
	if in.Provider != mfaMethodTOTP {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "MFA provider %q is not supported", in.Provider)
	}
	if _, err := s.mfaSeal(); err != nil {
		return nil, err
	}
	if ok, err := s.hasEnabledFactor(ctx, ac.AuthIdentityID); err != nil {
		return nil, err
	} else if ok {
		return nil, gatehouse.Errorf(gatehouse.ENOTALLOWED, "An active TOTP factor already exists for this auth identity")
	}
	issuer := in.Issuer
	if issuer == "" {
		issuer = defaultTOTPIssuer
	}
	account := ""
	if in.Label != nil {
		account = *in.Label
	}
	if account == "" {
		if pi, err := s.db.ProviderIdentity.Query().Where(provideridentity.AuthIdentityID(ac.AuthIdentityID)).First(ctx); err == nil {
			account = pi.EntityID
		} else {
			account = ac.AuthIdentityID
		}
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("generate totp: %w", err)
	}
	sealed, err := s.sealSeed(ac.TenantID, ac.AuthIdentityID, key.Secret())
	if err != nil {
		return nil, err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.MFAFactor.Delete().Where(mfafactor.AuthIdentityID(ac.AuthIdentityID), mfafactor.StatusEQ(mfafactor.StatusPending)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("replace pending factor: %w", err)
	}
	meta := in.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	f, err := tx.MFAFactor.Create().SetAuthIdentityID(ac.AuthIdentityID).SetProvider(mfaMethodTOTP).
		SetNillableLabel(in.Label).SetMetadata(meta).SetSecret(sealed).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create factor: %w", err)
	}
	audit.SetTarget(ctx, f.ID)
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Enrollment{Factor: factorView(f), Secret: key.Secret(), OTPAuthURL: key.URL()}, nil
}

func (s *Service) callerFactor(ctx context.Context, ac *Context, id string) (*ent.MFAFactor, error) {
	f, err := s.db.MFAFactor.Query().Where(mfafactor.ID(id), mfafactor.AuthIdentityID(ac.AuthIdentityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFoundFactor(id)
	}
	if err != nil {
		return nil, fmt.Errorf("mfa factor: %w", err)
	}
	return f, nil
}

// checkTOTP accepts code for factor f once: the matching time step (within
// ±1 of now) must be later than the last accepted one, and is recorded with a
// conditional update so two concurrent uses of one code cannot both pass.
func (s *Service) checkTOTP(ctx context.Context, f *ent.MFAFactor, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return false, nil
	}
	seed, err := s.openSeed(f)
	if err != nil {
		return false, err
	}
	now := s.now().Unix() / totpPeriod
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(seed, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{Period: totpPeriod,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		n, err := s.db.MFAFactor.Update().Where(mfafactor.ID(f.ID), mfafactor.LastUsedStepLT(step)).SetLastUsedStep(step).Save(ctx)
		if err != nil {
			return false, fmt.Errorf("mfa factor: %w", err)
		}
		return n == 1, nil
	}
	return false, nil
}

// revokeOtherLogins revokes every credential of the caller's identity issued
// before the caller's own token, which stays valid.
func (s *Service) revokeOtherLogins(ctx context.Context, ac *Context) error {
	if ac.AuthIdentityID == "" || ac.IssuedAt.IsZero() {
		return nil
	}
	if err := s.store.SetNotBefore(ctx, ac.TenantID, ac.AuthIdentityID, ac.IssuedAt, s.cfg.AbsoluteTTL); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

// VerifyMFAFactor checks a TOTP code against a factor, enabling it when
// pending (and then revoking the identity's other logins). Errors: not_found,
// not_allowed, invalid.
func (s *Service) VerifyMFAFactor(ctx context.Context, ac *Context, id, code string) (MFAFactorView, error) {
	f, err := s.callerFactor(ctx, ac, id)
	if err != nil {
		return MFAFactorView{}, err
	}
	if f.Status == mfafactor.StatusDisabled {
		return MFAFactorView{}, gatehouse.Errorf(gatehouse.EINVALID, "Disabled MFA factors cannot be verified")
	}
	ok, err := s.checkTOTP(ctx, f, code)
	if err != nil {
		return MFAFactorView{}, err
	}
	if !ok {
		return MFAFactorView{}, errInvalidTOTP
	}
	if f.Status == mfafactor.StatusPending {
		if ok, err := s.hasEnabledFactor(ctx, ac.AuthIdentityID); err != nil {
			return MFAFactorView{}, err
		} else if ok {
			return MFAFactorView{}, gatehouse.Errorf(gatehouse.ENOTALLOWED, "An active TOTP factor already exists for this auth identity")
		}
		tx, err := s.db.Tx(ctx)
		if err != nil {
			return MFAFactorView{}, err
		}
		f, err = tx.MFAFactor.UpdateOne(f).SetStatus(mfafactor.StatusEnabled).Save(ctx)
		if err == nil {
			err = s.emit(ctx, tx, "auth.mfa_enabled", map[string]any{"auth_identity_id": ac.AuthIdentityID, "mfa_id": f.ID, "provider": f.Provider})
		}
		if err != nil {
			_ = tx.Rollback()
			return MFAFactorView{}, fmt.Errorf("enable factor: %w", err)
		}
		if err := audit.RecordTx(ctx, tx.Client()); err != nil {
			_ = tx.Rollback()
			return MFAFactorView{}, err
		}
		if err := tx.Commit(); err != nil {
			return MFAFactorView{}, err
		}
		if err := s.revokeOtherLogins(ctx, ac); err != nil {
			return MFAFactorView{}, err
		}
	}
	return factorView(f), nil
}

// DisableMFAFactor disables a factor of the caller and revokes the
// identity's other logins. Under the tenant's disable policy "session" (the
// default, as Medusa's) the authenticated session suffices; under
// "challenge" a current TOTP or recovery code is required too, and wrong
// codes count towards the identity's MFA back-off. Errors: not_found,
// invalid, not_allowed, rate_limited.
func (s *Service) DisableMFAFactor(ctx context.Context, ac *Context, id, method, code string) (MFAFactorView, error) {
	f, err := s.callerFactor(ctx, ac, id)
	if err != nil {
		return MFAFactorView{}, err
	}
	if f.Status == mfafactor.StatusDisabled {
		return factorView(f), nil
	}
	tn, err := tenantOf(ctx)
	if err != nil {
		return MFAFactorView{}, err
	}
	if setting(tn, "mfa_disable_policy", "session") == "challenge" {
		if err := s.checkDisableCode(ctx, tn, ac, f, method, code); err != nil {
			return MFAFactorView{}, err
		}
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return MFAFactorView{}, err
	}
	f, err = tx.MFAFactor.UpdateOne(f).SetStatus(mfafactor.StatusDisabled).Save(ctx)
	if err == nil {
		err = s.emit(ctx, tx, "auth.mfa_disabled", map[string]any{"auth_identity_id": ac.AuthIdentityID, "mfa_id": f.ID, "provider": f.Provider})
	}
	if err != nil {
		_ = tx.Rollback()
		return MFAFactorView{}, fmt.Errorf("disable factor: %w", err)
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return MFAFactorView{}, err
	}
	if err := tx.Commit(); err != nil {
		return MFAFactorView{}, err
	}
	if err := s.revokeOtherLogins(ctx, ac); err != nil {
		return MFAFactorView{}, err
	}
	return factorView(f), nil
}

// checkDisableCode verifies the code the "challenge" disable policy asks for.
func (s *Service) checkDisableCode(ctx context.Context, tn *ent.Tenant, ac *Context, f *ent.MFAFactor, method, code string) error {
	if strings.TrimSpace(code) == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "MFA verification code is required to disable MFA")
	}
	account := "mfa:" + ac.AuthIdentityID
	if err := s.guardMFA(ctx, tn, account); err != nil {
		return err
	}
	var ok bool
	var err error
	switch method {
	case "", mfaMethodTOTP:
		ok, err = s.checkTOTP(ctx, f, code)
	case mfaMethodRecovery:
		ok, err = s.useRecoveryCode(ctx, ac.AuthIdentityID, code)
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "MFA challenge does not support method %q", method)
	}
	if err != nil {
		return err
	}
	if !ok {
		s.accountFailed(ctx, tn, account)
		return gatehouse.Errorf(gatehouse.ENOTALLOWED, "Invalid MFA verification code")
	}
	s.accountSucceeded(ctx, tn, account)
	return nil
}

func normalizeRecoveryCode(c string) string {
	c = strings.ToLower(strings.TrimSpace(c))
	return strings.NewReplacer("-", "", " ", "").Replace(c)
}

// GenerateRecoveryCodes replaces the caller's recovery codes with count new
// ones (default 10), returned once and stored as SHA-256 digests (each code
// has 128 random bits). Errors: not_allowed (no enabled factor), invalid.
func (s *Service) GenerateRecoveryCodes(ctx context.Context, ac *Context, count int) ([]string, error) {
	if count == 0 {
		count = RecoveryCodeCount
	}
	if count < 1 || count > maxRecoveryCodes {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field 'count' must be between 1 and %d", maxRecoveryCodes)
	}
	if ok, err := s.hasEnabledFactor(ctx, ac.AuthIdentityID); err != nil {
		return nil, err
	} else if !ok {
		return nil, gatehouse.Errorf(gatehouse.ENOTALLOWED, "Recovery codes require an enabled MFA factor")
	}
	codes := make([]string, count)
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.RecoveryCode.Delete().Where(recoverycode.AuthIdentityID(ac.AuthIdentityID)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("replace recovery codes: %w", err)
	}
	bulk := make([]*ent.RecoveryCodeCreate, count)
	for i := range codes {
		b := make([]byte, recoveryCodeByteLen)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		h := hex.EncodeToString(b)
		groups := make([]string, 0, len(h)/4)
		for j := 0; j < len(h); j += 4 {
			groups = append(groups, h[j:j+4])
		}
		codes[i] = strings.Join(groups, "-")
		bulk[i] = tx.RecoveryCode.Create().SetAuthIdentityID(ac.AuthIdentityID).SetCodeHash(sha256Hex(h))
	}
	if _, err := tx.RecoveryCode.CreateBulk(bulk...).Save(ctx); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	if err := s.emit(ctx, tx, "auth.mfa_recovery_codes_generated", map[string]any{"auth_identity_id": ac.AuthIdentityID, "count": count}); err != nil {
		return nil, err
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return codes, nil
}

// useRecoveryCode consumes one unused recovery code of identityID.
func (s *Service) useRecoveryCode(ctx context.Context, identityID, code string) (bool, error) {
	c := normalizeRecoveryCode(code)
	if len(c) != 2*recoveryCodeByteLen {
		return false, nil
	}
	n, err := s.db.RecoveryCode.Update().Where(recoverycode.AuthIdentityID(identityID), recoverycode.CodeHash(sha256Hex(c)),
		recoverycode.UsedAtIsNil()).SetUsedAt(s.now()).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("recovery code: %w", err)
	}
	return n == 1, nil
}

// mfaPending issues the actorless token and challenge of a login whose
// identity has MFA enabled.
func (s *Service) mfaPending(ctx context.Context, tn *ent.Tenant, ai *ent.AuthIdentity, actorType, provider, sid string, authTime int64) (*LoginResult, error) {
	exp := s.now().Add(MFAChallengeTTL)
	// Expired challenges of this identity are of no further use.
	_, _ = s.db.MFAChallenge.Delete().Where(mfachallenge.AuthIdentityID(ai.ID), mfachallenge.ExpiresAtLT(s.now())).Exec(ctx)
	methods := []string{mfaMethodTOTP, mfaMethodRecovery}
	ch, err := s.db.MFAChallenge.Create().SetAuthIdentityID(ai.ID).SetAuthProvider(provider).SetActorType(actorType).
		SetMethods(methods).SetExpiresAt(exp).SetMaxAttempts(MFAMaxAttempts).SetSessionID(sid).SetAuthTime(authTime).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create mfa challenge: %w", err)
	}
	c := &Claims{
		ActorType:      actorType,
		AuthIdentityID: ai.ID,
		AuthProvider:   provider,
		AppMetadata:    copyMap(ai.AppMetadata),
		UserMetadata:   map[string]any{},
		MFAEnabled:     true,
		SessionID:      sid,
		AuthTime:       authTime,
	}
	delete(c.AppMetadata, actorType+"_id")
	delete(c.AppMetadata, "roles")
	tok, err := s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok, MFAChallenge: &MFAChallengeView{ID: ch.ID, AuthIdentityID: ai.ID, AuthProvider: provider,
		Methods: methods, ExpiresAt: ch.ExpiresAt, Attempts: 0, MaxAttempts: ch.MaxAttempts}}, nil
}

// VerifyMFAChallenge checks a TOTP or recovery code against a login challenge
// of the caller's identity and returns the token of the completed login.
// Another identity's challenge is not found and loses no attempt. Each call
// spends the client address's auth budget, like a login. Errors: not_found,
// not_allowed, invalid, rate_limited.
func (s *Service) VerifyMFAChallenge(ctx context.Context, tn *ent.Tenant, ac *Context, id, method, code string) (string, error) {
	if err := s.guardAddress(ctx, tn); err != nil {
		return "", err
	}
	// Each challenge allows 5 attempts, but a new login makes a new
	// challenge: the identity's back-off spans them all, as for passwords.
	account := "mfa:" + ac.AuthIdentityID
	if err := s.guardMFA(ctx, tn, account); err != nil {
		return "", err
	}
	ch, err := s.db.MFAChallenge.Query().Where(mfachallenge.ID(id), mfachallenge.AuthIdentityID(ac.AuthIdentityID)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", notFoundChallenge(id)
	}
	if err != nil {
		return "", fmt.Errorf("mfa challenge: %w", err)
	}
	switch {
	case ch.CompletedAt != nil:
		return "", errChallengeDone
	case ch.Attempts >= ch.MaxAttempts:
		return "", errTooManyAttempts
	case !s.now().Before(ch.ExpiresAt):
		return "", errChallengeExpired
	}
	supported := false
	for _, m := range ch.Methods {
		supported = supported || m == method
	}
	if !supported {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "MFA challenge does not support method %q", method)
	}
	ok := false
	switch method {
	case mfaMethodTOTP:
		fs, err := s.db.MFAFactor.Query().Where(mfafactor.AuthIdentityID(ch.AuthIdentityID), mfafactor.StatusEQ(mfafactor.StatusEnabled)).All(ctx)
		if err != nil {
			return "", fmt.Errorf("mfa factors: %w", err)
		}
		for _, f := range fs {
			if ok, err = s.checkTOTP(ctx, f, code); err != nil {
				return "", err
			} else if ok {
				break
			}
		}
	case mfaMethodRecovery:
		if ok, err = s.useRecoveryCode(ctx, ch.AuthIdentityID, code); err != nil {
			return "", err
		}
	}
	if !ok {
		s.accountFailed(ctx, tn, account)
		// Counted with a conditional update: concurrent guesses cannot pass
		// the limit.
		n, err := s.db.MFAChallenge.Update().Where(mfachallenge.ID(ch.ID), mfachallenge.CompletedAtIsNil(),
			func(sel *sql.Selector) {
				sel.Where(sql.ColumnsLT(sel.C(mfachallenge.FieldAttempts), sel.C(mfachallenge.FieldMaxAttempts)))
			}).
			AddAttempts(1).Save(ctx)
		if err != nil {
			return "", fmt.Errorf("mfa challenge: %w", err)
		}
		if n == 0 {
			return "", errTooManyAttempts
		}
		return "", errInvalidChallenge
	}
	done := s.now().UTC()
	n, err := s.db.MFAChallenge.Update().Where(mfachallenge.ID(ch.ID), mfachallenge.CompletedAtIsNil(),
		func(sel *sql.Selector) {
			sel.Where(sql.ColumnsLT(sel.C(mfachallenge.FieldAttempts), sel.C(mfachallenge.FieldMaxAttempts)))
		}).
		SetCompletedAt(done).Save(ctx)
	if err != nil {
		return "", fmt.Errorf("mfa challenge: %w", err)
	}
	if n == 0 {
		return "", errChallengeDone
	}
	s.accountSucceeded(ctx, tn, account)
	ai, err := s.db.AuthIdentity.Get(ctx, ch.AuthIdentityID)
	if ent.IsNotFound(err) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("mfa challenge: %w", err)
	}
	app := copyMap(ai.AppMetadata)
	actorID, _ := app[ch.ActorType+"_id"].(string)
	if err := s.setRoleClaim(ctx, app, ch.ActorType, actorID); err != nil {
		return "", err
	}
	at := done.Format("2006-01-02T15:04:05.000Z")
	sid := ch.SessionID
	if sid == "" {
		sid = newJTI()
	}
	authTime := ch.AuthTime
	if authTime == 0 {
		authTime = s.now().Unix()
	}
	c := &Claims{
		ActorID:                 actorID,
		ActorType:               ch.ActorType,
		AuthIdentityID:          ai.ID,
		AuthProvider:            ch.AuthProvider,
		AppMetadata:             app,
		UserMetadata:            map[string]any{},
		MFAEnabled:              true,
		MFAChallengeCompletedAt: &at,
		SessionID:               sid,
		AuthTime:                authTime,
	}
	return s.tokens.IssueAccess(ctx, tn, c, s.tokenTTL(tn))
}
