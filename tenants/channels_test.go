package tenants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/database"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/apikey"
	"github.com/gatehousehq/gatehouse/ent/saleschannel"
	"github.com/gatehousehq/gatehouse/tenants"
)

func ptr[T any](v T) *T { return &v }

// channelsEnv opens a fresh database and returns the channel service and a
// context scoped to each of the named new tenants.
func channelsEnv(t *testing.T, slugs ...string) (*database.DB, *tenants.Channels, []context.Context) {
	t.Helper()
	db := dbtest.Open(t)
	reg := tenants.NewRegistry(db.Client, tenants.Options{BaseDomain: "localhost"})
	ctxs := make([]context.Context, len(slugs))
	for i, slug := range slugs {
		tn, err := reg.Create(t.Context(), tenants.CreateInput{Slug: slug, Name: slug + " Inc."})
		if err != nil {
			t.Fatalf("Create(%q) = %v", slug, err)
		}
		ctxs[i] = tenants.NewContext(t.Context(), tn)
	}
	return db, tenants.NewChannels(db.Client), ctxs
}

// wantErr fails unless err is a *gatehouse.Error with code and message.
func wantErr(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if gatehouse.ErrorCode(err) != code || gatehouse.ErrorMessage(err) != msg {
		t.Errorf("%s = %v, want %s %q", what, err, code, msg)
	}
}

func mustCreate(t *testing.T, ctx context.Context, ch *tenants.Channels, in tenants.ChannelInput) *ent.SalesChannel {
	t.Helper()
	c, err := ch.CreateChannel(ctx, in)
	if err != nil {
		t.Fatalf("CreateChannel(%v) = %v", in, err)
	}
	return c
}

