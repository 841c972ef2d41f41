//! The mapping table's refinements per format: OCSF classes and types, CIM
//! fields and tags, the native schemas, the QRadar map, session events.

use super::text::parse_leef;
use super::*;

// ------------------------------------------------- the table's refinements

fn find(
    events: &[crate::event::Event],
    what: impl Fn(&crate::event::Event) -> bool,
) -> &crate::event::Event {
    events
        .iter()
        .find(|event| what(event))
        .expect("such an event")
}

#[test]
fn ocsf_refinements_follow_the_entry() {
    let events = every_kind_of_event();
    let js = |code: &'static str, job: &'static str| {
        move |event: &crate::event::Event| {
            event.entry_type.as_deref() == Some(code) && event.job_name.as_deref() == Some(job)
        }
    };
    let remote_5250 = ocsf::ocsf(find(&events, js("S", "QPADEV0001")));
    assert_eq!(
        (
            remote_5250["class_uid"].as_u64(),
            remote_5250["activity_id"].as_u64()
        ),
        (Some(3002), Some(1))
    );
    assert_eq!(remote_5250["logon_type_id"], 10);
    let console = ocsf::ocsf(find(&events, js("S", "DSP01")));
    assert_eq!(console["logon_type_id"], 2);
    let cleartext = ocsf::ocsf(find(&events, js("S", "QZDASOINIT")));
    assert_eq!(cleartext["logon_type_id"], 8);
    assert_eq!(cleartext["is_cleartext"], true);
    let tls = ocsf::ocsf(find(&events, js("S", "QZDASSINIT")));
    assert_eq!(
        (tls["logon_type_id"].as_u64(), tls["is_cleartext"].as_bool()),
        (Some(3), Some(false))
    );
    assert_eq!(
        ocsf::ocsf(find(&events, js("E", "NIGHTLY")))["logon_type_id"],
        4
    );
    let swap = ocsf::ocsf(find(&events, js("M", "QPADEV0001")));
    assert_eq!(
        (
            swap["activity_id"].as_u64(),
            swap["account_switch_type_id"].as_u64()
        ),
        (Some(7), Some(1))
    );
    assert_eq!(swap["user"]["name"], "QSECOFR");
    let token = ocsf::ocsf(find(&events, js("T", "QPADEV0001")));
    assert_eq!(token["account_switch_type_id"], 2);
    let code = |kind: &'static str, code: &'static str| {
        move |event: &crate::event::Event| {
            event.audit_type == Some(kind) && event.code() == Some(code) && event.signal.is_none()
        }
    };
    let failed = ocsf::ocsf(find(&events, code("PW", "P")));
    assert_eq!(
        (
            failed["class_uid"].as_u64(),
            failed["activity_id"].as_u64(),
            failed["status_id"].as_u64()
        ),
        (Some(3002), Some(1), Some(2))
    );
    let created = ocsf::ocsf(find(&events, code("CP", "CRT")));
    assert_eq!(created["class_uid"], 3001);
    let dst = ocsf::ocsf(find(&events, code("CP", "DST")));
    assert_eq!(
        (dst["class_uid"].as_u64(), dst["activity_id"].as_u64()),
        (Some(3001), Some(4))
    );
    let granted = ocsf::ocsf(find(&events, |event| {
        event.event_action == "privilege_granted"
    }));
    assert_eq!(
        (
            granted["class_uid"].as_u64(),
            granted["activity_id"].as_u64()
        ),
        (Some(3005), Some(1))
    );
    assert!(granted["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|privilege| privilege == "*ALLOBJ" || privilege == "*SECADM"));
    let password = ocsf::ocsf(find(&events, |event| {
        event.event_action == "password_changed"
    }));
    assert_eq!(password["activity_id"], 3);
    let disabled = ocsf::ocsf(find(&events, |event| event.event_action == "user_disabled"));
    assert_eq!(disabled["activity_id"], 5);
    let audit_off = ocsf::ocsf(find(&events, |event| {
        event.event_action == "audit_policy_changed"
            && event
                .details
                .as_ref()
                .and_then(|details| details.text("NEW_VALUE"))
                == Some("*NONE")
    }));
    assert_eq!(
        (
            audit_off["class_uid"].as_u64(),
            audit_off["activity_id"].as_u64()
        ),
        (Some(1008), Some(10))
    );
    let auditing_off = ocsf::ocsf(find(&events, |event| {
        event.event_action == "auditing_disabled"
    }));
    assert_eq!(
        (
            auditing_off["class_uid"].as_u64(),
            auditing_off["activity_id"].as_u64()
        ),
        (Some(1008), Some(10))
    );
    let gap = ocsf::ocsf(find(&events, |event| event.event_action == "audit_gap"));
    assert_eq!(gap["class_uid"], 1008);
    let burst = ocsf::ocsf(find(&events, |event| event.signal.is_some()));
    assert_eq!(
        (burst["class_uid"].as_u64(), burst["type_uid"].as_u64()),
        (Some(2004), Some(200401))
    );
    let port = ocsf::ocsf(find(&events, |event| {
        event.audit_type == Some("AF")
            && event.code() == Some("T")
            && event
                .details
                .as_ref()
                .and_then(|details| details.value("TCPIP_PORT"))
                == Some(&Column::Integer(23))
    }));
    assert_eq!(port["dst_endpoint"]["port"], 23);
}

#[test]
fn cim_fields_and_tags() {
    let events = every_kind_of_event();
    let cleartext_secofr = find(&events, |event| {
        event.entry_type.as_deref() == Some("S")
            && event.job_name.as_deref() == Some("QZDASOINIT")
            && event.real_user_profile.as_deref() == Some("QSECOFR")
    });
    let fields = cim::fields(cleartext_secofr);
    assert_eq!(fields["action"], "success");
    assert_eq!(fields["signature_id"], "JS_S");
    assert_eq!(fields["dest"], "PROD1");
    assert_eq!(fields["user"], "QSECOFR");
    let tags = cim::tags(cleartext_secofr);
    for tag in [
        "authentication",
        "default",
        "insecure",
        "cleartext",
        "privileged",
    ] {
        assert!(tags.contains(&tag), "{tag} in {tags:?}");
    }
    let failed = find(&events, |event| {
        event.audit_type == Some("PW") && event.signal.is_none()
    });
    assert_eq!(cim::fields(failed)["action"], "failure");
    let created = find(&events, |event| {
        event.audit_type == Some("CP") && event.code() == Some("CRT")
    });
    assert_eq!(cim::tags(created), ["change", "account"]);
    assert_eq!(cim::fields(created)["action"], "created");
    for event in &events {
        for tag in cim::tags(event) {
            assert!(cim::ALL_TAGS.contains(&tag), "{tag}");
        }
        assert!(matches!(
            mapping::lookup(event).key,
            Key::Codes(_) | Key::Detection(..) | Key::Own(_)
        ));
    }
}

/// Every kind of event is a valid native v2 event under the published JSON
/// Schema (generated from the catalog), and a JS event written as v1 is a
/// valid v1 event.
#[test]
fn every_kind_of_event_validates_against_the_native_schemas() {
    let validator =
        jsonschema::validator_for(&crate::event::schema::v2()).expect("the v2 schema compiles");
    let events = every_kind_of_event();
    assert!(
        events.iter().any(|event| event.signal.is_some()),
        "a signal"
    );
    assert!(
        events
            .iter()
            .any(|event| event.message.is_some() && event.signal.is_none()),
        "a notice"
    );
    for event in &events {
        let json = serde_json::to_value(event).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {json}");
    }
    let v1: serde_json::Value =
        serde_json::from_str(include_str!("../../../deploy/schema/event-v1.schema.json")).unwrap();
    let v1 = jsonschema::validator_for(&v1).unwrap();
    let mut js = bare(1);
    js.entry_type = Some("S".into());
    js.job_type = Some("INT".into());
    js.real_user_profile = Some("QSECOFR".into());
    let old = Enricher::default().with_schema(1).enrich_owned(js);
    assert!(v1.is_valid(&serde_json::to_value(&old).unwrap()));
}

#[test]
fn every_leef_event_has_its_row_in_the_qradar_map() {
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/qradar/auditfwd-leef-event-map.csv"
    ))
    .unwrap();
    let rows: std::collections::HashSet<(String, String)> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect();
    let mut missing = std::collections::BTreeSet::new();
    // Codes the catalog does not know cannot be in a fixed map (their ids are
    // IBM's new codes); every known code and detection must be.
    for event in every_kind_of_event()
        .into_iter()
        .filter(|event| !matches!(event.event_action.as_ref(), "audit_entry" | "unknown"))
    {
        let (header, attributes) = parse_leef(&cef::leef(&event, 0));
        let key = (header[4].clone(), attributes["cat"].clone());
        if !rows.contains(&key) {
            missing.insert(key);
        }
    }
    assert!(
        missing.is_empty(),
        "LEEF (event id, cat) pairs without a row: {missing:?}"
    );
}

