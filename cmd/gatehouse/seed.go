package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/auth"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/rbacassignment"
	"github.com/gatehousehq/gatehouse/ent/schema"
	"github.com/gatehousehq/gatehouse/ent/tenant"
	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

// seedOptions are the flags of `gatehouse seed`.
type seedOptions struct {
	Tenants     int
	Users       int
	Policies    int
	Roles       int
	Prefix      string
	Password    string
	Concurrency int
	Settings    map[string]any
}

// seedSummary is what a seed run did.
type seedSummary struct {
	Created, Skipped             int
	Users, Policies, Roles       int
	Elapsed, HashTime            time.Duration
	TenantP50, TenantP99, MaxOne time.Duration
}

// seedBatch caps the rows of one INSERT: PostgreSQL allows 65,535 bind
// parameters per statement and a user row of the bulk has about ten.
const seedBatch = 1000

func seedCmd(stdout, stderr io.Writer) *cobra.Command {
	o := seedOptions{}
	var settings string
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Create many tenants with users, roles and policies (load tests, benchmarks)",
		Long: `Create --tenants tenants named PREFIX-00000… through the tenant registry (so each
gets its signing key and built-in roles), each with --users-per-tenant admin users
(user00000@PREFIX-00000.test …; the first is a super admin, the others share the custom
roles) and --policies custom policies spread over --roles custom roles.

Every seeded user has the same password (--password): it is hashed once and the hash is
reused, because hashing a million argon2id passwords would take hours. Seed data is for
load tests only.

A tenant is created in one transaction with all its users and policies, so an interrupted
run leaves whole tenants; running again skips the tenants that exist.`,
		RunE: func(c *cobra.Command, _ []string) error {
			if settings != "" {
				if err := json.Unmarshal([]byte(settings), &o.Settings); err != nil {
					return fmt.Errorf("--settings: %w", err)
				}
			}
			return withApp(c.Context(), stderr, func(a *App) error {
				fmt.Fprintf(stdout, "seeding %d tenants × %d users × %d policies (prefix %q, concurrency %d) on %s\n",
					o.Tenants, o.Users, o.Policies, o.Prefix, o.Concurrency, a.DB.Dialect)
				s, err := seed(c.Context(), a, o, func(done, total int) {
					fmt.Fprintf(stdout, "  %d/%d tenants\n", done, total)
				})
				printSeedSummary(stdout, o, s)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Tenants, "tenants", 10, "number of tenants")
	f.IntVar(&o.Users, "users-per-tenant", 10, "admin users per tenant")
	f.IntVar(&o.Policies, "policies", 5, "custom policies per tenant (besides the built-in ones)")
	f.IntVar(&o.Roles, "roles", 2, "custom roles per tenant the policies and users are spread over")
	f.StringVar(&o.Prefix, "prefix", "seed", "tenant slug prefix")
	f.StringVar(&o.Password, "password", "correct-horse-9", "the password of every seeded user")
	f.IntVar(&o.Concurrency, "concurrency", 8, "tenants created at the same time")
	f.StringVar(&settings, "settings", "", `settings of every seeded tenant as a JSON object, e.g. '{"auth_ip_per_minute":100000}'`)
	return cmd
}

func printSeedSummary(w io.Writer, o seedOptions, s seedSummary) {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Created) / s.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "seeded: %d tenants created, %d skipped (existed); %d users, %d custom roles, %d custom policies\n",
		s.Created, s.Skipped, s.Users, s.Roles, s.Policies)
	fmt.Fprintf(w, "time: %s total (%.1f tenants/s), password hash %s, per tenant p50 %s p99 %s max %s\n",
		s.Elapsed.Round(time.Millisecond), rate, s.HashTime.Round(time.Millisecond),
		s.TenantP50.Round(time.Microsecond), s.TenantP99.Round(time.Microsecond), s.MaxOne.Round(time.Microsecond))
	if s.Created > 0 {
		fmt.Fprintf(w, "every seeded user's password is %q (one shared hash)\n", o.Password)
	}
}

