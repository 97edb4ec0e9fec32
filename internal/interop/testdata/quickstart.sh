#!/bin/sh
# The curl one-liners people paste from blog posts and READMEs.
# Usage: sh quickstart.sh WEBHOOK_URL
set -eu
url=$1
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' "$url" -d '{"text": "Hello from curl!"}'
threaded="$url&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' "$threaded" \
  -d '{"text": "curl thread start", "thread": {"threadKey": "curl-thread"}}'
curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' "$threaded" \
  -d '{"text": "curl thread reply", "thread": {"threadKey": "curl-thread"}}'
