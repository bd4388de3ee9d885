//! `partialdump dump`: write one referentially complete subset as SQL.

use crate::config;
use crate::dump::{DumpRequest, DumpStats, prepare, run as run_dump};
use crate::engine::{open_source, url::ConnUrl};
use crate::error::{Error, Result};
use crate::sink::SqlWriter;
use clap::Args;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Dump the rows reachable from one or more root rows, in an order that loads with foreign-key
/// checks on.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Database to read: mysql://user[:password]@host[:port]/db (password also from
    /// PARTIALDUMP_PASSWORD) or sqlite:path/to/file.db
    #[arg(long, value_name = "URL")]
    source: String,

    #[command(flatten)]
    subset: SubsetArgs,

    /// Write to FILE (through a temporary file renamed at the end; a FIFO or a device directly)
    /// instead of standard output (`-`, as `import` reads `-` as standard input)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Largest INSERT statement, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_statement_bytes: usize,

    /// Put each table's definition (the source's own CREATE TABLE, with its indexes) in the
    /// dump before the rows, so it loads into an empty database
    #[arg(long)]
    with_schema: bool,

    /// Refuse to start while a column that looks personal has no cleansing rule
    #[arg(long)]
    strict_cleansing: bool,

    /// Derive fake and hashed values from this number instead of a secret (throwaway data)
    #[arg(long, value_name = "N")]
    random_seed: Option<u64>,

    /// Write per-table rows, bytes and seconds as JSON to FILE
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,

    /// Print nothing on standard error unless there is an error
    #[arg(short, long)]
    quiet: bool,
}

/// What selects a subset: the graph, the roots, and how the walk runs. Shared by `dump` and
/// `verify`.
#[derive(Debug, Args)]
pub struct SubsetArgs {
    /// The YAML relationship graph (see docs/graph-format.md)
    #[arg(long, value_name = "FILE")]
    pub graph: PathBuf,

    /// A root row: TABLE.COLUMN=VALUE, composite keys as TABLE.C1=V1,C2=V2, a column of bytes in
    /// hex (TABLE.ID=0x00ff) (repeatable)
    #[arg(long, value_name = "TABLE.COL=VALUE")]
    pub root: Vec<String>,

    /// Root rows chosen by a SQL condition: TABLE:CONDITION, e.g. "accounts:region = 'eu'" (repeatable)
    #[arg(long, value_name = "TABLE:SQL")]
    pub root_where: Vec<String>,

    /// Most keys in one lookup query (`IN (...)` list); lists are also kept under the server's
    /// max_allowed_packet, and a lookup of children through an index to a tenth of the child's
    /// rows (at least 1000 keys)
    #[arg(long, value_name = "KEYS", default_value_t = crate::walk::DEFAULT_BATCH_KEYS)]
    pub batch_size: usize,

    /// Fail instead of turning foreign-key checks off around rows that form a cycle of NOT NULL references
    #[arg(long)]
    pub require_fk_checks: bool,

    /// Read over N connections at once (MySQL/MariaDB). They share one snapshot: a separate
    /// connection holds commits for a moment while they start it (MariaDB 10.4+: BACKUP STAGE
    /// BLOCK_COMMIT, else FLUSH TABLES WITH READ LOCK; needs the RELOAD privilege; waits at
    /// most 10 s). `auto`: 4 on MariaDB 10.4+, where that lock holds commits only, else 1;
    /// and 1, with a note, if the server refuses the lock or it is not free within 2 s.
    /// SQLite reads over one
    #[arg(long, short = 'j', value_name = "N|auto", default_value = "auto")]
    pub jobs: crate::dump::Jobs,

    /// Read rows by index lookups only. By default, when the keys whose children are to find
    /// would look up much of a table (by the source's row estimates; MySQL/MariaDB), the table
    /// is read once by a scan instead, in primary-key ranges over the --jobs connections (more
    /// than 1 MiB of keys go to a temporary table of the session, where the user may create one)
    #[arg(long)]
    pub lookups_only: bool,
}

impl SubsetArgs {
    pub fn request(&self) -> DumpRequest {
        DumpRequest {
            roots: self.root.clone(),
            root_wheres: self.root_where.clone(),
            require_fk_checks: self.require_fk_checks,
            batch_keys: self.batch_size,
            with_schema: false,
            cleanse: None,
            jobs: self.jobs,
            lookups_only: self.lookups_only,
            side: crate::schema::Side::Source,
        }
    }

