package audit_test

import (
	"context"
	"testing"

	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/tenants"
)

// TestRecordTx: an entry written in a change's transaction commits or rolls
// back with it; Finish completes a committed one with the status and writes
// the failure of a rolled-back one; nothing is written twice.
func TestRecordTx(t *testing.T) {
	db := dbtest.Open(t)
	log := audit.New(db.Client)
	sys := tenants.SystemContext(context.Background(), "test")
	tn, err := db.Tenant.Create().SetSlug("acme").SetName("acme").SetSettings(map[string]any{}).Save(sys)
	if err != nil {
		t.Fatal(err)
	}
	base := tenants.NewContext(context.Background(), tn)
	fill := func(_ context.Context, e *audit.Entry) { e.ActorType, e.ActorID = "user", "user_1" }

	for _, tc := range []struct {
		name       string
		commit     bool
		status     int
		wantResult string
	}{
		{"committed", true, 200, "success"},
		{"rolled back", false, 500, "failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			action := "api_key.revoke " + tc.name
			p := audit.NewPending(audit.Entry{Action: action, TargetType: "api_key", TargetID: "apk_1"}, fill)
			ctx := audit.WithPending(base, p)
			tx, err := db.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.RecordTx(ctx, tx.Client()); err != nil {
				t.Fatalf("RecordTx = %v", err)
			}
			if err := audit.RecordTx(ctx, tx.Client()); err != nil { // already written: nothing
				t.Fatalf("second RecordTx = %v", err)
			}
			if tc.commit {
				err = tx.Commit()
			} else {
				err = tx.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := log.Finish(ctx, p, tc.status); err != nil {
				t.Fatalf("Finish = %v", err)
			}
			es, n, err := log.Find(base, audit.Filter{Action: action, Limit: 10})
			if err != nil || n != 1 {
				t.Fatalf("Find(%q) = %d events, %v; want 1", action, n, err)
			}
			e := es[0]
			if string(e.Result) != tc.wantResult || e.Status != tc.status || e.ActorID != "user_1" || e.TargetID != "apk_1" {
				t.Errorf("event = %s %d actor %s target %s, want %s %d actor user_1 target apk_1", e.Result, e.Status, e.ActorID, e.TargetID, tc.wantResult, tc.status)
			}
		})
	}

	// Without a pending entry RecordTx writes nothing.
	if err := audit.RecordTx(base, db.Client); err != nil {
		t.Fatal(err)
	}
	if n, err := db.AuditEvent.Query().Count(base); err != nil || n != 2 {
		t.Errorf("events = %d, %v; want 2", n, err)
	}
}
