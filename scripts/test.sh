#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine (as root): installs and starts MariaDB when it is
# missing, then runs formatting and lint checks and every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/mariadb-up.sh

# Graphviz renders `partialdump graph` output in a test.
if ! command -v dot >/dev/null 2>&1; then
  echo "test.sh: installing graphviz"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  }
fi

export PARTIALDUMP_TEST_MYSQL_URL="${PARTIALDUMP_TEST_MYSQL_URL:-mysql://${PARTIALDUMP_TEST_MYSQL_USER:-partialdump}:${PARTIALDUMP_TEST_MYSQL_PASSWORD:-partialdump-test}@127.0.0.1:3306}"

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
