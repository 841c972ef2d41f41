//! The formats against the real schemas: every kind of event, formatted as
//! OCSF, validates against OCSF 1.8.0's class and object definitions
//! (`tests/fixtures/ocsf/`), as ECS uses only ECS 8.17 fields with their
//! types and allowed values (`tests/fixtures/ecs/`), and as CEF and LEEF
//! parses back with parsers written here, not the formatter's code.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::mapping::{self, Key};
use super::*;
use crate::enrich::Enricher;
use crate::event::audit::{catalog, Details, Kind, Value as Column};
use crate::event::{JournalRow, Notice};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

// ---------------------------------------------------------------- events

/// A typed entry with column values that make a detection fire.
type Detection = (
    &'static crate::event::audit::TypeSpec,
    &'static str,
    Vec<(&'static str, Column)>,
);

fn bare(sequence: u64) -> JournalRow {
    let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_micro_opt(9, 0, 0, 42)
        .unwrap();
    let mut row = JournalRow::bare(
        "PROD1",
        "QGPL",
        "AUDRCV0001",
        sequence,
        local,
        local.and_utc(),
    );
    row.user_name = Some("QUSER".into());
    row.remote_address = Some("192.0.2.1".into());
    row.remote_port = Some(50000);
    row.qualified_job_name = Some("123456/QUSER/QZDASOINIT".into());
    row.job_name = Some("QZDASOINIT".into());
    row.job_user = Some("QUSER".into());
    row.job_number = Some("123456".into());
    row
}

fn typed(
    spec: &'static crate::event::audit::TypeSpec,
    code: &str,
    sequence: u64,
    extra: &[(&str, Column)],
) -> JournalRow {
    let values = spec
        .columns
        .iter()
        .map(|column| {
            if let Some((_, value)) = extra.iter().find(|(name, _)| *name == column.name) {
                return value.clone();
            }
            match (column.name == spec.code_column, column.kind) {
                (true, _) => Column::Text(code.into()),
                (false, Kind::Text) => Column::Text("QSECOFR".into()),
                (false, Kind::Integer) => Column::Integer(7),
                (false, Kind::Flag) => Column::Flag(sequence % 2 == 0),
            }
        })
        .collect();
    let mut row = bare(sequence);
    row.details = Some(Details { spec, values });
    row
}

/// Every code of every type (and one the catalog lacks), JS over every access
/// method, the detections, an audit gap, a malformed row, burst signals, and
/// the simulator's first entries.
pub(crate) fn every_kind_of_event() -> Vec<crate::event::Event> {
    let mut enricher = Enricher::default();
    enricher.set_system_privileged(["QSECOFR".to_owned()]);
    let mut rows = Vec::new();
    let mut sequence = 1;
    let mut next = || {
        sequence += 1;
        sequence
    };
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        for code in spec.codes.iter().map(|code| code.code).chain(["?"]) {
            rows.push(typed(spec, code, next(), &[]));
            let mut plain = typed(spec, code, next(), &[]);
            plain.remote_address = Some("APPN.NETWORK".into());
            plain.user_name = None;
            plain.qualified_job_name = None;
            plain.job_number = None;
            rows.push(plain);
        }
    }
    let flag = Column::Flag;
    let text = |value: &str| Column::Text(value.into());
    let detections: Vec<Detection> = vec![
        (
            &catalog::CP,
            "CHG",
            vec![
                ("ALLOBJ", flag(true)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::CP,
            "CRT",
            vec![
                ("SECADM", flag(true)),
                ("PREVIOUS_SECADM", flag(false)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("NEWADM")),
            ],
        ),
        (
            &catalog::CP,
            "CHG",
            vec![
                ("PASSWORD_CHANGED", flag(true)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("SECADM", flag(false)),
                ("PREVIOUS_SECADM", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::CP,
            "CHG",
            vec![
                ("STATUS", text("*DISABLED")),
                ("PASSWORD_CHANGED", flag(false)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("SECADM", flag(false)),
                ("PREVIOUS_SECADM", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QAUDCTL")),
                ("OLD_VALUE", text("*AUDLVL")),
                ("NEW_VALUE", text("*NONE")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QAUDLVL")),
                ("OLD_VALUE", text("*AUTFAIL")),
                ("NEW_VALUE", text("*SECURITY")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QMAXSIGN")),
                ("OLD_VALUE", text("3")),
                ("NEW_VALUE", text("25")),
            ],
        ),
        (
            &catalog::AD,
            "O",
            vec![
                ("OBJECT_AUDIT", text("*NONE")),
                ("PREV_OBJECT_AUDIT", text("*ALL")),
            ],
        ),
        (
            &catalog::AD,
            "O",
            vec![
                ("OBJECT_AUDIT", text("*ALL")),
                ("PREV_OBJECT_AUDIT", text("*NONE")),
            ],
        ),
        (
            &catalog::GR,
            "F",
            vec![
                ("USAGE_SETTING", text("*DENIED")),
                ("FUNCTION_NAME", text("QIBM_DB_SQLADM")),
            ],
        ),
        (
            &catalog::GR,
            "F",
            vec![
                ("USAGE_SETTING", Column::Null),
                ("FUNCTION_NAME", Column::Null),
                ("USER_PROFILE_NAME", Column::Null),
            ],
        ),
        (
            &catalog::AF,
            "A",
            vec![
                ("PATH_NAME", text("/home/jsmith/.profile")),
                ("OBJECT_NAME", Column::Null),
                ("OBJECT_TYPE", text("*STMF")),
            ],
        ),
        (
            &catalog::OW,
            "A",
            vec![
                ("OBJECT_TYPE", text("*PGM")),
                ("PATH_NAME", Column::Null),
                ("NEW_OWNER", text("QSECOFR")),
            ],
        ),
        (&catalog::AF, "T", vec![("TCPIP_PORT", Column::Integer(23))]),
    ];
    for (spec, code, extra) in &detections {
        rows.push(typed(spec, code, next(), extra));
    }
    let methods: &[(&str, &str, Option<&str>)] = &[
        ("INT", "QPADEV0001", Some("192.0.2.7")),
        ("INT", "DSP01", None),
        ("PJ", "QZDASOINIT", Some("192.0.2.8")),
        ("PJ", "QZDASSINIT", Some("2001:db8::8")),
        ("BCH", "NIGHTLY", None),
        ("SYS", "QSYSARB", None),
        ("PJ", "QSSHD", Some("192.0.2.9")),
        ("BCI", "QP0ZSPWP", Some("not an address")),
        ("PJ", "QTFTP01234", Some("192.0.2.10")),
        ("X", "UNKNOWN", None),
    ];
    let codes = crate::enrich::classify::EVENT_ACTIONS
        .iter()
        .map(|(code, _, _)| *code)
        .chain(["?"]);
    for (index, code) in codes.enumerate() {
        for (offset, (job_type, job_name, address)) in methods.iter().enumerate() {
            if offset % 3 != index % 3 && !matches!(code, "S" | "E" | "M" | "T") {
                continue;
            }
            let mut row = bare(next());
            row.entry_type = Some(code.into());
            row.job_type = Some((*job_type).into());
            row.job_name = Some((*job_name).into());
            row.qualified_job_name = Some(format!("123456/JSMITH/{job_name}"));
            row.remote_address = address.map(str::to_owned);
            row.real_user_profile = Some(if offset % 2 == 0 { "QSECOFR" } else { "JSMITH" }.into());
            if matches!(code, "M" | "T") {
                row.effective_user_profile = Some("QSECOFR".into());
            }
            rows.push(row);
        }
    }
    let mut gap = bare(next());
    gap.notice = Some(Notice {
        action: "audit_gap",
        message: "receiver AUDRCV0002 deleted before it was read".into(),
    });
    rows.push(gap);
    let mut malformed = bare(next());
    malformed.notice = Some(Notice {
        action: "malformed_row",
        message: "ENTRY_TIMESTAMP \"x\" is not a timestamp".into(),
    });
    malformed.user_name = None;
    malformed.remote_address = None;
    rows.push(malformed);
    let simulator = crate::source::config::SimulatorConfig::default();
    for ordinal in 0..2_000 {
        rows.push(crate::source::simulator::entry(&simulator, ordinal));
    }
    let mut events: Vec<_> = rows
        .into_iter()
        .map(|row| enricher.enrich_owned(row))
        .collect();
    let mut burst = crate::enrich::burst::BurstDetector::new(
        &crate::enrich::config::BurstConfig::default(),
        None,
    );
    let signals: Vec<_> = events
        .iter()
        .filter(|event| event.audit_type == Some("PW"))
        .flat_map(|event| burst.observe(event))
        .collect();
    assert!(signals
        .iter()
        .any(|signal| signal.signal.as_ref().unwrap().key_kind == "user"));
    events.extend(signals);
    events
}

// ------------------------------------------------------------------ OCSF

/// OCSF 1.8.0's definitions as vendored: classes, objects, profiles and the
/// dictionary, resolved the way the OCSF server compiles them (a definition
/// extends its parent's attributes and those of the profiles it includes).
struct OcsfSchema {
    dictionary: Map<String, Value>,
    types: Map<String, Value>,
    categories: Map<String, Value>,
    classes: HashMap<String, Value>,
    objects: HashMap<String, Value>,
    root: PathBuf,
}

/// An attribute set: name → merged definition; and the constraints.
struct Resolved {
    attributes: BTreeMap<String, Map<String, Value>>,
    constraints: Vec<(String, Vec<String>)>,
}

fn load_dir(dir: &Path, into: &mut HashMap<String, Value>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            load_dir(&path, into);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            let value = read_json(&path);
            let name = value["name"].as_str().unwrap().to_owned();
            into.insert(name, value);
        }
    }
}

impl OcsfSchema {
    fn load() -> OcsfSchema {
        let root = fixtures().join("ocsf");
        let dictionary = read_json(&root.join("dictionary.json"));
        let categories = read_json(&root.join("categories.json"));
        let mut classes = HashMap::new();
        load_dir(&root.join("events"), &mut classes);
        let mut objects = HashMap::new();
        load_dir(&root.join("objects"), &mut objects);
        assert_eq!(read_json(&root.join("version.json"))["version"], "1.8.0");
        OcsfSchema {
            dictionary: dictionary["attributes"].as_object().unwrap().clone(),
            types: dictionary["types"]["attributes"]
                .as_object()
                .unwrap()
                .clone(),
            categories: categories["attributes"].as_object().unwrap().clone(),
            classes,
            objects,
            root,
        }
    }

    /// Merges `definition`'s attributes (and its `$include`s) over `into`.
    fn merge(&self, definition: &Value, into: &mut Resolved) {
        let Some(attributes) = definition["attributes"].as_object() else {
            return;
        };
        for include in attributes
            .get("$include")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let path = include.as_str().unwrap();
            let included = read_json(&self.root.join(path));
            let before: Vec<String> = into.attributes.keys().cloned().collect();
            self.merge(&included, into);
            // A profile's attributes belong to the event only when the event
            // applies the profile (metadata.profiles), unless a definition
            // below says `"profile": null`.
            if path.starts_with("profiles/") {
                let profile = included["name"].clone();
                for name in included["attributes"].as_object().unwrap().keys() {
                    if !before.contains(name) {
                        into.attributes
                            .get_mut(name)
                            .unwrap()
                            .insert("profile".into(), profile.clone());
                    }
                }
            }
        }
        for (name, attribute) in attributes {
            if name == "$include" {
                continue;
            }
            let slot = into.attributes.entry(name.clone()).or_default();
            for (key, value) in attribute.as_object().unwrap() {
                if key == "enum" {
                    let merged = slot
                        .entry("enum")
                        .or_insert_with(|| Value::Object(Map::new()));
                    for (id, caption) in value.as_object().unwrap() {
                        merged[id] = caption.clone();
                    }
                } else {
                    slot.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(constraints) = definition["constraints"].as_object() {
            // The most derived definition's constraints replace its parent's.
            into.constraints.clear();
            for (kind, names) in constraints {
                let names = names
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|name| name.as_str().unwrap().to_owned())
                    .collect();
                into.constraints.push((kind.clone(), names));
            }
        }
    }

    /// A class or object with everything it extends.
    fn resolve(&self, table: &HashMap<String, Value>, name: &str) -> Resolved {
        let mut chain = Vec::new();
        let mut current = Some(name.to_owned());
        while let Some(name) = current {
            let definition = table
                .get(&name)
                .unwrap_or_else(|| panic!("OCSF definition {name} is not vendored"));
            chain.push(definition);
            current = definition["extends"].as_str().map(str::to_owned);
        }
        let mut resolved = Resolved {
            attributes: BTreeMap::new(),
            constraints: Vec::new(),
        };
        for definition in chain.iter().rev() {
            self.merge(definition, &mut resolved);
        }
        resolved
    }

    /// The class with this uid, and its category's uid.
    fn class(&self, class_uid: u64) -> (&Value, u64) {
        for class in self.classes.values() {
            let Some(uid) = class["uid"].as_u64() else {
                continue;
            };
            let mut category = None;
            let mut current = Some(class);
            while let Some(definition) = current {
                if let Some(name) = definition["category"].as_str() {
                    category = Some(name);
                    break;
                }
                current = definition["extends"]
                    .as_str()
                    .and_then(|parent| self.classes.get(parent));
            }
            let category_uid = self.categories[category.unwrap()]["uid"].as_u64().unwrap();
            if category_uid * 1000 + uid == class_uid {
                return (class, category_uid);
            }
        }
        panic!("class {class_uid} is not vendored");
    }

    fn scalar(&self, name: &str, kind: &str, value: &Value, errors: &mut Vec<String>, path: &str) {
        let base = self
            .types
            .get(kind)
            .and_then(|definition| definition["type"].as_str())
            .unwrap_or(kind);
        let base = self
            .types
            .get(base)
            .and_then(|definition| definition["type"].as_str())
            .unwrap_or(base);
        let ok = match (kind, base) {
            ("ip_t", _) => value
                .as_str()
                .is_some_and(|text| text.parse::<std::net::IpAddr>().is_ok()),
            ("port_t", _) => value.as_u64().is_some_and(|port| port <= 65_535),
            (_, "string_t") => value.is_string(),
            (_, "integer_t") => value
                .as_i64()
                .is_some_and(|number| i32::try_from(number).is_ok()),
            (_, "long_t") => value.is_i64() || value.is_u64(),
            (_, "float_t") => value.is_number(),
            (_, "boolean_t") => value.is_boolean(),
            (_, "json_t") => true,
            _ => {
                errors.push(format!("{path}.{name}: unknown type {kind}"));
                true
            }
        };
        if !ok {
            errors.push(format!("{path}.{name}: {value} is not a {kind}"));
        }
    }

    fn validate_object(
        &self,
        value: &Value,
        resolved: &Resolved,
        profiles: &[&str],
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            errors.push(format!("{path}: not an object"));
            return;
        };
        let applies = |definition: &Map<String, Value>| match definition
            .get("profile")
            .and_then(Value::as_str)
        {
            Some(profile) => profiles.contains(&profile),
            None => true,
        };
        for (name, definition) in &resolved.attributes {
            if applies(definition)
                && definition.get("requirement").and_then(Value::as_str) == Some("required")
                && !object.contains_key(name)
            {
                errors.push(format!("{path}: required attribute {name} missing"));
            }
        }
        for (kind, names) in &resolved.constraints {
            let present = names
                .iter()
                .filter(|name| object.contains_key(*name))
                .count();
            match kind.as_str() {
                "at_least_one" if present == 0 => {
                    errors.push(format!("{path}: needs at least one of {names:?}"))
                }
                "just_one" if present != 1 => {
                    errors.push(format!("{path}: needs exactly one of {names:?}"))
                }
                _ => {}
            }
        }
        for (name, value) in object {
            let Some(definition) = resolved
                .attributes
                .get(name)
                .filter(|definition| applies(definition))
            else {
                errors.push(format!(
                    "{path}: {name} is not an attribute here (or its profile is not applied)"
                ));
                continue;
            };
            let dictionary = self.dictionary.get(name).and_then(Value::as_object);
            let Some(dictionary) = dictionary else {
                errors.push(format!("{path}: {name} is not in the dictionary"));
                continue;
            };
            let kind = definition
                .get("type")
                .or_else(|| dictionary.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let is_array = dictionary
                .get("is_array")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let items: Vec<&Value> = if is_array {
                match value.as_array() {
                    Some(items) => items.iter().collect(),
                    None => {
                        errors.push(format!("{path}.{name}: must be an array"));
                        continue;
                    }
                }
            } else {
                vec![value]
            };
            // The class's or object's values, and the dictionary's (0 Unknown, 99 Other).
            let mut allowed: Option<Map<String, Value>> = None;
            for values in [definition.get("enum"), dictionary.get("enum")]
                .into_iter()
                .flatten()
            {
                allowed
                    .get_or_insert_with(Map::new)
                    .extend(values.as_object().unwrap().clone());
            }
            // class_uid, category_uid and type_uid are checked against the class below.
            if matches!(name.as_str(), "class_uid" | "category_uid" | "type_uid") {
                allowed = None;
            }
            for item in items {
                if kind == "object" {
                    if !item.is_object() {
                        errors.push(format!("{path}.{name}: not an object"));
                    }
                } else if kind.ends_with("_t") {
                    self.scalar(name, kind, item, errors, path);
                    if let (Some(allowed), Some(number)) = (&allowed, item.as_i64()) {
                        if !allowed.contains_key(&number.to_string()) {
                            errors.push(format!(
                                "{path}.{name}: {number} is not one of {:?}",
                                allowed.keys().collect::<Vec<_>>()
                            ));
                        }
                    }
                } else {
                    let nested = self.resolve(&self.objects, kind);
                    self.validate_object(
                        item,
                        &nested,
                        profiles,
                        &format!("{path}.{name}"),
                        errors,
                    );
                }
            }
        }
    }

    /// Every problem of `event` against its class.
    fn validate(&self, event: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        let class_uid = event["class_uid"].as_u64().unwrap_or(0);
        let (class, category_uid) = self.class(class_uid);
        let resolved = self.resolve(&self.classes, class["name"].as_str().unwrap());
        let profiles: Vec<&str> = event["metadata"]["profiles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        self.validate_object(
            event,
            &resolved,
            &profiles,
            class["name"].as_str().unwrap(),
            &mut errors,
        );
        if event["category_uid"].as_u64() != Some(category_uid) {
            errors.push(format!(
                "category_uid {} is not {category_uid}",
                event["category_uid"]
            ));
        }
        let activity = event["activity_id"].as_u64().unwrap_or(u64::MAX);
        if event["type_uid"].as_u64() != Some(class_uid * 100 + activity) {
            errors.push(format!(
                "type_uid {} is not class_uid × 100 + activity_id",
                event["type_uid"]
            ));
        }
        let caption =
            resolved.attributes["activity_id"]["enum"][activity.to_string()]["caption"].as_str();
        if caption != event["activity_name"].as_str() {
            errors.push(format!(
                "activity_name {} is not the caption {caption:?}",
                event["activity_name"]
            ));
        }
        for (id, name) in [
            ("status_id", "status"),
            ("severity_id", "severity"),
            ("logon_type_id", "logon_type"),
            ("account_switch_type_id", "account_switch_type"),
        ] {
            if let Some(number) = event[id].as_u64() {
                let caption = self.dictionary[id]["enum"][number.to_string()]["caption"].as_str();
                if caption != event[name].as_str() {
                    errors.push(format!(
                        "{name} {} is not the caption {caption:?} of {id} {number}",
                        event[name]
                    ));
                }
            }
        }
        if event["metadata"]["version"] != "1.8.0"
            || event["metadata"]["product"]["name"] != "auditfwd"
        {
            errors.push("metadata names OCSF 1.8.0 and auditfwd".into());
        }
        errors
    }
}

#[test]
fn every_event_formatted_as_ocsf_validates_against_the_ocsf_1_8_0_definitions() {
    let schema = OcsfSchema::load();
    let events = every_kind_of_event();
    let mut classes = std::collections::BTreeSet::new();
    for event in &events {
        let ocsf = ocsf::ocsf(event);
        let errors = schema.validate(&ocsf);
        assert!(errors.is_empty(), "{errors:#?}\nin {ocsf:#}");
        // What the table says is what the code does.
        let row = mapping::lookup(event);
        assert_eq!(
            ocsf["class_uid"],
            row.ocsf_class.uid(),
            "{}",
            event.event_id
        );
        classes.insert(row.ocsf_class.uid());
    }
    assert_eq!(
        classes.len(),
        mapping::OcsfClass::ALL.len(),
        "every class is exercised: {classes:?}"
    );
}

// ------------------------------------------------------------------- ECS

/// ECS 8.17's fields as its Elasticsearch component templates define them,
/// and the allowed values of the categorisation fields.
struct EcsSchema {
    fields: HashMap<String, String>,
    allowed: Value,
}

fn flatten_mapping(
    prefix: &str,
    properties: &Map<String, Value>,
    into: &mut HashMap<String, String>,
) {
    for (name, definition) in properties {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(kind) = definition["type"].as_str() {
            into.insert(path.clone(), kind.to_owned());
        }
        if let Some(inner) = definition["properties"].as_object() {
            flatten_mapping(&path, inner, into);
        }
    }
}

impl EcsSchema {
    fn load() -> EcsSchema {
        let root = fixtures().join("ecs");
        let mut fields = HashMap::new();
        for entry in std::fs::read_dir(root.join("component")).unwrap() {
            let template = read_json(&entry.unwrap().path());
            assert_eq!(template["_meta"]["ecs_version"], "8.17.0");
            flatten_mapping(
                "",
                template["template"]["mappings"]["properties"]
                    .as_object()
                    .unwrap(),
                &mut fields,
            );
        }
        EcsSchema {
            fields,
            allowed: read_json(&root.join("allowed_values.json")),
        }
    }

    fn leaf(&self, path: &str, value: &Value, errors: &mut Vec<String>) {
        let Some(kind) = self.fields.get(path) else {
            errors.push(format!("{path} is not an ECS field"));
            return;
        };
        let ok = match kind.as_str() {
            "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => {
                value.is_string()
            }
            "long" => value.is_i64() || value.is_u64(),
            "integer" => value
                .as_i64()
                .is_some_and(|number| i32::try_from(number).is_ok()),
            "ip" => value
                .as_str()
                .is_some_and(|text| text.parse::<std::net::IpAddr>().is_ok()),
            "date" => value
                .as_str()
                .is_some_and(|text| chrono::DateTime::parse_from_rfc3339(text).is_ok()),
            "boolean" => value.is_boolean(),
            "float" | "scaled_float" | "double" => value.is_number(),
            other => {
                errors.push(format!("{path}: type {other} not handled"));
                true
            }
        };
        if !ok {
            errors.push(format!("{path}: {value} is not a {kind}"));
        }
        if let Some(allowed) = self.allowed["allowed_values"][path].as_array() {
            if !allowed.contains(value) {
                errors.push(format!("{path}: {value} is not an allowed value"));
            }
        }
    }

    fn walk(&self, prefix: &str, value: &Value, errors: &mut Vec<String>) {
        match value {
            Value::Object(map) if !self.fields.contains_key(prefix) || prefix.is_empty() => {
                for (name, child) in map {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    if path == "ibmi" {
                        continue;
                    }
                    self.walk(&path, child, errors);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.leaf(prefix, item, errors);
                }
            }
            _ => self.leaf(prefix, value, errors),
        }
    }

    fn validate(&self, document: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.walk("", document, &mut errors);
        let types: Vec<&Value> = document["event"]["type"]
            .as_array()
            .map(|types| types.iter().collect())
            .unwrap_or_default();
        for category in document["event"]["category"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let expected = &self.allowed["expected_event_types"][category.as_str().unwrap()];
            for kind in &types {
                if !expected.as_array().unwrap().contains(kind) {
                    errors.push(format!(
                        "event.type {kind} is not expected with event.category {category}"
                    ));
                }
            }
        }
        for required in ["@timestamp", "ecs", "event", "host"] {
            if document.get(required).is_none() {
                errors.push(format!("{required} missing"));
            }
        }
        errors
    }
}

#[test]
fn every_event_formatted_as_ecs_uses_ecs_8_17_fields_with_their_types() {
    let schema = EcsSchema::load();
    for event in &every_kind_of_event() {
        let document = ecs::ecs(event);
        let errors = schema.validate(&document);
        assert!(errors.is_empty(), "{errors:#?}\nin {document:#}");
        let row = mapping::lookup(event);
        assert_eq!(document["event"]["outcome"], row.outcome.ecs());
        assert_eq!(document["event"]["module"], "ibmi");
        assert_eq!(document["event"]["dataset"], "ibmi.audit");
        assert_eq!(document["host"]["hostname"], event.system_name);
        assert_eq!(document["event"]["code"], mapping::event_id(event));
        if !row.ecs_category.is_empty() {
            assert_eq!(
                document["event"]["category"],
                serde_json::json!(row.ecs_category)
            );
        }
    }
}

// ------------------------------------------------------------ CEF, LEEF

/// Undoes backslash escapes: `\n`, `\r`, `\t`, and `\x` for any other `x`.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A CEF line: the seven header fields and the extensions, by the rules of
/// ArcSight's CEF specification (header `|` and `\` escaped; an extension
/// value runs to the space before the next unescaped `key=`).
fn parse_cef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = line.char_indices();
    let mut rest = "";
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                field.push(c);
                if let Some((_, next)) = chars.next() {
                    field.push(next);
                }
            }
            '|' => {
                header.push(unescape(&field));
                field.clear();
                if header.len() == 7 {
                    rest = &line[index + 1..];
                    break;
                }
            }
            c => field.push(c),
        }
    }
    assert_eq!(header.len(), 7, "{line}");
    // Positions of unescaped '=' whose key starts after a space (or at 0).
    let bytes: Vec<char> = rest.chars().collect();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut escaped = false;
    for (index, c) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        if *c == '\\' {
            escaped = true;
            continue;
        }
        if *c == '=' {
            let start = bytes[..index]
                .iter()
                .rposition(|c| *c == ' ')
                .map_or(0, |space| space + 1);
            if bytes[start..index]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == '_')
                && start < index
            {
                keys.push((start, index));
            }
        }
    }
    let mut extensions = BTreeMap::new();
    for (position, (start, equals)) in keys.iter().enumerate() {
        let key: String = bytes[*start..*equals].iter().collect();
        let end = keys
            .get(position + 1)
            .map_or(bytes.len(), |(next, _)| next - 1);
        let value: String = bytes[equals + 1..end.max(equals + 1)].iter().collect();
        extensions.insert(key, unescape(&value));
    }
    (header, extensions)
}

/// A LEEF 2.0 line: five header fields, the delimiter field (a character or
/// `xHH`), then delimiter-separated `key=value` attributes.
fn parse_leef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let parts: Vec<&str> = line.splitn(7, '|').collect();
    assert_eq!(parts.len(), 7, "{line}");
    assert_eq!(parts[0], "LEEF:2.0");
    let delimiter = match parts[5] {
        hex if hex.starts_with('x') || hex.starts_with("0x") => char::from(
            u8::from_str_radix(hex.trim_start_matches("0x").trim_start_matches('x'), 16).unwrap(),
        ),
        single => single.chars().next().unwrap(),
    };
    let attributes = parts[6]
        .split(delimiter)
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{pair:?} in {line:?}"));
            (key.to_owned(), unescape(value))
        })
        .collect();
    (
        parts[..6].iter().map(|part| (*part).to_owned()).collect(),
        attributes,
    )
}

