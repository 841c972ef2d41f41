//! The entries of the other audit types the simulator mixes into the JS
//! stream: which slots carry one, of which type and code, and brute-force
//! bursts of failed sign-ons.

use std::borrow::Cow;

use super::*;
use crate::source::rows::Columns;

/// Per mille of slots that carry an entry of each other type (PW and AF the
/// most, as on a real system), and slots where a brute-force burst runs.
const TYPE_WEIGHTS: &[(&str, u64)] = &[
    ("PW", 120),
    ("AF", 60),
    ("PS", 30),
    ("CP", 20),
    ("SV", 10),
    ("CA", 10),
    ("GR", 5),
    ("OW", 5),
    ("AD", 3),
    ("PA", 2),
];
/// Every BURST_EVERY slots, BURST_LENGTH slots in a row carry a failed
/// sign-on for one user from one address: a brute-force attempt.
const BURST_EVERY: u64 = 1009;
const BURST_LENGTH: u64 = 6;

/// The columns of a `spec` entry: the brute-force burst's failed sign-on,
/// or a code picked by `random` with `user` where the type names a profile.
fn columns(
    spec: &TypeSpec,
    burst: bool,
    random: u64,
    user: &'static str,
) -> Vec<(&'static str, &'static str)> {
    let pick_code = |codes: &[&'static str]| pick(codes, random >> 30);
    match spec.code {
        "PW" if burst => vec![
            ("VIOLATION_TYPE", "P"),
            ("AUDIT_USER_NAME", "PAYADMIN"),
            ("DEVICE_NAME", "QPADEV0042"),
        ],
        "PW" => vec![
            (
                "VIOLATION_TYPE",
                pick_code(&["P", "P", "P", "P", "P", "P", "P", "U", "U", "Q"]),
            ),
            ("AUDIT_USER_NAME", user),
        ],
        "AF" => vec![
            (
                "VIOLATION_TYPE",
                pick_code(&["A", "A", "A", "A", "A", "A", "A", "A", "T", "S"]),
            ),
            ("OBJECT_LIBRARY", "PAYROLL"),
            ("OBJECT_NAME", "SALARIES"),
            ("OBJECT_TYPE", "*FILE"),
            ("USER_PROFILE_NAME", user),
        ],
        "PS" => vec![
            ("ENTRY_TYPE", pick_code(&["H", "S", "E", "P"])),
            ("USER_PROFILE_NAME", user),
        ],
        "CP" => {
            let grant = (random >> 40) % 5 == 0;
            vec![
                (
                    "COMMAND_TYPE",
                    if grant {
                        "CHG"
                    } else {
                        pick_code(&["CHG", "CHG", "CRT"])
                    },
                ),
                ("USER_PROFILE", user),
                ("STATUS", "*ENABLED"),
                ("ALLOBJ", if grant { "Y" } else { "N" }),
                ("PREVIOUS_ALLOBJ", "N"),
            ]
        }
        "SV" => vec![
            ("ENTRY_TYPE", "A"),
            (
                "SYSTEM_VALUE",
                pick_code(&["QAUDLVL", "QMAXSIGN", "QDATFMT", "QDATFMT"]),
            ),
            ("OLD_VALUE", "*AUTFAIL *SECURITY *JOBDTA"),
            ("NEW_VALUE", "*AUTFAIL"),
        ],
        "CA" => vec![
            ("COMMAND_TYPE", pick_code(&["GRANT", "REVOKE"])),
            ("OBJECT_LIBRARY", "PAYROLL"),
            ("OBJECT_NAME", "SALARIES"),
            ("OBJECT_TYPE", "*FILE"),
            ("USER_PROFILE_NAME", user),
            ("OBJECT_OPERATIONAL", "YES"),
            ("DATA_READ", "YES"),
            ("PREV_OBJECT_OPERATIONAL", "NO"),
            ("PREV_DATA_READ", "NO"),
        ],
        "GR" => vec![
            ("ENTRY_TYPE", pick_code(&["A", "D", "R"])),
            ("EXIT_POINT_NAME", "QIBM_QZDA_INIT"),
            ("EXIT_PROGRAM_LIBRARY", "SECLIB"),
            ("EXIT_PROGRAM", "ODBCEXIT"),
        ],
        // AUDIT_JOURNAL_OW has no ENTRY_TYPE column.
        "OW" => vec![
            ("OBJECT_LIBRARY", "PAYROLL"),
            ("OBJECT_NAME", "PAYCALC"),
            ("OBJECT_TYPE", "*PGM"),
            ("PREVIOUS_OWNER", "OPSADM"),
            ("NEW_OWNER", user),
        ],
        "AD" => vec![
            ("ENTRY_TYPE", "U"),
            ("OBJECT_AUDIT", "*NONE"),
            ("PREV_OBJECT_AUDIT", "*CMD"),
            // CHGUSRAUD: the changed profile is the object, type *USRPRF.
            ("LIBRARY_NAME", "QSYS"),
            ("OBJECT_NAME", user),
            ("OBJECT_TYPE", "*USRPRF"),
        ],
        _ => vec![
            ("ENTRY_TYPE", "A"),
            ("OBJECT_LIBRARY", "PAYROLL"),
            ("OBJECT_NAME", "PAYCALC"),
            ("OBJECT_TYPE", "*PGM"),
            ("OBJECT_OWNER", "QSECOFR"),
        ],
    }
}

/// A simulated entry's columns: (name, text) pairs, read by name.
struct Fixed(Vec<(&'static str, &'static str)>);

impl Columns for Fixed {
    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        self.0
            .iter()
            .find(|(name, _)| *name == column)
            .map(|(_, text)| Cow::Borrowed(*text))
    }
}

