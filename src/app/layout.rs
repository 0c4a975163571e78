//! Screen geometry, shared by the drawing code and the app state (which needs the visible
//! rows per pane to keep the selection in view): minimum size, the findings header above
//! the panes (one line, or a bordered pane on a large screen), the 2x2 grid from
//! [`WIDE_WIDTH`] columns, the stacked column below it, and scroll offsets.

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this many columns or rows only a "terminal too small" message is drawn.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;
/// From this many columns the panes are laid out as a 2x2 grid.
pub const WIDE_WIDTH: u16 = 120;
/// Lists longer than this share space as if they had this many items.
const LONG_LIST: usize = 10_000;
/// The smallest pane: its borders and one row.
const MIN_PANE_HEIGHT: u16 = 3;
/// From this many rows (and [`WIDE_WIDTH`] columns) findings get a bordered pane.
pub const FINDINGS_PANE_HEIGHT: u16 = 30;
/// The findings pane shows at most this many findings (more scroll).
pub const MAX_FINDING_ROWS: u16 = 6;

/// Whether a terminal of this size is below the minimum.
pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// Where everything goes on the Overview screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    /// The findings: one line, or a bordered pane when `findings_boxed`.
    pub findings: Rect,
    pub findings_boxed: bool,
    /// The four panes, in `Pane::ALL` order.
    pub panes: [Rect; 4],
    /// The notice line, when there is a notice.
    pub notice: Option<Rect>,
    /// The status line (last row).
    pub status: Rect,
    /// Panes are in a 2x2 grid (else stacked in one column).
    pub wide: bool,
}

/// Rows of the findings header: a bordered pane with a row per finding (up to
/// [`MAX_FINDING_ROWS`]) when there are findings on a screen of at least [`WIDE_WIDTH`] x
/// [`FINDINGS_PANE_HEIGHT`]; else one line.
pub fn findings_height(width: u16, height: u16, findings: usize) -> (u16, bool) {
    if findings > 0 && width >= WIDE_WIDTH && height >= FINDINGS_PANE_HEIGHT {
        let rows = u16::try_from(findings)
            .unwrap_or(u16::MAX)
            .min(MAX_FINDING_ROWS);
        (rows + 2, true)
    } else {
        (1, false)
    }
}

/// Lays out the Overview: the findings header, the panes, optional notice line, status
/// line at the bottom. `counts` (items per pane) size the panes: each gets at least one
/// row, the rest is shared in proportion to what does not fit.
pub fn screen_layout(
    area: Rect,
    counts: [usize; 4],
    notice: bool,
    findings: usize,
) -> ScreenLayout {
    let (findings_rows, findings_boxed) = findings_height(area.width, area.height, findings);
    let [findings_area, body, notice_area, status] = Layout::vertical([
        Constraint::Length(findings_rows),
        Constraint::Fill(1),
        Constraint::Length(u16::from(notice)),
        Constraint::Length(1),
    ])
    .areas(area);
    // Capped so that sums stay in range; past the cap every list is simply "long".
    let desired = counts.map(|c| c.min(LONG_LIST) as u16 + 2);
    let wide = area.width >= WIDE_WIDTH;
    let panes = if wide {
        let rows = [desired[0].max(desired[1]), desired[2].max(desired[3])];
        let heights = if rows[0].saturating_add(rows[1]) <= body.height {
            // Everything fits: share the height evenly, each row at least what it needs.
            let top = rows[0].max(body.height / 2).min(body.height - rows[1]);
            [top, body.height - top]
        } else {
            distribute(body.height, &rows)
        };
        let top = Rect {
            height: heights[0],
            ..body
        };
        let bottom = Rect {
            y: body.y + heights[0],
            height: heights[1],
            ..body
        };
        let [a, b] = Layout::horizontal([Constraint::Fill(1); 2]).areas(top);
        let [c, d] = Layout::horizontal([Constraint::Fill(1); 2]).areas(bottom);
        [a, b, c, d]
    } else {
        let heights = distribute(body.height, &desired);
        let mut y = body.y;
        heights.map(|h| {
            let r = Rect {
                y,
                height: h,
                ..body
            };
            y += h;
            r
        })
    };
    ScreenLayout {
        findings: findings_area,
        findings_boxed,
        panes,
        notice: notice.then_some(notice_area),
        status,
        wide,
    }
}

