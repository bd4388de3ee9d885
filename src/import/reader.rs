//! Reads a partialdump dump back into typed statements, without executing any SQL it was
//! handed.
//!
//! The grammar is exactly what [`crate::sink::SqlWriter`] writes: header comments, a few session
//! statements (`SET`, `PRAGMA`, `START TRANSACTION`/`BEGIN`, `COMMIT`), multi-row `INSERT`s of
//! literal values, the cycle-restoring `UPDATE`s, comments, and the trailer. Anything else (a
//! `DROP TABLE`, a `GRANT`, a function call inside a value) is refused with its line number.
//!
//! Input is read line by line and one statement at a time, so memory is bounded by the largest
//! statement. The body's bytes are hashed as they are read; [`DumpReader::finish`] checks the
//! trailer (table and row counts, checksum) once the last statement has been read.

use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::sink::{BodyHash, FORMAT, TRAILER_PREFIX};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::Path;

/// One statement of a dump.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `SET name = value` / `PRAGMA name = value` (session settings the writer emits).
    Setting {
        name: String,
        value: String,
    },
    Begin,
    Commit,
    Insert {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// `CREATE TABLE IF NOT EXISTS` or `CREATE [UNIQUE] INDEX IF NOT EXISTS` from
    /// `dump --with-schema`: the source's own definition of `table`, in the dump's dialect.
    Schema {
        table: String,
        sql: String,
    },
    /// Restores references written as NULL to break a cycle.
    Update {
        table: String,
        set: Vec<(String, Value)>,
        key: Vec<(String, Value)>,
    },
}

/// A statement with the line it starts on and its number in the file (1-based).
#[derive(Debug, Clone)]
pub struct Located {
    pub line: u64,
    pub number: u64,
    /// The statement's size in the dump, in bytes (its lines, newlines included).
    pub bytes: u64,
    pub statement: Statement,
}

/// What the header says.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub lines: Vec<String>,
    pub dialect: String,
    pub source: String,
}

pub struct DumpReader<R: BufRead> {
    input: R,
    name: String,
    line_no: u64,
    statements: u64,
    header: Header,
    started_body: bool,
    hasher: BodyHash,
    trailer: Option<String>,
    /// `-- rows <table> <n>` comments of the body.
    declared_rows: BTreeMap<String, u64>,
    /// Rows actually read, per table.
    pub rows_read: BTreeMap<String, u64>,
    pending_line: Option<Vec<u8>>,
    backslash_is_literal: bool,
}

/// A refusal or a corrupt input, with where it happened.
fn bad(name: &str, line: u64, msg: impl std::fmt::Display) -> Error {
    Error::Dump {
        path: name.to_string(),
        line,
        message: msg.to_string(),
    }
}

/// The compressor whose magic number `first` (a file's first line) starts with, and the command
/// that writes its contents to standard output.
fn compressed(first: &[u8]) -> Option<(&'static str, &'static str)> {
    const MAGIC: &[(&[u8], &str, &str)] = &[
        (b"\x1f\x8b", "gzip", "gunzip -c"),
        (b"\x28\xb5\x2f\xfd", "zstd", "zstd -dc"),
        (b"\xfd7zXZ\x00", "xz", "xz -dc"),
        (b"BZh", "bzip2", "bzip2 -dc"),
        (b"\x04\x22\x4d\x18", "lz4", "lz4 -dc"),
    ];
    MAGIC
        .iter()
        .find(|(magic, ..)| first.starts_with(magic))
        .map(|&(_, tool, cat)| (tool, cat))
}

