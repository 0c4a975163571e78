//! Renders a ratatui [`Buffer`] to a PNG image, the way a dark terminal would show it: for
//! screenshots drawn from the real drawing code, without a terminal or any system tool.
//!
//! - Font: DejaVu Sans Mono and DejaVu Sans Mono Bold from Debian's `fonts-dejavu-core`
//!   package ([`FONT_REGULAR`], [`FONT_BOLD`]), at [`FONT_PX`] pixels per em, which makes
//!   cells of 9x18 pixels. Italic is drawn upright; blinking text is drawn steady.
//! - Each cell: its background filled, its glyph drawn in its foreground colour. `REVERSED`
//!   swaps the two colours, `BOLD` uses the bold face (it never brightens the colour), `DIM`
//!   mixes the foreground halfway towards the background, `UNDERLINED` and `CROSSED_OUT`
//!   draw a one-pixel line in the foreground colour, `HIDDEN` draws no glyph.
//! - A character two columns wide is drawn over its two cells; one the font lacks is drawn
//!   as an outlined box.
//! - Box drawing (U+2500..U+257F except the diagonals) and block elements (U+2580..U+259F)
//!   are drawn as pixel lines and rectangles rather than from the font, so that borders
//!   join without gaps across cells, as in a terminal. Rounded corners are drawn square,
//!   dashed lines solid.
//! - Colours: a fixed dark-terminal palette, see [`palette`].
//!
//! The output is deterministic: the same buffer always gives the same bytes.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::style::{Color, Modifier};

/// The regular face (Debian package `fonts-dejavu-core`).
pub const FONT_REGULAR: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
/// The bold face (Debian package `fonts-dejavu-core`).
pub const FONT_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf";
/// Font size in pixels per em.
pub const FONT_PX: f32 = 15.0;

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// The fixed dark-terminal palette the screenshots use.
///
/// | ratatui colour            | RGB                                   |
/// |---------------------------|---------------------------------------|
/// | `Reset` as background     | `#1e1e1e`                             |
/// | `Reset` as foreground     | `#d4d4d4`                             |
/// | `Black` (0)               | `#000000`                             |
/// | `Red` (1)                 | `#e05252`                             |
/// | `Green` (2)               | `#3fbf74`                             |
/// | `Yellow` (3)              | `#e5c33e`                             |
/// | `Blue` (4)                | `#3b7ddd`                             |
/// | `Magenta` (5)             | `#c061cb`                             |
/// | `Cyan` (6)                | `#2ab4c8`                             |
/// | `Gray` (7)                | `#b4b4b4`                             |
/// | `DarkGray` (8)            | `#6c6c6c`                             |
/// | `LightRed` (9)            | `#ff7070`                             |
/// | `LightGreen` (10)         | `#6ee69a`                             |
/// | `LightYellow` (11)        | `#ffe66d`                             |
/// | `LightBlue` (12)          | `#6ea6ff`                             |
/// | `LightMagenta` (13)       | `#e08ee8`                             |
/// | `LightCyan` (14)          | `#5fe0f0`                             |
/// | `White` (15)              | `#ffffff`                             |
/// | `Indexed(0..=15)`         | the 16 above                          |
/// | `Indexed(16..=231)`       | xterm's 6x6x6 cube, levels 0, 95, 135, 175, 215, 255 |
/// | `Indexed(232..=255)`      | xterm's greys, 8 + 10 * (n - 232)     |
/// | `Rgb(r, g, b)`            | itself                                |
pub mod palette {
    use super::Rgb;
    use ratatui::style::Color;

    pub const BACKGROUND: Rgb = [0x1e, 0x1e, 0x1e];
    pub const FOREGROUND: Rgb = [0xd4, 0xd4, 0xd4];
    /// ANSI colours 0..=15.
    pub const ANSI: [Rgb; 16] = [
        [0x00, 0x00, 0x00],
        [0xe0, 0x52, 0x52],
        [0x3f, 0xbf, 0x74],
        [0xe5, 0xc3, 0x3e],
        [0x3b, 0x7d, 0xdd],
        [0xc0, 0x61, 0xcb],
        [0x2a, 0xb4, 0xc8],
        [0xb4, 0xb4, 0xb4],
        [0x6c, 0x6c, 0x6c],
        [0xff, 0x70, 0x70],
        [0x6e, 0xe6, 0x9a],
        [0xff, 0xe6, 0x6d],
        [0x6e, 0xa6, 0xff],
        [0xe0, 0x8e, 0xe8],
        [0x5f, 0xe0, 0xf0],
        [0xff, 0xff, 0xff],
    ];

