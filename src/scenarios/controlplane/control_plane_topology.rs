//! `control-plane-topology` (CP-07): "three masters, so we are highly available" — but all
//! three control-plane nodes stand in zone-a (one rack, one switch), while the workers span
//! three zones, and kubeadm's controlPlaneEndpoint (and so cluster-info, every kubelet's and
//! admin's kubeconfig) is cp-1's own address rather than a load balancer. Nothing is failing:
//! the risk is in the design.

use serde_json::json;

use crate::builder::ClusterBuilder;
use crate::{Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut b = ClusterBuilder::kubeadm();
    b.opts.control_plane_endpoint = "10.0.0.11:6443".into();
    let mut c = b.build();
    let cps: Vec<String> = c
        .control_plane_nodes()
        .into_iter()
        .map(|n| n.name)
        .collect();
    for n in &cps {
        if let Some(node) = c.find_mut("Node", None, n) {
            node["metadata"]["labels"]["topology.kubernetes.io/zone"] = json!("zone-a");
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "control-plane-topology",
        title: "HA that isn't: three masters in one zone behind one node's IP",
        summary: "Three control-plane nodes, all in zone-a, and controlPlaneEndpoint=10.0.0.11:6443 (cp-1 itself). Everything works today; a zone or cp-1 outage takes the control plane down.",
        playbook: Some("control-plane-topology"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
