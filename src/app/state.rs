//! The app state machine: focused pane (or the findings header), a [`Cursor`] per pane and
//! for the findings, the open popup, the screens opened over the Overview (runner, lists,
//! paste box, matches, fleet, the connection doctor), the `:` command line, the terminal
//! size and the quit flag. A key is read through the active keymap into an [`Action`] of
//! the screen shown ([`actions`] says which each view handles); only text entry reads raw
//! keys. [`App::update`] is synchronous and returns [`Effect`]s as data (e.g.
//! [`Effect::RunPlaybook`]), so tests drive the app with [`Msg`]s and no terminal.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::cursor::{self, Cursor, Move};
use super::{layout, runner_lines};
use crate::config::keymap::{Action, Keymap, View};
use crate::config::palette::Theme;
use crate::health::{HealthItem, Severity};
use crate::playbooks::engine::Run;
use crate::playbooks::{self as playbooks, Playbook};

use super::model::Model;
use super::resources::{ResourceKind, ResourceList};
use super::views::{
    CommandLine, MatchList, PlaybookList, RunState, RunnerFocus, RunnerView, STRONG_MATCH, Screen,
};
use crate::playbooks::{Outcome, Query};

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

/// Selection and scroll offset of one pane: the list cursor every list uses.
pub type PaneCursor = Cursor;

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
    /// A key press: read through the keymap of the screen shown (text entry reads it as
    /// text), then handled as the [`Action`] it is bound to.
    Key(KeyEvent),
    /// An action, as if its key had been pressed.
    Action(Action),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// A new model was published.
    ModelChanged(Arc<Model>),
    /// Once a second: ages in the status line move on.
    Tick,
    /// Bracketed paste: goes into the paste box (opened from the Overview if needed), the
    /// command line or the list filter.
    Paste(String),
    /// A playbook run finished.
    PlaybookRan(Arc<Run>),
    /// A playbook could not run (no query source).
    PlaybookFailed { id: String, message: String },
    /// The producer stopped publishing; the last model stays on screen.
    SourceClosed,
    /// The answer to an [`Effect::Fetch`] (the full object of a list's YAML detail).
    Fetched { query: Query, outcome: Outcome },
    /// One context examined for the fleet view.
    FleetLine(super::fleet::FleetLine),
    /// Requests the training server logged since the last poll (`ktriage train`).
    Train(Vec<crate::server::RequestRecord>),
    /// The connection doctor's checks ran again (answers [`Effect::Recheck`]).
    Examined(Box<super::doctor::Examination>),
    /// The loop now watches this context (after [`Effect::Connect`], [`Effect::OpenDemo`]
    /// or `:ctx`): the doctor screen, if open, gives way to the Overview.
    Connected(String),
}

/// Outputs of [`App::update`], executed by the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Run the playbook with this id and answer with [`Msg::PlaybookRan`] (or
    /// [`Msg::PlaybookFailed`]).
    RunPlaybook(String),
    /// Put this text on the clipboard (system clipboard or OSC 52) and confirm it.
    Copy(String),
    /// Run this query and answer with [`Msg::Fetched`].
    Fetch(Query),
    /// Watch this kubeconfig context instead (`:ctx NAME`); the loop confirms or says why
    /// not with [`App::notify`].
    SwitchContext(String),
    /// Draw with this theme (`:theme NAME`); the loop loads it and calls [`App::set_theme`].
    SetTheme(String),
    /// Examine these contexts and answer with one [`Msg::FleetLine`] each.
    ScanFleet(Vec<String>),
    /// Run the connection doctor's checks again and answer with [`Msg::Examined`].
    Recheck,
    /// The cluster answers now: connect to it and answer with [`Msg::Connected`].
    Connect,
    /// Open the embedded demo cluster instead and answer with [`Msg::Connected`].
    OpenDemo,
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
    /// Screens opened over the Overview; the last one is shown. Esc pops.
    screens: Vec<Screen>,
    /// The `:` command line, while open.
    command: Option<CommandLine>,
    /// A one-line message from the app (unknown command, no playbook…), cleared by the
    /// next key.
    flash: Option<String>,
    /// The playbooks the app offers (the registry; tests bring their own).
    catalog: Vec<&'static Playbook>,
    /// The active keymap (the shipped default unless another one is given).
    keymap: Keymap,
    /// The namespace of `:ns` for the list views (`None`: all namespaces).
    namespace: Option<String>,
    /// What `:ctx` and `:theme` offer (Tab completion).
    contexts: Vec<String>,
    themes: Vec<String>,
    /// The findings header has the focus (instead of `focus`).
    findings_focus: bool,
    /// The selected finding and the first one visible.
    findings_cursor: PaneCursor,
    /// The user moved the focus: findings that arrive later do not take it.
    focus_moved: bool,
    /// The exercise of `ktriage train` (its panel is drawn above the Overview).
    training: Option<Box<super::train::Training>>,
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}

/// What every screen does: quit, the help, the `:` command line, back (close a popup, leave
/// the screen; nothing on the Overview itself).
pub const GLOBAL_ACTIONS: &[Action] = &[
    Action::Quit,
    Action::Help,
    Action::CommandMode,
    Action::Back,
];

