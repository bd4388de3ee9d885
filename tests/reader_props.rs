//! Property tests for the dump format: whatever the writer writes, the reader reads back the
//! same values; whatever bytes the reader is given, it returns an error instead of panicking.

use partialdump::dialect::{Dialect, MYSQL, SQLITE};
use partialdump::engine::value::Value;
use partialdump::import::reader::{DumpReader, Statement};
use partialdump::sink::{RowSink, SqlWriter};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
        any::<f64>()
            .prop_filter("finite", |d| d.is_finite())
            .prop_map(Value::Double),
        any::<f32>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        ("-?[0-9]{1,20}\\.[0-9]{1,10}").prop_map(Value::Decimal),
        any::<String>().prop_map(Value::Text),
        "[\\\\'\"\\n\\r\\x00\\x1a`; a-z]{0,20}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ]
}

/// What the reader gives back for a value: FLOAT comes back as the double it was written as.
fn as_read(v: &Value) -> Value {
    match v {
        Value::Float(f) => Value::Double(f64::from(*f)),
        other => other.clone(),
    }
}

fn write_dump(dialect: &'static dyn Dialect, rows: &[Vec<Value>], max_statement: usize) -> Vec<u8> {
    let mut w = SqlWriter::new(Vec::new(), dialect, max_statement);
    let cols: Vec<String> = (0..rows.first().map_or(1, Vec::len))
        .map(|i| format!("c{i}"))
        .collect();
    w.begin(
        &[
            format!(
                "partialdump test dump, format {}",
                partialdump::sink::FORMAT
            ),
            format!("dialect: {}", dialect.name()),
        ],
        &[],
    )
    .unwrap();
    w.begin_table("t`\"x", &cols).unwrap();
    for r in rows {
        w.row(r).unwrap();
    }
    w.end_table().unwrap();
    w.finish(&[("t`\"x".to_string(), rows.len() as u64)])
        .unwrap();
    w.into_inner().unwrap()
}

fn read_all(bytes: &[u8]) -> partialdump::Result<Vec<Statement>> {
    let mut r = DumpReader::new(bytes, "test.sql")?;
    let mut out = Vec::new();
    while let Some(s) = r.next_statement()? {
        out.push(s.statement);
    }
    r.finish()?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn what_is_written_reads_back_identically(
        width in 1usize..5,
        cells in proptest::collection::vec(value(), 1..60),
        small in any::<bool>(),
        sqlite in any::<bool>(),
    ) {
        let rows: Vec<Vec<Value>> = cells.chunks(width).filter(|c| c.len() == width).map(<[Value]>::to_vec).collect();
        prop_assume!(!rows.is_empty());
        let dialect: &'static dyn Dialect = if sqlite { &SQLITE } else { &MYSQL };
        let bytes = write_dump(dialect, &rows, if small { 64 } else { 1 << 20 });
        let statements = read_all(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let read: Vec<Vec<Value>> = statements
            .into_iter()
            .filter_map(|s| match s {
                Statement::Insert { table, rows, .. } => {
                    assert_eq!(table, "t`\"x");
                    Some(rows)
                }
                _ => None,
            })
            .flatten()
            .collect();
        let want: Vec<Vec<Value>> = rows.iter().map(|r| r.iter().map(as_read).collect()).collect();
        prop_assert_eq!(read.len(), want.len());
        for (a, b) in read.iter().zip(&want) {
            for (x, y) in a.iter().zip(b) {
                // Compare doubles by bits (the order on Value already does), everything else by value.
                prop_assert_eq!(x, y);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_all(&bytes);
        let mut with_header = b"-- partialdump x\n-- dialect: mysql\n".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = read_all(&with_header);
    }

    #[test]
    fn mutated_dumps_are_refused_not_panicked_on(
        cells in proptest::collection::vec(value(), 1..20),
        at in any::<prop::sample::Index>(),
        len in 0usize..20,
        insert in proptest::collection::vec(any::<u8>(), 0..10),
    ) {
        let rows: Vec<Vec<Value>> = cells.chunks(2).filter(|c| c.len() == 2).map(<[Value]>::to_vec).collect();
        prop_assume!(!rows.is_empty());
        let good = write_dump(&MYSQL, &rows, 1 << 20);
        let header_len = good.split(|b| *b == b'\n').take(2).map(|l| l.len() + 1).sum::<usize>();
        let trailer = good[..good.len() - 1].iter().rposition(|b| *b == b'\n').unwrap() + 1;
        let i = header_len + at.index(trailer - header_len);
        let end = (i + len).min(trailer);
        let mut bad = good[..i].to_vec();
        bad.extend_from_slice(&insert);
        bad.extend_from_slice(&good[end..]);
        prop_assume!(bad != good);
        // A change anywhere in the body is caught (grammar, counts or checksum).
        prop_assert!(read_all(&bad).is_err(), "accepted a mutated dump");
    }
}
