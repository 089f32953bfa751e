package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/invite"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/user"
)

// InviteFilter selects invites.
type InviteFilter struct {
	Q      string
	IDs    []string
	Emails []string // any of these (compared case-insensitively)
	Dates  gatehouse.Dates
	Order  gatehouse.ListOrder // from InviteOrderFields; zero: oldest first
	Offset int
	Limit  int
}

// InviteOrderFields are the fields GET /admin/invites sorts by (?order=).
var InviteOrderFields = map[string]string{
	"id": invite.FieldID, "email": invite.FieldEmail, "accepted": invite.FieldAccepted, "expires_at": invite.FieldExpiresAt,
	"created_at": invite.FieldCreatedAt, "updated_at": invite.FieldUpdatedAt,
}

// FindInvites returns a page of pending invites and the total count.
func (s *Service) FindInvites(ctx context.Context, f InviteFilter) ([]*ent.Invite, int, error) {
	q := s.db.Invite.Query()
	if f.Q != "" {
		q = q.Where(invite.EmailContainsFold(f.Q))
	}
	if len(f.IDs) > 0 {
		q = q.Where(invite.IDIn(f.IDs...))
	}
	if len(f.Emails) > 0 {
		emails := make([]string, len(f.Emails))
		for i, e := range f.Emails {
			emails[i] = NormalizeEmail(e)
		}
		q = q.Where(invite.EmailIn(emails...))
	}
	q = q.Where(gatehouse.DatePredicates[predicate.Invite](f.Dates)...)
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count invites: %w", err)
	}
	is, err := q.Order(gatehouse.OrderTerms[invite.OrderOption](f.Order, ent.Asc(invite.FieldCreatedAt), ent.Asc(invite.FieldID))...).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list invites: %w", err)
	}
	return is, count, nil
}

func inviteNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "Invite with id: %s was not found", id)
}

// FindInviteByID returns an invite. Errors: not_found.
func (s *Service) FindInviteByID(ctx context.Context, id string) (*ent.Invite, error) {
	i, err := s.db.Invite.Query().Where(invite.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, inviteNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find invite: %w", err)
	}
	return i, nil
}

// InviteInput describes a new invite.
type InviteInput struct {
	Email    string
	Roles    []string
	Metadata map[string]any
}

// CreateInvite invites an email and returns the invite with its token, which
// only this call and ResendInvite ever return. Errors: invalid (an existing
// user), duplicate (a pending invite).
func (s *Service) CreateInvite(ctx context.Context, in InviteInput) (*ent.Invite, string, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, "", err
	}
	email := NormalizeEmail(in.Email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Invalid email")
	}
	if exists, err := s.db.User.Query().Where(user.Email(email)).Exist(ctx); err != nil {
		return nil, "", fmt.Errorf("create invite: %w", err)
	} else if exists {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "User account for following email(s) already exist: %s", email)
	}
	id := newID("invite")
	tok, exp, err := s.inviteToken(ctx, tn, id, email)
	if err != nil {
		return nil, "", err
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, "", err
	}
	c := tx.Invite.Create().SetID(id).SetEmail(email).SetTokenHash(sha256Hex(tok)).SetExpiresAt(exp)
	if in.Roles != nil {
		c.SetRoles(in.Roles)
	}
	if in.Metadata != nil {
		c.SetMetadata(in.Metadata)
	}
	inv, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, "", gatehouse.Errorf(gatehouse.EDUPLICATE, "Invite with email: %s already exists.", email)
		}
		return nil, "", fmt.Errorf("create invite: %w", err)
	}
	if err := s.emit(ctx, tx, "invite.created", map[string]any{"id": id, "email": email, "token": tok}); err != nil {
		_ = tx.Rollback()
		return nil, "", err
	}
	audit.SetTarget(ctx, inv.ID)
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, "", err
	}
	if err := tx.Commit(); err != nil {
		return nil, "", err
	}
	return inv, tok, nil
}

