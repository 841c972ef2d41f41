//! The connection: the connection string with the password, the secrets no
//! message may show, opening a session, and driver errors made typed.

use super::classify::{classify, Doing, DriverError, OdbcError};
use super::session::{Session, Target};
use super::OdbcSource;
use crate::config::Secret;

/// The connection string with the password added (`PWD={...}`), as the
/// driver is given it; made once, when the source is planned.
pub(super) fn with_password(connection_string: &Secret, password: &Secret) -> Secret {
    let mut text = connection_string.expose().to_owned();
    if !password.is_empty() {
        if !text.trim_end().ends_with(';') && !text.trim().is_empty() {
            text.push(';');
        }
        text.push_str(&format!(
            "PWD={{{}}};",
            password.expose().replace('}', "}}")
        ));
    }
    Secret::new(text)
}

/// Every text that must never appear in a message: the password, and the
/// connection string's own password as written and as meant (braces and
/// `}}` escapes undone); made once, when the source is planned.
pub(super) fn secrets_of(connection_string: &Secret, password: &Secret) -> Vec<Secret> {
    let mut secrets = vec![password.clone()];
    secrets.extend(
        password_forms(connection_string.expose())
            .into_iter()
            .map(Secret::new),
    );
    secrets
}

impl OdbcSource {
    /// The secrets no message may show, as the redaction takes them.
    pub(super) fn secrets(&self) -> Vec<&str> {
        self.connection.secrets.iter().map(Secret::expose).collect()
    }

    pub(super) fn connect(&mut self) -> Result<(), OdbcError> {
        if self.session.is_some() {
            return Ok(());
        }
        let secrets = self.secrets();
        let session = Session::open(&Target {
            connection_string: self.connection.text.expose(),
            host: &self.connection.host,
            secrets: &secrets,
            dialect: self.config.dialect,
            filter: &self.filter,
            timeout_seconds: self.config.query_timeout.as_secs().max(1) as usize,
            exclude_own_connections: self.config.exclude_own_connections,
            types: &self.types,
            optional: &self.optional,
        })?;
        self.session = Some(session);
        self.machine.forget_receivers();
        Ok(())
    }

    pub(super) fn fail(&self, doing: Doing, error: &odbc_api::Error) -> OdbcError {
        classify(
            &doing,
            &self.connection.host,
            DriverError::redacted(error, &self.secrets()),
        )
    }
}

/// The value of `SYSTEM=` or `SERVER=` in a connection string.
pub(super) fn host_of(connection_string: &str) -> String {
    keyword(connection_string, &["SYSTEM", "SERVER", "DSN"])
        .map(|(_, value)| value)
        .unwrap_or_else(|| "(unnamed host)".to_owned())
}

/// The password of a connection string (`PWD=` or `PASSWORD=`, any case), as
/// written and as meant, each only when it is long enough to redact safely.
fn password_forms(connection_string: &str) -> Vec<String> {
    let mut forms = Vec::new();
    if let Some((raw, value)) = keyword(connection_string, &["PWD", "PASSWORD"]) {
        for form in [value, raw] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// The first `name=value` pair of `connection_string` whose name is one of
/// `names` (case-insensitive): (the value as written, the value as meant).
///
/// ODBC's grammar (SQLDriverConnect): pairs separated by `;`; a value may be
/// enclosed in braces, inside which `;` and `=` are plain and `}}` is one `}`.
fn keyword(connection_string: &str, names: &[&str]) -> Option<(String, String)> {
    connection_pairs(connection_string)
        .into_iter()
        .find(|(key, _, _)| names.iter().any(|name| key.eq_ignore_ascii_case(name)))
        .map(|(_, raw, value)| (raw, value))
}

/// Every pair of a connection string: (name, value as written, value as meant).
fn connection_pairs(text: &str) -> Vec<(String, String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let Some(equals) = rest.find('=') else {
            break;
        };
        let key = rest[..equals].trim().to_owned();
        let after = rest[equals + 1..].trim_start();
        let (raw, value, remaining) = if let Some(inside) = after.strip_prefix('{') {
            // Up to the first `}` not doubled; `}}` is a literal `}`.
            let mut value = String::new();
            let mut chars = inside.char_indices().peekable();
            let mut end = inside.len();
            while let Some((at, c)) = chars.next() {
                if c == '}' {
                    if chars.peek().is_some_and(|(_, next)| *next == '}') {
                        chars.next();
                        value.push('}');
                        continue;
                    }
                    end = at;
                    break;
                }
                value.push(c);
            }
            let raw = inside[..end].to_owned();
            let remaining = inside.get(end + 1..).unwrap_or("");
            let remaining = remaining.find(';').map_or("", |at| &remaining[at..]);
            (raw, value, remaining)
        } else {
            let end = after.find(';').unwrap_or(after.len());
            let value = after[..end].trim().to_owned();
            (value.clone(), value, &after[end..])
        };
        pairs.push((key, raw, value));
        rest = remaining;
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_password_are_found_in_connection_strings() {
        let text = "Driver={IBM i Access ODBC Driver};System=ibmi.example.com;UID=AUDITFWD;PWD={s3;cret};SSL=1";
        assert_eq!(host_of(text), "ibmi.example.com");
        assert_eq!(
            host_of("Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432"),
            "127.0.0.1"
        );
        assert_eq!(password_forms("UID=A;Password=xyz"), ["xyz"]);
        assert!(password_forms("UID=A").is_empty());
    }

    #[test]
    fn passwords_in_every_connection_string_form_are_found_whole() {
        // (connection string, the forms to redact)
        let cases: &[(&str, &[&str])] = &[
            ("UID=A;PWD=plain;SSL=1", &["plain"]),
            ("UID=A;pwd=lower", &["lower"]),
            ("UID=A;PassWord=mixed-case;", &["mixed-case"]),
            ("UID=A;PWD={s3;cret};SSL=1", &["s3;cret"]),
            ("UID=A;PWD={a}}b;c=d};SSL=1", &["a}b;c=d", "a}}b;c=d"]),
            ("UID=A; PWD = {  spaced } ;SSL=1", &["  spaced "]),
            (
                "Driver={IBM i Access ODBC Driver};System=x;PWD={}}};",
                &["}", "}}"],
            ),
            ("PWD=first;PASSWORD=second", &["first"]),
        ];
        for (text, expected) in cases {
            assert_eq!(&password_forms(text), expected, "{text}");
        }
        // The braces hide `;` and `=` from the pair that follows.
        assert_eq!(
            host_of("Driver={x;System=wrong};System=right;PWD={a;System=evil}"),
            "right"
        );
    }
}
