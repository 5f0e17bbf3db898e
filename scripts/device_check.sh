#!/usr/bin/env bash
# `make device-check` on the GPU machine as it is (python3 with torch + CUDA and torch-geometric, no venv,
# no network): ogb from the wheels in .whl/ (when it is missing), the data from .device-data/, caches in
# /tmp, graphkit from this working tree. Fill .whl/ and .device-data/ here first with
# scripts/device_check_prepare.sh, and carry both: run(command="make device-check", carry=[".whl", ".device-data"]).
# Arguments go to scripts/device_check.py (--device cpu, --out DIR, --only SECTIONS, --budget SECONDS).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c "import ogb" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/graphkit-site \
      .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/graphkit-site${PYTHONPATH:+:$PYTHONPATH}
  else
    echo "device-check: ogb is not installed and .whl/ has no wheels (run scripts/device_check_prepare.sh)" >&2
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${GRAPHKIT_DATA:-}" ] && [ -d .device-data ]; then export GRAPHKIT_DATA="$PWD/.device-data"; fi
export GRAPHKIT_CACHE="${GRAPHKIT_CACHE:-/tmp/graphkit-cache}"
export PYTHONUNBUFFERED=1
exec "$PY" scripts/device_check.py "$@"
