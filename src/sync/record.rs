//! Recording an outcome in the Application's status: sync and health, the
//! operation, the inventory, the last ten syncs, and conditions. Written with
//! server-side apply on the status subresource, so spec is never touched.

use kube::api::{Patch, PatchParams};
use kube::{Api, Client};

use super::{Action, Mode, OperationPhase, Outcome};
use crate::api::{
    Application, ApplicationCondition, ApplicationStatus, OperationState, ResourceStatus,
    RevisionHistory, SyncStatus,
};
use crate::apply::ssa::{FIELD_MANAGER, api_message};

/// How many past syncs `status.history` keeps.
pub const HISTORY_LIMIT: usize = 10;

/// Facts about the operation that the engine does not know.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// The trigger annotation value this operation handled.
    pub handled_request: Option<String>,
    /// The OpenTelemetry trace ID of the sync.
    pub trace_id: Option<String>,
    /// Failed tries so far, and when the next is due.
    pub retry_count: Option<i64>,
    /// When the next retry is due.
    pub next_retry_at: Option<k8s_openapi::jiff::Timestamp>,
    /// Whether this operation belongs in `status.history`; polls that found
    /// nothing to do do not.
    pub add_history: bool,
}

/// The status after `outcome`, from the status before it. Pure.
pub fn next_status(app: &Application, outcome: &Outcome, extra: &Extra) -> ApplicationStatus {
    let mode = outcome.mode;
    let previous = app.status.clone().unwrap_or_default();
    let mut status = previous.clone();
    status.observed_generation = app.metadata.generation;
    if let Some(request) = &extra.handled_request {
        status.last_handled_request = Some(request.clone());
    }
    if outcome.phase == OperationPhase::Error {
        // Nothing was compared: keep what was known, say why it is stale.
        status.sync = Some(SyncStatus {
            status: crate::api::SyncStatusCode::Unknown,
            revision: previous.sync.as_ref().and_then(|s| s.revision.clone()),
        });
    } else {
        status.sync = Some(SyncStatus {
            status: outcome.sync_status,
            revision: outcome.revision.clone(),
        });
        status.health = Some(outcome.health.clone());
        status.resources = inventory_status(outcome);
    }
    let condition_type = match mode {
        Mode::Apply => "SyncError",
        Mode::Compare => "ComparisonError",
    };
    status.conditions.retain(|c| c.type_ != condition_type);
    if outcome.phase != OperationPhase::Succeeded {
        status.conditions.push(ApplicationCondition {
            type_: condition_type.to_owned(),
            status: "True".to_owned(),
            reason: Some(
                match outcome.phase {
                    OperationPhase::Error => "SourceError",
                    _ => "SyncFailed",
                }
                .to_owned(),
            ),
            message: Some(outcome.message.clone()),
            last_transition_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                outcome.finished_at,
            )),
        });
    }
    if mode == Mode::Apply {
        status.operation_state = Some(OperationState {
            phase: outcome.phase.to_string(),
            message: Some(outcome.message.clone()),
            started_at: Some(time(outcome.started_at)),
            finished_at: Some(time(outcome.finished_at)),
            retry_count: extra.retry_count,
            next_retry_at: extra.next_retry_at.map(time),
            trace_id: extra.trace_id.clone(),
        });
        if let Some(revision) = outcome.revision.as_ref().filter(|_| extra.add_history) {
            let id = previous.history.iter().map(|h| h.id).max().unwrap_or(0) + 1;
            status.history.insert(
                0,
                RevisionHistory {
                    id,
                    revision: revision.clone(),
                    deployed_at: Some(time(outcome.finished_at)),
                    result: Some(outcome.phase.to_string()),
                    trace_id: extra.trace_id.clone(),
                },
            );
            status.history.truncate(HISTORY_LIMIT);
        }
    }
    status
}

/// The inventory with what the operation saw of each object.
fn inventory_status(outcome: &Outcome) -> Vec<ResourceStatus> {
    outcome
        .inventory
        .iter()
        .map(|key| {
            let mut entry = key.to_status();
            let seen = outcome
                .resources
                .iter()
                .filter(|r| r.action != Action::HookRan)
                .rfind(|r| r.key.same_object(key));
            entry.status = Some(seen.map(|r| r.status).unwrap_or(outcome.sync_status));
            entry.health = seen.and_then(|r| r.health.clone());
            entry
        })
        .collect()
}

fn time(t: k8s_openapi::jiff::Timestamp) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t)
}

/// Writes `status` to the Application with server-side apply on the status
/// subresource (field manager `skiff`).
pub async fn write(
    client: &Client,
    app: &Application,
    status: &ApplicationStatus,
) -> Result<Application, String> {
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    let name = app.metadata.name.clone().unwrap_or_default();
    let api: Api<Application> = Api::namespaced(client.clone(), &namespace);
    let patch = serde_json::json!({
        "apiVersion": "skiff.dev/v1alpha1",
        "kind": "Application",
        "status": status,
    });
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|e| {
        format!(
            "writing the status of Application {namespace}/{name}: {}",
            api_message(e)
        )
    })
}