func (s *Service) inviteToken(ctx context.Context, tn *ent.Tenant, id, email string) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(s.cfg.InviteTTL)
	iss := s.tokens.Issuer(tn)
	tok, err := s.tokens.Sign(ctx, TypeInvite, &InviteClaims{InviteID: id, Email: email, TenantID: tn.ID,
		RegisteredClaims: jwt.RegisteredClaims{Issuer: iss, Audience: jwt.ClaimStrings{iss}, ID: newJTI(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp)}})
	return tok, exp, err
}

// ResendInvite rotates an invite's token and expiry; the old token stops
// working. Errors: not_found.
func (s *Service) ResendInvite(ctx context.Context, id string) (*ent.Invite, string, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, "", err
	}
	inv, err := s.FindInviteByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	tok, exp, err := s.inviteToken(ctx, tn, inv.ID, inv.Email)
	if err != nil {
		return nil, "", err
	}
	inv, err = s.db.Invite.UpdateOne(inv).SetTokenHash(sha256Hex(tok)).SetExpiresAt(exp).Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("resend invite: %w", err)
	}
	if err := s.emit(ctx, nil, "invite.resent", map[string]any{"id": id, "email": inv.Email, "token": tok}); err != nil {
		return nil, "", err
	}
	return inv, tok, nil
}

// DeleteInvite deletes an invite. Errors: not_found.
func (s *Service) DeleteInvite(ctx context.Context, id string) error {
	n, err := s.db.Invite.Delete().Where(invite.ID(id)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete invite: %w", err)
	}
	if n == 0 {
		return inviteNotFound(id)
	}
	return nil
}

// AcceptInput is the body of an invite acceptance.
type AcceptInput struct {
	Email               *string
	FirstName, LastName *string
}

// AcceptInvite turns a registration token and an invite token into an admin
// user with the invited email. Every token problem is 401 "Unauthorized", as
// in Medusa. Errors: invalid (already an actor; email differs), unauthenticated.
func (s *Service) AcceptInvite(ctx context.Context, caller *Context, rawToken string, in AcceptInput) (*ent.User, error) {
	if caller.ActorID != "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The user is already authenticated and cannot accept an invite.")
	}
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	claims, err := s.tokens.VerifyInvite(ctx, tn, rawToken)
	if err != nil {
		return nil, ErrUnauthorized
	}
	inv, err := s.db.Invite.Query().Where(invite.ID(claims.InviteID)).Only(ctx)
	if err != nil || inv.Accepted || !hashEqual(inv.TokenHash, sha256Hex(rawToken)) || s.now().After(inv.ExpiresAt) {
		return nil, ErrUnauthorized
	}
	if in.Email != nil && NormalizeEmail(*in.Email) != inv.Email {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The email of an invite cannot be changed")
	}
	idEmail, err := s.identityEmail(ctx, s.db, caller.AuthIdentityID)
	if err != nil {
		return nil, err
	}
	if idEmail != "" && idEmail != inv.Email {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "The invite was issued for another email")
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, err
	}
	c := tx.User.Create().SetEmail(inv.Email).SetNillableFirstName(in.FirstName).SetNillableLastName(in.LastName)
	u, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			return nil, ErrUnauthorized
		}
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	if err := linkActor(ctx, tx.Client(), caller.AuthIdentityID, "user_id", u.ID); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if n, err := tx.Invite.Delete().Where(invite.ID(inv.ID), invite.Accepted(false)).Exec(ctx); err != nil || n != 1 {
		_ = tx.Rollback()
		return nil, ErrUnauthorized
	}
	if err := s.emit(ctx, tx, "invite.accepted", map[string]any{"id": inv.ID}); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	audit.Annotate(ctx, func(e *audit.Entry) {
		e.TargetType, e.TargetID = "user", u.ID
		if e.Details != nil {
			e.Details["invite_id"] = inv.ID
		}
	})
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("accept invite: %w", err)
	}
	if s.onInviteAccepted != nil {
		if err := s.onInviteAccepted(ctx, u, inv.Roles); err != nil {
			return nil, err
		}
	}
	return u, nil
}
