//! The object-level types of the catalog: GR (exit points and function
//! usage), CA (authority changes), OW (ownership), AD (auditing changes) and
//! PA (adopted authority). Data only, as in the parent module.

use super::{code, flag, text};
use crate::event::audit::TypeSpec;
use crate::event::Severity::{High, Low, Medium};

/// GR, generic records: exit programs and function usage registration.
pub const GR: TypeSpec = TypeSpec {
    code: "GR",
    name: "Registration and function usage",
    function: "AUDIT_JOURNAL_GR",
    qaudlvl: "*SECCFG or *SECURITY",
    since: "7.4 TR5 (SF99704 level 15) or 7.3 TR11 (SF99703 level 26)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[
        text("ENTRY_TYPE"),
        text("ENTRY_TYPE_DETAIL"),
        text("ACTION"),
        text("EXIT_POINT_NAME"),
        text("EXIT_POINT_FORMAT"),
        text("EXIT_PROGRAM_LIBRARY"),
        text("EXIT_PROGRAM"),
        text("FUNCTION_NAME"),
        text("USAGE_SETTING"),
        text("PREVIOUS_USAGE"),
        text("FUNCTION_ALLOBJ"),
        text("USER_PROFILE_NAME"),
    ],
    codes: &[
        code("A", "Exit program added", "exit_program_added", Medium),
        code("D", "Exit program removed", "exit_program_removed", High),
        code(
            "F",
            "Function registration operation",
            "function_usage_changed",
            Medium,
        ),
        code(
            "O",
            "ObjectConnect operation (save or restore)",
            "objectconnect_operation",
            Low,
        ),
        code("R", "Exit program replaced", "exit_program_replaced", High),
    ],
};

/// CA, authority changes on objects.
pub const CA: TypeSpec = TypeSpec {
    code: "CA",
    name: "Authority change",
    function: "AUDIT_JOURNAL_CA",
    qaudlvl: "*SECURITY or *SECRUN",
    since: "7.4 TR4 / 7.3 TR10 (Db2 PTF group levels unverified)",
    code_column: Some("COMMAND_TYPE"),
    columns: &[
        text("OBJECT_LIBRARY"),
        text("OBJECT_NAME"),
        text("OBJECT_TYPE"),
        text("OBJECT_ATTRIBUTE"),
        text("PATH_NAME"),
        text("FIELD_NAME"),
        text("COMMAND_TYPE"),
        text("USER_PROFILE_NAME"),
        flag("AUTHORIZATION_LIST_MANAGEMENT"),
        flag("OBJECT_EXCLUDE"),
        flag("OBJECT_OPERATIONAL"),
        flag("OBJECT_MANAGEMENT"),
        flag("OBJECT_EXISTENCE"),
        flag("OBJECT_ALTER"),
        flag("OBJECT_REFERENCE"),
        flag("DATA_READ"),
        flag("DATA_ADD"),
        flag("DATA_UPDATE"),
        flag("DATA_DELETE"),
        flag("DATA_EXECUTE"),
        flag("PREV_AUTHORIZATION_LIST_MANAGEMENT"),
        flag("PREV_OBJECT_EXCLUDE"),
        flag("PREV_OBJECT_OPERATIONAL"),
        flag("PREV_OBJECT_MANAGEMENT"),
        flag("PREV_OBJECT_EXISTENCE"),
        flag("PREV_OBJECT_ALTER"),
        flag("PREV_OBJECT_REFERENCE"),
        flag("PREV_DATA_READ"),
        flag("PREV_DATA_ADD"),
        flag("PREV_DATA_UPDATE"),
        flag("PREV_DATA_DELETE"),
        flag("PREV_DATA_EXECUTE"),
        text("AUTHORIZATION_LIST"),
    ],
    codes: &[
        code("GRANT", "Authority granted", "authority_granted", Low),
        code(
            "GRTUSRAUT",
            "Authority granted like another user (GRTUSRAUT)",
            "authority_granted",
            Medium,
        ),
        code(
            "REPLACE",
            "Authority granted with replace",
            "authority_granted",
            Low,
        ),
        code("REVOKE", "Authority revoked", "authority_revoked", Low),
    ],
};

/// OW, object ownership changed.
pub const OW: TypeSpec = TypeSpec {
    code: "OW",
    name: "Ownership change",
    function: "AUDIT_JOURNAL_OW",
    qaudlvl: "*SECURITY or *SECRUN",
    since: "7.4 TR4 / 7.3 TR10 (Db2 PTF group levels unverified)",
    // AUDIT_JOURNAL_OW has no ENTRY_TYPE column: every OW entry is an
    // ownership change (the raw QASYOWJ5 layout's entry type is always A).
    code_column: None,
    columns: &[
        text("OBJECT_LIBRARY"),
        text("OBJECT_NAME"),
        text("OBJECT_TYPE"),
        text("PATH_NAME"),
        text("PREVIOUS_OWNER"),
        text("NEW_OWNER"),
    ],
    codes: &[code("A", "Object ownership changed", "owner_changed", Low)],
};

/// AD, auditing changed for an object or a user.
pub const AD: TypeSpec = TypeSpec {
    code: "AD",
    name: "Auditing change",
    function: "AUDIT_JOURNAL_AD",
    qaudlvl: "*SECURITY or *SECCFG [unverified]",
    since: "a 7.5 TR and its 7.4 counterpart (level unverified)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[
        text("ENTRY_TYPE"),
        text("ENTRY_TYPE_DETAIL"),
        text("OBJECT_AUDIT"),
        text("PREV_OBJECT_AUDIT"),
        text("SCAN_ATTRIBUTE"),
        // For U (CHGUSRAUD) the changed profile is OBJECT_NAME, type *USRPRF.
        text("LIBRARY_NAME"),
        text("OBJECT_NAME"),
        text("OBJECT_TYPE"),
        text("PATH_NAME"),
    ],
    codes: &[
        code(
            "D",
            "Document library object auditing changed (CHGDLOAUD)",
            "object_auditing_changed",
            Medium,
        ),
        code(
            "O",
            "Object auditing changed (CHGOBJAUD or CHGAUD)",
            "object_auditing_changed",
            Medium,
        ),
        code("S", "Scan attribute changed", "scan_attribute_changed", Low),
        code(
            "U",
            "User auditing changed (CHGUSRAUD)",
            "user_auditing_changed",
            Medium,
        ),
    ],
};

/// PA, programs changed to adopt their owner's authority.
pub const PA: TypeSpec = TypeSpec {
    code: "PA",
    name: "Program adopt",
    function: "AUDIT_JOURNAL_PA",
    qaudlvl: "*SECCFG or *SECURITY (not *PGMADP, which writes AP entries) [unverified]",
    since: "documented for 7.5 and later (level unverified; no 7.3 function)",
    code_column: Some("ENTRY_TYPE"),
    columns: &[
        text("ENTRY_TYPE"),
        text("ENTRY_TYPE_DETAIL"),
        text("OBJECT_LIBRARY"),
        text("OBJECT_NAME"),
        text("OBJECT_TYPE"),
        text("PATH_NAME"),
        text("OBJECT_OWNER"),
        text("PRIMARY_GROUP"),
    ],
    codes: &[
        code(
            "A",
            "Program changed to adopt its owner's authority",
            "program_adopt_changed",
            Medium,
        ),
        code(
            "J",
            "Java program adopts its owner's authority",
            "program_adopt_changed",
            Medium,
        ),
        code(
            "M",
            "Set user or group ID mode bit changed",
            "program_adopt_changed",
            Medium,
        ),
    ],
};
