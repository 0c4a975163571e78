//! `node-status-unknown` (NET-13): the `node-notready-demo` cluster under the playbook's id —
//! worker-2's kubelet stopped (its lease is no longer renewed, the node turns Ready Unknown
//! at +20 s) while the machine stays up, so the API server's node proxy is refused on
//! 10.0.0.22:10250.

use super::super::{Scenario, node_notready_demo};

pub fn scenario() -> Scenario {
    Scenario {
        id: "node-status-unknown",
        title: "Kubelet stopped on worker-2 (node stopped posting status)",
        summary: "The healthy cluster, but worker-2's kubelet stopped: its node lease goes stale, the node turns Ready Unknown (NodeStatusUnknown) at +20 s, and the API server's connection to 10.0.0.22:10250 is refused.",
        playbook: Some("node-status-unknown"),
        ..node_notready_demo::scenario()
    }
}
