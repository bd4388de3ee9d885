//! Where dumped rows go. [`SqlWriter`] writes the self-describing SQL dump format:
//!
//! ```text
//! -- partialdump 0.1.0 dump, format 2          <- header: comment lines
//! -- source: mysql://app@db:3306/shop
//! ...
//! SET NAMES utf8mb4;                           <- body: statements
//! START TRANSACTION;
//! INSERT INTO `accounts` (`id`,`name`) VALUES (1,'a'),(2,'b');
//! ...
//! COMMIT;
//! -- partialdump end: tables=3 rows=42 xxh3=<hash of every body byte>
//! ```
//!
//! The last line is the trailer; a file without it is incomplete. The checksum covers the body
//! only (not the header, whose snapshot time changes from run to run), so two dumps of an
//! unchanged database have the same body and the same trailer. Formats 1 and 2 (earlier
//! releases) had a SHA-256 and a BLAKE3 there; [`BodyHash`] reads all three.

use crate::budget::{ByteBudget, CloseOnDrop};
use crate::dialect::Dialect;
use crate::engine::value::{Value, hex};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// The prefix of the trailer line.
pub const TRAILER_PREFIX: &str = "-- partialdump end: ";

/// The dump format this version writes (the header's `format N`): 3 has an XXH3-128 checksum
/// in the trailer, 2 had a BLAKE3, 1 a SHA-256.
pub const FORMAT: u32 = 3;

/// The checksum of a dump's body, as its format has it: SHA-256 in format 1, BLAKE3 in 2,
/// XXH3-128 from 3. The checksum tells a whole dump from a truncated or damaged one; no
/// checksum written into the file it covers can stop someone who edits the file on purpose,
/// who can write the edited body's checksum as well, so a cryptographic one buys nothing here.
/// XXH3-128 took 3-5 ms for a 51 MB dump on one core, BLAKE3 9-12 ms, SHA-256 24 ms (1 MiB
/// updates); without the checksum the benchmark's large tenant took 8 ms less CPU than with
/// BLAKE3, on the thread writing the dump. Input is gathered into 64 KiB pieces first, as
/// both BLAKE3 and XXH3 take long updates faster than many short ones.
pub struct BodyHash {
    hasher: Hasher,
    pending: Vec<u8>,
}

enum Hasher {
    Sha256(Sha256),
    Blake3(Box<blake3::Hasher>),
    Xxh3(Box<twox_hash::XxHash3_128>),
}

const HASH_PIECE: usize = 64 << 10;

impl BodyHash {
    fn new(hasher: Hasher) -> BodyHash {
        BodyHash {
            hasher,
            pending: Vec::new(),
        }
    }

    /// The checksum of dump format `format`; None for a format this version does not know.
    pub fn for_format(format: u32) -> Option<BodyHash> {
        match format {
            1 => Some(BodyHash::new(Hasher::Sha256(Sha256::new()))),
            2 => Some(BodyHash::new(Hasher::Blake3(Box::new(
                blake3::Hasher::new(),
            )))),
            3 => Some(BodyHash::written()),
            _ => None,
        }
    }

    /// The checksum this version writes: that of [`FORMAT`].
    pub fn written() -> BodyHash {
        BodyHash::new(Hasher::Xxh3(Box::new(twox_hash::XxHash3_128::new())))
    }

    /// The trailer field that holds it: `sha256`, `blake3` or `xxh3`.
    pub fn field(&self) -> &'static str {
        match self.hasher {
            Hasher::Sha256(_) => "sha256",
            Hasher::Blake3(_) => "blake3",
            Hasher::Xxh3(_) => "xxh3",
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if self.pending.is_empty() && bytes.len() >= HASH_PIECE {
            self.hasher.update(bytes);
            return;
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= HASH_PIECE {
            self.hasher.update(&self.pending);
            self.pending.clear();
        }
    }

    /// The checksum in hex, as the trailer has it.
    pub fn finish(mut self) -> String {
        self.hasher.update(&self.pending);
        match self.hasher {
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Blake3(h) => h.finalize().to_hex().to_string(),
            Hasher::Xxh3(h) => format!("{:032x}", h.finish_128()),
        }
    }
}

impl Hasher {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Blake3(h) => {
                h.update(bytes);
            }
            Hasher::Xxh3(h) => h.write(bytes),
        }
    }
}

