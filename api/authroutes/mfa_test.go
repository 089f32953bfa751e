package authroutes_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehousehq/gatehouse/api/apitest"
	"github.com/gatehousehq/gatehouse/ent"
)

// These tests pin contract 2.11 (MFA), behaviours 61-69 and 71, plus
// Gatehouse's replay protection, single-use recovery codes, the attempt limit
// and tenant isolation.

// awayFromStepEdge waits, if needed, so that the test runs well inside one
// 30 s TOTP step: codes for the previous, current and next step are then all
// in the server's ±1 window.
func awayFromStepEdge(t *testing.T) {
	t.Helper()
	if s := time.Now().Unix() % 30; s >= 22 {
		time.Sleep(time.Duration(31-s) * time.Second)
	}
}

// code returns the TOTP code of secret for the current step plus offset.
func code(t *testing.T, secret string, offset int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Now().Add(time.Duration(offset)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollMFA enrolls and enables a TOTP factor with the code of the previous
// step, and returns the factor id and secret.
func enrollMFA(t *testing.T, env *apitest.Env, tn *ent.Tenant, tok string) (string, string) {
	t.Helper()
	r := env.Do(t, "POST", "/auth/mfa/factors", map[string]any{"provider": "totp"}, bearer(tn, tok)...)
	if r.Status != 200 {
		t.Fatalf("enroll: %d %s", r.Status, r.Body)
	}
	f, _ := r.JSON["mfa_factor"].(map[string]any)
	secret, _ := r.JSON["secret"].(string)
	url, _ := r.JSON["otpauth_url"].(string)
	if f["provider"] != "totp" || f["status"] != "pending" || secret == "" || !strings.HasPrefix(url, "otpauth://totp/") {
		t.Fatalf("enroll: body = %s", r.Body)
	}
	if _, ok := f["secret"]; ok {
		t.Fatalf("enroll: the factor shows its secret: %s", r.Body)
	}
	id := f["id"].(string)
	if !strings.HasPrefix(id, "authmfa_") {
		t.Fatalf("factor id = %q", id)
	}
	r = env.Do(t, "POST", "/auth/mfa/factors/"+id+"/verify", map[string]any{"code": code(t, secret, -1)}, bearer(tn, tok)...)
	if r.Status != 200 || r.JSON["mfa_factor"].(map[string]any)["status"] != "enabled" {
		t.Fatalf("verify factor: %d %s", r.Status, r.Body)
	}
	return id, secret
}

// mfaLogin logs in and expects an MFA challenge; it returns the challenge id
// and the pending token.
func mfaLogin(t *testing.T, env *apitest.Env, tn *ent.Tenant, email string) (string, string) {
	t.Helper()
	r := env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": email, "password": adminPW}, th(tn)...)
	if r.Status != 200 || r.JSON["mfa_required"] != true || len(r.JSON) != 3 {
		t.Fatalf("login: %d %s, want {mfa_required, mfa_challenge, token}", r.Status, r.Body)
	}
	ch := r.JSON["mfa_challenge"].(map[string]any)
	return ch["id"].(string), r.JSON["token"].(string)
}

func wantError(t *testing.T, what string, r *apitest.Response, status int, typ, msg string) {
	t.Helper()
	if r.Status != status || r.JSON["message"] != msg || (typ != "" && r.JSON["type"] != typ) {
		t.Fatalf("%s: %d %s, want %d %s %q", what, r.Status, r.Body, status, typ, msg)
	}
}

const mfaRequiredMsg = "MFA verification is required to complete this request"

func TestMFAFlow(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "mfa")
	uid, tok := env.Admin(t, tn, "admin@mfa.test", adminPW)
	awayFromStepEdge(t)

	// 61: enrollment, then verification enables the factor.
	fid, secret := enrollMFA(t, env, tn, tok)
	// Replay: the code that enabled the factor is not accepted again.
	r := env.Do(t, "POST", "/auth/mfa/factors/"+fid+"/verify", map[string]any{"code": code(t, secret, -1)}, bearer(tn, tok)...)
	wantError(t, "replayed factor code", r, 400, "not_allowed", "Invalid TOTP code")
	// A second active factor is refused.
	r = env.Do(t, "POST", "/auth/mfa/factors", map[string]any{"provider": "totp"}, bearer(tn, tok)...)
	wantError(t, "second factor", r, 400, "not_allowed", "An active TOTP factor already exists for this auth identity")
	// The enrolling token stays valid (only other logins are revoked).
	wantMe(t, "enrolling token", env, uid, bearer(tn, tok)...)
	r = env.Do(t, "GET", "/auth/mfa/factors", nil, bearer(tn, tok)...)
	if fs, _ := r.JSON["mfa_factors"].([]any); r.Status != 200 || len(fs) != 1 || fs[0].(map[string]any)["status"] != "enabled" {
		t.Fatalf("list factors: %d %s", r.Status, r.Body)
	}

	// 62: login answers a challenge and an actorless token.
	r = env.Do(t, "POST", "/auth/user/emailpass", map[string]any{"email": "admin@mfa.test", "password": adminPW}, th(tn)...)
	if r.Status != 200 || r.JSON["mfa_required"] != true || len(r.JSON) != 3 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	ch := r.JSON["mfa_challenge"].(map[string]any)
	chID := ch["id"].(string)
	if !strings.HasPrefix(chID, "authmfachal_") || ch["attempts"] != float64(0) || ch["max_attempts"] != float64(5) ||
		ch["completed_at"] != nil || ch["metadata"] != nil || ch["auth_provider"] != "emailpass" ||
		fmt.Sprint(ch["methods"]) != "[totp recovery_code]" || ch["expires_at"] == nil {
		t.Fatalf("challenge = %s", r.Body)
	}
	pending := r.JSON["token"].(string)
	pc := claimsOf(t, pending)
	if ch["auth_identity_id"] != pc.AuthIdentityID || pc.ActorID != "" || !pc.MFAEnabled || pc.MFAChallengeCompletedAt != nil {
		t.Fatalf("pending claims = %+v", pc)
	}

	// 71: /admin refuses the pending token.
	wantError(t, "admin with pending token", me(t, env, bearer(tn, pending)...), 401, "", mfaRequiredMsg)
	// 65: so do the factor and recovery-code routes.
	for _, rt := range []struct{ method, path string }{
		{"GET", "/auth/mfa/factors"}, {"POST", "/auth/mfa/factors"}, {"DELETE", "/auth/mfa/factors/" + fid},
		{"POST", "/auth/mfa/recovery-codes"}, {"POST", "/auth/mfa/factors/" + fid + "/verify"},
	} {
		r = env.Do(t, rt.method, rt.path, map[string]any{}, bearer(tn, pending)...)
		wantError(t, rt.method+" "+rt.path+" with pending token", r, 401, "", mfaRequiredMsg)
	}
	// 67: refreshing a pending token answers a new challenge.
	r = env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, pending)...)
	if r.Status != 200 || r.JSON["mfa_required"] != true || claimsOf(t, r.JSON["token"].(string)).MFAChallengeCompletedAt != nil {
		t.Fatalf("refresh pending: %d %s", r.Status, r.Body)
	}

	// 64: a wrong code.
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": "000000"}, bearer(tn, pending)...)
	wantError(t, "wrong code", r, 400, "not_allowed", "Invalid MFA challenge code")
	// Replay of the enabling code.
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, -1)}, bearer(tn, pending)...)
	wantError(t, "replayed code", r, 400, "not_allowed", "Invalid MFA challenge code")
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "sms", "code": "1"}, bearer(tn, pending)...)
	wantError(t, "unsupported method", r, 400, "invalid_data", `MFA challenge does not support method "sms"`)

	// 63: a valid code completes the login.
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	full := tokenOf(t, "challenge verify", r)
	fc := claimsOf(t, full)
	if fc.ActorType != "user" || fc.ActorID != uid || fc.AuthProvider != "emailpass" || !fc.MFAEnabled || fc.MFAChallengeCompletedAt == nil {
		t.Fatalf("completed claims = %+v", fc)
	}
	if _, err := time.Parse(time.RFC3339, *fc.MFAChallengeCompletedAt); err != nil {
		t.Fatalf("mfa_challenge_completed_at %q: %v", *fc.MFAChallengeCompletedAt, err)
	}
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 1)}, bearer(tn, pending)...)
	wantError(t, "completed challenge", r, 400, "not_allowed", "MFA challenge has already been completed")
	wantMe(t, "completed token", env, uid, bearer(tn, full)...)

	// 68: refresh keeps mfa_challenge_completed_at.
	r = env.Do(t, "POST", "/auth/token/refresh", nil, bearer(tn, full)...)
	rc := claimsOf(t, tokenOf(t, "refresh", r))
	if rc.MFAChallengeCompletedAt == nil || *rc.MFAChallengeCompletedAt != *fc.MFAChallengeCompletedAt || !rc.MFAEnabled || rc.ActorID != uid {
		t.Fatalf("refreshed claims = %+v", rc)
	}

	// 69: recovery codes.
	r = env.Do(t, "POST", "/auth/mfa/recovery-codes", map[string]any{"count": 10}, bearer(tn, full)...)
	codes, _ := r.JSON["recovery_codes"].([]any)
	if r.Status != 200 || len(codes) != 10 {
		t.Fatalf("recovery codes: %d %s", r.Status, r.Body)
	}
	re := regexp.MustCompile(`^[0-9a-f]{4}(-[0-9a-f]{4}){7}$`)
	for _, c := range codes {
		if !re.MatchString(c.(string)) {
			t.Fatalf("recovery code %q", c)
		}
	}
	// A recovery code works once.
	chID, pending = mfaLogin(t, env, tn, "admin@mfa.test")
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "recovery_code", "code": codes[0]}, bearer(tn, pending)...)
	if c := claimsOf(t, tokenOf(t, "recovery code", r)); c.ActorID != uid || c.MFAChallengeCompletedAt == nil {
		t.Fatalf("recovery code claims = %+v", c)
	}
	chID, pending = mfaLogin(t, env, tn, "admin@mfa.test")
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "recovery_code", "code": codes[0]}, bearer(tn, pending)...)
	wantError(t, "reused recovery code", r, 400, "not_allowed", "Invalid MFA challenge code")
	// Regenerating replaces the old codes.
	r = env.Do(t, "POST", "/auth/mfa/recovery-codes", map[string]any{}, bearer(tn, full)...)
	if n, _ := r.JSON["recovery_codes"].([]any); r.Status != 200 || len(n) != 10 {
		t.Fatalf("regenerate: %d %s", r.Status, r.Body)
	}
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "recovery_code", "code": codes[1]}, bearer(tn, pending)...)
	wantError(t, "replaced recovery code", r, 400, "not_allowed", "Invalid MFA challenge code")

	// Disabling: the factor is disabled, the caller's token still works, and
	// login answers a plain token again.
	r = env.Do(t, "DELETE", "/auth/mfa/factors/"+fid, map[string]any{}, bearer(tn, full)...)
	if r.Status != 200 || r.JSON["mfa_factor"].(map[string]any)["status"] != "disabled" {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	wantMe(t, "disabling token", env, uid, bearer(tn, full)...)
	wantMeUnauthorized(t, "token of another login after disabling", env, bearer(tn, tok)...)
	r = env.Do(t, "POST", "/auth/mfa/factors/"+fid+"/verify", map[string]any{"code": code(t, secret, 1)}, bearer(tn, full)...)
	wantError(t, "verify disabled", r, 400, "invalid_data", "Disabled MFA factors cannot be verified")
	login(t, env, tn, "user", "admin@mfa.test", adminPW)
}

