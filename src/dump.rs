//! `dump`: introspect, check the graph, collect keys inside one snapshot, write rows in load order.

use crate::cleanse::Cleanser;
use crate::config::{LoadedGraph, Mode};
use crate::dialect::Dialect;
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result, hint};
use crate::graph::{Model, Plan, TableModel};
use crate::packed::PackedKeys;
use crate::sink::RowSink;
use crate::spool::{RawRows, Spool, SpoolReader};
use crate::walk::{
    Batch, DEFAULT_BATCH_KEYS, Key, KeyList, KeyMap, Listing, Root, SelfRefs, Slot, Walker,
    for_each_batch, in_clause, read_order, slot_bytes, slot_offset,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct DumpRequest {
    /// `TABLE.COL=VALUE[,COL=VALUE...]`
    pub roots: Vec<String>,
    /// `TABLE:SQL condition`
    pub root_wheres: Vec<String>,
    /// Refuse cycles that need foreign-key checks turned off.
    pub require_fk_checks: bool,
    /// Keys per lookup query; 0 for the default.
    pub batch_keys: usize,
    /// Put the tables' definitions in the dump, before the rows.
    pub with_schema: bool,
    /// Apply the graph's cleansing rules (dump only; `verify` and `plan` see raw rows).
    pub cleanse: Option<crate::cleanse::CleanseOptions>,
    /// Connections to read over at once.
    pub jobs: Jobs,
    /// Read rows by key lookups only, never by scanning a table.
    pub lookups_only: bool,
    /// Which database of the command this is (`verify` reads its target as it reads the
    /// source), for messages and for tables the graph skips.
    pub side: crate::schema::Side,
}

/// How many connections a dump reads over at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Jobs {
    /// [`AUTO_JOBS`] where the engine can share one snapshot among them under its lightest
    /// lock (MariaDB 10.4+: `BACKUP STAGE BLOCK_COMMIT`, which holds commits but neither reads
    /// nor running statements), else one; one too when the server refuses that lock (no RELOAD
    /// privilege, another backup holding it), with a note saying so.
    #[default]
    Auto,
    /// Exactly this many (0 counts as 1); failing, with advice, when the server refuses the
    /// lock that lets several connections share one snapshot.
    Exactly(usize),
}

/// Connections `--jobs auto` reads over: mydumper's default too. On two cores 2, 3 and 4
/// measured the same at scale 1; at scale 10, which reads from disk, 4 kept more reads in
/// flight (7.2-8.0 s against 8.9-9.1 s for 2).
pub const AUTO_JOBS: usize = 4;

impl std::str::FromStr for Jobs {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Jobs, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Jobs::Auto);
        }
        match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Jobs::Exactly(n)),
            _ => Err(format!(
                "`{s}` is not a number of connections: give 1 or more, or `auto`"
            )),
        }
    }
}

/// The walk's other connections, in its snapshot.
type Extra = Vec<Box<dyn Source>>;

/// Most rows read back from the spool at once, however short.
const MAX_BATCH_ROWS: usize = 1 << 16;

/// Bytes of rows read back from the spool at once by a pass over a few of their columns
/// ([`spooled`]).
const PASS_BATCH_BYTES: usize = 512 << 10;

/// Bytes of rows read back at once for the threads that write them as text: several batches
/// are out at once, each becoming about twice its size in text. Smaller batches keep their
/// buffers in the allocator's reach (4 MiB batches, each a fresh mapping, made the benchmark's
/// write phase at scale 1 slower than one thread: 100 ms against 67 ms; 1 MiB, 256 KiB and
/// 64 KiB batches took 61, 59 and 71 ms).
const FORMAT_BATCH_BYTES: usize = 256 << 10;

/// Bytes of rows out at once to the threads that write them as text, unless one batch is more:
/// rows of megabytes then go one batch at a time (a batch is at least a row). Batches of
/// narrower rows are fewer than this allows.
const FORMAT_OUT_BYTES: usize = 2 << 20;

/// Reads the rows at `positions` (into `slots`) back from the spool, a batch at a time: about
/// `bytes` of rows (at most 4/3 of it, or one row longer than that) whatever their width, each
/// batch read in file order.
struct SpoolBatches<'a> {
    slots: &'a [Slot],
    positions: &'a [u32],
    done: usize,
    bytes: usize,
}

impl<'a> SpoolBatches<'a> {
    fn new(slots: &'a [Slot], positions: &'a [u32], bytes: usize) -> SpoolBatches<'a> {
        SpoolBatches {
            slots,
            positions,
            done: 0,
            bytes,
        }
    }

    /// Whether every batch was read.
    fn is_done(&self) -> bool {
        self.done >= self.positions.len()
    }

    /// Reads the next batch into `raw`; its positions, in the order given (None after the last).
    fn next(&mut self, rows: &mut SpoolReader, raw: &mut RawRows) -> Result<Option<&'a [u32]>> {
        let mut offsets = Vec::new();
        let Some((batch, _)) = self.next_offsets(&mut offsets) else {
            return Ok(None);
        };
        rows.read_batch(&offsets, raw)?;
        Ok(Some(batch))
    }

    /// The next batch, not read: where its rows are in the spool, into `offsets` (replacing
    /// what it holds); its positions, in the order given, and about how many bytes its rows
    /// take (None after the last).
    fn next_offsets(&mut self, offsets: &mut Vec<u64>) -> Option<(&'a [u32], usize)> {
        let positions = self.positions;
        if self.is_done() {
            return None;
        }
        // By the records' lengths as their slots tell them, within a factor of two: each is
        // taken at 3/4 of its bound (a row of 4 MB among rows of 100 bytes comes alone, not
        // with the 40,000 rows the width of the others fits in a batch).
        let (mut len, mut bytes, mut taken) = (0, 0, 0);
        for &p in &positions[self.done..] {
            let bound = slot_bytes(self.slots[p as usize]);
            bytes += bound - bound / 4;
            if len > 0 && bytes > self.bytes as u64 || len == MAX_BATCH_ROWS {
                break;
            }
            taken = bytes;
            len += 1;
        }
        let batch = &positions[self.done..self.done + len];
        offsets.clear();
        offsets.extend(batch.iter().map(|&p| slot_offset(self.slots[p as usize])));
        self.done += batch.len();
        Some((batch, usize::try_from(taken).unwrap_or(usize::MAX)))
    }
}

/// Reads the rows at `positions` back from the spool, hands `f` each batch with its positions:
/// for a pass that reads a few columns of each row (their keys, their references), best in the
/// order the rows sit in the spool. The batches are small (every stretch read is anyway): the
/// passes over the documents of bench/shapes' strings at five times its size held 8 MiB each.
pub(crate) fn spooled(
    rows: &mut SpoolReader,
    slots: &[Slot],
    positions: &[u32],
    mut f: impl FnMut(&[u32], &RawRows) -> Result<()>,
) -> Result<()> {
    let mut batches = SpoolBatches::new(slots, positions, PASS_BATCH_BYTES);
    let mut raw = RawRows::default();
    while let Some(batch) = batches.next(rows, &mut raw)? {
        f(batch, &raw)?;
    }
    Ok(())
}

/// Where a row in the spool holds `t`'s key columns: among its columns, or after them, in key
/// order, those that are not (see [`crate::walk::Layout::row_width`]).
fn key_positions(t: &TableModel) -> Vec<usize> {
    let mut after = t.columns.len();
    t.key
        .iter()
        .map(
            |k| match t.columns.iter().position(|c| c.eq_ignore_ascii_case(k)) {
                Some(at) => at,
                None => {
                    after += 1;
                    after - 1
                }
            },
        )
        .collect()
}

