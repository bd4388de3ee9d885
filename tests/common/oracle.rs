//! An independent statement of what a dump of the fixture must contain: the fixture's edges
//! written out by hand (not read from the YAML or introspected), walked one row at a time with
//! plain SQL. Slow and simple on purpose; it shares no code with partialdump.

use super::{Db, Row};
use std::collections::{BTreeMap, BTreeSet};

/// Every table of the fixture with its key columns.
pub const KEYS: &[(&str, &[&str])] = &[
    ("plans", &["id"]),
    ("countries", &["code"]),
    ("accounts", &["id"]),
    ("sessions", &["id"]),
    ("users", &["id"]),
    ("projects", &["id"]),
    ("tasks", &["id"]),
    ("tags", &["id"]),
    ("task_tags", &["task_id", "tag_id"]),
    ("comments", &["id"]),
    ("audit_events", &["id"]),
    ("order", &["id"]),
    ("group", &["id"]),
    ("stores", &["id"]),
    ("staff", &["id"]),
    ("type_zoo", &["id"]),
];

pub struct Edge {
    pub child: &'static str,
    pub cols: &'static [&'static str],
    pub parent: &'static str,
    pub refcols: &'static [&'static str],
    pub when: Option<(&'static str, &'static str)>,
}

const fn e(
    child: &'static str,
    col: &'static [&'static str],
    parent: &'static str,
    refcol: &'static [&'static str],
) -> Edge {
    Edge {
        child,
        cols: col,
        parent,
        refcols: refcol,
        when: None,
    }
}

/// Every reference that must be followed upward (users.last_session_id is nullified).
pub const PARENTS: &[Edge] = &[
    e("accounts", &["plan_id"], "plans", &["id"]),
    e("accounts", &["owner_user_id"], "users", &["id"]),
    e("users", &["account_id"], "accounts", &["id"]),
    e("users", &["manager_id"], "users", &["id"]),
    e("users", &["country_code"], "countries", &["code"]),
    e("projects", &["account_id"], "accounts", &["id"]),
    e("projects", &["created_by"], "users", &["id"]),
    e("tasks", &["project_id"], "projects", &["id"]),
    e("tasks", &["parent_task_id"], "tasks", &["id"]),
    e("tasks", &["assignee_id"], "users", &["id"]),
    e("tags", &["account_id"], "accounts", &["id"]),
    e("task_tags", &["task_id"], "tasks", &["id"]),
    e("task_tags", &["tag_id"], "tags", &["id"]),
    e("comments", &["author_id"], "users", &["id"]),
    Edge {
        when: Some(("subject_type", "Task")),
        ..e("comments", &["subject_id"], "tasks", &["id"])
    },
    Edge {
        when: Some(("subject_type", "Project")),
        ..e("comments", &["subject_id"], "projects", &["id"])
    },
    e("audit_events", &["account_id"], "accounts", &["id"]),
    e("order", &["account_id"], "accounts", &["id"]),
    e("group", &["order_id"], "order", &["id"]),
    e("stores", &["account_id"], "accounts", &["id"]),
    e("stores", &["manager_staff_id"], "staff", &["id"]),
    e("staff", &["store_id"], "stores", &["id"]),
    e("staff", &["user_id"], "users", &["id"]),
    e("type_zoo", &["account_id"], "accounts", &["id"]),
];

/// The ownership edges of schemas/app.yaml.
pub const CHILDREN: &[Edge] = &[
    e("users", &["account_id"], "accounts", &["id"]),
    e("projects", &["account_id"], "accounts", &["id"]),
    e("tags", &["account_id"], "accounts", &["id"]),
    e("order", &["account_id"], "accounts", &["id"]),
    e("stores", &["account_id"], "accounts", &["id"]),
    e("audit_events", &["account_id"], "accounts", &["id"]),
    e("type_zoo", &["account_id"], "accounts", &["id"]),
    e("tasks", &["project_id"], "projects", &["id"]),
    Edge {
        when: Some(("subject_type", "Project")),
        ..e("comments", &["subject_id"], "projects", &["id"])
    },
    e("task_tags", &["task_id"], "tasks", &["id"]),
    Edge {
        when: Some(("subject_type", "Task")),
        ..e("comments", &["subject_id"], "tasks", &["id"])
    },
    e("group", &["order_id"], "order", &["id"]),
    e("staff", &["store_id"], "stores", &["id"]),
];

