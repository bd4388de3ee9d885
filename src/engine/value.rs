//! Engine-neutral values: what a source yields for one column of one row, exactly.
//!
//! Each variant keeps the value as the engine stored it, so writing it back loses nothing:
//! DECIMAL stays the text the server wrote, FLOAT stays a 32-bit float, dates keep zero parts
//! (`0000-00-00`), TIME keeps its sign and hours past 24, binary stays bytes.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    /// Exact decimal as the server wrote it (`-12.50`).
    Decimal(String),
    /// Character data (valid UTF-8).
    Text(String),
    /// Binary data: BINARY, BLOB, BIT, spatial values.
    Bytes(Vec<u8>),
    Date {
        year: u16,
        month: u8,
        day: u8,
    },
    DateTime {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micro: u32,
    },
    Time {
        negative: bool,
        hours: u32,
        minutes: u8,
        seconds: u8,
        micro: u32,
    },
}

impl Value {
    /// The order [`Value`]'s `Ord` puts values of different variants in.
    pub fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Int(_) => 1,
            Value::UInt(_) => 2,
            Value::Float(_) => 3,
            Value::Double(_) => 4,
            Value::Decimal(_) => 5,
            Value::Text(_) => 6,
            Value::Bytes(_) => 7,
            Value::Date { .. } => 8,
            Value::DateTime { .. } => 9,
            Value::Time { .. } => 10,
        }
    }

    /// About how many bytes the value takes in memory (its text or bytes, plus the value).
    pub fn size(&self) -> usize {
        std::mem::size_of::<Value>()
            + match self {
                Value::Text(s) | Value::Decimal(s) => s.len(),
                Value::Bytes(b) => b.len(),
                _ => 0,
            }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short human form for messages (`42`, `'abc'`).
    pub fn display(&self) -> String {
        match self {
            Value::Null => "NULL".into(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Double(d) => d.to_string(),
            Value::Decimal(s) => s.clone(),
            Value::Text(s) => format!("'{s}'"),
            Value::Bytes(b) => format!("0x{}", hex(b)),
            other => {
                let mut s = String::new();
                crate::dialect::write_temporal(other, &mut s);
                s
            }
        }
    }
}

/// The value every key leads with, when each has two or more values and all lead with the
/// same one (one tenant's keys, `(tenant_id, id)` or `(org, slug)`): lists of such keys name
/// it once, and sort and search by the rest.
pub fn shared_lead<'a>(keys: impl IntoIterator<Item = &'a [Value]>) -> Option<&'a Value> {
    let mut keys = keys.into_iter();
    let lead = keys.next().filter(|k| k.len() > 1)?.first()?;
    keys.all(|k| k.len() > 1 && k.first() == Some(lead))
        .then_some(lead)
}

/// `bytes` as text when they are UTF-8, else the bytes back. Checked by SIMD: `std`'s check
/// took 3.7% of the instructions of a dump of rows of text, as much again reading them back.
pub fn into_text(bytes: Vec<u8>) -> std::result::Result<String, Vec<u8>> {
    if as_text(&bytes).is_some() {
        // SAFETY: the bytes were checked to be UTF-8 just above.
        Ok(unsafe { String::from_utf8_unchecked(bytes) })
    } else {
        Err(bytes)
    }
}

/// `bytes` as text when they are UTF-8 (see [`into_text`]).
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8. Most values are short and ASCII (keys, names, emails), which
        // simdutf8 hands to `std`'s check below 64 bytes: this takes a fifth of its time.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    simdutf8::basic::from_utf8(bytes).ok()
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut s);
    s
}

/// Appends `bytes` as lowercase hex digits (by table: blobs are megabytes of them).
pub fn push_hex(bytes: &[u8], out: &mut String) {
    // Keys of 16 bytes (UUIDs) are hexed a row at a time: a 1 KiB buffer zeroed for each took
    // more than the digits.
    if bytes.len() <= 32 {
        push_hex_by::<64>(bytes, out);
    } else {
        push_hex_by::<1024>(bytes, out);
    }
}