#[test]
fn ocsf_file_type_is_the_caption_of_its_type_id() {
    let row = typed(
        &catalog::OW,
        "A",
        1,
        &[("OBJECT_TYPE", Column::Text("*PGM".into()))],
    );
    let event = Enricher::default().enrich_owned(row);
    let document = ocsf::ocsf(&event);
    assert_eq!(document["file"]["type_id"], 8, "{document}");
    assert_eq!(document["file"]["type"], "Executable File");
}

#[test]
fn session_events_map_to_ocsf_logon_logoff_and_ecs_session() {
    let events = every_kind_of_event();
    let ended = events
        .iter()
        .find(|event| {
            event
                .session
                .as_ref()
                .is_some_and(|session| session.ended_at.is_some())
        })
        .expect("a session with a known end");
    let session = ended.session.as_ref().unwrap();
    let started_ms = session.started_at.timestamp_millis();
    let ended_ms = session.ended_at.unwrap().timestamp_millis();
    let document = ocsf::ocsf(ended);
    assert_eq!(document["class_uid"], 3002);
    assert_eq!(document["activity_id"], 2, "{document}");
    assert_eq!(document["start_time"], started_ms);
    assert_eq!(document["end_time"], ended_ms);
    assert_eq!(document["duration"], ended_ms - started_ms);
    assert_eq!(document["session"]["uid"], session.id.as_str());
    let document = ecs::ecs(ended);
    assert_eq!(
        document["event"]["category"],
        serde_json::json!(["session"])
    );
    assert_eq!(document["event"]["type"], serde_json::json!(["end"]));
    assert_eq!(
        document["event"]["duration"],
        (session.ended_at.unwrap().timestamp_micros() - session.started_at.timestamp_micros())
            * 1000
    );
    let start = events
        .iter()
        .find(|event| event.event_action == "session_start")
        .unwrap();
    assert_eq!(ocsf::ocsf(start)["activity_id"], 1);
    assert_eq!(
        ecs::ecs(start)["event"]["type"],
        serde_json::json!(["start"])
    );
    assert!(ecs::ecs(start)["event"].get("duration").is_none());
    // An unknown end: no end time and no duration anywhere.
    let unknown = events
        .iter()
        .find(|event| {
            event
                .session
                .as_ref()
                .is_some_and(|session| session.end_reason.is_some() && session.ended_at.is_none())
        })
        .unwrap();
    assert!(ocsf::ocsf(unknown).get("duration").is_none());
    assert!(ecs::ecs(unknown)["event"].get("end").is_none());
}
