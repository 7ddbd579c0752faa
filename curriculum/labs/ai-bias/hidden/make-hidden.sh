#!/bin/sh
# How hidden/audit was made (run from the lab folder, curriculum/labs/ai-bias): the balanced
# recording program record.rhai in two hidden galleries (hidden/record/: A varies like the
# students' gallery with a little more light noise; B moves and turns the signs a little
# more), seed 21 each; every sample marked `test`. Students never receive it. The lab's
# hidden-audit case scores the worst recall of any label on it (min_group_recall): right
# turns count as much as the rest.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-bias-hidden
for g in a b; do
    $QIMING ai record record.rhai --scenario hidden/record/gallery-$g.toml --seed 21 --out /tmp/ai-bias-hidden
done
python3 - /tmp/ai-bias-hidden <<'PY'
import json, sys
p = sys.argv[1] + "/manifest.json"
m = json.load(open(p))
for x in m["samples"]:
    x["split"] = "test"
json.dump(m, open(p, "w"), separators=(",", ":"), ensure_ascii=False)
PY
rm -rf hidden/audit && mv /tmp/ai-bias-hidden hidden/audit
