//! The playbook runner's content, laid out: the steps (kubectl commands, what came back) and
//! the evidence on one side, the diagnosis (cause, severity and confidence, the fix commands,
//! why not the others) on the other; stacked, diagnosis first, on narrow terminals. The
//! diagnosis leads with the run's verdict: found, not present, or could not check (each
//! unanswered query and why).
//!
//! The rows of both columns are built and wrapped here, in the app layer, so the app state
//! can keep the selected fix command in view with exact row numbers ([`geometry`]) and
//! `ui::runner` only draws the visible rows of the same lines.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{RunState, RunnerView};
use crate::playbooks::FindingSeverity;
use crate::playbooks::engine::{Step, Verdict};

use crate::config::palette::Theme;
use crate::text::wrap;

/// From this many columns the two columns are side by side.
pub const SIDE_BY_SIDE_WIDTH: u16 = 100;

/// Where the parts of the runner go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunnerLayout {
    pub title: Rect,
    pub steps: Rect,
    pub diagnosis: Rect,
    /// The hint / notice / command line.
    pub bottom: Rect,
    pub stacked: bool,
}

/// Lays the runner out in `area`.
pub fn runner_layout(area: Rect) -> RunnerLayout {
    let [title, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if area.width >= SIDE_BY_SIDE_WIDTH {
        let [steps, diagnosis] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(body);
        RunnerLayout {
            title,
            steps,
            diagnosis,
            bottom,
            stacked: false,
        }
    } else {
        let [diagnosis, steps] =
            Layout::vertical([Constraint::Fill(2), Constraint::Fill(1)]).areas(body);
        RunnerLayout {
            title,
            steps,
            diagnosis,
            bottom,
            stacked: true,
        }
    }
}

/// Row counts the app needs to scroll: content rows and visible rows of each column, and
/// the first row of the selected fix command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunnerGeometry {
    pub steps_rows: usize,
    pub steps_visible: usize,
    pub diagnosis_rows: usize,
    pub diagnosis_visible: usize,
    pub selected_row: Option<usize>,
}

pub fn inner_size(r: Rect) -> (usize, usize) {
    (
        usize::from(r.width.saturating_sub(2)),
        usize::from(r.height.saturating_sub(2)),
    )
}

/// The geometry of `view` on a `width` x `height` screen.
pub fn geometry(view: &RunnerView, theme: &Theme, width: u16, height: u16) -> RunnerGeometry {
    let l = runner_layout(Rect::new(0, 0, width, height));
    let (sw, sh) = inner_size(l.steps);
    let (dw, dh) = inner_size(l.diagnosis);
    let (diag, selected_row) = diagnosis_lines(view, theme, dw);
    RunnerGeometry {
        steps_rows: steps_lines(view, theme, sw).len(),
        steps_visible: sh,
        diagnosis_rows: diag.len(),
        diagnosis_visible: dh,
        selected_row,
    }
}

fn header(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(text.to_string(), theme.title)
}

fn step_summary_style(step: &Step, theme: &Theme) -> Style {
    match step.outcome {
        crate::playbooks::Outcome::Failed { .. } => theme.warning,
        _ => theme.muted,
    }
}

/// The steps column: each query's kubectl command and what came back, then the evidence.
pub fn steps_lines(view: &RunnerView, theme: &Theme, cols: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match &view.state {
        RunState::Done(run) => {
            if run.steps.is_empty() {
                out.push(Line::styled("No queries ran.", theme.muted));
            }
            for (i, step) in run.steps.iter().enumerate() {
                let n = format!("{}. ", i + 1);
                out.extend(wrap(
                    &[
                        Span::styled(n.clone(), theme.muted),
                        Span::styled(step.query.kubectl.clone(), theme.accent),
                    ],
                    cols,
                    n.len(),
                ));
                out.extend(wrap(
                    &[
                        Span::raw(" ".repeat(n.len())),
                        Span::styled(format!("{} → ", step.query.request()), theme.muted),
                        Span::styled(step.summary(), step_summary_style(step, theme)),
                    ],
                    cols,
                    n.len() + 2,
                ));
            }
            out.push(Line::raw(""));
            out.push(header("Evidence", theme));
            match &run.finding {
                Some(f) if !f.evidence.is_empty() => {
                    for e in &f.evidence {
                        out.extend(wrap(
                            &[
                                Span::styled("• ", theme.muted),
                                Span::styled(e.object.clone(), theme.text),
                                Span::styled(format!("  {}", e.field), theme.muted),
                            ],
                            cols,
                            2,
                        ));
                        out.extend(wrap(
                            &[
                                Span::styled("  = ", theme.muted),
                                Span::styled(e.value.clone(), theme.text),
                            ],
                            cols,
                            4,
                        ));
                    }
                }
                Some(_) => out.push(Line::styled("  (none recorded)", theme.muted)),
                None => out.push(Line::styled(
                    match run.verdict() {
                        Verdict::CouldNotCheck { .. } => "  none: the queries went unanswered",
                        _ => "  none: the cause is not present",
                    },
                    theme.muted,
                )),
            }
        }
        RunState::Running | RunState::Failed(_) => {
            let (marker, note) = match view.state {
                RunState::Running => ("…", "running"),
                _ => ("-", "not run"),
            };
            for (i, q) in view.planned.iter().enumerate() {
                let n = format!("{}. ", i + 1);
                out.extend(wrap(
                    &[
                        Span::styled(n.clone(), theme.muted),
                        Span::styled(q.kubectl.clone(), theme.accent),
                    ],
                    cols,
                    n.len(),
                ));
                out.extend(wrap(
                    &[
                        Span::raw(" ".repeat(n.len())),
                        Span::styled(format!("{} {marker} {note}", q.request()), theme.muted),
                    ],
                    cols,
                    n.len() + 2,
                ));
            }
            if view.planned.is_empty() {
                out.push(Line::styled("No queries planned yet.", theme.muted));
            }
        }
    }
    out
}