impl<R: BufRead> DumpReader<R> {
    /// Reads the header. `name` is used in messages (a path, or `standard input`).
    pub fn new(input: R, name: &str) -> Result<DumpReader<R>> {
        let mut r = DumpReader {
            input,
            name: name.to_string(),
            line_no: 0,
            statements: 0,
            header: Header::default(),
            started_body: false,
            // Replaced by that of the header's format once its first line is read.
            hasher: BodyHash::written(),
            trailer: None,
            declared_rows: BTreeMap::new(),
            rows_read: BTreeMap::new(),
            pending_line: None,
            backslash_is_literal: false,
        };
        const NOT_A_DUMP: &str = "this is not a partialdump dump (its first line is not `-- \
             partialdump …`). import loads only what `partialdump dump` wrote, whose last line proves \
             it whole; load other SQL (a mysqldump file, say) with the database's own client, \
             `mysql db < file.sql` or `sqlite3 file.db < file.sql`";
        while let Some(line) = r.raw_line()? {
            if let Some(text) = line.strip_prefix(b"-- ") {
                let text = String::from_utf8_lossy(text).trim_end().to_string();
                if r.line_no == 1 && !text.starts_with("partialdump ") {
                    return Err(bad(&r.name, 1, NOT_A_DUMP));
                }
                if r.line_no == 1 {
                    r.hasher = format_of(&text).and_then(BodyHash::for_format).ok_or_else(|| {
                        bad(
                            &r.name,
                            1,
                            format!(
                                "the dump's first line (`{text}`) names a format this partialdump {} does \
                                 not read (it reads formats 1 to {FORMAT}): import it with the partialdump \
                                 version that wrote it, or a newer one",
                                env!("CARGO_PKG_VERSION")
                            ),
                        )
                    })?;
                }
                if let Some(d) = text.strip_prefix("dialect: ") {
                    r.header.dialect = d.to_string();
                }
                if let Some(s) = text.strip_prefix("source: ") {
                    r.header.source = s.to_string();
                }
                r.header.lines.push(text);
            } else {
                if r.line_no == 1 {
                    return Err(bad(
                        &r.name,
                        1,
                        match compressed(&line) {
                            Some((tool, cat)) => format!(
                                "this file is compressed with {tool}, which import does not \
                                 read: decompress it on the way in, `{cat} FILE | partialdump \
                                 import --target URL -`"
                            ),
                            None => NOT_A_DUMP.to_string(),
                        },
                    ));
                }
                r.pending_line = Some(line);
                break;
            }
        }
        if r.header.lines.is_empty() {
            return Err(bad(
                &r.name,
                1,
                "the input is empty: no dump was read (did the dump before the pipe fail?)",
            ));
        }
        match r.header.dialect.as_str() {
            "mysql" => {}
            // SQLite strings never use backslash escapes.
            "sqlite" => r.backslash_is_literal = true,
            other => {
                return Err(bad(
                    &r.name,
                    1,
                    format!("the header names no dialect this partialdump reads (`{other}`)"),
                ));
            }
        }
        Ok(r)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    fn raw_line(&mut self) -> Result<Option<Vec<u8>>> {
        if let Some(l) = self.pending_line.take() {
            return Ok(Some(l));
        }
        let mut buf = Vec::new();
        let n = self
            .input
            .read_until(b'\n', &mut buf)
            .map_err(|source| Error::Input {
                what: self.name.clone(),
                source,
                hint: " Nothing was imported.",
            })?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(buf))
    }

    /// The next statement, or `None` at the trailer. Comments in the body are consumed here.
    pub fn next_statement(&mut self) -> Result<Option<Located>> {
        let mut text: Vec<u8> = Vec::new();
        let mut start_line = 0;
        let mut in_string = false;
        loop {
            let Some(line) = self.raw_line()? else {
                return Err(bad(
                    &self.name,
                    self.line_no,
                    "the dump ends without its trailer line: it is truncated (an interrupted dump or a broken pipe). Nothing was imported.",
                ));
            };
            // partialdump ends every line with a newline: a line without one is where the
            // input was cut.
            if !line.ends_with(b"\n") {
                return Err(bad(
                    &self.name,
                    self.line_no,
                    "the dump ends in the middle of a line, without its trailer: it is truncated (an interrupted \
                     dump or a broken pipe). Nothing was imported.",
                ));
            }
            if self.trailer.is_some() {
                return Err(bad(
                    &self.name,
                    self.line_no,
                    "there is text after the trailer line: the file was altered. Nothing was imported.",
                ));
            }
            if !in_string && text.is_empty() {
                if line.starts_with(TRAILER_PREFIX.as_bytes()) {
                    if !line.ends_with(b"\n") {
                        return Err(bad(
                            &self.name,
                            self.line_no,
                            "the trailer line is cut short: the dump is truncated. Nothing was imported.",
                        ));
                    }
                    self.trailer = Some(String::from_utf8_lossy(&line).trim_end().to_string());
                    // Only end of input may follow.
                    if let Some(extra) = self.raw_line()?
                        && !extra.iter().all(u8::is_ascii_whitespace)
                    {
                        return Err(bad(
                            &self.name,
                            self.line_no,
                            "there is text after the trailer line: the file was altered. Nothing was imported.",
                        ));
                    }
                    return Ok(None);
                }
                self.hasher.update(&line);
                self.started_body = true;
                let trimmed = trim_ascii(&line);
                if trimmed.is_empty() {
                    continue;
                }
                if let Some(comment) = trimmed.strip_prefix(b"--") {
                    self.body_comment(comment)?;
                    continue;
                }
                start_line = self.line_no;
            } else {
                self.hasher.update(&line);
            }
            in_string = scan_strings(&line, in_string);
            text.extend_from_slice(&line);
            if !in_string && trim_ascii(&line).ends_with(b";") {
                break;
            }
        }
        self.statements += 1;
        let statement = Parser {
            text: &text,
            pos: 0,
            line: start_line,
            name: &self.name,
            backslash_is_literal: self.backslash_is_literal,
        }
        .statement()?;
        if let Statement::Insert { table, rows, .. } = &statement {
            *self.rows_read.entry(table.clone()).or_default() += rows.len() as u64;
        }
        Ok(Some(Located {
            line: start_line,
            number: self.statements,
            bytes: text.len() as u64,
            statement,
        }))
    }

