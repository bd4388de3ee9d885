//! What a signal that stops the process (SIGINT, SIGTERM or SIGHUP: a Ctrl-C, a `kill`, a
//! closed terminal) must not leave behind. `main` handles them:
//! - an import in progress ([`Graceful`]) is asked to stop ([`stop_requested`]): it rolls back
//!   as after any error, and drops the tables it created (MySQL commits a CREATE TABLE at once),
//!   so the target is as it was; a second signal ends the process at once;
//! - otherwise the process ends at once, after removing the files registered ([`Pending`]): the
//!   temporary file a dump is written to before it takes its name.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// The signal that asked to stop, or 0.
static STOP: AtomicI32 = AtomicI32::new(0);

/// How many operations stop by themselves when asked to.
static GRACEFUL: AtomicUsize = AtomicUsize::new(0);

/// An operation that checks [`stop_requested`] and stops cleanly, for as long as this lives.
pub struct Graceful(());

impl Graceful {
    pub fn new() -> Graceful {
        GRACEFUL.fetch_add(1, Ordering::SeqCst);
        Graceful(())
    }
}

impl Default for Graceful {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        GRACEFUL.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Asks the running operations to stop, for `signal`. False when none stops by itself, or one
/// was asked already: the process is then to end at once.
pub fn request_stop(signal: i32) -> bool {
    GRACEFUL.load(Ordering::SeqCst) > 0
        && STOP
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
}

/// The signal that asked the operation to stop, if one did.
pub fn stop_requested() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The name of a signal this handles.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// The files to remove, with what each is for.
static PENDING: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// A file registered for removal for as long as this lives.
pub struct Pending {
    path: PathBuf,
}

impl Pending {
    /// Registers `path`; `what` says what it was to become, for the message.
    pub fn new(path: &Path, what: String) -> Pending {
        PENDING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((path.to_path_buf(), what));
        Pending {
            path: path.to_path_buf(),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(p, _)| p != &self.path);
    }
}

/// Removes every registered file, and keeps any more from being registered meanwhile; returns
/// what each was to become, for the message. For the signal's thread, which then ends the
/// process.
pub fn remove_pending() -> Vec<String> {
    let pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    let said = pending
        .iter()
        .filter_map(|(path, what)| match std::fs::remove_file(path) {
            Ok(()) => Some(format!("removed the unfinished {what}")),
            // Renamed to its own name a moment ago: the dump is complete.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(format!(
                "could not remove the unfinished {what}: {} ({e}); remove it by hand",
                path.display()
            )),
        })
        .collect();
    // Held until the process ends: nothing registers a file that would then stay.
    std::mem::forget(pending);
    said
}
