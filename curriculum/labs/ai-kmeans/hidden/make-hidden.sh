#!/bin/sh
# How hidden/vectors was made (run from the lab folder): each hidden car park's answer-key
# recording (hidden/record/) with seeds 21-28; the camera images dropped (a sensor dataset),
# every sample marked `test`. Students never receive this folder.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-kmeans-hidden
for lot in c d e; do
    for seed in 21 22 23 24 25 26 27 28; do
        $QIMING ai record hidden/record/record-lot-$lot.rhai --scenario scenarios/lot-$lot.toml --seed $seed --out /tmp/ai-kmeans-hidden
    done
done
python3 - /tmp/ai-kmeans-hidden <<'PY'
import json, shutil, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
m["image"] = None
for x in m["samples"]:
    x.pop("image", None)
    x["split"] = "test"
json.dump(m, open(d + "/manifest.json", "w"), separators=(",", ":"), ensure_ascii=False)
shutil.rmtree(d + "/images")
PY
rm -rf hidden/vectors && mv /tmp/ai-kmeans-hidden hidden/vectors
