package auth

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/customer"
	"github.com/gatehousehq/gatehouse/ent/customeraddress"
)

// MaxAddresses bounds one customer's addresses (Medusa has no bound): a
// customer token alone must not be able to fill the database.
const MaxAddresses = 100

// AddressText are the text fields of an address, by their API (and column)
// name.
var AddressText = []string{
	customeraddress.FieldAddressName, customeraddress.FieldCompany, customeraddress.FieldFirstName,
	customeraddress.FieldLastName, customeraddress.FieldAddress1, customeraddress.FieldAddress2,
	customeraddress.FieldCity, customeraddress.FieldProvince, customeraddress.FieldPostalCode,
	customeraddress.FieldCountryCode, customeraddress.FieldPhone,
}

// AddressInput is what a request sends of an address: Text holds the text
// fields it names (a nil value clears one), Metadata is set when
// SetMetadata, and the default flags when not nil.
type AddressInput struct {
	Text            map[string]*string
	Metadata        map[string]any
	SetMetadata     bool
	DefaultShipping *bool
	DefaultBilling  *bool
}

// AddressFilter selects a customer's addresses.
type AddressFilter struct {
	Q                                 string // substring of the name, company, people, street, city or postal code
	Cities, CountryCodes, PostalCodes []string
	Order                             gatehouse.ListOrder // from AddressOrderFields; zero: oldest first
	Offset, Limit                     int
}

// AddressOrderFields are the fields an address list sorts by (?order=).
var AddressOrderFields = map[string]string{
	"id": customeraddress.FieldID, "address_name": customeraddress.FieldAddressName, "company": customeraddress.FieldCompany,
	"first_name": customeraddress.FieldFirstName, "last_name": customeraddress.FieldLastName, "city": customeraddress.FieldCity,
	"country_code": customeraddress.FieldCountryCode, "postal_code": customeraddress.FieldPostalCode,
	"created_at": customeraddress.FieldCreatedAt, "updated_at": customeraddress.FieldUpdatedAt,
}

func addressNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Address with id: %s was not found", id)
}

// FindAddresses returns a page of a customer's addresses and their count.
func (s *Service) FindAddresses(ctx context.Context, customerID string, f AddressFilter) ([]*ent.CustomerAddress, int, error) {
	q := s.db.CustomerAddress.Query().Where(customeraddress.CustomerID(customerID))
	if f.Q != "" {
		q = q.Where(customeraddress.Or(customeraddress.AddressNameContainsFold(f.Q), customeraddress.CompanyContainsFold(f.Q),
			customeraddress.FirstNameContainsFold(f.Q), customeraddress.LastNameContainsFold(f.Q),
			customeraddress.Address1ContainsFold(f.Q), customeraddress.Address2ContainsFold(f.Q),
			customeraddress.CityContainsFold(f.Q), customeraddress.PostalCodeContainsFold(f.Q)))
	}
	if len(f.Cities) > 0 {
		q = q.Where(customeraddress.CityIn(f.Cities...))
	}
	if len(f.CountryCodes) > 0 {
		q = q.Where(customeraddress.CountryCodeIn(f.CountryCodes...))
	}
	if len(f.PostalCodes) > 0 {
		q = q.Where(customeraddress.PostalCodeIn(f.PostalCodes...))
	}
	n, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count addresses: %w", err)
	}
	if f.Limit <= 0 || f.Offset >= n {
		return []*ent.CustomerAddress{}, n, nil
	}
	as, err := q.Order(gatehouse.OrderTerms[customeraddress.OrderOption](f.Order,
		ent.Asc(customeraddress.FieldCreatedAt), ent.Asc(customeraddress.FieldID))...).
		Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list addresses: %w", err)
	}
	return as, n, nil
}

// cachedAddresses is the most addresses of one customer the actor cache
// keeps: most customers have a few, and the cache bounds entries, not bytes.
const cachedAddresses = 4

// CustomerAddresses returns all of a customer's addresses, oldest first (at
// most MaxAddresses), as a customer object shows them. Every
// /store/customers/me answer carries them, so a short list is kept in the
// actor cache beside the customer (dropped on every node by any address
// write); the values are shared and must not be modified.
func (s *Service) CustomerAddresses(ctx context.Context, customerID string) ([]*ent.CustomerAddress, error) {
	load := func() ([]*ent.CustomerAddress, error) {
		return s.db.CustomerAddress.Query().Where(customeraddress.CustomerID(customerID)).
			Order(ent.Asc(customeraddress.FieldCreatedAt), ent.Asc(customeraddress.FieldID)).Limit(MaxAddresses).All(ctx)
	}
	as, err := findActorIf(ctx, s.actors, 'a', customerID, load, func(as []*ent.CustomerAddress) bool { return len(as) <= cachedAddresses })
	if err != nil {
		return nil, fmt.Errorf("customer addresses: %w", err)
	}
	return as, nil
}

