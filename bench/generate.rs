//! Seeded, deterministic generator of a multi-tenant database for the benchmarks.
//!
//!     cargo run --release --example bench-generate -- mysql://user:pw@127.0.0.1/pd_bench 1 42
//!
//! Scale 1 is about 1,000,000 rows, scale 10 about 10,000,000. Tenant 1 is large (about 20% of
//! the rows); the rest are spread over many small tenants. The schema has children several
//! levels deep, a many-to-many table, self-references, a nullable cycle (tenants.owner_user_id),
//! a NOT NULL cycle (stores/staff), a polymorphic reference (comments), lookup tables and wide
//! text and blob columns. Rows are loaded with LOAD DATA LOCAL INFILE from memory.

// Ids are 1-based and index several tables' lists at once: plain index loops read best.
#![allow(clippy::needless_range_loop)]

use fake::rand::rngs::ChaCha8Rng;
use fake::rand::{RngExt, SeedableRng};
use mysql::prelude::Queryable;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

const SCHEMA: &str = "
CREATE TABLE plans (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, price DECIMAL(10,2) NOT NULL) ENGINE=InnoDB;
CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(60) NOT NULL) ENGINE=InnoDB;
CREATE TABLE tenants (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, plan_id INT NOT NULL, owner_user_id INT NULL,
  created_at DATETIME(6) NOT NULL,
  FOREIGN KEY (plan_id) REFERENCES plans(id)) ENGINE=InnoDB;
CREATE TABLE users (id INT PRIMARY KEY, tenant_id INT NOT NULL, email VARCHAR(120) NOT NULL, name VARCHAR(100) NOT NULL,
  country_code CHAR(2) NULL, manager_id INT NULL, bio TEXT NULL,
  FOREIGN KEY (tenant_id) REFERENCES tenants(id), FOREIGN KEY (country_code) REFERENCES countries(code),
  FOREIGN KEY (manager_id) REFERENCES users(id)) ENGINE=InnoDB;
ALTER TABLE tenants ADD FOREIGN KEY (owner_user_id) REFERENCES users(id);
CREATE TABLE projects (id INT PRIMARY KEY, tenant_id INT NOT NULL, name VARCHAR(100) NOT NULL, created_by INT NULL,
  FOREIGN KEY (tenant_id) REFERENCES tenants(id), FOREIGN KEY (created_by) REFERENCES users(id)) ENGINE=InnoDB;
CREATE TABLE tasks (id INT PRIMARY KEY, project_id INT NOT NULL, parent_id INT NULL, assignee_id INT NULL,
  title VARCHAR(200) NOT NULL, description TEXT NULL, estimate DOUBLE NULL, due DATE NULL,
  FOREIGN KEY (project_id) REFERENCES projects(id), FOREIGN KEY (parent_id) REFERENCES tasks(id),
  FOREIGN KEY (assignee_id) REFERENCES users(id)) ENGINE=InnoDB;
CREATE TABLE tags (id INT PRIMARY KEY, tenant_id INT NOT NULL, label VARCHAR(40) NOT NULL,
  FOREIGN KEY (tenant_id) REFERENCES tenants(id)) ENGINE=InnoDB;
CREATE TABLE task_tags (task_id INT NOT NULL, tag_id INT NOT NULL, PRIMARY KEY (task_id, tag_id),
  FOREIGN KEY (task_id) REFERENCES tasks(id), FOREIGN KEY (tag_id) REFERENCES tags(id)) ENGINE=InnoDB;
CREATE TABLE comments (id INT PRIMARY KEY, subject_type VARCHAR(10) NOT NULL, subject_id INT NOT NULL,
  author_id INT NOT NULL, body TEXT NOT NULL, KEY (subject_type, subject_id),
  FOREIGN KEY (author_id) REFERENCES users(id)) ENGINE=InnoDB;
CREATE TABLE attachments (id INT PRIMARY KEY, task_id INT NOT NULL, name VARCHAR(100) NOT NULL, data BLOB NOT NULL,
  FOREIGN KEY (task_id) REFERENCES tasks(id)) ENGINE=InnoDB;
CREATE TABLE events (id BIGINT PRIMARY KEY, tenant_id INT NOT NULL, kind VARCHAR(20) NOT NULL, at DATETIME(6) NOT NULL,
  payload TEXT NULL, KEY (tenant_id)) ENGINE=InnoDB;
CREATE TABLE stores (id INT PRIMARY KEY, tenant_id INT NOT NULL, manager_staff_id INT NOT NULL, city VARCHAR(60) NOT NULL,
  FOREIGN KEY (tenant_id) REFERENCES tenants(id)) ENGINE=InnoDB;
CREATE TABLE staff (id INT PRIMARY KEY, store_id INT NOT NULL, user_id INT NULL, role VARCHAR(20) NOT NULL,
  FOREIGN KEY (store_id) REFERENCES stores(id), FOREIGN KEY (user_id) REFERENCES users(id)) ENGINE=InnoDB;