    fn body_comment(&mut self, comment: &[u8]) -> Result<()> {
        let text = String::from_utf8_lossy(comment);
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("rows ") {
            // `rows <quoted table> <n>`
            let Some((table, n)) = rest.rsplit_once(' ') else {
                return Err(bad(
                    &self.name,
                    self.line_no,
                    "a malformed `-- rows` line: the file was altered",
                ));
            };
            let n: u64 = n.parse().map_err(|_| {
                bad(
                    &self.name,
                    self.line_no,
                    "a malformed `-- rows` line: the file was altered",
                )
            })?;
            let table = unquote_ident(table).ok_or_else(|| {
                bad(
                    &self.name,
                    self.line_no,
                    "a malformed `-- rows` line: the file was altered",
                )
            })?;
            self.declared_rows.insert(table, n);
        }
        Ok(())
    }

    /// Checks the trailer against what was read: per-table and total row counts, table count
    /// and the body's checksum. Call after `next_statement` returned `None`.
    pub fn finish(self) -> Result<BTreeMap<String, u64>> {
        let line = self.line_no;
        let Some(trailer) = &self.trailer else {
            return Err(bad(
                &self.name,
                line,
                "the dump has no trailer: it is truncated. Nothing was imported.",
            ));
        };
        let fields = trailer_fields(trailer);
        let field = self.hasher.field();
        let digest = self.hasher.finish();
        let tampered = |what: &str| {
            bad(
                &self.name,
                line,
                format!(
                    "{what}: the file was altered or damaged after it was written. Nothing was imported."
                ),
            )
        };
        if fields.get(field) != Some(&digest.as_str()) {
            return Err(tampered(&format!(
                "the body's checksum ({field}) does not match the trailer"
            )));
        }
        let total: u64 = self.rows_read.values().sum();
        if fields.get("rows").and_then(|r| r.parse::<u64>().ok()) != Some(total) {
            return Err(tampered(&format!(
                "{total} rows were read but the trailer says {}",
                fields.get("rows").unwrap_or(&"?")
            )));
        }
        if fields.get("tables").and_then(|r| r.parse::<usize>().ok())
            != Some(self.declared_rows.len())
        {
            return Err(tampered("the table count does not match the trailer"));
        }
        for (t, n) in &self.declared_rows {
            let got = self.rows_read.get(t).copied().unwrap_or(0);
            if got != *n {
                return Err(tampered(&format!(
                    "table {t} has {got} rows but the dump says {n}"
                )));
            }
        }
        for t in self.rows_read.keys() {
            if !self.declared_rows.contains_key(t) {
                return Err(tampered(&format!("table {t} has rows but no row count")));
            }
        }
        Ok(self.declared_rows)
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Whether a quoted string is still open at the end of `line` (strings use `''` for a quote,
/// so toggling on every quote is exact).
fn scan_strings(line: &[u8], mut in_string: bool) -> bool {
    let mut in_ident: Option<u8> = None;
    // Only quote characters change the state: jump from one to the next.
    for b in memchr::memchr3_iter(b'\'', b'`', b'"', line).map(|i| line[i]) {
        match (in_string, in_ident, b) {
            (false, None, b'`') | (false, None, b'"') => in_ident = Some(b),
            (false, Some(q), c) if c == q => in_ident = None,
            (false, None, b'\'') => in_string = true,
            (true, _, b'\'') => in_string = false,
            _ => {}
        }
    }
    in_string
}

fn unquote_ident(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'`' || b[0] == b'"') && b[b.len() - 1] == b[0] {
        let q = b[0] as char;
        Some(s[1..s.len() - 1].replace(&format!("{q}{q}"), &q.to_string()))
    } else {
        None
    }
}

#[derive(Debug, PartialEq)]
/// A token; words and numbers borrow the statement's text (no allocation per value).
enum Tok<'a> {
    Word(&'a str),
    Ident(String),
    Str(Vec<u8>),
    Num(&'a str),
    Hex(Vec<u8>),
    Punct(u8),
}

/// The `name=value` fields of a trailer line.
/// The N of a first line `partialdump <version> dump, format N`.
fn format_of(first_line: &str) -> Option<u32> {
    first_line.rsplit_once(", format ")?.1.trim().parse().ok()
}

fn trailer_fields(trailer: &str) -> BTreeMap<&str, &str> {
    trailer
        .strip_prefix(TRAILER_PREFIX)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.split_once('='))
        .collect()
}

/// The row count the trailer at the end of the dump file `path` announces, for a progress bar:
/// read from the file's last bytes, not checked (the import checks it against what it read).
pub fn trailer_rows(path: &Path) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(1024))).ok()?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).ok()?;
    let tail = String::from_utf8_lossy(&tail);
    let line = tail.lines().last()?;
    trailer_fields(line).get("rows")?.parse().ok()
}

