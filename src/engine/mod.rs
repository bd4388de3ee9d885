//! Database engines behind one small trait each: a [`Source`] is read inside one snapshot.
//!
//! One file per engine ([`mysql`], [`sqlite`]); SQL text comes from [`crate::dialect`].

pub mod mysql;
pub mod sqlite;
pub mod url;
pub mod value;

use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::Schema;
use url::ConnUrl;
use value::Value;

/// Implements [`Source`] for a target by handing every call to its `db` field (the engine's
/// source on the same connection).
macro_rules! source_via_db {
    ($t:ty) => {
        impl $crate::engine::Source for $t {
            fn url(&self) -> &str {
                self.db.url()
            }
            fn dialect(&self) -> &'static dyn $crate::dialect::Dialect {
                self.db.dialect()
            }
            fn introspect(&mut self) -> $crate::error::Result<$crate::schema::Schema> {
                self.db.introspect()
            }
            fn schema_ddl(&mut self, table: &str) -> $crate::error::Result<Vec<String>> {
                self.db.schema_ddl(table)
            }
            fn insert_triggers(&mut self) -> $crate::error::Result<Vec<String>> {
                self.db.insert_triggers()
            }
            fn begin_snapshot(&mut self) -> $crate::error::Result<String> {
                self.db.begin_snapshot()
            }
            fn end_snapshot(&mut self) -> $crate::error::Result<()> {
                self.db.end_snapshot()
            }
            fn begin_shared_snapshot(
                &mut self,
                extra: usize,
                lightest_lock_only: bool,
            ) -> $crate::error::Result<Option<$crate::engine::SharedSnapshot>> {
                self.db.begin_shared_snapshot(extra, lightest_lock_only)
            }
            fn max_query_bytes(&self) -> usize {
                self.db.max_query_bytes()
            }
            fn query(
                &mut self,
                sql: &str,
                context: &str,
                f: &mut dyn FnMut(
                    &mut Vec<$crate::engine::value::Value>,
                ) -> $crate::error::Result<()>,
            ) -> $crate::error::Result<()> {
                self.db.query(sql, context, f)
            }
            fn key_tables(&mut self) -> bool {
                self.db.key_tables()
            }
            fn value_rows(
                &mut self,
                probes: &[(&str, &str, &$crate::engine::value::Value)],
            ) -> $crate::error::Result<Vec<Option<u64>>> {
                self.db.value_rows(probes)
            }
            fn load_key_table(
                &mut self,
                name: &str,
                width: usize,
                n: usize,
                key: &mut dyn FnMut(usize, &mut String),
                context: &str,
            ) -> $crate::error::Result<()> {
                self.db.load_key_table(name, width, n, key, context)
            }
            fn drop_key_table(&mut self, name: &str, context: &str) -> $crate::error::Result<()> {
                self.db.drop_key_table(name, context)
            }
        }
    };
}
pub(crate) use source_via_db;

/// One snapshot over several connections: its time, and the connections besides the one that
/// started it.
pub struct SharedSnapshot {
    pub at: String,
    pub connections: Vec<Box<dyn Source>>,
}

/// A database that a dump reads from.
///
/// Contract: `introspect` may be called before `begin_snapshot`; every `query` after
/// `begin_snapshot` sees the database as of that one moment, and nothing is ever written
/// to the source's tables (a scan may keep keys in temporary tables of its own session,
/// [`Source::load_key_table`], which no other session sees). Errors name the source by its
/// redacted URL.
pub trait Source: Send {
    /// The source URL with the password removed.
    fn url(&self) -> &str;

    /// The SQL dialect queries to this source are written in (and, by default, the dump).
    fn dialect(&self) -> &'static dyn Dialect;

    /// Tables, columns, keys and declared foreign keys.
    fn introspect(&mut self) -> Result<Schema>;

    /// Statements that create `table` as the source has it (`CREATE TABLE IF NOT EXISTS ...`
    /// with its keys and indexes), without trailing semicolons.
    fn schema_ddl(&mut self, table: &str) -> Result<Vec<String>>;

