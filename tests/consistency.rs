//! A dump taken while another connection keeps changing the same tenant loads with foreign-key
//! checks on, and shows the tenant as of one moment.
//!
//! The writer keeps an invariant that only holds at transaction boundaries: in generation `g`
//! the account's name is `gen g`, every task of the account has title `gen g`, exactly one task
//! `1000 + g` exists (the previous one is deleted), and exactly one comment `1000 + g` on that task
//! exists. A dump that read different tables at different moments breaks the invariant, or does
//! not load (a comment or tag on a task it did not see). Half the dumps read over several
//! connections (`--jobs 3`), which must all see that one moment too.
//!
//! And a dump changes nothing on the source, not even its binary log: a server of the test's
//! own records statements there, as a primary with replicas does, and the temporary key tables
//! a scan joins must not reach it.

mod common;

use common::*;
use mysql::prelude::Queryable;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[test]
fn dump_during_writes_is_one_moment() {
    let Some(src) = MysqlDb::fixture("cons_src", true) else {
        return;
    };
    let url = src.url();
    // The writer's own connection.
    let opts = mysql::Opts::from_url(&url).unwrap();
    let mut writer = mysql::Conn::new(opts).unwrap();
    writer
        .query_drop(
            "INSERT INTO tasks (id, project_id, parent_task_id, assignee_id, title) VALUES (1000, 1, NULL, 1, 'gen 0');
             INSERT INTO comments (id, subject_type, subject_id, author_id, body) VALUES (1000, 'Task', 1000, 2, 'gen 0');
             UPDATE accounts SET name = 'gen 0' WHERE id = 1;
             UPDATE tasks t JOIN projects p ON p.id = t.project_id SET t.title = 'gen 0' WHERE p.account_id = 1;",
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let generations = Arc::new(AtomicU64::new(0));
    let handle = {
        let stop = stop.clone();
        let generations = generations.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut g: u64 = 0;
            // Bounded: stops when told, after 60 s, or after 100000 generations.
            while !stop.load(Ordering::Relaxed)
                && started.elapsed() < Duration::from_secs(60)
                && g < 100_000
            {
                g += 1;
                let mut tx = writer.start_transaction(mysql::TxOpts::default()).unwrap();
                tx.query_drop(format!(
                    "INSERT INTO tasks (id, project_id, parent_task_id, assignee_id, title) VALUES ({id}, 1, NULL, 1, 'gen {g}')",
                    id = 1000 + g
                ))
                .unwrap();
                tx.query_drop(format!(
                    "INSERT INTO comments (id, subject_type, subject_id, author_id, body) VALUES ({id}, 'Task', {id}, 2, 'gen {g}')",
                    id = 1000 + g
                ))
                .unwrap();
                tx.query_drop(format!("DELETE FROM comments WHERE id = {}", 1000 + g - 1))
                    .unwrap();
                tx.query_drop(format!("DELETE FROM tasks WHERE id = {}", 1000 + g - 1))
                    .unwrap();
                tx.query_drop(format!("UPDATE accounts SET name = 'gen {g}' WHERE id = 1"))
                    .unwrap();
                tx.query_drop(format!(
                    "UPDATE tasks t JOIN projects p ON p.id = t.project_id SET t.title = 'gen {g}' WHERE p.account_id = 1"
                ))
                .unwrap();
                tx.commit().unwrap();
                generations.store(g, Ordering::Relaxed);
            }
        })
    };

    let dir = tempfile::tempdir().unwrap();
    let graph = graph();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..12 {
        let out = dir.path().join(format!("d{i}.sql"));
        // Every other dump reads over three connections at once: they must share one moment.
        let jobs = if i % 2 == 0 { "1" } else { "3" };
        partialdump_ok(&[
            "dump",
            "--source",
            &url,
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            "accounts.id=1",
            "--quiet",
            "--jobs",
            jobs,
            "-o",
            out.to_str().unwrap(),
        ]);
        let Some(mut dst) = MysqlDb::fixture(&format!("cons_dst{i}"), false) else {
            return;
        };
        dst.load_file(&out)
            .unwrap_or_else(|e| panic!("dump {i} does not load with FK checks on: {e}"));
        let name = dst.rows("SELECT name FROM accounts WHERE id = 1")[0][0]
            .clone()
            .unwrap();
        let g: u64 = name.strip_prefix("gen ").unwrap().parse().unwrap();
        seen.insert(g);
        let titles = dst.rows(
            "SELECT DISTINCT t.title FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.account_id = 1",
        );
        assert_eq!(
            titles,
            vec![vec![Some(name.clone())]],
            "dump {i}: task titles from another moment than the account"
        );
        assert_eq!(
            dst.rows("SELECT id FROM tasks WHERE id >= 1000"),
            vec![vec![Some((1000 + g).to_string())]],
            "dump {i}: generation tasks"
        );
        assert_eq!(
            dst.rows("SELECT id, subject_id, body FROM comments WHERE id >= 1000"),
            vec![vec![
                Some((1000 + g).to_string()),
                Some((1000 + g).to_string()),
                Some(name.clone())
            ]],
            "dump {i}: generation comments"
        );
    }
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    // The writer really ran between dumps, so the dumps saw different moments.
    assert!(
        generations.load(Ordering::Relaxed) > 12,
        "the writer barely ran"
    );
    assert!(
        seen.len() > 1,
        "every dump saw the same generation: the test exercised nothing"
    );
}

