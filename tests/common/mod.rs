//! Test harness: a real SQLite file or a real MariaDB database per test, the fixture loaded,
//! partialdump run as a user runs it, and an independent oracle for what a dump must contain.
#![allow(dead_code)]

pub mod oracle;

use mysql::prelude::Queryable;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub type Row = Vec<Option<String>>;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(path: &str) -> PathBuf {
    root().join("fixtures").join(path)
}

pub fn graph() -> PathBuf {
    root().join("schemas/app.yaml")
}

/// Runs the partialdump binary.
pub fn partialdump(args: &[&str]) -> Output {
    partialdump_env(args, &[])
}

/// Runs partialdump with `env` added to its environment.
pub fn partialdump_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run partialdump")
}

/// A dump without its `-- snapshot:` line, the one line that differs between two dumps of an
/// unchanged database.
pub fn strip_snapshot(t: &str) -> String {
    t.lines()
        .filter(|l| !l.starts_with("-- snapshot: "))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `partialdump dump` of `url` with `graph` into `out` with `args` (the roots, and any
/// options), its standard error as a user sees it; whether it succeeds or not.
pub fn dump_into(url: &str, graph: &Path, args: &[&str], out: &Path) -> Output {
    let mut all = vec![
        "dump",
        "--source",
        url,
        "--graph",
        graph.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    partialdump(&all)
}

/// Dumps `url` with `graph` into `out`, quietly, with `args` (the roots, and any options).
pub fn dump_with_graph(url: &str, graph: &Path, args: &[&str], out: &Path) {
    let all = [args, &["--quiet"]].concat();
    let o = dump_into(url, graph, &all, out);
    assert!(o.status.success(), "dump {all:?} failed:\n{}", stderr(&o));
}

/// [`dump_with_graph`] with `--stats-json` (beside `out`): the statistics it wrote.
pub fn dump_with_stats(url: &str, graph: &Path, args: &[&str], out: &Path) -> serde_json::Value {
    let stats = out.with_extension("json");
    let args = [args, &["--stats-json", stats.to_str().unwrap()]].concat();
    dump_with_graph(url, graph, &args, out);
    serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap()
}

/// The rows `--stats-json`'s `stats` report for `table` (None: the table is not in them).
pub fn stats_rows(stats: &serde_json::Value, table: &str) -> Option<u64> {
    stats["tables"]
        .as_array()
        .expect("--stats-json lists tables")
        .iter()
        .find(|t| t["table"] == table)
        .map(|t| t["rows"].as_u64().expect("a table's rows are a count"))
}

/// Dumps `root` of `url` with `graph` into `out` with `extra` options and `--stats-json`;
/// returns how many times each table was read by a scan, from the stats.
pub fn dump_counting_scans(
    url: &str,
    graph: &Path,
    root: &str,
    extra: &[&str],
    out: &Path,
) -> std::collections::BTreeMap<String, u64> {
    let args = [&["--root", root][..], extra].concat();
    let stats = dump_with_stats(url, graph, &args, out);
    stats["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_string(),
                t["scans"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// [`dump_counting_scans`] into `out`, with the dump's text (its snapshot line left out, the
/// one line two dumps of the same rows differ in).
pub fn dump_text_counting_scans(
    url: &str,
    graph: &Path,
    root: &str,
    extra: &[&str],
    out: &Path,
) -> (String, std::collections::BTreeMap<String, u64>) {
    let scans = dump_counting_scans(url, graph, root, extra, out);
    (
        strip_snapshot(&std::fs::read_to_string(out).unwrap()),
        scans,
    )
}

/// Writes the graph `yaml` to `graph.yaml` in `dir`; returns its path.
pub fn write_graph(dir: &Path, yaml: &str) -> PathBuf {
    let graph = dir.join("graph.yaml");
    std::fs::write(&graph, yaml).unwrap();
    graph
}

/// A SQLite file `name` in `dir` with the tables of `schema`: its path and a connection to it.
pub fn sqlite_file(dir: &Path, name: &str, schema: &str) -> (PathBuf, rusqlite::Connection) {
    let path = dir.join(name);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(schema).unwrap();
    (path, conn)
}

/// Runs partialdump and insists it succeeded.
pub fn partialdump_ok(args: &[&str]) -> Output {
    let o = partialdump(args);
    assert!(
        o.status.success(),
        "partialdump {args:?} failed:\n{}",
        stderr(&o)
    );
    o
}

/// `partialdump verify` of the subset of `root` (`TABLE.COL=VALUE`) by `graph`, between
/// `source` and `target`.
pub fn verify(source: &str, target: &str, graph: &Path, root: &str) -> Output {
    verify_with(source, target, graph, &["--root", root])
}

/// `partialdump verify` by `graph` between `source` and `target`, with `args` (the roots, and
/// `--random-seed` for a cleansed copy).
pub fn verify_with(source: &str, target: &str, graph: &Path, args: &[&str]) -> Output {
    let graph = graph.to_str().unwrap();
    let mut all = vec![
        "verify", "--source", source, "--target", target, "--graph", graph,
    ];
    all.extend_from_slice(args);
    partialdump(&all)
}

/// Imports `file` into `target`, quietly; fails the test if it does not succeed.
pub fn import_ok(target: &str, file: &Path) -> Output {
    partialdump_ok(&["import", "--target", target, "-q", file.to_str().unwrap()])
}

/// A database the oracle and the comparisons can query, with every value as text.
pub trait Db {
    fn rows(&mut self, sql: &str) -> Vec<Row>;
    fn quote(&self, ident: &str) -> String;
    /// Column names of a table, in order.
    fn columns(&mut self, table: &str) -> Vec<(String, String)>;
}

// ---------------------------------------------------------------- SQLite

pub struct SqliteDb {
    pub path: PathBuf,
    pub conn: rusqlite::Connection,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

impl SqliteDb {
    /// A new database file holding the fixture schema, and its data when `with_data`.
    pub fn fixture(with_data: bool) -> SqliteDb {
        let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
        Self::fixture_in(dir, "db.sqlite", with_data)
    }

    pub fn fixture_in(
        dir: std::sync::Arc<tempfile::TempDir>,
        name: &str,
        with_data: bool,
    ) -> SqliteDb {
        let path = dir.path().join(name);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&std::fs::read_to_string(fixture("sqlite/schema.sql")).unwrap())
            .unwrap();
        if with_data {
            conn.execute_batch(&std::fs::read_to_string(fixture("sqlite/data.sql")).unwrap())
                .unwrap();
        }
        SqliteDb {
            path,
            conn,
            _dir: dir,
        }
    }

    /// A new database file `name` in `dir` holding the statements of `schema`.
    pub fn with_schema(
        dir: std::sync::Arc<tempfile::TempDir>,
        name: &str,
        schema: &str,
    ) -> SqliteDb {
        let path = dir.path().join(name);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema).unwrap();
        SqliteDb {
            path,
            conn,
            _dir: dir,
        }
    }

    /// A second, empty copy of the schema next to this one.
    pub fn empty_twin(&self, name: &str) -> SqliteDb {
        Self::fixture_in(self._dir.clone(), name, false)
    }

    pub fn url(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    /// Loads a dump the way `sqlite3 -bail db < dump.sql` does; Err with the message on failure.
    pub fn load(&self, dump: &Path) -> Result<(), String> {
        let sql = std::fs::read_to_string(dump).unwrap();
        self.conn.execute_batch(&sql).map_err(|e| e.to_string())
    }
}

impl Db for SqliteDb {
    fn rows(&mut self, sql: &str) -> Vec<Row> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let n = stmt.column_count();
        let mut out = Vec::new();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let mut v = Vec::new();
            for i in 0..n {
                use rusqlite::types::ValueRef::*;
                v.push(match r.get_ref(i).unwrap() {
                    Null => None,
                    Integer(i) => Some(i.to_string()),
                    Real(f) => Some(format!("{f:e}")),
                    Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    Blob(b) => Some(format!("x{}", hex(b))),
                });
            }
            out.push(v);
        }
        out
    }

    fn quote(&self, ident: &str) -> String {
        format!("\"{ident}\"")
    }

    fn columns(&mut self, table: &str) -> Vec<(String, String)> {
        self.rows(&format!(
            "SELECT name, type FROM pragma_table_xinfo('{table}') ORDER BY cid"
        ))
        .into_iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap_or_default().to_lowercase(),
            )
        })
        .collect()
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------------------------------------------------------------- MariaDB

/// The server the tests use: PARTIALDUMP_TEST_MYSQL_URL (scripts/test.sh sets it), without a
/// database name.
pub fn mysql_base_url() -> String {
    std::env::var("PARTIALDUMP_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://partialdump:partialdump-test@127.0.0.1:3306".into())
        .trim_end_matches('/')
        .to_string()
}

pub struct MysqlDb {
    pub name: String,
    pub conn: mysql::Conn,
    base: url::Url,
}

/// A fresh, empty database named after the test. Under CI=true an unreachable server fails
/// the test; elsewhere the test is skipped with a message saying so.
pub fn mysql_db(test: &str) -> Option<MysqlDb> {
    let base = url::Url::parse(&mysql_base_url()).expect("PARTIALDUMP_TEST_MYSQL_URL is a URL");
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(base.host_str())
        .tcp_port(base.port().unwrap_or(3306))
        .user(Some(base.username()))
        .pass(base.password())
        .prefer_socket(false)
        .init(vec!["SET NAMES utf8mb4", "SET time_zone = '+00:00'"]);
    let mut conn = match mysql::Conn::new(opts.clone()) {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true and MariaDB is not reachable at {}: {e}",
                    base.host_str().unwrap_or("?")
                );
            }
            eprintln!(
                "SKIPPED {test}: MariaDB not reachable ({e}); run scripts/test.sh to start it"
            );
            return None;
        }
    };
    let name = format!("pd_{test}_{}", std::process::id());
    assert!(name.len() <= 64, "database name too long: {name}");
    conn.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
        .unwrap();
    conn.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        .unwrap();
    conn.query_drop(format!("USE `{name}`")).unwrap();
    Some(MysqlDb { name, conn, base })
}