/// Columns whose reference is not followed (`nullify`): NULL in every dumped row.
pub const NULLIFIED: &[(&str, &str)] = &[("users", "last_session_id")];

pub const LOOKUPS: &[&str] = &["plans", "countries"];

/// Expected key set per table.
pub type Expected = BTreeMap<String, BTreeSet<Row>>;

fn key_cols(table: &str) -> &'static [&'static str] {
    KEYS.iter()
        .find(|(t, _)| *t == table)
        .map(|(_, k)| *k)
        .unwrap()
}

fn lit(v: &Option<String>) -> String {
    match v {
        None => "NULL".into(),
        Some(s) => format!("'{}'", s.replace('\'', "''")),
    }
}

fn where_eq(db: &dyn Db, cols: &[&str], vals: &[Option<String>]) -> String {
    cols.iter()
        .zip(vals)
        .map(|(c, v)| format!("{} = {}", db.quote(c), lit(v)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The rows a dump rooted at `root_table` rows matching `root_where` must hold.
pub fn expected(db: &mut dyn Db, root_table: &str, root_where: &str) -> Expected {
    let mut included: BTreeMap<(String, Row), bool> = BTreeMap::new();
    let mut queue: Vec<(String, Row, bool)> = Vec::new();
    let select_keys = |db: &mut dyn Db, table: &str, cond: &str| -> Vec<Row> {
        let cols: Vec<String> = key_cols(table).iter().map(|c| db.quote(c)).collect();
        db.rows(&format!(
            "SELECT {} FROM {} WHERE {cond}",
            cols.join(", "),
            db.quote(table)
        ))
    };
    let add = |included: &mut BTreeMap<(String, Row), bool>,
               queue: &mut Vec<(String, Row, bool)>,
               t: &str,
               k: Row,
               owned: bool| {
        let entry = included.get(&(t.to_string(), k.clone())).copied();
        match entry {
            None => {
                included.insert((t.to_string(), k.clone()), owned);
                queue.push((t.to_string(), k, owned));
            }
            Some(false) if owned => {
                included.insert((t.to_string(), k.clone()), true);
                queue.push((t.to_string(), k, true));
            }
            _ => {}
        }
    };
    for k in select_keys(db, root_table, root_where) {
        add(&mut included, &mut queue, root_table, k, true);
    }
    for t in LOOKUPS {
        for k in select_keys(db, t, "1 = 1") {
            add(&mut included, &mut queue, t, k, false);
        }
    }
    while let Some((t, k, owned)) = queue.pop() {
        let me = where_eq(db, key_cols(&t), &k);
        if owned {
            for edge in CHILDREN.iter().filter(|e| e.parent == t) {
                let refcols: Vec<String> = edge.refcols.iter().map(|c| db.quote(c)).collect();
                let vals = db.rows(&format!(
                    "SELECT {} FROM {} WHERE {me}",
                    refcols.join(", "),
                    db.quote(&t)
                ));
                let mut cond = where_eq(db, edge.cols, &vals[0]);
                if let Some((c, v)) = edge.when {
                    cond.push_str(&format!(" AND {} = '{v}'", db.quote(c)));
                }
                for ck in select_keys(db, edge.child, &cond) {
                    add(&mut included, &mut queue, edge.child, ck, true);
                }
            }
        }
        for edge in PARENTS.iter().filter(|e| e.child == t) {
            let cols: Vec<String> = edge.cols.iter().map(|c| db.quote(c)).collect();
            let mut cond = me.clone();
            if let Some((c, v)) = edge.when {
                cond.push_str(&format!(" AND {} = '{v}'", db.quote(c)));
            }
            let vals = db.rows(&format!(
                "SELECT {} FROM {} WHERE {cond}",
                cols.join(", "),
                db.quote(&t)
            ));
            let Some(vals) = vals.into_iter().next() else {
                continue;
            };
            if vals.iter().any(Option::is_none) {
                continue;
            }
            let cond = where_eq(db, edge.refcols, &vals);
            for pk in select_keys(db, edge.parent, &cond) {
                add(&mut included, &mut queue, edge.parent, pk, false);
            }
        }
    }
    let mut out: Expected = BTreeMap::new();
    for ((t, k), _) in included {
        out.entry(t).or_default().insert(k);
    }
    out
}
