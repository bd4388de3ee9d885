//! Seed the hard-case fixture, dump a root, load the file into an empty copy of the schema with
//! foreign-key checks on, and compare every table with the subset the oracle computes.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn dump(url: &str, roots: &[&str], out: &Path) {
    dump_with_graph(url, &graph(), roots, out);
}

fn sqlite_round_trip(roots: &[&str], oracle_where: &str) -> (SqliteDb, SqliteDb, PathBuf) {
    let mut src = SqliteDb::fixture(true);
    let mut dst = src.empty_twin("target.db");
    let out = src.path.with_file_name("dump.sql");
    dump(&src.url(), roots, &out);
    dst.load(&out)
        .expect("the dump loads into an empty schema with foreign keys on");
    assert!(
        dst.rows("PRAGMA foreign_key_check").is_empty(),
        "dangling references after loading"
    );
    let expected = oracle::expected(&mut src, "accounts", oracle_where);
    dst.conn
        .execute_batch(&format!("ATTACH '{}' AS src", src.path.display()))
        .unwrap();
    assert_subset(&expected, &mut dst, |db, t, k, cols| {
        count_equal_rows(db, "src", t, k, cols, "IS")
    });
    (src, dst, out)
}

#[test]
fn sqlite_rich_tenant_round_trips() {
    let (_, mut dst, _) = sqlite_round_trip(&["--root", "accounts.id=1"], "id = 1");
    // The semantics, spelled out on a few rows a user would look at:
    // the Globex contractor assigned to an Acme task comes along as a parent...
    assert_eq!(dst.rows("SELECT id FROM users WHERE id = 5").len(), 1);
    // ...but the other Globex user and Globex's own projects do not.
    assert!(dst.rows("SELECT id FROM users WHERE id = 6").is_empty());
    assert!(
        dst.rows("SELECT id FROM projects WHERE account_id = 2")
            .is_empty()
    );
    // The skipped table's reference is written as NULL.
    assert!(
        dst.rows("SELECT id FROM users WHERE last_session_id IS NOT NULL")
            .is_empty()
    );
    // The cycle-breaking UPDATE restored the owner.
    assert_eq!(
        dst.rows("SELECT owner_user_id FROM accounts WHERE id = 1"),
        vec![vec![Some("1".to_string())]]
    );
}

#[test]
fn sqlite_small_tenant_round_trips() {
    sqlite_round_trip(&["--root", "accounts.id=2"], "id = 2");
}

#[test]
fn sqlite_tenant_without_children_round_trips() {
    let (_, mut dst, _) = sqlite_round_trip(&["--root", "accounts.id=3"], "id = 3");
    assert_eq!(
        dst.rows("SELECT count(*) FROM users"),
        vec![vec![Some("0".into())]]
    );
}

#[test]
fn sqlite_root_where_and_several_roots() {
    sqlite_round_trip(&["--root-where", "accounts:region = 'us'"], "region = 'us'");
    sqlite_round_trip(
        &["--root", "accounts.id=2", "--root", "accounts.id=4"],
        "id IN (2, 4)",
    );
}

#[test]
fn composite_key_root() {
    let src = SqliteDb::fixture(true);
    let out = src.path.with_file_name("dump.sql");
    dump(
        &src.url(),
        &["--root", "task_tags.task_id=4,tag_id=2"],
        &out,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("(4,2,'2024-01-03')"), "{text}");
}

/// Body (everything after the header comments) and trailer of a dump.

#[test]
fn dumps_are_deterministic_and_checksummed() {
    let src = SqliteDb::fixture(true);
    let a = src.path.with_file_name("a.sql");
    let b = src.path.with_file_name("b.sql");
    dump(&src.url(), &["--root", "accounts.id=1"], &a);
    std::thread::sleep(std::time::Duration::from_millis(5));
    dump(&src.url(), &["--root", "accounts.id=1"], &b);
    let (a, b) = (
        std::fs::read_to_string(a).unwrap(),
        std::fs::read_to_string(b).unwrap(),
    );
    assert_eq!(
        strip_snapshot(&a),
        strip_snapshot(&b),
        "two dumps of an unchanged database differ"
    );
    let (body, trailer) = body_and_trailer(&a);
    let digest = format!("{:032x}", twox_hash::XxHash3_128::oneshot(body.as_bytes()));
    assert!(
        trailer.starts_with("-- partialdump end: tables="),
        "{trailer}"
    );
    assert!(
        trailer.contains(&format!("xxh3={digest}")),
        "{trailer} vs {digest}"
    );
    assert!(a.contains("-- source: sqlite:"));
    assert!(a.contains("-- roots: accounts.id=1"));
    assert!(a.contains("-- graph: ") && a.contains("sha256:"));
}

#[test]
fn stdout_is_the_same_dump() {
    let src = SqliteDb::fixture(true);
    let file = src.path.with_file_name("f.sql");
    dump(&src.url(), &["--root", "accounts.id=2"], &file);
    let g = graph();
    let o = partialdump_ok(&[
        "dump",
        "--source",
        &src.url(),
        "--graph",
        g.to_str().unwrap(),
        "--root",
        "accounts.id=2",
    ]);
    let from_file = std::fs::read_to_string(file).unwrap();
    let piped = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(strip_snapshot(&from_file), strip_snapshot(&piped));
    assert!(
        stderr(&o).contains("wrote"),
        "a summary on stderr: {}",
        stderr(&o)
    );
    // `-o -` is standard output too (as `import -` reads standard input), not a file named `-`.
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args([
            "dump",
            "--source",
            &src.url(),
            "--graph",
            g.to_str().unwrap(),
        ])
        .args(["--root", "accounts.id=2", "-o", "-"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let dashed = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(strip_snapshot(&dashed), strip_snapshot(&piped));
    assert!(!dir.path().join("-").exists(), "wrote a file named `-`");
}

/// An SQLite table without a primary key or a unique index of NOT NULL columns (a log, which
/// may hold two rows alike) has its rows told apart by its rowid: every row is dumped, none
/// twice, the rowid is not written (a copy numbers its rows afresh), and a root or an
/// `--explain` may name a row by it. A column named `rowid` leaves `_rowid_` to reach it.
#[test]
fn sqlite_table_without_a_key_is_keyed_by_its_rowid() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE notes (account_id INTEGER NOT NULL REFERENCES accounts (id), body TEXT);
        CREATE TABLE events (rowid TEXT, account_id INTEGER REFERENCES accounts (id));
        CREATE INDEX notes_account ON notes (account_id);
        CREATE INDEX events_account ON events (account_id);";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO accounts VALUES (1, 'one'), (2, 'two');
         INSERT INTO notes VALUES (1, 'same'), (1, 'same'), (2, 'other'), (1, NULL), (1, 'same');
         INSERT INTO events VALUES ('r1', 1), ('r1', 1), ('r2', 2);",
    )
    .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [notes, events]\n",
    );
    let (dst, dst_conn) = sqlite_file(dir.path(), "dst.db", schema);
    dst_conn
        .execute_batch(
            "INSERT INTO accounts VALUES (9, 'nine'); INSERT INTO notes VALUES (9, 'same')",
        )
        .unwrap();
    let (src, dst) = (
        format!("sqlite://{}", src.display()),
        format!("sqlite://{}", dst.display()),
    );
    let out = dir.path().join("dump.sql");
    dump_with_graph(&src, &graph, &["--root", "accounts.id=1"], &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("INSERT INTO \"notes\" (\"account_id\",\"body\") VALUES"),
        "{text}"
    );
    assert!(
        text.contains("INSERT INTO \"events\" (\"rowid\",\"account_id\") VALUES"),
        "{text}"
    );
    assert!(text.contains("-- rows \"notes\" 4\n"), "{text}");
    assert!(text.contains("-- rows \"events\" 2\n"), "{text}");
    partialdump_ok(&["import", "--target", &dst, out.to_str().unwrap(), "-q"]);
    let rows = |sql: &str| -> Vec<String> {
        let mut st = dst_conn.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        rows("SELECT account_id || ':' || IFNULL(body, '-') FROM notes ORDER BY rowid"),
        ["9:same", "1:same", "1:same", "1:-", "1:same"]
    );
    assert_eq!(
        rows("SELECT rowid FROM events ORDER BY account_id"),
        ["r1", "r1"]
    );
    let v = verify(&src, &dst, &graph, "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    // One note as the root: that row alone, and its account.
    let one = dir.path().join("one.sql");
    dump_with_graph(&src, &graph, &["--root", "notes.rowid=3"], &one);
    let text = std::fs::read_to_string(&one).unwrap();
    assert!(
        text.contains("(2,'other')") && text.contains("-- rows \"notes\" 1\n"),
        "{text}"
    );
    assert!(
        text.contains("(2,'two')") && !text.contains("'same'"),
        "{text}"
    );
    let o = partialdump_ok(&[
        "plan",
        "--source",
        &src,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "--explain",
        "notes.rowid=4",
    ]);
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(
        plan.contains("notes.rowid=4 is in the dump") && plan.contains("-> notes rowid=4"),
        "{plan}"
    );
}

// ---------------------------------------------------------------- MariaDB

fn mysql_round_trip(
    test: &str,
    roots: &[&str],
    oracle_where: &str,
) -> Option<(MysqlDb, MysqlDb, PathBuf)> {
    let mut src = MysqlDb::fixture(&format!("{test}_s"), true)?;
    let mut dst = MysqlDb::fixture(&format!("{test}_d"), false)?;
    let dir = tempfile::tempdir().unwrap().keep();
    let out = dir.join("dump.sql");
    dump(&src.url(), roots, &out);
    dst.load_file(&out)
        .expect("the dump loads with the mariadb client, foreign-key checks on");
    let expected = oracle::expected(&mut src, "accounts", oracle_where);
    let src_name = format!("`{}`", src.name);
    assert_subset(&expected, &mut dst, |db, t, k, cols| {
        count_equal_rows(db, &src_name, t, k, cols, "<=>")
    });
    Some((src, dst, out))
}

#[test]
fn mysql_rich_tenant_round_trips_every_type() {
    let Some((_src, mut dst, out)) =
        mysql_round_trip("rt_rich", &["--root", "accounts.id=1"], "id = 1")
    else {
        return;
    };
    let text = std::fs::read_to_string(&out).unwrap();
    // The generated column is computed by the target, not written.
    assert!(!text.contains("gen_total"));
    assert!(!text.contains("email_domain"));
    // Reserved words are quoted.
    assert!(text.contains("INSERT INTO `order` (`id`,`account_id`,`select`,`total`)"));
    // Spot checks on values a user would look at after loading.
    assert_eq!(
        dst.rows("SELECT u64, dec_big, HEX(bits), tm, dtm FROM type_zoo WHERE id = 1"),
        vec![vec![
            Some("18446744073709551615".into()),
            Some("12345678901234567890123456789012345.123456789012345678901234567890".into()),
            Some("2AA".into()),
            Some("-838:59:59.000000".into()),
            Some("0000-00-00 00:00:00.000000".into()),
        ]]
    );
    assert_eq!(
        dst.rows("SELECT HEX(tx) FROM type_zoo WHERE id = 1"),
        vec![vec![Some(
            hex(b"nul\0ctrl-z\x1acr\rlf\nend").to_uppercase()
        )]]
    );
}

#[test]
fn mysql_small_tenant_round_trips() {
    mysql_round_trip("rt_small", &["--root", "accounts.id=2"], "id = 2");
}

#[test]
fn mysql_tenant_without_children_round_trips() {
    mysql_round_trip("rt_empty", &["--root", "accounts.id=3"], "id = 3");
}

#[test]
fn mysql_dump_loads_under_no_backslash_escapes() {
    let Some((src, _dst, out)) = mysql_round_trip("rt_nbe", &["--root", "accounts.id=1"], "id = 1")
    else {
        return;
    };
    let Some(mut other) = MysqlDb::fixture("rt_nbe_o", false) else {
        return;
    };
    let text = std::fs::read_to_string(&out).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("SET sql_mode = "))
        .expect("the dump sets sql_mode");
    let changed = text.replace(
        line,
        "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES';",
    );
    let path = out.with_file_name("nbe.sql");
    std::fs::write(&path, changed).unwrap();
    other
        .load_file(&path)
        .expect("loads under NO_BACKSLASH_ESCAPES");
    let mut src = src;
    let expected = oracle::expected(&mut src, "accounts", "id = 1");
    let src_name = format!("`{}`", src.name);
    assert_subset(&expected, &mut other, |db, t, k, cols| {
        count_equal_rows(db, &src_name, t, k, cols, "<=>")
    });
}

