#!/usr/bin/env bash
# Base images for the native runtime (`tscompose --runtime native`), with no Docker Engine and no registry.
#
# On a Debian bookworm machine, as root, with no network but Debian's package mirror:
#   1. installs what the native runtime and the image production need when missing: runc, crun, conmon,
#      tini, attr, nftables, iproute2, util-linux, procps; debootstrap, busybox-static; curl (the demo's client);
#   2. imports into the native image store (TSCOMPOSE_STATE_DIR, default /var/lib/tscompose), under the
#      Docker Hub names the examples and tests use, images built from Debian packages only: busybox:latest
#      and busybox:1.36, python:3.11-slim (Debian's python3 with python3-flask and python3-redis: there is
#      no PyPI here) and redis:7 — each a root filesystem tarball made by scripts/debian-images.sh and
#      imported with `tscompose --runtime native image import --change … FILE NAME`, as `docker import`;
#      debian:bookworm-slim (also bookworm, 12-slim, 12) the same way, with apt set up for the host's mirror;
#   3. builds with the native builder (`tscompose --runtime native build`, one at a time) the images of
#      scripts/images/DIR/Dockerfile, FROM debian:bookworm-slim + RUN apt-get install: mysql:8 (MariaDB, also
#      mysql:8.0, mariadb:10, mariadb:10.11), nginx:1 (1.22, latest), php:8-fpm (8.2-fpm), python:3.11 (3; with
#      Django, gunicorn and the MySQL drivers), node:18 (18-slim), ruby:3 (3.1) — see BUILT_SPECS.
# An image already in the store with the same images version (its label org.tscompose.images-version) is
# skipped; the tarballs are cached under /var/cache/tscompose/<images version>/ (shared with
# scripts/engine-env.sh), so a second run takes seconds (the first about 5 minutes more for the builds).
#
# Usage: scripts/native-images.sh              set up (idempotent)
#        scripts/native-images.sh --base-only  steps 1 and 2 only (what the flask+redis demo needs)
#        scripts/native-images.sh --rebuild    rebuild the tarballs and re-import (ignores caches)
# Env:   TSCOMPOSE_STATE_DIR (the native store), TSCOMPOSE_CACHE_DIR (default /var/cache/tscompose),
#        TSCOMPOSE_BIN (default bin/tscompose of this checkout; it must be built: npm run build)
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="${PATH:+$PATH:}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"   # the caller's first

START=$SECONDS
log() { printf '[native-images %3ss] %s\n' "$((SECONDS - START))" "$*"; }
die() { printf '[native-images] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; printf "[native-images] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR

REBUILD=0
BASE_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    --base-only) BASE_ONLY=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option: $arg (use --rebuild, --base-only or nothing)" ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages, builds root filesystems and writes the native store)"

# shellcheck source=scripts/debian-images.sh
source "$ROOT/scripts/debian-images.sh"
trap images_cleanup EXIT

# ---------------------------------------------------------------------------------------------------
# 1. packages: the native runtime's (OCI runtimes, conmon, tini for init: true, xattrs for the overlay
#    store, nft for published ports, ip for networks, mount/nsenter, ps for top) and the images' own
install_packages runc crun conmon tini attr nftables iproute2 util-linux procps tar ca-certificates \
  debootstrap busybox-static curl

# ---------------------------------------------------------------------------------------------------
# 2. images
TSC=("${TSCOMPOSE_BIN:-$ROOT/bin/tscompose}" --runtime native)
command -v node >/dev/null || die "node is missing (Node.js >= 20.19)"
if [[ -z ${TSCOMPOSE_BIN:-} && ! -f $ROOT/dist/tscompose.cjs && ! -f $ROOT/dist/cli/main.js ]]; then
  die "tscompose is not built: run npm run build first"
fi

native_has() { # ref [version] -> 0 when the native store holds it with that images version (default ours)
  local v=${2:-$IMAGES_VERSION}
  "${TSC[@]}" image inspect "$1" 2>/dev/null | grep -Eq "\"${VERSION_LABEL//./\\.}\": *\"${v//./\\.}\""
}

