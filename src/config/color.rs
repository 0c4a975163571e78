//! Colour values of theme files and the terminal's colour capability: parsing
//! (`red`, `light_blue`, `#rrggbb`, `ansi:N`, `default`), the [`ColorMode`] rules, and the
//! deterministic downsampling truecolor → 256 (xterm cube and grey ramp) and → 16 (closest
//! ANSI colour by hue, see [`rgb_to_16`]).

use std::fmt;

use ratatui::style::Color;

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColorMode {
    /// No colours at all: only bold, dim, reversed, underlined and italic.
    Mono,
    /// The 16 ANSI colours (SGR 30–37, 90–97 and their backgrounds).
    Ansi16,
    /// The xterm 256-colour palette.
    Ansi256,
    /// 24-bit RGB.
    TrueColor,
}

impl ColorMode {
    /// Parses a theme's `color_mode` value; `auto` is `Ok(None)`.
    pub fn parse(s: &str) -> Result<Option<ColorMode>, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(None),
            "truecolor" | "24bit" => Ok(Some(ColorMode::TrueColor)),
            "256" => Ok(Some(ColorMode::Ansi256)),
            "16" => Ok(Some(ColorMode::Ansi16)),
            "mono" | "none" => Ok(Some(ColorMode::Mono)),
            other => Err(format!(
                "unknown color_mode {other:?}: expected auto, truecolor, 256, 16 or mono"
            )),
        }
    }

    /// What the terminal announces, for `color_mode = "auto"`:
    /// `COLORTERM=truecolor|24bit` → truecolor; else `TERM` containing `256color` → 256;
    /// `TERM=dumb` → mono; anything else (including an unset `TERM`) → 16, which every
    /// colour terminal, tmux and GNU screen show.
    pub fn detect(colorterm: Option<&str>, term: Option<&str>) -> ColorMode {
        let colorterm = colorterm.unwrap_or("").trim().to_ascii_lowercase();
        let term = term.unwrap_or("").trim().to_ascii_lowercase();
        if term == "dumb" {
            ColorMode::Mono
        } else if colorterm == "truecolor" || colorterm == "24bit" {
            ColorMode::TrueColor
        } else if term.contains("256color") {
            ColorMode::Ansi256
        } else {
            ColorMode::Ansi16
        }
    }

    /// The mode to draw with: a non-empty `NO_COLOR` always means mono (no-color.org);
    /// otherwise the theme's explicit `color_mode` wins; `auto` asks [`ColorMode::detect`].
    pub fn resolve(
        no_color: Option<&str>,
        explicit: Option<ColorMode>,
        colorterm: Option<&str>,
        term: Option<&str>,
    ) -> ColorMode {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorMode::Mono;
        }
        explicit.unwrap_or_else(|| ColorMode::detect(colorterm, term))
    }

    /// The name used in theme files.
    pub fn as_str(self) -> &'static str {
        match self {
            ColorMode::Mono => "mono",
            ColorMode::Ansi16 => "16",
            ColorMode::Ansi256 => "256",
            ColorMode::TrueColor => "truecolor",
        }
    }
}

impl fmt::Display for ColorMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The 16 ANSI colours in index order, with their theme-file names.
pub const ANSI16: [(Color, &str); 16] = [
    (Color::Black, "black"),
    (Color::Red, "red"),
    (Color::Green, "green"),
    (Color::Yellow, "yellow"),
    (Color::Blue, "blue"),
    (Color::Magenta, "magenta"),
    (Color::Cyan, "cyan"),
    (Color::Gray, "gray"),
    (Color::DarkGray, "dark_gray"),
    (Color::LightRed, "light_red"),
    (Color::LightGreen, "light_green"),
    (Color::LightYellow, "light_yellow"),
    (Color::LightBlue, "light_blue"),
    (Color::LightMagenta, "light_magenta"),
    (Color::LightCyan, "light_cyan"),
    (Color::White, "white"),
];

/// xterm's default RGB values of the 16 ANSI colours.
const ANSI16_RGB: [(u8, u8, u8); 16] = [
    (0, 0, 0),
    (205, 0, 0),
    (0, 205, 0),
    (205, 205, 0),
    (0, 0, 238),
    (205, 0, 205),
    (0, 205, 205),
    (229, 229, 229),
    (127, 127, 127),
    (255, 0, 0),
    (0, 255, 0),
    (255, 255, 0),
    (92, 92, 255),
    (255, 0, 255),
    (0, 255, 255),
    (255, 255, 255),
];