/// How a sink writes one row, usable on any thread: the dump turns batches of rows into text
/// on several threads at once, and hands the sink the text in order ([`RowSink::rows`]).
pub trait RowFormat: Sync {
    /// Appends the text of the row `values` to `out`.
    fn row(&self, values: &[Value], out: &mut String);
}

/// Receives the rows of a dump, table by table, in load order.
///
/// Contract: `begin` once; then for each table `begin_table`, any number of `rows` (or `row`),
/// `end_table`; `foreign_key_checks` only between tables or between rows of one table;
/// `restore` after the last table; `finish` once at the end. An error from any method ends
/// the dump: the caller does not call `finish`, so no complete-looking output exists.
pub trait RowSink {
    /// Writes the header, then `schema` (statements that create the tables, from
    /// `--with-schema`; empty otherwise), then starts the data.
    fn begin(&mut self, header: &[String], schema: &[String]) -> Result<()>;
    fn begin_table(&mut self, table: &str, columns: &[String]) -> Result<()>;
    /// How this sink writes a row (for [`RowSink::rows`]).
    fn row_format(&self) -> Box<dyn RowFormat + Send>;
    /// Takes rows written by [`RowSink::row_format`], one after the other in `text`: row `i`
    /// ends at `ends[i]` (and starts where the one before ends).
    fn rows(&mut self, text: &str, ends: &[usize]) -> Result<()>;
    /// Takes one row.
    fn row(&mut self, values: &[Value]) -> Result<()> {
        let mut text = String::new();
        self.row_format().row(values, &mut text);
        let end = text.len();
        self.rows(&text, &[end])
    }
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
type Written<W> = (W, BodyHash, std::io::Result<()>);

/// Statements queued for the output thread; with statements of 1 MiB, a few MiB in flight.
const OUTPUT_QUEUE: usize = 4;

/// Buffers at least this large go back from the output thread to hold the next statements,
/// instead of a fresh 1 MiB buffer for each (whose pages fault in anew once glibc has handed
/// the freed one back to the system). The benchmark's large tenant: 18,500-19,500 page faults
/// and 246 ms of CPU, 12,500-15,000 and 235-238 ms with the buffers reused (`perf stat -r 10`).
/// Headers and comments are simply freed, and so are buffers over twice the statement size
/// (a statement of one row of megabytes), which would otherwise stay for the rest of the dump.
const SPARE_MIN: usize = 64 << 10;

/// The body is hashed and everything written on a thread of its own, so that formatting the
/// next statement overlaps hashing and writing the last one (a slow disk or a slow reader of
/// a pipe holds the dump back only once the queue is full).
struct Output<W: Write + Send + 'static> {
    /// The thread and its queue, while it runs.
    thread: Option<(SyncSender<Chunk>, JoinHandle<Written<W>>)>,
    /// Text queued for the thread and not written yet: OUTPUT_QUEUE statements, and no more
    /// than as many statements' worth of bytes (a statement of one row of megabytes goes
    /// alone).
    queued: Arc<ByteBudget>,
    /// Statement buffers the thread is done with, for the next statements.
    spare: Option<Receiver<String>>,
    /// The destination, back from the thread once it stopped (none if the thread panicked).
    out: Option<W>,
    /// The destination in messages ("the dump to standard output").
    what: String,
}

fn thread_failed() -> std::io::Error {
    std::io::Error::other("the thread writing the dump failed")
}

