#!/usr/bin/env bash
# Here, before a GPU loan: put what the GPU machine lacks into two git-ignored folders that the device
# tool carries with the working tree (about 12 MiB together):
#   .whl/          the ogb wheel (pure Python; the machine has torch, torch-geometric, pandas, scikit-learn)
#   .device-data/  copies of the data sets the check reads (Cora, MUTAG, ogbg-molhiv, ogbg-molesol, Texas,
#                  co-citation Cora, Los-loop), in the data root's layout; copies, because links travel as links
# Source data root: $GRAPHKIT_DATA, else ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${GRAPHKIT_DATA:-../shared/data}
rm -rf .whl .device-data
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 -d .whl ogb==1.3.6
for part in planetoid/Cora tu/MUTAG ogb/ogbg_molhiv ogb/ogbg_molesol heterophily/webkb/texas \
            hypergraph/cocitation/cora traffic/los-loop; do
  mkdir -p ".device-data/$(dirname "$part")"
  cp -rL "$src/$part" ".device-data/$part"
done
du -sh .whl .device-data
