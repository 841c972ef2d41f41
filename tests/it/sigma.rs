//! The Sigma rule pack (`deploy/sigma/`) against real engines: `sigma check` on the pack, every
//! rule converted for every SIEM with the checked-in conversions as a drift check, and pySigma's
//! sqlite backend evaluating the rules and correlations over labelled journals that the real
//! binary produced (`deploy/sigma/evaluate.py`): each rule fires on its attack scenario (native,
//! ECS and OCSF through their pipelines), and a benign baseline of every audit type raises only
//! the false positives the rules document.
//!
//! The tool chain comes from the venv `bash .ci/setup` creates (`AUDITFWD_SIGMA_VENV`, default
//! `~/.cache/auditfwd/sigma-venv`); without it the test fails and says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Rules whose documented false positives the baseline contains on purpose, with the number of
/// alerts each must raise there (and nothing else may).
const BASELINE_FALSE_POSITIVES: &[(&str, usize)] = &[
    ("ibmi_clock_changed", 1),
    ("ibmi_privileged_out_of_hours", 10),
    ("ibmi_profile_reenabled", 1),
    ("ibmi_signon_disabled_profile", 1),
    ("ibmi_signon_expired_password", 1),
];
/// Rules with no ECS or OCSF form of their scenario (none: every scenario
/// comes from the real binary, in every format).
const NATIVE_ONLY: &[&str] = &[];

fn venv() -> PathBuf {
    let venv = std::env::var_os("AUDITFWD_SIGMA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/auditfwd/sigma-venv")
        });
    assert!(
        venv.join("bin/sigma").exists() && venv.join("bin/python").exists(),
        "the Sigma tool chain is missing at {}: run `bash .ci/setup` (or set AUDITFWD_SIGMA_VENV)",
        venv.display()
    );
    venv
}

fn run(command: &mut Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn sigma_check_passes_on_the_pack() {
    let venv = venv();
    let sigma = Path::new(ROOT).join("deploy/sigma");
    run(
        Command::new(venv.join("bin/sigma"))
            .args(["check", "--fail-on-issues", "-c"])
            .arg(sigma.join("validation.yml"))
            .arg(sigma.join("rules")),
        "sigma check",
    );
}

#[test]
fn sigma_conversions_are_checked_in_and_current() {
    let venv = venv();
    let scratch = tempfile::tempdir().expect("temp dir");
    run(
        Command::new(venv.join("bin/python"))
            .arg(Path::new(ROOT).join("deploy/sigma/generate.py"))
            .arg("--out")
            .arg(scratch.path()),
        "deploy/sigma/generate.py",
    );
    let rules: Vec<String> = files(&Path::new(ROOT).join("deploy/sigma/rules"))
        .into_iter()
        .filter_map(|name| name.strip_suffix(".yml").map(str::to_owned))
        .filter(|name| !is_base_rule(name))
        .collect();
    assert!(rules.len() >= 25, "{} alerting rules", rules.len());
    for (backend, extension) in [
        ("splunk", "spl"),
        ("esql", "esql"),
        ("kusto", "kql"),
        ("qradar", "aql"),
        ("secops", "yaral"),
    ] {
        let relative = format!("deploy/sigma/converted/{backend}");
        let generated = files(&scratch.path().join(&relative));
        let expected: Vec<String> = rules
            .iter()
            .map(|rule| format!("{rule}.{extension}"))
            .collect();
        assert_eq!(
            generated, expected,
            "{backend}: one conversion per alerting rule"
        );
        assert_eq!(
            files(&Path::new(ROOT).join(&relative)),
            generated,
            "{relative}: run bash deploy/sigma/generate.sh"
        );
        for name in &generated {
            same(scratch.path(), &format!("{relative}/{name}"));
        }
    }
    same(
        scratch.path(),
        "deploy/splunk/auditfwd_ibmi/default/savedsearches.conf",
    );
}

#[test]
fn every_rule_fires_on_its_scenario_and_the_baseline_raises_only_documented_false_positives() {
    let venv = venv();
    let report = run(
        Command::new(venv.join("bin/python"))
            .arg(Path::new(ROOT).join("deploy/sigma/evaluate.py"))
            .arg("--auditfwd")
            .arg(crate::harness::bin()),
        "deploy/sigma/evaluate.py",
    );
    let report: serde_json::Value = serde_json::from_str(&report).expect("evaluate.py prints JSON");
    let baseline = &report["baseline"];
    assert!(
        baseline["events"].as_u64().unwrap() >= 100_000,
        "baseline: {baseline}"
    );
    for (audit_type, count) in baseline["per_type"].as_object().unwrap() {
        assert!(
            count.as_u64().unwrap() >= 1_000,
            "baseline has {count} {audit_type} entries"
        );
    }
    assert_eq!(
        baseline["per_type"].as_object().unwrap().len(),
        11,
        "every audit type"
    );

    let scenarios: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    let mut baseline_alerts = BTreeMap::new();
    let mut alerting = 0;
    for (name, rule) in report["rules"].as_object().unwrap() {
        if rule["kind"] == "base" {
            continue;
        }
        alerting += 1;
        assert!(
            scenarios.contains(&name.as_str()),
            "{name} has no scenario in deploy/sigma/scenarios/"
        );
        let formats: &[&str] = if NATIVE_ONLY.contains(&name.as_str()) {
            &["native"]
        } else {
            &["native", "ecs", "ocsf"]
        };
        for format in formats {
            let alerts = rule["scenario"][format]["alerts"]
                .as_array()
                .map_or(0, Vec::len);
            assert!(
                alerts >= 1,
                "{name} does not fire on its scenario in {format}: {}",
                rule["scenario"]
            );
        }
        assert_eq!(
            rule["unexpected_baseline_alerts"].as_array().unwrap().len(),
            0,
            "{name} raised undocumented alerts on the baseline: {}",
            rule["unexpected_baseline_alerts"]
        );
        let found = rule["baseline_alerts"].as_array().unwrap().len();
        if found > 0 {
            baseline_alerts.insert(name.clone(), found);
        }
    }
    assert!(alerting >= 25, "{alerting} alerting rules");
    let expected: BTreeMap<String, usize> = BASELINE_FALSE_POSITIVES
        .iter()
        .map(|(name, count)| (name.to_string(), *count))
        .collect();
    assert_eq!(
        baseline_alerts, expected,
        "baseline alerts per rule (documented false positives only)"
    );
}

fn is_base_rule(name: &str) -> bool {
    // A base rule feeds a correlation and is no alert of its own.
    [
        "ibmi_signon_failure",
        "ibmi_profile_disabled",
        "ibmi_profile_enabled_change",
    ]
    .contains(&name)
}

fn files(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn same(generated_root: &Path, relative: &str) {
    let generated = std::fs::read_to_string(generated_root.join(relative)).expect("generated file");
    let committed = std::fs::read_to_string(Path::new(ROOT).join(relative)).unwrap_or_default();
    assert!(
        generated == committed,
        "{relative} is out of date: run bash deploy/sigma/generate.sh"
    );
}
