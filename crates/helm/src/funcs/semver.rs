//! Semantic versions and constraints as Masterminds/semver reads them
//! (`semverCompare ">=1.19-0" .Capabilities.KubeVersion.Version`).

use std::cmp::Ordering;
use std::sync::Arc;

use super::{Reg, err, s, sarg};
use gotmpl::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub meta: String,
}

impl Version {
    pub fn parse(t: &str) -> Option<Version> {
        let t = t.trim().strip_prefix('v').unwrap_or(t.trim());
        let (core, meta) = t
            .split_once('+')
            .map(|(a, b)| (a, b.to_string()))
            .unwrap_or((t, String::new()));
        let (core, pre) = core
            .split_once('-')
            .map(|(a, b)| (a, b.to_string()))
            .unwrap_or((core, String::new()));
        let nums: Vec<&str> = core.split('.').collect();
        if nums.is_empty()
            || nums.len() > 3
            || nums
                .iter()
                .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let n = |i: usize| {
            nums.get(i)
                .map(|x| x.parse::<u64>().ok())
                .unwrap_or(Some(0))
        };
        Some(Version {
            major: n(0)?,
            minor: n(1)?,
            patch: n(2)?,
            pre,
            meta,
        })
    }

    fn cmp_core(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// One comparison: operator plus a possibly partial version (`1.2`, `1.x`).
fn check(op: &str, v: &str, ver: &Version) -> Option<bool> {
    let v = v.trim().strip_prefix('v').unwrap_or(v.trim());
    let (core, pre) = v.split_once('-').unwrap_or((v, ""));
    let core = core.split('+').next().unwrap_or(core);
    let parts: Vec<&str> = core.split('.').collect();
    let wild = |p: Option<&&str>| p.is_none_or(|x| matches!(*x, "x" | "X" | "*"));
    let num = |p: Option<&&str>| p.and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    if parts
        .first()
        .is_none_or(|p| matches!(*p, "x" | "X" | "*" | ""))
    {
        return Some(ver.pre.is_empty() || !pre.is_empty());
    }
    if parts
        .iter()
        .any(|p| !matches!(*p, "x" | "X" | "*") && p.parse::<u64>().is_err())
    {
        return None;
    }
    let c = Version {
        major: num(parts.first()),
        minor: num(parts.get(1)),
        patch: num(parts.get(2)),
        pre: pre.to_string(),
        meta: String::new(),
    };
    let minor_wild = wild(parts.get(1));
    let patch_wild = wild(parts.get(2));
    // A version with a prerelease only satisfies constraints that carry one.
    if !ver.pre.is_empty() && c.pre.is_empty() {
        return Some(false);
    }
    let upper = |bump_minor: bool| -> Version {
        if bump_minor {
            Version {
                major: c.major,
                minor: c.minor + 1,
                patch: 0,
                pre: String::new(),
                meta: String::new(),
            }
        } else {
            Version {
                major: c.major + 1,
                minor: 0,
                patch: 0,
                pre: String::new(),
                meta: String::new(),
            }
        }
    };
    let lt = |a: &Version, b: &Version| a.cmp_core(b) == Ordering::Less;
    Some(match op {
        "" | "=" | "==" => {
            if minor_wild {
                ver.major == c.major
            } else if patch_wild {
                ver.major == c.major && ver.minor == c.minor
            } else {
                ver.cmp_core(&c) == Ordering::Equal
            }
        }
        "!=" => {
            if minor_wild {
                ver.major != c.major
            } else if patch_wild {
                !(ver.major == c.major && ver.minor == c.minor)
            } else {
                ver.cmp_core(&c) != Ordering::Equal
            }
        }
        ">" => {
            if minor_wild {
                ver.major > c.major
            } else if patch_wild {
                (ver.major, ver.minor) > (c.major, c.minor)
            } else {
                ver.cmp_core(&c) == Ordering::Greater
            }
        }
        ">=" | "=>" => ver.cmp_core(&c) != Ordering::Less,
        "<" => lt(ver, &c),
        "<=" | "=<" => {
            if minor_wild {
                ver.major <= c.major
            } else if patch_wild {
                (ver.major, ver.minor) <= (c.major, c.minor)
            } else {
                ver.cmp_core(&c) != Ordering::Greater
            }
        }
        "~" | "~>" => ver.cmp_core(&c) != Ordering::Less && lt(ver, &upper(!minor_wild)),
        "^" => {
            let up = if c.major > 0 || minor_wild {
                upper(false)
            } else if c.minor > 0 || patch_wild {
                upper(true)
            } else {
                Version {
                    major: 0,
                    minor: 0,
                    patch: c.patch + 1,
                    pre: String::new(),
                    meta: String::new(),
                }
            };
            ver.cmp_core(&c) != Ordering::Less && lt(ver, &up)
        }
        _ => return None,
    })
}

/// Whether `version` satisfies `constraint` (`||` alternatives of `,`/space-separated ANDs).
pub fn constraint_matches(constraint: &str, version: &str) -> bool {
    check_constraint(constraint, version).unwrap_or(false)
}

pub(crate) fn check_constraint(constraint: &str, version: &str) -> Result<bool, String> {
    let ver = Version::parse(version).ok_or_else(|| "Invalid Semantic Version".to_string())?;
    for alt in constraint.split("||") {
        let mut ok = true;
        let alt = alt.trim();
        // Hyphen ranges: "1.2 - 1.4.5".
        if let Some((lo, hi)) = alt.split_once(" - ") {
            ok = check(">=", lo, &ver).ok_or("improper constraint")?
                && check("<=", hi, &ver).ok_or("improper constraint")?;
            if ok {
                return Ok(true);
            }
            continue;
        }
        let normalized = alt.replace(", ", ",").replace(' ', ",");
        let mut tokens: Vec<String> = Vec::new();
        for t in normalized.split(',').filter(|t| !t.is_empty()) {
            if matches!(t, ">" | "<" | ">=" | "<=" | "=" | "!=" | "~" | "^") {
                tokens.push(t.to_string());
            } else if tokens.last().is_some_and(|l| {
                matches!(l.as_str(), ">" | "<" | ">=" | "<=" | "=" | "!=" | "~" | "^")
            }) {
                let op = tokens.pop().unwrap_or_default();
                tokens.push(format!("{op}{t}"));
            } else {
                tokens.push(t.to_string());
            }
        }
        for t in tokens {
            let split = t
                .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
                .unwrap_or(t.len());
            let (op, v) = t.split_at(split);
            if !check(op.trim(), v, &ver)
                .ok_or_else(|| format!("improper constraint: {constraint}"))?
            {
                ok = false;
                break;
            }
        }
        if ok {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn register(r: &mut Reg) {
    r.f("semverCompare", |a| {
        check_constraint(&sarg(a, 0), &sarg(a, 1))
            .map(Value::Bool)
            .map_err(err)
    });
    r.f("semver", |a| {
        let v = Version::parse(&sarg(a, 0)).ok_or_else(|| err("Invalid Semantic Version"))?;
        let mut t = crate::coalesce::Table::new();
        t.insert("Major".into(), Value::Int(v.major as i64));
        t.insert("Minor".into(), Value::Int(v.minor as i64));
        t.insert("Patch".into(), Value::Int(v.patch as i64));
        t.insert("Prerelease".into(), s(v.pre.as_str()));
        t.insert("Metadata".into(), s(v.meta.as_str()));
        t.insert("Original".into(), s(sarg(a, 0)));
        Ok(Value::Map(Arc::new(t)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_version_constraints_match_like_masterminds() {
        assert!(constraint_matches(">=1.19-0", "v1.33.0"));
        assert!(!constraint_matches("<1.19-0", "v1.33.0"));
        assert!(constraint_matches(">= 1.21.0-0, < 2", "1.30.1"));
        assert!(constraint_matches("^1.2.3", "1.9.0"));
        assert!(!constraint_matches("~1.2.3", "1.3.0"));
        assert!(!constraint_matches(">=1.19", "1.20.0-gke.1"));
        assert!(constraint_matches("1.2.x", "1.2.9"));
    }
}
