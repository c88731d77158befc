//! Checks made after rendering and before anything is applied: every object
//! resolves to a kind the cluster serves (or a CRD in the same source
//! defines), no object appears twice, and an empty render is refused unless
//! the Application allows it. Any failure stops the sync with nothing applied.

use std::collections::HashMap;

use kube::discovery::Scope;

use crate::apply::ObjectKey;
use crate::apply::plan::{Group, Step};
use crate::apply::ssa::Applier;
use crate::render::Manifest;

/// A rendered object and the key it will be applied under.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// Where the object came from and what it is.
    pub manifest: Manifest,
    /// Its identity in the cluster.
    pub key: ObjectKey,
}

/// The steps of a sync with every object keyed.
#[derive(Debug, Clone)]
pub struct KeyedStep {
    /// The step as planned.
    pub step: Step,
    /// Its objects, keyed, in apply order.
    pub objects: Vec<Keyed>,
}

/// Keys every object of every step; errors name the file and line of each
/// object at fault, all of them at once.
pub async fn key_steps(
    applier: &Applier,
    steps: Vec<Step>,
    default_namespace: &str,
) -> Result<Vec<KeyedStep>, String> {
    // CRDs in this source define kinds the cluster may not serve yet.
    let rendered_crds: HashMap<(String, String), Scope> = steps
        .iter()
        .filter(|s| s.group == Group::Crds)
        .flat_map(|s| s.manifests.iter())
        .filter_map(|m| {
            let spec = &m.object["spec"];
            let group = spec["group"].as_str()?.to_owned();
            let kind = spec["names"]["kind"].as_str()?.to_owned();
            let scope = match spec["scope"].as_str() {
                Some("Cluster") => Scope::Cluster,
                _ => Scope::Namespaced,
            };
            Some(((group, kind), scope))
        })
        .collect();

    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen: HashMap<ObjectKey, String> = HashMap::new();
    for step in steps {
        let mut objects = Vec::new();
        for m in &step.manifests {
            let at = format!("{}:{}", m.source.display(), m.line);
            let probe = ObjectKey::of(&m.object, None);
            if probe.kind.is_empty() || probe.version.is_empty() {
                errors.push(format!("{at}: apiVersion and kind are required"));
                continue;
            }
            if probe.name.is_empty() {
                errors.push(format!("{at}: {} has no metadata.name", probe.kind));
                continue;
            }
            let key = match applier.key_of(m, default_namespace).await {
                Ok(key) => key,
                Err(e) => match rendered_crds.get(&(probe.group.clone(), probe.kind.clone())) {
                    Some(Scope::Cluster) => probe,
                    Some(Scope::Namespaced) => ObjectKey::of(
                        &m.object,
                        Some(
                            m.object["metadata"]["namespace"]
                                .as_str()
                                .filter(|n| !n.is_empty())
                                .unwrap_or(default_namespace)
                                .to_owned(),
                        ),
                    ),
                    None => {
                        errors.push(format!(
                            "{at}: {e} (and no CustomResourceDefinition in this source defines it)"
                        ));
                        continue;
                    }
                },
            };
            // Hooks are recreated per sync; only regular objects must be unique.
            if !step.hook {
                let identity = ObjectKey {
                    version: String::new(),
                    ..key.clone()
                };
                if let Some(first) = seen.insert(identity, at.clone()) {
                    errors.push(format!("{at}: {key} is also rendered at {first}"));
                    continue;
                }
            }
            objects.push(Keyed {
                manifest: m.clone(),
                key,
            });
        }
        out.push(KeyedStep { step, objects });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("\n"))
    }
}

/// The keys of the objects the sync keeps in its inventory (hooks are not).
pub fn inventory_keys(steps: &[KeyedStep]) -> Vec<ObjectKey> {
    steps
        .iter()
        .filter(|s| !s.step.hook)
        .flat_map(|s| s.objects.iter().map(|o| o.key.clone()))
        .collect()
}
