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

    /// Whether kustomize knows this apiVersion and kind to be
    /// cluster-scoped. It decides by exact apiVersion (from the schema it
    /// embeds), so a newer version of a cluster-scoped kind (say
    /// `flowcontrol.apiserver.k8s.io/v1` FlowSchema) counts as namespaced,
    /// like every custom resource.
    pub fn is_cluster_scoped(&self) -> bool {
        let api = if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        CLUSTER_SCOPED
            .iter()
            .any(|(a, k)| *a == api && *k == self.kind)
    }
}

/// (apiVersion, kind) pairs kustomize v5.8 treats as cluster-scoped.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
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
