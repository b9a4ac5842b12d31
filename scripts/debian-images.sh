# shellcheck shell=bash
# Base images from Debian packages, shared by scripts/native-images.sh (native store, no Docker) and
# scripts/engine-env.sh (Docker Engine + local registry). Sourced, not run; the caller defines log and die.
#
# Each image is a root filesystem tarball plus its `--change` list (Dockerfile instructions, one a line),
# both cached under $CACHE_DIR, which is what `docker import --change … FILE NAME` and
# `tscompose --runtime native image import --change … FILE NAME` take:
#   busybox:latest, busybox:1.36   Debian's busybox-static and its applet links
#   python:3.11-slim               debootstrap's minbase bookworm + python3, python3-flask, python3-redis
#                                  (there is no PyPI here), /usr/local/bin/python -> python3
#   redis:7                        the same base + redis-server, run as `redis-server --protected-mode no`
#   debian:bookworm-slim, debian:bookworm, debian:12-slim, debian:12
#                                  the minbase itself, slimmed as Docker Hub's debian:*-slim (dpkg leaves docs
#                                  out, apt cleans its cache, policy-rc.d keeps services from starting), with apt
#                                  sources for the mirror the host uses: `apt-get update && apt-get install` work
# Images built from Dockerfiles FROM debian:bookworm-slim (scripts/images/DIR/Dockerfile, RUN apt-get install …)
# are listed in BUILT_SPECS; each caller builds them with its own builder (docker build; tscompose --runtime
# native build) after the images above. Their label value is `built_version DIR`: the images version and a hash
# of the directory, so editing a Dockerfile rebuilds that image only.
# Every image carries the label $VERSION_LABEL=$IMAGES_VERSION, which the callers check to skip work.
#
# Cache: $CACHE_DIR/debian-$SUITE-minbase.tar (debootstrap, a few minutes), rootfs-NAME-TAG.tar and
# rootfs-NAME-TAG.changes; REBUILD=1 ignores it. The work directory holds mounts while building:
# callers `trap images_cleanup EXIT`.

IMAGES_VERSION="bookworm-1" # bump to rebuild every cached image (and re-seed the registry / native store)
SUITE=bookworm
VERSION_LABEL=org.tscompose.images-version
CACHE_ROOT="${TSCOMPOSE_CACHE_DIR:-/var/cache/tscompose}"
CACHE_DIR="${CACHE_ROOT}/${IMAGES_VERSION}"
PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
REBUILD="${REBUILD:-0}"
export DEBIAN_FRONTEND=noninteractive

# name  tags (comma-separated; the first names the cache files)  rootfs builder
IMAGE_SPECS=(
  "busybox latest,1.36 rootfs_busybox"
  "python 3.11-slim rootfs_python"
  "redis 7 rootfs_redis"
  "debian bookworm-slim,bookworm,12-slim,12 rootfs_debian"
)

