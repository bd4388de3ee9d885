//! Runs the walk on a source: collects the keys of every row in the subset, to a fixed point.
//!
//! Memory holds keys only (never rows). Every lookup is batched: one query per relation per
//! batch of keys, with the key list sized to stay under the server's packet limit. Where the
//! source estimates row counts, the keys whose children are in a table wait until no more can
//! come; when looking those children up would cost more than reading the whole table, the
//! table is scanned once instead (in ranges of its integer primary key over the connections),
//! keeping the rows whose columns hold one of the keys. Rows the subset references are read so
//! too when there are enough of them ([`Planner::reference_scan`]).

use crate::budget::ByteBudget;
use crate::config::Mode;
use crate::dialect::{BitSet, Dialect};
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::graph::{ChildEdge, Model, Relation, TableModel};
use crate::packed::{self, PackedKeys};
use crate::spool::Spool;
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// hashbrown's map for its `entry_ref` (a key of strings is looked up once, and copied only
/// when new), with foldhash's hasher.
type HashMap<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = hashbrown::HashSet<K, foldhash::fast::RandomState>;

/// A row's key values, in the table's key column order.
pub type Key = Vec<Value>;

/// Keys in one `IN (...)` list unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_KEYS: usize = 20_000;

/// How large one lookup may be: at most `max_keys` keys and `max_bytes` of key literals; and
/// whether the walk may read a table by scanning it when that costs less than lookups.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub max_keys: usize,
    pub max_bytes: usize,
    pub scans: bool,
}

impl Batch {
    /// Batches for `source`, leaving room under its packet limit for the rest of the query.
    pub fn for_source(source: &dyn Source, max_keys: usize) -> Batch {
        Batch {
            max_keys: max_keys.max(1),
            max_bytes: source
                .max_query_bytes()
                .saturating_sub(64 << 10)
                .max(16 << 10),
            scans: true,
        }
    }
}

/// What the walk knows of one row: whether it is owned and whether it was read (and where the
/// spool keeps it, and about how long its record is), packed into one word so a key costs about
/// 16 bytes in its map.
pub type Slot = u64;
const OWNED: Slot = 1 << 63;
const READ: Slot = 1 << 62;
/// The bits of a record's length in the spool (1-33: its record is shorter than 2^that), which
/// lets the dump read rows back in batches of a bounded size whatever their width.
const SIZE_SHIFT: u32 = 56;
const SIZE: Slot = 0x3f << SIZE_SHIFT;
/// Offsets up to 64 PiB.
const OFFSET: Slot = (1 << SIZE_SHIFT) - 1;

/// Whether the row is owned (a root or a row reached from one by child edges).
pub fn slot_owned(slot: Slot) -> bool {
    slot & OWNED != 0
}

/// Whether the row was read (a key only referenced may name no row at all).
pub fn slot_read(slot: Slot) -> bool {
    slot & READ != 0
}

/// Where the spool keeps the row.
pub fn slot_offset(slot: Slot) -> u64 {
    slot & OFFSET
}

/// At most how many bytes the row's record takes in the spool (under twice as many as it
/// does).
pub fn slot_bytes(slot: Slot) -> u64 {
    1 << ((slot & SIZE) >> SIZE_SHIFT)
}

/// The slot of a row read, spooled at `offset` in a record of `bytes`.
fn read_slot(offset: u64, bytes: u64) -> Slot {
    let bits = u64::from(u64::BITS - bytes.leading_zeros());
    READ | (offset & OFFSET) | (bits << SIZE_SHIFT & SIZE)
}

/// The keys of one table, each with its [`Slot`] (hashed: the walk looks keys up for every
/// row it reads and every reference it follows; writing puts them in key order, from
/// [`KeyMap::read_list`]). Keys of one or two integer columns (tables and many-to-many
/// tables, the common cases) are kept bare: 16 or 24 bytes a key, hashed without looking at
/// value types; others as digests ([`GeneralKeys`]).
#[derive(Debug)]
pub enum KeyMap {
    Ints(HashMap<i64, Slot>),
    Pairs(HashMap<(i64, i64), Slot>),
    General(GeneralKeys),
    /// The keys of a table the walk never looks a key up in ([`KeyMap::listing`]), each with
    /// its slot, as the rows came: appended, not hashed. A row read twice (through two child
    /// edges, say) is listed twice here and once in writing's list. Keys of other
    /// forms than integers are not held (None): writing reads them back from the rows in the
    /// spool ([`Listing::InRows`]).
    Listed(Option<KeyList>, Vec<Slot>),
}

/// What stands for a key of any other shape (strings, several columns) in a [`GeneralKeys`]:
/// the key's packed bytes ([`crate::packed`]) when they are under 16, else 15 bytes of a keyed
/// 128-bit SipHash-2-4 of them; the last byte tells which (the length, or 0xff).
type Digest = [u8; 16];

/// Keys of any other shape, each as its digest (`Digest`) with its slot, and a hash table of
/// their positions. The keys themselves are not held: a key is found by its digest, and writing
/// reads the keys of the rows read back from the spool ([`Listing::InRows`]). A key costs 24
/// bytes and its place in the table (5 bytes a bucket), whatever its length: bench/shapes'
/// strings at five times its size (1,100,000 keys, a document's key a UUID and a slug)
/// peaked at 113-131 MiB of RSS holding the keys packed, about 80 bytes a key.
///
/// The hash is keyed with a secret drawn for each map, so no one who can write keys into the
/// source can choose two that collide (SipHash is a pseudorandom function of its key); two keys
/// of a million share a digest by chance with a probability under 10^-24. It was a keyed BLAKE3
/// hash, which took 88 ns a key of 25 bytes here against SipHash's 30: the walk digests a key
/// for every row it reads and every reference it follows, on its one planning thread.
#[derive(Debug)]
pub struct GeneralKeys {
    entries: Vec<(Digest, Slot)>,
    /// Positions in `entries`, hashed by their digest. (A table of 2^32 keys would take 96
    /// GiB in `entries` first.)
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    /// Keyed with the map's secret.
    sip: siphasher::sip128::SipHasher24,
}

impl Default for GeneralKeys {
    fn default() -> Self {
        // Two outputs of std's SipHash under keys it draws from the system's random source.
        let state = std::hash::RandomState::new();
        let secret = |i: u64| std::hash::BuildHasher::hash_one(&state, i);
        GeneralKeys {
            entries: Vec::new(),
            table: hashbrown::HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            sip: siphasher::sip128::SipHasher24::new_with_keys(secret(0), secret(1)),
        }
    }
}

impl GeneralKeys {
    fn digest(&self, packed: &[u8]) -> Digest {
        let mut d = [0u8; 16];
        match packed.len() {
            // Short keys (a number, a date, a short code) as they are: no hash to compute.
            n @ 0..16 => {
                d[..n].copy_from_slice(packed);
                d[15] = n as u8;
            }
            _ => {
                let hash = u128::from(self.sip.hash(packed)).to_le_bytes();
                d[..15].copy_from_slice(&hash[..15]);
                d[15] = 0xff;
            }
        }
        d
    }

    fn hash(&self, d: &Digest) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, d)
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn get(&self, key: &[Value]) -> Option<Slot> {
        packed::with_packed(key, |p| self.get_packed(p))
    }

    fn get_packed(&self, packed: &[u8]) -> Option<Slot> {
        let d = self.digest(packed);
        self.table
            .find(self.hash(&d), |&i| self.entries[i as usize].0 == d)
            .map(|&i| self.entries[i as usize].1)
    }

    /// The slot of `key`, added as 0 when new; and whether it is.
    fn entry(&mut self, key: &[Value]) -> (&mut Slot, bool) {
        let d = packed::with_packed(key, |p| self.digest(p));
        let hash = self.hash(&d);
        let (entries, hasher) = (&mut self.entries, &self.hasher);
        let (at, new) = match self.table.entry(
            hash,
            |&i| entries[i as usize].0 == d,
            |&i| std::hash::BuildHasher::hash_one(hasher, entries[i as usize].0),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => (*e.get() as usize, false),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let at = entries.len();
                e.insert(at as u32);
                entries.push((d, 0));
                (at, true)
            }
        };
        (&mut self.entries[at].1, new)
    }
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::Ints(HashMap::default())
    }
}

/// The compact forms of a key: one integer, two integers, or anything.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Int(i64),
    Pair(i64, i64),
    Other,
}

fn shape(key: &[Value]) -> Shape {
    match key {
        [Value::Int(i)] => Shape::Int(*i),
        [Value::Int(a), Value::Int(b)] => Shape::Pair(*a, *b),
        _ => Shape::Other,
    }
}

/// How [`Planner::lead_rows`] holds a value: packed, so values of any type are keys alike.
fn lead_key(v: &Value) -> Vec<u8> {
    let mut packed = Vec::new();
    packed::encode(std::slice::from_ref(v), &mut packed);
    packed
}

/// The value that the keys `held` for an edge and the `more` come for it all lead with, if one.
fn one_lead(held: &SharedKeys, more: &KeyList) -> Option<Value> {
    let more = more.shared_lead()?;
    match &held.lead {
        _ if held.is_empty() => Some(more),
        Some((lead, _)) if *lead == more => Some(more),
        _ => None,
    }
}

/// For packed keys of three whole numbers each: the least and greatest of their second
/// column, and of their third; None for an empty list or when a key is of another form.
fn rest_spans(keys: &PackedKeys) -> Option<Rest> {
    let mut spans: Option<Rest> = None;
    for k in keys.iter() {
        let [_, b, c] = packed::ints::<3>(k)?;
        spans = Some(match spans {
            None => [(b, b), (c, c)],
            Some([x, y]) => [(x.0.min(b), x.1.max(b)), (y.0.min(c), y.1.max(c))],
        });
    }
    spans
}

fn int_key(i: i64) -> Key {
    vec![Value::Int(i)]
}

fn pair_key((a, b): (i64, i64)) -> Key {
    vec![Value::Int(a), Value::Int(b)]
}

impl KeyMap {
    /// An empty map of keys that are only listed, never looked up: for a table whose rows
    /// lead nowhere (no child edges, and nothing references it), whose keys the walk keeps
    /// only for writing the rows in key order. The benchmark at scale 10: 1,250,000 of the
    /// large tenant's 2,000,000 keys (comments, task_tags, events, attachments), which took 17
    /// or 25 bytes a bucket of hash tables a half to seven eighths full. Peak RSS 110-117 ->
    /// 97-100 MiB, client CPU 2.70-2.84 -> 2.38-2.41 s (3 runs each, taken turn about); at
    /// scale 1, 1.598 -> 1.575 billion instructions.
    pub fn listing() -> KeyMap {
        KeyMap::Listed(Some(KeyList::default()), Vec::new())
    }

    /// Whether the map holds no key at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        match self {
            KeyMap::Ints(m) => m.len(),
            KeyMap::Pairs(m) => m.len(),
            KeyMap::General(m) => m.len(),
            KeyMap::Listed(_, slots) => slots.len(),
        }
    }

    /// The slot of `key`. In a listing map, found by going through the list, if it holds its
    /// keys (the walk never asks one).
    pub fn get(&self, key: &[Value]) -> Option<Slot> {
        match (self, shape(key)) {
            (KeyMap::Ints(m), Shape::Int(i)) => m.get(&i).copied(),
            (KeyMap::Pairs(m), Shape::Pair(a, b)) => m.get(&(a, b)).copied(),
            (KeyMap::General(m), _) => m.get(key),
            (KeyMap::Listed(keys, slots), _) => keys.as_ref()?.find(key).map(|i| slots[i]),
            _ => None,
        }
    }

    /// The slot of a key packed by [`crate::packed`].
    fn get_packed(&self, packed: &[u8]) -> Option<Slot> {
        match self {
            KeyMap::General(m) => m.get_packed(packed),
            _ => self.get(&packed::decode(packed)),
        }
    }

    /// Whether the row with `key` is in the subset and owned; None when it is not in it.
    pub fn owned(&self, key: &[Value]) -> Option<bool> {
        self.read(key).map(slot_owned)
    }

    /// The slot of the row with `key`, if it was read.
    pub fn read(&self, key: &[Value]) -> Option<Slot> {
        self.get(key).filter(|s| slot_read(*s))
    }

    /// Keys a reference named whose row was never read: rows the source lacks (a reference
    /// it did not enforce). How many, and the first `sample` of them in order where the map
    /// holds keys as values (integers); none for digests.
    pub fn unread(&self, sample: usize) -> (usize, Vec<Vec<Value>>) {
        fn first<K: Ord + Copy>(
            keys: impl Iterator<Item = (K, Slot)>,
            sample: usize,
        ) -> (usize, Vec<K>) {
            let mut missing: Vec<K> = keys
                .filter(|(_, s)| !slot_read(*s))
                .map(|(k, _)| k)
                .collect();
            missing.sort_unstable();
            let n = missing.len();
            missing.truncate(sample);
            (n, missing)
        }
        match self {
            KeyMap::Ints(m) => {
                let (n, keys) = first(m.iter().map(|(&k, &s)| (k, s)), sample);
                (n, keys.into_iter().map(|k| vec![Value::Int(k)]).collect())
            }
            KeyMap::Pairs(m) => {
                let (n, keys) = first(m.iter().map(|(&k, &s)| (k, s)), sample);
                let keys = keys
                    .into_iter()
                    .map(|(a, b)| vec![Value::Int(a), Value::Int(b)])
                    .collect();
                (n, keys)
            }
            KeyMap::General(m) => (
                m.entries.iter().filter(|(_, s)| !slot_read(*s)).count(),
                Vec::new(),
            ),
            KeyMap::Listed(_, slots) => {
                (slots.iter().filter(|s| !slot_read(**s)).count(), Vec::new())
            }
        }
    }

    /// The slots of the rows read, in the order they sit in the spool. A row is here once,
    /// except in a listing map, which the walk never looks a key up in ([`KeyMap::listing`]).
    pub fn read_slots(&self) -> Vec<Slot> {
        let mut slots: Vec<Slot> = match self {
            KeyMap::Ints(m) => m.values().copied().collect(),
            KeyMap::Pairs(m) => m.values().copied().collect(),
            KeyMap::General(m) => m.entries.iter().map(|(_, s)| *s).collect(),
            KeyMap::Listed(_, slots) => slots.clone(),
        };
        slots.retain(|s| slot_read(*s));
        slots.sort_unstable_by_key(|&s| slot_offset(s));
        slots
    }

    /// The slots of the rows read, in key order where the map holds their keys; or, for keys
    /// it does not hold, the slots of the rows to read them from.
    pub fn read_list(self) -> Listing {
        fn by_key<K: Ord>(m: HashMap<K, Slot>) -> Vec<Slot> {
            let mut rows: Vec<(K, Slot)> = m.into_iter().filter(|(_, s)| slot_read(*s)).collect();
            rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            rows.into_iter().map(|(_, s)| s).collect()
        }
        match self {
            KeyMap::Listed(Some(KeyList::Ints(k)), slots) => {
                Listing::InOrder(listed_by_key(k, slots))
            }
            KeyMap::Listed(Some(KeyList::Pairs(k)), slots) => {
                Listing::InOrder(listed_by_key(k, slots))
            }
            // A listing map holds no keys of other forms ([`KeyMap::entry`]).
            KeyMap::Listed(_, slots) => {
                Listing::InRows(slots.into_iter().filter(|s| slot_read(*s)).collect())
            }
            KeyMap::Ints(m) => Listing::InOrder(by_key(m)),
            KeyMap::Pairs(m) => Listing::InOrder(by_key(m)),
            KeyMap::General(m) => Listing::InRows(
                m.entries
                    .into_iter()
                    .map(|(_, s)| s)
                    .filter(|s| slot_read(*s))
                    .collect(),
            ),
        }
    }

    /// Makes the map able to hold `key`: an empty map takes the key's compact form; a map
    /// meeting a key that does not fit its form turns general for good.
    fn fit(&mut self, key: Shape) {
        let fits = matches!(
            (&*self, key),
            (KeyMap::Ints(_), Shape::Int(_))
                | (KeyMap::Pairs(_), Shape::Pair(..))
                | (KeyMap::General(_), _)
                // Lists any key as it is.
                | (KeyMap::Listed(..), _)
        );
        if fits {
            return;
        }
        *self = if self.is_empty() {
            match key {
                Shape::Int(_) => KeyMap::Ints(HashMap::default()),
                Shape::Pair(..) => KeyMap::Pairs(HashMap::default()),
                Shape::Other => KeyMap::General(GeneralKeys::default()),
            }
        } else {
            let mut general = GeneralKeys::default();
            match self {
                KeyMap::Ints(m) => {
                    for (i, s) in m.iter() {
                        *general.entry(&int_key(*i)).0 = *s;
                    }
                }
                KeyMap::Pairs(m) => {
                    for (p, s) in m.iter() {
                        *general.entry(&pair_key(*p)).0 = *s;
                    }
                }
                KeyMap::General(m) => general = std::mem::take(m),
                // Not here: a listing map fits any key (above).
                KeyMap::Listed(..) => return,
            }
            KeyMap::General(general)
        };
    }

    /// The slot of `key`, added as 0 (not owned, not read) when new; and whether it is new.
    /// One lookup: this runs for every row the walk reads and every reference it follows.
    fn entry(&mut self, key: &[Value]) -> (&mut Slot, bool) {
        let shape = shape(key);
        let mut new = false;
        let insert = || {
            new = true;
            0
        };
        let slot = match (self, shape) {
            (KeyMap::Ints(m), Shape::Int(i)) => m.entry(i).or_insert_with(insert),
            (KeyMap::Pairs(m), Shape::Pair(a, b)) => m.entry((a, b)).or_insert_with(insert),
            // Copied only when new: most keys met are known (a row's references to rows
            // read), and copying a key of strings allocates.
            (KeyMap::General(m), _) => return m.entry(key),
            // Every key is new to a listing map: nothing looks keys up in it. It holds keys
            // of integers; others are read back from the rows.
            (KeyMap::Listed(keys, slots), shape) => {
                match (keys.as_mut(), shape) {
                    (Some(KeyList::Ints(v)), Shape::Int(i)) => v.push(i),
                    (Some(KeyList::Pairs(v)), Shape::Pair(a, b)) => v.push((a, b)),
                    (Some(list), Shape::Int(_) | Shape::Pair(..)) if list.is_empty() => {
                        list.push(key)
                    }
                    _ => *keys = None,
                }
                slots.push(0);
                new = true;
                slots
                    .last_mut()
                    .unwrap_or_else(|| unreachable!("just pushed"))
            }
            (map, _) => {
                // Once per table at most: afterwards the map's form holds the key's.
                map.fit(shape);
                return map.entry(key);
            }
        };
        (slot, new)
    }
}

/// A table's rows read, as writing needs them ([`KeyMap::read_list`]).
#[derive(Debug)]
pub enum Listing {
    /// Their slots, in key order (the map held their keys).
    InOrder(Vec<Slot>),
    /// The slots of the rows whose keys the map does not hold (keys of strings, say): writing
    /// reads the keys back from the rows and sorts them ([`read_order`]). A row may be
    /// here twice (see [`KeyMap::Listed`]).
    InRows(Vec<Slot>),
}

/// Keys addressed by position, compactly (8 or 16 bytes a key for integer keys, packed bytes
/// for others): a table's keys in key order, or the keys waiting for the walk to follow them.
#[derive(Debug)]
pub enum KeyList {
    Ints(Vec<i64>),
    Pairs(Vec<(i64, i64)>),
    General(PackedKeys),
}

impl Default for KeyList {
    fn default() -> Self {
        KeyList::Ints(Vec::new())
    }
}

