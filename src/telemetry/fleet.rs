//! What `/metrics` and `/health` show: one pipeline's [`Metrics`], or a
//! fleet's, each labelled with its system's name.

use std::sync::Arc;
use std::time::Duration;

use super::Metrics;

/// What the telemetry listener serves.
pub trait Telemetry {
    /// The Prometheus text exposition format, version 0.0.4.
    fn render(&self) -> String;
    /// `Ok` when healthy, else the reasons.
    fn health(&self, max_checkpoint_age: Duration) -> Result<(), Vec<String>>;
}

impl Telemetry for Metrics {
    fn render(&self) -> String {
        Metrics::render(self)
    }

    fn health(&self, max_checkpoint_age: Duration) -> Result<(), Vec<String>> {
        Metrics::health(self, max_checkpoint_age)
    }
}

/// The metrics of every system of a fleet, by name.
pub struct FleetMetrics {
    /// Each system's `[[sources]]` name and its pipeline's metrics, in configuration order.
    pub systems: Vec<(String, Arc<Metrics>)>,
}

impl Telemetry for FleetMetrics {
    /// Every family once (its HELP and TYPE from the first system), then its
    /// samples from each system with a `source="<name>"` label.
    fn render(&self) -> String {
        let mut families: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
        for (name, metrics) in &self.systems {
            let mut current: Option<usize> = None;
            for line in metrics.render().lines() {
                if let Some(rest) = line.strip_prefix("# ") {
                    let family = rest.split_whitespace().nth(1).unwrap_or("").to_owned();
                    let index = match families.iter().position(|(known, _, _)| *known == family) {
                        Some(index) => index,
                        None => {
                            families.push((family, Vec::new(), Vec::new()));
                            families.len() - 1
                        }
                    };
                    if !families[index].1.iter().any(|known| known == line) {
                        families[index].1.push(line.to_owned());
                    }
                    current = Some(index);
                } else if !line.trim().is_empty() {
                    let labelled = with_source(line, name);
                    match current {
                        Some(index) => families[index].2.push(labelled),
                        None => {
                            families.push((String::new(), Vec::new(), vec![labelled]));
                        }
                    }
                }
            }
        }
        let mut out = String::new();
        for (_, header, samples) in families {
            for line in header.iter().chain(&samples) {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Healthy when every system is; otherwise each system's reasons, named.
    fn health(&self, max_checkpoint_age: Duration) -> Result<(), Vec<String>> {
        let reasons: Vec<String> = self
            .systems
            .iter()
            .filter_map(|(name, metrics)| {
                metrics
                    .health(max_checkpoint_age)
                    .err()
                    .map(|reasons| (name, reasons))
            })
            .flat_map(|(name, reasons)| {
                reasons
                    .into_iter()
                    .map(move |reason| format!("source {name}: {reason}"))
            })
            .collect();
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}

/// `name{a="b"} 1` → `name{source="x",a="b"} 1`; `name 1` → `name{source="x"} 1`.
fn with_source(sample: &str, source: &str) -> String {
    let label = format!("source=\"{source}\"");
    match (sample.find('{'), sample.find(' ')) {
        (Some(brace), Some(space)) if brace < space => {
            let closing = sample[brace..].starts_with("{}");
            if closing {
                format!("{}{{{label}}}{}", &sample[..brace], &sample[brace + 2..])
            } else {
                format!("{}{{{label},{}", &sample[..brace], &sample[brace + 1..])
            }
        }
        (_, Some(space)) => format!("{}{{{label}}}{}", &sample[..space], &sample[space..]),
        _ => sample.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_get_the_source_label_and_families_are_not_repeated() {
        assert_eq!(
            with_source("a_total 3", "prod"),
            "a_total{source=\"prod\"} 3"
        );
        assert_eq!(
            with_source("a_total{sink=\"x y\"} 3", "prod"),
            "a_total{source=\"prod\",sink=\"x y\"} 3"
        );
        let fleet = FleetMetrics {
            systems: vec![
                ("prod".into(), Arc::new(Metrics::new(&["file:a".into()]))),
                ("dev".into(), Arc::new(Metrics::new(&["file:b".into()]))),
            ],
        };
        let text = fleet.render();
        let parsed = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned())))
            .expect("valid exposition format");
        let sources: std::collections::HashSet<String> = parsed
            .samples
            .iter()
            .filter_map(|sample| sample.labels.get("source").map(str::to_owned))
            .collect();
        assert_eq!(sources.len(), 2, "{text}");
        for line in text.lines().filter(|line| line.starts_with("# TYPE")) {
            assert_eq!(
                text.matches(&format!("{line}\n")).count(),
                1,
                "{line} repeated"
            );
        }
        fleet.systems[1].1.record_source_error("connection refused");
        let reasons = fleet.health(Duration::from_secs(600)).unwrap_err();
        assert!(
            reasons
                .iter()
                .any(|reason| reason.starts_with("source dev: ")),
            "{reasons:?}"
        );
    }
}
