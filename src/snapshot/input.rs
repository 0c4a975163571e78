//! Reading files the user points ktriage at (snapshots, kubeconfigs, token files) with
//! limits: only regular files, opened without blocking (a FIFO or a device never hangs the
//! read), and never more than a stated number of bytes (`/dev/zero` or a huge file is refused,
//! not read until memory runs out).

use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Said once: the cause is part of the message, not a source to repeat.
    #[error("{path}: {reason}")]
    Io {
        path: String,
        reason: std::io::Error,
    },
    #[error(
        "{path} is {what}, not a regular file: give the path of a file (a FIFO, device or socket is not read)"
    )]
    NotRegular { path: String, what: &'static str },
    #[error("{path} is larger than the limit of {limit} for {purpose}: refusing to read it")]
    TooLarge {
        path: String,
        limit: String,
        purpose: &'static str,
    },
}

/// A byte count in words: `2 GiB`, `64 KiB`, `12 bytes`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Reads a regular file of at most `limit` bytes. The file is opened non-blocking, so a FIFO
/// or a device is refused at once instead of waiting for a writer.
pub fn read_limited(path: &Path, limit: u64, purpose: &'static str) -> Result<Vec<u8>, InputError> {
    let shown = path.display().to_string();
    let io = |reason| InputError::Io {
        path: shown.clone(),
        reason,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(InputError::NotRegular {
            path: shown,
            what: kind_of(&meta.file_type()),
        });
    }
    let too_large = || InputError::TooLarge {
        path: shown.clone(),
        limit: human_bytes(limit),
        purpose,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // A file that grows while it is read still stops at the limit.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text_limited(
    path: &Path,
    limit: u64,
    purpose: &'static str,
) -> Result<String, InputError> {
    let bytes = read_limited(path, limit, purpose)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.display().to_string(),
        reason: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_words() {
        assert_eq!(human_bytes(2 << 30), "2 GiB");
        assert_eq!(human_bytes(1 << 20), "1 MiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_and_an_oversized_file_are_refused_at_once() {
        let e = read_limited(Path::new("/dev/zero"), 10, "a test").unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big");
        std::fs::write(&f, vec![b'x'; 11]).unwrap();
        let e = read_limited(&f, 10, "a test").unwrap_err();
        assert!(e.to_string().contains("limit of 10 bytes"), "{e}");
        assert_eq!(read_limited(&f, 11, "a test").unwrap().len(), 11);
    }
}
