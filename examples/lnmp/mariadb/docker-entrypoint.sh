#!/bin/bash
# Entrypoint of the example's database, after the official mariadb image's env contract (a small subset):
# on the first start, with an empty /var/lib/mysql, it creates the system tables, MARIADB_DATABASE, the user
# MARIADB_USER with the password read from the file MARIADB_PASSWORD_FILE (a compose secret) and all rights on
# that database, and runs /docker-entrypoint-initdb.d/*.sql in it; root stays reachable from inside the container
# only (unix socket authentication, as Debian sets it up). Then it runs the server (CMD) in the foreground.
set -eo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%F %T')" "$*"; }
die() { log "ERROR: $*" >&2; exit 1; }
sql_string() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
sql_name() { printf '`%s`' "${1//\`/\`\`}"; }

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock

if [[ $1 == mariadbd ]]; then
  mkdir -p "$DATADIR" /run/mysqld
  chown mysql:mysql "$DATADIR" /run/mysqld
  if [[ ! -d $DATADIR/mysql ]]; then
    [[ -n ${MARIADB_DATABASE:-} && -n ${MARIADB_USER:-} && -n ${MARIADB_PASSWORD_FILE:-} ]] ||
      die "an empty database needs MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD_FILE"
    password=$(<"$MARIADB_PASSWORD_FILE") || die "cannot read MARIADB_PASSWORD_FILE ($MARIADB_PASSWORD_FILE)"
    [[ -n $password ]] || die "$MARIADB_PASSWORD_FILE is empty"
    log "initializing $DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db --skip-name-resolve >/dev/null
    log "starting a temporary server (no networking)"
    "$@" --skip-networking --socket="$SOCKET" &
    pid=$!
    client=(mariadb --protocol=socket --socket="$SOCKET" -uroot)
    for _ in $(seq 1 120); do
      "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || die "the temporary server exited"
      sleep 0.5
    done
    "${client[@]}" -e 'SELECT 1' >/dev/null 2>&1 || die "the temporary server does not answer"
    db=$(sql_name "$MARIADB_DATABASE")
    user="$(sql_string "$MARIADB_USER")@'%'"
    "${client[@]}" <<SQL || die "creating the database and its user failed"
CREATE DATABASE IF NOT EXISTS $db;
CREATE USER $user IDENTIFIED BY $(sql_string "$password");
GRANT ALL ON $db.* TO $user;
FLUSH PRIVILEGES;
SQL
    for f in /docker-entrypoint-initdb.d/*.sql; do
      [[ -e $f ]] || continue
      log "running $f"
      "${client[@]}" "$MARIADB_DATABASE" <"$f" || die "$f failed"
    done
    log "stopping the temporary server"
    kill "$pid"
    wait "$pid" || true
    log "initialized"
  fi
fi
exec "$@"
