package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestServeShutdownDelay: after its context ends a node keeps accepting new
// connections for GATEHOUSE_SHUTDOWN_DELAY and serves them, answering /readyz
// with 503 so that load balancers stop sending it requests; then Serve
// returns. Without the delay the listener closes at once and a connection
// the kernel had already accepted for it is reset.
func TestServeShutdownDelay(t *testing.T) {
	const delay = 600 * time.Millisecond
	a, _ := buildTestApp(t, nil, map[string]string{"GATEHOUSE_SHUTDOWN_DELAY": delay.String()})
	if a.Config.ShutdownDelay != delay {
		t.Fatalf("ShutdownDelay = %v, want %v", a.Config.ShutdownDelay, delay)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, "127.0.0.1:0", func(addr string) { addrc <- addr }) }()
	base := "http://" + <-addrc
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) int {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("/readyz"); st != 200 {
		t.Fatalf("/readyz before shutdown = %d, want 200", st)
	}
	stopped := time.Now()
	cancel()
	time.Sleep(delay / 4)
	if st := get("/readyz"); st != 503 {
		t.Errorf("/readyz while shutting down = %d, want 503", st)
	}
	if st := get("/healthz"); st != 200 {
		t.Errorf("/healthz on a new connection while shutting down = %d, want 200", st)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
		if d := time.Since(stopped); d < delay {
			t.Errorf("Serve returned %v after its context ended, before the %v delay", d, delay)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve still running 30 s after its context ended")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("a request after Serve returned was answered")
	}
}
