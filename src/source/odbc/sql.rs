//! SQL text for each dialect. Pure: no connection, no I/O.
//!
//! Every value (receiver names, sequence numbers, timestamps, user names, the row
//! bound) is a `?` parameter marker with a `CAST`, never text spliced into the
//! statement; only identifiers and the number of markers depend on configuration.
//! Columns are selected by name, quoted upper-case, so the same text reads Db2 for i
//! and the PostgreSQL lab, whose columns carry the same quoted names.

use super::config::Dialect;

/// Columns without which a row cannot become an event.
pub const REQUIRED_COLUMNS: &[&str] = &[
    "ENTRY_TIMESTAMP",
    "SEQUENCE_NUMBER",
    "SYSTEM_NAME",
    "RECEIVER_LIBRARY",
    "RECEIVER_NAME",
    "ENTRY_TYPE",
    "JOB_NAME",
    "JOB_TYPE",
];

/// Columns read when the release has them; a missing one reads as NULL.
pub const OPTIONAL_COLUMNS: &[&str] = &[
    "ENTRY_TYPE_DETAIL",
    "USER_NAME",
    "QUALIFIED_JOB_NAME",
    "JOB_USER",
    "JOB_NUMBER",
    "JOB_SUBTYPE",
    "PROGRAM_LIBRARY",
    "PROGRAM_NAME",
    "REMOTE_ADDRESS",
    "REMOTE_PORT",
    "DEVICE_NAME",
    "REAL_USER_PROFILE",
    "EFFECTIVE_USER_PROFILE",
    "TARGET_QUALIFIED_JOB_NAME",
];

/// The JS function: the one every supported release has.
pub const JS_FUNCTION: &str = "AUDIT_JOURNAL_JS";

/// Header columns every audit journal function returns, without which a row
/// of another type cannot become an event.
pub const COMMON_REQUIRED_COLUMNS: &[&str] = &[
    "ENTRY_TIMESTAMP",
    "SEQUENCE_NUMBER",
    "SYSTEM_NAME",
    "RECEIVER_LIBRARY",
    "RECEIVER_NAME",
];

/// Header columns read from every type's function when the release has them.
pub const COMMON_OPTIONAL_COLUMNS: &[&str] = &[
    "USER_NAME",
    "QUALIFIED_JOB_NAME",
    "JOB_NAME",
    "JOB_USER",
    "JOB_NUMBER",
    "PROGRAM_LIBRARY",
    "PROGRAM_NAME",
    "REMOTE_ADDRESS",
    "REMOTE_PORT",
];

/// A parameter value, bound as text and cast in the statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Bound as text and cast in the statement (names, codes, sequence numbers, times).
    Text(String),
    /// Bound as a 64-bit integer (used for the row bound).
    Integer(i64),
}

/// A statement and its parameters, in marker order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The statement, with `?` parameter markers.
    pub text: String,
    /// One value per marker, in order.
    pub params: Vec<Value>,
}

/// Row filters that go into the statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqlFilter {
    /// Upper-case JS codes; empty = all.
    pub entry_types: Vec<String>,
    /// Upper-case REAL_USER_PROFILE values to keep; empty = all.
    pub include_users: Vec<String>,
    /// Upper-case REAL_USER_PROFILE values to drop.
    pub exclude_users: Vec<String>,
}

/// Where a read starts inside one receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// Entries with a sequence number at or above this one.
    Sequence(u64),
    /// Entries at or after this local time (first run only).
    Timestamp(chrono::NaiveDateTime),
}

