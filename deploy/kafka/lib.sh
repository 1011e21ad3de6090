# shellcheck shell=bash
# Shared helpers for deploy/kafka/{start,stop,status,kafka-tool}. Source, don't run.
#
# Topology (node i = 1..NODES, P = --port):
#   broker listener      PLAINTEXT://127.0.0.1:P+2*(i-1)
#   controller listener  CONTROLLER://127.0.0.1:P+2*(i-1)+1
# Data layout (<data> = --data-dir):
#   <data>/cluster.id           KRaft cluster id, generated once, shared by all nodes
#   <data>/topology.env         NODES/PORT the data dir was created with
#   <data>/node-i/server.properties  generated from server.properties.in on each start
#   <data>/node-i/data/         log.dirs (topic data + __cluster_metadata)
#   <data>/node-i/logs/         server.log, controller.log, gc.log, stdout.log
#   <data>/node-i/kafka.pid

# Variables below are used by the scripts that source this file.
# shellcheck disable=SC2034
KAFKA_HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$KAFKA_HOME_DIR/../.." && pwd -P)"
KAFKA_LIBS="$KAFKA_HOME_DIR/libs"
KAFKA_LOG4J="$KAFKA_HOME_DIR/log4j2.properties"
KAFKA_TOOLS_LOG4J="$KAFKA_HOME_DIR/tools-log4j2.properties"
KAFKA_TEMPLATE="$KAFKA_HOME_DIR/server.properties.in"
PROG="$(basename "$0")"

# Options (filled by parse_common_args + resolve_topology).
# shellcheck disable=SC2034
NODES=""
DATA_DIR=""
PORT=""
NODE=""
HEAP_MB=""
TIMEOUT=""
KILL_NOW=0
NODES_EXPLICIT=0
PORT_EXPLICIT=0
SELECTED_NODES=()

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$1" >&2; exit "${2:-1}"; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

