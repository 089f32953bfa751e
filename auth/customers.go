package auth

import (
	"context"
	"fmt"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/customer"
)

// CustomerInput describes a store customer's profile. Set* flags say a field
// was sent (possibly as null).
type CustomerInput struct {
	Email                                     *string
	CompanyName, FirstName, LastName, Phone   *string
	SetCompanyName, SetFirstName, SetLastName bool
	SetPhone                                  bool
	Metadata                                  map[string]any
	SetMetadata                               bool
}

// CreateCustomer registers the caller (a customer registration token) as a
// customer with an account. The email must be the identity's own (Medusa
// accepts any). Errors: invalid, duplicate.
func (s *Service) CreateCustomer(ctx context.Context, caller *Context, in CustomerInput) (*ent.Customer, error) {
	if caller.ActorID != "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Request already authenticated as a customer.")
	}
	if in.Email == nil || *in.Email == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Email is required to create a customer")
	}
	email := NormalizeEmail(*in.Email)
	idEmail, err := s.identityEmail(ctx, s.db, caller.AuthIdentityID)
	if err != nil {
		return nil, err
	}
	if idEmail != email {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The email must be the one the customer registered with")
	}
	dup := gatehouse.Errorf(gatehouse.EDUPLICATE, "Customer with this email already has an account")
	if exists, err := s.db.Customer.Query().Where(customer.Email(email), customer.HasAccount(true)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	} else if exists {
		return nil, dup
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	c := tx.Customer.Create().SetEmail(email).SetHasAccount(true).
		SetNillableCompanyName(in.CompanyName).SetNillableFirstName(in.FirstName).
		SetNillableLastName(in.LastName).SetNillablePhone(in.Phone)
	if in.Metadata != nil {
		c.SetMetadata(in.Metadata)
	}
	cus, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, dup
		}
		return nil, fmt.Errorf("create customer: %w", err)
	}
	if err := linkActor(ctx, tx.Client(), caller.AuthIdentityID, "customer_id", cus.ID); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := s.emit(ctx, tx, "customer.created", map[string]any{"id": cus.ID}); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	audit.SetTarget(ctx, cus.ID)
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	return cus, nil
}

func customerNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Customer with id: %s was not found", id)
}

// FindCustomerByID returns a customer. Errors: not_found.
func (s *Service) FindCustomerByID(ctx context.Context, id string) (*ent.Customer, error) {
	c, err := findActor(ctx, s.actors, 'c', id, func() (*ent.Customer, error) { return s.db.Customer.Query().Where(customer.ID(id)).Only(ctx) })
	if ent.IsNotFound(err) {
		return nil, customerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	return c, nil
}

// UpdateCustomer changes a customer's profile (not its email). Errors: not_found.
func (s *Service) UpdateCustomer(ctx context.Context, id string, in CustomerInput) (*ent.Customer, error) {
	u := s.db.Customer.UpdateOneID(id)
	set := func(flag bool, v *string, setter func(*string) *ent.CustomerUpdateOne, clear func() *ent.CustomerUpdateOne) {
		if !flag {
			return
		}
		if v == nil {
			clear()
		} else {
			setter(v)
		}
	}
	set(in.SetCompanyName, in.CompanyName, u.SetNillableCompanyName, u.ClearCompanyName)
	set(in.SetFirstName, in.FirstName, u.SetNillableFirstName, u.ClearFirstName)
	set(in.SetLastName, in.LastName, u.SetNillableLastName, u.ClearLastName)
	set(in.SetPhone, in.Phone, u.SetNillablePhone, u.ClearPhone)
	if in.SetMetadata {
		if in.Metadata == nil {
			u.ClearMetadata()
		} else {
			u.SetMetadata(in.Metadata)
		}
	}
	c, err := u.Save(ctx)
	s.actors.changed(ctx, 'c', id)
	if ent.IsNotFound(err) {
		return nil, customerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("update customer: %w", err)
	}
	return c, nil
}
