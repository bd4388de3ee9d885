//! `init`, `check`, `plan` and `graph` as a user runs them.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn write_graph(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn edited(db: &SqliteDb, edit: impl Fn(String) -> String) -> PathBuf {
    let text = edit(std::fs::read_to_string(graph()).unwrap());
    write_graph(db.path.parent().unwrap(), "edited.yaml", &text)
}

fn check(url: &str, graph: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["check", "--source", url, "--graph", graph.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = partialdump(&args);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

// ---------------------------------------------------------------- init

fn init_then_dump_loads(src_url: &str, load: impl Fn(&Path) -> Result<(), String>, dir: &Path) {
    let g = dir.join("init.yaml");
    let o = partialdump(&[
        "init",
        "--source",
        src_url,
        "--root-table",
        "accounts",
        "-o",
        g.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&g).unwrap();
    // What a reviewer looks for in the starter file.
    assert!(text.contains("  accounts:\n    children:\n"), "{text}");
    assert!(
        text.contains("#   - {columns: subject_id, table: tasks, when: {subject_type: Task}}"),
        "{text}"
    );
    assert!(
        text.contains("#   - {columns: account_id, table: accounts}"),
        "{text}"
    );
    assert!(text.contains("# foreign keys: "), "{text}");
    assert!(text.contains("DECIDE"), "{text}");
    // Writing again does not overwrite it.
    let again = partialdump(&[
        "init",
        "--source",
        src_url,
        "--root-table",
        "accounts",
        "-o",
        g.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("not overwritten"),
        "{}",
        stderr(&again)
    );
    // The file, unchanged, drives a dump that loads with foreign-key checks on.
    let out = dir.join("init-dump.sql");
    partialdump_ok(&[
        "dump",
        "--source",
        src_url,
        "--graph",
        g.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    load(&out).expect("a dump with the init graph loads with foreign-key checks on");
}

#[test]
fn sqlite_init_graph_dumps_as_written() {
    let src = SqliteDb::fixture(true);
    let dst = src.empty_twin("t.db");
    init_then_dump_loads(&src.url(), |f| dst.load(f), src.path.parent().unwrap());
    let mut dst = dst;
    assert!(dst.rows("PRAGMA foreign_key_check").is_empty());
    assert_eq!(
        dst.rows("SELECT count(*) FROM accounts WHERE id = 1"),
        vec![vec![Some("1".into())]]
    );
}

#[test]
fn mysql_init_graph_dumps_as_written() {
    let Some(src) = MysqlDb::fixture("init_s", true) else {
        return;
    };
    let Some(dst) = MysqlDb::fixture("init_d", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    init_then_dump_loads(&src.url(), |f| dst.load_file(f), dir.path());
}

/// WordPress declares no foreign keys, prefixes every table (`wp_posts`) and names references
/// `comment_post_ID`: `init` guessed none of them. A reference by its last words
/// (`billing_customer_id`) is guessed too, but not one whose type the key's cannot be.
#[test]
fn init_guesses_references_under_a_table_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "wp.db",
        "CREATE TABLE wp_users (ID INTEGER PRIMARY KEY, user_login TEXT);
         CREATE TABLE wp_usermeta (umeta_id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
         CREATE TABLE wp_posts (ID INTEGER PRIMARY KEY, post_author INTEGER NOT NULL);
         CREATE TABLE wp_comments (comment_ID INTEGER PRIMARY KEY, comment_post_ID INTEGER NOT NULL,
           user_id INTEGER NOT NULL, comment_type TEXT NOT NULL DEFAULT 'comment');
         INSERT INTO wp_comments (comment_post_ID, user_id) VALUES (1, 1);
         CREATE TABLE customers (id INTEGER PRIMARY KEY);
         CREATE TABLE wp_orders (id INTEGER PRIMARY KEY, stripe_customer_id TEXT,
           billing_customer_id INTEGER);",
    );
    let (guessed, text) = guessed_references(&path, "wp_users");
    assert_eq!(
        guessed,
        [
            "{columns: billing_customer_id, table: customers}",
            "{columns: comment_post_ID, table: wp_posts}",
            "{columns: user_id, table: wp_users}",
            "{columns: user_id, table: wp_users}",
        ],
        "{text}"
    );
}

/// Names in camel case without foreign keys, as .NET and Java applications write them
/// (Chinook's `InvoiceLine.InvoiceId`, `Track.MediaTypeId`): `init` guessed none, as it looked
/// for `_id` only.
#[test]
fn init_guesses_references_named_in_camel_case() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "chinook.db",
        "CREATE TABLE Invoice (InvoiceId INTEGER PRIMARY KEY, CustomerId INTEGER NOT NULL);
         CREATE TABLE Customer (CustomerId INTEGER PRIMARY KEY, SupportRepId INTEGER);
         CREATE TABLE MediaType (MediaTypeId INTEGER PRIMARY KEY);
         CREATE TABLE Track (TrackId INTEGER PRIMARY KEY, MediaTypeId INTEGER NOT NULL,
           Valid INTEGER, userID INTEGER);
         CREATE TABLE InvoiceLine (InvoiceLineId INTEGER PRIMARY KEY, InvoiceId INTEGER NOT NULL,
           TrackId INTEGER NOT NULL);
         CREATE TABLE users (id INTEGER PRIMARY KEY);
         -- Polymorphic in camel case too (.NET's `AttachableType`).
         CREATE TABLE Attachment (AttachmentId INTEGER PRIMARY KEY, AttachableType TEXT NOT NULL,
           AttachableId INTEGER NOT NULL);
         INSERT INTO Attachment VALUES (1, 'Track', 3), (2, 'Invoice', 5);",
    );
    let (guessed, text) = guessed_references(&path, "Customer");
    assert_eq!(
        guessed,
        [
            "{columns: AttachableId, table: Invoice, when: {AttachableType: Invoice}}",
            "{columns: AttachableId, table: Track, when: {AttachableType: Track}}",
            "{columns: CustomerId, table: Customer}",
            "{columns: InvoiceId, table: Invoice}",
            "{columns: MediaTypeId, table: MediaType}",
            "{columns: TrackId, table: Track}",
            "{columns: userID, table: users}",
        ],
        "{text}"
    );
}

/// MediaWiki declares no foreign keys and names most references by a table's name alone, after
/// the column's prefix (`revision.rev_page`, `watchlist.wl_user`): `init` guessed none of them.
/// A whole number leading an index is guessed; one no index leads (`cat_page`), a count
/// (`cat_pages`) and text (`tag`) are not. Nor is a table's reference to itself found only
/// through the end of its name (`change_tag.ct_tag_id`).
#[test]
fn init_guesses_references_named_by_a_table_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "mw.db",
        "CREATE TABLE page (page_id INTEGER PRIMARY KEY, page_title BLOB NOT NULL);
         CREATE TABLE user (user_id INTEGER PRIMARY KEY, user_name BLOB NOT NULL);
         CREATE TABLE actor (actor_id INTEGER PRIMARY KEY, actor_user INTEGER UNIQUE);
         CREATE TABLE revision (rev_id INTEGER PRIMARY KEY, rev_page INTEGER NOT NULL,
           rev_actor INTEGER NOT NULL, rev_len INTEGER);
         CREATE INDEX rev_page_id ON revision (rev_page, rev_id);
         CREATE INDEX rev_actor ON revision (rev_actor);
         CREATE TABLE category (cat_id INTEGER PRIMARY KEY, cat_pages INTEGER, cat_page INTEGER);
         CREATE INDEX cat_pages ON category (cat_pages);
         CREATE TABLE tag (tag TEXT PRIMARY KEY);
         CREATE TABLE watchlist (wl_user INTEGER NOT NULL, wl_title BLOB NOT NULL, tag TEXT,
           PRIMARY KEY (wl_user, wl_title));
         CREATE INDEX wl_tag ON watchlist (tag);
         -- `ct_tag_id` names a `change_tag_def`, not the table its `_tag` ends; a reference
         -- named after its own table is one to itself (`topics.parent_topic_id`).
         CREATE TABLE change_tag (ct_id INTEGER PRIMARY KEY, ct_tag_id INTEGER NOT NULL);
         CREATE TABLE change_tag_def (ctd_id INTEGER PRIMARY KEY);
         CREATE TABLE topics (id INTEGER PRIMARY KEY, parent_topic_id INTEGER);",
    );
    let (guessed, text) = guessed_references(&path, "page");
    assert_eq!(
        guessed,
        [
            "{columns: actor_user, table: user}",
            "{columns: parent_topic_id, table: topics}",
            "{columns: rev_actor, table: actor}",
            "{columns: rev_page, table: page}",
            "{columns: wl_user, table: user}",
        ],
        "{text}"
    );
    // Followed, they make the page's revisions its children.
    let url = format!("sqlite:{}", path.display());
    let followed = init_text(&url, "page", &["--follow-guesses"]);
    assert!(
        followed.contains("  page:\n    children:\n      - revision\n"),
        "{followed}"
    );
}

/// A table the root's rows never reach that references rows they reach as parents (Sakila's
/// `film_actor`, of the films a store's inventory references): `init` says how an `always`
/// edge brings it, and the file stays valid as written.
#[test]
fn init_says_how_to_bring_the_rows_of_a_parent_reached_table() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "cast.db",
        "CREATE TABLE store (id INTEGER PRIMARY KEY);
         CREATE TABLE film (id INTEGER PRIMARY KEY);
         CREATE TABLE inventory (id INTEGER PRIMARY KEY, store_id INT NOT NULL REFERENCES store(id),
           film_id INT NOT NULL REFERENCES film(id));
         CREATE TABLE film_actor (film_id INT NOT NULL REFERENCES film(id), actor TEXT NOT NULL,
           PRIMARY KEY (film_id, actor));
         CREATE INDEX inventory_store ON inventory (store_id);",
    );
    let url = format!("sqlite:{}", path.display());
    let o = partialdump_ok(&["init", "--source", &url, "--root-table", "store"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(
            "# list `{table: film_actor, always: true}` under `film: {children: ...}`.\n  film_actor:\n    mode: skip"
        ),
        "{text}"
    );
    let graph = write_graph(dir.path(), "init.yaml", &text);
    let (code, out) = check(&url, &graph, &["--root-table", "store"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn init_names_an_unknown_root_table() {
    let src = SqliteDb::fixture(true);
    let o = partialdump(&["init", "--source", &src.url(), "--root-table", "acount"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("Did you mean `accounts`?"),
        "{}",
        stderr(&o)
    );
}

/// What `init` writes for the root table `root` of `url`, with `extra` arguments.
fn init_text(url: &str, root: &str, extra: &[&str]) -> String {
    let mut args = vec!["init", "--source", url, "--root-table", root];
    args.extend_from_slice(extra);
    String::from_utf8_lossy(&partialdump_ok(&args).stdout).into_owned()
}

/// The references `init` suggests (commented) for the SQLite file `path`, sorted, and its
/// whole output.
fn guessed_references(path: &Path, root_table: &str) -> (Vec<String>, String) {
    let url = format!("sqlite:{}", path.display());
    let text = init_text(&url, root_table, &[]);
    let mut guessed: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#   - "))
        .map(str::to_string)
        .collect();
    guessed.sort();
    (guessed, text)
}

/// Sakila names each key after its table (`address.address_id`): such a column names its own
/// row, and `init` suggested it as a reference to its own table. A key named after another
/// table (`film_text.film_id`) is still suggested.
#[test]
fn init_suggests_no_reference_from_a_key_to_its_own_row() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "sakila.db",
        "CREATE TABLE store (store_id INTEGER PRIMARY KEY, address_id INTEGER NOT NULL);
         CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL);
         CREATE TABLE film (film_id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL REFERENCES store(store_id));
         CREATE TABLE film_text (film_id INTEGER PRIMARY KEY, title TEXT);",
    );
    let (guessed, text) = guessed_references(&path, "store");
    // No key is suggested as naming its own table.
    assert_eq!(
        guessed,
        [
            "{columns: address_id, table: address}",
            "{columns: film_id, table: film}"
        ],
        "{text}"
    );
}

// ---------------------------------------------------------------- check

#[test]
fn check_is_clean_on_the_example_graph() {
    let src = SqliteDb::fixture(true);
    let (code, out) = check(&src.url(), &graph(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.is_empty(), "{out}");
    if let Some(m) = MysqlDb::fixture("check_clean", true) {
        let (code, out) = check(&m.url(), &graph(), &[]);
        assert_eq!(code, Some(0), "{out}");
    }
}

#[test]
fn check_unknown_table_and_column() {
    let src = SqliteDb::fixture(true);
    let g = edited(&src, |t| {
        t.replace("  countries: {mode: lookup}", "  countrys: {mode: lookup}")
            .replace("nullify: [last_session_id]", "nullify: [last_sesion_id]")
    });
    let (code, out) = check(&src.url(), &g, &[]);
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "both names are reported: {out}");
    let line_of = |needle: &str| {
        std::fs::read_to_string(&g)
            .unwrap()
            .lines()
            .position(|l| l.contains(needle))
            .unwrap()
            + 1
    };
    assert_eq!(
        lines[0],
        format!(
            "{}:{}:3: unknown-table: the source has no table `countrys`. Did you mean `countries`?",
            g.display(),
            line_of("countrys:")
        )
    );
    assert!(
        lines[1].ends_with("unknown-column: table `users` has no column `last_sesion_id`. Did you mean `last_session_id`?"),
        "{out}"
    );
}

#[test]
fn check_type_mismatch() {
    let src = SqliteDb::fixture(true);
    let g = edited(&src, |t| {
        t.replace(
            "      - {columns: account_id, table: accounts}",
            "      - {columns: account_id, table: accounts}\n      - {columns: action, table: plans}",
        )
    });
    let (code, out) = check(&src.url(), &g, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        out.trim(),
        "audit_events.action: type-mismatch: `audit_events.action` (text) references `plans.id` (integer): \
         the values cannot match reliably. Point the reference at a column of the same type."
    );
}

#[test]
fn check_unreached_table() {
    let src = SqliteDb::fixture(true);
    let g = edited(&src, |t| t.replace("      - audit_events\n", ""));
    let (code, out) = check(&src.url(), &g, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with(
            "audit_events: unreached-table: table `audit_events` is neither reached from accounts nor skipped: \
             new since the graph was written? Its rows are never dumped. Fix: add it to an owner's `children`, \
             or declare `audit_events: {mode: lookup}` or `audit_events: {mode: skip}` in"
        ),
        "{out}"
    );
}

#[test]
fn check_unindexed_child_edge() {
    let src = SqliteDb::fixture(true);
    src.conn
        .execute_batch("DROP INDEX projects_account")
        .unwrap();
    let (code, out) = check(&src.url(), &graph(), &[]);
    assert_eq!(code, Some(1));
    assert_eq!(
        out.trim(),
        "projects.account_id: unindexed-child-edge: the child edge accounts -> projects looks rows up by \
         `projects.account_id`, which has no index: every batch of that walk scans the whole table. \
         Fix: CREATE INDEX projects_account_id_idx ON projects (account_id);"
    );
}

#[test]
fn check_not_null_cycle_when_checks_must_stay_on() {
    let src = SqliteDb::fixture(true);
    let (code, out) = check(&src.url(), &graph(), &["--require-fk-checks"]);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("staff, stores: not-null-cycle: staff, stores reference each other through NOT NULL columns only (staff.store_id -> stores.id; stores.manager_staff_id -> staff.id)"), "{out}");
}

#[test]
fn check_edge_into_skipped_table() {
    let src = SqliteDb::fixture(true);
    let g = edited(&src, |t| t.replace("    nullify: [last_session_id]\n", ""));
    let (code, out) = check(&src.url(), &g, &[]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(": plan: `users.last_session_id` references the skipped table `sessions`"),
        "{out}"
    );
}

#[test]
fn check_syntax_error_and_json() {
    let src = SqliteDb::fixture(true);
    let g = edited(&src, |t| {
        t.replace("  plans: {mode: lookup}", "  plans: {mode: lookup")
    });
    let (code, out) = check(&src.url(), &g, &["--json"]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["kind"], "syntax");
    assert!(
        v[0]["where"]
            .as_str()
            .unwrap()
            .starts_with(&g.display().to_string())
    );
}

#[test]
fn check_cannot_run_is_exit_2() {
    let (code, _) = check("mysql://x:y@127.0.0.1:1/app", &graph(), &[]);
    assert_eq!(code, Some(2));
}

// ---------------------------------------------------------------- plan

#[test]
fn plan_counts_match_the_oracle_and_explains_rows() {
    let mut src = SqliteDb::fixture(true);
    let g = graph();
    let o = partialdump_ok(&[
        "plan",
        "--source",
        &src.url(),
        "--graph",
        g.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "--json",
        "--explain",
        "users.id=5",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let expected = oracle::expected(&mut src, "accounts", "id = 1");
    for t in v["tables"].as_array().unwrap() {
        let name = t["table"].as_str().unwrap();
        let want = expected.get(name).map_or(0, |s| s.len());
        assert_eq!(t["rows"].as_u64().unwrap() as usize, want, "rows of {name}");
    }
    // Parents come before children in the order.
    let order: Vec<&str> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    let pos = |t: &str| order.iter().position(|x| *x == t).unwrap();
    assert!(
        pos("plans") < pos("accounts")
            && pos("projects") < pos("tasks")
            && pos("tasks") < pos("task_tags")
    );
    let path: Vec<String> = v["explain"]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} ({})",
                s["table"].as_str().unwrap(),
                s["key"].as_str().unwrap(),
                s["how"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        path,
        vec![
            "accounts id=1 (root (--root accounts.id=1))",
            "projects id=1 (child of accounts via projects.account_id)",
            "tasks id=4 (child of projects via tasks.project_id)",
            "users id=5 (referenced by tasks.assignee_id)",
        ]
    );
    let o = partialdump_ok(&[
        "plan",
        "--source",
        &src.url(),
        "--graph",
        g.to_str().unwrap(),
        "--root",
        "accounts.id=1",
        "--explain",
        "users.id=6",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("users.id=6 is not in the dump"), "{text}");
    assert!(
        text.contains("accounts.owner_user_id -> users.id: written as NULL, restored by UPDATE"),
        "{text}"
    );
    assert!(
        // A child query reads whole rows: each row is read once, and the references it holds
        // are followed from it.
        text.contains("SELECT c.\"id\", c.\"account_id\", c.\"email\", c.\"full_name\", c.\"manager_id\", c.\"country_code\", c.\"last_session_id\" FROM \"users\" c WHERE c.\"account_id\" IN (…)"),
        "{text}"
    );
    assert!(
        text.contains("SELECT t.\"id\", t.\"account_id\", t.\"email\", t.\"full_name\", t.\"manager_id\", t.\"country_code\", t.\"last_session_id\" FROM \"users\" t WHERE t.\"id\" IN (…)"),
        "{text}"
    );
}

// ---------------------------------------------------------------- graph

#[test]
fn graph_dot_renders_with_graphviz() {
    let src = SqliteDb::fixture(true);
    let g = graph();
    let o = partialdump_ok(&[
        "graph",
        "--graph",
        g.to_str().unwrap(),
        "--source",
        &src.url(),
        "--format",
        "dot",
    ]);
    let dot = String::from_utf8(o.stdout).unwrap();
    assert!(
        dot.contains("\"accounts\" -> \"users\" [label=\"account_id\", penwidth=2.5"),
        "{dot}"
    );
    assert!(
        dot.contains(
            "\"users\" -> \"sessions\" [label=\"last_session_id\", style=dashed, color=gray"
        ),
        "{dot}"
    );
    assert!(
        dot.contains(
            "\"comments\" -> \"tasks\" [label=\"subject_id when subject_type='Task'\", style=dotted"
        ),
        "{dot}"
    );
    if std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true and Graphviz `dot` is not installed"
        );
        eprintln!("SKIPPED rendering: Graphviz `dot` not installed (scripts/test.sh installs it)");
        return;
    }
    use std::io::Write;
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(
        svg.contains("<svg") && svg.contains(">accounts</text>"),
        "{svg}"
    );

    let o = partialdump_ok(&[
        "graph",
        "--graph",
        g.to_str().unwrap(),
        "--format",
        "mermaid",
    ]);
    let m = String::from_utf8(o.stdout).unwrap();
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert!(m.contains("t_accounts ==>|\"\"| t_users"), "{m}");
    assert!(m.contains("class t_plans lookup"), "{m}");
}

/// An SQLite virtual table (FTS5) keeps its rows in shadow tables of its own, which a dump made
/// by INSERTs would copy twice or into the wrong rows: `init` leaves both out, a graph that
/// names one to copy is told why, and one that skips them (as `init` wrote them before) stands.
#[test]
fn sqlite_virtual_tables_are_no_tables_to_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _conn) = sqlite_file(
        dir.path(),
        "fts.db",
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT);
         CREATE VIRTUAL TABLE docs_fts USING fts5(title, content='docs', content_rowid='id');
         INSERT INTO docs VALUES (1, 'hello world'), (2, 'other');
         INSERT INTO docs_fts(docs_fts) VALUES ('rebuild');",
    );
    let url = format!("sqlite://{}", db.display());
    let o = partialdump_ok(&["init", "--source", &url, "--root-table", "docs"]);
    let init = String::from_utf8_lossy(&o.stdout);
    assert!(
        init.contains("  docs:") && !init.contains("docs_fts"),
        "{init}"
    );

    let g = write_graph(
        dir.path(),
        "skip.yaml",
        "tables:\n  docs: {}\n  docs_fts: {mode: skip}\n  docs_fts_data: {mode: skip}\n",
    );
    let (code, out) = check(&url, &g, &["--root-table", "docs"]);
    assert_eq!(code, Some(0), "{out}");
    let dump = |g: &Path| {
        partialdump(&[
            "dump",
            "--source",
            &url,
            "--graph",
            g.to_str().unwrap(),
            "--root",
            "docs.id=1",
        ])
    };
    let o = dump(&g);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("(1,'hello world')") && !text.contains("docs_fts"),
        "{text}"
    );

    let g = write_graph(
        dir.path(),
        "copy.yaml",
        "tables:\n  docs: {}\n  docs_fts: {mode: lookup}\n",
    );
    let o = dump(&g);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("copy.yaml:3:3: `docs_fts` is a virtual table of the source")
            && err.contains("'rebuild'"),
        "{err}"
    );
}

