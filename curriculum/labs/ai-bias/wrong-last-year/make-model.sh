#!/bin/sh
# The known-wrong model: trained on data/last-year as it is (3 right-turn pictures among 243),
# with the reference's seed and epochs. Run from the lab folder, curriculum/labs/ai-bias.
set -e
QIMING=${QIMING:-qiming}
$QIMING ai train data/last-year --model cnn --seed 1 --epochs 40 --out wrong-last-year/model.qmodel
