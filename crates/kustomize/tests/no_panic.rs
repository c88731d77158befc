//! Hostile input must give an error, never a panic: every fixture and corpus
//! file is mutated many times (bytes flipped, lines dropped or duplicated,
//! truncated) in a scratch copy, and the build must return.
//! Deterministic (fixed seed), so a failure reproduces.

use std::path::{Path, PathBuf};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x == "yaml" || x == "env" || x == "properties")
        {
            out.push(p);
        }
    }
}

const TOKENS: &[&str] = &[
    "- ",
    ": ",
    "\n",
    "  ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "<<: ",
    "$patch: delete",
    "$patch: replace",
    "null",
    "~",
    "'",
    "\"",
    "|",
    ">",
    "#",
    "---\n",
    "\t",
    "0x",
    "1e9",
    "yes",
    "..",
    "../",
    "/",
    "[name=x]",
    "\u{e9}",
];

fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut s: Vec<char> = text.chars().collect();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !s.is_empty() => {
                let i = rng.below(s.len());
                s.remove(i);
            }
            1 => {
                let i = rng.below(s.len() + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                for (k, c) in t.chars().enumerate() {
                    s.insert(i + k, c);
                }
            }
            2 if !s.is_empty() => s.truncate(rng.below(s.len())),
            3 => {
                let lines: Vec<String> = s
                    .iter()
                    .collect::<String>()
                    .lines()
                    .map(str::to_string)
                    .collect();
                if !lines.is_empty() {
                    let i = rng.below(lines.len());
                    let mut l = lines.clone();
                    l.insert(i, lines[rng.below(lines.len())].clone());
                    s = l.join("\n").chars().collect();
                }
            }
            _ => {
                let lines: Vec<String> = s
                    .iter()
                    .collect::<String>()
                    .lines()
                    .map(str::to_string)
                    .collect();
                if !lines.is_empty() {
                    let mut l = lines.clone();
                    l.remove(rng.below(lines.len()));
                    s = l.join("\n").chars().collect();
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn mutated_inputs_never_panic() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    cases.sort();
    let scratch =
        std::env::temp_dir().join(format!("skiff-kustomize-no-panic-{}", std::process::id()));
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut builds = 0;
    for case in &cases {
        for _ in 0..12 {
            let _ = std::fs::remove_dir_all(&scratch);
            copy_dir(case, &scratch);
            let mut files = Vec::new();
            yaml_files(&scratch, &mut files);
            if files.is_empty() {
                continue;
            }
            let f = &files[rng.below(files.len())];
            let text = std::fs::read_to_string(f).unwrap_or_default();
            std::fs::write(f, mutate(&text, &mut rng)).unwrap();
            let result = std::panic::catch_unwind(|| skiff_kustomize::build(&scratch));
            assert!(
                result.is_ok(),
                "panic building a mutation of {} ({})",
                case.display(),
                f.display()
            );
            builds += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(builds > 300, "only {builds} mutated builds ran");
}
