//! The directory renderer, pinned by fixture folders under
//! tests/fixtures/directory/<case>/: `source/` (the files), `options.yaml` (the
//! Application's `spec.source.directory`), and `expected.txt`: one line per
//! manifest (`file:line <object as JSON>`), or the error message for `error-*`
//! cases. `SKIFF_UPDATE_FIXTURES=1` rewrites the expectations; review the diff.

use std::path::Path;

use skiff::api::DirectorySource;
use skiff::render::directory;

fn run_case(case: &Path) -> String {
    let options: DirectorySource = serde_saphyr::from_str(
        &std::fs::read_to_string(case.join("options.yaml")).expect("options.yaml"),
    )
    .expect("options.yaml is a DirectorySource");
    match directory::render(&case.join("source"), &options) {
        Ok(manifests) => manifests
            .iter()
            .map(|m| format!("{}:{} {}\n", m.source.display(), m.line, m.object))
            .collect(),
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn directory_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/directory");
    let update = std::env::var_os("SKIFF_UPDATE_FIXTURES").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures folder")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "fixtures missing: {cases:?}");
    let mut failures = Vec::new();
    for case in cases {
        let got = run_case(&case);
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            name.starts_with("error-"),
            got.starts_with("error: "),
            "{name}: {got}"
        );
        let expected_path = case.join("expected.txt");
        if update {
            std::fs::write(&expected_path, &got).expect("write expected.txt");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!("{name}:\n--- expected\n{expected}--- got\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn symlink_leading_outside_the_source_is_refused() {
    let tmp = std::env::temp_dir().join(format!("skiff-dir-symlink-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("source")).expect("mkdir");
    std::fs::write(
        tmp.join("secret.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
    )
    .expect("write");
    std::os::unix::fs::symlink("../secret.yaml", tmp.join("source/link.yaml")).expect("symlink");
    let err = directory::render(&tmp.join("source"), &DirectorySource::default())
        .expect_err("a symlink out of the source must be refused");
    assert_eq!(err.file, Path::new("link.yaml"));
    assert!(err.to_string().contains("outside the source"), "{err}");
    std::fs::remove_dir_all(&tmp).expect("cleanup");
}

#[test]
fn invalid_glob_names_the_field() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/directory/plain/source");
    let opts = DirectorySource {
        include: Some("{unclosed".into()),
        ..Default::default()
    };
    let err = directory::render(&root, &opts).expect_err("bad glob");
    assert!(
        err.message.contains("spec.source.directory.include"),
        "{err}"
    );
}
