//! The watch layer: one kube-runtime watcher + reflector per resource the health model reads,
//! decoding list and watch pages straight into the lean types (paginated lists, relist after
//! 410, backoff on errors), a visible sync state per resource, a `/readyz?verbose` poller,
//! and a coalesced "something changed" signal for whoever rebuilds the model.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::lean::{DaemonSet, Deployment, Event, Lease, Node, Pod, StatefulSet};
use super::state::ClusterState;
use super::{ResourceSync, SyncState};

/// How long the server keeps an idle watch open before ending it (the watcher then watches
/// again from where it was): shorter than the client's read timeout
/// (`client::READ_TIMEOUT`), so only a stalled answer is ever cut by it.
const WATCH_TIMEOUT: Duration = Duration::from_secs(20);

/// How often `/readyz?verbose` is fetched, and how long one fetch may take. It doubles as
/// the heartbeat of the connection: a server that stops answering (a stall, a blackhole) is
/// noticed within two of these, and the view is then judged at its last answer.
const READYZ_EVERY: Duration = Duration::from_secs(5);

/// Reflector stores and sync states of one cluster connection. Dropping it stops every
/// watcher.
pub struct Watchers {
    view: StateView,
    changed: watch::Receiver<u64>,
    tasks: Vec<JoinHandle<()>>,
}

/// A cheap, clonable reader of the watchers' stores (for the rebuild task).
#[derive(Clone)]
pub struct StateView {
    nodes: Store<Node>,
    pods: Store<Pod>,
    system_leases: Store<Lease>,
    node_leases: Store<Lease>,
    events: Store<Event>,
    daemonsets: Store<DaemonSet>,
    deployments: Store<Deployment>,
    statefulsets: Store<StatefulSet>,
    shared: Arc<Mutex<Shared>>,
}

#[derive(Default)]
struct Shared {
    sync: Vec<ResourceSync>,
    readyz: Option<String>,
    server_version: Option<String>,
}

impl Shared {
    fn set(&mut self, resource: &str, state: SyncState) {
        match self.sync.iter_mut().find(|s| s.resource == resource) {
            Some(s) => s.state = state,
            None => self.sync.push(ResourceSync {
                resource: resource.to_string(),
                state,
            }),
        }
    }
}

/// Bumps the change counter; receivers see only the newest value (coalescing bursts).
#[derive(Clone)]
struct Notifier(Arc<watch::Sender<u64>>);

impl Notifier {
    fn bump(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The longest pause between two attempts of a failing watch: after an outage the view is
/// back within this (plus one list) of the server answering again. kube-runtime's default
/// grows to 30 s, which left panes failing long after the server was back.
const MAX_BACKOFF: Duration = Duration::from_secs(4);
const FIRST_BACKOFF: Duration = Duration::from_millis(800);

/// 800 ms doubling up to [`MAX_BACKOFF`], back to the start after a success.
struct QuickBackoff {
    next: Duration,
}

impl QuickBackoff {
    fn new() -> Self {
        QuickBackoff {
            next: FIRST_BACKOFF,
        }
    }
}

impl Iterator for QuickBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        Some(now)
    }
}

impl kube::runtime::utils::Backoff for QuickBackoff {
    fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }
}

/// Seconds until the retry after `attempt` failures (as [`QuickBackoff`] waits).
fn retry_secs(attempt: u32) -> u64 {
    let d = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.min(8)));
    d.min(MAX_BACKOFF).as_secs_f64().ceil() as u64
}

/// An error with its causes, each said once: `client error (Connect)` alone names nothing.
pub fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(s) = cur {
        let part = s.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cur = s.source();
    }
    text
}

/// Whether a connection error is the server's certificate failing verification.
fn certificate_rejected(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("invalid peer certificate") || t.contains("unknownissuer")
}

/// The words for a failure: a certificate that no longer verifies against the CA the
/// kubeconfig trusts, once the connection had worked, is a server with a new CA.
fn failure_text(text: String, was_synced: bool) -> String {
    if certificate_rejected(&text) {
        if was_synced {
            return format!(
                "the server's certificate changed (new CA) — re-fetch the kubeconfig ({text})"
            );
        }
        return format!("the server's certificate is not signed by the kubeconfig's CA ({text})");
    }
    text
}

