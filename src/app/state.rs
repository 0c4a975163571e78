//! The app state machine: focused pane, selection and scroll offset per pane, the open
//! popup, the terminal size and the quit flag. [`App::update`] is synchronous and returns
//! [`Effect`]s as data, so tests drive the app with [`Msg`]s and no terminal.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::health::{HealthItem, Severity};
use crate::ui::layout;
use crate::ui::theme::Theme;

use super::model::Model;

/// One of the four Overview panes, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    ControlPlane,
    Nodes,
    Addons,
    Restarts,
}

impl Pane {
    /// All panes in display (and Tab) order.
    pub const ALL: [Pane; 4] = [
        Pane::ControlPlane,
        Pane::Nodes,
        Pane::Addons,
        Pane::Restarts,
    ];

    /// Position in [`Pane::ALL`] (and in `HealthReport::sections()`).
    pub fn index(self) -> usize {
        match self {
            Pane::ControlPlane => 0,
            Pane::Nodes => 1,
            Pane::Addons => 2,
            Pane::Restarts => 3,
        }
    }

    /// The pane's exact title.
    pub fn title(self) -> &'static str {
        match self {
            Pane::ControlPlane => "Control plane",
            Pane::Nodes => "Nodes",
            Pane::Addons => "Add-ons",
            Pane::Restarts => "Restarts",
        }
    }

    fn from_index(i: usize) -> Pane {
        Pane::ALL[i % Pane::ALL.len()]
    }

    fn next(self) -> Pane {
        Pane::from_index(self.index() + 1)
    }

    fn prev(self) -> Pane {
        Pane::from_index(self.index() + Pane::ALL.len() - 1)
    }
}

/// Selection and scroll offset of one pane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaneCursor {
    /// Index of the selected item.
    pub selected: usize,
    /// Index of the first visible item.
    pub offset: usize,
}

/// Counts of the items that are not ok in one pane (shown in the pane's title, so a
/// problem below the visible rows is not missed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Problems {
    pub critical: usize,
    pub warning: usize,
    pub unknown: usize,
}

impl Problems {
    fn count(items: &[HealthItem]) -> Problems {
        let mut p = Problems::default();
        for item in items {
            match item.severity {
                Severity::Critical => p.critical += 1,
                Severity::Warning => p.warning += 1,
                Severity::Unknown => p.unknown += 1,
                Severity::Ok => {}
            }
        }
        p
    }
}

/// The open detail popup: a copy of the item taken when it was opened, refreshed when a
/// new model still holds the same item.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub pane: Pane,
    pub item: HealthItem,
    /// The item is no longer in the newest report; the popup shows its last known state.
    pub gone: bool,
    /// First visible line of the popup's text.
    pub scroll: u16,
}

/// What is drawn over the panes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Overlay {
    #[default]
    None,
    Detail(Detail),
    Help,
}

/// Inputs of [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// A new model was published.
    ModelChanged(Arc<Model>),
    /// Once a second: ages in the status line move on.
    Tick,
    /// Bracketed paste (no paste target yet: ignored).
    Paste(String),
    /// The producer stopped publishing; the last model stays on screen.
    SourceClosed,
}

/// Outputs of [`App::update`], executed by the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
}

/// The state of the TUI apart from the model it draws.
#[derive(Debug, Clone)]
pub struct App {
    focus: Pane,
    cursors: [PaneCursor; 4],
    overlay: Overlay,
    size: (u16, u16),
    quit: bool,
    dirty: bool,
    source_closed: bool,
    model: Arc<Model>,
    /// Non-ok items per pane in `model`, counted once per model (not per frame).
    problems: [Problems; 4],
    theme: Theme,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

/// The notice shown when the producer stops.
pub const SOURCE_CLOSED_NOTICE: &str = "data source stopped: showing the last report";

impl App {
    /// A fresh app: 80x24, first pane focused, empty model, nothing drawn yet.
    pub fn new() -> App {
        App {
            focus: Pane::ControlPlane,
            cursors: [PaneCursor::default(); 4],
            overlay: Overlay::None,
            size: (80, 24),
            quit: false,
            dirty: true,
            source_closed: false,
            model: Arc::new(Model::default()),
            problems: [Problems::default(); 4],
            theme: Theme::default(),
        }
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    pub fn cursor(&self, pane: Pane) -> PaneCursor {
        self.cursors[pane.index()]
    }

    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }

