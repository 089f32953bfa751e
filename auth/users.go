package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/authidentity"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/provideridentity"
	"github.com/gatehousehq/gatehouse/ent/user"
)

// UserFilter selects users.
type UserFilter struct {
	Q         string
	IDs       []string
	Email     string
	FirstName string
	LastName  string
	Dates     gatehouse.Dates
	Order     gatehouse.ListOrder // from UserOrderFields; zero: oldest first
	Offset    int
	Limit     int
}

// UserOrderFields are the fields GET /admin/users sorts by (?order=).
var UserOrderFields = map[string]string{
	"id": user.FieldID, "email": user.FieldEmail, "first_name": user.FieldFirstName, "last_name": user.FieldLastName,
	"created_at": user.FieldCreatedAt, "updated_at": user.FieldUpdatedAt,
}

// FindUsers returns a page of the tenant's users and the total count.
func (s *Service) FindUsers(ctx context.Context, f UserFilter) ([]*ent.User, int, error) {
	q := s.db.User.Query()
	if f.Q != "" {
		q = q.Where(user.Or(user.EmailContainsFold(f.Q), user.FirstNameContainsFold(f.Q), user.LastNameContainsFold(f.Q)))
	}
	if len(f.IDs) > 0 {
		q = q.Where(user.IDIn(f.IDs...))
	}
	if f.Email != "" {
		q = q.Where(user.Email(NormalizeEmail(f.Email)))
	}
	if f.FirstName != "" {
		q = q.Where(user.FirstName(f.FirstName))
	}
	if f.LastName != "" {
		q = q.Where(user.LastName(f.LastName))
	}
	q = q.Where(gatehouse.DatePredicates[predicate.User](f.Dates)...)
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	us, err := q.Order(gatehouse.OrderTerms[user.OrderOption](f.Order, ent.Asc(user.FieldCreatedAt), ent.Asc(user.FieldID))...).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return us, count, nil
}

func userNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "User with id: %s was not found", id)
}

// FindUserByID returns a user. Errors: not_found.
func (s *Service) FindUserByID(ctx context.Context, id string) (*ent.User, error) {
	u, err := findActor(ctx, s.actors, 'u', id, func() (*ent.User, error) { return s.db.User.Query().Where(user.ID(id)).Only(ctx) })
	if ent.IsNotFound(err) {
		return nil, userNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	return u, nil
}

// UserUpdate changes a user's profile; a nil field is left as is, Set* with a
// nil value clears it.
type UserUpdate struct {
	FirstName, LastName, AvatarURL          *string
	SetFirstName, SetLastName, SetAvatarURL bool
	Metadata                                map[string]any
	SetMetadata                             bool
}

// UpdateUser changes a user. Errors: not_found.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserUpdate) (*ent.User, error) {
	u := s.db.User.UpdateOneID(id)
	if in.SetFirstName {
		u.SetNillableFirstName(in.FirstName)
		if in.FirstName == nil {
			u.ClearFirstName()
		}
	}
	if in.SetLastName {
		u.SetNillableLastName(in.LastName)
		if in.LastName == nil {
			u.ClearLastName()
		}
	}
	if in.SetAvatarURL {
		u.SetNillableAvatarURL(in.AvatarURL)
		if in.AvatarURL == nil {
			u.ClearAvatarURL()
		}
	}
	if in.SetMetadata {
		if in.Metadata == nil {
			u.ClearMetadata()
		} else {
			u.SetMetadata(in.Metadata)
		}
	}
	out, err := u.Save(ctx)
	s.actors.changed(ctx, 'u', id)
	if ent.IsNotFound(err) {
		return nil, userNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	return out, nil
}

// DeleteUser deletes a user, unlinks it from its identity (deleting the
// identity when no other actor uses it) and revokes everything issued to it.
// Deleting an unknown id succeeds (Medusa). Errors: not_allowed (self).
func (s *Service) DeleteUser(ctx context.Context, caller *Context, id string) error {
	if caller != nil && caller.ActorType == ActorUser && caller.ActorID == id {
		return gatehouse.Errorf(gatehouse.ENOTALLOWED, "A user cannot delete itself")
	}
	tn, err := tenantOf(ctx)
	if err != nil {
		return err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	n, err := tx.User.Delete().Where(user.ID(id)).Exec(ctx)
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("delete user: %w", err)
	}
	var identities []string
	if n > 0 && s.roles.RemoveTx != nil {
		if err := s.roles.RemoveTx(ctx, tx.Client(), "user:"+id); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if n > 0 {
		identities, err = unlinkActor(ctx, tx.Client(), "user_id", id)
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := s.emit(ctx, tx, "user.deleted", map[string]any{"id": id}); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	s.actors.changed(ctx, 'u', id)
	if n > 0 {
		s.rolesChanged(ctx)
	}
	for _, ai := range identities {
		if err := s.revokeIdentity(ctx, tn.ID, ai); err != nil {
			return err
		}
	}
	return nil
}

// unlinkActor removes key=id from the identities that carry it and deletes
// identities left with no actor; it returns the identities touched.
func unlinkActor(ctx context.Context, db *ent.Client, key, id string) ([]string, error) {
	ais, err := db.AuthIdentity.Query().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("unlink actor: %w", err)
	}
	var touched []string
	for _, ai := range ais {
		if v, _ := ai.AppMetadata[key].(string); v != id {
			continue
		}
		touched = append(touched, ai.ID)
		app := copyMap(ai.AppMetadata)
		delete(app, key)
		hasActor := false
		for k := range app {
			hasActor = hasActor || strings.HasSuffix(k, "_id")
		}
		if !hasActor {
			if _, err := db.ProviderIdentity.Delete().Where(provideridentity.AuthIdentityID(ai.ID)).Exec(ctx); err != nil {
				return nil, fmt.Errorf("unlink actor: %w", err)
			}
			if err := db.AuthIdentity.DeleteOneID(ai.ID).Exec(ctx); err != nil {
				return nil, fmt.Errorf("unlink actor: %w", err)
			}
			continue
		}
		if err := db.AuthIdentity.UpdateOneID(ai.ID).SetAppMetadata(app).Exec(ctx); err != nil {
			return nil, fmt.Errorf("unlink actor: %w", err)
		}
	}
	return touched, nil
}

// UserResetToken makes a reset token for a user's emailpass identity and
// returns it to the (admin) caller, as Medusa does. Errors: not_found.
func (s *Service) UserResetToken(ctx context.Context, id string) (string, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return "", err
	}
	u, err := s.FindUserByID(ctx, id)
	if err != nil {
		return "", err
	}
	tok, err := s.resetToken(ctx, tn, ActorUser, "emailpass", NormalizeEmail(u.Email), nil)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", userNotFound(id)
	}
	return tok, nil
}

