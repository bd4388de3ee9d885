//! Where dumped rows go. [`SqlWriter`] writes the self-describing SQL dump format:
//!
//! ```text
//! -- partialdump 0.1.0 dump, format 1          <- header: comment lines
//! -- source: mysql://app@db:3306/shop
//! ...
//! SET NAMES utf8mb4;                           <- body: statements
//! START TRANSACTION;
//! INSERT INTO `accounts` (`id`,`name`) VALUES (1,'a'),(2,'b');
//! ...
//! COMMIT;
//! -- partialdump end: tables=3 rows=42 sha256=<hex of every body byte>
//! ```
//!
//! The last line is the trailer; a file without it is incomplete. The checksum covers the body
//! only (not the header, whose snapshot time changes from run to run), so two dumps of an
//! unchanged database have the same body and the same trailer.

use crate::dialect::Dialect;
use crate::engine::value::{Value, hex};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Write;

/// The prefix of the trailer line.
pub const TRAILER_PREFIX: &str = "-- partialdump end: ";

/// Receives the rows of a dump, table by table, in load order.
///
/// Contract: `begin` once; then for each table `begin_table`, any number of `row`s, `end_table`;
/// `foreign_key_checks` only between tables or between rows of one table; `restore` after the
/// last table; `finish` once at the end. An error from any method ends the dump: the caller
/// does not call `finish`, so no complete-looking output exists.
pub trait RowSink {
    /// Writes the header, then `schema` (statements that create the tables, from
    /// `--with-schema`; empty otherwise), then starts the data.
    fn begin(&mut self, header: &[String], schema: &[String]) -> Result<()>;
    fn begin_table(&mut self, table: &str, columns: &[String]) -> Result<()>;
    fn row(&mut self, values: &[Value]) -> Result<()>;
    fn end_table(&mut self) -> Result<()>;
    /// Turns foreign-key checks off (`on == false`) around rows that form a cycle through
    /// NOT NULL references; `why` is written as a comment.
    fn foreign_key_checks(&mut self, on: bool, why: &str) -> Result<()>;
    /// Sets columns that were written as NULL to break a cycle back to their values.
    fn restore(
        &mut self,
        table: &str,
        key_cols: &[String],
        key: &[Value],
        cols: &[String],
        values: &[Value],
    ) -> Result<()>;
    /// Writes the per-table counts and the trailer.
    fn finish(&mut self, counts: &[(String, u64)]) -> Result<()>;

    /// Bytes written so far (for statistics).
    fn bytes_written(&self) -> u64 {
        0
    }
}

pub struct SqlWriter<W: Write> {
    out: W,
    dialect: &'static dyn Dialect,
    hasher: Sha256,
    max_statement_bytes: usize,
    statement: String,
    insert_prefix: String,
    rows_in_statement: usize,
    restoring: bool,
    pub bytes: u64,
}

