//! Sources: where manifests come from. Git repositories so far (Helm chart
//! repositories come later). Nothing here renders or talks to the cluster.

pub mod git;
pub mod helm_repo;
