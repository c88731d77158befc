//! `skiff windows [PROJECT]`: each AppProject's sync windows, whether they are
//! open now and when they next open or close.

use chrono::{DateTime, Utc};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::ListParams;
use serde::Serialize;
use skiff::api::{AppProject, SyncWindowKind};
use skiff::controller::windows::{WindowStatus, Windows};

use skiff_cli::windows::WindowsArgs;

use super::kube::connect;
use super::output::{self, Cell, Colour, Format, Table};

/// One project in the `-o json|yaml` document.
#[derive(Debug, Serialize)]
struct ProjectWindows {
    namespace: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    windows: Vec<WindowStatus>,
}

#[derive(Debug, Serialize)]
struct Document<'a> {
    now: String,
    projects: &'a [ProjectWindows],
}

pub async fn run(args: WindowsArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let projects = match &args.project {
        Some(name) => {
            vec![read_project(&Api::namespaced(client, &namespace), &namespace, name).await?]
        }
        None if args.all_namespaces => list(Api::all(client), "in any namespace").await?,
        None => {
            let scope = format!("in namespace {namespace}");
            list(Api::namespaced(client, &namespace), &scope).await?
        }
    };
    // One moment for every window, so the rows agree with each other.
    let now = Utc::now();
    let mut evaluated: Vec<ProjectWindows> = projects.iter().map(|p| evaluate(p, now)).collect();
    evaluated.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let failed = evaluated.iter().any(|p| p.error.is_some());
    match args.output {
        Format::Json | Format::Yaml => {
            let document = Document {
                now: rfc3339(now),
                projects: &evaluated,
            };
            output::print(&output::document(&document, args.output)?)?;
        }
        Format::Table | Format::Wide => {
            let rows: usize = evaluated.iter().map(|p| p.windows.len()).sum();
            if rows > 0 {
                let table = table(
                    &evaluated,
                    args.output == Format::Wide,
                    args.all_namespaces,
                    now,
                );
                output::print(&table.render(output::colour_enabled()))?;
            } else if !failed {
                eprintln!("{}", nothing_found(&args, &namespace));
            }
        }
    }
    for project in &evaluated {
        if let Some(error) = &project.error {
            eprintln!(
                "Error: AppProject {}/{}: {error}",
                project.namespace, project.name
            );
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn evaluate(project: &AppProject, now: DateTime<Utc>) -> ProjectWindows {
    let (windows, error) = match Windows::parse(&project.spec.sync_windows) {
        Ok(windows) => (windows.status(now), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    ProjectWindows {
        namespace: project.metadata.namespace.clone().unwrap_or_default(),
        name: project.metadata.name.clone().unwrap_or_default(),
        error,
        windows,
    }
}

fn nothing_found(args: &WindowsArgs, namespace: &str) -> String {
    match &args.project {
        Some(name) => format!("AppProject {namespace}/{name} has no sync windows."),
        None if args.all_namespaces => "No sync windows found.".to_owned(),
        None => format!("No sync windows found in namespace {namespace}."),
    }
}

fn table(
    projects: &[ProjectWindows],
    wide: bool,
    with_namespace: bool,
    now: DateTime<Utc>,
) -> Table {
    let mut headers = vec![
        "PROJECT",
        "KIND",
        "SCHEDULE",
        "DURATION",
        "TIME ZONE",
        "APPLICATIONS",
        "NAMESPACES",
        "MANUAL SYNC",
        "OPEN",
        "NEXT",
    ];
    if with_namespace {
        headers.insert(0, "NAMESPACE");
    }
    if wide {
        headers.push("NEXT AT");
    }
    let mut table = Table::new(headers);
    for project in projects {
        for window in &project.windows {
            let mut row = Vec::new();
            if with_namespace {
                row.push(Cell::from(project.namespace.as_str()));
            }
            let (next, at) = next(window, now);
            row.extend([
                Cell::from(project.name.as_str()),
                Cell::from(kind_word(window.kind)),
                Cell::from(window.schedule.as_str()),
                Cell::from(window.duration.as_str()),
                Cell::from(window.time_zone.as_str()),
                Cell::from(list_text(&window.applications)),
                Cell::from(list_text(&window.namespaces)),
                Cell::from(yes_no(window.manual_sync)),
                Cell {
                    text: yes_no(window.open).to_owned(),
                    colour: open_colour(window),
                },
                Cell::from(next),
            ]);
            if wide {
                row.push(Cell::from(
                    at.map(rfc3339).unwrap_or_else(|| "<none>".into()),
                ));
            }
            table.row(row);
        }
    }
    table
}

/// `closes in 3h` or `opens in 12m`, and that moment.
fn next(window: &WindowStatus, now: DateTime<Utc>) -> (String, Option<DateTime<Utc>>) {
    match (window.open, window.closes_at, window.next_open) {
        (true, Some(close), _) => (format!("closes in {}", until(now, close)), Some(close)),
        (true, None, _) => ("stays open over a year".to_owned(), None),
        (false, _, Some(open)) => (format!("opens in {}", until(now, open)), Some(open)),
        (false, _, None) => ("never opens".to_owned(), None),
    }
}

/// How long from `now` to `then`, in kubectl's age units.
fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let stamp = |t: DateTime<Utc>| Timestamp::from_second(t.timestamp()).unwrap_or_default();
    output::age(stamp(now), stamp(then))
}

/// Green for an open allow window, red for an open deny window.
fn open_colour(window: &WindowStatus) -> Option<Colour> {
    match (window.open, window.kind) {
        (false, _) => None,
        (true, SyncWindowKind::Allow) => Some(Colour::Green),
        (true, SyncWindowKind::Deny) => Some(Colour::Red),
    }
}

fn kind_word(kind: SyncWindowKind) -> &'static str {
    match kind {
        SyncWindowKind::Allow => "allow",
        SyncWindowKind::Deny => "deny",
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn list_text(items: &[String]) -> String {
    if items.is_empty() {
        "<none>".to_owned()
    } else {
        items.join(",")
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn read_project(
    api: &Api<AppProject>,
    namespace: &str,
    name: &str,
) -> Result<AppProject, String> {
    let not_found = || format!("AppProject {namespace}/{name} not found");
    match api.get_opt(name).await {
        Ok(Some(project)) => Ok(project),
        Ok(None) => Err(not_found()),
        // Also what the API server says when the CRD is not installed.
        Err(kube::Error::Api(status)) if status.code == 404 => Err(not_found()),
        Err(e) => Err(format!("reading AppProject {namespace}/{name}: {e}")),
    }
}

async fn list(api: Api<AppProject>, scope: &str) -> Result<Vec<AppProject>, String> {
    match api.list(&ListParams::default()).await {
        Ok(list) => Ok(list.items),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(
            "the AppProject CRD (appprojects.skiff.dev) is not installed in this cluster"
                .to_owned(),
        ),
        Err(e) => Err(format!("listing AppProjects {scope}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, h, mi, 0)
            .single()
            .expect("valid time")
    }

    fn status(
        open: bool,
        closes_at: Option<DateTime<Utc>>,
        next_open: Option<DateTime<Utc>>,
    ) -> WindowStatus {
        WindowStatus {
            index: 0,
            kind: SyncWindowKind::Deny,
            schedule: "0 9 * * 1-5".into(),
            duration: "8h".into(),
            time_zone: "Europe/Paris".into(),
            applications: vec!["web".into(), "api-*".into()],
            namespaces: vec![],
            manual_sync: true,
            open,
            next_open,
            closes_at,
        }
    }

    #[test]
    fn next_says_when_a_window_closes_or_opens() {
        let now = utc(9, 0);
        let open = status(true, Some(utc(12, 0)), Some(utc(23, 0)));
        assert_eq!(next(&open, now), ("closes in 3h".into(), Some(utc(12, 0))));
        let closed = status(false, None, Some(utc(9, 12)));
        assert_eq!(
            next(&closed, now),
            ("opens in 12m".into(), Some(utc(9, 12)))
        );
        assert_eq!(next(&status(false, None, None), now).0, "never opens");
        assert_eq!(
            next(&status(true, None, None), now).0,
            "stays open over a year"
        );
    }

    #[test]
    fn one_row_per_window() {
        let now = utc(9, 0);
        let projects = [ProjectWindows {
            namespace: "team".into(),
            name: "payments".into(),
            error: None,
            windows: vec![status(true, Some(utc(12, 0)), None)],
        }];
        assert_eq!(
            table(&projects, true, true, now).render(false),
            "NAMESPACE   PROJECT    KIND   SCHEDULE      DURATION   TIME ZONE      APPLICATIONS   NAMESPACES   MANUAL SYNC   OPEN   NEXT           NEXT AT\n\
             team        payments   deny   0 9 * * 1-5   8h         Europe/Paris   web,api-*      <none>       yes           yes    closes in 3h   2026-11-26T12:00:00Z\n"
        );
    }
}
