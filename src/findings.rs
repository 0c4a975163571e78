//! Live findings: the background task that runs every playbook (`engine::run_all`) over the
//! query source `check` uses, plus the connection doctor's findings for a user some reads
//! are refused to (as `check` adds them), when the watched cluster changes (throttled) and
//! periodically; it publishes the ranked result ([`Findings`]) through a `watch` channel that
//! the model producer (`source::spawn_producer`) puts into every model. Also [`Level`]: how
//! health and findings combine into one verdict, the same way `check`'s exit code does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use tokio::sync::watch;

use crate::cluster::doctor::{self, Observation, Verdict};
use crate::health::{HealthItem, Severity};
use crate::playbooks::engine::{self, Run};
use crate::playbooks::source::QuerySource;
use crate::playbooks::{Finding, FindingSeverity};

/// The ranked findings of the last evaluation, as the UI draws them.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// Runs whose cause is present, ranked as `check` ranks them (severity, confidence, id).
    pub runs: Arc<Vec<Run>>,
    /// When the last evaluation finished; `None` before the first.
    pub evaluated_at: Option<Instant>,
    /// An evaluation is under way.
    pub running: bool,
    /// Why the last evaluation gave no result (the previous result stays).
    pub note: Option<String>,
    /// Playbooks whose queries were refused or failed in the last evaluation: they could not
    /// check, so their absence among the findings proves nothing.
    pub could_not_check: usize,
    /// Those runs, in registry order: their failed queries and errors (`Run::verdict`).
    pub unchecked: Arc<Vec<Run>>,
}

impl PartialEq for Findings {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.runs, &other.runs)
            && self.evaluated_at == other.evaluated_at
            && self.running == other.running
            && self.note == other.note
            && self.could_not_check == other.could_not_check
            && Arc::ptr_eq(&self.unchecked, &other.unchecked)
    }
}

impl Findings {
    /// The findings with the run they came from, best first.
    pub fn iter(&self) -> impl Iterator<Item = (&Run, &Finding)> {
        self.runs
            .iter()
            .filter_map(|r| r.finding.as_ref().map(|f| (r, f)))
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows the findings header wants: one per finding and one per playbook that could not
    /// check (listed with its failed query and error under the findings).
    pub fn header_rows(&self) -> usize {
        self.len() + self.unchecked.len()
    }

    /// The playbooks that could not check, each with its first failed query and its error.
    pub fn unchecked_queries(&self) -> impl Iterator<Item = (&Run, Option<engine::FailedQuery>)> {
        self.unchecked
            .iter()
            .map(|r| (r, r.could_not_check().and_then(|f| f.into_iter().next())))
    }

    /// The level of the worst finding (`Ok` when there is none, or only info).
    pub fn level(&self) -> Level {
        self.iter()
            .map(|(_, f)| Level::of_finding(f.severity))
            .max()
            .unwrap_or(Level::Ok)
    }

    /// The finding that explains a health item, the root cause first: of the findings (a
    /// warning or worse) that name the item — its playbook is one the item links, or their
    /// evidence names its object or the object's pods — the best ranked, where a finding
    /// that points at another present finding ("see NET-01") stands for that one. An info
    /// finding counts only through such a pointer. `None` when no finding names the item.
    pub fn explaining(&self, item: &HealthItem) -> Option<(&Run, &Finding)> {
        let present: Vec<(&Run, &Finding)> = self.iter().collect();
        let root = |run: &Run, f: &Finding| -> Option<usize> {
            // A finding pointing at another present one stands for it.
            let pointed = present.iter().position(|(other, of)| {
                other.playbook.id != run.playbook.id
                    && of.severity >= FindingSeverity::Warning
                    && f.summary.contains(other.playbook.code)
            });
            match pointed {
                Some(i) => Some(i),
                None if f.severity >= FindingSeverity::Warning => present
                    .iter()
                    .position(|(r, _)| r.playbook.id == run.playbook.id),
                None => None,
            }
        };
        present
            .iter()
            .filter(|(run, f)| names_item(run, f, item))
            .filter_map(|(run, f)| root(run, f))
            .min()
            .map(|i| present[i])
    }

    /// Every run of the last evaluation by playbook id and its verdict word: `found`, `could
    /// not check`, or `not present` (`None` before the first evaluation, or for a playbook it
    /// did not run).
    pub fn verdict_of(&self, id: &str) -> Option<&'static str> {
        self.evaluated_at?;
        if self.iter().any(|(r, _)| r.playbook.id == id) {
            Some("found")
        } else if self.unchecked.iter().any(|r| r.playbook.id == id) {
            Some("could not check")
        } else if crate::playbooks::find(id).is_some() {
            Some("not present")
        } else {
            None
        }
    }
}

