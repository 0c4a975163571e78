//! The model the UI draws: the health report and the live findings, plus where they came
//! from and how fresh they are.
//! A producer builds a new [`Model`] on every change and publishes it as `Arc<Model>`
//! through a `tokio::sync::watch` channel; the UI only ever sees the newest one.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::cluster::ResourceSync;
use crate::cluster::state::ClusterState;
use crate::health::{HealthItem, HealthReport};

use super::state::Pane;

/// Everything the Overview screen shows. Cheap to share: the UI holds it behind an `Arc`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// The four health sections.
    pub report: HealthReport,
    /// The sync state of every watched resource, in display order.
    pub sync: Vec<ResourceSync>,
    /// Kubeconfig context name (or the scenario / snapshot label).
    pub context: String,
    /// API server URL.
    pub server: String,
    /// `gitVersion` of the API server, once known.
    pub server_version: Option<String>,
    /// When the report was last rebuilt; `None` until the first report.
    pub updated_at: Option<Instant>,
    /// A one-line message for the user (e.g. "connection lost, retrying in 5s").
    pub notice: Option<String>,
    /// The objects the report was built from, for the list views.
    pub objects: Objects,
    /// The clock the report was judged at (ages in the list views are judged at it too).
    pub judged_at: Option<DateTime<Utc>>,
    /// The playbooks' findings of the last evaluation (`crate::findings`), ranked.
    pub findings: crate::findings::Findings,
}

/// The stores behind a model: shared, never copied. Two are equal when they are the same
/// snapshot of the stores.
#[derive(Clone, Default)]
pub struct Objects(pub Arc<ClusterState>);

impl PartialEq for Objects {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.0;
        write!(
            f,
            "Objects({} nodes, {} pods, {} leases, {} events)",
            s.nodes.len(),
            s.pods.len(),
            s.leases.len(),
            s.events.len()
        )
    }
}

impl Model {
    /// The items of one pane's section.
    pub fn section(&self, pane: Pane) -> &[HealthItem] {
        match pane {
            Pane::ControlPlane => &self.report.control_plane,
            Pane::Nodes => &self.report.nodes,
            Pane::Addons => &self.report.addons,
            Pane::Restarts => &self.report.restarts,
        }
    }

    /// The number of items in each pane, in [`Pane::ALL`] order.
    pub fn counts(&self) -> [usize; 4] {
        Pane::ALL.map(|p| self.section(p).len())
    }
}
