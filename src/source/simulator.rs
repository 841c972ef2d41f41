//! The embedded default source: deterministic, realistic JS traffic.
//!
//! Entry `n` of the stream is a pure function of `(seed, n)`, and a cursor maps
//! back to `n`, so a restart resumes exactly where the checkpoint points. The
//! stream is made of three-entry scenarios modelled on what IBM's note shows:
//! host-server prestart jobs (P attach as QUSER, M swap to the user, M back;
//! a pool of reused jobs per server, remote command jobs ending after one use),
//! 5250 sessions, SSH, FTP, batch jobs, a QSECOFR now and then. Every entry
//! pairs into sessions (`enrich::sessions`), some cut by an IPL. Receivers roll
//! over every [`ENTRIES_PER_RECEIVER`] entries, and sequence numbers restart at 1
//! every seventh receiver, as after an IPL.

use std::collections::VecDeque;
use std::time::Instant;

use chrono::{Duration, NaiveDateTime, TimeZone, Timelike, Utc};

use super::config::{SimulatorConfig, SimulatorStart};
use crate::event::audit::TypeSpec;
use crate::event::{Cursor, JournalRow, Text};

/// Journal entries per receiver before it is detached and a new one attached.
pub const ENTRIES_PER_RECEIVER: u64 = 2_000;
/// Width of the sequence-number slot of each JS entry (other entry types fill the rest).
const SEQUENCE_SLOT: u64 = 5;
/// Receivers whose index is ≡ this modulo [`IPL_EVERY`] start after an IPL.
const IPL_PHASE: u64 = 3;
const IPL_EVERY: u64 = 7;
/// First sequence number of the chain before the first IPL.
const FIRST_CHAIN_START: u64 = 1_000_001;
/// Prestart jobs of each host server, reused connection after connection.
const PRESTART_POOL: u64 = 12;
/// Receiver library, as CHGSECAUD creates it.
pub const RECEIVER_LIBRARY: &str = "QGPL";
const RECEIVER_PREFIX: &str = "AUDRCV";

/// Why a cursor cannot be resumed by the simulator.
#[derive(Debug, thiserror::Error)]
#[error("the stored checkpoint {cursor} was not written by this simulator ({reason}); clear it with `auditfwd checkpoint clear` or set source.simulator.system_name to match")]
pub struct ForeignCursor {
    /// The stored cursor, as `SYSTEM:LIBRARY/RECEIVER:SEQUENCE`.
    pub cursor: String,
    /// What does not match (the system name, the receiver, the sequence).
    pub reason: String,
}

/// The embedded source: a deterministic journal where entry *n* is a pure
/// function of the seed and *n*, so a restart from a cursor continues exactly.
pub struct Simulator {
    config: SimulatorConfig,
    /// The audit types besides JS that the stream carries (`source.audit_types`).
    types: Vec<&'static TypeSpec>,
    /// The next slot (JS entry ordinal) to produce.
    next: u64,
    /// In slot `next`, entries at or below this offset were already delivered.
    skip_through: Option<u64>,
    /// Rows of the last slot that did not fit in the last poll.
    pending: VecDeque<JournalRow>,
    paced_from: (Instant, u64),
}

