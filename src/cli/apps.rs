//! `skiff get apps`, `skiff status APP` and `skiff history APP`: what the agent
//! recorded in the Applications' status, for people and for scripts.

use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};
use skiff::api::{
    Application, ApplicationStatus, HealthStatusCode, REQUESTED_AT_ANNOTATION,
    SYNC_REVISION_ANNOTATION, SyncStatusCode,
};

use super::kube::connect;
use skiff_cli::apps::{GetArgs, HistoryArgs, Resource, StatusArgs};

use super::output::{self, Cell, Fields, Format, Table, paint, status_colour};

/// How many characters of a message the narrow table shows.
const MESSAGE_WIDTH: usize = 60;

pub async fn get(args: GetArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let Resource::Apps = args.resource;
    let mut apps = if args.all_namespaces {
        list(Api::all(client), "in any namespace").await?
    } else if args.names.is_empty() {
        let scope = format!("in namespace {namespace}");
        list(Api::namespaced(client, &namespace), &scope).await?
    } else {
        let api = Api::namespaced(client, &namespace);
        let mut apps = Vec::new();
        for name in &args.names {
            apps.push(read_app(&api, &namespace, name).await?);
        }
        apps
    };
    if args.names.is_empty() {
        apps.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
    }
    match args.output {
        Format::Json | Format::Yaml => {
            let list = json!({
                "apiVersion": "skiff.dev/v1alpha1",
                "kind": "ApplicationList",
                "items": apps.iter().map(app_document).collect::<Vec<_>>(),
            });
            output::print(&output::document(&list, args.output)?)?;
        }
        Format::Table | Format::Wide if apps.is_empty() => {
            if args.all_namespaces {
                eprintln!("No Applications found.");
            } else {
                eprintln!("No Applications found in namespace {namespace}.");
            }
        }
        Format::Table | Format::Wide => {
            let now = Timestamp::now();
            let table = apps_table(&apps, args.output == Format::Wide, args.all_namespaces, now);
            output::print(&table.render(output::colour_enabled()))?;
        }
    }
    Ok(0)
}

pub async fn status(args: StatusArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let app = read_app(&Api::namespaced(client, &namespace), &namespace, &args.app).await?;
    let text = match args.output {
        Format::Json | Format::Yaml => output::document(&app_document(&app), args.output)?,
        Format::Table | Format::Wide => describe(&app, Timestamp::now(), output::colour_enabled()),
    };
    output::print(&text)?;
    Ok(0)
}

pub async fn history(args: HistoryArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let app = read_app(&Api::namespaced(client, &namespace), &namespace, &args.app).await?;
    let history = app.status.map(|s| s.history).unwrap_or_default();
    match args.output {
        Format::Json | Format::Yaml => output::print(&output::document(&history, args.output)?)?,
        Format::Table | Format::Wide if history.is_empty() => {
            eprintln!("Application {namespace}/{} has no history yet.", args.app);
        }
        Format::Table | Format::Wide => {
            let wide = args.output == Format::Wide;
            let mut table = Table::new(["ID", "REVISION", "DEPLOYED AT", "RESULT", "TRACE ID"]);
            for entry in &history {
                table.row([
                    Cell::from(entry.id.to_string()),
                    Cell::from(revision_text(&entry.revision, wide)),
                    Cell::from(or_none(
                        entry.deployed_at.as_ref().map(|t| output::timestamp(t.0)),
                    )),
                    Cell::status(or_none(entry.result.clone())),
                    Cell::from(or_none(entry.trace_id.clone())),
                ]);
            }
            output::print(&table.render(output::colour_enabled()))?;
        }
    }
    Ok(0)
}

/// The Application `namespace/name`, or the error every command gives for a missing one.
pub(super) async fn read_app(
    api: &Api<Application>,
    namespace: &str,
    name: &str,
) -> Result<Application, String> {
    match api.get_opt(name).await {
        Ok(Some(app)) => Ok(app),
        Ok(None) => Err(not_found(namespace, name)),
        // Also what the API server says when the CRD is not installed.
        Err(kube::Error::Api(status)) if status.code == 404 => Err(not_found(namespace, name)),
        Err(e) => Err(format!("reading Application {namespace}/{name}: {e}")),
    }
}