// FindAddress returns one of a customer's addresses. Errors: not_found (also
// for another customer's address).
func (s *Service) FindAddress(ctx context.Context, customerID, id string) (*ent.CustomerAddress, error) {
	a, err := s.db.CustomerAddress.Query().Where(customeraddress.ID(id), customeraddress.CustomerID(customerID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, addressNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find address: %w", err)
	}
	return a, nil
}

// CreateAddress adds an address to a customer; made a default, it takes
// that role from the customer's other addresses. Errors: invalid (too many
// addresses).
func (s *Service) CreateAddress(ctx context.Context, customerID string, in AddressInput) (_ *ent.CustomerAddress, err error) {
	defer func() { s.addressesChanged(ctx, customerID, err) }()
	return inTx(ctx, s.db, "create address", func(tx *ent.Tx) (*ent.CustomerAddress, error) {
		if err := lockCustomer(ctx, tx, customerID); err != nil {
			return nil, err
		}
		n, err := tx.CustomerAddress.Query().Where(customeraddress.CustomerID(customerID)).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n >= MaxAddresses {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "A customer can have at most %d addresses", MaxAddresses)
		}
		if err := s.takeDefaults(ctx, tx, customerID, "", in); err != nil {
			return nil, err
		}
		c := tx.CustomerAddress.Create().SetCustomerID(customerID)
		if err := in.apply(c.Mutation(), false); err != nil {
			return nil, err
		}
		return c.Save(ctx)
	})
}

// UpdateAddress changes one of a customer's addresses. Errors: not_found.
func (s *Service) UpdateAddress(ctx context.Context, customerID, id string, in AddressInput) (_ *ent.CustomerAddress, err error) {
	defer func() { s.addressesChanged(ctx, customerID, err) }()
	return inTx(ctx, s.db, "update address", func(tx *ent.Tx) (*ent.CustomerAddress, error) {
		if err := lockCustomer(ctx, tx, customerID); err != nil {
			return nil, err
		}
		if _, err := tx.CustomerAddress.Query().Where(customeraddress.ID(id), customeraddress.CustomerID(customerID)).Only(ctx); err != nil {
			if ent.IsNotFound(err) {
				return nil, addressNotFound(id)
			}
			return nil, err
		}
		if err := s.takeDefaults(ctx, tx, customerID, id, in); err != nil {
			return nil, err
		}
		u := tx.CustomerAddress.UpdateOneID(id)
		if err := in.apply(u.Mutation(), true); err != nil {
			return nil, err
		}
		return u.Save(ctx)
	})
}

// DeleteAddress removes one of a customer's addresses. Errors: not_found.
func (s *Service) DeleteAddress(ctx context.Context, customerID, id string) (err error) {
	defer func() { s.addressesChanged(ctx, customerID, err) }()
	n, err := s.db.CustomerAddress.Delete().Where(customeraddress.ID(id), customeraddress.CustomerID(customerID)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete address: %w", err)
	}
	if n == 0 {
		return addressNotFound(id)
	}
	return nil
}

// addressesChanged drops customerID's cached addresses on every node after
// a write, unless the write was refused (not found, invalid), which changed
// nothing; an internal error may have come after the commit.
func (s *Service) addressesChanged(ctx context.Context, customerID string, err error) {
	if err == nil || gatehouse.ErrorCode(err) == gatehouse.EINTERNAL {
		s.actors.changed(ctx, 'a', customerID)
	}
}

// lockCustomer holds customerID's row until tx ends, so that concurrent
// writes of one customer's addresses take turns: the count checked against
// MaxAddresses and the default flags handed over are still true when tx
// commits. PostgreSQL locks the row (SELECT … FOR UPDATE); SQLite has no row
// locks, and its single connection already runs one transaction at a time.
func lockCustomer(ctx context.Context, tx *ent.Tx, customerID string) error {
	ids, err := tx.Customer.Query().Where(customer.ID(customerID)).Unique(false).Select(customer.FieldID).
		Modify(func(s *sql.Selector) {
			if s.Dialect() == dialect.Postgres {
				s.ForUpdate()
			}
		}).Strings(ctx)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return customerNotFound(customerID)
	}
	return nil
}

// takeDefaults clears the default flags in sets from the customer's other
// addresses (all but except), so that one address at most holds each.
func (s *Service) takeDefaults(ctx context.Context, tx *ent.Tx, customerID, except string, in AddressInput) error {
	others := func() *ent.CustomerAddressUpdate {
		return tx.CustomerAddress.Update().Where(customeraddress.CustomerID(customerID), customeraddress.IDNEQ(except))
	}
	if in.DefaultShipping != nil && *in.DefaultShipping {
		if _, err := others().Where(customeraddress.IsDefaultShipping(true)).SetIsDefaultShipping(false).Save(ctx); err != nil {
			return err
		}
	}
	if in.DefaultBilling != nil && *in.DefaultBilling {
		if _, err := others().Where(customeraddress.IsDefaultBilling(true)).SetIsDefaultBilling(false).Save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// apply writes in to an address mutation; update clears the text fields
// sent as null (a new address simply lacks them).
func (in AddressInput) apply(m *ent.CustomerAddressMutation, update bool) error {
	for name, v := range in.Text {
		switch {
		case v != nil:
			if err := m.SetField(name, *v); err != nil {
				return err
			}
		case update:
			if err := m.ClearField(name); err != nil {
				return err
			}
		}
	}
	if in.SetMetadata {
		if in.Metadata == nil {
			if update {
				m.ClearMetadata()
			}
		} else {
			m.SetMetadata(in.Metadata)
		}
	}
	if in.DefaultShipping != nil {
		m.SetIsDefaultShipping(*in.DefaultShipping)
	}
	if in.DefaultBilling != nil {
		m.SetIsDefaultBilling(*in.DefaultBilling)
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn succeeds. An error of
// fn wrapped in what, unless it is one of the API's own (a *gatehouse.Error).
func inTx[T any](ctx context.Context, db *ent.Client, what string, fn func(*ent.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := db.Tx(ctx)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	v, err := fn(tx)
	if err != nil {
		_ = tx.Rollback()
		if gatehouse.ErrorCode(err) != gatehouse.EINTERNAL {
			return zero, err
		}
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}
