//! What the agent tells operators: Prometheus metrics and the health probes,
//! served on `metricsAddress`.

pub mod metrics;
pub mod server;
