//! Playbooks of the `controlplane` group (see shared/PLAYBOOKS.md). One file per playbook; add it to
//! `PLAYBOOKS` below.

mod apiserver_not_ready;
pub mod common;
mod control_plane_topology;
mod controlplane_proxy_without_no_proxy;
mod etcd_quorum_membership;
mod ha_apiserver_endpoints_flap;
mod kubeadm_preflight_host;
mod leader_election_lease;
mod static_pod_liveness_mismatch;
#[cfg(test)]
mod tests;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &controlplane_proxy_without_no_proxy::PLAYBOOK,
    &apiserver_not_ready::PLAYBOOK,
    &etcd_quorum_membership::PLAYBOOK,
    &leader_election_lease::PLAYBOOK,
    &ha_apiserver_endpoints_flap::PLAYBOOK,
    &static_pod_liveness_mismatch::PLAYBOOK,
    &control_plane_topology::PLAYBOOK,
    &kubeadm_preflight_host::PLAYBOOK,
];
