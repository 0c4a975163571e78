//! The doctor screen's state: when the cluster cannot be used, the one app opens on it (and
//! leaves it for the Overview once the cluster answers). It shows the doctor's findings
//! (cause and fix side by side, the evidence, the timed probes), runs the checks again by
//! itself every few seconds (and at once on `r`), copies the fix commands (`y`), opens the
//! demo instead (`d`); its keys come from the keymap's `[doctor]` view.
//!
//! [`DoctorApp::action`] is synchronous and says what to do as data, so tests drive it
//! without a terminal; `App` holds it as a screen and the one event loop runs the checks.

use crate::cluster::doctor::{Observation, Verdict};
use crate::config::keymap::Action;
use crate::playbooks::engine::Run;

/// One examination: what the doctor saw and what it concluded.
#[derive(Debug, Clone)]
pub struct Examination {
    pub observation: Observation,
    pub runs: Vec<Run>,
    /// Wall-clock time of the check, `HH:MM:SS` UTC.
    pub at: String,
}

/// The screen's state.
#[derive(Debug, Clone)]
pub struct DoctorApp {
    pub exam: Examination,
    /// Which finding is shown (when there are several).
    pub selected: usize,
    /// How many times the checks ran.
    pub attempts: u32,
    /// A re-check is running.
    pub checking: bool,
    /// Lines scrolled in the cause and fix panes (long evidence at 80x24).
    pub scroll: u16,
    /// Seconds between automatic re-checks (`None`: only on `r`).
    pub retry_every: Option<u32>,
    /// Seconds until the next automatic re-check.
    pub next_retry: u32,
}

/// What the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The cluster answers now: go on to the main app.
    Connected,
    /// Open the demo instead.
    Demo,
    Quit,
}

/// What an action asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Run the checks again.
    Retry,
    Done(Choice),
    /// Put these fix commands on the clipboard.
    Copy(String),
    /// There is no fix command to copy.
    NothingToCopy,
    Redraw,
    Nothing,
}

impl DoctorApp {
    pub fn new(exam: Examination) -> Self {
        DoctorApp {
            exam,
            selected: 0,
            attempts: 1,
            checking: false,
            scroll: 0,
            retry_every: None,
            next_retry: 0,
        }
    }

    /// The same screen, running the checks again by itself every `seconds`.
    pub fn retrying_every(mut self, seconds: u32) -> Self {
        self.retry_every = Some(seconds.max(1));
        self.next_retry = seconds.max(1);
        self
    }

    /// One second passed: `true` when an automatic re-check is due (and now running).
    pub fn tick(&mut self) -> bool {
        if self.checking || self.retry_every.is_none() {
            return false;
        }
        self.next_retry = self.next_retry.saturating_sub(1);
        if self.next_retry == 0 {
            self.checking = true;
            return true;
        }
        false
    }

    /// The fix commands of the finding shown, one per line.
    pub fn fix_commands(&self) -> Option<String> {
        let finding = self.exam.runs.get(self.selected)?.finding.as_ref()?;
        let commands: Vec<&str> = finding
            .fix
            .commands
            .iter()
            .map(String::as_str)
            .filter(|c| !c.trim().is_empty())
            .collect();
        (!commands.is_empty()).then(|| commands.join("\n"))
    }

    /// An action of the keymap's `[doctor]` view (and the global quit and back).
    pub fn action(&mut self, action: Action) -> Reply {
        match action {
            Action::Quit | Action::Back => Reply::Done(Choice::Quit),
            Action::Demo => Reply::Done(Choice::Demo),
            Action::Rerun if !self.checking => {
                self.checking = true;
                Reply::Retry
            }
            Action::Rerun => Reply::Nothing,
            Action::Copy => match self.fix_commands() {
                Some(text) => Reply::Copy(text),
                None => Reply::NothingToCopy,
            },
            Action::MoveDown => {
                if self.selected + 1 < self.exam.runs.len() {
                    self.selected += 1;
                    self.scroll = 0;
                }
                Reply::Redraw
            }
            Action::MoveUp => {
                if self.selected > 0 {
                    self.selected -= 1;
                    self.scroll = 0;
                }
                Reply::Redraw
            }
            Action::PageDown => {
                self.scroll = self.scroll.saturating_add(5).min(200);
                Reply::Redraw
            }
            Action::PageUp => {
                self.scroll = self.scroll.saturating_sub(5);
                Reply::Redraw
            }
            _ => Reply::Nothing,
        }
    }

    /// A finished re-check: `Some(Connected)` when the cluster answers now.
    pub fn examined(&mut self, exam: Examination) -> Option<Choice> {
        self.checking = false;
        self.attempts += 1;
        if let Some(every) = self.retry_every {
            self.next_retry = every;
        }
        let reachable = exam.observation.verdict() != Verdict::Blocked;
        self.exam = exam;
        self.selected = self.selected.min(self.exam.runs.len().saturating_sub(1));
        reachable.then_some(Choice::Connected)
    }
}

/// The current time as the screen shows it.
pub fn clock() -> String {
    chrono::Utc::now().format("%H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exam(error: Option<&str>) -> Examination {
        Examination {
            observation: Observation {
                server: "https://127.0.0.1:1".into(),
                error: error.map(str::to_string),
                ..Default::default()
            },
            runs: Vec::new(),
            at: "12:00:00 UTC".into(),
        }
    }

    #[test]
    fn actions_retry_open_the_demo_or_quit() {
        let mut app = DoctorApp::new(exam(Some("connection refused")));
        assert_eq!(app.action(Action::Rerun), Reply::Retry);
        assert!(app.checking);
        // A second r while checking does nothing.
        assert_eq!(app.action(Action::Rerun), Reply::Nothing);
        assert_eq!(app.examined(exam(Some("connection refused"))), None);
        assert_eq!(app.attempts, 2);
        assert!(!app.checking);
        assert_eq!(app.action(Action::PageDown), Reply::Redraw);
        assert_eq!(app.scroll, 5);
        assert_eq!(app.action(Action::Copy), Reply::NothingToCopy);
        assert_eq!(app.action(Action::Demo), Reply::Done(Choice::Demo));
        assert_eq!(app.action(Action::Quit), Reply::Done(Choice::Quit));
    }

    #[test]
    fn a_recheck_that_reaches_the_cluster_goes_on_to_the_app() {
        let mut app = DoctorApp::new(exam(Some("connection refused")));
        app.action(Action::Rerun);
        assert_eq!(app.examined(exam(None)), Some(Choice::Connected));
    }

    #[test]
    fn the_checks_run_again_by_themselves_on_the_cadence() {
        let mut app = DoctorApp::new(exam(Some("connection refused"))).retrying_every(3);
        assert!(!app.tick());
        assert!(!app.tick());
        assert_eq!(app.next_retry, 1);
        assert!(app.tick(), "due after 3 s");
        assert!(app.checking);
        assert!(!app.tick(), "not again while checking");
        app.examined(exam(Some("connection refused")));
        assert_eq!(app.next_retry, 3, "the countdown starts over");
        // Without a cadence, only r checks again.
        let mut manual = DoctorApp::new(exam(Some("connection refused")));
        assert!((0..10).all(|_| !manual.tick()));
    }
}
