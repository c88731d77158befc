//! Differential test: every corpus chart (default values and each values file
//! it ships), the chart `helm create` generates, our fixture charts and the
//! agent's own chart (`charts/skiff`, with its `ci/` values files) and
//! kube-prometheus-stack with the dependencies the corpus has (see
//! `skiff_testbed::kube_prometheus_stack_vendored`, with its `ci/` files) are
//! rendered by the reference helm and by skiff-helm; any difference fails
//! unless the case is listed in `KNOWN_DIFFERENCES` with its reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use skiff_testbed::HelmCase as Case;

const KUBE_VERSION: &str = "1.33.0";

/// Cases whose output may differ, and why. Keys are case names as printed.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

/// Output that is random on every run, in helm too: masked on both sides.
const RANDOM: &[&str] = &[
    // podinfo's test pods: `name: ...-test-{{ randAlphaNum 5 | lower }}`
    r"(?m)(-test-)[a-z0-9]{5}$",
    // bitnami common's generated passwords and the checksums over them
    r#"(?m)^(\s+redis-password: )"[A-Za-z0-9+/=]+"$"#,
    r"(?m)^(\s+checksum/secret: )[0-9a-f]{64}$",
    // genCA/genSignedCert/genPrivateKey output (fresh keys, serials, times),
    // base64-encoded PEM; tests/crypto.rs compares what it holds.
    r"()LS0tLS1CRUdJTi[A-Za-z0-9+/=]+",
    // bcrypt hashes (htpasswd, bcrypt): a random salt each time.
    r"(\$2a\$10\$)[./A-Za-z0-9]{53}",
];

fn corpus() -> PathBuf {
    skiff_testbed::corpus_charts()
}

/// The cases: see `skiff_testbed::helm_cases`, with this crate's fixture charts.
fn cases() -> Vec<Case> {
    skiff_testbed::helm_cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
}

fn helm(args: &[&str]) -> Result<String, String> {
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn skiff(case: &Case) -> Result<String, String> {
    let chart = skiff_helm::load(&case.chart).map_err(|e| e.to_string())?;
    let mut values = skiff_helm::strvals::empty();
    if let Some(v) = &case.values {
        let text = std::fs::read_to_string(v).map_err(|e| e.to_string())?;
        values = skiff_helm::merge_values(
            values,
            skiff_helm::parse_values(&text).map_err(|e| e.to_string())?,
        );
    }
    let caps = skiff_helm::Capabilities {
        kube_version: skiff_helm::Capabilities::parse_kube_version(KUBE_VERSION)
            .map_err(|e| e.to_string())?,
        api_versions: Vec::new(),
    };
    let rendered = skiff_helm::render(
        &chart,
        &values,
        &skiff_helm::ReleaseOptions::default(),
        &caps,
    )
    .map_err(|e| e.to_string())?;
    printed(&rendered, &skiff_helm::PrintOptions::default())
}

/// The output as `to_helm_output` returns it, checked to be what
/// `write_helm_output` (the CLI's way) writes.
fn printed(
    rendered: &skiff_helm::Rendered,
    print: &skiff_helm::PrintOptions,
) -> Result<String, String> {
    let text = rendered.to_helm_output(print).map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    rendered
        .write_helm_output(print, &mut written)
        .map_err(|e| e.to_string())?;
    if written != text.as_bytes() {
        return Err(format!(
            "write_helm_output wrote other text than to_helm_output returns:\n{}",
            String::from_utf8_lossy(&written)
        ));
    }
    Ok(text)
}

fn mask(s: &str) -> String {
    let mut out = s.to_string();
    for r in RANDOM {
        let re = regex::Regex::new(r).expect("valid mask");
        out = re.replace_all(&out, "${1}<random>").into_owned();
    }
    out
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  helm:  {x}\n  skiff: {y}", i + 1);
        }
    }
    format!(
        "lengths differ: helm {} lines, skiff {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn check(case: &Case) -> Result<(), String> {
    let chart = case.chart.to_string_lossy().into_owned();
    let mut args = vec!["template", chart.as_str(), "--kube-version", KUBE_VERSION];
    let vf;
    if let Some(v) = &case.values {
        vf = v.to_string_lossy().into_owned();
        args.push("-f");
        args.push(&vf);
    }
    match (helm(&args), skiff(case)) {
        (Ok(h), Ok(s)) => {
            let (h, s) = (mask(&h), mask(&s));
            if h == s {
                Ok(())
            } else {
                Err(first_difference(&h, &s))
            }
        }
        // Both refuse the input: agreement (the messages differ in detail).
        (Err(_), Err(_)) => Ok(()),
        (Ok(_), Err(e)) => Err(format!("skiff failed where helm rendered: {e}")),
        (Err(e), Ok(_)) => Err(format!("skiff rendered where helm failed: {e}")),
    }
}

#[test]
fn corpus_and_fixture_charts_render_like_helm() {
    let mut unexpected = Vec::new();
    let mut ok = 0;
    for case in cases() {
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| *n == case.name);
        match (check(&case), known) {
            (Ok(()), _) => ok += 1,
            (Err(d), Some((_, why))) => eprintln!("known difference in {}: {why}\n{d}", case.name),
            (Err(d), None) => unexpected.push(format!("{}: {d}", case.name)),
        }
    }
    eprintln!("{ok} cases identical to helm");
    assert!(
        unexpected.is_empty(),
        "differences from helm:\n{}",
        unexpected.join("\n\n")
    );
}

