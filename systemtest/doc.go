// Package systemtest runs real Gatehouse processes against real PostgreSQL
// and Redis: two nodes sharing one database and one Redis (changes on one
// node take effect on the other within 100 ms), and faults (Redis stopped,
// PostgreSQL connections lost, SIGTERM under load).
//
// The tests build the gatehouse binary once, create a database of their own
// (gh_sys_…) on the server named by GATEHOUSE_TEST_POSTGRES_URL and start
// their own redis-server processes on free ports. They run when
// GATEHOUSE_SYSTEM_TESTS=1 (`make test-system`, part of `make test`), and
// then fail, never skip, when a service is missing. The package has no
// non-test code and imports nothing of ours: it sees Gatehouse from outside.
package systemtest
