//! The one mapping table: for every audit type and code (and the detections,
//! notices and signals that change what an entry means), what it is in ECS,
//! OCSF, the Splunk CIM, QRadar and ArcSight.
//!
//! Data only. The formats read it ([`lookup`]), the Splunk app, the QRadar
//! mapping file and `deploy/FORMATS.md` are generated from it
//! (`super::artifacts`), and a test checks that every code of the catalog has
//! exactly one row.

use crate::event::Event;

/// `event.outcome` in ECS; OCSF `status_id` and CIM `action` follow from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The action succeeded (a sign-on, a change made).
    Success,
    /// The action was refused or failed (a wrong password, an authority failure).
    Failure,
    /// The entry does not say whether it succeeded.
    Unknown,
}

impl Outcome {
    /// ECS `event.outcome`: `success`, `failure` or `unknown`.
    pub fn ecs(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }

    /// OCSF `status_id`: 1 Success, 2 Failure, 0 Unknown.
    pub fn ocsf_status_id(self) -> u8 {
        match self {
            Outcome::Success => 1,
            Outcome::Failure => 2,
            Outcome::Unknown => 0,
        }
    }
}

/// An OCSF 1.8.0 event class auditfwd writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcsfClass {
    /// File System Activity (1001): object authority failures, ownership changes.
    FileSystemActivity,
    /// Process Activity (1007): jobs starting, ending and changing (JS).
    ProcessActivity,
    /// Event Log Activity (1008): changes to auditing itself (AD, the audit system values).
    EventLogActivity,
    /// Detection Finding (2004): auditfwd's detections and signals.
    DetectionFinding,
    /// Account Change (3001): user profiles created, changed, disabled, passwords.
    AccountChange,
    /// Authentication (3002): sign-ons, sign-on failures, profile swaps.
    Authentication,
    /// User Access Management (3005): special authorities granted or revoked.
    UserAccessManagement,
    /// Network Activity (4001): connections refused (AF `T`).
    NetworkActivity,
    /// Device Config State Change (5019): system value changes (SV).
    DeviceConfigStateChange,
    /// Application Lifecycle (6002): registrations added, removed or changed (GR).
    ApplicationLifecycle,
}

