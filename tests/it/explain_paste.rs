//! Issue 12, "`explain` reads the paste": the subjects of the pasted error decide what runs.
//! Jane's Forbidden on the healthy scenario runs the access review for jane (not for the
//! admin who is logged in) and names the missing permission and the roles that would grant
//! it; a connection-refused text without any cluster is still explained: what it means, the
//! likely causes ranked, and the commands that tell them apart.

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

const JANE: &str = "Error from server (Forbidden): nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope";

fn explain(args: &[&str]) -> (String, i32) {
    let out = Command::new(BIN)
        .arg("explain")
        .args(args)
        .env("KTRIAGE_LOG", "warn")
        // No cluster unless a flag names one.
        .env("KUBECONFIG", "/nonexistent/ktriage-test-kubeconfig")
        .output()
        .expect("ktriage explain runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn janes_forbidden_on_the_healthy_scenario_reviews_janes_access() {
    let (text, code) = explain(&[JANE, "--scenario", "healthy"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Access review for jane: not allowed to list nodes at the cluster scope"),
        "{text}"
    );
    assert!(
        text.contains("kubectl auth can-i list nodes --as jane"),
        "{text}"
    );
    assert!(text.contains("--user=jane"), "a binding for jane:\n{text}");
    assert!(
        !text.contains("not present on this cluster"),
        "the admin's access is not the question:\n{text}"
    );

    let (json, _) = explain(&[JANE, "--scenario", "healthy", "--output", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(report["subjects"]["users"][0], "jane", "{report:#}");
    let review = &report["access_reviews"][0];
    assert_eq!(review["user"], "jane", "{report:#}");
    assert_eq!(review["allowed"], false, "{report:#}");
    assert_eq!(review["missing"], "list nodes at the cluster scope");
    let granted: Vec<&str> = review["granted_by"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        granted.iter().all(|g| g.starts_with("ClusterRole/")) && !granted.is_empty(),
        "{report:#}"
    );
}

#[test]
fn connection_refused_without_a_cluster_is_explained() {
    let (text, code) = explain(&[
        "The connection to the server 10.0.0.10:6443 was refused - did you specify the right host or port?",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Read from the text: address: 10.0.0.10:6443"),
        "{text}"
    );
    assert!(
        text.contains("What it means: The TCP connection to 10.0.0.10:6443 was actively refused"),
        "{text}"
    );
    let causes: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Likely causes"))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(causes.len() >= 2, "ranked causes:\n{text}");
    assert!(
        causes[0].trim_start().starts_with("1. Nothing listens"),
        "{text}"
    );
    assert!(text.contains("$ nc -vz 10.0.0.10 6443"), "{text}");

    let (json, _) = explain(&[
        "dial tcp 10.0.0.10:6443: connect: connection refused",
        "--output",
        "json",
    ]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert!(
        report["meaning"]["causes"]
            .as_array()
            .is_some_and(|c| c.len() >= 2),
        "{report:#}"
    );
}

/// The same in the TUI's paste box (`e`): jane's Forbidden on the healthy demo shows jane's
/// access review with the grant; a refused connection shows its meaning and ranked causes.
#[test]
fn the_paste_box_reads_janes_forbidden_and_a_refused_connection() {
    use crate::common::tmux::Tmux;
    use std::time::Duration;
    let wait = Duration::from_secs(60);
    let t = Tmux::start(120, 36, &[]);
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            "healthy",
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    t.wait_for("Control plane", wait);
    t.send_keys(&["e"]);
    t.wait_for("Paste the error message", wait);
    t.send_literal(JANE);
    t.wait_for("at the cluster scope", wait);
    t.send_keys(&["C-s"]);
    // Waits for the whole result (a capture can catch a frame half drawn).
    t.wait_until("jane's access review, its fix and the match", wait, |s| {
        s.contains("jane may not list nodes at the cluster scope")
            && s.contains("--user=jane")
            && s.contains("AUTH-01")
    });
    // Esc goes back to the text, Esc again to the Overview; then a refused connection.
    t.send_keys(&["Escape"]);
    t.wait_for("Paste the error message", wait);
    t.send_keys(&["Escape"]);
    t.wait_until("the Overview", wait, |s| s.contains("Control plane ("));
    t.send_keys(&["e"]);
    t.wait_for("Paste the error message", wait);
    t.send_literal("dial tcp 10.0.0.10:6443: connect: connection refused");
    t.wait_for("connection refused", wait);
    t.send_keys(&["C-s"]);
    t.wait_until(
        "the meaning of a refused connection and its check",
        wait,
        |s| {
            s.contains("Means")
                && s.contains("1. Nothing listens on 10.0.0.10:6443")
                && s.contains("nc -vz 10.0.0.10 6443")
        },
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}
