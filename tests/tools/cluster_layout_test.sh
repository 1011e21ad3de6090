#!/usr/bin/env bash
# The cluster layout (deploy/cluster/start and stop) end to end on the test servers: the 3-node
# Kafka cluster (COOP_TEST_KAFKA_CLUSTER_BOOTSTRAP) and PostgreSQL (COOP_TEST_POSTGRES_URL, a
# database of its own), with a topic of its own. Two publishers, two stream gateways and two
# views instances sharing PostgreSQL: each is healthy; the seed published through both
# publishers is recorded once (a file sent again through the other publisher is all
# duplicates); both views instances answer with all of it; a stream gateway delivers all of it;
# stop ends every instance and leaves the servers it did not start running.
#
#   tests/tools/cluster_layout_test.sh BUILD_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
build="$(cd "$1" && pwd -P)"
cd "$repo"
for variable in COOP_TEST_KAFKA_CLUSTER_BOOTSTRAP COOP_TEST_POSTGRES_URL; do
  if [[ -z "${!variable:-}" ]]; then
    echo "cluster_layout_test: FAIL: $variable is not set; run the suite with tools/test" >&2
    exit 1
  fi
done

work="$(mktemp -d "$build/cluster-layout-test.XXXXXX")"
suffix="$(date +%s)_$$"
database="coop_cluster_layout_$suffix"
coopctl="$build/tools/coopctl/coopctl"

# shellcheck source=tests/tools/lib.sh
source tests/tools/lib.sh
TEST_NAME=cluster_layout_test
test_logs() { printf '%s\n' "$work"/*.log "$work"/cluster/*.log; }

export COOP_RUN_PREBUILT="$build"
export COOP_CLUSTER_DIR="$work/cluster"
export COOP_CLUSTER_BOOTSTRAP="$COOP_TEST_KAFKA_CLUSTER_BOOTSTRAP"
# deploy/cluster/start's ports: instances on B+1..B+29, their metrics on B+101..B+129.
COOP_CLUSTER_BASE_PORT="$(free_base_port {1..29} {101..129})"
export COOP_CLUSTER_BASE_PORT
export COOP_CLUSTER_EVENTS_TOPIC="cluster-layout-test.$suffix"
psql -q "$COOP_TEST_POSTGRES_URL" -c "CREATE DATABASE $database" >/dev/null ||
  fail "cannot create database $database"
export COOP_CLUSTER_POSTGRES_URL="${COOP_TEST_POSTGRES_URL%/*}/$database"
base="$COOP_CLUSTER_BASE_PORT"

cleanup() {
  local status=$?
  deploy/cluster/stop >/dev/null 2>&1 || true
  psql -q "$COOP_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
    >/dev/null 2>&1 || true
  if ((status == 0)); then rm -rf "$work"; else echo "cluster_layout_test: kept $work" >&2; fi
}
trap cleanup EXIT

deploy/cluster/start >"$work/start.log" 2>&1 || fail "deploy/cluster/start failed"
grep -q "coopstream cluster layout is running" "$work/start.log" || fail "start printed no summary"

for i in 1 2; do
  "$coopctl" health --bootstrap_servers="$COOP_CLUSTER_BOOTSTRAP" \
    --events_topic="$COOP_CLUSTER_EVENTS_TOPIC" --publisher="127.0.0.1:$((base + i))" \
    --stream="127.0.0.1:$((base + 10 + i))" --views="127.0.0.1:$((base + 20 + i))" \
    >"$work/health-$i.log" 2>&1 || fail "instances $i are not healthy: $(cat "$work/health-$i.log")"
done

# The seed, file by file through alternate publishers; the cursors of every file.
cursors=()
i=0
for file in deploy/seed/*.json; do
  i=$((i + 1))
  publisher="127.0.0.1:$((base + 1 + i % 2))"
  key="deploy/demo/keys/$(basename "$file" .json).key"
  "$coopctl" publish --publisher="$publisher" --token_file="$key" "$file" >"$work/publish.log" 2>&1 ||
    fail "publishing $file through $publisher: $(cat "$work/publish.log")"
  cursors+=("$(sed -n 's/^min_position: //p' "$work/publish.log")")
done
# The same file through the other publisher: recorded already, by the first.
"$coopctl" publish --publisher="127.0.0.1:$((base + 1))" \
  --token_file=deploy/demo/keys/mosreg-government.key deploy/seed/mosreg-government.json \
  >"$work/again.log" 2>&1 || fail "publishing again: $(cat "$work/again.log")"
grep -q "published 12 events: 0 recorded, 12 duplicates" "$work/again.log" ||
  fail "the other publisher did not see the events as duplicates: $(cat "$work/again.log")"

for i in 1 2; do
  views="127.0.0.1:$((base + 20 + i))"
  for cursor in "${cursors[@]}"; do
    "$coopctl" views timeline --views="$views" --limit=1 --min_position="$cursor" \
      >/dev/null 2>"$work/wait.log" || fail "views-$i did not reach the seed: $(cat "$work/wait.log")"
  done
  "$coopctl" views agreements --views="$views" >"$work/agreements-$i.log" 2>&1 ||
    fail "views-$i agreements"
  grep -q "^3 agreements" "$work/agreements-$i.log" || fail "views-$i: $(cat "$work/agreements-$i.log")"
  "$coopctl" views timeline --views="$views" >"$work/timeline-$i.log" 2>&1 ||
    fail "views-$i timeline"
  grep -q "^27 events" "$work/timeline-$i.log" || fail "views-$i: $(tail -n 3 "$work/timeline-$i.log")"
done

"$coopctl" subscribe --stream="127.0.0.1:$((base + 12))" --start=earliest --count=27 --json \
  >"$work/subscribe.log" 2>"$work/subscribe.err" || fail "stream-2: $(cat "$work/subscribe.err")"
[[ "$(grep -c '"event":' "$work/subscribe.log")" -eq 27 ]] ||
  fail "stream-2 delivered $(grep -c '"event":' "$work/subscribe.log") of 27 events"

deploy/cluster/stop >"$work/stop.log" 2>&1 || fail "deploy/cluster/stop failed"
[[ "$(grep -c '^stopping ' "$work/stop.log")" -eq 6 ]] || fail "stop: $(cat "$work/stop.log")"
if pgrep -f -- "--events_topic=$COOP_CLUSTER_EVENTS_TOPIC" >/dev/null; then
  fail "an instance still runs"
fi
# Servers it did not start stay up.
grep -q "stopped the Kafka cluster\|stopped PostgreSQL" "$work/stop.log" &&
  fail "stop stopped servers it did not start"
psql -q "$COOP_TEST_POSTGRES_URL" -c "SELECT 1" >/dev/null || fail "PostgreSQL is down"

echo "cluster_layout_test: PASS"
