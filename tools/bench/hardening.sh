#!/usr/bin/env bash
# Hardening benchmarks: a class logging in at once, idle sockets, and a
# flooding student's effect on a classmate — load from another process.
#
#   tools/bench/hardening.sh
#
# Builds the release binary and starts `qiming serve` (SQLite, 2 grading
# workers) with 200 students (tools/bench/setup.py), then:
#   1. 200 students sign in at the same moment from one address while
#      /healthz is probed: peak RSS, outcomes, probe p99;
#   2. 2,000 idle sockets held for 15 s while /healthz is probed;
#   3. one student submits 4 programs that burn their CPU budget in every
#      case; a classmate then submits the reference: the classmate's wait.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-target}/release/qiming"
work="$(mktemp -d)"
port=18991
ulimit -n 8192 || true
QIMING_ADMIN_PASSWORD=bench-pw-2718 QIMING_WORKERS=2 RUST_LOG=warn "$bin" serve --data-dir "$work/data" --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
python3 tools/bench/setup.py "http://127.0.0.1:$port" bench-pw-2718 "$work" 200 2 curriculum/labs/wall-stop/reference.rhai
sleep 3
base="http://127.0.0.1:$port"
echo "== 200 concurrent logins (one class and more at once)"
python3 tools/bench/hardening.py logins "$base" "$server" "$work/accounts.txt" 200
echo "== 2,000 idle sockets for 15 s"
python3 tools/bench/hardening.py idle "$base" 2000 15
echo "== a flooding student and a classmate"
head -1 "$work/latency.txt" > "$work/flooder.txt"
sed -n 2p "$work/latency.txt" > "$work/classmate.txt"
cat > "$work/hostile.rhai" <<'RHAI'
// Expensive per operation: sorts a big array in a loop until the CPU budget ends the run.
let a = [];
for i in 0..19000 { a.push(`k${(i * 7919) % 19000}`); }
loop { a.sort(); }
RHAI
python3 tools/bench/hardening.py flood "$base" "$work/flooder.txt" "$work/classmate.txt" "$work/hostile.rhai" curriculum/labs/wall-stop/reference.rhai 4
