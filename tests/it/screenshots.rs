//! The PNG screenshots in `screenshots/`, rendered from the real drawing code
//! (`ktriage::ui::render_to_buffer`) with the default theme, and checked to be current.
//!
//! Regenerate them with:
//!
//! ```text
//! KTRIAGE_UPDATE_SCREENSHOTS=1 cargo test --test it screenshots::
//! ```
//!
//! Without that variable every screenshot is rendered again and compared byte for byte with
//! the committed file, so a change to the UI that is not reflected in the images fails here.
//! The screens show the `node-notready-demo` scenario judged at its own clock, at the moment
//! its timeline has made worker-2 NotReady, with a coredns pod crash-looping on top, and the
//! findings every playbook makes of that snapshot at its clock (as `check --snapshot` would); the
//! doctor screen shows the `kubeconfig-ca-mismatch` scenario's connection evidence.

mod screenshot_render;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ktriage::app::doctor::{DoctorApp, Examination};
use ktriage::app::{App, Model, Msg, Overlay, Pane};
use ktriage::cluster::doctor::{Observation, Probe};
use ktriage::cluster::state::ClusterState;
use ktriage::cluster::{ResourceSync, SyncState};
use ktriage::health::Severity;
use ktriage::snapshot::Snapshot;
use ktriage::ui::{buffer_lines, render_to_buffer};
use ratatui::buffer::Buffer;
use serde_json::{Value, json};

use screenshot_render::Renderer;

const UPDATE_VAR: &str = "KTRIAGE_UPDATE_SCREENSHOTS";
/// Committed screenshots stay small enough for a README and a repository.
const MAX_BYTES: usize = 300 * 1024;

// ---- the model ----------------------------------------------------------------------

fn object_mut<'a>(
    snapshot: &'a mut Snapshot,
    kind: &str,
    namespace: Option<&str>,
    name_prefix: &str,
) -> &'a mut Value {
    snapshot
        .objects
        .iter_mut()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["namespace"].as_str() == namespace
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(name_prefix))
        })
        .unwrap_or_else(|| panic!("the scenario has no {kind} {namespace:?}/{name_prefix}*"))
}

/// The element of the array at `pointer` whose `key` is `value`.
fn element_mut<'a>(object: &'a mut Value, pointer: &str, key: &str, value: &str) -> &'a mut Value {
    object
        .pointer_mut(pointer)
        .and_then(Value::as_array_mut)
        .and_then(|items| items.iter_mut().find(|i| i[key] == value))
        .unwrap_or_else(|| panic!("no {pointer}[{key}={value}]"))
}

/// `node-notready-demo` after its +20 s step (worker-2 NotReady, unreachable taints), plus a
/// crash-looping coredns pod, judged at the snapshot's clock.
fn broken_snapshot() -> Snapshot {
    let scenario =
        ktriage::scenarios::find("node-notready-demo").expect("scenario node-notready-demo");
    let mut snapshot = scenario.snapshot;
    let clock = snapshot.clock().expect("the scenario has a clock");
    let at = |secs_ago: i64| (clock - chrono::Duration::seconds(secs_ago)).to_rfc3339();

    let node = object_mut(&mut snapshot, "Node", None, "worker-2");
    for t in ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"] {
        let c = element_mut(node, "/status/conditions", "type", t);
        c["status"] = json!("Unknown");
        c["reason"] = json!("NodeStatusUnknown");
        c["message"] = json!("Kubelet stopped posting node status.");
        c["lastTransitionTime"] = json!(at(40));
    }
    node["spec"]["taints"] = json!([
        {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable", "timeAdded": at(40)},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "timeAdded": at(40)},
    ]);

    let pod = object_mut(&mut snapshot, "Pod", Some("kube-system"), "coredns-");
    let status = element_mut(pod, "/status/containerStatuses", "name", "coredns");
    status["ready"] = json!(false);
    status["restartCount"] = json!(14);
    status["state"] = json!({"waiting": {
        "reason": "CrashLoopBackOff",
        "message": "back-off 5m0s restarting failed container=coredns",
    }});
    status["lastState"] = json!({"terminated": {
        "reason": "Error",
        "exitCode": 1,
        "startedAt": at(330),
        "finishedAt": at(325),
    }});
    let ready = element_mut(pod, "/status/conditions", "type", "Ready");
    ready["status"] = json!("False");
    ready["reason"] = json!("ContainersNotReady");
    let deployment = object_mut(&mut snapshot, "Deployment", Some("kube-system"), "coredns");
    deployment["status"]["readyReplicas"] = json!(1);
    deployment["status"]["availableReplicas"] = json!(1);
    deployment["status"]["unavailableReplicas"] = json!(1);
    snapshot
}

