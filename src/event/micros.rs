//! Timestamps as the events write them: exactly six fractional digits,
//! `Z` on UTC instants and no zone on the IBM i's local times, without
//! parsing a format string per value.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

pub(super) fn utc_micros_opt<S: serde::Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => utc_micros::serialize(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// A timestamp field written with exactly six fractional digits.
pub(super) struct Micros<'a, T>(pub(super) &'a T);

impl Serialize for Micros<'_, DateTime<Utc>> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        utc_micros::serialize(self.0, serializer)
    }
}

impl Serialize for Micros<'_, NaiveDateTime> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        local_micros::serialize(self.0, serializer)
    }
}

/// `DateTime<Utc>` as RFC 3339 with exactly six fractional digits and `Z`.
pub(super) mod utc_micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(in crate::event) fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match super::micros_text(&value.naive_utc(), true) {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => serializer.collect_str(&value.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
        }
    }

    pub(in crate::event) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|instant| instant.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// `NaiveDateTime` with exactly six fractional digits and no zone.
pub(super) mod local_micros {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(in crate::event) fn serialize<S: Serializer>(
        value: &NaiveDateTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match super::micros_text(value, false) {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => serializer.collect_str(&value.format("%Y-%m-%dT%H:%M:%S%.6f")),
        }
    }

    pub(in crate::event) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<NaiveDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(serde::de::Error::custom)
    }
}

/// `yyyy-mm-ddThh:mm:ss.ffffff`, then `Z` when `zulu`, without parsing a format
/// string per value: with two timestamps per event, chrono's `format("%Y...")`
/// took a tenth of the encoding time. `None` (the caller formats with chrono,
/// which gives the same text) for a year outside 0..=9999 or a leap second.
/// CEF and LEEF cut their own time layouts from this text.
pub(crate) fn micros_text(value: &NaiveDateTime, zulu: bool) -> Option<MicrosText> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(value.year())
        .ok()
        .filter(|year| *year <= 9999)?;
    let micros = Some(value.nanosecond() / 1_000).filter(|micros| *micros < 1_000_000)?;
    let mut bytes = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, digits: usize, mut number: u32| {
        for index in (at..at + digits).rev() {
            bytes[index] = b'0' + (number % 10) as u8;
            number /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, value.month());
    put(8, 2, value.day());
    put(11, 2, value.hour());
    put(14, 2, value.minute());
    put(17, 2, value.second());
    put(20, 6, micros);
    Some(MicrosText {
        bytes,
        length: if zulu { 27 } else { 26 },
    })
}

/// The text [`micros_text`] made, on the stack.
pub(crate) struct MicrosText {
    bytes: [u8; 27],
    length: usize,
}

impl MicrosText {
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("ASCII digits and separators")
    }

    /// The text's bytes (ASCII digits and separators: nothing JSON escapes).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.length]
    }
}

/// Appends [`format_utc`]'s text to `out`, without a `String` of its own.
pub(crate) fn push_utc(out: &mut String, instant: &DateTime<Utc>) {
    match micros_text(&instant.naive_utc(), true) {
        Some(text) => out.push_str(text.as_str()),
        None => out.push_str(&format_utc(instant)),
    }
}

/// Formats a UTC instant as RFC 3339 with exactly six fractional digits.
pub fn format_utc(instant: &DateTime<Utc>) -> String {
    match micros_text(&instant.naive_utc(), true) {
        Some(text) => text.as_str().to_owned(),
        None => instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    }
}

/// Formats a local journal time with six fractional digits and no zone.
pub fn format_local(local: &NaiveDateTime) -> String {
    match micros_text(local, false) {
        Some(text) => text.as_str().to_owned(),
        None => local.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
    }
}
