//! The scored summary of one exercise (time, hints, commands, answer, fixed or not) as the
//! TUI shows it at the end and as Markdown for a trainer (`--report FILE`).
//!
//! Score, out of 100:
//! - 60 for the right cause;
//! - 20 for the fix: a cluster fix counts once the playbook's verdict on the training
//!   server turned to "not present"; a host-side fix (firewall, sysctl, kubelet flags,
//!   kubeconfig) cannot be checked and counts with the right cause;
//! - up to 20 for time, with the right cause: all of it within 5 minutes, nothing from 30,
//!   linear in between;
//! - minus 10 for each hint taken.
//!
//! Clamped to 0..=100. Commands run are reported, not scored: looking around is the point.

use std::time::Duration;

use super::curriculum::FixAt;

/// Whether the fix took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    /// The playbook's verdict on the training server turned to "not present".
    Yes,
    /// Not (yet) seen fixed.
    No,
    /// Made on a host or the client: ends at the answer and the fix commands.
    HostSide,
}

impl Fixed {
    pub fn label(self) -> &'static str {
        match self {
            Fixed::Yes => "yes (the cause is no longer present)",
            Fixed::No => "no (the cause is still present)",
            Fixed::HostSide => "host-side fix: ends at the answer and the fix commands",
        }
    }
}

/// What the trainee answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The cause as the trainee named it (a playbook's title, or the text typed).
    pub said: String,
    pub correct: bool,
}

/// The summary of one exercise.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub exercise: String,
    pub track: &'static str,
    pub level: u8,
    pub briefing: &'static str,
    pub elapsed: Duration,
    pub hints_used: usize,
    pub hints_total: usize,
    pub commands: Vec<String>,
    /// `None`: the trainee left without answering.
    pub answer: Option<Answer>,
    /// The cause: `CODE title`.
    pub cause: String,
    pub fix_at: FixAt,
    pub fixed: Fixed,
    pub fix_commands: Vec<String>,
    pub looked_at: Vec<String>,
    pub missed: Vec<String>,
}

impl Summary {
    pub fn correct(&self) -> bool {
        self.answer.as_ref().is_some_and(|a| a.correct)
    }

    /// The score (see the module documentation for the formula).
    pub fn score(&self) -> u32 {
        let right = self.correct();
        let mut s: i64 = 0;
        if right {
            s += 60;
        }
        match self.fixed {
            Fixed::Yes => s += 20,
            Fixed::HostSide if right => s += 20,
            _ => {}
        }
        if right {
            let mins = self.elapsed.as_secs_f64() / 60.0;
            let speed = ((30.0 - mins) / 25.0).clamp(0.0, 1.0);
            s += (20.0 * speed).round() as i64;
        }
        s -= 10 * self.hints_used as i64;
        s.clamp(0, 100) as u32
    }

    /// Solved: the right cause, and a cluster fix that took effect when one is possible
    /// (until the training server accepts writes, the right cause is enough).
    pub fn solved(&self) -> bool {
        self.correct()
    }

    /// `12m 05s`.
    pub fn elapsed_text(&self) -> String {
        elapsed_text(self.elapsed)
    }

    /// The answer line: `right: …`, `wrong: …` or `no answer`.
    pub fn answer_text(&self) -> String {
        match &self.answer {
            Some(a) if a.correct => format!("right ({})", a.said),
            Some(a) => format!("wrong ({})", a.said),
            None => "no answer given".to_string(),
        }
    }

    /// The report as Markdown, for a trainer to collect.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# Training report: exercise {}\n\n{} · level {}\n\n> {}\n\n",
            self.exercise, self.track, self.level, self.briefing
        );
        md.push_str("| | |\n|---|---|\n");
        md.push_str(&format!("| Score | **{} / 100** |\n", self.score()));
        md.push_str(&format!("| Time | {} |\n", self.elapsed_text()));
        md.push_str(&format!(
            "| Hints used | {} of {} |\n",
            self.hints_used, self.hints_total
        ));
        md.push_str(&format!("| Commands run | {} |\n", self.commands.len()));
        md.push_str(&format!("| Answer | {} |\n", self.answer_text()));
        md.push_str(&format!("| Cause | {} |\n", self.cause));
        md.push_str(&format!("| Fixed | {} |\n\n", self.fixed.label()));
        let list = |md: &mut String, title: &str, items: &[String], empty: &str| {
            md.push_str(&format!("## {title}\n\n"));
            if items.is_empty() {
                md.push_str(&format!("{empty}\n\n"));
            } else {
                for i in items {
                    md.push_str(&format!("- `{i}`\n"));
                }
                md.push('\n');
            }
        };
        list(&mut md, "Commands run", &self.commands, "None.");
        list(&mut md, "What you looked at", &self.looked_at, "Nothing.");
        list(
            &mut md,
            "What you missed",
            &self.missed,
            "Nothing: you asked for everything the playbook reads.",
        );
        list(&mut md, "The fix", &self.fix_commands, "No commands.");
        md.push_str(
            "Score: 60 for the right cause, 20 for the fix (a cluster fix once it took effect; \
             a host-side fix with the right cause), up to 20 for time with the right cause \
             (all within 5 minutes, none from 30), minus 10 per hint.\n",
        );
        md
    }
}

/// `12m 05s` (`1h 02m` from an hour).
pub fn elapsed_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            exercise: "net-4".into(),
            track: "Nodes and networking",
            level: 1,
            briefing: "b",
            elapsed: Duration::from_secs(4 * 60),
            hints_used: 0,
            hints_total: 3,
            commands: vec!["kubectl get pods -n shop".into()],
            answer: Some(Answer {
                said: "x".into(),
                correct: true,
            }),
            cause: "NET-08 Service has no ready endpoints".into(),
            fix_at: FixAt::Cluster,
            fixed: Fixed::No,
            fix_commands: vec![],
            looked_at: vec![],
            missed: vec![],
        }
    }

    #[test]
    fn score_follows_the_documented_formula() {
        let mut s = summary();
        assert_eq!(s.score(), 80, "right and fast, not fixed");
        s.fixed = Fixed::Yes;
        assert_eq!(s.score(), 100);
        s.hints_used = 2;
        assert_eq!(s.score(), 80);
        s.elapsed = Duration::from_secs(17 * 60 + 30);
        assert_eq!(s.score(), 70, "half the time bonus at 17.5 minutes");
        s.elapsed = Duration::from_secs(45 * 60);
        assert_eq!(s.score(), 60);
        s.answer.as_mut().unwrap().correct = false;
        assert_eq!(s.score(), 0, "a fix without the cause, minus hints");
        s.hints_used = 0;
        assert_eq!(s.score(), 20);
        s.answer = None;
        s.fixed = Fixed::HostSide;
        assert_eq!(
            s.score(),
            0,
            "a host-side fix counts only with the right cause"
        );
    }

    #[test]
    fn markdown_has_every_figure() {
        let md = summary().markdown();
        for want in [
            "exercise net-4",
            "**80 / 100**",
            "4m 00s",
            "0 of 3",
            "| Commands run | 1 |",
            "right (x)",
            "`kubectl get pods -n shop`",
            "NET-08",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
    }
}
