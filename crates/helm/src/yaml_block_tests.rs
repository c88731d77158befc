//! The line reader against the event reader and the reference reading: when
//! it answers, the same value (floats by their bits) in both number modes; on
//! the corpus's values and chart files and on a table of tricky snippets.

use std::path::PathBuf;
use std::time::Instant;

use gotmpl::Value;

use super::read;
use crate::yaml::{from_json, parse_json_reference};
use crate::yaml_read::tests::{damage, same};
use crate::yaml_read::{Numbers, events};

/// Checks one document; true when the line reader answered it.
fn check(name: &str, text: &str) -> bool {
    let fast = read(text, Numbers::Floats);
    if let Some(v) = &fast {
        match parse_json_reference(text) {
            Ok(j) => {
                let e = from_json(&j, true);
                assert!(same(v, &e), "{name}: line reader {v:?}\nreference {e:?}");
            }
            Err(e) => panic!("{name}: line reader read {v:?}, the reference refused: {e}"),
        }
        if let Some(e) = events(text, Numbers::Floats) {
            assert!(same(v, &e), "{name}: line reader {v:?}\nevent reader {e:?}");
        }
    }
    if let Some(v) = read(text, Numbers::Exact) {
        assert!(fast.is_some(), "{name}: read as JSON only");
        let j = crate::yaml_read::to_json(&v);
        assert_eq!(
            Ok(&j),
            parse_json_reference(text).as_ref(),
            "{name} as JSON"
        );
        if let Some(e) = events(text, Numbers::Exact) {
            assert!(
                same(&v, &e),
                "{name} exact: line reader {v:?}\nevent reader {e:?}"
            );
        }
    }
    fast.is_some()
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = skiff_testbed::files_under(&skiff_testbed::corpus_charts());
    files.extend(skiff_testbed::files_under(
        skiff_testbed::kube_prometheus_stack_vendored(),
    ));
    files.retain(|p| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        name == "Chart.yaml"
            || name == "requirements.yaml"
            || (name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml")))
    });
    files.sort();
    files
}

#[test]
fn corpus_values_and_chart_files_read_as_the_event_reader_and_the_reference_read_them() {
    let files = corpus_files();
    let mut answered = 0;
    let mut refused = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        if check(&f.display().to_string(), &text) {
            answered += 1;
        } else {
            refused.push(f.display().to_string());
        }
    }
    eprintln!(
        "{} files, {answered} read by lines; refused: {refused:#?}",
        files.len()
    );
    assert!(files.len() > 50, "the corpus is missing: {}", files.len());
}

/// The big values files of the benchmark charts: the reason this reader exists.
fn benchmark_values() -> Vec<(&'static str, String)> {
    let charts = skiff_testbed::corpus_charts();
    [
        (
            "kube-prometheus-stack (vendored)",
            skiff_testbed::kube_prometheus_stack_vendored().join("values.yaml"),
        ),
        ("bitnami-redis", charts.join("bitnami-redis/values.yaml")),
        ("argo-cd", charts.join("argo-cd/values.yaml")),
    ]
    .into_iter()
    .map(|(name, p)| {
        let text =
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
        (name, text)
    })
    .collect()
}

#[test]
fn the_benchmark_charts_values_files_are_read_by_lines() {
    for (name, text) in benchmark_values() {
        assert!(check(name, &text), "{name}: the line reader refused it");
    }
}

/// Times both readers on the benchmark values files:
/// `cargo test -p skiff-helm --release --lib yaml_block -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, printed"]
fn time_the_benchmark_values_files() {
    for (name, text) in benchmark_values() {
        let rounds = 200;
        let time = |f: &dyn Fn() -> Option<Value>| {
            let start = Instant::now();
            for _ in 0..rounds {
                assert!(f().is_some());
            }
            start.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds)
        };
        let old = time(&|| events(&text, Numbers::Floats));
        let new = time(&|| read(&text, Numbers::Floats));
        eprintln!(
            "{name}: {} KiB, event reader {old:.3} ms, line reader {new:.3} ms ({:.1}x)",
            text.len() / 1024,
            old / new
        );
    }
}

