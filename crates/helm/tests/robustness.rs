//! No input makes the renderer panic or hang: templates assembled from
//! fragments (valid and broken) and odd values must render or fail cleanly.

use skiff_helm::{Capabilities, ChartFile, ReleaseOptions};

const FRAGMENTS: &[&str] = &[
    "{{ .Values.a }}",
    "{{ .Values.a.b.c }}",
    "{{ (.Values.x).y }}",
    "{{ include \"h\" . }}",
    "{{ include \"nope\" . }}",
    "{{ tpl \"{{ .Values.a }}\" . }}",
    "{{ tpl \"{{\" . }}",
    "{{ toYaml .Values | nindent 2 }}",
    "{{ toJson . }}",
    "{{ fromYaml \"a: [\" }}",
    "{{ required \"r\" .Values.none }}",
    "{{ fail \"f\" }}",
    "{{ printf \"%d %s %v\" 1 }}",
    "{{ range $k, $v := .Values }}{{ $k }}{{ end }}",
    "{{ range 3 }}{{ . }}{{ end }}",
    "{{ if }}",
    "{{ end }}",
    "{{ $x := dict \"a\" 1 }}{{ $_ := set $x \"b\" 2 }}{{ $x }}",
    "{{ set .Values \"z\" 1 }}",
    "{{ index .Values.l 99 }}",
    "{{ div 1 0 }}",
    "{{ mod 1 0 }}",
    "{{ trunc -100 \"abc\" }}",
    "{{ abbrev 5 \"ééééééééé\" }}",
    "{{ substr 5 2 \"abc\" }}",
    "{{ regexMatch \"[\" \"x\" }}",
    "{{ repeat 99999999 \"x\" }}",
    "{{ until 99999999 | len }}",
    "{{ semverCompare \"><\" \"1\" }}",
    "{{ .Files.Get \"x\" }}",
    "{{ (.Files.Glob \"**\").AsConfig }}",
    "{{ .Capabilities.APIVersions.Has 1 }}",
    "{{ b64dec \"***\" }}",
    "{{ int \"0x\" }}",
    "{{ float64 \"1e999\" }}",
    "{{ 1e999 }}",
    "{{ toYaml (list 1.5e300 -0.0) }}",
    "{{ merge 1 2 }}",
    "{{ dig \"a\" }}",
    "{{ first 1 }}",
    "{{ keys 1 }}",
    "{{ template \"h\" }}",
    "{{ define \"x\" }}y{{ end }}",
    "{{- /* c */}}",
    "\n---\n",
    "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: test\n",
    "{{ toToml .Values }}",
    "{{ toToml (list (dict \"a\" nil) nil) }}",
    "{{ toDate \"2006-01-02 .000000000000\" \"2021-01-02 .00000000000é\" }}",
    "{{ mustToDate \"Jan _2 __2 002 -07:00:00 MST pm\" \"x\" }}",
    "{{ toDate \"Z07:00:00 -07 ,999 _2006\" \"+99:99:99 -\" | toJson }}",
    "{{ urlParse \"http://[\" }}",
    "{{ urlParse \"http://[fe80::1%25%zz]:x\" }}",
    "{{ decryptAES \"k\" \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\" }}",
    "{{ encryptAES \"\" \"x\" | decryptAES \"y\" }}",
    "{{ derivePassword -1 \"long\" \"p\" \"u\" \"s\" }}",
    "{{ genPrivateKey \"ecdsa\" | genCAWithKey \"x\" 1 }}",
    "{{ genCAWithKey \"x\" 1 \"-----BEGIN EC PRIVATE KEY-----\\nAAAA\\n-----END EC PRIVATE KEY-----\" }}",
    "{{ genSignedCert \"x\" (list \"::1\") (list 1) 1 (dict) }}",
    "{{ buildCustomCert \"***\" \"\" }}",
    "{{ genSelfSignedCertWithKey \"\" nil nil -99999999999 (genPrivateKey \"ed25519\") }}",
    ": : :",
    "\u{0}",
    "é",
];

fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn random_templates_render_or_fail_without_panicking() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let values = [
        "a: 1\nl: [1, 2]\n",
        "a: {b: null}\n",
        "a: [1, {b: 2}]\nx: null\n",
        ": bad",
        "a: 1e6\n",
    ];
    for round in 0..300 {
        let n = 1 + (next(&mut seed) % 6) as usize;
        let template: String = (0..n)
            .map(|_| FRAGMENTS[(next(&mut seed) % FRAGMENTS.len() as u64) as usize])
            .collect();
        let v = values[round % values.len()];
        let files = vec![
            ChartFile {
                name: "Chart.yaml".into(),
                data: b"apiVersion: v2\nname: r\nversion: 0.1.0\n".to_vec().into(),
            },
            ChartFile {
                name: "values.yaml".into(),
                data: v.as_bytes().to_vec().into(),
            },
            ChartFile {
                name: "templates/_h.tpl".into(),
                data: b"{{- define \"h\" -}}{{ . | toYaml }}{{- end }}"
                    .to_vec()
                    .into(),
            },
            ChartFile {
                name: "templates/t.yaml".into(),
                data: template.clone().into_bytes().into(),
            },
        ];
        let Ok(chart) = skiff_helm::load_files(files) else {
            continue;
        };
        let result = skiff_helm::render(
            &chart,
            &skiff_helm::strvals::empty(),
            &ReleaseOptions::default(),
            &Capabilities::default(),
        );
        if let Err(e) = result {
            assert!(
                !e.to_string().contains("panicked"),
                "panic for template {template:?}: {e}"
            );
        }
    }
}
