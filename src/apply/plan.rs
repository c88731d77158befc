//! The order of a sync, as Argo CD users expect it: PreSync hooks, then the
//! Sync phase (CRDs first, then Namespaces, then every other object by sync
//! wave), then PostSync hooks; SyncFail hooks are kept for a failed sync.
//! Within a step, objects go in Helm's kind install order, then by name.
//!
//! Hooks and waves are read from skiff's annotations, then Argo CD's, then
//! Helm's (`helm.sh/hook`, with `helm.sh/hook-weight` as the wave).

use std::cmp::Ordering;

use crate::render::{Manifest, RenderError};

/// A sync phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Hooks run before anything is applied.
    PreSync,
    /// The objects themselves (and `Sync` hooks).
    Sync,
    /// Hooks run once everything is applied and healthy.
    PostSync,
    /// Hooks run only when the sync failed.
    SyncFail,
}

/// What a step holds, within the Sync phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// CustomResourceDefinitions, applied first and waited for.
    Crds,
    /// Namespaces, applied next.
    Namespaces,
    /// Everything else (and every hook), by wave.
    Objects,
}

/// One step of a sync: objects applied together, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The phase.
    pub phase: Phase,
    /// The group within the phase.
    pub group: Group,
    /// The sync wave (lower first; default 0).
    pub wave: i64,
    /// Whether these objects are hooks (run, then deleted per their policy).
    pub hook: bool,
    /// The objects, in apply order.
    pub manifests: Vec<Manifest>,
}

/// The steps of a sync, in order. Objects marked to be skipped (Argo CD's
/// `hook: Skip`, Helm test and delete hooks) are left out.
pub fn plan(manifests: Vec<Manifest>) -> Result<Vec<Step>, RenderError> {
    let mut steps: Vec<Step> = Vec::new();
    for m in manifests {
        let Some((phase, hook)) = phase_of(&m)? else {
            continue;
        };
        let group = match (phase, hook, kind(&m)) {
            (Phase::Sync, false, "CustomResourceDefinition") => Group::Crds,
            (Phase::Sync, false, "Namespace") => Group::Namespaces,
            _ => Group::Objects,
        };
        let wave = if group == Group::Objects {
            wave_of(&m)?
        } else {
            0
        };
        match steps
            .iter_mut()
            .find(|s| s.phase == phase && s.group == group && s.wave == wave && s.hook == hook)
        {
            Some(step) => step.manifests.push(m),
            None => steps.push(Step {
                phase,
                group,
                wave,
                hook,
                manifests: vec![m],
            }),
        }
    }
    steps.sort_by(|a, b| {
        (a.phase, a.group, a.wave, a.hook).cmp(&(b.phase, b.group, b.wave, b.hook))
    });
    for step in &mut steps {
        step.manifests.sort_by(by_kind_then_name);
    }
    Ok(steps)
}

fn by_kind_then_name(a: &Manifest, b: &Manifest) -> Ordering {
    skiff_helm::kind_less(kind(a), kind(b)).then_with(|| name(a).cmp(name(b)))
}

fn kind(m: &Manifest) -> &str {
    m.object["kind"].as_str().unwrap_or_default()
}

fn name(m: &Manifest) -> &str {
    m.object["metadata"]["name"].as_str().unwrap_or_default()
}

fn annotation<'a>(m: &'a Manifest, key: &str) -> Option<&'a str> {
    m.object["metadata"]["annotations"][key].as_str()
}

fn error(m: &Manifest, message: String) -> RenderError {
    RenderError {
        file: m.source.clone(),
        line: Some(m.line),
        message,
    }
}

/// The phase of an object and whether it is a hook; `None` to leave it out.
fn phase_of(m: &Manifest) -> Result<Option<(Phase, bool)>, RenderError> {
    for key in ["skiff.dev/hook", "argocd.argoproj.io/hook"] {
        if let Some(value) = annotation(m, key) {
            let mut phases = Vec::new();
            for part in value.split(',').map(str::trim) {
                match part {
                    "PreSync" => phases.push(Phase::PreSync),
                    "Sync" => phases.push(Phase::Sync),
                    "PostSync" => phases.push(Phase::PostSync),
                    "SyncFail" => phases.push(Phase::SyncFail),
                    // PostDelete hooks belong to deletion, not to a sync.
                    "Skip" | "PostDelete" => {}
                    other => {
                        return Err(error(
                            m,
                            format!(
                                "metadata.annotations[{key}]: unknown hook {other:?} (PreSync, Sync, PostSync, SyncFail, PostDelete or Skip)"
                            ),
                        ));
                    }
                }
            }
            // An object in several phases runs in the first of them.
            return Ok(phases.into_iter().min().map(|p| (p, true)));
        }
    }
    if let Some(value) = annotation(m, "helm.sh/hook") {
        let phase = value
            .split(',')
            .filter_map(|event| match event.trim() {
                "pre-install" | "pre-upgrade" | "crd-install" => Some(Phase::PreSync),
                "post-install" | "post-upgrade" => Some(Phase::PostSync),
                // Tests, rollbacks and deletions are not part of a sync.
                _ => None,
            })
            .min();
        return Ok(phase.map(|p| (p, true)));
    }
    Ok(Some((Phase::Sync, false)))
}