/// A source and a target for `test` (databases named after `<test>_s` and `<test>_d`), each
/// given the `;`-separated statements of `schema`. None where [`mysql_db`] skips.
pub fn mysql_pair(test: &str, schema: &str) -> Option<(MysqlDb, MysqlDb)> {
    let mut src = mysql_db(&format!("{test}_s"))?;
    let mut dst = mysql_db(&format!("{test}_d"))?;
    for db in [&mut src, &mut dst] {
        db.script(schema);
    }
    Some((src, dst))
}

impl MysqlDb {
    /// Runs the `;`-separated statements of `script`.
    pub fn script(&mut self, script: &str) {
        for stmt in script.split(';').filter(|s| !s.trim().is_empty()) {
            self.rows(stmt);
        }
    }

    /// A database with the fixture schema, and its data when `with_data`.
    pub fn fixture(test: &str, with_data: bool) -> Option<MysqlDb> {
        let db = mysql_db(test)?;
        db.load_file(&fixture("mysql/schema.sql")).unwrap();
        if with_data {
            db.load_file(&fixture("mysql/data.sql")).unwrap();
        }
        Some(db)
    }

    pub fn url(&self) -> String {
        let mut u = self.base.clone();
        u.set_path(&self.name);
        u.to_string()
    }

    pub fn password(&self) -> String {
        self.base.password().unwrap_or("").to_string()
    }