impl KeyList {
    pub fn len(&self) -> usize {
        match self {
            KeyList::Ints(v) => v.len(),
            KeyList::Pairs(v) => v.len(),
            KeyList::General(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn key(&self, i: usize) -> Key {
        match self {
            KeyList::Ints(v) => int_key(v[i]),
            KeyList::Pairs(v) => pair_key(v[i]),
            KeyList::General(v) => v.key(i),
        }
    }

    /// Adds a key at the end (a key that does not fit the list's form turns it general).
    pub fn push(&mut self, key: &[Value]) {
        match (&mut *self, shape(key)) {
            (KeyList::Ints(v), Shape::Int(i)) => v.push(i),
            (KeyList::Pairs(v), Shape::Pair(a, b)) => v.push((a, b)),
            (KeyList::General(v), _) => v.push(key),
            (list, shape) => {
                *list = match (list.is_empty(), shape) {
                    (true, Shape::Int(i)) => KeyList::Ints(vec![i]),
                    (true, Shape::Pair(a, b)) => KeyList::Pairs(vec![(a, b)]),
                    _ => {
                        let mut all = PackedKeys::default();
                        for i in 0..list.len() {
                            all.push(&list.key(i));
                        }
                        all.push(key);
                        KeyList::General(all)
                    }
                }
            }
        }
    }

    /// Adds every key of `other` at the end.
    pub fn append(&mut self, other: &KeyList) {
        // Into an empty list (of whatever form) as they are: a list of strings appended to a
        // new one was decoded and packed again key by key (a scan's keys, as the walk cut it
        // into ranges while every connection waited: with the sizes below, the forum's scan
        // of 24,000 users was planned in 9.5 ms instead of 11).
        if self.is_empty() {
            *self = match other {
                KeyList::Ints(v) => KeyList::Ints(v.clone()),
                KeyList::Pairs(v) => KeyList::Pairs(v.clone()),
                KeyList::General(v) => KeyList::General(v.clone()),
            };
            return;
        }
        match (&mut *self, other) {
            (KeyList::Ints(a), KeyList::Ints(b)) => a.extend_from_slice(b),
            (KeyList::Pairs(a), KeyList::Pairs(b)) => a.extend_from_slice(b),
            (KeyList::General(a), KeyList::General(b)) => b.iter().for_each(|k| a.push_packed(k)),
            _ => {
                for i in 0..other.len() {
                    self.push(&other.key(i));
                }
            }
        }
    }

    /// Writes the literals of the `i`-th key, comma-separated.
    pub fn write_key(&self, i: usize, dialect: &dyn Dialect, out: &mut String) {
        self.write_key_from(i, 0, dialect, out);
    }

    /// Writes the literals of the `i`-th key from its column `from` on, comma-separated.
    fn write_key_from(&self, i: usize, from: usize, dialect: &dyn Dialect, out: &mut String) {
        match (self, from) {
            (KeyList::Ints(v), 0) => dialect.write_literal(&Value::Int(v[i]), out),
            (KeyList::Ints(_), _) => {}
            (KeyList::Pairs(v), 0) => {
                dialect.write_literal(&Value::Int(v[i].0), out);
                out.push(',');
                dialect.write_literal(&Value::Int(v[i].1), out);
            }
            (KeyList::Pairs(v), 1) => dialect.write_literal(&Value::Int(v[i].1), out),
            (KeyList::Pairs(_), _) => {}
            (KeyList::General(v), _) => {
                dialect.write_values(v.key(i).get(from..).unwrap_or(&[]), out)
            }
        }
    }

    /// The value every key leads with, when the keys have two or more columns and all lead
    /// with one (one tenant's keys, say).
    fn shared_lead(&self) -> Option<Value> {
        match self {
            KeyList::Ints(_) => None,
            KeyList::Pairs(v) => {
                let lead = v.first()?.0;
                v.iter().all(|p| p.0 == lead).then_some(Value::Int(lead))
            }
            KeyList::General(v) => v.shared_lead().and_then(|lead| packed::decode(lead).pop()),
        }
    }

    /// The number of columns of its keys when they are one or two integers (in `i64`), which
    /// a key table holds.
    fn int_width(&self) -> Option<usize> {
        match self {
            KeyList::Ints(_) => Some(1),
            KeyList::Pairs(_) => Some(2),
            KeyList::General(_) => None,
        }
    }

    /// Bytes the keys take in an IN list (about: their literals and separators), whole and,
    /// when they all lead with one value, without it and its comma (see [`ListBytes`]).
    fn literal_bytes(&self, dialect: &dyn Dialect) -> ListBytes {
        let mut scratch = String::new();
        // Whole numbers are counted, not written: the forum's 80,000 posts' pairs, sized for
        // the scans of their post tags and votes, took 40% of the walk's thread while it
        // planned them, every connection waiting.
        let whole = match self {
            KeyList::Ints(v) => v.iter().map(|&k| int_text_len(k) + 3).sum(),
            KeyList::Pairs(v) => v
                .iter()
                .map(|&(a, b)| int_text_len(a) + 1 + int_text_len(b) + 3)
                .sum(),
            // Measured from the packed bytes where they tell (numbers, bytes), else written.
            KeyList::General(v) => (0..self.len())
                .map(|i| {
                    packed::literal_len(v.get(i)).unwrap_or_else(|| {
                        scratch.clear();
                        self.write_key(i, dialect, &mut scratch);
                        scratch.len()
                    }) + 3
                })
                .sum(),
        };
        let lead = self.shared_lead().map(|lead| {
            scratch.clear();
            dialect.write_literal(&lead, &mut scratch);
            let rest = whole - self.len() * (scratch.len() + 1);
            (lead, rest)
        });
        let span = |v: &mut dyn Iterator<Item = i64>| {
            v.fold(None, |s: Option<(i64, i64)>, k| {
                Some(s.map_or((k, k), |(lo, hi)| (lo.min(k), hi.max(k))))
            })
        };
        let (first, last) = match self {
            KeyList::Ints(v) => {
                let s = span(&mut v.iter().copied());
                (s, s)
            }
            KeyList::Pairs(v) => (
                span(&mut v.iter().map(|p| p.0)),
                span(&mut v.iter().map(|p| p.1)),
            ),
            KeyList::General(_) => (None, None),
        };
        let rest = match self {
            KeyList::General(v) if lead.is_some() => rest_spans(v),
            _ => None,
        };
        ListBytes {
            whole,
            lead,
            first,
            last,
            rest,
        }
    }

    /// Takes the first `n` keys (or all), leaving the rest. What is taken holds just its keys:
    /// held for a scan, a list that kept the whole list's room (splitting it off the front)
    /// made 23 rounds of the large tenant's tasks at scale 10 hold 52 MB for 4.8 MB of keys.
    pub fn take_front(&mut self, n: usize) -> KeyList {
        if n >= self.len() {
            let mut all = std::mem::take(self);
            all.shrink_to_fit();
            return all;
        }
        match self {
            KeyList::Ints(v) => KeyList::Ints(v.drain(..n).collect()),
            KeyList::Pairs(v) => KeyList::Pairs(v.drain(..n).collect()),
            KeyList::General(v) => KeyList::General(v.take_front(n)),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            KeyList::Ints(v) => v.shrink_to_fit(),
            KeyList::Pairs(v) => v.shrink_to_fit(),
            KeyList::General(v) => v.shrink_to_fit(),
        }
    }

    /// Up to `n` keys from position `start`, as values.
    pub fn chunk(&self, start: usize, n: usize) -> Vec<Key> {
        (start..self.len().min(start + n))
            .map(|i| self.key(i))
            .collect()
    }

    /// The first position of `key`, going through the list (which need not be in order).
    fn find(&self, key: &[Value]) -> Option<usize> {
        match (self, shape(key)) {
            (KeyList::Ints(v), Shape::Int(i)) => v.iter().position(|&x| x == i),
            (KeyList::Pairs(v), Shape::Pair(a, b)) => v.iter().position(|&x| x == (a, b)),
            (KeyList::General(v), _) => packed::with_packed(key, |p| v.iter().position(|k| k == p)),
            _ => None,
        }
    }
}

/// Per reference of a table to itself held in its rows: the relation and the (row, referenced
/// row) pairs of integer keys met, or None once a key was not one integer. Writing the table in
/// an order that loads then needs no second pass over its rows.
pub type SelfRefs = Vec<(usize, Option<Vec<(i64, i64)>>)>;

/// A set of non-negative integers as bits, kept for those whose bits take no more than 8 bytes
/// for each key of the table held, and 64 KiB: the keys of a table that the walk looks up as
/// rows reference them. Most references name a row met before (a comment's author, a task's
/// assignee): the large tenant's dump at scale 1 made some 220,000 such lookups in hash tables
/// of up to 60,000 keys, most missing the caches (8.7% of the client's samples under `perf`).
/// A set bit says the table's [`KeyMap`] holds the key (keys are never taken out of it); a bit
/// not set says nothing, and the map is asked.
#[derive(Debug, Default)]
struct KnownInts {
    words: Vec<u64>,
}

impl KnownInts {
    /// Words allowed beyond one a key held.
    const SLACK_WORDS: usize = 8 * 1024;

    fn contains(&self, key: &[Value]) -> bool {
        match key {
            [Value::Int(i)] if *i >= 0 => self
                .words
                .get((*i as u64 >> 6) as usize)
                .is_some_and(|w| w & (1 << (*i & 63)) != 0),
            _ => false,
        }
    }

    /// Notes that the map, holding `held` keys, holds `key` (when its bit takes little room).
    fn insert(&mut self, key: &[Value], held: usize) {
        let [Value::Int(i)] = key else {
            return;
        };
        let Ok(at) = usize::try_from(*i >> 6) else {
            return; // negative
        };
        if at >= self.words.len() {
            if at >= held.saturating_add(Self::SLACK_WORDS) {
                return;
            }
            self.words.resize(at + 1, 0);
        }
        self.words[at] |= 1 << (*i & 63);
    }
}

/// What the walk collected for one table.
#[derive(Debug, Default)]
pub struct TableKeys {
    /// Every key met: rows read, and keys referenced whose row is still to be read (or that
    /// name no row: a reference the schema does not enforce may dangle).
    pub keys: KeyMap,
    /// Which one-integer keys `keys` holds, where the bits take little room: a reference to a
    /// row met before costs a bit's test rather than a probe of the hash table.
    known: KnownInts,
    /// Rows read.
    pub read: usize,
    /// Seconds spent in the queries that read this table's rows.
    pub seconds: f64,
    /// Times the walk read the table by a scan instead of looking its rows up: for children of
    /// owned rows, and for rows the subset references.
    pub scans: usize,
    pub reference_scans: usize,
    /// Keys referenced but not read yet.
    pending_fetch: KeyList,
    /// Owned rows whose children are still to be looked up.
    pending_children: KeyList,
    /// Per child edge whose relation references other columns than the key (a unique email,
    /// say): the relation, and those columns' values in each row of `pending_children`, in the
    /// same order. Its children are looked up by these values, not by a join to this table.
    pending_values: Vec<(usize, KeyList)>,
    /// Rows not owned whose children through `always` edges are still to be looked up, and
    /// their values as `pending_values` holds them for `pending_children`.
    pending_parts: KeyList,
    parts_values: Vec<(usize, KeyList)>,
    /// Rows whose references through a join (not held in the row itself) are still to follow.
    pending_indirect: KeyList,
    /// The table's references to itself held in its rows (when the rows are kept).
    pub self_refs: SelfRefs,
    /// Whether a row read references another row of the table (a reference to itself held
    /// in the row and not NULL; noted when the rows are kept).
    pub references_itself: bool,
}

impl TableKeys {
    /// Notes that the row with `key` references the row of the same table with `parent`
    /// through `relation` (nothing when `parent` holds a NULL).
    fn note_self_ref(&mut self, relation: usize, key: &[Value], parent: &[Value]) {
        let at = match self.self_refs.iter().position(|(r, _)| *r == relation) {
            Some(at) => at,
            None => {
                self.self_refs.push((relation, Some(Vec::new())));
                self.self_refs.len() - 1
            }
        };
        let pairs = &mut self.self_refs[at].1;
        if !parent.iter().any(Value::is_null) {
            self.references_itself = true;
        }
        match (key, parent) {
            (_, p) if p.iter().any(Value::is_null) => {}
            ([Value::Int(k)], [Value::Int(p)]) => {
                if let Some(pairs) = pairs {
                    pairs.push((*k, *p));
                }
            }
            _ => *pairs = None,
        }
    }

    /// Notes the row with `key` as one whose children are to be looked up: an owned row's
    /// through every child edge, or (`parts`) another's through the `always` edges; and the
    /// values the child edges by other columns than the key look them up by.
    fn push_children(&mut self, layout: &Layout, key: &[Value], row: &[Value], parts: bool) {
        let (keys, values) = match parts {
            false => (&mut self.pending_children, &mut self.pending_values),
            true => (&mut self.pending_parts, &mut self.parts_values),
        };
        keys.push(key);
        for (relation, columns) in &layout.by_value {
            let at = match values.iter().position(|(r, _)| r == relation) {
                Some(at) => at,
                None => {
                    values.push((*relation, KeyList::default()));
                    values.len() - 1
                }
            };
            values[at].1.push(&values_at(row, columns));
        }
    }

    /// Takes the first `n` rows whose children are to be looked up (`parts`: rows not owned,
    /// through the `always` edges), and their values (see [`TableKeys::pending_values`]).
    fn take_children(&mut self, n: usize, parts: bool) -> (KeyList, Vec<(usize, KeyList)>) {
        let (keys, values) = match parts {
            false => (&mut self.pending_children, &mut self.pending_values),
            true => (&mut self.pending_parts, &mut self.parts_values),
        };
        let keys = keys.take_front(n);
        let values = values
            .iter_mut()
            .map(|(r, list)| (*r, list.take_front(keys.len())))
            .collect();
        (keys, values)
    }

    fn has_pending(&self) -> bool {
        !(self.pending_fetch.is_empty()
            && self.pending_children.is_empty()
            && self.pending_parts.is_empty()
            && self.pending_indirect.is_empty())
    }
}

/// A root: a table and a SQL condition on it, with the text the user gave for messages.
#[derive(Debug, Clone)]
pub struct Root {
    pub table: String,
    pub condition: String,
    pub display: String,
}

/// The collected subset: per table (in the model's table order) its keys, and with a spool,
/// every row.
#[derive(Default)]
pub struct Subset {
    pub names: Vec<String>,
    pub tables: Vec<TableKeys>,
    /// The root rows, with the root that selected them.
    pub roots: BTreeMap<(String, Key), String>,
    /// The rows read, when the walk was asked to keep them.
    pub spool: Option<Spool>,
}

/// The values at `positions` of `row`, borrowed when they are side by side.
fn values_at<'r>(row: &'r [Value], positions: &[usize]) -> Cow<'r, [Value]> {
    match positions {
        [first, ..] if positions.iter().enumerate().all(|(i, p)| *p == first + i) => {
            Cow::Borrowed(&row[*first..*first + positions.len()])
        }
        _ => Cow::Owned(positions.iter().map(|&p| row[p].clone()).collect()),
    }
}

/// Puts the rows of a message in key order, if they are not already (a scan returns them in
/// key order; a lookup through an index in the index's). The spool keeps them as they come,
/// and the dump reads them back in key order. The benchmark's `tasks`, looked up by project,
/// came back one row to a stretch of the spool: at scale 1, 25,900 reads of ~700 bytes (1,700-2,900
/// reads in order, the same time); at scale 10, writing the dump out took 0.83-0.85 s against
/// 0.67-0.68 s in order (of 7.7-8.0 s in all).
fn key_order(rows: &Rows, key: &[usize]) -> Option<Vec<usize>> {
    let cmp = |a: usize, b: usize| {
        let (a, b) = (rows.row(a), rows.row(b));
        match key {
            // Most keys are one column: compared as such, not through iterators of one value.
            &[k] => a[k].cmp(&b[k]),
            _ => key.iter().map(|&k| &a[k]).cmp(key.iter().map(|&k| &b[k])),
        }
    };
    if (1..rows.len()).all(|i| cmp(i - 1, i).is_le()) {
        return None;
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    Some(order)
}

impl Subset {
    fn new(model: &Model, spool: Option<Spool>) -> Subset {
        Subset {
            names: model.tables.keys().cloned().collect(),
            tables: model
                .tables
                .keys()
                .map(|t| TableKeys {
                    // The walk looks keys up only in tables whose rows lead somewhere: to
                    // children, or as rows referenced. The others' keys are kept for writing
                    // their rows, only where rows are.
                    // (Names compared as MySQL may spell them, in any case: a table wrongly
                    // taken as leading nowhere would have its keys looked up in a list.)
                    keys: match spool.is_some()
                        && !model
                            .relations
                            .iter()
                            .any(|r| r.parent.eq_ignore_ascii_case(t))
                    {
                        // A keyless table's rows are each listed, their keys (all columns) read
                        // back from the rows, not merged ([`read_order`]).
                        _ if model.tables[t].keyless => KeyMap::Listed(None, Vec::new()),
                        true => KeyMap::listing(),
                        false => KeyMap::default(),
                    },
                    ..TableKeys::default()
                })
                .collect(),
            roots: BTreeMap::new(),
            spool,
        }
    }

    /// What was collected for `table`.
    pub fn table(&self, table: &str) -> Option<&TableKeys> {
        let i = self.position(table)?;
        self.tables.get(i)
    }

    fn table_mut(&mut self, table: &str) -> Option<&mut TableKeys> {
        let i = self.position(table)?;
        self.tables.get_mut(i)
    }

    fn position(&self, table: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(table)).ok()
    }

    /// Takes the keys of `table` out (for writing its rows; they are not needed after).
    pub fn take_keys(&mut self, table: &str) -> Option<KeyMap> {
        self.table_mut(table).map(|t| std::mem::take(&mut t.keys))
    }

    /// Takes the self-references noted for `table` out (see [`TableKeys::self_refs`]).
    pub fn take_self_refs(&mut self, table: &str) -> SelfRefs {
        self.table_mut(table)
            .map(|t| std::mem::take(&mut t.self_refs))
            .unwrap_or_default()
    }

    /// Number of rows of `table` in the subset.
    pub fn count(&self, table: &str) -> usize {
        self.table(table).map_or(0, |t| t.read)
    }

    /// Takes in a row a query read from table `id` (laid out as `layout` says): records it
    /// (and spools it) the first time, and queues what it leads to.
    fn found(
        &mut self,
        layout: &Layout,
        id: usize,
        row: &[Value],
        record: Option<&[u8]>,
        owned: bool,
        via: Option<usize>,
    ) -> Result<()> {
        let key = values_at(row, &layout.key);
        // A key holding NULL names no row; a keyless table's columns may hold it.
        if !layout.keyless && key.iter().any(Value::is_null) {
            return Ok(());
        }
        let tk = &mut self.tables[id];
        // Noted before the map takes the key, which it does next (no map but a listing one is
        // asked whether it holds a key).
        if !matches!(tk.keys, KeyMap::Listed(..)) {
            tk.known.insert(&key, tk.keys.len() + 1);
        }
        let (slot, _) = tk.keys.entry(&key);
        if slot_read(*slot) {
            if owned && !slot_owned(*slot) {
                *slot |= OWNED;
                if layout.children {
                    tk.push_children(layout, &key, row, false);
                }
            }
            return Ok(());
        }
        let (offset, bytes) = match &mut self.spool {
            Some(spool) if layout.row_width > 0 => {
                let offset = match record {
                    Some(record) => spool.append_record(record)?,
                    None => spool.append(&row[..layout.row_width])?,
                };
                (offset, spool.len() - offset)
            }
            _ => (0, 0),
        };
        *slot = read_slot(offset, bytes) | if owned { OWNED } else { 0 };
        tk.read += 1;
        if owned && layout.children {
            tk.push_children(layout, &key, row, false);
        } else if !owned && layout.parts {
            tk.push_children(layout, &key, row, true);
        }
        // A row read as a child through a reference that needs a join references, through it,
        // the row it was read as a child of, which was read: that reference needs no query.
        if layout.indirect.iter().any(|&r| Some(r) != via) {
            tk.pending_indirect.push(&key);
        }
        for d in &layout.direct {
            // Noted whatever the reference's condition says, as the order of the rows must
            // follow every value the column holds.
            let note = d.parent == id && self.spool.is_some();
            // Read as a child of the row it references here, which was read (only rows read
            // have their children looked for); or the reference's condition does not hold:
            // nothing to look up.
            let skip = Some(d.relation) == via
                || d.flag
                    .is_some_and(|flag| !matches!(row[flag], Value::Int(1)));
            if skip && !note {
                continue;
            }
            // Copied (when not side by side in the row) once for both.
            let parent_key = values_at(row, &d.columns);
            if note {
                self.tables[id].note_self_ref(d.relation, &key, &parent_key);
            }
            if !skip && parent_key.iter().all(|v| !v.is_null()) {
                self.want(d.parent, &parent_key);
            }
        }
        Ok(())
    }

    /// Notes that the row of table `id` with `key` is referenced: read it unless known.
    fn want(&mut self, id: usize, key: &[Value]) {
        let tk = &mut self.tables[id];
        if tk.known.contains(key) {
            return;
        }
        if tk.keys.entry(key).1 {
            tk.pending_fetch.push(key);
        }
        tk.known.insert(key, tk.keys.len());
    }
}

/// Bytes `key` takes in an IN list (about: its literals and separators).
fn key_bytes(dialect: &dyn Dialect, key: &[Value], scratch: &mut String) -> usize {
    scratch.clear();
    for v in key {
        dialect.write_literal(v, scratch);
    }
    scratch.len() + key.len() + 3
}

/// How many of `keys` one IN list holds under `batch` (at least one).
fn batch_len<K: AsRef<[Value]>>(dialect: &dyn Dialect, keys: &[K], batch: Batch) -> usize {
    let mut n = 0;
    let mut size = 0;
    let mut scratch = String::new();
    while n < keys.len() && n < batch.max_keys {
        size += key_bytes(dialect, keys[n].as_ref(), &mut scratch);
        if n > 0 && size > batch.max_bytes {
            break;
        }
        n += 1;
    }
    n.max(1).min(keys.len())
}

/// Writes `cols IN (...)` for as many of `keys` as `batch` allows (at least one); returns the
/// clause and how many keys it holds.
pub fn in_clause<K: AsRef<[Value]>>(
    dialect: &dyn Dialect,
    cols: &[String],
    keys: &[K],
    batch: Batch,
) -> (String, usize) {
    let n = batch_len(dialect, keys, batch);
    (in_list(dialect, cols, &keys[..n]), n)
}

/// `cols IN (...)` of all of `keys`.
fn in_list<K: AsRef<[Value]>>(dialect: &dyn Dialect, cols: &[String], keys: &[K]) -> String {
    let refs: Vec<&[Value]> = keys.iter().map(AsRef::as_ref).collect();
    let mut out = String::new();
    dialect.write_in_list(cols, &refs, &mut out);
    out
}

/// Reads the subset from a source, every row once.
///
/// Each query reads rows whole (with a spool; otherwise just their keys and references):
/// the root rows, the children of owned rows, and rows known only because a row read
/// references them, by key. From each new row the walk queues its children (when owned) and
/// the rows it references, to a fixed point. The queries run on the source's connection (and
/// on any more connections sharing its snapshot, several at once), each connection on a
/// thread of its own that decodes rows while this one takes them in; whenever a connection is
/// free and no query waits, the next queries are made from what is known by then.
pub struct Walker<'a> {
    pub model: &'a Model,
    pub source: &'a mut dyn Source,
    /// More connections in the same snapshot as `source`.
    extra: &'a mut [Box<dyn Source>],
    dialect: &'static dyn Dialect,
    batch: Batch,
    full_rows: bool,
    /// Per table, in the model's order: where the walk's queries put what it needs.
    layouts: Vec<Layout>,
    /// Told, as rows come, the table they came from and the rows in the subset so far.
    progress: Option<WalkProgress<'a>>,
}

/// Called as the walk reads rows: the table they came from, and the rows in the subset so far.
pub type WalkProgress<'a> = &'a mut dyn FnMut(&str, u64);

/// One query of a round, and what its rows are.
struct WalkQuery {
    sql: String,
    context: String,
    /// The table whose query time this is.
    table: usize,
    read: Reads,
    /// Keys the query joins, loaded into temporary tables of its session before it runs and
    /// dropped after.
    key_tables: Vec<KeyTable>,
}

/// A key table ([`Source::load_key_table`]): its name, key width, and keys.
struct KeyTable {
    name: String,
    width: usize,
    keys: SharedKeys,
}

#[derive(Clone, Copy)]
enum Reads {
    /// Rows of `table`, owned or not; `via`: the relation whose child edge the query follows,
    /// when it follows one (the parent each row references through it was read already).
    Rows { owned: bool, via: Option<usize> },
    /// Keys of rows of `parent` (the first `width` values of each row).
    Keys { parent: usize, width: usize },
    /// The lowest and highest value of `table`'s split column, for the scan `job` waits for.
    Bounds { job: usize },
    /// Rows of `table` from a scan that names only the first value its keys share, testing
    /// the keys itself ([`ScanJob::test`]): children through relation `rel` when the parent
    /// key a row holds is an owned row's, byte for byte; else set aside for the tested scan
    /// `job` (`Held::tested`) to resolve.
    Tested { rel: usize, job: usize },
    /// Keys of rows of the parent of the tested scan `job`, as its table holds them: those that
    /// the rows it set aside name under the parent's collation.
    Owners { job: usize },
}

impl Reads {
    /// Whether the query brings owned rows of its table (whose children are then to find);
    /// a scan's key range comes before its rows, so it counts too.
    fn owned(self) -> bool {
        matches!(
            self,
            Reads::Rows { owned: true, .. } | Reads::Bounds { .. } | Reads::Tested { .. }
        )
    }
}

/// A row looked up by key costs the server about this many times what a scan spends on each
/// row of the table it reads: MariaDB 10.11 with everything in its buffer pool (a benchmark
/// scale-1 tenant of 20%: 60,000 tasks looked up by 4,000 project keys, in 4 queries, took the
/// server 0.16-0.17 s of CPU, a scan of all 294,000 tasks filtering on those keys 0.12-0.14 s:
/// 6.2 times as much per row), and more once the table outgrows it (scale 10, the same 20%: 28 s
/// by lookups, which read 175,000 pages of a 67,000-page table, 7 s by one scan). So the
/// children of a batch of keys are read by a scan when their lookups (a probe per key,
/// LOOKUP_ROW_COST per row they are expected to find) cost at least as much as reading every
/// row of the table.
const LOOKUP_ROW_COST: f64 = 6.0;

/// A query looking up children holds keys for at most this share of the child's rows (a
/// tenth), and never fewer than LOOKUP_MIN_KEYS. MariaDB 10.11 turns a list of over 1,000 values
/// into a table of them; with keys for a fifth of the table, it then reads the whole table and
/// probes that list for every row, where fewer keys have it look each key up in the index.
/// bench/shapes' strings with `--jobs 1`: its 20,000 audit rows by their members' emails, in
/// one query of 20,000 emails, took the server 0.64 s of CPU; in queries of 10,000 or fewer,
/// 0.10 s (of a table of 100,000 rows).
const LOOKUP_TABLE_SHARE: usize = 10;

/// The fewest keys LOOKUP_TABLE_SHARE leaves a query of lookups.
const LOOKUP_MIN_KEYS: usize = 1_000;

/// What a lookup through the child's primary key costs (the relation is
/// [`Relation::clustered`](crate::graph::Relation::clustered)): a descent of the key per parent
/// key, costing about this many rows of a scan, and then each child about one, as they lie
/// together. Measured on MariaDB 10.11, one connection, everything in the buffer pool: the
/// posts of 8,000 threads (80,000 of 400,000, keyed by `(thread_id, seq)`) took the server 132
/// ms by lookups against 302 ms by a scan; the items of 50,000 orders (150,000 of 600,000,
/// `(order_id, line)`) 164-204 ms by lookups against 177 ms by a scan: a descent costs about
/// nine rows.
const CLUSTERED_KEY_COST: f64 = 9.0;

/// How many times the keys met so far a parent's keys may yet grow to: while it may, keys
/// whose children a scan could read are held only if that many would make the scan pay (a
/// large tenant's first 1,024 projects do, a small tenant's 32 do not: its children are looked
/// up as they come).
const HOLD_GROWTH: f64 = 64.0;

/// Most bytes of key lists a scan carries in its text. A list costs about twice its size in
/// memory while the scan runs (the query text, and the driver's packet buffer, which a query
/// over 4 MiB grows for as long as the connection lives: three scans of 600,000 keys each took
/// the benchmark's peak memory at scale 10 from 120 to 161 MiB). Longer lists of integer keys
/// go to key tables, temporary tables of the scan's session filled 256 KiB at a time (MySQL
/// and MariaDB, when the session may create them unseen by the binary log); else their
/// children are looked up. At scale 10 the children of the large tenant's 600,000 tasks took
/// 12.8 s (comments), 5.7 s (attachments) and 3.2 s (task_tags) of connection time by 40
/// lookups each, and 3.6 s, 2.2 s and 4.0 s by a scan joining a key table (the dump 9.0 s ->
/// 7.3 s). Shorter lists stay in the text: at scale 1 key tables of 60,000 keys made the dump
/// slower (0.41 s against 0.39 s, median of 15 runs).
const SCAN_KEY_BYTES: usize = 1 << 20;

/// Most bytes of keys (written whole) held for a scan that tests them itself ([`TestedJob`]):
/// its text holds none of them, but the walk holds them until the scan is decided.
const TESTED_KEY_BYTES: usize = 8 << 20;

/// A scan tests its keys itself only when they are at least this share of the parent's rows
/// under the value they all lead with (as estimated, [`Planner::lead_probes`]): the rows it
/// reads under that value are then mostly children. bench/shapes' strings: an org's 120,000
/// revisions, children of its 60,000 documents by `(org_id, slug)` (a UUID and a string), cost
/// the server 0.45-0.47 s of CPU looked up in 8-12 queries, 0.36 s by one scan testing them as
/// a list of 60,000 slugs (which the server sorts again in each range a scan is cut into), and
/// 0.25-0.27 s read by the org's id alone (9 rounds, binary protocol, one connection).
const TESTED_SHARE: f64 = 0.25;

/// The bytes a scan's keys may take in its text: [`SCAN_KEY_BYTES`], or less where the
/// server's packet limit is lower.
pub(crate) fn scan_key_room(batch: &Batch) -> usize {
    SCAN_KEY_BYTES.min(batch.max_bytes)
}

/// The fewest keys a scan tests as a set of bits ([`Dialect::write_bit_set`]) rather than
/// in an IN list, when the bits take less room: a short list costs the server little either way.
const BIT_SET_MIN_KEYS: usize = 32;

/// Fewest keys of two integer columns, not all leading with one value, too sparse for a set
/// of bits (which costs the server less still: the forum's post tags and votes for 80,000
/// posts, 0.555 -> 0.425 s of its CPU) and spanning more cells than 64 bits number (else a
/// scan tests each row's cell in a list of values, see [`Dialect::write_cell_list`], which
/// unlike key tables splits over the connections: TPC-H's 20,865 part suppliers of a nation
/// scanned in 4 ranges so, the dump 0.160 -> 0.145 s, against 0.157 s joining a key table), that
/// a scan takes from key tables rather than from an IN list of pairs in its text, however
/// short the list: MariaDB
/// compares a row with a list of pairs at far more cost than it probes a MEMORY table. A forum's
/// post tags and votes, children of 21,690 `(thread_id, seq)` posts (a 550 KB list): the
/// server's CPU 0.355 -> 0.235 s and the dump 0.280 -> 0.230 s (8 runs each, turn about). Scans
/// of fewer keys are rare: a scan needs keys enough to cost more looked up than the table's rows.
const PAIRS_IN_KEY_TABLES: usize = 1_000;

/// Fewest rows (by the source's estimate) in each range of a scan split over connections; and
/// at least as many as the keys the scan filters on, which every range's query carries
/// (600,000 keys cost MariaDB 0.8 s to parse; a 2,000,000-row table scanned in 4 ranges spent
/// 3 s on its key lists, 0.7 s on its rows); twice as many when they are in key tables, which
/// each range loads anew.
///
/// A range then reads and sends more than the server spends on its copy of the list, and the
/// last scan of a walk, which often runs alone, is shared by the cores. The benchmark's
/// `comments` at scale 1 (246,000 rows, 64,000 keys) in 2 ranges rather than 1: the server's
/// CPU 0.61 -> 0.68 s, the dump 0.542 -> 0.531 s (medians of 25 runs, turn about, 2 cores); in 3
/// ranges, with `task_tags` in 3 too, 0.568 s.
const SPLIT_MIN_ROWS: u64 = 10_000;

/// And at least a row for every this many bytes of the key lists: the server's parse of a
/// list goes by its bytes as much as by its keys. Integer keys take 6-7 bytes each, so this
/// asks about as much of them as their number does; keys of text take more (bench/shapes.py's
/// strings: 60,000 slugs, 0.8 MB, cost MariaDB about 60 ms a copy; its scan of 600,000
/// revisions took 390 ms of server time in one query, 480 ms in 2 ranges, 570 ms in 4).
const SPLIT_LIST_BYTES_PER_ROW: u64 = 6;

/// Most distinct values of the first key column a scan names for the server to find their
/// rows by an index (see [`Queries::leading_cond`]); far below the 1,000 values at which
/// MariaDB turns an IN list into a join.
const LEADING_VALUES: usize = 64;

/// What the walk holds back to choose between lookups and a scan: the keys whose children in
/// a table it can scan are still to find, until no table that could add to them has work left
/// (then their number is known, and with it what lookups would cost).
struct Held {
    /// Per relation: keys whose children through it are to find.
    keys: Vec<SharedKeys>,
    /// Per relation: keys met so far (held, or looked up at once).
    seen: Vec<usize>,
    /// Per relation: the children of those keys expected beyond the average
    /// ([`Planner::surplus`]).
    surplus: Vec<f64>,
    /// Per relation: whether its keys outgrew what a scan carries (then they are looked up).
    too_long: Vec<bool>,
    /// Per table: queries reading owned rows of it (or the key range of a scan of it) that run.
    running_owned: Vec<usize>,
    /// Per table: queries of it that run (whatever they read).
    running: Vec<usize>,
    /// Per table: keys of rows the subset references taken to read so far.
    fetched: Vec<usize>,
    /// Scans waiting for the range of their table's split column, by number.
    jobs: Vec<Option<ScanJob>>,
    /// Scans testing their keys themselves ([`ScanJob::test`]), by number.
    tested: Vec<TestedJob>,
}

/// A scan of a table for the children of keys that all lead with one value, which names just
/// that value and tests each row itself ([`ScanJob::test`]): a row is a child when the parent
/// key it holds is an owned row's to the byte. A row holding a key that is not (another case
/// of it under a case-insensitive collation, trailing spaces, or a parent outside the subset)
/// is set aside; once the scan is done, the parent's rows those keys name are read (by the
/// server's comparison), and the children of those that are owned are looked up.
struct TestedJob {
    /// The child edge: its parent table, its place among the parent's child edges, and the
    /// child table.
    parent: usize,
    edge: usize,
    child: usize,
    /// Queries of the scan, then of the parent's rows, still running.
    running: usize,
    /// The parent keys set aside, once each (`seen` holds them packed, to tell).
    set_aside: KeyList,
    seen: HashSet<Vec<u8>>,
    /// The keys of owned parent rows that those name.
    owners: KeyList,
}

/// A child edge a scan reads the children of: its relation, the child's columns holding the
/// parent's key, and the keys; or (`relation` None) the table's own key, for the rows the
/// subset references.
pub struct ScanEdge {
    pub relation: Option<usize>,
    pub columns: Vec<String>,
    pub keys: SharedKeys,
}

/// What a scan reads of its table's split column.
#[derive(Clone, Copy)]
enum Span {
    /// Every row, in one query.
    Whole,
    /// Nothing: the table is empty.
    Empty,
    /// From its lowest to its highest value.
    Range(i128, i128),
}

/// What a list of keys takes in an IN list: its literals written whole, and when every key
/// leads with one value, that value and the bytes of the rest, which is all a scan's list
/// then holds (see [`Queries::scan`]).
#[derive(Clone)]
struct ListBytes {
    whole: usize,
    lead: Option<(Value, usize)>,
    /// Keys of integers: the least and greatest value of their first column, and of their
    /// last (the same column for keys of one).
    first: Option<(i64, i64)>,
    last: Option<(i64, i64)>,
    /// Keys of three whole numbers that all lead with one value: the least and greatest of
    /// their second column, and of their third (see [`SharedKeys::rest`]).
    rest: Option<Rest>,
}

