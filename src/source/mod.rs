//! Sources: where manifests come from (Git repositories, Helm chart
//! repositories) and the credentials to reach them. Nothing here renders.

pub mod credentials;
pub mod git;
pub mod helm_repo;
