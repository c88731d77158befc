//! Health of live objects, as Argo CD's built-in checks and kstatus judge it.
//!
//! `assess` is pure: it reads the object the API server returned and nothing
//! else. `aggregate` folds per-object health into the application's, and
//! `wait_healthy` polls objects until they settle one way or the other.
//!
//! Argo CD also has `Suspended` (a paused Deployment, a suspended Job). skiff's
//! status has no such code, so those objects are reported `Healthy` with a
//! message saying they are paused: a pause is the user's intent, and waiting
//! for a rollout that was deliberately stopped would only time out.

use std::time::Duration;

use kube::Api;
use kube::api::{ApiResource, DynamicObject};
use serde_json::Value;

use crate::api::{HealthStatus, HealthStatusCode};

/// One object `wait_healthy` should watch.
#[derive(Clone, Debug)]
pub struct ObjectToWatch {
    /// Its group, version, kind and plural.
    pub resource: ApiResource,
    /// Its namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

/// The health of one live object (the full JSON from the API server).
pub fn assess(object: &Value) -> HealthStatus {
    if object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        return progressing("Pending deletion");
    }
    let group = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.rsplit_once('/'))
        .map_or("", |(group, _)| group);
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let o = Obj(object);
    match (group, kind) {
        ("apps" | "extensions", "Deployment") => deployment(o),
        ("apps", "StatefulSet") => stateful_set(o),
        ("apps" | "extensions", "DaemonSet") => daemon_set(o),
        ("apps" | "extensions", "ReplicaSet") => replica_set(o),
        ("batch", "Job") => job(o),
        ("", "Pod") => pod(o),
        ("", "PersistentVolumeClaim") => pvc(o),
        ("", "Service") => service(o),
        ("networking.k8s.io" | "extensions", "Ingress") => ingress(o),
        ("apiregistration.k8s.io", "APIService") => api_service(o),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(o),
        _ => generic(o, kind),
    }
}

/// The application's health: the worst of its objects' health, in Argo CD's
/// order (Healthy < Progressing < Missing < Degraded < Unknown), with the
/// message of the first object that is that bad. No objects is Healthy.
///
/// Argo CD 3 additionally leaves Missing objects out unless every object is
/// Missing (OutOfSync already says something is absent); callers that want
/// that rule filter Missing entries before calling this.
pub fn aggregate<'a>(healths: impl IntoIterator<Item = &'a HealthStatus>) -> HealthStatus {
    let mut worst: Option<&HealthStatus> = None;
    for health in healths {
        if worst.is_none_or(|w| rank(health.status) > rank(w.status)) {
            worst = Some(health);
        }
    }
    worst.cloned().unwrap_or_else(healthy)
}

/// How bad a health code is, as gitops-engine's `IsWorse` orders them.
fn rank(code: HealthStatusCode) -> u8 {
    match code {
        HealthStatusCode::Healthy => 0,
        HealthStatusCode::Progressing => 1,
        HealthStatusCode::Missing => 2,
        HealthStatusCode::Degraded => 3,
        HealthStatusCode::Unknown => 4,
    }
}

/// The first pause between polls; it doubles up to [`MAX_POLL_INTERVAL`].
const FIRST_POLL_INTERVAL: Duration = Duration::from_millis(250);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// Polls `objects` until all are Healthy, any is Degraded, or `timeout` has
/// passed, and returns the last health of each, in order. An object that does
/// not exist is Missing; one that cannot be read is Unknown, with the error.
pub async fn wait_healthy(
    client: &kube::Client,
    objects: &[ObjectToWatch],
    timeout: Duration,
) -> Vec<HealthStatus> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = FIRST_POLL_INTERVAL;
    loop {
        let mut healths = Vec::with_capacity(objects.len());
        for object in objects {
            healths.push(current_health(client, object).await);
        }
        let all_healthy = healths
            .iter()
            .all(|h| h.status == HealthStatusCode::Healthy);
        let any_degraded = healths
            .iter()
            .any(|h| h.status == HealthStatusCode::Degraded);
        let now = tokio::time::Instant::now();
        if all_healthy || any_degraded || now >= deadline {
            return healths;
        }
        tracing::debug!(
            waiting = healths
                .iter()
                .filter(|h| h.status != HealthStatusCode::Healthy)
                .count(),
            "objects not healthy yet"
        );
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_POLL_INTERVAL);
    }
}

