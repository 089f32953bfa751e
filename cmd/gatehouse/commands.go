package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/tenants"
)

type tenantOut struct {
	ID        string         `json:"id"`
	Slug      string         `json:"slug"`
	Name      string         `json:"name"`
	Status    string         `json:"status"`
	Domains   []string       `json:"domains"`
	Settings  map[string]any `json:"settings"`
	CreatedAt time.Time      `json:"created_at"`
}

func toTenantOut(t *ent.Tenant) tenantOut {
	out := tenantOut{ID: t.ID, Slug: t.Slug, Name: t.Name, Status: string(t.Status), Settings: t.Settings, CreatedAt: t.CreatedAt, Domains: []string{}}
	for _, d := range t.Edges.Domains {
		out.Domains = append(out.Domains, d.Host)
	}
	return out
}

func tenantCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Create, list, suspend and resume tenants"}
	var slug, name, settings string
	var domains []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a tenant (prints it as JSON)",
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				var set map[string]any
				if settings != "" {
					if err := json.Unmarshal([]byte(settings), &set); err != nil {
						return fmt.Errorf("--settings: %w", err)
					}
				}
				t, err := a.Tenants.Create(c.Context(), tenants.CreateInput{Slug: slug, Name: name, Domains: domains, Settings: set})
				if err != nil {
					return err
				}
				return printJSON(stdout, toTenantOut(t))
			})
		},
	}
	create.Flags().StringVar(&slug, "slug", "", "tenant slug (lower-case letters, digits, hyphens)")
	create.Flags().StringVar(&name, "name", "", "display name")
	create.Flags().StringArrayVar(&domains, "domain", nil, "a host name of the tenant (repeatable)")
	create.Flags().StringVar(&settings, "settings", "", `tenant settings as a JSON object, e.g. '{"partner_keys":true}'`)
	_ = create.MarkFlagRequired("slug")
	_ = create.MarkFlagRequired("name")
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants as JSON",
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				ts, _, err := a.Tenants.List(c.Context(), tenants.ListFilter{Limit: 10000})
				if err != nil {
					return err
				}
				out := []tenantOut{}
				for _, t := range ts {
					out = append(out, toTenantOut(t))
				}
				return printJSON(stdout, out)
			})
		},
	}
	status := func(use string, st tenant.Status) *cobra.Command {
		return &cobra.Command{
			Use: use + " SLUG", Short: use + " a tenant", Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return withApp(c.Context(), stderr, func(a *App) error {
					t, err := a.Tenants.FindBySlugOrID(c.Context(), args[0])
					if err != nil {
						return err
					}
					t, err = a.Tenants.SetStatus(c.Context(), t.ID, st)
					if err != nil {
						return err
					}
					return printJSON(stdout, toTenantOut(t))
				})
			},
		}
	}
	var alg string
	var force bool
	rotate := &cobra.Command{
		Use: "rotate-keys SLUG", Short: "Rotate a tenant's signing key (old keys verify until their tokens expire)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				t, err := a.Tenants.FindBySlugOrID(c.Context(), args[0])
				if err != nil {
					return err
				}
				err = a.Keys.Rotate(tenants.NewContext(c.Context(), t), alg, force)
				if errors.Is(err, auth.ErrKeyStaged) {
					fmt.Fprintf(stdout, "published the next signing key of %s; it signs after the next rotate-keys, once verifiers' JWKS caches have refreshed (or use --force now)\n", t.Slug)
					return nil
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "rotated signing key of %s (the next key is published)\n", t.Slug)
				return nil
			})
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "", "algorithm of the new key: EdDSA (default), ES256, RS256 or HS256")
	rotate.Flags().BoolVar(&force, "force", false, "sign with a new key at once, even one no verifier has fetched yet")
	cmd.AddCommand(create, list, status("suspend", tenant.StatusSuspended), status("resume", tenant.StatusActive), rotate)
	return cmd
}

func inTenant(ctx context.Context, a *App, slug string) (context.Context, error) {
	t, err := a.Tenants.FindBySlugOrID(ctx, slug)
	if err != nil {
		return nil, err
	}
	return tenants.NewContext(ctx, t), nil
}

func userCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage admin users"}
	var slug, email, password string
	var invite bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an admin user (like `medusa user -e -p`), or an invite with --invite",
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				ctx, err := inTenant(c.Context(), a, slug)
				if err != nil {
					return err
				}
				if invite {
					inv, tok, err := a.Auth.CreateInvite(ctx, auth.InviteInput{Email: email})
					if err != nil {
						return err
					}
					fmt.Fprintf(stdout, "Invite %s for %s\nInvite token: %s\n", inv.ID, inv.Email, tok)
					return nil
				}
				u, err := a.Auth.CreateUser(ctx, auth.CreateUserInput{Email: email, Password: password})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "User %s created (%s)\n", u.Email, u.ID)
				return nil
			})
		},
	}
	create.Flags().StringVar(&slug, "tenant", "", "tenant slug or id")
	create.Flags().StringVarP(&email, "email", "e", "", "email")
	create.Flags().StringVarP(&password, "password", "p", "", "password")
	create.Flags().BoolVar(&invite, "invite", false, "create an invite and print its token instead")
	_ = create.MarkFlagRequired("tenant")
	_ = create.MarkFlagRequired("email")
	cmd.AddCommand(create)
	return cmd
}

func apikeyCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Short: "Manage API keys"}
	var slug, typ, title string
	var keyRoles []string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a secret or publishable key (the secret is printed once)",
		RunE: func(c *cobra.Command, _ []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				ctx, err := inTenant(c.Context(), a, slug)
				if err != nil {
					return err
				}
				k, raw, err := a.Auth.CreateAPIKey(ctx, nil, auth.CreateAPIKeyInput{Title: title, Type: typ, Roles: keyRoles})
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s %s\n%s\n", k.ID, k.Type, raw)
				return nil
			})
		},
	}
	create.Flags().StringVar(&slug, "tenant", "", "tenant slug or id")
	create.Flags().StringVar(&typ, "type", "secret", "secret or publishable")
	create.Flags().StringVar(&title, "title", "cli", "title")
	create.Flags().StringArrayVar(&keyRoles, "role", []string{"role_super_admin"}, "role of a secret key (repeatable)")
	_ = create.MarkFlagRequired("tenant")
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a key now", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withApp(c.Context(), stderr, func(a *App) error {
				ctx, err := inTenant(c.Context(), a, slug)
				if err != nil {
					return err
				}
				k, err := a.Auth.RevokeAPIKey(ctx, nil, args[0], 0)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "revoked %s\n", k.ID)
				return nil
			})
		},
	}
	revoke.Flags().StringVar(&slug, "tenant", "", "tenant slug or id")
	_ = revoke.MarkFlagRequired("tenant")
	cmd.AddCommand(create, revoke)
	return cmd
}
