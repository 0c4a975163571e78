//! The playbook runner in the real binary, in a real terminal (tmux), on the broken
//! scenario `node-notready-no-cni`: Enter on the red node and Enter again in its detail
//! opens the playbook with the cause and the fix side by side; `:playbook ID` opens it
//! directly; an error text typed into the paste box (`e`) finds it.

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");
const SCENARIO: &str = "node-notready-no-cni";
/// The playbook of the scenario (same id).
const PLAYBOOK: &str = "node-notready-no-cni";
const WAIT: Duration = Duration::from_secs(40);

/// Starts `ktriage demo` on the scenario at 160x45 and waits for the Overview with a
/// critical node its finding explains.
fn start() -> Tmux {
    let t = Tmux::start(160, 45, &[]);
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            SCENARIO,
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    // Once the findings are in, the red nodes are explained by NET-01 (before that, Enter
    // in a detail lists the candidate playbooks, not yet checked).
    t.wait_until("the Overview with a critical item explained", WAIT, |s| {
        s.contains("Nodes") && s.contains("[CRIT]") && s.contains("— because")
    });
    t
}

/// The runner of NET-01 is on screen with a finished run: the title, and the cause and the
/// fix in the diagnosis column beside the steps.
fn assert_runner_side_by_side(t: &Tmux) -> String {
    let screen = t.wait_until("the NET-01 runner with its diagnosis", WAIT, |s| {
        s.contains("NET-01 node-notready-no-cni") && s.contains("Cause") && s.contains("Fix")
    });
    let columns = screen
        .lines()
        .find(|l| l.contains("Steps") && l.contains("Diagnosis"))
        .unwrap_or_else(|| panic!("steps and diagnosis side by side:\n{screen}"));
    assert!(
        columns.find("Steps") < columns.find("Diagnosis"),
        "steps left, diagnosis right:\n{screen}"
    );
    let right = |needle: &str| {
        screen
            .lines()
            .any(|l| l.find(needle).is_some_and(|i| l[..i].chars().count() >= 80))
    };
    assert!(right("Cause"), "cause on the right:\n{screen}");
    assert!(right("Fix"), "fix on the right:\n{screen}");
    assert!(
        screen.contains("kubectl get nodes"),
        "steps listed:\n{screen}"
    );
    assert!(screen.contains("[CRIT]"), "severity as text:\n{screen}");
    screen
}

/// The selected row of the focused pane (`>` before the marker), in the right half (the
/// Nodes pane at 160 columns).
fn selected_node(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        let i = l.find(">[")?;
        (l[..i].chars().count() >= 80).then(|| l.chars().skip(80).collect())
    })
}

fn quit(t: &Tmux) {
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn enter_on_the_red_node_and_enter_in_its_detail_opens_its_playbook() {
    let t = start();
    t.send_keys(&["2", "g"]);
    t.wait_until("the Nodes pane focused on its first row", WAIT, |s| {
        s.contains("╔Nodes") && selected_node(s).is_some()
    });
    // Move down the Nodes pane until the selected row is the critical node.
    for _ in 0..30 {
        let row = selected_node(&t.capture()).unwrap_or_default();
        if row.contains("[CRIT]") {
            break;
        }
        t.send_keys(&["j"]);
        let moved = std::time::Instant::now();
        while selected_node(&t.capture()).unwrap_or_default() == row
            && moved.elapsed() < Duration::from_secs(3)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let screen = t.capture();
    assert!(
        selected_node(&screen).is_some_and(|r| r.contains("[CRIT]")),
        "no critical node to select:\n{screen}"
    );
    t.send_keys(&["Enter"]);
    t.wait_for(PLAYBOOK, WAIT);
    t.send_keys(&["Enter"]);
    assert_runner_side_by_side(&t);
    // Esc goes back to the Overview.
    t.send_keys(&["Escape"]);
    t.wait_until("the Overview again", WAIT, |s| {
        s.contains("Control plane") && !s.contains("Diagnosis")
    });
    quit(&t);
}

#[test]
fn colon_playbook_opens_that_playbook() {
    let t = start();
    t.send_keys(&[":"]);
    t.send_literal("playbook node-notready-no");
    t.send_keys(&["Tab"]);
    t.wait_for(":playbook node-notready-no-cni", WAIT);
    t.send_keys(&["Enter"]);
    assert_runner_side_by_side(&t);
    quit(&t);
}

#[test]
fn an_error_text_in_the_paste_box_finds_its_playbook() {
    let t = start();
    t.send_keys(&["e"]);
    t.wait_for("Paste the error message", WAIT);
    t.send_literal("network plugin is not ready: cni config uninitialized");
    t.wait_for("cni config uninitialized", WAIT);
    t.send_keys(&["C-s"]);
    let screen = t.wait_until("the playbook or the ranked list", WAIT, |s| {
        s.contains("NET-01 node-notready-no-cni") || s.contains("Playbooks matching")
    });
    if screen.contains("Playbooks matching") {
        // Listed first (and selected): Enter opens it.
        let first = screen
            .lines()
            .find(|l| l.contains('▶'))
            .unwrap_or_else(|| panic!("a selected match:\n{screen}"));
        assert!(first.contains(PLAYBOOK), "ranked first:\n{screen}");
        t.send_keys(&["Enter"]);
    }
    assert_runner_side_by_side(&t);
    quit(&t);
}
