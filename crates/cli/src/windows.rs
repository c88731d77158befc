//! The arguments of `skiff windows [PROJECT]` (run by `skiff-agent`).

use clap::Args;

use crate::format::Format;
use crate::kube::KubeArgs;

#[derive(Debug, Args)]
#[command(after_long_help = "\
Output:
  -o table (default) prints one row per window: PROJECT, KIND, SCHEDULE, DURATION,
  TIME ZONE, APPLICATIONS, NAMESPACES, MANUAL SYNC, OPEN (yes or no) and NEXT
  (`closes in 3h` for an open window, `opens in 12m` for a closed one); -A adds
  NAMESPACE in front, -o wide adds NEXT AT, the same moment in UTC.

  -o json and -o yaml print one document:
    {\"now\": \"2026-11-26T01:00:00Z\",
     \"projects\": [{\"namespace\": \"...\", \"name\": \"...\", \"windows\": [
       {\"index\": 0, \"kind\": \"allow\", \"schedule\": \"0 9 * * 1-5\", \"duration\": \"8h\",
        \"timeZone\": \"Europe/Paris\", \"applications\": [\"*\"], \"namespaces\": [],
        \"manualSync\": false, \"open\": true, \"closesAt\": \"...\", \"nextOpen\": \"...\"}]}]}
  sorted by namespace and name, windows in syncWindows order. closesAt is null for
  a closed window (or one that stays open for more than a year), nextOpen is null
  for a window that never opens again. A project whose windows are invalid has an
  \"error\" naming the window and field, and no windows. This shape is stable for
  scripts.

  The exit status is 1 when any project's windows are invalid.")]
pub struct WindowsArgs {
    /// The AppProject (default: every AppProject in the namespace).
    pub project: Option<String>,
    /// List the AppProjects of every namespace.
    #[arg(short = 'A', long, conflicts_with = "project")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: Format,
    #[command(flatten)]
    pub kube: KubeArgs,
}
