//! The scanner against the full parse: whenever it says valid, the full parse
//! must accept the document and read the same kind and hook.

use std::path::Path;

use skiff_testbed::{HelmCase, Rng, helm_cases};

use super::{Scan, scan};
use crate::output::{PrintOptions, full_head, split_documents};

/// Checks one document; returns whether the scanner took it.
fn agrees(doc: &str) -> bool {
    match scan(doc) {
        Scan::Unsure => false,
        Scan::Valid { kind, hook } => {
            match full_head(doc) {
                Ok((k, h)) => assert!(
                    k == kind && h.as_deref() == hook,
                    "scanner read kind {kind:?} hook {hook:?}, full parse {k:?} {h:?}:\n{doc}"
                ),
                Err(e) => {
                    panic!("scanner accepted a document the full parse rejects ({e}):\n{doc}")
                }
            }
            true
        }
    }
}

const MANIFEST: &str = "# Source: chart/templates/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: \"release-migrate\"
  labels:
    app.kubernetes.io/name: app   # trailing comment
    helm.sh/chart: app-1.0.0
  annotations:
    \"helm.sh/hook\": pre-install,pre-upgrade
    helm.sh/hook-weight: \"-5\"
    note: |
      a block annotation
spec:
  backoffLimit: 3
  template:
    metadata:
      annotations: {}
    spec:
      containers:
        - name: migrate
          image: 'repo/app:1.0'
          args:
          - --flag=1
          - -v
          command: [\"sh\"]
          env:
            - name: A
              value: a plain value
                continued here
            - name: B
              value: 'single quoted
                on two lines'
            - name: C
              value: \"double \\\"quoted\\\" \\u00e9
                \\
                escaped\"
          script: |-
            #!/bin/sh
            echo \"a: b\" # not a comment

            exit 0
          folded: >2
              indented more
            than the indicator
      restartPolicy: Never
      tolerations: []
";

#[test]
fn a_typical_manifest_takes_the_fast_path() {
    assert_eq!(
        scan(MANIFEST),
        Scan::Valid {
            kind: "Job",
            hook: Some("pre-install,pre-upgrade")
        }
    );
    assert!(agrees(MANIFEST));
}

#[test]
fn head_fields_read_like_the_full_parse() {
    let cases = [
        ("kind: ConfigMap\n", "ConfigMap", None),
        ("kind: 'ConfigMap'\n", "ConfigMap", None),
        ("kind: \"\"\n", "", None),
        ("apiVersion: v1\n", "", None),
        ("# only a comment\n", "", None),
        (
            "metadata:\n  annotations:\n    helm.sh/hook: test\n",
            "",
            Some("test"),
        ),
        (
            "metadata:\n  annotations:\n    helm.sh/hook: 'test-success'\n",
            "",
            Some("test-success"),
        ),
        ("metadata: {}\nkind: Pod\n", "Pod", None),
        ("metadata:\n  annotations:\nkind: Pod\n", "Pod", None),
        ("metadata:\n  annotations: {}\nkind: Pod\n", "Pod", None),
        (
            "spec:\n  metadata:\n    annotations:\n      helm.sh/hook: x\n",
            "",
            None,
        ),
    ];
    for (doc, kind, hook) in cases {
        assert_eq!(scan(doc), Scan::Valid { kind, hook }, "{doc}");
        assert!(agrees(doc));
    }
}

/// Documents at the edges of the subset: whatever the scanner says, it must
/// agree with the full parse; the invalid ones must not be taken.
const TRICKY: &[&str] = &[
    "a: 1\n  b: 2\n",
    "a:\n  b: 1\n c: 2\n",
    "a: |\n  x\n b: 1\n",
    "a: |\n    x\n  b: 1\n",
    "a: |\n  x\n\n  y\nb: 1\n",
    "a: |2\n    x\n  y\nb: 1\n",
    "a: |1\n  x\nb: 1\n",
    "a: |\n   \n  x\nb: 1\n",
    "a: |\n\n\nb: 1\n",
    "a: |\n    \nb: 1\n",
    "a: >-\n  folded\n  text\n",
    "a: |+\n  kept\n\n",
    "a: |-2\n   x\n",
    "a: |0\n  x\n",
    "a: |x\n  x\n",
    "a: | # comment\n  x\n",
    "a: |#no space\n  x\n",
    "key: value: x\n",
    "key: value:\n",
    "key: 'unclosed\n",
    "key: \"unclosed\n",
    "key: 'closed' trailing\n",
    "key: 'closed'#comment\n",
    "key: 'closed' # comment\n",
    "key: \"bad \\q escape\"\n",
    "key: \"bad \\x4 escape\"\n",
    "key: \"surrogate \\ud800\"\n",
    "key: \"ok \\x41 \\u00e9 \\U0001F600\"\n",
    "key: 'it''s'\n",
    "kind: 'it''s'\n",
    "kind: \"a\\\"b\"\n",
    "- - x\n",
    "a:\n- - x\n",
    "a:\n  - - x\n",
    "a:\n- b\n- c\nd: 1\n",
    "a:\n  - b\n - c\n",
    "a:\n  -b\n",
    "a:\n  - b: 1\n    c: 2\n   d: 3\n",
    "a:\n  - b: 1\n     c: 2\n",
    "a:\n  -\n    b: 1\n",
    "a:\n  -\n  b: 1\n",
    "a:\n  - b:\n    - c\n    d: 1\n",
    "a:\n-\nb: 1\n",
    "a: 1\na: 2\n",
    "a:\n  b: 1\n  b: 2\n",
    "a:\n  - b: 1\n    b: 2\n",
    "a:\n  - b: 1\n  - b: 2\n",
    "a:\n  b: 1\nc:\n  b: 2\n",
    "kind: A\nkind: B\n",
    "a:\n  \"b\": 1\n  b: 2\n",
    "a:\n  1: x\n  01: y\n",
    "a:\n  true: x\n  yes: y\n",
    "a:\n  1: x\n  b: y\n",
    "a: &anchor 1\nb: *anchor\n",
    "a: !tag x\n",
    "? a\n: b\n",
    "%YAML 1.2\n---\na: 1\n",
    "a: 1\n...\n",
    "a: 1\n--- \nb: 2\n",
    "\u{feff}a: 1\n",
    "a: 1\r\nb: 2\r\n",
    "a:\t1\n",
    "a:\n\tb: 1\n",
    "a:\n  b: |\n\t x\n",
    "a: |\n  \tx\n",
    "a: x # comment\n  y\n",
    "a: x\n# comment\n  y\n",
    "a: x\n\n  y\n",
    "a: x\n  - y\n",
    "a: x\n  #y\n",
    "a: x\n  y: z\n",
    "a: 'x\ny'\n",
    "a: 'x\n  y'\n",
    "a: \"x\n  y\"\n",
    "a:\n  - 'x\n  y'\n",
    "a:\n  - 'x\n   y'\n",
    "- a\n",
    "just a scalar\n",
    "a: {b: 1}\n",
    "a: [b, c]\n",
    "a: {}\n",
    "a: [] # empty\n",
    "a: {}x\n",
    "a: { }\n",
    "a: [ ]\n",
    "a: [ a, 'b', \"c\" ]\n",
    "a: [a,,b]\n",
    "a: [a,]\n",
    "a: [a b]\n",
    "a: [.inf]\n",
    "a: [a, {b: c}]\n",
    "a: [a] x\n",
    "a:\n  {}\n",
    "a:\n  [ ]\n",
    "a:\n  { }\nb: 1\n",
    "a:\n  {}\n  b: 1\n",
    "a: x\n  \"y\"\n",
    "a: x\n  'y\n",
    "a: x\n  \"y: z\"\n",
    "a: x\n  'y' # c\n",
    "a: x\n  --y\n",
    "a: x\n  `y`\n",
    "a: `x`\n",
    "a: 12345678\u{7f}9\n",
    "a: 1234567\u{1}89\n",
    "a: 123456\r789\n",
    "abcdefgh: 12345678\u{85}\n",
    "abcdefgh: 1234567\u{feff}\n",
    "a: x\n  - y\n",
    "a: x\n  -\n",
    "a:\n  - x\n    -y\n",
    "a:\n  - x\n    - y\n",
    "a: [ ]\n",
    "metadata: x\n",
    "metadata: []\n",
    "metadata:\n  - x\n",
    "metadata:\n- x\n",
    "metadata:\n",
    "metadata: null\n",
    "metadata:\n  annotations:\n    helm.sh/hook:\n",
    "metadata:\n  annotations:\n    helm.sh/hook: 1\n",
    "metadata:\n  annotations:\n    helm.sh/hook: true\n",
    "metadata:\n  annotations:\n    helm.sh/hook: [a]\n",
    "metadata:\n  annotations:\n    helm.sh/hook:\n      a: b\n",
    "metadata:\n  annotations:\n    helm.sh/hook: pre-install\n      post-install\n",
    "metadata:\n  annotations:\n    helm.sh/hook: |\n      pre-install\n",
    "metadata:\n  annotations:\n    a: 1\n    b:\n      - x\n",
    "metadata:\n  annotations:\n    1: x\n",
    "metadata:\n  annotations:\n  - x\n",
    "kind: 1\n",
    "kind: true\n",
    "kind: yes\n",
    "kind: null\n",
    "kind: ~\n",
    "kind:\n",
    "kind:\n  a: b\n",
    "kind: [a]\n",
    "kind: Pod\n  more\n",
    "kind: |\n  Pod\n",
    "kind: .nan\n",
    "a: .inf\n",
    "a: -.Inf\n",
    "a: 1e999\n",
    "a: 1e10\n",
    "a: 123456789012345678901234567890\n",
    "a: 0x1F\n",
    "a: 09\n",
    "a: inf\n",
    "a: nan\n",
    "a: ~\n",
    "a: -\n",
    "a: - x\n",
    "a: --x\n",
    "a: -1\n",
    "a: :x\n",
    "a: x:y\n",
    "a: http://x\n",
    "a: x #y\n",
    "a: x#y\n",
    "a: ?x\n",
    "a: ,x\n",
    "a: @x\n",
    "a: `x\n",
    "a: %x\n",
    "a: |\n  x\n# comment\n  y\n",
    "a: |\n  x\n # comment\nb: 1\n",
    "a:\n  # comment\n  b: 1\n",
    "a:   \n  b: 1   \n",
    "a: 1   \n",
    "   \na: 1\n",
    "  a: 1\n  b: 2\n",
    "a: \"x\" \n",
    "'a': 1\n",
    "\"a\": 1\n",
    "'a':1\n",
    "a b: 1\n",
    "a:b: 1\n",
    "<<: {a: 1}\n",
    "<<:\n  a: 1\n",
    "a: \"\\\n  x\"\n",
    "a: \"x\\\n\"\n",
    "a: 'x\n\n  y'\n",
    "a: 'x\n---\n  y'\n",
    "a: \"\u{1}\"\n",
    "a: \u{7f}\n",
    "a: \u{85}\n",
    "a: \u{2028}\n",
    "a: \u{e9}t\u{e9}\n",
    "\u{e9}: 1\n",
];

/// Prints where a document leaves the subset: the first line after which
/// the prefix is refused.
fn explain(name: &str, doc: &str) {
    let mut s = super::Scanner::new(doc);
    let bytes = doc.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = doc[start..].find('\n').map_or(doc.len(), |p| start + p);
        if s.line(start, end).is_none() {
            let from = doc[..start]
                .rmatch_indices('\n')
                .nth(2)
                .map_or(0, |(i, _)| i + 1);
            eprintln!("{name}: unsure at\n{}<<<\n", &doc[from..end]);
            return;
        }
        start = end + 1;
    }
    eprintln!("{name}: unsure at the end\n");
}

