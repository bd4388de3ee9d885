//! `import` and `verify` against real databases: round trips between every pair of engines,
//! refusal of altered, injected and truncated dumps with the target left untouched, a killed
//! import, conflict modes, schema mismatches.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn portable_graph() -> PathBuf {
    root().join("schemas/app-portable.yaml")
}

/// The portable graph's tables: every fixture table but type_zoo (skipped) and sessions.
fn portable_tables() -> Vec<(&'static str, &'static [&'static str])> {
    oracle::KEYS
        .iter()
        .filter(|(t, _)| *t != "type_zoo")
        .copied()
        .collect()
}

fn dump_to(url: &str, graph: &Path, root: &str, out: &Path) {
    partialdump_ok(&[
        "dump",
        "--source",
        url,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        root,
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ]);
}

fn import_file(target: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", "--target", target, file.to_str().unwrap()];
    args.extend_from_slice(extra);
    partialdump(&args)
}

fn import_stdin(target: &str, bytes: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args(["import", "--target", target])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The importer may stop reading early (a refused statement): ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(bytes);
    child.wait_with_output().unwrap()
}

/// Every row of every table, each cell normalised so that engines compare: numbers by value,
/// binary columns by hex.
fn contents(db: &mut dyn Db, tables: &[(&str, &[&str])]) -> BTreeMap<String, Vec<Row>> {
    let mut out = BTreeMap::new();
    for (t, key) in tables {
        let cols: Vec<String> = db
            .columns(t)
            .into_iter()
            .map(|(c, ty)| {
                if ty.contains("blob") || ty.contains("binary") {
                    let c = db.quote(&c);
                    format!("CASE WHEN {c} IS NULL THEN NULL ELSE hex({c}) END")
                } else {
                    db.quote(&c)
                }
            })
            .collect();
        let order: Vec<String> = key.iter().map(|k| db.quote(k)).collect();
        let rows = db.rows(&format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            db.quote(t),
            order.join(", ")
        ));
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| {
                        c.map(|s| match s.parse::<f64>() {
                            Ok(f) if !s.is_empty() => format!("{f}"),
                            _ => s,
                        })
                    })
                    .collect()
            })
            .collect();
        out.insert(t.to_string(), rows);
    }
    out
}

/// The source's rows restricted to the oracle's keys, with nullified columns as NULL.
fn expected_contents(src: &mut dyn Db, root_where: &str) -> BTreeMap<String, Vec<Row>> {
    let expected = oracle::expected(src, "accounts", root_where);
    let mut all = contents(src, &portable_tables());
    for (t, rows) in all.iter_mut() {
        let key = oracle::KEYS.iter().find(|(n, _)| n == t).unwrap().1;
        let cols: Vec<String> = src.columns(t).into_iter().map(|(c, _)| c).collect();
        let want = expected.get(t).cloned().unwrap_or_default();
        let raw_keys: Vec<Row> = {
            let q: Vec<String> = key.iter().map(|k| src.quote(k)).collect();
            src.rows(&format!(
                "SELECT {} FROM {} ORDER BY {}",
                q.join(", "),
                src.quote(t),
                q.join(", ")
            ))
        };
        let mut kept = Vec::new();
        for (row, k) in rows.drain(..).zip(raw_keys) {
            if want.contains(&k) {
                let mut row = row;
                for (i, c) in cols.iter().enumerate() {
                    if oracle::NULLIFIED.contains(&(t.as_str(), c.as_str())) {
                        row[i] = None;
                    }
                }
                kept.push(row);
            }
        }
        *rows = kept;
    }
    all
}

enum AnyDb {
    Sqlite(SqliteDb),
    Mysql(MysqlDb),
}

impl AnyDb {
    fn url(&self) -> String {
        match self {
            AnyDb::Sqlite(d) => d.url(),
            AnyDb::Mysql(d) => d.url(),
        }
    }
    fn db(&mut self) -> &mut dyn Db {
        match self {
            AnyDb::Sqlite(d) => d,
            AnyDb::Mysql(d) => d,
        }
    }
}

fn engine(kind: &str, test: &str, with_data: bool) -> Option<AnyDb> {
    match kind {
        "sqlite" => Some(AnyDb::Sqlite(SqliteDb::fixture(with_data))),
        _ => MysqlDb::fixture(test, with_data).map(AnyDb::Mysql),
    }
}

fn round_trip(from: &str, to: &str, test: &str) {
    let Some(mut src) = engine(from, &format!("{test}_s"), true) else {
        return;
    };
    let Some(mut dst) = engine(to, &format!("{test}_d"), false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let graph = portable_graph();
    for (root, cond) in [("accounts.id=1", "id = 1"), ("accounts.id=3", "id = 3")] {
        let file = dir.path().join("dump.sql");
        dump_to(&src.url(), &graph, root, &file);
        let o = import_file(&dst.url(), &file, &["--on-conflict", "skip"]);
        assert!(o.status.success(), "{from} -> {to}: {}", stderr(&o));
        let v = verify(&src.url(), &dst.url(), &graph, root);
        assert!(
            v.status.success(),
            "{from} -> {to}: verify {root} exit {:?}\n{}{}",
            v.status.code(),
            String::from_utf8_lossy(&v.stdout),
            stderr(&v)
        );
        let _ = cond;
    }
    // Independent check: the target holds exactly the union of the two subsets.
    let want_1 = expected_contents(src.db(), "id IN (1, 3)");
    let got = contents(dst.db(), &portable_tables());
    assert_eq!(
        got, want_1,
        "{from} -> {to}: target contents differ from the expected subset"
    );
}

#[test]
fn sqlite_to_sqlite() {
    round_trip("sqlite", "sqlite", "imp_ss");
}

#[test]
fn mysql_to_mysql() {
    round_trip("mysql", "mysql", "imp_mm");
}

#[test]
fn mysql_to_sqlite() {
    round_trip("mysql", "sqlite", "imp_ms");
}

#[test]
fn sqlite_to_mysql() {
    round_trip("sqlite", "mysql", "imp_sm");
}

/// An SQLite file holds dates in DATETIME columns as text, a date alone or with ISO 8601's `T`
/// (`2020-03-01`, `2020-03-01T10:20:30`); MariaDB holds them as `2020-03-01 00:00:00` and
/// `2020-03-01 10:20:30`. `verify` said every such table of a copy differed. Text that is not a
/// date stays text to compare.
#[test]
fn verify_from_sqlite_to_mysql_compares_dates_in_text_as_dates() {
    let Some(mut dst) = mysql_db("imp_dates") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "dates.db",
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME NOT NULL, note TEXT);
         INSERT INTO events VALUES (1, '2020-03-01', '2020-03-01'),
           (2, '2020-03-01T10:20:30', 'x'), (3, '2021-12-31 23:59:59', NULL);",
    );
    dst.script("CREATE TABLE events (id INT PRIMARY KEY, at DATETIME NOT NULL, note TEXT)");
    let graph = dir.path().join("graph.yaml");
    std::fs::write(&graph, "tables:\n  events: {}\n").unwrap();
    let src = format!("sqlite:{}", path.display());
    for id in 1..=3 {
        let root = format!("events.id={id}");
        let file = dir.path().join(format!("dump{id}.sql"));
        dump_to(&src, &graph, &root, &file);
        let o = import_file(&dst.url(), &file, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        let v = verify(&src, &dst.url(), &graph, &root);
        assert!(
            v.status.success(),
            "{root}: {}{}",
            String::from_utf8_lossy(&v.stdout),
            stderr(&v)
        );
    }
    // A note holding a date is text on both sides: changed in the copy, it differs.
    dst.script("UPDATE events SET note = '2020-03-01 00:00:00' WHERE id = 1");
    let v = verify(&src, &dst.url(), &graph, "events.id=1");
    assert_eq!(v.status.code(), Some(1), "{}", stderr(&v));
}