func TestMFARecoveryCodesNeedEnabledFactor(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "mfarc")
	_, tok := env.Admin(t, tn, "admin@mfarc.test", adminPW)
	r := env.Do(t, "POST", "/auth/mfa/recovery-codes", map[string]any{"count": 10}, bearer(tn, tok)...)
	wantError(t, "no factor", r, 400, "not_allowed", "Recovery codes require an enabled MFA factor")
	r = env.Do(t, "POST", "/auth/mfa/factors", map[string]any{"provider": "totp"}, bearer(tn, tok)...)
	if r.Status != 200 {
		t.Fatalf("enroll: %d %s", r.Status, r.Body)
	}
	r = env.Do(t, "POST", "/auth/mfa/recovery-codes", map[string]any{"count": 10}, bearer(tn, tok)...)
	wantError(t, "pending factor", r, 400, "not_allowed", "Recovery codes require an enabled MFA factor")
}

// 66: another identity's challenge is not found, and its owner can still use it.
func TestMFAChallengeOfAnotherIdentity(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "mfaother")
	uid, tok := env.Admin(t, tn, "a@mfaother.test", adminPW)
	_, other := env.Admin(t, tn, "b@mfaother.test", adminPW)
	awayFromStepEdge(t)
	fid, secret := enrollMFA(t, env, tn, tok)
	chID, pending := mfaLogin(t, env, tn, "a@mfaother.test")

	notFound := fmt.Sprintf("MFA challenge with id %q was not found", chID)
	for i := 0; i < 6; i++ {
		r := env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, other)...)
		wantError(t, "other identity's challenge", r, 404, "not_found", notFound)
	}
	r := env.Do(t, "POST", "/auth/mfa/factors/"+fid+"/verify", map[string]any{"code": code(t, secret, 0)}, bearer(tn, other)...)
	wantError(t, "other identity's factor", r, 404, "not_found", fmt.Sprintf("MFA factor with id %q was not found", fid))
	r = env.Do(t, "DELETE", "/auth/mfa/factors/"+fid, map[string]any{}, bearer(tn, other)...)
	wantError(t, "delete other identity's factor", r, 404, "not_found", fmt.Sprintf("MFA factor with id %q was not found", fid))
	r = env.Do(t, "POST", "/auth/mfa/challenges/authmfachal_nope/verify", map[string]any{"method": "totp", "code": "123456"}, bearer(tn, pending)...)
	wantError(t, "unknown challenge", r, 404, "not_found", `MFA challenge with id "authmfachal_nope" was not found`)

	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	if c := claimsOf(t, tokenOf(t, "owner verifies", r)); c.ActorID != uid {
		t.Fatalf("claims = %+v", c)
	}
}