fn model() -> Arc<Model> {
    let snapshot = broken_snapshot();
    let state = ClusterState::from_snapshot(&snapshot);
    let clock = snapshot.clock().expect("the scenario has a clock");
    let report = ktriage::health::build(&state, clock);
    let source = ktriage::playbooks::source::SnapshotSource {
        snapshot: snapshot.clone(),
    };
    let runs = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(ktriage::findings::evaluate(&source, None, clock))
        .findings;
    let sync = [
        "nodes",
        "pods",
        "leases",
        "events",
        "daemonsets",
        "deployments",
        "statefulsets",
    ]
    .into_iter()
    .map(|resource| ResourceSync {
        resource: resource.to_string(),
        state: SyncState::Synced,
    })
    .collect();
    Arc::new(Model {
        report,
        sync,
        context: "ktriage-node-notready-demo".into(),
        server: "https://127.0.0.1:6443".into(),
        server_version: Some("v1.31.4".into()),
        // Stamped by `check` just before each frame is drawn.
        updated_at: None,
        notice: None,
        objects: ktriage::app::model::Objects(Arc::new(state)),
        judged_at: Some(clock),
        findings: ktriage::findings::Findings {
            runs: Arc::new(runs),
            // Stamped by `check` like `updated_at`.
            evaluated_at: None,
            running: false,
            note: None,
            could_not_check: 0,
            unchecked: Default::default(),
        },
    })
}

fn app(model: &Arc<Model>, width: u16, height: u16) -> App {
    let mut app = App::new();
    app.update(Msg::Resize(width, height));
    app.update(Msg::ModelChanged(model.clone()));
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

// ---- rendering and comparing --------------------------------------------------------

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("screenshots")
        .join(name)
}

/// Renders `app` at its size into `screenshots/NAME`: writes the file when
/// KTRIAGE_UPDATE_SCREENSHOTS=1, else fails unless the committed file has the same bytes.
fn check(name: &str, app: &mut App) {
    let (width, height) = app.size();
    // "updated 2s ago" in the status line: the age is taken from the wall clock when the
    // frame is drawn, so the model is stamped just before; a frame delayed past the next
    // second (a stalled machine) is simply drawn again.
    let mut buffer = None;
    for _ in 0..5 {
        // Published to the app like any new model (the pane titles count problems only
        // for the model the app holds).
        let stamp = Instant::now() - Duration::from_secs(2);
        let mut model = Model {
            updated_at: Some(stamp),
            ..(**app.model()).clone()
        };
        model.findings.evaluated_at = Some(stamp);
        let model = Arc::new(model);
        app.update(Msg::ModelChanged(model.clone()));
        let drawn = render_to_buffer(app, &model, width, height);
        let text = buffer_lines(&drawn).join("\n");
        let current = !text.contains("updated ") || text.contains("updated 2s ago");
        buffer = Some(drawn);
        if current {
            break;
        }
    }
    let buffer = buffer.expect("drawn at least once");
    check_buffer(name, &buffer);
}

