#!/usr/bin/env bash
# Starts a Redis primary on 127.0.0.1:6380 and a Sentinel on 127.0.0.1:26379 watching it under the
# master name "sessionkit", for the redis provider's sentinel tests. Idempotent: servers that
# already answer are kept. Runs as root on Debian 12 with redis-server installed; installs
# Debian's redis-sentinel package when the redis-sentinel command is missing.
set -euo pipefail

HOST=127.0.0.1
PRIMARY_PORT=6380
SENTINEL_PORT=26379
MASTER=sessionkit
BASE=/tmp/sessionkit-ci/sentinel

answers() {
  redis-cli -h "$HOST" -p "$1" ping 2>/dev/null | grep -q PONG
}

wait_for() {
  for _ in $(seq 1 100); do
    answers "$1" && return 0
    sleep 0.1
  done
  echo "nothing answers on ${HOST}:$1" >&2
  return 1
}

if ! command -v redis-sentinel >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y redis-sentinel || { apt-get update && apt-get install -y redis-sentinel; }
fi

if ! answers "$PRIMARY_PORT"; then
  rm -rf "$BASE/primary"
  mkdir -p "$BASE/primary"
  redis-server --port "$PRIMARY_PORT" --bind "$HOST" --save '' --appendonly no --daemonize yes \
    --dir "$BASE/primary" --logfile "$BASE/primary/redis.log" --pidfile "$BASE/primary/redis.pid"
  wait_for "$PRIMARY_PORT"
fi

if answers "$SENTINEL_PORT"; then
  # A sentinel is already there (ours from an earlier run, or the one the Debian package started):
  # make sure it watches our primary.
  if [ -z "$(redis-cli -h "$HOST" -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$MASTER" 2>/dev/null)" ]; then
    redis-cli -h "$HOST" -p "$SENTINEL_PORT" sentinel monitor "$MASTER" "$HOST" "$PRIMARY_PORT" 1 >/dev/null
    redis-cli -h "$HOST" -p "$SENTINEL_PORT" sentinel set "$MASTER" down-after-milliseconds 5000 >/dev/null
  fi
else
  rm -rf "$BASE/sentinel"
  mkdir -p "$BASE/sentinel"
  # Sentinel rewrites its config file, so it lives in the fresh directory.
  cat >"$BASE/sentinel/sentinel.conf" <<CONF
port $SENTINEL_PORT
bind $HOST
daemonize yes
dir $BASE/sentinel
logfile $BASE/sentinel/sentinel.log
pidfile $BASE/sentinel/sentinel.pid
sentinel monitor $MASTER $HOST $PRIMARY_PORT 1
sentinel down-after-milliseconds $MASTER 5000
sentinel failover-timeout $MASTER 60000
CONF
  redis-sentinel "$BASE/sentinel/sentinel.conf"
  wait_for "$SENTINEL_PORT"
fi

for _ in $(seq 1 100); do
  addr=$(redis-cli -h "$HOST" -p "$SENTINEL_PORT" sentinel get-master-addr-by-name "$MASTER" 2>/dev/null | tr '\n' ' ')
  if [ -n "${addr// /}" ]; then
    echo "redis sentinel ready on ${HOST}:${SENTINEL_PORT}: ${MASTER} -> ${addr}"
    exit 0
  fi
  sleep 0.1
done
echo "sentinel on ${HOST}:${SENTINEL_PORT} does not know master ${MASTER}" >&2
exit 1