    /// The open detail popup, if any.
    pub fn detail(&self) -> Option<&Detail> {
        match &self.overlay {
            Overlay::Detail(d) => Some(d),
            _ => None,
        }
    }

    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    /// Below the minimum size only a message is drawn.
    pub fn too_small(&self) -> bool {
        layout::too_small(self.size.0, self.size.1)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Something visible changed since the last [`App::mark_drawn`].
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// How many items of `pane` are not ok, in the model of the last
    /// [`Msg::ModelChanged`].
    pub fn problems(&self, pane: Pane) -> Problems {
        self.problems[pane.index()]
    }

    /// The model of the last [`Msg::ModelChanged`].
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The app's own notice (the model's notice is shown first).
    pub fn notice(&self) -> Option<&str> {
        self.source_closed.then_some(SOURCE_CLOSED_NOTICE)
    }

    /// Applies one message; returns what the loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.on_key(key),
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
            }
            Msg::ModelChanged(model) => {
                self.reconcile(model);
                self.dirty = true;
            }
            Msg::Tick => self.dirty = true,
            Msg::Paste(_) => {}
            Msg::SourceClosed => {
                self.source_closed = true;
                self.dirty = true;
            }
        }
        self.rescroll();
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return self.quit(),
            KeyCode::Char('q') if !ctrl => return self.quit(),
            _ => {}
        }
        if ctrl {
            return Vec::new();
        }
        let handled = match &mut self.overlay {
            // Enter stays free here: it will open the item's playbook.
            Overlay::Detail(detail) => match key.code {
                KeyCode::Esc => {
                    self.overlay = Overlay::None;
                    true
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    let max = detail.item.details.len() + detail.item.playbooks.len() + 6;
                    let max = u16::try_from(max).unwrap_or(u16::MAX);
                    detail.scroll = detail.scroll.saturating_add(1).min(max);
                    true
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    detail.scroll = detail.scroll.saturating_sub(1);
                    true
                }
                KeyCode::Char('?') => {
                    self.overlay = Overlay::Help;
                    true
                }
                _ => false,
            },
            Overlay::Help => match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => {
                    self.overlay = Overlay::None;
                    true
                }
                _ => false,
            },
            Overlay::None => self.on_overview_key(key.code),
        };
        if handled {
            self.dirty = true;
            self.rescroll();
        }
        Vec::new()
    }

    fn on_overview_key(&mut self, code: KeyCode) -> bool {
        let page = self.visible_rows()[self.focus.index()].max(1);
        match code {
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::PageDown => self.move_selection(page as isize),
            KeyCode::PageUp => self.move_selection(-(page as isize)),
            KeyCode::Home | KeyCode::Char('g') => self.move_selection(isize::MIN),
            KeyCode::End | KeyCode::Char('G') => self.move_selection(isize::MAX),
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.prev(),
            KeyCode::Char(c @ '1'..='4') => {
                self.focus = Pane::from_index(c as usize - '1' as usize);
            }
            KeyCode::Enter => return self.open_detail(),
            KeyCode::Char('?') => self.overlay = Overlay::Help,
            _ => return false,
        }
        true
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quit = true;
        vec![Effect::Quit]
    }

    fn move_selection(&mut self, delta: isize) {
        let len = self.model.section(self.focus).len();
        let cursor = &mut self.cursors[self.focus.index()];
        if len == 0 {
            cursor.selected = 0;
            return;
        }
        let target = (cursor.selected as isize).saturating_add(delta);
        cursor.selected = target.clamp(0, len as isize - 1) as usize;
    }

    fn open_detail(&mut self) -> bool {
        let pane = self.focus;
        let selected = self.cursors[pane.index()].selected;
        match self.model.section(pane).get(selected) {
            Some(item) => {
                self.overlay = Overlay::Detail(Detail {
                    pane,
                    item: item.clone(),
                    gone: false,
                    scroll: 0,
                });
                true
            }
            None => false,
        }
    }

    /// Takes a new model: each pane keeps its selected item if it is still there (items
    /// move as the report changes), else the selection is clamped; the detail popup is
    /// refreshed or marked gone.
    fn reconcile(&mut self, model: Arc<Model>) {
        for pane in Pane::ALL {
            let cursor = &mut self.cursors[pane.index()];
            let new_items = model.section(pane);
            let kept = self
                .model
                .section(pane)
                .get(cursor.selected)
                .and_then(|old| {
                    // Usually the item has not moved: check its old place first.
                    match new_items.get(cursor.selected) {
                        Some(new) if same_item(old, new) => Some(cursor.selected),
                        _ => new_items.iter().position(|new| same_item(old, new)),
                    }
                });
            cursor.selected = match kept {
                Some(i) => i,
                None => cursor.selected.min(new_items.len().saturating_sub(1)),
            };
        }
        if let Overlay::Detail(detail) = &mut self.overlay {
            match model
                .section(detail.pane)
                .iter()
                .find(|new| same_item(&detail.item, new))
            {
                Some(item) => {
                    detail.item = item.clone();
                    detail.gone = false;
                }
                None => detail.gone = true,
            }
        }
        self.problems = Pane::ALL.map(|pane| Problems::count(model.section(pane)));
        self.model = model;
    }

    /// Rows visible in each pane at the current size.
    fn visible_rows(&self) -> [usize; 4] {
        let notice = self.model.notice.is_some() || self.notice().is_some();
        layout::visible_rows(self.size.0, self.size.1, self.model.counts(), notice)
    }

    /// Keeps each pane's selected row inside its visible window.
    fn rescroll(&mut self) {
        let rows = self.visible_rows();
        for pane in Pane::ALL {
            let len = self.model.section(pane).len();
            let cursor = &mut self.cursors[pane.index()];
            cursor.offset =
                layout::scroll_offset(cursor.offset, cursor.selected, len, rows[pane.index()]);
        }
    }
}

