//! What the agent tells operators: Prometheus metrics and the health probes
//! served on `metricsAddress`, OTLP traces of every sync, trace context on
//! Kubernetes API requests, and structured logs.

pub mod logs;
pub mod metrics;
pub mod propagate;
pub mod server;
pub mod traces;
