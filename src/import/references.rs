//! References of rows loaded without foreign-key checks, proven in the client where it can.
//!
//! Rows go in without the target checking their foreign keys when the dump asks for it (a cycle
//! of NOT NULL references) or when MariaDB loads an empty table in bulk. Every such reference
//! must still find its row before the import commits. Most point at rows the same import loaded,
//! so the keys of loaded rows are kept here and each reference is looked up among them; only a
//! foreign key with a reference not found (a row that was in the target before, a value that
//! matches only under the column's collation, or a dangling one) is checked by the target.

use crate::engine::value::Value;
use crate::schema::Schema;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

/// Keys as 128-bit fingerprints (two hashes with random seeds of this process): 16 bytes a key
/// whatever its width. Two different keys share a fingerprint with a probability of about
/// 2^-128 per pair, which no dump comes near.
type Keys = HashSet<u128, foldhash::fast::RandomState>;

/// A referenced table and the referenced columns, in the foreign key's order.
type Referenced = (String, Vec<String>);

#[derive(Default)]
pub struct LoadedReferences {
    seeds: (
        foldhash::quality::RandomState,
        foldhash::quality::RandomState,
    ),
    /// The keys of the rows loaded, per referenced table and column list (only those some
    /// foreign key of the target references).
    keys: HashMap<Referenced, Keys>,
    /// References not found when their rows were loaded, per table and foreign key (its index
    /// in the table's list).
    pending: BTreeMap<(String, usize), Keys>,
    /// Tables to check whole in the target (rows changed by UPDATE without checks).
    whole: BTreeSet<String>,
}

/// The positions of `wanted` among `columns`; `None` unless all are there.
fn positions(columns: &[String], wanted: &[String]) -> Option<Vec<usize>> {
    wanted
        .iter()
        .map(|w| columns.iter().position(|c| c == w))
        .collect()
}

impl LoadedReferences {
    /// The fingerprint of the values at `at` of `row`; `None` if one is NULL (such a
    /// reference needs no row).
    fn fingerprint(&self, row: &[Value], at: &[usize]) -> Option<u128> {
        let (mut a, mut b) = (self.seeds.0.build_hasher(), self.seeds.1.build_hasher());
        for &i in at {
            let v = row.get(i).filter(|v| !v.is_null())?;
            v.hash(&mut a);
            v.hash(&mut b);
        }
        Some((u128::from(a.finish()) << 64) | u128::from(b.finish()))
    }

    /// Records the rows of one INSERT: their keys, and, when they went in `unchecked`, their
    /// references.
    pub fn loaded(
        &mut self,
        schema: &Schema,
        table: &str,
        columns: &[String],
        rows: &[Vec<Value>],
        unchecked: bool,
    ) {
        // Keys first: a row may reference a row of the same statement (a self-reference).
        let referenced: BTreeSet<&Vec<String>> = schema
            .tables
            .values()
            .flat_map(|t| &t.foreign_keys)
            .filter(|fk| fk.ref_table == table)
            .map(|fk| &fk.ref_columns)
            .collect();
        for ref_columns in referenced {
            let Some(at) = positions(columns, ref_columns) else {
                continue;
            };
            let loaded: Vec<u128> = rows
                .iter()
                .filter_map(|r| self.fingerprint(r, &at))
                .collect();
            self.keys
                .entry((table.to_string(), ref_columns.clone()))
                .or_default()
                .extend(loaded);
        }
        if !unchecked {
            return;
        }
        let Some(t) = schema.table(table) else {
            return;
        };
        for (i, fk) in t.foreign_keys.iter().enumerate() {
            let Some(at) = positions(columns, &fk.columns) else {
                // Columns the dump leaves out keep their defaults: the target decides.
                self.whole.insert(table.to_string());
                continue;
            };
            let found = self
                .keys
                .get(&(fk.ref_table.clone(), fk.ref_columns.clone()));
            let missing: Vec<u128> = rows
                .iter()
                .filter_map(|r| self.fingerprint(r, &at))
                .filter(|k| found.is_none_or(|f| !f.contains(k)))
                .collect();
            self.pending
                .entry((table.to_string(), i))
                .or_default()
                .extend(missing);
        }
    }

