//! skiff: a GitOps reconciliation agent for Kubernetes.
//!
//! This is the front: it parses the command line (`skiff helm` with a parser
//! of its own, see `HelmOnly`), renders Helm charts and Kustomize overlays
//! in-process, and execs `skiff-agent` for every command that talks to a
//! cluster or Git. Linking only the renderers keeps
//! `skiff kustomize build` starting like a small program: the agent's binary
//! is large, and as a position-independent executable its relocations are
//! written at every start (see build.rs).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;
use skiff_cli::{Cli, Command};

/// The binary that runs the cluster and Git commands.
const AGENT: &str = "skiff-agent";

/// `skiff helm ...` read by a parser that knows only `helm`: clap builds
/// the arguments of every subcommand before it reads any, which took 0.4 ms
/// of a 12 ms `skiff helm template` (bitnami-redis). The help, the usage
/// and the errors are the whole parser's (see the tests).
#[derive(Debug, Parser)]
#[command(name = "skiff")]
struct HelmOnly {
    #[command(subcommand)]
    command: HelmTop,
}

#[derive(Debug, clap::Subcommand)]
enum HelmTop {
    /// Work with Helm charts offline.
    #[command(subcommand)]
    Helm(skiff_cli::helm::HelmCommand),
}

fn main() {
    heap::pad();
    let result = if std::env::args_os().nth(1).is_some_and(|a| a == "helm") {
        heap::huge_pages();
        // Started while the arguments are read, not after.
        skiff_helm::start_threads();
        let HelmOnly {
            command: HelmTop::Helm(c),
        } = HelmOnly::parse();
        skiff_cli::helm::run(c)
    } else {
        match Cli::parse().command {
            Some(Command::Helm(c)) => {
                heap::huge_pages();
                skiff_cli::helm::run(c)
            }
            Some(Command::Kustomize(c)) => skiff_cli::kustomize::run(c),
            Some(_) => exec_agent(),
            // `arg_required_else_help` prints the help before we get here.
            None => Ok(()),
        }
    };
    if let Err(e) = result {
        eprintln!("Error: {e}");
        std::process::exit(1);
    }
}

