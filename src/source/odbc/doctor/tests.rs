use super::*;
use crate::event::audit::catalog;

#[test]
fn audit_levels_by_type() {
    let types: Vec<&'static TypeSpec> =
        vec![&catalog::JS, &catalog::PW, &catalog::CA, &catalog::PS];
    let checks = audit_level_checks(&types, Some("*AUTFAIL *JOBBAS *SECURITY"), None);
    let status: Vec<(&str, Status)> = checks
        .iter()
        .map(|check| (check.name.as_str(), check.status))
        .collect();
    assert_eq!(
        status,
        vec![
            ("audit_level.JS", Status::Failed),
            ("audit_level.PW", Status::Passed),
            ("audit_level.CA", Status::Passed),
            ("audit_level.PS", Status::Passed),
        ]
    );
    assert!(
        checks[0].detail.contains("*JOBCHGUSR"),
        "{}",
        checks[0].detail
    );
    assert!(checks[0].remedy.as_deref().unwrap().contains("CHGSECAUD"));
    // QAUDLVL2 counts only when QAUDLVL says *AUDLVL2.
    let js = [&catalog::JS as &'static TypeSpec];
    assert_eq!(
        audit_level_checks(&js, Some("*AUDLVL2"), Some("*JOBDTA"))[0].status,
        Status::Passed
    );
    assert_eq!(
        audit_level_checks(&js, Some("*AUTFAIL"), Some("*JOBDTA"))[0].status,
        Status::Failed
    );
    assert_eq!(
        audit_level_checks(&js, None, None)[0].status,
        Status::Unknown
    );
    assert_eq!(
        audit_control_check(Some("*AUDLVL *OBJAUD")).status,
        Status::Passed
    );
    assert_eq!(audit_control_check(Some("*NONE")).status, Status::Failed);
}

#[test]
fn utc_offsets_and_the_time_zone() {
    assert_eq!(parse_utc_offset("+0100"), Some(3600));
    assert_eq!(parse_utc_offset("-0530"), Some(-(5 * 3600 + 30 * 60)));
    assert_eq!(parse_utc_offset("0000"), Some(0));
    assert_eq!(parse_utc_offset("+1"), None);
    assert_eq!(
        timezone_check("UTC", Some("+0000"), None).status,
        Status::Passed
    );
    assert_eq!(
        timezone_check("UTC", Some("+0100"), None).status,
        Status::Failed
    );
    assert_eq!(
        timezone_check("Asia/Kolkata", Some("+0530"), None).status,
        Status::Passed
    );
    assert_eq!(timezone_check("UTC", None, None).status, Status::Unknown);
    assert_eq!(
        timezone_check("server", Some("+0200"), None).status,
        Status::Failed
    );
}

#[test]
fn missing_functions_and_columns() {
    let mut catalog_rows: HashMap<String, Vec<String>> = HashMap::new();
    let mut ow: Vec<String> = sql::COMMON_REQUIRED_COLUMNS
        .iter()
        .map(|name| name.to_string())
        .collect();
    ow.extend(
        sql::COMMON_OPTIONAL_COLUMNS
            .iter()
            .map(|name| name.to_string()),
    );
    ow.extend(
        catalog::OW
            .columns
            .iter()
            .map(|column| column.name.to_string()),
    );
    catalog_rows.insert("AUDIT_JOURNAL_OW".into(), ow.clone());
    let healthy = function_checks(&catalog::OW, false, Some(&catalog_rows));
    assert!(
        healthy.iter().all(|check| check.status == Status::Passed),
        "{healthy:?}"
    );
    ow.retain(|name| name != "NEW_OWNER");
    catalog_rows.insert("AUDIT_JOURNAL_OW".into(), ow);
    let lacking = function_checks(&catalog::OW, false, Some(&catalog_rows));
    assert_eq!(lacking[1].status, Status::Failed);
    assert!(
        lacking[1].detail.contains("NEW_OWNER"),
        "{}",
        lacking[1].detail
    );
    let missing = function_checks(&catalog::PW, false, Some(&catalog_rows));
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].status, Status::Failed);
    assert!(missing[0].required);
    assert!(!function_checks(&catalog::PW, true, Some(&catalog_rows))[0].required);
}

#[test]
fn a_value_from_the_system_cannot_add_a_line_to_the_report() {
    let report = Report::new(
        "host",
        vec![Check::new(
            "receivers_readable",
            Status::Failed,
            true,
            "receiver QGPL/R1\n✔ forged: line",
        )
        .remedy("restore\rit")],
    );
    let text = report.text();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(
        text.contains("R1 ✔ forged") && text.contains("restore it"),
        "{text}"
    );
}
