//! A dump taken while another connection keeps changing the same tenant loads with foreign-key
//! checks on, and shows the tenant as of one moment.
//!
//! The writer keeps an invariant that only holds at transaction boundaries: in generation `g`
//! the account's name is `gen g`, every task of the account has title `gen g`, exactly one task
//! `1000 + g` exists (the previous one is deleted), and exactly one comment `1000 + g` on that task
//! exists. A dump that read different tables at different moments breaks the invariant, or does
//! not load (a comment or tag on a task it did not see). Half the dumps read over several
//! connections (`--jobs 3`), which must all see that one moment too.

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
/// the dump. Another backup holding that lock makes the dump give up after a bounded wait with
/// advice, leaving no output; one connection (`--jobs 1`, no lock) still works.
#[test]
fn shared_snapshot_holds_commits_only_briefly() {
    let Some(src) = MysqlDb::fixture("cons_lock", true) else {
        return;
    };
    let url = src.url();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.sql");
    let graph = graph();
    let dump = |jobs: &str| {
        partialdump(&[
            "dump",
            "--source",
            &url,
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            "accounts.id=1",
            "--jobs",
            jobs,
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let conn = || mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();

    let mut writer = conn();
    writer
        .query_drop("START TRANSACTION; UPDATE accounts SET name = 'uncommitted' WHERE id = 1")
        .unwrap();
    let o = dump("2");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("uncommitted"),
        "the dump saw an uncommitted change"
    );
    writer.query_drop("COMMIT").unwrap();
    std::fs::remove_file(&out).unwrap();

    let mut backup = conn();
    backup.query_drop("BACKUP STAGE START").unwrap();
    let started = Instant::now();
    let o = dump("2");
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
    let o = dump("1");
    assert!(o.status.success(), "{}", stderr(&o));
    backup.query_drop("BACKUP STAGE END").unwrap();
}
