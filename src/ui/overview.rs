//! The Overview screen's panes: one bordered pane per health section, one row per item
//! (cursor, severity marker, title, reason, playbook id). Only the visible rows are built.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use std::sync::Arc;

use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::app::{App, Model, Pane};
use crate::health::{HealthItem, Severity};

use crate::app::layout::ScreenLayout;
use crate::config::palette::Theme;
use crate::text::{fit, pad, pad_name, width};

/// Columns before the title: cursor (1), marker (6), space (1).
const PREFIX: usize = 8;
/// Space between columns.
const GAP: usize = 2;
/// A reason narrower than this is left out rather than cut to nothing.
const MIN_REASON: usize = 8;
/// A playbook id cut shorter than this is not worth showing cut.
const MIN_PLAYBOOK: usize = 10;

/// Draws the four panes into the areas of `screen`.
pub fn draw_panes(frame: &mut Frame, app: &App, model: &Model, screen: &ScreenLayout) {
    for pane in Pane::ALL {
        let area = screen.panes[pane.index()];
        draw_pane(frame.buffer_mut(), area, app, model, pane);
    }
}

/// The focused pane has a double border (box drawing that even the Linux console's
/// CP437 fonts have), so focus does not depend on colour.
fn draw_pane(buf: &mut Buffer, area: Rect, app: &App, model: &Model, pane: Pane) {
    let theme = app.theme();
    let items = model.section(pane);
    let focused = app.focus() == pane && !app.findings_focused() && app.detail().is_none();
    let rows = usize::from(area.height.saturating_sub(2));
    let cursor = app.cursor(pane);
    let (selected, offset) = cursor.window(items.len(), rows);

    let title_style = theme.pane_title(focused);
    let mut block = theme
        .pane_block(focused)
        .title(Line::from(title_spans(app, model, pane, title_style)))
        .title(
            Line::from(Span::styled(format!(" {} ", pane.index() + 1), theme.muted))
                .alignment(Alignment::Right),
        );
    if items.len() > rows && rows > 0 {
        block = block.title_bottom(
            Line::from(Span::styled(
                format!(" {}/{} ", selected + 1, items.len()),
                theme.muted,
            ))
            .alignment(Alignment::Right),
        );
    }
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }

    if items.is_empty() {
        let text = if model.updated_at.is_none() {
            "waiting for data…"
        } else {
            "nothing to report"
        };
        let line = Line::from(Span::styled(
            format!(" {}", fit(text, usize::from(inner.width) - 1)),
            theme.muted,
        ));
        buf.set_line(inner.x, inner.y, &line, inner.width);
        return;
    }

    let visible = &items[offset..(offset + rows).min(items.len())];
    let cols = RowColumns::new(visible, usize::from(inner.width));
    for (i, item) in visible.iter().enumerate() {
        let y = inner.y + i as u16;
        let is_selected = offset + i == selected;
        let highlight = is_selected && focused;
        let row = Rect::new(inner.x, y, inner.width, 1);
        if highlight {
            buf.set_style(row, theme.selection);
        }
        let because = model.findings.explaining(item).map(|(run, f)| Because {
            code: run.playbook.code,
            cause: f.summary.clone(),
        });
        let line = item_line(item, because.as_ref(), &cols, highlight, theme);
        buf.set_line(row.x, row.y, &line, row.width);
    }
}

/// `Nodes (50) 1 crit 2 warn `: the exact title, the item count, and the problems (which
/// may be below the visible rows). Problems are counted once per model by the app; for a
/// model the app has not seen, the title has no problem counts.
fn title_spans<'a>(app: &App, model: &Model, pane: Pane, title_style: Style) -> Vec<Span<'a>> {
    let theme = app.theme();
    let mut spans = vec![Span::styled(
        format!("{} ({})", pane.title(), model.section(pane).len()),
        title_style,
    )];
    if std::ptr::eq(Arc::as_ptr(app.model()), model) {
        let p = app.problems(pane);
        for (n, label, style) in [
            (p.critical, "crit", theme.critical),
            (p.warning, "warn", theme.warning),
            (p.unknown, "unkn", theme.unknown),
        ] {
            if n > 0 {
                spans.push(Span::raw(" "));
                spans.push(Span::styled(format!("{n} {label}"), style));
            }
        }
    }
    spans.push(Span::raw(" "));
    spans
}