/// One GET, assessed.
async fn current_health(client: &kube::Client, object: &ObjectToWatch) -> HealthStatus {
    let api: Api<DynamicObject> = match &object.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &object.resource),
        None => Api::all_with(client.clone(), &object.resource),
    };
    let what = match &object.namespace {
        Some(ns) => format!("{} {ns}/{}", object.resource.kind, object.name),
        None => format!("{} {}", object.resource.kind, object.name),
    };
    match api.get_opt(&object.name).await {
        Ok(Some(live)) => match serde_json::to_value(&live) {
            Ok(json) => assess(&json),
            Err(e) => status(
                HealthStatusCode::Unknown,
                format!("cannot read {what}: {e}"),
            ),
        },
        Ok(None) => status(HealthStatusCode::Missing, format!("{what} does not exist")),
        Err(e) => status(HealthStatusCode::Unknown, format!("cannot get {what}: {e}")),
    }
}

fn status(status: HealthStatusCode, message: impl Into<String>) -> HealthStatus {
    let message = message.into();
    HealthStatus {
        status,
        message: (!message.is_empty()).then_some(message),
    }
}

fn healthy() -> HealthStatus {
    status(HealthStatusCode::Healthy, "")
}

fn healthy_with(message: impl Into<String>) -> HealthStatus {
    status(HealthStatusCode::Healthy, message)
}

fn progressing(message: impl Into<String>) -> HealthStatus {
    status(HealthStatusCode::Progressing, message)
}

fn degraded(message: impl Into<String>) -> HealthStatus {
    status(HealthStatusCode::Degraded, message)
}

/// Typed-ish reads of an untyped object; absent or mistyped fields are `None`.
#[derive(Clone, Copy)]
struct Obj<'a>(&'a Value);

impl<'a> Obj<'a> {
    fn int(self, pointer: &str) -> Option<i64> {
        self.0.pointer(pointer).and_then(Value::as_i64)
    }

    /// An integer status counter; Kubernetes omits zero counters.
    fn count(self, pointer: &str) -> i64 {
        self.int(pointer).unwrap_or(0)
    }

    fn str(self, pointer: &str) -> Option<&'a str> {
        self.0.pointer(pointer).and_then(Value::as_str)
    }

    fn bool(self, pointer: &str) -> bool {
        self.0
            .pointer(pointer)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    fn array(self, pointer: &str) -> &'a [Value] {
        self.0
            .pointer(pointer)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    fn name(self) -> &'a str {
        self.str("/metadata/name").unwrap_or("")
    }

    /// The `name` field of a container status (not `metadata.name`).
    fn name_field(self) -> &'a str {
        self.str("/name").unwrap_or("")
    }

    fn generation(self) -> i64 {
        self.count("/metadata/generation")
    }

    fn observed_generation(self) -> i64 {
        self.count("/status/observedGeneration")
    }

    fn conditions(self) -> impl Iterator<Item = Condition<'a>> {
        self.array("/status/conditions").iter().map(|c| Condition {
            type_: c.get("type").and_then(Value::as_str).unwrap_or(""),
            status: c.get("status").and_then(Value::as_str).unwrap_or(""),
            reason: c.get("reason").and_then(Value::as_str).unwrap_or(""),
            message: c.get("message").and_then(Value::as_str).unwrap_or(""),
        })
    }

    fn condition(self, type_: &str) -> Option<Condition<'a>> {
        self.conditions().find(|c| c.type_ == type_)
    }
}

#[derive(Clone, Copy, Debug)]
struct Condition<'a> {
    type_: &'a str,
    status: &'a str,
    reason: &'a str,
    message: &'a str,
}

impl Condition<'_> {
    fn is_true(&self) -> bool {
        self.status == "True"
    }

    fn is_false(&self) -> bool {
        self.status == "False"
    }

    /// `reason: message`, or whichever of the two is set.
    fn explanation(&self) -> String {
        match (self.reason.is_empty(), self.message.is_empty()) {
            (false, false) => format!("{}: {}", self.reason, self.message),
            (false, true) => self.reason.to_string(),
            (true, false) => self.message.to_string(),
            (true, true) => String::new(),
        }
    }
}

