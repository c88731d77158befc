//! Test support for skiff: the real components that integration tests run against.
//!
//! The binaries (kube-apiserver, etcd, helm, kustomize, otelcol, ...) are built by
//! `testbed/build.sh` from pinned Go modules and cached outside the repository;
//! the first call here runs it, which links nothing when the cache is warm.
//!
//! A control plane is started lazily, at most once per test process and flavour,
//! by `testbed/up --watch-pid <this process>`: when the process exits, however it
//! exits (normally, by panic, or killed), the watchdog `up` leaves behind runs
//! `testbed/down`. Tests share the control plane and isolate themselves with a
//! namespace of their own (`ControlPlane::namespace`), so they run in parallel.
//! The control plane needs the `cluster` feature; without it this crate only
//! finds the reference binaries (`helm`, `kustomize`, `otelcol`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[cfg(feature = "cluster")]
mod cluster;
mod collector;
mod corpus;

#[cfg(feature = "cluster")]
pub use cluster::{ControlPlane, Flavour, TestNamespace};
pub use collector::Collector;
pub use corpus::{
    HelmCase, Rng, charts as corpus_charts, files_under, helm_cases, kube_prometheus_stack_vendored,
};

/// The repository root, where `testbed/` lives.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the testbed crate lives in <repo>/crates/testbed")
}

/// The folder holding the testbed binaries, built on first use if missing.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = repo_root().join("testbed/build.sh");
        let out = Command::new(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed ({}); see its output above",
            script.display(),
            out.status
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let dir = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
        assert!(
            dir.is_dir(),
            "testbed/build.sh printed {dir:?}, not a folder"
        );
        dir
    })
}

/// The path of one testbed binary (`helm`, `kustomize`, `otelcol`, ...).
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "testbed/build.sh built no {name} in {}",
        bin_dir().display()
    );
    path
}

/// Kills process `pid` (a child we started) once this test process is gone, in
/// case it dies without running destructors (killed, aborted). The watcher also
/// ends as soon as the child does.
pub(crate) fn kill_when_this_process_exits(pid: u32) {
    let script = r#"while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done; kill -9 "$2" 2>/dev/null"#;
    let _ = Command::new("setsid")
        .args(["sh", "-c", script, "watch"])
        .arg(std::process::id().to_string())
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// Waits until something accepts connections on loopback `port`.
pub fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(100))
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server a test started (git daemon, sshd, ...): killed when dropped, and
/// also when the test process dies without running destructors.
#[derive(Debug)]
pub struct ChildGuard(Child);

impl ChildGuard {
    /// Guards `child`.
    pub fn new(child: Child) -> ChildGuard {
        kill_when_this_process_exits(child.id());
        ChildGuard(child)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