    /// Tables that have a trigger firing on INSERT.
    fn insert_triggers(&mut self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Starts the snapshot; returns the server's clock at that moment in UTC
    /// (`2026-11-22T06:30:00.123456Z`).
    fn begin_snapshot(&mut self) -> Result<String>;

    /// Ends the snapshot.
    fn end_snapshot(&mut self) -> Result<()>;

    /// Opens `extra` more connections and starts a snapshot on this one and on each of them,
    /// all of the same moment, so a dump can read over several connections at once. Returns
    /// the snapshot's time and the new connections (each in the snapshot; the caller ends
    /// them), or None where the engine cannot share a snapshot, or, with
    /// `lightest_lock_only`, can only under a lock that could hold up more than commits (the
    /// caller then starts one with [`Source::begin_snapshot`]).
    fn begin_shared_snapshot(
        &mut self,
        _extra: usize,
        _lightest_lock_only: bool,
    ) -> Result<Option<SharedSnapshot>> {
        Ok(None)
    }

    /// The longest query text, in bytes, to send in one statement.
    fn max_query_bytes(&self) -> usize;

    /// Runs `sql` and hands each row to `f` in the order the server returns them, in a vector
    /// that `f` may take the values from: the next row is put in the same vector, cleared, so
    /// a row costs no allocation of its own. `context` says what the query is for, for error
    /// messages.
    fn query(
        &mut self,
        sql: &str,
        context: &str,
        f: &mut dyn FnMut(&mut Vec<Value>) -> Result<()>,
    ) -> Result<()>;

    /// Whether this session, inside its snapshot, can hold keys in temporary tables for a scan
    /// to join ([`Source::load_key_table`]) rather than carry them in its text. No by default.
    fn key_tables(&mut self) -> bool {
        false
    }

    /// The source's estimate, for each probe `(table, column, value)`, of the table's rows
    /// whose column holds the value, by an index that column leads: the range a scan naming
    /// that value reads. Estimated for the one value (MySQL's `EXPLAIN`, which dives into the
    /// index), so a value holding most of a table is estimated as such, where an average over
    /// the column's values would not be. One round trip for all; None where unknown, and for
    /// every probe by default.
    fn value_rows(&mut self, probes: &[(&str, &str, &Value)]) -> Result<Vec<Option<u64>>> {
        Ok(vec![None; probes.len()])
    }

    /// Creates the temporary table `name` of this session, with `width` integer columns
    /// ([`key_column`]) that are its primary key, and fills it with `n` keys: `key(i, out)`
    /// appends the values of the i-th, comma-separated. Only where [`Source::key_tables`]
    /// said yes.
    fn load_key_table(
        &mut self,
        _name: &str,
        _width: usize,
        _n: usize,
        _key: &mut dyn FnMut(usize, &mut String),
        context: &str,
    ) -> Result<()> {
        Err(no_key_tables(self.url(), context))
    }

    /// Drops the temporary table `name` that [`Source::load_key_table`] made.
    fn drop_key_table(&mut self, _name: &str, context: &str) -> Result<()> {
        Err(no_key_tables(self.url(), context))
    }
}

/// The name of column `i` of a key table ([`Source::load_key_table`]): one no table of the
/// source is likely to have, so a filter's unqualified column names stay the scanned table's.
pub fn key_column(i: usize) -> String {
    format!("_partialdump_k{i}")
}

fn no_key_tables(url: &str, context: &str) -> crate::error::Error {
    crate::error::Error::Query {
        url: url.to_string(),
        context: context.to_string(),
        reason: "this source keeps no temporary key tables (internal error: the walk asked \
                 without checking `key_tables`)"
            .into(),
    }
}

/// A database a dump is imported into. It can be read like a source (for introspection and
/// `verify`); writes happen inside one transaction from `begin` to `commit` or `rollback`.
///
/// Contract: `begin` once, then any number of `execute` and `foreign_key_checks`, then exactly
/// one of `commit` or `rollback`. Dropping a target without `commit` leaves the database as it
/// was (the server rolls an open transaction back when the connection closes).
pub trait Target: Source + Send {
    /// Starts the transaction; with `disable_fk_checks`, foreign keys are not checked at all.
    fn begin(&mut self, disable_fk_checks: bool) -> Result<()>;

