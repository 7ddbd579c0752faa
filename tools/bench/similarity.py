#!/usr/bin/env python3
"""Writes N Rhai programs for timing `qiming similarity`: copies of the labs'
reference solutions with renamed variables and changed constants (what copying
students do), round-robin over the labs.

    python3 tools/bench/similarity.py /tmp/sim-big 2000
    time ./target/release/qiming similarity /tmp/sim-big --json > /tmp/sim.json
"""
import glob
import pathlib
import random
import re
import sys

out = pathlib.Path(sys.argv[1])
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
out.mkdir(parents=True, exist_ok=True)
random.seed(7)
refs = [pathlib.Path(p).read_text() for p in sorted(glob.glob('curriculum/labs/*/reference.rhai'))]
for i in range(count):
    src = refs[i % len(refs)]
    for name in set(re.findall(r'\blet\s+(\w+)', src)):
        src = re.sub(r'\b%s\b' % name, f'{name}_{random.randint(0, 999)}', src)
    src = re.sub(r'\b\d+\.\d+\b', lambda m: str(round(float(m.group(0)) * random.uniform(0.8, 1.2), 3)), src)
    (out / f'p{i:05d}.rhai').write_text(src)
print(f'{count} programs from {len(refs)} reference solutions in {out}')