    /// The 256-colour palette entry `n`.
    pub fn indexed(n: u8) -> Rgb {
        match n {
            0..=15 => ANSI[usize::from(n)],
            16..=231 => {
                const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
                let i = n - 16;
                [
                    LEVELS[usize::from(i / 36)],
                    LEVELS[usize::from(i / 6 % 6)],
                    LEVELS[usize::from(i % 6)],
                ]
            }
            232..=255 => {
                let v = 8 + 10 * (n - 232);
                [v, v, v]
            }
        }
    }

    /// `color` as RGB; `Reset` becomes `default` (the foreground or background colour).
    pub fn rgb(color: Color, default: Rgb) -> Rgb {
        match color {
            Color::Reset => default,
            Color::Black => ANSI[0],
            Color::Red => ANSI[1],
            Color::Green => ANSI[2],
            Color::Yellow => ANSI[3],
            Color::Blue => ANSI[4],
            Color::Magenta => ANSI[5],
            Color::Cyan => ANSI[6],
            Color::Gray => ANSI[7],
            Color::DarkGray => ANSI[8],
            Color::LightRed => ANSI[9],
            Color::LightGreen => ANSI[10],
            Color::LightYellow => ANSI[11],
            Color::LightBlue => ANSI[12],
            Color::LightMagenta => ANSI[13],
            Color::LightCyan => ANSI[14],
            Color::White => ANSI[15],
            Color::Indexed(n) => indexed(n),
            Color::Rgb(r, g, b) => [r, g, b],
        }
    }
}

/// Why the renderer could not start.
#[derive(Debug)]
pub enum RenderError {
    /// A font file is missing or unreadable.
    FontMissing { path: String, reason: String },
    /// A font file is not a font ab_glyph can read.
    FontInvalid { path: String },
    /// PNG encoding failed.
    Png(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::FontMissing { path, reason } => write!(
                f,
                "cannot read the font {path} ({reason}): install it with \
                 `apt-get install fonts-dejavu-core`"
            ),
            RenderError::FontInvalid { path } => write!(
                f,
                "{path} is not a readable TrueType font: reinstall it with \
                 `apt-get install --reinstall fonts-dejavu-core`"
            ),
            RenderError::Png(e) => write!(f, "PNG encoding failed: {e}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// An RGB image, 8 bits per channel, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Image {
    fn new(width: u32, height: u32, fill: Rgb) -> Image {
        let pixels = fill
            .iter()
            .copied()
            .cycle()
            .take(width as usize * height as usize * 3)
            .collect();
        Image {
            width,
            height,
            pixels,
        }
    }

    /// The colour of one pixel.
    pub fn pixel(&self, x: u32, y: u32) -> Rgb {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    /// Mixes `color` into the pixel with weight `alpha` (0..=1); outside the image: nothing.
    fn blend(&mut self, x: i64, y: i64, color: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let a = alpha.clamp(0.0, 1.0);
        if a <= 0.0 {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        for (c, &v) in color.iter().enumerate() {
            let old = f32::from(self.pixels[i + c]);
            self.pixels[i + c] = (old + (f32::from(v) - old) * a).round() as u8;
        }
    }

    /// Fills the rectangle `x0..x1` x `y0..y1` (exclusive ends, clipped to the image).
    fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: Rgb) {
        for y in y0.max(0)..y1.min(i64::from(self.height)) {
            for x in x0.max(0)..x1.min(i64::from(self.width)) {
                let i = (y as usize * self.width as usize + x as usize) * 3;
                self.pixels[i..i + 3].copy_from_slice(&color);
            }
        }
    }

    /// Blends `color` over the rectangle with weight `alpha`.
    fn shade(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: Rgb, alpha: f32) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.blend(x, y, color, alpha);
            }
        }
    }

    /// The image as PNG bytes (8-bit RGB, best compression, no timestamps or other
    /// varying chunks).
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let png_err = |e: png::EncodingError| RenderError::Png(e.to_string());
        let mut writer = encoder.write_header().map_err(png_err)?;
        writer.write_image_data(&self.pixels).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        Ok(out)
    }
}

