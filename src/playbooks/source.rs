//! The one query interface playbooks run through: a live cluster (or a served scenario)
//! through the kube client, or a snapshot in memory with the same selector semantics, and
//! [`StoreBacked`], which answers the kinds the watch layer already holds from its stores.

use futures::future::BoxFuture;
use kube::api::{Api, ApiResource, ListParams, LogParams};
use serde_json::Value;

use std::sync::Arc;

use super::{LeanObjects, Outcome, Query, QueryKind, Watched};
use crate::api::resources::RESOURCES;
use crate::api::select::{FieldSelector, LabelSelector};
use crate::cluster::lean;
use crate::snapshot::Snapshot;

/// Answers playbook queries. Implementations only read.
pub trait QuerySource: Send + Sync {
    fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome>;

    /// Whether the answer to `query` holds only part of what the cluster held (a snapshot
    /// with a fragment of the kind). A live cluster lists everything it is allowed to.
    fn partial(&self, _query: &Query) -> bool {
        false
    }

    /// Whether a failed answer can be a transient fault of the link or the server (a live
    /// cluster), rather than what the source holds (a snapshot that did not capture a kind
    /// answers "not captured" every time: its playbooks judge on what it does hold).
    fn live(&self) -> bool {
        false
    }
}

fn api_resource(group: &str, resource: &str) -> Option<ApiResource> {
    let def = RESOURCES
        .iter()
        .find(|d| d.group == group && d.plural == resource)?;
    Some(ApiResource {
        group: def.group.to_string(),
        version: def.version.to_string(),
        api_version: def.api_version(),
        kind: def.kind.to_string(),
        plural: def.plural.to_string(),
    })
}

fn failed(e: kube::Error) -> Outcome {
    match e {
        kube::Error::Api(s) => Outcome::Failed {
            code: s.code,
            message: s.message,
        },
        other => Outcome::Failed {
            code: 0,
            message: crate::cluster::watch::describe(&other),
        },
    }
}

/// The most one query may take with its retries; `check --timeout` bounds the whole run.
const QUERY_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);
/// The most one attempt may take: a server that stalls mid-response is asked again.
const ATTEMPT_LIMIT: std::time::Duration = std::time::Duration::from_secs(4);

/// Whether a 5xx for this request is the API server's own trouble (worth asking again) or
/// the answer of what it proxies to: a kubelet's log or node proxy that fails answers 500/502
/// every time, and that failure is the evidence a playbook reads.
fn server_errors_pass(kind: &QueryKind) -> bool {
    match kind {
        QueryKind::Logs { .. } => false,
        QueryKind::Raw { path } => !(path.contains("/proxy") || path.contains("/log")),
        _ => true,
    }
}

/// How long to wait before asking again after `err`, or `None` when asking again cannot help
/// (a refusal, a missing object, a certificate that does not verify, a 5xx that is the
/// answer of a kubelet behind the API server).
fn retry_after(
    err: &kube::Error,
    pause: std::time::Duration,
    retry_5xx: bool,
) -> Option<std::time::Duration> {
    match err {
        kube::Error::Api(s) if s.code == 429 => {
            let secs = s
                .details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .filter(|&s| s > 0)
                .unwrap_or(1);
            Some(std::time::Duration::from_secs(u64::from(secs)).max(pause))
        }
        kube::Error::Api(s) if retry_5xx && matches!(s.code, 500 | 502 | 503 | 504) => Some(pause),
        kube::Error::Api(_) => None,
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::SerdeError(_)
        | kube::Error::ReadEvents(_) => {
            let text = crate::cluster::watch::describe(err).to_ascii_lowercase();
            (!text.contains("certificate")).then_some(pause)
        }
        _ => None,
    }
}

/// Runs one request, asking again after a transient failure (a reset, a truncated or stalled
/// answer, 429 after its Retry-After, a 5xx) within [`QUERY_BUDGET`]; the last error when
/// the budget is spent, so a failed query reads "could not check", never an empty answer.
async fn retrying<T, F, Fut>(kind: &QueryKind, mut attempt: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let deadline = tokio::time::Instant::now() + QUERY_BUDGET;
    let mut pause = std::time::Duration::from_millis(200);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let err = match tokio::time::timeout(ATTEMPT_LIMIT.min(left), attempt()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => e,
            Err(_) => kube::Error::Service(
                format!(
                    "no complete answer within {}s (the server stopped sending)",
                    ATTEMPT_LIMIT.min(left).as_secs()
                )
                .into(),
            ),
        };
        let Some(wait) = retry_after(&err, pause, server_errors_pass(kind)) else {
            return Err(err);
        };
        if tokio::time::Instant::now() + wait >= deadline {
            return Err(err);
        }
        tracing::debug!(error = %crate::cluster::watch::describe(&err), ?wait, "query retried");
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
    }
}

