package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a server's log, written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// readMailbox returns the events of a mailbox file by name.
func readMailbox(t *testing.T, path string) map[string][]mailboxLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]mailboxLine{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l mailboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("mailbox line %q: %v", sc.Text(), err)
		}
		out[l.Event] = append(out[l.Event], l)
	}
	return out
}

// A development server hands the tokens of its events (a reset, an invite)
// to the developer through the mailbox file, which only its user can read;
// its log names the events and carries none of their tokens.
func TestDevelopmentMailbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev", "mailbox.jsonl")
	logs := new(lockedBuffer)
	a, srv := buildTestAppLogging(t, nil, map[string]string{"GATEHOUSE_ENV": "development", "GATEHOUSE_DEV_MAILBOX": path}, logs)
	if a.Mailbox != path {
		t.Fatalf("App.Mailbox = %q, want %q", a.Mailbox, path)
	}
	token := login(t, a, srv, "acme", "admin@acme.test", "correct-horse-9")
	tn, err := a.Tenants.FindBySlugOrID(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}

	if status, body := call(t, srv, "POST", "/auth/user/emailpass/reset-password", "acme", "", map[string]any{"identifier": "admin@acme.test"}); status != 201 {
		t.Fatalf("reset-password: %d %v", status, body)
	}
	// The reset is made after the answer (no enumeration by timing).
	if err := a.Auth.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	status, body := call(t, srv, "POST", "/admin/invites", "acme", token, map[string]any{"email": "new@acme.test"})
	if status != 200 {
		t.Fatalf("create invite: %d %v", status, body)
	}
	inviteToken, _ := body["invite"].(map[string]any)["token"].(string)
	// A refused invite (the address is a user's) commits nothing, so it
	// reaches no mailbox.
	if status, body := call(t, srv, "POST", "/admin/invites", "acme", token, map[string]any{"email": "admin@acme.test"}); status != 400 {
		t.Fatalf("invite of a user: %d %v", status, body)
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("mailbox mode %v, want 0600", m)
	}
	events := readMailbox(t, path)
	resets := events["auth.password_reset"]
	if len(resets) != 1 || resets[0].TenantID != tn.ID {
		t.Fatalf("mailbox auth.password_reset = %+v, want one of tenant %s", resets, tn.ID)
	}
	resetToken, _ := resets[0].Data["token"].(string)
	invites := events["invite.created"]
	if len(invites) != 1 || inviteToken == "" || invites[0].Data["token"] != inviteToken || invites[0].Data["email"] != "new@acme.test" {
		t.Fatalf("mailbox invite.created = %+v, want one with the invite's token", invites)
	}

	// The token from the mailbox completes the reset.
	req := map[string]any{"password": "brand-new-horse-7"}
	if status, body := call(t, srv, "POST", "/auth/user/emailpass/update", "acme", resetToken, req); status != 200 {
		t.Fatalf("update with the mailbox's reset token: %d %v", status, body)
	}
	if status, body := call(t, srv, "POST", "/auth/user/emailpass", "acme", "", map[string]any{"email": "admin@acme.test", "password": "brand-new-horse-7"}); status != 200 {
		t.Fatalf("login with the new password: %d %v", status, body)
	}

	out := logs.String()
	for _, want := range []string{"auth.password_reset", "invite.created", "event written to the development mailbox", path} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for name, secret := range map[string]string{"reset token": resetToken, "invite token": inviteToken} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s is in the log", name)
		}
	}
}

// Outside development nothing is written: the outbox is for webhooks only.
func TestNoMailboxOutsideDevelopment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.jsonl")
	a, srv := buildTestApp(t, nil, map[string]string{"GATEHOUSE_DEV_MAILBOX": path})
	token := login(t, a, srv, "acme", "admin@acme.test", "correct-horse-9")
	if status, body := call(t, srv, "POST", "/admin/invites", "acme", token, map[string]any{"email": "new@acme.test"}); status != 200 {
		t.Fatalf("create invite: %d %v", status, body)
	}
	if a.Mailbox != "" {
		t.Errorf("App.Mailbox = %q in test", a.Mailbox)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("mailbox file in test: %v", err)
	}
}