/// Whether the error is a watch expiring (410 Gone): the watcher lists again on its own,
/// which is routine, not a failure to show.
fn expired(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::WatchError(s) => s.code == 410,
        watcher::Error::WatchFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s)) => s.code == 410,
        _ => false,
    }
}

/// The sync state an error of the watcher stands for; `since` is when the resource, synced
/// before, started failing (its store then holds a stale view).
fn classify(
    resource: &str,
    err: &watcher::Error,
    attempt: u32,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> SyncState {
    let (verb, status) = match err {
        watcher::Error::InitialListFailed(kube::Error::Api(s)) => ("list", Some(s.as_ref())),
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => ("watch", Some(s.as_ref())),
        watcher::Error::WatchError(s) => ("watch", Some(s.as_ref())),
        _ => ("list", None),
    };
    if let Some(s) = status
        && s.code == 403
    {
        return SyncState::Forbidden {
            verb: verb.to_string(),
            resource: resource.to_string(),
            message: s.message.clone(),
        };
    }
    let error = failure_text(describe(err), since.is_some());
    let retry_in_secs = retry_secs(attempt);
    match since {
        Some(since) => SyncState::Stale {
            error,
            retry_in_secs,
            since,
        },
        None => SyncState::Failing {
            error,
            retry_in_secs,
        },
    }
}

fn spawn_reflector<K>(
    api: Api<K>,
    label: &'static str,
    shared: Arc<Mutex<Shared>>,
    notify: Notifier,
) -> (Store<K>, JoinHandle<()>)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    lock(&shared).set(label, SyncState::Syncing);
    let probe_api = api.clone();
    let stream = watcher(
        api,
        watcher::Config::default().timeout(WATCH_TIMEOUT.as_secs() as u32),
    )
    .backoff(QuickBackoff::new())
    .reflect(writer);
    let task = tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        let mut failures = 0u32;
        // After a failure the watcher retries on its own and says nothing when the retry
        // works (it resumes from the last resourceVersion without a relist), so a failing
        // resource would stay "failing" until an object changed. When no new error comes
        // within the retry window, one small list tells whether the server answers again.
        let mut recheck_at: Option<tokio::time::Instant> = None;
        // Whether the store ever held a full view, and since when it is failing: a failure
        // after a sync keeps the last view, marked stale.
        let mut was_synced = false;
        let mut failing_since: Option<chrono::DateTime<chrono::Utc>> = None;
        loop {
            let next = match recheck_at {
                Some(at) => match tokio::time::timeout_at(at, stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        if answers(&probe_api).await {
                            failures = 0;
                            recheck_at = None;
                            failing_since = None;
                            lock(&shared).set(label, SyncState::Synced);
                            notify.bump();
                        } else {
                            recheck_at = Some(tokio::time::Instant::now() + RECHECK_GRACE);
                        }
                        continue;
                    }
                },
                None => stream.next().await,
            };
            let Some(item) = next else { break };
            match item {
                Ok(watcher::Event::InitDone) => {
                    failures = 0;
                    recheck_at = None;
                    was_synced = true;
                    failing_since = None;
                    lock(&shared).set(label, SyncState::Synced);
                    notify.bump();
                }
                Ok(watcher::Event::Init) | Ok(watcher::Event::InitApply(_)) => {}
                Ok(_) => {
                    if failures > 0 {
                        failures = 0;
                        recheck_at = None;
                        failing_since = None;
                        lock(&shared).set(label, SyncState::Synced);
                    }
                    notify.bump();
                }
                Err(e) if expired(&e) => {
                    // 410 Gone: the watcher lists again at once; the view stays as it is.
                    tracing::debug!(resource = label, "watch expired; relisting");
                }
                Err(e) => {
                    if was_synced && failing_since.is_none() {
                        // A read that timed out heard nothing for the whole read timeout:
                        // the view was last whole before that silence.
                        let silent = describe(&e).to_ascii_lowercase().contains("timed out");
                        let back = if silent {
                            chrono::Duration::from_std(super::client::READ_TIMEOUT)
                                .unwrap_or_default()
                        } else {
                            chrono::Duration::zero()
                        };
                        failing_since = Some(chrono::Utc::now() - back);
                    }
                    let state = classify(label, &e, failures, failing_since);
                    failures = failures.saturating_add(1);
                    tracing::warn!(resource = label, error = %describe(&e), "watch failed");
                    recheck_at = match &state {
                        SyncState::Failing { retry_in_secs, .. }
                        | SyncState::Stale { retry_in_secs, .. } => Some(
                            tokio::time::Instant::now()
                                + Duration::from_secs(*retry_in_secs)
                                + RECHECK_GRACE,
                        ),
                        _ => None,
                    };
                    lock(&shared).set(label, state);
                    notify.bump();
                }
            }
        }
    });
    (reader, task)
}

