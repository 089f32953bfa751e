//go:build benchpprof

package main

import (
	"net/http"
	_ "net/http/pprof" // the profiling endpoints, in bench builds only
	"os"
)

// A bench build (go build -tags benchpprof) serves net/http/pprof on
// GATEHOUSE_PPROF_ADDR, for profiling the server under wrk
// (scripts/bench-http.sh with PPROF=1). Release builds never include it.
func init() {
	if addr := os.Getenv("GATEHOUSE_PPROF_ADDR"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