/// glibc's heaps, tuned for a program that allocates a lot in a short run
/// on a few threads.
///
/// - glibc grows the heap of a thread's own arena only as far as each
///   allocation needs, one `mprotect` call per growth: its top padding
///   applies to the main arena and to the size a thread's first heap starts
///   with. bitnami-redis made 1,300 such calls, a tenth of its CPU time, and
///   the vendored kube-prometheus-stack 2,000 with 4 MiB of padding. With
///   64 MiB, the most a heap can hold, each thread's heap is writable at
///   once: they make 15. The padding is address space; pages count only
///   once touched.
/// - The rest of the page faults were then a fifth of the CPU time: a
///   render touches 10-15 MiB of fresh heap, one 4 KiB fault each (1,730
///   faults for the vendored kube-prometheus-stack). `skiff helm template`
///   advises its render threads' heaps to use transparent huge pages (on
///   machines where THP is `madvise`, the usual default): one fault per
///   2 MiB, 390 faults in all. glibc does much the same itself with
///   `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, which only the environment can
///   set. Measured side by side (medians of 41, in a slow minute):
///   kube-prometheus-stack vendored 45.2 -> 39.7 ms, bitnami-redis 22.7 ->
///   19.6, argo-cd 28.6 -> 26.7; podinfo unchanged. Peak RSS grows by 3-4
///   MiB (each thread's huge pages partly used): bitnami-redis 9.7 -> 12.7
///   MiB, podinfo 6.4 -> 10.2, at most a fifth of helm's.
/// - Where THP is off, or glibc's layout is not what is assumed here, the
///   advice changes nothing: it is advice.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod heap {
    /// glibc's largest heap of a thread arena (`HEAP_MAX_SIZE` on 64-bit
    /// targets); heaps are aligned to it.
    const THREAD_HEAP: usize = 64 << 20;
    const HUGE_PAGE: usize = 2 << 20;

    /// Pads the heaps; runs first in `main`.
    pub fn pad() {
        // SAFETY: mallopt only sets a malloc parameter, and runs before any
        // other thread exists.
        unsafe {
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    }

    /// Advises each render thread's heap once it starts (`skiff helm
    /// template`, before its threads start). Not the main arena's: the
    /// main thread loads the chart and prints, a few MiB that would each
    /// take a whole huge page (bitnami-redis's peak RSS grew from 11 to
    /// 14.6 MiB, a quarter of helm's, for no measurable gain).
    pub fn huge_pages() {
        // SAFETY: as in `pad`. Up to 4 MiB come from the (advised) heaps
        // rather than from mmap: also what lets `skip_to_huge_pages` keep
        // its gap in the heap.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        }
        skiff_helm::on_thread_start(advise_own_heap);
    }

    /// Advises the heap of the calling thread's own arena (a render
    /// thread's, at its start: see `skiff_helm::on_thread_start`).
    fn advise_own_heap() {
        // Larger than the thread cache's sizes: taken from the top of this
        // thread's arena.
        // (black_box: an allocation nothing reads may be left out.)
        let probe = std::hint::black_box(Vec::<u8>::with_capacity(512 << 10));
        let top = probe.as_ptr() as usize;
        if top < brk() {
            return; // the main arena's (glibc ran out of arenas)
        }
        advise(top, (top & !(THREAD_HEAP - 1)) + THREAD_HEAP);
        drop(probe);
        skip_to_huge_pages(top);
    }

    /// The 2 MiB around `top` were partly touched (4 KiB pages) before the
    /// advice, so they can no longer become a huge page: what is left of
    /// them is left unused (address space, never touched), so that the
    /// allocations after it start on the next huge page.
    fn skip_to_huge_pages(top: usize) {
        let gap = top.next_multiple_of(HUGE_PAGE) - top;
        if gap > 64 << 10 {
            // Less a chunk header: the gap's chunk ends at the boundary.
            std::mem::forget(std::hint::black_box(Vec::<u8>::with_capacity(gap - 32)));
        }
    }

    fn advise(from: usize, to: usize) {
        let start = from.next_multiple_of(HUGE_PAGE);
        if to > start {
            // SAFETY: madvise with MADV_HUGEPAGE only changes how the
            // kernel backs those pages; no memory is read, written or freed.
            unsafe {
                libc::madvise(start as *mut libc::c_void, to - start, libc::MADV_HUGEPAGE);
            }
        }
    }

    fn brk() -> usize {
        // SAFETY: sbrk(0) only reads the current program break.
        unsafe { libc::sbrk(0) as usize }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod heap {
    pub fn pad() {}
    pub fn huge_pages() {}
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parser makes of `argv`: the helm command, or the error as
    /// printed.
    fn outcome<P: Parser>(
        argv: &[&str],
        helm: impl Fn(P) -> Option<skiff_cli::helm::HelmCommand>,
    ) -> String {
        match P::try_parse_from(argv) {
            Ok(p) => format!("{:?}", helm(p)),
            Err(e) => format!("{:?}: {}", e.kind(), e.render()),
        }
    }

    #[test]
    fn the_helm_parser_reads_helm_commands_as_the_whole_parser_does() {
        let cases: &[&[&str]] = &[
            &["skiff", "helm"],
            &["skiff", "helm", "--help"],
            &["skiff", "helm", "help"],
            &["skiff", "helm", "help", "template"],
            &["skiff", "helm", "template"],
            &["skiff", "helm", "template", "--help"],
            &["skiff", "helm", "template", "-h"],
            &["skiff", "helm", "template", "chart"],
            &[
                "skiff",
                "helm",
                "template",
                "rel",
                "chart",
                "-n",
                "ns",
                "--set",
                "a=1",
                "-f",
                "v.yaml",
                "--include-crds",
            ],
            &["skiff", "helm", "template", "a", "b", "c"],
            &["skiff", "helm", "template", "chart", "--no-such-flag"],
            &["skiff", "helm", "template", "chart", "--kube-version"],
            &["skiff", "helm", "tempalte", "chart"],
            &["skiff", "helm", "--version"],
        ];
        for argv in cases {
            let whole = outcome::<Cli>(argv, |c| match c.command {
                Some(Command::Helm(h)) => Some(h),
                _ => None,
            });
            let helm_only = outcome::<HelmOnly>(argv, |h| {
                let HelmTop::Helm(c) = h.command;
                Some(c)
            });
            assert_eq!(whole, helm_only, "{argv:?}");
        }
        // The cases reach both the commands and the errors.
        assert!(
            outcome::<HelmOnly>(&["skiff", "helm", "template", "chart"], |h| {
                let HelmTop::Helm(c) = h.command;
                Some(c)
            })
            .starts_with("Some(Template(")
        );
        assert!(
            outcome::<Cli>(&["skiff", "helm", "template", "--help"], |_| None)
                .contains("--kube-version")
        );
    }
}