impl OcsfClass {
    /// Every class auditfwd writes.
    pub const ALL: &'static [OcsfClass] = &[
        OcsfClass::FileSystemActivity,
        OcsfClass::ProcessActivity,
        OcsfClass::EventLogActivity,
        OcsfClass::DetectionFinding,
        OcsfClass::AccountChange,
        OcsfClass::Authentication,
        OcsfClass::UserAccessManagement,
        OcsfClass::NetworkActivity,
        OcsfClass::DeviceConfigStateChange,
        OcsfClass::ApplicationLifecycle,
    ];

    /// OCSF `class_uid`.
    pub fn uid(self) -> u32 {
        match self {
            OcsfClass::FileSystemActivity => 1001,
            OcsfClass::ProcessActivity => 1007,
            OcsfClass::EventLogActivity => 1008,
            OcsfClass::DetectionFinding => 2004,
            OcsfClass::AccountChange => 3001,
            OcsfClass::Authentication => 3002,
            OcsfClass::UserAccessManagement => 3005,
            OcsfClass::NetworkActivity => 4001,
            OcsfClass::DeviceConfigStateChange => 5019,
            OcsfClass::ApplicationLifecycle => 6002,
        }
    }

    /// OCSF class caption (`class_name`).
    pub fn name(self) -> &'static str {
        match self {
            OcsfClass::FileSystemActivity => "File System Activity",
            OcsfClass::ProcessActivity => "Process Activity",
            OcsfClass::EventLogActivity => "Event Log Activity",
            OcsfClass::DetectionFinding => "Detection Finding",
            OcsfClass::AccountChange => "Account Change",
            OcsfClass::Authentication => "Authentication",
            OcsfClass::UserAccessManagement => "User Access Management",
            OcsfClass::NetworkActivity => "Network Activity",
            OcsfClass::DeviceConfigStateChange => "Device Config State Change",
            OcsfClass::ApplicationLifecycle => "Application Lifecycle",
        }
    }

    /// OCSF `category_uid`: the thousands digit of the class uid.
    pub fn category_uid(self) -> u32 {
        self.uid() / 1000
    }

    /// OCSF `category_name` of [`OcsfClass::category_uid`].
    pub fn category_name(self) -> &'static str {
        match self.category_uid() {
            1 => "System Activity",
            2 => "Findings",
            3 => "Identity & Access Management",
            4 => "Network Activity",
            5 => "Discovery",
            _ => "Application Activity",
        }
    }

    /// The caption of `activity_id` in this class (OCSF 1.8.0).
    pub fn activity_name(self, activity_id: u32) -> &'static str {
        use OcsfClass::*;
        match (self, activity_id) {
            (_, 0) => "Unknown",
            (_, 99) => "Other",
            (FileSystemActivity, 7) => "Set Security",
            (ProcessActivity, 2) => "Terminate",
            (EventLogActivity, 2) => "Delete",
            (EventLogActivity, 9) => "Enable",
            (EventLogActivity, 10) => "Disable",
            (DetectionFinding, 1) => "Create",
            (AccountChange, 1) => "Create",
            (AccountChange, 3) => "Password Change",
            (AccountChange, 4) => "Password Reset",
            (AccountChange, 5) => "Disable",
            (Authentication, 1) => "Logon",
            (Authentication, 2) => "Logoff",
            (Authentication, 7) => "Account Switch",
            (UserAccessManagement, 1) => "Assign Privileges",
            (UserAccessManagement, 2) => "Revoke Privileges",
            (NetworkActivity, 5) => "Refuse",
            (DeviceConfigStateChange, 1) => "Log",
            (ApplicationLifecycle, 1) => "Install",
            (ApplicationLifecycle, 2) => "Remove",
            (ApplicationLifecycle, 8) => "Update",
            _ => "Other",
        }
    }
}

/// A Splunk CIM data model (and child dataset) an event lands in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cim {
    /// The `Authentication` data model (sign-ons and their failures).
    Authentication,
    /// `Change.Account_Management`: user profiles created, changed, deleted.
    AccountManagement,
    /// `Change.Auditing_Changes`: changes to auditing itself.
    AuditingChanges,
    /// `Change.Endpoint_Changes`: changes to the system's objects and settings.
    EndpointChanges,
    /// The `Alerts` data model: auditfwd's detections and signals.
    Alerts,
    /// No CIM data model fits; the fields are still extracted.
    None,
}

impl Cim {
    /// The data model and dataset, as Splunk names them.
    pub fn dataset(self) -> &'static str {
        match self {
            Cim::Authentication => "Authentication",
            Cim::AccountManagement => "Change.Account_Management",
            Cim::AuditingChanges => "Change.Auditing_Changes",
            Cim::EndpointChanges => "Change.Endpoint_Changes",
            Cim::Alerts => "Alerts",
            Cim::None => "-",
        }
    }

    /// The tags that select the model and dataset (`tags.conf`).
    pub fn tags(self) -> &'static [&'static str] {
        match self {
            Cim::Authentication => &["authentication"],
            Cim::AccountManagement => &["change", "account"],
            Cim::AuditingChanges => &["change", "audit"],
            Cim::EndpointChanges => &["change", "endpoint"],
            Cim::Alerts => &["alert"],
            Cim::None => &[],
        }
    }
}

