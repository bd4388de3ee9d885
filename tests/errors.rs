//! Every bad input gets one paragraph that names the thing, says where, and says what to do;
//! the exit code is non-zero; no output file that looks complete; no password in any message.

mod common;

use common::*;
use std::path::Path;

/// Runs a dump to `-o out` that must fail; returns stderr. Asserts the output does not exist.
fn dump_fails(url: &str, graph: &Path, extra: &[&str], out: &Path) -> String {
    dump_fails_env(url, graph, extra, out, &[])
}

/// [`dump_fails`] with `env` added to partialdump's environment.
fn dump_fails_env(
    url: &str,
    graph: &Path,
    extra: &[&str],
    out: &Path,
    env: &[(&str, &str)],
) -> String {
    let mut args = vec![
        "dump",
        "--source",
        url,
        "--graph",
        graph.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = partialdump_env(&args, env);
    assert!(!o.status.success(), "expected failure for {args:?}");
    assert!(!out.exists(), "a failed dump left {}", out.display());
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    let err = stderr(&o);
    assert!(err.starts_with("partialdump: error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one paragraph: {err}");
    err
}

/// The example graph with `edit` applied, written next to the database.
fn edited_graph(db: &SqliteDb, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let text = edit(std::fs::read_to_string(graph()).unwrap());
    let path = db.path.with_file_name("graph.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Dumps accounts.id=1 of `db` with the example graph to `out`, which must succeed.
fn dump_account_1_to(db: &SqliteDb, out: &Path) {
    partialdump_ok(&[
        "dump",
        "--source",
        &db.url(),
        "--graph",
        graph().to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
}

/// Dumps accounts.id=1 of `db` with the graph `g`, which must fail; returns the error.
fn account_1_fails(db: &SqliteDb, g: &Path) -> String {
    dump_fails(
        &db.url(),
        g,
        &["--root", "accounts.id=1"],
        &db.path.with_file_name("o.sql"),
    )
}

/// Dumps accounts.id=1 with the example graph's `countries` entry replaced by `entries`, which
/// must fail; returns the error and the line of the last entry given.
fn fails_with_lookup_entry(db: &SqliteDb, entries: &str) -> (String, usize) {
    let g = edited_graph(db, |t| t.replace("  countries: {mode: lookup}", entries));
    let last = entries.lines().last().unwrap_or(entries);
    let line = std::fs::read_to_string(&g)
        .unwrap()
        .lines()
        .position(|l| l == last)
        .unwrap()
        + 1;
    let err = account_1_fails(db, &g);
    (err, line)
}

/// A graph file with nothing in it but comments (emptied, or the wrong file) is refused, not
/// taken for a graph without children that would dump the root row alone.
#[test]
fn an_empty_graph_file_is_refused() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |_| "# nothing yet\n\n".to_string());
    let err = account_1_fails(&db, &g);
    for part in [
        "graph.yaml:1:1:",
        "the graph file is empty",
        "partialdump init",
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| {
        t.replace("  plans: {mode: lookup}", "  plans: {mode: lookup")
    });
    let err = account_1_fails(&db, &g);
    let line = std::fs::read_to_string(&g)
        .unwrap()
        .lines()
        .position(|l| l.contains("{mode: lookup\n") || l.ends_with("{mode: lookup"))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!("graph.yaml:{line}:"))
            || err.contains(&format!("graph.yaml:{}:", line + 1)),
        "{err}"
    );
}

#[test]
fn unknown_field_is_reported_at_its_place() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| {
        t.replace("  plans: {mode: lookup}", "  plans: {mod: lookup}")
    });
    let err = account_1_fails(&db, &g);
    assert!(err.contains("unknown field `mod`"), "{err}");
    assert!(err.contains("graph.yaml:"), "{err}");
}

/// One name where a list goes (`nullify: last_session_id`) says that a list goes there, and
/// how.
#[test]
fn one_name_where_a_list_goes_says_how_to_write_the_list() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| {
        t.replace("nullify: [last_session_id]", "nullify: last_session_id")
    });
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains("expected sequence start. A list goes here, even of one item: `[item]`"),
        "{err}"
    );
    assert!(err.contains("graph.yaml:"), "{err}");
}

