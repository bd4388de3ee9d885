//! SQL text per engine: identifier quoting, exact literals, key lists, session statements.
//!
//! Differences between engines are capability methods on [`Dialect`] with shared defaults,
//! never `if engine == ...` checks at call sites. Literals are written so that they load the
//! same whatever the session's `sql_mode` is: no literal ever relies on backslash escapes
//! (a string holding a backslash, NUL, CR or ^Z is written as a hex string with a character
//! set introducer), so a dump loads under `NO_BACKSLASH_ESCAPES` too.

use crate::engine::value::{Value, push_hex};
use std::fmt::Write;

/// A set of keys of one or two integer columns as bits, one for each combination of the
/// columns' values from their least to their greatest (`dims`), the last column's varying
/// fastest: the key `(v1, v2)` is cell `(v1 - lo1) * (hi2 - lo2 + 1) + (v2 - lo2)`, bit
/// `cell % 8` of byte `cell / 8`; or, where the room allows, byte `cell`, 1 or 0 (`bytes`).
///
/// The server tests a row by a byte's value faster than by its bit, which takes shifts and
/// masks, each an operation of its own a row: the benchmark's large tenant at scale 1, whose
/// tasks, comments, attachments and task tags are scanned for keys of a few hundred thousand
/// cells, cost the server 4.03-4.09 billion instructions by bits and 3.72-3.76 billion by
/// bytes (callgrind on mariadbd), the bytes' longer text (2.6 MB of hex in all) parsed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitSet {
    /// Each column's least and greatest value.
    pub dims: Vec<(i64, i64)>,
    pub bits: Vec<u8>,
    /// A byte a cell rather than a bit.
    pub bytes: bool,
}

impl BitSet {
    /// The set of the keys of `columns` integers that `each` gives (it is called twice, and
    /// must give the same keys each time), when there are any and their bits take at most
    /// `max_bytes`.
    pub fn of(
        columns: usize,
        each: impl Fn(&mut dyn FnMut(&[i64])),
        max_bytes: usize,
    ) -> Option<BitSet> {
        let mut dims: Vec<(i64, i64)> = Vec::with_capacity(columns);
        each(&mut |key| {
            if dims.is_empty() {
                dims.extend(key.iter().map(|&v| (v, v)));
            }
            for (d, &v) in dims.iter_mut().zip(key) {
                *d = (d.0.min(v), d.1.max(v));
            }
        });
        if dims.len() != columns || columns == 0 {
            return None;
        }
        BitSet::over(dims, each, max_bytes)
    }

    /// The set of the keys that `each` gives over `dims`, each column's least and greatest
    /// value when known already (a key outside them is left out), when their bits take at most
    /// `max_bytes` (a byte a key when those take at most `max_bytes`): [`BitSet::of`] without
    /// its pass for them.
    pub fn over(
        dims: Vec<(i64, i64)>,
        each: impl Fn(&mut dyn FnMut(&[i64])),
        max_bytes: usize,
    ) -> Option<BitSet> {
        let cells = cells(&dims)?;
        let wide = cells <= max_bytes as u128;
        let bytes = if wide { cells } else { cells.div_ceil(8) };
        if bytes > max_bytes as u128 {
            return None;
        }
        // At most max_bytes: the cast cannot truncate.
        let mut set = BitSet {
            bits: vec![0u8; bytes as usize],
            dims,
            bytes: wide,
        };
        each(&mut |key| {
            if let Some(cell) = set.cell(key) {
                match wide {
                    true => {
                        if let Some(b) = set.bits.get_mut(cell) {
                            *b = 1;
                        }
                    }
                    false => {
                        if let Some(b) = set.bits.get_mut(cell / 8) {
                            *b |= 1 << (cell % 8);
                        }
                    }
                }
            }
        });
        Some(set)
    }

    /// The cell of `key`, when it lies within the set's ranges.
    fn cell(&self, key: &[i64]) -> Option<usize> {
        if let ([(lo, hi)], [v]) = (self.dims.as_slice(), key) {
            // One column, the common case: its distance from the least, which the set's size
            // bounds (no 128-bit arithmetic).
            return (lo <= v && v <= hi).then(|| v.abs_diff(*lo) as usize);
        }
        if key.len() != self.dims.len() {
            return None;
        }
        cell_index(&self.dims, key).and_then(|c| usize::try_from(c).ok())
    }

    /// Whether `key` is in the set (what the server's test of it says).
    #[cfg(test)]
    pub fn contains(&self, key: &[i64]) -> bool {
        key.len() == self.dims.len()
            && self
                .cell(key)
                .and_then(|c| match self.bytes {
                    true => self.bits.get(c).map(|&b| b == 1),
                    false => self.bits.get(c / 8).map(|b| b & (1 << (c % 8)) != 0),
                })
                .unwrap_or(false)
    }
}

