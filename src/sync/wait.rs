//! Waiting for objects to become healthy. Interim: existence only; replaced
//! by `apply::health`.

use std::time::Duration;

use crate::api::{HealthStatus, HealthStatusCode};
use crate::apply::ObjectKey;
use crate::apply::ssa::Applier;

/// Polls until every object is healthy, one is degraded, or `timeout` passes.
pub async fn healthy(
    applier: &Applier,
    keys: &[ObjectKey],
    _timeout: Duration,
) -> Vec<HealthStatus> {
    let mut out = Vec::new();
    for key in keys {
        let status = match applier.get(key).await {
            Ok(Some(_)) => HealthStatusCode::Healthy,
            Ok(None) => HealthStatusCode::Missing,
            Err(_) => HealthStatusCode::Unknown,
        };
        out.push(HealthStatus {
            status,
            message: None,
        });
    }
    out
}

/// The first object that is not healthy, described.
pub fn problem(keys: &[ObjectKey], healths: &[HealthStatus]) -> Option<String> {
    keys.iter().zip(healths).find_map(|(k, h)| {
        (h.status != HealthStatusCode::Healthy).then(|| {
            format!(
                "{k} is {:?}{}",
                h.status,
                h.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            )
        })
    })
}

/// The Application's health: the worst of its objects'.
pub fn aggregate(healths: &[HealthStatus]) -> HealthStatus {
    healths
        .iter()
        .find(|h| h.status != HealthStatusCode::Healthy)
        .cloned()
        .unwrap_or(HealthStatus {
            status: HealthStatusCode::Healthy,
            message: None,
        })
}
