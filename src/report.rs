//! Renders a `check` report (the cluster it is about and its health report) as text for a
//! terminal, JSON for machines, and Markdown ready to paste into an incident ticket; and maps
//! it to the exit code (0 ok, 1 warnings, 2 critical).

use serde_json::{Value, json};

use crate::health::{HealthItem, HealthReport, Severity};

/// What the report is about.
#[derive(Debug, Clone, Default)]
pub struct ClusterInfo {
    /// `scenario`, `snapshot` or `context`.
    pub source: String,
    /// Scenario id, snapshot path or context name.
    pub name: String,
    pub server: Option<String>,
    pub version: Option<String>,
    /// The instant the report was judged at (RFC 3339).
    pub judged_at: String,
    /// Resources that could not be read, as `resource: reason` lines.
    pub problems: Vec<String>,
}

/// A full `check` report.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub cluster: ClusterInfo,
    pub health: HealthReport,
}

impl CheckReport {
    /// 0 all ok, 1 warnings (or unknowns), 2 critical.
    pub fn exit_code(&self) -> i32 {
        match self.health.worst() {
            Severity::Ok => 0,
            Severity::Unknown | Severity::Warning => 1,
            Severity::Critical => 2,
        }
    }

    pub fn to_json(&self) -> Value {
        let items = |items: &[HealthItem]| -> Vec<Value> { items.iter().map(item_json).collect() };
        json!({
            "cluster": {
                "source": self.cluster.source,
                "name": self.cluster.name,
                "server": self.cluster.server,
                "version": self.cluster.version,
                "judged_at": self.cluster.judged_at,
                "problems": self.cluster.problems,
            },
            "health": {
                "control_plane": items(&self.health.control_plane),
                "nodes": items(&self.health.nodes),
                "addons": items(&self.health.addons),
                "restarts": items(&self.health.restarts),
            },
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "ktriage check: {} {}{}{}\njudged at {}\n",
            self.cluster.source,
            self.cluster.name,
            self.cluster
                .server
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            self.cluster
                .version
                .as_deref()
                .map(|v| format!(", {v}"))
                .unwrap_or_default(),
            self.cluster.judged_at
        ));
        for p in &self.cluster.problems {
            out.push_str(&format!("! {p}\n"));
        }
        for (title, items) in self.health.sections() {
            out.push_str(&format!("\n{title}\n"));
            if items.is_empty() {
                out.push_str("  (nothing to report)\n");
            }
            for i in items {
                let playbooks = if i.playbooks.is_empty() || i.severity == Severity::Ok {
                    String::new()
                } else {
                    format!("  -> {}", i.playbooks.join(", "))
                };
                out.push_str(&format!(
                    "  [{:<8}] {}: {}{}\n",
                    i.severity.label().to_uppercase(),
                    i.title,
                    i.reason,
                    playbooks
                ));
            }
        }
        out.push_str(&format!("\nOverall: {}\n", self.health.worst().label()));
        out
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## ktriage check: {} `{}`\n\n",
            self.cluster.source, self.cluster.name
        );
        if let Some(s) = &self.cluster.server {
            out.push_str(&format!("- Server: `{s}`\n"));
        }
        if let Some(v) = &self.cluster.version {
            out.push_str(&format!("- Version: {v}\n"));
        }
        out.push_str(&format!("- Judged at: {}\n", self.cluster.judged_at));
        out.push_str(&format!("- Overall: **{}**\n", self.health.worst().label()));
        for p in &self.cluster.problems {
            out.push_str(&format!("- Could not read: {p}\n"));
        }
        for (title, items) in self.health.sections() {
            out.push_str(&format!("\n### {title}\n\n"));
            if items.is_empty() {
                out.push_str("Nothing to report.\n");
                continue;
            }
            out.push_str("| Severity | Item | Reason | Playbooks |\n|---|---|---|---|\n");
            for i in items {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    i.severity.label(),
                    md_cell(&i.title),
                    md_cell(&i.reason),
                    i.playbooks
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        out
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn item_json(i: &HealthItem) -> Value {
    let details: serde_json::Map<String, Value> = i
        .details
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "severity": i.severity,
        "title": i.title,
        "reason": i.reason,
        "object": i.object,
        "playbooks": i.playbooks,
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sev: Severity, title: &str) -> HealthItem {
        HealthItem {
            severity: sev,
            title: title.into(),
            reason: "because | reasons".into(),
            object: Some(format!("Node/{title}")),
            playbooks: vec!["node-notready-no-cni".into()],
            details: vec![("kubelet".into(), "v1.31.4".into())],
        }
    }

    fn report(sev: Severity) -> CheckReport {
        CheckReport {
            cluster: ClusterInfo {
                source: "scenario".into(),
                name: "healthy".into(),
                ..Default::default()
            },
            health: HealthReport {
                nodes: vec![item(sev, "worker-2"), item(Severity::Ok, "cp-1")],
                ..Default::default()
            },
        }
    }

    #[test]
    fn exit_codes_follow_the_worst_item() {
        assert_eq!(report(Severity::Ok).exit_code(), 0);
        assert_eq!(report(Severity::Warning).exit_code(), 1);
        assert_eq!(report(Severity::Critical).exit_code(), 2);
    }

    #[test]
    fn json_has_the_four_sections_and_item_fields() {
        let v = report(Severity::Critical).to_json();
        for s in ["control_plane", "nodes", "addons", "restarts"] {
            assert!(v["health"][s].is_array(), "{s}");
        }
        let n = &v["health"]["nodes"][0];
        assert_eq!(n["severity"], "critical");
        assert_eq!(n["object"], "Node/worker-2");
        assert_eq!(n["playbooks"][0], "node-notready-no-cni");
        assert_eq!(n["details"]["kubelet"], "v1.31.4");
    }

    #[test]
    fn text_and_markdown_show_severity_in_words() {
        let r = report(Severity::Critical);
        let t = r.to_text();
        assert!(t.contains("[CRITICAL] worker-2"), "{t}");
        assert!(t.contains("-> node-notready-no-cni"), "{t}");
        let m = r.to_markdown();
        assert!(
            m.contains("| critical | worker-2 | because \\| reasons |"),
            "{m}"
        );
    }
}
