//! The model the UI draws: the health report plus where it came from and how fresh it is.
//! A producer builds a new [`Model`] on every change and publishes it as `Arc<Model>`
//! through a `tokio::sync::watch` channel; the UI only ever sees the newest one.

use std::time::Instant;

use crate::cluster::ResourceSync;
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
