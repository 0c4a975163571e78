//! The doctor screen: why the cluster cannot be used, with the cause and the fix side by
//! side, the evidence under the cause, the timed probes below, and the keys (`r` retry,
//! `d` demo, `q` quit; `?` lists them all, `y` copies the fix) and the countdown to the next
//! automatic retry. Fits 80x24; every line is clipped, never wrapped past its pane.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::doctor::DoctorApp;
use crate::config::palette::Theme;

/// Draws the screen.
pub fn draw(frame: &mut Frame, app: &DoctorApp) {
    draw_screen(frame, app, None);
}

/// Draws the screen as one of the app's, with the app's notice (copied, why not…) in the
/// footer; returns the footer's area (where the `:` line goes).
pub fn draw_screen(frame: &mut Frame, app: &DoctorApp, notice: Option<&str>) -> Rect {
    render(frame.area(), frame.buffer_mut(), app, notice)
}

/// Renders into a buffer of the given size (for tests).
pub fn render_to_buffer(app: &DoctorApp, width: u16, height: u16) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    render(area, &mut buf, app, None);
    buf
}

fn render(area: Rect, buf: &mut Buffer, app: &DoctorApp, notice: Option<&str>) -> Rect {
    use ratatui::widgets::Widget;
    let theme = Theme::default();
    let obs = &app.exam.observation;
    let steps_height = (obs.steps.len() as u16 + 2).clamp(3, 8);
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Length(2),
            Constraint::Min(6),
            Constraint::Length(steps_height),
            Constraint::Length(1),
        ])
        .split(area);

    let context = obs.context.as_deref().unwrap_or("current context");
    Paragraph::new(Line::from(vec![
        Span::styled(" ktriage doctor ", theme.critical),
        Span::styled(
            format!("cannot use {context} ({})", obs.server),
            theme.title,
        ),
    ]))
    .render(rows[0], buf);

    let error = obs
        .error
        .clone()
        .or_else(|| obs.denied.first().map(|d| d.message.clone()))
        .unwrap_or_else(|| "no error recorded".into());
    Paragraph::new(Line::from(vec![
        Span::styled(" client error: ", theme.muted),
        Span::styled(error, theme.text),
    ]))
    .wrap(Wrap { trim: true })
    .render(rows[1], buf);

    let cols = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(50), Constraint::Percentage(50)])
        .split(rows[2]);
    let run = app.exam.runs.get(app.selected);
    let (cause_title, cause, fix) = match run.and_then(|r| r.finding.as_ref().map(|f| (r, f))) {
        Some((r, f)) => {
            let title = format!(
                " Cause: {} {}{} ",
                r.playbook.code,
                r.playbook.id,
                if app.exam.runs.len() > 1 {
                    format!(" ({}/{})", app.selected + 1, app.exam.runs.len())
                } else {
                    String::new()
                }
            );
            let mut cause = vec![Line::styled(f.summary.clone(), theme.text), Line::raw("")];
            for e in &f.evidence {
                cause.push(Line::from(vec![
                    Span::styled(format!("{} {}: ", e.object, e.field), theme.muted),
                    Span::raw(e.value.clone()),
                ]));
            }
            let mut fix = vec![
                Line::styled(f.fix.explanation.clone(), theme.text),
                Line::raw(""),
            ];
            for c in &f.fix.commands {
                fix.push(Line::styled(format!("$ {c}"), theme.accent));
            }
            (title, cause, fix)
        }
        None => (
            " Cause ".to_string(),
            vec![Line::raw(
                "No playbook explains this failure yet; the checks below show how far the connection got.",
            )],
            vec![Line::raw(
                "Compare with `kubectl cluster-info -v=6`, check the kubeconfig's server, and retry.",
            )],
        ),
    };
    Paragraph::new(cause)
        .wrap(Wrap { trim: false })
        .scroll((app.scroll, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.critical)
                .title(cause_title),
        )
        .render(cols[0], buf);
    Paragraph::new(fix)
        .wrap(Wrap { trim: false })
        .scroll((app.scroll, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.ok)
                .title(" Fix "),
        )
        .render(cols[1], buf);

    let steps: Vec<Line> = obs
        .steps
        .iter()
        .map(|s| {
            Line::from(vec![
                Span::styled(
                    if s.ok { " ok   " } else { " FAIL " },
                    if s.ok { theme.ok } else { theme.critical },
                ),
                Span::styled(format!("{:<14} {:>5} ms  ", s.step, s.millis), theme.muted),
                Span::raw(s.detail.clone()),
            ])
        })
        .collect();
    Paragraph::new(steps)
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Checks (run {} at {}) ",
            app.attempts, app.exam.at
        )))
        .render(rows[3], buf);

    let footer = if let Some(notice) = notice {
        Line::styled(format!(" {notice}"), theme.warning)
    } else if app.checking {
        Line::styled(" checking again…", theme.warning)
    } else {
        let mut spans = vec![
            Span::styled(" r", theme.accent),
            Span::raw(" retry  "),
            Span::styled("d", theme.accent),
            Span::raw(" demo instead  "),
            Span::styled("↑↓", theme.accent),
            Span::raw(" finding  "),
            Span::styled("PgDn/PgUp", theme.accent),
            Span::raw(" scroll  "),
            Span::styled("q", theme.accent),
            Span::raw(" quit"),
        ];
        if app.retry_every.is_some() {
            spans.push(Span::styled(
                format!("  next retry in {}s", app.next_retry),
                theme.muted,
            ));
        }
        Line::from(spans)
    };
    Paragraph::new(footer).render(rows[4], buf);
    rows[4]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::doctor::Examination;
    use crate::cluster::doctor::{Observation, Probe};

    #[tokio::test]
    async fn cause_fix_and_checks_fit_80x24() {
        let obs = Observation {
            context: Some("prod".into()),
            server: "https://127.0.0.1:6443".into(),
            error: Some("dial tcp 127.0.0.1:6443: connect: connection refused".into()),
            steps: vec![Probe {
                step: "tcp".into(),
                ok: false,
                millis: 0,
                detail: "127.0.0.1:6443: connection refused".into(),
            }],
            ..Default::default()
        };
        let runs = crate::playbooks::connection::diagnose(&obs, chrono::Utc::now()).await;
        let app = DoctorApp::new(Examination {
            observation: obs,
            runs,
            at: "12:00:00 UTC".into(),
        });
        let buf = render_to_buffer(&app, 80, 24);
        let text = crate::ui::buffer_lines(&buf).join("\n");
        for needle in [
            "cannot use prod",
            "Cause: CONN-02 apiserver-unreachable",
            "Fix",
            "Nothing listens on 127.0.0.1:6443",
            "Checks (run 1",
            "FAIL tcp",
            "r retry",
        ] {
            assert!(text.contains(needle), "{needle:?} missing:\n{text}");
        }
    }
}
