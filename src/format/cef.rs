//! ArcSight CEF and QRadar LEEF 2.0 text for every entry type, with the
//! `<type>_<code>` event ids of the mapping table (`PW_P`, `JS_M`, `CP_CHG`).
//!
//! A line is written straight into the caller's buffer, each value escaped
//! as it is appended: no `String` per field, no `format!`.
//!
//! `dropped` leaves out that many optional items, in the order of
//! [`CEF_DROP_ORDER`] / [`LEEF_DROP_ORDER`]: the syslog sink uses it to fit a
//! message in `max_message_bytes` without cutting it. The `write_*` functions
//! write every item and return where the optional ones are ([`Optional`]), so
//! the sink cuts them out instead of writing the line again.

use std::io::Write as _;
use std::net::IpAddr;

use super::mapping::{self, EventId};
use crate::event::Event;

/// CEF extensions dropped first, in this order (the rest are kept).
pub const CEF_DROP_ORDER: &[&str] = &["cs4", "cs2", "duser", "cs3", "cs1", "msg"];
/// LEEF attributes dropped first, in this order.
pub const LEEF_DROP_ORDER: &[&str] = &[
    "jobType",
    "connectionType",
    "effectiveUser",
    "receiver",
    "connectionMethod",
    "msg",
];

/// The LEEF attribute delimiter: a tab, LEEF 2.0's default, written `x09`
/// in the header.
pub const LEEF_DELIMITER: char = '\t';
/// The `devTimeFormat` of `devTime` (Java `SimpleDateFormat`, as QRadar reads it).
pub const LEEF_DEV_TIME_FORMAT: &str = "MMM dd yyyy HH:mm:ss.SSS z";

/// Values come from the audited system: hostile input. In every CEF and LEEF
/// field, a control character (C0, DEL, C1) that the format cannot escape is
/// replaced by a space (so are U+2028 and U+2029), so one entry is always one
/// record whatever it holds.
pub fn is_unescapable(c: char) -> bool {
    // U+2028 and U+2029 end lines for some readers too.
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Appends `text` to `out`: each ASCII byte as `ascii` says (a replacement,
/// or `None` to keep it), C1 control characters, U+2028 and U+2029 as a
/// space ([`is_unescapable`] with the C0 controls and DEL left to `ascii`),
/// the rest as it is, copied in runs. `plain` tells the bytes `ascii` keeps
/// (from 0x20 to 0x7E): text of those only is copied whole after one
/// branch-free pass.
#[inline]
fn push_escaped(
    out: &mut Vec<u8>,
    text: &str,
    plain: impl Fn(u8) -> bool,
    ascii: impl Fn(u8) -> Option<&'static [u8]>,
) {
    let bytes = text.as_bytes();
    if bytes.iter().fold(true, |all, byte| all & plain(*byte)) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut kept = 0;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let (replacement, width): (&[u8], usize) = if byte < 0x80 {
            match ascii(byte) {
                Some(replacement) => (replacement, 1),
                None => {
                    at += 1;
                    continue;
                }
            }
        } else if byte == 0xC2 && matches!(bytes.get(at + 1), Some(0x80..=0x9F)) {
            // U+0080 to U+009F.
            (b" ", 2)
        } else if byte == 0xE2
            && bytes.get(at + 1) == Some(&0x80)
            && matches!(bytes.get(at + 2), Some(0xA8 | 0xA9))
        {
            // U+2028, U+2029.
            (b" ", 3)
        } else {
            at += 1;
            continue;
        };
        out.extend_from_slice(&bytes[kept..at]);
        out.extend_from_slice(replacement);
        at += width;
        kept = at;
    }
    out.extend_from_slice(&bytes[kept..]);
}

/// Printable ASCII: from 0x20 (space) to 0x7E.
#[inline]
fn printable(byte: u8) -> bool {
    (0x20..0x7F).contains(&byte)
}

/// Appends a CEF header field: `\` and `|` escaped; a line end or any other
/// control character (which a header cannot escape) becomes a space.
pub fn push_cef_header(out: &mut Vec<u8>, text: &str) {
    let plain = |byte| printable(byte) && byte != b'\\' && byte != b'|';
    push_escaped(out, text, plain, |byte| match byte {
        b'\\' => Some(b"\\\\"),
        b'|' => Some(b"\\|"),
        byte if byte.is_ascii_control() => Some(b" "),
        _ => None,
    });
}

/// Appends a CEF extension value: `\` and `=` escaped, line ends as `\n` and
/// `\r`; any other control character (tab, NUL, ...) becomes a space.
pub fn push_cef_value(out: &mut Vec<u8>, text: &str) {
    let plain = |byte| printable(byte) && byte != b'\\' && byte != b'=';
    push_escaped(out, text, plain, |byte| match byte {
        b'\\' => Some(b"\\\\"),
        b'=' => Some(b"\\="),
        b'\n' => Some(b"\\n"),
        b'\r' => Some(b"\\r"),
        byte if byte.is_ascii_control() => Some(b" "),
        _ => None,
    });
}

/// Appends a LEEF attribute value. LEEF has no escapes (QRadar shows a
/// backslash as it is written), so a value is kept as it is but for the tab
/// delimiter, line ends and other control characters, each a space.
pub fn push_leef_value(out: &mut Vec<u8>, text: &str) {
    push_escaped(out, text, printable, |byte| {
        byte.is_ascii_control().then_some(b" ")
    });
}

/// Appends a LEEF header field: `|` cannot be escaped there, so it becomes
/// `_`; control characters become spaces.
pub fn push_leef_header(out: &mut Vec<u8>, text: &str) {
    let plain = |byte| printable(byte) && byte != b'|';
    push_escaped(out, text, plain, |byte| match byte {
        b'|' => Some(b"_"),
        byte if byte.is_ascii_control() => Some(b" "),
        _ => None,
    });
}

/// What the `push_*` functions wrote: only whole UTF-8 text goes in.
fn into_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("CEF and LEEF are written from UTF-8 pieces")
}

