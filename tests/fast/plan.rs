//! The run plan: TLS material is read at load and the sinks are built from
//! it, so files removed after loading change nothing.

use auditfwd::background::Background;
use auditfwd::config::CommandLine;
use auditfwd::plan::RunPlan;
use auditfwd::settings::Config;
use auditfwd::sink::{Clients, Sink, SinkConfig};

use crate::harness::Workspace;

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A syslog sink over mutual TLS and a Splunk HEC sink with its own CA,
/// their files in `workspace`.
fn tls_sinks(workspace: &Workspace) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let files: Vec<std::path::PathBuf> = ["ca.pem", "client.pem", "client-key.pem"]
        .iter()
        .map(|name| workspace.write(name, &fixture(name)))
        .collect();
    let [ca, cert, key] = [0, 1, 2].map(|index| files[index].display().to_string());
    let config = workspace.write(
        "tls.toml",
        &format!(
            "[[sinks]]\ntype = \"syslog\"\naddress = \"127.0.0.1:6514\"\ntransport = \"tls\"\ntls_server_name = \"localhost\"\ntls_ca_file = \"{ca}\"\ntls_cert_file = \"{cert}\"\ntls_key_file = \"{key}\"\n\n[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://127.0.0.1:8088\"\ntoken = \"t\"\ntls_ca_file = \"{ca}\"\n"
        ),
    );
    (config, files)
}

#[test]
fn sinks_are_built_from_the_material_read_at_load_after_the_files_are_gone() {
    let workspace = Workspace::new();
    let (config, files) = tls_sinks(&workspace);
    let loaded = Config::load(&[config], &CommandLine::default()).expect("the configuration loads");
    let plan = RunPlan::new(loaded).expect("it plans");
    for file in &files {
        std::fs::remove_file(file).unwrap();
    }
    let sinks = &plan.systems[0].sinks;
    assert_eq!(sinks.len(), 2);
    // No run: the sinks' background work (none starts at build) would go here.
    let background = Background::default();
    for sink in sinks {
        if let Err(error) = Sink::build(&sink.config, &Clients::default(), &background.spawner()) {
            panic!("{}: {error}", sink.name);
        }
    }
    // The same sections without what loading read: the build refuses them,
    // naming the keys, instead of reading the files (gone now) itself.
    for sink in sinks {
        let mut unloaded = sink.config.clone();
        match &mut unloaded {
            SinkConfig::Syslog(syslog) => syslog.tls_material = None,
            SinkConfig::SplunkHec(hec) => hec.tls_material = None,
            other => panic!("unexpected sink {}", other.describe()),
        }
        let error = Sink::build(&unloaded, &Clients::default(), &background.spawner())
            .err()
            .unwrap_or_else(|| panic!("{}: built without its TLS material", sink.name));
        assert!(
            error.message.contains("tls_ca_file") && error.message.contains("were not read"),
            "{}: {error}",
            sink.name
        );
    }
}

#[test]
fn a_client_key_that_does_not_sign_for_its_certificate_is_refused_at_load() {
    let workspace = Workspace::new();
    let (config, files) = tls_sinks(&workspace);
    // The CA's certificate with the client's key: a pair that does not match.
    let mismatched = workspace.write(
        "mismatched.toml",
        &std::fs::read_to_string(&config).unwrap().replace(
            &files[1].display().to_string(),
            &files[0].display().to_string(),
        ),
    );
    let errors = Config::load(&[mismatched], &CommandLine::default())
        .expect_err("a key that is not the certificate's is refused")
        .0;
    // rustls compares the key with the certificate's public key.
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].key, "sinks[0].tls_key_file", "{}", errors[0]);
    assert!(
        errors[0].message.contains("client certificate"),
        "{}",
        errors[0]
    );
}
