//! Things drawn over or instead of the Overview: the detail popup of an item, the help
//! popup, and the "terminal too small" message.

use crate::config::keymap::{Key, Keymap, View};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::app::Detail;
use crate::findings::Findings;
use crate::health::{HealthItem, Severity};

use crate::app::layout::{MIN_HEIGHT, MIN_WIDTH};
use crate::config::palette::Theme;
use crate::text::{clean, fit, pad, width};

/// Width of the label column in the detail popup: the widest label, within these bounds.
const LABEL_MIN: usize = 10;
const LABEL_MAX: usize = 20;

/// Draws the too-small message centred on the whole screen.
pub fn draw_too_small(frame: &mut Frame, theme: &Theme) {
    let area = frame.area();
    let lines = vec![
        Line::styled(
            format!("Terminal too small: {}x{}.", area.width, area.height),
            theme.warning,
        ),
        Line::raw(format!(
            "ktriage needs at least {MIN_WIDTH}x{MIN_HEIGHT} (80x24 recommended)."
        )),
        Line::raw("Resize or press q to quit."),
    ];
    let height = wrapped_height(&lines, area.width).min(area.height);
    let target = area.centered_vertically(Constraint::Length(height));
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        target,
    );
}

/// Rows `lines` take when wrapped at `cols` columns (an estimate that never undercounts
/// by more than word-wrap slack; the popup scrolls anyway).
fn wrapped_height(lines: &[Line], cols: u16) -> u16 {
    let cols = usize::from(cols.max(1));
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(cols).max(1)).sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

/// A centred rectangle of at most `width` x `height` inside `area`, with a margin of one
/// column on each side.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height);
    area.centered(Constraint::Length(w), Constraint::Length(h))
}

fn label_line<'a>(label: &str, label_w: usize, value: Vec<Span<'a>>, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(pad(label, label_w - 1) + " ", theme.muted)];
    spans.extend(value);
    Line::from(spans)
}

/// The detail text of an item: object, severity, reason, details, playbooks.
fn detail_lines<'a>(
    item: &'a HealthItem,
    gone: bool,
    findings: &'a Findings,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let label_w = item
        .details
        .iter()
        .map(|(label, _)| width(label) + 1)
        .max()
        .unwrap_or(0)
        .clamp(LABEL_MIN, LABEL_MAX);
    let mut lines = Vec::new();
    if gone {
        lines.push(Line::styled(
            "No longer in the report: this is its last known state.",
            theme.warning,
        ));
    }
    match findings.explaining(item) {
        Some((run, f)) => lines.push(label_line(
            "Because",
            label_w,
            vec![
                Span::styled(format!("{} ", run.playbook.code), theme.finding(f.severity)),
                Span::styled(clean(&f.summary), theme.text),
                Span::styled(format!(" → {}", run.playbook.id), theme.accent),
            ],
            theme,
        )),
        None if findings.evaluated_at.is_some() && item.severity != Severity::Ok => {
            lines.push(label_line(
                "Because",
                label_w,
                vec![Span::styled(
                    "no finding explains it: Enter lists the candidate playbooks and their verdicts",
                    theme.muted,
                )],
                theme,
            ))
        }
        None => {}
    }
    lines.push(label_line(
        "Object",
        label_w,
        vec![Span::styled(
            clean(item.object.as_deref().unwrap_or("-")),
            theme.text,
        )],
        theme,
    ));
    lines.push(label_line(
        "Severity",
        label_w,
        vec![
            Span::styled(Theme::marker(item.severity), theme.severity(item.severity)),
            Span::raw(" "),
            Span::styled(item.severity.label(), theme.severity(item.severity)),
        ],
        theme,
    ));
    lines.push(label_line(
        "Reason",
        label_w,
        vec![Span::styled(clean(&item.reason), theme.text)],
        theme,
    ));
    for (label, value) in &item.details {
        lines.push(label_line(
            label,
            label_w,
            vec![Span::styled(clean(value), theme.text)],
            theme,
        ));
    }
    if item.playbooks.is_empty() {
        lines.push(label_line(
            "Playbooks",
            label_w,
            vec![Span::styled("none", theme.muted)],
            theme,
        ));
    }
    for (i, id) in item.playbooks.iter().enumerate() {
        lines.push(label_line(
            if i == 0 { "Playbooks" } else { "" },
            label_w,
            vec![Span::styled(format!("→ {}", clean(id)), theme.accent)],
            theme,
        ));
    }
    lines
}

/// Draws the detail popup of `detail` over the screen.
pub fn draw_detail(frame: &mut Frame, detail: &Detail, findings: &Findings, theme: &Theme) {
    let area = frame.area();
    let lines = detail_lines(&detail.item, detail.gone, findings, theme);
    let enter = if findings.explaining(&detail.item).is_some() {
        " its finding  "
    } else {
        " playbook  "
    };
    let max_w = area.width.saturating_sub(4).min(100);
    let content_h = wrapped_height(&lines, max_w.saturating_sub(2));
    let popup = centered(area, max_w, content_h.saturating_add(2));
    let title_w = usize::from(popup.width).saturating_sub(6);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" {} ", fit(&detail.item.title, title_w)),
            theme.title,
        ))
        .title_bottom(
            Line::from(vec![
                Span::styled(" Enter", theme.accent),
                Span::styled(enter, theme.muted),
                Span::styled("Esc", theme.accent),
                Span::styled(" close  ", theme.muted),
                Span::styled("j/k", theme.accent),
                Span::styled(" scroll ", theme.muted),
            ])
            .alignment(Alignment::Right),
        );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((detail.scroll, 0)),
        popup,
    );
}