/// How long past its retry a failed watch must stay quiet before one list checks it.
const RECHECK_GRACE: Duration = Duration::from_secs(2);

/// Whether the server answers a one-item list of the resource within a few seconds.
async fn answers<K>(api: &Api<K>) -> bool
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    let lp = kube::api::ListParams::default().limit(1);
    matches!(
        tokio::time::timeout(Duration::from_secs(5), api.list_metadata(&lp)).await,
        Ok(Ok(_))
    )
}

impl Watchers {
    /// Starts every watcher and the readyz poller on the current runtime.
    pub fn start(client: Client) -> Watchers {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, changed) = watch::channel(0u64);
        let notify = Notifier(Arc::new(tx));
        let mut tasks = Vec::new();
        macro_rules! reflect {
            ($api:expr, $label:literal) => {{
                let (store, task) = spawn_reflector($api, $label, shared.clone(), notify.clone());
                tasks.push(task);
                store
            }};
        }
        let nodes = reflect!(Api::<Node>::all(client.clone()), "nodes");
        let pods = reflect!(Api::<Pod>::all(client.clone()), "pods");
        let system_leases = reflect!(
            Api::<Lease>::namespaced(client.clone(), "kube-system"),
            "leases"
        );
        let node_leases = reflect!(
            Api::<Lease>::namespaced(client.clone(), "kube-node-lease"),
            "node-leases"
        );
        let events = reflect!(Api::<Event>::all(client.clone()), "events");
        let daemonsets = reflect!(Api::<DaemonSet>::all(client.clone()), "daemonsets");
        let deployments = reflect!(Api::<Deployment>::all(client.clone()), "deployments");
        let statefulsets = reflect!(Api::<StatefulSet>::all(client.clone()), "statefulsets");
        tasks.push(tokio::spawn(poll_probes(client, shared.clone(), notify)));
        Watchers {
            view: StateView {
                nodes,
                pods,
                system_leases,
                node_leases,
                events,
                daemonsets,
                deployments,
                statefulsets,
                shared,
            },
            changed,
            tasks,
        }
    }

    /// A reader of the stores that can move into another task.
    pub fn view(&self) -> StateView {
        self.view.clone()
    }

    pub fn state(&self) -> ClusterState {
        self.view.state()
    }

    pub fn settled(&self) -> bool {
        self.view.settled()
    }

    /// A receiver that changes whenever a store or a sync state changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.clone()
    }

    /// Waits until every resource settled, or `timeout`; returns whether they settled.
    pub async fn wait_settled(&self, timeout: Duration) -> bool {
        let mut rx = self.changes();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.settled() {
                return true;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return self.settled();
            }
        }
    }
}

impl Watchers {
    /// Waits until every resource is synced (or refused: that will not change by waiting)
    /// or `timeout` passes; a resource that fails is retried meanwhile. Returns whether all
    /// did. `check` waits this way so a transient fault does not become its answer.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut rx = self.changes();
        let deadline = tokio::time::Instant::now() + timeout;
        let done = |v: &StateView| {
            let shared = lock(&v.shared);
            !shared.sync.is_empty()
                && shared.sync.iter().all(|s| {
                    matches!(
                        s.state,
                        SyncState::Synced
                            | SyncState::Forbidden { .. }
                            | SyncState::NotCaptured { .. }
                    )
                })
        };
        loop {
            if done(&self.view) {
                return true;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return done(&self.view);
            }
        }
    }
}

