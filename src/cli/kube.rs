//! Connecting with the kubectl-style flags the cluster commands share.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use skiff_cli::kube::KubeArgs;

/// A client and the namespace to use when none is given.
pub async fn connect(args: &KubeArgs) -> Result<(Client, String), String> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?
        }
        None if args.context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("kubeconfig: {e}"))?,
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration found: {e}"))?,
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = Client::try_from(config).map_err(|e| format!("kube client: {e}"))?;
    Ok((client, namespace))
}
