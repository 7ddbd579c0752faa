#!/bin/sh
# How reference/model.qmodel was made (run from the lab folder, curriculum/labs/ai-perceptron).
# Training is byte-identical only on the same machine and thread count, so the model file is
# committed and `qiming curriculum check` verifies it by grading, not by retraining.
set -e
QIMING=${QIMING:-qiming}
rm -rf /tmp/ai-perceptron-data
# Training set: training aisle A, seeds 1 and 2; test set: training aisle B, seed 3.
$QIMING ai record record.rhai --scenario scenarios/train-a.toml --seed 1 --out /tmp/ai-perceptron-data/train
$QIMING ai record record.rhai --scenario scenarios/train-a.toml --seed 2 --out /tmp/ai-perceptron-data/train
$QIMING ai record record.rhai --scenario scenarios/train-b.toml --seed 3 --out /tmp/ai-perceptron-data/test
$QIMING ai train /tmp/ai-perceptron-data/train --model perceptron --seed 1 --epochs 10 --out reference/model.qmodel
$QIMING ai eval reference/model.qmodel /tmp/ai-perceptron-data/test
