//! Errors read like Helm's: the same message for `required`, `fail` and chart
//! checks, the same position prefix for parse errors, and no hang or crash on
//! runaway recursion.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chart(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("skiff-helm-errors-{}-{name}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).expect("temp dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .expect("write");
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn helm_error(chart: &Path) -> String {
    let out = Command::new(skiff_testbed::bin("helm"))
        .args([
            "template",
            &chart.to_string_lossy(),
            "--kube-version",
            "1.33.0",
        ])
        .output()
        .expect("run helm");
    assert!(!out.status.success(), "helm rendered {}", chart.display());
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("Error: ")
        .to_string()
}

fn helm_full_error(chart: &Path) -> String {
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(["template", &chart.to_string_lossy()])
        .output()
        .expect("run helm");
    assert!(!out.status.success(), "helm rendered {}", chart.display());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn skiff_error(chart: &Path) -> String {
    render_error(&skiff_helm::load(chart).expect("load"), chart)
}

/// The error of rendering `loaded` (the chart in `dir`).
fn render_error(loaded: &skiff_helm::Chart, dir: &Path) -> String {
    let caps = skiff_helm::Capabilities {
        kube_version: "v1.33.0".into(),
        api_versions: vec![],
    };
    match skiff_helm::render(
        loaded,
        &skiff_helm::strvals::empty(),
        &skiff_helm::ReleaseOptions::default(),
        &caps,
    ) {
        Ok(_) => panic!("skiff rendered {}", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn required_and_fail_messages_and_positions_match_helm() {
    let cases = [
        chart(
            "req",
            &[(
                "templates/a.yaml",
                "a: 1\nb: {{ .Values.x | required \"x is required\" }}\n",
            )],
        ),
        chart(
            "reqinclude",
            &[
                (
                    "templates/_h.tpl",
                    "{{- define \"x\" }}\n  v: {{ required \"need foo\" .Values.foo }}\n{{- end }}\n",
                ),
                ("templates/a.yaml", "a: 1\nb: {{ include \"x\" . }}\n"),
            ],
        ),
        chart(
            "failing",
            &[(
                "templates/a.yaml",
                "{{- if true }}\n  {{- fail \"boom: unsupported\" }}\n{{- end }}\n",
            )],
        ),
        chart(
            "tplreq",
            &[(
                "templates/a.yaml",
                "a: {{ tpl \"{{ required \\\"inner\\\" .Values.nope }}\" . }}\n",
            )],
        ),
        chart(
            "missingdep",
            &[(
                "Chart.yaml",
                "apiVersion: v2\nname: missingdep\nversion: 0.1.0\ndependencies:\n  - name: absent\n    version: 1.0.0\n",
            )],
        ),
        chart(
            "kubever",
            &[(
                "Chart.yaml",
                "apiVersion: v2\nname: kubever\nversion: 0.1.0\nkubeVersion: \">=1.40.0\"\n",
            )],
        ), // Both checks fail: the schema's error comes first (skiff checks
        // while it renders).
        chart(
            "kubeverschema",
            &[
                (
                    "Chart.yaml",
                    "apiVersion: v2\nname: kubeverschema\nversion: 0.1.0\nkubeVersion: \">=1.40.0\"\n",
                ),
                ("values.yaml", "replicas: many\n"),
                (
                    "values.schema.json",
                    r#"{"type": "object", "properties": {"replicas": {"type": "integer"}}}"#,
                ),
                ("templates/a.yaml", "a: {{ .Values.replicas }}\n"),
            ],
        ),
    ];
    for c in &cases {
        // `helm_error` is the first line of helm's message.
        let skiff = skiff_error(c);
        let first = skiff.lines().next().unwrap_or_default();
        assert_eq!(first, helm_error(c), "error for {}", c.display());
    }
}

/// Templates big enough to run on two threads, several failing: the error is
/// that of the first failing template in Helm's order (reverse name order
/// within a chart), however long it runs and whichever thread finishes first.
#[test]
fn the_first_failing_template_in_helms_order_is_reported() {
    let padding: String = (0..800)
        .map(|i| format!("{{{{- /* padding {i:04}: the templates total over 16 KiB */ -}}}}\n"))
        .collect();
    let slow_fail = format!(
        "{padding}{{{{- range until 2000 }}}}{{{{ printf \"%d\" . }}}}{{{{- end }}}}\n{{{{ fail \"y fails first in order\" }}}}\n"
    );
    let quick_fail = format!("{padding}{{{{ fail \"b fails later in order\" }}}}\n");
    let c = chart(
        "failorder",
        &[
            ("templates/z.yaml", "z: fine\n"),
            ("templates/y.yaml", &slow_fail),
            ("templates/b.yaml", &quick_fail),
            ("templates/a.yaml", "a: {{ fail \"a fails last\" }}\n"),
        ],
    );
    let helm = helm_error(&c);
    assert!(helm.contains("y fails first in order"), "helm said: {helm}");
    for _ in 0..5 {
        assert_eq!(skiff_error(&c), helm);
    }
}

#[test]
fn parse_errors_name_the_file_and_line_like_helm() {
    let c = chart("parse", &[("templates/a.yaml", "a: 1\nb: {{ .Values.x \n")]);
    let helm = helm_error(&c);
    let skiff = skiff_error(&c);
    let location = |e: &str| {
        e.split_once("): ")
            .map(|(l, _)| l.to_string())
            .unwrap_or_default()
    };
    assert!(
        helm.starts_with("parse error at (parse/templates/a.yaml:"),
        "{helm}"
    );
    assert_eq!(
        location(&skiff),
        location(&helm),
        "skiff: {skiff}\nhelm: {helm}"
    );
}

/// Go's parser refuses a template naming a function it does not have (Helm
/// drops Sprig's `env` and `expandenv`) or a variable not in scope, and a
/// `{{break}}` or `{{continue}}` outside a `range` body: even where they would
/// never run, and before a later syntax error; in a `tpl` text too.
#[test]
fn unknown_names_and_stray_breaks_are_parse_errors_like_helm() {
    let cases = [
        ("untaken", "a: {{ if false }}{{ nosuch 1 }}{{ end }}\n"),
        ("env", "a: {{ env \"HOME\" }}\n"),
        ("indefine", "{{ define \"x\" }}\n{{ nope }}{{ end }}\n"),
        ("chained", "a: {{ (nope).x }}\n"),
        ("beforesyntax", "a: {{ nope }}\n{{ end }}\n{{ if }}\n"),
        ("intpl", "a: {{ tpl \"x\\n{{ nope }}\" . }}\n"),
        ("variable", "a: {{ if false }}{{ $y.z }}{{ end }}\n"),
        (
            "outofbranch",
            "{{ if true }}{{ $b := 2 }}{{ end }}\n{{ $b }}\n",
        ),
        (
            "outofrange",
            "{{ range $i, $v := list 1 }}{{ end }}{{ $v }}\n",
        ),
        (
            "intodefine",
            "{{ $a := 1 }}{{ define \"d\" }}{{ $a }}{{ end }}\n",
        ),
        (
            "intoblock",
            "{{ $s := 1 }}{{ block \"b\" . }}{{ $s }}{{ end }}\n",
        ),
        ("break", "{{ break }}\n"),
        (
            "rangeelse",
            "{{ range list 1 }}{{ else }}{{ break }}{{ end }}\n",
        ),
        ("continue", "a\n{{ if true }}{{ continue }}{{ end }}\n"),
    ];
    for (name, template) in cases {
        let c = chart(name, &[("templates/a.yaml", template)]);
        let helm = helm_error(&c);
        assert!(
            helm.starts_with("parse error at") || helm.contains("cannot parse template"),
            "{name}: {helm}"
        );
        // Helm's trace of where `tpl` ran is not skiff's (see the README).
        let message = helm.rsplit_once(">: ").map_or(helm.as_str(), |(_, m)| m);
        let skiff = skiff_error(&c);
        assert!(
            skiff.ends_with(message),
            "{name}:\n  helm:  {helm}\n  skiff: {skiff}"
        );
    }
}

/// Templates without definitions are parsed only when they run: a parse
/// error in one still comes before any execution error and before a later
/// parse error in Helm's order (Helm parses every template first), also when
/// a partial's parse error comes later in that order.
#[test]
fn a_parse_error_in_a_template_parsed_when_it_runs_comes_first() {
    let cases = [
        chart(
            "lateparse",
            &[
                (
                    "templates/z.yaml",
                    "z: {{ fail \"z fails when it runs\" }}\n",
                ),
                ("templates/m.yaml", "m: 1\n{{ if }}\n"),
                ("templates/a.yaml", "a: {{ range }}\n"),
            ],
        ),
        chart(
            "lateparsepartial",
            &[
                ("templates/z.yaml", "z: {{ .Values.x \n"),
                (
                    "templates/_helpers.tpl",
                    "{{ define \"x\" }}{{ if }}{{ end }}\n",
                ),
            ],
        ),
    ];
    // Which error: its file and line (gotmpl words some parse errors
    // differently from Go, see parse_errors_name_the_file_and_line_like_helm).
    let location = |e: &str| e.split_once("): ").map(|(l, _)| l.to_string());
    for c in cases {
        let helm = helm_error(&c);
        assert!(helm.starts_with("parse error at ("), "helm said: {helm}");
        let skiff = skiff_error(&c);
        assert_eq!(
            location(&skiff),
            location(&helm),
            "skiff: {skiff}\nhelm: {helm}"
        );
    }
}

/// gotmpl accepts these and renders something; Go, hence Helm, refuses
/// them, with these words.
#[test]
fn templates_go_refuses_are_refused_like_helm() {
    let texts = [
        ("end", "m: {{ end }}\nnot: read\n"),
        ("else", "a: 1\n{{ else }}\n"),
        ("elseif", "a: 1\n{{ else if .x }}\n"),
        ("if", "{{ if .x }}\na: 1\n"),
        ("range", "{{ range .x }}\n{{ else }}\n"),
        ("define", "{{ define \"x\" }}\nfoo\n"),
        ("nested", "{{ with .x }}{{ if .y }}\n{{ end }}\n"),
        ("block", "{{ block \"b\" . }}\n"),
        (
            "defineinif",
            "{{ if 1 }}\n{{ define \"z\" }}x{{ end }}{{ end }}\n",
        ),
    ];
    for (name, text) in texts {
        let c = chart(&format!("strict{name}"), &[("templates/m.yaml", text)]);
        let helm = helm_error(&c);
        assert!(helm.starts_with("parse error at ("), "helm said: {helm}");
        assert_eq!(skiff_error(&c), helm, "{text:?}");
    }
}

#[test]
fn runaway_include_recursion_is_an_error() {
    let c = chart(
        "loop",
        &[(
            "templates/a.yaml",
            "{{- define \"loop\" }}{{ include \"loop\" . }}{{ end }}\na: {{ include \"loop\" . }}\n",
        )],
    );
    let e = skiff_error(&c);
    assert!(e.contains("nested reference name: loop"), "{e}");
    let c = chart(
        "tplloop",
        &[(
            "templates/a.yaml",
            "{{- define \"t\" }}{{ tpl \"{{ include \\\"t\\\" . }}\" . }}{{ end }}\na: {{ include \"t\" . }}\n",
        )],
    );
    let e = skiff_error(&c);
    assert!(e.contains("nested reference name"), "{e}");
}

#[test]
fn invalid_yaml_output_is_refused_like_helm() {
    let c = chart("badyaml", &[("templates/a.yaml", "a: \"x\" \"y\"\n")]);
    let prefix = "YAML parse error on badyaml/templates/a.yaml: error converting YAML to JSON:";
    assert!(helm_error(&c).starts_with(prefix));
    assert!(skiff_error(&c).starts_with(prefix), "{}", skiff_error(&c));
}

#[test]
fn schema_violations_are_reported_like_helm() {
    let corpus = skiff_testbed::repo_root().join("../shared/corpus/charts");
    let cases: &[(&str, &[&str])] = &[
        ("bitnami-redis", &["replica.replicaCount=abc"]),
        ("cert-manager", &["bogusKey=1"]),
        (
            "opentelemetry-collector",
            &["mode=deployment,image.repository=x,foo=1"],
        ),
    ];
    for (name, sets) in cases {
        let chart = corpus.join(name);
        let mut args = vec![
            "template".to_string(),
            chart.to_string_lossy().into_owned(),
            "--kube-version".into(),
            "1.33.0".into(),
        ];
        let mut values = skiff_helm::strvals::empty();
        for s in *sets {
            args.push("--set".into());
            args.push(s.to_string());
            values = skiff_helm::strvals::apply(values, s, skiff_helm::strvals::SetKind::Typed)
                .expect("set");
        }
        let out = Command::new(skiff_testbed::bin("helm"))
            .args(&args)
            .output()
            .expect("run helm");
        let helm = String::from_utf8_lossy(&out.stderr)
            .trim_start_matches("Error: ")
            .trim_end()
            .to_string();
        let loaded = skiff_helm::load(&chart).expect("load");
        let caps = skiff_helm::Capabilities {
            kube_version: "v1.33.0".into(),
            api_versions: vec![],
        };
        let skiff = match skiff_helm::render(
            &loaded,
            &values,
            &skiff_helm::ReleaseOptions::default(),
            &caps,
        ) {
            Ok(_) => panic!("skiff accepted invalid values for {name}"),
            Err(e) => e.to_string().trim_end().to_string(),
        };
        assert_eq!(skiff, helm, "{name}");
    }
}

/// Errors from Sprig functions carry Go's message (the surrounding trace is
/// gotmpl's): helm's text after `error calling NAME: ` ends skiff's error.
#[test]
fn function_errors_carry_gos_messages() {
    let cases = [
        (
            "mustdate",
            "a: {{ mustToDate \"2006-01-02\" \"2024-13-01\" }}\n",
        ),
        (
            "mustdatetext",
            "a: {{ mustToDate \"2006-01-02\" \"not a date\" }}\n",
        ),
        (
            "ipliteral",
            "a: {{ urlParse \"postgres://[::1]:5432,[::2]/db\" }}\n",
        ),
        ("ipv4literal", "a: {{ urlParse \"http://[10.0.0.1]/\" }}\n"),
        ("tomlnil", "a: {{ toToml nil }}\n"),
        ("slicestring", "a: {{ slice \"abc\" 1 2 }}\n"),
        ("slicebounds", "a: {{ mustSlice (list 1 2) 1 5 }}\n"),
        ("slicenil", "a: {{ slice nil }}\n"),
        ("cakey", "a: {{ genCAWithKey \"x\" 1 \"junk\" }}\n"),
        (
            "cadsa",
            "a: {{ genCAWithKey \"x\" 1 (genPrivateKey \"dsa\") }}\n",
        ),
        (
            "cadict",
            "a: {{ genSignedCert \"x\" nil nil 1 (dict \"Cert\" \"c\" \"Key\" \"k\") }}\n",
        ),
        (
            "cabadcert",
            "a: {{ genSignedCert \"x\" nil nil 1 (buildCustomCert \"bm90IGEgY2VydA==\" \"eA==\") }}\n",
        ),
        (
            "badip",
            "a: {{ genSelfSignedCert \"x\" (list \"10.0.0.300\") nil 1 }}\n",
        ),
        (
            "ipnotstring",
            "a: {{ genSelfSignedCert \"x\" (list 1) nil 1 }}\n",
        ),
        (
            "dsapkcs8",
            "a: {{ buildCustomCert (b64enc .Values.caCert) (b64enc .Values.dsaPkcs8) }}\n",
        ),
        (
            "keywrongpem",
            "a: {{ genCAWithKey \"x\" 1 (genCA \"y\" 1).Cert }}\n",
        ),
    ];
    // Fixed keys and a CA certificate.
    let keys = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/functions-pki-keys/values.yaml"),
    )
    .expect("fixture keys");
    for (name, template) in cases {
        let c = chart(
            name,
            &[("templates/a.yaml", template), ("values.yaml", &keys)],
        );
        let helm = helm_full_error(&c);
        // `error calling NAME: message`, or Go's argument check on a line of
        // its own under `executing ... at <...>:`.
        let go_message = match helm.split_once("error calling ") {
            Some((_, rest)) => rest.split_once(": ").map(|(_, m)| m),
            None => helm.lines().nth(2).map(str::trim),
        }
        .map(|m| m.lines().next().unwrap_or_default().trim_end())
        .unwrap_or_else(|| panic!("no Go message in helm's error for {name}: {helm}"));
        let skiff = skiff_error(&c);
        assert!(
            skiff.ends_with(go_message),
            "{name}:\n  helm:  {helm}\n  skiff: {skiff}"
        );
    }
}

/// `.Files` are read when a template uses them; one that vanished after the
/// chart was loaded is an error naming it, in `AsConfig`/`AsSecrets` too
/// (not an empty text).
#[test]
fn a_file_gone_since_load_is_named_by_as_config_and_as_secrets() {
    for (name, method) in [("asconfig", "AsConfig"), ("assecrets", "AsSecrets")] {
        let c = chart(
            name,
            &[
                ("files/a.txt", "alpha\n"),
                ("files/b.txt", "beta\n"),
                (
                    "templates/cm.yaml",
                    &format!("data:\n{{{{ (.Files.Glob \"files/*\").{method} | indent 2 }}}}\n"),
                ),
            ],
        );
        let loaded = skiff_helm::load(&c).expect("load");
        std::fs::remove_file(c.join("files/b.txt")).expect("remove");
        let err = render_error(&loaded, &c);
        assert!(err.contains("b.txt"), "{method}: {err}");
    }
}
