//! `skiff sync`, `skiff rollback`, `skiff suspend` and `skiff resume`: the CLI
//! never syncs itself; it asks the agent by writing the Application (the
//! trigger annotation, `spec.suspend`) and, with `--wait`, follows the status
//! the agent records.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::{Value, json};
use skiff::api::{
    Application, ApplicationStatus, OperationState, REQUESTED_AT_ANNOTATION,
    SYNC_REVISION_ANNOTATION,
};

use skiff_cli::ops::{NameArgs, RollbackArgs, SyncArgs, WaitArgs};

use super::apps::{not_found, read_app};
use super::kube::connect;
use super::output;

/// Who the API server records as the writer of the CLI's changes.
const FIELD_MANAGER: &str = "skiff-cli";

pub async fn sync(args: SyncArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let request = request_stamp(Timestamp::now());
    let patch = json!({"metadata": {"annotations": trigger(&request, args.revision.as_deref())}});
    let app = patch_app(&api, &namespace, &args.app, &patch).await?;
    match &args.revision {
        Some(revision) => println!(
            "application.skiff.dev/{} sync of revision {revision} requested",
            args.app
        ),
        None => println!("application.skiff.dev/{} sync requested", args.app),
    }
    follow(&api, &namespace, &app, &request, &args.wait).await
}

pub async fn rollback(args: RollbackArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let app = read_app(&api, &namespace, &args.app).await?;
    let history = app
        .status
        .as_ref()
        .map(|s| s.history.as_slice())
        .unwrap_or_default();
    let Some(entry) = history.iter().find(|h| h.id == args.id) else {
        let ids: Vec<String> = history.iter().map(|h| h.id.to_string()).collect();
        return Err(if ids.is_empty() {
            format!(
                "Application {namespace}/{} has no history yet, so there is nothing to roll back to",
                args.app
            )
        } else {
            format!(
                "Application {namespace}/{} has no history entry {}; its entries are {}",
                args.app,
                args.id,
                ids.join(", ")
            )
        });
    };
    let automated = app
        .spec
        .sync_policy
        .as_ref()
        .is_some_and(|p| p.automated.is_some());
    let request = request_stamp(Timestamp::now());
    // One patch, so the agent never sees the trigger without automation off
    // (it would roll forward again on its next poll).
    let mut patch = json!({"metadata": {"annotations": trigger(&request, Some(&entry.revision))}});
    if automated {
        patch["spec"] = json!({"syncPolicy": {"automated": null}});
    }
    let app = patch_app(&api, &namespace, &args.app, &patch).await?;
    println!(
        "application.skiff.dev/{} rollback to history entry {} (revision {}) requested",
        args.app, entry.id, entry.revision
    );
    if automated {
        eprintln!(
            "Automated sync of Application {namespace}/{} is now off; turn it back on in its spec when the rollback is no longer needed.",
            args.app
        );
    }
    follow(&api, &namespace, &app, &request, &args.wait).await
}

pub async fn suspend(args: NameArgs) -> Result<i32, String> {
    set_suspend(args, true).await
}

pub async fn resume(args: NameArgs) -> Result<i32, String> {
    set_suspend(args, false).await
}

async fn set_suspend(args: NameArgs, suspend: bool) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let api: Api<Application> = Api::namespaced(client, &namespace);
    let patch = json!({"spec": {"suspend": suspend}});
    patch_app(&api, &namespace, &args.app, &patch).await?;
    let done = if suspend { "suspended" } else { "resumed" };
    println!("application.skiff.dev/{} {done}", args.app);
    Ok(0)
}

/// The trigger annotation's value: the time to the nanosecond, so that two
/// requests never look alike to the agent.
fn request_stamp(now: Timestamp) -> String {
    format!("{now:.9}")
}

/// The annotations of a sync request: the trigger, and the revision to sync
/// or, without one, null so that a revision left by an earlier rollback does
/// not pin this sync.
fn trigger(request: &str, revision: Option<&str>) -> Value {
    json!({
        REQUESTED_AT_ANNOTATION: request,
        SYNC_REVISION_ANNOTATION: revision,
    })
}

/// A JSON merge patch of the Application (RFC 7396), by the CLI's field manager.
async fn patch_app(
    api: &Api<Application>,
    namespace: &str,
    name: &str,
    patch: &Value,
) -> Result<Application, String> {
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    match api.patch(name, &params, &Patch::Merge(patch)).await {
        Ok(app) => Ok(app),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(not_found(namespace, name)),
        Err(e) => Err(format!("updating Application {namespace}/{name}: {e}")),
    }
}

