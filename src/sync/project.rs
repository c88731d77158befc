//! AppProject rules, checked before anything is applied: which repositories an
//! Application may render from, which namespaces it may deploy to, and which
//! kinds it may create. Pure: the caller fetches the project.
//!
//! The semantics are Argo CD's: `sourceRepos` and destination namespaces are
//! globs (a leading `!` denies); an empty cluster-resource whitelist allows no
//! cluster-scoped kind, an empty namespace-resource whitelist allows every
//! namespaced kind; blacklists win over whitelists.

use globset::{GlobBuilder, GlobMatcher};

use crate::api::{AppProjectSpec, GroupKind};
use crate::apply::ObjectKey;

/// The server names that mean "this cluster": skiff deploys only where it runs.
const IN_CLUSTER_SERVERS: [&str; 2] = ["https://kubernetes.default.svc", "*"];

/// Why a project refuses an Application; each entry names the offending field or object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violations(pub Vec<String>);

impl std::fmt::Display for Violations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

/// The rules of one project. `None` is the implicit, permissive `default` project.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The project's name, for messages.
    pub name: &'a str,
    /// Its spec, or `None` for the implicit default project.
    pub spec: Option<&'a AppProjectSpec>,
}

impl Rules<'_> {
    /// Checks the source repository, the destination and every object to be
    /// applied; all violations are reported together.
    pub fn check(
        &self,
        repo_url: &str,
        destination_namespace: &str,
        objects: &[ObjectKey],
    ) -> Result<(), Violations> {
        let Some(spec) = self.spec else {
            return Ok(());
        };
        let project = self.name;
        let mut out = Vec::new();
        if !allowed_by_globs(&spec.source_repos, repo_url) {
            out.push(format!(
                "spec.source.repoURL {repo_url:?} is not permitted in project {project:?} (sourceRepos)"
            ));
        }
        if !self.namespace_allowed(destination_namespace) {
            out.push(format!(
                "spec.destination.namespace {destination_namespace:?} is not permitted in project {project:?} (destinations)"
            ));
        }
        for key in objects {
            match &key.namespace {
                Some(ns) => {
                    if ns != destination_namespace && !self.namespace_allowed(ns) {
                        out.push(format!(
                            "{key}: namespace {ns:?} is not permitted in project {project:?} (destinations)"
                        ));
                    }
                    let white = &spec.namespace_resource_whitelist;
                    if (!white.is_empty() && !matches_any(white, key))
                        || matches_any(&spec.namespace_resource_blacklist, key)
                    {
                        out.push(format!(
                            "{key}: namespaced kind {} is not permitted in project {project:?}",
                            group_kind(key)
                        ));
                    }
                }
                None => {
                    if !matches_any(&spec.cluster_resource_whitelist, key)
                        || matches_any(&spec.cluster_resource_blacklist, key)
                    {
                        out.push(format!(
                            "{key}: cluster-scoped kind {} is not permitted in project {project:?}",
                            group_kind(key)
                        ));
                    }
                }
            }
        }
        if out.is_empty() {
            Ok(())
        } else {
            Err(Violations(out))
        }
    }

    fn namespace_allowed(&self, namespace: &str) -> bool {
        let Some(spec) = self.spec else { return true };
        let in_cluster = |d: &crate::api::ProjectDestination| {
            d.server
                .as_deref()
                .is_none_or(|s| s.is_empty() || IN_CLUSTER_SERVERS.contains(&s))
                && d.name
                    .as_deref()
                    .is_none_or(|n| n.is_empty() || n == "in-cluster" || n == "*")
        };
        let patterns: Vec<String> = spec
            .destinations
            .iter()
            .filter(|d| in_cluster(d))
            .map(|d| d.namespace.clone().unwrap_or_else(|| "*".to_owned()))
            .collect();
        allowed_by_globs(&patterns, namespace)
    }
}

fn group_kind(key: &ObjectKey) -> String {
    if key.group.is_empty() {
        key.kind.clone()
    } else {
        format!("{}.{}", key.kind, key.group)
    }
}

