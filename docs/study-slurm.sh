#!/usr/bin/env bash
# Submits a ValueExploration study as Slurm jobs (README, "A study on a
# cluster"): an array job records the activation counts in N shards, one
# job merges them and identifies the neurons, an array job evaluates in N
# shards, and one job merges the results and writes the report. Each waits
# for the one before (--dependency=afterok). Every command resumes from its
# checkpoint, so the jobs are safe to requeue after preemption.
#
# Usage: MODEL=/path/to/model DIR=/shared/study N=8 CPUS=8 ./study-slurm.sh
set -euo pipefail

MODEL=${MODEL:?set MODEL to the model file or folder}
DIR=${DIR:-$PWD/study}
N=${N:-8}
CPUS=${CPUS:-8}
mkdir -p "$DIR/logs"

common=(--parsable --requeue --cpus-per-task="$CPUS" --output="$DIR/logs/%x-%A_%a.log")

record=$(sbatch "${common[@]}" --job-name=vx-record --array="0-$((N - 1))" --wrap \
  "valueexp record --model '$MODEL' --lang both --shards $N --threads $CPUS --out '$DIR'/counts-\$SLURM_ARRAY_TASK_ID.safetensors")

identify=$(sbatch "${common[@]}" --job-name=vx-identify --dependency="afterok:$record" --wrap \
  "valueexp merge --out '$DIR/counts.safetensors' '$DIR'/counts-*.safetensors && \
   valueexp identify --counts '$DIR/counts.safetensors' --method vape --per-language --random-control --out '$DIR/neurons.json'")

evaluate=$(sbatch "${common[@]}" --job-name=vx-evaluate --dependency="afterok:$identify" --array="0-$((N - 1))" --wrap \
  "valueexp evaluate --model '$MODEL' --neurons '$DIR/neurons.json' --mode likelihood --swap-order --shards $N --threads $CPUS --out '$DIR'/results-\$SLURM_ARRAY_TASK_ID.json")

report=$(sbatch "${common[@]}" --job-name=vx-report --dependency="afterok:$evaluate" --wrap \
  "valueexp merge --out '$DIR/results.json' '$DIR'/results-*.json && \
   valueexp report --counts '$DIR/counts.safetensors' --neurons '$DIR/neurons.json' --results '$DIR/results.json' --out '$DIR/report'")

echo "submitted: record $record, identify $identify, evaluate $evaluate, report $report"
echo "the report will be $DIR/report/report.md"