// Five failed attempts exhaust a challenge, even for a valid code afterwards.
func TestMFAChallengeAttempts(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "mfatries")
	_, tok := env.Admin(t, tn, "a@mfatries.test", adminPW)
	awayFromStepEdge(t)
	_, secret := enrollMFA(t, env, tn, tok)
	chID, pending := mfaLogin(t, env, tn, "a@mfatries.test")
	for i := 0; i < 5; i++ {
		r := env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": "000000"}, bearer(tn, pending)...)
		wantError(t, fmt.Sprintf("attempt %d", i+1), r, 400, "not_allowed", "Invalid MFA challenge code")
	}
	r := env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	wantError(t, "exhausted", r, 400, "not_allowed", "MFA challenge has too many failed attempts")
	// A new login gets a fresh challenge, and the code (unused) still works.
	chID, pending = mfaLogin(t, env, tn, "a@mfatries.test")
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	tokenOf(t, "fresh challenge", r)
}

// A factor or challenge of tenant A is not found through tenant B.
func TestMFACrossTenant(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ta, tb := env.Tenant(t, "mfaa"), env.Tenant(t, "mfab")
	_, tokA := env.Admin(t, ta, "a@mfa.test", adminPW)
	_, tokB := env.Admin(t, tb, "b@mfa.test", adminPW)
	awayFromStepEdge(t)
	fid, secret := enrollMFA(t, env, ta, tokA)
	chID, _ := mfaLogin(t, env, ta, "a@mfa.test")
	r := env.Do(t, "POST", "/auth/mfa/factors/"+fid+"/verify", map[string]any{"code": code(t, secret, 0)}, bearer(tb, tokB)...)
	wantError(t, "factor via tenant B", r, 404, "not_found", fmt.Sprintf("MFA factor with id %q was not found", fid))
	r = env.Do(t, "DELETE", "/auth/mfa/factors/"+fid, map[string]any{}, bearer(tb, tokB)...)
	wantError(t, "delete via tenant B", r, 404, "not_found", fmt.Sprintf("MFA factor with id %q was not found", fid))
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tb, tokB)...)
	wantError(t, "challenge via tenant B", r, 404, "not_found", fmt.Sprintf("MFA challenge with id %q was not found", chID))
	// Tenant A's token is not accepted by tenant B at all.
	r = env.Do(t, "GET", "/auth/mfa/factors", nil, bearer(tb, tokA)...)
	want(t, "tenant A token via tenant B", r, 401, unauthorized)
}