/// The entries of other types in slot `ordinal` (at most one, deterministic),
/// at a free sequence offset of the slot, at the JS entry's time.
pub(super) fn typed_entries(
    config: &SimulatorConfig,
    types: &[&'static TypeSpec],
    ordinal: u64,
    js: &JournalRow,
) -> Vec<JournalRow> {
    let random = mix(config.seed.wrapping_mul(0x5151) ^ mix(ordinal ^ 0xA5A5));
    let burst = ordinal % BURST_EVERY < BURST_LENGTH && ordinal >= BURST_EVERY;
    let wanted = if burst {
        Some("PW")
    } else {
        let mut roll = random % 1000;
        TYPE_WEIGHTS.iter().find_map(|(code, weight)| {
            if roll < *weight {
                Some(*code)
            } else {
                roll -= weight;
                None
            }
        })
    };
    let Some(spec) = wanted.and_then(|code| types.iter().find(|spec| spec.code == code)) else {
        return Vec::new();
    };
    let js_offset = offset_in_slot(config, js);
    let offset = if js_offset < SEQUENCE_SLOT - 1 {
        js_offset + 1
    } else {
        js_offset - 1
    };
    let user = pick(USERS, random >> 10);
    let address = pick(ADDRESSES, random >> 20);
    let columns = Fixed(columns(spec, burst, random, user));
    let Ok(details) = crate::source::rows::details(spec, &columns) else {
        return Vec::new();
    };
    let mut row = JournalRow::bare(
        &js.system_name,
        &js.receiver_library,
        &js.receiver_name,
        js.sequence_number - js_offset + offset,
        js.entry_timestamp_local,
        js.entry_timestamp,
    );
    row.user_name = Some(
        if spec.code == "CP" {
            "SECADM01"
        } else {
            "QUSER"
        }
        .into(),
    );
    row.job_name = Some("QZSOSIGN".into());
    row.job_user = Some("QUSER".into());
    row.remote_address = Some(if burst { "203.0.113.66" } else { address }.into());
    row.details = Some(details);
    vec![row]
}
