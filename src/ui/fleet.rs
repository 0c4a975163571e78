//! The fleet view: one line per kubeconfig context — whether it can be used (else the
//! doctor's cause), nodes Ready, critical and warning counts, the worst item.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::fleet::{FleetStatus, FleetView};

use super::lists::{bottom_line, hint_spans, split};
use crate::app::layout::list_rows;
use crate::config::palette::Theme;
use crate::text::{fit, pad_name, width};

/// Draws the fleet view; returns the bottom row.
pub fn draw_fleet(
    frame: &mut Frame,
    view: &FleetView,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let (body, bottom) = split(frame.area());
    let rows = list_rows(frame.area().height);
    let (_, offset) = view.cursor.window(view.lines.len(), rows);
    let checking = view
        .lines
        .iter()
        .filter(|l| l.status == FleetStatus::Checking)
        .count();
    let title = if checking > 0 {
        format!(
            " Fleet ({} contexts, {checking} being examined) ",
            view.lines.len()
        )
    } else {
        format!(" Fleet ({} contexts) ", view.lines.len())
    };
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(title, theme.title.patch(theme.accent)));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let cols = usize::from(inner.width);
    let ctx_w = view
        .lines
        .iter()
        .map(|l| width(&l.context) + 3)
        .max()
        .unwrap_or(8)
        .clamp(9, 32);
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                " {}{:<8} {:>4} {:>4}  WORST / WHY",
                pad_name("CONTEXT", ctx_w),
                "NODES",
                "CRIT",
                "WARN"
            ),
            cols,
        )
        .into_owned(),
        theme.muted,
    )];
    for (i, l) in view.lines.iter().enumerate().skip(offset).take(rows) {
        let marker = if i == view.cursor.selected {
            "▶"
        } else {
            " "
        };
        let current = if l.context == view.current { "*" } else { " " };
        let name = pad_name(&format!("{current}{}", l.context), ctx_w);
        let (text, style) = match &l.status {
            FleetStatus::Checking => (
                format!("{marker}{name}{:<8} {:>4} {:>4}  examining…", "-", "-", "-"),
                theme.muted,
            ),
            FleetStatus::Unusable(why) => (
                format!(
                    "{marker}{name}{:<8} {:>4} {:>4}  cannot be used: {why}",
                    "-", "-", "-"
                ),
                theme.critical,
            ),
            FleetStatus::Health {
                nodes,
                critical,
                warning,
                worst,
            } => (
                format!(
                    "{marker}{name}{:<8} {critical:>4} {warning:>4}  {}",
                    format!("{}/{}", nodes.0, nodes.1),
                    worst.as_deref().unwrap_or("all ok")
                ),
                if *critical > 0 {
                    theme.critical
                } else if *warning > 0 {
                    theme.warning
                } else {
                    theme.ok
                },
            ),
        };
        let style = if i == view.cursor.selected {
            theme.selection
        } else {
            style
        };
        lines.push(Line::styled(fit(&text, cols).into_owned(), style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let hints = hint_spans(
        &[
            ("Enter", "switch to it"),
            ("r", "examine again"),
            ("j/k", "move"),
            ("Esc", "back"),
        ],
        theme,
    );
    bottom_line(frame, bottom, notice, hints, theme);
    bottom
}