/// What a row matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// These codes of the type, whatever the action (`"*"`: any code no
    /// other row of the type names, including codes the catalog lacks).
    Codes(&'static [&'static str]),
    /// Events of the type whose action a detection set to this, with one of
    /// these codes (before the code rows).
    Detection(&'static str, &'static [&'static str]),
    /// Events auditfwd itself reports (`audit_type = None`) or derives (a
    /// signal), by action.
    Own(&'static str),
}

/// One row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The journal entry type (`JS`, `PW`, ...); `AUDITFWD` for notices and signals.
    pub audit_type: &'static str,
    /// Which entries (codes, a detection, or auditfwd's own events) the row matches.
    pub key: Key,
    /// ECS `event.category` values.
    pub ecs_category: &'static [&'static str],
    /// ECS `event.type` values.
    pub ecs_type: &'static [&'static str],
    /// ECS `event.outcome`, OCSF `status_id`, CIM `action` for outcomes.
    pub outcome: Outcome,
    /// The OCSF class the event is written as.
    pub ocsf_class: OcsfClass,
    /// The activity; `ocsf` refines a few by the event (see FORMATS.md).
    pub ocsf_activity: u32,
    /// The Splunk CIM data model the event lands in.
    pub cim: Cim,
    /// CIM `action` (Authentication: success | failure; Change: created,
    /// modified, deleted, ...; Alerts: the signal).
    pub cim_action: &'static str,
    /// Suggested QRadar high-level / low-level category for the QID.
    pub qradar: (&'static str, &'static str),
    /// Why this OCSF class and activity.
    pub reason: &'static str,
}

const fn codes(
    audit_type: &'static str,
    list: &'static [&'static str],
    ecs: (&'static [&'static str], &'static [&'static str], Outcome),
    ocsf: (OcsfClass, u32),
    cim: (Cim, &'static str),
    qradar: (&'static str, &'static str),
    reason: &'static str,
) -> Row {
    Row {
        audit_type,
        key: Key::Codes(list),
        ecs_category: ecs.0,
        ecs_type: ecs.1,
        outcome: ecs.2,
        ocsf_class: ocsf.0,
        ocsf_activity: ocsf.1,
        cim: cim.0,
        cim_action: cim.1,
        qradar,
        reason,
    }
}

const fn detection(mut row: Row, action: &'static str) -> Row {
    let list = match row.key {
        Key::Codes(list) => list,
        _ => &[],
    };
    row.key = Key::Detection(action, list);
    row
}

const fn own(mut row: Row, action: &'static str) -> Row {
    row.key = Key::Own(action);
    row
}

use self::OcsfClass::*;
use self::Outcome::{Failure, Success, Unknown};

const AUTH_START: &[&str] = &["authentication"];
const SWITCH: (&[&str], &[&str], Outcome) = (&["authentication"], &["info"], Success);
const LOGON_FAILED: (&[&str], &[&str], Outcome) = (&["authentication"], &["start"], Failure);
const CONFIG_CHANGE: (&[&str], &[&str], Outcome) = (&["configuration"], &["change"], Success);

