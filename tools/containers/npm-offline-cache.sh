#!/usr/bin/env bash
# Fill an npm cache with the production dependencies of package-lock.json, for image builds
# without registry access (deploy/Dockerfile installs from deploy/npm-offline/ when it holds one).
#   tools/containers/npm-offline-cache.sh [DIR]     (default: deploy/npm-offline)
# Works in a scratch copy of package.json + package-lock.json, so the checkout's node_modules is
# left alone.
set -euo pipefail
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
repo=$(CDPATH= cd -- "$here/../.." && pwd)
dir=${1:-$repo/deploy/npm-offline}
mkdir -p "$dir"
dir=$(CDPATH= cd -- "$dir" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$repo/package.json" "$repo/package-lock.json" "$scratch/"
(cd "$scratch" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error --cache "$dir" >/dev/null)
echo "npm cache for the production dependencies in $dir"
