// Package systemtest runs gchat as its users do: the real binary, an
// emulator process and relay processes on 127.0.0.1, talking HTTP. Its tests
// check what only whole processes can show: pacing per Google space across
// relay spaces, order per thread, faults and permanent refusals, what a
// kill -9 of the relay does to messages it had answered 2xx, and, with
// several relay replicas on one PostgreSQL database, failover after a
// kill -9 and fencing of a replica frozen past its lease.
//
// The tests start several processes and take minutes, so they skip unless
// GCHAT_SYSTEM_TESTS=1 and run in their own CI step, one package at a time,
// with the binary built without the race detector:
//
//	GCHAT_SYSTEM_TESTS=1 go test -p 1 -count=1 -timeout 15m ./internal/systemtest/
//
// The replica tests also need PostgreSQL, GCHAT_TEST_POSTGRES_URL (for
// example postgres://postgres@127.0.0.1:5432/test?sslmode=disable): each
// runs in a schema of its own, gchat_sys_…, dropped at its end. Without the
// variable they skip, unless CI=true, where they fail.
//
// The full-disk test mounts a small tmpfs for the relay's store, which needs
// root: without it the test skips, unless CI=true, where it fails.
//
// Timing is scaled down (paces of 100–150 ms instead of Google's 1 s) and
// asserted only from the emulator's request records, with a stated
// tolerance.
package systemtest
