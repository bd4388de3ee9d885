//! MySQL and MariaDB: one connection, one `START TRANSACTION WITH CONSISTENT SNAPSHOT`.
//!
//! Rows are read over the binary protocol (prepared statements), so FLOAT and DOUBLE arrive as
//! their exact bits, integers as 64-bit signed or unsigned, dates and times as their parts
//! (zero dates included). The session runs in UTC so TIMESTAMP values do not depend on the
//! server's or the client's time zone.

use super::url::MySqlUrl;
use super::value::Value;
use super::{SharedSnapshot, Source, Target};
use crate::dialect::{Dialect, MYSQL};
use crate::error::{Error, Result};
use crate::schema::{Column, ForeignKey, Schema, Side, Table};
use mysql::consts::{ColumnFlags, ColumnType};
use mysql::prelude::Queryable;
use mysql::{Conn, OptsBuilder};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The `binary` character set: its columns hold bytes, not text.
const BINARY_CHARSET: u16 = 63;

pub struct MySqlSource {
    conn: Conn,
    /// How `conn` was opened, for more connections into one shared snapshot.
    opts: mysql::Opts,
    url: String,
    max_packet: usize,
    /// Whether the session can hold key tables: Some(false) when its statements would reach
    /// the binary log; else found out on first asking.
    key_tables: Option<bool>,
    /// Whether the server takes `LOAD DATA LOCAL INFILE` (to fill key tables): found out on
    /// first asking.
    local_infile: Option<bool>,
}

/// Opens a connection with the session settings partialdump relies on (UTF-8, UTC).
pub fn connect(m: &MySqlUrl, url: &str) -> Result<Conn> {
    connect_with(m, url, None)
}

fn connect_with(
    m: &MySqlUrl,
    url: &str,
    infile: Option<mysql::LocalInfileHandler>,
) -> Result<Conn> {
    open(options(m, infile), url)
}

fn open(opts: impl Into<mysql::Opts>, url: &str) -> Result<Conn> {
    Conn::new(opts).map_err(|e| Error::Connect {
        url: url.to_string(),
        reason: connect_advice(&e),
    })
}

/// The connection options, with the session settings partialdump relies on (UTF-8, UTC).
fn options(m: &MySqlUrl, infile: Option<mysql::LocalInfileHandler>) -> OptsBuilder {
    let mut opts = OptsBuilder::new()
        .local_infile_handler(infile)
        .user(Some(&m.user))
        .pass(m.password.as_deref())
        .db_name(Some(&m.database))
        .tcp_connect_timeout(Some(Duration::from_secs(10)))
        .init(vec!["SET NAMES utf8mb4", "SET time_zone = '+00:00'"])
        // Every walk query is new (its key list differs), so a statement cache would only
        // keep their texts here and their statements on the server; each is closed after use.
        .stmt_cache_size(0)
        // The protocol's largest, as mysqldump can be told: a row as large as the server
        // holds is read whatever the server's own max_allowed_packet (which limits what it
        // takes, not what it sends), and the driver would otherwise refuse one larger than that.
        .max_allowed_packet(Some(1 << 30));
    if let Some(sock) = &m.socket {
        opts = opts.socket(Some(sock)).prefer_socket(true);
    } else {
        opts = opts
            .ip_or_hostname(Some(&m.host))
            .tcp_port(m.port)
            .prefer_socket(false);
    }
    opts
}

/// The driver's message plus what to do about it. Driver messages never hold the password.
fn connect_advice(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(me) if me.code == 1045 => format!(
            "{}. Check the user and password (the password is not shown here).",
            me.message
        ),
        mysql::Error::MySqlError(me) if me.code == 1049 => format!(
            "{}. Check the database name at the end of the URL.",
            me.message
        ),
        mysql::Error::IoError(io) => {
            format!("{io}. Is the server running and reachable at that host and port?")
        }
        mysql::Error::DriverError(d) => {
            format!("{d}. Is the server running and reachable at that host and port?")
        }
        other => reason(other),
    }
}

impl MySqlSource {
    pub fn connect(m: &MySqlUrl, url: String) -> Result<MySqlSource> {
        let opts: mysql::Opts = options(m, None).into();
        let mut conn = open(opts.clone(), &url)?;
        let max_packet: Option<u64> = conn
            .query_first("SELECT @@max_allowed_packet")
            .map_err(|e| query_err(&url, "reading max_allowed_packet", e))?;
        Ok(MySqlSource {
            conn,
            opts,
            url,
            max_packet: max_packet.unwrap_or(4 << 20) as usize,
            key_tables: None,
            local_infile: None,
        })
    }

