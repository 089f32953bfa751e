package authroutes

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
)

// registerMFA mounts Medusa's /auth/mfa routes: session or bearer, any
// actor, unregistered allowed; the MFA gate applies except to challenge
// verification.
func registerMFA(g *gin.RouterGroup, h handlers) {
	anyActor := []string{"*"}
	gated := h.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, Session: true, AllowUnregistered: true})
	ungated := h.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, Session: true, AllowUnregistered: true, SkipMFA: true})
	g.GET("/mfa/factors", gated, wire.H(h.listFactors))
	g.POST("/mfa/factors", gated, wire.H(h.createFactor))
	g.POST("/mfa/factors/:id/verify", gated, wire.H(h.verifyFactor))
	g.DELETE("/mfa/factors/:id", gated, wire.H(h.disableFactor))
	g.POST("/mfa/recovery-codes", gated, wire.H(h.recoveryCodes))
	g.POST("/mfa/challenges/:id/verify", ungated, wire.H(h.verifyChallenge))
}

func caller(c *gin.Context) *auth.Context {
	ac, _ := auth.FromContext(c.Request.Context())
	return ac
}

func (h handlers) listFactors(c *gin.Context) error {
	fs, err := h.Auth.ListMFAFactors(c.Request.Context(), caller(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"mfa_factors": fs})
	return nil
}

type createFactorBody struct {
	Provider *string        `json:"provider"`
	Label    *string        `json:"label"`
	Issuer   *string        `json:"issuer"`
	Metadata map[string]any `json:"metadata"`
}

func (b *createFactorBody) Validate() error {
	if b.Provider == nil {
		return wire.Invalid("Field 'provider' is required")
	}
	if *b.Provider == "" {
		return wire.Invalid("String must contain at least 1 character(s) (provider)")
	}
	return nil
}

func (h handlers) createFactor(c *gin.Context) error {
	var in createFactorBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	issuer := ""
	if in.Issuer != nil {
		issuer = *in.Issuer
	}
	en, err := h.Auth.CreateMFAFactor(c.Request.Context(), caller(c), auth.CreateMFAFactorInput{
		Provider: *in.Provider, Label: in.Label, Issuer: issuer, Metadata: in.Metadata})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"mfa_factor": en.Factor, "secret": en.Secret, "otpauth_url": en.OTPAuthURL})
	return nil
}

type codeBody struct {
	Code *string `json:"code"`
}

func (b *codeBody) Validate() error {
	if b.Code == nil {
		return wire.Invalid("Field 'code' is required")
	}
	return nil
}

func (h handlers) verifyFactor(c *gin.Context) error {
	var in codeBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	f, err := h.Auth.VerifyMFAFactor(c.Request.Context(), caller(c), c.Param("id"), *in.Code)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"mfa_factor": f})
	return nil
}

type disableBody struct {
	Method *string `json:"method"`
	Code   *string `json:"code"`
}

func (h handlers) disableFactor(c *gin.Context) error {
	var in disableBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	var method, code string
	if in.Method != nil {
		method = *in.Method
	}
	if in.Code != nil {
		code = *in.Code
	}
	f, err := h.Auth.DisableMFAFactor(c.Request.Context(), caller(c), c.Param("id"), method, code)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"mfa_factor": f})
	return nil
}

type recoveryBody struct {
	Count *int `json:"count"`
}

func (b *recoveryBody) Validate() error {
	if b.Count != nil && (*b.Count < 1 || *b.Count > 50) {
		return wire.Invalid("Field 'count' must be between 1 and 50")
	}
	return nil
}

func (h handlers) recoveryCodes(c *gin.Context) error {
	var in recoveryBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	n := 0
	if in.Count != nil {
		n = *in.Count
	}
	codes, err := h.Auth.GenerateRecoveryCodes(c.Request.Context(), caller(c), n)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"recovery_codes": codes})
	return nil
}

type challengeBody struct {
	Method *string `json:"method"`
	Code   *string `json:"code"`
}

func (b *challengeBody) Validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"method", b.Method}, {"code", b.Code}} {
		if f.v == nil {
			return wire.Invalid("Field '%s' is required", f.name)
		}
		if *f.v == "" {
			return wire.Invalid("String must contain at least 1 character(s) (%s)", f.name)
		}
	}
	return nil
}

func (h handlers) verifyChallenge(c *gin.Context) error {
	var in challengeBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	tok, err := h.Auth.VerifyMFAChallenge(c.Request.Context(), tenantOf(c), caller(c), c.Param("id"), *in.Method, *in.Code)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"token": tok})
	return nil
}

// loginJSON renders a login or refresh result: {token}, or Medusa's
// {mfa_required, mfa_challenge, token}.
func loginJSON(r *auth.LoginResult) gin.H {
	if r.VerificationRequired {
		h := gin.H{"verification_required": true, "token": r.Token}
		if r.Verification != nil {
			h["verification"] = r.Verification
		}
		return h
	}
	if r.MFAChallenge != nil {
		return gin.H{"mfa_required": true, "mfa_challenge": r.MFAChallenge, "token": r.Token}
	}
	return gin.H{"token": r.Token}
}