/// The least and greatest value of two columns.
type Rest = [(i64, i64); 2];

/// Keys held for a child edge, in lists shared with the other child edges of the same parent
/// (each list is the keys of one round, held for every edge they lead along).
#[derive(Default, Clone)]
pub struct SharedKeys {
    lists: Vec<Arc<KeyList>>,
    /// Bytes the keys take in an IN list, written whole.
    bytes: usize,
    /// When every key held leads with one value: that value, and the bytes of the rest.
    lead: Option<(Value, usize)>,
    /// Keys of integers: the least and greatest value of their first column, and of their
    /// last (the same column for keys of one).
    first: Option<(i64, i64)>,
    last: Option<(i64, i64)>,
    /// Keys of three whole numbers that all lead with one value (a warehouse's `(w_id, d_id,
    /// o_id)`): the ranges of their second and third columns, which a scan tests as pairs
    /// are tested once the lead is named (by a set of bits, or by their cells).
    rest: Option<Rest>,
    /// The children of the keys expected beyond the average ([`Planner::surplus`]).
    surplus: f64,
}

/// Keys of two integer columns as their cells ([`Dialect::write_cell_list`]): the columns'
/// ranges, and the cells in order.
type Cells = ([(i64, i64); 2], Vec<u64>);

impl SharedKeys {
    pub fn len(&self) -> usize {
        self.lists.iter().map(|l| l.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.iter().all(|l| l.is_empty())
    }

    fn push(&mut self, keys: &Arc<KeyList>, bytes: ListBytes) {
        if !keys.is_empty() {
            let first = self.is_empty();
            self.lead = match (first, self.lead.take(), bytes.lead) {
                (true, _, lead) => lead,
                (false, Some((lead, held)), Some((other, more))) if lead == other => {
                    Some((lead, held + more))
                }
                _ => None,
            };
            self.rest = match (first, self.rest, bytes.rest) {
                (true, _, rest) => rest,
                (false, Some([a, b]), Some([c, d])) => {
                    Some([(a.0.min(c.0), a.1.max(c.1)), (b.0.min(d.0), b.1.max(d.1))])
                }
                _ => None,
            };
            if self.lead.is_none() {
                self.rest = None;
            }
        }
        let widen = |held: Option<(i64, i64)>, (lo, hi): (i64, i64)| {
            Some(held.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))))
        };
        if let Some(span) = bytes.first {
            self.first = widen(self.first, span);
        }
        if let Some(span) = bytes.last {
            self.last = widen(self.last, span);
        }
        self.lists.push(Arc::clone(keys));
        self.bytes += bytes.whole;
    }

    /// The columns' ranges of the set of bits a scan tests the keys by (see
    /// [`Dialect::write_bit_set`]): keys of one integer; pairs that all lead with one value,
    /// by their second (the first is named once); other pairs, by both; keys of three that all
    /// lead with one value, by their second and third.
    fn bit_dims(&self) -> Option<Vec<(i64, i64)>> {
        match (self.int_width(), &self.lead) {
            (Some(1), _) | (Some(2), Some(_)) => Some(vec![self.last?]),
            (Some(2), None) => Some(vec![self.first?, self.last?]),
            (None, Some(_)) => self.rest.map(Vec::from),
            _ => None,
        }
    }

    /// The bytes a scan's query takes to test the keys as a set of bits, when it does: at
    /// least [`BIT_SET_MIN_KEYS`] keys whose bits' hex digits take no more room than their IN
    /// list would. (A scan with room to spare tests them by a byte each: see
    /// [`Queries::scan_filter`].)
    fn bit_set_bytes(&self, dialect: &dyn Dialect) -> Option<usize> {
        if !dialect.bit_sets() || self.len() < BIT_SET_MIN_KEYS {
            return None;
        }
        let hex = 2 * crate::dialect::bit_set_bytes(&self.bit_dims()?)?;
        (hex <= self.text_bytes() as u64).then_some(hex as usize)
    }

    /// The bytes a scan's query takes for the keys: as a set of bits, as cells, or as an IN
    /// list.
    fn scan_bytes(&self, dialect: &dyn Dialect) -> usize {
        self.bit_set_bytes(dialect)
            .or_else(|| self.cell_bytes(dialect))
            .unwrap_or_else(|| self.text_bytes())
    }

    /// The ranges of the two integer columns of keys a scan tests by their cells (see
    /// [`Dialect::write_cell_list`]): at least [`BIT_SET_MIN_KEYS`] pairs that do not all lead
    /// with one value (or keys of three that do, by their second and third), too sparse for a
    /// set of bits, whose cells the server's arithmetic holds.
    fn cell_dims(&self, dialect: &dyn Dialect) -> Option<[(i64, i64); 2]> {
        if !dialect.cell_lists()
            || self.len() < BIT_SET_MIN_KEYS
            || self.bit_set_bytes(dialect).is_some()
        {
            return None;
        }
        let dims = match (self.int_width(), &self.lead) {
            (Some(2), None) => [self.first?, self.last?],
            (None, Some(_)) => self.rest?,
            _ => return None,
        };
        let count = crate::dialect::cell_count(&dims)?;
        (count <= i64::MAX as u64).then_some(dims)
    }

    /// The bytes the keys' cells take in a scan's list (each as many digits as the largest
    /// may have, and a comma), when a scan tests them so.
    fn cell_bytes(&self, dialect: &dyn Dialect) -> Option<usize> {
        let dims = self.cell_dims(dialect)?;
        let largest = crate::dialect::cell_count(&dims)?;
        Some(self.len() * (largest.checked_ilog10().unwrap_or(0) as usize + 2))
    }

    /// The keys' cells, in order, with their columns' ranges, when a scan tests them so.
    fn cells(&self, dialect: &dyn Dialect) -> Option<Cells> {
        let dims = self.cell_dims(dialect)?;
        let mut cells = Vec::with_capacity(self.len());
        for l in &self.lists {
            match &**l {
                KeyList::Pairs(v) => {
                    for p in v {
                        cells.push(crate::dialect::cell_of(&dims, &[p.0, p.1])?);
                    }
                }
                // Keys of three integers (all leading with one value): their second and third.
                KeyList::General(v) => {
                    for k in v.iter() {
                        let [_, b, c] = packed::ints::<3>(k)?;
                        cells.push(crate::dialect::cell_of(&dims, &[b, c])?);
                    }
                }
                // Keys of two integers are pairs.
                KeyList::Ints(_) => return None,
            }
        }
        cells.sort_unstable();
        cells.dedup();
        Some((dims, cells))
    }

    /// Bytes the keys take in a scan's IN list: without their shared first value when they
    /// have one.
    fn text_bytes(&self) -> usize {
        self.lead.as_ref().map_or(self.bytes, |(_, rest)| *rest)
    }

    /// The width of the keys when a key table can hold them all (see [`KeyList::int_width`]).
    fn int_width(&self) -> Option<usize> {
        let mut widths = self
            .lists
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| l.int_width());
        let first = widths.next()??;
        widths.all(|w| w == Some(first)).then_some(first)
    }

    /// The first value of every key, when they are all integers (keys of one or two integer
    /// columns); else None.
    fn first_ints(&self) -> Option<Vec<i64>> {
        let mut firsts = Vec::with_capacity(self.len());
        for list in &self.lists {
            match &**list {
                KeyList::Ints(v) => firsts.extend_from_slice(v),
                KeyList::Pairs(v) => firsts.extend(v.iter().map(|p| p.0)),
                KeyList::General(_) => return None,
            }
        }
        Some(firsts)
    }

    /// The keys whose first value lies in `[lo, hi)`, as keys of their own; None when none
    /// does or the keys are not integers.
    fn within(&self, lo: i128, hi: i128, dialect: &dyn Dialect) -> Option<SharedKeys> {
        let inside = |v: i64| (lo..hi).contains(&i128::from(v));
        let mut ints = Vec::new();
        let mut pairs = Vec::new();
        for list in &self.lists {
            match &**list {
                KeyList::Ints(v) => ints.extend(v.iter().copied().filter(|&k| inside(k))),
                KeyList::Pairs(v) => pairs.extend(v.iter().copied().filter(|p| inside(p.0))),
                KeyList::General(_) => return None,
            }
        }
        let list = match (ints.is_empty(), pairs.is_empty()) {
            (false, true) => KeyList::Ints(ints),
            (true, false) => KeyList::Pairs(pairs),
            // None inside, or (never: an edge's keys have one width) both forms.
            _ => return None,
        };
        let list = Arc::new(list);
        let mut keys = SharedKeys::default();
        keys.push(&list, list.literal_bytes(dialect));
        Some(keys)
    }

    /// The bytes of text that testing the keys by a byte each takes beyond their set of bits,
    /// when a scan tests them by bits.
    fn byte_set_extra(&self, dialect: &dyn Dialect) -> Option<usize> {
        let hex = self.bit_set_bytes(dialect)?;
        let cells = crate::dialect::cell_count(&self.bit_dims()?)?;
        // A digit a cell ([`Dialect::write_bit_set`]).
        Some(usize::try_from(cells).ok()?.saturating_sub(hex))
    }

    /// The keys as the set of bits a scan tests them by, when it does (see
    /// [`SharedKeys::bit_dims`], [`SharedKeys::bit_set_bytes`]); as a byte a key when `bytes`.
    fn bit_set(&self, dialect: &dyn Dialect, bytes: bool) -> Option<BitSet> {
        let hex = self.bit_set_bytes(dialect)?;
        // The spans of the keys' columns, kept as they were held.
        let dims = self.bit_dims()?;
        // Bytes of the set: a digit of text each as bytes, two (hex) each as bits.
        let room = match bytes {
            true => hex + self.byte_set_extra(dialect)?,
            false => hex.div_ceil(2),
        };
        let both = dims.len() == 2;
        BitSet::over(
            dims,
            |f| {
                for l in &self.lists {
                    match &**l {
                        KeyList::Ints(v) => v.iter().for_each(|&k| f(&[k])),
                        KeyList::Pairs(v) if both => v.iter().for_each(|p| f(&[p.0, p.1])),
                        KeyList::Pairs(v) => v.iter().for_each(|p| f(&[p.1])),
                        // Keys of three integers that all lead with one value (see
                        // [`SharedKeys::rest`]): their second and third.
                        KeyList::General(v) if both => v.iter().for_each(|k| {
                            if let Some([_, b, c]) = packed::ints::<3>(k) {
                                f(&[b, c]);
                            }
                        }),
                        KeyList::General(_) => {}
                    }
                }
            },
            room,
        )
    }

    /// The keys as one list.
    fn to_list(&self) -> KeyList {
        let mut all = KeyList::default();
        for l in &self.lists {
            all.append(l);
        }
        all
    }

    /// The distinct values of the keys' first column, when the keys have more than one and
    /// those values are at most `max` (in order); else None.
    fn leading_values(&self, max: usize) -> Option<Vec<Value>> {
        let mut seen = std::collections::BTreeSet::new();
        // Copied only when new: a tenant's keys share one.
        let mut note = |first: &Value| {
            if !seen.contains(first) {
                seen.insert(first.clone());
            }
            seen.len() <= max
        };
        for list in &self.lists {
            let fits = match &**list {
                KeyList::Ints(v) => v.is_empty(),
                KeyList::Pairs(v) => v.iter().all(|p| note(&Value::Int(p.0))),
                KeyList::General(v) => {
                    // Decoded only when it changes: a tenant's keys share one.
                    let mut last: &[u8] = &[];
                    v.iter().all(|k| {
                        let lead = &k[..packed::first_len(k)];
                        if lead.len() == k.len() {
                            return false;
                        }
                        if lead == last {
                            return true;
                        }
                        last = lead;
                        packed::decode(lead).first().is_some_and(&mut note)
                    })
                }
            };
            if !fits {
                return None;
            }
        }
        (!seen.is_empty()).then(|| seen.into_iter().collect())
    }

    /// Writes the keys' literals (from their column `from` on) as `write_in_list_with` asks
    /// for them: the i-th key at the i-th call (it asks for each of `len()` keys once, in
    /// order; no more).
    fn key_writer<'k>(
        &'k self,
        from: usize,
        dialect: &'k dyn Dialect,
    ) -> impl FnMut(usize, &mut String) + 'k {
        let (mut list, mut at) = (0, 0);
        move |_, out| {
            while at >= self.lists[list].len() {
                (list, at) = (list + 1, 0);
            }
            self.lists[list].write_key_from(at, from, dialect, out);
            at += 1;
        }
    }
}

/// What a scan whose keys are in its text tests each row by ([`Queries::scan_filter`]): the
/// values its keys lead with, when few, for the server to find their rows by an index; and the
/// keys of each edge.
struct ScanFilter {
    lead: Option<String>,
    keys: String,
}

/// A scan of one table for the children of the keys held for the child edges into it.
struct ScanJob {
    table: usize,
    /// Whether its rows are owned (children of owned rows), or rows the subset references.
    owned: bool,
    /// The edges and their keys.
    edges: Vec<ScanEdge>,
    /// Ranges of the split column to read it in, over as many connections.
    pieces: usize,
    /// The keys go to key tables ([`Source::load_key_table`]), being too many to carry.
    keyed: bool,
    /// The split column's range, once read.
    span: Span,
    /// Ranges of the table's first key column, each with just the keys that lie in it (see
    /// [`key_ranges`]): when not empty, the scan reads these instead of `pieces`
    /// ranges of the split column, and `edges` is empty.
    key_ranges: Vec<KeyRange>,
    /// Words for messages: "the children of N rows of t".
    what: String,
    /// When the scan names only the first value its one edge's keys share, and the walk tests
    /// each row's key itself ([`TestedJob`]): that edge's place among its parent's child
    /// edges. Then `tested`, once submitted: its number among `Held::tested`.
    test: Option<usize>,
    tested: Option<usize>,
}

/// A range `[lo, hi)` of a table's first key column, and the scan edges with the keys that
/// lie in it.
struct KeyRange {
    lo: i128,
    hi: i128,
    edges: Vec<ScanEdge>,
    /// The keys' first values in the range, ascending, once each: when not empty, the scan
    /// reads the rows under these values (`IN`) rather than the whole range (see
    /// [`Planner::sized_job`]).
    firsts: Vec<i64>,
    /// For keys of bytes ([`bytes_ranges`]): the least and the greatest key of the range, which
    /// bound it instead of `lo` and `hi`.
    bytes: Option<(Value, Value)>,
}

/// What a connection's thread hands the walk.
enum Msg {
    /// Rows of query `i`, and with a spool their records ([`Records`]); their bytes, taken
    /// from [`Work::handed`].
    Rows(usize, Rows, Records, usize),
    Done(usize, f64),
    Failed(Error),
}

/// The rows of one message, one after the other in one vector: the i-th ends at `ends[i]`.
/// As values ([`Rows`]) and as the spool's records ([`Records`]).
struct Packed<T> {
    items: Vec<T>,
    ends: Vec<usize>,
}

impl<T> Default for Packed<T> {
    fn default() -> Self {
        Packed::with_capacity(0, 0)
    }
}

