#!/bin/bash
# Entrypoint of tscompose's mysql:8 / mariadb:10 image (Debian's MariaDB), following the env contract of the
# official mysql and mariadb images: on the first start with an empty /var/lib/mysql it creates the system tables,
# sets the root password (MYSQL_ROOT_PASSWORD, or MYSQL_ALLOW_EMPTY_PASSWORD, or MYSQL_RANDOM_ROOT_PASSWORD),
# creates MYSQL_DATABASE and MYSQL_USER/MYSQL_PASSWORD with all rights on it, and runs
# /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz in order; then it runs the server in the foreground.
# Every variable may be given as VAR_FILE (a secret) and as MARIADB_* instead of MYSQL_*.
set -eo pipefail

log() { printf '%s [Entrypoint]: %s\n' "$(date -u '+%F %T')" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# env NAME [default]: NAME from MARIADB_NAME, MYSQL_NAME, or the file named by their _FILE variant
file_env() {
  local name=$1 def=${2:-} v="" src var
  for src in "MARIADB_$name" "MYSQL_$name"; do
    var="${src}_FILE"
    if [[ -n ${!src:-} && -n ${!var:-} ]]; then die "both $src and $var are set (they are exclusive)"; fi
    if [[ -n ${!src:-} ]]; then v=${!src}; break; fi
    if [[ -n ${!var:-} ]]; then v=$(<"${!var}") || die "cannot read $var (${!var})"; break; fi
  done
  printf -v "MYSQL_$name" '%s' "${v:-$def}"
  export "MYSQL_$name"
}
sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }   # a quoted SQL string literal
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }                         # a quoted identifier

if [[ ${1:0:1} == - ]]; then set -- mariadbd "$@"; fi

if [[ $1 == mariadbd || $1 == mysqld ]] && [[ $(id -u) == 0 ]]; then
  DATADIR=/var/lib/mysql
  SOCKET=/run/mysqld/mysqld.sock
  mkdir -p "$DATADIR" /run/mysqld
  chown mysql:mysql "$DATADIR" /run/mysqld
  for n in ROOT_PASSWORD ALLOW_EMPTY_PASSWORD RANDOM_ROOT_PASSWORD DATABASE USER PASSWORD; do file_env "$n"; done
  file_env ROOT_HOST %
  if [[ ! -d $DATADIR/mysql ]]; then
    if [[ -z $MYSQL_ROOT_PASSWORD && -z $MYSQL_ALLOW_EMPTY_PASSWORD && -z $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
      die "the database is uninitialized and no password option is given: set one of MYSQL_ROOT_PASSWORD, MYSQL_ALLOW_EMPTY_PASSWORD and MYSQL_RANDOM_ROOT_PASSWORD"
    fi
    if [[ -n $MYSQL_RANDOM_ROOT_PASSWORD ]]; then
      MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
      log "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
    fi
    log "initializing $DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal \
      --skip-name-resolve >/dev/null
    log "starting a temporary server (no networking)"
    "$@" --skip-networking --socket="$SOCKET" &
    pid=$!
    client=(mariadb --protocol=socket --socket="$SOCKET" -uroot)
    for _ in $(seq 1 60); do
      if "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1; then break; fi
      kill -0 "$pid" 2>/dev/null || die "the temporary server exited"
      sleep 0.5
    done
    "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1 || die "the temporary server does not answer"
    pw=$(sql_string "$MYSQL_ROOT_PASSWORD")
    {
      echo "SET @@SESSION.SQL_LOG_BIN=0;"
      echo "DROP USER IF EXISTS ''@'localhost', root@'127.0.0.1', root@'::1';"
      echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');"
      echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS \\'\\'@\\'', @@hostname, '\\'');"
      # root on the socket: by password, or as the container's root user (so healthchecks need no password)
      echo "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD($pw) OR unix_socket;"
      if [[ $MYSQL_ROOT_HOST != localhost ]]; then
        echo "CREATE USER root@$(sql_string "$MYSQL_ROOT_HOST") IDENTIFIED BY $pw;"
        echo "GRANT ALL ON *.* TO root@$(sql_string "$MYSQL_ROOT_HOST") WITH GRANT OPTION;"
      fi
      if [[ -n $MYSQL_DATABASE ]]; then echo "CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");"; fi
      if [[ -n $MYSQL_USER ]]; then
        [[ $MYSQL_USER == root ]] && die "MYSQL_USER=root: root is created anyway; use MYSQL_ROOT_PASSWORD"
        echo "CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
        if [[ -n $MYSQL_DATABASE ]]; then
          echo "GRANT ALL ON $(sql_name "${MYSQL_DATABASE//_/\\_}").* TO $(sql_string "$MYSQL_USER")@'%';"
        fi
      fi
      echo "FLUSH PRIVILEGES;"
    } | "${client[@]}" || die "setting up users and the database failed"
    [[ -n $MYSQL_DATABASE ]] && client+=("$MYSQL_DATABASE")
    for f in /docker-entrypoint-initdb.d/*; do
      [[ -e $f ]] || continue
      case $f in
        *.sh) log "running $f"; if [[ -x $f ]]; then "$f"; else . "$f"; fi ;;
        *.sql) log "running $f"; "${client[@]}" <"$f" ;;
        *.sql.gz) log "running $f"; gunzip -c "$f" | "${client[@]}" ;;
        *.sql.xz) log "running $f"; xzcat "$f" | "${client[@]}" ;;
        *) log "ignoring $f" ;;
      esac
    done
    log "stopping the temporary server"
    kill "$pid"
    wait "$pid" || true
    log "initialized; starting the server"
  fi
fi
exec "$@"
