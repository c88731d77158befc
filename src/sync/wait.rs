//! Waiting for the objects of a sync to become healthy, by key.

use std::time::Duration;

use crate::api::{HealthStatus, HealthStatusCode};
use crate::apply::ObjectKey;
use crate::apply::health::{ObjectToWatch, wait_healthy};
use crate::apply::ssa::Applier;

/// Polls until every object is healthy, one is degraded, or `timeout`
/// passes; the last health of each, in the order of `keys`.
pub async fn healthy(
    applier: &Applier,
    keys: &[ObjectKey],
    timeout: Duration,
) -> Vec<HealthStatus> {
    let mut watch = Vec::with_capacity(keys.len());
    let mut unresolved = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match applier.api_resource(&key.gvk()).await {
            Ok(resource) => watch.push(ObjectToWatch {
                resource,
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            }),
            Err(e) => unresolved.push((i, e)),
        }
    }
    let mut healths = wait_healthy(applier.client(), &watch, timeout).await;
    // A kind the server no longer serves cannot be healthy.
    for (i, message) in unresolved {
        healths.insert(
            i,
            HealthStatus {
                status: HealthStatusCode::Unknown,
                message: Some(message),
            },
        );
    }
    healths
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
