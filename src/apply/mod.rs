//! Applying rendered manifests to the cluster: `plan` (pure) orders objects
//! into the steps of a sync; `ssa` server-side applies them.

pub mod diff;
pub mod health;
pub mod plan;
pub mod ssa;
