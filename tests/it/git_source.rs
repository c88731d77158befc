//! Git sources against real repositories: `file://` and a real `git daemon`.
//! Revisions resolve as Argo CD users write them, checkouts are shared per
//! commit, and bad URLs and revisions give clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use skiff::source::git::{GitCache, path_in};

use crate::fleet::{git_http_server, keygen, scratch};
use skiff_testbed::{ChildGuard, free_port, wait_for_port};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn commit(dir: &Path, file: &str, content: &str) -> String {
    std::fs::write(dir.join(file), content).expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", content]);
    git(dir, &["rev-parse", "HEAD"])
}

struct Origin {
    dir: PathBuf,
    v1_0_0: String,
    v1_0_3: String,
    release: String,
    head: String,
}

/// main: v1.0.0 -> v1.0.3 -> v1.1.0 (HEAD); branch `release` off v1.0.3.
fn origin(root: &Path) -> Origin {
    let dir = root.join("origin");
    std::fs::create_dir_all(dir.join("apps")).expect("mkdir");
    git(&dir, &["init", "-q", "-b", "main"]);
    let v1_0_0 = commit(&dir, "apps/version.txt", "1.0.0");
    git(&dir, &["tag", "-a", "v1.0.0", "-m", "annotated"]);
    let v1_0_3 = commit(&dir, "apps/version.txt", "1.0.3");
    git(&dir, &["tag", "v1.0.3"]);
    git(&dir, &["checkout", "-q", "-b", "release"]);
    let release = commit(&dir, "apps/version.txt", "release");
    git(&dir, &["checkout", "-q", "main"]);
    let head = commit(&dir, "apps/version.txt", "1.1.0");
    git(&dir, &["tag", "v1.1.0"]);
    Origin {
        dir,
        v1_0_0,
        v1_0_3,
        release,
        head,
    }
}

fn read(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("apps/version.txt")).expect("checked-out file")
}