/// TPC-C's order lines reference their order and the stock they are supplied from, which a
/// warehouse owns nearer to it than the order. `init` made them children of the stock, so a
/// warehouse's dump held other warehouses' order lines (supplied from its stock), their orders
/// and customers, and lacked its own lines supplied from another warehouse. They belong to the
/// order their primary key begins with; a delivery, to the order it names NOT NULL rather than
/// the stock it may name.
#[test]
fn init_owns_a_table_through_the_reference_its_key_begins_with() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "tpcc.db",
        "PRAGMA foreign_keys = ON;
         CREATE TABLE warehouse (w_id INTEGER PRIMARY KEY);
         CREATE TABLE district (w_id INT NOT NULL REFERENCES warehouse, d_id INT NOT NULL,
           PRIMARY KEY (w_id, d_id));
         CREATE TABLE customer (w_id INT NOT NULL, d_id INT NOT NULL, c_id INT NOT NULL,
           PRIMARY KEY (w_id, d_id, c_id), FOREIGN KEY (w_id, d_id) REFERENCES district);
         CREATE TABLE orders (w_id INT NOT NULL, d_id INT NOT NULL, o_id INT NOT NULL,
           c_id INT NOT NULL, PRIMARY KEY (w_id, d_id, o_id),
           FOREIGN KEY (w_id, d_id, c_id) REFERENCES customer (w_id, d_id, c_id));
         CREATE TABLE stock (w_id INT NOT NULL REFERENCES warehouse, i_id INT NOT NULL,
           PRIMARY KEY (w_id, i_id));
         CREATE TABLE order_line (w_id INT NOT NULL, d_id INT NOT NULL, o_id INT NOT NULL,
           number INT NOT NULL, supply_w_id INT NOT NULL, i_id INT NOT NULL,
           PRIMARY KEY (w_id, d_id, o_id, number),
           FOREIGN KEY (w_id, d_id, o_id) REFERENCES orders,
           FOREIGN KEY (supply_w_id, i_id) REFERENCES stock);
         CREATE TABLE delivery (id INTEGER PRIMARY KEY, s_w_id INT, s_i_id INT,
           w_id INT NOT NULL, d_id INT NOT NULL, o_id INT NOT NULL,
           FOREIGN KEY (s_w_id, s_i_id) REFERENCES stock,
           FOREIGN KEY (w_id, d_id, o_id) REFERENCES orders);
         INSERT INTO warehouse VALUES (1), (2);
         INSERT INTO district VALUES (1, 1), (2, 1);
         INSERT INTO customer VALUES (1, 1, 1), (2, 1, 1);
         INSERT INTO orders VALUES (1, 1, 1, 1), (2, 1, 1, 1);
         INSERT INTO stock VALUES (1, 7), (2, 7);
         -- Warehouse 1's order has a line from warehouse 2's stock; warehouse 2's, one from 1's.
         INSERT INTO order_line VALUES (1, 1, 1, 1, 1, 7), (1, 1, 1, 2, 2, 7), (2, 1, 1, 1, 1, 7);
         INSERT INTO delivery VALUES (1, 1, 7, 2, 1, 1), (2, NULL, NULL, 1, 1, 1);",
    );
    let url = format!("sqlite:{}", path.display());
    let text = init_text(&url, "warehouse", &[]);
    assert!(
        text.contains("  orders:\n    children:\n      - delivery\n      - order_line\n"),
        "{text}"
    );
    assert!(
        text.contains("# owned through `orders` (its primary key begins with that reference), not through `stock`: check that its rows belong to `orders` rows\n  order_line: {}"),
        "{text}"
    );
    assert!(
        text.contains(
            "# owned through `orders` (that reference is never NULL), not through `stock`"
        ),
        "{text}"
    );
    assert!(text.contains("  stock: {}\n"), "{text}");

    // The file as written: warehouse 1's copy holds its order with both lines, and nothing of
    // warehouse 2 but the stock row (and so the warehouse) its line is supplied from.
    let graph = write_graph(dir.path(), "init.yaml", &text);
    let out = dir.path().join("w1.sql");
    dump_with_graph(
        &url,
        &graph,
        &["--root", "warehouse.w_id=1", "--with-schema"],
        &out,
    );
    let copy = dir.path().join("copy.db");
    import_ok(&format!("sqlite:{}", copy.display()), &out);
    let copy = rusqlite::Connection::open(copy).unwrap();
    let list = |sql: &str| -> Vec<String> {
        let mut st = copy.prepare(sql).unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(list("SELECT w_id || '/' || o_id FROM orders"), ["1/1"]);
    assert_eq!(
        list("SELECT w_id || '/' || number || ' from ' || supply_w_id FROM order_line ORDER BY 1"),
        ["1/1 from 1", "1/2 from 2"]
    );
    assert_eq!(list("SELECT CAST(id AS TEXT) FROM delivery"), ["2"]);
    assert_eq!(
        list("SELECT w_id || '/' || i_id FROM stock ORDER BY 1"),
        ["1/7", "2/7"]
    );
    assert_eq!(list("SELECT CAST(w_id AS TEXT) FROM customer"), ["1"]);
}

