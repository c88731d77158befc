//! `skiff helm template`: renders a chart like `helm template`, natively
//! (in-process in the front).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use skiff_helm::strvals::{self, SetKind};
use skiff_helm::{Capabilities, PrintOptions, ReleaseOptions};

#[derive(Debug, Subcommand)]
pub enum HelmCommand {
    /// Render chart templates locally and print the manifests.
    Template(TemplateArgs),
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Release name (default `release-name`), then the chart folder or .tgz.
    #[arg(num_args = 1..=2, required = true, value_name = "[NAME] CHART")]
    args: Vec<String>,
    /// Values files, merged in order.
    #[arg(short = 'f', long = "values")]
    values: Vec<PathBuf>,
    /// Set values (`a.b=c,d=e`).
    #[arg(long = "set")]
    set: Vec<String>,
    /// Set string values.
    #[arg(long = "set-string")]
    set_string: Vec<String>,
    /// Set JSON values (`a={"b":1}`).
    #[arg(long = "set-json")]
    set_json: Vec<String>,
    /// Set values from files (`key=path`).
    #[arg(long = "set-file")]
    set_file: Vec<String>,
    /// Release namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    namespace: String,
    /// Kubernetes version for `.Capabilities.KubeVersion`.
    #[arg(long = "kube-version")]
    kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions`.
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    api_versions: Vec<String>,
    /// Print the chart's CRDs too.
    #[arg(long = "include-crds")]
    include_crds: bool,
    /// Leave CRDs out (the default for `template`).
    #[arg(long = "skip-crds")]
    skip_crds: bool,
    /// Leave test hooks out.
    #[arg(long = "skip-tests")]
    skip_tests: bool,
    /// Leave hooks out.
    #[arg(long = "no-hooks")]
    no_hooks: bool,
    /// Print only the manifests of these templates.
    #[arg(short = 's', long = "show-only")]
    show_only: Vec<String>,
    /// Set `.Release.IsUpgrade` instead of `.Release.IsInstall`.
    #[arg(long = "is-upgrade")]
    is_upgrade: bool,
    /// Use the release name in the output-dir path (accepted for compatibility; no output dir).
    #[arg(long = "release-name")]
    release_name: bool,
}

pub fn run(cmd: HelmCommand) -> Result<(), String> {
    match cmd {
        HelmCommand::Template(a) => template(a),
    }
}

fn template(a: TemplateArgs) -> Result<(), String> {
    let (name, chart_path) = match a.args.as_slice() {
        [chart] => ("release-name".to_string(), chart.clone()),
        [name, chart] => (name.clone(), chart.clone()),
        _ => return Err("expected [NAME] CHART".into()),
    };
    // Up while the chart loads, rather than started in the middle of it.
    skiff_helm::start_threads();
    // The process ends after printing: freeing the chart, the render and
    // the output piece by piece (thousands of small allocations) would only
    // delay that, so they are left to the exit.
    let chart = std::mem::ManuallyDrop::new(
        skiff_helm::load(std::path::Path::new(&chart_path)).map_err(|e| e.to_string())?,
    );
    let mut values = strvals::empty();
    for f in &a.values {
        let text = std::fs::read_to_string(f).map_err(|e| format!("open {}: {e}", f.display()))?;
        let v = skiff_helm::parse_values(&text)
            .map_err(|e| format!("failed to parse {}: {e}", f.display()))?;
        values = skiff_helm::merge_values(values, v);
    }
    for (list, kind) in [
        (&a.set_json, SetKind::Json),
        (&a.set, SetKind::Typed),
        (&a.set_string, SetKind::String),
        (&a.set_file, SetKind::File),
    ] {
        for expr in list {
            values = strvals::apply(values, expr, kind).map_err(|e| e.to_string())?;
        }
    }
    let mut caps = Capabilities::default();
    if let Some(k) = &a.kube_version {
        caps.kube_version = Capabilities::parse_kube_version(k).map_err(|e| e.to_string())?;
    }
    caps.api_versions = a.api_versions.clone();
    let release = ReleaseOptions {
        name,
        namespace: a.namespace.clone(),
        revision: 1,
        is_upgrade: a.is_upgrade,
    };
    if chart
        .metadata
        .raw
        .get("deprecated")
        .and_then(|d| d.as_bool())
        == Some(true)
    {
        eprintln!("level=WARN msg=\"this chart is deprecated\"");
    }
    let rendered = skiff_helm::render(&chart, &values, &release, &caps).map_err(|e| match e {
        // helm has a release by then and suggests --debug, which prints the raw output.
        skiff_helm::Error::Parse(_) | skiff_helm::Error::Exec(_) | skiff_helm::Error::Output(_) => {
            format!("{e}\n\nUse --debug flag to render out invalid YAML")
        }
        other => other.to_string(),
    })?;
    let rendered = std::mem::ManuallyDrop::new(rendered);
    let print = PrintOptions {
        include_crds: a.include_crds && !a.skip_crds,
        no_hooks: a.no_hooks,
        skip_tests: a.skip_tests,
        show_only: a.show_only.clone(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 << 10, stdout.lock());
    rendered
        .write_helm_output(&print, &mut out)
        .map_err(|e| e.to_string())
}
