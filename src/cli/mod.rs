//! The commands `skiff-agent` runs: everything that talks to a cluster or Git.
//! Their arguments are defined in `skiff_cli`, shared with the `skiff` front.

pub mod agent;
pub mod apply;
pub mod apps;
pub mod kube;
pub mod ops;
pub mod output;
pub mod render;
pub mod windows;
