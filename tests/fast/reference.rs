//! The catalog against an independent reference: `tests/fixtures/ibmi/*.toml`,
//! written from IBM's documentation of each SYSTOOLS audit journal function
//! (never from `src/`). The lab's typed functions (`deploy/lab/types.sql`,
//! below its marker line) are generated from the same reference, so a column
//! the catalog gets wrong reads as null in the lab and fails the lab tests too.
//! `AUDITFWD_UPDATE_LAB=1 cargo test reference` rewrites the generated part.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use auditfwd::event::audit::{catalog, Kind, TypeSpec};
use auditfwd::source::odbc::sql;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reference {
    pub function: String,
    pub entry_type: String,
    pub name: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub code_column: Option<String>,
    pub qaudlvl: String,
    pub availability: String,
    pub columns: Vec<RefColumn>,
    #[serde(default)]
    pub codes: Vec<RefCode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub db2_type: Db2Type,
    #[serde(default)]
    pub length: Option<u32>,
    #[serde(default)]
    pub scale: Option<u32>,
    #[serde(default)]
    pub ccsid: Option<u32>,
    pub verified: bool,
    pub source: String,
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Db2Type {
    Char,
    Varchar,
    Graphic,
    Vargraphic,
    Smallint,
    Integer,
    Bigint,
    Decimal,
    Timestamp,
    Binary,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefCode {
    pub code: String,
    pub meaning: String,
    #[serde(default)]
    pub column: Option<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ibmi")
}

/// Every reference file by its type (`common` for the header).
pub(crate) fn references() -> BTreeMap<String, Reference> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures()).expect("tests/fixtures/ibmi is there") {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|extension| extension == "toml")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            let reference: Reference =
                toml::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let key = path.file_stem().unwrap().to_string_lossy().to_uppercase();
            found.insert(key, reference);
        }
    }
    found
}

impl RefColumn {
    /// The PostgreSQL type the lab gives this column.
    fn lab_type(&self) -> String {
        let length = self.length.unwrap_or(1);
        match self.db2_type {
            Db2Type::Char | Db2Type::Graphic => format!("char({length})"),
            Db2Type::Varchar | Db2Type::Vargraphic => format!("varchar({length})"),
            Db2Type::Smallint => "smallint".into(),
            Db2Type::Integer => "integer".into(),
            Db2Type::Bigint => "bigint".into(),
            Db2Type::Decimal => format!("numeric({length}, {})", self.scale.unwrap_or(0)),
            Db2Type::Timestamp => "timestamp(6) without time zone".into(),
            Db2Type::Binary => "bytea".into(),
        }
    }

    /// Whether the catalog's `kind` can read this column's values.
    fn fits(&self, kind: Kind) -> bool {
        match kind {
            Kind::Text => matches!(
                self.db2_type,
                Db2Type::Char | Db2Type::Varchar | Db2Type::Graphic | Db2Type::Vargraphic
            ),
            Kind::Integer => {
                matches!(
                    self.db2_type,
                    Db2Type::Smallint | Db2Type::Integer | Db2Type::Bigint
                ) || (self.db2_type == Db2Type::Decimal && self.scale.unwrap_or(0) == 0)
            }
            // Y/N, YES/NO, *YES/*NO: short character columns.
            Kind::Flag => {
                matches!(self.db2_type, Db2Type::Char | Db2Type::Varchar)
                    && self.length.is_some_and(|length| length <= 4)
            }
        }
    }
}

