//! Draws the playbook runner: the title with the verdict, the two columns (steps and
//! evidence, diagnosis and fix) whose rows `app::runner_lines` builds, and the key hints.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::runner_lines::{
    diagnosis_lines, inner_size, runner_layout, severity_name, steps_lines,
};
use crate::app::{RunState, RunnerFocus, RunnerView};
use crate::config::palette::Theme;
use crate::playbooks::engine::Verdict;
use crate::text::fit;

/// The title bar text: `CODE id — title`, and where the run stands.
fn title_line(view: &RunnerView, theme: &Theme, cols: usize) -> Line<'static> {
    let pb = view.playbook;
    let state = match &view.state {
        RunState::Running => "running…".to_string(),
        RunState::Failed(_) => "not run".to_string(),
        RunState::Done(run) => match &run.finding {
            Some(f) => format!(
                "{} {}",
                Theme::finding_marker(f.severity),
                severity_name(f.severity)
            ),
            None => match run.verdict() {
                Verdict::CouldNotCheck { .. } => "could not check".to_string(),
                _ => "cause not present".to_string(),
            },
        },
    };
    let left = format!(" {} {} — {}", pb.code, pb.id, pb.title);
    let right = format!("  {state} ");
    let left_w = cols.saturating_sub(crate::text::width(&right));
    Line::from(vec![
        Span::styled(crate::text::pad(&left, left_w), theme.title),
        Span::styled(right, theme.muted),
    ])
}

/// The key hints of the runner.
fn hints(theme: &Theme) -> Line<'static> {
    let pairs = [
        ("Esc", "back"),
        ("Tab", "column"),
        ("j/k", "select fix"),
        ("y", "copy"),
        ("PgDn", "scroll"),
        ("r", "re-run"),
        (":", "command"),
        ("?", "help"),
    ];
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in pairs {
        spans.push(Span::styled(k, theme.accent));
        spans.push(Span::styled(format!(" {what}  "), theme.muted));
    }
    Line::from(spans)
}

fn column(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    scroll: u16,
    focused: bool,
    theme: &Theme,
) {
    let visible = usize::from(area.height.saturating_sub(2));
    let max_scroll = lines.len().saturating_sub(visible);
    let first = usize::from(scroll).min(max_scroll);
    let total = lines.len();
    let mut block = theme.pane_block(focused).title(Span::styled(
        format!(" {title} "),
        theme.pane_title(focused),
    ));
    if total > visible && visible > 0 {
        let last = (first + visible).min(total);
        block = block.title_bottom(
            Line::styled(format!(" {}-{}/{} ", first + 1, last, total), theme.muted)
                .alignment(ratatui::layout::Alignment::Right),
        );
    }
    let shown: Vec<Line> = lines.into_iter().skip(first).take(visible).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}

/// Draws the runner for `view` over the whole frame; returns the bottom row (for the hint,
/// a notice or the command line).
pub fn draw_runner(
    frame: &mut Frame,
    view: &RunnerView,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let l = runner_layout(frame.area());
    let title = title_line(view, theme, usize::from(l.title.width));
    frame.render_widget(Paragraph::new(title), l.title);
    let (sw, _) = inner_size(l.steps);
    let (dw, _) = inner_size(l.diagnosis);
    column(
        frame,
        l.steps,
        "Steps",
        steps_lines(view, theme, sw),
        view.steps_scroll,
        view.focus == RunnerFocus::Steps,
        theme,
    );
    let (diag, _) = diagnosis_lines(view, theme, dw);
    column(
        frame,
        l.diagnosis,
        "Diagnosis",
        diag,
        view.diagnosis_scroll,
        view.focus == RunnerFocus::Diagnosis,
        theme,
    );
    let bottom = match notice {
        Some(n) => Line::styled(
            format!(" {}", fit(n, usize::from(l.bottom.width).saturating_sub(1))),
            theme.warning,
        ),
        None => hints(theme),
    };
    frame.render_widget(Paragraph::new(bottom), l.bottom);
    l.bottom
}
