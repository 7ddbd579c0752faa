#!/bin/sh
# The known-wrong model: trained on the starter recording only (20 head-on pictures, seed 1).
# Run from the lab folder, curriculum/labs/ai-signs.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-signs-narrow
$QIMING ai record record.rhai --scenario scenarios/gallery.toml --seed 1 --out /tmp/ai-signs-narrow
$QIMING ai train /tmp/ai-signs-narrow --model cnn --seed 1 --out wrong-narrow-data/model.qmodel