#[test]
fn every_reference_names_its_sources_and_is_complete() {
    let references = references();
    let mut expected: Vec<String> = catalog::ALL.iter().map(|spec| spec.code.into()).collect();
    expected.push("COMMON".into());
    expected.sort();
    let found: Vec<String> = references.keys().cloned().collect();
    assert_eq!(
        found, expected,
        "one reference file per function we read, and common.toml"
    );
    for (key, reference) in &references {
        assert!(!reference.sources.is_empty(), "{key}: no sources");
        assert!(
            reference
                .sources
                .iter()
                .all(|source| source.starts_with("https://") || source.starts_with("http://")),
            "{key}: every source is a URL"
        );
        assert!(!reference.columns.is_empty(), "{key}: no columns");
        let mut names = HashSet::new();
        for column in &reference.columns {
            assert!(names.insert(&column.name), "{key}: {} twice", column.name);
            assert!(
                matches!(column.source.as_str(), "ibm" | "manzan"),
                "{key}.{}: source {}",
                column.name,
                column.source
            );
            assert!(!column.description.is_empty(), "{key}.{}", column.name);
            assert!(
                column.verified || column.source == "manzan",
                "{key}.{}: an unverified column names where it comes from",
                column.name
            );
            if let Some(ccsid) = column.ccsid {
                assert!(
                    !matches!(column.db2_type, Db2Type::Graphic | Db2Type::Vargraphic)
                        || ccsid == 1200,
                    "{key}.{}: graphic columns of these functions are UTF-16 (CCSID 1200)",
                    column.name
                );
            }
        }
        if let Some(code_column) = &reference.code_column {
            assert!(
                reference
                    .columns
                    .iter()
                    .any(|column| &column.name == code_column),
                "{key}: code column {code_column} is not among its columns"
            );
        }
    }
}

/// What the catalog reads must be what IBM documents: every column it selects
/// exists with a type its kind can read, its code column is IBM's, and every
/// documented code has a meaning in the catalog.
#[test]
fn the_catalog_matches_ibms_documentation() {
    let references = references();
    let common = &references["COMMON"];
    let mut problems = Vec::new();
    for column in sql::COMMON_REQUIRED_COLUMNS
        .iter()
        .chain(sql::COMMON_OPTIONAL_COLUMNS)
    {
        if !common.columns.iter().any(|known| known.name == *column) {
            problems.push(format!(
                "common header: the reader selects {column}, which IBM does not document"
            ));
        }
    }
    let js = &references["JS"];
    for column in sql::REQUIRED_COLUMNS.iter().chain(sql::OPTIONAL_COLUMNS) {
        let documented = common
            .columns
            .iter()
            .chain(&js.columns)
            .any(|known| known.name == *column);
        if !documented {
            problems.push(format!(
                "JS: the reader selects {column}, which AUDIT_JOURNAL_JS does not document"
            ));
        }
    }
    for spec in catalog::ALL {
        let reference = &references[spec.code];
        check_type(spec, reference, &mut problems);
    }
    assert!(
        problems.is_empty(),
        "the catalog disagrees with tests/fixtures/ibmi (IBM's documentation):\n  {}",
        problems.join("\n  ")
    );
}

fn check_type(spec: &TypeSpec, reference: &Reference, problems: &mut Vec<String>) {
    let code = spec.code;
    if spec.function != reference.function {
        problems.push(format!(
            "{code}: function {} but IBM's is {}",
            spec.function, reference.function
        ));
    }
    if spec.code_column != reference.code_column.as_deref() {
        problems.push(format!(
            "{code}: code column {:?} but IBM's is {:?}",
            spec.code_column, reference.code_column
        ));
    }
    for column in spec.columns {
        match reference
            .columns
            .iter()
            .find(|known| known.name == column.name)
        {
            None => problems.push(format!(
                "{code}: reads {}, which {} does not have",
                column.name, reference.function
            )),
            Some(known) if !known.fits(column.kind) => problems.push(format!(
                "{code}: reads {} as {:?}, but IBM types it {:?}({:?})",
                column.name, column.kind, known.db2_type, known.length
            )),
            Some(_) => {}
        }
    }
    for documented in reference
        .codes
        .iter()
        .filter(|documented| documented.column.is_none())
    {
        if spec.code_spec(&documented.code).is_none() && !spec.is_js() {
            problems.push(format!(
                "{code}: code {} ({}) is documented but not in the catalog",
                documented.code, documented.meaning
            ));
        }
    }
    if spec.is_js() {
        for documented in reference.codes.iter().filter(|code| code.column.is_none()) {
            if auditfwd::enrich::classify::entry_type_description(Some(&documented.code)).is_none()
            {
                problems.push(format!(
                    "JS: code {} is documented but not classified",
                    documented.code
                ));
            }
        }
    }
}

