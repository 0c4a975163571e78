//! Themes and keymaps in the real binary under tmux: NO_COLOR leaves no colour escapes on
//! screen, the sixteen theme uses only 16-colour SGR codes, the vim keymap moves with
//! h/j/k/l, and a keymap file with a conflict is reported with its file and line while
//! ktriage still starts with the defaults, and a key rebound in the user's keymap.toml (no
//! `--keymap` given) works and shows in `?`; `:theme NAME` switches the colours of the
//! running TUI.

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn demo(t: &Tmux, extra: &[&str]) {
    let log = t.dir().join("ktriage.log").display().to_string();
    let mut args = vec!["demo", "--log-file", &log];
    args.extend_from_slice(extra);
    t.run(BIN, &args);
    t.wait_until("the Overview with nodes", Duration::from_secs(30), |s| {
        s.contains("Control plane") && s.contains("worker-1")
    });
}

/// SGR parameter lists (`ESC [ … m`) on the captured screen.
fn sgr_codes(screen: &str) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    let mut rest = screen;
    while let Some(i) = rest.find("\x1b[") {
        rest = &rest[i + 2..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            out.push(
                rest[..end]
                    .split(';')
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            );
        }
        rest = &rest[end..];
    }
    out
}

/// A code that sets a colour (39/49 reset to the terminal's default and are not colours).
fn is_colour(code: u16) -> bool {
    matches!(code, 30..=38 | 40..=48 | 90..=97 | 100..=107)
}

