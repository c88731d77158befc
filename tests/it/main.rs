//! Integration tests, one module per behaviour, all in one binary so that one
//! build links them and one control plane per process serves them all.

mod agent;
mod agent_leader;
mod agent_retry;
mod agent_windows;
mod api;
mod apply;
mod cli;
mod cli_apply;
mod cli_apps;
mod cli_windows;
mod collector;
mod crd;
mod deployment;
mod diff;
mod fleet;
mod git_source;
mod health;
mod helm_repo;
mod install;
mod render_cli;
mod render_directory;
mod render_helm;
mod ssa;
mod sync_apply;
mod sync_bad_input;
mod sync_conflict;
mod sync_health;
mod sync_order;
mod sync_project;
mod sync_trace;
mod telemetry_metrics;
mod telemetry_otlp;