    /// Fills key table `name` (columns `cols`) with `n` keys by `LOAD DATA LOCAL INFILE` from
    /// memory, which costs the server less than half of what INSERTs do (600,000 keys: 0.10-0.15
    /// s of its CPU against 0.22-0.23 s). False, with the table still empty, where the server
    /// does not take local files (`local_infile` off, MySQL 8's default; noted for the session,
    /// which then fills its key tables by INSERTs).
    fn load_keys_locally(
        &mut self,
        name: &str,
        cols: &[String],
        n: usize,
        key: &mut dyn FnMut(usize, &mut String),
    ) -> std::result::Result<bool, mysql::Error> {
        if self.local_infile.is_none() {
            let on: Option<i64> = self.conn.query_first("SELECT @@local_infile")?;
            self.local_infile = Some(on == Some(1));
        }
        if self.local_infile != Some(true) {
            return Ok(false);
        }
        // A key table's columns are BIGINTs: the values' text is digits and a sign, and the
        // columns are separated by commas, which become the tabs between fields. The keys go
        // KEY_INSERT_BYTES at a time, as INSERTs would, so no more than that is held here.
        let sql = format!(
            "LOAD DATA LOCAL INFILE 'partialdump-keys' INTO TABLE {name} ({})",
            cols.join(", ")
        );
        let mut text = String::new();
        let mut i = 0;
        while i < n {
            let mut data = Vec::with_capacity(KEY_INSERT_BYTES + 64);
            while i < n && data.len() < KEY_INSERT_BYTES {
                text.clear();
                key(i, &mut text);
                data.extend(text.bytes().map(|b| if b == b',' { b'\t' } else { b }));
                data.push(b'\n');
                i += 1;
            }
            self.conn
                .set_local_infile_handler(Some(mysql::LocalInfileHandler::new(move |_, out| {
                    out.write_all(&data)
                })));
            let loaded = self.conn.query_drop(&sql);
            self.conn.set_local_infile_handler(None);
            match loaded {
                Ok(()) => {}
                // Refused before any row was read (only the first time can it be): "not
                // allowed" (MariaDB: 1148, 4166; MySQL: 3948, 3950).
                Err(mysql::Error::MySqlError(e)) if [1148, 3948, 3950, 4166].contains(&e.code) => {
                    self.local_infile = Some(false);
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// MariaDB's version as (major, minor, patch), from `VERSION()`; `None` for MySQL.
fn mariadb_version(version: &str) -> Option<(u32, u32, u32)> {
    if !version.contains("MariaDB") {
        return None;
    }
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    Some((next(), next(), next()))
}

/// Whether the server (by its `VERSION()`) is MariaDB 10.4 or later, which has `BACKUP STAGE`.
fn has_backup_stages(version: &str) -> bool {
    mariadb_version(version).is_some_and(|v| v >= (10, 4, 0))
}

/// Whether the server is a MariaDB whose InnoDB loads an empty table in bulk (one table-level
/// undo record, indexes built by sorting) when `unique_checks` and `foreign_key_checks` are off,
/// and does so correctly for LOAD DATA: MDEV-34703 was fixed in 10.11.11, 11.4.5 and 11.7.2,
/// the versions `mariadb-import` enables it from.
fn has_empty_table_bulk_insert(version: &str) -> bool {
    mariadb_version(version).is_some_and(|v| {
        v >= (11, 7, 2)
            || ((11, 4, 5)..(11, 5, 0)).contains(&v)
            || ((10, 11, 11)..(10, 12, 0)).contains(&v)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn enum_members_are_read_as_the_server_lists_them() {
        let members = |t: &str| super::enum_members(t).collect::<Vec<_>>();
        assert_eq!(members("enum('x','y')"), ["x", "y"]);
        assert_eq!(members("enum('','a,b','it''s')"), ["", "a,b", "it's"]);
        assert_eq!(members("enum('x','')"), ["x", ""]);
        assert_eq!(members("enum('''')"), ["'"]);
        assert!(members("int(11)").is_empty());
    }

    #[test]
    fn a_decimal_holds_whole_numbers_of_its_precision_less_its_scale() {
        assert_eq!(super::decimal_max("decimal(5,2)"), Some(999));
        assert_eq!(
            super::decimal_max("decimal(10,0) unsigned"),
            Some(9_999_999_999)
        );
        assert_eq!(super::decimal_max("decimal(3,3)"), Some(0));
        assert_eq!(super::decimal_max("decimal(65,30)"), None);
    }

    #[test]
    fn load_data_fields_escape_what_the_format_reserves() {
        use super::{Value, write_field};
        let mut out = Vec::new();
        let mut scratch = String::new();
        for v in [
            Value::Bytes(b"a\\b\tc\nd\0e".to_vec()),
            Value::Text("plain".into()),
            Value::Int(-42),
            Value::Null,
            Value::Double(0.5),
            Value::Date {
                year: 2026,
                month: 2,
                day: 3,
            },
        ] {
            write_field(&v, &mut out, &mut scratch);
            out.push(b'|');
        }
        assert_eq!(
            out,
            b"a\\\\b\\tc\\nd\\0e|plain|-42|\\N|5e-1|2026-02-03|".to_vec()
        );
    }

    #[test]
    fn load_data_escapes_agree_with_a_byte_by_byte_escape() {
        // Strings drawn from the reserved bytes and two plain ones, in every mix: runs of one
        // kind, NULs next to the others, at the start and at the end.
        let alphabet = [0u8, b'\\', b'\t', b'\n', b'a', 0xff];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len % 40)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let mut expected = Vec::new();
            for &b in &bytes {
                match b {
                    b'\\' => expected.extend_from_slice(b"\\\\"),
                    b'\t' => expected.extend_from_slice(b"\\t"),
                    b'\n' => expected.extend_from_slice(b"\\n"),
                    0 => expected.extend_from_slice(b"\\0"),
                    b => expected.push(b),
                }
            }
            let mut out = Vec::new();
            super::escape_field(&bytes, &mut out);
            assert_eq!(out, expected, "{bytes:?}");
        }
    }

    #[test]
    fn backup_stages_from_mariadb_10_4() {
        assert!(super::has_backup_stages("10.11.6-MariaDB-0+deb12u1"));
        assert!(super::has_backup_stages("10.4.1-MariaDB"));
        assert!(!super::has_backup_stages("10.3.39-MariaDB"));
        assert!(!super::has_backup_stages("8.0.36"));
    }

    #[test]
    fn empty_table_bulk_insert_only_where_mariadb_fixed_it() {
        use super::has_empty_table_bulk_insert as bulk;
        assert!(bulk("10.11.19-MariaDB-0+deb12u1"));
        assert!(bulk("10.11.11-MariaDB"));
        assert!(!bulk("10.11.10-MariaDB"));
        assert!(!bulk("10.6.20-MariaDB"));
        assert!(bulk("11.4.5-MariaDB"));
        assert!(!bulk("11.4.4-MariaDB"));
        assert!(!bulk("11.6.2-MariaDB"));
        assert!(bulk("11.8.3-MariaDB"));
        assert!(!bulk("8.0.36"));
    }
}

/// Longest wait for the lock that holds commits while a shared snapshot starts, when the
/// user asked for several connections (`--jobs N`).
const LOCK_WAIT_SECONDS: u32 = 10;

/// The same when only `--jobs auto` asked: it reads over one connection rather than keep
/// commits queued behind a lock it waits for.
const AUTO_LOCK_WAIT_SECONDS: u32 = 2;

fn set_repeatable_read(conn: &mut Conn, url: &str, ctx: &str) -> Result<()> {
    conn.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .map_err(|e| query_err(url, ctx, e))
}

/// Not `READ ONLY` (nor is mysqldump's): MariaDB refuses even a temporary table in a read-only
/// transaction, and a scan keeps its keys in one ([`Source::load_key_table`]). The walk only
/// reads the source's tables.
fn start_snapshot(conn: &mut Conn, url: &str, ctx: &str) -> Result<()> {
    conn.query_drop("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        .map_err(|e| query_err(url, ctx, e))
}

/// Whether statements on temporary tables of the session stay out of the binary log: they go
/// to it (and on to replicas) unless it logs rows, so then the session's logging is turned
/// off, which takes a privilege and cannot be done inside a transaction (so this runs before
/// the snapshot starts). The session only ever reads the source's tables.
fn unlogged_session(conn: &mut Conn) -> bool {
    match conn.query_first::<(i64, String), _>("SELECT @@log_bin, @@binlog_format") {
        Ok(Some((1, format))) if !format.eq_ignore_ascii_case("ROW") => {
            conn.query_drop("SET SESSION sql_log_bin = 0").is_ok()
        }
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Whether the session (inside its snapshot) can create and drop a key table: the user needs
/// CREATE TEMPORARY TABLES, and the server must allow one in the transaction.
fn probe_key_tables(conn: &mut Conn) -> bool {
    let name = MYSQL.quote_ident("_partialdump_probe");
    conn.query_drop(format!(
        "CREATE TEMPORARY TABLE {name} ({} BIGINT NOT NULL PRIMARY KEY) ENGINE=MEMORY",
        MYSQL.quote_ident(&super::key_column(0))
    ))
    .and_then(|()| conn.query_drop(format!("DROP TEMPORARY TABLE {name}")))
    .is_ok()
}

/// Bytes of keys in one INSERT into a key table (and at most the packet limit): each INSERT
/// is a query buffer on both ends; 1 MiB measured no faster for 600,000 keys.
const KEY_INSERT_BYTES: usize = 256 << 10;

/// The server's clock in UTC, to the microsecond.
fn server_now(conn: &mut Conn, url: &str, ctx: &str) -> Result<String> {
    let at: Option<String> = conn
        .query_first("SELECT DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%dT%H:%i:%s.%fZ')")
        .map_err(|e| query_err(url, ctx, e))?;
    Ok(at.unwrap_or_default())
}

fn text_rows<T: mysql::prelude::FromRow>(
    conn: &mut Conn,
    url: &str,
    sql: &str,
    context: &str,
) -> Result<Vec<T>> {
    conn.query(sql).map_err(|e| query_err(url, context, e))
}

/// Removes the ` AUTO_INCREMENT=<n>` table option.
fn strip_auto_increment(ddl: &str) -> String {
    match ddl.rfind(" AUTO_INCREMENT=") {
        Some(i) => {
            let rest = &ddl[i + " AUTO_INCREMENT=".len()..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            format!("{}{}", &ddl[..i], &rest[digits..])
        }
        None => ddl.to_string(),
    }
}

fn query_err(url: &str, context: &str, e: mysql::Error) -> Error {
    Error::Query {
        url: url.to_string(),
        context: context.to_string(),
        reason: reason(&e),
    }
}

/// What went wrong, as the server says it (`ERROR 1146 (42S02): Table 'x' doesn't exist`),
/// without the driver's `MySqlError { … }` around it; the driver's words for other errors.
fn reason(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(me) => me.to_string(),
        other => other.to_string(),
    }
}

impl Source for MySqlSource {
    fn url(&self) -> &str {
        &self.url
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &MYSQL
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect(&mut self.conn, &self.url)
    }

    fn schema_ddl(&mut self, table: &str) -> Result<Vec<String>> {
        let url = self.url.clone();
        let row: Option<(String, String)> = self
            .conn
            .query_first(format!("SHOW CREATE TABLE {}", MYSQL.quote_ident(table)))
            .map_err(|e| query_err(&url, &format!("reading the definition of {table}"), e))?;
        let ddl = row.map(|(_, ddl)| ddl).unwrap_or_default();
        // The next id is not schema, and would make two dumps of one schema differ.
        let ddl = strip_auto_increment(&ddl);
        Ok(vec![ddl.replacen(
            "CREATE TABLE ",
            "CREATE TABLE IF NOT EXISTS ",
            1,
        )])
    }

    fn insert_triggers(&mut self) -> Result<Vec<String>> {
        let url = self.url.clone();
        text_rows(
            &mut self.conn,
            &url,
            "SELECT DISTINCT EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS \
             WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_MANIPULATION = 'INSERT'",
            "reading the triggers",
        )
    }

    fn begin_snapshot(&mut self) -> Result<String> {
        let ctx = "starting the consistent snapshot";
        set_repeatable_read(&mut self.conn, &self.url, ctx)?;
        self.key_tables = (!unlogged_session(&mut self.conn)).then_some(false);
        start_snapshot(&mut self.conn, &self.url, ctx)?;
        server_now(&mut self.conn, &self.url, ctx)
    }

    /// mydumper's way, with the lightest lock the server has: a separate connection holds
    /// commits for a moment (MariaDB 10.4+: `BACKUP STAGE BLOCK_COMMIT`; otherwise `FLUSH
    /// TABLES WITH READ LOCK`) while every reading connection starts its snapshot, so no
    /// transaction can commit in between; then it lets go. Writers are never failed, only
    /// held for those few statements; waiting for the lock is capped, so the dump fails with
    /// advice rather than keep writers queued behind it.
    ///
    /// Without backup stages that lock is `FLUSH TABLES WITH READ LOCK`, which waits for every
    /// running statement and holds every write meanwhile: taken only when the user asked for
    /// several connections, never for `lightest_lock_only`.
    fn begin_shared_snapshot(
        &mut self,
        extra: usize,
        lightest_lock_only: bool,
    ) -> Result<Option<SharedSnapshot>> {
        let ctx = "starting the consistent snapshot";
        let version: Option<String> = self
            .conn
            .query_first("SELECT VERSION()")
            .map_err(|e| query_err(&self.url, ctx, e))?;
        let (hold, release): (&[&str], &str) = if has_backup_stages(&version.unwrap_or_default()) {
            (
                &["BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT"],
                "BACKUP STAGE END",
            )
        } else if lightest_lock_only {
            return Ok(None);
        } else {
            (&["FLUSH TABLES WITH READ LOCK"], "UNLOCK TABLES")
        };
        let wait = if lightest_lock_only {
            AUTO_LOCK_WAIT_SECONDS
        } else {
            LOCK_WAIT_SECONDS
        };
        let mut others = Vec::with_capacity(extra);
        for _ in 0..extra {
            others.push(MySqlSource {
                conn: open(self.opts.clone(), &self.url)?,
                opts: self.opts.clone(),
                url: self.url.clone(),
                max_packet: self.max_packet,
                key_tables: None,
                local_infile: None,
            });
        }
        let mut locker = open(self.opts.clone(), &self.url)?;
        for s in std::iter::once(&mut *self).chain(others.iter_mut()) {
            set_repeatable_read(&mut s.conn, &s.url, ctx)?;
            s.key_tables = (!unlogged_session(&mut s.conn)).then_some(false);
        }
        let n = extra + 1;
        locker
            .query_drop(format!("SET SESSION lock_wait_timeout = {wait}"))
            .and_then(|()| hold.iter().try_for_each(|sql| locker.query_drop(sql)))
            .map_err(|e| Error::Query {
                url: self.url.clone(),
                context: format!(
                    "holding commits for a moment, so {n} connections start one snapshot{}",
                    if lightest_lock_only {
                        String::new()
                    } else {
                        format!(" (--jobs {n})")
                    }
                ),
                reason: format!(
                    "{}. Reading over several connections needs the RELOAD privilege, and no \
                     other backup holding that lock for more than {wait} s; grant \
                     RELOAD or retry later, or use --jobs 1 (one connection, no lock).",
                    reason(&e)
                ),
            })?;
        for s in std::iter::once(&mut *self).chain(others.iter_mut()) {
            start_snapshot(&mut s.conn, &s.url, ctx)?;
        }
        locker
            .query_drop(release)
            .map_err(|e| query_err(&self.url, ctx, e))?;
        let at = server_now(&mut self.conn, &self.url, ctx)?;
        Ok(Some(SharedSnapshot {
            at,
            connections: others
                .into_iter()
                .map(|s| Box::new(s) as Box<dyn Source>)
                .collect(),
        }))
    }

    fn end_snapshot(&mut self) -> Result<()> {
        let url = self.url.clone();
        self.conn
            .query_drop("COMMIT")
            .map_err(|e| query_err(&url, "ending the snapshot", e))
    }

    fn max_query_bytes(&self) -> usize {
        (self.max_packet.saturating_sub(1024)).clamp(64 << 10, 8 << 20)
    }

    fn key_tables(&mut self) -> bool {
        *self
            .key_tables
            .get_or_insert_with(|| probe_key_tables(&mut self.conn))
    }

    /// One `EXPLAIN` of a `UNION ALL` of `SELECT 1 FROM t WHERE c = v`, one part a probe: the
    /// optimizer estimates each part's rows by a dive into the index the column leads (on a
    /// table of 1.2 million order lines, four warehouses, 596,856 for one of them, which holds
    /// 299,960; on tenant-keys' tasks 86,582 for the tenant of 40,000 and 3,270 for one of
    /// 3,270). Each part's row names it by its `id`, from 1.
    fn value_rows(&mut self, probes: &[(&str, &str, &Value)]) -> Result<Vec<Option<u64>>> {
        let mut found = vec![None; probes.len()];
        if probes.is_empty() {
            return Ok(found);
        }
        let parts: Vec<String> = probes
            .iter()
            .map(|(t, c, v)| {
                let mut value = String::new();
                MYSQL.write_literal(v, &mut value);
                format!(
                    "SELECT 1 FROM {} WHERE {} = {value}",
                    MYSQL.quote_ident(t),
                    MYSQL.quote_ident(c)
                )
            })
            .collect();
        let sql = format!("EXPLAIN {}", parts.join(" UNION ALL "));
        let rows: Vec<mysql::Row> = self
            .conn
            .query(&sql)
            .map_err(|e| query_err(&self.url, "estimating rows of a value", e))?;
        for row in rows {
            let number = |name: &str| row.get_opt::<u64, _>(name).and_then(|v| v.ok());
            if let (Some(id), Some(n)) = (number("id"), number("rows"))
                && let Some(slot) = usize::try_from(id)
                    .ok()
                    .and_then(|id| id.checked_sub(1))
                    .and_then(|i| found.get_mut(i))
            {
                *slot = Some(n);
            }
        }
        Ok(found)
    }

    /// A MEMORY table (hash index: one probe per scanned row), sized for its keys, filled by
    /// `LOAD DATA LOCAL INFILE` where the server takes it, else by multi-row INSERTs of up to
    /// KEY_INSERT_BYTES.
    fn load_key_table(
        &mut self,
        name: &str,
        width: usize,
        n: usize,
        key: &mut dyn FnMut(usize, &mut String),
        context: &str,
    ) -> Result<()> {
        let name = MYSQL.quote_ident(name);
        let cols: Vec<String> = (0..width)
            .map(|i| MYSQL.quote_ident(&super::key_column(i)))
            .collect();
        // A MEMORY table may grow to max_heap_table_size as it was at its creation: room for
        // every key whatever the default (a one-BIGINT row and its hash entry take about 40
        // bytes; 64 a column leaves some over).
        let room = (n as u64 * 64 * width as u64).max(16 << 20);
        let create = format!(
            "CREATE TEMPORARY TABLE {name} ({}, PRIMARY KEY ({})) ENGINE=MEMORY",
            cols.iter()
                .map(|c| format!("{c} BIGINT NOT NULL"))
                .collect::<Vec<_>>()
                .join(", "),
            cols.join(", ")
        );
        let url = self.url.clone();
        let err = |e: mysql::Error| Error::Query {
            url: url.clone(),
            context: context.to_string(),
            reason: format!(
                "{}. The scan keeps its keys in a temporary table of its session; with \
                 --lookups-only the dump reads those rows by key instead, without one",
                reason(&e)
            ),
        };
        self.conn
            .query_drop(format!("SET SESSION max_heap_table_size = {room}"))
            .map_err(err)?;
        self.conn.query_drop(create).map_err(err)?;
        if self.load_keys_locally(&name, &cols, n, key).map_err(err)? {
            return Ok(());
        }
        let limit = KEY_INSERT_BYTES.min(self.max_query_bytes());
        let head = format!("INSERT INTO {name} VALUES ");
        let mut sql = String::with_capacity(limit + 256);
        let mut i = 0;
        while i < n {
            sql.clear();
            sql.push_str(&head);
            while i < n && sql.len() < limit {
                if sql.len() > head.len() {
                    sql.push(',');
                }
                sql.push('(');
                key(i, &mut sql);
                sql.push(')');
                i += 1;
            }
            self.conn.query_drop(&sql).map_err(err)?;
        }
        Ok(())
    }

    fn drop_key_table(&mut self, name: &str, context: &str) -> Result<()> {
        let sql = format!("DROP TEMPORARY TABLE {}", MYSQL.quote_ident(name));
        self.conn
            .query_drop(sql)
            .map_err(|e| query_err(&self.url, context, e))
    }

    fn query(
        &mut self,
        sql: &str,
        context: &str,
        f: &mut dyn FnMut(&mut Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let url = self.url.clone();
        let stmt = self
            .conn
            .prep(sql)
            .map_err(|e| query_err(&url, context, e))?;
        let mut result = self
            .conn
            .exec_iter(&stmt, ())
            .map_err(|e| query_err(&url, context, e))?;
        let mut failure = None;
        let mut values = Vec::new();
        // The result's columns, taken from its first row once: each row's own handle on them
        // is an atomic count, and taking it for every row was 1.6% of the large tenant's CPU.
        let mut columns: Option<std::sync::Arc<[mysql::Column]>> = None;
        for row in result.by_ref() {
            let row = row.map_err(|e| query_err(&url, context, e))?;
            let columns = columns.get_or_insert_with(|| row.columns());
            values.clear();
            for (v, col) in row.unwrap().into_iter().zip(columns.iter()) {
                values.push(convert(v, col));
            }
            if let Err(e) = f(&mut values) {
                failure = Some(e);
                break;
            }
        }
        drop(result);
        // No reply comes for a close: it costs no round trip.
        self.conn
            .close(stmt)
            .map_err(|e| query_err(&url, context, e))?;
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Turns a binary-protocol value into a [`Value`], using the column's type and character set
/// to tell text from bytes and DATE from DATETIME.
fn convert(v: mysql::Value, col: &mysql::Column) -> Value {
    use mysql::Value as M;
    match v {
        M::NULL => Value::Null,
        M::Int(i) => Value::Int(i),
        // One representation per number, so a key read from an INT column equals the same key
        // read from a BIGINT UNSIGNED column.
        M::UInt(u) => match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(u),
        },
        M::Float(f) => Value::Float(f),
        M::Double(d) => Value::Double(d),
        M::Bytes(b) => match col.column_type() {
            // The server writes decimals in ASCII: taken as they are, not copied.
            ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => Value::Decimal(
                crate::engine::value::into_text(b)
                    .unwrap_or_else(|b| String::from_utf8_lossy(&b).into_owned()),
            ),
            ColumnType::MYSQL_TYPE_BIT | ColumnType::MYSQL_TYPE_GEOMETRY => Value::Bytes(b),
            _ if col.character_set() == BINARY_CHARSET
                && !col.flags().contains(ColumnFlags::ENUM_FLAG)
                && !col.flags().contains(ColumnFlags::SET_FLAG)
                && col.column_type() != ColumnType::MYSQL_TYPE_JSON =>
            {
                Value::Bytes(b)
            }
            _ => match crate::engine::value::into_text(b) {
                Ok(s) => Value::Text(s),
                Err(b) => Value::Bytes(b),
            },
        },
        M::Date(year, month, day, hour, minute, second, micro) => match col.column_type() {
            ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => {
                Value::Date { year, month, day }
            }
            _ => Value::DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micro,
            },
        },
        M::Time(negative, days, hours, minutes, seconds, micro) => Value::Time {
            negative,
            hours: days * 24 + u32::from(hours),
            minutes,
            seconds,
            micro,
        },
    }
}

/// The largest whole number of a `decimal(p,s)` (`COLUMN_TYPE`): 10^(p-s) - 1; None where it
/// passes 64 bits.
fn decimal_max(column_type: &str) -> Option<u64> {
    let inner = column_type.split_once('(')?.1.split_once(')')?.0;
    let (p, s) = inner.split_once(',').unwrap_or((inner, "0"));
    let whole = p
        .trim()
        .parse::<u32>()
        .ok()?
        .checked_sub(s.trim().parse::<u32>().ok()?)?;
    10u64.checked_pow(whole).map(|n| n - 1)
}

/// The members of an ENUM or SET as `information_schema.COLUMNS.COLUMN_TYPE` lists them
/// (`enum('a','it''s','')`), unquoted.
fn enum_members(column_type: &str) -> impl Iterator<Item = String> + '_ {
    let list = column_type
        .find('(')
        .and_then(|open| column_type.get(open + 1..column_type.rfind(')')?))
        .unwrap_or("");
    let mut chars = list.chars().peekable();
    std::iter::from_fn(move || {
        // Up to the member's opening quote, past the comma before it.
        while chars.next_if(|&c| c != '\'').is_some() {}
        chars.next()?;
        let mut member = String::new();
        while let Some(c) = chars.next() {
            // A quote ends the member unless another follows it ('' is a quote within).
            if c == '\'' && chars.next_if_eq(&'\'').is_none() {
                return Some(member);
            }
            member.push(c);
        }
        Some(member)
    })
}

/// Tables, columns, keys and foreign keys of the connection's current database.
pub fn introspect(conn: &mut Conn, url: &str) -> Result<Schema> {
    let names: Vec<(String, String, Option<u64>, Option<String>)> = text_rows(
        conn,
        url,
        "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, ENGINE FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
        "reading the table list",
    )?;
    let mut others = BTreeMap::new();
    let mut tables: BTreeMap<String, Table> = names
        .into_iter()
        .filter(|(n, kind, ..)| match kind.as_str() {
            // MariaDB lists a system-versioned table as such.
            "BASE TABLE" | "SYSTEM VERSIONED" => true,
            // Named so that a graph naming one is told what it is (a session's own
            // temporary tables, listed as TEMPORARY, are left out).
            "VIEW" | "SYSTEM VIEW" | "SEQUENCE" => {
                let what = if kind == "SEQUENCE" {
                    "sequence"
                } else {
                    "view"
                };
                others.insert(n.clone(), what);
                false
            }
            _ => false,
        })
        .map(|(n, _, rows, engine)| {
            (
                n.clone(),
                Table {
                    name: n,
                    columns: Vec::new(),
                    primary_key: Vec::new(),
                    foreign_keys: Vec::new(),
                    indexes: Vec::new(),
                    unique: Vec::new(),
                    // InnoDB's estimate; 0 when its statistics have not been gathered yet,
                    // which says nothing.
                    rows_estimate: rows.filter(|&r| r > 0),
                    engine,
                    rowid: None,
                    outside_refs: Vec::new(),
                },
            )
        })
        .collect();
    type ColumnRow = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<u64>,
        Option<u64>,
    );
    let cols: Vec<ColumnRow> = text_rows(
        conn,
        url,
        "SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE, DATA_TYPE, EXTRA, CHARACTER_SET_NAME, \
         COLLATION_NAME, IF(COLUMN_DEFAULT IS NULL, 'N', 'Y'), COLUMN_TYPE, \
         CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION",
        "reading the columns",
    )?;
    for (
        t,
        name,
        nullable,
        data_type,
        extra,
        charset,
        collation,
        default,
        column_type,
        max_chars,
        max_bytes,
    ) in cols
    {
        if let Some(table) = tables.get_mut(&t) {
            let extra = extra.to_uppercase();
            // MySQL 8 marks expression defaults DEFAULT_GENERATED: those are ordinary columns.
            let generated = extra.contains("VIRTUAL GENERATED")
                || extra.contains("STORED GENERATED")
                || extra == "VIRTUAL"
                || extra == "PERSISTENT";
            table.columns.push(Column {
                name,
                nullable: nullable == "YES",
                generated,
                defaulted: nullable == "YES"
                    || generated
                    || default == "Y"
                    || extra.contains("AUTO_INCREMENT"),
                members: matches!(data_type.to_lowercase().as_str(), "enum" | "set")
                    .then(|| enum_members(&column_type).collect()),
                max_chars: max_chars.filter(|_| {
                    matches!(
                        data_type.to_lowercase().as_str(),
                        "char" | "varchar" | "binary" | "varbinary"
                    )
                }),
                max_bytes: max_bytes.filter(|_| {
                    data_type.to_lowercase().ends_with("text")
                        || data_type.to_lowercase().ends_with("blob")
                }),
                max_number: data_type
                    .eq_ignore_ascii_case("decimal")
                    .then(|| decimal_max(&column_type))
                    .flatten(),
                holds_only: match data_type.to_lowercase().as_str() {
                    "tinyint" | "smallint" | "mediumint" | "int" | "bigint" | "decimal"
                    | "float" | "double" => Some(crate::schema::Holds::Numbers),
                    "date" | "datetime" | "timestamp" => Some(crate::schema::Holds::Dates),
                    "year" | "time" | "bit" | "inet4" | "inet6" => {
                        Some(crate::schema::Holds::Other)
                    }
                    "json" => Some(crate::schema::Holds::Json),
                    "uuid" => Some(crate::schema::Holds::Uuid),
                    _ => None,
                },
                data_type: data_type.to_lowercase(),
                charset: charset.map(|c| c.to_lowercase()),
                collation: collation.map(|c| c.to_lowercase()),
            });
        }
    }
    // MariaDB's JSON is a LONGTEXT with a check `json_valid(`column`)` (its name the column's).
    // MySQL lacks TABLE_NAME there (and has JSON of its own), MariaDB before 10.2.22 the
    // table: either fails, and says there is none. 0.4 ms for 13 tables, 1.5 ms for 300.
    let checks: Vec<(String, String)> = conn
        .query(
            "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() AND LEVEL = 'Column' \
             AND CHECK_CLAUSE = CONCAT('json_valid(`', REPLACE(CONSTRAINT_NAME, '`', '``'), '`)')",
        )
        .unwrap_or_default();
    for (t, c) in checks {
        if let Some(column) = tables
            .get_mut(&t)
            .and_then(|t| t.columns.iter_mut().find(|col| col.name == c))
        {
            column.holds_only = Some(crate::schema::Holds::Json);
        }
    }
    // The primary key is the index named PRIMARY, its columns in order here too: one query of
    // information_schema less (5 ms of the 38 ms that a schema of 300 tables took to read).
    let idx: Vec<(String, String, String, i64)> = text_rows(
        conn,
        url,
        "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        "reading the indexes",
    )?;
    let mut last: Option<(String, String)> = None;
    for (t, i, c, non_unique) in idx {
        let Some(table) = tables.get_mut(&t) else {
            continue;
        };
        if i == "PRIMARY" {
            table.primary_key.push(c.clone());
        }
        if last.as_ref() != Some(&(t.clone(), i.clone())) {
            table.indexes.push(Vec::new());
            if non_unique == 0 {
                table.unique.push(Vec::new());
            }
            last = Some((t, i));
        }
        if let Some(cols) = table.indexes.last_mut() {
            cols.push(c.clone());
        }
        if non_unique == 0
            && let Some(cols) = table.unique.last_mut()
        {
            cols.push(c);
        }
    }
    let fks: Vec<(String, String, String, String, String, String)> = text_rows(
        conn,
        url,
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, \
         IF(REFERENCED_TABLE_SCHEMA = DATABASE(), '', REFERENCED_TABLE_SCHEMA), \
         REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
        "reading the foreign keys",
    )?;
    for (t, cname, col, rs, rt, rc) in fks {
        let Some(table) = tables.get_mut(&t) else {
            continue;
        };
        // A reference into another database (named; this one's is empty): not followed (the
        // dump holds one database), but told of (see [`Table::outside_refs`]).
        if !rs.is_empty() {
            let to = format!("`{rs}`.`{rt}`");
            match table.outside_refs.iter_mut().find(|(n, _, _)| *n == cname) {
                Some((_, cols, _)) => cols.push(col),
                None => table.outside_refs.push((cname, vec![col], to)),
            }
            continue;
        }
        match table.foreign_keys.iter_mut().find(|f| f.name == cname) {
            Some(fk) => {
                fk.columns.push(col);
                fk.ref_columns.push(rc);
            }
            None => table.foreign_keys.push(ForeignKey {
                name: cname,
                columns: vec![col],
                ref_table: rt,
                ref_columns: vec![rc],
            }),
        }
    }
    Ok(Schema {
        tables,
        others,
        side: Side::Source,
    })
}

/// A database being imported into: the same reads as a source, plus one write transaction.
pub struct MySqlTarget {
    db: MySqlSource,
    feed: Arc<Mutex<Feed>>,
    empty_table_bulk_insert: bool,
    /// A second connection that analyses tables about to be loaded on the bulk path (see
    /// `before_bulk_load`): None until first needed, Some(None) once it failed.
    analyser: Option<Option<Conn>>,
}

/// Whether `c` would read the bulk path's bytes (`CHARACTER SET binary`, so that a BLOB's bytes
/// go in as they are) as something other than the UTF-8 text they are:
/// - MariaDB's types that take a binary string as their binary form (16 bytes of a UUID or an
///   IPv6 address, 4 of an IPv4 one): the text `2001:db8::1:2:34`, 16 bytes long, would load
///   as the address `3230:3031:…`, and a UUID's text fails;
/// - text in a character set other than UTF-8 (latin1, utf16, …), which a binary string fills
///   byte for byte: `café` would load into a latin1 column as `cafÃ©`.
fn reads_bytes_as_other_than_text(c: &Column) -> bool {
    matches!(c.data_type.as_str(), "uuid" | "inet6" | "inet4")
        || c.charset
            .as_deref()
            .is_some_and(|cs| !matches!(cs, "utf8mb4" | "utf8mb3" | "utf8" | "binary"))
}

/// What the next `LOAD DATA LOCAL INFILE` reads: rows already encoded, then every batch that
/// arrives over `more` until its sender closes (a table loaded in one statement while the rest of
/// its rows are still being parsed).
#[derive(Default)]
struct Feed {
    data: Vec<u8>,
    more: Option<Receiver<Vec<Vec<Value>>>>,
    /// Rows that came over `more`.
    streamed: u64,
}

/// Rows in LOAD DATA's default format, appended to `out`.
fn write_rows(rows: &[Vec<Value>], out: &mut Vec<u8>, scratch: &mut String) {
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            write_field(v, out, scratch);
        }
        out.push(b'\n');
    }
}

/// The LOCAL INFILE handler: writes the encoded rows of `feed`, then encodes and writes each
/// batch of its stream as it arrives.
fn send_feed(feed: &Mutex<Feed>, out: &mut mysql::LocalInfile<'_>) -> std::io::Result<()> {
    let poisoned = |_| std::io::Error::other("the bulk-load feed's lock is poisoned");
    let (data, more) = {
        let mut f = feed.lock().map_err(poisoned)?;
        (std::mem::take(&mut f.data), f.more.take())
    };
    out.write_all(&data)?;
    let Some(more) = more else {
        return Ok(());
    };
    let (mut buf, mut scratch, mut streamed) = (data, String::new(), 0);
    for batch in more {
        buf.clear();
        write_rows(&batch, &mut buf, &mut scratch);
        out.write_all(&buf)?;
        streamed += batch.len() as u64;
    }
    feed.lock().map_err(poisoned)?.streamed = streamed;
    Ok(())
}

/// `bytes` with LOAD DATA's reserved bytes (backslash, tab, newline, NUL) escaped. The runs
/// between them are found by vectorised searches and copied at once; the next NUL and the next
/// of the other three are each searched for once, not again at every escape.
fn escape_field(bytes: &[u8], out: &mut Vec<u8>) {
    let after = |from: usize, found: Option<usize>| found.map(|i| from + i);
    let mut start = 0;
    let mut nul = memchr::memchr(0, bytes);
    let mut other = memchr::memchr3(b'\\', b'\t', b'\n', bytes);
    while let Some(at) = nul.into_iter().chain(other).min() {
        out.extend_from_slice(&bytes[start..at]);
        out.extend_from_slice(match bytes[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\0",
        });
        start = at + 1;
        if nul == Some(at) {
            nul = after(start, memchr::memchr(0, &bytes[start..]));
        } else {
            other = after(start, memchr::memchr3(b'\\', b'\t', b'\n', &bytes[start..]));
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// One value as a field of LOAD DATA's default format (tab-separated, backslash escapes,
/// `\N` for NULL), bytes as they are. `scratch` holds the text of numbers and temporals.
fn write_field(v: &Value, out: &mut Vec<u8>, scratch: &mut String) {
    match v {
        Value::Null => out.extend_from_slice(b"\\N"),
        // Digits need no escape.
        Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
        Value::UInt(u) => out.extend_from_slice(itoa::Buffer::new().format(*u).as_bytes()),
        Value::Text(s) | Value::Decimal(s) => escape_field(s.as_bytes(), out),
        Value::Bytes(b) => escape_field(b, out),
        other => {
            // Numbers and temporals: the same text as the literal, without quotes.
            scratch.clear();
            MYSQL.write_literal(other, scratch);
            escape_field(scratch.trim_matches('\'').as_bytes(), out);
        }
    }
}

impl MySqlTarget {
    pub fn connect(m: &MySqlUrl, url: String) -> Result<MySqlTarget> {
        // LOAD DATA LOCAL INFILE reads from this feed, never from a file.
        let feed: Arc<Mutex<Feed>> = Arc::default();
        let handler_feed = feed.clone();
        let handler =
            mysql::LocalInfileHandler::new(move |_name, out| send_feed(&handler_feed, out));
        let mut conn = connect_with(m, &url, Some(handler))?;
        let server: Option<(u64, String)> = conn
            .query_first("SELECT @@max_allowed_packet, VERSION()")
            .map_err(|e| query_err(&url, "reading max_allowed_packet", e))?;
        let (max_packet, version) = server.unwrap_or((4 << 20, String::new()));
        Ok(MySqlTarget {
            db: MySqlSource {
                conn,
                // Further connections only ever read.
                opts: options(m, None).into(),
                url,
                max_packet: max_packet as usize,
                key_tables: None,
                local_infile: None,
            },
            feed,
            empty_table_bulk_insert: has_empty_table_bulk_insert(&version),
            analyser: None,
        })
    }

    /// Sets a boolean session variable (`foreign_key_checks`, `unique_checks`).
    fn switch(&mut self, variable: &str, on: bool) -> Result<()> {
        self.run(
            &format!("SET {variable} = {}", u8::from(on)),
            &format!("switching {variable}"),
        )
    }

    fn run(&mut self, sql: &str, context: &str) -> Result<()> {
        let url = self.db.url.clone();
        self.db
            .conn
            .query_drop(sql)
            .map_err(|e| query_err(&url, context, e))
    }
}

super::source_via_db!(MySqlTarget);

/// The import session's SQL mode: a value the target cannot hold is an error, not a warning.
const STRICT_MODE: &str =
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

impl Target for MySqlTarget {
    fn begin(&mut self, disable_fk_checks: bool) -> Result<()> {
        let ctx = "starting the import transaction";
        self.run(STRICT_MODE, ctx)?;
        self.run(
            if disable_fk_checks {
                "SET foreign_key_checks = 0"
            } else {
                "SET foreign_key_checks = 1"
            },
            ctx,
        )?;
        self.run("START TRANSACTION", ctx)
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<u64, String> {
        // The server would drop the connection without a word on its side.
        if sql.len() >= self.db.max_packet {
            return Err(format!(
                "the statement is {} bytes, more than the target's max_allowed_packet ({} \
                 bytes), so the server would refuse it (one row this large makes a statement \
                 this large). Raise it on the target to at least {} (SET GLOBAL \
                 max_allowed_packet = {}, as a user allowed to; new connections take it). The \
                 bulk load (LOAD DATA LOCAL INFILE, without --no-bulk-load, where the server \
                 takes local files) streams rows in pieces and needs no such room",
                sql.len(),
                self.db.max_packet,
                sql.len() + 1,
                (sql.len() + 1).next_multiple_of(1024)
            ));
        }
        match self.db.conn.query_iter(sql) {
            Ok(r) => {
                let n = r.affected_rows();
                drop(r);
                Ok(n)
            }
            Err(mysql::Error::MySqlError(e)) => Err(e.message),
            Err(e) => Err(reason(&e)),
        }
    }

    fn execute_out_of_strict_mode(
        &mut self,
        sql: &str,
    ) -> std::result::Result<(u64, Vec<(u16, String)>), String> {
        let set = |t: &mut Self, mode: &str| {
            t.db.conn
                .query_drop(mode)
                .map_err(|e| format!("setting the SQL mode: {}", reason(&e)))
        };
        set(
            self,
            "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
        )?;
        let ran = self.execute(sql).and_then(|n| {
            let count = self
                .db
                .conn
                .query_first::<u64, _>("SELECT @@warning_count")
                .map_err(|e| reason(&e))?
                .unwrap_or(0);
            let warnings: Vec<(String, u16, String)> = self
                .db
                .conn
                .query("SHOW WARNINGS")
                .map_err(|e| reason(&e))?;
            if count > warnings.len() as u64 {
                return Err(format!(
                    "the statement gave {count} warnings, more than the server lists \
                     (max_error_count), so they cannot all be checked"
                ));
            }
            Ok((n, warnings.into_iter().map(|(_, c, m)| (c, m)).collect()))
        });
        // Strict again whatever happened, for the statements after it.
        set(self, STRICT_MODE)?;
        ran
    }

    fn bulk_load(
        &mut self,
        table: &Table,
        columns: &[String],
        rows: &[Vec<Value>],
        more: Option<Receiver<Vec<Vec<Value>>>>,
    ) -> Option<std::result::Result<u64, String>> {
        let mut data = Vec::with_capacity(rows.len() * 64);
        write_rows(rows, &mut data, &mut String::new());
        match self.feed.lock() {
            Ok(mut f) => {
                *f = Feed {
                    data,
                    more,
                    streamed: 0,
                }
            }
            Err(_) => return Some(Err("the bulk-load feed's lock is poisoned".into())),
        }
        // The rows go as bytes (`CHARACTER SET binary`: a BLOB's bytes as they are), so a
        // column that would read bytes as anything but UTF-8 text takes them through a
        // variable, as that text.
        let mut cols: Vec<String> = Vec::with_capacity(columns.len());
        let mut set: Vec<String> = Vec::new();
        for (i, c) in columns.iter().enumerate() {
            if table.column(c).is_some_and(reads_bytes_as_other_than_text) {
                cols.push(format!("@pd_{i}"));
                set.push(format!(
                    "{} = CONVERT(@pd_{i} USING utf8mb4)",
                    MYSQL.quote_ident(c)
                ));
            } else {
                cols.push(MYSQL.quote_ident(c));
            }
        }
        let sql = format!(
            "LOAD DATA LOCAL INFILE 'partialdump-rows' INTO TABLE {} CHARACTER SET binary \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({}){}{}",
            MYSQL.quote_ident(&table.name),
            cols.join(","),
            if set.is_empty() { "" } else { " SET " },
            set.join(", ")
        );
        let loaded = match self.db.conn.query_iter(&sql) {
            Ok(r) => {
                let out = (r.affected_rows(), u64::from(r.warnings()));
                drop(r);
                Ok(out)
            }
            Err(mysql::Error::MySqlError(e)) => Err(e.message),
            Err(e) => Err(reason(&e)),
        };
        // The stream is closed whatever happened: a server that never asked for the rows must
        // not leave their sender waiting.
        let streamed = match self.feed.lock() {
            Ok(mut f) => std::mem::take(&mut *f).streamed,
            Err(_) => return Some(Err("the bulk-load feed's lock is poisoned".into())),
        };
        let (affected, warnings) = match loaded {
            Ok(out) => out,
            Err(msg) => return Some(Err(msg)),
        };
        let total = rows.len() as u64 + streamed;
        // LOCAL loads skip rows whose key exists, with a warning each (1062); any other
        // warning (a value that did not fit, a foreign key that found no row) is an error here,
        // as it would be for an INSERT.
        if warnings > 0 {
            let listed: Vec<(String, u32, String)> =
                self.db.conn.query("SHOW WARNINGS").unwrap_or_default();
            if let Some((_, _, message)) = listed.into_iter().find(|(_, code, _)| *code != 1062) {
                return Some(Err(message));
            }
            let skipped = total - affected.min(total);
            if warnings > skipped {
                return Some(Err(format!("{warnings} warnings while loading")));
            }
        }
        Some(Ok(affected))
    }

    fn execute_ddl(&mut self, sql: &str) -> std::result::Result<(), String> {
        // DDL commits implicitly; the data transaction starts again right after it.
        self.execute(sql)?;
        self.execute("START TRANSACTION").map(|_| ())
    }

    fn foreign_key_checks(&mut self, on: bool) -> Result<()> {
        self.switch("foreign_key_checks", on)
    }

    fn empty_table_bulk_insert(&self) -> bool {
        self.empty_table_bulk_insert
    }

    /// `ANALYZE LOCAL TABLE`, on a connection of its own, of a table about to be loaded on the
    /// bulk path. While a table is loaded that way, InnoDB's statistics task gives up on it
    /// without noting that it ran (`dict_stats_update_persistent` returns early for a table
    /// under bulk insert), and every few rows the load queues the table again (its row count
    /// reads 0): the task runs without pause until the import commits, a core's worth of CPU. A
    /// table analysed within the last 10 seconds waits in that queue instead. Measured on the
    /// benchmark's large tenant (MariaDB 10.11.19, 2 cores): 0.9-3.4 s and 1.8-4.1 s of server
    /// CPU without, 0.71-0.80 s and 0.6 s with (the same as with `innodb_stats_auto_recalc`
    /// off). The import's own connection cannot do it: `ANALYZE` commits. The other connection
    /// can, at the last moment, since the import has only read the table (to see that it is
    /// empty), which `ANALYZE`'s lock allows; its lock waits are capped at a second all the
    /// same. Best effort: without it the import is only slower. LOCAL: kept out of the binary
    /// log (a replica has a statistics task of its own).
    fn before_bulk_load(&mut self, table: &str) {
        if !self.empty_table_bulk_insert {
            return;
        }
        let analyser = self.analyser.get_or_insert_with(|| {
            let mut conn = open(self.db.opts.clone(), &self.db.url).ok()?;
            conn.query_drop("SET SESSION lock_wait_timeout = 1").ok()?;
            Some(conn)
        });
        let Some(conn) = analyser else { return };
        let sql = format!("ANALYZE LOCAL TABLE {}", MYSQL.quote_ident(table));
        if conn.query_drop(sql).is_err() {
            *analyser = None;
        }
    }

    fn unique_checks(&mut self, on: bool) -> Result<()> {
        self.switch("unique_checks", on)
    }

    fn commit(&mut self) -> Result<()> {
        self.run("COMMIT", "committing the import")
    }

    fn rollback(&mut self) -> Result<()> {
        self.run("ROLLBACK", "rolling back the import")
    }
}
