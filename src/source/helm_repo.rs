//! Helm chart repositories: charts fetched from an HTTP(S) repository the way
//! Helm and Argo CD fetch them. The repository's `index.yaml` is read on every
//! fetch (it is what tells us which version a range means today); the version
//! is picked as Helm picks it; the archive is checked against the digest the
//! index records and kept under that digest, so a version fetched once is never
//! downloaded again.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The largest `index.yaml` accepted. The biggest public repositories publish
/// indexes of about 15 MiB.
pub const MAX_INDEX_BYTES: u64 = 20 << 20;

/// The largest chart archive accepted.
pub const MAX_ARCHIVE_BYTES: u64 = 50 << 20;

/// How many of the newest versions an error lists when none matches.
const VERSIONS_SHOWN: usize = 5;

/// How many chart names an error lists when the chart is not in the index.
const CHARTS_SHOWN: usize = 10;

/// Credentials for a chart repository, as read from its Secret.
#[derive(Clone, PartialEq, Eq)]
pub enum RepoAuth {
    /// HTTP basic authentication (a token goes in `password`).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: String,
    },
}

impl RepoAuth {
    fn secret(&self) -> &str {
        match self {
            RepoAuth::Basic { password, .. } => password,
        }
    }
}

impl fmt::Debug for RepoAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// A chart archive in the cache, ready for `skiff_helm::load`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedChart {
    /// The chart name.
    pub name: String,
    /// The version the constraint resolved to, as the index spells it.
    pub version: String,
    /// The archive's sha256, lowercase hex.
    pub digest: String,
    /// The `.tgz` in the cache. Shared: never write to it.
    pub archive: PathBuf,
}

