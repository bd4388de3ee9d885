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
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

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

pub struct SqlWriter<W: Write + Send + 'static> {
    out: Output<W>,
    dialect: &'static dyn Dialect,
    max_statement_bytes: usize,
    statement: String,
    insert_prefix: String,
    rows_in_statement: usize,
    restoring: bool,
    pub bytes: u64,
}

/// Text on its way out: whether it is body (counted in the checksum) or not.
type Chunk = (String, bool);

/// What the output thread hands back: the destination, the body's hash, how writing went.
type Written<W> = (W, Sha256, std::io::Result<()>);

/// Statements queued for the output thread; with statements of 1 MiB, a few MiB in flight.
const OUTPUT_QUEUE: usize = 4;

/// The body is hashed and everything written on a thread of its own, so that formatting the
/// next statement overlaps hashing and writing the last one (a slow disk or a slow reader of
/// a pipe holds the dump back only once the queue is full).
struct Output<W: Write + Send + 'static> {
    /// The thread and its queue, while it runs.
    thread: Option<(SyncSender<Chunk>, JoinHandle<Written<W>>)>,
    /// The destination, back from the thread once it stopped (none if the thread panicked).
    out: Option<W>,
    /// The destination in messages ("the dump to standard output").
    what: String,
}

fn thread_failed() -> std::io::Error {
    std::io::Error::other("the thread writing the dump failed")
}

impl<W: Write + Send + 'static> Output<W> {
    fn start(mut out: W) -> Output<W> {
        let (tx, rx) = sync_channel::<Chunk>(OUTPUT_QUEUE);
        let thread = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            for (text, hashed) in rx {
                if hashed {
                    hasher.update(text.as_bytes());
                }
                if let Err(e) = out.write_all(text.as_bytes()) {
                    return (out, hasher, Err(e));
                }
            }
            (out, hasher, Ok(()))
        });
        Output {
            thread: Some((tx, thread)),
            out: None,
            what: "the dump".into(),
        }
    }

    fn error(&self, source: std::io::Error) -> Error {
        Error::Output {
            what: self.what.clone(),
            source,
        }
    }

    fn send(&mut self, text: String, hashed: bool) -> Result<()> {
        if let Some((tx, _)) = &self.thread {
            if tx.send((text, hashed)).is_ok() {
                return Ok(());
            }
            // The thread stopped at a write error: that error is the one to report.
            let e = self.stop().err().unwrap_or_else(thread_failed);
            return Err(self.error(e));
        }
        let written = match &mut self.out {
            Some(out) => out.write_all(text.as_bytes()),
            None => Err(thread_failed()),
        };
        written.map_err(|e| self.error(e))
    }

    /// Waits until everything sent is written; the body's hash (empty if stopped before).
    fn stop(&mut self) -> std::io::Result<Sha256> {
        let Some((tx, thread)) = self.thread.take() else {
            return match self.out {
                Some(_) => Ok(Sha256::new()),
                None => Err(thread_failed()),
            };
        };
        drop(tx);
        let (out, hasher, written) = thread.join().map_err(|_| thread_failed())?;
        self.out = Some(out);
        written.map(|()| hasher)
    }
}

impl<W: Write + Send + 'static> Drop for Output<W> {
    /// Waits for the thread, so the destination is dropped (a temporary file removed) before
    /// the process can exit.
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

impl<W: Write + Send + 'static> SqlWriter<W> {
    pub fn new(out: W, dialect: &'static dyn Dialect, max_statement_bytes: usize) -> Self {
        SqlWriter {
            out: Output::start(out),
            dialect,
            max_statement_bytes,
            statement: String::new(),
            insert_prefix: String::new(),
            rows_in_statement: 0,
            restoring: false,
            bytes: 0,
        }
    }

    /// The destination, once everything is written.
    pub fn into_inner(mut self) -> Result<W> {
        self.out.stop().map_err(|e| self.out.error(e))?;
        match self.out.out.take() {
            Some(out) => Ok(out),
            None => Err(self.out.error(thread_failed())),
        }
    }

    /// Names the destination in messages: "the dump to out.sql" (default "the dump").
    pub fn named(mut self, what: String) -> Self {
        self.out.what = what;
        self
    }

    /// Writes text outside the body: not counted in the checksum.
    fn raw(&mut self, text: String) -> Result<()> {
        self.bytes += text.len() as u64;
        self.out.send(text, false)
    }

    /// Writes body text: counted in the checksum.
    fn body(&mut self, text: String) -> Result<()> {
        self.bytes += text.len() as u64;
        self.out.send(text, true)
    }

    fn flush_statement(&mut self) -> Result<()> {
        if self.rows_in_statement > 0 {
            let capacity = self.statement.capacity();
            let mut s = std::mem::replace(&mut self.statement, String::with_capacity(capacity));
            s.push_str(";\n");
            self.body(s)?;
            self.rows_in_statement = 0;
        }
        Ok(())
    }
}

impl<W: Write + Send + 'static> RowSink for SqlWriter<W> {
    fn begin(&mut self, header: &[String], schema: &[String]) -> Result<()> {
        for line in header {
            self.raw(format!("-- {}\n", line.replace('\n', " ")))?;
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
        self.body(pre)
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
        self.body(format!("\n-- table {}\n", self.dialect.quote_ident(table)))
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
        self.body(text)
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
        self.body(s)
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
        self.body(s)?;
        let digest = hex(&self.out.stop().map_err(|e| self.out.error(e))?.finalize());
        self.raw(format!(
            "{TRAILER_PREFIX}tables={} rows={total} sha256={digest}\n",
            counts.len()
        ))?;
        let flushed = match &mut self.out.out {
            Some(out) => out.flush(),
            None => Err(thread_failed()),
        };
        flushed.map_err(|e| self.out.error(e))
    }
}