#[test]
fn every_event_as_cef_and_leef_parses_back() {
    for event in &every_kind_of_event() {
        let line = cef::cef(event, 0);
        assert!(!line.contains(['\n', '\r']), "{line}");
        let (header, extensions) = parse_cef(&line);
        assert_eq!(header[0], "CEF:0");
        assert_eq!(
            header[1..4],
            ["auditfwd", "auditfwd", env!("CARGO_PKG_VERSION")]
        );
        assert_eq!(header[4], mapping::event_id(event));
        assert_eq!(header[5], mapping::event_name(event));
        let severity: u8 = header[6].parse().unwrap();
        assert!(severity <= 10);
        assert_eq!(
            extensions["rt"],
            event.entry_timestamp.timestamp_millis().to_string()
        );
        assert_eq!(extensions["dvchost"], event.system_name);
        assert_eq!(extensions["act"], event.event_action);
        assert_eq!(extensions["externalId"], event.event_id);
        assert_eq!(extensions["outcome"], mapping::lookup(event).outcome.ecs());
        let (actor, _, _) = users(event);
        assert_eq!(extensions.get("suser").map(String::as_str), actor, "{line}");
        if let Some(ip) = remote_ip(event) {
            assert_eq!(extensions["src"], ip.to_string());
        }
        if let Some(port) = event.remote_port {
            assert_eq!(extensions["spt"], port.to_string());
        }
        if let Some(message) = &event.message {
            assert_eq!(&extensions["msg"], message);
        }

        let line = cef::leef(event, 0);
        assert!(!line.contains(['\n', '\r']), "{line}");
        let (header, attributes) = parse_leef(&line);
        assert_eq!(header[4], mapping::event_id(event));
        assert_eq!(header[5], "x09", "tab-separated");
        let time = chrono::NaiveDateTime::parse_from_str(
            &attributes["devTime"],
            "%b %d %Y %H:%M:%S%.3f UTC",
        )
        .unwrap();
        assert_eq!(attributes["devTimeFormat"], "MMM dd yyyy HH:mm:ss.SSS z");
        assert_eq!(
            time.and_utc().timestamp_millis(),
            event.entry_timestamp.timestamp_millis()
        );
        assert_eq!(attributes["cat"], event.event_action);
        assert_eq!(attributes["identHostName"], event.system_name);
        assert_eq!(attributes.get("usrName").map(String::as_str), actor);
        let severity: u8 = attributes["sev"].parse().unwrap();
        assert!((1..=10).contains(&severity));
    }
}

#[test]
fn cef_and_leef_round_trip_hostile_text() {
    let nasty = "Jö|h=n\\ \"Ä]\nX^y\r\t✓ a=b";
    let mut row = bare(9);
    row.entry_type = Some("S".into());
    row.real_user_profile = Some(nasty.into());
    row.qualified_job_name = Some(format!("123456/{nasty}/QPADEV0001"));
    let event = Enricher::default().enrich_owned(row);
    let (_, extensions) = parse_cef(&cef::cef(&event, 0));
    assert_eq!(extensions["suser"], nasty);
    assert_eq!(extensions["dproc"], format!("123456/{nasty}/QPADEV0001"));
    let (_, attributes) = parse_leef(&cef::leef(&event, 0));
    assert_eq!(attributes["usrName"], nasty);
    assert_eq!(attributes["jobName"], format!("123456/{nasty}/QPADEV0001"));
}

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
            event.audit_type == Some(kind)
                && event.code.as_deref() == Some(code)
                && event.signal.is_none()
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
            && event.code.as_deref() == Some("T")
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
        event.audit_type == Some("CP") && event.code.as_deref() == Some("CRT")
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
