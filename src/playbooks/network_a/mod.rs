//! Playbooks of the `network_a` group (see shared/PLAYBOOKS.md). One file per playbook; add it to
//! `PLAYBOOKS` below.

use super::Playbook;

/// This group's playbooks, in catalog order.
pub static PLAYBOOKS: &[&Playbook] = &[];
