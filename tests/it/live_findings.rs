//! Issue 12 ("Root cause first"): findings are live in the TUI. Over every embedded scenario
//! the model the TUI draws (built headless by the same producer `ktriage demo` starts,
//! against the embedded server over HTTPS) holds, after its first evaluation, the findings
//! of the real binary's `check --scenario ID -o json`, in the same order, and the status line
//! shows the verdict check's exit code stands for. In a real terminal, `ktriage demo
//! --scenario kubelet-port-unreachable` shows its NET-05 finding within 10 s of its start
//! without a key pressed.

use crate::common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use ktriage::app::{App, Model, Msg};
use ktriage::cluster::SyncState;
use ktriage::source::{self, SourceSpec};
use serde_json::Value;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// `check --scenario ID -o json`, started now (it runs while the TUI path is driven).
fn start_check(id: &str) -> std::process::Child {
    Command::new(BIN)
        .args(["check", "--output", "json", "--scenario", id])
        .env("KTRIAGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ktriage check runs")
}

/// The playbook ids of check's findings, in order, and its exit code.
fn finish_check(id: &str, child: std::process::Child) -> (Vec<String>, i32) {
    let out = child.wait_with_output().expect("ktriage check finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "check --scenario {id} printed no JSON ({e}), exit {:?}:\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let ids = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["playbook"].as_str().unwrap_or_default().to_string())
        .collect();
    (ids, out.status.code().unwrap_or(-1))
}

/// The first model that holds the first evaluation's findings and a health report built
/// after the watchers settled (as check judges), within a generous deadline.
async fn first_evaluated_model(id: &str) -> Arc<Model> {
    let live = source::connect_live(&SourceSpec::Scenario(id.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{id}: connect: {e:#}"));
    let (mut rx, producer) = source::spawn_producer(&live);
    let _keep = source::KeepAlive::new(live, producer);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut first = None;
    loop {
        {
            let model = rx.borrow_and_update().clone();
            if let Some(at) = model.findings.evaluated_at {
                let first = *first.get_or_insert(at);
                let settled = !model.sync.is_empty()
                    && model
                        .sync
                        .iter()
                        .all(|s| !matches!(s.state, SyncState::Syncing));
                if at == first && settled {
                    return model;
                }
            }
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("{id}: the producer stopped before the first findings"),
            Err(_) => panic!(
                "{id}: no evaluated findings within 90 s: {:?}",
                rx.borrow().findings
            ),
        }
    }
}

#[test]
fn the_tui_model_holds_the_findings_check_reports_for_every_scenario() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut checked = 0;
    for id in ktriage::scenarios::ids() {
        let child = start_check(id);
        // check exits 3 when the doctor finds nothing readable: the TUI then shows the
        // doctor screen, whose findings are the doctor's (tests/doctor_tui.rs).
        let blocked = rt.block_on(async {
            use ktriage::cluster::doctor::{self, Verdict};
            let spec = SourceSpec::Scenario(id.to_string());
            let examined =
                ktriage::source::examine::examine_spec(&spec, &doctor::Options::default())
                    .await
                    .expect("the doctor examines a served scenario");
            (examined.observation.verdict() == Verdict::Blocked).then_some(examined.observation)
        });
        if let Some(observation) = blocked {
            let runs = rt.block_on(ktriage::playbooks::connection::diagnose(
                &observation,
                chrono::Utc::now(),
            ));
            let doctor_ids: Vec<String> = runs
                .iter()
                .filter(|r| r.finding.is_some())
                .map(|r| r.playbook.id.to_string())
                .collect();
            let (ids, code) = finish_check(id, child);
            assert_eq!(code, 3, "{id}: blocked for the doctor, so check cannot run");
            assert_eq!(doctor_ids, ids, "{id}: the doctor screen's findings");
            continue;
        }
        let model = rt.block_on(first_evaluated_model(id));
        let (ids, code) = finish_check(id, child);
        let tui_ids: Vec<String> = model
            .findings
            .iter()
            .map(|(r, _)| r.playbook.id.to_string())
            .collect();
        assert_eq!(tui_ids, ids, "{id}: the TUI's findings against check's");

        // The status line shows the verdict check's exit code stands for.
        let mut app = App::new();
        app.update(Msg::Resize(120, 36));
        app.update(Msg::ModelChanged(model.clone()));
        assert_eq!(app.level().exit_code(), code, "{id}: verdict vs exit code");
        let screen =
            ktriage::ui::buffer_lines(&ktriage::ui::render_to_buffer(&app, &model, 120, 36));
        let status = screen.last().expect("a status line");
        let word = ["OK", "WARNING", "CRITICAL"][usize::try_from(code).unwrap_or(0).min(2)];
        assert!(
            status.starts_with(&format!(" {word} │")),
            "{id}: check exits {code}, the status line reads:\n{status}"
        );
        // The top finding leads the Overview.
        if let Some((run, _)) = model.findings.iter().next() {
            assert!(
                screen[..8].iter().any(|l| l.contains(run.playbook.code)),
                "{id}: {} is not at the top:\n{}",
                run.playbook.code,
                screen.join("\n")
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} scenarios reached the Overview"
    );
}

fn demo_shows_net05(width: u16, height: u16) {
    let t = Tmux::start(width, height, &[]);
    let started = std::time::Instant::now();
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            "kubelet-port-unreachable",
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    let screen = t.wait_until(
        "the NET-05 finding on the Overview",
        Duration::from_secs(90),
        |s| s.contains("NET-05") && s.contains("Control plane"),
    );
    // Issue 12: within 10 s of the start, without any key pressed.
    let took = started.elapsed();
    assert!(
        took <= Duration::from_secs(10),
        "NET-05 appeared only after {took:?}"
    );
    assert!(screen.contains("finding"), "{screen}");
    assert!(
        screen.contains("findings "),
        "the cadence is shown:\n{screen}"
    );
    let status = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(status.contains("CRITICAL"), "{screen}");
    // Enter on the finding (it has the focus) opens its playbook in the runner.
    t.send_keys(&["Enter"]);
    t.wait_until(
        "the runner of kubelet-port-unreachable",
        Duration::from_secs(60),
        |s| s.contains("kubelet-port-unreachable") && !s.contains("Control plane ("),
    );
    t.send_keys(&["Escape", "q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn demo_shows_the_net05_finding_without_a_key_at_80x24() {
    demo_shows_net05(80, 24);
}

#[test]
fn demo_shows_the_net05_finding_without_a_key_at_120x36() {
    demo_shows_net05(120, 36);
}
