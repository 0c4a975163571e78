//! `ktriage theme import`: converts a k9s skin (k9s's own YAML format, anchors, aliases and
//! merge keys included) into a ktriage theme file.
//!
//! Mapping (first present wins):
//!
//! | ktriage role | k9s skin keys                                                        |
//! |--------------|----------------------------------------------------------------------|
//! | ok           | frame.status.addColor, frame.status.newColor                         |
//! | warning      | frame.status.pendingColor, highlightColor, modifyColor (+ bold)      |
//! | critical     | frame.status.errorColor (+ bold)                                     |
//! | unknown      | frame.status.killColor, completedColor                               |
//! | muted        | frame.status.completedColor, killColor                               |
//! | accent       | body.logoColor, frame.menu.keyColor                                  |
//! | selection    | views.table.cursorFgColor / cursorBgColor (or cursorColor) (+ bold)  |
//! | border       | frame.border.fgColor                                                 |
//! | title        | frame.title.fgColor (+ bold)                                         |
//! | text         | body.fgColor                                                         |
//!
//! Colours follow tcell, which k9s draws with: `#rrggbb`, `default` (the terminal's
//! colour), the 16 basic W3C names as ANSI colours (`red` is bright red, `maroon` red…)
//! and the other W3C/X11 names (`dodgerblue`…) as RGB. Top-level scalar colours of the
//! skin (the usual `foreground: &foreground "#f8f8f2"` anchors) become the palette.

use std::fmt::Write as _;

use ratatui::style::Color;
use serde_yaml_ng::Value;

use super::color::{ANSI16, color_to_string};

/// Why a skin could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum SkinError {
    #[error("not valid YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("not a k9s skin: no top-level `k9s:` mapping")]
    NotASkin,
}

/// A converted skin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The ktriage theme file text.
    pub toml: String,
    /// What could not be carried over (unknown colour names, missing keys).
    pub warnings: Vec<String>,
}

/// tcell's 16 basic names: ANSI indices.
const BASIC: [(&str, Color); 16] = [
    ("black", Color::Black),
    ("maroon", Color::Red),
    ("green", Color::Green),
    ("olive", Color::Yellow),
    ("navy", Color::Blue),
    ("purple", Color::Magenta),
    ("teal", Color::Cyan),
    ("silver", Color::Gray),
    ("gray", Color::DarkGray),
    ("red", Color::LightRed),
    ("lime", Color::LightGreen),
    ("yellow", Color::LightYellow),
    ("blue", Color::LightBlue),
    ("fuchsia", Color::LightMagenta),
    ("aqua", Color::LightCyan),
    ("white", Color::White),
];

