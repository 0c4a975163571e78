//! `ktriage train` in the real binary: the curriculum (`--list`, `--handout`) covers every
//! exercise, and one exercise end to end in a real terminal (tmux) — the trainee runs real
//! kubectl against the printed kubeconfig in a second window and sees the commands listed
//! (ktriage's own requests are not), takes a hint, answers, sees the reveal (the playbook
//! runner with its evidence, what was looked at and missed) and the report, which is also
//! written with `--report` and counted in the progress file `--list` reads. Nothing the
//! trainee sees names the scenario: context, cluster, kubeconfig path, banner, TUI.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::tmux::Tmux;
use ktriage::train::{self, Exercise};

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");
const WAIT: Duration = Duration::from_secs(60);

fn exercise(scenario: &str) -> Exercise {
    train::curriculum()
        .into_iter()
        .find(|e| e.scenario == scenario)
        .expect("an exercise for the scenario")
}

fn ktriage_with_state(state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("KTRIAGE_LOG", "warn")
        .env("XDG_STATE_HOME", state)
        .output()
        .expect("ktriage runs")
}

#[test]
fn list_and_handout_cover_the_curriculum_and_name_no_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let all = train::curriculum();
    let list = ktriage_with_state(dir.path(), &["train", "--list"]);
    assert!(list.status.success(), "{list:?}");
    let list = String::from_utf8_lossy(&list.stdout);
    let handout_path = dir.path().join("handout.md");
    let out = ktriage_with_state(
        dir.path(),
        &["train", "--handout", handout_path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let handout = std::fs::read_to_string(&handout_path).unwrap();
    for e in &all {
        let line = list
            .lines()
            .find(|l| l.split_whitespace().any(|w| w == e.id))
            .unwrap_or_else(|| panic!("{} not in --list:\n{list}", e.id));
        assert!(line.contains(e.briefing), "{line}");
        assert!(line.contains(e.track.title()), "{line}");
        // The list is what a trainee reads first: no answer in it.
        assert!(!line.contains(e.scenario), "{line} names {}", e.scenario);
        assert!(handout.contains(&format!("### {} (level {})", e.id, e.level)));
        assert!(handout.contains(e.briefing));
        for h in e.hints {
            assert!(handout.contains(h), "hint {h:?} missing from the handout");
        }
    }
    // Five tracks, each a section of the handout; the answer key at the end.
    for t in train::Track::ALL {
        assert!(handout.contains(&format!("## {}", t.title())));
    }
    assert!(handout.contains("## Answer key"));
    // --next skips what the progress file marks solved (without a terminal it stops at
    // the TUI, after the banner, and says why).
    let first = &all[0];
    let second = &all[1];
    let progress = dir.path().join("ktriage/training.json");
    std::fs::create_dir_all(progress.parent().unwrap()).unwrap();
    std::fs::write(
        &progress,
        format!(
            r#"{{"exercises":{{"{}":{{"solved":true,"best_score":80,"attempts":1}}}}}}"#,
            first.id
        ),
    )
    .unwrap();
    let next = ktriage_with_state(dir.path(), &["train", "--next"]);
    let banner = String::from_utf8_lossy(&next.stdout);
    assert!(
        banner.contains(&format!("exercise {} (", second.id))
            && banner.contains("export KUBECONFIG="),
        "{banner}"
    );
    assert!(String::from_utf8_lossy(&next.stderr).contains("needs a terminal"));
    let list = ktriage_with_state(dir.path(), &["train", "--list"]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert_eq!(
        list.lines().filter(|l| l.starts_with('✓')).count(),
        1,
        "{list}"
    );
    // A bad exercise id says what to do.
    let bad = ktriage_with_state(dir.path(), &["train", "nope-9"]);
    assert_eq!(bad.status.code(), Some(3));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("no exercise named \"nope-9\"") && err.contains("--list"),
        "{err}"
    );
}

/// Runs kubectl in the second tmux window (window 1).
fn kubectl_in_window(t: &Tmux, kubeconfig: &Path, args: &str) {
    let line = format!("kubectl --kubeconfig {} {args}", kubeconfig.display());
    t.tmux(&["send-keys", "-t", ":1", "-l", &line]);
    t.tmux(&["send-keys", "-t", ":1", "Enter"]);
}

#[test]
fn an_exercise_end_to_end_with_kubectl_in_a_second_window() {
    let ex = exercise("service-no-endpoints");
    let state = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        140,
        40,
        &[("XDG_STATE_HOME", state.path().to_str().unwrap())],
    );
    let kc = t.dir().join("training.kubeconfig");
    let report = t.dir().join("report.md");
    t.run(
        BIN,
        &[
            "train",
            &ex.id,
            "--kubeconfig-out",
            kc.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    // The panel, and the cluster synced: ktriage's own reads are done and none is listed.
    let screen = t.wait_until("the training panel on a synced cluster", WAIT, |s| {
        s.contains(&format!("Exercise {}", ex.id)) && s.contains("synced 9/9")
    });
    assert!(
        screen.contains(ex.briefing.split(',').next().unwrap()),
        "{screen}"
    );
    assert!(screen.contains("Your kubectl commands (0)"), "{screen}");
    assert!(screen.contains("hidden until you answer"), "{screen}");
    for leak in [ex.scenario, ex.playbook.code, ex.playbook.title] {
        assert!(!screen.contains(leak), "the TUI shows {leak:?}:\n{screen}");
    }
    // The kubeconfig names the training cluster, not the scenario.
    let kubeconfig = std::fs::read_to_string(&kc).unwrap();
    assert!(
        kubeconfig.contains("current-context: training\n"),
        "{kubeconfig}"
    );
    assert!(!kubeconfig.contains(ex.scenario), "{kubeconfig}");
    let ctx = Command::new("kubectl")
        .args([
            "--kubeconfig",
            kc.to_str().unwrap(),
            "config",
            "get-contexts",
        ])
        .output()
        .unwrap();
    let ctx = String::from_utf8_lossy(&ctx.stdout);
    assert!(
        ctx.contains("training") && !ctx.contains(ex.scenario),
        "{ctx}"
    );

    // The trainee looks around with real kubectl in another window.
    t.tmux(&["new-window", "-d", "bash", "--norc", "--noprofile"]);
    kubectl_in_window(&t, &kc, "get pods -n shop");
    kubectl_in_window(&t, &kc, "get service payments -n shop -o yaml");
    t.wait_until("the trainee's commands in the panel", WAIT, |s| {
        s.contains("$ kubectl get pods -n shop")
            && s.contains("$ kubectl get services payments -n shop")
            && s.contains("Your kubectl commands (2)")
    });

    // A hint, counted.
    t.send_keys(&["H"]);
    t.wait_for("Hints 1/", WAIT);
    t.wait_for(&format!("1. {}", ex.hints[0]), WAIT);

    // The answer among plausible causes.
    t.send_keys(&["A"]);
    let screen = t.wait_for("What is the cause?", WAIT);
    let number = (1..=9)
        .find(|n| screen.contains(&format!(" {n}. {}", ex.playbook.title)))
        .unwrap_or_else(|| panic!("the right cause among the choices:\n{screen}"))
        .to_string();
    let offered = (1..=9)
        .filter(|n| screen.contains(&format!(" {n}. ")))
        .count();
    assert!(offered >= 4, "plausible causes offered:\n{screen}");
    t.send_keys(&[&number]);

    // The reveal: the runner with its evidence, then the panel's look back.
    t.wait_until("the playbook runner with its evidence", WAIT, |s| {
        s.contains(ex.playbook.code)
            && s.contains("Evidence")
            && s.contains("Endpoints/shop/payments")
    });
    t.send_keys(&["Escape"]);
    let screen = t.wait_until("the reveal in the panel", WAIT, |s| {
        s.contains("Right:") && s.contains("What you looked at") && s.contains("What you missed")
    });
    assert!(screen.contains("services shop/payments"), "{screen}");
    assert!(
        screen.contains("Endpoints/shop/payments"),
        "missed evidence:\n{screen}"
    );

    // The report, then out.
    t.send_keys(&["q"]);
    let screen = t.wait_for("Training report", WAIT);
    assert!(screen.contains("Hints used          1 of"), "{screen}");
    assert!(screen.contains("Commands run        2"), "{screen}");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(WAIT), 0);
    let screen = t.capture();
    assert!(screen.contains("export KUBECONFIG="), "{screen}");
    assert!(!screen.contains(ex.scenario), "{screen}");

    let md = std::fs::read_to_string(&report).expect("--report written");
    for want in [
        format!("exercise {}", ex.id),
        "| Hints used | 1 of".into(),
        "| Commands run | 2 |".into(),
        format!(
            "| Answer | right ({} {})",
            ex.playbook.code, ex.playbook.title
        ),
        "- `kubectl get pods -n shop`".into(),
    ] {
        assert!(
            md.contains(&want),
            "{want:?} missing from the report:\n{md}"
        );
    }
    // Progress: --list marks the exercise solved.
    let list = ktriage_with_state(state.path(), &["train", "--list"]);
    let list = String::from_utf8_lossy(&list.stdout);
    let line = list
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == ex.id))
        .unwrap();
    assert!(line.starts_with('✓'), "{list}");
}
