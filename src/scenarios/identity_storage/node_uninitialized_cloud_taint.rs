//! `node-uninitialized-cloud-taint` (CL-02): worker-3 was added 50 minutes ago from a new
//! VM template whose kubelet flags carry `--cloud-provider=external` (copied from the cloud
//! clusters). It registered with the taint `node.cloudprovider.kubernetes.io/uninitialized`,
//! and with no cloud-controller-manager nothing ever lifts it: the DaemonSets run there, but
//! the frontend replica meant for the new capacity stays Pending.

use serde_json::json;

use super::unschedule;
use crate::builder::{ClusterBuilder, MIN};
use crate::{Scenario, ServerBehavior};

const NODE: &str = "worker-3";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let ip = c.node(NODE).map(|n| n.ip.clone()).unwrap_or_default();
    if let Some(n) = c.find_mut("Node", None, NODE) {
        n["metadata"]["annotations"]["alpha.kubernetes.io/provided-node-ip"] = json!(ip);
        n["spec"]["taints"] = json!([{"effect": "NoSchedule", "key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true"}]);
    }
    // Ordinary pods cannot land on worker-3: the frontend replica placed there waits.
    let stuck: Vec<String> = c
        .of_kind("Pod", Some("shop"))
        .filter(|p| p["spec"]["nodeName"] == NODE)
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    for pod in &stuck {
        // Its Deployment and ReplicaSet count one replica less as ready and available.
        let owner = c
            .find("Pod", Some("shop"), pod)
            .and_then(|p| p["metadata"]["ownerReferences"][0]["name"].as_str())
            .map(str::to_string);
        if let Some(rs) = owner {
            let dep = rs
                .rsplit_once('-')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            for (kind, n) in [("ReplicaSet", rs.as_str()), ("Deployment", dep.as_str())] {
                if let Some(o) = c.find_mut(kind, Some("shop"), n) {
                    for f in ["readyReplicas", "availableReplicas"] {
                        if let Some(v) = o["status"][f].as_i64() {
                            o["status"][f] = json!(v - 1);
                        }
                    }
                    if kind == "Deployment" {
                        o["status"]["unavailableReplicas"] = json!(1);
                    }
                }
            }
        }
    }
    for pod in stuck {
        unschedule(
            &mut c,
            "shop",
            &pod,
            "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}, 2 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.",
            11,
            48 * MIN,
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "node-uninitialized-cloud-taint",
        title: "worker-3 stays tainted uninitialized: kubelet --cloud-provider=external, no CCM",
        summary: "worker-3 joined 50 minutes ago with --cloud-provider=external; no cloud-controller-manager runs, so the uninitialized taint stays and the frontend replica for it is Pending.",
        playbook: Some("node-uninitialized-cloud-taint"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
