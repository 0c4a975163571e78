//! The findings header of the Overview: the playbooks' ranked findings above the four panes,
//! with when they were last evaluated. One line on a small screen (`2 findings: NET-05 cause
//! (critical) · CP-02 (warning)`), a bordered pane with a row per finding (severity, code,
//! cause, playbook id) on a large one. Only the visible findings are formatted.

use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::app::{App, Model};
use crate::findings::Findings;
use crate::health::Severity;
use crate::playbooks::FindingSeverity;

use crate::api::printer::short_duration;
use crate::app::layout::ScreenLayout;
use crate::config::palette::Theme;
use crate::text::{fit, pad, width};

/// The cause keeps at least this many columns in the one-line form.
const MIN_CAUSE: usize = 24;

fn severity_word(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Info => "info",
        FindingSeverity::Warning => "warning",
        FindingSeverity::Critical => "critical",
    }
}

/// `findings 12s ago`, `findings: evaluating…`, with the last run's problem if any.
pub fn cadence_text(findings: &Findings, now: Instant) -> String {
    let mut text = match findings.evaluated_at {
        None => "findings: evaluating…".to_string(),
        Some(at) => format!(
            "findings {} ago",
            short_duration(now.saturating_duration_since(at))
        ),
    };
    if findings.note.is_some() {
        text.push_str(" (last run timed out)");
    }
    text
}

/// Draws the findings header into its area of `screen`.
pub fn draw_findings(buf: &mut Buffer, app: &App, model: &Model, screen: &ScreenLayout) {
    let area = screen.findings;
    if area.is_empty() {
        return;
    }
    let cadence = cadence_text(&model.findings, Instant::now());
    if screen.findings_boxed {
        draw_pane(buf, area, app, model, &cadence);
    } else {
        draw_line(buf, area, app, model, &cadence);
    }
}

/// The one-line form: the count, the selected (first) finding with its cause, the codes of
/// the others, and the cadence at the right.
fn draw_line(buf: &mut Buffer, area: Rect, app: &App, model: &Model, cadence: &str) {
    let theme = app.theme();
    let findings = &model.findings;
    let cols = usize::from(area.width);
    let focused = app.findings_focused() && app.detail().is_none();
    let n = findings.len();
    let right = format!(" {cadence} ");
    // Muted text would vanish on the selection's background.
    let (text_style, muted) = if focused {
        (theme.text.patch(theme.title), theme.text)
    } else {
        (theme.text, theme.muted)
    };
    let left_cols = cols.saturating_sub(width(&right));
    let mut spans: Vec<Span> = Vec::new();
    if n == 0 {
        let unchecked: Vec<String> = findings
            .unchecked_queries()
            .map(|(r, q)| match q {
                Some(q) => format!("{} ({})", r.playbook.code, q.error),
                None => r.playbook.code.to_string(),
            })
            .collect();
        let text = if findings.evaluated_at.is_none() {
            " looking for root causes…".to_string()
        } else if !unchecked.is_empty() {
            format!(
                " no findings, but {} could not check: {}",
                unchecked.len(),
                unchecked.join(" · ")
            )
        } else {
            " no findings: no playbook found its cause".to_string()
        };
        spans.push(Span::styled(pad(&text, left_cols), muted));
    } else {
        let selected = app.findings_cursor().selected.min(n - 1);
        let mut order = findings
            .iter()
            .skip(selected)
            .chain(findings.iter().take(selected));
        let head = format!(
            "{}{n} finding{}: ",
            if focused { ">" } else { " " },
            if n == 1 { "" } else { "s" }
        );
        let mut used = width(&head);
        spans.push(Span::styled(head, theme.title));
        let first = order.next();
        // The others by code and severity, as many as fit beside at least a short cause.
        let mut tail: Vec<(String, FindingSeverity)> = order
            .map(|(run, f)| {
                (
                    format!(" · {} ({})", run.playbook.code, severity_word(f.severity)),
                    f.severity,
                )
            })
            .collect();
        if let Some((run, f)) = first {
            let code = format!("{} ", run.playbook.code);
            let sev = format!(" ({})", severity_word(f.severity));
            let fixed = used + width(&code) + width(&sev);
            let mut tail_w: usize = tail.iter().map(|(t, _)| width(t)).sum();
            let mut cut_tail = false;
            while !tail.is_empty() && fixed + MIN_CAUSE + tail_w > left_cols {
                if let Some((t, _)) = tail.pop() {
                    tail_w -= width(&t);
                }
                cut_tail = true;
            }
            let more = if cut_tail { 2 } else { 0 };
            let cause_cols = left_cols.saturating_sub(fixed + tail_w + more);
            let cause = fit(&f.summary, cause_cols).into_owned();
            let style = theme.finding(f.severity);
            used = fixed + width(&cause);
            spans.push(Span::styled(code, style));
            spans.push(Span::styled(cause, text_style));
            spans.push(Span::styled(sev, style));
            for (t, sev) in tail {
                used += width(&t);
                spans.push(Span::styled(t, theme.finding(sev)));
            }
            if cut_tail && used + 2 <= left_cols {
                spans.push(Span::styled(" …", text_style));
                used += 2;
            }
        }
        spans.push(Span::raw(" ".repeat(left_cols.saturating_sub(used))));
    }
    if width(&right) <= cols {
        spans.push(Span::styled(right, muted));
    }
    let line = Line::from(spans);
    buf.set_line(area.x, area.y, &line, area.width);
    if focused {
        buf.set_style(area, theme.selection);
    }
}

