//! The one-pass values reader against the reference reading (serde-saphyr
//! into `serde_json::Value`, then into template values): same value, bit for
//! bit, or the same error text, on every YAML file of the corpus and fixtures
//! and on a list of edge cases.

use std::path::Path;

use gotmpl::Value;

use super::{json, values};
use crate::yaml::{parse_values, parse_values_reference};

/// Equal trees, floats compared by their bits (`-0.0` is not `0.0` here).
/// Inserts one of `noise` at a random character boundary of `text`, or one
/// time in three deletes the character there.
pub(crate) fn damage(rng: &mut skiff_testbed::Rng, text: &mut String, noise: &[&str]) {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    if rng.below(3) == 0 && at < text.len() {
        let c = text[at..].chars().next().map_or(1, char::len_utf8);
        text.replace_range(at..at + c, "");
    } else {
        text.insert_str(at, noise[rng.below(noise.len())]);
    }
}

pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((kp, p), (kq, q))| kp == kq && same(p, q))
        }
        _ => a == b,
    }
}

/// Checks one document; true when the one-pass reader answered it itself.
fn check(name: &str, text: &str) -> bool {
    let reference = parse_values_reference(text).map_err(|e| e.to_string());
    let fast = values(text);
    if let Some(v) = &fast {
        // Whatever the reader answers, the reference reads as the same value.
        let expected =
            crate::yaml::parse_json_reference(text).map(|j| crate::yaml::from_json(&j, true));
        match expected {
            Ok(e) => assert!(same(v, &e), "{name}: one-pass {v:?}\nreference {e:?}"),
            Err(e) => panic!("{name}: one-pass read {v:?}, the reference refused: {e}"),
        }
    }
    if let Some(j) = json(text) {
        // Read as JSON data, the same data, integers and floats alike.
        assert_eq!(
            Ok(&j),
            crate::yaml::parse_json_reference(text).as_ref(),
            "{name} as JSON"
        );
    }
    // Documents of a stream included: the same value or the same error.
    assert_eq!(
        crate::yaml::parse_json(text),
        crate::yaml::parse_json_reference(text),
        "{name} as JSON, through parse_json"
    );
    let public = parse_values(text).map_err(|e| e.to_string());
    match (&public, &reference) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "{name}: {a:?}\nreference {b:?}"),
        (Err(a), Err(b)) => assert_eq!(a, b, "{name}"),
        _ => panic!("{name}: {public:?}\nreference {reference:?}"),
    }
    fast.is_some()
}

fn is_yaml(p: &Path) -> bool {
    p.extension()
        .is_some_and(|x| x == "yaml" || x == "yml" || x == "tpl")
}

#[test]
fn every_corpus_and_fixture_yaml_file_reads_as_the_reference_reads_it() {
    let root = skiff_testbed::repo_root();
    let mut files = Vec::new();
    for dir in [
        root.join("../shared/corpus"),
        root.join("crates/helm/tests"),
        root.join("tests/fixtures"),
        root.join("testbed"),
        root.join("charts"),
        root.join("examples"),
    ] {
        files.extend(
            skiff_testbed::files_under(&dir)
                .into_iter()
                .filter(|p| is_yaml(p)),
        );
    }
    files.sort();
    let (mut fast, mut values_files, mut values_fast) = (0, 0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f.display().to_string();
        let answered = check(&name, &text);
        fast += usize::from(answered);
        if name.ends_with("values.yaml") {
            values_files += 1;
            values_fast += usize::from(answered);
        }
    }
    eprintln!(
        "{} files, {fast} read in one pass; values.yaml: {values_fast} of {values_files}",
        files.len()
    );
    assert!(files.len() > 500, "the corpus is missing: {}", files.len());
    // The point of the reader: nearly every values file avoids the reference.
    assert!(
        values_fast * 20 >= values_files * 19,
        "{values_fast} of {values_files} values files read in one pass"
    );
}