    /// Loads a SQL file with the `mariadb` command-line client, as a user would.
    pub fn load_file(&self, file: &Path) -> Result<(), String> {
        let o = Command::new("mariadb")
            .arg(format!(
                "--host={}",
                self.base.host_str().unwrap_or("127.0.0.1")
            ))
            .arg(format!("--port={}", self.base.port().unwrap_or(3306)))
            .arg(format!("--user={}", self.base.username()))
            .arg(format!("--password={}", self.password()))
            .arg("--default-character-set=utf8mb4")
            .arg(&self.name)
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .expect("run the mariadb client (apt-get install mariadb-client)");
        if o.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    }
}

/// A MariaDB user of a test's own, at both hosts the tests connect from; dropped with this.
pub struct TestUser {
    /// The database's URL with this user's name and password.
    pub url: String,
    /// The user's name, as granted to (with the test's process id).
    pub name: String,
    admin: url::Url,
}

impl MysqlDb {
    /// A user named `name` (with the test's process id) and `password`, given `grants` on this
    /// database only, e.g. `SELECT`.
    pub fn user_with(&mut self, name: &str, password: &str, grants: &str) -> TestUser {
        let user = format!("{name}_{}", std::process::id());
        for host in ["127.0.0.1", "localhost"] {
            self.conn
                .query_drop(format!(
                    "CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'"
                ))
                .unwrap();
            self.conn
                .query_drop(format!(
                    "GRANT {grants} ON `{}`.* TO '{user}'@'{host}'",
                    self.name
                ))
                .unwrap();
        }
        let mut url = url::Url::parse(&self.url()).unwrap();
        url.set_username(&user).unwrap();
        url.set_password(Some(password)).unwrap();
        TestUser {
            url: url.to_string(),
            name: user,
            admin: self.base.clone(),
        }
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        if let Ok(mut conn) = mysql::Conn::new(mysql::Opts::from_url(self.admin.as_str()).unwrap())
        {
            for host in ["127.0.0.1", "localhost"] {
                let _ = conn.query_drop(format!("DROP USER IF EXISTS '{}'@'{host}'", self.name));
            }
        }
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        let _ = self
            .conn
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}

impl Db for MysqlDb {
    fn rows(&mut self, sql: &str) -> Vec<Row> {
        let rows: Vec<mysql::Row> = self
            .conn
            .query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter()
            .map(|r| {
                r.unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql::Value::NULL => None,
                        mysql::Value::Bytes(b) => Some(
                            String::from_utf8(b.clone())
                                .unwrap_or_else(|_| format!("x{}", hex(&b))),
                        ),
                        other => Some(other.as_sql(true)),
                    })
                    .collect()
            })
            .collect()
    }

    fn quote(&self, ident: &str) -> String {
        format!("`{ident}`")
    }

    fn columns(&mut self, table: &str) -> Vec<(String, String)> {
        self.rows(&format!(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{}' \
             AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION",
            self.name
        ))
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
    }
}

