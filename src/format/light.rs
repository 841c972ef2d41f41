//! A light JSON tree for the standard formats: values borrow from the event
//! instead of copying into a `serde_json::Value`, objects are small vectors
//! instead of B-trees, and writing gives exactly the bytes the `Value` way
//! gave (keys sorted, nulls and emptied objects and arrays left out, numbers
//! and strings written by serde_json), so the goldens hold.

use std::borrow::Cow;

/// A JSON value that borrows what it can.
#[derive(Clone, Debug)]
pub enum J<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    Arr(Vec<J<'a>>),
    Obj(Vec<(&'a str, J<'a>)>),
}

impl<'a> J<'a> {
    /// An object of `entries` (any order; keys unique).
    pub fn obj(entries: Vec<(&'a str, J<'a>)>) -> J<'a> {
        J::Obj(entries)
    }

    /// The same, as a `serde_json::Value` (for callers that still build one).
    pub fn into_value(self) -> serde_json::Value {
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

    /// Appends the value to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            J::Null => out.extend_from_slice(b"null"),
            J::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
            J::U64(number) => serde_json::to_writer(&mut *out, number).expect("a number"),
            J::I64(number) => serde_json::to_writer(&mut *out, number).expect("a number"),
            J::F64(number) if number.is_finite() => {
                serde_json::to_writer(&mut *out, number).expect("a number")
            }
            J::F64(_) => out.extend_from_slice(b"null"),
            J::Str(text) => serde_json::to_writer(&mut *out, text.as_ref()).expect("a string"),
            J::Arr(items) => {
                out.push(b'[');
                let mut first = true;
                for item in items.iter().filter(|item| !item.is_null()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    item.write(out);
                }
                out.push(b']');
            }
            J::Obj(entries) => {
                let mut kept: Vec<&(&str, J<'_>)> = entries
                    .iter()
                    .filter(|(_, value)| !value.is_dropped())
                    .collect();
                kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (index, (key, value)) in kept.into_iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, key).expect("a key");
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
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
        let light = J::obj(vec![
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
}
