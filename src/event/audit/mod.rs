//! Audit entry types beyond JS: what each one is, how its entry-specific
//! columns are typed, and what each of its codes means to a SOC.
//!
//! The catalog ([`catalog`]) is data. This module turns a row's columns into a
//! typed [`Details`] block and decides the event's action and severity
//! ([`detect`]): detections are fields on the event, not a rules engine.

pub mod catalog;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::event::Severity;

/// How a column's text is typed in the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text, CHAR padding trimmed; empty is null.
    Text,
    /// A whole number (DECIMAL or INTEGER as the driver prints it).
    Integer,
    /// `Y`/`N` (also `YES`/`NO`, `*YES`/`*NO`, `1`/`0`) as a boolean.
    Flag,
}

/// An entry-specific column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// IBM's column name, upper case.
    pub name: &'static str,
    /// How the column's text becomes a value.
    pub kind: Kind,
}

/// What one code of a type means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeSpec {
    /// The code as the code column holds it, e.g. `P` (PW: wrong password).
    pub code: &'static str,
    /// Readable label for the code.
    pub label: &'static str,
    /// The event's `event_action` unless a detection says more.
    pub action: &'static str,
    /// How alarming an entry with this code is, before detections and privilege raise it.
    pub severity: Severity,
}

/// One audit entry type and its SYSTOOLS function.
#[derive(Debug, PartialEq, Eq)]
pub struct TypeSpec {
    /// Two-letter journal entry type, e.g. `PW`.
    pub code: &'static str,
    /// What the type records, in words (`Password`, `User profile change`).
    pub name: &'static str,
    /// The SYSTOOLS table function, without the schema.
    pub function: &'static str,
    /// The QAUDLVL (or QAUDLVL2) value that makes the system write it.
    pub qaudlvl: &'static str,
    /// The Db2 for i PTF group level that brings the function.
    pub since: &'static str,
    /// The column whose value is the entry's code; `None` when the function
    /// has none (OW), and the type's one code applies to every entry.
    pub code_column: Option<&'static str>,
    /// Entry-specific columns, after the common header ones.
    pub columns: &'static [Column],
    /// The codes the catalog knows; a code not listed still makes an event.
    pub codes: &'static [CodeSpec],
}

impl TypeSpec {
    /// The type named `code` (case-insensitive).
    pub fn find(code: &str) -> Option<&'static TypeSpec> {
        catalog::ALL
            .iter()
            .copied()
            .find(|spec| spec.code.eq_ignore_ascii_case(code.trim()))
    }

    /// Whether this is the job-change type (JS), whose columns are the event's own fields.
    pub fn is_js(&self) -> bool {
        self.code == "JS"
    }

    /// The meaning of `code`, if the catalog knows it.
    pub fn code_spec(&self, code: &str) -> Option<&'static CodeSpec> {
        self.codes.iter().find(|spec| spec.code == code)
    }

    /// Lower-case key of the type's block in the v2 event, e.g. `pw`.
    pub fn key(&self) -> &'static str {
        match self.code {
            "JS" => "js",
            "PW" => "pw",
            "CP" => "cp",
            "AF" => "af",
            "SV" => "sv",
            "PS" => "ps",
            "GR" => "gr",
            "CA" => "ca",
            "OW" => "ow",
            "AD" => "ad",
            "PA" => "pa",
            other => unreachable!("type {other} is missing from TypeSpec::key"),
        }
    }

    /// The column naming the profile the entry is about, when not the job's user.
    pub fn target_user_column(&self) -> Option<&'static str> {
        match self.code {
            "PW" => Some("AUDIT_USER_NAME"),
            "CP" => Some("USER_PROFILE"),
            "AF" | "PS" | "CA" | "GR" => Some("USER_PROFILE_NAME"),
            "OW" => Some("NEW_OWNER"),
            // CHGUSRAUD names the changed profile as the object (type *USRPRF).
            "AD" => Some("OBJECT_NAME"),
            _ => None,
        }
    }
}

