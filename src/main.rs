use std::process::ExitCode;

fn main() -> ExitCode {
    tune_malloc();
    remove_unfinished_files_on_signals();
    match partialdump::cli::run() {
        Ok(code) => code,
        // `partialdump dump | head`: the reader is gone, which is not our failure.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        // As a shell reports a process a signal ended.
        Err(e @ partialdump::error::Error::Interrupted { signal, .. }) => {
            eprintln!("partialdump: {e}");
            ExitCode::from(u8::try_from(128 + signal).unwrap_or(2))
        }
        Err(e) => {
            eprintln!("partialdump: error: {e}");
            // 1 is kept for "ran, and found differences" (verify); 2 means it could not run.
            ExitCode::from(2)
        }
    }
}

/// glibc gives threads malloc arenas of their own (up to 8 a core), and memory freed by one
/// thread goes back to the arena of the thread that allocated it, each arena keeping its
/// high-water mark. The dump allocates rows on the connections' threads; since each
/// connection's thread frees what the walk does not keep (their text, once spooled), more
/// arenas cost the integer benchmark no memory: its large tenant at scale 10 peaked at 114-119
/// MB with 8 and 115-119 MB with one (3 runs each, turn about; it was 20 MB more when the walk
/// freed whole rows); the strings shape of `bench/shapes.py`, which keeps keys of strings, 90
/// MiB against 81. One arena, shared, is locked by every thread for every allocation: the
/// strings shape, which allocates a value per field, took 0.85 s of client CPU with 8 against
/// 1.08 s with one (1.00 s against 1.18 s of wall time, median of 7, turn about); the integer
/// benchmark measured the same. At most 8: the walk runs a thread a connection (4 with `--jobs
/// auto` on MariaDB) beside its own, the writing a thread a core up to 8.
///
/// And blocks of 4 MiB and over always come from mmap and go back to the system when freed.
/// By default glibc raises that threshold (from 128 KiB) each time such a block is freed, up to
/// 32 MiB, after which blocks that size come from the heap and stay there once freed: the key
/// maps' tables, each freed as it doubles. The benchmark's large tenant at scale 10 peaked at
/// 116-124 MiB that way and at 107 MiB with the threshold fixed at 4 MiB, in the same time (at
/// 128 KiB: 103 MiB, but every 1 MiB statement of the output was mapped afresh, 0.5 s more
/// system time).
///
/// Free memory at the top of a heap goes back to the system once there is more than 32 MiB of
/// it, rather than glibc's 128 KiB (it stays at 128 KiB when the mmap threshold is fixed).
/// With 128 KiB the connections' threads gave back what they had just freed (a batch of rows,
/// once spooled) and took it again for the next batch, each page faulted in afresh: 16,600 page
/// faults in the benchmark's large tenant at scale 1 against 9,700 (first touches), and 0.265
/// -> 0.250 s of client CPU (0.378 -> 0.365 s of wall time, medians of 15 runs turn about).
/// Peak RSS is what the dump holds at its fullest either way, give or take what one heap keeps
/// free: 99-101 MB -> 104-113 MB at scale 10. Set before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only tunes the allocator, and no other thread exists yet to allocate
    // concurrently. Its result (0 if the option is unknown) only tells whether it took effect.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 8);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// SIGINT, SIGTERM and SIGHUP (a Ctrl-C, a `kill`, a closed terminal) end the process as they
/// would, with the exit code a shell gives (128 + the signal's number), but first remove an
/// unfinished dump's temporary file, which the signal would leave next to where the dump was
/// to go; an import is asked to stop instead, and rolls back (see `partialdump::interrupt`).
/// Started after the settings above: it is a thread.
fn remove_unfinished_files_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // A signal ignored as the process starts stays ignored (`nohup` ignores SIGHUP, a shell
    // SIGINT for a job it starts in the background).
    let ignored = |signal: i32| {
        // SAFETY: with no new action given, sigaction only reads the current one into `old`,
        // a zeroed sigaction being a valid place for it.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    };
    let handled: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&s| !ignored(s))
        .collect();
    // Without the handler the signals keep their default action, which ends the process.
    let Ok(mut signals) = signal_hook::iterator::Signals::new(handled) else {
        return;
    };
    std::thread::spawn(move || {
        for signal in signals.forever() {
            let name = partialdump::interrupt::signal_name(signal);
            if partialdump::interrupt::request_stop(signal) {
                eprintln!(
                    "partialdump: {name}: stopping, and rolling the import back (send it again \
                     to end at once, leaving the rollback to the server)"
                );
                continue;
            }
            for said in partialdump::interrupt::remove_pending() {
                eprintln!("partialdump: stopped by {name}; {said}");
            }
            std::process::exit(128 + signal);
        }
    });
}
