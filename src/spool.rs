//! The rows a dump has read, kept in a temporary file until they are written in load order.
//!
//! The walk reads every row of the subset once, whole, in the order the server returns them;
//! the dump then writes each table's rows in key order. The spool sits in between: rows are
//! appended as they arrive (a compact binary form of [`Value`]s, one length-prefixed record per
//! row) and read back by offset. Memory holds only the offsets (in the walk's key maps), so a
//! dump of wide rows needs no more memory than one of narrow rows; the file needs about as much
//! space in the temporary directory (`TMPDIR`) as the dump itself, and is gone when the dump
//! ends (it is unlinked from the start).

use crate::engine::value::Value;
use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};

/// Rows appended to a temporary file.
pub struct Spool {
    file: BufWriter<File>,
    len: u64,
    scratch: Vec<u8>,
}

fn spool_error(source: std::io::Error) -> Error {
    Error::Spool {
        dir: std::env::temp_dir().display().to_string(),
        source,
    }
}

impl Spool {
    /// A new, empty spool in the system's temporary directory.
    pub fn new() -> Result<Spool> {
        let file = tempfile::tempfile().map_err(spool_error)?;
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 20, file),
            len: 0,
            scratch: Vec::new(),
        })
    }

    /// Appends one row; returns its offset, for [`SpoolReader::read`].
    pub fn append(&mut self, values: &[Value]) -> Result<u64> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let appended =
            encode_record(values, &mut scratch).and_then(|()| self.append_record(&scratch));
        self.scratch = scratch;
        appended
    }

    /// Appends a row [`encode_record`] wrote; returns its offset, as [`Spool::append`] does.
    pub fn append_record(&mut self, record: &[u8]) -> Result<u64> {
        self.file.write_all(record).map_err(spool_error)?;
        let at = self.len;
        self.len += record.len() as u64;
        Ok(at)
    }

    /// Bytes appended so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Ends appending; rows can now be read back.
    pub fn into_reader(self) -> Result<SpoolReader> {
        let len = self.len;
        let file = self
            .file
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        Ok(SpoolReader {
            file,
            len,
            window: Vec::new(),
            filled: 0,
            start: 0,
            slack: SLACK,
        })
    }
}

/// Reads rows of a [`Spool`] back by offset, many at a time: in the order they sit in the
/// file, each stretch of the file read once, with one system call per stretch.
pub struct SpoolReader {
    file: File,
    len: u64,
    /// The stretch of the file from `start` last read: its first `filled` bytes. It keeps the
    /// largest length it had, so a read into it does not zero it first (rereading 63 MB of
    /// rows in 1 MB stretches zeroed them all: 2% of the dump's instructions).
    window: Vec<u8>,
    filled: usize,
    start: u64,
    /// How far past the start of a stretch's last row to read, for its body: twice the last
    /// row's length, so a table of small rows does not read SLACK for each.
    slack: u64,
}

/// Rows are read in stretches of the file up to this long, gaps included.
const STRETCH: u64 = 256 << 10;
/// A stretch goes on to the next row only if it starts at most this far after the one before:
/// further, and the bytes between (rows of other tables) cost more to copy than a read of its
/// own. The tables' rows lie interleaved in the spool, and stretches that took every gap (and
/// read 4 KiB past each lone small row) copied five times the spool: at scale 10, 58% of the
/// write phase was the kernel's copy.
const MAX_GAP: u64 = 4 << 10;
/// Read past the start of the last row of a stretch, for its body, at most (a longer row takes
/// a second read).
const SLACK: u64 = 4 << 10;

