#!/usr/bin/env bash
# Renders the studio's main screens in both languages to docs/studio/*.png,
# with the real app (`qiming-studio --screenshot`) under Xvfb and Mesa's
# software OpenGL — the same way CI checks that the studio runs.
#
#   tools/studio/screenshots.sh            # release build, writes docs/studio/
#   OUT=/tmp/shots tools/studio/screenshots.sh
#
# Needs: xvfb (xvfb-run), Mesa (libgl1-mesa-dri). `.ci/run` installs both.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-docs/studio}"
PROFILE="${PROFILE:-release}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
export LIBGL_ALWAYS_SOFTWARE=1
cargo build --locked --profile "$PROFILE" -p qiming-studio -p qiming
dir="$CARGO_TARGET_DIR/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")"
studio="$dir/qiming-studio"
mkdir -p "$OUT"
data="$(mktemp -d)"
# A replay to open: the wall-stop reference on its first practice arena.
"$dir/qiming" run curriculum/labs/wall-stop/reference.rhai \
  --scenario curriculum/labs/wall-stop/scenarios/wall-stop.toml --replay "$data/wall-stop.qreplay" >/dev/null 2>&1 || true

# A server with a demo classroom for the connected-mode screenshot.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
QIMING_ADMIN_PASSWORD=lantern-shots-7391 "$dir/qiming" serve --addr "127.0.0.1:$port" --data-dir "$data/server" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY
python3 tools/studio/classroom.py "http://127.0.0.1:$port" lantern-shots-7391 "$data/zh-CN" "$data/en" >/dev/null

# A dataset for the AI screen: the perceptron lab's training aisle, recorded as a student would.
for seed in 1 2; do
  "$dir/qiming" ai record curriculum/labs/ai-perceptron/record.rhai \
    --scenario curriculum/labs/ai-perceptron/scenarios/train-a.toml --seed "$seed" --out "$data/lanes" >/dev/null
done

# And camera images of signs in the signs lab's gallery.
"$dir/qiming" ai record curriculum/labs/ai-signs/record-better.rhai \
  --scenario curriculum/labs/ai-signs/scenarios/gallery.toml --seed 1 --out "$data/signs" >/dev/null

shot() { # name lang args...
  local name="$1" lang="$2"; shift 2
  xvfb-run -a -s "-screen 0 1366x768x24" \
    "$studio" --lang "$lang" --data-dir "$data/$lang" --screenshot "$OUT/$name-$lang.png" "$@"
}
for lang in zh-CN en; do
  shot lesson "$lang" --screen lessons --lab wall-stop
  shot editor-run "$lang" --lab wall-stop --program curriculum/labs/wall-stop/reference.rhai --run-for 3
  shot check "$lang" --lab wall-stop --program curriculum/labs/wall-stop/reference.rhai --screen check
  shot error "$lang" --lab wall-stop --program tests/studio/syntax-error.rhai
  [ -f "$data/wall-stop.qreplay" ] && shot replay "$lang" --replay "$data/wall-stop.qreplay" --run-for 2
  shot world-editor "$lang" --screen world --world sim/scenarios/line-loop.toml
  shot connected "$lang" --screen connected
  shot ai-data "$lang" --lab ai-signs --screen ai --dataset "$data/signs"
  shot ai-steps "$lang" --lab ai-perceptron --screen ai --ai-tab steps --dataset "$data/lanes" --ai-steps 60
  shot ai-train "$lang" --lab ai-perceptron --screen ai --ai-tab train --dataset "$data/lanes" --ai-train perceptron
  shot ai-qtable "$lang" --lab ai-qlearning --screen ai --program curriculum/labs/ai-qlearning/reference.rhai
done
ls -la "$OUT"