/// Whether a finding names a health item: its playbook is one the item links, or its
/// evidence names the item's object (a node, a workload, a lease), or a pod of the item's
/// workload (`Pod/NS/NAME-…`, or `NS/NAME-…` in a list of pods).
///
/// An item that is OK is named only by its own object (a node whose kubelet has just
/// stopped, still Ready): a workload whose pods are all fine is not explained by a cause
/// that touches one of them.
fn names_item(run: &Run, f: &Finding, item: &HealthItem) -> bool {
    let Some(object) = item.object.as_deref() else {
        return item.severity != Severity::Ok
            && item.playbooks.iter().any(|p| p == run.playbook.id);
    };
    if item.severity == Severity::Ok {
        return f.evidence.iter().any(|e| e.object == object);
    }
    if item.playbooks.iter().any(|p| p == run.playbook.id) {
        return true;
    }
    let mut parts = object.splitn(3, '/');
    let (kind, first, second) = (parts.next(), parts.next(), parts.next());
    f.evidence.iter().any(|e| match (kind, first, second) {
        (Some("Node"), Some(node), None) => {
            e.object == object
                || e.object
                    .strip_prefix("Node/")
                    .is_some_and(|list| list.split(',').any(|n| n == node))
        }
        (Some("Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet"), Some(ns), Some(name)) => {
            let pods = format!("{ns}/{name}-");
            e.object == object
                || e.object
                    .strip_prefix("Pod/")
                    .is_some_and(|p| p.starts_with(&pods))
                || (e.object == "Pod" && e.value.split(", ").any(|p| p.starts_with(&pods)))
        }
        _ => e.object == object,
    })
}

/// One verdict over health and findings, ordered: `check` exits with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    /// Health: unknown counts as a warning (it needs a look).
    pub fn of_health(s: Severity) -> Level {
        match s {
            Severity::Ok => Level::Ok,
            Severity::Unknown | Severity::Warning => Level::Warning,
            Severity::Critical => Level::Critical,
        }
    }

    /// A finding: info is not a problem.
    pub fn of_finding(s: FindingSeverity) -> Level {
        match s {
            FindingSeverity::Info => Level::Ok,
            FindingSeverity::Warning => Level::Warning,
            FindingSeverity::Critical => Level::Critical,
        }
    }

    /// `check`'s exit code: 0 ok, 1 warnings, 2 critical.
    pub fn exit_code(self) -> i32 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }
}

/// Examines the connection the way the doctor does (`None`: it cannot be examined).
pub type DoctorProbe = Arc<dyn Fn() -> BoxFuture<'static, Option<Observation>> + Send + Sync>;

/// A doctor probe of a resolved context with the client environment it runs with.
pub fn doctor_probe(
    target: doctor::Target,
    env: std::collections::BTreeMap<String, String>,
) -> DoctorProbe {
    let shared = Arc::new((target, env));
    Arc::new(move || {
        let shared = shared.clone();
        Box::pin(async move {
            let (target, env) = &*shared;
            Some(doctor::examine(target, env, &doctor::Options::default()).await)
        })
    })
}

/// Every playbook over `queries`, plus the doctor's findings when the doctor says some
/// reads are refused: what `check` reports, ranked the same way, with the playbooks that
/// could not check.
pub async fn evaluate(
    queries: &dyn QuerySource,
    doctor_probe: Option<&DoctorProbe>,
    now: DateTime<Utc>,
) -> engine::Checked {
    let mut checked = engine::check_all(queries, now).await;
    if let Some(probe) = doctor_probe
        && let Some(observation) = probe().await
        && observation.verdict() == Verdict::Partial
    {
        checked
            .findings
            .extend(crate::playbooks::connection::diagnose(&observation, now).await);
        engine::sort_runs(&mut checked.findings);
    }
    checked
}

/// When the task evaluates.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    /// After a change, not sooner than this after the last evaluation started (stretched
    /// to ten times the cost of the last evaluation, so a big cluster is not hammered).
    pub min_interval: Duration,
    /// Without changes, again after this long (stretched to twenty times the cost).
    pub refresh: Duration,
    /// The first evaluation waits for the watchers to settle, at most this long (as
    /// `check` does before it judges).
    pub settle: Duration,
    /// An evaluation that takes longer is cancelled; the previous result stays.
    pub limit: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            min_interval: Duration::from_secs(5),
            refresh: Duration::from_secs(30),
            settle: Duration::from_secs(10),
            limit: Duration::from_secs(60),
        }
    }
}