/// Two items are the same across reports when they name the same object and title.
fn same_item(a: &HealthItem, b: &HealthItem) -> bool {
    a.object == b.object && a.title == b.title
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str) -> HealthItem {
        HealthItem {
            severity: Severity::Ok,
            title: title.to_string(),
            reason: "fine".to_string(),
            object: Some(format!("Node/{title}")),
            playbooks: vec![],
            details: vec![],
        }
    }

    fn model_with_nodes(names: &[&str]) -> Arc<Model> {
        let mut m = Model::default();
        m.report.nodes = names.iter().map(|n| item(n)).collect();
        Arc::new(m)
    }

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn selection_follows_its_item_when_the_report_reorders() {
        let mut app = App::new();
        app.update(Msg::ModelChanged(model_with_nodes(&["a", "b", "c"])));
        app.update(key(KeyCode::Char('2')));
        app.update(key(KeyCode::Char('j')));
        assert_eq!(app.cursor(Pane::Nodes).selected, 1);
        app.update(Msg::ModelChanged(model_with_nodes(&["x", "c", "a", "b"])));
        assert_eq!(app.cursor(Pane::Nodes).selected, 3, "still on node b");
    }

    #[test]
    fn selection_clamps_when_items_disappear_and_detail_is_marked_gone() {
        let mut app = App::new();
        app.update(Msg::ModelChanged(model_with_nodes(&["a", "b", "c"])));
        app.update(key(KeyCode::Char('2')));
        app.update(key(KeyCode::End));
        app.update(key(KeyCode::Enter));
        app.update(Msg::ModelChanged(model_with_nodes(&["a"])));
        assert_eq!(app.cursor(Pane::Nodes).selected, 0);
        let detail = app.detail().unwrap();
        assert_eq!(detail.item.title, "c");
        assert!(detail.gone);
    }

    #[test]
    fn key_release_and_unknown_keys_do_not_dirty() {
        let mut app = App::new();
        app.mark_drawn();
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert!(app.update(Msg::Key(release)).is_empty());
        assert!(app.update(key(KeyCode::Char('z'))).is_empty());
        assert!(!app.is_dirty());
        assert!(!app.should_quit());
    }

    #[test]
    fn ticks_and_new_models_ask_for_a_redraw() {
        let mut app = App::new();
        app.mark_drawn();
        app.update(Msg::Tick);
        assert!(app.is_dirty(), "ages in the status line move on");
        app.mark_drawn();
        app.update(Msg::ModelChanged(model_with_nodes(&["a"])));
        assert!(app.is_dirty());
        app.mark_drawn();
        app.update(Msg::Paste("ignored for now".into()));
        assert!(!app.is_dirty());
        app.update(key(KeyCode::Char('j')));
        assert!(app.is_dirty());
    }

    #[test]
    fn ctrl_c_quits_even_with_a_popup_open() {
        let mut app = App::new();
        app.update(key(KeyCode::Char('?')));
        assert_eq!(app.overlay(), &Overlay::Help);
        let effects = app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(effects, vec![Effect::Quit]);
    }

    #[test]
    fn enter_on_an_empty_pane_opens_nothing() {
        let mut app = App::new();
        app.update(key(KeyCode::Enter));
        assert_eq!(app.overlay(), &Overlay::None);
    }
}
