//! The one error type of the library.
//!
//! Every variant renders as one paragraph that says what went wrong, where (a file with
//! line and column, a `table.column`, a redacted connection URL) and what to do about it.
//! Only `main` prints errors; library code returns them. Passwords never reach a message:
//! connection errors carry the URL through [`crate::engine::url::ConnUrl::redacted`].

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The YAML graph file cannot be read, does not parse, or names something that is not there.
    #[error("{path}:{line}:{column}: {message}")]
    Config {
        path: String,
        line: u64,
        column: u64,
        message: String,
    },

    /// The graph file could not be opened.
    #[error("cannot read the graph file {path}: {source}. Check the path given to --graph.")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The relationship graph is well-formed YAML but cannot be planned (an edge to a skipped
    /// table, a cycle that cannot be broken, a table without a key, ...).
    #[error("{0}")]
    Plan(String),

    /// A command-line argument is malformed.
    #[error("{0}")]
    Usage(String),

    /// A connection URL is malformed. The URL in the message has its password removed.
    #[error("bad connection URL {url}: {reason}")]
    Url { url: String, reason: String },

    /// The database could not be reached or refused the login.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },

    /// A query failed on the source. `context` says what the query was for.
    #[error("{context} failed on {url}: {reason}")]
    Query {
        url: String,
        context: String,
        reason: String,
    },

    /// A root given with --root or --root-where matched no row.
    #[error(
        "root {root} matched no row in the source {url}. Check the table, column and value \
         (the source is read as it is now, inside the dump's snapshot)."
    )]
    RootNotFound { root: String, url: String },

    /// A dump being imported is malformed, truncated, tampered with, or holds a statement
    /// partialdump does not write.
    #[error("{path}:{line}: {message}")]
    Dump {
        path: String,
        line: u64,
        message: String,
    },

    /// The target refused a statement of the dump; everything was rolled back.
    #[error(
        "statement {statement} (line {line}) into table `{table}` failed on {url}: {reason}. \
         The import was rolled back; the target is as it was before."
    )]
    Import {
        url: String,
        statement: u64,
        line: u64,
        table: String,
        reason: String,
    },

    /// The dump does not fit the target's tables.
    #[error("{0}")]
    Mismatch(String),

    /// The temporary file holding the rows read so far cannot be written or read.
    #[error(
        "cannot use the temporary file that holds the rows read so far (in {dir}): {source}. \
         A dump needs free space about its own size there; point TMPDIR at a directory with room."
    )]
    Spool { dir: String, source: std::io::Error },

    /// Writing the dump failed.
    #[error("cannot write {what}: {source}")]
    Output {
        what: String,
        source: std::io::Error,
    },

    /// A signal asked the operation to stop, and it did, leaving nothing behind.
    #[error("stopped by {}: {what}", crate::interrupt::signal_name(*signal))]
    Interrupted { signal: i32, what: String },

    /// Reading a file or standard input failed; `hint` says what to do.
    #[error("cannot read {what}: {source}.{hint}")]
    Input {
        what: String,
        source: std::io::Error,
        hint: &'static str,
    },
}

impl Error {
    /// True when the error is a broken pipe on the output (`partialdump dump | head`):
    /// the reader went away, which is not a failure of the dump.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Returns the candidate closest to `name` when it is close enough to be a likely typo,
/// for "did you mean" hints.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, c)| (*d, c.to_string()))
        .map(|(_, c)| c)
}

/// " Did you mean `x`?" or an empty string.
pub fn hint(name: &str, candidates: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let owned: Vec<String> = candidates
        .into_iter()
        .map(|c| c.as_ref().to_string())
        .collect();
    match did_you_mean(name, owned.iter().map(String::as_str)) {
        Some(s) => format!(" Did you mean `{s}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("acounts", ["accounts", "users"]),
            Some("accounts")
        );
        assert_eq!(did_you_mean("Users", ["accounts", "users"]), Some("users"));
        assert_eq!(did_you_mean("invoices", ["accounts", "users"]), None);
    }
}
