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
#      plain `docker pull NAME:TAG` then works through the mirror;
#   5. (right after 1.) on a hybrid cgroup host whose cgroup2 mount holds only `hugetlb`, used by no cgroup, gives
#      hugetlb a v1 hierarchy at /sys/fs/cgroup/hugetlb so that crun can run there (section "hugetlb" below).
# The images' root filesystems come from scripts/debian-images.sh, shared with scripts/native-images.sh
# (the same images for the native runtime, with no Docker); they are `docker import`ed from tarballs cached
# under /var/cache/tscompose/<images version>/, so a second run is fast; a built image whose label (the images
# version and a hash of its scripts/images directory) is already in the registry is not built again.
#
# Usage: scripts/engine-env.sh            set up (idempotent)
#        scripts/engine-env.sh --stop     stop the dockerd and registry this script started, and unmount the
#                                         hugetlb hierarchy it mounted (when no cgroup in it has a process)
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

# ---------------------------------------------------------------------------------------------------------------------
# hugetlb: a cgroup v1 hierarchy of its own, so that crun can run on this kind of hybrid host (issue 16).
#
# The project's Debian machines boot with hybrid cgroups: every controller on a v1 hierarchy under the
# /sys/fs/cgroup tmpfs, except `hugetlb`, which no v1 hierarchy was mounted for and so stays on the cgroup2 mount
# at /sys/fs/cgroup/unified. crun 1.8 refuses any hybrid host whose unified/cgroup.controllers is not empty
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2", whatever its cgroup manager); runc
# 1.1 runs (it treats the host as v1). Mounting a v1 hierarchy for hugetlb empties the cgroup2 mount's controllers,
# and crun runs (the native runtime then picks it: src/runtime/native/oci/oci-choice.ts).
#
# How the kernel does it (tried on this kernel, 6.x): `mount -t cgroup -o hugetlb cgroup DIR` moves the controller
# from the cgroup2 (default) hierarchy to a new v1 one, machine-wide (not per mount namespace). By the kernel's
# rebind_subsystems (not tried) it refuses, EBUSY, while the controller is in use on v2: enabled in a
# cgroup.subtree_control, i.e. with cgroups of its own below the root; the script does not try then. Unmounting the v1 hierarchy gives the controller back to cgroup2, but only once the hierarchy has no cgroup
# but its root: with a child cgroup left (runc/crun make /tscompose/<id> and /docker/<id> in every v1 hierarchy,
# and keep the empty parents), the hierarchy outlives the unmount, invisible, and hugetlb stays off cgroup2.
# What it changes: hugetlb limits (which nothing here sets) are v1 files; new containers of Docker, runc and crun get
# a hugetlb cgroup; containers already running are untouched; Docker keeps working (checked: `docker run -m 48m`
# runs, its memory.limit_in_bytes is 48 MiB). The undo was tried on a v1-only controller (net_cls) mounted in a
# private mount namespace: empty children removed, unmounted, the controller unbound again.
#
# Safe, and done, only when: root (the script is); /sys/fs/cgroup is a v1 tmpfs with a cgroup2 mount at unified
# whose cgroup.controllers is exactly `hugetlb`; no cgroup.subtree_control under it enables hugetlb; no v1 hierarchy
# of hugetlb exists yet. Otherwise nothing is changed and the reason is logged. Idempotent: a hugetlb hierarchy
# already mounted at /sys/fs/cgroup/hugetlb is left as it is. The change is made holding the native tests' lock
# (flock -x /tmp/tscompose-native.lock, at most 2 min, else skipped this time): the OCI runtime new native
# containers get changes with it (containers made before stay with theirs: oci-runtime.ts forContainer).
#
# Undo (--stop), only when this script mounted it (marker $HUGETLB_MARK): if no cgroup of the hierarchy has a
# process, remove its empty cgroups (deepest first; rmdir fails on a cgroup in use), wait until the kernel has
# released them (/proc/cgroups counts only the root), unmount it, remove the mount point if the script made it,
# and check that hugetlb is back on cgroup2 (/proc/cgroups hierarchy 0); a cgroup with processes (a running
# container) leaves it mounted, logged. If the hierarchy outlived the unmount (a cgroup made meanwhile) it is
# mounted again, so it stays visible, and the marker is kept.
HUGETLB_MNT=/sys/fs/cgroup/hugetlb
HUGETLB_MARK="$RUN_DIR/hugetlb-v1.mounted"   # holds "made-dir=0|1"
UNIFIED=/sys/fs/cgroup/unified
NATIVE_LOCK=/tmp/tscompose-native.lock