/// Rows read by [`SpoolReader::read_batch`], still encoded (no larger in memory than on disk).
#[derive(Default)]
pub struct RawRows {
    arena: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

impl RawRows {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Encoded bytes held.
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// Row `i` of the batch, into `out` (replacing what it holds). Text and bytes go into
    /// the buffers `out` holds from the row before where they fit: rows of one table have
    /// their text in the same columns, so a table is read back with hardly an allocation.
    pub fn decode(&self, i: usize, out: &mut Vec<Value>) -> Result<()> {
        let (from, to) = self.ranges[i];
        let body = &self.arena[from..to];
        let mut at = 0;
        let mut n = 0;
        while at < body.len() {
            match out.get_mut(n) {
                Some(slot) => decode_into(body, &mut at, slot)?,
                None => out.push(decode(body, &mut at)?),
            }
            n += 1;
        }
        out.truncate(n);
        Ok(())
    }
}

impl RawRows {
    /// The values at positions `cols` of row `i` (in that order), into `out` (replacing what it
    /// holds); the other values are skipped, not decoded. Each value is decoded into its place,
    /// into the buffer the value there held, in the row's order whatever the order of `cols`: a
    /// table's rows read back one after another allocate nothing (ordering 60,000 documents by
    /// their parents: 1,600 instructions a row to decode two of their columns, with a copy of
    /// each). Keys whose columns come in another order than the row's, such as TPC-C's order
    /// lines keyed by (warehouse, district, order, number) after the order's column, took a
    /// vector and a copy of each value a row: 40 ms for 100,000 order lines, which writing
    /// waited for.
    pub fn decode_columns(&self, i: usize, cols: &[usize], out: &mut Vec<Value>) -> Result<()> {
        let (from, to) = self.ranges[i];
        let body = &self.arena[from..to];
        let mut at = 0;
        out.resize(cols.len(), Value::Null);
        let Some(&last) = cols.iter().max() else {
            return Ok(());
        };
        for col in 0..=last {
            let mut places = cols.iter().enumerate().filter(|&(_, &c)| c == col);
            match places.next() {
                Some((k, _)) => {
                    decode_into(body, &mut at, &mut out[k])?;
                    // The same column asked for again (no key names one twice).
                    for (again, _) in places {
                        out[again] = out[k].clone();
                    }
                }
                None => skip(body, &mut at)?,
            }
        }
        Ok(())
    }
}

impl SpoolReader {
    /// The rows appended at `offsets` (in any order), into `out` in the order of `offsets`.
    pub fn read_batch(&mut self, offsets: &[u64], out: &mut RawRows) -> Result<()> {
        let mut order: Vec<usize> = (0..offsets.len()).collect();
        order.sort_unstable_by_key(|&i| offsets[i]);
        out.arena.clear();
        out.ranges.clear();
        out.ranges.resize(offsets.len(), (0, 0));
        for (rank, &i) in order.iter().enumerate() {
            let offset = offsets[i];
            if !self.holds(offset, 4) {
                // A stretch from here to the last row starting within STRETCH with no gap
                // over MAX_GAP before it, plus slack.
                let mut last = offset;
                for &j in &order[rank + 1..] {
                    let o = offsets[j];
                    if o >= offset + STRETCH || o > last + MAX_GAP {
                        break;
                    }
                    last = o;
                }
                self.fill(offset, last + self.slack)?;
                if !self.holds(offset, 4) {
                    return Err(corrupt());
                }
            }
            let len = {
                let at = (offset - self.start) as usize;
                let mut b = [0u8; 4];
                b.copy_from_slice(&self.window[at..at + 4]);
                u32::from_le_bytes(b) as u64
            };
            if !self.holds(offset + 4, len) {
                self.fill(offset, offset + 4 + len)?;
                if !self.holds(offset + 4, len) {
                    return Err(corrupt());
                }
            }
            self.slack = (2 * (len + 4)).clamp(64, SLACK);
            let at = (offset + 4 - self.start) as usize;
            let from = out.arena.len();
            out.arena
                .extend_from_slice(&self.window[at..at + len as usize]);
            out.ranges[i] = (from, out.arena.len());
        }
        Ok(())
    }

    /// Another reader of the same rows, for another thread: on a second handle of the file,
    /// each reading at the offsets it asks for.
    pub fn try_clone(&self) -> Result<SpoolReader> {
        Ok(SpoolReader {
            file: self.file.try_clone().map_err(spool_error)?,
            len: self.len,
            window: Vec::new(),
            filled: 0,
            start: 0,
            slack: SLACK,
        })
    }

    /// Frees the stretch last read when a row of megabytes made it larger than any stretch of
    /// rows of a normal size: each thread writing text holds a reader, and each kept the
    /// largest row it had read (a tenant of 100 rows of 4 MB each beside 100,000 short ones:
    /// a peak RSS of 70.5-75.5 MB with a reader per thread, 66.6-66.9 MB freeing them, 65.1-69.6
    /// MB with the one reader before).
    pub fn release_large_window(&mut self) {
        if self.window.len() > 2 * (STRETCH + SLACK) as usize {
            self.window = Vec::new();
            self.filled = 0;
        }
    }

