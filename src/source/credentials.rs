//! Repository credentials from Secrets in the agent's namespace, found the way
//! Argo CD finds them: a Secret labelled `skiff.dev/secret-type: repository`
//! (or Argo CD's `argocd.argoproj.io/secret-type`) whose `url` equals the
//! repository URL, else a `repo-creds` Secret whose `url` is the longest prefix
//! of it. Keys: `username` + `password` (HTTPS; a token goes in `password`),
//! or `sshPrivateKey` (+ `sshKnownHosts`, `sshPassphrase`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::{Api, Client};

use super::git::GitCredentials;

/// The label naming what a credentials Secret is for.
pub const SECRET_TYPE_LABEL: &str = "skiff.dev/secret-type";
const ARGO_SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// The credentials for `url` from the Secrets of `namespace`, if any match.
/// Errors never contain secret values.
pub async fn for_repository(
    client: &Client,
    namespace: &str,
    url: &str,
) -> Result<Option<GitCredentials>, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let mut candidates: Vec<(bool, usize, Secret)> = Vec::new();
    for label in [SECRET_TYPE_LABEL, ARGO_SECRET_TYPE_LABEL] {
        let list = api
            .list(&ListParams::default().labels(&format!("{label} in (repository,repo-creds)")))
            .await
            .map_err(|e| format!("listing credentials Secrets in {namespace}: {e}"))?;
        for secret in list.items {
            let kind = secret
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(label))
                .cloned()
                .unwrap_or_default();
            let Some(prefix) = string(&secret, "url") else {
                continue;
            };
            let exact = kind == "repository" && same_url(&prefix, url);
            let by_prefix = kind == "repo-creds" && url.starts_with(prefix.trim_end_matches('/'));
            if exact || by_prefix {
                candidates.push((exact, prefix.len(), secret));
            }
        }
    }
    // An exact repository Secret beats templates; among templates the longest prefix.
    candidates.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
    match candidates.into_iter().next() {
        Some((_, _, secret)) => from_secret(&secret).map(Some),
        None => Ok(None),
    }
}

/// The credentials a named Secret holds (for the fleet's `secretRef`).
pub async fn from_named_secret(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<GitCredentials, String> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get(name)
        .await
        .map_err(|e| format!("credentials Secret {namespace}/{name}: {e}"))?;
    from_secret(&secret)
}

fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim_end_matches('/')
            .trim_end_matches(".git")
            .to_ascii_lowercase()
    };
    norm(a) == norm(b)
}

fn from_secret(secret: &Secret) -> Result<GitCredentials, String> {
    let name = format!(
        "{}/{}",
        secret.metadata.namespace.as_deref().unwrap_or_default(),
        secret.metadata.name.as_deref().unwrap_or_default()
    );
    if let Some(private_key) = string(secret, "sshPrivateKey") {
        let known_hosts = string(secret, "sshKnownHosts").ok_or_else(|| {
            format!(
                "credentials Secret {name}: sshPrivateKey needs sshKnownHosts (unknown host keys are refused)"
            )
        })?;
        return Ok(GitCredentials::Ssh {
            private_key,
            passphrase: string(secret, "sshPassphrase"),
            known_hosts,
        });
    }
    match (string(secret, "username"), string(secret, "password")) {
        (username, Some(password)) => Ok(GitCredentials::Basic {
            username: username.unwrap_or_else(|| "git".to_owned()),
            password,
        }),
        _ => Err(format!(
            "credentials Secret {name}: needs password (with username) or sshPrivateKey"
        )),
    }
}

/// A value from `data` (decoded) or `stringData`.
fn string(secret: &Secret, key: &str) -> Option<String> {
    let from_data = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|v| String::from_utf8(v.0.clone()).ok());
    from_data.or_else(|| {
        secret
            .string_data
            .as_ref()
            .and_then(|d: &BTreeMap<String, String>| d.get(key).cloned())
    })
}
