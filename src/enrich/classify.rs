//! Classification of JS entries: IBM's two CASE expressions reproduced exactly,
//! plus the structured fields IBM's query lacks. Pure, infallible, table-driven.
//!
//! Db2 semantics that matter here:
//! - `=` ignores trailing blanks (the shorter operand is padded with blanks);
//! - `LIKE 'X%'` is a case-sensitive prefix match;
//! - a NULL operand makes a test unknown, so the CASE falls through to the next one.

/// IBM's label when JOB_TYPE = 'INT' (tested before any job name).
pub const LABEL_INTERACTIVE: &str = "5250 / Telnet (Non-Secure unless SSL/Telnet configured)";
/// IBM's label when no test matches (including a NULL job name).
pub const LABEL_OTHER: &str = "Other Host Server (Security Unknown)";

/// IBM's CONNECTION_TYPE job-name tests, in IBM's order: first match wins.
pub const IBM_JOB_NAME_RULES: &[(&str, &str)] = &[
    ("QZDASOINIT", "ODBC / JDBC (Non-Secure)"),
    ("QZDASSINIT", "ODBC / JDBC (Secure SSL/TLS)"),
    ("QTFTP", "FTP (Non-Secure)"),
    ("QSSHD", "SFTP (Secure SSH)"),
    ("QRWTSRVR", "Remote SQL (Secure depends on configuration)"),
    (
        "QZRCSRVS",
        "Remote Command (Secure depends on configuration)",
    ),
    ("QP0ZSPWP", "SSH / Spawned Process (Secure)"),
    ("QHTTPSVR", "Web (HTTP or HTTPS - verify server config)"),
    (
        "QZLSFILE",
        "Mapped Drive (Secure depends on NetServer config)",
    ),
    ("QPWFSERVSO", "File Server Job (Secure depends on config)"),
];

/// IBM's JOB_EVENT_TYPE: `S` Start, `E` End, `M` profile change, anything else
/// (NULL included) `Other`.
pub fn job_event_type(entry_type: Option<&str>) -> &'static str {
    match entry_type {
        Some(code) if db2_equals(code, "S") => "Start",
        Some(code) if db2_equals(code, "E") => "End",
        Some(code) if db2_equals(code, "M") => "Change profile or group profile",
        _ => "Other",
    }
}

/// IBM's CONNECTION_TYPE, character for character.
pub fn connection_type(job_type: Option<&str>, job_name: Option<&str>) -> &'static str {
    if job_type.is_some_and(|value| db2_equals(value, "INT")) {
        return LABEL_INTERACTIVE;
    }
    let Some(job_name) = job_name else {
        return LABEL_OTHER;
    };
    IBM_JOB_NAME_RULES
        .iter()
        .find(|(prefix, _)| job_name.starts_with(prefix))
        .map_or(LABEL_OTHER, |(_, label)| label)
}

/// Machine-readable `event_action` for each of the 18 JS entry codes.
pub const EVENT_ACTIONS: &[(&str, &str, &str)] = &[
    ("A", "job_end_abnormal", "Job ended abnormally"),
    ("B", "job_submitted", "Job submitted"),
    ("C", "job_changed", "Job changed"),
    ("E", "job_end", "Job ended"),
    ("H", "job_held", "Job held"),
    ("I", "job_disconnected", "Job disconnected"),
    ("J", "job_interrupting", "Job is interrupting another job"),
    ("K", "job_interrupted", "Job is about to be interrupted"),
    ("L", "job_interruption_ended", "Interruption completed"),
    ("M", "profile_swap", "User or group profile changed"),
    ("N", "job_ended_by_endjob", "Job ended by ENDJOB"),
    (
        "P",
        "prestart_attach",
        "Prestart or batch-immediate job attached",
    ),
    ("Q", "query_attributes_changed", "Query attributes changed"),
    ("R", "job_released", "Job released"),
    ("S", "job_start", "Job started"),
    (
        "T",
        "profile_token_swap",
        "Profile changed through a profile token",
    ),
    ("U", "user_trace_changed", "User trace changed"),
    (
        "V",
        "virtual_device_changed",
        "Virtual device changed by QWSACCDS",
    ),
];

/// `event_action` of an entry code; `unknown` for a code IBM has not documented.
pub fn event_action(entry_type: Option<&str>) -> &'static str {
    entry_type
        .and_then(|code| {
            EVENT_ACTIONS
                .iter()
                .find(|(known, _, _)| db2_equals(code, known))
        })
        .map_or("unknown", |(_, action, _)| action)
}

