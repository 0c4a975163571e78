//! The list views (`:nodes`, `:pods`, `:leases`, `:events`) and the YAML detail of one of
//! their objects. Only the visible rows are formatted; column widths follow the visible
//! rows, the last column takes the rest, and Left/Right scroll the table sideways.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::resources::{Column, ResourceList, Tone, YamlSource};

use super::lists::{bottom_line, draw_filter_line, hint_spans, split};
use crate::app::layout::list_rows;
use crate::config::palette::Theme;
use crate::text::{fit, pad, pad_name, width};

/// Widest a column other than the last gets, so one long name cannot push the rest away.
const MAX_COLUMN: usize = 48;

/// Room the last column (a message, a node) keeps before the others are narrowed.
const LAST_COLUMN_MIN: usize = 24;

/// Narrows the widest columns (never below their header) until the last column has
/// [`LAST_COLUMN_MIN`] of the `cols` available, or nothing is left to narrow: at 80
/// columns an event's message stays in view, names lose their middle instead.
fn fit_columns(widths: &mut [usize], columns: &[Column], cols: usize) {
    let Some((last, rest)) = widths.split_last_mut() else {
        return;
    };
    let separators = 1 + 2 * rest.len();
    let want_last = (*last).min(LAST_COLUMN_MIN);
    let floor = |i: usize| width(columns[i].header) + 1;
    loop {
        let used: usize = rest.iter().sum::<usize>() + separators;
        if used + want_last <= cols {
            return;
        }
        let Some((i, _)) = rest
            .iter()
            .enumerate()
            .filter(|(i, w)| **w > floor(*i).max(12))
            .max_by_key(|(_, w)| **w)
        else {
            return;
        };
        rest[i] -= 1;
    }
}

/// Skips the first `cols` display columns of `s`.
fn skip_columns(s: &str, cols: usize) -> String {
    let mut skipped = 0;
    let mut out = String::new();
    for c in s.chars() {
        if skipped < cols {
            skipped += width(c.encode_utf8(&mut [0; 4]));
            continue;
        }
        out.push(c);
    }
    out
}

/// Draws a list view (or its YAML detail); returns the bottom row.
pub fn draw_resources(
    frame: &mut Frame,
    list: &ResourceList,
    namespace: Option<&str>,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    if list.detail.is_some() {
        return draw_detail(frame, list, theme, notice);
    }
    let (body, bottom) = split(frame.area());
    let rows = list_rows(frame.area().height);
    let (_, offset) = list.cursor.window(list.len(), rows);
    let columns = list.kind.columns();
    let scope = if list.kind.namespaced() {
        format!("({})", namespace.unwrap_or("all"))
    } else {
        String::new()
    };
    let filter = if list.filter.is_empty() && !list.filtering {
        String::new()
    } else {
        format!(" /{}", list.filter)
    };
    let count = if list.filter.is_empty() {
        format!("[{}]", list.total())
    } else {
        format!("[{}/{}]", list.len(), list.total())
    };
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" {}{scope}{count}{filter} ", list.kind.title()),
            theme.title.patch(theme.accent),
        ));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    if !inner.is_empty() {
        // One namespace needs no NAMESPACE column (as in k9s): the room goes to the rest.
        let skip = usize::from(list.namespace.is_some() && list.kind.namespaced());
        let cells: Vec<(Vec<String>, Tone)> = (offset..list.len().min(offset + rows))
            .filter_map(|i| list.row(i))
            .map(|e| {
                let mut c = e.cells(list.now);
                c.drain(..skip);
                (c, e.tone(list.now))
            })
            .collect();
        let columns = &columns[skip..];
        let mut widths: Vec<usize> = columns.iter().map(|c| width(c.header) + 1).collect();
        for (row, _) in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell).min(MAX_COLUMN));
            }
        }
        fit_columns(&mut widths, columns, usize::from(inner.width));
        let line_of = |cells: &[String]| {
            let last = cells.len().saturating_sub(1);
            let mut text = String::from(" ");
            for (i, cell) in cells.iter().enumerate() {
                if i == last {
                    text.push_str(&fit(cell, 1000));
                } else {
                    text.push_str(&pad_name(cell, widths[i]));
                    text.push_str("  ");
                }
            }
            skip_columns(&text, usize::from(list.hscroll))
        };
        let headers: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + skip == list.sort_column {
                    format!("{}{}", c.header, if list.descending { "↓" } else { "↑" })
                } else {
                    c.header.to_string()
                }
            })
            .collect();
        let cols = usize::from(inner.width);
        let mut lines = vec![Line::styled(
            fit(&line_of(&headers), cols).into_owned(),
            theme.muted,
        )];
        if cells.is_empty() {
            let why = if list.total() == 0 {
                match namespace {
                    Some(ns) if list.kind.namespaced() => {
                        format!(
                            " no {} in namespace {ns} (:ns all shows every namespace)",
                            list.kind.name()
                        )
                    }
                    _ => format!(" no {} seen yet", list.kind.name()),
                }
            } else {
                format!(" no {} match the filter (Esc clears it)", list.kind.name())
            };
            lines.push(Line::styled(why, theme.muted));
        }
        for (i, (row, tone)) in cells.iter().enumerate() {
            let selected = offset + i == list.cursor.selected;
            let mut text = line_of(row);
            if selected {
                text = format!("▶{}", skip_columns(&text, 1));
            }
            let text = pad(&text, cols);
            let style = if selected {
                theme.selection
            } else {
                match tone {
                    Tone::Normal => theme.text,
                    Tone::Warning => theme.warning,
                    Tone::Critical => theme.critical,
                }
            };
            lines.push(Line::styled(text, style));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        if list.len() > rows {
            let pos = format!(" {}/{} ", list.cursor.selected + 1, list.len());
            let y = body.bottom().saturating_sub(1);
            let x = body
                .right()
                .saturating_sub(u16::try_from(width(&pos)).unwrap_or(0) + 1);
            frame.render_widget(
                Paragraph::new(Line::styled(pos, theme.muted)),
                Rect::new(x, y, body.right().saturating_sub(x), 1),
            );
        }
    }
    if list.filtering {
        draw_filter_line(
            frame,
            bottom,
            &list.filter,
            "Enter keep  Esc clear  !text excludes",
            theme,
        );
    } else {
        let hints = hint_spans(
            &[
                ("Enter", "yaml"),
                ("/", "filter"),
                ("s/S", "sort"),
                ("y/Y", "copy name/yaml"),
                ("Esc", "back"),
                (":", "command"),
            ],
            theme,
        );
        bottom_line(frame, bottom, notice, hints, theme);
    }
    bottom
}

