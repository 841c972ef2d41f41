//! Writing JSON straight into a sink's buffer: objects whose members the
//! caller appends in their final (sorted) order, nulls never written, and an
//! object or array left empty taken back out of the buffer, which gives the
//! bytes a pruned `serde_json::Value` gave (keys sorted, nulls and emptied
//! objects and arrays left out, numbers and strings as serde_json writes
//! them) without building a tree. Debug builds check that each object's keys
//! come in byte order, so every test that writes a document checks the order.

use chrono::{DateTime, NaiveDateTime, Utc};

/// An object being written: members are appended in key order.
pub(crate) struct Obj<'o> {
    out: &'o mut Vec<u8>,
    /// No member written yet (the next one has no comma before it).
    empty: bool,
    /// The last key written, to check the order.
    #[cfg(debug_assertions)]
    last: &'static str,
}

/// Appends `{`, the members `body` writes, and `}` to `out` (a whole
/// document: kept even when empty).
pub(crate) fn document(out: &mut Vec<u8>, body: impl FnOnce(&mut Obj<'_>)) {
    out.push(b'{');
    let mut object = Obj::new(out);
    body(&mut object);
    object.out.push(b'}');
}

impl<'o> Obj<'o> {
    fn new(out: &'o mut Vec<u8>) -> Obj<'o> {
        Obj {
            out,
            empty: true,
            #[cfg(debug_assertions)]
            last: "",
        }
    }

    /// Appends `,"key":` (no comma before the first member).
    #[inline]
    fn key(&mut self, key: &'static str) {
        #[cfg(debug_assertions)]
        {
            assert!(
                self.empty || self.last < key,
                "JSON keys out of order: {:?} after {:?}",
                key,
                self.last
            );
            assert!(!needs_escape(key.as_bytes()), "a key to escape: {key:?}");
            self.last = key;
        }
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// A string member.
    #[inline]
    pub(crate) fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        write_str(self.out, value);
    }

    /// A string member, left out when absent.
    #[inline]
    pub(crate) fn opt_str(&mut self, key: &'static str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    /// A string member made of `parts` one after the other (the same bytes as
    /// their concatenation, without making it).
    #[inline]
    pub(crate) fn parts(&mut self, key: &'static str, parts: &[&str]) {
        self.key(key);
        write_parts(self.out, parts);
    }

    /// An unsigned number member.
    #[inline]
    pub(crate) fn u64(&mut self, key: &'static str, value: u64) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// An unsigned number member, left out when absent.
    #[inline]
    pub(crate) fn opt_u64(&mut self, key: &'static str, value: Option<u64>) {
        if let Some(value) = value {
            self.u64(key, value);
        }
    }

    /// A signed number member.
    #[inline]
    pub(crate) fn i64(&mut self, key: &'static str, value: i64) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A floating-point member as serde_json writes it; left out when absent
    /// or not finite (serde_json writes those as null).
    pub(crate) fn opt_f64(&mut self, key: &'static str, value: Option<f64>) {
        if let Some(value) = value.filter(|value| value.is_finite()) {
            self.key(key);
            serde_json::to_writer(&mut *self.out, &value).expect("a number");
        }
    }

    /// A boolean member.
    #[inline]
    pub(crate) fn bool(&mut self, key: &'static str, value: bool) {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// A boolean member, left out when absent.
    #[inline]
    pub(crate) fn opt_bool(&mut self, key: &'static str, value: Option<bool>) {
        if let Some(value) = value {
            self.bool(key, value);
        }
    }

    /// A UTC instant as RFC 3339 with six fractional digits (`format_utc`).
    #[inline]
    pub(crate) fn utc(&mut self, key: &'static str, value: &DateTime<Utc>) {
        self.key(key);
        write_utc(self.out, value);
    }

    /// A local time with six fractional digits and no zone (`format_local`).
    #[inline]
    pub(crate) fn local(&mut self, key: &'static str, value: &NaiveDateTime) {
        self.key(key);
        match crate::event::micros_text(value, false) {
            Some(text) => write_plain(self.out, text.as_bytes()),
            None => write_str(self.out, &crate::event::format_local(value)),
        }
    }

    /// Members rendered once for the process (`"a":1,"b":{"c":"d"}`, in
    /// key order, as this writer writes them): one copy instead of a key and
    /// a value each. A debug build checks that the text is such members and
    /// that they sort after the members before them.
    #[inline]
    pub(crate) fn members(&mut self, members: &'static str) {
        #[cfg(debug_assertions)]
        {
            let (first, last) = first_and_last_key(members);
            assert!(
                self.empty || self.last < first,
                "JSON keys out of order: {first:?} after {:?}",
                self.last
            );
            self.last = last;
        }
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.extend_from_slice(members.as_bytes());
    }

    /// How many bytes the buffer holds (to copy a value written already).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    /// A member whose value `write` appends as it is (JSON already).
    #[inline]
    pub(crate) fn raw(&mut self, key: &'static str, write: impl FnOnce(&mut Vec<u8>)) {
        self.key(key);
        write(self.out);
    }

    /// An object member; left out when `body` writes no member.
    pub(crate) fn obj(&mut self, key: &'static str, body: impl FnOnce(&mut Obj<'_>)) {
        let mark = self.out.len();
        let was_empty = self.empty;
        #[cfg(debug_assertions)]
        let last = self.last;
        self.key(key);
        self.out.push(b'{');
        let mut inner = Obj::new(self.out);
        body(&mut inner);
        if inner.empty {
            self.out.truncate(mark);
            self.empty = was_empty;
            #[cfg(debug_assertions)]
            {
                self.last = last;
            }
        } else {
            self.out.push(b'}');
        }
    }

    /// An array of strings; left out when there are none.
    pub(crate) fn strs<'s>(&mut self, key: &'static str, items: impl IntoIterator<Item = &'s str>) {
        let mut items = items.into_iter();
        let Some(first) = items.next() else {
            return;
        };
        self.key(key);
        self.out.push(b'[');
        write_str(self.out, first);
        for item in items {
            self.out.push(b',');
            write_str(self.out, item);
        }
        self.out.push(b']');
    }

    /// An array of strings each made of parts; left out when there are none.
    pub(crate) fn parts_array<'s, const N: usize>(
        &mut self,
        key: &'static str,
        items: impl IntoIterator<Item = [&'s str; N]>,
    ) {
        let mut items = items.into_iter();
        let Some(first) = items.next() else {
            return;
        };
        self.key(key);
        self.out.push(b'[');
        write_parts(self.out, &first);
        for item in items {
            self.out.push(b',');
            write_parts(self.out, &item);
        }
        self.out.push(b']');
    }
}

/// Members for [`Obj::members`], written once by this writer (so they are
/// the bytes member-by-member writing gives) and kept for the process.
pub(crate) fn render(body: impl FnOnce(&mut Obj<'_>)) -> &'static str {
    let mut out = Vec::new();
    document(&mut out, body);
    let members = String::from_utf8(out[1..out.len() - 1].to_vec()).expect("JSON is UTF-8");
    Box::leak(members.into_boxed_str())
}

/// The first and last keys of `members` (see [`Obj::members`]), each text
/// checked once for the process (debug builds write many events).
#[cfg(debug_assertions)]
fn first_and_last_key(members: &'static str) -> (&'static str, &'static str) {
    type Checked = std::collections::HashMap<(usize, usize), (&'static str, &'static str)>;
    static CHECKED: std::sync::Mutex<Option<Checked>> = std::sync::Mutex::new(None);
    let mut checked = CHECKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *checked
        .get_or_insert_with(Checked::new)
        .entry((members.as_ptr() as usize, members.len()))
        .or_insert_with(|| {
            let keys = top_level_keys(members);
            (keys[0], keys[keys.len() - 1])
        })
}

/// The keys of `members` (see [`Obj::members`]), after checking that the
/// text is what this writer gives for them: serde_json, which sorts keys,
/// writes the object they make back byte for byte.
#[cfg(debug_assertions)]
fn top_level_keys(members: &'static str) -> Vec<&'static str> {
    let object = format!("{{{members}}}");
    let value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&object).expect("members are JSON object members");
    assert!(!value.is_empty(), "no members in {members:?}");
    assert_eq!(
        serde_json::to_string(&value).expect("JSON"),
        object,
        "members not in key order, or not as this writer writes them"
    );
    value
        .keys()
        .map(|key| {
            let quoted = format!("\"{key}\":");
            let at = members.find(&quoted).expect("the key is in the text");
            &members[at + 1..at + 1 + key.len()]
        })
        .collect()
}

/// A UTC instant as a JSON string (RFC 3339, six fractional digits, `Z`).
pub(crate) fn write_utc(out: &mut Vec<u8>, value: &DateTime<Utc>) {
    match crate::event::micros_text(&value.naive_utc(), true) {
        Some(text) => write_plain(out, text.as_bytes()),
        None => write_str(out, &crate::event::format_utc(value)),
    }
}

/// Text known to hold nothing to escape, quoted.
pub(crate) fn write_plain(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text);
    out.push(b'"');
}

/// A JSON string as serde_json writes it: text with nothing to escape (no
/// control character below 0x20, no `"`, no `\\`) is copied whole; other
/// text goes through serde_json's escaping.
///
/// Most strings of an event are IBM i names and codes of a few bytes (some
/// forty per event): those of up to 30 bytes are checked as they are copied
/// to the stack and appended, quotes and all, in one copy.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    if bytes.len() <= SHORT {
        // Checked and copied in one pass, eight bytes at a time, then the
        // rest byte by byte; then a copy of constant size (no call to
        // memcpy, which cost more than the copy) and the unused tail cut off.
        let mut quoted = [b'"'; SHORT + 2];
        let mut escape = false;
        let mut at = 1;
        let mut words = bytes.chunks_exact(8);
        for chunk in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            escape |= word_needs_escape(u64::from_le_bytes(word));
            quoted[at..at + 8].copy_from_slice(&word);
            at += 8;
        }
        for &byte in words.remainder() {
            quoted[at] = byte;
            escape |= ESCAPED[usize::from(byte)];
            at += 1;
        }
        if !escape {
            quoted[at] = b'"';
            let end = out.len() + bytes.len() + 2;
            out.extend_from_slice(&quoted);
            out.truncate(end);
            return;
        }
    } else if !needs_escape(bytes) {
        write_plain(out, bytes);
        return;
    }
    serde_json::to_writer(&mut *out, text).expect("a string");
}

/// The longest string [`write_str`] copies through its stack buffer.
const SHORT: usize = 30;

/// The bytes JSON escapes: below 0x20, `"` and `\\`.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// One JSON string made of `parts`: escaping works character by character,
/// so escaping each part gives the escaped concatenation.
pub(crate) fn write_parts(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for part in parts {
        if !needs_escape(part.as_bytes()) {
            out.extend_from_slice(part.as_bytes());
        } else {
            // serde_json quotes what it writes: take the quotes back off.
            let start = out.len();
            serde_json::to_writer(&mut *out, part).expect("a string");
            out.pop();
            out.remove(start);
        }
    }
    out.push(b'"');
}

/// Whether the eight bytes of `word` hold one JSON escapes (see [`needs_escape`]).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGH != 0;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH != 0;
    // `|`, not `||`: no branch per test.
    below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\')))
}

/// Whether `bytes` hold a byte JSON escapes (below 0x20, `"` or `\\`),
/// eight bytes at a time: the classic "has a byte less than n" and "has a
/// zero byte" word tricks, exact for the question "any such byte?".
pub(crate) fn needs_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        if word_needs_escape(word) {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| ESCAPED[usize::from(byte)])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Strings are written exactly as serde_json writes them, whatever
        /// they hold (the plain-text shortcut included), whole or in parts.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(
            text in "(?s).{0,40}|[\\x00-\\x7f\u{80}-\u{10ffff}\\\\\"]{0,40}",
            cut in 0usize..41,
        ) {
            let mut out = Vec::new();
            write_str(&mut out, &text);
            proptest::prop_assert_eq!(&out, &serde_json::to_vec(&text).unwrap());
            let cut = (0..=cut.min(text.len())).rev().find(|at| text.is_char_boundary(*at)).unwrap_or(0);
            let (head, tail) = text.split_at(cut);
            let mut parts = Vec::new();
            write_parts(&mut parts, &[head, "_", tail]);
            proptest::prop_assert_eq!(parts, serde_json::to_vec(&format!("{head}_{tail}")).unwrap());
        }
    }

    /// An object or array left empty disappears with its key and comma; the
    /// members around it are untouched.
    #[test]
    fn emptied_members_are_taken_back_out() {
        let mut out = Vec::new();
        document(&mut out, |o| {
            o.obj("a", |o| o.opt_str("x", None));
            o.u64("b", 1);
            o.obj("c", |o| o.obj("d", |o| o.opt_u64("e", None)));
            o.strs("f", []);
            o.obj("g", |o| {
                o.opt_f64("h", Some(f64::NAN));
                o.opt_f64("i", Some(0.25));
            });
            o.obj("j", |_| {});
        });
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"b":1,"g":{"i":0.25}}"#);
    }

    /// Members rendered once are the bytes member-by-member writing gives,
    /// in the place they are put.
    #[test]
    fn rendered_members_are_the_bytes_of_member_by_member_writing() {
        let members = render(|o| {
            o.obj("os", |o| o.str("name", "IBM i"));
            o.u64("type_id", 1);
        });
        assert_eq!(members, r#""os":{"name":"IBM i"},"type_id":1"#);
        let mut rendered = Vec::new();
        document(&mut rendered, |o| {
            o.members(members);
            o.str("z", "y");
        });
        let mut written = Vec::new();
        document(&mut written, |o| {
            o.obj("os", |o| o.str("name", "IBM i"));
            o.u64("type_id", 1);
            o.str("z", "y");
        });
        assert_eq!(rendered, written);
        let mut after = Vec::new();
        document(&mut after, |o| {
            o.str("a", "x");
            o.members(members);
        });
        assert_eq!(
            String::from_utf8(after).unwrap(),
            r#"{"a":"x","os":{"name":"IBM i"},"type_id":1}"#
        );
    }

    /// Rendered members that sort before the member written last are
    /// caught, and so is a text whose own keys are out of order.
    #[cfg(debug_assertions)]
    #[test]
    fn rendered_members_out_of_order_are_caught() {
        let after_z = std::panic::catch_unwind(|| {
            document(&mut Vec::new(), |o| {
                o.u64("z", 1);
                o.members(r#""a":1"#);
            });
        });
        assert!(after_z.is_err());
        let unsorted =
            std::panic::catch_unwind(|| document(&mut Vec::new(), |o| o.members(r#""b":1,"a":2"#)));
        assert!(unsorted.is_err());
    }

    /// Keys out of order are a bug the debug build stops at.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "out of order")]
    fn keys_out_of_order_are_caught() {
        document(&mut Vec::new(), |o| {
            o.u64("b", 1);
            o.u64("a", 2);
        });
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
