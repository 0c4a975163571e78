//! Where the data comes from: a scenario served in-process by the embedded API server, a
//! snapshot file, or a kubeconfig context; and the rebuild task that turns store changes into
//! new models for the UI (coalesced: the UI only ever sees the newest model), with the live
//! findings (`crate::findings`) joined into every model.

pub mod examine;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::app::Model;
use crate::cluster::client::{self, Connection};
use crate::cluster::state::ClusterState;
use crate::cluster::watch::Watchers;
use crate::health;
use crate::playbooks::source::{LiveSource, QuerySource, SnapshotSource};
use crate::report::ClusterInfo;
use crate::scenarios;
use crate::server::{self, ServerConfig, ServerHandle};
use crate::snapshot::Snapshot;

/// The three kinds of input every command accepts.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// An embedded scenario, served in-process over real HTTPS.
    Scenario(String),
    /// A snapshot file or `kubectl cluster-info dump` directory, judged at its own clock.
    Snapshot(PathBuf),
    /// A kubeconfig context (the current one when `None`).
    Context {
        kubeconfig: Option<PathBuf>,
        context: Option<String>,
    },
}

/// A live connection: watchers on a cluster, plus the embedded server when it serves a
/// scenario (kept alive as long as this value).
pub struct Live {
    pub watchers: Watchers,
    /// The client the watchers use, for playbook queries.
    pub client: kube::Client,
    pub context: String,
    pub server_url: String,
    pub server: Option<ServerHandle>,
    pub source: String,
    /// Examines the connection as the doctor does, for the findings `check` adds when some
    /// reads are refused.
    pub doctor: Option<crate::findings::DoctorProbe>,
}

/// How to serve a scenario id: an embedded scenario, or the generated cluster of
/// `scale` (`scale:nodes=N,pods=M,churn=R`), whose objects are made as the server stores them.
pub fn scenario_config(id: &str) -> Result<ServerConfig> {
    if let Some(scale) = scenarios::scale::Scale::parse_id(id) {
        let scale = scale?;
        let scenario = scale.scenario();
        let generated = scale.bulk(&scenario.snapshot.objects);
        let mut config = ServerConfig::new(scenario);
        config.generated = Some(Box::new(generated));
        return Ok(config);
    }
    let scenario = scenarios::find(id).with_context(|| {
        let ids: Vec<&str> = scenarios::registry().iter().map(|s| s.id).collect();
        format!(
            "no scenario named {id:?}; known scenarios: {}",
            ids.join(", ")
        )
    })?;
    Ok(ServerConfig::new(scenario))
}

/// Starts the embedded server for a scenario.
pub async fn serve_scenario(id: &str) -> Result<ServerHandle> {
    server::start(scenario_config(id)?)
        .await
        .context("starting the embedded API server")
}

/// Connects to a scenario (starting its server) or a kubeconfig context and starts watching.
pub async fn connect_live(spec: &SourceSpec) -> Result<Live> {
    use crate::cluster::doctor::Target;
    use crate::findings::doctor_probe;
    let (conn, server, source, doctor) = match spec {
        SourceSpec::Scenario(id) => {
            let handle = serve_scenario(id).await?;
            let kc = client::parse_kubeconfig(&handle.kubeconfig)?;
            let doctor = Target::from_kubeconfig(&kc, None)
                .ok()
                .map(|t| doctor_probe(t, handle.client_env.clone()));
            let conn: Connection = client::connect(kc, None).await?;
            (conn, Some(handle), format!("scenario {id}"), doctor)
        }
        SourceSpec::Context {
            kubeconfig,
            context,
        } => {
            let kc = client::load_kubeconfig(kubeconfig.as_deref())?;
            let doctor = Target::from_kubeconfig(&kc, context.as_deref())
                .ok()
                .map(|t| doctor_probe(t, crate::cluster::proxy::process_environment()));
            let conn = client::connect(kc, context.as_deref()).await?;
            let ctx = conn.context.clone();
            (conn, None, format!("context {ctx}"), doctor)
        }
        SourceSpec::Snapshot(path) => {
            anyhow::bail!("{} is a snapshot: it is read, not watched", path.display())
        }
    };
    Ok(Live {
        watchers: Watchers::start(conn.client.clone()),
        client: conn.client,
        context: conn.context,
        server_url: conn.server,
        server,
        source,
        doctor,
    })
}