// UserProviders lists the providers of a user's identities.
func (s *Service) UserProviders(ctx context.Context, id string) ([]string, error) {
	u, err := s.FindUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	pis, err := s.db.ProviderIdentity.Query().Where(provideridentity.EntityID(NormalizeEmail(u.Email))).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("user providers: %w", err)
	}
	out := []string{}
	for _, p := range pis {
		out = append(out, p.Provider)
	}
	return out, nil
}

// CreateUserInput describes an admin user made by the CLI.
type CreateUserInput struct {
	Email, Password     string
	FirstName, LastName string
}

// CreateUser makes an admin user with an emailpass identity (the CLI's
// `gatehouse user create`, Medusa's `medusa user`), with the super admin
// role when RoleHooks are set. Errors: invalid, duplicate.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*ent.User, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	email := NormalizeEmail(in.Email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "A valid email is required")
	}
	if err := s.checkPasswordPolicy(tn, in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	c := tx.User.Create().SetEmail(email)
	if in.FirstName != "" {
		c.SetFirstName(in.FirstName)
	}
	if in.LastName != "" {
		c.SetLastName(in.LastName)
	}
	u, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, gatehouse.Errorf(gatehouse.EDUPLICATE, "User with email %s already exists.", email)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	if _, err := createIdentityWith(ctx, tx.Client(), email, hash, map[string]any{"user_id": u.ID}); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	// Medusa's CLI makes super admins.
	if s.roles.AssignTx != nil && s.roles.SuperAdmin != "" {
		if err := s.roles.AssignTx(ctx, tx.Client(), "user:"+u.ID, []string{s.roles.SuperAdmin}); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("create user: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	s.rolesChanged(ctx)
	return u, nil
}

// identityEmail returns the emailpass email of an identity.
func (s *Service) identityEmail(ctx context.Context, db *ent.Client, identityID string) (string, error) {
	pi, err := db.ProviderIdentity.Query().Where(provideridentity.AuthIdentityID(identityID), provideridentity.Provider("emailpass")).First(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("identity email: %w", err)
	}
	return pi.EntityID, nil
}

// linkActor sets app_metadata[key] = id on an identity.
func linkActor(ctx context.Context, db *ent.Client, identityID, key, id string) error {
	ai, err := db.AuthIdentity.Query().Where(authidentity.ID(identityID)).Only(ctx)
	if err != nil {
		return fmt.Errorf("link actor: %w", err)
	}
	app := copyMap(ai.AppMetadata)
	app[key] = id
	return db.AuthIdentity.UpdateOne(ai).SetAppMetadata(app).Exec(ctx)
}
