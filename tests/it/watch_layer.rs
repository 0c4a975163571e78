//! The watch layer over real HTTPS: every resource syncs and the health model is built from
//! the stores; a restricted user sees which panes are forbidden while the others still work;
//! changes arrive through the change signal.

use crate::common;

use std::time::Duration;

use ktriage::cluster::SyncState;
use ktriage::cluster::client;
use ktriage::cluster::watch::Watchers;
use ktriage::health::{self, Severity};
use ktriage::scenarios::{Change, Identity, ObjRef};
use serde_json::json;

async fn watchers_for(server: &ktriage::server::ServerHandle) -> Watchers {
    let kc = client::parse_kubeconfig(&server.kubeconfig).unwrap();
    let conn = client::connect(kc, None).await.unwrap();
    Watchers::start(conn.client)
}

#[tokio::test]
async fn all_resources_sync_and_feed_the_health_model() {
    let server = common::serve(common::scenario("healthy")).await;
    let w = watchers_for(&server).await;
    assert!(
        w.wait_settled(Duration::from_secs(20)).await,
        "{:?}",
        w.state().sync
    );
    let state = w.state();
    assert!(
        state.sync.iter().all(|s| s.state == SyncState::Synced),
        "{:?}",
        state.sync
    );
    assert_eq!(state.nodes.len(), 6);
    assert!(state.pods.len() > 20);
    assert!(
        state
            .leases
            .iter()
            .any(|l| l.metadata.name.as_deref() == Some("kube-scheduler"))
    );
    assert!(
        state
            .leases
            .iter()
            .any(|l| l.metadata.namespace.as_deref() == Some("kube-node-lease"))
    );
    assert_eq!(state.server_version.as_deref(), Some("v1.31.4"));
    assert!(
        state
            .readyz
            .as_deref()
            .is_some_and(|r| r.contains("[+]etcd ok"))
    );
    let report = health::build(&state, chrono::Utc::now());
    assert_eq!(report.worst(), Severity::Ok, "{report:#?}");

    // A change made on the server reaches the stores and bumps the change signal.
    let mut changes = w.changes();
    changes.borrow_and_update();
    server
        .apply(&Change::Set {
            target: ObjRef::new("Node", None, "worker-3"),
            path: "/spec/unschedulable".into(),
            value: json!(true),
        })
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            changes.changed().await.unwrap();
            let cordoned =
                w.state().nodes.iter().any(|n| {
                    n.metadata.name.as_deref() == Some("worker-3") && n.spec.unschedulable
                });
            if cordoned {
                break;
            }
        }
    })
    .await
    .expect("the cordon arrives through the watch");
    let report = health::build(&w.state(), chrono::Utc::now());
    let worker3 = report.nodes.iter().find(|i| i.title == "worker-3").unwrap();
    assert_eq!(worker3.severity, Severity::Warning, "{worker3:?}");
    common::assert_read_only(&server);
}

#[tokio::test]
async fn restricted_user_sees_what_is_forbidden_and_the_rest_still_works() {
    let mut scenario = common::scenario("healthy");
    scenario.behavior.user = Some(Identity {
        name: "jane".into(),
        groups: vec!["developers".into()],
    });
    // jane may read pods, events and workloads everywhere, but not nodes nor leases.
    scenario.snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "workload-reader"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "statefulsets"], "verbs": ["get", "list", "watch"]}
        ]
    }));
    scenario.snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "jane-reads-workloads"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "workload-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]
    }));
    let server = common::serve(scenario).await;
    let w = watchers_for(&server).await;
    assert!(
        w.wait_settled(Duration::from_secs(20)).await,
        "{:?}",
        w.state().sync
    );
    let state = w.state();
    let sync = |r: &str| {
        state
            .sync
            .iter()
            .find(|s| s.resource == r)
            .map(|s| s.state.clone())
    };
    match sync("nodes") {
        Some(SyncState::Forbidden {
            verb,
            resource,
            message,
        }) => {
            assert_eq!((verb.as_str(), resource.as_str()), ("list", "nodes"));
            assert!(
                message.contains("User \"jane\" cannot list resource \"nodes\""),
                "{message}"
            );
        }
        other => panic!("nodes should be forbidden, got {other:?}"),
    }
    assert!(matches!(sync("leases"), Some(SyncState::Forbidden { .. })));
    assert_eq!(sync("pods"), Some(SyncState::Synced));
    assert!(state.pods.len() > 20, "pods still readable");

    let report = health::build(&state, chrono::Utc::now());
    let nodes = &report.nodes;
    assert!(
        nodes
            .iter()
            .any(|i| i.severity == Severity::Unknown && i.reason.contains("forbidden")),
        "the Nodes pane says what is forbidden: {nodes:#?}"
    );
    assert!(
        report
            .addons
            .iter()
            .any(|i| i.title.contains("coredns") || i.reason.contains("coredns")),
        "{:#?}",
        report.addons
    );
}

#[tokio::test]
async fn a_watch_that_reconnects_after_failures_is_synced_again_without_an_object_event() {
    use ktriage::scenarios::{Fault, FaultKind};
    // The pods' first watches fail (the server answers 500), then the watch works: nothing
    // about pods changes afterwards, so no object event ever arrives to say so.
    let mut faulty = common::scenario("healthy");
    faulty.behavior.faults.push(Fault {
        path_prefix: "/api/v1/pods".into(),
        watch_only: true,
        times: Some(2),
        kind: FaultKind::Status {
            code: 500,
            reason: "InternalError".into(),
            message: "etcdserver: request timed out".into(),
        },
    });
    let server = common::serve(faulty).await;
    let w = watchers_for(&server).await;
    let pods = |w: &Watchers| {
        w.state()
            .sync
            .iter()
            .find(|s| s.resource == "pods")
            .map(|s| s.state.clone())
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Synced before, so the store keeps its view, marked stale.
    while !matches!(pods(&w), Some(SyncState::Stale { .. })) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the failed watch never showed: {:?}",
            pods(&w)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    while pods(&w) != Some(SyncState::Synced) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pods stayed {:?} after the watch came back",
            pods(&w)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(w.state().pods.len() > 20, "the stores kept their objects");
}
