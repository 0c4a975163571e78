//! Theme files (`themes/*.toml`): parsing and validation with file and line in every error,
//! the colour mode, user themes layered on shipped ones, and the construction of the UI's
//! [`Theme`].
//!
//! A theme file:
//!
//! ```toml
//! description = "Dark background, 16 ANSI colours"
//! color_mode = "auto"            # auto | truecolor | 256 | 16 | mono
//!
//! [palette]                      # optional names for colours, usable in roles
//! green = "#50fa7b"
//!
//! [roles]                        # ok warning critical unknown muted accent selection border title text
//! ok = { fg = "green" }
//! warning = { fg = "yellow", modifiers = ["bold"] }
//! selection = { bg = "dark_gray", modifiers = ["bold"] }
//! ```
//!
//! Colours: ANSI names (`red`, `light_blue`, `dark_gray`…), `#rrggbb`, `ansi:N`, `default`,
//! or a palette name (looked up first, so a palette entry `red` shadows the ANSI red; `ansi:1`
//! still means it). Modifiers: `bold`, `dim`, `reversed`, `underlined`, `italic`.
//!
//! Loading: the shipped theme of the asked name (default `default-dark`), then
//! `$XDG_CONFIG_HOME/ktriage/themes/NAME.toml` on top, replacing only the roles (and palette
//! entries) it sets; a user theme with a new name starts from `default-dark`. Colour mode:
//! see [`ColorMode::resolve`]. In mono a role that had a background gets reversed video,
//! so the selection stays visible without colour.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use super::color::{ColorMode, downsample, parse_color};
use super::palette::Theme;
use super::{ConfigError, ConfigWarning, EnvView, read_optional};

/// The theme used when none is named.
pub const DEFAULT_THEME: &str = "default-dark";

/// The shipped themes: name and file text.
pub const SHIPPED: [(&str, &str); 5] = [
    (
        "default-dark",
        include_str!("../../themes/default-dark.toml"),
    ),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("sixteen", include_str!("../../themes/sixteen.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The semantic roles, as spelled in theme files (the fields of [`Theme`]).
pub const ROLES: [&str; 10] = [
    "ok",
    "warning",
    "critical",
    "unknown",
    "muted",
    "accent",
    "selection",
    "border",
    "title",
    "text",
];

/// The shipped file text of a theme, if there is one by that name.
pub fn shipped(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The label of a shipped file in messages.
pub fn shipped_label(name: &str) -> String {
    format!("<shipped>/themes/{name}.toml")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)]
    name: Option<String>,
    description: Option<String>,
    color_mode: Option<Spanned<String>>,
    #[serde(default)]
    palette: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    roles: BTreeMap<String, Spanned<RawRole>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    fg: Option<Spanned<String>>,
    bg: Option<Spanned<String>>,
    #[serde(default)]
    modifiers: Vec<Spanned<String>>,
}

/// One role as written in a file, colours resolved (before the colour mode applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoleStyle {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub modifiers: Modifier,
}

/// A validated theme: what the files say, independent of the terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThemeSpec {
    pub description: Option<String>,
    /// `None`: not set in the file(s); `Some(None)`: `auto`.
    pub color_mode: Option<Option<ColorMode>>,
    /// Role name → style; roles missing here are plain.
    pub roles: BTreeMap<String, RoleStyle>,
}

/// One parsed (not yet resolved) layer: the file's text kept for line numbers.
struct Layer {
    file: String,
    text: String,
    raw: RawFile,
}

fn parse_layer(file: &str, text: &str) -> Result<Layer, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::toml(file, text, &e))?;
    Ok(Layer {
        file: file.to_string(),
        text: text.to_string(),
        raw,
    })
}

fn parse_modifier(s: &str) -> Option<Modifier> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "reversed" | "reverse" => Modifier::REVERSED,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "italic" => Modifier::ITALIC,
        _ => return None,
    })
}