fn deployment(o: Obj) -> HealthStatus {
    if o.bool("/spec/paused") {
        return healthy_with("Deployment is paused");
    }
    // Until the controller has seen the current spec, the counters describe
    // the previous one.
    if o.generation() > o.observed_generation() {
        return progressing(
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    if o.condition("Progressing")
        .is_some_and(|c| c.reason == "ProgressDeadlineExceeded")
    {
        return degraded(format!(
            "Deployment {:?} exceeded its progress deadline",
            o.name()
        ));
    }
    let replicas = o.int("/status/replicas").unwrap_or(0);
    let updated = o.count("/status/updatedReplicas");
    let available = o.count("/status/availableReplicas");
    if let Some(wanted) = o.int("/spec/replicas")
        && updated < wanted
    {
        return progressing(format!(
            "Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return progressing(format!(
            "Waiting for rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return progressing(format!(
            "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    healthy()
}

fn stateful_set(o: Obj) -> HealthStatus {
    let observed = o.int("/status/observedGeneration").unwrap_or(0);
    if observed == 0 || o.generation() > observed {
        return progressing("Waiting for statefulset spec update to be observed...");
    }
    let ready = o.count("/status/readyReplicas");
    let wanted = o.int("/spec/replicas");
    if let Some(wanted) = wanted
        && ready < wanted
    {
        return progressing(format!(
            "Waiting for {} pods to be ready...",
            wanted - ready
        ));
    }
    let updated = o.count("/status/updatedReplicas");
    match o
        .str("/spec/updateStrategy/type")
        .unwrap_or("RollingUpdate")
    {
        "OnDelete" => {
            // Pods are replaced only when someone deletes them: nothing to wait for.
            return healthy_with(format!("statefulset has {ready} ready pods"));
        }
        _ => {
            if let (Some(wanted), Some(partition)) = (
                wanted,
                o.int("/spec/updateStrategy/rollingUpdate/partition"),
            ) {
                // Pods below the partition keep the old revision on purpose.
                let to_update = wanted - partition;
                if updated < to_update {
                    return progressing(format!(
                        "Waiting for partitioned roll out to finish: {updated} out of {to_update} new pods have been updated..."
                    ));
                }
                return healthy_with(format!(
                    "partitioned roll out complete: {updated} new pods have been updated..."
                ));
            }
        }
    }
    let current_revision = o.str("/status/currentRevision").unwrap_or("");
    let update_revision = o.str("/status/updateRevision").unwrap_or("");
    if !update_revision.is_empty() && update_revision != current_revision {
        return progressing(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        ));
    }
    healthy_with(format!(
        "statefulset rolling update complete {} pods at revision {current_revision}...",
        o.count("/status/currentReplicas")
    ))
}

fn daemon_set(o: Obj) -> HealthStatus {
    if o.generation() > o.observed_generation() {
        return progressing(
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let desired = o.count("/status/desiredNumberScheduled");
    let updated = o.count("/status/updatedNumberScheduled");
    let available = o.count("/status/numberAvailable");
    if o.str("/spec/updateStrategy/type") == Some("OnDelete") {
        return healthy_with(format!(
            "daemon set {updated} out of {desired} new pods have been updated"
        ));
    }
    if updated < desired {
        return progressing(format!(
            "Waiting for daemon set {:?} rollout to finish: {updated} out of {desired} new pods have been updated...",
            o.name()
        ));
    }
    if available < desired {
        return progressing(format!(
            "Waiting for daemon set {:?} rollout to finish: {available} of {desired} updated pods are available...",
            o.name()
        ));
    }
    healthy()
}

fn replica_set(o: Obj) -> HealthStatus {
    if o.generation() > o.observed_generation() {
        return progressing(
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    if let Some(failure) = o.condition("ReplicaFailure").filter(Condition::is_true) {
        return degraded(failure.message);
    }
    let available = o.count("/status/availableReplicas");
    if let Some(wanted) = o.int("/spec/replicas")
        && available < wanted
    {
        return progressing(format!(
            "Waiting for rollout to finish: {available} out of {wanted} new replicas are available..."
        ));
    }
    healthy()
}

fn job(o: Obj) -> HealthStatus {
    let mut complete = None;
    for c in o.conditions().filter(Condition::is_true) {
        match c.type_ {
            "Failed" => return degraded(c.message),
            "Complete" => complete = Some(c),
            "Suspended" => return healthy_with("Job is suspended"),
            _ => {}
        }
    }
    match complete {
        Some(c) => healthy_with(c.message),
        None if o.bool("/spec/suspend") => healthy_with("Job is suspended"),
        None => {
            let active = o.count("/status/active");
            let succeeded = o.count("/status/succeeded");
            progressing(format!(
                "Job is running: {active} active, {succeeded} succeeded"
            ))
        }
    }
}

/// Waiting reasons that mean the container will not start without help.
fn is_failing_wait(reason: &str) -> bool {
    reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
}

fn pod(o: Obj) -> HealthStatus {
    let restart_policy = o.str("/spec/restartPolicy").unwrap_or("Always");
    let message = o.str("/status/message").unwrap_or("");
    let containers = || {
        o.array("/status/initContainerStatuses")
            .iter()
            .chain(o.array("/status/containerStatuses"))
            .map(Obj)
    };
    // Pods that run to completion (hooks, Job pods) may wait for an image
    // that is about to appear; only long-running pods are judged by it.
    if restart_policy == "Always" {
        let failing: Vec<String> = containers()
            .filter_map(|c| {
                let reason = c.str("/state/waiting/reason")?;
                is_failing_wait(reason).then(|| {
                    let detail = c.str("/state/waiting/message").unwrap_or(reason);
                    format!("container {:?}: {detail}", c.name_field())
                })
            })
            .collect();
        if !failing.is_empty() {
            return degraded(failing.join(", "));
        }
    }
    match o.str("/status/phase").unwrap_or("") {
        "Pending" => progressing(message),
        "Succeeded" => healthy_with(message),
        "Failed" => {
            if !message.is_empty() {
                return degraded(message);
            }
            let why = containers().find_map(|c| {
                let term = Obj(c.0.pointer("/state/terminated")?);
                if let Some(m) = term.str("/message").filter(|m| !m.is_empty()) {
                    return Some(m.to_string());
                }
                if term.str("/reason") == Some("OOMKilled") {
                    return Some("OOMKilled".to_string());
                }
                let code = term.count("/exitCode");
                (code != 0).then(|| {
                    format!(
                        "container {:?} failed with exit code {code}",
                        c.name_field()
                    )
                })
            });
            degraded(why.unwrap_or_default())
        }
        "Running" if restart_policy == "Always" => {
            if o.condition("Ready").is_some_and(|c| c.is_true()) {
                return healthy_with(message);
            }
            // Not ready after a container has already died: it is crash-looping.
            let restarted = o
                .array("/status/containerStatuses")
                .iter()
                .any(|c| c.pointer("/lastState/terminated").is_some());
            if restarted {
                degraded(message)
            } else {
                progressing(message)
            }
        }
        // Pods with a finite life are done only when they have succeeded.
        "Running" => progressing(message),
        _ => status(HealthStatusCode::Unknown, message),
    }
}

fn pvc(o: Obj) -> HealthStatus {
    match o.str("/status/phase").unwrap_or("") {
        "Bound" => healthy(),
        "Pending" => progressing("Waiting for the claim to be bound"),
        "Lost" => degraded("The claim lost its volume"),
        other => status(
            HealthStatusCode::Unknown,
            format!("unknown claim phase {other:?}"),
        ),
    }
}

fn has_load_balancer_ingress(o: Obj) -> bool {
    !o.array("/status/loadBalancer/ingress").is_empty()
}

fn service(o: Obj) -> HealthStatus {
    if o.str("/spec/type") == Some("LoadBalancer") && !has_load_balancer_ingress(o) {
        return progressing("Waiting for the load balancer to get an address");
    }
    healthy()
}

fn ingress(o: Obj) -> HealthStatus {
    if has_load_balancer_ingress(o) {
        healthy()
    } else {
        progressing("Waiting for the ingress to get an address")
    }
}

fn api_service(o: Obj) -> HealthStatus {
    match o.condition("Available") {
        Some(c) if c.is_true() => healthy_with(c.explanation()),
        Some(c) => progressing(c.explanation()),
        None => progressing("Waiting to be processed"),
    }
}

fn crd(o: Obj) -> HealthStatus {
    if o.conditions().next().is_none() {
        return progressing("Status conditions not found");
    }
    if let Some(c) = o.condition("Terminating").filter(Condition::is_true) {
        return progressing(format!("CRD is being terminated: {}", c.message));
    }
    if let Some(c) = o.condition("NamesAccepted").filter(Condition::is_false) {
        return degraded(format!("CRD names have not been accepted: {}", c.message));
    }
    if let Some(c) = o
        .condition("NonStructuralSchema")
        .filter(Condition::is_true)
    {
        return degraded(format!("Schema violations found: {}", c.message));
    }
    match o.condition("Established") {
        Some(c) if c.is_true() => healthy_with("CRD is healthy"),
        // Established follows NamesAccepted within moments; until then the CRD
        // is on its way, not broken.
        Some(c) => progressing(format!("CRD is not established: {}", c.message)),
        None => progressing("CRD is not established yet"),
    }
}

/// A `Ready=False` reason that says something failed rather than is pending.
fn is_failure_reason(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    reason.contains("fail") || reason.contains("error")
}

/// kstatus's conventions for any other kind: observedGeneration, `Stalled`,
/// `Reconciling`, then `Ready` or `Available`; no status at all is Healthy.
fn generic(o: Obj, kind: &str) -> HealthStatus {
    if let Some(observed) = o.int("/status/observedGeneration")
        && o.generation() > observed
    {
        return progressing(format!(
            "{kind} generation is {}, but latest observed generation is {observed}",
            o.generation()
        ));
    }
    if let Some(c) = o.condition("Stalled").filter(Condition::is_true) {
        return degraded(c.explanation());
    }
    if let Some(c) = o.condition("Reconciling").filter(Condition::is_true) {
        return progressing(c.explanation());
    }
    let readiness = o.condition("Ready").or_else(|| o.condition("Available"));
    match readiness {
        Some(c) if c.is_true() => healthy_with(c.explanation()),
        Some(c) if c.is_false() && is_failure_reason(c.reason) => degraded(c.explanation()),
        Some(c) => progressing(c.explanation()),
        None => healthy(),
    }
}

#[cfg(test)]
mod tests {
    //! Table-driven over `tests/fixtures/health/<case>.<Status>.json`: the
    //! object is the file, the expected status is in its name, and an optional
    //! sibling `<case>.<Status>.msg` holds the exact expected message.

    use std::path::Path;

    use super::*;

    fn code(name: &str) -> Option<HealthStatusCode> {
        Some(match name {
            "Healthy" => HealthStatusCode::Healthy,
            "Progressing" => HealthStatusCode::Progressing,
            "Degraded" => HealthStatusCode::Degraded,
            "Missing" => HealthStatusCode::Missing,
            "Unknown" => HealthStatusCode::Unknown,
            _ => return None,
        })
    }

    #[test]
    fn fixtures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health");
        let mut cases = 0;
        let mut failures = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 name");
            let (_, expected) = stem
                .rsplit_once('.')
                .unwrap_or_else(|| panic!("{stem}: name must be <case>.<Status>.json"));
            let expected = code(expected)
                .unwrap_or_else(|| panic!("{stem}: {expected:?} is not a health status"));
            let text = std::fs::read_to_string(&path).expect("read fixture");
            let object: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let got = assess(&object);
            cases += 1;
            if got.status != expected {
                failures.push(format!("{stem}: got {got:?}"));
                continue;
            }
            let msg = path.with_extension("msg");
            if msg.exists() {
                let want = std::fs::read_to_string(&msg).expect("read .msg");
                let want = want.trim_end_matches('\n');
                if got.message.as_deref().unwrap_or("") != want {
                    failures.push(format!("{stem}: message {:?}, want {want:?}", got.message));
                }
            }
        }
        assert!(
            cases >= 30,
            "only {cases} fixtures found in {}",
            dir.display()
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn h(code: HealthStatusCode, msg: &str) -> HealthStatus {
        status(code, msg)
    }

    #[test]
    fn aggregate_takes_the_worst_in_argo_order() {
        use HealthStatusCode::*;
        assert_eq!(aggregate([]), healthy());
        let all = [
            h(Healthy, ""),
            h(Progressing, "rolling"),
            h(Missing, "gone"),
            h(Degraded, "broken"),
            h(Unknown, "?"),
        ];
        // Each code beats every code before it, whatever the input order.
        for i in 0..all.len() {
            let mut some: Vec<_> = all[..=i].to_vec();
            some.reverse();
            assert_eq!(aggregate(&some), all[i], "worst of {some:?}");
            some.reverse();
            assert_eq!(aggregate(&some), all[i], "worst of {some:?}");
        }
    }

    #[test]
    fn aggregate_keeps_the_first_message_of_the_worst() {
        use HealthStatusCode::*;
        let list = [
            h(Progressing, "a"),
            h(Degraded, "first"),
            h(Healthy, ""),
            h(Degraded, "second"),
        ];
        assert_eq!(aggregate(&list), h(Degraded, "first"));
    }

    #[test]
    fn deletion_pending_is_progressing_whatever_the_kind() {
        let cm = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}
        });
        assert_eq!(assess(&cm), progressing("Pending deletion"));
    }

    #[test]
    fn objects_without_kind_or_status_do_not_panic() {
        for v in [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({"status": "weird"}),
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "status": []}),
            serde_json::json!({"apiVersion": "v1", "kind": "Pod", "status": {"containerStatuses": [1, "x"]}}),
        ] {
            let _ = assess(&v);
        }
    }
}
