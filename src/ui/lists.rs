//! The `:playbooks` list (with its `/` filter), the paste box for an error text, the list
//! of playbooks that match it, and the `:` command line. Lists build only their visible
//! rows.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Cell, HighlightSpacing, Paragraph, Row, Table, TableState,
};

use crate::app::{CommandLine, MatchList, PasteBox, PlaybookList};
use crate::playbooks::{Access, Playbook};

use crate::app::layout;
use crate::config::palette::Theme;
use crate::text::{fit, pad, width};

/// The access level as PLAYBOOKS.md writes it.
pub fn access_label(a: Access) -> &'static str {
    match a {
        Access::Api => "API",
        Access::ApiPlus => "API+",
        Access::Node => "NODE",
        Access::Client => "API (client)",
    }
}

pub(super) fn bottom_line(
    frame: &mut Frame,
    area: Rect,
    notice: Option<&str>,
    hints: Line,
    theme: &Theme,
) {
    let line = match notice {
        Some(n) => Line::styled(
            format!(" {}", fit(n, usize::from(area.width).saturating_sub(1))),
            theme.warning,
        ),
        None => hints,
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The `/` filter line being typed, with the cursor after the text.
pub(super) fn draw_filter_line(
    frame: &mut Frame,
    area: Rect,
    filter: &str,
    keys: &str,
    theme: &Theme,
) {
    let line = Line::from(vec![
        Span::styled(" /", theme.accent),
        Span::styled(filter.to_string(), theme.text),
        Span::styled(format!("   {keys}"), theme.muted),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let x = area.x + 2 + u16::try_from(width(filter)).unwrap_or(0);
    frame.set_cursor_position(Position::new(x.min(area.right()), area.y));
}

pub(super) fn hint_spans(pairs: &[(&'static str, &'static str)], theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in pairs {
        spans.push(Span::styled(*k, theme.accent));
        spans.push(Span::styled(format!(" {what}  "), theme.muted));
    }
    Line::from(spans)
}

/// A table of playbooks: code, id, title, and a last column (access or match %).
struct PlaybookTable<'a> {
    title: String,
    last_header: &'static str,
    rows: Vec<(&'static Playbook, String)>,
    selected: usize,
    offset: usize,
    total: usize,
    empty: &'a str,
}

/// Draws a [`PlaybookTable`] as a ratatui `Table` over its visible rows, the selection
/// marked `▶` (a `TableState` on the visible window the list's cursor chose).
fn draw_table(frame: &mut Frame, area: Rect, t: PlaybookTable, theme: &Theme) {
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(t.title, theme.title.patch(theme.accent)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.is_empty() {
        return;
    }
    let cols = usize::from(inner.width);
    let code_w = 7;
    let last_w = t
        .rows
        .iter()
        .map(|(_, l)| width(l))
        .max()
        .unwrap_or(0)
        .max(width(t.last_header));
    let id_w = t
        .rows
        .iter()
        .map(|(pb, _)| width(pb.id))
        .max()
        .unwrap_or(2)
        .clamp(2, 34)
        .min(cols / 3);
    let title_w = cols.saturating_sub(1 + code_w + 1 + id_w + 2 + 2 + last_w);
    let row = |code: &str, id: &str, title: &str, last: &str| {
        Row::new([
            Cell::from(format!("{} ", pad(code, code_w))),
            Cell::from(format!("{}  ", pad(id, id_w))),
            Cell::from(format!("{}  ", pad(title, title_w))),
            Cell::from(pad(last, last_w)),
        ])
    };
    let widths = [code_w + 1, id_w + 2, title_w + 2, last_w]
        .map(|w| Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX)));
    let selected = t
        .selected
        .checked_sub(t.offset)
        .filter(|i| *i < t.rows.len());
    let rows: Vec<Row> = t
        .rows
        .iter()
        .enumerate()
        .map(|(i, (pb, last))| {
            let style = if Some(i) == selected {
                theme.selection
            } else {
                theme.text
            };
            row(pb.code, pb.id, pb.title, last).style(style)
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(row("CODE", "ID", "TITLE", t.last_header).style(theme.muted))
        .column_spacing(0)
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always);
    frame.render_stateful_widget(
        table,
        inner,
        &mut TableState::default().with_selected(selected),
    );
    if t.rows.is_empty() && inner.height > 1 {
        let below = Rect {
            y: inner.y + 1,
            height: 1,
            ..inner
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {}", t.empty), theme.muted)),
            below,
        );
    }
    if t.total > t.rows.len() && !t.rows.is_empty() {
        let block_area = Rect {
            y: area.bottom().saturating_sub(1),
            height: 1,
            ..area
        };
        let pos = format!(" {}/{} ", t.selected + 1, t.total);
        let x = block_area
            .right()
            .saturating_sub(u16::try_from(width(&pos)).unwrap_or(0) + 1);
        frame.render_widget(
            Paragraph::new(Line::styled(pos, theme.muted)),
            Rect {
                x,
                width: block_area.right().saturating_sub(x),
                ..block_area
            },
        );
    }
}

pub(super) fn split(area: Rect) -> (Rect, Rect) {
    let [body, bottom] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    (body, bottom)
}

/// Draws the `:playbooks` list; returns the bottom row.
pub fn draw_playbooks(
    frame: &mut Frame,
    list: &PlaybookList,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let (body, bottom) = split(frame.area());
    let rows = layout::list_rows(frame.area().height);
    let (_, offset) = list.cursor.window(list.shown.len(), rows);
    let visible: Vec<(&'static Playbook, String)> = list
        .visible()
        .skip(offset)
        .take(rows)
        .map(|pb| (pb, access_label(pb.access).to_string()))
        .collect();
    let filter = if list.filter.is_empty() && !list.filtering {
        String::new()
    } else {
        format!(" /{}", list.filter)
    };
    let empty = if list.all.is_empty() {
        "no playbooks in this build"
    } else {
        "no playbook matches the filter"
    };
    draw_table(
        frame,
        body,
        PlaybookTable {
            title: format!(
                " Playbooks ({}/{}){filter} ",
                list.shown.len(),
                list.all.len()
            ),
            last_header: "ACCESS",
            rows: visible,
            selected: list.cursor.selected,
            offset,
            total: list.shown.len(),
            empty,
        },
        theme,
    );
    if list.filtering {
        draw_filter_line(frame, bottom, &list.filter, "Enter open  Esc clear", theme);
    } else {
        let hints = hint_spans(
            &[
                ("Enter", "run"),
                ("/", "filter"),
                ("j/k", "move"),
                ("Esc", "back"),
                (":", "command"),
            ],
            theme,
        );
        bottom_line(frame, bottom, notice, hints, theme);
    }
    bottom
}

/// Draws the list of playbooks matching a pasted text; returns the bottom row.
pub fn draw_matches(
    frame: &mut Frame,
    list: &MatchList,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let (body, bottom) = split(frame.area());
    // What the pasted text says, above its matches.
    let body = match &list.pasted {
        Some(p) if p.says_something() => {
            let lines = pasted_lines(p, theme);
            let cols = body.width.saturating_sub(2).max(1);
            let want: usize = lines
                .iter()
                .map(|l| l.width().div_ceil(usize::from(cols)).max(1))
                .sum();
            let height = u16::try_from(want + 2)
                .unwrap_or(u16::MAX)
                .min(body.height / 2);
            let [top, rest] =
                Layout::vertical([Constraint::Length(height), Constraint::Fill(1)]).areas(body);
            frame.render_widget(
                Paragraph::new(lines)
                    .block(
                        Block::bordered()
                            .border_style(theme.muted)
                            .title(Span::styled(" Read from the pasted text ", theme.title)),
                    )
                    .wrap(ratatui::widgets::Wrap { trim: false }),
                top,
            );
            rest
        }
        _ => body,
    };
    let rows = usize::from(body.height.saturating_sub(3)).max(1);
    let (_, offset) = list.cursor.window(list.matches.len(), rows);
    let visible = list
        .matches
        .iter()
        .skip(offset)
        .take(rows)
        .enumerate()
        .map(|(i, (pb, score))| {
            let last = match &list.about {
                Some(_) => list
                    .verdicts
                    .get(offset + i)
                    .copied()
                    .flatten()
                    .unwrap_or("not checked yet")
                    .to_string(),
                None => format!("{:.0}%", score.clamp(0.0, 1.0) * 100.0),
            };
            (*pb, last)
        })
        .collect();
    let (title, last_header) = match &list.about {
        Some(item) => (
            format!(
                " No finding explains {item}: its candidate playbooks ({}) ",
                list.matches.len()
            ),
            "VERDICT",
        ),
        None => (
            format!(
                " Playbooks matching the pasted text ({}) ",
                list.matches.len()
            ),
            "MATCH",
        ),
    };
    draw_table(
        frame,
        body,
        PlaybookTable {
            title,
            last_header,
            rows: visible,
            selected: list.cursor.selected,
            offset,
            total: list.matches.len(),
            empty: "no playbook matches",
        },
        theme,
    );
    let hints = hint_spans(
        &[("Enter", "run"), ("j/k", "move"), ("Esc", "edit the text")],
        theme,
    );
    bottom_line(frame, bottom, notice, hints, theme);
    bottom
}

/// The lines of what a pasted text says: its subjects, the access review of the user a
/// Forbidden names, and what the message means with its likely causes and the commands that
/// tell them apart.
fn pasted_lines<'a>(p: &'a crate::app::Pasted, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = Vec::new();
    if !p.read.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("Subjects  ", theme.muted),
            Span::styled(p.read.join("; "), theme.text),
        ]));
    }
    match (&p.denial, &p.review) {
        (Some(d), None) => lines.push(Line::from(vec![
            Span::styled("Access    ", theme.muted),
            Span::styled(
                format!("reviewing {}'s access in the cluster's RBAC…", d.user),
                theme.muted,
            ),
        ])),
        (_, Some(Ok(r))) => {
            let text = if r.allowed {
                format!(
                    "{} may {} now (the RBAC objects allow it)",
                    r.user, r.missing
                )
            } else if r.granted_by.is_empty() {
                format!(
                    "{} may not {}: no binding grants it, and no existing role includes it",
                    r.user, r.missing
                )
            } else {
                format!(
                    "{} may not {}: no binding grants it; roles that include it: {}",
                    r.user,
                    r.missing,
                    r.granted_by.join(", ")
                )
            };
            lines.push(Line::from(vec![
                Span::styled("Access    ", theme.muted),
                Span::styled(text, if r.allowed { theme.text } else { theme.warning }),
            ]));
            if !r.allowed {
                for c in r.commands.iter().skip(1) {
                    lines.push(Line::from(vec![
                        Span::styled("  grant   ", theme.muted),
                        Span::styled(c.as_str(), theme.accent),
                    ]));
                }
            }
        }
        (_, Some(Err(e))) => lines.push(Line::from(vec![
            Span::styled("Access    ", theme.muted),
            Span::styled(format!("could not check: {e}"), theme.warning),
        ])),
        (None, None) => {}
    }
    if let Some(m) = &p.meaning {
        lines.push(Line::from(vec![
            Span::styled("Means     ", theme.muted),
            Span::styled(m.meaning.as_str(), theme.text),
        ]));
        for (i, c) in m.causes.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(
                    if i == 0 { "Causes    " } else { "          " },
                    theme.muted,
                ),
                Span::styled(format!("{}. {c}", i + 1), theme.text),
            ]));
        }
        for (i, c) in m.commands.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(
                    if i == 0 { "Tell apart" } else { "          " },
                    theme.muted,
                ),
                Span::styled(format!(" $ {c}"), theme.accent),
            ]));
        }
    }
    lines
}