func TestChannelsCRUD(t *testing.T) {
	_, svc, ctxs := channelsEnv(t, "acme")
	ctx := ctxs[0]

	_, err := svc.CreateChannel(ctx, tenants.ChannelInput{Description: ptr("no name")})
	wantErr(t, "CreateChannel(no name)", err, gatehouse.EINVALID, "Invalid request: Field 'name' is required")
	_, err = svc.CreateChannel(ctx, tenants.ChannelInput{Name: ptr("")})
	wantErr(t, "CreateChannel(empty name)", err, gatehouse.EINVALID, "Invalid request: Value for field 'name' too small, expected at least: '1'")

	plain := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("Web")})
	if plain.Description != nil || plain.IsDisabled || plain.Metadata != nil || plain.Edges.APIKeys == nil {
		t.Errorf("CreateChannel(Web) = %+v, want no description, enabled, no metadata, empty keys", plain)
	}
	if len(plain.ID) < 4 || plain.ID[:3] != "sc_" {
		t.Errorf("CreateChannel(Web).ID = %q, want sc_…", plain.ID)
	}

	full := mustCreate(t, ctx, svc, tenants.ChannelInput{
		Name: ptr("POS"), Description: ptr("In store"), IsDisabled: ptr(true),
		Metadata: map[string]any{"region": "eu"},
	})
	got, err := svc.FindChannelByID(ctx, full.ID)
	if err != nil {
		t.Fatalf("FindChannelByID(%q) = %v", full.ID, err)
	}
	if got.Name != "POS" || got.Description == nil || *got.Description != "In store" || !got.IsDisabled ||
		!cmp.Equal(got.Metadata, map[string]any{"region": "eu"}) || got.TenantID != full.TenantID {
		t.Errorf("FindChannelByID(%q) = %+v, want the created channel", full.ID, got)
	}
	if len(got.Edges.APIKeys) != 0 {
		t.Errorf("FindChannelByID(%q).Edges.APIKeys = %v, want none", full.ID, got.Edges.APIKeys)
	}

	// Updates change only what is given.
	time.Sleep(2 * time.Millisecond)
	upd, err := svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{Name: ptr("Point of sale")})
	if err != nil {
		t.Fatalf("UpdateChannel(name) = %v", err)
	}
	if upd.Name != "Point of sale" || upd.Description == nil || *upd.Description != "In store" || !upd.IsDisabled ||
		upd.Metadata["region"] != "eu" || !upd.UpdatedAt.After(got.UpdatedAt) || !upd.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("UpdateChannel(name) = %+v, want only the name and updated_at changed", upd)
	}
	upd, err = svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{
		DescriptionSet: true, MetadataSet: true, IsDisabled: ptr(false),
	})
	if err != nil {
		t.Fatalf("UpdateChannel(clear) = %v", err)
	}
	if upd.Description != nil || upd.Metadata != nil || upd.IsDisabled || upd.Name != "Point of sale" {
		t.Errorf("UpdateChannel(clear) = %+v, want description and metadata cleared, enabled", upd)
	}
	upd, err = svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{
		Description: ptr(""), Metadata: map[string]any{"a": float64(1)},
	})
	if err != nil {
		t.Fatalf("UpdateChannel(set) = %v", err)
	}
	if upd.Description == nil || *upd.Description != "" || !cmp.Equal(upd.Metadata, map[string]any{"a": float64(1)}) {
		t.Errorf("UpdateChannel(set) = %+v, want empty description and metadata {a:1}", upd)
	}
	_, err = svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{Name: ptr("")})
	wantErr(t, "UpdateChannel(empty name)", err, gatehouse.EINVALID, "Invalid request: Value for field 'name' too small, expected at least: '1'")
	if _, err := svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{}); err != nil {
		t.Errorf("UpdateChannel(nothing) = %v, want the channel", err)
	}

	_, err = svc.UpdateChannel(ctx, "sc_missing", tenants.ChannelInput{Name: ptr("x")})
	wantErr(t, "UpdateChannel(sc_missing)", err, gatehouse.ENOTFOUND, `Sales channel with id "sc_missing" not found`)
	_, err = svc.FindChannelByID(ctx, "sc_missing")
	wantErr(t, "FindChannelByID(sc_missing)", err, gatehouse.ENOTFOUND, "Sales channel with id: sc_missing not found")

	if err := svc.DeleteChannel(ctx, full.ID); err != nil {
		t.Fatalf("DeleteChannel(%q) = %v", full.ID, err)
	}
	_, err = svc.FindChannelByID(ctx, full.ID)
	wantErr(t, "FindChannelByID(deleted)", err, gatehouse.ENOTFOUND, "Sales channel with id: "+full.ID+" not found")
	err = svc.DeleteChannel(ctx, full.ID)
	wantErr(t, "DeleteChannel(deleted)", err, gatehouse.ENOTFOUND, "Sales channel with id: "+full.ID+" not found")
	_, err = svc.UpdateChannel(ctx, full.ID, tenants.ChannelInput{})
	wantErr(t, "UpdateChannel(deleted)", err, gatehouse.ENOTFOUND, `Sales channel with id "`+full.ID+`" not found`)

	list, n, err := svc.FindChannels(ctx, tenants.ChannelFilter{Limit: 20})
	if err != nil || n != 1 || len(list) != 1 || list[0].ID != plain.ID {
		t.Errorf("FindChannels() = %v, %d, %v; want only %s", list, n, err, plain.ID)
	}
}

