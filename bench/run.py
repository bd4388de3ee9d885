#!/usr/bin/env python3
"""Benchmarks partialdump against mysqldump and the mysql client, side by side, in one run.

    python3 bench/run.py [--scale 1] [--runs 3] [--jobs N] [--url mysql://user:pw@127.0.0.1:3306]
    python3 bench/run.py --database DB --graph FILE --root T.C=V [--small-root T.C=V] --wheres FILE.json

The second form measures the same on a database of your own instead of the generated one: the
subset of --root (and of --small-root) by its graph, against mysqldump run per table with the
--where conditions of the JSON file ({"table": "condition", "lookup_table": null}), which must
select the same rows (the run checks that they do).

Builds the release binaries, generates the multi-tenant database (bench/generate.rs), then times,
each the median of --runs runs (and the fastest and the slowest run, to show the machine's noise),
with peak RSS and CPU seconds from GNU time, and the server's CPU
seconds from /proc when it runs on this machine (the dumps take turns run by run, and so do the
two imports, so that each meets the machine and the server in the same states; the generated
database, and each imported one after its run, is written out first, so no run pays for the
write-back of the load before it):

  * partialdump dump of the large tenant (about 20% of the rows) and of a small tenant, reading
    over --jobs connections (the ratios use these), and of the large tenant over one connection
    (it must write the same dump);
  * the same subset with mysqldump run once per table with --where subqueries (what users do by
    hand today, with a separate snapshot per table);
  * a full `mysqldump --single-transaction` of the database (the server's streaming limit);
  * partialdump import of the large tenant's dump, and `mysql < dump.sql` of the same file, into
    empty databases.

It verifies that partialdump's subset and mysqldump's per-table subset hold the same rows (both
are loaded and compared with the source by `partialdump verify`; FLOAT columns of mysqldump's
copy to the 6 significant digits mysqldump writes) before printing the ratios and
the targets of the benchmark issue, then each dump's CPU seconds over the cores: the least wall time
any schedule could reach on this machine, and the ratios the large tenant's dump would have at its
least time (what its CPU allows here). Exit code 0 when every target is met.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PD = os.path.join(ROOT, "target", "release", "partialdump")
GEN = os.path.join(ROOT, "target", "release", "examples", "bench-generate")
GRAPH = os.path.join(ROOT, "bench", "graph.yaml")
# The generated database's graph with cleansing: its users' names faked and bios hashed, every
# email faked, and addresses in its comments' bodies replaced (a regex on every body), as a
# sanitised copy for a test environment would have them.
CLEANSE = r"""cleanse:
  locale: en
  patterns:
    - {column: email, rule: {fake: email}}
    - {table: "^users$", column: "^name$", rule: {fake: name}}
    - {table: "^users$", column: "^bio$", rule: {hash: hex}}
    - {table: "^comments$", column: "^body$", rule: {regex: {pattern: '[\w.+-]+@[\w-]+\.[\w.]+', replace: {fake: email}}}}