const EDGE_CASES: &[&str] = &[
    "",
    "   \n\t\n",
    "# only a comment\n",
    "# a\n# b\n\n",
    "---\n",
    "---\n# c\n",
    "---\n...\n",
    "...\n",
    "a: 1\n---\nb: 2\n",
    "---\na: 1\n---\n",
    "a: 1\n...\n---\nb: [\n",
    "a: 1\n--- x\n",
    "a: 1\n---\nb: 2\n---\nc: 3\n",
    "a: 1\n# c\n---\nb: [\n",
    "a: |\n  x\n---\nb: 2\n",
    "a: |\n  x\n  ---\n  y\nb: 2\n---\nc: 1\n",
    "a: \"x\n---\ny\"\n",
    "---\n---\na: 1\n",
    "a: 1\n---foo\n",
    "a: 1\n--- \nb: 2\n",
    "a: 1\n...\n# c\n",
    "a: 1\n---\n",
    "x\n---\n- 1\n",
    "a: &x 1\n---\n*x\n",
    "a: &x 1\n---\n# c\n*x\n",
    "a: 1\n---\n*y\n",
    "%YAML 1.1\n---\na: 1\n",
    "%YAML 1.2\n---\na: yes\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "\u{feff}a: 1\n",
    "a: \u{feff}b\n",
    "x\n",
    "- a\n- b\n",
    "1\n",
    "null\n",
    "~\n",
    "[]\n",
    "{}\n",
    "a:\n",
    "a: ~\nb: null\nc: Null\nd: NULL\ne: nULL\nf: ''\ng: \"\"\nh: '~'\n",
    "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: Y\nh: N\ni: YES\nj: nO\nk: TrUe\nl: FALSE\nm: oN\nn: oFF\n",
    "a: 'yes'\nb: \"no\"\nc: |\n  yes\nd: >\n  on\n",
    "a: 0o17\nb: 017\nc: 0x1F\nd: 0X1F\ne: 0O17\nf: 0b101\ng: 0B101\nh: 0b_101\ni: 0x_1F\nj: 0_17\nk: 09\nl: 08.5\nm: 0\nn: -0\no: +0\np: 00\nq: -017\nr: +017\n",
    "a: 1_000\nb: 1__000\nc: _1000\nd: 1000_\ne: 1_000.5\nf: 0x1_F\ng: -1_0\nh: +1_0\n",
    "a: .inf\n",
    "a: -.Inf\n",
    "a: +.INF\n",
    "a: .nan\n",
    "a: .NaN\n",
    "a: -.nan\nb: +.NaN\nc: -.NAN\n",
    "a: inf\nb: -inf\nc: nan\nd: NaN\ne: infinity\nf: Infinity\ng: -Infinity\n",
    "a: 1e999\n",
    "a: -1e999\n",
    "a: 1e-999\nb: 1e308\nc: 1.7976931348623157e308\n",
    "a: 1.5\nb: -1.5\nc: .5\nd: 5.\ne: +.5\nf: 1e5\ng: 1E5\nh: 1e+5\ni: 1.0e-5\nj: -0.0\nk: 0.0\nl: 6.02e23\nm: 1.\n",
    "a: 9223372036854775807\nb: 9223372036854775808\nc: -9223372036854775808\nd: -9223372036854775809\ne: 18446744073709551615\nf: 18446744073709551616\ng: 340282366920938463463374607431768211456\nh: -170141183460469231731687303715884105729\n",
    "a: 0xFFFFFFFFFFFFFFFF\nb: 0x10000000000000000\nc: -0x8000000000000000\nd: -0x8000000000000001\ne: 0xffffffffffffffffffffffffffffffffff\n",
    "a: 12345678901234567891\nb: 9007199254740993\nc: -9007199254740993\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\nc: 2001-12-14 21:59:43.10 -5\n",
    "a: 1:20\nb: 190:20:30\nc: 1:20.5\n",
    "a: 0.1.2\nb: 1.2.3-beta\nc: v1\nd: 1-2\ne: '1'\nf: \"1.5\"\ng: 1 2\nh: 12h\ni: 1e\nj: e1\nk: 0x\nl: 0o\nm: 0b\nn: 0xg\no: '-'\np: -\nq: +\nr: .\ns: ._1\n",
    "a: +1\nb: +1.5\nc: -1\nd: --1\ne: +-1\nf: 1+1\n",
    "a: \"tab\\there\"\nb: 'it''s'\nc: \"\\u00e9\\x41\\U0001F600\"\nd: \"line\\nbreak\"\ne: \"  padded  \"\nf: '  padded  '\ng: \"\\N\\_\\L\\P\"\n",
    "a: |\n  keep\n  lines\nb: |-\n  strip\nc: |+\n  keep\n\nd: >\n  folded\n  text\n\n  para\ne: >-\n  x\nf: >+\n  y\n\ng: |2\n    indented\nh: |\n\n  leading blank\n",
    "a: |\n",
    "a: >\n\nb: 1\n",
    "a: multi\n  line\n  plain\nb: 'multi\n  line\n\n  quoted'\n",
    "a: {b: 1, c: [x, y], d: {}}\ne: [1, [2, [3]], {f: g}]\nh: []\ni: [a, b,]\nj: {k: }\nl: {? m}\n",
    "a: [yes, no, ~, 0x10, 1.5, '2', .inf]\n",
    "a: [yes, no, ~, 0x10, 1.5, '2']\n",
    "a: &x 1\nb: *x\n",
    "a: &x {b: 1, c: [2]}\nd: *x\ne: {f: *x}\n",
    "a: &x\n  - 1\n  - two\nb: *x\nc: &x 3\nd: *x\n",
    "a: *x\n",
    "a: &x [*x]\n",
    "a: &x {b: *x}\n",
    "&k key: v\nb: *k\n",
    "&k 1: v\nb: *k\n",
    "a: &x 1\n*x : 2\n",
    "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n",
    "d:\n  <<: [{a: 1}, {b: 2}]\n  c: 3\n",
    "d:\n  '<<': 1\n",
    "a: 1\na: 2\n",
    "a: 1\nb: 2\na: 3\n",
    "a: {x: 1}\na: [2]\n",
    "'a': 1\na: 2\n\"a\": 3\n",
    "1: a\n\"1\": b\n",
    "\"1\": a\n1: b\n",
    "0x1F: a\n31: b\n",
    "31: a\n0x1F: b\n",
    "017: a\n15: b\n",
    "1: a\n2: b\n1: c\n",
    "1: a\n2: b\n",
    "-1: a\n+1: b\n-0: c\n0: d\n",
    "true: a\nyes: b\nnull: c\n",
    "~: a\n",
    ": a\n",
    "? \n: a\n",
    "? [a, b]\n: c\n",
    "? {a: b}\n: c\n",
    "? |\n  block key\n: v\n",
    "1.5: a\n.inf: b\n0x10: c\n",
    "a: !!str 1\n",
    "a: !!int \"1\"\n",
    "a: !!float 1\n",
    "a: !!bool yes\n",
    "a: !!null ''\n",
    "a: !custom x\n",
    "a: ! 1\n",
    "a: !!binary aGVsbG8=\n",
    "!!map {a: 1}\n",
    "a: !!seq [1]\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "a: {b: 1\n",
    "a: 'unterminated\n",
    "a: \"unterminated\n",
    "a:\n  - 1\n - 2\n",
    "a:\n\tb: 1\n",
    "a: 1\n b: 2\n",
    "- a\nb: c\n",
    "a: @x\n",
    "a: `x\n",
    "a: |x\n  y\n",
    "a: *\n",
    "a: &\n",
    "key with spaces: v\n\"quoted: key\": v\n'single # key': v\n",
    "a: x # comment\nb: 'y' # c\n# between\nc: \"z\"\n",
    "a: x#not comment\nb: x #comment\n",
    "url: http://example.com:8080/path?x=1#frag\n",
    "a: :x\nb: x:\nc: -x\nd: ?x\ne: x:y\n",
    "nested:\n  deeper:\n    deepest:\n      - a: 1\n        b: [2, 3]\n      - c: {d: e}\n",
    "a:\n- 1\n- 2\nb:\n  - 3\n",
    "é: ü\n日本: 語\n\"\\u2028\": x\n",
    "a: \u{a0}\n",
    "\u{a0}\n",
    "a: \"\\0\\a\\b\\e\\f\\v\"\n",
    "a: 'x\r\n  y'\r\nb: 1\r\n",
    "a: 1\r\nb: |\r\n  x\r\n  y\r\n",
];

#[test]
fn edge_cases_read_as_the_reference_reads_them() {
    for (i, text) in EDGE_CASES.iter().enumerate() {
        check(&format!("case {i} {text:?}"), text);
    }
}

/// Many comment lines in a row inside a flow collection: the reference's
/// parser limits buffered comments; the reader must agree.
#[test]
fn long_comment_runs_and_deep_nesting_agree_with_the_reference() {
    let comments: String = (0..100).map(|i| format!("  # c{i}\n")).collect();
    check("comments in flow", &format!("a: [\n{comments}  1]\n"));
    check("comments in block", &format!("a:\n{comments}  b: 1\n"));
    check("comments before key", &format!("{comments}a: 1\n"));
    for depth in [10, 50, 55, 60, 63, 64, 65, 70, 300] {
        let open = "[".repeat(depth);
        let close = "]".repeat(depth);
        check(
            &format!("flow depth {depth}"),
            &format!("a: {open}1{close}\n"),
        );
        let mut block = String::new();
        for d in 0..depth {
            block.push_str(&format!("{}k{d}:\n", "  ".repeat(d)));
        }
        block.push_str(&format!("{}v: 1\n", "  ".repeat(depth)));
        check(&format!("block depth {depth}"), &block);
    }
    let many: String = (0..300)
        .map(|i| format!("a{i}: &x{i} {i}\nb{i}: *x{i}\n"))
        .collect();
    check("many aliases", &many);
    let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n";
    check("small alias tree", bomb);
}

#[test]
fn chart_documents_read_as_json_keep_integers_and_floats_apart() {
    let text = "apiVersion: v2\nname: c\nversion: 1.2.3\nappVersion: 2.0\nkubeVersion: '>=1.20'\nannotations:\n  a: 10\n  b: -3\n  c: 0\n  d: 18446744073709551615\n  e: 1.50\n  f: true\n  g: ~\ndependencies:\n- name: x\n  version: 1.0.0\n  tags: [t1, t2]\n  import-values: [{child: a, parent: b}]\n";
    let j = json(text).expect("read in one pass");
    assert_eq!(Ok(&j), crate::yaml::parse_json_reference(text).as_ref());
    assert!(j["annotations"]["a"].is_u64() && j["annotations"]["b"].is_i64());
    assert!(j["appVersion"].is_f64() && j["annotations"]["e"].is_f64());
    // Spellings whose kind takes more than a glance are the reference's.
    for other in [
        "a: 0x1F",
        "a: 017",
        "a: 1_000",
        "a: 1e3",
        "a: +1",
        "a: .5",
        "a: 99999999999999999999",
    ] {
        assert_eq!(json(other), None, "{other}");
        check(other, other);
    }
    // Map order: serde_json's map must be the sorted one (no
    // `preserve_order`), as the reader builds maps by key.
    let m: serde_json::Map<String, serde_json::Value> =
        [("b".to_string(), 1.into()), ("a".to_string(), 2.into())]
            .into_iter()
            .collect();
    assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn typical_values_are_read_in_one_pass() {
    let text = "image:\n  repository: nginx\n  tag: \"1.25\"\n  pullPolicy: IfNotPresent\nreplicas: 3\nenabled: true\nresources: {}\nlist: [a, b]\nanchored: &x {a: 1}\ncopy: *x\n";
    assert!(check("typical", text), "the typical values file fell back");
}

/// Edge cases and the start of real values files, with characters YAML
/// cares about inserted, deleted or swapped at random places: whatever the
/// damage, both readings agree (usually on the error text).
#[test]
fn mutated_documents_read_as_the_reference_reads_them() {
    const NOISE: &[&str] = &[
        ":", ": ", "-", "- ", "&a ", "*a", "<<: ", "'", "\"", "\n", "\n  ", " ", "\t", "#", "[",
        "]", "{", "}", ",", "?", "|", ">", "!", "~", "0x", "0", "1", ".", "_", "yes", "---\n",
        "...\n", "\\",
    ];
    let root = skiff_testbed::repo_root().join("../shared/corpus/charts");
    let mut seeds: Vec<String> = EDGE_CASES.iter().map(|s| s.to_string()).collect();
    for chart in [
        "podinfo",
        "bitnami-redis",
        "argo-cd",
        "kube-prometheus-stack",
    ] {
        if let Ok(text) = std::fs::read_to_string(root.join(chart).join("values.yaml")) {
            let mut end = text.len().min(1500);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            seeds.push(text[..end].to_string());
        }
    }
    let mut rng = skiff_testbed::Rng::new(0x5eed_0ea1);
    let mut fast = 0;
    for round in 0..3000 {
        let mut text = seeds[round % seeds.len()].clone();
        for _ in 0..1 + rng.below(3) {
            damage(&mut rng, &mut text, NOISE);
        }
        fast += usize::from(check(&format!("round {round} {text:?}"), &text));
    }
    // Most mutations break the document; some of them must still be read here.
    assert!(fast > 300, "only {fast} mutated documents read in one pass");
}

/// Streams of several documents (what `fromYaml` gets from a template that
/// renders more than one), damaged at random: `parse_json`, which reads the
/// first document itself when the reader shows more follow, agrees with the
/// reference (which learns it from serde-saphyr's error) on value or error.
#[test]
fn mutated_streams_read_as_the_reference_reads_them() {
    const NOISE: &[&str] = &[
        "---\n",
        "--- ",
        "...\n",
        "\n",
        ":",
        "- ",
        "'",
        "\"",
        "*a",
        "&a ",
        "#",
        "[",
        "|\n",
        " ",
        "\t",
        "%YAML 1.2\n",
    ];
    const SEEDS: &[&str] = &[
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  start.sh: |\n    #!/bin/bash\n    exec redis\n---\napiVersion: v1\nkind: Secret\n",
        "a: 1\n---\nb: 2\n---\nc: 3\n",
        "# head\na: &x {k: v}\nb: *x\n...\n---\n- 1\n- 2\n",
        "---\nlist:\n  - a\n  - b: c\n---\n\"q\": 'r'\n",
    ];
    let mut rng = skiff_testbed::Rng::new(0x5eed_d0c5);
    let (mut streams, mut by_lines) = (0, 0);
    for round in 0..2000 {
        let mut text = SEEDS[round % SEEDS.len()].to_string();
        for _ in 0..rng.below(3) {
            damage(&mut rng, &mut text, NOISE);
        }
        if let super::Document::First(_) = super::json_document(&text) {
            streams += 1;
            // The line reader's share: the first document as the reference cuts it.
            let cut = crate::yaml::first_document(&text);
            if cut
                .and_then(|f| crate::yaml_block::read(f, super::Numbers::Exact))
                .is_some()
            {
                by_lines += 1;
            }
        }
        assert_eq!(
            crate::yaml::parse_json(&text),
            crate::yaml::parse_json_reference(&text),
            "round {round} {text:?}"
        );
    }
    // Most streams stay streams: their first document must be read here,
    // mostly by the line reader.
    assert!(streams > 500, "only {streams} streams read in one pass");
    assert!(
        by_lines > 300,
        "only {by_lines} streams read by the line reader"
    );
}
