# shellcheck shell=bash
# What the end-to-end test scripts of tests/tools share. Source it, then set TEST_NAME and
# define test_logs, which prints the paths of the logs worth showing on a failure.

# fail MESSAGE...: prints "TEST_NAME: FAIL: MESSAGE", the last lines of each log test_logs
# names, and exits 1.
fail() {
  echo "$TEST_NAME: FAIL: $*" >&2
  local log
  while IFS= read -r log; do
    [[ -f "$log" ]] || continue
    echo "--- $log (last 40 lines)" >&2
    tail -n 40 "$log" >&2
  done < <(test_logs)
  exit 1
}

# free_base_port OFFSET...: a loopback port B (a multiple of 100 in 30000..59900) such that B +
# each OFFSET is free right now.
free_base_port() {
  python3 - "$@" <<'PY'
import random, socket, sys
offsets = [int(offset) for offset in sys.argv[1:]]
def free(port):
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        probe.close()
while True:
    base = random.randrange(30000, 60000, 100)
    if all(free(base + offset) for offset in offsets):
        print(base)
        break
PY
}
