//! What a sync may delete: objects in the previous inventory that the new
//! render no longer has, and only when the live object still carries this
//! Application's tracking label. Anything skiff did not apply is never touched.

use crate::apply::ObjectKey;
use crate::apply::ssa::{APPLICATION_LABEL, MANAGED_BY_LABEL};

/// skiff's annotation that keeps an object from ever being pruned.
pub const PRUNE_ANNOTATION: &str = "skiff.dev/prune";
const ARGO_SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";

/// The previous inventory entries the new one no longer has, in the reverse
/// of the usual apply order (workloads first, Namespaces and CRDs last).
pub fn candidates(previous: &[ObjectKey], desired: &[ObjectKey]) -> Vec<ObjectKey> {
    let mut out: Vec<ObjectKey> = previous
        .iter()
        .filter(|p| !desired.iter().any(|d| d.same_object(p)))
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        let rank = |k: &ObjectKey| match k.kind.as_str() {
            "CustomResourceDefinition" => 2,
            "Namespace" => 1,
            _ => 0,
        };
        rank(a)
            .cmp(&rank(b))
            .then_with(|| skiff_helm::kind_less(&b.kind, &a.kind))
            .then_with(|| a.cmp(b))
    });
    out.dedup();
    out
}

/// What to do with a candidate, judged from its live object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Delete it.
    Prune,
    /// Leave it: it says so (`skiff.dev/prune: disabled`, Argo CD's `Prune=false`).
    Disabled,
    /// Leave it: its labels say another owner (or none) manages it now.
    NotOurs,
}

/// Whether the live object `live` may be pruned by Application `app`.
pub fn verdict(live: &serde_json::Value, app: &str) -> Verdict {
    let meta = &live["metadata"];
    let label = |k: &str| meta["labels"][k].as_str();
    if label(MANAGED_BY_LABEL) != Some("skiff") || label(APPLICATION_LABEL) != Some(app) {
        return Verdict::NotOurs;
    }
    let annotation = |k: &str| meta["annotations"][k].as_str().unwrap_or_default();
    if annotation(PRUNE_ANNOTATION).eq_ignore_ascii_case("disabled")
        || annotation(PRUNE_ANNOTATION).eq_ignore_ascii_case("false")
        || annotation(ARGO_SYNC_OPTIONS)
            .split(',')
            .any(|o| o.trim() == "Prune=false")
    {
        return Verdict::Disabled;
    }
    Verdict::Prune
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(kind: &str, ns: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn candidates_are_what_is_gone_namespaces_last() {
        let previous = [
            key("Namespace", None, "team"),
            key("ConfigMap", Some("team"), "kept"),
            key("ConfigMap", Some("team"), "gone"),
            key("Service", Some("team"), "web"),
        ];
        let desired = [ObjectKey {
            version: "v2".into(),
            ..key("ConfigMap", Some("team"), "kept")
        }];
        let got: Vec<String> = candidates(&previous, &desired)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            ["Service team/web", "ConfigMap team/gone", "Namespace team"]
        );
    }

    #[test]
    fn only_objects_labelled_for_this_app_are_pruned() {
        let ours = json!({"metadata": {"labels": {
            "app.kubernetes.io/managed-by": "skiff", "skiff.dev/application": "web"}}});
        assert_eq!(verdict(&ours, "web"), Verdict::Prune);
        assert_eq!(verdict(&ours, "other"), Verdict::NotOurs);
        let unlabelled = json!({"metadata": {}});
        assert_eq!(verdict(&unlabelled, "web"), Verdict::NotOurs);
        let mut disabled = ours.clone();
        disabled["metadata"]["annotations"] = json!({"skiff.dev/prune": "disabled"});
        assert_eq!(verdict(&disabled, "web"), Verdict::Disabled);
        let mut argo = ours;
        argo["metadata"]["annotations"] =
            json!({"argocd.argoproj.io/sync-options": "Replace=false,Prune=false"});
        assert_eq!(verdict(&argo, "web"), Verdict::Disabled);
    }
}
