#!/bin/sh
# How hidden/images was made (run from the lab folder): the reference's recording program in
# two hidden galleries (hidden/record/: smaller and larger signs, turned up to 20 degrees,
# stronger lighting noise), seed 21 each; every sample marked `test`. Students never receive it.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-signs-hidden
for g in small large; do
    $QIMING ai record record-better.rhai --scenario hidden/record/gallery-$g.toml --seed 21 --out /tmp/ai-signs-hidden
done
python3 - /tmp/ai-signs-hidden <<'PY'
import json, sys
p = sys.argv[1] + "/manifest.json"
m = json.load(open(p))
for x in m["samples"]:
    x["split"] = "test"
json.dump(m, open(p, "w"), separators=(",", ":"), ensure_ascii=False)
PY
rm -rf hidden/images && mv /tmp/ai-signs-hidden hidden/images