#[test]
fn tricky_documents_agree_with_the_full_parse() {
    for doc in TRICKY {
        agrees(doc);
    }
}

/// Every single-point edit of a few small documents: the scanner must never
/// accept what the full parse refuses.
#[test]
fn mutations_of_small_documents_agree() {
    let mut fast = 0;
    let mut total = 0;
    let bases = [
        MANIFEST,
        "kind: Secret\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-install\ndata:\n  a: 'b'\n  c: |\n    d\n  e:\n  - f\n  - g: h\n    i: \"j\"\n",
        "a:\n  b:\n    - c\n    -\n      d: e\n  f: g\n    h\n  i: >-\n    j\n\n    k\nl: {}\n",
    ];
    for base in bases {
        for m in mutations(base) {
            total += 1;
            if agrees(&m) {
                fast += 1;
            }
        }
    }
    eprintln!("mutations: {fast} of {total} took the fast path");
}

/// Single edits: each insertion of a YAML-significant character at each
/// byte, and each line deleted, duplicated, indented and dedented.
fn mutations(base: &str) -> Vec<String> {
    const INSERTS: &[&str] = &[
        ":", "#", "\"", "'", "-", "{", "[", "\t", " ", "\n", "|", "- ", ": ", " #", "\\", "&", "*",
        "!", "?", "}", "]", ",",
    ];
    let mut out = Vec::new();
    for (i, _) in base.char_indices() {
        for ins in INSERTS {
            let mut s = String::with_capacity(base.len() + 2);
            s.push_str(&base[..i]);
            s.push_str(ins);
            s.push_str(&base[i..]);
            out.push(s);
        }
        let mut s = base.to_string();
        s.remove(i);
        out.push(s);
    }
    let lines: Vec<&str> = base.split_inclusive('\n').collect();
    for i in 0..lines.len() {
        let with = |f: &dyn Fn(&str) -> String| -> String {
            lines
                .iter()
                .enumerate()
                .map(|(j, l)| if j == i { f(l) } else { l.to_string() })
                .collect()
        };
        out.push(with(&|_| String::new()));
        out.push(with(&|l| format!("{l}{l}")));
        out.push(with(&|l| format!(" {l}")));
        out.push(with(&|l| format!("  {l}")));
        out.push(with(&|l| l.strip_prefix(' ').unwrap_or(l).to_string()));
        out.push(with(&|l| l.strip_prefix("  ").unwrap_or(l).to_string()));
    }
    out
}