/// W3C/X11 colour names tcell knows beyond the basic 16, as RGB.
const NAMED: &[(&str, u32)] = &[
    ("aliceblue", 0xf0f8ff),
    ("antiquewhite", 0xfaebd7),
    ("aquamarine", 0x7fffd4),
    ("azure", 0xf0ffff),
    ("beige", 0xf5f5dc),
    ("bisque", 0xffe4c4),
    ("blanchedalmond", 0xffebcd),
    ("blueviolet", 0x8a2be2),
    ("brown", 0xa52a2a),
    ("burlywood", 0xdeb887),
    ("cadetblue", 0x5f9ea0),
    ("chartreuse", 0x7fff00),
    ("chocolate", 0xd2691e),
    ("coral", 0xff7f50),
    ("cornflowerblue", 0x6495ed),
    ("cornsilk", 0xfff8dc),
    ("crimson", 0xdc143c),
    ("cyan", 0x00ffff),
    ("darkblue", 0x00008b),
    ("darkcyan", 0x008b8b),
    ("darkgoldenrod", 0xb8860b),
    ("darkgray", 0xa9a9a9),
    ("darkgreen", 0x006400),
    ("darkgrey", 0xa9a9a9),
    ("darkkhaki", 0xbdb76b),
    ("darkmagenta", 0x8b008b),
    ("darkolivegreen", 0x556b2f),
    ("darkorange", 0xff8c00),
    ("darkorchid", 0x9932cc),
    ("darkred", 0x8b0000),
    ("darksalmon", 0xe9967a),
    ("darkseagreen", 0x8fbc8f),
    ("darkslateblue", 0x483d8b),
    ("darkslategray", 0x2f4f4f),
    ("darkslategrey", 0x2f4f4f),
    ("darkturquoise", 0x00ced1),
    ("darkviolet", 0x9400d3),
    ("deeppink", 0xff1493),
    ("deepskyblue", 0x00bfff),
    ("dimgray", 0x696969),
    ("dimgrey", 0x696969),
    ("dodgerblue", 0x1e90ff),
    ("firebrick", 0xb22222),
    ("floralwhite", 0xfffaf0),
    ("forestgreen", 0x228b22),
    ("gainsboro", 0xdcdcdc),
    ("ghostwhite", 0xf8f8ff),
    ("gold", 0xffd700),
    ("goldenrod", 0xdaa520),
    ("greenyellow", 0xadff2f),
    ("grey", 0x808080),
    ("honeydew", 0xf0fff0),
    ("hotpink", 0xff69b4),
    ("indianred", 0xcd5c5c),
    ("indigo", 0x4b0082),
    ("ivory", 0xfffff0),
    ("khaki", 0xf0e68c),
    ("lavender", 0xe6e6fa),
    ("lavenderblush", 0xfff0f5),
    ("lawngreen", 0x7cfc00),
    ("lemonchiffon", 0xfffacd),
    ("lightblue", 0xadd8e6),
    ("lightcoral", 0xf08080),
    ("lightcyan", 0xe0ffff),
    ("lightgoldenrodyellow", 0xfafad2),
    ("lightgray", 0xd3d3d3),
    ("lightgreen", 0x90ee90),
    ("lightgrey", 0xd3d3d3),
    ("lightpink", 0xffb6c1),
    ("lightsalmon", 0xffa07a),
    ("lightseagreen", 0x20b2aa),
    ("lightskyblue", 0x87cefa),
    ("lightslategray", 0x778899),
    ("lightslategrey", 0x778899),
    ("lightsteelblue", 0xb0c4de),
    ("lightyellow", 0xffffe0),
    ("limegreen", 0x32cd32),
    ("linen", 0xfaf0e6),
    ("magenta", 0xff00ff),
    ("mediumaquamarine", 0x66cdaa),
    ("mediumblue", 0x0000cd),
    ("mediumorchid", 0xba55d3),
    ("mediumpurple", 0x9370db),
    ("mediumseagreen", 0x3cb371),
    ("mediumslateblue", 0x7b68ee),
    ("mediumspringgreen", 0x00fa9a),
    ("mediumturquoise", 0x48d1cc),
    ("mediumvioletred", 0xc71585),
    ("midnightblue", 0x191970),
    ("mintcream", 0xf5fffa),
    ("mistyrose", 0xffe4e1),
    ("moccasin", 0xffe4b5),
    ("navajowhite", 0xffdead),
    ("oldlace", 0xfdf5e6),
    ("olivedrab", 0x6b8e23),
    ("orange", 0xffa500),
    ("orangered", 0xff4500),
    ("orchid", 0xda70d6),
    ("palegoldenrod", 0xeee8aa),
    ("palegreen", 0x98fb98),
    ("paleturquoise", 0xafeeee),
    ("palevioletred", 0xdb7093),
    ("papayawhip", 0xffefd5),
    ("peachpuff", 0xffdab9),
    ("peru", 0xcd853f),
    ("pink", 0xffc0cb),
    ("plum", 0xdda0dd),
    ("powderblue", 0xb0e0e6),
    ("rebeccapurple", 0x663399),
    ("rosybrown", 0xbc8f8f),
    ("royalblue", 0x4169e1),
    ("saddlebrown", 0x8b4513),
    ("salmon", 0xfa8072),
    ("sandybrown", 0xf4a460),
    ("seagreen", 0x2e8b57),
    ("seashell", 0xfff5ee),
    ("sienna", 0xa0522d),
    ("skyblue", 0x87ceeb),
    ("slateblue", 0x6a5acd),
    ("slategray", 0x708090),
    ("slategrey", 0x708090),
    ("snow", 0xfffafa),
    ("springgreen", 0x00ff7f),
    ("steelblue", 0x4682b4),
    ("tan", 0xd2b48c),
    ("thistle", 0xd8bfd8),
    ("tomato", 0xff6347),
    ("turquoise", 0x40e0d0),
    ("violet", 0xee82ee),
    ("wheat", 0xf5deb3),
    ("whitesmoke", 0xf5f5f5),
    ("yellowgreen", 0x9acd32),
];

