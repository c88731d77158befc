//! Times our template parser against gotmpl's on every template of the
//! charts given as arguments (folders, searched recursively):
//! `cargo run --release -p skiff-helm --example parse_bench -- DIR...`.

use std::path::Path;
use std::time::Instant;

fn main() {
    let mut sources = Vec::new();
    for dir in std::env::args().skip(1) {
        for p in skiff_testbed::files_under(Path::new(&dir)) {
            if p.components().any(|c| c.as_os_str() == "templates")
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                sources.push(text);
            }
        }
    }
    let bytes: usize = sources.iter().map(String::len).sum();
    let rounds = 20;
    let time = |f: &dyn Fn(&str) -> bool| {
        let start = Instant::now();
        for _ in 0..rounds {
            for s in &sources {
                assert!(f(s), "a template failed to parse");
            }
        }
        start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
    };
    let gotmpl = time(&|s| skiff_helm::template::parse_with_gotmpl(None, s).is_ok());
    let ours = time(&skiff_helm::template::parse_ours_only);
    println!(
        "{} templates, {} KiB: gotmpl {gotmpl:.2} ms, ours {ours:.2} ms per pass ({:.1}x)",
        sources.len(),
        bytes / 1024,
        gotmpl / ours
    );
}
