//! Small commands a user or packager relies on: shell completions and the man page generated
//! from the clap definitions, and the playbook and scenario lists.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn stdout(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("ktriage runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completions_and_man_page_cover_every_subcommand() {
    let bash = stdout(&["completions", "bash"]);
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH ktriage 1"),
        "{man}"
    );
    for sub in [
        "demo",
        "check",
        "serve",
        "snapshot",
        "explain",
        "playbooks",
        "scenarios",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
        assert!(man.contains(sub), "man page lacks {sub}");
    }
    let zsh = stdout(&["completions", "zsh"]);
    assert!(
        zsh.starts_with("#compdef ktriage"),
        "{}",
        &zsh[..40.min(zsh.len())]
    );
}

#[test]
fn lists_are_machine_readable() {
    let scenarios: serde_json::Value =
        serde_json::from_str(&stdout(&["scenarios", "-o", "json"])).unwrap();
    assert_eq!(scenarios[0]["id"], "healthy");
    let playbooks: serde_json::Value =
        serde_json::from_str(&stdout(&["playbooks", "-o", "json"])).unwrap();
    for p in playbooks.as_array().unwrap() {
        for key in ["id", "code", "title", "access"] {
            assert!(p[key].is_string(), "{p}");
        }
    }
}

#[test]
fn export_haproxy_writes_a_configuration_haproxy_accepts() {
    let cfg = stdout(&[
        "export",
        "haproxy",
        "--scenario",
        "nodeport-needs-external-lb",
    ]);
    // externalTrafficPolicy Local: only the nodes with a ready endpoint serve the frontend.
    let guestbook: Vec<&str> = cfg
        .split("\nbackend guestbook_frontend\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no guestbook backend:\n{cfg}"))
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.trim_start().starts_with("server "))
        .collect();
    assert_eq!(guestbook.len(), 2, "{cfg}");
    assert!(
        guestbook.iter().all(|l| l.ends_with(":30197 check")),
        "{guestbook:?}"
    );
    // Control-plane nodes are labelled exclude-from-external-load-balancers.
    assert!(!cfg.contains("server cp-"), "{cfg}");

    // The same from a snapshot, and HAProxy itself checks the result.
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.yaml");
    stdout(&[
        "snapshot",
        "--scenario",
        "nodeport-needs-external-lb",
        "-o",
        snap.to_str().unwrap(),
    ]);
    let offline = stdout(&["export", "haproxy", "--snapshot", snap.to_str().unwrap()]);
    assert_eq!(offline, cfg);
    let file = dir.path().join("haproxy.cfg");
    std::fs::write(&file, &cfg).unwrap();
    let check = Command::new("haproxy")
        .args(["-c", "-f"])
        .arg(&file)
        .output()
        .expect("haproxy is installed (.ci/run installs it)");
    assert!(
        check.status.success(),
        "haproxy -c refused it:\n{}\n{cfg}",
        String::from_utf8_lossy(&check.stderr)
    );
}
