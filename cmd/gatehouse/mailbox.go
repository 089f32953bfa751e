package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatehousehq/gatehouse/tenants"
)

// mailbox is the development server's outbox reader: every committed event
// (invites, password resets, verification codes, with their tokens) is
// appended as one JSON line to a file only the server's user can read, so a
// developer can follow those flows without a mail server or a webhook. The
// log says which event went there, never its data: tokens are secrets and
// logs are shipped elsewhere (SECURITY-CHECKLIST 37).
type mailbox struct {
	path string
	log  *slog.Logger
	mu   sync.Mutex
	f    *os.File
}

func openMailbox(path string, log *slog.Logger) (*mailbox, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("development mailbox: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("development mailbox: %w", err)
	}
	return &mailbox{path: path, log: log, f: f}, nil
}

// mailboxLine is one event of the mailbox file.
type mailboxLine struct {
	Time     time.Time      `json:"time"`
	TenantID string         `json:"tenant_id,omitempty"`
	Event    string         `json:"event"`
	Data     map[string]any `json:"data"`
}

// Deliver appends the event; a failure is logged (without the event's data)
// and loses only the development copy: the outbox row is committed.
func (m *mailbox) Deliver(ctx context.Context, event string, data map[string]any) {
	tid, _ := tenants.IDFromContext(ctx)
	line, err := json.Marshal(mailboxLine{Time: time.Now().UTC(), TenantID: tid, Event: event, Data: data})
	if err == nil {
		m.mu.Lock()
		_, err = m.f.Write(append(line, '\n'))
		m.mu.Unlock()
	}
	if err != nil {
		m.log.ErrorContext(ctx, "development mailbox: event not written", slog.String("event", event), slog.String("error", err.Error()))
		return
	}
	m.log.InfoContext(ctx, "event written to the development mailbox", slog.String("event", event), slog.String("mailbox", m.path))
}

func (m *mailbox) Close() error { return m.f.Close() }
