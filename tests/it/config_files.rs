//! Theme and keymap files as a user meets them: every shipped file loads cleanly, the
//! environment picks the colour mode, broken user files are reported with file and line
//! while ktriage keeps working with the defaults, and k9s skins import into themes that load.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ktriage::config::color::{ColorMode, downsample, is_ansi16, rgb_to_16, rgb_to_256};
use ktriage::config::keymap::{self, Action, View};
use ktriage::config::palette::Theme;
use ktriage::config::{EnvView, skin, theme};
use ratatui::style::{Color, Modifier, Style};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

fn env(term: &str, colorterm: Option<&str>) -> EnvView {
    EnvView {
        term: Some(term.to_string()),
        colorterm: colorterm.map(str::to_string),
        // Never the developer's own ~/.config.
        xdg_config_home: Some(PathBuf::from("/nonexistent/ktriage-test")),
        ..EnvView::default()
    }
}

/// An environment whose config dir is a temp dir; returns (env, dir guard, ktriage dir).
fn user_env(term: &str, colorterm: Option<&str>) -> (EnvView, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut e = env(term, colorterm);
    e.xdg_config_home = Some(dir.path().to_path_buf());
    let kt = dir.path().join("ktriage");
    std::fs::create_dir_all(kt.join("themes")).unwrap();
    (e, dir, kt)
}

