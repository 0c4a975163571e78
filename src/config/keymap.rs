//! Keymaps (`keymaps/*.toml`, yazi-style): every [`Action`] of the TUI bindable by name, per
//! [`View`]. Shipped: `default` (k9s-style, always loaded unless another is named) and `vim`.
//! The app reads every key through the active keymap (text entry excepted) and the help
//! is generated from it.
//!
//! ```toml
//! [overview]
//! keymap = [
//!   { on = ["j", "<Down>"], run = "move_down", desc = "Move down" },
//! ]
//! ```
//!
//! `on` is one key or a list of alternative keys for the same action (no sequences).
//! Keys: `j`, `J`, `?`, `<C-c>`, `<A-x>`, `<Enter>`, `<Esc>`, `<Tab>`, `<S-Tab>`,
//! `<Space>`, `<Backspace>`, `<Up>` `<Down>` `<Left>` `<Right>`, `<PageUp>`, `<PageDown>`,
//! `<Home>`, `<End>`, `<Delete>`, `<Insert>`, `<F1>`…`<F12>`, `<lt>` for `<`.
//! A view's bindings win over `[global]` ones.
//!
//! Loading: the keymap of the asked name (`$XDG_CONFIG_HOME/ktriage/keymaps/NAME.toml`, else
//! the shipped one, else `default`), then `$XDG_CONFIG_HOME/ktriage/keymap.toml` on top: a
//! user binding replaces whatever its keys did in that view. A view of a file with an
//! unknown action, a bad key, or one key bound to two actions is reported (file and line)
//! and ignored: that view keeps the keys it had before (in the end the shipped defaults).

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, ConfigWarning, EnvView, read_optional};

/// The keymap used when none is named.
pub const DEFAULT_KEYMAP: &str = "default";

/// The shipped keymaps: name and file text.
pub const SHIPPED: [(&str, &str); 2] = [
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    /// Everywhere, unless the current view binds the key itself.
    Global,
    /// The four-pane health Overview and its findings header.
    Overview,
    /// A playbook runner.
    Runner,
    /// The list views (nodes, pods, leases, events, playbooks, matches, fleet) and an
    /// object's YAML.
    List,
    /// The detail popup of an Overview item.
    Detail,
    /// The connection doctor (the cluster cannot be used).
    Doctor,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Global,
        View::Overview,
        View::Detail,
        View::Runner,
        View::List,
        View::Doctor,
    ];

    /// The name of the view's table in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            View::Global => "global",
            View::Overview => "overview",
            View::Runner => "runner",
            View::List => "list",
            View::Detail => "detail",
            View::Doctor => "doctor",
        }
    }

    pub fn parse(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == s)
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $desc:literal;)*) => {
        /// Everything a key can do, by the name used in `run = "..."`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),* }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name used in keymap files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            /// The help text used when a binding has no `desc`.
            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $desc),* }
            }
        }
    };
}

