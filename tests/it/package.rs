//! The Debian package: built with cargo-deb (release profile) and inspected.

use std::process::Command;

#[test]
fn deb_package_installs_binary_unit_config_and_state_directory() {
    let has_cargo_deb = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(has_cargo_deb, "cargo-deb is missing: install it with `cargo install cargo-deb --locked` (bash .ci/setup does)");
    let out = tempfile::tempdir().unwrap();
    let deb = out.path().join("auditfwd.deb");
    let build = Command::new("cargo")
        .args(["deb", "--output"])
        .arg(&deb)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo deb");
    assert!(
        build.status.success(),
        "cargo deb failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );

    let contents = Command::new("dpkg-deb")
        .arg("--contents")
        .arg(&deb)
        .output()
        .expect("dpkg-deb");
    let contents = String::from_utf8_lossy(&contents.stdout).into_owned();
    for (path, mode) in [
        ("./usr/bin/auditfwd", "-rwxr-xr-x"),
        ("./usr/lib/systemd/system/auditfwd.service", "-rw-r--r--"),
        ("./etc/auditfwd/auditfwd.toml", "-rw-r--r--"),
        (
            "./usr/share/doc/auditfwd/examples/auditfwd.example.toml",
            "-rw-r--r--",
        ),
        ("./usr/share/doc/auditfwd/RUNBOOK.md", "-rw-r--r--"),
        ("./usr/share/doc/auditfwd/ibmi/README.md", "-rw-r--r--"),
        (
            "./usr/share/doc/auditfwd/event-v1.schema.json",
            "-rw-r--r--",
        ),
        (
            "./usr/share/auditfwd/prometheus/auditfwd-rules.yml",
            "-rw-r--r--",
        ),
        (
            "./usr/share/auditfwd/grafana/auditfwd-dashboard.json",
            "-rw-r--r--",
        ),
        (
            "./usr/share/auditfwd/qradar/auditfwd-leef-event-map.csv",
            "-rw-r--r--",
        ),
        (
            "./usr/share/auditfwd/splunk/auditfwd_ibmi/default/props.conf",
            "-rw-r--r--",
        ),
        (
            "./usr/share/auditfwd/schema/event-v2.schema.json",
            "-rw-r--r--",
        ),
    ] {
        let line = contents
            .lines()
            .find(|line| line.ends_with(&format!(" {path}")))
            .unwrap_or_else(|| panic!("{path} missing:\n{contents}"));
        assert!(line.starts_with(mode), "{path} has the wrong mode: {line}");
    }

    let info = |field: &str| -> String {
        let output = Command::new("dpkg-deb")
            .arg("--field")
            .arg(&deb)
            .arg(field)
            .output()
            .expect("dpkg-deb");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    assert_eq!(info("Package"), "auditfwd");
    assert_eq!(info("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    assert!(info("Depends").contains("unixodbc"), "{}", info("Depends"));

    let control = out.path().join("control");
    let extracted = Command::new("dpkg-deb")
        .arg("--control")
        .arg(&deb)
        .arg(&control)
        .status()
        .expect("dpkg-deb");
    assert!(extracted.success());
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(
        conffiles
            .lines()
            .any(|line| line == "/etc/auditfwd/auditfwd.toml"),
        "{conffiles}"
    );
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(
        postinst.contains("install -d -m 0700 /var/lib/auditfwd"),
        "the state directory is created: {postinst}"
    );
    assert!(
        postinst.contains("deb-systemd-helper"),
        "the unit is registered: {postinst}"
    );

    // The packaged configuration is valid for the packaged binary.
    let root = out.path().join("root");
    let unpacked = Command::new("dpkg-deb")
        .arg("--extract")
        .arg(&deb)
        .arg(&root)
        .status()
        .expect("dpkg-deb");
    assert!(unpacked.success());
    let check = Command::new(root.join("usr/bin/auditfwd"))
        .args(["check-config", "-c"])
        .arg(root.join("etc/auditfwd/auditfwd.toml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // A release build has no failpoints: the variable that makes a test build
    // panic on the main path does nothing here.
    let with_failpoint = Command::new(root.join("usr/bin/auditfwd"))
        .args(["check-config", "-c"])
        .arg(root.join("etc/auditfwd/auditfwd.toml"))
        .env("AUDITFWD_FAILPOINTS", "main=panic@1")
        .output()
        .unwrap();
    assert_eq!(
        with_failpoint.status.code(),
        Some(0),
        "the packaged binary obeyed AUDITFWD_FAILPOINTS: {}",
        String::from_utf8_lossy(&with_failpoint.stderr)
    );
    let unit =
        std::fs::read_to_string(root.join("usr/lib/systemd/system/auditfwd.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/auditfwd run -c /etc/auditfwd/auditfwd.toml"));
}

#[test]
fn systemd_unit_verifies_and_its_exposure_is_at_most_two() {
    let has_analyze = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        has_analyze,
        "systemd-analyze is missing: `apt-get install systemd` (bash .ci/setup does)"
    );
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/auditfwd.service"
    ))
    .unwrap();
    // Verify the unit as shipped, with ExecStart pointing at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auditfwd.service");
    std::fs::write(
        &path,
        unit.replace("/usr/bin/auditfwd", env!("CARGO_BIN_EXE_auditfwd")),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr).into_owned();
    assert!(
        verify.status.success() && !complaints.contains("auditfwd.service:"),
        "systemd-analyze verify: {complaints}"
    );

    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&path)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&security.stdout).into_owned();
    let exposure: f64 = report
        .lines()
        .find(|line| line.contains("Overall exposure level"))
        .and_then(|line| line.split(':').nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no exposure figure in: {report}"));
    assert!(
        exposure <= 2.0,
        "exposure {exposure} is above 2.0:\n{report}"
    );
    let documented =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/README.md")).unwrap();
    assert!(
        documented.contains(&format!("{exposure:.1}")),
        "systemd/README.md does not state the measured {exposure:.1}"
    );
}

#[test]
fn kubernetes_example_validates_and_carries_a_valid_configuration() {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/kubernetes/auditfwd.yaml"
    );
    let output = Command::new("kubernetes-validate")
        .args(["-k", "1.30.0", "--strict", manifest])
        .output()
        .unwrap_or_else(|error| {
            panic!("kubernetes-validate is needed ({error}): `pip install kubernetes-validate` (bash .ci/setup does it)")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    for kind in [
        "configmap/auditfwd-config",
        "statefulset/auditfwd",
        "service/auditfwd",
    ] {
        assert!(
            text.contains(&format!("passed for resource {kind}")),
            "{text}"
        );
    }
    // The configuration in the ConfigMap is one auditfwd accepts.
    let yaml = std::fs::read_to_string(manifest).unwrap();
    let toml: String = yaml
        .split("auditfwd.toml: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|line| line.starts_with("    ") || line.is_empty())
        .map(|line| format!("{}\n", line.trim_start()))
        .collect();
    let workspace = crate::harness::Workspace::new();
    workspace.write("auditfwd.toml", &toml);
    workspace.write("pw", "x\n");
    let checked = workspace.run(&[
        "check-config",
        "-c",
        "auditfwd.toml",
        "--set",
        "sources.0.odbc.password_file=\"pw\"",
        "--set",
        "sources.1.odbc.password_file=\"pw\"",
        "--set",
        "sinks.0.token_file=\"pw\"",
        "--set",
        "state.dir=\"state\"",
    ]);
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
}
