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

impl HealthItem {
    /// An item with no object, playbooks or details yet.
    pub fn new(severity: Severity, title: impl Into<String>, reason: impl Into<String>) -> Self {
        HealthItem {
            severity,
            title: title.into(),
            reason: reason.into(),
            object: None,
            playbooks: Vec::new(),
            details: Vec::new(),
        }
    }

    /// Sets the object (`Kind/namespace/name` or `Kind/name`).
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Adds playbook ids, keeping the first occurrence of each.
    pub fn with_playbooks(mut self, ids: &[&str]) -> Self {
        for id in ids {
            if !self.playbooks.iter().any(|p| p == id) {
                self.playbooks.push((*id).to_string());
            }
        }
        self
    }

    /// Adds one detail line.
    pub fn with_detail(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.push((label.into(), value.into()));
        self
    }
}

/// How many items of each severity a report holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub ok: usize,
    pub unknown: usize,
    pub warning: usize,
    pub critical: usize,
}

impl HealthReport {
    /// Items per severity over every section.
    pub fn counts(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for (_, items) in self.sections() {
            for i in items {
                match i.severity {
                    Severity::Ok => c.ok += 1,
                    Severity::Unknown => c.unknown += 1,
                    Severity::Warning => c.warning += 1,
                    Severity::Critical => c.critical += 1,
                }
            }
        }
        c
    }

    /// One line for status bars and `check` text output: `2 critical, 1 warning, 30 ok`
    /// (severities with no items are left out; `no items` for an empty report).
    pub fn summary(&self) -> String {
        let c = self.counts();
        let parts: Vec<String> = [
            (c.critical, "critical"),
            (c.warning, "warning"),
            (c.unknown, "unknown"),
            (c.ok, "ok"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, label)| {
            if *label == "warning" && *n > 1 {
                format!("{n} warnings")
            } else {
                format!("{n} {label}")
            }
        })
        .collect();
        if parts.is_empty() {
            "no items".to_string()
        } else {
            parts.join(", ")
        }
    }
}