fn draw_detail(
    frame: &mut Frame,
    list: &ResourceList,
    theme: &Theme,
    notice: Option<&str>,
) -> Rect {
    let (body, bottom) = split(frame.area());
    let Some(detail) = &list.detail else {
        return bottom;
    };
    let name = if detail.namespace.is_empty() {
        detail.name.clone()
    } else {
        format!("{}/{}", detail.namespace, detail.name)
    };
    let source = match &detail.source {
        YamlSource::Server => "from the API server".to_string(),
        YamlSource::Fetching => "stored fields; fetching the full object…".to_string(),
        YamlSource::Stored(why) => format!("stored fields only: {why}"),
    };
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" {} {name} ", list.kind.kind()),
            theme.title.patch(theme.accent),
        ))
        .title_bottom(Span::styled(format!(" {source} "), theme.muted));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let cols = usize::from(inner.width);
    let lines: Vec<Line> = detail
        .lines()
        .skip(detail.scroll)
        .take(usize::from(inner.height))
        .map(|l| {
            let text = format!(" {}", fit(l, cols.saturating_sub(1)));
            match l.split_once(':') {
                Some((key, _)) if !key.trim_start().starts_with('-') || key.contains(' ') => {
                    let k = width(key) + 2;
                    let (head, rest) = split_at_width(&text, k);
                    Line::from(vec![
                        Span::styled(head, theme.accent),
                        Span::styled(rest, theme.text),
                    ])
                }
                _ => Line::styled(text, theme.text),
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    let hints = hint_spans(
        &[
            ("j/k", "scroll"),
            ("y", "copy name"),
            ("Y", "copy yaml"),
            ("Esc", "back"),
        ],
        theme,
    );
    bottom_line(frame, bottom, notice, hints, theme);
    bottom
}

/// Splits `s` after `cols` display columns.
fn split_at_width(s: &str, cols: usize) -> (String, String) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        if used >= cols {
            return (s[..i].to_string(), s[i..].to_string());
        }
        used += width(c.encode_utf8(&mut [0; 4]));
    }
    (s.to_string(), String::new())
}