/// The bordered form: one row per finding, `>[CRIT] NET-05  cause…  → playbook-id`.
fn draw_pane(buf: &mut Buffer, area: Rect, app: &App, model: &Model, cadence: &str) {
    let theme = app.theme();
    let findings = &model.findings;
    let focused = app.findings_focused() && app.detail().is_none();
    let n = findings.len();
    let rows = usize::from(area.height.saturating_sub(2));
    let cursor = app.findings_cursor();
    let (selected, offset) = cursor.window(n, rows);
    let title_style = theme.pane_title(focused);
    let mut block = theme
        .pane_block(focused)
        .title(Line::from({
            let mut spans = vec![Span::styled(format!("Findings ({n})"), title_style)];
            if findings.could_not_check > 0 {
                spans.push(Span::styled(
                    format!(" · {} could not check", findings.could_not_check),
                    theme.warning,
                ));
            }
            spans.push(Span::raw(" "));
            spans
        }))
        .title(
            Line::from(Span::styled(format!(" {cadence} · 0 "), theme.muted))
                .alignment(Alignment::Right),
        );
    if n > rows && rows > 0 {
        block = block.title_bottom(
            Line::from(Span::styled(format!(" {}/{n} ", selected + 1), theme.muted))
                .alignment(Alignment::Right),
        );
    }
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let cols = usize::from(inner.width);
    for (i, (run, f)) in findings.iter().enumerate().skip(offset).take(rows) {
        let y = inner.y + (i - offset) as u16;
        let row = Rect::new(inner.x, y, inner.width, 1);
        let highlight = focused && i == selected;
        if highlight {
            buf.set_style(row, theme.selection);
        }
        let code = format!(" {:<7}", run.playbook.code);
        let id = format!("  → {}", run.playbook.id);
        let prefix = 1 + width(Theme::finding_marker(f.severity)) + width(&code);
        let cause_cols = cols.saturating_sub(prefix);
        let (cause, id) = if cause_cols >= width(&id) + 20 {
            (pad(&f.summary, cause_cols - width(&id)), id)
        } else {
            (fit(&f.summary, cause_cols).into_owned(), String::new())
        };
        let text_style = if highlight {
            theme.text.patch(theme.title)
        } else {
            theme.text
        };
        let line = Line::from(vec![
            Span::styled(if highlight { ">" } else { " " }, theme.accent),
            Span::styled(Theme::finding_marker(f.severity), theme.finding(f.severity)),
            Span::styled(code, text_style),
            Span::styled(cause, text_style),
            Span::styled(id, theme.accent),
        ]);
        buf.set_line(row.x, row.y, &line, row.width);
    }
    // Under the findings, the playbooks that could not check: their failed query and error.
    let shown = n.saturating_sub(offset).min(rows);
    for (i, (run, failed)) in findings
        .unchecked_queries()
        .take(rows.saturating_sub(shown))
        .enumerate()
    {
        let y = inner.y + (shown + i) as u16;
        let code = format!(" {:<7}", run.playbook.code);
        let id = format!("  → {}", run.playbook.id);
        let prefix = 1 + width(Theme::marker(Severity::Unknown)) + width(&code);
        let what = match failed {
            Some(f) => format!("could not check: {} — {}", f.query, f.error),
            None => "could not check".to_string(),
        };
        let cause_cols = cols.saturating_sub(prefix);
        let (what, id) = if cause_cols >= width(&id) + 20 {
            (pad(&what, cause_cols - width(&id)), id)
        } else {
            (fit(&what, cause_cols).into_owned(), String::new())
        };
        let line = Line::from(vec![
            Span::raw(" "),
            Span::styled(Theme::marker(Severity::Unknown), theme.unknown),
            Span::styled(code, theme.text),
            Span::styled(what, theme.muted),
            Span::styled(id, theme.accent),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
    }
}
