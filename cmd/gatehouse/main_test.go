package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehousehq/gatehouse/rbac"
	"github.com/gatehousehq/gatehouse/tenants"
)

func TestProductionRequiresConfiguration(t *testing.T) {
	for _, v := range []string{"GATEHOUSE_PLATFORM_KEY", "GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_MASTER_KEY"} {
		t.Setenv(v, "")
	}
	t.Setenv("GATEHOUSE_ENV", "production")
	tests := []struct {
		set  map[string]string
		want string
	}{
		{nil, "GATEHOUSE_PLATFORM_KEY"},
		{map[string]string{"GATEHOUSE_PLATFORM_KEY": "p-0123456789abcdef0123456789"}, "GATEHOUSE_DATABASE_URL"},
		{map[string]string{"GATEHOUSE_PLATFORM_KEY": "p-0123456789abcdef0123456789", "GATEHOUSE_DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, "GATEHOUSE_REDIS_URL"},
	}
	for _, tt := range tests {
		for k, v := range tt.set {
			t.Setenv(k, v)
		}
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"serve"}, &out, &errb)
		if code != 2 {
			t.Errorf("serve with %v: exit %d, want 2 (stderr %q)", tt.set, code, errb.String())
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); lines != 0 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("serve with %v: stderr %q, want one line naming %s", tt.set, errb.String(), tt.want)
		}
	}
}

func TestInvalidConfigurationExits2(t *testing.T) {
	t.Setenv("GATEHOUSE_ENV", "staging")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"migrate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "GATEHOUSE_ENV") {
		t.Errorf("GATEHOUSE_ENV=staging: exit %d, stderr %q; want 2 naming GATEHOUSE_ENV", code, errb.String())
	}
}

func TestTenantCreateAndList(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GATEHOUSE_ENV", "test")
	t.Setenv("GATEHOUSE_DATABASE_URL", "sqlite:"+filepath.Join(dir, "g.db"))
	t.Setenv("GATEHOUSE_REDIS_URL", "")
	t.Setenv("GATEHOUSE_MASTER_KEY", "")
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"tenant", "create", "--slug", "acme", "--name", "Acme", "--domain", "shop.acme.test"}, &out, &errb)
	if code != 0 {
		t.Fatalf("tenant create: exit %d: %s", code, errb.String())
	}
	var got tenantOut
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("tenant create printed %q: %v", out.String(), err)
	}
	if got.Slug != "acme" || !strings.HasPrefix(got.ID, "ten_") || len(got.Domains) != 1 || got.Domains[0] != "shop.acme.test" || got.Status != "active" {
		t.Errorf("tenant create = %+v", got)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"tenant", "create", "--slug", "Bad Slug!", "--name", "x"}, &out, &errb); code != 1 {
		t.Errorf("tenant create with a bad slug: exit %d, want 1", code)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"tenant", "suspend", "acme"}, &out, &errb); code != 0 || !strings.Contains(out.String(), `"suspended"`) {
		t.Errorf("tenant suspend: exit %d, out %q", code, out.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"user", "create", "--tenant", "acme", "-e", "a@acme.test", "-p", "long-password"}, &out, &errb); code != 0 {
		t.Errorf("user create: exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"apikey", "create", "--tenant", "acme", "--type", "secret", "--title", "t"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "sk_") {
		t.Errorf("apikey create: exit %d, out %q", code, out.String())
	}
	// A key made by the CLI acts as a super admin (it has no creator whose
	// roles it could take).
	keyID := strings.Fields(out.String())[0]
	err := withApp(context.Background(), &errb, func(a *App) error {
		tn, err := a.Tenants.FindBySlugOrID(context.Background(), "acme")
		if err != nil {
			return err
		}
		missing, err := a.RBAC.Authorizer().Check(tenants.NewContext(context.Background(), tn), rbac.KeySubject(keyID),
			[]rbac.Permission{{Resource: "user", Operation: "delete"}, {Resource: "api_key", Operation: "create"}})
		if err == nil && len(missing) > 0 {
			t.Errorf("CLI key %s lacks %v, want super admin", keyID, missing)
		}
		return err
	})
	if err != nil {
		t.Errorf("check the CLI key's roles: %v", err)
	}
}

// TestRedisTopologyConfiguration: Sentinel and Cluster settings are checked
// before anything connects.
func TestRedisTopologyConfiguration(t *testing.T) {
	vars := []string{"GATEHOUSE_REDIS_URL", "GATEHOUSE_REDIS_SENTINEL_ADDRS", "GATEHOUSE_REDIS_SENTINEL_MASTER", "GATEHOUSE_REDIS_CLUSTER_ADDRS"}
	set := func(t *testing.T, env map[string]string) {
		t.Setenv("GATEHOUSE_ENV", "development")
		for _, v := range vars {
			t.Setenv(v, env[v])
		}
	}
	for _, tt := range []struct {
		set  map[string]string
		want string
	}{
		{map[string]string{"GATEHOUSE_REDIS_URL": "redis://r:6379/0", "GATEHOUSE_REDIS_SENTINEL_ADDRS": "s1:26379,s2:26379"}, "GATEHOUSE_REDIS_SENTINEL_MASTER"},
		{map[string]string{"GATEHOUSE_REDIS_URL": "redis://r:6379/0", "GATEHOUSE_REDIS_SENTINEL_MASTER": "mymaster"}, "GATEHOUSE_REDIS_SENTINEL_ADDRS"},
		{map[string]string{"GATEHOUSE_REDIS_CLUSTER_ADDRS": "n1:6379"}, "GATEHOUSE_REDIS_URL"},
		{map[string]string{"GATEHOUSE_REDIS_URL": "redis://r:6379/0", "GATEHOUSE_REDIS_CLUSTER_ADDRS": "n1:6379",
			"GATEHOUSE_REDIS_SENTINEL_ADDRS": "s1:26379", "GATEHOUSE_REDIS_SENTINEL_MASTER": "m"}, "not both"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			set(t, tt.set)
			_, err := loadConfig(func(k string) (string, bool) { v, ok := tt.set[k]; return v, ok })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v: err %v, want one naming %q", tt.set, err, tt.want)
			}
		})
	}
	t.Run("sentinel", func(t *testing.T) {
		env := map[string]string{"GATEHOUSE_REDIS_URL": "redis://:pw@r:6379/0", "GATEHOUSE_REDIS_SENTINEL_ADDRS": "s1:26379,s2:26379", "GATEHOUSE_REDIS_SENTINEL_MASTER": "mymaster"}
		set(t, env)
		cfg, err := loadConfig(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil || len(cfg.RedisSentinelAddrs) != 2 || cfg.RedisSentinelMaster != "mymaster" {
			t.Errorf("sentinel config = %+v, %v", cfg.RedisSentinelAddrs, err)
		}
	})
}
