//! TLS material named by configuration (a CA, a client certificate and its
//! key), read and parsed once, at load, into typed values. A sink builds its
//! client from these and never opens the files again: a file changed or
//! removed after start-up changes nothing until the next start, and a bad
//! one is exit 78 naming its key, never a permanent sink error later.

use std::fmt;
use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{ConfigError, Problems};

/// The files of one sink, as loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsMaterial {
    /// The certificates of the CA file, in file order (at least one);
    /// `None`: no CA file is configured.
    pub ca: Option<Vec<CertificateDer<'static>>>,
    /// The client certificate chain and its key (mutual TLS).
    pub identity: Option<Identity>,
}

impl TlsMaterial {
    /// What a sink builds its client from: the material `load_files` read,
    /// or none when the sink names no file. Files named but never read (a
    /// configuration built in code, not loaded) are an error naming `keys`,
    /// never a read now nor a silent default.
    pub fn in_use(
        loaded: Option<&TlsMaterial>,
        names_files: bool,
        keys: &str,
    ) -> Result<TlsMaterial, String> {
        match (loaded, names_files) {
            (Some(material), _) => Ok(material.clone()),
            (None, false) => Ok(TlsMaterial::default()),
            (None, true) => Err(format!(
                "{keys} were not read: the configuration did not go through loading"
            )),
        }
    }
}

/// A client certificate chain and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The client certificate first, then any intermediates, as the file held them.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub key: PrivateKey,
}

/// A private key; its `Debug` never shows it.
#[derive(PartialEq, Eq)]
pub struct PrivateKey(PrivateKeyDer<'static>);

impl PrivateKey {
    /// The key itself: call only where it is handed to the TLS library.
    pub fn expose(&self) -> PrivateKeyDer<'static> {
        self.0.clone_key()
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey(self.0.clone_key())
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(super::Secret::REDACTED)
    }
}

/// The paths of one sink's TLS keys, each with the key that names it
/// (`sinks[0].tls_ca_file`, ...).
pub struct TlsFiles<'a> {
    /// The CA bundle that verifies the peer (`tls_ca_file`).
    pub ca: Option<(String, &'a Path)>,
    /// The client certificate chain for mutual TLS (`tls_cert_file`).
    pub cert: Option<(String, &'a Path)>,
    /// The client certificate's private key (`tls_key_file`).
    pub key: Option<(String, &'a Path)>,
}

impl TlsFiles<'_> {
    /// Reads and parses every file once. Each problem names its key; `None`
    /// when there was one. A certificate without a key, or a key without a
    /// certificate, is one too (sections refuse it first, in `validate`),
    /// never a connection without the client certificate.
    pub fn load(&self, problems: &mut Problems) -> Option<TlsMaterial> {
        let before = problems.errors.len();
        let ca = self
            .ca
            .as_ref()
            .and_then(|(key, path)| record(problems, certificates(key, path)));
        let chain = self
            .cert
            .as_ref()
            .and_then(|(key, path)| record(problems, certificates(key, path)));
        let private = self
            .key
            .as_ref()
            .and_then(|(key, path)| record(problems, private_key(key, path)));
        if let (Some((key, _)), None) | (None, Some((key, _))) = (&self.cert, &self.key) {
            problems.fail(
                key.as_str(),
                "a client certificate and its key go together: set both files",
            );
        }
        if problems.errors.len() != before {
            return None;
        }
        let identity = match (chain, private) {
            (Some(chain), Some(key)) => Some(Identity { chain, key }),
            _ => None,
        };
        Some(TlsMaterial { ca, identity })
    }
}

fn record<T>(problems: &mut Problems, result: Result<T, ConfigError>) -> Option<T> {
    result.map_err(|error| problems.errors.push(error)).ok()
}

fn problem(key: &str, message: String) -> ConfigError {
    ConfigError {
        key: key.to_owned(),
        origin: String::new(),
        message,
    }
}

fn read(key: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path)
        .map_err(|error| problem(key, format!("cannot read {}: {error}", path.display())))
}

/// The PEM certificates of a CA or certificate file: at least one, since a
/// file with none verifies no peer and every connection would fail.
pub fn certificates(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = read(key, path)?;
    match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
        Ok(certificates) if certificates.is_empty() => Err(problem(
            key,
            format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ),
        )),
        Ok(certificates) => Ok(certificates),
        Err(error) => Err(problem(
            key,
            format!("{} is not a PEM certificate file: {error}", path.display()),
        )),
    }
}

