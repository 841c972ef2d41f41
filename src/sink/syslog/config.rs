//! `type = "syslog"`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{duration, Problems, TlsFiles, TlsMaterial};
use crate::format::Format;

/// Syslog: RFC 5424 (or 3164) over TCP, TLS, RELP or UDP, with JSON, CEF or LEEF bodies.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogSinkConfig {
    /// host:port of the receiver.
    pub address: String,
    /// "tcp" | "tls" | "relp" | "udp". Only relp confirms delivery (see the docs).
    pub transport: SyslogTransport,
    /// "octet-counting" (RFC 6587) | "lf"; tcp and tls only.
    pub framing: SyslogFraming,
    /// "rfc5424" | "rfc3164" (old receivers).
    pub protocol: SyslogProtocol,
    /// "json" (native) | "cef" | "leef": the older spelling of `format`.
    pub body: SyslogBody,
    /// The message body: "native" (the default; what `body = "json"` wrote),
    /// "ecs", "ocsf", "cef" (ArcSight) or "leef" (QRadar, LEEF 2.0,
    /// tab-separated). Set `format` or `body`, not both.
    pub format: Option<Format>,
    /// Facility name; the severity comes from the event.
    pub facility: Facility,
    /// APP-NAME of every message (default "auditfwd").
    pub app_name: String,
    /// STRUCTURED-DATA id; 32473 is the documentation enterprise number: set your own.
    pub sd_id: String,
    /// Larger messages lose optional fields in a documented order; never cut.
    pub max_message_bytes: usize,
    /// CA that signed the receiver's certificate (tls); default: public roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate and key for mutual TLS.
    pub tls_cert_file: Option<PathBuf>,
    /// Private key of `tls_cert_file` (mutual TLS: both or neither).
    pub tls_key_file: Option<PathBuf>,
    /// What the three files held, read once by `load_files`.
    #[serde(skip)]
    pub tls_material: Option<TlsMaterial>,
    /// Name to verify the certificate against; default: the host of `address`.
    pub tls_server_name: String,
    /// Required for udp: UDP cannot confirm delivery, so loss must be accepted knowingly.
    pub accept_loss: bool,
    /// Connect, TLS handshake and write time limit (a RELP answer may take
    /// this long, at least 5 s, before the session counts as broken).
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// relp: batches on the session not yet answered in full (at most
    /// pipeline.max_batches_in_flight). tcp, tls and udp deliver one batch at a
    /// time whatever this says: a write has no answer to wait for.
    pub max_in_flight: usize,
    /// relp: messages sent and not yet answered on the session (the RELP
    /// window), across batches. Larger hides more round trips; the receiver
    /// holds what it has not answered.
    pub relp_window: usize,
    /// With `format = "cef"`: "auditfwd" (default: auditfwd's ids and keys) or
    /// "ibm": the layout IBM i's own generator writes (`CEF:0|IBM|IBM i|…|
    /// QSYS-QAUDJRN|T-<type>|…`), which IBM i parsers (Google SecOps
    /// `IBM_AS400`, Sekoia's IBM iSeries intake) read unchanged.
    pub cef_dialect: crate::format::cef::CefDialect,
    /// With `cef_dialect = "ibm"`: the IBM i release for the header's version
    /// field (e.g. "7.5"); when empty the field says "unknown" (auditfwd does
    /// not know the release).
    pub ibm_release: String,
}

impl Default for SyslogSinkConfig {
    fn default() -> Self {
        SyslogSinkConfig {
            address: String::new(),
            transport: SyslogTransport::Tcp,
            framing: SyslogFraming::OctetCounting,
            protocol: SyslogProtocol::Rfc5424,
            body: SyslogBody::Json,
            format: None,
            facility: Facility::AUTH,
            app_name: "auditfwd".into(),
            sd_id: "auditfwd@32473".into(),
            max_message_bytes: 8192,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_material: None,
            tls_server_name: String::new(),
            accept_loss: false,
            connect_timeout: Duration::from_secs(10),
            max_in_flight: 8,
            relp_window: 1024,
            cef_dialect: crate::format::cef::CefDialect::Auditfwd,
            ibm_release: String::new(),
        }
    }
}

/// A syslog facility: its name in configuration (any case), its code
/// (RFC 5424 table 1) once loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facility(u8);

impl Facility {
    /// `auth` (4), the default: security and authorization messages.
    pub const AUTH: Facility = Facility(4);

    /// The number that goes into PRI.
    pub fn code(self) -> u8 {
        self.0
    }
}

impl Serialize for Facility {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(super::format::FACILITY_NAMES[usize::from(self.0)])
    }
}

impl<'de> Deserialize<'de> for Facility {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        super::format::facility_code(&name)
            .map(Facility)
            .ok_or_else(|| {
                // Named here: a sink's fields reach the error under `sinks.N`
                // only (serde buffers the internally tagged enum).
                serde::de::Error::custom(format!(
                    "facility {name:?} is not a syslog facility (auth, authpriv, security, local0..local7, ...)"
                ))
            })
    }
}

/// How messages reach the receiver (`transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    /// Plain TCP: a write is no proof of delivery.
    Tcp,
    /// TCP under TLS (optionally mutual): a write is no proof of delivery.
    Tls,
    /// RELP over TCP: the receiver answers every message, the only confirmed delivery.
    Relp,
    /// UDP: nothing confirms anything; needs `accept_loss = true`.
    Udp,
}