/// How a key reads in the help: arrows and page keys short, the rest as keymap files
/// write them (`h`, `<S-Tab>`, `<C-c>`).
fn help_key(key: &Key) -> String {
    use crossterm::event::{KeyCode, KeyModifiers};
    if key.modifiers == KeyModifiers::NONE {
        let short = match key.code {
            KeyCode::Up => "↑",
            KeyCode::Down => "↓",
            KeyCode::Left => "←",
            KeyCode::Right => "→",
            KeyCode::PageUp => "PgUp",
            KeyCode::PageDown => "PgDn",
            _ => "",
        };
        if !short.is_empty() {
            return short.to_string();
        }
    }
    key.to_string()
}

/// What a view's rows are prefixed with when the help is opened on another screen.
fn help_label(view: View) -> &'static str {
    match view {
        View::Global | View::Overview => "",
        View::Detail => "in a detail: ",
        View::Runner => "in the runner: ",
        View::List => "in lists: ",
        View::Doctor => "doctor: ",
    }
}

/// The help of `view`, generated from the active keymap: (keys, what) rows, the view's own
/// bindings first, then the global ones it does not shadow, then (labelled) what the other
/// screens add. Bindings next to each other with the same description share a row
/// (`j, ↓ / k, ↑`); a row already shown is not repeated. A key rebound by the user shows
/// where it now acts, with its new description.
pub fn help_rows(keymap: &Keymap, view: View) -> Vec<(String, String)> {
    let mut sections = vec![(view, ""), (View::Global, "")];
    if view != View::Doctor {
        for other in [View::Overview, View::Detail, View::Runner, View::List] {
            if other != view {
                sections.push((other, help_label(other)));
            }
        }
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for (v, label) in sections {
        // Global keys act where the help was opened.
        let acting = if v == View::Global { view } else { v };
        let mut merged: Vec<(Vec<String>, &str)> = Vec::new();
        for b in keymap.bindings(v) {
            let effective = keymap.keys_for(acting, b.action);
            let keys: Vec<String> = b
                .keys
                .iter()
                .filter(|k| effective.contains(k))
                .map(help_key)
                .collect();
            if keys.is_empty() {
                continue;
            }
            let keys = keys.join(", ");
            match merged.last_mut() {
                Some((k, d)) if *d == b.desc => k.push(keys),
                _ => merged.push((vec![keys], &b.desc)),
            }
        }
        for (keys, desc) in merged {
            let row = (keys.join(" / "), desc.to_string());
            if seen.contains(&row) {
                continue;
            }
            rows.push((row.0.clone(), format!("{label}{desc}")));
            seen.push(row);
        }
    }
    rows
}

/// Draws the help popup over the screen: the keys of `view` (the screen it was opened on)
/// from the active keymap.
pub fn draw_help(frame: &mut Frame, theme: &Theme, keymap: &Keymap, view: View) {
    let rows = help_rows(keymap, view);
    let key_w = rows.iter().map(|(k, _)| width(k)).max().unwrap_or(0) + 2;
    let row_w = rows
        .iter()
        .map(|(_, what)| 1 + key_w + width(what))
        .max()
        .unwrap_or(0)
        + 1;
    let area = frame.area();
    // Too many keys for the height: two columns side by side when the width allows.
    let fits = rows.len() + 2 <= usize::from(area.height);
    let two = !fits && 2 * row_w + 2 <= usize::from(area.width);
    let per_column = if two {
        rows.len().div_ceil(2)
    } else {
        rows.len()
    };
    let line = |(k, what): &(String, String)| -> Vec<Span> {
        let mut spans = vec![
            Span::styled(format!(" {k:<key_w$}"), theme.accent),
            Span::styled(what.clone(), theme.text),
        ];
        let used = 1 + key_w + width(what);
        spans.push(Span::raw(" ".repeat(row_w.saturating_sub(used))));
        spans
    };
    let lines: Vec<Line> = (0..per_column)
        .map(|i| {
            let mut spans = line(&rows[i]);
            if two && let Some(right) = rows.get(i + per_column) {
                spans.extend(line(right));
            }
            Line::from(spans)
        })
        .collect();
    let width_needed = if two { 2 * row_w } else { row_w } + 2;
    let popup = centered(
        area,
        u16::try_from(width_needed).unwrap_or(u16::MAX),
        u16::try_from(lines.len() + 2).unwrap_or(u16::MAX),
    );
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(" Help ", theme.title))
        .title_bottom(Line::styled(" Esc close ", theme.muted).alignment(Alignment::Right));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
