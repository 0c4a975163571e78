//! The doctor screen's state, shown before the main app when the cluster cannot be
//! reached: the doctor's findings (cause and fix side by side, the evidence, the timed
//! probes), `r` to run the checks again, `d` to open the demo instead, `q` to quit.
//!
//! [`DoctorApp::update`] is synchronous and returns what to do as data, so tests drive it
//! without a terminal; `tui::doctor::run` shows it, under the same terminal guard as the
//! main loop.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::cluster::doctor::{Observation, Verdict};
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

/// What an input asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    Done(Choice),
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
        }
    }

    /// A key press.
    pub fn key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::Nothing;
        }
        let ctrl_c =
            key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        match key.code {
            _ if ctrl_c => Action::Done(Choice::Quit),
            KeyCode::Char('q') | KeyCode::Esc => Action::Done(Choice::Quit),
            KeyCode::Char('d') => Action::Done(Choice::Demo),
            KeyCode::Char('r') if !self.checking => {
                self.checking = true;
                Action::Retry
            }
            KeyCode::Down | KeyCode::Char('j') | KeyCode::Tab => {
                if self.selected + 1 < self.exam.runs.len() {
                    self.selected += 1;
                    self.scroll = 0;
                }
                Action::Redraw
            }
            KeyCode::Up | KeyCode::Char('k') | KeyCode::BackTab => {
                if self.selected > 0 {
                    self.selected -= 1;
                    self.scroll = 0;
                }
                Action::Redraw
            }
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll = self.scroll.saturating_add(5).min(200);
                Action::Redraw
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(5);
                Action::Redraw
            }
            _ => Action::Nothing,
        }
    }

    /// A finished re-check: `Some(Connected)` when the cluster answers now.
    pub fn examined(&mut self, exam: Examination) -> Option<Choice> {
        self.checking = false;
        self.attempts += 1;
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

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn keys_retry_open_the_demo_or_quit() {
        let mut app = DoctorApp::new(exam(Some("connection refused")));
        assert_eq!(app.key(press('r')), Action::Retry);
        assert!(app.checking);
        // A second r while checking does nothing.
        assert_eq!(app.key(press('r')), Action::Nothing);
        assert_eq!(app.examined(exam(Some("connection refused"))), None);
        assert_eq!(app.attempts, 2);
        assert!(!app.checking);
        assert_eq!(app.key(press(' ')), Action::Redraw);
        assert_eq!(app.scroll, 5);
        assert_eq!(app.key(press('d')), Action::Done(Choice::Demo));
        assert_eq!(app.key(press('q')), Action::Done(Choice::Quit));
    }

    #[test]
    fn a_recheck_that_reaches_the_cluster_goes_on_to_the_app() {
        let mut app = DoctorApp::new(exam(Some("connection refused")));
        app.key(press('r'));
        assert_eq!(app.examined(exam(None)), Some(Choice::Connected));
    }
}
