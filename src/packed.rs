//! Keys of any shape (strings, several columns) packed into bytes that compare as the keys
//! do: the walk holds, hashes, sorts and searches them as plain byte strings.
//!
//! A key held as values is a vector of [`Value`]s, each string a heap allocation of its own:
//! bench/shapes.py's strings (keys of a UUID and a slug, of 16 bytes) held its 100,000 such keys
//! in about 26 MiB, some 260 bytes a key, where the memory budget allows 32. Packed, a
//! key is its bytes and an offset. Comparing two is one `memcmp` instead of a walk over values.

use crate::engine::value::Value;
use std::cell::RefCell;

/// Appends the bytes of `key`: each value, in order, as its rank (the order [`Value`]'s `Ord`
/// gives values of different variants) and then its content in bytes that compare (as
/// unsigned bytes, shorter first) as the values do. Strings and byte strings escape a zero
/// byte as `00 FF` and end with `00 00`, so one that is a prefix of another sorts first and
/// the values after it never take part in a comparison it decides.
pub fn encode(key: &[Value], out: &mut Vec<u8>) {
    for v in key {
        encode_value(v, out);
    }
}

fn encode_value(v: &Value, out: &mut Vec<u8>) {
    out.push(v.rank());
    match v {
        Value::Null => {}
        Value::Int(i) => out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes()),
        Value::UInt(u) => out.extend_from_slice(&u.to_be_bytes()),
        // The order of `total_cmp`: negatives below positives, each by magnitude.
        Value::Float(f) => {
            let b = f.to_bits();
            let b = if b >> 31 == 1 { !b } else { b | (1 << 31) };
            out.extend_from_slice(&b.to_be_bytes());
        }
        Value::Double(d) => {
            let b = d.to_bits();
            let b = if b >> 63 == 1 { !b } else { b | (1 << 63) };
            out.extend_from_slice(&b.to_be_bytes());
        }
        Value::Decimal(s) | Value::Text(s) => encode_bytes(s.as_bytes(), out),
        Value::Bytes(b) => encode_bytes(b, out),
        Value::Date { year, month, day } => {
            out.extend_from_slice(&year.to_be_bytes());
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
            out.extend_from_slice(&year.to_be_bytes());
            out.extend_from_slice(&[*month, *day, *hour, *minute, *second]);
            out.extend_from_slice(&micro.to_be_bytes());
        }
        // Negative times first, the longest first: their fields inverted.
        Value::Time {
            negative,
            hours,
            minutes,
            seconds,
            micro,
        } => {
            let flip = if *negative { 0xff } else { 0 };
            out.push(u8::from(!*negative));
            out.extend((hours.to_be_bytes()).iter().map(|b| b ^ flip));
            out.extend([*minutes, *seconds].iter().map(|b| b ^ flip));
            out.extend((micro.to_be_bytes()).iter().map(|b| b ^ flip));
        }
    }
}

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let mut rest = bytes;
    while let Some(at) = rest.iter().position(|&b| b == 0) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(&[0, 0xff]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0, 0]);
}

/// The values of a key [`encode`] wrote.
pub fn decode(mut bytes: &[u8]) -> Vec<Value> {
    let mut key = Vec::with_capacity(2);
    while let Some(v) = decode_value(&mut bytes) {
        key.push(v);
    }
    key
}

/// The values of a key [`encode`] wrote of exactly `N` whole numbers held as [`Value::Int`];
/// None for any other key. Read in place, without decoding the key into values.
pub fn ints<const N: usize>(bytes: &[u8]) -> Option<[i64; N]> {
    if bytes.len() != 9 * N {
        return None;
    }
    let mut out = [0; N];
    for (v, int) in bytes.chunks_exact(9).zip(out.iter_mut()) {
        let (&tag, be) = v.split_first()?;
        if tag != Value::Int(0).rank() {
            return None;
        }
        *int = (u64::from_be_bytes(be.try_into().ok()?) ^ (1 << 63)) as i64;
    }
    Some(out)
}

/// How many of `bytes` the first value of the key takes.
pub fn first_len(bytes: &[u8]) -> usize {
    let mut rest = bytes;
    match skip_value(&mut rest) {
        Some(()) => bytes.len() - rest.len(),
        None => bytes.len(),
    }
}

