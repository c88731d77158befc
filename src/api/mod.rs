//! The `skiff.dev/v1alpha1` API: `Application` and `AppProject`.
//!
//! Field names follow Argo CD's where the meaning is the same, so Argo CD
//! manifests port by changing `apiVersion`. The CRD YAML in `manifests/crds/` is
//! generated from these types (see `crds`), and a test fails when it is stale.

mod application;
mod crds;
mod project;

pub use application::*;
pub use crds::{crd_files, crd_yaml};
// Go-style durations are parsed in one place for the API and the command
// line's flags (`--timeout 5m`); the command line's crate is the lower one.
pub use project::*;
pub use skiff_cli::duration::parse_duration;

/// The API group of every skiff resource.
pub const GROUP: &str = "skiff.dev";
/// The served and stored version.
pub const VERSION: &str = "v1alpha1";

/// A schema for free-form objects (`valuesObject`): kept as written, not pruned.
fn preserve_unknown_fields(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}
