//! Text fitting for cells: display width, truncation with `…`, and removal of control
//! characters that a cluster could send in a reason or a name.

use std::borrow::Cow;

use ratatui::text::Span;

/// Display width of a string in terminal columns.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

fn char_width(c: char) -> usize {
    if c.is_ascii() {
        return usize::from(!c.is_ascii_control());
    }
    let mut buf = [0u8; 4];
    width(c.encode_utf8(&mut buf))
}

/// `s` in at most `max` columns: control characters become spaces, and a string that is
/// too wide is cut and ends with `…`.
pub fn fit(s: &str, max: usize) -> Cow<'_, str> {
    let clean = s.chars().all(|c| !c.is_control());
    if clean && width(s) <= max {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut used = 0;
    let total: usize = s
        .chars()
        .map(|c| if c.is_control() { 1 } else { char_width(c) })
        .sum();
    let limit = if total <= max {
        max
    } else {
        max.saturating_sub(1)
    };
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        let w = char_width(c);
        if used + w > limit {
            break;
        }
        out.push(c);
        used += w;
    }
    if total > max && max > 0 {
        out.push('…');
    }
    Cow::Owned(out)
}

/// `s` fitted to exactly `cols` columns (truncated, then padded with spaces).
pub fn pad(s: &str, cols: usize) -> String {
    let fitted = fit(s, cols);
    let w = width(&fitted);
    let mut out = fitted.into_owned();
    out.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_truncates_with_an_ellipsis() {
        assert_eq!(fit("worker-1", 20), "worker-1");
        assert_eq!(fit("kube-controller-manager", 10), "kube-cont…");
        assert_eq!(width(&fit("kube-controller-manager", 10)), 10);
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 1), "…");
    }

    #[test]
    fn fit_removes_control_characters() {
        assert_eq!(fit("line one\nline two", 40), "line one line two");
        assert_eq!(fit("a\tb", 2), "a…");
    }

    #[test]
    fn fit_counts_wide_characters() {
        let s = fit("節點節點節點", 7);
        assert!(width(&s) <= 7, "{s}");
        assert!(s.ends_with('…'));
    }

    #[test]
    fn pad_fills_to_the_column_width() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abc…");
    }
}