#[test]
fn no_color_leaves_no_colour_escapes() {
    let t = Tmux::start(120, 36, &[("NO_COLOR", "1")]);
    demo(&t, &[]);
    let screen = t.capture_escapes();
    let colours: Vec<_> = sgr_codes(&screen)
        .into_iter()
        .filter(|codes| codes.iter().any(|c| is_colour(*c)))
        .collect();
    assert!(
        colours.is_empty(),
        "colour SGR codes under NO_COLOR: {colours:?}"
    );
    // Severity stays readable without colour.
    assert!(screen.contains("[ OK ]"));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn sixteen_colour_theme_uses_only_16_colour_codes() {
    let t = Tmux::start(120, 36, &[("COLORTERM", "truecolor")]);
    demo(&t, &["--theme", "sixteen"]);
    let codes = sgr_codes(&t.capture_escapes());
    assert!(
        codes.iter().any(|c| c.iter().any(|x| is_colour(*x))),
        "some colour is used"
    );
    // Only the classic 16-colour codes: no 256-colour (`38;5;N`) or RGB (`38;2;…`) form,
    // which a 16-colour terminal cannot read (crossterm writes the 16 colours as `38;5;N`;
    // ktriage's output writer turns them back into 30–37/90–97 and 40–47/100–107).
    for c in &codes {
        assert!(
            !c.windows(2).any(|w| matches!(w, [38 | 48, 5 | 2])),
            "a colour beyond the 16-colour codes under the sixteen theme: {c:?}"
        );
    }
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn vim_keymap_moves_with_hjkl() {
    let t = Tmux::start(160, 45, &[]);
    demo(&t, &["--keymap", "vim"]);
    // The focused pane has a double-line border.
    t.wait_for("╔Control plane", Duration::from_secs(5));
    t.send_keys(&["l"]);
    t.wait_for("╔Nodes", Duration::from_secs(5));
    let before = t.capture();
    let selected = |s: &str| s.lines().find(|l| l.contains(">[")).map(str::to_string);
    let first = selected(&before);
    t.send_keys(&["j"]);
    t.wait_until("the selection moved down", Duration::from_secs(5), |s| {
        selected(s) != first
    });
    t.send_keys(&["h"]);
    t.wait_for("╔Control plane", Duration::from_secs(5));
    // `?` lists the active keymap's keys, so h and l appear with their actions.
    t.send_keys(&["?"]);
    // Waits for the whole help (a capture can catch a frame half drawn).
    t.wait_until(
        "the help showing the vim keymap",
        Duration::from_secs(5),
        |s| {
            s.contains(" Help ")
                && s.lines()
                    .any(|l| l.contains(" h, <S-Tab> ") && l.contains("Previous pane"))
        },
    );
    t.send_keys(&["Escape"]);
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn keymap_conflict_is_reported_with_file_and_line_and_defaults_still_work() {
    let t = Tmux::start(120, 36, &[]);
    let config = t.dir().join("config");
    std::fs::create_dir_all(config.join("ktriage")).unwrap();
    let keymap = config.join("ktriage").join("keymap.toml");
    std::fs::write(
        &keymap,
        "# my keys\n[overview]\nkeymap = [\n  { on = \"x\", run = \"move_down\" },\n  { on = \"x\", run = \"move_up\" },\n]\n",
    )
    .unwrap();
    let log = t.dir().join("ktriage.log").display().to_string();
    let cmd = format!(
        "XDG_CONFIG_HOME={} {BIN} demo --log-file {log} 2>{}/stderr; echo $? > {}/exit-code",
        config.display(),
        t.dir().display(),
        t.dir().display()
    );
    t.send_literal(&cmd);
    t.send_keys(&["Enter"]);
    t.wait_until(
        "the Overview despite the conflict",
        Duration::from_secs(30),
        |s| s.contains("Control plane") && s.contains("worker-1"),
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    let stderr = std::fs::read_to_string(t.dir().join("stderr")).unwrap();
    let path = keymap.display().to_string();
    assert!(
        stderr.lines().any(|l| l.contains(&format!("{path}:5"))),
        "conflict not reported with file and line:\n{stderr}"
    );
}

/// Without `--keymap`, the shipped default plus the user's keymap.toml drive the keys: `x`
/// rebound to the paste box shows in the help with its description, and opens the box.
#[test]
fn a_user_rebinding_works_and_shows_in_the_help() {
    let t = Tmux::start(120, 36, &[]);
    let config = t.dir().join("config");
    std::fs::create_dir_all(config.join("ktriage")).unwrap();
    std::fs::write(
        config.join("ktriage").join("keymap.toml"),
        "[overview]\nkeymap = [\n  { on = \"x\", run = \"paste_box\", desc = \"explain a pasted error\" },\n  { on = \"e\", run = \"bottom\", desc = \"jump to the end\" },\n]\n",
    )
    .unwrap();
    let log = t.dir().join("ktriage.log").display().to_string();
    let cmd = format!(
        "XDG_CONFIG_HOME={} {BIN} demo --log-file {log} 2>{}/stderr; echo $? > {}/exit-code",
        config.display(),
        t.dir().display(),
        t.dir().display()
    );
    t.send_literal(&cmd);
    t.send_keys(&["Enter"]);
    t.wait_until("the Overview", Duration::from_secs(30), |s| {
        s.contains("Control plane") && s.contains("worker-1")
    });
    t.send_keys(&["?"]);
    let help = t.wait_until("the help with x", Duration::from_secs(5), |s| {
        s.lines()
            .any(|l| l.contains(" x ") && l.contains("explain a pasted error"))
    });
    assert!(
        help.lines()
            .any(|l| l.contains(" e ") && l.contains("jump to the end")),
        "{help}"
    );
    t.send_keys(&["Escape"]);
    t.wait_until("the help closed", Duration::from_secs(5), |s| {
        !s.contains(" Help ")
    });
    t.send_keys(&["x"]);
    t.wait_for("Ctrl-S", Duration::from_secs(5));
    t.send_keys(&["Escape"]);
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    let stderr = std::fs::read_to_string(t.dir().join("stderr")).unwrap();
    assert!(stderr.trim().is_empty(), "{stderr}");
}

#[test]
fn copying_a_fix_command_with_osc52_fills_the_tmux_buffer() {
    let t = Tmux::start(160, 45, &[]);
    t.tmux(&["set-option", "-g", "set-clipboard", "on"]);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            "node-notready-no-cni",
            "--log-file",
            &log,
        ],
    );
    t.wait_for("Control plane", Duration::from_secs(30));
    t.send_keys(&[":"]);
    t.send_literal("playbook node-notready-no-cni");
    t.send_keys(&["Enter"]);
    let screen = t.wait_until("the runner with its fix", Duration::from_secs(30), |s| {
        s.contains("NET-01") && s.contains("▶")
    });
    // The selected fix command is marked with ▶; `y` copies exactly that text.
    let selected = screen
        .lines()
        .find_map(|l| l.split('▶').nth(1))
        .map(|c| c.trim_end_matches(['│', '║']).trim().to_string())
        .unwrap();
    t.send_keys(&["y"]);
    t.wait_for("Copied (OSC 52)", Duration::from_secs(5));
    let buffer = t.tmux(&["show-buffer"]);
    assert_eq!(
        buffer.trim_end(),
        selected,
        "tmux buffer holds the selected command"
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

/// `:theme NAME` changes the colours of the running TUI; an unknown name is refused with the
/// names there are.
#[test]
fn theme_command_switches_colours_live() {
    let t = Tmux::start(120, 36, &[("COLORTERM", "truecolor")]);
    demo(&t, &[]);
    let colours = |screen: &str| {
        sgr_codes(screen)
            .into_iter()
            .filter(|codes| codes.iter().any(|c| is_colour(*c)))
            .count()
    };
    assert!(
        colours(&t.capture_escapes()) > 0,
        "the default theme has colours"
    );
    t.send_keys(&[":"]);
    t.send_literal("theme nosuch");
    t.send_keys(&["Enter"]);
    let refused = t.wait_for("no theme named \"nosuch\"", Duration::from_secs(5));
    assert!(
        refused.contains("mono"),
        "the known themes are named: {refused}"
    );
    t.send_keys(&[":"]);
    t.send_literal("theme mono");
    t.send_keys(&["Enter"]);
    t.wait_for("theme: mono", Duration::from_secs(5));
    let screen = t.capture_escapes();
    assert_eq!(colours(&screen), 0, "mono draws without colour");
    assert!(screen.contains("[ OK ]"), "severity stays readable");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

/// The mouse is not captured unless asked (`--mouse`): capturing it takes the terminal's own
/// text selection away.
#[test]
fn mouse_capture_is_off_unless_asked() {
    let flags = |t: &Tmux| {
        t.tmux(&[
            "display-message",
            "-p",
            "#{mouse_standard_flag}#{mouse_button_flag}#{mouse_any_flag}",
        ])
        .trim()
        .to_string()
    };
    let t = Tmux::start(120, 36, &[]);
    demo(&t, &[]);
    assert_eq!(flags(&t), "000", "no mouse mode without --mouse");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);

    let t = Tmux::start(120, 36, &[]);
    demo(&t, &["--mouse"]);
    assert!(flags(&t).contains('1'), "--mouse turns a mouse mode on");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    t.wait_for("READY$", Duration::from_secs(5));
    assert_eq!(flags(&t), "000", "the mouse is released on exit");
}
