//! `import`: load a dump into a target, all or nothing.
//!
//! The dump is parsed by [`reader`] into typed rows and written again through the *target's*
//! dialect, so a dump taken from MariaDB loads into SQLite and the other way round, and no SQL
//! text from the file ever reaches the target as it was written. Everything happens in one
//! transaction: a refused statement, a server error, a missing trailer or a checksum mismatch
//! rolls back, and the target is as it was before.

pub mod reader;
mod references;

use crate::budget::{ByteBudget, CloseOnDrop};
use crate::dialect::{Dialect, OnConflict};
use crate::engine::Target;
use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::schema::Schema;
use reader::{DumpReader, Header, Located, Statement};
use references::LoadedReferences;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub on_conflict: OnConflict,
    pub disable_fk_checks: bool,
    /// Largest statement sent to the target, in bytes.
    pub max_statement_bytes: usize,
    /// Send INSERTs even where the engine has a faster bulk path.
    pub no_bulk_load: bool,
}

/// Whether LOAD DATA keeps every value of the table exactly (BIT and spatial columns do not
/// take raw bytes from a data file).
fn bulk_loadable(t: &crate::schema::Table) -> bool {
    !t.columns.iter().any(|c| {
        matches!(
            c.data_type.as_str(),
            "bit"
                | "geometry"
                | "point"
                | "linestring"
                | "polygon"
                | "multipoint"
                | "multilinestring"
                | "multipolygon"
                | "geometrycollection"
        )
    })
}

/// Per-table results, in load order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableReport {
    pub table: String,
    /// Rows read from the dump.
    pub rows: u64,
    /// Bytes of the dump's statements for these rows.
    pub bytes: u64,
    /// Rows the target reports as affected (MySQL counts an overwritten row twice, a kept one as 0).
    pub affected: u64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub source: String,
    pub target: String,
    pub on_conflict: OnConflict,
    pub tables: Vec<TableReport>,
    pub rows: u64,
    pub seconds: f64,
    /// Things the user should know (tables with INSERT triggers, ...).
    pub warnings: Vec<String>,
    /// The process's peak resident memory, where the system tells it (set by the command).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<u64>,
}

/// Progress while importing: called after every statement.
pub struct Progress<'a> {
    pub table: &'a str,
    pub rows: u64,
}

/// Statements parsed ahead of the one the target is loading: this many, and no more than
/// READ_AHEAD_BYTES of them in the dump unless one statement is more (a statement of one row of
/// megabytes is parsed ahead alone).
const READ_AHEAD: usize = 4;
const READ_AHEAD_BYTES: usize = 16 << 20;

/// The statements the parser hands over, giving their bytes back to its budget as they come.
struct Statements<'a> {
    rx: Receiver<Result<Parsed>>,
    budget: &'a ByteBudget,
}

impl Statements<'_> {
    /// The next statement; an error if a signal asks the import to stop meanwhile (the dump
    /// may come through a pipe that stays silent).
    fn recv(&self) -> std::result::Result<Result<Parsed>, std::sync::mpsc::RecvError> {
        let next = loop {
            match self.rx.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(next) => break Ok(next),
                Err(RecvTimeoutError::Disconnected) => break Err(std::sync::mpsc::RecvError),
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(signal) = crate::interrupt::stop_requested() {
                        return Ok(Err(interrupted(signal)));
                    }
                }
            }
        };
        if let Ok(Ok(Parsed::Statement(s))) = &next {
            self.budget.give_back(parsed_bytes(s));
        }
        next
    }
}

/// The import stopped for `signal`: what it says (the caller rolls back, as after any error).
fn interrupted(signal: i32) -> Error {
    Error::Interrupted {
        signal,
        what: "the import was rolled back; the target is as it was before.".into(),
    }
}

/// What a parsed statement counts for in the parser's budget: its size in the dump.
fn parsed_bytes(s: &Located) -> usize {
    usize::try_from(s.bytes).unwrap_or(usize::MAX)
}

/// What the parsing thread hands over: each statement, then the end once the trailer checked.
enum Parsed {
    Statement(Located),
    End,
}

/// Parses the whole dump into `tx`, ending with [`Parsed::End`] or the first error.
/// Stops early when the receiver is gone (the load failed).
fn parse_into<R: BufRead>(
    mut reader: DumpReader<R>,
    tx: SyncSender<Result<Parsed>>,
    budget: &ByteBudget,
) {
    loop {
        let parsed = match reader.next_statement() {
            Ok(Some(statement)) => {
                budget.take(parsed_bytes(&statement));
                Ok(Parsed::Statement(statement))
            }
            Ok(None) => {
                let _ = tx.send(reader.finish().map(|_| Parsed::End));
                return;
            }
            Err(e) => Err(e),
        };
        let failed = parsed.is_err();
        if tx.send(parsed).is_err() || failed {
            return;
        }
    }
}