impl Simulator {
    /// A simulator that continues after `cursor` (or starts at entry 0).
    pub fn new(
        config: SimulatorConfig,
        types: &[&'static TypeSpec],
        cursor: Option<&Cursor>,
    ) -> Result<Simulator, ForeignCursor> {
        let mut config = config;
        let (next, skip_through) = match cursor {
            None => (0, None),
            Some(cursor) => {
                let (slot, offset) = position_of(&config, cursor)?;
                (slot, Some(offset))
            }
        };
        if config.start_timestamp == SimulatorStart::Now {
            let now = Utc::now()
                .naive_utc()
                .with_nanosecond(0)
                .unwrap_or_default();
            let start = cursor
                .and_then(|cursor| start_of_resumed(&config, types, next, cursor))
                .unwrap_or(now);
            config.start_timestamp = SimulatorStart::At(start);
        }
        Ok(Simulator {
            config,
            types: types.iter().copied().filter(|spec| !spec.is_js()).collect(),
            next,
            skip_through,
            pending: VecDeque::new(),
            paced_from: (Instant::now(), next),
        })
    }

    /// True once `total_events` slots (JS entries, with the entries of other
    /// types between them) were produced.
    pub fn exhausted(&self) -> bool {
        self.config.total_events > 0
            && self.next >= self.config.total_events
            && self.pending.is_empty()
    }

    /// Every entry of slot `ordinal`, in sequence order: its JS entry and the
    /// entries of other types the slot carries.
    fn slot(&self, ordinal: u64) -> Vec<JournalRow> {
        let js = entry(&self.config, ordinal);
        if self.types.is_empty() {
            return vec![js];
        }
        let mut rows = typed_entries(&self.config, &self.types, ordinal, &js);
        rows.push(js);
        rows.sort_by_key(|row| row.sequence_number);
        rows
    }

    /// Up to `max_rows` entries that are due by now.
    pub fn poll(&mut self, max_rows: usize) -> Vec<JournalRow> {
        let mut end = self.next + max_rows as u64;
        if self.config.total_events > 0 {
            end = end.min(self.config.total_events);
        }
        if self.config.events_per_second > 0 {
            let (since, first) = self.paced_from;
            let due = first
                + (since.elapsed().as_secs_f64() * self.config.events_per_second as f64) as u64;
            end = end.min(due);
        }
        let take = self.pending.len().min(max_rows);
        let mut rows: Vec<JournalRow> = self.pending.drain(..take).collect();
        while rows.len() < max_rows && self.next < end {
            let mut slot = self.slot(self.next);
            if let Some(done) = self.skip_through.take() {
                let config = &self.config;
                slot.retain(|row| offset_in_slot(config, row) > done);
            }
            self.next += 1;
            for row in slot {
                if rows.len() < max_rows {
                    rows.push(row);
                } else {
                    self.pending.push_back(row);
                }
            }
        }
        rows
    }
}

/// Where `row` sits in its slot (0 to SEQUENCE_SLOT - 1).
fn offset_in_slot(config: &SimulatorConfig, row: &JournalRow) -> u64 {
    let position = Position {
        system: &row.system_name,
        library: &row.receiver_library,
        receiver: &row.receiver_name,
        sequence: row.sequence_number,
    };
    slot_of(config, &position).map_or(0, |(_, offset)| offset)
}

fn receiver_name(receiver: u64) -> Text {
    padded(RECEIVER_PREFIX, receiver + 1, 4)
}

/// `prefix` and `number` with zeros in front to `width` digits (what
/// `format!("{prefix}{number:0width$}")` gives), built without a heap
/// allocation when it fits inline: once or more per entry.
fn padded(prefix: &str, number: u64, width: usize) -> Text {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(number);
    let mut text = Text::new(prefix);
    for _ in digits.len()..width {
        text.push('0');
    }
    text.push_str(digits);
    text
}

/// First sequence number of a receiver.
fn receiver_base(receiver: u64) -> u64 {
    let chain_start = if receiver < IPL_PHASE {
        0
    } else {
        receiver - (receiver + IPL_EVERY - IPL_PHASE) % IPL_EVERY
    };
    let first = if chain_start == 0 {
        FIRST_CHAIN_START
    } else {
        1
    };
    first + (receiver - chain_start) * ENTRIES_PER_RECEIVER * SEQUENCE_SLOT
}

/// The first entry's time. A `Simulator` has always fixed it (`Now` becomes
/// the time it started); a bare `entry` call with `Now` takes the epoch.
fn start_of(config: &SimulatorConfig) -> NaiveDateTime {
    match config.start_timestamp {
        SimulatorStart::At(at) => at,
        SimulatorStart::Now => NaiveDateTime::default(),
    }
}

/// For a run that resumes after `cursor` (in slot `slot`) with the clock
/// started "now": the start that gives the cursor's entry the time it had,
/// so the clock goes on from there. None when the cursor has no local time.
fn start_of_resumed(
    config: &SimulatorConfig,
    types: &[&'static TypeSpec],
    slot: u64,
    cursor: &Cursor,
) -> Option<NaiveDateTime> {
    let at = cursor.entry_timestamp_local?;
    let from_epoch = SimulatorConfig {
        start_timestamp: SimulatorStart::At(NaiveDateTime::default()),
        ..config.clone()
    };
    let probe = Simulator {
        config: from_epoch,
        types: types.iter().copied().filter(|spec| !spec.is_js()).collect(),
        next: slot,
        skip_through: None,
        pending: VecDeque::new(),
        paced_from: (Instant::now(), slot),
    };
    let row = probe
        .slot(slot)
        .into_iter()
        .find(|row| row.sequence_number == cursor.sequence_number)?;
    Some(at - (row.entry_timestamp_local - NaiveDateTime::default()))
}

/// The slot a cursor points into, and its offset within the slot.
fn position_of(config: &SimulatorConfig, cursor: &Cursor) -> Result<(u64, u64), ForeignCursor> {
    let position = Position {
        system: &cursor.system_name,
        library: &cursor.receiver_library,
        receiver: &cursor.receiver_name,
        sequence: cursor.sequence_number,
    };
    slot_of(config, &position).map_err(|reason| ForeignCursor {
        cursor: cursor.to_string(),
        reason: reason.into(),
    })
}

/// A journal position, borrowed from a cursor or a row.
struct Position<'a> {
    system: &'a str,
    library: &'a str,
    receiver: &'a str,
    sequence: u64,
}

/// The slot `position` is in, and its offset within the slot; the error
/// says why the simulator did not write such a position.
fn slot_of(config: &SimulatorConfig, position: &Position<'_>) -> Result<(u64, u64), &'static str> {
    if position.system != config.system_name {
        return Err("another system name");
    }
    let receiver = position
        .receiver
        .strip_prefix(RECEIVER_PREFIX)
        .and_then(|digits| digits.parse::<u64>().ok())
        .filter(|number| *number > 0 && position.library == RECEIVER_LIBRARY)
        .ok_or("unknown receiver")?
        - 1;
    let base = receiver_base(receiver);
    let offset = position
        .sequence
        .checked_sub(base)
        .filter(|offset| offset / SEQUENCE_SLOT < ENTRIES_PER_RECEIVER)
        .ok_or("sequence number outside the receiver")?;
    Ok((
        receiver * ENTRIES_PER_RECEIVER + offset / SEQUENCE_SLOT,
        offset % SEQUENCE_SLOT,
    ))
}

/// splitmix64: a tiny, good, deterministic mixer.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

fn pick<'a>(choices: &[&'a str], random: u64) -> &'a str {
    choices[(random % choices.len() as u64) as usize]
}

