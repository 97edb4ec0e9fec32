#!/usr/bin/env bash
# Check the relay's image as it would run, without running a container
# (podman run may be refused on CI machines): export its file system, check
# what the relay needs is in it, and run the binary from it: version, then a
# relay on a configuration that answers /healthz. It prints the image size
# and the idle relay's resident memory.
#
#   deploy/container/check.sh [TAG]     (default gchat:dev)
set -euo pipefail
tag=${1:-gchat:dev}
dir=$(mktemp -d)
cid=
relay=
cleanup() {
  [ -n "$relay" ] && kill "$relay" 2>/dev/null && wait "$relay" 2>/dev/null
  [ -n "$cid" ] && podman rm -f "$cid" >/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

fail() { echo "image check: $*" >&2; exit 1; }

cid=$(podman create "$tag")
mkdir "$dir/root"
podman export "$cid" | tar -x -C "$dir/root"
root=$dir/root

# What the image holds and how it starts.
[ -x "$root/usr/local/bin/gchat" ] || fail "no /usr/local/bin/gchat"
certs=$(grep -c 'BEGIN CERTIFICATE' "$root/etc/ssl/certs/ca-certificates.crt") || fail "no CA bundle"
[ "$certs" -gt 50 ] || fail "CA bundle has $certs certificates"
grep -q '^gchat:x:65532:65532:' "$root/etc/passwd" || fail "no gchat user in /etc/passwd"
[ "$(stat -c %u:%g "$root/var/lib/gchat")" = 65532:65532 ] || fail "/var/lib/gchat is not the gchat user's"
[ "$(stat -c %u "$root/tmp")" = 65532 ] || fail "/tmp is not the gchat user's"
[ "$(stat -c %u "$root/var/lib")" = 0 ] || fail "/var/lib is not root's"
user=$(podman image inspect "$tag" --format '{{.Config.User}}')
[ "$user" = 65532:65532 ] || fail "runs as $user"
cmd=$(podman image inspect "$tag" --format '{{join .Config.Cmd " "}}')
[[ "$cmd" == *"--config /etc/gchat/gchat.yaml"* ]] || fail "the default command names no configuration: $cmd"
podman image inspect "$tag" --format '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' | grep -q 8686/tcp || fail "8686 not exposed"
size=$(podman image inspect "$tag" --format '{{.Size}}')

"$root/usr/local/bin/gchat" version

# A relay from the image's binary, with the image's CA bundle, on a
# configuration of its own; its store in a fresh directory.
mkdir "$dir/store"
cat >"$dir/gchat.yaml" <<YAML
listen: 127.0.0.1:0
store: sqlite:$dir/store/gchat.db
spaces:
  alerts:
    webhook_url: https://chat.googleapis.com/v1/spaces/AAAAimage/messages?key=imagecheck&token=imagecheck
YAML
SSL_CERT_FILE=$root/etc/ssl/certs/ca-certificates.crt \
  "$root/usr/local/bin/gchat" relay --config "$dir/gchat.yaml" >"$dir/out" 2>"$dir/err" &
relay=$!
addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's|^gchat relay on \(http://[^ ]*\) .*|\1|p' "$dir/out")
  [ -n "$addr" ] && break
  kill -0 "$relay" 2>/dev/null || { cat "$dir/err" >&2; fail "the relay exited"; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$dir/err" >&2; fail "the relay did not start"; }
health=$(curl -fsS "$addr/healthz") || fail "GET /healthz failed"
curl -fsS "$addr/readyz" >/dev/null || fail "GET /readyz failed"
# Idle memory: after a few seconds with nothing to do, and one scrape.
curl -fsS "$addr/metrics" >/dev/null || fail "GET /metrics failed"
sleep 3
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$relay/status")
echo "image $tag: $size bytes ($(( size / 1000000 )) MB); /healthz: $health; idle relay RSS: $rss kB"