    fn holds(&self, offset: u64, len: u64) -> bool {
        offset >= self.start && offset + len <= self.start + self.filled as u64
    }

    /// Reads the file from `from` to `to` (or its end) into the window.
    fn fill(&mut self, from: u64, to: u64) -> Result<()> {
        let to = to.min(self.len);
        if to <= from {
            return Err(corrupt());
        }
        let n = (to - from) as usize;
        if self.window.len() < n {
            self.window.resize(n, 0);
        }
        self.filled = 0;
        read_at(&mut self.file, &mut self.window[..n], from).map_err(spool_error)?;
        self.filled = n;
        self.start = from;
        Ok(())
    }
}

/// Fills `buf` from `file` at `offset`: one `pread` where there is one. Rows read through an
/// index arrive in its order, not in key order, and are read back row by row: the benchmark's
/// large tenant made 23,600 reads of the spool, each after a seek that doubled the system calls.
#[cfg(unix)]
fn read_at(file: &mut File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, offset)
}

/// On Windows, `seek_read` reads at the offset it is given, whatever another reader of the
/// file (a [`SpoolReader::try_clone`]) does meanwhile.
#[cfg(windows)]
fn read_at(file: &mut File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_at(file: &mut File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// The error of a row read back that is not what was spooled.
pub(crate) fn corrupt() -> Error {
    spool_error(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "the temporary file changed under the dump (a row read back is incomplete)",
    ))
}

/// Appends to `out` the spool's record of a row: its length, then its values. Rows are encoded
/// where they are decoded (on the connections' threads), so the walk only copies them in.
pub fn encode_record(values: &[Value], out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    for v in values {
        encode(v, out);
    }
    let body = u32::try_from(out.len() - start - 4).map_err(|_| {
        spool_error(std::io::Error::other(
            "a row is larger than 4 GiB, which the spool cannot hold",
        ))
    })?;
    out[start..start + 4].copy_from_slice(&body.to_le_bytes());
    Ok(())
}

fn put_len(n: usize, out: &mut Vec<u8>) {
    // Values come from one row of a packet-limited protocol: under 4 GiB each.
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn encode(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(0),
        Value::Int(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::UInt(u) => {
            out.push(2);
            out.extend_from_slice(&u.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(3);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Double(d) => {
            out.push(4);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Value::Decimal(s) | Value::Text(s) => {
            out.push(if matches!(v, Value::Decimal(_)) { 5 } else { 6 });
            put_len(s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(b) => {
            out.push(7);
            put_len(b.len(), out);
            out.extend_from_slice(b);
        }
        Value::Date { year, month, day } => {
            out.push(8);
            out.extend_from_slice(&year.to_le_bytes());
            out.extend_from_slice(&[*month, *day]);
        }
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micro,
        } => {
            out.push(9);
            out.extend_from_slice(&year.to_le_bytes());
            out.extend_from_slice(&[*month, *day, *hour, *minute, *second]);
            out.extend_from_slice(&micro.to_le_bytes());
        }
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micro,
        } => {
            out.push(10);
            out.push(u8::from(*negative));
            out.extend_from_slice(&hours.to_le_bytes());
            out.extend_from_slice(&[*minutes, *seconds]);
            out.extend_from_slice(&micro.to_le_bytes());
        }
    }
}

fn take<'a>(buf: &'a [u8], at: &mut usize, n: usize) -> Result<&'a [u8]> {
    let s = buf.get(*at..*at + n).ok_or_else(corrupt)?;
    *at += n;
    Ok(s)
}

fn array<const N: usize>(buf: &[u8], at: &mut usize) -> Result<[u8; N]> {
    let mut a = [0u8; N];
    a.copy_from_slice(take(buf, at, N)?);
    Ok(a)
}

/// Moves past one encoded value.
fn skip(buf: &[u8], at: &mut usize) -> Result<()> {
    let [tag] = array::<1>(buf, at)?;
    let n = match tag {
        0 => 0,
        1 | 2 | 4 => 8,
        3 => 4,
        5..=7 => u32::from_le_bytes(array(buf, at)?) as usize,
        8 => 4,
        9 => 11,
        10 => 11,
        _ => return Err(corrupt()),
    };
    take(buf, at, n).map(|_| ())
}

fn decode(buf: &[u8], at: &mut usize) -> Result<Value> {
    let mut v = Value::Null;
    decode_into(buf, at, &mut v)?;
    Ok(v)
}

/// Decodes one value into `slot`, reusing its buffer when both are text, decimals or bytes.
fn decode_into(buf: &[u8], at: &mut usize, slot: &mut Value) -> Result<()> {
    let [tag] = array::<1>(buf, at)?;
    if !matches!(tag, 5..=7) {
        *slot = decode_fixed(tag, buf, at)?;
        return Ok(());
    }
    let n = u32::from_le_bytes(array(buf, at)?) as usize;
    let bytes = take(buf, at, n)?;
    match (tag, &mut *slot) {
        (7, Value::Bytes(b)) => {
            b.clear();
            b.extend_from_slice(bytes);
        }
        (7, _) => *slot = Value::Bytes(bytes.to_vec()),
        (5, Value::Decimal(s)) | (6, Value::Text(s)) => {
            s.clear();
            s.push_str(crate::engine::value::as_text(bytes).ok_or_else(corrupt)?);
        }
        _ => {
            let s = crate::engine::value::as_text(bytes)
                .ok_or_else(corrupt)?
                .to_string();
            *slot = if tag == 5 {
                Value::Decimal(s)
            } else {
                Value::Text(s)
            };
        }
    }
    Ok(())
}

/// A value of fixed size (or NULL) with tag `tag`, already read.
fn decode_fixed(tag: u8, buf: &[u8], at: &mut usize) -> Result<Value> {
    Ok(match tag {
        0 => Value::Null,
        1 => Value::Int(i64::from_le_bytes(array(buf, at)?)),
        2 => Value::UInt(u64::from_le_bytes(array(buf, at)?)),
        3 => Value::Float(f32::from_bits(u32::from_le_bytes(array(buf, at)?))),
        4 => Value::Double(f64::from_bits(u64::from_le_bytes(array(buf, at)?))),
        8 => {
            let year = u16::from_le_bytes(array(buf, at)?);
            let [month, day] = array(buf, at)?;
            Value::Date { year, month, day }
        }
        9 => {
            let year = u16::from_le_bytes(array(buf, at)?);
            let [month, day, hour, minute, second] = array(buf, at)?;
            let micro = u32::from_le_bytes(array(buf, at)?);
            Value::DateTime {
                year,
                month,
                day,
                hour,
                minute,
                second,
                micro,
            }
        }
        10 => {
            let [negative] = array(buf, at)?;
            let hours = u32::from_le_bytes(array(buf, at)?);
            let [minutes, seconds] = array(buf, at)?;
            let micro = u32::from_le_bytes(array(buf, at)?);
            Value::Time {
                negative: negative != 0,
                hours,
                minutes,
                seconds,
                micro,
            }
        }
        _ => return Err(corrupt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Int(-42),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Double(-0.25),
            Value::Decimal("-12.50".into()),
            Value::Text("héllo 'quoted'".into()),
            Value::Bytes(vec![0, 255, 10, 39]),
            Value::Date {
                year: 0,
                month: 0,
                day: 0,
            },
            Value::DateTime {
                year: 2026,
                month: 11,
                day: 22,
                hour: 23,
                minute: 59,
                second: 58,
                micro: 123_456,
            },
            Value::Time {
                negative: true,
                hours: 838,
                minutes: 59,
                seconds: 59,
                micro: 1,
            },
        ]
    }

    #[test]
    fn rows_decoded_into_the_values_of_other_rows_come_back_whole() {
        let text = |s: &str| Value::Text(s.into());
        // The same positions hold text, bytes, decimals, NULL and numbers in turn; rows get
        // longer and shorter, so buffers are reused, replaced, added and dropped.
        let rows = [
            vec![
                text("a longer text than the next"),
                Value::Bytes(vec![1, 2, 3]),
            ],
            vec![text("short"), Value::Decimal("1.50".into()), Value::Int(3)],
            vec![Value::Bytes(vec![9; 40]), text(""), Value::Null, text("x")],
            vec![Value::Decimal("-2".into())],
            every_kind(),
            vec![text("é"), Value::Bytes(Vec::new())],
        ];
        let mut spool = Spool::new().expect("temporary file");
        let offsets: Vec<u64> = rows
            .iter()
            .map(|r| spool.append(r).expect("append"))
            .collect();
        let mut reader = spool.into_reader().expect("reader");
        let mut raw = RawRows::default();
        let order: Vec<usize> = (0..rows.len()).chain((0..rows.len()).rev()).collect();
        let at: Vec<u64> = order.iter().map(|&i| offsets[i]).collect();
        reader.read_batch(&at, &mut raw).expect("read");
        let mut out = Vec::new();
        for (j, &i) in order.iter().enumerate() {
            raw.decode(j, &mut out).expect("decode");
            assert_eq!(out, rows[i], "row {i}");
        }
    }

    /// A row the spool does not hold whole (its file cut short under the reader, or an offset
    /// too near its end) is an error, not a panic.
    #[test]
    fn a_row_the_spool_does_not_hold_is_an_error() {
        let mut spool = Spool::new().expect("temporary file");
        let small = spool.append(&[Value::Int(1)]).expect("append");
        let long = spool
            .append(&[Value::Text("x".repeat(10_000))])
            .expect("append");
        let end = spool.len();
        let mut reader = spool.into_reader().expect("reader");
        let mut raw = RawRows::default();
        assert!(reader.read_batch(&[small, long], &mut raw).is_ok());
        assert!(reader.read_batch(&[end - 2], &mut raw).is_err());
        reader.file.set_len(long + 100).expect("truncate");
        reader.filled = 0;
        assert!(reader.read_batch(&[small, long], &mut raw).is_err());
    }

    #[test]
    fn rows_read_back_by_offset_in_any_order() {
        let mut spool = Spool::new().expect("temporary file");
        let wide = vec![Value::Bytes(vec![7; 3 * STRETCH as usize]), Value::Int(1)];
        let mut offsets = Vec::new();
        // Wide rows, small ones, and rows longer than what is read past a small row.
        for i in 0..2_000 {
            let row = match i % 4 {
                0 => every_kind(),
                1 => wide.clone(),
                2 => vec![Value::Text("m".repeat(2_000 + i as usize)), Value::Int(i)],
                _ => vec![Value::Int(i)],
            };
            offsets.push((spool.append(&row).expect("append"), row));
        }
        let mut reader = spool.into_reader().expect("reader");
        let mut raw = RawRows::default();
        let mut out = Vec::new();
        // Backwards, forwards, and batches of every size: stretches shared and not.
        let all: Vec<&(u64, Vec<Value>)> = offsets.iter().rev().chain(offsets.iter()).collect();
        for size in [1, 7, 500, all.len()] {
            for batch in all.chunks(size) {
                let at: Vec<u64> = batch.iter().map(|(o, _)| *o).collect();
                reader.read_batch(&at, &mut raw).expect("read");
                assert_eq!(raw.len(), batch.len());
                for (i, (_, row)) in batch.iter().enumerate() {
                    raw.decode(i, &mut out).expect("decode");
                    assert_eq!(&out, row);
                    // Some columns only, in any order, skipping the others.
                    let cols = [row.len() - 1, 0];
                    raw.decode_columns(i, &cols, &mut out)
                        .expect("decode columns");
                    assert_eq!(out, vec![row[cols[0]].clone(), row[0].clone()]);
                    // Three, none in the row's order, into the buffers of the row before.
                    if row.len() > 2 {
                        let cols = [row.len() / 2, row.len() - 1, 0];
                        raw.decode_columns(i, &cols, &mut out)
                            .expect("decode columns out of order");
                        let want: Vec<Value> = cols.iter().map(|&c| row[c].clone()).collect();
                        assert_eq!(out, want);
                    }
                    // In the row's order, into the buffers of the row before.
                    if row.len() > 1 {
                        let cols = [0, row.len() - 1];
                        raw.decode_columns(i, &cols, &mut out)
                            .expect("decode columns in order");
                        assert_eq!(out, vec![row[0].clone(), row[cols[1]].clone()]);
                    }
                }
            }
        }
    }
}