func (o seedOptions) validate() error {
	switch {
	case o.Tenants < 0 || o.Users < 0 || o.Policies < 0:
		return &configError{"seed: --tenants, --users-per-tenant and --policies must not be negative"}
	case o.Roles < 1:
		return &configError{"seed: --roles must be at least 1"}
	case o.Concurrency < 1:
		return &configError{"seed: --concurrency must be at least 1"}
	case !tenants.ValidSlug(fmt.Sprintf("%s-%05d", o.Prefix, o.Tenants)):
		return &configError{fmt.Sprintf("seed: --prefix %q does not make valid tenant slugs", o.Prefix)}
	case len(o.Password) < 8:
		return &configError{"seed: --password must have at least 8 characters"}
	}
	return nil
}

// seed creates the tenants of o that do not exist yet. Each tenant, with
// its users, roles and policies, is one transaction: the registry's create
// hooks run in it, and seed adds one more hook after the built-in ones.
func seed(ctx context.Context, a *App, o seedOptions, progress func(done, total int)) (seedSummary, error) {
	var sum seedSummary
	if err := o.validate(); err != nil {
		return sum, err
	}
	start := time.Now()
	existing, err := a.DB.Tenant.Query().Where(tenant.SlugHasPrefix(o.Prefix + "-")).
		Select(tenant.FieldSlug).Strings(tenants.SystemContext(ctx, "seed: find existing tenants"))
	if err != nil {
		return sum, fmt.Errorf("seed: list tenants: %w", err)
	}
	have := make(map[string]bool, len(existing))
	for _, s := range existing {
		have[s] = true
	}
	var todo []int
	for i := range o.Tenants {
		if have[seedSlug(o.Prefix, i)] {
			sum.Skipped++
			continue
		}
		todo = append(todo, i)
	}
	// One argon2id hash for every user: hashing each would cost ~25 ms of
	// CPU per user, hours for a million users.
	h0 := time.Now()
	hash, err := auth.NewHasher(auth.DefaultArgon2Params(), 1).Hash(ctx, o.Password)
	if err != nil {
		return sum, fmt.Errorf("seed: hash password: %w", err)
	}
	sum.HashTime = time.Since(h0)

	a.Tenants.OnCreate(func(ctx context.Context, tx *ent.Client, t *ent.Tenant) error {
		if !strings.HasPrefix(t.Slug, o.Prefix+"-") {
			return nil
		}
		return seedTenant(ctx, tx, t, o, hash)
	})

	var (
		mu        sync.Mutex
		durations = make([]time.Duration, 0, len(todo))
		firstErr  error
		done      atomic.Int64
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	every := max(len(todo)/20, 1)
	for range min(o.Concurrency, max(len(todo), 1)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= len(todo) {
					return
				}
				i := todo[k]
				t0 := time.Now()
				_, err := a.Tenants.Create(ctx, tenants.CreateInput{
					Slug: seedSlug(o.Prefix, i), Name: fmt.Sprintf("Seed tenant %d", i), Settings: o.Settings,
				})
				d := time.Since(t0)
				mu.Lock()
				switch {
				case err == nil:
					sum.Created++
					durations = append(durations, d)
				case gatehouse.ErrorCode(err) == gatehouse.EDUPLICATE:
					sum.Skipped++ // made by a concurrent run
				case firstErr == nil:
					firstErr = fmt.Errorf("seed tenant %s: %w", seedSlug(o.Prefix, i), err)
					cancel()
				}
				mu.Unlock()
				if n := int(done.Add(1)); progress != nil && (n%every == 0 || n == len(todo)) && len(todo) >= 100 {
					progress(n, len(todo))
				}
			}
		})
	}
	wg.Wait()
	sum.Elapsed = time.Since(start)
	sum.Users = sum.Created * o.Users
	sum.Policies = sum.Created * o.Policies
	sum.Roles = sum.Created * o.Roles
	sum.TenantP50, sum.TenantP99, sum.MaxOne = percentile(durations, 0.50), percentile(durations, 0.99), percentile(durations, 1)
	if firstErr == nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		firstErr = ctx.Err()
	}
	return sum, firstErr
}

func seedSlug(prefix string, i int) string { return fmt.Sprintf("%s-%05d", prefix, i) }

// seedEmail is the email of user u of a seeded tenant.
func seedEmail(slug string, u int) string { return fmt.Sprintf("user%05d@%s.test", u, slug) }

