//! The writers against the implementation they replaced (a `String` per
//! value, `format!` and `join`), kept here as the oracle: for hostile text in
//! every field, every line and every drop count is the same, byte for byte.

use std::borrow::Cow;

use proptest::prelude::*;

use super::*;
use crate::event::audit::Value;
use crate::format::Format;

/// The CEF and LEEF encoders as they were before they wrote into one buffer.
mod old {
    use super::super::{
        ibm_severity, is_unescapable, CEF_DROP_ORDER, CEF_EXTERNAL_ID_MAX, CEF_IBM_DROP_ORDER,
        LEEF_DELIMITER, LEEF_DEV_TIME_FORMAT, LEEF_DROP_ORDER,
    };
    use crate::event::Event;
    use crate::format::mapping;

    /// `mapping::event_id` as it was.
    pub(super) fn event_id(event: &Event) -> String {
        match (event.audit_type, &event.code, &event.entry_type) {
            _ if event.signal.is_some()
                || event.session.is_some()
                || event.audit_type.is_none() =>
            {
                event.event_action.to_uppercase()
            }
            (Some("JS"), _, Some(code)) => format!("JS_{code}"),
            (Some(kind), Some(code), _) => format!("{kind}_{code}"),
            (Some(kind), None, _) => kind.to_owned(),
            _ => event.event_action.to_uppercase(),
        }
    }

    /// `mapping::event_name` as it was.
    pub(super) fn event_name(event: &Event) -> String {
        if let Some(detail) = &event.entry_type_detail {
            return detail.to_string();
        }
        if event.audit_type == Some("JS") {
            if let Some(description) = crate::enrich::classify::entry_type_description(event.code())
            {
                return description.to_owned();
            }
        }
        if event.code_label.is_empty() {
            event.event_action.to_string()
        } else {
            event.code_label.to_string()
        }
    }