ALTER TABLE stores ADD FOREIGN KEY (manager_staff_id) REFERENCES staff(id);
";

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
    "uniform", "victor", "whiskey",
];

fn words(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

struct Tsv(String);

impl Tsv {
    fn row(&mut self, fields: &[String]) {
        self.0.push_str(&fields.join("\t"));
        self.0.push('\n');
    }
}

fn null() -> String {
    "\\N".into()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .ok_or("usage: bench-generate MYSQL_URL [SCALE] [SEED]")?;
    let scale: f64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1.0);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(42);
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let n = |base: f64| ((base * scale) as usize).max(1);
    let tenants = n(500.0);
    let users = n(50_000.0);
    let projects = n(20_000.0);
    let tasks = n(300_000.0);
    let tags = n(10_000.0);
    let task_tags = n(200_000.0);
    let comments = n(250_000.0);
    let attachments = n(20_000.0);
    let events = n(150_000.0);
    let stores = n(1_000.0);

    // Rows of all tenants are interleaved, as rows inserted over time are: every fifth row
    // is tenant 1's, the rest are spread over the other tenants.
    let tenant_of = |i: usize, _total: usize| -> usize {
        if i.is_multiple_of(5) {
            1
        } else {
            2 + (i * 7919) % (tenants - 1).max(1)
        }
    };

    let mut files: HashMap<&'static str, Tsv> = HashMap::new();
    let mut put = |t: &'static str, fields: Vec<String>| {
        files
            .entry(t)
            .or_insert_with(|| Tsv(String::new()))
            .row(&fields)
    };

    for (i, name) in ["free", "basic", "pro", "business", "enterprise"]
        .iter()
        .enumerate()
    {
        put(
            "plans",
            vec![
                (i + 1).to_string(),
                name.to_string(),
                format!("{}.00", i * 20),
            ],
        );
    }
    for a in b'A'..=b'Z' {
        for b in [b'A', b'E', b'I', b'O', b'U', b'X', b'Z', b'R', b'L'] {
            put(
                "countries",
                vec![format!("{}{}", a as char, b as char), words(&mut rng, 2)],
            );
        }
    }
    // Users first per tenant, to give each tenant an owner.
    let mut users_of: Vec<Vec<usize>> = vec![Vec::new(); tenants + 1];
    for u in 1..=users {
        users_of[tenant_of(u - 1, users)].push(u);
    }
    for t in 1..=tenants {
        let owner = users_of[t]
            .first()
            .map(|u| u.to_string())
            .unwrap_or_else(null);
        put(
            "tenants",
            vec![
                t.to_string(),
                format!("Tenant {t} {}", words(&mut rng, 2)),
                rng.random_range(1..=5u32).to_string(),
                owner,
                format!("2024-01-{:02} 10:00:00.{:06}", 1 + t % 28, t),
            ],
        );
    }
    for (t, list) in users_of.iter().enumerate().skip(1) {
        for (k, &u) in list.iter().enumerate() {
            let manager = if k == 0 {
                null()
            } else {
                list[rng.random_range(0..k)].to_string()
            };
            put(
                "users",
                vec![
                    u.to_string(),
                    t.to_string(),
                    format!("user{u}@tenant{t}.test"),
                    words(&mut rng, 2),
                    format!("{}A", (b'A' + rng.random_range(0..26u8)) as char),
                    manager,
                    words(&mut rng, 30),
                ],
            );
        }
    }
    let mut projects_of: Vec<Vec<usize>> = vec![Vec::new(); tenants + 1];
    for p in 1..=projects {
        let t = tenant_of(p - 1, projects);
        projects_of[t].push(p);
        let creator = users_of[t]
            .get(p % users_of[t].len().max(1))
            .map(|u| u.to_string())
            .unwrap_or_else(null);
        put(
            "projects",
            vec![p.to_string(), t.to_string(), words(&mut rng, 3), creator],
        );
    }
    let mut task_tenant = vec![0usize; tasks + 1];
    let mut tasks_of_project: HashMap<usize, Vec<usize>> = HashMap::new();
    for task in 1..=tasks {
        let t = tenant_of(task - 1, tasks);
        let t = if projects_of[t].is_empty() { 1 } else { t };
        let p = projects_of[t][rng.random_range(0..projects_of[t].len())];
        task_tenant[task] = t;
        let siblings = tasks_of_project.entry(p).or_default();
        let parent = if !siblings.is_empty() && rng.random_range(0..4) == 0 {
            siblings[rng.random_range(0..siblings.len())].to_string()
        } else {
            null()
        };
        siblings.push(task);
        let assignee = users_of[t]
            .get(rng.random_range(0..users_of[t].len().max(1)))
            .map(|u| u.to_string())
            .unwrap_or_else(null);
        put(
            "tasks",
            vec![
                task.to_string(),
                p.to_string(),
                parent,
                assignee,
                words(&mut rng, 6),
                words(&mut rng, 40),
                format!("{}", rng.random_range(0..1000u32) as f64 / 8.0),
                format!("2025-{:02}-{:02}", 1 + task % 12, 1 + task % 28),
            ],
        );
    }
    let mut tags_of: Vec<Vec<usize>> = vec![Vec::new(); tenants + 1];
    for g in 1..=tags {
        let t = tenant_of(g - 1, tags);
        tags_of[t].push(g);
        put(
            "tags",
            vec![g.to_string(), t.to_string(), words(&mut rng, 1)],
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut made = 0;
    while made < task_tags {
        let task = rng.random_range(1..=tasks);
        let t = task_tenant[task];
        if tags_of[t].is_empty() {
            continue;
        }
        let tag = tags_of[t][rng.random_range(0..tags_of[t].len())];
        if seen.insert((task, tag)) {
            put("task_tags", vec![task.to_string(), tag.to_string()]);
            made += 1;
        }
    }
    for c in 1..=comments {
        let task = rng.random_range(1..=tasks);
        let t = task_tenant[task];
        let (kind, subject) = if c % 5 == 0 {
            (
                "Project",
                projects_of[t][rng.random_range(0..projects_of[t].len())],
            )
        } else {
            ("Task", task)
        };
        let author = users_of[t][rng.random_range(0..users_of[t].len())];
        put(
            "comments",
            vec![
                c.to_string(),
                kind.into(),
                subject.to_string(),
                author.to_string(),
                words(&mut rng, 25),
            ],
        );
    }
    for a in 1..=attachments {
        let task = rng.random_range(1..=tasks);
        let len = rng.random_range(500..3000usize);
        let mut hex = String::with_capacity(len * 2);
        for _ in 0..len {
            let _ = write!(hex, "{:02x}", rng.random_range(0..=255u8));
        }
        // LOAD DATA reads the hex text; SET data = UNHEX(@hex) turns it into bytes.
        put(
            "attachments",
            vec![a.to_string(), task.to_string(), format!("file{a}.bin"), hex],
        );
    }
    for e in 1..=events {
        let t = tenant_of(e - 1, events);
        put(
            "events",
            vec![
                e.to_string(),
                t.to_string(),
                words(&mut rng, 1),
                format!("2025-06-01 12:00:00.{:06}", e % 1_000_000),
                words(&mut rng, 12),
            ],
        );
    }
    for s in 1..=stores {
        let t = tenant_of(s - 1, stores);
        // Staff ids: three per store, the first is the manager.
        put(
            "stores",
            vec![
                s.to_string(),
                t.to_string(),
                (s * 3 - 2).to_string(),
                words(&mut rng, 1),
            ],
        );
        for k in 0..3 {
            let user = users_of[t]
                .get(k)
                .map(|u| u.to_string())
                .unwrap_or_else(null);
            put(
                "staff",
                vec![
                    (s * 3 - 2 + k).to_string(),
                    s.to_string(),
                    user,
                    ["manager", "clerk", "clerk"][k].into(),
                ],
            );
        }
    }

    let total: usize = files.values().map(|f| f.0.lines().count()).sum();
    let files = Arc::new(Mutex::new(
        files
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.0.into_bytes()))
            .collect::<HashMap<_, _>>(),
    ));
    let handler_files = files.clone();
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url)?).local_infile_handler(
        Some(mysql::LocalInfileHandler::new(move |name, out| {
            let name = String::from_utf8_lossy(name).into_owned();
            let data = handler_files
                .lock()
                .map_err(|_| std::io::Error::other("lock"))?
                .remove(&name)
                .unwrap_or_default();
            std::io::Write::write_all(out, &data)
        })),
    );
    let db = mysql::Opts::from_url(url)?
        .get_db_name()
        .ok_or("the URL needs a database name")?
        .to_string();
    let mut conn = mysql::Conn::new(
        mysql::OptsBuilder::from_opts(mysql::Opts::from_url(url)?).db_name(None::<String>),
    )?;
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{db}`"))?;
    conn.query_drop(format!("CREATE DATABASE `{db}` CHARACTER SET utf8mb4"))?;
    drop(conn);
    let mut conn = mysql::Conn::new(opts)?;
    conn.query_drop("SET foreign_key_checks = 0, unique_checks = 0")?;
    for stmt in SCHEMA.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.query_drop(stmt)?;
    }
    for table in [
        "plans",
        "countries",
        "tenants",
        "users",
        "projects",
        "tasks",
        "tags",
        "task_tags",
        "comments",
        "attachments",
        "events",
        "stores",
        "staff",
    ] {
        let sql = if table == "attachments" {
            "LOAD DATA LOCAL INFILE 'attachments' INTO TABLE attachments (id, task_id, name, @hex) SET data = UNHEX(@hex)".to_string()
        } else {
            format!("LOAD DATA LOCAL INFILE '{table}' INTO TABLE `{table}`")
        };
        conn.query_drop(sql)?;
    }
    conn.query_drop("SET foreign_key_checks = 1, unique_checks = 1")?;
    conn.query_drop(
        "ANALYZE TABLE tenants, users, projects, tasks, task_tags, comments, attachments, events",
    )?;
    eprintln!(
        "bench-generate: {total} rows into {db} (scale {scale}, seed {seed}) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
