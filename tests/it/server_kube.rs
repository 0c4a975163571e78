//! The embedded API server through the real kube-rs client over HTTPS: list, get, paginate,
//! watch, timeline changes as watch events, 410 Gone and relist, RBAC for a restricted user.

use crate::common;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use ktriage::scenarios::{Change, Fault, FaultKind, Identity, ObjRef, TimelineStep};
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use serde_json::json;

fn ready_status(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

#[tokio::test]
async fn kube_client_lists_nodes_pods_leases_and_events() {
    let server = common::serve(common::scenario("healthy")).await;
    let client = common::client(&server).await;

    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(nodes.items.len(), 6, "3 control-plane and 3 worker nodes");
    assert!(
        nodes
            .items
            .iter()
            .all(|n| ready_status(n).as_deref() == Some("True"))
    );
    assert!(nodes.metadata.resource_version.is_some());

    let pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        pods.items.len() > 20,
        "static pods, add-ons and apps: {}",
        pods.items.len()
    );
    let cp = Api::<Pod>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default().labels("tier=control-plane"))
        .await
        .unwrap();
    assert_eq!(
        cp.items.len(),
        12,
        "apiserver, kcm, scheduler and etcd on 3 nodes"
    );

    let leases = Api::<Lease>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = leases
        .items
        .iter()
        .filter_map(|l| l.metadata.name.clone())
        .collect();
    assert!(
        names.contains(&"kube-controller-manager".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"kube-scheduler".to_string()), "{names:?}");

    let events = Api::<Event>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(!events.items.is_empty());

    // Field selectors as `kubectl describe node` sends them.
    let node = &nodes.items[0];
    let name = node.metadata.name.clone().unwrap();
    let on_node = Api::<Pod>::all(client.clone())
        .list(&ListParams::default().fields(&format!(
            "spec.nodeName={name},status.phase!=Failed,status.phase!=Succeeded"
        )))
        .await
        .unwrap();
    assert!(!on_node.items.is_empty());
    assert!(
        on_node
            .items
            .iter()
            .all(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str()))
    );
    common::assert_read_only(&server);
}

#[tokio::test]
async fn pagination_returns_every_pod_once() {
    let server = common::serve(common::scenario("healthy")).await;
    let client = common::client(&server).await;
    let api = Api::<Pod>::all(client);
    let all = api.list(&ListParams::default()).await.unwrap().items.len();
    let mut seen = std::collections::BTreeSet::new();
    let mut params = ListParams::default().limit(7);
    let mut pages = 0;
    loop {
        let page = api.list(&params).await.unwrap();
        pages += 1;
        for p in page.items {
            assert!(seen.insert((p.metadata.namespace.clone(), p.metadata.name.clone())));
        }
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => params = params.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(seen.len(), all);
    assert!(pages >= all / 7, "{pages} pages for {all} pods");
}

#[tokio::test]
async fn watcher_sees_changes_and_timeline_events() {
    let mut scenario = common::scenario("healthy");
    let worker = ObjRef::new("Node", None, "worker-2");
    scenario.timeline.push(TimelineStep {
        at: Duration::from_millis(1500),
        every: None,
        until: None,
        change: Change::Set {
            target: worker.clone(),
            path: "/status/conditions/[type=Ready]/status".into(),
            value: json!("Unknown"),
        },
    });
    let server = common::serve(scenario).await;
    let client = common::client(&server).await;
    let api = Api::<Node>::all(client);
    let mut stream = watcher(api, watcher::Config::default()).boxed();
    let saw = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(ev) = stream.try_next().await.unwrap() {
            if let watcher::Event::Apply(n) = ev
                && n.metadata.name.as_deref() == Some("worker-2")
                && ready_status(&n).as_deref() == Some("Unknown")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        saw,
        Ok(true),
        "the timeline's NotReady change arrives as a watch event"
    );
}

#[tokio::test]
async fn watch_from_compacted_version_gets_410_and_watcher_relists() {
    let server = common::serve(common::scenario("healthy")).await;
    let client = common::client(&server).await;
    let api = Api::<Node>::all(client.clone());

    // A raw watch from a version older than the history gets an ERROR event with 410.
    server
        .apply(&Change::Set {
            target: ObjRef::new("Node", None, "cp-1"),
            path: "/metadata/labels/touched".into(),
            value: json!("yes"),
        })
        .unwrap();
    server.compact();
    let mut raw = api
        .watch(&WatchParams::default(), "1")
        .await
        .unwrap()
        .boxed();
    match tokio::time::timeout(Duration::from_secs(5), raw.next()).await {
        Ok(Some(Ok(WatchEvent::Error(e)))) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }

    // The kube-rs watcher relists after a 410 and keeps going.
    let mut faulty = common::scenario("healthy");
    faulty.behavior.faults.push(Fault {
        path_prefix: "/api/v1/nodes".into(),
        watch_only: true,
        times: Some(1),
        kind: FaultKind::Gone,
    });
    let server = common::serve(faulty).await;
    let client = common::client(&server).await;
    let mut stream = watcher(Api::<Node>::all(client), watcher::Config::default()).boxed();
    let mut inits = 0;
    let done = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = stream.try_next().await.transpose() {
            if let Ok(watcher::Event::InitDone) = ev {
                inits += 1;
                if inits == 2 {
                    return;
                }
            }
        }
    })
    .await;
    assert!(
        done.is_ok(),
        "watcher relisted after 410 (InitDone seen {inits} times)"
    );
    let lists = server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/nodes?") && r.verb == "list")
        .count();
    assert!(lists >= 2, "two lists of nodes, got {lists}");
}

#[tokio::test]
async fn restricted_user_gets_real_forbidden_status() {
    let mut scenario = common::scenario("healthy");
    scenario.behavior.user = Some(Identity {
        name: "jane".into(),
        groups: vec!["developers".into()],
    });
    scenario.snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]
    }));
    scenario.snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "jane-reads-pods", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]
    }));
    let server = common::serve(scenario).await;
    let client = common::client(&server).await;
    Api::<Pod>::namespaced(client.clone(), "default")
        .list(&ListParams::default())
        .await
        .expect("jane may list pods in default");
    let err = Api::<Node>::all(client)
        .list(&ListParams::default())
        .await
        .expect_err("jane may not list nodes");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 403);
            assert_eq!(s.reason, "Forbidden");
            assert_eq!(
                s.message,
                "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
            );
        }
        other => panic!("expected a Forbidden Status, got {other:?}"),
    }
}
