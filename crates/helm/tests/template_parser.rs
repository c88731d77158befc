//! Differential test of our template parser (`skiff_helm::template`) against
//! gotmpl's: for every template file of the corpus charts (subcharts too), the
//! `helm create` chart, this crate's fixture charts, hand-written edge cases
//! and random mutations of corpus templates, both must give the same tree
//! (`{:?}` of every node and position) or both must refuse.

use std::path::Path;
use std::process::Command;

use skiff_helm::template::{parse_ours, parse_with_gotmpl};
use skiff_testbed::Rng;

/// How the two parsers agreed on one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agreed {
    SameTree,
    BothRefused,
}

/// Whether the two parsers agree on `src`, or how they disagree.
fn compare(src: &str) -> Result<Agreed, String> {
    let ours = parse_ours(src).map(|t| format!("{t:?}"));
    let reference = std::panic::catch_unwind(|| parse_with_gotmpl(None, src));
    let reference = match reference {
        Ok(r) => r.map(|t| format!("{t:?}")),
        // gotmpl panicking is gotmpl's business; we must not accept it.
        Err(_) => {
            return match ours {
                None => Ok(Agreed::BothRefused),
                Some(_) => Err("gotmpl panicked, ours accepted".into()),
            };
        }
    };
    match (ours, reference) {
        (None, Err(_)) => Ok(Agreed::BothRefused),
        (Some(a), Ok(b)) if a == b => Ok(Agreed::SameTree),
        (Some(a), Ok(b)) => Err(format!(
            "trees differ:\n ours:   {}\n gotmpl: {}",
            around(&a, &b),
            around(&b, &a)
        )),
        (Some(_), Err(e)) => Err(format!("ours accepted, gotmpl refused: {e}")),
        (None, Ok(_)) => Err("ours refused, gotmpl accepted".into()),
    }
}

/// The part of `a` where it starts to differ from `b`.
fn around(a: &str, b: &str) -> String {
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut from = at.saturating_sub(200);
    while !a.is_char_boundary(from) {
        from -= 1;
    }
    a[from..].chars().take(400).collect()
}

/// Every file inside a `templates` folder below `root` that is text.
fn templates(root: &Path) -> Vec<(String, String)> {
    skiff_testbed::files_under(root)
        .into_iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "templates"))
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

fn corpus_templates() -> Vec<(String, String)> {
    let root = skiff_testbed::repo_root();
    let mut all = templates(&root.join("../shared/corpus/charts"));
    assert!(
        all.len() > 500,
        "the corpus is at ../shared/corpus ({} templates)",
        all.len()
    );
    all.extend(templates(&root.join("charts/skiff")));
    all.extend(templates(&root.join("crates/helm/tests")));
    all
}