/// Imports a dump into `target` in one transaction; rolls back on any error. The dump is
/// parsed on a thread of its own while the target loads the statement before.
pub fn import<R: BufRead + Send + 'static>(
    reader: DumpReader<R>,
    target: &mut dyn Target,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportReport> {
    let _stops = crate::interrupt::Graceful::new();
    let mut schema = target.introspect()?;
    let mut created = Vec::new();
    target.begin(options.disable_fk_checks)?;
    let header = reader.header().clone();
    let budget = Arc::new(ByteBudget::new(READ_AHEAD_BYTES));
    let (tx, rx) = sync_channel(READ_AHEAD);
    // Not waited for: once the load ends, early or not, the parser stops at its next
    // statement (`rx` dropped, the budget closed), or stays blocked reading a silent pipe when
    // a signal stopped the import, and the process ends without it.
    let parser_budget = budget.clone();
    std::thread::spawn(move || parse_into(reader, tx, &parser_budget));
    let loaded = {
        let _closed = CloseOnDrop(&budget);
        load(
            &header,
            Statements {
                rx,
                budget: &budget,
            },
            target,
            &mut schema,
            &mut created,
            options,
            progress,
        )
    };
    match loaded.and_then(|report| target.commit().map(|()| report)) {
        Ok(report) => Ok(report),
        Err(e) => {
            // The first error is the one to report; a failing rollback only means the
            // connection is gone, which rolls back too.
            let _ = target.rollback();
            drop_created(target, &created);
            Err(e)
        }
    }
}

/// Tables this import created and that survived the rollback (MySQL commits DDL at once) are
/// dropped again: they are empty, and the target must be as it was.
fn drop_created(target: &mut dyn Target, created: &[String]) {
    if created.is_empty() {
        return;
    }
    let Ok(now) = target.introspect() else { return };
    let dialect = target.dialect();
    let _ = target.foreign_key_checks(false);
    for t in created.iter().rev() {
        if now.table(t).is_some() {
            let _ = target.execute(&format!("DROP TABLE {}", dialect.quote_ident(t)));
        }
    }
    let _ = target.foreign_key_checks(true);
}