/// `text` escaped by `push`, as a `String`.
fn escaped(text: &str, push: fn(&mut Vec<u8>, &str)) -> String {
    let mut out = Vec::with_capacity(text.len() + 4);
    push(&mut out, text);
    into_text(out)
}

/// A CEF header field, escaped (see [`push_cef_header`]).
pub fn cef_header(text: &str) -> String {
    escaped(text, push_cef_header)
}

/// A CEF extension value, escaped (see [`push_cef_value`]).
pub fn cef_value(text: &str) -> String {
    escaped(text, push_cef_value)
}

/// A LEEF attribute value (see [`push_leef_value`]).
pub fn leef_value(text: &str) -> String {
    escaped(text, push_leef_value)
}

/// A LEEF header field (see [`push_leef_header`]).
pub fn leef_header(text: &str) -> String {
    escaped(text, push_leef_header)
}

fn push_number(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

fn push_display(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    write!(out, "{value}").expect("a Vec takes any bytes");
}

/// An IP address as `Display` writes it; IPv4 without the formatter.
fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            push_number(out, a);
            for octet in [b, c, d] {
                out.push(b'.');
                push_number(out, octet);
            }
        }
        IpAddr::V6(_) => push_display(out, ip),
    }
}

fn bool_text(flag: bool) -> &'static str {
    if flag {
        "true"
    } else {
        "false"
    }
}

/// Appends `text` in upper case through a header escape `push`, whose
/// replacements have no case.
fn push_upper(out: &mut Vec<u8>, text: &str, push: fn(&mut Vec<u8>, &str)) {
    if text.is_ascii() {
        let start = out.len();
        push(out, text);
        out[start..].make_ascii_uppercase();
    } else {
        push(out, &text.to_uppercase());
    }
}

