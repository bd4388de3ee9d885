//! Cleansing: rewrite sensitive columns while rows stream out, deterministically.
//!
//! The output for a value is a function of the secret, the rule and the value alone: an HMAC
//! of the three seeds the generator, so the same email in `users.email` and
//! `invitations.email` becomes the same fake, a rerun with the same secret writes the same
//! bytes, and another secret writes other values. A rule on a key column is applied to every
//! column that references it, so foreign keys still match. Where a column must stay unique,
//! collisions are resolved deterministically (the next attempt of the same derivation). No rule
//! ever writes the original value back.

pub mod fakes;
pub mod spec;

use crate::config::{LoadedGraph, Pos};
use crate::dialect::write_temporal;
use crate::engine::value::{Value, hex};
use crate::error::{Error, Result, hint};
use crate::graph::Model;
use crate::schema::{Column, Holds, Schema};
use crate::verify::canonical;
use fake::rand::rngs::ChaCha8Rng;
use fake::rand::{RngExt, SeedableRng};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use spec::{HashSpec, Rule};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Words that make a column name look personal (those of 4 letters or more also as the start
/// or end of a word: `birthdate`, `username`).
const PERSONAL: &[&str] = &[
    "email", "phone", "mobile", "name", "address", "street", "zip", "postcode", "ip", "ssn",
    "passport", "birth", "dob", "iban", "card", "token", "secret", "password",
];

/// Words that make a column name look personal only as whole words: WordPress's `user_pass`
/// (a password hash) and `comment_author` (a name), not `passenger` or `authority`.
const PERSONAL_WORDS: &[&str] = &["pass", "pwd", "author"];

/// Words that make a column name look personal as its last word: the parts of a name
/// (TPC-C's `c_first`, `c_middle` and `c_last`, a `names (first, last)` table), not
/// `first_seen` or `last_login`.
const PERSONAL_LAST_WORDS: &[&str] = &["first", "middle", "last", "surname", "forename"];

/// Last words that make a column name tell of a personal thing rather than hold it: when an
/// email was verified (Laravel's `email_verified_at`, MediaWiki's `user_email_authenticated`),
/// how many phones there are. Not an expiry: a card's expiry date goes with its number.
const ABOUT_WORDS: &[&str] = &[
    "at",
    "on",
    "verified",
    "authenticated",
    "confirmed",
    "changed",
    "count",
    "touched",
    "sent",
    "enabled",
];

/// Personal words that no whole number holds as such (an `email_count INT`, a `post_author
/// BIGINT` naming a user), unlike a phone number, a postcode or a PIN.
const NOT_IN_NUMBERS: &[&str] = &[
    "email", "name", "address", "street", "author", "first", "middle", "last", "surname",
    "forename",
];

/// Words before `address` that make it a machine's, not a person's: where something is kept
/// (MediaWiki's `content_address`, `tt:123`, the row holding a revision's text), or a server's
/// own. An IP, MAC or email address stays personal.
const MACHINE_ADDRESS_WORDS: &[&str] = &[
    "content", "storage", "blob", "memory", "object", "file", "cache", "node", "server", "listen",
    "bind", "contract",
];

/// The personal words a column name holds (split at `_`, `-`, spaces and case changes): each
/// word is, or starts or ends with, one of [`PERSONAL`] (short ones must match exactly), or is
/// one of [`PERSONAL_WORDS`]; and its last word, when one of [`PERSONAL_LAST_WORDS`].
fn personal_words(column: &str) -> Vec<&'static str> {
    let words = name_words(column);
    if words.len() > 1
        && words
            .last()
            .is_some_and(|w| ABOUT_WORDS.contains(&w.as_str()))
    {
        return Vec::new();
    }
    let mut found: Vec<&'static str> = PERSONAL
        .iter()
        .filter(|p| {
            words
                .iter()
                .any(|w| w == *p || (p.len() >= 4 && (w.starts_with(*p) || w.ends_with(*p))))
        })
        .chain(
            PERSONAL_WORDS
                .iter()
                .filter(|p| words.iter().any(|w| w == *p)),
        )
        .chain(
            PERSONAL_LAST_WORDS
                .iter()
                .filter(|p| words.last().is_some_and(|w| w == *p)),
        )
        .copied()
        .collect();
    // `address` only right after a word naming where a machine keeps something: every word
    // holding it is the word `address`, after such a word.
    let machine_address = |i: usize| {
        words[i] == "address" && i > 0 && MACHINE_ADDRESS_WORDS.contains(&words[i - 1].as_str())
    };
    if (0..words.len())
        .filter(|&i| words[i].contains("address"))
        .all(machine_address)
    {
        found.retain(|&p| p != "address");
    }
    found.dedup();
    found
}

/// Whether a column name looks like it holds personal data ([`personal_words`]).
pub fn looks_personal(column: &str) -> bool {
    !personal_words(column).is_empty()
}

/// Whether a column looks like it holds personal data: its name does ([`looks_personal`]),
/// and it is not a whole number named as an identifier (`address_id`, `emailId`), whose values
/// only name rows (Sakila's `customer.address_id` and `address.address_id` hold no address),
/// nor one whose personal words no number holds ([`NOT_IN_NUMBERS`]: `email_count`).
pub fn column_looks_personal(column: &Column) -> bool {
    let words = personal_words(&column.name);
    if words.is_empty() {
        return false;
    }
    !(is_whole_number_type(&column.data_type)
        && (name_words(&column.name).last().is_some_and(|w| w == "id")
            || words.iter().all(|w| NOT_IN_NUMBERS.contains(w))))
}

/// A rule to start from for a column that looks personal ([`column_looks_personal`]), by what
/// its name says it holds and its type: what `check` offers to write.
pub fn suggested_rule(column: &Column) -> &'static str {
    let words = personal_words(&column.name);
    let has = |w: &str| words.contains(&w);
    let name = column.name.to_lowercase();
    if column.holds_only == Some(Holds::Dates) || has("birth") || has("dob") {
        "{date_shift: {days: 180}}"
    } else if has("password") || has("pass") || has("pwd") || has("token") || has("secret") {
        match column.nullable {
            true => "null",
            false => "{hash: hex}",
        }
    } else if has("email") {
        "{fake: email}"
    } else if has("phone") || has("mobile") {
        "{mask: {keep_last: 2}}"
    } else if has("ssn") {
        "{hash: \"###-##-####\"}"
    } else if has("iban") {
        "{fake: iban}"
    } else if has("card") {
        "{fake: credit_card}"
    } else if has("ip") {
        "{fake: ipv4}"
    } else if name.contains("url") {
        "{fake: url}"
    } else if has("zip") || has("postcode") {
        "{fake: postcode}"
    } else if has("address") || has("street") {
        "{fake: street_address}"
    } else if has("middle") {
        // A middle name or initial (TPC-C's CHAR(2) `c_middle`): a rule of its own, which a
        // short column does not cut the first names of the others down to.
        "{mask: {}}"
    } else if name.contains("first") || name.contains("given") {
        "{fake: first_name}"
    } else if name.contains("last") || name.contains("surname") || name.contains("family") {
        "{fake: last_name}"
    } else if ["real", "full"]
        .iter()
        .any(|w| name_words(&column.name).iter().any(|n| n == w))
    {
        // A person's name beside a user's (MediaWiki's `user_real_name`).
        "{fake: name}"
    } else if name.contains("user") || name.contains("nick") || name.contains("login") {
        "{fake: username}"
    } else if has("name") || has("author") {
        "{fake: name}"
    } else {
        "{hash: hex}"
    }
}

/// MySQL's integer types, and SQLite's declared ones of integer affinity named the usual ways.
fn is_whole_number_type(data_type: &str) -> bool {
    let first = data_type.split([' ', '(']).next().unwrap_or_default();
    matches!(
        first,
        "tinyint"
            | "smallint"
            | "mediumint"
            | "int"
            | "integer"
            | "bigint"
            | "int2"
            | "int4"
            | "int8"
    )
}