/// A typed value of an entry-specific column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The column was NULL, or empty text.
    Null,
    /// A text value, CHAR padding trimmed.
    Text(crate::event::Text),
    /// A whole number.
    Integer(i64),
    /// A `Y`/`N` style flag.
    Flag(bool),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_none(),
            Value::Text(text) => serializer.serialize_str(text),
            Value::Integer(number) => serializer.serialize_i64(*number),
            Value::Flag(flag) => serializer.serialize_bool(*flag),
        }
    }
}

/// The entry-specific values of one row, in the order of its type's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details {
    /// The type the row is of.
    pub spec: &'static TypeSpec,
    /// One value per column of `spec.columns`, in the same order.
    pub values: Vec<Value>,
}

impl Details {
    /// The value of `column`, if this type has it.
    pub fn value(&self, column: &str) -> Option<&Value> {
        self.spec
            .columns
            .iter()
            .position(|spec| spec.name == column)
            .map(|index| &self.values[index])
    }

    /// The text of `column`; `None` for null, absent or not text.
    pub fn text(&self, column: &str) -> Option<&str> {
        match self.value(column) {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The flag in `column`; `None` for null, absent or not a flag.
    pub fn flag(&self, column: &str) -> Option<bool> {
        match self.value(column) {
            Some(Value::Flag(flag)) => Some(*flag),
            _ => None,
        }
    }

    /// The entry's code (PW violation type, CP command type, ...), upper case.
    pub fn code(&self) -> Option<&str> {
        match self.spec.code_column {
            Some(column) => self.text(column),
            None => self.spec.codes.first().map(|code| code.code),
        }
    }

    /// The profile the entry is about (the failed user of a PW, the changed
    /// profile of a CP, ...).
    pub fn target_user(&self) -> Option<&str> {
        if self.spec.code == "AD"
            && !(self.code() == Some("U")
                || self
                    .text("OBJECT_TYPE")
                    .is_some_and(|kind| kind.eq_ignore_ascii_case("*USRPRF")))
        {
            return None;
        }
        self.spec
            .target_user_column()
            .and_then(|column| self.text(column))
    }
}

/// The typed block of a v2 event: lower-case column names, then the code's label.
impl Serialize for Details {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (column, value) in self.spec.columns.iter().zip(&self.values) {
            map.serialize_entry(&LowerCase(column.name), value)?;
        }
        map.end()
    }
}

/// Serialises an ASCII upper-case column name in lower case without allocating.
struct LowerCase(&'static str);

impl Serialize for LowerCase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buffer = [0u8; 64];
        let bytes = self.0.as_bytes();
        if bytes.len() <= buffer.len() {
            for (target, byte) in buffer.iter_mut().zip(bytes) {
                *target = byte.to_ascii_lowercase();
            }
            let text = std::str::from_utf8(&buffer[..bytes.len()]).expect("ASCII stays UTF-8");
            serializer.serialize_str(text)
        } else {
            serializer.serialize_str(&self.0.to_ascii_lowercase())
        }
    }
}

/// What an entry means: its label, action and severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The event's `code_label`.
    pub label: &'static str,
    /// The event's `event_action`.
    pub action: &'static str,
    /// The event's severity (raised to high when a privileged profile is involved).
    pub severity: Severity,
}

/// System values whose change weakens or blinds auditing.
const AUDIT_SYSTEM_VALUES: &[&str] =
    &["QAUDCTL", "QAUDLVL", "QAUDLVL2", "QAUDFRCLVL", "QAUDENDACN"];
/// System values whose change weakens sign-on or password security.
const SECURITY_SYSTEM_VALUES: &[&str] = &[
    "QSECURITY",
    "QPWDLVL",
    "QMAXSIGN",
    "QMAXSGNACN",
    "QPWDEXPITV",
    "QPWDMINLEN",
    "QPWDRULES",
    "QLMTSECOFR",
    "QALWOBJRST",
    "QVFYOBJRST",
    "QFRCCVNRST",
    "QRETSVRSEC",
    "QINACTITV",
    "QDSPSGNINF",
    "QCRTAUT",
    "QUSEADPAUT",
    "QALWUSRDMN",
    "QSSLPCL",
];
/// Special authorities whose grant is an escalation.
const ESCALATING_AUTHORITIES: &[&str] = &["ALLOBJ", "SECADM", "AUDIT", "SERVICE"];