/// Documents near the edges of what the line reader takes; for each, `Some`
/// must be the reference's value, `None` is always allowed.
const SNIPPETS: &[&str] = &[
    "a: 1\n",
    "a: 1",
    "---\na: 1\n",
    "--- \na: 1\n",
    "# c\n---\na: 1\n",
    "---\n---\na: 1\n",
    "--- # c\na: 1\n",
    "a: 1\n---\n",
    "a: 1\n...\n",
    "\u{feff}a: 1\n",
    "\u{feff}---\na: 1\n",
    "a: \u{feff}x\n",
    "a: 1\r\nb: 2\r\n",
    "a: x\rb: 2\n",
    "a: x # comment\nb: 'y' # c\n# between\nc: \"z\"   # z\n",
    "a: x#not\nb: 'y'#c\nc: \"z\"#c\n",
    "key: \"a # b\"\nk2: 'a # b'\n",
    "key: 'it''s'\nk: ''''\nk3: 'a''''b'\n",
    "key: a:b\nk: a:\nk3: a: b\nk4: http://x.y:80/z#f\n",
    "a:b: c\n",
    "a :b: c\n",
    "a : b\n",
    "- - x\n  - y\n- z\n",
    "- - - x\n    - y\n  - z\n",
    "-\n  - x\n-\n- y\n",
    "-   x\n-  - y\n   - z\n",
    "a:\n- k: v\n  l: w\n- x\nb: 1\n",
    "a:\n  - k: v\n    l:\n    - 1\n    - 2\n    m: {}\n  - n: []\nb: 1\n",
    "a:\n- k: v\n l: w\n",
    "a:\n  - x\n - y\n",
    "a:\n- x\n  - y\n",
    "- a:\n  - x\n  b: 1\n",
    "- a:\n    x: 1\n  b:\n",
    "a:\nb:\nc: ~\nd: null\ne: Null\nf: NULL\ng: ''\nh: \"\"\n",
    "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: True\nh: FALSE\ni: 'yes'\n",
    "a: 0x1F\nb: 0o17\nc: 017\nd: 1e3\ne: 1E3\nf: .inf\ng: -.inf\nh: .nan\ni: 1_000\nj: +1\nk: .5\nl: 1.50\nm: -0\nn: 99999999999999999999\n",
    "a: 1.0\nb: -1\nc: 0\nd: 18446744073709551615\ne: 9223372036854775808\nf: -9223372036854775808\ng: 1.7976931348623157e309\n",
    "a: |\n  x\n  y\n\n\nb: 1\n",
    "a: |-\n  x\n  y\n\n\nb: 1\n",
    "a: |+\n  x\n  y\n\n\nb: 1\n",
    "a: |+\n  x\n\n# c\n\nb: 1\n",
    "a: |+\n  x\n\n",
    "a: |+\n  x",
    "a: |\n  x",
    "a: |-\n  x",
    "a: |\n",
    "a: |",
    "a: |-\nb: 1\n",
    "a: |+\nb: 1\n",
    "a: >\n\nb: 1\n",
    "a: >\n  folded\n  text\n\n  para\n\n\n  three\nb: 1\n",
    "a: >-\n  folded\n  text\n",
    "a: >+\n  folded\n  text\n\n",
    "a: >\n  x\n    more\n  y\n",
    "a: >\n\n\n  lead\n",
    "a: |\n\n\n  lead\n",
    "a: |\n    \n  x\n",
    "a: |\n  x\n    \n  y\n",
    "a: |\n  x\n  \n  y\n",
    "a: |\n  x\n \n  y\n",
    "a: |2\n    indented\n  two\n",
    "a: |1\n  x\n",
    "a:\n  b: |2\n      x\n    y\n",
    "a:\n  b: |-2\n      x\n",
    "a:\n  b: |2-\n      x\n",
    "- |2\n    x\n",
    "- |\n  x\n  y\n- >\n  a\n  b\n",
    "- |\n x\n",
    "- k: |\n    x\n  l: 1\n",
    "a: |\n  # not a comment\n  x # nor this\n# a comment\nb: 1\n",
    "a: |\n  x\n # c\n  y\n",
    "a: |\n  x\n\tb\n",
    "a: |\n  \tx\n",
    "a: |\n   x\n  y\n",
    "a: | # c\n  x\n",
    "a: |x\n  y\n",
    "a: |0\n  y\n",
    "a: |10\n  y\n",
    "a: |+-\n  y\n",
    "a: \"\\u00e9\\x41\\U0001F600\\t\\n\\\\\\\"\\/\\0\\ \\_\\N\\L\\P\\e\"\n",
    "a: \"\\uD800\"\n",
    "a: \"\\q\"\n",
    "a: \"x\\\n  y\"\n",
    "a: \"multi\n  line\"\n",
    "a: 'multi\n  line'\n",
    "a: multi\n  line\n",
    "a: x\n  # comment deeper\nb: y\n",
    "a:\n  # comment\n  b: 1\n",
    "a:\n# comment\n  b: 1\n",
    "a: 1\n  # comment\n",
    "a:\n  b\n",
    "a:\n  'b'\n",
    "key with spaces: v\n\"quoted: key\": v\n'single # key': v\n\"esc\\tkey\": v\n",
    "a: 1   \nb:   \nc: 'x'   \n",
    "a:   \n  b: 1   \n",
    "a: {}\nb: []\nc: { }\nd: [ ]\ne: {} # c\nf: []x\n",
    "a: {b: 1}\nb: [1, 2]\n",
    "a:\n  b:\n    c: {}\n    d:\n      e: {}\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "<<: {a: 1}\n",
    "'<<': 1\n",
    "? a\n: b\n",
    "a: ? b\n",
    "a: :b\n",
    "a: -\n",
    "a: - b\n",
    "a: -b\nb: --c\nc: -1\n",
    "a: @x\n",
    "a: `x\n",
    "a: %x\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\na: 2\n",
    "a: 1\nb: 2\na: 3\n",
    "'a': 1\na: 2\n\"a\": 3\n",
    "1: a\n\"1\": b\n",
    "0x1F: a\n31: b\n",
    "1: a\n2: b\n",
    "1.5: a\ntrue: b\nyes: c\n",
    "~: a\n",
    "null: a\n",
    ": a\n",
    "a:\tb\n",
    "a: b\t\n",
    "a: b\tc\n",
    "\ta: 1\n",
    "a:\n\t- 1\n",
    "a: \"tab\there\"\n",
    "- a\nb: c\n",
    "a: 1\n- b\n",
    "  a: 1\n  b: 2\n",
    "a: 1\n b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "x\n",
    "- a\n- b\n",
    "'x'\n",
    "# only a comment\n",
    "é: ü\n日本: 語\n",
    "a: \u{a0}\n",
    "a: x\u{85}y\n",
    "a: x\u{2028}y\n",
    "a: x\u{7f}\n",
    "a: x\u{1}\n",
    "a: b: c\n",
    "a: 'x' y\n",
    "a: \"x\": y\n",
    "\"a\":1\n",
    "\"a\" : 1\n",
    "'a'\n: 1\n",
    "a: [\n",
    "a: ]\n",
    "a: }\n",
    "a: ,\n",
    "a: x,y]\n",
    "a: x [y]\n",
    "a: *\n",
    "a: x\n...\nb: 1\n",
    "a: x\n--- \n",
    "a:\n---\n",
    "a: |\n  x\n---\n",
    "a: |\n  ---\n  ...\n",
    "a: >\n  trailing  \n  spaces \n\n  x  \nb: |\n  kept  \n  too \n",
    "a: >\n  x\ty\n  z\nb: |\n  \tx\n",
    "a: '  x  '\nb: \"  y  \"\nc: \" \"\n",
    "a: [x, 'y', \"z\", 1, true, ~, 0x1F, 1e3, .inf, -]\n",
    "a: [ x , y ]\nb: {k: v, 'q': \"w\", n: 1}\nc: {k: v, k: w}\nd: {1: x}\ne: [a b, c]\n",
    "a: [x, [y]]\nb: [x,]\nc: [,]\nd: [x y: z]\ne: {k}\nf: {k:v}\ng: [a#b]\nh: [a #b]\n",
    "a: [http://x]\nb: {\"k\":v}\nc: [x] # c\nd: [x]#c\n",
    "a: [\"x\", 'y'\n  , z]\n",
];

