//! The doctor screen in a real terminal (tmux): `ktriage --kubeconfig BROKEN` opens the app
//! on the doctor's screen (cause and fix instead of failing watchers), `r` runs the checks
//! again, they also run again by themselves with a visible countdown, `y` copies the fix,
//! and once the kubeconfig points at a working cluster the Overview opens; `q` quits with
//! exit code 3 and the terminal restored. Everything stays on 127.0.0.1.

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// A kubeconfig whose server is a closed port on 127.0.0.1.
fn broken_kubeconfig(rt: &tokio::runtime::Runtime, path: &std::path::Path) {
    let handle = rt.block_on(common::serve(common::scenario("apiserver-unreachable")));
    handle.write_kubeconfig(path).unwrap();
}

#[test]
fn broken_kubeconfig_shows_the_doctor_and_r_rechecks_until_it_works() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Tmux::start(80, 24, &[]);
    let kubeconfig = t.dir().join("broken.kubeconfig");
    broken_kubeconfig(&rt, &kubeconfig);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(
        BIN,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--log-file",
            &log,
        ],
    );
    let screen = t.wait_until("the doctor screen", Duration::from_secs(20), |s| {
        s.contains("Cause: CONN-02 apiserver-unreachable") && s.contains("Checks (run 1")
    });
    assert!(screen.contains("Fix"), "{screen}");
    assert!(screen.contains("connection refused"), "{screen}");
    assert!(screen.contains("r retry"), "{screen}");
    assert!(t.alternate_on());

    // r runs the checks again: still broken, run 2.
    t.send_keys(&["r"]);
    t.wait_for("Checks (run 2", Duration::from_secs(20));

    // Fix the world: the kubeconfig now names a working cluster; r goes on to the app.
    let healthy = rt.block_on(common::serve(common::scenario("healthy")));
    healthy.write_kubeconfig(&kubeconfig).unwrap();
    t.send_keys(&["r"]);
    t.wait_until("the main app", Duration::from_secs(30), |s| {
        s.contains("Control plane") && s.contains("Nodes")
    });
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    drop(healthy);
}

#[test]
fn q_on_the_doctor_screen_exits_3_and_restores_the_terminal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Tmux::start(80, 24, &[]);
    let kubeconfig = t.dir().join("broken.kubeconfig");
    broken_kubeconfig(&rt, &kubeconfig);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(
        BIN,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--log-file",
            &log,
        ],
    );
    t.wait_for("Cause: CONN-02", Duration::from_secs(20));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 3);
    let after = t.wait_for("READY$", Duration::from_secs(5));
    assert!(!t.alternate_on(), "alternate screen left:\n{after}");
}

#[test]
fn the_doctor_checks_again_by_itself_and_opens_the_overview_once_the_cluster_answers() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Tmux::start(100, 30, &[]);
    let kubeconfig = t.dir().join("broken.kubeconfig");
    broken_kubeconfig(&rt, &kubeconfig);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(
        BIN,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--log-file",
            &log,
        ],
    );
    t.wait_until(
        "the doctor with its countdown",
        Duration::from_secs(20),
        |s| s.contains("Cause: CONN-02") && s.contains("next retry in"),
    );
    // y copies the fix commands (or says why it cannot).
    t.send_keys(&["y"]);
    t.wait_until("the copy notice", Duration::from_secs(5), |s| {
        s.contains("Copied (") || s.contains("Could not copy")
    });
    // Without a key: the checks run again by themselves.
    t.wait_for("Checks (run 2", Duration::from_secs(20));
    // Fix the world and press nothing: the next automatic check opens the Overview.
    let healthy = rt.block_on(common::serve(common::scenario("healthy")));
    healthy.write_kubeconfig(&kubeconfig).unwrap();
    t.wait_until("the Overview", Duration::from_secs(30), |s| {
        s.contains("Control plane") && s.contains("worker-1")
    });
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    drop(healthy);
}

/// `d` on the doctor screen opens the embedded demo in the same session: the Overview of the
/// healthy scenario, the notice naming a kubeconfig for kubectl, which goes when ktriage
/// quits (exit 0: a cluster was on screen).
#[test]
fn d_opens_the_demo_in_the_same_session() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Tmux::start(160, 40, &[]);
    let kubeconfig = t.dir().join("broken.kubeconfig");
    broken_kubeconfig(&rt, &kubeconfig);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(
        BIN,
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--log-file",
            &log,
        ],
    );
    t.wait_for("Cause: CONN-02", Duration::from_secs(20));
    t.send_keys(&["d"]);
    let screen = t.wait_until("the demo's Overview", Duration::from_secs(30), |s| {
        s.contains("Control plane") && s.contains("worker-1")
    });
    let demo_kubeconfig = screen
        .split("kubeconfig for kubectl: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("no kubeconfig named in the notice:\n{screen}"));
    assert!(
        demo_kubeconfig.exists(),
        "{} missing",
        demo_kubeconfig.display()
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    assert!(
        !demo_kubeconfig.exists(),
        "{} left behind",
        demo_kubeconfig.display()
    );
}