/// Label, action and severity of a non-JS entry. `privileged` says whether a
/// profile is privileged (configured or from the system).
pub fn detect(details: &Details, privileged: impl Fn(&str) -> bool) -> Detection {
    let spec = details.spec;
    let code = details.code().unwrap_or("");
    let base = spec.code_spec(code);
    let mut detection = Detection {
        label: base.map_or("Code not in auditfwd's catalog", |base| base.label),
        action: base.map_or("audit_entry", |base| base.action),
        severity: base.map_or(Severity::Low, |base| base.severity),
    };
    let raise = |detection: &mut Detection, action: &'static str, severity: Severity| {
        detection.action = action;
        detection.severity = detection.severity.max(severity);
    };
    match spec.code {
        "CP" => {
            let granted = ESCALATING_AUTHORITIES.iter().any(|authority| {
                details.flag(authority) == Some(true)
                    && details.flag(&format!("PREVIOUS_{authority}")) != Some(true)
                    && (code == "CRT" || details.flag(&format!("PREVIOUS_{authority}")).is_some())
            });
            if granted {
                raise(&mut detection, "privilege_granted", Severity::Critical);
            } else if matches!(code, "CHG" | "SQL")
                && details.flag("PASSWORD_CHANGED") == Some(true)
            {
                raise(&mut detection, "password_changed", Severity::Low);
            }
            if details
                .text("STATUS")
                .is_some_and(|status| status.eq_ignore_ascii_case("*DISABLED"))
                && code != "CRT"
                && detection.action == "user_changed"
            {
                raise(&mut detection, "user_disabled", Severity::Low);
            }
        }
        "SV" => {
            let value = details.text("SYSTEM_VALUE").unwrap_or("");
            if AUDIT_SYSTEM_VALUES
                .iter()
                .any(|name| name.eq_ignore_ascii_case(value))
            {
                raise(&mut detection, "audit_policy_changed", Severity::High);
            } else if SECURITY_SYSTEM_VALUES
                .iter()
                .any(|name| name.eq_ignore_ascii_case(value))
            {
                raise(&mut detection, "security_setting_changed", Severity::Medium);
            }
        }
        "AD" => {
            let now = details.text("OBJECT_AUDIT").unwrap_or("");
            let before = details.text("PREV_OBJECT_AUDIT").unwrap_or("");
            if now.eq_ignore_ascii_case("*NONE")
                && !before.is_empty()
                && !before.eq_ignore_ascii_case("*NONE")
            {
                raise(&mut detection, "auditing_disabled", Severity::High);
            }
        }
        "PA" if details.text("OBJECT_OWNER").is_some_and(&privileged) => {
            detection.severity = detection.severity.max(Severity::High);
        }
        "OW" if details.text("NEW_OWNER").is_some_and(&privileged) => {
            detection.severity = detection.severity.max(Severity::Medium);
        }
        _ => {}
    }
    if details.target_user().is_some_and(&privileged) {
        detection.severity = detection.severity.max(Severity::High);
    }
    detection
}

