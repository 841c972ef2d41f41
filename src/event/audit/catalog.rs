//! The audit entry types auditfwd reads: for each, its SYSTOOLS function, the
//! QAUDLVL value that turns it on, the PTF group that brings the function, its
//! entry-specific columns and the meaning of every code.
//!
//! Data only. Column names and codes follow IBM's documentation of the
//! `SYSTOOLS.AUDIT_JOURNAL_xx` table functions; a column a release lacks is
//! discovered at connect and reads as null, so a wrong guess here costs a
//! null, never a failed read.

use super::{CodeSpec, Column, Kind, TypeSpec};
use crate::event::Severity::{Critical, High, Info, Low, Medium};

mod objects;
pub use objects::{AD, CA, GR, OW, PA};

const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
    }
}
const fn integer(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Integer,
    }
}
const fn flag(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Flag,
    }
}
const fn code(
    code: &'static str,
    label: &'static str,
    action: &'static str,
    severity: crate::event::Severity,
) -> CodeSpec {
    CodeSpec {
        code,
        label,
        action,
        severity,
    }
}

/// JS, job change. Its columns are the common ones the v1 event already carries;
/// its labels and actions live in `enrich::classify` (IBM's CASE, verbatim).
pub const JS: TypeSpec = TypeSpec {
    code: "JS",
    name: "Job change",
    function: "AUDIT_JOURNAL_JS",
    qaudlvl: "*JOBDTA (or *JOBBAS with *JOBCHGUSR: the profile swaps M and T need *JOBCHGUSR)",
    since: "a Db2 for i PTF group after SF99704 level 15 / SF99703 level 26 (exact level unverified; `auditfwd doctor` checks QSYS2.SYSROUTINES)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[],
    codes: &[],
};

/// PW, password and sign-on failures: brute force, spraying, enumeration.
/// IBM i 7.6 adds F (service tools TOTP), G (authentication exit program),
/// K and O (CHKTOTP / QSYS2.CHECK_TOTP checks, not sign-ons) and T (TOTP).
pub const PW: TypeSpec = TypeSpec {
    code: "PW",
    name: "Password",
    function: "AUDIT_JOURNAL_PW",
    qaudlvl: "*AUTFAIL",
    since: "7.4 TR4 / 7.3 TR10 (Db2 PTF group levels unverified)",
    code_column: Some("VIOLATION_TYPE"),
    columns: &[
        text("VIOLATION_TYPE"),
        text("VIOLATION_TYPE_DETAIL"),
        text("AUDIT_USER_NAME"),
        text("DEVICE_NAME"),
        text("INTERFACE_NAME"),
        text("REMOTE_LOCATION"),
        text("LOCAL_LOCATION"),
        text("NETWORK_ID"),
        text("DECRYPT_HOST_VARIABLE"),
        text("DECRYPT_OBJECT_LIBRARY"),
        text("DECRYPT_OBJECT_NAME"),
        text("DECRYPT_OBJECT_TYPE"),
        text("DECRYPT_OBJECT_ASP_NAME"),
        integer("DECRYPT_OBJECT_ASP_NUMBER"),
    ],
    codes: &[
        code("A", "APPC bind failure", "appc_bind_failed", Low),
        code(
            "C",
            "User authentication with the CHKPWD command failed",
            "password_check_failed",
            Low,
        ),
        code(
            "D",
            "Service tools user ID name not valid",
            "service_tools_signon_failed",
            High,
        ),
        code(
            "E",
            "Service tools user ID password not valid",
            "service_tools_signon_failed",
            High,
        ),
        code(
            "F",
            "Service tools user ID TOTP or recovery key not valid",
            "service_tools_signon_failed",
            High,
        ),
        code(
            "G",
            "Authentication exit program returned a failure",
            "signon_failed_exit_program",
            Medium,
        ),
        code(
            "K",
            "Password not valid on CHKTOTP or QSYS2.CHECK_TOTP",
            "totp_check_failed",
            Low,
        ),
        code(
            "O",
            "TOTP not valid on CHKTOTP or QSYS2.CHECK_TOTP",
            "totp_check_failed",
            Low,
        ),
        code("P", "Password not valid", "signon_failed", Medium),
        code(
            "Q",
            "Attempted sign-on to a disabled profile",
            "signon_failed_disabled_profile",
            Medium,
        ),
        code(
            "R",
            "Attempted sign-on with an expired password",
            "signon_failed_password_expired",
            Low,
        ),
        code(
            "S",
            "SQL decryption password not valid",
            "decryption_password_invalid",
            Medium,
        ),
        code(
            "T",
            "TOTP or recovery key not valid",
            "signon_failed_mfa",
            Medium,
        ),
        code("U", "User name not valid", "unknown_user", Medium),
        code(
            "X",
            "Service tools user ID is disabled",
            "service_tools_signon_failed",
            High,
        ),
        code(
            "Y",
            "Service tools user ID not valid",
            "service_tools_signon_failed",
            High,
        ),
        code(
            "Z",
            "Service tools user ID password not valid",
            "service_tools_signon_failed",
            High,
        ),
    ],
};

