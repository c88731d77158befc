//! The user-facing commands.

pub mod helm;
pub mod kustomize;
pub mod render;
