#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine (as root): installs and starts MariaDB when it is
# missing, then runs formatting and lint checks and every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/mariadb-up.sh

export PARTIALDUMP_TEST_MYSQL_URL="${PARTIALDUMP_TEST_MYSQL_URL:-mysql://${PARTIALDUMP_TEST_MYSQL_USER:-partialdump}:${PARTIALDUMP_TEST_MYSQL_PASSWORD:-partialdump-test}@127.0.0.1:3306}"

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
