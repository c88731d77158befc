//! skiff-kustomize: a native Kustomize. A kustomization directory goes in, the
//! manifests `kustomize build` (v5.8) would print come out, byte for byte.
//!
//! The crate is pure: it reads files under the directory it is given and never
//! talks to a cluster or the network.
//!
//! # Why a value model and our own emitter
//!
//! kustomize v5 prints each resource by turning it into JSON and then into YAML
//! with go-yaml v2 (`sigs.k8s.io/yaml.JSONToYAML`). So the output carries
//! nothing of the input's formatting: comments are dropped, keys are sorted
//! with go-yaml v2's "natural" key order, and each string gets the quoting
//! style go-yaml v2's emitter picks, with long strings folded at 80 columns.
//! That makes a plain JSON-like value model ([`Value`]) the right internal
//! representation, and it means none of the serde YAML writers fits: none of
//! them reproduces go-yaml v2's key order, quoting decisions or folding. The
//! emitter in [`yaml::emit`] is written against those rules and checked
//! against the reference binary by the differential tests.
//!
//! Reading goes through `saphyr-parser`'s event stream rather than
//! serde-saphyr, because kustomize types plain scalars with go-yaml v3's
//! resolver (`yes` stays a string, `0755` is 493, a bare date becomes a
//! timestamp) and that needs the scalar's style, which serde does not expose.
//!
//! # What is covered, and what is refused
//!
//! Resources (files, directories, nested kustomizations, `List`s), `bases`,
//! components, `namespace`, `namePrefix`/`nameSuffix` with name references
//! rewritten (kustomize's builtin reference table, generated into
//! `nameref_table.rs` by `scripts/gen-nameref.py`), `commonLabels`, `labels`,
//! `commonAnnotations`, `images` (also `imageTags`), `replicas`,
//! `replacements`, `patches` (strategic merge and JSON 6902, inline or from a
//! file, with regex targets and label/annotation selectors),
//! `patchesStrategicMerge`, `patchesJson6902`, config map and secret
//! generators (literals, files, env files, create/merge/replace,
//! `generatorOptions`) with kustomize's content hash, builtin
//! `LabelTransformer`/`AnnotationsTransformer` configs under `transformers`,
//! `sortOptions` (legacy, fifo), deprecation warnings, and kustomize's load
//! restrictor. The differential test holds all of it to the reference binary.
//!
//! Refused with an error naming the field, rather than half done:
//! `helmCharts` and the other Helm fields, `vars`, `configurations`, `crds`,
//! `generators`, `validators`, `openapi`, `buildMetadata`, non-builtin
//! transformers, remote resources (skiff builds offline), set-based label
//! selectors in patch targets, and env-file lines without `=`.
//!
//! Strategic merge patches follow kustomize's kyaml walker (`smp.rs`) with
//! list merge keys and strategies from the OpenAPI schema kustomize embeds,
//! generated into `smp_schema.rs` by `scripts/gen-smp-schema.py`, which also
//! lists where the testbed apiserver's schema differs.
//!
//! Known gaps: per-field schemas given in YAML comments, which kyaml reads,
//! are not (comments are gone by then); a non-string annotation value is printed in its
//! canonical form where kustomize keeps its source spelling (`0x1F`, `1.0`);
//! replacements cannot reach into YAML or JSON held inside a string field.
//!
//! # Pipeline
//!
//! [`build`] loads the kustomization, accumulates its
//! resources recursively ([`build`]), runs generators, then the builtin
//! transformers in kustomize's fixed order, adds content hashes to generated
//! names, fixes name references and sorts in kustomize's legacy order.

mod build;
mod error;
mod fieldspec;
mod generate;
pub mod json;
mod kustomization;
mod loader;
mod nameref;
mod nameref_table;
mod patch;
mod replacements;
mod resource;
mod smp;
mod smp_schema;
mod specs;
mod transform;
mod value;
pub mod yaml;

pub use build::{Output, build, build_with_warnings, build_within};
pub use error::Error;
pub use generate::content_hash;
pub use value::Value;

/// Entry points for the `cargo fuzz` targets in `fuzz/`: each must return
/// (an error is fine) on any input, never panic.
#[doc(hidden)]
pub mod fuzzing {
    use crate::yaml::parse_documents;

    /// Parse a stream and print every document.
    pub fn yaml_roundtrip(text: &str) {
        if let Ok(docs) = parse_documents(text) {
            for d in docs {
                let _ = crate::yaml::to_string(&d.value);
            }
        }
    }

    /// A strategic merge of the second document into the first, as a
    /// Deployment and as a custom resource.
    pub fn strategic_merge(text: &str) {
        let Ok(docs) = parse_documents(text) else {
            return;
        };
        if let [target, patch, ..] = docs.as_slice() {
            for api in ["apps/v1", "example.com/v1"] {
                let mut t = target.value.clone();
                if let Some(m) = t.as_map_mut() {
                    m.insert("apiVersion".into(), api.into());
                    m.insert("kind".into(), "Deployment".into());
                }
                let _ = crate::smp::strategic_merge(&mut t, &patch.value);
                let _ = crate::yaml::to_string(&t);
            }
        }
    }

    /// Builds `kustomization` as the kustomization file of a scratch folder
    /// that also holds a Deployment (`deployment.yaml`) and a patch
    /// (`patch.yaml`, the same text) it may refer to.
    pub fn build_kustomization(dir: &std::path::Path, kustomization: &str) {
        let _ = std::fs::create_dir_all(dir);
        let _ = std::fs::write(dir.join("kustomization.yaml"), kustomization);
        let _ = std::fs::write(dir.join("patch.yaml"), kustomization);
        let _ = std::fs::write(
            dir.join("deployment.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1\n",
        );
        let _ = crate::build(dir);
    }
}
