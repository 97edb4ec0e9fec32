package systemtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/store/postgres/pgtest"
)

// Timing of the replica tests: a short lease, so that a dead replica's
// spaces are taken over in seconds, and a request timeout well under it.
// With a lease under 4 s the relay polls idle spaces every lease/4, so a
// takeover comes about clusterLease to clusterLease·1.25 after the holder's
// last renewal.
const (
	clusterLease          = 3 * time.Second
	clusterRequestTimeout = time.Second
)

// cluster is several `gchat relay` processes sharing one PostgreSQL schema,
// as replicas behind a load balancer: each listens on its own port, all
// read the same configuration (but for the webhook URLs a test may give a
// replica of its own).
type cluster struct {
	t        *testing.T
	dir      string
	dbURL    string
	admin    string
	emuHost  string
	spaces   []*relaySpace
	replicas []*replica
}

// replica is one relay process of a cluster.
type replica struct {
	c     *cluster
	name  string // r0, r1, …: the test's name for it
	addr  string
	owner string // its lease owner, read from its "started" log record
	out   *syncBuffer
	p     *proc
}

// newCluster prepares replicas of a relay delivering spaces to the emulator
// at emuHost, on a fresh schema of the test server (GCHAT_TEST_POSTGRES_URL;
// the test is skipped without it, or fails under CI=true). The schema is
// dropped at the end of the test, after the replicas stopped.
func newCluster(t *testing.T, emuHost string, spaces ...*relaySpace) *cluster {
	t.Helper()
	binary(t) // skip before touching the database
	dbURL, _ := pgtest.FreshSchema(t, "gchat_sys_")
	for _, s := range spaces {
		if s.Token == "" {
			s.Token = randomHex(16)
		}
	}
	return &cluster{t: t, dir: t.TempDir(), dbURL: dbURL, admin: randomHex(16), emuHost: emuHost, spaces: spaces}
}

// config writes a replica's configuration file: the cluster's, with the
// webhook URLs in hooks (by relay space) in place of the spaces' own.
func (c *cluster) config(name string, hooks map[string]string) string {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:0\nstore: %s\nadmin_token: %s\nallowed_hosts: [%q]\n"+
		"timing:\n  request_timeout: %s\n  lease: %s\n  backoff_base: 100ms\n  backoff_cap: 1s\nspaces:\n",
		strconv.Quote(c.dbURL), c.admin, c.emuHost, clusterRequestTimeout, clusterLease)
	for _, s := range c.spaces {
		hook := s.Webhook
		if h, ok := hooks[s.Name]; ok {
			hook = h
		}
		fmt.Fprintf(&b, "  %s:\n    webhook_url: %s\n    ingest_token: %s\n    pace: %s\n", s.Name, strconv.Quote(hook), s.Token, s.Pace)
		if s.NoCoalesce {
			b.WriteString("    coalesce: false\n")
		}
	}
	path := filepath.Join(c.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// launch starts n replicas at once (their migrations race, under the
// store's advisory lock) and waits until each is ready.
func (c *cluster) launch(n int) []*replica {
	c.t.Helper()
	var rs []*replica
	for range n {
		rs = append(rs, c.startReplica(nil))
	}
	for _, r := range rs {
		r.waitReady()
	}
	return rs
}

// startReplica starts one more replica, with its own webhook URLs for the
// spaces in hooks, without waiting for it.
func (c *cluster) startReplica(hooks map[string]string) *replica {
	c.t.Helper()
	r := &replica{c: c, name: fmt.Sprintf("r%d", len(c.replicas)), addr: freeAddr(c.t), out: &syncBuffer{}}
	logOnFailure(c.t, "replica "+r.name, r.out)
	path := c.config(r.name, hooks)
	r.p = startProc(c.t, r.out, binary(c.t), "relay", "--config", path, "--listen", r.addr)
	c.replicas = append(c.replicas, r)
	return r
}

var startedLine = regexp.MustCompile(`msg=started owner=(\S+)`)

// waitReady waits until the replica answers /readyz and has named its
// lease owner.
func (r *replica) waitReady() {
	t := r.c.t
	t.Helper()
	waitFor(t, 30*time.Second, "replica "+r.name+" ready", func() bool {
		if r.p.exited() {
			t.Fatalf("replica %s exited:\n%s", r.name, r.out)
		}
		m := startedLine.FindStringSubmatch(r.out.String())
		if m == nil {
			return false
		}
		r.owner = m[1]
		status, _, _ := doJSON(t.Context(), "GET", "http://"+r.addr+"/readyz", "", nil, nil)
		return status == http.StatusOK
	})
}

// byOwner returns the replica whose lease owner is owner, or nil.
func (c *cluster) byOwner(owner string) *replica {
	for _, r := range c.replicas {
		if r.owner == owner {
			return r
		}
	}
	return nil
}

// live returns the replicas still running.
func (c *cluster) live() []*replica {
	var out []*replica
	for _, r := range c.replicas {
		if !r.p.exited() {
			out = append(out, r)
		}
	}
	return out
}

// signal sends sig (SIGSTOP, SIGCONT) to the replica's process.
func (r *replica) signal(sig syscall.Signal) {
	r.c.t.Helper()
	if err := r.p.cmd.Process.Signal(sig); err != nil {
		r.c.t.Fatalf("signal %s to replica %s: %v", sig, r.name, err)
	}
}

// post sends msg to the replica's ingest for a relay space, like
// relay.post.
func (r *replica) post(ctx context.Context, space string, query url.Values, msg any) (int, error) {
	var s *relaySpace
	for _, sp := range r.c.spaces {
		if sp.Name == space {
			s = sp
		}
	}
	q := url.Values{"key": {"systemtest"}, "token": {s.Token}}
	for k, v := range query {
		q[k] = v
	}
	u := fmt.Sprintf("http://%s/v1/spaces/%s/messages?%s", r.addr, space, q.Encode())
	status, _, err := doJSON(ctx, "POST", u, "", msg, nil)
	return status, err
}

// spaceHolder is a relay space in GET /api/v1/spaces, as far as the tests
// read it.
type spaceHolder struct {
	Space      string    `json:"space"`
	Pending    int       `json:"pending"`
	Holder     string    `json:"holder"`
	LeaseUntil time.Time `json:"leaseUntil"`
}

// holders returns each relay space's lease holder, as the replica's admin
// API shows it.
func (r *replica) holders(t *testing.T) map[string]spaceHolder {
	t.Helper()
	var list struct{ Spaces []spaceHolder }
	mustJSON(t, "GET", "http://"+r.addr+"/api/v1/spaces", r.c.admin, nil, &list)
	m := make(map[string]spaceHolder)
	for _, s := range list.Spaces {
		m[s.Space] = s
	}
	return m
}

// deliveries lists the deliveries of a relay space through the replica's
// admin API (at most 1,000).
func (r *replica) deliveries(t *testing.T, space string) []relayDelivery {
	t.Helper()
	var list struct{ Deliveries []relayDelivery }
	mustJSON(t, "GET", "http://"+r.addr+"/api/v1/deliveries?limit=1000&space="+space, r.c.admin, nil, &list)
	return list.Deliveries
}

// settled reports whether every delivery of the cluster's spaces is done
// (or merged into a batch that is), as replica r sees the shared store.
func (r *replica) settled(t *testing.T) bool {
	t.Helper()
	for _, s := range r.c.spaces {
		ds := r.deliveries(t, s.Name)
		if len(ds) == 0 {
			return false
		}
		for _, d := range ds {
			if d.State != "done" && d.State != "batched" {
				return false
			}
		}
	}
	return true
}

// logCount counts the replica's log records with message msg (and, when
// attr is not empty, holding attr, such as "status=0"), in its output after
// the first occurrence of since ("" for all of it).
func (r *replica) logCount(msg, attr, since string) int { return len(r.logLines(msg, attr, since)) }

// logLines returns the log records msg (with attr, when not empty) written
// after the line since, in order.
func (r *replica) logLines(msg, attr, since string) []string {
	out := r.out.String()
	if since != "" {
		i := strings.Index(out, since)
		if i < 0 {
			return nil
		}
		out = out[i:]
	}
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " msg="+msg+" ") || strings.HasSuffix(line, " msg="+msg) {
			if attr == "" || strings.Contains(line, " "+attr) {
				lines = append(lines, line)
			}
		}
	}
	return lines
}