/// Django's generic relations: `taggit_taggeditem (content_type_id, object_id)` names a row of
/// the table `<app_label>_<model>` of the content type. `init` guessed none of them, and its
/// DECIDE note told to bring tagged items by an `always` edge under `django_content_type`,
/// which would bring every item of every type the dump holds. It now suggests one reference per
/// type the rows hold, inside the table's entry (so uncommenting them makes them its
/// references, which before made them a table named `references`), and says how its rows come
/// with the owned rows they name. Followed as written, the dump holds the user's tagged items.
#[test]
fn init_follows_djangos_generic_relations() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "django.db",
        "CREATE TABLE django_content_type (id INTEGER PRIMARY KEY, app_label TEXT NOT NULL,
           model TEXT NOT NULL);
         CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username TEXT NOT NULL);
         CREATE TABLE blog_post (id INTEGER PRIMARY KEY,
           author_id INTEGER NOT NULL REFERENCES auth_user (id));
         CREATE TABLE taggit_taggeditem (id INTEGER PRIMARY KEY, object_id INTEGER NOT NULL,
           content_type_id INTEGER NOT NULL REFERENCES django_content_type (id), tag TEXT);
         CREATE TABLE django_admin_log (id INTEGER PRIMARY KEY, object_id TEXT,
           content_type_id INTEGER REFERENCES django_content_type (id),
           user_id INTEGER NOT NULL REFERENCES auth_user (id));
         INSERT INTO django_content_type VALUES (4, 'auth', 'user'), (7, 'blog', 'post'),
           (9, 'shop', 'order');
         INSERT INTO auth_user VALUES (1, 'ada'), (2, 'bob');
         INSERT INTO blog_post VALUES (10, 1), (11, 1), (12, 2);
         INSERT INTO taggit_taggeditem VALUES (1, 10, 7, 'a'), (2, 11, 7, 'b'), (3, 12, 7, 'c'),
           (4, 1, 4, 'staff'), (5, 2, 4, 'new'), (6, 1, 9, 'x');
         CREATE INDEX blog_post_author ON blog_post (author_id);
         CREATE INDEX taggit_object ON taggit_taggeditem (object_id);
         CREATE INDEX admin_log_user ON django_admin_log (user_id);
         INSERT INTO django_admin_log VALUES (1, '12', 7, 1);",
    );
    let (guessed, text) = guessed_references(&path, "auth_user");
    assert_eq!(
        guessed,
        [
            "{columns: object_id, table: auth_user, when: {content_type_id: 4}}",
            "{columns: object_id, table: blog_post, when: {content_type_id: 7}}",
        ],
        "{text}"
    );
    assert!(
        text.contains("taggit_taggeditem.content_type_id = 9 (shop.order) names no table here"),
        "{text}"
    );
    assert!(
        text.contains("django_admin_log.object_id names `blog_post` rows where content_type_id = 7, but holds them as text"),
        "{text}"
    );
    assert!(
        text.contains("list `{table: taggit_taggeditem, via: object_id}` among the children of `auth_user` and `blog_post`."),
        "{text}"
    );
    assert!(!text.contains("always: true"), "{text}");

    // As the note says: the references uncommented, `mode: skip` removed, the children listed.
    let followed: String = text
        .lines()
        .map(|l| match l.strip_prefix("    # references:") {
            Some(_) => "    references:".to_string(),
            None => match l.strip_prefix("    #   - ") {
                Some(rest) => format!("      - {rest}"),
                None => l.to_string(),
            },
        })
        .filter(|l| {
            !(l == "    mode: skip" && text.contains("  taggit_taggeditem:\n    mode: skip"))
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace(
            "  auth_user:\n    children:\n",
            "  auth_user:\n    children:\n      - {table: taggit_taggeditem, via: object_id}\n",
        )
        .replace(
            "  blog_post: {}\n",
            "  blog_post:\n    children:\n      - {table: taggit_taggeditem, via: object_id}\n",
        );
    assert_eq!(followed.matches("via: object_id}").count(), 3, "{followed}");
    let graph = write_graph(dir.path(), "followed.yaml", &followed);
    let url = format!("sqlite:{}", path.display());
    let (code, out) = check(&url, &graph, &["--root-table", "auth_user"]);
    assert_eq!(code, Some(0), "{out}\n{followed}");
    let out = dir.path().join("ada.sql");
    let stats = dump_with_stats(&url, &graph, &["--root", "auth_user.id=1"], &out);
    // Ada's posts' tags and her own; not bob's post's, bob's, nor the order's.
    assert_eq!(stats_rows(&stats, "taggit_taggeditem"), Some(3), "{stats}");
}

/// Stack Overflow's data dump, like WordPress and many Rails applications, declares no foreign
/// keys: `init` could own nothing from the root, and left every table to `mode: skip`, its
/// guesses commented. `--follow-guesses` writes them as references and owns rows through them,
/// each table through a reference never NULL before a nullable one; the file as written dumps
/// a user's posts with their comments.
#[test]
fn init_follows_guessed_references_where_no_foreign_key_is_declared() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "so.db",
        "CREATE TABLE Users (Id INTEGER PRIMARY KEY, DisplayName TEXT NOT NULL);
         CREATE TABLE Posts (Id INTEGER PRIMARY KEY, OwnerUserId INTEGER, Title TEXT);
         CREATE TABLE Comments (Id INTEGER PRIMARY KEY, PostId INTEGER NOT NULL, UserId INTEGER,
           Text TEXT NOT NULL);
         CREATE INDEX posts_owner ON Posts (OwnerUserId);
         CREATE INDEX comments_post ON Comments (PostId);
         INSERT INTO Users VALUES (1, 'ada'), (2, 'bob');
         INSERT INTO Posts VALUES (10, 1, 'q'), (11, 2, 'a'), (12, NULL, 'wiki');
         -- Bob's comment on Ada's post comes with it, Ada's on Bob's post does not.
         INSERT INTO Comments VALUES (1, 10, 2, 'nice'), (2, 11, 1, 'thanks'), (3, 10, NULL, 'x');",
    );
    let url = format!("sqlite:{}", path.display());
    let text = init_text(&url, "Users", &[]);
    assert!(
        text.contains("`partialdump init --follow-guesses` writes them as references"),
        "{text}"
    );
    // Without it, a table naming the root's rows says how to make it their child.
    assert!(
        text.contains("list `{table: Posts, via: OwnerUserId}` among the children of `Users`."),
        "{text}"
    );
    let text = init_text(&url, "Users", &["--follow-guesses"]);
    assert!(
        text.contains("  Posts:\n    children:\n      - Comments\n    # references without a foreign key, guessed from names (check them):\n    references:\n      - {columns: OwnerUserId, table: Users}\n"),
        "{text}"
    );
    assert!(
        text.contains("  Users:\n    children:\n      - Posts\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "# owned through `Posts` (that reference is never NULL), not through `Users`"
        ),
        "{text}"
    );
    assert!(!text.contains("mode: skip"), "{text}");
    let graph = write_graph(dir.path(), "init.yaml", &text);
    let (code, out) = check(&url, &graph, &["--root-table", "Users"]);
    assert_eq!(code, Some(0), "{out}");
    let out = dir.path().join("ada.sql");
    let stats = dump_with_stats(&url, &graph, &["--root", "Users.Id=1"], &out);
    assert_eq!(stats_rows(&stats, "Posts"), Some(1), "{stats}");
    assert_eq!(stats_rows(&stats, "Comments"), Some(2), "{stats}");
    // Ada, and Bob as the author of a comment on her post.
    assert_eq!(stats_rows(&stats, "Users"), Some(2), "{stats}");
}

