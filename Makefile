# Gatehouse — `make help` lists the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
GO      ?= go

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: run
run: ## run the server on :9000 (SQLite in ./data, memory sessions, demo tenant on first start; builds the console when node is installed)
	@if command -v node >/dev/null 2>&1; then scripts/web.sh build; else echo "node not found: /app/ will say how to build the console (make web)"; fi
	GATEHOUSE_ENV=$${GATEHOUSE_ENV:-development} $(GO) run ./cmd/gatehouse serve

.PHONY: build
build: ## build bin/gatehouse (static, with version info)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/gatehouse ./cmd/gatehouse

.PHONY: generate
generate: ## regenerate the Ent code from ent/schema
	$(GO) generate ./ent

.PHONY: check-generate
check-generate: ## fail when the committed Ent code is stale
	@$(GO) generate ./ent
	@git diff --quiet --exit-code -- ent || { echo "generated Ent code is stale: run 'make generate' and commit"; git diff --stat -- ent; exit 1; }

.PHONY: lint
lint: ## gofmt, go vet, staticcheck when installed
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi

.PHONY: test-unit
test-unit: ## unit and HTTP tests on SQLite and the memory store
	@echo "== unit tests: SQLite + memory store =="
	$(GO) test -count=1 ./...

.PHONY: test-integration
test-integration: ## the same tests on PostgreSQL and Redis (started or installed when missing)
	@echo "== integration tests: PostgreSQL + Redis =="
	@set -a; eval "$$(scripts/services.sh)"; set +a; \
	  echo "PostgreSQL: $$GATEHOUSE_TEST_POSTGRES_URL"; echo "Redis: $$GATEHOUSE_TEST_REDIS_URL"; \
	  $(GO) test -count=1 ./...

.PHONY: conformance
conformance: ## the @medusajs/js-sdk conformance suite against a fresh server on PostgreSQL + Redis
	@echo "== conformance: @medusajs/js-sdk =="
	@set -a; eval "$$(scripts/services.sh)"; set +a; scripts/conformance.sh

.PHONY: fuzz
# A count, not a duration: Go 1.26's fuzz coordinator can report its own
# -fuzztime deadline as a failure ("context deadline exceeded", no input
# written; golang/go#75804, fixed in Go 1.27) when a worker is mid-call.
FUZZ_EXECS ?= 1000x
fuzz: ## run each fuzz target briefly (FUZZ_EXECS executions each)
	@echo "== fuzz (short) =="
	@for t in $$($(GO) test -list 'Fuzz.*' ./api/ 2>/dev/null | grep '^Fuzz'); do $(GO) test ./api/ -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZ_EXECS) || exit 1; done

.PHONY: check-dockerfile
check-dockerfile: ## run the Dockerfile's go build outside Docker; fail when it differs from `make build`
	@echo "== Dockerfile build command =="
	@scripts/dockerfile-build-check.sh

.PHONY: check-chart
check-chart: ## helm lint + helm template (default and production values) and the chart's typed-manifest test
	@echo "== Helm chart =="
	$(GO) tool helm lint --strict deploy/helm/gatehouse
	$(GO) tool helm lint --strict deploy/helm/gatehouse -f deploy/helm/gatehouse/ci/production-values.yaml
	$(GO) tool helm template gatehouse deploy/helm/gatehouse --kube-version 1.31.0 >/dev/null
	$(GO) tool helm template gatehouse deploy/helm/gatehouse --kube-version 1.31.0 -f deploy/helm/gatehouse/ci/production-values.yaml >/dev/null
	$(GO) test -count=1 ./deploy/...

.PHONY: check-docs
check-docs: ## run every curl of docs/guide.md against a fresh server, and the README quick start through `make run`
	@echo "== docs: curl guide =="
	@scripts/docs-check.sh
	@echo "== docs: README quick start =="
	@scripts/quickstart-check.sh

.PHONY: check-traces
check-traces: ## GATEHOUSE_TRACES=stdout make run prints auth.check spans (login + admin call with curl)
	@echo "== traces: stdout exporter =="
	@scripts/traces-check.sh

.PHONY: test-system
test-system: ## system tests: real gatehouse processes, two nodes, Redis/PostgreSQL faults, SIGTERM (PostgreSQL + Redis)
	@echo "== system tests: two nodes and faults =="
	@set -a; eval "$$(scripts/services.sh)"; set +a; \
	  GATEHOUSE_SYSTEM_TESTS=1 $(GO) test -count=1 -timeout 5m ./systemtest/

.PHONY: soak
soak: ## 10-minute soak at half capacity (SOAK_SECONDS to change), results in docs/benchmarks.md; not in CI
	scripts/soak.sh

.PHONY: test
test: lint check-generate check-dockerfile check-chart check-docs check-traces test-unit test-integration test-system bench-smoke fuzz conformance test-web ## everything CI runs

.PHONY: bench
bench: ## Go benchmarks of every hot path, wrk against a server, then the 10,000-tenant scale run (PostgreSQL + Redis); all write docs/benchmarks.md
	scripts/bench-go.sh
	scripts/bench-http.sh
	scripts/bench-scale.sh

.PHONY: bench-smoke
bench-smoke: ## the HTTP benchmark for 1 s per route, failing on any non-2xx answer; docs untouched
	DURATION=1s PAIRS=1 PAIR_DURATION=1s WRITE_DOCS=0 CHECK=1 scripts/bench-http.sh

.PHONY: web
web: ## build the admin console into web/dist (Node.js 20+); the next go build embeds it
	scripts/web.sh build

.PHONY: test-web
test-web: ## console unit tests (Vitest) and end-to-end tests (headless Chromium against a real server)
	@echo "== console: Vitest + Chromium end-to-end =="
	scripts/web.sh test
	scripts/web.sh e2e