/// [`push_hex`] through a buffer of `N` digits on the stack: a String takes ASCII a slice at
/// a time much faster than a char at a time. The digits are const-hex's, by SIMD where the
/// CPU has it (the integer benchmark's dump spent 4.0% of its instructions on them by table).
fn push_hex_by<const N: usize>(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len() * 2);
    let mut buf = [0u8; N];
    for chunk in bytes.chunks(buf.len() / 2) {
        // The buffer is cut to twice the chunk, the one length const-hex asks for: no error.
        if let Ok(digits) = const_hex::encode_to_str(chunk, &mut buf[..chunk.len() * 2]) {
            out.push_str(digits);
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order: values of one variant by content (floats by `total_cmp`, so keys that are
/// floats still sort and deduplicate), different variants by a fixed rank. Keys of one column
/// always share a variant, so the rank only matters for NULLs.
impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        use Value::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Int(a), Int(b)) => a.cmp(b),
            (UInt(a), UInt(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Double(a), Double(b)) => a.total_cmp(b),
            (Decimal(a), Decimal(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.cmp(b),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (
                Date {
                    year: y1,
                    month: m1,
                    day: d1,
                },
                Date {
                    year: y2,
                    month: m2,
                    day: d2,
                },
            ) => (y1, m1, d1).cmp(&(y2, m2, d2)),
            (
                DateTime {
                    year: a1,
                    month: a2,
                    day: a3,
                    hour: a4,
                    minute: a5,
                    second: a6,
                    micro: a7,
                },
                DateTime {
                    year: b1,
                    month: b2,
                    day: b3,
                    hour: b4,
                    minute: b5,
                    second: b6,
                    micro: b7,
                },
            ) => (a1, a2, a3, a4, a5, a6, a7).cmp(&(b1, b2, b3, b4, b5, b6, b7)),
            (
                Time {
                    negative: n1,
                    hours: h1,
                    minutes: m1,
                    seconds: s1,
                    micro: u1,
                },
                Time {
                    negative: n2,
                    hours: h2,
                    minutes: m2,
                    seconds: s2,
                    micro: u2,
                },
            ) => {
                let a = (h1, m1, s1, u1);
                let b = (h2, m2, s2, u2);
                match (n1, n2) {
                    (false, false) => a.cmp(&b),
                    (true, true) => b.cmp(&a),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                }
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Int(i) => i.hash(state),
            Value::UInt(u) => u.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Double(d) => d.to_bits().hash(state),
            Value::Decimal(s) | Value::Text(s) => s.hash(state),
            Value::Bytes(b) => b.hash(state),
            other => other.display().hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_total_and_by_content() {
        let mut v = vec![Value::Int(3), Value::Null, Value::Int(-1)];
        v.sort();
        assert_eq!(v, vec![Value::Null, Value::Int(-1), Value::Int(3)]);
        let neg = Value::Time {
            negative: true,
            hours: 30,
            minutes: 0,
            seconds: 0,
            micro: 0,
        };
        let pos = Value::Time {
            negative: false,
            hours: 1,
            minutes: 0,
            seconds: 0,
            micro: 0,
        };
        assert!(neg < pos);
    }

    #[test]
    fn text_is_taken_only_when_it_is_utf8() {
        let long = "é ☃ 🚀 x".repeat(100);
        assert_eq!(into_text(long.clone().into_bytes()), Ok(long.clone()));
        assert_eq!(as_text(long.as_bytes()), Some(long.as_str()));
        for bad in [
            vec![0xff],
            b"abc\xc3".to_vec(),
            [long.as_bytes(), &[0xed, 0xa0, 0x80]].concat(),
        ] {
            assert_eq!(into_text(bad.clone()), Err(bad.clone()));
            assert_eq!(as_text(&bad), None);
        }
    }

    #[test]
    fn hex_of_any_length_is_every_byte_in_two_digits() {
        for n in [0, 1, 31, 32, 33, 511, 512, 513, 1500] {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut got = String::from("x");
            push_hex(&bytes, &mut got);
            assert_eq!(got, format!("x{want}"), "{n} bytes");
        }
    }
}