/// A state to judge once, with the clock to judge it at and what it is about.
pub struct Judged {
    pub state: ClusterState,
    pub now: DateTime<Utc>,
    pub info: ClusterInfo,
    /// Answers the playbooks' queries from the same source.
    pub queries: Box<dyn QuerySource>,
    /// Keeps a scenario's server alive while the caller still needs it.
    pub server: Option<ServerHandle>,
}

/// What `check` says about a snapshot's coverage: the kinds it held, the stores it did not
/// capture (with the command that would), those the API server refused, undecodable objects.
fn snapshot_problems(snap: &Snapshot, state: &ClusterState) -> Vec<String> {
    let mut out = vec![format!("captured: {}", snap.captured_kinds().join(", "))];
    for s in &state.sync {
        match &s.state {
            crate::cluster::SyncState::NotCaptured { capture } => {
                out.push(format!("{}: not captured ({capture})", s.resource))
            }
            crate::cluster::SyncState::Forbidden { message, .. } => {
                out.push(format!("{}: forbidden ({message})", s.resource))
            }
            _ => {}
        }
    }
    // Left out, by name: documents that are not what they claim, objects that do not decode.
    const SHOWN: usize = 20;
    let dropped: Vec<&String> = snap.dropped.iter().chain(&state.dropped).collect();
    for d in dropped.iter().take(SHOWN) {
        out.push(format!("left out: {d}"));
    }
    if dropped.len() > SHOWN {
        out.push(format!("left out: {} more", dropped.len() - SHOWN));
    }
    out
}

/// Reads a source once, for `check`: a snapshot directly, a live source after its watchers
/// settled (or `settle` passed).
pub async fn judge_once(spec: &SourceSpec, settle: Duration) -> Result<Judged> {
    if let SourceSpec::Snapshot(path) = spec {
        let snap =
            Snapshot::load(path).with_context(|| format!("reading snapshot {}", path.display()))?;
        let state = ClusterState::from_snapshot(&snap);
        let now = snap.clock().unwrap_or_else(Utc::now);
        let info = ClusterInfo {
            source: "snapshot".into(),
            name: path.display().to_string(),
            server: snap.info.as_ref().and_then(|i| i.server.clone()),
            version: state.server_version.clone(),
            judged_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            problems: snapshot_problems(&snap, &state),
        };
        return Ok(Judged {
            state,
            now,
            info,
            queries: Box::new(SnapshotSource { snapshot: snap }),
            server: None,
        });
    }
    let live = connect_live(spec).await?;
    // A resource that failed is retried while half the time is left: a transient fault (a
    // reset, a truncated list, a 410, a 5xx burst) must not become the answer, and the other
    // half is the playbooks'.
    let started = std::time::Instant::now();
    if !live.watchers.wait_synced(settle / 2).await {
        live.watchers
            .wait_settled(settle.saturating_sub(started.elapsed()) / 2)
            .await;
    }
    let state = live.watchers.state();
    let now = Utc::now();
    let problems = state
        .sync
        .iter()
        .filter_map(|s| match &s.state {
            crate::cluster::SyncState::Synced => None,
            crate::cluster::SyncState::Syncing => Some(format!(
                "{}: still syncing after {}s (the first list never completed: no answer, or the server stopped sending mid-response)",
                s.resource,
                started.elapsed().as_secs()
            )),
            crate::cluster::SyncState::Forbidden {
                verb,
                resource,
                message,
            } => Some(format!("{resource}: cannot {verb}: {message}")),
            crate::cluster::SyncState::Failing { error, .. } => {
                Some(format!("{}: {error}", s.resource))
            }
            crate::cluster::SyncState::Stale { error, since, .. } => Some(format!(
                "{}: failing since {} (the view is from then): {error}",
                s.resource,
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )),
            crate::cluster::SyncState::NotCaptured { capture } => {
                Some(format!("{}: not captured ({capture})", s.resource))
            }
        })
        .collect();
    let (source, name) = match spec {
        SourceSpec::Scenario(id) => ("scenario", id.clone()),
        _ => ("context", live.context.clone()),
    };
    let info = ClusterInfo {
        source: source.into(),
        name,
        server: Some(live.server_url.clone()),
        version: state.server_version.clone(),
        judged_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        problems,
    };
    Ok(Judged {
        state,
        now,
        info,
        queries: Box::new(LiveSource {
            client: live.client,
        }),
        server: live.server,
    })
}