/// A random edit of a real document, at a line start or a random byte.
fn random_mutation(rng: &mut Rng, doc: &str) -> String {
    let lines: Vec<&str> = doc.split_inclusive('\n').collect();
    let i = rng.below(lines.len().max(1));
    let mut out = String::with_capacity(doc.len() + 4);
    let op = rng.below(10);
    for (j, l) in lines.iter().enumerate() {
        if j != i {
            out.push_str(l);
            continue;
        }
        match op {
            0 => {}
            1 => {
                out.push_str(l);
                out.push_str(l);
            }
            2 => {
                out.push_str("  ");
                out.push_str(l);
            }
            3 => out.push_str(l.strip_prefix("  ").unwrap_or(l)),
            4 => {
                out.push(' ');
                out.push_str(l);
            }
            _ => {
                const INSERTS: &[&str] = &[
                    ":", "#", "\"", "'", "-", "{", "[", "\t", ": ", " #", "- ", "|", "\\",
                ];
                let ins = INSERTS[rng.below(INSERTS.len())];
                let mut at = rng.below(l.len() + 1);
                while !l.is_char_boundary(at) {
                    at -= 1;
                }
                out.push_str(&l[..at]);
                out.push_str(ins);
                out.push_str(&l[at..]);
            }
        }
    }
    out
}

