//! The agent's configuration: a YAML file (`config/skiff.yaml`) whose every
//! field an environment variable can override (`SKIFF_FLEET_REPO_URL`,
//! `SKIFF_INTERVAL`, ...). Unknown keys and invalid values are refused at
//! start with a message naming the key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::api::parse_duration;

/// The agent's settings, validated.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The fleet repository the root Application renders.
    pub fleet: FleetConfig,
    /// The namespace of the agent, its Applications, AppProjects and Secrets.
    pub namespace: String,
    /// The default `spec.interval`.
    pub interval: Duration,
    /// Applications reconciled at once.
    pub concurrency: u16,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_address: SocketAddr,
    /// `json` or `text` logs.
    pub log_format: LogFormat,
    /// Where Git checkouts and chart archives are cached.
    pub cache_dir: PathBuf,
    /// How long the leader's lease lasts without renewal: a standby agent
    /// takes over at most this long after the leader dies.
    pub lease_duration: Duration,
}

/// The fleet repository.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// The repository URL.
    pub repo_url: String,
    /// Branch, tag, commit or semver range.
    pub target_revision: String,
    /// The folder of Applications and AppProjects.
    pub path: String,
    /// A Secret in `namespace` with the repository's credentials.
    pub secret_ref: Option<String>,
    /// The root Application's name.
    pub name: String,
}

/// The log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    fleet: Option<RawFleet>,
    namespace: Option<String>,
    interval: Option<String>,
    concurrency: Option<serde_json::Value>,
    metrics_address: Option<String>,
    log_format: Option<String>,
    cache_dir: Option<PathBuf>,
    lease_duration: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFleet {
    #[serde(rename = "repoURL")]
    repo_url: Option<String>,
    target_revision: Option<String>,
    path: Option<String>,
    secret_ref: Option<String>,
    name: Option<String>,
}

/// Environment variables and the config keys they override.
pub const ENV_OVERRIDES: [(&str, &str); 11] = [
    ("SKIFF_FLEET_REPO_URL", "fleet.repoURL"),
    ("SKIFF_FLEET_TARGET_REVISION", "fleet.targetRevision"),
    ("SKIFF_FLEET_PATH", "fleet.path"),
    ("SKIFF_FLEET_SECRET_REF", "fleet.secretRef"),
    ("SKIFF_FLEET_NAME", "fleet.name"),
    ("SKIFF_NAMESPACE", "namespace"),
    ("SKIFF_INTERVAL", "interval"),
    ("SKIFF_CONCURRENCY", "concurrency"),
    ("SKIFF_METRICS_ADDRESS", "metricsAddress"),
    ("SKIFF_LOG_FORMAT", "logFormat"),
    ("SKIFF_LEASE_DURATION", "leaseDuration"),
];

