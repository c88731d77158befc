//! One Kubernetes object and what kustomize remembers about it on the way.

use std::path::PathBuf;

use crate::value::Value;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn of(v: &Value) -> Gvk {
        let api = v.str_at(&["apiVersion"]).unwrap_or_default();
        let (group, version) = match api.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api.to_string()),
        };
        Gvk {
            group,
            version,
            kind: v.str_at(&["kind"]).unwrap_or_default().to_string(),
        }
    }

    /// kustomize's `Kind.version.group` spelling, used in its sort key and
    /// messages.
    pub fn display(&self) -> String {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        format!(
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }

    /// Kinds kustomize knows to be cluster-scoped; everything else, custom
    /// resources included, is treated as namespaced.
    pub fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.contains(&self.kind.as_str())
    }
}

const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CustomResourceDefinition",
    "FlowSchema",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    "StorageClass",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub fn display(&self) -> String {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        format!("{}/{}.{}", self.gvk.display(), self.name, ns)
    }
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub value: Value,
    /// Where it was read from (or the kustomization that generated it).
    pub source: PathBuf,
    /// Every name it has had, oldest first, with the namespace it had then;
    /// name references to any of them are rewritten to the final name.
    pub previous: Vec<(String, String)>,
    /// A generated ConfigMap or Secret that gets a content-hash suffix.
    pub needs_hash: bool,
    /// `create`, `merge` or `replace` for generated objects.
    pub behavior: Option<String>,
}

impl Resource {
    pub fn new(value: Value, source: PathBuf) -> Resource {
        Resource {
            value,
            source,
            previous: Vec::new(),
            needs_hash: false,
            behavior: None,
        }
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::of(&self.value)
    }

    pub fn name(&self) -> &str {
        self.value.str_at(&["metadata", "name"]).unwrap_or_default()
    }

    pub fn namespace(&self) -> &str {
        self.value
            .str_at(&["metadata", "namespace"])
            .unwrap_or_default()
    }

    pub fn id(&self) -> ResId {
        ResId {
            gvk: self.gvk(),
            name: self.name().to_string(),
            namespace: self.namespace().to_string(),
        }
    }

    /// The id before any renaming: what patches and other overlays refer to.
    pub fn orig_id(&self) -> ResId {
        let mut id = self.id();
        if let Some((name, ns)) = self.previous.first() {
            id.name = name.clone();
            id.namespace = ns.clone();
        }
        id
    }

    pub fn set_name(&mut self, name: String) {
        self.remember_id();
        if let Some(m) = self.value.map_at_mut(&["metadata"]) {
            m.insert("name".into(), Value::String(name));
        }
    }

    pub fn set_namespace(&mut self, ns: String) {
        self.remember_id();
        if let Some(m) = self.value.map_at_mut(&["metadata"]) {
            m.insert("namespace".into(), Value::String(ns));
        }
    }

    fn remember_id(&mut self) {
        let cur = (self.name().to_string(), self.namespace().to_string());
        if self.previous.last() != Some(&cur) {
            self.previous.push(cur);
        }
    }

    pub fn labels(&self) -> Option<&crate::value::Map> {
        self.value
            .at(&["metadata", "labels"])
            .and_then(Value::as_map)
    }

    pub fn annotations(&self) -> Option<&crate::value::Map> {
        self.value
            .at(&["metadata", "annotations"])
            .and_then(Value::as_map)
    }
}