#[test]
fn mysql_every_type_round_trips_through_import() {
    let Some(src) = MysqlDb::fixture("imp_types_s", true) else {
        return;
    };
    let Some(dst) = MysqlDb::fixture("imp_types_d", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph(), "accounts.id=1", &file);
    let o = import_file(&dst.url(), &file, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut dst = dst;
    let mut src = src;
    let expected = oracle::expected(&mut src, "accounts", "id = 1");
    let src_name = format!("`{}`", src.name);
    assert_subset(&expected, &mut dst, |db, t, k, cols| {
        count_equal_rows(db, &src_name, t, k, cols, "<=>")
    });
    let v = verify(&src.url(), &dst.url(), &graph(), "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

/// The bulk path loads its rows as strings of the binary character set, which some columns
/// read as something other than the text they are: MariaDB's UUID, INET6 and INET4 as their
/// binary form (an address whose text is 16 bytes long, `2001:db8::1:2:34`, loaded as
/// `3230:3031:…`, and other texts failed the import), and text in another character set than
/// UTF-8 byte for byte (`café` loaded into latin1 as `cafÃ©`). Each value must arrive as the
/// source holds it, keys and references of these types included.
#[test]
fn mysql_uuid_inet_and_latin1_columns_import_as_their_text() {
    let schema = "
        CREATE TABLE hosts (id UUID PRIMARY KEY, v6 INET6 NULL, v4 INET4 NULL, name VARCHAR(20) NOT NULL,
          city VARCHAR(20) CHARACTER SET latin1 NOT NULL, label VARCHAR(20) CHARACTER SET utf16 NULL,
          kind ENUM('café', 'thé') CHARACTER SET latin1 NOT NULL, notes TEXT CHARACTER SET cp1251 NULL);
        CREATE TABLE pings (id INT PRIMARY KEY, host_id UUID NOT NULL, `from` INET6 NOT NULL,
          FOREIGN KEY (host_id) REFERENCES hosts (id))";
    let Some((mut src, mut dst)) = mysql_pair("imp_uuid", schema) else {
        return;
    };
    src.script(
        "INSERT INTO hosts VALUES
           ('123e4567-e89b-12d3-a456-426655440000', '2001:db8::1:2:34', '10.0.0.1', 'a',
            'Zürich', 'ü€😀', 'thé', 'Привет'),
           ('00000000-0000-0000-0000-000000000002', '::1', NULL, 'b', 'Paris', NULL, 'café', NULL);
         INSERT INTO pings VALUES (1, '123e4567-e89b-12d3-a456-426655440000', 'fe80::1:2:3:4:56'),
           (2, '123e4567-e89b-12d3-a456-426655440000', '::ffff:1.2.3.4'),
           (3, '00000000-0000-0000-0000-000000000002', '::')",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  hosts:\n    children: [pings]\n");
    let file = dir.path().join("dump.sql");
    let root = "hosts.id=123e4567-e89b-12d3-a456-426655440000";
    dump_to(&src.url(), &graph, root, &file);
    let o = import_file(&dst.url(), &file, &["-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = |db: &mut MysqlDb| {
        db.rows(
            "SELECT CONCAT_WS('|', h.id, h.v6, IFNULL(h.v4, '-'), h.name, CONVERT(h.city USING utf8mb4), \
             IFNULL(CONVERT(h.label USING utf8mb4), '-'), CONVERT(h.kind USING utf8mb4), \
             IFNULL(CONVERT(h.notes USING utf8mb4), '-'), p.id, p.`from`) \
             FROM hosts h JOIN pings p ON p.host_id = h.id ORDER BY p.id",
        )
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect::<Vec<_>>()
    };
    let expected: Vec<String> = text(&mut src).into_iter().take(2).collect();
    assert_eq!(text(&mut dst), expected);
    assert!(
        expected[0].contains("|2001:db8::1:2:34|")
            && expected[0].contains("|Zürich|ü€😀|thé|Привет|"),
        "{expected:?}"
    );
    let v = verify(&src.url(), &dst.url(), &graph, root);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

/// Dumps `root` of `src` with the graph `yaml` and imports the file into `dst`, which must
/// refuse it (exit code 2); returns what the import printed.
fn import_refused(src: &MysqlDb, dst: &MysqlDb, yaml: &str, root: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), yaml);
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, root, &file);
    let o = import_file(&dst.url(), &file, &["-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    stderr(&o)
}

/// A value the target's column cannot hold fails the bulk load with the server's reason and
/// the rows the statement held. The rows a failed bulk load wrote stay visible until the
/// rollback, so they must not be reported as rows the target already had.
#[test]
fn mysql_bulk_load_of_a_value_too_long_names_the_rows_not_a_conflict() {
    let Some((mut src, mut dst)) = mysql_pair(
        "imp_too_long",
        "CREATE TABLE teams (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
    ) else {
        return;
    };
    src.script("INSERT INTO teams VALUES (1, 'ok'), (2, 'much too long')");
    dst.script("ALTER TABLE teams MODIFY name VARCHAR(3) NOT NULL");
    let err = import_refused(
        &src,
        &dst,
        "tables:\n  teams: {mode: lookup}\n",
        "teams.id=1",
    );
    assert!(
        err.contains("`teams`")
            && err.contains("name")
            && err.contains("in the rows with id=1 to id=2"),
        "{err}"
    );
    assert!(!err.contains("already has"), "{err}");
    assert_eq!(
        dst.rows("SELECT COUNT(*) FROM teams")[0][0].as_deref(),
        Some("0")
    );
}

/// An import is all or nothing, which a table without transactions cannot be part of: a
/// target table of MyISAM is refused, by name and engine, before a row goes into it, and the
/// rows already loaded into InnoDB tables are rolled back with the rest.
#[test]
fn mysql_import_refuses_a_target_table_without_transactions() {
    let Some((mut src, mut dst)) = mysql_pair(
        "imp_myisam",
        "CREATE TABLE accounts (id INT PRIMARY KEY) ENGINE=InnoDB;
         CREATE TABLE visits (id INT PRIMARY KEY, account_id INT NOT NULL, KEY (account_id)) ENGINE=InnoDB",
    ) else {
        return;
    };
    src.script("INSERT INTO accounts VALUES (1); INSERT INTO visits VALUES (1, 1), (2, 1)");
    dst.script("ALTER TABLE visits ENGINE=MyISAM");
    let err = import_refused(
        &src,
        &dst,
        "tables:\n  accounts:\n    children: [visits]\n  visits:\n    references: \
         [{columns: account_id, table: accounts}]\n",
        "accounts.id=1",
    );
    assert!(
        err.contains("the target's table `visits` is MyISAM, an engine without transactions")
            && err.contains("ALTER TABLE `visits` ENGINE=InnoDB")
            && err.contains("the target is as it was before"),
        "{err}"
    );
    for table in ["accounts", "visits"] {
        assert_eq!(
            dst.rows(&format!("SELECT COUNT(*) FROM {table}"))[0][0].as_deref(),
            Some("0"),
            "{table}"
        );
    }
}

#[test]
fn verify_reports_a_difference() {
    let Some(mut src) = engine("sqlite", "", true) else {
        return;
    };
    let dst = SqliteDb::fixture(false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph(), "accounts.id=1", &file);
    assert!(import_file(&dst.url(), &file, &[]).status.success());
    dst.conn
        .execute_batch("UPDATE comments SET body = 'edited' WHERE id = 1")
        .unwrap();
    let v = verify(&src.url(), &dst.url(), &graph(), "accounts.id=1");
    assert_eq!(v.status.code(), Some(1));
    let out = String::from_utf8_lossy(&v.stdout);
    let line = out.lines().find(|l| l.starts_with("comments")).unwrap();
    assert!(line.ends_with("DIFFERENT"), "{out}");
    assert!(
        out.lines()
            .find(|l| l.starts_with("users"))
            .unwrap()
            .ends_with("ok"),
        "{out}"
    );
    // A target that lacks the root holds none of the subset: a difference, named as such,
    // rather than an error that calls the target the source.
    dst.conn
        .execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM accounts WHERE id = 1")
        .unwrap();
    let v = verify(&src.url(), &dst.url(), &graph(), "accounts.id=1");
    assert_eq!(v.status.code(), Some(1), "{}", stderr(&v));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(
        out.lines()
            .find(|l| l.starts_with("users"))
            .is_some_and(|l| l.contains(" 0 ") && l.ends_with("DIFFERENT")),
        "{out}"
    );
    let err = stderr(&v);
    assert!(
        err.contains("matched no row in the target") && !err.contains("source"),
        "{err}"
    );
    let _ = src.db();
}

/// Per-table row counts and contents, to prove a refused import left the target as it was.
fn snapshot(db: &mut dyn Db) -> BTreeMap<String, Vec<Row>> {
    contents(db, &portable_tables())
}

/// A target that already holds account 2's subset.
fn seeded_target(kind: &str, test: &str) -> Option<(AnyDb, AnyDb, tempfile::TempDir)> {
    let src = engine(kind, &format!("{test}_s"), true)?;
    let dst = engine(kind, &format!("{test}_d"), false)?;
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.sql");
    dump_to(&src.url(), &portable_graph(), "accounts.id=2", &seed);
    let o = import_file(&dst.url(), &seed, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    Some((src, dst, dir))
}

fn refusals(kind: &str, test: &str) {
    let Some((src, mut dst, dir)) = seeded_target(kind, test) else {
        return;
    };
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &portable_graph(), "accounts.id=1", &file);
    let good = std::fs::read(&file).unwrap();
    let before = snapshot(dst.db());
    let text = String::from_utf8(good.clone()).unwrap();
    let trailer_at = text.rfind("-- partialdump end:").unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        (
            "DROP TABLE appended after the trailer".into(),
            format!("{text}DROP TABLE users;\n").into_bytes(),
        ),
        (
            "DROP TABLE before the trailer".into(),
            format!(
                "{}DROP TABLE users;\n{}",
                &text[..trailer_at],
                &text[trailer_at..]
            )
            .into_bytes(),
        ),
        (
            "statement injected inside a value".into(),
            text.replacen("'Looks good'", "'x'); DROP TABLE users; -- '", 1)
                .into_bytes(),
        ),
        (
            "a value changed".into(),
            text.replacen("'Looks good'", "'Looks bad!'", 1)
                .into_bytes(),
        ),
        (
            "a function call as a value".into(),
            text.replacen("'Looks good'", "SLEEP(5)", 1).into_bytes(),
        ),
    ];
    // Cut at several offsets spread over the file (deterministic).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = (x % (good.len() as u64 - 1)) as usize + 1;
        cases.push((
            format!("cut at byte {at} of {}", good.len()),
            good[..at].to_vec(),
        ));
    }
    cases.push((
        "cut just before the trailer".into(),
        good[..trailer_at].to_vec(),
    ));
    cases.push(("empty input".into(), Vec::new()));
    // Another tool's SQL (mysqldump's first lines): refused, with what loads it.
    let other = format!(
        "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n{}",
        &text[text.find("INSERT").unwrap()..trailer_at]
    );
    let path = dir.path().join("other.sql");
    std::fs::write(&path, &other).unwrap();
    let err = stderr(&import_file(&dst.url(), &path, &[]));
    assert!(
        err.contains("other.sql:1: this is not a partialdump dump")
            && err.contains("with the database's own client"),
        "{err}"
    );
    cases.push(("another tool's SQL".into(), other.into_bytes()));
    for (what, bytes) in cases {
        let path = dir.path().join("bad.sql");
        std::fs::write(&path, &bytes).unwrap();
        for (how, o) in [
            (
                "file",
                import_file(&dst.url(), &path, &["--on-conflict", "skip"]),
            ),
            ("stdin", import_stdin(&dst.url(), &bytes)),
        ] {
            assert!(!o.status.success(), "{kind}: {what} via {how} was imported");
            let err = stderr(&o);
            assert!(err.starts_with("partialdump: error: "), "{what}: {err}");
            assert_eq!(
                snapshot(dst.db()),
                before,
                "{kind}: {what} via {how} changed the target: {err}"
            );
        }
    }
    // The good dump still imports, so the refusals were about the damage.
    let o = import_file(&dst.url(), &file, &["--on-conflict", "skip"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn sqlite_refuses_altered_injected_and_truncated_dumps() {
    refusals("sqlite", "imp_ref_s");
}

#[test]
fn mysql_refuses_altered_injected_and_truncated_dumps() {
    refusals("mysql", "imp_ref_m");
}

fn conflicts(kind: &str, test: &str) {
    let Some((src, mut dst, dir)) = seeded_target(kind, test) else {
        return;
    };
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &portable_graph(), "accounts.id=1", &file);
    // Change a shared row in the target, to see which mode keeps it.
    match &mut dst {
        AnyDb::Sqlite(d) => d
            .conn
            .execute_batch("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'")
            .unwrap(),
        AnyDb::Mysql(d) => {
            d.rows("UPDATE countries SET name = 'Nippon' WHERE code = 'JP'");
        }
    }
    let before = snapshot(dst.db());
    let o = import_file(&dst.url(), &file, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("the target already has the row with"), "{err}");
    assert!(err.contains("--on-conflict skip"), "{err}");
    assert_eq!(
        snapshot(dst.db()),
        before,
        "a failed import changed the target"
    );

    let o = import_file(&dst.url(), &file, &["--on-conflict", "skip"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The report names the mode as the flag spells it.
    assert!(stderr(&o).contains("(on conflict: skip)"), "{}", stderr(&o));
    let name = |db: &mut AnyDb| {
        db.db().rows("SELECT name FROM countries WHERE code = 'JP'")[0][0]
            .clone()
            .unwrap()
    };
    assert_eq!(name(&mut dst), "Nippon", "skip keeps the target's row");
    assert!(
        !dst.db()
            .rows("SELECT id FROM projects WHERE id = 1")
            .is_empty(),
        "skip still adds new rows"
    );

    let stats = dir.path().join("stats.json");
    let o = import_file(
        &dst.url(),
        &file,
        &[
            "--on-conflict",
            "update",
            "--stats-json",
            stats.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        name(&mut dst),
        "Japan",
        "update overwrites the target's row"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
    assert_eq!(json["on_conflict"], "update");
    let users = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "users")
        .unwrap();
    assert_eq!(users["rows"], 5);
    // Bytes: the users INSERT statements as they stand in the dump, newlines included.
    let text = std::fs::read_to_string(&file).unwrap();
    let mut in_users = false;
    let mut users_bytes = 0;
    for line in text.split_inclusive('\n') {
        in_users |= ["INSERT INTO `users` ", "INSERT INTO \"users\" "]
            .iter()
            .any(|p| line.starts_with(p));
        if in_users {
            users_bytes += line.len();
            in_users = !line.trim_end().ends_with(';');
        }
    }
    assert!(users_bytes > 0);
    assert_eq!(users["bytes"], users_bytes);
}

#[test]
fn sqlite_conflict_modes() {
    conflicts("sqlite", "imp_conf_s");
}

#[test]
fn mysql_conflict_modes() {
    conflicts("mysql", "imp_conf_m");
}

#[test]
fn schema_mismatch_is_named() {
    let src = SqliteDb::fixture(true);
    let dst = src.empty_twin("t.db");
    dst.conn
        .execute_batch(
            "ALTER TABLE tags DROP COLUMN label; ALTER TABLE tags ADD COLUMN colour TEXT",
        )
        .unwrap();
    let file = src.path.with_file_name("d.sql");
    dump_to(&src.url(), &graph(), "accounts.id=1", &file);
    let o = import_file(&dst.url(), &file, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("table `tags` differs"), "{err}");
    assert!(err.contains("the target lacks `tags.label`"), "{err}");
    // A nullable column the dump lacks is no mismatch (see below).
    assert!(!err.contains("colour"), "{err}");
    let mut dst = dst;
    assert!(
        dst.rows("SELECT * FROM accounts").is_empty(),
        "nothing imported"
    );
}

/// A target whose schema is ahead of the source's (a migration added columns) takes the rows
/// when its new columns may be left out (nullable, or with a default), and says which took
/// their defaults; a new column NOT NULL without a default is named, and nothing goes in.
#[test]
fn a_target_with_new_columns_takes_the_rows_when_they_have_defaults() {
    let src = SqliteDb::fixture(true);
    let dst = src.empty_twin("t.db");
    dst.conn
        .execute_batch(
            "DROP TABLE tags; CREATE TABLE tags (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL \
             REFERENCES accounts(id), label TEXT NOT NULL, must INTEGER NOT NULL);
             ALTER TABLE users ADD COLUMN note TEXT; ALTER TABLE users ADD COLUMN rank INTEGER NOT NULL DEFAULT 3;",
        )
        .unwrap();
    let file = src.path.with_file_name("d.sql");
    dump_to(&src.url(), &graph(), "accounts.id=1", &file);
    let o = import_file(&dst.url(), &file, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("the dump lacks `tags.must`, NOT NULL without a default")
            && !err.contains("users"),
        "{err}"
    );
    let mut dst = dst;
    assert!(
        dst.rows("SELECT * FROM accounts").is_empty(),
        "nothing imported"
    );

    dst.conn
        .execute_batch(
            "DROP TABLE tags; CREATE TABLE tags (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL \
             REFERENCES accounts(id), label TEXT NOT NULL, must INTEGER NOT NULL DEFAULT 0);",
        )
        .unwrap();
    let o = import_file(&dst.url(), &file, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: the target's table `users` has `users.note`, `users.rank` which the dump does not"),
        "{err}"
    );
    assert!(err.contains("`tags.must`"), "{err}");
    // verify compares the columns both have, and says which it left out.
    let v = verify(&src.url(), &dst.url(), &graph(), "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    assert!(
        stderr(&v).contains(
            "compared without `tags.must`, `users.note`, `users.rank`, which only the target has"
        ),
        "{}",
        stderr(&v)
    );
    let users = dst
        .rows("SELECT COUNT(*), MIN(rank), MAX(rank), COUNT(note) FROM users WHERE account_id = 1");
    assert_eq!(
        users[0][1..],
        [Some("3".into()), Some("3".into()), Some("0".into())],
        "{users:?}"
    );
    assert_ne!(users[0][0].as_deref(), Some("0"));
}

#[test]
fn pipe_from_dump_to_import() {
    let src = SqliteDb::fixture(true);
    let dst = src.empty_twin("t.db");
    let cmd = format!(
        "set -o pipefail; '{bin}' dump --source '{s}' --graph '{g}' --root accounts.id=1 -q | '{bin}' import --target '{t}' -q",
        bin = env!("CARGO_BIN_EXE_partialdump"),
        s = src.url(),
        g = graph().display(),
        t = dst.url()
    );
    let o = Command::new("bash").arg("-c").arg(&cmd).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v = verify(&src.url(), &dst.url(), &graph(), "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

/// A large dump (120,000 rows) imported and killed part-way: the target keeps nothing of it.
fn killed_import(target: AnyDb) {
    let mut target = target;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE plans (id INTEGER PRIMARY KEY, name TEXT NOT NULL, monthly_price NUMERIC NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 120099)
         INSERT INTO plans SELECT i, printf('plan %d', i), i / 100.0 FROM n;",
    )
    .unwrap();
    let g = dir.path().join("g.yaml");
    std::fs::write(&g, "tables:\n  plans: {mode: lookup}\n").unwrap();
    let file = dir.path().join("big.sql");
    partialdump_ok(&[
        "dump",
        "--source",
        &format!("sqlite:{}", path.display()),
        "--graph",
        g.to_str().unwrap(),
        "--root-where",
        "plans:id = 100",
        "-q",
        "-o",
        file.to_str().unwrap(),
        "--max-statement-bytes",
        "20000",
    ]);
    let before = snapshot(target.db());
    // Stream slowly through a pipe so the import is surely mid-way when it is killed.
    let bytes = std::fs::read(&file).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args(["import", "--target", &target.url(), "-q"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let half = bytes.len() / 2;
        stdin
            .write_all(&bytes[..half])
            .expect("the importer stopped reading before it was killed");
        std::thread::sleep(std::time::Duration::from_millis(700));
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(!status.success());
    // SQLite rolls the interrupted transaction back from its journal when next opened.
    if let AnyDb::Sqlite(d) = &target {
        let reopened = rusqlite::Connection::open(&d.path).unwrap();
        let n: i64 = reopened
            .query_row("SELECT count(*) FROM plans", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
    assert_eq!(
        snapshot(target.db()),
        before,
        "a killed import left rows behind"
    );
}

#[test]
fn sqlite_killed_import_leaves_nothing() {
    let t = SqliteDb::fixture(false);
    killed_import(AnyDb::Sqlite(t));
}

#[test]
fn mysql_killed_import_leaves_nothing() {
    let Some(t) = MysqlDb::fixture("imp_kill", false) else {
        return;
    };
    killed_import(AnyDb::Mysql(t));
}

fn dump_with_schema(url: &str, out: &Path) {
    partialdump_ok(&[
        "dump",
        "--source",
        url,
        "--graph",
        graph().to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "--with-schema",
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ]);
}

#[test]
fn sqlite_with_schema_loads_into_an_empty_database() {
    let src = SqliteDb::fixture(true);
    let file = src.path.with_file_name("schema.sql");
    dump_with_schema(&src.url(), &file);
    // With partialdump into a file that does not exist yet...
    let target = format!("sqlite:{}", src.path.with_file_name("new.db").display());
    let o = import_file(&target, &file, &["-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = verify(&src.url(), &target, &graph(), "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    // ...and as plain SQL into an empty database.
    let conn = rusqlite::Connection::open(src.path.with_file_name("plain.db")).unwrap();
    conn.execute_batch(&std::fs::read_to_string(&file).unwrap())
        .unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

#[test]
fn mysql_with_schema_loads_into_an_empty_database() {
    let Some(src) = MysqlDb::fixture("ws_src", true) else {
        return;
    };
    let Some(empty) = mysql_db("ws_dst") else {
        return;
    };
    let Some(plain) = mysql_db("ws_plain") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    dump_with_schema(&src.url(), &file);
    let o = import_file(&empty.url(), &file, &["-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = verify(&src.url(), &empty.url(), &graph(), "accounts.id=1");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    plain
        .load_file(&file)
        .expect("the mysql client loads a --with-schema dump into an empty database");
    // The generated column exists in the created table and is computed there.
    let mut plain = plain;
    assert_eq!(
        plain.rows("SELECT gen_total FROM type_zoo WHERE id = 1"),
        vec![vec![Some("-4294967296".into())]]
    );
}

#[test]
fn failed_import_drops_the_tables_it_created() {
    let Some(src) = MysqlDb::fixture("ws_fail_s", true) else {
        return;
    };
    let Some(mut dst) = mysql_db("ws_fail_d") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schema.sql");
    dump_with_schema(&src.url(), &file);
    let bytes = std::fs::read(&file).unwrap();
    let cut = &bytes[..bytes.len() - 200];
    let o = import_stdin(&dst.url(), cut);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    let name = dst.name.clone();
    assert!(
        dst.rows(&format!(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{name}'"
        ))
        .is_empty(),
        "tables created by a failed import were left behind"
    );
}

#[test]
fn schema_statements_are_checked_too() {
    let src = SqliteDb::fixture(true);
    let file = src.path.with_file_name("schema.sql");
    dump_with_schema(&src.url(), &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let target = format!("sqlite:{}", src.path.with_file_name("new.db").display());
    for (what, bad) in [
        ("CREATE TABLE ... AS SELECT", text.replacen("CREATE TABLE IF NOT EXISTS plans (", "CREATE TABLE IF NOT EXISTS evil AS SELECT * FROM plans; CREATE TABLE IF NOT EXISTS plans (", 1)),
        ("CREATE VIEW", text.replacen("CREATE TABLE IF NOT EXISTS plans (", "CREATE VIEW v AS SELECT 1;\nCREATE TABLE IF NOT EXISTS plans (", 1)),
    ] {
        let path = src.path.with_file_name("bad.sql");
        std::fs::write(&path, bad).unwrap();
        let o = import_file(&target, &path, &[]);
        assert!(!o.status.success(), "{what} was accepted");
        assert!(stderr(&o).contains("bad.sql:"), "{what}: {}", stderr(&o));
    }
}

#[test]
fn cross_engine_schema_is_refused_clearly() {
    let Some(dst) = mysql_db("ws_cross") else {
        return;
    };
    let src = SqliteDb::fixture(true);
    let file = src.path.with_file_name("schema.sql");
    dump_with_schema(&src.url(), &file);
    let o = import_file(&dst.url(), &file, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("definition of it is in sqlite's SQL"), "{err}");
    assert!(
        err.contains("Create the schema in the target first"),
        "{err}"
    );
}

#[test]
fn insert_triggers_on_the_target_are_named() {
    let src = SqliteDb::fixture(true);
    let dst = src.empty_twin("t.db");
    dst.conn
        .execute_batch(
            "CREATE TRIGGER tags_touch AFTER INSERT ON tags BEGIN UPDATE tags SET label = upper(label) WHERE id = new.id; END;",
        )
        .unwrap();
    let file = src.path.with_file_name("d.sql");
    dump_to(&src.url(), &portable_graph(), "accounts.id=1", &file);
    let o = import_file(&dst.url(), &file, &["-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: table `tags` of the target has an INSERT trigger"),
        "{err}"
    );
    assert!(!err.contains("`users`"), "{err}");
    if let Some(m) = MysqlDb::fixture("trig_d", false) {
        let mut m = m;
        m.rows("CREATE TRIGGER tags_touch BEFORE INSERT ON tags FOR EACH ROW SET NEW.label = UPPER(NEW.label)");
        let o = import_file(&m.url(), &file, &["-q"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("table `tags` of the target has an INSERT trigger"),
            "{}",
            stderr(&o)
        );
    }
}

/// The dump with its trailer's checksum computed again over the body, as if partialdump had
/// written the changed rows (row counts must be unchanged).
fn resealed(dump: &str) -> String {
    let (body, trailer) = body_and_trailer(dump);
    let digest = format!("{:032x}", twox_hash::XxHash3_128::oneshot(body.as_bytes()));
    let at = trailer.find("xxh3=").unwrap() + "xxh3=".len();
    format!(
        "{}{}{digest}{}",
        &dump[..dump.len() - trailer.len()],
        &trailer[..at],
        &trailer[at + 32..]
    )
}

/// Dumps of the earlier formats still import: format 1 (a SHA-256 in the trailer) and format 2
/// (a BLAKE3). A header that names another format than the trailer's checksum, or a format
/// this version does not know, is refused before anything is imported.
#[test]
fn older_formats_import_and_unknown_formats_are_refused() {
    use sha2::{Digest, Sha256};
    let Some((src, mut dst, dir)) = seeded_target("sqlite", "imp_fmt") else {
        return;
    };
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &portable_graph(), "accounts.id=1", &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let first = format!(
        "-- partialdump {} dump, format 3\n",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.starts_with(&first), "{}", &text[..80]);
    let (body, trailer) = body_and_trailer(&text);
    let at = trailer.find("xxh3=").unwrap();
    let sha: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    let blake = blake3::hash(body.as_bytes()).to_hex().to_string();
    // Header saying format `n`, the same body, the trailer's counts and then `checksum`.
    let as_format = |n: u32, checksum: &str| {
        format!(
            "{}{}{checksum}\n",
            text[..text.len() - trailer.len()].replacen(
                ", format 3\n",
                &format!(", format {n}\n"),
                1
            ),
            &trailer[..at]
        )
    };
    let xxh3 = trailer[at..].trim_end().to_string();
    let before = snapshot(dst.db());
    for (what, bytes, says) in [
        (
            "format 1 with its XXH3 trailer",
            as_format(1, &xxh3.replace("xxh3=", "sha256=")),
            "the body's checksum (sha256) does not match",
        ),
        (
            "format 2 with its XXH3 trailer",
            as_format(2, &xxh3.replace("xxh3=", "blake3=")),
            "the body's checksum (blake3) does not match",
        ),
        (
            "format 2 with a SHA-256 as its BLAKE3",
            as_format(2, &format!("blake3={sha}")),
            "the body's checksum (blake3) does not match",
        ),
        (
            "format 9",
            text.replacen(", format 3\n", ", format 9\n", 1),
            "names a format this partialdump",
        ),
    ] {
        let path = dir.path().join("bad.sql");
        std::fs::write(&path, &bytes).unwrap();
        let o = import_file(&dst.url(), &path, &["--on-conflict", "skip"]);
        assert!(!o.status.success(), "{what} was imported");
        assert!(stderr(&o).contains(says), "{what}: {}", stderr(&o));
        assert_eq!(snapshot(dst.db()), before, "{what} changed the target");
    }
    for (n, checksum) in [(1, format!("sha256={sha}")), (2, format!("blake3={blake}"))] {
        let old = dir.path().join(format!("format-{n}.sql"));
        std::fs::write(&old, as_format(n, &checksum)).unwrap();
        let o = import_file(&dst.url(), &old, &["--on-conflict", "skip"]);
        assert!(o.status.success(), "format {n}: {}", stderr(&o));
        let o = verify(&src.url(), &dst.url(), &portable_graph(), "accounts.id=1");
        assert!(o.status.success(), "format {n}: {}", stderr(&o));
    }
}

/// MariaDB loads a table that is empty in bulk, with unique and foreign-key checks off; the
/// importer then proves every reference itself before it commits (among the rows it loaded,
/// else in the target, whose collation may match what the bytes do not).
#[test]
fn mysql_bulk_loads_into_empty_tables_check_every_reference() {
    use mysql::prelude::Queryable;
    let schema = "CREATE TABLE teams (code VARCHAR(8) COLLATE utf8mb4_general_ci PRIMARY KEY, \
                  name VARCHAR(20) NOT NULL) ENGINE=InnoDB; \
                  CREATE TABLE people (id INT PRIMARY KEY, team VARCHAR(8) COLLATE utf8mb4_general_ci NOT NULL, \
                  email VARCHAR(40) NOT NULL UNIQUE, boss_id INT NULL, \
                  FOREIGN KEY (team) REFERENCES teams (code), FOREIGN KEY (boss_id) REFERENCES people (id)) \
                  ENGINE=InnoDB";
    let Some((mut src, mut dst)) = mysql_pair("bulk_refs", schema) else {
        return;
    };
    // Person 3 names team A in lower case, which its foreign key accepts (the collation
    // ignores case); person 2's boss comes after it in key order.
    src.conn
        .query_drop(
            "INSERT INTO teams VALUES ('A', 'alpha'), ('B', 'beta'); \
             INSERT INTO people VALUES (1, 'A', 'one@x', NULL), (3, 'a', 'three@x', 1), \
             (4, 'A', 'four@x', NULL), (5, 'B', 'five@x', NULL); \
             INSERT INTO people VALUES (2, 'A', 'two@x', 4)",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("graph.yaml");
    std::fs::write(&graph, "tables:\n  teams:\n    children: [people]\n").unwrap();
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, "teams.code=A", &file);
    let good = std::fs::read_to_string(&file).unwrap();
    assert!(good.contains("'three@x'"), "{good}");
    let people = |db: &mut MysqlDb| -> Vec<(i32, String, Option<i32>)> {
        db.conn
            .query("SELECT id, team, boss_id FROM people ORDER BY id")
            .unwrap()
    };

    // Altered dumps: a reference to no row, a duplicate key. Each is refused with the
    // importer's own words, and the empty target stays empty.
    for (what, from, to, expect) in [
        (
            "a dangling reference",
            "(4,'A','four@x',NULL)",
            "(4,'Z','four@x',NULL)",
            "`people.team` = 'Z' references a row of `teams` that is not there",
        ),
        (
            "a dangling self-reference",
            "(2,'A','two@x',4)",
            "(2,'A','two@x',9)",
            "`people.boss_id` = 9 references a row of `people` that is not there",
        ),
        (
            "a duplicate unique key",
            "'four@x'",
            "'one@x'",
            "the dump itself holds two rows with the same primary or unique key",
        ),
    ] {
        assert!(good.contains(from), "{what}: {from} not in\n{good}");
        let bad = dir.path().join("bad.sql");
        std::fs::write(&bad, resealed(&good.replacen(from, to, 1))).unwrap();
        // Through LOAD DATA (the default) and through INSERTs.
        for extra in [&[][..], &["--no-bulk-load"][..]] {
            let o = import_file(&dst.url(), &bad, extra);
            let err = stderr(&o);
            assert!(!o.status.success(), "{what} {extra:?} was imported");
            assert!(err.contains(expect), "{what} {extra:?}: {err}");
            assert!(people(&mut dst).is_empty(), "{what} left rows behind");
            let teams: Vec<String> = dst.conn.query("SELECT code FROM teams").unwrap();
            assert!(teams.is_empty(), "{what} left teams behind: {teams:?}");
        }
    }

    // Where the table already has rows, the target checks foreign keys itself, and says so.
    dst.conn
        .query_drop(
            "INSERT INTO teams VALUES ('B', 'beta'); INSERT INTO people VALUES (5, 'B', 'five@x', NULL)",
        )
        .unwrap();
    let bad = dir.path().join("bad.sql");
    std::fs::write(
        &bad,
        resealed(&good.replacen("(4,'A','four@x',NULL)", "(4,'Z','four@x',NULL)", 1)),
    )
    .unwrap();
    let o = import_file(&dst.url(), &bad, &[]);
    let err = stderr(&o);
    assert!(!o.status.success(), "a dangling reference was imported");
    assert!(err.contains("foreign key constraint fails"), "{err}");
    assert_eq!(people(&mut dst), vec![(5, "B".into(), None)]);

    // The good dump loads, the lower-case reference included, and equals the source's subset,
    // whichever way the rows go in.
    for extra in [
        &["--no-bulk-load"][..],
        &["--disable-fk-checks"][..],
        &[][..],
    ] {
        dst.conn
            .query_drop("UPDATE people SET boss_id = NULL; DELETE FROM people; DELETE FROM teams")
            .unwrap();
        let o = import_file(&dst.url(), &file, extra);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        assert_eq!(
            people(&mut dst),
            vec![
                (1, "A".into(), None),
                (2, "A".into(), Some(4)),
                (3, "a".into(), Some(1)),
                (4, "A".into(), None)
            ],
            "{extra:?}"
        );
        let o = verify(&src.url(), &dst.url(), &graph, "teams.code=A");
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
    }
}

/// On MariaDB's bulk path, a table whose rows span many INSERT statements of the dump goes in
/// as one LOAD DATA, streamed while the rest is parsed. A bad row in a later statement, or a
/// dump cut in the middle of the table, still leaves the target empty.
#[test]
fn mysql_bulk_loads_a_table_of_many_statements_as_one() {
    use mysql::prelude::Queryable;
    let schema = "CREATE TABLE groups_ (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL) ENGINE=InnoDB; \
                  CREATE TABLE items (id INT PRIMARY KEY, grp INT NOT NULL, note VARCHAR(60) NOT NULL UNIQUE, \
                  FOREIGN KEY (grp) REFERENCES groups_ (id)) ENGINE=InnoDB";
    let Some((mut src, mut dst)) = mysql_pair("bulk_stream", schema) else {
        return;
    };
    src.conn
        .query_drop(
            "INSERT INTO groups_ VALUES (1, 'one'), (2, 'two'); \
             INSERT INTO items SELECT seq, 1 + (seq > 1500), CONCAT('note number ', seq) FROM seq_1_to_2000",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("graph.yaml");
    std::fs::write(&graph, "tables:\n  groups_:\n    children: [items]\n").unwrap();
    let file = dir.path().join("dump.sql");
    partialdump_ok(&[
        "dump",
        "--source",
        &src.url(),
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "groups_.id=1",
        "--quiet",
        "--max-statement-bytes",
        "4096",
        "-o",
        file.to_str().unwrap(),
    ]);
    let good = std::fs::read_to_string(&file).unwrap();
    let statements = good.matches("INSERT INTO `items`").count();
    assert!(statements > 10, "{statements} INSERTs for items");
    let count = |db: &mut MysqlDb, table: &str| -> u64 {
        db.conn
            .query_first(format!("SELECT COUNT(*) FROM {table}"))
            .unwrap()
            .unwrap()
    };

    // The good dump loads whole, and the report counts every row and statement byte.
    let stats = dir.path().join("stats.json");
    let o = import_file(
        &dst.url(),
        &file,
        &["--stats-json", stats.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(count(&mut dst, "items"), 1500);
    let o = verify(&src.url(), &dst.url(), &graph, "groups_.id=1");
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
    let items: Vec<&serde_json::Value> = json["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["table"] == "items")
        .collect();
    assert_eq!(items.len(), 1, "{json}");
    assert_eq!(items[0]["rows"], 1500);
    assert_eq!(items[0]["affected"], 1500);

    // Rows near the end of the table, long after its first statement went to the server.
    let last = (1..=1500)
        .rev()
        .find(|i| good.contains(&format!("({i},1,")))
        .unwrap();
    let row = format!("({last},1,'note number {last}')");
    assert!(good.contains(&row), "{row} not in the dump");
    for (what, bad, expect) in [
        (
            "a duplicate unique key late in the table",
            resealed(&good.replacen(&row, &format!("({last},1,'note number 1')"), 1)),
            "the dump itself holds two rows with the same primary or unique key",
        ),
        (
            "a dangling reference late in the table",
            resealed(&good.replacen(&row, &format!("({last},7,'note number {last}')"), 1)),
            "`items.grp` = 7 references a row of `groups_` that is not there",
        ),
        (
            "a dump cut in the middle of the table",
            good[..good.find(&row).unwrap()].to_string(),
            "",
        ),
    ] {
        for db in ["items", "groups_"] {
            dst.conn.query_drop(format!("DELETE FROM {db}")).unwrap();
        }
        let f = dir.path().join("bad.sql");
        std::fs::write(&f, bad).unwrap();
        let o = import_file(&dst.url(), &f, &[]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{what} was imported");
        assert!(err.contains(expect), "{what}: {err}");
        if what.contains("duplicate") {
            // The error says which of the dump's statements the failing LOAD DATA held: all of
            // the table's.
            let span = err
                .split("(statements ")
                .nth(1)
                .and_then(|s| s.split_once(" load `items` as one LOAD DATA)"))
                .and_then(|(s, _)| s.split_once(" to "))
                .map(|(a, b)| b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1);
            assert_eq!(span, Some(statements), "{err}");
        }
        assert_eq!(count(&mut dst, "items"), 0, "{what} left items behind");
        assert_eq!(count(&mut dst, "groups_"), 0, "{what} left groups behind");
    }
}

/// A target without a bulk path (SQLite) loads the rows of a NOT NULL cycle with checks off and
/// keeps no keys of loaded rows: it checks those tables' references itself before committing.
#[test]
fn sqlite_checks_the_references_of_a_not_null_cycle_before_committing() {
    let src = SqliteDb::fixture(true);
    let mut dst = src.empty_twin("target.db");
    let file = src.path.with_file_name("dump.sql");
    dump_to(&src.url(), &graph(), "accounts.id=1", &file);
    let good = std::fs::read_to_string(&file).unwrap();
    let clerk = "(2,1,3,'clerk')";
    assert!(
        good.contains("PRAGMA defer_foreign_keys = ON;") && good.contains(clerk),
        "{good}"
    );
    // Staff 2 now names a store that is in neither the dump nor the target.
    let bad = src.path.with_file_name("bad.sql");
    std::fs::write(&bad, resealed(&good.replacen(clerk, "(2,9,3,'clerk')", 1))).unwrap();
    let o = import_file(&dst.url(), &bad, &[]);
    let err = stderr(&o);
    assert!(
        !o.status.success(),
        "a dangling reference in a cycle was imported"
    );
    assert!(
        err.contains("`staff.store_id` = 9 references a row of `stores` that is not there"),
        "{err}"
    );
    assert!(
        dst.rows("SELECT id FROM staff").is_empty(),
        "rows left behind"
    );
    // The dump as written loads, cycle and all.
    let o = import_file(&dst.url(), &file, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        dst.rows("SELECT count(*) FROM staff"),
        vec![vec![Some("2".into())]]
    );
}

/// `mysqldump` writes FLOAT to 6 significant digits, so its copy of `1.2345678` holds `1.23457`:
/// `verify --float-digits 6` accepts such a copy and still finds a FLOAT that differs within
/// those digits, and a DOUBLE that differs at all.
#[test]
fn mysql_verify_compares_float_to_the_digits_asked_for() {
    let schema = "CREATE TABLE readings (id INT PRIMARY KEY, f FLOAT, d DOUBLE)";
    let Some((mut src, mut dst)) = mysql_pair("ver_float", schema) else {
        return;
    };
    src.script(
        "INSERT INTO readings VALUES (1, 1.2345678, 1.2345678901234567), (2, 16777217, 0.1),
           (3, -0.000123456789, NULL), (4, NULL, 2.5), (5, 3.0e37, -7)",
    );
    let base = url::Url::parse(&mysql_base_url()).unwrap();
    let copy = Command::new("mariadb-dump")
        .arg(format!("--host={}", base.host_str().unwrap_or("127.0.0.1")))
        .arg(format!("--port={}", base.port().unwrap_or(3306)))
        .arg(format!("--user={}", base.username()))
        .arg(format!("--password={}", src.password()))
        .args(["--no-create-info", &src.name, "readings"])
        .output()
        .expect("run mariadb-dump (apt-get install mariadb-client)");
    assert!(copy.status.success(), "{}", stderr(&copy));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.sql");
    std::fs::write(&file, &copy.stdout).unwrap();
    assert!(
        String::from_utf8_lossy(&copy.stdout).contains("1.23457,"),
        "mysqldump no longer rounds FLOAT to 6 digits: {}",
        String::from_utf8_lossy(&copy.stdout)
    );
    dst.load_file(&file).unwrap();
    let graph = write_graph(dir.path(), "tables:\n  readings: {}\n");
    let (s, d) = (src.url(), dst.url());
    let verify_with = |extra: &[&str]| {
        let mut args = vec!["verify", "--source", &s, "--target", &d];
        args.extend_from_slice(&["--graph", graph.to_str().unwrap()]);
        args.extend_from_slice(&["--root-where", "readings:1=1"]);
        args.extend_from_slice(extra);
        partialdump(&args)
    };
    let exact = verify_with(&[]);
    assert_eq!(exact.status.code(), Some(1), "{}", stderr(&exact));
    let rounded = verify_with(&["--float-digits", "6"]);
    assert_eq!(rounded.status.code(), Some(0), "{}", stderr(&rounded));

    dst.script("UPDATE readings SET f = 1.23458 WHERE id = 1");
    let v = verify_with(&["--float-digits", "6"]);
    assert_eq!(v.status.code(), Some(1), "{}", stderr(&v));
    assert!(String::from_utf8_lossy(&v.stdout).contains("DIFFERENT"));
    dst.script("UPDATE readings SET f = 1.23457, d = 1.234567890123 WHERE id = 1");
    assert_eq!(verify_with(&["--float-digits", "6"]).status.code(), Some(1));
}

/// Sets MariaDB's global max_allowed_packet back to what it was when dropped.
struct PacketLimit<'a> {
    db: &'a mut MysqlDb,
    was: u64,
}

impl Drop for PacketLimit<'_> {
    fn drop(&mut self) {
        use mysql::prelude::Queryable;
        let _ = self
            .db
            .conn
            .query_drop(format!("SET GLOBAL max_allowed_packet = {}", self.was));
    }
}

/// A row larger than the server's max_allowed_packet (which limits what the server takes,
/// not what it sends) is dumped, as mysqldump can be told to, and imported by the bulk load,
/// which streams it in pieces. With INSERTs only, its statement would be refused: the import
/// says so, with the size to raise the limit to, and leaves the target as it was.
#[test]
fn mysql_a_row_larger_than_max_allowed_packet_is_dumped_and_imported() {
    use mysql::prelude::Queryable;
    let schema = "CREATE TABLE a (id INT PRIMARY KEY);
        CREATE TABLE files (id INT PRIMARY KEY, a_id INT NOT NULL, data LONGBLOB NOT NULL,
          FOREIGN KEY (a_id) REFERENCES a (id))";
    let Some((mut src, mut dst)) = mysql_pair("im_bigrow", schema) else {
        return;
    };
    let limit: u64 = src
        .conn
        .query_first("SELECT @@GLOBAL.max_allowed_packet")
        .unwrap()
        .unwrap();
    let size = limit + (4 << 20);
    {
        // Only while the row is written: sessions take the global value as they start.
        src.conn
            .query_drop(format!("SET GLOBAL max_allowed_packet = {}", 2 * size))
            .unwrap();
        let raised = PacketLimit {
            db: &mut src,
            was: limit,
        };
        let mut writer = mysql_db("im_bigrow_w").unwrap();
        writer
            .conn
            .query_drop(format!(
                "INSERT INTO `{0}`.a VALUES (1); INSERT INTO `{0}`.files VALUES \
                 (1, 1, REPEAT('z', {size})), (2, 1, 'small')",
                raised.db.name
            ))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [files]\n");
    let out = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, "a.id=1", &out);

    let o = import_file(&dst.url(), &out, &["--no-bulk-load"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for part in [
        "into table `files`".to_string(),
        format!("more than the target's max_allowed_packet ({limit} bytes)"),
        "SET GLOBAL max_allowed_packet =".to_string(),
        "The import was rolled back".to_string(),
    ] {
        assert!(err.contains(&part), "{part:?} missing from: {err}");
    }
    assert_eq!(
        dst.rows("SELECT COUNT(*) FROM a")[0][0].as_deref(),
        Some("0")
    );

    let o = import_file(&dst.url(), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        dst.rows(
            "SELECT GROUP_CONCAT(id, ':', LENGTH(data), ':', LEFT(data, 3) ORDER BY id) FROM files"
        )[0][0]
            .as_deref(),
        Some(format!("1:{size}:zzz,2:5:sma").as_str())
    );
}

/// A signal (a Ctrl-C, a `kill`) stops an import as an error would: it rolls back, drops the
/// tables it created (MySQL commits a CREATE TABLE at once), says so, and ends with the exit
/// code a shell gives a process the signal ended. Here the dump comes through a pipe that
/// stops mid-way, as from a source that stalled, so the import is waiting when it is asked.
#[test]
fn mysql_a_signal_rolls_an_import_back_and_drops_the_tables_it_created() {
    use mysql::prelude::Queryable;
    let Some(mut src) = mysql_db("im_signal_s") else {
        return;
    };
    let Some(mut dst) = mysql_db("im_signal_d") else {
        return;
    };
    src.script(
        "CREATE TABLE a (id INT PRIMARY KEY);
         CREATE TABLE c (id INT PRIMARY KEY, a_id INT NOT NULL, note VARCHAR(40),
           FOREIGN KEY (a_id) REFERENCES a (id));
         INSERT INTO a VALUES (1);
         INSERT INTO c SELECT seq, 1, CONCAT('note ', seq) FROM seq_1_to_100000",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [c]\n");
    let file = dir.path().join("dump.sql");
    dump_with_graph(
        &src.url(),
        &graph,
        &["--root", "a.id=1", "--with-schema"],
        &file,
    );
    let bytes = std::fs::read(&file).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args(["import", "--target", &dst.url(), "-q"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    {
        use std::io::Write;
        stdin.write_all(&bytes[..bytes.len() / 2]).unwrap();
    }
    let started = std::time::Instant::now();
    let tables = |db: &mut MysqlDb| -> Vec<String> {
        let name = db.name.clone();
        db.conn
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
                 ORDER BY TABLE_NAME",
                (name,),
            )
            .unwrap()
    };
    while tables(&mut dst) != ["a", "c"] {
        assert!(
            started.elapsed().as_secs() < 20,
            "the import never created its tables"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill only sends a signal to the child, whose process id this is.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(o.status.code(), Some(128 + libc::SIGINT), "{}", stderr(&o));
    let err = stderr(&o);
    for part in ["stopped by SIGINT", "rolled back", "as it was before"] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    assert!(tables(&mut dst).is_empty(), "{:?}", tables(&mut dst));
}

/// `verify` reads the target through the source's graph: a table the graph skips need not be in
/// the copy, and a table or column the copy lacks is named as the target's, not the source's.
#[test]
fn verify_needs_no_skipped_table_in_the_target_and_names_what_the_target_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE notes (account_id INTEGER REFERENCES accounts (id), body TEXT);
        CREATE TABLE tags (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), tag TEXT);";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO accounts VALUES (1, 'a'), (2, 'b');
         INSERT INTO notes VALUES (1, 'n'), (1, 'n');
         INSERT INTO tags VALUES (1, 1, 'x'), (2, 2, 'y');",
    )
    .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [tags]\n  notes: {mode: skip}\n",
    );
    let (dst, dst_conn) = sqlite_file(
        dir.path(),
        "dst.db",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE tags (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), tag TEXT);",
    );
    let (src, dst) = (
        format!("sqlite://{}", src.display()),
        format!("sqlite://{}", dst.display()),
    );
    let file = dir.path().join("dump.sql");
    dump_to(&src, &graph, "accounts.id=1", &file);
    assert!(import_file(&dst, &file, &[]).status.success());
    let v = verify(&src, &dst, &graph, "accounts.id=1");
    assert!(v.status.success(), "{}", stderr(&v));
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(out.contains("2 tables match"), "{out}");

    // The copy without the child table: the target's to fix, at the graph's line.
    dst_conn.execute_batch("DROP TABLE tags").unwrap();
    let v = verify(&src, &dst, &graph, "accounts.id=1");
    assert_eq!(v.status.code(), Some(2), "{}", stderr(&v));
    let err = stderr(&v);
    assert!(
        err.contains("graph.yaml:3:16: table `tags`: the target has no such table")
            && err.contains("Create it in the target")
            && !err.contains("the source has no"),
        "{err}"
    );
    // And without a column the graph names.
    dst_conn
        .execute_batch("CREATE TABLE tags (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts (id), tag TEXT)")
        .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  accounts:\n    children: [tags]\n  tags:\n    key: [id, tag]\n  notes: {mode: skip}\n",
    );
    dst_conn
        .execute_batch("ALTER TABLE tags RENAME COLUMN tag TO label")
        .unwrap();
    let v = verify(&src, &dst, &graph, "accounts.id=1");
    assert_eq!(v.status.code(), Some(2), "{}", stderr(&v));
    let err = stderr(&v);
    assert!(
        err.contains("column `tags.tag`: the target's table `tags` has no such column"),
        "{err}"
    );
}

/// A MySQL server out of strict mode stores '' in an ENUM column for a value it did not accept
/// (its "error value", ENUM index 0), which a strict session refuses to write back. `import`
/// writes those rows alone out of strict mode, and allows only the warning of that value going
/// in: the copy holds the same rows (index 0 too), on either path; any other warning such a row
/// gives (a non-member in another ENUM, which strict mode would refuse) stops the import.
#[test]
fn mysql_an_enum_error_value_is_copied() {
    let schema = "CREATE TABLE a (id INT PRIMARY KEY);
        CREATE TABLE v (id INT PRIMARY KEY, a_id INT NOT NULL, e ENUM('x','y'), f ENUM('p','q'),
          FOREIGN KEY (a_id) REFERENCES a (id));";
    let Some((mut src, mut dst)) = mysql_pair("im_enum_err", schema) else {
        return;
    };
    src.script(
        "SET SESSION sql_mode = ''; INSERT INTO a VALUES (1); \
         INSERT INTO v VALUES (1, 1, 'x', 'p'), (2, 1, 'not a member', 'q'), (3, 1, NULL, NULL), \
         (4, 1, 'y', 'no'), (5, 1, 'nor this', 'nor this'), (300, 1, 'x', 'p')",
    );
    let indexes = "SELECT GROUP_CONCAT(CONCAT(id, ':', IFNULL(e + 0, 'N'), '/', IFNULL(f + 0, 'N')) \
                   ORDER BY id) FROM v";
    let want = src.rows(indexes)[0][0].clone();
    assert_eq!(
        want.as_deref(),
        Some("1:1/1,2:0/2,3:N/N,4:2/0,5:0/0,300:1/1")
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [v]\n");
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, "a.id=1", &file);
    for extra in [&[][..], &["--no-bulk-load"][..]] {
        dst.script("SET foreign_key_checks = 0; DELETE FROM v; DELETE FROM a");
        let o = import_file(&dst.url(), &file, extra);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        assert_eq!(dst.rows(indexes)[0][0], want, "{extra:?}");
    }
    let v = verify(&src.url(), &dst.url(), &graph, "a.id=1");
    assert!(v.status.success(), "{}", stderr(&v));

    // A target whose `f` lacks the member 'q' that row 2 holds: out of strict mode 'q' would
    // become '' with a warning, which stops the import, and nothing stays.
    dst.script(
        "SET foreign_key_checks = 0; DELETE FROM v; DELETE FROM a; \
         ALTER TABLE v MODIFY f ENUM('p')",
    );
    for extra in [&[][..], &["--no-bulk-load"][..]] {
        let o = import_file(&dst.url(), &file, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = stderr(&o);
        for part in [
            "table `v`",
            "out of strict mode",
            "Data truncated for column 'f'",
            "id=2",
            "rolled back",
        ] {
            assert!(
                err.contains(part),
                "{extra:?}: {part:?} missing from: {err}"
            );
        }
        assert_eq!(
            dst.rows("SELECT COUNT(*) FROM a")[0][0].as_deref(),
            Some("0")
        );
    }

    // The session is strict again after those rows: row 300, after them, does not fit an id of
    // TINYINT, which strict mode refuses where out of it the server would write 127.
    dst.script("ALTER TABLE v MODIFY f ENUM('p','q'), MODIFY id TINYINT");
    for extra in [&[][..], &["--no-bulk-load"][..]] {
        let o = import_file(&dst.url(), &file, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = stderr(&o);
        assert!(
            err.contains("Out of range value for column 'id'"),
            "{extra:?}: {err}"
        );
        assert_eq!(
            dst.rows("SELECT COUNT(*) FROM v")[0][0].as_deref(),
            Some("0")
        );
    }
}

/// The same on MariaDB, whose columns' defaults come from `information_schema`: a new nullable
/// column, one with a default and an AUTO_INCREMENT one take the rows; one NOT NULL without a
/// default is refused by name.
#[test]
fn mysql_a_target_with_new_columns_takes_the_rows_when_they_have_defaults() {
    let schema = "CREATE TABLE a (id INT PRIMARY KEY, v INT);";
    let Some((mut src, mut dst)) = mysql_pair("im_newcols", schema) else {
        return;
    };
    src.script("INSERT INTO a VALUES (1, 10), (2, 20)");
    dst.script(
        "ALTER TABLE a ADD COLUMN note VARCHAR(10) NULL, ADD COLUMN rank INT NOT NULL DEFAULT 7, \
         ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE, ADD COLUMN must INT NOT NULL",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a: {}\n");
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, "a.id=1", &file);
    let o = import_file(&dst.url(), &file, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("the dump lacks `a.must`, NOT NULL without a default")
            && !err.contains("a.note")
            && !err.contains("a.seq"),
        "{err}"
    );
    dst.script("ALTER TABLE a DROP COLUMN must");
    let o = import_file(&dst.url(), &file, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`a.note`, `a.rank`, `a.seq` which the dump does not"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        dst.rows("SELECT id, v, IFNULL(note, '-'), rank FROM a")[0]
            .iter()
            .map(|c| c.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["1", "10", "-", "7"]
    );
}

/// Sakila's `ins_film` trigger copies each film into `film_text`, whose rows the dump holds
/// too: the insert into `film` fails on a key of `film_text`, which the server names only as
/// 'PRIMARY'. The error said the dump itself held two rows with one key, and had been altered.
#[test]
fn a_trigger_writing_rows_the_dump_holds_is_named_in_the_error() {
    let schema = "CREATE TABLE language (id INT PRIMARY KEY);
        CREATE TABLE film (id INT PRIMARY KEY, title VARCHAR(20) NOT NULL, language_id INT NOT NULL,
          FOREIGN KEY (language_id) REFERENCES language (id));
        CREATE TABLE film_text (film_id INT PRIMARY KEY, title VARCHAR(20) NOT NULL);";
    let data = "INSERT INTO language VALUES (1);
        INSERT INTO film VALUES (1, 'a', 1), (2, 'b', 1);
        INSERT INTO film_text VALUES (1, 'a'), (2, 'b');";
    let graph_text = "tables:\n  film:\n    children: [{table: film_text, always: true}]\n  \
                      film_text:\n    references:\n      - {columns: film_id, table: film}\n";
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), graph_text);
    let (src, _conn) = sqlite_file(dir.path(), "src.db", &format!("{schema}{data}"));
    let (dst, conn) = sqlite_file(dir.path(), "dst.db", schema);
    conn.execute_batch(
        "CREATE TRIGGER ins_film AFTER INSERT ON film BEGIN \
         INSERT INTO film_text VALUES (new.id, new.title); END;",
    )
    .unwrap();
    let file = dir.path().join("film.sql");
    let src_url = format!("sqlite:{}", src.display());
    dump_to(&src_url, &graph, "film.id=1", &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let at = |table: &str| text.find(&format!("INSERT INTO \"{table}\"")).unwrap();
    assert!(at("film_text") < at("film"), "{text}");
    let refused = |o: &std::process::Output| {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
        let err = stderr(o);
        assert!(
            err.contains("into table `film` failed")
                && err.contains("`film` has an INSERT trigger in the target")
                && err.contains("drop the trigger before importing")
                && !err.contains("altered"),
            "{err}"
        );
    };
    refused(&import_file(
        &format!("sqlite:{}", dst.display()),
        &file,
        &["-q"],
    ));
    let count: i64 = conn
        .query_row("SELECT count(*) FROM film_text", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0, "rolled back");
    // MariaDB, on its bulk path for empty tables and without it.
    let Some((mut m, _)) = mysql_pair("trigger_copy", schema) else {
        return;
    };
    m.rows("CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW INSERT INTO film_text VALUES (NEW.id, NEW.title)");
    for args in [&["-q"][..], &["-q", "--no-bulk-load"]] {
        refused(&import_file(&m.url(), &file, args));
        assert_eq!(
            m.rows("SELECT count(*) FROM film_text"),
            vec![vec![Some("0".to_string())]]
        );
    }
}

/// A table without a key (TPC-C's `history`, a Rails join table) imported again under
/// `--on-conflict skip` or `update`: MySQL's statement for it recursed until the stack
/// overflowed (the import died with SIGABRT). Its rows cannot be told from the target's, so
/// they are added again, and the import says so.
#[test]
fn mysql_a_table_without_a_key_imports_again_under_skip_and_update() {
    let Some((mut src, mut dst)) = mysql_pair(
        "im_keyless",
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20));
         CREATE TABLE history (customer_id INT NOT NULL, amount INT, KEY (customer_id),
           FOREIGN KEY (customer_id) REFERENCES customers (id))",
    ) else {
        return;
    };
    src.script(
        "INSERT INTO customers VALUES (1, 'a'), (2, 'b');
         INSERT INTO history VALUES (1, 10), (1, 10), (1, 20), (2, 30)",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  customers:\n    children: [history]\n",
    );
    let file = dir.path().join("dump.sql");
    dump_to(&src.url(), &graph, "customers.id=1", &file);
    import_ok(&dst.url(), &file);
    let count = |dst: &mut MysqlDb| dst.rows("SELECT COUNT(*) FROM history")[0][0].clone();
    assert_eq!(count(&mut dst), Some("3".into()));
    for (mode, rows) in [("skip", "6"), ("update", "9")] {
        let o = import_file(&dst.url(), &file, &["--on-conflict", mode]);
        assert!(o.status.success(), "{mode}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "`history` has no key in the target that the dump's rows carry (a primary key or unique index of NOT NULL columns), so --on-conflict {mode} cannot tell its rows from the ones the target holds"
            )),
            "{mode}: {}",
            stderr(&o)
        );
        assert!(
            !stderr(&o).contains("`customers` has no key"),
            "{}",
            stderr(&o)
        );
        assert_eq!(count(&mut dst), Some(rows.into()), "{mode}");
    }
    assert_eq!(
        dst.rows("SELECT name FROM customers"),
        vec![vec![Some("a".to_string())]]
    );
}