hugetlb_hierarchy() { awk '$1 == "hugetlb" { print $2 }' /proc/cgroups; }   # 0: on cgroup2 (or unused)
hugetlb_cgroups() { awk '$1 == "hugetlb" { print $3 }' /proc/cgroups; }     # cgroups of its hierarchy, root included
hugetlb_mounted() { findmnt -n -t cgroup -o OPTIONS --mountpoint "$HUGETLB_MNT" 2>/dev/null | grep -qw hugetlb; }

hugetlb_v1_setup() {
  local ctrls enabled made=0 fd
  if hugetlb_mounted; then
    if [[ -f $HUGETLB_MARK ]]; then log "hugetlb: v1 hierarchy at $HUGETLB_MNT already mounted by this script (crun can run)"
    else log "hugetlb: a v1 hierarchy is already mounted at $HUGETLB_MNT (not by this script): left as it is"; fi
    return 0
  fi
  if mountpoint -q "$HUGETLB_MNT" 2>/dev/null || { [[ -e $HUGETLB_MNT ]] && [[ ! -d $HUGETLB_MNT ]]; }; then
    log "hugetlb: something else is at $HUGETLB_MNT: left as it is; the native runtime uses runc"
    return 0
  fi
  if [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != tmpfs ]]; then
    log "hugetlb: /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo missing), not a hybrid layout: nothing to do"
    return 0
  fi
  if [[ "$(stat -fc %T "$UNIFIED" 2>/dev/null)" != cgroup2fs ]]; then
    log "hugetlb: no cgroup2 mount at $UNIFIED (plain cgroup v1, which crun accepts): nothing to do"
    return 0
  fi
  ctrls=$(tr -s ' \n' ' ' <"$UNIFIED/cgroup.controllers" | sed 's/^ //; s/ $//')
  if [[ -z $ctrls ]]; then log "hugetlb: the cgroup2 mount at $UNIFIED holds no controller (crun can run): nothing to do"; return 0; fi
  if [[ $ctrls != hugetlb ]]; then
    log "hugetlb: left as it is (unsafe): the cgroup2 mount at $UNIFIED holds '$ctrls', not only hugetlb; the native runtime uses runc"
    return 0
  fi
  enabled=$(find "$UNIFIED" -name cgroup.subtree_control -exec grep -lw hugetlb {} + 2>/dev/null | head -3 | tr '\n' ' ' || true)
  if [[ -n $enabled ]]; then
    log "hugetlb: left as it is (unsafe): cgroups on cgroup2 use it (enabled in ${enabled% }); the native runtime uses runc"
    return 0
  fi
  if [[ "$(hugetlb_hierarchy)" != 0 ]]; then
    log "hugetlb: left as it is: it already has a v1 hierarchy (id $(hugetlb_hierarchy)) mounted elsewhere"
    return 0
  fi
  exec {fd}>>"$NATIVE_LOCK"
  if ! flock -x -w 120 "$fd"; then
    exec {fd}>&-
    log "hugetlb: native tests held $NATIVE_LOCK for 2 min: not moved this time (run the script again); the native runtime uses runc"
    return 0
  fi
  [[ -d $HUGETLB_MNT ]] || { mkdir "$HUGETLB_MNT" && made=1; }
  if mount -t cgroup -o hugetlb cgroup "$HUGETLB_MNT" 2>"$RUN_DIR/hugetlb-mount.err"; then
    echo "made-dir=$made" >"$HUGETLB_MARK"
    log "hugetlb: mounted a v1 hierarchy at $HUGETLB_MNT (cgroup2 now holds: [$(cat "$UNIFIED/cgroup.controllers")]): crun can run; undo: $0 --stop"
  else
    ((made)) && rmdir "$HUGETLB_MNT"
    log "hugetlb: mount -t cgroup -o hugetlb failed ($(cat "$RUN_DIR/hugetlb-mount.err")): left on cgroup2; the native runtime uses runc"
  fi
  rm -f "$RUN_DIR/hugetlb-mount.err"
  exec {fd}>&-
}