/// The documents a case renders (CRDs and hooks included), or nothing when
/// the chart is refused.
fn rendered_documents(chart: &Path, values: Option<&Path>) -> Vec<String> {
    let Ok(c) = crate::load(chart) else {
        return Vec::new();
    };
    let mut v = crate::strvals::empty();
    if let Some(f) = values {
        let Ok(text) = std::fs::read_to_string(f) else {
            return Vec::new();
        };
        let Ok(parsed) = crate::parse_values(&text) else {
            return Vec::new();
        };
        v = crate::merge_values(v, parsed);
    }
    let caps = crate::Capabilities {
        kube_version: crate::Capabilities::parse_kube_version("1.33.0").expect("kube version"),
        api_versions: Vec::new(),
    };
    let Ok(r) = crate::render(&c, &v, &crate::ReleaseOptions::default(), &caps) else {
        return Vec::new();
    };
    let print = PrintOptions {
        include_crds: true,
        ..PrintOptions::default()
    };
    let Ok(out) = r.to_helm_output(&print) else {
        return Vec::new();
    };
    split_documents(&out)
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn corpus_documents_and_their_mutations_agree() {
    // DOC_SCAN_SEED runs other random edits (a longer search, by hand).
    let seed = std::env::var("DOC_SCAN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d0c5_ca11_ab1e_u64);
    let mut rng = Rng::new(seed);
    let mut mutated_fast = 0;
    let mut report = Vec::new();
    let mut mutated = 0;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for HelmCase {
        name,
        chart,
        values,
    } in helm_cases(&fixtures)
    {
        let docs = rendered_documents(&chart, values.as_deref());
        let fast = docs.iter().filter(|d| agrees(d)).count();
        if std::env::var_os("DOC_SCAN_EXPLAIN").is_some() {
            for d in docs.iter().filter(|d| scan(d) == Scan::Unsure) {
                explain(&name, d);
            }
        }
        report.push(format!("{name}: {fast}/{} fast", docs.len()));
        if values.is_none() && matches!(name.as_str(), "argo-cd" | "bitnami-redis" | "podinfo") {
            assert!(
                fast * 100 >= docs.len() * 95,
                "{name}: only {fast} of {} documents took the fast path",
                docs.len()
            );
        }
        // Random edits of every document, more for the small ones.
        for d in &docs {
            let n = if d.len() < 4096 { 8 } else { 3 };
            for _ in 0..n {
                let once = random_mutation(&mut rng, d);
                // Two edits: one may mask or complete the damage of the other.
                let twice = random_mutation(&mut rng, &once);
                mutated_fast += usize::from(agrees(&once)) + usize::from(agrees(&twice));
                mutated += 2;
            }
        }
    }
    eprintln!(
        "{}\n{mutated} mutated documents checked, {mutated_fast} took the fast path",
        report.join("\n")
    );
}

#[test]
fn bytes_the_reader_treats_specially_are_refused_at_any_offset() {
    let specials = [
        "\u{1}", "\r", "\u{7f}", "\u{85}", "\u{feff}", "\u{2028}", "\u{fffe}",
    ];
    for special in specials {
        for at in 0..20 {
            let mut doc = String::from("key: ");
            doc.push_str(&"x".repeat(at));
            doc.push_str(special);
            doc.push_str("yyyyyyyyyyyyyyyy\n");
            assert_eq!(scan(&doc), Scan::Unsure, "{doc:?}");
        }
    }
    let fine = format!("key: {}\u{e9}{}\n", "x".repeat(13), "y".repeat(9));
    assert_eq!(
        scan(&fine),
        Scan::Valid {
            kind: "",
            hook: None
        }
    );
}
