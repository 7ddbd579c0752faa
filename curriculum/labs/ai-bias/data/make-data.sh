#!/bin/sh
# How data/last-year was made (run from the lab folder, curriculum/labs/ai-bias): "last year's
# dataset", the skewed one students start from. record.rhai (balanced: 16 stop, 16 left,
# 16 right and 28 none per seed) in the gallery with seeds 1-4, then every right-turn
# picture dropped but one per seed for seeds 1-3 (3 of 64), as if last year's team had
# recorded where streets turn left. Every 10th picture of each other label is marked
# `test`, so the shipped test split has no right-turn picture either: it cannot show the gap.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-bias-last-year
for seed in 1 2 3 4; do
    $QIMING ai record record.rhai --scenario scenarios/gallery.toml --seed $seed --out /tmp/ai-bias-last-year
done
python3 - /tmp/ai-bias-last-year <<'PY'
import json, os, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
kept, rights, seen = [], {}, {}
for x in m["samples"]:
    seed = x["source"]["seed"]
    if x["label"] == "right":
        n = rights[seed] = rights.get(seed, 0) + 1
        if not (n == 6 and seed <= 3):      # the 6th right of seeds 1-3: 0.48 m, turned a little
            os.remove(os.path.join(d, x["image"]))
            continue
        x["split"] = "train"
    else:
        k = seen[x["label"]] = seen.get(x["label"], 0) + 1
        x["split"] = "test" if k % 10 == 0 else "train"
    kept.append(x)
m["samples"] = kept
json.dump(m, open(d + "/manifest.json", "w"), separators=(",", ":"), ensure_ascii=False)
PY
rm -rf data/last-year && mv /tmp/ai-bias-last-year data/last-year