hugetlb_v1_undo() {
  local made busy=() left fd
  if [[ ! -f $HUGETLB_MARK ]]; then log "hugetlb: no v1 hierarchy mounted by this script"; return 0; fi
  made=$(sed -n 's/^made-dir=//p' "$HUGETLB_MARK")
  if ! hugetlb_mounted; then
    log "hugetlb: $HUGETLB_MNT is no longer mounted"
    rm -f "$HUGETLB_MARK"
    [[ $made == 1 ]] && rmdir "$HUGETLB_MNT" 2>/dev/null
    return 0
  fi
  exec {fd}>>"$NATIVE_LOCK"
  if ! flock -x -w 120 "$fd"; then
    exec {fd}>&-
    log "hugetlb: native tests held $NATIVE_LOCK for 2 min: left mounted (run --stop again)"
    return 0
  fi
  mapfile -t busy < <(find "$HUGETLB_MNT" -mindepth 2 -name cgroup.procs -exec grep -l . {} + 2>/dev/null | sed 's|/cgroup.procs$||' || true)
  if ((${#busy[@]} > 0)); then
    exec {fd}>&-
    log "hugetlb: left mounted: ${#busy[@]} of its cgroups have processes (running containers), e.g. ${busy[0]}; stop them, then $0 --stop"
    return 0
  fi
  find "$HUGETLB_MNT" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
  left=$(find "$HUGETLB_MNT" -mindepth 1 -type d | head -5 | tr '\n' ' ')
  if [[ -n $left ]]; then
    exec {fd}>&-
    log "hugetlb: left mounted: cgroups that would not go: ${left% }"
    return 0
  fi
  # A removed cgroup is released asynchronously (RCU); unmounted before that, the hierarchy would outlive the unmount.
  for _ in $(seq 1 50); do [[ "$(hugetlb_cgroups)" == 1 ]] && break; sleep 0.1; done
  umount "$HUGETLB_MNT"
  for _ in $(seq 1 50); do [[ "$(hugetlb_hierarchy)" == 0 ]] && break; sleep 0.1; done
  if [[ "$(hugetlb_hierarchy)" != 0 ]]; then
    # a cgroup was made between the check and the unmount, or the hierarchy is mounted elsewhere too: it lives on
    mount -t cgroup -o hugetlb cgroup "$HUGETLB_MNT" || true
    exec {fd}>&-
    log "hugetlb: the v1 hierarchy outlived the unmount (in use meanwhile, or mounted elsewhere): mounted again at $HUGETLB_MNT; run --stop again"
    return 0
  fi
  [[ $made == 1 ]] && rmdir "$HUGETLB_MNT"
  rm -f "$HUGETLB_MARK"
  exec {fd}>&-
  log "hugetlb: unmounted $HUGETLB_MNT; back on cgroup2 (unified holds: [$(cat "$UNIFIED/cgroup.controllers")]): crun cannot run, the native runtime uses runc"
}

REBUILD=0
case "${1:-}" in
  --stop) stop_pidfile dockerd; stop_pidfile registry; hugetlb_v1_undo; exit 0 ;;
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

# ---------------------------------------------------------------------------------------------------------------------
# 1b. cgroups: hugetlb on a v1 hierarchy of its own when that is safe, so that crun can run (see "hugetlb" above)
hugetlb_v1_setup

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