impl<W: Write + Send + 'static> Output<W> {
    fn start(mut out: W, max_statement_bytes: usize) -> Output<W> {
        let spare_max = max_statement_bytes.saturating_mul(2).max(SPARE_MIN);
        let (tx, rx) = sync_channel::<Chunk>(OUTPUT_QUEUE);
        let (spare_tx, spare) = sync_channel::<String>(OUTPUT_QUEUE);
        let queued = Arc::new(ByteBudget::new(
            max_statement_bytes
                .max(SPARE_MIN)
                .saturating_mul(OUTPUT_QUEUE),
        ));
        let written = queued.clone();
        let thread = std::thread::spawn(move || {
            // However the thread stops, nothing waits for it then.
            let _stopped = CloseOnDrop(&written);
            let mut hasher = BodyHash::written();
            for (mut text, hashed) in rx {
                if hashed {
                    hasher.update(text.as_bytes());
                }
                if let Err(e) = out.write_all(text.as_bytes()) {
                    return (out, hasher, Err(e));
                }
                written.give_back(text.len());
                if (SPARE_MIN..=spare_max).contains(&text.capacity()) {
                    text.clear();
                    // Full (or no one to take it): the buffer is simply freed.
                    let _ = spare_tx.try_send(text);
                }
            }
            (out, hasher, Ok(()))
        });
        Output {
            thread: Some((tx, thread)),
            queued,
            spare: Some(spare),
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

    /// An empty buffer of at least `capacity` bytes: one the thread is done with when there is.
    fn buffer(&mut self, capacity: usize) -> String {
        let mut s = self
            .spare
            .as_ref()
            .and_then(|r| r.try_recv().ok())
            .unwrap_or_default();
        s.reserve(capacity);
        s
    }

    fn send(&mut self, text: String, hashed: bool) -> Result<()> {
        if let Some((tx, _)) = &self.thread {
            self.queued.take(text.len());
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
    fn stop(&mut self) -> std::io::Result<BodyHash> {
        let Some((tx, thread)) = self.thread.take() else {
            return match self.out {
                Some(_) => Ok(BodyHash::written()),
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
            out: Output::start(out, max_statement_bytes),
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
            // As large as the last, unless that held a row of megabytes.
            let next = self.out.buffer(
                self.statement
                    .capacity()
                    .min(self.max_statement_bytes.saturating_mul(2)),
            );
            let mut s = std::mem::replace(&mut self.statement, next);
            s.push_str(";\n");
            self.body(s)?;
            self.rows_in_statement = 0;
        }
        Ok(())
    }
}

/// A row of an INSERT statement: `(value,value,...)`, each value a literal of the dialect.
struct SqlRow(&'static dyn Dialect);

impl RowFormat for SqlRow {
    fn row(&self, values: &[Value], out: &mut String) {
        out.push('(');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.0.write_literal(v, out);
        }
        out.push(')');
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

    fn row_format(&self) -> Box<dyn RowFormat + Send> {
        Box::new(SqlRow(self.dialect))
    }

    /// Rows go into INSERT statements of as many rows as keep them under the size limit: a
    /// statement ends with the row that takes it to the limit.
    fn rows(&mut self, text: &str, ends: &[usize]) -> Result<()> {
        let mut start = 0;
        for &end in ends {
            if self.rows_in_statement == 0 {
                self.statement.clear();
                self.statement.push_str(&self.insert_prefix);
            } else {
                self.statement.push_str(",\n");
            }
            self.statement.push_str(&text[start..end]);
            start = end;
            self.rows_in_statement += 1;
            if self.statement.len() >= self.max_statement_bytes {
                self.flush_statement()?;
            }
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
        let hash = self.out.stop().map_err(|e| self.out.error(e))?;
        let field = hash.field();
        self.raw(format!(
            "{TRAILER_PREFIX}tables={} rows={total} {field}={}\n",
            counts.len(),
            hash.finish()
        ))?;
        let flushed = match &mut self.out.out {
            Some(out) => out.flush(),
            None => Err(thread_failed()),
        };
        flushed.map_err(|e| self.out.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashed(format: u32, pieces: &[&[u8]]) -> String {
        let mut h = BodyHash::for_format(format).expect("a known format");
        for p in pieces {
            h.update(p);
        }
        h.finish()
    }

    #[test]
    fn the_written_hash_is_that_of_the_written_format() {
        let known = BodyHash::for_format(FORMAT).expect("the written format is known");
        assert_eq!(BodyHash::written().field(), known.field());
        assert!(BodyHash::for_format(FORMAT + 1).is_none());
    }

    /// Small and large updates, gathered or not, hash the same bytes the same, in each format.
    #[test]
    fn pieces_hash_as_the_whole() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let (a, b) = big.split_at(1234);
        let (b, c) = b.split_at(100_000);
        let lines: Vec<&[u8]> = big.chunks(97).collect();
        assert_eq!(
            hashed(3, &[a, b, c]),
            format!("{:032x}", twox_hash::XxHash3_128::oneshot(&big))
        );
        assert_eq!(hashed(3, &lines), hashed(3, &[&big]));
        assert_eq!(
            hashed(2, &[a, b, c]),
            blake3::hash(&big).to_hex().to_string()
        );
        assert_eq!(hashed(2, &lines), hashed(2, &[&big]));
        assert_eq!(hashed(1, &lines), hex(&Sha256::digest(&big)));
        assert_eq!(
            BodyHash::written().finish(),
            format!("{:032x}", twox_hash::XxHash3_128::oneshot(b""))
        );
        // Each format's checksum is its own: none reads another's as valid.
        assert_ne!(hashed(3, &[&big]), hashed(2, &[&big]));
    }
}
