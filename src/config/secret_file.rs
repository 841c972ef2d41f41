//! Secrets kept in files (`*_file` keys): read once, at load.

use std::path::Path;

use super::{ConfigError, Secret};

/// Reads a secret from a `*_file` key: the first line, without its line
/// end. An empty first line is an error, never an empty secret.
pub fn read_secret_file(key: &str, path: &Path) -> Result<Secret, ConfigError> {
    let shown = shown_path(path);
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
        key: key.into(),
        origin: String::new(),
        message: format!("cannot read secret file {shown}: {error}"),
    })?;
    let secret = text.lines().next().unwrap_or("");
    if secret.is_empty() {
        return Err(ConfigError {
            key: key.into(),
            origin: String::new(),
            message: format!("secret file {shown} is empty: its first line is the secret"),
        });
    }
    Ok(Secret::new(secret.to_owned()))
}

/// How a `*_file` path is shown in a message.
fn shown_path(path: &Path) -> String {
    // A value with no directory in it may be the secret itself, typed
    // into the `*_file` key by mistake: it is not repeated.
    let looks_like_a_file_name = path
        .to_str()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(stem, extension)| {
            !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
                && (1..=5).contains(&extension.len())
                && extension.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if path.components().count() > 1 || path.is_absolute() || looks_like_a_file_name {
        path.display().to_string()
    } else {
        "(the name given is not shown: with no directory in it, it may be the secret itself typed into this key)".into()
    }
}

/// The secret a component connects with: the one its `*_file` key named, as
/// `load_files` read it (the file is read once, at load), or the inline one.
/// A `*_file` that was never read (a configuration built in code, not
/// loaded) is an error naming `file_key`, never a silent empty secret.
pub fn secret_in_use(
    inline: &Secret,
    file: Option<&Path>,
    read: Option<&Secret>,
    file_key: &str,
) -> Result<Secret, String> {
    match (file, read) {
        (None, _) => Ok(inline.clone()),
        (Some(_), Some(secret)) => Ok(secret.clone()),
        (Some(_), None) => Err(format!(
            "{file_key} was not read: the configuration did not go through loading"
        )),
    }
}
