#!/usr/bin/env bash
# A RabbitMQ cluster of local nodes, of the installed rabbitmq-server (docs/operations.md,
# "On a RabbitMQ cluster"). Each node has its own name, ports, config file and directories:
#
#   node N: particulier-N@localhost, AMQP on 127.0.0.1:$((PORT + N)),
#           Erlang distribution on $((PORT + N + 20000)), files under $DIR/node-N
#
#   cluster.sh start            start the nodes and join them into one cluster
#   cluster.sh stop             stop every node (their data is kept)
#   cluster.sh clean            stop every node and delete their files
#   cluster.sh status           the cluster as node 1 sees it
#   cluster.sh urls [USER:PASS] [VHOST]   the nodes' AMQP URLs, comma separated
#   cluster.sh start-node N     start node N (it rejoins the cluster)
#   cluster.sh stop-node N      stop node N cleanly
#   cluster.sh kill N           kill -9 node N's Erlang VM
#   cluster.sh node N           node N's name
#
# Settings: PARTICULIER_CLUSTER_NODES (3), PARTICULIER_CLUSTER_PORT (5680),
# PARTICULIER_CLUSTER_DIR (/tmp/particulier-cluster), PARTICULIER_CLUSTER_NAME (particulier).
#
# The installed /etc/rabbitmq/rabbitmq.conf may pin a listener (listeners.tcp.local), which
# wins over RABBITMQ_NODE_PORT, so each node reads a config file of its own. The server runs
# as the rabbitmq user: the nodes' directories belong to it, and they share its Erlang cookie.
set -euo pipefail

NODES=${PARTICULIER_CLUSTER_NODES:-3}
PORT=${PARTICULIER_CLUSTER_PORT:-5680}
DIR=${PARTICULIER_CLUSTER_DIR:-/tmp/particulier-cluster}
NAME=${PARTICULIER_CLUSTER_NAME:-particulier}
SERVER=${RABBITMQ_SERVER:-/usr/lib/rabbitmq/bin/rabbitmq-server}

node() { echo "$NAME-$1@localhost"; }
ctl() { local n=$1; shift; rabbitmqctl -q -n "$(node "$n")" "$@"; }

as_rabbitmq() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u rabbitmq -- "$@"
  else
    "$@"
  fi
}

start_node() {
  local n=$1 home="$DIR/node-$1"
  mkdir -p "$home/data" "$home/log"
  cat > "$home/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$((PORT + n))
loopback_users = none
vm_memory_high_watermark.relative = 0.4
EOF
  echo "[]." > "$home/enabled_plugins"
  if [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$home"; fi
  if ctl "$n" ping >/dev/null 2>&1; then return 0; fi
  rm -f "$home/pid"  # a killed node's, which `rabbitmqctl wait` would read
  as_rabbitmq env \
    RABBITMQ_NODENAME="$(node "$n")" \
    RABBITMQ_NODE_PORT=$((PORT + n)) \
    RABBITMQ_DIST_PORT=$((PORT + n + 20000)) \
    RABBITMQ_CONFIG_FILE="$home/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$home/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$home/data" \
    RABBITMQ_LOG_BASE="$home/log" \
    RABBITMQ_PID_FILE="$home/pid" \
    "$SERVER" -detached
  ctl "$n" wait --timeout 120 "$home/pid" >/dev/null
}

joined() { ctl 1 cluster_status --formatter json 2>/dev/null | grep -q "\"$(node "$1")\""; }

join_node() {
  local n=$1
  if joined "$n"; then return 0; fi
  ctl "$n" stop_app
  ctl "$n" join_cluster "$(node 1)"
  ctl "$n" start_app
}

stop_node() {
  local n=$1
  ctl "$n" stop >/dev/null 2>&1 || true
}

gone() {  # the process has exited: no such process, or a zombie nobody has reaped yet
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

kill_node() {
  local pid tries=0
  pid=$(cat "$DIR/node-$1/pid")
  kill -9 "$pid"
  until gone "$pid"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ]; then echo "node $1 (pid $pid) still running" >&2; exit 1; fi
    sleep 0.1
  done
}

case "${1:-}" in
  start)
    for n in $(seq 1 "$NODES"); do start_node "$n"; done
    for n in $(seq 2 "$NODES"); do join_node "$n"; done
    ;;
  stop)
    for n in $(seq "$NODES" -1 1); do stop_node "$n"; done
    ;;
  clean)
    for n in $(seq "$NODES" -1 1); do stop_node "$n"; done
    rm -rf "$DIR"
    ;;
  status) ctl 1 cluster_status ;;
  urls)
    credentials=${2:-guest:guest}
    vhost=${3:-}
    urls=()
    for n in $(seq 1 "$NODES"); do urls+=("amqp://$credentials@127.0.0.1:$((PORT + n))/$vhost"); done
    (IFS=,; echo "${urls[*]}")
    ;;
  start-node) start_node "$2" ;;
  stop-node) stop_node "$2" ;;
  kill) kill_node "$2" ;;
  node) node "$2" ;;
  *)
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