/// Why a chart could not be had. URLs are shown without credentials and no
/// message carries a password.
#[derive(Debug)]
#[non_exhaustive]
pub enum HelmRepoError {
    /// The repository URL is not an http(s) URL.
    InvalidUrl {
        /// The URL given (credentials redacted).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be set up (TLS trust store).
    Client {
        /// What failed.
        message: String,
    },
    /// Connecting or reading failed, or took longer than the timeout.
    Unreachable {
        /// The URL requested (credentials redacted).
        url: String,
        /// What failed.
        message: String,
    },
    /// The server answered 401 or 403.
    AuthFailed {
        /// The URL requested (credentials redacted).
        url: String,
        /// The HTTP status.
        status: u16,
        /// Whether credentials were sent.
        credentials_given: bool,
    },
    /// The repository has no `index.yaml` (404).
    IndexNotFound {
        /// The index URL (credentials redacted).
        url: String,
    },
    /// Any other unsuccessful HTTP status.
    Http {
        /// The URL requested (credentials redacted).
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The response is larger than allowed.
    TooLarge {
        /// The URL requested (credentials redacted).
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// `index.yaml` cannot be read as a Helm repository index.
    BadIndex {
        /// The index URL (credentials redacted).
        url: String,
        /// The 1-based line of the problem, when known.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// The index has no chart of that name.
    ChartNotFound {
        /// The repository URL (credentials redacted).
        repo: String,
        /// The chart asked for.
        chart: String,
        /// Some charts the index does have, sorted.
        available: Vec<String>,
    },
    /// The version constraint cannot be read.
    InvalidConstraint {
        /// The chart asked for.
        chart: String,
        /// The constraint.
        constraint: String,
        /// What is wrong with it.
        message: String,
    },
    /// No version of the chart satisfies the constraint.
    NoMatchingVersion {
        /// The repository URL (credentials redacted).
        repo: String,
        /// The chart asked for.
        chart: String,
        /// The constraint (`*` when none was given).
        constraint: String,
        /// The newest versions the index has, newest first.
        newest: Vec<String>,
    },
    /// The index entry of the chosen version lists no download URL.
    NoArchiveUrl {
        /// The chart.
        chart: String,
        /// The version.
        version: String,
    },
    /// The archive downloaded is not the one the index describes.
    DigestMismatch {
        /// The chart.
        chart: String,
        /// The version.
        version: String,
        /// The digest in the index.
        expected: String,
        /// The digest of what was downloaded.
        actual: String,
    },
    /// The cache folder could not be read or written.
    Cache {
        /// The file or folder.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

impl HelmRepoError {
    /// Whether trying again later may help (network trouble, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            HelmRepoError::Unreachable { .. } => true,
            HelmRepoError::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

impl fmt::Display for HelmRepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelmRepoError::InvalidUrl { url, reason } => {
                write!(f, "invalid chart repository URL {url:?}: {reason}")
            }
            HelmRepoError::Client { message } => {
                write!(f, "cannot set up the HTTP client: {message}")
            }
            HelmRepoError::Unreachable { url, message } => {
                write!(f, "cannot reach {url}: {message}")
            }
            HelmRepoError::AuthFailed {
                url,
                status,
                credentials_given,
            } => {
                let why = if *credentials_given {
                    "the server refused the credentials"
                } else {
                    "the server wants credentials and none were given"
                };
                write!(f, "authentication failed for {url} (HTTP {status}): {why}")
            }
            HelmRepoError::IndexNotFound { url } => write!(
                f,
                "no index.yaml at {url} (HTTP 404): is this a Helm chart repository?"
            ),
            HelmRepoError::Http { url, status } => write!(f, "GET {url}: HTTP {status}"),
            HelmRepoError::TooLarge { url, limit } => {
                write!(
                    f,
                    "{url} is larger than the {} allowed: refused",
                    size(*limit)
                )
            }
            HelmRepoError::BadIndex { url, line, message } => match line {
                // The parser's messages usually name the line themselves.
                Some(line) if !message.contains(&format!("line {line}")) => {
                    write!(f, "bad repository index {url} at line {line}: {message}")
                }
                _ => write!(f, "bad repository index {url}: {message}"),
            },
            HelmRepoError::ChartNotFound {
                repo,
                chart,
                available,
            } => {
                write!(f, "chart {chart:?} is not in the index of {repo}")?;
                if available.is_empty() {
                    write!(f, " (the index lists no charts)")
                } else {
                    write!(f, " (it has: {})", available.join(", "))
                }
            }
            HelmRepoError::InvalidConstraint {
                chart,
                constraint,
                message,
            } => write!(
                f,
                "chart {chart:?}: {constraint:?} is neither a version nor a version range: {message}"
            ),
            HelmRepoError::NoMatchingVersion {
                repo,
                chart,
                constraint,
                newest,
            } => {
                write!(
                    f,
                    "no version of chart {chart:?} in {repo} matches {constraint:?}"
                )?;
                if newest.is_empty() {
                    write!(f, " (the index lists no valid versions)")
                } else {
                    write!(f, " (newest: {})", newest.join(", "))
                }
            }
            HelmRepoError::NoArchiveUrl { chart, version } => write!(
                f,
                "the index lists no download URL for chart {chart:?} version {version}"
            ),
            HelmRepoError::DigestMismatch {
                chart,
                version,
                expected,
                actual,
            } => write!(
                f,
                "chart {chart:?} version {version}: the archive's sha256 is {actual} but the \
                 index says {expected}: refused"
            ),
            HelmRepoError::Cache { path, message } => {
                write!(f, "chart cache {}: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for HelmRepoError {}

/// A byte count for messages: whole MiB when it is one, else bytes.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Fetches charts from HTTP chart repositories into a folder of archives kept
/// by digest (`<root>/helm/<sha256>.tgz`).
#[derive(Debug)]
pub struct HelmRepoCache {
    root: PathBuf,
    timeout: Duration,
    max_index_bytes: u64,
    max_archive_bytes: u64,
    // Kept as a result so that `new` cannot fail: a client that could not be
    // built is reported by every fetch instead.
    client: Result<reqwest::Client, String>,
}

impl HelmRepoCache {
    /// A cache under `root` (folders are created on first use). Every request
    /// (connect, headers and body) must complete within `timeout`.
    pub fn new(root: PathBuf, timeout: Duration) -> Self {
        HelmRepoCache {
            root,
            timeout,
            max_index_bytes: MAX_INDEX_BYTES,
            max_archive_bytes: MAX_ARCHIVE_BYTES,
            client: http_client(timeout),
        }
    }

    /// The same cache with other size limits (bytes) for indexes and archives.
    pub fn with_limits(mut self, max_index_bytes: u64, max_archive_bytes: u64) -> Self {
        self.max_index_bytes = max_index_bytes;
        self.max_archive_bytes = max_archive_bytes;
        self
    }

    /// Fetches `chart` from the repository at `repo_url` in the version that
    /// `version` selects: an exact version, or a range (`~1.2.0`,
    /// `>=1.0.0 <2.0.0`, `1.x`) of which the highest match wins. `None`, empty
    /// and `*` mean the newest stable version; pre-releases are only chosen by
    /// a range that names one (`>=2.0.0-0`), as in Helm.
    pub async fn fetch_chart(
        &self,
        repo_url: &str,
        chart: &str,
        version: Option<&str>,
        auth: Option<&RepoAuth>,
    ) -> Result<FetchedChart, HelmRepoError> {
        let repo = repo_base(repo_url)?;
        let index_url = repo
            .join("index.yaml")
            .map_err(|e| HelmRepoError::InvalidUrl {
                url: shown(&repo),
                reason: e.to_string(),
            })?;
        let client = self
            .client
            .as_ref()
            .map_err(|message| HelmRepoError::Client {
                message: message.clone(),
            })?;

        let body = self
            .get(client, &index_url, auth, self.max_index_bytes, true)
            .await?;
        let index = blocking(&self.root, move || Ok(parse_index(&body))).await?;
        let index = index.map_err(|(line, message)| HelmRepoError::BadIndex {
            url: shown(&index_url),
            line,
            message,
        })?;

        let entries = index.entries.get(chart).ok_or_else(|| {
            let available = index.entries.keys().take(CHARTS_SHOWN).cloned().collect();
            HelmRepoError::ChartNotFound {
                repo: shown(&repo),
                chart: chart.to_owned(),
                available,
            }
        })?;
        let entry = select(entries, version).map_err(|e| match e {
            Unselected::Invalid(message) => HelmRepoError::InvalidConstraint {
                chart: chart.to_owned(),
                constraint: version.unwrap_or_default().to_owned(),
                message,
            },
            Unselected::NoMatch(newest) => HelmRepoError::NoMatchingVersion {
                repo: shown(&repo),
                chart: chart.to_owned(),
                constraint: constraint_of(version).to_owned(),
                newest,
            },
        })?;
        let expected = expected_digest(entry).map_err(|message| HelmRepoError::BadIndex {
            url: shown(&index_url),
            line: None,
            message: format!("chart {chart:?} version {}: {message}", entry.version),
        })?;
        let fetched = |digest: String, archive: PathBuf| FetchedChart {
            name: chart.to_owned(),
            version: entry.version.clone(),
            digest,
            archive,
        };

        let dir = self.root.join("helm");
        if let Some(digest) = &expected {
            let path = dir.join(format!("{digest}.tgz"));
            let wanted = digest.clone();
            let probe = path.clone();
            if blocking(&self.root, move || Ok(cached(&probe, &wanted))).await? {
                tracing::debug!(chart, version = %entry.version, %digest, "chart archive from cache");
                return Ok(fetched(digest.clone(), path));
            }
        }

        let archive_url =
            archive_url(&repo, entry).ok_or_else(|| HelmRepoError::NoArchiveUrl {
                chart: chart.to_owned(),
                version: entry.version.clone(),
            })??;
        // As Helm does, credentials for the repository go only to archives it
        // serves itself, never to another host the index points at.
        let archive_auth = auth.filter(|_| same_origin(&repo, &archive_url));
        let data = self
            .get(
                client,
                &archive_url,
                archive_auth,
                self.max_archive_bytes,
                false,
            )
            .await?;
        let actual = sha256_hex(&data);
        match &expected {
            Some(expected) if *expected != actual => {
                return Err(HelmRepoError::DigestMismatch {
                    chart: chart.to_owned(),
                    version: entry.version.clone(),
                    expected: expected.clone(),
                    actual,
                });
            }
            Some(_) => {}
            None => tracing::warn!(
                chart,
                version = %entry.version,
                "the repository index records no digest for this chart version: the archive is unverified"
            ),
        }
        let path = dir.join(format!("{actual}.tgz"));
        let target = path.clone();
        blocking(&self.root, move || store(&dir, &target, &data)).await?;
        tracing::debug!(chart, version = %entry.version, digest = %actual, "chart archive downloaded");
        Ok(fetched(actual, path))
    }

    /// GETs `url` and returns its body, refusing more than `limit` bytes.
    async fn get(
        &self,
        client: &reqwest::Client,
        url: &Url,
        auth: Option<&RepoAuth>,
        limit: u64,
        is_index: bool,
    ) -> Result<Vec<u8>, HelmRepoError> {
        let unreachable = |e: reqwest::Error| HelmRepoError::Unreachable {
            url: shown(url),
            message: scrub(describe(e, self.timeout), auth),
        };
        let mut request = client.get(url.clone());
        if let Some(RepoAuth::Basic { username, password }) = auth {
            request = request.basic_auth(username, Some(password));
        }
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(HelmRepoError::AuthFailed {
                url: shown(url),
                status: status.as_u16(),
                credentials_given: auth.is_some() || !url.username().is_empty(),
            });
        }
        if status == StatusCode::NOT_FOUND && is_index {
            return Err(HelmRepoError::IndexNotFound { url: shown(url) });
        }
        if !status.is_success() {
            return Err(HelmRepoError::Http {
                url: shown(url),
                status: status.as_u16(),
            });
        }
        let too_large = || HelmRepoError::TooLarge {
            url: shown(url),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The HTTP client: rustls with the ring provider and the platform's trust
/// store, taken from kube's TLS setup so the agent links one TLS stack and
/// trusts the same roots for charts as for everything else.
fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    use kube::client::ConfigExt;
    // No cluster is contacted: the config only carries TLS settings.
    let placeholder = "https://localhost"
        .parse()
        .map_err(|e| format!("cannot build the TLS settings: {e}"))?;
    let tls = kube::Config::new(placeholder)
        .rustls_client_config()
        .map_err(|e| format!("cannot load the TLS trust store: {e}"))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("skiff/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| describe(e, timeout))
}

/// The repository URL as a base for relative references: http(s), with a
/// trailing slash so that `index.yaml` and relative archive URLs land inside it.
fn repo_base(repo_url: &str) -> Result<Url, HelmRepoError> {
    let invalid = |reason: String| HelmRepoError::InvalidUrl {
        url: redact(repo_url),
        reason,
    };
    let mut url = Url::parse(repo_url.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not supported: a chart repository is served over http or https",
            url.scheme()
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_fragment(None);
    Ok(url)
}

/// Where the archive of `entry` is: its first URL, relative ones resolved
/// against the repository URL (whose query, if any, is kept, as Helm keeps it).
fn archive_url(repo: &Url, entry: &IndexEntry) -> Option<Result<Url, HelmRepoError>> {
    let first = entry.urls.iter().find(|u| !u.trim().is_empty())?;
    Some(match repo.join(first.trim()) {
        Ok(mut url) => {
            if url.query().is_none() && repo.query().is_some() && Url::parse(first).is_err() {
                url.set_query(repo.query());
            }
            Ok(url)
        }
        Err(e) => Err(HelmRepoError::InvalidUrl {
            url: redact(first),
            reason: format!("archive URL of version {}: {e}", entry.version),
        }),
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A URL for messages: no password, no query (it may hold a token).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if url.query().is_some() {
        url.set_query(Some("***"));
    }
    redact(url.as_str())
}

fn redact(url: &str) -> String {
    super::git::redact(url)
}

/// A reqwest error as a sentence: the error and its causes, without the URL
/// (the caller names it, redacted).
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no complete answer within {timeout:?}");
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Removes the password from a message that might quote it.
fn scrub(message: String, auth: Option<&RepoAuth>) -> String {
    match auth.map(RepoAuth::secret) {
        Some(secret) if !secret.is_empty() => message.replace(secret, "***"),
        _ => message,
    }
}

/// Runs file or CPU work off the async threads.
async fn blocking<T: Send + 'static>(
    root: &Path,
    work: impl FnOnce() -> Result<T, HelmRepoError> + Send + 'static,
) -> Result<T, HelmRepoError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HelmRepoError::Cache {
            path: root.to_owned(),
            message: format!("background task failed: {e}"),
        })?
}

/// What skiff reads of Helm's `index.yaml`; everything else is ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Index {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    entries: Option<BTreeMap<String, Option<Vec<Option<IndexEntry>>>>>,
}

#[derive(Debug, Deserialize)]
struct IndexEntry {
    #[serde(default)]
    version: String,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
}

/// An index with empty entries dropped: chart name -> its versions.
#[derive(Debug)]
struct ParsedIndex {
    entries: BTreeMap<String, Vec<IndexEntry>>,
}

/// Parses `index.yaml`; on failure, the line (when known) and what is wrong.
fn parse_index(body: &[u8]) -> Result<ParsedIndex, (Option<u64>, String)> {
    // Large repositories have hundreds of thousands of nodes; the byte limit
    // on the download already bounds the work, so the node budget need not.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 50_000_000,
            max_nodes: 25_000_000,
        },
    };
    let index: Index = serde_saphyr::from_slice_with_options(body, options).map_err(|e| {
        let message = e.to_string();
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        (e.location().map(|l| l.line()), message.trim().to_owned())
    })?;
    if index.api_version.as_deref().unwrap_or_default().is_empty() {
        return Err((
            None,
            "no apiVersion: this is not a Helm repository index".to_owned(),
        ));
    }
    let entries = index
        .entries
        .unwrap_or_default()
        .into_iter()
        .map(|(name, versions)| {
            let versions = versions.unwrap_or_default().into_iter().flatten();
            (name, versions.collect())
        })
        .collect();
    Ok(ParsedIndex { entries })
}

/// Why no version was selected.
#[derive(Debug, PartialEq, Eq)]
enum Unselected {
    /// The constraint cannot be read.
    Invalid(String),
    /// Nothing matches; the newest versions there are.
    NoMatch(Vec<String>),
}

fn constraint_of(version: Option<&str>) -> &str {
    match version.map(str::trim) {
        None | Some("") => "*",
        Some(v) => v,
    }
}

/// Picks the version Helm would: the entry spelled exactly as asked, else the
/// highest version satisfying the constraint. Versions that are not semver are
/// skipped, as Helm skips them.
fn select<'a>(
    entries: &'a [IndexEntry],
    version: Option<&str>,
) -> Result<&'a IndexEntry, Unselected> {
    let constraint = constraint_of(version);
    if let Some(exact) = entries.iter().find(|e| e.version == constraint) {
        return Ok(exact);
    }
    skiff_helm::version_matches(constraint, "0.0.0").map_err(Unselected::Invalid)?;
    let mut ranked: Vec<(semver::Version, &IndexEntry)> = entries
        .iter()
        .filter_map(|e| Some((order_key(&e.version)?, e)))
        .collect();
    // Highest first; among equal versions the index's order decides.
    ranked.sort_by(|a, b| b.0.cmp(&a.0));
    ranked
        .iter()
        .find(|(_, e)| skiff_helm::version_matches(constraint, &e.version) == Ok(true))
        .map(|(_, e)| *e)
        .ok_or_else(|| {
            Unselected::NoMatch(
                ranked
                    .iter()
                    .take(VERSIONS_SHOWN)
                    .map(|(_, e)| e.version.clone())
                    .collect(),
            )
        })
}

/// A chart version as a sortable semver version, accepting what Helm accepts
/// beyond strict semver: a leading `v` and a missing minor or patch number.
fn order_key(version: &str) -> Option<semver::Version> {
    let v = version.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    let (core, rest) = v.split_at(v.find(['-', '+']).unwrap_or(v.len()));
    let padded = match core.split('.').count() {
        1 => format!("{core}.0.0{rest}"),
        2 => format!("{core}.0{rest}"),
        _ => v.to_owned(),
    };
    semver::Version::parse(&padded).ok()
}

/// The digest the index records for `entry`, normalised to lowercase hex.
fn expected_digest(entry: &IndexEntry) -> Result<Option<String>, String> {
    let Some(raw) = entry.digest.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if raw.is_empty() {
        return Ok(None);
    }
    let hex = raw
        .strip_prefix("sha256:")
        .unwrap_or(raw)
        .to_ascii_lowercase();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("digest {raw:?} is not a sha256 hex digest"));
    }
    Ok(Some(hex))
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the cache holds an intact archive with this digest. A damaged one
/// is removed so that it is downloaded again.
fn cached(path: &Path, digest: &str) -> bool {
    match std::fs::read(path) {
        Ok(data) if sha256_hex(&data) == digest => true,
        Ok(_) => {
            tracing::warn!(path = %path.display(), "cached chart archive is damaged: fetching it again");
            let _ = std::fs::remove_file(path);
            false
        }
        Err(_) => false,
    }
}

/// Writes `data` to `path` atomically: a reader sees the whole archive or none.
fn store(dir: &Path, path: &Path, data: &[u8]) -> Result<(), HelmRepoError> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let cache_err = |path: &Path, e: std::io::Error| HelmRepoError::Cache {
        path: path.to_owned(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| cache_err(dir, e))?;
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::write(&tmp, data).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(cache_err(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(versions: &[&str]) -> Vec<IndexEntry> {
        versions
            .iter()
            .map(|v| IndexEntry {
                version: (*v).to_owned(),
                digest: None,
                urls: vec![format!("demo-{v}.tgz")],
            })
            .collect()
    }

    fn pick(versions: &[&str], constraint: Option<&str>) -> Result<String, Unselected> {
        select(&entries(versions), constraint).map(|e| e.version.clone())
    }

    #[test]
    fn versions_are_selected_like_helm() {
        let all = [
            "1.0.0",
            "1.2.0",
            "1.2.7",
            "1.10.0",
            "2.0.0-rc.1",
            "0.9.0",
            "v1.3.0",
        ];
        assert_eq!(pick(&all, None).unwrap(), "1.10.0");
        assert_eq!(pick(&all, Some("")).unwrap(), "1.10.0");
        assert_eq!(pick(&all, Some("*")).unwrap(), "1.10.0");
        assert_eq!(pick(&all, Some("~1.2.0")).unwrap(), "1.2.7");
        assert_eq!(pick(&all, Some(">=1.0.0 <1.3.0")).unwrap(), "1.2.7");
        assert_eq!(pick(&all, Some("1.0.0")).unwrap(), "1.0.0");
        assert_eq!(pick(&all, Some("1.3.0")).unwrap(), "v1.3.0");
        assert_eq!(pick(&all, Some(">=2.0.0-0")).unwrap(), "2.0.0-rc.1");
        assert_eq!(pick(&all, Some("2.0.0-rc.1")).unwrap(), "2.0.0-rc.1");
        assert_eq!(
            pick(&all, Some("3.x")),
            Err(Unselected::NoMatch(vec![
                "2.0.0-rc.1".into(),
                "1.10.0".into(),
                "v1.3.0".into(),
                "1.2.7".into(),
                "1.2.0".into(),
            ]))
        );
        assert!(matches!(
            pick(&all, Some("latest")),
            Err(Unselected::Invalid(_))
        ));
    }

    #[test]
    fn invalid_versions_in_the_index_are_skipped() {
        assert_eq!(pick(&["garbage", "1.0.0"], None).unwrap(), "1.0.0");
        assert_eq!(pick(&["1.2", "1.1.9"], Some("^1.0")).unwrap(), "1.2");
    }

    #[test]
    fn archive_urls_resolve_against_the_repository() {
        let repo = repo_base("https://charts.example/stable?sig=abc").unwrap();
        assert_eq!(repo.as_str(), "https://charts.example/stable/?sig=abc");
        let mut entry = IndexEntry {
            version: "1.0.0".into(),
            digest: None,
            urls: vec!["demo-1.0.0.tgz".into()],
        };
        assert_eq!(
            archive_url(&repo, &entry).unwrap().unwrap().as_str(),
            "https://charts.example/stable/demo-1.0.0.tgz?sig=abc"
        );
        entry.urls = vec!["https://cdn.example/demo-1.0.0.tgz".into()];
        let absolute = archive_url(&repo, &entry).unwrap().unwrap();
        assert_eq!(absolute.as_str(), "https://cdn.example/demo-1.0.0.tgz");
        assert!(!same_origin(&repo, &absolute));
        entry.urls.clear();
        assert!(archive_url(&repo, &entry).is_none());
        assert!(matches!(
            repo_base("oci://registry.example/charts"),
            Err(HelmRepoError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn index_errors_name_the_line() {
        let (line, message) = parse_index(b"apiVersion: v1\nentries:\n  demo:\n  - version: [\n")
            .expect_err("broken YAML");
        assert!(line.is_some(), "{message}");
        let (_, message) = parse_index(b"title: a web page\n").expect_err("not an index");
        assert!(message.contains("no apiVersion"), "{message}");
        parse_index(b"<html>hello</html>\n").expect_err("not an index");
        let index = parse_index(
            b"apiVersion: v1\nentries:\n  demo:\n  - version: 1.0\n    urls: [a.tgz]\n  empty:\n",
        )
        .expect("index");
        assert_eq!(index.entries["demo"][0].version, "1.0");
        assert!(index.entries["empty"].is_empty());
    }

    #[test]
    fn digests_are_normalised_and_checked() {
        let mut entry = entries(&["1.0.0"]).remove(0);
        assert_eq!(expected_digest(&entry), Ok(None));
        let hex = "AB".repeat(32);
        entry.digest = Some(format!("sha256:{hex}"));
        assert_eq!(expected_digest(&entry), Ok(Some("ab".repeat(32))));
        entry.digest = Some("abc".into());
        assert!(expected_digest(&entry).is_err());
    }

    #[test]
    fn passwords_stay_out_of_debug_and_messages() {
        let auth = RepoAuth::Basic {
            username: "bob".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert_eq!(scrub("refused hunter2".into(), Some(&auth)), "refused ***");
        let url = Url::parse("https://bob:hunter2@charts.example/x/index.yaml?token=t0k").unwrap();
        let text = shown(&url);
        assert!(!text.contains("hunter2") && !text.contains("t0k"), "{text}");
    }
}