/// An object as a list page or a get decodes it for the playbooks: its JSON as a tree,
/// without managedFields (skipped while decoding, never built) and the last-applied
/// annotation. Decoded straight from the response body, not through `DynamicObject`
/// (whose flattened body is buffered and decoded twice).
#[derive(Clone, Debug)]
pub struct Decoded {
    value: Value,
    /// Empty: the object's metadata is in `value` (the kube client's `Resource` wants one).
    meta: kube::api::ObjectMeta,
}

impl kube::Resource for Decoded {
    type DynamicType = ApiResource;
    type Scope = kube::core::DynamicResourceScope;

    fn group(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        dt.group.as_str().into()
    }
    fn version(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        dt.version.as_str().into()
    }
    fn kind(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        dt.kind.as_str().into()
    }
    fn api_version(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        dt.api_version.as_str().into()
    }
    fn plural(dt: &ApiResource) -> std::borrow::Cow<'_, str> {
        dt.plural.as_str().into()
    }
    fn meta(&self) -> &kube::api::ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut kube::api::ObjectMeta {
        &mut self.meta
    }
}

impl<'de> serde::Deserialize<'de> for Decoded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
        use serde_json::Map;

        /// A map whose `skip` key is passed over; `metadata` decoded by `Object(Some(..))`.
        struct Object(Option<&'static str>);
        impl<'de> Visitor<'de> for Object {
            type Value = Map<String, Value>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if Some(key.as_str()) == self.0 {
                        map.next_value::<IgnoredAny>()?;
                    } else if self.0.is_none() && key == "metadata" {
                        let meta = map.next_value_seed(Meta)?;
                        out.insert(key, Value::Object(meta));
                    } else {
                        out.insert(key, map.next_value::<Value>()?);
                    }
                }
                Ok(out)
            }
        }
        struct Meta;
        impl<'de> DeserializeSeed<'de> for Meta {
            type Value = Map<String, Value>;
            fn deserialize<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_map(Object(Some("managedFields")))
            }
        }
        let mut value = Value::Object(d.deserialize_map(Object(None))?);
        crate::cluster::state::strip(&mut value);
        Ok(Decoded {
            value,
            meta: Default::default(),
        })
    }
}

/// Objects as the API returned them, with apiVersion and kind filled in (list items lack
/// them), without what no playbook reads ([`prune`]).
fn with_kind(obj: Decoded, ar: &ApiResource) -> Value {
    let mut v = obj.value;
    if let Some(o) = v.as_object_mut() {
        o.insert("apiVersion".into(), Value::String(ar.api_version.clone()));
        o.insert("kind".into(), Value::String(ar.kind.clone()));
    }
    prune(&mut v);
    v
}

/// Fields of a pod that no playbook reads, dropped as a list page is decoded (a pod is
/// held once per `check` run, 150,000 of them at the envelope): the service-account token
/// volume and its mounts, addresses repeated in plural form, container ids, and settings
/// the playbooks never judge. Everything a playbook reads stays; the test
/// `pruning_changes_no_finding` runs every playbook on every scenario both ways.
pub fn prune(v: &mut Value) {
    fn drop_keys(v: Option<&mut Value>, keys: &[&str]) {
        if let Some(o) = v.and_then(Value::as_object_mut) {
            for k in keys {
                o.remove(*k);
            }
        }
    }
    fn each(v: Option<&mut Value>, mut f: impl FnMut(&mut Value)) {
        if let Some(items) = v.and_then(Value::as_array_mut) {
            items.iter_mut().for_each(&mut f);
        }
    }
    if v.get("kind").and_then(Value::as_str) != Some("Pod") {
        return;
    }
    drop_keys(v.get_mut("metadata"), &["generateName"]);
    if let Some(spec) = v.get_mut("spec") {
        drop_keys(
            Some(spec),
            &[
                "enableServiceLinks",
                "preemptionPolicy",
                "dnsPolicy",
                "schedulerName",
                "terminationGracePeriodSeconds",
            ],
        );
        for list in ["containers", "initContainers"] {
            each(spec.get_mut(list), |c| {
                drop_keys(
                    Some(c),
                    &["volumeMounts", "terminationMessagePath", "imagePullPolicy"],
                )
            });
        }
        // Projected volumes are the service-account token; other volumes stay.
        if let Some(vols) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
            vols.retain(|vol| vol.get("projected").is_none());
        }
    }
    if let Some(status) = v.get_mut("status") {
        drop_keys(Some(status), &["podIPs", "hostIPs", "qosClass"]);
        for list in ["containerStatuses", "initContainerStatuses"] {
            each(status.get_mut(list), |c| {
                drop_keys(Some(c), &["containerID"])
            });
        }
        each(status.get_mut("conditions"), |c| {
            if c.get("lastProbeTime").is_some_and(Value::is_null) {
                drop_keys(Some(c), &["lastProbeTime"]);
            }
        });
    }
}