pub(super) fn not_found(namespace: &str, name: &str) -> String {
    format!("Application {namespace}/{name} not found")
}

async fn list(api: Api<Application>, scope: &str) -> Result<Vec<Application>, String> {
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(
            "the Application CRD (applications.skiff.dev) is not installed in this cluster"
                .to_owned(),
        ),
        Err(e) => Err(format!("listing Applications {scope}: {e}")),
    }
}

/// The object as `kubectl get -o json` shows it: everything but the
/// server's field ownership bookkeeping.
fn app_document(app: &Application) -> Value {
    let mut value = serde_json::to_value(app).unwrap_or(Value::Null);
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.remove("managedFields");
    }
    value
}

fn apps_table(apps: &[Application], wide: bool, with_namespace: bool, now: Timestamp) -> Table {
    let mut headers = vec!["NAME", "PROJECT", "SYNC", "HEALTH", "REVISION", "LAST SYNC"];
    if with_namespace {
        headers.insert(0, "NAMESPACE");
    }
    if wide {
        headers.extend(["REPO", "PATH", "TARGET", "DESTINATION"]);
    }
    headers.push("MESSAGE");
    let mut table = Table::new(headers);
    for app in apps {
        let status = app.status.clone().unwrap_or_default();
        let source = &app.spec.source;
        let mut row = Vec::new();
        if with_namespace {
            row.push(Cell::from(
                app.metadata.namespace.clone().unwrap_or_default(),
            ));
        }
        row.extend([
            Cell::from(app.metadata.name.clone().unwrap_or_default()),
            Cell::from(app.spec.project.as_str()),
            Cell::status(sync_word(&status)),
            Cell::status(health_word(&status)),
            Cell::from(or_none(
                status
                    .sync
                    .as_ref()
                    .and_then(|s| s.revision.as_deref())
                    .map(|r| revision_text(r, wide)),
            )),
            Cell::from(or_none(last_sync(&status).map(|t| output::age(t, now)))),
        ]);
        if wide {
            row.extend([
                Cell::from(source.repo_url.as_str()),
                Cell::from(or_none(source.chart.clone().or(source.path.clone()))),
                Cell::from(target(app)),
                Cell::from(or_none(app.spec.destination.namespace.clone())),
            ]);
        }
        let message = message(app);
        row.push(Cell::from(if wide {
            output::single_line(&message)
        } else {
            output::truncate(&message, MESSAGE_WIDTH)
        }));
        table.row(row);
    }
    table
}

fn sync_word(status: &ApplicationStatus) -> String {
    let code = status.sync.as_ref().map(|s| s.status).unwrap_or_default();
    match code {
        SyncStatusCode::Synced => "Synced",
        SyncStatusCode::OutOfSync => "OutOfSync",
        SyncStatusCode::Unknown => "Unknown",
    }
    .to_owned()
}

fn health_word(status: &ApplicationStatus) -> String {
    let code = status.health.as_ref().map(|h| h.status).unwrap_or_default();
    health_code_word(code).to_owned()
}

fn health_code_word(code: HealthStatusCode) -> &'static str {
    match code {
        HealthStatusCode::Healthy => "Healthy",
        HealthStatusCode::Progressing => "Progressing",
        HealthStatusCode::Degraded => "Degraded",
        HealthStatusCode::Missing => "Missing",
        HealthStatusCode::Unknown => "Unknown",
    }
}

/// When the last sync finished: the operation's end, else the newest history entry.
fn last_sync(status: &ApplicationStatus) -> Option<Timestamp> {
    status
        .operation_state
        .as_ref()
        .and_then(|o| o.finished_at.as_ref())
        .or_else(|| status.history.first().and_then(|h| h.deployed_at.as_ref()))
        .map(|t| t.0)
}

