//! The real binary in a real terminal (tmux): `ktriage demo` shows the four panes with the
//! scenario's data at 80x24 and 160x45, a live timeline change reaches the screen without a
//! key press, and `q` gives the shell back with the terminal restored.

use crate::common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn has_panes(screen: &str) -> bool {
    ["Control plane", "Nodes", "Add-ons", "Restarts"]
        .iter()
        .all(|t| screen.contains(t))
}

fn demo_shows_overview_and_quits(width: u16, height: u16) {
    let t = Tmux::start(width, height, &[]);
    t.run(
        BIN,
        &[
            "demo",
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    // The findings line above the panes takes a row: at 80x24 the Nodes pane shows the
    // control-plane nodes first.
    let screen = t.wait_until("the four panes with nodes", Duration::from_secs(30), |s| {
        has_panes(s) && s.contains("cp-1")
    });
    assert!(height < 45 || screen.contains("worker-1"), "{screen}");
    assert!(t.alternate_on(), "the TUI draws on the alternate screen");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    let after = t.wait_for("READY$", Duration::from_secs(5));
    assert!(!t.alternate_on(), "alternate screen left after q:\n{after}");
    // The kubeconfig it wrote (with a client key) is gone, and the last line says so
    // instead of pointing at a server that no longer runs.
    let path = after
        .lines()
        .find_map(|l| l.trim().strip_prefix("kubeconfig for kubectl: "))
        .unwrap_or_else(|| panic!("no kubeconfig path in the banner:\n{after}"))
        .trim()
        .to_string();
    assert!(
        !std::path::Path::new(&path).exists(),
        "{path} was left behind"
    );
    let joined = after.replace('\n', "");
    assert!(
        joined.contains(&format!("stopped; removed {path}")),
        "{after}"
    );
}

#[test]
fn demo_at_80x24() {
    demo_shows_overview_and_quits(80, 24);
}

#[test]
fn demo_at_160x45() {
    demo_shows_overview_and_quits(160, 45);
}

#[test]
fn timeline_change_appears_without_a_key_press() {
    let t = Tmux::start(160, 45, &[]);
    let launched = Instant::now();
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            "node-notready-demo",
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    t.wait_until("worker-2 listed", Duration::from_secs(30), |s| {
        has_panes(s) && s.contains("worker-2")
    });
    // worker-2 turns NotReady 20 s after the server starts; the screen must follow within 5 s.
    let screen = t.wait_until("worker-2 not ready", Duration::from_secs(40), |s| {
        s.lines().any(|l| {
            l.contains("worker-2")
                && (l.contains("NotReady") || l.contains("not ready") || l.contains("Unknown"))
        })
    });
    let elapsed = launched.elapsed();
    assert!(
        elapsed < Duration::from_secs(20 + 5 + 3),
        "took {elapsed:?}:\n{screen}"
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn tiny_terminal_gets_a_clear_message() {
    let t = Tmux::start(50, 12, &[]);
    t.run(
        BIN,
        &[
            "demo",
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    t.wait_for("too small", Duration::from_secs(30));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    t.wait_for("READY$", Duration::from_secs(5));
    assert!(!t.alternate_on());
}
