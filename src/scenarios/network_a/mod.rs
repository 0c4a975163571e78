//! Training scenarios of the `network_a` playbook group: one per playbook, with the playbook's id,
//! plus negative controls. Built on `super::builder`. Add each scenario to `SCENARIOS`.

mod cni_podcidr_not_assigned;
mod cni_starting_on_new_node;
mod forward_policy_drop;
mod kubelet_port_unreachable;
mod node_notready_no_cni;
mod node_status_unknown;
mod overlay_port_blocked;
mod pod_cannot_reach_apiserver_service;

use super::Constructor;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    ("node-notready-no-cni", node_notready_no_cni::scenario),
    (
        "cni-podcidr-not-assigned",
        cni_podcidr_not_assigned::scenario,
    ),
    (
        "pod-cannot-reach-apiserver-service",
        pod_cannot_reach_apiserver_service::scenario,
    ),
    ("forward-policy-drop", forward_policy_drop::scenario),
    (
        "kubelet-port-unreachable",
        kubelet_port_unreachable::scenario,
    ),
    ("overlay-port-blocked", overlay_port_blocked::scenario),
    ("node-status-unknown", node_status_unknown::scenario),
    (
        "cni-starting-on-new-node",
        cni_starting_on_new_node::scenario,
    ),
];