func TestFindChannels(t *testing.T) {
	_, svc, ctxs := channelsEnv(t, "acme")
	ctx := ctxs[0]
	web := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("Web Shop"), Description: ptr("the main storefront")})
	app := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("Mobile App")})
	pos := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("POS"), Description: ptr("Shop floor"), IsDisabled: ptr(true)})
	b2b := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("B2B"), IsDisabled: ptr(false)})

	ids := func(chs []*ent.SalesChannel) []string {
		out := []string{}
		for _, c := range chs {
			out = append(out, c.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		f     tenants.ChannelFilter
		want  []string
		count int
	}{
		{"all", tenants.ChannelFilter{Limit: 20}, []string{web.ID, app.ID, pos.ID, b2b.ID}, 4},
		{"q name and description, any case", tenants.ChannelFilter{Q: "SHOP", Limit: 20}, []string{web.ID, pos.ID}, 2},
		{"q description only", tenants.ChannelFilter{Q: "storefront", Limit: 20}, []string{web.ID}, 1},
		{"q no match", tenants.ChannelFilter{Q: "nothing", Limit: 20}, []string{}, 0},
		{"ids", tenants.ChannelFilter{IDs: []string{b2b.ID, app.ID, "sc_unknown"}, Limit: 20}, []string{app.ID, b2b.ID}, 2},
		{"name exact", tenants.ChannelFilter{Names: []string{"POS"}, Limit: 20}, []string{pos.ID}, 1},
		{"names, any of", tenants.ChannelFilter{Names: []string{"B2B", "POS", "Nope"}, Limit: 20}, []string{pos.ID, b2b.ID}, 2},
		{"name is not a substring match", tenants.ChannelFilter{Names: []string{"Web"}, Limit: 20}, []string{}, 0},
		{"description exact", tenants.ChannelFilter{Description: ptr("Shop floor"), Limit: 20}, []string{pos.ID}, 1},
		{"description is not a substring match", tenants.ChannelFilter{Description: ptr("Shop"), Limit: 20}, []string{}, 0},
		{"location: none kept", tenants.ChannelFilter{LocationIDs: []string{"sloc_1"}, Limit: 20}, []string{}, 0},
		{"disabled", tenants.ChannelFilter{IsDisabled: ptr(true), Limit: 20}, []string{pos.ID}, 1},
		{"enabled", tenants.ChannelFilter{IsDisabled: ptr(false), Limit: 20}, []string{web.ID, app.ID, b2b.ID}, 3},
		{"combined", tenants.ChannelFilter{Q: "shop", IsDisabled: ptr(false), Limit: 20}, []string{web.ID}, 1},
		{"first page", tenants.ChannelFilter{Limit: 2}, []string{web.ID, app.ID}, 4},
		{"second page", tenants.ChannelFilter{Offset: 2, Limit: 2}, []string{pos.ID, b2b.ID}, 4},
		{"past the end", tenants.ChannelFilter{Offset: 4, Limit: 2}, []string{}, 4},
		{"limit 0 counts only", tenants.ChannelFilter{}, []string{}, 4},
		{"filtered page", tenants.ChannelFilter{IsDisabled: ptr(false), Offset: 1, Limit: 1}, []string{app.ID}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := svc.FindChannels(ctx, tt.f)
			if err != nil {
				t.Fatalf("FindChannels(%+v) = %v", tt.f, err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" || n != tt.count {
				t.Errorf("FindChannels(%+v) count %d (want %d), ids (-want +got):\n%s", tt.f, n, tt.count, diff)
			}
		})
	}
}

func TestChannelPublishableKeys(t *testing.T) {
	db, svc, ctxs := channelsEnv(t, "acme")
	ctx := ctxs[0]
	ch := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("Web")})
	other := mustCreate(t, ctx, svc, tenants.ChannelInput{Name: ptr("Other")})

	key := func(title string, typ apikey.Type, deleted bool, channels ...string) *ent.APIKey {
		t.Helper()
		c := db.APIKey.Create().SetTitle(title).SetType(typ).SetDigest("digest-" + title).
			SetRedacted(title + "***").AddSalesChannelIDs(channels...)
		if typ == apikey.TypePublishable {
			c.SetToken("pk_" + title)
		}
		if deleted {
			c.SetDeletedAt(time.Now())
		}
		k, err := c.Save(ctx)
		if err != nil {
			t.Fatalf("create key %s: %v", title, err)
		}
		return k
	}
	pk1 := key("one", apikey.TypePublishable, false, ch.ID)
	pk2 := key("two", apikey.TypePublishable, false, ch.ID, other.ID)
	key("secret", apikey.TypeSecret, false, ch.ID)
	key("gone", apikey.TypePublishable, true, ch.ID)

	got, err := svc.FindChannelByID(ctx, ch.ID)
	if err != nil {
		t.Fatalf("FindChannelByID = %v", err)
	}
	var keys []string
	for _, k := range got.Edges.APIKeys {
		keys = append(keys, k.ID)
	}
	if diff := cmp.Diff([]string{pk1.ID, pk2.ID}, keys); diff != "" {
		t.Errorf("FindChannelByID(%s) keys (-want +got):\n%s", ch.ID, diff)
	}

	list, _, err := svc.FindChannels(ctx, tenants.ChannelFilter{Limit: 10})
	if err != nil || len(list) != 2 {
		t.Fatalf("FindChannels = %v, %v", list, err)
	}
	if len(list[0].Edges.APIKeys) != 2 || len(list[1].Edges.APIKeys) != 1 || list[1].Edges.APIKeys[0].ID != pk2.ID {
		t.Errorf("FindChannels keys = %v / %v, want 2 on Web and %s on Other", list[0].Edges.APIKeys, list[1].Edges.APIKeys, pk2.ID)
	}

	upd, err := svc.UpdateChannel(ctx, other.ID, tenants.ChannelInput{IsDisabled: ptr(true)})
	if err != nil || len(upd.Edges.APIKeys) != 1 {
		t.Errorf("UpdateChannel(%s) = %v, %v; want its one publishable key", other.ID, upd, err)
	}

	// Deleting a linked channel drops its links, not the keys.
	if err := svc.DeleteChannel(ctx, ch.ID); err != nil {
		t.Fatalf("DeleteChannel(linked) = %v", err)
	}
	n, err := db.APIKey.Query().Count(ctx)
	if err != nil || n != 4 {
		t.Errorf("keys after DeleteChannel = %d, %v; want 4", n, err)
	}
	if n, err := pk1.QuerySalesChannels().Count(ctx); err != nil || n != 0 {
		t.Errorf("channels of %s after DeleteChannel = %d, %v; want 0", pk1.ID, n, err)
	}
}