for spec in "${IMAGE_SPECS[@]}"; do
  read -r name tag_list builder <<<"$spec"
  IFS=, read -r -a tags <<<"$tag_list"
  ref="$name:${tags[0]}"
  refs=$name:$tag_list; if [[ $tag_list == *,* ]]; then refs="$name:{$tag_list}"; fi
  present=() missing=()
  for t in "${tags[@]}"; do
    if ((REBUILD == 0)) && native_has "$name:$t"; then present+=("$t"); else missing+=("$t"); fi
  done
  if ((${#missing[@]} == 0)); then log "$refs: already in the native store"; continue; fi
  if ((${#present[@]})); then # another tag of the same image is there: name it, no import
    for t in "${missing[@]}"; do "${TSC[@]}" image tag "$name:${present[0]}" "$name:$t"; done
    log "$refs: tagged $name:${present[0]} as $(IFS=,; echo "${missing[*]}")"
    continue
  fi
  ensure_rootfs "$name" "${tags[0]}" "$builder"
  change_args "$name" "${tags[0]}"
  id=$("${TSC[@]}" image import "${CHANGE_ARGS[@]}" "$(rootfs_tarball "$name" "${tags[0]}")" "$ref")
  for t in "${tags[@]:1}"; do "${TSC[@]}" image tag "$ref" "$name:$t"; done
  native_has "$ref" || die "$ref: imported ($id) but image inspect does not show $VERSION_LABEL=$IMAGES_VERSION"
  log "$refs: imported (${id:7:12})"
done

# ---------------------------------------------------------------------------------------------------
# 3. images built from scripts/images/DIR/Dockerfile (FROM debian:bookworm-slim, RUN apt-get install …) by the
#    native builder, one at a time, then tagged under their other names
((BASE_ONLY)) && BUILT_SPECS=()
for spec in "${BUILT_SPECS[@]}"; do
  read -r dir ref_list <<<"$spec"
  IFS=, read -r -a refs <<<"$ref_list"
  version=$(built_version "$dir")
  present=() missing=()
  for r in "${refs[@]}"; do
    if ((REBUILD == 0)) && native_has "$r" "$version"; then present+=("$r"); else missing+=("$r"); fi
  done
  if ((${#missing[@]} == 0)); then log "$ref_list: already in the native store"; continue; fi
  if ((${#present[@]} == 0)); then
    images_work
    compose="$IMAGES_WORK/build-$dir.yaml"
    cat >"$compose" <<EOF
services:
  image:
    image: ${refs[0]}
    build:
      context: $IMAGES_SRC/$dir
      labels:
        $VERSION_LABEL: "$version"
EOF
    no_cache=(); ((REBUILD)) && no_cache=(--no-cache)
    log "${refs[0]}: building scripts/images/$dir (log: /tmp/tscompose-image-$dir.log)"
    t0=$SECONDS
    if ! "${TSC[@]}" --progress plain -f "$compose" -p tscompose-images build "${no_cache[@]}" image >"/tmp/tscompose-image-$dir.log" 2>&1; then
      tail -30 "/tmp/tscompose-image-$dir.log" >&2
      die "${refs[0]}: the build failed (log: /tmp/tscompose-image-$dir.log)"
    fi
    native_has "${refs[0]}" "$version" || die "${refs[0]}: built but image inspect does not show $VERSION_LABEL=$version"
    log "${refs[0]}: built in $((SECONDS - t0)) s"
    present=("${refs[0]}")
  fi
  for r in "${missing[@]}"; do [[ $r == "${present[0]}" ]] || "${TSC[@]}" image tag "${present[0]}" "$r"; done
  log "$ref_list: in the native store"
done
log "ready in the native store (${TSCOMPOSE_STATE_DIR:-/var/lib/tscompose}): busybox:latest, busybox:1.36, python:3.11-slim, redis:7, debian:bookworm-slim (bookworm, 12-slim, 12), $(for s in "${BUILT_SPECS[@]}"; do printf '%s ' "${s#* }"; done)"