/// The wave: skiff's annotation, Argo CD's, or for Helm hooks their weight.
fn wave_of(m: &Manifest) -> Result<i64, RenderError> {
    for key in [
        "skiff.dev/sync-wave",
        "argocd.argoproj.io/sync-wave",
        "helm.sh/hook-weight",
    ] {
        if let Some(value) = annotation(m, key) {
            return value.trim().parse().map_err(|_| {
                error(
                    m,
                    format!("metadata.annotations[{key}]: {value:?} is not an integer"),
                )
            });
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::plan;
    use crate::render::Manifest;

    fn manifests(yaml: &str) -> Vec<Manifest> {
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).expect("YAML");
        docs.into_iter()
            .enumerate()
            .map(|(i, object)| Manifest {
                source: PathBuf::from("app.yaml"),
                line: i as u64 + 1,
                object,
            })
            .collect()
    }

    /// Each step as `phase/group/wave[/hook]: Kind/name ...`.
    fn outline(yaml: &str) -> Vec<String> {
        plan(manifests(yaml))
            .expect("plan")
            .iter()
            .map(|s| {
                let names: Vec<String> = s
                    .manifests
                    .iter()
                    .map(|m| {
                        format!(
                            "{}/{}",
                            m.object["kind"].as_str().unwrap_or_default(),
                            m.object["metadata"]["name"].as_str().unwrap_or_default()
                        )
                    })
                    .collect();
                let hook = if s.hook { "/hook" } else { "" };
                format!(
                    "{:?}/{:?}/{}{hook}: {}",
                    s.phase,
                    s.group,
                    s.wave,
                    names.join(" ")
                )
            })
            .collect()
    }

    #[test]
    fn crds_then_namespaces_then_waves_in_kind_order() {
        let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: late, annotations: {argocd.argoproj.io/sync-wave: "5"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: early, annotations: {skiff.dev/sync-wave: "-1"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com, annotations: {skiff.dev/sync-wave: "9"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: b}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: a}
"#;
        assert_eq!(
            outline(yaml),
            [
                "Sync/Crds/0: CustomResourceDefinition/widgets.example.com",
                "Sync/Namespaces/0: Namespace/shop",
                "Sync/Objects/-1: ConfigMap/early",
                "Sync/Objects/0: ServiceAccount/a ServiceAccount/b Service/web Deployment/web",
                "Sync/Objects/5: ConfigMap/late",
            ]
        );
    }

    #[test]
    fn hooks_from_skiff_argo_and_helm_annotations() {
        let yaml = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {argocd.argoproj.io/hook: PreSync}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: seed, annotations: {helm.sh/hook: "post-install,post-upgrade", helm.sh/hook-weight: "2"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: notify, annotations: {skiff.dev/hook: SyncFail}}
---
apiVersion: v1
kind: Pod
metadata: {name: helm-test, annotations: {helm.sh/hook: test}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped, annotations: {argocd.argoproj.io/hook: Skip}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: schema, annotations: {helm.sh/hook: pre-upgrade, helm.sh/hook-weight: "-5"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app}
"#;
        assert_eq!(
            outline(yaml),
            [
                "PreSync/Objects/-5/hook: Job/schema",
                "PreSync/Objects/0/hook: Job/migrate",
                "Sync/Objects/0: ConfigMap/app",
                "PostSync/Objects/2/hook: Job/seed",
                "SyncFail/Objects/0/hook: Job/notify",
            ]
        );
    }

    #[test]
    fn bad_annotations_name_the_object_and_field() {
        let bad_wave = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {argocd.argoproj.io/sync-wave: soon}}\n";
        let err = plan(manifests(bad_wave)).expect_err("wave must be an integer");
        assert_eq!(
            err.to_string(),
            "app.yaml:1: metadata.annotations[argocd.argoproj.io/sync-wave]: \"soon\" is not an integer"
        );
        let bad_hook = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {skiff.dev/hook: Later}}\n";
        let err = plan(manifests(bad_hook)).expect_err("unknown hook");
        assert!(err.message.contains("unknown hook \"Later\""), "{err}");
    }
}
