//! Benchmarks that print figures and ratios (run: `cargo bench --bench ktriage`). Without
//! `--bench` (as `cargo test --all-targets` runs it) every measurement runs once at a tiny
//! size, so the harness itself stays tested.
//!
//! - decode: a pod list with managedFields into k8s-openapi `Pod` vs the lean `Pod`;
//! - memory: heap held by 150,000 lean pods in a `ClusterState` (counting allocator);
//! - health: `health::build` over 150,000 pods and 5,000 nodes;
//! - lists: the `:pods` list over those 150,000 pods: open, a filter keystroke, a sort, a frame;
//! - frame: one Overview frame with 30 items vs 300,000 items (cost follows visible rows);
//! - server: listing 10,000 pods through the embedded server over HTTPS with the kube client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod alloc;

use alloc::{live_bytes, mb};

/// A realistic pod (about 12 KB of JSON with its managedFields), numbered `i`.
fn pod(i: usize, node: &str) -> Value {
    let managed: Vec<Value> = (0..6)
        .map(|k| {
            json!({"manager": format!("kube-controller-manager-{k}"), "operation": "Update", "apiVersion": "v1",
                   "time": "2026-01-15T09:00:00Z", "fieldsType": "FieldsV1",
                   "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                       "f:ownerReferences": {".": {}, "k:{\"uid\":\"abc\"}": {}}},
                       "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {},
                           "f:name": {}, "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:protocol": {}}},
                           "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
                           "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                       "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                       "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}},
                       "f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
                           "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.244.1.7\"}": {".": {}, "f:ip": {}}}, "f:startTime": {}}}})
        })
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("app-{i:06}-7d9f8b6c5d-x2k9p"), "namespace": format!("team-{}", i % 200),
            "uid": format!("00000000-0000-0000-0000-{i:012}"), "resourceVersion": format!("{}", 1000 + i),
            "creationTimestamp": "2026-01-10T09:00:00Z",
            "labels": {"app": format!("app-{}", i % 500), "pod-template-hash": "7d9f8b6c5d"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"}}"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-7d9f8b6c5d", "uid": "abc", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": managed},
        "spec": {"nodeName": node, "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "containers": [{"name": "app", "image": "registry.example.com/team/app:1.4.2", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5}}]},
        "status": {"phase": "Running", "hostIP": "10.0.0.21", "podIP": "10.244.1.7", "qosClass": "Burstable",
            "startTime": "2026-01-10T09:00:05Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-10T09:00:20Z"},
                           {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-10T09:00:01Z"}],
            "containerStatuses": [{"name": "app", "ready": true, "started": true, "restartCount": (i % 7) as i64,
                "image": "registry.example.com/team/app:1.4.2", "imageID": "registry.example.com/team/app@sha256:0123",
                "containerID": "containerd://0123456789abcdef",
                "state": {"running": {"startedAt": "2026-01-14T09:00:05Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": "2026-01-12T09:00:05Z", "finishedAt": "2026-01-14T09:00:04Z"}}}]}
    })
}

fn node(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{i:05}")},
           "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
               "lastHeartbeatTime": "2026-01-15T09:59:00Z"}],
               "nodeInfo": {"kubeletVersion": "v1.31.4", "containerRuntimeVersion": "containerd://1.7.22"}}})
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

fn bench_decode(n: usize) {
    let items: Vec<Value> = (0..n).map(|i| pod(i, "worker-1")).collect();
    let list = serde_json::to_vec(
        &json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items}),
    )
    .unwrap();
    drop(items);
    #[derive(serde::Deserialize)]
    struct List<T> {
        items: Vec<T>,
    }
    let (full, t_full) =
        time(|| serde_json::from_slice::<List<k8s_openapi::api::core::v1::Pod>>(&list).unwrap());
    let (lean, t_lean) =
        time(|| serde_json::from_slice::<List<ktriage::cluster::lean::Pod>>(&list).unwrap());
    assert_eq!(full.items.len(), lean.items.len());
    let size = list.len() as f64;
    println!(
        "decode   {n} pods, {:.1} MB ({:.1} KB/pod): k8s-openapi {:.0} MB/s, lean {:.0} MB/s, lean is {:.1}x faster",
        mb(size),
        size / n as f64 / 1000.0,
        mb(size) / t_full.as_secs_f64(),
        mb(size) / t_lean.as_secs_f64(),
        t_full.as_secs_f64() / t_lean.as_secs_f64()
    );
}

fn bench_memory_and_health(pods: usize, nodes: usize) {
    let before = live_bytes();
    let mut state = ktriage::cluster::state::ClusterState::default();
    // Decode one pod at a time, as watch pages arrive, so only the stores stay alive.
    for i in 0..pods {
        let bytes = serde_json::to_vec(&pod(i, &format!("node-{:05}", i % nodes))).unwrap();
        let p: ktriage::cluster::lean::Pod = serde_json::from_slice(&bytes).unwrap();
        state.pods.push(Arc::new(p));
    }
    for i in 0..nodes {
        state
            .nodes
            .push(Arc::new(serde_json::from_value(node(i)).unwrap()));
    }
    let held = (live_bytes() - before) as f64;
    println!(
        "memory   {pods} lean pods + {nodes} nodes held: {:.1} MB ({:.0} B/pod; DESIGN.md: k8s-openapi Pods without managedFields ≈ 38,700 B/pod, {:.0}x more)",
        mb(held),
        held / pods as f64,
        38_700.0 / (held / pods as f64)
    );
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let _ = ktriage::health::build(&state, now);
    let (report, t) = time(|| ktriage::health::build(&state, now));
    println!(
        "health   build over {pods} pods and {nodes} nodes: {:.1} ms ({} restart items)",
        t.as_secs_f64() * 1000.0,
        report.restarts.len()
    );
    bench_lists(state, now);
}

