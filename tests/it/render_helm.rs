//! An Application's `helm` source renders to the same objects as the real
//! `helm template` given the equivalent flags: value files, then `values`,
//! then `valuesObject` (as -f files, in that order), then parameters as --set
//! and --set-string, CRDs included, chart tests skipped.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use skiff::api::{HelmParameter, HelmSource};
use skiff::render::helm::{Release, render};
use skiff_helm::Capabilities;

/// The non-empty documents of a YAML stream, as JSON.
fn documents(text: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple_with_options(
        text,
        serde_saphyr::options! { legacy_octal_numbers: true },
    )
    .expect("helm output is YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

#[test]
fn helm_source_matches_helm_template_with_the_same_inputs() {
    let corpus = skiff_testbed::repo_root().join("../shared/corpus/charts");
    let chart = corpus.join("podinfo");
    let helm = HelmSource {
        release_name: Some("shop".into()),
        value_files: vec!["values-prod.yaml".into()],
        values: Some("replicaCount: 3\nui:\n  message: from values\n".into()),
        values_object: Some(
            json!({ "ui": { "color": "#123456" }, "podAnnotations": { "team": "a" } }),
        ),
        parameters: vec![
            HelmParameter {
                name: "image.tag".into(),
                value: "6.0.0".into(),
                force_string: false,
            },
            HelmParameter {
                name: "ui.logo".into(),
                value: "1234".into(),
                force_string: true,
            },
        ],
        skip_crds: false,
    };
    let caps = Capabilities::default();
    let ours = render(
        &corpus,
        &chart,
        &helm,
        &Release {
            name: "shop",
            namespace: "web",
            capabilities: &caps,
        },
    )
    .expect("render");

    let tmp = std::env::temp_dir().join(format!("skiff-render-helm-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("mkdir");
    std::fs::write(
        tmp.join("values.yaml"),
        helm.values.as_deref().unwrap_or_default(),
    )
    .expect("write");
    std::fs::write(
        tmp.join("object.yaml"),
        helm.values_object.as_ref().expect("set").to_string(),
    )
    .expect("write");
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(["template", "shop"])
        .arg(&chart)
        .args(["-n", "web", "--include-crds", "--skip-tests"])
        .arg("-f")
        .arg(chart.join("values-prod.yaml"))
        .arg("-f")
        .arg(tmp.join("values.yaml"))
        .arg("-f")
        .arg(tmp.join("object.yaml"))
        .args(["--set", "image.tag=6.0.0", "--set-string", "ui.logo=1234"])
        .args(["--kube-version", &caps.kube_version])
        .env("HELM_CACHE_HOME", tmp.join("cache"))
        .env("HELM_CONFIG_HOME", tmp.join("config"))
        .env("HELM_DATA_HOME", tmp.join("data"))
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = documents(&String::from_utf8_lossy(&out.stdout));
    std::fs::remove_dir_all(&tmp).expect("cleanup");

    let ours_objects: Vec<_> = ours.iter().map(|m| m.object.clone()).collect();
    assert_eq!(ours_objects, theirs);
    assert!(ours.len() >= 3, "podinfo renders several objects");
    let deployment = ours
        .iter()
        .find(|m| m.object["kind"] == "Deployment")
        .expect("a Deployment");
    assert_eq!(
        deployment.source,
        Path::new("podinfo/templates/deployment.yaml")
    );
    // Each source reached the chart: valueFiles (hpa on, so no replicas),
    // values, valuesObject, --set and --set-string.
    assert!(deployment.object["spec"].get("replicas").is_none());
    let pod = &deployment.object["spec"]["template"];
    assert_eq!(pod["metadata"]["annotations"]["team"], "a");
    let container = &pod["spec"]["containers"][0];
    assert!(
        container["image"]
            .as_str()
            .is_some_and(|i| i.ends_with(":6.0.0")),
        "{container}"
    );
    let env = |name: &str| {
        container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
    };
    assert_eq!(env("PODINFO_UI_MESSAGE"), Some(json!("from values")));
    assert_eq!(env("PODINFO_UI_COLOR"), Some(json!("#123456")));
    assert_eq!(
        env("PODINFO_UI_LOGO"),
        Some(json!(1234)),
        "unquoted in the template"
    );
}

#[test]
fn value_files_may_not_leave_the_repository() {
    let corpus = skiff_testbed::repo_root().join("../shared/corpus/charts");
    let helm = HelmSource {
        value_files: vec!["../../../../../etc/hostname".into()],
        ..Default::default()
    };
    let caps = Capabilities::default();
    let err = render(
        &corpus,
        &corpus.join("podinfo"),
        &helm,
        &Release {
            name: "x",
            namespace: "y",
            capabilities: &caps,
        },
    )
    .expect_err("a value file outside the repository");
    assert!(err.message.contains("spec.source.helm.valueFiles"), "{err}");
    assert!(
        err.message.contains("outside the repository") || err.message.contains("cannot be read"),
        "{err}"
    );
}
