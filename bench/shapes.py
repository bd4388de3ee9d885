#!/usr/bin/env python3
"""Benchmarks partialdump against per-table `mysqldump --where` on databases of other key shapes
than bench/run.py's integer keys, side by side, in one run:

    python3 bench/shapes.py [--runs 5] [--only NAME] [--url mysql://user:pw@127.0.0.1:3306]

  * strings: keys of UUID text (CHAR(36)), 16 bytes (BINARY(16)) and a two-column string key with
    a self-reference; children by a unique email that is not the key; references holding their
    parent's key in another case (bench/shapes/strings.sql, 1,100,000 rows);
  * tenant-keys: every key leads with the tenant's id, (tenant_id, id) (bench/shapes/tenant-keys.sql,
    820,000 rows).
  * shop: order items keyed by (order_id, line), found through the first column of their primary
    key; FLOAT, TIMESTAMP, JSON, a generated column, a trigger (bench/shapes/shop.sql, 1,160,000
    rows);
  * forum: users keyed by 16 bytes, posts by (thread_id, seq) with replies, post tags and votes
    by three columns, references to users of other communities (bench/shapes/forum.sql, 790,000
    rows);
  * warehouses: TPC-C's schema, every key leading with the warehouse, keys of up to four columns
    and references of three, order lines supplied from other warehouses' stock, a history without
    a key (bench/shapes/warehouses.sql, 790,000 rows);
  * rentals: MySQL's Sakila sample schema, stores owning staff, customers and inventory,
    customers their rentals and payments; store and staff referencing each other through NOT
    NULL columns, rentals of other stores' items, a catalog copied whole (bench/shapes/
    rentals.sql, 1,060,000 rows).

For each, it loads the database, times partialdump's dump of the large tenant (20% of the rows)
and the same subset dumped by mysqldump once per table with --where subqueries (the two take turns,
run by run; median of --runs), verifies that both hold the same rows (mysqldump's is loaded and
compared with the source by `partialdump verify`), and prints the time ratio and the peak memory
ratio beside the targets bench/run.py holds the integer-keyed benchmark to (<= 0.5; <= 1.0 of
64 MiB + 32 bytes per key), then the least time ratio the CPU measured allows on this machine's
cores: the dump's (its own and the server's CPU seconds over the cores, against mysqldump's time),
and mysqldump's (what a tool spending just mysqldump's CPU, on every core, would reach). Exit code
0 when every ratio meets its target.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: its timing and server helpers)

SHAPES = os.path.join(bench.ROOT, "bench", "shapes")
ORG = "00000000-0000-4000-8000-000000000000"

ORDERS_OF_SHOP_1 = "(SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.shop_id = 1)"
SHOP_WHERES = {
    "shops": "id = 1", "categories": "shop_id = 1", "products": "shop_id = 1", "customers": "shop_id = 1",
    "orders": "customer_id IN (SELECT id FROM customers WHERE shop_id = 1)",
    "order_items": f"order_id IN {ORDERS_OF_SHOP_1}",
    "payments": f"order_id IN {ORDERS_OF_SHOP_1}",
    "audit_log": "customer_id IN (SELECT id FROM customers WHERE shop_id = 1)",
}
THREADS_OF_1 = "(SELECT id FROM threads WHERE community_id = 1)"
# The users of community 1, and every user its posts and votes name (of any community).
USERS_OF_1 = (f"community_id = 1 OR id IN (SELECT author FROM posts WHERE thread_id IN {THREADS_OF_1}) "
              f"OR id IN (SELECT voter FROM votes WHERE thread_id IN {THREADS_OF_1})")
FORUM_WHERES = {
    "communities": f"id IN (SELECT community_id FROM users WHERE {USERS_OF_1})",
    "users": USERS_OF_1, "threads": "community_id = 1", "posts": f"thread_id IN {THREADS_OF_1}",
    "post_tags": f"thread_id IN {THREADS_OF_1}", "votes": f"thread_id IN {THREADS_OF_1}",
    "tags": f"id IN (SELECT tag_id FROM post_tags WHERE thread_id IN {THREADS_OF_1})",
}

LINES_OF_1 = "SELECT ol_supply_w_id, ol_i_id FROM order_line WHERE ol_w_id = 1"
WAREHOUSE_WHERES = {
    "warehouse": "w_id = 1 OR w_id IN (SELECT ol_supply_w_id FROM order_line WHERE ol_w_id = 1)",
    "district": "d_w_id = 1", "customer": "c_w_id = 1", "history": "h_c_w_id = 1", "orders": "o_w_id = 1",
    "new_orders": "no_w_id = 1", "order_line": "ol_w_id = 1",
    "stock": f"s_w_id = 1 OR (s_w_id, s_i_id) IN ({LINES_OF_1})",
    "item": "i_id IN (SELECT s_i_id FROM stock WHERE s_w_id = 1) "
            "OR i_id IN (SELECT ol_i_id FROM order_line WHERE ol_w_id = 1)",
}

# Store 1's customers' rentals: a FROM clause, for each table's condition to take the column it
# needs of them. (Joined inside the IN, which MariaDB materializes once; nested IN subqueries
# took twice as long.)
RENTALS_OF_1 = "FROM rental r JOIN customer c ON c.customer_id = r.customer_id WHERE c.store_id = 1"
# Store 1, and the stores whose items its customers rented.
STORES_OF_1 = ("store_id = 1 OR store_id IN (SELECT i.store_id FROM inventory i "
               "JOIN rental r ON r.inventory_id = i.inventory_id JOIN customer c ON c.customer_id = r.customer_id "
               "WHERE c.store_id = 1)")
# Store 1's staff, those who served its customers' rentals (and payments, the same staff), and the
# managers of the stores above.
STAFF_OF_1 = (f"store_id = 1 OR staff_id IN (SELECT r.staff_id {RENTALS_OF_1}) "
              f"OR staff_id IN (SELECT manager_staff_id FROM store WHERE {STORES_OF_1})")
OF_CUSTOMERS_OF_1 = "customer_id IN (SELECT customer_id FROM customer WHERE store_id = 1)"
RENTAL_WHERES = {
    "store": STORES_OF_1, "staff": STAFF_OF_1, "customer": "store_id = 1",
    "inventory": f"store_id = 1 OR inventory_id IN (SELECT r.inventory_id {RENTALS_OF_1})",
    "rental": OF_CUSTOMERS_OF_1, "payment": OF_CUSTOMERS_OF_1,
    "address": (f"address_id IN (SELECT address_id FROM customer WHERE store_id = 1) "
                f"OR address_id IN (SELECT address_id FROM staff WHERE {STAFF_OF_1}) "
                f"OR address_id IN (SELECT address_id FROM store WHERE {STORES_OF_1})"),
    "language": None, "country": None, "city": None, "category": None, "actor": None, "film": None,
    "film_actor": None, "film_category": None,
}

# name: (generator, graph, root, per-table --where of the same subset)
DATABASES = {
    "strings": ("strings.sql", "strings.yaml", f"orgs.id={ORG}", {
        "orgs": f"id = '{ORG}'",
        "members": f"org_id = '{ORG}'",
        "docs": f"org_id = '{ORG}'",
        "revisions": f"(org_id, slug) IN (SELECT org_id, slug FROM docs WHERE org_id = '{ORG}')",
        "audit": f"member_email IN (SELECT email FROM members WHERE org_id = '{ORG}')",
    }),
    "tenant-keys": ("tenant-keys.sql", "tenant-keys.yaml", "tenants.id=1", {
        "tenants": "id = 1",
        "projects": "tenant_id = 1",
        "tasks": "(tenant_id, project_id) IN (SELECT tenant_id, id FROM projects WHERE tenant_id = 1)",
        "comments": "(tenant_id, task_id) IN (SELECT tenant_id, id FROM tasks WHERE (tenant_id, project_id) IN "
                    "(SELECT tenant_id, id FROM projects WHERE tenant_id = 1))",
    }),
    "shop": ("shop.sql", "shop.yaml", "shops.id=1", SHOP_WHERES),
    "forum": ("forum.sql", "forum.yaml", "communities.id=1", FORUM_WHERES),
    "warehouses": ("warehouses.sql", "warehouses.yaml", "warehouse.w_id=1", WAREHOUSE_WHERES),
    "rentals": ("rentals.sql", "rentals.yaml", "store.store_id=1", RENTAL_WHERES),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=sorted(DATABASES), action="append",
                    help="measure only this database (again for more)")
    return bench.measure_in_work_dir(ap, "pd-shapes-", measure)


def measure(args, srv, work):
    print("building the release binary ...", file=sys.stderr)
    bench.run(["cargo", "build", "--release", "--quiet", "--bin", "partialdump"])
    lines = []
    ok = True
    for name, (generator, graph, root, wheres) in DATABASES.items():
        if args.only and name not in args.only:
            continue
        db = f"pd_shape_{name.replace('-', '_')}"
        graph = os.path.join(SHAPES, graph)
        print(f"loading {name} ...", file=sys.stderr)
        srv.fresh(db, os.path.join(SHAPES, generator))
        srv.written_out(db)
        schema = os.path.join(work, f"{db}-schema.sql")
        with open(schema, "wb") as f:
            bench.run(srv.client("mariadb-dump") + ["--no-data", "--skip-triggers", db], stdout=f)
        pd_out = os.path.join(work, f"{db}-pd.sql")
        md_out = os.path.join(work, f"{db}-where.sql")
        stats = os.path.join(work, f"{db}-stats.json")

        def pd_dump(_):
            if os.path.exists(pd_out):
                os.unlink(pd_out)
            return bench.timed([bench.PD, "dump", "--source", srv.url(db), "--graph", graph, "--root", root,
                                "-q", "-o", pd_out, "--stats-json", stats])

        def per_table(_):
            return bench.mysqldump_per_table(srv, db, wheres, md_out)

        (t_pd, rss_pd, cpu_pd, srv_pd, spread_pd), (t_md, rss_md, cpu_md, srv_md, spread_md) = \
            bench.interleaved(args.runs, [pd_dump, per_table])

        # The same rows: mysqldump's subset, loaded, equals the source's subset.
        target = f"{db}_where"
        srv.fresh(target, schema)
        with open(md_out, "rb") as f:
            bench.run(srv.client() + ["--init-command=SET FOREIGN_KEY_CHECKS=0", target], stdin=f)
        v = bench.run([bench.PD, "verify", "--source", srv.url(db), "--target", srv.url(target), "--graph", graph,
                       "--root", root, "-q", "--float-digits", "6"], check=False)
        srv.sql(f"DROP DATABASE IF EXISTS `{target}`")
        if v.returncode != 0:
            sys.exit(f"bench: {name}: mysqldump's per-table subset differs from partialdump's:\n"
                     f"{v.stdout.decode()}{v.stderr.decode()}")
        ratio = t_pd / t_md
        # The memory budget: 64 MiB and 32 bytes per key collected (each row dumped).
        with open(stats) as f:
            keys = json.load(f)["rows"]
        memory = rss_pd / (64 + 32 * keys / 2**20)
        ok &= ratio <= 0.5 and memory <= 1.0
        server = lambda s: "-" if s is None else f"{s:.3f}"
        lines.append(f"{name:12} {'partialdump dump':24} {t_pd:8.3f} {spread_pd[0]:8.3f}-{spread_pd[1]:<8.3f} "
                     f"{cpu_pd:6.3f} {server(srv_pd):>8} {rss_pd:9.1f}")
        lines.append(f"{'':12} {'mysqldump --where':24} {t_md:8.3f} {spread_md[0]:8.3f}-{spread_md[1]:<8.3f} "
                     f"{cpu_md:6.3f} {server(srv_md):>8} {rss_md:9.1f}")
        lines.append(f"{'':12} {'time ratio (target <= 0.5)':24} {ratio:8.3f}  {'met' if ratio <= 0.5 else 'NOT MET'}")
        lines.append(f"{'':12} {'RSS ratio (target <= 1.0)':26} {memory:8.3f}  {'met' if memory <= 1.0 else 'NOT MET'} "
                     f"(peak RSS / (64 MiB + 32 B x {keys} keys))")
        if srv_pd is not None and srv_md is not None:
            # The dump's CPU (its own and the server's) over the cores: the least time any schedule
            # could take here, and the time ratio at it; and the same for mysqldump's CPU, as a
            # tool spending just what mysqldump does, on every core, would.
            cores = len(os.sched_getaffinity(0))
            lines.append(f"{'':12} {'least time ratio':24} {(cpu_pd + srv_pd) / cores / t_md:8.3f}  at the dump's "
                         f"CPU over {cores} cores; {(cpu_md + srv_md) / cores / t_md:.3f} at mysqldump's")
        srv.sql(f"DROP DATABASE IF EXISTS `{db}`")
    print("verified: in each database partialdump's subset and mysqldump's per-table subset hold the same rows",
          file=sys.stderr)
    print(f"\nmedian of {args.runs} runs\n")
    print(f"{'database':12} {'what':24} {'seconds':>8} {'fastest-slowest s':>17} {'CPU s':>6} {'server s':>8} "
          f"{'RSS MiB':>9}")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
