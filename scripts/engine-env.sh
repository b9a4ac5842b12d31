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
#      python3-flask and python3-redis: there is no PyPI here), redis:7 (Debian's redis-server) and
#      debian:bookworm-slim (also bookworm, 12-slim, 12; apt set up for the host's mirror), then `docker build`s
#      scripts/images/DIR/Dockerfile (FROM debian:bookworm-slim + RUN apt-get install, one at a time) and pushes
#      mysql:8 (MariaDB; also mysql:8.0, mariadb:10, mariadb:10.11), nginx:1 (1.22, latest), php:8-fpm
#      (8.2-fpm), python:3.11 (3; with Django, gunicorn and the MySQL drivers), node:18 (18-slim), ruby:3 (3.1);
#      plain `docker pull NAME:TAG` then works through the mirror.
# The images' root filesystems come from scripts/debian-images.sh, shared with scripts/native-images.sh
# (the same images for the native runtime, with no Docker); they are `docker import`ed from tarballs cached
# under /var/cache/tscompose/<images version>/, so a second run is fast; a built image whose label (the images
# version and a hash of its scripts/images directory) is already in the registry is not built again.
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

REGISTRY_PORT="${TSCOMPOSE_REGISTRY_PORT:-5001}"
REGISTRY="127.0.0.1:${REGISTRY_PORT}"
RUN_DIR=/run/tscompose
DOCKERD_LOG=/var/log/tscompose-dockerd.log
REGISTRY_LOG=/var/log/tscompose-registry.log
DAEMON_JSON=/etc/docker/daemon.json
DAEMON_JSON_MARK=/etc/docker/daemon.json.tscompose   # present (holding our file's sha256) = managed by us
REGISTRY_CONFIG=/etc/docker/registry/config.yml
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
# IMAGES_VERSION, CACHE_DIR, VERSION_LABEL, IMAGE_SPECS, install_packages, ensure_rootfs, change_args, images_cleanup
# shellcheck source=scripts/debian-images.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-images.sh"
trap images_cleanup EXIT
mkdir -p "$RUN_DIR" "$CACHE_DIR"

# ---------------------------------------------------------------------------------------------------
# 1. packages
PKGS=(docker.io docker-registry busybox-static debootstrap iptables ca-certificates curl iproute2 tar util-linux
      runc crun conmon tini attr nftables procps)   # second line: the native runtime
