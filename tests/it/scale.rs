//! The scale scenario over real HTTPS (issue 11): it serves the size asked for, its faults
//! are found as on any small cluster, its churn reaches watches, and `check` probes a
//! sample of the nodes instead of every one. (Its speed and memory at 150,000 pods are
//! figures of `cargo bench --bench scale`, not asserted here.)

use crate::common;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use ktriage::playbooks::engine;
use ktriage::playbooks::source::LiveSource;
use ktriage::scenarios::scale::Scale;
use ktriage::server::ServerHandle;
use kube::api::{Api, ListParams};

async fn serve(scale: Scale) -> ServerHandle {
    let config = ktriage::source::scenario_config(&scale.id()).expect("a scale id");
    ktriage::server::start(config)
        .await
        .expect("the server starts")
}

/// Every page of a list, through the kube client as a user's tools page it.
async fn count<K>(api: &Api<K>) -> usize
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut lp = ListParams::default().limit(100);
    let mut n = 0;
    loop {
        let page = api.list(&lp).await.expect("a page");
        n += page.items.len();
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => return n,
        }
    }
}

#[tokio::test]
async fn scale_serves_the_size_asked_and_check_finds_its_faults_probing_a_sample_of_nodes() {
    let scale = Scale {
        nodes: 120,
        pods: 1_500,
        churn: 0,
    };
    let server = serve(scale).await;
    let client = common::client(&server).await;
    assert_eq!(count(&Api::<Pod>::all(client.clone())).await, 1_500);
    assert_eq!(count(&Api::<Node>::all(client.clone())).await, 120);
    let team = Api::<Pod>::namespaced(client.clone(), "team-199");
    assert!(count(&team).await > 0, "pods spread over 200 namespaces");

    let source = LiveSource {
        client: client.clone(),
    };
    let checked = engine::check_all(&source, chrono::Utc::now()).await;
    let found: Vec<&str> = checked.findings.iter().map(|r| r.playbook.id).collect();
    for id in ["crashloop", "image-pull-failure"] {
        assert!(found.contains(&id), "{id} not among {found:?}");
    }
    let healthz = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/proxy/healthz"))
        .count();
    assert!(
        healthz < scale.nodes,
        "{healthz} node-proxy probes for {} nodes: one per node",
        scale.nodes
    );
    common::assert_read_only(&server);
}

#[tokio::test]
async fn churn_reaches_a_watch() {
    let server = serve(Scale {
        nodes: 10,
        pods: 300,
        churn: 40,
    })
    .await;
    let client = common::client(&server).await;
    let pods = Api::<Pod>::all(client);
    let rv = pods
        .list_metadata(&ListParams::default().limit(1))
        .await
        .expect("a list")
        .metadata
        .resource_version
        .unwrap_or_default();
    let wp = kube::api::WatchParams::default().timeout(60);
    let mut events = pods.watch(&wp, &rv).await.expect("a watch").boxed();
    let changed = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(ev) = events.try_next().await.expect("a watch event") {
            if let kube::api::WatchEvent::Modified(p) = ev {
                return p.metadata.namespace;
            }
        }
        None
    })
    .await
    .expect("a pod changes within a minute");
    assert!(
        changed.is_some_and(|ns| ns.starts_with("team-")),
        "churn changes the application pods"
    );
}