const USERS: &[&str] = &[
    "JSMITH", "MROSSI", "AKUMAR", "LCHEN", "PGARCIA", "V6CASTIL", "OPSADM", "ETLSVC", "RPTUSER",
];
const ADDRESSES: &[&str] = &[
    "192.0.2.10",
    "192.0.2.23",
    "192.0.2.41",
    "198.51.100.7",
    "198.51.100.77",
    "203.0.113.5",
    "2001:db8::15",
];
const BATCH_JOBS: &[&str] = &["DAYEND", "PAYROLL01", "INVSYNC", "BACKUPNT", "RPTGEN"];

/// One kind of three-entry scenario.
#[derive(Clone, Copy)]
enum Scenario {
    /// A host-server prestart job serving one connection: P, M (user), M (back to QUSER).
    HostServer {
        job_name: &'static str,
        alternative: Option<&'static str>,
    },
    /// An interactive 5250 session that submits a batch job: S, B, E.
    Interactive,
    /// An SSH login: spawned processes S, S, E.
    Ssh,
    /// A batch job: B (submitted), S, then E, A or N.
    Batch,
}

/// Scenario mix, weighted by how often each shows up in a busy shop's journal.
const SCENARIOS: &[(u64, Scenario)] = &[
    (
        18,
        Scenario::HostServer {
            job_name: "QZDASOINIT",
            alternative: Some("QZDASSINIT"),
        },
    ),
    (
        10,
        Scenario::HostServer {
            job_name: "QZSOSIGN",
            alternative: None,
        },
    ),
    (
        8,
        Scenario::HostServer {
            job_name: "QZRCSRVS",
            alternative: None,
        },
    ),
    (
        8,
        Scenario::HostServer {
            job_name: "QPWFSERVSO",
            alternative: Some("QPWFSERVSS"),
        },
    ),
    (
        4,
        Scenario::HostServer {
            job_name: "QTFTP01",
            alternative: None,
        },
    ),
    (
        4,
        Scenario::HostServer {
            job_name: "QRWTSRVR",
            alternative: None,
        },
    ),
    (
        3,
        Scenario::HostServer {
            job_name: "QZHQSSRV",
            alternative: None,
        },
    ),
    (
        2,
        Scenario::HostServer {
            job_name: "QNPSERVS",
            alternative: None,
        },
    ),
    (
        2,
        Scenario::HostServer {
            job_name: "QZSCSRVS",
            alternative: None,
        },
    ),
    (
        3,
        Scenario::HostServer {
            job_name: "QZLSFILE",
            alternative: None,
        },
    ),
    (14, Scenario::Interactive),
    (6, Scenario::Ssh),
    (12, Scenario::Batch),
];