impl<W: Write> SqlWriter<W> {
    pub fn new(out: W, dialect: &'static dyn Dialect, max_statement_bytes: usize) -> Self {
        SqlWriter {
            out,
            dialect,
            hasher: Sha256::new(),
            max_statement_bytes,
            statement: String::new(),
            insert_prefix: String::new(),
            rows_in_statement: 0,
            restoring: false,
            bytes: 0,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn raw(&mut self, text: &str) -> Result<()> {
        self.bytes += text.len() as u64;
        self.out
            .write_all(text.as_bytes())
            .map_err(|source| Error::Output {
                what: "the dump".into(),
                source,
            })
    }

    /// Writes body text: counted in the checksum.
    fn body(&mut self, text: &str) -> Result<()> {
        self.hasher.update(text.as_bytes());
        self.raw(text)
    }

    fn flush_statement(&mut self) -> Result<()> {
        if self.rows_in_statement > 0 {
            let mut s = std::mem::take(&mut self.statement);
            s.push_str(";\n");
            self.body(&s)?;
            s.clear();
            self.statement = s;
            self.rows_in_statement = 0;
        }
        Ok(())
    }
}

impl<W: Write> RowSink for SqlWriter<W> {
    fn begin(&mut self, header: &[String], schema: &[String]) -> Result<()> {
        for line in header {
            self.raw(&format!("-- {}\n", line.replace('\n', " ")))?;
        }
        let mut pre = String::new();
        for s in self.dialect.session_preamble() {
            pre.push_str(s);
            pre.push('\n');
        }
        if !schema.is_empty() {
            // Tables reference each other (cycles included): create them with checks off.
            pre.push_str("\n-- schema: the source's own table definitions, parents first\n");
            pre.push_str(self.dialect.foreign_keys_off());
            pre.push('\n');
            for s in schema {
                pre.push_str(s);
                pre.push_str(";\n");
            }
            if let Some(on) = self.dialect.foreign_keys_on() {
                pre.push_str(on);
                pre.push('\n');
            }
            pre.push('\n');
        }
        pre.push_str(self.dialect.begin());
        pre.push('\n');
        self.body(&pre)
    }

    fn begin_table(&mut self, table: &str, columns: &[String]) -> Result<()> {
        let cols: Vec<String> = columns
            .iter()
            .map(|c| self.dialect.quote_ident(c))
            .collect();
        self.insert_prefix = format!(
            "INSERT INTO {} ({}) VALUES\n",
            self.dialect.quote_ident(table),
            cols.join(",")
        );
        self.body(&format!("\n-- table {}\n", self.dialect.quote_ident(table)))
    }

    fn row(&mut self, values: &[Value]) -> Result<()> {
        if self.rows_in_statement == 0 {
            self.statement.clear();
            self.statement.push_str(&self.insert_prefix);
        } else {
            self.statement.push_str(",\n");
        }
        self.statement.push('(');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.statement.push(',');
            }
            self.dialect.write_literal(v, &mut self.statement);
        }
        self.statement.push(')');
        self.rows_in_statement += 1;
        if self.statement.len() >= self.max_statement_bytes {
            self.flush_statement()?;
        }
        Ok(())
    }

    fn end_table(&mut self) -> Result<()> {
        self.flush_statement()
    }

    fn foreign_key_checks(&mut self, on: bool, why: &str) -> Result<()> {
        self.flush_statement()?;
        let stmt = if on {
            match self.dialect.foreign_keys_on() {
                Some(s) => s,
                None => return Ok(()),
            }
        } else {
            self.dialect.foreign_keys_off()
        };
        let text = if why.is_empty() {
            format!("{stmt}\n")
        } else {
            format!("\n-- {}\n{stmt}\n", why.replace('\n', " "))
        };
        self.body(&text)
    }

    fn restore(
        &mut self,
        table: &str,
        key_cols: &[String],
        key: &[Value],
        cols: &[String],
        values: &[Value],
    ) -> Result<()> {
        let mut s = String::new();
        if !self.restoring {
            self.restoring = true;
            s.push_str("\n-- references written as NULL above to break a cycle, restored now that both rows exist\n");
        }
        s.push_str(&crate::dialect::update_sql(
            self.dialect,
            table,
            (cols, values),
            (key_cols, key),
        ));
        s.push_str(";\n");
        self.body(&s)
    }

    fn bytes_written(&self) -> u64 {
        self.bytes
    }

    fn finish(&mut self, counts: &[(String, u64)]) -> Result<()> {
        self.flush_statement()?;
        let mut s = String::from("\n");
        let mut total = 0;
        for (t, n) in counts {
            total += n;
            s.push_str(&format!("-- rows {} {n}\n", self.dialect.quote_ident(t)));
        }
        s.push_str(self.dialect.commit());
        s.push('\n');
        self.body(&s)?;
        let digest = hex(&std::mem::take(&mut self.hasher).finalize());
        self.raw(&format!(
            "{TRAILER_PREFIX}tables={} rows={total} sha256={digest}\n",
            counts.len()
        ))?;
        self.out.flush().map_err(|source| Error::Output {
            what: "the dump".into(),
            source,
        })
    }
}