/// `SELECT <columns> FROM <JS function over one receiver> WHERE <filters>
/// ORDER BY SEQUENCE_NUMBER FETCH FIRST ? ROWS ONLY` (`LIMIT` on PostgreSQL).
// Each argument is one part of the statement; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn read_receiver(
    function: &str,
    dialect: Dialect,
    columns: &[String],
    receiver_library: &str,
    receiver_name: &str,
    start: &Start,
    filter: &SqlFilter,
    max_rows: usize,
) -> Query {
    let mut params = vec![
        Value::Text(receiver_library.into()),
        Value::Text(receiver_name.into()),
        Value::Text(receiver_library.into()),
        Value::Text(receiver_name.into()),
    ];
    let start_argument = match start {
        Start::Sequence(sequence) => {
            params.push(Value::Text(sequence.to_string()));
            "STARTING_SEQUENCE => CAST(? AS DECIMAL(21, 0))"
        }
        Start::Timestamp(local) => {
            params.push(Value::Text(
                local.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            ));
            "STARTING_TIMESTAMP => CAST(? AS TIMESTAMP)"
        }
    };
    let arguments = format!(
        "STARTING_RECEIVER_LIBRARY => CAST(? AS VARCHAR(10)), \
         STARTING_RECEIVER_NAME => CAST(? AS VARCHAR(10)), \
         ENDING_RECEIVER_LIBRARY => CAST(? AS VARCHAR(10)), \
         ENDING_RECEIVER_NAME => CAST(? AS VARCHAR(10)), \
         {start_argument}"
    );
    let where_clause = filter_clause(filter, &mut params);
    params.push(Value::Integer(i64::try_from(max_rows).unwrap_or(i64::MAX)));
    // PostgreSQL's FETCH FIRST takes a bare parameter only; psqlODBC may send the
    // marker as `$1::int8`, which LIMIT accepts and FETCH FIRST does not.
    let bound = match dialect {
        Dialect::Db2i => "FETCH FIRST ? ROWS ONLY",
        Dialect::Postgres => "LIMIT CAST(? AS BIGINT)",
    };
    Query {
        text: format!(
            "SELECT {} FROM {} X{where_clause} ORDER BY X.\"SEQUENCE_NUMBER\" {bound}",
            select_list(columns),
            function_call(dialect, function, &arguments)
        ),
        params,
    }
}

/// `SELECT <columns> FROM <JS function over one receiver, sequences first..=last>
/// WHERE <filters> ORDER BY SEQUENCE_NUMBER`: one bounded window, read whole.
/// The text depends only on the columns and the filter, so it is prepared once
/// per connection; the receiver and the bounds are parameters.
#[allow(clippy::too_many_arguments)]
pub fn read_window(
    function: &str,
    dialect: Dialect,
    columns: &[String],
    receiver_library: &str,
    receiver_name: &str,
    first: u64,
    last: u64,
    filter: &SqlFilter,
) -> Query {
    let mut params = vec![
        Value::Text(receiver_library.into()),
        Value::Text(receiver_name.into()),
        Value::Text(receiver_library.into()),
        Value::Text(receiver_name.into()),
        Value::Text(first.to_string()),
        Value::Text(last.to_string()),
    ];
    let arguments = "STARTING_RECEIVER_LIBRARY => CAST(? AS VARCHAR(10)), \
         STARTING_RECEIVER_NAME => CAST(? AS VARCHAR(10)), \
         ENDING_RECEIVER_LIBRARY => CAST(? AS VARCHAR(10)), \
         ENDING_RECEIVER_NAME => CAST(? AS VARCHAR(10)), \
         STARTING_SEQUENCE => CAST(? AS DECIMAL(21, 0)), \
         ENDING_SEQUENCE => CAST(? AS DECIMAL(21, 0))";
    let where_clause = filter_clause(filter, &mut params);
    Query {
        text: format!(
            "SELECT {} FROM {} X{where_clause} ORDER BY X.\"SEQUENCE_NUMBER\"",
            select_list(columns),
            function_call(dialect, function, arguments)
        ),
        params,
    }
}

