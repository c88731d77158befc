//! Any template text and any values must render or fail with an error; never
//! panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skiff_helm::{Capabilities, ChartFile, ReleaseOptions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Input: template, then values YAML after the first NUL.
    let (template, values) = text.split_once('\0').unwrap_or((&text, ""));
    let files = vec![
        ChartFile { name: "Chart.yaml".into(), data: b"apiVersion: v2\nname: fuzz\nversion: 0.1.0\n".to_vec().into() },
        ChartFile { name: "values.yaml".into(), data: values.as_bytes().to_vec().into() },
        ChartFile { name: "templates/_helpers.tpl".into(), data: b"{{- define \"h\" -}}{{ . | toYaml }}{{- end }}".to_vec().into() },
        ChartFile { name: "templates/t.yaml".into(), data: template.as_bytes().to_vec().into() },
    ];
    let Ok(chart) = skiff_helm::load_files(files) else { return };
    let v = skiff_helm::strvals::empty();
    let _ = skiff_helm::render(&chart, &v, &ReleaseOptions::default(), &Capabilities::default());
});