    /// Escapes a CEF header field: `\` and `|`; a line end or any other control
    /// character (which a header cannot escape) becomes a space.
    pub(super) fn cef_header(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            match c {
                '\\' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                c if is_unescapable(c) => out.push(' '),
                c => out.push(c),
            }
        }
        out
    }

    /// CEF extension value escaping: `\`, `=`, and line ends as `\n` and `\r`;
    /// any other control character (tab, NUL, ...) becomes a space.
    pub(super) fn cef_value(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 4);
        for c in text.chars() {
            match c {
                '\\' | '=' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if is_unescapable(c) => out.push(' '),
                c => out.push(c),
            }
        }
        out
    }

    /// A LEEF attribute value. LEEF has no escapes (QRadar shows a backslash as
    /// it is written), so a value is kept as it is but for the tab delimiter, line
    /// ends and other control characters, each replaced by a space.
    pub(super) fn leef_value(text: &str) -> String {
        text.chars()
            .map(|c| if is_unescapable(c) { ' ' } else { c })
            .collect()
    }

    /// A LEEF header field: `|` cannot be escaped there, so it becomes `_`;
    /// control characters become spaces.
    pub(super) fn leef_header(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '|' => '_',
                c if is_unescapable(c) => ' ',
                c => c,
            })
            .collect()
    }

    fn external_id(event_id: &str) -> String {
        if event_id.chars().count() <= CEF_EXTERNAL_ID_MAX {
            return event_id.to_owned();
        }
        // FNV-1a, 64 bits, twice (two offsets): stable across releases and hosts.
        let fnv = |offset: u64| {
            event_id.bytes().fold(offset, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        format!(
            "af-{:016x}{:016x}",
            fnv(0xcbf2_9ce4_8422_2325),
            fnv(0x6c62_272e_07bb_0142)
        )
    }

    /// The entry's time as IBM's generator writes `rt` (`2026-04-08-10.15.30.123456`, UTC).
    fn ibm_time(event: &Event) -> String {
        event
            .entry_timestamp
            .format("%Y-%m-%d-%H.%M.%S%.6f")
            .to_string()
    }

    /// The CEF line of `event` in IBM i's own layout:
    /// `CEF:0|IBM|IBM i|<release>|QSYS-QAUDJRN|T-<type>|<severity word>|reason=<type>
    /// msg=<meaning> fileType= cs1Label=objName cs1= suser= sproc= shost= src= spt=
    /// evtAggregation=*NO entryTypeField=<code>`, then auditfwd's keys (`rt` in IBM's
    /// form, `externalId`, `act`, `duser`, `cs3` receiver, `cs4` connection method,
    /// `cn1` sequence).
    pub(super) fn cef_ibm(event: &Event, release: &str, dropped: usize) -> String {
        let drop = &CEF_IBM_DROP_ORDER[..dropped.min(CEF_IBM_DROP_ORDER.len())];
        let (actor, effective, target) = crate::format::users(event);
        let journal_entry = event.audit_type.is_some() && event.signal.is_none();
        let (class, name) = match event.audit_type {
            Some(kind) if journal_entry => ("QSYS-QAUDJRN".to_owned(), format!("T-{kind}")),
            _ => ("AUDITFWD".to_owned(), event.event_action.to_uppercase()),
        };
        let reason = event
            .audit_type
            .and_then(crate::event::audit::TypeSpec::find)
            .map(|spec| spec.name.to_owned())
            .filter(|_| journal_entry)
            .unwrap_or_else(|| event.event_action.replace('_', " "));
        let detail = |column: &str| {
            event
                .details
                .as_ref()
                .and_then(|details| details.text(column))
                .map(str::to_owned)
        };
        let object = match (
            detail("OBJECT_LIBRARY").or(detail("LIBRARY_NAME")),
            detail("OBJECT_NAME"),
        ) {
            (Some(library), Some(name)) => Some(format!("{library}/{name}")),
            (None, Some(name)) => Some(name),
            _ => detail("PATH_NAME"),
        };
        let ip = crate::format::remote_ip(event);
        let mut extensions: Vec<(&str, Option<String>)> = vec![
            ("reason", Some(reason)),
            (
                "msg",
                Some(event.message.clone().unwrap_or_else(|| event_name(event))),
            ),
            ("fileType", detail("OBJECT_TYPE")),
            ("cs1Label", object.as_ref().map(|_| "objName".to_owned())),
            ("cs1", object),
            ("suser", actor.map(str::to_owned)),
            (
                "sproc",
                event.qualified_job_name.as_deref().map(str::to_owned),
            ),
            ("shost", Some(event.system_name.to_string())),
            ("src", ip.map(|ip| ip.to_string())),
            ("spt", event.remote_port.map(|port| port.to_string())),
            ("evtAggregation", Some("*NO".to_owned())),
            ("entryTypeField", event.code().map(str::to_owned)),
            // auditfwd's additions, in keys the IBM i parsers ignore.
            ("rt", Some(ibm_time(event))),
            ("externalId", Some(external_id(&event.event_id))),
            ("act", Some(event.event_action.to_string())),
            ("duser", target.or(effective).map(str::to_owned)),
            ("cs3Label", Some("receiver".to_owned())),
            (
                "cs3",
                Some(format!(
                    "{}/{}",
                    event.receiver_library, event.receiver_name
                )),
            ),
            (
                "cs4Label",
                crate::format::non_empty_method(event)
                    .map(str::to_owned)
                    .map(|_| "connectionMethod".to_owned()),
            ),
            (
                "cs4",
                crate::format::non_empty_method(event).map(str::to_owned),
            ),
            (
                "cn1Label",
                i64::try_from(event.sequence_number)
                    .ok()
                    .map(|_| "sequence".to_owned()),
            ),
            (
                "cn1",
                i64::try_from(event.sequence_number)
                    .ok()
                    .map(|sequence| sequence.to_string()),
            ),
        ];
        if event.event_id.chars().count() > CEF_EXTERNAL_ID_MAX {
            extensions.push(("cs6Label", Some("eventId".to_owned())));
            extensions.push(("cs6", Some(event.event_id.clone())));
        }
        let text = extensions
            .into_iter()
            .filter(|(key, value)| {
                value.is_some()
                    && !drop
                        .iter()
                        .any(|dropped| key == dropped || key.strip_suffix("Label") == Some(dropped))
            })
            .map(|(key, value)| format!("{key}={}", cef_value(&value.unwrap_or_default())))
            .collect::<Vec<_>>()
            .join(" ");
        // An empty header field stops some parsers (pycef among them): without a
        // configured release the field says so.
        let release = if release.trim().is_empty() {
            "unknown"
        } else {
            release.trim()
        };
        format!(
            "CEF:0|IBM|IBM i|{}|{}|{}|{}|{text}",
            cef_header(release),
            cef_header(&class),
            cef_header(&name),
            ibm_severity(event),
        )
    }

    /// Milliseconds since the epoch of the entry, as CEF `rt` wants.
    fn epoch_millis(event: &Event) -> i64 {
        event.entry_timestamp.timestamp_millis()
    }

    fn non_empty(text: &str) -> Option<String> {
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The CEF line of `event`.
    pub(super) fn cef(event: &Event, dropped: usize) -> String {
        let drop = &CEF_DROP_ORDER[..dropped.min(CEF_DROP_ORDER.len())];
        let row = mapping::lookup(event);
        let (actor, effective, target) = crate::format::users(event);
        let mut extensions: Vec<(&str, String)> = vec![
            ("rt", epoch_millis(event).to_string()),
            ("dvchost", event.system_name.to_string()),
        ];
        let mut optional = |key: &'static str, value: Option<String>| {
            if let Some(value) = value {
                extensions.push((key, value));
            }
        };
        optional("suser", actor.map(str::to_owned));
        // `src` is IPv4 in CEF's dictionary; an IPv6 address goes in c6a2.
        let ip = crate::format::remote_ip(event);
        optional(
            "src",
            ip.filter(std::net::IpAddr::is_ipv4)
                .map(|ip| ip.to_string()),
        );
        optional(
            "c6a2",
            ip.filter(std::net::IpAddr::is_ipv6)
                .map(|ip| ip.to_string()),
        );
        optional(
            "c6a2Label",
            ip.filter(std::net::IpAddr::is_ipv6)
                .map(|_| "Source IPv6 Address".to_owned()),
        );
        optional("spt", event.remote_port.map(|port| port.to_string()));
        optional("act", Some(event.event_action.to_string()));
        optional("outcome", Some(row.outcome.ecs().to_owned()));
        optional("externalId", Some(external_id(&event.event_id)));
        let long_id = event.event_id.chars().count() > CEF_EXTERNAL_ID_MAX;
        optional("cs6", long_id.then(|| event.event_id.clone()));
        optional("cs6Label", long_id.then(|| "eventId".to_owned()));
        optional(
            "dproc",
            event.qualified_job_name.as_deref().map(str::to_owned),
        );
        // cn1 is a signed 64-bit long: a sequence number above 2^63 - 1 (IBM i
        // allows up to 2^64 - 1) is left out; the event id still carries it.
        let sequence_fits = i64::try_from(event.sequence_number).is_ok();
        optional(
            "cn1",
            sequence_fits.then(|| event.sequence_number.to_string()),
        );
        optional("cn1Label", sequence_fits.then(|| "sequence".into()));
        optional(
            "cat",
            Some(event.audit_type.unwrap_or("AUDITFWD").to_owned()),
        );
        optional("duser", target.or(effective).map(str::to_owned));
        optional("cs1", non_empty(&event.connection_method));
        optional(
            "cs1Label",
            non_empty(&event.connection_method).map(|_| "connectionMethod".into()),
        );
        optional("cs2", non_empty(&event.connection_type));
        optional(
            "cs2Label",
            non_empty(&event.connection_type).map(|_| "connectionType".into()),
        );
        optional(
            "cs3",
            Some(format!(
                "{}/{}",
                event.receiver_library, event.receiver_name
            )),
        );
        optional("cs3Label", Some("receiver".into()));
        optional("cs4", event.job_type.as_deref().map(str::to_owned));
        optional(
            "cs4Label",
            event.job_type.as_ref().map(|_| "jobType".into()),
        );
        optional("cs5", Some(event.privileged.to_string()));
        optional("cs5Label", Some("privileged".into()));
        optional(
            "shost",
            event
                .remote_address
                .as_deref()
                .map(str::to_owned)
                .filter(|_| crate::format::remote_ip(event).is_none()),
        );
        optional(
            "msg",
            event
                .message
                .clone()
                .or_else(|| event.entry_type_detail.as_deref().map(str::to_owned)),
        );
        extensions.retain(|(key, _)| {
            !drop
                .iter()
                .any(|dropped| key == dropped || key.strip_suffix("Label") == Some(dropped))
        });
        format!(
            "CEF:0|auditfwd|auditfwd|{}|{}|{}|{}|{}",
            env!("CARGO_PKG_VERSION"),
            cef_header(&event_id(event)),
            cef_header(&event_name(event)),
            crate::format::severity_0_10(event.severity),
            extensions
                .iter()
                .map(|(key, value)| format!("{key}={}", cef_value(value)))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }

    /// The LEEF 2.0 line of `event`: tab-separated attributes, `devTime` with
    /// its `devTimeFormat`.
    pub(super) fn leef(event: &Event, dropped: usize) -> String {
        let drop = &LEEF_DROP_ORDER[..dropped.min(LEEF_DROP_ORDER.len())];
        let row = mapping::lookup(event);
        let (actor, effective, target) = crate::format::users(event);
        let attributes: Vec<(&str, Option<String>)> = vec![
            (
                "devTime",
                Some(
                    event
                        .entry_timestamp
                        .format("%b %d %Y %H:%M:%S%.3f UTC")
                        .to_string(),
                ),
            ),
            ("devTimeFormat", Some(LEEF_DEV_TIME_FORMAT.to_owned())),
            ("cat", Some(event.event_action.to_string())),
            (
                "sev",
                Some(crate::format::severity_0_10(event.severity).to_string()),
            ),
            ("identHostName", Some(event.system_name.to_string())),
            ("usrName", actor.map(str::to_owned)),
            ("accountName", target.map(str::to_owned)),
            (
                "src",
                crate::format::remote_ip(event).map(|ip| ip.to_string()),
            ),
            ("srcPort", event.remote_port.map(|port| port.to_string())),
            ("outcome", Some(row.outcome.ecs().to_owned())),
            ("eventId", Some(event.event_id.clone())),
            ("auditType", event.audit_type.map(str::to_owned)),
            (
                "jobName",
                event.qualified_job_name.as_deref().map(str::to_owned),
            ),
            ("sequence", Some(event.sequence_number.to_string())),
            ("privileged", Some(event.privileged.to_string())),
            ("effectiveUser", effective.map(str::to_owned)),
            ("connectionMethod", non_empty(&event.connection_method)),
            ("connectionType", non_empty(&event.connection_type)),
            (
                "receiver",
                Some(format!(
                    "{}/{}",
                    event.receiver_library, event.receiver_name
                )),
            ),
            ("jobType", event.job_type.as_deref().map(str::to_owned)),
            (
                "remoteAddress",
                event
                    .remote_address
                    .as_deref()
                    .map(str::to_owned)
                    .filter(|_| crate::format::remote_ip(event).is_none()),
            ),
            (
                "msg",
                event
                    .message
                    .clone()
                    .or_else(|| event.entry_type_detail.as_deref().map(str::to_owned)),
            ),
        ];
        let pairs: Vec<String> = attributes
            .into_iter()
            .filter(|(key, value)| value.is_some() && !drop.contains(key))
            .map(|(key, value)| format!("{key}={}", leef_value(&value.unwrap_or_default())))
            .collect();
        format!(
            "LEEF:2.0|auditfwd|auditfwd|{}|{}|x09|{}",
            env!("CARGO_PKG_VERSION"),
            leef_header(&event_id(event)),
            pairs.join(&LEEF_DELIMITER.to_string())
        )
    }
}

/// Text an audited system can put in a column: C0 and C1 controls, DEL, line
/// and paragraph separators, the formats' delimiters and escapes, letters
/// whose upper case is longer (ß, ﬀ), any printable text, and plain ids
/// around `externalId`'s 40 characters.
pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\x00-\\x1f\\x7f\\x{80}-\\x{9f}\\x{2028}\\x{2029}|=\\\\\t\r\n _^\"\\]aZé€ßﬀ\u{fffd}]{0,40}",
        "\\PC{0,40}",
        "[a-z0-9/._:-]{36,46}",
        Just(String::new()),
    ]
}