#[test]
fn tricky_snippets_read_as_the_reference_reads_them() {
    let mut answered = 0;
    for (i, text) in SNIPPETS.iter().enumerate() {
        answered += usize::from(check(&format!("snippet {i} {text:?}"), text));
    }
    eprintln!("{answered} of {} snippets read by lines", SNIPPETS.len());
}

/// Long runs: comments, keys near the parser's lookahead limit, long values,
/// deep nesting.
#[test]
fn long_and_deep_documents_read_as_the_reference_reads_them() {
    let comments = |n: usize| (0..n).map(|i| format!("  # c{i}\n")).collect::<String>();
    // Between an indicator and its node the parser buffers 32 comments.
    for n in [20, 24, 25, 31, 32, 33, 100] {
        let c = comments(n);
        check(&format!("{n} after a key"), &format!("a:\n{c}  b: 1\n"));
        check(
            &format!("{n} after a key and one"),
            &format!("a: # c\n{c}  b: 1\n"),
        );
        check(&format!("{n} after a dash"), &format!("-\n{c}  - 1\n"));
        check(&format!("{n} after a null"), &format!("a:\n{c}b: 1\n"));
    }
    let c = comments(100);
    assert!(check(
        "comments after values",
        &format!("{c}a:\n  b: 1\n{c}  d: 2\n{c}c: [x]\n{c}e: |\n  x\n{c}")
    ));
    for n in [500, 1000, 1020, 1030, 2000] {
        let long = "k".repeat(n);
        check(&format!("key of {n}"), &format!("{long}: 1\n"));
        check(&format!("value of {n}"), &format!("a: {long}\n"));
        check(&format!("quoted value of {n}"), &format!("a: '{long}'\n"));
        check(&format!("entry of {n}"), &format!("- {long}\n"));
    }
    for depth in [10, 40, 47, 48, 49, 60, 70] {
        let mut block = String::new();
        for d in 0..depth {
            block.push_str(&format!("{}k{d}:\n", "  ".repeat(d)));
        }
        block.push_str(&format!("{}v: 1\n", "  ".repeat(depth)));
        check(&format!("block depth {depth}"), &block);
        let dashes = "- ".repeat(depth);
        check(&format!("sequence depth {depth}"), &format!("{dashes}x\n"));
    }
}