/// Item rows visible in each pane of a `width` x `height` screen.
pub fn visible_rows(
    width: u16,
    height: u16,
    counts: [usize; 4],
    notice: bool,
    findings: usize,
) -> [usize; 4] {
    if too_small(width, height) {
        return [0; 4];
    }
    let layout = screen_layout(Rect::new(0, 0, width, height), counts, notice, findings);
    layout
        .panes
        .map(|r| usize::from(r.height.saturating_sub(2)))
}

/// The first visible index so that `selected` is inside a window of `rows` rows over
/// `len` items, moving `offset` as little as possible.
pub fn scroll_offset(offset: usize, selected: usize, len: usize, rows: usize) -> usize {
    if rows == 0 || len == 0 {
        return 0;
    }
    let selected = selected.min(len - 1);
    let mut offset = offset.min(len.saturating_sub(rows));
    if selected < offset {
        offset = selected;
    } else if selected >= offset + rows {
        offset = selected + 1 - rows;
    }
    offset
}

/// Splits `total` rows over panes that would like `desired` rows each: every pane gets at
/// least [`MIN_PANE_HEIGHT`]; if everything fits, the last pane takes what is left.
/// Otherwise every pane first gets up to an equal share of the spare rows (so short lists
/// are shown whole), and what remains is shared in proportion to each pane's unmet need.
fn distribute<const N: usize>(total: u16, desired: &[u16; N]) -> [u16; N] {
    let n = N as u16;
    if total < MIN_PANE_HEIGHT * n {
        let mut out = [total / n; N];
        out[0] += total % n;
        return out;
    }
    let mut out = [MIN_PANE_HEIGHT; N];
    let mut rest = total - MIN_PANE_HEIGHT * n;
    let mut unmet = desired.map(|d| d.saturating_sub(MIN_PANE_HEIGHT));
    let total_need: u32 = unmet.iter().map(|u| u32::from(*u)).sum();
    if total_need <= u32::from(rest) {
        for (o, u) in out.iter_mut().zip(unmet) {
            *o += u;
        }
        out[N - 1] += rest - total_need as u16;
        return out;
    }
    let fair_share = rest / n;
    for _ in 0..fair_share {
        for i in 0..N {
            if rest > 0 && unmet[i] > 0 {
                out[i] += 1;
                unmet[i] -= 1;
                rest -= 1;
            }
        }
    }
    let total_need: u32 = unmet.iter().map(|u| u32::from(*u)).sum();
    if total_need == 0 {
        return out;
    }
    let base = u32::from(rest);
    for i in 0..N {
        let share = (base * u32::from(unmet[i]) / total_need) as u16;
        out[i] += share;
        unmet[i] -= share;
        rest -= share;
    }
    while rest > 0 {
        let Some((i, _)) = unmet.iter().enumerate().max_by_key(|(i, u)| (**u, N - i)) else {
            break;
        };
        out[i] += 1;
        unmet[i] = unmet[i].saturating_sub(1);
        rest -= 1;
    }
    out
}

/// Rows of a list screen that are not list rows: the borders, the column header and the
/// bottom line.
const LIST_CHROME: u16 = 4;