/// The value of each hex digit by its byte; [`NOT_HEX`] for any other byte.
const NOT_HEX: u8 = 0xff;

const HEX_VALUE: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    line: u64,
    name: &'a str,
    backslash_is_literal: bool,
}

impl<'a> Parser<'a> {
    fn err(&self, msg: impl std::fmt::Display) -> Error {
        bad(
            self.name,
            self.line,
            format!(
                "{msg}. A partialdump dump holds only its own INSERT, UPDATE and session statements; this file was altered, so nothing was imported."
            ),
        )
    }

    fn skip_ws(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn next(&mut self) -> Result<Option<Tok<'a>>> {
        self.skip_ws();
        let Some(&c) = self.text.get(self.pos) else {
            return Ok(None);
        };
        let t = self.text;
        match c {
            b'\'' => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    // Copy up to the next quote or backslash at once.
                    let rest = &t[self.pos..];
                    let Some(n) = memchr::memchr2(b'\'', b'\\', rest) else {
                        return Err(self.err("a string literal is not closed"));
                    };
                    out.extend_from_slice(&rest[..n]);
                    self.pos += n;
                    match (t[self.pos], t.get(self.pos + 1)) {
                        (b'\'', Some(b'\'')) => {
                            out.push(b'\'');
                            self.pos += 2;
                        }
                        (b'\'', _) => {
                            self.pos += 1;
                            break;
                        }
                        _ if !self.backslash_is_literal => {
                            return Err(self.err("a backslash inside a string literal (partialdump writes such strings as hex)"));
                        }
                        _ => {
                            out.push(b'\\');
                            self.pos += 1;
                        }
                    }
                }
                Ok(Some(Tok::Str(out)))
            }
            b'`' | b'"' => {
                let q = c;
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    match t.get(self.pos) {
                        None => return Err(self.err("a quoted name is not closed")),
                        Some(&b) if b == q && t.get(self.pos + 1) == Some(&q) => {
                            out.push(q);
                            self.pos += 2;
                        }
                        Some(&b) if b == q => {
                            self.pos += 1;
                            break;
                        }
                        Some(&b) => {
                            out.push(b);
                            self.pos += 1;
                        }
                    }
                }
                String::from_utf8(out)
                    .map(|s| Some(Tok::Ident(s)))
                    .map_err(|_| self.err("a quoted name is not valid UTF-8"))
            }
            b'X' | b'x' if t.get(self.pos + 1) == Some(&b'\'') => {
                self.pos += 2;
                let rest = &t[self.pos..];
                let Some(end) = memchr::memchr(b'\'', rest) else {
                    return Err(self.err("a malformed hex literal"));
                };
                let hex = &rest[..end];
                if !hex.len().is_multiple_of(2) {
                    return Err(self.err("a malformed hex literal"));
                }
                // Decoded and checked in one pass: a byte that is no digit has all bits set.
                let mut bytes = Vec::with_capacity(hex.len() / 2);
                let mut invalid = 0u8;
                bytes.extend(hex.chunks_exact(2).map(|p| {
                    let (hi, lo) = (HEX_VALUE[usize::from(p[0])], HEX_VALUE[usize::from(p[1])]);
                    invalid |= hi | lo;
                    (hi << 4) | lo
                }));
                if invalid & 0xf0 != 0 {
                    return Err(self.err("a malformed hex literal"));
                }
                self.pos += end + 1;
                Ok(Some(Tok::Hex(bytes)))
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.pos += 1;
                while t.get(self.pos).is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    self.pos += 1;
                }
                let s = std::str::from_utf8(&t[start..self.pos]).unwrap_or("");
                Ok(Some(Tok::Num(s)))
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let start = self.pos;
                while t
                    .get(self.pos)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    self.pos += 1;
                }
                // ASCII letters, digits and `_` only: always UTF-8.
                Ok(Some(Tok::Word(
                    std::str::from_utf8(&t[start..self.pos]).unwrap_or(""),
                )))
            }
            // `+`, `*` and `/` occur in partitioning expressions only (see `schema_statement`).
            b'(' | b')' | b',' | b'=' | b';' | b'+' | b'*' | b'/' => {
                self.pos += 1;
                Ok(Some(Tok::Punct(c)))
            }
            other => Err(self.err(format!("unexpected character `{}`", other as char))),
        }
    }

    fn expect_punct(&mut self, p: u8) -> Result<()> {
        match self.next()? {
            Some(Tok::Punct(c)) if c == p => Ok(()),
            other => Err(self.err(format!(
                "expected `{}`, found {}",
                p as char,
                describe(&other)
            ))),
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<()> {
        match self.next()? {
            Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w) => Ok(()),
            other => Err(self.err(format!("expected `{w}`, found {}", describe(&other)))),
        }
    }

    fn ident(&mut self) -> Result<String> {
        match self.next()? {
            Some(Tok::Ident(s)) => Ok(s),
            other => Err(self.err(format!(
                "expected a quoted name, found {}",
                describe(&other)
            ))),
        }
    }

    fn value(&mut self) -> Result<Value> {
        match self.next()? {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NULL") => Ok(Value::Null),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("_utf8mb4") => match self.next()? {
                Some(Tok::Hex(b)) => String::from_utf8(b)
                    .map(Value::Text)
                    .map_err(|_| self.err("a _utf8mb4 string that is not UTF-8")),
                other => Err(self.err(format!(
                    "expected a hex string after _utf8mb4, found {}",
                    describe(&other)
                ))),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("CAST") => {
                self.expect_punct(b'(')?;
                let bytes = match self.next()? {
                    Some(Tok::Hex(b)) => b,
                    other => {
                        return Err(self.err(format!(
                            "expected a hex string in CAST, found {}",
                            describe(&other)
                        )));
                    }
                };
                self.expect_word("AS")?;
                self.expect_word("TEXT")?;
                self.expect_punct(b')')?;
                String::from_utf8(bytes)
                    .map(Value::Text)
                    .map_err(|_| self.err("a CAST text that is not UTF-8"))
            }
            Some(Tok::Str(b)) => String::from_utf8(b)
                .map(Value::Text)
                .map_err(|_| self.err("a string literal that is not UTF-8")),
            Some(Tok::Hex(b)) => Ok(Value::Bytes(b)),
            Some(Tok::Num(n)) => {
                parse_number(n).ok_or_else(|| self.err(format!("`{n}` is not a number")))
            }
            Some(Tok::Word(w)) => Err(self.err(format!(
                "`{w}` where a value should be (a function call or keyword)"
            ))),
            other => Err(self.err(format!("expected a value, found {}", describe(&other)))),
        }
    }

    fn end(&mut self) -> Result<()> {
        self.expect_punct(b';')?;
        match self.next()? {
            None => Ok(()),
            other => Err(self.err(format!(
                "text after the end of a statement: {}",
                describe(&other)
            ))),
        }
    }

    fn statement(mut self) -> Result<Statement> {
        let first = match self.next()? {
            Some(Tok::Word(w)) => w.to_ascii_uppercase(),
            other => {
                return Err(self.err(format!("expected a statement, found {}", describe(&other))));
            }
        };
        let st = match first.as_str() {
            "INSERT" => {
                self.expect_word("INTO")?;
                let table = self.ident()?;
                self.expect_punct(b'(')?;
                let mut columns = vec![self.ident()?];
                loop {
                    match self.next()? {
                        Some(Tok::Punct(b',')) => columns.push(self.ident()?),
                        Some(Tok::Punct(b')')) => break,
                        other => {
                            return Err(self.err(format!(
                                "expected `,` or `)` in the column list, found {}",
                                describe(&other)
                            )));
                        }
                    }
                }
                self.expect_word("VALUES")?;
                let mut rows = Vec::new();
                loop {
                    self.expect_punct(b'(')?;
                    let mut row = Vec::with_capacity(columns.len());
                    loop {
                        row.push(self.value()?);
                        match self.next()? {
                            Some(Tok::Punct(b',')) => {}
                            Some(Tok::Punct(b')')) => break,
                            other => {
                                return Err(self.err(format!(
                                    "expected `,` or `)` in a row, found {}",
                                    describe(&other)
                                )));
                            }
                        }
                    }
                    if row.len() != columns.len() {
                        return Err(self.err(format!(
                            "a row of `{table}` has {} values for {} columns",
                            row.len(),
                            columns.len()
                        )));
                    }
                    rows.push(row);
                    self.skip_ws();
                    if self.text.get(self.pos) == Some(&b',') {
                        self.pos += 1;
                        continue;
                    }
                    break;
                }
                self.end()?;
                Statement::Insert {
                    table,
                    columns,
                    rows,
                }
            }
            "UPDATE" => {
                let table = self.ident()?;
                self.expect_word("SET")?;
                let mut set = Vec::new();
                loop {
                    let c = self.ident()?;
                    self.expect_punct(b'=')?;
                    set.push((c, self.value()?));
                    match self.next()? {
                        Some(Tok::Punct(b',')) => {}
                        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("WHERE") => break,
                        other => {
                            return Err(self.err(format!(
                                "expected `,` or WHERE, found {}",
                                describe(&other)
                            )));
                        }
                    }
                }
                let mut key = Vec::new();
                loop {
                    let c = self.ident()?;
                    self.expect_punct(b'=')?;
                    key.push((c, self.value()?));
                    self.skip_ws();
                    let rest = &self.text[self.pos..];
                    if rest.len() >= 4
                        && rest[..3].eq_ignore_ascii_case(b"AND")
                        && rest[3].is_ascii_whitespace()
                    {
                        self.pos += 3;
                        continue;
                    }
                    break;
                }
                self.end()?;
                Statement::Update { table, set, key }
            }
            "SET" | "PRAGMA" => {
                let name = match self.next()? {
                    Some(Tok::Word(w)) => w.to_ascii_lowercase(),
                    other => {
                        return Err(self.err(format!(
                            "expected a setting name, found {}",
                            describe(&other)
                        )));
                    }
                };
                const ALLOWED: &[&str] = &[
                    "names",
                    "time_zone",
                    "sql_mode",
                    "foreign_key_checks",
                    "unique_checks",
                    "foreign_keys",
                    "defer_foreign_keys",
                ];
                if !ALLOWED.contains(&name.as_str()) {
                    return Err(self.err(format!(
                        "`{first} {name}` is not a setting partialdump writes"
                    )));
                }
                let value = if name == "names" {
                    match self.next()? {
                        Some(Tok::Word(w)) => w.to_string(),
                        other => {
                            return Err(self.err(format!(
                                "expected a character set, found {}",
                                describe(&other)
                            )));
                        }
                    }
                } else {
                    self.expect_punct(b'=')?;
                    match self.next()? {
                        Some(Tok::Word(w)) => w.to_string(),
                        Some(Tok::Num(n)) => n.to_string(),
                        Some(Tok::Str(s)) => String::from_utf8_lossy(&s).into_owned(),
                        other => {
                            return Err(self.err(format!(
                                "expected a setting value, found {}",
                                describe(&other)
                            )));
                        }
                    }
                };
                self.end()?;
                Statement::Setting { name, value }
            }
            "CREATE" => self.schema_statement()?,
            "START" => {
                self.expect_word("TRANSACTION")?;
                self.end()?;
                Statement::Begin
            }
            "BEGIN" => {
                self.end()?;
                Statement::Begin
            }
            "COMMIT" => {
                self.end()?;
                Statement::Commit
            }
            other => {
                return Err(self.err(format!("`{other}` is not a statement partialdump writes")));
            }
        };
        Ok(st)
    }
}

