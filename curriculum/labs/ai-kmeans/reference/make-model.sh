#!/bin/sh
# How reference/model.qmodel was made (run from the lab folder, curriculum/labs/ai-kmeans).
# Training is byte-identical only on the same machine and thread count, so the model file is
# committed and `qiming curriculum check` verifies it by grading, not by retraining.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-kmeans-data
# Car park A with the lesson's record.rhai, car park B with its own answer list; seeds 1-3 each: 48 samples.
for seed in 1 2 3; do
    $QIMING ai record record.rhai --scenario scenarios/lot-a.toml --seed $seed --out /tmp/ai-kmeans-data/lot
    $QIMING ai record record-lot-b.rhai --scenario scenarios/lot-b.toml --seed $seed --out /tmp/ai-kmeans-data/lot
done
$QIMING ai train /tmp/ai-kmeans-data/lot --model kmeans --seed 1 --out reference/model.qmodel