#[test]
fn mysql_timestamps_do_not_depend_on_time_zones() {
    let Some(mut src) = MysqlDb::fixture("rt_tz_s", true) else {
        return;
    };
    let Some(mut dst) = MysqlDb::fixture("rt_tz_d", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.sql");
    dump(&src.url(), &["--root", "accounts.id=1"], &out);
    // Load through a session whose time zone is far from UTC: the dump sets its own.
    let text = std::fs::read_to_string(&out).unwrap();
    std::fs::write(&out, format!("SET time_zone = '+09:00';\n{text}")).unwrap();
    dst.load_file(&out).unwrap();
    let q = "SELECT id, UNIX_TIMESTAMP(ts) FROM type_zoo ORDER BY id";
    assert_eq!(src.rows(q).len(), 4);
    let src_ts: Vec<_> = src
        .rows(q)
        .into_iter()
        .filter(|r| r[0].as_deref() != Some("3"))
        .collect();
    assert_eq!(dst.rows(q), src_ts);
}

/// Tiny lookup batches (one key, two keys, ...) cross every batch boundary of the walk and the
/// row fetch, composite keys included; and over several connections (MySQL) the rows of many
/// small queries arrive in any order. The dump must not change.
fn batch_sizes_do_not_change_the_dump(url: &str, dir: &Path) {
    let reference = dir.join("ref.sql");
    dump(url, &["--root", "accounts.id=1"], &reference);
    let reference = strip_snapshot(&std::fs::read_to_string(reference).unwrap());
    for (i, args) in [
        &["--batch-size", "1"][..],
        &["--batch-size", "2"],
        &["--batch-size", "3"],
        &["--batch-size", "1", "--jobs", "4"],
        &["--jobs", "2"],
    ]
    .iter()
    .enumerate()
    {
        let out = dir.join(format!("b{i}.sql"));
        let mut all = vec!["--root", "accounts.id=1"];
        all.extend_from_slice(args);
        dump(url, &all, &out);
        assert_eq!(
            strip_snapshot(&std::fs::read_to_string(out).unwrap()),
            reference,
            "{args:?} changed the dump"
        );
    }
}

#[test]
fn sqlite_batch_sizes_do_not_change_the_dump() {
    let src = SqliteDb::fixture(true);
    batch_sizes_do_not_change_the_dump(&src.url(), src.path.parent().unwrap());
}

#[test]
fn mysql_batch_sizes_do_not_change_the_dump() {
    let Some(src) = MysqlDb::fixture("rt_batch", true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    batch_sizes_do_not_change_the_dump(&src.url(), dir.path());
}

/// Dumps account 1 of `src` with the graph `g`, next to the database; returns the file.
fn dump_account_1(src: &SqliteDb, g: &Path) -> PathBuf {
    let out = src.path.with_file_name("dump.sql");
    dump_with_graph(&src.url(), g, &["--root", "accounts.id=1"], &out);
    out
}

#[test]
fn lookup_tables_read_whole_need_no_reference_queries_and_filtered_ones_still_bring_referenced_rows()
 {
    let src = SqliteDb::fixture(true);
    let plan = |graph: &Path| {
        let o = partialdump_ok(&[
            "plan",
            "--source",
            &src.url(),
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            "accounts.id=1",
        ]);
        String::from_utf8(o.stdout).unwrap()
    };
    // Read whole: every country a user can reference is in the dump already.
    let whole = plan(&graph());
    assert!(
        whole.contains("SELECT t.\"code\", t.\"name\" FROM \"countries\" t;"),
        "{whole}"
    );
    assert!(
        !whole.contains("rows referenced by users.country_code"),
        "{whole}"
    );
    assert!(
        !whole.contains("countries rows referenced by rows read"),
        "{whole}"
    );

    // Read with a filter that leaves out the countries account 1's users live in (DE, FR):
    // those are still brought in by their references, and the dump loads with checks on.
    let mut dst = src.empty_twin("target.db");
    let g = src.path.with_file_name("filtered.yaml");
    let text = std::fs::read_to_string(graph()).unwrap().replace(
        "  countries: {mode: lookup}",
        "  countries: {mode: lookup, where: \"code = 'JP'\"}",
    );
    std::fs::write(&g, text).unwrap();
    let filtered = plan(&g);
    assert!(
        filtered.contains("countries rows referenced by rows read, by key"),
        "{filtered}"
    );
    let out = dump_account_1(&src, &g);
    dst.load(&out).unwrap();
    assert!(dst.rows("PRAGMA foreign_key_check").is_empty());
    let codes: Vec<Option<String>> = dst
        .rows("SELECT code FROM countries ORDER BY code")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    // The filter's row, and exactly the rows the dumped users reference.
    let expected: Vec<Option<String>> = dst
        .rows(
            "SELECT 'JP' UNION SELECT country_code FROM users WHERE country_code IS NOT NULL \
             ORDER BY 1",
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(codes, expected);
    for c in ["DE", "FR"] {
        assert!(codes.contains(&Some(c.to_string())), "{codes:?}");
    }
}

#[test]
fn where_filters_limit_what_children_bring_in() {
    let mut src = SqliteDb::fixture(true);
    let dst = src.empty_twin("target.db");
    let g = src.path.with_file_name("filtered.yaml");
    let text = std::fs::read_to_string(graph()).unwrap();
    // Per-edge filter: archived projects stay behind. Per-table filter: only login events.
    let text = text
        .replace(
            "      - projects\n",
            "      - {table: projects, where: \"archived = 0\"}\n",
        )
        .replace(
            "  audit_events:\n    references:",
            "  audit_events:\n    where: \"action = 'login'\"\n    references:",
        );
    std::fs::write(&g, text).unwrap();
    let out = dump_account_1(&src, &g);
    dst.load(&out).unwrap();
    let mut dst = dst;
    assert_eq!(
        dst.rows("SELECT id FROM projects ORDER BY id"),
        vec![vec![Some("1".into())]]
    );
    // Task 5 belongs to the archived project: not owned, and nothing references it.
    assert!(dst.rows("SELECT id FROM tasks WHERE id = 5").is_empty());
    assert_eq!(
        dst.rows("SELECT action FROM audit_events"),
        vec![vec![Some("login".into())]]
    );
    // Unfiltered ownership still holds.
    assert_eq!(
        src.rows("SELECT count(*) FROM users WHERE account_id = 1"),
        dst.rows("SELECT count(*) FROM users WHERE account_id = 1")
    );
}

#[test]
fn stats_json_reports_rows_bytes_and_seconds_per_table() {
    let src = SqliteDb::fixture(true);
    let out = src.path.with_file_name("d.sql");
    let v = dump_with_stats(&src.url(), &graph(), &["--root", "accounts.id=1"], &out);
    let text = std::fs::read_to_string(&out).unwrap();
    let trailer_rows = trailer_rows(&text);
    let tables = v["tables"].as_array().unwrap();
    let sum: u64 = tables.iter().map(|t| t["rows"].as_u64().unwrap()).sum();
    assert_eq!(sum, trailer_rows);
    assert_eq!(v["rows"].as_u64().unwrap(), trailer_rows);
    let users = tables.iter().find(|t| t["table"] == "users").unwrap();
    assert_eq!(users["rows"], 5);
    assert!(users["bytes"].as_u64().unwrap() > 100);
    assert!(users["seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(v["bytes"].as_u64().unwrap(), text.len() as u64);
}

/// Adds `task_tag_notes` to `db`: notes on task tags, children of task_tags by its two-column
/// key (so a scan for them filters on pairs).
fn create_task_tag_notes(db: &mut MysqlDb) {
    db.rows(
        "CREATE TABLE task_tag_notes (id INT PRIMARY KEY, task_id INT NOT NULL, \
         tag_id INT NOT NULL, note VARCHAR(20) NOT NULL, \
         FOREIGN KEY (task_id, tag_id) REFERENCES task_tags (task_id, tag_id))",
    );
}

/// The fixture's graph with `task_tag_notes` as children of task_tags, written into `dir`.
fn graph_with_task_tag_notes(dir: &Path) -> PathBuf {
    write_graph(
        dir,
        &(std::fs::read_to_string(common::graph()).unwrap()
            + "  task_tags:\n    children: [task_tag_notes]\n"),
    )
}

/// Children found through the first columns of their table's primary key lie together in it
/// (`posts (thread_id, seq)`): a community holding 40% of the threads has its posts looked up
/// by thread, not read by a scan of every post, while the same share of children found
/// through an index of their own (`likes (id)`, indexed on `thread_id`), each a lookup of its
/// row elsewhere in the table, is read by a scan. Both write the dump lookups write. Thirty
/// posts a thread: with ten, the walk chose lookups only while InnoDB estimated posts at over
/// 12,000 rows of the 20,000 (its estimates ran 17,000-23,000), and CI once saw a scan.
#[test]
fn mysql_children_that_lie_together_are_looked_up() {
    let Some(mut src) = mysql_db("rt_clustered") else {
        return;
    };
    src.script(
        "CREATE TABLE communities (id INT PRIMARY KEY);
         CREATE TABLE threads (id INT PRIMARY KEY, community_id INT NOT NULL,
           FOREIGN KEY (community_id) REFERENCES communities (id));
         CREATE TABLE posts (thread_id INT NOT NULL, seq INT NOT NULL, body VARCHAR(40),
           PRIMARY KEY (thread_id, seq), FOREIGN KEY (thread_id) REFERENCES threads (id));
         CREATE TABLE likes (id INT PRIMARY KEY, thread_id INT NOT NULL, who VARCHAR(20),
           FOREIGN KEY (thread_id) REFERENCES threads (id));
         INSERT INTO communities SELECT seq FROM seq_1_to_10;
         INSERT INTO threads SELECT seq, IF(seq % 5 < 2, 1, 2 + seq % 9) FROM seq_1_to_2000;
         INSERT INTO posts SELECT t.id, s.seq, CONCAT('post ', s.seq) FROM threads t JOIN seq_1_to_30 s;
         INSERT INTO likes SELECT (t.id - 1) * 10 + s.seq, t.id, 'me' FROM threads t JOIN seq_1_to_10 s;
         ANALYZE TABLE communities, threads, posts, likes",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  communities:\n    children: [threads]\n  threads:\n    children: [posts, likes]\n",
    );
    let url = src.url();
    let run = |name: &str, extra: &[&str]| {
        dump_text_counting_scans(
            &url,
            &graph,
            "communities.id=1",
            extra,
            &dir.path().join(name),
        )
    };
    let (chosen, scans) = run("chosen.sql", &["--jobs", "2"]);
    assert_eq!(scans["posts"], 0, "{scans:?}");
    assert_eq!(scans["likes"], 1, "{scans:?}");
    let (looked_up, _) = run("lookups.sql", &["--lookups-only"]);
    assert!(
        chosen == looked_up,
        "the dump differs from the one by lookups"
    );
    assert_eq!(chosen.matches("'post ").count(), 24000);
    assert_eq!(chosen.matches("'me'").count(), 8000);
}

/// Children found by scans whose parents' keys are dense (a tenant's every third id among
/// others') are tested as a set of bits rather than an IN list; the dump is the one lookups
/// write. On an unsigned column whose other rows hold values below and above the tenant's
/// (rows the test must pass over before it subtracts the least key) and NULLs, on a signed
/// column whose keys are negative, and on two columns (the children of `(box_id, line)`
/// pairs, tested by both). Those sets span a few thousand values, and the scans test them by
/// a byte a key; the tenant's 40,000 crates, every twentieth id of 800,000, by a bit a key
/// (their bytes would not fit in the scan's text).
#[test]
fn mysql_scans_by_dense_keys_find_the_children_lookups_find() {
    let Some(mut src) = mysql_db("rt_bits") else {
        return;
    };
    src.script(
        "CREATE TABLE tenants (id INT PRIMARY KEY);
         CREATE TABLE boxes (id BIGINT UNSIGNED PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE items (id INT PRIMARY KEY, box_id BIGINT UNSIGNED NULL, label VARCHAR(40),
           FOREIGN KEY (box_id) REFERENCES boxes (id));
         CREATE TABLE shelves (id INT PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE books (id INT PRIMARY KEY, shelf_id INT NULL, title VARCHAR(40),
           FOREIGN KEY (shelf_id) REFERENCES shelves (id));
         INSERT INTO tenants VALUES (1), (2);
         INSERT INTO boxes SELECT 999 + seq, IF(seq % 3 = 0, 1, 2) FROM seq_1_to_3000;
         INSERT INTO boxes VALUES (5, 2), (9223372036854775807, 2), (18446744073709551615, 2);
         INSERT INTO items SELECT ROW_NUMBER() OVER (ORDER BY b.id, s.seq), b.id,
           CONCAT('item ', b.id, '/', s.seq) FROM boxes b JOIN seq_1_to_5 s;
         INSERT INTO items SELECT 100000 + seq, NULL, 'loose' FROM seq_1_to_200;
         INSERT INTO shelves SELECT -CAST(seq AS SIGNED), IF(seq % 3 = 0, 1, 2) FROM seq_1_to_3000;
         INSERT INTO shelves VALUES (2147483647, 2), (-2147483648, 2);
         INSERT INTO books SELECT ROW_NUMBER() OVER (ORDER BY sh.id, s.seq), sh.id,
           CONCAT('book ', sh.id, '/', s.seq) FROM shelves sh JOIN seq_1_to_5 s;
         INSERT INTO books SELECT 100000 + seq, NULL, 'loose' FROM seq_1_to_200;
         CREATE TABLE box_lines (box_id BIGINT UNSIGNED NOT NULL, line INT NOT NULL,
           PRIMARY KEY (box_id, line), FOREIGN KEY (box_id) REFERENCES boxes (id));
         CREATE TABLE marks (box_id BIGINT UNSIGNED NOT NULL, line INT NOT NULL, n INT NOT NULL,
           what VARCHAR(40), PRIMARY KEY (box_id, line, n),
           FOREIGN KEY (box_id, line) REFERENCES box_lines (box_id, line));
         INSERT INTO box_lines SELECT b.id, s.seq FROM boxes b JOIN seq_1_to_5 s;
         INSERT INTO marks SELECT l.box_id, l.line, s.seq, CONCAT('mark ', l.box_id, '/', l.line)
           FROM box_lines l JOIN seq_1_to_2 s;
         CREATE TABLE crates (id INT PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE parcels (id INT PRIMARY KEY, crate_id INT NOT NULL,
           FOREIGN KEY (crate_id) REFERENCES crates (id));
         INSERT INTO crates SELECT seq * 10, IF(seq % 2 = 0, 1, 2) FROM seq_1_to_80000;
         INSERT INTO parcels SELECT seq, seq * 10 FROM seq_1_to_80000;
         ANALYZE TABLE tenants, boxes, items, shelves, books, box_lines, marks, crates, parcels",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  tenants:\n    children: [boxes, shelves, crates]\n  boxes:\n    children: \
         [items, box_lines]\n  box_lines:\n    children: [marks]\n  shelves:\n    children: \
         [books]\n  crates:\n    children: [parcels]\n",
    );
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, "tenants.id=1", &["--jobs", "2"]);
    assert_eq!(scans["items"], 1, "{scans:?}");
    assert_eq!(scans["books"], 1, "{scans:?}");
    assert_eq!(scans["marks"], 1, "{scans:?}");
    assert_eq!(scans["parcels"], 1, "{scans:?}");
    // The tenant's crates are the even ones (20, 40, ...), a parcel each.
    assert!(scanned.contains("\n-- rows `parcels` 40000\n"));
    // 1,000 boxes and 1,000 shelves of tenant 1, five children each; none of the others'.
    assert_eq!(scanned.matches("'item ").count(), 5000);
    assert_eq!(scanned.matches("'book -").count(), 5000);
    assert_eq!(scanned.matches("'mark ").count(), 10000);
    assert!(!scanned.contains("'loose'"));
    assert!(!scanned.contains("'item 5/") && !scanned.contains("'book 2147483647/"));
}

/// Children by a key of text whose every key leads with the tenant's id (`(org_id, slug)`,
/// under a case-insensitive collation) are read by a scan naming just that id, the walk testing
/// each row's key: a revision naming its document in another case (or with a trailing space)
/// is found all the same, by the server's comparison; one of a document the graph's filter
/// leaves out is not. The dump is the one lookups write.
#[test]
fn mysql_scans_naming_the_tenant_test_keys_of_text_as_the_server_compares_them() {
    let Some(mut src) = mysql_db("rt_tested") else {
        return;
    };
    src.script(
        "CREATE TABLE orgs (id CHAR(36) PRIMARY KEY) COLLATE utf8mb4_general_ci;
         CREATE TABLE docs (org_id CHAR(36) NOT NULL, slug VARCHAR(64) NOT NULL,
           title VARCHAR(40), PRIMARY KEY (org_id, slug),
           FOREIGN KEY (org_id) REFERENCES orgs (id)) COLLATE utf8mb4_general_ci;
         CREATE TABLE revisions (id INT PRIMARY KEY, org_id CHAR(36) NOT NULL,
           slug VARCHAR(64) NOT NULL, note VARCHAR(60), KEY (org_id, slug),
           FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug)) COLLATE utf8mb4_general_ci;
         INSERT INTO orgs SELECT CONCAT('00000000-0000-4000-8000-', LPAD(seq, 12, '0'))
           FROM seq_1_to_5;
         INSERT INTO docs SELECT CONCAT('00000000-0000-4000-8000-', LPAD(IF(seq % 2 = 0, 1,
           2 + seq % 4), 12, '0')), CONCAT('doc-', seq), CONCAT('title ', seq) FROM seq_1_to_12000;
         INSERT INTO revisions SELECT (d.seq - 1) * 2 + r.seq, d.org_id,
           CASE WHEN r.seq = 2 AND d.seq % 100 = 0 THEN UPPER(d.slug)
                WHEN r.seq = 2 AND d.seq % 100 = 50 THEN CONCAT(d.slug, ' ')
                ELSE d.slug END,
           CONCAT('rev ', d.seq, '/', r.seq)
           FROM (SELECT seq, CONCAT('00000000-0000-4000-8000-', LPAD(IF(seq % 2 = 0, 1,
             2 + seq % 4), 12, '0')) AS org_id, CONCAT('doc-', seq) AS slug FROM seq_1_to_12000) d
           JOIN seq_1_to_2 r;
         ANALYZE TABLE orgs, docs, revisions",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  orgs:\n    children: [{table: docs, where: \"slug <> 'doc-200'\"}]\n  docs:\n    \
         children: [revisions]\n",
    );
    let root = "orgs.id=00000000-0000-4000-8000-000000000001";
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, root, &["--jobs", "2"]);
    assert_eq!(scans["revisions"], 1, "{scans:?}");
    // The org's 6,000 documents but doc-200, two revisions each.
    assert!(
        scanned.contains("\n-- rows `docs` 5999\n"),
        "{scanned:.2000}"
    );
    assert!(scanned.contains("\n-- rows `revisions` 11998\n"));
    // Revisions naming their document in upper case, and with a trailing space.
    assert!(scanned.contains("'DOC-100','rev 100/2'"));
    assert!(scanned.contains("'doc-150 ','rev 150/2'"));
    assert!(!scanned.contains("'rev 200/"));
    assert!(!scanned.contains("'rev 1/") && !scanned.contains("'rev 3/"));
}

/// Rows referenced by a key of bytes (authors, `VARBINARY(16)`, some shorter than others and
/// prefixes of none, some holding zero bytes): read by one scan cut into ranges of the key over
/// the connections, each range bounded by its least and greatest key, the server comparing
/// bytes as the dump sorts them; the dump is the one lookups write.
#[test]
fn mysql_scans_by_keys_of_bytes_in_ranges_find_the_rows_lookups_find() {
    let Some(mut src) = mysql_db("rt_byterange") else {
        return;
    };
    src.script(
        "CREATE TABLE tenants (id INT PRIMARY KEY);
         CREATE TABLE users (id VARBINARY(16) PRIMARY KEY, name VARCHAR(20) NOT NULL);
         CREATE TABLE posts (id INT PRIMARY KEY, tenant_id INT NOT NULL,
           author VARBINARY(16) NOT NULL, FOREIGN KEY (tenant_id) REFERENCES tenants (id),
           FOREIGN KEY (author) REFERENCES users (id));
         INSERT INTO tenants VALUES (1), (2);
         INSERT INTO users SELECT CASE WHEN seq % 97 = 0 THEN LEFT(UNHEX(MD5(seq)), 7)
             WHEN seq % 101 = 0 THEN CONCAT(X'00', LEFT(UNHEX(MD5(seq)), 9), X'00')
             ELSE UNHEX(MD5(seq)) END, CONCAT('user ', seq) FROM seq_1_to_30000;
         INSERT INTO posts SELECT p.seq, IF(p.seq % 2 = 0, 1, 2), u.id FROM seq_1_to_40000 p
           JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY name) AS n FROM users) u
           ON u.n = (p.seq * 7) % 30000 + 1;
         ANALYZE TABLE tenants, users, posts",
    );
    let expected = src.rows("SELECT COUNT(DISTINCT author) FROM posts WHERE tenant_id = 1")[0][0]
        .clone()
        .expect("a count");
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  tenants:\n    children: [posts]\n");
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, "tenants.id=1", &["--jobs", "4"]);
    assert_eq!(scans["users"], 1, "{scans:?}");
    assert!(
        scanned.contains(&format!("\n-- rows `users` {expected}\n")),
        "{expected} users expected: {scans:?}"
    );
}

/// A root's own children, where that root holds most of a large table (a tenant's 30,000
/// events of 40,000), are priced by the server's estimate of that root's, not the average
/// tenant's: read by a scan (which the walk cuts into ranges over the connections) rather than
/// by one lookup the server would answer with a scan of the whole table on one core; a small
/// tenant's are still looked up. Tenants keyed by a number or by a UUID's text alike. Either
/// way the dump is the one lookups write.
#[test]
fn mysql_a_large_roots_own_children_are_read_by_a_scan() {
    for (db, key_type) in [("rt_rootkids", "INT"), ("rt_rootkids_t", "CHAR(36)")] {
        let Some(mut src) = mysql_db(db) else {
            return;
        };
        let key = |n: u32| match key_type {
            "INT" => n.to_string(),
            _ => format!("00000000-0000-4000-8000-{n:012}"),
        };
        let as_key = |expr: &str| match key_type {
            "INT" => expr.to_string(),
            _ => format!("CONCAT('00000000-0000-4000-8000-', LPAD({expr}, 12, '0'))"),
        };
        src.script(&format!(
            "CREATE TABLE tenants (id {key_type} PRIMARY KEY);
             CREATE TABLE events (id INT PRIMARY KEY, tenant_id {key_type} NOT NULL,
               kind VARCHAR(20), FOREIGN KEY (tenant_id) REFERENCES tenants (id));
             INSERT INTO tenants SELECT {} FROM seq_1_to_100;
             INSERT INTO events SELECT seq, {}, CONCAT('kind ', seq % 7) FROM seq_1_to_40000;
             ANALYZE TABLE tenants, events",
            as_key("seq"),
            as_key("IF(seq % 4 = 0, 2 + seq % 99, 1)"),
        ));
        let dir = tempfile::tempdir().unwrap();
        let graph = write_graph(dir.path(), "tables:\n  tenants:\n    children: [events]\n");
        let root = |n: u32| format!("tenants.id={}", key(n));
        let (large, scans) = scans_as_lookups(&src.url(), &graph, &root(1), &["--jobs", "4"]);
        assert_eq!(
            scans["events"], 1,
            "{key_type}: the large tenant's events by a scan: {scans:?}"
        );
        assert!(
            large.contains("\n-- rows `events` 30000\n"),
            "{key_type}: 30,000 events expected"
        );
        let (small, scans) = scans_as_lookups(&src.url(), &graph, &root(2), &["--jobs", "4"]);
        assert_eq!(
            scans["events"], 0,
            "{key_type}: the small tenant's events looked up: {scans:?}"
        );
        let expected = src.rows(&format!(
            "SELECT COUNT(*) FROM events WHERE tenant_id = '{}'",
            key(2)
        ))[0][0]
            .clone()
            .expect("a count");
        assert!(
            small.contains(&format!("\n-- rows `events` {expected}\n")),
            "{key_type}: {expected} events expected"
        );
    }
}

/// Children keyed under their parent's key (post tags under their post's `(thread_id, seq)`),
/// whose parents' first values (the tenant's threads, a fifth of them) are spread over the whole
/// table: the scan reads just the rows under those threads, not every range whole, and writes
/// the dump lookups write. The rows MariaDB read from the table are counted by its user
/// statistics (`userstat`).
#[test]
fn mysql_scans_read_just_the_rows_under_the_keys_first_values() {
    let Some(mut src) = mysql_db("rt_firsts") else {
        return;
    };
    src.script(
        "CREATE TABLE tenants (id INT PRIMARY KEY);
         CREATE TABLE threads (id BIGINT PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE posts (thread_id BIGINT NOT NULL, seq INT NOT NULL,
           PRIMARY KEY (thread_id, seq), FOREIGN KEY (thread_id) REFERENCES threads (id));
         CREATE TABLE post_tags (thread_id BIGINT NOT NULL, seq INT NOT NULL, tag INT NOT NULL,
           PRIMARY KEY (thread_id, seq, tag),
           FOREIGN KEY (thread_id, seq) REFERENCES posts (thread_id, seq));
         INSERT INTO tenants VALUES (1), (2);
         INSERT INTO threads SELECT 9000000000000000000 + seq, IF(seq % 5 = 0, 1, 2)
           FROM seq_1_to_2000;
         INSERT INTO posts SELECT t.id, s.seq FROM threads t JOIN seq_1_to_10 s;
         INSERT INTO post_tags SELECT p.thread_id, p.seq, s.seq FROM posts p JOIN seq_1_to_2 s;
         ANALYZE TABLE tenants, threads, posts, post_tags",
    );
    // On for the test's dump, then as it was: the statistics cost every query a little.
    let was = src.rows("SELECT @@GLOBAL.userstat")[0][0].clone();
    let was = was.as_deref().unwrap_or("0").to_string();
    src.rows("SET GLOBAL userstat = 1");
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  tenants:\n    children: [threads]\n  threads:\n    children: [posts]\n  \
         posts:\n    children: [post_tags]\n",
    );
    let (name, url) = (src.name.clone(), src.url());
    let mut rows_read = || -> u64 {
        let rows = src.rows(&format!(
            "SELECT COALESCE(SUM(ROWS_READ), 0) FROM information_schema.TABLE_STATISTICS \
             WHERE TABLE_SCHEMA = '{name}' AND TABLE_NAME = 'post_tags'"
        ));
        rows[0][0].as_deref().unwrap_or("0").parse().unwrap()
    };
    let before = rows_read();
    let (scanned, scans) = dump_text_counting_scans(
        &url,
        &graph,
        "tenants.id=1",
        &["--jobs", "2"],
        &dir.path().join("scanned.sql"),
    );
    let read = rows_read() - before;
    src.rows(&format!("SET GLOBAL userstat = {was}"));
    assert_eq!(scans["post_tags"], 1, "{scans:?}");
    // 400 threads of tenant 1, ten posts each, two tags a post: 8,000 of 40,000 rows.
    assert!(
        scanned.contains("\n-- rows `post_tags` 8000\n"),
        "{scans:?}"
    );
    assert!(
        read < 40_000 / 2,
        "the scan read {read} rows of post_tags' 40,000 for the tenant's 8,000"
    );
    let (looked_up, _) = dump_text_counting_scans(
        &url,
        &graph,
        "tenants.id=1",
        &["--lookups-only"],
        &dir.path().join("lookups.sql"),
    );
    assert!(
        scanned == looked_up,
        "a dump by scans differs from the one by lookups"
    );
}

/// Children found by scans whose parents' keys are sparse pairs (a tenant's boxes a thousand
/// ids apart, five lines each) are tested by each pair's cell in a list of values, as bits
/// would take far more room; the dump is the one lookups write. On unsigned columns whose
/// other rows hold values below and above the tenant's (rows the test must pass over before
/// it subtracts the least key) and NULLs; and for the pairs the subset references (every line
/// the tenant's inspections name, most of another tenant's), read by a scan too.
#[test]
fn mysql_scans_by_sparse_pairs_find_the_rows_lookups_find() {
    let Some(mut src) = mysql_db("rt_cells") else {
        return;
    };
    src.script(
        "CREATE TABLE tenants (id INT PRIMARY KEY);
         CREATE TABLE boxes (id BIGINT UNSIGNED PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE box_lines (box_id BIGINT UNSIGNED NOT NULL, line INT UNSIGNED NOT NULL,
           what VARCHAR(40), PRIMARY KEY (box_id, line), FOREIGN KEY (box_id) REFERENCES boxes (id));
         CREATE TABLE marks (box_id BIGINT UNSIGNED NOT NULL, line INT UNSIGNED NOT NULL,
           n INT NOT NULL, what VARCHAR(40), PRIMARY KEY (box_id, line, n),
           FOREIGN KEY (box_id, line) REFERENCES box_lines (box_id, line));
         CREATE TABLE stickers (id INT PRIMARY KEY, box_id BIGINT UNSIGNED NULL,
           line INT UNSIGNED NULL, what VARCHAR(40),
           FOREIGN KEY (box_id, line) REFERENCES box_lines (box_id, line));
         CREATE TABLE inspections (id INT PRIMARY KEY, tenant_id INT NOT NULL,
           box_id BIGINT UNSIGNED NOT NULL, line INT UNSIGNED NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id),
           FOREIGN KEY (box_id, line) REFERENCES box_lines (box_id, line));
         INSERT INTO tenants VALUES (1), (2), (3);
         INSERT INTO boxes SELECT 1000 * seq, IF(seq % 6 = 0, 1, 2) FROM seq_1_to_6000;
         INSERT INTO boxes VALUES (5, 2), (18446744073709551615, 2);
         INSERT INTO boxes SELECT 10000000 + 1000 * seq, 3 FROM seq_1_to_1000;
         INSERT INTO box_lines SELECT b.id, s.seq, CONCAT('line ', b.id, '/', s.seq)
           FROM boxes b JOIN seq_1_to_5 s;
         INSERT INTO marks SELECT l.box_id, l.line, 1, CONCAT('mark ', l.box_id, '/', l.line)
           FROM box_lines l;
         INSERT INTO stickers SELECT ROW_NUMBER() OVER (ORDER BY l.box_id, l.line), l.box_id,
           l.line, CONCAT('sticker ', l.box_id, '/', l.line) FROM box_lines l
           JOIN boxes b ON b.id = l.box_id WHERE b.tenant_id = 1 OR b.id IN (5, 18446744073709551615);
         INSERT INTO stickers SELECT 100000 + seq, NULL, NULL, 'loose' FROM seq_1_to_200;
         INSERT INTO inspections SELECT ROW_NUMBER() OVER (ORDER BY l.box_id, l.line), 1,
           l.box_id, l.line FROM box_lines l JOIN boxes b ON b.id = l.box_id WHERE b.tenant_id = 3;
         ANALYZE TABLE tenants, boxes, box_lines, marks, stickers, inspections",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  tenants:\n    children: [boxes, inspections]\n  boxes:\n    children: \
         [box_lines]\n  box_lines:\n    children: [marks, stickers]\n",
    );
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, "tenants.id=1", &["--jobs", "2"]);
    assert_eq!(scans["marks"], 1, "{scans:?}");
    assert_eq!(scans["stickers"], 1, "{scans:?}");
    assert_eq!(scans["box_lines"], 1, "{scans:?}");
    // 1,000 boxes of tenant 1, five lines each, a mark and a sticker a line; and the 5,000
    // lines of tenant 3 its inspections name.
    assert_eq!(scanned.matches("'mark ").count(), 5000);
    assert_eq!(scanned.matches("'sticker ").count(), 5000);
    assert_eq!(scanned.matches("'line ").count(), 10000);
    assert!(!scanned.contains("'loose'"));
    assert!(!scanned.contains("'mark 5/") && !scanned.contains("'line 18446744073709551615/"));
}

/// Children of keys of three integers that all lead with one value (a warehouse's orders,
/// `(w_id, d_id, o_id)`) are read by a scan testing the other two columns (bits where the keys
/// are dense, each key's cell in a list where they are sparse), and the dump is the one
/// lookups write: none of another warehouse's rows with the same district and order, every
/// row of this one's, negative districts included.
#[test]
fn mysql_scans_by_keys_of_three_of_one_lead_find_the_rows_lookups_find() {
    let Some(mut src) = mysql_db("rt_triples") else {
        return;
    };
    src.script(
        "CREATE TABLE warehouse (w_id INT PRIMARY KEY);
         CREATE TABLE orders (o_w_id INT NOT NULL, o_d_id INT NOT NULL, o_id INT NOT NULL,
           PRIMARY KEY (o_w_id, o_d_id, o_id), FOREIGN KEY (o_w_id) REFERENCES warehouse (w_id));
         CREATE TABLE new_orders (no_w_id INT NOT NULL, no_d_id INT NOT NULL, no_o_id INT NOT NULL,
           PRIMARY KEY (no_w_id, no_d_id, no_o_id),
           FOREIGN KEY (no_w_id, no_d_id, no_o_id) REFERENCES orders (o_w_id, o_d_id, o_id));
         CREATE TABLE marks (id INT PRIMARY KEY, w INT NOT NULL, d INT NOT NULL, o INT NOT NULL,
           what VARCHAR(40), FOREIGN KEY (w, d, o) REFERENCES orders (o_w_id, o_d_id, o_id));
         INSERT INTO warehouse SELECT seq FROM seq_1_to_5;
         INSERT INTO orders SELECT w.seq, CAST(d.seq AS SIGNED) - 3, o.seq * IF(w.seq = 2, 1000, 1)
           FROM seq_1_to_5 w, seq_0_to_9 d, seq_1_to_300 o;
         INSERT INTO new_orders SELECT o_w_id, o_d_id, o_id FROM orders WHERE o_id % 3 <> 0;
         INSERT INTO marks SELECT ROW_NUMBER() OVER (ORDER BY o_w_id, o_d_id, o_id), o_w_id,
           o_d_id, o_id, CONCAT('mark ', o_w_id, '/', o_d_id, '/', o_id) FROM orders;
         ANALYZE TABLE warehouse, orders, new_orders, marks",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  warehouse:\n    children: [orders]\n  orders:\n    children: \
         [new_orders, marks]\n",
    );
    // Warehouse 1's orders are dense (bits); warehouse 2's a thousand apart (cells).
    for (w, step) in [(1, 1), (2, 1000)] {
        let root = format!("warehouse.w_id={w}");
        let (scanned, scans) = scans_as_lookups(&src.url(), &graph, &root, &["--jobs", "2"]);
        assert_eq!(scans["new_orders"], 1, "{scans:?}");
        assert_eq!(scans["marks"], 1, "{scans:?}");
        // 10 districts (-3 to 6) of 300 orders, each marked; two in three new.
        assert_eq!(scanned.matches("'mark ").count(), 3000);
        assert_eq!(scanned.matches(&format!("'mark {w}/")).count(), 3000);
        for (d, o) in [(-3, 1), (6, 300)] {
            let o = o * step;
            assert!(scanned.contains(&format!("'mark {w}/{d}/{o}'")), "{d} {o}");
        }
        let new = scanned
            .split("INSERT INTO `new_orders`")
            .skip(1)
            .map(|s| s.split(";\n").next().unwrap_or("").matches("\n(").count())
            .sum::<usize>();
        assert_eq!(new, 2000);
    }
}

/// A scan for keys that all lead with one tenant reads that tenant's range of the table, and is
/// priced so, by the server's estimate for that one tenant: a small tenant's tasks, keyed
/// `(tenant_id, id)`, are read by one scan of its range rather than looked up project by project
/// (priced against the whole table, they were looked up); a hundred projects of the tenant
/// holding nine tenths of the table have their tasks looked up, where the tenants' average
/// share of the table (an eleventh of it) would have priced a scan of that tenant's range, ten
/// times as many rows. Either way the dump is the one lookups write.
#[test]
fn mysql_scans_of_one_tenant_are_priced_by_its_own_range() {
    scans_of_one_tenant_are_priced_by_its_own_range("rt_lead_range", "INT", "seq");
}

/// The same for a tenant keyed by text (a UUID, say): the source's estimate for that one value
/// is asked whatever its type.
#[test]
fn mysql_scans_of_one_tenant_keyed_by_text_are_priced_by_its_own_range() {
    scans_of_one_tenant_are_priced_by_its_own_range(
        "rt_lead_range_text",
        "CHAR(36)",
        "CONCAT('00000000-0000-4000-8000-', LPAD(seq, 12, '0'))",
    );
}

/// [`mysql_scans_of_one_tenant_are_priced_by_its_own_range`] on eleven tenants of `id_type`,
/// their ids `id_of_seq` of 1 to 11: the first (least) holds 2,000 projects, the others 20.
fn scans_of_one_tenant_are_priced_by_its_own_range(db: &str, id_type: &str, id_of_seq: &str) {
    let Some(mut src) = mysql_db(db) else {
        return;
    };
    src.script(&format!(
        "CREATE TABLE tenants (id {id_type} PRIMARY KEY);
         CREATE TABLE projects (tenant_id {id_type} NOT NULL, id INT NOT NULL,
           PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE tasks (tenant_id {id_type} NOT NULL, id INT NOT NULL, project_id INT NOT NULL,
           title VARCHAR(80) NOT NULL, PRIMARY KEY (tenant_id, id),
           FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));
         INSERT INTO tenants SELECT {id_of_seq} FROM seq_1_to_11;
         INSERT INTO projects SELECT t.id, p.seq FROM tenants t, seq_1_to_2000 p
           WHERE p.seq <= 20 OR t.id = (SELECT MIN(id) FROM tenants);
         INSERT INTO tasks SELECT p.tenant_id, p.id * 100 + k.seq, p.id,
           CONCAT('task ', p.tenant_id, '/', p.id, '/', k.seq) FROM projects p, seq_1_to_20 k;
         ANALYZE TABLE tenants, projects, tasks",
    ));
    let ids: Vec<String> = src
        .rows("SELECT id FROM tenants ORDER BY id LIMIT 2")
        .into_iter()
        .map(|row| row[0].clone().expect("a tenant id"))
        .collect();
    let (large_id, small_id) = (&ids[0], &ids[1]);
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  tenants:\n    children: [projects]\n  projects:\n    children: [tasks]\n",
    );
    let (small, scans) =
        scans_as_lookups(&src.url(), &graph, &format!("tenants.id={small_id}"), &[]);
    assert_eq!(scans["tasks"], 1, "{scans:?}");
    assert_eq!(small.matches(&format!("'task {small_id}/")).count(), 400);
    assert_eq!(small.matches("'task ").count(), 400);

    // A hundred of the large tenant's projects, each a root.
    let roots: Vec<String> = (1..=100)
        .flat_map(|p| {
            [
                "--root".to_string(),
                format!("projects.tenant_id={large_id},id={p}"),
            ]
        })
        .collect();
    let mut args: Vec<&str> = roots.iter().skip(2).map(String::as_str).collect();
    let (large, scans) = dump_text_counting_scans(
        &src.url(),
        &graph,
        &roots[1],
        &args,
        &dir.path().join("large.sql"),
    );
    assert_eq!(scans.get("tasks").copied().unwrap_or(0), 0, "{scans:?}");
    assert_eq!(large.matches(&format!("'task {large_id}/")).count(), 2000);
    assert_eq!(large.matches("'task ").count(), 2000);
    args.push("--lookups-only");
    let (looked_up, _) = dump_text_counting_scans(
        &src.url(),
        &graph,
        &roots[1],
        &args,
        &dir.path().join("lookups.sql"),
    );
    assert!(large == looked_up, "the dumps differ");
}