/// IBM's description of an entry code, for rows whose ENTRY_TYPE_DETAIL is NULL.
pub fn entry_type_description(entry_type: Option<&str>) -> Option<&'static str> {
    entry_type.and_then(|code| {
        EVENT_ACTIONS
            .iter()
            .find(|(known, _, _)| db2_equals(code, known))
            .map(|(_, _, description)| *description)
    })
}

/// The refined access method, and whether the channel is known to be encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method {
    /// The method's name, the event's `connection_method` (`database_server`, `ssh`, ...).
    pub name: &'static str,
    /// `Some(true)` encrypted, `Some(false)` clear text, `None` unknown.
    pub secure: Option<bool>,
}

const fn method(name: &'static str, secure: Option<bool>) -> Method {
    Method { name, secure }
}

/// Job-name prefixes of IBM i servers, most specific first.
///
/// FTP, remote command, DDM, NetServer and the 5250 session use the same job
/// names with and without TLS, so their `secure` is unknown.
pub const METHOD_JOB_NAME_RULES: &[(&str, Method)] = &[
    ("QZDASOINIT", method("database_server", Some(false))),
    ("QZDASSINIT", method("database_server", Some(true))),
    ("QPWFSERVSS", method("file_server", Some(true))),
    ("QPWFSERVSO", method("file_server", Some(false))),
    ("QPWFSERVS2", method("file_server", None)),
    ("QZSOSIGN", method("signon_server", None)),
    ("QZRCSRVS", method("remote_command", None)),
    ("QZSCSRVS", method("central_server", None)),
    ("QZHQSSRV", method("data_queue_server", None)),
    ("QNPSERVS", method("network_print_server", None)),
    ("QRWTSRVR", method("ddm_drda", None)),
    ("QRWTLSTN", method("ddm_drda", None)),
    ("QTFTP", method("ftp", None)),
    ("QSSHD", method("ssh", Some(true))),
    ("QP0ZSPWP", method("ssh_or_spawned_process", Some(true))),
    ("QZLSFILE", method("netserver", None)),
    ("QZLSSERVER", method("netserver", None)),
    ("QHTTPSVR", method("web", None)),
    ("QZSOSMAPD", method("port_mapper", None)),
];

/// Job types that are the system's own work rather than a connection.
const SYSTEM_JOB_TYPES: &[&str] = &["SYS", "SBS", "ASJ", "RDR", "WTR", "PDJ"];

/// The refined access method: IBM's precedence (interactive first, then job
/// names), with more servers known, and batch and system work told apart from
/// unknown servers.
pub fn connection_method(
    job_type: Option<&str>,
    job_name: Option<&str>,
    program_name: Option<&str>,
) -> Method {
    if job_type.is_some_and(|value| db2_equals(value, "INT")) {
        return method("telnet_5250", None);
    }
    if let Some(job_name) = job_name {
        if let Some((_, found)) = METHOD_JOB_NAME_RULES
            .iter()
            .find(|(prefix, _)| job_name.starts_with(prefix))
        {
            return *found;
        }
    }
    // HTTP server instances are named after the instance; their program is not.
    if program_name.is_some_and(|program| db2_equals(program, "QZHBHTTP")) {
        return method("web", None);
    }
    match job_type.map(|value| value.trim_end_matches(' ')) {
        Some("BCH" | "BCI" | "EVK" | "MRT") => method("batch", None),
        Some(kind) if SYSTEM_JOB_TYPES.contains(&kind) => method("system", None),
        Some("PJ") => method("other_host_server", None),
        _ => method("unknown", None),
    }
}

