//! Desired against live, for one object. Interim: replaced by `apply::diff`.

use crate::api::{ResourceIgnoreDifferences, SyncStatusCode};

/// The comparison of one object.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Synced when equal.
    pub status: SyncStatusCode,
    /// A unified diff, empty when equal.
    pub diff: String,
}

/// Compares a dry-run result with the live object.
pub fn compare(
    desired: &serde_json::Value,
    live: Option<&serde_json::Value>,
    _ignore: &[ResourceIgnoreDifferences],
) -> Comparison {
    let norm = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(m) = v["metadata"].as_object_mut() {
            for k in [
                "managedFields",
                "resourceVersion",
                "generation",
                "uid",
                "creationTimestamp",
            ] {
                m.remove(k);
            }
        }
        if let Some(o) = v.as_object_mut() {
            o.remove("status");
        }
        v
    };
    let d = norm(desired);
    match live.map(norm) {
        Some(l) if l == d => Comparison {
            status: SyncStatusCode::Synced,
            diff: String::new(),
        },
        _ => Comparison {
            status: SyncStatusCode::OutOfSync,
            diff: String::new(),
        },
    }
}

/// How a new object is shown: nothing of a Secret's values.
pub fn describe_new(_object: &serde_json::Value) -> String {
    String::new()
}
