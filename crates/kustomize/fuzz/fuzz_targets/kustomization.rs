#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let dir =
            std::env::temp_dir().join(format!("skiff-fuzz-kustomization-{}", std::process::id()));
        skiff_kustomize::fuzzing::build_kustomization(&dir, text);
    }
});
