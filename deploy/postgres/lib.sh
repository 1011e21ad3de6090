# shellcheck shell=bash
# Shared helpers for deploy/postgres/{start,stop,status}. Source, don't run.
#
# Data layout (<data> = --data-dir):
#   <data>/pgdata/          the cluster (initdb), owned by the user the server runs as
#   <data>/pgdata/coop.conf port, listen address, socket dir, durability (rewritten each start)
#   <data>/run/             the server's unix socket
#   <data>/postgres.log     server log
#   <data>/.lock            serialises start/stop on this data folder

# Variables below are used by the scripts that source this file.
# shellcheck disable=SC2034
PG_HOME_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$PG_HOME_DIR/../.." && pwd -P)"
PROG="deploy/postgres/$(basename "$0")"
PG_SUPERUSER=postgres
PG_DATABASE=coop

# Options (filled by parse_args + resolve_options).
DATA_DIR=""
PORT=""
PORT_EXPLICIT=0
TIMEOUT=""

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$1" >&2; exit "${2:-1}"; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

common_options_help() {
  cat <<'HELP'
Options (flag > environment variable > default):
  --port P          TCP port on 127.0.0.1                   [COOP_POSTGRES_PORT, 55432]
  --data-dir DIR    data folder             [COOP_POSTGRES_DATA_DIR, <repo>/.data/postgres]
  -h, --help        show this help
HELP
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

need_value() {
  [[ $# -ge 2 && -n "$2" ]] || usage_error "option $1 needs a value"
}

# parse_args "$@" -- --data-dir, --help, --port unless ACCEPT_PORT=0, and --timeout when
# ACCEPT_TIMEOUT=1. Both --opt value and --opt=value are accepted.
ACCEPT_PORT=1
ACCEPT_TIMEOUT=0
parse_args() {
  local opt val
  while [[ $# -gt 0 ]]; do
    opt="$1"
    if [[ "$opt" == --*=* ]]; then
      val="${opt#*=}"; opt="${opt%%=*}"
      shift
      set -- "$opt" "$val" "$@"
    fi
    case "$1" in
      --port)
        [[ $ACCEPT_PORT -eq 1 ]] || usage_error "unknown argument: $1"
        need_value "$@"; PORT="$2"; PORT_EXPLICIT=1; shift 2 ;;
      --data-dir) need_value "$@"; DATA_DIR="$2"; shift 2 ;;
      --timeout)
        [[ $ACCEPT_TIMEOUT -eq 1 ]] || usage_error "unknown argument: $1"
        need_value "$@"; TIMEOUT="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "unknown argument: $1" ;;
    esac
  done
}

# Applies environment fallbacks and defaults, and validates.
resolve_options() {
  if [[ -z "$PORT" && -n "${COOP_POSTGRES_PORT:-}" ]]; then
    PORT="$COOP_POSTGRES_PORT"; PORT_EXPLICIT=1
  fi
  PORT="${PORT:-55432}"
  if ! is_uint "$PORT" || ((PORT < 1024 || PORT > 65535)); then
    usage_error "--port must be a number in 1024..65535 (got '$PORT')"
  fi
  DATA_DIR="${DATA_DIR:-${COOP_POSTGRES_DATA_DIR:-$REPO_ROOT/.data/postgres}}"
  # Absolute: it ends up in the server's configuration.
  [[ "$DATA_DIR" == /* ]] || DATA_DIR="$PWD/$DATA_DIR"
  DATA_DIR="${DATA_DIR%/}"
  PGDATA_DIR="$DATA_DIR/pgdata"
  SOCKET_DIR="$DATA_DIR/run"
  LOG_FILE="$DATA_DIR/postgres.log"
}

# PostgreSQL refuses to run as root: root runs the server as the `postgres` system user.
if [[ $(id -u) -eq 0 ]]; then
  RUN_AS=postgres
else
  RUN_AS="$(id -un)"
fi

# as_server_user CMD... -- runs CMD as the user that owns the cluster, from / (the caller's
# working directory may be closed to that user).
as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u "$RUN_AS" -- "$@")
  else
    (cd / && "$@")
  fi
}

# Finds PostgreSQL 15's server programs: /usr/lib/postgresql/15/bin, else `pg_config --bindir`.
find_binaries() {
  local dir candidates=() tool
  candidates+=(/usr/lib/postgresql/15/bin)
  if command -v pg_config >/dev/null 2>&1; then
    dir="$(pg_config --bindir 2>/dev/null || true)"
    [[ -n "$dir" ]] && candidates+=("$dir")
  fi
  PG_BIN=""
  for dir in "${candidates[@]}"; do
    if [[ -x "$dir/postgres" && -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then
      PG_BIN="$dir"
      break
    fi
  done
  [[ -n "$PG_BIN" ]] ||
    die "PostgreSQL server programs (initdb, pg_ctl, postgres) not found in ${candidates[*]}; install with: apt-get install -y postgresql-15"
  for tool in pg_isready psql createdb; do
    [[ -x "$PG_BIN/$tool" ]] ||
      die "$PG_BIN/$tool is missing; install with: apt-get install -y postgresql-client-15"
  done
  if [[ $(id -u) -eq 0 ]] && ! id -u "$RUN_AS" >/dev/null 2>&1; then
    die "running as root needs the '$RUN_AS' system user to own the server (PostgreSQL refuses root); install postgresql-15, which creates it, or run as an ordinary user"
  fi
}

# server_pid -> prints the pid of the server running on this data folder, or fails.
server_pid() {
  local pid
  [[ -r "$PGDATA_DIR/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$PGDATA_DIR/postmaster.pid" | tr -dc '0-9')"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  # A stale pid file may name a pid that another program now has.
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == *postgres* ]] || return 1
  echo "$pid"
}

# server_port -> prints the port the running server listens on (from postmaster.pid).
server_port() {
  sed -n '4p' "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -dc '0-9'
}

# answers PORT -> true when the server on 127.0.0.1:PORT accepts connections.
answers() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U "$PG_SUPERUSER" -d postgres -t 2
}

# port_owner PORT -> prints who listens on PORT ("" if the port is free).
port_owner() {
  local port="$1" line procs
  if command -v ss >/dev/null 2>&1; then
    line="$(ss -ltnpH "sport = :$port" 2>/dev/null | head -n1)" || true
    [[ -n "$line" ]] || return 0
    procs="$(grep -o 'users:(.*)' <<<"$line" || true)"
    if [[ -n "$procs" ]]; then
      sed -E 's/users:\(\("([^"]*)",pid=([0-9]+).*/\1 (pid \2)/' <<<"$procs"
    else
      echo "another process (ss cannot show which; try: sudo ss -ltnp 'sport = :$port')"
    fi
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "another process"
  fi
}

# Locks the data folder so concurrent start/stop runs don't interleave. The lock is fd 9; the
# server must not inherit it (start closes it for pg_ctl).
lock_data_dir() {
  command -v flock >/dev/null 2>&1 || return 0
  mkdir -p "$DATA_DIR"
  exec 9>"$DATA_DIR/.lock"
  if ! flock -n 9; then
    log "waiting for another start/stop on $DATA_DIR..."
    flock -w 300 9 || die "timed out waiting for the lock on $DATA_DIR/.lock"
  fi
}

url() { echo "postgresql://$PG_SUPERUSER@127.0.0.1:$1/$PG_DATABASE"; }