actions! {
    Quit => "quit", "Quit";
    Help => "help", "Show the keys";
    MoveUp => "move_up", "Move up";
    MoveDown => "move_down", "Move down";
    PageUp => "page_up", "Page up";
    PageDown => "page_down", "Page down";
    Top => "top", "Go to the first row";
    Bottom => "bottom", "Go to the last row";
    NextPane => "next_pane", "Next pane";
    PrevPane => "prev_pane", "Previous pane";
    FocusPane1 => "focus_pane_1", "Focus pane 1 (Control plane)";
    FocusPane2 => "focus_pane_2", "Focus pane 2 (Nodes)";
    FocusPane3 => "focus_pane_3", "Focus pane 3 (Add-ons)";
    FocusPane4 => "focus_pane_4", "Focus pane 4 (Restarts)";
    FocusFindings => "focus_findings", "Focus the findings";
    Open => "open", "Open the selection";
    Back => "back", "Back / close";
    CommandMode => "command_mode", "Command mode";
    Filter => "filter", "Filter";
    PasteBox => "paste_box", "Paste an error message";
    Rerun => "rerun", "Run again";
    Copy => "copy", "Copy the fix command";
    CopyName => "copy_name", "Copy the object name";
    CopyYaml => "copy_yaml", "Copy the object as YAML";
    Sort => "sort", "Sort by the next column";
    ReverseSort => "reverse_sort", "Reverse the sort order";
    ScrollLeft => "scroll_left", "Scroll left";
    ScrollRight => "scroll_right", "Scroll right";
    Demo => "demo", "Open the demo cluster instead";
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A normalized key: characters carry no SHIFT (it is in the character), Shift-Tab is
/// `BackTab`, Ctrl-letters are lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    fn normalized(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) => {
                modifiers -= KeyModifiers::SHIFT;
                if modifiers.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                modifiers -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, modifiers }
    }

    /// The key of a terminal event; `None` for key releases.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        Some(Key::normalized(event.code, event.modifiers))
    }

    /// Parses the keymap-file syntax (see the module docs).
    pub fn parse(s: &str) -> Result<Key, String> {
        let bad = || format!("bad key {s:?}: expected a character or <Name>, <C-x>, <S-Tab>…");
        let mut chars = s.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(Key::normalized(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .filter(|r| !r.is_empty())
            .ok_or_else(bad)?;
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = inner;
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            modifiers |= match rest.as_bytes()[0].to_ascii_uppercase() {
                b'C' => KeyModifiers::CONTROL,
                b'S' => KeyModifiers::SHIFT,
                b'A' | b'M' => KeyModifiers::ALT,
                _ => return Err(bad()),
            };
            rest = &rest[2..];
        }
        let mut chars = rest.chars();
        let code = if let (Some(c), None) = (chars.next(), chars.next()) {
            let c = if modifiers.contains(KeyModifiers::SHIFT) {
                c.to_ascii_uppercase()
            } else {
                c
            };
            KeyCode::Char(c)
        } else {
            match rest.to_ascii_lowercase().as_str() {
                "enter" | "cr" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                "lt" => KeyCode::Char('<'),
                "gt" => KeyCode::Char('>'),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(bad()),
                },
                _ => return Err(bad()),
            }
        };
        Ok(Key::normalized(code, modifiers))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char('<') => "lt".to_string(),
            KeyCode::Char(c) if self.modifiers.is_empty() => return write!(f, "{c}"),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Delete".into(),
            KeyCode::Insert => "Insert".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::PageUp => "PageUp".into(),
            KeyCode::PageDown => "PageDown".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let mut prefix = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            prefix.push_str("C-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            prefix.push_str("A-");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            prefix.push_str("S-");
        }
        write!(f, "<{prefix}{name}>")
    }
}

/// One entry of a keymap: its keys, what they do and the help text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    pub desc: String,
}

/// The active key bindings of every view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    views: BTreeMap<View, Vec<Binding>>,
}

impl Default for Keymap {
    /// The shipped `default` keymap.
    fn default() -> Self {
        builtin()
    }
}

impl Keymap {
    /// The bindings of `view` itself (without the global ones).
    pub fn bindings(&self, view: View) -> &[Binding] {
        self.views.get(&view).map(Vec::as_slice).unwrap_or_default()
    }

    fn lookup(&self, view: View, key: &Key) -> Option<Action> {
        self.bindings(view)
            .iter()
            .find(|b| b.keys.contains(key))
            .map(|b| b.action)
    }

    /// What `event` does in `view`: the view's own binding, else the global one. An Alt key
    /// bound nowhere does what the key without Alt does: terminals send Alt-x as `Esc x`,
    /// which is also what an Esc typed just before a key looks like.
    pub fn action(&self, view: View, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        self.action_for_key(view, &key).or_else(|| {
            key.modifiers
                .contains(KeyModifiers::ALT)
                .then(|| Key {
                    modifiers: key.modifiers - KeyModifiers::ALT,
                    ..key
                })
                .and_then(|plain| self.action_for_key(view, &plain))
        })
    }

