//! A small block-style YAML emitter for JSON values, in the layout `kubectl get -o yaml`
//! prints (sequences not indented under their key). Strings are written plain only when
//! both YAML 1.2 (serde_yaml_ng, our reader) and YAML 1.1 (kubectl's go-yaml, PyYAML)
//! read them back as the same string: `yes`, `on`, `1_000`, `2026-01-15` are quoted.
//! Multi-line texts become literal blocks (`|`) whenever YAML can hold them exactly.

use serde_json::Value;

/// Appends one document (a mapping, as every snapshot document is; anything else is written
/// too, as a sequence or a scalar).
pub(crate) fn document(out: &mut String, value: &Value) {
    match value {
        Value::Object(m) if !m.is_empty() => object(out, m, 0, false),
        Value::Array(a) if !a.is_empty() => sequence(out, a, 0, false),
        other => leaf(out, other, 2),
    }
}

/// Appends one mapping's entries at `indent`. With `inline_first`, the first key continues
/// the current line (after a sequence's `- `).
pub(crate) fn mapping<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (&'a str, &'a Value)>,
    indent: usize,
    inline_first: bool,
) {
    for (i, (key, value)) in entries.enumerate() {
        entry(out, key, value, indent, i == 0 && inline_first);
    }
}

fn object(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize, inline: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        entry(out, key, value, indent, i == 0 && inline);
    }
}

fn entry(out: &mut String, key: &str, value: &Value, indent: usize, inline: bool) {
    if !inline {
        pad(out, indent);
    }
    if key.len() > 1000 {
        // Implicit keys are limited to 1024 characters: use an explicit `? key`.
        out.push_str("? ");
        double_quoted(out, key);
        out.push('\n');
        pad(out, indent);
    } else {
        scalar_string(out, key, None);
    }
    out.push(':');
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            object(out, m, indent + 2, false);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            sequence(out, a, indent, false);
        }
        other => {
            out.push(' ');
            leaf(out, other, indent + 2);
        }
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => object(out, m, indent + 2, true),
            Value::Array(a) if !a.is_empty() => sequence(out, a, indent + 2, true),
            other => leaf(out, other, indent + 2),
        }
    }
}

