//! Server-side apply of rendered objects, with field manager `skiff`.
//!
//! Each kind is resolved through discovery once and cached; a kind the server
//! does not serve is looked up again next time, so a CRD applied earlier in
//! the same sync is found once it is Established. Objects get skiff's labels
//! so that pruning can only ever touch what skiff applied.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    PropagationPolicy,
};
use kube::discovery::{ApiCapabilities, Scope, pinned_kind};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Api, Client};

use super::object::ObjectKey;
use crate::render::Manifest;

/// The field manager of everything skiff applies.
pub const FIELD_MANAGER: &str = "skiff";
/// The standard label saying who manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The label naming the Application that applied an object.
pub const APPLICATION_LABEL: &str = "skiff.dev/application";

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions<'a> {
    /// The Application's name, written to the tracking label.
    pub application: &'a str,
    /// The namespace of namespaced objects that name none.
    pub default_namespace: &'a str,
    /// Take over fields other managers own (sync option `Force=true`).
    pub force: bool,
    /// Ask the server what it would do, changing nothing (for diffs).
    pub dry_run: bool,
}

/// An object that could not be applied, and why.
#[derive(Debug)]
pub struct ApplyError {
    /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects).
    pub object: String,
    /// Where the object was rendered from (`file:line`).
    pub source: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (from {}): {}",
            self.object, self.source, self.message
        )
    }
}

impl std::error::Error for ApplyError {}

/// Applies objects to one cluster, caching discovery.
pub struct Applier {
    client: Client,
    kinds: Mutex<HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>>,
}

impl fmt::Debug for Applier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applier").finish_non_exhaustive()
    }
}

impl Applier {
    /// An applier using `client`.
    pub fn new(client: Client) -> Applier {
        Applier {
            client,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// Server-side applies one rendered object and returns what the server holds
    /// (or would hold, on a dry run).
    pub async fn apply(
        &self,
        manifest: &Manifest,
        options: &ApplyOptions<'_>,
    ) -> Result<DynamicObject, ApplyError> {
        let gvk = gvk_of(manifest);
        let name = manifest.object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let fail = |namespace: Option<&str>, message: String| ApplyError {
            object: match namespace {
                Some(ns) => format!("{} {ns}/{name}", gvk.kind),
                None => format!("{} {name}", gvk.kind),
            },
            source: format!("{}:{}", manifest.source.display(), manifest.line),
            message,
        };
        if name.is_empty() {
            return Err(fail(None, "metadata.name is missing".into()));
        }
        let (resource, caps) = self.resolve(&gvk).await.map_err(|e| fail(None, e))?;

        let mut object: DynamicObject = serde_json::from_value(manifest.object.clone())
            .map_err(|e| fail(None, format!("not a Kubernetes object: {e}")))?;
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Cluster => {
                // A namespace on a cluster-scoped object means nothing; kubectl drops it too.
                object.metadata.namespace = None;
                Api::all_with(self.client.clone(), &resource)
            }
            Scope::Namespaced => {
                let ns = object
                    .metadata
                    .namespace
                    .get_or_insert_with(|| options.default_namespace.to_owned())
                    .clone();
                Api::namespaced_with(self.client.clone(), &ns, &resource)
            }
        };
        let labels = object.metadata.labels.get_or_insert_with(Default::default);
        labels.insert(MANAGED_BY_LABEL.into(), FIELD_MANAGER.into());
        labels.insert(APPLICATION_LABEL.into(), options.application.into());

        let mut params = PatchParams::apply(FIELD_MANAGER);
        if options.force {
            params = params.force();
        }
        if options.dry_run {
            params = params.dry_run();
        }
        let namespace = object.metadata.namespace.clone();
        api.patch(&name, &params, &Patch::Apply(&object))
            .await
            .map_err(|e| fail(namespace.as_deref(), api_message(e)))
    }

    /// The client this applier talks through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How the server serves `gvk`, from the discovery cache (refreshed for a
    /// kind not seen before, so a CRD applied earlier is found).
    pub async fn scope(&self, gvk: &GroupVersionKind) -> Result<Scope, String> {
        self.resolve(gvk).await.map(|(_, caps)| caps.scope)
    }

    /// The key `manifest` will be applied under: its namespace defaulted for
    /// namespaced kinds and dropped for cluster-scoped ones.
    pub async fn key_of(
        &self,
        manifest: &Manifest,
        default_namespace: &str,
    ) -> Result<ObjectKey, String> {
        let scope = self.scope(&gvk_of(manifest)).await?;
        let namespace = match scope {
            Scope::Cluster => None,
            Scope::Namespaced => Some(
                manifest.object["metadata"]["namespace"]
                    .as_str()
                    .filter(|ns| !ns.is_empty())
                    .unwrap_or(default_namespace)
                    .to_owned(),
            ),
        };
        Ok(ObjectKey::of(&manifest.object, namespace))
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<DynamicObject>, String> {
        let api = self.api_for(key).await?;
        api.get_opt(&key.name)
            .await
            .map_err(|e| format!("{key}: {}", api_message(e)))
    }

    /// Deletes an object (dependents in the background, as kubectl does);
    /// `false` when it was already gone.
    pub async fn delete(&self, key: &ObjectKey) -> Result<bool, String> {
        let api = self.api_for(key).await?;
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match api.delete(&key.name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(format!("{key}: {}", api_message(e))),
        }
    }

    /// The API of `key`'s kind, scoped to its namespace.
    pub async fn api_for(&self, key: &ObjectKey) -> Result<Api<DynamicObject>, String> {
        let (resource, _) = self.resolve(&key.gvk()).await?;
        Ok(match &key.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &resource),
            None => Api::all_with(self.client.clone(), &resource),
        })
    }

    /// The API resource of a kind (for watching or listing it).
    pub async fn api_resource(&self, gvk: &GroupVersionKind) -> Result<ApiResource, String> {
        self.resolve(gvk).await.map(|(r, _)| r)
    }

    /// Waits until the CRD `name` is Established, so its kind can be served.
    pub async fn wait_established(&self, name: &str, limit: Duration) -> Result<(), String> {
        let crds = Api::<CustomResourceDefinition>::all(self.client.clone());
        match tokio::time::timeout(
            limit,
            await_condition(crds, name, conditions::is_crd_established()),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("CustomResourceDefinition {name}: {e}")),
            Err(_) => Err(format!(
                "CustomResourceDefinition {name} not Established within {limit:?}"
            )),
        }
    }

    async fn resolve(
        &self,
        gvk: &GroupVersionKind,
    ) -> Result<(ApiResource, ApiCapabilities), String> {
        if let Some(found) = self
            .kinds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(gvk)
        {
            return Ok(found.clone());
        }
        let found = pinned_kind(&self.client, gvk).await.map_err(|e| {
            let version = if gvk.group.is_empty() {
                gvk.version.clone()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            format!(
                "the server does not serve kind {} in {version}: {}",
                gvk.kind,
                api_message(e)
            )
        })?;
        self.kinds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(gvk.clone(), found.clone());
        Ok(found)
    }
}

fn gvk_of(m: &Manifest) -> GroupVersionKind {
    let api_version = m.object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(
        group,
        version,
        m.object["kind"].as_str().unwrap_or_default(),
    )
}

/// The server's own words for API errors; the rest as kube reports them.
pub fn api_message(e: kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            format!("{} ({} {})", status.message, status.code, status.reason)
        }
        other => other.to_string(),
    }
}