fn roles(t: &Theme) -> [(&'static str, Style); 10] {
    [
        ("ok", t.ok),
        ("warning", t.warning),
        ("critical", t.critical),
        ("unknown", t.unknown),
        ("muted", t.muted),
        ("accent", t.accent),
        ("selection", t.selection),
        ("border", t.border),
        ("title", t.title),
        ("text", t.text),
    ]
}

fn colours(t: &Theme) -> Vec<Color> {
    roles(t)
        .iter()
        .flat_map(|(_, s)| [s.fg, s.bg])
        .flatten()
        .collect()
}

const TERMS: [(&str, Option<&str>); 4] = [
    ("xterm", None),
    ("screen", None),
    ("tmux-256color", None),
    ("xterm-256color", Some("truecolor")),
];

#[test]
fn every_shipped_theme_loads_without_warnings_in_every_terminal() {
    for (name, _) in theme::SHIPPED {
        for (term, colorterm) in TERMS {
            let (loaded, warnings) = theme::load_full(Some(name), &env(term, colorterm));
            assert!(warnings.is_empty(), "{name} on {term}: {warnings:?}");
            assert_eq!(loaded.name, name);
        }
    }
    let listed: Vec<String> = theme::list(&env("xterm", None))
        .into_iter()
        .map(|t| t.name)
        .collect();
    for wanted in ["default-dark", "light", "high-contrast", "sixteen", "mono"] {
        assert!(listed.iter().any(|n| n == wanted), "{listed:?}");
    }
}

#[test]
fn default_dark_file_reproduces_the_builtin_theme() {
    for (term, colorterm) in TERMS {
        let (t, _) = theme::load(None, &env(term, colorterm));
        assert_eq!(t, Theme::default_dark(), "{term}");
        let (t, _) = theme::load(Some("default-dark"), &env(term, colorterm));
        assert_eq!(t, Theme::default_dark(), "{term}");
    }
}

#[test]
fn no_color_makes_every_theme_mono_but_keeps_selection_and_severity_visible() {
    for (name, _) in theme::SHIPPED {
        let mut e = env("xterm-256color", Some("truecolor"));
        e.no_color = Some("1".into());
        let (loaded, warnings) = theme::load_full(Some(name), &e);
        assert!(warnings.is_empty());
        assert_eq!(loaded.mode, ColorMode::Mono, "{name}");
        for (role, style) in roles(&loaded.theme) {
            assert_eq!(
                (style.fg, style.bg),
                (None, None),
                "{name}.{role}: {style:?}"
            );
        }
        let t = &loaded.theme;
        assert!(
            t.selection.add_modifier.contains(Modifier::REVERSED),
            "{name}: selection must stay visible without colour"
        );
        assert!(t.critical.add_modifier.contains(Modifier::BOLD), "{name}");
    }
    // NO_COLOR="" is "not set" per no-color.org.
    let mut e = env("xterm", None);
    e.no_color = Some(String::new());
    assert_eq!(theme::load(None, &e).0, Theme::default_dark());
}

#[test]
fn dumb_terminal_gets_no_colours_and_the_mono_theme_never_has_any() {
    let (loaded, _) = theme::load_full(Some("light"), &env("dumb", None));
    assert_eq!(loaded.mode, ColorMode::Mono);
    assert!(colours(&loaded.theme).is_empty());
    let (loaded, _) = theme::load_full(Some("mono"), &env("xterm-256color", Some("truecolor")));
    assert!(colours(&loaded.theme).is_empty());
    assert_ne!(
        loaded.theme.warning, loaded.theme.ok,
        "severity still differs"
    );
}

#[test]
fn sixteen_theme_only_uses_the_16_ansi_colours_even_on_truecolor_terminals() {
    let (loaded, _) = theme::load_full(Some("sixteen"), &env("xterm-256color", Some("24bit")));
    assert_eq!(loaded.mode, ColorMode::Ansi16);
    let cs = colours(&loaded.theme);
    assert!(!cs.is_empty());
    for c in cs {
        assert!(is_ansi16(c), "{c:?}");
    }
}

#[test]
fn light_theme_follows_the_terminal_colour_depth() {
    let (t, _) = theme::load_full(Some("light"), &env("xterm-256color", Some("truecolor")));
    assert_eq!(t.theme.ok.fg, Some(Color::Rgb(0x11, 0x63, 0x29)));
    let (t, _) = theme::load_full(Some("light"), &env("xterm-256color", None));
    assert_eq!(t.mode, ColorMode::Ansi256);
    assert!(
        colours(&t.theme)
            .iter()
            .all(|c| matches!(c, Color::Indexed(_)))
    );
    let (t, _) = theme::load_full(Some("light"), &env("screen", None));
    assert_eq!(t.mode, ColorMode::Ansi16);
    assert!(colours(&t.theme).into_iter().all(is_ansi16));
    // Meaning survives the downsampling.
    assert_eq!(t.theme.ok.fg, Some(Color::Green));
    assert_eq!(t.theme.critical.fg, Some(Color::Red));
}

#[test]
fn unknown_role_in_a_user_theme_names_file_and_line_and_falls_back() {
    let (e, _dir, kt) = user_env("xterm", None);
    let path = kt.join("themes/default-dark.toml");
    std::fs::copy(fixture("theme-unknown-role.toml"), &path).unwrap();
    let (t, warnings) = theme::load(None, &e);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w.file, path.display().to_string());
    assert_eq!(w.line, Some(6), "{w}");
    assert!(w.to_string().contains("critcal"), "{w}");
    assert_eq!(t, Theme::default_dark());
}

#[test]
fn bad_colour_names_file_and_line() {
    let text = std::fs::read_to_string(fixture("theme-bad-colour.toml")).unwrap();
    let e = theme::parse("my.toml", &text).unwrap_err().to_string();
    assert!(e.starts_with("my.toml:7:"), "{e}");
    assert!(e.contains("reddish"), "{e}");
}

