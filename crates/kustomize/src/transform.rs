//! The builtin transformers a kustomization's fields ask for: namespace,
//! name prefix and suffix, labels, annotations, images and replicas.

use crate::error::Result;
use crate::fieldspec::{FieldSpec, visit};
use crate::kustomization::Kustomization;
use crate::resource::Resource;
use crate::value::{Map, Value};

pub fn namespace(resources: &mut [Resource], ns: &str) {
    for r in resources {
        let gvk = r.gvk();
        if !gvk.is_cluster_scoped() {
            r.set_namespace(ns.to_string());
        }
        if gvk.kind == "Namespace" && r.value.str_at(&["apiVersion"]) == Some("v1") {
            r.set_name(ns.to_string());
        }
        if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
            && let Some(Value::Seq(subjects)) = r.value.get_mut("subjects")
        {
            for s in subjects {
                if s.str_at(&["name"]) == Some("default")
                    && let Some(m) = s.as_map_mut()
                {
                    m.insert("namespace".into(), ns.into());
                }
            }
        }
        if gvk.kind == "APIService" {
            visit(&mut r.value, "spec/service/namespace", true, &mut |v| {
                *v = ns.into()
            });
        }
        if gvk.kind == "CustomResourceDefinition" {
            visit(
                &mut r.value,
                "spec/conversion/webhook/clientConfig/service/namespace",
                false,
                &mut |v| *v = ns.into(),
            );
        }
    }
}

pub fn prefix_suffix(resources: &mut [Resource], prefix: &str, suffix: &str) {
    for r in resources {
        // kustomize leaves CRDs' names alone: they must match their group.
        if r.gvk().kind == "CustomResourceDefinition" {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.set_name(name);
    }
}

/// Sets `pairs` in the map at each field spec's path.
pub fn set_map_entries(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) {
    if pairs.is_empty() {
        return;
    }
    for r in resources {
        let gvk = r.gvk();
        for spec in specs.iter().filter(|s| s.matches(&gvk)) {
            visit(&mut r.value, &spec.path, spec.create, &mut |v| {
                if matches!(v, Value::Null) {
                    *v = Value::Map(Map::new());
                }
                if let Some(m) = v.as_map_mut() {
                    for (k, val) in pairs {
                        m.insert(k.clone(), Value::String(val.clone()));
                    }
                }
            });
        }
    }
}

pub fn images(k: &Kustomization, resources: &mut [Resource]) -> Result<()> {
    let mut all = k.list("images")?;
    all.extend(k.list("imageTags")?);
    for img in all {
        let name = img.str_at(&["name"]).unwrap_or_default().to_string();
        if name.is_empty() {
            return Err(k.err("an images entry needs a name"));
        }
        let text = |f: &str| {
            img.get(f)
                .and_then(Value::scalar_string)
                .filter(|s| !s.is_empty())
        };
        let new_name = text("newName");
        let new_tag = text("newTag");
        let digest = text("digest");
        for r in resources.iter_mut() {
            if r.gvk().kind == "CustomResourceDefinition" {
                continue;
            }
            let update = &mut |v: &mut Value| {
                if let Value::String(s) = v
                    && let Some(out) = retag(
                        s,
                        &name,
                        new_name.as_deref(),
                        new_tag.as_deref(),
                        digest.as_deref(),
                    )
                {
                    *s = out;
                }
            };
            walk_containers(&mut r.value, update);
            for p in [
                "spec/volumes[]/image/reference",
                "spec/template/spec/volumes[]/image/reference",
            ] {
                visit(&mut r.value, p, false, update);
            }
        }
    }
    Ok(())
}

/// Every `containers` and `initContainers` list anywhere in the object.
fn walk_containers(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                walk_containers(child, f);
                if (k == "containers" || k == "initContainers")
                    && let Value::Seq(items) = child
                {
                    for c in items {
                        if let Some(img) = c.get_mut("image") {
                            f(img);
                        }
                    }
                }
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| walk_containers(i, f)),
        _ => {}
    }
}

/// Splits `repo[:tag][@digest]`.
fn split_image(s: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..]), digest),
        None => (rest, None, digest),
    }
}

fn retag(
    image: &str,
    name: &str,
    new_name: Option<&str>,
    new_tag: Option<&str>,
    digest: Option<&str>,
) -> Option<String> {
    let (repo, tag, dig) = split_image(image);
    if repo != name {
        return None;
    }
    let repo = new_name.unwrap_or(repo);
    let (tag, dig) = match (new_tag, digest) {
        (None, None) => (tag, dig),
        (t, d) => (t, d),
    };
    let mut out = repo.to_string();
    if let Some(t) = tag {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = dig {
        out.push('@');
        out.push_str(d);
    }
    Some(out)
}

pub fn replicas(k: &Kustomization, resources: &mut [Resource]) -> Result<()> {
    for rep in k.list("replicas")? {
        let name = rep.str_at(&["name"]).unwrap_or_default();
        let count = match rep.get("count") {
            Some(Value::Int(i)) => *i,
            _ => return Err(k.err(format!("replicas entry {name:?} needs an integer count"))),
        };
        for r in resources
            .iter_mut()
            .filter(|r| r.orig_id().name == name || r.name() == name)
        {
            let kind = r.gvk().kind;
            if matches!(
                kind.as_str(),
                "Deployment" | "ReplicationController" | "ReplicaSet" | "StatefulSet"
            ) {
                visit(&mut r.value, "spec/replicas", true, &mut |v| {
                    *v = Value::Int(count)
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retags_images() {
        assert_eq!(
            retag("nginx:1.0", "nginx", None, Some("2.0"), None).as_deref(),
            Some("nginx:2.0")
        );
        assert_eq!(
            retag("nginx", "nginx", Some("r/nginx"), None, None).as_deref(),
            Some("r/nginx")
        );
        assert_eq!(
            retag("nginx:1", "nginx", None, None, Some("sha256:ab")).as_deref(),
            Some("nginx@sha256:ab")
        );
        assert_eq!(
            retag(
                "host:5000/nginx:1",
                "host:5000/nginx",
                None,
                Some("2"),
                None
            )
            .as_deref(),
            Some("host:5000/nginx:2")
        );
        assert_eq!(retag("nginxx:1", "nginx", None, Some("2"), None), None);
    }
}
