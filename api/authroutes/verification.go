package authroutes

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
)

// Email verification (contract 2.12).
func registerVerification(g *gin.RouterGroup, h handlers) {
	anyActor := []string{"*"}
	either := h.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, Session: true, AllowUnregistered: true, SkipMFA: true})
	optional := h.Authenticate(wire.AuthSpec{Actors: anyActor, Bearer: true, Session: true, AllowUnregistered: true, SkipMFA: true, Optional: true})
	g.POST("/verification/request", either, wire.H(h.requestVerification))
	g.POST("/verification/confirm", optional, wire.H(h.confirmVerification))
}

type verificationRequestBody struct {
	EntityID     *string        `json:"entity_id"`
	EntityType   *string        `json:"entity_type"`
	CodeProvider *string        `json:"code_provider"`
	Metadata     map[string]any `json:"metadata"`
}

func (b *verificationRequestBody) Validate() error {
	if b.EntityID == nil || strings.TrimSpace(*b.EntityID) == "" {
		return wire.Invalid("Field 'entity_id' is required")
	}
	if b.EntityType == nil || strings.TrimSpace(*b.EntityType) == "" {
		return wire.Invalid("Field 'entity_type' is required")
	}
	if len(*b.EntityID) > 320 || len(*b.EntityType) > 64 {
		return wire.Invalid("Fields 'entity_id' and 'entity_type' are too long")
	}
	return nil
}

func (h handlers) requestVerification(c *gin.Context) error {
	var in verificationRequestBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	req := auth.VerificationRequest{EntityID: *in.EntityID, EntityType: *in.EntityType, Metadata: in.Metadata}
	if in.CodeProvider != nil {
		req.CodeProvider = *in.CodeProvider
	}
	v, err := h.Auth.RequestVerification(c.Request.Context(), caller(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, gin.H{"verification": v})
	return nil
}

type verificationConfirmBody struct {
	Code         *string `json:"code"`
	CodeProvider *string `json:"code_provider"`
}

func (b *verificationConfirmBody) Validate() error {
	if b.Code == nil || *b.Code == "" {
		return wire.Invalid("Field 'code' is required")
	}
	return nil
}

func (h handlers) confirmVerification(c *gin.Context) error {
	var in verificationConfirmBody
	if err := wire.Bind(c, &in); err != nil {
		return err
	}
	provider := ""
	if in.CodeProvider != nil {
		provider = *in.CodeProvider
	}
	r, err := h.Auth.ConfirmVerification(c.Request.Context(), *in.Code, provider)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, r)
	return nil
}