/// The six levels of each axis of the xterm 6x6x6 colour cube (indices 16–231).
const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// Parses a colour of a theme file: an ANSI name (`red`, `light_blue`, `dark_gray`,
/// `bright_red`, `grey`; `_`, `-` and spaces are ignored), `#rrggbb`, `ansi:N` (0–255) or
/// `default`/`reset` (the terminal's own colour).
pub fn parse_color(s: &str) -> Result<Color, String> {
    let raw = s.trim();
    if let Some(hex) = raw.strip_prefix('#') {
        return parse_hex(hex).ok_or_else(|| format!("bad colour {raw:?}: expected #rrggbb"));
    }
    let lower = raw.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix("ansi:") {
        return n
            .trim()
            .parse::<u8>()
            .map(ansi_index)
            .map_err(|_| format!("bad colour {raw:?}: ansi:N needs N from 0 to 255"));
    }
    let name: String = lower
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect();
    let name = name.replace("grey", "gray");
    let name = name.strip_prefix("bright").map_or(name.clone(), |rest| {
        if rest == "black" {
            "darkgray".to_string()
        } else if rest == "white" {
            "white".to_string()
        } else {
            format!("light{rest}")
        }
    });
    let color = match name.as_str() {
        "default" | "reset" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "lightgray" => Color::Gray,
        "darkgray" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        _ => {
            return Err(format!(
                "bad colour {raw:?}: expected an ANSI colour name (red, light_blue, dark_gray…), #rrggbb, ansi:N or default"
            ));
        }
    };
    Ok(color)
}

fn parse_hex(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some(Color::Rgb(byte(0)?, byte(2)?, byte(4)?))
}

/// `ansi:N`: the named colour for 0–15, an indexed colour above.
fn ansi_index(n: u8) -> Color {
    match ANSI16.get(usize::from(n)) {
        Some((c, _)) => *c,
        None => Color::Indexed(n),
    }
}

/// The theme-file spelling of a colour (inverse of [`parse_color`]).
pub fn color_to_string(color: Color) -> String {
    if let Some((_, name)) = ANSI16.iter().find(|(c, _)| *c == color) {
        return (*name).to_string();
    }
    match color {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(n) => format!("ansi:{n}"),
        _ => "default".to_string(),
    }
}

/// The colour as shown in `mode`; `None` in mono (no colour at all).
/// Truecolor keeps everything; 256 turns RGB into the nearest xterm cube or grey-ramp
/// index; 16 turns RGB and indices (via their xterm RGB) into the ANSI colour of
/// [`rgb_to_16`]. Named colours and
/// `default` pass through every mode but mono.
pub fn downsample(color: Color, mode: ColorMode) -> Option<Color> {
    match mode {
        ColorMode::Mono => None,
        ColorMode::TrueColor => Some(color),
        ColorMode::Ansi256 => Some(match color {
            Color::Rgb(r, g, b) => Color::Indexed(rgb_to_256(r, g, b)),
            other => other,
        }),
        ColorMode::Ansi16 => Some(match color {
            Color::Rgb(r, g, b) => ANSI16[usize::from(rgb_to_16(r, g, b))].0,
            Color::Indexed(n) => {
                let (r, g, b) = index_to_rgb(n);
                ANSI16[usize::from(rgb_to_16(r, g, b))].0
            }
            other => other,
        }),
    }
}

fn dist2(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs();
    d(a.0, b.0).pow(2) + d(a.1, b.1).pow(2) + d(a.2, b.2).pow(2)
}

/// The ANSI colour (0–15) closest in meaning: by hue rather than by RGB distance, so a
/// pastel green stays green and an orange becomes yellow (plain RGB distance would turn
/// Dracula's green into cyan). Rules, in order:
/// - brightness (max channel) below 48 → black;
/// - saturation below 0.25 → grey by brightness: < 64 black, < 166 dark grey,
///   < 242 grey, else white;
/// - otherwise the hue sector: red [330°, 30°), yellow [30°, 90°), green [90°, 150°),
///   cyan [150°, 210°), blue [210°, 270°), magenta [270°, 330°); the bright variant when
///   the brightest channel is 240 or more.
///
/// The xterm values of the 16 colours map back to themselves.
pub fn rgb_to_16(r: u8, g: u8, b: u8) -> u8 {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    if max < 48 {
        return 0;
    }
    let delta = f32::from(max - min);
    let saturation = delta / f32::from(max);
    if saturation < 0.25 {
        return match max {
            0..64 => 0,
            64..166 => 8,
            166..242 => 7,
            _ => 15,
        };
    }
    let (rf, gf, bf) = (f32::from(r), f32::from(g), f32::from(b));
    let hue = if max == r {
        60.0 * ((gf - bf) / delta)
    } else if max == g {
        60.0 * ((bf - rf) / delta) + 120.0
    } else {
        60.0 * ((rf - gf) / delta) + 240.0
    };
    let hue = hue.rem_euclid(360.0);
    let base: u8 = if !(30.0..330.0).contains(&hue) {
        1
    } else if hue < 90.0 {
        3
    } else if hue < 150.0 {
        2
    } else if hue < 210.0 {
        6
    } else if hue < 270.0 {
        4
    } else {
        5
    };
    if max >= 240 { base + 8 } else { base }
}

