//! Whether a live object matches what skiff would apply, and a readable diff.
//!
//! `desired` is what a server-side apply dry run returned for the rendered
//! object, so the server has already filled in defaults and merged the fields
//! other managers own; what is left to strip is bookkeeping that changes on
//! every write (`resourceVersion`, `managedFields`, ...), `status`, and the
//! fields the Application tells us to ignore.
//!
//! Secrets are compared on their real values but never rendered with them:
//! `redact_secret_pair` masks both sides consistently, so a changed key still
//! shows as changed without revealing either value.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use serde_json::{Map, Value};
use similar::TextDiff;

use crate::api::{ResourceIgnoreDifferences, SyncStatusCode};

/// The outcome of comparing one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Synced when the normalised objects are equal.
    pub status: SyncStatusCode,
    /// A unified diff of the live object (`---`) against the desired one
    /// (`+++`) as YAML, Secrets redacted; empty when Synced.
    pub diff: String,
}

/// Metadata the API server maintains itself; it differs between any two reads.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
];

/// Holds a copy of an applied object, Secret values included.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Lines of context around each change in the diff.
const CONTEXT_LINES: usize = 3;

/// Compares the dry-run result `desired` with the `live` object (None when it
/// does not exist), ignoring server bookkeeping, `status` and the fields named
/// by matching `ignore` entries.
pub fn compare(
    desired: &Value,
    live: Option<&Value>,
    ignore: &[ResourceIgnoreDifferences],
) -> Comparison {
    let mut want = normalise(desired, ignore);
    let mut have = live.map(|live| normalise(live, ignore));
    if have.as_ref() == Some(&want) {
        return Comparison {
            status: SyncStatusCode::Synced,
            diff: String::new(),
        };
    }
    redact_secret_pair(&mut want, have.as_mut());
    Comparison {
        status: SyncStatusCode::OutOfSync,
        diff: unified_diff(&want, have.as_ref()),
    }
}

/// A copy of `object` without server bookkeeping, `status` and ignored fields.
fn normalise(object: &Value, ignore: &[ResourceIgnoreDifferences]) -> Value {
    let mut object = object.clone();
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            meta.remove(*field);
        }
    }
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if is_secret(&object) {
        fold_string_data(&mut object);
    }
    let id = Identity::of(&object);
    let pointers: Vec<&str> = ignore
        .iter()
        .filter(|rule| id.matches(rule))
        .flat_map(|rule| rule.json_pointers.iter().map(String::as_str))
        .collect();
    for pointer in pointers {
        remove_pointer(&mut object, pointer);
    }
    object
}

/// What an ignoreDifferences entry is matched against.
struct Identity<'a> {
    group: &'a str,
    kind: &'a str,
    name: &'a str,
    namespace: &'a str,
}

impl<'a> Identity<'a> {
    fn of(object: &'a Value) -> Identity<'a> {
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        Identity {
            group: text("/apiVersion")
                .and_then(|v| v.rsplit_once('/'))
                .map_or("", |(group, _)| group),
            kind: text("/kind").unwrap_or(""),
            name: text("/metadata/name").unwrap_or(""),
            namespace: text("/metadata/namespace").unwrap_or(""),
        }
    }

    /// As Argo CD: group and kind are globs (an empty group is the core
    /// group), an unset or empty name or namespace matches every object.
    fn matches(&self, rule: &ResourceIgnoreDifferences) -> bool {
        let optional = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.is_empty() || w == have)
        };
        glob_matches(&rule.group, self.group)
            && glob_matches(&rule.kind, self.kind)
            && optional(&rule.name, self.name)
            && optional(&rule.namespace, self.namespace)
    }
}

fn glob_matches(pattern: &str, value: &str) -> bool {
    if pattern == value {
        return true;
    }
    // A pattern that is not a valid glob can only match itself.
    globset::Glob::new(pattern).is_ok_and(|g| g.compile_matcher().is_match(value))
}

/// Removes what an RFC 6901 pointer names, if it exists. The empty pointer
/// (the whole document) and malformed pointers remove nothing.
fn remove_pointer(object: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut node = object;
    for token in parents {
        let next = match node {
            Value::Object(map) => map.get_mut(token),
            Value::Array(items) => array_index(token).and_then(|i| items.get_mut(i)),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return,
        }
    }
    match node {
        Value::Object(map) => {
            map.remove(last);
        }
        Value::Array(items) => {
            if let Some(i) = array_index(last).filter(|i| *i < items.len()) {
                items.remove(i);
            }
        }
        _ => {}
    }
}

/// An RFC 6901 array index: digits, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let canonical = token == "0" || !token.starts_with('0');
    if digits && canonical {
        token.parse().ok()
    } else {
        None
    }
}

