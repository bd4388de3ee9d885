#!/usr/bin/env bash
# Makes sure a MariaDB server runs on 127.0.0.1:3306 with a test user, installing it when missing.
# Prints nothing on success but the lines it acts on. Safe to run again.
#
# Environment (all optional):
#   PARTIALDUMP_TEST_MYSQL_USER / PARTIALDUMP_TEST_MYSQL_PASSWORD  the TCP user the tests use
set -euo pipefail

user=${PARTIALDUMP_TEST_MYSQL_USER:-partialdump}
password=${PARTIALDUMP_TEST_MYSQL_PASSWORD:-partialdump-test}

if ! command -v mariadbd >/dev/null 2>&1; then
  echo "mariadb-up: installing mariadb-server and mariadb-client"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq mariadb-server mariadb-client >/dev/null
fi

if ! mariadb-admin --protocol=socket ping >/dev/null 2>&1; then
  echo "mariadb-up: starting mariadbd"
  install -d -o mysql -g mysql /run/mysqld
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  setsid nohup mariadbd --user=mysql --datadir=/var/lib/mysql \
    --socket=/run/mysqld/mysqld.sock --bind-address=127.0.0.1 --port=3306 \
    --max-connections=500 --innodb-buffer-pool-size=1G \
    >/var/log/partialdump-mariadbd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    mariadb-admin --protocol=socket ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --protocol=socket ping >/dev/null 2>&1 || {
    echo "mariadb-up: mariadbd did not start; its log:" >&2
    tail -n 30 /var/log/partialdump-mariadbd.log >&2
    exit 1
  }
fi

# Debian's root logs in over the Unix socket only; tests connect over TCP as their own user.
mariadb --protocol=socket -u root <<SQL
CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';
CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '${user}'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