/// Column widths of the visible rows of one pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RowColumns {
    width: usize,
    title: usize,
}

impl RowColumns {
    /// The title column fits the widest visible title, up to a third of the row (names are
    /// cut so that their distinctive end stays).
    fn new(visible: &[HealthItem], cols: usize) -> RowColumns {
        let rest = cols.saturating_sub(PREFIX);
        let widest = visible.iter().map(|i| width(&i.title)).max().unwrap_or(0);
        RowColumns {
            width: cols,
            title: widest.min(rest / 3).max(widest.min(12)).min(rest),
        }
    }
}

/// The finding that explains a row's item: its code and cause.
#[derive(Debug, Clone, PartialEq)]
struct Because {
    code: &'static str,
    cause: String,
}

/// The cause as the end of a sentence: `because no CNI plugin…` (an acronym keeps its case).
fn because_text(reason: &str, because: &Because) -> String {
    let mut chars = because.cause.chars();
    let cause = match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => a
            .to_lowercase()
            .chain(because.cause.chars().skip(1))
            .collect(),
        _ => because.cause.clone(),
    };
    // The reason's first clause is enough beside its cause (the detail has the rest).
    let head = reason
        .split_once(": ")
        .map_or(reason, |(h, _)| h)
        .split_once(", ")
        .map_or(
            reason.split_once(": ").map_or(reason, |(h, _)| h),
            |(h, _)| h,
        );
    format!("{head} — because {cause}")
}

/// The playbook cell of a row: the code of the finding that explains it; else the first
/// linked id, and how many more there are.
fn playbook_text(item: &HealthItem, because: Option<&Because>) -> Option<String> {
    if let Some(b) = because {
        return Some(format!("→ {}", b.code));
    }
    if item.severity == Severity::Ok {
        return None;
    }
    let first = item.playbooks.first()?;
    Some(match item.playbooks.len() {
        1 => format!("→ {first}"),
        n => format!("→ {first} +{}", n - 1),
    })
}