/// The actions the screens of `view` handle besides [`GLOBAL_ACTIONS`]; any other action
/// bound there does nothing. The shipped keymaps bind every one of them (a test checks).
pub fn actions(view: View) -> &'static [Action] {
    use Action::*;
    match view {
        View::Global => &[],
        View::Overview => &[
            MoveUp,
            MoveDown,
            PageUp,
            PageDown,
            Top,
            Bottom,
            NextPane,
            PrevPane,
            FocusFindings,
            FocusPane1,
            FocusPane2,
            FocusPane3,
            FocusPane4,
            Open,
            PasteBox,
        ],
        View::Detail => &[MoveUp, MoveDown, Open],
        View::Runner => &[
            MoveUp, MoveDown, PageUp, PageDown, Top, Bottom, NextPane, PrevPane, Copy, Rerun,
            PasteBox,
        ],
        View::List => &[
            MoveUp,
            MoveDown,
            PageUp,
            PageDown,
            Top,
            Bottom,
            ScrollLeft,
            ScrollRight,
            Open,
            Filter,
            Sort,
            ReverseSort,
            CopyName,
            CopyYaml,
            Rerun,
            PasteBox,
        ],
        View::Doctor => &[MoveUp, MoveDown, PageUp, PageDown, Rerun, Copy, Demo],
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
            screens: Vec::new(),
            command: None,
            flash: None,
            catalog: playbooks::registry(),
            keymap: Keymap::default(),
            namespace: None,
            contexts: Vec::new(),
            themes: Vec::new(),
            findings_focus: false,
            findings_cursor: PaneCursor::default(),
            focus_moved: false,
            training: None,
        }
    }

    /// Runs an exercise: the training panel, hints, the answer and the reveal.
    pub fn with_training(mut self, training: super::train::Training) -> App {
        self.training = Some(Box::new(training));
        self
    }

    /// The exercise, in a training session.
    pub fn training(&self) -> Option<&super::train::Training> {
        self.training.as_deref()
    }

    /// The exercise's summary as of now, in a training session.
    pub fn training_summary(&self) -> Option<crate::train::summary::Summary> {
        let now = std::time::Instant::now();
        self.training.as_ref().map(|t| t.summary(now))
    }

    /// The contexts `:ctx` offers, and the themes `:theme` offers.
    pub fn with_choices(mut self, contexts: Vec<String>, themes: Vec<String>) -> App {
        self.contexts = contexts;
        self.themes = themes;
        self
    }

    /// The namespace the list views start in (`-n NAME`).
    pub fn with_namespace(mut self, namespace: Option<String>) -> App {
        self.namespace = namespace.filter(|n| !n.is_empty() && n != "all");
        self
    }

    /// Draws with another theme from now on (`:theme`).
    pub fn set_theme(&mut self, theme: Theme) {
        self.theme = theme;
        self.dirty = true;
    }

    /// Shows a one-line message until the next key.
    pub fn notify(&mut self, message: impl Into<String>) {
        self.flash = Some(message.into());
        self.dirty = true;
    }

    /// The namespace the list views show (`:ns`), `None` for all.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Draws with this theme (from `themes/*.toml`, NO_COLOR and the terminal's colours).
    pub fn with_theme(mut self, theme: Theme) -> App {
        self.theme = theme;
        self
    }

    /// Reads keys through this keymap (instead of the shipped default): a bound key does
    /// its action, an unbound key does nothing (text input — the command line, filters,
    /// the paste box — reads keys as text).
    pub fn with_keymap(mut self, keymap: Keymap) -> App {
        self.keymap = keymap;
        self
    }

    /// The keymap in use.
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    /// Shows that text was copied (and how), or why not.
    pub fn copied(&mut self, what: &str, result: Result<&str, String>) {
        let short: String = what.chars().take(60).collect();
        self.flash = Some(match result {
            Ok(via) => format!("Copied ({via}): {short}"),
            Err(e) => format!("Could not copy: {e}"),
        });
        self.dirty = true;
    }

    /// Which keymap view the current screen reads its keys from.
    pub fn keymap_view(&self) -> View {
        if matches!(self.overlay, Overlay::Detail(_)) {
            return View::Detail;
        }
        match self.screens.last() {
            Some(Screen::Runner(_)) => View::Runner,
            Some(Screen::Doctor(_)) => View::Doctor,
            Some(
                Screen::Playbooks(_) | Screen::Matches(_) | Screen::Resources(_) | Screen::Fleet(_),
            ) => View::List,
            _ => View::Overview,
        }
    }

    /// The same app offering `catalog` instead of the registry's playbooks (for tests and
    /// demos; the loop runs playbooks by id from the registry).
    pub fn with_catalog(mut self, catalog: Vec<&'static Playbook>) -> App {
        self.catalog = catalog;
        self
    }

    /// The playbooks the app offers.
    pub fn catalog(&self) -> &[&'static Playbook] {
        &self.catalog
    }

    pub fn focus(&self) -> Pane {
        self.focus
    }

    /// The findings header has the focus (Enter opens the selected finding's playbook).
    pub fn findings_focused(&self) -> bool {
        self.findings_focus
    }

    /// Selection and scroll offset of the findings.
    pub fn findings_cursor(&self) -> PaneCursor {
        self.findings_cursor
    }

    /// The verdict over health and findings of the model, as `check`'s exit code counts
    /// it (health from the problem counts taken once per model).
    pub fn level(&self) -> crate::findings::Level {
        use crate::findings::Level;
        let health = self
            .problems
            .iter()
            .map(|p| {
                if p.critical > 0 {
                    Level::Critical
                } else if p.warning + p.unknown > 0 {
                    Level::Warning
                } else {
                    Level::Ok
                }
            })
            .max()
            .unwrap_or(Level::Ok);
        health.max(self.model.findings.level())
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

    /// The app's own notice (the model's notice is shown first): the last message of the
    /// app itself, else that the source stopped.
    pub fn notice(&self) -> Option<&str> {
        self.flash
            .as_deref()
            .or(self.source_closed.then_some(SOURCE_CLOSED_NOTICE))
    }

    /// The screen shown over the Overview, if any.
    pub fn screen(&self) -> Option<&Screen> {
        self.screens.last()
    }

    /// The runner, when it is the screen shown.
    pub fn runner(&self) -> Option<&RunnerView> {
        match self.screen() {
            Some(Screen::Runner(v)) => Some(v),
            _ => None,
        }
    }

    /// The `:` command line, while open.
    pub fn command(&self) -> Option<&CommandLine> {
        self.command.as_ref()
    }

    /// Applies one message; returns what the loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => return self.on_key(key),
            Msg::Action(action) => {
                if self.flash.take().is_some() {
                    self.dirty = true;
                }
                return self.on_action(action);
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
                self.clamp_runner();
            }
            Msg::ModelChanged(model) => {
                let model = match &self.training {
                    Some(t) if t.masks() => Arc::new(super::train::mask(&model)),
                    _ => model,
                };
                let now = model.judged_at.unwrap_or_else(chrono::Utc::now);
                for screen in &mut self.screens {
                    if let Screen::Resources(list) = screen {
                        list.refresh(&model.objects.0, now);
                    }
                }
                self.reconcile(model);
                self.dirty = true;
            }
            Msg::Tick => {
                self.dirty = true;
                if let Some(id) = self
                    .training
                    .as_mut()
                    .and_then(|t| t.due_check(std::time::Instant::now()))
                {
                    return vec![Effect::RunPlaybook(id.to_string())];
                }
                let due = self.screens.iter_mut().any(|s| match s {
                    Screen::Doctor(d) => d.tick(),
                    _ => false,
                });
                if due {
                    return vec![Effect::Recheck];
                }
            }
            Msg::Examined(exam) => {
                self.dirty = true;
                let reachable = self.screens.iter_mut().any(|s| match s {
                    Screen::Doctor(d) => d.examined((*exam).clone()).is_some(),
                    _ => false,
                });
                if reachable {
                    self.flash = Some("the cluster answers now: opening the Overview…".into());
                    return vec![Effect::Connect];
                }
            }
            Msg::Connected(_) => {
                self.screens.retain(|s| !matches!(s, Screen::Doctor(_)));
                self.dirty = true;
            }
            Msg::Train(records) => {
                if let Some(t) = &mut self.training {
                    self.dirty |= t.on_requests(&records);
                }
            }
            Msg::Paste(text) => self.on_paste(text),
            Msg::PlaybookRan(run) => {
                if let Some(t) = &mut self.training {
                    t.on_run(&run);
                    self.dirty = true;
                }
                for screen in &mut self.screens {
                    if let Screen::Runner(v) = screen
                        && v.playbook.id == run.playbook.id
                        && matches!(v.state, RunState::Running)
                    {
                        v.state = RunState::Done(run.clone());
                        v.selected_command = 0;
                        v.follow_selection = false;
                        self.dirty = true;
                    }
                }
                self.clamp_runner();
            }
            Msg::PlaybookFailed { id, message } => {
                for screen in &mut self.screens {
                    if let Screen::Runner(v) = screen
                        && v.playbook.id == id
                        && matches!(v.state, RunState::Running)
                    {
                        v.state = RunState::Failed(message.clone());
                        self.dirty = true;
                    }
                }
            }
            Msg::SourceClosed => {
                self.source_closed = true;
                self.dirty = true;
            }
            Msg::FleetLine(line) => {
                for screen in &mut self.screens {
                    if let Screen::Fleet(view) = screen {
                        view.update(line.clone());
                    }
                }
                self.dirty = true;
            }
            Msg::Fetched { query, outcome } => {
                for screen in &mut self.screens {
                    match screen {
                        Screen::Resources(list) => list.fetched(&query, outcome.clone()),
                        Screen::Matches(MatchList {
                            pasted: Some(p), ..
                        }) => p.fetched(&query, &outcome),
                        _ => {}
                    }
                }
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
        if ctrl && key.code == KeyCode::Char('c') {
            return self.quit();
        }
        if self.flash.take().is_some() {
            self.dirty = true;
        }
        if let Some(effects) = self.on_training_key(key) {
            return effects;
        }
        // Text input first: there, `q`, `:` and `?` are characters.
        if self.command.is_some() {
            self.dirty = true;
            return self.on_command_key(key);
        }
        if self.overlay == Overlay::None {
            match self.screens.last_mut() {
                Some(Screen::Paste(_)) => {
                    self.dirty = true;
                    return self.on_paste_key(key);
                }
                Some(Screen::Playbooks(list)) if list.filtering => {
                    self.dirty = true;
                    return self.on_filter_key(key);
                }
                Some(Screen::Resources(list)) if list.filtering => {
                    self.dirty = true;
                    let rows = layout::list_rows(self.size.1).max(1);
                    on_resource_filter_key(list, key, rows);
                    return Vec::new();
                }
                _ => {}
            }
        }
        match self.keymap.action(self.keymap_view(), &key) {
            Some(action) => self.on_action(action),
            None => Vec::new(),
        }
    }

    /// What one action does on the screen shown. An action the screen does not handle
    /// ([`actions`]) changes nothing.
    fn on_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Quit {
            return self.quit();
        }
        if !GLOBAL_ACTIONS.contains(&action) && !actions(self.keymap_view()).contains(&action) {
            return Vec::new();
        }
        let mut effects = Vec::new();
        let handled = match &mut self.overlay {
            Overlay::Detail(detail) => match action {
                Action::Back => {
                    self.overlay = Overlay::None;
                    true
                }
                Action::MoveDown => {
                    let max = detail.item.details.len() + detail.item.playbooks.len() + 6;
                    let max = u16::try_from(max).unwrap_or(u16::MAX);
                    detail.scroll = detail.scroll.saturating_add(1).min(max);
                    true
                }
                Action::MoveUp => {
                    detail.scroll = detail.scroll.saturating_sub(1);
                    true
                }
                Action::Help => {
                    self.overlay = Overlay::Help;
                    true
                }
                Action::Open => {
                    // The finding that explains the item, or its candidates with their
                    // verdicts; the detail closes when either opens.
                    let item = detail.item.clone();
                    effects = self.open_cause(&item);
                    true
                }
                _ => false,
            },
            Overlay::Help => match action {
                Action::Back | Action::Help | Action::Open => {
                    self.overlay = Overlay::None;
                    true
                }
                _ => false,
            },
            Overlay::None => match action {
                Action::CommandMode => {
                    self.command = Some(CommandLine::default());
                    true
                }
                Action::Help => {
                    self.overlay = Overlay::Help;
                    true
                }
                Action::PasteBox if !matches!(self.screen(), Some(Screen::Matches(_))) => {
                    self.open_paste_box();
                    true
                }
                _ => match self.screens.last() {
                    None => {
                        let (handled, e) = self.on_overview_action(action);
                        effects = e;
                        handled
                    }
                    Some(_) => {
                        let (handled, e) = self.on_screen_action(action);
                        effects = e;
                        handled
                    }
                },
            },
        };
        if handled {
            self.dirty = true;
            self.rescroll();
        }
        effects
    }

    /// Actions of the screen on top of the Overview.
    fn on_screen_action(&mut self, action: Action) -> (bool, Vec<Effect>) {
        let rows = layout::list_rows(self.size.1).max(1);
        if let Some(Screen::Resources(list)) = self.screens.last_mut() {
            return match on_resource_action(list, action, rows) {
                ListKey::Handled(effects) => (true, effects),
                ListKey::Close => {
                    self.screens.pop();
                    (true, Vec::new())
                }
                ListKey::Ignored => (false, Vec::new()),
            };
        }
        if action == Action::Back && !matches!(self.screens.last(), Some(Screen::Doctor(_))) {
            self.screens.pop();
            return (true, Vec::new());
        }
        let Some(screen) = self.screens.last_mut() else {
            return (false, Vec::new());
        };
        match screen {
            Screen::Runner(_) => return self.on_runner_action(action),
            Screen::Doctor(_) => return self.on_doctor_action(action),
            Screen::Fleet(view) => match action {
                Action::Open => {
                    if let Some(context) = view.selected_context().map(str::to_string) {
                        self.screens.pop();
                        self.flash = Some(format!("switching to context {context}…"));
                        return (true, vec![Effect::SwitchContext(context)]);
                    }
                }
                Action::Rerun => {
                    view.rescan();
                    return (true, vec![Effect::ScanFleet(view.contexts())]);
                }
                _ => {
                    let Some(m) = Move::of(action) else {
                        return (false, Vec::new());
                    };
                    view.cursor.apply(m, view.lines.len(), rows);
                }
            },
            Screen::Playbooks(list) => match action {
                Action::Filter => {
                    list.filtering = true;
                }
                Action::Open => {
                    if let Some(pb) = list.selected() {
                        return (true, self.open_playbook(pb.id));
                    }
                }
                _ => {
                    let Some(m) = Move::of(action) else {
                        return (false, Vec::new());
                    };
                    list.cursor.apply(m, list.shown.len(), rows);
                }
            },
            Screen::Matches(list) => match action {
                Action::Open => {
                    if let Some(pb) = list.selected() {
                        return (true, self.open_playbook(pb.id));
                    }
                }
                Action::PasteBox => {
                    self.screens.pop();
                }
                _ => {
                    let Some(m) = Move::of(action) else {
                        return (false, Vec::new());
                    };
                    list.cursor.apply(m, list.matches.len(), rows);
                }
            },
            Screen::Paste(_) | Screen::Resources(_) => return (false, Vec::new()),
        }
        (true, Vec::new())
    }

    fn on_runner_action(&mut self, action: Action) -> (bool, Vec<Effect>) {
        let geometry = match self.runner() {
            Some(v) => runner_lines::geometry(v, &self.theme, self.size.0, self.size.1),
            None => return (false, Vec::new()),
        };
        let Some(Screen::Runner(v)) = self.screens.last_mut() else {
            return (false, Vec::new());
        };
        let commands = v.command_count();
        let page = match v.focus {
            RunnerFocus::Steps => geometry.steps_visible,
            RunnerFocus::Diagnosis => geometry.diagnosis_visible,
        }
        .max(1);
        let scroll = |value: &mut u16, delta: isize, total: usize, visible: usize| {
            let max = total.saturating_sub(visible) as isize;
            let next = (*value as isize).saturating_add(delta).clamp(0, max.max(0));
            *value = u16::try_from(next).unwrap_or(u16::MAX);
        };
        match action {
            Action::Copy => {
                return match v.selected_command() {
                    Some(cmd) => (true, vec![Effect::Copy(cmd.to_string())]),
                    None => {
                        self.flash = Some("No fix command to copy".into());
                        (true, Vec::new())
                    }
                };
            }
            Action::Rerun => {
                v.state = RunState::Running;
                v.steps_scroll = 0;
                v.diagnosis_scroll = 0;
                return (true, vec![Effect::RunPlaybook(v.playbook.id.to_string())]);
            }
            Action::NextPane | Action::PrevPane => {
                v.focus = match v.focus {
                    RunnerFocus::Steps => RunnerFocus::Diagnosis,
                    RunnerFocus::Diagnosis => RunnerFocus::Steps,
                };
            }
            Action::MoveDown | Action::MoveUp => {
                let delta: isize = if action == Action::MoveDown { 1 } else { -1 };
                match v.focus {
                    RunnerFocus::Diagnosis if commands > 0 => {
                        // The first j/k with the selected command out of view brings it in
                        // view; after that j/k move the selection.
                        let in_view = geometry.selected_row.is_some_and(|row| {
                            let top = usize::from(v.diagnosis_scroll);
                            row >= top && row < top + geometry.diagnosis_visible
                        });
                        if v.follow_selection || in_view {
                            v.selected_command = cursor::step(v.selected_command, delta, commands);
                        }
                        v.follow_selection = true;
                    }
                    RunnerFocus::Diagnosis => scroll(
                        &mut v.diagnosis_scroll,
                        delta,
                        geometry.diagnosis_rows,
                        geometry.diagnosis_visible,
                    ),
                    RunnerFocus::Steps => scroll(
                        &mut v.steps_scroll,
                        delta,
                        geometry.steps_rows,
                        geometry.steps_visible,
                    ),
                }
            }
            Action::PageDown | Action::PageUp | Action::Top | Action::Bottom => {
                let delta = Move::of(action).map_or(0, |m| m.delta(page));
                match v.focus {
                    RunnerFocus::Diagnosis => {
                        v.follow_selection = false;
                        scroll(
                            &mut v.diagnosis_scroll,
                            delta,
                            geometry.diagnosis_rows,
                            geometry.diagnosis_visible,
                        );
                    }
                    RunnerFocus::Steps => scroll(
                        &mut v.steps_scroll,
                        delta,
                        geometry.steps_rows,
                        geometry.steps_visible,
                    ),
                }
            }
            _ => return (false, Vec::new()),
        }
        self.clamp_runner();
        (true, Vec::new())
    }

    fn on_doctor_action(&mut self, action: Action) -> (bool, Vec<Effect>) {
        use super::doctor::{Choice, Reply};
        let below = self.screens.len() > 1;
        let Some(Screen::Doctor(d)) = self.screens.last_mut() else {
            return (false, Vec::new());
        };
        match d.action(action) {
            Reply::Retry => (true, vec![Effect::Recheck]),
            Reply::Done(Choice::Quit) if action == Action::Back && below => {
                self.screens.pop();
                (true, Vec::new())
            }
            Reply::Done(Choice::Quit) => (true, self.quit()),
            Reply::Done(Choice::Demo) => {
                self.flash = Some("starting the demo cluster…".into());
                (true, vec![Effect::OpenDemo])
            }
            Reply::Done(Choice::Connected) => (true, vec![Effect::Connect]),
            Reply::Copy(text) => (true, vec![Effect::Copy(text)]),
            Reply::NothingToCopy => {
                self.flash = Some("no fix command to copy".into());
                (true, Vec::new())
            }
            Reply::Redraw => (true, Vec::new()),
            Reply::Nothing => (false, Vec::new()),
        }
    }

    /// Opens the connection doctor on this examination (the cluster cannot be used); it
    /// checks again every `retry_every` seconds until the cluster answers.
    pub fn open_doctor(&mut self, exam: super::doctor::Examination, retry_every: u32) {
        let doctor = super::doctor::DoctorApp::new(exam).retrying_every(retry_every);
        self.screens.push(Screen::Doctor(Box::new(doctor)));
        self.overlay = Overlay::None;
        self.dirty = true;
    }

    /// The connection doctor is open: the session has no cluster yet.
    pub fn doctor_open(&self) -> bool {
        self.screens.iter().any(|s| matches!(s, Screen::Doctor(_)))
    }

    /// Keeps the runner's scroll offsets inside their content and, when following, the
    /// selected fix command in view.
    fn clamp_runner(&mut self) {
        let (w, h) = self.size;
        let theme = self.theme.clone();
        let Some(Screen::Runner(v)) = self.screens.last_mut() else {
            return;
        };
        let g = runner_lines::geometry(v, &theme, w, h);
        let clamp = |value: u16, total: usize, visible: usize| {
            let max = u16::try_from(total.saturating_sub(visible)).unwrap_or(u16::MAX);
            value.min(max)
        };
        if v.follow_selection
            && let Some(row) = g.selected_row
        {
            let offset = layout::scroll_offset(
                usize::from(v.diagnosis_scroll),
                row,
                g.diagnosis_rows,
                g.diagnosis_visible,
            );
            v.diagnosis_scroll = u16::try_from(offset).unwrap_or(u16::MAX);
        }
        v.diagnosis_scroll = clamp(v.diagnosis_scroll, g.diagnosis_rows, g.diagnosis_visible);
        v.steps_scroll = clamp(v.steps_scroll, g.steps_rows, g.steps_visible);
    }

    /// Opens the runner for `id` and asks the loop to run it; an unknown id is a notice.
    pub fn open_playbook(&mut self, id: &str) -> Vec<Effect> {
        if self.training.as_ref().is_some_and(|t| t.masks()) {
            self.flash = Some("during an exercise, playbooks open after your answer (A)".into());
            self.dirty = true;
            return Vec::new();
        }
        let Some(pb) = self.catalog.iter().copied().find(|p| p.id == id) else {
            self.flash = Some(format!(
                "no playbook with id \"{id}\" (:playbooks lists them)"
            ));
            self.dirty = true;
            return Vec::new();
        };
        let view = Screen::Runner(Box::new(RunnerView::new(pb)));
        // A runner replaces a runner: Esc goes back to where the user came from.
        match self.screens.last_mut() {
            Some(top @ Screen::Runner(_)) => *top = view,
            _ => self.screens.push(view),
        }
        self.overlay = Overlay::None;
        self.dirty = true;
        self.clamp_runner();
        vec![Effect::RunPlaybook(pb.id.to_string())]
    }

    fn open_paste_box(&mut self) {
        if !matches!(self.screen(), Some(Screen::Paste(_))) {
            self.screens.push(Screen::Paste(Box::default()));
        }
        self.overlay = Overlay::None;
        self.dirty = true;
    }

    fn on_paste(&mut self, text: String) {
        if let Some(cmd) = &mut self.command {
            cmd.input
                .push_str(&crate::text::clean(text.lines().next().unwrap_or("")));
            self.dirty = true;
            return;
        }
        if self.overlay != Overlay::None {
            return;
        }
        if let Some(Screen::Resources(list)) = self.screens.last_mut()
            && list.filtering
        {
            let mut filter = list.filter.clone();
            filter.push_str(&crate::text::clean(text.lines().next().unwrap_or("")));
            list.set_filter(filter);
            self.dirty = true;
            return;
        }
        if let Some(Screen::Playbooks(list)) = self.screens.last_mut()
            && list.filtering
        {
            list.filter
                .push_str(&crate::text::clean(text.lines().next().unwrap_or("")));
            list.refilter();
            self.dirty = true;
            return;
        }
        // Pasting anywhere else opens the paste box with the text.
        self.open_paste_box();
        if let Some(Screen::Paste(p)) = self.screens.last_mut() {
            // Terminals send CR for newlines in a paste.
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            p.textarea.insert_str(text);
        }
    }

    fn on_paste_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => {
                self.screens.pop();
                Vec::new()
            }
            KeyCode::Char('s') if ctrl => self.submit_paste(),
            KeyCode::Enter if alt => self.submit_paste(),
            _ => {
                if let Some(Screen::Paste(p)) = self.screens.last_mut() {
                    p.textarea.input(key);
                }
                Vec::new()
            }
        }
    }

    /// Ranks the playbooks for the pasted text: one strong match opens directly, several
    /// are listed, none is a notice.
    fn submit_paste(&mut self) -> Vec<Effect> {
        let Some(Screen::Paste(p)) = self.screens.last() else {
            return Vec::new();
        };
        let text = p.text();
        if text.trim().is_empty() {
            self.flash = Some("paste or type an error message first".into());
            return Vec::new();
        }
        let matches = crate::playbooks::engine::rank_symptoms_in(&self.catalog, &text);
        let pasted = super::views::Pasted::read(&text);
        let strong: Vec<_> = matches.iter().filter(|(_, s)| *s >= STRONG_MATCH).collect();
        // A text with subjects or a known meaning shows them beside its matches: a Forbidden
        // is reviewed for the user it names, not for whoever is logged in.
        if pasted.says_something() {
            let effects: Vec<Effect> = if pasted.denial.is_some() {
                super::views::rbac_queries()
                    .into_iter()
                    .map(Effect::Fetch)
                    .collect()
            } else {
                Vec::new()
            };
            self.screens.push(Screen::Matches(MatchList {
                matches,
                cursor: Cursor::default(),
                about: None,
                verdicts: Vec::new(),
                pasted: Some(Box::new(pasted)),
            }));
            self.dirty = true;
            return effects;
        }
        if let [(pb, _)] = strong.as_slice() {
            return self.open_playbook(pb.id);
        }
        if matches.is_empty() {
            self.flash = Some(
                "no playbook matches this text: try another line of the error, or :playbooks"
                    .into(),
            );
            return Vec::new();
        }
        self.screens.push(Screen::Matches(MatchList {
            matches,
            cursor: Cursor::default(),
            about: None,
            verdicts: Vec::new(),
            pasted: None,
        }));
        Vec::new()
    }

    /// Enter in an item's detail: the finding that explains the item opens in the runner;
    /// for an item no finding explains, the candidate playbooks (the ones it links, then the
    /// ones its reason matches) are listed with their verdicts from the last evaluation,
    /// found first, never one guess opened as if it were the cause.
    fn open_cause(&mut self, item: &crate::health::HealthItem) -> Vec<Effect> {
        let findings = &self.model.findings;
        if let Some((run, _)) = findings.explaining(item) {
            let id = run.playbook.id;
            return self.open_playbook(id);
        }
        let mut candidates: Vec<&'static Playbook> = item
            .playbooks
            .iter()
            .filter_map(|id| self.catalog.iter().copied().find(|p| p.id == id))
            .collect();
        let text = format!("{} {}", item.title, item.reason);
        for (pb, _) in crate::playbooks::engine::rank_symptoms_in(&self.catalog, &text)
            .into_iter()
            .take(5)
        {
            if !candidates.iter().any(|c| c.id == pb.id) {
                candidates.push(pb);
            }
        }
        if candidates.is_empty() {
            self.flash = Some(format!(
                "no finding explains \"{}\" and no playbook matches it (try e to paste an error, or :playbooks)",
                item.title
            ));
            return Vec::new();
        }
        let rank = |v: Option<&str>| match v {
            Some("found") => 0,
            Some("could not check") => 1,
            None => 2,
            Some(_) => 3,
        };
        let mut rows: Vec<(&'static Playbook, Option<&'static str>)> = candidates
            .into_iter()
            .map(|pb| (pb, findings.verdict_of(pb.id)))
            .collect();
        rows.sort_by_key(|(_, v)| rank(*v));
        self.overlay = Overlay::None;
        self.screens.push(Screen::Matches(MatchList {
            matches: rows.iter().map(|(pb, _)| (*pb, 1.0)).collect(),
            cursor: Cursor::default(),
            about: Some(item.title.clone()),
            verdicts: rows.iter().map(|(_, v)| *v).collect(),
            pasted: None,
        }));
        self.dirty = true;
        Vec::new()
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(Screen::Playbooks(list)) = self.screens.last_mut() else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => {
                list.filtering = false;
                list.filter.clear();
                list.refilter();
            }
            KeyCode::Enter => {
                list.filtering = false;
                if let Some(pb) = list.selected() {
                    return self.open_playbook(pb.id);
                }
            }
            KeyCode::Backspace => {
                list.filter.pop();
                list.refilter();
            }
            KeyCode::Down => list.cursor.step(1, list.shown.len()),
            KeyCode::Up => list.cursor.step(-1, list.shown.len()),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                list.filter.push(c);
                list.refilter();
            }
            _ => {}
        }
        let rows = layout::list_rows(self.size.1).max(1);
        if let Some(Screen::Playbooks(list)) = self.screens.last_mut() {
            list.cursor.scroll(list.shown.len(), rows);
        }
        Vec::new()
    }

    fn on_command_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let Some(cmd) = &mut self.command else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.command = None,
            KeyCode::Enter => {
                let input = cmd.input.trim().to_string();
                self.command = None;
                return self.execute(&input);
            }
            KeyCode::Tab => {
                let ids: Vec<String> = self.catalog.iter().map(|p| p.id.to_string()).collect();
                let namespaces = namespaces(&self.model);
                let (contexts, themes) = (&self.contexts, &self.themes);
                cmd.complete_with(|command| match command {
                    "playbook" => Some(ids.clone()),
                    "ctx" => Some(contexts.clone()),
                    "theme" => Some(themes.clone()),
                    "ns" => Some(namespaces.clone()),
                    _ => None,
                });
            }
            KeyCode::Backspace => {
                if cmd.input.pop().is_none() {
                    self.command = None;
                } else {
                    cmd.candidates.clear();
                }
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                cmd.input.push(c);
                cmd.candidates.clear();
            }
            _ => {}
        }
        Vec::new()
    }

    /// Runs a `:` command.
    fn execute(&mut self, input: &str) -> Vec<Effect> {
        let (name, arg) = match input.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (input, ""),
        };
        match name {
            "" => {}
            "q" | "quit" | "q!" => return self.quit(),
            "overview" | "o" => {
                self.screens.clear();
                self.overlay = Overlay::None;
            }
            "playbooks" | "pb" => {
                if !matches!(self.screen(), Some(Screen::Playbooks(_))) {
                    self.screens
                        .push(Screen::Playbooks(PlaybookList::new(self.catalog.clone())));
                }
                self.overlay = Overlay::None;
            }
            "playbook" if arg.is_empty() => {
                self.flash = Some("usage: :playbook ID (Tab completes the id)".into());
            }
            "playbook" => return self.open_playbook(arg),
            "explain" => self.open_paste_box(),
            "ns" | "namespace" => self.set_namespace(arg),
            "ctx" | "context" if arg.is_empty() => {
                self.flash = Some(if self.contexts.is_empty() {
                    "usage: :ctx NAME (this session watches a single cluster)".into()
                } else {
                    format!("usage: :ctx NAME (contexts: {})", self.contexts.join(", "))
                });
            }
            "ctx" | "context" => {
                if !self.contexts.is_empty() && !self.contexts.iter().any(|c| c == arg) {
                    self.flash = Some(format!(
                        "no context named \"{arg}\" in the kubeconfig (contexts: {})",
                        self.contexts.join(", ")
                    ));
                } else {
                    self.flash = Some(format!("switching to context {arg}…"));
                    return vec![Effect::SwitchContext(arg.to_string())];
                }
            }
            "theme" if arg.is_empty() => {
                self.flash = Some(format!(
                    "usage: :theme NAME (themes: {})",
                    self.themes.join(", ")
                ));
            }
            "theme" => return vec![Effect::SetTheme(arg.to_string())],
            "fleet" => {
                if self.contexts.is_empty() {
                    self.flash = Some("no kubeconfig contexts to show".into());
                } else {
                    let view = super::fleet::FleetView::new(&self.contexts, &self.model.context);
                    let contexts = view.contexts();
                    match self.screens.last_mut() {
                        Some(top @ Screen::Fleet(_)) => *top = Screen::Fleet(view),
                        _ => self.screens.push(Screen::Fleet(view)),
                    }
                    self.overlay = Overlay::None;
                    return vec![Effect::ScanFleet(contexts)];
                }
            }
            other => match ResourceKind::parse(other) {
                Some(kind) => self.open_resources(kind),
                None => {
                    self.flash = Some(format!(
                        "unknown command \":{other}\" (try :pods, :nodes, :events, :leases, :playbooks, :playbook ID, :ns NAME, :ctx NAME, :theme NAME, :q)"
                    ));
                }
            },
        }
        self.rescroll();
        Vec::new()
    }

    /// Opens a list view (replacing a list view on top: Esc goes back past it).
    fn open_resources(&mut self, kind: ResourceKind) {
        let now = self.model.judged_at.unwrap_or_else(chrono::Utc::now);
        let list = ResourceList::new(kind, self.namespace.clone(), &self.model.objects.0, now);
        let screen = Screen::Resources(Box::new(list));
        match self.screens.last_mut() {
            Some(top @ Screen::Resources(_)) => *top = screen,
            _ => self.screens.push(screen),
        }
        self.overlay = Overlay::None;
    }

    /// `:ns NAME` (`:ns all`, `:ns -A` or `:ns *` for every namespace).
    fn set_namespace(&mut self, arg: &str) {
        self.namespace = match arg {
            "" | "all" | "-A" | "*" => None,
            ns => Some(ns.to_string()),
        };
        let known = namespaces(&self.model);
        let objects = self.model.objects.0.clone();
        for screen in &mut self.screens {
            if let Screen::Resources(list) = screen {
                list.set_namespace(self.namespace.clone(), &objects);
            }
        }
        self.flash = Some(match &self.namespace {
            None => "namespace: all".into(),
            Some(ns) if known.iter().any(|k| k == ns) => format!("namespace: {ns}"),
            Some(ns) => format!("namespace: {ns} (no objects seen in it yet)"),
        });
    }

    fn on_overview_action(&mut self, action: Action) -> (bool, Vec<Effect>) {
        let has_findings = !self.model.findings.is_empty();
        if matches!(
            action,
            Action::NextPane
                | Action::PrevPane
                | Action::FocusFindings
                | Action::FocusPane1
                | Action::FocusPane2
                | Action::FocusPane3
                | Action::FocusPane4
        ) {
            self.focus_moved = true;
        }
        if self.findings_focus {
            let len = self.model.findings.len();
            let page = usize::from(layout::MAX_FINDING_ROWS);
            if let Some(m) = Move::of(action) {
                self.findings_cursor.apply(m, len, page);
                return (true, Vec::new());
            }
            match action {
                Action::Open => {
                    let id = self
                        .model
                        .findings
                        .iter()
                        .nth(self.findings_cursor.selected)
                        .map(|(r, _)| r.playbook.id);
                    return match id {
                        Some(id) => (true, self.open_playbook(id)),
                        None => (false, Vec::new()),
                    };
                }
                Action::NextPane => {
                    self.findings_focus = false;
                    self.focus = Pane::ControlPlane;
                    return (true, Vec::new());
                }
                Action::PrevPane => {
                    self.findings_focus = false;
                    self.focus = Pane::Restarts;
                    return (true, Vec::new());
                }
                _ => {}
            }
        }
        let page = self.visible_rows()[self.focus.index()].max(1);
        let pane = match action {
            Action::FocusPane1 => Some(Pane::ControlPlane),
            Action::FocusPane2 => Some(Pane::Nodes),
            Action::FocusPane3 => Some(Pane::Addons),
            Action::FocusPane4 => Some(Pane::Restarts),
            _ => None,
        };
        if let Some(pane) = pane {
            self.findings_focus = false;
            self.focus = pane;
            return (true, Vec::new());
        }
        match action {
            Action::FocusFindings if has_findings => self.findings_focus = true,
            Action::FocusFindings => {
                self.flash = Some("no findings: every playbook ruled its cause out".into());
            }
            Action::NextPane if has_findings && self.focus == Pane::Restarts => {
                self.findings_focus = true;
            }
            Action::PrevPane if has_findings && self.focus == Pane::ControlPlane => {
                self.findings_focus = true;
            }
            Action::NextPane => self.focus = self.focus.next(),
            Action::PrevPane => self.focus = self.focus.prev(),
            Action::Open => return (self.open_detail(), Vec::new()),
            _ => match Move::of(action) {
                Some(m) => {
                    let len = self.model.section(self.focus).len();
                    // The offset follows in `rescroll`, which knows every pane's height.
                    self.cursors[self.focus.index()].step(m.delta(page), len);
                }
                None => return (false, Vec::new()),
            },
        }
        (true, Vec::new())
    }

    /// Training keys: the answer box takes every key; on the Overview `H` and `A`.
    fn on_training_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let t = self.training.as_mut()?;
        if t.report_shown {
            // The report covers the screen: q leaves (the quit path), Esc goes back.
            return match key.code {
                KeyCode::Char('q') => None,
                KeyCode::Esc => {
                    t.back_from_report();
                    self.dirty = true;
                    Some(Vec::new())
                }
                _ => Some(Vec::new()),
            };
        }
        let answering = t.choosing.is_some();
        let overview = self.screens.is_empty() && self.overlay == Overlay::None;
        if !answering && (!overview || self.command.is_some()) {
            return None;
        }
        match t.on_key(key, std::time::Instant::now()) {
            super::train::TrainKey::Ignored => None,
            super::train::TrainKey::Handled => {
                self.dirty = true;
                Some(Vec::new())
            }
            super::train::TrainKey::Reveal(id) => Some(self.open_playbook(id)),
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        if let Some(t) = &mut self.training
            && t.hold_quit(std::time::Instant::now())
        {
            // The first quit of an exercise shows its report; the next one leaves.
            self.screens.clear();
            self.overlay = Overlay::None;
            self.command = None;
            self.dirty = true;
            return Vec::new();
        }
        self.quit = true;
        vec![Effect::Quit]
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
        self.reconcile_findings(&model);
        self.model = model;
    }

    /// The selected finding stays on its playbook as findings are re-ranked; findings of a
    /// problem (warning or critical) take the focus unless the user moved it; no findings,
    /// no focus there.
    fn reconcile_findings(&mut self, model: &Model) {
        let new = &model.findings;
        if new.is_empty() {
            self.findings_focus = false;
            self.findings_cursor = Cursor::default();
            return;
        }
        let old_id = self
            .model
            .findings
            .iter()
            .nth(self.findings_cursor.selected)
            .map(|(r, _)| r.playbook.id);
        let len = new.len();
        let c = &mut self.findings_cursor;
        c.keep(old_id, len, |id| {
            new.iter().position(|(r, _)| r.playbook.id == *id)
        });
        c.scroll(len, usize::from(layout::MAX_FINDING_ROWS));
        if !self.focus_moved && new.level() > crate::findings::Level::Ok {
            self.findings_focus = true;
        }
    }

    /// Rows visible in each pane at the current size.
    fn visible_rows(&self) -> [usize; 4] {
        let notice = self.model.notice.is_some() || self.notice().is_some();
        let panel = match &self.training {
            Some(_) => super::train::panel_height(self.size.1),
            None => 0,
        };
        layout::visible_rows(
            self.size.0,
            self.size.1.saturating_sub(panel),
            self.model.counts(),
            notice,
            self.model.findings.header_rows(),
        )
    }

    /// Keeps each pane's selected row inside its visible window.
    fn rescroll(&mut self) {
        let rows = self.visible_rows();
        for pane in Pane::ALL {
            let len = self.model.section(pane).len();
            self.cursors[pane.index()].scroll(len, rows[pane.index()]);
        }
    }
}

