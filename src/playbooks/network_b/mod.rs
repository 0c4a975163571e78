//! Playbooks of the `network_b` group (see shared/PLAYBOOKS.md): NET-07…NET-12, the pod
//! sandbox, Service, NodePort/load-balancer, Ingress and DNS add-on failures. One file per
//! playbook; add it to `PLAYBOOKS` below. `haproxy` generates the HAProxy configuration
//! NET-10 proposes (and `ktriage export haproxy` prints).

mod dns_addon_degraded;
pub mod haproxy;
mod ingress_misconfigured;
mod ipv6_disabled_cni_sandbox;
mod nodeport_needs_external_lb;
mod service_no_endpoints;
mod service_port_mismatch;
mod util;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &ipv6_disabled_cni_sandbox::PLAYBOOK,
    &service_no_endpoints::PLAYBOOK,
    &service_port_mismatch::PLAYBOOK,
    &nodeport_needs_external_lb::PLAYBOOK,
    &ingress_misconfigured::PLAYBOOK,
    &dns_addon_degraded::PLAYBOOK,
];
