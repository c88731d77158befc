//! `skiff apply APP` and `skiff diff APP`: one sync, or one comparison, of an
//! Application against the current kubeconfig's cluster, without the agent.
//! APP is an Application manifest file, or the name of an Application in the
//! cluster.
//!
//! When the Application exists in the cluster its inventory
//! (`status.resources`) is what `--prune` may delete, and `apply` records the
//! outcome in its status; a file-only Application has no inventory, so
//! nothing is pruned.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use kube::{Api, Client};
use skiff::api::{Application, SyncStatusCode};
use skiff::apply::ObjectKey;
use skiff::source::git::GitCache;
use skiff::sync::{
    Action, Engine, EngineOptions, Mode, OperationPhase, Outcome, SyncRequest, Trigger, record,
};
use skiff_cli::apply::{ApplyArgs, DiffArgs};

use super::kube::connect;

/// Runs one sync; exit status 1 unless it succeeded.
pub async fn apply(args: ApplyArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let (app, in_cluster) = load(&client, &args.app, &namespace).await?;
    let automated_prune = app
        .spec
        .sync_policy
        .as_ref()
        .and_then(|p| p.automated.as_ref())
        .is_some_and(|a| a.prune);
    let options = EngineOptions {
        wait: !args.no_wait,
        health_timeout: args.timeout,
        ..EngineOptions::default()
    };
    let engine = engine(client.clone(), args.cache_dir.as_deref(), options)?;
    let request = SyncRequest {
        revision: args.revision,
        trigger: Trigger::Manual,
        mode: Mode::Apply,
        prune: args.prune || automated_prune,
        previous: inventory(in_cluster.as_ref()),
        auto: None,
    };
    let outcome = engine.sync(&app, &request).await;
    print_results(&outcome)?;
    match &in_cluster {
        Some(live) => {
            let status = record::next_status(
                live,
                &outcome,
                &record::Extra {
                    add_history: true,
                    ..record::Extra::default()
                },
            );
            record::write(&client, live, &status).await?;
        }
        None => eprintln!(
            "note: Application {} is not in the cluster: no inventory, so nothing was pruned and no status was recorded",
            name_of(&app)
        ),
    }
    eprintln!("{}: {}", outcome.phase, outcome.message);
    Ok(if outcome.phase == OperationPhase::Succeeded {
        0
    } else {
        1
    })
}

/// Prints what differs; exit status 0 when in sync, 1 when not (as `kubectl
/// diff`), errors are reported by the caller with status 2.
pub async fn diff(args: DiffArgs) -> Result<i32, String> {
    let (client, namespace) = connect(&args.kube).await?;
    let (app, in_cluster) = load(&client, &args.app, &namespace).await?;
    let engine = engine(client, args.cache_dir.as_deref(), EngineOptions::default())?;
    let request = SyncRequest {
        revision: args.revision,
        trigger: Trigger::Manual,
        mode: Mode::Compare,
        prune: false,
        previous: inventory(in_cluster.as_ref()),
        auto: None,
    };
    let outcome = engine.sync(&app, &request).await;
    if outcome.phase != OperationPhase::Succeeded {
        return Err(outcome.message);
    }
    let mut out = String::new();
    for r in &outcome.resources {
        if r.status == SyncStatusCode::Synced {
            continue;
        }
        match (&r.diff, r.action) {
            (Some(diff), _) if !diff.is_empty() => out.push_str(diff),
            (_, Action::RequiresPruning) => out.push_str(&format!("{} would be pruned\n", r.key)),
            _ => out.push_str(&format!(
                "{} {}\n",
                r.key,
                r.message.as_deref().unwrap_or("differs")
            )),
        }
    }
    write_stdout(&out)?;
    eprintln!("{}", outcome.message);
    Ok(if outcome.sync_status == SyncStatusCode::Synced {
        0
    } else {
        1
    })
}

fn engine(
    client: Client,
    cache_dir: Option<&Path>,
    options: EngineOptions,
) -> Result<Engine, String> {
    let cache_dir = cache_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(skiff::source::default_cache_dir);
    let git = GitCache::new(cache_dir.join("git"), options.git_timeout)
        .map_err(|e| format!("{}: {e}", cache_dir.display()))?;
    Ok(Engine::new(client, Arc::new(git), options))
}

/// The Application from a file (and its in-cluster copy, if any), or from the cluster by name.
async fn load(
    client: &Client,
    arg: &str,
    namespace: &str,
) -> Result<(Application, Option<Application>), String> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{arg}: {e}"))?;
        let mut app: Application =
            serde_saphyr::from_str(&text).map_err(|e| format!("{arg}: {e}"))?;
        if app.metadata.name.as_deref().unwrap_or_default().is_empty() {
            return Err(format!("{arg}: metadata.name is required"));
        }
        let ns = app
            .metadata
            .namespace
            .get_or_insert_with(|| namespace.to_owned())
            .clone();
        let api: Api<Application> = Api::namespaced(client.clone(), &ns);
        let live = match api.get_opt(&name_of(&app)).await {
            Ok(live) => live,
            // The CRD is not installed: no Application is in the cluster.
            Err(kube::Error::Api(status)) if status.code == 404 => None,
            Err(e) => return Err(format!("reading Application {ns}/{}: {e}", name_of(&app))),
        };
        return Ok((app, live));
    }
    let api: Api<Application> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(arg).await {
        Ok(Some(app)) => Ok((app.clone(), Some(app))),
        Ok(None) => Err(format!(
            "{arg}: no such file, and no Application {namespace}/{arg} in the cluster"
        )),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(format!(
            "{arg}: no such file, and no Application {namespace}/{arg} in the cluster"
        )),
        Err(e) => Err(format!("reading Application {namespace}/{arg}: {e}")),
    }
}

fn name_of(app: &Application) -> String {
    app.metadata.name.clone().unwrap_or_default()
}

fn inventory(app: Option<&Application>) -> Vec<ObjectKey> {
    app.and_then(|a| a.status.as_ref())
        .map(|s| s.resources.iter().map(ObjectKey::from_status).collect())
        .unwrap_or_default()
}

/// One line per object, kubectl style: `Deployment team/web created`.
fn print_results(outcome: &Outcome) -> Result<(), String> {
    let mut out = String::new();
    for r in &outcome.resources {
        let what = match r.action {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::WouldApply => "would be applied",
            Action::Pruned => "pruned",
            Action::RequiresPruning => "requires pruning (pruning is off)",
            Action::PruneDisabled => "not pruned (pruning disabled)",
            Action::NotOurs => "not pruned (not managed by this Application)",
            Action::HookRan => "hook succeeded",
            Action::Failed => "failed",
        };
        out.push_str(&format!("{} {what}", r.key));
        if r.action == Action::Failed
            && let Some(m) = &r.message
        {
            out.push_str(&format!(": {m}"));
        }
        out.push('\n');
    }
    write_stdout(&out)
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing the output: {e}"))
}
