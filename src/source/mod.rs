//! Sources: where manifests come from (Git repositories, Helm chart
//! repositories) and the credentials to reach them. Nothing here renders.

pub mod credentials;
pub mod git;
pub mod helm_repo;

/// Where Git checkouts and chart archives are cached when nothing says
/// otherwise: `$XDG_CACHE_HOME/skiff`, else `~/.cache/skiff`.
pub fn default_cache_dir() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("skiff")
}
