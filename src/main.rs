//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! This is the front: it parses the whole command line, renders Helm charts
//! and Kustomize overlays in-process, and execs `skiff-agent` for every command
//! that talks to a cluster or Git. Linking only the renderers keeps
//! `skiff kustomize build` starting like a small program: the agent's binary
//! is large, and as a position-independent executable its relocations are
//! written at every start (see build.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use skiff_cli::{Cli, Command};

/// The binary that runs the cluster and Git commands.
const AGENT: &str = "skiff-agent";

fn main() {
    pad_heap_growth();
    let Cli { command } = Cli::parse();
    let result = match command {
        Some(Command::Helm(c)) => skiff_cli::helm::run(c),
        Some(Command::Kustomize(c)) => skiff_cli::kustomize::run(c),
        Some(_) => exec_agent(),
        // `arg_required_else_help` prints the help before we get here.
        None => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}

/// glibc grows the heap of a thread's own arena only as far as each
/// allocation needs, one `mprotect` call per growth: its top padding applies
/// to the main arena and to the size a thread's first heap starts with. The
/// Helm renderer works on threads: bitnami-redis made 1,300 such calls, a
/// tenth of its CPU time, and the vendored kube-prometheus-stack (16 MB of
/// parsed templates) 2,000 with 4 MiB of padding. With 64 MiB, the most a
/// heap can hold, each thread's heap is writable at once: they make 15. The
/// padding is address space; pages still count only once touched (peak RSS
/// is unchanged).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn pad_heap_growth() {
    // SAFETY: mallopt only sets a malloc parameter, and runs before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn pad_heap_growth() {}

/// Replaces this process with `skiff-agent` and the original arguments, so
/// the exit status, signals and stdio are the agent's own. Returns only when
/// that fails.
fn exec_agent() -> Result<(), String> {
    let agent = find_agent()?;
    let mut args = std::env::args_os();
    // argv[0] stays what the user typed, so usage lines still say `skiff`.
    let arg0 = args.next().unwrap_or_else(|| OsString::from("skiff"));
    let mut command = std::process::Command::new(&agent);
    command.args(args);
    replace_process(command, arg0).map_err(|e| format!("running {}: {e}", agent.display()))
}

#[cfg(unix)]
fn replace_process(mut command: std::process::Command, arg0: OsString) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    Err(command.arg0(arg0).exec().to_string())
}

#[cfg(not(unix))]
fn replace_process(mut command: std::process::Command, _arg0: OsString) -> Result<(), String> {
    // No exec here: run the agent as a child and pass its status on.
    let status = command.status().map_err(|e| e.to_string())?;
    std::process::exit(status.code().unwrap_or(1));
}

/// `skiff-agent` next to this executable (an install copies both), then on
/// `PATH`.
fn find_agent() -> Result<PathBuf, String> {
    let name = format!("{AGENT}{}", std::env::consts::EXE_SUFFIX);
    let mut looked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        let candidate = dir.join(&name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        looked.push(dir.display().to_string());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty()) {
            let candidate = dir.join(&name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        looked.push("PATH".to_owned());
    }
    Err(format!(
        "{name} not found (looked in {}); this command runs in {name}, which is installed next to skiff",
        looked.join(" and ")
    ))
}