/// A column name's words, lower case: split at `_`, `-`, spaces and lower-to-upper case changes.
fn name_words(column: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in column.chars() {
        if (c == '_' || c == '-' || c == ' ' || (c.is_uppercase() && prev_lower)) && !cur.is_empty()
        {
            words.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// How `dump` was asked to cleanse.
#[derive(Debug, Clone, Default)]
pub struct CleanseOptions {
    /// `--strict-cleansing`: refuse while a personal-looking column has no rule.
    pub strict: bool,
    /// `--random-seed N`: throwaway data without a secret.
    pub random_seed: Option<u64>,
    /// For `check`, which reports every unruled column as a finding of its own ([`unruled`]):
    /// strictness, asked for here or in the graph file, is no error.
    pub strictness_reported_apart: bool,
}

/// A rule ready to run.
#[derive(Debug, Clone)]
enum Compiled {
    Keep,
    Null,
    Value(Value),
    Fake {
        kind: String,
        locale: String,
    },
    Hash {
        format: String,
        length: usize,
        max: Option<u64>,
    },
    Regex {
        re: regex::Regex,
        replace: Box<(Compiled, String)>,
    },
    Mask {
        keep_first: usize,
        keep_last: usize,
    },
    DateShift {
        days: u32,
    },
    Template(Vec<(bool, String)>),
    Json(Vec<(Vec<PathStep>, Compiled, String)>),
    /// Per case: the columns and the values (as text) any of which each must hold, the rule
    /// and its domain.
    Cases(Vec<CaseRule>),
}

/// One case of a `cases` rule, compiled ([`Compiled::Cases`]).
#[derive(Debug, Clone)]
struct CaseRule {
    when: Vec<(String, Vec<String>)>,
    rule: Compiled,
    domain: String,
}

impl CaseRule {
    /// Whether the row (`columns`, `values`, as they came) meets the case's conditions.
    fn holds(&self, columns: &[String], values: &[Value]) -> bool {
        self.when.iter().all(|(column, any)| {
            columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(column))
                .and_then(|j| text_of(&values[j]))
                .is_some_and(|v| any.contains(&v))
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PathStep {
    Key(String),
    Index(usize),
    All,
}

#[derive(Debug, Clone)]
struct ColumnRule {
    compiled: Compiled,
    /// The rule's identity: same domain, same mapping.
    domain: String,
    /// The largest number every column of its domain holds, for `hash: number`.
    max: u64,
    /// What differences between texts the column's collation ignores.
    fold: Fold,
    /// The most text its outputs may hold: that of the shortest column of its domain.
    fit: Fit,
}

/// The most text a rule's output may hold: the fewest characters (CHAR, VARCHAR) and bytes
/// (TEXT) among the MySQL columns it writes. All the columns of one domain take the same
/// limit, so that they still get the same output for the same value (a join on a fake email
/// still matches where one side's column is shorter).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Fit {
    chars: Option<u64>,
    bytes: Option<u64>,
    /// The last character its character set holds (`latin1`: U+00FF).
    last: Option<char>,
    /// Within a MySQL TIMESTAMP's range, 1970-01-01 00:00:01 to 2038-01-19 03:14:07 (UTC,
    /// the time zone of the dump's sessions): a date shifted past either end is refused there.
    timestamp: bool,
}

impl Fit {
    fn of(column: &crate::schema::Column) -> Fit {
        Fit {
            chars: column.max_chars,
            bytes: column.max_bytes,
            last: match column.charset.as_deref() {
                Some("ascii") => Some('\u{7f}'),
                Some("latin1") => Some('\u{ff}'),
                Some("utf8mb3" | "utf8" | "ucs2") => Some('\u{ffff}'),
                _ => None,
            },
            timestamp: column.holds_only == Some(crate::schema::Holds::Dates)
                && column.data_type == "timestamp",
        }
    }

    /// The tighter of two limits, each way.
    fn and(self, other: Fit) -> Fit {
        let least = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Fit {
            chars: least(self.chars, other.chars),
            bytes: least(self.bytes, other.bytes),
            last: match (self.last, other.last) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            timestamp: self.timestamp || other.timestamp,
        }
    }

    /// Whether `v`, derived from `original`, fits. A date is held to a TIMESTAMP's range only
    /// where `original` was within it: one from outside came from another column of the domain
    /// (a DATE of 9999-12-31), and it keeps its output in every column.
    fn holds(&self, v: &Value, original: &Value) -> bool {
        match v {
            Value::Text(t) => self.holds_text(t),
            _ if self.timestamp => in_timestamp_range(v) || !in_timestamp_range(original),
            _ => true,
        }
    }

    fn holds_text(&self, t: &str) -> bool {
        self.bytes.is_none_or(|n| t.len() as u64 <= n)
            && self
                .chars
                .is_none_or(|n| t.len() as u64 <= n || t.chars().count() as u64 <= n)
            && self.last.is_none_or(|last| t.chars().all(|c| c <= last))
    }

    /// The longest start of `text` that fits (whole characters), without the characters its
    /// character set lacks.
    fn cut(&self, text: &str) -> String {
        let mut out = String::new();
        for (n, c) in text
            .chars()
            .filter(|&c| self.last.is_none_or(|last| c <= last))
            .enumerate()
        {
            if self.chars.is_some_and(|max| n as u64 >= max)
                || self
                    .bytes
                    .is_some_and(|max| (out.len() + c.len_utf8()) as u64 > max)
            {
                break;
            }
            out.push(c);
        }
        out
    }

    /// `v`, cut to fit where it is a text too long.
    fn fitted(&self, v: Value) -> Value {
        match v {
            Value::Text(t) if !self.holds_text(&t) => Value::Text(self.cut(&t)),
            other => other,
        }
    }
}

/// Whether a template written into `column`, which must keep rows apart in `index`, does:
/// the columns it names, with the index's others, hold a unique index without `column`
/// (`user-{id}`; `{email}` under `UNIQUE (tenant_id, nick)` beside `UNIQUE (tenant_id, email)`),
/// so rows alike in the index's other columns name different values; named columns of that
/// index must be NOT NULL. (The values it names are cleansed first, and cleansed unique columns
/// stay distinct.)
fn template_keeps_apart(
    table: &crate::schema::Table,
    column: &str,
    index: &[String],
    template: &str,
) -> bool {
    let parts = parse_template(template);
    let named: Vec<&str> = parts
        .iter()
        .filter(|(is_col, c)| *is_col && !c.eq_ignore_ascii_case(column))
        .map(|(_, c)| c.as_str())
        .collect();
    let in_index = |c: &str| {
        index
            .iter()
            .any(|i| i.eq_ignore_ascii_case(c) && !i.eq_ignore_ascii_case(column))
    };
    // A named column holding NULL writes nothing, as in every other row holding NULL there.
    let named_not_null = |c: &str| {
        named.iter().any(|n| n.eq_ignore_ascii_case(c))
            && table.column(c).is_some_and(|col| !col.nullable)
    };
    table
        .unique
        .iter()
        .any(|v| !v.is_empty() && v.iter().all(|c| in_index(c) || named_not_null(c)))
}

/// The `hash` pattern of a UUID, which writes a random (version 4) UUID.
const UUID_PATTERN: &str = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/// Why `rule` cannot write `column` what it holds, found before any row is read: a rule other
/// than a member, NULL or keep on an ENUM or SET; a constant longer than the column holds; a
/// hash with more characters. (Outputs of varying length are fitted as they come.)
fn unfit_rule(rule: &Rule, column: &crate::schema::Column) -> Option<String> {
    if let Rule::Cases(cases) = rule {
        return cases.iter().find_map(|c| unfit_rule(&c.rule, column));
    }
    if let Some(members) = &column.members {
        let what = if column.data_type == "set" {
            "a SET"
        } else {
            "an ENUM"
        };
        let listed = members
            .iter()
            .map(|m| format!("'{m}'"))
            .collect::<Vec<_>>()
            .join(", ");
        // Spelled as the member is: the target would store another spelling as the member's
        // (and `verify` would then find the copy different).
        let member = |v: &str| members.iter().any(|m| m == v);
        return match rule {
            Rule::Keep | Rule::Null => None,
            Rule::Value(v) => {
                let text = text_of(&v.0).unwrap_or_default();
                let ok = if column.data_type == "set" {
                    text.is_empty() || text.split(',').all(member)
                } else {
                    member(&text)
                };
                (!ok).then(|| {
                    format!(
                        "is {what} of {listed}: the value '{text}' is not one of them as they are spelled, so the \
                         target would refuse it or store another.{} Give one of them",
                        hint(&text, members.iter().map(String::as_str))
                    )
                })
            }
            other => Some(format!(
                "is {what} of {listed}: a `{}` rule writes values that are none of them, so the target would \
                 refuse them. Use `value` with one of them, `null` (where the column is nullable) or `keep`",
                other.kind()
            )),
        };
    }
    if let Some(holds) = column.holds_only {
        let fits = match (holds, rule) {
            (Holds::Numbers, Rule::Value(v)) => match &v.0 {
                Value::Text(t) => t.trim().parse::<f64>().is_ok(),
                _ => true,
            },
            (_, Rule::Keep | Rule::Null | Rule::Value(_)) => true,
            (Holds::Numbers, Rule::Mask(_)) => true,
            (Holds::Numbers, Rule::Hash(h)) => {
                h.format == "number" || h.format.chars().all(|c| c == '#')
            }
            (Holds::Dates, Rule::DateShift(_)) => true,
            // A regex rewrites matches inside the document (an email in a string), which stays
            // JSON while what it writes holds no quote or backslash, as fakes do not.
            (Holds::Json, Rule::Json(_) | Rule::Regex(_)) => true,
            (Holds::Uuid, Rule::Hash(h)) => h.format == UUID_PATTERN,
            _ => false,
        };
        let fits = fits
            && match (holds, rule) {
                (Holds::Json, Rule::Value(v)) => text_of(&v.0)
                    .is_some_and(|t| serde_json::from_str::<serde_json::Value>(&t).is_ok()),
                _ => true,
            };
        if !fits {
            let (what, instead) = match holds {
                Holds::Numbers => ("numbers".to_string(), "`hash: number`, `mask`, `value`"),
                Holds::Dates => ("dates".to_string(), "`date_shift`, `value`"),
                Holds::Other => (
                    format!("{} values", column.data_type.to_uppercase()),
                    "`value`",
                ),
                Holds::Json => (
                    "JSON documents".to_string(),
                    "`json` paths (`{json: {\"$.email\": {fake: email}}}`), `regex`, a `value` that is JSON",
                ),
                Holds::Uuid => (
                    "UUIDs".to_string(),
                    "`hash: \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"`, `value`",
                ),
            };
            let kind = match holds {
                Holds::Json => "JSON".to_string(),
                _ => column.data_type.to_uppercase(),
            };
            let a = match kind.starts_with(['A', 'E', 'I', 'O']) {
                true => "an",
                false => "a",
            };
            return Some(format!(
                "is {a} {kind} column: a `{}` rule writes values that are no {what}, so the target would refuse \
                 them. Use {instead}, `null` (where the column is nullable) or `keep`",
                rule.kind()
            ));
        }
    }
    if let Rule::Hash(HashSpec {
        max: Some(asked), ..
    }) = rule
    {
        let most = max_for(column);
        if *asked > most {
            return Some(format!(
                "holds numbers up to {most}, less than the hash's `max` of {asked}. Give a `max` of at most {most}, \
                 or leave it out for that"
            ));
        }
    }
    let fit = Fit::of(column);
    let limit = match (column.max_chars, column.max_bytes) {
        (Some(n), _) => format!("holds at most {n} characters"),
        (None, Some(n)) => format!("holds at most {n} bytes"),
        (None, None) => String::new(),
    };
    match rule {
        Rule::Value(v) => match &v.0 {
            Value::Text(t) if fit.last.is_some_and(|last| t.chars().any(|c| c > last)) => {
                Some(format!(
                    "is in {}, which lacks characters of the value given. Give one it holds",
                    column.charset.as_deref().unwrap_or("its character set")
                ))
            }
            Value::Text(t) if !fit.holds_text(t) => Some(format!(
                "{limit}, and the value given is longer ({} characters, {} bytes). Give a shorter one",
                t.chars().count(),
                t.len()
            )),
            _ => None,
        },
        Rule::Hash(h) => {
            let chars = match h.format.as_str() {
                "hex" => h.length.unwrap_or(16),
                "number" => return None,
                pattern => pattern.chars().count(),
            };
            (!fit.holds_text(&"0".repeat(chars))).then(|| {
                format!(
                    "{limit}, fewer than the hash's {chars}. Give the hash a shorter `length` (hex) or pattern"
                )
            })
        }
        _ => None,
    }
}

/// The differences between two texts a column's collation ignores. Values it holds equal must
/// cleanse to one value: a reference holding its parent's email in capitals (which a foreign
/// key on a case-insensitive column accepts) must still name the parent's cleansed email.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Fold {
    /// Letters compare without case: of ASCII only (SQLite's NOCASE), or of every script.
    case: Option<Case>,
    /// Trailing spaces are ignored (MySQL's PAD SPACE collations, SQLite's RTRIM).
    trailing_spaces: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Ascii,
    Unicode,
}

impl Fold {
    /// Of a column's collation, as the schema names it (lower case): SQLite's `binary`,
    /// `nocase` and `rtrim`; MySQL's and MariaDB's `<charset>_..._ci` (case-insensitive),
    /// `_cs`/`_bin` (not), all PAD SPACE but the `nopad` ones and MySQL 8's `_0900_` ones.
    /// Accents are not folded: a reference differing from its parent only in accents (which
    /// `utf8mb4_general_ci` accepts) still cleanses to another value.
    fn of(collation: Option<&str>) -> Fold {
        match collation {
            None | Some("binary") => Fold::default(),
            Some("nocase") => Fold {
                case: Some(Case::Ascii),
                trailing_spaces: false,
            },
            Some("rtrim") => Fold {
                case: None,
                trailing_spaces: true,
            },
            Some(c) if c.contains('_') => Fold {
                case: c.ends_with("_ci").then_some(Case::Unicode),
                trailing_spaces: !c.contains("nopad") && !c.contains("_0900_"),
            },
            // A collation the application defined: its rules are unknown.
            Some(_) => Fold::default(),
        }
    }

    /// `v` as the collation sees it, when it sees it otherwise than as it is.
    fn apply(self, v: &Value) -> Option<Value> {
        let Value::Text(t) = v else {
            return None;
        };
        if self == Fold::default() {
            return None;
        }
        let t = match self.trailing_spaces {
            true => t.trim_end_matches(' '),
            false => t.as_str(),
        };
        let folded = match self.case {
            Some(Case::Unicode) => t.to_lowercase(),
            Some(Case::Ascii) => t.to_ascii_lowercase(),
            None => t.to_string(),
        };
        Some(Value::Text(folded))
    }
}

/// A resolved rule and where it came from, for messages.
#[derive(Debug, Clone)]
struct Placed {
    rule: Rule,
    origin: String,
    /// Whether a pattern matched the column (rather than a rule naming it).
    by_pattern: bool,
}

/// The rule of each of some columns of a table, in their order (None: the column is kept).
struct ColumnRules {
    table: String,
    columns: Vec<String>,
    rules: Vec<Option<Arc<ColumnRule>>>,
}

/// The resolved rules of one dump, and the state that keeps unique columns unique.
pub struct Cleanser {
    /// HMAC-SHA256 keyed with the secret, cloned for each value: keying it again for every
    /// value hashed the secret twice more (the benchmark's cleansed large tenant spent 11% of
    /// writing its rows in SHA-256).
    keyed: Hmac<Sha256>,
    /// table -> column (lower case) -> rule. Shared, not copied, with [`Cleanser::apply`]'s
    /// last columns: a copy of a `regex` rule starts without the matcher's cache, which the
    /// next match then builds again. The benchmark's large tenant with its users' names faked,
    /// their bios hashed and its comments' bodies masked by a regex took 0.82 s copying the
    /// rules for every row, 0.48 s sharing them (0.36 s uncleansed; 10 runs each).
    tables: HashMap<String, HashMap<String, Arc<ColumnRule>>>,
    /// The rules of the columns [`Cleanser::apply`] was last given (a table's rows come one
    /// after another).
    last: Option<ColumnRules>,
    /// Domains whose outputs must stay distinct, each with the first column (`table.column`)
    /// that asks it: a unique one, or one telling rows apart in a unique index.
    unique_domains: BTreeMap<String, String>,
    /// domain -> output hash -> original hash
    registries: HashMap<String, HashMap<u64, u64>>,
    /// Why a value could not be cleansed (a unique domain out of numbers), for
    /// [`Cleanser::apply`] to say.
    fault: Option<String>,
    /// Per domain: its columns (`table.column`), the narrowest of them and how many
    /// characters that holds, and how many values no output fitted ([`Cleanser::warnings`]).
    narrow: HashMap<String, Narrow>,
    /// What to say in the dump header.
    pub summary: String,
}

/// The columns of one domain and the narrowest of them, whose limit every output takes.
#[derive(Debug, Default)]
struct Narrow {
    columns: Vec<String>,
    narrowest: String,
    chars: u64,
    /// Values written as the start of a keyed hash, as none of the rule's outputs fitted.
    cut: u64,
}

/// HMAC-SHA256 keyed with `secret`.
fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

/// The largest number `hash: number` may write into the column: its integer type's, a
/// DECIMAL's whole digits', or as many digits as a CHAR or VARCHAR holds.
fn max_for(column: &crate::schema::Column) -> u64 {
    let by_type = match column.data_type.as_str() {
        "tinyint" => 127,
        "smallint" => 32_767,
        "mediumint" => 8_388_607,
        "int" => 2_147_483_647,
        _ => i64::MAX as u64,
    };
    let by_digits = column
        .max_chars
        .and_then(|n| 10u64.checked_pow(u32::try_from(n).ok()?))
        .map_or(u64::MAX, |n| n - 1);
    by_type
        .min(by_digits)
        .min(column.max_number.unwrap_or(u64::MAX))
}

fn parse_path(path: &str) -> Option<Vec<PathStep>> {
    let rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                if key.is_empty() {
                    return None;
                }
                steps.push(PathStep::Key(key));
            }
            '[' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                steps.push(if inner == "*" {
                    PathStep::All
                } else {
                    PathStep::Index(inner.parse().ok()?)
                });
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// What is wrong with a regex, on one line: the crate's message draws the pattern with a caret
/// under the fault, over several lines, then says `error: …`.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    let why = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(&text);
    why.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_template(t: &str) -> Vec<(bool, String)> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push((false, rest[..open].to_string()));
        }
        match rest[open..].find('}') {
            Some(close) => {
                parts.push((true, rest[open + 1..open + close].to_string()));
                rest = &rest[open + close + 1..];
            }
            None => {
                parts.push((false, rest[open..].to_string()));
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        parts.push((false, rest.to_string()));
    }
    parts
}

struct Resolver<'a> {
    graph: &'a LoadedGraph,
    locale: String,
}

impl Resolver<'_> {
    fn err(&self, pos: Pos, msg: String) -> Error {
        self.graph.error_at(pos, msg)
    }

    fn compile(&self, rule: &Rule, pos: Pos, table: &crate::schema::Table) -> Result<Compiled> {
        Ok(match rule {
            Rule::Keep => Compiled::Keep,
            Rule::Null => Compiled::Null,
            Rule::Value(v) => Compiled::Value(v.0.clone()),
            Rule::Fake(kind) => {
                if !fakes::is_kind(kind) {
                    return Err(self.err(
                        pos,
                        format!(
                            "unknown fake kind `{kind}`.{} `partialdump cleansers` lists them all.",
                            fakes::likely_kind(kind)
                                .map(|k| format!(" Did you mean `{k}`?"))
                                .unwrap_or_default()
                        ),
                    ));
                }
                Compiled::Fake {
                    kind: kind.clone(),
                    locale: self.locale.clone(),
                }
            }
            Rule::Hash(HashSpec {
                format,
                length,
                max,
            }) => Compiled::Hash {
                format: format.clone(),
                length: match length.unwrap_or(16) {
                    n @ 1..=64 => n,
                    n => {
                        return Err(self.err(
                            pos,
                            format!(
                                "a hash `length` of {n}: the hex digits of an HMAC-SHA256 are \
                                 1 to 64. Give a length in that range, or leave it out for 16."
                            ),
                        ));
                    }
                },
                max: *max,
            },
            Rule::Regex(r) => {
                let re = regex::Regex::new(&r.pattern).map_err(|e| {
                    self.err(
                        pos,
                        format!(
                            "the regex `{}` does not compile: {}",
                            r.pattern,
                            regex_error(&e)
                        ),
                    )
                })?;
                let sub = self.compile(&r.replace, pos, table)?;
                Compiled::Regex {
                    re,
                    // The domain a column with the same rule has: an email in a text becomes
                    // the fake an email column gives it (and shares its uniqueness).
                    replace: Box::new((sub, format!("{}|{}", r.replace.domain(), self.locale))),
                }
            }
            Rule::Mask(m) => Compiled::Mask {
                keep_first: m.keep_first,
                keep_last: m.keep_last,
            },
            Rule::DateShift(d) => {
                if d.days == 0 {
                    return Err(self.err(pos, "date_shift needs `days` of at least 1".into()));
                }
                Compiled::DateShift { days: d.days }
            }
            Rule::Template(t) => {
                let parts = parse_template(t);
                for (is_col, name) in &parts {
                    if *is_col && table.column(name).is_none() {
                        return Err(self.err(
                            pos,
                            format!(
                                "the template names `{{{name}}}`, which table `{}` does not have.{}",
                                table.name,
                                hint(name, table.columns.iter().map(|c| c.name.as_str()))
                            ),
                        ));
                    }
                }
                Compiled::Template(parts)
            }
            Rule::Json(paths) => {
                let mut out = Vec::new();
                for (p, r) in paths {
                    let steps = parse_path(p).ok_or_else(|| {
                        self.err(pos, format!("`{p}` is not a JSON path like `$.a.b`, `$.items[*].email` or `$.a[0]`"))
                    })?;
                    let domain = format!("{}|{}", r.domain(), self.locale);
                    out.push((steps, self.compile(r, pos, table)?, domain));
                }
                Compiled::Json(out)
            }
            Rule::Cases(cases) => {
                let mut out = Vec::new();
                for case in cases {
                    if matches!(case.rule, Rule::Template(_) | Rule::Cases(_)) {
                        return Err(self.err(
                            pos,
                            format!(
                                "a case's rule is `{}`: give a case a rule of one value (fake, hash, mask, \
                                 date_shift, regex, json, value, null or keep)",
                                case.rule.kind()
                            ),
                        ));
                    }
                    let mut when = Vec::new();
                    for (column, values) in &case.when {
                        if table.column(column).is_none() {
                            return Err(self.err(
                                pos,
                                format!(
                                    "a case's `when` names `{column}`, which table `{}` does not have.{}",
                                    table.name,
                                    hint(column, table.columns.iter().map(|c| c.name.as_str()))
                                ),
                            ));
                        }
                        let texts = values
                            .values()
                            .iter()
                            .filter_map(|v| text_of(&v.0))
                            .collect();
                        when.push((column.clone(), texts));
                    }
                    out.push(CaseRule {
                        when,
                        rule: self.compile(&case.rule, pos, table)?,
                        domain: format!("{}|{}", case.rule.domain(), self.locale),
                    });
                }
                Compiled::Cases(out)
            }
        })
    }
}

/// Why a `cases` rule cannot cleanse `column` (`table.column`), given by `origin`.
fn cases_refused(column: &str, origin: &str) -> String {
    format!(
        "`{column}` must stay unique or is part of a reference, which a `cases` rule cannot keep so \
         ({origin}): give it one rule (fake or hash keep distinct values distinct, and are passed \
         on to the columns of a reference)."
    )
}

/// Rules by (table, lower-case column), as [`explicit_and_pattern_rules`] finds them.
type Rules = BTreeMap<(String, String), (Placed, Pos)>;

/// A rule on a referenced column applies to every column referencing it (a reference must
/// still match its parent): adds those to `rules`; an error where a referencing column has a
/// rule of its own that differs.
fn propagate(graph: &LoadedGraph, model: &Model, rules: &mut Rules) -> Result<()> {
    loop {
        let mut changed = false;
        for r in model.relations.iter().filter(|r| !r.nullified) {
            for (c, p) in r.columns.iter().zip(&r.ref_columns) {
                let Some((parent_rule, pos)) =
                    rules.get(&(r.parent.clone(), p.to_lowercase())).cloned()
                else {
                    continue;
                };
                if parent_rule.rule == Rule::Keep {
                    continue;
                }
                // Its cases name columns of the parent's table, which the referencing one
                // does not have.
                if matches!(parent_rule.rule, Rule::Cases(_)) {
                    return Err(graph.error_at(
                        pos,
                        cases_refused(&format!("{}.{p}", r.parent), &parent_rule.origin),
                    ));
                }
                match rules.get(&(r.child.clone(), c.to_lowercase())) {
                    Some((existing, _)) if existing.rule == parent_rule.rule => {}
                    Some((existing, epos)) if existing.rule != Rule::Keep => {
                        return Err(graph.error_at(
                            *epos,
                            format!(
                                "`{}.{c}` references `{}.{p}`, which is cleansed with {:?} ({}), but it has its own \
                                 rule {:?} ({}): the reference would no longer match. Give both the same rule, or \
                                 remove the one on `{}.{c}`.",
                                r.child, r.parent, parent_rule.rule, parent_rule.origin, existing.rule, existing.origin, r.child
                            ),
                        ));
                    }
                    _ => {
                        rules.insert(
                            (r.child.clone(), c.to_lowercase()),
                            (
                                Placed {
                                    rule: parent_rule.rule.clone(),
                                    origin: format!(
                                        "{} (it references {}.{p})",
                                        parent_rule.origin, r.parent
                                    ),
                                    by_pattern: parent_rule.by_pattern,
                                },
                                pos,
                            ),
                        );
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    // A rule on a referencing column whose parent's column keeps its values: the reference
    // would name a row that is not there (`users.tenant_id` hashed, `tenants.id` kept). NULL
    // names none, so it stays a reference.
    for r in model.relations.iter().filter(|r| !r.nullified) {
        for (c, p) in r.columns.iter().zip(&r.ref_columns) {
            let Some((child_rule, pos)) = rules.get(&(r.child.clone(), c.to_lowercase())) else {
                continue;
            };
            if matches!(child_rule.rule, Rule::Keep | Rule::Null) {
                continue;
            }
            let parent_kept = rules
                .get(&(r.parent.clone(), p.to_lowercase()))
                .is_none_or(|(parent_rule, _)| parent_rule.rule == Rule::Keep);
            if parent_kept {
                return Err(graph.error_at(
                    *pos,
                    format!(
                        "`{}.{c}` references `{}.{p}`, which keeps its values, but is cleansed ({}): the reference \
                         would name a row the copy does not have. Cleanse `{}.{p}` instead (every column \
                         referencing it then gets its rule), or keep `{}.{c}`.",
                        r.child, r.parent, child_rule.origin, r.parent, r.child
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Personal-looking columns of `tables` that have no rule, as `(table, column)`: neither one of
/// their own nor one a referenced column passes on (see [`propagate`]).
pub fn unruled(
    graph: &LoadedGraph,
    schema: &Schema,
    model: &Model,
    tables: &[String],
) -> Vec<(String, String)> {
    let mut rules = explicit_and_pattern_rules(graph, schema).unwrap_or_default();
    // Rules that cannot meet are reported by [`Cleanser::resolve`]; this lists what is left.
    let _ = propagate(graph, model, &mut rules);
    let mut out = Vec::new();
    for t in tables {
        let Some(table) = schema.table(t) else {
            continue;
        };
        for c in table.insert_columns() {
            let has = rules.contains_key(&(t.clone(), c.name.to_lowercase()));
            if !has && column_looks_personal(c) {
                out.push((t.clone(), c.name.clone()));
            }
        }
    }
    out
}

/// Rules from `tables.<t>.cleanse` and `cleanse.patterns`, by (table, lower-case column).
fn explicit_and_pattern_rules(graph: &LoadedGraph, schema: &Schema) -> Result<Rules> {
    let mut rules: Rules = BTreeMap::new();
    for (tname, entry) in graph.file.tables.iter() {
        let Some(table) = schema.table(tname) else {
            continue;
        };
        for (col, rule) in &entry.spec.cleanse {
            let Some(c) = table.column(col) else {
                return Err(graph.error_at(
                    rule.pos,
                    format!(
                        "unknown column `{tname}.{col}` in `cleanse`.{}",
                        hint(col, table.columns.iter().map(|c| c.name.as_str()))
                    ),
                ));
            };
            rules.insert(
                (tname.clone(), c.name.to_lowercase()),
                (
                    Placed {
                        rule: rule.value.clone().unwrap_or(Rule::Null),
                        origin: format!("{tname}.{}", c.name),
                        by_pattern: false,
                    },
                    rule.pos,
                ),
            );
        }
    }
    if let Some(spec) = &graph.file.cleanse {
        for p in &spec.value.patterns {
            let build = |re: &str| {
                regex::RegexBuilder::new(re)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| {
                        graph.error_at(
                            p.pos,
                            format!("the regex `{re}` does not compile: {}", regex_error(&e)),
                        )
                    })
            };
            let col_re = build(&p.value.column)?;
            let type_re = p.value.data_type.as_deref().map(build).transpose()?;
            let table_re = p.value.table.as_deref().map(build).transpose()?;
            for t in schema.tables.values() {
                if table_re.as_ref().is_some_and(|r| !r.is_match(&t.name)) {
                    continue;
                }
                for c in t.insert_columns() {
                    if !col_re.is_match(&c.name)
                        || type_re.as_ref().is_some_and(|r| !r.is_match(&c.data_type))
                    {
                        continue;
                    }
                    rules
                        .entry((t.name.clone(), c.name.to_lowercase()))
                        .or_insert((
                            Placed {
                                rule: p.value.rule.clone(),
                                origin: format!("the pattern `{}`", p.value.column),
                                by_pattern: true,
                            },
                            p.pos,
                        ));
                }
            }
        }
    }
    Ok(rules)
}

impl Cleanser {
    /// What to tell of the values written so far: those no output of their rule fitted,
    /// written as the start of a keyed hash instead (a first name in the 2 characters of
    /// TPC-C's `c_middle`, and then, as a rule writes one output for a value in every column,
    /// in `c_first`'s too).
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .narrow
            .values()
            .filter(|n| n.cut > 0)
            .map(|n| {
                let others: Vec<&str> = n
                    .columns
                    .iter()
                    .filter(|c| **c != n.narrowest)
                    .map(String::as_str)
                    .collect();
                let cut = n.cut;
                let (narrowest, chars) = (&n.narrowest, n.chars);
                match others.as_slice() {
                    [] => format!(
                        "`{narrowest}` holds {chars} characters, fewer than its rule's outputs: {cut} values \
                         were written as the start of a keyed hash instead. Give it a rule whose outputs \
                         fit (`{{mask: {{}}}}` keeps a value's letters and digits, or a `hash` pattern)"
                    ),
                    _ => format!(
                        "`{narrowest}` shares its rule with `{}`, and the rule's outputs must fit the \
                         narrowest of them, `{narrowest}` ({chars} characters), so that a value gets one \
                         output in every column: {cut} values fitted none and were written as the start \
                         of a keyed hash instead, in every one of those columns. Give `{narrowest}` a rule \
                         of its own (`{{mask: {{}}}}` keeps a value's letters and digits)",
                        others.join("`, `")
                    ),
                }
            })
            .collect();
        out.sort();
        out
    }

    /// Resolves the graph's cleansing rules for a dump of `included` tables. `None` when the
    /// graph has no rules and strictness was not asked for. Errors (before any row is read) for
    /// unknown names, rules that cannot hold (NULL into NOT NULL, a constant under a unique
    /// index, two rules meeting on one reference), a missing secret, and in strict mode every
    /// personal-looking column without a rule.
    pub fn resolve(
        graph: &LoadedGraph,
        schema: &Schema,
        model: &Model,
        included: &[String],
        options: &CleanseOptions,
    ) -> Result<Option<Cleanser>> {
        let spec = graph.file.cleanse.as_ref().map(|s| &s.value);
        let mut rules = explicit_and_pattern_rules(graph, schema)?;
        let strict = (options.strict || spec.is_some_and(|s| s.strict))
            && !options.strictness_reported_apart;
        if rules.is_empty() && !strict {
            return Ok(None);
        }
        let locale = match spec.and_then(|s| s.locale.as_ref()) {
            Some(l) if !fakes::LOCALES.contains(&l.value.as_str()) => {
                return Err(graph.error_at(
                    l.pos,
                    format!(
                        "unknown locale `{}`; partialdump has {}",
                        l.value,
                        fakes::LOCALES.join(", ")
                    ),
                ));
            }
            Some(l) => l.value.clone(),
            None => "en".into(),
        };

        propagate(graph, model, &mut rules)?;

        if strict {
            let missing: Vec<String> = included
                .iter()
                .filter_map(|t| schema.table(t))
                .flat_map(|t| {
                    t.insert_columns()
                        .filter(|c| {
                            column_looks_personal(c)
                                && !rules.contains_key(&(t.name.clone(), c.name.to_lowercase()))
                        })
                        .map(|c| format!("{}.{}", t.name, c.name))
                        .collect::<Vec<_>>()
                })
                .collect();
            if !missing.is_empty() {
                return Err(Error::Plan(format!(
                    "strict cleansing: {} no cleansing rule: {}. Give each a rule under \
                     `tables.<table>.cleanse` in {} (or `keep` once reviewed; `partialdump check` offers a rule for each). No row was read.",
                    if missing.len() == 1 {
                        "this column looks personal but has".to_string()
                    } else {
                        format!("{} columns look personal but have", missing.len())
                    },
                    missing.join(", "),
                    graph.path
                )));
            }
        }

        let resolver = Resolver {
            graph,
            locale: locale.clone(),
        };
        let mut tables: HashMap<String, HashMap<String, Arc<ColumnRule>>> = HashMap::new();
        let mut unique_domains = BTreeMap::new();
        // Each domain's limits: those of the narrowest column it writes, so that all its
        // columns take the same outputs.
        let mut fits: HashMap<String, (Fit, u64)> = HashMap::new();
        let mut narrow: HashMap<String, Narrow> = HashMap::new();
        for ((t, c), (placed, _)) in &rules {
            if let Some(column) = schema.table(t).and_then(|t| t.column(c)) {
                let domain = format!("{}|{locale}", placed.rule.domain());
                let (fit, max) = fits
                    .entry(domain.clone())
                    .or_insert((Fit::default(), u64::MAX));
                *fit = fit.and(Fit::of(column));
                *max = (*max).min(max_for(column));
                let n = narrow.entry(domain).or_insert(Narrow {
                    chars: u64::MAX,
                    ..Narrow::default()
                });
                let name = format!("{t}.{}", column.name);
                if let Some(chars) = column.max_chars.filter(|&m| m < n.chars) {
                    n.chars = chars;
                    n.narrowest = name.clone();
                }
                n.columns.push(name);
            }
        }
        let mut needs_secret: Vec<String> = Vec::new();
        for ((t, c), (placed, pos)) in &rules {
            let Some(table) = schema.table(t) else {
                continue;
            };
            let Some(column) = table.column(c) else {
                continue;
            };
            let compiled = resolver.compile(&placed.rule, *pos, table)?;
            let domain = format!("{}|{locale}", placed.rule.domain());
            let unique_index = table.unique_through(&column.name);
            let unique = unique_index.is_some();
            match &placed.rule {
                Rule::Null if !column.nullable => {
                    return Err(graph.error_at(
                        *pos,
                        format!(
                            "`{t}.{}` is NOT NULL, so it cannot be cleansed to NULL ({}). Use another rule.",
                            column.name, placed.origin
                        ),
                    ));
                }
                Rule::Template(text)
                    if parse_template(text)
                        .iter()
                        .any(|(is_col, c)| *is_col && c.eq_ignore_ascii_case(&column.name)) =>
                {
                    return Err(graph.error_at(
                        *pos,
                        format!(
                            "the template of `{t}.{}` names `{{{}}}` itself, which would write the column's \
                             original value into its cleansed one ({}). Name other columns only.",
                            column.name, column.name, placed.origin
                        ),
                    ));
                }
                // Its output repeats where the columns it names repeat: one of them must keep
                // rows apart itself (`user-{id}`).
                Rule::Template(text)
                    if let Some(index) = unique_index
                        && !template_keeps_apart(table, &column.name, index, text) =>
                {
                    return Err(graph.error_at(
                        *pos,
                        format!(
                            "`{t}.{}` must keep rows apart (the unique index ({})), but its template names no \
                             NOT NULL column that does, so two rows could get one value ({}). Name a unique \
                             NOT NULL column in the template (`{{id}}`), or use fake or hash.",
                            column.name,
                            index.join(", "),
                            placed.origin
                        ),
                    ));
                }
                // Its cases' outputs are drawn apart from each other's: none keeps a unique
                // column's values distinct, nor a reference matching (whose rule every column
                // of the reference takes, where the cases' columns are not).
                Rule::Cases(_)
                    if unique_index.is_some()
                        || model.relations.iter().any(|r| {
                            (r.child.eq_ignore_ascii_case(t)
                                && r.columns
                                    .iter()
                                    .any(|c| c.eq_ignore_ascii_case(&column.name)))
                                || (r.parent.eq_ignore_ascii_case(t)
                                    && r.ref_columns
                                        .iter()
                                        .any(|c| c.eq_ignore_ascii_case(&column.name)))
                        }) =>
                {
                    return Err(graph.error_at(
                        *pos,
                        cases_refused(&format!("{t}.{}", column.name), &placed.origin),
                    ));
                }
                // NULL is not: a unique index holds any number of rows with NULL in it.
                Rule::Value(_) if let Some(index) = unique_index => {
                    let what = if index.len() == 1 {
                        "must stay unique".to_string()
                    } else {
                        format!(
                            "tells rows apart in the unique index ({})",
                            index.join(", ")
                        )
                    };
                    return Err(graph.error_at(
                        *pos,
                        format!(
                            "`{t}.{}` {what}, so it cannot be set to one value ({}). Use fake or hash, which keep distinct values distinct.",
                            column.name, placed.origin
                        ),
                    ));
                }
                _ => {}
            }
            if let Some(why) = unfit_rule(&placed.rule, column) {
                let name = format!("{t}.{}", column.name);
                let from = if placed.origin == name {
                    String::new()
                } else if placed.by_pattern {
                    // A pattern matches by name: `email` also matches `email_count INT`.
                    format!(
                        "; the rule comes from {}, which matches by name: narrow it by \
                         `type: \"char|text\"` or an anchored `column:` regex, or give `{name}` \
                         a rule of its own under `tables:`",
                        placed.origin
                    )
                } else {
                    format!(" (the rule of {})", placed.origin)
                };
                return Err(graph.error_at(*pos, format!("`{name}` {why}{from}.")));
            }
            if unique {
                unique_domains
                    .entry(domain.clone())
                    .or_insert_with(|| format!("{t}.{}", column.name));
            }
            if placed.rule.needs_secret() {
                needs_secret.push(format!("{t}.{}", column.name));
            }
            tables.entry(t.clone()).or_default().insert(
                c.clone(),
                Arc::new(ColumnRule {
                    compiled,
                    fit: fits.get(&domain).map(|f| f.0).unwrap_or_default(),
                    max: fits.get(&domain).map_or(u64::MAX, |f| f.1),
                    domain,
                    fold: Fold::of(column.collation.as_deref()),
                }),
            );
        }

        let (secret, from) = match options.random_seed {
            Some(seed) => (
                format!("partialdump random seed {seed}").into_bytes(),
                format!("--random-seed {seed}"),
            ),
            None => {
                let var = spec
                    .and_then(|s| s.secret_env.clone())
                    .unwrap_or_else(|| "PARTIALDUMP_SECRET".into());
                match std::env::var(&var) {
                    Ok(v) if !v.is_empty() => (v.into_bytes(), format!("${var}")),
                    _ => match spec.and_then(|s| s.secret_file.as_ref()) {
                        Some(f) => {
                            let bytes = std::fs::read(&f.value).map_err(|e| {
                                graph.error_at(
                                    f.pos,
                                    format!("cannot read the secret file `{}`: {e}", f.value),
                                )
                            })?;
                            let trimmed = bytes.trim_ascii().to_vec();
                            if trimmed.is_empty() {
                                return Err(graph.error_at(
                                    f.pos,
                                    format!("the secret file `{}` is empty", f.value),
                                ));
                            }
                            (trimmed, format!("file {}", f.value))
                        }
                        None if needs_secret.is_empty() => (Vec::new(), "none needed".into()),
                        None => {
                            return Err(Error::Plan(format!(
                                "the cleansing rules of {} derive values from a secret ({}{}), and there is none: set \
                                 {var} (or `cleanse.secret_file`), or pass --random-seed N for throwaway data that \
                                 cannot be reproduced without that number. No row was read.",
                                if needs_secret.len() > 3 {
                                    format!(
                                        "{} and {} more",
                                        needs_secret[..3].join(", "),
                                        needs_secret.len() - 3
                                    )
                                } else {
                                    needs_secret.join(", ")
                                },
                                "",
                                graph.path
                            )));
                        }
                    },
                }
            }
        };
        let count: usize = tables.values().map(HashMap::len).sum();
        Ok(Some(Cleanser {
            keyed: keyed(&secret),
            tables,
            last: None,
            unique_domains,
            registries: HashMap::new(),
            fault: None,
            narrow,
            summary: format!(
                "{count} columns by the rules of the graph (secret: {from}; locale {locale})"
            ),
        }))
    }

    fn seed(&self, domain: &str, original: &Value, attempt: u32) -> [u8; 32] {
        // The same as an HMAC keyed anew with the secret.
        let mut mac = self.keyed.clone();
        let mut text = String::new();
        canonical(original, &mut text);
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(text.as_bytes());
        mac.update(&[0]);
        mac.update(&attempt.to_le_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&mac.finalize().into_bytes());
        out
    }

    /// Whether any column of `table` has a rule ([`Cleanser::apply`] leaves its rows as they
    /// are otherwise).
    pub fn cleanses(&self, table: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|rules| !rules.is_empty())
    }

    /// Cleanses `values` of `columns` of `table` in place (a row, a key, or the columns of a
    /// restoring UPDATE). An error where a rule has no output left that keeps a unique
    /// column's values distinct (`hash: number` with a `max` under the rows it cleanses).
    pub fn apply(&mut self, table: &str, columns: &[String], values: &mut [Value]) -> Result<()> {
        let last = match self.last.take() {
            Some(last) if last.table == table && last.columns == columns => last,
            _ => {
                let Some(rules) = self.tables.get(table) else {
                    return Ok(());
                };
                ColumnRules {
                    table: table.to_string(),
                    columns: columns.to_vec(),
                    rules: columns
                        .iter()
                        .map(|c| rules.get(&c.to_lowercase()).cloned())
                        .collect(),
                }
            }
        };
        let failed = self.apply_rules(columns, &last.rules, values);
        self.last = Some(last);
        match failed {
            None => Ok(()),
            Some((i, why)) => {
                let column = &columns[i];
                // Distinct outputs may be asked by another column of the same rule, which
                // must give a value the same output as this one does.
                let name = format!("{table}.{column}");
                let asked_by = self
                    .last
                    .as_ref()
                    .and_then(|last| last.rules[i].as_ref())
                    .and_then(|r| self.unique_domains.get(&r.domain))
                    .filter(|by| !by.eq_ignore_ascii_case(&name))
                    .map(|by| {
                        format!(
                            " It gives every value its own output because `{by}`, which must stay \
                             distinct, has the same rule, and a value gets one output under a rule \
                             in every column: give one of the two another rule (`days: 31` rather \
                             than 30, say), and `{name}` need not stay distinct."
                        )
                    })
                    .unwrap_or_default();
                Err(Error::Plan(format!(
                    "the cleansing rule of `{name}` {why}. Raise the rule's `max` (or `days`) \
                     above the number of distinct values it cleanses, or use a rule with more outputs \
                     (`hash: hex`).{asked_by} The dump stopped."
                )))
            }
        }
    }

    /// [`Cleanser::apply`] with each column's rule found: the column whose rule failed, and
    /// why, if one did.
    fn apply_rules(
        &mut self,
        columns: &[String],
        rules: &[Option<Arc<ColumnRule>>],
        values: &mut [Value],
    ) -> Option<(usize, String)> {
        // The case each `cases` rule takes, by the row's values as they came (before any of
        // its columns is cleansed).
        // Worked out only where a column has such a rule: this runs for every row.
        let has_cases = rules
            .iter()
            .any(|r| matches!(r.as_deref().map(|r| &r.compiled), Some(Compiled::Cases(_))));
        let cases: Vec<Option<&CaseRule>> = match has_cases {
            false => Vec::new(),
            true => rules
                .iter()
                .map(|rule| match rule.as_deref().map(|r| &r.compiled) {
                    Some(Compiled::Cases(cases)) => cases.iter().find(|c| c.holds(columns, values)),
                    _ => None,
                })
                .collect(),
        };
        for (i, (v, rule)) in values.iter_mut().zip(rules).enumerate() {
            let Some(r) = rule else { continue };
            match &r.compiled {
                Compiled::Template(_) => continue,
                Compiled::Cases(_) => match cases[i] {
                    Some(case) => *v = self.derive_as(&case.rule, &case.domain, r, v),
                    None => continue,
                },
                _ => *v = self.derive_folded(r, v),
            }
            if let Some(why) = self.fault.take() {
                return Some((i, why));
            }
        }
        for (i, rule) in rules.iter().enumerate() {
            if let Some(ColumnRule {
                compiled: Compiled::Template(parts),
                fit,
                ..
            }) = rule.as_deref()
            {
                if values[i].is_null() || is_blank(&values[i]) {
                    continue;
                }
                let mut s = String::new();
                for (is_col, text) in parts {
                    if *is_col {
                        if let Some(j) = columns.iter().position(|c| c.eq_ignore_ascii_case(text)) {
                            s.push_str(&text_of(&values[j]).unwrap_or_default());
                        }
                    } else {
                        s.push_str(text);
                    }
                }
                values[i] = fit.fitted(Value::Text(s));
            }
        }
        None
    }

    /// A column's value through its rule. Where the output is drawn from the value alone
    /// (`fake`, `hash`), values the column's collation holds equal (`ALICE@CORP.COM`,
    /// `alice@corp.com`) give one output; rules that keep the value's form (`mask`, `regex`,
    /// ...) see it as it is.
    fn derive_folded(&mut self, r: &ColumnRule, v: &Value) -> Value {
        self.derive_as(&r.compiled, &r.domain, r, v)
    }

    /// [`Cleanser::derive_folded`] by `rule` of `domain` (the column's, or one of its cases'),
    /// within the column's limits.
    fn derive_as(&mut self, rule: &Compiled, domain: &str, r: &ColumnRule, v: &Value) -> Value {
        let folded = match rule {
            Compiled::Fake { .. } | Compiled::Hash { .. } => r.fold.apply(v),
            _ => None,
        };
        match folded {
            Some(f) => self.derive_avoiding(rule, domain, r.max, r.fit, &f, v),
            None => self.derive_avoiding(rule, domain, r.max, r.fit, v, v),
        }
    }

    /// One value through one rule, with uniqueness kept for unique domains and the original
    /// never written back.
    fn derive(&mut self, rule: &Compiled, domain: &str, max: u64, original: &Value) -> Value {
        self.derive_avoiding(rule, domain, max, Fit::default(), original, original)
    }

    /// [`Cleanser::derive`] of `original`, never writing `also` either (the value as it came,
    /// where `original` is the folded form its collation compares), and within `fit`: an
    /// output too long for it is derived again, as one that collides; after 64 tries the last
    /// resort below is cut to fit.
    fn derive_avoiding(
        &mut self,
        rule: &Compiled,
        domain: &str,
        max: u64,
        fit: Fit,
        original: &Value,
        also: &Value,
    ) -> Value {
        if original.is_null() {
            return Value::Null;
        }
        if is_blank(original) {
            return original.clone();
        }
        // A mask keeps every character but letters and digits: with none (`---`, `+`), there
        // is nothing to hide, and its output can only be the value.
        if matches!(rule, Compiled::Mask { .. })
            && text_of(original).is_some_and(|t| !t.chars().any(char::is_alphanumeric))
        {
            return original.clone();
        }
        match rule {
            Compiled::Keep => return original.clone(),
            Compiled::Null => return Value::Null,
            Compiled::Value(v) => return v.clone(),
            Compiled::DateShift { .. } => {
                if let Some(zero) = zero_date(original) {
                    return zero;
                }
            }
            _ => {}
        }
        let unique = self.unique_domains.contains_key(domain);
        if !unique && matches!(rule, Compiled::Regex { .. } | Compiled::Json(_)) {
            // Their output may be the original (a text without a match), and nothing
            // registers it: the first attempt is the output, with no copy of the texts to
            // compare (the benchmark's comments, 50,000 bodies under a regex, written in 49 ms
            // before, 24 ms since).
            return fit.fitted(self.derive_once(rule, domain, max, original, 0));
        }
        let original_text = text_of(original);
        let also_text = text_of(also);
        let orig_hash = hash64(&original_text);
        let may_be_original = matches!(rule, Compiled::Regex { .. } | Compiled::Json(_));
        // Whether an output was refused for its length.
        let too_long = std::cell::Cell::new(false);
        // Whether `out` may be written: it fits the shortest column of the domain, it is not
        // the original, and in a unique domain no other value's output is the same.
        let accept = |this: &mut Self, out: &Value| {
            if !fit.holds(out, original) {
                too_long.set(true);
                return false;
            }
            let out_text = text_of(out);
            if (out_text == original_text || out_text == also_text) && !may_be_original {
                return false;
            }
            if unique {
                let reg = this.registries.entry(domain.to_string()).or_default();
                match reg.get(&hash64(&out_text)) {
                    Some(o) if *o != orig_hash => return false,
                    Some(_) => {}
                    None => {
                        reg.insert(hash64(&out_text), orig_hash);
                    }
                }
            }
            true
        };
        for attempt in 0..64 {
            let out = self.derive_once(rule, domain, max, original, attempt);
            if accept(self, &out) {
                return out;
            }
        }
        // 64 draws taken or too long: a number or a date goes through the others in turn, from
        // one the value's seed picks, so that it stays a number or a date; anything else falls
        // back to the full keyed hash, unique by construction (cut to fit, its start).
        let seed = self.seed(domain, original, u32::MAX);
        let start = u64::from_le_bytes(seed[..8].try_into().unwrap_or([0; 8]));
        let taken = self.registries.get(domain).map_or(0, HashMap::len) as u64;
        let (what, tried): (String, Option<Value>) = match rule {
            Compiled::Hash { format, max: m, .. } if format == "number" => {
                // Among `taken` + 2 numbers one is neither taken nor the original's own.
                let top = m.unwrap_or(max).max(1);
                let found = (0..top.min(taken + 2))
                    .map(|k| Value::Int((1 + (start % top + k) % top) as i64))
                    .find(|out| accept(self, out));
                (format!("no number from 1 to {top}"), found)
            }
            // A text that is no date (SQLite's `''` or `n/a` in a TEXT column) shifts to
            // itself: the hash below.
            Compiled::DateShift { days }
                if shift_date(original, 1) != *original
                    || shift_date(original, -1) != *original =>
            {
                let span = 2 * u64::from(*days);
                let found = (0..span)
                    .map(|k| {
                        let r = ((start % span + k) % span) as i64;
                        let d = i64::from(*days);
                        shift_date(original, if r < d { r - d } else { r - d + 1 })
                    })
                    .find(|out| accept(self, out));
                (format!("no date within {days} days"), found)
            }
            _ => {
                if too_long.get()
                    && let Some(n) = self.narrow.get_mut(domain)
                {
                    n.cut += 1;
                }
                return Value::Text(fit.cut(&hex(&seed)));
            }
        };
        match tried {
            Some(out) => out,
            None => {
                self.fault.get_or_insert(format!(
                    "ran out: {what} that is neither another value's ({taken} have one) nor the value's \
                     own is left for {}",
                    original.display()
                ));
                Value::Null
            }
        }
    }

    fn derive_once(
        &mut self,
        rule: &Compiled,
        domain: &str,
        max: u64,
        original: &Value,
        attempt: u32,
    ) -> Value {
        // Only the rules drawing from the value's seed have one computed: a regex's or a JSON
        // path's own rules draw theirs from each match (an HMAC of a whole text for nothing).
        let seed = match rule {
            Compiled::Fake { .. }
            | Compiled::Hash { .. }
            | Compiled::Mask { .. }
            | Compiled::DateShift { .. } => self.seed(domain, original, attempt),
            _ => [0; 32],
        };
        let mut rng = ChaCha8Rng::from_seed(seed);
        match rule {
            // A case's rule is found before, by the row ([`Cleanser::apply_rules`]).
            Compiled::Keep | Compiled::Template(_) | Compiled::Cases(_) => original.clone(),
            Compiled::Null => Value::Null,
            Compiled::Value(v) => v.clone(),
            Compiled::Fake { kind, locale } => {
                let mut s = fakes::make(kind, locale, &mut rng);
                if attempt > 0 && kind == "email" {
                    // Keep collisions from repeating: a distinct suffix in the local part.
                    if let Some(at) = s.find('@') {
                        s.insert_str(at, &format!(".{attempt}"));
                    }
                }
                Value::Text(s)
            }
            Compiled::Hash {
                format,
                length,
                max: m,
            } => match format.as_str() {
                "hex" => Value::Text(hex(&seed)[..*length].to_string()),
                "number" => {
                    let top = m.unwrap_or(max).max(1);
                    let n = u64::from_le_bytes(seed[..8].try_into().unwrap_or([0; 8]));
                    Value::Int((1 + n % top) as i64)
                }
                pattern => {
                    let mut out: String = pattern
                        .chars()
                        .map(|c| match c {
                            '#' => char::from(b'0' + rng.random_range(0..10u8)),
                            'A' => char::from(b'A' + rng.random_range(0..26u8)),
                            'a' => char::from(b'a' + rng.random_range(0..26u8)),
                            'x' => char::from_digit(rng.random_range(0..16u32), 16).unwrap_or('0'),
                            other => other,
                        })
                        .collect();
                    if pattern == UUID_PATTERN {
                        // A random (version 4) UUID, of RFC 4122's variant: MariaDB's UUID
                        // type refuses some other versions and variants (`…-f61b-17c5-…`).
                        let variant = ['8', '9', 'a', 'b'][rng.random_range(0..4usize)];
                        out.replace_range(14..15, "4");
                        out.replace_range(19..20, variant.encode_utf8(&mut [0; 4]));
                    }
                    Value::Text(out)
                }
            },
            Compiled::Mask {
                keep_first,
                keep_last,
            } => {
                let text = text_of(original).unwrap_or_default();
                let chars: Vec<char> = text.chars().collect();
                let n = chars.len();
                let (kf, kl) = if keep_first + keep_last >= n {
                    (0, 0)
                } else {
                    (*keep_first, *keep_last)
                };
                let masked: String = chars
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        if i < kf || i >= n - kl {
                            c
                        } else if c.is_ascii_digit() {
                            char::from(b'0' + rng.random_range(0..10u8))
                        } else if c.is_ascii_lowercase() {
                            char::from(b'a' + rng.random_range(0..26u8))
                        } else if c.is_ascii_uppercase() {
                            char::from(b'A' + rng.random_range(0..26u8))
                        } else if c.is_alphanumeric() {
                            'x'
                        } else {
                            c
                        }
                    })
                    .collect();
                match original {
                    Value::Int(_) | Value::UInt(_) => masked
                        .parse::<i64>()
                        .map(Value::Int)
                        .unwrap_or(Value::Text(masked)),
                    _ => Value::Text(masked),
                }
            }
            Compiled::DateShift { days } => {
                let span = i64::from(*days);
                let r = rng.random_range(0..(2 * span) as u64) as i64;
                let shift = if r < span { r - span } else { r - span + 1 }; // never 0
                shift_date(original, shift)
            }
            Compiled::Regex { re, replace } => {
                let text = text_of(original).unwrap_or_default();
                let (sub, sub_domain) = (&replace.0, replace.1.clone());
                let mut out = String::new();
                let mut last = 0;
                let matches: Vec<(usize, usize)> =
                    re.find_iter(&text).map(|m| (m.start(), m.end())).collect();
                for (start, end) in matches {
                    out.push_str(&text[last..start]);
                    let replaced = self.derive(
                        sub,
                        &sub_domain,
                        max,
                        &Value::Text(text[start..end].to_string()),
                    );
                    out.push_str(&text_of(&replaced).unwrap_or_default());
                    last = end;
                }
                out.push_str(&text[last..]);
                Value::Text(out)
            }
            Compiled::Json(paths) => {
                let text = text_of(original).unwrap_or_default();
                let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(&text) else {
                    // Not JSON: nothing can be kept safely.
                    return Value::Text("{}".into());
                };
                for (steps, sub, sub_domain) in paths {
                    self.json_apply(&mut doc, steps, sub, sub_domain, max);
                }
                Value::Text(doc.to_string())
            }
        }
    }

    fn json_apply(
        &mut self,
        node: &mut serde_json::Value,
        steps: &[PathStep],
        rule: &Compiled,
        domain: &str,
        max: u64,
    ) {
        use serde_json::Value as J;
        let Some((first, rest)) = steps.split_first() else {
            let original = match node {
                J::String(s) => Value::Text(s.clone()),
                J::Number(n) => match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Double(n.as_f64().unwrap_or(0.0)),
                },
                _ => return,
            };
            *node = match self.derive(rule, domain, max, &original) {
                Value::Null => J::Null,
                Value::Int(i) => J::from(i),
                Value::Double(d) => serde_json::Number::from_f64(d)
                    .map(J::Number)
                    .unwrap_or(J::Null),
                other => J::String(text_of(&other).unwrap_or_default()),
            };
            return;
        };
        match (first, node) {
            (PathStep::Key(k), J::Object(map)) => {
                if let Some(child) = map.get_mut(k) {
                    self.json_apply(child, rest, rule, domain, max);
                }
            }
            (PathStep::Index(i), J::Array(items)) => {
                if let Some(child) = items.get_mut(*i) {
                    self.json_apply(child, rest, rule, domain, max);
                }
            }
            (PathStep::All, J::Array(items)) => {
                for child in items {
                    self.json_apply(child, rest, rule, domain, max);
                }
            }
            _ => {}
        }
    }
}