/// Rows the subset references in most of a table (the products nearly every order line of a
/// tenant names) are read by one scan of it rather than looked up by key, and the dump is the
/// one lookups write: the table's `where`, which applies to rows child edges bring, leaves out
/// none of them (an inactive product an order names is copied), and a few keys (the tenant's
/// sellers) are still looked up.
#[test]
fn mysql_rows_referenced_in_most_of_a_table_are_read_by_a_scan() {
    let Some(mut src) = mysql_db("rt_refscan") else {
        return;
    };
    src.script(
        "CREATE TABLE sellers (id INT PRIMARY KEY, name VARCHAR(40));
         CREATE TABLE products (id INT PRIMARY KEY, seller_id INT NOT NULL, active TINYINT NOT NULL,
           name VARCHAR(40), FOREIGN KEY (seller_id) REFERENCES sellers (id));
         CREATE TABLE tenants (id INT PRIMARY KEY);
         CREATE TABLE orders (id INT PRIMARY KEY, tenant_id INT NOT NULL,
           FOREIGN KEY (tenant_id) REFERENCES tenants (id));
         CREATE TABLE order_lines (order_id INT NOT NULL, n INT NOT NULL, product_id INT NOT NULL,
           PRIMARY KEY (order_id, n), FOREIGN KEY (order_id) REFERENCES orders (id),
           FOREIGN KEY (product_id) REFERENCES products (id));
         INSERT INTO sellers SELECT seq, CONCAT('seller ', seq) FROM seq_1_to_50;
         INSERT INTO products SELECT seq, 1 + seq % 50, seq % 10 <> 0, CONCAT('product ', seq)
           FROM seq_1_to_3000;
         INSERT INTO tenants VALUES (1), (2);
         INSERT INTO orders SELECT seq, 1 + seq % 2 FROM seq_1_to_2000;
         INSERT INTO order_lines SELECT o.id, s.seq, 1 + (o.id * 7 + s.seq * 13) % 3000
           FROM orders o JOIN seq_1_to_3 s;
         ANALYZE TABLE sellers, products, tenants, orders, order_lines",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  tenants:\n    children: [orders]\n  orders:\n    children: [order_lines]\n  \
         products:\n    where: \"active = 1\"\n",
    );
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, "tenants.id=1", &[]);
    assert_eq!(scans["products"], 1, "{scans:?}");
    assert_eq!(scans["sellers"], 0, "{scans:?}");
    // `plan` says how the products were read: not as children.
    let url = src.url();
    let plan = partialdump_ok(&[
        "plan",
        "--source",
        &url,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "tenants.id=1",
    ]);
    let plan = String::from_utf8_lossy(&plan.stdout);
    let products = plan
        .lines()
        .find(|l| l.contains(" products "))
        .unwrap_or_default();
    assert!(
        products.ends_with(
            "referenced by order_lines.product_id; referenced rows read by a scan of the table"
        ),
        "{plan}"
    );
    // Tenant 1's 1,000 orders name 3,000 lines' products: every product whose id is
    // 1 + (7 * order + 13 * n) % 3000 for an odd order; inactive ones too.
    let mut wanted: Vec<i64> = (1..=2000)
        .filter(|o| o % 2 == 1)
        .flat_map(|o: i64| (1..=3).map(move |n| 1 + (o * 7 + n * 13) % 3000))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    assert!(wanted.len() > 1000, "{}", wanted.len());
    let copied = scanned.matches("'product ").count();
    assert_eq!(copied, wanted.len(), "{scanned}");
    assert!(
        wanted.iter().any(|id| id % 10 == 0),
        "an inactive product is named"
    );
    for id in wanted.iter().filter(|id| *id % 10 == 0).take(3) {
        assert!(scanned.contains(&format!("'product {id}'")), "product {id}");
    }
}

/// Dumps `root` of `url` by `graph` as the walk chooses (with `extra` options) and with
/// `--lookups-only`, beside the graph: the two dumps must be the same, the second read without
/// a scan. Returns the first's text and its scans per table.
fn scans_as_lookups(
    url: &str,
    graph: &Path,
    root: &str,
    extra: &[&str],
) -> (String, std::collections::BTreeMap<String, u64>) {
    let dir = graph.parent().expect("a graph in a directory");
    let (scanned, scans) =
        dump_text_counting_scans(url, graph, root, extra, &dir.join("scanned.sql"));
    let lookups_only = ["--lookups-only"];
    let (looked_up, lookups) =
        dump_text_counting_scans(url, graph, root, &lookups_only, &dir.join("lookups.sql"));
    assert!(lookups.values().all(|&n| n == 0), "{lookups:?}");
    assert!(
        scanned == looked_up,
        "a dump by scans differs from the one by lookups"
    );
    (scanned, scans)
}

