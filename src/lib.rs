//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! Data flows one way: `source -> render -> apply -> status/telemetry`. This
//! library holds the agent's parts; `main.rs` is the command line over them.

pub mod api;
pub mod apply;
pub mod controller;
pub mod render;
pub mod source;
pub mod sync;
pub mod telemetry;
