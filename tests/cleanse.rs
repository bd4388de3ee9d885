//! Cleansing: no original value of a cleansed column reaches the file, references and joins
//! survive, unique columns stay unique, the same secret gives the same bytes.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMA: &str = "
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL,
  phone TEXT,
  birth_date TEXT,
  ssn TEXT,
  profile TEXT,
  bio TEXT
);
CREATE TABLE invitations (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  email TEXT NOT NULL,
  note TEXT
);
CREATE INDEX invitations_user ON invitations(user_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  user_id INTEGER REFERENCES users(id),
  body TEXT
);
CREATE INDEX messages_user ON messages(user_id);
";

const GRAPH: &str = r####"
cleanse:
  strict: true
  patterns:
    - {column: email, rule: {fake: email}}
tables:
  users:
    children: [invitations, messages]
    cleanse:
      id: {hash: number}
      full_name: {fake: name}
      phone: {mask: {keep_last: 2}}
      birth_date: {date_shift: {days: 200}}
      ssn: {hash: "###-##-####"}
      profile: {json: {"$.email": {fake: email}, "$.address.street": {fake: street_address}}}
      bio: keep
  invitations:
    cleanse:
      note: {template: "invited {email}"}
  messages:
    cleanse:
      body: {regex: {pattern: '[\w.+-]+@[\w-]+\.[\w.]+', replace: {fake: email}}}
"####;

