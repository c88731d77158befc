//! The agent's Prometheus metrics.

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a finished sync.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabels {
    /// Succeeded, Failed or Error.
    pub result: String,
    /// apply or compare.
    pub mode: String,
}

/// Every metric the agent exports, and whether it leads.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Syncs by result and mode.
    pub syncs: Family<SyncLabels, Counter>,
    /// How long syncs take, in seconds.
    pub sync_seconds: Histogram,
    /// 1 while this agent holds the leader lease.
    pub leader: Gauge,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("skiff");
        let syncs = Family::<SyncLabels, Counter>::default();
        registry.register("syncs", "Syncs by result and mode", syncs.clone());
        let sync_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        registry.register(
            "sync_duration_seconds",
            "How long a sync takes",
            sync_seconds.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this agent holds the leader lease",
            leader.clone(),
        );
        Metrics {
            registry,
            syncs,
            sync_seconds,
            leader,
            ready: AtomicBool::new(false),
        }
    }
}

impl Metrics {
    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Marks the agent ready (connected, configured) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Whether `/readyz` should say ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}
