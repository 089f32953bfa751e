package auth

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/gatehousehq/gatehouse/database/dbtest"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/tenants"
)

type recordingMailbox struct {
	mu     sync.Mutex
	events []string
}

func (m *recordingMailbox) Deliver(ctx context.Context, event string, data map[string]any) {
	tid, _ := tenants.IDFromContext(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, tid+" "+event+" "+data["token"].(string))
}

func (m *recordingMailbox) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// The mailbox gets an event once it is committed, and never one whose
// transaction rolled back (its token was never issued).
func TestEmitDeliversCommittedEvents(t *testing.T) {
	db, ctx := acmeTenant(t)
	mb := new(recordingMailbox)
	s := &Service{db: db, cfg: Config{Mailbox: mb}}

	tx, err := db.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.emit(ctx, tx, "invite.created", map[string]any{"token": "rolled-back"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	tx, err = db.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.emit(ctx, tx, "invite.created", map[string]any{"token": "committed"}); err != nil {
		t.Fatal(err)
	}
	if got := mb.got(); len(got) != 0 {
		t.Fatalf("delivered before commit: %v", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.emit(ctx, nil, "invite.resent", map[string]any{"token": "direct"}); err != nil {
		t.Fatal(err)
	}

	tid, _ := tenants.IDFromContext(ctx)
	want := []string{tid + " invite.created committed", tid + " invite.resent direct"}
	if got := mb.got(); !slices.Equal(got, want) {
		t.Errorf("mailbox got %q, want %q", got, want)
	}
	if n, err := db.Event.Query().Count(ctx); err != nil || n != 2 {
		t.Errorf("outbox holds %d events (%v), want 2", n, err)
	}
}

// acmeTenant opens a test database with one tenant, "acme", and returns a
// context scoped to it.
func acmeTenant(t *testing.T) (*ent.Client, context.Context) {
	t.Helper()
	db := dbtest.Open(t).Client
	tn, err := tenants.NewRegistry(db, tenants.Options{}).Create(t.Context(), tenants.CreateInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	return db, tenants.WithTenant(t.Context(), tn.ID)
}