impl Parser<'_> {
    /// `CREATE TABLE IF NOT EXISTS <name> (<definitions>) <options>` or
    /// `CREATE [UNIQUE] INDEX IF NOT EXISTS <name> ON <table> (<columns>) [WHERE ...]`.
    /// The definitions are taken as they are (balanced parentheses, quotes closed); the table
    /// options must be plain `name = value` words, so nothing like `AS SELECT` can ride along.
    /// After `PARTITION` (a partitioned table's clause, as `SHOW CREATE TABLE` writes it:
    /// `PARTITION BY RANGE (year(`d`)) (PARTITION `a` VALUES LESS THAN (1990), …)`) they may
    /// also hold parentheses and the arithmetic of a partitioning expression.
    fn schema_statement(&mut self) -> Result<Statement> {
        let kind = match self.next()? {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("TABLE") => "TABLE",
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("INDEX") => "INDEX",
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("UNIQUE") => {
                self.expect_word("INDEX")?;
                "INDEX"
            }
            other => return Err(self.err(format!("`CREATE` followed by {}", describe(&other)))),
        };
        self.expect_word("IF")?;
        self.expect_word("NOT")?;
        self.expect_word("EXISTS")?;
        let mut table = self.ident_or_word()?;
        if kind == "INDEX" {
            self.expect_word("ON")?;
            table = self.ident_or_word()?;
        }
        self.skip_ws();
        if self.text.get(self.pos) != Some(&b'(') {
            return Err(self.err("a table definition without its column list"));
        }
        self.skip_balanced()?;
        // Table options: words, names, numbers, strings, `=` and `,` only; in a partitioning
        // clause, balanced parentheses and `+`, `*`, `/` too.
        let (mut partitioned, mut depth) = (false, 0usize);
        loop {
            match self.next()? {
                Some(Tok::Punct(b';')) if depth == 0 => break,
                Some(Tok::Word(w)) if kind == "TABLE" && w.eq_ignore_ascii_case("PARTITION") => {
                    partitioned = true;
                }
                Some(Tok::Punct(b'(')) if partitioned => depth += 1,
                Some(Tok::Punct(b')')) if partitioned && depth > 0 => depth -= 1,
                Some(Tok::Punct(b'+' | b'*' | b'/')) if partitioned && depth > 0 => {}
                Some(Tok::Word(w))
                    if ["SELECT", "AS", "LIKE", "IGNORE", "REPLACE"]
                        .iter()
                        .any(|k| w.eq_ignore_ascii_case(k)) =>
                {
                    return Err(self.err(format!("`{w}` after a table definition")));
                }
                Some(Tok::Word(w)) if kind == "INDEX" && w.eq_ignore_ascii_case("WHERE") => {
                    // A partial index condition runs to the end of the statement.
                    self.pos = self.text.len();
                    while self.pos > 0 && self.text[self.pos - 1].is_ascii_whitespace() {
                        self.pos -= 1;
                    }
                    if self.text.get(self.pos.wrapping_sub(1)) != Some(&b';') {
                        return Err(self.err("a statement that does not end with `;`"));
                    }
                    break;
                }
                Some(
                    Tok::Word(_)
                    | Tok::Ident(_)
                    | Tok::Num(_)
                    | Tok::Str(_)
                    | Tok::Punct(b'=' | b','),
                ) => {}
                other => {
                    return Err(self.err(format!("{} after a table definition", describe(&other))));
                }
            }
        }
        let end = self.text[..self.pos]
            .iter()
            .rposition(|b| *b == b';')
            .unwrap_or(self.pos);
        let sql = String::from_utf8_lossy(&self.text[..end])
            .trim()
            .to_string();
        Ok(Statement::Schema { table, sql })
    }

    fn ident_or_word(&mut self) -> Result<String> {
        match self.next()? {
            Some(Tok::Ident(s)) => Ok(s),
            Some(Tok::Word(s)) => Ok(s.to_string()),
            other => Err(self.err(format!("expected a name, found {}", describe(&other)))),
        }
    }

    /// Skips a parenthesised group, honouring quotes.
    fn skip_balanced(&mut self) -> Result<()> {
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(&b) = self.text.get(self.pos) {
            self.pos += 1;
            match (quote, b) {
                (Some(q), c) if c == q => {
                    if self.text.get(self.pos) == Some(&q) {
                        self.pos += 1;
                    } else {
                        quote = None;
                    }
                }
                (Some(_), b'\\') if !self.backslash_is_literal => self.pos += 1,
                (Some(_), _) => {}
                (None, b'\'' | b'"' | b'`') => quote = Some(b),
                (None, b'(') => depth += 1,
                (None, b')') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (None, b';') => return Err(self.err("a `;` inside a table definition")),
                _ => {}
            }
        }
        Err(self.err("a table definition whose parentheses are not closed"))
    }
}

