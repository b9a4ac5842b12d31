#!/usr/bin/env bash
# Project-owned Docker Engine test environment for tscompose (issue 3, item 6).
#
# On a Debian bookworm machine, as root, with no network but Debian's package mirror:
#   1. installs docker.io, docker-registry, busybox-static, debootstrap (+ iptables, curl, ...) when missing;
#   2. starts dockerd (unless its socket already answers) with a local registry mirror and bridge
#      subnets that overlap none of the host's routes, addresses or resolvers;
#   3. starts Debian's docker-registry on 127.0.0.1:$REGISTRY_PORT;
#   4. seeds that registry, under the Docker Hub names the examples and tests use, with images built
#      from Debian packages only: busybox (busybox-static), python:3.11-slim (Debian's python3 with
#      python3-flask and python3-redis: there is no PyPI here) and redis:7 (Debian's redis-server);
#      plain `docker pull NAME:TAG` then works through the mirror.
# Everything built is cached under /var/cache/tscompose/<images version>/, so a second run is fast.
#
# Usage: scripts/engine-env.sh            set up (idempotent)
#        scripts/engine-env.sh --stop     stop the dockerd and registry this script started
#        scripts/engine-env.sh --rebuild  rebuild and re-push the images (ignores caches)
# Env:   TSCOMPOSE_REGISTRY_PORT (default 5001), TSCOMPOSE_CACHE_DIR (default /var/cache/tscompose)
#
# Why the registry is not on port 5000: the flask-redis example publishes host port 5000 on all
# addresses, and Linux refuses a wildcard bind on a port that a socket already listens on at
# 127.0.0.1, so a registry there would make the example fail to start.
set -Eeuo pipefail

IMAGES_VERSION="bookworm-1"        # bump to rebuild every cached image and re-seed the registry
REGISTRY_PORT="${TSCOMPOSE_REGISTRY_PORT:-5001}"
REGISTRY="127.0.0.1:${REGISTRY_PORT}"
CACHE_ROOT="${TSCOMPOSE_CACHE_DIR:-/var/cache/tscompose}"
CACHE_DIR="${CACHE_ROOT}/${IMAGES_VERSION}"
RUN_DIR=/run/tscompose
DOCKERD_LOG=/var/log/tscompose-dockerd.log
REGISTRY_LOG=/var/log/tscompose-registry.log
DAEMON_JSON=/etc/docker/daemon.json
DAEMON_JSON_MARK=/etc/docker/daemon.json.tscompose   # present (holding our file's sha256) = managed by us
REGISTRY_CONFIG=/etc/docker/registry/config.yml
SUITE=bookworm
VERSION_LABEL=org.tscompose.images-version
export DEBIAN_FRONTEND=noninteractive
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"

START=$SECONDS
log() { printf '[engine-env %3ss] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '[engine-env] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[engine-env] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts dockerd)"

# ---------------------------------------------------------------------------------------------------
# --stop
stop_pidfile() { # name
  local f="$RUN_DIR/$1.pid" pid
  [[ -f $f ]] || { log "$1: not started by this script"; return 0; }
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $1 (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then log "$1 still running: SIGKILL"; kill -9 "$pid" || true; fi
  fi
  rm -f "$f"
}

REBUILD=0
case "${1:-}" in
  --stop) stop_pidfile dockerd; stop_pidfile registry; exit 0 ;;
  --rebuild) REBUILD=1 ;;
  "") ;;
  -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) die "unknown option: $1 (use --stop, --rebuild or nothing)" ;;
esac
mkdir -p "$RUN_DIR" "$CACHE_DIR"

# ---------------------------------------------------------------------------------------------------
# 1. packages
PKGS=(docker.io docker-registry busybox-static debootstrap iptables ca-certificates curl iproute2 tar util-linux
      runc crun conmon tini attr nftables procps)   # second line: the native runtime
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  # Keep package scripts from starting docker/containerd/registry with their default configs.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  apt-get update -q >/tmp/tscompose-apt.log 2>&1 || { tail -20 /tmp/tscompose-apt.log >&2; die "apt-get update failed"; }
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/tscompose-apt.log 2>&1; then
    tail -30 /tmp/tscompose-apt.log >&2; ((created_policy)) && rm -f /usr/sbin/policy-rc.d
    die "apt-get install failed (log: /tmp/tscompose-apt.log)"
  fi
  ((created_policy)) && rm -f /usr/sbin/policy-rc.d
  log "packages installed"
else
  log "packages present"
fi

