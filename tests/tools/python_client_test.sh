#!/usr/bin/env bash
# Integration test of the Python client example (tools/examples/python): prepares its venv and
# stubs (tools/examples/python/setup; PyPI on the first run), starts a publisher and a stream
# service on free loopback ports against a new topic on the broker of COOP_TEST_KAFKA_BOOTSTRAP,
# runs publish_and_subscribe.py against them and checks that the event it published came back on
# its subscription, at the position the publisher acknowledged. Stops the servers (SIGTERM)
# however it ends; on failure prints the end of every log.
#
#   COOP_TEST_KAFKA_BOOTSTRAP=127.0.0.1:9092 \
#     tests/tools/python_client_test.sh COOP_PUBLISHER COOP_STREAM COOPCTL
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

fail() { printf 'python_client_test: FAIL: %s\n' "$*" >&2; exit 1; }

if (($# != 3)); then
  echo "usage: $0 COOP_PUBLISHER COOP_STREAM COOPCTL (paths of the built binaries)" >&2
  exit 2
fi
publisher_bin="$1" stream_bin="$2" coopctl_bin="$3"
for bin in "$publisher_bin" "$stream_bin" "$coopctl_bin"; do
  [[ -x "$bin" ]] || fail "$bin is not an executable (build it first)"
done
bootstrap="${COOP_TEST_KAFKA_BOOTSTRAP:-}"
[[ -n "$bootstrap" ]] || fail "COOP_TEST_KAFKA_BOOTSTRAP is not set: this test needs a real Kafka \
broker. Run the whole suite with tools/test (it starts the brokers), or start one with \
deploy/kafka/start and set COOP_TEST_KAFKA_BOOTSTRAP to the bootstrap=... line it prints."

work="$(mktemp -d "${TMPDIR:-/tmp}/coop-python-client-test.XXXXXX")"
pids=()
finish() {
  local status=$?
  local pid log
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status != 0)); then
    for log in "$work"/*.log; do
      [[ -f "$log" ]] || continue
      printf -- '--- last lines of %s\n' "$(basename "$log")" >&2
      tail -n 30 "$log" >&2
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT
trap 'exit 1' INT TERM

# wait_for_port NAME PID LOG PATTERN: waits until LOG has a line with PATTERN (the server's
# "... serving listen=... port=N" line) and prints N.
wait_for_port() {
  local name="$1" pid="$2" log="$3" pattern="$4" line
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || fail "$name exited before it served"
    line="$(grep -m 1 "$pattern" "$log" || true)"
    if [[ -n "$line" ]]; then
      sed -n 's/.* port=\([0-9][0-9]*\) .*/\1/p' <<<"$line"
      return 0
    fi
    sleep 0.5
  done
  fail "$name did not serve within 60 s"
}

setup_out="$("$repo/tools/examples/python/setup")" || fail "tools/examples/python/setup failed"
python="$(sed -n 's/^python=//p' <<<"$setup_out")"
stubs="$(sed -n 's/^stubs=//p' <<<"$setup_out")"
[[ -x "$python" && -d "$stubs" ]] || fail "setup printed no venv python or stubs folder"

# A topic of its own, as every test here has: nothing else reads or writes it.
run_id="$(date -u +%Y%m%dT%H%M%SZ)-$$-$RANDOM"
topic="python-client-test.$run_id"
topics="$("$coopctl_bin" topics ensure --bootstrap_servers="$bootstrap" --events_topic="$topic" \
  --dead_letter_topic="$topic.dlq" 2>&1)" || fail "coopctl topics ensure failed: $topics"

common=(--listen=127.0.0.1:0 --metrics_listen= --bootstrap_servers="$bootstrap"
        --events_topic="$topic" --policy="$repo/common/auth/policy.example.json"
        --insecure_plaintext --anonymous_principal=local-dev)
"$publisher_bin" "${common[@]}" --instance_id="python-client-test-$run_id" \
  >"$work/publisher.log" 2>&1 &
pids+=("$!")
publisher_pid="$!"
"$stream_bin" "${common[@]}" >"$work/stream.log" 2>&1 &
pids+=("$!")
stream_pid="$!"
publisher_port="$(wait_for_port coop-publisher "$publisher_pid" "$work/publisher.log" \
  'publisher serving')"
stream_port="$(wait_for_port coop-stream "$stream_pid" "$work/stream.log" 'stream serving')"
[[ -n "$publisher_port" && -n "$stream_port" ]] || fail "no port in the servers' serving lines"

event_id="python-client-test-$run_id"
if ! PYTHONPATH="$stubs" "$python" "$repo/tools/examples/python/publish_and_subscribe.py" \
  --publisher="127.0.0.1:$publisher_port" --stream="127.0.0.1:$stream_port" --timeout=30 \
  --event_id="$event_id" >"$work/example.log" 2>&1; then
  fail "publish_and_subscribe.py failed"
fi
cat "$work/example.log"

published="$(grep "^published id=$event_id " "$work/example.log")" ||
  fail "the example printed no acknowledgement of $event_id"
received="$(grep "^received  id=$event_id " "$work/example.log")" ||
  fail "the example printed no delivery of $event_id"
[[ "$published" == *" duplicate=false"* ]] || fail "a new event id was acknowledged as a duplicate"
[[ "$received" == *" source=publishers/local-dev "* ]] ||
  fail "the event was not stamped with the anonymous principal's source"
position() { grep -o 'partition=[0-9]* offset=[0-9]*' <<<"$1"; }
[[ "$(position "$published")" == "$(position "$received")" ]] ||
  fail "the event arrived at $(position "$received"), not where it was acknowledged"
echo "python_client_test: PASS"
