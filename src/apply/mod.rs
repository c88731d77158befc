//! Applying rendered manifests to the cluster: `plan` (pure) orders objects
//! into the steps of a sync; `ssa` server-side applies them; `diff` and
//! `health` judge the result; `object` names what the inventory records.

pub mod diff;
pub mod health;
pub mod object;
pub mod plan;
pub mod ssa;

pub use object::ObjectKey;