/// Writes the tests that keep the integer columns `cols` within `dims` (each column's least
/// and greatest value), each followed by ` AND `, and returns the expression of a row's cell
/// over them (as a [`BitSet`] numbers them), which only rows that pass those tests reach: the
/// server tests the conditions in the order written, and an unsigned column's value below its
/// least would make the subtraction fail. The cell plus `plus`, when given, taken off the last
/// column's least value (`c.x - (4)`, not `c.x - (5) + 1`: an operation less for each row).
fn write_cell(cols: &[String], dims: &[(i64, i64)], plus: i128, out: &mut String) -> String {
    let mut terms = Vec::with_capacity(cols.len());
    for (i, (col, &(lo, hi))) in cols.iter().zip(dims).enumerate() {
        let _ = write!(out, "{col} BETWEEN {lo} AND {hi} AND ");
        let width: i128 = dims[i + 1..]
            .iter()
            .map(|&(lo, hi)| i128::from(hi) - i128::from(lo) + 1)
            .product();
        let last = i + 1 == cols.len();
        terms.push(match width {
            // The last column's width is 1 (no column after it); another's is where every
            // column after it holds one value.
            1 if last => format!("{col} - ({})", i128::from(lo) - plus),
            1 => format!("{col} - ({lo})"),
            w => format!("({col} - ({lo})) * {w}"),
        });
    }
    match terms.as_slice() {
        [one] => one.clone(),
        _ => format!("({})", terms.join(") + (")),
    }
}

/// The cell of `key` over `dims` (as a [`BitSet`] numbers them), when it lies within them and
/// the cells fit in a signed 64-bit number (what the server's arithmetic holds).
pub fn cell_of(dims: &[(i64, i64)], key: &[i64]) -> Option<u64> {
    if cell_count(dims)? > i64::MAX as u64 {
        return None;
    }
    cell_index(dims, key).and_then(|c| u64::try_from(c).ok())
}

/// The cell of `key` over `dims`, when it lies within them.
fn cell_index(dims: &[(i64, i64)], key: &[i64]) -> Option<i128> {
    let mut cell: i128 = 0;
    for (&(lo, hi), &v) in dims.iter().zip(key) {
        if v < lo || v > hi {
            return None;
        }
        cell = cell * (i128::from(hi) - i128::from(lo) + 1) + (i128::from(v) - i128::from(lo));
    }
    Some(cell)
}

/// How many cells `dims` spans; None past `u64`'s range.
pub fn cell_count(dims: &[(i64, i64)]) -> Option<u64> {
    cells(dims).map(|c| c as u64)
}

/// How many combinations of values `dims` spans; None past `u64`'s range.
fn cells(dims: &[(i64, i64)]) -> Option<u128> {
    dims.iter().try_fold(1u128, |n, &(lo, hi)| {
        let width = u128::try_from(i128::from(hi) - i128::from(lo) + 1).ok()?;
        n.checked_mul(width).filter(|&n| n <= u128::from(u64::MAX))
    })
}

/// The bytes a [`BitSet`] over `dims` would take as bits; None past `u64`'s range.
pub fn bit_set_bytes(dims: &[(i64, i64)]) -> Option<u64> {
    cells(dims).map(|c| c.div_ceil(8) as u64)
}

/// What an import does with a row whose key already exists in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Fail (and roll everything back), naming the first conflicting key.
    #[default]
    Error,
    /// Keep the target's row.
    Skip,
    /// Overwrite the target's row with the dump's.
    Update,
}

/// As `--on-conflict` spells it.
impl std::fmt::Display for OnConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnConflict::Error => "error",
            OnConflict::Skip => "skip",
            OnConflict::Update => "update",
        })
    }
}

pub trait Dialect: Sync {
    /// Engine name for messages and the dump header (`mysql`, `sqlite`).
    fn name(&self) -> &'static str;

    /// Quotes an identifier (`order` -> `` `order` ``).
    fn quote_ident(&self, ident: &str) -> String;

    /// Appends the exact literal of `value`.
    fn write_literal(&self, value: &Value, out: &mut String) {
        match value {
            Value::Text(s) => self.write_text(s, out),
            other => write_common_literal(other, out),
        }
    }

    /// Writes a text literal.
    fn write_text(&self, s: &str, out: &mut String);

    /// `cols IN (keys)`, for one column or a tuple of columns. `keys` is never empty.
    ///
    /// Keys of several columns whose first holds one value in every key (one tenant's rows,
    /// keyed `(tenant_id, id)`) are written `(c1 = v AND (c2, ...) IN (...))`: the server
    /// parses a value less per key, and reads one range of the index. 20,000 `(org_id, slug)`
    /// keys of strings took MariaDB 0.16 s of CPU that way, 0.21 s as pairs.
    fn write_in_list(&self, cols: &[String], keys: &[&[Value]], out: &mut String) {
        if let ([first, rest @ ..], [_, _, ..]) = (cols, keys)
            && !rest.is_empty()
            && let Some(lead) = crate::engine::value::shared_lead(keys.iter().copied())
        {
            out.push('(');
            out.push_str(first);
            out.push_str(" = ");
            self.write_literal(lead, out);
            out.push_str(" AND ");
            self.write_in_list_with(
                rest,
                keys.len(),
                &mut |i, out| self.write_values(&keys[i][1..], out),
                out,
            );
            out.push(')');
            return;
        }
        self.write_in_list_with(
            cols,
            keys.len(),
            &mut |i, out| self.write_values(keys[i], out),
            out,
        );
    }