/// The one sentence that most needs reading: a standing condition, else a
/// failed operation, else why the app is not healthy, else how the last
/// operation went. A suspended Application says so first.
fn message(app: &Application) -> String {
    let status = app.status.clone().unwrap_or_default();
    let operation = status.operation_state.as_ref();
    let failed_operation = operation
        .filter(|o| o.phase != "Succeeded")
        .and_then(|o| o.message.clone());
    let unhealthy = status
        .health
        .as_ref()
        .filter(|h| h.status != HealthStatusCode::Healthy)
        .and_then(|h| h.message.clone());
    let text = status
        .conditions
        .iter()
        .find(|c| c.status == "True" && c.message.is_some())
        .and_then(|c| c.message.clone())
        .or(failed_operation)
        .or(unhealthy)
        .or_else(|| operation.and_then(|o| o.message.clone()))
        .unwrap_or_default();
    match (app.spec.suspend, text.is_empty()) {
        (true, true) => "Suspended".to_owned(),
        (true, false) => format!("Suspended; {text}"),
        (false, _) => text,
    }
}

fn target(app: &Application) -> String {
    app.spec
        .source
        .target_revision
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "HEAD".to_owned())
}

fn revision_text(revision: &str, whole: bool) -> String {
    if whole {
        revision.to_owned()
    } else {
        output::short_revision(revision)
    }
}

fn or_none(value: Option<String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "<none>".to_owned())
}

/// `kubectl describe`-style sections for one Application.
fn describe(app: &Application, now: Timestamp, colour: bool) -> String {
    let status = app.status.clone().unwrap_or_default();
    let word = |w: &str| paint(w, status_colour(w), colour);
    let when = |t: Timestamp| format!("{} ({} ago)", output::timestamp(t), output::age(t, now));
    let mut out = String::new();

    let mut top = Fields::new();
    top.add("Name", app.metadata.name.clone().unwrap_or_default())
        .add(
            "Namespace",
            app.metadata.namespace.clone().unwrap_or_default(),
        )
        .add("Project", app.spec.project.as_str());
    if app.spec.suspend {
        top.add(
            "Suspended",
            word("Suspended") + " (`skiff resume` turns reconciling back on)",
        );
    }
    out.push_str(&top.render(0));

    let source = &app.spec.source;
    let mut fields = Fields::new();
    fields.add("Repo", source.repo_url.as_str());
    if let Some(chart) = &source.chart {
        fields.add("Chart", chart.as_str());
    }
    if let Some(path) = &source.path {
        fields.add("Path", path.as_str());
    }
    fields.add("Target", target(app));
    out.push_str("Source:\n");
    out.push_str(&fields.render(2));

    let mut fields = Fields::new();
    fields.add("Namespace", or_none(app.spec.destination.namespace.clone()));
    out.push_str("Destination:\n");
    out.push_str(&fields.render(2));

    let policy = app.spec.sync_policy.as_ref();
    let automated = match policy.and_then(|p| p.automated.as_ref()) {
        None => "manual (syncs only on request)".to_owned(),
        Some(a) => {
            let mut options = Vec::new();
            if a.prune {
                options.push("prune");
            }
            if a.self_heal {
                options.push("self-heal");
            }
            if a.allow_empty {
                options.push("allow-empty");
            }
            if options.is_empty() {
                "automated".to_owned()
            } else {
                format!("automated ({})", options.join(", "))
            }
        }
    };
    let mut fields = Fields::new();
    fields.add("Policy", automated);
    if let Some(options) = policy.filter(|p| !p.sync_options.is_empty()) {
        fields.add("Options", options.sync_options.join(", "));
    }
    fields.add("Status", word(&sync_word(&status)));
    fields.add(
        "Revision",
        or_none(status.sync.as_ref().and_then(|s| s.revision.clone())),
    );
    if let Some(pending) = pending_request(app) {
        fields.add("Requested", pending);
    }
    out.push_str("Sync:\n");
    out.push_str(&fields.render(2));

    let mut fields = Fields::new();
    fields.add("Status", word(&health_word(&status)));
    if let Some(message) = status.health.as_ref().and_then(|h| h.message.as_deref()) {
        fields.add("Message", output::single_line(message));
    }
    out.push_str("Health:\n");
    out.push_str(&fields.render(2));

    match &status.operation_state {
        None => out.push_str("Last Operation: <none>\n"),
        Some(op) => {
            let mut fields = Fields::new();
            fields.add("Phase", word(&op.phase));
            if let Some(message) = &op.message {
                fields.add("Message", output::single_line(message));
            }
            if let Some(t) = &op.started_at {
                fields.add("Started", when(t.0));
            }
            if let Some(t) = &op.finished_at {
                fields.add("Finished", when(t.0));
            }
            if let Some(retries) = op.retry_count.filter(|r| *r > 0) {
                fields.add("Retries", retries.to_string());
            }
            if let Some(t) = &op.next_retry_at {
                fields.add("Next Retry", output::timestamp(t.0));
            }
            fields.add("Trace ID", or_none(op.trace_id.clone()));
            out.push_str("Last Operation:\n");
            out.push_str(&fields.render(2));
        }
    }

    if status.conditions.is_empty() {
        out.push_str("Conditions: <none>\n");
    } else {
        let mut table = Table::new(["TYPE", "STATUS", "REASON", "MESSAGE"]);
        for c in &status.conditions {
            table.row([
                Cell::from(c.type_.as_str()),
                Cell::from(c.status.as_str()),
                Cell::from(or_none(c.reason.clone())),
                Cell::from(output::single_line(
                    c.message.as_deref().unwrap_or_default(),
                )),
            ]);
        }
        out.push_str("Conditions:\n");
        out.push_str(&indent(&table.render(colour)));
    }

    if status.resources.is_empty() {
        out.push_str("Resources: <none>\n");
    } else {
        let mut table = Table::new(["KIND", "NAMESPACE", "NAME", "SYNC", "HEALTH", "MESSAGE"]);
        for r in &status.resources {
            let health = r.health.as_ref();
            table.row([
                Cell::from(r.kind.as_str()),
                Cell::from(r.namespace.clone().unwrap_or_default()),
                Cell::from(r.name.as_str()),
                Cell::status(match r.status {
                    Some(SyncStatusCode::Synced) => "Synced",
                    Some(SyncStatusCode::OutOfSync) => "OutOfSync",
                    Some(SyncStatusCode::Unknown) | None => "Unknown",
                }),
                Cell::status(health.map(|h| health_code_word(h.status)).unwrap_or("")),
                Cell::from(output::single_line(
                    health
                        .and_then(|h| h.message.as_deref())
                        .unwrap_or_default(),
                )),
            ]);
        }
        out.push_str("Resources:\n");
        out.push_str(&indent(&table.render(colour)));
    }
    out
}

