#!/usr/bin/env python3
"""Times `qiming ai train --model cnn` on a generated sign-like dataset and, when PyTorch is
installed, the same architecture on the same data for the same epochs with PyTorch on CPU.

    python3 tools/bench/ai.py                       # builds the release binary under the cargo lock
    python3 tools/bench/ai.py --bin target/release/qiming --per-class 200 --epochs 15

The dataset: 5 labels (blank, green, left, red, right) of 32×24 RGB camera-like images — a
coloured disc or arrow of varying size, place and lighting on a noisy floor — `--per-class`
of each, a fifth of them in the test split. The sign CNN (qiming_ai::train::architecture):
conv 8@3×3 (pad 1) → ReLU → max-pool 2 → conv 16@3×3 (pad 1) → ReLU → max-pool 2 →
dense 768 → 5; Adam (lr 0.005), batches of 16, cross-entropy. Prints qiming's time,
validation accuracy and predict latency (µs, the deterministic path runs use), PyTorch's
time and accuracy, and the ratio. PyTorch: `python3 -m pip install torch` (CPU); it is told
to use as many threads as `--threads` (default 2, the machine's cores).
"""
import argparse
import json
import math
import os
import pathlib
import random
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ap = argparse.ArgumentParser()
ap.add_argument('--bin', help='the qiming binary (default: build it with cargo --release)')
ap.add_argument('--per-class', type=int, default=200)
ap.add_argument('--epochs', type=int, default=15)
ap.add_argument('--seed', type=int, default=1)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--dir', help='work folder (default: a temporary one)')
args = ap.parse_args()

ROOT = pathlib.Path(__file__).resolve().parents[2]
W, H = 32, 24
LABELS = ['blank', 'green', 'left', 'red', 'right']


def png(pixels):
    rows = b''.join(b'\x00' + bytes(pixels[y * W * 3:(y + 1) * W * 3]) for y in range(H))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b'')


def sign(label, rng):
    light = 0.6 + 0.4 * rng.random()
    cx, cy, r = rng.uniform(9, 23), rng.uniform(7, 17), rng.uniform(4, 7)
    colour = {'green': (0.15, 0.8, 0.2), 'red': (0.9, 0.1, 0.1), 'left': (0.1, 0.3, 0.9), 'right': (0.1, 0.3, 0.9)}.get(label)
    px = []
    for y in range(H):
        for x in range(W):
            dx, dy = x - cx, y - cy
            if label in ('green', 'red'):
                inside = dx * dx + dy * dy <= r * r
            elif label == 'left':
                inside = -r <= dx <= r and abs(dy) <= (dx + r) * 0.6  # a triangle pointing left
            elif label == 'right':
                inside = -r <= dx <= r and abs(dy) <= (r - dx) * 0.6  # pointing right
            else:
                inside = False
            for c in range(3):
                v = (colour[c] * light) if inside else 0.45 + 0.1 * math.sin(x * 0.3 + c)
                v += rng.uniform(-0.15, 0.15)
                px.append(max(0, min(255, int(v * 255))))
    return px


def make_dataset(d):
    rng = random.Random(args.seed)
    (d / 'images').mkdir(parents=True, exist_ok=True)
    samples, n = [], 0
    for k in range(args.per_class):
        for label in LABELS:
            n += 1
            sid = f'{n:06d}'
            (d / 'images' / f'{sid}.png').write_bytes(png(sign(label, rng)))
            split = 'test' if k % 5 == 4 else 'train'
            samples.append({'id': sid, 'image': f'images/{sid}.png', 'sensors': [], 'label': label, 'split': split})
    manifest = {'format': 'qiming-dataset', 'version': 1, 'image': {'width': W, 'height': H, 'channels': 3},
                'sensors': [], 'labels': LABELS, 'samples': samples}
    (d / 'manifest.json').write_text(json.dumps(manifest))
    return samples


def qiming_bin():
    if args.bin:
        return args.bin
    target = os.environ.get('CARGO_TARGET_DIR', '/var/tmp/qiming-dev-target')
    subprocess.run(['flock', '/tmp/qiming-cargo.lock', 'env', f'CARGO_TARGET_DIR={target}', 'cargo', 'build', '--release', '-p', 'qiming'],
                   cwd=ROOT, check=True)
    return f'{target}/release/qiming'


def torch_run(d, samples):
    try:
        import torch
    except ImportError:
        print('PyTorch is not installed (python3 -m pip install torch): no comparison')
        return None
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)

    def load(split):
        xs, ys = [], []
        for s in samples:
            if s['split'] != split:
                continue
            raw = zlib.decompress(_idat((d / s['image']).read_bytes()))
            px = [b for y in range(H) for b in raw[y * (W * 3 + 1) + 1:(y + 1) * (W * 3 + 1)]]
            xs.append(torch.tensor(px, dtype=torch.float32).reshape(H, W, 3).permute(2, 0, 1) / 255.0)
            ys.append(LABELS.index(s['label']))
        return torch.stack(xs), torch.tensor(ys)

    xtr, ytr = load('train')
    xte, yte = load('test')
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(768, len(LABELS)))
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(args.epochs):
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 16):
            idx = perm[i:i + 16]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    return seconds, acc


def _idat(b):
    out, i = b'', 8
    while i < len(b):
        n = struct.unpack('>I', b[i:i + 4])[0]
        if b[i + 4:i + 8] == b'IDAT':
            out += b[i + 8:i + 8 + n]
        i += 12 + n
    return out


def main():
    work = pathlib.Path(args.dir) if args.dir else pathlib.Path(tempfile.mkdtemp(prefix='qiming-ai-bench-'))
    d = work / 'signs'
    samples = make_dataset(d)
    n_test = sum(s['split'] == 'test' for s in samples)
    print(f'dataset: {len(samples)} images ({len(samples) - n_test} train, {n_test} test), {len(LABELS)} labels, {d}')
    exe = qiming_bin()
    out = subprocess.run([exe, 'ai', 'train', str(d), '--model', 'cnn', '--seed', str(args.seed), '--epochs', str(args.epochs),
                          '--out', str(work / 'signs.qmodel'), '--json'], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    q = json.loads(out.stdout)
    qacc = q['validation']['accuracy']
    print(f"qiming (burn ndarray): {q['seconds']:.2f} s for {args.epochs} epochs, validation accuracy {qacc * 100:.1f} %"
          f"{'' if qacc >= 0.95 else ' (below the 95 % goal)'}, predict {q['predict_microseconds']:.1f} µs")
    t = torch_run(d, samples)
    if t:
        print(f'PyTorch CPU ({args.threads} threads): {t[0]:.2f} s, validation accuracy {t[1] * 100:.1f} %')
        print(f'ratio qiming / PyTorch: {q["seconds"] / t[0]:.2f}')


main()