impl<T> Packed<T> {
    fn with_capacity(items: usize, rows: usize) -> Packed<T> {
        Packed {
            items: Vec::with_capacity(items),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Ends the row whose items were put in since the last.
    fn end_row(&mut self) {
        self.ends.push(self.items.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The items of the `i`-th row; None past the last.
    fn get(&self, i: usize) -> Option<&[T]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.items.get(start..end)
    }
}

/// Rows handed over at once. A vector a row cost an allocation on the connection's thread and
/// a free on the walk's (the integer benchmark: 200,000 of each, 4% of its instructions).
type Rows = Packed<Value>;

impl Rows {
    /// Moves the values of `row` in, leaving it empty.
    fn push(&mut self, row: &mut Vec<Value>) {
        self.items.append(row);
        self.end_row();
    }

    /// The `i`-th row, which exists (as a slice's `[i]`, out of range is a bug).
    fn row(&self, i: usize) -> &[Value] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.items[start..self.ends[i]]
    }
}

/// The spool's records of a message's rows, encoded on the connection's thread. Empty when the
/// rows are not spooled.
type Records = Packed<u8>;

/// What a connection's thread does with the rows of a table's queries when the walk keeps rows:
/// encodes each row's first `width` values as the spool's record, then drops those the walk
/// does not look at (`keep` false: all but the key and the references), so a row's text is
/// freed by the thread that decoded it and the walk only copies the record in. The large tenant
/// of `bench/shapes.py`'s strings database (200,000 rows, most of them text): 1.53 -> 1.40 s,
/// 1.07 -> 0.97 s of client CPU (medians of 5, turn about); the integer-keyed benchmark's the
/// same (0.69 -> 0.68 s).
struct Spooling {
    width: usize,
    keep: Vec<bool>,
}

impl Spooling {
    fn of(layout: &Layout) -> Option<Spooling> {
        if layout.row_width == 0 {
            return None;
        }
        let mut keep = vec![false; layout.row_width];
        let positions = layout
            .key
            .iter()
            .chain(
                layout
                    .direct
                    .iter()
                    .flat_map(|d| d.columns.iter().chain(d.flag.iter())),
            )
            .chain(layout.by_value.iter().flat_map(|(_, columns)| columns));
        for &p in positions {
            if let Some(k) = keep.get_mut(p) {
                *k = true;
            }
        }
        Some(Spooling {
            width: layout.row_width,
            keep,
        })
    }

    /// Encodes `row`'s record (its first `width` values) onto `out`.
    fn record(&self, row: &[Value], out: &mut Vec<u8>) -> Result<()> {
        crate::spool::encode_record(&row[..self.width.min(row.len())], out)
    }

    /// Encodes `row`'s record onto `records` and drops the values the walk does not need.
    fn take(&self, row: &mut [Value], records: &mut Records) -> Result<()> {
        self.record(row, &mut records.items)?;
        records.end_row();
        for (v, keep) in row.iter_mut().zip(&self.keep) {
            if !keep {
                *v = Value::Null;
            }
        }
        Ok(())
    }
}

/// Batches of keys per connection in one round of the walk.
const ROUND_BATCHES: usize = 4;

/// Most `(table, value)` pairs whose rows the walk asks the source to estimate before it starts
/// ([`Planner::lead_probes`]): one query whatever their number, but each is a dive into an
/// index, and a schema of hundreds of tables keyed by a tenant first would ask for all.
const LEAD_PROBES: usize = 64;

/// Fewest keys of rows the subset references that a scan of their table reads (see
/// [`Planner::reference_scan`]); fewer are looked up, whatever the table's estimate of its
/// rows says: one far below them (statistics not yet updated after a bulk load) would have a
/// few rows found by reading a large table, where a thousand lookups cost a few milliseconds.
const REFERENCE_SCAN_MIN_KEYS: usize = 1_000;

/// Fewest keys in a query split off to run on another connection. Small: when the rows are not
/// in the server's memory, each key costs random reads, and reads on several connections
/// overlap (a small tenant's 32 projects, cold, at scale 10: 60-70 ms end to end over 4
/// connections with 8 keys a query, 80-90 ms with one query of 32; the same once cached).
const MIN_SPLIT_KEYS: usize = 8;

/// Rows handed over at once from a connection's thread: at most this many, and no more than
/// MESSAGE_BYTES of them (whatever the row width; the channel holds a few messages). Fewer,
/// larger hand-overs cost fewer thread wake-ups: 64 rows a message took 14% of the dump's
/// client CPU in waking threads.
const ROWS_PER_MESSAGE: usize = 1024;
const MESSAGE_BYTES: usize = 256 << 10;

/// The name of the key table of a keyed scan's `i`-th edge (see [`Source::load_key_table`]).
fn key_table_name(i: usize) -> String {
    format!("_partialdump_keys_{i}")
}

fn qualified(dialect: &dyn Dialect, alias: &str, cols: &[String]) -> Vec<String> {
    cols.iter()
        .map(|c| format!("{alias}.{}", dialect.quote_ident(c)))
        .collect()
}

/// The queries waiting for a free connection, and whether the walk needs no more.
struct Work {
    state: Mutex<Waiting>,
    ready: Condvar,
    /// Rows handed over by the connections' threads and not yet taken by the walk.
    handed: ByteBudget,
}

impl Default for Work {
    fn default() -> Self {
        Work {
            state: Mutex::default(),
            ready: Condvar::new(),
            handed: ByteBudget::new(HANDED_BYTES),
        }
    }
}

#[derive(Default)]
struct Waiting {
    queue: VecDeque<(usize, WalkQuery)>,
    closed: bool,
}

/// Most bytes of rows handed over by the connections' threads and not yet taken by the walk,
/// unless one message is more: the channel holds a few messages of rows, whose width sets
/// their size (messages of one 4 MB row each held 68 MB in the channel).
const HANDED_BYTES: usize = 4 << 20;

impl Work {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // Nothing panics while holding the lock; a poisoned one still holds a sound queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, queries: impl IntoIterator<Item = (usize, WalkQuery)>) {
        self.lock().queue.extend(queries);
        self.ready.notify_all();
    }

    /// The next query, waiting for one; None once the walk is closed.
    fn next(&self) -> Option<(usize, WalkQuery)> {
        let mut waiting = self.lock();
        loop {
            if waiting.closed {
                return None;
            }
            if let Some(q) = waiting.queue.pop_front() {
                return Some(q);
            }
            waiting = self
                .ready
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
        self.handed.close();
    }
}

/// Runs queries on one connection, taking the next whenever it is free, and hands their rows
/// over; stops at the first error, or when the walk is closed or stops listening.
fn run_queries(
    conn: &mut dyn Source,
    work: &Work,
    tx: &SyncSender<Msg>,
    spooling: &[Option<Spooling>],
) {
    while let Some((i, q)) = work.next() {
        let started = std::time::Instant::now();
        let mut rows = Rows::default();
        let mut records = Records::default();
        let spooling = match q.read {
            Reads::Rows { .. } | Reads::Tested { .. } => {
                spooling.get(q.table).and_then(Option::as_ref)
            }
            _ => None,
        };
        let mut bytes = 0;
        let result = load_key_tables(conn, &q)
            .and_then(|()| {
                conn.query(&q.sql, &q.context, &mut |row| {
                    bytes += row.iter().map(Value::size).sum::<usize>();
                    if let Some(spooling) = spooling {
                        spooling.take(row, &mut records)?;
                    }
                    rows.push(row);
                    if rows.len() == ROWS_PER_MESSAGE || bytes >= MESSAGE_BYTES {
                        // About what the message holds: its records, or its rows.
                        let size = std::mem::take(&mut bytes);
                        // The next message starts with room for as much as this one held:
                        // grown from nothing, each message's records were copied on the way
                        // (3% of the integer benchmark's instructions).
                        // An eighth more: the next message's rows may take a little more,
                        // and growing the buffer then copies it all (2,500 copies of 256 KiB,
                        // 1.2% of the integer benchmark's instructions).
                        let room = Records::with_capacity(
                            records.items.len() + records.items.len() / 8,
                            records.len(),
                        );
                        let more = Rows::with_capacity(rows.items.len(), rows.len());
                        let full = std::mem::replace(&mut rows, more);
                        let records = std::mem::replace(&mut records, room);
                        work.handed.take(size);
                        // The walk stopped listening (it met an error elsewhere, which it reports).
                        tx.send(Msg::Rows(i, full, records, size))
                            .map_err(|_| Error::Usage("the walk stopped".into()))?;
                    }
                    Ok(())
                })
            })
            .and_then(|()| {
                q.key_tables
                    .iter()
                    .try_for_each(|t| conn.drop_key_table(&t.name, &q.context))
            });
        let sent = match result {
            Ok(()) => {
                work.handed.take(bytes);
                tx.send(Msg::Rows(i, rows, records, bytes))
            }
            .and_then(|()| tx.send(Msg::Done(i, started.elapsed().as_secs_f64()))),
            Err(e) => {
                let _ = tx.send(Msg::Failed(e));
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

/// The slots of a listing map's rows (as the rows came, so in the order of their places in the
/// spool) in the order of their keys, each key once; as [`KeyMap::read_list`], only rows read.
fn listed_by_key<K: Ord>(keys: Vec<K>, slots: Vec<Slot>) -> Vec<Slot> {
    let mut rows: Vec<(K, Slot)> = keys
        .into_iter()
        .zip(slots)
        .filter(|(_, s)| slot_read(*s))
        .collect();
    // Stable: of a row read twice, the place it was first spooled at is kept.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.dedup_by(|a, b| a.0 == b.0);
    rows.into_iter().map(|(_, s)| s).collect()
}

/// Of the rows with keys `keys` and slots `slots` (side by side), those read, in key order and
/// each once (the first of a row met twice; with `merge` off, every row, for a keyless table
/// whose rows alike are all copied): their positions. Sorts positions of 4 bytes, not the keys.
pub fn read_order(keys: &PackedKeys, slots: &[Slot], merge: bool) -> Vec<u32> {
    let mut order: Vec<u32> = (0..keys.len() as u32)
        .filter(|&i| slot_read(slots[i as usize]))
        .collect();
    // Stable, as above; in the order of their places already, so in long runs.
    let key = |i: &u32| keys.get(*i as usize);
    order.sort_by(|a, b| key(a).cmp(key(b)));
    if merge {
        order.dedup_by(|a, b| key(a) == key(b));
    }
    order
}

/// Creates and fills the key tables `q` joins, on `conn`.
fn load_key_tables(conn: &mut dyn Source, q: &WalkQuery) -> Result<()> {
    if q.key_tables.is_empty() {
        return Ok(());
    }
    // The walk chose key tables when the first connection could hold them; every other is
    // the same user's.
    if !conn.key_tables() {
        return Err(Error::Query {
            url: conn.url().to_string(),
            context: q.context.clone(),
            reason: "this connection cannot create temporary tables, though the first one \
                     could; run the dump again, or with --lookups-only"
                .into(),
        });
    }
    let dialect = conn.dialect();
    for t in &q.key_tables {
        let context = format!(
            "loading the keys of {} rows into a temporary table, {}",
            t.keys.len(),
            q.context
        );
        conn.load_key_table(
            &t.name,
            t.width,
            t.keys.len(),
            &mut t.keys.key_writer(0, dialect),
            &context,
        )?;
    }
    Ok(())
}

impl<'a> Walker<'a> {
    /// A walk that collects keys only (`plan`); see [`Walker::keeping_rows`].
    pub fn new(model: &'a Model, source: &'a mut dyn Source, batch: Batch) -> Walker<'a> {
        Walker::reading(model, source, batch, false)
    }

    /// A walk that reads whole rows and keeps them, for writing them out afterwards.
    pub fn keeping_rows(model: &'a Model, source: &'a mut dyn Source, batch: Batch) -> Walker<'a> {
        Walker::reading(model, source, batch, true)
    }

    fn reading(
        model: &'a Model,
        source: &'a mut dyn Source,
        batch: Batch,
        full_rows: bool,
    ) -> Walker<'a> {
        let dialect = source.dialect();
        let queries = Queries {
            model,
            dialect,
            full_rows,
            key_room: scan_key_room(&batch),
        };
        Walker {
            layouts: model
                .tables
                .values()
                .map(|t| queries.select(t, "t").1)
                .collect(),
            model,
            source,
            extra: &mut [],
            dialect,
            batch,
            full_rows,
            progress: None,
        }
    }

    /// Reads over `extra` too: connections in the same snapshot as the source.
    pub fn with_connections(mut self, extra: &'a mut [Box<dyn Source>]) -> Walker<'a> {
        self.extra = extra;
        self
    }

    /// Tells `progress` of the rows as they come (see [`WalkProgress`]).
    pub fn with_progress(mut self, progress: WalkProgress<'a>) -> Walker<'a> {
        self.progress = Some(progress);
        self
    }

    /// Collects the subset for `roots`. Errors when a root matches no row.
    ///
    /// The connections take queries from one queue; whenever one is free and nothing waits
    /// for it, the next queries are made from what the rows read so far lead to. No round
    /// waits for its slowest query: a connection that is done goes on with what is known.
    pub fn run(self, roots: &[Root]) -> Result<Subset> {
        let Walker {
            model,
            source,
            extra,
            dialect,
            batch,
            full_rows,
            layouts,
            mut progress,
        } = self;
        // Asked only where scans may be chosen: it costs a few statements on the connection.
        let key_tables = batch.scans && source.key_tables();
        let mut planner = Planner::new(
            model,
            dialect,
            batch,
            full_rows,
            1 + extra.len(),
            key_tables,
        );
        let spool = if full_rows { Some(Spool::new()?) } else { None };
        let mut subset = Subset::new(model, spool);
        let mut declared = DeclaredKeys::default();
        for (n, root) in roots.iter().enumerate() {
            let id = planner.id(&root.table);
            let sql = planner.queries().root(root);
            let mut keys = Vec::new();
            let layout = &layouts[id];
            let t = planner.tables[id];
            source.query(
                &sql,
                &format!("finding the root {}", root.display),
                &mut |row| {
                    let key = values_at(row, &layout.key);
                    if t.unvouched_key.is_some() {
                        // As the connections see rows in the walk: the record where it keeps
                        // rows (see [`Spooling::take`]), else the values.
                        let query = usize::MAX - n;
                        match Spooling::of(layout) {
                            None => declared.check(model, (id, t), query, &key, &*row)?,
                            Some(spooling) => {
                                let mut record = Vec::new();
                                spooling.record(row, &mut record)?;
                                declared.check(model, (id, t), query, &key, &record[..])?;
                            }
                        }
                    }
                    if key.iter().all(|v| !v.is_null()) {
                        keys.push(key.to_vec());
                    }
                    subset.found(layout, id, row, None, true, None)
                },
            )?;
            if keys.is_empty() {
                return Err(Error::RootNotFound {
                    root: root.display.clone(),
                    url: source.url().to_string(),
                });
            }
            for k in keys {
                subset
                    .roots
                    .insert((root.table.clone(), k), root.display.clone());
            }
        }
        let mut values: Vec<&Value> = subset
            .roots
            .keys()
            .filter_map(|(_, key)| key.first().filter(|v| !v.is_null()))
            .collect();
        values.sort_unstable();
        values.dedup();
        let probes = planner.lead_probes(&values);
        let mut root_keys: Vec<(&str, &Value)> = subset
            .roots
            .keys()
            .filter_map(|(table, key)| match key.as_slice() {
                [v] if !v.is_null() => Some((table.as_str(), v)),
                _ => None,
            })
            .collect();
        // The same roots estimated, whichever the map gives first, when there is room for some.
        root_keys.sort_unstable();
        let children = planner.child_probes(&root_keys, LEAD_PROBES - probes.len());
        if !probes.is_empty() || !children.is_empty() {
            let asked: Vec<(&str, &str, &Value)> = probes
                .iter()
                .map(|&(_, t, c, v)| (t, c, v))
                .chain(children.iter().map(|&(_, t, c, v)| (t, c, v)))
                .collect();
            // Estimates only: where the source cannot give them, scans are priced at the whole
            // table, and children at the average, as without them.
            let rows = source
                .value_rows(&asked)
                .unwrap_or_else(|_| vec![None; asked.len()]);
            let (leads, more) = rows.split_at(probes.len().min(rows.len()));
            for (&(c, _, _, v), n) in probes.iter().zip(leads) {
                if let Some(n) = n {
                    planner.lead_rows.insert((c, lead_key(v)), *n as f64);
                }
            }
            for (&(rel, _, _, v), n) in children.iter().zip(more) {
                if let Some(n) = n {
                    planner
                        .key_children
                        .entry(rel)
                        .or_default()
                        .insert(v.clone(), *n as f64);
                }
            }
        }
        // Lookup tables first, whole, before anything else: the rows the roots reference in
        // them are then known and not read again by key.
        let lookups: Vec<WalkQuery> = model
            .tables
            .values()
            .filter(|t| t.mode == Mode::Lookup)
            .map(|t| WalkQuery {
                sql: planner.queries().lookup(t),
                context: format!("reading the lookup table {}", t.name),
                table: planner.id(&t.name),
                read: Reads::Rows {
                    owned: false,
                    via: None,
                },
                key_tables: Vec::new(),
            })
            .collect();
        let mut conns: Vec<&mut dyn Source> = vec![source];
        conns.extend(extra.iter_mut().map(|c| &mut **c as &mut dyn Source));
        let work = Work::default();
        let spooling: Vec<Option<Spooling>> = match subset.spool {
            Some(_) => layouts.iter().map(Spooling::of).collect(),
            None => Vec::new(),
        };
        std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<Msg>(2 * conns.len());
            for conn in conns {
                let (tx, work, spooling) = (tx.clone(), &work, &spooling);
                scope.spawn(move || run_queries(conn, work, &tx, spooling));
            }
            drop(tx);
            let walked = planner.drive(
                (&mut subset, &mut declared),
                &layouts,
                &work,
                &rx,
                lookups,
                &mut progress,
            );
            // Idle connections stop; busy ones stop at their next rows, `rx` being dropped.
            work.close();
            walked
        })?;
        Ok(subset)
    }
}

/// The rows met so far of the tables whose key the graph declares without an index to vouch
/// for it ([`TableModel::unvouched_key`]): per table, each key (as two hashes of it, 128 bits)
/// with a hash of its row and the query that read it, 32 bytes a row. The walk keeps one row
/// per key, so two rows under one key would leave one out of the dump without a word; and a
/// key holding NULL, its row. A row read again is the same row (one snapshot), where another
/// row under its key differs, unless the two are alike in every column: then they came in one
/// query, which reads each row once (its conditions pick rows, its joins match one key-table or
/// parent row each).
#[derive(Default)]
struct DeclaredKeys {
    seen: HashMap<usize, RowsByKey>,
    hashers: [foldhash::fast::RandomState; 3],
}

/// A table's keys met (two hashes of each), with a hash of the row and the query it came in.
type RowsByKey = HashMap<(u64, u64), (u64, usize)>;

impl DeclaredKeys {
    /// Checks a row that `query` read from table `id` (`t`): its key, and its contents (the
    /// spool's record of it where the walk keeps rows, else its values).
    fn check(
        &mut self,
        model: &Model,
        (id, t): (usize, &TableModel),
        query: usize,
        key: &[Value],
        contents: impl std::hash::Hash,
    ) -> Result<()> {
        let Some(pos) = t.unvouched_key else {
            return Ok(());
        };
        let what = match key.iter().position(Value::is_null) {
            Some(i) => format!(
                "a row of `{}` holds NULL in `{}`, and a row whose key holds NULL would be left \
                 out of the dump",
                t.name, t.key[i]
            ),
            None => {
                let [k0, k1, rows] = &self.hashers;
                let hash = std::hash::BuildHasher::hash_one(rows, contents);
                let key_hash = (
                    std::hash::BuildHasher::hash_one(k0, key),
                    std::hash::BuildHasher::hash_one(k1, key),
                );
                // A table outside the snapshot may change between two reads of one row.
                let again = |&(h, q): &(u64, usize)| {
                    q != query && (h == hash || t.outside_snapshot.is_some())
                };
                match self.seen.entry(id).or_default().entry(key_hash) {
                    hashbrown::hash_map::Entry::Vacant(v) => {
                        v.insert((hash, query));
                        return Ok(());
                    }
                    hashbrown::hash_map::Entry::Occupied(o) if again(o.get()) => return Ok(()),
                    hashbrown::hash_map::Entry::Occupied(_) => format!(
                        "two rows of `{}` hold ({}) there, and the dump keeps one row per key, \
                         so it would leave one out",
                        t.name,
                        key.iter()
                            .map(Value::display)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
        };
        Err(Error::Config {
            path: model.graph_path.clone(),
            line: pos.line,
            column: pos.column,
            message: format!(
                "the key declared for `{}` ({}) does not tell its rows apart: {what}. Declare \
                 NOT NULL columns whose values no two rows share, or add a primary key to the \
                 table.",
                t.name,
                t.key.join(", ")
            ),
        })
    }
}

/// A child edge into a table: its parent table, its position in the parent's `children`, and
/// its relation.
#[derive(Clone, Copy)]
struct EdgeIn {
    parent: usize,
    edge: usize,
    relation: usize,
}

/// What makes the walk's queries: the model, and how large and how many at once.
struct Planner<'a> {
    model: &'a Model,
    dialect: &'static dyn Dialect,
    batch: Batch,
    full_rows: bool,
    connections: usize,
    /// The model's tables, by position.
    tables: Vec<&'a TableModel>,
    /// Per table: the child edges into it.
    into: Vec<Vec<EdgeIn>>,
    /// Per table: whether the walk may read its children by a scan (see [`Planner::new`]).
    scannable: Vec<bool>,
    /// Whether the connections can hold a scan's keys in key tables.
    key_tables: bool,
    /// `reaches[a][b]`: owned rows of table `a` lead to owned rows of `b` (child edges, one or
    /// more).
    reaches: Vec<Vec<bool>>,
    /// Per table: the other tables whose rows reference it (whose rows read may add to the
    /// keys of its rows to read).
    referencing: Vec<Vec<usize>>,
    /// The source's estimate of a table's rows whose first key column holds a value, for the
    /// values the roots' keys lead with ([`Planner::lead_probes`]): what a scan for keys that
    /// all lead with that value reads ([`Planner::scan_rows`]).
    /// Keyed by the value packed ([`crate::packed`]), whatever its type.
    lead_rows: HashMap<(usize, Vec<u8>), f64>,
    /// The source's estimate of the children through a relation of a root's key, for roots
    /// keyed by one column ([`Planner::child_probes`]): what looking them up finds, where the
    /// average children per parent row would price a large tenant's at a small one's. By
    /// relation, so the keys of every other relation are not looked at.
    key_children: HashMap<usize, HashMap<Value, f64>>,
}

impl<'a> Planner<'a> {
    /// A table can be scanned for children when scans are allowed, the source estimates its
    /// rows and those of every table with a child edge into it (the cost of lookups and of a
    /// scan is guessed from those), and each of those edges' columns hold the parent's key (so
    /// a scan filters on the key list itself).
    fn new(
        model: &'a Model,
        dialect: &'static dyn Dialect,
        batch: Batch,
        full_rows: bool,
        connections: usize,
        key_tables: bool,
    ) -> Planner<'a> {
        let n = model.tables.len();
        let id = |t: &str| model.position(t).unwrap_or_default();
        let mut into = vec![Vec::new(); n];
        let mut next = vec![Vec::new(); n];
        for (p, t) in model.tables.values().enumerate() {
            for (i, edge) in t.children.iter().enumerate() {
                let c = id(&model.relations[edge.relation].child);
                into[c].push(EdgeIn {
                    parent: p,
                    edge: i,
                    relation: edge.relation,
                });
                next[p].push(c);
            }
        }
        let reaches = (0..n)
            .map(|from| {
                let mut seen = vec![false; n];
                let mut stack = next[from].clone();
                while let Some(t) = stack.pop() {
                    if !std::mem::replace(&mut seen[t], true) {
                        stack.extend(&next[t]);
                    }
                }
                seen
            })
            .collect();
        let queries = Queries {
            model,
            dialect,
            full_rows,
            key_room: scan_key_room(&batch),
        };
        let tables: Vec<&'a TableModel> = model.tables.values().collect();
        let mut referencing: Vec<Vec<usize>> = vec![Vec::new(); n];
        for r in &model.relations {
            if let (Some(p), Some(c)) = (model.position(&r.parent), model.position(&r.child))
                && p != c
                && !referencing[p].contains(&c)
            {
                referencing[p].push(c);
            }
        }
        let scannable = (0..n)
            .map(|c| {
                let child = tables[c];
                batch.scans
                    && child.mode != Mode::Lookup
                    && child.rows_estimate.is_some()
                    && !into[c].is_empty()
                    && into[c].iter().all(|e| {
                        let p = tables[e.parent];
                        p.rows_estimate.is_some()
                            && queries
                                .direct_columns(&model.relations[e.relation], p)
                                .is_some()
                    })
            })
            .collect();
        Planner {
            model,
            dialect,
            batch,
            full_rows,
            connections,
            tables,
            into,
            scannable,
            key_tables,
            reaches,
            referencing,
            lead_rows: HashMap::default(),
            key_children: HashMap::default(),
        }
    }

    /// The `(table, its first key column, value)` whose rows are worth estimating before the
    /// walk: tables a scan may read for children, large enough for the choice between lookups
    /// and a scan to matter, keyed by two or more columns of which the first is also the first
    /// of an edge into them (so keys of that edge that all lead with one value name a range of
    /// the table); each with every value among `values` (those the roots' keys lead with: a
    /// warehouse's orders, order lines and stock all lead with its `w_id`, a tenant's rows with
    /// its id, a number or a UUID). At most LEAD_PROBES.
    fn lead_probes<'v>(&self, values: &[&'v Value]) -> Vec<(usize, &'a str, &'a str, &'v Value)> {
        let mut probes = Vec::new();
        for (c, t) in self.tables.iter().enumerate() {
            let Some(first) = t.key.first().filter(|_| t.key.len() >= 2) else {
                continue;
            };
            let leads = self.into[c].iter().any(|e| {
                self.model.relations[e.relation]
                    .columns
                    .first()
                    .is_some_and(|col| col.eq_ignore_ascii_case(first))
            });
            if self.scannable[c] && leads && t.rows_estimate.unwrap_or(0) >= SPLIT_MIN_ROWS {
                probes.extend(
                    values
                        .iter()
                        .map(|&v| (c, t.name.as_str(), first.as_str(), v)),
                );
            }
        }
        probes.truncate(LEAD_PROBES);
        probes
    }

    /// The `(relation, child table, column, value)` whose children are worth estimating before
    /// the walk: for each root keyed by one column, the child edges out of its table by
    /// one indexed column holding that key (not polymorphic ones, whose estimate would count
    /// every kind), into tables a scan may read that are large enough to split. A large
    /// tenant's 30,000 events of 150,000 were priced as the average tenant's 300 and looked up
    /// in one query, which the server answered with a scan of the whole table on one core
    /// while the other waited; estimated, they are read by a scan in ranges over the
    /// connections. At most `room`.
    fn child_probes<'v>(
        &self,
        roots: &[(&str, &'v Value)],
        room: usize,
    ) -> Vec<(usize, &'a str, &'a str, &'v Value)> {
        let mut probes = Vec::new();
        for &(table, v) in roots {
            let Some(parent) = self.model.tables.get(table) else {
                continue;
            };
            for edge in &parent.children {
                let r = &self.model.relations[edge.relation];
                let c = self.id(&r.child);
                let t = self.tables[c];
                if let [column] = r.columns.as_slice()
                    && r.key_columns(&parent.key).is_some()
                    && r.indexed
                    && r.when.is_empty()
                    && self.scannable[c]
                    && t.rows_estimate.unwrap_or(0) >= SPLIT_MIN_ROWS
                {
                    if probes.len() == room {
                        return probes;
                    }
                    probes.push((edge.relation, t.name.as_str(), column.as_str(), v));
                }
            }
        }
        probes
    }

    /// What the keys' children through relation `rel` are expected to number beyond the
    /// average children per parent row, by the source's estimates of a root's
    /// ([`Planner::child_probes`]); negative for a small tenant's.
    fn surplus(&self, rel: usize, keys: &KeyList) -> f64 {
        let Some(estimated) = self.key_children.get(&rel) else {
            return 0.0;
        };
        if keys.len() > LEAD_PROBES {
            return 0.0;
        }
        let average = self.children_expected(rel, 1);
        (0..keys.len())
            .filter_map(|i| match keys.key(i).as_slice() {
                [v] => estimated.get(v),
                _ => None,
            })
            .map(|n| n - average)
            .sum()
    }

    fn id(&self, table: &str) -> usize {
        // Every table of a relation or root is a table of the model.
        self.model.position(table).unwrap_or_default()
    }

    /// Feeds the connections until nothing is pending and no query runs; takes their rows in.
    fn drive(
        &self,
        (subset, declared): (&mut Subset, &mut DeclaredKeys),
        layouts: &[Layout],
        work: &Work,
        rx: &Receiver<Msg>,
        lookups: Vec<WalkQuery>,
        progress: &mut Option<WalkProgress>,
    ) -> Result<()> {
        // What each query's rows are, by the query's number.
        let mut reads: Vec<(usize, Reads)> = Vec::new();
        let mut held = Held {
            keys: vec![SharedKeys::default(); self.model.relations.len()],
            seen: vec![0; self.model.relations.len()],
            surplus: vec![0.0; self.model.relations.len()],
            too_long: vec![false; self.model.relations.len()],
            running_owned: vec![0; subset.tables.len()],
            running: vec![0; subset.tables.len()],
            fetched: vec![0; subset.tables.len()],
            jobs: Vec::new(),
            tested: Vec::new(),
        };
        let mut running = 0;
        let submit = |queries: Vec<WalkQuery>, reads: &mut Vec<(usize, Reads)>, held: &mut Held| {
            let first = reads.len();
            for q in &queries {
                if q.read.owned() {
                    held.running_owned[q.table] += 1;
                }
                held.running[q.table] += 1;
                if let Reads::Tested { job, .. } | Reads::Owners { job } = q.read {
                    held.tested[job].running += 1;
                }
            }
            reads.extend(queries.iter().map(|q| (q.table, q.read)));
            work.push((first..).zip(queries));
            reads.len() - first
        };
        // The lookups are read before anything else is asked for.
        let mut lookups_done = lookups.is_empty();
        running += submit(lookups, &mut reads, &mut held);
        loop {
            if lookups_done && running < self.connections {
                let round = self.round(subset, &mut held, running == 0);
                if !round.is_empty() {
                    running += submit(round, &mut reads, &mut held);
                } else if running == 0 {
                    // Keys taken may have needed no query; any left wait for the next round.
                    if subset.tables.iter().any(TableKeys::has_pending) {
                        continue;
                    }
                    // Nothing runs or waits but held keys: those of settled tables go, else (the
                    // tables lead to each other and hold keys for one another) all of them.
                    let mut next = Vec::new();
                    self.release(subset, &mut held, false, &mut next);
                    if next.is_empty() {
                        self.release(subset, &mut held, true, &mut next);
                    }
                    if next.is_empty() {
                        return Ok(());
                    }
                    running += submit(next, &mut reads, &mut held);
                }
            }
            // A query runs here: a message comes, or the connections failed (and said why).
            let Ok(msg) = rx.recv() else {
                return Err(Error::Usage(
                    "the walk's connections stopped without saying why".into(),
                ));
            };
            match msg {
                Msg::Rows(i, rows, records, size) => {
                    work.handed.give_back(size);
                    let (table, read) = reads[i];
                    let order = match read {
                        Reads::Rows { .. } | Reads::Tested { .. } if subset.spool.is_some() => {
                            key_order(&rows, &layouts[table].key)
                        }
                        _ => None,
                    };
                    let order = order.unwrap_or_else(|| (0..rows.len()).collect());
                    let unvouched = self.tables[table].unvouched_key.is_some();
                    for at in order {
                        let row = rows.row(at);
                        if unvouched && let Reads::Rows { .. } | Reads::Tested { .. } = read {
                            let key = values_at(row, &layouts[table].key);
                            let t = (table, self.tables[table]);
                            // The connection kept only the values the walk needs, and the
                            // rest in the record.
                            match records.get(at) {
                                Some(record) => declared.check(self.model, t, i, &key, record)?,
                                None => declared.check(self.model, t, i, &key, row)?,
                            }
                        }
                        match read {
                            Reads::Rows { owned, via } => subset.found(
                                &layouts[table],
                                table,
                                row,
                                records.get(at),
                                owned,
                                via,
                            )?,
                            Reads::Keys { parent, width } => {
                                if row.len() >= width && row[..width].iter().all(|v| !v.is_null()) {
                                    subset.want(parent, &row[..width]);
                                }
                            }
                            Reads::Bounds { job } => {
                                if let Some(job) = held.jobs[job].as_mut() {
                                    job.span = span(row);
                                }
                            }
                            Reads::Tested { rel, job } => {
                                let job = &mut held.tested[job];
                                let layout = &layouts[table];
                                // Always there: a scan tests keys only of a relation whose
                                // parent key the child's rows hold (`Planner::tests_keys`),
                                // which is what the layout lists.
                                let Some(d) = layout.direct.iter().find(|d| d.relation == rel)
                                else {
                                    continue;
                                };
                                let key = values_at(row, &d.columns);
                                if subset.tables[job.parent].keys.owned(&key) == Some(true) {
                                    subset.found(
                                        layout,
                                        table,
                                        row,
                                        records.get(at),
                                        true,
                                        Some(rel),
                                    )?;
                                } else if !key.iter().any(Value::is_null) {
                                    let mut packed = Vec::new();
                                    packed::encode(&key, &mut packed);
                                    if job.seen.insert(packed) {
                                        job.set_aside.push(&key);
                                    }
                                }
                            }
                            Reads::Owners { job } => {
                                let job = &mut held.tested[job];
                                if subset.tables[job.parent].keys.owned(row) == Some(true) {
                                    job.owners.push(row);
                                }
                            }
                        }
                    }
                    if let (Reads::Rows { .. } | Reads::Tested { .. }, Some(progress)) =
                        (read, progress.as_mut())
                    {
                        let rows = subset.tables.iter().map(|t| t.read as u64).sum();
                        progress(&subset.names[table], rows);
                    }
                }
                Msg::Done(i, seconds) => {
                    let (table, read) = reads[i];
                    subset.tables[table].seconds += seconds;
                    if let Reads::Bounds { job } = read
                        && let Some(job) = held.jobs[job].take()
                    {
                        let scans = self.scan_queries(job);
                        running += submit(scans, &mut reads, &mut held);
                    }
                    if let Reads::Tested { job, .. } | Reads::Owners { job } = read {
                        held.tested[job].running -= 1;
                        if held.tested[job].running == 0 {
                            let next = self.resolve(job, &mut held.tested[job]);
                            running += submit(next, &mut reads, &mut held);
                        }
                    }
                    if read.owned() {
                        held.running_owned[table] -= 1;
                    }
                    held.running[table] -= 1;
                    running -= 1;
                    lookups_done |= running == 0;
                }
                Msg::Failed(e) => return Err(e),
            }
        }
    }

    /// The next queries: owned rows bring their children, every row the rows it references.
    /// A round takes up to `budget` keys' worth of queries (a key costs a query per edge it
    /// follows), so the SQL written ahead stays small; the rest waits for later rounds.
    ///
    /// Rows referenced in a table that may still get owned rows wait for those reads (unless
    /// nothing runs, `idle`): most of them are among those rows. The benchmark's large
    /// tenant looked up 2,500 users and 560 tasks by key, 35 queries, while the reads of its
    /// own users and tasks that held nearly all of them were still running.
    fn round(&self, subset: &mut Subset, held: &mut Held, idle: bool) -> Vec<WalkQuery> {
        let mut round = Vec::new();
        let mut budget = ROUND_BATCHES * self.connections * self.batch.max_keys;
        // Worked out only when some referenced row waits: a round runs after every message.
        let waiting = subset.tables.iter().any(|t| !t.pending_fetch.is_empty());
        let settled = match idle || !waiting {
            true => vec![true; subset.tables.len()],
            false => self.settled(subset, held, &[]),
        };
        let all = settled;
        for (id, &settled) in all.iter().enumerate() {
            let t = &self.model.tables[&subset.names[id]];
            // At least one key while the budget lasts, however many edges it follows.
            let share = |budget: usize, per_key: usize| match budget {
                0 => 0,
                b => (b / per_key).max(1),
            };
            let hold = settled && !idle && self.holds_references(subset, held, id, &all);
            let tk = &mut subset.tables[id];
            let fetch = match settled && !hold {
                true => tk.pending_fetch.take_front(budget),
                false => KeyList::default(),
            };
            held.fetched[id] += fetch.len();
            budget = budget.saturating_sub(fetch.len());
            let fetch = unread(fetch, &tk.keys);
            match self.reference_scan(id, fetch) {
                Ok(job) => self.submit_scan(subset, held, job, &mut round),
                Err(fetch) => self.fetch(subset, id, &fetch, &mut round),
            }
            let per_key = t.children.len().max(1);
            let (children, values) = subset.tables[id].take_children(share(budget, per_key), false);
            budget = budget.saturating_sub(children.len() * per_key);
            self.children(subset, id, (children, values), held, &mut round);
            let per_key = t.children.iter().filter(|e| e.always).count().max(1);
            let (parts, values) = subset.tables[id].take_children(share(budget, per_key), true);
            budget = budget.saturating_sub(parts.len() * per_key);
            self.parts(subset, id, (parts, values), &mut round);
            let per_key = t.parents.len().max(1);
            let indirect = subset.tables[id]
                .pending_indirect
                .take_front(share(budget, per_key));
            budget = budget.saturating_sub(indirect.len() * per_key);
            self.indirect(subset, id, &indirect, &mut round);
        }
        self.release(subset, held, false, &mut round);
        round
    }

    /// Whether the keys of rows the subset references in table `id` wait for more: while a
    /// table whose rows reference it has rows to read, if the keys met so far, were they the
    /// first of HOLD_GROWTH times as many, would make a scan of it pay (see
    /// [`Planner::reference_scan`]). Taken as they came, they were read by lookups or by
    /// several scans, as the rows naming them came in one message or in many: timing, not the
    /// keys, decided (a test's 2,000 products of 3,000, in messages of 1,024 order lines).
    fn holds_references(&self, subset: &Subset, held: &Held, id: usize, settled: &[bool]) -> bool {
        let pending = subset.tables[id].pending_fetch.len();
        let could = (held.fetched[id] + pending) as f64 * HOLD_GROWTH;
        if pending == 0 || !self.reference_scan_pays(id, could) {
            return false;
        }
        // Owned rows of a table not settled may yet come; so may rows read by its queries
        // running or to make.
        self.referencing[id]
            .iter()
            .any(|&c| !settled[c] || held.running[c] > 0 || subset.tables[c].has_pending())
    }

    /// Queries reading the rows of table `id` with `keys`.
    fn fetch(&self, subset: &Subset, id: usize, keys: &KeyList, round: &mut Vec<WalkQuery>) {
        let t = &self.model.tables[&subset.names[id]];
        self.batches(keys, usize::MAX, round, |queries, keys_in, n| WalkQuery {
            sql: queries.by_key(t, keys_in),
            context: format!("reading {n} rows of {} that the subset references", t.name),
            table: id,
            read: Reads::Rows {
                owned: false,
                via: None,
            },
            key_tables: Vec::new(),
        });
    }

    /// Queries reading the children of `keys` (owned rows of table `id`). Keys whose children
    /// are in a table a scan may read are held until it is known how many there are, when the
    /// keys met so far, were they the first of HOLD_GROWTH times as many, would make a scan
    /// pay; others are looked up at once, while more rows come (a small tenant's).
    fn children(
        &self,
        subset: &Subset,
        id: usize,
        (keys, values): (KeyList, Vec<(usize, KeyList)>),
        held: &mut Held,
        round: &mut Vec<WalkQuery>,
    ) {
        if keys.is_empty() {
            return;
        }
        let parent = &self.model.tables[&subset.names[id]];
        let keys = Arc::new(keys);
        let mut bytes = None;
        for edge in &parent.children {
            let rel = edge.relation;
            let child_id = self.id(&self.model.relations[rel].child);
            if let Some((_, values)) = values.iter().find(|(r, _)| *r == rel) {
                self.lookups_by_values(parent, edge, child_id, values, true, round);
                continue;
            }
            held.seen[rel] += keys.len();
            let surplus = self.surplus(rel, &keys);
            held.surplus[rel] += surplus;
            if self.scannable[child_id]
                && !held.too_long[rel]
                && self.lookup_cost(rel, held.seen[rel], held.surplus[rel]) * HOLD_GROWTH
                    >= self.scan_rows(child_id, rel, one_lead(&held.keys[rel], &keys).as_ref())
            {
                let bytes = bytes.get_or_insert_with(|| keys.literal_bytes(self.dialect));
                held.keys[rel].push(&keys, bytes.clone());
                held.keys[rel].surplus += surplus;
                // Counted as a set of bits when a scan would test them so, else whole, though
                // a scan may write less of the keys (see [`Queries::scan`]): keys of text
                // that all lead with one value, held until a scan could take them, were found
                // later than lookups find them as they come (bench/shapes.py's strings: 1.10 s
                // against 1.02 s, 2 cores).
                let held_bytes = match held.keys[rel].bit_set_bytes(self.dialect) {
                    Some(bits) => bits,
                    None => held.keys[rel].bytes,
                };
                if held_bytes <= SCAN_KEY_BYTES.min(self.batch.max_bytes)
                    || self.key_tables && keys.int_width().is_some()
                    || held.keys[rel].bytes <= TESTED_KEY_BYTES
                        && self.tests_keys(rel, &held.keys[rel], false)
                {
                    continue;
                }
                // Too many for a scan to carry: these, any held, and any to come are looked up.
                held.too_long[rel] = true;
                let all = std::mem::take(&mut held.keys[rel]).to_list();
                self.lookups(parent, edge, child_id, &all, round);
                continue;
            }
            self.lookups(parent, edge, child_id, &keys, round);
        }
    }

    /// What looking up the children through relation `rel` of `n` keys costs, in rows of a
    /// scan of the child table (a probe per key, LOOKUP_ROW_COST per row expected: the child's
    /// rows per parent row, shared among the polymorphic references on the same columns;
    /// through the child's primary key, CLUSTERED_KEY_COST per key and one per row).
    /// Without an index on the relation's columns, every query of lookups reads the whole
    /// table: more than one scan (a small tenant's 385 comments, by a polymorphic reference
    /// whose index was dropped, took 0.38-0.56 s by lookups over 4 connections).
    fn lookup_cost(&self, rel: usize, n: usize, surplus: f64) -> f64 {
        let r = &self.model.relations[rel];
        if !r.indexed {
            let c_rows = self.model.tables[&r.child].rows_estimate.unwrap_or(0) as f64;
            let queries = n.div_ceil(self.batch.max_keys).max(1) as f64;
            return n as f64 + queries * c_rows;
        }
        let rows = (self.children_expected(rel, n) + surplus).max(0.0);
        match r.clustered {
            true => CLUSTERED_KEY_COST * n as f64 + rows,
            false => n as f64 + LOOKUP_ROW_COST * rows,
        }
    }

    /// How many children through relation `rel` `n` keys of its parent are expected to have:
    /// the child's rows per parent row, shared among the polymorphic references on the same
    /// columns.
    fn children_expected(&self, rel: usize, n: usize) -> f64 {
        let r = &self.model.relations[rel];
        let (c, p) = (&self.model.tables[&r.child], &self.model.tables[&r.parent]);
        let c_rows = c.rows_estimate.unwrap_or(0) as f64;
        let p_rows = p.rows_estimate.unwrap_or(0).max(1) as f64;
        let sharing = match r.when.is_empty() {
            true => 1,
            false => c
                .parents
                .iter()
                .filter(|&&o| {
                    let o = &self.model.relations[o];
                    !o.when.is_empty() && o.columns == r.columns
                })
                .count()
                .max(1),
        };
        n as f64 * c_rows / p_rows / sharing as f64
    }

    /// The rows a scan of table `c` for its children through relation `rel` reads: its every row,
    /// or, when the keys all lead with one value (`lead`) and the relation's first column is
    /// the first of the child's key, the rows the source estimated to hold that value
    /// ([`Planner::lead_probes`]): the scan names the value ([`Queries::leading_cond`]), and
    /// the server reads just its range of the table. TPC-C's order lines of a warehouse (a
    /// fifth of them, 100,050 rows for 10,000 orders) were looked up in 4 queries of 25-50 ms
    /// each, priced against a scan of the whole table. Not priced by the column's average
    /// share of the table: under a tenant holding most of it, a few keys would be priced at a
    /// small tenant's range and read the large one's.
    fn scan_rows(&self, c: usize, rel: usize, lead: Option<&Value>) -> f64 {
        let r = &self.model.relations[rel];
        let rows = self.tables[c].rows_estimate.unwrap_or(0) as f64;
        let first = match (r.columns.first(), self.tables[c].key.first()) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        match lead {
            Some(v) if first => self
                .lead_rows
                .get(&(c, lead_key(v)))
                .map_or(rows, |n| n.min(rows)),
            _ => rows,
        }
    }

    /// Queries looking up the children through `edge` of `keys` (owned rows of `parent`).
    fn lookups(
        &self,
        parent: &TableModel,
        edge: &ChildEdge,
        child_id: usize,
        keys: &KeyList,
        round: &mut Vec<WalkQuery>,
    ) {
        self.lookups_of(parent, edge, child_id, (keys, false), true, round);
    }

    /// Queries reading the children through the `always` edges of `keys`, rows of table `id`
    /// that are not owned: they come in as rows that are not owned either. Looked up as they
    /// come, never held for a scan (those rows come as other rows reference them, any time).
    fn parts(
        &self,
        subset: &Subset,
        id: usize,
        (keys, values): (KeyList, Vec<(usize, KeyList)>),
        round: &mut Vec<WalkQuery>,
    ) {
        if keys.is_empty() {
            return;
        }
        let parent = &self.model.tables[&subset.names[id]];
        for edge in parent.children.iter().filter(|e| e.always) {
            let child_id = self.id(&self.model.relations[edge.relation].child);
            match values.iter().find(|(r, _)| *r == edge.relation) {
                Some((_, values)) => {
                    self.lookups_by_values(parent, edge, child_id, values, false, round)
                }
                None => self.lookups_of(parent, edge, child_id, (&keys, false), false, round),
            }
        }
    }

    /// Queries looking up the children through `edge` of owned rows of `parent` by `values`,
    /// what the rows hold in the columns the relation references (not their key): the child's
    /// columns matched against them, without a join to `parent`. bench/shapes.py's strings,
    /// 20,000 audit rows by their members' emails: 76 ms of MariaDB's CPU, against 183-196 ms
    /// joining the members of each batch by key (146-150 ms with the join's order forced).
    fn lookups_by_values(
        &self,
        parent: &TableModel,
        edge: &ChildEdge,
        child_id: usize,
        values: &KeyList,
        owned: bool,
        round: &mut Vec<WalkQuery>,
    ) {
        let mut set = KeyList::default();
        for i in 0..values.len() {
            let v = values.key(i);
            if !v.iter().any(Value::is_null) {
                set.push(&v);
            }
        }
        if !set.is_empty() {
            self.lookups_of(parent, edge, child_id, (&set, true), owned, round);
        }
    }

    /// Queries looking up the children through `edge` of `keys` of `parent`, or (`by_values`)
    /// of the values its rows hold in the columns the relation references; the children are
    /// owned when those rows are.
    fn lookups_of(
        &self,
        parent: &TableModel,
        edge: &ChildEdge,
        child_id: usize,
        (keys, by_values): (&KeyList, bool),
        owned: bool,
        round: &mut Vec<WalkQuery>,
    ) {
        let child = &self.model.relations[edge.relation].child;
        // Without an index on the relation's columns every query reads the whole table: the
        // fewer the better.
        let rows = self.model.tables[child].rows_estimate.unwrap_or(0) as usize;
        let most = match self.model.relations[edge.relation].indexed {
            true => (rows / LOOKUP_TABLE_SHARE).max(LOOKUP_MIN_KEYS),
            false => usize::MAX,
        };
        self.batches(keys, most, round, |queries, keys_in, n| WalkQuery {
            sql: match by_values {
                true => queries.children_by_values(edge, keys_in),
                false => queries.children(edge, keys_in),
            },
            context: format!(
                "finding the children in {child} of {n} rows of {}",
                parent.name
            ),
            table: child_id,
            read: Reads::Rows {
                owned,
                via: Some(edge.relation),
            },
            key_tables: Vec::new(),
        });
    }

    /// Per table, whether it can get no more owned rows: no table that leads to it (nor
    /// itself) has owned rows being read (or to read by the queries of `round`), children
    /// still to find, or keys held for it.
    fn settled(&self, subset: &Subset, held: &Held, round: &[WalkQuery]) -> Vec<bool> {
        let n = subset.tables.len();
        let mut to_read = vec![false; n];
        for q in round.iter().filter(|q| q.read.owned()) {
            to_read[q.table] = true;
        }
        let mut settled = vec![true; n];
        for x in 0..n {
            let busy = held.running_owned[x] > 0
                || to_read[x]
                || !subset.tables[x].pending_children.is_empty()
                || self.into[x]
                    .iter()
                    .any(|e| !held.keys[e.relation].is_empty());
            if busy {
                settled[x] = false;
                for (p, s) in settled.iter_mut().enumerate() {
                    if self.reaches[x][p] {
                        *s = false;
                    }
                }
            }
        }
        settled
    }

    fn model_table(&self, id: usize) -> &'a TableModel {
        self.tables[id]
    }

    /// Releases the keys held for each table whose parents are all settled (with `force`,
    /// every table's): as one scan of the table when that costs less than looking their
    /// children up, else as lookups.
    fn release(
        &self,
        subset: &mut Subset,
        held: &mut Held,
        force: bool,
        round: &mut Vec<WalkQuery>,
    ) {
        if held.keys.iter().all(SharedKeys::is_empty) {
            return;
        }
        // Decided on the state before any of them goes: a table released here has owned rows
        // to read, which tables it leads to must wait for.
        let settled = self.settled(subset, held, round);
        let ready: Vec<usize> = (0..subset.tables.len())
            .filter(|&c| force || self.into[c].iter().all(|e| settled[e.parent]))
            .collect();
        for c in ready {
            let lists: Vec<(EdgeIn, SharedKeys)> = self.into[c]
                .iter()
                .map(|&e| (e, std::mem::take(&mut held.keys[e.relation])))
                .filter(|(_, keys)| !keys.is_empty())
                .collect();
            if lists.is_empty() {
                continue;
            }
            match self.scan_job(c, lists) {
                Ok(job) => self.submit_scan(subset, held, job, round),
                Err(lists) => {
                    for (e, keys) in &lists {
                        let parent = self.model_table(e.parent);
                        self.lookups(parent, &parent.children[e.edge], c, &keys.to_list(), round);
                    }
                }
            }
        }
    }

    /// A scan of table `c` for the children of `lists` (per child edge into it, the keys held),
    /// when it costs less than looking them up; else the lists.
    fn scan_job(
        &self,
        c: usize,
        lists: Vec<(EdgeIn, SharedKeys)>,
    ) -> std::result::Result<ScanJob, Vec<(EdgeIn, SharedKeys)>> {
        let child = self.model_table(c);
        let lookups: f64 = lists
            .iter()
            .map(|(e, keys)| self.lookup_cost(e.relation, keys.len(), keys.surplus))
            .sum();
        if let [(e, keys)] = lists.as_slice()
            && self.tests_keys(e.relation, keys, true)
        {
            if lookups < self.scan_rows(c, e.relation, keys.lead.as_ref().map(|(v, _)| v)) {
                return Err(lists);
            }
            return Ok(self.tested_job(c, lists));
        }
        let keys: Vec<&SharedKeys> = lists.iter().map(|(_, k)| k).collect();
        let Some(keyed) = self.scan_keyed(&keys) else {
            return Err(lists);
        };
        let scan_rows = match lists.as_slice() {
            [(e, keys)] => self.scan_rows(c, e.relation, keys.lead.as_ref().map(|(v, _)| v)),
            _ => child.rows_estimate.unwrap_or(0) as f64,
        };
        if lookups < scan_rows {
            return Err(lists);
        }
        let (what, edges) = self.scan_edges(lists);
        Ok(self.sized_job(c, edges, keyed, true, what))
    }

    /// The edges a scan for the children of `lists` reads, and words for its messages ("the
    /// children of N rows of t").
    fn scan_edges(&self, lists: Vec<(EdgeIn, SharedKeys)>) -> (String, Vec<ScanEdge>) {
        let keys: usize = lists.iter().map(|(_, keys)| keys.len()).sum();
        let what = format!(
            "the children of {keys} rows of {}",
            lists
                .iter()
                .map(|(e, _)| self.model_table(e.parent).name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let queries = self.queries();
        let edges: Vec<ScanEdge> = lists
            .into_iter()
            .map(|(e, keys)| ScanEdge {
                relation: Some(e.relation),
                // Some: keys are held only for tables `scannable` says hold the parent key.
                columns: queries
                    .direct_columns(
                        &self.model.relations[e.relation],
                        self.model_table(e.parent),
                    )
                    .unwrap_or_default(),
                keys,
            })
            .collect();
        (what, edges)
    }

    /// Whether the children through relation `rel` of `keys` may be read by a scan that names
    /// just the first value the keys share and tests each row's key itself ([`TestedJob`]):
    /// keys of two or more columns, not integers the server tests as a set of bits or cells
    /// for less, all leading with one value under which the parent's rows were estimated
    /// ([`Planner::lead_probes`]), into a child that holds the parent's key. With `whole`
    /// (the keys are all held), only when they are at least TESTED_SHARE of those rows.
    fn tests_keys(&self, rel: usize, keys: &SharedKeys, whole: bool) -> bool {
        let r = &self.model.relations[rel];
        let Some((lead, _)) = keys.lead.as_ref() else {
            return false;
        };
        if r.columns.len() < 2
            || keys.int_width().is_some()
            || keys.bit_set_bytes(self.dialect).is_some()
            || keys.cell_bytes(self.dialect).is_some()
        {
            return false;
        }
        let Some(&under) = self.lead_rows.get(&(self.id(&r.parent), lead_key(lead))) else {
            return false;
        };
        let child = &self.model.tables[&r.child];
        let holds_key = self
            .queries()
            .direct_parents(child)
            .iter()
            .any(|d| d.relation == rel);
        holds_key && (!whole || keys.len() as f64 >= TESTED_SHARE * under)
    }

    /// The scan of table `c` for the children of the keys of the one edge in `lists`, naming
    /// only the value they all lead with and testing each row itself ([`TestedJob`]), in as
    /// many ranges of the split column as a scan without keys to parse would be.
    fn tested_job(&self, c: usize, lists: Vec<(EdgeIn, SharedKeys)>) -> ScanJob {
        let child = self.model_table(c);
        let edge = lists.first().map(|(e, _)| e.edge);
        let (what, edges) = self.scan_edges(lists);
        // No keys in its text for the server to parse again in each range.
        let pieces = self.scan_pieces(child, 0, 0);
        ScanJob {
            table: c,
            owned: true,
            edges,
            pieces,
            keyed: false,
            span: Span::Whole,
            key_ranges: Vec::new(),
            what,
            test: edge,
            tested: None,
        }
    }

    /// Whether a scan filtering on `lists` carries them in key tables (Some(true)), in its text
    /// (Some(false)), or cannot carry them at all (None: they are too long for its text, and
    /// the source has no key tables or the keys are not of integers).
    fn scan_keyed(&self, lists: &[&SharedKeys]) -> Option<bool> {
        // What the keys take in the scan's text, as sets of bits or lists.
        let bytes: usize = lists.iter().map(|k| k.scan_bytes(self.dialect)).sum();
        // Pairs of integers that do not all lead with one value go to key tables however few
        // (see PAIRS_IN_KEY_TABLES), when every edge's keys can, unless tested as a set of
        // bits or by their cells (which cost the server less than a key table).
        let pairs = lists
            .iter()
            .filter(|k| k.int_width() == Some(2) && k.lead.is_none())
            .filter(|k| k.bit_set_bytes(self.dialect).is_none())
            .filter(|k| k.cell_bytes(self.dialect).is_none())
            .map(|k| k.len())
            .sum::<usize>();
        let tables = self.key_tables && lists.iter().all(|k| k.int_width().is_some());
        let keyed = bytes > SCAN_KEY_BYTES.min(self.batch.max_bytes)
            || tables && pairs >= PAIRS_IN_KEY_TABLES;
        match keyed && !tables {
            true => None,
            false => Some(keyed),
        }
    }

    /// How many ranges of its split column a scan of `child` is read in, one per connection at
    /// most: each range at least SPLIT_MIN_ROWS rows, and long next to what its query carries
    /// for the server to parse again (`parsed` keys listed, `text` bytes of keys).
    fn scan_pieces(&self, child: &TableModel, parsed: u64, text: u64) -> usize {
        match &child.split_column {
            Some(_) => (child.rows_estimate.unwrap_or(0)
                / SPLIT_MIN_ROWS
                    .max(parsed)
                    .max(text / SPLIT_LIST_BYTES_PER_ROW))
            .clamp(1, self.connections as u64) as usize,
            None => 1,
        }
    }

    /// A scan of table `c` filtering on `edges`, split into ranges over the connections.
    fn sized_job(
        &self,
        c: usize,
        edges: Vec<ScanEdge>,
        keyed: bool,
        owned: bool,
        what: String,
    ) -> ScanJob {
        let child = self.model_table(c);
        let keys: usize = edges.iter().map(|e| e.keys.len()).sum();
        // Each range's query carries the whole key list, which the server parses again: the
        // ranges must be long next to it (by its bytes too, unless in key tables). A set of
        // bits is parsed as one literal, whatever the keys it holds.
        let listed: usize = edges
            .iter()
            .filter(|e| e.keys.bit_set_bytes(self.dialect).is_none())
            .map(|e| e.keys.len())
            .sum();
        let (text, parsed) = match keyed {
            true => (0, 2 * keys as u64),
            // The keys' text as written: sets of bits by a byte a key where the room allows.
            false => (self.queries().byte_sets(&edges).1 as u64, listed as u64),
        };
        let pieces = self.scan_pieces(child, parsed, text);
        let mut key_ranges = match keyed {
            true => Vec::new(),
            false => key_ranges(child, &edges, self.connections, self.dialect),
        };
        if !self.reads_firsts(c, &edges, &key_ranges) {
            key_ranges.iter_mut().for_each(|r| r.firsts = Vec::new());
        }
        if key_ranges.is_empty() && !keyed && pieces == 1 {
            key_ranges = bytes_ranges(child, &edges, self.connections, self.dialect);
        }
        ScanJob {
            table: c,
            owned,
            edges: if key_ranges.is_empty() {
                edges
            } else {
                Vec::new()
            },
            pieces,
            keyed,
            span: Span::Whole,
            key_ranges,
            what,
            test: None,
            tested: None,
        }
    }

    /// Whether a scan of table `c` for `edges`, cut into `ranges` of its first key column,
    /// reads just the rows under the keys' first values in each range (`IN`, a descent of the
    /// key per value, CLUSTERED_KEY_COST rows each) rather than each range whole: when those
    /// descents and the rows expected under them cost less than the table's rows, and each
    /// range's values take at most half the room of its keys' text. The forum's post tags of
    /// 80,000 posts (40,000 of 200,000, keyed by `(thread_id, seq, tag_id)`) lie under 8,000
    /// threads spread over the whole table: 0.04-0.05 s of the server's CPU so, against
    /// 0.09 s for its four ranges read whole.
    fn reads_firsts(&self, c: usize, edges: &[ScanEdge], ranges: &[KeyRange]) -> bool {
        let rows = self.model_table(c).rows_estimate.unwrap_or(0) as f64;
        let firsts: usize = ranges.iter().map(|r| r.firsts.len()).sum();
        let expected: f64 = edges
            .iter()
            .map(|e| match e.relation {
                Some(rel) => self.children_expected(rel, e.keys.len()) + e.keys.surplus,
                // Rows the subset references, by their own key: a row a key.
                None => e.keys.len() as f64,
            })
            .sum();
        let room = scan_key_room(&self.batch) / 2;
        !ranges.is_empty()
            && CLUSTERED_KEY_COST * firsts as f64 + expected.min(rows) < rows
            && ranges.iter().all(|r| firsts_text(&r.firsts) <= room)
    }

    /// A scan of table `id` for the rows with `keys` that the subset references, when looking
    /// them up by key would cost more than reading every row of the table (a probe of its key
    /// per row, CLUSTERED_KEY_COST rows of a scan, and the row); else the keys. TPC-H's parts
    /// and part suppliers of a nation's line items: 15,000 of 20,000 parts and 24,000 of
    /// 80,000 part suppliers, which 24 queries looked up by key.
    fn reference_scan(&self, id: usize, keys: KeyList) -> std::result::Result<ScanJob, KeyList> {
        let t = self.model_table(id);
        if !self.reference_scan_pays(id, keys.len() as f64) {
            return Err(keys);
        }
        let n = keys.len();
        let bytes = keys.literal_bytes(self.dialect);
        let mut shared = SharedKeys::default();
        let list = Arc::new(keys);
        shared.push(&list, bytes);
        // Keys that would go to key tables are looked up: a scan joining one cannot be split
        // over the connections, and TPC-H's 24,000 part suppliers took as long read so as
        // looked up by key (0.157 against 0.156 s).
        if self.scan_keyed(&[&shared]) != Some(false) {
            drop(shared);
            // The list's one other holder is dropped: it cannot fail.
            return Err(Arc::try_unwrap(list).unwrap_or_default());
        }
        let edge = ScanEdge {
            relation: None,
            columns: t.key.clone(),
            keys: shared,
        };
        let what = format!("{n} rows the subset references");
        Ok(self.sized_job(id, vec![edge], false, false, what))
    }

    /// Whether reading `keys` rows the subset references in table `id` by a scan of it costs
    /// less than looking them up (see [`Planner::reference_scan`]).
    fn reference_scan_pays(&self, id: usize, keys: f64) -> bool {
        let t = self.model_table(id);
        match t.rows_estimate {
            Some(rows) if self.batch.scans && t.mode != Mode::Lookup && !t.keyless => {
                keys >= REFERENCE_SCAN_MIN_KEYS as f64
                    && (CLUSTERED_KEY_COST + 1.0) * keys >= rows as f64
            }
            _ => false,
        }
    }

    /// Queries for a scan: those of its ranges, or first the query reading its split column's
    /// range, which the scan waits for.
    fn submit_scan(
        &self,
        subset: &mut Subset,
        held: &mut Held,
        mut job: ScanJob,
        round: &mut Vec<WalkQuery>,
    ) {
        let c = job.table;
        match job.owned {
            true => subset.tables[c].scans += 1,
            false => subset.tables[c].reference_scans += 1,
        }
        if let Some(edge) = job.test
            && let Some(rel) = job.edges.first().and_then(|e| e.relation)
        {
            let parent = self.id(&self.model.relations[rel].parent);
            job.tested = Some(held.tested.len());
            held.tested.push(TestedJob {
                parent,
                edge,
                child: c,
                running: 0,
                set_aside: KeyList::default(),
                seen: HashSet::default(),
                owners: KeyList::default(),
            });
        }
        if job.pieces > 1 && job.key_ranges.is_empty() {
            let split = self.model_table(c).split_column.clone().unwrap_or_default();
            let q = |s: &str| self.dialect.quote_ident(s);
            round.push(WalkQuery {
                sql: format!(
                    "SELECT MIN(c.{col}), MAX(c.{col}) FROM {} c",
                    q(&self.model_table(c).name),
                    col = q(&split)
                ),
                context: format!("reading the key range of {}", subset.names[c]),
                table: c,
                read: Reads::Bounds {
                    job: held.jobs.len(),
                },
                key_tables: Vec::new(),
            });
            held.jobs.push(Some(job));
        } else {
            round.extend(self.scan_queries(job));
        }
    }

    /// The queries of a scan: one per range of the split column.
    fn scan_queries(&self, job: ScanJob) -> Vec<WalkQuery> {
        let child = self.model_table(job.table);
        let queries = self.queries();
        if let (Some(tested), [edge]) = (job.tested, job.edges.as_slice())
            && let Some(rel) = edge.relation
        {
            let column = child.split_column.as_deref();
            return ranges(job.pieces, job.span)
                .into_iter()
                .map(|range| WalkQuery {
                    sql: queries.tested_scan(child, edge, column, range),
                    context: format!("scanning {} for {}", child.name, job.what),
                    table: job.table,
                    read: Reads::Tested { rel, job: tested },
                    key_tables: Vec::new(),
                })
                .collect();
        }
        let query = |sql: String, edges: &[ScanEdge], key_tables: Vec<KeyTable>| WalkQuery {
            sql,
            context: format!("scanning {} for {}", child.name, job.what),
            table: job.table,
            read: Reads::Rows {
                owned: job.owned,
                // A row that two edges may have brought references the parent of one.
                via: match edges {
                    [e] => e.relation,
                    _ => None,
                },
            },
            key_tables,
        };
        if !job.key_ranges.is_empty() {
            let column = child.leading_int_column.as_deref();
            return job
                .key_ranges
                .iter()
                .map(|r| {
                    let sql = match (&r.bytes, column, r.firsts.is_empty()) {
                        (Some(bounds), _, _) => queries.scan_between(child, &r.edges, bounds),
                        (None, Some(col), false) => {
                            queries.scan_of_firsts(child, &r.edges, col, &r.firsts)
                        }
                        _ => queries.scan(child, &r.edges, column, (Some(r.lo), Some(r.hi)), false),
                    };
                    query(sql, &r.edges, Vec::new())
                })
                .collect();
        }
        let column = child.split_column.as_deref();
        let key_tables = |edges: &[ScanEdge]| match job.keyed {
            true => edges
                .iter()
                .enumerate()
                .map(|(i, e)| KeyTable {
                    name: key_table_name(i),
                    width: e.columns.len(),
                    keys: e.keys.clone(),
                })
                .collect(),
            false => Vec::new(),
        };
        let filter = (!job.keyed).then(|| queries.scan_filter(&job.edges));
        ranges(job.pieces, job.span)
            .into_iter()
            .map(|range| {
                let sql = match &filter {
                    Some(f) => queries.scan_in_range(child, &job.edges, column, range, f),
                    None => queries.scan(child, &job.edges, column, range, true),
                };
                query(sql, &job.edges, key_tables(&job.edges))
            })
            .collect()
    }

    /// What the tested scan `id` ([`TestedJob`]) asks once its queries are done: the keys of
    /// the parent's rows that the keys it set aside name (the server compares them under the
    /// columns' collations); once those are read, the children of the owned ones, looked up.
    fn resolve(&self, id: usize, job: &mut TestedJob) -> Vec<WalkQuery> {
        let mut round = Vec::new();
        let parent = self.model_table(job.parent);
        let child = self.model_table(job.child);
        if !job.set_aside.is_empty() {
            let keys = std::mem::take(&mut job.set_aside);
            job.seen = HashSet::default();
            self.batches(&keys, usize::MAX, &mut round, |queries, keys_in, n| {
                WalkQuery {
                    sql: queries.keys_named(parent, keys_in),
                    context: format!(
                        "finding the {} rows that {n} keys in {} name",
                        parent.name, child.name
                    ),
                    table: job.parent,
                    read: Reads::Owners { job: id },
                    key_tables: Vec::new(),
                }
            });
        } else if !job.owners.is_empty() {
            let keys = std::mem::take(&mut job.owners);
            self.lookups(
                parent,
                &parent.children[job.edge],
                job.child,
                &keys,
                &mut round,
            );
        }
        round
    }

    /// Queries following the references of `keys` (rows of table `id`) that need a join:
    /// those whose parent key the row does not hold itself.
    fn indirect(&self, subset: &Subset, id: usize, keys: &KeyList, round: &mut Vec<WalkQuery>) {
        let child = &self.model.tables[&subset.names[id]];
        let direct: Vec<usize> = self
            .queries()
            .direct_parents(child)
            .iter()
            .map(|d| d.relation)
            .collect();
        let queries = self.queries();
        for &rid in &child.parents {
            let r = &self.model.relations[rid];
            if !queries.followed(r) || direct.contains(&rid) {
                continue;
            }
            let parent = &self.model.tables[&r.parent];
            let parent_id = self.id(&parent.name);
            self.batches(keys, usize::MAX, round, |queries, keys_in, n| WalkQuery {
                sql: queries.parents(r, keys_in),
                context: format!(
                    "finding the {} rows that {n} rows of {} reference",
                    parent.name, child.name
                ),
                table: id,
                read: Reads::Keys {
                    parent: parent_id,
                    width: parent.key.len(),
                },
                key_tables: Vec::new(),
            });
        }
    }

    /// One query per batch of `keys`, each of at most `most` keys: `make(queries, keys_in, n)`
    /// writes it, with `keys_in` writing the IN list of the batch's `n` keys.
    fn batches(
        &self,
        keys: &KeyList,
        most: usize,
        round: &mut Vec<WalkQuery>,
        mut make: impl FnMut(&Queries, &mut dyn FnMut(&[String]) -> String, usize) -> WalkQuery,
    ) {
        let (dialect, batch, queries) = (self.dialect, self.batch, self.queries());
        // With several connections, enough keys make at least one query per connection.
        let connections = self.connections;
        let per_query = match keys.len().div_ceil(connections) {
            n if connections > 1 && n >= MIN_SPLIT_KEYS => n.min(batch.max_keys),
            _ => batch.max_keys,
        }
        .min(most);
        let mut next = 0;
        while next < keys.len() {
            let chunk = keys.chunk(next, per_query);
            // Sized once, however many times the query names the list.
            let n = batch_len(dialect, &chunk, batch);
            let mut keys_in = |cols: &[String]| in_list(dialect, cols, &chunk[..n]);
            round.push(make(&queries, &mut keys_in, n));
            next += n;
        }
    }

    fn queries(&self) -> Queries<'a> {
        Queries {
            model: self.model,
            dialect: self.dialect,
            full_rows: self.full_rows,
            key_room: scan_key_room(&self.batch),
        }
    }
}

/// A scan whose every edge's keys lead with the table's first key column (the children
/// of orders in `order_items (order_id, line)`, say), cut over the connections into ranges
/// of that column holding as many of the keys' first values each, each range's query
/// carrying only the keys inside it. The table's rows lie in that column's order, so each
/// query reads its range alone, and the server parses each key once (a scan split by the
/// split column carries every key in every range). Empty when the keys do not
/// lead so, are not integers, or too few or all one value (one tenant's) to cut.
///
/// A shop's 150,000 order items of 600,000, by 50,000 order ids spread over the whole table:
/// 194-281 ms of server time in one query (5 runs), 198-236 ms in four ranges of 12,500 keys
/// run one after the other (48-78 ms each). The same work, which more cores than these two
/// share; here the dump measured the same either way.
fn key_ranges(
    child: &TableModel,
    edges: &[ScanEdge],
    connections: usize,
    dialect: &dyn Dialect,
) -> Vec<KeyRange> {
    let Some(col) = &child.leading_int_column else {
        return Vec::new();
    };
    let pieces = range_pieces(child, connections);
    if pieces < 2 || !edges.iter().all(|e| e.columns.first() == Some(col)) {
        return Vec::new();
    }
    let mut firsts = Vec::new();
    for e in edges {
        match e.keys.first_ints() {
            Some(f) => firsts.extend(f),
            None => return Vec::new(),
        }
    }
    firsts.sort_unstable();
    firsts.dedup();
    let pieces = pieces.min(firsts.len() / MIN_SPLIT_KEYS);
    let Some(&last) = firsts.last() else {
        return Vec::new();
    };
    if pieces < 2 {
        return Vec::new();
    }
    let starts: Vec<i128> = (0..pieces)
        .map(|k| i128::from(firsts[k * firsts.len() / pieces]))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &lo)| {
            let hi = starts.get(k + 1).copied().unwrap_or(i128::from(last) + 1);
            let from = firsts.partition_point(|&f| i128::from(f) < lo);
            let to = firsts.partition_point(|&f| i128::from(f) < hi);
            let edges = edges
                .iter()
                .filter_map(|e| {
                    Some(ScanEdge {
                        relation: e.relation,
                        columns: e.columns.clone(),
                        keys: e.keys.within(lo, hi, dialect)?,
                    })
                })
                .collect();
            KeyRange {
                lo,
                hi,
                edges,
                firsts: firsts[from..to].to_vec(),
                bytes: None,
            }
        })
        .collect()
}

/// How many ranges of its key a scan of `child` is cut into over `connections`: one per
/// SPLIT_MIN_ROWS rows, at most one per connection.
fn range_pieces(child: &TableModel, connections: usize) -> usize {
    (child.rows_estimate.unwrap_or(0) / SPLIT_MIN_ROWS).clamp(1, connections as u64) as usize
}

/// A scan of a table keyed by one column of bytes (a UUID in `BINARY(16)`, say), for keys of
/// that column, cut over the connections into ranges of as many keys each, each range's query
/// bounded by its least and greatest key and carrying just its keys: such a table has no
/// integer column to split it by, and its scan ran as one query on one core while the other had
/// nothing to do (the forum's users its posts and votes reference: 24,000 of 30,000, the last
/// query of the walk). The server compares bytes as Rust does (byte by byte, a prefix first).
/// Empty when the keys are not such, or too few, or the table too small to cut.
fn bytes_ranges(
    child: &TableModel,
    edges: &[ScanEdge],
    connections: usize,
    dialect: &dyn Dialect,
) -> Vec<KeyRange> {
    let [key] = child.key.as_slice() else {
        return Vec::new();
    };
    let [edge] = edges else {
        return Vec::new();
    };
    let pieces = range_pieces(child, connections);
    if pieces < 2 || !matches!(edge.columns.as_slice(), [c] if c.eq_ignore_ascii_case(key)) {
        return Vec::new();
    }
    let KeyList::General(packed) = edge.keys.to_list() else {
        return Vec::new();
    };
    // Each key one string of bytes, sorted and compared packed: packed keys compare as their
    // values do (src/packed.rs), so none is decoded but the ranges' bounds. Decoded and copied,
    // they took 2% of the forum's client CPU (20,000 users keyed by 16 bytes, on the walk's
    // planning thread while the connections waited).
    let bytes_rank = Value::Bytes(Vec::new()).rank();
    let mut keys: Vec<usize> = Vec::with_capacity(packed.len());
    for i in 0..packed.len() {
        let k = packed.get(i);
        if k.first() != Some(&bytes_rank) || packed::first_len(k) != k.len() {
            return Vec::new();
        }
        keys.push(i);
    }
    keys.sort_unstable_by(|&a, &b| packed.get(a).cmp(packed.get(b)));
    keys.dedup_by(|a, b| packed.get(*a) == packed.get(*b));
    let pieces = pieces.min(keys.len() / MIN_SPLIT_KEYS);
    if pieces < 2 {
        return Vec::new();
    }
    let bound = |p: Option<&usize>| {
        p.and_then(|&i| packed.key(i).pop())
            .unwrap_or(Value::Bytes(Vec::new()))
    };
    (0..pieces)
        .map(|k| {
            let part = &keys[k * keys.len() / pieces..(k + 1) * keys.len() / pieces];
            let list = Arc::new(KeyList::General(packed.select(part.iter().copied())));
            let mut shared = SharedKeys::default();
            shared.push(&list, list.literal_bytes(dialect));
            KeyRange {
                lo: 0,
                hi: 0,
                edges: vec![ScanEdge {
                    relation: edge.relation,
                    columns: edge.columns.clone(),
                    keys: shared,
                }],
                firsts: Vec::new(),
                bytes: Some((bound(part.first()), bound(part.last()))),
            }
        })
        .collect()
}

/// The length of a whole number written in decimal, as every dialect writes it
/// (`write_common_literal` in dialect.rs).
fn int_text_len(v: i64) -> usize {
    let digits = v
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(v < 0)
}

/// The most bytes `firsts` take written in a list: 20 digits or a sign and 19, and a comma.
fn firsts_text(firsts: &[i64]) -> usize {
    21 * firsts.len()
}

/// `pieces` ranges `[lo, hi)` of the split column that together hold every value of `span`
/// (the first open below, the last open above), about equally wide.
fn ranges(pieces: usize, span: Span) -> Vec<(Option<i128>, Option<i128>)> {
    match (pieces, span) {
        (0 | 1, _) | (_, Span::Whole) => vec![(None, None)],
        (_, Span::Empty) => Vec::new(),
        (n, Span::Range(lo, hi)) => {
            let width = hi - lo + 1;
            let n = n as i128;
            let mut cuts: Vec<i128> = (1..n).map(|k| lo + width * k / n).collect();
            cuts.dedup();
            let mut bounds = vec![None];
            bounds.extend(cuts.into_iter().map(Some));
            bounds.push(None);
            bounds.windows(2).map(|w| (w[0], w[1])).collect()
        }
    }
}

/// The span a bounds query's row (lowest, highest) gives: empty when the table is, whole
/// (unsplit) should the values not be integers.
fn span(row: &[Value]) -> Span {
    let int = |v: Option<&Value>| match v {
        Some(Value::Int(i)) => Some(i128::from(*i)),
        Some(Value::UInt(u)) => Some(i128::from(*u)),
        _ => None,
    };
    match (int(row.first()), int(row.get(1))) {
        (Some(lo), Some(hi)) if lo <= hi => Span::Range(lo, hi),
        _ if row.first().is_some_and(Value::is_null) => Span::Empty,
        _ => Span::Whole,
    }
}

/// The keys of `keys` whose row is not read yet.
fn unread(keys: KeyList, map: &KeyMap) -> KeyList {
    let wanted = |key: &[Value]| map.get(key).is_none_or(|s| !slot_read(s));
    match keys {
        KeyList::Ints(v) => KeyList::Ints(
            v.into_iter()
                .filter(|&i| wanted(&[Value::Int(i)]))
                .collect(),
        ),
        KeyList::Pairs(v) => KeyList::Pairs(
            v.into_iter()
                .filter(|&(a, b)| wanted(&[Value::Int(a), Value::Int(b)]))
                .collect(),
        ),
        KeyList::General(v) => {
            let order: Vec<usize> = (0..v.len())
                .filter(|&i| map.get_packed(v.get(i)).is_none_or(|s| !slot_read(s)))
                .collect();
            KeyList::General(v.select(order.into_iter()))
        }
    }
}

/// Where a walk query's row holds what the walk needs, by position.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The row's own columns come first, this many when rows are kept (every column, then the
    /// key's columns that are not among them); else 0.
    pub row_width: usize,
    /// The key columns, in key order.
    pub key: Vec<usize>,
    /// The references the row holds the parent's key for.
    pub direct: Vec<DirectAt>,
    /// The references that need a join to follow (the row does not hold the parent's key).
    pub indirect: Vec<usize>,
    /// Whether the table has child edges (else its owned rows' keys lead nowhere, and are not
    /// kept for finding children: a scan of a table without children would keep them all).
    pub children: bool,
    /// Whether some of them are `always` edges, followed from rows that are not owned too.
    pub parts: bool,
    /// The child edges whose relation references other columns than the key: the relation,
    /// and where the row holds those columns (its children are looked up by their values).
    pub by_value: Vec<(usize, Vec<usize>)>,
    /// The table has no key: `key` is all its columns, which may hold NULL ([`TableModel::keyless`]).
    pub keyless: bool,
}