fn scenario(random: u64) -> Scenario {
    let total: u64 = SCENARIOS.iter().map(|(weight, _)| weight).sum();
    let mut point = random % total;
    for (weight, scenario) in SCENARIOS {
        if point < *weight {
            return *scenario;
        }
        point -= weight;
    }
    Scenario::Batch
}

/// Entry number `ordinal` of the stream.
pub fn entry(config: &SimulatorConfig, ordinal: u64) -> JournalRow {
    let receiver = ordinal / ENTRIES_PER_RECEIVER;
    let slot = ordinal % ENTRIES_PER_RECEIVER;
    let random = mix(config.seed ^ mix(ordinal));
    let sequence_number = receiver_base(receiver) + slot * SEQUENCE_SLOT + random % SEQUENCE_SLOT;

    let block = ordinal / 3;
    let step = ordinal % 3;
    let block_random = mix(config.seed.wrapping_mul(31) ^ mix(block));
    let user = if block_random % 29 == 0 {
        "QSECOFR"
    } else {
        pick(USERS, block_random >> 8)
    };
    let address = pick(ADDRESSES, block_random >> 16);
    let port = 49_152 + (block_random >> 24) % 16_000;
    let job_number = padded("", 100_000 + block % 900_000, 6);

    let local = entry_time(config, receiver, block, step);

    let mut row = JournalRow::bare(
        &config.system_name,
        RECEIVER_LIBRARY,
        &receiver_name(receiver),
        sequence_number,
        local,
        Utc.from_utc_datetime(&local),
    );
    row.job_number = Some(job_number.clone());
    let set_job = |row: &mut JournalRow,
                   name: &str,
                   job_user: &str,
                   job_type: &str,
                   subtype: Option<&str>| {
        set_job(row, &job_number, name, job_user, job_type, subtype);
    };

    match scenario(block_random >> 32) {
        Scenario::HostServer {
            job_name,
            alternative,
        } => {
            let job_name = match alternative {
                Some(secure) if block_random % 3 == 0 => secure,
                _ => job_name,
            };
            host_server(
                &mut row,
                job_name,
                &job_number,
                block_random,
                step,
                (user, address, port),
            );
        }
        Scenario::Interactive => {
            let device = padded("QPADEV", (block_random >> 40) % 200 + 1, 4);
            set_job(&mut row, &device, user, "INT", None);
            set_user(&mut row, user);
            row.device_name = Some(device.clone());
            row.remote_address = Some(address.into());
            row.remote_port = Some(port as u32);
            row.program_library = Some("QSYS".into());
            row.program_name = Some("QWTPIIPP".into());
            row.entry_type = Some(["S", "B", "E"][step as usize].into());
            if step == 1 {
                let batch = pick(BATCH_JOBS, block_random >> 44);
                let mut job = padded("", 100_000 + (block + 1) % 900_000, 6);
                for part in ["/", user, "/", batch] {
                    job.push_str(part);
                }
                row.target_qualified_job_name = Some(job);
            }
        }
        Scenario::Ssh => {
            set_job(&mut row, "QP0ZSPWP", user, "BCI", Some("D"));
            set_user(&mut row, user);
            row.remote_address = Some(address.into());
            row.remote_port = Some(port as u32);
            row.program_library = Some("QSYS".into());
            row.program_name = Some("QP0ZPCP2".into());
            row.entry_type = Some(["S", "S", "E"][step as usize].into());
        }
        Scenario::Batch => {
            let batch = pick(BATCH_JOBS, block_random >> 44);
            let owner = if user == "QSECOFR" {
                "QSECOFR"
            } else {
                "OPSADM"
            };
            set_job(&mut row, batch, owner, "BCH", None);
            set_user(&mut row, owner);
            row.program_library = Some("QSYS".into());
            row.program_name = Some("QCMD".into());
            row.entry_type = Some(
                match step {
                    0 => "B",
                    1 => "S",
                    _ if block_random % 13 == 0 => "A",
                    _ if block_random % 17 == 0 => "N",
                    _ => "E",
                }
                .into(),
            );
        }
    }
    row
}