fn load(
    header: &Header,
    parsed: Statements,
    target: &mut dyn Target,
    schema: &mut Schema,
    created: &mut Vec<String>,
    options: &ImportOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImportReport> {
    let started = Instant::now();
    let dialect = target.dialect();
    let url = target.url().to_string();
    // Statements stay under the target's packet limit whatever was asked for.
    let max_statement_bytes = options.max_statement_bytes.min(target.max_query_bytes());
    let mut ledger = Ledger {
        report: ImportReport {
            source: header.source.clone(),
            target: url.clone(),
            on_conflict: options.on_conflict,
            ..ImportReport::default()
        },
        references: LoadedReferences::default(),
        // The keys of loaded rows are kept (and references proven against them) only where
        // whole tables go in unchecked, on the engine's bulk path. Elsewhere only the rows of a
        // NOT NULL cycle do, and the target checks those tables: keeping every key would be
        // wasted work.
        prove_in_client: target.empty_table_bulk_insert() && !options.disable_fk_checks,
    };
    let mut checked: BTreeSet<String> = BTreeSet::new();
    let mut schema_changed = false;
    let mut checks = Checks {
        disabled: options.disable_fk_checks,
        foreign_keys: !options.disable_fk_checks,
        unique: true,
    };
    // The dump turned foreign-key checks off (around a cycle of NOT NULL references).
    let mut cycle_unchecked = false;
    // Tables empty when their first rows came, loaded on the engine's bulk path.
    let mut bulk_tables: BTreeSet<String> = BTreeSet::new();
    let mut last_table = String::new();
    let mut table_started = Instant::now();
    let mut whole = false;
    // A statement read ahead while streaming a table's rows, to handle next.
    let mut pending: Option<Result<Parsed>> = None;
    loop {
        if let Some(signal) = crate::interrupt::stop_requested() {
            return Err(interrupted(signal));
        }
        let next = match pending.take() {
            Some(next) => next,
            None => match parsed.recv() {
                Ok(next) => next,
                Err(_) => break,
            },
        };
        let located = match next? {
            Parsed::Statement(located) => located,
            Parsed::End => {
                whole = true;
                break;
            }
        };
        let Located {
            line,
            number,
            bytes,
            statement,
        } = located;
        let fail = |table: &str, reason: String| Error::Import {
            url: url.clone(),
            statement: number,
            line,
            table: table.to_string(),
            reason,
        };
        match statement {
            Statement::Setting { name, value } => {
                if matches!(name.as_str(), "foreign_key_checks" | "defer_foreign_keys") {
                    cycle_unchecked = matches!(
                        (name.as_str(), value.to_ascii_uppercase().as_str()),
                        ("foreign_key_checks", "0") | ("defer_foreign_keys", "ON")
                    );
                }
            }
            Statement::Begin | Statement::Commit => {}
            Statement::Schema { table, sql } => {
                let exists = schema.table(&table).is_some();
                if created.contains(&table) || !exists {
                    // A definition may reference a table defined after it (a cycle).
                    checks.prepare(target, cycle_unchecked, false)?;
                    if header.dialect != dialect.name() {
                        return Err(fail(
                            &table,
                            format!(
                                "the target has no table `{table}`, and the dump's definition of it is in {}'s SQL, \
                                 which {} does not read. Create the schema in the target first",
                                header.dialect,
                                dialect.name()
                            ),
                        ));
                    }
                    target.execute_ddl(&sql).map_err(|msg| fail(&table, msg))?;
                    if !created.contains(&table) {
                        created.push(table.clone());
                    }
                    schema_changed = true;
                }
            }
            Statement::Insert {
                table,
                columns,
                rows,
            } => {
                if schema_changed {
                    *schema = target.introspect()?;
                    schema_changed = false;
                }
                if !checked.contains(&table) {
                    // Checked before a row goes in: what went into transactional tables so
                    // far is rolled back, so the target stays as it was.
                    if let Some(engine) = schema
                        .table(&table)
                        .filter(|t| t.without_transactions())
                        .and_then(|t| t.engine.clone())
                    {
                        return Err(fail(
                            &table,
                            format!(
                                "the target's table `{table}` is {engine}, an engine without transactions: \
                                 rows loaded into it would stay there if the import failed later, so none \
                                 are. Convert it first (ALTER TABLE {} ENGINE=InnoDB), or load the dump \
                                 with the mysql client, which loads it statement by statement without \
                                 that guarantee",
                                dialect.quote_ident(&table)
                            ),
                        ));
                    }
                    if let Some(note) = check_table(schema, &table, &columns, &url)? {
                        ledger.report.warnings.push(note);
                    }
                    if let Some(note) =
                        unmatched_rows(schema, &table, &columns, options.on_conflict)
                    {
                        ledger.report.warnings.push(note);
                    }
                    if target.empty_table_bulk_insert()
                        && (created.contains(&table) || is_empty(target, &table)?)
                    {
                        target.before_bulk_load(&table);
                        bulk_tables.insert(table.clone());
                    }
                    checked.insert(table.clone());
                }
                let bulk_path = bulk_tables.contains(&table);
                let unchecked = checks.prepare(target, cycle_unchecked, bulk_path)?;
                if table != last_table {
                    if let Some(t) = ledger.report.tables.last_mut() {
                        t.seconds = table_started.elapsed().as_secs_f64();
                    }
                    ledger.report.tables.push(TableReport {
                        table: table.clone(),
                        ..TableReport::default()
                    });
                    last_table = table.clone();
                    table_started = Instant::now();
                }
                let key = schema
                    .table(&table)
                    .map(|t| t.row_key())
                    .unwrap_or_default();
                let suffix = dialect.on_conflict(options.on_conflict, &columns, &key);
                // `duplicate`: the failure is about keys that exist already.
                let conflict_hint = |target: &mut dyn Target, duplicate: bool| {
                    // A trigger of the table's that inserts elsewhere (Sakila's `ins_film`
                    // copies each film into `film_text`): the server names the key, not the
                    // table, and the statement into this one is the one that fails.
                    let triggered =
                        duplicate && target.insert_triggers().is_ok_and(|t| t.contains(&table));
                    let trigger_hint = || {
                        format!(
                            " (`{table}` has an INSERT trigger in the target, and the key may be one the trigger \
                             wrote into another table, such as a copy of each row that the dump also holds: \
                             drop the trigger before importing and create it again after)"
                        )
                    };
                    // An empty table has nothing to conflict with: the rows conflict among
                    // themselves, or with what a trigger wrote.
                    if bulk_path && triggered {
                        return trigger_hint();
                    }
                    if bulk_path && duplicate {
                        return " (the table was empty before the import, so the dump itself holds two rows with \
                                the same primary or unique key: it was altered or not written by partialdump)"
                            .to_string();
                    }
                    match conflicting_key(target, dialect, &table, &columns, &key, &rows) {
                        Some(k) => format!(
                            " (the target already has the row with {k}; --on-conflict skip keeps existing rows, \
                             --on-conflict update overwrites them)"
                        ),
                        None if triggered => trigger_hint(),
                        // Not a conflict: say which rows the statement held.
                        None => rows_hint(&key, &columns, &rows),
                    }
                };
                // Where the target's ENUM columns lack '': rows holding it there go in on
                // their own, out of strict mode ([`Target::execute_out_of_strict_mode`]).
                let enum_at = enum_error_columns(schema.table(&table), &columns);
                // The bulk path where the engine has one and it keeps the semantics: it skips
                // existing keys, which `error` turns into an error and `update` cannot use.
                let bulk_table = schema
                    .table(&table)
                    .filter(|_| !rows.iter().any(|r| holds_enum_error(r, &enum_at)))
                    .filter(|t| bulk_loadable(t))
                    .filter(|_| options.on_conflict != OnConflict::Update && !options.no_bulk_load);
                let streaming = bulk_path && bulk_table.is_some();
                // What the bulk path loaded, from how many rows, and which statements it held.
                let (bulk, given, within) = if let Some(bulk_table) =
                    bulk_table.filter(|_| bulk_path)
                {
                    // An empty table on the engine's bulk path: this statement and the ones after
                    // it for the same table and columns go in as one statement, streamed while the
                    // rest are parsed (MariaDB spends ~9 ms at the end of each such statement).
                    let (streamed, last, loaded) = std::thread::scope(|scope| {
                        let (tx, rx) = sync_channel::<Vec<Vec<Value>>>(READ_AHEAD);
                        let (t, c, r) = (bulk_table, &columns, &rows);
                        let target = &mut *target;
                        let loader = scope.spawn(move || target.bulk_load(t, c, r, Some(rx)));
                        let mut streamed =
                            ledger.book(schema, &table, &columns, &rows, bytes, unchecked);
                        progress(&Progress {
                            table: &table,
                            rows: ledger.report.rows,
                        });
                        let mut last = number;
                        // Asked to stop: the rows streamed so far go in, and the import stops
                        // before its next statement.
                        while crate::interrupt::stop_requested().is_none() {
                            match parsed.recv() {
                                Ok(Ok(Parsed::Statement(Located {
                                    statement:
                                        Statement::Insert {
                                            table: t,
                                            columns: c,
                                            rows: more,
                                        },
                                    bytes,
                                    number,
                                    ..
                                }))) if t == table
                                    && c == columns
                                    && !more.iter().any(|r| holds_enum_error(r, &enum_at)) =>
                                {
                                    streamed += ledger
                                        .book(schema, &table, &columns, &more, bytes, unchecked);
                                    progress(&Progress {
                                        table: &table,
                                        rows: ledger.report.rows,
                                    });
                                    last = number;
                                    if tx.send(more).is_err() {
                                        break;
                                    }
                                }
                                Ok(other) => {
                                    pending = Some(other);
                                    break;
                                }
                                // The parser is gone: the next receive says so.
                                Err(_) => break,
                            }
                        }
                        drop(tx);
                        let loaded = loader
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                        (streamed, last, loaded)
                    });
                    let within = if last > number {
                        format!(" (statements {number} to {last} load `{table}` as one LOAD DATA)")
                    } else {
                        String::new()
                    };
                    // The rows are gone down the stream: INSERTs cannot take over.
                    let Some(loaded) = loaded else {
                        return Err(fail(
                            &table,
                            format!(
                                "the target has no bulk path after all{within}; this is a bug in partialdump, \
                                 please report it. Import with --no-bulk-load meanwhile"
                            ),
                        ));
                    };
                    (Some(loaded), streamed, within)
                } else if let Some(bulk_table) = bulk_table {
                    let loaded = target.bulk_load(bulk_table, &columns, &rows, None);
                    (loaded, rows.len() as u64, String::new())
                } else {
                    (None, 0, String::new())
                };
                let bulk_used = bulk.is_some();
                if let Some(result) = bulk {
                    let n = match result {
                        Ok(n) => n,
                        Err(msg) => {
                            // A bulk load that failed on anything but a key may have left
                            // its rows in the target for now: finding them there says
                            // nothing of a conflict.
                            let hint = if is_duplicate_key(&msg) {
                                conflict_hint(target, true)
                            } else {
                                rows_hint(&key, &columns, &rows)
                            };
                            return Err(fail(&table, format!("{msg}{hint}{within}")));
                        }
                    };
                    if n < given && options.on_conflict == OnConflict::Error {
                        let hint = conflict_hint(target, true);
                        return Err(fail(
                            &table,
                            format!(
                                "{} of these rows already exist in the target{hint}{within}",
                                given - n
                            ),
                        ));
                    }
                    if let Some(t) = ledger.report.tables.last_mut() {
                        t.affected += n;
                    }
                }
                let runs = if bulk_used {
                    Vec::new()
                } else {
                    enum_error_runs(&rows, &enum_at)
                };
                for (run, out_of_strict) in runs {
                    for sql in
                        render_inserts(dialect, &table, &columns, run, &suffix, max_statement_bytes)
                    {
                        let ran = if out_of_strict {
                            target
                                .execute_out_of_strict_mode(&sql)
                                .map(|(n, warnings)| {
                                    (n, unexpected_warning(&warnings, &columns, run, &enum_at))
                                })
                        } else {
                            target.execute(&sql).map(|n| (n, None))
                        };
                        match ran {
                            Ok((_, Some(warning))) => {
                                let at = rows_hint(&key, &columns, run);
                                return Err(fail(
                                    &table,
                                    format!(
                                        "a row holding '' in an ENUM column whose members lack it (the value a \
                                         MySQL server out of strict mode stores for one it did not accept) goes in \
                                         out of strict mode, the only one that writes it back, and it gave the \
                                         warning {warning}: out of strict mode that is a value changed, not \
                                         refused{at}. Make the target's columns hold the source's values"
                                    ),
                                ));
                            }
                            Ok((n, None)) => {
                                if let Some(t) = ledger.report.tables.last_mut() {
                                    t.affected += n;
                                }
                            }
                            Err(msg) => {
                                let hint = conflict_hint(target, is_duplicate_key(&msg));
                                return Err(fail(&table, format!("{msg}{hint}")));
                            }
                        }
                    }
                }
                if !streaming {
                    ledger.book(schema, &table, &columns, &rows, bytes, unchecked);
                    progress(&Progress {
                        table: &table,
                        rows: ledger.report.rows,
                    });
                }
            }
            Statement::Update { table, set, key } => {
                if checks.prepare(target, cycle_unchecked, false)? {
                    ledger.references.check_in_target(&table);
                }
                let sql = render_update(dialect, &table, &set, &key);
                target.execute(&sql).map_err(|msg| fail(&table, msg))?;
            }
        }
    }
    let mut report = ledger.report;
    if let Some(t) = report.tables.last_mut() {
        t.seconds = table_started.elapsed().as_secs_f64();
    }
    let triggered = target.insert_triggers()?;
    for t in report
        .tables
        .iter()
        .filter(|t| triggered.contains(&t.table))
    {
        report.warnings.push(format!(
            "table `{}` of the target has an INSERT trigger, which ran for each of its {} imported rows and may \
             have changed them (a trigger that sets created_at = NOW() rewrites the copied values). Drop the \
             trigger before importing, or check the rows.",
            t.table, t.rows
        ));
    }
    // The trailer proves the dump is whole before anything is committed (the parser sends it
    // last; a parser that stopped without it has already sent its error, or panicked).
    if !whole {
        return Err(Error::Mismatch(
            "the dump's parser stopped before the end of the dump; nothing was imported. This is a bug \
             in partialdump: please report it with the dump's first lines."
                .into(),
        ));
    }
    if !options.disable_fk_checks {
        check_references(target, schema, &ledger.references.unproven(schema))?;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// What the import has loaded so far: the report, and the keys and references kept to prove
/// the references of rows loaded unchecked.
struct Ledger {
    report: ImportReport,
    references: LoadedReferences,
    prove_in_client: bool,
}

impl Ledger {
    /// Books one INSERT's rows (loaded `unchecked` or not); returns how many there were.
    fn book(
        &mut self,
        schema: &Schema,
        table: &str,
        columns: &[String],
        rows: &[Vec<Value>],
        bytes: u64,
        unchecked: bool,
    ) -> u64 {
        if self.prove_in_client {
            self.references
                .loaded(schema, table, columns, rows, unchecked);
        } else if unchecked {
            self.references.check_in_target(table);
        }
        let n = rows.len() as u64;
        self.report.rows += n;
        if let Some(t) = self.report.tables.last_mut() {
            t.rows += n;
            t.bytes += bytes;
        }
        n
    }
}

/// The target session's check switches, as last set.
struct Checks {
    /// `--disable-fk-checks`: foreign keys are neither checked nor proven.
    disabled: bool,
    foreign_keys: bool,
    unique: bool,
}

impl Checks {
    /// Sets the switches for the next statement: foreign keys are checked unless disabled,
    /// around a `cycle` or on the `bulk` path; unique keys unless on the bulk path. Returns
    /// whether the statement's references go unchecked and must be proven before the commit.
    fn prepare(&mut self, target: &mut dyn Target, cycle: bool, bulk: bool) -> Result<bool> {
        let foreign_keys = !(self.disabled || cycle || bulk);
        if foreign_keys != self.foreign_keys {
            target.foreign_key_checks(foreign_keys)?;
            self.foreign_keys = foreign_keys;
        }
        let unique = !bulk;
        if unique != self.unique {
            target.unique_checks(unique)?;
            self.unique = unique;
        }
        Ok(!foreign_keys && !self.disabled)
    }
}

/// ` (in the rows with <key range>)`: which rows a failed statement held.
fn rows_hint(key: &[String], columns: &[String], rows: &[Vec<Value>]) -> String {
    key_range(key, columns, rows)
        .map(|r| format!(" (in the rows with {r})"))
        .unwrap_or_default()
}

/// The positions in `columns` of the target's ENUM columns that lack '' as a member.
fn enum_error_columns(table: Option<&crate::schema::Table>, columns: &[String]) -> Vec<usize> {
    let Some(table) = table else {
        return Vec::new();
    };
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| table.column(c).is_some_and(|c| c.enum_lacks_empty()))
        .map(|(i, _)| i)
        .collect()
}

/// Whether the row holds '' in one of those columns: MySQL's ENUM error value.
fn holds_enum_error(row: &[Value], enum_at: &[usize]) -> bool {
    enum_at
        .iter()
        .any(|&i| matches!(row.get(i), Some(Value::Text(t)) if t.is_empty()))
}

/// The rows in their order, cut into runs that go in as usual (false) and single rows that hold
/// the ENUM error value, which go in out of strict mode (true).
fn enum_error_runs<'a>(rows: &'a [Vec<Value>], enum_at: &[usize]) -> Vec<(&'a [Vec<Value>], bool)> {
    let mut runs = Vec::new();
    let mut start = 0;
    for (i, row) in rows.iter().enumerate() {
        if holds_enum_error(row, enum_at) {
            if start < i {
                runs.push((&rows[start..i], false));
            }
            runs.push((&rows[i..=i], true));
            start = i + 1;
        }
    }
    if start < rows.len() {
        runs.push((&rows[start..], false));
    }
    runs
}

/// The first warning of a row written out of strict mode that is not the ENUM error value going
/// in where the row holds it (1265, "Data truncated for column 'e'", once more where
/// `--on-conflict update` assigns it to an existing row): out of strict mode, any other warning
/// is a value changed.
fn unexpected_warning(
    warnings: &[(u16, String)],
    columns: &[String],
    rows: &[Vec<Value>],
    enum_at: &[usize],
) -> Option<String> {
    let error_value_in = |column: &str| {
        enum_at.iter().any(|&i| {
            columns[i].eq_ignore_ascii_case(column)
                && rows
                    .iter()
                    .all(|r| matches!(r.get(i), Some(Value::Text(t)) if t.is_empty()))
        })
    };
    warnings
        .iter()
        .find(|(code, message)| match code {
            1265 => !message
                .split_once("column '")
                .and_then(|(_, rest)| rest.split_once('\''))
                .is_some_and(|(column, _)| error_value_in(column)),
            _ => true,
        })
        .map(|(code, message)| format!("{code} \"{message}\""))
}

/// Whether a server's message is about a duplicate key (MariaDB's bulk path into an empty table
/// reports one among the statement's own rows as an error "during COMMIT"; SQLite says "UNIQUE
/// constraint failed").
fn is_duplicate_key(message: &str) -> bool {
    message.contains("Duplicate")
        || message.contains("during COMMIT")
        || message.contains("UNIQUE constraint failed")
}

/// Whether the target's table has no row (inside the import's transaction).
fn is_empty(target: &mut dyn Target, table: &str) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM {} LIMIT 1",
        target.dialect().quote_ident(table)
    );
    let mut empty = true;
    target.query(&sql, "checking whether a table is empty", &mut |_| {
        empty = false;
        Ok(())
    })?;
    Ok(empty)
}

