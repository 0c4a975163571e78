//! The status line (the verdict over health and findings as `check` counts it, context,
//! server, version, sync state, age of the last update, key hints) and the notice line
//! above it. When the line is too wide, the least useful
//! segments go first: server, then version; then the context is cut.

use crate::api::printer::short_duration;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::{App, Model};
use crate::cluster::{ResourceSync, SyncState};
use crate::findings::Level;

use crate::config::palette::Theme;
use crate::text::{fit, width};

const SEPARATOR: &str = " │ ";
const HINTS: &str = ": cmd  ? help  q quit";
/// An update older than this is shown as a warning.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// What the sync summary says, and how loud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncTone {
    Ok,
    Busy,
    Problem,
}

/// One phrase for the sync state of all watched resources: `synced 7/7`,
/// `synced 5/7 · syncing pods · forbidden: nodes`, `failing: events (retry 5s)`.
pub fn sync_summary(sync: &[ResourceSync]) -> (String, SyncTone) {
    if sync.is_empty() {
        return ("not watching".to_string(), SyncTone::Busy);
    }
    let mut syncing = Vec::new();
    let mut forbidden = Vec::new();
    let mut failing = Vec::new();
    let mut not_captured = Vec::new();
    let mut stale = Vec::new();
    let mut synced = 0;
    for s in sync {
        match &s.state {
            SyncState::Synced => synced += 1,
            SyncState::Syncing => syncing.push(s.resource.as_str()),
            SyncState::Forbidden { .. } => forbidden.push(s.resource.as_str()),
            SyncState::NotCaptured { .. } => not_captured.push(s.resource.as_str()),
            SyncState::Failing { retry_in_secs, .. } => {
                failing.push(format!("{} (retry {retry_in_secs}s)", s.resource));
            }
            SyncState::Stale { since, .. } => {
                let age = (chrono::Utc::now() - *since).num_seconds().max(0);
                stale.push(format!("{} {}", s.resource, crate::health::human(age)));
            }
        }
    }
    let mut parts: Vec<String> = vec![format!("synced {synced}/{}", sync.len())];
    if !syncing.is_empty() {
        parts.push(format!("syncing {}", syncing.join(", ")));
    }
    if !forbidden.is_empty() {
        parts.push(format!("forbidden: {}", forbidden.join(", ")));
    }
    if !stale.is_empty() {
        parts.push(format!("stale: {}", stale.join(", ")));
    }
    if !failing.is_empty() {
        parts.push(format!("failing: {}", failing.join(", ")));
    }
    if !not_captured.is_empty() {
        parts.push(format!("not captured: {}", not_captured.join(", ")));
    }
    let tone = if !forbidden.is_empty() || !failing.is_empty() || !stale.is_empty() {
        SyncTone::Problem
    } else if !syncing.is_empty() {
        SyncTone::Busy
    } else {
        SyncTone::Ok
    };
    (parts.join(" · "), tone)
}

/// Draws the status line into `area` (one row).
pub fn draw_status(frame: &mut Frame, area: Rect, app: &App, model: &Model) {
    let line = status_line(
        app.theme(),
        model,
        app.level(),
        Instant::now(),
        usize::from(area.width),
    );
    frame
        .buffer_mut()
        .set_line(area.x, area.y, &line, area.width);
}

/// Draws the notice line: the model's notice and the app's.
pub fn draw_notice(frame: &mut Frame, area: Rect, app: &App, model: &Model) {
    let text = match (model.notice.as_deref(), app.notice()) {
        (Some(a), Some(b)) => format!("{a} · {b}"),
        (Some(a), None) | (None, Some(a)) => a.to_string(),
        (None, None) => return,
    };
    let theme = app.theme();
    let line = Line::from(vec![
        Span::styled(" ! ", theme.warning),
        Span::styled(
            fit(&text, usize::from(area.width).saturating_sub(3)).into_owned(),
            theme.warning,
        ),
    ]);
    frame
        .buffer_mut()
        .set_line(area.x, area.y, &line, area.width);
}