/// A remote address: hostile text, or IPv4 and IPv6 in the forms IBM i may
/// report (padded, mapped, compressed).
fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_text(),
        Just("192.0.2.9".to_owned()),
        Just(" 10.1.2.3 ".to_owned()),
        Just("2001:DB8::0:1".to_owned()),
        Just("::ffff:192.0.2.1".to_owned()),
        Just("fe80::1%eth0".to_owned()),
    ]
}

/// What replaces an event's fields.
#[derive(Clone, Debug)]
pub(crate) struct Hostile {
    texts: Vec<String>,
    address: String,
    /// Bit `n` set: the `n`th optional field is absent.
    absent: u32,
    sequence: u64,
    port: Option<u32>,
    seconds: i64,
    nanos: u32,
    leap: bool,
    privileged: bool,
    release: String,
}

pub(crate) fn hostile() -> impl Strategy<Value = Hostile> {
    (
        prop::collection::vec(hostile_text(), 24),
        address(),
        any::<u32>(),
        prop_oneof![any::<u64>(), 0u64..1000],
        any::<Option<u32>>(),
        // Years from before 0 to after 9999, where the fast time text stops.
        -70_000_000_000i64..320_000_000_000,
        0u32..1_000_000_000,
        any::<bool>(),
        any::<bool>(),
        prop_oneof![hostile_text(), Just("7.5".to_owned())],
    )
        .prop_map(
            |(
                texts,
                address,
                absent,
                sequence,
                port,
                seconds,
                nanos,
                leap,
                privileged,
                release,
            )| {
                Hostile {
                    texts,
                    address,
                    absent,
                    sequence,
                    port,
                    seconds,
                    nanos,
                    leap,
                    privileged,
                    release,
                }
            },
        )
}

