//! Validators of OCSF and ECS documents against the vendored definitions
//! (`tests/fixtures/ocsf/`, `tests/fixtures/ecs/`), written from the schemas'
//! own rules, not from auditfwd's formatter. Test code only: the library's
//! unit tests use it, and the integration tests include it by path to check
//! what the daemon writes (`tests/it/formats.rs`). It needs serde_json and
//! chrono and nothing of the crate.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

// ------------------------------------------------------------------ OCSF

/// OCSF 1.8.0's definitions as vendored: classes, objects, profiles and the
/// dictionary, resolved the way the OCSF server compiles them (a definition
/// extends its parent's attributes and those of the profiles it includes).
pub(crate) struct OcsfSchema {
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
    pub(crate) fn load() -> OcsfSchema {
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
                    errors.push(format!("{path}: needs at least one of {names:?}"));
                }
                "just_one" if present != 1 => {
                    errors.push(format!("{path}: needs exactly one of {names:?}"));
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
    pub(crate) fn validate(&self, event: &Value) -> Vec<String> {
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
                // A class may redefine an enum (finding classes' status_id):
                // the class's own captions win over the dictionary's.
                let class_caption = resolved
                    .attributes
                    .get(id)
                    .and_then(|attribute| attribute.get("enum"))
                    .and_then(|values| values.get(number.to_string()))
                    .and_then(|value| value.get("caption"))
                    .and_then(|caption| caption.as_str());
                let caption = class_caption.or_else(|| {
                    self.dictionary[id]["enum"][number.to_string()]["caption"].as_str()
                });
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

// ------------------------------------------------------------------- ECS

/// ECS 8.17's fields as its Elasticsearch component templates define them,
/// and the allowed values of the categorisation fields.
pub(crate) struct EcsSchema {
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
    pub(crate) fn load() -> EcsSchema {
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

    pub(crate) fn validate(&self, document: &Value) -> Vec<String> {
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
