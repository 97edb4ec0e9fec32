#!/usr/bin/env bash
# Build the relay's container image with podman from a fresh static binary.
#
#   deploy/container/build.sh [TAG]     (default gchat:dev)
#
# GCHAT_BINARY names a binary built already, the same way, to use instead.
#
# The context is assembled in a temporary directory: no base image is pulled
# (FROM scratch), the CA bundle is Debian's (package ca-certificates), and
# the binary carries its time zone data (the timetzdata build tag, the same
# as importing time/tzdata).
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-gchat:dev}
ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || { echo "$ca missing: apt-get install ca-certificates" >&2; exit 1; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
if [ -n "${GCHAT_BINARY:-}" ]; then
  cp "$GCHAT_BINARY" "$ctx/gchat"
else
  CGO_ENABLED=0 go build -trimpath -tags timetzdata -ldflags='-s -w' -o "$ctx/gchat" ./cmd/gchat
fi
cp "$ca" "$ctx/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\ngchat:x:65532:65532:gchat relay:/var/lib/gchat:/sbin/nologin\n' >"$ctx/passwd"
printf 'root:x:0:\ngchat:x:65532:\n' >"$ctx/group"
mkdir -p "$ctx/store" "$ctx/tmp" "$ctx/var/lib"
cp deploy/container/Containerfile "$ctx/"
podman build --quiet -f "$ctx/Containerfile" -t "$tag" "$ctx"
