//! A light JSON tree for the standard formats: values borrow from the event
//! instead of copying into a `serde_json::Value`, objects are small vectors
//! instead of B-trees, and writing gives exactly the bytes the `Value` way
//! gave (keys sorted, nulls and emptied objects and arrays left out, numbers
//! and strings written by serde_json), so the goldens hold.

use std::borrow::Cow;

/// A JSON value that borrows what it can.
#[derive(Clone, Debug)]
pub enum J<'a> {
    /// `null` (left out of objects when written).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A non-negative whole number.
    U64(u64),
    /// A whole number that may be negative.
    I64(i64),
    /// A number with a fraction, written by serde_json.
    F64(f64),
    /// A string, borrowed from the event where it can be.
    Str(Cow<'a, str>),
    /// An array (left out of objects when empty).
    Arr(Vec<J<'a>>),
    /// An object as key/value pairs in any order; keys sorted when written.
    Obj(Vec<(&'a str, J<'a>)>),
}

impl<'a> J<'a> {
    /// An object of `entries` (any order; keys unique).
    pub fn obj(entries: Vec<(&'a str, J<'a>)>) -> J<'a> {
        J::Obj(entries)
    }

    /// The same, as a `serde_json::Value` (for callers that still build one).
    pub fn into_value(mut self) -> serde_json::Value {
        let mut out = Vec::new();
        self.write(&mut out);
        serde_json::from_slice(&out).expect("the light tree writes JSON")
    }

    /// Whether the value disappears as an object member: null, or an object
    /// or array with nothing left once pruned.
    fn is_dropped(&self) -> bool {
        match self {
            J::Null => true,
            J::F64(number) => !number.is_finite(),
            J::Obj(entries) => entries.iter().all(|(_, value)| value.is_dropped()),
            J::Arr(items) => items.iter().all(J::is_null),
            _ => false,
        }
    }

    /// Whether the value is null once written (an array drops such items).
    fn is_null(&self) -> bool {
        match self {
            J::Null => true,
            J::F64(number) => !number.is_finite(),
            _ => false,
        }
    }

    /// Appends the value to `out`, sorting each object's members in place
    /// (no allocation: the tree is written once).
    pub fn write(&mut self, out: &mut Vec<u8>) {
        match self {
            J::Null => out.extend_from_slice(b"null"),
            J::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
            J::U64(number) => out.extend_from_slice(itoa::Buffer::new().format(*number).as_bytes()),
            J::I64(number) => out.extend_from_slice(itoa::Buffer::new().format(*number).as_bytes()),
            J::F64(number) if number.is_finite() => {
                serde_json::to_writer(&mut *out, number).expect("a number");
            }
            J::F64(_) => out.extend_from_slice(b"null"),
            J::Str(text) => write_str(out, text),
            J::Arr(items) => {
                out.push(b'[');
                let mut first = true;
                for item in items.iter_mut().filter(|item| !item.is_null()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    item.write(out);
                }
                out.push(b']');
            }
            J::Obj(entries) => {
                entries.sort_unstable_by(|a, b| key_order(a.0, b.0));
                out.push(b'{');
                let mut first = true;
                for (key, value) in entries.iter_mut() {
                    if value.is_dropped() {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_str(out, key);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// A JSON string as serde_json writes it: text with nothing to escape (no
/// control character below 0x20, no `"`, no `\\`) is copied whole; other
/// text goes through serde_json's escaping.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if !needs_escape(text.as_bytes()) {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, text).expect("a string");
    }
}

/// Whether `bytes` hold a byte JSON escapes (below 0x20, `"` or `\\`),
/// eight bytes at a time: the classic "has a byte less than n" and "has a
/// zero byte" word tricks, exact for the question "any such byte?".
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH != 0;
        if below_space
            || has_zero(word ^ (ONES * u64::from(b'"')))
            || has_zero(word ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Object keys in byte order, first bytes compared before the rest (most
/// keys differ there, which saves a `memcmp` call per comparison).
fn key_order(left: &str, right: &str) -> std::cmp::Ordering {
    match (left.as_bytes().first(), right.as_bytes().first()) {
        (Some(a), Some(b)) if a != b => a.cmp(b),
        _ => left.cmp(right),
    }
}

/// A string, borrowed.
pub fn s(text: &str) -> J<'_> {
    J::Str(Cow::Borrowed(text))
}

/// An optional string, borrowed (null when absent).
pub fn os(text: Option<&str>) -> J<'_> {
    text.map_or(J::Null, s)
}

/// An owned string.
pub fn owned<'a>(text: String) -> J<'a> {
    J::Str(Cow::Owned(text))
}

/// An optional unsigned number.
pub fn ou64(number: Option<u64>) -> J<'static> {
    number.map_or(J::Null, J::U64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The light tree writes what the Value way wrote, for the shapes the
    /// formats use: nested objects, nulls, emptied objects and arrays,
    /// arrays with nulls, numbers of every kind, escapes.
    #[test]
    fn writes_what_a_pruned_value_writes() {
        let mut light = J::obj(vec![
            ("zeta", s("last \"quoted\" \u{1}")),
            ("alpha", J::U64(7)),
            ("empty", J::obj(vec![("gone", J::Null)])),
            ("none", J::Null),
            ("list", J::Arr(vec![J::Null, s("a"), J::obj(vec![])])),
            ("nulls", J::Arr(vec![J::Null])),
            ("minus", J::I64(-3)),
            ("float", J::F64(0.00025)),
            ("nan", J::F64(f64::NAN)),
            (
                "nested",
                J::obj(vec![("b", J::Bool(false)), ("a", os(Some("x")))]),
            ),
        ]);
        let mut value = json!({
            "zeta": "last \"quoted\" \u{1}",
            "alpha": 7,
            "empty": { "gone": null },
            "none": null,
            "list": [null, "a", {}],
            "nulls": [null],
            "minus": -3,
            "float": 0.00025,
            "nan": null,
            "nested": { "b": false, "a": "x" },
        });
        super::super::prune(&mut value);
        let mut out = Vec::new();
        light.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    proptest::proptest! {
        /// Strings are written exactly as serde_json writes them, whatever
        /// they hold (the plain-text shortcut included).
        #[test]
        fn strings_are_written_as_serde_json_writes_them(text in "(?s).{0,40}|[\\x00-\\x7f\u{80}-\u{10ffff}\\\\\"]{0,40}") {
            let mut out = Vec::new();
            write_str(&mut out, &text);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&text).unwrap());
        }
    }

    /// The word-at-a-time check finds each escaped byte at every position of
    /// a word and of the tail, and passes bytes next to the boundaries (0x1f
    /// vs 0x20, 0x7f, 0x80 and above).
    #[test]
    fn needs_escape_finds_every_escaped_byte_anywhere() {
        for length in 1..20 {
            for at in 0..length {
                for byte in (0u8..0x20).chain([b'"', b'\\']) {
                    let mut bytes = vec![b'a'; length];
                    bytes[at] = byte;
                    assert!(needs_escape(&bytes), "{byte:#x} at {at} of {length}");
                }
                for byte in [0x20u8, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff] {
                    let mut bytes = vec![b'a'; length];
                    bytes[at] = byte;
                    assert!(!needs_escape(&bytes), "{byte:#x} at {at} of {length}");
                }
            }
        }
    }
}
