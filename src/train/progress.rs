//! Progress kept between sessions: which exercises were solved, the best score and the
//! attempts, as a small JSON file `training.json` under `$XDG_STATE_HOME/ktriage/`
//! (`~/.local/state/ktriage/` without it). `train --list` marks solved exercises from it;
//! `train --next` starts the first one not solved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::summary::Summary;

/// Why progress could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a training progress file ({source}); move it away to start afresh")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One exercise's record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub solved: bool,
    pub best_score: u32,
    pub attempts: u32,
}

/// Every exercise's record, by exercise id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub exercises: BTreeMap<String, Record>,
}

/// `$XDG_STATE_HOME/ktriage/training.json`, else `$HOME/.local/state/ktriage/training.json`.
pub fn default_path(xdg_state_home: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    let base = match (xdg_state_home.filter(|s| !s.is_empty()), home) {
        (Some(x), _) => PathBuf::from(x),
        (None, Some(h)) => Path::new(h).join(".local/state"),
        (None, None) => return None,
    };
    Some(base.join("ktriage").join("training.json"))
}

/// The path from this process's environment.
pub fn path_from_env() -> Option<PathBuf> {
    let x = std::env::var("XDG_STATE_HOME").ok();
    let h = std::env::var("HOME").ok();
    default_path(x.as_deref(), h.as_deref())
}

impl Progress {
    /// Reads the file; a missing file is no progress yet.
    pub fn load(path: &Path) -> Result<Progress, ProgressError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|source| ProgressError::Parse {
                path: path.to_path_buf(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
            Err(source) => Err(ProgressError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Writes the file (creating its directory).
    pub fn save(&self, path: &Path) -> Result<(), ProgressError> {
        let werr = |source| ProgressError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(werr)?;
        }
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        // Written beside and renamed: a crash never leaves half a file.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(werr)?;
        std::fs::rename(&tmp, path).map_err(werr)
    }

    /// Adds one attempt's outcome.
    pub fn record(&mut self, s: &Summary) {
        let r = self.exercises.entry(s.exercise.clone()).or_default();
        r.attempts += 1;
        r.solved |= s.solved();
        r.best_score = r.best_score.max(s.score());
    }

    pub fn solved(&self, id: &str) -> bool {
        self.exercises.get(id).is_some_and(|r| r.solved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_follows_xdg_then_home() {
        assert_eq!(
            default_path(Some("/s"), Some("/h")),
            Some(PathBuf::from("/s/ktriage/training.json"))
        );
        assert_eq!(
            default_path(Some(""), Some("/h")),
            Some(PathBuf::from("/h/.local/state/ktriage/training.json"))
        );
        assert_eq!(default_path(None, None), None);
    }

    #[test]
    fn progress_round_trips_and_a_bad_file_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/training.json");
        assert_eq!(Progress::load(&path).unwrap(), Progress::default());
        let mut p = Progress::default();
        p.exercises.insert(
            "wl-1".into(),
            Record {
                solved: true,
                best_score: 70,
                attempts: 2,
            },
        );
        p.save(&path).unwrap();
        let back = Progress::load(&path).unwrap();
        assert!(back.solved("wl-1") && !back.solved("wl-2"));
        std::fs::write(&path, "not json").unwrap();
        let err = Progress::load(&path).unwrap_err().to_string();
        assert!(err.contains("move it away"), "{err}");
    }
}
