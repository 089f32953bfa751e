package store

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse/api/wire"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
)

type addressJSON struct {
	ID                string         `json:"id"`
	AddressName       *string        `json:"address_name"`
	Company           *string        `json:"company"`
	CustomerID        string         `json:"customer_id"`
	FirstName         *string        `json:"first_name"`
	LastName          *string        `json:"last_name"`
	Address1          *string        `json:"address_1"`
	Address2          *string        `json:"address_2"`
	City              *string        `json:"city"`
	Province          *string        `json:"province"`
	PostalCode        *string        `json:"postal_code"`
	CountryCode       *string        `json:"country_code"`
	Phone             *string        `json:"phone"`
	Metadata          map[string]any `json:"metadata"`
	IsDefaultShipping bool           `json:"is_default_shipping"`
	IsDefaultBilling  bool           `json:"is_default_billing"`
	CreatedAt         string         `json:"created_at"`
	UpdatedAt         string         `json:"updated_at"`
	DeletedAt         *string        `json:"deleted_at"`
}

func toAddress(a *ent.CustomerAddress) addressJSON {
	return addressJSON{ID: a.ID, AddressName: a.AddressName, Company: a.Company, CustomerID: a.CustomerID,
		FirstName: a.FirstName, LastName: a.LastName, Address1: a.Address1, Address2: a.Address2, City: a.City,
		Province: a.Province, PostalCode: a.PostalCode, CountryCode: a.CountryCode, Phone: a.Phone, Metadata: a.Metadata,
		IsDefaultShipping: a.IsDefaultShipping, IsDefaultBilling: a.IsDefaultBilling,
		CreatedAt: iso(a.CreatedAt), UpdatedAt: iso(a.UpdatedAt)}
}

func toAddresses(as []*ent.CustomerAddress) []addressJSON {
	out := make([]addressJSON, 0, len(as))
	for _, a := range as {
		out = append(out, toAddress(a))
	}
	return out
}

// addressBody is Medusa's address payload (strict) plus address_name and
// the default flags; raw fields tell "absent" from "null".
type addressBody struct {
	AddressName       json.RawMessage `json:"address_name"`
	Company           json.RawMessage `json:"company"`
	FirstName         json.RawMessage `json:"first_name"`
	LastName          json.RawMessage `json:"last_name"`
	Address1          json.RawMessage `json:"address_1"`
	Address2          json.RawMessage `json:"address_2"`
	City              json.RawMessage `json:"city"`
	Province          json.RawMessage `json:"province"`
	PostalCode        json.RawMessage `json:"postal_code"`
	CountryCode       json.RawMessage `json:"country_code"`
	Phone             json.RawMessage `json:"phone"`
	Metadata          json.RawMessage `json:"metadata"`
	IsDefaultShipping json.RawMessage `json:"is_default_shipping"`
	IsDefaultBilling  json.RawMessage `json:"is_default_billing"`
}

// maxAddressText bounds each text field of an address.
const maxAddressText = 1024

func (b addressBody) input() (auth.AddressInput, error) {
	in := auth.AddressInput{Text: map[string]*string{}}
	for name, raw := range map[string]json.RawMessage{
		"address_name": b.AddressName, "company": b.Company, "first_name": b.FirstName, "last_name": b.LastName,
		"address_1": b.Address1, "address_2": b.Address2, "city": b.City, "province": b.Province,
		"postal_code": b.PostalCode, "country_code": b.CountryCode, "phone": b.Phone,
	} {
		v, set, err := str(raw, name)
		if err != nil {
			return in, err
		}
		if v != nil && len(*v) > maxAddressText {
			return in, wire.Invalid("Value for field '%s' too big, expected at most: '%d'", name, maxAddressText)
		}
		if set {
			in.Text[name] = v
		}
	}
	var err error
	if in.Metadata, in.SetMetadata, err = metadata(b.Metadata); err != nil {
		return in, err
	}
	for name, f := range map[string]struct {
		raw json.RawMessage
		dst **bool
	}{"is_default_shipping": {b.IsDefaultShipping, &in.DefaultShipping}, "is_default_billing": {b.IsDefaultBilling, &in.DefaultBilling}} {
		if f.raw == nil {
			continue
		}
		var v bool
		if err := json.Unmarshal(f.raw, &v); err != nil || string(f.raw) == "null" {
			return in, wire.Invalid("Expected type: 'boolean' for field '%s', got: '%s'", name, wire.JSONKind(f.raw))
		}
		*f.dst = &v
	}
	return in, nil
}