    /// `cols IN (...)` of `n` keys, `key(i, out)` writing the values of the i-th (see
    /// [`Dialect::write_values`]).
    fn write_in_list_with(
        &self,
        cols: &[String],
        n: usize,
        key: &mut dyn FnMut(usize, &mut String),
        out: &mut String,
    ) {
        let tuple = cols.len() > 1;
        if tuple {
            out.push('(');
            out.push_str(&cols.join(","));
            out.push_str(") IN (");
            out.push_str(self.tuple_list_prefix());
        } else {
            out.push_str(&cols[0]);
            out.push_str(" IN (");
        }
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            if tuple {
                out.push('(');
            }
            key(i, out);
            if tuple {
                out.push(')');
            }
        }
        out.push(')');
    }

    /// Writes that the integer columns `cols` (as many as the set's) hold one of the keys of
    /// `set` as a test of one bit (or byte, see [`BitSet`]) of a byte string, when the engine
    /// can (`false`, nothing written, when not). For a scan whose keys are dense (a tenant's
    /// among others'), this costs the server a few operations a row, where an IN list costs it
    /// a binary search a row and the parsing and sorting of every key: a scan of 20,000
    /// attachments for the 60,000 tasks of one tenant, every fifth id, took MariaDB 22-27 ms
    /// this way, 66-69 ms by an IN list, and 20 ms with no condition at all.
    fn write_bit_set(&self, _cols: &[String], _set: &BitSet, _out: &mut String) -> bool {
        false
    }

    /// Whether [`Dialect::write_bit_set`] writes anything (so a caller builds no set for
    /// nothing).
    fn bit_sets(&self) -> bool {
        false
    }

    /// Whether [`Dialect::write_cell_list`] writes anything.
    fn cell_lists(&self) -> bool {
        false
    }

    /// Writes that the integer columns `cols` hold one of the keys whose cells over `dims`
    /// (numbered as a [`BitSet`]'s, `cells` in order) are listed, as one value tested against
    /// a list of single values, when the engine can (`false`, nothing written, when not): for
    /// keys of two columns too sparse for a set of bits. MariaDB finds a value in such a list
    /// by a binary search, where it compares a row with a list of rows at far more cost:
    /// TPC-H's 20,865 part suppliers of a nation's line items, `(ps_partkey, ps_suppkey)`,
    /// scanned in 4 ranges, 32.5 ms as cells against 46 ms as pairs (and 56 ms looked up by
    /// key in 8 queries).
    fn write_cell_list(
        &self,
        _cols: &[String],
        _dims: &[(i64, i64)],
        _cells: &[u64],
        _out: &mut String,
    ) -> bool {
        false
    }

    /// The literals of `values`, comma-separated.
    fn write_values(&self, values: &[Value], out: &mut String) {
        for (j, v) in values.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            self.write_literal(v, out);
        }
    }

    /// What stands before a list of row values on the right of `IN` (SQLite needs `VALUES`).
    fn tuple_list_prefix(&self) -> &'static str {
        ""
    }

    /// Appended to a multi-row INSERT for `mode`; `key` are the table's key columns.
    fn on_conflict(&self, mode: OnConflict, columns: &[String], key: &[String]) -> String;

    /// Statements at the top of a dump, after the header comments.
    fn session_preamble(&self) -> Vec<&'static str>;

    /// Starts the load transaction.
    fn begin(&self) -> &'static str;

    /// Ends the load transaction.
    fn commit(&self) -> &'static str {
        "COMMIT;"
    }

    /// Turns foreign-key checks off for rows that form a cycle through NOT NULL columns.
    fn foreign_keys_off(&self) -> &'static str;

    /// Turns them back on; `None` where checks once deferred stay deferred until COMMIT, which
    /// then checks every row (SQLite: turning `defer_foreign_keys` off again would drop the
    /// deferred checks).
    fn foreign_keys_on(&self) -> Option<&'static str>;
}

pub struct MySqlDialect;
pub struct SqliteDialect;

pub static MYSQL: MySqlDialect = MySqlDialect;
pub static SQLITE: SqliteDialect = SqliteDialect;

impl Dialect for MySqlDialect {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote_ident(&self, ident: &str) -> String {
        format!("`{}`", ident.replace('`', "``"))
    }

    fn write_text(&self, s: &str, out: &mut String) {
        let b = s.as_bytes();
        // Short text (names, emails, keys: most values) is looked at once, eight bytes at a
        // time: the three SIMD searches below each cost more to set up than such a text takes
        // to read.
        if b.len() <= SHORT_TEXT && plain_text(b) {
            out.reserve(b.len() + 2);
            out.push('\'');
            out.push_str(s);
            out.push('\'');
            return;
        }
        if memchr::memchr3(b'\\', 0, b'\r', b).is_some() || memchr::memchr(0x1a, b).is_some() {
            out.push_str("_utf8mb4 X'");
            push_hex(s.as_bytes(), out);
            out.push('\'');
        } else {
            push_quoted(s, out);
        }
    }