#[test]
fn user_theme_overrides_only_the_roles_it_sets() {
    let (e, _dir, kt) = user_env("xterm", None);
    std::fs::copy(
        fixture("theme-override.toml"),
        kt.join("themes/default-dark.toml"),
    )
    .unwrap();
    let (t, warnings) = theme::load(None, &e);
    assert!(warnings.is_empty(), "{warnings:?}");
    let base = Theme::default_dark();
    assert_eq!(
        t.accent,
        Style::new()
            .fg(Color::Rgb(0xff, 0x88, 0x00))
            .add_modifier(Modifier::UNDERLINED)
    );
    assert_eq!(t.critical.bg, Some(Color::Rgb(0x33, 0, 0)));
    assert_eq!(
        (t.ok, t.warning, t.selection, t.text),
        (base.ok, base.warning, base.selection, base.text)
    );

    // A new name starts from default-dark.
    std::fs::copy(fixture("theme-override.toml"), kt.join("themes/brand.toml")).unwrap();
    let (loaded, warnings) = theme::load_full(Some("brand"), &e);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(loaded.name, "brand");
    assert_eq!(loaded.theme.ok, base.ok);
    assert!(theme::list(&e).iter().any(|i| i.name == "brand"));
}

#[test]
fn unknown_theme_name_warns_and_uses_the_default() {
    let (t, warnings) = theme::load(Some("solarized"), &env("xterm", None));
    assert_eq!(t, Theme::default_dark());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("solarized"));
    let (_, warnings) = theme::load(Some("../../etc/passwd"), &env("xterm", None));
    assert_eq!(warnings.len(), 1);
}

#[test]
fn downsampling_table() {
    // truecolor → 256: the xterm cube or the grey ramp, whichever is closer.
    let to256 = [
        ((0, 0, 0), 16),
        ((255, 0, 0), 196),
        ((255, 255, 255), 231),
        ((128, 128, 128), 244),
        ((8, 8, 8), 232),
        ((0x50, 0xfa, 0x7b), 84),
        ((0xff, 0xb8, 0x6c), 215),
        ((95, 135, 175), 67),
    ];
    for ((r, g, b), want) in to256 {
        assert_eq!(rgb_to_256(r, g, b), want, "#{r:02x}{g:02x}{b:02x}");
    }
    // truecolor → 16: by hue, bright when the brightest channel is >= 240.
    let to16 = [
        ((0x50, 0xfa, 0x7b), Color::LightGreen), // Dracula green (RGB distance says cyan)
        ((0xff, 0xb8, 0x6c), Color::LightYellow), // Dracula orange
        ((0xff, 0x55, 0x55), Color::LightRed),
        ((0xa4, 0x0e, 0x26), Color::Red),
        ((0x05, 0x50, 0xae), Color::Blue),
        ((0x6e, 0x77, 0x81), Color::DarkGray),
        ((0xd0, 0xd0, 0xd0), Color::Gray),
        ((0x10, 0x10, 0x28), Color::Black),
        ((0xff, 0xff, 0xff), Color::White),
        ((0xbb, 0x00, 0xbb), Color::Magenta),
    ];
    for ((r, g, b), want) in to16 {
        assert_eq!(
            downsample(Color::Rgb(r, g, b), ColorMode::Ansi16),
            Some(want),
            "#{r:02x}{g:02x}{b:02x}"
        );
    }
    // 256-colour indices → 16, named colours unchanged, mono drops everything.
    assert_eq!(
        downsample(Color::Indexed(196), ColorMode::Ansi16),
        Some(Color::LightRed)
    );
    assert_eq!(
        downsample(Color::Indexed(2), ColorMode::Ansi16),
        Some(Color::Green)
    );
    assert_eq!(
        downsample(Color::Indexed(244), ColorMode::Ansi16),
        Some(Color::DarkGray)
    );
    assert_eq!(
        downsample(Color::Cyan, ColorMode::Ansi256),
        Some(Color::Cyan)
    );
    assert_eq!(
        downsample(Color::Rgb(1, 2, 3), ColorMode::TrueColor),
        Some(Color::Rgb(1, 2, 3))
    );
    assert_eq!(downsample(Color::Cyan, ColorMode::Mono), None);
    assert_eq!(rgb_to_16(205, 0, 0), 1);
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

#[test]
fn every_shipped_keymap_loads_without_warnings() {
    for (name, _) in keymap::SHIPPED {
        let (_, warnings) = keymap::load(Some(name), &env("xterm", None));
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
    }
}

#[test]
fn default_keymap_has_todays_keys() {
    let (map, _) = keymap::load(None, &env("xterm", None));
    let o = View::Overview;
    let table = [
        (ch('q'), Action::Quit),
        (
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Action::Quit,
        ),
        (ch('j'), Action::MoveDown),
        (key(KeyCode::Down), Action::MoveDown),
        (ch('k'), Action::MoveUp),
        (key(KeyCode::PageDown), Action::PageDown),
        (ch('g'), Action::Top),
        (
            KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT),
            Action::Bottom,
        ),
        (key(KeyCode::End), Action::Bottom),
        (key(KeyCode::Tab), Action::NextPane),
        (
            KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
            Action::PrevPane,
        ),
        (ch('1'), Action::FocusPane1),
        (ch('4'), Action::FocusPane4),
        (key(KeyCode::Enter), Action::Open),
        (key(KeyCode::Esc), Action::Back),
        (ch('?'), Action::Help),
        (ch(':'), Action::CommandMode),
        (ch('e'), Action::PasteBox),
    ];
    for (ev, want) in table {
        assert_eq!(map.action(o, &ev), Some(want), "{ev:?}");
    }
    assert_eq!(map.action(o, &ch('z')), None);
    assert_eq!(map.action(View::List, &ch('/')), Some(Action::Filter));
    assert_eq!(map.action(View::Runner, &ch('r')), Some(Action::Rerun));
    assert_eq!(map.action(View::Runner, &ch('y')), Some(Action::Copy));
    assert_eq!(
        map.action(View::Runner, &ch('q')),
        Some(Action::Quit),
        "global applies"
    );
}