/// `base` with every text field from `hostile`.
pub(crate) fn apply(base: &crate::event::Event, hostile: &Hostile) -> crate::event::Event {
    let mut event = base.clone();
    let text = |at: usize| hostile.texts[at].clone();
    let optional = |at: usize| (hostile.absent & (1 << at) == 0).then(|| text(at));
    event.system_name = text(0).into();
    event.receiver_library = text(1).into();
    event.receiver_name = text(2).into();
    event.event_id = text(3);
    event.event_action = Cow::Owned(text(4));
    event.code_label = Cow::Owned(text(5));
    event.connection_method = Cow::Owned(match hostile.absent >> 28 {
        0 => "unknown".to_owned(),
        1 => String::new(),
        _ => text(6),
    });
    event.connection_type = Cow::Owned(text(7));
    let optional_text = |at: usize| optional(at).map(crate::event::Text::from);
    event.user_name = optional_text(8);
    event.real_user_profile = optional_text(9);
    event.effective_user_profile = optional_text(10);
    event.target_user = optional_text(11);
    event.qualified_job_name = optional_text(12);
    event.job_type = optional_text(13);
    event.entry_type_detail = optional_text(14);
    event.message = optional(15);
    event.code = optional_text(16);
    event.entry_type = optional_text(17);
    event.remote_address =
        (hostile.absent & (1 << 18) == 0).then(|| hostile.address.as_str().into());
    if hostile.absent & (1 << 19) != 0 {
        event.audit_type = None;
    }
    if let Some(details) = event.details.as_mut() {
        for (at, value) in details.values.iter_mut().enumerate() {
            if matches!(value, Value::Text(_)) {
                *value = Value::Text(text(20 + at % 4).into());
            }
        }
    }
    // A leap second (nanoseconds past 10^9) is only valid at :59.
    let (seconds, nanos) = if hostile.leap {
        (
            hostile.seconds - hostile.seconds.rem_euclid(60) + 59,
            hostile.nanos + 1_000_000_000,
        )
    } else {
        (hostile.seconds, hostile.nanos)
    };
    if let Some(time) = chrono::DateTime::from_timestamp(seconds, nanos) {
        event.entry_timestamp = time;
    }
    event.sequence_number = hostile.sequence;
    event.remote_port = hostile.port;
    event.privileged = hostile.privileged;
    event
}

