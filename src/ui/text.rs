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

/// `s` with control characters (newlines, tabs, escape sequences' ESC) as spaces.
pub fn clean(s: &str) -> Cow<'_, str> {
    fit(s, usize::MAX)
}

/// Fits a name or title, keeping what tells it apart: for `namespace/name` the namespace
/// is cut first (`kube…/calico-node-x7k2p`), then dropped (`calico…x7k2p`); a title with
/// spaces is cut at the end (`kube-scheduler le…`); a single word in the middle, keeping
/// its end (`calico-n…x7k2p`).
pub fn fit_name(s: &str, max: usize) -> Cow<'_, str> {
    let full = fit(s, usize::MAX);
    if width(&full) <= max {
        return full;
    }
    if let Some((prefix, name)) = full.rsplit_once('/') {
        let name_w = width(name);
        if name_w + 3 <= max {
            let prefix = fit(prefix, max - name_w - 1);
            return Cow::Owned(format!("{prefix}/{name}"));
        }
        return Cow::Owned(fit_middle(name, max).into_owned());
    }
    if full.contains(' ') {
        return Cow::Owned(fit(&full, max).into_owned());
    }
    Cow::Owned(fit_middle(&full, max).into_owned())
}

/// Like [`fit`], but cuts in the middle and keeps the end (`kube-cont…-manager lease`).
pub fn fit_middle(s: &str, max: usize) -> Cow<'_, str> {
    let full = fit(s, usize::MAX);
    if width(&full) <= max {
        return full;
    }
    if max < 6 {
        return Cow::Owned(fit(&full, max).into_owned());
    }
    let head_cols = (max - 1) * 2 / 5;
    let tail_cols = max - 1 - head_cols;
    let mut head = String::new();
    let mut used = 0;
    for c in full.chars() {
        let w = char_width(c);
        if used + w > head_cols {
            break;
        }
        head.push(c);
        used += w;
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in full.chars().rev() {
        let w = char_width(c);
        if used + w > tail_cols {
            break;
        }
        tail.push(c);
        used += w;
    }
    head.push('…');
    head.extend(tail.into_iter().rev());
    Cow::Owned(head)
}

/// `s` fitted to exactly `cols` columns (truncated, then padded with spaces).
pub fn pad(s: &str, cols: usize) -> String {
    pad_fitted(fit(s, cols), cols)
}

/// Like [`pad`], but fits a name (see [`fit_name`]).
pub fn pad_name(s: &str, cols: usize) -> String {
    pad_fitted(fit_name(s, cols), cols)
}

fn pad_fitted(fitted: Cow<'_, str>, cols: usize) -> String {
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
    fn fit_middle_keeps_the_distinctive_end() {
        let s = fit_name("kube-system/calico-node-x7k2p", 24);
        assert_eq!(s, "kube-…/calico-node-x7k2p");
        assert_eq!(width(&s), 24);
        assert_eq!(
            fit_name("kube-system/calico-node-x7k2p", 14),
            "calic…de-x7k2p"
        );
        assert_eq!(fit_name("kube-scheduler lease", 16), "kube-scheduler …");
        assert_eq!(
            fit_name("ip-10-0-12-34.eu-west-1.compute.internal", 20),
            "ip-10-0…ute.internal"
        );
        let s = fit_middle("kube-controller-manager lease", 24);
        assert_eq!(s, "kube-cont…-manager lease");
        assert_eq!(width(&s), 24);
        assert_eq!(fit_middle("worker-1", 24), "worker-1");
        assert_eq!(fit_middle("a\nb", 24), "a b");
        assert_eq!(fit_middle("abcdefgh", 4), "abc…");
    }

    #[test]
    fn pad_fills_to_the_column_width() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abc…");
    }
}
