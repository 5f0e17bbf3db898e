#!/usr/bin/env bash
# Run reproductions one after another, resumably: each writes runs/<NAME>/ and runs/<NAME>.log, and a
# finished one is skipped on the next call (graphkit repro --resume).
#   scripts/run_recipes.sh NAME [NAME ...]      (THREADS=1 by default; GRAPHKIT_DATA as usual)
set -u
mkdir -p runs
for name in "$@"; do
  if graphkit repro "$name" --resume --threads "${THREADS:-1}" --quiet > "runs/$name.log" 2>&1; then
    tail -n 1 "runs/$name.log"
  else
    echo "$name failed (see runs/$name.log)" >&2
  fi
done