/// Children through a reference no index serves (a graph's own reference, which has no
/// foreign key for InnoDB to index): lookups would each read the whole child table, so the walk
/// reads it by one scan, even for a small tenant, and writes the dump lookups write. With an
/// index, the same tenant's few children are looked up.
#[test]
fn mysql_children_no_index_serves_are_read_by_one_scan() {
    let Some(mut src) = MysqlDb::fixture("rt_noidx_s", true) else {
        return;
    };
    // 5,000 more tasks on project 3 (account 2), and a note on every task: account 1's few
    // tasks have a note each among 5,000.
    src.rows(
        "INSERT INTO tasks (id, project_id, title) SELECT -CAST(seq AS SIGNED), 3, \
         CONCAT('bulk ', seq) FROM seq_1_to_5000",
    );
    src.rows(
        "CREATE TABLE task_notes (id INT PRIMARY KEY, task_ref INT NOT NULL, \
         note VARCHAR(20) NOT NULL)",
    );
    src.rows(
        "INSERT INTO task_notes SELECT ROW_NUMBER() OVER (ORDER BY id), id, \
         CONCAT('note on ', id) FROM tasks",
    );
    src.rows("ANALYZE TABLE tasks, task_notes");
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(common::graph()).unwrap();
    let with_notes = base.replace(
        "  tasks:\n    children:\n",
        "  tasks:\n    children:\n      - task_notes\n",
    );
    assert_ne!(
        with_notes, base,
        "the fixture's graph lists the children of tasks"
    );
    let graph = write_graph(
        dir.path(),
        &(with_notes
            + "  task_notes:\n    references:\n      - {columns: task_ref, table: tasks}\n"),
    );
    let (scanned, scans) = scans_as_lookups(&src.url(), &graph, "accounts.id=1", &[]);
    assert_eq!(scans["task_notes"], 1, "{scans:?}");
    let notes = scanned.matches("note on ").count();
    assert!(notes > 0, "account 1's tasks have notes in the dump");
    assert_eq!(
        src.rows(
            "SELECT COUNT(*) FROM task_notes n JOIN tasks t ON t.id = n.task_ref \
             JOIN projects p ON p.id = t.project_id WHERE p.account_id = 1"
        )[0][0]
            .clone()
            .unwrap(),
        notes.to_string()
    );

    src.rows("CREATE INDEX task_notes_task_ref ON task_notes (task_ref)");
    let indexed_file = dir.path().join("indexed.sql");
    let (indexed, scans) =
        dump_text_counting_scans(&src.url(), &graph, "accounts.id=1", &[], &indexed_file);
    assert_eq!(scans["task_notes"], 0, "{scans:?}");
    assert!(
        indexed == scanned,
        "the dump by lookups through the index differs"
    );
}

#[test]
fn mysql_scans_of_more_keys_than_a_query_carries_join_temporary_tables() {
    let Some(mut src) = MysqlDb::fixture("rt_keyt_s", true) else {
        return;
    };
    // 80,000 more tasks of account 1, with ids of 11 characters: their key list (1.1 MB) is
    // longer than a scan carries in its text, so the scans for their children (comments,
    // task_tags) join it from a temporary table; each task has a tag, and each tag a note,
    // children of task_tags by its two-column key (80,000 pairs: a key table of two columns).
    create_task_tag_notes(&mut src);
    src.rows(
        "INSERT INTO tasks (id, project_id, title) SELECT -1000000000 - CAST(seq AS SIGNED), 1 + seq % 2, \
         CONCAT('bulk ', seq) FROM seq_1_to_80000",
    );
    src.rows(
        "INSERT INTO comments (id, subject_type, subject_id, author_id, body) \
         SELECT 100 + seq, 'Task', -1000000000 - CAST(seq AS SIGNED), 1, 'bulk' FROM seq_1_to_80000",
    );
    src.rows(
        "INSERT INTO task_tags (task_id, tag_id, added_at) \
         SELECT -1000000000 - CAST(seq AS SIGNED), 1, '2026-01-01' FROM seq_1_to_80000",
    );
    src.rows(
        "INSERT INTO task_tag_notes SELECT ROW_NUMBER() OVER (ORDER BY task_id, tag_id), \
         task_id, tag_id, 'note' FROM task_tags",
    );
    src.rows("ANALYZE TABLE tasks, comments, task_tags, task_tag_notes");
    // A user who may read but not create temporary tables: the same scans are looked up.
    let reader_user = src.user_with("pd_nokt", "reader-pw", "SELECT");
    let dir = tempfile::tempdir().unwrap();
    let graph = graph_with_task_tag_notes(dir.path());
    let run = |url: &str, name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let scans = dump_counting_scans(url, &graph, "accounts.id=1", extra, &out);
        (
            strip_snapshot(&std::fs::read_to_string(&out).unwrap()),
            scans,
        )
    };
    let (keyed, keyed_scans) = run(&src.url(), "keyed.sql", &["--jobs", "3"]);
    let (reader, reader_scans) = run(&reader_user.url, "reader.sql", &[]);
    let (looked_up, _) = run(&src.url(), "lookups.sql", &["--lookups-only"]);
    // Both edges into comments (projects' few keys and the tasks' many) in one scan.
    assert_eq!(keyed_scans["comments"], 1, "{keyed_scans:?}");
    // Without key tables the tasks' and the task tags' keys are looked up.
    for t in ["task_tags", "task_tag_notes"] {
        assert_eq!(keyed_scans[t], 1, "{t}: {keyed_scans:?}");
        assert_eq!(reader_scans[t], 0, "{t}: {reader_scans:?}");
    }
    assert!(
        keyed.contains("-1000080000,1,"),
        "a bulk task tag is missing"
    );
    assert_eq!(keyed.matches("'bulk'").count(), 80_000);
    assert!(
        keyed == looked_up,
        "a dump by scans joining key tables differs from one by lookups"
    );
    // The reader's dump names another user in its header, so its checksum differs too.
    assert!(
        body_and_trailer(&reader).0 == body_and_trailer(&looked_up).0,
        "a dump without key tables differs from one by lookups"
    );
}

#[test]
fn mysql_scans_and_lookups_write_the_same_dump() {
    let Some(mut src) = MysqlDb::fixture("rt_scan_s", true) else {
        return;
    };
    let Some(mut dst) = MysqlDb::fixture("rt_scan_d", false) else {
        return;
    };
    // 30,000 more tasks, ids -1 to -30,000, each with a comment: -1 to -20,000 on projects 1
    // and 2 (account 1), the rest on project 3 (account 2). Account 1 then holds 2/3 of both
    // tables, which the walk reads by scans; with three connections, the tasks in ranges of
    // their ids, whose boundaries (2 or 3 ranges of -30,000 to 7) are rows of account 1.
    src.rows(
        "INSERT INTO tasks (id, project_id, title) SELECT -CAST(seq AS SIGNED), \
         IF(seq > 20000, 3, 1 + seq % 2), CONCAT('bulk ', seq) FROM seq_1_to_30000",
    );
    src.rows(
        "INSERT INTO comments (id, subject_type, subject_id, author_id, body) \
         SELECT 100 + seq, 'Task', -CAST(seq AS SIGNED), 1, 'bulk' FROM seq_1_to_30000",
    );
    // Notes on task tags, children of task_tags by its two-column key: a scan filters on pairs.
    create_task_tag_notes(&mut src);
    create_task_tag_notes(&mut dst);
    src.rows(
        "INSERT INTO task_tag_notes SELECT ROW_NUMBER() OVER (ORDER BY task_id, tag_id, n), \
         task_id, tag_id, CONCAT('note ', n) FROM task_tags, (SELECT 1 AS n UNION SELECT 2) two",
    );
    // A tag on each bulk task: task_tags, keyed by (task_id, tag_id), is scanned for the
    // children of 20,000 tasks in ranges of task_id, each carrying the task ids inside it.
    src.rows(
        "INSERT INTO task_tags SELECT -CAST(seq AS SIGNED), 1, '2026-01-02' FROM seq_1_to_30000",
    );
    // A tag of a far id on one of account 1's tasks: the task tags' pairs then span too many
    // values for a set of bits, and the scan of their notes takes them from a key table (or,
    // for a user who may not create temporary tables, from its text).
    src.rows("INSERT INTO tags VALUES (2000000000, 1, 'far')");
    src.rows("INSERT INTO task_tags VALUES (1, 2000000000, '2026-01-03')");
    src.rows("ANALYZE TABLE tasks, comments, task_tags, task_tag_notes");
    let dir = tempfile::tempdir().unwrap();
    let graph = graph_with_task_tag_notes(dir.path());
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let (text, scans) =
            dump_text_counting_scans(&src.url(), &graph, "accounts.id=1", extra, &out);
        (text, scans, out)
    };
    let (split, split_scans, split_file) = run("split.sql", &["--jobs", "3"]);
    let (whole, whole_scans, _) = run("whole.sql", &[]);
    let (looked_up, lookup_scans, _) = run("lookups.sql", &["--jobs", "3", "--lookups-only"]);
    for scans in [&split_scans, &whole_scans] {
        assert_eq!(scans["tasks"], 1, "{scans:?}");
        // Both edges into comments (from projects and from tasks), in one scan.
        assert_eq!(scans["comments"], 1, "{scans:?}");
        assert_eq!(scans["task_tag_notes"], 1, "{scans:?}");
        assert_eq!(scans["task_tags"], 1, "{scans:?}");
    }
    assert!(lookup_scans.values().all(|&n| n == 0), "{lookup_scans:?}");
    assert!(
        split == looked_up,
        "a dump by scans in ranges differs from one by lookups"
    );
    assert!(
        whole == looked_up,
        "a dump by one scan differs from one by lookups"
    );
    // The 20,000 task tags' pairs go to a key table for the scan of their notes; a user who
    // may not create temporary tables has them in the scan's text (400 KB) instead.
    let reader_user = src.user_with("pd_rt_scan_r", "reader-pw", "SELECT");
    let out = dir.path().join("reader.sql");
    let (reader, reader_scans) =
        dump_text_counting_scans(&reader_user.url, &graph, "accounts.id=1", &[], &out);
    assert_eq!(reader_scans["task_tag_notes"], 1, "{reader_scans:?}");
    // The reader's dump names another user in its header, so its checksum differs too.
    assert!(
        body_and_trailer(&reader).0 == body_and_trailer(&looked_up).0,
        "a dump with pairs in a scan's text differs from one by lookups"
    );

    dst.load_file(&split_file)
        .expect("the dump loads with the mariadb client, foreign-key checks on");
    let count = |db: &mut MysqlDb, sql: &str| db.rows(sql)[0][0].clone().unwrap();
    for (sql, want) in [
        (
            "SELECT COUNT(*) FROM tasks WHERE title LIKE 'bulk %'",
            "20000",
        ),
        ("SELECT COUNT(*) FROM tasks WHERE project_id = 3", "0"),
        ("SELECT COUNT(*) FROM comments WHERE body = 'bulk'", "20000"),
        ("SELECT MIN(id) FROM tasks", "-20000"),
        // Two for each of account 1's three task tags, (1,1), (4,1) and (4,2).
        (
            "SELECT COUNT(*) FROM task_tag_notes WHERE task_id IN (1, 4)",
            "6",
        ),
        ("SELECT COUNT(*) FROM task_tag_notes", "6"),
        (
            "SELECT COUNT(*) FROM task_tags WHERE added_at = '2026-01-02'",
            "20000",
        ),
        ("SELECT MIN(task_id) FROM task_tags", "-20000"),
    ] {
        assert_eq!(count(&mut dst, sql), want, "{sql}");
    }
}

/// Tables keyed by strings and bytes (a UUID-like CHAR(36), a BINARY(16), a two-column
/// string key with a self-reference), in a case-insensitive collation where references may
/// hold their parent's key in another case: the walk reads a child's reference as the parent's
/// key, and the row it then finds is recorded under its own key, once. Logins are children of
/// members by their unique email, which is not the key (looked up by the emails the members'
/// rows hold). The children of
/// org-a's 3,000 documents are read by a scan (their composite keys in its text) and by
/// lookups, to the same dump, which loads with foreign-key checks on.
const STRING_KEYED_SCHEMA: &str = "
CREATE TABLE orgs (id CHAR(36) PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE members (id BINARY(16) PRIMARY KEY, org_id CHAR(36) NOT NULL, email VARCHAR(100) NOT NULL UNIQUE,
  FOREIGN KEY (org_id) REFERENCES orgs (id));
CREATE TABLE logins (id INT PRIMARY KEY, member_email VARCHAR(100) NOT NULL,
  FOREIGN KEY (member_email) REFERENCES members (email));
CREATE TABLE docs (org_id CHAR(36) NOT NULL, slug VARCHAR(64) NOT NULL, owner BINARY(16) NOT NULL,
  parent_slug VARCHAR(64) NULL, body TEXT, PRIMARY KEY (org_id, slug),
  FOREIGN KEY (org_id) REFERENCES orgs (id), FOREIGN KEY (owner) REFERENCES members (id),
  FOREIGN KEY (org_id, parent_slug) REFERENCES docs (org_id, slug));
CREATE TABLE revisions (id INT PRIMARY KEY, org_id CHAR(36) NOT NULL, slug VARCHAR(64) NOT NULL,
  author BINARY(16) NOT NULL, FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug),
  FOREIGN KEY (author) REFERENCES members (id));
";

/// Dumps `root` of `src` with the graph `yaml` twice: as the walk chooses, and with `lookups`
/// (`--lookups-only` and any more options). The two dumps must be the same, and the first must
/// load into `dst` with foreign-key checks on. Returns the scans per table of each.
fn scans_and_lookups_load_alike(
    src: &MysqlDb,
    dst: &MysqlDb,
    yaml: &str,
    root: &str,
    lookups: &[&str],
) -> (
    std::collections::BTreeMap<String, u64>,
    std::collections::BTreeMap<String, u64>,
) {
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), yaml);
    let (file, looked_up_file) = (
        dir.path().join("scanned.sql"),
        dir.path().join("lookups.sql"),
    );
    let (scanned, scans) = dump_text_counting_scans(&src.url(), &graph, root, &[], &file);
    let (looked_up, lookup_scans) =
        dump_text_counting_scans(&src.url(), &graph, root, lookups, &looked_up_file);
    assert!(
        scanned == looked_up,
        "a dump by scans differs from one by lookups"
    );
    dst.load_file(&file)
        .expect("the dump loads with the mariadb client, foreign-key checks on");
    (scans, lookup_scans)
}

#[test]
fn mysql_string_keys_in_another_case_bring_their_parent_once() {
    let Some((mut src, mut dst)) = mysql_pair("rt_strkey", STRING_KEYED_SCHEMA) else {
        return;
    };
    for sql in [
        "INSERT INTO orgs VALUES ('org-a', 'A'), ('org-b', 'B'), ('org-c', 'C')",
        // 300 members, a third in each org; member 3 names its org in upper case.
        "INSERT INTO members SELECT UNHEX(MD5(seq)), IF(seq = 3, 'ORG-A', \
         ELT(1 + seq % 3, 'org-a', 'org-b', 'org-c')), CONCAT('m', seq, '@example.com') FROM seq_1_to_300",
        // 3,000 documents of org-a (every 7th naming it in upper case), owned by its members
        // except every 500th, owned by a member of org-b; in chains of ten, every 4th naming
        // its parent in upper case. 1,000 each for org-b and org-c.
        "INSERT INTO docs SELECT IF(seq % 7 = 0, 'ORG-A', 'org-a'), CONCAT('d-', seq), \
         UNHEX(MD5(IF(seq % 500 = 0, 1, 3 * (1 + seq % 100)))), \
         IF(seq % 10 = 1, NULL, CONCAT(IF(seq % 4 = 0, 'D-', 'd-'), seq - 1)), REPEAT('x', seq % 50) \
         FROM seq_1_to_3000 ORDER BY seq",
        "INSERT INTO docs SELECT ELT(1 + seq % 2, 'org-b', 'org-c'), CONCAT('e-', seq), \
         UNHEX(MD5(1 + 3 * (seq % 50) + seq % 2)), NULL, 'other' FROM seq_1_to_2000",
        // Two revisions a document, by its owner; every 3rd names it in upper case.
        "INSERT INTO revisions SELECT ROW_NUMBER() OVER (ORDER BY d.org_id, d.slug, n), \
         IF(n = 2 AND d.slug LIKE '%3', UPPER(d.org_id), d.org_id), \
         IF(CAST(SUBSTRING(d.slug, 3) AS UNSIGNED) % 3 = 0, UPPER(d.slug), d.slug), d.owner \
         FROM docs d, (SELECT 1 AS n UNION SELECT 2) two",
        // Children by a unique column that is not the key: three logins a member, every
        // 4th naming it in upper case.
        "INSERT INTO logins SELECT seq, IF(seq % 4 = 0, UPPER(CONCAT('m', 1 + seq % 300, '@example.com')), \
         CONCAT('m', 1 + seq % 300, '@example.com')) FROM seq_1_to_900",
        "ANALYZE TABLE orgs, members, docs, revisions, logins",
    ] {
        src.rows(sql);
    }
    let (scans, lookup_scans) = scans_and_lookups_load_alike(
        &src,
        &dst,
        // The filter names `id`, which members have too: the join to members must leave it
        // the child's.
        "tables:\n  orgs:\n    children: [members, docs]\n  docs:\n    children: [revisions]\n  \
         members:\n    children: [{table: logins, where: \"id > 0\"}]\n",
        "orgs.id=org-a",
        &["--lookups-only", "--jobs", "1"],
    );
    assert_eq!(scans["revisions"], 1, "{scans:?}");
    assert!(lookup_scans.values().all(|&n| n == 0), "{lookup_scans:?}");

    let count = |db: &mut MysqlDb, sql: &str| db.rows(sql)[0][0].clone().unwrap();
    // Org-a once, under its own key, and org-b, which a document's owner belongs to.
    assert_eq!(
        dst.rows("SELECT GROUP_CONCAT(id ORDER BY id) FROM orgs")[0][0].as_deref(),
        Some("org-a,org-b")
    );
    for (sql, table) in [
        ("SELECT COUNT(*) FROM docs WHERE org_id = 'org-a'", "docs"),
        (
            "SELECT COUNT(*) FROM revisions WHERE org_id = 'org-a'",
            "revisions",
        ),
        (
            "SELECT COUNT(*) FROM members WHERE org_id = 'org-a' OR id IN \
             (SELECT owner FROM docs WHERE org_id = 'org-a')",
            "members",
        ),
        (
            "SELECT COUNT(*) FROM logins WHERE member_email IN \
             (SELECT email FROM members WHERE org_id = 'org-a')",
            "logins",
        ),
    ] {
        let want = count(&mut src, sql);
        assert_eq!(
            count(&mut dst, &format!("SELECT COUNT(*) FROM {table}")),
            want,
            "{table}: {sql}"
        );
    }
    assert_eq!(
        count(&mut src, "SELECT COUNT(*) FROM docs WHERE org_id = 'org-a'"),
        "3000"
    );
    // The rows hold their references as the source does, case and all.
    for sql in [
        "SELECT COUNT(*) FROM docs WHERE BINARY org_id = 'ORG-A'",
        "SELECT COUNT(*) FROM docs WHERE BINARY parent_slug LIKE 'D-%'",
        "SELECT COUNT(*) FROM revisions WHERE BINARY slug LIKE 'D-%'",
        "SELECT COUNT(*) FROM members WHERE BINARY org_id = 'ORG-A'",
    ] {
        let got = count(&mut dst, sql);
        assert_ne!(got, "0", "{sql}");
        assert_eq!(
            got,
            count(&mut src, &format!("{sql} AND org_id = 'org-a'")),
            "{sql}"
        );
    }
    let upper_logins = "SELECT COUNT(*) FROM logins WHERE BINARY member_email LIKE 'M%' \
                        AND member_email IN (SELECT email FROM members WHERE org_id = 'org-a')";
    let got = count(&mut dst, upper_logins);
    assert_ne!(got, "0");
    assert_eq!(got, count(&mut src, upper_logins));
}