/// Two items are the same across reports when they name the same object and title.
fn same_item(a: &HealthItem, b: &HealthItem) -> bool {
    a.object == b.object && a.title == b.title
}

/// The namespaces of the objects in a model, sorted (`:ns` completion).
fn namespaces(model: &Model) -> Vec<String> {
    let state = &model.objects.0;
    let mut all: Vec<String> = state
        .pods
        .iter()
        .map(|p| p.metadata.namespace.clone().unwrap_or_default())
        .chain(
            state
                .leases
                .iter()
                .map(|l| l.metadata.namespace.clone().unwrap_or_default()),
        )
        .filter(|n| !n.is_empty())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// What a key did in a list view.
enum ListKey {
    Handled(Vec<Effect>),
    /// Esc with nothing left to close: back to the screen below.
    Close,
    Ignored,
}

/// Actions of a list view (and of its YAML detail) outside the filter line.
fn on_resource_action(list: &mut ResourceList, action: Action, rows: usize) -> ListKey {
    if let Some(detail) = &mut list.detail {
        let visible = rows;
        let max = detail.line_count().saturating_sub(visible);
        match action {
            Action::Back => list.detail = None,
            Action::MoveDown => detail.scroll = (detail.scroll + 1).min(max),
            Action::MoveUp => detail.scroll = detail.scroll.saturating_sub(1),
            Action::PageDown => detail.scroll = (detail.scroll + visible).min(max),
            Action::PageUp => detail.scroll = detail.scroll.saturating_sub(visible),
            Action::Top => detail.scroll = 0,
            Action::Bottom => detail.scroll = max,
            Action::CopyName => return ListKey::Handled(vec![Effect::Copy(detail.name.clone())]),
            Action::CopyYaml => return ListKey::Handled(vec![Effect::Copy(detail.yaml.clone())]),
            _ => return ListKey::Ignored,
        }
        return ListKey::Handled(Vec::new());
    }
    match action {
        Action::Back if !list.filter.is_empty() => list.set_filter(String::new()),
        Action::Back => return ListKey::Close,
        Action::Filter => list.filtering = true,
        Action::Open => {
            return ListKey::Handled(list.open_detail().map(Effect::Fetch).into_iter().collect());
        }
        Action::Sort => list.sort_next(false),
        Action::ReverseSort => list.sort_next(true),
        Action::ScrollLeft => list.hscroll = list.hscroll.saturating_sub(8),
        Action::ScrollRight => list.hscroll = list.hscroll.saturating_add(8).min(400),
        Action::CopyName => {
            return ListKey::Handled(list.selected_name().map(Effect::Copy).into_iter().collect());
        }
        Action::CopyYaml => {
            let kind = list.kind;
            return ListKey::Handled(
                list.selected_entry()
                    .map(|e| Effect::Copy(e.lean_yaml(kind)))
                    .into_iter()
                    .collect(),
            );
        }
        _ => {
            let Some(m) = Move::of(action) else {
                return ListKey::Ignored;
            };
            let len = list.len();
            list.cursor.step(m.delta(rows), len);
        }
    }
    let len = list.len();
    list.cursor.scroll(len, rows);
    ListKey::Handled(Vec::new())
}

/// Keys while the list's `/` filter line has the keyboard: the list narrows as you type;
/// Enter keeps the filter, Esc drops it.
fn on_resource_filter_key(list: &mut ResourceList, key: KeyEvent, rows: usize) {
    let len = list.len();
    match key.code {
        KeyCode::Esc => {
            list.filtering = false;
            list.set_filter(String::new());
        }
        KeyCode::Enter => list.filtering = false,
        KeyCode::Backspace => {
            let mut f = list.filter.clone();
            f.pop();
            list.set_filter(f);
        }
        KeyCode::Down => list.cursor.step(1, len),
        KeyCode::Up => list.cursor.step(-1, len),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            let mut f = list.filter.clone();
            f.push(c);
            list.set_filter(f);
        }
        _ => {}
    }
    let len = list.len();
    list.cursor.scroll(len, rows);
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
        app.update(key(KeyCode::Char('z')));
        assert!(!app.is_dirty(), "an unbound key changes nothing");
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

#[cfg(test)]
mod keymap_tests {
    use super::*;
    use crate::config::keymap::{self, Key};

    /// Every action a screen handles has a key in each shipped keymap, and no key is bound
    /// twice in one view, so every key that worked before the keymap drove the app works.
    #[test]
    fn shipped_keymaps_bind_every_action_each_screen_handles() {
        for (name, text) in keymap::SHIPPED {
            let map = keymap::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            for view in View::ALL.into_iter().filter(|v| *v != View::Global) {
                for action in GLOBAL_ACTIONS.iter().chain(actions(view)) {
                    assert!(
                        !map.keys_for(view, *action).is_empty(),
                        "{name}: [{}] has no key for {action}",
                        view.name()
                    );
                }
                let mut seen: Vec<Key> = Vec::new();
                for b in map.bindings(view) {
                    assert!(
                        actions(view).contains(&b.action) || GLOBAL_ACTIONS.contains(&b.action),
                        "{name}: [{}] binds {} which does nothing there",
                        view.name(),
                        b.action
                    );
                    for k in &b.keys {
                        assert!(
                            !seen.contains(k),
                            "{name}: [{}] binds {k} twice",
                            view.name()
                        );
                        seen.push(*k);
                    }
                }
            }
        }
    }

    fn press(app: &mut App, c: char) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )))
    }

    /// A user's keymap.toml (XDG_CONFIG_HOME) rebinds a key: the key does its new action
    /// and the key it replaced no longer does anything in that view.
    #[test]
    fn a_user_rebinding_drives_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let kt = dir.path().join("ktriage");
        std::fs::create_dir_all(&kt).unwrap();
        std::fs::write(
            kt.join("keymap.toml"),
            "[overview]\nkeymap = [\n  { on = \"x\", run = \"move_down\", desc = \"one row down\" },\n  { on = \"j\", run = \"bottom\", desc = \"to the end\" },\n]\n",
        )
        .unwrap();
        let env = crate::config::EnvView {
            xdg_config_home: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        let (map, warnings) = keymap::load(None, &env);
        assert!(warnings.is_empty(), "{warnings:?}");
        let mut app = App::new().with_keymap(map);
        let mut m = Model::default();
        m.report.nodes = ["a", "b", "c", "d"]
            .iter()
            .map(|n| HealthItem {
                severity: Severity::Ok,
                title: n.to_string(),
                reason: "fine".into(),
                object: Some(format!("Node/{n}")),
                playbooks: vec![],
                details: vec![],
            })
            .collect();
        app.update(Msg::ModelChanged(Arc::new(m)));
        press(&mut app, '2');
        press(&mut app, 'x');
        assert_eq!(app.cursor(Pane::Nodes).selected, 1, "x moves down one row");
        press(&mut app, 'j');
        assert_eq!(
            app.cursor(Pane::Nodes).selected,
            3,
            "j now jumps to the end"
        );
        press(&mut app, 'k');
        assert_eq!(app.cursor(Pane::Nodes).selected, 2, "k is untouched");
    }

    #[test]
    fn keys_the_old_handlers_read_raw_work_through_the_default_keymap() {
        let mut app = App::new();
        // `0` on an Overview without findings says so.
        press(&mut app, '0');
        assert!(
            app.notice().is_some_and(|n| n.contains("no findings")),
            "{:?}",
            app.notice()
        );
        // `e` opens the paste box; Esc leaves it.
        press(&mut app, 'e');
        assert!(matches!(app.screen(), Some(Screen::Paste(_))));
        app.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert!(app.screen().is_none());
        // Actions sent directly do the same as their keys.
        app.update(Msg::Action(Action::Help));
        assert_eq!(app.overlay(), &Overlay::Help);
        app.update(Msg::Action(Action::Back));
        assert_eq!(app.overlay(), &Overlay::None);
        assert_eq!(app.update(Msg::Action(Action::Quit)), vec![Effect::Quit]);
    }
}

