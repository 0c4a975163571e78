//! Training scenarios of the `controlplane` playbook group: one per playbook, with the playbook's id,
//! plus negative controls. Built on `super::builder`. Add each scenario to `SCENARIOS`.

mod apiserver_not_ready;
mod common;
mod control_plane_topology;
mod controlplane_proxy_without_no_proxy;
mod ha_apiserver_endpoints_flap;
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
];
