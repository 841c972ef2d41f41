//! Syslog messages: RFC 5424 and RFC 3164 headers, STRUCTURED-DATA, and the
//! body in the sink's format (native, ECS or OCSF JSON, CEF, LEEF: the
//! formats live in `crate::format`). Pure; the transport frames and sends.
//!
//! Oversize messages are never cut. Optional items are dropped, in the order of
//! [`JSON_DROP_ORDER`], [`CEF_DROP_ORDER`] / [`LEEF_DROP_ORDER`] and then
//! [`SD_DROP_ORDER`], until the message fits; a message that still does not fit
//! is sent whole and counted.

use super::config::{SyslogProtocol, SyslogSinkConfig};
use crate::event::{Event, Severity};
use crate::format::Format;

/// JSON body fields dropped first when a message is too large, in this order.
pub const JSON_DROP_ORDER: &[&str] = &[
    "target_qualified_job_name",
    "program_library",
    "program_name",
    "device_name",
    "entry_type_detail",
    "job_subtype",
    "entry_timestamp_local",
    "effective_user_profile",
    "user_name",
    "job_user",
    "job_number",
    "job_name",
    "connection_type",
    // Schema v2's envelope repeats what the `js` block or the MSGID says.
    "target_user",
    "code_label",
    "job_event_type",
    "effective_user",
    "job_type",
    "connection_secure",
];

pub use crate::format::cef::{
    cef_header, cef_value, leef_header, leef_value, CEF_DROP_ORDER, LEEF_DROP_ORDER,
};
/// STRUCTURED-DATA parameters dropped last, in this order.
pub const SD_DROP_ORDER: &[&str] = &[
    "effective_user",
    "remote_port",
    "severity",
    "method",
    "remote_address",
    "job",
];

/// The syslog facilities by code (RFC 5424 table 1).
pub const FACILITY_NAMES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// The numeric syslog facility of a name (RFC 5424 table 1).
pub fn facility_code(name: &str) -> Option<u8> {
    FACILITY_NAMES
        .iter()
        .position(|known| known.eq_ignore_ascii_case(name))
        .map(|code| code as u8)
}

/// Syslog severity of an event: critical 2, high 3 (error), medium 4, low 5, info 6.
pub fn syslog_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// MSGID: `<type>_<code>` (`JS_S`, `PW_P`, `CP_CHG`), `<type>` alone when
/// the entry has no code, or the action for a synthetic event or a signal
/// (RFC 5424: 1-32 printable).
pub fn msgid(event: &Event) -> String {
    printable(&crate::format::mapping::event_id(event), 32)
}

/// Keeps printable US-ASCII (33-126), at most `limit` characters; "-" when empty.
fn printable(text: &str, limit: usize) -> String {
    let kept: String = text
        .chars()
        .filter(|c| ('!'..='~').contains(c))
        .take(limit)
        .collect();
    if kept.is_empty() {
        "-".into()
    } else {
        kept
    }
}

/// Escapes an SD-PARAM value: `"`, `\` and `]` get a backslash (RFC 5424 6.3.3).
pub fn escape_sd_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An optional text field as the parameter's own `String`.
fn owned(value: &Option<crate::event::Text>) -> Option<String> {
    value.as_deref().map(str::to_owned)
}

fn sd_params(event: &Event) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("event_id", Some(event.event_id.clone())),
        ("seq", Some(event.sequence_number.to_string())),
        (
            "receiver",
            Some(format!(
                "{}/{}",
                event.receiver_library, event.receiver_name
            )),
        ),
        ("action", Some(event.event_action.to_string())),
        ("user", owned(&event.real_user_profile)),
        ("effective_user", owned(&event.effective_user_profile)),
        ("job", owned(&event.qualified_job_name)),
        ("method", Some(event.connection_method.to_string())),
        ("remote_address", owned(&event.remote_address)),
        (
            "remote_port",
            event.remote_port.map(|port| port.to_string()),
        ),
        (
            "severity",
            Some(format!("{:?}", event.severity).to_lowercase()),
        ),
        ("privileged", Some(event.privileged.to_string())),
    ];
    params.retain(|(_, value)| value.is_some());
    params
        .into_iter()
        .map(|(name, value)| (name, value.unwrap_or_default()))
        .collect()
}

fn structured_data(event: &Event, sd_id: &str, dropped: usize) -> String {
    let drop: &[&str] = &SD_DROP_ORDER[..dropped.min(SD_DROP_ORDER.len())];
    let mut out = format!("[{sd_id}");
    for (name, value) in sd_params(event) {
        if !drop.contains(&name) {
            out.push_str(&format!(" {name}=\"{}\"", escape_sd_value(&value)));
        }
    }
    out.push(']');
    out
}

