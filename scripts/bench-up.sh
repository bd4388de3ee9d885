#!/usr/bin/env bash
# What the benchmarks (bench/run.py, bench/shapes.py) need on a fresh Debian machine, installed
# when missing: a running MariaDB server with the test user (scripts/mariadb-up.sh, which also
# installs the mariadb and mariadb-dump clients), Python 3, and GNU time (peak RSS and CPU seconds
# of each command). Prints nothing on success but the lines it acts on. Safe to run again.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bash "$here/mariadb-up.sh"

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-up: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
