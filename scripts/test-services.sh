#!/usr/bin/env bash
# Makes sure what the tests talk to is there: a Redis at REDIS_URL (started here when
# none answers on the default address) and Debian's chromium for the browser test.
set -euo pipefail

if [ -z "${REDIS_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "Starting redis-server on 127.0.0.1:6379 for the tests"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "The browser test needs Debian's chromium at /usr/bin/chromium: apt-get install chromium" >&2
    exit 1
  fi
  echo "Installing Debian's chromium for the browser test"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