fn hash64(text: &Option<String>) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// A value as text, the way it appears inside other text.
fn text_of(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Text(s) | Value::Decimal(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => {
            let mut s = String::new();
            write_temporal(other, &mut s);
            s
        }
    })
}

/// Whether `v` is a date or time of day within a MySQL TIMESTAMP's range, in UTC.
fn in_timestamp_range(v: &Value) -> bool {
    match *v {
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            ..
        } => ((1970, 1, 1, 0, 0, 1)..=(2038, 1, 19, 3, 14, 7))
            .contains(&(year, month, day, hour, minute, second)),
        Value::Date { year, month, day } => {
            ((1970, 1, 2)..=(2038, 1, 19)).contains(&(year, month, day))
        }
        _ => false,
    }
}

/// A text that is empty or only spaces, or no bytes: nothing to hide, and what schemas without
/// NULLs hold for "none" (WordPress's `comment_author_email` of an anonymous comment). Every
/// rule keeps it, as it keeps NULL: a fake in its place would give every row that had none
/// one and the same made-up value.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Text(t) => t.trim().is_empty(),
        Value::Bytes(b) => b.is_empty(),
        _ => false,
    }
}

/// The zero date of `v`'s kind where `v` is a MySQL date with a zero part (`0000-00-00`,
/// `1985-00-00`, `2020-06-00 12:00:00`, a year 0), which no shift applies to: the zero date
/// says only that there is none, and a part kept (the year) would be the original's. A blank
/// text stays as it is.
fn zero_date(v: &Value) -> Option<Value> {
    match *v {
        // Blank text says there is no date as much.
        Value::Text(ref t) if t.trim().is_empty() => Some(v.clone()),
        Value::Date { year, month, day } if year == 0 || month == 0 || day == 0 => {
            Some(Value::Date {
                year: 0,
                month: 0,
                day: 0,
            })
        }
        Value::DateTime {
            year, month, day, ..
        } if year == 0 || month == 0 || day == 0 => Some(Value::DateTime {
            year: 0,
            month: 0,
            day: 0,
            hour: 0,
            minute: 0,
            second: 0,
            micro: 0,
        }),
        _ => None,
    }
}