    /// Rows of `table` went in or changed without foreign-key checks and are not proven here
    /// (an UPDATE, or rows loaded while keys are not kept): the target checks every foreign
    /// key of the table.
    pub fn check_in_target(&mut self, table: &str) {
        self.whole.insert(table.to_string());
    }

    /// The foreign keys (table, indexes into its list) the target must check: those with a
    /// reference to no row this import loaded.
    pub fn unproven(&self, schema: &Schema) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for table in &self.whole {
            if let Some(t) = schema.table(table) {
                out.insert(table.clone(), (0..t.foreign_keys.len()).collect());
            }
        }
        for ((table, i), refs) in &self.pending {
            let Some(fk) = schema.table(table).and_then(|t| t.foreign_keys.get(*i)) else {
                continue;
            };
            let found = self
                .keys
                .get(&(fk.ref_table.clone(), fk.ref_columns.clone()));
            if refs.iter().any(|k| found.is_none_or(|f| !f.contains(k))) {
                let fks = out.entry(table.clone()).or_default();
                if !fks.contains(i) {
                    fks.push(*i);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ForeignKey, Table};

    /// `a.b_id -> b.id` and `b.a_id -> a.id`: a cycle, as a dump loads it with checks off.
    fn cycle() -> Schema {
        let table = |name: &str, other: &str| Table {
            name: name.into(),
            columns: Vec::new(),
            primary_key: vec!["id".into()],
            foreign_keys: vec![ForeignKey {
                name: format!("{name}_fk"),
                columns: vec![format!("{other}_id")],
                ref_table: other.into(),
                ref_columns: vec!["id".into()],
            }],
            indexes: Vec::new(),
            unique: Vec::new(),
            rows_estimate: None,
            engine: None,
            rowid: None,
            outside_refs: Vec::new(),
        };
        let mut schema = Schema::default();
        schema.tables.insert("a".into(), table("a", "b"));
        schema.tables.insert("b".into(), table("b", "a"));
        schema
    }

    /// Loads rows `(id, reference)` into table `a` or `b` of [`cycle`].
    fn load(
        refs: &mut LoadedReferences,
        table: &str,
        pairs: &[(i64, Option<i64>)],
        unchecked: bool,
    ) {
        let other = if table == "a" { "b" } else { "a" };
        let rows: Vec<Vec<Value>> = pairs
            .iter()
            .map(|&(id, r)| vec![Value::Int(id), r.map_or(Value::Null, Value::Int)])
            .collect();
        let columns = ["id".to_string(), format!("{other}_id")];
        refs.loaded(&cycle(), table, &columns, &rows, unchecked);
    }

    #[test]
    fn references_to_rows_loaded_later_are_proven_in_the_client() {
        let schema = cycle();
        let mut refs = LoadedReferences::default();
        // a's rows come first and point at b's rows, which come in a later statement.
        load(&mut refs, "a", &[(1, Some(10)), (2, None)], true);
        load(&mut refs, "b", &[(10, Some(2))], true);
        assert!(refs.unproven(&schema).is_empty());
    }

    #[test]
    fn a_reference_to_no_loaded_row_is_left_to_the_target() {
        let schema = cycle();
        let mut refs = LoadedReferences::default();
        load(&mut refs, "a", &[(1, Some(11))], true);
        load(&mut refs, "b", &[(10, Some(1))], true);
        assert_eq!(
            refs.unproven(&schema),
            BTreeMap::from([("a".to_string(), vec![0])])
        );
        // Checked rows need no proof; an UPDATE without checks has its table checked whole.
        let mut refs = LoadedReferences::default();
        load(&mut refs, "a", &[(1, Some(11))], false);
        assert!(refs.unproven(&schema).is_empty());
        refs.check_in_target("b");
        assert_eq!(
            refs.unproven(&schema),
            BTreeMap::from([("b".to_string(), vec![0])])
        );
    }
}