/// A catalog mistake is caught: the check above fails on a copy of OW that
/// reads IBM's absent ENTRY_TYPE (the catalog's own mistake before this test).
#[test]
fn the_check_fails_on_a_column_ibm_does_not_have() {
    use auditfwd::event::audit::Column;
    let references = references();
    let wrong = TypeSpec {
        code_column: Some("ENTRY_TYPE"),
        columns: &[Column {
            name: "ENTRY_TYPE",
            kind: Kind::Text,
        }],
        ..catalog::OW
    };
    let mut problems = Vec::new();
    check_type(&wrong, &references["OW"], &mut problems);
    assert_eq!(problems.len(), 2, "{problems:?}");
    let wrong_ad = TypeSpec {
        columns: &[Column {
            name: "OBJECT_LIBRARY",
            kind: Kind::Text,
        }],
        ..catalog::AD
    };
    let mut problems = Vec::new();
    check_type(&wrong_ad, &references["AD"], &mut problems);
    assert!(problems[0].contains("OBJECT_LIBRARY"), "{problems:?}");
}

/// Where each common header column comes from in `lab.typed_entries`.
fn header_value(name: &str) -> &'static str {
    match name {
        "ENTRY_TIMESTAMP" => "e.\"ENTRY_TIMESTAMP\"",
        "SEQUENCE_NUMBER" => "e.\"SEQUENCE_NUMBER\"",
        "USER_NAME" => "e.\"USER_NAME\"",
        "QUALIFIED_JOB_NAME" => "e.\"QUALIFIED_JOB_NAME\"",
        "JOB_NAME" => "e.\"JOB_NAME\"",
        "JOB_USER" => "e.\"JOB_USER\"",
        "JOB_NUMBER" => "e.\"JOB_NUMBER\"",
        "PROGRAM_LIBRARY" => "e.\"PROGRAM_LIBRARY\"",
        "PROGRAM_NAME" => "e.\"PROGRAM_NAME\"",
        "REMOTE_PORT" => "e.\"REMOTE_PORT\"",
        "REMOTE_ADDRESS" => "e.\"REMOTE_ADDRESS\"",
        "SYSTEM_NAME" => "e.\"SYSTEM_NAME\"",
        "RECEIVER_LIBRARY" => "e.\"RECEIVER_LIBRARY\"",
        "RECEIVER_NAME" => "e.\"RECEIVER_NAME\"",
        "SYSTEM_SEQUENCE_NUMBER" => "5000000000 + e.\"SEQUENCE_NUMBER\"",
        name if name.ends_with("_ASP_DEVICE") => "'*SYSBAS'",
        name if name.ends_with("_ASP_NUMBER") || name == "ARM_NUMBER" => "1",
        _ => "NULL",
    }
}

/// The value of an entry-specific column, from `details` (IBM's names).
fn detail_value(column: &RefColumn) -> String {
    match column.db2_type {
        Db2Type::Binary => format!("decode(e.details ->> '{}', 'hex')", column.name),
        _ => format!("(e.details ->> '{}')", column.name),
    }
}

const MARKER: &str = "-- ==== GENERATED from tests/fixtures/ibmi/*.toml below this line; do not edit below it ====\n";