#[test]
fn revisions_resolve_like_argo_cd() {
    let root = scratch("git-resolve");
    let o = origin(&root);
    let url = format!("file://{}", o.dir.display());
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(30)).expect("cache");

    let cases = [
        ("", &o.head, "1.1.0"),
        ("HEAD", &o.head, "1.1.0"),
        ("main", &o.head, "1.1.0"),
        ("release", &o.release, "release"),
        ("v1.0.0", &o.v1_0_0, "1.0.0"),
        ("1.0.x", &o.v1_0_3, "1.0.3"),
        (">=1.0.0, <1.1.0", &o.v1_0_3, "1.0.3"),
        (&o.v1_0_0[..7], &o.v1_0_0, "1.0.0"),
        (&o.release, &o.release, "release"),
    ];
    for (rev, commit, content) in cases {
        let co = cache
            .checkout(&url, rev, None)
            .unwrap_or_else(|e| panic!("{rev:?}: {e}"));
        assert_eq!(&co.commit, commit, "revision {rev:?}");
        assert_eq!(read(&co.dir), content, "revision {rev:?}");
    }

    let err = cache
        .checkout(&url, "no-such-branch", None)
        .expect_err("unknown revision");
    assert!(err.to_string().contains("\"no-such-branch\""), "{err}");
    let err = cache
        .checkout(&url, "2.x", None)
        .expect_err("range matching nothing");
    assert!(err.to_string().contains("no tag matches"), "{err}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn a_new_commit_is_fetched_and_checkouts_are_shared_per_commit() {
    let root = scratch("git-shared");
    let o = origin(&root);
    let url = format!("file://{}", o.dir.display());
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(30)).expect("cache");

    // Many Applications on one repo and revision: one checkout folder.
    let dirs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| cache.checkout(&url, "main", None).expect("checkout")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(dirs.iter().all(|c| c == &dirs[0]), "{dirs:?}");
    let checkouts = std::fs::read_dir(root.join("cache/checkouts"))
        .expect("ls")
        .count();
    assert_eq!(checkouts, 1);

    let newer = commit(&o.dir, "apps/version.txt", "1.2.0");
    let co = cache
        .checkout(&url, "main", None)
        .expect("checkout after push");
    assert_eq!(co.commit, newer);
    assert_eq!(read(&co.dir), "1.2.0");
    assert_eq!(
        read(&dirs[0].dir),
        "1.1.0",
        "an older checkout is left as it was"
    );

    assert!(path_in(&co, "apps").is_ok());
    let err = path_in(&co, "../origin").expect_err("climbing out");
    assert!(err.contains("inside the repository"), "{err}");
    let err = path_in(&co, "apps/missing").expect_err("missing path");
    assert!(err.contains(&newer), "{err}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn bad_urls_fail_clearly() {
    let root = scratch("git-bad");
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(10)).expect("cache");
    let err = cache
        .checkout("/srv/repo", "main", None)
        .expect_err("bare path");
    assert!(
        err.to_string().contains("unsupported repository URL"),
        "{err}"
    );
    let missing = format!("file://{}/nope", root.display());
    let err = cache
        .checkout(&missing, "main", None)
        .expect_err("missing repo");
    assert!(err.to_string().starts_with(&missing), "{err}");
    assert!(err.to_string().contains("fetch failed"), "{err}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn fetches_over_the_git_protocol_from_a_real_git_daemon() {
    let root = scratch("git-daemon");
    let o = origin(&root);
    let port = free_port();
    let _daemon = ChildGuard::new(
        // The daemon itself, not `git daemon`, which would run it as a child
        // that outlives a kill of its parent.
        Command::new(Path::new(&git(&root, &["--exec-path"])).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", root.display()))
            .arg(root.display().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon"),
    );
    wait_for_port(port, Duration::from_secs(10));
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(30)).expect("cache");
    let co = cache
        .checkout(&format!("git://127.0.0.1:{port}/origin"), "1.0.x", None)
        .expect("checkout over git://");
    assert_eq!(co.commit, o.v1_0_3);
    assert_eq!(read(&co.dir), "1.0.3");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn smart_http_with_basic_auth_needs_the_right_credentials() {
    use skiff::source::git::GitCredentials;

    let root = scratch("git-http");
    let o = origin(&root);
    let (_server, port) = git_http_server(&root, "deployer", "pa55-w0rd");
    let url = format!("http://127.0.0.1:{port}/origin");
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(30)).expect("cache");

    let good = GitCredentials::Basic {
        username: "deployer".into(),
        password: "pa55-w0rd".into(),
    };
    let co = cache
        .checkout(&url, "release", Some(&good))
        .expect("authenticated fetch");
    assert_eq!(co.commit, o.release);
    assert_eq!(read(&co.dir), "release");

    let err = cache
        .checkout(&url, "main", None)
        .expect_err("no credentials");
    assert!(err.to_string().contains("authentication failed"), "{err}");
    let bad = GitCredentials::Basic {
        username: "deployer".into(),
        password: "wrong-secret".into(),
    };
    let err = cache
        .checkout(&url, "main", Some(&bad))
        .expect_err("wrong password");
    assert!(err.to_string().contains("authentication failed"), "{err}");
    assert!(
        !format!("{err} {bad:?}").contains("wrong-secret"),
        "a secret leaked: {err}"
    );

    // A password written into the URL never shows in errors.
    let with_password = url.replace("http://", "http://deployer:wrong-secret@");
    let err = cache
        .checkout(&with_password, "main", None)
        .expect_err("wrong password in URL");
    assert!(
        !err.to_string().contains("wrong-secret"),
        "a secret leaked: {err}"
    );
    assert!(err.to_string().contains("deployer:***@"), "{err}");
    std::fs::remove_dir_all(&root).expect("cleanup");
}

#[test]
fn ssh_with_a_key_and_known_hosts_and_unknown_hosts_refused() {
    use skiff::source::git::GitCredentials;

    let root = scratch("git-ssh");
    let o = origin(&root);
    let host_pub = keygen(&root.join("host_key"));
    let client_pub = keygen(&root.join("client_key"));
    let stranger_pub = keygen(&root.join("stranger_key"));
    std::fs::write(root.join("authorized_keys"), &client_pub).expect("authorized_keys");
    let port = free_port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile {dir}/sshd.pid\n\
         AuthorizedKeysFile {dir}/authorized_keys\nPermitRootLogin prohibit-password\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n",
        dir = root.display()
    );
    std::fs::write(root.join("sshd_config"), config).expect("sshd_config");
    // sshd insists on its privilege-separation folder.
    std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
    let _sshd = ChildGuard::new(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(root.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd"),
    );
    wait_for_port(port, Duration::from_secs(10));
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let url = format!("ssh://{user}@127.0.0.1:{port}{}", o.dir.display());
    let known = |public: &str| format!("[127.0.0.1]:{port} {public}");
    let creds = |key: &str, known_hosts: String| GitCredentials::Ssh {
        private_key: std::fs::read_to_string(root.join(key)).expect("private key"),
        passphrase: None,
        known_hosts,
    };
    let cache = GitCache::new(root.join("cache"), Duration::from_secs(30)).expect("cache");

    let co = cache
        .checkout(&url, "v1.0.0", Some(&creds("client_key", known(&host_pub))))
        .expect("fetch over SSH with a known host key");
    assert_eq!(co.commit, o.v1_0_0);

    // The server presents a host key that known_hosts does not list: refused.
    let err = cache
        .checkout(
            &url,
            "main",
            Some(&creds("client_key", known(&stranger_pub))),
        )
        .expect_err("unknown host key");
    assert!(err.to_string().contains("not in known_hosts"), "{err}");
    let err = cache
        .checkout(&url, "main", Some(&creds("client_key", String::new())))
        .expect_err("empty known_hosts");
    assert!(err.to_string().contains("not in known_hosts"), "{err}");

    // A key the server does not accept.
    let err = cache
        .checkout(&url, "main", Some(&creds("stranger_key", known(&host_pub))))
        .expect_err("unauthorised key");
    assert!(err.to_string().contains("authentication failed"), "{err}");
    let private = std::fs::read_to_string(root.join("stranger_key")).expect("key");
    let secret_line = private.lines().nth(1).expect("key body");
    assert!(
        !err.to_string().contains(secret_line),
        "a key leaked: {err}"
    );
    std::fs::remove_dir_all(&root).expect("cleanup");
}