/// The hint under the paste box.
pub const PASTE_HINT: &str = "Ctrl-S or Alt-Enter find playbooks";

/// Draws the paste box; returns the bottom row.
pub fn draw_paste(
    frame: &mut Frame,
    paste: &PasteBox,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let (body, bottom) = split(frame.area());
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(
            " Paste the error message you saw ",
            theme.title.patch(theme.accent),
        ));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    frame.render_widget(&paste.textarea, inner);
    let hints = Line::from(vec![
        Span::styled(" Ctrl-S", theme.accent),
        Span::styled(" or ", theme.muted),
        Span::styled("Alt-Enter", theme.accent),
        Span::styled(" find playbooks  ", theme.muted),
        Span::styled("Esc", theme.accent),
        Span::styled(" cancel", theme.muted),
    ]);
    bottom_line(frame, bottom, notice, hints, theme);
    bottom
}

/// Draws the `:` command line in `area` (one row) with the cursor after the input.
pub fn draw_command(frame: &mut Frame, area: Rect, cmd: &CommandLine, theme: &Theme) {
    let mut spans = vec![
        Span::styled(":", theme.accent),
        Span::styled(cmd.input.clone(), theme.text),
    ];
    if !cmd.candidates.is_empty() {
        spans.push(Span::styled(
            format!("   {}", cmd.candidates.join("  ")),
            theme.muted,
        ));
    }
    frame.render_widget(ratatui::widgets::Clear, area);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    let x = area.x + 1 + u16::try_from(width(&cmd.input)).unwrap_or(0);
    frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
}
