//! `ktriage serve` as a user runs it: it prints where it listens and the kubeconfig path,
//! listens on 127.0.0.1 only, answers kubectl, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// Local addresses of listening TCP sockets on `port`, from /proc/net/tcp{,6}.
fn listeners(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (cols.get(1), cols.get(3)) else {
                continue;
            };
            // 0A = LISTEN
            if *state == "0A" && local.ends_with(&format!(":{port:04X}")) {
                out.push(local.to_string());
            }
        }
    }
    out
}

#[test]
fn serve_listens_on_loopback_only_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let mut child = Command::new(BIN)
        .args(["serve", "--scenario", "healthy", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .args(["--log-file"])
        .arg(dir.path().join("log"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.split_whitespace().last().unwrap().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{first}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let second = lines.next().unwrap().unwrap();
    assert_eq!(second, format!("kubeconfig: {}", kubeconfig.display()));

    let socks = listeners(port);
    assert_eq!(
        socks,
        vec![format!("0100007F:{port:04X}")],
        "bound to 127.0.0.1 only"
    );

    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "nodes", "-o", "name"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(listeners(port).is_empty());
}
