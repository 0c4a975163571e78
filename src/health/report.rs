//! The health report's types, shared by the TUI, `check` and the playbooks.

use serde::Serialize;

/// How bad an item is. Ordered: `Ok < Unknown < Warning < Critical`, so `max()` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Unknown,
    Warning,
    Critical,
}

impl Severity {
    /// A label readable without colour.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Unknown => "unknown",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One line of a health section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthItem {
    pub severity: Severity,
    /// Short label shown in the pane: a node name, `kube-scheduler lease`, `coredns`…
    pub title: String,
    /// One sentence: why this severity.
    pub reason: String,
    /// The object it is about, as `Kind/namespace/name` or `Kind/name` for cluster-scoped ones.
    pub object: Option<String>,
    /// Ids of the playbooks (shared/PLAYBOOKS.md) that explain this item.
    pub playbooks: Vec<String>,
    /// Extra facts for the detail view, in display order (label, value).
    pub details: Vec<(String, String)>,
}

/// The four sections of the health report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthReport {
    pub control_plane: Vec<HealthItem>,
    pub nodes: Vec<HealthItem>,
    pub addons: Vec<HealthItem>,
    pub restarts: Vec<HealthItem>,
}

impl HealthReport {
    /// The worst severity over every section (`Ok` for an empty report).
    pub fn worst(&self) -> Severity {
        self.sections()
            .iter()
            .flat_map(|(_, items)| items.iter().map(|i| i.severity))
            .max()
            .unwrap_or(Severity::Ok)
    }

    /// Sections with their pane titles, in display order.
    pub fn sections(&self) -> [(&'static str, &Vec<HealthItem>); 4] {
        [
            ("Control plane", &self.control_plane),
            ("Nodes", &self.nodes),
            ("Add-ons", &self.addons),
            ("Restarts", &self.restarts),
        ]
    }
}
