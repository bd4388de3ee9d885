//! A dump taken while another connection keeps changing the same tenant loads with foreign-key
//! checks on, and shows the tenant as of one moment.
//!
//! The writer keeps an invariant that only holds at transaction boundaries: in generation `g`
//! the account's name is `gen g`, every task of the account has title `gen g`, exactly one task
//! `1000 + g` exists (the previous one is deleted), and exactly one comment `1000 + g` on that task
//! exists. A dump that read different tables at different moments breaks the invariant, or does
//! not load (a comment or tag on a task it did not see).

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
        partialdump_ok(&[
            "dump",
            "--source",
            &url,
            "--graph",
            graph.to_str().unwrap(),
            "--root",
            "accounts.id=1",
            "--quiet",
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