// logTimes returns the times of the records logLines returns.
func (r *replica) logTimes(t *testing.T, msg, attr, since string) []time.Time {
	t.Helper()
	var ts []time.Time
	for _, line := range r.logLines(msg, attr, since) {
		v, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatalf("log line without a time: %q", line)
		}
		ts = append(ts, at)
	}
	return ts
}

// poster posts, for each label, its messages in order, each until some
// replica answers 2xx, trying the replicas in turn as a load balancer
// would: a post to a dead or frozen replica fails after a short timeout
// and goes to the next one, with the same requestId, so that the relay's
// ingest deduplicates a post whose answer was lost.
type poster struct {
	c        *cluster
	mu       sync.Mutex
	accepted map[mark]bool
	retries  int
	errs     []error
}

func newPoster(c *cluster) *poster { return &poster{c: c, accepted: map[mark]bool{}} }

// run posts n messages for each label (relay space and thread key), with a
// random pause of up to gap between two posts of a label, to the replicas
// in targets (nil: all), until done or ctx ends.
func (p *poster) run(ctx context.Context, labels []label, n int, gap time.Duration, targets func() []*replica) {
	var wg sync.WaitGroup
	for li, l := range labels {
		wg.Go(func() {
			next := li
			for i := range n {
				m := mark{l.String(), i}
				q := url.Values{"requestId": {fmt.Sprintf("%s-%d", l, i)}}
				if l.thread != "" {
					for k, v := range threadQuery {
						q[k] = v
					}
				}
				if !p.postOne(ctx, l, m, q, targets, &next) {
					return
				}
				sleepCtx(ctx, randN(gap))
			}
		})
	}
	wg.Wait()
}

// postOne posts one message until a replica accepts it (at most 30 s) and
// reports whether it was accepted.
func (p *poster) postOne(ctx context.Context, l label, m mark, q url.Values, targets func() []*replica, next *int) bool {
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rs := p.c.replicas
		if targets != nil {
			rs = targets()
		}
		r := rs[*next%len(rs)]
		*next++
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		status, err := r.post(pctx, l.space, q, message(m, l.thread))
		cancel()
		if status/100 == 2 {
			p.mu.Lock()
			p.accepted[m] = true
			p.mu.Unlock()
			return true
		}
		last = err
		p.mu.Lock()
		p.retries++
		p.mu.Unlock()
		sleepCtx(ctx, 20*time.Millisecond)
	}
	if ctx.Err() == nil {
		p.mu.Lock()
		p.errs = append(p.errs, fmt.Errorf("%s: never accepted (last error: %v)", m.text(), last))
		p.mu.Unlock()
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func randN(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