#[test]
fn the_helm_create_chart_renders_like_helm() {
    let dir = std::env::temp_dir().join(format!("skiff-helm-create-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let chart = dir.join("mychart");
    helm(&["create", &chart.to_string_lossy()]).expect("helm create");
    let case = Case {
        name: "helm create".into(),
        chart: chart.clone(),
        values: None,
    };
    let result = check(&case);
    let _ = std::fs::remove_dir_all(&dir);
    result.expect("helm create chart differs");
}

/// `helm template` flags and the library options they map to.
fn skiff_with_flags(chart: &Path, args: &[&str]) -> Result<String, String> {
    use skiff_helm::strvals::{self, SetKind};
    let mut values = strvals::empty();
    let mut release = skiff_helm::ReleaseOptions::default();
    let mut caps = skiff_helm::Capabilities {
        kube_version: skiff_helm::Capabilities::parse_kube_version(KUBE_VERSION)
            .map_err(|e| e.to_string())?,
        api_versions: Vec::new(),
    };
    let mut print = skiff_helm::PrintOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut next = || {
            it.next()
                .copied()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match *a {
            "-f" => {
                let text =
                    std::fs::read_to_string(chart.join(next()?)).map_err(|e| e.to_string())?;
                values = skiff_helm::merge_values(
                    values,
                    skiff_helm::parse_values(&text).map_err(|e| e.to_string())?,
                );
            }
            "--set" => {
                values =
                    strvals::apply(values, next()?, SetKind::Typed).map_err(|e| e.to_string())?
            }
            "--set-string" => {
                values =
                    strvals::apply(values, next()?, SetKind::String).map_err(|e| e.to_string())?
            }
            "--set-json" => {
                values =
                    strvals::apply(values, next()?, SetKind::Json).map_err(|e| e.to_string())?
            }
            "-n" => release.namespace = next()?.to_string(),
            "--is-upgrade" => release.is_upgrade = true,
            "--kube-version" => {
                caps.kube_version = skiff_helm::Capabilities::parse_kube_version(next()?)
                    .map_err(|e| e.to_string())?
            }
            "-a" => caps.api_versions.push(next()?.to_string()),
            "--include-crds" => print.include_crds = true,
            "--skip-tests" => print.skip_tests = true,
            "--no-hooks" => print.no_hooks = true,
            "-s" => print.show_only.push(next()?.to_string()),
            name => release.name = name.to_string(),
        }
    }
    let loaded = skiff_helm::load(chart).map_err(|e| e.to_string())?;
    let rendered =
        skiff_helm::render(&loaded, &values, &release, &caps).map_err(|e| e.to_string())?;
    printed(&rendered, &print)
}

#[test]
fn template_flags_behave_like_helm() {
    let features = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/features");
    let podinfo = corpus().join("podinfo");
    let cases: &[(&Path, &[&str])] = &[
        (&features, &["--include-crds"]),
        (&features, &["--skip-tests"]),
        (&features, &["--no-hooks"]),
        (&features, &["-s", "templates/configmap.yaml"]),
        (
            &features,
            &["-s", "templates/order.yaml", "-s", "templates/tests/*"],
        ),
        (&features, &["-s", "templates/missing.yaml"]),
        (&features, &["myrel", "-n", "other", "--is-upgrade"]),
        (
            &features,
            &[
                "--set",
                "replicas=5,str=x,keep.b=2,list[1]=q",
                "--set-string",
                "big=7",
                "--set-json",
                "ratio=[1,2]",
            ],
        ),
        (
            &features,
            &[
                "--set",
                "second.enabled=true",
                "--set",
                "tags.extra=false",
                "--set",
                "nullme=null,keep.a=null",
            ],
        ),
        (&features, &["-a", "example.com/v1"]),
        (&features, &["--kube-version", "1.19.0"]),
        (
            &podinfo,
            &["-f", "values-prod.yaml", "--set", "replicaCount=2"],
        ),
    ];
    let mut failures = Vec::new();
    for (chart, args) in cases {
        let chart_s = chart.to_string_lossy().into_owned();
        // A release name goes before the chart, as `helm template NAME CHART`.
        let (name_arg, flags) = match args.first() {
            Some(n) if !n.starts_with('-') => (vec![*n], &args[1..]),
            _ => (vec![], &args[..]),
        };
        let mut helm_args = vec!["template"];
        helm_args.extend(name_arg);
        helm_args.extend([chart_s.as_str(), "--kube-version", KUBE_VERSION]);
        let abs_values: Vec<String> = flags
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if i > 0 && flags[i - 1] == "-f" {
                    chart.join(a).to_string_lossy().into_owned()
                } else {
                    a.to_string()
                }
            })
            .collect();
        helm_args.extend(abs_values.iter().map(String::as_str));
        let name = format!(
            "{} {}",
            chart.file_name().unwrap_or_default().to_string_lossy(),
            args.join(" ")
        );
        let result = match (helm(&helm_args), skiff_with_flags(chart, args)) {
            (Ok(h), Ok(s)) => {
                let (h, s) = (mask(&h), mask(&s));
                if h == s {
                    Ok(())
                } else {
                    Err(first_difference(&h, &s))
                }
            }
            (Err(_), Err(_)) => Ok(()),
            (Ok(_), Err(e)) => Err(format!("skiff failed where helm rendered: {e}")),
            (Err(e), Ok(_)) => Err(format!("skiff rendered where helm failed: {e}")),
        };
        if let Err(d) = result {
            failures.push(format!("{name}: {d}"));
        }
    }
    assert!(
        failures.is_empty(),
        "differences from helm:\n{}",
        failures.join("\n\n")
    );
}