impl AgentConfig {
    /// Parses `text` (the file `file`, for messages), then applies the
    /// overrides `env` gives (`std::env::var` in the agent).
    pub fn parse(
        file: &str,
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AgentConfig, String> {
        let mut doc: serde_json::Value = if text.trim().is_empty() {
            serde_json::json!({})
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let (line, message) = crate::render::yaml_error(&e);
                match line {
                    Some(line) => format!("{file}:{line}: {message}"),
                    None => format!("{file}: {message}"),
                }
            })?
        };
        if !doc.is_object() {
            return Err(format!("{file}: the configuration must be a mapping"));
        }
        for (var, key) in ENV_OVERRIDES {
            if let Some(value) = env(var) {
                let mut target = &mut doc;
                let parts: Vec<&str> = key.split('.').collect();
                for part in &parts[..parts.len() - 1] {
                    if !target[*part].is_object() {
                        target[*part] = serde_json::json!({});
                    }
                    target = &mut target[*part];
                }
                target[parts[parts.len() - 1]] = serde_json::Value::String(value);
            }
        }
        let raw: RawConfig = serde_json::from_value(doc).map_err(|e| format!("{file}: {e}"))?;
        let fleet = raw.fleet.unwrap_or_default();
        let repo_url = fleet
            .repo_url
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| format!("{file}: fleet.repoURL is required"))?;
        let interval_text = raw.interval.unwrap_or_else(|| "3m".to_owned());
        let interval =
            parse_duration(&interval_text).map_err(|e| format!("{file}: interval: {e}"))?;
        if interval < Duration::from_secs(1) {
            return Err(format!(
                "{file}: interval: {interval_text:?} is shorter than 1s"
            ));
        }
        let concurrency = match raw.concurrency {
            None => 8,
            Some(v) => {
                let n = match &v {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                match n {
                    Some(n @ 1..=1000) => n as u16,
                    _ => {
                        return Err(format!(
                            "{file}: concurrency: {v} is not a whole number from 1 to 1000"
                        ));
                    }
                }
            }
        };
        let metrics_text = raw
            .metrics_address
            .unwrap_or_else(|| "0.0.0.0:8080".to_owned());
        let metrics_address = metrics_text.parse().map_err(|_| {
            format!("{file}: metricsAddress: {metrics_text:?} is not host:port (e.g. 0.0.0.0:8080)")
        })?;
        let log_format = match raw.log_format.as_deref().unwrap_or("json") {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => {
                return Err(format!(
                    "{file}: logFormat: {other:?} is neither json nor text"
                ));
            }
        };
        let lease_text = raw.lease_duration.unwrap_or_else(|| "15s".to_owned());
        let lease_duration =
            parse_duration(&lease_text).map_err(|e| format!("{file}: leaseDuration: {e}"))?;
        if lease_duration < Duration::from_secs(3) {
            return Err(format!(
                "{file}: leaseDuration: {lease_text:?} is shorter than 3s"
            ));
        }
        let namespace = raw.namespace.unwrap_or_else(|| "skiff-system".to_owned());
        if !is_dns_label(&namespace) {
            return Err(format!(
                "{file}: namespace: {namespace:?} is not a valid namespace name"
            ));
        }
        let name = fleet.name.unwrap_or_else(|| "fleet".to_owned());
        if !is_dns_label(&name) {
            return Err(format!(
                "{file}: fleet.name: {name:?} is not a valid object name"
            ));
        }
        Ok(AgentConfig {
            fleet: FleetConfig {
                repo_url,
                target_revision: fleet.target_revision.unwrap_or_default(),
                path: fleet.path.unwrap_or_else(|| ".".to_owned()),
                secret_ref: fleet.secret_ref.filter(|s| !s.is_empty()),
                name,
            },
            namespace,
            interval,
            concurrency,
            metrics_address,
            log_format,
            cache_dir: raw
                .cache_dir
                .unwrap_or_else(crate::source::default_cache_dir),
            lease_duration,
        })
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<AgentConfig, String> {
        AgentConfig::parse("skiff.yaml", text, |k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_committed_example_parses() {
        let text = include_str!("../../config/skiff.yaml");
        let config = parse(text, &[]).expect("example config");
        assert_eq!(config.namespace, "skiff-system");
        assert_eq!(config.interval, Duration::from_secs(180));
        assert_eq!(config.concurrency, 8);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.fleet.path, "clusters/production");
    }

    #[test]
    fn environment_variables_override_the_file() {
        let config = parse(
            "fleet: {repoURL: file:///a, path: x}\ninterval: 3m\n",
            &[
                ("SKIFF_FLEET_REPO_URL", "file:///b"),
                ("SKIFF_INTERVAL", "30s"),
                ("SKIFF_CONCURRENCY", "2"),
                ("SKIFF_LOG_FORMAT", "text"),
            ],
        )
        .expect("config");
        assert_eq!(config.fleet.repo_url, "file:///b");
        assert_eq!(config.fleet.path, "x");
        assert_eq!(config.interval, Duration::from_secs(30));
        assert_eq!(config.concurrency, 2);
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let cases = [
            (
                "fleet: {repoURL: x}\nintervall: 3m\n",
                "unknown field `intervall`",
            ),
            (
                "fleet: {repoURL: x, branch: main}\n",
                "unknown field `branch`",
            ),
            ("fleet: {repoURL: x}\ninterval: soon\n", "interval:"),
            ("fleet: {repoURL: x}\nconcurrency: 0\n", "concurrency:"),
            (
                "fleet: {repoURL: x}\nmetricsAddress: nowhere\n",
                "metricsAddress:",
            ),
            ("fleet: {repoURL: x}\nlogFormat: xml\n", "logFormat:"),
            ("fleet: {repoURL: x}\nleaseDuration: 1s\n", "leaseDuration:"),
            ("fleet: {repoURL: x}\nnamespace: Not_Valid\n", "namespace:"),
            ("namespace: a\n", "fleet.repoURL is required"),
            ("fleet: [\n", "skiff.yaml:"),
        ];
        for (text, expected) in cases {
            let err = parse(text, &[]).expect_err(text);
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(err.starts_with("skiff.yaml"), "{err}");
        }
    }
}
