//! The training panel's state (`ktriage train`): the exercise, elapsed time, hints revealed
//! on request (`H`, counted), the kubectl commands the trainee ran (from the server's
//! request log, which the loop polls through [`TrainingHooks`]), the answer among plausible
//! causes or typed (`A`), then the reveal (the playbook runner with its evidence, what the
//! trainee looked at and missed) and the fix check: for a fix made in the cluster, the
//! playbook runs again every [`CHECK_EVERY`] until its verdict turns to "not present".
//!
//! Until the answer, the model is masked ([`mask`]): no findings and no playbook links on
//! health items, and no playbook opens — they would give the answer away.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::Model;
use crate::playbooks::Playbook;
use crate::playbooks::engine::{Run, Verdict};
use crate::server::RequestRecord;
use crate::train::curriculum::{self, Exercise, FixAt};
use crate::train::kubectl::{self, Touch};
use crate::train::summary::{Answer, Fixed, Summary};

/// How often a cluster fix is checked after the answer.
pub const CHECK_EVERY: Duration = Duration::from_secs(10);

/// What the loop needs to feed the panel: the exercise, the kubeconfig path to show, the
/// server's request log, and a slot where the newest summary is published (the caller
/// writes the report and progress from it when the TUI ends, however it ends).
#[derive(Clone)]
pub struct TrainingHooks {
    pub exercise: Exercise,
    /// The kubeconfig the trainee uses with kubectl.
    pub kubeconfig: String,
    pub requests: Arc<dyn Fn() -> Vec<RequestRecord> + Send + Sync>,
    pub outcome: Arc<Mutex<Option<Summary>>>,
    seen: Arc<Mutex<usize>>,
}

impl TrainingHooks {
    pub fn new(
        exercise: Exercise,
        kubeconfig: String,
        requests: Arc<dyn Fn() -> Vec<RequestRecord> + Send + Sync>,
    ) -> TrainingHooks {
        TrainingHooks {
            exercise,
            kubeconfig,
            requests,
            outcome: Arc::new(Mutex::new(None)),
            seen: Arc::new(Mutex::new(0)),
        }
    }

    /// The requests logged since the last call.
    pub fn poll(&self) -> Vec<RequestRecord> {
        let all = (self.requests)();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let new = all.get(*seen..).map(<[_]>::to_vec).unwrap_or_default();
        *seen = all.len();
        new
    }

    /// Keeps the newest summary for the caller.
    pub fn publish(&self, summary: Option<Summary>) {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = summary;
    }

    /// The last summary published.
    pub fn outcome(&self) -> Option<Summary> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The answer box, while open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choosing {
    pub selected: usize,
    /// Text typed instead of choosing (matched against playbook titles and codes).
    pub typed: String,
    /// Why the typed text was not taken.
    pub problem: Option<String>,
}

/// The state of one exercise in the TUI.
#[derive(Debug, Clone)]
pub struct Training {
    pub exercise: Exercise,
    pub kubeconfig: String,
    started: Instant,
    /// When the clock stopped (the answer, or the report).
    stopped: Option<Instant>,
    pub hints_shown: usize,
    /// The trainee's kubectl commands, in order.
    pub commands: Vec<String>,
    touches: Vec<Touch>,
    pub choices: Vec<&'static Playbook>,
    pub choosing: Option<Choosing>,
    pub answer: Option<Answer>,
    pub fixed: Fixed,
    last_check: Option<Instant>,
    /// The newest run of the exercise's playbook (the reveal's evidence).
    run: Option<Arc<Run>>,
    fix_commands: Vec<String>,
    /// The report is shown (the next quit leaves).
    pub report_shown: bool,
}

/// What a key did in training.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrainKey {
    /// Not a training key.
    Ignored,
    Handled,
    /// Answered: open the playbook's runner (the reveal).
    Reveal(&'static str),
}

impl Training {
    pub fn new(exercise: Exercise, kubeconfig: String, now: Instant) -> Training {
        let fixed = match exercise.fix {
            FixAt::Cluster => Fixed::No,
            FixAt::Host => Fixed::HostSide,
        };
        Training {
            choices: curriculum::choices(&exercise),
            exercise,
            kubeconfig,
            started: now,
            stopped: None,
            hints_shown: 0,
            commands: Vec::new(),
            touches: Vec::new(),
            choosing: None,
            answer: None,
            fixed,
            last_check: None,
            run: None,
            fix_commands: Vec::new(),
            report_shown: false,
        }
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        self.stopped
            .unwrap_or(now)
            .saturating_duration_since(self.started)
    }