/// `--follow-guesses` with a polymorphic reference and no foreign key (Rails'
/// `attachable_type` + `attachable_id`): the table is a child of each owned table it names,
/// through that column, and a user's dump holds their avatar and their posts' attachments.
#[test]
fn init_follows_guessed_polymorphic_references_from_each_owned_table() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "poly.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
         CREATE TABLE attachments (id INTEGER PRIMARY KEY, attachable_type TEXT NOT NULL,
           attachable_id INTEGER NOT NULL);
         CREATE INDEX attachable ON attachments (attachable_type, attachable_id);
         CREATE INDEX posts_user ON posts (user_id);
         INSERT INTO users VALUES (1), (2);
         INSERT INTO posts VALUES (10, 1), (11, 2);
         INSERT INTO attachments VALUES (1, 'Post', 10), (2, 'Post', 11), (3, 'User', 1),
           (4, 'User', 2);",
    );
    let url = format!("sqlite:{}", path.display());
    let text = init_text(&url, "users", &["--follow-guesses"]);
    assert!(
        text.contains(
            "  posts:\n    children:\n      - {table: attachments, via: attachable_id}\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("  users:\n    children:\n      - {table: attachments, via: attachable_id}\n      - posts\n"),
        "{text}"
    );
    let graph = write_graph(dir.path(), "init.yaml", &text);
    let (code, out) = check(&url, &graph, &["--root-table", "users"]);
    assert_eq!(code, Some(0), "{out}");
    let stats = dump_with_stats(
        &url,
        &graph,
        &["--root", "users.id=1"],
        &dir.path().join("u.sql"),
    );
    assert_eq!(stats_rows(&stats, "attachments"), Some(2), "{stats}");
}

