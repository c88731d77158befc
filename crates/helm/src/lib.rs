//! skiff-helm: renders Helm charts to Kubernetes manifests the way `helm template`
//! does, without a helm binary.
//!
//! The crate is pure: a chart (read from a folder or a `.tgz`) and values go in,
//! manifests come out. Templates run on the `gotmpl` engine (a port of Go's
//! text/template); the Sprig and Helm functions, values coalescing, built-in
//! objects and Helm's output order are implemented here.

mod chart;
mod chart_dir;
mod coalesce;
mod doc_scan;
mod engine;
mod error;
mod files;
mod funcs;
mod gobytes;
mod gofmt;
mod ignore;
mod mutation;
mod output;
mod regexes;
mod schema;
pub mod strvals;
pub mod template;
mod values;
mod yaml;
mod yaml_block;
mod yaml_read;

pub use chart::{Chart, ChartFile, FileData, Metadata};
pub use error::Error;
pub use output::{Manifest, PrintOptions, Rendered, kind_less};
pub use values::{Capabilities, ReleaseOptions};

/// A value tree: what values files, `--set` and templates exchange.
pub use gotmpl::Value;

/// Reads a chart from a folder or a `.tgz` archive, with its subcharts.
pub fn load(path: &std::path::Path) -> Result<Chart, Error> {
    chart::load(path)
}

/// Whether `version` satisfies `constraint`, read the way Helm reads chart
/// version ranges and `semverCompare` (Masterminds/semver): `||` alternatives
/// of comma- or space-separated comparisons, `~`, `^`, `x`/`*` wildcards and
/// hyphen ranges. A pre-release version only satisfies a comparison that
/// itself carries a pre-release (`>=1.0.0-0`), so `*` means "any stable".
/// Errors when `version` is not a semantic version or `constraint` cannot be read.
pub fn version_matches(constraint: &str, version: &str) -> Result<bool, String> {
    funcs::semver::check_constraint(constraint, version)
}

/// Builds a chart from in-memory files (paths relative to the chart root,
/// subcharts under `charts/`), as the loader does after reading them.
pub fn load_files(files: Vec<ChartFile>) -> Result<Chart, Error> {
    chart::from_files(files)
}

/// Parses a values file (YAML) into a value tree, as Helm reads `-f` files.
pub fn parse_values(text: &str) -> Result<Value, Error> {
    yaml::parse_values(text)
}

/// Merges `overrides` onto `base` the way Helm merges successive `-f`/`--set`
/// sources (maps merge key by key, everything else is replaced).
pub fn merge_values(base: Value, overrides: Value) -> Value {
    coalesce::merge_maps(base, overrides)
}

/// Renders `chart` with the user-supplied values `values` (already merged from
/// `-f` and `--set` sources) for the given release and cluster capabilities.
pub fn render(
    chart: &Chart,
    values: &Value,
    release: &ReleaseOptions,
    caps: &Capabilities,
) -> Result<Rendered, Error> {
    let pool = threads()?;
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pool.install(|| {
            // Templates were only opened at load: a chart refused for missing
            // dependencies reads none.
            values::check_dependencies(chart)?;
            rayon_core::scope(|s| {
                // They are read while the dependencies are resolved (a read
                // error is the render's to report, in its order).
                if engine::second_thread_pays(chart.template_bytes()) {
                    s.spawn(|_| {
                        let _ = chart.read_templates();
                    });
                }
                let resolved = values::resolve(chart, values)?;
                // The values checks run while they are parsed.
                let files = engine::render(chart, &resolved.chart, || {
                    values::prepare(&resolved, release, caps)
                })?;
                output::sort(&resolved.chart, files)
            })
        })
    }));
    rendered.map_err(|_| Error::Exec("the renderer panicked".into()))?
}

/// Starts the threads renders run on, if not started yet. A program that
/// renders right after it starts (the CLI) calls this first, so they are up
/// by the time the chart is loaded: on a VM a new thread can wait for a core
/// for up to a scheduler tick (4 ms here), while waking one that waits for
/// work takes tens of microseconds.
pub fn start_threads() {
    let _ = threads();
}

/// Sets what runs first on each render thread, once they start (the CLI
/// uses it to tune the thread's heap; see the `skiff` front). Only the
/// first call counts, and only before the threads start.
pub fn on_thread_start(start: fn()) {
    let _ = THREAD_START.set(start);
}

static THREAD_START: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// The threads every render runs on, one per core (at most
/// [`MAX_RENDER_THREADS`]), started once per process: a render uses two at
/// a time, to parse and to run templates (see `engine`), and renders running
/// at once share them.
pub(crate) fn threads() -> Result<&'static rayon_core::ThreadPool, Error> {
    static POOL: std::sync::OnceLock<Result<rayon_core::ThreadPool, String>> =
        std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon_core::ThreadPoolBuilder::new()
            .num_threads(cores.min(MAX_RENDER_THREADS))
            // Deeply nested include/tpl chains (up to the engine's limit)
            // need more stack than a default thread has.
            .stack_size(RENDER_STACK_BYTES)
            .thread_name(|i| format!("skiff-helm-{i}"))
            .start_handler(|_| {
                if let Some(start) = THREAD_START.get() {
                    start();
                }
            })
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::Exec(format!("cannot start the render threads: {e}")))
}

/// At most this many render threads: each reserves (but does not use)
/// [`RENDER_STACK_BYTES`] of address space.
const MAX_RENDER_THREADS: usize = 8;

/// Stack of a render thread: enough for the include/tpl nesting limit.
pub(crate) const RENDER_STACK_BYTES: usize = 256 << 20;