/// Starts the findings task: evaluates once the watchers settled, then again after a
/// change (throttled by `cadence`) and periodically. Changes that arrive during an
/// evaluation ask for another one after it. Dropping the receiver ends the task; aborting
/// the task (a source switched away) cancels the evaluation in progress, so its result is
/// never published.
pub fn spawn(
    queries: Arc<dyn QuerySource>,
    doctor_probe: Option<DoctorProbe>,
    mut changes: watch::Receiver<u64>,
    settled: Arc<dyn Fn() -> bool + Send + Sync>,
    cadence: Cadence,
) -> (watch::Receiver<Findings>, tokio::task::JoinHandle<()>) {
    use tokio::time::{Instant as TInstant, sleep, sleep_until, timeout_at};
    let (tx, rx) = watch::channel(Findings::default());
    let task = tokio::spawn(async move {
        let deadline = TInstant::now() + cadence.settle;
        while !settled() {
            match timeout_at(deadline, changes.changed()).await {
                Err(_) => break,
                Ok(Err(_)) => return,
                Ok(Ok(())) => {}
            }
        }
        changes.borrow_and_update();
        let mut closed = false;
        let mut dirty = false;
        let mut next_periodic = TInstant::now();
        let mut earliest = TInstant::now();
        loop {
            // Wait until a run is due.
            loop {
                let now = TInstant::now();
                if now >= next_periodic || (dirty && now >= earliest) {
                    break;
                }
                let wake = if dirty {
                    earliest.min(next_periodic)
                } else {
                    next_periodic
                };
                tokio::select! {
                    r = changes.changed(), if !closed => match r {
                        Ok(()) => dirty = true,
                        Err(_) => closed = true,
                    },
                    _ = sleep_until(wake) => {}
                }
            }
            if closed {
                return;
            }
            dirty = false;
            tx.send_modify(|f| f.running = true);
            let started = TInstant::now();
            let evaluation = evaluate(queries.as_ref(), doctor_probe.as_ref(), Utc::now());
            tokio::pin!(evaluation);
            let limit = sleep(cadence.limit);
            tokio::pin!(limit);
            let outcome = loop {
                tokio::select! {
                    runs = &mut evaluation => break Some(runs),
                    _ = &mut limit => break None,
                    r = changes.changed(), if !closed => match r {
                        Ok(()) => dirty = true,
                        Err(_) => closed = true,
                    },
                }
            };
            let cost = started.elapsed();
            // A run that a transient fault kept from checking (a reset, a timeout, a 5xx) is
            // asked again soon: its cost was the fault's, and the view is back within seconds.
            let transient =
                matches!(&outcome, Some(c) if c.could_not_check.iter().any(hit_a_transient_fault));
            if transient {
                earliest = started + cadence.min_interval;
                next_periodic = TInstant::now() + cadence.min_interval;
            } else {
                earliest = started + (cost * 10).max(cadence.min_interval);
                next_periodic = TInstant::now() + (cost * 20).max(cadence.refresh);
            }
            match outcome {
                Some(checked) => {
                    tracing::debug!(
                        findings = checked.findings.len(),
                        could_not_check = checked.could_not_check.len(),
                        ms = cost.as_millis() as u64,
                        "findings evaluated"
                    );
                    tx.send_replace(Findings {
                        runs: Arc::new(checked.findings),
                        evaluated_at: Some(Instant::now()),
                        running: false,
                        note: None,
                        could_not_check: checked.could_not_check.len(),
                        unchecked: Arc::new(checked.could_not_check),
                    });
                }
                None => {
                    tracing::warn!(
                        secs = cadence.limit.as_secs(),
                        "findings evaluation cancelled"
                    );
                    tx.send_modify(|f| {
                        f.running = false;
                        f.note = Some(format!(
                            "findings: no answer within {}s (the last result stays)",
                            cadence.limit.as_secs()
                        ));
                    });
                }
            }
            if tx.is_closed() || closed {
                return;
            }
        }
    });
    (rx, task)
}

/// Whether a run went unanswered because of the link or the server's state (no answer, 429,
/// 5xx) rather than a refusal (401, 403) or a missing capture that asking again cannot change.
fn hit_a_transient_fault(run: &Run) -> bool {
    run.steps.iter().any(|s| {
        matches!(s.outcome, crate::playbooks::Outcome::Failed { code, .. } if code == 0 || code == 429 || code >= 500)
    })
}

/// Aborts a task when dropped (the findings task ends with the producer that owns it).
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
