//! Bad input through the real binary: certificate files that are FIFOs, and arbitrary bytes
//! fed to the snapshot parser and the kubeconfig loader (a seeded generator in-tree: the
//! same inputs on every run, bounded in time) — nothing hangs, nothing panics, every refusal
//! names the file.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// A kubeconfig whose `certificate-authority` is a FIFO nobody writes to: kube's loader
/// opened it and waited forever (`check --timeout 5` hung with no output); now the file is
/// refused at once, by name.
#[test]
fn a_fifo_as_certificate_authority_is_refused_not_waited_on() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(common::serve(common::scenario("healthy")));
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("ca.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let kc: String = server
        .kubeconfig
        .lines()
        .map(|l| match l.split_once("certificate-authority-data:") {
            Some((indent, _)) => format!("{indent}certificate-authority: {}", fifo.display()),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, kc).expect("kubeconfig written");
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&path)
        .args(["check", "--timeout", "5"])
        .env("KTRIAGE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ktriage runs");
    // Never a hang: past the timeout and a margin, the child is killed and the test fails.
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("check --timeout 5 still running after 15 s with a FIFO as CA file");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("ca.fifo") && text.contains("FIFO"),
        "the FIFO is named:\n{text}"
    );
}