fn describe(t: &Option<Tok>) -> String {
    match t {
        None => "the end of the statement".into(),
        Some(Tok::Word(w)) => format!("`{w}`"),
        Some(Tok::Ident(i)) => format!("the name `{i}`"),
        Some(Tok::Str(_)) => "a string".into(),
        Some(Tok::Num(n)) => format!("`{n}`"),
        Some(Tok::Hex(_)) => "a hex string".into(),
        Some(Tok::Punct(p)) => format!("`{}`", *p as char),
    }
}

/// Integers stay integers (to 64 bits signed or unsigned), decimals stay exact text, numbers
/// with an exponent are doubles.
fn parse_number(n: &str) -> Option<Value> {
    let digits = n.strip_prefix('-').unwrap_or(n);
    if digits.is_empty() || !digits.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return n
            .parse::<i64>()
            .map(Value::Int)
            .ok()
            .or_else(|| n.parse::<u64>().ok().map(Value::UInt));
    }
    if n.contains(['e', 'E']) {
        return n.parse::<f64>().ok().map(Value::Double);
    }
    let (int, frac) = digits.split_once('.')?;
    if int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        Some(Value::Decimal(n.to_string()))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(sql: &str, dialect: &str) -> Result<Statement> {
        Parser {
            text: sql.as_bytes(),
            pos: 0,
            line: 7,
            name: "d.sql",
            backslash_is_literal: dialect == "sqlite",
        }
        .statement()
    }

    #[test]
    fn hex_literals_decode_in_either_case_and_refuse_anything_else() {
        let st = parse_one("INSERT INTO `t` (`b`) VALUES (X'00fFa0'),(x'');", "mysql").unwrap();
        let Statement::Insert { rows, .. } = st else {
            panic!()
        };
        assert_eq!(rows[0][0], Value::Bytes(vec![0x00, 0xff, 0xa0]));
        assert_eq!(rows[1][0], Value::Bytes(vec![]));
        for bad in ["X'4G'", "X'414'", "X'41", "X'4 1'", "X'\u{e9}'"] {
            let sql = format!("INSERT INTO `t` (`b`) VALUES ({bad});");
            let err = parse_one(&sql, "mysql").unwrap_err().to_string();
            assert!(err.contains("a malformed hex literal"), "{bad}: {err}");
        }
    }

    #[test]
    fn reads_inserts_with_every_literal() {
        let st = parse_one(
            "INSERT INTO `order` (`id`,`x`) VALUES\n(1,'it''s'),\n(-9223372036854775808,_utf8mb4 X'5c00'),(18446744073709551615,X''),(2,1.5e-1),(3,-0.50),(4,NULL);",
            "mysql",
        )
        .unwrap();
        let Statement::Insert {
            table,
            columns,
            rows,
        } = st
        else {
            panic!()
        };
        assert_eq!(table, "order");
        assert_eq!(columns, vec!["id", "x"]);
        assert_eq!(rows[0][1], Value::Text("it's".into()));
        assert_eq!(
            rows[1],
            vec![Value::Int(i64::MIN), Value::Text("\\\0".into())]
        );
        assert_eq!(rows[2], vec![Value::UInt(u64::MAX), Value::Bytes(vec![])]);
        assert_eq!(rows[3][1], Value::Double(0.15));
        assert_eq!(rows[4][1], Value::Decimal("-0.50".into()));
        assert_eq!(rows[5][1], Value::Null);
    }

    #[test]
    fn partitioning_clauses_pass_and_carry_nothing_else() {
        let ok = "CREATE TABLE IF NOT EXISTS `n` (`id` int NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB\n \
                  PARTITION BY RANGE (`id` * 2 + 1)\n(PARTITION `low` VALUES LESS THAN (9) ENGINE = InnoDB,\n \
                  PARTITION `high` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);";
        let Statement::Schema { table, sql } = parse_one(ok, "mysql").expect("it parses") else {
            panic!("not a schema statement")
        };
        assert_eq!(table, "n");
        assert!(sql.ends_with("MAXVALUE ENGINE = InnoDB)"), "{sql}");
        let head = "CREATE TABLE IF NOT EXISTS `n` (`id` int)";
        for (tail, needle) in [
            (" (SELECT 1);", "`(` after a table definition"),
            (
                " PARTITION BY HASH ((SELECT 1));",
                "`SELECT` after a table definition",
            ),
            (
                " PARTITION BY HASH (`id`));",
                "`)` after a table definition",
            ),
            (" PARTITION BY HASH (`id`;", "`;` after a table definition"),
            (" COMMENT = 1 + 1;", "`+` after a table definition"),
        ] {
            let err = parse_one(&format!("{head}{tail}"), "mysql")
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{tail}: {err}");
        }
    }

    #[test]
    fn refuses_what_it_does_not_write() {
        for (sql, needle) in [
            ("DROP TABLE `users`;", "`DROP` is not a statement"),
            ("GRANT ALL ON *.* TO x;", "`GRANT` is not a statement"),
            (
                "INSERT INTO `t` (`a`) VALUES (SLEEP(10));",
                "`SLEEP` where a value should be",
            ),
            (
                "INSERT INTO `t` (`a`) VALUES (1); DROP TABLE `t`;",
                "text after the end",
            ),
            (
                "INSERT INTO `t` (`a`) VALUES ('a\\'); DROP TABLE t; -- ');",
                "backslash",
            ),
            ("SET GLOBAL general_log = 1;", "not a setting"),
            (
                "INSERT INTO `t` (`a`,`b`) VALUES (1);",
                "1 values for 2 columns",
            ),
        ] {
            let e = parse_one(sql, "mysql").unwrap_err().to_string();
            assert!(e.contains(needle), "{sql}: {e}");
            assert!(e.starts_with("d.sql:7: "), "{e}");
        }
    }

    #[test]
    fn reads_updates_and_settings() {
        let st = parse_one(
            "UPDATE \"a\" SET \"o\" = 1 WHERE \"id\" = 2 AND \"k\" = 'x';",
            "sqlite",
        )
        .unwrap();
        assert_eq!(
            st,
            Statement::Update {
                table: "a".into(),
                set: vec![("o".into(), Value::Int(1))],
                key: vec![
                    ("id".into(), Value::Int(2)),
                    ("k".into(), Value::Text("x".into()))
                ],
            }
        );
        assert_eq!(
            parse_one("SET foreign_key_checks = 0;", "mysql").unwrap(),
            Statement::Setting {
                name: "foreign_key_checks".into(),
                value: "0".into()
            }
        );
    }

    #[test]
    fn trailer_rows_reads_the_count_at_the_end_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.sql");
        let body = "INSERT INTO `t` VALUES (1);\n".repeat(100);
        std::fs::write(
            &whole,
            format!("{body}{TRAILER_PREFIX}tables=1 rows=100 sha256=00\n"),
        )
        .unwrap();
        assert_eq!(trailer_rows(&whole), Some(100));
        let cut = dir.path().join("cut.sql");
        std::fs::write(&cut, &body).unwrap();
        assert_eq!(trailer_rows(&cut), None);
        assert_eq!(trailer_rows(&dir.path().join("missing.sql")), None);
    }
}