// TestMFAChallengeBackoff (checklist: MFA challenges are throttled): wrong
// codes across fresh challenges put the identity in back-off (429 with
// Retry-After) even with a right code, without touching another identity.
func TestMFAChallengeBackoff(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := env.Tenant(t, "mfaback")
	_, tok := env.Admin(t, tn, "a@mfaback.test", adminPW)
	_, tokB := env.Admin(t, tn, "b@mfaback.test", adminPW)
	awayFromStepEdge(t)
	_, secret := enrollMFA(t, env, tn, tok)
	_, secretB := enrollMFA(t, env, tn, tokB)
	for i := 0; i < 10; i++ { // two challenges' worth of wrong codes
		chID, pending := mfaLogin(t, env, tn, "a@mfaback.test")
		r := env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": "000000"}, bearer(tn, pending)...)
		wantError(t, fmt.Sprintf("wrong code %d", i+1), r, 400, "not_allowed", "Invalid MFA challenge code")
	}
	chID, pending := mfaLogin(t, env, tn, "a@mfaback.test")
	r := env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	wantError(t, "right code in back-off", r, 429, "not_allowed", "Too many requests")
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	chB, pendingB := mfaLogin(t, env, tn, "b@mfaback.test")
	tokenOf(t, "another identity", env.Do(t, "POST", "/auth/mfa/challenges/"+chB+"/verify", map[string]any{"method": "totp", "code": code(t, secretB, 0)}, bearer(tn, pendingB)...))
	time.Sleep(1100 * time.Millisecond) // the first back-off step is one second
	r = env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify", map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...)
	tokenOf(t, "right code after the back-off", r)
}

