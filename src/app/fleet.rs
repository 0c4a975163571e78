//! The fleet view (`:fleet`): every context of the kubeconfig on one screen, one health line
//! each — reachable or not (with the connection doctor's cause), nodes Ready, how many
//! critical and warning items and findings (counted as `check` counts them), the worst one. Lines arrive one by one as each context is
//! examined; Enter switches to the selected context.

use super::cursor::Cursor;

/// Where one context stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetStatus {
    /// Being examined.
    Checking,
    /// Cannot be used: the doctor's cause in one line.
    Unusable(String),
    /// Read: the health report and the findings in numbers.
    Health {
        /// Ready nodes / nodes.
        nodes: (usize, usize),
        /// Critical items plus critical findings.
        critical: usize,
        /// Warning items plus warning findings.
        warning: usize,
        /// The worst: the top finding (`CODE cause`) unless an item is worse, else the
        /// first critical (else warning) item's title and reason.
        worst: Option<String>,
    },
}

/// One line of the fleet view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetLine {
    pub context: String,
    pub server: String,
    pub status: FleetStatus,
}

/// The fleet screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetView {
    pub lines: Vec<FleetLine>,
    /// The context watched now (marked on screen).
    pub current: String,
    pub cursor: Cursor,
}

impl FleetView {
    /// Every context, each still to be examined.
    pub fn new(contexts: &[String], current: &str) -> FleetView {
        FleetView {
            lines: contexts
                .iter()
                .map(|c| FleetLine {
                    context: c.clone(),
                    server: String::new(),
                    status: FleetStatus::Checking,
                })
                .collect(),
            current: current.to_string(),
            cursor: Cursor::at(contexts.iter().position(|c| c == current).unwrap_or(0)),
        }
    }

    /// Takes the result for one context.
    pub fn update(&mut self, line: FleetLine) {
        match self.lines.iter_mut().find(|l| l.context == line.context) {
            Some(l) => *l = line,
            None => self.lines.push(line),
        }
    }

    /// Marks every line as being examined again.
    pub fn rescan(&mut self) {
        for l in &mut self.lines {
            l.status = FleetStatus::Checking;
        }
    }

    pub fn selected_context(&self) -> Option<&str> {
        self.lines
            .get(self.cursor.selected)
            .map(|l| l.context.as_str())
    }

    pub fn contexts(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.context.clone()).collect()
    }
}

/// The fleet line of a health report and the findings of the same cluster (ranked, as
/// `findings::evaluate` returns them).
pub fn health_line(
    context: &str,
    server: &str,
    report: &crate::health::HealthReport,
    nodes: (usize, usize),
    findings: &[crate::playbooks::engine::Run],
) -> FleetLine {
    use crate::findings::Level;
    use crate::health::Severity;
    let items = || {
        [
            &report.control_plane,
            &report.nodes,
            &report.addons,
            &report.restarts,
        ]
        .into_iter()
        .flatten()
    };
    let found = || {
        findings
            .iter()
            .filter_map(|r| r.finding.as_ref().map(|f| (r.playbook, f)))
    };
    let count = |s: Severity| {
        items().filter(|i| i.severity == s).count()
            + found()
                .filter(|(_, f)| Level::of_finding(f.severity) == Level::of_health(s))
                .count()
    };
    let worst_item = items()
        .find(|i| i.severity == Severity::Critical)
        .or_else(|| items().find(|i| i.severity == Severity::Warning));
    let top = found().find(|(_, f)| Level::of_finding(f.severity) > Level::Ok);
    let worst = match (top, worst_item) {
        (Some((pb, f)), item)
            if item
                .is_none_or(|i| Level::of_finding(f.severity) >= Level::of_health(i.severity)) =>
        {
            Some(format!("{} {}", pb.code, f.summary))
        }
        (_, Some(i)) => Some(format!("{}: {}", i.title, i.reason)),
        _ => None,
    };
    FleetLine {
        context: context.to_string(),
        server: server.to_string(),
        status: FleetStatus::Health {
            nodes,
            critical: count(Severity::Critical),
            warning: count(Severity::Warning),
            worst,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{HealthItem, HealthReport, Severity};

    #[test]
    fn the_worst_item_is_the_first_critical_one() {
        let report = HealthReport {
            nodes: vec![
                HealthItem::new(Severity::Warning, "worker-1", "cordoned"),
                HealthItem::new(Severity::Critical, "worker-2", "NotReady"),
            ],
            ..Default::default()
        };
        let line = health_line("prod", "https://x", &report, (5, 6), &[]);
        assert_eq!(
            line.status,
            FleetStatus::Health {
                nodes: (5, 6),
                critical: 1,
                warning: 1,
                worst: Some("worker-2: NotReady".into()),
            }
        );
    }

    #[test]
    fn lines_arrive_in_any_order_and_the_current_context_is_selected() {
        let mut view = FleetView::new(&["a".into(), "b".into()], "b");
        assert_eq!(view.selected_context(), Some("b"));
        view.update(FleetLine {
            context: "a".into(),
            server: "s".into(),
            status: FleetStatus::Unusable("refused".into()),
        });
        assert_eq!(
            view.lines[0].status,
            FleetStatus::Unusable("refused".into())
        );
        assert_eq!(view.lines[1].status, FleetStatus::Checking);
        view.rescan();
        assert_eq!(view.lines[0].status, FleetStatus::Checking);
    }
}