impl StateView {
    /// The current stores as a `ClusterState` (cheap: the stores hand out `Arc`s).
    pub fn state(&self) -> ClusterState {
        let shared = lock(&self.shared);
        let mut leases = self.system_leases.state();
        leases.extend(self.node_leases.state());
        ClusterState {
            nodes: self.nodes.state(),
            pods: self.pods.state(),
            leases,
            events: self.events.state(),
            daemonsets: self.daemonsets.state(),
            deployments: self.deployments.state(),
            statefulsets: self.statefulsets.state(),
            readyz: shared.readyz.clone(),
            server_version: shared.server_version.clone(),
            sync: shared.sync.clone(),
            dropped: Vec::new(),
            partial: Vec::new(),
        }
    }

    /// The pods store when its watch is in sync (every pod listed and current), else `None`.
    pub fn synced_pods(&self) -> Option<Vec<Arc<Pod>>> {
        self.synced("pods").then(|| self.pods.state())
    }

    /// The events store when its watch is in sync, else `None`.
    pub fn synced_events(&self) -> Option<Vec<Arc<Event>>> {
        self.synced("events").then(|| self.events.state())
    }

    fn synced(&self, resource: &str) -> bool {
        lock(&self.shared)
            .sync
            .iter()
            .any(|s| s.resource == resource && matches!(s.state, SyncState::Synced))
    }

    /// Whether every resource finished its first sync (or settled as forbidden or failing).
    pub fn settled(&self) -> bool {
        let shared = lock(&self.shared);
        !shared.sync.is_empty()
            && shared
                .sync
                .iter()
                .all(|s| !matches!(s.state, SyncState::Syncing))
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// How often `/readyz?verbose` is fetched while it fails (so the view returns quickly).
const READYZ_RETRY: Duration = Duration::from_secs(2);

/// Fetches `/version` once and `/readyz?verbose` every few seconds. When the server stops
/// answering, the last answer is kept and marked stale with its age (never shown as if the
/// server still said it).
async fn poll_probes(client: Client, shared: Arc<Mutex<Shared>>, notify: Notifier) {
    lock(&shared).set("readyz", SyncState::Syncing);
    let mut version_known = false;
    // When the server last answered: a stale view dates from then.
    let mut last_answer: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        if !version_known && let Ok(v) = client.apiserver_version().await {
            lock(&shared).server_version = Some(v.git_version);
            version_known = true;
        }
        let req = http::Request::get("/readyz?verbose").body(Vec::new());
        let answer = match req {
            Ok(req) => tokio::time::timeout(READYZ_EVERY, client.request_text(req))
                .await
                .unwrap_or_else(|_| {
                    Err(kube::Error::Service(
                        format!("no answer within {}s", READYZ_EVERY.as_secs()).into(),
                    ))
                }),
            Err(e) => Err(kube::Error::Service(e.to_string().into())),
        };
        let had_answer = lock(&shared).readyz.is_some();
        let state = match answer {
            Ok(body) => {
                lock(&shared).readyz = Some(body);
                SyncState::Synced
            }
            // A failing readyz answers 500 with the check list as its body.
            Err(kube::Error::Api(s)) if s.code == 500 && s.message.contains("[-]") => {
                lock(&shared).readyz = Some(s.message.clone());
                SyncState::Synced
            }
            Err(kube::Error::Api(s)) if s.code == 403 => SyncState::Forbidden {
                verb: "get".into(),
                resource: "/readyz".into(),
                message: s.message.clone(),
            },
            Err(e) => {
                let error = failure_text(describe(&e), had_answer);
                let retry_in_secs = READYZ_RETRY.as_secs();
                if had_answer {
                    SyncState::Stale {
                        error,
                        retry_in_secs,
                        since: last_answer.unwrap_or_else(chrono::Utc::now),
                    }
                } else {
                    SyncState::Failing {
                        error,
                        retry_in_secs,
                    }
                }
            }
        };
        let ok = matches!(state, SyncState::Synced | SyncState::Forbidden { .. });
        if ok {
            last_answer = Some(chrono::Utc::now());
        }
        lock(&shared).set("readyz", state);
        notify.bump();
        tokio::time::sleep(if ok { READYZ_EVERY } else { READYZ_RETRY }).await;
    }
}