struct Fixture {
    dir: tempfile::TempDir,
    db: PathBuf,
    graph: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("people.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    for i in 1..=60 {
        // Birth dates 500 days apart, so a shift of up to 200 days never lands on another's.
        conn.execute(
            "INSERT INTO users VALUES (?1, ?2, ?3, ?4, date('1950-01-01', ?5), ?6, ?7, ?8)",
            rusqlite::params![
                i,
                format!("person{i}.real@mail{i}.test"),
                format!("Realname{i} Surname{i}"),
                format!("+44 20 7946 {:04}", 1000 + i),
                format!("+{} days", i * 500),
                format!("{:03}-{:02}-{:04}", 100 + i, 10 + i % 80, 2000 + i),
                format!(
                    "{{\"email\": \"json{i}@private{i}.test\", \"address\": {{\"street\": \"{i} Secret Lane\", \"city\": \"Leeds\"}}, \"plan\": \"gold\"}}"
                ),
                "likes hiking",
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO invitations VALUES (?1, ?2, ?3, 'x')",
            rusqlite::params![i, i, format!("person{i}.real@mail{i}.test")],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO messages VALUES (?1, ?2, ?3)",
            rusqlite::params![
                i,
                i,
                format!("write to other{i}@elsewhere{i}.test or call me")
            ],
        )
        .unwrap();
    }
    let graph = dir.path().join("graph.yaml");
    std::fs::write(&graph, GRAPH).unwrap();
    Fixture { dir, db, graph }
}

fn dump(
    f: &Fixture,
    graph: &Path,
    secret: Option<&str>,
    extra: &[&str],
    out: &Path,
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_partialdump"));
    cmd.args([
        "dump",
        "--source",
        &format!("sqlite:{}", f.db.display()),
        "--graph",
        graph.to_str().unwrap(),
        "--root-where",
        "users:1 = 1",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ])
    .args(extra)
    .env_remove("PARTIALDUMP_SECRET");
    if let Some(s) = secret {
        cmd.env("PARTIALDUMP_SECRET", s);
    }
    cmd.output().unwrap()
}

fn originals(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn no_original_value_reaches_the_file() {
    let f = fixture();
    let out = f.dir.path().join("clean.sql");
    let o = dump(&f, &f.graph, Some("team-secret"), &[], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut checked = 0;
    for sql in [
        "SELECT email FROM users",
        "SELECT full_name FROM users",
        "SELECT phone FROM users",
        "SELECT birth_date FROM users",
        "SELECT ssn FROM users",
        "SELECT json_extract(profile, '$.email') FROM users",
        "SELECT json_extract(profile, '$.address.street') FROM users",
        "SELECT email FROM invitations",
        "SELECT substr(body, 10, instr(body, ' or') - 10) FROM messages",
    ] {
        for v in originals(&f.db, sql) {
            assert!(
                !text.contains(&v),
                "the original `{v}` ({sql}) is in the cleansed dump"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9 * 60);
    // What is kept is kept: reviewed columns and text around regex matches.
    assert!(text.contains("likes hiking"));
    assert!(text.contains(" or call me"));
    assert!(
        text.contains("\"city\":\"Leeds\""),
        "JSON outside the paths is kept"
    );
    assert!(
        text.contains("-- cleansed: "),
        "the header says the dump is cleansed"
    );
    assert!(!text.contains("team-secret"), "the secret is never written");
}

#[test]
fn cleansed_dump_loads_and_joins_still_join() {
    let f = fixture();
    let out = f.dir.path().join("clean.sql");
    assert!(
        dump(&f, &f.graph, Some("team-secret"), &[], &out)
            .status
            .success()
    );
    let target = f.dir.path().join("target.db");
    let conn = rusqlite::Connection::open(&target).unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    // Foreign keys on: hashed ids still match across tables.
    conn.execute_batch(&std::fs::read_to_string(&out).unwrap())
        .expect("loads with foreign keys on");
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(q("SELECT count(*) FROM users"), 60);
    assert_eq!(
        q("SELECT count(*) FROM users WHERE id BETWEEN 1 AND 60"),
        0,
        "ids were hashed"
    );
    assert_eq!(
        q("SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id"),
        60
    );
    // The same email in two tables became the same fake: a join on it still matches.
    assert_eq!(
        q(
            "SELECT count(*) FROM invitations i JOIN users u ON u.email = i.email AND u.id = i.user_id"
        ),
        60
    );
    assert_eq!(q("SELECT count(DISTINCT email) FROM users"), 60);
    // A template sees the row's cleansed values.
    assert_eq!(
        q("SELECT count(*) FROM invitations WHERE note = 'invited ' || email"),
        60
    );
    // Formats are kept.
    assert_eq!(
        q(
            "SELECT count(*) FROM users WHERE ssn GLOB '[0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9]'"
        ),
        60
    );
    assert_eq!(
        q(
            "SELECT count(*) FROM users WHERE phone GLOB '+[0-9][0-9] [0-9][0-9] [0-9][0-9][0-9][0-9] [0-9][0-9][0-9][0-9]'"
        ),
        60
    );
    assert_eq!(
        q("SELECT count(*) FROM users WHERE date(birth_date) IS NOT NULL"),
        60
    );
    assert_eq!(
        q("SELECT count(*) FROM users WHERE json_extract(profile, '$.email') LIKE '%@example.%'"),
        60
    );
    drop(conn);

    // `verify` cleanses the source's rows by the same rules and secret before comparing: the
    // copy matches; under another secret it does not.
    let source = format!("sqlite:{}", f.db.display());
    let copy = format!("sqlite:{}", target.display());
    let verify = |secret: &str| {
        partialdump_env(
            &[
                "verify",
                "--source",
                &source,
                "--target",
                &copy,
                "--graph",
                f.graph.to_str().unwrap(),
                "--root-where",
                "users:1 = 1",
            ],
            &[("PARTIALDUMP_SECRET", secret)],
        )
    };
    let same = verify("team-secret");
    assert!(same.status.success(), "{}", stderr(&same));
    assert_eq!(verify("another-secret").status.code(), Some(1));
}

#[test]
fn same_secret_same_bytes_other_secret_other_values() {
    let f = fixture();
    let read = |name: &str, secret: &str| {
        let out = f.dir.path().join(name);
        let o = dump(&f, &f.graph, Some(secret), &[], &out);
        assert!(o.status.success(), "{}", stderr(&o));
        strip_snapshot(&std::fs::read_to_string(out).unwrap())
    };
    let a = read("a.sql", "one");
    let b = read("b.sql", "one");
    let c = read("c.sql", "two");
    assert_eq!(a, b, "a rerun with the same secret differs");
    assert_ne!(a, c);
    let emails = |t: &str| -> BTreeSet<String> {
        t.split('\'')
            .filter(|s| s.contains("@example."))
            .map(str::to_string)
            .collect()
    };
    assert!(
        emails(&a).is_disjoint(&emails(&c)),
        "another secret should give other fakes"
    );
}

#[test]
fn without_a_secret_fake_and_hash_are_refused() {
    let f = fixture();
    let out = f.dir.path().join("x.sql");
    let o = dump(&f, &f.graph, None, &[], &out);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("derive values from a secret") && err.contains("PARTIALDUMP_SECRET"),
        "{err}"
    );
    assert!(err.contains("--random-seed"), "{err}");
    assert!(!out.exists());
    let o = dump(&f, &f.graph, None, &["--random-seed", "7"], &out);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn strict_mode_names_the_unruled_column_before_reading_rows() {
    let f = fixture();
    let g = f.dir.path().join("loose.yaml");
    std::fs::write(
        &g,
        GRAPH.replace("      phone: {mask: {keep_last: 2}}\n", ""),
    )
    .unwrap();
    let out = f.dir.path().join("x.sql");
    let o = dump(&f, &g, Some("s"), &[], &out);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(
            "strict cleansing: this column looks personal but has no cleansing rule: users.phone"
        ),
        "{err}"
    );
    assert!(err.contains("No row was read"), "{err}");
    assert!(
        err.contains("`partialdump check` offers a rule for each"),
        "{err}"
    );
    assert!(!out.exists());
    // The same through the command-line flag, with `strict` off in the file.
    std::fs::write(
        &g,
        GRAPH
            .replace("  strict: true\n", "")
            .replace("      phone: {mask: {keep_last: 2}}\n", ""),
    )
    .unwrap();
    assert!(dump(&f, &g, Some("s"), &[], &out).status.success());
    let o = dump(
        &f,
        &g,
        Some("s"),
        &["--strict-cleansing"],
        &f.dir.path().join("y.sql"),
    );
    assert!(stderr(&o).contains("users.phone"), "{}", stderr(&o));
    // check reports it as a finding.
    let o = partialdump(&[
        "check",
        "--source",
        &format!("sqlite:{}", f.db.display()),
        "--graph",
        g.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("users.phone: uncleansed-column: `users.phone` looks personal")
    );
}

#[test]
fn rules_that_cannot_hold_are_refused() {
    let f = fixture();
    let out = f.dir.path().join("x.sql");
    for (edit, needle) in [
        (
            GRAPH.replace("full_name: {fake: name}", "full_name: null"),
            "is NOT NULL, so it cannot be cleansed to NULL",
        ),
        (
            GRAPH.replace("full_name: {fake: name}", "full_name: {fake: nmae}"),
            "unknown fake kind `nmae`. Did you mean `name`?",
        ),
        (
            GRAPH.replace(
                "{column: email, rule: {fake: email}}",
                "{column: email, rule: {value: x}}",
            ),
            "must stay unique",
        ),
        (
            GRAPH.replace(
                "  invitations:\n    cleanse:\n",
                "  invitations:\n    cleanse:\n      user_id: {hash: hex}\n",
            ),
            "the reference would no longer match",
        ),
        (
            GRAPH
                .replace("      id: {hash: number}\n", "      id: keep\n")
                .replace(
                    "  invitations:\n    cleanse:\n",
                    "  invitations:\n    cleanse:\n      user_id: {hash: number}\n",
                ),
            "`invitations.user_id` references `users.id`, which keeps its values, but is cleansed",
        ),
        (
            GRAPH.replace("bio: keep", "bioo: keep"),
            "unknown column `users.bioo` in `cleanse`. Did you mean `bio`?",
        ),
        // A regex that does not compile, said on one line (the crate draws it over several).
        (
            GRAPH.replace(
                "bio: keep",
                "bio: {regex: {pattern: \"[a-\", replace: null}}",
            ),
            "the regex `[a-` does not compile: unclosed character class",
        ),
        (
            GRAPH.replace("full_name: {fake: name}", "full_name: {hash: {length: 0}}"),
            "a hash `length` of 0: the hex digits of an HMAC-SHA256 are 1 to 64",
        ),
    ] {
        let g = f.dir.path().join("bad.yaml");
        std::fs::write(&g, edit).unwrap();
        let o = dump(&f, &g, Some("s"), &[], &out);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(needle), "{needle}: {}", stderr(&o));
        assert!(stderr(&o).contains("bad.yaml:"), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).trim_end().lines().count(),
            1,
            "one paragraph: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_million_distinct_emails_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
         INSERT INTO users SELECT i, 'user' || i || '@corp.test' FROM n;",
    )
    .unwrap();
    let g = dir.path().join("g.yaml");
    std::fs::write(&g, "cleanse:\n  patterns:\n    - {column: email, rule: {fake: email}}\ntables:\n  users: {mode: lookup}\n").unwrap();
    let out = dir.path().join("out.sql");
    let o = Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args([
            "dump",
            "--source",
            &format!("sqlite:{}", db.display()),
            "--graph",
            g.to_str().unwrap(),
        ])
        .args([
            "--root-where",
            "users:id = 1",
            "-q",
            "-o",
            out.to_str().unwrap(),
        ])
        .env("PARTIALDUMP_SECRET", "million")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut seen = std::collections::HashSet::with_capacity(1_000_000);
    let mut n = 0;
    for line in text.lines().filter(|l| l.starts_with('(')) {
        let email = line.split('\'').nth(1).unwrap();
        assert!(!email.contains("@corp.test"), "an original: {email}");
        assert!(seen.insert(email.to_string()), "{email} twice");
        n += 1;
    }
    assert_eq!(n, 1_000_000);
}

#[test]
fn cleansers_are_listed() {
    let o = partialdump_ok(&["cleansers"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for name in [
        "fake",
        "hash",
        "null",
        "value",
        "regex",
        "mask",
        "date_shift",
        "template",
        "json",
        "keep",
        "iban",
        "ipv6",
        "credit_card",
    ] {
        assert!(
            text.contains(name),
            "{name} missing from `partialdump cleansers`"
        );
    }
}

#[test]
fn mysql_cleansed_example_loads_with_fk_checks() {
    let Some(src) = MysqlDb::fixture("cl_src", true) else {
        return;
    };
    let Some(dst) = MysqlDb::fixture("cl_dst", false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clean.sql");
    let g = root().join("schemas/app-cleansed.yaml");
    let o = Command::new(env!("CARGO_BIN_EXE_partialdump"))
        .args([
            "dump",
            "--source",
            &src.url(),
            "--graph",
            g.to_str().unwrap(),
            "--root",
            "accounts.id=1",
            "-q",
        ])
        .args(["-o", out.to_str().unwrap()])
        .env("PARTIALDUMP_SECRET", "example")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    dst.load_file(&out)
        .expect("the cleansed dump loads with foreign-key checks on");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut src = src;
    // Every user and account, included or not: none of their personal values is in the file.
    for row in src.rows("SELECT email FROM users UNION ALL SELECT full_name FROM users UNION ALL SELECT name FROM accounts") {
        let v = row[0].clone().unwrap().replace('\'', "''");
        assert!(!text.contains(&format!("'{v}'")), "{v} in the cleansed dump");
    }
    assert!(!text.contains("ada@acme.test"));
    let mut dst = dst;
    assert_eq!(
        dst.rows("SELECT count(*) FROM users u JOIN accounts a ON a.owner_user_id = u.id"),
        vec![vec![Some("2".into())]]
    );
}

/// A reference holding its parent's email in other capitals (which a foreign key on a
/// case-insensitive column accepts, and the walk follows) is cleansed to the parent's fake, so
/// the dump still loads with foreign-key checks on. Before, each spelling got a fake of its
/// own and the import refused the dangling reference.
#[test]
fn references_in_another_case_are_cleansed_like_their_parent() {
    let graph = "tables:\n  orgs:\n    children: [members]\n  members:\n    children: [audit]\n    \
                 cleanse:\n      email: {fake: email}\n";
    let rows = "INSERT INTO orgs VALUES (1);
        INSERT INTO members VALUES (1, 1, 'alice@corp.com'), (2, 1, 'Bob@Corp.com ');
        INSERT INTO audit VALUES (1, 'alice@corp.com'), (2, 'ALICE@CORP.COM'), (3, 'bob@corp.com')";
    let dir = tempfile::tempdir().unwrap();
    let graph = write_graph(dir.path(), graph);
    // The audit rows' emails, as the dump in `out` writes them, by id; and the members'.
    let written = |out: &Path| {
        let text = std::fs::read_to_string(out).unwrap();
        let emails = |table: &str| -> Vec<String> {
            let at = text
                .find(&format!("INSERT INTO `{table}`"))
                .or_else(|| text.find(&format!("INSERT INTO \"{table}\"")))
                .unwrap();
            let body = &text[at..at + text[at..].find(";\n").unwrap()];
            body.split("'")
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        (emails("members"), emails("audit"))
    };
    let check = |members: Vec<String>, audit: Vec<String>| {
        assert_eq!(members.len(), 2);
        assert!(
            !members
                .iter()
                .any(|m| m.to_lowercase().contains("corp.com"))
        );
        assert_eq!(
            audit,
            [&*members[0], &members[0], &members[1]],
            "{members:?}"
        );
    };

    let schema = "CREATE TABLE orgs (id INTEGER PRIMARY KEY);
         CREATE TABLE members (id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES orgs (id),
           email TEXT NOT NULL UNIQUE COLLATE NOCASE);
         CREATE TABLE audit (id INTEGER PRIMARY KEY,
           member_email TEXT NOT NULL COLLATE NOCASE REFERENCES members (email));";
    let (src, conn) = sqlite_file(dir.path(), "src.db", schema);
    // SQLite's NOCASE does not ignore trailing spaces.
    conn.execute_batch(&rows.replace("'Bob@Corp.com '", "'Bob@Corp.com'"))
        .unwrap();
    drop(conn);
    let out = dir.path().join("sqlite.sql");
    let url = format!("sqlite:{}", src.display());
    dump_with_graph(
        &url,
        &graph,
        &["--root", "orgs.id=1", "--random-seed", "7"],
        &out,
    );
    let (members, audit) = written(&out);
    check(members, audit);
    let (copy, _) = sqlite_file(dir.path(), "copy.db", schema);
    let target = format!("sqlite:{}", copy.display());
    import_ok(&target, &out);

    let Some((mut my, dst)) = mysql_pair(
        "cl_case",
        "CREATE TABLE orgs (id INT PRIMARY KEY);
         CREATE TABLE members (id INT PRIMARY KEY, org_id INT NOT NULL, email VARCHAR(100) NOT NULL
           UNIQUE, FOREIGN KEY (org_id) REFERENCES orgs (id)) COLLATE utf8mb4_general_ci;
         CREATE TABLE audit (id INT PRIMARY KEY, member_email VARCHAR(100) NOT NULL,
           FOREIGN KEY (member_email) REFERENCES members (email)) COLLATE utf8mb4_general_ci",
    ) else {
        return;
    };
    my.script(rows);
    let out = dir.path().join("mysql.sql");
    dump_with_graph(
        &my.url(),
        &graph,
        &["--root", "orgs.id=1", "--random-seed", "7"],
        &out,
    );
    let (members, audit) = written(&out);
    check(members, audit);
    dst.load_file(&out)
        .expect("loads with foreign-key checks on");
}

/// What `partialdump check` prints of `graph` against `url`.
fn check_findings(url: &str, graph: &Path) -> String {
    let o = partialdump(&["check", "--source", url, "--graph", graph.to_str().unwrap()]);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Sakila's `customer.address_id` and `address.address_id` are whole numbers that only name
/// rows: strict cleansing asked for a rule on each (a rule there would then have rewritten every
/// key); nor does a number hold an email or a name (`email_count`, WordPress's `post_author`).
/// An identifier that holds text (`card_id`), a phone held as a number, the address itself and
/// WordPress's `user_pass` (which it missed) still need one.
#[test]
fn whole_number_identifiers_do_not_look_personal() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE address (address_id INTEGER PRIMARY KEY, address TEXT NOT NULL);
         CREATE TABLE customer (customer_id INTEGER PRIMARY KEY,
           address_id INT NOT NULL REFERENCES address (address_id), emailId BIGINT, card_id TEXT,
           email_count INTEGER, phone INTEGER, user_pass TEXT, post_author BIGINT);
         CREATE INDEX customer_address ON customer (address_id);",
    );
    let graph = write_graph(
        dir.path(),
        "cleanse: {strict: true}\ntables:\n  address:\n    children: [customer]\n",
    );
    let url = format!("sqlite:{}", db.display());
    let findings = check_findings(&url, &graph);
    let unruled: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains("uncleansed-column"))
        .map(|l| l.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        unruled,
        [
            "address.address",
            "customer.card_id",
            "customer.phone",
            "customer.user_pass"
        ],
        "{findings}"
    );
    // Each with a rule to start from, by what its name says and its type.
    for fix in [
        "add `address: {fake: street_address}`",
        "add `card_id: {fake: credit_card}`",
        "add `phone: {mask: {keep_last: 2}}`",
        "add `user_pass: null`",
    ] {
        assert!(findings.contains(fix), "{fix}: {findings}");
    }
    let o = dump_into(
        &url,
        &graph,
        &["--root-where", "address:1 = 1"],
        &dir.path().join("o.sql"),
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "4 columns look personal but have no cleansing rule: address.address, customer.card_id, \
             customer.phone, customer.user_pass."
        ),
        "{err}"
    );
}

/// A column that references a cleansed one is cleansed by the same rule (so the reference
/// still matches): `check` does not report it as uncleansed, as strict cleansing does not.
/// Before, `check` named it and told the user to give it a rule of its own.
#[test]
fn check_counts_a_rule_passed_on_to_a_referencing_column() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE members (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, phone TEXT);
         CREATE TABLE audit (id INTEGER PRIMARY KEY,
           member_email TEXT NOT NULL REFERENCES members (email));
         CREATE INDEX audit_member_email ON audit (member_email);",
    );
    let graph = write_graph(
        dir.path(),
        "cleanse: {strict: true}\ntables:\n  members:\n    children: [audit]\n    cleanse:\n      \
         email: {fake: email}\n",
    );
    let url = format!("sqlite:{}", db.display());
    let findings = check_findings(&url, &graph);
    assert!(
        findings.contains("members.phone: uncleansed-column"),
        "{findings}"
    );
    assert!(!findings.contains("member_email"), "{findings}");
    // Once, as that finding: not again as an error of the cleansing rules.
    assert_eq!(
        findings
            .lines()
            .filter(|l| l.contains("members.phone"))
            .count(),
        1,
        "{findings}"
    );
    // The strict dump names the same column, and no other.
    let o = dump_into(
        &url,
        &graph,
        &["--root-where", "members:1 = 1"],
        &dir.path().join("o.sql"),
    );
    let err = stderr(&o);
    assert!(err.contains("no cleansing rule: members.phone."), "{err}");
}

#[test]
fn a_large_table_cleanses_the_same_every_run_and_in_every_column() {
    // 60,000 rows: many batches, written as text on several threads while one cleanses them
    // in order. Each row's note names its own email, which must become the same fake there.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("large.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, note TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000)
         INSERT INTO users SELECT i, 'user' || i || '@corp.test',
           'write to user' || i || '@corp.test, not ' || printf('%.*c', i % 300, 'x') FROM n;",
    )
    .unwrap();
    let graph = dir.path().join("g.yaml");
    std::fs::write(
        &graph,
        "cleanse:\n  patterns:\n    - {column: email, rule: {fake: email}}\n\
         tables:\n  users:\n    cleanse:\n      \
         note: {regex: {pattern: '[\\w.+-]+@[\\w-]+\\.[\\w.]+', replace: {fake: email}}}\n",
    )
    .unwrap();
    let f = Fixture { dir, db, graph };
    // Every user a root.
    let dumped = |name: &str| {
        let out = f.dir.path().join(name);
        let o = dump(&f, &f.graph, Some("large"), &[], &out);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        text.lines()
            .filter(|l| !l.starts_with("-- snapshot:") && !l.starts_with("-- partialdump end"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let first = dumped("first.sql");
    assert_eq!(
        first,
        dumped("second.sql"),
        "two runs with one secret differ"
    );
    let rows: Vec<&String> = first.iter().filter(|l| l.starts_with('(')).collect();
    assert_eq!(rows.len(), 60_000);
    for (i, row) in rows.iter().enumerate() {
        let parts: Vec<&str> = row.split('\'').collect();
        let (email, note) = (parts[1], parts[3]);
        assert!(
            row.starts_with(&format!("({},", i + 1)),
            "out of key order: {row}"
        );
        assert!(!row.contains("@corp.test"), "an original: {row}");
        assert_eq!(
            note.strip_prefix("write to ")
                .and_then(|n| n.split(',').next()),
            Some(email),
            "the note's email is not the row's: {row}"
        );
    }
}

/// MySQL columns hold so much: a fake, hash or constant longer than a CHAR or VARCHAR column
/// made a dump that the target then refused ("Data truncated"), and a fake name in an ENUM
/// column one it could never take. An output too long is drawn again (as a colliding one is),
/// within the shortest column of its rule's domain, so a reference into a shorter column still
/// matches its parent; after 64 draws, the start of a keyed hash that fits. Rules that can never
/// fit are refused before any row is read, at their place in the graph.
#[test]
fn mysql_cleansed_values_fit_their_columns() {
    let Some((mut src, mut dst)) = mysql_pair(
        "cl_fit",
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(12) NOT NULL UNIQUE,
           nm CHAR(4), kind ENUM('a','b'), city VARCHAR(20) CHARACTER SET latin1,
           code VARCHAR(3), price DECIMAL(4,2));
         CREATE TABLE invites (id INT PRIMARY KEY, user_id INT NOT NULL, email VARCHAR(40) NOT NULL,
           FOREIGN KEY (user_id) REFERENCES users (id), FOREIGN KEY (email) REFERENCES users (email))",
    ) else {
        return;
    };
    src.script(
        "INSERT INTO users VALUES (1, 'a@b.co', 'Anna', 'a', 'Köln', '007', 12.5),
           (2, 'bo@b.co', 'Bo', 'b', 'Oslo', '1', 0), (3, 'cy@cy.org', NULL, NULL, NULL, NULL, NULL);
         INSERT INTO invites VALUES (1, 1, 'bo@b.co'), (2, 2, 'a@b.co'), (3, 3, 'cy@cy.org')",
    );
    let dir = tempfile::tempdir().unwrap();
    let graph_with = |kind: &str, nm: &str, city: &str| {
        write_graph(
            dir.path(),
            &format!(
                "cleanse:\n  locale: ja_jp\ntables:\n  users:\n    children: [{{table: invites, via: user_id}}]\n    cleanse:\n      \
                 email: {{fake: email}}\n      nm: {nm}\n      kind: {kind}\n      city: {city}\n      \
                 code: {{hash: number}}\n      price: {{hash: number}}\n"
            ),
        )
    };
    let out = dir.path().join("dump.sql");
    let run = |graph: &Path| {
        dump_into(
            &src.url(),
            graph,
            &["--root-where", "users:1 = 1", "--random-seed", "7", "-q"],
            &out,
        )
    };

    let graph = graph_with("{value: 'b'}", "{fake: last_name}", "{fake: city}");
    let o = run(&graph);
    assert!(o.status.success(), "{}", stderr(&o));
    import_ok(&dst.url(), &out);
    let users = dst.rows("SELECT id, email, nm, kind, city, code, price FROM users ORDER BY id");
    assert_eq!(users.len(), 3);
    // A Japanese city does not fit a latin1 column, a number of 19 digits neither a VARCHAR(3)
    // nor a DECIMAL(4,2): each took what fits.
    for u in &users[..2] {
        let city = u[4].as_deref().unwrap();
        assert!(
            city.chars().count() <= 20 && city.chars().all(|c| c <= '\u{ff}'),
            "{u:?}"
        );
        let code: u64 = u[5].as_deref().unwrap().parse().unwrap();
        let price: f64 = u[6].as_deref().unwrap().parse().unwrap();
        assert!(
            (1..=999).contains(&code) && (1.0..=99.0).contains(&price),
            "{u:?}"
        );
    }
    for (u, (email, nm)) in users.iter().zip([
        ("a@b.co", Some("Anna")),
        ("bo@b.co", Some("Bo")),
        ("cy@cy.org", None),
    ]) {
        let e = u[1].as_deref().unwrap();
        assert!(e.chars().count() <= 12 && e != email, "{u:?}");
        match (u[2].as_deref(), nm) {
            (Some(n), Some(original)) => assert!(n.chars().count() <= 4 && n != original, "{u:?}"),
            (None, None) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        dst.rows("SELECT GROUP_CONCAT(IFNULL(kind, 'N') ORDER BY id) FROM users")[0][0].as_deref(),
        Some("b,b,N")
    );
    // Every invitation still names its user's (cleansed) email, as in the source.
    assert_eq!(
        dst.rows(
            "SELECT GROUP_CONCAT(i.id, ':', u.id ORDER BY i.id) FROM invites i \
             JOIN users u ON u.email = i.email"
        )[0][0]
            .as_deref(),
        Some("1:2,2:1,3:3")
    );

    for (kind, nm, city, says) in [
        (
            "{fake: name}",
            "keep",
            "keep",
            "`users.kind` is an ENUM of 'a', 'b': a `fake` rule writes values that are none of them",
        ),
        (
            "{value: c}",
            "keep",
            "keep",
            "`users.kind` is an ENUM of 'a', 'b': the value 'c' is not one of them",
        ),
        (
            "{value: B}",
            "keep",
            "keep",
            "the value 'B' is not one of them as they are spelled",
        ),
        (
            "keep",
            "{value: Annabel}",
            "keep",
            "`users.nm` holds at most 4 characters",
        ),
        (
            "keep",
            "{hash: {format: hex, length: 8}}",
            "keep",
            "`users.nm` holds at most 4 characters, fewer than the hash's 8",
        ),
        (
            "keep",
            "{hash: {format: number, max: 100000}}",
            "keep",
            "`users.nm` holds numbers up to 9999, less than the hash's `max` of 100000",
        ),
        (
            "keep",
            "keep",
            "{value: 大阪}",
            "`users.city` is in latin1, which lacks characters of the value given",
        ),
    ] {
        let graph = graph_with(kind, nm, city);
        refused_at_its_place(&run(&graph), &graph, says);
    }
}

/// A MySQL column of numbers or of dates takes no fake text: a `fake: phone` in a BIGINT, a
/// fake name or a mask in a DATE made a dump the target refused. Such rules are refused before
/// any row is read, at their place in the graph; the rules that keep the type (`mask` on
/// numbers, `date_shift` on dates) load.
#[test]
fn mysql_rules_that_write_text_into_numbers_or_dates_are_refused() {
    let Some((mut src, mut dst)) = mysql_pair(
        "cl_types",
        "CREATE TABLE p (id INT PRIMARY KEY, phone BIGINT, born DATE, y YEAR, t TIME)",
    ) else {
        return;
    };
    src.script(
        "INSERT INTO p VALUES (1, 5551234567, '1990-05-01', 2024, '12:30:00'),
           (2, NULL, NULL, NULL, NULL)",
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.sql");
    let run = |column: &str, rule: &str| {
        let graph = write_graph(
            dir.path(),
            &format!("tables:\n  p:\n    cleanse:\n      {column}: {rule}\n"),
        );
        let o = dump_into(
            &src.url(),
            &graph,
            &[
                "--root-where",
                "p:1 = 1",
                "--random-seed",
                "5",
                "--with-schema",
                "-q",
            ],
            &out,
        );
        (graph, o)
    };
    for (column, rule, says) in [
        (
            "phone",
            "{fake: phone}",
            "`p.phone` is a BIGINT column: a `fake` rule writes values that are no numbers",
        ),
        (
            "phone",
            "{value: n/a}",
            "`p.phone` is a BIGINT column: a `value` rule",
        ),
        (
            "born",
            "{fake: name}",
            "`p.born` is a DATE column: a `fake` rule writes values that are no dates",
        ),
        (
            "born",
            "{mask: {}}",
            "`p.born` is a DATE column: a `mask` rule",
        ),
        (
            "y",
            "{mask: {}}",
            "`p.y` is a YEAR column: a `mask` rule writes values that are no YEAR values",
        ),
        (
            "t",
            "{date_shift: {days: 3}}",
            "`p.t` is a TIME column: a `date_shift` rule",
        ),
    ] {
        let (graph, o) = run(column, rule);
        refused_at_its_place(&o, &graph, says);
    }
    let (_, o) = run("phone", "{mask: {}}\n      born: {date_shift: {days: 30}}");
    assert!(o.status.success(), "{}", stderr(&o));
    import_ok(&dst.url(), &out);
    let rows = dst.rows("SELECT phone, born FROM p ORDER BY id");
    let phone = rows[0][0].as_deref().unwrap();
    assert!(phone.len() <= 10 && phone != "5551234567", "{rows:?}");
    assert!(
        rows[0][1].as_deref().is_some_and(|d| d != "1990-05-01"),
        "{rows:?}"
    );
    assert_eq!(rows[1], vec![None, None]);
}

/// A dump refused before it read a row (exit code 2), saying `says` at a place in `graph`.
fn refused_at_its_place(o: &std::process::Output, graph: &Path, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{says:?}: {err}");
    assert!(err.contains(says), "{says:?} missing from: {err}");
    assert!(err.contains(&format!("{}:", graph.display())), "{err}");
}

/// A column in a unique index of several columns (`UNIQUE (tenant_id, nick)`) keeps distinct
/// values distinct, as one unique alone does, so the copy loads: 2,000 nicknames of one
/// tenant through `fake: first_name`, whose few thousand names would otherwise repeat.
/// A constant there is refused; NULL is not (a unique index holds any number of NULLs), nor
/// a constant where the index's other columns are unique by themselves. A template there must
/// name a unique NOT NULL column, and none may name its own column (its original value).
#[test]
fn columns_of_a_unique_index_of_several_columns_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let (db, conn) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE tenants (id INTEGER PRIMARY KEY);
         CREATE TABLE members (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL REFERENCES tenants(id),
           nick TEXT NOT NULL, email TEXT, badge TEXT NOT NULL,
           UNIQUE (tenant_id, nick), UNIQUE (email), UNIQUE (id, badge));
         INSERT INTO tenants VALUES (1);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO members SELECT i, 1, 'nick' || i, 'user' || i || '@corp.test', 'b' || i FROM n;",
    );
    drop(conn);
    let source = format!("sqlite:{}", db.display());
    let graph_with = |rules: &str| {
        write_graph(
            dir.path(),
            &format!(
                "tables:\n  tenants:\n    children: [members]\n  members:\n    cleanse:\n{rules}"
            ),
        )
    };
    let out = dir.path().join("out.sql");
    let args = [
        "--root",
        "tenants.id=1",
        "--random-seed",
        "7",
        "--with-schema",
    ];

    let g =
        graph_with("      nick: {fake: first_name}\n      email: null\n      badge: {value: b}\n");
    dump_with_graph(&source, &g, &args, &out);
    let target = format!("sqlite:{}", dir.path().join("copy.db").display());
    import_ok(&target, &out);
    let copy = rusqlite::Connection::open(dir.path().join("copy.db")).unwrap();
    let (rows, nicks, originals, emails): (i64, i64, i64, i64) = copy
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT nick), SUM(nick GLOB 'nick[0-9]*'), COUNT(email) FROM members",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((rows, nicks, originals, emails), (2000, 2000, 0, 0));

    let g = graph_with("      nick: {value: x}\n");
    let o = dump_into(&source, &g, &args, &out);
    refused_at_its_place(
        &o,
        &g,
        "`members.nick` tells rows apart in the unique index (tenant_id, nick), so it cannot be set to one value",
    );
    // A template keeps rows apart where it names a unique NOT NULL column: `{id}`, not the
    // tenant (every row of one has it), nor `email` (rows without one would all get `x`).
    for template in ["{tenant_id}-x", "x{email}"] {
        let g = graph_with(&format!("      nick: {{template: \"{template}\"}}\n"));
        refused_at_its_place(
            &dump_into(&source, &g, &args, &out),
            &g,
            "`members.nick` must keep rows apart (the unique index (tenant_id, nick)), but its template names no NOT NULL column that does",
        );
    }
    let g = graph_with("      nick: {template: \"{nick}-x\"}\n");
    refused_at_its_place(
        &dump_into(&source, &g, &args, &out),
        &g,
        "the template of `members.nick` names `{nick}` itself, which would write the column's original value",
    );
    let g = graph_with("      nick: {template: \"n-{id}\"}\n");
    dump_with_graph(&source, &g, &args, &out);
}

/// `date_shift` writes what MySQL columns take: a TIMESTAMP near either end of its range
/// (1970 to 2038) stays within it, a DATE of 9999-12-31 under the same rule is shifted within
/// 9999, and a zero date (`0000-00-00`, or one with a zero part such as `1985-00-00`) becomes
/// the zero date, where a hash was written before and the target refused it.
#[test]
fn mysql_date_shift_keeps_to_the_columns_range_and_zero_dates() {
    let Some((mut src, mut dst)) = mysql_pair(
        "cl_dates",
        "CREATE TABLE e (id INT PRIMARY KEY, d DATE NOT NULL, ts TIMESTAMP NULL, dt DATETIME NULL)",
    ) else {
        return;
    };
    src.script(
        "SET SESSION sql_mode = '';
         INSERT INTO e SELECT seq, '2000-01-01' + INTERVAL seq DAY,
           IF(seq <= 10, '2038-01-18 00:00:00' + INTERVAL seq HOUR, '1970-01-01 00:00:00' + INTERVAL seq - 10 HOUR),
           NULL FROM seq_1_to_20;
         UPDATE e SET d = '9999-12-31', dt = '2020-06-00 12:00:00' WHERE id = 1;
         UPDATE e SET d = '0000-00-00', dt = '0000-00-00 00:00:00' WHERE id = 2;
         UPDATE e SET d = '1985-00-00' WHERE id = 3;",
    );
    let before = src.rows("SELECT ts FROM e ORDER BY id");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.sql");
    let graph = write_graph(
        dir.path(),
        "tables:\n  e:\n    cleanse:\n      d: {date_shift: {days: 60}}\n      ts: {date_shift: {days: 60}}\n      dt: {date_shift: {days: 60}}\n",
    );
    let args = [
        "--root-where",
        "e:1 = 1",
        "--random-seed",
        "3",
        "--with-schema",
    ];
    dump_with_graph(&src.url(), &graph, &args, &out);
    import_ok(&dst.url(), &out);
    let after = dst.rows("SELECT ts FROM e ORDER BY id");
    assert_eq!(after.len(), 20);
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b, a, "a timestamp kept");
    }
    let rows = dst.rows("SELECT d, dt FROM e WHERE id <= 3 ORDER BY id");
    let d = rows[0][0].as_deref().unwrap();
    assert!(d.starts_with("9999-1") && d != "9999-12-31", "{rows:?}");
    assert_eq!(rows[1][0].as_deref(), Some("0000-00-00"), "{rows:?}");
    assert_eq!(rows[2][0].as_deref(), Some("0000-00-00"), "{rows:?}");
    assert_eq!(
        rows[0][1].as_deref(),
        Some("0000-00-00 00:00:00"),
        "{rows:?}"
    );
    assert_eq!(
        rows[1][1].as_deref(),
        Some("0000-00-00 00:00:00"),
        "{rows:?}"
    );
}

/// Columns that take only JSON (MariaDB's: a LONGTEXT under a `json_valid` check), UUIDs, BIT
/// or addresses take only rules that write those: anything else is refused before a row is
/// read, as is a pattern matching a column of numbers by name. The rules that fit make a
/// copy that loads, the UUID hashed into one MariaDB takes.
#[test]
fn mysql_json_uuid_and_bit_columns_take_only_rules_that_fit() {
    let Some((mut src, mut dst)) = mysql_pair(
        "cl_json",
        "CREATE TABLE u (id INT PRIMARY KEY, email VARCHAR(80), email_count INT, prefs JSON,
           uid UUID, ip INET6, flag BIT(1))",
    ) else {
        return;
    };
    src.script(
        r#"INSERT INTO u VALUES (1, 'ann@corp.test', 3, '{"email": "ann@corp.test", "n": 1}',
             '123e4567-e89b-12d3-a456-426614174000', '2001:db8::1', b'1')"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dump.sql");
    let args = ["--root", "u.id=1", "--random-seed", "2", "--with-schema"];
    let run = |rules: &str| {
        let graph = write_graph(dir.path(), &format!("tables:\n  u:\n    cleanse:\n{rules}"));
        let o = dump_into(&src.url(), &graph, &args, &out);
        (graph, o)
    };
    for (rule, says) in [
        (
            "      prefs: {fake: name}\n",
            "`u.prefs` is a JSON column: a `fake` rule writes values that are no JSON documents",
        ),
        (
            "      prefs: {value: 'not json'}\n",
            "`u.prefs` is a JSON column: a `value` rule",
        ),
        (
            "      uid: {hash: hex}\n",
            "`u.uid` is a UUID column: a `hash` rule writes values that are no UUIDs",
        ),
        (
            "      ip: {mask: {}}\n",
            "`u.ip` is an INET6 column: a `mask` rule",
        ),
        (
            "      flag: {hash: number}\n",
            "`u.flag` is a BIT column: a `hash` rule",
        ),
    ] {
        let (graph, o) = run(rule);
        refused_at_its_place(&o, &graph, says);
    }
    let graph = write_graph(
        dir.path(),
        "cleanse:\n  patterns:\n    - {column: email, rule: {fake: email}}\ntables:\n  u: {}\n",
    );
    refused_at_its_place(
        &dump_into(&src.url(), &graph, &args, &out),
        &graph,
        "the rule comes from the pattern `email`, which matches by name: narrow it by `type: \"char|text\"`",
    );

    let (_, o) = run(
        "      email: {fake: email}\n      prefs: {json: {\"$.email\": {fake: email}}}\n      uid: {hash: \"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"}\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    import_ok(&dst.url(), &out);
    let rows = dst.rows(
        "SELECT email, JSON_VALUE(prefs, '$.email'), JSON_VALUE(prefs, '$.n'), uid, ip FROM u",
    );
    let row = &rows[0];
    assert_eq!(row[1], row[0], "the same fake in the document: {rows:?}");
    assert_ne!(row[0].as_deref(), Some("ann@corp.test"));
    assert_eq!(row[2].as_deref(), Some("1"));
    let uid = row[3].as_deref().unwrap();
    assert!(
        uid != "123e4567-e89b-12d3-a456-426614174000" && uid.len() == 36,
        "{rows:?}"
    );
    assert_eq!(row[4].as_deref(), Some("2001:db8::1"));
}