/// A scalar or empty collection, ending the line. `block_indent`: where a literal block's
/// lines go.
fn leaf(out: &mut String, value: &Value, block_indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => scalar_string(out, s, Some(block_indent)),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

/// serde_json writes `1e300`; YAML 1.1 readers want a dot and a signed exponent
/// (`1.0e+300`), which YAML 1.2 reads too.
fn number(n: &serde_json::Number) -> String {
    let text = n.to_string();
    match text.split_once(['e', 'E']) {
        Some((mantissa, exp)) if n.is_f64() => {
            let mantissa = if mantissa.contains('.') {
                mantissa.to_string()
            } else {
                format!("{mantissa}.0")
            };
            let exp = if exp.starts_with(['-', '+']) {
                exp.to_string()
            } else {
                format!("+{exp}")
            };
            format!("{mantissa}e{exp}")
        }
        _ => text,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Characters every style but double-quoted may hold as they are.
fn is_plain_char(c: char) -> bool {
    matches!(c, ' '..='~')
        || (c >= '\u{a0}'
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}

/// Words that some YAML version reads as null, a boolean or a special float.
fn is_keyword(s: &str) -> bool {
    const WORDS: [&str; 17] = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf", "+.inf",
        ".nan", "<<", "=", "",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// Whether a reader might take `s` for a number or a date: YAML 1.2 ints and floats,
/// YAML 1.1 binary/octal/hex/sexagesimal forms with `_` separators, Go's number parsing
/// (go-yaml), dates and timestamps. IPs (`10.96.0.1`), UIDs and quantities (`16Ki`) stay plain.
fn looks_numeric(s: &str) -> bool {
    if !s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return false;
    }
    let t = s.replace('_', "");
    let unsigned = t.trim_start_matches(['-', '+']);
    if unsigned.is_empty() {
        return false;
    }
    // Decimal ints and floats, `inf`, `nan`.
    if unsigned.parse::<f64>().is_ok() {
        return true;
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        let rest = unsigned
            .strip_prefix(prefix)
            .or_else(|| unsigned.strip_prefix(&prefix.to_ascii_uppercase()));
        if rest.is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(radix))) {
            return true;
        }
    }
    // Hexadecimal floats (Go's ParseFloat reads `0x1p-2`).
    if unsigned.starts_with("0x") || unsigned.starts_with("0X") {
        return true;
    }
    // Sexagesimal (YAML 1.1): `1:20`, `190:20:30.15`.
    if unsigned.contains(':')
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
    {
        return true;
    }
    // Dates and timestamps: `2026-01-15`, `2026-1-5 10:00:00`.
    let b = unsigned.as_bytes();
    b.len() >= 6 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[5].is_ascii_digit()
}

fn can_be_plain(s: &str) -> bool {
    !is_keyword(s)
        && !looks_numeric(s)
        && s.chars().all(|c| c != '\t' && is_plain_char(c))
        && !s.starts_with(|c: char| " ?:,[]{}#&*!|>'\"%@`".contains(c))
        // `-x` and `--v=2` are plain (as kubectl writes args), `-`, `- x` and `---` are not.
        && !(s.starts_with('-') && (s.len() == 1 || s[1..].starts_with(' ') || s.starts_with("---")))
        && !s.starts_with("...")
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
}

/// Writes a string in the simplest style that reads back exactly. `block_indent`: literal
/// blocks are allowed (not for keys), with their lines at that indentation.
fn scalar_string(out: &mut String, s: &str, block_indent: Option<usize>) {
    if can_be_plain(s) {
        out.push_str(s);
    } else if let Some(indent) = block_indent.filter(|_| can_be_literal(s)) {
        literal(out, s, indent);
    } else if s.chars().all(is_plain_char) {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    } else {
        double_quoted(out, s);
    }
}

fn can_be_literal(s: &str) -> bool {
    let body = s.trim_end_matches('\n');
    s.contains('\n')
        && !body.is_empty()
        // A first content line that starts with a space would need an indentation indicator.
        && !body.trim_start_matches('\n').starts_with(' ')
        && s.chars().all(|c| c == '\n' || c == '\t' || is_plain_char(c))
}

fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_plain_char(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(v: &Value) -> String {
        let mut out = String::new();
        document(&mut out, v);
        out
    }

    fn read(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    const TRICKY: &[&str] = &[
        "",
        " ",
        "plain",
        "two words",
        "yes",
        "No",
        "ON",
        "y",
        "~",
        "null",
        "true",
        "1",
        "-1",
        "0x1F",
        "012",
        "1_000",
        "1.30",
        "1e3",
        ".5",
        "2026-01-15",
        "2026-01-15T10:00:00Z",
        "1:20",
        "10.244.0.0/24",
        "16378436Ki",
        "a: b",
        "a #b",
        "#c",
        "- x",
        "-",
        "?",
        ":x",
        "x:",
        "'q'",
        "\"dq\"",
        "it's",
        "tab\there",
        " lead",
        "trail ",
        "@at",
        "`tick",
        "%pct",
        "*star",
        "&amp",
        "!bang",
        "|pipe",
        ">gt",
        "[a]",
        "{a}",
        "a,b",
        "<<",
        "=",
        "é ü ß",
        "emoji 🚀",
        "bom\u{feff}",
        "ls\u{2028}ps\u{2029}",
        "nel\u{85}",
        "ctl\u{7}\u{1b}[0m",
        "del\u{7f}",
        "line\n",
        "two\nlines",
        "ends\n\n\n",
        "\n\nleading",
        "  indented\nx",
        "crlf\r\nline",
        "trailing spaces   \nnext",
        "\n",
        "\n\n",
        "a\n \nb",
        "a\n\tb\n",
        "---",
        "...",
        "--x",
        "-x-",
        "- -",
        "...x",
        "-1x",
        "x\n---\ny\n",
        "x\n...\n",
        "# not a comment\n  deeper\n",
    ];

    #[test]
    fn tricky_strings_round_trip_everywhere() {
        for s in TRICKY {
            let mut v = json!({
                "top": s,
                "nested": {"deeper": {"value": s}},
                "list": [s, {"k": s, "other": s}, [s, s]],
            });
            v[*s] = json!("as key");
            let text = write(&v);
            assert_eq!(read(&text), v, "{s:?} written as:\n{text}");
        }
    }

    #[test]
    fn yaml_1_1_words_are_quoted_and_ordinary_text_is_not() {
        let text = write(&json!({"a": "yes", "b": "2026-01-15", "c": "1_000",
                                 "d": "kubelet is posting ready status", "e": "10.244.0.0/24",
                                 "f": "10.96.0.1", "g": "1.30", "h": "0o17", "i": "1:20",
                                 "j": "8f0e5b1a-3c2d-4e4f", "k": "3.5.16-0", "l": "-Infinity"}));
        assert_eq!(
            text,
            "a: 'yes'\nb: '2026-01-15'\nc: '1_000'\nd: kubelet is posting ready status\n\
             e: 10.244.0.0/24\nf: 10.96.0.1\ng: '1.30'\nh: '0o17'\ni: '1:20'\n\
             j: 8f0e5b1a-3c2d-4e4f\nk: 3.5.16-0\nl: '-Infinity'\n"
        );
    }

    #[test]
    fn kubectl_layout() {
        let v = json!({"metadata": {"name": "p", "labels": {}},
                       "spec": {"containers": [{"name": "c", "args": ["--v=2", "-x"]}]},
                       "text": "l1\nl2\n"});
        assert_eq!(
            write(&v),
            "metadata:\n  labels: {}\n  name: p\nspec:\n  containers:\n  - args:\n    - --v=2\n    \
             - -x\n    name: c\ntext: |\n  l1\n  l2\n"
        );
    }

    #[test]
    fn numbers_and_specials_round_trip() {
        let v = json!({"n": [u64::MAX, i64::MIN, -5, 0, 1e300, 0.1, -0.0, 1.5e-7],
                       "b": [true, false, null], "e": [[], {}], "deep": [[[1]]]});
        assert_eq!(read(&write(&v)), v);
    }

    #[test]
    fn exponents_are_written_for_yaml_1_1() {
        assert_eq!(
            write(&json!({"a": 1e300, "b": 1.5e-7})),
            "a: 1.0e+300\nb: 1.5e-7\n"
        );
    }

    #[test]
    fn very_long_keys_use_explicit_form() {
        let key = "k".repeat(1500);
        let v = json!({ key: "v" });
        assert_eq!(read(&write(&v)), v);
    }
}