/// Parses `source.audit_types`-style names into specs, JS first when listed.
pub fn resolve(names: &[String]) -> Result<Vec<&'static TypeSpec>, String> {
    let mut specs: Vec<&'static TypeSpec> = Vec::new();
    for name in names {
        let spec = TypeSpec::find(name).ok_or_else(|| {
            format!(
                "{name:?} is not an audit entry type auditfwd reads; use some of {}",
                catalog::ALL
                    .iter()
                    .map(|spec| spec.code)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if !specs.contains(&spec) {
            specs.push(spec);
        }
    }
    specs.sort_by_key(|spec| catalog::ALL.iter().position(|known| known == spec));
    Ok(specs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A details block of `spec` with `code` in its code column and `extra` values.
    pub(crate) fn details(spec: &'static TypeSpec, code: &str, extra: &[(&str, Value)]) -> Details {
        let values = spec
            .columns
            .iter()
            .map(|column| {
                if let Some((_, value)) = extra.iter().find(|(name, _)| *name == column.name) {
                    value.clone()
                } else if Some(column.name) == spec.code_column {
                    Value::Text(code.into())
                } else {
                    Value::Null
                }
            })
            .collect();
        Details { spec, values }
    }

    fn nobody(_: &str) -> bool {
        false
    }

    #[test]
    fn the_catalog_is_consistent() {
        let mut keys = std::collections::HashSet::new();
        for spec in catalog::ALL {
            assert!(keys.insert(spec.key()), "{} key twice", spec.code);
            assert_eq!(TypeSpec::find(&spec.code.to_lowercase()), Some(*spec));
            assert!(
                spec.function.starts_with("AUDIT_JOURNAL_"),
                "{}",
                spec.function
            );
            assert!(spec.function.ends_with(spec.code));
            if !spec.is_js() {
                assert!(
                    spec.code_column.is_none_or(|code_column| spec
                        .columns
                        .iter()
                        .any(|column| column.name == code_column)),
                    "{}: the code column {:?} is not among its columns",
                    spec.code,
                    spec.code_column
                );
                assert!(
                    spec.code_column.is_some() || spec.codes.len() == 1,
                    "{}: without a code column, a type has exactly one code",
                    spec.code
                );
                assert!(!spec.codes.is_empty(), "{} has no codes", spec.code);
                if let Some(target) = spec.target_user_column() {
                    assert!(
                        spec.columns.iter().any(|column| column.name == target),
                        "{}",
                        spec.code
                    );
                }
            }
            let mut names = std::collections::HashSet::new();
            for column in spec.columns {
                assert!(
                    names.insert(column.name),
                    "{}: {} twice",
                    spec.code,
                    column.name
                );
                assert!(column
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
            }
            let mut codes = std::collections::HashSet::new();
            for code in spec.codes {
                assert!(
                    codes.insert(code.code),
                    "{}: code {} twice",
                    spec.code,
                    code.code
                );
                assert!(!code.label.is_empty());
                assert!(
                    code.action
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{}",
                    code.action
                );
            }
        }
    }

    /// Every code of every type, with no detection to add: the catalog's label,
    /// action and severity, exactly.
    #[test]
    fn every_code_has_its_catalog_label_action_and_severity() {
        let mut checked = 0;
        for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
            for code in spec.codes {
                let detection = detect(&details(spec, code.code, &[]), nobody);
                assert_eq!(
                    detection,
                    Detection {
                        label: code.label,
                        action: code.action,
                        severity: code.severity
                    },
                    "{} {}",
                    spec.code,
                    code.code
                );
                checked += 1;
            }
        }
        assert!(checked >= 77, "{checked}");
    }

    #[test]
    fn detections_by_table() {
        use crate::event::Severity::*;
        let flag = Value::Flag;
        let text = |value: &str| Value::Text(value.into());
        type Case = (
            &'static TypeSpec,
            &'static str,
            Vec<(&'static str, Value)>,
            &'static str,
            Severity,
        );
        let cases: Vec<Case> = vec![
            (&catalog::PW, "P", vec![], "signon_failed", Medium),
            (&catalog::PW, "U", vec![], "unknown_user", Medium),
            (
                &catalog::PW,
                "Q",
                vec![],
                "signon_failed_disabled_profile",
                Medium,
            ),
            (
                &catalog::PW,
                "P",
                vec![("AUDIT_USER_NAME", text("QSECOFR"))],
                "signon_failed",
                High,
            ),
            (&catalog::AF, "S", vec![], "default_signon_attempt", High),
            (&catalog::AF, "A", vec![], "access_denied", Low),
            (&catalog::CP, "DST", vec![], "password_reset_dst", Critical),
            (
                &catalog::CP,
                "CHG",
                vec![("ALLOBJ", flag(true)), ("PREVIOUS_ALLOBJ", flag(false))],
                "privilege_granted",
                Critical,
            ),
            (
                &catalog::CP,
                "CHG",
                vec![("SECADM", flag(true)), ("PREVIOUS_SECADM", flag(false))],
                "privilege_granted",
                Critical,
            ),
            (
                &catalog::CP,
                "CHG",
                vec![("ALLOBJ", flag(true)), ("PREVIOUS_ALLOBJ", flag(true))],
                "user_changed",
                Low,
            ),
            (
                &catalog::CP,
                "CRT",
                vec![("ALLOBJ", flag(true))],
                "privilege_granted",
                Critical,
            ),
            (
                &catalog::CP,
                "CRT",
                vec![("ALLOBJ", flag(false))],
                "user_created",
                Medium,
            ),
            (
                &catalog::CP,
                "CHG",
                vec![("PASSWORD_CHANGED", flag(true))],
                "password_changed",
                Low,
            ),
            (
                &catalog::CP,
                "CHG",
                vec![("STATUS", text("*DISABLED"))],
                "user_disabled",
                Low,
            ),
            (
                &catalog::SV,
                "A",
                vec![("SYSTEM_VALUE", text("QAUDLVL"))],
                "audit_policy_changed",
                High,
            ),
            (
                &catalog::SV,
                "A",
                vec![("SYSTEM_VALUE", text("QAUDCTL"))],
                "audit_policy_changed",
                High,
            ),
            (
                &catalog::SV,
                "A",
                vec![("SYSTEM_VALUE", text("QMAXSIGN"))],
                "security_setting_changed",
                Medium,
            ),
            (
                &catalog::SV,
                "A",
                vec![("SYSTEM_VALUE", text("QDATFMT"))],
                "system_value_changed",
                Low,
            ),
            (&catalog::SV, "C", vec![], "clock_changed", Medium),
            (&catalog::GR, "D", vec![], "exit_program_removed", High),
            (&catalog::GR, "A", vec![], "exit_program_added", Medium),
            (
                &catalog::AD,
                "U",
                vec![
                    ("OBJECT_AUDIT", text("*NONE")),
                    ("PREV_OBJECT_AUDIT", text("*ALL")),
                ],
                "auditing_disabled",
                High,
            ),
            (
                &catalog::AD,
                "O",
                vec![
                    ("OBJECT_AUDIT", text("*ALL")),
                    ("PREV_OBJECT_AUDIT", text("*NONE")),
                ],
                "object_auditing_changed",
                Medium,
            ),
            (
                &catalog::PA,
                "A",
                vec![("OBJECT_OWNER", text("QSECOFR"))],
                "program_adopt_changed",
                High,
            ),
            (
                &catalog::OW,
                "A",
                vec![("NEW_OWNER", text("QSECOFR"))],
                "owner_changed",
                High,
            ),
            (&catalog::PW, "9", vec![], "audit_entry", Low),
        ];
        let privileged = |name: &str| name == "QSECOFR";
        for (spec, code, extra, action, severity) in cases {
            let detection = detect(&details(spec, code, &extra), privileged);
            assert_eq!(
                (detection.action, detection.severity),
                (action, severity),
                "{} {code} {extra:?}",
                spec.code
            );
        }
    }

    #[test]
    fn resolve_keeps_catalog_order_and_names_unknown_types() {
        let names: Vec<String> = ["pw", "JS", "CP", "PW"].map(String::from).to_vec();
        let specs = resolve(&names).unwrap();
        assert_eq!(
            specs.iter().map(|spec| spec.code).collect::<Vec<_>>(),
            ["JS", "PW", "CP"]
        );
        let error = resolve(&["ZZ".into()]).unwrap_err();
        assert!(error.contains("\"ZZ\"") && error.contains("PW"), "{error}");
    }

    #[test]
    fn details_serialise_with_lower_case_names_and_typed_values() {
        let block = details(
            &catalog::PW,
            "P",
            &[
                ("AUDIT_USER_NAME", Value::Text("JSMITH".into())),
                ("DECRYPT_OBJECT_ASP_NUMBER", Value::Integer(1)),
            ],
        );
        let json = serde_json::to_value(&block).unwrap();
        assert_eq!(json["violation_type"], "P");
        assert_eq!(json["audit_user_name"], "JSMITH");
        assert_eq!(json["decrypt_object_asp_number"], 1);
        assert!(json["device_name"].is_null());
        assert_eq!(json.as_object().unwrap().len(), catalog::PW.columns.len());
    }
}