/// Every row. Detection rows come before the code rows of their type; a
/// `"*"` row is the last of its type.
pub const TABLE: &[Row] = &[
    // JS: job changes.
    codes("JS", &["S"], (AUTH_START, &["start"], Success), (Authentication, 1), (Cim::Authentication, "success"),
        ("Authentication", "User Login Success"),
        "A job started for a user: a sign-on (5250), a host-server connection or a batch job; logon_type_id says which."),
    codes("JS", &["E"], (AUTH_START, &["end"], Success), (Authentication, 2), (Cim::None, "success"),
        ("Authentication", "User Logoff"),
        "The job of a session ended: the logoff of the matching start."),
    codes("JS", &["M", "T"], SWITCH, (Authentication, 7), (Cim::Authentication, "success"),
        ("Authentication", "User Login Success"),
        "The job switched to another user profile (M: swap, account_switch_type_id 1 Substitute User; T: a profile token, 2 Impersonate)."),
    codes("JS", &["A", "N"], (&["process"], &["end"], Success), (ProcessActivity, 2), (Cim::None, "success"),
        ("System", "Process Terminated"),
        "A job ended abnormally or was ended by ENDJOB: an IBM i job is a process."),
    codes("JS", &["*"], (&["process"], &["info"], Success), (ProcessActivity, 99), (Cim::None, "success"),
        ("System", "Process Information"),
        "Other job changes (submitted, held, released, changed, attached, ...): process activity with no OCSF verb of its own."),
    // PW: password and sign-on failures.
    codes("PW", &["A", "D", "E", "F", "G", "P", "Q", "R", "T", "U", "X", "Y", "Z"], LOGON_FAILED,
        (Authentication, 1), (Cim::Authentication, "failure"),
        ("Authentication", "User Login Failure"),
        "A sign-on (or APPC bind, or service tools sign-on) that failed: Logon with status Failure."),
    codes("PW", &["C", "K", "O", "S", "*"], (&["authentication"], &["info"], Failure), (Authentication, 99), (Cim::Authentication, "failure"),
        ("Authentication", "User Login Failure"),
        "A password or TOTP check that is not a sign-on (CHKPWD, CHKTOTP or QSYS2.CHECK_TOTP, SQL decryption password): Authentication, activity Other, status Failure."),
    // CP: user profiles.
    detection(codes("CP", &["CRT", "CHG", "RST", "DST", "RPA", "SQL", "*"], (&["iam"], &["user", "change", "admin"], Success),
        (UserAccessManagement, 1), (Cim::AccountManagement, "modified"),
        ("Authentication", "Privilege Escalation Succeeded"),
        "A special authority (*ALLOBJ, *SECADM, *AUDIT, *SERVICE) was granted: privileges assigned to a user."), "privilege_granted"),
    detection(codes("CP", &["CHG", "SQL"], (&["iam"], &["user", "change"], Success), (AccountChange, 3), (Cim::AccountManagement, "modified"),
        ("Authentication", "User Account Changed"),
        "The profile's password was changed."), "password_changed"),
    detection(codes("CP", &["CHG", "SQL"], (&["iam"], &["user", "change"], Success), (AccountChange, 5), (Cim::AccountManagement, "modified"),
        ("Authentication", "User Account Changed"),
        "The profile was set to *DISABLED."), "user_disabled"),
    codes("CP", &["CRT"], (&["iam"], &["user", "creation"], Success), (AccountChange, 1), (Cim::AccountManagement, "created"),
        ("Authentication", "User Account Added"),
        "A user profile was created."),
    codes("CP", &["DST", "RPA"], (&["iam"], &["user", "change"], Success), (AccountChange, 4), (Cim::AccountManagement, "modified"),
        ("Authentication", "User Account Changed"),
        "QSECOFR's password was reset (DST or QSYRESPA)."),
    codes("CP", &["CHG", "RST", "SQL", "*"], (&["iam"], &["user", "change"], Success), (AccountChange, 99), (Cim::AccountManagement, "modified"),
        ("Authentication", "User Account Changed"),
        "A user profile was changed or restored: Account Change, activity Other."),
    // AF: authority failures.
    codes("AF", &["S"], LOGON_FAILED, (Authentication, 1), (Cim::Authentication, "failure"),
        ("Authentication", "User Login Failure"),
        "A sign-on attempt with a default password (user name = password): a failed logon."),
    codes("AF", &["N", "P", "V", "W"], (&["authentication"], &["info"], Failure), (Authentication, 7), (Cim::Authentication, "failure"),
        ("Authentication", "User Login Failure"),
        "A profile swap or profile token that was refused: Account Switch with status Failure."),
    codes("AF", &["T"], (&["network"], &["connection", "denied"], Failure), (NetworkActivity, 5), (Cim::None, "blocked"),
        ("Access", "Firewall Deny"),
        "A job was refused a TCP/IP port (port restrictions): the connection was refused."),
    codes("AF", &["A", "F", "G", "I", "O", "U", "Y", "Z"], (&["file"], &["access"], Failure), (FileSystemActivity, 99), (Cim::None, "failure"),
        ("Access", "Object Access Denied"),
        "Access to an object (library object, IFS file, optical or JUID field) was refused; the entry does not say which operation was tried."),
    codes("AF", &["B", "C", "D", "E", "H", "J", "K", "R", "X", "*"], (&["process"], &["access"], Failure), (ProcessActivity, 99), (Cim::None, "failure"),
        ("Access", "Misc Access Denied"),
        "The job tried something its authority or the machine does not allow (restricted instruction, special authority, validation or storage protection): process activity with status Failure."),
    // SV: system values.
    detection(codes("SV", &["A", "B", "C", "D", "E", "F", "*"], CONFIG_CHANGE, (EventLogActivity, 99), (Cim::AuditingChanges, "modified"),
        ("Audit", "Audit Configuration Change"),
        "QAUDCTL, QAUDLVL, QAUDLVL2, QAUDFRCLVL or QAUDENDACN changed: the audit policy (activity Disable when set to *NONE)."), "audit_policy_changed"),
    detection(codes("SV", &["A", "B", "C", "D", "E", "F", "*"], CONFIG_CHANGE, (DeviceConfigStateChange, 1), (Cim::EndpointChanges, "modified"),
        ("System", "System Configuration"),
        "QSECURITY, QPWDLVL, QMAXSIGN or another system value that guards sign-on and passwords changed: a security-relevant change of the system's configuration."), "security_setting_changed"),
    codes("SV", &["A", "B", "C", "D", "E", "F", "*"], CONFIG_CHANGE, (DeviceConfigStateChange, 1), (Cim::EndpointChanges, "modified"),
        ("System", "System Configuration"),
        "A system value, service attribute, clock or option changed: a change of the system's configuration, logged by the audit journal."),
    // PS: profile swaps and tokens.
    codes("PS", &["A", "E", "H", "P", "S", "T", "U", "V"], SWITCH, (Authentication, 7), (Cim::Authentication, "success"),
        ("Authentication", "User Login Success"),
        "Work started or ended on behalf of another user, or a profile handle or token generated for one: Account Switch."),
    codes("PS", &["I", "M", "R", "*"], (&["authentication"], &["info"], Success), (Authentication, 99), (Cim::None, "success"),
        ("Authentication", "Misc Login Succeeded"),
        "Profile tokens invalidated, removed or at their limit: authentication housekeeping, activity Other."),
    // GR: exit programs and function usage.
    codes("GR", &["A"], (&["configuration"], &["creation"], Success), (ApplicationLifecycle, 1), (Cim::EndpointChanges, "created"),
        ("System", "System Configuration"),
        "An exit program was added to an exit point: a program installed into the system's request path."),
    codes("GR", &["D"], (&["configuration"], &["deletion"], Success), (ApplicationLifecycle, 2), (Cim::EndpointChanges, "deleted"),
        ("System", "System Configuration"),
        "An exit program was removed (exit-point security switched off)."),
    codes("GR", &["R", "*"], CONFIG_CHANGE, (ApplicationLifecycle, 8), (Cim::EndpointChanges, "modified"),
        ("System", "System Configuration"),
        "An exit program was replaced."),
    codes("GR", &["F"], (&["iam"], &["user", "change"], Success), (UserAccessManagement, 1), (Cim::AccountManagement, "modified"),
        ("Authentication", "User Account Changed"),
        "Function usage was registered or changed: a privilege given to (or, *DENIED, revoked from) a user."),
    // CA: object authorities.
    codes("CA", &["GRANT", "GRTUSRAUT", "REPLACE", "*"], (&["iam"], &["change"], Success), (UserAccessManagement, 1), (Cim::EndpointChanges, "modified"),
        ("Policy", "Policy Change"),
        "Authority to an object was granted: privileges assigned to a user."),
    codes("CA", &["REVOKE"], (&["iam"], &["change"], Success), (UserAccessManagement, 2), (Cim::EndpointChanges, "modified"),
        ("Policy", "Policy Change"),
        "Authority to an object was revoked."),
    // OW: ownership.
    codes("OW", &["A", "*"], (&["file"], &["change"], Success), (FileSystemActivity, 7), (Cim::EndpointChanges, "modified"),
        ("Policy", "Policy Change"),
        "An object's owner changed: the owner is part of the object's security."),
    // AD: auditing of objects and users.
    detection(codes("AD", &["D", "O", "S", "U", "*"], CONFIG_CHANGE, (EventLogActivity, 10), (Cim::AuditingChanges, "modified"),
        ("Audit", "Audit Configuration Change"),
        "Auditing of an object was switched off (*NONE): the audit log stops recording it."), "auditing_disabled"),
    codes("AD", &["D", "O", "S", "U", "*"], CONFIG_CHANGE, (EventLogActivity, 99), (Cim::AuditingChanges, "modified"),
        ("Audit", "Audit Configuration Change"),
        "Auditing of an object or a user changed: what the audit log records (activity Enable when it was *NONE)."),
    // PA: programs that adopt authority.
    codes("PA", &["A", "J", "M", "*"], (&["file"], &["change"], Success), (FileSystemActivity, 7), (Cim::EndpointChanges, "modified"),
        ("Policy", "Policy Change"),
        "A program was changed to adopt its owner's authority (or set-user-ID): the program object's security changed."),
    // auditfwd's own events.
    own(codes("AUDITFWD", &[], (&["configuration"], &["info"], Unknown), (EventLogActivity, 99), (Cim::AuditingChanges, "deleted"),
        ("Audit", "Audit Log Cleared"),
        "Journal entries were lost before they were read (receivers deleted, a hole in the chain): the audit log lost records."), "audit_gap"),
    own(codes("AUDITFWD", &[], (&[], &[], Failure), (EventLogActivity, 99), (Cim::None, "failure"),
        ("System", "Error"),
        "A journal row could not be parsed: the audit log could not be read (status Failure)."), "malformed_row"),
    own(codes("AUDITFWD", &[], (&["authentication"], &["info"], Failure), (DetectionFinding, 1), (Cim::Alerts, "signon_failure_burst"),
        ("Authentication", "Brute Force Login Attempt"),
        "auditfwd's own detection over several PW entries: a finding, not a journal entry."), "signon_failure_burst"),
    own(codes("AUDITFWD", &[], (&["session"], &["start"], Success), (Authentication, 1), (Cim::Authentication, "success"),
        ("Authentication", "User Login Success"),
        "auditfwd's session inferred from JS entries: a user began to be served by a job (a sign-on, or a host-server job taking the user's profile)."), "session_start"),
    own(codes("AUDITFWD", &[], (&["session"], &["end"], Success), (Authentication, 2), (Cim::None, "logoff"),
        ("Authentication", "User Logoff"),
        "auditfwd's session inferred from JS entries: the job stopped serving the user (its end, a swap back, or an unknown end with no time)."), "session_end"),
];