/// A live cluster through the kube client.
pub struct LiveSource {
    pub client: kube::Client,
}

impl LiveSource {
    /// The dynamic API of a resource (in a namespace, or across all), or the answer for a
    /// resource this build does not know.
    fn api(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<(Api<Decoded>, ApiResource), Outcome> {
        let Some(ar) = api_resource(group, resource) else {
            return Err(Outcome::Failed {
                code: 404,
                message: format!("unknown resource {resource}"),
            });
        };
        let api = match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        Ok((api, ar))
    }
}

impl LiveSource {
    /// Every object of a watched kind across the cluster, page by page, decoded straight
    /// into the lean model (no JSON tree is built).
    async fn list_lean<T>(&self, kind: &QueryKind) -> Outcome
    where
        T: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
        Vec<Arc<T>>: Into<LeanObjects>,
    {
        let api: Api<T> = Api::all(self.client.clone());
        let mut lp = ListParams::default().limit(500);
        let mut items: Vec<Arc<T>> = Vec::new();
        loop {
            match retrying(kind, || api.list(&lp)).await {
                Ok(page) => {
                    items.extend(page.items.into_iter().map(Arc::new));
                    match page.metadata.continue_ {
                        Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                        _ => break,
                    }
                }
                Err(e) => return failed(e),
            }
        }
        Outcome::Lean(items.into())
    }
}

impl QuerySource for LiveSource {
    fn live(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            if query_reads_secret(&query.kind) {
                return secrets_refused();
            }
            match &query.kind {
                QueryKind::List {
                    group,
                    resource,
                    namespace,
                    label_selector,
                    field_selector,
                } => {
                    let (api, ar) = match self.api(group, resource, namespace.as_deref()) {
                        Ok(a) => a,
                        Err(outcome) => return outcome,
                    };
                    let mut lp = ListParams::default().limit(500);
                    if let Some(l) = label_selector {
                        lp = lp.labels(l);
                    }
                    if let Some(f) = field_selector {
                        lp = lp.fields(f);
                    }
                    let mut items = Vec::new();
                    loop {
                        match retrying(&query.kind, || api.list(&lp)).await {
                            Ok(page) => {
                                items.extend(page.items.into_iter().map(|o| with_kind(o, &ar)));
                                match page.metadata.continue_ {
                                    Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                                    _ => break,
                                }
                            }
                            Err(e) => return failed(e),
                        }
                    }
                    Outcome::Objects(items)
                }
                QueryKind::Watched { kind } => match kind {
                    Watched::Pods => self.list_lean::<lean::Pod>(&query.kind).await,
                    Watched::Events => self.list_lean::<lean::Event>(&query.kind).await,
                },
                QueryKind::Get {
                    group,
                    resource,
                    namespace,
                    name,
                } => {
                    let (api, ar) = match self.api(group, resource, namespace.as_deref()) {
                        Ok(a) => a,
                        Err(outcome) => return outcome,
                    };
                    match retrying(&query.kind, || api.get(name)).await {
                        Ok(o) => Outcome::Objects(vec![with_kind(o, &ar)]),
                        Err(e) => failed(e),
                    }
                }
                QueryKind::Logs {
                    namespace,
                    pod,
                    container,
                    previous,
                    tail_lines,
                } => {
                    let api: Api<k8s_openapi::api::core::v1::Pod> =
                        Api::namespaced(self.client.clone(), namespace);
                    let lp = LogParams {
                        container: container.clone(),
                        previous: *previous,
                        tail_lines: *tail_lines,
                        ..Default::default()
                    };
                    match retrying(&query.kind, || api.logs(pod, &lp)).await {
                        Ok(body) => Outcome::Text { code: 200, body },
                        Err(e) => failed(e),
                    }
                }
                QueryKind::Raw { path } => {
                    let request = || async {
                        let req = http::Request::get(path.as_str())
                            .body(Vec::new())
                            .map_err(kube::Error::HttpError)?;
                        self.client.request_text(req).await
                    };
                    match retrying(&query.kind, request).await {
                        Ok(body) => Outcome::Text { code: 200, body },
                        Err(kube::Error::Api(s)) => Outcome::Text {
                            code: s.code,
                            body: s.message,
                        },
                        Err(e) => failed(e),
                    }
                }
                QueryKind::Connection => live_connection(&self.client).await,
                QueryKind::NodeLog { node, unit } => Outcome::Failed {
                    code: 0,
                    message: format!(
                        "a node's journal is read on the node: `journalctl -u {unit}` on {}",
                        node.as_deref().unwrap_or("each node")
                    ),
                },
            }
        })
    }
}

