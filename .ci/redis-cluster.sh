#!/usr/bin/env bash
# Starts a three-master Redis Cluster on 127.0.0.1:7000-7002 for the redis provider's tests.
# Idempotent: when 7000 already answers PING and the cluster is healthy, it changes nothing.
# Needs redis-server and redis-cli (Debian: apt-get install -y redis-server).
set -euo pipefail

HOST=127.0.0.1
PORTS=(7000 7001 7002)
BASE=/tmp/sessionkit-ci/cluster

cluster_ok() {
  redis-cli -h "$HOST" -p "${PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

wait_ok() {
  for _ in $(seq 1 100); do
    if cluster_ok; then
      echo "redis cluster ready on ${HOST}:${PORTS[0]}-${PORTS[-1]}"
      return 0
    fi
    sleep 0.2
  done
  echo "redis cluster did not reach cluster_state:ok" >&2
  redis-cli -h "$HOST" -p "${PORTS[0]}" cluster info >&2 || true
  return 1
}

create_cluster() {
  local nodes=()
  for port in "${PORTS[@]}"; do nodes+=("$HOST:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
}

if redis-cli -h "$HOST" -p "${PORTS[0]}" ping 2>/dev/null | grep -q PONG; then
  # Servers from an interrupted earlier run: nodes up, no slots assigned yet.
  if redis-cli -h "$HOST" -p "${PORTS[0]}" cluster info 2>/dev/null | grep -q '^cluster_slots_assigned:0'; then
    create_cluster
  fi
  wait_ok
  exit $?
fi

for port in "${PORTS[@]}"; do
  if redis-cli -h "$HOST" -p "$port" ping 2>/dev/null | grep -q PONG; then
    echo "127.0.0.1:${port} answers but 127.0.0.1:${PORTS[0]} does not; stop it first" >&2
    exit 1
  fi
  dir="$BASE/$port"
  rm -rf "$dir"
  mkdir -p "$dir"
  redis-server --port "$port" --bind "$HOST" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --save '' --appendonly no --daemonize yes \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
done

for port in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do
    redis-cli -h "$HOST" -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
done

create_cluster
wait_ok
