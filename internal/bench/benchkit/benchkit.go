// Package benchkit holds what the bench commands share: an emulator with
// Google's quotas on loopback, and the floor those quotas set.
package benchkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/internal/emulator"
)

// Google's per-space quotas that a floor is made of.
const (
	QuotaInterval  = time.Second
	QuotaPerMinute = 60
)

// FloorTime is when the last of k requests can start, the first at 0,
// under both quotas: one per second, and at most QuotaPerMinute in any
// rolling minute. At exactly one per second the minute never holds more
// than QuotaPerMinute, so the second quota only matters for faster senders;
// it is kept so that a change of either constant stays right.
func FloorTime(k int) time.Duration {
	if k <= 0 {
		return 0
	}
	starts := make([]time.Duration, k)
	for i := range starts {
		t := time.Duration(i) * QuotaInterval
		if i >= QuotaPerMinute {
			t = max(t, starts[i-QuotaPerMinute]+time.Minute)
		}
		starts[i] = t
	}
	return starts[k-1]
}

// Seconds formats d as seconds with one decimal: "51.9 s".
func Seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// GoogleSpace is an emulator with Google's default quotas (1/s burst 1,
// 60/min) on a loopback listener, with one space and one webhook.
type GoogleSpace struct {
	Emu *emulator.Server
	// Host is the listener's host:port; Space the space id; Hook its
	// webhook.
	Host  string
	Space string
	Hook  *gchat.Webhook
	srv   *http.Server
}

// StartEmulator starts a GoogleSpace whose space and webhook have the
// given display names.
func StartEmulator(space, webhook string) (*GoogleSpace, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	set := emulator.DefaultSettings()
	emu := emulator.NewServer(emulator.Config{
		BaseURL:  "http://" + ln.Addr().String(),
		Spaces:   []emulator.SpaceSpec{{DisplayName: space, Webhooks: []emulator.WebhookSpec{{Name: webhook}}}},
		Settings: &set,
	}, nil)
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	sp := emu.Spaces()[0]
	hook, err := gchat.ParseWebhook(sp.Webhooks[0].URL)
	if err != nil {
		emu.Close()
		srv.Close()
		return nil, err
	}
	return &GoogleSpace{Emu: emu, Host: ln.Addr().String(), Space: sp.ID, Hook: hook, srv: srv}, nil
}

// Stop closes the emulator and its listener.
func (g *GoogleSpace) Stop() {
	g.Emu.Close()
	g.srv.Close()
}

// FreshSchema returns the PostgreSQL URL base with search_path set to a new
// schema, and a function that drops it (errors go to stderr, prefixed with
// the command's name).
func FreshSchema(ctx context.Context, base, command string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.New("-postgres: not a URL") // not quoted: it may hold a password
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "gchat_bench_" + hex.EncodeToString(b[:])
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(dctx, base)
		if err != nil {
			fmt.Fprintln(os.Stderr, command+": drop schema:", err)
			return
		}
		defer conn.Close(dctx)
		if _, err := conn.Exec(dctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			fmt.Fprintln(os.Stderr, command+": drop schema:", err)
		}
	}
	return u.String(), drop, nil
}