fn json_body(event: &Event, dropped: usize) -> String {
    let mut value = serde_json::to_value(event).expect("events serialise");
    if let Some(object) = value.as_object_mut() {
        for key in &JSON_DROP_ORDER[..dropped.min(JSON_DROP_ORDER.len())] {
            // v1 has the field at the top; v2 has JS's own fields in its `js` block.
            if object.remove(*key).is_none() {
                if let Some(block) = object.get_mut("js").and_then(|js| js.as_object_mut()) {
                    block.remove(*key);
                }
            }
        }
    }
    value.to_string()
}

/// The body of `event` in the sink's format, encoded once for every try at
/// fitting the message.
enum Body {
    /// Native JSON: its optional fields are taken out of a tree per try.
    Native,
    /// ECS or OCSF JSON: nothing to drop.
    Whole(String),
    /// A CEF or LEEF line and where its optional items are: a try cuts them
    /// out instead of writing the line again.
    Line(Vec<u8>, crate::format::cef::Optional),
}

impl Body {
    fn new(event: &Event, config: &SyslogSinkConfig) -> Body {
        use crate::format::cef;
        match config.format() {
            Format::Native => Body::Native,
            format @ (Format::Ecs | Format::Ocsf) => Body::Whole(
                String::from_utf8(crate::format::encode(event, format)).expect("JSON is UTF-8"),
            ),
            format @ (Format::Cef | Format::Leef) => {
                let mut out = Vec::with_capacity(1024);
                let optional = match (format, config.cef_dialect) {
                    (Format::Leef, _) => cef::write_leef(event, &mut out),
                    (_, cef::CefDialect::Ibm) => {
                        cef::write_cef_ibm(event, &config.ibm_release, &mut out)
                    }
                    (_, cef::CefDialect::Auditfwd) => cef::write_cef(event, &mut out),
                };
                Body::Line(out, optional)
            }
        }
    }

    /// The body with `dropped` optional items left out.
    fn text(&self, event: &Event, dropped: usize) -> std::borrow::Cow<'_, str> {
        match self {
            Body::Native => json_body(event, dropped).into(),
            Body::Whole(text) => text.as_str().into(),
            Body::Line(line, optional) => {
                let mut line = line.clone();
                optional.remove(&mut line, dropped);
                String::from_utf8(line)
                    .expect("CEF and LEEF are UTF-8")
                    .into()
            }
        }
    }
}

fn body_drop_count(config: &SyslogSinkConfig) -> usize {
    match config.format() {
        Format::Native => JSON_DROP_ORDER.len(),
        Format::Ecs | Format::Ocsf => 0,
        Format::Cef if config.cef_dialect == crate::format::cef::CefDialect::Ibm => {
            crate::format::cef::CEF_IBM_DROP_ORDER.len()
        }
        Format::Cef => CEF_DROP_ORDER.len(),
        Format::Leef => LEEF_DROP_ORDER.len(),
    }
}

/// One whole message (without framing); `dropped` counts optional items left out.
fn render(
    event: &Event,
    config: &SyslogSinkConfig,
    facility: u8,
    body: &Body,
    dropped: usize,
) -> String {
    let pri = u16::from(facility) * 8 + u16::from(syslog_severity(event.severity));
    let body_drops = body_drop_count(config);
    let message = body.text(event, dropped.min(body_drops));
    let app = printable(&config.app_name, 48);
    let procid = printable(event.job_number.as_deref().unwrap_or("-"), 128);
    match config.protocol {
        SyslogProtocol::Rfc5424 => {
            let sd = structured_data(event, &config.sd_id, dropped.saturating_sub(body_drops));
            format!(
                "<{pri}>1 {} {} {app} {procid} {} {sd} {message}",
                crate::event::format_utc(&event.entry_timestamp),
                printable(&event.system_name, 255),
                msgid(event)
            )
        }
        SyslogProtocol::Rfc3164 => {
            let timestamp = event.entry_timestamp.format("%b %e %H:%M:%S").to_string();
            let tag: String = app.chars().take(32).collect();
            format!(
                "<{pri}>{timestamp} {} {tag}[{procid}]: {message}",
                printable(&event.system_name, 255)
            )
        }
    }
}