/// Whether `object` is a core-group Secret.
fn is_secret(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some("v1")
        && object.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Moves `stringData` into `data` (base64), as the API server does on write,
/// so a rendered Secret compares with a stored one and is masked the same way.
fn fold_string_data(secret: &mut Value) {
    let Some(map) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(strings)) = map.remove("stringData") else {
        return;
    };
    let data = map
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if data.is_null() {
        *data = Value::Object(Map::new());
    }
    let Some(data) = data.as_object_mut() else {
        return;
    };
    for (key, value) in strings {
        let plain = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(plain);
        data.insert(key, Value::String(encoded));
    }
}

/// Hands out masks: equal values get equal masks, different values masks of
/// different lengths, so a diff shows that a value changed but not to what.
struct Masks {
    next: String,
    given: HashMap<String, String>,
}

impl Masks {
    fn new() -> Masks {
        Masks {
            next: "+".repeat(8),
            given: HashMap::new(),
        }
    }

    fn mask(&mut self, value: &Value) -> Value {
        let key = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let next = &mut self.next;
        let mask = self.given.entry(key).or_insert_with(|| {
            let mask = next.clone();
            next.push_str("++++");
            mask
        });
        Value::String(mask.clone())
    }
}

/// Masks the values of a Secret pair in place: every key of `data` and
/// `stringData` (folded into `data` first) and the last-applied-configuration
/// annotation. Objects that are not core Secrets are left alone. Use it on
/// anything about a Secret that is printed, logged or recorded.
pub fn redact_secret_pair(desired: &mut Value, mut live: Option<&mut Value>) {
    let desired_is_secret = is_secret(desired);
    let live_is_secret = live.as_deref().is_some_and(is_secret);
    if !desired_is_secret && !live_is_secret {
        return;
    }
    let mut sides: Vec<&mut Value> = Vec::with_capacity(2);
    if desired_is_secret {
        sides.push(desired);
    }
    if live_is_secret && let Some(live) = live.take() {
        sides.push(live);
    }
    for side in sides.iter_mut() {
        fold_string_data(side);
        // Data that is not a map cannot be masked key by key: mask it whole.
        if let Some(data) = side.get_mut("data")
            && !data.is_object()
            && !data.is_null()
        {
            *data = Value::String("+".repeat(8));
        }
    }
    let keys: BTreeSet<String> = sides
        .iter()
        .filter_map(|side| side.get("data").and_then(Value::as_object))
        .flat_map(|data| data.keys().cloned())
        .collect();
    for key in &keys {
        let mut masks = Masks::new();
        for side in sides.iter_mut() {
            if let Some(value) = side.pointer_mut("/data").and_then(|d| d.get_mut(key)) {
                *value = masks.mask(value);
            }
        }
    }
    let mut masks = Masks::new();
    for side in sides.iter_mut() {
        if let Some(value) = side
            .pointer_mut("/metadata/annotations")
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            *value = masks.mask(value);
        }
    }
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped objects.
fn describe(object: &Value) -> String {
    let id = Identity::of(object);
    if id.namespace.is_empty() {
        format!("{} {}", id.kind, id.name)
    } else {
        format!("{} {}/{}", id.kind, id.namespace, id.name)
    }
}

fn to_yaml(object: &Value) -> String {
    // YAML is for people; should it ever fail, JSON says the same thing.
    serde_saphyr::to_string(object)
        .or_else(|_| serde_json::to_string_pretty(object).map(|s| s + "\n"))
        .unwrap_or_default()
}

