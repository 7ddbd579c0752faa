#!/bin/sh
# How reference/model.qmodel was made (run from the lab folder, curriculum/labs/ai-signs).
# Training is byte-identical only on the same machine and thread count, so the model file is
# committed and `qiming curriculum check` verifies it by grading, not by retraining.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-signs-data
for seed in 1 2 3 4; do
    $QIMING ai record record-better.rhai --scenario scenarios/gallery.toml --seed $seed --out /tmp/ai-signs-data/train
done
$QIMING ai train /tmp/ai-signs-data/train --model cnn --seed 1 --epochs 40 --out reference/model.qmodel