/// The first PEM private key of a key file (PKCS#8, PKCS#1 or SEC1). The
/// parser's error names the file, never its content.
pub fn private_key(key: &str, path: &Path) -> Result<PrivateKey, ConfigError> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map(PrivateKey)
        .map_err(|error| {
            let why = match error {
                rustls_pki_types::pem::Error::NoItemsFound => {
                    "holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)".to_owned()
                }
                _ => "is not a PEM private key file".to_owned(),
            };
            problem(key, format!("{} {why}", path.display()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        files: &[(&str, &str)],
        ca: bool,
        cert: bool,
        key: bool,
    ) -> (Option<TlsMaterial>, Vec<String>) {
        let directory = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(directory.path().join(name), text).unwrap();
        }
        let ca_path = directory.path().join("ca.pem");
        let cert_path = directory.path().join("cert.pem");
        let key_path = directory.path().join("key.pem");
        let files = TlsFiles {
            ca: ca.then(|| ("s.tls_ca_file".to_owned(), ca_path.as_path())),
            cert: cert.then(|| ("s.tls_cert_file".to_owned(), cert_path.as_path())),
            key: key.then(|| ("s.tls_key_file".to_owned(), key_path.as_path())),
        };
        let mut problems = Problems::default();
        let material = files.load(&mut problems);
        let errors = problems
            .errors
            .iter()
            .map(|error| format!("{}: {}", error.key, error.message))
            .collect();
        (material, errors)
    }

    #[test]
    fn each_bad_file_is_a_problem_naming_its_key_and_never_its_content() {
        // Not base64: the parser refuses it, and the message shows none of it.
        let secret_looking =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl!!\n-----END PRIVATE KEY-----\n";
        let (material, errors) = load(
            &[
                ("ca.pem", "not a certificate\n"),
                ("cert.pem", "-----BEGIN CERTIFICATE-----\n@@@\n"),
                ("key.pem", "no key here\n"),
            ],
            true,
            true,
            true,
        );
        assert!(material.is_none());
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(
            errors[0].starts_with("s.tls_ca_file: ")
                && errors[0].contains("holds no PEM certificate"),
            "{errors:?}"
        );
        assert!(
            errors[1].starts_with("s.tls_cert_file: ")
                && errors[1].contains("not a PEM certificate file"),
            "{errors:?}"
        );
        assert!(
            errors[2].starts_with("s.tls_key_file: ")
                && errors[2].contains("holds no PEM private key"),
            "{errors:?}"
        );
        let (_, errors) = load(
            &[("cert.pem", CA), ("key.pem", secret_looking)],
            false,
            true,
            true,
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("not a PEM private key file"),
            "{errors:?}"
        );
        assert!(!errors[0].contains("c2VjcmV0"), "{errors:?}");
        let (_, errors) = load(&[], true, false, false);
        assert!(
            errors[0].starts_with("s.tls_ca_file: ") && errors[0].contains("cannot read"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_certificate_without_its_key_is_a_problem_not_a_connection_without_it() {
        let (material, errors) = load(&[("cert.pem", CA)], false, true, false);
        assert!(material.is_none());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("s.tls_cert_file: ") && errors[0].contains("set both"),
            "{errors:?}"
        );
        let (material, errors) = load(&[("cert.pem", CA), ("ca.pem", CA)], true, false, false);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            material.and_then(|material| material.ca).map(|ca| ca.len()),
            Some(1)
        );
    }

    /// A real certificate: the test CA of `tests/fixtures/tls/`.
    const CA: &str = include_str!("../../tests/fixtures/tls/ca.pem");

    #[test]
    fn nothing_configured_is_no_material() {
        let (material, errors) = load(&[], false, false, false);
        assert_eq!(material, Some(TlsMaterial::default()));
        assert!(errors.is_empty());
    }

    #[test]
    fn a_private_key_never_shows_in_debug() {
        let key = PrivateKey(PrivateKeyDer::Pkcs8(vec![1, 2, 3].into()));
        assert_eq!(format!("{key:?}"), Secret::REDACTED);
        assert_eq!(key.clone(), key);
    }

    use super::super::Secret;
}