/// A query source for a spec without watching: a served scenario (kept alive by the
/// returned handle), a snapshot, or a kubeconfig context.
pub async fn query_source(
    spec: &SourceSpec,
) -> Result<(Box<dyn QuerySource>, Option<ServerHandle>)> {
    match spec {
        SourceSpec::Snapshot(path) => {
            let snap = Snapshot::load(path)
                .with_context(|| format!("reading snapshot {}", path.display()))?;
            Ok((Box::new(SnapshotSource { snapshot: snap }), None))
        }
        SourceSpec::Scenario(id) => {
            let handle = serve_scenario(id).await?;
            let kc = client::parse_kubeconfig(&handle.kubeconfig)?;
            let conn = client::connect(kc, None).await?;
            Ok((
                Box::new(LiveSource {
                    client: conn.client,
                }),
                Some(handle),
            ))
        }
        SourceSpec::Context {
            kubeconfig,
            context,
        } => {
            let kc = client::load_kubeconfig(kubeconfig.as_deref())?;
            let conn = client::connect(kc, context.as_deref()).await?;
            Ok((
                Box::new(LiveSource {
                    client: conn.client,
                }),
                None,
            ))
        }
    }
}

/// Rebuilds the model whenever the watchers report a change (at most every 200 ms) and every
/// second (ages move on), publishing only the newest; starts the findings task
/// (`findings::spawn`, over the query source `check` uses) and publishes the newest model
/// again with each new result, so every model carries the findings of the last evaluation.
pub fn spawn_producer(live: &Live) -> (watch::Receiver<Arc<Model>>, tokio::task::JoinHandle<()>) {
    spawn_producer_with(live, crate::findings::Cadence::default())
}