/// List rows visible on a screen `height` rows high.
pub fn list_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(LIST_CHROME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_panes_fill_the_body_and_keep_three_rows_each() {
        let l = screen_layout(Rect::new(0, 0, 80, 24), [2, 40, 1, 100], false, 0);
        assert!(!l.wide);
        let heights = l.panes.map(|r| r.height);
        assert!(heights.iter().all(|h| *h >= 3), "{heights:?}");
        assert_eq!(heights.iter().sum::<u16>(), 22);
        assert_eq!(l.status, Rect::new(0, 23, 80, 1));
        // The control-plane pane shows both of its items; long lists get the rest.
        assert_eq!(heights[0], 4);
        assert!(heights[3] > heights[1], "{heights:?}");
        // Panes do not overlap.
        for w in l.panes.windows(2) {
            assert_eq!(w[0].y + w[0].height, w[1].y);
        }
    }

    #[test]
    fn small_lists_get_what_they_need_and_the_last_pane_the_rest() {
        let l = screen_layout(Rect::new(0, 0, 80, 24), [2, 3, 1, 0], true, 0);
        assert_eq!(l.panes.map(|r| r.height), [4, 5, 3, 9]);
        assert_eq!(l.notice, Some(Rect::new(0, 22, 80, 1)));
    }

    #[test]
    fn wide_screens_get_a_two_by_two_grid() {
        let l = screen_layout(Rect::new(0, 0, 160, 45), [3, 6, 8, 2], false, 0);
        assert!(l.wide);
        let [a, b, c, d] = l.panes;
        assert_eq!((a.y, a.width), (b.y, b.width));
        assert_eq!(c.y, d.y);
        assert!(c.y > a.y);
        assert_eq!(a.width + b.width, 160);
        // Short lists: the two rows share the height evenly.
        assert_eq!((a.height, c.height), (21, 22));
        // A long list on the bottom row takes the room the top row does not need.
        let l = screen_layout(Rect::new(0, 0, 160, 45), [3, 6, 8, 200], false, 0);
        assert_eq!(l.panes[0].height, 8);
        assert_eq!(l.panes[2].height, 35);
        // Huge lists do not overflow the arithmetic.
        let l = screen_layout(Rect::new(0, 0, 160, 45), [usize::MAX; 4], true, 0);
        assert_eq!(l.panes[0].height + l.panes[2].height, 42);
        let l = screen_layout(Rect::new(0, 0, 80, 24), [usize::MAX; 4], false, 0);
        assert_eq!(l.panes.map(|p| p.height).iter().sum::<u16>(), 22);
    }

    #[test]
    fn findings_take_one_line_on_a_small_screen_and_a_pane_on_a_large_one() {
        let l = screen_layout(Rect::new(0, 0, 80, 24), [2, 3, 1, 0], false, 3);
        assert!(!l.findings_boxed);
        assert_eq!(l.findings, Rect::new(0, 0, 80, 1));
        assert_eq!(l.panes[0].y, 1);
        let l = screen_layout(Rect::new(0, 0, 120, 36), [2, 3, 1, 0], false, 3);
        assert!(l.findings_boxed);
        assert_eq!(l.findings, Rect::new(0, 0, 120, 5));
        assert_eq!(l.panes[0].y, 5);
        // Many findings scroll inside a pane of bounded height.
        let l = screen_layout(Rect::new(0, 0, 120, 36), [2, 3, 1, 0], false, 40);
        assert_eq!(l.findings.height, MAX_FINDING_ROWS + 2);
        // No findings: one line even on a large screen.
        let l = screen_layout(Rect::new(0, 0, 160, 45), [2, 3, 1, 0], false, 0);
        assert_eq!(l.findings.height, 1);
    }

    #[test]
    fn scroll_offset_keeps_the_selection_visible() {
        assert_eq!(scroll_offset(0, 10, 50, 5), 6);
        assert_eq!(scroll_offset(6, 3, 50, 5), 3);
        assert_eq!(scroll_offset(6, 8, 50, 5), 6);
        assert_eq!(scroll_offset(40, 49, 50, 5), 45);
        assert_eq!(scroll_offset(3, 0, 0, 5), 0);
        // The list shrank: no empty rows at the end.
        assert_eq!(scroll_offset(30, 9, 10, 5), 5);
    }
}
