// Package store serves Medusa's /store routes of a tenant: customer
// registration and the customer's own profile and addresses. Every request has passed the
// publishable-key check and optional customer authentication.
package store

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

// Deps are the services the store routes call.
type Deps struct {
	Auth *auth.Service
}

type customerJSON struct {
	ID          string         `json:"id"`
	Email       string         `json:"email"`
	CompanyName *string        `json:"company_name"`
	FirstName   *string        `json:"first_name"`
	LastName    *string        `json:"last_name"`
	Phone       *string        `json:"phone"`
	Metadata    map[string]any `json:"metadata"`
	HasAccount  bool           `json:"has_account"`
	Addresses   []addressJSON  `json:"addresses"`
	CreatedAt   string         `json:"created_at"`
	UpdatedAt   string         `json:"updated_at"`
	DeletedAt   *string        `json:"deleted_at"`
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func toCustomer(c *ent.Customer) customerJSON {
	return customerJSON{ID: c.ID, Email: c.Email, CompanyName: c.CompanyName, FirstName: c.FirstName, LastName: c.LastName,
		Phone: c.Phone, Metadata: c.Metadata, HasAccount: c.HasAccount, Addresses: []addressJSON{},
		CreatedAt: iso(c.CreatedAt), UpdatedAt: iso(c.UpdatedAt)}
}

// customerBody is POST /store/customers and /store/customers/me; raw fields
// tell "absent" from "null".
type customerBody struct {
	Email       json.RawMessage `json:"email"`
	CompanyName json.RawMessage `json:"company_name"`
	FirstName   json.RawMessage `json:"first_name"`
	LastName    json.RawMessage `json:"last_name"`
	Phone       json.RawMessage `json:"phone"`
	Metadata    json.RawMessage `json:"metadata"`
}

type updateBody struct {
	CompanyName json.RawMessage `json:"company_name"`
	FirstName   json.RawMessage `json:"first_name"`
	LastName    json.RawMessage `json:"last_name"`
	Phone       json.RawMessage `json:"phone"`
	Metadata    json.RawMessage `json:"metadata"`
}

func str(raw json.RawMessage, field string) (*string, bool, error) {
	if raw == nil {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, false, wire.Invalid("Expected type: 'string' for field '%s', got: '%s'", field, "other")
	}
	return &s, true, nil
}

func profile(company, first, last, phone, meta json.RawMessage) (auth.CustomerInput, error) {
	var in auth.CustomerInput
	var err error
	if in.CompanyName, in.SetCompanyName, err = str(company, "company_name"); err != nil {
		return in, err
	}
	if in.FirstName, in.SetFirstName, err = str(first, "first_name"); err != nil {
		return in, err
	}
	if in.LastName, in.SetLastName, err = str(last, "last_name"); err != nil {
		return in, err
	}
	if in.Phone, in.SetPhone, err = str(phone, "phone"); err != nil {
		return in, err
	}
	in.Metadata, in.SetMetadata, err = metadata(meta)
	return in, err
}

// metadata decodes an optional, nullable metadata object: set reports
// whether it was sent at all (null clears it).
func metadata(raw json.RawMessage) (m map[string]any, set bool, err error) {
	if raw != nil && string(raw) != "null" {
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, false, wire.Invalid("Expected type: 'object' for field 'metadata', got: 'other'")
		}
	}
	return m, raw != nil, nil
}

// Register mounts the store routes on g.
func Register(g *gin.RouterGroup, d Deps) {
	g.POST("/customers", wire.H(func(c *gin.Context) error {
		ac, ok := auth.FromContext(c.Request.Context())
		if !ok || ac.AuthIdentityID == "" {
			return wire.Unauthorized
		}
		var b customerBody
		if err := wire.Bind(c, &b); err != nil {
			return err
		}
		in, err := profile(b.CompanyName, b.FirstName, b.LastName, b.Phone, b.Metadata)
		if err != nil {
			return err
		}
		if in.Email, _, err = str(b.Email, "email"); err != nil {
			return err
		}
		cus, err := d.Auth.CreateCustomer(c.Request.Context(), ac, in)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"customer": toCustomer(cus)})
		return nil
	}))
	me := func(c *gin.Context) (*auth.Context, error) {
		ac, ok := auth.FromContext(c.Request.Context())
		if !ok || ac.ActorID == "" {
			return nil, wire.Unauthorized
		}
		if ac.MFAEnabled && ac.MFAChallengeCompletedAt == nil {
			return nil, wire.Unauthorized
		}
		return ac, nil
	}
	g.GET("/customers/me", wire.H(func(c *gin.Context) error {
		ac, err := me(c)
		if err != nil {
			return err
		}
		out, err := customerByID(c, d, ac.ActorID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"customer": out})
		return nil
	}))
	g.POST("/customers/me", wire.H(func(c *gin.Context) error {
		ac, err := me(c)
		if err != nil {
			return err
		}
		var b updateBody
		if err := wire.Bind(c, &b); err != nil {
			return err
		}
		in, err := profile(b.CompanyName, b.FirstName, b.LastName, b.Phone, b.Metadata)
		if err != nil {
			return err
		}
		cus, err := d.Auth.UpdateCustomer(c.Request.Context(), ac.ActorID, in)
		if err != nil {
			return err
		}
		out, err := withAddresses(c, d, cus)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"customer": out})
		return nil
	}))
	registerAddresses(g, d, me)
}

// Query lists the query parameters of each /store route that Medusa 2.21
// validates (strictly: any other is a 400 "Unrecognized fields"); fields is
// accepted and has no effect.
var Query = wire.QueryFields{
	"POST /store/customers":    wire.Select,
	"GET /store/customers/me":  wire.Select,
	"POST /store/customers/me": wire.Select,

	"GET /store/customers/me/addresses":                wire.Fields(wire.Find, "q", "city", "country_code", "postal_code"),
	"POST /store/customers/me/addresses":               wire.Select,
	"GET /store/customers/me/addresses/:address_id":    wire.Select,
	"POST /store/customers/me/addresses/:address_id":   wire.Select,
	"DELETE /store/customers/me/addresses/:address_id": wire.Select,
}
