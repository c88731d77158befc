//! The CRD manifests, generated from the types so they can never disagree.

use kube::CustomResourceExt;

use super::{AppProject, Application};

/// The file name (under `manifests/crds/`) and YAML of every CRD.
pub fn crd_files() -> Vec<(String, String)> {
    [Application::crd(), AppProject::crd()]
        .into_iter()
        .map(|crd| {
            let name = crd.metadata.name.clone().unwrap_or_default();
            (format!("{name}.yaml"), crd_yaml(&crd))
        })
        .collect()
}

/// One CRD as YAML, with a header saying where it comes from.
pub fn crd_yaml(
    crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
) -> String {
    let body = serde_saphyr::to_string(crd).expect("a CRD always serializes");
    format!(
        "# Generated from src/api by `SKIFF_UPDATE_CRDS=1 cargo test --lib crds`; do not edit.\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::crd_files;

    /// Fails when manifests/crds/ differs from the types; with
    /// `SKIFF_UPDATE_CRDS=1` it rewrites the files instead.
    #[test]
    fn committed_crds_match_the_types() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/crds");
        let update = std::env::var_os("SKIFF_UPDATE_CRDS").is_some();
        for (name, yaml) in crd_files() {
            let path = dir.join(&name);
            if update {
                std::fs::create_dir_all(&dir).expect("create manifests/crds");
                std::fs::write(&path, &yaml).expect("write CRD");
                continue;
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == yaml,
                "{} is stale: run `SKIFF_UPDATE_CRDS=1 cargo test --lib crds` and commit the result",
                path.display()
            );
        }
    }
}
