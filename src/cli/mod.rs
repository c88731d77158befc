//! The user-facing commands.

pub mod agent;
pub mod apply;
pub mod apps;
pub mod helm;
pub mod kube;
pub mod kustomize;
pub mod ops;
pub mod output;
pub mod render;
pub mod windows;
