//! Git sources on libgit2: a bare mirror per repository URL in a cache folder,
//! revisions resolved the way Argo CD users write them (branch, tag, full or
//! short commit, `HEAD`, or a semver range over tags such as `1.0.x`), and one
//! read-only checkout per commit that every Application at that commit shares.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use git2::{
    CertificateCheckStatus, Cred, CredentialType, FetchOptions, Oid, RemoteCallbacks, Repository,
    build::CheckoutBuilder,
};
use sha2::{Digest, Sha256};

/// A revision checked out on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    /// The full commit SHA the revision resolved to.
    pub commit: String,
    /// The folder holding that commit's files. Shared: never write into it.
    pub dir: PathBuf,
    /// The commit's committer time, in seconds since the Unix epoch (the
    /// start of a deployment's lead time).
    pub committed_at: Option<i64>,
}

/// Credentials for a repository, as read from its Secret.
#[derive(Clone)]
pub enum GitCredentials {
    /// HTTP(S) basic authentication; for a token, any username and the token
    /// as password, as Git hosts expect.
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: String,
    },
    /// An SSH private key (OpenSSH or PEM), and the known_hosts lines the
    /// server's host key must match: an unknown host key is refused.
    Ssh {
        /// The private key.
        private_key: String,
        /// Its passphrase, if encrypted.
        passphrase: Option<String>,
        /// known_hosts content (`host keytype base64`, `[host]:port` for other ports).
        known_hosts: String,
    },
}

impl fmt::Debug for GitCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitCredentials::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            GitCredentials::Ssh { known_hosts, .. } => f
                .debug_struct("Ssh")
                .field("private_key", &"<redacted>")
                .field("known_hosts", known_hosts)
                .finish(),
        }
    }
}

/// Why a repository or revision could not be had. Never holds a secret: URL
/// passwords are redacted.
#[derive(Debug)]
pub struct GitError {
    /// The repository URL.
    pub url: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for GitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.message)
    }
}

impl std::error::Error for GitError {}

/// The cache of mirrors and checkouts. Fetches of one URL are serialised,
/// and a fetch that finished after a request began serves that request too,
/// so Applications sharing a repository cause one fetch, not one each.
#[derive(Debug)]
pub struct GitCache {
    root: PathBuf,
    timeout: Duration,
    locks: Mutex<HashMap<String, Arc<Mutex<Option<LastFetch>>>>>,
    fetches: std::sync::atomic::AtomicU64,
}

/// What the last fetch of a URL saw, and when it finished.
#[derive(Debug, Clone)]
struct LastFetch {
    at: Instant,
    advertised: HashMap<String, Oid>,
}