/// The length of the literals of the values `bytes` packs, comma-separated, as the dialects
/// write them (`NULL`, digits, `X'..'` for bytes: `write_common_literal` in dialect.rs),
/// without decoding them; None when one is of another kind, whose literal takes more than its
/// length to know. Sizing the walk's queries wrote every key to measure it (the forum's 24,000
/// users keyed by 16 bytes, twice, while every connection waited for the scan of them).
pub fn literal_len(mut bytes: &[u8]) -> Option<usize> {
    let mut len = 0;
    let mut values = 0;
    while let Some((&tag, rest)) = bytes.split_first() {
        // The bytes the value takes after its tag, and its literal's length.
        let (taken, literal) = match tag {
            0 => (0, 4),
            1 | 2 => {
                let n = u64::from_be_bytes(*rest.first_chunk::<8>()?);
                let mut digits = itoa::Buffer::new();
                let written = match tag {
                    1 => digits.format((n ^ (1 << 63)) as i64).len(),
                    _ => digits.format(n).len(),
                };
                (8, written)
            }
            7 => {
                let (taken, n) = escaped(rest)?;
                (taken, 3 + 2 * n)
            }
            _ => return None,
        };
        bytes = rest.get(taken..)?;
        len += literal;
        values += 1;
    }
    Some(len + values.max(1) - 1)
}

/// Moves `bytes` past its next value as [`decode_value`] does, without decoding it (a string
/// would be copied out).
fn skip_value(bytes: &mut &[u8]) -> Option<()> {
    let (&tag, rest) = bytes.split_first()?;
    let n = match tag {
        0 => 0,
        3 | 8 => 4,
        1 | 2 | 4 => 8,
        9 | 10 => 11,
        5..=7 => escaped(rest)?.0,
        _ => return None,
    };
    *bytes = rest.get(n..)?;
    Some(())
}

/// For a string's packed bytes (after its tag): how many they take, up to and past the first
/// zero byte not followed by 0xff (an escaped zero), and how many bytes the string holds.
fn escaped(rest: &[u8]) -> Option<(usize, usize)> {
    let (mut at, mut held) = (0, 0);
    loop {
        let zero = rest[at..].iter().position(|&b| b == 0)?;
        held += zero;
        let next = *rest.get(at + zero + 1)?;
        at += zero + 2;
        if next == 0 {
            return Some((at, held));
        }
        held += 1;
    }
}

/// The next value of `bytes`, which it moves past; None at the end. Bytes that [`encode`] did
/// not write end the key early (they cannot: no other code writes them).
fn decode_value(bytes: &mut &[u8]) -> Option<Value> {
    let (&tag, rest) = bytes.split_first()?;
    *bytes = rest;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, rest) = bytes.split_at_checked(n)?;
        *bytes = rest;
        Some(head)
    };
    let v = match tag {
        0 => Value::Null,
        1 => Value::Int((u64::from_be_bytes(take(8)?.try_into().ok()?) ^ (1 << 63)) as i64),
        2 => Value::UInt(u64::from_be_bytes(take(8)?.try_into().ok()?)),
        3 => {
            let b = u32::from_be_bytes(take(4)?.try_into().ok()?);
            Value::Float(f32::from_bits(if b >> 31 == 1 {
                b & !(1 << 31)
            } else {
                !b
            }))
        }
        4 => {
            let b = u64::from_be_bytes(take(8)?.try_into().ok()?);
            Value::Double(f64::from_bits(if b >> 63 == 1 {
                b & !(1 << 63)
            } else {
                !b
            }))
        }
        5 | 6 => {
            let s = decode_bytes(bytes)?;
            // Encoded from a String, so UTF-8; lossy rather than a panic were it not.
            let s = String::from_utf8(s)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            if tag == 5 {
                Value::Decimal(s)
            } else {
                Value::Text(s)
            }
        }
        7 => Value::Bytes(decode_bytes(bytes)?),
        8 => {
            let b = take(4)?;
            Value::Date {
                year: u16::from_be_bytes([b[0], b[1]]),
                month: b[2],
                day: b[3],
            }
        }
        9 => {
            let b = take(11)?;
            Value::DateTime {
                year: u16::from_be_bytes([b[0], b[1]]),
                month: b[2],
                day: b[3],
                hour: b[4],
                minute: b[5],
                second: b[6],
                micro: u32::from_be_bytes([b[7], b[8], b[9], b[10]]),
            }
        }
        10 => {
            let b = take(11)?;
            let negative = b[0] == 0;
            let flip = if negative { 0xff } else { 0 };
            let f: Vec<u8> = b[1..].iter().map(|x| x ^ flip).collect();
            Value::Time {
                negative,
                hours: u32::from_be_bytes([f[0], f[1], f[2], f[3]]),
                minutes: f[4],
                seconds: f[5],
                micro: u32::from_be_bytes([f[6], f[7], f[8], f[9]]),
            }
        }
        _ => return None,
    };
    Some(v)
}

