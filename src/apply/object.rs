//! The identity of an object in the cluster, as the inventory records it.

use std::fmt;

use kube::api::GroupVersionKind;

use crate::api::ResourceStatus;

/// group/version/kind plus namespace and name: what the inventory keeps for each
/// object an Application applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// The API group (empty for core).
    pub group: String,
    /// The API version.
    pub version: String,
    /// The kind.
    pub kind: String,
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectKey {
    /// The key of a JSON object; `namespace` is what it will be applied to
    /// (already defaulted, `None` when cluster-scoped).
    pub fn of(object: &serde_json::Value, namespace: Option<String>) -> ObjectKey {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        ObjectKey {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: object["kind"].as_str().unwrap_or_default().to_owned(),
            namespace,
            name: object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// The key of an inventory entry.
    pub fn from_status(r: &ResourceStatus) -> ObjectKey {
        ObjectKey {
            group: r.group.clone(),
            version: r.version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone().filter(|n| !n.is_empty()),
            name: r.name.clone(),
        }
    }

    /// An inventory entry for this key, with nothing observed yet.
    pub fn to_status(&self) -> ResourceStatus {
        ResourceStatus {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            status: None,
            health: None,
        }
    }

    /// The group/version/kind.
    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::gvk(&self.group, &self.version, &self.kind)
    }

    /// `apiVersion` as written in manifests.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether two keys name the same object, whatever API version they use:
    /// an object moved from `v1beta1` to `v1` is the same object.
    pub fn same_object(&self, other: &ObjectKey) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }
}

impl fmt::Display for ObjectKey {
    /// `Kind namespace/name`, or `Kind name` when cluster-scoped, as people read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}