/// The connection as the client sees it: `GET /version` through the client, its error in
/// the observation when it fails. (The full examination needs the kubeconfig: the doctor
/// runs it before a client exists, in `check` and at TUI start-up.)
async fn live_connection(client: &kube::Client) -> Outcome {
    let mut obs = crate::cluster::doctor::Observation::default();
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        client.apiserver_version(),
    )
    .await;
    let (ok, detail) = match answer {
        Ok(Ok(v)) => (true, format!("GET /version: {}", v.git_version)),
        Ok(Err(kube::Error::Api(s))) => {
            obs.http_status = Some(s.code);
            obs.error = Some(s.message.clone());
            (false, format!("{}: {}", s.code, s.message))
        }
        Ok(Err(e)) => {
            let mut text = e.to_string();
            let mut cur = std::error::Error::source(&e);
            while let Some(s) = cur {
                text = format!("{text}: {s}");
                cur = s.source();
            }
            obs.error = Some(crate::cluster::doctor::kubectl_wording(&text));
            (false, text)
        }
        Err(_) => {
            obs.error = Some("GET /version: i/o timeout".into());
            (false, "no answer within 5s".into())
        }
    };
    obs.steps.push(crate::cluster::doctor::Probe {
        step: "version".into(),
        ok,
        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        detail,
    });
    Outcome::Objects(vec![obs.to_value()])
}

/// The plain list a watched query stands for, with the same kubectl command.
fn as_list(query: &Query, kind: Watched) -> Query {
    Query {
        kubectl: query.kubectl.clone(),
        kind: kind.as_list(),
    }
}

/// Stores of the watched kinds: what [`StoreBacked`] answers from.
pub trait WatchedStores: Send + Sync {
    /// Every object of `kind` when the store holds the kind fully listed and in sync.
    fn watched(&self, kind: Watched) -> Option<LeanObjects>;
}

impl<T: WatchedStores + ?Sized> WatchedStores for &T {
    fn watched(&self, kind: Watched) -> Option<LeanObjects> {
        (**self).watched(kind)
    }
}

/// A judged state: its stores, for the kinds its watchers had in sync.
impl WatchedStores for crate::cluster::state::ClusterState {
    fn watched(&self, kind: Watched) -> Option<LeanObjects> {
        let resource = kind.resource();
        let synced = matches!(
            self.sync_of(resource),
            Some(crate::cluster::SyncState::Synced)
        );
        (synced && self.fully_listed(resource)).then(|| match kind {
            Watched::Pods => LeanObjects::Pods(in_list_order(self.pods.clone())),
            Watched::Events => LeanObjects::Events(in_list_order(self.events.clone())),
        })
    }
}

/// The running watchers' stores, as they are at the moment of the query.
impl WatchedStores for crate::cluster::watch::StateView {
    fn watched(&self, kind: Watched) -> Option<LeanObjects> {
        match kind {
            Watched::Pods => self
                .synced_pods()
                .map(|v| LeanObjects::Pods(in_list_order(v))),
            Watched::Events => self
                .synced_events()
                .map(|v| LeanObjects::Events(in_list_order(v))),
        }
    }
}