/// Appends the event id ([`mapping::event_id`]) through a header escape `push`.
fn push_event_id(out: &mut Vec<u8>, event: &Event, push: fn(&mut Vec<u8>, &str)) {
    match mapping::event_id_parts(event) {
        EventId::Action(action) => push_upper(out, action, push),
        EventId::Entry(kind, code) => {
            push(out, kind);
            if let Some(code) = code {
                out.push(b'_');
                push(out, code);
            }
        }
    }
}

/// Appends `library/name` of the event's journal receiver through `push`.
fn push_receiver(out: &mut Vec<u8>, event: &Event, push: fn(&mut Vec<u8>, &str)) {
    push(out, &event.receiver_library);
    out.push(b'/');
    push(out, &event.receiver_name);
}

/// The entry time as `yyyy-mm-ddThh:mm:ss.ffffff` (see
/// [`crate::event::micros_text`]), for the layouts cut from it.
fn micros(event: &Event) -> Option<[u8; 26]> {
    let text = crate::event::micros_text(&event.entry_timestamp.naive_utc(), false)?;
    text.as_str().as_bytes().try_into().ok()
}

/// Appends the entry time as LEEF `devTime`: `%b %d %Y %H:%M:%S%.3f UTC`
/// (`Apr 08 2026 10:15:30.123 UTC`).
fn push_dev_time(out: &mut Vec<u8>, event: &Event) {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let Some(text) = micros(event) else {
        return push_display(
            out,
            event.entry_timestamp.format("%b %d %Y %H:%M:%S%.3f UTC"),
        );
    };
    let month = usize::from((text[5] - b'0') * 10 + (text[6] - b'0'));
    out.extend_from_slice(MONTHS[month - 1]);
    out.push(b' ');
    out.extend_from_slice(&text[8..10]);
    out.push(b' ');
    out.extend_from_slice(&text[..4]);
    out.push(b' ');
    // hh:mm:ss.fff
    out.extend_from_slice(&text[11..23]);
    out.extend_from_slice(b" UTC");
}

/// Appends the entry time as IBM's generator writes `rt`:
/// `%Y-%m-%d-%H.%M.%S%.6f` (`2026-04-08-10.15.30.123456`, UTC).
fn push_ibm_time(out: &mut Vec<u8>, event: &Event) {
    let Some(mut text) = micros(event) else {
        return push_display(out, event.entry_timestamp.format("%Y-%m-%d-%H.%M.%S%.6f"));
    };
    text[10] = b'-';
    text[13] = b'.';
    text[16] = b'.';
    out.extend_from_slice(&text);
}

/// The most optional items a line has (the longest drop order).
const MOST_OPTIONAL: usize = 6;
const _: () = assert!(
    CEF_DROP_ORDER.len() <= MOST_OPTIONAL
        && CEF_IBM_DROP_ORDER.len() <= MOST_OPTIONAL
        && LEEF_DROP_ORDER.len() <= MOST_OPTIONAL
);

/// The place of `key` in a drop order, found at compile time.
const fn slot(order: &[&str], key: &str) -> usize {
    let key = key.as_bytes();
    let mut index = 0;
    while index < order.len() {
        let name = order[index].as_bytes();
        let mut at = 0;
        while at < name.len() && at < key.len() && name[at] == key[at] {
            at += 1;
        }
        if at == name.len() && at == key.len() {
            return index;
        }
        index += 1;
    }
    panic!("a key of the drop order");
}

/// Where a written line's optional items are, in drop order: cutting out
/// the first `dropped` of them gives the line written with `dropped`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Optional {
    /// Byte ranges in the buffer, each with the separator before the item
    /// (the first item of a line is never optional); empty when absent.
    spans: [(usize, usize); MOST_OPTIONAL],
}