#[test]
fn vim_keymap_moves_with_hjkl() {
    let (map, _) = keymap::load(Some("vim"), &env("xterm", None));
    let o = View::Overview;
    assert_eq!(map.action(o, &ch('j')), Some(Action::MoveDown));
    assert_eq!(map.action(o, &ch('k')), Some(Action::MoveUp));
    assert_eq!(map.action(o, &ch('l')), Some(Action::NextPane));
    assert_eq!(map.action(o, &ch('h')), Some(Action::PrevPane));
    let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
    assert_eq!(map.action(o, &ctrl_d), Some(Action::PageDown));
    assert_eq!(map.action(View::List, &ch('h')), Some(Action::Back));
    assert_eq!(map.action(View::List, &ch('l')), Some(Action::Open));
}

#[test]
fn conflicting_user_keymap_names_file_and_line_and_keeps_the_defaults() {
    let (e, _dir, kt) = user_env("xterm", None);
    let path = kt.join("keymap.toml");
    std::fs::copy(fixture("keymap-conflict.toml"), &path).unwrap();
    let (map, warnings) = keymap::load(None, &e);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w.file, path.display().to_string());
    assert_eq!(w.line, Some(8), "{w}");
    let text = w.to_string();
    assert!(
        text.contains("line 6") && text.contains("quit") && text.contains("open"),
        "{text}"
    );
    // The overview keeps the shipped keys; the valid [list] table still applies.
    let default = keymap::Keymap::default();
    assert_eq!(
        map.bindings(View::Overview),
        default.bindings(View::Overview)
    );
    assert_eq!(map.action(View::Overview, &ch('x')), None);
    assert_eq!(map.action(View::List, &ch('f')), Some(Action::Filter));
    assert_eq!(map.action(View::List, &ch('/')), Some(Action::Filter));
}

#[test]
fn unknown_action_names_file_and_line() {
    let (e, _dir, kt) = user_env("xterm", None);
    let path = kt.join("keymap.toml");
    std::fs::copy(fixture("keymap-unknown-action.toml"), &path).unwrap();
    let (map, warnings) = keymap::load(None, &e);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].file, path.display().to_string());
    assert_eq!(warnings[0].line, Some(6));
    assert!(warnings[0].message.contains("copy_fix_comand"));
    assert_eq!(
        map.action(View::Runner, &ch('R')),
        None,
        "the broken view is not applied"
    );
    assert_eq!(map.action(View::Runner, &ch('r')), Some(Action::Rerun));
}

