//! Loading a snapshot directory, such as the one `kubectl cluster-info dump
//! --output-directory DIR` writes: `nodes.json`, `NS/{pods,events,services,...}.json` (each a
//! `*List`), and `NS/POD/logs.txt` with one `==== START logs ... ====` section per container.
//! Every `*.json`, `*.yaml` and `*.yml` file below the directory is read; hidden entries and
//! symlinked directories are skipped.

use std::fs;
use std::path::{Path, PathBuf};

use super::parse::pod_logs_file;
use super::{Snapshot, SnapshotError};

fn io_error(path: &Path, reason: std::io::Error) -> SnapshotError {
    SnapshotError::Io {
        path: path.display().to_string(),
        reason,
    }
}

pub(crate) fn load_dir(root: &Path) -> Result<Snapshot, SnapshotError> {
    let mut snapshot = Snapshot::default();
    visit(root, &mut snapshot)?;
    Ok(snapshot)
}

fn visit(dir: &Path, snapshot: &mut Snapshot) -> Result<(), SnapshotError> {
    let mut entries: Vec<(PathBuf, fs::FileType)> = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type().map_err(|e| io_error(&path, e))?;
        entries.push((path, file_type));
    }
    // Files before directories, each by name, so `nodes.json` comes before namespaces.
    entries.sort_by(|a, b| (a.1.is_dir(), &a.0).cmp(&(b.1.is_dir(), &b.0)));
    for (path, file_type) in entries {
        if file_type.is_dir() {
            visit(&path, snapshot)?;
            continue;
        }
        // Follow a symlink only to a regular file.
        if file_type.is_symlink() && !fs::metadata(&path).map(|m| m.is_file()).unwrap_or(false) {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name == "logs.txt" {
            let bytes = fs::read(&path).map_err(|e| io_error(&path, e))?;
            // Logs are not always valid UTF-8; keep what can be read.
            let text = String::from_utf8_lossy(&bytes);
            let pod = dir_name(path.parent());
            let namespace = dir_name(path.parent().and_then(Path::parent));
            snapshot
                .pod_logs
                .extend(pod_logs_file(&text, &namespace, &pod));
        } else if matches!(ext.as_str(), "json" | "yaml" | "yml") {
            let text = fs::read_to_string(&path).map_err(|e| io_error(&path, e))?;
            let part = Snapshot::parse_str(&text, &path.display().to_string())?;
            snapshot.merge(part);
        }
    }
    Ok(())
}

fn dir_name(path: Option<&Path>) -> String {
    path.and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
