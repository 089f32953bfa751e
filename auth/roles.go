package auth

import (
	"context"

	"github.com/gatehousehq/gatehouse/ent"
)

// RoleHooks connect auth to authorization (package rbac, which auth may not
// import); cmd wires them. Subjects are "user:{id}" and "apikey:{id}".
type RoleHooks struct {
	// Roles returns the role ids assigned to subject: tokens carry them in
	// app_metadata.roles, and a new secret key receives its creator's.
	Roles func(ctx context.Context, subject string) ([]string, error)
	// AssignTx gives subject the roles inside tx (no escalation check: only
	// trusted paths call it).
	AssignTx func(ctx context.Context, tx *ent.Client, subject string, roles []string) error
	// Changed reports, after commit, that the assignments of the tenant in
	// ctx changed.
	Changed func(ctx context.Context)
	// RemoveTx drops a deleted user's assignments inside tx; it refuses
	// (not_allowed) to delete the last super admin.
	RemoveTx func(ctx context.Context, tx *ent.Client, subject string) error
	// SuperAdmin is the role given to users made by CreateUser (the CLI's
	// first admin), Medusa's role_super_admin.
	SuperAdmin string
}

// SetRoleHooks wires authorization into the service. Without them tokens
// carry no roles and nothing is assigned.
func (s *Service) SetRoleHooks(h RoleHooks) {
	s.roles = h
	s.onInviteAccepted = func(ctx context.Context, u *ent.User, roles []string) error {
		if len(roles) == 0 {
			return nil
		}
		return s.assignRoles(ctx, "user:"+u.ID, roles)
	}
}

// assignRoles gives subject roles in a transaction of its own.
func (s *Service) assignRoles(ctx context.Context, subject string, roles []string) error {
	if s.roles.AssignTx == nil || len(roles) == 0 {
		return nil
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	if err := s.roles.AssignTx(ctx, tx.Client(), subject, roles); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.rolesChanged(ctx)
	return nil
}

func (s *Service) rolesChanged(ctx context.Context) {
	if s.roles.Changed != nil {
		s.roles.Changed(ctx)
	}
}

// subjectOf is the authorization subject of an authenticated caller, or "".
func subjectOf(ac *Context) string {
	if ac == nil || ac.ActorID == "" {
		return ""
	}
	switch ac.ActorType {
	case ActorUser:
		return "user:" + ac.ActorID
	case ActorAPIKey:
		return "apikey:" + ac.ActorID
	}
	return ""
}

// setRoleClaim puts the role ids of a user actor in app_metadata.roles (and
// removes a stale list): Medusa clients read them there, though decisions are
// always made by the Authorizer at request time.
func (s *Service) setRoleClaim(ctx context.Context, app map[string]any, actorType, actorID string) error {
	delete(app, "roles")
	if s.roles.Roles == nil || actorType != ActorUser || actorID == "" {
		return nil
	}
	rs, err := s.roles.Roles(ctx, "user:"+actorID)
	if err != nil {
		return err
	}
	if len(rs) > 0 {
		app["roles"] = rs
	}
	return nil
}