fn shift_date(v: &Value, days: i64) -> Value {
    use chrono::{Datelike, NaiveDate, TimeDelta};
    let shift = |y: i32, m: u32, d: u32| {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.checked_add_signed(TimeDelta::days(days)))
            .filter(|date| date.year() >= 1 && date.year() <= 9999)
    };
    match v {
        Value::Date { year, month, day } => {
            match shift(i32::from(*year), u32::from(*month), u32::from(*day)) {
                Some(d) => Value::Date {
                    year: d.year() as u16,
                    month: d.month() as u8,
                    day: d.day() as u8,
                },
                None => v.clone(),
            }
        }
        Value::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micro,
        } => match shift(i32::from(*year), u32::from(*month), u32::from(*day)) {
            Some(d) => Value::DateTime {
                year: d.year() as u16,
                month: d.month() as u8,
                day: d.day() as u8,
                hour: *hour,
                minute: *minute,
                second: *second,
                micro: *micro,
            },
            None => v.clone(),
        },
        Value::Text(s) if s.len() >= 10 && s.is_char_boundary(10) => {
            let (date, rest) = s.split_at(10);
            match NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .ok()
                .and_then(|d| shift(d.year(), d.month(), d.day()))
            {
                Some(d) => Value::Text(format!("{}{rest}", d.format("%Y-%m-%d"))),
                None => v.clone(),
            }
        }
        other => other.clone(),
    }
}

