// Command gatehouse runs and administers a Gatehouse node: serve, migrate,
// and the tenant, user and apikey commands. It is the composition root.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehousehq/gatehouse/rbac"

	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/tenants"
)

// Set by -ldflags at build time.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs the CLI and returns the exit code: 0 ok, 1 failure, 2 invalid
// configuration or usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "gatehouse:", err)
	var ce *configError
	if errors.As(err, &ce) {
		return 2
	}
	return 1
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Multi-tenant identity server speaking Medusa's auth contract",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var addr string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(os.LookupEnv)
			if err != nil {
				return err
			}
			if addr != "" {
				cfg.Addr = addr
			}
			return runServe(cmd.Context(), cfg, stdout, stderr)
		},
	}
	serve.Flags().StringVar(&addr, "addr", "", "listen address (overrides GATEHOUSE_ADDR)")
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Create or update the database schema",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withApp(cmd.Context(), stderr, func(a *App) error {
				if err := a.DB.Migrate(cmd.Context()); err != nil {
					return err
				}
				n, err := rbac.Backfill(cmd.Context(), a.DB.Client, a.RBAC.Changed)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "migrated (built-in policies added to %d tenants)\n", n)
				return nil
			})
		},
	}
	ver := &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(stdout, "gatehouse %s (commit %s, built %s)\n", version, commit, date)
		},
	}
	root.AddCommand(serve, migrate, ver, tenantCmd(stdout, stderr), userCmd(stdout, stderr), apikeyCmd(stdout, stderr), seedCmd(stdout, stderr))
	return root
}

// withApp builds the app (migrating the schema) for a one-shot command.
func withApp(ctx context.Context, logOut io.Writer, fn func(a *App) error) error {
	cfg, err := loadConfig(os.LookupEnv)
	if err != nil {
		return err
	}
	a, err := Build(ctx, cfg, logOut)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.DB.Migrate(ctx); err != nil {
		return err
	}
	return fn(a)
}

func runServe(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	a, err := Build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	log := a.Telemetry.Logger
	if !cfg.NoMigrate {
		if err := a.DB.Migrate(ctx); err != nil {
			return err
		}
		if _, err := rbac.Backfill(ctx, a.DB.Client, a.RBAC.Changed); err != nil {
			return err
		}
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	if a.Redis == nil {
		log.Warn("sessions and revocations are kept in memory: single node only (set GATEHOUSE_REDIS_URL for a cluster)")
	}
	if cfg.Env == "development" {
		if err := bootstrapDemo(ctx, a, cfg, stdout); err != nil {
			return err
		}
		log.Info("development: events with their tokens (invites, password resets, verification codes) are appended to the mailbox file, not logged", "mailbox", a.Mailbox)
	}
	return a.Serve(ctx, cfg.Addr, func(addr string) {
		log.Info("listening", "addr", addr, "env", cfg.Env, "database", a.DB.Dialect)
	})
}

// bootstrapDemo creates tenant demo with an admin on an empty database and
// prints the admin's password once.
func bootstrapDemo(ctx context.Context, a *App, cfg Config, stdout io.Writer) error {
	_, n, err := a.Tenants.List(ctx, tenants.ListFilter{Limit: 1})
	if err != nil || n > 0 {
		return err
	}
	t, err := a.Tenants.Create(ctx, tenants.CreateInput{Slug: "demo", Name: "Demo store"})
	if err != nil {
		return err
	}
	pw := cfg.DemoPassword
	if pw == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		pw = base64.RawURLEncoding.EncodeToString(b)
	}
	email := "admin@demo.localhost"
	if _, err := a.Auth.CreateUser(tenants.NewContext(ctx, t), auth.CreateUserInput{Email: email, Password: pw}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nCreated tenant %q (%s) with admin %s\n  password: %s   (shown once)\n  try: curl -s -X POST http://localhost%s/t/demo/auth/user/emailpass -H 'content-type: application/json' -d '{\"email\":\"%s\",\"password\":\"%s\"}'\n\n",
		t.Slug, t.ID, email, pw, portOf(cfg.Addr), email, pw)
	return nil
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return ":" + p
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
