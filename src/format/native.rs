//! The native event (schema v1 or v2) written straight into the buffer: the
//! bytes `serde_json::to_writer(event)` gives through `Event`'s `Serialize`
//! (same members, same order, absent values as `null`), with the strings
//! copied whole when they hold nothing to escape instead of byte by byte.
//! `Serialize` stays the definition (replay, `EventBatch::to_ndjson`); a test
//! compares the two on every kind of event with hostile text.

use super::json::{write_str, write_utc};
use crate::event::{Event, SessionBlock, Severity, Signal, SCHEMA_VERSION_V1};

/// Members of an object in the order they are appended; nulls are written.
struct Fields<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Fields<'o> {
    fn open(out: &'o mut Vec<u8>) -> Fields<'o> {
        out.push(b'{');
        Fields { out, first: true }
    }

    fn close(self) {
        self.out.push(b'}');
    }

    /// `,"key":` (keys are ASCII names with nothing to escape).
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// `,"key":` for a key that may need escaping.
    fn escaped_key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        match value {
            Some(value) => write_str(self.out, value),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn u64(&mut self, key: &str, value: u64) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn opt_u64(&mut self, key: &str, value: Option<u64>) {
        match value {
            Some(value) => self.u64(key, value),
            None => self.null(key),
        }
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn opt_bool(&mut self, key: &str, value: Option<bool>) {
        match value {
            Some(value) => self.bool(key, value),
            None => self.null(key),
        }
    }

    fn null(&mut self, key: &str) {
        self.key(key);
        self.out.extend_from_slice(b"null");
    }

    fn utc(&mut self, key: &str, value: &chrono::DateTime<chrono::Utc>) {
        self.key(key);
        write_utc(self.out, value);
    }

    fn local(&mut self, key: &str, value: &chrono::NaiveDateTime) {
        self.key(key);
        match crate::event::micros_text(value, false) {
            Some(text) => super::json::write_plain(self.out, text.as_bytes()),
            None => write_str(self.out, &crate::event::format_local(value)),
        }
    }

    fn strs(&mut self, key: &str, items: &[String]) {
        self.key(key);
        self.out.push(b'[');
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            write_str(self.out, item);
        }
        self.out.push(b']');
    }
}

/// Appends `event` as native JSON in its schema to `out`.
pub(crate) fn write(event: &Event, out: &mut Vec<u8>) {
    if event.schema_version == SCHEMA_VERSION_V1 {
        write_v1(event, out);
    } else {
        write_v2(event, out);
    }
}

fn severity(severity: Severity) -> &'static str {
    super::severity_name(severity)
}

/// Schema v2: the common envelope, then the signal, the session or the
/// typed block (`Event::serialize_v2`).
fn write_v2(event: &Event, out: &mut Vec<u8>) {
    let mut o = Fields::open(out);
    o.u64("schema_version", u64::from(event.schema_version));
    o.str("event_id", &event.event_id);
    o.utc("entry_timestamp", &event.entry_timestamp);
    o.local("entry_timestamp_local", &event.entry_timestamp_local);
    o.str("system_name", &event.system_name);
    o.opt_str("source", event.source_name.as_deref());
    o.str("receiver_library", &event.receiver_library);
    o.str("receiver_name", &event.receiver_name);
    o.u64("sequence_number", event.sequence_number);
    o.opt_str("audit_type", event.audit_type);
    o.opt_str("code", event.code());
    o.str("code_label", &event.code_label);
    o.str("event_action", &event.event_action);
    o.str("severity", severity(event.severity));
    o.bool("privileged", event.privileged);
    o.opt_str("user_name", event.user_name.as_deref());
    o.opt_str("effective_user", event.effective_user_profile.as_deref());
    o.opt_str("target_user", event.target_user.as_deref());
    write_job(&mut o, event);
    o.opt_str("remote_address", event.remote_address.as_deref());
    o.opt_u64("remote_port", event.remote_port.map(u64::from));
    o.opt_str("program_library", event.program_library.as_deref());
    o.opt_str("program_name", event.program_name.as_deref());
    write_message_and_truncated(&mut o, event);
    if let Some(signal) = &event.signal {
        o.key("signal");
        write_signal(o.out, signal);
    }
    if let Some(session) = &event.session {
        o.key("session");
        write_session(o.out, session);
        return o.close();
    }
    match (&event.details, event.audit_type) {
        (Some(details), _) => {
            o.key(details.spec.key());
            let mut block = Fields::open(o.out);
            let plan = super::ibmi::column_plan(details.spec);
            for (name, value) in plan.names.iter().zip(&details.values) {
                block.escaped_key(name);
                match value {
                    crate::event::audit::Value::Null => block.out.extend_from_slice(b"null"),
                    crate::event::audit::Value::Text(text) => write_str(block.out, text),
                    crate::event::audit::Value::Integer(number) => block
                        .out
                        .extend_from_slice(itoa::Buffer::new().format(*number).as_bytes()),
                    crate::event::audit::Value::Flag(flag) => block
                        .out
                        .extend_from_slice(if *flag { b"true" } else { b"false" }),
                }
            }
            block.close();
        }
        (None, Some("JS")) => {
            o.key("js");
            write_js(o.out, event);
        }
        _ => {}
    }
    o.close();
}