fn matches_any(list: &[GroupKind], key: &ObjectKey) -> bool {
    list.iter().any(|gk| {
        glob(&gk.group).is_some_and(|g| g.is_match(&key.group))
            && glob(&gk.kind).is_some_and(|g| g.is_match(&key.kind))
    })
}

/// Allowed when some plain pattern matches and no `!pattern` does.
fn allowed_by_globs(patterns: &[String], value: &str) -> bool {
    let mut allowed = false;
    for p in patterns {
        match p.strip_prefix('!') {
            Some(deny) => {
                if glob(deny).is_some_and(|g| g.is_match(value)) {
                    return false;
                }
            }
            None => allowed |= glob(p).is_some_and(|g| g.is_match(value)),
        }
    }
    allowed
}

/// A glob where `*` also crosses `/` (Argo CD matches repository URLs that way).
fn glob(pattern: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProjectDestination;

    fn key(group: &str, kind: &str, namespace: Option<&str>) -> ObjectKey {
        ObjectKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: "x".into(),
        }
    }

    fn project() -> AppProjectSpec {
        AppProjectSpec {
            source_repos: vec![
                "https://git.example.com/team/*".into(),
                "!*/secret.git".into(),
            ],
            destinations: vec![ProjectDestination {
                namespace: Some("team-*".into()),
                server: Some("https://kubernetes.default.svc".into()),
                name: None,
            }],
            cluster_resource_whitelist: vec![GroupKind {
                group: "".into(),
                kind: "Namespace".into(),
            }],
            namespace_resource_blacklist: vec![GroupKind {
                group: "".into(),
                kind: "ResourceQuota".into(),
            }],
            ..AppProjectSpec::default()
        }
    }

    fn rules(spec: &AppProjectSpec) -> Rules<'_> {
        Rules {
            name: "team",
            spec: Some(spec),
        }
    }

    #[test]
    fn implicit_default_project_allows_everything() {
        let r = Rules {
            name: "default",
            spec: None,
        };
        let objects = [key("rbac.authorization.k8s.io", "ClusterRole", None)];
        assert_eq!(r.check("file:///any", "kube-system", &objects), Ok(()));
    }

    #[test]
    fn allowed_source_destination_and_kinds_pass() {
        let spec = project();
        let objects = [
            key("apps", "Deployment", Some("team-a")),
            key("", "Namespace", None),
        ];
        assert_eq!(
            rules(&spec).check("https://git.example.com/team/app.git", "team-a", &objects),
            Ok(())
        );
    }

    #[test]
    fn every_violation_is_named() {
        let spec = project();
        let objects = [
            key("apps", "Deployment", Some("prod")),
            key("", "ResourceQuota", Some("team-a")),
            key("rbac.authorization.k8s.io", "ClusterRole", None),
        ];
        let err = rules(&spec)
            .check(
                "https://git.example.com/team/secret.git",
                "team-a",
                &objects,
            )
            .expect_err("violations");
        let text = err.to_string();
        assert_eq!(err.0.len(), 4, "{text}");
        assert!(text.contains("spec.source.repoURL"), "{text}");
        assert!(
            text.contains("Deployment prod/x: namespace \"prod\""),
            "{text}"
        );
        assert!(text.contains("namespaced kind ResourceQuota"), "{text}");
        assert!(
            text.contains("cluster-scoped kind ClusterRole.rbac.authorization.k8s.io"),
            "{text}"
        );
    }

    #[test]
    fn empty_lists_deny_sources_destinations_and_cluster_kinds() {
        let spec = AppProjectSpec::default();
        let err = rules(&spec)
            .check("https://x/y.git", "a", &[key("", "Namespace", None)])
            .expect_err("deny");
        assert_eq!(err.0.len(), 3, "{err}");
    }

    #[test]
    fn destinations_for_other_clusters_do_not_count() {
        let spec = AppProjectSpec {
            source_repos: vec!["*".into()],
            destinations: vec![ProjectDestination {
                namespace: Some("*".into()),
                server: Some("https://elsewhere:6443".into()),
                name: None,
            }],
            ..AppProjectSpec::default()
        };
        assert!(rules(&spec).check("https://x/y.git", "a", &[]).is_err());
    }
}