/// The coverage of one glyph, relative to the top-left corner of its first cell.
#[derive(Debug, Clone)]
struct Mask {
    left: i64,
    top: i64,
    width: u32,
    coverage: Vec<f32>,
}

/// Draws buffers with the DejaVu Sans Mono faces.
pub struct Renderer {
    regular: FontVec,
    bold: FontVec,
    scale: PxScale,
    cell_w: u32,
    cell_h: u32,
    /// Baseline from the top of a cell, in pixels.
    baseline: f32,
}

fn load_font(path: &str) -> Result<FontVec, RenderError> {
    let bytes = std::fs::read(Path::new(path)).map_err(|e| RenderError::FontMissing {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    FontVec::try_from_vec(bytes).map_err(|_| RenderError::FontInvalid {
        path: path.to_string(),
    })
}

impl Renderer {
    /// Loads both faces; fails with a message naming the Debian package when one is missing.
    pub fn new() -> Result<Renderer, RenderError> {
        let regular = load_font(FONT_REGULAR)?;
        let bold = load_font(FONT_BOLD)?;
        let units_per_em = regular.units_per_em().ok_or(RenderError::FontInvalid {
            path: FONT_REGULAR.to_string(),
        })?;
        // ab_glyph scales by the height (ascent - descent); ask for FONT_PX per em.
        let scale = PxScale::from(FONT_PX * regular.height_unscaled() / units_per_em);
        let scaled = regular.as_scaled(scale);
        let advance = scaled.h_advance(regular.glyph_id('M'));
        let cell_w = advance.round().max(1.0) as u32;
        let cell_h = scaled.height().ceil().max(1.0) as u32;
        // The line box (ascent + descent) centred in the cell.
        let baseline = ((cell_h as f32 - scaled.height()) / 2.0 + scaled.ascent()).round();
        Ok(Renderer {
            regular,
            bold,
            scale,
            cell_w,
            cell_h,
            baseline,
        })
    }

    /// Width and height of one cell in pixels.
    pub fn cell_size(&self) -> (u32, u32) {
        (self.cell_w, self.cell_h)
    }

    /// Renders the whole buffer: one cell of [`Renderer::cell_size`] per buffer cell.
    pub fn render(&self, buffer: &Buffer) -> Image {
        let area = buffer.area;
        let (cw, ch) = (i64::from(self.cell_w), i64::from(self.cell_h));
        let mut image = Image::new(
            u32::from(area.width) * self.cell_w,
            u32::from(area.height) * self.cell_h,
            palette::BACKGROUND,
        );
        let mut masks: HashMap<(char, bool), Option<Mask>> = HashMap::new();
        for row in 0..area.height {
            // Backgrounds first, so a wide glyph is not covered by the next cell's fill.
            let mut cells = Vec::with_capacity(usize::from(area.width));
            for col in 0..area.width {
                let cell = &buffer[(area.x + col, area.y + row)];
                let (fg, bg) = colors(cell.fg, cell.bg, cell.modifier);
                let (x, y) = (i64::from(col) * cw, i64::from(row) * ch);
                image.fill(x, y, x + cw, y + ch, bg);
                cells.push((cell, fg, bg, x, y));
            }
            let mut hidden_until = 0u16;
            for (col, (cell, fg, _bg, x, y)) in cells.into_iter().enumerate() {
                let col = col as u16;
                if col < hidden_until {
                    continue;
                }
                let symbol = cell.symbol();
                let cols = match cell.diff_option {
                    CellDiffOption::Skip => continue,
                    CellDiffOption::ForcedWidth(n) => n.get(),
                    _ => ktriage::text::width(symbol).clamp(1, 2) as u16,
                };
                hidden_until = col + cols;
                let span = i64::from(cols) * cw;
                let modifier = cell.modifier;
                if !modifier.contains(Modifier::HIDDEN) {
                    let bold = modifier.contains(Modifier::BOLD);
                    for c in symbol.chars() {
                        self.draw_char(&mut image, &mut masks, c, bold, x, y, span, fg);
                    }
                }
                if modifier.contains(Modifier::UNDERLINED) {
                    let uy = y + self.baseline as i64 + 2;
                    image.fill(x, uy, x + span, uy + 1, fg);
                }
                if modifier.contains(Modifier::CROSSED_OUT) {
                    let sy = y + self.baseline as i64 - (ch * 3 / 10);
                    image.fill(x, sy, x + span, sy + 1, fg);
                }
            }
        }
        image
    }

    /// [`Renderer::render`] encoded as PNG.
    pub fn render_png(&self, buffer: &Buffer) -> Result<Vec<u8>, RenderError> {
        self.render(buffer).to_png()
    }

    #[allow(clippy::too_many_arguments)]
    fn draw_char(
        &self,
        image: &mut Image,
        masks: &mut HashMap<(char, bool), Option<Mask>>,
        c: char,
        bold: bool,
        x: i64,
        y: i64,
        span: i64,
        fg: Rgb,
    ) {
        if c == ' ' || c.is_control() {
            return;
        }
        let (cw, ch) = (i64::from(self.cell_w), i64::from(self.cell_h));
        if let Some(arms) = box_arms(c) {
            draw_box(image, x, y, cw, ch, arms, fg);
            return;
        }
        if draw_block(image, x, y, cw, ch, c, fg) {
            return;
        }
        let mask = masks
            .entry((c, bold))
            .or_insert_with(|| self.rasterize(c, bold, span));
        match mask {
            Some(m) => {
                for (i, &a) in m.coverage.iter().enumerate() {
                    let px = x + m.left + (i as u32 % m.width) as i64;
                    let py = y + m.top + (i as u32 / m.width) as i64;
                    image.blend(px, py, fg, a);
                }
            }
            None => {
                // Not in the font: an outlined box, like a terminal's "tofu".
                let (x0, y0, x1, y1) = (x + 1, y + 3, x + span - 1, y + ch - 3);
                image.fill(x0, y0, x1, y0 + 1, fg);
                image.fill(x0, y1 - 1, x1, y1, fg);
                image.fill(x0, y0, x0 + 1, y1, fg);
                image.fill(x1 - 1, y0, x1, y1, fg);
            }
        }
    }

    /// The coverage of `c`, centred horizontally in `span` pixels; `None` when the face has
    /// no glyph for it.
    fn rasterize(&self, c: char, bold: bool, span: i64) -> Option<Mask> {
        let font = if bold { &self.bold } else { &self.regular };
        let id = font.glyph_id(c);
        if id.0 == 0 {
            return None;
        }
        let scaled = font.as_scaled(self.scale);
        let advance = scaled.h_advance(id);
        let left = ((span as f32 - advance) / 2.0).round().max(0.0);
        let glyph = id.with_scale_and_position(self.scale, point(left, self.baseline));
        let Some(outlined) = font.outline_glyph(glyph) else {
            // A glyph without an outline (a space of some kind): nothing to draw.
            return Some(Mask {
                left: 0,
                top: 0,
                width: 1,
                coverage: Vec::new(),
            });
        };
        let bounds = outlined.px_bounds();
        let width = bounds.width() as u32;
        let height = bounds.height() as u32;
        let mut coverage = vec![0.0f32; width as usize * height as usize];
        outlined.draw(|px, py, a| {
            if px < width && py < height {
                // A light gamma lift (close to a^0.8): thin strokes of light text on a
                // dark background otherwise look fainter than in a terminal. Only + and *,
                // which IEEE 754 rounds the same everywhere, so the bytes do not depend on
                // the platform's libm.
                let a = a.clamp(0.0, 1.0);
                coverage[(py * width + px) as usize] = a + 0.3 * a * (1.0 - a);
            }
        });
        Some(Mask {
            left: bounds.min.x as i64,
            top: bounds.min.y as i64,
            width: width.max(1),
            coverage,
        })
    }
}

/// Foreground and background of a cell after `REVERSED` and `DIM`.
fn colors(fg: Color, bg: Color, modifier: Modifier) -> (Rgb, Rgb) {
    let mut fg = palette::rgb(fg, palette::FOREGROUND);
    let mut bg = palette::rgb(bg, palette::BACKGROUND);
    if modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    if modifier.contains(Modifier::DIM) {
        fg = [0, 1, 2].map(|i| ((u16::from(fg[i]) + u16::from(bg[i])) / 2) as u8);
    }
    (fg, bg)
}

/// Line weight of one arm of a box-drawing character (1 is light).
const NONE: u8 = 0;
const HEAVY: u8 = 2;
const DOUBLE: u8 = 3;

/// Arms (up, right, down, left) of U+2500..=U+257F, four digits each: 0 none, 1 light,
/// 2 heavy, 3 double. `----` marks the diagonals, drawn from the font.
const BOX_ARMS: [&str; 128] = [
    "0101", "0202", "1010", "2020", "0101", "0202", "1010", "2020", // 2500
    "0101", "0202", "1010", "2020", "0110", "0210", "0120", "0220", // 2508
    "0011", "0012", "0021", "0022", "1100", "1200", "2100", "2200", // 2510
    "1001", "1002", "2001", "2002", "1110", "1210", "2110", "1120", // 2518
    "2120", "2210", "1220", "2220", "1011", "1012", "2011", "1021", // 2520
    "2021", "2012", "1022", "2022", "0111", "0112", "0211", "0212", // 2528
    "0121", "0122", "0221", "0222", "1101", "1102", "1201", "1202", // 2530
    "2101", "2102", "2201", "2202", "1111", "1112", "1211", "1212", // 2538
    "2111", "1121", "2121", "2112", "2211", "1122", "1221", "2212", // 2540
    "1222", "2122", "2221", "2222", "0101", "0202", "1010", "2020", // 2548
    "0303", "3030", "0310", "0130", "0330", "0013", "0031", "0033", // 2550
    "1300", "3100", "3300", "1003", "3001", "3003", "1310", "3130", // 2558
    "3330", "1013", "3031", "3033", "0313", "0131", "0333", "1303", // 2560
    "3101", "3303", "1313", "3131", "3333", "0110", "0011", "1001", // 2568
    "1100", "----", "----", "----", "0001", "1000", "0100", "0010", // 2570
    "0002", "2000", "0200", "0020", "0201", "1020", "0102", "2010", // 2578
];

/// The arms of a box-drawing character, `None` for anything else.
fn box_arms(c: char) -> Option<[u8; 4]> {
    let i = (c as u32).checked_sub(0x2500)?;
    let spec = BOX_ARMS.get(i as usize)?.as_bytes();
    if spec[0] == b'-' {
        return None;
    }
    Some([0, 1, 2, 3].map(|k| spec[k] - b'0'))
}

/// Half the thickness of a light or heavy line.
fn half(weight: u8) -> i64 {
    if weight == HEAVY { 1 } else { 0 }
}

/// Draws a box-drawing character from its arms so lines meet the cell edges exactly.
///
/// Each arm runs from the cell edge towards the centre and "reaches" past it by an amount
/// that makes joins right: light and heavy arms cover the crossing line's thickness; the two
/// lines of a double arm stop at the near line of a crossing double arm (tees, crosses,
/// the inner line of a corner) or run on to its far line (the outer line of a corner).
fn draw_box(image: &mut Image, x: i64, y: i64, w: i64, h: i64, arms: [u8; 4], fg: Rgb) {
    const UP: usize = 0;
    const RIGHT: usize = 1;
    const DOWN: usize = 2;
    const LEFT: usize = 3;
    // Centre lines and the distance of a double line from them.
    let (cx, cy, g) = (w / 2, h / 2, 2);
    for dir in [UP, RIGHT, DOWN, LEFT] {
        let weight = arms[dir];
        if weight == NONE {
            continue;
        }
        let vertical = dir == UP || dir == DOWN;
        // The perpendicular arms: the one on the negative side (left of a vertical arm,
        // above a horizontal one) and the positive side; and the opposite arm.
        let (neg, pos) = if vertical {
            (arms[LEFT], arms[RIGHT])
        } else {
            (arms[UP], arms[DOWN])
        };
        let opposite = arms[(dir + 2) % 4];
        // (offset from the centre line, reach past the centre, half thickness)
        let mut lines: Vec<(i64, i64, i64)> = Vec::new();
        if weight == DOUBLE {
            for (offset, same, other) in [(-g, neg, pos), (g, pos, neg)] {
                let reach = if same == DOUBLE {
                    -g
                } else if other == DOUBLE {
                    g
                } else {
                    0
                };
                lines.push((offset, reach, 0));
            }
        } else {
            let double_across = neg == DOUBLE || pos == DOUBLE;
            let reach = if double_across && opposite == NONE {
                if neg == DOUBLE && pos == DOUBLE {
                    -g
                } else {
                    g
                }
            } else {
                half(neg).max(half(pos))
            };
            lines.push((0, reach, half(weight)));
        }
        for (offset, reach, t) in lines {
            match dir {
                UP => image.fill(
                    x + cx + offset - t,
                    y,
                    x + cx + offset + t + 1,
                    y + cy + reach + 1,
                    fg,
                ),
                DOWN => image.fill(
                    x + cx + offset - t,
                    y + cy - reach,
                    x + cx + offset + t + 1,
                    y + h,
                    fg,
                ),
                LEFT => image.fill(
                    x,
                    y + cy + offset - t,
                    x + cx + reach + 1,
                    y + cy + offset + t + 1,
                    fg,
                ),
                _ => image.fill(
                    x + cx - reach,
                    y + cy + offset - t,
                    x + w,
                    y + cy + offset + t + 1,
                    fg,
                ),
            }
        }
    }
}

/// Draws a block element (U+2580..=U+259F) as rectangles; false for other characters.
fn draw_block(image: &mut Image, x: i64, y: i64, w: i64, h: i64, c: char, fg: Rgb) -> bool {
    let eighth_h = |n: i64| h * n / 8;
    let eighth_w = |n: i64| w * n / 8;
    let (hx, hy) = (w / 2, h / 2);
    // Quadrants: upper left, upper right, lower left, lower right.
    let quads = |image: &mut Image, q: [bool; 4]| {
        let rects = [
            (0, 0, hx, hy),
            (hx, 0, w, hy),
            (0, hy, hx, h),
            (hx, hy, w, h),
        ];
        for (on, (x0, y0, x1, y1)) in q.into_iter().zip(rects) {
            if on {
                image.fill(x + x0, y + y0, x + x1, y + y1, fg);
            }
        }
    };
    match c {
        '\u{2580}' => image.fill(x, y, x + w, y + hy, fg),
        '\u{2581}'..='\u{2588}' => {
            let n = i64::from(c as u32 - 0x2580);
            image.fill(x, y + h - eighth_h(n), x + w, y + h, fg);
        }
        '\u{2589}'..='\u{258f}' => {
            let n = 8 - i64::from(c as u32 - 0x2588);
            image.fill(x, y, x + eighth_w(n), y + h, fg);
        }
        '\u{2590}' => image.fill(x + hx, y, x + w, y + h, fg),
        '\u{2591}' => image.shade(x, y, x + w, y + h, fg, 0.25),
        '\u{2592}' => image.shade(x, y, x + w, y + h, fg, 0.5),
        '\u{2593}' => image.shade(x, y, x + w, y + h, fg, 0.75),
        '\u{2594}' => image.fill(x, y, x + w, y + eighth_h(1), fg),
        '\u{2595}' => image.fill(x + w - eighth_w(1), y, x + w, y + h, fg),
        '\u{2596}' => quads(image, [false, false, true, false]),
        '\u{2597}' => quads(image, [false, false, false, true]),
        '\u{2598}' => quads(image, [true, false, false, false]),
        '\u{2599}' => quads(image, [true, false, true, true]),
        '\u{259a}' => quads(image, [true, false, false, true]),
        '\u{259b}' => quads(image, [true, true, true, false]),
        '\u{259c}' => quads(image, [true, true, false, true]),
        '\u{259d}' => quads(image, [false, true, false, false]),
        '\u{259e}' => quads(image, [false, true, true, false]),
        '\u{259f}' => quads(image, [false, true, true, true]),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn renderer() -> Renderer {
        Renderer::new().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_missing_font_names_the_debian_package() {
        let Err(e) = load_font("/nonexistent/DejaVuSansMono.ttf") else {
            panic!("a missing file loaded");
        };
        let message = e.to_string();
        assert!(
            message.contains("/nonexistent/DejaVuSansMono.ttf"),
            "{message}"
        );
        assert!(
            message.contains("apt-get install fonts-dejavu-core"),
            "{message}"
        );
    }

    #[test]
    fn cells_are_nine_by_eighteen_pixels() {
        let r = renderer();
        assert_eq!(r.cell_size(), (9, 18));
        let image = r.render(&Buffer::empty(Rect::new(0, 0, 3, 2)));
        assert_eq!((image.width, image.height), (27, 36));
        assert_eq!(image.pixel(13, 17), palette::BACKGROUND);
    }

    #[test]
    fn box_lines_join_across_cells_without_gaps() {
        let r = renderer();
        let (cw, ch) = r.cell_size();
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 3));
        for (row, text) in ["┌─═╗", "│  ║", "└──╝"].iter().enumerate() {
            buf.set_string(0, row as u16, text, Style::new().fg(Color::White));
        }
        let img = r.render(&buf);
        let white = palette::ANSI[15];
        // The light top edge: every pixel of row cy from the corner's centre to the right.
        let cy = ch / 2;
        for x in cw / 2..cw * 2 {
            assert_eq!(img.pixel(x, cy), white, "gap in ─ at x={x}");
        }
        // The light left edge runs through all three rows.
        for y in cy..ch * 2 + cy {
            assert_eq!(img.pixel(cw / 2, y), white, "gap in │ at y={y}");
        }
        // The double right edge: two columns, each continuous through the middle row.
        let x = cw * 3 + cw / 2;
        for y in ch..ch * 2 {
            assert_eq!(img.pixel(x - 2, y), white);
            assert_eq!(img.pixel(x + 2, y), white);
            assert_eq!(img.pixel(x, y), palette::BACKGROUND, "double lines merged");
        }
    }

    #[test]
    fn reversed_swaps_and_dim_fades_the_colours() {
        let (fg, bg) = colors(Color::Red, Color::Reset, Modifier::REVERSED);
        assert_eq!((fg, bg), (palette::BACKGROUND, palette::ANSI[1]));
        let (fg, _) = colors(Color::Rgb(200, 100, 0), Color::Rgb(0, 0, 0), Modifier::DIM);
        assert_eq!(fg, [100, 50, 0]);
        assert_eq!(palette::indexed(196), [255, 0, 0]);
        assert_eq!(palette::indexed(244), [128, 128, 128]);
    }

    #[test]
    fn the_same_buffer_gives_the_same_bytes_and_text_changes_them() {
        let r = renderer();
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 1));
        buf.set_string(0, 0, "ktriage", Style::new().fg(Color::Green));
        let a = r.render_png(&buf).unwrap();
        assert_eq!(a, r.render_png(&buf).unwrap());
        assert!(a.starts_with(b"\x89PNG\r\n\x1a\n"));
        buf.set_string(0, 0, "ktriagf", Style::new().fg(Color::Green));
        assert_ne!(a, r.render_png(&buf).unwrap());
    }

    #[test]
    fn bold_and_underline_are_visible() {
        let r = renderer();
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        buf.set_string(0, 0, "l", Style::new());
        buf.set_string(1, 0, "l", Style::new().add_modifier(Modifier::BOLD));
        buf.set_string(2, 0, "_", Style::new().add_modifier(Modifier::UNDERLINED));
        let img = r.render(&buf);
        let ink = |x0: u32| {
            (x0..x0 + 9)
                .flat_map(|x| (0..18).map(move |y| (x, y)))
                .map(|(x, y)| u32::from(img.pixel(x, y)[0]))
                .sum::<u32>()
        };
        assert!(ink(9) > ink(0), "bold l is not heavier than l");
        // The underline spans the whole cell.
        let uy = r.baseline as u32 + 2;
        assert!((18..27).all(|x| img.pixel(x, uy) == palette::FOREGROUND));
    }

    #[test]
    fn a_wide_character_the_font_lacks_is_a_box_over_two_cells() {
        let r = renderer();
        let mut buf = Buffer::empty(Rect::new(0, 0, 3, 1));
        buf.set_string(0, 0, "節x", Style::new());
        let img = r.render(&buf);
        // The box's top edge runs from the first cell into the second.
        assert_eq!(img.pixel(2, 3), palette::FOREGROUND);
        assert_eq!(img.pixel(15, 3), palette::FOREGROUND);
        // Its inside is background; the x after it is in the third cell.
        assert_eq!(img.pixel(9, 9), palette::BACKGROUND);
        assert!((18..27).any(|x| img.pixel(x, 10) != palette::BACKGROUND));
    }
}