/// The message for `event`, trimmed of optional items until it fits in
/// `max_message_bytes`; `true` when something was dropped or it still does not fit.
pub fn message(event: &Event, config: &SyslogSinkConfig, facility: u8) -> (String, bool) {
    let most = body_drop_count(config) + SD_DROP_ORDER.len();
    let body = Body::new(event, config);
    let mut dropped = 0;
    loop {
        let text = render(event, config, facility, &body, dropped);
        if text.len() <= config.max_message_bytes || dropped >= most {
            return (text, dropped > 0);
        }
        dropped += 1;
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod nasty_values {
    use super::super::config::SyslogBody;
    use super::*;
    use crate::enrich::tests::row;
    use crate::enrich::Enricher;

    use crate::format::cef::unescape;

    /// Like `split`, into at most `limit` parts (the last keeps the rest).
    fn split_at_most(text: &str, separator: char, limit: usize) -> Vec<String> {
        let mut parts = vec![String::new()];
        let mut escaped = false;
        for c in text.chars() {
            if !escaped && c == separator && parts.len() < limit {
                parts.push(String::new());
                continue;
            }
            escaped = !escaped && c == '\\';
            parts.last_mut().unwrap().push(c);
        }
        parts
    }

    const NASTY: &str = "Jö|h=n\\ \"Ä]\nX^y\r✓";

    fn nasty_event() -> Event {
        let mut row = row("S", "INT", "QPADEV0001", Some("JSMITH"));
        row.real_user_profile = Some(NASTY.into());
        row.qualified_job_name = Some(format!("123456/{NASTY}/QPADEV0001").into());
        Enricher::default().enrich(&row)
    }

    #[test]
    fn cef_round_trips_pipes_equals_backslashes_newlines_and_non_ascii() {
        let config = SyslogSinkConfig {
            body: SyslogBody::Cef,
            ..SyslogSinkConfig::default()
        };
        let (text, _) = message(&nasty_event(), &config, 4);
        let body = text.split_once("] ").unwrap().1;
        assert!(
            !body.contains('\n') && !body.contains('\r'),
            "no raw line ends: {body}"
        );
        // Pipes need escaping in the header only; the extension is the 8th part.
        let header = split_at_most(body, '|', 8);
        assert_eq!(header.len(), 8, "{body}");
        assert_eq!(
            &header[..7],
            [
                "CEF:0",
                "auditfwd",
                "auditfwd",
                env!("CARGO_PKG_VERSION"),
                "JS_S",
                "Job started",
                "1"
            ]
        );
        // Extensions: a value runs to the next unescaped ` key=`.
        let extensions = &header[7];
        let suser = extensions
            .split(" suser=")
            .nth(1)
            .unwrap()
            .split(" act=")
            .next()
            .unwrap();
        assert_eq!(unescape(suser), NASTY);
        let dproc = extensions
            .split(" dproc=")
            .nth(1)
            .unwrap()
            .split(" cn1=")
            .next()
            .unwrap();
        assert_eq!(unescape(dproc), format!("123456/{NASTY}/QPADEV0001"));
        assert!(
            !suser.contains("=") || suser.contains("\\="),
            "= is escaped in values"
        );
    }

    #[test]
    fn leef_round_trips_the_delimiter_backslashes_newlines_and_non_ascii() {
        let config = SyslogSinkConfig {
            body: SyslogBody::Leef,
            ..SyslogSinkConfig::default()
        };
        let (text, _) = message(&nasty_event(), &config, 4);
        let body = text.split_once("] ").unwrap().1;
        assert!(
            !body.contains('\n') && !body.contains('\r'),
            "no raw line ends: {body}"
        );
        let header = split_at_most(body, '|', 7);
        assert_eq!(
            &header[..6],
            [
                "LEEF:2.0",
                "auditfwd",
                "auditfwd",
                env!("CARGO_PKG_VERSION"),
                "JS_S",
                "x09"
            ]
        );
        // Tabs separate attributes; a value never holds a raw tab. LEEF has
        // no escapes: control characters arrive as spaces, the rest as is.
        let attributes: std::collections::HashMap<String, String> = header[6]
            .split('\t')
            .filter_map(|pair| {
                pair.split_once('=')
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
            })
            .collect();
        let shown: String = NASTY
            .chars()
            .map(|c| if crate::format::cef::is_unescapable(c) { ' ' } else { c })
            .collect();
        assert_eq!(attributes["usrName"], shown);
        assert_eq!(attributes["jobName"], format!("123456/{shown}/QPADEV0001"));
    }

    #[test]
    fn structured_data_round_trips_quotes_backslashes_and_brackets() {
        let (text, _) = message(&nasty_event(), &SyslogSinkConfig::default(), 4);
        let user = text.split(" user=\"").nth(1).unwrap();
        let mut value = String::new();
        let mut chars = user.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => value.push(chars.next().unwrap()),
                '"' => break,
                c => value.push(c),
            }
        }
        assert_eq!(value, NASTY);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        use crate::format::cef::unescape;

        /// Every `special` in `escaped` is preceded by an odd run of backslashes.
        fn specials_escaped(escaped: &str, special: char) -> bool {
            let chars: Vec<char> = escaped.chars().collect();
            chars.iter().enumerate().all(|(index, c)| {
                *c != special
                    || chars[..index]
                        .iter()
                        .rev()
                        .take_while(|c| **c == '\\')
                        .count()
                        % 2
                        == 1
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            #[test]
            fn sd_values_round_trip_and_escape_every_special(text in "\\PC{0,60}|[\\\\\\]\"a]{0,20}") {
                let escaped = escape_sd_value(&text);
                prop_assert_eq!(unescape(&escaped), text);
                for special in ['"', ']'] {
                    prop_assert!(specials_escaped(&escaped, special), "{}", escaped);
                }
            }

            #[test]
            fn cef_and_leef_values_round_trip_on_one_line(text in "\\PC{0,60}|[\\\\=^\\n\\r\\ta]{0,20}") {
                // Documented replacement: a control character other than the
                // line ends CEF escapes is a space.
                let spaced = |keep: &[char]| -> String {
                    text.chars()
                        .map(|c| if crate::format::cef::is_unescapable(c) && !keep.contains(&c) { ' ' } else { c })
                        .collect()
                };
                let escaped = cef_value(&text);
                prop_assert!(!escaped.chars().any(crate::format::cef::is_unescapable), "{:?}", escaped);
                prop_assert!(specials_escaped(&escaped, '='), "{:?}", escaped);
                prop_assert_eq!(unescape(&escaped), spaced(&['\n', '\r']));
                let escaped = leef_value(&text);
                prop_assert!(!escaped.chars().any(crate::format::cef::is_unescapable), "{:?}", escaped);
                prop_assert_eq!(escaped, spaced(&[]));
                let header = cef_header(&text);
                prop_assert!(specials_escaped(&header, '|'), "{:?}", header);
                prop_assert!(!leef_header(&text).contains('|'));
            }

            /// Whatever the journal's text fields hold, every body is one line,
            /// every message fits max_message_bytes (or says it trimmed), a printable
            /// RFC 5424 header, and (untrimmed JSON) the event back.
            #[test]
            fn messages_stay_one_bounded_line(
                job_name in "\\PC{0,40}|[\\n\\r\"\\]|=^\\\\ ]{0,20}",
                user in "\\PC{0,40}",
                address in "\\PC{0,40}",
                max_message_bytes in 480usize..2048,
            ) {
                let mut row = crate::enrich::tests::row("S", "INT", &job_name, Some(&user));
                row.remote_address = Some(address.into());
                row.qualified_job_name = Some(format!("123456/{user}/{job_name}").into());
                let event = Enricher::new(&crate::enrich::config::AlertsConfig::default()).enrich(&row);
                for body in [SyslogBody::Json, SyslogBody::Cef, SyslogBody::Leef] {
                    for protocol in [SyslogProtocol::Rfc5424, SyslogProtocol::Rfc3164] {
                        let config = SyslogSinkConfig { body, protocol, max_message_bytes, ..SyslogSinkConfig::default() };
                        let (text, trimmed) = message(&event, &config, 4);
                        // RFC 5424 SD values may hold line ends (octet counting
                        // carries them; LF framing blanks them in the transport);
                        // the bodies never do.
                        let whole_body = super::super::Body::new(&event, &config).text(&event, 0).into_owned();
                        prop_assert!(!whole_body.contains(['\n', '\r']), "{:?}", whole_body);
                        if protocol == SyslogProtocol::Rfc3164 {
                            prop_assert!(!text.contains(['\n', '\r']), "{:?}", text);
                        }
                        prop_assert!(text.len() <= max_message_bytes || trimmed, "{} > {}", text.len(), max_message_bytes);
                        if protocol == SyslogProtocol::Rfc5424 {
                            let header: Vec<&str> = text.splitn(7, ' ').collect();
                            prop_assert!(header[..6].iter().all(|field| !field.is_empty() && field.chars().all(|c| ('!'..='~').contains(&c))), "{:?}", text);
                        }
                        if !trimmed {
                            prop_assert!(text.ends_with(&whole_body), "{:?}", text);
                        }
                        if body == SyslogBody::Json {
                            let parsed: serde_json::Value = serde_json::from_str(&whole_body).unwrap();
                            prop_assert_eq!(&parsed["job_name"], &serde_json::json!(event.job_name));
                        }
                    }
                }
            }
        }
    }
}
