#!/usr/bin/env bash
# Make this machine ready for the container tests:
#   1. a running Docker engine (installs Debian's docker.io and starts dockerd in the background
#      when there is none and we are root);
#   2. the two images deploy/Dockerfile builds FROM: the runtime base (node:24-bookworm-slim) and
#      the builder that compiles the native addons (node:24-bookworm). No image registry is
#      reachable here, so when a tag is missing we build a stand-in under the official tag:
#      Debian bookworm (minbase, debootstrap) plus the project's pinned Node 24 binary and the
#      machine's npm (which carries node-gyp), laid out like the official image
#      (/usr/local/bin/node, /usr/local/bin/npm, user "node" uid 1000). The builder stand-in also
#      has gcc, g++, make, python3 and Node's headers in /usr/local/include/node. An existing tag,
#      stand-in or real, is kept: that is the cache.
#
# Exit status: 0 ready; 2 no Docker engine can be had here (tests skip); 1 anything else.
# Environment: ZTROOT_BASE_IMAGE (default node:24-bookworm-slim), ZTROOT_BUILDER_IMAGE (default
# node:24-bookworm), DOCKERD_LOG (default /tmp/ztroot-dockerd.log), DEBIAN_MIRROR (default
# http://deb.debian.org/debian).
set -uo pipefail

here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
repo=$(CDPATH= cd -- "$here/../.." && pwd)
base_image=${ZTROOT_BASE_IMAGE:-node:24-bookworm-slim}
builder_image=${ZTROOT_BUILDER_IMAGE:-node:24-bookworm}
dockerd_log=${DOCKERD_LOG:-/tmp/ztroot-dockerd.log}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { echo "containers/setup: $*" >&2; }
no_docker() { say "no Docker engine: $*"; exit 2; }

engine_answers() { docker info >/dev/null 2>&1; }

ensure_engine() {
  if command -v docker >/dev/null && engine_answers; then return 0; fi
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if ! command -v dockerd >/dev/null; then
    command -v apt-get >/dev/null || no_docker "dockerd is not installed and apt-get is not available"
    say "installing docker.io from Debian"
    export DEBIAN_FRONTEND=noninteractive
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends docker.io; } >/dev/null 2>&1 \
      || no_docker "apt-get install docker.io failed"
  fi
  command -v docker >/dev/null || no_docker "the docker client is missing"
  local started=""
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd (log: $dockerd_log)"
    # setsid: the engine outlives this script and the test process that ran it
    "${sudo[@]}" setsid dockerd >"$dockerd_log" 2>&1 < /dev/null &
    started=$!
  fi
  for _ in $(seq 1 60); do
    engine_answers && return 0
    if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then
      no_docker "dockerd exited at start: $(tail -3 "$dockerd_log" | tr '\n' ' ')"
    fi
    sleep 0.5
  done
  no_docker "dockerd did not answer within 30 s (see $dockerd_log)"
}

node_binary() {
  # node_modules/.bin/node links to the `node` package's real binary: copy that file, not the link
  local n
  n=$(readlink -f "$repo/node_modules/.bin/node" 2>/dev/null) || return 1
  [ -x "$n" ] && echo "$n"
}

npm_dir() {
  local cli
  cli=$(readlink -f "$(command -v npm)" 2>/dev/null) || return 1
  # .../node_modules/npm/bin/npm-cli.js -> .../node_modules/npm
  dirname "$(dirname "$cli")"
}

# Node's headers for the running binary into $1 (a new include/node): from the npm package the
# binary came from (node-<platform>-<arch>, normally in the npm cache already), else this
# machine's /usr/include/node (an older Node's do: the addons use N-API only, which is ABI-stable).
install_node_headers() {
  local node=$1 dest=$2 version pkg tmp tgz
  version=$("$node" -p process.versions.node)
  pkg=$("$node" -p '`node-${process.platform}-${process.arch}`')
  tmp=$(mktemp -d /tmp/ztroot-node-headers.XXXXXX)
  tgz=$(cd "$tmp" && npm pack "$pkg@$version" --prefer-offline --fetch-retries=1 --fetch-timeout=60000 --loglevel=error --pack-destination "$tmp" 2>/dev/null | tail -n 1)
  if [ -n "$tgz" ] && [ -f "$tmp/$tgz" ] && tar -xzf "$tmp/$tgz" -C "$tmp" package/include/node 2>/dev/null \
     && [ -f "$tmp/package/include/node/node_api.h" ]; then
    mkdir -p "$(dirname "$dest")" && mv "$tmp/package/include/node" "$dest"
    say "Node $version headers from $pkg@$version"
  elif [ -f /usr/include/node/node_api.h ] && [ -f /usr/include/node/uv.h ]; then
    mkdir -p "$dest" && cp -a /usr/include/node/. "$dest/"
    say "$pkg@$version not available: using this machine's Node headers (/usr/include/node)"
  else
    rm -rf "$tmp"
    say "no Node headers: neither $pkg@$version (npm) nor /usr/include/node (Debian nodejs / libnode-dev)"
    return 1
  fi
  rm -rf "$tmp"
}

# build_standin TAG slim|build: the stand-in for node:24-bookworm-slim or, with "build", for
# node:24-bookworm (compilers, python3 and Node's headers added).
build_standin() {
  local tag=$1 variant=$2
  [ "$(id -u)" -eq 0 ] || { say "building the stand-in base image needs root (debootstrap, chroot)"; exit 1; }
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null 2>&1; } \
      || { say "cannot install debootstrap"; exit 1; }
  }
  local node npm
  node=$(node_binary) || { say "Node 24 binary not found under $repo/node_modules (run npm ci)"; exit 1; }
  "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' || { say "$node is not Node 24+"; exit 1; }
  npm=$(npm_dir) || { say "npm not found on this machine"; exit 1; }
  local include=()
  # what node-gyp needs: python3 (gyp), make, gcc and g++ (gyp links addons with g++), libc headers
  [ "$variant" = build ] && include=(--include=gcc,g++,make,python3,libc6-dev)
  rootfs=$(mktemp -d /tmp/ztroot-base.XXXXXX)
  trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
  say "debootstrap bookworm (minbase${include:+, ${include[0]#--include=}}) into $rootfs"
  debootstrap --variant=minbase "${include[@]}" bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; say "debootstrap failed"; exit 1; }
  rm -f "$rootfs.log"
  install -m 0755 "$node" "$rootfs/usr/local/bin/node"
  if [ "$variant" = build ]; then install_node_headers "$node" "$rootfs/usr/local/include/node" || exit 1; fi
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # the official image's user
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # keep it small: no apt lists, docs or caches
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
  say "importing $tag"
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_VERSION='"$("$node" -p process.versions.node)" \
    --change 'LABEL ztroot.standin=true' \
    --change 'CMD ["node"]' \
    - "$tag" >/dev/null || { say "docker import failed"; exit 1; }
}

ensure_engine
for pair in "$base_image slim" "$builder_image build"; do
  set -- $pair
  if docker image inspect "$1" >/dev/null 2>&1; then
    say "image $1 present"
  else
    start=$(date +%s)
    # a subshell per stand-in: its EXIT trap removes its own root filesystem
    ( build_standin "$1" "$2" ) || exit 1
    say "stand-in $1 built in $(( $(date +%s) - start )) s"
  fi
done
exit 0
