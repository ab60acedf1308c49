#!/usr/bin/env bash
# Makes sure what the tests talk to is there: a Redis at REDIS_URL (started here when
# none answers on the default address), Debian's chromium for the browser test, and
# Debian's python3-prometheus-client, whose parser reads the metrics tests' scrapes.
set -euo pipefail

if [ -z "${REDIS_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "Starting redis-server on 127.0.0.1:6379 for the tests"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || missing+=(python3-prometheus-client)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "The tests need Debian's ${missing[*]}: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing Debian's ${missing[*]} for the tests"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