/// A store's objects in the order the API server lists them (by namespace, then name): a
/// store iterates in hash order, different on every run, and playbooks that read "the first
/// pods of a component" must read the same ones live, from a list, and from a snapshot.
fn in_list_order<T: kube::Resource>(mut objects: Vec<Arc<T>>) -> Vec<Arc<T>> {
    objects.sort_by(|a, b| {
        let (a, b) = (a.meta(), b.meta());
        (a.namespace.as_deref(), a.name.as_deref())
            .cmp(&(b.namespace.as_deref(), b.name.as_deref()))
    });
    objects
}

/// A source that answers [`QueryKind::Watched`] queries from the watch stores it was given
/// when they hold the kind fully listed and in sync, and everything else (and a kind the
/// stores do not hold in sync) through `inner`: a live `check` and the TUI's findings list
/// pods and events once, for the health model and the playbooks alike.
pub struct StoreBacked<Q, S> {
    pub inner: Q,
    pub stores: S,
}

impl<Q, S> QuerySource for StoreBacked<Q, S>
where
    Q: std::ops::Deref + Send + Sync,
    Q::Target: QuerySource,
    S: WatchedStores,
{
    fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
        if let QueryKind::Watched { kind } = query.kind
            && let Some(objects) = self.stores.watched(kind)
        {
            return Box::pin(async move { Outcome::Lean(objects) });
        }
        self.inner.run(query)
    }

    fn partial(&self, query: &Query) -> bool {
        self.inner.partial(query)
    }

    fn live(&self) -> bool {
        self.inner.live()
    }
}

fn query_reads_secret(kind: &QueryKind) -> bool {
    matches!(kind, QueryKind::List { resource, .. } | QueryKind::Get { resource, .. } if resource == "secrets")
}

fn secrets_refused() -> Outcome {
    Outcome::Failed {
        code: 0,
        message: "ktriage never reads Secrets".into(),
    }
}

/// Query parameters that change the paging or the wait of a request, not its answer.
const VOLATILE_PARAMS: [&str; 7] = [
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "timeout",
    "timeoutSeconds",
    "allowWatchBookmarks",
    "follow",
];

/// Parameters of a log request that shape the stream, not whether the kubelet answers it:
/// a recorded refusal of `…/log?follow=true` answers `…/log?tailLines=50` too.
const LOG_STREAM_PARAMS: [&str; 5] = [
    "tailLines",
    "sinceSeconds",
    "sinceTime",
    "timestamps",
    "limitBytes",
];

/// Whether a recorded request path and a query's path ask the same thing: equal once the
/// volatile parameters are dropped and the rest compared in any order. For a pod's log, a
/// recorded request without `container` stands for any container of the pod.
fn same_request(recorded: &str, asked: &str) -> bool {
    fn key(p: &str, drop_container: bool) -> (String, Vec<String>) {
        let (path, query) = p.split_once('?').unwrap_or((p, ""));
        let log = path.ends_with("/log");
        let mut params: Vec<String> = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .filter(|kv| {
                let k = kv.split('=').next().unwrap_or("");
                let stream =
                    log && (LOG_STREAM_PARAMS.contains(&k) || (drop_container && k == "container"));
                !VOLATILE_PARAMS.contains(&k) && !stream
            })
            .map(str::to_string)
            .collect();
        params.sort();
        (path.trim_end_matches('/').to_string(), params)
    }
    if recorded == asked {
        return true;
    }
    let recorded_names_container = recorded.contains("container=");
    key(recorded, false) == key(asked, !recorded_names_container)
}

/// A snapshot in memory: lists and gets answered with the API server's selector semantics,
/// logs from its `PodLog`s, raw paths from its `Response`s.
pub struct SnapshotSource {
    pub snapshot: Snapshot,
}

fn kind_of(group: &str, resource: &str) -> Option<(&'static str, String)> {
    let def = RESOURCES
        .iter()
        .find(|d| d.group == group && d.plural == resource)?;
    Some((def.kind, def.api_version()))
}

/// The message of a Status body, or the body itself.
fn status_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