# directory under scripts/images   name:tag,… (the first is the one built, the others are tags of the same image)
BUILT_SPECS=(
  "mysql mysql:8,mysql:8.0,mariadb:10,mariadb:10.11"
  "nginx nginx:1,nginx:1.22,nginx:latest"
  "php php:8-fpm,php:8.2-fpm"
  "python python:3.11,python:3"
  "node node:18,node:18-slim"
  "ruby ruby:3,ruby:3.1"
)
IMAGES_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/images"
built_version() { # dir -> the label value of the image built from scripts/images/DIR
  local h
  h=$(cd "$IMAGES_SRC" && find "$1" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
  echo "$IMAGES_VERSION-src.$h"
}

IMAGES_WORK=""
IMAGES_MOUNTED=()
images_cleanup() {
  local m
  for m in "${IMAGES_MOUNTED[@]}"; do umount -l "$m" 2>/dev/null || true; done
  IMAGES_MOUNTED=()
  [[ -n $IMAGES_WORK ]] && rm -rf "$IMAGES_WORK"
  IMAGES_WORK=""
}
images_work() { # sets IMAGES_WORK, the work directory, on first use (call it directly, not in $(…))
  [[ -n $IMAGES_WORK ]] || IMAGES_WORK=$(mktemp -d /var/tmp/tscompose-build.XXXXXX)
}

# ---------------------------------------------------------------------------------------------------
# packages
install_packages() { # package... : apt-get install those not installed, with no service started by them
  local p missing=() created_policy=0
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "packages present"; return 0; fi
  log "installing: ${missing[*]}"
  # Keep package scripts from starting daemons (docker, containerd, registry) with their default configs.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  apt-get update -q >/tmp/tscompose-apt.log 2>&1 || { tail -20 /tmp/tscompose-apt.log >&2; ((created_policy)) && rm -f /usr/sbin/policy-rc.d; die "apt-get update failed"; }
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/tscompose-apt.log 2>&1; then
    tail -30 /tmp/tscompose-apt.log >&2; ((created_policy)) && rm -f /usr/sbin/policy-rc.d
    die "apt-get install failed (log: /tmp/tscompose-apt.log)"
  fi
  ((created_policy)) && rm -f /usr/sbin/policy-rc.d
  log "packages installed"
}

# ---------------------------------------------------------------------------------------------------
# root filesystems
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

BASE_TARBALL="$CACHE_DIR/debian-$SUITE-minbase.tar"
BASE_BUILT=0
ensure_base_rootfs() { # the cached debootstrap minbase tarball $BASE_TARBALL, built when missing (once a run with REBUILD=1)
  local tarball=$BASE_TARBALL
  if [[ -f $tarball ]] && ((REBUILD == 0 || BASE_BUILT == 1)); then return 0; fi
  local mirror include=() work r
  images_work; work=$IMAGES_WORK; r="$work/base"
  mirror=$(debian_mirror) || die "cannot find the Debian mirror for $SUITE in /etc/apt/sources.list{,.d/*}"
  [[ $mirror == https:* ]] && include=(--include=ca-certificates)
  log "debootstrap --variant=minbase $SUITE from $mirror (a few minutes)"
  if ! debootstrap --variant=minbase "${include[@]}" "$SUITE" "$r" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -20 "$work/debootstrap.log" >&2; cp "$work/debootstrap.log" /tmp/tscompose-debootstrap.log
    die "debootstrap failed (log: /tmp/tscompose-debootstrap.log)"
  fi
  mkdir -p "$CACHE_DIR"
  tar -C "$r" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$r"
  BASE_BUILT=1
}

debian_image_rootfs() { # dir packages... : base rootfs + packages, slimmed
  local r=$1; shift
  local work
  ensure_base_rootfs; images_work; work=$IMAGES_WORK
  mkdir -p "$r"; tar -C "$r" -xf "$BASE_TARBALL"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"; chmod +x "$r/usr/sbin/policy-rc.d"
  mount -t proc proc "$r/proc"; IMAGES_MOUNTED+=("$r/proc")
  if ! { chroot "$r" apt-get update -q && chroot "$r" apt-get install -y -q --no-install-recommends "$@"; } >"$work/apt-$$.log" 2>&1; then
    tail -20 "$work/apt-$$.log" >&2; die "installing $* in the image rootfs failed"
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

# Builders: fill the directory $1 and set ROOTFS_CHANGES to the image's --change instructions (besides the label and PATH).
rootfs_busybox() {
  local r=$1
  [[ -x /bin/busybox ]] || die "/bin/busybox missing (Debian package busybox-static)"
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
  ROOTFS_CHANGES=('CMD ["sh"]')
}

rootfs_python() {
  local r=$1
  debian_image_rootfs "$r" python3 python3-flask python3-redis
  mkdir -p "$r/usr/local/bin"
  ln -sf /usr/bin/python3 "$r/usr/local/bin/python"
  ln -sf /usr/bin/python3 "$r/usr/local/bin/python3"
  ROOTFS_CHANGES=('ENV LANG=C.UTF-8' 'ENV PYTHONUNBUFFERED=1' 'CMD ["python3"]')
}

rootfs_redis() {
  local r=$1
  debian_image_rootfs "$r" redis-server
  mkdir -p "$r/data"
  ROOTFS_CHANGES=('WORKDIR /data' 'EXPOSE 6379' 'CMD ["redis-server", "--protected-mode", "no"]')
}

rootfs_debian() { # the minbase, slimmed and configured as Docker Hub's debian:bookworm-slim (debuerreotype's config)
  local r=$1 mirror security
  [[ -n $r && $r != / ]] || die "rootfs_debian: no target directory"
  ensure_base_rootfs
  mkdir -p "$r"; tar -C "$r" -xf "$BASE_TARBALL"
  mirror=$(debian_mirror) || mirror=http://deb.debian.org/debian
  security=$(SUITE=$SUITE-security debian_mirror) || security=${mirror%/debian}/debian-security
  if [[ $mirror == https:* && ! -d $r/etc/ssl/certs ]]; then die "debian: the mirror is https but the rootfs lacks ca-certificates"; fi
  rm -f "$r/etc/apt/sources.list"
  cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
  mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/debconf/*-old
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff/* "$r"/usr/share/lintian/* "$r"/tmp/* "$r"/root/.cache
  rm -rf "$r"/var/log/apt/* "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/var/log/bootstrap.log
  find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  : >"$r/etc/resolv.conf"
  echo localhost >"$r/etc/hostname"
  ROOTFS_CHANGES=('CMD ["bash"]')
}

rootfs_tarball() { echo "$CACHE_DIR/rootfs-$1-$2.tar"; }    # name tag
rootfs_changes() { echo "$CACHE_DIR/rootfs-$1-$2.changes"; } # name tag

ensure_rootfs() { # name tag builder : the cached rootfs tarball and its change list, built when missing
  local name=$1 tag=$2 builder=$3 tarball changes work r
  tarball=$(rootfs_tarball "$name" "$tag"); changes=$(rootfs_changes "$name" "$tag")
  if ((REBUILD == 0)) && [[ -f $tarball && -f $changes ]]; then return 0; fi
  mkdir -p "$CACHE_DIR"
  images_work; work=$IMAGES_WORK; r="$work/rootfs-$name"
  rm -rf "$r"
  log "$name:$tag: building its root filesystem"
  ROOTFS_CHANGES=()
  "$builder" "$r"
  printf '%s\n' "LABEL $VERSION_LABEL=$IMAGES_VERSION" "ENV $PATH_ENV" "${ROOTFS_CHANGES[@]}" >"$changes.tmp"
  tar -C "$r" --numeric-owner -cf "$tarball.tmp" .
  mv "$changes.tmp" "$changes" && mv "$tarball.tmp" "$tarball"
  rm -rf "$r"
  log "$name:$tag: cached $tarball ($(du -m "$tarball" | cut -f1) MB)"
}

change_args() { # name tag -> CHANGE_ARGS=(--change I1 --change I2 …) from the cached change list
  local line
  CHANGE_ARGS=()
  while IFS= read -r line; do
    if [[ -n $line ]]; then CHANGE_ARGS+=(--change "$line"); fi
  done <"$(rootfs_changes "$1" "$2")"
}
