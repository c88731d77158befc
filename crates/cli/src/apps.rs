//! The arguments of `skiff get apps`, `skiff status APP` and `skiff history APP`
//! (run by `skiff-agent`).

use clap::{Args, ValueEnum};

use crate::format::Format;
use crate::kube::KubeArgs;

#[derive(Debug, Args)]
#[command(after_long_help = "\
Output:
  -o table (default) prints NAME, PROJECT, SYNC, HEALTH, REVISION (a commit cut to
  12 characters), LAST SYNC (how long ago the last sync finished) and MESSAGE (one
  line, shortened); -A adds NAMESPACE in front. -o wide adds REPO, PATH, TARGET and
  DESTINATION and shortens nothing.

  -o json and -o yaml print, like kubectl, one document
    {\"apiVersion\": \"skiff.dev/v1alpha1\", \"kind\": \"ApplicationList\", \"items\": [...]}
  whose items are the Application objects as stored (metadata.managedFields left
  out), sorted by namespace and name. This shape is stable for scripts.")]
pub struct GetArgs {
    /// What to list: `apps` (also `app`, `application`, `applications`).
    pub resource: Resource,
    /// Only these Applications (default: all in the namespace).
    pub names: Vec<String>,
    /// List the Applications of every namespace.
    #[arg(short = 'A', long, conflicts_with = "names")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// The kinds `skiff get` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Resource {
    #[value(name = "apps", aliases = ["app", "application", "applications"])]
    Apps,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Output:
  -o table (default) and -o wide print the source, destination, sync and health,
  the last operation with its trace ID, the conditions, and every object of the
  inventory with its sync and health. -o json and -o yaml print the Application
  object as stored (metadata.managedFields left out).")]
pub struct StatusArgs {
    /// The Application's name.
    pub app: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
#[command(after_long_help = "\
Output:
  -o table (default) prints ID, REVISION (a commit cut to 12 characters), DEPLOYED AT,
  RESULT and TRACE ID, newest first; -o wide prints revisions whole. -o json and
  -o yaml print status.history as stored: a list, newest first, of
    {\"id\": 3, \"revision\": \"...\", \"deployedAt\": \"...\", \"result\": \"Succeeded\", \"traceID\": \"...\"}
  (absent fields left out). `skiff rollback APP ID` takes an ID from this list.")]
pub struct HistoryArgs {
    /// The Application's name.
    pub app: String,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}