impl GitCache {
    /// A cache rooted at `root` (created if missing). A fetch that transfers
    /// nothing for `timeout` is abandoned.
    pub fn new(root: impl Into<PathBuf>, timeout: Duration) -> Result<GitCache, std::io::Error> {
        let root = root.into();
        std::fs::create_dir_all(root.join("repos"))?;
        std::fs::create_dir_all(root.join("checkouts"))?;
        Ok(GitCache {
            root,
            timeout,
            locks: Mutex::new(HashMap::new()),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Fetches `url` and checks out `revision` (empty means the remote's HEAD).
    pub fn checkout(
        &self,
        url: &str,
        revision: &str,
        credentials: Option<&GitCredentials>,
    ) -> Result<Checkout, GitError> {
        self.checkout_fresh_since(url, revision, credentials, Instant::now())
    }

    /// Like `checkout`, but a fetch of `url` that finished at or after `since`
    /// is reused instead of fetching again: concurrent requests share one
    /// fetch, and a poll may accept a fetch up to one interval old.
    pub fn checkout_fresh_since(
        &self,
        url: &str,
        revision: &str,
        credentials: Option<&GitCredentials>,
        since: Instant,
    ) -> Result<Checkout, GitError> {
        let shown = redact(url);
        let err = |message: String| GitError {
            message: message.replace(url, &shown),
            url: shown.clone(),
        };
        validate_url(url).map_err(err)?;
        let lock = self.lock_for(url);
        let mut last = lock.lock().unwrap_or_else(|p| p.into_inner());

        let mirror = self.root.join("repos").join(digest(url));
        let repo = match Repository::open_bare(&mirror) {
            Ok(repo) => repo,
            Err(_) => Repository::init_bare(&mirror)
                .map_err(|e| err(format!("cannot create the mirror: {}", e.message())))?,
        };
        let advertised = match last.as_ref() {
            Some(fetched) if fetched.at >= since => fetched.advertised.clone(),
            _ => {
                let advertised = self.fetch(&repo, url, credentials).map_err(err)?;
                self.fetches
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                *last = Some(LastFetch {
                    at: Instant::now(),
                    advertised: advertised.clone(),
                });
                advertised
            }
        };
        let oid = resolve(&repo, &advertised, revision).map_err(err)?;
        let dir = self.materialize(&repo, oid).map_err(err)?;
        let committed_at = repo.find_commit(oid).ok().map(|c| c.time().seconds());
        Ok(Checkout {
            commit: oid.to_string(),
            dir,
            committed_at,
        })
    }

    /// How many fetches this cache has made (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock_for(&self, url: &str) -> Arc<Mutex<Option<LastFetch>>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(url.to_owned()).or_default().clone()
    }

    /// Updates the mirror's branches and tags; returns what the remote advertised
    /// (name -> commit), which also tells where its HEAD points.
    fn fetch(
        &self,
        repo: &Repository,
        url: &str,
        credentials: Option<&GitCredentials>,
    ) -> Result<HashMap<String, Oid>, String> {
        let mut remote = repo
            .remote_anonymous(url)
            .map_err(|e| format!("invalid repository URL: {}", e.message()))?;
        let mut options = FetchOptions::new();
        let rejected = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let unknown_host = Arc::new(std::sync::atomic::AtomicBool::new(false));
        options.remote_callbacks(self.callbacks(
            url,
            credentials.cloned(),
            rejected.clone(),
            unknown_host.clone(),
        ));
        options.prune(git2::FetchPrune::On);
        options.download_tags(git2::AutotagOption::All);
        remote
            .fetch(
                &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
                Some(&mut options),
                None,
            )
            .map_err(|e| {
                if unknown_host.load(std::sync::atomic::Ordering::Relaxed) {
                    "the server's SSH host key is not in known_hosts: refused".to_owned()
                } else if rejected.load(std::sync::atomic::Ordering::Relaxed)
                    || e.class() == git2::ErrorClass::Http && e.code() == git2::ErrorCode::Auth
                {
                    "authentication failed: the server refused the credentials (or none were given)"
                        .to_owned()
                } else {
                    format!("fetch failed: {}", e.message())
                }
            })?;
        let advertised = remote
            .list()
            .map_err(|e| format!("fetch failed: {}", e.message()))?
            .iter()
            .map(|head| (head.name().to_owned(), head.oid()))
            .collect();
        Ok(advertised)
    }

    /// Callbacks that answer one authentication challenge with `credentials`
    /// (a second challenge means they were refused: libgit2 would otherwise ask
    /// again forever) and abandon a transfer once it has been silent for `timeout`.
    fn callbacks(
        &self,
        url: &str,
        credentials: Option<GitCredentials>,
        rejected: Arc<std::sync::atomic::AtomicBool>,
        unknown_host: Arc<std::sync::atomic::AtomicBool>,
    ) -> RemoteCallbacks<'static> {
        let timeout = self.timeout;
        let last = Arc::new(Mutex::new((Instant::now(), 0usize)));
        let mut callbacks = RemoteCallbacks::new();
        let port = ssh_port(url);
        let known_hosts = match &credentials {
            Some(GitCredentials::Ssh { known_hosts, .. }) => known_hosts.clone(),
            _ => String::new(),
        };
        callbacks.certificate_check(move |cert, host| {
            let Some(hostkey) = cert.as_hostkey() else {
                // TLS: libgit2 has already verified the chain; keep its verdict.
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            match hostkey.hostkey() {
                Some(key) if known_host(&known_hosts, host, port, key) => {
                    Ok(CertificateCheckStatus::CertificateOk)
                }
                _ => {
                    unknown_host.store(true, std::sync::atomic::Ordering::Relaxed);
                    Err(git2::Error::from_str("unknown SSH host key"))
                }
            }
        });
        let mut asked = false;
        callbacks.credentials(move |_url, user_from_url, allowed| {
            if asked {
                rejected.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(git2::Error::from_str("credentials refused"));
            }
            asked = true;
            match &credentials {
                Some(GitCredentials::Basic { username, password })
                    if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) =>
                {
                    Cred::userpass_plaintext(username, password)
                }
                Some(GitCredentials::Ssh {
                    private_key,
                    passphrase,
                    ..
                }) if allowed.contains(CredentialType::SSH_KEY) => Cred::ssh_key_from_memory(
                    user_from_url.unwrap_or("git"),
                    None,
                    private_key,
                    passphrase.as_deref(),
                ),
                _ => {
                    rejected.store(true, std::sync::atomic::Ordering::Relaxed);
                    Err(git2::Error::from_str("no usable credentials"))
                }
            }
        });
        callbacks.transfer_progress(move |progress| {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            let received = progress.received_bytes();
            if received != last.1 {
                *last = (Instant::now(), received);
            }
            last.0.elapsed() < timeout
        });
        callbacks
    }

    /// The checkout folder of `oid`, written once (to a temporary folder that is
    /// then renamed, so a reader never sees half a tree).
    fn materialize(&self, repo: &Repository, oid: Oid) -> Result<PathBuf, String> {
        let dir = self.root.join("checkouts").join(oid.to_string());
        if dir.is_dir() {
            return Ok(dir);
        }
        let tmp = self
            .root
            .join("checkouts")
            .join(format!(".tmp-{oid}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let tree = repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|e| format!("cannot read commit {oid}: {}", e.message()))?;
        let mut checkout = CheckoutBuilder::new();
        checkout.target_dir(&tmp).force().recreate_missing(true);
        repo.checkout_tree(tree.as_object(), Some(&mut checkout))
            .map_err(|e| format!("cannot check out {oid}: {}", e.message()))?;
        std::fs::rename(&tmp, &dir).map_err(|e| format!("cannot move checkout into place: {e}"))?;
        Ok(dir)
    }
}

/// Refuses what libgit2 would misread: empty URLs and local paths without `file://`.
fn validate_url(url: &str) -> Result<(), String> {
    let scp_like = url.contains('@') && url.contains(':') && !url.contains("://");
    let known = ["https://", "http://", "ssh://", "git://", "file://"];
    if url.is_empty() || !(scp_like || known.iter().any(|s| url.starts_with(s))) {
        return Err(
            "unsupported repository URL: use https://, ssh://, git@host:path, git:// or file://"
                .into(),
        );
    }
    Ok(())
}

/// The SSH port of `ssh://host:PORT/...` URLs; 22 otherwise.
fn ssh_port(url: &str) -> u16 {
    url.strip_prefix("ssh://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|authority| authority.rsplit('@').next())
        .and_then(|hostport| hostport.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(22)
}

/// Whether known_hosts lists `key` (the raw SSH key blob) for `host` on `port`:
/// plain host names (`[host]:port` for ports other than 22), comma-separated.
/// Hashed entries (`|1|...`) and `@cert-authority` lines are not matched.
fn known_host(known_hosts: &str, host: &str, port: u16, key: &[u8]) -> bool {
    let wanted = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    let key = base64::engine::general_purpose::STANDARD.encode(key);
    known_hosts.lines().any(|line| {
        let mut fields = line.split_whitespace();
        let (Some(hosts), Some(_kind), Some(blob)) = (fields.next(), fields.next(), fields.next())
        else {
            return false;
        };
        !hosts.starts_with('#')
            && !hosts.starts_with('@')
            && hosts.split(',').any(|h| h == wanted)
            && blob == key
    })
}

/// The URL with any password in it replaced, for messages and status.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            // A lone userinfo is often a token (https://TOKEN@host), so it goes too.
            let shown = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            let sep = if rest.contains('/') { "/" } else { "" };
            format!("{scheme}://{shown}@{host}{sep}{path}")
        }
        None => url.to_owned(),
    }
}

fn digest(url: &str) -> String {
    let hash = Sha256::digest(url.as_bytes());
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Resolves a revision as Argo CD does: HEAD, branch, tag, semver range over
/// tags, then a full or abbreviated commit.
fn resolve(
    repo: &Repository,
    advertised: &HashMap<String, Oid>,
    revision: &str,
) -> Result<Oid, String> {
    let rev = revision.trim();
    if rev.is_empty() || rev == "HEAD" {
        return advertised
            .get("HEAD")
            .copied()
            .ok_or_else(|| "the remote has no HEAD (an empty repository?)".to_owned());
    }
    if let Some(oid) = advertised.get(&format!("refs/heads/{rev}")) {
        return Ok(*oid);
    }
    if let Some(oid) = peeled_tag(repo, rev) {
        return Ok(oid);
    }
    if let Some(oid) = semver_tag(repo, rev)? {
        return Ok(oid);
    }
    if rev.len() >= 4 && rev.len() <= 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        let found = if rev.len() == 40 {
            Oid::from_str(rev)
                .ok()
                .and_then(|oid| repo.find_commit(oid).ok())
        } else {
            repo.revparse_single(rev)
                .ok()
                .and_then(|o| o.peel_to_commit().ok())
        };
        if let Some(commit) = found {
            return Ok(commit.id());
        }
    }
    Err(format!(
        "revision {rev:?} is not a branch, tag, semver range over tags, or commit of this repository"
    ))
}

fn peeled_tag(repo: &Repository, tag: &str) -> Option<Oid> {
    let reference = repo.find_reference(&format!("refs/tags/{tag}")).ok()?;
    reference.peel_to_commit().ok().map(|c| c.id())
}

/// The highest tag (an optional leading `v`) inside a semver range, when
/// `rev` is a range rather than a plain version or name.
fn semver_tag(repo: &Repository, rev: &str) -> Result<Option<Oid>, String> {
    let is_range = rev.contains(['x', 'X', '*', '^', '~', '>', '<', '=', ',']);
    let Some(req) = is_range
        .then(|| semver::VersionReq::parse(rev).ok())
        .flatten()
    else {
        return Ok(None);
    };
    let names = repo
        .tag_names(None)
        .map_err(|e| format!("cannot list tags: {}", e.message()))?;
    // Tags that are not UTF-8 cannot be semver versions; skip them.
    let best = names
        .iter()
        .filter_map(|name| name.ok().flatten())
        .filter_map(|name| {
            let version = semver::Version::parse(name.strip_prefix('v').unwrap_or(name)).ok()?;
            req.matches(&version).then_some((version, name))
        })
        .max_by(|a, b| a.0.cmp(&b.0));
    match best {
        Some((_, name)) => Ok(peeled_tag(repo, name)),
        None => Err(format!("no tag matches the semver range {rev:?}")),
    }
}

/// The path of `rel` inside a checkout, refusing paths that climb out of it.
pub fn path_in(checkout: &Checkout, rel: &str) -> Result<PathBuf, String> {
    within(&checkout.dir, rel).map_err(|e| {
        e.replace(
            "does not exist",
            &format!("does not exist at commit {}", checkout.commit),
        )
    })
}

/// The path of `rel` inside `root`, refusing absolute paths, `..` and
/// symbolic links that lead outside `root`.
pub fn within(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let shown = rel;
    let rel = Path::new(rel.trim_start_matches("./"));
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!("path {shown:?} must stay inside the repository"));
    }
    let path = root.join(rel);
    if !path.exists() {
        return Err(format!("path {shown:?} does not exist"));
    }
    let (Ok(real), Ok(real_root)) = (path.canonicalize(), root.canonicalize()) else {
        return Err(format!("path {shown:?} cannot be resolved"));
    };
    if !real.starts_with(&real_root) {
        return Err(format!(
            "path {shown:?} is a link that leads outside the repository"
        ));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::{known_host, redact, ssh_port};

    #[test]
    fn known_hosts_match_host_port_and_key() {
        use base64::Engine;
        let key = b"\x00\x00\x00\x0bssh-ed25519key";
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        let text = format!(
            "# comment\ngit.example,10.0.0.1 ssh-ed25519 {b64}\n[127.0.0.1]:2222 ssh-ed25519 {b64}\n"
        );
        assert!(known_host(&text, "git.example", 22, key));
        assert!(known_host(&text, "10.0.0.1", 22, key));
        assert!(known_host(&text, "127.0.0.1", 2222, key));
        assert!(!known_host(&text, "127.0.0.1", 22, key), "port matters");
        assert!(
            !known_host(&text, "git.example", 22, b"other"),
            "key matters"
        );
        assert!(!known_host(&text, "evil.example", 22, key));
        assert_eq!(ssh_port("ssh://git@127.0.0.1:2222/srv/repo"), 2222);
        assert_eq!(ssh_port("ssh://host/srv/repo"), 22);
        assert_eq!(ssh_port("git@host:org/repo.git"), 22);
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("https://bob:s3cret@git.example/org/repo.git"),
            "https://bob:***@git.example/org/repo.git"
        );
        assert_eq!(
            redact("https://tok3n@git.example/r"),
            "https://***@git.example/r"
        );
        assert_eq!(redact("https://git.example/r"), "https://git.example/r");
        assert_eq!(
            redact("git@github.com:org/repo.git"),
            "git@github.com:org/repo.git"
        );
        assert_eq!(redact("file:///srv/repo"), "file:///srv/repo");
    }
}