/// The time of entry `step` of `block` in `receiver`: entries at their
/// nominal spacing from the start, each IPL adding ten minutes of downtime.
fn entry_time(config: &SimulatorConfig, receiver: u64, block: u64, step: u64) -> NaiveDateTime {
    let nominal_rate = if config.events_per_second == 0 {
        200
    } else {
        config.events_per_second
    };
    let spacing_micros = 1_000_000 / nominal_rate as i64;
    let ipls = if receiver < IPL_PHASE {
        0
    } else {
        (receiver - IPL_PHASE) / IPL_EVERY + 1
    };
    let mut local: NaiveDateTime = start_of(config)
        + Duration::microseconds(spacing_micros * (block * 3) as i64)
        + Duration::minutes(10 * ipls as i64);
    if step == 2 {
        local += Duration::microseconds(spacing_micros * 2);
    }
    local
}

/// Sets the job of `row`: name, user, type, subtype and qualified name.
fn set_job(
    row: &mut JournalRow,
    job_number: &str,
    name: &str,
    job_user: &str,
    job_type: &str,
    subtype: Option<&str>,
) {
    row.job_name = Some(name.into());
    row.job_user = Some(job_user.into());
    row.job_type = Some(job_type.into());
    row.job_subtype = subtype.map(Text::from);
    let mut qualified = Text::new(job_number);
    for part in ["/", job_user, "/", name] {
        qualified.push_str(part);
    }
    row.qualified_job_name = Some(qualified);
}

/// Sets the entry's user and both of its profiles to `profile`.
fn set_user(row: &mut JournalRow, profile: &str) {
    row.user_name = Some(profile.into());
    row.real_user_profile = Some(profile.into());
    row.effective_user_profile = Some(profile.into());
}

/// A host-server connection's entry `step` (the prestart job starting, the
/// swap to the user, the swap back or the end), from the `client`'s user,
/// address and port.
fn host_server(
    row: &mut JournalRow,
    job_name: &str,
    block_job_number: &str,
    block_random: u64,
    step: u64,
    client: (&str, &str, u64),
) {
    let (user, address, port) = client;
    // Prestart jobs are reused: a small pool of each serves user after
    // user. Remote command jobs run with MAXUSE(1) and end after one.
    let single_use = job_name == "QZRCSRVS";
    let job_number = if single_use {
        Text::from(block_job_number)
    } else {
        padded("", 200_000 + (block_random >> 48) % PRESTART_POOL, 6)
    };
    row.job_number = Some(job_number.clone());
    set_job(row, &job_number, job_name, "QUSER", "PJ", Some("J"));
    row.program_library = Some("QSYS".into());
    row.program_name = Some(job_name.chars().take(8).collect());
    match step {
        0 => {
            row.entry_type = Some("P".into());
            set_user(row, "QUSER");
        }
        1 => {
            row.entry_type = Some(if block_random % 23 == 0 { "T" } else { "M" }.into());
            set_user(row, user);
            row.user_name = Some("QUSER".into());
            row.remote_address = Some(address.into());
            row.remote_port = Some(port as u32);
        }
        _ => {
            row.entry_type = Some(if single_use { "E" } else { "M" }.into());
            set_user(row, "QUSER");
            row.user_name = Some(user.into());
            row.remote_address = Some(address.into());
            row.remote_port = Some(port as u32);
        }
    }
}

mod typed;
use typed::typed_entries;

#[cfg(test)]
mod tests;
