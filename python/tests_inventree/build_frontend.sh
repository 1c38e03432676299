#!/usr/bin/env bash
# Builds InvenTree's web UI (src/frontend, React + vite) from the npm registry, once per
# frontend source (keyed by its files' names and sizes), and prints the folder holding the
# build (what InvenTree serves as static/web). Used by the opt-in real-browser test.
#
#   bash python/tests_inventree/build_frontend.sh     # prints the build folder on its last line
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SRC=${INVENTREE_SRC:-$ROOT/../shared/inventree}
[ -d "$SRC/src/frontend" ] || SRC=/work/shared/inventree
FRONT=$SRC/src/frontend
KEY=$(cd "$FRONT" && find . -type f -printf '%p %s\n' | LC_ALL=C sort | sha256sum | cut -c1-16)
CACHE=${INVENTREE_CACHE:-$ROOT/target/inventree-cache}
OUT=$CACHE/web-$KEY
if [ -f "$OUT/index.html" ] || [ -f "$OUT/.vite/manifest.json" ]; then
  echo "$OUT"
  exit 0
fi
mkdir -p "$CACHE"
WORK=$CACHE/web-build.$$
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src/backend/InvenTree/web/static" "$WORK/tools"
cp -r "$FRONT" "$WORK/src/frontend"
npm install --silent --no-audit --no-fund --prefix "$WORK/tools" yarn@1 >&2
YARN=$WORK/tools/node_modules/.bin/yarn
cd "$WORK/src/frontend"
"$YARN" install --frozen-lockfile --silent --network-timeout 600000 >&2
"$YARN" run compile >&2
"$YARN" run build >&2
mv "$WORK/src/backend/InvenTree/web/static/web" "$OUT"
echo "$OUT"
