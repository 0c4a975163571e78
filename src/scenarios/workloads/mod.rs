//! Training scenarios of the `workloads` playbook group: one per playbook, with the playbook's id,
//! plus negative controls. Built on `super::builder`. Add each scenario to `SCENARIOS`.

mod addon_restart_storm;
mod admission_webhook_unavailable;
mod apparmor_seccomp_blocked;
mod common;
mod container_config_error;
mod crashloop;
mod image_pull_failure;
mod node_pressure_evictions;
mod pending_unschedulable;
mod quota_or_admission_blocked;
mod running_not_ready;

use super::Constructor;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    ("crashloop", crashloop::scenario),
    ("image-pull-failure", image_pull_failure::scenario),
    ("pending-unschedulable", pending_unschedulable::scenario),
    (
        "quota-or-admission-blocked",
        quota_or_admission_blocked::scenario,
    ),
    ("running-not-ready", running_not_ready::scenario),
    ("container-config-error", container_config_error::scenario),
    ("addon-restart-storm", addon_restart_storm::scenario),
    ("addon-restart-storm-control", addon_restart_storm::control),
    ("node-pressure-evictions", node_pressure_evictions::scenario),
    (
        "node-pressure-evictions-control",
        node_pressure_evictions::control,
    ),
    (
        "apparmor-seccomp-blocked",
        apparmor_seccomp_blocked::scenario,
    ),
    (
        "admission-webhook-unavailable",
        admission_webhook_unavailable::scenario,
    ),
];