pub fn severity_name(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Info => "info",
        FindingSeverity::Warning => "warning",
        FindingSeverity::Critical => "critical",
    }
}

/// The diagnosis column, and the first row of the selected fix command.
pub fn diagnosis_lines(
    view: &RunnerView,
    theme: &Theme,
    cols: usize,
) -> (Vec<Line<'static>>, Option<usize>) {
    let mut out = Vec::new();
    let mut selected_row = None;
    match &view.state {
        RunState::Running => {
            out.push(Line::styled(
                format!("Running… {} queries", view.planned.len()),
                theme.muted,
            ));
        }
        RunState::Failed(msg) => {
            out.extend(wrap(
                &[Span::styled(
                    "[FAIL] This playbook cannot run: ".to_string(),
                    theme.warning,
                )],
                cols,
                0,
            ));
            out.extend(wrap(&[Span::styled(msg.clone(), theme.text)], cols, 0));
        }
        RunState::Done(run) => match &run.finding {
            Some(f) => {
                let sev = theme.finding(f.severity);
                out.extend(wrap(
                    &[
                        Span::styled(Theme::finding_marker(f.severity), sev),
                        Span::styled(format!(" {}", severity_name(f.severity)), sev),
                        Span::styled(
                            format!(
                                " · confidence {:.0}%",
                                (f.confidence.clamp(0.0, 1.0) * 100.0)
                            ),
                            theme.text,
                        ),
                    ],
                    cols,
                    0,
                ));
                out.push(Line::raw(""));
                out.push(header("Cause", theme));
                out.extend(wrap(
                    &[Span::styled(f.summary.clone(), theme.text)],
                    cols,
                    0,
                ));
                out.push(Line::raw(""));
                out.push(header("Fix", theme));
                out.extend(wrap(
                    &[Span::styled(f.fix.explanation.clone(), theme.text)],
                    cols,
                    0,
                ));
                for (i, cmd) in f.fix.commands.iter().enumerate() {
                    let selected = i == view.selected_command;
                    if selected {
                        selected_row = Some(out.len());
                    }
                    let rows = wrap(
                        &[
                            Span::styled(if selected { "▶ " } else { "  " }, theme.accent),
                            Span::styled(cmd.clone(), theme.accent),
                        ],
                        cols,
                        2,
                    );
                    if selected {
                        out.extend(rows.into_iter().map(|l| l.patch_style(theme.selection)));
                    } else {
                        out.extend(rows);
                    }
                }
                out.push(Line::raw(""));
                out.push(header("Why not the others", theme));
                if f.ruled_out.is_empty() {
                    out.push(Line::styled("  no other candidate causes", theme.muted));
                }
                for r in &f.ruled_out {
                    out.extend(wrap(
                        &[
                            Span::styled("• ", theme.muted),
                            Span::styled(r.clone(), theme.text),
                        ],
                        cols,
                        2,
                    ));
                }
            }
            None => {
                match run.verdict() {
                    Verdict::CouldNotCheck { failed } => {
                        for f in failed {
                            out.extend(wrap(
                                &[
                                    Span::styled(
                                        Theme::marker(crate::health::Severity::Unknown),
                                        theme.warning,
                                    ),
                                    Span::styled(" Could not check: ", theme.warning),
                                    Span::styled(f.query, theme.accent),
                                    Span::styled(format!(" — {}", f.error), theme.text),
                                ],
                                cols,
                                2,
                            ));
                        }
                        out.extend(wrap(
                            &[Span::styled(
                                "The cause may be present: absence proves nothing when the \
                                 queries went unanswered.",
                                theme.muted,
                            )],
                            cols,
                            0,
                        ));
                    }
                    _ => out.extend(wrap(
                        &[
                            Span::styled(Theme::marker(crate::health::Severity::Ok), theme.ok),
                            Span::styled(" Cause not present on this cluster", theme.ok),
                        ],
                        cols,
                        0,
                    )),
                }
                out.push(Line::raw(""));
                out.push(header("What was checked", theme));
                if run.steps.is_empty() {
                    out.push(Line::styled("  nothing: no queries ran", theme.muted));
                }
                for step in &run.steps {
                    out.extend(wrap(
                        &[
                            Span::styled("• ", theme.muted),
                            Span::styled(step.query.kubectl.clone(), theme.accent),
                            Span::styled(format!(" → {}", step.summary()), theme.muted),
                        ],
                        cols,
                        2,
                    ));
                }
            }
        },
    }
    (out, selected_row)
}