# ---------------------------------------------------------------------------------------------------
# helpers: IPv4 CIDR overlap, used to pick docker's subnets
ip2int() { local IFS=.; local a b c d; read -r a b c d <<<"$1"; echo $(((a << 24) | (b << 16) | (c << 8) | d)); }
cidr_overlap() { # a/len b/len -> 0 when they overlap
  local na=${1%/*} la=${1#*/} nb=${2%/*} lb=${2#*/} m mask
  [[ $1 == */* ]] || la=32
  [[ $2 == */* ]] || lb=32
  m=$((la < lb ? la : lb))
  ((m == 0)) && return 0
  mask=$(((0xffffffff << (32 - m)) & 0xffffffff))
  (($(($(ip2int "$na") & mask)) == $(($(ip2int "$nb") & mask))))
}
DOCKER_IFACES='^(docker0|docker_gwbridge|br-[0-9a-f]+|veth.*)$'
host_networks() { # every IPv4 prefix the host routes to or owns (docker's own bridges aside), and its resolvers
  ip -4 route show table all 2>/dev/null |
    awk -v skip="$DOCKER_IFACES" '{ for (i=1;i<NF;i++) if ($i=="dev" && $(i+1) ~ skip) next
      d=$1; if (d=="local"||d=="broadcast"||d=="unicast") d=$2; print d }' |
    grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+(/[0-9]+)?$' || true
  ip -4 -o addr show 2>/dev/null | awk -v skip="$DOCKER_IFACES" '$2 !~ skip {print $4}' || true
  awk '$1=="nameserver" && $2 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ {print $2}' /etc/resolv.conf 2>/dev/null || true
}
pick_block() { # first candidate /16 that overlaps nothing the host uses
  local cand used ok
  mapfile -t used < <(host_networks | sort -u)
  for cand in 10.213.0.0/16 10.214.0.0/16 10.113.0.0/16 192.168.0.0/16 172.29.0.0/16; do
    ok=1
    for u in "${used[@]}"; do
      [[ $u == 127.* ]] && continue
      if cidr_overlap "$cand" "$u"; then ok=0; break; fi
    done
    ((ok)) && { echo "$cand"; return 0; }
  done
  return 1
}

# ---------------------------------------------------------------------------------------------------
# 2. dockerd
docker_answers() { timeout 10 docker version >/dev/null 2>&1; }