"""
LARGE, SMALL = 1, 7


def run(cmd, stdin=None, stdout=None, check=True):
    r = subprocess.run(cmd, stdin=stdin, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        sys.exit(f"bench: {cmd[0]} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-2000:]}")
    return r


def server_cpu():
    """CPU seconds the database server has used so far, when it runs on this machine and its
    process can be read (else None): /proc/PID/stat's user and system time of mariadbd or mysqld."""
    for name in ("mariadbd", "mysqld"):
        r = subprocess.run(["pgrep", "-x", "-o", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if r.returncode == 0 and r.stdout.strip():
            try:
                with open(f"/proc/{int(r.stdout.split()[0])}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, ValueError, IndexError):
                return None
    return None


def timed(cmd, stdin_path=None, stdout_path=None):
    """Of one command: wall seconds, peak RSS in MiB, its CPU seconds (user + system, by GNU time)
    and the server's meanwhile (None when unknown)."""
    fmt = "%e %M %U %S"
    with tempfile.NamedTemporaryFile("r") as tf:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
        # Whatever earlier commands left for the kernel to write back goes to disk first,
        # untimed: a sync in the timed command (partialdump syncs its output file before it
        # takes its name) would otherwise wait for another command's output too. After the
        # full mysqldump (260 MB, rewritten in place, which ext4 starts writing back on close)
        # the large tenant's dump took 0.79-0.84 s instead of 0.58-0.61 s.
        os.sync()
        server_before = server_cpu()
        start = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", fmt, "-o", tf.name] + cmd, stdin=stdin, stdout=stdout,
                           stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        server_after = server_cpu()
        if stdin_path:
            stdin.close()
        if stdout_path:
            stdout.close()
        if r.returncode != 0:
            sys.exit(f"bench: {' '.join(cmd[:2])} failed: {r.stderr.decode(errors='replace')[-2000:]}")
        _, rss_kb, user, system = tf.read().split()[-4:]
    server = server_after - server_before if server_before is not None and server_after is not None else None
    return wall, int(rss_kb) / 1024, float(user) + float(system), server


def interleaved(runs, fns):
    """Runs each of `fns` `runs` times, taking turns, so that all of them meet the machine and the
    server in the same states (a busy neighbour, the machine's caches); returns the
    median wall time, the largest peak RSS, the median CPU times (client, server) and the
    fastest and slowest wall times of each (how far the machine's noise moved the runs)."""
    results = [[] for _ in fns]
    for i in range(runs):
        for r, fn in zip(results, fns):
            r.append(fn(i))

    def median(values):
        return None if None in values else statistics.median(values)
    return [(statistics.median(x[0] for x in r), max(x[1] for x in r), median([x[2] for x in r]),
             median([x[3] for x in r]), (min(x[0] for x in r), max(x[0] for x in r))) for r in results]


class Server:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.user, self.password = u.username, u.password or ""
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 3306
        self.base = f"mysql://{u.username}:{urllib.parse.quote(self.password)}@{self.host}:{self.port}"

    def url(self, db):
        return f"{self.base}/{db}"

    def client(self, tool="mariadb"):
        return [tool, f"--host={self.host}", f"--port={self.port}", f"--user={self.user}",
                f"--password={self.password}", "--default-character-set=utf8mb4"]

    def sql(self, text, db=None):
        run(self.client() + ([db] if db else []) + ["-e", text])

    def fresh(self, db, schema_file):
        self.sql(f"DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}` CHARACTER SET utf8mb4")
        with open(schema_file, "rb") as f:
            run(self.client() + [db], stdin=f)

    def written_out(self, db):
        """Has InnoDB write the pages a load left dirty in `db` out now (FLUSH TABLES ... FOR
        EXPORT), so the next timed run does not pay for that write-back, as one import on a
        server would not: left to the page cleaner (200 pages a second by default), the 4,500
        dirty pages of the large tenant's import took the next one from 0.73-0.81 s to
        0.94-1.15 s. Needs the RELOAD and LOCK TABLES privileges; without them, says so once."""
        tables = run(self.client() + ["-N", "-e", "SELECT GROUP_CONCAT(CONCAT('`', table_schema, '`.`', "
                                      f"table_name, '`')) FROM information_schema.tables WHERE table_schema = '{db}'"]
                     ).stdout.decode().strip()
        if not tables or tables == "NULL":
            return
        r = run(self.client() + ["-e", f"FLUSH TABLES {tables} FOR EXPORT; UNLOCK TABLES"], check=False)
        if r.returncode != 0 and not getattr(self, "warned", False):
            self.warned = True
            print("bench: cannot write imported tables out between imports (FLUSH TABLES ... FOR EXPORT "
                  f"needs RELOAD and LOCK TABLES): {r.stderr.decode(errors='replace').strip()}", file=sys.stderr)


def per_table_wheres(t):
    tasks = f"SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.tenant_id = {t}"
    return {
        "plans": None, "countries": None,
        "tenants": f"id = {t}",
        "users": f"tenant_id = {t}",
        "projects": f"tenant_id = {t}",
        "tasks": f"project_id IN (SELECT id FROM projects WHERE tenant_id = {t})",
        "tags": f"tenant_id = {t}",
        "task_tags": f"task_id IN ({tasks})",
        "comments": f"(subject_type = 'Task' AND subject_id IN ({tasks})) OR "
                    f"(subject_type = 'Project' AND subject_id IN (SELECT id FROM projects WHERE tenant_id = {t}))",
        "attachments": f"task_id IN ({tasks})",
        "events": f"tenant_id = {t}",
        "stores": f"tenant_id = {t}",
        "staff": f"store_id IN (SELECT id FROM stores WHERE tenant_id = {t})",
    }


def mysqldump_per_table(srv, db, wheres, out):
    """Dumps `db` into `out` with mysqldump once per table of `wheres`, with its --where
    condition (none: the whole table), as users do by hand; timed as [`timed`] times one
    command, the walls, CPU and server times summed, the peak RSS the largest."""
    wall, peak, cpu, server = 0.0, 0.0, 0.0, 0.0
    with open(out, "wb"):
        pass
    for table, where in wheres.items():
        part = out + "." + table
        cmd = srv.client("mariadb-dump") + ["--single-transaction", "--no-create-info", "--skip-triggers",
                                            "--hex-blob", db, table]
        if where:
            cmd.insert(-2, f"--where={where}")
        w, r, c, sc = timed(cmd, stdout_path=part)
        wall, peak, cpu = wall + w, max(peak, r), cpu + c
        server = None if server is None or sc is None else server + sc
        with open(out, "ab") as all_, open(part, "rb") as p:
            all_.write(p.read())
        os.unlink(part)
    return wall, peak, cpu, server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=42)
    # 4 whatever the cores (partialdump's --jobs auto on MariaDB 10.4+, and mydumper's default): once the data outgrows the buffer pool the
    # server waits on reads, and more connections keep more reads in flight (scale 10 on 2 cores:
    # 38 s over 2, 25 s over 4); while it fits, 4 measured the same as 2 on 2 cores.
    ap.add_argument("--jobs", type=int, default=4,
                    help="connections partialdump dump reads over (--jobs; default 4); the ratios use this run")
    own = ap.add_argument_group(
        "a database of your own, instead of the generated one (its tables are read, never written; the "
        "comparisons load into databases named pd_bench_import, pd_bench_client and pd_bench_where, "
        "which are replaced)")
    own.add_argument("--database", help="the existing database to measure on (skips generating pd_bench)")
    own.add_argument("--graph", help="its relationship graph")
    own.add_argument("--root", help="the large subset's root, as partialdump dump --root takes it")
    own.add_argument("--small-root", help="a small subset's root (its line and target are left out without it)")
    own.add_argument("--wheres", help="a JSON file: each table of the subset and mysqldump's --where condition "
                                      "selecting the same rows (null: the whole table)")
    return measure_in_work_dir(ap, "pd-bench-", measure)


def measure_in_work_dir(ap, prefix, measure):
    """Parses the arguments of `ap` (with --url added) and runs `measure(args, server, work)`
    with a work directory of its own, which goes with everything in it however the run ends
    (at scale 10 about 4 GB of dumps)."""
    ap.add_argument("--url", default=os.environ.get("PARTIALDUMP_TEST_MYSQL_URL",
                                                    "mysql://partialdump:partialdump-test@127.0.0.1:3306"))
    args = ap.parse_args()
    for tool in ["/usr/bin/time", "mariadb", "mariadb-dump", "cargo"]:
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is missing; `bash scripts/bench-up.sh` installs what the benchmarks need "
                     "(cargo comes with the Rust toolchain)")
    work = tempfile.mkdtemp(prefix=prefix)
    try:
        return measure(args, Server(args.url), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args, srv, work):
    """The whole benchmark, its files in `work`; 0 when every target is met."""
    if args.database:
        missing = [o for o in ("graph", "root", "wheres") if not getattr(args, o)]
        if missing:
            sys.exit("bench: --database needs " + ", ".join(f"--{o}" for o in missing) +
                     " (the subset, and mysqldump's --where conditions for the same rows)")
        db, graph = args.database, args.graph
        large, small = args.root, args.small_root
        with open(args.wheres) as f:
            wheres = json.load(f)
        print("building the release binary ...", file=sys.stderr)
        run(["cargo", "build", "--release", "--quiet", "--bin", "partialdump"])
        title, unit = f"database {db}", "subset"
    else:
        db, graph = "pd_bench", GRAPH
        large, small = f"tenants.id={LARGE}", f"tenants.id={SMALL}"
        wheres = per_table_wheres(LARGE)
        print("building release binaries ...", file=sys.stderr)
        run(["cargo", "build", "--release", "--quiet", "--bin", "partialdump", "--example", "bench-generate"])
        print(f"generating scale {args.scale} ...", file=sys.stderr)
        gen = run([GEN, srv.url(db), str(args.scale), str(args.seed)])
        print(gen.stderr.decode().strip(), file=sys.stderr)
        title, unit = f"scale {args.scale}", "tenant"
    # The load's pages are written out before any run, as in a database not just loaded.
    srv.written_out(db)
    schema = os.path.join(work, "schema.sql")
    with open(schema, "wb") as f:
        run(srv.client("mariadb-dump") + ["--no-data", "--skip-triggers", db], stdout=f)
    tables = run(srv.client() + ["-N", "-e", "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                 f"'{db}' AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')"]
                 ).stdout.decode().split()
    total_rows = int(run(srv.client() + ["-N", "-e", "SELECT SUM(n) FROM (" + " UNION ALL ".join(
        f"SELECT COUNT(*) n FROM `{db}`.`{t}`" for t in tables) + ") x"]).stdout)

    # Whether the database fits the server's buffer pool decides whether the dumps read from
    # memory or from disk (both partialdump and mysqldump), so the run says which it was.
    size, pool, version = run(srv.client() + ["-N", "-e",
                                               "SELECT SUM(data_length + index_length), @@innodb_buffer_pool_size, "
                                               f"VERSION() FROM information_schema.tables WHERE table_schema = '{db}'"]
                              ).stdout.decode().split()
    fits = "fits in it" if int(size) <= int(pool) else "does not fit: the dumps read from disk"
    print(f"server {version}: the database takes {int(size) / 2**20:.0f} MiB, its InnoDB buffer pool "
          f"{int(pool) / 2**20:.0f} MiB ({fits})", file=sys.stderr)

    rows = {}
    results = []

    def trailer_rows(path):
        with open(path, "rb") as f:
            f.seek(-300, os.SEEK_END)
            return int(re.search(rb"rows=(\d+)", f.read()).group(1))

    # partialdump dump, large and small tenant, over --jobs connections; the large one over one;
    # and, on the generated database, the large one cleansed (CLEANSE; throwaway values, from a
    # seed). Each: its root, its label, its connections, its graph and extra arguments.
    cleansed = None
    if not args.database:
        cleansed = os.path.join(work, "graph-cleansed.yaml")
        with open(graph) as f, open(cleansed, "w") as g:
            g.write(f.read().replace("version: 1\n", "version: 1\n" + CLEANSE, 1))
    dumps = [(large, "large", args.jobs, graph, [])] + \
        ([(small, "small", args.jobs, graph, [])] if small else []) + [(large, "large", 1, graph, [])] + \
        ([(large, "cleansed", args.jobs, cleansed, ["--random-seed", "1"])] if cleansed else [])

    def pd_dump(root, label, jobs, graph, extra):
        out = os.path.join(work, f"pd-{label}-j{jobs}.sql")

        def run_it(_):
            # The last run's file goes before the clock starts, as mysqldump's output file is
            # truncated before its clock starts (replacing it costs the kernel ~8 ms at 50 MB).
            if os.path.exists(out):
                os.unlink(out)
            return timed([PD, "dump", "--source", srv.url(db), "--graph", graph, "--root", root,
                          "-q", "--jobs", str(jobs), "-o", out] + extra)
        return out, run_it

    pd_dumps = [pd_dump(*d) for d in dumps]

    # mysqldump once per table with --where, large tenant
    md_out = os.path.join(work, "mysqldump-where.sql")

    def per_table(_):
        return mysqldump_per_table(srv, db, wheres, md_out)

    full_out = os.path.join(work, "mysqldump-full.sql")
    full_bytes = []

    def full(_):
        # Only its size is kept: the file goes once timed. Kept, its 2.6 GB (scale 10) held the
        # memory the kernel had touched lately, and the command after it, the large tenant's
        # dump, took all of its own fresh (on virtual machines that hand free memory back to
        # their host, 10-20 us a page: 3.7-5.8 s instead of 2.8-3.0 s; docs/benchmarks.md).
        t = timed(srv.client("mariadb-dump") + ["--single-transaction", "--no-create-info", "--skip-triggers",
                                                "--hex-blob", db], stdout_path=full_out)
        full_bytes.append(os.path.getsize(full_out))
        os.unlink(full_out)
        return t

    measured = interleaved(args.runs, [fn for _, fn in pd_dumps] + [per_table, full])
    for (_, label, jobs, _, _), (out, _), (t, rss, cpu, server, spread) in zip(dumps, pd_dumps, measured):
        rows[label] = trailer_rows(out)
        name = f"{label} {unit}" if label != "cleansed" else f"large {unit}, cleansed"
        results.append((f"partialdump dump -j{jobs}, {name}", t, rss, rows[label], os.path.getsize(out), cpu,
                        server, spread))
    pd_large = results[0]
    pd_small = results[1] if small else None
    pd_cleansed = results[-1] if cleansed else None
    if cleansed and rows["cleansed"] != rows["large"]:
        sys.exit(f"bench: the cleansed dump holds {rows['cleansed']} rows, the dump {rows['large']}")
    with open(os.path.join(work, f"pd-large-j{args.jobs}.sql"), "rb") as a, \
            open(os.path.join(work, "pd-large-j1.sql"), "rb") as b:
        body = lambda f: [l for l in f.read().split(b"\n") if not l.startswith(b"-- snapshot:")]
        if body(a) != body(b):
            sys.exit(f"bench: --jobs {args.jobs} and --jobs 1 wrote different dumps")
    (t, rss, cpu, server, spread), (t_full, rss_full, cpu_full, server_full, spread_full) = measured[-2:]
    results.append(("mysqldump --where, per table", t, rss, rows["large"], os.path.getsize(md_out), cpu, server,
                    spread))
    md_where = results[-1]
    results.append(("mysqldump --single-transaction, full", t_full, rss_full, total_rows, full_bytes[-1],
                    cpu_full, server_full, spread_full))
    md_full = results[-1]

    # imports of the large tenant's dump into empty databases
    dump_file = os.path.join(work, f"pd-large-j{args.jobs}.sql")

    def import_pd(i):
        srv.fresh("pd_bench_import", schema)
        t = timed([PD, "import", "--target", srv.url("pd_bench_import"), "-q", dump_file])
        srv.written_out("pd_bench_import")
        return t

    def import_mysql(i):
        srv.fresh("pd_bench_client", schema)
        t = timed(srv.client() + ["pd_bench_client"], stdin_path=dump_file)
        srv.written_out("pd_bench_client")
        return t

    names = [f"partialdump import, large {unit}", "mysql < dump.sql, same file"]
    for name, (t, rss, cpu, server, spread) in zip(names, interleaved(args.runs, [import_pd, import_mysql])):
        results.append((name, t, rss, rows["large"], os.path.getsize(dump_file), cpu, server, spread))
    imp_pd, imp_my = results[-2], results[-1]

    # Both subsets hold the same rows: each loaded copy equals the source's subset.
    srv.fresh("pd_bench_where", schema)
    with open(md_out, "rb") as f:
        run(srv.client() + ["pd_bench_where"], stdin=f)
    # mysqldump writes FLOAT to 6 significant digits: its copy is compared to those (partialdump's
    # exactly; other columns exactly in both).
    for target, digits in [("pd_bench_import", []), ("pd_bench_where", ["--float-digits", "6"])]:
        v = run([PD, "verify", "--source", srv.url(db), "--target", srv.url(target), "--graph", graph,
                 "--root", large, "-q"] + digits, check=False)
        if v.returncode != 0:
            sys.exit(f"bench: the subset in {target} differs from the source:\n{v.stdout.decode()}")
    print("verified: partialdump's subset and mysqldump's per-table subset hold the same rows", file=sys.stderr)

    print(f"\n{title}: {total_rows} rows in the database; median of {args.runs} runs\n")
    print(f"{'what':46} {'seconds':>8} {'rows':>9} {'rows/s':>10} {'MB/s':>7} {'peak RSS MiB':>13}"
          f" {'CPU s':>6} {'server CPU s':>12}  {'fastest-slowest s':>17}")
    for name, t, rss, n, size, cpu, server, (fastest, slowest) in results:
        server = "-" if server is None else f"{server:.3f}"
        print(f"{name:46} {t:8.3f} {n:9d} {n / t:10.0f} {size / t / 1e6:7.1f} {rss:13.1f} {cpu:6.3f} {server:>12}"
              f"  {fastest:8.3f}-{slowest:<8.3f}")

    keys = rows["large"]
    checks = [
        ("dump time / mysqldump --where time", pd_large[1] / md_where[1], "<=", 0.5),
        ("dump rows/s / full mysqldump rows/s", (pd_large[3] / pd_large[1]) / (md_full[3] / md_full[1]), ">=", 0.7),
        ("import time / mysql < dump.sql time", imp_pd[1] / imp_my[1], "<=", 0.6),
        ("dump peak RSS / (64 MiB + 32 B per key)", pd_large[2] / (64 + 32 * keys / 2**20), "<=", 1.0),
    ] + ([(f"small {unit}, seconds end to end", pd_small[1], "<=", 0.1)] if small else [])
    print()
    ok = True
    for name, value, op, target in checks:
        met = value <= target if op == "<=" else value >= target
        ok &= met
        print(f"{name:45} {value:8.3f}  target {op} {target:<5} {'met' if met else 'NOT MET'}")
    if pd_cleansed:
        print(f"{'cleansed dump time / dump time':45} {pd_cleansed[1] / pd_large[1]:8.3f}  no target: what "
              "cleansing 4 columns costs (bench/run.py's CLEANSE)")
    # The least time the work measured could take on this machine, were every core busy all along
    # (the client's and the server's CPU time over the cores): what a time ratio can come down to.
    cores = len(os.sched_getaffinity(0))
    if pd_large[6] is not None:
        print(f"\n{cores} cores here; CPU seconds (client + server) over the cores, the least wall time possible:")
        for r in [pd_large, md_where, md_full]:
            work = r[5] + r[6]
            print(f"  {r[0]:40} {r[5]:.3f} + {r[6]:.3f} = {work:.3f} s of CPU, >= {work / cores:.3f} s")
        # The ratios the dump would reach at that least time, against the baselines as measured:
        # how far scheduling alone could take them here, and whether the targets are within it.
        least = (pd_large[5] + pd_large[6]) / cores
        print(f"  at that least time the dump's ratios would be: time {least / md_where[1]:.3f} (target <= 0.5), "
              f"rows/s {(pd_large[3] / least) / (md_full[3] / md_full[1]):.3f} (target >= 0.7)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
