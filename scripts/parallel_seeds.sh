#!/usr/bin/env bash
# Run a recipe's seeds as parallel processes (on one GPU machine, or a many-core one), then merge them into
# one experiment folder whose results.json is the usual 10-seed summary:
#
#   scripts/parallel_seeds.sh RECIPE [SEEDS] [extra graphkit flags ...]
#   e.g. on the GPU machine (device tool: carry .whl and .device-data; see scripts/device_check.sh):
#        OUT=$OUT scripts/parallel_seeds.sh ogbg-molhiv-gin-vn 10 --device cuda
#
# Each seed trains in its own process and folder (<out>/RECIPE.parts/seedK); the finished run folders are
# then moved into <out>/RECIPE and `graphkit repro RECIPE --resume` reads them back and writes the summary
# (it retrains nothing: every run is finished). Output root: $OUT, else runs/.
set -u
cd "$(dirname "$0")/.."
recipe=$1
seeds=${2:-10}
shift $(( $# >= 2 ? 2 : 1 ))
PY=${PYTHON:-python3}
if [ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ]; then PY=.venv/bin/python; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${GRAPHKIT_DATA:-}" ] && [ -d .device-data ]; then export GRAPHKIT_DATA="$PWD/.device-data"; fi
root=${OUT:-runs}
parts="$root/$recipe.parts"
merged="$root/$recipe"
mkdir -p "$parts"
pids=()
for ((k = 0; k < seeds; k++)); do
  "$PY" -m graphkit.cli repro "$recipe" --out "$parts/seed$k" --first-seed "$k" --seeds 1 --resume --quiet "$@" \
    > "$parts/seed$k.log" 2>&1 &
  pids+=($!)
done
failed=0
for k in "${!pids[@]}"; do
  wait "${pids[$k]}" || { echo "seed $k failed: see $parts/seed$k.log" >&2; failed=1; }
done
mkdir -p "$merged"
for ((k = 0; k < seeds; k++)); do
  run=$(printf "run-seed%02d" "$k")
  if [ -f "$parts/seed$k/$run/results.json" ] && [ ! -e "$merged/$run" ]; then mv "$parts/seed$k/$run" "$merged/$run"; fi
done
"$PY" -m graphkit.cli repro "$recipe" --out "$merged" --seeds "$seeds" --resume --quiet "$@" || failed=1
exit $failed