/// CP, user profile created, changed or restored: privilege escalation, persistence.
pub const CP: TypeSpec = TypeSpec {
    code: "CP",
    name: "User profile change",
    function: "AUDIT_JOURNAL_CP",
    qaudlvl: "*SECURITY or *SECCFG",
    since: "7.4 TR5 (SF99704 level 15) or 7.3 TR11 (SF99703 level 26)",
    code_column: Some("COMMAND_TYPE"),
    columns: &[
        text("USER_PROFILE"),
        text("COMMAND_TYPE"),
        text("STATUS"),
        flag("PASSWORD_CHANGED"),
        flag("NO_PASSWORD_INDICATOR"),
        flag("PASSWORD_EXPIRED"),
        text("SPECIAL_AUTHORITIES"),
        flag("ALLOBJ"),
        flag("PREVIOUS_ALLOBJ"),
        flag("AUDIT"),
        flag("PREVIOUS_AUDIT"),
        flag("IOSYSCFG"),
        flag("PREVIOUS_IOSYSCFG"),
        flag("JOBCTL"),
        flag("PREVIOUS_JOBCTL"),
        flag("SAVSYS"),
        flag("PREVIOUS_SAVSYS"),
        flag("SECADM"),
        flag("PREVIOUS_SECADM"),
        flag("SERVICE"),
        flag("PREVIOUS_SERVICE"),
        flag("SPLCTL"),
        flag("PREVIOUS_SPLCTL"),
        text("GROUP_PROFILE_NAME"),
        text("SUPPLEMENTAL_GROUP_LIST"),
        text("INITIAL_PROGRAM_LIBRARY"),
        text("INITIAL_PROGRAM"),
    ],
    codes: &[
        code(
            "CRT",
            "User profile created (CRTUSRPRF)",
            "user_created",
            Medium,
        ),
        code(
            "CHG",
            "User profile changed (CHGUSRPRF or CHGEXPSCDE)",
            "user_changed",
            Low,
        ),
        code(
            "RST",
            "User profile restored (RSTUSRPRF)",
            "user_restored",
            Medium,
        ),
        code(
            "DST",
            "QSECOFR password reset through DST",
            "password_reset_dst",
            Critical,
        ),
        code(
            "RPA",
            "QSECOFR password reset by the QSYRESPA API",
            "password_reset_dst",
            Critical,
        ),
        code(
            "SQL",
            "User profile changed by the QSYS2.SET_SERVER_SBS_ROUTING procedure",
            "user_changed",
            Low,
        ),
    ],
};

/// AF, authority failures: reconnaissance, default passwords, port access.
pub const AF: TypeSpec = TypeSpec {
    code: "AF",
    name: "Authority failure",
    function: "AUDIT_JOURNAL_AF",
    qaudlvl: "*AUTFAIL",
    since: "7.4 TR4 / 7.3 TR10 (Db2 PTF group levels unverified)",
    code_column: Some("VIOLATION_TYPE"),
    columns: &[
        text("VIOLATION_TYPE"),
        text("VIOLATION_TYPE_DETAIL"),
        text("VALIDATION_ERROR_ACTION"),
        text("OPERATION_VIOLATION_CODE"),
        text("OBJECT_LIBRARY"),
        text("OBJECT_NAME"),
        text("OBJECT_TYPE"),
        text("PATH_NAME"),
        integer("TCPIP_PORT"),
        text("USER_PROFILE_NAME"),
    ],
    codes: &[
        code("A", "Not authorized to object", "access_denied", Low),
        code(
            "B",
            "Restricted instruction",
            "restricted_instruction",
            Medium,
        ),
        code(
            "C",
            "Object validation failure",
            "validation_failure",
            Medium,
        ),
        code(
            "D",
            "Unsupported interface or object domain failure",
            "unsupported_interface",
            Medium,
        ),
        code(
            "E",
            "Hardware storage protection error",
            "storage_protection_violation",
            Medium,
        ),
        code("F", "ICAPI authorization error", "access_denied", Low),
        code("G", "ICAPI authentication error", "access_denied", Low),
        code("H", "Scan exit program action", "scan_exit_action", Low),
        code(
            "I",
            "System Java inheritance not allowed",
            "access_denied",
            Low,
        ),
        code(
            "J",
            "Submit job profile error",
            "submit_job_profile_error",
            Medium,
        ),
        code(
            "K",
            "Special authority violation",
            "special_authority_violation",
            Medium,
        ),
        code(
            "N",
            "Profile token not a regenerable token",
            "profile_token_error",
            Medium,
        ),
        code(
            "O",
            "Optical object authority failure",
            "access_denied",
            Low,
        ),
        code("P", "Profile swap error", "profile_swap_failed", Medium),
        code(
            "R",
            "Hardware protection error",
            "storage_protection_violation",
            Medium,
        ),
        code(
            "S",
            "Default sign-on attempt",
            "default_signon_attempt",
            High,
        ),
        code(
            "T",
            "Not authorized to TCP/IP port",
            "port_access_denied",
            Medium,
        ),
        code(
            "U",
            "User permission request not valid",
            "access_denied",
            Low,
        ),
        code(
            "V",
            "Profile token not valid for generating a new profile token",
            "profile_token_error",
            Medium,
        ),
        code(
            "W",
            "Profile token not valid for swap",
            "profile_token_error",
            Medium,
        ),
        code("X", "System violation", "system_violation", High),
        code(
            "Y",
            "Not authorized to the current JUID field (clear)",
            "access_denied",
            Low,
        ),
        code(
            "Z",
            "Not authorized to the current JUID field (set)",
            "access_denied",
            Low,
        ),
    ],
};