/// A reference the row holds the parent's key for.
#[derive(Debug, Clone)]
pub struct DirectAt {
    /// The relation.
    pub relation: usize,
    /// The parent table, by its position in the model.
    pub parent: usize,
    /// The columns holding the parent's key, in the parent's key order.
    pub columns: Vec<usize>,
    /// A polymorphic reference: the position of the flag saying whether it applies.
    pub flag: Option<usize>,
}

/// A reference read along with a child row's key.
#[derive(Debug, Clone)]
pub struct DirectParent {
    pub relation: usize,
    pub parent: String,
    /// The child's columns holding the parent's key, in the parent's key order.
    pub columns: Vec<String>,
    pub width: usize,
    /// A polymorphic reference: one more column says whether it applies to the row.
    pub has_when: bool,
}

/// The SQL of the walk, apart from the key lists: `keys_in(cols)` writes `cols IN (...)` for
/// the batch at hand (or a placeholder, when `plan` shows the queries).
pub struct Queries<'a> {
    pub model: &'a Model,
    pub dialect: &'static dyn Dialect,
    /// Queries read every column of a row (a dump), or only its key and references (a plan).
    pub full_rows: bool,
    /// The bytes a scan's keys may take in its text ([`SCAN_KEY_BYTES`] at most): what the
    /// keys leave of it lets their sets of bits take a byte a key (0: bits only).
    pub key_room: usize,
}