/// Every key led by the tenant's id (a multi-tenant schema keyed by `(tenant_id, id)`): the
/// scans for a large tenant's children carry the tenant id apart from the key pairs, and
/// write the same dump as lookups, which loads.
#[test]
fn mysql_tenant_led_composite_keys_scan_to_the_same_dump() {
    let schema = "
        CREATE TABLE tenants (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
        CREATE TABLE projects (tenant_id INT NOT NULL, id INT NOT NULL, PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id) REFERENCES tenants (id));
        CREATE TABLE tasks (tenant_id INT NOT NULL, id INT NOT NULL, project_id INT NOT NULL,
          title VARCHAR(40), PRIMARY KEY (tenant_id, id), KEY (tenant_id, project_id),
          FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));
        CREATE TABLE comments (tenant_id INT NOT NULL, id INT NOT NULL, task_id INT NOT NULL,
          body VARCHAR(40), PRIMARY KEY (tenant_id, id), KEY (tenant_id, task_id),
          FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id))";
    let Some((mut src, mut dst)) = mysql_pair("rt_tenkey", schema) else {
        return;
    };
    // Tenant 1 holds 2/3 of every table (the walk scans for its children), tenants 2 and 3
    // the rest. (Ids are unique across tenants here; `twin_tenants` repeats them.)
    let tenant = |n: &str| format!("IF({n} % 3 = 0, 2 + {n} % 2, 1)");
    for sql in [
        "INSERT INTO tenants VALUES (1, 'one'), (2, 'two'), (3, 'three')".to_string(),
        format!(
            "INSERT INTO projects SELECT {}, seq FROM seq_1_to_300",
            tenant("seq")
        ),
        format!(
            "INSERT INTO tasks SELECT {}, seq, 1 + seq % 300, CONCAT('task ', seq) FROM seq_1_to_6000",
            tenant("(1 + seq % 300)")
        ),
        format!(
            "INSERT INTO comments SELECT {}, seq, 1 + seq % 6000, CONCAT('comment ', seq) \
             FROM seq_1_to_12000",
            tenant("(1 + (1 + seq % 6000) % 300)")
        ),
        "ANALYZE TABLE projects, tasks, comments".to_string(),
    ] {
        src.rows(&sql);
    }
    let (scans, _) = scans_and_lookups_load_alike(
        &src,
        &dst,
        "tables:\n  tenants:\n    children: [projects]\n  projects:\n    children: [tasks]\n  \
         tasks:\n    children: [comments]\n",
        "tenants.id=1",
        &["--lookups-only"],
    );
    assert_eq!((scans["tasks"], scans["comments"]), (1, 1), "{scans:?}");
    let count = |db: &mut MysqlDb, sql: &str| db.rows(sql)[0][0].clone().unwrap();
    for table in ["projects", "tasks", "comments"] {
        let want = count(
            &mut src,
            &format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = 1"),
        );
        assert_ne!(want, "0");
        assert_eq!(
            count(&mut dst, &format!("SELECT COUNT(*) FROM {table}")),
            want,
            "{table}"
        );
    }
}

/// SQLite, keys of text and blobs in a case-insensitive collation (NOCASE): a reference
/// holding its parent's key in another case brings that row once, under its own key, and the
/// dump loads with foreign keys checked.
#[test]
fn sqlite_string_keys_in_another_case_bring_their_parent_once() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE orgs (id TEXT COLLATE NOCASE PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE members (id BLOB PRIMARY KEY, org_id TEXT COLLATE NOCASE NOT NULL REFERENCES orgs (id));
        CREATE TABLE docs (org_id TEXT COLLATE NOCASE NOT NULL REFERENCES orgs (id),
          slug TEXT COLLATE NOCASE NOT NULL, owner BLOB NOT NULL REFERENCES members (id),
          parent_slug TEXT COLLATE NOCASE, PRIMARY KEY (org_id, slug),
          FOREIGN KEY (org_id, parent_slug) REFERENCES docs (org_id, slug));
        CREATE TABLE revisions (id INTEGER PRIMARY KEY, org_id TEXT COLLATE NOCASE NOT NULL,
          slug TEXT COLLATE NOCASE NOT NULL, author BLOB NOT NULL REFERENCES members (id),
          FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug));";
    let open = |name: &str| sqlite_file(dir.path(), name, schema);
    let (src, conn) = open("src.db");
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         INSERT INTO orgs VALUES ('org-a', 'A'), ('org-b', 'B');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
           INSERT INTO members SELECT CAST(printf('m%02d', i) AS BLOB),
             CASE WHEN i = 3 THEN 'ORG-A' WHEN i % 2 = 0 THEN 'org-a' ELSE 'org-b' END FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
           INSERT INTO docs SELECT CASE WHEN i % 7 = 0 THEN 'ORG-A' ELSE 'org-a' END, 'd-' || i,
             CAST(printf('m%02d', CASE WHEN i % 50 = 0 THEN 1 ELSE 2 * (1 + i % 15) END) AS BLOB),
             CASE WHEN i % 10 = 1 THEN NULL WHEN i % 4 = 0 THEN 'D-' || (i - 1) ELSE 'd-' || (i - 1) END
           FROM n ORDER BY i;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
           INSERT INTO docs SELECT 'org-b', 'e-' || i, CAST('m01' AS BLOB), NULL FROM n;
         INSERT INTO revisions SELECT NULL, CASE WHEN rowid % 5 = 0 THEN upper(org_id) ELSE org_id END,
           CASE WHEN rowid % 3 = 0 THEN upper(slug) ELSE slug END, owner FROM docs;",
    )
    .unwrap();
    let dump = sqlite_dump(
        dir.path(),
        &src,
        "tables:\n  orgs:\n    children: [members, docs]\n  docs:\n    children: [revisions]\n",
        "orgs.id=org-a",
    );
    let (_, dst) = open("dst.db");
    dst.execute_batch(&dump)
        .expect("the dump loads, foreign keys checked");
    let one = |c: &rusqlite::Connection, sql: &str| -> String {
        c.query_row(sql, [], |r| r.get::<_, String>(0)).unwrap()
    };
    assert_eq!(
        one(
            &dst,
            "SELECT group_concat(id, ',') FROM (SELECT id FROM orgs ORDER BY id)"
        ),
        "org-a,org-b"
    );
    for (table, want) in [
        ("docs", "SELECT count(*) FROM docs WHERE org_id = 'org-a'"),
        (
            "revisions",
            "SELECT count(*) FROM revisions WHERE org_id = 'org-a'",
        ),
        (
            "members",
            "SELECT count(*) FROM members WHERE org_id = 'org-a' OR id IN \
             (SELECT owner FROM docs WHERE org_id = 'org-a')",
        ),
    ] {
        let want: i64 = conn.query_row(want, [], |r| r.get(0)).unwrap();
        let got: i64 = dst
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(got, want, "{table}");
    }
    let upper: i64 = dst
        .query_row(
            "SELECT count(*) FROM revisions WHERE slug GLOB 'D-*' AND org_id GLOB 'ORG-A'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(upper > 0, "references keep their case");
}

/// The dump of SQLite file `src` from `root`, by the graph `yaml` (written into `dir`, where the
/// dump goes too).
fn sqlite_dump(dir: &Path, src: &Path, yaml: &str, root: &str) -> String {
    let graph = write_graph(dir, yaml);
    let out = dir.join("dump.sql");
    dump_with_graph(
        &format!("sqlite:{}", src.display()),
        &graph,
        &["--root", root],
        &out,
    );
    std::fs::read_to_string(&out).unwrap()
}

/// SQLite, a table that references itself through a unique column other than its key (a
/// mentor named by email): each row is written after the row it references, though that row
/// comes later in key order, and the dump loads with foreign keys checked, row by row.
#[test]
fn sqlite_rows_referencing_their_table_by_another_unique_column_load_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE teams (id INTEGER PRIMARY KEY);
        CREATE TABLE staff (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES teams (id),
          email TEXT NOT NULL UNIQUE, mentor_email TEXT REFERENCES staff (email));";
    let open = |name: &str| sqlite_file(dir.path(), name, schema);
    let (src, conn) = open("src.db");
    // Team 1: each of 300 mentored by the next one, the last by no one; team 2 by team 1's.
    conn.execute_batch(
        "INSERT INTO teams VALUES (1), (2);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
           INSERT INTO staff SELECT i, 1, 's' || i || '@x',
             CASE WHEN i < 300 THEN 's' || (i + 1) || '@x' END FROM n;
         INSERT INTO staff VALUES (301, 2, 't1@x', 's1@x');",
    )
    .unwrap();
    let dump = sqlite_dump(
        dir.path(),
        &src,
        "tables:\n  teams:\n    children: [staff]\n",
        "teams.id=1",
    );
    let (_, dst) = open("dst.db");
    dst.execute_batch(&dump)
        .expect("the dump loads, foreign keys checked");
    let one = |sql: &str| -> i64 { dst.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(one("SELECT count(*) FROM staff"), 300);
    assert_eq!(
        one("SELECT count(*) FROM staff WHERE mentor_email IS NOT NULL"),
        299
    );
    // The last of the chain first: the rows are not in key order.
    let first = dump.find("'s300@x'").expect("s300 in the dump");
    assert!(first < dump.find("'s1@x'").expect("s1 in the dump"));
}

/// SQLite, rows of one table that reference each other in a loop (1 -> 2 -> 3 -> 1), beside a
/// chain whose rows come before the rows they reference in key order (4 -> 6 -> 5): the chain
/// is written each row after the row it references, the loop once, with the checks off around
/// just its rows, and the dump loads.
#[test]
fn sqlite_rows_referencing_each_other_in_a_loop_are_written_once_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE boards (id INTEGER PRIMARY KEY);
        CREATE TABLE nodes (id INTEGER PRIMARY KEY, board_id INTEGER NOT NULL REFERENCES boards (id),
          next_id INTEGER REFERENCES nodes (id));";
    let open = |name: &str| sqlite_file(dir.path(), name, schema);
    let (src, conn) = open("src.db");
    conn.execute_batch(
        "INSERT INTO boards VALUES (1), (2);
         INSERT INTO nodes VALUES (1, 1, 2), (2, 1, 3), (3, 1, 1), (4, 1, 6), (5, 1, NULL),
           (6, 1, 5), (7, 2, NULL);",
    )
    .unwrap();
    let dump = sqlite_dump(
        dir.path(),
        &src,
        "tables:\n  boards:\n    children: [nodes]\n",
        "boards.id=1",
    );
    assert!(
        dump.contains("rows of nodes that reference each other in a loop"),
        "{dump}"
    );
    let (_, dst) = open("dst.db");
    dst.execute_batch(&dump)
        .expect("the dump loads, foreign keys checked");
    let ids: String = dst
        .query_row(
            "SELECT group_concat(id || ':' || ifnull(next_id, '-'), ',') FROM (SELECT * FROM nodes ORDER BY id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ids, "1:2,2:3,3:1,4:6,5:-,6:5");
    // The chain in load order: 5, then 6, then 4.
    let at = |row: &str| {
        dump.find(row)
            .unwrap_or_else(|| panic!("{row} in the dump"))
    };
    assert!(
        at("(5,1,NULL)") < at("(6,1,5)") && at("(6,1,5)") < at("(4,1,6)"),
        "{dump}"
    );
}

/// Rows of a table that leads nowhere (no children, nothing references it) are kept by the walk
/// as they come, not looked up: a row that two child edges bring (a message whose author and
/// channel are both the tenant's) is still written once, for keys of one integer, of two, and
/// of text alike, and the counts the dump reports are the rows written (the progress too: rows
/// read twice are taken off the rows to write).
#[test]
fn sqlite_rows_two_edges_bring_are_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE users (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id));
        CREATE TABLE channels (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id));
        CREATE TABLE messages (id INTEGER PRIMARY KEY,
          author_id INTEGER NOT NULL REFERENCES users (id),
          channel_id INTEGER NOT NULL REFERENCES channels (id), body TEXT);
        CREATE TABLE reads (user_id INTEGER NOT NULL REFERENCES users (id),
          channel_id INTEGER NOT NULL REFERENCES channels (id), PRIMARY KEY (user_id, channel_id));
        CREATE TABLE pins (code TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id),
          channel_id INTEGER NOT NULL REFERENCES channels (id));";
    let open = |name: &str| sqlite_file(dir.path(), name, schema);
    let (src, conn) = open("src.db");
    conn.execute_batch(
        "INSERT INTO orgs VALUES (1, 'A'), (2, 'B');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
           INSERT INTO users SELECT i, 1 + (i > 20) FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
           INSERT INTO channels SELECT i, 1 + (i > 10) FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
           INSERT INTO messages SELECT i, 1 + (i * 7) % 40, 1 + (i * 13) % 20, 'm' || i FROM n;
         INSERT INTO reads SELECT u.id, c.id FROM users u, channels c WHERE (u.id + c.id) % 3 = 0;
         INSERT INTO pins SELECT 'p-' || u.id || '-' || c.id, u.id, c.id
           FROM users u, channels c WHERE (u.id * c.id) % 5 = 1;",
    )
    .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:
  orgs:
    children: [users, channels]
  users:
    children:
      - {table: messages, via: author_id}
      - {table: reads, via: user_id}
      - {table: pins, via: user_id}
  channels:
    children:
      - {table: messages, via: channel_id}
      - {table: reads, via: channel_id}
      - {table: pins, via: channel_id}
",
    );
    let out = dir.path().join("dump.sql");
    let url = format!("sqlite:{}", src.display());
    let stats = dump_with_stats(&url, &graph, &["--root", "orgs.id=1"], &out);
    let (_, dst) = open("dst.db");
    let text = std::fs::read_to_string(&out).unwrap();
    dst.execute_batch(&format!("PRAGMA foreign_keys = ON; {text}"))
        .expect("the dump loads: no row twice, foreign keys checked");
    let count = |c: &rusqlite::Connection, sql: &str| -> i64 {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    let mut total = 0;
    for table in ["messages", "reads", "pins"] {
        // The rows whose user and channel are the tenant's: both, or either.
        let of_tenant = |join: &str| {
            let user = if table == "messages" {
                "author_id"
            } else {
                "user_id"
            };
            count(
                &conn,
                &format!(
                    "SELECT count(*) FROM {table} WHERE {user} IN (SELECT id FROM users WHERE \
                     org_id = 1) {join} channel_id IN (SELECT id FROM channels WHERE org_id = 1)"
                ),
            )
        };
        assert!(
            of_tenant("AND") > 0,
            "{table}: some rows are brought by both edges"
        );
        let want = of_tenant("OR");
        let got = count(&dst, &format!("SELECT count(*) FROM {table}"));
        assert_eq!(got, want, "{table}");
        let reported = stats_rows(&stats, table).map(|n| n as i64);
        assert_eq!(reported, Some(want), "{table}: rows in --stats-json");
        total += want;
    }
    for table in ["orgs", "users", "channels"] {
        total += count(&dst, &format!("SELECT count(*) FROM {table}"));
    }
    assert_eq!(trailer_rows(&text), total as u64, "rows in the trailer");
    let mut told = Told::default();
    let told_text = dump_telling(&url, &graph, &["orgs.id=1"], 1, &mut told);
    assert_eq!(trailer_rows(&told_text), total as u64);
    let read = told.read.last().map(|(_, n)| *n).unwrap();
    assert!(
        read > total as u64,
        "rows read twice are read twice: {read}"
    );
    assert_eq!(told.to_write, Some(total as u64), "rows to write");
    assert_eq!(told.written.last(), Some(&(total as u64)));
}

/// Rows are written as text on several threads, a batch of them each, unless a cleanser needs
/// them in order (it then writes them on one thread): a table of many batches comes out byte
/// for byte the same either way, whole and in key order.
#[test]
fn rows_written_on_several_threads_come_out_as_one_thread_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE events (id INTEGER PRIMARY KEY,
           account_id INTEGER NOT NULL REFERENCES accounts(id), body TEXT NOT NULL, data BLOB);
         CREATE INDEX events_account ON events(account_id);
         INSERT INTO accounts VALUES (1, 'one'), (2, 'two');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
         INSERT INTO events SELECT i, 1 + i % 2, printf('event %d: %s', i, hex(randomblob(60))),
           CASE WHEN i % 7 = 0 THEN NULL ELSE randomblob(i % 90) END FROM n;",
    )
    .unwrap();
    let plain = dir.path().join("plain.yaml");
    std::fs::write(&plain, "tables:\n  accounts:\n    children: [events]\n").unwrap();
    // A rule that changes nothing, so the rows are the same and only the path differs.
    let cleansed = dir.path().join("cleansed.yaml");
    std::fs::write(
        &cleansed,
        "tables:\n  accounts:\n    children: [events]\n    cleanse:\n      name: keep\n",
    )
    .unwrap();
    let url = format!("sqlite:{}", db.display());
    let dump = |graph: &Path, name: &str| {
        let out = dir.path().join(name);
        dump_with_graph(&url, graph, &["--root", "accounts.id=1"], &out);
        std::fs::read_to_string(out).unwrap()
    };
    let (threads, one) = (dump(&plain, "threads.sql"), dump(&cleansed, "one.sql"));
    assert!(one.contains("-- cleansed: "), "the cleanser did not run");
    let (body, trailer) = body_and_trailer(&threads);
    assert_eq!(
        (body, trailer),
        body_and_trailer(&one),
        "rows written on several threads differ from rows written on one"
    );
    // Many batches of rows (256 KiB of them each), not one.
    assert!(body.len() > 16 << 20 >> 2, "only {} bytes", body.len());
    let ids: Vec<i64> = body
        .lines()
        .filter_map(|l| l.strip_prefix('('))
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect();
    // Account 1 has the events of even ids.
    let expected: Vec<i64> = (1..=40000).filter(|i| i % 2 == 0).collect();
    assert_eq!(ids.len(), 1 + expected.len(), "an account and its events");
    let wrong = ids[1..].iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(wrong, None, "events missing or out of key order");
    let target = dir.path().join("target.db");
    let t = rusqlite::Connection::open(&target).unwrap();
    t.execute_batch(&format!(
        "ATTACH '{}' AS src;
         CREATE TABLE accounts AS SELECT * FROM src.accounts WHERE 0;
         CREATE TABLE events AS SELECT * FROM src.events WHERE 0;
         {threads}",
        db.display()
    ))
    .unwrap();
    let differing: i64 = t
        .query_row(
            "SELECT count(*) FROM (SELECT * FROM src.events WHERE account_id = 1
               EXCEPT SELECT * FROM events)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        differing, 0,
        "rows of the source missing or changed in the dump"
    );
}