// seedTenant adds o's roles, policies and users to the new tenant t inside
// its creation transaction, with one bulk INSERT per table.
func seedTenant(ctx context.Context, tx *ent.Client, t *ent.Tenant, o seedOptions, hash string) error {
	roleIDs := make([]string, o.Roles)
	roles := make([]*ent.RBACRoleCreate, o.Roles)
	for r := range o.Roles {
		roleIDs[r] = schema.NewID("role")
		roles[r] = tx.RBACRole.Create().SetRoleID(roleIDs[r]).SetName(fmt.Sprintf("Seed role %d", r)).
			SetDescription("Created by gatehouse seed")
	}
	if err := bulk(ctx, roles, tx.RBACRole.CreateBulk); err != nil {
		return fmt.Errorf("seed roles: %w", err)
	}
	policies := make([]*ent.RBACPolicyCreate, o.Policies)
	links := make([]*ent.RBACRolePolicyCreate, o.Policies)
	for p := range o.Policies {
		id := schema.NewID("rpol")
		res := fmt.Sprintf("seed_resource_%d", p)
		policies[p] = tx.RBACPolicy.Create().SetPolicyID(id).SetKey(res + ":read").SetResource(res).SetOperation("read").
			SetName(fmt.Sprintf("ReadSeedResource%d", p))
		links[p] = tx.RBACRolePolicy.Create().SetRoleID(roleIDs[p%o.Roles]).SetPolicyID(id)
	}
	if err := bulk(ctx, policies, tx.RBACPolicy.CreateBulk); err != nil {
		return fmt.Errorf("seed policies: %w", err)
	}
	if err := bulk(ctx, links, tx.RBACRolePolicy.CreateBulk); err != nil {
		return fmt.Errorf("seed role policies: %w", err)
	}
	users := make([]*ent.UserCreate, o.Users)
	identities := make([]*ent.AuthIdentityCreate, o.Users)
	providers := make([]*ent.ProviderIdentityCreate, o.Users)
	assignments := make([]*ent.RBACAssignmentCreate, o.Users)
	for u := range o.Users {
		userID, identityID := schema.NewID("user"), schema.NewID("authid")
		email := seedEmail(t.Slug, u)
		users[u] = tx.User.Create().SetID(userID).SetEmail(email).SetFirstName("Seed").SetLastName(fmt.Sprintf("User %d", u))
		identities[u] = tx.AuthIdentity.Create().SetID(identityID).SetAppMetadata(map[string]any{"user_id": userID})
		providers[u] = tx.ProviderIdentity.Create().SetAuthIdentityID(identityID).SetProvider("emailpass").SetEntityID(email).
			SetProviderMetadata(map[string]any{"password": hash}).SetUserMetadata(map[string]any{})
		role := rbac.RoleSuperAdmin // a tenant needs one, as `gatehouse user create` makes
		if u > 0 {
			role = roleIDs[(u-1)%o.Roles]
		}
		assignments[u] = tx.RBACAssignment.Create().SetSubjectType(rbacassignment.SubjectTypeUser).SetSubjectID(userID).SetRoleID(role)
	}
	if err := bulk(ctx, users, tx.User.CreateBulk); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if err := bulk(ctx, identities, tx.AuthIdentity.CreateBulk); err != nil {
		return fmt.Errorf("seed identities: %w", err)
	}
	if err := bulk(ctx, providers, tx.ProviderIdentity.CreateBulk); err != nil {
		return fmt.Errorf("seed provider identities: %w", err)
	}
	if err := bulk(ctx, assignments, tx.RBACAssignment.CreateBulk); err != nil {
		return fmt.Errorf("seed role assignments: %w", err)
	}
	return nil
}

// bulkExec is the Exec of a generated XCreateBulk.
type bulkExec interface{ Exec(context.Context) error }

// bulk inserts builders in statements of at most seedBatch rows.
func bulk[B any, E bulkExec](ctx context.Context, builders []B, create func(...B) E) error {
	for len(builders) > 0 {
		n := min(len(builders), seedBatch)
		if err := create(builders[:n]...).Exec(ctx); err != nil {
			return err
		}
		builders = builders[n:]
	}
	return nil
}

// percentile returns the q-quantile (0 < q ≤ 1) of ds, nearest rank.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(min(i, len(s)-1), 0)]
}