/// One row: `>[CRIT] title      reason…  → playbook-id`.
fn item_line<'a>(
    item: &'a HealthItem,
    because: Option<&Because>,
    cols: &RowColumns,
    highlight: bool,
    theme: &Theme,
) -> Line<'a> {
    let avail = cols.width.saturating_sub(PREFIX + cols.title);
    let playbook = playbook_text(item, because);
    let reason_text = match because {
        Some(b) => std::borrow::Cow::Owned(because_text(&item.reason, b)),
        None => std::borrow::Cow::Borrowed(item.reason.as_str()),
    };
    let reason_want = GAP + width(&reason_text);
    // The reason keeps about 40% of what is left; the playbook id takes the rest (cut if
    // needed); a playbook id that would be cut to almost nothing takes the reason's room.
    let pb_cols = match &playbook {
        None => 0,
        Some(pb) => {
            let pb_want = GAP + width(pb);
            let reason_min = reason_want.min((avail * 2 / 5).max(GAP + MIN_REASON));
            let pb_cols = pb_want.min(avail.saturating_sub(reason_min));
            if pb_cols < GAP + MIN_PLAYBOOK {
                pb_want.min(avail)
            } else {
                pb_cols
            }
        }
    };
    let rest = avail - pb_cols;
    let reason_cols = if rest >= GAP + MIN_REASON.min(width(&reason_text)) {
        rest
    } else {
        0
    };

    let text_style = if highlight {
        theme.text.patch(theme.title)
    } else {
        theme.text
    };
    // Muted text could vanish on the selection's background: the selected row uses text.
    let reason_style = if item.severity == Severity::Ok && !highlight {
        theme.muted
    } else {
        theme.text
    };
    let mut spans = vec![
        Span::styled(if highlight { ">" } else { " " }, theme.accent),
        Span::styled(Theme::marker(item.severity), theme.severity(item.severity)),
        Span::raw(" "),
        Span::styled(pad_name(&item.title, cols.title), text_style),
    ];
    if reason_cols > GAP {
        let reason = if pb_cols > 0 {
            pad(&reason_text, reason_cols - GAP)
        } else {
            fit(&reason_text, reason_cols - GAP).into_owned()
        };
        spans.push(Span::raw("  "));
        spans.push(Span::styled(reason, reason_style));
    }
    if let Some(pb) = playbook
        && pb_cols > GAP
    {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(
            fit(&pb, pb_cols - GAP).into_owned(),
            theme.accent,
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sev: Severity, title: &str, reason: &str, pbs: &[&str]) -> HealthItem {
        HealthItem {
            severity: sev,
            title: title.into(),
            reason: reason.into(),
            object: None,
            playbooks: pbs.iter().map(|p| p.to_string()).collect(),
            details: vec![],
        }
    }

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_narrow_row_keeps_marker_title_and_playbook_and_cuts_the_reason() {
        let it = item(
            Severity::Critical,
            "worker-2",
            "NotReady for 12m: container runtime network not ready: cni plugin not initialized",
            &["node-notready-no-cni"],
        );
        let cols = RowColumns::new(std::slice::from_ref(&it), 78);
        let line = item_line(&it, None, &cols, false, &Theme::default());
        let s = text(&line);
        assert!(width(&s) <= 78, "{s}");
        assert!(s.starts_with(" [CRIT] worker-2"), "{s}");
        assert!(s.contains('…'), "{s}");
        assert!(s.ends_with("→ node-notready-no-cni"), "{s}");
    }

    #[test]
    fn ok_rows_have_no_playbook_and_extra_ids_are_counted() {
        let ok = item(Severity::Ok, "coredns", "2/2 ready", &["dns-broken"]);
        assert_eq!(playbook_text(&ok, None), None);
        let warn = item(Severity::Warning, "x", "y", &["a", "b", "c"]);
        assert_eq!(playbook_text(&warn, None).as_deref(), Some("→ a +2"));
    }

    #[test]
    fn an_explained_row_says_because_and_links_the_finding_code() {
        let it = item(
            Severity::Critical,
            "DNS: coredns",
            "none ready: 0/2 ready",
            &["dns-addon-degraded"],
        );
        let b = Because {
            code: "NET-01",
            cause: "No CNI plugin is installed: 6 of 6 nodes are NotReady".into(),
        };
        let cols = RowColumns::new(std::slice::from_ref(&it), 118);
        let s = text(&item_line(&it, Some(&b), &cols, false, &Theme::default()));
        assert!(
            s.contains("none ready — because no CNI plugin is installed"),
            "{s}"
        );
        assert!(s.trim_end().ends_with("→ NET-01"), "{s}");
        // An acronym keeps its case; an OK item a finding explains shows the link too.
        let ok = item(Severity::Ok, "worker-2", "Ready, heartbeat 25s ago", &[]);
        let b = Because {
            code: "NET-13",
            cause: "CNI pods crash".into(),
        };
        assert_eq!(
            because_text(&ok.reason, &b),
            "Ready — because CNI pods crash"
        );
        assert_eq!(playbook_text(&ok, Some(&b)).as_deref(), Some("→ NET-13"));
    }

    #[test]
    fn a_very_narrow_row_never_overflows() {
        let it = item(
            Severity::Warning,
            "a-very-long-item-title-that-goes-on",
            "because",
            &["leader-election-lease"],
        );
        for w in 0..40 {
            let cols = RowColumns::new(std::slice::from_ref(&it), w);
            let s = text(&item_line(&it, None, &cols, false, &Theme::default()));
            assert!(width(&s) <= w.max(PREFIX), "width {w}: {s:?}");
        }
    }
}