install_packages "${PKGS[@]}"

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
  # A pid file left by a daemon that is gone (a machine restored or rebooted without a clean stop): dockerd refuses
  # to start while it exists, and that refusal must not look like a storage driver failure (it once made this
  # script fall back to vfs, whose switch left BuildKit's cache pointing at the other driver's layers).
  if [[ -f /var/run/docker.pid ]]; then
    stale_pid=$(cat /var/run/docker.pid 2>/dev/null || true)
    if [[ -z $stale_pid ]] || ! kill -0 "$stale_pid" 2>/dev/null || [[ "$(cat "/proc/$stale_pid/comm" 2>/dev/null)" != dockerd ]]; then
      log "removing the stale /var/run/docker.pid (pid ${stale_pid:-none} is not a running dockerd)"
      rm -f /var/run/docker.pid
    fi
  fi
  STORAGE_DRIVER=""
  if ! start_dockerd; then
    # Only a storage driver failure (overlayfs unavailable, e.g. on an overlay root) is worth the vfs retry.
    if ! tail -20 "$DOCKERD_LOG" | grep -qiE 'overlay|storage|driver|graphdriver'; then die "dockerd does not start; see $DOCKERD_LOG"; fi
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
MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json'
registry_has() { # name tag [version] -> 0 when the registry holds it with that images version (default ours)
  local cfg v=${3:-$IMAGES_VERSION}
  cfg=$(curl -fsS -m 10 -H "Accept: $MANIFEST_ACCEPT" "http://${REGISTRY}/v2/library/$1/manifests/$2" 2>/dev/null |
    tr -d ' \n' | grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]*') || return 1
  curl -fsS -m 10 "http://${REGISTRY}/v2/library/$1/blobs/$cfg" 2>/dev/null | grep -q "\"$VERSION_LABEL\":\"$v\""
}
local_has() { # ref [version] -> 0 when the local image carries that images version (default ours)
  [[ "$(docker image inspect -f "{{index .Config.Labels \"$VERSION_LABEL\"}}" "$1" 2>/dev/null)" == "${2:-$IMAGES_VERSION}" ]]
}

ensure_image() { # name builder tag... : import the cached rootfs (built when missing) as NAME:TAG, push to the registry
  local name=$1 builder=$2; shift 2
  local tags=("$@") t need=0 ref
  ref="$name:${tags[0]}"
  if ((REBUILD == 0)); then
    for t in "${tags[@]}"; do registry_has "$name" "$t" || need=1; done
    if ((need == 0)); then log "$name:{$(IFS=,; echo "${tags[*]}")}: already in the registry"; return 0; fi
  fi
  if ((REBUILD == 0)) && local_has "$ref"; then
    log "$ref: local image present"
  else
    ensure_rootfs "$name" "${tags[0]}" "$builder"
    change_args "$name" "${tags[0]}"
    log "$ref: docker import $(rootfs_tarball "$name" "${tags[0]}")"
    docker import "${CHANGE_ARGS[@]}" "$(rootfs_tarball "$name" "${tags[0]}")" "$ref" >/dev/null
  fi
  for t in "${tags[@]}"; do
    docker tag "$ref" "$name:$t"
    docker tag "$ref" "$REGISTRY/library/$name:$t"
    docker push -q "$REGISTRY/library/$name:$t" >/dev/null || die "docker push $REGISTRY/library/$name:$t failed"
  done
  log "$name:{$(IFS=,; echo "${tags[*]}")}: pushed ($(docker image inspect -f '{{.Size}}' "$ref" | awk '{printf "%.1f MB", $1/1e6}'))"
}

for spec in "${IMAGE_SPECS[@]}"; do
  read -r name tag_list builder <<<"$spec"
  IFS=, read -r -a tags <<<"$tag_list"
  ensure_image "$name" "$builder" "${tags[@]}"
done

# images built from scripts/images/DIR/Dockerfile (FROM debian:bookworm-slim, RUN apt-get install …) by docker
# build, one at a time, tagged under their other names and pushed
for spec in "${BUILT_SPECS[@]}"; do
  read -r dir ref_list <<<"$spec"
  IFS=, read -r -a refs <<<"$ref_list"
  version=$(built_version "$dir")
  need=0
  for r in "${refs[@]}"; do registry_has "${r%%:*}" "${r#*:}" "$version" || need=1; done
  if ((REBUILD == 0 && need == 0)); then log "$ref_list: already in the registry"; continue; fi
  if ((REBUILD == 0)) && local_has "${refs[0]}" "$version"; then
    log "${refs[0]}: local image present"
  else
    no_cache=(); ((REBUILD)) && no_cache=(--no-cache)
    log "${refs[0]}: docker build scripts/images/$dir (log: /tmp/tscompose-image-$dir.log)"
    t0=$SECONDS
    if ! docker build "${no_cache[@]}" --label "$VERSION_LABEL=$version" -t "${refs[0]}" "$IMAGES_SRC/$dir" >"/tmp/tscompose-image-$dir.log" 2>&1; then
      tail -30 "/tmp/tscompose-image-$dir.log" >&2
      die "${refs[0]}: docker build failed (log: /tmp/tscompose-image-$dir.log)"
    fi
    log "${refs[0]}: built in $((SECONDS - t0)) s"
  fi
  for r in "${refs[@]}"; do
    docker tag "${refs[0]}" "$r"
    docker tag "${refs[0]}" "$REGISTRY/library/$r"
    docker push -q "$REGISTRY/library/$r" >/dev/null || die "docker push $REGISTRY/library/$r failed"
  done
  log "$ref_list: pushed ($(docker image inspect -f '{{.Size}}' "${refs[0]}" | awk '{printf "%.1f MB", $1/1e6}'))"
done

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
images_work
if ! docker pull -q busybox:latest >/dev/null 2>"$IMAGES_WORK/pull.err"; then
  cat "$IMAGES_WORK/pull.err" >&2
  die "'docker pull busybox:latest' through the mirror http://${REGISTRY} failed"
fi
seen_after=$(grep -c '/v2/library/busybox/manifests/latest ' "$REGISTRY_LOG" 2>/dev/null || true)
for t in "${bb_names[@]:1}"; do docker tag busybox:latest "$t"; done
if [[ -f $REGISTRY_LOG ]] && ((${seen_after:-0} <= ${seen_before:-0})); then
  log "WARNING: busybox:latest pulled, but the registry at $REGISTRY did not see the request"
else
  log "verified: 'docker pull busybox:latest' ($bb_state) works through the mirror http://${REGISTRY}"
fi
log "ready: dockerd on /var/run/docker.sock, registry $REGISTRY seeded (busybox:latest, busybox:1.36, python:3.11-slim, redis:7, debian:bookworm-slim (bookworm, 12-slim, 12), $(for s in "${BUILT_SPECS[@]}"; do printf '%s ' "${s#* }"; done| sed 's/ $//'))"