/// Every cleanser, with an example, for `partialdump cleansers` and the docs.
pub const CLEANSERS: &[(&str, &str, &str)] = &[
    (
        "fake",
        "a fake value of a kind (see the kinds below), the same for the same input",
        "email: {fake: email}",
    ),
    (
        "hash",
        "keyed HMAC-SHA256 as hex (`length`), a number in the column's range (`number`, `max`), or a pattern (# digit, A/a letter, x hex)",
        "ssn: {hash: \"###-##-####\"}",
    ),
    (
        "null",
        "NULL (the column must be nullable)",
        "password_hash: null",
    ),
    ("value", "a constant", "notes: {value: \"[removed]\"}"),
    (
        "regex",
        "replace every match inside text by a rule's output",
        "body: {regex: {pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.]+', replace: {fake: email}}}",
    ),
    (
        "mask",
        "keep the format: digits stay digits, letters letters; `keep_first`/`keep_last` characters kept",
        "phone: {mask: {keep_last: 2}}",
    ),
    (
        "date_shift",
        "move a date by up to ± days (never 0), the same shift for the same date",
        "birth_date: {date_shift: {days: 180}}",
    ),
    (
        "template",
        "combine other columns' cleansed values",
        "display_name: {template: \"{first_name} {last_name}\"}",
    ),
    (
        "json",
        "rules for paths inside a JSON column",
        "profile: {json: {\"$.email\": {fake: email}, \"$.phones[*]\": {mask: {}}}}",
    ),
    (
        "cases",
        "a rule by other columns' values (a table of names and values); a row no case takes keeps its value",
        "meta_value: {cases: [{when: {meta_key: [first_name, last_name]}, rule: {fake: name}}]}",
    ),
    (
        "keep",
        "reviewed, not personal: written as it is (silences the strict lint)",
        "bio: keep",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_shifted_out_of_the_timestamp_range_does_not_fit() {
        let at = |year, month, day, hour| Value::DateTime {
            year,
            month,
            day,
            hour,
            minute: 0,
            second: 0,
            micro: 0,
        };
        let ts = Fit {
            timestamp: true,
            ..Fit::default()
        };
        let late = at(2038, 1, 18, 0);
        assert!(ts.holds(&at(2038, 1, 19, 3), &late));
        assert!(!ts.holds(&at(2038, 1, 19, 4), &late));
        assert!(!ts.holds(&at(1969, 12, 31, 23), &at(1970, 1, 2, 0)));
        // From outside the range, the value came from a DATETIME of the same rule.
        assert!(ts.holds(&at(9999, 12, 1, 0), &at(9999, 12, 31, 0)));
        assert!(Fit::default().holds(&at(2040, 1, 1, 0), &late));
        assert_eq!(
            zero_date(&Value::Date {
                year: 1985,
                month: 0,
                day: 0
            }),
            Some(Value::Date {
                year: 0,
                month: 0,
                day: 0
            })
        );
        assert_eq!(zero_date(&late), None);
    }

    #[test]
    fn a_text_is_cut_to_fit_at_whole_characters() {
        let chars = Fit {
            chars: Some(3),
            ..Fit::default()
        };
        assert_eq!(chars.cut("Zoë Li"), "Zoë");
        assert!(chars.holds_text("Zoë"));
        assert!(!chars.holds_text("Zoë "));
        let bytes = Fit {
            bytes: Some(3),
            ..Fit::default()
        };
        // 'ë' is two bytes: it does not fit after "Zo".
        assert_eq!(bytes.cut("Zoë"), "Zo");
        assert_eq!(bytes.fitted(Value::Int(12345)), Value::Int(12345));
        let both = chars.and(Fit {
            chars: Some(5),
            bytes: Some(2),
            last: Some('\u{ff}'),
            timestamp: true,
        });
        assert_eq!(
            both,
            Fit {
                chars: Some(3),
                bytes: Some(2),
                last: Some('\u{ff}'),
                timestamp: true,
            }
        );
        assert_eq!(Fit::default().cut("anything"), "anything");
        // latin1 holds 'é' but no Japanese: those characters are left out of a cut.
        let latin1 = Fit {
            last: Some('\u{ff}'),
            ..Fit::default()
        };
        assert!(latin1.holds_text("José"));
        assert!(!latin1.holds_text("小野 José"));
        assert_eq!(latin1.cut("小野 José"), " José");
    }

    /// A cleanser of the given rules, `(table, column, rule)`, with no secret.
    fn cleanser_of(rules: Vec<(&str, &str, Compiled)>) -> Cleanser {
        let mut tables: HashMap<String, HashMap<String, Arc<ColumnRule>>> = HashMap::new();
        for (t, c, compiled) in rules {
            tables.entry(t.into()).or_default().insert(
                c.into(),
                Arc::new(ColumnRule {
                    compiled,
                    domain: format!("{t}.{c}"),
                    max: i64::MAX as u64,
                    fold: Fold::default(),
                    fit: Fit::default(),
                }),
            );
        }
        Cleanser {
            keyed: keyed(b""),
            tables,
            last: None,
            unique_domains: BTreeMap::new(),
            registries: HashMap::new(),
            fault: None,
            narrow: HashMap::new(),
            summary: String::new(),
        }
    }

    #[test]
    fn date_shift_moves_dates_and_hashes_other_texts() {
        let text = |s: &str| Value::Text(s.into());
        let mut c = cleanser_of(vec![("t", "d", Compiled::DateShift { days: 3 })]);
        let columns = ["d".to_string()];
        for (v, shifted) in [
            (text("2020-01-10"), true),
            (text("n/a"), false),
            (text(""), false),
            (
                Value::Date {
                    year: 1985,
                    month: 0,
                    day: 0,
                },
                false,
            ),
        ] {
            let mut row = vec![v.clone()];
            c.apply("t", &columns, &mut row)
                .expect("no unique domain to run out");
            let out = text_of(&row[0]).unwrap_or_default();
            match (&v, shifted) {
                (_, true) => assert!(out.starts_with("2020-01-") && out != "2020-01-10", "{out}"),
                (Value::Text(t), false) if t.is_empty() => assert_eq!(out, ""),
                (Value::Text(t), false) => assert!(out.len() == 64 && out != *t, "{out}"),
                _ => assert_eq!(out, "0000-00-00"),
            }
        }
    }

    #[test]
    fn each_call_applies_the_rules_of_its_own_table_and_columns() {
        let text = |s: &str| Value::Text(s.into());
        let rules = || {
            let at = Compiled::Regex {
                re: regex::Regex::new("@[a-z.]+").expect("a valid pattern"),
                replace: Box::new((Compiled::Value(text("@example.org")), String::new())),
            };
            cleanser_of(vec![
                ("users", "name", Compiled::Value(text("N"))),
                ("users", "bio", at),
                ("posts", "body", Compiled::Null),
            ])
        };
        // Rows of two tables taking turns, and a table's columns in other orders and subsets
        // (a key, the columns of a restoring UPDATE), through one cleanser.
        let calls: Vec<(&str, Vec<&str>, Vec<Value>)> = vec![
            (
                "users",
                vec!["id", "name", "bio"],
                vec![Value::Int(1), text("ann"), text("me@corp.com")],
            ),
            (
                "users",
                vec!["id", "name", "bio"],
                vec![Value::Int(2), text("bob"), text("x@y.io!")],
            ),
            (
                "posts",
                vec!["id", "body"],
                vec![Value::Int(1), text("hello")],
            ),
            (
                "users",
                vec!["bio", "id"],
                vec![text("a@b.c and d@e.f"), Value::Int(3)],
            ),
            ("users", vec!["id"], vec![Value::Int(4)]),
            (
                "posts",
                vec!["body", "name"],
                vec![text("hi"), text("kept")],
            ),
            ("tags", vec!["name"], vec![text("kept too")]),
            (
                "users",
                vec!["id", "name", "bio"],
                vec![Value::Int(5), text("cy"), Value::Null],
            ),
        ];
        let mut shared = rules();
        for (table, columns, row) in calls {
            let columns: Vec<String> = columns.into_iter().map(String::from).collect();
            let (mut once, mut fresh) = (row.clone(), row);
            shared
                .apply(table, &columns, &mut once)
                .expect("no unique domain to run out");
            rules()
                .apply(table, &columns, &mut fresh)
                .expect("no unique domain to run out");
            assert_eq!(once, fresh, "{table} {columns:?}");
        }
        let mut row = vec![text("ann"), text("hi @x.y")];
        shared
            .apply("users", &["name".into(), "bio".into()], &mut row)
            .expect("no unique domain to run out");
        assert_eq!(row, vec![text("N"), text("hi @example.org")]);
        let mut row = vec![text("hi @x.y"), text("ann")];
        shared
            .apply("users", &["bio".into(), "name".into()], &mut row)
            .expect("no unique domain to run out");
        assert_eq!(row, vec![text("hi @example.org"), text("N")]);
        let mut row = vec![text("hello")];
        shared
            .apply("posts", &["body".into()], &mut row)
            .expect("no unique domain to run out");
        assert_eq!(row, vec![Value::Null]);
    }

    #[test]
    fn personal_names() {
        for yes in [
            "email",
            "user_email",
            "emailAddress",
            "phone_number",
            "mobile",
            "full_name",
            "ip",
            "ip_address",
            "dob",
            "birth_date",
            "birthdate",
            "iban",
            "card_number",
            "api_token",
            "password_hash",
            "zip",
            "postcode",
            "ssn",
            "passport_no",
            "street",
            "user_pass",
            "comment_author",
            "db_pwd",
            "c_first",
            "c_middle",
            "c_last",
            "last",
            "Surname",
            "card_expiry",
            "email_address",
            "billing_address",
            "mac_address",
            "address",
            "content_address_owner_email",
            "content_address_or_home_address",
        ] {
            assert!(looks_personal(yes), "{yes}");
        }
        for no in [
            "id",
            "description",
            "membership",
            "shipped_at",
            "title",
            "amount",
            "created_at",
            "status",
            "passenger_count",
            "authority",
            "tests_passed",
            "first_seen",
            "last_login_at",
            "email_verified_at",
            "user_email_authenticated",
            "password_changed",
            "phone_count",
            "content_address",
            "storageAddress",
            "server_address",
        ] {
            assert!(!looks_personal(no), "{no}");
        }
    }

    #[test]
    fn suggested_rules_follow_what_a_name_holds() {
        let col = |name: &str| Column {
            name: name.into(),
            nullable: false,
            generated: false,
            defaulted: false,
            data_type: "varbinary".into(),
            charset: None,
            collation: None,
            members: None,
            max_chars: Some(255),
            max_bytes: None,
            max_number: None,
            holds_only: None,
        };
        for (name, rule) in [
            ("user_name", "{fake: username}"),
            ("user_login", "{fake: username}"),
            ("user_real_name", "{fake: name}"),
            ("full_name", "{fake: name}"),
            ("user_email", "{fake: email}"),
        ] {
            assert_eq!(suggested_rule(&col(name)), rule, "{name}");
        }
    }

    #[test]
    fn json_paths() {
        assert_eq!(
            parse_path("$.a[*].b"),
            Some(vec![
                PathStep::Key("a".into()),
                PathStep::All,
                PathStep::Key("b".into())
            ])
        );
        assert_eq!(
            parse_path("$.a[2]"),
            Some(vec![PathStep::Key("a".into()), PathStep::Index(2)])
        );
        assert_eq!(parse_path("a.b"), None);
    }

    #[test]
    fn collations_fold_what_they_ignore() {
        let text = |s: &str| Value::Text(s.into());
        let folded = |collation: Option<&str>, s: &str| Fold::of(collation).apply(&text(s));
        // MariaDB's and MySQL's case-insensitive PAD SPACE collations: case and trailing spaces.
        for c in [
            "utf8mb4_general_ci",
            "latin1_swedish_ci",
            "utf8mb4_uca1400_ai_ci",
        ] {
            assert_eq!(
                folded(Some(c), "Ärger@X.com  "),
                Some(text("ärger@x.com")),
                "{c}"
            );
        }
        // Case-sensitive ones compare trailing spaces only, unless NO PAD.
        assert_eq!(folded(Some("utf8mb4_bin"), "Ab  "), Some(text("Ab")));
        assert_eq!(folded(Some("utf8mb4_nopad_bin"), "Ab "), None);
        assert_eq!(folded(Some("utf8mb4_0900_ai_ci"), "Ab "), Some(text("ab ")));
        // SQLite's: NOCASE folds ASCII letters only, RTRIM trailing spaces, BINARY nothing.
        assert_eq!(folded(Some("nocase"), "ÄB "), Some(text("Äb ")));
        assert_eq!(folded(Some("rtrim"), "AB "), Some(text("AB")));
        assert_eq!(folded(Some("binary"), "AB"), None);
        assert_eq!(folded(None, "AB"), None);
        assert_eq!(
            Fold::of(Some("utf8mb4_general_ci")).apply(&Value::Int(1)),
            None
        );
    }

    #[test]
    fn dates_shift_and_zero_dates_stay() {
        let d = Value::Date {
            year: 2024,
            month: 2,
            day: 29,
        };
        assert_eq!(
            shift_date(&d, 1),
            Value::Date {
                year: 2024,
                month: 3,
                day: 1
            }
        );
        let z = Value::Date {
            year: 0,
            month: 0,
            day: 0,
        };
        assert_eq!(shift_date(&z, 5), z);
        assert_eq!(
            shift_date(&Value::Text("2024-01-31 10:00".into()), 1),
            Value::Text("2024-02-01 10:00".into())
        );
    }
}