/// The `:pods` list over the same stores: opening it, one filter keystroke, a sort by
/// restarts, and one frame of it (cells are formatted for the visible rows only).
fn bench_lists(state: ktriage::cluster::state::ClusterState, now: chrono::DateTime<chrono::Utc>) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ktriage::app::resources::{ResourceKind, ResourceList};
    use ktriage::app::{App, Model, Msg};
    let pods = state.pods.len();
    let (mut list, open) = time(|| ResourceList::new(ResourceKind::Pods, None, &state, now));
    let (_, first_key) = time(|| list.set_filter("team-7".into()));
    let (_, next_key) = time(|| list.set_filter("team-77".into()));
    let narrowed = list.len();
    list.set_filter(String::new());
    let (_, sort) = time(|| {
        while list.kind.columns()[list.sort_column].header != "RESTARTS" {
            list.sort_next(false);
        }
        list.sort_next(true);
    });
    let model = Arc::new(Model {
        objects: ktriage::app::model::Objects(Arc::new(state)),
        judged_at: Some(now),
        ..Default::default()
    });
    let mut app = App::new();
    app.update(Msg::Resize(160, 45));
    app.update(Msg::ModelChanged(model.clone()));
    for c in ":pods".chars() {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let frames = 20;
    let (_, t) = time(|| {
        for _ in 0..frames {
            std::hint::black_box(ktriage::ui::render_to_buffer(&app, &model, 160, 45));
        }
    });
    println!(
        "lists    :pods over {pods} pods: open {:.1} ms, first filter keystroke {:.1} ms, next {:.1} ms ({narrowed} left); unfiltered, s to RESTARTS then S (5 sorts) {:.1} ms, frame {:.2} ms",
        open.as_secs_f64() * 1000.0,
        first_key.as_secs_f64() * 1000.0,
        next_key.as_secs_f64() * 1000.0,
        sort.as_secs_f64() * 1000.0,
        (t / frames).as_secs_f64() * 1000.0
    );
}

fn bench_frame(big: usize) {
    use ktriage::app::{App, Model, Msg};
    use ktriage::health::{HealthItem, HealthReport, Severity};
    let item = |i: usize| HealthItem {
        severity: Severity::Warning,
        title: format!("ns/pod-{i}"),
        reason: "CrashLoopBackOff, 3 restarts in the last hour, last exit 137 OOMKilled".into(),
        object: Some(format!("Pod/ns/pod-{i}")),
        playbooks: vec!["crashloop".into()],
        details: vec![],
    };
    let frame_cost = |n: usize| {
        let model = Arc::new(Model {
            report: HealthReport {
                restarts: (0..n).map(item).collect(),
                nodes: (0..n.min(30)).map(item).collect(),
                ..Default::default()
            },
            ..Default::default()
        });
        let mut app = App::new();
        app.update(Msg::Resize(160, 45));
        app.update(Msg::ModelChanged(model.clone()));
        let _ = ktriage::ui::render_to_buffer(&app, &model, 160, 45);
        let frames = 50;
        let (_, t) = time(|| {
            for _ in 0..frames {
                std::hint::black_box(ktriage::ui::render_to_buffer(&app, &model, 160, 45));
            }
        });
        t / frames
    };
    let small = frame_cost(30);
    let large = frame_cost(big);
    println!(
        "frame    160x45 Overview: 30 items {:.2} ms, {big} items {:.2} ms, ratio {:.2}",
        small.as_secs_f64() * 1000.0,
        large.as_secs_f64() * 1000.0,
        large.as_secs_f64() / small.as_secs_f64()
    );
}

fn bench_server(pods: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut scenario = ktriage::scenarios::find("healthy").unwrap();
        let mut objects: Vec<Value> = (0..pods).map(|i| pod(i, "worker-1")).collect();
        for o in &mut objects {
            ktriage::cluster::state::strip(o);
        }
        scenario.snapshot.objects.extend(objects);
        scenario.timeline.clear();
        let server = ktriage::server::start(ktriage::server::ServerConfig::new(scenario)).await.unwrap();
        let kc = ktriage::cluster::client::parse_kubeconfig(&server.kubeconfig).unwrap();
        let conn = ktriage::cluster::client::connect(kc, None).await.unwrap();
        let api: kube::Api<ktriage::cluster::lean::Pod> = kube::Api::all(conn.client.clone());
        let mut lp = kube::api::ListParams::default().limit(500);
        let start = Instant::now();
        let mut total = 0;
        let mut pages = 0;
        loop {
            let page = api.list(&lp).await.unwrap();
            total += page.items.len();
            pages += 1;
            match page.metadata.continue_ {
                Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
                _ => break,
            }
        }
        let t = start.elapsed();
        println!(
            "server   listed {total} pods in {pages} pages of 500 over HTTPS in {:.0} ms ({:.0} pods/s)",
            t.as_secs_f64() * 1000.0,
            total as f64 / t.as_secs_f64()
        );
    });
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = if full { 1 } else { 100 };
    println!(
        "ktriage benchmarks ({})",
        if full {
            "full size"
        } else {
            "smoke run, 1/100 size; use cargo bench --bench ktriage"
        }
    );
    bench_decode(10_000 / scale);
    bench_memory_and_health(150_000 / scale, 5_000 / scale);
    bench_frame(300_000 / scale);
    bench_server(10_000 / scale);
}
