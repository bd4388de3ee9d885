//! `verify`: compute the same subset on two databases and compare, per table, the row count
//! and an order-independent checksum over every row's full contents.
//!
//! The subset is computed exactly as `dump` computes it (same graph, same roots, one snapshot
//! per side), and the rows go to a [`DigestSink`] instead of a file. Values are normalised
//! before hashing so that engines agree: numbers by their value (`49.90` = `49.9`), dates and
//! times by their text, bytes by their hex; so a MariaDB source and an SQLite target compare.

use crate::config::LoadedGraph;
use crate::dump::{DumpRequest, prepare_with, run};
use crate::engine::Source;
use crate::engine::value::{Value, push_hex};
use crate::error::Result;
use crate::sink::{RowFormat, RowSink};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Row count and checksum of one table's subset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableDigest {
    pub rows: u64,
    pub checksum: u128,
}

/// A sink that hashes rows instead of writing them.
#[derive(Default)]
pub struct DigestSink {
    pub tables: BTreeMap<String, TableDigest>,
    current: String,
    /// FLOAT (single-precision) values compared to this many significant digits.
    float_digits: Option<u8>,
    /// Columns left out of the comparison, by table (lower case): those the other side does
    /// not have (a target a migration gave new columns).
    leave_out: Columns,
    /// The positions of the current table's columns left out.
    skip: Vec<usize>,
    /// Columns either side holds dates with times in, by table (lower case): text in them is
    /// compared as such a value (see [`datetime_text`]).
    datetimes: Columns,
    /// The positions of the current table's columns in `datetimes`.
    datetime_at: Vec<usize>,
}

/// Column names by table.
pub type Columns = BTreeMap<String, std::collections::BTreeSet<String>>;

/// One value in a form that is the same on every engine.
pub fn canonical(v: &Value, out: &mut String) {
    canonical_rounded(v, None, out);
}

/// [`canonical`], with FLOAT (single-precision) values first rounded to `float_digits`
/// significant digits when given: `mysqldump` writes FLOAT to 6 (MariaDB's text protocol), so a
/// copy it made holds `1.23457` where the source holds `1.2345678`.
fn canonical_rounded(v: &Value, float_digits: Option<u8>, out: &mut String) {
    match v {
        Value::Null => out.push('N'),
        Value::Int(i) => out.push_str(&format!("n{i}")),
        Value::UInt(u) => out.push_str(&format!("n{u}")),
        Value::Float(f) => {
            let d = f64::from(*f);
            canonical_double(float_digits.map_or(d, |digits| significant(d, digits)), out);
        }
        Value::Double(d) => canonical_double(*d, out),
        Value::Decimal(s) => {
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, s.as_str()),
            };
            let digits = digits.trim_start_matches('0');
            let digits = if digits.contains('.') {
                digits.trim_end_matches('0').trim_end_matches('.')
            } else {
                digits
            };
            let digits = if digits.is_empty() || digits.starts_with('.') {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            out.push('n');
            if neg && digits != "0" {
                out.push('-');
            }
            out.push_str(&digits);
        }
        Value::Text(s) => {
            out.push('t');
            out.push_str(s);
        }
        Value::Bytes(b) => {
            out.push('b');
            push_hex(b, out);
        }
        temporal => {
            out.push('t');
            crate::dialect::write_temporal(temporal, out);
        }
    }
}

/// `d` rounded to `digits` significant decimal digits (at least 1).
fn significant(d: f64, digits: u8) -> f64 {
    if !d.is_finite() || d == 0.0 {
        return d;
    }
    let precision = usize::from(digits.max(1) - 1);
    // Rust's own scientific formatting of a finite double always parses back.
    format!("{d:.precision$e}").parse().unwrap_or(d)
}

fn canonical_double(d: f64, out: &mut String) {
    out.push('n');
    if d.is_finite() && d.fract() == 0.0 && d.abs() < 9.0e15 {
        out.push_str(&format!("{}", d as i64));
    } else {
        out.push_str(&format!("{d}"));
    }
}

/// A row as [`DigestSink`] hashes it: each value in [`canonical`] form, then a unit separator;
/// but for the values at `skip`. Text at `datetime_at` is first written as MySQL writes a date
/// with a time ([`datetime_text`]).
struct CanonicalRow {
    float_digits: Option<u8>,
    skip: Vec<usize>,
    datetime_at: Vec<usize>,
}

