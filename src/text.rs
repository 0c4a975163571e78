//! Text fitting for cells: display width, truncation with `…`, and removal of control
//! characters that a cluster could send in a reason or a name.

use std::borrow::Cow;

use ratatui::text::{Line, Span};

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

/// Word-wraps `spans` (text with styles) into rows of at most `cols` columns. Rows after
/// the first start with `indent` spaces; a word wider than a row is cut across rows;
/// control characters become spaces. The row count is exact, so callers can scroll by rows.
pub fn wrap(spans: &[Span<'_>], cols: usize, indent: usize) -> Vec<Line<'static>> {
    let cols = cols.max(1);
    let indent = if indent * 2 > cols { 0 } else { indent };
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    let mut continuation = false;
    let mut new_row = |row: &mut Vec<Span<'static>>, used: &mut usize, cont: &mut bool| {
        rows.push(Line::from(std::mem::take(row)));
        *row = vec![Span::raw(" ".repeat(indent))];
        *used = indent;
        *cont = true;
    };
    for span in spans {
        let text = clean(&span.content);
        let style = span.style;
        for token in tokens(&text) {
            let is_space = token.starts_with(' ');
            let w = width(token);
            if is_space {
                if continuation && used == indent {
                    continue;
                }
                if used + w > cols {
                    new_row(&mut row, &mut used, &mut continuation);
                    continue;
                }
                row.push(Span::styled(token.to_string(), style));
                used += w;
                continue;
            }
            if used + w > cols && used > if continuation { indent } else { 0 } {
                new_row(&mut row, &mut used, &mut continuation);
            }
            if used + w <= cols {
                row.push(Span::styled(token.to_string(), style));
                used += w;
                continue;
            }
            // A word wider than the row: cut it.
            let mut piece = String::new();
            for c in token.chars() {
                let cw = char_width(c);
                if used + cw > cols && used > 0 {
                    row.push(Span::styled(std::mem::take(&mut piece), style));
                    new_row(&mut row, &mut used, &mut continuation);
                }
                piece.push(c);
                used += cw;
            }
            if !piece.is_empty() {
                row.push(Span::styled(piece, style));
            }
        }
    }
    rows.push(Line::from(row));
    rows
}

/// Splits text into runs of spaces and runs of other characters.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev_space = None;
    for (i, c) in s.char_indices() {
        let space = c == ' ';
        if prev_space.is_some_and(|p| p != space) {
            out.push(&s[start..i]);
            start = i;
        }
        prev_space = Some(space);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// A count with thousands separated by commas: `150,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
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
    fn wrap_breaks_at_words_indents_and_cuts_long_words() {
        let text =
            |rows: Vec<Line>| -> Vec<String> { rows.iter().map(|l| l.to_string()).collect() };
        let rows = wrap(&[Span::raw("the quick brown fox jumps")], 10, 2);
        assert_eq!(
            text(rows),
            vec!["the quick ", "  brown ", "  fox ", "  jumps"]
        );
        let rows = wrap(&[Span::raw("abcdefghijkl")], 5, 0);
        assert_eq!(text(rows), vec!["abcde", "fghij", "kl"]);
        let rows = wrap(&[Span::raw("a\nb")], 10, 0);
        assert_eq!(text(rows), vec!["a b"]);
        assert_eq!(wrap(&[], 10, 0).len(), 1, "an empty line is one row");
        for l in wrap(
            &[Span::raw("kubectl get pods -n kube-system -o yaml")],
            12,
            3,
        ) {
            assert!(l.width() <= 12, "{l}");
        }
    }

    #[test]
    fn pad_fills_to_the_column_width() {
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad("abcdef", 4), "abc…");
    }
}