    fn on_conflict(&self, mode: OnConflict, columns: &[String], key: &[String]) -> String {
        let q = |c: &String| self.quote_ident(c);
        let sets: Vec<String> = match mode {
            OnConflict::Error => return String::new(),
            // Assigning a key column to itself changes nothing: the existing row is kept. A
            // table without a key has nothing to conflict on (any column does).
            OnConflict::Skip => key
                .iter()
                .chain(columns)
                .take(1)
                .map(|k| format!("{} = {}", q(k), q(k)))
                .collect(),
            OnConflict::Update => columns
                .iter()
                .filter(|c| !key.contains(c))
                .map(|c| format!("{} = VALUES({})", q(c), q(c)))
                .collect(),
        };
        match sets.is_empty() {
            // Every column is in the key: updating is keeping.
            true if mode == OnConflict::Update => self.on_conflict(OnConflict::Skip, columns, key),
            true => String::new(),
            false => format!(" ON DUPLICATE KEY UPDATE {}", sets.join(", ")),
        }
    }

    fn session_preamble(&self) -> Vec<&'static str> {
        vec![
            "SET NAMES utf8mb4;",
            "SET time_zone = '+00:00';",
            "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION';",
            "SET foreign_key_checks = 1;",
            "SET unique_checks = 1;",
        ]
    }

    fn begin(&self) -> &'static str {
        "START TRANSACTION;"
    }

    fn foreign_keys_off(&self) -> &'static str {
        "SET foreign_key_checks = 0;"
    }

    fn foreign_keys_on(&self) -> Option<&'static str> {
        Some("SET foreign_key_checks = 1;")
    }

    /// `col BETWEEN lo AND hi AND ASCII(SUBSTRING(X'..', (cell >> 3) + 1, 1)) & (1 << (cell &
    /// 7))`, where the cell is `(col - lo)`, or for two columns `(c1 - lo1) * width2 + (c2 -
    /// lo2)`; a byte a key, the digit 1 or 0: `ASCII(SUBSTRING(_binary'0110..', cell + 1)) =
    /// 49`. The server tests the conditions of an AND in the order written and stops at the
    /// first false, so no `col - lo` is negative where it is computed (which an unsigned column
    /// would refuse). A hex string, like a `_binary` one, has the binary character set:
    /// SUBSTRING counts bytes, and ASCII gives the byte.
    fn write_bit_set(&self, cols: &[String], set: &BitSet, out: &mut String) -> bool {
        if cols.len() != set.dims.len() {
            return false;
        }
        // A byte's position counts from 1.
        let cell = write_cell(cols, &set.dims, i128::from(set.bytes), out);
        match set.bytes {
            // A byte a cell, as the digit 0 or 1: half the text of its hex digits, which both
            // the driver and the server read through (the benchmark's large tenant at scale 1:
            // 1.3 MB of text instead of 2.6, the server's CPU for its scans 0.294 -> 0.286 s).
            true => {
                out.reserve(set.bits.len() + 32);
                out.push_str("ASCII(SUBSTRING(_binary'");
                out.extend(set.bits.iter().map(|&b| if b == 0 { '0' } else { '1' }));
                let _ = write!(out, "', {cell})) = 49");
            }
            false => {
                out.push_str("ASCII(SUBSTRING(X'");
                push_hex(&set.bits, out);
                let _ = write!(out, "', (({cell}) >> 3) + 1, 1)) & (1 << (({cell}) & 7))");
            }
        }
        true
    }

    fn write_cell_list(
        &self,
        cols: &[String],
        dims: &[(i64, i64)],
        cells: &[u64],
        out: &mut String,
    ) -> bool {
        if cols.len() != dims.len() || cells.is_empty() {
            return false;
        }
        let cell = write_cell(cols, dims, 0, out);
        let _ = write!(out, "({cell}) IN (");
        let mut digits = itoa::Buffer::new();
        for (i, &c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(digits.format(c));
        }
        out.push(')');
        true
    }

    fn cell_lists(&self) -> bool {
        true
    }

    fn bit_sets(&self) -> bool {
        true
    }
}

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn quote_ident(&self, ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    fn write_text(&self, s: &str, out: &mut String) {
        if s.contains('\0') {
            out.push_str("CAST(X'");
            push_hex(s.as_bytes(), out);
            out.push_str("' AS TEXT)");
        } else {
            push_quoted(s, out);
        }
    }

    fn tuple_list_prefix(&self) -> &'static str {
        "VALUES "
    }

    fn on_conflict(&self, mode: OnConflict, columns: &[String], key: &[String]) -> String {
        let sets: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{} = excluded.{}", self.quote_ident(c), self.quote_ident(c)))
            .collect();
        match mode {
            OnConflict::Error => String::new(),
            OnConflict::Update if !sets.is_empty() => {
                format!(" ON CONFLICT DO UPDATE SET {}", sets.join(", "))
            }
            _ => " ON CONFLICT DO NOTHING".into(),
        }
    }

    fn session_preamble(&self) -> Vec<&'static str> {
        vec!["PRAGMA foreign_keys = ON;"]
    }

    fn begin(&self) -> &'static str {
        "BEGIN;"
    }

    fn foreign_keys_off(&self) -> &'static str {
        "PRAGMA defer_foreign_keys = ON;"
    }

    fn foreign_keys_on(&self) -> Option<&'static str> {
        None
    }
}

