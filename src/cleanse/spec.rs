//! Cleansing rules as written in the graph file.
//!
//! ```yaml
//! cleanse:
//!   strict: true                    # refuse to dump while a personal-looking column has no rule
//!   secret_env: PARTIALDUMP_SECRET  # where the key for fake/hash values comes from (the default)
//!   locale: en                      # for fake values
//!   patterns:                       # rules by column name (regex), type and table
//!     - {column: email, rule: {fake: email}}
//! tables:
//!   users:
//!     cleanse:
//!       full_name: {fake: name}
//!       phone: {mask: {keep_last: 2}}
//!       bio: keep                   # reviewed: not personal
//! ```

use crate::config::{At, Scalar};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanseSpec {
    #[serde(default)]
    pub strict: bool,
    /// Environment variable holding the secret; `PARTIALDUMP_SECRET` when omitted.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the secret (used when the variable is not set).
    #[serde(default)]
    pub secret_file: Option<At<String>>,
    #[serde(default)]
    pub locale: Option<At<String>>,
    #[serde(default)]
    pub patterns: Vec<At<PatternSpec>>,
}

/// A rule for every column whose name (and optionally type and table) match.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    /// Regular expression on the column name (case-insensitive, anywhere in the name).
    pub column: String,
    /// Regular expression on the column's type (`char|text`).
    #[serde(default, rename = "type")]
    pub data_type: Option<String>,
    /// Regular expression on the table name.
    #[serde(default)]
    pub table: Option<String>,
    pub rule: Rule,
}

/// One cleanser with its settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Reviewed, not personal: written as it is.
    Keep,
    /// Written as NULL.
    Null,
    /// A constant.
    Value(Scalar),
    /// A fake value of a kind (`email`, `name`, ...).
    Fake(String),
    /// A keyed hash (HMAC-SHA256).
    Hash(HashSpec),
    /// Matches of a pattern inside text are replaced by a rule's output.
    Regex(RegexSpec),
    /// Keeps the format: digits stay digits, letters letters.
    Mask(MaskSpec),
    /// Moves a date by up to ± `days` (never 0).
    DateShift(DateShiftSpec),
    /// Other columns' cleansed values combined: `"{first_name}.{last_name}@example.com"`.
    Template(String),
    /// Rules for paths inside a JSON document: `{"$.email": {fake: email}}`.
    Json(IndexMap<String, Rule>),
    /// A rule by other columns' values, for tables of names and values (WordPress's
    /// `wp_usermeta`): the first case whose `when` the row's original values meet gives the
    /// rule; a row that meets none keeps its value.
    Cases(Vec<CaseSpec>),
}

/// One case of a `cases` rule: `{when: {meta_key: [first_name, nickname]}, rule: {fake: first_name}}`;
/// without `when`, every row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    #[serde(default)]
    pub when: IndexMap<String, OneOrMany>,
    pub rule: Rule,
}

/// A value, or a list of values any of which matches.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

impl OneOrMany {
    pub fn values(&self) -> &[Scalar] {
        match self {
            OneOrMany::One(v) => std::slice::from_ref(v),
            OneOrMany::Many(v) => v,
        }
    }
}

impl Rule {
    /// Whether the rule derives values from the secret.
    pub fn needs_secret(&self) -> bool {
        match self {
            Rule::Keep | Rule::Null | Rule::Value(_) | Rule::Template(_) => false,
            Rule::Regex(r) => r.replace.needs_secret(),
            Rule::Json(paths) => paths.values().any(Rule::needs_secret),
            Rule::Cases(cases) => cases.iter().any(|c| c.rule.needs_secret()),
            _ => true,
        }
    }

    /// The rule's name as the graph writes it (`fake`, `hash`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Keep => "keep",
            Rule::Null => "null",
            Rule::Value(_) => "value",
            Rule::Fake(_) => "fake",
            Rule::Hash(_) => "hash",
            Rule::Regex(_) => "regex",
            Rule::Mask(_) => "mask",
            Rule::DateShift(_) => "date_shift",
            Rule::Template(_) => "template",
            Rule::Json(_) => "json",
            Rule::Cases(_) => "cases",
        }
    }

    /// A stable text for the rule, used to tell rules apart: two columns with the same rule
    /// (and locale) map the same value to the same output.
    pub fn domain(&self) -> String {
        format!("{self:?}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HashSpec {
    /// `hex`, `number`, or a pattern where `#` is a digit, `A`/`a` a letter, `x` a hex digit.
    pub format: String,
    /// Hex output length (default 16).
    pub length: Option<usize>,
    /// Largest number for `number` (default: the column type's largest).
    pub max: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HashMap_ {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    length: Option<usize>,
    #[serde(default)]
    max: Option<u64>,
}

impl<'de> Deserialize<'de> for HashSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HashSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "`hex`, `number`, a pattern like `###-##-####`, or {format, length, max}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HashSpec, E> {
                Ok(HashSpec {
                    format: v.to_string(),
                    length: None,
                    max: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HashSpec, A::Error> {
                let m = HashMap_::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(HashSpec {
                    format: m.format.unwrap_or_else(|| "hex".into()),
                    length: m.length,
                    max: m.max,
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegexSpec {
    pub pattern: String,
    pub replace: Box<Rule>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskSpec {
    #[serde(default)]
    pub keep_first: usize,
    #[serde(default)]
    pub keep_last: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateShiftSpec {
    pub days: u32,
}