/// The job members both schemas share, in their order.
/// `message` and `truncated`, when there is something to say: both schemas
/// write them in this place and this order.
fn write_message_and_truncated(o: &mut Fields<'_>, event: &Event) {
    if let Some(message) = &event.message {
        o.str("message", message);
    }
    if !event.truncated.is_empty() {
        o.strs("truncated", &event.truncated);
    }
}

fn write_job(o: &mut Fields<'_>, event: &Event) {
    o.opt_str("qualified_job_name", event.qualified_job_name.as_deref());
    o.opt_str("job_name", event.job_name.as_deref());
    o.opt_str("job_user", event.job_user.as_deref());
    o.opt_str("job_number", event.job_number.as_deref());
}

/// The `js` block of a v2 event (`JsBlock`).
fn write_js(out: &mut Vec<u8>, event: &Event) {
    let mut o = Fields::open(out);
    o.opt_str("entry_type", event.entry_type.as_deref());
    o.opt_str("entry_type_detail", event.entry_type_detail.as_deref());
    o.str("job_event_type", &event.job_event_type);
    o.str("connection_type", &event.connection_type);
    o.str("connection_method", &event.connection_method);
    o.opt_bool("connection_secure", event.connection_secure);
    o.opt_str("real_user_profile", event.real_user_profile.as_deref());
    o.opt_str(
        "effective_user_profile",
        event.effective_user_profile.as_deref(),
    );
    o.opt_str("job_type", event.job_type.as_deref());
    o.opt_str("job_subtype", event.job_subtype.as_deref());
    o.opt_str("device_name", event.device_name.as_deref());
    o.opt_str(
        "target_qualified_job_name",
        event.target_qualified_job_name.as_deref(),
    );
    o.close();
}

/// A signal's facts (`Signal`'s derived `Serialize`).
fn write_signal(out: &mut Vec<u8>, signal: &Signal) {
    let mut o = Fields::open(out);
    o.str("key_kind", signal.key_kind);
    o.str("key", &signal.key);
    o.u64("count", signal.count as u64);
    o.u64("window_seconds", signal.window_seconds);
    o.utc("first_entry_timestamp", &signal.first_entry_timestamp);
    o.close();
}

/// A session block (`SessionBlock`'s derived `Serialize`).
fn write_session(out: &mut Vec<u8>, session: &SessionBlock) {
    let mut o = Fields::open(out);
    o.str("id", &session.id);
    o.str("user", &session.user);
    o.str("job", &session.job);
    o.str("method", &session.method);
    o.opt_bool("secure", session.secure);
    o.opt_str("remote_address", session.remote_address.as_deref());
    o.utc("started_at", &session.started_at);
    match &session.ended_at {
        Some(ended) => o.utc("ended_at", ended),
        None => o.null("ended_at"),
    }
    o.key("duration_seconds");
    match session
        .duration_seconds
        .filter(|seconds| seconds.is_finite())
    {
        Some(seconds) => serde_json::to_writer(&mut *o.out, &seconds).expect("a number"),
        None => o.out.extend_from_slice(b"null"),
    }
    o.opt_str("end_reason", session.end_reason.as_deref());
    o.str("start_entry", &session.start_entry);
    o.opt_str("end_entry", session.end_entry.as_deref());
    o.close();
}