#[test]
fn a_broken_named_keymap_file_still_starts_with_defaults() {
    let (e, _dir, kt) = user_env("xterm", None);
    std::fs::create_dir_all(kt.join("keymaps")).unwrap();
    std::fs::write(kt.join("keymaps/mine.toml"), "[overview\nkeymap = [").unwrap();
    let (map, warnings) = keymap::load(Some("mine"), &e);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].line, Some(1));
    assert_eq!(map, keymap::Keymap::default());
}

#[test]
fn user_keymap_overrides_per_key_and_help_follows() {
    let (e, _dir, kt) = user_env("xterm", None);
    std::fs::copy(fixture("keymap-override.toml"), kt.join("keymap.toml")).unwrap();
    let (map, warnings) = keymap::load(Some("vim"), &e);
    assert!(warnings.is_empty(), "{warnings:?}");
    let o = View::Overview;
    assert_eq!(map.action(o, &ch('j')), Some(Action::PageDown));
    assert_eq!(
        map.action(o, &key(KeyCode::Down)),
        Some(Action::MoveDown),
        "other keys stay"
    );
    assert_eq!(
        map.action(o, &ch('h')),
        Some(Action::PrevPane),
        "vim base kept"
    );
    let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert_eq!(map.action(o, &ctrl_q), Some(Action::Quit));
    assert_eq!(
        map.action(View::List, &key(KeyCode::F(1))),
        Some(Action::Help)
    );

    let help = map.help(o);
    let find = |desc: &str| help.iter().find(|(_, d)| d == desc).map(|(k, _)| k.clone());
    assert_eq!(find("Jump a page").as_deref(), Some("j"));
    assert_eq!(
        find("Move down").as_deref(),
        Some("<Down>"),
        "j no longer listed there"
    );
    assert_eq!(find("Show the keys").as_deref(), Some("?"));
    assert_eq!(find("Help").as_deref(), Some("<F1>"));
    assert_eq!(
        map.keys_for(o, Action::Quit)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["<C-q>", "q", "<C-c>"]
    );
}

#[test]
fn k9s_skin_imports_into_a_theme_that_loads() {
    let yaml = std::fs::read_to_string(fixture("k9s-dracula.yaml")).unwrap();
    let imported = skin::import(&yaml, "dracula").unwrap();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    theme::parse("dracula.toml", &imported.toml).unwrap();

    let (e, _dir, kt) = user_env("xterm-256color", Some("truecolor"));
    std::fs::write(kt.join("themes/dracula.toml"), &imported.toml).unwrap();
    let (loaded, warnings) = theme::load_full(Some("dracula"), &e);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(loaded.name, "dracula");
    let t = &loaded.theme;
    assert_eq!(
        t.ok.fg,
        Some(Color::Rgb(0x50, 0xfa, 0x7b)),
        "addColor → *green"
    );
    assert_eq!(t.critical.fg, Some(Color::Rgb(0xff, 0x55, 0x55)));
    assert!(t.critical.add_modifier.contains(Modifier::BOLD));
    assert_eq!(
        t.warning.fg,
        Some(Color::Rgb(0xff, 0xb8, 0x6c)),
        "pendingColor → *orange"
    );
    assert_eq!(
        t.accent.fg,
        Some(Color::Rgb(0xbd, 0x93, 0xf9)),
        "logoColor → *purple"
    );
    assert_eq!(t.selection.bg, Some(Color::Rgb(0x44, 0x47, 0x5a)));
    assert_eq!(t.text.fg, Some(Color::Rgb(0xf8, 0xf8, 0xf2)));

    // The same theme in a 16-colour terminal keeps its meaning.
    let mut e16 = e.clone();
    e16.term = Some("screen".into());
    e16.colorterm = None;
    let (t16, _) = theme::load(Some("dracula"), &e16);
    assert!(colours(&t16).into_iter().all(is_ansi16));
    assert_eq!(t16.ok.fg, Some(Color::LightGreen));
    assert_eq!(t16.critical.fg, Some(Color::LightRed));
}