pub(crate) fn every_kind_of_event() -> &'static [crate::event::Event] {
    static EVENTS: std::sync::OnceLock<Vec<crate::event::Event>> = std::sync::OnceLock::new();
    EVENTS.get_or_init(crate::format::tests::every_kind_of_event)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every escape gives what the `String` version gave.
    #[test]
    fn escapes_are_unchanged(text in hostile_text()) {
        prop_assert_eq!(cef_header(&text), old::cef_header(&text));
        prop_assert_eq!(cef_value(&text), old::cef_value(&text));
        prop_assert_eq!(leef_header(&text), old::leef_header(&text));
        prop_assert_eq!(leef_value(&text), old::leef_value(&text));
    }

    /// Every kind of event with hostile text in its fields: each dialect and
    /// drop count gives the old bytes, and `format::write` appends them after
    /// what its buffer holds.
    #[test]
    fn lines_are_unchanged(pick in 0usize..1000, hostile in hostile()) {
        let events = every_kind_of_event();
        let event = apply(&events[pick % events.len()], &hostile);
        prop_assert_eq!(mapping::event_id(&event), old::event_id(&event));
        prop_assert_eq!(mapping::event_name(&event), old::event_name(&event));
        for dropped in 0..=MOST_OPTIONAL + 1 {
            prop_assert_eq!(cef(&event, dropped), old::cef(&event, dropped));
            prop_assert_eq!(
                cef_ibm(&event, &hostile.release, dropped),
                old::cef_ibm(&event, &hostile.release, dropped)
            );
            prop_assert_eq!(leef(&event, dropped), old::leef(&event, dropped));
        }
        for (format, line) in [
            (Format::Cef, old::cef(&event, 0)),
            (Format::Leef, old::leef(&event, 0)),
        ] {
            let mut out = b"before\n".to_vec();
            crate::format::write(&event, format, &mut out);
            prop_assert_eq!(out, format!("before\n{line}").into_bytes());
        }
    }
}

/// The fast time layouts against chrono's at the edges: a leap second, the
/// years 0 and 9999, and past them (chrono writes those).
#[test]
fn times_at_the_edges_are_unchanged() {
    let base = &every_kind_of_event()[0];
    let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
        .unwrap()
        .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
        .unwrap()
        .and_utc();
    let times = [
        leap,
        chrono::DateTime::from_timestamp(-62_167_219_200, 999_999_999).unwrap(),
        chrono::DateTime::from_timestamp(253_402_300_799, 123_456_789).unwrap(),
        chrono::DateTime::from_timestamp(253_402_300_800, 0).unwrap(),
        chrono::DateTime::from_timestamp(-62_167_219_201, 0).unwrap(),
    ];
    for time in times {
        let mut event = base.clone();
        event.entry_timestamp = time;
        assert_eq!(leef(&event, 0), old::leef(&event, 0), "{time:?}");
        assert_eq!(
            cef_ibm(&event, "7.5", 0),
            old::cef_ibm(&event, "7.5", 0),
            "{time:?}"
        );
        assert_eq!(cef(&event, 0), old::cef(&event, 0), "{time:?}");
    }
}