func TestChannelsCrossTenant(t *testing.T) {
	db, svc, ctxs := channelsEnv(t, "acme", "beta")
	a, b := ctxs[0], ctxs[1]
	ach := mustCreate(t, a, svc, tenants.ChannelInput{Name: ptr("Acme web"), Description: ptr("acme")})
	bch := mustCreate(t, b, svc, tenants.ChannelInput{Name: ptr("Beta web")})
	if ach.TenantID == bch.TenantID {
		t.Fatalf("channels of two tenants share tenant_id %s", ach.TenantID)
	}

	_, err := svc.FindChannelByID(b, ach.ID)
	wantErr(t, "FindChannelByID(B, A's channel)", err, gatehouse.ENOTFOUND, "Sales channel with id: "+ach.ID+" not found")
	_, err = svc.UpdateChannel(b, ach.ID, tenants.ChannelInput{Name: ptr("stolen")})
	wantErr(t, "UpdateChannel(B, A's channel)", err, gatehouse.ENOTFOUND, `Sales channel with id "`+ach.ID+`" not found`)
	err = svc.DeleteChannel(b, ach.ID)
	wantErr(t, "DeleteChannel(B, A's channel)", err, gatehouse.ENOTFOUND, "Sales channel with id: "+ach.ID+" not found")

	for _, f := range []tenants.ChannelFilter{
		{Limit: 20},
		{IDs: []string{ach.ID}, Limit: 20},
		{Q: "acme", Limit: 20},
		{Names: []string{"Acme web"}, Limit: 20},
		{Description: new(""), Limit: 20},
	} {
		list, n, err := svc.FindChannels(b, f)
		if err != nil {
			t.Fatalf("FindChannels(B, %+v) = %v", f, err)
		}
		for _, c := range list {
			if c.ID == ach.ID {
				t.Errorf("FindChannels(B, %+v) lists A's channel %s", f, ach.ID)
			}
		}
		if n > 1 {
			t.Errorf("FindChannels(B, %+v) count = %d, want at most B's one channel", f, n)
		}
	}

	// A's channel is untouched, and B cannot link it through the edge either.
	got, err := svc.FindChannelByID(a, ach.ID)
	if err != nil || got.Name != "Acme web" {
		t.Errorf("FindChannelByID(A) = %v, %v; want it unchanged", got, err)
	}
	if n, err := db.SalesChannel.Query().Where(saleschannel.ID(ach.ID)).Count(b); err != nil || n != 0 {
		t.Errorf("raw query of A's channel in B = %d, %v; want 0", n, err)
	}
	if n, err := db.SalesChannel.Update().Where(saleschannel.ID(ach.ID)).SetName("x").Save(b); err != nil || n != 0 {
		t.Errorf("raw bulk update of A's channel in B = %d, %v; want 0 rows", n, err)
	}
	if n, err := db.SalesChannel.Delete().Where(saleschannel.ID(ach.ID)).Exec(b); err != nil || n != 0 {
		t.Errorf("raw bulk delete of A's channel in B = %d, %v; want 0 rows", n, err)
	}
	if _, err := db.SalesChannel.Create().SetName("forged").SetTenantID(ach.TenantID).Save(b); err == nil {
		t.Errorf("create with A's tenant_id in B's context succeeded, want an error")
	}
	if list, n, err := svc.FindChannels(a, tenants.ChannelFilter{Limit: 20}); err != nil || n != 1 || list[0].Name != "Acme web" {
		t.Errorf("FindChannels(A) = %v, %d, %v; want A's channel alone and unchanged", list, n, err)
	}
}

