//! Compiled regular expressions kept for the process.
//!
//! Charts call the regex functions inside loops with the same few patterns,
//! and values schemas apply one `pattern` to every matching value; compiling
//! costs far more than matching (bitnami-redis spent 15% of its render
//! compiling the same regexes again). Bounded, so input cannot grow it
//! without limit.
//!
//! The cache hands out shared handles, not clones: a cloned `Regex` gets its
//! own empty match cache, which the next search has to build (that was 7% of
//! bitnami-redis's template execution).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

const MAX_CACHED: usize = 256;

/// `Regex::new(pattern)`, compiled once per process for the first patterns seen.
pub fn compiled(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(r) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(r);
    }
    let r = Arc::new(Regex::new(pattern)?);
    if let Ok(mut c) = cache.lock()
        && c.len() < MAX_CACHED
    {
        c.insert(pattern.to_owned(), r.clone());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::compiled;

    #[test]
    fn the_same_pattern_matches_the_same_way_twice_and_errors_are_not_cached() {
        assert!(compiled("^a.c$").unwrap().is_match("abc"));
        assert!(!compiled("^a.c$").unwrap().is_match("abd"));
        assert!(compiled("[").is_err());
        assert!(compiled("[").is_err());
    }
}