impl RowFormat for CanonicalRow {
    fn row(&self, values: &[Value], out: &mut String) {
        for (i, v) in values.iter().enumerate() {
            if self.skip.contains(&i) {
                continue;
            }
            match v {
                Value::Text(t) if self.datetime_at.contains(&i) => {
                    out.push('t');
                    out.push_str(&datetime_text(t));
                }
                _ => canonical_rounded(v, self.float_digits, out),
            }
            out.push('\u{1f}');
        }
    }
}

/// Text in a column of dates with times (SQLite's, whose DATETIME columns hold any text) as
/// MySQL writes such a value: a date alone at midnight (`2020-03-01` as `2020-03-01
/// 00:00:00`), and ISO 8601's `T` between date and time as a space. A copy of an SQLite file
/// in MariaDB holds every such date with its time, and `verify` said every table differed.
fn datetime_text(t: &str) -> std::borrow::Cow<'_, str> {
    let b = t.as_bytes();
    let date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    match (date, b.get(10)) {
        (true, None) => format!("{t} 00:00:00").into(),
        (true, Some(b'T')) => format!("{} {}", &t[..10], &t[11..]).into(),
        _ => t.into(),
    }
}

/// What a row (or a restore) adds to its table's checksum: the first 16 bytes of its SHA-256.
fn row_sum(text: &str) -> u128 {
    let h = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&h[..16]);
    u128::from_be_bytes(first)
}

impl DigestSink {
    /// Adds `rows` rows whose sums add up to `sum` to `table`'s digest.
    fn add(&mut self, table: &str, sum: u128, rows: u64) {
        let d = self.tables.entry(table.to_string()).or_default();
        d.checksum = d.checksum.wrapping_add(sum);
        d.rows += rows;
    }
}

impl RowSink for DigestSink {
    fn begin(&mut self, _header: &[String], _schema: &[String]) -> Result<()> {
        Ok(())
    }

    fn begin_table(&mut self, table: &str, columns: &[String]) -> Result<()> {
        self.current = table.to_string();
        self.tables.entry(table.to_string()).or_default();
        let out = self.leave_out.get(table);
        self.skip = (0..columns.len())
            .filter(|&i| out.is_some_and(|o| o.contains(&columns[i].to_lowercase())))
            .collect();
        let dated = self.datetimes.get(table);
        self.datetime_at = (0..columns.len())
            .filter(|&i| dated.is_some_and(|d| d.contains(&columns[i].to_lowercase())))
            .collect();
        Ok(())
    }

    fn row_format(&self) -> Box<dyn RowFormat + Send> {
        Box::new(CanonicalRow {
            float_digits: self.float_digits,
            skip: self.skip.clone(),
            datetime_at: self.datetime_at.clone(),
        })
    }

    fn rows(&mut self, text: &str, ends: &[usize]) -> Result<()> {
        let mut start = 0;
        let mut sum = 0u128;
        for &end in ends {
            sum = sum.wrapping_add(row_sum(&text[start..end]));
            start = end;
        }
        let table = std::mem::take(&mut self.current);
        self.add(&table, sum, ends.len() as u64);
        self.current = table;
        Ok(())
    }

    fn end_table(&mut self) -> Result<()> {
        Ok(())
    }

    fn foreign_key_checks(&mut self, _on: bool, _why: &str) -> Result<()> {
        Ok(())
    }