/// Db2's `=` on character strings: trailing blanks do not count.
pub fn db2_equals(value: &str, literal: &str) -> bool {
    value.trim_end_matches(' ') == literal.trim_end_matches(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_event_type_follows_ibm_case() {
        let cases: &[(Option<&str>, &str)] = &[
            (Some("S"), "Start"),
            (Some("S "), "Start"),
            (Some("E"), "End"),
            (Some("M"), "Change profile or group profile"),
            (Some("M  "), "Change profile or group profile"),
            (Some("B"), "Other"),
            (Some("P"), "Other"),
            (Some("T"), "Other"),
            (Some("A"), "Other"),
            (Some("s"), "Other"),
            (Some(" S"), "Other"),
            (Some(""), "Other"),
            (None, "Other"),
        ];
        for (entry_type, expected) in cases {
            assert_eq!(
                job_event_type(*entry_type),
                *expected,
                "ENTRY_TYPE {entry_type:?}"
            );
        }
    }

    #[test]
    fn connection_type_follows_ibm_case_in_order() {
        let interactive = LABEL_INTERACTIVE;
        let other = LABEL_OTHER;
        let cases: &[(Option<&str>, Option<&str>, &str)] = &[
            // JOB_TYPE = 'INT' wins over any job name, padded or not.
            (Some("INT"), Some("QPADEV0001"), interactive),
            (Some("INT"), Some("QZDASOINIT"), interactive),
            (Some("INT"), Some("QSSHD"), interactive),
            (Some("INT  "), Some("QPADEV0001"), interactive),
            (Some("INT"), None, interactive),
            // Not 'INT': case, leading blank and prefix do not count.
            (Some("int"), Some("QPADEV0001"), other),
            (Some(" INT"), Some("QPADEV0001"), other),
            (Some("IN"), Some("QPADEV0001"), other),
            (Some("INTX"), Some("QPADEV0001"), other),
            // A NULL job type falls through to the job-name tests.
            (None, Some("QZDASOINIT"), "ODBC / JDBC (Non-Secure)"),
            (None, None, other),
            // Every job-name rule, with the suffixes real jobs carry.
            (Some("PJ"), Some("QZDASOINIT"), "ODBC / JDBC (Non-Secure)"),
            (
                Some("PJ"),
                Some("QZDASSINIT"),
                "ODBC / JDBC (Secure SSL/TLS)",
            ),
            (Some("PJ"), Some("QTFTP01234"), "FTP (Non-Secure)"),
            (Some("BCI"), Some("QSSHD"), "SFTP (Secure SSH)"),
            (
                Some("PJ"),
                Some("QRWTSRVR"),
                "Remote SQL (Secure depends on configuration)",
            ),
            (
                Some("PJ"),
                Some("QZRCSRVS"),
                "Remote Command (Secure depends on configuration)",
            ),
            (
                Some("BCI"),
                Some("QP0ZSPWP"),
                "SSH / Spawned Process (Secure)",
            ),
            (
                Some("BCH"),
                Some("QHTTPSVR01"),
                "Web (HTTP or HTTPS - verify server config)",
            ),
            (
                Some("PJ"),
                Some("QZLSFILE"),
                "Mapped Drive (Secure depends on NetServer config)",
            ),
            (
                Some("PJ"),
                Some("QPWFSERVSO"),
                "File Server Job (Secure depends on config)",
            ),
            // Trailing blanks after a prefix still match (LIKE 'X%').
            (Some("PJ"), Some("QZDASOINIT "), "ODBC / JDBC (Non-Secure)"),
            // LIKE is case-sensitive and anchored at the start.
            (Some("PJ"), Some("qzdasoinit"), other),
            (Some("PJ"), Some(" QZDASOINIT"), other),
            (Some("PJ"), Some("XQZDASOINIT"), other),
            // Servers IBM's query does not name are "Other Host Server".
            (Some("PJ"), Some("QPWFSERVSS"), other),
            (Some("PJ"), Some("QZSOSIGN"), other),
            (Some("PJ"), Some("QZHQSSRV"), other),
            (Some("BCH"), Some("DAYEND"), other),
            (Some("PJ"), Some(""), other),
            (Some("PJ"), None, other),
            // A shorter name is not a prefix match.
            (Some("PJ"), Some("QZDASO"), other),
        ];
        for (job_type, job_name, expected) in cases {
            assert_eq!(
                connection_type(*job_type, *job_name),
                *expected,
                "JOB_TYPE {job_type:?} JOB_NAME {job_name:?}"
            );
        }
    }

    #[test]
    fn every_ibm_label_is_reachable_and_distinct() {
        let mut labels: Vec<&str> = IBM_JOB_NAME_RULES.iter().map(|(_, label)| *label).collect();
        labels.push(LABEL_INTERACTIVE);
        labels.push(LABEL_OTHER);
        let unique: std::collections::HashSet<_> = labels.iter().collect();
        assert_eq!(unique.len(), 12);
        for (prefix, label) in IBM_JOB_NAME_RULES {
            assert_eq!(connection_type(Some("PJ"), Some(prefix)), *label);
        }
    }

    #[test]
    fn event_action_covers_all_eighteen_codes() {
        assert_eq!(EVENT_ACTIONS.len(), 18);
        let expected = [
            ("A", "job_end_abnormal"),
            ("B", "job_submitted"),
            ("C", "job_changed"),
            ("E", "job_end"),
            ("H", "job_held"),
            ("I", "job_disconnected"),
            ("J", "job_interrupting"),
            ("K", "job_interrupted"),
            ("L", "job_interruption_ended"),
            ("M", "profile_swap"),
            ("N", "job_ended_by_endjob"),
            ("P", "prestart_attach"),
            ("Q", "query_attributes_changed"),
            ("R", "job_released"),
            ("S", "job_start"),
            ("T", "profile_token_swap"),
            ("U", "user_trace_changed"),
            ("V", "virtual_device_changed"),
        ];
        for (code, action) in expected {
            assert_eq!(event_action(Some(code)), action, "code {code}");
            assert!(entry_type_description(Some(code)).is_some());
        }
        assert_eq!(event_action(Some("S ")), "job_start");
        assert_eq!(event_action(Some("Z")), "unknown");
        assert_eq!(event_action(None), "unknown");
        assert_eq!(entry_type_description(None), None);
    }

    #[test]
    fn connection_method_refines_beyond_ibm() {
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
            Option<bool>,
        );
        let cases: &[Case] = &[
            (Some("INT"), Some("QPADEV0004"), None, "telnet_5250", None),
            (Some("INT"), Some("QZDASSINIT"), None, "telnet_5250", None),
            (
                Some("PJ"),
                Some("QZDASOINIT"),
                None,
                "database_server",
                Some(false),
            ),
            (
                Some("PJ"),
                Some("QZDASSINIT"),
                None,
                "database_server",
                Some(true),
            ),
            (
                Some("PJ"),
                Some("QPWFSERVSO"),
                None,
                "file_server",
                Some(false),
            ),
            (
                Some("PJ"),
                Some("QPWFSERVSS"),
                None,
                "file_server",
                Some(true),
            ),
            (Some("PJ"), Some("QPWFSERVS2"), None, "file_server", None),
            (Some("PJ"), Some("QZSOSIGN"), None, "signon_server", None),
            (Some("PJ"), Some("QZRCSRVS"), None, "remote_command", None),
            (Some("PJ"), Some("QZSCSRVS"), None, "central_server", None),
            (
                Some("PJ"),
                Some("QZHQSSRV"),
                None,
                "data_queue_server",
                None,
            ),
            (
                Some("PJ"),
                Some("QNPSERVS"),
                None,
                "network_print_server",
                None,
            ),
            (Some("PJ"), Some("QRWTSRVR"), None, "ddm_drda", None),
            (Some("BCH"), Some("QRWTLSTN"), None, "ddm_drda", None),
            (Some("PJ"), Some("QTFTP00123"), None, "ftp", None),
            (Some("BCI"), Some("QSSHD"), None, "ssh", Some(true)),
            (
                Some("BCI"),
                Some("QP0ZSPWP"),
                None,
                "ssh_or_spawned_process",
                Some(true),
            ),
            (Some("PJ"), Some("QZLSFILE"), None, "netserver", None),
            (Some("BCH"), Some("QZLSSERVER"), None, "netserver", None),
            (Some("BCH"), Some("QHTTPSVR"), None, "web", None),
            (Some("BCI"), Some("ADMIN"), Some("QZHBHTTP"), "web", None),
            (Some("BCH"), Some("DAYEND"), Some("QCMD"), "batch", None),
            (Some("BCI"), Some("QDFTJOBD"), None, "batch", None),
            (Some("SBS"), Some("QINTER"), None, "system", None),
            (Some("SYS"), Some("QSYSARB"), None, "system", None),
            (Some("ASJ"), Some("QSYSWRK"), None, "system", None),
            (Some("PJ"), Some("QXYZSRV"), None, "other_host_server", None),
            (None, Some("qzdasoinit"), None, "unknown", None),
            (None, None, None, "unknown", None),
        ];
        for (job_type, job_name, program, name, secure) in cases {
            let found = connection_method(*job_type, *job_name, *program);
            assert_eq!(
                (found.name, found.secure),
                (*name, *secure),
                "JOB_TYPE {job_type:?} JOB_NAME {job_name:?} PROGRAM {program:?}"
            );
        }
    }
}