/// How messages are delimited on a TCP or TLS stream (`framing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyslogFraming {
    /// RFC 6587 octet counting: each message prefixed by its length (the default).
    #[serde(rename = "octet-counting")]
    OctetCounting,
    /// Each message ends with a line feed (old receivers).
    #[serde(rename = "lf")]
    Lf,
}

/// The syslog header layout (`protocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    /// RFC 5424, with STRUCTURED-DATA (the default).
    Rfc5424,
    /// RFC 3164 (BSD syslog), for old receivers.
    Rfc3164,
}

/// The older spelling of the message body (`body`); `format` replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogBody {
    /// Native JSON (the default).
    Json,
    /// CEF (ArcSight).
    Cef,
    /// LEEF 2.0 (QRadar).
    Leef,
}

impl SyslogSinkConfig {
    /// RELP keeps `max_in_flight` batches on its session; the others deliver
    /// one batch at a time.
    pub fn max_in_flight(&self) -> usize {
        match self.transport {
            SyslogTransport::Relp => self.max_in_flight,
            _ => 1,
        }
    }

    /// The sink's name in logs and metrics: `syslog:<transport>:<address>`, lower case.
    pub fn describe(&self) -> String {
        format!("syslog:{:?}:{}", self.transport, self.address).to_lowercase()
    }

    /// The body's format: `format`, else what `body` names.
    pub fn format(&self) -> Format {
        self.format.unwrap_or(match self.body {
            SyslogBody::Json => Format::Native,
            SyslogBody::Cef => Format::Cef,
            SyslogBody::Leef => Format::Leef,
        })
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        if self
            .address
            .rsplit_once(':')
            .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
        {
            problems.fail(at("address"), format!("{:?} is not host:port", self.address));
        }
        if self.format.is_some() && self.body != SyslogBody::Json {
            problems.fail(
                at("body"),
                "set format or body (its older spelling), not both",
            );
        }
        if self.transport == SyslogTransport::Udp && !self.accept_loss {
            problems.fail(at("accept_loss"), "transport = \"udp\" cannot confirm delivery: events can be lost without a trace; set accept_loss = true to accept that, or use relp");
        }
        let (name, number) = self.sd_id.split_once('@').unwrap_or(("", ""));
        let printable = |text: &str| {
            text.chars()
                .all(|c| ('!'..='~').contains(&c) && !matches!(c, '=' | ']' | '"'))
        };
        if name.is_empty()
            || number.is_empty()
            || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
            || self.sd_id.len() > 32
            || !printable(&self.sd_id)
        {
            problems.fail(at("sd_id"), format!("{:?} is not an SD-ID like \"auditfwd@32473\" (name@private enterprise number, at most 32 characters)", self.sd_id));
        }
        if self.app_name.is_empty() || self.app_name.len() > 48 || !printable(&self.app_name) {
            problems.fail(at("app_name"), "1 to 48 printable characters");
        }
        if self.max_message_bytes < 480 {
            problems.fail(
                at("max_message_bytes"),
                "at least 480 (RFC 5424 receivers must take 480 bytes)",
            );
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            problems.fail(at("tls_key_file"), "set tls_cert_file and tls_key_file together");
        }
        if self.transport != SyslogTransport::Tls
            && (self.tls_ca_file.is_some() || self.tls_cert_file.is_some())
        {
            problems.fail(at("transport"), "tls_* keys need transport = \"tls\"");
        }
        if self.max_in_flight == 0 || self.max_in_flight > 1024 {
            problems.fail(
                at("max_in_flight"),
                format!("{} is out of range; use 1 to 1024", self.max_in_flight),
            );
        }
        if self.relp_window == 0 || self.relp_window > 65_536 {
            problems.fail(
                at("relp_window"),
                format!("{} is out of range; use 1 to 65536", self.relp_window),
            );
        }
        problems.duration_in(
            at("connect_timeout"),
            self.connect_timeout,
            Duration::from_millis(1),
            Duration::from_secs(3600),
        );
    }

    /// Reads the CA, certificate and key files once, into `tls_material`,
    /// then makes the TLS set-up the sink will use from it: a typo or a bad
    /// file is exit 78, not a restart loop, and the sink reads no file.
    pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
        if self.transport != SyslogTransport::Tls {
            return;
        }
        let at = |name: &str| format!("{key}.{name}");
        let files = TlsFiles {
            ca: self.tls_ca_file.as_deref().map(|path| (at("tls_ca_file"), path)),
            cert: self.tls_cert_file.as_deref().map(|path| (at("tls_cert_file"), path)),
            key: self.tls_key_file.as_deref().map(|path| (at("tls_key_file"), path)),
        };
        let material = files.load(problems);
        self.tls_material = material;
        if self.tls_material.is_none() {
            return;
        }
        // What the sink would refuse when it starts (a key that does not
        // match, a bad server name): the same set-up, which needs no peer,
        // so `check-config` says it too.
        if let Err(error) = super::tls_connector(self) {
            let name = if error.message.contains("server name") {
                "tls_server_name"
            } else if error.message.contains("client certificate") {
                "tls_key_file"
            } else {
                "transport"
            };
            problems.fail(at(name), error.message);
        }
    }

    /// Whether a TLS file is configured (then `tls_material` must be loaded).
    pub fn names_tls_files(&self) -> bool {
        self.tls_ca_file.is_some() || self.tls_cert_file.is_some() || self.tls_key_file.is_some()
    }
}