/// The generated part of `deploy/lab/types.sql`: one type and one function per
/// audit type other than JS, with IBM's columns in IBM's order.
pub(crate) fn generated_functions(references: &BTreeMap<String, Reference>) -> String {
    let common = &references["COMMON"];
    let mut out = String::new();
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        let reference = &references[spec.code];
        let lower = reference.function.to_lowercase();
        out.push_str(&format!(
            "\n-- SYSTOOLS.{} ({} {}): {} columns as IBM documents them ({} of the entry's own seen on an IBM page).\n-- Written when QAUDLVL has {}; available: {}.\n-- Sources: {}\nCREATE TYPE lab.{lower}_row AS (\n",
            reference.function,
            reference.entry_type,
            reference.name,
            common.columns.len() + reference.columns.len(),
            reference.columns.iter().filter(|column| column.verified).count(),
            reference.qaudlvl,
            reference.availability,
            reference.sources.join(" ")
        ));
        let fields: Vec<String> = common
            .columns
            .iter()
            .chain(&reference.columns)
            .map(|column| format!("    \"{}\" {}", column.name, column.lab_type()))
            .collect();
        out.push_str(&fields.join(",\n"));
        out.push_str("\n);\n");
        let mut select: Vec<String> = common
            .columns
            .iter()
            .map(|column| {
                format!(
                    "        CAST({} AS {})",
                    header_value(&column.name),
                    column.lab_type()
                )
            })
            .collect();
        select.extend(reference.columns.iter().map(|column| {
            format!(
                "        CAST({} AS {})",
                detail_value(column),
                column.lab_type()
            )
        }));
        out.push_str(&format!(
            r#"CREATE FUNCTION systools.{lower}(
    starting_receiver_library varchar   DEFAULT NULL,
    starting_receiver_name    varchar   DEFAULT '*CURAVLCHN',
    ending_receiver_library   varchar   DEFAULT NULL,
    ending_receiver_name      varchar   DEFAULT '*CURRENT',
    starting_timestamp        timestamp DEFAULT NULL,
    ending_timestamp          timestamp DEFAULT NULL,
    user_name                 varchar   DEFAULT NULL,
    job                       varchar   DEFAULT NULL,
    program                   varchar   DEFAULT NULL,
    starting_sequence         numeric   DEFAULT NULL,
    ending_sequence           numeric   DEFAULT NULL)
RETURNS SETOF lab.{lower}_row
LANGUAGE plpgsql STABLE AS $$
DECLARE
    b        record;
    returned bigint;
BEGIN
    SELECT * INTO b FROM lab.journal_bounds(starting_receiver_library, starting_receiver_name,
        ending_receiver_library, ending_receiver_name, starting_timestamp, starting_sequence,
        ending_sequence);
    -- As DISPLAY_JOURNAL under the real function, every entry of the range is
    -- read, whatever its type: the JS entries too.
    PERFORM count(*) FROM lab.entries AS j
    WHERE (j.receiver_ordinal, j."SEQUENCE_NUMBER") >= (b.start_ordinal, b.start_sequence)
      AND (j.receiver_ordinal, j."SEQUENCE_NUMBER") <= (b.end_ordinal, b.end_sequence);
    RETURN QUERY
    SELECT
{select}
    FROM lab.typed_entries AS e
    WHERE e.audit_type = '{code}'
      AND (e.receiver_ordinal, e."SEQUENCE_NUMBER") >= (b.start_ordinal, b.start_sequence)
      AND (e.receiver_ordinal, e."SEQUENCE_NUMBER") <= (b.end_ordinal, b.end_sequence)
      AND (starting_timestamp IS NULL OR e."ENTRY_TIMESTAMP" >= starting_timestamp)
      AND (ending_timestamp IS NULL OR e."ENTRY_TIMESTAMP" <= ending_timestamp)
      AND (user_name IS NULL OR e."USER_NAME" = upper(btrim(user_name)))
      AND (job IS NULL OR e."QUALIFIED_JOB_NAME" = upper(btrim(job)))
      AND (program IS NULL OR e."PROGRAM_NAME" = upper(btrim(program)))
    ORDER BY e.receiver_ordinal, e."SEQUENCE_NUMBER";
    -- The per-row cost of a materializing function, as AUDIT_JOURNAL_JS has
    -- (lab.set_cost_per_row; none unless set).
    GET DIAGNOSTICS returned = ROW_COUNT;
    PERFORM lab.spend_row_cost(returned);
END
$$;
"#,
            code = reference.entry_type,
            select = select.join(",\n"),
        ));
    }
    out
}

#[test]
fn the_lab_functions_are_generated_from_the_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/lab/types.sql");
    let committed = std::fs::read_to_string(&path).unwrap();
    let head = committed
        .split_once(MARKER)
        .map(|(head, _)| head)
        .unwrap_or_else(|| panic!("{} lacks its marker line", path.display()));
    let generated = format!("{head}{MARKER}{}", generated_functions(&references()));
    if std::env::var_os("AUDITFWD_UPDATE_LAB").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    assert!(
        committed == generated,
        "{} differs from tests/fixtures/ibmi; rewrite it with AUDITFWD_UPDATE_LAB=1 cargo test reference",
        path.display()
    );
}
