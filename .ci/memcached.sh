#!/usr/bin/env bash
# Start a memcached on 127.0.0.1:11211 for the memcache provider's integration tests.
# Idempotent: when something already answers on that address, nothing is installed or started.
set -euo pipefail

HOST=127.0.0.1
PORT=11211
RUN_DIR=/tmp/sessionkit-ci/memcached
PID_FILE="$RUN_DIR/memcached.pid"

answers() {
  # a memcached answers "version" with "VERSION x.y.z"
  exec 3<>"/dev/tcp/$HOST/$PORT" 2>/dev/null || return 1
  printf 'version\r\n' >&3
  local line=''
  IFS= read -r -t 2 line <&3 || true
  exec 3>&- 3<&- || true
  [[ "$line" == VERSION* ]]
}

if answers; then
  echo "memcached already answers on $HOST:$PORT"
  exit 0
fi

if ! command -v memcached >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y memcached || { apt-get update && apt-get install -y memcached; }
fi

# The Debian package creates the "memcache" user; a bare binary may not have one.
if ! id memcache >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin memcache
fi

mkdir -p "$RUN_DIR"
chown memcache "$RUN_DIR"
chmod 0755 "$RUN_DIR"

memcached -d -l "$HOST" -p "$PORT" -U 0 -u memcache -m 64 -P "$PID_FILE"

for _ in $(seq 1 50); do
  if answers; then
    echo "memcached answers on $HOST:$PORT (pid $(cat "$PID_FILE" 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 0.1
done

echo "memcached did not answer on $HOST:$PORT within 5s" >&2
exit 1
