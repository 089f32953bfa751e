package tenants

import (
	"context"

	"github.com/gatehousehq/gatehouse/ent"
)

// deleteOwned deletes every tenant-owned row of the tenant in ctx. Each
// tenant-owned entity must appear here; TestDeleteRemovesEverything checks the
// list against the migrated tables, so a new entity cannot be forgotten.
func deleteOwned(ctx context.Context, c *ent.Client) error {
	steps := []func() error{
		func() error { _, err := c.ProviderIdentity.Delete().Exec(ctx); return err },
		func() error { _, err := c.MFAFactor.Delete().Exec(ctx); return err },
		func() error { _, err := c.RecoveryCode.Delete().Exec(ctx); return err },
		func() error { _, err := c.MFAChallenge.Delete().Exec(ctx); return err },
		func() error { _, err := c.AuthIdentity.Delete().Exec(ctx); return err },
		func() error { _, err := c.User.Delete().Exec(ctx); return err },
		func() error { _, err := c.CustomerAddress.Delete().Exec(ctx); return err },
		func() error { _, err := c.Customer.Delete().Exec(ctx); return err },
		func() error { _, err := c.Invite.Delete().Exec(ctx); return err },
		func() error { _, err := c.PasswordResetToken.Delete().Exec(ctx); return err },
		func() error { _, err := c.Event.Delete().Exec(ctx); return err },
		func() error { _, err := c.APIKey.Delete().Exec(ctx); return err },
		func() error { _, err := c.SalesChannel.Delete().Exec(ctx); return err },
		func() error { _, err := c.SigningKey.Delete().Exec(ctx); return err },
		func() error { _, err := c.AuditEvent.Delete().Exec(ctx); return err },
		func() error { _, err := c.RBACAssignment.Delete().Exec(ctx); return err },
		func() error { _, err := c.RBACRolePolicy.Delete().Exec(ctx); return err },
		func() error { _, err := c.RBACPolicy.Delete().Exec(ctx); return err },
		func() error { _, err := c.RBACRole.Delete().Exec(ctx); return err },
		func() error { _, err := c.AuthVerification.Delete().Exec(ctx); return err },
		func() error { _, err := c.RouteRule.Delete().Exec(ctx); return err },
		func() error { _, err := c.WebhookDelivery.Delete().Exec(ctx); return err },
		func() error { _, err := c.Webhook.Delete().Exec(ctx); return err },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}