/// Runs `args` under a pseudo-terminal (util-linux `script`), so standard error is a terminal as
/// a user's is; returns what the terminal showed.
fn on_a_terminal(args: &[&str]) -> String {
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let command = std::iter::once(env!("CARGO_BIN_EXE_partialdump"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let o = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run `script` (util-linux) to give partialdump a terminal");
    let shown = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{shown}");
    shown
}

/// The rows in a dump, from its trailer.
fn trailer_rows(text: &str) -> u64 {
    text.rsplit("rows=")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn progress_on_a_terminal_shows_the_rows_read_and_where_from() {
    let src = SqliteDb::fixture(true);
    let out = src.path.with_file_name("d.sql");
    let graph = common::graph();
    let shown = on_a_terminal(&[
        "dump",
        "--source",
        &src.url(),
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "-o",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let rows = trailer_rows(&text);
    // Each redraw starts with a carriage return. While the walk reads: the rows of the subset
    // read so far, growing, and the table the last came from. (A dump this small is done before
    // the terminal's redraws are: indicatif draws 20 at once, then 20 a second.)
    let number = |s: &str| s.replace(',', "").parse::<u64>().ok();
    let mut read = Vec::new();
    for line in shown.split(['\r', '\n']) {
        if let Some((before, after)) = line.split_once(" rows read, ") {
            read.push(before.rsplit(' ').next().and_then(number).unwrap());
            if let Some(table) = after.split(", last from ").nth(1) {
                let table = table.split_whitespace().next().unwrap();
                assert!(
                    text.contains(&format!("INSERT INTO \"{table}\"")),
                    "{table} is named, but has no rows in the dump:\n{shown}"
                );
            }
        }
    }
    assert!(read.len() > 2, "no progress while reading:\n{shown}");
    assert!(read.windows(2).all(|w| w[0] <= w[1]), "{read:?}");
    assert!(read.iter().all(|&n| n <= rows), "{read:?} of {rows}");
    assert!(shown.contains("rows/s"), "{shown}");
    assert!(shown.contains(&format!("wrote {rows} rows")), "{shown}");
}

/// What a dump tells of its progress.
#[derive(Default)]
struct Told {
    read: Vec<(String, u64)>,
    to_write: Option<u64>,
    written: Vec<u64>,
}

impl partialdump::dump::DumpProgress for Told {
    fn reading(&mut self, table: &str, rows: u64) {
        self.read.push((table.to_string(), rows));
    }
    fn start(&mut self, rows: u64) {
        self.to_write = Some(rows);
    }
    fn fewer(&mut self, rows: u64) {
        if let Some(n) = &mut self.to_write {
            *n -= rows;
        }
    }
    fn advance(&mut self, _table: &str, done: u64) {
        self.written.push(done);
    }
}

/// Dumps `roots` of `url` with `graph` through the library, telling `told` of its progress; the
/// dump's text.
fn dump_telling(url: &str, graph: &Path, roots: &[&str], jobs: usize, told: &mut Told) -> String {
    use partialdump::dump::{DumpRequest, Jobs, prepare, run};
    let url = partialdump::engine::url::ConnUrl::parse(url).unwrap();
    let mut source = partialdump::engine::open_source(&url).unwrap();
    let graph = partialdump::config::load(graph).unwrap();
    let request = DumpRequest {
        roots: roots.iter().map(|r| r.to_string()).collect(),
        jobs: Jobs::Exactly(jobs),
        ..DumpRequest::default()
    };
    let prepared = prepare(source.as_mut(), &graph, &request).unwrap();
    let mut sink = partialdump::sink::SqlWriter::new(Vec::new(), source.dialect(), 1 << 20);
    run(source.as_mut(), &prepared, Vec::new(), &mut sink, told).unwrap();
    String::from_utf8(sink.into_inner().unwrap()).unwrap()
}

/// The walk tells of the rows it reads as they come, up to every row of the dump; then the
/// rows to write, and those written up to all of them.
fn check_told(text: &str, told: &Told) {
    let rows = trailer_rows(text);
    let counts: Vec<u64> = told.read.iter().map(|(_, n)| *n).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(counts.last(), Some(&rows), "{counts:?}");
    for (table, _) in &told.read {
        assert!(
            text.contains(&format!("INSERT INTO \"{table}\""))
                || text.contains(&format!("INSERT INTO `{table}`")),
            "{table} is told of, but has no rows in the dump"
        );
    }
    assert_eq!(told.to_write, Some(rows));
    assert!(told.written.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(told.written.last(), Some(&rows));
}

#[test]
fn sqlite_dump_tells_of_the_rows_read_then_written() {
    let src = SqliteDb::fixture(true);
    let mut told = Told::default();
    let text = dump_telling(&src.url(), &graph(), &["accounts.id=1"], 1, &mut told);
    check_told(&text, &told);
}

#[test]
fn mysql_dump_tells_of_the_rows_read_then_written() {
    let Some(db) = MysqlDb::fixture("progress_told", true) else {
        return;
    };
    let mut told = Told::default();
    let text = dump_telling(&db.url(), &graph(), &["accounts.id=1"], 4, &mut told);
    check_told(&text, &told);
}

/// Two tenants whose projects and tasks have the same ids (keys `(tenant_id, id)`): the schema
/// and the rows, as SQL both engines run.
fn twin_tenants() -> (&'static str, String) {
    let schema = "
        CREATE TABLE tenants (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
        CREATE TABLE projects (tenant_id INT NOT NULL, id INT NOT NULL, PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id) REFERENCES tenants (id));
        CREATE TABLE tasks (tenant_id INT NOT NULL, id INT NOT NULL, project_id INT NOT NULL,
          PRIMARY KEY (tenant_id, id), FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));";
    let mut data = String::from("INSERT INTO tenants VALUES (1, 'one'), (2, 'two');\n");
    for t in [1, 2] {
        let projects: Vec<String> = (1..=20).map(|p| format!("({t}, {p})")).collect();
        let tasks: Vec<String> = (1..=100)
            .map(|i| format!("({t}, {i}, {})", 1 + i % 20))
            .collect();
        data += &format!("INSERT INTO projects VALUES {};\n", projects.join(", "));
        data += &format!("INSERT INTO tasks VALUES {};\n", tasks.join(", "));
    }
    (schema, data)
}

const TWIN_GRAPH: &str =
    "tables:\n  tenants:\n    children: [projects]\n  projects:\n    children: [tasks]\n";

/// Counts of `(tenant_id, rows)` in projects and tasks of the database a dump of tenant 1 was
/// loaded into: tenant 1's 20 projects and 100 tasks, nothing of tenant 2's.
fn check_twin_tenant_copy(mut count: impl FnMut(&str) -> String) {
    for (table, rows) in [("projects", "20"), ("tasks", "100")] {
        assert_eq!(
            count(&format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = 1")),
            rows,
            "{table}"
        );
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) FROM {table} WHERE tenant_id <> 1"
            )),
            "0",
            "{table} holds rows of tenant 2, whose keys differ from tenant 1's only by tenant"
        );
    }
}

#[test]
fn sqlite_keys_of_one_tenant_are_looked_up_in_that_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let (schema, data) = twin_tenants();
    let (src, dst) = (dir.path().join("src.db"), dir.path().join("dst.db"));
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch(&format!("{schema}\n{data}"))
        .unwrap();
    let dst = rusqlite::Connection::open(&dst).unwrap();
    dst.execute_batch(schema).unwrap();
    let graph = write_graph(dir.path(), TWIN_GRAPH);
    let out = dir.path().join("d.sql");
    let url = format!("sqlite:{}", src.display());
    dump_with_graph(
        &url,
        &graph,
        &["--root", "tenants.id=1", "--lookups-only"],
        &out,
    );
    dst.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    dst.execute_batch(&std::fs::read_to_string(&out).unwrap())
        .expect("the dump loads with foreign keys on");
    check_twin_tenant_copy(|sql| {
        dst.query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap()
            .to_string()
    });
}

#[test]
fn mysql_keys_of_one_tenant_are_looked_up_in_that_tenant() {
    let Some(mut src) = mysql_db("rt_twin_s") else {
        return;
    };
    let Some(mut dst) = mysql_db("rt_twin_d") else {
        return;
    };
    let (schema, data) = twin_tenants();
    src.script(&format!("{schema}\n{data}"));
    dst.script(schema);
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), TWIN_GRAPH);
    let out = dir.path().join("d.sql");
    dump_with_graph(
        &src.url(),
        &graph,
        &["--root", "tenants.id=1", "--lookups-only"],
        &out,
    );
    dst.load_file(&out)
        .expect("the dump loads with the mariadb client, foreign-key checks on");
    check_twin_tenant_copy(|sql| dst.rows(sql)[0][0].clone().unwrap());
}

/// Children by a unique column of the parent that is not its key (logins by a member's email),
/// with a filter naming a column both tables have: SQLite reads them by the emails of the
/// members read, and only those of the root's members.
#[test]
fn sqlite_children_by_a_unique_email_are_those_of_the_members_read() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE orgs (id INTEGER PRIMARY KEY);
        CREATE TABLE members (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
          email TEXT NOT NULL UNIQUE);
        CREATE TABLE logins (id INTEGER PRIMARY KEY, member_email TEXT NOT NULL REFERENCES members (email));";
    let mut data = String::from("INSERT INTO orgs VALUES (1), (2);\n");
    for m in 1..=40 {
        data += &format!(
            "INSERT INTO members VALUES ({m}, {}, 'm{m}@example.com');\n",
            1 + m % 2
        );
    }
    for l in 1..=200 {
        data += &format!(
            "INSERT INTO logins VALUES ({l}, 'm{}@example.com');\n",
            1 + l % 40
        );
    }
    let (src, dst) = (dir.path().join("src.db"), dir.path().join("dst.db"));
    rusqlite::Connection::open(&src)
        .unwrap()
        .execute_batch(&format!("{schema}\n{data}"))
        .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  orgs:\n    children: [members]\n  members:\n    \
         children: [{table: logins, where: \"id > 0\"}]\n",
    );
    let out = dir.path().join("d.sql");
    let url = format!("sqlite:{}", src.display());
    dump_with_graph(&url, &graph, &["--root", "orgs.id=2"], &out);
    let dst = rusqlite::Connection::open(&dst).unwrap();
    dst.execute_batch(&format!("{schema}\nPRAGMA foreign_keys = ON;"))
        .unwrap();
    dst.execute_batch(&std::fs::read_to_string(&out).unwrap())
        .expect("the dump loads with foreign keys on");
    let count = |sql: &str| dst.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    // Org 2's members are the odd ones; each has five logins.
    assert_eq!(count("SELECT COUNT(*) FROM members"), 20);
    assert_eq!(count("SELECT COUNT(*) FROM logins"), 100);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM logins l JOIN members m ON m.email = l.member_email WHERE m.org_id <> 2"
        ),
        0
    );
}

/// Rows of megabytes take a few rows' worth of memory to dump, not the table's: 24 rows of
/// 1.5 MB (36 MB, 72 MB as hex literals) stay well under the 64 MiB the benchmark allows for
/// memory that does not grow with the keys. (Reading the table's first 256 rows back at once,
/// the dump took 128 MiB.) The dump must still hold every row whole, and load in as little.
#[cfg(target_os = "linux")]
#[test]
fn sqlite_wide_rows_are_dumped_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE files (id INTEGER PRIMARY KEY,
          account_id INTEGER NOT NULL REFERENCES accounts (id), body BLOB NOT NULL);";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO accounts VALUES (1, 'A'), (2, 'B');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 48)
           INSERT INTO files SELECT i, 1 + i % 2, randomblob(1500000) FROM n;",
    )
    .unwrap();
    drop(conn);
    let graph = write_graph(dir.path(), "tables:\n  accounts:\n    children: [files]\n");
    let out = dir.path().join("dump.sql");
    let url = format!("sqlite:{}", src.display());
    // The command's own peak (its VmHWM), which `wait4` would not tell apart from this test
    // process's memory, the child's before it became partialdump.
    let within_64_mib = |what: &str, stats: &serde_json::Value| {
        let peak = stats["peak_memory_bytes"].as_u64().expect("a peak");
        assert!(
            peak < 64 << 20,
            "{what} took {} MiB at its peak",
            peak >> 20
        );
    };
    let stats = dump_with_stats(&url, &graph, &["--root", "accounts.id=2"], &out);
    within_64_mib("dumping 24 rows of 1.5 MB", &stats);
    let (dst, conn) = sqlite_file(dir.path(), "dst.db", schema);
    drop(conn);
    let imported = dir.path().join("imported.json");
    let loaded = partialdump(&[
        "import",
        "--target",
        &format!("sqlite:{}", dst.display()),
        out.to_str().unwrap(),
        "-q",
        "--stats-json",
        imported.to_str().unwrap(),
    ]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let imported = std::fs::read_to_string(&imported).unwrap();
    within_64_mib("importing them", &serde_json::from_str(&imported).unwrap());
    let conn = rusqlite::Connection::open(&dst).unwrap();
    conn.execute("ATTACH ?1 AS src", [src.to_str().unwrap()])
        .unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM main.files"), 24);
    assert_eq!(
        count(
            "SELECT count(*) FROM main.files d JOIN src.files s USING (id)
             WHERE d.body = s.body AND s.account_id = 2"
        ),
        24,
        "every row's body as in the source"
    );
}

/// Keys of strings held within the issue's memory budget (64 MiB and 32 bytes a key): 150,000
/// documents keyed by a UUID and a slug, which the walk holds in a hash table (they have
/// children) and in the list of keys whose children it looks for. Held as vectors of values,
/// about 260 bytes a key, they took the dump to 80 MiB.
#[test]
fn sqlite_string_keys_are_held_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE docs (org_id TEXT NOT NULL REFERENCES orgs (id), slug TEXT NOT NULL,
          title TEXT, PRIMARY KEY (org_id, slug));
        CREATE TABLE revisions (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL,
          slug TEXT NOT NULL, FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug));";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    let org = |n: u32| format!("00000000-0000-4000-8000-00000000000{n}");
    conn.execute_batch(&format!(
        "INSERT INTO orgs VALUES ('{}', 'A'), ('{}', 'B');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
           INSERT INTO docs SELECT '00000000-0000-4000-8000-00000000000' || (1 + i % 2),
             'doc-' || i, 'title ' || i FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
           INSERT INTO revisions SELECT i, '00000000-0000-4000-8000-00000000000' || (1 + i % 2),
             'doc-' || i FROM n;",
        org(1),
        org(2)
    ))
    .unwrap();
    drop(conn);
    let graph = write_graph(
        dir.path(),
        "tables:\n  orgs:\n    children: [docs]\n  docs:\n    children: [revisions]\n",
    );
    let out = dir.path().join("dump.sql");
    let url = format!("sqlite:{}", src.display());
    let stats = dump_with_stats(
        &url,
        &graph,
        &["--root", &format!("orgs.id={}", org(2))],
        &out,
    );
    let rows = |table: &str| stats_rows(&stats, table);
    assert_eq!(
        (rows("orgs"), rows("docs"), rows("revisions")),
        (Some(1), Some(150_000), Some(500))
    );
    let keys = stats["rows"].as_u64().unwrap();
    let peak = stats["peak_memory_bytes"].as_u64().expect("a peak");
    let budget = (64 << 20) + 32 * keys;
    assert!(
        peak <= budget,
        "{keys} keys took the dump to {} MiB at its peak, over its budget of {} MiB",
        peak >> 20,
        budget >> 20
    );
}

/// A table with no primary key but a unique index of NOT NULL columns has its rows told apart
/// by that index, as InnoDB itself does (a unique index over a nullable column does not count:
/// it lets two rows hold NULL): its rows are dumped once each, and a child referencing that
/// key brings the rows it names. A table with neither is copied whole as a child, and refused
/// as a root by name, with what to do.
#[test]
fn mysql_table_without_primary_key_is_keyed_by_its_unique_not_null_index() {
    let schema = "
        CREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
        CREATE TABLE members (account_id INT NOT NULL, email VARCHAR(100) NOT NULL,
          nick VARCHAR(20) NULL, UNIQUE KEY by_nick (nick), UNIQUE KEY by_email (account_id, email),
          FOREIGN KEY (account_id) REFERENCES accounts (id));
        CREATE TABLE logins (id INT PRIMARY KEY, account_id INT NOT NULL, member_account INT NOT NULL,
          member_email VARCHAR(100) NOT NULL, FOREIGN KEY (account_id) REFERENCES accounts (id),
          FOREIGN KEY (member_account, member_email) REFERENCES members (account_id, email));
        CREATE TABLE notes (account_id INT NOT NULL, body VARCHAR(50) NOT NULL, nick VARCHAR(20) NULL,
          UNIQUE KEY (nick), FOREIGN KEY (account_id) REFERENCES accounts (id));";
    let Some((mut src, mut dst)) = mysql_pair("rt_uniqkey", schema) else {
        return;
    };
    src.script(
        "INSERT INTO accounts VALUES (1, 'one'), (2, 'two'), (3, 'three');
         INSERT INTO members SELECT 1 + seq % 3, CONCAT('m', seq, '@example.com'),
           IF(seq % 5 = 0, NULL, CONCAT('n', seq)) FROM seq_1_to_60;
         INSERT INTO logins SELECT seq, 1, 1 + seq % 3, CONCAT('m', seq, '@example.com') FROM seq_1_to_60;
         INSERT INTO notes SELECT 1 + seq % 3, 'same', NULL FROM seq_1_to_9",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [members, logins]\n",
    );
    let out = dir.path().join("dump.sql");
    dump_with_graph(&src.url(), &graph, &["--root", "accounts.id=1"], &out);
    dst.load_file(&out)
        .expect("the dump loads with foreign-key checks on");
    let members = |db: &mut MysqlDb, filter: &str| {
        db.rows(&format!(
            "SELECT GROUP_CONCAT(CONCAT(account_id, ':', email, ':', IFNULL(nick, '-')) \
             ORDER BY account_id, email) FROM members {filter}"
        ))[0][0]
            .clone()
    };
    // Account 1's 20 members, and the 40 of accounts 2 and 3 that its logins name (all of
    // them): each once.
    assert_eq!(
        dst.rows("SELECT COUNT(*) FROM members")[0][0].as_deref(),
        Some("60")
    );
    assert_eq!(members(&mut dst, ""), members(&mut src, ""));
    assert_eq!(
        dst.rows("SELECT GROUP_CONCAT(id ORDER BY id) FROM accounts")[0][0].as_deref(),
        Some("1,2,3")
    );

    // `notes` has neither, and is reached as the child of one table: its rows are each met
    // once, and all copied, account 1's three alike too. As a root it is refused.
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [members, logins, notes]\n",
    );
    dump_with_graph(&src.url(), &graph, &["--root", "accounts.id=1"], &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("(1,'same',NULL)").count(), 3, "{text}");
    let refused = dir.path().join("refused.sql");
    let o = dump_into(
        &src.url(),
        &graph,
        &["--root-where", "notes:account_id = 1"],
        &refused,
    );
    assert!(!o.status.success(), "a table without a key was a root");
    assert!(!refused.exists(), "a refused dump left its file");
    let err = stderr(&o);
    for part in [
        "`notes`",
        "no primary key and no unique index of NOT NULL columns",
        "notes: {key: [<column>, ...]}",
        graph.to_str().unwrap(),
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }

    // A key the graph declares is checked against the rows: account 1's three notes share
    // (1, 'same'), and every note's nick is NULL. Keeping one row per key would leave rows out
    // of the dump, so it is refused, pointing at the declaration.
    for (key, line, why) in [
        (
            "[account_id, body]",
            "two rows of `notes` hold (1, 'same')",
            "would leave one out",
        ),
        (
            "nick",
            "a row of `notes` holds NULL in `nick`",
            "would be left out",
        ),
    ] {
        let graph = write_graph(
            dir.path(),
            &format!(
                "tables:\n  accounts:\n    children: [members, logins, notes]\n  notes:\n    key: {key}\n"
            ),
        );
        let o = dump_into(&src.url(), &graph, &["--root", "accounts.id=1"], &refused);
        assert!(!o.status.success(), "notes keyed by {key} were dumped");
        assert!(!refused.exists(), "a refused dump left its file");
        let err = stderr(&o);
        let at = format!("{}:5:10:", graph.display());
        for part in [at.as_str(), line, why, "add a primary key"] {
            assert!(err.contains(part), "{part:?} missing from: {err}");
        }
        let o = verify(&src.url(), &dst.url(), &graph, "accounts.id=1");
        assert_eq!(
            o.status.code(),
            Some(2),
            "verify compared notes keyed by {key}"
        );
        assert!(stderr(&o).contains(line), "{}", stderr(&o));
    }
    // Keys that do tell the rows apart pass, though no index says so: the notes of account 1,
    // each made unique by its nick.
    src.script("SET @n = 0; UPDATE notes SET nick = CONCAT('k', @n := @n + 1)");
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [members, logins, notes]\n  notes:\n    key: [account_id, nick]\n",
    );
    let kept = dir.path().join("kept.sql");
    dump_with_graph(&src.url(), &graph, &["--root", "accounts.id=1"], &kept);
    let text = std::fs::read_to_string(&kept).unwrap();
    assert!(text.contains("-- rows `notes` 3"), "{text}");
}

