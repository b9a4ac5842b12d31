#!/bin/sh
# Healthy when the server answers on TCP (so not the temporary one of the first start, which has no networking)
# and the application's user can read its table: the database is initialized and ready for PHP.
set -e
password=$(cat "$MARIADB_PASSWORD_FILE")
exec mariadb --protocol=tcp -h 127.0.0.1 -u "$MARIADB_USER" -p"$password" -e 'SELECT n FROM hits WHERE id = 1' "$MARIADB_DATABASE" >/dev/null