/// A unique column under `hash: number` with as many numbers as values gets every one of them
/// (the last values found by going through the numbers in turn, where 64 draws missed the few
/// left, and a hex hash was written into the column of numbers); with fewer numbers than
/// values the dump stops, naming the column and what to change.
#[test]
fn hash_number_on_a_unique_column_uses_every_number_or_says_it_ran_out() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _conn) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, code INTEGER NOT NULL UNIQUE);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO t SELECT i, i FROM n;",
    );
    let source = format!("sqlite:{}", db.display());
    let out = dir.path().join("out.sql");
    let graph = |max: u32| {
        write_graph(
            dir.path(),
            &format!(
                "tables:\n  t:\n    mode: lookup\n    cleanse:\n      code: {{hash: {{format: number, max: {max}}}}}\n"
            ),
        )
    };
    let args = ["--root", "t.id=1", "--random-seed", "1"];
    dump_with_graph(&source, &graph(200), &args, &out);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut codes = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with('(')) {
        let (id, code) = line
            .trim_start_matches('(')
            .trim_end_matches([')', ',', ';'])
            .split_once(',')
            .unwrap();
        let code: u32 = code
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        assert_ne!(id, code.to_string(), "the original: {line}");
        codes.insert(code);
    }
    assert_eq!(codes, (1..=200).collect());

    let o = dump_into(&source, &graph(150), &args, &out);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "the cleansing rule of `t.code` ran out: no number from 1 to 150 that is neither another value's (150 have one)"
        ),
        "{}",
        stderr(&o)
    );
}