/// A hand-written graph that lists TPC-C's `order_line` under the `stock` it is supplied from,
/// where its key begins with its order's: a warehouse's dump takes other warehouses' order lines
/// (and their orders and customers, as parents) and misses its own supplied from elsewhere.
/// `check` says so, and says where the table belongs. A tenant's tasks keyed by
/// `(tenant_id, id)` under their project, through `(tenant_id, project_id)`, are not flagged:
/// the edge keeps to the tenant.
#[test]
fn check_names_a_child_listed_under_another_owner_than_its_key_says() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "tpcc.db",
        "CREATE TABLE warehouse (w_id INTEGER PRIMARY KEY);
         CREATE TABLE orders (w_id INT NOT NULL REFERENCES warehouse, o_id INT NOT NULL,
           PRIMARY KEY (w_id, o_id));
         CREATE TABLE stock (w_id INT NOT NULL REFERENCES warehouse, i_id INT NOT NULL,
           PRIMARY KEY (w_id, i_id));
         CREATE TABLE order_line (w_id INT NOT NULL, o_id INT NOT NULL, number INT NOT NULL,
           supply_w_id INT NOT NULL, i_id INT NOT NULL, PRIMARY KEY (w_id, o_id, number),
           FOREIGN KEY (w_id, o_id) REFERENCES orders, FOREIGN KEY (supply_w_id, i_id) REFERENCES stock);
         CREATE INDEX order_line_stock ON order_line (supply_w_id, i_id);
         CREATE TABLE projects (tenant_id INT NOT NULL REFERENCES warehouse, id INT NOT NULL,
           PRIMARY KEY (tenant_id, id));
         CREATE TABLE tasks (tenant_id INT NOT NULL REFERENCES warehouse, id INT NOT NULL,
           project_id INT NOT NULL, PRIMARY KEY (tenant_id, id),
           FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id));
         CREATE INDEX tasks_project ON tasks (tenant_id, project_id);",
    );
    let url = format!("sqlite:{}", path.display());
    let graph = |lines_under: &str| {
        write_graph(
            dir.path(),
            "g.yaml",
            &format!(
                "tables:\n  warehouse:\n    children: [orders, stock, projects]\n  {lines_under}:\n    \
                 children: [order_line]\n  projects:\n    children: [tasks]\n"
            ),
        )
    };
    let (code, out) = check(&url, &graph("stock"), &["--root-table", "warehouse"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("order_line: owned-by-another-key: `order_line` is a child of `stock` (supply_w_id, i_id), but its primary key begins with its reference to `orders` (w_id, o_id), which the roots own too"),
        "{out}"
    );
    assert!(
        out.contains(
            "Fix: list `order_line` under `orders: {children: ...}` instead of under `stock`"
        ),
        "{out}"
    );
    assert!(!out.contains("tasks"), "{out}");
    let (code, out) = check(&url, &graph("orders"), &["--root-table", "warehouse"]);
    assert_eq!(code, Some(0), "{out}");
}

