//! Copying text from the TUI: through the system clipboard (arboard) where a display is
//! available, else through OSC 52, which works over SSH and inside tmux (with
//! `set-clipboard on`) and GNU screen (wrapped in a DCS passthrough). `KTRIAGE_CLIPBOARD=osc52`
//! or `=system` forces one. arboard is created off the UI thread with a timeout: with a
//! stale forwarded X display it can block for over a minute.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;

/// How long the system clipboard may take before OSC 52 is used instead.
const SYSTEM_TIMEOUT: Duration = Duration::from_secs(2);

/// Which way text was copied, for the confirmation the user sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    System,
    Osc52,
}

/// The environment that decides the way (explicit, so tests need not touch the process env).
#[derive(Debug, Clone, Default)]
pub struct ClipboardEnv {
    pub forced: Option<String>,
    pub display: bool,
    pub tmux: bool,
    pub screen: bool,
}

impl ClipboardEnv {
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ClipboardEnv {
            forced: var("KTRIAGE_CLIPBOARD"),
            display: var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some(),
            tmux: var("TMUX").is_some(),
            screen: var("STY").is_some() || var("TERM").is_some_and(|t| t.starts_with("screen")),
        }
    }
}

/// The OSC 52 sequence that puts `text` on the clipboard. Inside tmux the plain sequence is
/// right (tmux stores it in its buffer and forwards it when `set-clipboard` is on); GNU
/// screen does not know OSC 52, so there it is wrapped in a DCS passthrough for the outer
/// terminal.
pub fn osc52(text: &str, env: &ClipboardEnv) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{b64}\x07");
    if env.screen && !env.tmux {
        format!("\x1bP{seq}\x1b\\")
    } else {
        seq
    }
}

fn system_copy(text: &str) -> bool {
    let (tx, rx) = mpsc::channel();
    let owned = text.to_string();
    std::thread::spawn(move || {
        let ok = arboard::Clipboard::new()
            .and_then(|mut c| c.set_text(owned))
            .is_ok();
        let _ = tx.send(ok);
    });
    rx.recv_timeout(SYSTEM_TIMEOUT).unwrap_or(false)
}

/// Copies `text`, writing an OSC 52 sequence to `out` (the terminal) when the system
/// clipboard is not used or fails.
pub fn copy(text: &str, env: &ClipboardEnv, out: &mut impl Write) -> std::io::Result<Via> {
    let try_system = match env.forced.as_deref() {
        Some("osc52") => false,
        Some("system") => true,
        _ => env.display,
    };
    if try_system && system_copy(text) {
        return Ok(Via::System);
    }
    out.write_all(osc52(text, env).as_bytes())?;
    out.flush()?;
    Ok(Via::Osc52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_plain_in_tmux_and_wrapped_in_screen() {
        let tmux = ClipboardEnv {
            tmux: true,
            screen: true,
            ..Default::default()
        };
        assert_eq!(
            osc52("kubectl get nodes", &tmux),
            "\x1b]52;c;a3ViZWN0bCBnZXQgbm9kZXM=\x07"
        );
        let screen = ClipboardEnv {
            screen: true,
            ..Default::default()
        };
        assert_eq!(osc52("hi", &screen), "\x1bP\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn without_a_display_the_text_goes_out_as_osc52() {
        let mut out = Vec::new();
        let via = copy("x", &ClipboardEnv::default(), &mut out).unwrap();
        assert_eq!(via, Via::Osc52);
        assert_eq!(out, b"\x1b]52;c;eA==\x07");
    }
}