/// Resolves layers bottom-up: later layers replace whole roles and palette entries.
fn resolve(layers: &[&Layer]) -> Result<ThemeSpec, ConfigError> {
    let mut spec = ThemeSpec::default();
    // Palette entries are literal colours; roles may name them.
    let mut palette: BTreeMap<String, Color> = BTreeMap::new();
    for layer in layers {
        let err = |span: std::ops::Range<usize>, msg: String| {
            ConfigError::at(&layer.file, &layer.text, Some(span.start), msg)
        };
        for (name, value) in &layer.raw.palette {
            let color = parse_color(value.get_ref())
                .map_err(|m| err(value.span(), format!("palette entry {name:?}: {m}")))?;
            palette.insert(name.clone(), color);
        }
        if let Some(mode) = &layer.raw.color_mode {
            let parsed = ColorMode::parse(mode.get_ref()).map_err(|m| err(mode.span(), m))?;
            spec.color_mode = Some(parsed);
        }
        if layer.raw.description.is_some() {
            spec.description.clone_from(&layer.raw.description);
        }
        for (role, raw) in &layer.raw.roles {
            if !ROLES.contains(&role.as_str()) {
                return Err(err(
                    raw.span(),
                    format!("unknown role {role:?}; the roles are {}", ROLES.join(", ")),
                ));
            }
            let color = |v: &Option<Spanned<String>>| -> Result<Option<Color>, ConfigError> {
                let Some(v) = v else { return Ok(None) };
                if let Some(c) = palette.get(v.get_ref().trim()) {
                    return Ok(Some(*c));
                }
                parse_color(v.get_ref())
                    .map(Some)
                    .map_err(|m| err(v.span(), format!("role {role:?}: {m} or a palette name")))
            };
            let r = raw.get_ref();
            let mut style = RoleStyle {
                fg: color(&r.fg)?,
                bg: color(&r.bg)?,
                modifiers: Modifier::empty(),
            };
            for m in &r.modifiers {
                let modifier = parse_modifier(m.get_ref()).ok_or_else(|| {
                    err(
                        m.span(),
                        format!(
                            "role {role:?}: unknown modifier {:?}; expected bold, dim, reversed, underlined or italic",
                            m.get_ref()
                        ),
                    )
                })?;
                style.modifiers |= modifier;
            }
            spec.roles.insert(role.clone(), style);
        }
    }
    Ok(spec)
}

/// Parses and validates one theme file on its own. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<ThemeSpec, ConfigError> {
    resolve(&[&parse_layer(file, text)?])
}

fn role_style(role: Option<&RoleStyle>, mode: ColorMode) -> Style {
    let Some(role) = role else {
        return Style::new();
    };
    let mut style = Style::new();
    if let Some(fg) = role.fg.and_then(|c| downsample(c, mode)) {
        style = style.fg(fg);
    }
    if let Some(bg) = role.bg.and_then(|c| downsample(c, mode)) {
        style = style.bg(bg);
    }
    let mut modifiers = role.modifiers;
    if mode == ColorMode::Mono && role.bg.is_some_and(|c| c != Color::Reset) {
        modifiers |= Modifier::REVERSED;
    }
    if !modifiers.is_empty() {
        style = style.add_modifier(modifiers);
    }
    style
}

/// The UI theme of `spec` drawn in `mode`.
pub fn build(spec: &ThemeSpec, mode: ColorMode) -> Theme {
    let get = |role: &str| role_style(spec.roles.get(role), mode);
    Theme {
        ok: get("ok"),
        warning: get("warning"),
        critical: get("critical"),
        unknown: get("unknown"),
        muted: get("muted"),
        accent: get("accent"),
        selection: get("selection"),
        border: get("border"),
        title: get("title"),
        text: get("text"),
    }
}

/// A loaded theme with what was decided about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedTheme {
    /// The name that was loaded (`default-dark` when the asked one was not found).
    pub name: String,
    /// The colour mode the theme is drawn in.
    pub mode: ColorMode,
    pub theme: Theme,
}

/// Loads the theme `name` (default `default-dark`). Never fails: problems become warnings
/// and the shipped default is used instead.
pub fn load(name: Option<&str>, env: &EnvView) -> (Theme, Vec<ConfigWarning>) {
    let (loaded, warnings) = load_full(name, env);
    (loaded.theme, warnings)
}

/// The path of the user's theme file `name`.
pub fn user_theme_path(name: &str, env: &EnvView) -> Option<PathBuf> {
    env.config_dir()
        .map(|d| d.join("themes").join(format!("{name}.toml")))
}

