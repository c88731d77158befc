//! From a chart and user values to what templates see: dependencies enabled or
//! disabled by conditions and tags, aliases applied, values coalesced, and the
//! built-in objects (`.Release`, `.Capabilities`, ...).

use std::sync::Arc;

use gotmpl::Value;

use crate::chart::Chart;
use crate::coalesce::{self, Table};
use crate::error::Error;

/// The release a render is for (`.Release`).
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_upgrade: bool,
}

impl Default for ReleaseOptions {
    fn default() -> Self {
        ReleaseOptions {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_upgrade: false,
        }
    }
}

/// What the target cluster is assumed to support (`.Capabilities`).
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `vMAJOR.MINOR.PATCH`
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

/// The Kubernetes version `helm template` assumes without `--kube-version`.
pub const DEFAULT_KUBE_VERSION: &str = "v1.37.0";

/// The Helm version templates see in `.Capabilities.HelmVersion`.
pub const HELM_VERSION: &str = "v4.3.1";

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: DEFAULT_KUBE_VERSION.into(),
            api_versions: Vec::new(),
        }
    }
}

impl Capabilities {
    /// Parses a `--kube-version` argument the way Helm does (`1.30`, `v1.30.2`).
    pub fn parse_kube_version(s: &str) -> Result<String, Error> {
        let t = s.trim_start_matches('v');
        let parts: Vec<&str> = t.split('.').collect();
        let ok = !parts.is_empty()
            && parts.len() <= 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(Error::Values(format!(
                "invalid kube version '{s}': invalid semantic version"
            )));
        }
        let major = parts[0].parse::<u64>().unwrap_or(0);
        let minor = parts
            .get(1)
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(0);
        let patch = parts
            .get(2)
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(format!("v{major}.{minor}.{patch}"))
    }

    /// Every API version `.Capabilities.APIVersions.Has` answers yes to.
    pub fn all_api_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = include_str!("default_api_versions.txt")
            .lines()
            .map(String::from)
            .collect();
        v.extend(self.api_versions.iter().cloned());
        v
    }
}

/// A chart with its dependencies resolved for the user's values: aliases
/// applied, those disabled by conditions or tags removed.
pub struct Resolved {
    pub chart: Chart,
    user: Table,
}

/// The values and objects the templates of a [`Resolved`] chart see.
pub struct Prepared {
    pub values: Table,
    pub release: Value,
    pub capabilities: Value,
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(Arc::new(
        entries
            .into_iter()
            .map(|(k, v)| (Arc::from(k), v))
            .collect(),
    ))
}

/// Resolves the dependencies of a chart that passed [`check_dependencies`]
/// (the chart's templates depend on this; the values checks of [`prepare`]
/// can run while they are parsed).
pub fn resolve(chart: &Chart, user: &Value) -> Result<Resolved, Error> {
    let user = coalesce::to_table(user);
    let mut chart = chart.clone();
    process_dependencies(&mut chart, &user, "")?;
    Ok(Resolved { chart, user })
}