/// Checks every case; returns how many both parsers refused.
fn check_all(cases: &[(String, String)]) -> usize {
    let mut refused = 0;
    let mut failures = Vec::new();
    for (name, src) in cases {
        match compare(src) {
            Ok(Agreed::SameTree) => {}
            Ok(Agreed::BothRefused) => refused += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    refused
}

#[test]
fn corpus_templates_parse_like_gotmpl() {
    assert_eq!(
        check_all(&corpus_templates()),
        0,
        "corpus templates are valid"
    );
}

#[test]
fn the_helm_create_chart_parses_like_gotmpl() {
    let dir = std::env::temp_dir().join(format!("skiff-tmplparse-create-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let chart = dir.join("mychart");
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(["create", &chart.to_string_lossy()])
        .output()
        .expect("helm runs");
    assert!(
        out.status.success(),
        "helm create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = templates(&chart);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        cases.len() >= 5,
        "helm create made {} templates",
        cases.len()
    );
    assert_eq!(check_all(&cases), 0, "helm create templates are valid");
}

/// Inputs chosen for the corners of the grammar and of gotmpl's leniency;
/// many are errors, which both parsers must refuse.
const SNIPPETS: &[&str] = &[
    "",
    "plain text\nwith lines\n",
    "{{.}}",
    "{{ . }}",
    "a{{.a.b.c}}b",
    "{{ .a .b | f $x.y (g .).h }}",
    "{{$}}{{$.a}}{{$x.a.b}}",
    "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
    "{{ range $i, $v := .l }}{{ $i }}{{ end }}",
    "{{ range $i, $v = .l }}{{ end }}",
    "{{ range $i, $v, $w := .l }}{{ end }}",
    "{{ $a, $b := 1 }}",
    "{{ $a, .b }}",
    "{{ $a, }}",
    "{{ $a, := 1 }}",
    "{{ range $v := .l }}{{ break }}{{ continue }}{{ end }}",
    "{{if .a}}A{{else if .b}}B{{else with .c}}C{{else}}D{{end}}",
    "{{if .a}}A{{else if .b}}B{{end}}tail",
    "{{with .a}}A{{else with .b}}B{{end}}",
    "{{if .a}}A{{else range .b}}B{{end}}",
    "{{if .a}}unclosed",
    "{{range .a}}{{else}}",
    "{{end}}after end",
    "x{{else}}y",
    "{{define \"a\"}}A{{define \"b\"}}B{{end}}{{end}}{{template \"a\" .}}",
    "{{block \"b\" .x}}body{{end}}",
    "{{block \"b\"}}{{define \"in\"}}i{{end}}body{{end}}",
    "{{define a}}{{end}}",
    "{{template .x}}",
    "{{template \"a\" | f}}",
    "  {{- .x -}}  \n  y",
    "a  {{- /* c */ -}}  b",
    "a  {{- /* c */}}  b",
    "a  {{/* c */ -}}  b",
    "a{{/* multi\nline\ncomment */}}b",
    "a {{ /* spaced */ }} b",
    "{{/* unclosed",
    "{{/* c */ x}}",
    "{{/* c */-}}",
    "{{-/* c */}}",
    "{{- 3}}{{-3}}{{ -3 }}",
    "{{ .x -}}\t\r\n y",
    "{{ .x-}}",
    "{{ 1 2.5 -3 +4 .5 -.5 1e3 1E-3 1_000 0x1F -0x1f 0X_1 0o17 0O17 0b101 0B1 017 0_7 08 09.5 0 00 0. }}",
    "{{ 9223372036854775807 9223372036854775808 18446744073709551615 }}",
    "{{ 18446744073709551616 }}",
    "{{ -9223372036854775808 }}",
    "{{ 0xFFFFFFFFFFFFFFFF 0x1p4 0x1.8p1 -0x.8p-1 0x1.P2 }}",
    "{{ +0b1 }}",
    "{{ +0o7 }}",
    "{{ 0x }}",
    "{{ 0b }}",
    "{{ 1e }}",
    "{{ 1.2.3 }}",
    "{{ 1x }}",
    "{{ 'a' '\\n' '\\x41' '\\u00e9' '\\U0001F600' '\\101' '\\'' '\"' 'é' }}",
    "{{ '\\400' }}",
    "{{ 'ab' }}",
    "{{ '' }}",
    "{{ ''' }}",
    "{{ \"a\\tb\\n\\\"q\\\"\\x41\\u00e9\\U0001F600\\101\\q\\\\\" }}",
    "{{ \"\\0\" }}",
    "{{ \"\\xZZ\\x+1\\u12\" }}",
    "{{ \"unterminated }}",
    "{{ \"multi\nline\" }}",
    "{{ `raw\n\\n string` }}",
    "{{ `unterminated }}",
    "{{ true false nil }}",
    "{{ (1) (.a).b (f .x).y.z ((.a)) }}",
    "{{ (.a }}",
    "{{ .a) }}",
    "{{ () }}",
    "{{ | }}",
    "{{ f | }}",
    "{{}}",
    "{{ }}",
    "{{ : }}",
    "{{ := }}",
    "{{ .a := 1 }}",
    "{{ @ }}",
    "{{ .é .ñame $é éé }}",
    "{{ . .. .a. }}",
    "{{ f.a.b }}",
    "{{ $x .a }}",
    "{{ end }}",
    "{{ if }}{{ end }}",
    "{{ .a end }}",
    "{{ else }}",
    "text {{ unclosed",
    "{{ .a }",
    "{{{{.a}}}}",
    "}}{{.a}}}}",
    "{ {{.a}} }",
    "a\n{{- \n.a\n -}}\nb\n{{ .c }}\n",
    "\u{a0}{{- .x -}}\u{a0}x\u{2003}",
    "{{\u{a0}.x\u{a0}}}",
    "{{ .x\u{a0}-}} y",
    "{{ if .a }}{{ if .b }}{{ end }}",
    "{{- /* a */ -}}{{- /* b */ -}}",
    "{{ template \"x\" }}{{ template \"x\" . }}{{ template `y` .a | f }}",
    "{{ define \"x\" }}{{ end }}{{ define \"x\" }}again{{ end }}",
    "{{ $x := (list 1 2) | first }}{{ $x }}",
    "{{ include \"a\" . | nindent 4 }}",
    "{{ tpl (toYaml .Values.x) . }}",
    "{{ printf \"%s-%d\" .a 3 | quote }}",
    "{{- with .Values.x }}\n  {{- toYaml . | nindent 2 }}\n{{- end }}",
    "{{ range .a }}{{ range .b }}{{ . }}{{ end }}{{ end }}",
];

#[test]
fn hand_written_snippets_parse_like_gotmpl() {
    let cases: Vec<(String, String)> = SNIPPETS
        .iter()
        .map(|s| (format!("{s:?}"), (*s).to_string()))
        .collect();
    let refused = check_all(&cases);
    // Both kinds must be well represented, or the comparison proves little.
    assert!(
        refused > 20 && refused < cases.len() - 40,
        "{refused} of {} refused",
        cases.len()
    );
}

#[test]
fn deep_nesting_parses_like_gotmpl() {
    let cases: Vec<(String, String)> = [50, 99, 100, 101, 150]
        .iter()
        .flat_map(|&n| {
            [
                (
                    "if",
                    format!("{}x{}", "{{if .a}}".repeat(n), "{{end}}".repeat(n)),
                ),
                (
                    "parens",
                    format!("{{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n)),
                ),
            ]
            .map(|(k, s)| (format!("{k} x{n}"), s))
        })
        .collect();
    let refused = check_all(&cases);
    // The template itself is the first level: 100 nested ones are too many.
    assert_eq!(refused, 6, "from 100 nested levels on gotmpl refuses");
}

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "{{- ",
    " -}}",
    "-}}",
    "/*",
    "*/",
    "\"",
    "`",
    "'",
    "(",
    ")",
    "|",
    ",",
    "$x := ",
    "$i, $v := ",
    " = ",
    "end",
    "else",
    "else if",
    "if",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "0x1p3",
    ".5",
    "-1",
    "0o7",
    "1e9",
    "'\\n'",
    "\\",
    "\n",
    "é",
    "\u{a0}",
    " ",
    ".",
    ".a",
    "$",
    "nil",
    "true",
    "{{end}}",
    "{{else}}",
    "{{ .x }}",
];

fn boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(rng: &mut Rng, src: &str) -> String {
    let mut s = src.to_string();
    for _ in 0..1 + rng.below(3) {
        let at = boundary(&s, rng.below(s.len() + 1));
        match rng.below(4) {
            0 => s.insert_str(at, PIECES[rng.below(PIECES.len())]),
            1 => {
                let end = boundary(&s, (at + 1 + rng.below(8)).min(s.len()));
                s.replace_range(at..end, "");
            }
            2 => {
                let end = boundary(&s, (at + 1 + rng.below(40)).min(s.len()));
                let copy = s[at..end].to_string();
                let to = boundary(&s, rng.below(s.len() + 1));
                s.insert_str(to, &copy);
            }
            _ => {
                let end = boundary(&s, (at + 1 + rng.below(4)).min(s.len()));
                s.replace_range(at..end, PIECES[rng.below(PIECES.len())]);
            }
        }
    }
    s
}

#[test]
fn mutated_corpus_templates_parse_like_gotmpl() {
    let sources: Vec<String> = corpus_templates()
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| s.contains("{{") && s.len() < 6000)
        .collect();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut failures = Vec::new();
    let rounds = 4000;
    let mut refused = 0;
    for round in 0..rounds {
        let src = &sources[rng.below(sources.len())];
        let mutated = mutate(&mut rng, src);
        match compare(&mutated) {
            Ok(Agreed::SameTree) => {}
            Ok(Agreed::BothRefused) => refused += 1,
            Err(e) => failures.push(format!("round {round}: {e}\ninput: {mutated:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {rounds} differ:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        refused > rounds / 10 && refused < rounds * 9 / 10,
        "{refused} of {rounds} refused"
    );
}