/// A rule's options written beside it (`{hash: number, max: 9}`) gave only the parser's
/// "expected end of mapping after enum variant value".
#[test]
fn a_rules_options_beside_it_say_how_to_write_them() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| {
        t.replace(
            "nullify: [last_session_id]",
            "nullify: [last_session_id]\n    cleanse:\n      email: {hash: number, max: 9}",
        )
    });
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains("graph.yaml:47:")
            && err.contains(
                "A cleansing rule is a map of one key, with its options inside: \
                             `{hash: {format: number, max: 1000}}`"
            ),
        "{err}"
    );
}

/// A table listed twice says so in the graph's words, at the second entry, and what to do;
/// not how to configure the YAML parser, which the graph's author cannot.
#[test]
fn a_table_listed_twice_is_named_at_its_second_entry() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| format!("{t}  plans: {{mode: skip}}\n"));
    let line = std::fs::read_to_string(&g).unwrap().lines().count();
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains(&format!("graph.yaml:{line}:3: `plans` is given twice")),
        "{err}"
    );
    assert!(err.contains("merge them into one entry"), "{err}");
    assert!(!err.contains("DuplicateKeyPolicy"), "{err}");
}

#[test]
fn unknown_table_suggests_the_closest_name() {
    let db = SqliteDb::fixture(true);
    let (err, line) = fails_with_lookup_entry(&db, "  countrys: {mode: lookup}");
    assert!(
        err.contains(&format!("graph.yaml:{line}:3: unknown table `countrys`")),
        "{err}"
    );
    assert!(err.contains("Did you mean `countries`?"), "{err}");
}

/// A view is no table: the graph naming one is told so at its place, and what to do, rather
/// than that the source has no such table.
#[test]
fn a_view_named_as_a_table_is_called_a_view() {
    let db = SqliteDb::fixture(true);
    db.conn
        .execute_batch("CREATE VIEW big_accounts AS SELECT * FROM accounts WHERE id > 1")
        .unwrap();
    let (err, line) = fails_with_lookup_entry(
        &db,
        "  countries: {mode: lookup}\n  big_accounts: {mode: lookup}",
    );
    assert!(
        err.contains(&format!(
            "graph.yaml:{line}:3: `big_accounts` is a view of the source, not a table"
        )) && err.contains("List the tables it reads from instead"),
        "{err}"
    );
    let err = dump_fails(
        &db.url(),
        &graph(),
        &["--root", "big_accounts.id=2"],
        &db.path.with_file_name("o.sql"),
    );
    assert!(
        err.contains("root `big_accounts.id=2`: `big_accounts` is a view of the source"),
        "{err}"
    );
}

#[test]
fn unknown_column_names_table_and_column() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| {
        t.replace("nullify: [last_session_id]", "nullify: [last_sesion_id]")
    });
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains("unknown column `users.last_sesion_id`"),
        "{err}"
    );
    assert!(err.contains("Did you mean `last_session_id`?"), "{err}");
}

#[test]
fn root_not_found() {
    let db = SqliteDb::fixture(true);
    let err = dump_fails(
        &db.url(),
        &graph(),
        &["--root", "accounts.id=999"],
        &db.path.with_file_name("o.sql"),
    );
    assert!(err.contains("root accounts.id=999 matched no row"), "{err}");
}

#[test]
fn unusable_temporary_directory_says_where_and_what_to_do() {
    // The rows read wait in a temporary file until they are written in load order.
    let db = SqliteDb::fixture(true);
    let missing = db.path.with_file_name("no-such-dir");
    let err = dump_fails_env(
        &db.url(),
        &graph(),
        &["--root", "accounts.id=1"],
        &db.path.with_file_name("o.sql"),
        &[("TMPDIR", missing.to_str().unwrap())],
    );
    assert!(
        err.contains(&format!("(in {})", missing.display())) && err.contains("TMPDIR"),
        "{err}"
    );
}

