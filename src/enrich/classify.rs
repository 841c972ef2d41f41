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
