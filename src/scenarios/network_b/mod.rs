//! Training scenarios of the `network_b` playbook group (NET-07…NET-12): one per playbook,
//! with the playbook's id, plus negative controls. Built on `super::builder`. Add each
//! scenario to `SCENARIOS`.

mod common;
mod dns_addon_degraded;
mod dns_upstream_blip_control;
mod ingress_misconfigured;
mod ipv6_disabled_cni_sandbox;
mod nodeport_metallb_control;
mod nodeport_needs_external_lb;
mod service_no_endpoints;
mod service_port_mismatch;

use super::Constructor;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    (
        "ipv6-disabled-cni-sandbox",
        ipv6_disabled_cni_sandbox::scenario,
    ),
    ("dns-addon-degraded", dns_addon_degraded::scenario),
    (
        "dns-upstream-blip-control",
        dns_upstream_blip_control::scenario,
    ),
    (
        "nodeport-needs-external-lb",
        nodeport_needs_external_lb::scenario,
    ),
    (
        "nodeport-metallb-control",
        nodeport_metallb_control::scenario,
    ),
    ("service-no-endpoints", service_no_endpoints::scenario),
    ("service-port-mismatch", service_port_mismatch::scenario),
    ("ingress-misconfigured", ingress_misconfigured::scenario),
];