/// The row that applies to `event`.
pub fn lookup(event: &Event) -> &'static Row {
    if event.signal.is_some() || event.session.is_some() || event.audit_type.is_none() {
        let action = event.event_action.as_ref();
        return own_rows()
            .iter()
            .find(|row| matches!(row.key, Key::Own(name) if name == action))
            .copied()
            .unwrap_or_else(own_fallback);
    }
    let audit_type = event.audit_type.unwrap_or("");
    let code = event.code().unwrap_or("");
    let action = event.event_action.as_ref();
    let rows = rows_of_type(audit_type);
    let of_type = || rows.iter().copied();
    of_type()
        .find(|row| matches!(row.key, Key::Detection(name, list) if name == action && (list.contains(&code) || list.contains(&"*"))))
        .or_else(|| of_type().find(|row| matches!(row.key, Key::Codes(list) if list.contains(&code))))
        .or_else(|| of_type().find(|row| matches!(row.key, Key::Codes(list) if list.contains(&"*"))))
        .unwrap_or(&UNKNOWN)
}

/// The table's rows of auditfwd's own events (notices, signals, sessions),
/// in table order, found once for the process: a session event (a third of
/// the simulator's) scanned the whole table.
fn own_rows() -> &'static [&'static Row] {
    static OWN: std::sync::OnceLock<Vec<&'static Row>> = std::sync::OnceLock::new();
    OWN.get_or_init(|| {
        TABLE
            .iter()
            .filter(|row| matches!(row.key, Key::Own(_)))
            .collect()
    })
}