common_options_help() {
  cat <<'HELP'
Common options (flag > environment variable > default):
  --nodes 1|3        single broker or 3-node cluster           [COOP_KAFKA_NODES, 1]
  --data-dir DIR     data folder            [COOP_KAFKA_DATA_DIR, <repo>/.data/kafka
                                              or <repo>/.data/kafka-cluster for 3 nodes]
  --port P           broker port of node 1; node i uses P+2(i-1) (broker) and
                     P+2(i-1)+1 (controller)   [COOP_KAFKA_PORT, 9092, 19092 for 3 nodes]
  --node N           act on node N of the cluster only (default: all nodes)
  -h, --help         show this help
HELP
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# need_value OPT "$@" -- ensure an option has an argument.
need_value() {
  [[ $# -ge 2 && -n "$2" ]] || usage_error "option $1 needs a value"
}

# parse_common_args "$@" -- parse the common options. A script with extra
# options defines `extra_opt`, which is called as `extra_opt "$@"` for any
# other argument and sets EXTRA_SHIFT to the number of arguments it consumed
# (0 = unknown). Both --opt value and --opt=value are accepted.
EXTRA_SHIFT=0
parse_common_args() {
  local opt val
  while [[ $# -gt 0 ]]; do
    opt="$1"
    if [[ "$opt" == --*=* ]]; then
      val="${opt#*=}"; opt="${opt%%=*}"
      shift
      set -- "$opt" "$val" "$@"
    fi
    case "$1" in
      --nodes) need_value "$@"; NODES="$2"; NODES_EXPLICIT=1; shift 2 ;;
      --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
      --port) need_value "$@"; PORT="$2"; PORT_EXPLICIT=1; shift 2 ;;
      --node) need_value "$@"; NODE="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *)
        EXTRA_SHIFT=0
        if declare -F extra_opt >/dev/null; then extra_opt "$@"; fi
        [[ $EXTRA_SHIFT -gt 0 ]] || usage_error "unknown argument: $1"
        shift "$EXTRA_SHIFT"
        ;;
    esac
  done
}

# Apply env fallbacks/defaults, reconcile with <data>/topology.env, validate.
resolve_topology() {
  if [[ -z "$NODES" && -n "${COOP_KAFKA_NODES:-}" ]]; then
    NODES="$COOP_KAFKA_NODES"; NODES_EXPLICIT=1
  fi
  if [[ -z "$PORT" && -n "${COOP_KAFKA_PORT:-}" ]]; then
    PORT="$COOP_KAFKA_PORT"; PORT_EXPLICIT=1
  fi
  [[ -z "$NODES" || "$NODES" == 1 || "$NODES" == 3 ]] ||
    usage_error "--nodes must be 1 or 3 (got '$NODES')"
  if [[ -z "$DATA_DIR" ]]; then
    DATA_DIR="${COOP_KAFKA_DATA_DIR:-}"
  fi
  if [[ -z "$DATA_DIR" ]]; then
    if [[ "${NODES:-1}" == 3 ]]; then
      DATA_DIR="$REPO_ROOT/.data/kafka-cluster"
    else
      DATA_DIR="$REPO_ROOT/.data/kafka"
    fi
  fi
  # Absolute path: it ends up in server.properties and java command lines.
  if [[ "$DATA_DIR" != /* ]]; then
    DATA_DIR="$PWD/$DATA_DIR"
  fi
  DATA_DIR="${DATA_DIR%/}"

  # An existing data dir remembers the topology it was formatted with.
  local topo="$DATA_DIR/topology.env" rec_nodes="" rec_port=""
  if [[ -f "$topo" ]]; then
    rec_nodes="$(sed -n 's/^NODES=//p' "$topo")"
    rec_port="$(sed -n 's/^PORT=//p' "$topo")"
    if [[ -n "$rec_nodes" ]]; then
      if [[ $NODES_EXPLICIT -eq 1 && "$NODES" != "$rec_nodes" ]]; then
        die "$DATA_DIR holds a $rec_nodes-node setup but --nodes $NODES was requested (use another --data-dir, or wipe it: rm -rf '$DATA_DIR')" 2
      fi
      NODES="$rec_nodes"
    fi
    if [[ -n "$rec_port" ]]; then
      if [[ $PORT_EXPLICIT -eq 1 && "$PORT" != "$rec_port" ]]; then
        die "$DATA_DIR was set up with --port $rec_port but --port $PORT was requested (the static controller quorum is tied to the ports; use --port $rec_port or wipe: rm -rf '$DATA_DIR')" 2
      fi
      PORT="$rec_port"
    fi
  fi
  NODES="${NODES:-1}"
  if [[ -z "$PORT" ]]; then
    if [[ "$NODES" == 3 ]]; then PORT=19092; else PORT=9092; fi
  fi
  if ! is_uint "$PORT" || ((PORT < 1024 || PORT + 2 * NODES - 1 > 65535)); then
    usage_error "--port must be a number in 1024..$((65535 - 2 * NODES + 1)) (got '$PORT')"
  fi

  SELECTED_NODES=()
  if [[ -n "$NODE" ]]; then
    if ! is_uint "$NODE" || ((NODE < 1 || NODE > NODES)); then
      usage_error "--node must be between 1 and $NODES (got '$NODE')"
    fi
    SELECTED_NODES=("$NODE")
  else
    local i
    for ((i = 1; i <= NODES; i++)); do SELECTED_NODES+=("$i"); done
  fi
}

write_topology() {
  printf 'NODES=%s\nPORT=%s\n' "$NODES" "$PORT" >"$DATA_DIR/topology.env"
}

broker_port() { echo $((PORT + 2 * ($1 - 1))); }
controller_port() { echo $((PORT + 2 * ($1 - 1) + 1)); }
node_dir() { echo "$DATA_DIR/node-$1"; }
node_props() { echo "$DATA_DIR/node-$1/server.properties"; }
node_pidfile() { echo "$DATA_DIR/node-$1/kafka.pid"; }

bootstrap_list() {
  local i out=""
  for ((i = 1; i <= NODES; i++)); do
    out+="${out:+,}127.0.0.1:$(broker_port "$i")"
  done
  echo "$out"
}

voters_list() {
  local i out=""
  for ((i = 1; i <= NODES; i++)); do
    out+="${out:+,}$i@127.0.0.1:$(controller_port "$i")"
  done
  echo "$out"
}

# is_node_process PID NODE -> true if PID is a live kafka.Kafka JVM for that node.
is_node_process() {
  local pid="$1" props cmd
  props="$(node_props "$2")"
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *" kafka.Kafka $props"* ]]
}

# node_pid NODE -> prints the pid of the running broker of that node, or fails.
# Uses the pid file; falls back to scanning /proc for a JVM started on this
# node's server.properties (pid file lost), and cleans up stale pid files.
node_pid() {
  local node="$1" pidfile pid props p
  pidfile="$(node_pidfile "$node")"
  if [[ -f "$pidfile" ]]; then
    pid="$(tr -dc '0-9' <"$pidfile")"
    if [[ -n "$pid" ]] && is_node_process "$pid" "$node"; then
      echo "$pid"; return 0
    fi
    rm -f "$pidfile"
  fi
  props="$(node_props "$node")"
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    if is_node_process "$pid" "$node"; then
      echo "$pid" >"$pidfile" 2>/dev/null || true
      echo "$pid"; return 0
    fi
  done
  return 1
}

# port_owner PORT -> prints a description of the listener on 127.0.0.1/any:PORT
# ("" if the port is free). Uses ss when available, else a connect probe.
port_owner() {
  local port="$1" line procs
  if command -v ss >/dev/null 2>&1; then
    line="$(ss -ltnpH "sport = :$port" 2>/dev/null | head -n1)" || true
    [[ -n "$line" ]] || return 0
    procs="$(grep -o 'users:(.*)' <<<"$line" || true)"
    if [[ -n "$procs" ]]; then
      # users:(("python3",pid=123,fd=3)) -> python3 (pid 123)
      procs="$(sed -E 's/users:\(\("([^"]*)",pid=([0-9]+).*/\1 (pid \2)/' <<<"$procs")"
      echo "$procs"
    else
      echo "another process (ss cannot show which; try: sudo ss -ltnp 'sport = :$port')"
    fi
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "another process"
  fi
}

require_java() {
  command -v java >/dev/null 2>&1 ||
    die "java not found on PATH; install with: apt-get install -y maven openjdk-17-jre-headless"
}

require_kcat() {
  command -v kcat >/dev/null 2>&1 ||
    die "kcat not found on PATH (used to check the broker answers metadata); install with: apt-get install -y kcat"
}

# metadata_brokers PORT [TIMEOUT_S] -> prints the broker ids listed in a
# metadata response from 127.0.0.1:PORT, one per line; fails if no answer.
metadata_brokers() {
  local out
  out="$(kcat -b "127.0.0.1:$1" -L -m "${2:-3}" 2>/dev/null)" || return 1
  sed -nE 's/^ *broker ([0-9]+) at .*/\1/p' <<<"$out"
}

# node_answers NODE [IDS...] -> true if NODE's broker port answers metadata
# (within 2 s) listing NODE itself plus all given broker ids.
node_answers() {
  local node="$1"; shift
  local ids id
  ids="$(metadata_brokers "$(broker_port "$node")" 2)" || return 1
  for id in "$node" "$@"; do
    grep -qx "$id" <<<"$ids" || return 1
  done
}

# Lock the data dir so concurrent start/stop runs don't interleave.
lock_data_dir() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  if ! flock -n 9; then
    log "waiting for another start/stop on $DATA_DIR..."
    flock -w 300 9 || die "timed out waiting for the lock on $DATA_DIR/.lock"
  fi
}

# run_tool CLASS ARGS... -- run a short-lived Kafka CLI class (StorageTool)
# with a small, fast-starting JVM and the quiet tools logging.
run_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# log_size NODE -> current size in bytes of the node's server.log (0 if none).
log_size() {
  local f
  f="$(node_dir "$1")/logs/server.log"
  if [[ -f "$f" ]]; then stat -c %s "$f"; else echo 0; fi
}

# tail_logs NODE [SERVER_LOG_OFFSET] -- show what a node logged since OFFSET
# (bytes into server.log, from log_size before launch): its stdout/stderr,
# ERROR/FATAL lines, and the last lines of server.log. For failed starts.
tail_logs() {
  local dir offset="${2:-0}" recent errors
  dir="$(node_dir "$1")/logs"
  if [[ -s "$dir/stdout.log" ]]; then
    printf -- '----- node-%s %s (last 20 lines) -----\n' "$1" "$dir/stdout.log" >&2
    tail -n 20 "$dir/stdout.log" >&2
  fi
  recent=""
  [[ -s "$dir/server.log" ]] && recent="$(tail -c +"$((offset + 1))" "$dir/server.log")"
  if [[ -n "$recent" ]]; then
    errors="$(grep -E '^\[[^]]*\] (ERROR|FATAL)' <<<"$recent" | tail -n 10 || true)"
    if [[ -n "$errors" ]]; then
      printf -- '----- node-%s errors in %s -----\n' "$1" "$dir/server.log" >&2
      printf '%s\n' "$errors" >&2
    fi
    printf -- '----- node-%s %s (last 20 lines) -----\n' "$1" "$dir/server.log" >&2
    tail -n 20 <<<"$recent" >&2
  fi
}