fn decode_bytes(bytes: &mut &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let at = bytes.iter().position(|&b| b == 0)?;
        out.extend_from_slice(&bytes[..at]);
        let next = *bytes.get(at + 1)?;
        *bytes = &bytes[at + 2..];
        match next {
            0 => return Some(out),
            _ => out.push(0),
        }
    }
}

thread_local! {
    /// Where a key looked up or searched for is packed (one per thread: no allocation a lookup).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the packed bytes of `key`.
pub fn with_packed<R>(key: &[Value], f: impl FnOnce(&[u8]) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            encode(key, &mut buf);
            f(&buf)
        }
        // Only when `f` packs a key itself: then in a buffer of its own.
        Err(_) => {
            let mut buf = Vec::new();
            encode(key, &mut buf);
            f(&buf)
        }
    })
}

/// Packed keys one after the other in one vector (the i-th ends at `ends[i]`): a key costs its
/// bytes and 8 more.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PackedKeys {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl PackedKeys {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The packed bytes of the `i`-th key.
    pub fn get(&self, i: usize) -> &[u8] {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1],
        };
        &self.bytes[start..self.ends[i]]
    }

    /// The values of the `i`-th key.
    pub fn key(&self, i: usize) -> Vec<Value> {
        decode(self.get(i))
    }

    pub fn push(&mut self, key: &[Value]) {
        encode(key, &mut self.bytes);
        self.ends.push(self.bytes.len());
    }

    pub fn push_packed(&mut self, packed: &[u8]) {
        self.bytes.extend_from_slice(packed);
        self.ends.push(self.bytes.len());
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The keys at `order`, in that order.
    pub fn select(&self, order: impl ExactSizeIterator<Item = usize> + Clone) -> PackedKeys {
        let bytes = order.clone().map(|i| self.get(i).len()).sum();
        let mut out = PackedKeys {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(order.len()),
        };
        for i in order {
            out.push_packed(self.get(i));
        }
        out
    }

    /// Makes room for `n` more keys (of bytes not counted).
    pub fn reserve_keys(&mut self, n: usize) {
        self.ends.reserve_exact(n);
    }

    /// Takes the first `n` keys, leaving the rest.
    pub fn take_front(&mut self, n: usize) -> PackedKeys {
        let n = n.min(self.len());
        let cut = match n {
            0 => 0,
            _ => self.ends[n - 1],
        };
        let front = PackedKeys {
            bytes: self.bytes[..cut].to_vec(),
            ends: self.ends[..n].to_vec(),
        };
        self.bytes.drain(..cut);
        self.ends.drain(..n);
        for e in &mut self.ends {
            *e -= cut;
        }
        front
    }

    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The bytes every key leads with when each has two or more values and all lead with the
    /// same one.
    pub fn shared_lead(&self) -> Option<&[u8]> {
        let first = self.iter().next()?;
        let lead = &first[..first_len(first)];
        self.iter()
            .all(|k| k.len() > lead.len() && k.starts_with(lead))
            .then_some(lead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::UInt),
            any::<f32>().prop_map(Value::Float),
            any::<f64>().prop_map(Value::Double),
            "-?[0-9]{0,4}\\.?[0-9]{0,2}".prop_map(Value::Decimal),
            // Zero bytes and prefixes of each other, which the escaping must order.
            "[\\x00ab\u{e9}]{0,6}".prop_map(Value::Text),
            proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xff)], 0..6)
                .prop_map(Value::Bytes),
            (0u16..3000, 0u8..13, 0u8..32).prop_map(|(year, month, day)| Value::Date {
                year,
                month,
                day
            }),
            (0u16..3000, 0u8..60, 0u32..1_000_000).prop_map(|(year, second, micro)| {
                Value::DateTime {
                    year,
                    month: 1,
                    day: 2,
                    hour: 3,
                    minute: 4,
                    second,
                    micro,
                }
            }),
            (any::<bool>(), 0u32..900, 0u8..60, 0u32..1_000_000).prop_map(
                |(negative, hours, minutes, micro)| Value::Time {
                    negative,
                    hours,
                    minutes,
                    seconds: 7,
                    micro,
                }
            ),
        ]
    }

    fn key() -> impl Strategy<Value = Vec<Value>> {
        proptest::collection::vec(value(), 1..4)
    }

    fn packed(k: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(k, &mut out);
        out
    }

    proptest! {
        #[test]
        fn packed_keys_compare_as_their_values_and_decode_to_them(a in key(), b in key()) {
            let (pa, pb) = (packed(&a), packed(&b));
            prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
            prop_assert_eq!(pa == pb, a == b);
            // Floats by their bits: NaNs of any payload come back as they were.
            let bits = |k: &[Value]| format!("{:?}", k.iter().map(|v| match v {
                Value::Float(f) => Value::UInt(u64::from(f.to_bits())),
                Value::Double(d) => Value::UInt(d.to_bits()),
                v => v.clone(),
            }).collect::<Vec<_>>());
            prop_assert_eq!(bits(&decode(&pa)), bits(&a));
            prop_assert_eq!(first_len(&pa), packed(&a[..1]).len());
            // Where it is known from the packed bytes, a key's literals' length is theirs.
            for dialect in [&crate::dialect::MYSQL as &dyn crate::dialect::Dialect, &crate::dialect::SQLITE] {
                let mut written = String::new();
                dialect.write_values(&a, &mut written);
                let plain = a.iter().all(|v| matches!(v, Value::Null | Value::Int(_) | Value::UInt(_) | Value::Bytes(_)));
                prop_assert_eq!(literal_len(&pa), plain.then_some(written.len()));
            }
        }

        #[test]
        fn keys_of_three_whole_numbers_are_read_in_place(k in key(), ints in proptest::array::uniform3(any::<i64>())) {
            let whole: Vec<Value> = ints.iter().map(|&i| Value::Int(i)).collect();
            prop_assert_eq!(super::ints::<3>(&packed(&whole)), Some(ints));
            let all_ints = k.len() == 3 && k.iter().all(|v| matches!(v, Value::Int(_)));
            prop_assert_eq!(super::ints::<3>(&packed(&k)).is_some(), all_ints);
        }

        #[test]
        fn packed_keys_are_read_back_by_position(keys in proptest::collection::vec(key(), 0..40)) {
            let mut list = PackedKeys::default();
            for k in &keys {
                list.push(k);
            }
            prop_assert_eq!(list.len(), keys.len());
            for (i, k) in keys.iter().enumerate() {
                prop_assert_eq!(&list.key(i), k);
            }
        }
    }

    #[test]
    fn taking_the_front_keeps_the_rest_addressable() {
        let keys: Vec<Vec<Value>> = (0..5)
            .map(|i| vec![Value::Text("org".into()), Value::Text(format!("doc-{i}"))])
            .collect();
        let mut list = PackedKeys::default();
        for k in &keys {
            list.push(k);
        }
        assert_eq!(list.shared_lead(), Some(&packed(&keys[0][..1])[..]));
        let front = list.take_front(2);
        assert_eq!((0..2).map(|i| front.key(i)).collect::<Vec<_>>(), keys[..2]);
        assert_eq!((0..3).map(|i| list.key(i)).collect::<Vec<_>>(), keys[2..]);
        assert_eq!(list.select([2, 0].into_iter()).key(0), keys[4]);
        list.push(&[Value::Text("other".into()), Value::Int(1)]);
        assert_eq!(list.shared_lead(), None);
        assert_eq!(PackedKeys::default().shared_lead(), None);
    }
}
