#!/usr/bin/env bash
# What the benchmarks (bench/run.py, bench/shapes.py) need on a fresh Debian machine, installed
# when missing: a running MariaDB server with the test user (scripts/mariadb-up.sh, which also
# installs the mariadb and mariadb-dump clients), Python 3, and GNU time (peak RSS and CPU seconds
# of each command), and a buffer pool that holds scale 10 where the machine has the memory (below).
# Prints nothing on success but the lines it acts on. Safe to run again.
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

# The benchmarks measure the tools, not the disk: the server's InnoDB buffer pool is grown to hold
# the generated database at scale 10 (2.8 GiB), as a production server's holds its working set,
# where the machine has the memory: half of it, at most 4 GiB; never shrunk. scripts/mariadb-up.sh
# starts the server with 1 GiB, which holds scale 1 (291 MiB). bench/run.py says whether the
# database fits.
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
want=$(( mem_kb * 1024 / 2 ))
cap=$(( 4 << 30 ))
if [ "$want" -gt "$cap" ]; then want=$cap; fi
have=$(mariadb --protocol=socket -u root -N -e "SELECT @@innodb_buffer_pool_size")
if [ "$want" -gt "$have" ]; then
  echo "bench-up: growing the InnoDB buffer pool from $(( have >> 20 )) to $(( want >> 20 )) MiB"
  # A server that cannot resize it online (MariaDB before 10.2) keeps its pool: the benchmarks
  # still run, and bench/run.py says the database does not fit.
  mariadb --protocol=socket -u root -e "SET GLOBAL innodb_buffer_pool_size = $want" ||
    echo "bench-up: the server kept its buffer pool of $(( have >> 20 )) MiB; scale 10 will be read from disk"
fi