    /// Values written as NULL to break a cycle count too, with their key.
    fn restore(
        &mut self,
        table: &str,
        _key_cols: &[String],
        key: &[Value],
        cols: &[String],
        values: &[Value],
    ) -> Result<()> {
        let out = self.leave_out.get(table);
        let kept = |c: &String| out.is_none_or(|o| !o.contains(&c.to_lowercase()));
        let (cols, values): (Vec<&String>, Vec<&Value>) =
            cols.iter().zip(values).filter(|(c, _)| kept(c)).unzip();
        if cols.is_empty() {
            return Ok(());
        }
        let mut text = String::from("restore\u{1f}");
        for v in key.iter().chain(values) {
            canonical_rounded(v, self.float_digits, &mut text);
            text.push('\u{1f}');
        }
        text.push_str(
            &cols
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
        self.add(table, row_sum(&text), 0);
        Ok(())
    }

    fn finish(&mut self, _counts: &[(String, u64)]) -> Result<()> {
        Ok(())
    }
}

/// The digest of the subset `request` selects on `db`, and why `--jobs auto` read it over one
/// connection where it could have read over more (see [`crate::dump::DumpStats::note`]).
/// `float_digits`: FLOAT values compared to that many significant digits; `leave_out`: the
/// columns not compared; `datetimes`: the columns whose text is compared as dates with times
/// ([`datetime_columns`]).
pub fn digest(
    db: &mut dyn Source,
    schema: crate::schema::Schema,
    graph: &LoadedGraph,
    request: &DumpRequest,
    float_digits: Option<u8>,
    (leave_out, datetimes): (Columns, Columns),
) -> Result<(BTreeMap<String, TableDigest>, Option<String>)> {
    let prepared = prepare_with(db, schema, graph, request)?;
    let mut sink = DigestSink {
        float_digits,
        leave_out,
        datetimes,
        ..DigestSink::default()
    };
    let stats = run(db, &prepared, Vec::new(), &mut sink, &mut ())?;
    Ok((sink.tables, stats.note))
}

/// The columns of each table that one schema has and the other does not, as (only in `a`,
/// only in `b`): what a comparison of the two leaves out. Generated columns are not compared
/// either way.
pub fn unshared_columns(
    a: &crate::schema::Schema,
    b: &crate::schema::Schema,
) -> (Columns, Columns) {
    let names = |t: &crate::schema::Table| -> std::collections::BTreeSet<String> {
        t.insert_columns().map(|c| c.name.to_lowercase()).collect()
    };
    let (mut only_a, mut only_b) = (Columns::new(), Columns::new());
    for (name, ta) in &a.tables {
        let Some(tb) = b.table(name) else {
            continue;
        };
        let (ca, cb) = (names(ta), names(tb));
        let a_not_b: std::collections::BTreeSet<String> = ca.difference(&cb).cloned().collect();
        let b_not_a: std::collections::BTreeSet<String> = cb.difference(&ca).cloned().collect();
        if !a_not_b.is_empty() {
            only_a.insert(name.clone(), a_not_b);
        }
        if !b_not_a.is_empty() {
            only_b.insert(name.clone(), b_not_a);
        }
    }
    (only_a, only_b)
}

/// The columns of each table that either schema declares as dates with times (`DATETIME`,
/// `TIMESTAMP`), lower case.
pub fn datetime_columns(a: &crate::schema::Schema, b: &crate::schema::Schema) -> Columns {
    let mut out = Columns::new();
    for (name, ta) in &a.tables {
        let Some(tb) = b.table(name) else {
            continue;
        };
        let dated: std::collections::BTreeSet<String> = ta
            .columns
            .iter()
            .chain(&tb.columns)
            .filter(|c| matches!(c.data_type.as_str(), "datetime" | "timestamp"))
            .map(|c| c.name.to_lowercase())
            .collect();
        if !dated.is_empty() {
            out.insert(name.clone(), dated);
        }
    }
    out
}

/// One line of the comparison.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub table: String,
    pub source: TableDigest,
    pub target: TableDigest,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.source == self.target
    }
}

/// Compares two digests table by table (tables present on either side).
pub fn compare(
    source: &BTreeMap<String, TableDigest>,
    target: &BTreeMap<String, TableDigest>,
) -> Vec<Comparison> {
    let mut names: Vec<&String> = source.keys().chain(target.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|t| Comparison {
            table: t.clone(),
            source: source.get(t).copied().unwrap_or_default(),
            target: target.get(t).copied().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: Value) -> String {
        let mut s = String::new();
        canonical(&v, &mut s);
        s
    }

    #[test]
    fn dates_in_text_compare_as_dates_with_times() {
        for (text, as_datetime) in [
            ("2020-03-01", "2020-03-01 00:00:00"),
            ("2020-03-01T10:20:30", "2020-03-01 10:20:30"),
            ("2020-03-01 10:20:30.5", "2020-03-01 10:20:30.5"),
            ("tomorrow", "tomorrow"),
            ("2020-3-1", "2020-3-1"),
            ("", ""),
        ] {
            assert_eq!(datetime_text(text), as_datetime, "{text}");
        }
    }

    #[test]
    fn numbers_compare_by_value_across_engines() {
        assert_eq!(c(Value::Decimal("49.90".into())), c(Value::Double(49.9)));
        assert_eq!(c(Value::Decimal("10.00".into())), c(Value::Int(10)));
        assert_eq!(c(Value::Decimal("-0.00".into())), c(Value::Int(0)));
        assert_eq!(c(Value::Decimal("0.50".into())), c(Value::Double(0.5)));
        assert_ne!(c(Value::Text("10".into())), c(Value::Int(10)));
        assert_eq!(
            c(Value::Date {
                year: 2024,
                month: 1,
                day: 2
            }),
            c(Value::Text("2024-01-02".into()))
        );
    }
}