/// Two tables whose primary keys each begin with a reference to the other (a one-to-one pair
/// sharing its key): each would be owned through the other, and neither reached from the root.
/// Such a ring is owned through the nearest instead.
#[test]
fn init_owns_a_ring_of_key_references_through_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "ring.db",
        "CREATE TABLE root (id INTEGER PRIMARY KEY);
         CREATE TABLE a (id INTEGER PRIMARY KEY REFERENCES b (id),
           root_id INT NOT NULL REFERENCES root (id));
         CREATE TABLE b (id INTEGER PRIMARY KEY REFERENCES a (id),
           root_id INT NOT NULL REFERENCES root (id));",
    );
    let text = init_text(&format!("sqlite:{}", path.display()), "root", &[]);
    assert!(
        text.contains("  root:\n    children:\n      - a\n      - b\n"),
        "{text}"
    );
}

/// Polymorphic type columns hold class names: Rails' `BlogPost` (table `blog_posts`) and
/// `Admin::User` (`admin_users`), Laravel's `App\Models\Post` (`posts`). `init` matched only a
/// table's own name (`Task` for `tasks`) and said the others named no table.
#[test]
fn init_maps_class_names_in_type_columns_to_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _conn) = sqlite_file(
        dir.path(),
        "app.db",
        r"CREATE TABLE blog_posts (id INTEGER PRIMARY KEY);
         CREATE TABLE admin_users (id INTEGER PRIMARY KEY);
         CREATE TABLE posts (id INTEGER PRIMARY KEY);
         CREATE TABLE taggings (id INTEGER PRIMARY KEY, taggable_type TEXT NOT NULL,
           taggable_id INTEGER NOT NULL);
         INSERT INTO posts VALUES (1);
         INSERT INTO taggings VALUES (1, 'BlogPost', 1), (2, 'Admin::User', 1),
           (3, 'App\Models\Post', 1), (4, 'Gone', 1);",
    );
    let (guessed, text) = guessed_references(&path, "posts");
    assert_eq!(
        guessed,
        [
            r#"{columns: taggable_id, table: admin_users, when: {taggable_type: "Admin::User"}}"#,
            r"{columns: taggable_id, table: blog_posts, when: {taggable_type: BlogPost}}",
            r#"{columns: taggable_id, table: posts, when: {taggable_type: "App\\Models\\Post"}}"#,
        ],
        "{text}"
    );
    assert!(
        text.contains(r#"taggings.taggable_type = "Gone" names no table"#),
        "{text}"
    );
    // Written as references, the quoted class name reads back as it is in the rows: the post's
    // tagging comes with it, and only that one.
    let url = format!("sqlite:{}", path.display());
    let text = init_text(&url, "posts", &["--follow-guesses"]);
    let graph = write_graph(dir.path(), "init.yaml", &text);
    let stats = dump_with_stats(
        &url,
        &graph,
        &["--root", "posts.id=1"],
        &dir.path().join("p.sql"),
    );
    assert_eq!(
        stats_rows(&stats, "taggings"),
        Some(1),
        "{stats}
{text}"
    );
}