write_daemon_json() { # -> sets DOCKERD_FLAGS for settings a foreign daemon.json lacks
  DOCKERD_FLAGS=()
  mkdir -p /etc/docker
  local managed=0
  if [[ ! -e $DAEMON_JSON ]]; then
    managed=1
  elif [[ -f $DAEMON_JSON_MARK ]] && [[ "$(sha256sum <"$DAEMON_JSON" | cut -d' ' -f1)" == "$(cat "$DAEMON_JSON_MARK")" ]]; then
    managed=1
  fi
  if ((managed)); then
    local block b1 b2
    block=$(pick_block) || die "no free private /16 for docker's bridges (host uses: $(host_networks | sort -u | tr '\n' ' '))"
    b1=$(echo "$block" | cut -d. -f1); b2=$(echo "$block" | cut -d. -f2)
    BIP="$b1.$b2.0.1/24"; POOL="$b1.$b2.128.0/17"
    cat >"$DAEMON_JSON" <<EOF
{
  "registry-mirrors": ["http://${REGISTRY}"],
  "insecure-registries": ["${REGISTRY}"],
  "bip": "${BIP}",
  "default-address-pools": [{"base": "${POOL}", "size": 24}]${STORAGE_DRIVER:+,
  \"storage-driver\": \"${STORAGE_DRIVER}\"}
}
EOF
    sha256sum <"$DAEMON_JSON" | cut -d' ' -f1 >"$DAEMON_JSON_MARK"
    log "wrote $DAEMON_JSON (bridge $BIP, address pool $POOL in /24s${STORAGE_DRIVER:+, storage $STORAGE_DRIVER})"
  else
    log "$DAEMON_JSON exists and is not ours: leaving it, adding only what it lacks as flags"
    grep -q '"registry-mirrors"' "$DAEMON_JSON" || DOCKERD_FLAGS+=(--registry-mirror "http://${REGISTRY}")
    grep -q '"insecure-registries"' "$DAEMON_JSON" || DOCKERD_FLAGS+=(--insecure-registry "${REGISTRY}")
    if [[ -n ${STORAGE_DRIVER:-} ]] && ! grep -q '"storage-driver"' "$DAEMON_JSON"; then DOCKERD_FLAGS+=(--storage-driver "$STORAGE_DRIVER"); fi
  fi
}

start_dockerd() { # returns non-zero when dockerd died or did not answer in 60 s
  write_daemon_json
  log "starting dockerd (log: $DOCKERD_LOG)"
  echo "=== $(date -u +%FT%TZ) engine-env.sh starts dockerd ${DOCKERD_FLAGS[*]:-}" >>"$DOCKERD_LOG"
  setsid nohup dockerd "${DOCKERD_FLAGS[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$RUN_DIR/dockerd.pid"
  for _ in $(seq 1 120); do
    if timeout 5 docker info >/dev/null 2>&1; then
      log "dockerd up (pid $pid, storage driver $(docker info -f '{{.Driver}}'))"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { log "dockerd exited; last log lines:"; tail -8 "$DOCKERD_LOG" | sed 's/^/    /'; rm -f "$RUN_DIR/dockerd.pid"; return 1; }
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; stopping it"
  kill "$pid" 2>/dev/null || true; sleep 2; rm -f "$RUN_DIR/dockerd.pid"
  return 1
}

if docker_answers; then
  log "dockerd already answers on ${DOCKER_HOST:-/var/run/docker.sock}"
else
  [[ -S /var/run/docker.sock ]] && rm -f /var/run/docker.sock   # stale socket of a dead daemon
  STORAGE_DRIVER=""
  if ! start_dockerd; then
    log "retrying dockerd with the vfs storage driver"
    STORAGE_DRIVER=vfs
    start_dockerd || die "dockerd does not start; see $DOCKERD_LOG"
  fi
fi
docker info 2>/dev/null | grep -q "http://${REGISTRY}" ||
  log "WARNING: the running dockerd has no registry mirror http://${REGISTRY}: plain 'docker pull' of the seeded images will not work (restart it with: $0 --stop; $0)"

# ---------------------------------------------------------------------------------------------------
# 3. registry on 127.0.0.1:$REGISTRY_PORT only
registry_answers() { curl -fsS -m 5 "http://${REGISTRY}/v2/" >/dev/null 2>&1; }
if registry_answers; then
  log "registry already answers on $REGISTRY"
else
  stop_pidfile registry >/dev/null   # ours, but not answering (e.g. an older config)
  # Debian's config.yml turns on htpasswd auth and listens on :5000; ours has no auth and listens on
  # 127.0.0.1 only. The package's file is kept as config.yml.debian.
  if ! grep -q '^# managed by tscompose' "$REGISTRY_CONFIG" 2>/dev/null ||
     ! grep -Eq "^\s*addr:\s*${REGISTRY}\s*$" "$REGISTRY_CONFIG"; then
    mkdir -p "$(dirname "$REGISTRY_CONFIG")"
    if [[ -f $REGISTRY_CONFIG ]] && ! grep -q '^# managed by tscompose' "$REGISTRY_CONFIG"; then
      cp -n "$REGISTRY_CONFIG" "$REGISTRY_CONFIG.debian"
    fi
    cat >"$REGISTRY_CONFIG" <<EOF
# managed by tscompose scripts/engine-env.sh (Debian's original: config.yml.debian)
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: ${REGISTRY}
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    log "wrote $REGISTRY_CONFIG (listen $REGISTRY, no auth)"
  fi
  mkdir -p /var/lib/docker-registry
  run_as=()
  if id docker-registry >/dev/null 2>&1; then
    chown -R docker-registry: /var/lib/docker-registry 2>/dev/null || true
    run_as=(setpriv --reuid docker-registry --regid docker-registry --init-groups)
  fi
  log "starting docker-registry on $REGISTRY (log: $REGISTRY_LOG)"
  setsid nohup "${run_as[@]}" docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
  rpid=$!
  echo "$rpid" >"$RUN_DIR/registry.pid"
  for _ in $(seq 1 60); do
    registry_answers && break
    kill -0 "$rpid" 2>/dev/null || { tail -5 "$REGISTRY_LOG" >&2; rm -f "$RUN_DIR/registry.pid"; die "docker-registry exited at start (log above, in $REGISTRY_LOG)"; }
    sleep 0.5
  done
  registry_answers || die "docker-registry does not answer on $REGISTRY; see $REGISTRY_LOG"
  log "registry up (pid $rpid)"
fi

# ---------------------------------------------------------------------------------------------------
# 4. images
WORK=$(mktemp -d /var/tmp/tscompose-build.XXXXXX)
MOUNTED=()
cleanup() {
  local m
  for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

debian_mirror() { # the first mirror apt uses for $SUITE, from sources.list and sources.list.d
  local f url
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    url=$(awk -v s="$SUITE" '$1=="deb" { i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ } if ($(i+1)==s) { print $i; exit } }' "$f")
    [[ -n $url ]] && { echo "$url"; return 0; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    url=$(awk -v s="$SUITE" '
      BEGIN { RS=""; FS="\n" }
      { uris=""; suites=""; types=""; enabled="yes"
        for (i=1;i<=NF;i++) { l=$i; if (l ~ /^#/) continue
          if (l ~ /^URIs:/) { sub(/^URIs:[ \t]*/,"",l); uris=l }
          if (l ~ /^Suites:/) { sub(/^Suites:[ \t]*/,"",l); suites=" " l " " }
          if (l ~ /^Types:/) { types=" " l " " }
          if (l ~ /^Enabled:/) { enabled=tolower(l) ~ /no/ ? "no" : "yes" } }
        if (enabled=="yes" && types ~ / deb / && index(suites, " " s " ")) { split(uris,u," "); print u[1]; exit } }' "$f")
    [[ -n $url ]] && { echo "$url"; return 0; }
  done
  return 1
}

MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json'
registry_has() { # name tag -> 0 when the registry holds it with our images version
  local cfg
  cfg=$(curl -fsS -m 10 -H "Accept: $MANIFEST_ACCEPT" "http://${REGISTRY}/v2/library/$1/manifests/$2" 2>/dev/null |
    tr -d ' \n' | grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]*') || return 1
  curl -fsS -m 10 "http://${REGISTRY}/v2/library/$1/blobs/$cfg" 2>/dev/null | grep -q "\"$VERSION_LABEL\":\"$IMAGES_VERSION\""
}
local_has() { # ref -> 0 when the local image carries our images version
  [[ "$(docker image inspect -f "{{index .Config.Labels \"$VERSION_LABEL\"}}" "$1" 2>/dev/null)" == "$IMAGES_VERSION" ]]
}

PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
import_rootfs() { # rootfs ref change...
  local r=$1 ref=$2; shift 2
  local changes=(--change "LABEL $VERSION_LABEL=$IMAGES_VERSION" --change "ENV $PATH_ENV") c
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$r" --numeric-owner -c . | docker import "${changes[@]}" - "$ref" >/dev/null
}

build_busybox() { # ref
  local r="$WORK/busybox"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/spool/cron,dev,proc,sys}
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  cp /bin/busybox "$r/bin/busybox"
  chroot "$r" /bin/busybox --install -s
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
tty:x:5:
www-data:x:33:
users:x:100:
nogroup:x:65534:
EOF
  import_rootfs "$r" "$1" 'CMD ["sh"]'
}

base_rootfs() { # -> path of the cached debootstrap minbase tarball
  local tarball="$CACHE_DIR/debian-$SUITE-minbase.tar"
  if [[ -f $tarball && $REBUILD -eq 0 ]]; then echo "$tarball"; return 0; fi
  local mirror include=() r="$WORK/base"
  mirror=$(debian_mirror) || die "cannot find the Debian mirror for $SUITE in /etc/apt/sources.list{,.d/*}"
  [[ $mirror == https:* ]] && include=(--include=ca-certificates)
  log "debootstrap --variant=minbase $SUITE from $mirror (a few minutes)" >&2
  if ! debootstrap --variant=minbase "${include[@]}" "$SUITE" "$r" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
    tail -20 "$WORK/debootstrap.log" >&2; cp "$WORK/debootstrap.log" /tmp/tscompose-debootstrap.log
    die "debootstrap failed (log: /tmp/tscompose-debootstrap.log)"
  fi
  tar -C "$r" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$r"
  echo "$tarball"
}

debian_image_rootfs() { # dir packages... : base rootfs + packages, slimmed
  local r=$1; shift
  local base; base=$(base_rootfs)
  mkdir -p "$r"; tar -C "$r" -xf "$base"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod +x "$r/usr/sbin/policy-rc.d"
  mount -t proc proc "$r/proc"; MOUNTED+=("$r/proc")
  if ! { chroot "$r" apt-get update -q && chroot "$r" apt-get install -y -q --no-install-recommends "$@"; } >"$WORK/apt-$$.log" 2>&1; then
    tail -20 "$WORK/apt-$$.log" >&2; die "installing $* in the image rootfs failed"
  fi
  chroot "$r" apt-get clean
  umount "$r/proc"
  rm -f "$r/usr/sbin/policy-rc.d"
  : >"$r/etc/resolv.conf"
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/debconf/*-old "$r"/var/log/* \
    "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/lintian \
    "$r"/usr/share/locale/* "$r"/tmp/* "$r"/root/.cache 2>/dev/null || true
  find "$r/usr/share/i18n/locales" -mindepth 1 -maxdepth 1 ! -name 'C' ! -name 'POSIX' -exec rm -rf {} + 2>/dev/null || true
}

build_python() { # ref
  local r="$WORK/python"
  debian_image_rootfs "$r" python3 python3-flask python3-redis
  mkdir -p "$r/usr/local/bin"
  ln -sf /usr/bin/python3 "$r/usr/local/bin/python"
  ln -sf /usr/bin/python3 "$r/usr/local/bin/python3"
  import_rootfs "$r" "$1" 'ENV LANG=C.UTF-8' 'ENV PYTHONUNBUFFERED=1' 'CMD ["python3"]'
}

build_redis() { # ref
  local r="$WORK/redis"
  debian_image_rootfs "$r" redis-server
  mkdir -p "$r/data"
  import_rootfs "$r" "$1" 'WORKDIR /data' 'EXPOSE 6379' 'CMD ["redis-server", "--protected-mode", "no"]'
}

ensure_image() { # name builder tag... : build (or load from cache), tag as NAME:TAG, push to the registry
  local name=$1 builder=$2; shift 2
  local tags=("$@") t need=0 ref
  ref="$name:${tags[0]}"
  if ((REBUILD == 0)); then
    for t in "${tags[@]}"; do registry_has "$name" "$t" || need=1; done
    if ((need == 0)); then log "$name:{$(IFS=,; echo "${tags[*]}")}: already in the registry"; return 0; fi
  fi
  local cache="$CACHE_DIR/image-$name-${tags[0]}.tar"
  if ((REBUILD == 0)) && local_has "$ref"; then
    log "$ref: local image present"
  elif ((REBUILD == 0)) && [[ -f $cache ]]; then
    log "$ref: loading cached $cache"
    docker load -q -i "$cache" >/dev/null
  else
    log "$ref: building"
    "$builder" "$ref"
    docker save -o "$cache.tmp" "$ref" && mv "$cache.tmp" "$cache"
  fi
  for t in "${tags[@]}"; do
    docker tag "$ref" "$name:$t"
    docker tag "$ref" "$REGISTRY/library/$name:$t"
    docker push -q "$REGISTRY/library/$name:$t" >/dev/null || die "docker push $REGISTRY/library/$name:$t failed"
  done
  log "$name:{$(IFS=,; echo "${tags[*]}")}: pushed ($(docker image inspect -f '{{.Size}}' "$ref" | awk '{printf "%.1f MB", $1/1e6}'))"
}

ensure_image busybox build_busybox latest 1.36
ensure_image python build_python 3.11-slim
ensure_image redis build_redis 7

# ---------------------------------------------------------------------------------------------------
# 5. prove that a plain pull goes through the mirror: drop every local name of busybox (the image itself
#    too, unless a container uses it), pull by its Docker Hub name, and see the request in the registry log
bb_names=(busybox:latest busybox:1.36 "$REGISTRY/library/busybox:latest" "$REGISTRY/library/busybox:1.36")
bb_id=$(docker image inspect -f '{{.Id}}' busybox:latest 2>/dev/null || true)
docker rmi "${bb_names[@]}" >/dev/null 2>&1 || docker rmi -f busybox:latest >/dev/null 2>&1 || true
docker image inspect busybox:latest >/dev/null 2>&1 && die "could not remove the local busybox:latest tag"
bb_state="no local image"
[[ -n $bb_id ]] && docker image inspect "$bb_id" >/dev/null 2>&1 && bb_state="tag removed, image kept: a container uses it"
seen_before=$(grep -c '/v2/library/busybox/manifests/latest ' "$REGISTRY_LOG" 2>/dev/null || true)
if ! docker pull -q busybox:latest >/dev/null 2>"$WORK/pull.err"; then
  cat "$WORK/pull.err" >&2
  die "'docker pull busybox:latest' through the mirror http://${REGISTRY} failed"
fi
seen_after=$(grep -c '/v2/library/busybox/manifests/latest ' "$REGISTRY_LOG" 2>/dev/null || true)
for t in "${bb_names[@]:1}"; do docker tag busybox:latest "$t"; done
if [[ -f $REGISTRY_LOG ]] && ((${seen_after:-0} <= ${seen_before:-0})); then
  log "WARNING: busybox:latest pulled, but the registry at $REGISTRY did not see the request"
else
  log "verified: 'docker pull busybox:latest' ($bb_state) works through the mirror http://${REGISTRY}"
fi
log "ready: dockerd on /var/run/docker.sock, registry $REGISTRY seeded (busybox:latest, busybox:1.36, python:3.11-slim, redis:7)"