// ---------------------------------------------------------------- comparisons

/// Asserts that `target` holds exactly the expected rows of every table: the same key set as
/// the oracle computed, and for each key a row equal in every column to the source's row.
/// `full_row_matches(table, key_cols, cols)` counts target rows equal to their source row.
pub fn assert_subset(
    expected: &oracle::Expected,
    target: &mut dyn Db,
    mut full_row_matches: impl FnMut(&mut dyn Db, &str, &[String], &[(String, String)]) -> usize,
) {
    for (table, key_cols) in oracle::KEYS {
        let key_cols: Vec<String> = key_cols.iter().map(|s| s.to_string()).collect();
        let q: Vec<String> = key_cols.iter().map(|c| target.quote(c)).collect();
        let got: BTreeSet<Row> = target
            .rows(&format!(
                "SELECT {} FROM {}",
                q.join(", "),
                target.quote(table)
            ))
            .into_iter()
            .collect();
        let want = expected.get(*table).cloned().unwrap_or_default();
        assert_eq!(
            got, want,
            "table {table}: keys in the loaded dump (left) differ from the expected subset (right)"
        );
        let cols = target.columns(table);
        let matching = full_row_matches(target, table, &key_cols, &cols);
        assert_eq!(
            matching,
            want.len(),
            "table {table}: {} of {} rows equal their source row in every column",
            matching,
            want.len()
        );
    }
}

/// `SELECT COUNT(*)` of target rows equal to the source row in `src_schema`, column by column,
/// with `eq` the engine's NULL-safe equality (`<=>`, `IS`).
pub fn count_equal_rows(
    db: &mut dyn Db,
    src_schema: &str,
    table: &str,
    key_cols: &[String],
    cols: &[(String, String)],
    eq: &str,
) -> usize {
    let on: Vec<String> = key_cols
        .iter()
        .map(|k| format!("a.{k} = b.{k}", k = db.quote(k)))
        .chain(cols.iter().map(|(c, ty)| {
            let nullified = oracle::NULLIFIED.contains(&(table, c.as_str()));
            let c = db.quote(c);
            if nullified {
                format!("b.{c} IS NULL")
            } else if matches!(ty.as_str(), "geometry" | "point" | "linestring" | "polygon") {
                format!("ST_AsBinary(a.{c}) {eq} ST_AsBinary(b.{c})")
            } else {
                format!("a.{c} {eq} b.{c}")
            }
        }))
        .collect();
    let sql = format!(
        "SELECT COUNT(*) FROM {src_schema}.{t} a JOIN {t} b ON {}",
        on.join(" AND "),
        t = db.quote(table)
    );
    db.rows(&sql)[0][0].as_ref().unwrap().parse().unwrap()
}

/// A dump's body (after the header comments, up to the trailer) and its trailer line.
pub fn body_and_trailer(text: &str) -> (&str, &str) {
    let body_start = text
        .lines()
        .take_while(|l| l.starts_with("-- "))
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let trailer_start = text[..text.len() - 1].rfind('\n').unwrap() + 1;
    (&text[body_start..trailer_start], &text[trailer_start..])
}