/// Several connections start their one snapshot while commits are held for a moment. An open
/// transaction that has written is not failed (it commits afterwards) and its change is not in
/// the dump. The default (`--jobs auto`) reads over 4 connections when the lock is free; while
/// another backup holds it, `auto` reads over one after a short wait and says so, where an
/// explicit `--jobs 2` gives up after a bounded wait with advice, leaving no output; one
/// connection (`--jobs 1`, no lock) works too.
#[test]
fn shared_snapshot_holds_commits_only_briefly() {
    let Some(src) = MysqlDb::fixture("cons_lock", true) else {
        return;
    };
    let url = src.url();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.sql");
    let stats = dir.path().join("stats.json");
    let graph = graph();
    let dump = |jobs: &[&str]| {
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_file(&stats);
        let args = [
            &[
                "--root",
                "accounts.id=1",
                "--stats-json",
                stats.to_str().unwrap(),
            ],
            jobs,
        ]
        .concat();
        dump_into(&url, &graph, &args, &out)
    };
    let connections = || {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        v["connections"].as_u64().unwrap()
    };
    let conn = || mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();

    let mut writer = conn();
    writer
        .query_drop("START TRANSACTION; UPDATE accounts SET name = 'uncommitted' WHERE id = 1")
        .unwrap();
    let o = dump(&["--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("uncommitted"),
        "the dump saw an uncommitted change"
    );
    assert_eq!(connections(), 2);
    writer.query_drop("COMMIT").unwrap();

    let o = dump(&["--jobs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(connections(), 1);
    let one = strip_snapshot(&std::fs::read_to_string(&out).unwrap());
    let o = dump(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("note"), "{}", stderr(&o));
    assert_eq!(connections(), 4, "--jobs auto on MariaDB 10.4+");
    assert_eq!(strip_snapshot(&std::fs::read_to_string(&out).unwrap()), one);

    let mut backup = conn();
    backup.query_drop("BACKUP STAGE START").unwrap();
    let started = Instant::now();
    let o = dump(&["--jobs", "2"]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "waited too long"
    );
    assert!(
        err.contains("--jobs 2") && err.contains("RELOAD privilege") && err.contains("--jobs 1"),
        "{err}"
    );
    assert!(!err.contains(&src.password()), "{err}");
    assert!(!out.exists(), "a failed dump left {}", out.display());

    let started = Instant::now();
    let o = dump(&[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "--jobs auto waited as long as --jobs 2 does"
    );
    assert!(
        err.contains("note: read over one connection, not 4 (--jobs auto)")
            && err.contains("more than 2 s"),
        "{err}"
    );
    assert!(!err.contains(&src.password()), "{err}");
    assert_eq!(connections(), 1);
    assert_eq!(strip_snapshot(&std::fs::read_to_string(&out).unwrap()), one);

    let o = dump(&["--jobs", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    backup.query_drop("BACKUP STAGE END").unwrap();
}

/// A user without the RELOAD privilege cannot hold commits for a shared snapshot: the default
/// reads over one connection and says why; `--jobs 2` fails and says what to grant.
#[test]
fn without_reload_auto_reads_over_one_connection() {
    let Some(mut src) = MysqlDb::fixture("cons_noreload", true) else {
        return;
    };
    let reader = src.user_with("pd_norl", "reader-pw-9", "SELECT, CREATE TEMPORARY TABLES");
    let dir = tempfile::tempdir().unwrap();
    let graph = graph();
    let dump = |url: &str, name: &str, jobs: &[&str]| {
        let out = dir.path().join(name);
        let args = [&["--root", "accounts.id=1"], jobs].concat();
        (dump_into(url, &graph, &args, &out), out)
    };
    let (auto, auto_out) = dump(&reader.url, "auto.sql", &[]);
    let (two, two_out) = dump(&reader.url, "two.sql", &["--jobs", "2"]);
    let (owner, owner_out) = dump(&src.url(), "owner.sql", &["--jobs", "1"]);
    let err = stderr(&auto);
    assert!(auto.status.success(), "{err}");
    assert!(
        err.contains("note: read over one connection, not 4 (--jobs auto)")
            && err.contains("RELOAD"),
        "{err}"
    );
    assert!(owner.status.success(), "{}", stderr(&owner));
    // The same rows; the headers differ by the user in the source URL.
    let body = |p: &std::path::Path| {
        let text = std::fs::read_to_string(p).unwrap();
        body_and_trailer(&text).0.to_string()
    };
    assert_eq!(body(&auto_out), body(&owner_out));
    let err = stderr(&two);
    assert!(!two.status.success(), "{err}");
    assert!(
        err.contains("RELOAD privilege") && err.contains("--jobs 1"),
        "{err}"
    );
    assert!(!two_out.exists());
    // plan and verify walk the same way, and say so too.
    let plan = partialdump(&[
        "plan",
        "--source",
        &reader.url,
        "--graph",
        graph.to_str().unwrap(),
        "--root",
        "accounts.id=1",
    ]);
    let verify = verify(&reader.url, &src.url(), &graph, "accounts.id=1");
    for (o, what) in [(&plan, "plan: "), (&verify, "verify: source: ")] {
        let err = stderr(o);
        assert!(o.status.success(), "{what}{err}");
        let note = err
            .lines()
            .find(|l| l.starts_with("partialdump: note: "))
            .unwrap_or("");
        assert!(
            note.contains("read over one connection, not 4 (--jobs auto)")
                && note.contains("RELOAD"),
            "{what}{err}"
        );
    }
    assert!(
        stderr(&verify).contains("note: source: read over one connection"),
        "{}",
        stderr(&verify)
    );
    for o in [&auto, &two, &plan, &verify] {
        assert!(!stderr(o).contains("reader-pw-9"), "{}", stderr(o));
        assert!(
            !String::from_utf8_lossy(&o.stdout).contains("reader-pw-9"),
            "password in stdout"
        );
    }
}

/// A MariaDB server of the test's own, on a free port, that writes statements to its binary
/// log as a primary with replicas does (`binlog_format=MIXED`), with the test's `options`
/// besides; it checks no privileges, and stops when dropped.
struct LoggingServer {
    child: std::process::Child,
    port: u16,
    /// Its data, removed when the server has stopped.
    _dir: tempfile::TempDir,
}

impl LoggingServer {
    /// None (the test skipped) where MariaDB is not installed, unless CI=true.
    fn start(test: &str, options: &[&str]) -> Option<LoggingServer> {
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        // A directory of temporary files of its own: a server starting (and the installer's)
        // deletes every `#sql*` file in its tmpdir, which in /tmp are the live temporary tables
        // of the suite's shared server, which then crashes (signal 11 in ha_maria::drop_table).
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let tmpdir = format!("--tmpdir={}", tmp.display());
        // mariadbd will not run as root: then it runs as `mysql`, which must own its files.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user: &[&str] = if root {
            let chown = Command::new("chown")
                .args(["-R", "mysql:mysql"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(chown.success(), "chown the server's directory to mysql");
            &["--user=mysql"]
        } else {
            &[]
        };
        // A file such as the shared server's temporary tables, owned as they are: it must
        // outlive this server's installation and start.
        let marker =
            std::env::temp_dir().join(format!("#sql-partialdump-{test}-{}", std::process::id()));
        std::fs::write(&marker, b"").unwrap();
        if root {
            let chown = Command::new("chown")
                .arg("mysql:mysql")
                .arg(&marker)
                .status()
                .unwrap();
            assert!(chown.success(), "chown {} to mysql", marker.display());
        }
        let installed = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .args(user)
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .output();
        match installed {
            Ok(o) => assert!(
                o.status.success(),
                "mariadb-install-db: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and mariadb-install-db cannot run: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED {test}: mariadb-install-db cannot run ({e})");
                let _ = std::fs::remove_file(&marker);
                return None;
            }
        }
        let file = |name: &str| dir.path().join(name).display().to_string();
        let error_log = file("error.log");
        // A free port, as the system says; but another test's server may take the same one
        // before this one binds it: then this one exits (or the one answering is not this
        // one, by its socket), and it starts again on another port.
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new("mariadbd")
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg(&tmpdir)
                .args(user)
                .args([
                    "--skip-grant-tables",
                    "--bind-address=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--socket={}", file("sock")),
                    &format!("--pid-file={}", file("pid")),
                    &format!("--log-error={error_log}"),
                    "--log-bin=binlog",
                    "--binlog-format=MIXED",
                    "--server-id=1",
                    "--innodb-buffer-pool-size=64M",
                ])
                .args(options)
                .stdin(Stdio::null())
                .spawn()
                .expect("run mariadbd");
            let url = format!("mysql://reader:unused@127.0.0.1:{port}/mysql");
            let started = Instant::now();
            let ours = loop {
                if child.try_wait().unwrap().is_some() {
                    break false;
                }
                if let Ok(mut c) = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()) {
                    let socket: Option<String> = c.query_first("SELECT @@socket").unwrap();
                    break socket.as_deref() == Some(file("sock").as_str());
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "mariadbd did not start: {}",
                    std::fs::read_to_string(&error_log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            if ours {
                if !marker.exists() {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "starting a server of the test's own deleted {}: it would delete the \
                         shared server's live temporary tables too",
                        marker.display()
                    );
                }
                let _ = std::fs::remove_file(&marker);
                return Some(LoggingServer {
                    child,
                    port,
                    _dir: dir,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "mariadbd did not start on any of 5 ports: {}",
            std::fs::read_to_string(&error_log).unwrap_or_default()
        )
    }

    fn url(&self, db: &str) -> String {
        format!("mysql://reader:unused@127.0.0.1:{}/{db}", self.port)
    }

    fn conn(&self, db: &str) -> mysql::Conn {
        mysql::Conn::new(mysql::Opts::from_url(&self.url(db)).unwrap()).unwrap()
    }

    /// Loads a SQL file with the `mariadb` client.
    fn load(&self, db: &str, file: &std::path::Path) {
        let o = std::process::Command::new("mariadb")
            .args([
                "--host=127.0.0.1",
                &format!("--port={}", self.port),
                "--user=reader",
            ])
            .arg(db)
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .expect("run the mariadb client");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    /// The binary log's current file and position.
    fn log_position(&self) -> (String, u64) {
        let (file, pos, _, _): (String, u64, String, String) = self
            .conn("mysql")
            .query_first("SHOW MASTER STATUS")
            .unwrap()
            .expect("the server writes a binary log");
        (file, pos)
    }
}

impl Drop for LoggingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A database `db` on `server` whose account 1 has 80,000 more tasks, each with a tag, whose ids
/// (11 characters) make a key list over the 1 MiB a scan carries in its text: the scan of their
/// task tags joins a key table. Its URL.
fn database_with_many_tasks(server: &LoggingServer, db: &str) -> String {
    server
        .conn("mysql")
        .query_drop(format!("CREATE DATABASE {db} CHARACTER SET utf8mb4"))
        .unwrap();
    server.load(db, &fixture("mysql/schema.sql"));
    server.load(db, &fixture("mysql/data.sql"));
    server
        .conn(db)
        .query_drop(
            "INSERT INTO tasks (id, project_id, title) SELECT -1000000000 - CAST(seq AS SIGNED), \
             1 + seq % 2, 'bulk' FROM seq_1_to_80000; \
             INSERT INTO task_tags (task_id, tag_id, added_at) \
             SELECT -1000000000 - CAST(seq AS SIGNED), 1, '2026-01-01' FROM seq_1_to_80000; \
             ANALYZE TABLE tasks, task_tags",
        )
        .unwrap();
    server.url(db)
}

/// Dumps account 1 of `url` into `dir`/`name` with `extra` options: the dump without its
/// snapshot line, and how many times task_tags was scanned.
fn dump_account(
    url: &str,
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> (String, Option<u64>) {
    let out = dir.join(name);
    let scans = dump_counting_scans(url, &graph(), "accounts.id=1", extra, &out);
    (
        strip_snapshot(&std::fs::read_to_string(&out).unwrap()),
        scans.get("task_tags").copied(),
    )
}

/// Asserts that a dump of account 1 (by `dump_account`, with how often it scanned task_tags)
/// scanned task_tags through its key table and wrote what a dump by lookups writes.
fn assert_like_lookups(
    url: &str,
    dir: &std::path::Path,
    (keyed, task_tag_scans): (String, Option<u64>),
) {
    assert_eq!(task_tag_scans, Some(1), "task_tags was not scanned");
    let (looked_up, _) = dump_account(url, dir, "lookups.sql", &["--lookups-only"]);
    assert!(
        keyed == looked_up,
        "the dumps by scans and by lookups differ"
    );
    assert_eq!(keyed.matches("'2026-01-01'").count(), 80_000);
}

#[test]
fn key_tables_stay_out_of_a_binary_log_that_records_statements() {
    let Some(server) = LoggingServer::start("key_tables_binlog", &[]) else {
        return;
    };
    let url = database_with_many_tasks(&server, "pd_binlog");
    let dir = tempfile::tempdir().unwrap();
    let before = server.log_position();
    let keyed = dump_account(&url, dir.path(), "keyed.sql", &["--jobs", "2"]);
    assert_eq!(
        server.log_position(),
        before,
        "the dump wrote to the source's binary log"
    );
    assert_like_lookups(&url, dir.path(), keyed);
}

/// Key tables are filled by `LOAD DATA LOCAL INFILE` where the server takes local files, and
/// by INSERTs where it does not (MySQL 8's default): the scan is the same.
#[test]
fn key_tables_are_filled_by_inserts_where_the_server_refuses_local_files() {
    let Some(server) = LoggingServer::start("key_tables_no_local_infile", &["--local-infile=0"])
    else {
        return;
    };
    let url = database_with_many_tasks(&server, "pd_no_local_infile");
    let local: Option<i64> = server
        .conn("mysql")
        .query_first("SELECT @@local_infile")
        .unwrap();
    assert_eq!(local, Some(0), "the server takes local files");
    let dir = tempfile::tempdir().unwrap();
    let keyed = dump_account(&url, dir.path(), "keyed.sql", &["--jobs", "2"]);
    assert_like_lookups(&url, dir.path(), keyed);
}