#[test]
fn unknown_root_table_and_column() {
    let db = SqliteDb::fixture(true);
    let out = db.path.with_file_name("o.sql");
    let err = dump_fails(&db.url(), &graph(), &["--root", "acounts.id=1"], &out);
    assert!(
        err.contains("no table `acounts`") && err.contains("Did you mean `accounts`?"),
        "{err}"
    );
    let err = dump_fails(&db.url(), &graph(), &["--root", "accounts.ident=1"], &out);
    assert!(err.contains("no column `ident`"), "{err}");
    let err = dump_fails(&db.url(), &graph(), &[], &out);
    assert!(err.contains("no root"), "{err}");
}

#[test]
fn bad_url_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.sql");
    for url in [
        "postgres://me:hunter2secret@db/app",
        "mysql://me:hunter2secret@db",
        "nonsense",
    ] {
        let err = dump_fails(url, &graph(), &["--root", "accounts.id=1"], &out);
        assert!(err.contains("bad connection URL"), "{err}");
        assert!(!err.contains("hunter2secret"), "password leaked: {err}");
    }
}

#[test]
fn missing_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.sql");
    let url = format!("sqlite:{}", dir.path().join("nope.db").display());
    let err = dump_fails(&url, &graph(), &["--root", "accounts.id=1"], &out);
    assert!(
        err.contains("cannot connect") && err.contains("no such database file"),
        "{err}"
    );
}

#[test]
fn unreachable_server_hides_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.sql");
    // Port 1 on loopback: nothing listens there.
    let err = dump_fails(
        "mysql://me:hunter2secret@127.0.0.1:1/app",
        &graph(),
        &["--root", "accounts.id=1"],
        &out,
    );
    assert!(
        err.contains("cannot connect to mysql://me@127.0.0.1:1/app"),
        "{err}"
    );
    assert!(err.contains("Is the server running"), "{err}");
    assert!(!err.contains("hunter2secret"), "password leaked: {err}");
}