/// WordPress holds '' where an anonymous comment has no email (its columns are NOT NULL): every
/// such row got one and the same fake email, which made them look like one person's. A text
/// that is empty or only spaces is kept by every rule, as NULL is; other values are not.
#[test]
fn blank_values_stay_blank_under_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE comments (id INTEGER PRIMARY KEY, author TEXT NOT NULL,
        email TEXT NOT NULL, ip TEXT NOT NULL, phone TEXT NOT NULL, note TEXT NOT NULL,
        display TEXT NOT NULL);";
    let (db, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO comments VALUES (1, 'Ann', 'ann@corp.com', '10.0.0.1', '555-1234', 'hi', 'Ann');
         INSERT INTO comments VALUES (2, '', '', ' ', '', '', '');
         INSERT INTO comments VALUES (3, '', '', '', '  ', '', '');
         INSERT INTO comments VALUES (4, 'Bob', 'bob@corp.com', '10.0.0.2', '--', 'x', 'Bob');",
    )
    .unwrap();
    let graph = write_graph(
        dir.path(),
        "tables:\n  comments:\n    cleanse:\n      author: {fake: name}\n      email: {fake: email}\n      \
         ip: {hash: hex}\n      phone: {mask: {}}\n      note: {value: '[removed]'}\n      \
         display: {template: '{author} <{email}>'}\n",
    );
    let url = format!("sqlite:{}", db.display());
    let out = dir.path().join("o.sql");
    let o = dump_into(
        &url,
        &graph,
        &["--root-where", "comments:1 = 1", "--random-seed", "9"],
        &out,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (copy, copy_conn) = sqlite_file(dir.path(), "copy.db", schema);
    import_ok(&format!("sqlite:{}", copy.display()), &out);
    let read = |conn: &rusqlite::Connection, id: i64| -> Vec<String> {
        conn.query_row(
            "SELECT author, email, ip, phone, note, display FROM comments WHERE id = ?1",
            [id],
            |r| (0..6).map(|i| r.get::<_, String>(i)).collect(),
        )
        .unwrap()
    };
    for id in [2, 3] {
        assert_eq!(read(&copy_conn, id), read(&conn, id), "row {id}");
    }
    let (before, after) = (read(&conn, 1), read(&copy_conn, 1));
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(a, b, "{after:?}");
        assert!(!a.trim().is_empty(), "{after:?}");
    }
    // A mask keeps all but letters and digits: of `--` it can only write `--`. It wrote a
    // 64-digit hash.
    assert_eq!(read(&copy_conn, 4)[3], "--");
    let o = verify_with(
        &url,
        &format!("sqlite:{}", copy.display()),
        &graph,
        &["--root-where", "comments:1 = 1", "--random-seed", "9"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// A rule that runs out of outputs in a column that need not stay distinct, because another
/// column with the same rule must (the employees database's `hire_date` beside the primary
/// key's `salaries.from_date`, both `date_shift: {days: 30}`), says which column asks it, and
/// how to part them.
#[test]
fn a_rule_run_out_for_another_columns_sake_names_that_column() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _conn) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE a_notes (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);
         CREATE TABLE z_codes (id INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE);
         INSERT INTO a_notes VALUES (1, 7), (2, 8), (3, 9);
         INSERT INTO z_codes VALUES (1, 5);",
    );
    let rule = "{hash: {format: number, max: 2}}";
    let graph = write_graph(
        dir.path(),
        &format!(
            "tables:\n  a_notes:\n    mode: lookup\n    cleanse: {{v: {rule}}}\n  z_codes:\n    \
             mode: lookup\n    cleanse: {{k: {rule}}}\n"
        ),
    );
    let url = format!("sqlite:{}", db.display());
    let out = dir.path().join("o.sql");
    let o = dump_into(
        &url,
        &graph,
        &["--root-where", "z_codes:1 = 1", "--random-seed", "3"],
        &out,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("the cleansing rule of `a_notes.v` ran out")
            && err.contains(
                "because `z_codes.k`, which must stay distinct, has the same rule, and a value gets \
                 one output under a rule in every column"
            ),
        "{err}"
    );
    assert!(!out.exists());
}