/// [`spawn_producer`] with the findings evaluated at `cadence`.
pub fn spawn_producer_with(
    live: &Live,
    cadence: crate::findings::Cadence,
) -> (watch::Receiver<Arc<Model>>, tokio::task::JoinHandle<()>) {
    let base = Model {
        context: live.context.clone(),
        server: live.server_url.clone(),
        ..Default::default()
    };
    let (tx, rx) = watch::channel(Arc::new(base.clone()));
    let mut changes = live.watchers.changes();
    let watchers = live.watchers.view();
    let settled_view = live.watchers.view();
    let (mut findings_rx, findings_task) = crate::findings::spawn(
        // Pods and events come from the watchers' stores: the findings list nothing the
        // health view already watches.
        Arc::new(crate::playbooks::source::StoreBacked {
            inner: Box::new(LiveSource {
                client: live.client.clone(),
            }),
            stores: live.watchers.view(),
        }),
        live.doctor.clone(),
        live.watchers.changes(),
        Arc::new(move || settled_view.settled()),
        cadence,
    );
    let task = tokio::spawn(async move {
        // Ends (and cancels an evaluation in progress) when this task ends or is aborted.
        let _findings_task = crate::findings::AbortOnDrop(findings_task);
        let mut findings_open = true;
        let mut last: Option<Arc<Model>> = None;
        // The rebuild costs time proportional to the cluster (about 0.5 s for 150,000 pods in
        // a release build): it runs off the async threads, and both the wait that coalesces
        // a burst of changes and the idle refresh (ages move on) stretch with its cost: at most
        // a tenth of a core while idle and a seventh under constant churn (1,000 watch events
        // a second at 150,000 pods: a new view every ~4 s instead of a core half busy).
        let mut cost = Duration::ZERO;
        let mut next_refresh = tokio::time::Instant::now();
        loop {
            tokio::select! {
                r = changes.changed() => {
                    if r.is_err() { return; }
                    tokio::time::sleep((cost * 6).max(Duration::from_millis(200))).await;
                }
                r = findings_rx.changed(), if findings_open => {
                    if r.is_err() {
                        findings_open = false;
                        continue;
                    }
                    // New findings: the newest model again with them (no rebuild).
                    let findings = findings_rx.borrow_and_update().clone();
                    let model = match &last {
                        Some(m) => Model { findings, ..(**m).clone() },
                        None => Model { findings, ..base.clone() },
                    };
                    let model = Arc::new(model);
                    last = Some(model.clone());
                    if tx.send(model).is_err() {
                        return;
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(next_refresh) => {}
            }
            let view = watchers.clone();
            let started = std::time::Instant::now();
            let built = tokio::task::spawn_blocking(move || {
                let state = view.state();
                let now = Utc::now();
                let report = health::build(&state, now);
                (state, report, now)
            })
            .await;
            let Ok((state, report, now)) = built else {
                return;
            };
            cost = started.elapsed();
            next_refresh = tokio::time::Instant::now() + (cost * 10).max(Duration::from_secs(1));
            let model = Arc::new(Model {
                report,
                sync: state.sync.clone(),
                server_version: state.server_version.clone(),
                updated_at: Some(Instant::now()),
                judged_at: Some(now),
                objects: crate::app::model::Objects(Arc::new(state)),
                findings: findings_rx.borrow().clone(),
                ..base.clone()
            });
            last = Some(model.clone());
            if tx.send(model).is_err() {
                return;
            }
        }
    });
    (rx, task)
}

/// A live source and its producer, kept running as long as this value: dropping it stops
/// the producer, the watchers and (for a scenario) the embedded server.
pub struct KeepAlive {
    _live: Live,
    producer: tokio::task::JoinHandle<()>,
}

impl KeepAlive {
    pub fn new(live: Live, producer: tokio::task::JoinHandle<()>) -> KeepAlive {
        KeepAlive {
            _live: live,
            producer,
        }
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.producer.abort();
    }
}

/// The contexts of the kubeconfig (`KUBECONFIG` merged as kubectl does, or `path`), and the
/// switcher `:ctx NAME` uses: it asks the connection doctor first, so a context that cannot
/// be used is refused with its cause while the current one stays on screen.
pub fn context_switcher(path: Option<PathBuf>) -> (Vec<String>, crate::tui::Switcher) {
    let contexts = client::load_kubeconfig(path.as_deref())
        .map(|kc| kc.contexts.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let switcher: crate::tui::Switcher = Arc::new(move |name: String| {
        let spec = SourceSpec::Context {
            kubeconfig: path.clone(),
            context: Some(name.clone()),
        };
        Box::pin(async move {
            if let Err(Unusable { cause, .. }) = usable(&spec).await.map(|_| ()) {
                return Err(format!(
                    "staying on the current context: {name} cannot be used: {cause} (`ktriage --context {name} check` explains)"
                ));
            }
            let live = connect_live(&spec)
                .await
                .map_err(|e| format!("cannot switch to {name}: {e:#}"))?;
            let (model_rx, producer) = spawn_producer(&live);
            let queries: Arc<dyn QuerySource> = Arc::new(LiveSource {
                client: live.client.clone(),
            });
            Ok(crate::tui::Switched {
                context: live.context.clone(),
                model_rx,
                queries,
                keep_alive: Box::new(KeepAlive::new(live, producer)),
            })
        })
    });
    (contexts, switcher)
}

/// Why a context cannot be used, in one line, and the server it names.
struct Unusable {
    server: String,
    cause: String,
}

/// Asks the connection doctor whether `spec` can be read: its observation, or when it
/// cannot, its cause (the first finding's summary, else the client's error).
async fn usable(spec: &SourceSpec) -> Result<crate::cluster::doctor::Observation, Unusable> {
    use crate::cluster::doctor::{self, Verdict};
    let examined = crate::source::examine::examine_spec(spec, &doctor::Options::default())
        .await
        .map_err(|e| Unusable {
            server: String::new(),
            cause: format!("{e:#}"),
        })?;
    let obs = &examined.observation;
    if obs.verdict() != Verdict::Blocked {
        return Ok(examined.observation);
    }
    let runs = crate::playbooks::connection::diagnose(obs, Utc::now()).await;
    let cause = runs
        .iter()
        .find_map(|r| r.finding.as_ref().map(|f| f.summary.clone()))
        .or_else(|| obs.error.clone())
        .unwrap_or_else(|| "the cluster cannot be read".into());
    Err(Unusable {
        server: obs.server.clone(),
        cause,
    })
}

/// Examines one context for the fleet view: the connection doctor first (a context that
/// cannot be used says why), then one read of the cluster judged by the health model and
/// the playbooks' findings, counted as `check` counts them. Never takes longer than `limit`.
pub async fn fleet_line(
    kubeconfig: Option<PathBuf>,
    context: String,
    limit: Duration,
) -> crate::app::fleet::FleetLine {
    use crate::app::fleet::{FleetLine, FleetStatus};
    let spec = SourceSpec::Context {
        kubeconfig,
        context: Some(context.clone()),
    };
    let unusable = |server: String, cause: String| FleetLine {
        context: context.clone(),
        server,
        status: FleetStatus::Unusable(cause),
    };
    let examine = async {
        let observation = match usable(&spec).await {
            Ok(o) => o,
            Err(u) => return unusable(u.server, u.cause),
        };
        let judged = match judge_once(&spec, limit / 2).await {
            Ok(j) => j,
            Err(e) => return unusable(String::new(), format!("{e:#}")),
        };
        let state = &judged.state;
        let ready = state
            .nodes
            .iter()
            .filter(|n| n.ready_condition().is_some_and(|c| c.is_true()))
            .count();
        // The doctor already examined the connection: its observation answers the probe.
        let probe: crate::findings::DoctorProbe = Arc::new(move || {
            let o = observation.clone();
            Box::pin(async move { Some(o) })
        });
        let source = crate::playbooks::source::StoreBacked {
            inner: judged.queries.as_ref(),
            stores: state,
        };
        let findings = crate::findings::evaluate(&source, Some(&probe), judged.now)
            .await
            .findings;
        crate::app::fleet::health_line(
            &context,
            judged.info.server.as_deref().unwrap_or_default(),
            &health::build(state, judged.now),
            (ready, state.nodes.len()),
            &findings,
        )
    };
    match tokio::time::timeout(limit, examine).await {
        Ok(line) => line,
        Err(_) => unusable(
            String::new(),
            format!("no answer within {} s", limit.as_secs()),
        ),
    }
}
/// The fleet probe `:fleet` uses for the contexts of `path` (or `KUBECONFIG`).
pub fn fleet_probe(path: Option<PathBuf>) -> crate::tui::FleetProbe {
    Arc::new(move |context: String| {
        let path = path.clone();
        Box::pin(fleet_line(path, context, Duration::from_secs(30)))
    })
}