impl Queries<'_> {
    fn q(&self, ident: &str) -> String {
        self.dialect.quote_ident(ident)
    }

    /// Whether the walk follows reference `r`: not when it is nullified, nor when its parent
    /// is a lookup table read whole (every row it can reference is in the subset already).
    pub fn followed(&self, r: &Relation) -> bool {
        let parent = &self.model.tables[&r.parent];
        let whole_lookup = parent.mode == Mode::Lookup && parent.filter.is_none();
        !(r.nullified || whole_lookup)
    }

    fn key_list(&self, t: &TableModel, alias: &str) -> String {
        qualified(self.dialect, alias, &t.key).join(", ")
    }

    fn when_clause(&self, r: &Relation, alias: &str) -> String {
        let mut s = String::new();
        for (col, v) in &r.when {
            s.push_str(&format!(" AND {alias}.{} = ", self.q(col)));
            self.dialect.write_literal(v, &mut s);
        }
        s
    }

    /// When `r` references exactly `parent`'s key, the child's columns (reordered to the
    /// parent's key order) hold the parent's key and no join is needed: children match a key
    /// when these columns equal it, and the values a child holds are the key of the row it
    /// references. Of any type: where they are not that key to the byte (`'ABC'` referencing
    /// `'abc'` in a case-insensitive collation, trailing spaces), reading the parent by them
    /// finds its row, which the walk records under the row's own key.
    fn direct_columns(&self, r: &Relation, parent: &TableModel) -> Option<Vec<String>> {
        r.key_columns(&parent.key)
    }

    /// Whether `r` references other columns than its parent's key (a unique email, say): the
    /// walk then looks its children up by the values its parent rows hold there
    /// ([`Queries::children_by_values`]).
    pub fn by_value(&self, r: &Relation) -> bool {
        self.direct_columns(r, &self.model.tables[&r.parent])
            .is_none()
    }

    /// What the walk's queries read of a row of `t` (aliased `alias`): every column (or, for a
    /// plan, the key), then the key and the direct references where not among those, then a
    /// flag per polymorphic direct reference; and where each of those is.
    pub fn select(&self, t: &TableModel, alias: &str) -> (String, Layout) {
        let mut cols: Vec<String> = if self.full_rows {
            t.columns.clone()
        } else {
            Vec::new()
        };
        let at = |c: &String, cols: &mut Vec<String>| match cols
            .iter()
            .position(|x| x.eq_ignore_ascii_case(c))
        {
            Some(i) => i,
            None => {
                cols.push(c.clone());
                cols.len() - 1
            }
        };
        let key: Vec<usize> = t.key.iter().map(|k| at(k, &mut cols)).collect();
        // Spooled with the row's own columns: the key's columns that are not among them (a
        // generated column, which no INSERT writes), for writing to read the keys back.
        let row_width = if self.full_rows { cols.len() } else { 0 };
        let by_value: Vec<(usize, Vec<usize>)> = t
            .children
            .iter()
            .map(|e| (e.relation, &self.model.relations[e.relation]))
            .filter(|(_, r)| self.direct_columns(r, t).is_none())
            .map(|(rel, r)| {
                let columns = r.ref_columns.iter().map(|c| at(c, &mut cols)).collect();
                (rel, columns)
            })
            .collect();
        let direct_parents = self.direct_parents(t);
        let mut direct: Vec<DirectAt> = direct_parents
            .iter()
            .map(|d| DirectAt {
                relation: d.relation,
                parent: self.model.position(&d.parent).unwrap_or_default(),
                columns: d.columns.iter().map(|c| at(c, &mut cols)).collect(),
                flag: None,
            })
            .collect();
        let mut select = qualified(self.dialect, alias, &cols);
        for (d, at) in direct_parents.iter().zip(&mut direct) {
            if d.has_when {
                let cond = self.when_clause(&self.model.relations[d.relation], alias);
                at.flag = Some(select.len());
                select.push(format!("(1 = 1{cond})"));
            }
        }
        let indirect = t
            .parents
            .iter()
            .copied()
            .filter(|&rid| {
                self.followed(&self.model.relations[rid])
                    && !direct_parents.iter().any(|d| d.relation == rid)
            })
            .collect();
        let layout = Layout {
            row_width,
            key,
            direct,
            indirect,
            children: !t.children.is_empty(),
            parts: t.children.iter().any(|e| e.always),
            by_value,
            keyless: t.keyless,
        };
        (select.join(", "), layout)
    }

    /// The root rows.
    pub fn root(&self, root: &Root) -> String {
        let t = &self.model.tables[&root.table];
        format!(
            "SELECT {} FROM {} t WHERE {}",
            self.select(t, "t").0,
            self.q(&t.name),
            root.condition
        )
    }

    /// The rows of a lookup table.
    pub fn lookup(&self, t: &TableModel) -> String {
        let mut sql = format!(
            "SELECT {} FROM {} t",
            self.select(t, "t").0,
            self.q(&t.name)
        );
        if let Some(f) = &t.filter {
            sql.push_str(&format!(" WHERE ({f})"));
        }
        sql
    }

    /// The rows of `t` with a batch of keys.
    pub fn by_key(&self, t: &TableModel, keys_in: &mut dyn FnMut(&[String]) -> String) -> String {
        format!(
            "SELECT {} FROM {} t WHERE {}",
            self.select(t, "t").0,
            self.q(&t.name),
            keys_in(&qualified(self.dialect, "t", &t.key))
        )
    }

    /// The references of `child` whose key the child row holds itself (integer keys): a query
    /// that reads the row can follow them at once.
    pub fn direct_parents(&self, child: &TableModel) -> Vec<DirectParent> {
        child
            .parents
            .iter()
            .map(|&rid| &self.model.relations[rid])
            .filter(|r| self.followed(r))
            .filter_map(|r| {
                let parent = &self.model.tables[&r.parent];
                let cols = self.direct_columns(r, parent)?;
                Some(DirectParent {
                    relation: r.id,
                    parent: r.parent.clone(),
                    width: cols.len(),
                    columns: cols,
                    has_when: !r.when.is_empty(),
                })
            })
            .collect()
    }

    /// The rows `edge` makes children of a batch of parent keys (read as [`Queries::select`]
    /// says), with the edge's and the child table's filters.
    pub fn children(
        &self,
        edge: &ChildEdge,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let (join, cond) = self.match_clause(&self.model.relations[edge.relation], keys_in);
        self.children_where(edge, &join, &cond)
    }

    /// The children through `edge` of rows that hold, in the columns the relation references,
    /// the values `keys_in` writes (matched against the child's columns directly).
    pub fn children_by_values(
        &self,
        edge: &ChildEdge,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let r = &self.model.relations[edge.relation];
        let cond = keys_in(&qualified(self.dialect, "c", &r.columns));
        self.children_where(edge, "", &cond)
    }

    /// The children through `edge` (the child aliased `c`, `join` after it) where `cond`
    /// holds, with the relation's condition and the edge's and the child's filters.
    fn children_where(&self, edge: &ChildEdge, join: &str, cond: &str) -> String {
        let r = &self.model.relations[edge.relation];
        let child = &self.model.tables[&r.child];
        let mut sql = format!(
            "SELECT {} FROM {} c{join} WHERE {cond}{}",
            self.select(child, "c").0,
            self.q(&child.name),
            self.when_clause(r, "c")
        );
        for f in edge.filter.iter().chain(child.filter.iter()) {
            sql.push_str(&format!(" AND ({f})"));
        }
        sql
    }

    /// The rows of `child` that child edges make children of key lists, read by a scan of the
    /// table (of the split column's range `[lo, hi)` when given) that keeps the rows whose
    /// columns hold one of an edge's keys: in an IN list, or (`keyed`) in the edge's key table
    /// ([`key_table_name`] by the edge's position), joined to each row.
    pub fn scan(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        column: Option<&str>,
        (lo, hi): (Option<i128>, Option<i128>),
        keyed: bool,
    ) -> String {
        if keyed {
            return self.keyed_scan(child, edges, column, (lo, hi));
        }
        self.scan_in_range(child, edges, column, (lo, hi), &self.scan_filter(edges))
    }

    /// A scan's query over the range `[lo, hi)` of `column`, testing rows by `filter`
    /// ([`Queries::scan_filter`] of `edges`): the same filter for each range of one scan,
    /// written once. The comments of the benchmark's large tenant, scanned in 4 ranges, tested
    /// by a set of bits of 64,000 keys: building that set for each range took 3% of the
    /// dump's instructions (callgrind), on the walk's thread, while the connections waited.
    fn scan_in_range(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        column: Option<&str>,
        range: (Option<i128>, Option<i128>),
        filter: &ScanFilter,
    ) -> String {
        self.scan_where(child, edges, self.range_conds(column, range), filter)
    }

    /// A scan's query of the rows where `conds` hold and `filter` passes.
    fn scan_where(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        mut conds: Vec<String>,
        filter: &ScanFilter,
    ) -> String {
        conds.extend(filter.lead.clone());
        conds.push(filter.keys.clone());
        self.scan_select(child, "", "", conds, Self::by_edges(edges))
    }

    /// A scan's query reading just the rows whose `column` (the first of the table's key)
    /// holds one of `firsts`, the first values of `edges`' keys, testing them by their keys as
    /// [`Queries::scan_in_range`] does; the values' text is taken from the room of the keys'.
    pub fn scan_of_firsts(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        column: &str,
        firsts: &[i64],
    ) -> String {
        let narrower = Queries {
            key_room: self.key_room.saturating_sub(firsts_text(firsts)),
            ..*self
        };
        let values: Vec<[Value; 1]> = firsts.iter().map(|&v| [Value::Int(v)]).collect();
        let within = in_list(self.dialect, &[format!("c.{}", self.q(column))], &values);
        let mut filter = narrower.scan_filter(edges);
        // The filter's own leading values, if any, are among these: not written again.
        filter.lead = None;
        self.scan_where(child, edges, vec![within], &filter)
    }

    /// A scan's query reading just the rows whose key (of one column, of bytes) lies between
    /// `bounds`, the least and greatest of `edges`' keys, testing them by their keys as
    /// [`Queries::scan_in_range`] does.
    fn scan_between(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        (lo, hi): &(Value, Value),
    ) -> String {
        let mut conds = Vec::new();
        if let [col] = child.key.as_slice() {
            let mut between = format!("c.{} BETWEEN ", self.q(col));
            self.dialect.write_literal(lo, &mut between);
            between.push_str(" AND ");
            self.dialect.write_literal(hi, &mut between);
            conds.push(between);
        }
        self.scan_where(child, edges, conds, &self.scan_filter(edges))
    }

    /// A scan's query for the children through `edge` of keys that all lead with one value,
    /// over the range `[lo, hi)` of `column`: the rows under that value (and the edge's own
    /// conditions), whose keys the walk tests itself ([`TestedJob`]).
    pub fn tested_scan(
        &self,
        child: &TableModel,
        edge: &ScanEdge,
        column: Option<&str>,
        range: (Option<i128>, Option<i128>),
    ) -> String {
        let mut conds = self.range_conds(column, range);
        if let (Some(first), Some((lead, _))) = (edge.columns.first(), edge.keys.lead.as_ref()) {
            let mut cond = format!("c.{} = ", self.q(first));
            self.dialect.write_literal(lead, &mut cond);
            cond.push_str(&self.edge_conds(edge));
            conds.push(cond);
        }
        self.scan_select(child, "", "", conds, true)
    }

    /// The key columns of the rows of `parent` whose key `keys_in` lists (compared by the
    /// server, under the columns' collations).
    pub fn keys_named(
        &self,
        parent: &TableModel,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let in_list = keys_in(&qualified(self.dialect, "p", &parent.key));
        format!(
            "SELECT {} FROM {} p WHERE {in_list}",
            self.key_list(parent, "p"),
            self.q(&parent.name)
        )
    }

    /// What a scan of `edges` (keys in its text) tests each row by, whatever its range.
    fn scan_filter(&self, edges: &[ScanEdge]) -> ScanFilter {
        let (bytes, _) = self.byte_sets(edges);
        let groups: Vec<String> = edges
            .iter()
            .zip(bytes)
            .map(|(e, bytes)| {
                // The edge's `when` values come first: the server tests the conditions in
                // the order written, and a row of another type then skips the list (a scan of
                // 250,000 polymorphic comments: 193 ms of server time against 201 ms).
                let when = match e.relation {
                    Some(r) => self.when_clause(&self.model.relations[r], "c"),
                    None => String::new(),
                };
                let mut g = match when.strip_prefix(" AND ") {
                    Some(when) => format!("{when} AND ("),
                    None => String::from("("),
                };
                let dialect = self.dialect;
                let columns = qualified(dialect, "c", &e.columns);
                // Keys that all lead with one value (one tenant's) name it once: the list
                // holds the rest (a tenant's 60,000 keys of (UUID, slug) take 0.8 MB instead
                // of 3.5 MB, and the server compares the rest of each row's key with them).
                let from = match &e.keys.lead {
                    Some((lead, _)) if columns.len() > 1 => {
                        g.push_str(&columns[0]);
                        g.push_str(" = ");
                        dialect.write_literal(lead, &mut g);
                        g.push_str(" AND ");
                        1
                    }
                    _ => 0,
                };
                // A dense list as a set of bits, when that takes no more room than the list
                // (the hex digits of its bytes against the list's text).
                let set = e.keys.bit_set(dialect, bytes);
                let set =
                    set.is_some_and(|set| dialect.write_bit_set(&columns[from..], &set, &mut g));
                // Else sparse pairs as cells: one value a row, found in a list of values.
                let bits = set
                    || e.keys.cells(dialect).is_some_and(|(dims, cells)| {
                        dialect.write_cell_list(&columns[from..], &dims, &cells, &mut g)
                    });
                if !bits {
                    dialect.write_in_list_with(
                        &columns[from..],
                        e.keys.len(),
                        &mut e.keys.key_writer(from, dialect),
                        &mut g,
                    );
                }
                // `IS TRUE` keeps a list of values a list: MariaDB turns a long IN list into a
                // join with a table of its values, which costs 2.7x as much on a scan (600,000
                // keys against 2,000,000 rows: 3.5 s of server time against 1.3 s). A list of
                // rows is left bare: under `IS TRUE` (or any function) MariaDB compares each
                // row with every row of the list, not by a binary search. A warehouse's 30,000
                // orders found by 30,000 (district, customer) pairs took 14.7 s that way, and
                // 0.05 s bare, joined to the list.
                let rows = !bits && columns.len() - from > 1;
                // A set of bits is no list, and left bare too: `IS TRUE` around it costs the
                // server an operation a row (the benchmark's large tenant: 2% of its
                // instructions).
                //
                // So is one key of one column (a tenant's own rows, `tenant_id IN (1)`): the
                // server may then read the key's range of an index on the column instead of
                // the scan's range of the table, which MariaDB 10.11 does where the index names
                // a fraction of the range. The benchmark's large tenant, a fifth of each table,
                // the server's CPU by the index against the scan (replayed, 11 rounds): its
                // 30,000 events 0.0445 s against 0.050 s, 10,000 users 0.016 s against 0.025 s,
                // 2,000 projects 0.003 s against 0.006 s.
                let one = !bits && e.keys.len() == 1 && columns.len() - from == 1;
                g.push_str(if rows || set || one { ")" } else { ") IS TRUE" });
                if let Some(r) = e.relation {
                    g.push_str(&self.edge_filter(r));
                }
                g
            })
            .collect();
        ScanFilter {
            lead: self.leading_cond(edges),
            keys: match groups.as_slice() {
                [one] => one.clone(),
                _ => format!("(({}))", groups.join(") OR (")),
            },
        }
    }

    /// Which of a scan's edges test their keys by a byte each rather than by a bit (see
    /// [`BitSet`]), in order while the room the scan's keys leave in its text
    /// ([`Queries::key_room`]) takes them; and the bytes the keys then take in the text.
    fn byte_sets(&self, edges: &[ScanEdge]) -> (Vec<bool>, usize) {
        let planned: usize = edges.iter().map(|e| e.keys.scan_bytes(self.dialect)).sum();
        let room = self.key_room.saturating_sub(planned);
        let mut spare = room;
        let bytes = edges
            .iter()
            .map(|e| match e.keys.byte_set_extra(self.dialect) {
                Some(extra) if extra <= spare => {
                    spare -= extra;
                    true
                }
                _ => false,
            })
            .collect();
        (bytes, planned + room - spare)
    }

    /// Whether a scan reads rows brought by child edges, which the table's filter applies to
    /// (not rows the subset references, read by the table's own key as lookups read them).
    fn by_edges(edges: &[ScanEdge]) -> bool {
        edges.iter().any(|e| e.relation.is_some())
    }

    /// [`Queries::scan`] with the keys in key tables: each edge's table is left-joined on the
    /// edge's columns (and its conditions), so a row comes once, kept when a table holds its
    /// key. STRAIGHT_JOIN keeps the scan a scan: with one edge the join is an inner one, and the
    /// optimizer could read the table by its index once per key instead, as the walk chose not to.
    fn keyed_scan(
        &self,
        child: &TableModel,
        edges: &[ScanEdge],
        column: Option<&str>,
        range: (Option<i128>, Option<i128>),
    ) -> String {
        let mut joins = String::new();
        let mut found = Vec::new();
        for (i, e) in edges.iter().enumerate() {
            let k = format!("k{i}");
            let on: Vec<String> = e
                .columns
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    format!(
                        "{k}.{} = c.{}",
                        self.q(&crate::engine::key_column(j)),
                        self.q(c)
                    )
                })
                .collect();
            joins.push_str(&format!(
                " LEFT JOIN {} {k} ON {}{}",
                self.q(&key_table_name(i)),
                on.join(" AND "),
                self.edge_conds(e)
            ));
            found.push(format!(
                "{k}.{} IS NOT NULL",
                self.q(&crate::engine::key_column(0))
            ));
        }
        let mut conds = self.range_conds(column, range);
        conds.extend(self.leading_cond(edges));
        conds.push(format!("({})", found.join(" OR ")));
        self.scan_select(
            child,
            "STRAIGHT_JOIN ",
            &joins,
            conds,
            Self::by_edges(edges),
        )
    }

    /// A scan's query: `child`'s columns (alias `c`, then `joins`) where `conds` and the
    /// table's own filter hold.
    fn scan_select(
        &self,
        child: &TableModel,
        modifier: &str,
        joins: &str,
        mut conds: Vec<String>,
        filtered: bool,
    ) -> String {
        if let Some(f) = child.filter.as_ref().filter(|_| filtered) {
            conds.push(format!("({f})"));
        }
        format!(
            "SELECT {modifier}{} FROM {} c{joins} WHERE {}",
            self.select(child, "c").0,
            self.q(&child.name),
            conds.join(" AND ")
        )
    }

    /// For a scan by keys of several columns whose first column holds few values (a tenant
    /// id leading every key, say): the condition that the row's first column holds one of
    /// them, for each edge (one of them holding). It adds nothing the key lists do not say,
    /// but the server can read just those values' range of an index that starts with the
    /// column, rather than the whole table: a tenant's 120,000 of 600,000 comments keyed by
    /// (tenant_id, id), found by 40,000 (tenant_id, task_id) pairs, cost the server 0.25 s
    /// instead of 0.43 s.
    fn leading_cond(&self, edges: &[ScanEdge]) -> Option<String> {
        let mut any = Vec::new();
        for e in edges {
            let values = e.keys.leading_values(LEADING_VALUES)?;
            let col = format!("c.{}", self.q(e.columns.first()?));
            let mut cond = String::new();
            let refs: Vec<&[Value]> = values.iter().map(std::slice::from_ref).collect();
            self.dialect
                .write_in_list(std::slice::from_ref(&col), &refs, &mut cond);
            any.push(cond);
        }
        match any.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            _ => Some(format!("({})", any.join(" OR "))),
        }
    }

    /// The conditions on `column` that keep a scan to the range `[lo, hi)`.
    fn range_conds(
        &self,
        column: Option<&str>,
        (lo, hi): (Option<i128>, Option<i128>),
    ) -> Vec<String> {
        let mut conds = Vec::new();
        if let Some(col) = column {
            let col = format!("c.{}", self.q(col));
            if let Some(lo) = lo {
                conds.push(format!("{col} >= {lo}"));
            }
            if let Some(hi) = hi {
                conds.push(format!("{col} < {hi}"));
            }
        }
        conds
    }

    /// A scanned edge's own conditions on the child: its `when` values and its filter, each
    /// after ` AND `.
    fn edge_conds(&self, e: &ScanEdge) -> String {
        match e.relation {
            Some(rel) => self.when_clause(&self.model.relations[rel], "c") + &self.edge_filter(rel),
            None => String::new(),
        }
    }

    /// The filter of the child edge of relation `relation` (after ` AND `), or nothing.
    fn edge_filter(&self, relation: usize) -> String {
        let r = &self.model.relations[relation];
        let edge = self.model.tables[&r.parent]
            .children
            .iter()
            .find(|c| c.relation == relation);
        match edge.and_then(|e| e.filter.as_ref()) {
            Some(f) => format!(" AND ({f})"),
            None => String::new(),
        }
    }

    /// How `c` (the child) is matched to a batch of `r.parent` keys through `r`: a join
    /// (none where the child holds the parent's key itself) and the condition on the batch.
    ///
    /// A reference to other columns of the parent (a unique email) joins the parent's rows of
    /// the batch, as a derived table whose columns no filter of the child's can name by
    /// mistake. As `c.col IN (SELECT p.email …)` MariaDB read the whole child table for the
    /// children of 20,000 members (0.19 s of CPU); joined, it looked them up (0.13 s).
    fn match_clause(
        &self,
        r: &Relation,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> (String, String) {
        let parent = &self.model.tables[&r.parent];
        match self.direct_columns(r, parent) {
            Some(cols) => (String::new(), keys_in(&qualified(self.dialect, "c", &cols))),
            None => {
                let inner = keys_in(&qualified(self.dialect, "p", &parent.key));
                let named: Vec<String> = (0..r.ref_columns.len())
                    .map(|i| self.q(&format!("_partialdump_r{i}")))
                    .collect();
                let select: Vec<String> = qualified(self.dialect, "p", &r.ref_columns)
                    .iter()
                    .zip(&named)
                    .map(|(col, name)| format!("{col} AS {name}"))
                    .collect();
                let on: Vec<String> = named
                    .iter()
                    .zip(qualified(self.dialect, "c", &r.columns))
                    .map(|(name, col)| format!("p.{name} = {col}"))
                    .collect();
                (
                    format!(
                        " JOIN (SELECT {} FROM {} p WHERE {inner}) p ON {}",
                        select.join(", "),
                        self.q(&parent.name),
                        on.join(" AND ")
                    ),
                    "1 = 1".to_string(),
                )
            }
        }
    }

    /// The keys of the rows that reference a batch of `r.parent` keys through `r` (no filters).
    pub fn referencing(
        &self,
        r: &Relation,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let child = &self.model.tables[&r.child];
        let (join, cond) = self.match_clause(r, keys_in);
        format!(
            "SELECT {} FROM {} c{join} WHERE {cond}{}",
            self.key_list(child, "c"),
            self.q(&child.name),
            self.when_clause(r, "c")
        )
    }

    /// The keys of the rows that a batch of rows references through `r`.
    pub fn parents(&self, r: &Relation, keys_in: &mut dyn FnMut(&[String]) -> String) -> String {
        let parent = &self.model.tables[&r.parent];
        let child = &self.model.tables[&r.child];
        let in_list = keys_in(&qualified(self.dialect, "c", &child.key));
        let not_null: String = qualified(self.dialect, "c", &r.columns)
            .iter()
            .map(|c| format!(" AND {c} IS NOT NULL"))
            .collect();
        match self.direct_columns(r, parent) {
            Some(cols) => format!(
                "SELECT DISTINCT {} FROM {} c WHERE {in_list}{not_null}{}",
                qualified(self.dialect, "c", &cols).join(", "),
                self.q(&child.name),
                self.when_clause(r, "c")
            ),
            None => {
                let on: Vec<String> = r
                    .columns
                    .iter()
                    .zip(&r.ref_columns)
                    .map(|(c, p)| format!("p.{} = c.{}", self.q(p), self.q(c)))
                    .collect();
                format!(
                    "SELECT DISTINCT {} FROM {} c JOIN {} p ON {} WHERE {in_list}{}",
                    self.key_list(parent, "p"),
                    self.q(&child.name),
                    self.q(&parent.name),
                    on.join(" AND "),
                    self.when_clause(r, "c")
                )
            }
        }
    }
}