/// MariaDB lists a system-versioned table as `SYSTEM VERSIONED`, not `BASE TABLE`: such a
/// table is dumped like any other, as its rows stand now (not their history), and loads into
/// a versioned copy. An INVISIBLE column, which `SELECT *` leaves out, keeps its values; a
/// partitioned table is read like any other. With `--with-schema` the dump creates both in an
/// empty database, versioned and partitioned as in the source (import refused the
/// parentheses of a partitioning clause).
#[test]
fn mysql_versioned_partitioned_and_invisible_columns_round_trip() {
    let schema = "
        CREATE TABLE accounts (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL,
          secret VARCHAR(20) INVISIBLE NOT NULL DEFAULT 'unset');
        CREATE TABLE prices (id INT PRIMARY KEY, account_id INT NOT NULL, cents INT NOT NULL,
          FOREIGN KEY (account_id) REFERENCES accounts (id)) WITH SYSTEM VERSIONING;
        CREATE TABLE notes (id INT PRIMARY KEY, account_id INT NOT NULL, body TEXT NOT NULL)
          PARTITION BY RANGE (id * 2 + 1) (PARTITION low VALUES LESS THAN (9),
            PARTITION high VALUES LESS THAN MAXVALUE);
        CREATE SEQUENCE ticket_numbers";
    let Some((mut src, mut dst)) = mysql_pair("rt_versioned", schema) else {
        return;
    };
    let Some(mut empty) = mysql_db("rt_versioned_e") else {
        return;
    };
    src.script(
        "INSERT INTO accounts (id, name, secret) VALUES (1, 'one', 's-1'), (2, 'two', 's-2');
         INSERT INTO prices SELECT seq, 1 + seq % 2, seq * 100 FROM seq_1_to_10;
         UPDATE prices SET cents = cents + 1 WHERE id <= 4;
         INSERT INTO notes SELECT seq, 1 + seq % 2, CONCAT('note ', seq) FROM seq_1_to_10",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [prices, notes]\n  notes:\n    references:\n      \
         - {columns: account_id, table: accounts}\n",
    );
    for (target, with_schema) in [(&mut dst, false), (&mut empty, true)] {
        let out = dir.path().join(format!("dump-{with_schema}.sql"));
        let mut args = vec!["--root", "accounts.id=2"];
        if with_schema {
            args.push("--with-schema");
        }
        dump_with_graph(&src.url(), &graph, &args, &out);
        let imported = partialdump(&[
            "import",
            "--target",
            &target.url(),
            out.to_str().unwrap(),
            "-q",
        ]);
        assert!(imported.status.success(), "{}", stderr(&imported));
        let q = |db: &mut MysqlDb, sql: &str| db.rows(sql)[0][0].clone();
        assert_eq!(
            q(
                target,
                "SELECT CONCAT(id, ':', name, ':', secret) FROM accounts"
            )
            .as_deref(),
            Some("2:two:s-2")
        );
        let prices = "SELECT GROUP_CONCAT(id, ':', cents ORDER BY id) FROM prices";
        assert_eq!(
            q(target, prices).as_deref(),
            Some("1:101,3:301,5:500,7:700,9:900")
        );
        assert_eq!(
            q(target, &format!("{prices} FOR SYSTEM_TIME ALL")),
            q(target, prices),
            "the history is not copied, only the rows as they stand"
        );
        assert_eq!(
            q(target, "SELECT GROUP_CONCAT(id ORDER BY id) FROM notes").as_deref(),
            Some("1,3,5,7,9")
        );
        let name = target.name.clone();
        assert_eq!(
            q(
                target,
                &format!(
                    "SELECT GROUP_CONCAT(TABLE_NAME, ':', TABLE_TYPE, ':', CREATE_OPTIONS \
                     ORDER BY TABLE_NAME) FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = '{name}' AND TABLE_NAME IN ('notes', 'prices')"
                )
            )
            .as_deref(),
            Some("notes:BASE TABLE:partitioned,prices:SYSTEM VERSIONED:"),
            "with_schema: {with_schema}"
        );
    }
}

/// Only InnoDB's rows are read in the dump's snapshot: a table of MyISAM or Aria shows each
/// query its rows as they are then. The dump still holds such tables' rows, and says, by name
/// and engine, that they were read outside the snapshot and what to do; a dump of InnoDB
/// tables alone says nothing of it.
#[test]
fn mysql_tables_without_transactions_are_named_in_a_warning() {
    let Some(mut src) = mysql_db("rt_myisam") else {
        return;
    };
    src.script(
        "CREATE TABLE accounts (id INT PRIMARY KEY) ENGINE=InnoDB;
         CREATE TABLE visits (id INT PRIMARY KEY, account_id INT NOT NULL, KEY (account_id)) ENGINE=MyISAM;
         CREATE TABLE notes (id INT PRIMARY KEY, account_id INT NOT NULL, KEY (account_id)) ENGINE=Aria;
         INSERT INTO accounts VALUES (1), (2);
         INSERT INTO visits VALUES (1, 1), (2, 2);
         INSERT INTO notes VALUES (1, 1)",
    );
    let dir = tempfile::tempdir().unwrap();
    let yaml = |children: &str| {
        format!(
            "tables:\n  accounts:\n    children: [{children}]\n  visits:\n    references: \
             [{{columns: account_id, table: accounts}}]\n  notes:\n    references: \
             [{{columns: account_id, table: accounts}}]\n"
        )
    };
    let out = dir.path().join("dump.sql");
    let graph = write_graph(dir.path(), &yaml("visits, notes"));
    let o = dump_into(&src.url(), &graph, &["--root", "accounts.id=1", "-q"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: tables are read outside the dump's snapshot: `notes` (Aria), `visits` (MyISAM)")
            && err.contains("ENGINE=InnoDB"),
        "{err}"
    );
    let dump = std::fs::read_to_string(&out).unwrap();
    assert!(dump.contains("INSERT INTO `visits`") && dump.contains("INSERT INTO `notes`"));

    let graph = write_graph(dir.path(), "tables:\n  accounts: {}\n");
    let o = dump_into(&src.url(), &graph, &["--root", "accounts.id=1", "-q"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "",
        "a dump of InnoDB tables alone warns of nothing"
    );
}

/// A root whose key holds bytes (SQLite BLOB, MariaDB BINARY(16), as UUIDs often are) is named
/// in hex, `0x…`, as MySQL writes such literals: before, the value was taken as text and
/// matched no row. What is not hex is refused with what to write.
#[test]
fn a_root_key_of_bytes_is_named_in_hex() {
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  acct:\n    children: [item]\n");
    let out = dir.path().join("dump.sql");
    let (src, conn) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE acct (id BLOB PRIMARY KEY, name TEXT);
         CREATE TABLE item (id INTEGER PRIMARY KEY, acct_id BLOB NOT NULL REFERENCES acct (id));
         INSERT INTO acct VALUES (X'00ff10', 'one'), (X'00ff11', 'two');
         INSERT INTO item VALUES (1, X'00ff10'), (2, X'00ff11'), (3, X'00ff10');",
    );
    drop(conn);
    let sqlite = format!("sqlite:{}", src.display());
    let stats = dump_with_stats(&sqlite, &graph, &["--root", "acct.id=0x00FF10"], &out);
    assert_eq!(stats_rows(&stats, "acct"), Some(1));
    assert_eq!(stats_rows(&stats, "item"), Some(2));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("'one'") && !text.contains("'two'"), "{text}");

    let o = dump_into(&sqlite, &graph, &["--root", "acct.id=0x00ff1"], &out);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("column `id` holds bytes") && err.contains("even number of hex digits"),
        "{err}"
    );

    let Some(mut my) = mysql_db("rt_hex_root") else {
        return;
    };
    my.script(
        "CREATE TABLE acct (id BINARY(16) PRIMARY KEY, name VARCHAR(10));
         CREATE TABLE item (id INT PRIMARY KEY, acct_id BINARY(16) NOT NULL,
           FOREIGN KEY (acct_id) REFERENCES acct (id));
         INSERT INTO acct VALUES (UNHEX('0123456789abcdef0123456789abcdef'), 'one'),
           (UNHEX('fedcba9876543210fedcba9876543210'), 'two');
         INSERT INTO item VALUES (1, UNHEX('0123456789abcdef0123456789abcdef')),
           (2, UNHEX('fedcba9876543210fedcba9876543210'));",
    );
    let stats = dump_with_stats(
        &my.url(),
        &graph,
        &["--root", "acct.id=0x0123456789ABCDEF0123456789abcdef"],
        &out,
    );
    assert_eq!(stats_rows(&stats, "acct"), Some(1));
    assert_eq!(stats_rows(&stats, "item"), Some(1));
}

/// A table whose rows are told apart by a generated column (a NOT NULL unique one: no INSERT
/// writes it, so it is not among the columns a row is written with). Its keys of text are
/// held as digests and read back from the rows spooled, which hold the key's column after the
/// row's own: every row of the tenant is written once, in key order, and loads.
#[test]
fn sqlite_rows_keyed_by_a_generated_column_are_each_written() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "
        CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE slots (account_id INTEGER NOT NULL REFERENCES accounts (id),
          a TEXT NOT NULL, b TEXT NOT NULL,
          k TEXT GENERATED ALWAYS AS (b || '-' || a) STORED NOT NULL UNIQUE, note TEXT);";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO accounts VALUES (1, 'A'), (2, 'B');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
           INSERT INTO slots (account_id, a, b, note)
           SELECT 1 + i % 2, 'x' || i, 'y' || (i % 7), 'note ' || i FROM n;",
    )
    .unwrap();
    drop(conn);
    let graph = write_graph(dir.path(), "tables:\n  accounts:\n    children: [slots]\n");
    let out = dir.path().join("dump.sql");
    dump_with_graph(
        &format!("sqlite:{}", src.display()),
        &graph,
        &["--root", "accounts.id=2"],
        &out,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let written: Vec<&str> = text
        .match_indices("'note ")
        .map(|(at, _)| text[at + 1..].split('\'').next().unwrap())
        .collect();
    let (dst, conn) = sqlite_file(dir.path(), "dst.db", schema);
    drop(conn);
    partialdump_ok(&[
        "import",
        "--target",
        &format!("sqlite:{}", dst.display()),
        out.to_str().unwrap(),
        "-q",
    ]);
    let conn = rusqlite::Connection::open(&dst).unwrap();
    let mut loaded: Vec<(String, String)> = conn
        .prepare("SELECT k, note FROM slots ORDER BY rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        loaded.len(),
        30,
        "every row of account 2, once: {written:?}"
    );
    // Written in the order of the generated key.
    let keys: Vec<String> = loaded.iter().map(|(k, _)| k.clone()).collect();
    loaded.sort();
    assert_eq!(
        keys,
        loaded.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
    );
}

/// A SQLite file that another program holds locked while it writes (here for half a second)
/// is waited for rather than failed on: the dump reads it once the writer is done, with what
/// the writer committed.
#[test]
fn sqlite_a_file_a_writer_holds_locked_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite_file(
        dir.path(),
        "live.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO a VALUES (1, 'before');",
    );
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer
        .execute_batch("BEGIN EXCLUSIVE; UPDATE a SET name = 'after' WHERE id = 1;")
        .unwrap();
    let committing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        writer.execute_batch("COMMIT").unwrap();
    });
    let graph = write_graph(dir.path(), "tables:\n  a: {}\n");
    let out = dir.path().join("dump.sql");
    dump_with_graph(
        &format!("sqlite:{}", db.display()),
        &graph,
        &["--root", "a.id=1"],
        &out,
    );
    committing.join().unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("(1,'after')"), "{text}");
}

/// A foreign key into another database of the server is not followed (a dump holds one
/// database), and the dump says so by table, columns and the table referenced, as `plan` does.
#[test]
fn mysql_a_reference_into_another_database_is_told_of() {
    let Some((mut src, mut other)) = mysql_pair("rt_xdb", "SELECT 1") else {
        return;
    };
    other.script("CREATE TABLE p (id INT PRIMARY KEY); INSERT INTO p VALUES (1)");
    src.script(&format!(
        "CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE c (id INT PRIMARY KEY, \
         a_id INT NOT NULL, p_id INT NOT NULL, FOREIGN KEY (a_id) REFERENCES a (id), \
         FOREIGN KEY (p_id) REFERENCES `{}`.p (id)); INSERT INTO a VALUES (1); \
         INSERT INTO c VALUES (1, 1, 1)",
        other.name
    ));
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [c]\n");
    let out = dir.path().join("dump.sql");
    let o = dump_into(&src.url(), &graph, &["--root", "a.id=1"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let told = format!(
        "warning: `c` references `{}`.`p` (through `p_id`), a table of another database",
        other.name
    );
    assert!(stderr(&o).contains(&told), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("(1,1,1)") && !text.contains("`p`"), "{text}");
    let o = partialdump(&[
        "plan",
        "--source",
        &src.url(),
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "a.id=1",
    ]);
    assert!(stderr(&o).contains(&told), "{}", stderr(&o));
    // The referencing database goes first: the other's table is a parent of its rows.
    drop(src);
}

/// SQLite's names are case-insensitive, and a foreign key names its parent and columns as its
/// clause writes them (`REFERENCES Accounts(ID)` for `accounts (id)`): such references are
/// followed like any other, so the dump holds the rows they name and loads with foreign-key
/// checks on (they were taken for references into another database, and left out).
#[test]
fn sqlite_references_spelled_in_another_case_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE users (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES Accounts(ID),
          manager_id INTEGER, FOREIGN KEY (Manager_ID) REFERENCES USERS);";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO accounts VALUES (1, 'a'), (2, 'b');
         INSERT INTO users VALUES (10, 2, NULL), (11, 2, 10), (12, 1, NULL);",
    )
    .unwrap();
    let graph = write_graph(dir.path(), "tables:\n  users: {}\n");
    let out = dir.path().join("dump.sql");
    dump_with_graph(
        &format!("sqlite:{}", src.display()),
        &graph,
        &["--root", "users.id=11"],
        &out,
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("(2,'b')") && text.contains("(10,2,NULL)") && text.contains("(11,2,10)"),
        "{text}"
    );
    assert!(
        !text.contains("(1,'a')") && !text.contains("(12,"),
        "{text}"
    );
    let (_, copy) = sqlite_file(dir.path(), "copy.db", schema);
    copy.execute_batch(&text)
        .expect("the dump loads with foreign-key checks on");
    let dangling: i64 = copy
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0);
}

/// WordPress declares no foreign keys and says "no parent" with a 0 (`post_parent`): the
/// references the graph declares name rows the source lacks. The warning said a target
/// checking foreign keys refuses the dump, and to `nullify:` the column, which `post_parent`
/// (NOT NULL) cannot be; no foreign key holds such a reference, in the target either, and
/// the dump loads as the source holds it. A row lacking behind a foreign key is still told
/// apart, in a warning of its own.
#[test]
fn references_the_graph_declares_to_rows_the_source_lacks_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE wp_users (ID INTEGER PRIMARY KEY);
         CREATE TABLE wp_posts (ID INTEGER PRIMARY KEY, post_author INTEGER NOT NULL,
           post_parent INTEGER NOT NULL DEFAULT 0, editor INTEGER REFERENCES wp_users(ID));";
    let (db, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO wp_users VALUES (1);
         INSERT INTO wp_posts VALUES (1, 1, 0, NULL), (2, 1, 1, NULL), (3, 1, 0, 5);",
    )
    .unwrap();
    let source = format!("sqlite:{}", db.display());
    let graph = write_graph(
        dir.path(),
        "tables:\n  wp_users:\n    children: [{table: wp_posts, via: post_author}]\n  wp_posts:\n    \
         references:\n      - {columns: post_author, table: wp_users}\n      \
         - {columns: post_parent, table: wp_posts}\n",
    );
    let out = dir.path().join("dump.sql");
    let o = dump_into(&source, &graph, &["--root", "wp_users.ID=1", "-q"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: the source lacks 1 row that rows of the subset reference through references \
             the graph declares, which no foreign key enforces: `wp_posts` ID=0 (referenced through \
             `wp_posts.post_parent`)"
        ) && err.contains("a 0 for none"),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: the source lacks 1 row that rows of the subset reference: `wp_users` ID=5 \
             (referenced through one of `wp_posts.editor`, `wp_posts.post_author`)"
        ),
        "{err}"
    );
    // Without the dangling editor, the copy loads as the source holds it.
    conn.execute_batch("UPDATE wp_posts SET editor = NULL")
        .unwrap();
    let o = dump_into(&source, &graph, &["--root", "wp_users.ID=1", "-q"], &out);
    assert!(!stderr(&o).contains("refuses"), "{}", stderr(&o));
    let (copy, _) = sqlite_file(dir.path(), "copy.db", schema);
    import_ok(&format!("sqlite:{}", copy.display()), &out);
}