impl SnapshotSource {
    /// An error the API server answered for this request when the snapshot was taken: for
    /// exactly this path, or (lists and gets) for the resource's cluster-wide list when the
    /// snapshot holds none of the objects asked for.
    fn recorded_error(&self, query: &Query) -> Option<Outcome> {
        let s = &self.snapshot;
        let path = query.request();
        let path = path.trim_start_matches("GET ");
        let failed = |r: &crate::snapshot::RawResponse| Outcome::Failed {
            code: r.code,
            message: status_message(&r.body),
        };
        if let Some(r) = s
            .responses
            .iter()
            .find(|r| same_request(&r.path, path) && r.code >= 400)
        {
            return Some(failed(r));
        }
        let (group, resource) = match &query.kind {
            QueryKind::List {
                group, resource, ..
            }
            | QueryKind::Get {
                group, resource, ..
            } => (group, resource),
            _ => return None,
        };
        let cluster_list = super::engine::request_path(&QueryKind::List {
            group: group.clone(),
            resource: resource.clone(),
            namespace: None,
            label_selector: None,
            field_selector: None,
        });
        let cluster_list = cluster_list.trim_start_matches("GET ");
        let recorded = s
            .responses
            .iter()
            .find(|r| same_request(&r.path, cluster_list) && r.code >= 400)?;
        let kind = kind_of(group, resource)?.0;
        let namespace = match &query.kind {
            QueryKind::List { namespace, .. } | QueryKind::Get { namespace, .. } => {
                namespace.as_deref()
            }
            _ => None,
        };
        let held = s.objects.iter().any(|o| {
            o.get("kind").and_then(Value::as_str) == Some(kind)
                && namespace.is_none_or(|ns| {
                    o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                })
        });
        (!held).then(|| failed(recorded))
    }

    /// The answer when the snapshot did not capture what a list or get asks about: a
    /// recorded `Response` with a List body for the same request, else "not captured"
    /// (never an empty list or a 404, which would read as "does not exist").
    fn uncaptured(&self, query: &Query) -> Option<Outcome> {
        let (group, resource, namespace) = match &query.kind {
            QueryKind::List {
                group,
                resource,
                namespace,
                ..
            }
            | QueryKind::Get {
                group,
                resource,
                namespace,
                ..
            } => (group, resource, namespace.as_deref()),
            _ => return None,
        };
        let (kind, _) = kind_of(group, resource)?;
        if self.snapshot.capture_of(kind, namespace) != crate::snapshot::Capture::NotCaptured {
            return None;
        }
        let path = query.request();
        let path = path.trim_start_matches("GET ");
        if let Some(r) = self
            .snapshot
            .responses
            .iter()
            .find(|r| r.code == 200 && same_request(&r.path, path))
            && let Ok(body) = serde_json::from_str::<Value>(&r.body)
            && let Some(items) = body.get("items").and_then(Value::as_array)
        {
            let items = items
                .iter()
                .cloned()
                .map(|mut o| {
                    if let Some(m) = o.as_object_mut() {
                        m.entry("kind")
                            .or_insert_with(|| Value::String(kind.into()));
                    }
                    crate::snapshot::normalize_object(o)
                })
                .collect();
            return Some(Outcome::Objects(items));
        }
        let ns = namespace.map(|n| format!(" in {n}")).unwrap_or_default();
        Some(Outcome::Failed {
            code: 0,
            message: format!(
                "not captured: the snapshot holds no {resource}{ns} (`{}`)",
                query.kubectl
            ),
        })
    }

