//! Training scenarios of the `workloads` playbook group: one per playbook, with the playbook's id,
//! plus negative controls. Built on `super::builder`. Add each scenario to `SCENARIOS`.

use super::Constructor;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[];