/// References to rows the source lacks (SQLite enforces foreign keys only when told to) are
/// named when the dump is written, as the target will refuse them, and by `plan`; the
/// import's refusal says that the source may lack the row; `nullify:` makes a dump that loads;
/// a tenant without such references gets no warning.
#[test]
fn sqlite_references_to_rows_the_source_lacks_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _conn) = sqlite_file(
        dir.path(),
        "src.db",
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE accounts (id INTEGER PRIMARY KEY);
         CREATE TABLE users (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
           manager_id INTEGER REFERENCES users(id));
         CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
           user_id INTEGER REFERENCES users(id));
         INSERT INTO accounts VALUES (1), (2);
         INSERT INTO users VALUES (1, 1, NULL), (2, 1, 99), (3, 2, NULL);
         INSERT INTO orders VALUES (1, 1, 2), (2, 1, 77), (3, 2, 3);",
    );
    let source = format!("sqlite:{}", db.display());
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [users, orders]\n",
    );
    let out = dir.path().join("dump.sql");
    let stats = dir.path().join("stats.json");
    let o = dump_into(
        &source,
        &graph,
        &[
            "--root",
            "accounts.id=1",
            "--with-schema",
            "-q",
            "--stats-json",
            stats.to_str().unwrap(),
        ],
        &out,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: the source lacks 2 rows that rows of the subset reference: `users` id=77, id=99 \
             (referenced through one of `orders.user_id`, `users.manager_id`)"
        ),
        "{}",
        stderr(&o)
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(
        stats["warnings"].as_array().map(Vec::len),
        Some(1),
        "{stats}"
    );
    let plan = partialdump(&[
        "plan",
        "--source",
        &source,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "accounts.id=1",
    ]);
    assert!(
        stderr(&plan).contains("warning: the source lacks 2 rows"),
        "{}",
        stderr(&plan)
    );
    let copy = format!("sqlite:{}", dir.path().join("copy.db").display());
    let o = partialdump(&["import", "--target", &copy, out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Either the source lacks that row too"),
        "{}",
        stderr(&o)
    );

    let o = dump_into(&source, &graph, &["--root", "accounts.id=2", "-q"], &out);
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );

    // A reference of text naming an integer key (`'3'`, which SQLite compares as 3) names a
    // row that is there: no warning.
    let (typed, conn) = sqlite_file(
        dir.path(),
        "typed.db",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY);
         CREATE TABLE users (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id));
         CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),
           user_ref TEXT REFERENCES users(id));
         INSERT INTO accounts VALUES (1), (2);
         INSERT INTO users VALUES (1, 1), (3, 2);
         INSERT INTO orders VALUES (1, 1, '3'), (2, 1, '1');",
    );
    drop(conn);
    let o = dump_into(
        &format!("sqlite:{}", typed.display()),
        &graph,
        &["--root", "accounts.id=1", "-q"],
        &out,
    );
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );

    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [users, orders]\n  users: {nullify: [manager_id]}\n  orders: {nullify: [user_id]}\n",
    );
    let o = dump_into(
        &source,
        &graph,
        &["--root", "accounts.id=1", "--with-schema", "-q"],
        &out,
    );
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
    import_ok(&copy, &out);
}

/// The same on MySQL, whose `foreign_key_checks = 0` lets such rows in: by scans and by
/// lookups alike, and for keys of bytes (counted, as the walk keeps digests of them). A key of
/// text in a case-insensitive collation is not checked: a reference in another case names a row
/// read under its own spelling (bench/shapes' strings, whose 12,000 such references were named
/// as lacking).
#[test]
fn mysql_references_to_rows_the_source_lacks_are_named() {
    let Some(mut src) = mysql_db("rt_lacks") else {
        return;
    };
    src.script(
        "SET foreign_key_checks = 0;
         CREATE TABLE accounts (id INT PRIMARY KEY);
         CREATE TABLE labels (name VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY);
         CREATE TABLE users (id INT PRIMARY KEY, account_id INT NOT NULL, manager_id INT,
           label VARCHAR(10) COLLATE utf8mb4_general_ci,
           FOREIGN KEY (account_id) REFERENCES accounts (id), FOREIGN KEY (manager_id) REFERENCES users (id),
           FOREIGN KEY (label) REFERENCES labels (name));
         CREATE TABLE tags (code VARBINARY(10) PRIMARY KEY);
         CREATE TABLE user_tags (user_id INT, code VARBINARY(10), PRIMARY KEY (user_id, code),
           FOREIGN KEY (user_id) REFERENCES users (id), FOREIGN KEY (code) REFERENCES tags (code));
         INSERT INTO accounts VALUES (1);
         INSERT INTO labels VALUES ('vip');
         INSERT INTO users SELECT seq, 1, IF(seq % 500 = 0, seq + 100000, NULL), IF(seq % 2, 'VIP', 'vip')
           FROM seq_1_to_5000;
         INSERT INTO tags VALUES ('a');
         INSERT INTO user_tags VALUES (1, 'a'), (2, 'zz');
         ANALYZE TABLE users",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [users]\n  users:\n    children: [user_tags]\n",
    );
    let out = dir.path().join("d.sql");
    for extra in [None, Some("--lookups-only")] {
        let mut args = vec!["--root", "accounts.id=1", "-q"];
        args.extend(extra);
        let o = dump_into(&src.url(), &graph, &args, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(
                "the source lacks 11 rows that rows of the subset reference: `tags` 1 row (referenced \
                 through `user_tags.code`); `users` id=100500, id=101000, id=101500, id=102000, \
                 id=102500, 5 more (referenced through one of `user_tags.user_id`, `users.manager_id`)."
            ),
            "{extra:?}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("`labels`"), "{}", stderr(&o));
    }
}

/// A join table without a key (`tags_users (user_id, tag_id)`, as Rails makes them), reached
/// as the child of one table: every row is copied, two rows alike and rows holding NULL too,
/// in one order by scans and by lookups; the copy verifies
/// equal, and one row fewer does not. Such a table cannot be a root, nor the child of two
/// tables (its rows could be met twice), which is refused as before.
#[test]
fn mysql_a_join_table_without_a_key_is_copied_whole() {
    let Some((mut src, mut dst)) = mysql_pair(
        "rt_keyless",
        "CREATE TABLE users (id INT PRIMARY KEY);
         CREATE TABLE tags (id INT PRIMARY KEY, name VARCHAR(10));
         CREATE TABLE tags_users (user_id INT NOT NULL, tag_id INT, KEY (user_id),
           FOREIGN KEY (user_id) REFERENCES users (id), FOREIGN KEY (tag_id) REFERENCES tags (id))",
    ) else {
        return;
    };
    src.script(
        "INSERT INTO users VALUES (1), (2);
         INSERT INTO tags VALUES (1, 'a'), (2, 'b');
         INSERT INTO tags_users VALUES (1, 2), (1, 1), (1, 1), (1, NULL), (1, NULL), (2, 2)",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  users:\n    children: [tags_users]\n",
    );
    let out = dir.path().join("d.sql");
    let mut dumps = Vec::new();
    for extra in [&[][..], &["--lookups-only", "--jobs", "1"]] {
        let args = [&["--root", "users.id=1", "--with-schema"][..], extra].concat();
        dump_with_graph(&src.url(), &graph, &args, &out);
        dumps.push(strip_snapshot(&std::fs::read_to_string(&out).unwrap()));
    }
    assert_eq!(dumps[0], dumps[1], "scans and lookups write the same dump");
    let rows: Vec<&str> = dumps[0]
        .split("INSERT INTO `tags_users`")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('('))
        .map(|l| l.trim_end_matches([',', ';']))
        .collect();
    let mut sorted = rows.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["(1,1)", "(1,1)", "(1,2)", "(1,NULL)", "(1,NULL)"],
        "{}",
        dumps[0]
    );
    import_ok(&dst.url(), &out);
    let o = verify(&src.url(), &dst.url(), &graph, "users.id=1");
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = partialdump_ok(&[
        "plan",
        "--source",
        &src.url(),
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "users.id=1",
    ]);
    let plan = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(
        plan.lines().any(|l| l.contains("tags_users")
            && l.contains(" 5 rows")
            && l.contains("no key: every row copied, rows alike too")),
        "{plan}"
    );
    dst.script("DELETE FROM tags_users WHERE tag_id = 1 LIMIT 1");
    let o = verify(&src.url(), &dst.url(), &graph, "users.id=1");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    let o = dump_into(
        &src.url(),
        &graph,
        &["--root-where", "tags_users:user_id = 1"],
        &out,
    );
    assert!(
        stderr(&o).contains("so it cannot be a root"),
        "{}",
        stderr(&o)
    );
    let graph = write_graph(
        dir.path(),
        "tables:\n  users:\n    children: [tags_users]\n  tags:\n    children: [tags_users]\n",
    );
    let o = dump_into(&src.url(), &graph, &["--root", "users.id=1"], &out);
    assert!(
        stderr(&o).contains("they may be met more than once"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------- `always` child edges

/// A store's inventory references films, and films that other stores own; each film's cast
/// (`film_actor`) belongs to the film. Sakila's shape.
const CAST_SCHEMA: &str = "
CREATE TABLE store (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TABLE actor (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(20) NOT NULL, store_id INT NULL,
  FOREIGN KEY (store_id) REFERENCES store (id));
CREATE TABLE film_actor (film_id INT NOT NULL, actor_id INT NOT NULL, PRIMARY KEY (film_id, actor_id),
  FOREIGN KEY (film_id) REFERENCES film (id), FOREIGN KEY (actor_id) REFERENCES actor (id));
CREATE TABLE inventory (id INT PRIMARY KEY, store_id INT NOT NULL, film_id INT NOT NULL,
  FOREIGN KEY (store_id) REFERENCES store (id), FOREIGN KEY (film_id) REFERENCES film (id));
CREATE INDEX film_store ON film (store_id);
CREATE INDEX inventory_store ON inventory (store_id);
";

/// Three stores; 60 films, a quarter owned by store 1, a quarter by store 2, half by none; 3
/// actors of 40 in each film; 90 inventory rows over the stores and films.
fn cast_data() -> Vec<String> {
    let mut sql = vec!["INSERT INTO store VALUES (1, 's1'), (2, 's2'), (3, 's3')".to_string()];
    let actors: Vec<String> = (1..=40).map(|a| format!("({a}, 'a{a}')")).collect();
    sql.push(format!("INSERT INTO actor VALUES {}", actors.join(", ")));
    let films: Vec<String> = (1..=60)
        .map(|f| {
            let owner = match f % 4 {
                0 => "1",
                1 => "2",
                _ => "NULL",
            };
            format!("({f}, 'f{f}', {owner})")
        })
        .collect();
    sql.push(format!("INSERT INTO film VALUES {}", films.join(", ")));
    let cast: Vec<String> = (1..=60)
        .flat_map(|f| (0..3).map(move |k| format!("({f}, {})", (f * 7 + k * 3) % 40 + 1)))
        .collect();
    sql.push(format!("INSERT INTO film_actor VALUES {}", cast.join(", ")));
    let inventory: Vec<String> = (1..=90)
        .map(|i| format!("({i}, {}, {})", 1 + i % 3, 1 + (i * 11) % 60))
        .collect();
    sql.push(format!(
        "INSERT INTO inventory VALUES {}",
        inventory.join(", ")
    ));
    sql
}

const CAST_GRAPH: &str = "tables:\n  store:\n    children: [inventory, film]\n  film:\n    \
                          children: [{table: film_actor, always: true}]\n";

/// Store 1's dump holds every film its inventory references, and each film's whole cast, owned
/// by the store or not; a plain child edge brings the casts of the store's own films only.
fn a_films_cast_comes_with_every_film(
    src: &mut dyn Db,
    dst: &mut dyn Db,
    (src_url, dst_url): (&str, &str),
    dir: &Path,
) {
    let count = |db: &mut dyn Db, sql: &str| -> i64 {
        db.rows(sql)[0][0]
            .as_deref()
            .unwrap_or("0")
            .parse()
            .unwrap()
    };
    let films_of_1 = "(SELECT id FROM film WHERE store_id = 1 UNION SELECT film_id FROM inventory WHERE store_id = 1)";
    let films = count(
        src,
        &format!("SELECT count(*) FROM film WHERE id IN {films_of_1}"),
    );
    let cast = count(
        src,
        &format!("SELECT count(*) FROM film_actor WHERE film_id IN {films_of_1}"),
    );
    let own_cast = count(
        src,
        "SELECT count(*) FROM film_actor WHERE film_id IN (SELECT id FROM film WHERE store_id = 1)",
    );
    assert!(own_cast > 0 && cast > own_cast, "{own_cast} {cast}");

    let graph = write_graph(dir, CAST_GRAPH);
    let out = dir.join("always.sql");
    dump_with_graph(src_url, &graph, &["--root", "store.id=1"], &out);
    import_ok(dst_url, &out);
    assert_eq!(count(dst, "SELECT count(*) FROM film"), films);
    assert_eq!(count(dst, "SELECT count(*) FROM film_actor"), cast);
    assert_eq!(
        count(dst, "SELECT count(*) FROM actor"),
        count(
            src,
            &format!(
                "SELECT count(DISTINCT actor_id) FROM film_actor WHERE film_id IN {films_of_1}"
            )
        )
    );
    let o = verify(src_url, dst_url, &graph, "store.id=1");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    // Why a film that store 1 does not own has its cast in the dump.
    let row = src.rows(
        "SELECT fa.film_id, fa.actor_id FROM film_actor fa JOIN film f ON f.id = fa.film_id \
         WHERE f.store_id IS NULL AND f.id IN (SELECT film_id FROM inventory WHERE store_id = 1) \
         ORDER BY 1, 2",
    );
    let (f, a) = (row[0][0].clone().unwrap(), row[0][1].clone().unwrap());
    let o = partialdump_ok(&[
        "plan",
        "--source",
        src_url,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "store.id=1",
        "--explain",
        &format!("film_actor.film_id={f},actor_id={a}"),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("film id={f}  (referenced by inventory.film_id)"))
            && text.contains("(child of film via film_actor.film_id (always))"),
        "{text}"
    );

    // Without `always`: the casts of the store's own films only.
    let graph = write_graph(
        dir,
        &CAST_GRAPH.replace("{table: film_actor, always: true}", "film_actor"),
    );
    let out = dir.join("plain.sql");
    dump_with_graph(src_url, &graph, &["--root", "store.id=1"], &out);
    let text = std::fs::read_to_string(&out).unwrap();
    let cast_rows = text
        .split("INSERT INTO")
        .filter(|s| {
            s.trim_start()
                .trim_start_matches(['"', '`'])
                .starts_with("film_actor")
        })
        .map(|s| s.matches("),").count() + 1)
        .sum::<usize>();
    assert_eq!(cast_rows as i64, own_cast, "{text}");
}

#[test]
fn sqlite_a_films_cast_comes_with_every_film() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut src = SqliteDb::with_schema(dir.clone(), "src.db", CAST_SCHEMA);
    for s in cast_data() {
        src.conn.execute_batch(&s).unwrap();
    }
    let mut dst = SqliteDb::with_schema(dir.clone(), "dst.db", CAST_SCHEMA);
    let urls = (src.url(), dst.url());
    a_films_cast_comes_with_every_film(&mut src, &mut dst, (&urls.0, &urls.1), dir.path());
    assert!(dst.rows("PRAGMA foreign_key_check").is_empty());
    // `graph` labels the edge, from the file alone and with the schema.
    let graph = write_graph(dir.path(), CAST_GRAPH);
    for extra in [&[][..], &["--source", &urls.0]] {
        let mut args = vec![
            "graph",
            "--graph",
            graph.to_str().unwrap(),
            "--format",
            "mermaid",
        ];
        args.extend_from_slice(extra);
        let o = partialdump_ok(&args);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("(always)\"| t_film_actor"), "{text}");
    }

    // `check` names child edges that dumps from the given roots never follow, and says how.
    let check_from_store = |graph_text: &str| {
        let graph = write_graph(dir.path(), graph_text);
        let o = partialdump(&[
            "check",
            "--source",
            &urls.0,
            "--graph",
            graph.to_str().unwrap(),
            "--root-table",
            "store",
        ]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let not_owned = CAST_GRAPH.replace("[inventory, film]", "[inventory]");
    let (code, findings) =
        check_from_store(&not_owned.replace("{table: film_actor, always: true}", "film_actor"));
    assert_eq!(code, Some(1), "{findings}");
    assert!(
        findings.contains("film: unfollowed-children: the child edges of `film` (film_actor)")
            && findings.contains("`{table: film_actor, always: true}`"),
        "{findings}"
    );
    // `dump` and `plan` say so too, knowing their roots.
    let graph = write_graph(
        dir.path(),
        &not_owned.replace("{table: film_actor, always: true}", "film_actor"),
    );
    for command in ["dump", "plan"] {
        let o = partialdump_ok(&[
            command,
            "--source",
            &urls.0,
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            "store.id=1",
        ]);
        assert!(
            stderr(&o).contains(
                "warning: the child edges of `film` (film_actor) are never followed in dumps from store"
            ) && stderr(&o).contains("Write each as `{table: film_actor, always: true}`"),
            "{command}: {}",
            stderr(&o)
        );
    }
    // With `always`, nothing to say of it.
    let (_, findings) = check_from_store(&not_owned);
    assert!(!findings.contains("unfollowed"), "{findings}");
}

#[test]
fn mysql_a_films_cast_comes_with_every_film() {
    let Some((mut src, mut dst)) = mysql_pair("always_cast", CAST_SCHEMA) else {
        return;
    };
    for s in cast_data() {
        src.rows(&s);
    }
    let dir = tempfile::tempdir().unwrap();
    let urls = (src.url(), dst.url());
    a_films_cast_comes_with_every_film(&mut src, &mut dst, (&urls.0, &urls.1), dir.path());
}

/// A graph written for a source without foreign keys (Stack Overflow's dump) declares its
/// references; the copy it is loaded into declares them as foreign keys. `verify` (and every
/// command reading that copy) said the table referenced its parent "in 2 ways (ParentId;
/// ParentId)": the graph's reference restating a declared key is that key's relation.
#[test]
fn a_graphs_reference_that_a_foreign_key_declares_is_one_relation() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _s) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE Posts (Id INTEGER PRIMARY KEY, ParentId INTEGER, Body TEXT);
         CREATE INDEX posts_parent ON Posts (ParentId);
         INSERT INTO Posts VALUES (1, NULL, 'q'), (2, 1, 'a'), (3, 1, 'b'), (4, NULL, 'other');",
    );
    let (dst, _d) = sqlite_file(
        dir.path(),
        "dst.db",
        "CREATE TABLE Posts (Id INTEGER PRIMARY KEY, ParentId INTEGER REFERENCES Posts (Id),
           Body TEXT);
         CREATE INDEX posts_parent ON Posts (ParentId);",
    );
    let graph = write_graph(
        dir.path(),
        "tables:\n  Posts:\n    children: [{table: Posts, via: ParentId}]\n    references:\n      \
         - {columns: ParentId, table: Posts}\n",
    );
    let (src, dst) = (
        format!("sqlite:{}", src.display()),
        format!("sqlite:{}", dst.display()),
    );
    let out = dir.path().join("q.sql");
    let stats = dump_with_stats(&src, &graph, &["--root", "Posts.Id=1"], &out);
    assert_eq!(stats_rows(&stats, "Posts"), Some(3), "{stats}");
    import_ok(&dst, &out);
    let o = verify(&src, &dst, &graph, "Posts.Id=1");
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    // The copy, dumped by the same graph, holds the same rows.
    let again = dump_with_stats(
        &dst,
        &graph,
        &["--root", "Posts.Id=1"],
        &dir.path().join("c.sql"),
    );
    assert_eq!(stats_rows(&again, "Posts"), Some(3), "{again}");
}
