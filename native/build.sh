#!/bin/sh
# Build the batch UDP addon (run by `npm ci` / `npm install` as the root package's install
# script). It must never fail the install: without the addon ztroot uses plain dgram.
cd "$(dirname "$0")" || exit 0
# N-API is ABI-stable, so any Node's headers will do: use the system's when npm names none
# (there is no network to download the running Node's).
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  set -- --nodedir=/usr
fi
if node-gyp rebuild "$@"; then
  echo "native batch UDP built: native/build/Release/batch_udp.node"
else
  rm -f build/Release/batch_udp.node
  echo "native batch UDP unavailable (build failed); ztroot uses dgram"
fi
exit 0
