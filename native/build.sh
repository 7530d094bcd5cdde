#!/bin/sh
# Build the native addons (run by `npm ci` / `npm install` as the root package's install script):
#   batch_udp.node      recvmmsg/sendmmsg UDP (Linux); without it ztroot uses plain dgram
#   identity_hash.node  the memory-hard identity hash in C; without it ztroot uses the TypeScript one
#   thread_sched.node   SCHED_IDLE for identity-validation threads (Linux); without it they are reniced
#   tap.node            TAP devices for the leaf's networks (Linux); without it networks carry no Ethernet
#   netif.node          MAC, MTU, addresses and routes of those devices by ioctl/rtnetlink (Linux);
#                       without it TAP devices cannot be configured
#   packet_crypto.node  packet armor/dearmor in C (Salsa20/12, Poly1305, AES-GMAC-SIV on Node's OpenSSL);
#                       without it ztroot uses the TypeScript implementation
# It must never fail the install, and one addon failing to build must not keep the others out.
cd "$(dirname "$0")" || exit 0
# N-API is ABI-stable, so any Node's headers will do: use the system's when npm names none
# (there is no network to download the running Node's).
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  set -- --nodedir=/usr
fi
# make -k: when one addon fails to compile, still build the others.
MAKEFLAGS="${MAKEFLAGS:+$MAKEFLAGS }-k" node-gyp rebuild "$@" || echo "native: node-gyp reported a failure (see above)"
if [ -f build/Release/batch_udp.node ]; then
  echo "native batch UDP built: native/build/Release/batch_udp.node"
else
  echo "native batch UDP unavailable (build failed); ztroot uses dgram"
fi
if [ -f build/Release/identity_hash.node ]; then
  echo "native identity hash built: native/build/Release/identity_hash.node"
else
  echo "native identity hash unavailable (build failed); ztroot uses the TypeScript implementation"
fi
if [ -f build/Release/thread_sched.node ]; then
  echo "native thread scheduling built: native/build/Release/thread_sched.node"
else
  echo "native thread scheduling unavailable (build failed); validation threads are only reniced"
fi
if [ -f build/Release/tap.node ]; then
  echo "native TAP devices built: native/build/Release/tap.node"
else
  echo "native TAP devices unavailable (build failed); leaf networks carry no Ethernet"
fi
if [ -f build/Release/netif.node ]; then
  echo "native interface configuration built: native/build/Release/netif.node"
else
  echo "native interface configuration unavailable (build failed); leaf networks carry no Ethernet"
fi
if [ -f build/Release/packet_crypto.node ]; then
  echo "native packet crypto built: native/build/Release/packet_crypto.node"
else
  echo "native packet crypto unavailable (build failed); ztroot uses the TypeScript implementation"
fi
exit 0