/// After a request: nothing more without --wait; with it, the sync's result.
async fn follow(
    api: &Api<Application>,
    namespace: &str,
    app: &Application,
    request: &str,
    wait: &WaitArgs,
) -> Result<i32, String> {
    let name = app.metadata.name.clone().unwrap_or_default();
    if app.spec.suspend {
        eprintln!(
            "warning: Application {namespace}/{name} is suspended: the agent will not sync it until `skiff resume {name}`"
        );
    }
    if !wait.wait {
        return Ok(0);
    }
    let initial = app.status.as_ref().and_then(|s| s.operation_state.clone());
    let mut watching = Watching {
        name: format!("{namespace}/{name}"),
        request: request.to_owned(),
        last_seen: initial.clone(),
        before: initial,
        saw_running: false,
        handled: false,
        conditions: Vec::new(),
    };
    eprintln!(
        "Waiting up to {} for the agent to sync Application {}...",
        duration_text(wait.timeout),
        watching.name
    );
    let deadline = tokio::time::Instant::now() + wait.timeout;
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut events = watcher::watcher(api.clone(), config)
        .default_backoff()
        .boxed();
    let mut last_error = None;
    loop {
        let event = match tokio::time::timeout_at(deadline, events.next()).await {
            Err(_elapsed) => {
                eprintln!("Error: {}", watching.timeout_message(wait.timeout));
                return Ok(2);
            }
            Ok(None) => {
                return Err(format!(
                    "watching Application {}: the watch ended",
                    watching.name
                ));
            }
            Ok(Some(Err(e))) => {
                // The watcher backs off and retries until the deadline; say
                // why once, so that (say) a missing RBAC rule is not a
                // silent timeout.
                let text = e.to_string();
                if last_error.as_ref() != Some(&text) {
                    eprintln!(
                        "warning: watching Application {}: {text} (retrying)",
                        watching.name
                    );
                    last_error = Some(text);
                }
                continue;
            }
            Ok(Some(Ok(event))) => event,
        };
        match event {
            Event::Apply(app) | Event::InitApply(app) => {
                if let Some(done) = watching.observe(app.status.as_ref()) {
                    return done;
                }
            }
            Event::Delete(_) => {
                return Err(format!(
                    "Application {} was deleted while waiting for its sync",
                    watching.name
                ));
            }
            Event::Init | Event::InitDone => {}
        }
    }
}

/// What `--wait` has seen so far.
#[derive(Debug)]
struct Watching {
    name: String,
    request: String,
    last_seen: Option<OperationState>,
    /// The operation recorded before the request: never the answer to it.
    before: Option<OperationState>,
    /// Whether an operation was seen running since the request.
    saw_running: bool,
    handled: bool,
    /// Why the Application is stuck, as its conditions said last.
    conditions: Vec<String>,
}

impl Watching {
    /// Prints what changed; `Some` with the exit status once our sync has finished.
    fn observe(&mut self, status: Option<&ApplicationStatus>) -> Option<Result<i32, String>> {
        let status = status?;
        let operation = status.operation_state.as_ref();
        self.conditions = status
            .conditions
            .iter()
            .filter(|c| c.status == "True")
            .map(|c| match &c.message {
                Some(m) => format!("{}: {}", c.type_, output::single_line(m)),
                None => c.type_.clone(),
            })
            .collect();
        if !self.handled && status.last_handled_request.as_deref() == Some(self.request.as_str()) {
            self.handled = true;
        }
        if operation.is_some_and(|o| o.phase == "Running") {
            self.saw_running = true;
        }
        if operation != self.last_seen.as_ref() {
            if let Some(op) = operation
                && progressed(self.last_seen.as_ref(), op)
            {
                let message = op.message.as_deref().map(output::single_line);
                match message {
                    Some(m) if !m.is_empty() => eprintln!("{}: {}: {m}", self.name, op.phase),
                    _ => eprintln!("{}: {}", self.name, op.phase),
                }
            }
            self.last_seen = operation.cloned();
        }
        if !self.handled {
            return None;
        }
        // An agent that handled the request without syncing (a closed sync
        // window, say) leaves the earlier operation in place.
        // Timestamps have one-second resolution, so a quick sync can record
        // an operation equal to the one before; having seen it run tells them apart.
        let op = operation.filter(|o| {
            o.finished_at.is_some() && (self.saw_running || Some(*o) != self.before.as_ref())
        })?;
        let trace = op
            .trace_id
            .as_deref()
            .map(|t| format!(" (trace {t})"))
            .unwrap_or_default();
        let message = op
            .message
            .as_deref()
            .map(output::single_line)
            .unwrap_or_default();
        match op.phase.as_str() {
            "Succeeded" => {
                eprintln!("Application {} synced{trace}", self.name);
                Some(Ok(0))
            }
            "Failed" | "Error" => Some(Err(format!(
                "the sync of Application {} ended {}: {message}{trace}",
                self.name, op.phase
            ))),
            // Running, Terminating: not over yet.
            _ => None,
        }
    }

