//! Which source of a fleet reads which IBM i system.

/// Which source (by operator name) reads which IBM i (by SYSTEM_NAME): two
/// sources on one system would interleave one journal's positions.
#[derive(Debug, Default)]
pub struct SystemRegistry {
    claimed: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl SystemRegistry {
    /// Records that `source` reads `system`; the error names both sources.
    pub fn claim(&self, system: &str, source: &str) -> Result<(), String> {
        let mut claimed = self
            .claimed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match claimed.get(system) {
            Some(owner) if owner != source => Err(format!(
                "sources {owner:?} and {source:?} both read the IBM i whose SYSTEM_NAME is {system}: each system must be listed once in [[sources]]"
            )),
            Some(_) => Ok(()),
            None => {
                claimed.insert(system.to_owned(), source.to_owned());
                Ok(())
            }
        }
    }
}
