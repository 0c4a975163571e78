//! Playbooks of the `workloads` group (see shared/PLAYBOOKS.md). One file per playbook; add it to
//! `PLAYBOOKS` below. `common` holds the readers and the restart classification they share.

pub mod addon_restart_storm;
pub mod admission_webhook_unavailable;
pub mod apparmor_seccomp_blocked;
pub mod common;
pub mod container_config_error;
pub mod crashloop;
pub mod image_pull_failure;
pub mod node_pressure_evictions;
pub mod pending_unschedulable;
pub mod quota_or_admission_blocked;
pub mod running_not_ready;

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[
    &crashloop::PLAYBOOK,
    &image_pull_failure::PLAYBOOK,
    &pending_unschedulable::PLAYBOOK,
    &quota_or_admission_blocked::PLAYBOOK,
    &running_not_ready::PLAYBOOK,
    &container_config_error::PLAYBOOK,
    &addon_restart_storm::PLAYBOOK,
    &node_pressure_evictions::PLAYBOOK,
    &apparmor_seccomp_blocked::PLAYBOOK,
    &admission_webhook_unavailable::PLAYBOOK,
];