/// Schema v1: the JS fields, flat, in declaration order (`serialize_v1`).
fn write_v1(event: &Event, out: &mut Vec<u8>) {
    let mut o = Fields::open(out);
    o.u64("schema_version", u64::from(event.schema_version));
    o.str("event_id", &event.event_id);
    o.utc("entry_timestamp", &event.entry_timestamp);
    o.local("entry_timestamp_local", &event.entry_timestamp_local);
    o.str("system_name", &event.system_name);
    o.str("receiver_library", &event.receiver_library);
    o.str("receiver_name", &event.receiver_name);
    o.u64("sequence_number", event.sequence_number);
    o.opt_str("entry_type", event.entry_type.as_deref());
    o.opt_str("entry_type_detail", event.entry_type_detail.as_deref());
    o.str("job_event_type", &event.job_event_type);
    o.str("event_action", &event.event_action);
    o.opt_str("user_name", event.user_name.as_deref());
    o.opt_str("real_user_profile", event.real_user_profile.as_deref());
    o.opt_str(
        "effective_user_profile",
        event.effective_user_profile.as_deref(),
    );
    write_job(&mut o, event);
    o.opt_str("job_type", event.job_type.as_deref());
    o.opt_str("job_subtype", event.job_subtype.as_deref());
    o.opt_str("remote_address", event.remote_address.as_deref());
    o.opt_u64("remote_port", event.remote_port.map(u64::from));
    o.str("connection_type", &event.connection_type);
    o.str("connection_method", &event.connection_method);
    o.opt_bool("connection_secure", event.connection_secure);
    o.bool("privileged", event.privileged);
    o.str("severity", severity(event.severity));
    o.opt_str("device_name", event.device_name.as_deref());
    o.opt_str("program_library", event.program_library.as_deref());
    o.opt_str("program_name", event.program_name.as_deref());
    o.opt_str(
        "target_qualified_job_name",
        event.target_qualified_job_name.as_deref(),
    );
    write_message_and_truncated(&mut o, event);
    if let Some(session) = &event.session {
        o.key("session");
        write_session(o.out, session);
    }
    o.close();
}

#[cfg(test)]
mod tests {
    use crate::event::SCHEMA_VERSION_V1;
    use crate::format::cef::tests::{apply, every_kind_of_event, hostile};

    /// The writer against `Serialize` in both schemas, after what the buffer holds.
    fn same_as_serde(
        event: &crate::event::Event,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        for version in [SCHEMA_VERSION_V1, crate::event::SCHEMA_VERSION] {
            let mut event = event.clone();
            event.schema_version = version;
            let mut expected = b"before\n".to_vec();
            serde_json::to_writer(&mut expected, &event).unwrap();
            let mut written = b"before\n".to_vec();
            crate::format::write(&event, crate::format::Format::Native, &mut written);
            proptest::prop_assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        Ok(())
    }

    /// Every kind of event, in both schemas, as `Serialize` writes it.
    #[test]
    fn every_kind_of_event_is_written_as_serialize_writes_it() {
        for event in every_kind_of_event() {
            same_as_serde(event).unwrap();
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Hostile text, absent fields, odd times and numbers, a source name
        /// and truncated columns: the writer gives `Serialize`'s bytes.
        #[test]
        fn hostile_events_are_written_as_serialize_writes_them(
            pick in 0usize..1000,
            hostile in hostile(),
            truncated in proptest::collection::vec("\\PC{0,6}|[\"\\\\\\x00-\\x1f]{1,3}", 0..3),
            source in proptest::option::of("\\PC{0,8}|\"\\\\"),
        ) {
            let events = every_kind_of_event();
            let mut event = apply(&events[pick % events.len()], &hostile);
            event.truncated = truncated;
            event.source_name = source.map(std::sync::Arc::from);
            same_as_serde(&event)?;
        }
    }
}