/// Runs `f` on successive chunks of the keys at positions `from..to` of `keys` (at most `max`
/// each); `f` returns how many keys of its chunk it used (its IN list may hold fewer, to stay
/// under the packet limit).
pub fn for_each_batch(
    keys: &KeyList,
    (from, to): (usize, usize),
    max: usize,
    mut f: impl FnMut(&[Key]) -> Result<usize>,
) -> Result<()> {
    let mut next = from;
    let to = to.min(keys.len());
    while next < to {
        let chunk = keys.chunk(next, max.min(to - next));
        next += f(&chunk)?.max(1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows spooled as the walk spools them; here a row is its key.
    struct Spooled(Spool);

    impl Spooled {
        fn new() -> Spooled {
            Spooled(Spool::new().expect("a spool in the temporary directory"))
        }

        /// The slot of a row with `key`, spooled now.
        fn read(&mut self, key: &[Value]) -> Slot {
            let at = self.0.append(key).expect("a row spooled");
            read_slot(at, self.0.len() - at)
        }

        /// The rows of `map` read, in key order, with their slots; the keys it does not hold
        /// read back from the rows (each `width` values).
        fn listed(self, map: KeyMap, width: usize) -> (KeyList, Vec<Slot>) {
            let mut rows = self.0.into_reader().expect("the spool read back");
            let key: Vec<usize> = (0..width).collect();
            let slots =
                crate::dump::keys_in_order(map, &mut rows, &key, true).expect("keys read back");
            // Their keys, read back from the rows at those slots.
            let (mut keys, mut values) = (KeyList::default(), Vec::new());
            let positions: Vec<u32> = (0..slots.len() as u32).collect();
            crate::dump::spooled(&mut rows, &slots, &positions, |batch, raw| {
                for j in 0..batch.len() {
                    raw.decode_columns(j, &key, &mut values)?;
                    keys.push(&values);
                }
                Ok(())
            })
            .expect("rows read back");
            (keys, slots)
        }

        fn slots(self, map: KeyMap, width: usize) -> Vec<(Key, Slot)> {
            let (keys, slots) = self.listed(map, width);
            (0..keys.len()).map(|i| keys.key(i)).zip(slots).collect()
        }
    }

    /// The bits of known integer keys answer for the keys they were told of, and only those;
    /// they keep no bit for a key whose bit would take more room than the keys held allow, nor
    /// for a negative one or one of another shape, which the map is then asked about.
    #[test]
    fn known_ints_hold_what_they_were_told_within_their_room() {
        let int = |i: i64| vec![Value::Int(i)];
        let mut known = KnownInts::default();
        for i in [0, 1, 63, 64, 5_000, 65_535] {
            assert!(!known.contains(&int(i)));
            known.insert(&int(i), 1);
            assert!(known.contains(&int(i)));
        }
        for i in [2, 62, 65, 4_999, 65_534, 1 << 40, -1] {
            assert!(!known.contains(&int(i)), "{i}");
        }
        // One key held allows its word and SLACK_WORDS more: 64 * 8,193 ids.
        let far = 64 * (KnownInts::SLACK_WORDS as i64 + 1);
        known.insert(&int(far), 1);
        assert!(!known.contains(&int(far)));
        assert!(known.words.len() <= KnownInts::SLACK_WORDS + 1);
        // Many keys held allow far ones.
        known.insert(&int(far), 100_000);
        assert!(known.contains(&int(far)));
        known.insert(&int(-5), 100_000);
        assert!(!known.contains(&int(-5)));
        let pair = vec![Value::Int(1), Value::Int(2)];
        known.insert(&pair, 100_000);
        assert!(!known.contains(&pair));
        assert!(!known.contains(&[Value::Text("1".into())]));
    }

    #[test]
    fn a_slot_keeps_its_offset_and_bounds_its_record_within_twice() {
        for offset in [0, 1, 4096, (1 << 40) + 3, OFFSET] {
            let widths = [
                1,
                5,
                63,
                64,
                65,
                1_500_000,
                4_000_004,
                u64::from(u32::MAX) + 4,
            ];
            for bytes in widths {
                let slot = read_slot(offset, bytes) | OWNED;
                assert_eq!(slot_offset(slot), offset);
                assert!(slot_read(slot) && slot_owned(slot));
                let bound = slot_bytes(slot);
                assert!(
                    bytes < bound && bound <= 2 * bytes,
                    "{bytes} bytes: {bound}"
                );
            }
        }
    }

    /// Rows come out ordered by their key columns (here the second and first), whatever
    /// the other columns hold; rows already in order stay as they are.
    #[test]
    fn message_rows_are_put_in_key_order() {
        let row = |a: i64, b: i64, text: &str| {
            vec![Value::Int(a), Value::Int(b), Value::Text(text.into())]
        };
        let texts = |rows: &[Vec<Value>], order: &[usize]| -> Vec<String> {
            order.iter().map(|&i| format!("{:?}", rows[i][2])).collect()
        };
        let rows = vec![
            row(2, 1, "a"),
            row(1, 2, "b"),
            row(1, 1, "z"),
            row(3, 1, "c"),
        ];
        let handed = |rows: &[Vec<Value>]| {
            let mut all = Rows::default();
            for r in rows {
                all.push(&mut r.clone());
            }
            all
        };
        let order = key_order(&handed(&rows), &[1, 0]).expect("out of order");
        assert_eq!(
            texts(&rows, &order),
            ["Text(\"z\")", "Text(\"a\")", "Text(\"c\")", "Text(\"b\")"]
        );
        let sorted: Vec<Vec<Value>> = order.iter().map(|&i| rows[i].clone()).collect();
        let sorted = handed(&sorted);
        assert!(key_order(&sorted, &[1, 0]).is_none(), "rows in order stay");
        assert_eq!(
            sorted.row(3),
            &row(1, 2, "b")[..],
            "each row where it was put"
        );
    }

    #[test]
    fn scan_ranges_hold_every_value_once() {
        let holds = |(lo, hi): (Option<i128>, Option<i128>), v: i128| {
            lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v < hi)
        };
        let u = i128::from(u64::MAX);
        for (pieces, lo, hi) in [
            (4, 1, 100),
            (3, -50_000, 160_000),
            (4, 7, 7),
            (4, 1, 2),
            (2, u - 10, u),
            (4, i128::from(i64::MIN), u),
        ] {
            let rs = ranges(pieces, Span::Range(lo, hi));
            assert!(
                !rs.is_empty() && rs.len() <= pieces,
                "{pieces} {lo} {hi}: {rs:?}"
            );
            assert!(rs.first().unwrap().0.is_none() && rs.last().unwrap().1.is_none());
            let probe = [lo - 1, lo, lo + 1, (lo + hi) / 2, hi - 1, hi, hi + 1];
            for v in probe.into_iter().chain(rs.iter().filter_map(|r| r.0)) {
                assert_eq!(
                    rs.iter().filter(|&&r| holds(r, v)).count(),
                    1,
                    "{v} in {rs:?}"
                );
            }
        }
        assert_eq!(ranges(4, Span::Empty), vec![]);
        assert_eq!(ranges(4, Span::Whole), vec![(None, None)]);
        assert_eq!(ranges(1, Span::Range(1, 1_000_000)), vec![(None, None)]);
        assert!(matches!(span(&[Value::Null, Value::Null]), Span::Empty));
        assert!(matches!(
            span(&[Value::Int(-3), Value::UInt(u64::MAX)]),
            Span::Range(-3, hi) if hi == i128::from(u64::MAX)
        ));
    }

    /// Keys of strings that all lead with one value (one tenant's) are listed and found as
    /// any keys are: each key read found, a key of another tenant nowhere, and listed in key
    /// order.
    #[test]
    fn keys_of_one_tenant_are_listed_and_found_in_key_order() {
        let key = |t: &str, slug: &str| vec![Value::Text(t.into()), Value::Text(slug.into())];
        for tenants in [&["t"][..], &["t", "u"][..]] {
            let mut map = KeyMap::default();
            let mut rows = Spooled::new();
            let mut want = Vec::new();
            for slug in ["b", "a", "c", "B", "aa"] {
                for t in tenants {
                    *map.entry(&key(t, slug)).0 = rows.read(&key(t, slug));
                    want.push(key(t, slug));
                }
            }
            // Met but not read: not listed, nor found as a row read.
            map.entry(&key("t", "z"));
            for k in &want {
                assert!(map.read(k).is_some(), "{k:?}");
            }
            assert_eq!(map.read(&key("v", "a")), None);
            assert_eq!(map.read(&key("t", "z")), None);
            want.sort();
            let (list, _) = rows.listed(map, 2);
            let listed: Vec<Key> = (0..list.len()).map(|i| list.key(i)).collect();
            assert_eq!(listed, want, "{tenants:?}");
        }
    }

    /// Batches of 20,000 keys and 1 MiB, scans allowed.
    const SCANS: Batch = Batch {
        max_keys: 20_000,
        max_bytes: 1 << 20,
        scans: true,
    };

    /// Sets the tables' estimated rows, as the source would.
    fn estimated(model: &mut Model, rows: &[(&str, u64)]) {
        for &(t, n) in rows {
            model.tables.get_mut(t).expect("the table").rows_estimate = Some(n);
        }
    }

    /// The model of an SQLite database made by `schema` (statements), with the graph `yaml`.
    fn model_of(schema: &str, yaml: &str) -> Model {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .expect("a new SQLite file")
            .execute_batch(schema)
            .expect("the schema");
        let path = path.to_str().expect("a UTF-8 path");
        let schema = crate::engine::sqlite::SqliteSource::open(path, path.into())
            .expect("the file opens")
            .introspect()
            .expect("its schema");
        let graph = crate::config::parse(yaml, "graph.yaml").expect("the graph");
        Model::resolve(&graph, &schema).expect("the model")
    }

    /// The scan edge from `parent` into `child` (whose columns hold the parent's key) with
    /// `list`'s keys.
    fn scan_edge(queries: &Queries, parent: &str, child: &str, list: KeyList) -> ScanEdge {
        let model = queries.model;
        let relation = model
            .relations
            .iter()
            .position(|r| r.child == child && r.parent == parent)
            .expect("the relation");
        let columns = queries
            .direct_columns(&model.relations[relation], &model.tables[parent])
            .expect("the child holds the key");
        let list = Arc::new(list);
        let mut keys = SharedKeys::default();
        keys.push(&list, list.literal_bytes(queries.dialect));
        ScanEdge {
            relation: Some(relation),
            columns,
            keys,
        }
    }

    /// The condition of a scan of `child` for the children of `list`'s keys of `parent`, and
    /// the bytes the keys take in it by [`SharedKeys::scan_bytes`].
    /// The walk's queries of `model` in MySQL's dialect, whole rows not asked for.
    fn mysql_queries(model: &Model) -> Queries<'_> {
        Queries {
            model,
            dialect: &crate::dialect::MYSQL,
            full_rows: false,
            key_room: SCAN_KEY_BYTES,
        }
    }

    fn scan_cond(queries: &Queries, parent: &str, child: &str, list: KeyList) -> (String, usize) {
        let edge = scan_edge(queries, parent, child, list);
        let scan_bytes = edge.keys.scan_bytes(queries.dialect);
        let table = &queries.model.tables[child];
        let sql = queries.scan(table, &[edge], None, (None, None), false);
        let cond = sql.split_once(" WHERE ").expect("a WHERE").1.to_string();
        (cond, scan_bytes)
    }

    /// A scan for the children of keys that all lead with one value (one tenant's) names
    /// that value once and lists the rest; keys of several tenants are listed whole.
    #[test]
    fn scans_name_the_value_every_key_leads_with_once() {
        let model = model_of(
            "CREATE TABLE projects (tenant_id INT, id INT, PRIMARY KEY (tenant_id, id));
                 CREATE TABLE tasks (tenant_id INT, id INT, project_id INT,
                   PRIMARY KEY (tenant_id, id),
                   FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));",
            "tables:\n  projects:\n    children: [tasks]\n",
        );
        let queries = mysql_queries(&model);
        let relation = model
            .relations
            .iter()
            .position(|r| r.child == "tasks" && r.parent == "projects")
            .expect("the relation projects -> tasks");
        let columns = queries
            .direct_columns(&model.relations[relation], &model.tables["projects"])
            .expect("tasks hold the key of projects");
        let scan = |lists: &[&[(i64, i64)]]| {
            let mut keys = SharedKeys::default();
            for list in lists {
                let list = Arc::new(KeyList::Pairs(list.to_vec()));
                keys.push(&list, list.literal_bytes(&crate::dialect::MYSQL));
            }
            let bytes = (keys.bytes, keys.text_bytes());
            let edge = ScanEdge {
                relation: Some(relation),
                columns: columns.clone(),
                keys,
            };
            let sql = queries.scan(&model.tables["tasks"], &[edge], None, (None, None), false);
            (
                sql.split_once(" WHERE ").expect("a WHERE").1.to_string(),
                bytes,
            )
        };
        let (one, (whole, text)) = scan(&[&[(7, 10), (7, 11)], &[(7, 12)]]);
        assert!(
            one.ends_with("(c.`tenant_id` = 7 AND c.`project_id` IN (10,11,12)) IS TRUE"),
            "{one}"
        );
        assert!(text < whole, "{text} {whole}");
        let (two, (whole, text)) = scan(&[&[(7, 10), (7, 11)], &[(8, 12)]]);
        assert!(
            // A list of rows stays bare (see `Queries::scan`).
            two.ends_with("((c.`tenant_id`,c.`project_id`) IN ((7,10),(7,11),(8,12)))"),
            "{two}"
        );
        assert_eq!(text, whole);
    }

    /// A scan tests dense keys (of one integer, or pairs of one tenant) as a set of bits, and
    /// lists keys too few or too sparse for bits to take less room than their list.
    #[test]
    fn scans_test_dense_keys_as_bits_and_list_sparse_ones() {
        let model = model_of(
            "CREATE TABLE orders (id INT PRIMARY KEY);
                 CREATE TABLE notes (id INT PRIMARY KEY, order_id INT REFERENCES orders (id));
                 CREATE TABLE projects (tenant_id INT, id INT, PRIMARY KEY (tenant_id, id));
                 CREATE TABLE tasks (tenant_id INT, id INT, project_id INT,
                   PRIMARY KEY (tenant_id, id),
                   FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));",
            "tables:\n  orders:\n    children: [notes]\n  projects:\n    children: [tasks]\n",
        );
        let queries = mysql_queries(&model);
        let scan =
            |parent: &str, child: &str, list: KeyList| scan_cond(&queries, parent, child, list);
        // Every third of 300 orders from 1000: bits 1000 to 1897.
        let dense: Vec<i64> = (0..300).rev().map(|i| 1000 + 3 * i).collect();
        let (bits, bytes) = scan("orders", "notes", KeyList::Ints(dense.clone()));
        // With the room a scan's text has, a byte a key: byte 1 of the set is order 1000.
        assert!(
            bits.starts_with(
                "(c.`order_id` BETWEEN 1000 AND 1897 AND ASCII(SUBSTRING(_binary'1001001001"
            ) && bits.ends_with("', c.`order_id` - (999))) = 49)"),
            "{bits}"
        );
        assert!(!bits.contains(" IN ("), "{bits}");
        // Counted as bits (226 hex digits), written as 898 bytes (898 digits).
        assert!(bits.len() < 1000 && bytes < 300, "{} {bytes}", bits.len());
        // Without that room, a bit a key.
        let tight = Queries {
            key_room: 0,
            ..mysql_queries(&model)
        };
        let (bits, _) = scan_cond(&tight, "orders", "notes", KeyList::Ints(dense.clone()));
        assert!(
            bits.starts_with("(c.`order_id` BETWEEN 1000 AND 1897 AND ASCII(SUBSTRING(X'")
                && bits.ends_with(
                    "', ((c.`order_id` - (1000)) >> 3) + 1, 1)) & (1 << ((c.`order_id` - (1000)) & 7)))"
                )
                && bits.len() < 400,
            "{bits}"
        );
        // The same orders a thousand apart, and 31 of them: listed.
        let sparse: Vec<i64> = dense.iter().map(|k| k * 1000).collect();
        let (listed, _) = scan("orders", "notes", KeyList::Ints(sparse));
        assert!(listed.starts_with("(c.`order_id` IN (1897000,"), "{listed}");
        let (few, _) = scan("orders", "notes", KeyList::Ints(dense[..31].to_vec()));
        assert!(
            few.starts_with("(c.`order_id` IN (1897,") && few.ends_with(") IS TRUE"),
            "{few}"
        );
        // One key (a tenant's own rows) bare, for the server to read by an index if it will.
        let (one, _) = scan("orders", "notes", KeyList::Ints(vec![1000]));
        assert_eq!(one, "(c.`order_id` IN (1000))");
        // Pairs of one tenant: the tenant named, the rest as bits; of two tenants, bits of
        // both columns (2 rows of 898 cells); of tenants far apart, listed.
        let pairs: Vec<(i64, i64)> = dense.iter().map(|&k| (7, k)).collect();
        let (tenant, _) = scan("projects", "tasks", KeyList::Pairs(pairs.clone()));
        assert!(
            tenant.contains(" AND (c.`tenant_id` = 7 AND c.`project_id` BETWEEN 1000 AND"),
            "{tenant}"
        );
        let mut two = pairs.clone();
        two[0].0 = 8;
        let (tenants, _) = scan("projects", "tasks", KeyList::Pairs(two));
        assert!(
            tenants.contains(
                " AND (c.`tenant_id` BETWEEN 7 AND 8 AND c.`project_id` BETWEEN 1000 AND"
            ) && tenants
                .ends_with("', ((c.`tenant_id` - (7)) * 898) + (c.`project_id` - (999)))) = 49)"),
            "{tenants}"
        );
        // Of tenants far apart: each pair's cell, in a list of values.
        let mut far = pairs;
        far[0].0 = 7_000_000;
        let (cells, bytes) = scan("projects", "tasks", KeyList::Pairs(far.clone()));
        assert!(
            cells.contains(
                " AND (c.`tenant_id` BETWEEN 7 AND 7000000 AND c.`project_id` BETWEEN 1000 \
                 AND 1897 AND (((c.`tenant_id` - (7)) * 898) + (c.`project_id` - (1000))) IN \
                 (0,3,6,"
            ) && cells.ends_with(",894,6285994611)) IS TRUE"),
            "{cells}"
        );
        let listed = cells.rsplit_once(" IN (").map_or("", |(_, l)| l);
        assert_eq!(listed.matches(',').count(), 299, "{cells}");
        assert!((300..4000).contains(&bytes), "{bytes}");
        // Cells beyond the server's 64-bit arithmetic: listed as pairs.
        far[0].0 = 1 << 60;
        let (listed, _) = scan("projects", "tasks", KeyList::Pairs(far));
        assert!(
            listed.contains(" AND ((c.`tenant_id`,c.`project_id`) IN ((1152921504606846976,"),
            "{listed}"
        );
        // SQLite lists them.
        let sqlite = Queries {
            model: &model,
            dialect: &crate::dialect::SQLITE,
            full_rows: false,
            key_room: SCAN_KEY_BYTES,
        };
        let edge = scan_edge(&sqlite, "orders", "notes", KeyList::Ints(dense));
        let sql = sqlite.scan(&model.tables["notes"], &[edge], None, (None, None), false);
        assert!(sql.contains("\"order_id\" IN (1897,"), "{sql}");
    }

    /// Keys of three integers that all lead with one value (a warehouse's orders, `(w_id,
    /// d_id, o_id)`) name it once and test the other two as pairs are tested: as bits when
    /// dense, as cells in a list when sparse; keys of two warehouses are listed as rows.
    #[test]
    fn scans_test_three_integers_of_one_lead_by_the_other_two() {
        let model = model_of(
            "CREATE TABLE orders (w_id INT, d_id INT, o_id INT, PRIMARY KEY (w_id, d_id, o_id));
                 CREATE TABLE lines (w_id INT, d_id INT, o_id INT, n INT,
                   PRIMARY KEY (w_id, d_id, o_id, n),
                   FOREIGN KEY (w_id, d_id, o_id) REFERENCES orders (w_id, d_id, o_id));",
            "tables:\n  orders:\n    children: [lines]\n",
        );
        let queries = mysql_queries(&model);
        let scan = |keys: &[[i64; 3]]| {
            let mut list = KeyList::default();
            for k in keys {
                list.push(&k.map(Value::Int));
            }
            scan_cond(&queries, "orders", "lines", list)
        };
        // Warehouse 3's orders 1 to 100 of districts 1 to 10 (and one of district -2).
        let mut dense: Vec<[i64; 3]> = (1..=10)
            .flat_map(|d| (1..=100).map(move |o| [3, d, o]))
            .collect();
        dense.push([3, -2, 50]);
        let (bits, bytes) = scan(&dense);
        assert!(
            bits.contains(
                "(c.`w_id` = 3 AND c.`d_id` BETWEEN -2 AND 10 AND c.`o_id` BETWEEN 1 AND 100 AND \
                 ASCII(SUBSTRING(_binary'"
            ) && bits.ends_with("', ((c.`d_id` - (-2)) * 100) + (c.`o_id` - (0)))) = 49)"),
            "{bits}"
        );
        // The one IN list names the warehouse, for the server's range of it.
        assert!(
            bits.starts_with("c.`w_id` IN (3) AND ") && bits.matches(" IN (").count() == 1,
            "{bits}"
        );
        // 13 rows of 100 cells: 163 bytes, 326 hex digits.
        assert!((326..400).contains(&bytes), "{bytes}");
        // Every thousandth order: too sparse for bits, so each key's cell is listed.
        let sparse: Vec<[i64; 3]> = dense.iter().map(|&[w, d, o]| [w, d, o * 1000]).collect();
        let (cells, _) = scan(&sparse);
        assert!(
            cells.contains(
                "(c.`w_id` = 3 AND c.`d_id` BETWEEN -2 AND 10 AND c.`o_id` BETWEEN 1000 AND \
                 100000 AND (((c.`d_id` - (-2)) * 99001) + (c.`o_id` - (1000))) IN \
                 (49000,297003,298003,"
            ) && cells.ends_with(")) IS TRUE"),
            "{cells}"
        );
        let listed = cells.rsplit_once(" IN (").map_or("", |(_, l)| l);
        assert_eq!(listed.matches(',').count(), dense.len() - 1, "{cells}");
        // Two warehouses: listed as rows.
        let mut two = dense;
        two[0][0] = 4;
        let (rows, _) = scan(&two);
        assert!(
            rows.contains("((c.`w_id`,c.`d_id`,c.`o_id`) IN ((4,1,1),(3,1,2),"),
            "{rows}"
        );
    }

    /// A scan for keys of bytes that are the table's whole key is cut into ranges of as many
    /// keys each, each query bounded by its least and greatest key and carrying just its
    /// keys, each key in one range; keys of integers, one connection, a small table, are not
    /// cut so.
    #[test]
    fn scans_by_keys_of_bytes_are_cut_into_ranges_of_them() {
        let mut model = model_of(
            "CREATE TABLE users (id BLOB PRIMARY KEY);
             CREATE TABLE profiles (user_id BLOB PRIMARY KEY REFERENCES users (id), note TEXT);",
            "tables:\n  users:\n    children: [profiles]\n",
        );
        model
            .tables
            .get_mut("profiles")
            .expect("the table")
            .rows_estimate = Some(100_000);
        let queries = mysql_queries(&model);
        // 1,000 keys of 16 bytes in no order, one of them twice, one a prefix of another.
        let mut packed = PackedKeys::default();
        let key = |i: u32| {
            let mut b = blake3::hash(&i.to_le_bytes()).as_bytes()[..16].to_vec();
            if i == 7 {
                b.truncate(15);
            }
            b
        };
        let mut all: Vec<Vec<u8>> = (0..1000).map(key).collect();
        all.push(key(8)[..15].to_vec());
        for b in all.iter().chain([&key(3)]) {
            packed.push(&[Value::Bytes(b.clone())]);
        }
        let edge = scan_edge(&queries, "users", "profiles", KeyList::General(packed));
        let profiles = &model.tables["profiles"];
        let ranges = bytes_ranges(profiles, std::slice::from_ref(&edge), 4, queries.dialect);
        assert_eq!(ranges.len(), 4);
        let mut seen = Vec::new();
        let mut last_hi: Option<Vec<u8>> = None;
        for r in &ranges {
            let Some((Value::Bytes(lo), Value::Bytes(hi))) = &r.bytes else {
                panic!("ranges bounded by keys of bytes");
            };
            assert!(lo < hi);
            assert!(
                last_hi.as_ref().is_none_or(|h| h < lo),
                "the ranges follow each other"
            );
            last_hi = Some(hi.clone());
            let [e] = r.edges.as_slice() else {
                panic!("one edge in each range");
            };
            let KeyList::General(keys) = e.keys.to_list() else {
                panic!("keys of bytes");
            };
            let keys: Vec<Vec<u8>> = (0..keys.len())
                .map(|i| match keys.key(i).as_slice() {
                    [Value::Bytes(b)] => b.clone(),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert!(keys.iter().all(|k| lo <= k && k <= hi));
            assert!(keys.contains(lo) && keys.contains(hi));
            assert!((250..=251).contains(&keys.len()), "{}", keys.len());
            let sql = queries.scan_between(profiles, &r.edges, r.bytes.as_ref().expect("bounds"));
            let hex = crate::engine::value::hex;
            assert!(
                sql.contains(&format!(
                    "c.`user_id` BETWEEN X'{}' AND X'{}'",
                    hex(lo),
                    hex(hi)
                )),
                "{sql}"
            );
            seen.extend(keys);
        }
        seen.sort_unstable();
        all.sort_unstable();
        assert_eq!(seen, all, "each key in one range, once");

        // Not cut: one connection, a table of too few rows, keys of integers.
        assert!(bytes_ranges(profiles, std::slice::from_ref(&edge), 1, queries.dialect).is_empty());
        let mut small = profiles.clone();
        small.rows_estimate = Some(15_000);
        assert!(bytes_ranges(&small, std::slice::from_ref(&edge), 4, queries.dialect).is_empty());
        let ints = scan_edge(
            &queries,
            "users",
            "profiles",
            KeyList::Ints((0..1000).collect()),
        );
        assert!(bytes_ranges(profiles, &[ints], 4, queries.dialect).is_empty());
    }

    /// Children by keys of text that all lead with one value (an org's documents, `(org_id,
    /// slug)`) are read by a scan naming just that value, whose rows the walk tests, when the
    /// keys are at least TESTED_SHARE of the parent's rows under it as estimated; else (fewer
    /// of them, or no estimate) the scan lists them.
    #[test]
    fn scans_name_just_the_value_keys_of_text_share_when_they_are_most_of_its_rows() {
        let mut model = model_of(
            "CREATE TABLE orgs (id TEXT PRIMARY KEY);
             CREATE TABLE docs (org_id TEXT REFERENCES orgs (id), slug TEXT,
               PRIMARY KEY (org_id, slug));
             CREATE TABLE revisions (id INT PRIMARY KEY, org_id TEXT, slug TEXT, note TEXT,
               FOREIGN KEY (org_id, slug) REFERENCES docs (org_id, slug));
             CREATE INDEX revisions_doc ON revisions (org_id, slug);",
            "tables:\n  orgs:\n    children: [docs]\n  docs:\n    children: [revisions]\n",
        );
        estimated(
            &mut model,
            &[("orgs", 10), ("docs", 50_000), ("revisions", 100_000)],
        );
        let mut planner = Planner::new(&model, &crate::dialect::MYSQL, SCANS, true, 4, false);
        let org = Value::Text("00000000-0000-4000-8000-000000000001".into());
        let (docs, revisions) = (planner.id("docs"), planner.id("revisions"));
        let rel = model.tables["docs"].children[0].relation;
        // 10,000 of the org's documents, whose revisions cost more looked up than scanned.
        let job = |planner: &Planner| {
            let mut list = KeyList::default();
            for i in 0..10_000 {
                list.push(&[org.clone(), Value::Text(format!("doc-{i}"))]);
            }
            let keys = Arc::new(list);
            let mut held = SharedKeys::default();
            held.push(&keys, keys.literal_bytes(&crate::dialect::MYSQL));
            let edge = EdgeIn {
                parent: docs,
                edge: 0,
                relation: rel,
            };
            let Ok(mut job) = planner.scan_job(revisions, vec![(edge, held)]) else {
                panic!("looked up, not scanned");
            };
            let test = job.test.is_some();
            job.tested = test.then_some(0);
            let sql: Vec<String> = planner
                .scan_queries(job)
                .into_iter()
                .map(|q| {
                    assert_eq!(matches!(q.read, Reads::Tested { .. }), test, "{}", q.sql);
                    q.sql
                })
                .collect();
            (test, sql)
        };
        // No estimate of the org's documents: listed.
        let (test, sql) = job(&planner);
        assert!(
            !test && sql.iter().all(|q| q.contains("c.`slug` IN (")),
            "{sql:?}"
        );
        // 10,000 of an estimated 12,000: the org named, no list.
        planner.lead_rows.insert((docs, lead_key(&org)), 12_000.0);
        let (test, sql) = job(&planner);
        assert!(test, "{sql:?}");
        for q in &sql {
            assert!(
                q.contains("c.`org_id` = '00000000-0000-4000-8000-000000000001'")
                    && !q.contains(" IN ("),
                "{q}"
            );
        }
        // 10,000 of an estimated 100,000: listed.
        planner.lead_rows.insert((docs, lead_key(&org)), 100_000.0);
        let (test, sql) = job(&planner);
        assert!(
            !test && sql.iter().all(|q| q.contains("c.`slug` IN (")),
            "{sql:?}"
        );
    }

    /// A root's children in a large table are priced by the source's estimate of that root's,
    /// not by the average children per parent row: a tenant holding a fifth of the events is
    /// read by a scan cut into ranges over the connections, a small tenant's are looked up;
    /// tenants keyed by a number or by text alike. Only edges worth it are estimated: not into
    /// small tables, nor polymorphic ones.
    #[test]
    fn lookups_of_children_hold_keys_for_at_most_a_tenth_of_the_child_table() {
        for (key_type, indexed) in [("VARCHAR(36)", true), ("INT", true), ("VARCHAR(36)", false)] {
            let index = match indexed {
                true => "CREATE INDEX audit_member ON audit (member_id);",
                false => "",
            };
            let mut model = model_of(
                &format!(
                    "CREATE TABLE members (id {key_type} PRIMARY KEY);
                     CREATE TABLE audit (id INT PRIMARY KEY,
                       member_id {key_type} REFERENCES members (id));
                     {index}"
                ),
                "tables:
  members:
    children: [audit]
",
            );
            model
                .tables
                .get_mut("members")
                .expect("members")
                .rows_estimate = Some(100_000);
            model.tables.get_mut("audit").expect("audit").rows_estimate = Some(100_000);
            let batch = Batch {
                max_keys: 20_000,
                max_bytes: 8 << 20,
                scans: true,
            };
            // One connection: nothing splits the keys over connections.
            let planner = Planner::new(&model, &crate::dialect::MYSQL, batch, true, 1, false);
            let mut keys = KeyList::default();
            for n in 0..20_000i64 {
                keys.push(&[match key_type {
                    "INT" => Value::Int(n),
                    _ => Value::Text(format!("00000000-0000-4000-8000-{n:012}")),
                }]);
            }
            let members = &model.tables["members"];
            let mut round = Vec::new();
            planner.lookups(
                members,
                &members.children[0],
                planner.id("audit"),
                &keys,
                &mut round,
            );
            // Each query's context names its keys: "finding the children in audit of N rows".
            let sizes: Vec<usize> = round
                .iter()
                .filter_map(|q| {
                    q.context
                        .split(" of ")
                        .nth(1)?
                        .split(' ')
                        .next()?
                        .parse()
                        .ok()
                })
                .collect();
            // Past a fifth of the table, MariaDB reads all of it and probes the keys for each
            // row; without an index, each query reads it all anyway, so the fewer the better.
            let expected: &[usize] = match indexed {
                true => &[10_000, 10_000],
                false => &[20_000],
            };
            assert_eq!(sizes, expected, "{key_type}, indexed: {indexed}");
        }
    }

    #[test]
    fn a_roots_children_are_priced_by_the_sources_estimate_of_its_own() {
        for key_type in ["INT", "VARCHAR(36)"] {
            let mut model = model_of(
                &format!(
                    "CREATE TABLE tenants (id {key_type} PRIMARY KEY);
                     CREATE TABLE events (id INT PRIMARY KEY,
                       tenant_id {key_type} REFERENCES tenants (id));
                     CREATE INDEX events_tenant ON events (tenant_id);
                     CREATE TABLE stores (id INT PRIMARY KEY,
                       tenant_id {key_type} REFERENCES tenants (id));
                     CREATE INDEX stores_tenant ON stores (tenant_id);
                     CREATE TABLE notes (id INT PRIMARY KEY, kind TEXT, owner_id {key_type});
                     CREATE INDEX notes_owner ON notes (kind, owner_id);"
                ),
                "tables:
  tenants:
    children: [events, stores, {table: notes, via: owner_id}]
  notes:
    references:
      - {columns: owner_id, table: tenants, when: {kind: Tenant}}
",
            );
            estimated(
                &mut model,
                &[
                    ("tenants", 500),
                    ("events", 150_000),
                    ("stores", 1_000),
                    ("notes", 50_000),
                ],
            );
            let mut planner = Planner::new(&model, &crate::dialect::MYSQL, SCANS, true, 4, false);
            let tenant = |n: i64| match key_type {
                "INT" => Value::Int(n),
                _ => Value::Text(format!("00000000-0000-4000-8000-{n:012}")),
            };
            let (large, small, other) = (tenant(1), tenant(7), tenant(8));
            let probes =
                planner.child_probes(&[("tenants", &large), ("tenants", &small)], LEAD_PROBES);
            let asked: Vec<(&str, &str, &Value)> =
                probes.iter().map(|&(_, t, c, v)| (t, c, v)).collect();
            assert_eq!(
                asked,
                [
                    ("events", "tenant_id", &large),
                    ("events", "tenant_id", &small)
                ]
            );
            assert!(planner.child_probes(&[("tenants", &large)], 0).is_empty());

            let rel = probes[0].0;
            let events = planner.id("events");
            let job = |planner: &Planner, tenant: &Value| {
                let mut list = KeyList::default();
                list.push(std::slice::from_ref(tenant));
                let keys = Arc::new(list);
                let mut held = SharedKeys::default();
                held.push(&keys, keys.literal_bytes(&crate::dialect::MYSQL));
                held.surplus = planner.surplus(rel, &keys);
                let edge = EdgeIn {
                    parent: planner.id("tenants"),
                    edge: 0,
                    relation: rel,
                };
                planner
                    .scan_job(events, vec![(edge, held)])
                    .map(|job| job.pieces)
            };
            // Without estimates, a tenant is the average one: 300 events, looked up.
            assert!(job(&planner, &large).is_err(), "{key_type}");
            let estimated = planner.key_children.entry(rel).or_default();
            estimated.insert(large.clone(), 30_000.0);
            estimated.insert(small.clone(), 60.0);
            assert_eq!(
                job(&planner, &large).ok(),
                Some(4),
                "{key_type}: the large tenant's events by a scan in 4"
            );
            assert!(
                job(&planner, &small).is_err(),
                "{key_type}: the small tenant's looked up"
            );
            assert!(
                job(&planner, &other).is_err(),
                "{key_type}: a tenant not estimated is the average"
            );
        }
    }

    /// Whole numbers' literals are counted as written: a list's bytes are those its keys take.
    #[test]
    fn lists_of_whole_numbers_count_the_bytes_they_are_written_in() {
        let edges = [
            0,
            1,
            9,
            10,
            99,
            -1,
            -10,
            1_000_000,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        for v in edges {
            assert_eq!(int_text_len(v), v.to_string().len(), "{v}");
        }
        let written = |list: &KeyList| {
            let mut s = String::new();
            (0..list.len())
                .map(|i| {
                    s.clear();
                    list.write_key(i, &crate::dialect::MYSQL, &mut s);
                    s.len() + 3
                })
                .sum::<usize>()
        };
        let ints = KeyList::Ints(edges.to_vec());
        let pairs = KeyList::Pairs(edges.iter().map(|&v| (v, -(v / 3))).collect());
        for list in [ints, pairs] {
            assert_eq!(
                list.literal_bytes(&crate::dialect::MYSQL).whole,
                written(&list)
            );
        }
    }

    /// A scan for keys that lead with the table's first key column is cut into ranges of it,
    /// each query carrying just the keys inside its range, each key in one range; keys of
    /// one tenant (one first value), or on other columns, are not cut so.
    #[test]
    fn key_ranged_scans_carry_each_key_in_one_range() {
        let mut model = model_of(
            "CREATE TABLE orders (id INT PRIMARY KEY);
                 CREATE TABLE items (order_id INT REFERENCES orders (id), line INT,
                   PRIMARY KEY (order_id, line));
                 CREATE TABLE notes (id INT PRIMARY KEY, order_id INT REFERENCES orders (id));
                 CREATE TABLE projects (tenant_id INT, id INT, PRIMARY KEY (tenant_id, id));
                 CREATE TABLE tasks (tenant_id INT, id INT, project_id INT,
                   PRIMARY KEY (tenant_id, id),
                   FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));",
            "tables:\n  orders:\n    children: [items, notes]\n  projects:\n    children: [tasks]\n",
        );
        for t in ["items", "notes", "tasks"] {
            model.tables.get_mut(t).expect("the table").rows_estimate = Some(100_000);
        }
        let queries = mysql_queries(&model);
        let edge =
            |parent: &str, child: &str, list: KeyList| scan_edge(&queries, parent, child, list);
        // 1,000 orders, every third id, in no order.
        let mut ids: Vec<i64> = (0..1000).map(|i| 3 * i + 1).collect();
        ids.reverse();
        ids.swap(10, 500);
        let items = &model.tables["items"];
        let ranges = key_ranges(
            items,
            &[edge("orders", "items", KeyList::Ints(ids.clone()))],
            4,
            queries.dialect,
        );
        assert_eq!(ranges.len(), 4);
        let mut seen = Vec::new();
        let mut last_hi = None;
        for r in &ranges {
            assert!(r.lo < r.hi);
            if let Some(hi) = last_hi {
                assert_eq!(r.lo, hi, "the ranges follow each other");
            }
            last_hi = Some(r.hi);
            let [e] = r.edges.as_slice() else {
                panic!("one edge in each range");
            };
            let KeyList::Ints(keys) = e.keys.to_list() else {
                panic!("integer keys");
            };
            assert!(keys.iter().all(|&k| (r.lo..r.hi).contains(&i128::from(k))));
            assert_eq!(keys.len(), 250, "as many keys in each range");
            let sql = queries.scan(
                items,
                &r.edges,
                items.leading_int_column.as_deref(),
                (Some(r.lo), Some(r.hi)),
                false,
            );
            assert!(
                sql.contains(&format!(
                    "c.`order_id` >= {} AND c.`order_id` < {}",
                    r.lo, r.hi
                )),
                "{sql}"
            );
            let listed = sql.matches(',').count();
            assert!(listed < 300, "the query lists only its range's keys: {sql}");
            // The range's first values, ascending, once each; a scan of them names them
            // instead of the range's bounds.
            let mut firsts = keys.clone();
            firsts.sort_unstable();
            assert_eq!(r.firsts, firsts);
            let col = items
                .leading_int_column
                .as_deref()
                .expect("a first key column");
            let sql = queries.scan_of_firsts(items, &r.edges, col, &r.firsts);
            let named: Vec<String> = r.firsts.iter().map(i64::to_string).collect();
            assert!(
                sql.contains(&format!("c.`order_id` IN ({})", named.join(","))),
                "{sql}"
            );
            assert!(!sql.contains(" >= ") && !sql.contains(" < "), "{sql}");
            seen.extend(keys);
        }
        assert_eq!(ranges[0].lo, 1);
        assert_eq!(last_hi, Some(2999));
        seen.sort_unstable();
        ids.sort_unstable();
        assert_eq!(seen, ids, "each key in one range");

        // Not cut: keys on a column other than the first of the key, keys of one tenant, one
        // connection, too few keys.
        let cut = |parent: &str, child: &str, list: KeyList, connections: usize| {
            key_ranges(
                &model.tables[child],
                &[edge(parent, child, list)],
                connections,
                queries.dialect,
            )
        };
        assert!(cut("orders", "notes", KeyList::Ints(ids.clone()), 4).is_empty());
        let tenant: Vec<(i64, i64)> = (0..1000).map(|i| (7, i)).collect();
        assert!(cut("projects", "tasks", KeyList::Pairs(tenant), 4).is_empty());
        assert!(cut("orders", "items", KeyList::Ints(ids.clone()), 1).is_empty());
        assert!(cut("orders", "items", KeyList::Ints(vec![1, 2, 3]), 4).is_empty());
        // Keys of several tenants are cut by tenant.
        let tenants: Vec<(i64, i64)> = (0..1000).map(|i| (i % 40, i)).collect();
        let by_tenant = cut("projects", "tasks", KeyList::Pairs(tenants), 4);
        assert_eq!(by_tenant.len(), 4);
        assert_eq!(
            by_tenant
                .iter()
                .map(|r| r.edges[0].keys.len())
                .sum::<usize>(),
            1000
        );
    }

    /// A listing map lists what a hashed map does, given the same rows (some read twice,
    /// which keep the place they were first spooled at): keys of one integer, of two, of
    /// strings of one tenant, and keys whose form changes on the way.
    #[test]
    fn listing_maps_list_each_row_once_as_hashed_maps_do() {
        let int = |i: i64| vec![Value::Int(i)];
        let big = |u: u64| vec![Value::UInt(u)];
        let pair = |a: i64, b: i64| vec![Value::Int(a), Value::Int(b)];
        let text = |t: &str, s: &str| vec![Value::Text(t.into()), Value::Text(s.into())];
        let cases: Vec<(Vec<Key>, usize)> = vec![
            ([5, 3, 9, 3, 1, 5, 7].map(int).to_vec(), 1),
            (
                vec![pair(2, 1), pair(1, 9), pair(2, 1), pair(1, 2), pair(1, 9)],
                2,
            ),
            (
                ["b", "a", "c", "a", "B", "aa", "c"]
                    .map(|s| text("t", s))
                    .to_vec(),
                2,
            ),
            // Integers, then one beyond i64 (a BIGINT UNSIGNED key): the listing map no
            // longer holds its keys, and reads them back.
            (
                vec![
                    int(4),
                    int(2),
                    big(u64::MAX),
                    int(4),
                    big(u64::MAX),
                    int(-1),
                ],
                1,
            ),
            (
                vec![pair(1, 1), text("t", "x"), pair(1, 1), text("t", "x")],
                2,
            ),
        ];
        for (keys, width) in cases {
            let (mut hashed, mut listing) = (KeyMap::default(), KeyMap::listing());
            let mut rows = Spooled::new();
            for key in &keys {
                let read = rows.read(key);
                let (slot, _) = hashed.entry(key);
                if !slot_read(*slot) {
                    *slot = read;
                }
                let (slot, new) = listing.entry(key);
                assert!(new, "every key is new to a listing map");
                *slot = read;
            }
            // Met but not read (which the walk never does to a listing map): not listed.
            let unread = vec![Value::Int(1000); width];
            hashed.entry(&unread);
            listing.entry(&unread);
            if let KeyMap::Listed(Some(_), _) = listing {
                for key in keys.iter().chain([&unread, &int(-7)]) {
                    assert_eq!(listing.get(key), hashed.get(key), "{key:?}");
                }
            }
            let hashed = rows.slots(hashed, width);
            let mut rows = Spooled::new();
            // The same rows again, at the same places, for the listing map's reading back.
            let mut again = KeyMap::listing();
            for key in &keys {
                let slot = rows.read(key);
                *again.entry(key).0 = slot;
            }
            again.entry(&unread);
            assert!(matches!(again, KeyMap::Listed(..)));
            assert_eq!(rows.slots(again, width), hashed, "{keys:?}");
        }
    }

    /// Keys of strings are held as digests: keys packed in under 16 bytes as they are, longer
    /// ones hashed. Keys on either side of that length, and keys alike but for their last
    /// byte or their length, are each found as themselves and as no other.
    #[test]
    fn keys_held_as_digests_are_each_found_as_themselves() {
        let mut map = KeyMap::default();
        let mut keys = Vec::new();
        for len in 0..40 {
            for last in ["a", "b", "\0"] {
                let text = format!("{}{last}", "x".repeat(len));
                keys.push(vec![Value::Text(text.clone()), Value::Int(1)]);
                keys.push(vec![Value::Bytes(text.into_bytes())]);
            }
        }
        for (i, key) in keys.iter().enumerate() {
            let (slot, new) = map.entry(key);
            assert!(new, "{key:?} taken for another key");
            *slot = READ | i as u64;
        }
        assert!(matches!(map, KeyMap::General(_)));
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(map.get(key), Some(READ | i as u64), "{key:?}");
            assert!(!map.entry(key).1, "{key:?}");
        }
        assert_eq!(map.get(&[Value::Text("x".repeat(41))]), None);
        assert_eq!(map.get(&[Value::Bytes(b"a".to_vec()), Value::Int(1)]), None);
    }

    /// Keys read back from the rows order them, each key once, at the place its row was
    /// first spooled at.
    #[test]
    fn keys_read_back_order_the_rows_each_once() {
        let text = |s: &str| vec![Value::Text(s.into())];
        let (mut map, mut rows) = (KeyMap::listing(), Spooled::new());
        let mut spooled = Vec::new();
        for key in ["m", "b", "zz", "b", "a", "m"].map(text) {
            let slot = rows.read(&key);
            *map.entry(&key).0 = slot;
            spooled.push(slot);
        }
        let (list, slots) = rows.listed(map, 1);
        let listed: Vec<Key> = (0..list.len()).map(|i| list.key(i)).collect();
        assert_eq!(listed, ["a", "b", "m", "zz"].map(text));
        assert_eq!(slots, [4, 1, 0, 2].map(|i| spooled[i]));
    }

    #[test]
    fn key_maps_keep_every_key_when_their_form_changes() {
        let pair = |a, b| vec![Value::Int(a), Value::Int(b)];
        let mut map = KeyMap::default();
        let mut rows = Spooled::new();
        let mut read = Vec::new();
        for (i, key) in [pair(2, 1), pair(1, 9), pair(2, 1)].iter().enumerate() {
            let (slot, new) = map.entry(key);
            assert_eq!(new, i < 2, "{key:?}");
            if new {
                *slot = rows.read(key);
                read.push(*slot);
            }
        }
        assert!(matches!(map, KeyMap::Pairs(_)));
        // A key of another form: the map turns general and keeps what it had.
        let odd = vec![Value::Text("x".into()), Value::Int(0)];
        let slot = rows.read(&odd);
        *map.entry(&odd).0 = slot;
        assert!(matches!(map, KeyMap::General(_)));
        assert_eq!(map.owned(&pair(1, 9)), Some(false));
        assert_eq!(map.owned(&pair(5, 5)), None);
        assert_eq!(
            rows.slots(map, 2),
            vec![(pair(1, 9), read[1]), (pair(2, 1), read[0]), (odd, slot)]
        );

        let mut list = KeyList::default();
        list.push(&pair(1, 9));
        assert!(matches!(list, KeyList::Pairs(_)));
        list.push(&[Value::Int(3)]);
        assert_eq!(list.chunk(0, 5), [pair(1, 9), vec![Value::Int(3)]]);
    }
}
