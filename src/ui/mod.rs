//! Views and widgets drawn with ratatui from the app state and the newest model: the
//! Overview (the findings header and four health panes), the status and notice lines, the detail and help popups,
//! the playbook runner, the playbook list, the paste box and its matches, the `:` command
//! line, and the "terminal too small" message. Colours come only from [`theme::Theme`].
//!
//! Drawing reads the state and never changes it; the work per frame depends on the
//! visible rows, not on the number of items.

pub mod doctor;
mod findings;
mod fleet;
pub mod lists;
mod overview;
mod popup;
pub mod resources;
pub mod runner;
mod status;
pub mod train;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal, backend::TestBackend};

use crate::app::layout;
use crate::app::{App, Model, Overlay, Screen};
use crate::text;

pub use status::{SyncTone, sync_summary};

/// Draws the whole screen for `app` and `model`.
pub fn draw(frame: &mut Frame, app: &App, model: &Model) {
    let area = frame.area();
    if layout::too_small(area.width, area.height) {
        popup::draw_too_small(frame, app.theme());
        return;
    }
    let theme = app.theme();
    if let Some(t) = app.training()
        && t.report_shown
    {
        train::draw_report(frame, t, theme);
        return;
    }
    let bottom = match app.screen() {
        None => {
            // An exercise's panel goes above the Overview.
            let area = match app.training() {
                Some(t) => {
                    let (panel, rest) = train::split(area);
                    train::draw_panel(frame, panel, t, theme);
                    rest
                }
                None => area,
            };
            let notice = model.notice.is_some() || app.notice().is_some();
            let screen =
                layout::screen_layout(area, model.counts(), notice, model.findings.header_rows());
            match app.training() {
                Some(t) if t.masks() => train::draw_findings_hidden(frame, screen.findings, theme),
                _ => findings::draw_findings(frame.buffer_mut(), app, model, &screen),
            }
            overview::draw_panes(frame, app, model, &screen);
            if let Some(notice_area) = screen.notice {
                status::draw_notice(frame, notice_area, app, model);
            }
            status::draw_status(frame, screen.status, app, model);
            screen.status
        }
        Some(Screen::Runner(view)) => runner::draw_runner(frame, view, theme, app.notice()),
        Some(Screen::Playbooks(list)) => lists::draw_playbooks(frame, list, theme, app.notice()),
        Some(Screen::Paste(paste)) => lists::draw_paste(frame, paste, theme, app.notice()),
        Some(Screen::Matches(list)) => lists::draw_matches(frame, list, theme, app.notice()),
        Some(Screen::Fleet(view)) => fleet::draw_fleet(frame, view, theme, app.notice()),
        Some(Screen::Doctor(doctor)) => doctor::draw_screen(frame, doctor, app.notice()),
        Some(Screen::Resources(list)) => {
            resources::draw_resources(frame, list, app.namespace(), theme, app.notice())
        }
    };
    match app.overlay() {
        Overlay::None => {}
        Overlay::Detail(detail) => popup::draw_detail(frame, detail, &model.findings, theme),
        Overlay::Help => popup::draw_help(frame, theme, app.keymap(), app.keymap_view()),
    }
    if let Some(t) = app.training() {
        train::draw_choices(frame, t, theme);
    }
    if let Some(cmd) = app.command() {
        lists::draw_command(frame, bottom, cmd, theme);
    }
}

/// Renders one frame into a buffer of `width` x `height` cells, without a terminal (for
/// tests, golden screens and screenshots).
pub fn render_to_buffer(app: &App, model: &Model, width: u16, height: u16) -> Buffer {
    let mut buffer = Buffer::empty(Rect::new(0, 0, width, height));
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let Ok(frame) = terminal.draw(|frame| draw(frame, app, model));
    buffer.clone_from(frame.buffer);
    buffer
}

/// The text of a buffer, one string per row, without styles; a wide character appears
/// once (the cell it hides is skipped): for golden screens and for asserting on what a
/// user would read.
pub fn buffer_lines(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut line = String::new();
            let mut x = area.left();
            while x < area.right() {
                let symbol = buffer[(x, y)].symbol();
                line.push_str(symbol);
                x = x.saturating_add(u16::try_from(text::width(symbol).max(1)).unwrap_or(1));
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::text::Line;

    /// The help is generated from the active keymap: a key rebound in the user's
    /// keymap.toml (XDG_CONFIG_HOME) shows with its new description, and the key it took
    /// over is no longer listed for its old action.
    #[test]
    fn help_follows_a_user_rebinding() {
        use crate::config::keymap;
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let dir = tempfile::tempdir().unwrap();
        let kt = dir.path().join("ktriage");
        std::fs::create_dir_all(&kt).unwrap();
        std::fs::write(
            kt.join("keymap.toml"),
            "[overview]\nkeymap = [\n  { on = \"x\", run = \"paste_box\", desc = \"explain an error (x)\" },\n  { on = \"e\", run = \"top\", desc = \"to the top (e)\" },\n]\n[global]\nkeymap = [\n  { on = \"<F1>\", run = \"help\", desc = \"keys, please\" },\n]\n",
        )
        .unwrap();
        let env = crate::config::EnvView {
            xdg_config_home: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let (map, warnings) = keymap::load(None, &env);
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut app = App::new().with_keymap(map);
        let model = Model::default();
        app.update(crate::app::Msg::Resize(100, 36));
        app.update(crate::app::Msg::Key(KeyEvent::new(
            KeyCode::F(1),
            KeyModifiers::NONE,
        )));
        assert_eq!(app.overlay(), &Overlay::Help, "F1 opens the help");
        let text = buffer_lines(&render_to_buffer(&app, &model, 100, 36)).join("\n");
        assert!(
            text.lines()
                .any(|l| l.contains(" x ") && l.contains("explain an error (x)")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("<F1>") && l.contains("keys, please")),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains(" e ") && l.contains("to the top (e)")),
            "{text}"
        );
        assert!(
            !text
                .lines()
                .any(|l| l.contains(" e ") && l.contains("paste an error") && !l.contains("in ")),
            "e is still listed on the Overview:\n{text}"
        );
        // And x does what the help says.
        app.update(crate::app::Msg::Key(KeyEvent::new(
            KeyCode::Esc,
            KeyModifiers::NONE,
        )));
        app.update(crate::app::Msg::Key(KeyEvent::new(
            KeyCode::Char('x'),
            KeyModifiers::NONE,
        )));
        assert!(matches!(app.screen(), Some(Screen::Paste(_))));
    }

    #[test]
    fn buffer_lines_show_wide_characters_once() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 2));
        buf.set_line(0, 0, &Line::raw("節點-a"), 8);
        buf.set_line(0, 1, &Line::raw("ok"), 8);
        assert_eq!(buffer_lines(&buf), vec!["節點-a  ", "ok      "]);
    }
}