    /// Runs one statement; returns the affected row count, or the server's message.
    fn execute(&mut self, sql: &str) -> std::result::Result<u64, String>;

    /// Runs an INSERT of rows that hold MySQL's ENUM error value ('' in an ENUM column without
    /// such a member, see [`crate::schema::Column::enum_lacks_empty`]) out of strict mode, the
    /// only mode that writes it; returns the affected row count and the statement's warnings
    /// (code and message), which the caller checks, or the server's message. Engines without
    /// ENUM columns never see such a row.
    fn execute_out_of_strict_mode(
        &mut self,
        sql: &str,
    ) -> std::result::Result<(u64, Vec<(u16, String)>), String> {
        self.execute(sql).map(|n| (n, Vec::new()))
    }

    /// Creates a table or index inside the import. Where DDL ends a transaction (MySQL), a new
    /// one is started at once; the caller drops what it created if the import then fails.
    fn execute_ddl(&mut self, sql: &str) -> std::result::Result<(), String>;

    /// Loads rows in bulk where the engine has a faster path than INSERT (MySQL: `LOAD DATA
    /// LOCAL INFILE` from memory): `rows`, then each batch received from `more` until its
    /// sender closes, in one statement. Returns `None` where it has none (the caller then sends
    /// INSERTs; `more` is dropped unread), else the rows inserted (rows whose key already
    /// exists are skipped and not counted) or the server's message.
    fn bulk_load(
        &mut self,
        _table: &crate::schema::Table,
        _columns: &[String],
        _rows: &[Vec<Value>],
        _more: Option<std::sync::mpsc::Receiver<Vec<Vec<Value>>>>,
    ) -> Option<std::result::Result<u64, String>> {
        None
    }

    /// Switches foreign-key checks for the following statements (the dump does this around
    /// rows that form a cycle of NOT NULL references).
    fn foreign_key_checks(&mut self, on: bool) -> Result<()>;

    /// Whether rows loaded into an empty table with unique and foreign-key checks off take the
    /// engine's bulk path (MariaDB's InnoDB: one table-level undo record, indexes built by
    /// sorting, duplicates still refused). The caller then checks references itself.
    fn empty_table_bulk_insert(&self) -> bool {
        false
    }

    /// Called when rows are about to go into `table` on the bulk path (it is empty, and only
    /// read so far by the import's transaction): where the engine needs something done first
    /// for that path to run at full speed, it is done here. Best effort: a failure here changes
    /// only the speed of the import.
    fn before_bulk_load(&mut self, _table: &str) {}

    /// Switches unique checks for the following statements; only called where
    /// [`Target::empty_table_bulk_insert`] is true.
    fn unique_checks(&mut self, _on: bool) -> Result<()> {
        Ok(())
    }

    fn commit(&mut self) -> Result<()>;

    fn rollback(&mut self) -> Result<()>;
}

/// Opens a target for importing.
pub fn open_target(url: &ConnUrl) -> Result<Box<dyn Target>> {
    match url {
        ConnUrl::MySql(m) => Ok(Box::new(mysql::MySqlTarget::connect(m, url.redacted())?)),
        ConnUrl::Sqlite { path } => Ok(Box::new(sqlite::SqliteTarget::open(path, url.redacted())?)),
    }
}

/// Opens a source for reading.
pub fn open_source(url: &ConnUrl) -> Result<Box<dyn Source>> {
    match url {
        ConnUrl::MySql(m) => Ok(Box::new(mysql::MySqlSource::connect(m, url.redacted())?)),
        ConnUrl::Sqlite { path } => Ok(Box::new(sqlite::SqliteSource::open(path, url.redacted())?)),
    }
}
