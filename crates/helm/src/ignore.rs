//! `.helmignore`: which chart files the loader skips.

/// `path.Match` from Go: `*`, `?`, `[...]` classes and `\` escapes; `*` and `?`
/// never match `/`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    match_name(&p, name)
}

/// [`glob_match`] with the pattern's characters collected once: the loader
/// matches every rule against every file of a chart.
fn match_name(p: &[char], name: &str) -> bool {
    // ASCII names (nearly all) are matched as bytes, without collecting chars.
    if name.is_ascii() {
        return match_from(p, name.as_bytes());
    }
    let n: Vec<char> = name.chars().collect();
    match_from(p, &n)
}

fn match_from<N: Copy + Into<char>>(p: &[char], n: &[N]) -> bool {
    let at = |i: usize| -> char { n[i].into() };
    if p.is_empty() {
        return n.is_empty();
    }
    match p[0] {
        '*' => {
            for i in 0..=n.len() {
                if i > 0 && at(i - 1) == '/' {
                    break;
                }
                if match_from(&p[1..], &n[i..]) {
                    return true;
                }
            }
            false
        }
        '?' => !n.is_empty() && at(0) != '/' && match_from(&p[1..], &n[1..]),
        '[' => {
            if n.is_empty() || at(0) == '/' {
                return false;
            }
            let c = at(0);
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
                if lo <= c && c <= hi {
                    matched = true;
                }
                i += 1;
            }
            if i >= p.len() {
                return false;
            }
            matched != negate && match_from(&p[i + 1..], &n[1..])
        }
        '\\' if p.len() > 1 => !n.is_empty() && at(0) == p[1] && match_from(&p[2..], &n[1..]),
        c => !n.is_empty() && at(0) == c && match_from(&p[1..], &n[1..]),
    }
}

/// A rule's pattern, in the cheapest form that matches the same names.
#[derive(Debug, Clone)]
enum Pattern {
    /// No wildcard: the name itself (`OWNERS`, `.git`).
    Literal(String),
    /// `*` and then no wildcard (`*.swp`, `*~`): a suffix after a run without `/`.
    AnyThen(String),
    Glob(Vec<char>),
}

impl Pattern {
    fn new(p: &str) -> Pattern {
        let wild = |s: &str| s.contains(['*', '?', '[', '\\']);
        if !wild(p) {
            Pattern::Literal(p.to_string())
        } else if let Some(rest) = p.strip_prefix('*')
            && !wild(rest)
        {
            Pattern::AnyThen(rest.to_string())
        } else {
            Pattern::Glob(p.chars().collect())
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Literal(l) => name == l,
            Pattern::AnyThen(suffix) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| !head.contains('/')),
            Pattern::Glob(p) => match_name(p, name),
        }
    }
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    /// Whether the pattern names a path (has a `/`) rather than a base name.
    whole_path: bool,
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
            pattern: Pattern::new("templates/.?*"),
            whole_path: true,
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
                pattern: Pattern::new(l),
                whole_path: l.contains('/'),
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
            let m = r.pattern.matches(if r.whole_path { path } else { base });
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

    #[test]
    fn the_cheap_pattern_forms_match_like_the_glob() {
        let patterns = [
            "OWNERS", ".git", "*.swp", "*~", "*", "a/*.md", "*/x", "*[ab]", "x\\*", "é*", "*é", "",
        ];
        let names = [
            "OWNERS", "owners", ".git", "a.swp", ".swp", "d/a.swp", "x~", "~", "a/b.md",
            "a/c/b.md", "q/x", "x", "b", "x*", "éa", "aé", "a/é", "", "/",
        ];
        for p in patterns {
            let fast = Pattern::new(p);
            for n in names {
                assert_eq!(fast.matches(n), glob_match(p, n), "{p:?} on {n:?}");
            }
        }
    }
}