impl Optional {
    /// Cuts the first `dropped` optional items out of `out`, the buffer the
    /// line was written to.
    pub fn remove(&self, out: &mut Vec<u8>, dropped: usize) {
        let mut spans = self.spans;
        let spans = &mut spans[..dropped.min(MOST_OPTIONAL)];
        // The last in the line first, so the earlier offsets stay right.
        spans.sort_unstable_by_key(|span| std::cmp::Reverse(span.0));
        for (start, end) in spans.iter() {
            out.drain(start..end);
        }
    }
}

/// A line being written: `key=value` items appended to `out` with
/// `separator` between them, the optional ones noted.
struct Line<'a> {
    out: &'a mut Vec<u8>,
    separator: u8,
    first: bool,
    optional: Optional,
}

impl<'a> Line<'a> {
    fn new(out: &'a mut Vec<u8>, separator: u8) -> Self {
        Line {
            out,
            separator,
            first: true,
            optional: Optional::default(),
        }
    }

    /// Starts an item (separator, `key`, `=`); the caller appends the value.
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(self.separator);
        }
        self.first = false;
        self.out.extend_from_slice(key.as_bytes());
        self.out.push(b'=');
        self.out
    }

    /// An item whose value is text of this file, with nothing to escape.
    fn pair(&mut self, key: &str, value: &str) {
        self.key(key).extend_from_slice(value.as_bytes());
    }

    /// Writes the items of drop slot `slot` (none, one, or a value and its
    /// label) with `write`, and notes where they went.
    fn optional(&mut self, slot: usize, write: impl FnOnce(&mut Self)) {
        let start = self.out.len();
        write(self);
        self.optional.spans[slot] = (start, self.out.len());
    }
}

/// CEF's `externalId` holds at most 40 characters: a longer event id (burst
/// signals, long IBM i names) is given as a stable digest of it, and the
/// event id itself goes in `cs6` (label `eventId`).
pub const CEF_EXTERNAL_ID_MAX: usize = 40;

/// Whether the event id is too long for `externalId`.
fn long_id(event: &Event) -> bool {
    event.event_id.chars().count() > CEF_EXTERNAL_ID_MAX
}