// TestTenantScopeFailsClosed is the acceptance check of the tenant mixin: a
// SalesChannel query, create, update or delete without a tenant in the
// context fails with ErrNoTenant instead of touching every tenant.
func TestTenantScopeFailsClosed(t *testing.T) {
	db, svc, ctxs := channelsEnv(t, "acme")
	ch := mustCreate(t, ctxs[0], svc, tenants.ChannelInput{Name: ptr("Web")})
	bare := t.Context()

	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, tenants.ErrNoTenant) {
			t.Errorf("%s without tenant = %v, want ErrNoTenant", what, err)
		}
	}
	_, _, err := svc.FindChannels(bare, tenants.ChannelFilter{Limit: 20})
	check("FindChannels", err)
	_, err = svc.FindChannelByID(bare, ch.ID)
	check("FindChannelByID", err)
	_, err = svc.CreateChannel(bare, tenants.ChannelInput{Name: ptr("x")})
	check("CreateChannel", err)
	_, err = svc.UpdateChannel(bare, ch.ID, tenants.ChannelInput{Name: ptr("x")})
	check("UpdateChannel", err)
	check("DeleteChannel", svc.DeleteChannel(bare, ch.ID))

	_, err = db.SalesChannel.Query().All(bare)
	check("SalesChannel.Query().All", err)
	_, err = db.SalesChannel.Query().Count(bare)
	check("SalesChannel.Query().Count", err)
	_, err = db.SalesChannel.Get(bare, ch.ID)
	check("SalesChannel.Get", err)
	_, err = db.SalesChannel.Create().SetName("x").Save(bare)
	check("SalesChannel.Create", err)
	_, err = db.SalesChannel.Create().SetName("x").SetTenantID(ch.TenantID).Save(bare)
	check("SalesChannel.Create with tenant_id", err)
	_, err = db.SalesChannel.Update().SetName("x").Save(bare)
	check("SalesChannel.Update", err)
	_, err = db.SalesChannel.UpdateOneID(ch.ID).SetName("x").Save(bare)
	check("SalesChannel.UpdateOneID", err)
	_, err = db.SalesChannel.Delete().Exec(bare)
	check("SalesChannel.Delete", err)
	check("SalesChannel.DeleteOneID", db.SalesChannel.DeleteOneID(ch.ID).Exec(bare))
	// An edge traversal from a tenant-less context is refused as well.
	_, err = db.APIKey.Query().QuerySalesChannels().All(bare)
	check("APIKey→SalesChannel traversal", err)

	// Nothing changed: the channel is still there, named as before.
	got, err := svc.FindChannelByID(ctxs[0], ch.ID)
	if err != nil || got.Name != "Web" {
		t.Errorf("FindChannelByID after refused writes = %v, %v; want Web unchanged", got, err)
	}
	if n, err := db.SalesChannel.Query().Count(tenants.SystemContext(bare, "test: count all channels")); err != nil || n != 1 {
		t.Errorf("channels in the database = %d, %v; want 1", n, err)
	}
}
