package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gchatkit/gchat/internal/emulator"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns a pool that trusts it.
func selfSigned(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gchat relay test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "relay.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "relay.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func TestRelayServesTLS(t *testing.T) {
	set := emulator.DefaultSettings()
	set.QuotaPerSecond = 0
	emu := emulator.NewServer(emulator.Config{
		Spaces:   []emulator.SpaceSpec{{ID: "AAAAtls0001", DisplayName: "alerts", Webhooks: []emulator.WebhookSpec{{Name: "relay", Token: "emu-secret-token"}}}},
		Settings: &set,
	}, slog.New(slog.DiscardHandler))
	ts := httptest.NewServer(emu)
	defer ts.Close()
	defer emu.Close()

	dir := t.TempDir()
	pool := selfSigned(t, dir)
	cfg := "listen: 127.0.0.1:0\n" +
		"store: sqlite:" + filepath.Join(dir, "relay.db") + "\n" +
		"tls_cert_file: relay.crt\n" + // relative to the config file
		"tls_key_file: relay.key\n" +
		"allowed_hosts: [" + strings.TrimPrefix(ts.URL, "http://") + "]\n" +
		"spaces:\n  alerts:\n    webhook_url: ${HOOK}\n    ingest_token: alerts-token-0123456789\n    pace: 50ms\n"
	path := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := ts.URL + "/v1/spaces/AAAAtls0001/messages?key=" + emulator.FakeKey + "&token=emu-secret-token"
	m, _, _, stop := startRelay(t, map[string]string{"HOOK": hook}, regexp.MustCompile(`gchat relay on (https://\S+) `), "--config", path)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Post(m[1]+"/v1/spaces/alerts/messages?key=k&token=alerts-token-0123456789", "application/json", strings.NewReader(`{"text":"over TLS"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("got %d (TLS %v): %s", resp.StatusCode, resp.TLS != nil, body)
	}
	if texts := waitMessages(t, ts.URL+"/api/v1", "AAAAtls0001", 1); texts[0] != "over TLS" {
		t.Errorf("emulator got %q", texts)
	}
	if err := stop(); err != nil {
		t.Errorf("relay: %v", err)
	}
}
