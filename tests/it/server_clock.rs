//! Time moves on in a served cluster (issue 14, Deliver 4): a snapshot served without a
//! timeline (as `serve --snapshot` does) keeps renewing the Leases of holders that were
//! alive at capture, with watch events, and a kubelet that had stopped stays stale; the
//! same holds for a scenario with its own timeline.

use std::time::{Duration, Instant};

use crate::common;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use ktriage::scenarios::Scenario;
use kube::api::{Api, WatchEvent, WatchParams};

/// The scenario as `serve --snapshot` serves a capture of it: objects only, no timeline.
fn captured(id: &str) -> Scenario {
    let mut s = common::scenario(id);
    s.timeline.clear();
    s
}

fn chrono_of(t: &k8s_openapi::jiff::Timestamp) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&t.to_string())
        .expect("a timestamp")
        .with_timezone(&Utc)
}

async fn renew_time(api: &Api<Lease>, name: &str) -> DateTime<Utc> {
    let t = api
        .get(name)
        .await
        .expect("lease is served")
        .spec
        .and_then(|s| s.renew_time)
        .expect("lease has a renewTime")
        .0;
    chrono_of(&t)
}

/// Waits until `name`'s renewTime has moved on `times` times; returns the last one.
async fn renewed(api: &Api<Lease>, name: &str, times: usize, limit: Duration) -> DateTime<Utc> {
    let start = Instant::now();
    let mut last = renew_time(api, name).await;
    let mut seen = 0;
    while seen < times {
        assert!(
            start.elapsed() < limit,
            "{name} renewed {seen} of {times} times in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = renew_time(api, name).await;
        if now > last {
            seen += 1;
            last = now;
        }
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_served_capture_of_a_healthy_cluster_keeps_renewing_its_leases() {
    let server = common::serve(captured("healthy")).await;
    let client = common::client(&server).await;
    let system: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let node_leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");

    // A watch sees the renewals as MODIFIED events.
    let mut watch = system
        .watch(
            &WatchParams::default().fields("metadata.name=kube-scheduler"),
            "0",
        )
        .await
        .expect("watch starts")
        .boxed();
    let start = Instant::now();
    let mut modified = 0;
    while modified < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no renewals watched"
        );
        match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
            Ok(Some(Ok(WatchEvent::Modified(_)))) => modified += 1,
            Ok(Some(Ok(_))) => {}
            other => panic!("watch ended: {other:?}"),
        }
    }

    // The leader leases (every 2 s) and the node leases (every 10 s) renew, at least twice.
    for name in ["kube-scheduler", "kube-controller-manager"] {
        let t = renewed(&system, name, 2, Duration::from_secs(15)).await;
        assert!(Utc::now() - t < chrono::Duration::seconds(5), "{name}: {t}");
    }
    let t = renewed(&node_leases, "worker-1", 2, Duration::from_secs(40)).await;
    assert!(
        Utc::now() - t < chrono::Duration::seconds(15),
        "worker-1: {t}"
    );
    // By then every node lease is fresh.
    for lease in node_leases.list(&Default::default()).await.unwrap() {
        let t = chrono_of(&lease.spec.and_then(|s| s.renew_time).unwrap().0);
        assert!(
            Utc::now() - t < chrono::Duration::seconds(15),
            "{:?} stale: {t}",
            lease.metadata.name
        );
    }
    common::assert_read_only(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_kubelet_stays_stale_while_the_others_renew() {
    for scenario in [
        captured("node-notready-demo"),
        common::scenario("node-notready-demo"),
    ] {
        let with_timeline = !scenario.timeline.is_empty();
        let server = common::serve(scenario).await;
        let client = common::client(&server).await;
        let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
        let nodes: Api<Node> = Api::all(client);
        let stale = renew_time(&leases, "worker-2").await;
        let heartbeat = |n: Node| {
            n.status
                .and_then(|s| s.conditions)
                .and_then(|cs| cs.into_iter().find(|c| c.type_ == "Ready"))
                .and_then(|c| c.last_heartbeat_time)
        };
        let beat = heartbeat(nodes.get("worker-2").await.unwrap());
        // Time moves on: worker-1 renews twice (20 s) …
        renewed(&leases, "worker-1", 2, Duration::from_secs(40)).await;
        // … and worker-2's kubelet, stopped before the capture, stays silent.
        assert_eq!(
            renew_time(&leases, "worker-2").await,
            stale,
            "timeline: {with_timeline}"
        );
        assert_eq!(
            heartbeat(nodes.get("worker-2").await.unwrap()),
            beat,
            "timeline: {with_timeline}"
        );
        // 25 s stale at capture, and two renewals of worker-1 (10 s apart) since.
        assert!(Utc::now() - stale > chrono::Duration::seconds(30));
    }
}
