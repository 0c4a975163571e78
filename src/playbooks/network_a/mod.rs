//! Playbooks of the `network_a` group (see shared/PLAYBOOKS.md): nodes without a CNI, pod
//! CIDRs, pods that cannot reach the API service, the FORWARD policy, the kubelet port, the
//! overlay ports and a node whose kubelet stopped posting status. One file per playbook; add it to `PLAYBOOKS` below.

pub mod cni_podcidr_not_assigned;
mod common;
pub mod forward_policy_drop;
pub mod kubelet_port_unreachable;
pub mod node_notready_no_cni;
pub mod node_status_unknown;
pub mod overlay_port_blocked;
pub mod pod_cannot_reach_apiserver_service;
#[cfg(test)]
mod scenario_tests;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &node_notready_no_cni::PLAYBOOK,
    &cni_podcidr_not_assigned::PLAYBOOK,
    &pod_cannot_reach_apiserver_service::PLAYBOOK,
    &forward_policy_drop::PLAYBOOK,
    &kubelet_port_unreachable::PLAYBOOK,
    &overlay_port_blocked::PLAYBOOK,
    &node_status_unknown::PLAYBOOK,
];
