#!/usr/bin/env bash
# Server benchmarks: submissions accepted per second, status reads per
# second, and submit-to-result latency under load — with the load coming from
# other processes (wrk, and a Python client for the latency probe).
#
#   tools/bench/server.sh sqlite|postgres [SECONDS]
#
# Builds the release binary, starts `qiming serve` on a fresh database (SQLite
# in a temporary folder, or a fresh PostgreSQL database `qiming_bench` at
# 127.0.0.1:5432), sets up a school of 100 students through the API, then:
#   1. status reads: wrk GET /api/submissions/{id} for SECONDS (default 15);
#   2. latency: 10 submissions/s for 20 s, each timed from the POST until its
#      SSE stream says done, while wrk keeps reading statuses;
#   3. accepted submissions: wrk POSTs programs for SECONDS (grading workers
#      run meanwhile, as they would in a real event).
# Installs wrk (Debian) if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${1:-sqlite}"
secs="${2:-15}"
command -v wrk >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo; $SUDO apt-get install -y -q wrk >/dev/null; }
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-target}/release/qiming"
work="$(mktemp -d)"
port=18990
args=(--data-dir "$work/data" --addr "127.0.0.1:$port")
if [ "$backend" = postgres ]; then
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS qiming_bench WITH (FORCE)" -c "CREATE DATABASE qiming_bench"
  args+=(--database-url postgres://postgres@127.0.0.1:5432/qiming_bench)
fi
QIMING_ADMIN_PASSWORD=bench-pw-2718 RUST_LOG=warn "$bin" serve "${args[@]}" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
reference=curriculum/labs/wall-stop/reference.rhai
python3 tools/bench/setup.py "http://127.0.0.1:$port" bench-pw-2718 "$work" 100 11 "$reference"
sleep 3 # let the setup's submissions be graded

echo "== $backend: status reads (GET /api/submissions/{id}), ${secs}s, 2 threads, 32 connections"
wrk -t2 -c32 -d"${secs}s" --latency -s tools/bench/status.lua "http://127.0.0.1:$port" -- "$work/read.txt" | tee "$work/reads.out" | grep -E "Requests/sec|50%|99%|Non-2xx"

echo "== $backend: submit-to-result latency at 10 submissions/s, under the status-read load"
wrk -t1 -c16 -d30s -s tools/bench/status.lua "http://127.0.0.1:$port" -- "$work/read.txt" > "$work/bg.out" &
bg=$!
python3 tools/bench/latency.py "http://127.0.0.1:$port" "$work/latency.txt" "$reference" 10 200
wait $bg || true
grep "Requests/sec" "$work/bg.out" | sed 's/^/  background reads: /'

echo "== $backend: submissions accepted (POST, 202), ${secs}s, 2 threads, 32 connections, graders running"
wrk -t2 -c32 -d"${secs}s" --latency -s tools/bench/submit.lua "http://127.0.0.1:$port" -- "$work/submit.txt" "$reference" | tee "$work/submit.out" | grep -E "Requests/sec|50%|99%|Non-2xx|requests in"
