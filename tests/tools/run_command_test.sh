#!/usr/bin/env bash
# The README's run command (tools/run), end to end: started on free ports and a data folder of
# its own with the programs of BUILD_DIR, it starts a broker and coop-server, publishes the seed
# into the empty log, prints the seed's views and tails live events (an event published while it
# runs shows up); SIGINT stops it with exit 0 and leaves no server or broker running. A second
# run on the same data publishes nothing and prints the same views.
#
#   tests/tools/run_command_test.sh BUILD_DIR
set -euo pipefail
# Job control: the run command gets its own process group and, unlike a plain background job
# of a script, does not start with SIGINT ignored (as under a terminal).
set -m

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
build="$(cd "$1" && pwd -P)"
cd "$repo"

work="$(mktemp -d "$build/run-command-test.XXXXXX")"
run_pid=""

# shellcheck source=tests/tools/lib.sh
source tests/tools/lib.sh
TEST_NAME=run_command_test
test_logs() { printf '%s\n' "$work"/run*.log "$work/data/server/server.log"; }

export COOP_RUN_PREBUILT="$build"
export COOP_DATA_DIR="$work/data"
# The broker on B and its controller on B+1; the services on B+51..B+53.
base="$(free_base_port 0 1 51 52 53)"
export COOP_KAFKA_PORT="$base"
COOP_PUBLISHER_LISTEN="127.0.0.1:$((base + 51))"
COOP_VIEWS_LISTEN="127.0.0.1:$((base + 52))"
COOP_STREAM_LISTEN="127.0.0.1:$((base + 53))"
export COOP_PUBLISHER_LISTEN COOP_VIEWS_LISTEN COOP_STREAM_LISTEN
export COOP_PUBLISHER_METRICS_LISTEN="" COOP_VIEWS_METRICS_LISTEN="" COOP_STREAM_METRICS_LISTEN=""
kafka=(--port "$COOP_KAFKA_PORT" --data-dir "$COOP_DATA_DIR/kafka")

cleanup() {
  local status=$?
  if [[ -n "$run_pid" ]] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$run_pid" 2>/dev/null || true
  fi
  if [[ -f "$COOP_DATA_DIR/server/server.pid" ]]; then
    kill -KILL "$(cat "$COOP_DATA_DIR/server/server.pid")" 2>/dev/null || true
  fi
  deploy/kafka/stop "${kafka[@]}" --kill >/dev/null 2>&1 || true
  if ((status == 0)); then rm -rf "$work"; else echo "run_command_test: kept $work" >&2; fi
}
trap cleanup EXIT

# start_run LOG: starts tools/run and waits until it tails live events.
start_run() {
  local log="$1"
  tools/run >"$log" 2>&1 &
  run_pid=$!
  for _ in $(seq 1 360); do
    grep -q -- "-- caught up; live from here" "$log" && return 0
    kill -0 "$run_pid" 2>/dev/null || fail "tools/run exited before tailing live events"
    sleep 0.5
  done
  fail "tools/run did not tail live events within 180 s"
}

# stop_run LOG: SIGINT, as Ctrl-C; it must exit 0 within 60 s having stopped everything.
stop_run() {
  local log="$1" code
  kill -INT "$run_pid"
  for _ in $(seq 1 120); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$run_pid" 2>/dev/null && fail "tools/run still runs 60 s after SIGINT"
  code=0
  wait "$run_pid" || code=$?
  run_pid=""
  ((code == 0)) || fail "tools/run exited $code after SIGINT"
  grep -q "coopstream stopped; the data stays in $COOP_DATA_DIR" "$log" ||
    fail "no 'coopstream stopped' line"
  [[ ! -f "$COOP_DATA_DIR/server/server.pid" ]] || fail "the server's pid file is left"
  if pgrep -f -- "--sqlite_dir=$COOP_DATA_DIR/views" >/dev/null; then
    fail "coop-server still runs"
  fi
  if deploy/kafka/status "${kafka[@]}" | grep -q "running"; then
    fail "the broker still runs: $(deploy/kafka/status "${kafka[@]}")"
  fi
}

# expect LOG TEXT...: each TEXT is in LOG.
expect() {
  local log="$1" text
  shift
  for text in "$@"; do
    grep -qF -- "$text" "$log" || fail "$(basename "$log") lacks: $text"
  done
}

seed_views=(
  "== coopctl views agreements" "ru-mos-kz-19-memorandum-2025" "selyatino-hub-2024"
  "almaty-agrohub-2025" "3 agreements"
  "== coopctl views hubs" "ТЛЦ «Селятино»" "14,000,000,000 RUB" "3 hubs"
  "== coopctl views trade" "HS 33 косметика" "×1.8 (reported)" "7 trade rows"
)

# First run: the empty log gets the seed, 27 events from the five publishers.
start_run "$work/run1.log"
expect "$work/run1.log" "the log is empty: publishing the seed data set" \
  "mosreg-government: published 12 events: 12 recorded, 0 duplicates" \
  "Kafka            127.0.0.1:$COOP_KAFKA_PORT" "publisher        $COOP_PUBLISHER_LISTEN" \
  "views            $COOP_VIEWS_LISTEN (SQLite in $COOP_DATA_DIR/views)" \
  "stream           $COOP_STREAM_LISTEN" "${seed_views[@]}"

# The live tail shows an event published while it runs.
event_id="run-test-$(date +%s)-$$"
python3 - "$event_id" >"$work/live.json" <<'PY'
import json, sys
events = json.load(open("deploy/seed/mosreg-government.json"))
event = next(e for e in events if "tradeUpdate" in e or "trade_update" in e)
event["id"] = sys.argv[1]
print(json.dumps(event, ensure_ascii=False))
PY
"$build/tools/coopctl/coopctl" publish --publisher="$COOP_PUBLISHER_LISTEN" \
  --token_file=deploy/demo/keys/mosreg-government.key "$work/live.json" >"$work/publish.log" 2>&1 ||
  fail "publishing a live event: $(cat "$work/publish.log")"
for _ in $(seq 1 60); do
  grep -q "$event_id" "$work/run1.log" && break
  sleep 0.5
done
expect "$work/run1.log" "TradeUpdate regions/KZ:RU-MOS $event_id from publishers/mosreg-government"
stop_run "$work/run1.log"
expect "$work/run1.log" "resume with --start=cursor:" "stopping server" "stopping the broker"

# Second run: the data is reused; nothing is published again.
start_run "$work/run2.log"
expect "$work/run2.log" "the log holds events already: not publishing the seed" "${seed_views[@]}"
if grep -q "published .* events" "$work/run2.log"; then fail "the second run published"; fi
stop_run "$work/run2.log"

echo "run_command_test: PASS"
