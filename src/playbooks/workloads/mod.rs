//! Playbooks of the `workloads` group (see shared/PLAYBOOKS.md). One file per playbook; add it to
//! `PLAYBOOKS` below.

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
    &node_pressure_evictions::PLAYBOOK,
    &admission_webhook_unavailable::PLAYBOOK,
    &quota_or_admission_blocked::PLAYBOOK,
    &pending_unschedulable::PLAYBOOK,
    &running_not_ready::PLAYBOOK,
    &container_config_error::PLAYBOOK,
    &image_pull_failure::PLAYBOOK,
    &crashloop::PLAYBOOK,
    &addon_restart_storm::PLAYBOOK,
    &apparmor_seccomp_blocked::PLAYBOOK,
];