/// Segments in display order, each with the priority at which it is dropped (lower goes
/// first; 0 never).
fn status_line(
    theme: &Theme,
    model: &Model,
    level: Level,
    now: Instant,
    cols: usize,
) -> Line<'static> {
    let (sync, tone) = sync_summary(&model.sync);
    let sync_style = match tone {
        SyncTone::Ok => theme.ok,
        SyncTone::Busy => theme.muted,
        SyncTone::Problem => theme.warning,
    };
    let (age, age_style) = match model.updated_at {
        Some(at) => {
            let age = now.saturating_duration_since(at);
            let style = if age >= STALE_AFTER {
                theme.warning
            } else {
                theme.text
            };
            (format!("updated {} ago", short_duration(age)), style)
        }
        None => ("waiting for data".to_string(), theme.muted),
    };
    let context = if model.context.is_empty() {
        "no context".to_string()
    } else {
        model.context.clone()
    };
    let level_style = match level {
        Level::Ok => theme.ok,
        Level::Warning => theme.warning,
        Level::Critical => theme.critical,
    };
    let mut segments: Vec<(u8, String, Style)> = vec![
        (0, level.label().to_string(), level_style),
        (0, context, theme.title),
    ];
    if !model.server.is_empty() {
        segments.push((1, model.server.clone(), theme.muted));
    }
    if let Some(v) = &model.server_version {
        segments.push((2, v.clone(), theme.muted));
    }
    segments.push((0, sync, sync_style));
    segments.push((0, age, age_style));

    let hints_w = width(HINTS) + 2;
    let total = |segs: &[(u8, String, Style)]| -> usize {
        1 + segs.iter().map(|(_, s, _)| width(s)).sum::<usize>()
            + width(SEPARATOR) * segs.len().saturating_sub(1)
    };
    let budget = cols.saturating_sub(hints_w);
    for prio in [1, 2] {
        if total(&segments) <= budget {
            break;
        }
        segments.retain(|(p, _, _)| *p != prio);
    }
    // Still too wide: cut the context, then whatever is left.
    if total(&segments) > budget {
        let over = total(&segments) - budget;
        let ctx = &mut segments[1].1;
        let keep = width(ctx).saturating_sub(over).max(8);
        *ctx = fit(ctx, keep).into_owned();
    }

    let mut spans = vec![Span::raw(" ")];
    for (i, (_, text, style)) in segments.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, theme.muted));
        }
        spans.push(Span::styled(text, style));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used + hints_w <= cols {
        spans.push(Span::raw(" ".repeat(cols - used - width(HINTS))));
        spans.push(Span::styled(":", theme.accent));
        spans.push(Span::styled(" cmd  ", theme.muted));
        spans.push(Span::styled("?", theme.accent));
        spans.push(Span::styled(" help  ", theme.muted));
        spans.push(Span::styled("q", theme.accent));
        spans.push(Span::styled(" quit", theme.muted));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(resource: &str, state: SyncState) -> ResourceSync {
        ResourceSync {
            resource: resource.into(),
            state,
        }
    }

    fn line_text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn sync_summary_names_what_is_not_synced() {
        let all = vec![
            rs("nodes", SyncState::Synced),
            rs("pods", SyncState::Synced),
        ];
        assert_eq!(sync_summary(&all), ("synced 2/2".into(), SyncTone::Ok));
        let some = vec![
            rs(
                "nodes",
                SyncState::Forbidden {
                    verb: "list".into(),
                    resource: "nodes".into(),
                    message: "nope".into(),
                },
            ),
            rs("pods", SyncState::Syncing),
            rs("leases", SyncState::Synced),
        ];
        assert_eq!(
            sync_summary(&some),
            (
                "synced 1/3 · syncing pods · forbidden: nodes".into(),
                SyncTone::Problem
            )
        );
        let failing = vec![rs(
            "events",
            SyncState::Failing {
                error: "boom".into(),
                retry_in_secs: 5,
            },
        )];
        assert_eq!(
            sync_summary(&failing).0,
            "synced 0/1 · failing: events (retry 5s)"
        );
    }

    #[test]
    fn ages_are_short() {}

    #[test]
    fn a_narrow_status_line_drops_the_server_but_keeps_sync_age_and_hints() {
        let now = Instant::now();
        let model = Model {
            context: "kubernetes-admin@production-eu-west-1".into(),
            server: "https://api.production-eu-west-1.example.internal:6443".into(),
            server_version: Some("v1.33.1".into()),
            sync: vec![rs("pods", SyncState::Synced)],
            updated_at: Some(now - Duration::from_secs(3)),
            ..Model::default()
        };
        let line = status_line(&Theme::default(), &model, Level::Critical, now, 80);
        let s = line_text(&line);
        assert!(width(&s) <= 80, "{s}");
        assert!(!s.contains("example.internal"), "{s}");
        assert!(s.contains("synced 1/1"), "{s}");
        assert!(s.contains("updated 3s ago"), "{s}");
        assert!(s.ends_with("? help  q quit"), "{s}");
        assert!(s.starts_with(" CRITICAL │ "), "{s}");
        let wide = line_text(&status_line(&Theme::default(), &model, Level::Ok, now, 170));
        assert!(wide.starts_with(" OK │ "), "{wide}");
        assert!(wide.contains("example.internal:6443 │ v1.33.1"), "{wide}");
    }
}