/// `UPDATE t SET c1 = v1, ... WHERE k1 = w1 AND ...` (no `;`): the statement that restores
/// references written as NULL to break a cycle.
pub fn update_sql(
    d: &dyn Dialect,
    table: &str,
    set: (&[String], &[Value]),
    key: (&[String], &[Value]),
) -> String {
    let pairs = |(cols, vals): (&[String], &[Value]), sep: &str| {
        cols.iter()
            .zip(vals)
            .map(|(c, v)| {
                let mut s = format!("{} = ", d.quote_ident(c));
                d.write_literal(v, &mut s);
                s
            })
            .collect::<Vec<_>>()
            .join(sep)
    };
    format!(
        "UPDATE {} SET {} WHERE {}",
        d.quote_ident(table),
        pairs(set, ", "),
        pairs(key, " AND ")
    )
}

/// Texts up to this long are checked by [`plain_text`] in one pass (see `write_text`).
const SHORT_TEXT: usize = 64;

/// Whether `b` holds no control character, backslash or quote: text a MySQL literal holds as
/// it is between quotes (see `write_text`; a tab or a newline also answers no, and the text
/// then takes the exact way). Eight bytes at a time, by the bit tricks of "Bit Twiddling
/// Hacks" (`hasless`, `haszero`), whose answer for a word is exact.
fn plain_text(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Bytes below 0x20, and bytes equal to `c` (zero after the xor).
    let below_space = |x: u64| x.wrapping_sub(ONES * 0x20) & !x & HIGH;
    let equal = |x: u64, c: u8| {
        let y = x ^ (ONES * u64::from(c));
        y.wrapping_sub(ONES) & !y & HIGH
    };
    let mut words = b.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_ne_bytes(bytes);
        if below_space(x) | equal(x, b'\\') | equal(x, b'\'') != 0 {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&c| c >= 0x20 && c != b'\\' && c != b'\'')
}

fn push_quoted(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('\'');
    // Found as bytes (`str::split` by a char took 3% of a dump of text): a quote is ASCII, so
    // the text splits on character boundaries.
    let mut from = 0;
    for at in memchr::memchr_iter(b'\'', s.as_bytes()) {
        out.push_str(&s[from..=at]);
        out.push('\'');
        from = at + 1;
    }
    out.push_str(&s[from..]);
    out.push('\'');
}

/// Literals that read the same in every dialect.
fn write_common_literal(value: &Value, out: &mut String) {
    // Writing to a String cannot fail, so the fmt::Results below are ignored.
    match value {
        Value::Null => out.push_str("NULL"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::UInt(u) => out.push_str(itoa::Buffer::new().format(*u)),
        // The f32 widened to f64 is exactly the stored float; its shortest round-trip form in
        // scientific notation is read back as a DOUBLE and narrows to the same bits.
        Value::Float(f) => write_double(f64::from(*f), out),
        Value::Double(d) => write_double(*d, out),
        Value::Decimal(s) => out.push_str(s),
        Value::Text(s) => push_quoted(s, out),
        Value::Bytes(b) => {
            out.push_str("X'");
            push_hex(b, out);
            out.push('\'');
        }
        other => {
            out.push('\'');
            write_temporal(other, out);
            out.push('\'');
        }
    }
}

fn write_double(d: f64, out: &mut String) {
    if d.is_nan() {
        out.push_str("NULL");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "9e999" } else { "-9e999" });
    } else if !write_short_decimal(d, out) {
        let _ = write!(out, "{d:e}");
    }
}

/// Powers of ten by which a double of a few decimals becomes a whole number.
const DECIMALS: [f64; 5] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];

/// Writes `d` as `{:e}` does (its shortest digits that read back as `d`, in scientific
/// notation: `6.575e1`), when it is a whole number of ten-thousandths below 4e11 (prices,
/// quantities, estimates), without `core::fmt`'s float formatting: the benchmark's 60,000
/// estimates took 45 million instructions that way, 750 a value. Returns false, writing
/// nothing, for any other value.
///
/// Why the digits are the shortest: `m`, the nearest whole number to `|d| * 10^k`, read back
/// as `m / 10^k` (one correctly rounded division of two exact doubles, as parsing the text
/// rounds it) gives `|d|`. No other number of `k` decimals does, as below 4e11 two doubles
/// are closer than 1e-4 apart, and no number of fewer decimals does, or a smaller `k` would
/// have found it; trailing zeros come off.
fn write_short_decimal(d: f64, out: &mut String) -> bool {
    let a = d.abs();
    if a >= 4e11 {
        return false;
    }
    let Some((k, m)) = DECIMALS.iter().enumerate().find_map(|(k, &p)| {
        let m = (a * p).round();
        (m / p == a).then_some((k, m))
    }) else {
        return false;
    };
    // Below 4e15, a whole number: exact in u64.
    let mut m = m as u64;
    let mut exp = -(k as i64);
    if m == 0 {
        out.push_str(if d.is_sign_negative() { "-0e0" } else { "0e0" });
        return true;
    }
    while m.is_multiple_of(10) {
        m /= 10;
        exp += 1;
    }
    if d < 0.0 {
        out.push('-');
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(m);
    let (first, rest) = digits.split_at(1);
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push('e');
    out.push_str(itoa::Buffer::new().format(exp + rest.len() as i64));
    true
}

/// The text form of a date, datetime or time value, without quotes.
pub fn write_temporal(value: &Value, out: &mut String) {
    match value {
        Value::Date { year, month, day } => push_date(*year, *month, *day, out),
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micro,
        } => {
            push_date(*year, *month, *day, out);
            out.push(' ');
            push_clock(u32::from(*hour), *minute, *second, *micro, out);
        }
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micro,
        } => {
            if *negative {
                out.push('-');
            }
            push_clock(*hours, *minutes, *seconds, *micro, out);
        }
        _ => {}
    }
}