#[test]
fn wrong_password_is_not_echoed() {
    let Some(db) = MysqlDb::fixture("err_pw", true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.sql");
    let mut url = url::Url::parse(&db.url()).unwrap();
    url.set_password(Some("wrong-Pa55word")).unwrap();
    let err = dump_fails(url.as_str(), &graph(), &["--root", "accounts.id=1"], &out);
    assert!(err.contains("Access denied"), "{err}");
    assert!(err.contains("Check the user and password"), "{err}");
    assert!(!err.contains("wrong-Pa55word"), "password leaked: {err}");
    assert!(!err.contains(&db.password()), "password leaked: {err}");
}

/// MariaDB lists only the tables a user may read: a table the user has no privilege on is
/// reported as one this user cannot see, with the grant that would show it.
#[test]
fn mysql_a_table_the_user_cannot_read_is_named_so() {
    use mysql::prelude::Queryable;
    let Some(mut db) = mysql_db("err_hidden") else {
        return;
    };
    db.script(
        "CREATE TABLE a (id INT PRIMARY KEY);
         CREATE TABLE secret (id INT PRIMARY KEY, a_id INT NOT NULL, FOREIGN KEY (a_id) REFERENCES a (id));
         INSERT INTO a VALUES (1)",
    );
    let user = db.user_with("pd_hidden", "hidden-Pa55", "USAGE");
    for host in ["127.0.0.1", "localhost"] {
        db.conn
            .query_drop(format!(
                "GRANT SELECT ON `{}`.a TO '{}'@'{host}'",
                db.name, user.name
            ))
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [secret]\n");
    let out = dir.path().join("o.sql");
    let err = dump_fails(&user.url, &graph, &["--root", "a.id=1"], &out);
    for part in [
        "unknown table `secret`",
        "no such table that this user can see",
        "grant the user SELECT on it",
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
}

/// `--jobs N` asking for more connections than the server lets the user open says which
/// option asked for them and what to give instead (`--jobs auto` reads over one then).
#[test]
fn mysql_more_jobs_than_the_user_may_connect_say_so() {
    use mysql::prelude::Queryable;
    let Some(mut db) = mysql_db("err_jobs") else {
        return;
    };
    db.script("CREATE TABLE a (id INT PRIMARY KEY); INSERT INTO a VALUES (1)");
    let password = "jobs-Pa55";
    let user = db.user_with("pd_jobs", password, "SELECT");
    for host in ["127.0.0.1", "localhost"] {
        for sql in [
            format!("GRANT RELOAD ON *.* TO '{}'@'{host}'", user.name),
            format!(
                "ALTER USER '{}'@'{host}' WITH MAX_USER_CONNECTIONS 2",
                user.name
            ),
        ] {
            db.conn.query_drop(sql).unwrap();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a: {}\n");
    let out = dir.path().join("o.sql");
    let err = dump_fails(
        &user.url,
        &graph,
        &["--root", "a.id=1", "--jobs", "4"],
        &out,
    );
    for part in [
        "max_user_connections",
        "opening the 4 connections that --jobs 4 reads over",
        "--jobs auto",
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    assert!(!err.contains(password), "password leaked: {err}");
    // `auto` reads over one connection, and says why.
    let o = partialdump(&[
        "dump",
        "--source",
        &user.url,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "a.id=1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("read over one connection, not 4"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn edge_to_skipped_table_needs_nullify() {
    let db = SqliteDb::fixture(true);
    let g = edited_graph(&db, |t| t.replace("    nullify: [last_session_id]\n", ""));
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains("`users.last_session_id` references the skipped table `sessions`"),
        "{err}"
    );
    assert!(err.contains("nullify: [last_session_id]"), "{err}");
}

#[test]
fn unbreakable_cycle_is_refused_when_checks_must_stay_on() {
    let db = SqliteDb::fixture(true);
    let err = dump_fails(
        &db.url(),
        &graph(),
        &["--root", "accounts.id=1", "--require-fk-checks"],
        &db.path.with_file_name("o.sql"),
    );
    assert!(err.contains("staff, stores"), "{err}");
    assert!(err.contains("stores.manager_staff_id -> staff.id"), "{err}");
}

#[test]
fn ambiguous_child_edge_asks_for_via() {
    let db = SqliteDb::fixture(true);
    // users references users twice? No: tasks references users twice is not the case either;
    // comments references tasks and projects once each. Make it ambiguous on purpose.
    let g = edited_graph(&db, |t| {
        t.replace(
            "  audit_events:\n    references:\n      - {columns: account_id, table: accounts}",
            "  audit_events:\n    references:\n      - {columns: account_id, table: accounts}\n      - {columns: id, table: accounts}",
        )
    });
    let err = account_1_fails(&db, &g);
    assert!(
        err.contains("`audit_events` references `accounts` in 2 ways"),
        "{err}"
    );
    assert!(err.contains("via"), "{err}");
}

#[test]
fn broken_pipe_exits_quietly() {
    // A dump larger than a pipe buffer, read by `head -c 100`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, pad TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO t SELECT i, printf('%0100d', i) FROM n;",
    )
    .unwrap();
    let g = dir.path().join("g.yaml");
    std::fs::write(&g, "tables:\n  t: {mode: lookup}\n").unwrap();
    let cmd = format!(
        "'{}' dump --source 'sqlite:{}' --graph '{}' --root-where 't:id = 1' | head -c 100 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_partialdump"),
        path.display(),
        g.display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&cmd)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("status=0"), "{out} {}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_fails_the_dump_with_the_systems_reason() {
    let db = SqliteDb::fixture(true);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let url = db.url();
    let g = graph();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args(["dump", "--source", &url, "--graph", g.to_str().unwrap()])
        .args(["--root", "accounts.id=1", "-q"])
        .stdout(full)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.starts_with("partialdump: error: "), "{err}");
    assert!(
        err.contains("the dump to standard output") && err.contains("No space left on device"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one paragraph: {err}");
}

#[cfg(unix)]
#[test]
fn dump_to_a_fifo_writes_through_it_and_leaves_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let db = SqliteDb::fixture(true);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let (url, g) = (db.url(), graph());
    let dump = |extra: &[&str]| {
        let mut args = vec!["dump", "--source", &url, "--graph", g.to_str().unwrap()];
        args.extend_from_slice(&["--root", "accounts.id=1", "-q"]);
        args.extend_from_slice(extra);
        partialdump(&args)
    };
    let o = dump(&["-o", fifo.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Checked before waiting for the reader, which would wait forever on a replaced FIFO.
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced by a {kind:?}");
    let through = String::from_utf8(reader.join().unwrap()).unwrap();
    assert!(
        through
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("-- partialdump end: ")),
        "{through}"
    );
    let stdout = dump(&[]);
    assert_eq!(
        strip_snapshot(&through),
        strip_snapshot(&String::from_utf8(stdout.stdout).unwrap())
    );
}

#[test]
fn a_query_failing_mid_walk_over_several_connections_ends_the_dump() {
    let Some(db) = MysqlDb::fixture("err_midwalk", true) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The walk reaches task_tags only after accounts, projects and tasks: its query fails
    // there, on whichever connection runs it, while the others may still be busy or idle. The
    // condition is one the server accepts until it meets a row (tried before the walk, it
    // passes), as a query may fail mid-walk for reasons of the data.
    let g = dir.path().join("graph.yaml");
    let text = std::fs::read_to_string(graph()).unwrap().replace(
        "      - task_tags\n",
        "      - {table: task_tags, where: \"tag_id = (SELECT id FROM tags)\"}\n",
    );
    std::fs::write(&g, text).unwrap();
    for jobs in ["3", "1"] {
        let out = dir.path().join(format!("j{jobs}.sql"));
        let err = dump_fails(
            &db.url(),
            &g,
            &["--root", "accounts.id=1", "--jobs", jobs],
            &out,
        );
        assert!(err.contains("task_tags"), "{err}");
        assert!(
            !err.contains("is refused by the source"),
            "not mid-walk: {err}"
        );
        assert!(!err.contains(&db.password()), "password leaked: {err}");
        // The server's words as it writes them, not the driver's wrapping of them.
        assert!(
            err.contains("ERROR 1242 (21000): Subquery returns more than 1 row"),
            "{err}"
        );
        assert!(!err.contains("MySqlError {"), "{err}");
    }
}

/// A key the graph declares for a table without a primary key is checked against the rows
/// (SQLite, as MariaDB in tests/roundtrip.rs): two rows sharing it, or one holding NULL in it,
/// would leave rows out of the dump, so the dump is refused at the declaration's line and
/// column. Rows that the declared key does tell apart are all dumped.
#[test]
fn a_declared_key_that_rows_share_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, conn) = sqlite_file(
        dir.path(),
        "keys.db",
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY);
         CREATE TABLE entries (account_id INTEGER NOT NULL REFERENCES accounts (id),
           day TEXT NOT NULL, amount INTEGER, memo TEXT);
         INSERT INTO accounts VALUES (1), (2);
         INSERT INTO entries VALUES (1, '2026-01-01', 5, 'a'), (1, '2026-01-01', 7, 'b'),
           (1, '2026-01-02', 5, NULL), (2, '2026-01-01', 5, 'c');",
    );
    let graph = |key: &str| {
        write_graph(
            dir.path(),
            &format!("tables:\n  accounts:\n    children: [entries]\n  entries:\n    key: {key}\n"),
        )
    };
    let url = format!("sqlite:{}", db.display());
    let out = dir.path().join("out.sql");
    let g = graph("[account_id, day]");
    let err = dump_fails(&url, &g, &["--root", "accounts.id=1"], &out);
    for part in [
        format!("{}:5:10:", g.display()),
        "`entries` (account_id, day)".into(),
        "two rows of `entries` hold (1, '2026-01-01')".into(),
    ] {
        assert!(err.contains(&part), "{part:?} missing from: {err}");
    }
    let err = dump_fails(
        &url,
        &graph("[account_id, memo]"),
        &["--root", "accounts.id=1"],
        &out,
    );
    assert!(err.contains("holds NULL in `memo`"), "{err}");

    // Rows of two accounts share (day, amount); each account's entries come in a query of
    // their own here, so the second row under a key comes in another query than the first.
    let err = dump_fails(
        &url,
        &graph("[day, amount]"),
        &[
            "--root",
            "accounts.id=1",
            "--root",
            "accounts.id=2",
            "--batch-size",
            "1",
        ],
        &out,
    );
    assert!(
        err.contains("two rows of `entries` hold ('2026-01-01', 5)"),
        "{err}"
    );

    // A key that tells the rows apart passes, though no index says so, even where a row is
    // read twice: as a root, and as a child of account 1.
    conn.execute("UPDATE entries SET memo = 'c' WHERE memo IS NULL", [])
        .unwrap();
    let g = graph("[account_id, day, memo]");
    let roots = [
        "--root",
        "accounts.id=1",
        "--root-where",
        "entries:memo = 'a'",
    ];
    dump_with_graph(&url, &g, &roots, &out);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("-- rows \"entries\" 3"), "{text}");
}

/// Importing a file that is not there names it as a file to read, and says what to do.
#[test]
fn importing_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite_file(
        dir.path(),
        "target.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY);",
    );
    let missing = dir.path().join("no-such-dump.sql");
    let url = format!("sqlite:{}", db.display());
    let o = partialdump(&["import", "--target", &url, missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for part in [
        format!("cannot read the dump {}", missing.display()),
        "Check the path".into(),
    ] {
        assert!(err.contains(&part), "{part:?} missing from: {err}");
    }
}

/// A compressed dump is named as such, with the command that feeds it to import, rather than
/// called no partialdump dump; and it is read again once decompressed on the way in.
#[test]
fn a_compressed_dump_says_how_to_import_it() {
    let db = SqliteDb::fixture(true);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.sql");
    dump_account_1_to(&db, &file);
    let gz = std::process::Command::new("gzip")
        .arg("-k")
        .arg(&file)
        .status()
        .unwrap();
    assert!(gz.success());
    let target = SqliteDb::fixture(false);
    let packed = dir.path().join("dump.sql.gz");
    let o = partialdump(&[
        "import",
        "--target",
        &target.url(),
        packed.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("dump.sql.gz:1: this file is compressed with gzip")
            && err.contains("`gunzip -c FILE | partialdump import --target URL -`"),
        "{err}"
    );
    let piped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "gunzip -c '{}' | '{}' import --target '{}' -q -",
            packed.display(),
            env!("CARGO_BIN_EXE_partialdump"),
            target.url()
        ))
        .output()
        .unwrap();
    assert!(piped.status.success(), "{}", stderr(&piped));
}

/// A `--stats-json` path that cannot be written fails the command before it reads or writes a
/// row: a dump leaves no file, and an import leaves the target as it was, rather than going
/// through and then reporting an error (which an import did after committing). A path that
/// can be written holds the numbers, with no temporary file left beside it.
#[test]
fn a_stats_file_that_cannot_be_written_stops_before_any_work() {
    let db = SqliteDb::fixture(true);
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-such-dir").join("stats.json");
    let out = dir.path().join("dump.sql");
    let err = dump_fails(
        &db.url(),
        &graph(),
        &[
            "--root",
            "accounts.id=1",
            "--stats-json",
            nowhere.to_str().unwrap(),
        ],
        &out,
    );
    assert!(
        err.contains(&format!(
            "cannot write the statistics file {}",
            nowhere.display()
        )) && err.contains("No such file or directory")
            && !err.contains(".partialdump-stats-"),
        "{err}"
    );
    dump_account_1_to(&db, &out);
    let target = SqliteDb::fixture(false);
    let o = partialdump(&[
        "import",
        "--target",
        &target.url(),
        out.to_str().unwrap(),
        "-q",
        "--stats-json",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let count = |t: &SqliteDb| -> i64 {
        rusqlite::Connection::open(&t.path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&target), 0, "the import went in before its error");
    let stats = dir.path().join("import.json");
    partialdump_ok(&[
        "import",
        "--target",
        &target.url(),
        out.to_str().unwrap(),
        "-q",
        "--stats-json",
        stats.to_str().unwrap(),
    ]);
    assert!(count(&target) > 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert!(v["tables"].as_array().is_some_and(|t| !t.is_empty()), "{v}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".partialdump"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// An output in a directory that does not exist is named as the user gave it, with the
/// system's reason, and not as the temporary file beside it nor as a file that exists.
#[test]
fn an_output_in_a_missing_directory_is_named_as_given() {
    let db = SqliteDb::fixture(true);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("dump.sql");
    let o = partialdump(&[
        "dump",
        "--source",
        &db.url(),
        "--graph",
        graph().to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("cannot write the dump to {}", out.display()))
            && err.contains("No such file or directory")
            && !err.contains(".partial\""),
        "{err}"
    );
    let g = dir.path().join("no-such-dir").join("graph.yaml");
    let o = partialdump(&[
        "init",
        "--source",
        &db.url(),
        "--root-table",
        "accounts",
        "-o",
        g.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "cannot write {}: No such file or directory",
            g.display()
        )) && !err.contains("existing file"),
        "{err}"
    );
}

/// `import` without a file, its standard input a terminal (a forgotten file name or pipe), says
/// what to give it rather than waiting for a dump typed by hand. `script` gives it a terminal.
#[test]
fn import_with_nothing_to_read_says_what_to_give_it() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.db");
    let o = std::process::Command::new("script")
        .arg("-qec")
        .arg(format!(
            "'{}' import --target 'sqlite:{}'",
            env!("CARGO_BIN_EXE_partialdump"),
            target.display()
        ))
        .arg("/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("no dump to import: name its file")
            && out.contains("standard input is a terminal"),
        "{out}"
    );
    assert!(!target.exists(), "the target was opened");
}

/// A dump that a signal stops (a Ctrl-C, a `kill`) removes the temporary file it was writing,
/// which the signal would otherwise leave beside where the dump was to go, and ends with the
/// exit code a shell gives a process the signal ended.
#[test]
fn a_signal_stops_a_dump_without_leaving_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite_file(
        dir.path(),
        "big.db",
        "CREATE TABLE a (id INTEGER PRIMARY KEY);
         CREATE TABLE c (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a (id), note TEXT);
         INSERT INTO a VALUES (1);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
         INSERT INTO c SELECT i, 1, printf('note %d', i) FROM n;",
    );
    let graph = write_graph(dir.path(), "tables:\n  a:\n    children: [c]\n");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("dump.sql");
    let stats = out_dir.join("stats.json");
    // Runs the dump through `sh -c script` and sends it SIGTERM once its temporary file is
    // there (once the schema is read; a million rows are to come). Its statistics file, made
    // ready before, goes too.
    let stopped = |script: &str| {
        let child = std::process::Command::new("sh")
            .args(["-c", script, env!("CARGO_BIN_EXE_partialdump")])
            .args(["dump", "--source", &format!("sqlite:{}", db.display())])
            .args(["--graph", graph.to_str().unwrap(), "--root", "a.id=1", "-q"])
            .args(["-o", out.to_str().unwrap()])
            .args(["--stats-json", stats.to_str().unwrap()])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        let partial = || {
            std::fs::read_dir(&out_dir)
                .unwrap()
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        };
        while !partial() {
            assert!(
                started.elapsed().as_secs() < 20,
                "the dump never started its file"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // SAFETY: kill only sends a signal to the child, whose process id this is.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        child.wait_with_output().unwrap()
    };
    let o = stopped("exec \"$0\" \"$@\"");
    assert_eq!(o.status.code(), Some(128 + libc::SIGTERM), "{}", stderr(&o));
    let err = stderr(&o);
    for part in [
        "stopped by SIGTERM",
        "removed the unfinished dump",
        out.to_str().unwrap(),
    ] {
        assert!(err.contains(part), "{part:?} missing from: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // A signal ignored as the process starts (`nohup`, `trap '' TERM`) stays ignored: the
    // dump runs to its end.
    let o = stopped("trap '' TERM; exec \"$0\" \"$@\"");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("rows=1000001"),
        "{}",
        &text[text.len() - 200..]
    );
    assert!(
        std::fs::read_to_string(&stats)
            .unwrap()
            .contains("\"rows\": 1000001")
    );
}

/// A `where` the source refuses (a column it does not have, a syntax error) is told at its line
/// in the graph before any row is read, for an edge's and for a table's, and `check` lists
/// every one; conditions that hold up, a lookup table's among them, still dump.
#[test]
fn a_where_the_source_refuses_is_told_at_its_line() {
    let db = SqliteDb::fixture(true);
    let line_of = |g: &Path, text: &str| {
        std::fs::read_to_string(g)
            .unwrap()
            .lines()
            .position(|l| l.contains(text))
            .unwrap()
            + 1
    };
    let g = edited_graph(&db, |t| {
        t.replace(
            "      - tags\n",
            "      - {table: tags, where: \"labl <> ''\"}\n",
        )
    });
    let err = account_1_fails(&db, &g);
    let line = line_of(&g, "labl");
    for part in [
        format!(
            "graph.yaml:{line}:9: the `where` condition `labl <> ''` on `tags` (the child edge accounts -> tags) is refused by the source"
        ),
        "no such column: labl".to_string(),
        "partialdump check".to_string(),
    ] {
        assert!(err.contains(&part), "{part:?} missing from: {err}");
    }

    let g = edited_graph(&db, |t| {
        t.replace(
            "  plans: {mode: lookup}",
            "  plans: {mode: lookup, where: \"monthly_price >= 0\"}\n  task_tags:\n    where: \"tag_id > 0 AND (\"",
        )
    });
    let err = account_1_fails(&db, &g);
    let line = line_of(&g, "tag_id > 0");
    assert!(
        err.contains(&format!("graph.yaml:{line}:12: the `where` condition `tag_id > 0 AND (` on `task_tags` is refused")),
        "{err}"
    );
    // `check` lists both refused conditions, and passes the lookup table's.
    let g = edited_graph(&db, |t| {
        t.replace("      - tags\n", "      - {table: tags, where: \"labl <> ''\"}\n")
            .replace(
                "  plans: {mode: lookup}",
                "  plans: {mode: lookup, where: \"t.monthly_price >= 0\"}\n  task_tags:\n    where: \"tag_id > 0 AND (\"",
            )
    });
    let o = partialdump(&[
        "check",
        "--source",
        &db.url(),
        "--graph",
        g.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.matches(": where: the `where` condition").count(),
        2,
        "{out}"
    );
    assert!(!out.contains("price"), "{out}");

    // Fixed, the same conditions dump.
    let g = edited_graph(&db, |t| {
        t.replace(
            "      - tags\n",
            "      - {table: tags, where: \"label <> ''\"}\n",
        )
        .replace(
            "  plans: {mode: lookup}",
            "  plans: {mode: lookup, where: \"t.monthly_price >= 0\"}",
        )
    });
    let out = db.path.with_file_name("ok.sql");
    partialdump_ok(&[
        "dump",
        "--source",
        &db.url(),
        "--graph",
        g.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(out.exists());
}

/// A root's value for a column of numbers must be a number: MySQL compares `id = 'abc'` as
/// `id = 0` and `id = '7x'` as `id = 7`, so a mistyped root would dump another customer's rows.
/// A number beyond BIGINT's (a BIGINT UNSIGNED key) picks its row exactly.
#[test]
fn mysql_a_root_that_is_no_number_for_a_column_of_numbers_is_refused() {
    let Some(mut db) = mysql_db("err_rootnum") else {
        return;
    };
    db.script(
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO';
         CREATE TABLE a (id INT PRIMARY KEY, name VARCHAR(10));
         INSERT INTO a VALUES (0, 'zero'), (7, 'seven');
         CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(10));
         INSERT INTO u VALUES (18446744073709551615, 'max'), (18446744073709551614, 'max-1')",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), "tables:\n  a: {}\n  u: {}\n");
    let out = dir.path().join("o.sql");
    for root in ["a.id=abc", "a.id=7x", "a.id=inf"] {
        let err = dump_fails(&db.url(), &graph, &["--root", root], &out);
        assert!(
            err.contains(&format!("root `{root}`: column `id` holds numbers")),
            "{err}"
        );
    }
    let dumped = |root: &str| {
        let o = partialdump(&[
            "dump",
            "--source",
            &db.url(),
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            root,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert!(dumped("a.id=7.0").contains("(7,'seven')"));
    let text = dumped("u.id=18446744073709551614");
    assert!(
        text.contains("'max-1'") && !text.contains("'max')"),
        "{text}"
    );
}