/// Writes `buffer` as `screenshots/NAME` when KTRIAGE_UPDATE_SCREENSHOTS=1, else fails
/// unless the committed file has the same bytes.
fn check_buffer(name: &str, buffer: &Buffer) {
    let renderer = Renderer::new().unwrap_or_else(|e| panic!("{e}"));
    let png = renderer
        .render_png(buffer)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        png.len() < MAX_BYTES,
        "{name} is {} bytes, over {MAX_BYTES}",
        png.len()
    );
    let file = path(name);
    if std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &png).unwrap();
        eprintln!("wrote {} ({} bytes)", file.display(), png.len());
        return;
    }
    let committed = std::fs::read(&file).unwrap_or_else(|e| {
        panic!(
            "screenshots/{name} cannot be read ({e}): run \
             `{UPDATE_VAR}=1 cargo test --test it screenshots::`"
        )
    });
    assert!(
        committed == png,
        "screenshots/{name} is stale: run `{UPDATE_VAR}=1 cargo test --test it screenshots::`\n\
         the screen now reads:\n{}",
        buffer_lines(buffer).join("\n")
    );
}

fn screen_text(app: &App, model: &Model) -> String {
    let (w, h) = app.size();
    buffer_lines(&render_to_buffer(app, model, w, h)).join("\n")
}

// ---- the screenshots ----------------------------------------------------------------

#[test]
fn the_scenario_shows_what_the_screenshots_promise() {
    let model = model();
    let nodes = &model.report.nodes;
    assert_eq!(nodes[0].severity, Severity::Critical, "{nodes:#?}");
    assert_eq!(nodes[0].title, "worker-2");
    assert!(
        model
            .report
            .addons
            .iter()
            .any(|i| i.title.contains("coredns") && i.severity == Severity::Critical),
        "{:#?}",
        model.report.addons
    );
}

#[test]
fn overview_160x45() {
    let model = model();
    let mut app = app(&model, 160, 45);
    let text = screen_text(&app, &model);
    assert!(text.contains("worker-2"), "{text}");
    check("overview-160x45.png", &mut app);
}

#[test]
fn overview_120x36() {
    let model = model();
    check("overview-120x36.png", &mut app(&model, 120, 36));
}

#[test]
fn overview_80x24() {
    let model = model();
    check("overview-80x24.png", &mut app(&model, 80, 24));
}

#[test]
fn detail_120x36() {
    let model = model();
    let mut app = app(&model, 120, 36);
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.focus(), Pane::Nodes);
    key(&mut app, KeyCode::Enter);
    match app.overlay() {
        Overlay::Detail(d) => {
            assert_eq!(d.item.title, "worker-2");
            assert_eq!(d.item.severity, Severity::Critical);
        }
        other => panic!("Enter opened {other:?}"),
    }
    check("detail-120x36.png", &mut app);
}

#[test]
fn help_120x36() {
    let model = model();
    let mut app = app(&model, 120, 36);
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(app.overlay(), &Overlay::Help);
    check("help-120x36.png", &mut app);
}

#[test]
fn too_small_50x12() {
    let model = model();
    let mut app = app(&model, 50, 12);
    assert!(screen_text(&app, &model).contains("Terminal too small"));
    check("too-small-50x12.png", &mut app);
}