#[test]
fn k9s_skin_with_merge_keys_and_colour_names() {
    let yaml = std::fs::read_to_string(fixture("k9s-merge-names.yaml")).unwrap();
    let imported = skin::import(&yaml, "blue").unwrap();
    let spec = theme::parse("blue.toml", &imported.toml).unwrap();
    let t = theme::build(&spec, ColorMode::TrueColor);
    assert_eq!(
        t.text.fg,
        Some(Color::White),
        "body.fgColor through <<: *base"
    );
    assert_eq!(
        t.title.fg,
        Some(Color::White),
        "frame.title through <<: *base"
    );
    assert_eq!(
        t.accent.fg,
        Some(Color::Rgb(0x1e, 0x90, 0xff)),
        "dodgerblue"
    );
    assert_eq!(
        t.critical.fg,
        Some(Color::Rgb(0xff, 0x45, 0x00)),
        "orangered"
    );
    assert_eq!(
        t.selection.bg,
        Some(Color::LightCyan),
        "old cursorColor, tcell aqua"
    );
    assert_eq!(t.muted.fg, Some(Color::DarkGray), "tcell gray is ANSI 8");
}

#[test]
fn garbage_is_not_a_skin() {
    assert!(skin::import("just: text\n", "x").is_err());
    assert!(skin::import("k9s: {body: [", "x").is_err());
}

#[test]
fn theme_import_command_writes_a_theme_that_theme_list_shows_and_load_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ktriage/themes/dracula.toml");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .output()
            .unwrap()
    };
    let skin = fixture("k9s-dracula.yaml");
    let import = run(&[
        "theme",
        "import",
        skin.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{import:?}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("name = \"dracula\""), "{written}");

    let list = run(&["theme", "list"]);
    assert!(list.status.success());
    let stdout = String::from_utf8(list.stdout).unwrap();
    let row = stdout
        .lines()
        .find(|l| l.starts_with("dracula "))
        .unwrap_or_default();
    assert!(row.contains("user"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("sixteen ")),
        "{stdout}"
    );

    let mut e = env("xterm-256color", Some("truecolor"));
    e.xdg_config_home = Some(dir.path().to_path_buf());
    let (t, warnings) = theme::load(Some("dracula"), &e);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(t.ok.fg, Some(Color::Rgb(0x50, 0xfa, 0x7b)));

    let bad = run(&[
        "theme",
        "import",
        fixture("theme-override.toml").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(3), "a non-skin file is an error");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("not a k9s skin"), "{stderr}");
}

#[test]
fn one_call_loads_theme_keymap_and_all_warnings() {
    let (e, _dir, kt) = user_env("screen", None);
    std::fs::copy(
        fixture("keymap-unknown-action.toml"),
        kt.join("keymap.toml"),
    )
    .unwrap();
    std::fs::copy(
        fixture("theme-unknown-role.toml"),
        kt.join("themes/sixteen.toml"),
    )
    .unwrap();
    let config = ktriage::config::load(Some("sixteen"), Some("vim"), &e);
    assert_eq!(config.theme.mode, ColorMode::Ansi16);
    assert_eq!(
        config.keymap.action(View::Overview, &ch('l')),
        Some(Action::NextPane)
    );
    let shown: Vec<String> = config.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown[0].contains("themes/sixteen.toml:6:"), "{shown:?}");
    assert!(shown[1].contains("keymap.toml:6:"), "{shown:?}");
    assert!(
        shown[1].ends_with("[runner] of this file is ignored: the shipped keys apply"),
        "{shown:?}"
    );
}