/// A k9s colour value as tcell reads it; `None` when unknown.
pub fn k9s_color(s: &str) -> Option<Color> {
    let name = s.trim().to_ascii_lowercase();
    if name.is_empty() || name == "default" {
        return Some(Color::Reset);
    }
    if let Some(hex) = name.strip_prefix('#') {
        if hex.len() != 6 {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(rgb(v));
    }
    if let Some((_, c)) = BASIC.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    NAMED.iter().find(|(n, _)| *n == name).map(|(_, v)| rgb(*v))
}

fn rgb(v: u32) -> Color {
    let [_, r, g, b] = v.to_be_bytes();
    Color::Rgb(r, g, b)
}

fn get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| v.get(key))
}

fn bare_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Converts the skin `yaml` into a theme file. `name` goes into the file's `name` and
/// description.
pub fn import(yaml: &str, name: &str) -> Result<Imported, SkinError> {
    let mut root: Value = serde_yaml_ng::from_str(yaml)?;
    root.apply_merge()?;
    let skin = root
        .get("k9s")
        .filter(|v| v.is_mapping())
        .ok_or(SkinError::NotASkin)?;
    let mut warnings = Vec::new();

    // Palette: top-level colour scalars (the anchors), in file order.
    let mut palette: Vec<(String, Color, String)> = Vec::new();
    if let Some(map) = root.as_mapping() {
        for (k, v) in map {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                continue;
            };
            if !bare_key(k) {
                continue;
            }
            if let Some(c) = k9s_color(v).filter(|c| *c != Color::Reset) {
                palette.push((k.to_string(), c, v.to_string()));
            }
        }
    }

    let mut color_at = |paths: &[&str]| -> Option<String> {
        for path in paths {
            let Some(v) = get(skin, path) else { continue };
            let Some(s) = v.as_str() else {
                warnings.push(format!("k9s.{path}: not a colour string; skipped"));
                continue;
            };
            let Some(c) = k9s_color(s) else {
                warnings.push(format!("k9s.{path}: unknown colour {s:?}; skipped"));
                continue;
            };
            if c == Color::Reset {
                return Some("default".to_string());
            }
            if let Some((name, _, _)) = palette.iter().find(|(_, pc, _)| *pc == c) {
                return Some(name.clone());
            }
            let spelled = color_to_string(c);
            if palette.iter().any(|(name, _, _)| *name == spelled) {
                // A palette entry shadows this ANSI name: use the index form instead.
                if let Some(i) = ANSI16.iter().position(|(a, _)| *a == c) {
                    return Some(format!("ansi:{i}"));
                }
            }
            return Some(spelled);
        }
        None
    };

    struct Role {
        fg: Option<String>,
        bg: Option<String>,
        modifiers: &'static [&'static str],
    }
    let role = |fg: Option<String>, bg: Option<String>, modifiers: &'static [&'static str]| Role {
        fg,
        bg,
        modifiers,
    };
    let status = |k: &str| format!("frame.status.{k}");
    let roles: Vec<(&str, Role)> = vec![
        (
            "ok",
            role(
                color_at(&[&status("addColor"), &status("newColor")]),
                None,
                &[],
            ),
        ),
        (
            "warning",
            role(
                color_at(&[
                    &status("pendingColor"),
                    &status("highlightColor"),
                    &status("modifyColor"),
                ]),
                None,
                &["bold"],
            ),
        ),
        (
            "critical",
            role(color_at(&[&status("errorColor")]), None, &["bold"]),
        ),
        (
            "unknown",
            role(
                color_at(&[&status("killColor"), &status("completedColor")]),
                None,
                &[],
            ),
        ),
        (
            "muted",
            role(
                color_at(&[&status("completedColor"), &status("killColor")]),
                None,
                &[],
            ),
        ),
        (
            "accent",
            role(
                color_at(&["body.logoColor", "frame.menu.keyColor"]),
                None,
                &[],
            ),
        ),
        (
            "selection",
            role(
                color_at(&["views.table.cursorFgColor"]),
                color_at(&["views.table.cursorBgColor", "views.table.cursorColor"]),
                &["bold"],
            ),
        ),
        (
            "border",
            role(color_at(&["frame.border.fgColor"]), None, &[]),
        ),
        (
            "title",
            role(color_at(&["frame.title.fgColor"]), None, &["bold"]),
        ),
        ("text", role(color_at(&["body.fgColor"]), None, &[])),
    ];

    let mut out = String::new();
    let _ = writeln!(out, "# Imported from a k9s skin by `ktriage theme import`.");
    let _ = writeln!(
        out,
        "# Roles missing from the skin are plain; severity also shows as text markers."
    );
    let _ = writeln!(out, "name = {}", quote(name));
    let _ = writeln!(
        out,
        "description = {}",
        quote(&format!("Imported k9s skin {name}"))
    );
    let _ = writeln!(out, "color_mode = \"auto\"");
    let used: Vec<&String> = roles
        .iter()
        .flat_map(|(_, r)| [r.fg.as_ref(), r.bg.as_ref()])
        .flatten()
        .collect();
    let palette: Vec<_> = palette
        .into_iter()
        .filter(|(n, _, _)| used.contains(&n))
        .collect();
    if !palette.is_empty() {
        let _ = writeln!(out, "\n[palette]");
        for (name, color, _) in &palette {
            let _ = writeln!(out, "{name} = {}", quote(&color_to_string(*color)));
        }
    }
    let _ = writeln!(out, "\n[roles]");
    for (name, r) in &roles {
        let mut parts = Vec::new();
        if let Some(fg) = &r.fg {
            parts.push(format!("fg = {}", quote(fg)));
        }
        if let Some(bg) = &r.bg {
            parts.push(format!("bg = {}", quote(bg)));
        }
        if !r.modifiers.is_empty() {
            let mods: Vec<String> = r.modifiers.iter().map(|m| quote(m)).collect();
            parts.push(format!("modifiers = [{}]", mods.join(", ")));
        }
        if r.fg.is_none() && r.bg.is_none() && *name != "title" {
            warnings.push(format!("no colour in the skin for the {name} role"));
        }
        let _ = writeln!(out, "{name} = {{ {} }}", parts.join(", "));
    }
    Ok(Imported {
        toml: out,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcell_colour_names() {
        assert_eq!(k9s_color("dodgerblue"), Some(Color::Rgb(0x1e, 0x90, 0xff)));
        assert_eq!(k9s_color("red"), Some(Color::LightRed));
        assert_eq!(k9s_color("maroon"), Some(Color::Red));
        assert_eq!(k9s_color("default"), Some(Color::Reset));
        assert_eq!(k9s_color("#FF5555"), Some(Color::Rgb(0xff, 0x55, 0x55)));
        assert_eq!(k9s_color("notacolour"), None);
    }

    #[test]
    fn ansi_names_shadowed_by_the_palette_are_spelled_by_index() {
        let yaml =
            "white: &white \"#fafafa\"\nk9s:\n  body:\n    fgColor: white\n    logoColor: *white\n";
        let out = import(yaml, "x").unwrap();
        let spec = super::super::theme::parse("x.toml", &out.toml).unwrap();
        assert_eq!(spec.roles["text"].fg, Some(Color::White), "{}", out.toml);
        assert_eq!(spec.roles["accent"].fg, Some(Color::Rgb(0xfa, 0xfa, 0xfa)));
    }

    #[test]
    fn not_a_skin() {
        assert!(matches!(import("a: 1\n", "x"), Err(SkinError::NotASkin)));
        assert!(matches!(import("k9s: [\n", "x"), Err(SkinError::Yaml(_))));
    }
}
