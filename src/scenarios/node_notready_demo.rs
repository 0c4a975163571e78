//! `node-notready-demo`: the healthy cluster, where worker-2's kubelet stops at the start
//! (its node lease is no longer renewed, the API server's dial to its port 10250 is refused), the node lifecycle controller marks it NotReady at
//! +20 s, and a checkout pod's restartCount grows every 15 s. Tests of the server use it to
//! prove that timeline changes arrive as watch events.

use std::time::Duration;

use serde_json::json;

use super::builder::{ClusterBuilder, Terminated};
use super::{Change, ObjRef, Scenario, ServerBehavior};

/// The node that goes NotReady.
pub const NODE: &str = "worker-2";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let node = ObjRef::new("Node", None, NODE);
    let lease = ObjRef::new("Lease", Some("kube-node-lease"), NODE);
    // The kubelet died 25 s before the epoch: no renewals, no status heartbeats.
    if let Some(l) = c.find_mut("Lease", Some("kube-node-lease"), NODE) {
        l["spec"]["renewTime"] = json!(super::builder::ago_micros(25_113_402));
    }
    c.stop_renewing(&lease, Duration::ZERO);
    // The machine is up: the API server's dial to the kubelet port is refused.
    if let Some(ip) = c.node(NODE).map(|i| i.ip.clone()) {
        let status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("error dialing backend: dial tcp {ip}:10250: connect: connection refused"),
            "reason": "InternalError",
            "code": 500,
        });
        c.add_response(
            &format!("/api/v1/nodes/{NODE}/proxy/healthz"),
            500,
            status.to_string(),
        );
    }
    c.stop_renewing(&node, Duration::ZERO);
    // +20 s: grace period (40 s) exceeded; the node lifecycle controller takes over.
    let at = Duration::from_secs(20);
    for t in ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"] {
        let base = format!("/status/conditions/[type={t}]");
        for (field, value) in [
            ("status", "Unknown"),
            ("reason", "NodeStatusUnknown"),
            ("message", "Kubelet stopped posting node status."),
        ] {
            c.at(
                at,
                Change::Set {
                    target: node.clone(),
                    path: format!("{base}/{field}"),
                    value: json!(value),
                },
            );
        }
        c.at(
            at,
            Change::Now {
                target: node.clone(),
                path: format!("{base}/lastTransitionTime"),
            },
        );
    }
    c.at(
        at,
        Change::Merge {
            target: node.clone(),
            patch: json!({"spec": {"taints": [
                {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable"},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable"},
            ]}}),
        },
    );
    c.at(
        at,
        Change::Now {
            target: node.clone(),
            path: "/spec/taints/[effect=NoExecute]/timeAdded".into(),
        },
    );
    c.at(
        at,
        Change::Create {
            object: json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": format!("{NODE}.{}", super::builder::hex("node-not-ready", 16)), "namespace": "default", "uid": super::builder::uid(&["Event", "default", "node-not-ready"])},
                "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": NODE, "uid": c.find("Node", None, NODE).map(|n| n["metadata"]["uid"].clone()).unwrap_or_default()},
                "reason": "NodeNotReady",
                "message": format!("Node {NODE} status is now: NodeNotReady"),
                "source": {"component": "node-controller"},
                "reportingComponent": "node-controller",
                "reportingInstance": "",
                "type": "Normal",
                "count": 1,
            }),
        },
    );
    // The controller marks the node's pods not ready; the DaemonSets count them unavailable.
    let on_node: Vec<(String, String)> = c
        .of_kind("Pod", None)
        .filter(|p| p["spec"]["nodeName"] == NODE)
        .map(crate::builder::ns_name)
        .collect();
    for (ns, name) in on_node {
        let pod = ObjRef::new("Pod", Some(&ns), &name);
        c.at(
            at,
            Change::Set {
                target: pod.clone(),
                path: "/status/conditions/[type=Ready]/status".into(),
                value: json!("False"),
            },
        );
        c.at(
            at,
            Change::Now {
                target: pod,
                path: "/status/conditions/[type=Ready]/lastTransitionTime".into(),
            },
        );
    }
    let daemonsets: Vec<(String, String, i64)> = c
        .of_kind("DaemonSet", None)
        .map(|d| {
            (
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                d["status"]["numberReady"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    for (ns, name, ready) in daemonsets {
        c.at(
            at,
            Change::Merge {
                target: ObjRef::new("DaemonSet", Some(&ns), &name),
                patch: json!({"status": {"numberReady": ready - 1, "numberAvailable": ready - 1, "numberUnavailable": 1}}),
            },
        );
    }
    // A checkout pod on worker-1 crash-loops.
    let pod = c.pods_named("shop", "checkout-").into_iter().find(|p| {
        c.find("Pod", Some("shop"), p)
            .is_some_and(|o| o["spec"]["nodeName"] != NODE)
    });
    if let Some(pod) = pod {
        c.set_restarts(
            "shop",
            &pod,
            "checkout",
            1,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 40,
                finished_ago: 16,
            },
        );
        let target = ObjRef::new("Pod", Some("shop"), &pod);
        let path = "/status/containerStatuses/[name=checkout]/restartCount".to_string();
        c.every(
            Duration::from_secs(15),
            Duration::from_secs(15),
            Change::Increment {
                target: target.clone(),
                path,
                by: 1,
            },
        );
        c.every(
            Duration::from_secs(15),
            Duration::from_secs(15),
            Change::Now {
                target,
                path: "/status/containerStatuses/[name=checkout]/lastState/terminated/finishedAt"
                    .into(),
            },
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "node-notready-demo",
        title: "Demo: a worker goes NotReady",
        summary: "The healthy cluster, but worker-2's kubelet stops: its lease goes stale, the node turns NotReady at +20 s, and a checkout pod restarts every 15 s.",
        playbook: Some("node-status-unknown"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