fn unified_diff(desired: &Value, live: Option<&Value>) -> String {
    let what = describe(desired);
    let old = live.map(to_yaml).unwrap_or_default();
    let new = to_yaml(desired);
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("live {what}"), &format!("desired {what}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config_map(color: &str) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "web", "labels": {"app": "web"}},
            "data": {"color": color, "size": "L"},
        })
    }

    /// What the API server adds on every read.
    fn with_server_noise(mut object: Value, version: &str) -> Value {
        let meta = object["metadata"].as_object_mut().unwrap();
        meta.insert("resourceVersion".into(), json!(version));
        meta.insert("uid".into(), json!("0b9c-uid"));
        meta.insert("generation".into(), json!(3));
        meta.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
        meta.insert("selfLink".into(), json!("/api/v1/x"));
        meta.insert(
            "managedFields".into(),
            json!([{"manager": "skiff", "operation": "Apply", "time": version}]),
        );
        object["status"] = json!({"observed": version});
        object
    }

    fn ignore(
        group: &str,
        kind: &str,
        name: Option<&str>,
        ns: Option<&str>,
        ptr: &str,
    ) -> ResourceIgnoreDifferences {
        ResourceIgnoreDifferences {
            group: group.into(),
            kind: kind.into(),
            name: name.map(Into::into),
            namespace: ns.map(Into::into),
            json_pointers: vec![ptr.into()],
        }
    }

    #[test]
    fn equal_modulo_server_metadata_and_status_is_synced() {
        let desired = with_server_noise(config_map("blue"), "11");
        let live = with_server_noise(config_map("blue"), "10");
        let c = compare(&desired, Some(&live), &[]);
        assert_eq!(c.status, SyncStatusCode::Synced);
        assert_eq!(c.diff, "");
    }

    #[test]
    fn a_changed_value_is_out_of_sync_with_a_readable_diff() {
        let desired = with_server_noise(config_map("blue"), "11");
        let live = with_server_noise(config_map("red"), "10");
        let c = compare(&desired, Some(&live), &[]);
        assert_eq!(c.status, SyncStatusCode::OutOfSync);
        let lines: Vec<&str> = c.diff.lines().collect();
        assert_eq!(lines[0], "--- live ConfigMap web/settings", "{}", c.diff);
        assert_eq!(lines[1], "+++ desired ConfigMap web/settings", "{}", c.diff);
        assert!(lines[2].starts_with("@@ "), "{}", c.diff);
        assert!(lines.contains(&"-  color: red"), "{}", c.diff);
        assert!(lines.contains(&"+  color: blue"), "{}", c.diff);
        // Unchanged neighbours are context, noise is gone.
        assert!(lines.contains(&"   size: L"), "{}", c.diff);
        for noise in [
            "resourceVersion",
            "managedFields",
            "uid",
            "status",
            "generation",
        ] {
            assert!(!c.diff.contains(noise), "{noise} in {}", c.diff);
        }
    }

    #[test]
    fn a_missing_object_is_out_of_sync_and_shown_as_added() {
        let desired = config_map("blue");
        let c = compare(&desired, None, &[]);
        assert_eq!(c.status, SyncStatusCode::OutOfSync);
        let added: Vec<&str> = c.diff.lines().skip(3).collect();
        assert!(!added.is_empty());
        assert!(added.iter().all(|l| l.starts_with('+')), "{}", c.diff);
        assert!(added.contains(&"+kind: ConfigMap"), "{}", c.diff);
    }

    #[test]
    fn cluster_scoped_objects_are_named_without_namespace() {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}});
        let c = compare(&ns, None, &[]);
        assert!(
            c.diff
                .starts_with("--- live Namespace web\n+++ desired Namespace web\n")
        );
    }

    #[test]
    fn ignore_differences_by_pointer() {
        let desired = config_map("blue");
        let live = config_map("red");
        let synced =
            |rules: &[ResourceIgnoreDifferences]| compare(&desired, Some(&live), rules).status;
        use SyncStatusCode::*;
        // Core group is the empty group; name and namespace unset match all.
        assert_eq!(
            synced(&[ignore("", "ConfigMap", None, None, "/data/color")]),
            Synced
        );
        assert_eq!(
            synced(&[ignore(
                "",
                "ConfigMap",
                Some("settings"),
                Some("web"),
                "/data/color"
            )]),
            Synced
        );
        assert_eq!(
            synced(&[ignore("", "ConfigMap", Some(""), Some(""), "/data/color")]),
            Synced
        );
        assert_eq!(
            synced(&[ignore("", "Config*", None, None, "/data/color")]),
            Synced
        );
        // Filters that do not match leave the difference.
        assert_eq!(
            synced(&[ignore("", "ConfigMap", Some("other"), None, "/data/color")]),
            OutOfSync
        );
        assert_eq!(
            synced(&[ignore("", "ConfigMap", None, Some("prod"), "/data/color")]),
            OutOfSync
        );
        assert_eq!(
            synced(&[ignore("apps", "ConfigMap", None, None, "/data/color")]),
            OutOfSync
        );
        assert_eq!(
            synced(&[ignore("", "Secret", None, None, "/data/color")]),
            OutOfSync
        );
        // Another field, a field that does not exist, and nonsense pointers.
        assert_eq!(
            synced(&[ignore("", "ConfigMap", None, None, "/data/size")]),
            OutOfSync
        );
        for ptr in ["/spec/nothing/here", "", "data", "/data/color/deeper"] {
            assert_eq!(
                synced(&[ignore("", "ConfigMap", None, None, ptr)]),
                OutOfSync,
                "{ptr}"
            );
        }
    }

    #[test]
    fn ignore_pointers_follow_rfc_6901() {
        let deploy = |replicas: i64, ann: &str| {
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "web", "annotations": {"example.com/x~y": ann}},
                "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                    {"name": "a", "image": format!("a:{replicas}")}
                ]}}}
            })
        };
        let desired = deploy(2, "one");
        let live = deploy(5, "two");
        let rules = [ResourceIgnoreDifferences {
            group: "apps".into(),
            kind: "Deployment".into(),
            name: None,
            namespace: None,
            json_pointers: vec![
                "/spec/replicas".into(),
                "/spec/template/spec/containers/0/image".into(),
                "/metadata/annotations/example.com~1x~0y".into(),
            ],
        }];
        assert_eq!(
            compare(&desired, Some(&live), &rules).status,
            SyncStatusCode::Synced
        );
        assert_eq!(
            compare(&desired, Some(&live), &rules[..0]).status,
            SyncStatusCode::OutOfSync
        );
    }

    fn secret(data: &[(&str, &str)]) -> Value {
        let data: Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    json!(base64::engine::general_purpose::STANDARD.encode(v)),
                )
            })
            .collect();
        json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "web"},
            "type": "Opaque",
            "data": data,
        })
    }

    #[test]
    fn secret_values_never_appear_but_changes_do() {
        let old = "hunter2-old-password";
        let new = "s3cret-new-password";
        let desired = secret(&[("password", new), ("user", "admin")]);
        let live = secret(&[("password", old), ("user", "admin")]);
        let c = compare(&desired, Some(&live), &[]);
        assert_eq!(c.status, SyncStatusCode::OutOfSync);
        for plain in [old, new, "admin"] {
            let b64 = base64::engine::general_purpose::STANDARD.encode(plain);
            assert!(!c.diff.contains(plain), "{plain} in {}", c.diff);
            assert!(!c.diff.contains(&b64), "{b64} in {}", c.diff);
        }
        let lines: Vec<&str> = c.diff.lines().collect();
        let removed = lines
            .iter()
            .find(|l| l.starts_with("-  password:"))
            .expect(&c.diff);
        let added = lines
            .iter()
            .find(|l| l.starts_with("+  password:"))
            .expect(&c.diff);
        assert_ne!(removed[1..], added[1..], "{}", c.diff);
        assert!(added.contains("++++++++"), "{}", c.diff);
        // The unchanged key is masked identically on both sides: context, not change.
        assert!(
            lines.iter().any(|l| l.starts_with("   user: ")),
            "{}",
            c.diff
        );
    }

    #[test]
    fn secret_string_data_compares_with_stored_data_and_is_masked() {
        let mut desired = secret(&[]);
        desired["stringData"] = json!({"token": "abc123"});
        let live = secret(&[("token", "abc123")]);
        assert_eq!(
            compare(&desired, Some(&live), &[]).status,
            SyncStatusCode::Synced
        );

        desired["stringData"] = json!({"token": "zzz999"});
        let c = compare(&desired, Some(&live), &[]);
        assert_eq!(c.status, SyncStatusCode::OutOfSync);
        assert!(
            !c.diff.contains("zzz999") && !c.diff.contains("abc123"),
            "{}",
            c.diff
        );
        assert!(!c.diff.contains("stringData"), "{}", c.diff);
    }

    #[test]
    fn redact_masks_every_value_and_the_last_applied_annotation() {
        let mut desired = secret(&[("a", "1"), ("b", "2")]);
        desired["stringData"] = json!({"c": "3"});
        desired["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"data\":{\"a\":\"MQ==\"}}"});
        let mut live = secret(&[("a", "1"), ("b", "changed")]);
        live["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"data\":{\"a\":\"MQ==\"}}"});
        redact_secret_pair(&mut desired, Some(&mut live));
        assert_eq!(desired["data"]["a"], live["data"]["a"]);
        assert_ne!(desired["data"]["b"], live["data"]["b"]);
        assert!(desired.get("stringData").is_none());
        for side in [&desired, &live] {
            let text = side.to_string();
            assert!(!text.contains("MQ=="), "{text}");
            for value in side["data"].as_object().unwrap().values() {
                let v = value.as_str().unwrap();
                assert!(v.len() >= 8 && v.bytes().all(|b| b == b'+'), "{v}");
            }
        }
        assert_eq!(
            desired["metadata"]["annotations"][LAST_APPLIED],
            live["metadata"]["annotations"][LAST_APPLIED]
        );
    }

    #[test]
    fn redact_handles_a_missing_live_object_and_leaves_other_kinds_alone() {
        let mut desired = secret(&[("a", "1")]);
        redact_secret_pair(&mut desired, None);
        assert_eq!(desired["data"]["a"], "++++++++");
        let mut cm = config_map("blue");
        let before = cm.clone();
        redact_secret_pair(&mut cm, None);
        assert_eq!(cm, before);
        // A Secret of another API group is not the core Secret.
        let mut other =
            json!({"apiVersion": "example.com/v1", "kind": "Secret", "data": {"a": "x"}});
        redact_secret_pair(&mut other, None);
        assert_eq!(other["data"]["a"], "x");
    }
}
