//! Applying rendered manifests to the cluster. `plan` is pure: it orders the
//! objects into the steps a sync runs.

pub mod plan;