/// Refuses a chart whose `Chart.yaml` names a dependency missing from
/// `charts/`.
pub fn check_dependencies(chart: &Chart) -> Result<(), Error> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Chart(format!(
            "an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Coalesces the values of a resolved chart, checks them against the
/// charts' schemas and the chart's `kubeVersion`, and builds `.Release` and
/// `.Capabilities`.
pub fn prepare(
    resolved: &Resolved,
    release: &ReleaseOptions,
    caps: &Capabilities,
) -> Result<Prepared, Error> {
    let chart = &resolved.chart;
    let values = coalesce::coalesce(chart, resolved.user.clone());
    let values = import_values(chart, values);
    let mut report = String::new();
    check_schemas(chart, &Value::Map(Arc::new(values.clone())), &mut report)?;
    if !report.is_empty() {
        return Err(Error::Values(format!(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n{report}"
        )));
    }
    if !chart.metadata.kube_version.is_empty()
        && !crate::funcs::semver::constraint_matches(
            &chart.metadata.kube_version,
            &caps.kube_version,
        )
    {
        return Err(Error::Chart(format!(
            "chart requires kubeVersion: {} which is incompatible with Kubernetes {}",
            chart.metadata.kube_version, caps.kube_version
        )));
    }
    let release_v = map(vec![
        ("IsInstall", Value::Bool(!release.is_upgrade)),
        ("IsUpgrade", Value::Bool(release.is_upgrade)),
        ("Name", s(&release.name)),
        ("Namespace", s(&release.namespace)),
        ("Revision", Value::Int(release.revision)),
        ("Service", s("Helm")),
    ]);
    let kv = &caps.kube_version;
    let mut parts = kv.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("0").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    let apis = caps.all_api_versions();
    let capabilities = map(vec![
        (
            "KubeVersion",
            map(vec![
                ("Version", s(kv)),
                ("Major", s(&major)),
                ("Minor", s(&minor)),
                ("GitVersion", s(kv)),
                (crate::gofmt::STRING_KEY, s(kv)),
            ]),
        ),
        // A list, like Go's VersionSet; `.Has` is answered by the executor's field reads.
        (
            "APIVersions",
            Value::List(apis.iter().map(|a| s(a)).collect()),
        ),
        (
            "HelmVersion",
            map(vec![
                ("Version", s(HELM_VERSION)),
                ("GitCommit", s("")),
                ("GitTreeState", s("clean")),
                ("GoVersion", s("go1.26.8")),
                ("KubeClientVersion", s("v1.37")),
                (
                    crate::gofmt::STRING_KEY,
                    s(&format!("{{{HELM_VERSION}  clean go1.26.8 v1.37}}")),
                ),
            ]),
        ),
    ]);
    Ok(Prepared {
        values,
        release: release_v,
        capabilities,
    })
}

fn version_ok(constraint: &str, version: &str) -> bool {
    constraint.is_empty() || crate::funcs::semver::constraint_matches(constraint, version)
}

/// Resolves aliases, then enables or disables dependencies by tags and
/// conditions, recursively (Helm's `processDependencyEnabled`).
fn process_dependencies(chart: &mut Chart, user: &Table, path: &str) -> Result<(), Error> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut chart.dependencies);
    let mut deps: Vec<Chart> = Vec::new();
    'outer: for e in &existing {
        for req in &chart.metadata.dependencies {
            if e.name() == req.name && version_ok(&req.version, &e.metadata.version) {
                continue 'outer;
            }
        }
        deps.push(e.clone());
    }
    for req in chart.metadata.dependencies.iter_mut() {
        if let Some(found) = existing
            .iter()
            .find(|c| c.name() == req.name && version_ok(&req.version, &c.metadata.version))
        {
            let mut c = found.clone();
            if !req.alias.is_empty() {
                c.metadata.name = req.alias.clone();
                c.metadata
                    .raw
                    .insert("name".into(), serde_json::Value::String(req.alias.clone()));
            }
            deps.push(c);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = deps;
    let cvals = coalesce::coalesce(chart, user.clone());
    let mut enabled: Vec<bool> = vec![true; chart.metadata.dependencies.len()];
    if let Some(Value::Map(tags)) = cvals.get("tags") {
        for (i, req) in chart.metadata.dependencies.iter().enumerate() {
            let mut has_true = false;
            let mut has_false = false;
            for t in &req.tags {
                match tags.get(t.as_str()) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            if !has_true && has_false {
                enabled[i] = false;
            }
        }
    }
    for (i, req) in chart.metadata.dependencies.iter().enumerate() {
        for cond in req.condition.split(',') {
            let cond = cond.trim();
            if cond.is_empty() {
                continue;
            }
            let full = format!("{path}{cond}");
            if let Some(Value::Bool(b)) = coalesce::path_value(&cvals, &full) {
                enabled[i] = *b;
                break;
            }
        }
    }
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .zip(&enabled)
        .filter(|(_, e)| !**e)
        .map(|(r, _)| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.contains(&c.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|r| !disabled.contains(&r.name));
    for sub in chart.dependencies.iter_mut() {
        let subpath = format!("{path}{}.", sub.metadata.name);
        process_dependencies(sub, &cvals, &subpath)?;
    }
    Ok(())
}

/// `import-values`: copies values from enabled subcharts into the parent.
fn import_values(chart: &Chart, mut values: Table) -> Table {
    for sub in &chart.dependencies {
        let name: Arc<str> = sub.name().into();
        if let Some(Value::Map(sv)) = values.get(&name).cloned() {
            let inner = import_values(sub, (*sv).clone());
            values.insert(name.clone(), Value::Map(Arc::new(inner)));
        }
    }
    for req in &chart.metadata.dependencies {
        if req.import_values.is_empty() {
            continue;
        }
        let Some(Value::Map(sub)) = values.get(req.name.as_str()).cloned() else {
            continue;
        };
        let mut imported = Table::new();
        for iv in &req.import_values {
            let (child, parent) = match iv {
                serde_json::Value::String(s) => (format!("exports.{s}"), String::new()),
                serde_json::Value::Object(m) => (
                    m.get("child")
                        .and_then(|x| x.as_str())
                        .unwrap_or("")
                        .to_string(),
                    m.get("parent")
                        .and_then(|x| x.as_str())
                        .unwrap_or("")
                        .to_string(),
                ),
                _ => continue,
            };
            let Some(v) = coalesce::path_value(&sub, &child) else {
                continue;
            };
            let Value::Map(vm) = v else { continue };
            let target: Table = if parent.is_empty() || parent == "." {
                (**vm).clone()
            } else {
                let mut t: Table = (**vm).clone();
                for p in parent.rsplit('.') {
                    let mut o = Table::new();
                    o.insert(p.into(), Value::Map(Arc::new(t)));
                    t = o;
                }
                t
            };
            let merged =
                coalesce::merge_maps(Value::Map(Arc::new(imported)), Value::Map(Arc::new(target)));
            imported = coalesce::to_table(&merged);
        }
        // Values the parent sets itself win over imported ones.
        let mut out = values.clone();
        coalesce::coalesce_tables(&mut out, imported, false);
        values = out;
    }
    values
}

/// Validates each chart's values against its `values.schema.json`, root first,
/// collecting Helm-style reports per chart.
fn check_schemas(chart: &Chart, values: &Value, report: &mut String) -> Result<(), Error> {
    if let Some(file) = &chart.schema {
        let schema = file.schema().map_err(|e| {
            Error::Chart(format!("{}: invalid values.schema.json: {e}", chart.name()))
        })?;
        let json = crate::yaml::to_json(values).map_err(Error::Values)?;
        if let Some(r) =
            crate::schema::report(crate::schema::validate(&schema, &schema, &json, "", 0))
        {
            report.push_str(&format!("{}:\n{r}", chart.name()));
        }
    }
    for sub in &chart.dependencies {
        let sv = match values {
            Value::Map(m) => m.get(sub.name()).cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        };
        check_schemas(sub, &sv, report)?;
    }
    Ok(())
}
