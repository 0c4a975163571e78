//! Training scenarios of the `controlplane` playbook group: one per playbook, with the playbook's id,
//! plus negative controls. Built on `super::builder`. Add each scenario to `SCENARIOS`.

mod apiserver_not_ready;
mod common;
mod control_plane_topology;
mod controlplane_proxy_without_no_proxy;
mod controls;
mod etcd_quorum_membership;
mod ha_apiserver_endpoints_flap;
mod kubeadm_preflight_host;
mod leader_election_lease;
mod leader_election_lease_control;
mod static_pod_liveness_mismatch;

use super::Constructor;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    (
        "controlplane-proxy-without-no-proxy",
        controlplane_proxy_without_no_proxy::scenario,
    ),
    ("leader-election-lease", leader_election_lease::scenario),
    (
        "ha-apiserver-endpoints-flap",
        ha_apiserver_endpoints_flap::scenario,
    ),
    (
        "leader-election-lease-control",
        leader_election_lease_control::scenario,
    ),
    (
        "static-pod-liveness-mismatch",
        static_pod_liveness_mismatch::scenario,
    ),
    ("control-plane-topology", control_plane_topology::scenario),
    ("apiserver-not-ready", apiserver_not_ready::scenario),
    ("etcd-quorum-membership", etcd_quorum_membership::scenario),
    ("kubeadm-preflight-host", kubeadm_preflight_host::scenario),
    (
        "controlplane-proxy-with-no-proxy-control",
        controls::proxy_with_no_proxy,
    ),
    (
        "ha-apiserver-master-count-control",
        controls::master_count_right,
    ),
];