/// Characters the parser refuses or reads as line breaks, at every offset of
/// the words the quick scan reads: always left to the other readers.
#[test]
fn unprintable_characters_are_refused_wherever_they_are() {
    for bad in [
        "\u{0}", "\u{1}", "\u{1f}", "\r", "\u{7f}", "\u{85}", "\u{9f}", "\u{2028}", "\u{2029}",
        "\u{feff}", "\u{fffe}", "\u{ffff}",
    ] {
        for at in 0..24 {
            let text = format!("key: {}{bad}{}\n", "x".repeat(at), "y".repeat(24 - at));
            assert_eq!(read(&text, Numbers::Floats), None, "{text:?}");
            check(&text, &text);
        }
    }
    for good in ["\u{a0}", "é", "\u{2027}", "\u{fffd}", "😀", "~"] {
        for at in 0..24 {
            let text = format!("key: {}{good}{}\n", "x".repeat(at), "y".repeat(24 - at));
            assert!(check(&text, &text), "{text:?}");
        }
    }
}

/// Snippets and pieces of the benchmark values files with characters YAML
/// cares about inserted or deleted at random: whatever the damage, an answer
/// of the line reader is the reference's.
#[test]
fn mutated_documents_read_by_lines_read_as_the_reference_reads_them() {
    const NOISE: &[&str] = &[
        ":", ": ", "-", "- ", " ", "  ", "\n", "\n  ", "\n- ", "#", " #", "'", "\"", "|", "|-",
        ">", "[", "]", "{", "}", ",", "\\", "~", "0x", "1", ".", "yes", "\t", "---\n", "? ",
    ];
    let mut seeds: Vec<String> = SNIPPETS.iter().map(|s| s.to_string()).collect();
    for (_, text) in benchmark_values() {
        let lines: Vec<&str> = text.lines().collect();
        for start in (0..lines.len()).step_by(lines.len() / 8 + 1) {
            let end = (start + 40).min(lines.len());
            seeds.push(lines[start..end].join("\n") + "\n");
        }
    }
    let mut rng = skiff_testbed::Rng::new(0xb10c_5eed);
    let mut answered = 0;
    for round in 0..4000 {
        let mut text = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(2) {
            damage(&mut rng, &mut text, NOISE);
        }
        answered += usize::from(check(&format!("round {round} {text:?}"), &text));
    }
    eprintln!("{answered} of 4000 mutated documents read by lines");
    assert!(
        answered > 500,
        "only {answered} mutated documents read by lines"
    );
}