/// Appends the `externalId` value: the event id, or when [`long_id`] a digest.
fn push_external_id(out: &mut Vec<u8>, event_id: &str, long: bool) {
    if !long {
        return push_cef_value(out, event_id);
    }
    // FNV-1a, 64 bits, twice (two offsets): stable across releases and hosts.
    let fnv = |offset: u64| {
        event_id.bytes().fold(offset, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    push_display(
        out,
        format_args!(
            "af-{:016x}{:016x}",
            fnv(0xcbf2_9ce4_8422_2325),
            fnv(0x6c62_272e_07bb_0142)
        ),
    );
}

/// Which CEF layout the syslog sink writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CefDialect {
    /// auditfwd's own: `<type>_<code>` signature ids, numeric severity.
    #[default]
    Auditfwd,
    /// IBM i's own generator's (`QSYS2.DISPLAY_JOURNAL(..., GENERATE_SYSLOG =>
    /// 'CEF')`): `QSYS-QAUDJRN`, `T-<type>`, a severity word, and its keys in
    /// its order; auditfwd's additions follow as keys IBM i parsers ignore.
    Ibm,
}

/// The CEF line of `event`, `dropped` optional items left out.
pub fn cef(event: &Event, dropped: usize) -> String {
    let mut out = Vec::with_capacity(640);
    write_cef(event, &mut out).remove(&mut out, dropped);
    into_text(out)
}

/// Appends the CEF line of `event` with every item to `out`; returns where
/// its optional items are.
pub fn write_cef(event: &Event, out: &mut Vec<u8>) -> Optional {
    let row = mapping::lookup(event);
    let (actor, effective, target) = super::users(event);
    out.extend_from_slice(
        concat!("CEF:0|auditfwd|auditfwd|", env!("CARGO_PKG_VERSION"), "|").as_bytes(),
    );
    push_event_id(out, event, push_cef_header);
    out.push(b'|');
    push_cef_header(out, mapping::event_name(event));
    out.push(b'|');
    push_number(out, super::severity_0_10(event.severity));
    out.push(b'|');
    let mut line = Line::new(out, b' ');
    // Milliseconds since the epoch.
    push_number(line.key("rt"), event.entry_timestamp.timestamp_millis());
    push_cef_value(line.key("dvchost"), &event.system_name);
    if let Some(actor) = actor {
        push_cef_value(line.key("suser"), actor);
    }
    // `src` is IPv4 in CEF's dictionary; an IPv6 address goes in c6a2.
    let ip = super::remote_ip(event);
    match ip {
        Some(ip @ IpAddr::V4(_)) => push_ip(line.key("src"), ip),
        Some(ip @ IpAddr::V6(_)) => {
            push_ip(line.key("c6a2"), ip);
            line.pair("c6a2Label", "Source IPv6 Address");
        }
        None => {}
    }
    if let Some(port) = event.remote_port {
        push_number(line.key("spt"), port);
    }
    push_cef_value(line.key("act"), &event.event_action);
    push_cef_value(line.key("outcome"), row.outcome.ecs());
    let long = long_id(event);
    push_external_id(line.key("externalId"), &event.event_id, long);
    if long {
        push_cef_value(line.key("cs6"), &event.event_id);
        line.pair("cs6Label", "eventId");
    }
    if let Some(job) = &event.qualified_job_name {
        push_cef_value(line.key("dproc"), job);
    }
    // cn1 is a signed 64-bit long: a sequence number above 2^63 - 1 (IBM i
    // allows up to 2^64 - 1) is left out; the event id still carries it.
    if let Ok(sequence) = i64::try_from(event.sequence_number) {
        push_number(line.key("cn1"), sequence);
        line.pair("cn1Label", "sequence");
    }
    push_cef_value(line.key("cat"), event.audit_type.unwrap_or("AUDITFWD"));
    line.optional(const { slot(CEF_DROP_ORDER, "duser") }, |line| {
        if let Some(user) = target.or(effective) {
            push_cef_value(line.key("duser"), user);
        }
    });
    line.optional(const { slot(CEF_DROP_ORDER, "cs1") }, |line| {
        if !event.connection_method.is_empty() {
            push_cef_value(line.key("cs1"), &event.connection_method);
            line.pair("cs1Label", "connectionMethod");
        }
    });
    line.optional(const { slot(CEF_DROP_ORDER, "cs2") }, |line| {
        if !event.connection_type.is_empty() {
            push_cef_value(line.key("cs2"), &event.connection_type);
            line.pair("cs2Label", "connectionType");
        }
    });
    line.optional(const { slot(CEF_DROP_ORDER, "cs3") }, |line| {
        push_receiver(line.key("cs3"), event, push_cef_value);
        line.pair("cs3Label", "receiver");
    });
    line.optional(const { slot(CEF_DROP_ORDER, "cs4") }, |line| {
        if let Some(job_type) = &event.job_type {
            push_cef_value(line.key("cs4"), job_type);
            line.pair("cs4Label", "jobType");
        }
    });
    line.pair("cs5", bool_text(event.privileged));
    line.pair("cs5Label", "privileged");
    if let (None, Some(address)) = (ip, &event.remote_address) {
        push_cef_value(line.key("shost"), address);
    }
    line.optional(const { slot(CEF_DROP_ORDER, "msg") }, |line| {
        if let Some(message) = event
            .message
            .as_deref()
            .or(event.entry_type_detail.as_deref())
        {
            push_cef_value(line.key("msg"), message);
        }
    });
    line.optional
}

mod ibm;
mod leef;
#[cfg(test)]
use ibm::ibm_severity;
pub use ibm::{cef_ibm, write_cef_ibm, CEF_IBM_DROP_ORDER};
pub use leef::{leef, write_leef};

/// Test helper for every parser of our CEF and LEEF text: undoes backslash
/// escapes (`\n`, `\r`, `\t`, and `\x` for any other `x`).
#[cfg(test)]
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