    /// The keys that do `action` in `view` (the view's, then unshadowed global ones), for
    /// hints such as "? help".
    pub fn keys_for(&self, view: View, action: Action) -> Vec<Key> {
        let mut keys = Vec::new();
        for v in [view, View::Global] {
            for b in self.bindings(v).iter().filter(|b| b.action == action) {
                for k in &b.keys {
                    if self.action_for_key(view, k) == Some(action) && !keys.contains(k) {
                        keys.push(*k);
                    }
                }
            }
        }
        keys
    }

    fn action_for_key(&self, view: View, key: &Key) -> Option<Action> {
        self.lookup(view, key)
            .or_else(|| self.lookup(View::Global, key))
    }

    /// Help for `view`, generated from the active bindings: (keys, description) rows, the
    /// view's own first, then the global ones not shadowed by the view.
    pub fn help(&self, view: View) -> Vec<(String, String)> {
        let mut rows = Vec::new();
        let views: &[View] = if view == View::Global {
            &[View::Global]
        } else {
            &[view, View::Global]
        };
        for v in views {
            for b in self.bindings(*v) {
                let keys: Vec<String> = b
                    .keys
                    .iter()
                    .filter(|k| self.action_for_key(view, k) == Some(b.action))
                    .map(Key::to_string)
                    .collect();
                if !keys.is_empty() {
                    rows.push((keys.join(", "), b.desc.clone()));
                }
            }
        }
        rows
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    /// One key or a list of keys.
    on: Spanned<toml::Value>,
    run: Spanned<String>,
    desc: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawView {
    #[serde(default)]
    keymap: Vec<Spanned<RawBinding>>,
}

/// What one file says about each view it mentions: the bindings, or why the view is unusable.
struct ParsedFile {
    views: BTreeMap<View, Result<Vec<Binding>, Vec<ConfigError>>>,
}

fn parse_view(
    file: &str,
    text: &str,
    view: View,
    raw: &RawView,
) -> Result<Vec<Binding>, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut out: Vec<Binding> = Vec::new();
    // key → (action, line) of its first binding, for conflicts.
    let mut seen: Vec<(Key, Action, usize)> = Vec::new();
    for entry in &raw.keymap {
        let line = super::line_of(text, entry.span().start);
        let b = entry.get_ref();
        let action = match Action::parse(b.run.get_ref().trim()) {
            Some(a) => Some(a),
            None => {
                errors.push(ConfigError::at(
                    file,
                    text,
                    Some(b.run.span().start),
                    format!(
                        "[{}] unknown action {:?} (known: {})",
                        view.name(),
                        b.run.get_ref(),
                        Action::ALL
                            .iter()
                            .map(|a| a.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                None
            }
        };
        let on_start = Some(b.on.span().start);
        let raw_keys: Vec<&toml::Value> = match b.on.get_ref() {
            toml::Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        if raw_keys.is_empty() {
            errors.push(ConfigError::at(
                file,
                text,
                on_start,
                format!("[{}] binding without keys (on = [])", view.name()),
            ));
        }
        let mut keys = Vec::new();
        for k in raw_keys {
            let parsed = match k {
                toml::Value::String(s) => Key::parse(s),
                other => Err(format!(
                    "bad key {other}: keys are strings like \"j\" or \"<C-c>\""
                )),
            };
            match parsed {
                Ok(key) => keys.push(key),
                Err(m) => errors.push(ConfigError::at(
                    file,
                    text,
                    on_start,
                    format!("[{}] {m}", view.name()),
                )),
            }
        }
        let Some(action) = action else { continue };
        for key in &keys {
            match seen.iter().find(|(k, _, _)| k == key) {
                Some((_, other, other_line)) if *other != action => {
                    errors.push(ConfigError::at(
                        file,
                        text,
                        Some(entry.span().start),
                        format!(
                            "[{}] key {key} is bound to both {other} (line {other_line}) and {action}",
                            view.name()
                        ),
                    ));
                }
                Some(_) => {}
                None => seen.push((*key, action, line)),
            }
        }
        out.push(Binding {
            keys,
            action,
            desc: b
                .desc
                .clone()
                .unwrap_or_else(|| action.description().to_string()),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn parse_file(file: &str, text: &str) -> Result<ParsedFile, ConfigError> {
    let raw: BTreeMap<String, Spanned<RawView>> =
        toml::from_str(text).map_err(|e| ConfigError::toml(file, text, &e))?;
    let mut views = BTreeMap::new();
    for (name, raw_view) in &raw {
        let Some(view) = View::parse(name) else {
            return Err(ConfigError::at(
                file,
                text,
                Some(raw_view.span().start),
                format!(
                    "unknown view [{name}]; the views are {}",
                    View::ALL.map(View::name).join(", ")
                ),
            ));
        };
        views.insert(view, parse_view(file, text, view, raw_view.get_ref()));
    }
    Ok(ParsedFile { views })
}

/// Parses one keymap file on its own: the keymap, or every problem found (file and line).
pub fn parse(file: &str, text: &str) -> Result<Keymap, Vec<ConfigError>> {
    let parsed = parse_file(file, text).map_err(|e| vec![e])?;
    let mut views = BTreeMap::new();
    let mut errors = Vec::new();
    for (view, result) in parsed.views {
        match result {
            Ok(bindings) => {
                views.insert(view, bindings);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Keymap { views })
    } else {
        Err(errors)
    }
}

/// The shipped file text of a keymap, if there is one by that name.
pub fn shipped(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn shipped_label(name: &str) -> String {
    format!("<shipped>/keymaps/{name}.toml")
}

/// The shipped default keymap (empty if it were ever broken; tests make sure it is not).
fn builtin() -> Keymap {
    parse(
        &shipped_label(DEFAULT_KEYMAP),
        shipped(DEFAULT_KEYMAP).unwrap_or_default(),
    )
    .unwrap_or(Keymap {
        views: BTreeMap::new(),
    })
}

/// Applies one file on top of `keymap`: usable views replace the keys they bind; unusable
/// views are reported and left as they were.
fn overlay(
    keymap: &mut Keymap,
    parsed: ParsedFile,
    replace: bool,
    warnings: &mut Vec<ConfigWarning>,
) {
    for (view, result) in parsed.views {
        match result {
            Ok(bindings) if replace => {
                keymap.views.insert(view, bindings);
            }
            Ok(bindings) => {
                let current = keymap.views.entry(view).or_default();
                for b in bindings {
                    for existing in current.iter_mut() {
                        existing.keys.retain(|k| !b.keys.contains(k));
                    }
                    current.retain(|e| !e.keys.is_empty());
                    current.push(b);
                }
            }
            Err(errors) => {
                let n = errors.len();
                for (i, e) in errors.into_iter().enumerate() {
                    let mut w = ConfigWarning::from(e);
                    if i + 1 == n {
                        w.message.push_str(&format!(
                            "; [{}] of this file is ignored: the shipped keys apply",
                            view.name()
                        ));
                    }
                    warnings.push(w);
                }
            }
        }
    }
}

/// The path of the user's per-key overrides.
pub fn user_keymap_path(env: &EnvView) -> Option<std::path::PathBuf> {
    env.config_dir().map(|d| d.join("keymap.toml"))
}

/// Loads the keymap `name` (default `default`) plus the user's `keymap.toml`. Never fails:
/// problems become warnings naming file and line, and the affected views keep the defaults.
pub fn load(name: Option<&str>, env: &EnvView) -> (Keymap, Vec<ConfigWarning>) {
    let mut warnings = Vec::new();
    let mut keymap = builtin();
    let asked = name.unwrap_or(DEFAULT_KEYMAP);
    let valid_name = !asked.is_empty()
        && !asked.starts_with('.')
        && asked
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');

    // The named keymap: a user file of that name, else the shipped one.
    let mut base: Option<(String, String)> = None;
    if valid_name
        && let Some(path) = env
            .config_dir()
            .map(|d| d.join("keymaps").join(format!("{asked}.toml")))
    {
        match read_optional(&path) {
            Ok(Some(text)) => base = Some((path.display().to_string(), text)),
            Ok(None) => {}
            Err(e) => warnings.push(e.into()),
        }
    }
    if base.is_none() {
        match shipped(asked).filter(|_| valid_name) {
            Some(text) => base = Some((shipped_label(asked), text.to_string())),
            None => warnings.push(ConfigWarning {
                file: format!("keymaps/{asked}.toml"),
                line: None,
                message: format!(
                    "no keymap named {asked:?} (shipped: {}); using {DEFAULT_KEYMAP}",
                    SHIPPED.map(|(n, _)| n).join(", ")
                ),
            }),
        }
    }
    if let Some((file, text)) = base {
        match parse_file(&file, &text) {
            Ok(parsed) => overlay(&mut keymap, parsed, true, &mut warnings),
            Err(e) => warnings.push(e.into()),
        }
    }

    // Per-key user overrides.
    if let Some(path) = user_keymap_path(env) {
        match read_optional(&path) {
            Ok(Some(text)) => match parse_file(&path.display().to_string(), &text) {
                Ok(parsed) => overlay(&mut keymap, parsed, false, &mut warnings),
                Err(e) => {
                    let mut w = ConfigWarning::from(e);
                    w.message
                        .push_str("; using the keymap without the user's overrides");
                    warnings.push(w);
                }
            },
            Ok(None) => {}
            Err(e) => warnings.push(e.into()),
        }
    }
    (keymap, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn key_syntax() {
        let k = |s: &str| Key::parse(s).unwrap();
        assert_eq!(
            k("j"),
            Key {
                code: KeyCode::Char('j'),
                modifiers: KeyModifiers::NONE
            }
        );
        assert_eq!(
            k("<C-c>"),
            Key {
                code: KeyCode::Char('c'),
                modifiers: KeyModifiers::CONTROL
            }
        );
        assert_eq!(k("<S-Tab>").code, KeyCode::BackTab);
        assert_eq!(k("<S-Tab>").modifiers, KeyModifiers::NONE);
        assert_eq!(k("<PageDown>").code, KeyCode::PageDown);
        assert_eq!(k("<Space>").code, KeyCode::Char(' '));
        assert_eq!(k("<F5>").code, KeyCode::F(5));
        assert!(Key::parse("<Nope>").is_err());
        assert!(Key::parse("jj").is_err());
        assert!(Key::parse("<F13>").is_err());
        for s in [
            "j",
            "J",
            "?",
            "<C-c>",
            "<Enter>",
            "<S-Tab>",
            "<PageDown>",
            "<lt>",
            "<Space>",
        ] {
            assert_eq!(k(&k(s).to_string()), k(s), "{s}");
        }
    }

    #[test]
    fn events_normalize_shift() {
        let map = Keymap::default();
        // Terminals report G as Char('G') with SHIFT; Shift-Tab as BackTab with SHIFT.
        assert_eq!(
            map.action(View::Overview, &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            map.action(View::Overview, &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Action::PrevPane)
        );
        assert_eq!(
            map.action(
                View::Overview,
                &ev(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        let mut release = ev(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(map.action(View::Overview, &release), None);
        // Esc then q in one read arrives as Alt-q: it quits, as q does.
        assert_eq!(
            map.action(View::Runner, &ev(KeyCode::Char('q'), KeyModifiers::ALT)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn unknown_action_is_reported_with_line() {
        let text = "[overview]\nkeymap = [\n  { on = \"j\", run = \"move_down\" },\n  { on = \"x\", run = \"explode\" },\n]\n";
        let errors = parse("k.toml", text).unwrap_err();
        let msg = errors[0].to_string();
        assert!(
            msg.starts_with("k.toml:4:") && msg.contains("explode"),
            "{msg}"
        );
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(*a));
        }
    }
}
