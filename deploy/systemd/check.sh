#!/usr/bin/env bash
# Check the relay's unit: systemd-analyze verify, failing on any complaint
# (it exits 0 on unknown keys and bad values, which it only prints), and the
# offline security review, failing above an exposure of 2.0 (of 10; --threshold counts tenths). verify
# needs ExecStart's binary: install gchat at /usr/local/bin/gchat first.
set -euo pipefail
unit=$(dirname "$0")/gchat-relay.service
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "systemd-analyze verify complains:"; echo "$out"; exit 1
fi
systemd-analyze security --offline=true --threshold=20 "$unit" | tail -1