/// A sync request (`skiff sync`, `skiff rollback`) the agent has not handled yet.
fn pending_request(app: &Application) -> Option<String> {
    let annotations = app.metadata.annotations.as_ref()?;
    let requested = annotations.get(REQUESTED_AT_ANNOTATION)?;
    let handled = app
        .status
        .as_ref()
        .and_then(|s| s.last_handled_request.as_ref());
    if handled == Some(requested) {
        return None;
    }
    Some(match annotations.get(SYNC_REVISION_ANNOTATION) {
        Some(revision) => format!("{requested} (revision {revision}), not handled yet"),
        None => format!("{requested}, not handled yet"),
    })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use skiff::api::{
        ApplicationCondition, HealthStatus, OperationState, ResourceStatus, SyncStatus,
    };

    fn app(name: &str, status: ApplicationStatus) -> Application {
        let mut app: Application = serde_json::from_value(json!({
            "apiVersion": "skiff.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "team"},
            "spec": {"source": {"repoURL": "https://git.example/fleet.git", "path": "apps/web",
                                "targetRevision": "main"},
                     "destination": {"namespace": "web"}},
        }))
        .expect("app");
        app.status = Some(status);
        app
    }

    fn at(s: &str) -> Time {
        Time(s.parse().expect("time"))
    }

    fn healthy() -> ApplicationStatus {
        ApplicationStatus {
            sync: Some(SyncStatus {
                status: SyncStatusCode::Synced,
                revision: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
            }),
            health: Some(HealthStatus {
                status: HealthStatusCode::Healthy,
                message: None,
            }),
            operation_state: Some(OperationState {
                phase: "Succeeded".to_owned(),
                message: Some("successfully synced".to_owned()),
                finished_at: Some(at("2026-01-01T10:00:00Z")),
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".to_owned()),
                ..OperationState::default()
            }),
            resources: vec![ResourceStatus {
                group: "apps".to_owned(),
                version: "v1".to_owned(),
                kind: "Deployment".to_owned(),
                namespace: Some("web".to_owned()),
                name: "web".to_owned(),
                status: Some(SyncStatusCode::Synced),
                health: Some(HealthStatus {
                    status: HealthStatusCode::Progressing,
                    message: Some("1 of 2 replicas ready".to_owned()),
                }),
            }],
            ..ApplicationStatus::default()
        }
    }

    #[test]
    fn the_apps_table_shortens_in_narrow_and_not_in_wide() {
        let now: Timestamp = "2026-01-01T10:05:00Z".parse().expect("now");
        let long = "x".repeat(80);
        let mut failing = healthy();
        failing.conditions.push(ApplicationCondition {
            type_: "SyncError".to_owned(),
            status: "True".to_owned(),
            message: Some(long.clone()),
            ..ApplicationCondition::default()
        });
        let apps = [app("web", healthy()), app("api", failing)];
        let narrow = apps_table(&apps, false, false, now).render(false);
        let lines: Vec<&str> = narrow.lines().collect();
        assert_eq!(
            lines[0],
            "NAME   PROJECT   SYNC     HEALTH    REVISION       LAST SYNC   MESSAGE"
        );
        assert_eq!(
            lines[1],
            "web    default   Synced   Healthy   0123456789ab   5m          successfully synced"
        );
        assert!(
            lines[2].ends_with(&format!("{}…", "x".repeat(59))),
            "{narrow}"
        );

        let wide = apps_table(&apps, true, true, now).render(false);
        let header = wide.lines().next().expect("header");
        assert!(
            header.starts_with("NAMESPACE   NAME   PROJECT")
                && header.contains("REPO")
                && header.contains("DESTINATION")
                && header.ends_with("MESSAGE"),
            "{wide}"
        );
        assert!(wide.contains("0123456789abcdef0123456789abcdef01234567"));
        let first = output::single_line(wide.lines().nth(1).expect("row"));
        assert!(
            first.contains("https://git.example/fleet.git apps/web main web"),
            "{wide}"
        );
        assert!(wide.contains(&long));
    }

    #[test]
    fn an_app_without_status_is_unknown() {
        let now = Timestamp::now();
        let table = apps_table(
            &[app("new", ApplicationStatus::default())],
            false,
            false,
            now,
        );
        assert_eq!(
            table.render(false).lines().nth(1),
            Some("new    default   Unknown   Unknown   <none>     <none>")
        );
    }

    #[test]
    fn describe_shows_the_trace_and_the_resources() {
        let now: Timestamp = "2026-01-01T10:05:00Z".parse().expect("now");
        let text = describe(&app("web", healthy()), now, false);
        assert!(
            text.contains("  Trace ID: 4bf92f3577b34da6a3ce929d0e0e4736\n"),
            "{text}"
        );
        assert!(
            text.contains("  Finished: 2026-01-01T10:00:00Z (5m ago)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  KIND         NAMESPACE   NAME   SYNC     HEALTH        MESSAGE\n  \
                 Deployment   web         web    Synced   Progressing   1 of 2 replicas ready\n"
            ),
            "{text}"
        );
        assert!(text.contains("Conditions: <none>\n"), "{text}");
        assert!(!text.contains("Requested:"), "{text}");
        assert!(!text.contains('\x1b'));

        let mut pending = app("web", healthy());
        pending.metadata.annotations = Some(
            [
                (REQUESTED_AT_ANNOTATION.to_owned(), "t2".to_owned()),
                (SYNC_REVISION_ANNOTATION.to_owned(), "v1".to_owned()),
            ]
            .into(),
        );
        let text = describe(&pending, now, false);
        assert!(
            text.contains("  Requested: t2 (revision v1), not handled yet\n"),
            "{text}"
        );
        if let Some(status) = pending.status.as_mut() {
            status.last_handled_request = Some("t2".to_owned());
        }
        assert!(!describe(&pending, now, false).contains("Requested:"));
    }
}
