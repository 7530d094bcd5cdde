#!/bin/sh
# Build the native addons (run by `npm ci` / `npm install` as the root package's install script):
#   batch_udp.node      recvmmsg/sendmmsg UDP and the known-peer HELLO path (Linux); without it ztroot
#                       uses plain dgram and answers every HELLO in TypeScript
#   identity_hash.node  the memory-hard identity hash in C; without it ztroot uses the TypeScript one
#   thread_sched.node   SCHED_IDLE for identity-validation threads (Linux); without it they are reniced
#   file_pages.node     hands back the binary's pages only start-up touched (Linux); without it they stay resident
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
# One line per addon: its name, what it is, and what ztroot does without it.
while IFS='|' read -r name what without; do
  if [ -f "build/Release/$name.node" ]; then
    echo "native $what built: native/build/Release/$name.node"
  else
    echo "native $what unavailable (build failed); $without"
  fi
done <<'ADDONS'
batch_udp|batch UDP|ztroot uses dgram
identity_hash|identity hash|ztroot uses the TypeScript implementation
thread_sched|thread scheduling|validation threads are only reniced
file_pages|start-up page release|pages only start-up touched stay resident
tap|TAP devices|leaf networks carry no Ethernet
netif|interface configuration|leaf networks carry no Ethernet
packet_crypto|packet crypto|ztroot uses the TypeScript implementation
ADDONS
exit 0