    /// The roots as the user wrote them, for headers and reports.
    pub fn roots_text(&self) -> String {
        self.root
            .iter()
            .chain(self.root_where.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ; ")
    }
}

pub fn run(args: DumpArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let url = ConnUrl::parse(&args.source)?;
    let graph = config::load(&args.subset.graph)?;
    let stats_file = super::StatsFile::prepare(args.stats_json.as_deref())?;
    let mut source = open_source(&url)?;
    let mut request = args.subset.request();
    request.with_schema = args.with_schema;
    request.cleanse = Some(crate::cleanse::CleanseOptions {
        strict: args.strict_cleansing,
        random_seed: args.random_seed,
        ..Default::default()
    });
    let prepared = prepare(source.as_mut(), &graph, &request)?;
    for w in &prepared.warnings {
        eprintln!("partialdump: warning: {w}");
    }
    let header = vec![
        format!(
            "partialdump {} dump, format {}",
            env!("CARGO_PKG_VERSION"),
            crate::sink::FORMAT
        ),
        format!("source: {}", url.redacted()),
        format!("dialect: {}", source.dialect().name()),
        format!("roots: {}", args.subset.roots_text()),
        format!("graph: {} sha256:{}", graph.path, graph.sha256),
    ];
    let dialect = source.dialect();
    let mut bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let max = args.max_statement_bytes;
    let dump_into = |out: Out, to: &str| {
        let mut writer = SqlWriter::new(out, dialect, max).named(format!("the dump to {to}"));
        let stats = run_dump(source.as_mut(), &prepared, header, &mut writer, &mut bar)?;
        Ok::<_, Error>((stats, writer.into_inner()?))
    };
    let flushed = |mut out: Out, to: &str| {
        out.flush().map_err(|source| Error::Output {
            what: format!("the dump to {to}"),
            source,
        })
    };
    let output_path = args.output.as_ref().filter(|p| p.as_os_str() != "-");
    let (stats, target) = match output_path {
        // A FIFO or a device (`-o /dev/null`) is written to as it is: renaming a file over it
        // would replace it.
        Some(path) if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) => {
            let what = path.display().to_string();
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|source| Error::Output {
                    what: what.clone(),
                    source,
                })?;
            let (stats, out) = dump_into(output(file), &what)?;
            flushed(out, &what)?;
            (stats, what)
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let mut builder = tempfile::Builder::new();
            builder.prefix(".partialdump-").suffix(".partial");
            #[cfg(unix)]
            {
                // A dump is an ordinary file once renamed (tempfile's default is owner-only).
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o644));
            }
            let beside = || {
                format!(
                    "the dump to {} (through a temporary file beside it)",
                    path.display()
                )
            };
            // A missing directory in the system's words, without tempfile's name for the file.
            std::fs::metadata(&dir).map_err(|source| Error::Output {
                what: beside(),
                source,
            })?;
            let tmp = builder.tempfile_in(&dir).map_err(|e| Error::Output {
                what: beside(),
                source: std::io::Error::new(e.kind(), e.kind().to_string()),
            })?;
            // Removed if a signal stops the process, which runs no destructor.
            let _pending = crate::interrupt::Pending::new(
                tmp.path(),
                format!("dump {} (nothing was written there)", path.display()),
            );
            // The temporary file is written through a second handle and stays owned here, so
            // it is removed if anything fails.
            let handle = tmp.reopen().map_err(|source| Error::Output {
                what: format!("a temporary file in {}", dir.display()),
                source,
            })?;
            let (stats, out) = dump_into(
                output(WrittenBack::new(handle)),
                &path.display().to_string(),
            )?;
            flushed(out, &path.display().to_string())?;
            persist(tmp, path)?;
            (stats, path.display().to_string())
        }
        None => {
            let (stats, out) = dump_into(output(std::io::stdout()), "standard output")?;
            flushed(out, "standard output")?;
            (stats, "standard output".to_string())
        }
    };
    bar.finish();
    let stats = DumpStats {
        peak_memory_bytes: super::peak_memory_bytes(),
        ..stats
    };
    if let Some(file) = stats_file {
        file.write(&stats, "the dump itself is complete")?;
    }
    // Said as the warnings before the dump are, with --quiet too: the file may not load.
    for w in &stats.warnings {
        eprintln!("partialdump: warning: {w}");
    }
    if !args.quiet {
        if let Some(note) = &stats.note {
            eprintln!("partialdump: note: {note}");
        }
        eprintln!(
            "partialdump: wrote {} rows from {} tables to {} in {:.2}s",
            stats.rows,
            stats.tables.iter().filter(|t| t.rows > 0).count(),
            target,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress on stderr, shown only when stderr is a terminal: while the walk reads, the rows of
/// the subset read so far, rows/s and the table the last came from; then a bar of the rows
/// written, rows/s and the table at hand.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(show: bool) -> Bar {
        Bar(show.then(|| {
            let b = indicatif::ProgressBar::new_spinner().with_style(super::progress_style(
                "{spinner} {human_pos} rows read, {rate}{msg} ({elapsed})",
            ));
            // Drawn every 100 ms even while a query sends nothing yet.
            b.enable_steady_tick(std::time::Duration::from_millis(100));
            b
        }))
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl crate::dump::DumpProgress for Bar {
    fn reading(&mut self, table: &str, rows: u64) {
        if let Some(b) = &self.0 {
            b.set_position(rows);
            b.set_message(format!(", last from {table}"));
        }
    }

    fn start(&mut self, rows: u64) {
        if let Some(b) = &self.0 {
            // The rate and the time so far start again for the rows written.
            b.reset();
            b.set_length(rows);
            b.set_style(super::progress_style(
                "{bar:30} {human_pos}/{human_len} rows written, {rate}, {msg}",
            ));
        }
    }

    fn fewer(&mut self, rows: u64) {
        if let Some(b) = &self.0 {
            b.set_length(b.length().unwrap_or(0).saturating_sub(rows));
        }
    }

    fn advance(&mut self, table: &str, done: u64) {
        if let Some(b) = &self.0 {
            b.set_position(done);
            b.set_message(table.to_string());
        }
    }
}

/// Where the dump goes: a file, a device or standard output, buffered.
type Out = BufWriter<Box<dyn Write + Send>>;

fn output(w: impl Write + Send + 'static) -> Out {
    BufWriter::new(Box::new(w))
}

/// A dump file being written, synced to disk every [`WRITE_BACK_EVERY`] bytes by a thread of
/// its own while the dump goes on: `persist` syncs the file before it takes the dump's name,
/// and that sync then has only the last stretch left. On the benchmark's machine (ext4 on a
/// virtual disk) one sync of a 49 MB dump at the end took 40-44 ms, however much of the file the
/// kernel had already written back (`sync_file_range` every 8 MiB, as PostgreSQL's
/// `backend_flush_after` and RocksDB's `bytes_per_sync` do, left it at 40 ms): the cost is the
/// disk's flush of everything not yet synced, so it is paid as the file grows, on the other
/// thread, and the last sync has one stretch left (below).
///
/// Once synced, those bytes leave the page cache (`POSIX_FADV_DONTNEED`), as backup tools
/// (XtraBackup) do with what they write: the file's next pages then reuse the ones just freed,
/// and the dump holds at most about two stretches of its output in the cache, not all of it.
/// Memory the kernel has not touched lately costs far more to fill: on the virtual machines of
/// the benchmarks, which hand free memory back to their host, writing 500 MB into the page
/// cache took 1.3-2.7 s of system time after a large file had come and gone, and 0.09 s into
/// pages freed a moment before.
struct WrittenBack {
    file: std::fs::File,
    written: u64,
    synced: u64,
    /// Asks the syncing thread to sync the file's first bytes, as many as were written then (a
    /// full channel: one is pending, which will do).
    sync: Option<std::sync::mpsc::SyncSender<u64>>,
    syncer: Option<std::thread::JoinHandle<()>>,
}

/// The final sync, which the dump waits for, then has at most this much left to write: it took
/// 3.9-4.5 ms every 8 MiB (the benchmark's large tenant, 51 MB, ext4 on a virtual disk), 2.1 ms
/// every 4 MiB and 0.9-1.2 ms every 2 MiB (RocksDB's `bytes_per_sync` is 1 MiB); the syncs
/// before it run beside the dump, on the syncing thread.
const WRITE_BACK_EVERY: u64 = 2 << 20;

impl WrittenBack {
    fn new(file: std::fs::File) -> WrittenBack {
        // Without a second handle (or a thread) the file is synced only at the end.
        let (sync, syncer) = match file.try_clone() {
            Ok(other) => {
                let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1);
                let spawned =
                    std::thread::Builder::new()
                        .name("dump-sync".into())
                        .spawn(move || {
                            // A failed sync is reported by the final one (`persist`), through the
                            // handle the file was created with: the kernel reports a write-back
                            // error to every handle open when it happened.
                            for written in rx {
                                if other.sync_data().is_err() {
                                    break;
                                }
                                drop_cached(&other, written);
                            }
                        });
                match spawned {
                    Ok(handle) => (Some(tx), Some(handle)),
                    Err(_) => (None, None),
                }
            }
            Err(_) => (None, None),
        };
        WrittenBack {
            file,
            written: 0,
            synced: 0,
            sync,
            syncer,
        }
    }
}

impl Write for WrittenBack {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.synced >= WRITE_BACK_EVERY {
            if let Some(sync) = &self.sync {
                // Full: a sync is pending and covers these bytes too; gone: the thread
                // stopped, and the final sync does it all.
                let _ = sync.try_send(self.written);
            }
            self.synced = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for WrittenBack {
    /// Stops the syncing thread, after the sync it is doing, before the final one starts.
    fn drop(&mut self) {
        self.sync = None;
        if let Some(handle) = self.syncer.take() {
            let _ = handle.join();
        }
    }
}

/// Lets the page cache drop the first `len` bytes of `file`, written out to disk already (clean
/// pages go; a page still dirty stays). Only a hint: where the system has no such call, nothing.
fn drop_cached(file: &std::fs::File, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(len).unwrap_or(libc::off_t::MAX);
        // SAFETY: a plain system call on a descriptor `file` holds open; it touches no memory
        // of this process. Its result is advice taken or not, either way harmless.
        let _ = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, len, libc::POSIX_FADV_DONTNEED) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
}

fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    tmp.as_file().sync_all().map_err(|source| Error::Output {
        what: path.display().to_string(),
        source,
    })?;
    tmp.persist(path).map_err(|e| Error::Output {
        what: path.display().to_string(),
        source: e.error,
    })?;
    Ok(())
}