/// The runner after `:playbook node-notready-no-cni` ran on that scenario's snapshot, judged
/// at the snapshot's own clock (so every age in it is the same on every run).
#[test]
fn runner_120x36() {
    let scenario = ktriage::scenarios::find("node-notready-no-cni").unwrap();
    let now = scenario.snapshot.clock().unwrap();
    let playbook = ktriage::playbooks::find("node-notready-no-cni").unwrap();
    let source = ktriage::playbooks::source::SnapshotSource {
        snapshot: scenario.snapshot.clone(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let run = rt.block_on(ktriage::playbooks::engine::run(
        playbook,
        &source,
        &mut ktriage::playbooks::engine::Cache::default(),
        now,
    ));
    assert!(run.finding.is_some(), "the scenario shows its cause");
    let model = model();
    let mut app = app(&model, 120, 36);
    let effects = app.open_playbook("node-notready-no-cni");
    assert!(!effects.is_empty(), "opening the playbook asks to run it");
    app.update(Msg::PlaybookRan(Arc::new(run)));
    let text = screen_text(&app, &model);
    assert!(text.contains("NET-01") && text.contains("Fix"), "{text}");
    check("runner-120x36.png", &mut app);
}

/// The paste box with an error message pasted into it.
#[test]
fn paste_box_120x36() {
    let model = model();
    let mut app = app(&model, 120, 36);
    key(&mut app, KeyCode::Char('e'));
    app.update(Msg::Paste(
        "Warning  FailedScheduling  default-scheduler  0/6 nodes are available: 6 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.\nKubelet: network plugin is not ready: cni config uninitialized"
            .into(),
    ));
    let text = screen_text(&app, &model);
    assert!(text.contains("cni config uninitialized"), "{text}");
    check("paste-box-120x36.png", &mut app);
}

/// The Connection evidence `ktriage snapshot --scenario kubeconfig-ca-mismatch` writes when
/// the cluster cannot be read (the served leaf is issued by a `CN=kubernetes` CA with another
/// key), with the server on :6443 and the clock at the scenario's own, so every run is alike.
fn ca_mismatch_evidence() -> Snapshot {
    let scenario = ktriage::scenarios::find("kubeconfig-ca-mismatch").unwrap();
    let clock = scenario.snapshot.clock().expect("the scenario has a clock");
    let at = |d: chrono::Duration| (clock + d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let yaml = format!(
        r#"apiVersion: ktriage/v1
kind: SnapshotInfo
capturedAt: '{captured}'
context: ktriage-kubeconfig-ca-mismatch
server: https://127.0.0.1:6443
---
apiVersion: ktriage/v1
kind: Connection
server: https://127.0.0.1:6443
error: 'x509: certificate signed by unknown authority'
servedCertificate:
  dnsNames: [localhost, kubernetes, kubernetes.default, kubernetes.default.svc, kubernetes.default.svc.cluster.local]
  ipAddresses: [127.0.0.1, 10.96.0.1]
  issuer: CN=kubernetes
  notAfter: '{not_after}'
  notBefore: '{not_before}'
  subject: CN=kube-apiserver
"#,
        captured = at(chrono::Duration::zero()),
        not_before = at(chrono::Duration::hours(-1)),
        not_after = at(chrono::Duration::days(365)),
    );
    Snapshot::parse_str(&yaml, "kubeconfig-ca-mismatch.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// The connection doctor on the `kubeconfig-ca-mismatch` scenario: the observation read from
/// its snapshot evidence (as the connection playbooks read a snapshot), diagnosed at the
/// snapshot's clock. The evidence keeps no context name and no probe steps, so those are
/// filled in as the doctor's own probe of the served scenario records them
/// (`source::examine::examine_spec`: the same four steps, each under a millisecond on
/// loopback).
#[test]
fn doctor_120x36() {
    let snapshot = ca_mismatch_evidence();
    let now = snapshot.clock().expect("the evidence has a clock");
    let mut observation = Observation::from_evidence(&snapshot.connections[0]);
    observation.context = snapshot.info.as_ref().and_then(|i| i.context.clone());
    let step = |step: &str, ok: bool, detail: &str| Probe {
        step: step.into(),
        ok,
        millis: 0,
        detail: detail.into(),
    };
    observation.steps = vec![
        step("dns", true, "127.0.0.1 is an IP address: no lookup"),
        step("tcp", true, "connected to 127.0.0.1:6443"),
        step("tls handshake", true, "2 certificates served"),
        step(
            "verify",
            false,
            "x509: certificate signed by unknown authority",
        ),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let runs = rt.block_on(ktriage::playbooks::connection::diagnose(&observation, now));
    assert_eq!(
        runs.first().map(|r| r.playbook.id),
        Some("kubeconfig-ca-mismatch"),
        "{runs:#?}"
    );
    let app = DoctorApp::new(Examination {
        observation,
        runs,
        at: now.format("%H:%M:%S UTC").to_string(),
    });
    let buffer = ktriage::ui::doctor::render_to_buffer(&app, 120, 36);
    let text = buffer_lines(&buffer).join("\n");
    for needle in [
        "cannot use ktriage-kubeconfig-ca-mismatch",
        "x509: certificate signed by unknown authority",
        "Cause: TLS-01 kubeconfig-ca-mismatch",
        "issued by \"kubernetes\"",
        "Fix",
        "Take the kubeconfig again",
        "$ kubectl config view --raw",
        "FAIL verify",
        "r retry",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
    check_buffer("doctor-120x36.png", &buffer);
}

/// `:pods` narrowed with `/` to kube-system, sorted by restarts, most first.
#[test]
fn pods_list_120x36() {
    let model = model();
    let mut app = app(&model, 120, 36);
    key(&mut app, KeyCode::Char(':'));
    for c in "pods".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    let all = screen_text(&app, &model);
    assert!(all.contains("Pods(all)[37]"), "{all}");
    key(&mut app, KeyCode::Char('/'));
    for c in "kube-system".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    key(&mut app, KeyCode::Enter);
    // s moves the sort to the next column (NAME, READY, STATUS, RESTARTS); S reverses it.
    for _ in 0..4 {
        key(&mut app, KeyCode::Char('s'));
    }
    key(&mut app, KeyCode::Char('S'));
    let text = screen_text(&app, &model);
    assert!(text.contains("RESTARTS↓"), "{text}");
    assert!(
        !text.contains("shop "),
        "the filter hides other namespaces: {text}"
    );
    let first = text.lines().nth(2).unwrap_or_default();
    assert!(first.contains("CrashLoopBackOff"), "{text}");
    check("pods-120x36.png", &mut app);
}

/// An exercise of `ktriage train` on the same cluster (the node-status-unknown exercise):
/// the panel with its briefing, one hint taken and the trainee's kubectl commands, over the
/// Overview with the findings hidden. The clock is started 3m05s before the frame.
#[test]
fn training_120x36() {
    use ktriage::app::train::Training;
    use ktriage::server::RequestRecord;
    let exercise = ktriage::train::curriculum()
        .into_iter()
        .find(|e| e.scenario == "node-status-unknown")
        .unwrap();
    let get = |path: &str| RequestRecord {
        method: "GET".into(),
        path: path.into(),
        user: "kubernetes-admin".into(),
        verb: "get".into(),
        resource: String::new(),
        code: 200,
        user_agent: "kubectl/v1.31.4 (linux/amd64) kubernetes/a78aa47".into(),
        writable: true,
    };
    let model = model();
    for _ in 0..5 {
        let started = Instant::now() - Duration::from_secs(185);
        let mut app = App::new().with_training(Training::new(
            exercise.clone(),
            "/tmp/training-6443.kubeconfig".into(),
            started,
        ));
        app.update(Msg::Resize(120, 36));
        let stamp = Instant::now() - Duration::from_secs(2);
        let mut m = (*model).clone();
        m.updated_at = Some(stamp);
        // As `ktriage train` names the cluster: nothing in the title names the scenario.
        m.context = "training".into();
        let m = Arc::new(m);
        app.update(Msg::ModelChanged(m.clone()));
        app.update(Msg::Train(vec![
            get("/api/v1/nodes?limit=500"),
            get("/api/v1/namespaces/shop/pods?limit=500"),
            get("/api/v1/nodes/worker-2"),
            get("/api/v1/events?fieldSelector=involvedObject.name%3Dworker-2"),
            get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-2"),
        ]));
        key(&mut app, KeyCode::Char('H'));
        let buffer = render_to_buffer(&app, app.model(), 120, 36);
        let text = buffer_lines(&buffer).join("\n");
        assert!(text.contains("Exercise net-"), "{text}");
        assert!(text.contains("hidden until you answer"), "{text}");
        assert!(text.contains("$ kubectl describe nodes worker-2"), "{text}");
        assert!(
            !text.contains("node-status-unknown") && !text.contains("NET-13"),
            "{text}"
        );
        if text.contains("3m 05s") && text.contains("updated 2s ago") {
            check_buffer("training-120x36.png", &buffer);
            return;
        }
    }
    panic!("the frame never came out at 3m 05s (a stalled machine?)");
}
