//! The health model: pure functions (no I/O) from the lean stores and a clock to a health
//! report with four sections (control plane, nodes, add-ons, restarts). Each item carries a
//! severity, a one-line reason and the ids of the playbooks that explain it.
//!
//! `build` is O(objects): each section makes one pass over the pods at most, joins go through
//! hash maps built once, and only the items shown are formatted.

mod addons;
mod common;
mod control_plane;
mod nodes;
mod report;
mod restarts;

#[cfg(test)]
pub(crate) mod fixtures;

use chrono::{DateTime, Utc};

pub use common::{human, major_minor};

/// The restart arithmetic the health model judges by (the kubelet's back-off, current and
/// lifetime rates, pods restarted together), shared with the playbooks that rate restarts.
pub mod restart {
    pub use super::common::{
        CurrentRate, MIN_OBSERVATION_SECS, RestartMark, backoff_in_message, current_rate,
        kubelet_backoff_secs, lifetime_rate, restarted_together,
    };
}
pub use report::{HealthItem, HealthReport, Severity, SeverityCounts};

use crate::cluster::state::ClusterState;

/// Judges `state` at the instant `now` (the wall clock for a live cluster, the snapshot's
/// clock for a snapshot). Every section is sorted worst first, then by title (the restarts
/// section: worst first, then by restart rate).
pub fn build(state: &ClusterState, now: DateTime<Utc>) -> HealthReport {
    // A view kept through an outage is judged at the moment it was last whole: its leases
    // and heartbeats did not stop, ktriage stopped hearing about them.
    let judged_at = state
        .sync
        .iter()
        .filter_map(|s| match &s.state {
            crate::cluster::SyncState::Stale { since, .. } => Some(*since),
            _ => None,
        })
        .min()
        .map_or(now, |since| since.min(now));
    let mut report = HealthReport {
        control_plane: control_plane::section(state, judged_at)
            .into_iter()
            .map(|i| control_plane::readyz_staleness(state, i, now))
            .collect(),
        nodes: nodes::section(state, judged_at),
        addons: addons::section(state, judged_at),
        restarts: restarts::section(state, judged_at),
    };
    // A view kept through an outage says so first in the sections it feeds, with its age
    // (readyz says it in its own item).
    let stale = |resources: &[&str]| -> Vec<report::HealthItem> {
        resources
            .iter()
            .filter_map(|r| common::stale_marker(state, r, now))
            .collect()
    };
    for (section, resources) in [
        (&mut report.control_plane, &["pods", "leases"][..]),
        (&mut report.nodes, &["nodes", "node-leases"][..]),
        (
            &mut report.addons,
            &["daemonsets", "deployments", "statefulsets"][..],
        ),
        (&mut report.restarts, &["events"][..]),
    ] {
        let markers = stale(resources);
        if !markers.is_empty() {
            section.splice(0..0, markers);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn a_healthy_cluster_has_four_populated_sections_and_nothing_wrong() {
        let report = build(&healthy_cluster(), now());
        for (title, items) in report.sections() {
            assert!(!items.is_empty(), "{title} is empty");
        }
        assert_eq!(report.worst(), Severity::Ok, "{report:#?}");
        assert!(report.summary().ends_with(" ok"), "{}", report.summary());
    }

    #[test]
    fn an_empty_synced_cluster_is_reported_truthfully() {
        let report = build(&ClusterState::default(), now());
        assert!(report.nodes.iter().any(|i| i.reason.contains("empty")));
        assert!(
            report
                .addons
                .iter()
                .any(|i| i.severity == Severity::Critical && i.reason.contains("No CNI"))
        );
        assert!(report.restarts.iter().all(|i| i.severity == Severity::Ok));
    }

    #[test]
    fn forbidden_resources_turn_sections_unknown_instead_of_ok() {
        use crate::cluster::{ResourceSync, SyncState};
        let mut state = healthy_cluster();
        state.sync = vec![ResourceSync {
            resource: "nodes".into(),
            state: SyncState::Forbidden {
                verb: "list".into(),
                resource: "nodes".into(),
                message: "User \"dev\" cannot list resource \"nodes\" at the cluster scope".into(),
            },
        }];
        let report = build(&state, now());
        assert_eq!(report.nodes.len(), 1);
        assert_eq!(report.nodes[0].severity, Severity::Unknown);
        assert!(
            report.nodes[0]
                .reason
                .starts_with("cannot list nodes: forbidden")
        );
        assert_eq!(report.nodes[0].playbooks, ["rbac-forbidden"]);
        // The other sections still work.
        assert!(report.restarts.iter().all(|i| i.severity == Severity::Ok));
        assert!(report.addons.iter().all(|i| i.severity == Severity::Ok));
    }
}