/// WordPress keeps a user's names, email and phone as rows of `wp_usermeta` (`meta_key`,
/// `meta_value`): no rule by column could cleanse them and keep the other rows. A `cases` rule
/// picks one by the row's values; a row no case takes keeps its value.
#[test]
fn cases_cleanse_a_table_of_names_and_values_by_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let schema = "CREATE TABLE wp_users (ID INTEGER PRIMARY KEY, user_email TEXT NOT NULL);
        CREATE TABLE wp_usermeta (umeta_id INTEGER PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES wp_users (ID), meta_key TEXT, meta_value TEXT);
        CREATE INDEX usermeta_user ON wp_usermeta (user_id);";
    let (db, conn) = sqlite_file(dir.path(), "src.db", schema);
    conn.execute_batch(
        "INSERT INTO wp_users VALUES (1, 'ann@corp.com');
         INSERT INTO wp_usermeta VALUES (1, 1, 'first_name', 'Ann'), (2, 1, 'billing_email', 'ann@corp.com'),
           (3, 1, 'description', 'likes cats'), (4, 1, 'rich_editing', 'true'), (5, 1, 'nickname', 'annie');",
    )
    .unwrap();
    let graph_text = |meta_value: &str| {
        format!(
            "tables:\n  wp_users:\n    children: [wp_usermeta]\n    cleanse:\n      user_email: {{fake: email}}\n  \
             wp_usermeta:\n    cleanse:\n      meta_value:\n        cases:\n{meta_value}"
        )
    };
    let cases = "          - {when: {meta_key: [first_name, nickname]}, rule: {fake: first_name}}\n          \
                 - {when: {meta_key: billing_email}, rule: {fake: email}}\n          \
                 - {when: {meta_key: description}, rule: null}\n";
    let graph = write_graph(dir.path(), &graph_text(cases));
    let url = format!("sqlite:{}", db.display());
    let out = dir.path().join("o.sql");
    let o = dump_into(
        &url,
        &graph,
        &["--root", "wp_users.ID=1", "--random-seed", "4"],
        &out,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (copy, copy_conn) = sqlite_file(dir.path(), "copy.db", schema);
    import_ok(&format!("sqlite:{}", copy.display()), &out);
    let meta = |key: &str| -> Option<String> {
        copy_conn
            .query_row(
                "SELECT meta_value FROM wp_usermeta WHERE meta_key = ?1",
                [key],
                |r| r.get(0),
            )
            .unwrap()
    };
    let email: String = copy_conn
        .query_row("SELECT user_email FROM wp_users", [], |r| r.get(0))
        .unwrap();
    assert_ne!(email, "ann@corp.com");
    // The same email under the same rule, in its column and in the row of names and values.
    assert_eq!(meta("billing_email").as_deref(), Some(email.as_str()));
    let first = meta("first_name").unwrap();
    assert!(first != "Ann" && !first.is_empty(), "{first}");
    assert!(meta("nickname").is_some_and(|n| n != "annie"));
    assert_eq!(meta("description"), None);
    assert_eq!(meta("rich_editing").as_deref(), Some("true"));
    let o = verify_with(
        &url,
        &format!("sqlite:{}", copy.display()),
        &graph,
        &["--root", "wp_users.ID=1", "--random-seed", "4"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));

    // A condition on a column the table lacks, and cases on a reference, are refused.
    let refused = |text: &str, expect: &str| {
        let graph = write_graph(dir.path(), text);
        let o = dump_into(
            &url,
            &graph,
            &["--root", "wp_users.ID=1", "--random-seed", "4"],
            &out,
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
    };
    refused(
        &graph_text("          - {when: {meta_kye: first_name}, rule: {fake: first_name}}\n"),
        "a case's `when` names `meta_kye`, which table `wp_usermeta` does not have. Did you mean `meta_key`?",
    );
    refused(
        &graph_text(cases).replace(
            "user_email: {fake: email}",
            "ID: {cases: [{when: {user_email: a@b.c}, rule: {hash: {format: number}}}]}",
        ),
        "`wp_users.ID` must stay unique or is part of a reference",
    );
}

/// A case's rule that runs out stops the dump naming the column, as a column's rule does; it
/// wrote NULL and went on.
#[test]
fn a_cases_rule_that_runs_out_names_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _conn) = sqlite_file(
        dir.path(),
        "src.db",
        "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
         CREATE TABLE meta (id INTEGER PRIMARY KEY, k TEXT, v TEXT);
         INSERT INTO codes VALUES (1, 'x');
         INSERT INTO meta VALUES (1, 'code', 'y'), (2, 'code', 'z');",
    );
    let rule = "{hash: {format: number, max: 2}}";
    let graph = write_graph(
        dir.path(),
        &format!(
            "tables:\n  codes:\n    mode: lookup\n    cleanse: {{code: {rule}}}\n  meta:\n    \
             mode: lookup\n    cleanse: {{v: {{cases: [{{when: {{k: code}}, rule: {rule}}}]}}}}\n"
        ),
    );
    let out = dir.path().join("o.sql");
    let url = format!("sqlite:{}", db.display());
    let o = dump_into(
        &url,
        &graph,
        &["--root-where", "codes:1 = 1", "--random-seed", "3"],
        &out,
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the cleansing rule of `meta.v` ran out"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// TPC-C's customers hold `c_first VARCHAR(16)` beside `c_middle CHAR(2)`. Under one rule
/// (`fake: first_name`, as `check` offered for both), a value gets one output in every column,
/// so every output had to fit 2 characters: no first name does, and every first name was
/// written as two hex digits, silently. The dump now says so, naming both columns, and `check`
/// offers a rule of its own for a middle name (`mask`), under which the first names are whole.
#[test]
fn mysql_a_rule_cut_short_by_its_narrowest_column_is_told() {
    let Some((mut src, _dst)) = mysql_pair(
        "cl_narrow",
        "CREATE TABLE customer (c_id INT PRIMARY KEY, c_first VARCHAR(16), c_middle CHAR(2),
           c_last VARCHAR(16))",
    ) else {
        return;
    };
    src.script(
        "INSERT INTO customer VALUES (1, 'Oliver', 'OE', 'BARBARBAR'), (2, 'Ada', 'OE', 'OUGHTABLE'),
           (3, 'Grace', 'OE', 'ABLEPRES')",
    );
    let dir = tempfile::tempdir().unwrap();
    let g = write_graph(dir.path(), "tables:\n  customer: {}\n");
    let (code, out) = {
        let o = partialdump(&[
            "check",
            "--source",
            &src.url(),
            "--graph",
            g.to_str().unwrap(),
            "--root-table",
            "customer",
            "--strict-cleansing",
        ]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    assert_eq!(code, Some(1), "{out}");
    for (column, rule) in [
        ("c_first", "{fake: first_name}"),
        ("c_middle", "{mask: {}}"),
        ("c_last", "{fake: last_name}"),
    ] {
        assert!(out.contains(&format!("add `{column}: {rule}`")), "{out}");
    }

    let out = dir.path().join("dump.sql");
    let firsts = |middle: &str| {
        let g = write_graph(
            dir.path(),
            &format!(
                "tables:\n  customer:\n    cleanse:\n      c_first: {{fake: first_name}}\n      \
                 c_middle: {middle}\n      c_last: {{fake: last_name}}\n"
            ),
        );
        let o = dump_into(
            &src.url(),
            &g,
            &["--root-where", "customer:1 = 1", "--random-seed", "5", "-q"],
            &out,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).unwrap();
        let firsts: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with('('))
            .map(|l| l.split(',').nth(1).unwrap().trim_matches('\'').to_string())
            .collect();
        (firsts, stderr(&o))
    };
    let (cut, said) = firsts("{fake: first_name}");
    assert!(cut.iter().all(|f| f.len() <= 2), "{cut:?}");
    assert!(
        said.contains("`customer.c_middle` shares its rule with `customer.c_first`, and the rule's outputs must fit the narrowest of them, `customer.c_middle` (2 characters)"),
        "{said}"
    );
    assert!(
        said.contains("Give `customer.c_middle` a rule of its own"),
        "{said}"
    );
    let (whole, said) = firsts("{mask: {}}");
    assert!(whole.iter().all(|f| f.len() > 2), "{whole:?}");
    assert!(!said.contains("warning"), "{said}");
}