/// The table's rows of `audit_type`, in table order (grouped once for the
/// process: a lookup scans a type's few rows, not the table).
fn rows_of_type(audit_type: &str) -> &'static [&'static Row] {
    type Groups = Vec<(&'static str, Vec<&'static Row>)>;
    static GROUPS: std::sync::OnceLock<Groups> = std::sync::OnceLock::new();
    let groups = GROUPS.get_or_init(|| {
        let mut groups: Groups = Vec::new();
        for row in TABLE {
            match groups.iter_mut().find(|(name, _)| *name == row.audit_type) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((row.audit_type, vec![row])),
            }
        }
        groups
    });
    groups
        .iter()
        .find(|(name, _)| *name == audit_type)
        .map_or(&[], |(_, rows)| rows.as_slice())
}

/// A notice or signal the table does not know yet: the audit gap row is the
/// closest ("auditfwd says something about the journal").
fn own_fallback() -> &'static Row {
    TABLE
        .iter()
        .find(|row| row.key == Key::Own("audit_gap"))
        .unwrap_or(&UNKNOWN)
}

/// A type the table does not know (the catalog grew without a row; a test
/// prevents it).
const UNKNOWN: Row = codes(
    "?",
    &["*"],
    (&["host"], &["info"], Unknown),
    (ProcessActivity, 99),
    (Cim::None, "unknown"),
    ("System", "Misc System Event"),
    "Not in the table.",
);

