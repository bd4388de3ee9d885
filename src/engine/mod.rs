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

/// A database that a dump reads from.
///
/// Contract: `introspect` may be called before `begin_snapshot`; every `query` after
/// `begin_snapshot` sees the database as of that one moment, and nothing is ever written
/// to the source. Errors name the source by its redacted URL.
pub trait Source {
    /// The source URL with the password removed.
    fn url(&self) -> &str;

    /// The SQL dialect queries to this source are written in (and, by default, the dump).
    fn dialect(&self) -> &'static dyn Dialect;

    /// Tables, columns, keys and declared foreign keys.
    fn introspect(&mut self) -> Result<Schema>;

    /// Starts the read-only snapshot; returns the server's clock at that moment in UTC
    /// (`2026-11-22T06:30:00.123456Z`).
    fn begin_snapshot(&mut self) -> Result<String>;

    /// Ends the snapshot.
    fn end_snapshot(&mut self) -> Result<()>;

    /// The longest query text, in bytes, to send in one statement.
    fn max_query_bytes(&self) -> usize;

    /// Runs `sql` and hands each row to `f` in the order the server returns them.
    /// `context` says what the query is for, for error messages.
    fn query(
        &mut self,
        sql: &str,
        context: &str,
        f: &mut dyn FnMut(Vec<Value>) -> Result<()>,
    ) -> Result<()>;
}

/// Opens a source for reading.
pub fn open_source(url: &ConnUrl) -> Result<Box<dyn Source>> {
    match url {
        ConnUrl::MySql(m) => Ok(Box::new(mysql::MySqlSource::connect(m, url.redacted())?)),
        ConnUrl::Sqlite { path } => Ok(Box::new(sqlite::SqliteSource::open(path, url.redacted())?)),
    }
}