// registerAddresses mounts /store/customers/me/addresses: the signed-in
// customer's own addresses only (another customer's id is a 404, never data).
// Writes answer with the customer, addresses included, as Medusa does.
func registerAddresses(g *gin.RouterGroup, d Deps, me func(*gin.Context) (*auth.Context, error)) {
	// write reads a write's caller and body.
	write := func(c *gin.Context) (*auth.Context, auth.AddressInput, error) {
		ac, err := me(c)
		if err != nil {
			return nil, auth.AddressInput{}, err
		}
		var b addressBody
		if err := wire.Bind(c, &b); err != nil {
			return nil, auth.AddressInput{}, err
		}
		in, err := b.input()
		return ac, in, err
	}
	g.GET("/customers/me/addresses", wire.H(func(c *gin.Context) error {
		ac, err := me(c)
		if err != nil {
			return err
		}
		p, err := wire.SortedListParams(c, 50, auth.AddressOrderFields)
		if err != nil {
			return err
		}
		as, n, err := d.Auth.FindAddresses(c.Request.Context(), ac.ActorID, auth.AddressFilter{Q: p.Q,
			Cities: wire.QueryList(c, "city"), CountryCodes: wire.QueryList(c, "country_code"), PostalCodes: wire.QueryList(c, "postal_code"),
			Order: p.Order, Offset: p.Offset, Limit: p.Limit})
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"addresses": toAddresses(as), "count": n, "offset": p.Offset, "limit": p.Limit})
		return nil
	}))
	g.POST("/customers/me/addresses", wire.H(func(c *gin.Context) error {
		ac, in, err := write(c)
		if err != nil {
			return err
		}
		// CreateAddress checks that the customer exists (it locks its row).
		a, err := d.Auth.CreateAddress(c.Request.Context(), ac.ActorID, in)
		if err != nil {
			return err
		}
		audit.SetTarget(c.Request.Context(), a.ID)
		out, err := customerByID(c, d, ac.ActorID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"customer": out})
		return nil
	}))
	g.GET("/customers/me/addresses/:address_id", wire.H(func(c *gin.Context) error {
		ac, err := me(c)
		if err != nil {
			return err
		}
		a, err := d.Auth.FindAddress(c.Request.Context(), ac.ActorID, c.Param("address_id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"address": toAddress(a)})
		return nil
	}))
	g.POST("/customers/me/addresses/:address_id", wire.H(func(c *gin.Context) error {
		ac, in, err := write(c)
		if err != nil {
			return err
		}
		audit.SetTarget(c.Request.Context(), c.Param("address_id"))
		if _, err := d.Auth.UpdateAddress(c.Request.Context(), ac.ActorID, c.Param("address_id"), in); err != nil {
			return err
		}
		cus, err := customerByID(c, d, ac.ActorID)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"customer": cus})
		return nil
	}))
	g.DELETE("/customers/me/addresses/:address_id", wire.H(func(c *gin.Context) error {
		ac, err := me(c)
		if err != nil {
			return err
		}
		audit.SetTarget(c.Request.Context(), c.Param("address_id"))
		if err := d.Auth.DeleteAddress(c.Request.Context(), ac.ActorID, c.Param("address_id")); err != nil {
			return err
		}
		cus, err := customerByID(c, d, ac.ActorID)
		if err != nil {
			return err
		}
		// Medusa 2.21 answers with the customer's id here, not the
		// address's (its route reads the actor id); clients see that.
		c.JSON(http.StatusOK, gin.H{"id": ac.ActorID, "object": "address", "deleted": true, "parent": cus})
		return nil
	}))
}

// customerByID is customer id as Medusa shows it, with its addresses.
func customerByID(c *gin.Context, d Deps, id string) (customerJSON, error) {
	cus, err := d.Auth.FindCustomerByID(c.Request.Context(), id)
	if err != nil {
		return customerJSON{}, err
	}
	return withAddresses(c, d, cus)
}

// withAddresses is the customer as Medusa shows it: with its addresses.
func withAddresses(c *gin.Context, d Deps, cus *ent.Customer) (customerJSON, error) {
	as, err := d.Auth.CustomerAddresses(c.Request.Context(), cus.ID)
	if err != nil {
		return customerJSON{}, err
	}
	out := toCustomer(cus)
	out.Addresses = toAddresses(as)
	return out, nil
}