// TestMFADisablePolicyChallenge (contract 2.11): under the "challenge"
// disable policy, disabling a factor needs a valid code as well as the
// session; the default "session" policy needs none (TestMFAFlow).
func TestMFADisablePolicyChallenge(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tn := tenantWith(t, env, "mfapolicy", map[string]any{"mfa_disable_policy": "challenge"})
	_, tok := env.Admin(t, tn, "a@mfapolicy.test", adminPW)
	awayFromStepEdge(t)
	id, secret := enrollMFA(t, env, tn, tok)
	chID, pending := mfaLogin(t, env, tn, "a@mfapolicy.test")
	full := tokenOf(t, "challenge", env.Do(t, "POST", "/auth/mfa/challenges/"+chID+"/verify",
		map[string]any{"method": "totp", "code": code(t, secret, 0)}, bearer(tn, pending)...))
	r := env.Do(t, "POST", "/auth/mfa/recovery-codes", map[string]any{"count": 2}, bearer(tn, full)...)
	codes, _ := r.JSON["recovery_codes"].([]any)
	if r.Status != 200 || len(codes) != 2 {
		t.Fatalf("recovery codes: %d %s", r.Status, r.Body)
	}
	del := func(body any) *apitest.Response {
		return env.Do(t, "DELETE", "/auth/mfa/factors/"+id, body, bearer(tn, full)...)
	}
	wantError(t, "no code", del(map[string]any{}), 400, "invalid_data", "MFA verification code is required to disable MFA")
	wantError(t, "wrong code", del(map[string]any{"method": "totp", "code": "000000"}), 400, "not_allowed", "Invalid MFA verification code")
	r = del(map[string]any{"method": "recovery_code", "code": codes[0]})
	if f, _ := r.JSON["mfa_factor"].(map[string]any); r.Status != 200 || f["status"] != "disabled" {
		t.Fatalf("disable with a recovery code: %d %s", r.Status, r.Body)
	}
}
