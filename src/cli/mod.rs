//! The user-facing commands.

pub mod kustomize;