/// SV, system values and service attributes changed: defence evasion.
pub const SV: TypeSpec = TypeSpec {
    code: "SV",
    name: "System value change",
    function: "AUDIT_JOURNAL_SV",
    qaudlvl: "*SECCFG (or *SECURITY)",
    since: "7.4 TR5 (SF99704 level 15) or 7.3 TR11 (SF99703 level 26)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[
        text("ENTRY_TYPE"),
        text("ENTRY_TYPE_DETAIL"),
        text("SYSTEM_VALUE"),
        text("OLD_VALUE"),
        text("NEW_VALUE"),
    ],
    codes: &[
        code("A", "System value changed", "system_value_changed", Low),
        code(
            "B",
            "Service attribute changed",
            "service_attribute_changed",
            Low,
        ),
        code("C", "System clock changed", "clock_changed", Medium),
        code("D", "UTC offset changed", "clock_changed", Medium),
        code("E", "Option changed", "system_option_changed", Low),
        code(
            "F",
            "Journal attribute changed",
            "journal_attribute_changed",
            Medium,
        ),
    ],
};

/// PS, profile swaps and profile tokens: completes JS M/T.
pub const PS: TypeSpec = TypeSpec {
    code: "PS",
    name: "Profile swap",
    function: "AUDIT_JOURNAL_PS",
    qaudlvl: "*SECURITY (*SECVFY) [unverified]",
    since: "documented for 7.6 (7.4/7.5 PTF group level unverified; no 7.3 function)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[
        text("ENTRY_TYPE"),
        text("ENTRY_TYPE_DETAIL"),
        text("USER_PROFILE_NAME"),
        text("PROFILE_TOKEN_TYPE"),
        text("SOURCE_LOCATION"),
        text("PASS_THROUGH_USER_PROFILE_NAME"),
        text("EXIT_PROGRAM_USER_PROFILE_NAME"),
        text("NEGOTIATED_USER_PROFILE_NAME"),
        integer("PORT_NUMBER"),
        text("IP_ADDRESS"),
        text("DEVICE_NAME"),
    ],
    codes: &[
        code(
            "A",
            "Profile swap during pass-through",
            "profile_swap",
            Info,
        ),
        code(
            "E",
            "End work on behalf of another user",
            "profile_swap_end",
            Info,
        ),
        code(
            "H",
            "Profile handle generated (QSYGETPH)",
            "profile_swap",
            Info,
        ),
        code(
            "I",
            "All profile tokens invalidated",
            "profile_token_invalidated",
            Low,
        ),
        code(
            "M",
            "Maximum number of profile tokens generated",
            "profile_token_limit",
            Medium,
        ),
        code(
            "P",
            "Profile token generated",
            "profile_token_generated",
            Info,
        ),
        code(
            "R",
            "All profile tokens removed",
            "profile_token_invalidated",
            Low,
        ),
        code(
            "S",
            "Start work on behalf of another user",
            "profile_swap",
            Info,
        ),
        code(
            "T",
            "Profile swap by the Telnet exit program QIBM_QTG_DEVINIT",
            "profile_swap",
            Info,
        ),
        code(
            "U",
            "Exit program profile override (Telnet or FTP logon exit program)",
            "profile_swap",
            Low,
        ),
        code(
            "V",
            "User profile authenticated",
            "profile_authenticated",
            Info,
        ),
    ],
};

/// Every type, in the order the configuration and the docs list them.
pub const ALL: &[&TypeSpec] = &[&JS, &PW, &CP, &AF, &SV, &PS, &GR, &CA, &OW, &AD, &PA];