/// The SIEM event id of `event`: `<type>_<code>` (`PW_P`, `JS_M`, `CP_CHG`),
/// `<type>` alone when the entry has no code, the action in upper case for
/// notices and signals (`AUDIT_GAP`, `SIGNON_FAILURE_BURST`). CEF signature
/// id, LEEF event id, syslog MSGID and QRadar mapping key.
pub fn event_id(event: &Event) -> String {
    match event_id_parts(event) {
        EventId::Action(action) => action.to_uppercase(),
        EventId::Entry(kind, Some(code)) => format!("{kind}_{code}"),
        EventId::Entry(kind, None) => kind.to_owned(),
    }
}

/// [`event_id`] in borrowed pieces, for writers that escape as they append.
pub enum EventId<'a> {
    /// An action, written in upper case.
    Action(&'a str),
    /// A type, and its code after a `_` when there is one.
    Entry(&'a str, Option<&'a str>),
}

/// The pieces of [`event_id`].
pub fn event_id_parts(event: &Event) -> EventId<'_> {
    match (event.audit_type, &event.code, &event.entry_type) {
        _ if event.signal.is_some() || event.session.is_some() || event.audit_type.is_none() => {
            EventId::Action(&event.event_action)
        }
        (Some("JS"), _, Some(code)) => EventId::Entry("JS", Some(code)),
        (Some(kind), Some(code), _) => EventId::Entry(kind, Some(code)),
        (Some(kind), None, _) => EventId::Entry(kind, None),
        _ => EventId::Action(&event.event_action),
    }
}