    /// The hints revealed so far.
    pub fn hints(&self) -> &[&'static str] {
        &self.exercise.hints[..self.hints_shown.min(self.exercise.hints.len())]
    }

    /// Findings and playbook links stay hidden until the answer.
    pub fn masks(&self) -> bool {
        self.answer.is_none()
    }

    /// New requests from the server's log: the trainee's (kubectl's) become commands.
    pub fn on_requests(&mut self, records: &[RequestRecord]) -> bool {
        let mut changed = false;
        for r in records.iter().filter(|r| kubectl::is_kubectl(r)) {
            if let Some(t) = kubectl::touch(&r.path)
                && !self.touches.contains(&t)
            {
                self.touches.push(t);
            }
            if let Some(c) = kubectl::render(r)
                && self.commands.last() != Some(&c)
            {
                self.commands.push(c);
                changed = true;
            }
        }
        changed
    }

    /// A key on the Overview, or any key while the answer box is open.
    pub fn on_key(&mut self, key: KeyEvent, now: Instant) -> TrainKey {
        if let Some(c) = &mut self.choosing {
            let n = self.choices.len();
            match key.code {
                KeyCode::Esc => self.choosing = None,
                KeyCode::Up => c.selected = (c.selected + n - 1) % n.max(1),
                KeyCode::Down => c.selected = (c.selected + 1) % n.max(1),
                KeyCode::Backspace => {
                    c.typed.pop();
                    c.problem = None;
                }
                KeyCode::Char(d @ '1'..='9') if c.typed.is_empty() => {
                    let i = d as usize - '1' as usize;
                    if i < n {
                        return self.answer_with(self.choices[i], None, now);
                    }
                }
                KeyCode::Char(ch) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    c.typed.push(ch);
                    c.problem = None;
                }
                KeyCode::Enter if c.typed.trim().is_empty() => {
                    let pb = self.choices[c.selected.min(n.saturating_sub(1))];
                    return self.answer_with(pb, None, now);
                }
                KeyCode::Enter => match curriculum::match_answer(&c.typed) {
                    Some(pb) => {
                        let typed = c.typed.trim().to_string();
                        return self.answer_with(pb, Some(typed), now);
                    }
                    None => {
                        c.problem = Some(format!(
                            "no cause matches \"{}\": try other words, a code like NET-08, or pick one above",
                            c.typed.trim()
                        ));
                    }
                },
                _ => {}
            }
            return TrainKey::Handled;
        }
        match key.code {
            KeyCode::Char('H') => {
                if self.hints_shown < self.exercise.hints.len() {
                    self.hints_shown += 1;
                }
                TrainKey::Handled
            }
            KeyCode::Char('A') if self.answer.is_none() => {
                self.choosing = Some(Choosing::default());
                TrainKey::Handled
            }
            _ => TrainKey::Ignored,
        }
    }

    fn answer_with(
        &mut self,
        pb: &'static Playbook,
        typed: Option<String>,
        now: Instant,
    ) -> TrainKey {
        let said = match typed {
            Some(t) => format!("\"{t}\" → {} {}", pb.code, pb.title),
            None => format!("{} {}", pb.code, pb.title),
        };
        self.answer = Some(Answer {
            said,
            correct: pb.id == self.exercise.playbook.id,
        });
        self.choosing = None;
        self.stopped = Some(now);
        self.last_check = Some(now);
        TrainKey::Reveal(self.exercise.playbook.id)
    }

