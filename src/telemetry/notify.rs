//! The systemd notification protocol without a C library: datagrams to
//! `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 when systemd asked for them.
pub(crate) struct Notifier {
    socket: Option<(UnixDatagram, String)>,
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` (the watchdog is
    /// ours only when the PID is absent or ours).
    pub(crate) fn from_environment() -> Notifier {
        let socket = std::env::var("NOTIFY_SOCKET")
            .ok()
            .filter(|path| !path.is_empty())
            .and_then(|path| UnixDatagram::unbound().ok().map(|socket| (socket, path)));
        let ours = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|usec| usec.parse::<u64>().ok())
            .filter(|usec| *usec > 0 && ours && socket.is_some())
            .map(Duration::from_micros);
        Notifier { socket, watchdog }
    }

    /// How often to send WATCHDOG=1: half the interval systemd set.
    pub(crate) fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog.map(|interval| interval / 2)
    }

    /// Tells systemd the daemon is up (READY=1).
    pub(crate) fn ready(&self) {
        self.send("READY=1");
    }

    /// Sets the status line `systemctl status` shows (STATUS=, one line).
    pub(crate) fn status(&self, text: &str) {
        self.send(&format!("STATUS={}", text.replace('\n', " ")));
    }

    /// Feeds systemd's watchdog (WATCHDOG=1).
    pub(crate) fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Tells systemd the daemon is shutting down (STOPPING=1).
    pub(crate) fn stopping(&self) {
        self.send("STOPPING=1");
    }

    fn send(&self, message: &str) {
        let Some((socket, path)) = &self.socket else {
            return;
        };
        let result = match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                    .and_then(|address| socket.send_to_addr(message.as_bytes(), &address))
            }
            None => socket.send_to(message.as_bytes(), path),
        };
        if let Err(error) = result {
            tracing::debug!(%error, "cannot notify systemd");
        }
    }
}
