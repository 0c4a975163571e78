//! The list cursor every list of the TUI moves with: the selected index and the first
//! visible row, stepped by the keymap's movement actions (a row, a page, to either end),
//! clamped when the list shrinks, kept on the same entry when the list is re-sorted or
//! refreshed, and scrolled so the selection stays in view.

use super::layout;
use crate::config::keymap::Action;

/// Selection and scroll offset of one list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Index of the selected row.
    pub selected: usize,
    /// Index of the first visible row.
    pub offset: usize,
}

/// A movement of the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

impl Move {
    /// The movement an action asks for, `None` for actions that do not move a cursor.
    pub fn of(action: Action) -> Option<Move> {
        Some(match action {
            Action::MoveUp => Move::Up,
            Action::MoveDown => Move::Down,
            Action::PageUp => Move::PageUp,
            Action::PageDown => Move::PageDown,
            Action::Top => Move::Top,
            Action::Bottom => Move::Bottom,
            _ => return None,
        })
    }

    /// How far the selection goes for a page of `page` rows (saturating at the ends).
    pub fn delta(self, page: usize) -> isize {
        let page = isize::try_from(page.max(1)).unwrap_or(isize::MAX / 2);
        match self {
            Move::Up => -1,
            Move::Down => 1,
            Move::PageUp => -page,
            Move::PageDown => page,
            Move::Top => isize::MIN / 2,
            Move::Bottom => isize::MAX / 2,
        }
    }
}

impl Cursor {
    /// A cursor on row `selected`, scrolled to the top.
    pub fn at(selected: usize) -> Cursor {
        Cursor {
            selected,
            offset: 0,
        }
    }

    /// Moves the selection by `delta`, clamped to `0..len` (0 for an empty list).
    pub fn step(&mut self, delta: isize, len: usize) {
        self.selected = step(self.selected, delta, len);
    }

    /// Applies a movement on a list of `len` rows of which `rows` are visible, and keeps
    /// the selection in view.
    pub fn apply(&mut self, m: Move, len: usize, rows: usize) {
        self.step(m.delta(rows), len);
        self.scroll(len, rows);
    }

    /// Keeps the selection inside a list of `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// Scrolls so the selected row is one of the `rows` visible ones.
    pub fn scroll(&mut self, len: usize, rows: usize) {
        self.offset = layout::scroll_offset(self.offset, self.selected, len, rows);
    }

    /// What drawing reads (without changing the state): the selected row, clamped to a
    /// list of `len` rows, and the first of the `rows` visible ones.
    pub fn window(&self, len: usize, rows: usize) -> (usize, usize) {
        let selected = self.selected.min(len.saturating_sub(1));
        (
            selected,
            layout::scroll_offset(self.offset, selected, len, rows),
        )
    }

    /// After the list changed (re-sorted, filtered, refreshed): selects the row whose key is
    /// `key` if one still has it (`position` finds it), else clamps.
    pub fn keep<K>(
        &mut self,
        key: Option<K>,
        len: usize,
        position: impl FnOnce(&K) -> Option<usize>,
    ) {
        if let Some(i) = key.as_ref().and_then(position) {
            self.selected = i;
        }
        self.clamp(len);
    }
}

/// `index + delta` clamped to `0..len`.
pub fn step(index: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let last = isize::try_from(len - 1).unwrap_or(isize::MAX);
    let index = isize::try_from(index).unwrap_or(isize::MAX);
    usize::try_from(index.saturating_add(delta).clamp(0, last)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_clamp_at_both_ends_and_pages_keep_the_selection_in_view() {
        let mut c = Cursor::default();
        c.apply(Move::Up, 50, 10);
        assert_eq!(c, Cursor::at(0), "nothing above the first row");
        c.apply(Move::PageDown, 50, 10);
        assert_eq!(c.selected, 10);
        assert_eq!(c.offset, 1, "row 10 is the last visible one");
        c.apply(Move::Bottom, 50, 10);
        assert_eq!((c.selected, c.offset), (49, 40));
        c.apply(Move::Down, 50, 10);
        assert_eq!(c.selected, 49, "nothing below the last row");
        c.apply(Move::Top, 50, 10);
        assert_eq!((c.selected, c.offset), (0, 0));
    }

    #[test]
    fn an_empty_list_has_its_cursor_on_zero() {
        let mut c = Cursor::at(7);
        c.apply(Move::Down, 0, 10);
        assert_eq!(c.selected, 0);
    }

    #[test]
    fn a_shrinking_list_clamps_and_a_resort_keeps_the_entry() {
        let mut c = Cursor::at(4);
        c.clamp(3);
        assert_eq!(c.selected, 2);
        let rows = ["c", "a", "b"];
        c.keep(Some("a"), rows.len(), |k| rows.iter().position(|r| r == k));
        assert_eq!(c.selected, 1, "still on a");
        c.keep(Some("gone"), rows.len(), |k| {
            rows.iter().position(|r| r == k)
        });
        assert_eq!(c.selected, 1, "an entry that left: the place is kept");
    }
}
