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
            changed |= kubectl::push_command(&mut self.commands, r);
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

    /// A quit shows the report first (true: hold the quit); a quit from the report leaves.
    pub fn hold_quit(&mut self, now: Instant) -> bool {
        if self.report_shown {
            return false;
        }
        self.report_shown = true;
        self.choosing = None;
        self.stopped.get_or_insert(now);
        true
    }

    /// Back from the report to the exercise: the clock runs on until the answer.
    pub fn back_from_report(&mut self) {
        self.report_shown = false;
        if self.answer.is_none() {
            self.stopped = None;
        }
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

    /// What the playbook read that the trainee never asked an equivalent of: its queries
    /// (as kubectl commands), then the objects of its evidence (`Kind/ns/name field`).
    pub fn missed(&self) -> Vec<String> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let seen = |wanted: &Touch| self.touches.iter().any(|t| kubectl::covers(t, wanted));
        let mut out: Vec<String> = Vec::new();
        for step in &run.steps {
            let request = step.query.request();
            let Some(wanted) = request.strip_prefix("GET ").and_then(kubectl::touch) else {
                continue;
            };
            if !seen(&wanted) && !out.contains(&step.query.kubectl) {
                out.push(step.query.kubectl.clone());
            }
        }
        for ev in run.finding.iter().flat_map(|f| &f.evidence) {
            if let Some(wanted) = kubectl::evidence_touch(&ev.object)
                && !seen(&wanted)
            {
                let line = format!("{} {}", ev.object, ev.field);
                if !out.contains(&line) {
                    out.push(line);
                }
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
    (height / 3).clamp(8, 13).min(height.saturating_sub(7))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use crossterm::event::KeyEvent;
    use futures::future::BoxFuture;

    use super::*;
    use crate::app::{App, Effect, Msg};
    use crate::health::{HealthItem, Severity};
    use crate::playbooks::source::{QuerySource, SnapshotSource};
    use crate::playbooks::{Outcome, Query};

    fn exercise(scenario: &str) -> Exercise {
        crate::train::curriculum()
            .into_iter()
            .find(|e| e.scenario == scenario)
            .expect("exercise")
    }

    fn app(scenario: &str) -> App {
        App::new().with_training(Training::new(
            exercise(scenario),
            "/tmp/kc".into(),
            Instant::now(),
        ))
    }

    fn key(c: char) -> Msg {
        Msg::Key(KeyEvent::from(KeyCode::Char(c)))
    }

    #[test]
    fn hints_are_counted_and_stop_at_the_last() {
        let mut app = app("crashloop");
        let total = app.training().unwrap().exercise.hints.len();
        app.update(key('H'));
        assert_eq!(app.training().unwrap().hints_shown, 1);
        assert_eq!(app.training().unwrap().hints().len(), 1);
        for _ in 0..5 {
            app.update(key('H'));
        }
        assert_eq!(app.training().unwrap().hints_shown, total);
        assert_eq!(app.training_summary().unwrap().hints_used, total);
    }

    #[test]
    fn the_right_choice_reveals_the_playbook_and_a_wrong_one_is_scored_wrong() {
        let mut app = app("crashloop");
        let choices = app.training().unwrap().choices.clone();
        let right = choices.iter().position(|p| p.id == "crashloop").unwrap();
        app.update(key('A'));
        assert!(app.training().unwrap().choosing.is_some());
        let digit = char::from_digit(right as u32 + 1, 10).unwrap();
        let effects = app.update(key(digit));
        assert_eq!(effects, vec![Effect::RunPlaybook("crashloop".into())]);
        assert_eq!(app.runner().map(|r| r.playbook.id), Some("crashloop"));
        assert!(app.training_summary().unwrap().correct());
        // Answered: A does nothing more.
        app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
        app.update(key('A'));
        assert!(app.training().unwrap().choosing.is_none());

        let mut app2 = self::app("crashloop");
        let wrong = choices.iter().position(|p| p.id != "crashloop").unwrap();
        app2.update(key('A'));
        app2.update(key(char::from_digit(wrong as u32 + 1, 10).unwrap()));
        let s = app2.training_summary().unwrap();
        assert!(!s.correct());
        assert!(s.answer_text().starts_with("wrong"));
        // The reveal still shows the right playbook.
        assert_eq!(app2.runner().map(|r| r.playbook.id), Some("crashloop"));
    }

    #[test]
    fn a_typed_answer_is_matched_and_nonsense_is_refused_with_a_reason() {
        let mut app = app("service-no-endpoints");
        app.update(key('A'));
        for c in "zzz".chars() {
            app.update(key(c));
        }
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
        let t = app.training().unwrap();
        assert!(t.answer.is_none());
        assert!(t.choosing.as_ref().unwrap().problem.is_some());
        for _ in 0..3 {
            app.update(Msg::Key(KeyEvent::from(KeyCode::Backspace)));
        }
        for c in "net-08".chars() {
            app.update(key(c));
        }
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
        assert!(app.training_summary().unwrap().correct());
    }

    #[test]
    fn findings_and_playbook_links_are_hidden_until_the_answer() {
        let mut app = app("crashloop");
        let mut model = Model::default();
        model.report.restarts.push(HealthItem {
            severity: Severity::Critical,
            title: "checkout".into(),
            reason: "restarting".into(),
            object: None,
            playbooks: vec!["crashloop".into()],
            details: Vec::new(),
        });
        let model = Arc::new(model);
        app.update(Msg::ModelChanged(model.clone()));
        assert!(app.model().report.restarts[0].playbooks.is_empty());
        // No playbook opens before the answer (it would tell).
        assert!(app.open_playbook("crashloop").is_empty());
        assert!(app.runner().is_none());
        app.update(key('A'));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
        app.update(Msg::ModelChanged(model));
        assert_eq!(app.model().report.restarts[0].playbooks, vec!["crashloop"]);
    }

    #[test]
    fn the_first_quit_shows_the_report_and_the_second_leaves() {
        let mut app = app("crashloop");
        assert!(app.update(key('q')).is_empty());
        assert!(app.training().unwrap().report_shown);
        // Other keys do nothing under the report; Esc goes back to the exercise.
        assert!(app.update(key(':')).is_empty());
        assert!(app.command().is_none());
        app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
        assert!(!app.training().unwrap().report_shown);
        app.update(key('H'));
        assert_eq!(app.training().unwrap().hints_shown, 1);
        assert!(app.update(key('q')).is_empty());
        assert_eq!(app.update(key('q')), vec![Effect::Quit]);
    }

    #[test]
    fn the_trainees_kubectl_requests_become_commands_and_ktriages_do_not() {
        let mut app = app("crashloop");
        let rec = |path: &str, ua: &str| RequestRecord {
            method: "GET".into(),
            path: path.into(),
            user: "u".into(),
            verb: "list".into(),
            resource: "pods".into(),
            code: 200,
            user_agent: ua.into(),
            writable: true,
        };
        app.update(Msg::Train(vec![
            rec("/api/v1/pods", "ktriage/0.1.0"),
            rec(
                "/api/v1/namespaces/shop/pods",
                "kubectl/v1.31.0 (linux/amd64)",
            ),
        ]));
        let t = app.training().unwrap();
        assert_eq!(t.commands, vec!["kubectl get pods -n shop"]);
        assert_eq!(t.looked_at(), vec!["pods in shop"]);
    }

    /// Answers from the broken cluster until `fixed` is set, then from a healthy one.
    struct Changing {
        broken: SnapshotSource,
        healthy: SnapshotSource,
        fixed: AtomicBool,
    }

    impl QuerySource for Changing {
        fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
            if self.fixed.load(Ordering::SeqCst) {
                self.healthy.run(query)
            } else {
                self.broken.run(query)
            }
        }
    }

    #[tokio::test]
    async fn a_cluster_fix_counts_when_the_verdict_turns_to_not_present() {
        use crate::playbooks::engine::{self, Cache};
        let snap = |id: &str| crate::scenarios::find(id).unwrap().snapshot;
        let broken = snap("service-no-endpoints");
        let now = broken.clock().unwrap();
        let source = Changing {
            broken: SnapshotSource { snapshot: broken },
            healthy: SnapshotSource {
                snapshot: snap("healthy"),
            },
            fixed: AtomicBool::new(false),
        };
        let pb = crate::playbooks::find("service-no-endpoints").unwrap();
        let mut app = app("service-no-endpoints");
        let started = Instant::now();
        app.update(key('A'));
        for c in "NET-08".chars() {
            app.update(key(c));
        }
        assert_eq!(
            app.update(Msg::Key(KeyEvent::from(KeyCode::Enter))),
            vec![Effect::RunPlaybook(pb.id.into())]
        );
        let run = engine::run(pb, &source, &mut Cache::default(), now).await;
        app.update(Msg::PlaybookRan(Arc::new(run)));
        let t = app.training().unwrap();
        assert_eq!(t.fixed, Fixed::No, "still broken");
        assert!(!t.summary(started).fix_commands.is_empty());
        // The check comes again after CHECK_EVERY, not before.
        let mut t = t.clone();
        assert_eq!(t.due_check(started + Duration::from_secs(1)), None);
        assert_eq!(
            t.due_check(Instant::now() + CHECK_EVERY),
            Some("service-no-endpoints")
        );
        source.fixed.store(true, Ordering::SeqCst);
        let run = engine::run(pb, &source, &mut Cache::default(), now).await;
        app.update(Msg::PlaybookRan(Arc::new(run)));
        let t = app.training().unwrap();
        assert_eq!(t.fixed, Fixed::Yes);
        assert!(t.report_shown, "solved: the report shows");
        assert_eq!(app.training_summary().unwrap().score(), 100);
    }
}
