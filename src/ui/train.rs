//! The training panel of `ktriage train`, drawn above the Overview: the briefing, the
//! elapsed time, the hints revealed so far, the kubectl commands the trainee ran and, after
//! the answer, the reveal (right or wrong, the cause, what was looked at and missed, the fix
//! check, the score). Also the answer box (plausible causes, or typed text) and the report
//! shown at the end.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::app::train::{Training, panel_height};
use crate::config::palette::Theme;
use crate::train::summary::{Fixed, elapsed_text};

/// Splits the Overview's area into the panel and the rest.
pub fn split(area: Rect) -> (Rect, Rect) {
    let [panel, rest] = Layout::vertical([
        Constraint::Length(panel_height(area.height)),
        Constraint::Fill(1),
    ])
    .areas(area);
    (panel, rest)
}

/// The panel: briefing and hints (or the reveal) on the left, commands on the right.
pub fn draw_panel(frame: &mut Frame, area: Rect, t: &Training, theme: &Theme) {
    let now = Instant::now();
    let e = &t.exercise;
    let title = format!(
        " Exercise {} · {} · level {} ",
        e.id,
        e.track.title(),
        e.level
    );
    let clock = format!(" {} ", elapsed_text(t.elapsed(now)));
    let block = Block::bordered()
        .border_style(theme.accent)
        .title(Line::styled(title, theme.title.patch(theme.accent)))
        .title(Line::styled(clock, theme.title).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(58), Constraint::Fill(1)]).areas(inner);

    let mut lines: Vec<Line> = Vec::new();
    match &t.answer {
        None => {
            lines.push(Line::from(vec![
                Span::styled("Briefing: ", theme.muted),
                Span::styled(e.briefing, theme.text),
            ]));
            lines.push(Line::styled(
                format!(
                    "Hints {}/{} · H next hint · A answer · q end",
                    t.hints_shown,
                    e.hints.len()
                ),
                theme.muted,
            ));
            for (i, h) in t.hints().iter().enumerate() {
                lines.push(Line::styled(format!("{}. {h}", i + 1), theme.warning));
            }
        }
        Some(a) => {
            let s = t.summary(now);
            let (verdict, style) = if a.correct {
                ("Right", theme.ok)
            } else {
                ("Wrong", theme.critical)
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{verdict}: "), style),
                Span::styled(a.said.clone(), theme.text),
            ]));
            lines.push(Line::from(vec![
                Span::styled("Cause: ", theme.muted),
                Span::styled(s.cause.clone(), theme.accent),
            ]));
            let fixed = match t.fixed {
                Fixed::No => "not yet: fix it with kubectl, checked every 10 s".to_string(),
                other => other.label().to_string(),
            };
            lines.push(Line::from(vec![
                Span::styled("Fixed: ", theme.muted),
                Span::styled(fixed, theme.text),
            ]));
            lines.push(Line::from(vec![
                Span::styled("What you looked at: ", theme.muted),
                Span::styled(list_or(&s.looked_at, "nothing"), theme.text),
            ]));
            let missed = if t.has_run() {
                list_or(&s.missed, "nothing: you asked for all the playbook reads")
            } else {
                "(the playbook is running…)".to_string()
            };
            lines.push(Line::from(vec![
                Span::styled("What you missed: ", theme.muted),
                Span::styled(missed, theme.text),
            ]));
            lines.push(Line::styled(
                format!(
                    "Score {} / 100 · hints {} · q report",
                    s.score(),
                    s.hints_used
                ),
                theme.title,
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), left);

    let visible = usize::from(right.height.saturating_sub(2));
    let mut cmds: Vec<Line> = vec![
        Line::styled(format!("export KUBECONFIG={}", t.kubeconfig), theme.muted),
        Line::styled(
            format!("Your kubectl commands ({})", t.commands.len()),
            theme.title,
        ),
    ];
    if t.commands.is_empty() {
        cmds.push(Line::styled(
            "none yet: run kubectl in another window",
            theme.muted,
        ));
    }
    let skip = t.commands.len().saturating_sub(visible);
    for c in &t.commands[skip..] {
        cmds.push(Line::styled(format!("$ {c}"), theme.text));
    }
    frame.render_widget(
        Paragraph::new(cmds).block(Block::default().padding(ratatui::widgets::Padding::left(1))),
        right,
    );
}

/// The findings row while the answer is open: the findings would give it away.
pub fn draw_findings_hidden(frame: &mut Frame, area: Rect, theme: &Theme) {
    frame.render_widget(
        Paragraph::new(Line::styled(
            " findings and playbooks are hidden until you answer (A)",
            theme.muted,
        )),
        area,
    );
}

fn list_or(items: &[String], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

/// The answer box over the Overview.
pub fn draw_choices(frame: &mut Frame, t: &Training, theme: &Theme) {
    let Some(c) = &t.choosing else { return };
    let area = frame.area();
    let height = (t.choices.len() as u16 + 5).min(area.height);
    let width = 90.min(area.width.saturating_sub(2));
    let rect = area.centered(Constraint::Length(width), Constraint::Length(height));
    let mut lines: Vec<Line> = vec![Line::styled("What is the cause?", theme.title)];
    for (i, pb) in t.choices.iter().enumerate() {
        let style = if i == c.selected && c.typed.is_empty() {
            theme.selection
        } else {
            theme.text
        };
        lines.push(Line::styled(format!(" {}. {}", i + 1, pb.title), style));
    }
    lines.push(Line::from(vec![
        Span::styled("or type it: ", theme.muted),
        Span::styled(format!("{}▏", c.typed), theme.accent),
    ]));
    match &c.problem {
        Some(p) => lines.push(Line::styled(p.clone(), theme.warning)),
        None => lines.push(Line::styled(
            "1-9 or ↑↓ Enter: choose · type words or a code, Enter · Esc: back",
            theme.muted,
        )),
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.accent)
                .title(" Answer "),
        ),
        rect,
    );
}

/// The report at the end: the scored summary.
pub fn draw_report(frame: &mut Frame, t: &Training, theme: &Theme) {
    let s = t.summary(Instant::now());
    let area = frame.area();
    frame.render_widget(Clear, area);
    let row = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:<20}"), theme.muted),
            Span::styled(value, theme.text),
        ])
    };
    let mut lines = vec![
        Line::styled(
            format!(
                "Training report: exercise {} ({}, level {})",
                s.exercise, s.track, s.level
            ),
            theme.title.patch(theme.accent),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled(format!("{:<20}", "Score"), theme.muted),
            Span::styled(format!("{} / 100", s.score()), theme.title),
        ]),
        row("Time", s.elapsed_text()),
        row(
            "Hints used",
            format!("{} of {}", s.hints_used, s.hints_total),
        ),
        row("Commands run", s.commands.len().to_string()),
        row("Answer", s.answer_text()),
        row("Cause", s.cause.clone()),
        row("Fixed", s.fixed.label().to_string()),
        row("What you looked at", list_or(&s.looked_at, "nothing")),
        row("What you missed", list_or(&s.missed, "nothing")),
    ];
    if !s.fix_commands.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("The fix:", theme.muted));
        for c in &s.fix_commands {
            lines.push(Line::styled(format!("  {c}"), theme.accent));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Score: 60 right cause + 20 fix + up to 20 for time (5 to 30 min) - 10 per hint. q: leave · Esc: back",
        theme.muted,
    ));
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_style(theme.accent)
                .title(" Report "),
        ),
        area,
    );
}