    fn timeout_message(&self, timeout: Duration) -> String {
        let waited = duration_text(timeout);
        let why = if self.conditions.is_empty() {
            String::new()
        } else {
            format!("; its conditions: {}", self.conditions.join("; "))
        };
        if self.handled {
            format!(
                "timed out after {waited}: the sync of Application {} has not finished yet{why}",
                self.name
            )
        } else {
            format!(
                "timed out after {waited}: the agent has not picked up the sync request of Application {} (is the agent running, and the Application not suspended?){why}",
                self.name
            )
        }
    }
}

/// Worth a progress line: a new phase, or a new operation.
fn progressed(before: Option<&OperationState>, now: &OperationState) -> bool {
    match before {
        None => true,
        Some(b) => b.phase != now.phase || b.started_at != now.started_at,
    }
}

/// `90s`, `5m`, `1h30m`: how the user would have typed it.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 || out.is_empty() {
        out.push_str(&format!("{sec}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn op(phase: &str, finished: bool) -> OperationState {
        OperationState {
            phase: phase.to_owned(),
            message: Some(format!("{phase} message")),
            started_at: Some(Time("2026-01-01T10:00:00Z".parse().expect("time"))),
            finished_at: finished.then(|| Time("2026-01-01T10:01:00Z".parse().expect("time"))),
            trace_id: Some("abc".to_owned()),
            ..OperationState::default()
        }
    }

    fn earlier() -> OperationState {
        OperationState {
            trace_id: Some("earlier".to_owned()),
            ..op("Succeeded", true)
        }
    }

    fn status(handled: &str, op: OperationState) -> ApplicationStatus {
        ApplicationStatus {
            last_handled_request: Some(handled.to_owned()),
            operation_state: Some(op),
            ..ApplicationStatus::default()
        }
    }

    fn watching() -> Watching {
        Watching {
            name: "team/web".to_owned(),
            request: "new".to_owned(),
            last_seen: Some(earlier()),
            before: Some(earlier()),
            saw_running: false,
            handled: false,
            conditions: Vec::new(),
        }
    }

    #[test]
    fn requests_are_unique_to_the_nanosecond() {
        let t: Timestamp = "2026-11-25T23:32:36.000000001Z".parse().expect("time");
        assert_eq!(request_stamp(t), "2026-11-25T23:32:36.000000001Z");
        let whole: Timestamp = "2026-11-25T23:32:36Z".parse().expect("time");
        assert_eq!(request_stamp(whole), "2026-11-25T23:32:36.000000000Z");
    }

    #[test]
    fn a_sync_without_revision_clears_a_pinned_one() {
        assert_eq!(
            trigger("t", None),
            json!({"skiff.dev/requested-at": "t", "skiff.dev/sync-revision": null})
        );
        assert_eq!(trigger("t", Some("v1"))["skiff.dev/sync-revision"], "v1");
    }

    #[test]
    fn waiting_ends_only_when_our_request_has_finished() {
        let mut w = watching();
        // The previous operation, finished, for an older request.
        assert!(
            w.observe(Some(&status("old", op("Succeeded", true))))
                .is_none()
        );
        // Ours, picked up but still running.
        assert!(
            w.observe(Some(&status("new", op("Running", false))))
                .is_none()
        );
        assert!(w.handled);
        assert_eq!(
            w.observe(Some(&status("new", op("Succeeded", true)))),
            Some(Ok(0))
        );

        let mut w = watching();
        let failed = w.observe(Some(&status("new", op("Failed", true))));
        let message = failed.expect("finished").expect_err("failed");
        assert!(
            message.contains("ended Failed: Failed message (trace abc)"),
            "{message}"
        );
    }

    #[test]
    fn the_timeout_says_whether_the_agent_answered() {
        let w = watching();
        let text = w.timeout_message(Duration::from_secs(2));
        assert!(
            text.starts_with("timed out after 2s: the agent has not picked up"),
            "{text}"
        );
        assert_eq!(duration_text(Duration::from_secs(5400)), "1h30m");
        assert_eq!(duration_text(Duration::from_secs(0)), "0s");
    }
}