/// A table's rows read, in key order ([`KeyMap::read_list`]) and each once: their slots. Keys
/// the map did not hold are read back from the rows in the spool (`key` says where a row holds
/// its key): a pass over the table's rows, which the page cache mostly holds, the spool being
/// just written.
pub(crate) fn keys_in_order(
    map: KeyMap,
    rows: &mut SpoolReader,
    key: &[usize],
    merge: bool,
) -> Result<Vec<Slot>> {
    let slots = match map.read_list() {
        Listing::InOrder(slots) => return Ok(slots),
        Listing::InRows(slots) => slots,
    };
    // In the order the rows sit in the spool, for reading them back (a map's keys are in the
    // order they were met, which a row's is not when it was referenced before it was read).
    let mut slots = slots;
    slots.sort_unstable_by_key(|&s| slot_offset(s));
    let mut keys = PackedKeys::default();
    keys.reserve_keys(slots.len());
    let mut values = Vec::with_capacity(key.len());
    let all: Vec<u32> = (0..slots.len() as u32).collect();
    let mut packed = Vec::new();
    spooled(rows, &slots, &all, |batch, raw| {
        for j in 0..batch.len() {
            raw.decode_columns(j, key, &mut values)?;
            if merge {
                keys.push(&values);
            } else {
                // A keyless table's "key" is the whole row: ordered by 16 bytes of its hash
                // (unkeyed, so every run writes the same order), not by the row, which would
                // hold every row of the table in memory at once.
                packed.clear();
                crate::packed::encode(&values, &mut packed);
                let digest = blake3::hash(&packed);
                keys.push(&[Value::Bytes(digest.as_bytes()[..16].to_vec())]);
            }
        }
        Ok(())
    })?;
    let order = read_order(&keys, &slots, merge);
    Ok(order.iter().map(|&i| slots[i as usize]).collect())
}

/// A reference written as NULL to break a cycle, to be set again once both rows exist.
struct Restore {
    table: String,
    key_cols: Vec<String>,
    key: Key,
    cols: Vec<String>,
    values: Vec<Value>,
}

/// Per-table results.
#[derive(Debug, Default, serde::Serialize)]
pub struct DumpStats {
    pub tables: Vec<TableStats>,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Connections the rows were read over, in one snapshot.
    pub connections: usize,
    /// Why `--jobs auto` read over one connection only (the server refused the lock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the dump holds that a target may refuse (references to rows the source lacks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The process's peak resident memory, where the system tells it (set by the command).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct TableStats {
    pub table: String,
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Times the walk read the table by a scan rather than by lookups.
    pub scans: u64,
}

/// Told how a dump advances (a progress bar, or nothing).
pub trait DumpProgress {
    /// The walk has read `rows` rows of the subset so far, the last of them from `table` (a row
    /// of a table it lists the keys of, read twice, counts twice: see [`DumpProgress::fewer`]).
    fn reading(&mut self, _table: &str, _rows: u64) {}
    /// The walk is done: `rows` rows will be written, or fewer (see [`DumpProgress::fewer`]).
    fn start(&mut self, _rows: u64) {}
    /// `rows` of those counted at the start are written no more: they were read twice
    /// (a table the walk lists its keys of without looking them up, [`KeyMap::listing`]).
    fn fewer(&mut self, _rows: u64) {}
    /// `done` rows of the dump are written; `table` is being written.
    fn advance(&mut self, _table: &str, _done: u64) {}
}

/// No progress reporting.
impl DumpProgress for () {}

/// Parses `--root` and `--root-where` values into roots checked against the model.
pub fn parse_roots(model: &Model, dialect: &dyn Dialect, req: &DumpRequest) -> Result<Vec<Root>> {
    let table_names: Vec<&str> = model.tables.keys().map(String::as_str).collect();
    let table = |name: &str, arg: &str| -> Result<&TableModel> {
        let t = model.tables.get(name).ok_or_else(|| {
            Error::Usage(match crate::schema::not_a_table(&model.others, name) {
                Some(why) => format!("root `{arg}`: {why}"),
                None => format!(
                    "root `{arg}`: the source has no table `{name}`.{}",
                    hint(name, &table_names)
                ),
            })
        })?;
        if t.mode == Mode::Skip {
            return Err(Error::Usage(format!(
                "root `{arg}`: table `{name}` is marked `mode: skip` in the graph, so it cannot be a root."
            )));
        }
        Ok(t)
    };
    let mut roots = Vec::new();
    for arg in &req.roots {
        let Some((tname, rest)) = arg.split_once('.') else {
            return Err(Error::Usage(format!(
                "root `{arg}` is not of the form TABLE.COLUMN=VALUE (for example accounts.id=42)."
            )));
        };
        let t = table(tname, arg)?;
        let mut cond = Vec::new();
        for pair in rest.split(',') {
            let Some((col, val)) = pair.split_once('=') else {
                return Err(Error::Usage(format!(
                    "root `{arg}`: `{pair}` is not COLUMN=VALUE. Composite roots are written \
                     TABLE.COL1=V1,COL2=V2; use --root-where for anything else."
                )));
            };
            let col = col.trim();
            let at = t.columns.iter().position(|c| c.eq_ignore_ascii_case(col));
            // Or a key column no INSERT writes (a generated column, SQLite's rowid).
            let column = at
                .map(|at| &t.columns[at])
                .or_else(|| t.key.iter().find(|k| k.eq_ignore_ascii_case(col)))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "root `{arg}`: table `{tname}` has no column `{col}`.{}",
                        hint(col, &t.columns)
                    ))
                })?;
            let binary = at.and_then(|at| t.binary.get(at).copied()).unwrap_or(false);
            // (A key no INSERT writes, a generated column or SQLite's rowid, is not checked:
            // SQLite compares its rowid with text as text, matching no row.)
            let number = at.and_then(|at| t.number.get(at).copied()).unwrap_or(false);
            let value = root_value(val, binary, number)
                .map_err(|why| Error::Usage(format!("root `{arg}`: column `{column}` {why}")))?;
            let mut lit = String::new();
            dialect.write_literal(&value, &mut lit);
            cond.push(format!("{} = {lit}", dialect.quote_ident(column)));
        }
        roots.push(Root {
            table: t.name.clone(),
            condition: cond.join(" AND "),
            display: arg.clone(),
        });
    }
    for arg in &req.root_wheres {
        let Some((tname, sql)) = arg.split_once(':') else {
            return Err(Error::Usage(format!(
                "--root-where `{arg}` is not of the form TABLE:CONDITION (for example \"accounts:region = 'eu'\")."
            )));
        };
        let t = table(tname.trim(), arg)?;
        roots.push(Root {
            table: t.name.clone(),
            condition: format!("({})", sql.trim()),
            display: arg.clone(),
        });
    }
    if roots.is_empty() {
        return Err(Error::Usage(
            "no root: say where the subset starts with --root TABLE.COLUMN=VALUE (for example \
             --root accounts.id=42) or --root-where 'TABLE:CONDITION'."
                .into(),
        ));
    }
    Ok(roots)
}

/// The value a root names: an integer, bytes written in hex (`0x00ff`) for a column of bytes,
/// else text; an error saying why when hex for such a column is not hex.
fn root_value(val: &str, binary: bool, number: bool) -> std::result::Result<Value, String> {
    let v = val.trim();
    if let Ok(i) = v.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    // Above i64 (a BIGINT UNSIGNED key): sent as the number it is. As text, MySQL compares a
    // string with an integer column as doubles where no index converts it, and a double
    // cannot tell 2^64 - 1 from 2^64 - 2.
    if let Ok(u) = v.parse::<u64>() {
        return Ok(Value::UInt(u));
    }
    if number {
        return match plain_number(v) {
            // Written as it is, unquoted: compared as the number it is.
            true => Ok(Value::Decimal(v.to_string())),
            false => Err(format!(
                "holds numbers, and `{val}` is none: MySQL would compare it as its leading digits \
                 (or 0), and pick another row. Give the number, or choose the row with \
                 --root-where."
            )),
        };
    }
    let hex = val
        .trim()
        .strip_prefix("0x")
        .or_else(|| val.trim().strip_prefix("0X"));
    match (binary, hex) {
        (true, Some(digits)) => const_hex::decode(digits).map(Value::Bytes).map_err(|_| {
            format!(
                "holds bytes, and `{val}` is no hex value: write them as 0x and an even number \
                 of hex digits (0x00ff), or choose the row with --root-where."
            )
        }),
        _ => Ok(Value::Text(val.to_string())),
    }
}

