//! `.helmignore`: which chart files the loader skips.

/// `path.Match` from Go: `*`, `?`, `[...]` classes and `\` escapes; `*` and `?`
/// never match `/`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> bool {
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        '*' => {
            for i in 0..=n.len() {
                if i > 0 && n[i - 1] == '/' {
                    break;
                }
                if match_from(&p[1..], &n[i..]) {
                    return true;
                }
            }
            false
        }
        '?' => !n.is_empty() && n[0] != '/' && match_from(&p[1..], &n[1..]),
        '[' => {
            if n.is_empty() || n[0] == '/' {
                return false;
            }
            let mut i = 1;
            let negate = matches!(p.get(1), Some('^') | Some('!'));
            if negate {
                i += 1;
            }
            let mut matched = false;
            let mut first = true;
            while i < p.len() && (p[i] != ']' || first) {
                first = false;
                let mut lo = p[i];
                if lo == '\\' && i + 1 < p.len() {
                    i += 1;
                    lo = p[i];
                }
                let mut hi = lo;
                if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|c| *c != ']') {
                    hi = p[i + 2];
                    i += 2;
                }
                if lo <= n[0] && n[0] <= hi {
                    matched = true;
                }
                i += 1;
            }
            if i >= p.len() {
                return false;
            }
            matched != negate && match_from(&p[i + 1..], &n[1..])
        }
        '\\' if p.len() > 1 => !n.is_empty() && n[0] == p[1] && match_from(&p[2..], &n[1..]),
        c => !n.is_empty() && n[0] == c && match_from(&p[1..], &n[1..]),
    }
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dir_only: bool,
}

/// The parsed rules of one `.helmignore` plus Helm's default rule.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    pub fn parse(text: &str) -> Rules {
        let mut rules = Vec::new();
        // Helm always skips dotfiles inside templates/.
        rules.push(Rule {
            pattern: "templates/.?*".into(),
            negate: false,
            dir_only: false,
        });
        for line in text.lines() {
            let mut l = line.trim();
            if l.is_empty() || l.starts_with('#') || l == "!" || l == "/" {
                continue;
            }
            let negate = l.starts_with('!');
            if negate {
                l = &l[1..];
            }
            let dir_only = l.ends_with('/');
            let l = l.trim_end_matches('/');
            let l = l.strip_prefix('/').unwrap_or(l);
            rules.push(Rule {
                pattern: l.to_string(),
                negate,
                dir_only,
            });
        }
        Rules { rules }
    }

    /// Whether `path` (relative to the chart, `/`-separated) is ignored.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path == "." || path.is_empty() {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for r in &self.rules {
            if r.dir_only && !is_dir {
                continue;
            }
            let m = if r.pattern.contains('/') {
                glob_match(&r.pattern, path)
            } else {
                glob_match(&r.pattern, base)
            };
            if r.negate {
                if m {
                    ignored = false;
                }
            } else if m {
                ignored = true;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_matches_basenames_paths_and_negations() {
        let r = Rules::parse("*.md\n!KEEP.md\nci/\nsub/x.txt\n");
        assert!(r.ignored("README.md", false));
        assert!(!r.ignored("KEEP.md", false));
        assert!(r.ignored("ci", true));
        assert!(!r.ignored("ci", false));
        assert!(r.ignored("sub/x.txt", false));
        assert!(r.ignored("templates/.hidden", false));
    }
}