/// Under `--on-conflict skip` or `update`, a note when the target's `table` has no key among
/// the dump's `columns` (no primary key or unique index of NOT NULL columns; TPC-C's `history`):
/// its rows cannot be told from those the target holds, so each is added again.
fn unmatched_rows(
    schema: &Schema,
    table: &str,
    columns: &[String],
    mode: OnConflict,
) -> Option<String> {
    if mode == OnConflict::Error {
        return None;
    }
    let key = schema.table(table)?.row_key();
    if !key.is_empty() && key.iter().all(|k| columns.contains(k)) {
        return None;
    }
    let mode = match mode {
        OnConflict::Skip => "skip",
        _ => "update",
    };
    Some(format!(
        "`{table}` has no key in the target that the dump's rows carry (a primary key or unique index \
         of NOT NULL columns), so --on-conflict {mode} cannot tell its rows from the ones the target \
         holds: every row of the dump was added, and any an earlier import brought are now there \
         twice. Delete those first when importing the same roots again"
    ))
}

/// The dump's columns must be the target table's columns (generated ones aside), but for
/// target columns an INSERT may leave out (nullable, or with a default: a migration the target
/// had that the source had not), which are named in the note returned.
fn check_table(
    schema: &Schema,
    table: &str,
    columns: &[String],
    url: &str,
) -> Result<Option<String>> {
    let Some(t) = schema.table(table) else {
        return Err(Error::Mismatch(format!(
            "the dump has rows for table `{table}`, which the target {url} does not have. Create the schema \
             in the target first (the same CREATE TABLE statements as the source)."
        )));
    };
    let want: BTreeSet<String> = t.insert_columns().map(|c| c.name.to_lowercase()).collect();
    let got: BTreeSet<String> = columns.iter().map(|c| c.to_lowercase()).collect();
    let missing: Vec<&String> = got.difference(&want).collect();
    let defaulted = |c: &String| {
        t.insert_columns()
            .any(|tc| tc.defaulted && tc.name.eq_ignore_ascii_case(c))
    };
    let (filled, extra): (Vec<&String>, Vec<&String>) =
        want.difference(&got).partition(|c| defaulted(c));
    if !missing.is_empty() || !extra.is_empty() {
        let mut what = Vec::new();
        if !missing.is_empty() {
            what.push(format!(
                "the target lacks {}",
                missing
                    .iter()
                    .map(|c| format!("`{table}.{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !extra.is_empty() {
            what.push(format!(
                "the dump lacks {}, NOT NULL without a default",
                extra
                    .iter()
                    .map(|c| format!("`{table}.{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Err(Error::Mismatch(format!(
            "table `{table}` differs between the dump and the target {url}: {}. Bring the target's schema in line \
             with the source's before importing. Nothing was imported.",
            what.join("; ")
        )));
    }
    Ok((!filled.is_empty()).then(|| {
        format!(
            "the target's table `{table}` has {} which the dump does not: its rows took the \
             column's default (or NULL) there",
            filled
                .iter()
                .map(|c| format!("`{table}.{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }))
}

/// Multi-row INSERTs of at most `max_bytes` each (a single row may exceed it).
pub fn render_inserts(
    dialect: &dyn Dialect,
    table: &str,
    columns: &[String],
    rows: &[Vec<Value>],
    suffix: &str,
    max_bytes: usize,
) -> Vec<String> {
    let prefix = format!(
        "INSERT INTO {} ({}) VALUES ",
        dialect.quote_ident(table),
        columns
            .iter()
            .map(|c| dialect.quote_ident(c))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut out = Vec::new();
    let mut sql = String::new();
    let mut row_text = String::new();
    for row in rows {
        row_text.clear();
        row_text.push('(');
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                row_text.push(',');
            }
            dialect.write_literal(v, &mut row_text);
        }
        row_text.push(')');
        if !sql.is_empty() && sql.len() + row_text.len() + suffix.len() + 1 > max_bytes {
            sql.push_str(suffix);
            out.push(std::mem::take(&mut sql));
        }
        if sql.is_empty() {
            sql.push_str(&prefix);
        } else {
            sql.push(',');
        }
        sql.push_str(&row_text);
    }
    if !sql.is_empty() {
        sql.push_str(suffix);
        out.push(sql);
    }
    out
}

fn render_update(
    dialect: &dyn Dialect,
    table: &str,
    set: &[(String, Value)],
    key: &[(String, Value)],
) -> String {
    let split =
        |pairs: &[(String, Value)]| -> (Vec<String>, Vec<Value>) { pairs.iter().cloned().unzip() };
    let (set_cols, set_vals) = split(set);
    let (key_cols, key_vals) = split(key);
    crate::dialect::update_sql(
        dialect,
        table,
        (&set_cols, &set_vals),
        (&key_cols, &key_vals),
    )
}

/// `id=3 to id=9`: the keys of the first and last rows of a statement; None for a table
/// without a key.
fn key_range(key: &[String], columns: &[String], rows: &[Vec<Value>]) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let idx: Vec<usize> = key
        .iter()
        .map(|k| columns.iter().position(|c| c.eq_ignore_ascii_case(k)))
        .collect::<Option<Vec<_>>>()?;
    let text = |row: &Vec<Value>| {
        key.iter()
            .zip(&idx)
            .map(|(k, &i)| format!("{k}={}", row[i].display()))
            .collect::<Vec<_>>()
            .join(",")
    };
    match (rows.first(), rows.last()) {
        (Some(a), Some(b)) if rows.len() > 1 => Some(format!("{} to {}", text(a), text(b))),
        (Some(a), _) => Some(text(a)),
        _ => None,
    }
}

/// After a failed INSERT: the first of its rows whose key the target already holds, as
/// `id=5`, for the error message.
fn conflicting_key(
    target: &mut dyn Target,
    dialect: &dyn Dialect,
    table: &str,
    columns: &[String],
    key: &[String],
    rows: &[Vec<Value>],
) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let idx: Vec<usize> = key
        .iter()
        .map(|k| columns.iter().position(|c| c.eq_ignore_ascii_case(k)))
        .collect::<Option<Vec<_>>>()?;
    for row in rows {
        let cond: Vec<String> = key
            .iter()
            .zip(&idx)
            .map(|(k, &i)| {
                let mut s = format!("{} = ", dialect.quote_ident(k));
                dialect.write_literal(&row[i], &mut s);
                s
            })
            .collect();
        let sql = format!(
            "SELECT 1 FROM {} WHERE {}",
            dialect.quote_ident(table),
            cond.join(" AND ")
        );
        let mut found = false;
        if target
            .query(&sql, "looking for the conflicting key", &mut |_| {
                found = true;
                Ok(())
            })
            .is_err()
        {
            return None;
        }
        if found {
            return Some(
                key.iter()
                    .zip(&idx)
                    .map(|(k, &i)| format!("{k}={}", row[i].display()))
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
    }
    None
}

/// Foreign keys of rows loaded while checks were off (a NOT NULL cycle, or the bulk path into
/// an empty table) that the client could not prove ([`LoadedReferences::unproven`]) are
/// checked by the target here: every reference must find its row.
fn check_references(
    target: &mut dyn Target,
    schema: &Schema,
    foreign_keys: &BTreeMap<String, Vec<usize>>,
) -> Result<()> {
    let dialect = target.dialect();
    let q = |s: &str| dialect.quote_ident(s);
    for (name, indexes) in foreign_keys {
        let Some(t) = schema.table(name) else {
            continue;
        };
        for fk in indexes.iter().filter_map(|&i| t.foreign_keys.get(i)) {
            let not_null: Vec<String> = fk
                .columns
                .iter()
                .map(|c| format!("c.{} IS NOT NULL", q(c)))
                .collect();
            let on: Vec<String> = fk
                .columns
                .iter()
                .zip(&fk.ref_columns)
                .map(|(c, r)| format!("p.{} = c.{}", q(r), q(c)))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {}) LIMIT 1",
                fk.columns
                    .iter()
                    .map(|c| format!("c.{}", q(c)))
                    .collect::<Vec<_>>()
                    .join(", "),
                q(name),
                not_null.join(" AND "),
                q(&fk.ref_table),
                on.join(" AND ")
            );
            let mut dangling: Option<String> = None;
            target.query(
                &sql,
                "checking references loaded with foreign-key checks off",
                &mut |row| {
                    dangling = Some(row.iter().map(Value::display).collect::<Vec<_>>().join(","));
                    Ok(())
                },
            )?;
            if let Some(v) = dangling {
                return Err(Error::Mismatch(format!(
                    "`{name}.{}` = {v} references a row of `{}` that is not there after loading (these rows were \
                     loaded with foreign-key checks off, to load a cycle or in bulk into an empty table). Either the source lacks that row too \
                     (its dump then warned of it: mend the source, or `nullify:` the column in the graph) or the dump is incomplete or was \
                     altered; the import was rolled back.",
                    fk.columns.join(","),
                    fk.ref_table
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_statements_name_their_keys() {
        let cols = vec!["name".to_string(), "id".to_string()];
        let rows = vec![
            vec![Value::Text("a".into()), Value::Int(3)],
            vec![Value::Text("b".into()), Value::Int(9)],
        ];
        assert_eq!(
            key_range(&["id".into()], &cols, &rows).as_deref(),
            Some("id=3 to id=9")
        );
        assert_eq!(
            key_range(&["id".into()], &cols, &rows[..1]).as_deref(),
            Some("id=3")
        );
        assert_eq!(key_range(&["nope".into()], &cols, &rows), None);
        // A table without a key: no range (it read "in the rows with  to ").
        assert_eq!(rows_hint(&[], &cols, &rows), "");
    }
}