fn nearest_level(v: u8) -> usize {
    let mut best = 0;
    for (i, level) in CUBE_LEVELS.iter().enumerate() {
        if (i32::from(*level) - i32::from(v)).abs()
            < (i32::from(CUBE_LEVELS[best]) - i32::from(v)).abs()
        {
            best = i;
        }
    }
    best
}

/// The nearest xterm 256-colour index from 16 up: the 6x6x6 cube (16–231) or the grey ramp
/// (232–255), whichever is closer.
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let (ri, gi, bi) = (nearest_level(r), nearest_level(g), nearest_level(b));
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    let cube_rgb = (CUBE_LEVELS[ri], CUBE_LEVELS[gi], CUBE_LEVELS[bi]);
    let avg = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    // Grey ramp: 8, 18, …, 238.
    let gray_step = (avg.saturating_sub(3) / 10).min(23);
    let gray_value = (8 + 10 * gray_step) as u8;
    let gray_index = 232 + gray_step as usize;
    let cube_d = dist2((r, g, b), cube_rgb);
    let gray_d = dist2((r, g, b), (gray_value, gray_value, gray_value));
    if gray_d < cube_d {
        gray_index as u8
    } else {
        cube_index as u8
    }
}

/// The RGB value of an xterm 256-colour index.
pub fn index_to_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16_RGB[usize::from(n)],
        16..=231 => {
            let i = usize::from(n - 16);
            (
                CUBE_LEVELS[i / 36],
                CUBE_LEVELS[(i / 6) % 6],
                CUBE_LEVELS[i % 6],
            )
        }
        _ => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

/// True when `color` is emitted as a 16-colour SGR code (or as the terminal default).
pub fn is_ansi16(color: Color) -> bool {
    color == Color::Reset || ANSI16.iter().any(|(c, _)| *c == color)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_spellings() {
        assert_eq!(parse_color("red"), Ok(Color::Red));
        assert_eq!(parse_color("Light_Blue"), Ok(Color::LightBlue));
        assert_eq!(parse_color("bright-red"), Ok(Color::LightRed));
        assert_eq!(parse_color("grey"), Ok(Color::Gray));
        assert_eq!(parse_color("dark_gray"), Ok(Color::DarkGray));
        assert_eq!(parse_color("#F8f8f2"), Ok(Color::Rgb(0xf8, 0xf8, 0xf2)));
        assert_eq!(parse_color("ansi:3"), Ok(Color::Yellow));
        assert_eq!(parse_color("ansi:208"), Ok(Color::Indexed(208)));
        assert_eq!(parse_color("default"), Ok(Color::Reset));
        assert!(parse_color("#12345").is_err());
        assert!(parse_color("ansi:256").is_err());
        assert!(parse_color("redd").is_err());
    }

    #[test]
    fn spelling_round_trips() {
        for c in [
            Color::LightCyan,
            Color::Rgb(1, 2, 3),
            Color::Indexed(99),
            Color::Reset,
        ] {
            assert_eq!(parse_color(&color_to_string(c)), Ok(c));
        }
    }

    #[test]
    fn detect_rules() {
        assert_eq!(
            ColorMode::detect(Some("truecolor"), Some("xterm")),
            ColorMode::TrueColor
        );
        assert_eq!(ColorMode::detect(Some("24bit"), None), ColorMode::TrueColor);
        assert_eq!(
            ColorMode::detect(None, Some("tmux-256color")),
            ColorMode::Ansi256
        );
        assert_eq!(ColorMode::detect(None, Some("screen")), ColorMode::Ansi16);
        assert_eq!(ColorMode::detect(None, None), ColorMode::Ansi16);
        assert_eq!(
            ColorMode::detect(Some("truecolor"), Some("dumb")),
            ColorMode::Mono
        );
    }

    #[test]
    fn no_color_beats_everything_but_must_be_non_empty() {
        let explicit = Some(ColorMode::TrueColor);
        assert_eq!(
            ColorMode::resolve(Some("1"), explicit, None, None),
            ColorMode::Mono
        );
        assert_eq!(
            ColorMode::resolve(Some(""), explicit, None, None),
            ColorMode::TrueColor
        );
        assert_eq!(
            ColorMode::resolve(None, Some(ColorMode::Ansi16), Some("truecolor"), None),
            ColorMode::Ansi16
        );
    }

    #[test]
    fn index_rgb_round_trip() {
        for n in 16..=255u8 {
            let (r, g, b) = index_to_rgb(n);
            assert_eq!(rgb_to_256(r, g, b), n, "index {n}");
        }
        for n in 0..16u8 {
            let (r, g, b) = index_to_rgb(n);
            assert_eq!(rgb_to_16(r, g, b), n);
        }
    }
}