    /// The first quit shows the report (true: hold the quit); the next one leaves.
    pub fn hold_quit(&mut self, now: Instant) -> bool {
        if self.report_shown {
            return false;
        }
        self.report_shown = true;
        self.choosing = None;
        self.stopped.get_or_insert(now);
        true
    }

    /// The playbook to run now to check the fix, if one is due.
    pub fn due_check(&mut self, now: Instant) -> Option<&'static str> {
        let due = self.answer.is_some()
            && self.fixed == Fixed::No
            && self
                .last_check
                .is_none_or(|t| now.saturating_duration_since(t) >= CHECK_EVERY);
        if due {
            self.last_check = Some(now);
            return Some(self.exercise.playbook.id);
        }
        None
    }

    /// A run of a playbook finished: the exercise's keeps the evidence, and after the
    /// answer a verdict of "not present" means the fix took effect.
    pub fn on_run(&mut self, run: &Arc<Run>) {
        if run.playbook.id != self.exercise.playbook.id {
            return;
        }
        match run.verdict() {
            Verdict::Found(f) => {
                if self.fix_commands.is_empty() {
                    self.fix_commands = f.fix.commands.clone();
                }
                self.run = Some(run.clone());
            }
            Verdict::NotPresent => {
                if self.answer.is_some() && self.fixed == Fixed::No {
                    self.fixed = Fixed::Yes;
                    self.report_shown = true;
                }
                if self.run.is_none() {
                    self.run = Some(run.clone());
                }
            }
            Verdict::CouldNotCheck { .. } => {
                if self.run.is_none() {
                    self.run = Some(run.clone());
                }
            }
        }
    }

    /// What the trainee's requests touched, as they read.
    pub fn looked_at(&self) -> Vec<String> {
        self.touches.iter().map(kubectl::describe).collect()
    }

    /// The playbook's queries (of its run) the trainee never asked an equivalent of.
    pub fn missed(&self) -> Vec<String> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for step in &run.steps {
            let request = step.query.request();
            let Some(path) = request.strip_prefix("GET ") else {
                continue;
            };
            let Some(wanted) = kubectl::touch(path) else {
                continue;
            };
            let seen = self.touches.iter().any(|t| kubectl::covers(t, &wanted));
            if !seen && !out.contains(&step.query.kubectl) {
                out.push(step.query.kubectl.clone());
            }
        }
        out
    }

    /// The playbook run has come back (the reveal can say what was missed).
    pub fn has_run(&self) -> bool {
        self.run.is_some()
    }

    /// The summary as of `now`.
    pub fn summary(&self, now: Instant) -> Summary {
        let e = &self.exercise;
        Summary {
            exercise: e.id.clone(),
            track: e.track.title(),
            level: e.level,
            briefing: e.briefing,
            elapsed: self.elapsed(now),
            hints_used: self.hints_shown,
            hints_total: e.hints.len(),
            commands: self.commands.clone(),
            answer: self.answer.clone(),
            cause: format!("{} {}", e.playbook.code, e.playbook.title),
            fix_at: e.fix,
            fixed: self.fixed,
            fix_commands: self.fix_commands.clone(),
            looked_at: self.looked_at(),
            missed: self.missed(),
        }
    }
}

/// The model without what gives the answer away: no findings, no playbook links.
pub fn mask(model: &Model) -> Model {
    let mut m = model.clone();
    m.findings = Default::default();
    for items in [
        &mut m.report.control_plane,
        &mut m.report.nodes,
        &mut m.report.addons,
        &mut m.report.restarts,
    ] {
        for item in items.iter_mut() {
            item.playbooks.clear();
        }
    }
    m
}

/// Rows of the training panel above the Overview on a screen `height` rows high.
pub fn panel_height(height: u16) -> u16 {
    (height * 2 / 5).clamp(8, 16).min(height.saturating_sub(7))
}