    fn answer(&self, query: &Query) -> Outcome {
        if let QueryKind::Watched { kind } = query.kind {
            // The plain list's answer (its recorded errors, what was not captured, legacy
            // versions normalised), decoded into the lean model once.
            return match self.answer(&as_list(query, kind)) {
                Outcome::Objects(objects) => Outcome::Lean(LeanObjects::decode(kind, &objects)),
                other => other,
            };
        }
        if query_reads_secret(&query.kind) {
            return secrets_refused();
        }
        if let Some(err) = self.recorded_error(query) {
            return err;
        }
        if let Some(out) = self.uncaptured(query) {
            return out;
        }
        let s = &self.snapshot;
        match &query.kind {
            QueryKind::List {
                group,
                resource,
                namespace,
                label_selector,
                field_selector,
            } => {
                let Some((kind, api_version)) = kind_of(group, resource) else {
                    return Outcome::Failed {
                        code: 404,
                        message: format!("unknown resource {resource}"),
                    };
                };
                let labels = match LabelSelector::parse(label_selector.as_deref().unwrap_or("")) {
                    Ok(l) => l,
                    Err(e) => {
                        return Outcome::Failed {
                            code: 400,
                            message: e.to_string(),
                        };
                    }
                };
                let fields = match FieldSelector::parse(field_selector.as_deref().unwrap_or("")) {
                    Ok(f) => f,
                    Err(e) => {
                        return Outcome::Failed {
                            code: 400,
                            message: e.to_string(),
                        };
                    }
                };
                let items = s
                    .objects
                    .iter()
                    .filter(|o| o.get("kind").and_then(Value::as_str) == Some(kind))
                    .filter(|o| {
                        o.get("apiVersion")
                            .and_then(Value::as_str)
                            .is_none_or(|v| v == api_version)
                    })
                    .filter(|o| {
                        namespace.as_deref().is_none_or(|ns| {
                            o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                        })
                    })
                    .filter(|o| labels.matches(o) && fields.matches(o))
                    .cloned()
                    .collect();
                Outcome::Objects(items)
            }
            QueryKind::Get {
                group,
                resource,
                namespace,
                name,
            } => {
                let Some((kind, _)) = kind_of(group, resource) else {
                    return Outcome::Failed {
                        code: 404,
                        message: format!("unknown resource {resource}"),
                    };
                };
                match s.object(kind, namespace.as_deref(), name) {
                    Some(o) => Outcome::Objects(vec![o.clone()]),
                    None => Outcome::Failed {
                        code: 404,
                        message: format!("{resource} \"{name}\" not found"),
                    },
                }
            }
            QueryKind::Logs {
                namespace,
                pod,
                container,
                previous,
                tail_lines,
            } => match s.pod_log(namespace, pod, container.as_deref(), *previous) {
                Some(log) => {
                    let body = match tail_lines {
                        Some(n) => {
                            let lines: Vec<&str> = log.text.lines().collect();
                            let skip = lines.len().saturating_sub(usize::try_from(*n).unwrap_or(0));
                            lines[skip..].join("\n")
                        }
                        None => log.text.clone(),
                    };
                    Outcome::Text { code: 200, body }
                }
                None => {
                    // The API server's refusal, when the capture recorded one.
                    let path = super::engine::request_path(&QueryKind::Logs {
                        namespace: namespace.clone(),
                        pod: pod.clone(),
                        container: container.clone(),
                        previous: *previous,
                        tail_lines: None,
                    });
                    let path = path.trim_start_matches("GET ");
                    match s
                        .responses
                        .iter()
                        .find(|r| same_request(&r.path, path) && r.code >= 400)
                    {
                        Some(r) => Outcome::Failed {
                            code: r.code,
                            message: status_message(&r.body),
                        },
                        None => Outcome::Failed {
                            code: 404,
                            message: format!("no log of {namespace}/{pod} in this snapshot"),
                        },
                    }
                }
            },
            QueryKind::Connection => {
                let server = s
                    .info
                    .as_ref()
                    .and_then(|i| i.server.as_deref())
                    .unwrap_or("");
                match s.connections.first() {
                    Some(c) => Outcome::Objects(vec![
                        crate::cluster::doctor::Observation::from_evidence(c).to_value(),
                    ]),
                    // Recorded 401/403 answers say who the API server took the client for.
                    None => match crate::cluster::doctor::Observation::from_responses(
                        server,
                        &s.responses,
                    ) {
                        Some(obs) => Outcome::Objects(vec![obs.to_value()]),
                        None => Outcome::Failed {
                            code: 0,
                            message: "not captured: no Connection evidence in this snapshot".into(),
                        },
                    },
                }
            }
            QueryKind::NodeLog { node, unit } => {
                let logs: Vec<&crate::snapshot::NodeLog> = s
                    .node_logs
                    .iter()
                    .filter(|l| node.as_deref().is_none_or(|n| l.node == n))
                    .filter(|l| l.unit == *unit || (l.unit.is_empty() && unit == "kubelet"))
                    .collect();
                match logs.as_slice() {
                    [] => Outcome::Failed {
                        code: 0,
                        message: format!(
                            "not captured: no `journalctl -u {unit}` of {} in this snapshot",
                            node.as_deref().unwrap_or("any node")
                        ),
                    },
                    [one] if node.is_some() => Outcome::Text {
                        code: 200,
                        body: one.text.clone(),
                    },
                    many => Outcome::Text {
                        code: 200,
                        body: many
                            .iter()
                            .map(|l| format!("-- {} --\n{}", l.node, l.text))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    },
                }
            }
            // Answered above, through the plain list.
            QueryKind::Watched { kind } => Outcome::Lean(LeanObjects::empty(*kind)),
            QueryKind::Raw { path } => {
                match s.responses.iter().find(|r| same_request(&r.path, path)) {
                    Some(r) => Outcome::Text {
                        code: r.code,
                        body: r.body.clone(),
                    },
                    None => Outcome::Failed {
                        code: 404,
                        message: format!("no answer for {path} in this snapshot"),
                    },
                }
            }
        }
    }
}