/// Whether `v` is a number as SQL writes one: a sign, digits with at most one point among or
/// after them, and an exponent (`-12`, `1.50`, `2e-3`); no `inf`, `nan` or hex.
fn plain_number(v: &str) -> bool {
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exponent) = match v.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (v, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !(whole.is_empty() && fraction.is_empty())
        && digits(whole)
        && digits(fraction)
        && exponent.is_none_or(|e| !e.is_empty() && digits(e))
}

/// Everything about a dump that is known before rows are read.
pub struct Prepared {
    pub with_schema: bool,
    pub cleanser: Option<std::cell::RefCell<crate::cleanse::Cleanser>>,
    pub model: Model,
    pub plan: Plan,
    pub roots: Vec<Root>,
    pub batch: Batch,
    pub jobs: Jobs,
    /// What the user must know before trusting the dump (tables read outside the snapshot).
    pub warnings: Vec<String>,
}

/// Introspects the source and checks the graph and roots; reads no rows.
pub fn prepare(
    source: &mut dyn Source,
    graph: &LoadedGraph,
    req: &DumpRequest,
) -> Result<Prepared> {
    let schema = source.introspect()?;
    prepare_with(source, schema, graph, req)
}

/// [`prepare`] with the source's schema read already (`verify` reads both sides' first, to
/// compare their columns).
pub fn prepare_with(
    source: &mut dyn Source,
    mut schema: crate::schema::Schema,
    graph: &LoadedGraph,
    req: &DumpRequest,
) -> Result<Prepared> {
    schema.side = req.side;
    let model = Model::resolve(graph, &schema)?;
    if let Some((pos, why)) = refused_filters(source, graph, &model)?.into_iter().next() {
        return Err(graph.error_at(
            pos,
            format!("{why} (`partialdump check` tries every condition at once.)"),
        ));
    }
    let roots = parse_roots(&model, source.dialect(), req)?;
    let root_tables: BTreeSet<String> = roots.iter().map(|r| r.table.clone()).collect();
    let plan = model.plan(&root_tables)?;
    if req.require_fk_checks
        && let Some((tables, rels)) = plan.fk_off_groups.first()
    {
        return Err(Error::Plan(format!(
            "the tables {} reference each other through NOT NULL columns only ({}), so their rows cannot \
                 be loaded in any order with foreign-key checks on, and --require-fk-checks forbids turning \
                 them off. Drop --require-fk-checks (the dump then turns checks off around just those rows), \
                 or make one of those columns nullable in the schema so the cycle can be broken with NULL.",
            tables.join(", "),
            rels.iter()
                .map(|r| model.relations[*r].describe())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let keys = match req.batch_keys {
        0 => DEFAULT_BATCH_KEYS,
        n => n,
    };
    let cleanser = match &req.cleanse {
        Some(options) => {
            crate::cleanse::Cleanser::resolve(graph, &schema, &model, &plan.order, options)?
                .map(std::cell::RefCell::new)
        }
        None => None,
    };
    let outside: Vec<String> = plan
        .order
        .iter()
        .filter_map(|t| {
            let engine = model.tables.get(t)?.outside_snapshot.as_ref()?;
            Some(format!("`{t}` ({engine})"))
        })
        .collect();
    let mut warnings = match outside.len() {
        0 => Vec::new(),
        n => {
            let (are, them) = if n == 1 {
                ("a table is", "it")
            } else {
                ("tables are", "them")
            };
            vec![format!(
                "{are} read outside the dump's snapshot: {}. An engine without transactions shows \
                 each query the rows as they are at that moment, so writes while the dump runs can \
                 leave references to rows that are not in the dump. Stop writes to {them} for the \
                 dump, or convert {them} to InnoDB (ALTER TABLE … ENGINE=InnoDB).",
                outside.join(", ")
            )]
        }
    };
    let reached: BTreeSet<&String> = plan.order.iter().collect();
    for (table, children) in model.unfollowed_children(&root_tables, &reached) {
        warnings.push(format!(
            "{} Write each as `{{table: {}, always: true}}` in {} to bring them with every row of \
             `{table}` in the dump.",
            Model::unfollowed_message(&table, &children, &root_tables),
            children[0],
            graph.path
        ));
    }
    for t in &plan.order {
        let Some(table) = schema.table(t) else {
            continue;
        };
        for (_, columns, to) in &table.outside_refs {
            warnings.push(format!(
                "`{t}` references {to} (through {}), a table of another database: a dump holds \
                 one database, so none of its rows are in the dump, and a target loads rows of \
                 `{t}` that reference them (foreign-key checks on) only if it has those rows already.",
                columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(Prepared {
        warnings,
        cleanser,
        with_schema: req.with_schema,
        batch: Batch {
            scans: !req.lookups_only,
            ..Batch::for_source(source, keys)
        },
        jobs: req.jobs,
        model,
        plan,
        roots,
    })
}

/// The graph's `where` conditions the source refuses, each with its place in the graph and a
/// message: each is tried as the walk's queries carry it (its table aliased as they alias it),
/// reading no row, so that a mistyped column or a syntax error is told at its line before the
/// walk starts, rather than by the query that first carries it, halfway through a dump.
pub fn refused_filters(
    source: &mut dyn Source,
    graph: &LoadedGraph,
    model: &Model,
) -> Result<Vec<(crate::config::Pos, String)>> {
    let mut tried = Vec::new();
    for (name, entry) in graph.file.tables.iter() {
        // A table the walk never reads (skipped, or absent from a target that skips it).
        let Some(t) = model.tables.get(name).filter(|t| t.mode != Mode::Skip) else {
            continue;
        };
        if let Some(f) = &entry.spec.filter {
            // A lookup table's own query aliases it `t`; children's queries alias theirs `c`.
            let alias = if t.mode == Mode::Lookup { "t" } else { "c" };
            tried.push((name.as_str(), alias, f.value.as_str(), f.pos, String::new()));
        }
        for c in &entry.spec.children {
            if let Some(f) = &c.value.filter {
                let child = c.value.table.as_str();
                let edge = format!(" (the child edge {name} -> {child})");
                tried.push((child, "c", f.as_str(), c.pos, edge));
            }
        }
    }
    let mut refused = Vec::new();
    for (table, alias, condition, pos, edge) in tried {
        let sql = format!(
            "SELECT 1 FROM {} {alias} WHERE ({condition}) LIMIT 0",
            source.dialect().quote_ident(table)
        );
        match source.query(&sql, "trying a `where` of the graph", &mut |_| Ok(())) {
            Ok(()) => {}
            Err(Error::Query { reason, .. }) => refused.push((
                pos,
                format!(
                    "the `where` condition `{condition}` on `{table}`{edge} is refused by the \
                     source: {reason}. It is SQL on `{table}`'s rows, as in a WHERE clause, with \
                     its columns unqualified: fix it."
                ),
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(refused)
}

/// The snapshot a walk reads in.
pub struct Snapshot {
    /// The server's clock when it started (UTC).
    pub at: String,
    /// The connections in it besides the source's own.
    pub connections: Vec<Box<dyn Source>>,
    /// Why `--jobs auto` reads over one connection where it could have read over more.
    pub note: Option<String>,
}

/// Starts the snapshot the walk reads in: on `source`, and on more connections too where the
/// engine can share one (see [`Jobs`]).
pub fn begin_snapshot(source: &mut dyn Source, prepared: &Prepared) -> Result<Snapshot> {
    let (extra, lightest_lock_only) = match prepared.jobs {
        Jobs::Auto => (AUTO_JOBS - 1, true),
        Jobs::Exactly(n) => (n.saturating_sub(1), false),
    };
    let mut note = None;
    if extra > 0 {
        match source.begin_shared_snapshot(extra, lightest_lock_only) {
            Ok(Some(shared)) => {
                return Ok(Snapshot {
                    at: shared.at,
                    connections: shared.connections,
                    note: None,
                });
            }
            Ok(None) => {}
            // One connection reads the same snapshot, only slower: what `auto` falls back to.
            // (Were the source itself gone, starting that one fails too, and says so.)
            Err(e) if lightest_lock_only => {
                note = Some(format!(
                    "read over one connection, not {AUTO_JOBS} (--jobs auto): {e}"
                ));
            }
            // A server or user at its limit of connections (MariaDB's 1040, 1226): say which
            // option asked for them.
            Err(Error::Connect { url, reason }) => {
                return Err(Error::Connect {
                    url,
                    reason: format!(
                        "{reason} (opening the {} connections that --jobs {} reads over: give a \
                         smaller --jobs, or --jobs auto, which reads over one connection when it \
                         cannot open more)",
                        extra + 1,
                        extra + 1
                    ),
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Snapshot {
        at: source.begin_snapshot()?,
        connections: Vec::new(),
        note,
    })
}

/// The rows the subset references that the source does not have (keys a reference named
/// whose row no query found), as warnings naming them: the dump holds the references as the
/// source does, and a target checking foreign keys refuses them. SQLite does not enforce
/// foreign keys unless told to, nor MySQL while `foreign_key_checks` is off. Tables that only
/// references the graph declares (no foreign key) name are told apart: a target enforces
/// those no more than the source, and schemas without foreign keys often say "none" with a 0
/// (WordPress's `post_parent`). Only tables whose keys compare exactly
/// ([`TableModel::exact_key`]). `maps` are the tables' keys in the order of the plan.
pub(crate) fn missing_parents<'m>(
    prepared: &Prepared,
    subset: &crate::walk::Subset,
    maps: impl Iterator<Item = Option<&'m KeyMap>>,
) -> Vec<String> {
    const SAMPLE: usize = 5;
    let model = &prepared.model;
    // Per kind (false: some reference is a foreign key; true: the graph's only): the tables'
    // parts of the message, and how many rows.
    let mut parts = [Vec::new(), Vec::new()];
    let mut total = [0, 0];
    for (name, map) in prepared.plan.order.iter().zip(maps) {
        // A key of text under a collation that holds other spellings equal: a reference in
        // another case names a row read under its own (`'DOC-5'`, `'doc-5'`).
        let Some(map) = map.filter(|_| model.tables[name].exact_key) else {
            continue;
        };
        let (n, sample) = map.unread(SAMPLE);
        if n == 0 {
            continue;
        }
        let mut rows: Vec<String> = sample
            .iter()
            .map(|k| crate::plan::key_text(model, name, k))
            .collect();
        if n > rows.len() {
            rows.push(match rows.is_empty() {
                true => format!("{n} row{}", if n == 1 { "" } else { "s" }),
                false => format!("{} more", n - rows.len()),
            });
        }
        let through: Vec<&crate::graph::Relation> = model
            .relations
            .iter()
            .filter(|r| &r.parent == name && !r.nullified && subset.count(&r.child) > 0)
            .collect();
        let kind = usize::from(through.iter().all(|r| !r.declared));
        total[kind] += n;
        parts[kind].push(format!(
            "`{name}` {} (referenced through {}{})",
            rows.join(", "),
            if through.len() > 1 { "one of " } else { "" },
            through
                .iter()
                .map(|r| format!("`{}.{}`", r.child, r.columns.join(",")))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let rows = |n: usize| format!("{n} row{}", if n == 1 { "" } else { "s" });
    let mut warnings = Vec::new();
    if total[0] > 0 {
        warnings.push(format!(
            "the source lacks {} that rows of the subset reference: {}. The dump holds \
             those references as the source does, so a target that checks foreign keys refuses \
             it. The source did not enforce them when the rows were written (SQLite with foreign \
             keys off, its default; MySQL with foreign_key_checks off): mend the source's rows, \
             or list the referencing column under the table's `nullify:` in the graph, which \
             writes it as NULL.",
            rows(total[0]),
            parts[0].join("; ")
        ));
    }
    if total[1] > 0 {
        warnings.push(format!(
            "the source lacks {} that rows of the subset reference through references the graph \
             declares, which no foreign key enforces: {}. The dump holds those references as the \
             source does, and a target without such foreign keys loads them so. Where a value \
             names no row on purpose (a 0 for none, as WordPress's `post_parent` holds), they \
             can stay; else mend the source's rows, or list the column under the table's \
             `nullify:` in the graph (a nullable one), which writes it as NULL.",
            rows(total[1]),
            parts[1].join("; ")
        ));
    }
    warnings
}

/// Runs a whole dump into `sink`. `header` lines are written first (the caller knows the
/// source URL, graph path and roots); the snapshot time is appended here.
pub fn run(
    source: &mut dyn Source,
    prepared: &Prepared,
    mut header: Vec<String>,
    sink: &mut dyn RowSink,
    progress: &mut dyn DumpProgress,
) -> Result<DumpStats> {
    let started = std::time::Instant::now();
    let Snapshot {
        at: snapshot,
        connections: mut extra,
        note,
    } = begin_snapshot(source, prepared)?;
    let connections = 1 + extra.len();
    // Every row of the subset is read here, once, into the spool; what follows writes them
    // out in load order (and reads the source only for `--with-schema` and row ordering).
    let mut subset = Walker::keeping_rows(&prepared.model, source, prepared.batch)
        .with_connections(&mut extra)
        .with_progress(&mut |table, rows| progress.reading(table, rows))
        .run(&prepared.roots)?;
    let mut rows = subset
        .spool
        .take()
        .map_or_else(Spool::new, Ok)?
        .into_reader()?;
    // Each row of a table that references itself is paired with the row it references now,
    // while the walk's connections are in its snapshot to ask the source about references
    // that are not a key to the byte. Writing then keeps no key for ordering those rows, and
    // the other connections end here: each holds the driver's buffers, a few MiB (peak RSS of
    // the benchmark's large tenant 46.7-48.9 -> 40.1-42.0 MiB).
    let mut self_edges: BTreeMap<&str, SelfEdges> = BTreeMap::new();
    for name in prepared.plan.self_refs.keys() {
        let noted = subset.take_self_refs(name);
        if let Some(tk) = subset.table(name).filter(|tk| !tk.keys.is_empty()) {
            let t = &prepared.model.tables[name];
            let edges = self_edges_of(
                (source, &mut extra),
                prepared,
                (t, &tk.keys),
                &noted,
                &mut rows,
            )?;
            self_edges.insert(name, edges);
        }
    }
    end_snapshots(&mut extra)?;
    release_free_memory();
    progress.start(
        prepared
            .plan
            .order
            .iter()
            .map(|t| subset.count(t) as u64)
            .sum(),
    );
    if let Some(c) = &prepared.cleanser {
        header.push(format!("cleansed: {}", c.borrow().summary));
    }
    header.push(format!("snapshot: {snapshot}"));
    let mut schema = Vec::new();
    if prepared.with_schema {
        for t in schema_tables(prepared) {
            schema.extend(source.schema_ddl(&t)?);
        }
    }
    sink.begin(&header, &schema)?;
    let mut stats = DumpStats {
        connections,
        note,
        ..DumpStats::default()
    };
    let mut restores: Vec<Restore> = Vec::new();
    let mut open_group: Option<usize> = None;
    // The keys of each table are put in key order on a thread of their own, ahead of the
    // tables being written: sorting 120,000 keys of strings takes tens of milliseconds that
    // nothing else would run beside. A list holds the table's slots: no more than the map it is
    // made from, whose memory goes as it is made, so the lister goes on to the next table as
    // soon as it has handed one over (waiting at every table, one ahead, writing TPC-C's order
    // lines, 100,000 keyed by four columns read back from the spool, the last table, waited
    // 20-30 ms for their list behind the stock's, which took less to write).
    let maps: Vec<Option<KeyMap>> = prepared
        .plan
        .order
        .iter()
        .map(|name| subset.take_keys(name))
        .collect();
    stats.warnings.extend(missing_parents(
        prepared,
        &subset,
        maps.iter().map(Option::as_ref),
    ));
    // Where each table's rows hold its key (keys the maps do not hold are read back there).
    let key_columns: Vec<Vec<usize>> = prepared
        .plan
        .order
        .iter()
        .map(|name| key_positions(&prepared.model.tables[name]))
        .collect();
    // A keyless table's rows alike are all written (see [`TableModel::keyless`]).
    let merge: Vec<bool> = prepared
        .plan
        .order
        .iter()
        .map(|name| !prepared.model.tables[name].keyless)
        .collect();
    let mut key_rows = rows.try_clone()?;
    // A reader of the spool for each thread writing rows as text.
    let mut readers = (0..format_threads())
        .map(|_| rows.try_clone())
        .collect::<Result<Vec<_>>>()?;
    // Tables without a key in the subset are neither listed nor waited for: most of a small
    // tenant's tables in a schema of hundreds (500 empty tables took 23 ms of handing over).
    let has_keys: Vec<bool> = maps
        .iter()
        .map(|m| m.as_ref().is_some_and(|m| !m.is_empty()))
        .collect();
    // The names of the tables in order, for the lister's self-orderings.
    let names: Vec<&str> = prepared.plan.order.iter().map(String::as_str).collect();
    std::thread::scope(|scope| -> Result<()> {
        let (listed, lists) = std::sync::mpsc::channel();
        let listing = has_keys.clone();
        scope.spawn(move || {
            for (((map, key), merge), name) in maps
                .into_iter()
                .zip(&key_columns)
                .zip(merge)
                .zip(names)
                .zip(listing)
                .filter_map(|(m, has)| has.then_some(m))
            {
                // A table that references itself is ordered here too, each row after the row
                // it references, ahead of its writing: on the writing thread, the benchmark's
                // 60,000 tasks took 3.7 ms to order while the threads writing rows waited.
                let list = map
                    .map(|m| {
                        let slots = keys_in_order(m, &mut key_rows, key, merge)?;
                        let order = self_edges.remove(name).map(|e| self_ordered(&slots, e));
                        Ok((slots, order))
                    })
                    .transpose();
                let failed = list.is_err();
                // The write stopped (an error): nothing more to list.
                if listed.send(list).is_err() || failed {
                    return;
                }
            }
        });
        for (i, name) in prepared.plan.order.iter().enumerate() {
            let group = prepared.plan.fk_off_group_of(name);
            if group != open_group {
                if open_group.is_some() {
                    sink.foreign_key_checks(true, "")?;
                }
                if let Some(g) = group {
                    sink.foreign_key_checks(false, &fk_off_reason(prepared, g))?;
                }
                open_group = group;
            }
            let (table_started, bytes_before) = (std::time::Instant::now(), sink.bytes_written());
            let done = stats.rows;
            // Sent for every table with keys in order, unless the thread failed (its error came
            // first) or panicked (which the scope raises).
            let (slots, order) = match has_keys[i].then(|| lists.recv()) {
                Some(Ok(listed)) => listed?.unwrap_or_default(),
                Some(Err(_)) | None => (Vec::new(), None),
            };
            let n = write_table(
                prepared,
                (name, slots, order),
                (&mut rows, &mut readers),
                sink,
                &mut restores,
                &mut |rows| progress.advance(name, done + rows),
            )?;
            stats.rows += n;
            if let Some(twice) = (subset.count(name) as u64).checked_sub(n)
                && twice > 0
            {
                progress.fewer(twice);
            }
            stats.tables.push(TableStats {
                table: name.clone(),
                rows: n,
                bytes: sink.bytes_written() - bytes_before,
                // Reading the rows (in the walk) and writing them.
                seconds: table_started.elapsed().as_secs_f64()
                    + subset.table(name).map_or(0.0, |t| t.seconds),
                scans: subset
                    .table(name)
                    .map_or(0, |t| (t.scans + t.reference_scans) as u64),
            });
        }
        Ok(())
    })?;
    if open_group.is_some() {
        sink.foreign_key_checks(true, "")?;
    }
    for r in &restores {
        sink.restore(&r.table, &r.key_cols, &r.key, &r.cols, &r.values)?;
    }
    source.end_snapshot()?;
    if let Some(c) = &prepared.cleanser {
        stats.warnings.extend(c.borrow().warnings());
    }
    let counts: Vec<(String, u64)> = stats
        .tables
        .iter()
        .map(|t| (t.table.clone(), t.rows))
        .collect();
    sink.finish(&counts)?;
    stats.bytes = sink.bytes_written();
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}

/// Why foreign-key checks are off around the tables of group `g` of the plan, for the dump.
fn fk_off_reason(prepared: &Prepared, g: usize) -> String {
    let (tables, rels) = &prepared.plan.fk_off_groups[g];
    format!(
        "{} reference each other through NOT NULL columns ({}): no load order satisfies \
         foreign-key checks, so they are off for just these rows",
        tables.join(", "),
        rels.iter()
            .map(|r| prepared.model.relations[*r].describe())
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// The tables `--with-schema` creates: those in the dump, then every table their foreign keys
/// reference (a skipped or nullified parent must exist too, or the target refuses the rows).
fn schema_tables(prepared: &Prepared) -> Vec<String> {
    let mut tables = prepared.plan.order.clone();
    let mut i = 0;
    while i < tables.len() {
        for r in &prepared.model.relations {
            if r.declared && r.child == tables[i] && !tables.contains(&r.parent) {
                tables.push(r.parent.clone());
            }
        }
        i += 1;
    }
    tables
}

/// Gives back to the system the memory the allocator holds free. glibc keeps what each thread
/// frees in that thread's heap, up to 32 MiB free at a heap's top (see `tune_malloc` in
/// main.rs) and any free pages between blocks still held: after the walk, its threads' heaps
/// held what its queries and batches of rows had taken. Called once, as the walk's connections
/// end: bench/shapes' strings at five times its size, whose writing then sorts its
/// documents' keys, peaked at 95-99 MiB without and 86-90 MiB with it (3 runs and more); it
/// took about 2 ms.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages back to the system, under the allocator's own
    // locks as any allocation takes them; its result only says whether any were.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ends the snapshots of the walk's other connections, and the connections.
fn end_snapshots(extra: &mut Extra) -> Result<()> {
    for conn in extra.iter_mut() {
        conn.end_snapshot()?;
    }
    extra.clear();
    Ok(())
}

/// For a self-reference to the table's own key: the columns holding the referenced row's
/// key, in key order, by position among the table's columns.
fn self_key_columns(t: &TableModel, r: &crate::graph::Relation) -> Option<Vec<usize>> {
    r.key_columns(&t.key)?
        .iter()
        .map(|c| t.columns.iter().position(|x| x.eq_ignore_ascii_case(c)))
        .collect()
}

/// The rows of a table that references itself paired with the rows they reference, as
/// (row, referenced row) slots: what writing orders the table's rows by ([`self_ordered`]).
type SelfEdges = Vec<(Slot, Slot)>;

/// A self-referencing table's rows in the order they are written, as positions among its slots
/// in key order: those each after the row it references, then those that reference each other
/// in a loop ([`self_ordered`]).
type SelfOrder = (Vec<u32>, Vec<u32>);

/// Pairs each row of `t` read (its slots in `map`) with the row of `t` it references, through
/// each of the table's references to itself: from the pairs the walk `noted` as it read the
/// rows, where it could; else from the rows in the spool, asking the source about the
/// references that are not a key to the byte (a string key held in another case, under a
/// case-insensitive collation) and about references to other columns than the key. The
/// questions are split over the walk's connections, which share its snapshot: this runs
/// while nothing else does (bench/shapes.py's strings: 12,000 documents whose parent is named
/// in another case took 90-100 ms on one connection, 64-92 ms on four).
fn self_edges_of(
    (source, extra): (&mut dyn Source, &mut [Box<dyn Source>]),
    prepared: &Prepared,
    (t, map): (&TableModel, &KeyMap),
    noted: &SelfRefs,
    rows: &mut SpoolReader,
) -> Result<SelfEdges> {
    let dialect = source.dialect();
    let q = |s: &str| dialect.quote_ident(s);
    let mut edges: SelfEdges = Vec::new();
    // The table's rows read, in the order they sit in the spool: once a pass needs them.
    let mut slots: Option<Vec<Slot>> = None;
    let key_columns = key_positions(t);
    for &rid in &prepared.plan.self_refs[&t.name] {
        let r = &prepared.model.relations[rid];
        if let Some(Some(pairs)) = noted.iter().find(|(n, _)| *n == rid).map(|(_, p)| p) {
            // Noted as the rows were read: the same pairs as below, without reading the
            // rows again (the benchmark's tasks at scale 1: 9 ms of the 32 ms they took).
            for &(c, p) in pairs {
                if let (Some(c), Some(p)) = (map.read(&[Value::Int(c)]), map.read(&[Value::Int(p)]))
                    && c != p
                {
                    edges.push((c, p));
                }
            }
            continue;
        }
        let slots = slots.get_or_insert_with(|| map.read_slots());
        let all: Vec<u32> = (0..slots.len() as u32).collect();
        // The rows whose reference the source is asked to resolve, by their keys.
        let mut asked = KeyList::default();
        let mut key = Vec::with_capacity(key_columns.len());
        match self_key_columns(t, r) {
            // The row holds the key of the row it references: found among the rows read, not
            // asked of the source again. Integer keys are found as they are; other values
            // that are no key to the byte are resolved by the source below.
            Some(cols) => {
                let mut parent = Vec::with_capacity(cols.len());
                spooled(rows, slots, &all, |positions, raw| {
                    for (j, &i) in positions.iter().enumerate() {
                        raw.decode_columns(j, &cols, &mut parent)?;
                        match map.read(&parent) {
                            Some(p) if p != slots[i as usize] => {
                                edges.push((slots[i as usize], p));
                            }
                            Some(_) => {}
                            None if !t.integer_key && !parent.iter().any(Value::is_null) => {
                                raw.decode_columns(j, &key_columns, &mut key)?;
                                asked.push(&key);
                            }
                            None => {}
                        }
                    }
                    Ok(())
                })?;
            }
            // A reference to other columns than the key: every row is asked.
            None => {
                spooled(rows, slots, &all, |positions, raw| {
                    for j in 0..positions.len() {
                        raw.decode_columns(j, &key_columns, &mut key)?;
                        asked.push(&key);
                    }
                    Ok(())
                })?;
            }
        }
        if asked.is_empty() {
            continue;
        }
        let on: Vec<String> = r
            .columns
            .iter()
            .zip(&r.ref_columns)
            .map(|(c, p)| format!("p.{} = c.{}", q(p), q(c)))
            .collect();
        let ckey: Vec<String> = t.key.iter().map(|k| format!("c.{}", q(k))).collect();
        let pkey: Vec<String> = t.key.iter().map(|k| format!("p.{}", q(k))).collect();
        let batch = prepared.batch;
        let sql = |chunk: &[Key]| {
            let (in_list, n) = in_clause(dialect, &ckey, chunk, batch);
            let sql = format!(
                "SELECT {}, {} FROM {} c JOIN {} p ON {} WHERE {in_list}",
                ckey.join(", "),
                pkey.join(", "),
                q(&t.name),
                q(&t.name),
                on.join(" AND ")
            );
            (sql, n)
        };
        let context = format!("ordering the self-referencing rows of {}", t.name);
        edges.extend(referenced_slots(
            (source, extra),
            (&asked, map),
            t.key.len(),
            &sql,
            &context,
            batch.max_keys,
        )?);
    }
    Ok(edges)
}

/// Orders the rows of a table with self-references (`slots`, in key order) so every row comes
/// after the row it references (`edges`): positions into `slots`, then the rows that reference
/// each other in a loop. Works on positions (4 bytes) rather than keys, so a table of millions
/// of rows stays small.
fn self_ordered(slots: &[Slot], edges: SelfEdges) -> SelfOrder {
    let n_keys = slots.len();
    // Each row's position, found by its slot.
    let mut by_slot: Vec<u32> = (0..n_keys as u32).collect();
    by_slot.sort_unstable_by_key(|&i| slots[i as usize]);
    let position = |s: Slot| {
        by_slot
            .binary_search_by_key(&s, |&i| slots[i as usize])
            .ok()
            .map(|at| by_slot[at])
    };
    // (child, parent) positions.
    let mut edges: Vec<(u32, u32)> = edges
        .into_iter()
        .filter_map(|(c, p)| Some((position(c)?, position(p)?)))
        .collect();
    // Kahn's algorithm, level by level; within a level, key order. Children of each row in
    // one flat array (sorted by parent), with offsets.
    edges.sort_unstable_by_key(|&(c, p)| (p, c));
    edges.dedup();
    let mut pending = vec![0u32; n_keys];
    let mut offsets = vec![0usize; n_keys + 1];
    for &(c, p) in &edges {
        pending[c as usize] += 1;
        offsets[p as usize + 1] += 1;
    }
    for i in 0..n_keys {
        offsets[i + 1] += offsets[i];
    }
    let mut level: Vec<u32> = (0..n_keys as u32)
        .filter(|&i| pending[i as usize] == 0)
        .collect();
    let mut order = Vec::with_capacity(n_keys);
    let mut placed = vec![false; n_keys];
    while !level.is_empty() {
        let mut next = Vec::new();
        for &i in &level {
            placed[i as usize] = true;
            order.push(i);
            for &(c, _) in &edges[offsets[i as usize]..offsets[i as usize + 1]] {
                pending[c as usize] -= 1;
                if pending[c as usize] == 0 {
                    next.push(c);
                }
            }
        }
        next.sort_unstable();
        level = next;
    }
    let looped = (0..n_keys as u32)
        .filter(|&i| !placed[i as usize])
        .collect();
    (order, looped)
}

/// Writes the query for a chunk of keys; returns it and how many of the keys it holds.
type ChunkQuery<'a> = dyn Fn(&[Key]) -> (String, usize) + Sync + 'a;

/// Fewest keys a query of [`referenced_slots`] is given on a connection of its own.
const SELF_ORDER_PART_KEYS: usize = 256;

/// Pairs each row of `asked` with the row of the same table it references, by the queries
/// `sql` writes for a chunk of keys (each row of theirs the child's key, then the parent's):
/// the (child, parent) slots of rows read, found in `map`. The keys are split over the
/// walk's connections, which share its snapshot.
fn referenced_slots(
    (source, extra): (&mut dyn Source, &mut [Box<dyn Source>]),
    (asked, map): (&KeyList, &KeyMap),
    width: usize,
    sql: &ChunkQuery,
    context: &str,
    max_keys: usize,
) -> Result<SelfEdges> {
    let run = |conn: &mut dyn Source, (from, to): (usize, usize)| -> Result<SelfEdges> {
        let mut edges = Vec::new();
        for_each_batch(asked, (from, to), max_keys, |chunk| {
            let (sql, n) = sql(chunk);
            conn.query(&sql, context, &mut |row| {
                let (c, p) = row.split_at(width);
                if let (Some(c), Some(p)) = (map.read(c), map.read(p))
                    && c != p
                {
                    edges.push((c, p));
                }
                Ok(())
            })?;
            Ok(n)
        })?;
        Ok(edges)
    };
    let parts = (asked.len() / SELF_ORDER_PART_KEYS).clamp(1, 1 + extra.len());
    let part = |i: usize| (asked.len() * i / parts, asked.len() * (i + 1) / parts);
    let run = &run;
    std::thread::scope(|scope| {
        let others: Vec<_> = extra
            .iter_mut()
            .take(parts - 1)
            .enumerate()
            .map(|(i, conn)| scope.spawn(move || run(conn.as_mut(), part(i + 1))))
            .collect();
        let mut edges = run(source, part(0));
        for other in others {
            // A panic on the other thread is a bug: raised here as it was.
            let found = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            match (&mut edges, found) {
                (Ok(edges), Ok(more)) => edges.extend(more),
                (Ok(_), Err(e)) => edges = Err(e),
                (Err(_), _) => {}
            }
        }
        edges
    })
}

/// Writes the rows of table `name` at `slots` (in key order, [`keys_in_order`]) to `sink`, in
/// `order` where the table references itself ([`self_ordered`]: each row after the row it
/// references, then those in loops); returns how many.
fn write_table(
    prepared: &Prepared,
    (name, slots, order): (&str, Vec<Slot>, Option<SelfOrder>),
    (rows, readers): (&mut SpoolReader, &mut [SpoolReader]),
    sink: &mut dyn RowSink,
    restores: &mut Vec<Restore>,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let t = &prepared.model.tables[name];
    if slots.is_empty() {
        return Ok(0);
    }
    let (ordered, looped) = match order {
        Some(order) => order,
        None => ((0..slots.len() as u32).collect(), Vec::new()),
    };

    // Columns written as NULL: nullified references always; deferred (cycle-breaking) ones
    // are restored afterwards.
    let pos = |c: &String| t.columns.iter().position(|x| x.eq_ignore_ascii_case(c));
    let mut nulled: Vec<usize> = Vec::new();
    let mut deferred: Vec<Vec<usize>> = Vec::new();
    for &rid in &t.parents {
        let r = &prepared.model.relations[rid];
        let cols: Vec<usize> = r.columns.iter().filter_map(pos).collect();
        if r.nullified {
            nulled.extend(&cols);
        } else if prepared.plan.deferred.contains(&rid) {
            deferred.push(cols);
        }
    }

    sink.begin_table(&t.name, &t.columns)?;
    let format = sink.row_format();
    let writer = RowWriter {
        t,
        key: &key_positions(t),
        nulled: &nulled,
        deferred: &deferred,
        format: &*format,
    };
    let mut count = 0u64;
    for (segment, checks_off) in [(&ordered, false), (&looped, true)] {
        if segment.is_empty() {
            continue;
        }
        if checks_off {
            sink.foreign_key_checks(
                false,
                &format!("rows of {} that reference each other in a loop: checks off for just these rows", t.name),
            )?;
        }
        // Rows come back from the spool in batches (read in file order), are written as text
        // on several threads (cleansed first on this one, in the segment's order, which
        // the registries keeping cleansed values unique depend on), and go to the sink in the
        // segment's order.
        let batches = SpoolBatches::new(&slots, segment, FORMAT_BATCH_BYTES);
        let mut deliver = |out: &mut Formatted| {
            sink.rows(&out.text, &out.ends)?;
            restores.append(&mut out.restores);
            count += out.ends.len() as u64;
            progress(count);
            Ok(())
        };
        // Only for a table with a rule: the rows of others are written on the threads alone.
        let mut cleanser = prepared
            .cleanser
            .as_ref()
            .filter(|c| c.borrow().cleanses(&t.name))
            .map(|c| c.borrow_mut());
        writer.write_all(
            batches,
            rows,
            readers,
            cleanser.as_deref_mut(),
            &mut deliver,
        )?;
        if checks_off {
            sink.end_table()?;
            sink.foreign_key_checks(true, "")?;
        }
    }
    sink.end_table()?;
    Ok(count)
}

/// A batch of a table's rows as the sink writes them ([`RowSink::rows`]), and the values the
/// rows hold that are written as NULL to break a cycle and restored afterwards.
#[derive(Default)]
struct Formatted {
    text: String,
    ends: Vec<usize>,
    restores: Vec<Restore>,
}

/// Threads that write rows as text: one per core, at most 8. Asked of the system once: on
/// Linux `available_parallelism` reads the cgroup's CPU quota, five system calls, which a dump
/// of 300 small tables made for every table.
fn format_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
}

/// What writing a table's rows as text takes; shared by the threads that do it.
struct RowWriter<'a> {
    t: &'a TableModel,
    /// Where a row holds its key.
    key: &'a [usize],
    /// Columns always written as NULL (nullified references).
    nulled: &'a [usize],
    /// Columns written as NULL where they hold a value, restored afterwards (broken cycles).
    deferred: &'a [Vec<usize>],
    format: &'a dyn crate::sink::RowFormat,
}

impl RowWriter<'_> {
    /// Writes the rows read into `raw` into `out`.
    fn write(&self, raw: &RawRows, values: &mut Vec<Value>, out: &mut Formatted) -> Result<()> {
        out.text.clear();
        out.ends.clear();
        out.restores.clear();
        for j in 0..raw.len() {
            self.values(raw, j, None, values, &mut out.restores)?;
            self.format.row(values, &mut out.text);
            out.ends.push(out.text.len());
        }
        Ok(())
    }

    /// The rows read into `raw` as they are written, cleansed, one after another into
    /// `prepared` (as many values a row as the table has columns); what they restore later into
    /// `restores` (both cleared first).
    fn prepare(
        &self,
        raw: &RawRows,
        cleanser: &mut Cleanser,
        values: &mut Vec<Value>,
        prepared: &mut Vec<Value>,
        restores: &mut Vec<Restore>,
    ) -> Result<()> {
        prepared.clear();
        restores.clear();
        for j in 0..raw.len() {
            self.values(raw, j, Some(&mut *cleanser), values, restores)?;
            // Rows are told apart by their count of values alone.
            if values.len() != self.t.columns.len() {
                return Err(crate::spool::corrupt());
            }
            prepared.append(values);
        }
        Ok(())
    }

    /// Writes rows [`RowWriter::prepare`]d into `out` (its restores are the rows' already).
    fn write_prepared(&self, prepared: &[Value], out: &mut Formatted) {
        out.text.clear();
        out.ends.clear();
        for row in prepared.chunks(self.t.columns.len().max(1)) {
            self.format.row(row, &mut out.text);
            out.ends.push(out.text.len());
        }
    }

    /// Row `j` of `raw` into `values` as it is written: cleansed first when `cleanser` is given
    /// (what is restored later is the cleansed value too), NULL where written as NULL, and
    /// what a broken cycle restores later pushed to `restores`.
    fn values(
        &self,
        raw: &RawRows,
        j: usize,
        cleanser: Option<&mut Cleanser>,
        values: &mut Vec<Value>,
        restores: &mut Vec<Restore>,
    ) -> Result<()> {
        let t = self.t;
        raw.decode(j, values)?;
        if let Some(c) = cleanser {
            c.apply(&t.name, &t.columns, values)?;
        }
        for &i in self.nulled {
            values[i] = Value::Null;
        }
        // The key as written (cleansed), for the rows restored; a key is never NULL, so
        // none of its columns is among those written as NULL.
        let mut key: Option<Key> = None;
        for cols in self.deferred {
            if cols.iter().any(|&i| !values[i].is_null()) {
                let key = key
                    .get_or_insert_with(|| self.key.iter().map(|&i| values[i].clone()).collect())
                    .clone();
                restores.push(Restore {
                    table: t.name.clone(),
                    key_cols: t.key.clone(),
                    key,
                    cols: cols.iter().map(|&i| t.columns[i].clone()).collect(),
                    values: cols.iter().map(|&i| values[i].clone()).collect(),
                });
                for &i in cols {
                    values[i] = Value::Null;
                }
            }
        }
        // The key's columns spooled after the row's own, if any, are not written.
        values.truncate(t.columns.len());
        Ok(())
    }

    /// Writes the batches on a thread per reader of `readers`, each reading its batches from
    /// the spool itself, and hands them to `deliver` in order. Rows cleansed (with `cleanser`,
    /// when given) are read and cleansed on this thread first, in order, as the registries
    /// that keep cleansed values unique need. At most `readers.len() + 1` batches, and about
    /// [`FORMAT_OUT_BYTES`] of rows, are out at once, so memory stays bounded whatever the
    /// table's size and the rows' width. A table of one batch is written here.
    ///
    /// The threads read their own batches, so that one thread does not read every batch for
    /// all of them: read here, the spool's rows (copied by the kernel, then into each batch)
    /// were half of this thread's work as the dump is written (the benchmark's large tenant:
    /// 51 ms of its CPU in a write phase of 116 ms). On two cores the wall time is the same,
    /// the write phase being 85-90% busy either way.
    fn write_all(
        &self,
        mut batches: SpoolBatches,
        rows: &mut SpoolReader,
        readers: &mut [SpoolReader],
        mut cleanser: Option<&mut Cleanser>,
        deliver: &mut dyn FnMut(&mut Formatted) -> Result<()>,
    ) -> Result<()> {
        let mut values = Vec::new();
        let mut first = TextJob::default();
        let Some((_, first_bytes)) = batches.next_offsets(&mut first.offsets) else {
            return Ok(());
        };
        if batches.is_done() || readers.is_empty() {
            let mut out = Formatted::default();
            loop {
                rows.read_batch(&first.offsets, &mut first.raw)?;
                match cleanser.as_deref_mut() {
                    Some(c) => {
                        self.prepare(
                            &first.raw,
                            c,
                            &mut values,
                            &mut first.prepared,
                            &mut out.restores,
                        )?;
                        self.write_prepared(&first.prepared, &mut out);
                    }
                    None => self.write(&first.raw, &mut values, &mut out)?,
                }
                deliver(&mut out)?;
                if batches.next_offsets(&mut first.offsets).is_none() {
                    return Ok(());
                }
            }
        }
        let mut first = Some((first, first_bytes));
        // Every batch of the table is cleansed first, or none is.
        let cleansed = cleanser.is_some();
        let threads = readers.len();
        type Job = (usize, TextJob, Formatted);
        let (jobs, job_rx) = std::sync::mpsc::channel::<Job>();
        let job_rx = Mutex::new(job_rx);
        let (done_tx, done) = std::sync::mpsc::channel::<Result<Job>>();
        std::thread::scope(|scope| {
            // Dropped on the way out, whatever the way: the threads stop once it is.
            let jobs = jobs;
            for reader in readers.iter_mut() {
                let (job_rx, done_tx) = (&job_rx, done_tx.clone());
                scope.spawn(move || {
                    let _failed = OnPanic(&done_tx);
                    let mut values = Vec::new();
                    loop {
                        let job = job_rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok((n, mut batch, mut out)) = job else {
                            return;
                        };
                        let written =
                            match cleansed {
                                true => {
                                    self.write_prepared(&batch.prepared, &mut out);
                                    Ok(())
                                }
                                false => reader
                                    .read_batch(&batch.offsets, &mut batch.raw)
                                    .and_then(|()| {
                                        reader.release_large_window();
                                        self.write(&batch.raw, &mut values, &mut out)
                                    }),
                            };
                        if done_tx.send(written.map(|()| (n, batch, out))).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut free: Vec<(TextJob, Formatted)> = Vec::new();
            let mut waiting: BTreeMap<usize, (TextJob, Formatted)> = BTreeMap::new();
            // The bytes of each batch out, in order.
            let mut out_bytes: std::collections::VecDeque<usize> = Default::default();
            let (mut sent, mut next, mut more) = (0, 0, true);
            loop {
                while more
                    && sent - next <= threads
                    && out_bytes.iter().sum::<usize>() < FORMAT_OUT_BYTES
                {
                    let (mut batch, mut out) = free.pop().unwrap_or_default();
                    let bytes = match first.take() {
                        Some((read, bytes)) => {
                            batch = read;
                            Some(bytes)
                        }
                        None => batches
                            .next_offsets(&mut batch.offsets)
                            .map(|(_, bytes)| bytes),
                    };
                    let Some(bytes) = bytes else {
                        more = false;
                        break;
                    };
                    out_bytes.push_back(bytes);
                    if let Some(c) = cleanser.as_deref_mut() {
                        let TextJob {
                            offsets,
                            raw,
                            prepared,
                        } = &mut batch;
                        rows.read_batch(offsets, raw)?;
                        self.prepare(raw, c, &mut values, prepared, &mut out.restores)?;
                    }
                    // The threads stop only once `jobs` is dropped, or on a panic, which
                    // `done` reports.
                    let _ = jobs.send((sent, batch, out));
                    sent += 1;
                }
                if next == sent {
                    return Ok(());
                }
                let (batch, mut out) = loop {
                    if let Some(ready) = waiting.remove(&next) {
                        break ready;
                    }
                    let (n, batch, out) = done.recv().map_err(|_| writer_failed())??;
                    waiting.insert(n, (batch, out));
                };
                deliver(&mut out)?;
                // Buffers grown for rows of megabytes go, rather than stay for the rest.
                if out_bytes.pop_front().unwrap_or(0) <= 2 * FORMAT_BATCH_BYTES {
                    free.push((batch, out));
                }
                next += 1;
            }
        })
    }
}

/// A batch of a table's rows for a thread that writes them as text: as read from the spool,
/// and, when cleansed, as [`RowWriter::prepare`] made them on the thread that cleanses.
#[derive(Default)]
struct TextJob {
    /// Where its rows are in the spool.
    offsets: Vec<u64>,
    raw: RawRows,
    prepared: Vec<Value>,
}

/// Tells the thread waiting for a formatting thread's batches that it panicked (its batch
/// would never come); the panic itself surfaces when the threads are joined.
struct OnPanic<'a>(&'a std::sync::mpsc::Sender<Result<(usize, TextJob, Formatted)>>);

impl Drop for OnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.send(Err(writer_failed()));
        }
    }
}

fn writer_failed() -> Error {
    Error::Output {
        what: "the dump".into(),
        source: std::io::Error::other("a thread writing rows as text failed"),
    }
}
