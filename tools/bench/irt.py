#!/usr/bin/env python3
"""Times `qiming assess calibrate --model 2pl --json` against girth's `twopl_mml` on the same
simulated data (100,000 students × 60 items, 2PL, known truth), and the CAT's item selection.

    python3 tools/bench/irt.py                      # builds the release binary under the cargo lock
    python3 tools/bench/irt.py --bin target/release/qiming --students 20000

Prints both times, their ratio and the RMSE of a and b against the truth for both programs.
girth: `python3 -m pip install girth` (the script says so when it is missing).
"""
import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument('--bin', help='the qiming binary (default: build it with cargo --release)')
ap.add_argument('--students', type=int, default=100_000)
ap.add_argument('--items', type=int, default=60)
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--threads', type=int, help='qiming --threads (default: every core)')
ap.add_argument('--skip-girth', action='store_true')
ap.add_argument('--dir', help='work folder (default: a temporary one)')
args = ap.parse_args()

root = pathlib.Path(__file__).resolve().parents[2]
if args.bin:
    qiming = pathlib.Path(args.bin)
else:
    # Only the build holds the shared cargo lock; the timing runs outside it.
    subprocess.run(['flock', '/tmp/qiming-cargo.lock', 'cargo', 'build', '--release', '-p', 'qiming'], cwd=root, check=True)
    qiming = pathlib.Path(os.environ.get('CARGO_TARGET_DIR', root / 'target')) / 'release' / 'qiming'

work = pathlib.Path(args.dir or tempfile.mkdtemp(prefix='qiming-irt-'))
work.mkdir(parents=True, exist_ok=True)
csv, truth_path, est_path = work / 'responses.csv', work / 'truth.json', work / 'calibration.json'


def rmse(pairs):
    pairs = list(pairs)
    return math.sqrt(sum((x - y) ** 2 for x, y in pairs) / len(pairs))


t0 = time.perf_counter()
subprocess.run([str(qiming), 'assess', 'simulate', str(csv), '--model', '2pl', '--students', str(args.students),
                '--items', str(args.items), '--seed', str(args.seed), '--truth', str(truth_path)], check=True)
print(f'simulated {args.students} × {args.items} (2PL, seed {args.seed}) in {time.perf_counter() - t0:.2f} s → {csv}')
truth = json.loads(truth_path.read_text())
true_a = [it['a'] for it in truth['items']]
true_b = [it['b'] for it in truth['items']]

rss_file = work / 'rss.txt'
cmd = ['/usr/bin/time', '-f', '%M', '-o', str(rss_file), str(qiming), 'assess', 'calibrate', str(csv), '--model', '2pl', '--json']
if args.threads:
    cmd += ['--threads', str(args.threads)]
with open(est_path, 'w') as out:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=out, check=True)
    q_time = time.perf_counter() - t0
q_rss = int(rss_file.read_text().split()[-1]) / 1024
est = json.loads(est_path.read_text())
q_a = rmse(zip((it['a'] for it in est['items']), true_a))
q_b = rmse(zip((it['b'] for it in est['items']), true_b))
true_theta = [p['theta'] for p in truth['persons']]
q_t = rmse(zip((p['theta'] for p in est['persons']), true_theta))
print(f'qiming: {q_time:.2f} s wall (CSV parse + EM + EAP + fit + JSON), {est["iterations"]} EM cycles, '
      f'converged {est["converged"]}, peak RSS {q_rss:.0f} MB; RMSE a {q_a:.4f}, b {q_b:.4f}, θ (EAP) {q_t:.4f}')

if not args.skip_girth:
    # girth runs in its own process so that its numpy can go without this machine's OpenBLAS
    # overrides (they slow a current numpy); its load time is not counted.
    script = f'''
import json, time, numpy as np
try:
    from girth import twopl_mml
except ImportError:
    raise SystemExit("girth is not installed: python3 -m pip install girth")
data = np.loadtxt({str(csv)!r}, delimiter=",", skiprows=1, usecols=range(1, {args.items} + 1), dtype=int).T
t0 = time.perf_counter()
r = twopl_mml(data)
t = time.perf_counter() - t0
print(json.dumps({{"time": t, "a": list(map(float, r["Discrimination"])), "b": list(map(float, r["Difficulty"]))}}))
'''
    env = {k: v for k, v in os.environ.items() if k not in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')}
    res = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        print('girth failed:', res.stderr.strip()[-2000:])
    else:
        g = json.loads(res.stdout.strip().splitlines()[-1])
        g_a, g_b = rmse(zip(g['a'], true_a)), rmse(zip(g['b'], true_b))
        print(f'girth twopl_mml: {g["time"]:.2f} s (estimation only); RMSE a {g_a:.4f}, b {g_b:.4f}')
        print(f'ratio girth / qiming: {g["time"] / q_time:.1f}×')

# CAT item selection: the calibrated 60-item bank, and a 300-item bank.
def cat(bank, label):
    res = subprocess.run([str(qiming), 'assess', 'simulate-cat', '--bank', str(bank), '--students', '2000', '--se', '0.3',
                          '--max-items', '40', '--json'], capture_output=True, text=True, check=True)
    r = json.loads(res.stdout)
    print(f'CAT, {label}: {r["mean_selection_latency_us"]:.2f} µs per selection; mean length {r["mean_length"]:.1f} '
          f'(fixed form for equal SE: {r["fixed_length_for_equal_se"]}), RMSE {r["rmse"]:.3f}, bias {r["bias"]:+.3f}, '
          f'max exposure {r["max_exposure"]:.2f}')


cat(est_path, f'{args.items}-item calibrated bank')
big = work / 'bank300.json'
subprocess.run([str(qiming), 'assess', 'simulate', str(work / 'b300.csv'), '--model', '2pl', '--students', '1', '--items', '300',
                '--seed', '9', '--truth', str(big)], check=True, capture_output=True)
cat(big, '300-item bank')
