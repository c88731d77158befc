//! `skiff render APP.yaml`: what an Application would apply, rendered offline
//! from its Git source (fetched into the local cache), printed as YAML.

use std::io::Write;
use std::time::Duration;

use skiff::api::Application;
use skiff::render::{Target, render_source};
use skiff::source::git::{GitCache, within};
use skiff_cli::render::RenderArgs;

pub fn run(args: RenderArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).map_err(|e| format!("{file}: {e}"))?;
    let app: Application = serde_saphyr::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    let name = app.metadata.name.clone().unwrap_or_default();
    let source = &app.spec.source;
    if source.chart.is_some() {
        return Err(format!(
            "{file}: spec.source.chart: charts from Helm repositories are not supported by skiff render yet"
        ));
    }

    let (repo_root, revision) = match &args.repo_dir {
        Some(dir) => (
            dir.canonicalize()
                .map_err(|e| format!("--repo-dir {}: {e}", dir.display()))?,
            format!("local folder {}", dir.display()),
        ),
        None => {
            let cache_dir = args
                .cache_dir
                .unwrap_or_else(skiff::source::default_cache_dir);
            let cache = GitCache::new(cache_dir.join("git"), Duration::from_secs(60))
                .map_err(|e| format!("{}: {e}", cache_dir.display()))?;
            let revision = args
                .revision
                .or_else(|| source.target_revision.clone())
                .unwrap_or_default();
            let checkout = cache
                .checkout(&source.repo_url, &revision, None)
                .map_err(|e| e.to_string())?;
            (checkout.dir.clone(), checkout.commit)
        }
    };
    let dir = within(&repo_root, source.path.as_deref().unwrap_or("."))
        .map_err(|e| format!("spec.source.path: {e}"))?;

    let mut capabilities = skiff_helm::Capabilities::default();
    if let Some(v) = &args.kube_version {
        capabilities.kube_version =
            skiff_helm::Capabilities::parse_kube_version(v).map_err(|e| e.to_string())?;
    }
    let namespace = app
        .spec
        .destination
        .namespace
        .clone()
        .or_else(|| app.metadata.namespace.clone())
        .unwrap_or_else(|| "default".to_owned());
    let target = Target {
        app: &name,
        namespace: &namespace,
        capabilities: &capabilities,
    };
    let manifests = render_source(&repo_root, &dir, source, &target).map_err(|e| e.to_string())?;

    let mut out = String::new();
    for m in &manifests {
        let yaml = serde_saphyr::to_string(&m.object).map_err(|e| e.to_string())?;
        out.push_str(&format!(
            "---\n# Source: {}:{}\n{yaml}",
            m.source.display(),
            m.line
        ));
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing the output: {e}"))?;
    eprintln!(
        "rendered {} objects from {} at {}",
        manifests.len(),
        skiff::source::git::redact(&source.repo_url),
        revision
    );
    Ok(())
}