impl QuerySource for SnapshotSource {
    fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
        let out = self.answer(query);
        Box::pin(async move { out })
    }

    fn partial(&self, query: &Query) -> bool {
        if let QueryKind::Watched { kind } = query.kind {
            return self.partial(&as_list(query, kind));
        }
        let QueryKind::List {
            group,
            resource,
            namespace,
            ..
        } = &query.kind
        else {
            return false;
        };
        kind_of(group, resource).is_some_and(|(kind, _)| {
            self.snapshot.capture_of(kind, namespace.as_deref())
                == crate::snapshot::Capture::Partial
        })
    }
}

#[cfg(test)]
mod tests {
    use super::same_request;

    /// A watch store iterates in hash order; its watched answer comes in the API server's
    /// list order, the same on every run (playbooks read "the first pods of a component").
    #[test]
    fn store_answers_come_in_list_order() {
        use super::{QuerySource, StoreBacked, Watched};
        use crate::cluster::lean::MetaExt;
        use crate::playbooks::{LeanObjects, Outcome, engine::q};
        let mut state = crate::cluster::state::ClusterState::default();
        state.pods = [("b", "x"), ("a", "z"), ("a", "y")]
            .iter()
            .map(|(ns, n)| {
                std::sync::Arc::new(
                    serde_json::from_value(
                        serde_json::json!({"metadata": {"namespace": ns, "name": n}}),
                    )
                    .unwrap(),
                )
            })
            .collect();
        state.sync = vec![crate::cluster::ResourceSync {
            resource: "pods".into(),
            state: crate::cluster::SyncState::Synced,
        }];
        let source = StoreBacked {
            inner: Box::new(super::SnapshotSource {
                snapshot: crate::snapshot::Snapshot::default(),
            }),
            stores: &state,
        };
        let out = futures::executor::block_on(source.run(&q::watched(Watched::Pods)));
        let Outcome::Lean(LeanObjects::Pods(pods)) = out else {
            panic!("a lean answer: {out:?}");
        };
        let names: Vec<String> = pods
            .iter()
            .map(|p| format!("{}/{}", p.metadata.namespace_str(), p.metadata.name_str()))
            .collect();
        assert_eq!(names, ["a/y", "a/z", "b/x"]);
    }

    /// Pruning at decode drops only what no playbook reads: every playbook on every
    /// scenario finds the same, word for word, with the objects pruned as without.
    #[test]
    fn pruning_changes_no_finding() {
        use crate::playbooks::engine::{FindingReport, run_all};
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let findings = |snapshot: crate::snapshot::Snapshot| {
            let now = snapshot.clock().unwrap_or_default();
            let source = super::SnapshotSource { snapshot };
            let runs = rt.block_on(run_all(&source, now));
            runs.iter()
                .map(|r| {
                    serde_json::to_string(&FindingReport {
                        playbook: r.playbook.id,
                        code: r.playbook.code,
                        title: r.playbook.title,
                        finding: r.finding.as_ref().expect("a run with a finding"),
                    })
                    .expect("a finding serializes")
                })
                .collect::<Vec<_>>()
        };
        let mut pruned_something = false;
        for s in crate::scenarios::registry() {
            let mut pruned = s.snapshot.clone();
            for o in &mut pruned.objects {
                let before = o.clone();
                super::prune(o);
                pruned_something |= *o != before;
            }
            assert_eq!(findings(s.snapshot), findings(pruned), "scenario {}", s.id);
        }
        assert!(
            pruned_something,
            "the scenarios hold fields that pruning drops"
        );
    }

    #[test]
    fn recorded_requests_match_without_paging_wait_or_stream_parameters() {
        assert!(same_request(
            "/api/v1/pods?limit=500&resourceVersion=0",
            "/api/v1/pods"
        ));
        let log = "/api/v1/namespaces/a/pods/p/log?follow=true";
        assert!(same_request(
            log,
            "/api/v1/namespaces/a/pods/p/log?container=c&tailLines=1"
        ));
        // A recorded request for one container does not answer for another.
        assert!(!same_request(
            "/api/v1/namespaces/a/pods/p/log?container=x",
            "/api/v1/namespaces/a/pods/p/log?container=c"
        ));
        assert!(!same_request(
            "/api/v1/pods?labelSelector=a%3Db",
            "/api/v1/pods"
        ));
    }
}
