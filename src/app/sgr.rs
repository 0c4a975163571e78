//! Terminal output that 16-colour terminals understand. crossterm writes even the 16 ANSI
//! colours in the 256-colour form (`ESC[38;5;1m`), which a terminal that knows only the 16
//! colours (the Linux console, `screen` without 256-colour support, old serial consoles)
//! shows wrongly or not at all. [`Ansi16Writer`] sits between the backend and the terminal and
//! rewrites palette entries 0–15 to the classic codes (`31`, `91`, `41`, `101`…), which mean
//! the same colours on every terminal. Everything else passes through untouched, including
//! sequences split across writes.

use std::io::{self, Write};

/// A writer that rewrites `38;5;N` / `48;5;N` (N < 16) as SGR 30–37, 90–97, 40–47, 100–107.
#[derive(Debug)]
pub struct Ansi16Writer<W: Write> {
    inner: W,
    /// The start of an escape sequence that has not ended yet.
    pending: Vec<u8>,
}

/// Longest sequence held back waiting for its end; longer ones are not SGR and pass.
const MAX_PENDING: usize = 64;

impl<W: Write> Ansi16Writer<W> {
    pub fn new(inner: W) -> Self {
        Ansi16Writer {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'[') {
                let start = i + 2;
                let mut end = start;
                while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b';') {
                    end += 1;
                }
                if end == bytes.len() {
                    // Not ended yet: keep it for the next write (unless it cannot be SGR).
                    if bytes.len() - i <= MAX_PENDING {
                        self.pending.extend_from_slice(&bytes[i..]);
                    } else {
                        out.extend_from_slice(&bytes[i..]);
                    }
                    break;
                }
                if bytes[end] == b'm' {
                    out.extend_from_slice(b"\x1b[");
                    out.extend_from_slice(downgrade(&bytes[start..end]).as_bytes());
                    out.push(b'm');
                } else {
                    out.extend_from_slice(&bytes[i..=end]);
                }
                i = end + 1;
            } else if bytes[i] == 0x1b && i + 1 == bytes.len() {
                self.pending.push(0x1b);
                break;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        self.inner.write_all(&out)
    }
}

/// The SGR parameters with 256-colour palette entries 0–15 written as 16-colour codes.
fn downgrade(params: &[u8]) -> String {
    let text = String::from_utf8_lossy(params);
    let parts: Vec<&str> = text.split(';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        match (parts[i], parts.get(i + 1), parts.get(i + 2)) {
            (kind @ ("38" | "48"), Some(&"5"), Some(n)) => {
                match n.parse::<u8>() {
                    Ok(n) if n < 16 => {
                        let base = match (kind, n < 8) {
                            ("38", true) => 30,
                            ("38", false) => 90,
                            (_, true) => 40,
                            (_, false) => 100,
                        };
                        out.push((base + u16::from(n % 8)).to_string());
                    }
                    _ => out.extend([kind, "5", n].map(str::to_string)),
                }
                i += 3;
            }
            // RGB: copied whole, so its numbers are not read as codes.
            (kind @ ("38" | "48"), Some(&"2"), _) => {
                let end = (i + 5).min(parts.len());
                out.push(kind.to_string());
                out.extend(parts[i + 1..end].iter().map(|p| p.to_string()));
                i = end;
            }
            (p, _, _) => {
                out.push(p.to_string());
                i += 1;
            }
        }
    }
    out.join(";")
}

impl<W: Write> Write for Ansi16Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(buf);
        self.emit(&bytes)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // A flush ends a frame: nothing may stay behind.
        let rest = std::mem::take(&mut self.pending);
        self.inner.write_all(&rest)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(chunks: &[&[u8]]) -> String {
        let mut w = Ansi16Writer::new(Vec::new());
        for c in chunks {
            w.write_all(c).unwrap();
        }
        w.flush().unwrap();
        String::from_utf8(w.inner).unwrap()
    }

    #[test]
    fn palette_entries_below_16_become_classic_codes() {
        assert_eq!(through(&[b"\x1b[38;5;1mred"]), "\x1b[31mred");
        assert_eq!(through(&[b"\x1b[38;5;9m"]), "\x1b[91m");
        assert_eq!(through(&[b"\x1b[48;5;4m"]), "\x1b[44m");
        assert_eq!(through(&[b"\x1b[48;5;15m"]), "\x1b[107m");
        assert_eq!(through(&[b"\x1b[1;38;5;2;48;5;0m"]), "\x1b[1;32;40m");
    }

    #[test]
    fn everything_else_passes_untouched() {
        for s in [
            "\x1b[38;5;200m",
            "\x1b[38;2;1;2;3m",
            "\x1b[0m",
            "\x1b[2J",
            "\x1b[10;20H",
            "\x1b]52;c;aGk=\x07",
            "plain ü text",
        ] {
            assert_eq!(through(&[s.as_bytes()]), s);
        }
    }

    #[test]
    fn a_sequence_split_across_writes_is_still_rewritten() {
        assert_eq!(through(&[b"ab\x1b", b"[38;5", b";3mc"]), "ab\x1b[33mc");
    }
}