#[cfg(test)]
mod doctor_tests {
    use super::*;
    use crate::app::doctor::Examination;
    use crate::cluster::doctor::{Observation, Probe};

    async fn refused() -> Examination {
        let observation = Observation {
            context: Some("prod".into()),
            server: "https://127.0.0.1:6443".into(),
            error: Some("dial tcp 127.0.0.1:6443: connect: connection refused".into()),
            steps: vec![Probe {
                step: "tcp".into(),
                ok: false,
                millis: 0,
                detail: "127.0.0.1:6443: connection refused".into(),
            }],
            ..Default::default()
        };
        let runs = crate::playbooks::connection::diagnose(&observation, chrono::Utc::now()).await;
        Examination {
            observation,
            runs,
            at: "12:00:00 UTC".into(),
        }
    }

    fn answers() -> Examination {
        Examination {
            observation: Observation {
                server: "https://127.0.0.1:6443".into(),
                ..Default::default()
            },
            runs: Vec::new(),
            at: "12:00:05 UTC".into(),
        }
    }

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// The doctor is a screen of the one app: its keys come from the keymap's [doctor]
    /// view, it checks again by itself, and gives way to the Overview once connected.
    #[tokio::test]
    async fn the_doctor_screen_retries_by_itself_and_opens_the_overview() {
        let mut app = App::new();
        app.open_doctor(refused().await, 2);
        assert_eq!(app.keymap_view(), View::Doctor);
        assert!(app.doctor_open());
        assert!(app.update(Msg::Tick).is_empty(), "one second: not yet");
        assert_eq!(
            app.update(Msg::Tick),
            vec![Effect::Recheck],
            "due after 2 s"
        );
        assert!(
            press(&mut app, KeyCode::Char('r')).is_empty(),
            "r while a check runs does nothing"
        );
        assert!(
            app.update(Msg::Examined(Box::new(refused().await)))
                .is_empty()
        );
        assert_eq!(press(&mut app, KeyCode::Char('r')), vec![Effect::Recheck]);
        assert_eq!(
            app.update(Msg::Examined(Box::new(answers()))),
            vec![Effect::Connect],
            "the cluster answers: connect"
        );
        app.update(Msg::Connected("prod".into()));
        assert!(!app.doctor_open());
        assert!(app.screen().is_none(), "the Overview");
    }

    #[tokio::test]
    async fn y_copies_the_fix_and_q_or_esc_leave_without_a_cluster() {
        let mut app = App::new();
        let exam = refused().await;
        let fix = exam.runs[0].finding.as_ref().unwrap().fix.commands.clone();
        assert!(!fix.is_empty());
        app.open_doctor(exam, 5);
        match press(&mut app, KeyCode::Char('y')).as_slice() {
            [Effect::Copy(text)] => assert_eq!(text.lines().count(), fix.len(), "{text}"),
            other => panic!("y gave {other:?}"),
        }
        assert_eq!(press(&mut app, KeyCode::Char('d')), vec![Effect::OpenDemo]);
        // Space scrolls the cause and fix (the [doctor] view binds it to page_down).
        press(&mut app, KeyCode::Char(' '));
        match app.screen() {
            Some(Screen::Doctor(d)) => assert_eq!(d.scroll, 5),
            other => panic!("{other:?}"),
        }
        assert_eq!(press(&mut app, KeyCode::Esc), vec![Effect::Quit]);
        assert!(app.doctor_open(), "quit with no cluster: exit code 3");
    }
}