fn select_list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|column| format!("X.\"{column}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` WHERE ...` for the filter (empty without one); pushes its parameters.
fn filter_clause(filter: &SqlFilter, params: &mut Vec<Value>) -> String {
    let mut conditions = Vec::new();
    if !filter.entry_types.is_empty() {
        conditions.push(format!(
            "X.\"ENTRY_TYPE\" IN ({})",
            markers(filter.entry_types.len(), "CHAR(1)")
        ));
        params.extend(filter.entry_types.iter().cloned().map(Value::Text));
    }
    if !filter.include_users.is_empty() {
        conditions.push(format!(
            "X.\"REAL_USER_PROFILE\" IN ({})",
            markers(filter.include_users.len(), "VARCHAR(10)")
        ));
        params.extend(filter.include_users.iter().cloned().map(Value::Text));
    }
    if !filter.exclude_users.is_empty() {
        conditions.push(format!(
            "(X.\"REAL_USER_PROFILE\" IS NULL OR X.\"REAL_USER_PROFILE\" NOT IN ({}))",
            markers(filter.exclude_users.len(), "VARCHAR(10)")
        ));
        params.extend(filter.exclude_users.iter().cloned().map(Value::Text));
    }
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// A statement that returns no row but the JS function's columns, to learn
/// which optional columns this release has.
pub fn discover_columns(function: &str, dialect: Dialect) -> Query {
    Query {
        text: format!(
            "SELECT * FROM {} X WHERE 1 = 0",
            function_call(
                dialect,
                function,
                "STARTING_RECEIVER_NAME => CAST(? AS VARCHAR(10))"
            )
        ),
        params: vec![Value::Text("*CURRENT".into())],
    }
}

/// The result columns of every SYSTOOLS audit journal function, from the Db2
/// catalog (`QSYS2.SYSROUTINES`, `QSYS2.SYSPARMS` with `ROW_TYPE = 'C'`),
/// without invoking any of them: (function, column, data type, length), in
/// column order. A function the system lacks has no row.
pub fn routine_columns() -> Query {
    Query {
        text: "SELECT R.\"ROUTINE_NAME\", P.\"PARAMETER_NAME\", P.\"DATA_TYPE\", P.\"CHARACTER_MAXIMUM_LENGTH\" \
               FROM QSYS2.SYSROUTINES R INNER JOIN QSYS2.SYSPARMS P \
               ON P.\"SPECIFIC_SCHEMA\" = R.\"SPECIFIC_SCHEMA\" AND P.\"SPECIFIC_NAME\" = R.\"SPECIFIC_NAME\" \
               WHERE R.\"ROUTINE_SCHEMA\" = CAST(? AS VARCHAR(128)) AND R.\"ROUTINE_NAME\" LIKE CAST(? AS VARCHAR(128)) \
               AND P.\"ROW_TYPE\" = 'C' \
               ORDER BY R.\"ROUTINE_NAME\", P.\"ORDINAL_POSITION\""
            .into(),
        params: vec![
            Value::Text("SYSTOOLS".into()),
            Value::Text("AUDIT_JOURNAL_%".into()),
        ],
    }
}

/// Receivers of QSYS/QAUDJRN, oldest attachment first.
pub fn receivers() -> Query {
    Query {
        text: "SELECT R.\"JOURNAL_RECEIVER_LIBRARY\", R.\"JOURNAL_RECEIVER_NAME\", R.\"STATUS\", \
               R.\"FIRST_SEQUENCE_NUMBER\", R.\"LAST_SEQUENCE_NUMBER\", R.\"ATTACH_TIMESTAMP\", \
               R.\"DETACH_TIMESTAMP\", R.\"NEXT_JOURNAL_RECEIVER_LIBRARY\", R.\"NEXT_JOURNAL_RECEIVER\" \
               FROM QSYS2.JOURNAL_RECEIVER_INFO R \
               WHERE R.\"JOURNAL_LIBRARY\" = CAST(? AS VARCHAR(10)) AND R.\"JOURNAL_NAME\" = CAST(? AS VARCHAR(10)) \
               ORDER BY R.\"ATTACH_TIMESTAMP\", R.\"JOURNAL_RECEIVER_NAME\""
            .into(),
        params: vec![Value::Text("QSYS".into()), Value::Text("QAUDJRN".into())],
    }
}

/// Profiles holding *ALLOBJ or *SECADM (enabled or not: a disabled one
/// that is used again is the alert), directly or through a group profile or
/// supplemental group that holds it (`QSYS2.GROUP_PROFILE_ENTRIES` lists both),
/// as IBM's own example for "who has *ALLOBJ" reads it.
pub fn privileged_profiles(_dialect: Dialect) -> Query {
    Query {
        text: format!(
            "SELECT U.\"AUTHORIZATION_NAME\" FROM QSYS2.USER_INFO U WHERE {held} \
             UNION \
             SELECT G.\"USER_PROFILE_NAME\" FROM QSYS2.GROUP_PROFILE_ENTRIES G \
             INNER JOIN QSYS2.USER_INFO U ON U.\"AUTHORIZATION_NAME\" = G.\"GROUP_PROFILE_NAME\" WHERE {held} \
             ORDER BY 1",
            held = PRIVILEGED_AUTHORITIES
        ),
        params: Vec::new(),
    }
}

/// QAUDLVL and QAUDLVL2 (name, character value), for the start-up check
/// that profile swaps are audited.
pub fn audit_levels() -> Query {
    Query {
        text: "SELECT \"SYSTEM_VALUE_NAME\", \"CURRENT_CHARACTER_VALUE\" FROM QSYS2.SYSTEM_VALUE_INFO \
               WHERE \"SYSTEM_VALUE_NAME\" IN ('QAUDLVL', 'QAUDLVL2')"
            .into(),
        params: Vec::new(),
    }
}

/// [`privileged_profiles`] without groups, for a release whose
/// `QSYS2.GROUP_PROFILE_ENTRIES` is missing or not readable.
pub fn privileged_profiles_direct(_dialect: Dialect) -> Query {
    Query {
        text: format!(
            "SELECT U.\"AUTHORIZATION_NAME\" FROM QSYS2.USER_INFO U WHERE {PRIVILEGED_AUTHORITIES} \
             ORDER BY U.\"AUTHORIZATION_NAME\""
        ),
        params: Vec::new(),
    }
}

const PRIVILEGED_AUTHORITIES: &str =
    "(U.\"SPECIAL_AUTHORITIES\" LIKE '%*ALLOBJ%' OR U.\"SPECIAL_AUTHORITIES\" LIKE '%*SECADM%')";

/// The profile this connection runs as.
pub fn current_user(dialect: Dialect) -> Query {
    let text = match dialect {
        Dialect::Db2i => "SELECT USER FROM SYSIBM.SYSDUMMY1",
        Dialect::Postgres => "SELECT SESSION_USER",
    };
    Query {
        text: text.into(),
        params: Vec::new(),
    }
}

fn markers(count: usize, sql_type: &str) -> String {
    vec![format!("CAST(? AS {sql_type})"); count].join(", ")
}

/// The one place the dialects differ: Db2 for i wraps a table function in TABLE().
/// `function` is one of the catalog's SYSTOOLS function names, never user text.
fn function_call(dialect: Dialect, function: &str, arguments: &str) -> String {
    debug_assert!(function
        .bytes()
        .all(|byte| byte.is_ascii_uppercase() || byte == b'_'));
    match dialect {
        Dialect::Db2i => format!("TABLE(SYSTOOLS.{function}({arguments}))"),
        Dialect::Postgres => format!("SYSTOOLS.{function}({arguments})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<String> {
        REQUIRED_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .collect()
    }

    fn hostile_filter() -> SqlFilter {
        SqlFilter {
            entry_types: vec!["S".into(), "M".into()],
            include_users: vec!["O'BRIEN".into()],
            exclude_users: vec!["QUSER".into(), "X'); DROP TABLE T;--".into()],
        }
    }

    #[test]
    fn db2_reads_one_receiver_after_a_sequence_with_everything_bound() {
        let query = read_receiver(
            "AUDIT_JOURNAL_JS",
            Dialect::Db2i,
            &columns(),
            "QGPL",
            "AUDRCV0042",
            &Start::Sequence(18_446_744_073_709_551_615),
            &hostile_filter(),
            500,
        );
        assert!(
            query
                .text
                .starts_with("SELECT X.\"ENTRY_TIMESTAMP\", X.\"SEQUENCE_NUMBER\""),
            "{}",
            query.text
        );
        assert!(query.text.contains("FROM TABLE(SYSTOOLS.AUDIT_JOURNAL_JS(STARTING_RECEIVER_LIBRARY => CAST(? AS VARCHAR(10))"));
        assert!(query
            .text
            .contains("STARTING_SEQUENCE => CAST(? AS DECIMAL(21, 0)))) X"));
        assert!(query
            .text
            .contains("X.\"ENTRY_TYPE\" IN (CAST(? AS CHAR(1)), CAST(? AS CHAR(1)))"));
        assert!(query.text.contains("(X.\"REAL_USER_PROFILE\" IS NULL OR X.\"REAL_USER_PROFILE\" NOT IN (CAST(? AS VARCHAR(10)), CAST(? AS VARCHAR(10))))"));
        assert!(query
            .text
            .ends_with("ORDER BY X.\"SEQUENCE_NUMBER\" FETCH FIRST ? ROWS ONLY"));
        assert_eq!(query.text.matches('?').count(), query.params.len());
        assert_eq!(
            query.params,
            vec![
                Value::Text("QGPL".into()),
                Value::Text("AUDRCV0042".into()),
                Value::Text("QGPL".into()),
                Value::Text("AUDRCV0042".into()),
                Value::Text("18446744073709551615".into()),
                Value::Text("S".into()),
                Value::Text("M".into()),
                Value::Text("O'BRIEN".into()),
                Value::Text("QUSER".into()),
                Value::Text("X'); DROP TABLE T;--".into()),
                Value::Integer(500),
            ]
        );
    }

    #[test]
    fn postgres_differs_only_by_the_table_wrapper_and_the_row_bound() {
        let filter = hostile_filter();
        let start = Start::Timestamp(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 25)
                .unwrap()
                .and_hms_micro_opt(2, 30, 0, 7)
                .unwrap(),
        );
        let db2 = read_receiver(
            "AUDIT_JOURNAL_JS",
            Dialect::Db2i,
            &columns(),
            "QGPL",
            "AUDRCV0001",
            &start,
            &filter,
            10,
        );
        let postgres = read_receiver(
            "AUDIT_JOURNAL_JS",
            Dialect::Postgres,
            &columns(),
            "QGPL",
            "AUDRCV0001",
            &start,
            &filter,
            10,
        );
        assert_eq!(db2.params, postgres.params);
        assert_eq!(
            db2.text
                .replace(
                    "TABLE(SYSTOOLS.AUDIT_JOURNAL_JS(",
                    "SYSTOOLS.AUDIT_JOURNAL_JS("
                )
                .replace(")) X", ") X")
                .replace("FETCH FIRST ? ROWS ONLY", "LIMIT CAST(? AS BIGINT)"),
            postgres.text
        );
        assert!(postgres
            .text
            .contains("STARTING_TIMESTAMP => CAST(? AS TIMESTAMP)"));
        assert!(
            !postgres.text.contains("STARTING_SEQUENCE"),
            "a timestamp and a sequence exclude each other"
        );
        assert_eq!(
            postgres.params[4],
            Value::Text("2026-10-25 02:30:00.000007".into())
        );
    }

    #[test]
    fn no_value_is_ever_spliced_into_the_text() {
        let filter = hostile_filter();
        for dialect in [Dialect::Db2i, Dialect::Postgres] {
            let queries = [
                read_receiver(
                    "AUDIT_JOURNAL_JS",
                    dialect,
                    &columns(),
                    "LIBX",
                    "RCVX",
                    &Start::Sequence(987_654_321),
                    &filter,
                    4321,
                ),
                read_receiver(
                    "AUDIT_JOURNAL_JS",
                    dialect,
                    &columns(),
                    "LIBX",
                    "RCVX",
                    &Start::Timestamp(
                        chrono::NaiveDate::from_ymd_opt(2031, 1, 2)
                            .unwrap()
                            .and_hms_opt(3, 4, 5)
                            .unwrap(),
                    ),
                    &filter,
                    4321,
                ),
                discover_columns("AUDIT_JOURNAL_JS", dialect),
                receivers(),
            ];
            for query in queries {
                assert_eq!(
                    query.text.matches('?').count(),
                    query.params.len(),
                    "{}",
                    query.text
                );
                // A spliced string would need quotes; spliced numbers would show their digits.
                assert!(!query.text.contains('\''), "a literal in {}", query.text);
                for digits in ["987654321", "4321", "2031"] {
                    assert!(
                        !query.text.contains(digits),
                        "{digits} spliced into {}",
                        query.text
                    );
                }
            }
        }
    }

    #[test]
    fn a_window_binds_both_bounds_and_has_no_row_limit() {
        for dialect in [Dialect::Db2i, Dialect::Postgres] {
            let query = read_window(
                "AUDIT_JOURNAL_JS",
                dialect,
                &columns(),
                "QGPL",
                "AUDRCV0042",
                10_001,
                20_000,
                &hostile_filter(),
            );
            assert!(query.text.contains("STARTING_SEQUENCE => CAST(? AS DECIMAL(21, 0)), ENDING_SEQUENCE => CAST(? AS DECIMAL(21, 0))"), "{}", query.text);
            assert!(
                query.text.ends_with("ORDER BY X.\"SEQUENCE_NUMBER\""),
                "{}",
                query.text
            );
            assert!(!query.text.contains("LIMIT") && !query.text.contains("FETCH FIRST"));
            assert!(!query.text.contains("10001") && !query.text.contains("20000"));
            assert_eq!(query.text.matches('?').count(), query.params.len());
            assert_eq!(
                query.params[4..6],
                [Value::Text("10001".into()), Value::Text("20000".into())]
            );
            // Same text for any receiver and bounds: prepared once.
            let other = read_window(
                "AUDIT_JOURNAL_JS",
                dialect,
                &columns(),
                "X",
                "Y",
                1,
                2,
                &hostile_filter(),
            );
            assert_eq!(other.text, query.text);
        }
    }

    #[test]
    fn no_filter_means_no_where_clause() {
        let query = read_receiver(
            "AUDIT_JOURNAL_JS",
            Dialect::Postgres,
            &columns(),
            "QGPL",
            "R1",
            &Start::Sequence(1),
            &SqlFilter::default(),
            1,
        );
        assert!(!query.text.contains("WHERE"));
        assert_eq!(query.params.len(), 6);
    }
}