/// `n` in decimal, zero-padded to `width` digits (every row has a date or two: no fmt
/// machinery for them).
fn push_padded(n: u32, width: usize, out: &mut String) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

fn push_date(year: u16, month: u8, day: u8, out: &mut String) {
    push_padded(u32::from(year), 4, out);
    out.push('-');
    push_padded(u32::from(month), 2, out);
    out.push('-');
    push_padded(u32::from(day), 2, out);
}

/// `hh:mm:ss` (more hour digits when a TIME needs them), then `.micro` unless 0.
fn push_clock(hours: u32, minutes: u8, seconds: u8, micro: u32, out: &mut String) {
    push_padded(hours, 2, out);
    out.push(':');
    push_padded(u32::from(minutes), 2, out);
    out.push(':');
    push_padded(u32::from(seconds), 2, out);
    if micro != 0 {
        out.push('.');
        push_padded(micro, 6, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(d: &dyn Dialect, v: Value) -> String {
        let mut s = String::new();
        d.write_literal(&v, &mut s);
        s
    }

    #[test]
    fn mysql_strings_never_rely_on_backslash_escapes() {
        assert_eq!(lit(&MYSQL, Value::Text("it's".into())), "'it''s'");
        assert_eq!(
            lit(&MYSQL, Value::Text("a\\b".into())),
            "_utf8mb4 X'615c62'"
        );
        assert_eq!(
            lit(&MYSQL, Value::Text("nul\0".into())),
            "_utf8mb4 X'6e756c00'"
        );
        assert_eq!(lit(&MYSQL, Value::Text("😀".into())), "'😀'");
        for (text, quoted) in [
            ("", "''"),
            ("'", "''''"),
            ("''x'", "'''''x'''"),
            ("é'☃'😀", "'é''☃''😀'"),
        ] {
            assert_eq!(lit(&MYSQL, Value::Text(text.into())), quoted);
            assert_eq!(lit(&SQLITE, Value::Text(text.into())), quoted);
        }
    }

    /// Short texts are checked eight bytes at a time: a byte that needs care is found at
    /// every place of a word, in the tail after the words, and past the short length.
    #[test]
    fn every_byte_that_needs_care_is_found_wherever_it_is() {
        let expected = |text: &str| {
            if text.contains(['\\', '\0', '\r', '\u{1a}']) {
                let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
                format!("_utf8mb4 X'{hex}'")
            } else {
                format!("'{}'", text.replace('\'', "''"))
            }
        };
        for len in [0, 1, 7, 8, 9, 16, 63, 64, 65, 70] {
            let filler: String = "aé☃ ~".chars().cycle().take(len).collect();
            assert_eq!(lit(&MYSQL, Value::Text(filler.clone())), expected(&filler));
            assert!(plain_text(filler.as_bytes()), "{filler:?}");
            let chars: Vec<char> = filler.chars().collect();
            for at in 0..=chars.len() {
                for special in ['\\', '\0', '\r', '\u{1a}', '\'', '\n', '\t', '\u{1f}'] {
                    let mut text: String = chars[..at].iter().collect();
                    text.push(special);
                    text.extend(&chars[at..]);
                    assert_eq!(lit(&MYSQL, Value::Text(text.clone())), expected(&text));
                    assert!(!plain_text(text.as_bytes()), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn floats_round_trip_bit_for_bit() {
        for f in [0.1f32, 1.0e-38, 3.402_823_5e38, -0.0, 16_777_217.0] {
            let s = lit(&MYSQL, Value::Float(f));
            let back: f64 = s.parse().unwrap();
            assert_eq!((back as f32).to_bits(), f.to_bits(), "{s}");
        }
        for d in [0.1f64, 1e300, -2.5e-308, 123_456_789.123_456_78] {
            let s = lit(&MYSQL, Value::Double(d));
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), d.to_bits(), "{s}");
        }
    }

    /// Doubles of a few decimals are written by their own path: the same text as `{:e}`
    /// gives, for them and for values beside them (one unit in the last place off).
    #[test]
    fn short_decimals_are_written_as_the_shortest_form() {
        let mut values = vec![0.0, -0.0, 1.0, 0.5, 33.0, 65.75, -41.375, 1e5, 3.999_9e11];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            // Up to 5 decimals: those of up to 4 take the short path.
            let whole = (next() % 400_000_000_000) as f64;
            let v = whole / 10f64.powi((next() % 6) as i32);
            values.push(v);
            values.push(-v);
            values.push(f64::from_bits(v.to_bits() + 1));
            values.push(f64::from_bits(v.to_bits().saturating_sub(1)));
            values.push(f64::from_bits(next() >> 2));
        }
        let mut short = 0;
        for d in values {
            let mut out = String::new();
            if write_short_decimal(d, &mut out) {
                short += 1;
                assert_eq!(out, format!("{d:e}"), "{d:?}");
            }
            let mut out = String::new();
            write_double(d, &mut out);
            assert_eq!(out, format!("{d:e}"), "{d:?}");
        }
        // The decimal and its negative, in 5 rounds of 6.
        assert!(short > 300_000, "{short}");
    }

    #[test]
    fn temporals_keep_zero_parts_and_long_times() {
        let zero = Value::Date {
            year: 0,
            month: 0,
            day: 0,
        };
        assert_eq!(lit(&MYSQL, zero), "'0000-00-00'");
        let t = Value::Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micro: 5,
        };
        assert_eq!(lit(&MYSQL, t), "'-838:59:59.000005'");
        let at = |micro| Value::DateTime {
            year: 2026,
            month: 1,
            day: 9,
            hour: 7,
            minute: 0,
            second: 3,
            micro,
        };
        assert_eq!(lit(&MYSQL, at(0)), "'2026-01-09 07:00:03'");
        assert_eq!(lit(&SQLITE, at(120_000)), "'2026-01-09 07:00:03.120000'");
    }

    #[test]
    fn numbers_and_bytes_keep_every_digit() {
        assert_eq!(lit(&MYSQL, Value::Int(i64::MIN)), i64::MIN.to_string());
        assert_eq!(lit(&MYSQL, Value::UInt(u64::MAX)), u64::MAX.to_string());
        assert_eq!(lit(&SQLITE, Value::Int(0)), "0");
        // Longer than the hex writer's buffer, and every byte value.
        let blob: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 256) as u8).collect();
        let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(lit(&MYSQL, Value::Bytes(blob)), format!("X'{hex}'"));
    }

    #[test]
    fn tuple_in_lists() {
        let k1 = [Value::Int(1), Value::Text("a".into())];
        let k2 = [Value::Int(2), Value::Text("b".into())];
        let cols = vec!["a".to_string(), "b".to_string()];
        let mut s = String::new();
        SQLITE.write_in_list(&cols, &[&k1, &k2], &mut s);
        assert_eq!(s, "(a,b) IN (VALUES (1,'a'),(2,'b'))");
        let mut s = String::new();
        MYSQL.write_in_list(&cols, &[&k1], &mut s);
        assert_eq!(s, "(a,b) IN ((1,'a'))");
    }

    #[test]
    fn keys_of_one_leading_value_name_it_once() {
        let key = |a: &str, b: i64, c: &str| {
            [Value::Text(a.into()), Value::Int(b), Value::Text(c.into())]
        };
        let (k1, k2, k3) = (key("t", 1, "x"), key("t", 2, "y"), key("T", 3, "z"));
        let two = vec!["a".to_string(), "b".to_string()];
        let three = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let mut s = String::new();
        MYSQL.write_in_list(&two, &[&k1[..2], &k2[..2]], &mut s);
        assert_eq!(s, "(a = 't' AND b IN (1,2))");
        let mut s = String::new();
        SQLITE.write_in_list(&three, &[&k1, &k2], &mut s);
        assert_eq!(s, "(a = 't' AND (b,c) IN (VALUES (1,'x'),(2,'y')))");
        // Values equal only to a case-insensitive collation are not the same value.
        let mut s = String::new();
        MYSQL.write_in_list(&two, &[&k1[..2], &k3[..2]], &mut s);
        assert_eq!(s, "(a,b) IN (('t',1),('T',3))");
    }

    /// A set over ranges known already holds the keys given within them, and neither a key
    /// outside them nor one of another width; it is the set the keys' own ranges make.
    #[test]
    fn bit_sets_over_known_ranges_hold_the_keys_within_them() {
        let keys: [&[i64]; 5] = [&[5], &[9], &[2], &[12], &[7, 1]];
        let set =
            BitSet::over(vec![(5, 9)], |f| keys.iter().for_each(|k| f(k)), 8).expect("the set");
        for v in 0..15 {
            assert_eq!(set.contains(&[v]), v == 5 || v == 9, "{v}");
        }
        assert!(!set.contains(&[7, 1]));
        let within: [&[i64]; 2] = [&[5], &[9]];
        let of = BitSet::of(1, |f| within.iter().for_each(|k| f(k)), 8).expect("the set");
        assert_eq!((of.dims, of.bits), (set.dims.clone(), set.bits.clone()));
        assert!(BitSet::over(vec![(0, 100)], |_| {}, 8).is_none());
    }

    /// A set of bits holds each value given (negative, repeated, in any order) and no other,
    /// down to the last bit of its last byte, and is refused when it would outgrow its room.
    #[test]
    fn bit_sets_hold_each_value_given_and_no_other() {
        let values = [-3_i64, 9, -3, 4, 20, 12];
        let of = |max| BitSet::of(1, |f| values.iter().for_each(|&v| f(&[v])), max);
        let set = of(8).expect("the set");
        assert_eq!((set.dims.as_slice(), set.bits.len()), (&[(-3, 20)][..], 3));
        for v in -10..30 {
            assert_eq!(set.contains(&[v]), values.contains(&v), "{v}");
        }
        assert!(of(2).is_none());
        assert!(BitSet::of(1, |_| {}, 8).is_none());
        let far = [i64::MIN, i64::MAX];
        assert!(BitSet::of(1, |f| far.iter().for_each(|&v| f(&[v])), usize::MAX).is_none());
        let mut sql = String::new();
        assert!(MYSQL.write_bit_set(&["c.x".to_string()], &set, &mut sql));
        assert_eq!(
            sql,
            // -3 is bit 0 and 4 bit 7 of the first byte, 9 and 12 bits 4 and 7 of the second,
            // 20 bit 7 of the third.
            "c.x BETWEEN -3 AND 20 AND ASCII(SUBSTRING(X'819080', \
             ((c.x - (-3)) >> 3) + 1, 1)) & (1 << ((c.x - (-3)) & 7))"
        );
        // Pairs: rows of 3 cells (the second column 5 to 7), from (10, 5).
        let pairs = [[10_i64, 5], [10, 7], [12, 6], [11, 5]];
        let set = BitSet::of(2, |f| pairs.iter().for_each(|p| f(p)), 8).expect("the set");
        assert_eq!(set.dims, vec![(10, 12), (5, 7)]);
        for a in 8..15 {
            for b in 3..10 {
                assert_eq!(set.contains(&[a, b]), pairs.contains(&[a, b]), "{a} {b}");
            }
        }
        // Cells 0, 2, 3 and 7.
        assert_eq!(set.bits, vec![0b1000_1101, 0]);
        let mut sql = String::new();
        let cols = ["c.a".to_string(), "c.b".to_string()];
        assert!(MYSQL.write_bit_set(&cols, &set, &mut sql));
        assert_eq!(
            sql,
            "c.a BETWEEN 10 AND 12 AND c.b BETWEEN 5 AND 7 AND ASCII(SUBSTRING(X'8d00', \
             ((((c.a - (10)) * 3) + (c.b - (5))) >> 3) + 1, 1)) & \
             (1 << ((((c.a - (10)) * 3) + (c.b - (5))) & 7))"
        );
        assert!(!MYSQL.write_bit_set(&cols[..1], &set, &mut String::new()));
        assert!(!SQLITE.bit_sets());
    }

    /// Given room for a byte a key, a set takes one (1 for a key, 0 for none), written as the
    /// digit `1` or `0` and tested by that byte's value; a byte short of that room, it takes
    /// bits.
    #[test]
    fn sets_with_room_take_a_byte_a_key() {
        let values = [-3_i64, 9, -3, 4, 20, 12];
        let of = |max| BitSet::of(1, |f| values.iter().for_each(|&v| f(&[v])), max);
        let set = of(24).expect("the set");
        assert!(set.bytes);
        assert_eq!(set.bits.len(), 24);
        for v in -10..30 {
            assert_eq!(set.contains(&[v]), values.contains(&v), "{v}");
        }
        let mut sql = String::new();
        assert!(MYSQL.write_bit_set(&["c.x".to_string()], &set, &mut sql));
        assert_eq!(
            sql,
            // -3 is byte 1 (SUBSTRING counts from 1), 4 byte 8, 9 byte 13, 12 byte 16, 20
            // byte 24.
            "c.x BETWEEN -3 AND 20 AND ASCII(SUBSTRING(\
             _binary'100000010000100100000001', c.x - (-4))) = 49"
        );
        let bits = of(23).expect("the set");
        assert!(!bits.bytes);
        assert_eq!(bits.bits.len(), 3);
        // Pairs: byte 1 is (10, 5), the second column's width 3.
        let pairs = [[10_i64, 5], [10, 7], [12, 6], [11, 5]];
        let set = BitSet::of(2, |f| pairs.iter().for_each(|p| f(p)), 9).expect("the set");
        assert_eq!(set.bits, vec![1, 0, 1, 1, 0, 0, 0, 1, 0]);
        let mut sql = String::new();
        let cols = ["c.a".to_string(), "c.b".to_string()];
        assert!(MYSQL.write_bit_set(&cols, &set, &mut sql));
        assert_eq!(
            sql,
            "c.a BETWEEN 10 AND 12 AND c.b BETWEEN 5 AND 7 AND ASCII(SUBSTRING(\
             _binary'101100010', ((c.a - (10)) * 3) + (c.b - (4)))) = 49"
        );
        // Pairs whose second column holds one value: the first column's width is 1 too, and
        // only the last column's term counts the byte's position from 1 (key (12, 5), the last
        // byte, is byte 3, not 4).
        let pairs = [[10_i64, 5], [12, 5]];
        let set = BitSet::of(2, |f| pairs.iter().for_each(|p| f(p)), 3).expect("the set");
        assert_eq!(set.bits, vec![1, 0, 1]);
        let mut sql = String::new();
        assert!(MYSQL.write_bit_set(&cols, &set, &mut sql));
        assert_eq!(
            sql,
            "c.a BETWEEN 10 AND 12 AND c.b BETWEEN 5 AND 5 AND ASCII(SUBSTRING(_binary'101', \
             (c.a - (10)) + (c.b - (4)))) = 49"
        );
    }
}
