//! Sources: where manifests come from (Git repositories) and the credentials
//! to reach them. Nothing here renders.

pub mod credentials;
pub mod git;
