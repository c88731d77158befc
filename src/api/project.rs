//! `AppProject`: the rules a group of Applications must follow.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which sources, destinations and kinds Applications of this project may use,
/// and when they may sync.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "skiff.dev",
    version = "v1alpha1",
    kind = "AppProject",
    namespaced,
    shortname = "appproj",
    category = "skiff",
    doc = "An AppProject sets the rules (sources, destinations, kinds, sync windows) for its Applications."
)]
#[serde(rename_all = "camelCase")]
pub struct AppProjectSpec {
    /// What the project is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Repository URLs Applications may use (globs; `*` allows any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_repos: Vec<String>,
    /// Namespaces Applications may deploy to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<ProjectDestination>,
    /// Cluster-scoped kinds allowed (none when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_resource_whitelist: Vec<GroupKind>,
    /// Cluster-scoped kinds refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_resource_blacklist: Vec<GroupKind>,
    /// Namespaced kinds allowed (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_resource_whitelist: Vec<GroupKind>,
    /// Namespaced kinds refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespace_resource_blacklist: Vec<GroupKind>,
    /// When syncs are allowed or denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync_windows: Vec<SyncWindow>,
}

/// A destination namespace pattern.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDestination {
    /// A namespace glob (`team-*`, `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Accepted so Argo CD manifests port unchanged; only the local cluster is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Accepted so Argo CD manifests port unchanged; only `in-cluster` is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An API group and kind; `*` matches any.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
pub struct GroupKind {
    /// The group (empty for core, `*` for any).
    #[serde(default)]
    pub group: String,
    /// The kind (`*` for any).
    pub kind: String,
}

/// A recurring window in which syncs are allowed or denied, with Argo CD's semantics.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SyncWindow {
    /// `allow` or `deny`.
    pub kind: SyncWindowKind,
    /// When the window opens: a 5-field cron expression (weekdays from Monday = 1)
    /// or an alias such as `@daily`.
    pub schedule: String,
    /// How long it stays open (`1h`, `90m`).
    pub duration: String,
    /// Application name globs the window applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<String>,
    /// Destination namespace globs the window applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    /// Let `skiff sync` through while the window blocks automated syncs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual_sync: bool,
    /// The IANA time zone of `schedule` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Whether a window allows or denies syncs.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SyncWindowKind {
    /// Syncs happen only while an allow window matching the app is open.
    #[default]
    Allow,
    /// No automated sync while the window is open.
    Deny,
}