/// A readable name of `event` for CEF and LEEF: the code's label (IBM's
/// JS description), or the notice's or signal's label.
pub fn event_name(event: &Event) -> &str {
    if let Some(detail) = &event.entry_type_detail {
        return detail;
    }
    if event.audit_type == Some("JS") {
        if let Some(description) = crate::enrich::classify::entry_type_description(event.code()) {
            return description;
        }
    }
    if event.code_label.is_empty() {
        &event.event_action
    } else {
        &event.code_label
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::audit::catalog;

    fn rows_of<'a>(audit_type: &'a str) -> impl Iterator<Item = &'static Row> + 'a {
        TABLE.iter().filter(move |row| row.audit_type == audit_type)
    }

    /// Every code of every catalog type (JS's 18 codes from `classify`) is
    /// named by exactly one code row, and every type has a `*` row last.
    #[test]
    fn every_type_and_code_of_the_catalog_has_exactly_one_row() {
        for spec in catalog::ALL {
            let known: Vec<&str> = if spec.is_js() {
                crate::enrich::classify::EVENT_ACTIONS
                    .iter()
                    .map(|(code, _, _)| *code)
                    .collect()
            } else {
                spec.codes.iter().map(|code| code.code).collect()
            };
            let code_rows: Vec<&Row> = rows_of(spec.code)
                .filter(|row| matches!(row.key, Key::Codes(_)))
                .collect();
            assert!(!code_rows.is_empty(), "{} has no row", spec.code);
            for code in &known {
                let named = code_rows
                    .iter()
                    .filter(|row| matches!(row.key, Key::Codes(list) if list.contains(code)))
                    .count();
                let wildcard = code_rows
                    .iter()
                    .any(|row| matches!(row.key, Key::Codes(list) if list.contains(&"*")));
                assert!(
                    named == 1 || (named == 0 && wildcard),
                    "{}_{code}: named by {named} rows",
                    spec.code
                );
            }
            for row in rows_of(spec.code) {
                let listed = match row.key {
                    Key::Codes(list) | Key::Detection(_, list) => list,
                    Key::Own(_) => panic!("{}: own row under a type", spec.code),
                };
                for code in listed.iter().filter(|code| **code != "*") {
                    assert!(
                        known.contains(code),
                        "{}_{code} is in the table, not in the catalog",
                        spec.code
                    );
                }
            }
            assert_eq!(
                code_rows
                    .iter()
                    .filter(|row| matches!(row.key, Key::Codes(list) if list.contains(&"*")))
                    .count(),
                1,
                "{}: one * row",
                spec.code
            );
        }
        for action in [
            "audit_gap",
            "malformed_row",
            "signon_failure_burst",
            "session_start",
            "session_end",
        ] {
            assert_eq!(
                TABLE
                    .iter()
                    .filter(|row| row.key == Key::Own(action))
                    .count(),
                1,
                "{action}"
            );
        }
        // Every type of the table is a type of the catalog.
        for row in TABLE {
            assert!(
                row.audit_type == "AUDITFWD"
                    || catalog::ALL.iter().any(|spec| spec.code == row.audit_type),
                "{}",
                row.audit_type
            );
        }
    }

    /// Detection rows name actions the catalog's detections produce.
    #[test]
    fn detection_rows_name_real_actions() {
        let detections = [
            "privilege_granted",
            "password_changed",
            "user_disabled",
            "audit_policy_changed",
            "security_setting_changed",
            "auditing_disabled",
        ];
        for row in TABLE {
            if let Key::Detection(action, _) = row.key {
                assert!(detections.contains(&action), "{action}");
            }
        }
    }

    #[test]
    fn activities_have_names_and_types_are_computed() {
        for row in TABLE {
            let name = row.ocsf_class.activity_name(row.ocsf_activity);
            assert!(
                row.ocsf_activity == 99 || name != "Other",
                "{} {}: activity {} has no name",
                row.audit_type,
                row.reason,
                row.ocsf_activity
            );
        }
    }
}