/// [`load`], also telling the colour mode and the name actually used.
pub fn load_full(name: Option<&str>, env: &EnvView) -> (LoadedTheme, Vec<ConfigWarning>) {
    let mut warnings = Vec::new();
    let asked = name.unwrap_or(DEFAULT_THEME);
    let valid_name = !asked.is_empty()
        && asked
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !asked.starts_with('.');

    let mut user: Option<(String, String)> = None;
    if valid_name && let Some(path) = user_theme_path(asked, env) {
        match read_optional(&path) {
            Ok(Some(text)) => user = Some((path.display().to_string(), text)),
            Ok(None) => {}
            Err(e) => warnings.push(e.into()),
        }
    }
    let base_name = if valid_name && shipped(asked).is_some() {
        asked
    } else {
        if user.is_none() {
            warnings.push(ConfigWarning {
                file: user_theme_path(asked, env)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| format!("themes/{asked}.toml")),
                line: None,
                message: format!(
                    "no theme named {asked:?} (shipped: {}); using {DEFAULT_THEME}",
                    SHIPPED.map(|(n, _)| n).join(", ")
                ),
            });
        }
        DEFAULT_THEME
    };
    let base_text = shipped(base_name).unwrap_or_default();
    let base = match parse_layer(&shipped_label(base_name), base_text) {
        Ok(layer) => layer,
        Err(e) => {
            warnings.push(e.into());
            let mode = resolve_mode(None, env);
            return (
                LoadedTheme {
                    name: DEFAULT_THEME.to_string(),
                    mode,
                    theme: Theme::default_dark(),
                },
                warnings,
            );
        }
    };
    let mut name_used = base_name.to_string();
    let user_layer = user.and_then(|(file, text)| {
        parse_layer(&file, &text)
            .map_err(|e| warnings.push(e.into()))
            .ok()
    });
    let mut spec = None;
    if let Some(user_layer) = &user_layer {
        match resolve(&[&base, user_layer]) {
            Ok(s) => {
                name_used = asked.to_string();
                spec = Some(s);
            }
            Err(e) => warnings.push(e.into()),
        }
    }
    if spec.is_none() {
        spec = resolve(&[&base]).map_err(|e| warnings.push(e.into())).ok();
    }
    let (theme, mode) = match spec {
        Some(spec) => {
            let mode = resolve_mode(spec.color_mode.flatten(), env);
            (build(&spec, mode), mode)
        }
        None => (Theme::default_dark(), resolve_mode(None, env)),
    };
    (
        LoadedTheme {
            name: name_used,
            mode,
            theme,
        },
        warnings,
    )
}

/// The colour mode for a theme's explicit mode in this environment.
pub fn resolve_mode(explicit: Option<ColorMode>, env: &EnvView) -> ColorMode {
    ColorMode::resolve(
        env.no_color.as_deref(),
        explicit,
        env.colorterm.as_deref(),
        env.term.as_deref(),
    )
}

/// A theme that can be loaded, for `ktriage theme list` and `:theme` completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeInfo {
    pub name: String,
    pub description: String,
    /// `shipped`, or the user file's path (a user file of a shipped name overrides it).
    pub source: String,
}

/// The shipped themes and the user's `themes/*.toml`, sorted by name.
pub fn list(env: &EnvView) -> Vec<ThemeInfo> {
    let describe = |text: &str| {
        toml::from_str::<RawFile>(text)
            .ok()
            .and_then(|r| r.description)
            .unwrap_or_default()
    };
    let mut all: BTreeMap<String, ThemeInfo> = SHIPPED
        .iter()
        .map(|(name, text)| {
            (
                name.to_string(),
                ThemeInfo {
                    name: name.to_string(),
                    description: describe(text),
                    source: "shipped".to_string(),
                },
            )
        })
        .collect();
    if let Some(dir) = env.config_dir().map(|d| d.join("themes"))
        && let Ok(entries) = std::fs::read_dir(&dir)
    {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let mut description = describe(&text);
            if description.is_empty()
                && let Some(shipped) = all.get(&name)
            {
                description.clone_from(&shipped.description);
            }
            all.insert(
                name.clone(),
                ThemeInfo {
                    name,
                    description,
                    source: path.display().to_string(),
                },
            );
        }
    }
    all.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env256() -> EnvView {
        EnvView {
            term: Some("xterm-256color".into()),
            ..EnvView::default()
        }
    }

    #[test]
    fn default_dark_file_is_the_builtin_theme() {
        let (theme, warnings) = load(None, &env256());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(theme, Theme::default_dark());
    }

    #[test]
    fn unknown_role_names_the_line() {
        let text =
            "color_mode = \"auto\"\n[roles]\nok = { fg = \"green\" }\nokay = { fg = \"red\" }\n";
        let e = parse("t.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("t.toml:4:"), "{e}");
        assert!(e.contains("okay"), "{e}");
    }

    #[test]
    fn bad_colour_and_modifier_name_the_line() {
        let text = "[roles]\nok = { fg = \"green\" }\n\nwarning = { fg = \"#ffzz00\" }\n";
        let e = parse("t.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("t.toml:4:"), "{e}");
        let text = "[roles]\nok = { fg = \"green\", modifiers = [\"blink\"] }\n";
        let e = parse("t.toml", text).unwrap_err().to_string();
        assert!(e.starts_with("t.toml:2:") && e.contains("blink"), "{e}");
    }

    #[test]
    fn palette_names_resolve() {
        let text = "[palette]\nleaf = \"#50fa7b\"\n[roles]\nok = { fg = \"leaf\" }\n";
        let spec = parse("t.toml", text).unwrap();
        assert_eq!(spec.roles["ok"].fg, Some(Color::Rgb(0x50, 0xfa, 0x7b)));
    }

    #[test]
    fn mono_reverses_roles_with_a_background() {
        let spec = parse("t", "[roles]\nselection = { bg = \"blue\" }\n").unwrap();
        let theme = build(&spec, ColorMode::Mono);
        assert_eq!(
            theme.selection,
            Style::new().add_modifier(Modifier::REVERSED)
        );
    }
}
