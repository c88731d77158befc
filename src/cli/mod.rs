//! The user-facing commands.

pub mod agent;
pub mod apply;
pub mod helm;
pub mod kube;
pub mod kustomize;
pub mod render;
