//! A private tmux server running the real binary in a real terminal: send keys, poll the
//! captured screen for text (never sleep-and-hope), and read the exit code the wrapper
//! recorded.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU32 = AtomicU32::new(0);

pub struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a detached session of `width`x`height` running an interactive shell with a
    /// known prompt (`READY$ `), in a fresh temp dir as HOME.
    pub fn start(width: u16, height: u16, env: &[(&str, &str)]) -> Tmux {
        let socket = format!(
            "ktriage-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let t = Tmux { socket, dir };
        let mut cmd = t.cmd();
        cmd.args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ]);
        cmd.args(["-e", &format!("HOME={}", t.dir.path().display())]);
        cmd.args(["-e", "PS1=READY$ ", "-e", "TERM=xterm-256color"]);
        for (k, v) in env {
            cmd.args(["-e", &format!("{k}={v}")]);
        }
        cmd.args(["bash", "--norc", "--noprofile"]);
        let status = cmd.status().expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        let _ = t.cmd().args(["set-option", "-g", "status", "off"]).status();
        t.wait_for("READY$", Duration::from_secs(10));
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// Runs a tmux command on this server and returns its standard output.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Types a command line that runs `program args` and records its exit code in a file.
    pub fn run(&self, program: &str, args: &[&str]) {
        let quoted: Vec<String> = std::iter::once(program)
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        let line = format!(
            "{} 2>{}/stderr; echo $? > {}/exit-code",
            quoted.join(" "),
            self.dir.path().display(),
            self.dir.path().display()
        );
        self.send_literal(&line);
        self.send_keys(&["Enter"]);
    }

    /// Sends tmux key names (`Enter`, `Escape`, `q`, `Down`…).
    pub fn send_keys(&self, keys: &[&str]) {
        let status = self
            .cmd()
            .arg("send-keys")
            .args(["-t", "0"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// Sends text literally.
    pub fn send_literal(&self, text: &str) {
        let status = self
            .cmd()
            .args(["send-keys", "-t", "0", "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(status.success());
    }

    /// The visible screen as text.
    pub fn capture(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "0"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen with colour escapes (`capture-pane -e`).
    pub fn capture_escapes(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-e", "-t", "0"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the pane is in the alternate screen.
    pub fn alternate_on(&self) -> bool {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", "0", "#{alternate_on}"])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `timeout`.
    pub fn wait_until(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        // A deadline, not a pause: it returns as soon as the state shows. Never under 30 s, so
        // a loaded machine (the suite beside a build, CI) does not fail a correct screen.
        let timeout = timeout.max(Duration::from_secs(30));
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                let stderr =
                    std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default();
                panic!(
                    "timed out after {timeout:?} waiting for {what}; screen:\n{screen}\nstderr:\n{stderr}"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(text, timeout, |s| s.contains(text))
    }

    /// The exit code the wrapper recorded, once the program ended.
    pub fn exit_code(&self, timeout: Duration) -> i32 {
        let path = self.dir.path().join("exit-code");
        let start = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(&path)
                && let Ok(code) = s.trim().parse()
            {
                return code;
            }
            assert!(
                start.elapsed() < timeout,
                "program did not exit; screen:\n{}",
                self.capture()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}
