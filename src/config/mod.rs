//! User configuration read from files: colour themes (`themes/*.toml`), keymaps
//! (`keymaps/*.toml`) and the import of k9s skins. The shipped files are embedded in the
//! binary; user files live in `$XDG_CONFIG_HOME/ktriage/` (default `~/.config/ktriage/`).
//!
//! Loading never fails: a bad user file yields [`ConfigWarning`]s naming the file and line,
//! and the shipped defaults are used for whatever could not be read. The environment is
//! passed in as an [`EnvView`] so callers (and tests) decide what the process sees.

pub mod color;
pub mod keymap;
pub mod palette;
pub mod skin;
pub mod theme;

use std::fmt;
use std::path::PathBuf;

/// Everything the TUI reads from configuration files at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    pub theme: theme::LoadedTheme,
    pub keymap: keymap::Keymap,
    /// Problems to show the user (file and line); ktriage runs on with the defaults.
    pub warnings: Vec<ConfigWarning>,
}

/// Loads the theme and the keymap (`None`: the defaults) and collects their warnings.
pub fn load(theme_name: Option<&str>, keymap_name: Option<&str>, env: &EnvView) -> Config {
    let (theme, mut warnings) = theme::load_full(theme_name, env);
    let (keymap, keymap_warnings) = keymap::load(keymap_name, env);
    warnings.extend(keymap_warnings);
    Config {
        theme,
        keymap,
        warnings,
    }
}

/// The environment variables configuration loading depends on, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvView {
    /// `NO_COLOR`: when set to a non-empty value, no colours at all (<https://no-color.org>).
    pub no_color: Option<String>,
    /// `COLORTERM`: `truecolor` or `24bit` announce 24-bit colour.
    pub colorterm: Option<String>,
    /// `TERM`: `*256color*` announces 256 colours, `dumb` none.
    pub term: Option<String>,
    /// `XDG_CONFIG_HOME`: where the `ktriage/` configuration directory lives.
    pub xdg_config_home: Option<PathBuf>,
    /// `HOME`: the fallback for `XDG_CONFIG_HOME` (`$HOME/.config`).
    pub home: Option<PathBuf>,
}

impl EnvView {
    /// Reads the variables from the process environment.
    pub fn from_process() -> EnvView {
        let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        EnvView {
            no_color: var("NO_COLOR"),
            colorterm: var("COLORTERM"),
            term: var("TERM"),
            xdg_config_home: std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            home: std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// The ktriage configuration directory: `$XDG_CONFIG_HOME/ktriage`, else
    /// `$HOME/.config/ktriage`; `None` when neither is known.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.xdg_config_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".config")))
            .map(|base| base.join("ktriage"))
    }
}

/// A problem in a configuration file that ktriage worked around (it still starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// The file, as a path or `<shipped>/NAME` for embedded files.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl From<ConfigError> for ConfigWarning {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Invalid {
                file,
                line,
                message,
            } => ConfigWarning {
                file,
                line,
                message,
            },
            ConfigError::Io { file, source } => ConfigWarning {
                file,
                line: None,
                message: source.to_string(),
            },
        }
    }
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        file: String,
        line: Option<usize>,
        message: String,
    },
}

impl ConfigError {
    /// An error at byte `offset` of `text` (converted to a 1-based line).
    pub(crate) fn at(
        file: &str,
        text: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            file: file.to_string(),
            line: offset.map(|o| line_of(text, o)),
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error, with the line of its span.
    pub(crate) fn toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        ConfigError::at(
            file,
            text,
            e.span().map(|s| s.start),
            e.message().trim().to_string(),
        )
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Reads a user file, `Ok(None)` when it does not exist.
pub(crate) fn read_optional(path: &std::path::Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Io {
            file: path.display().to_string(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        let text = "a\nbb\nccc";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 2), 2);
        assert_eq!(line_of(text, 5), 3);
        assert_eq!(line_of(text, 99), 3);
    }

    #[test]
    fn config_dir_prefers_xdg() {
        let env = EnvView {
            xdg_config_home: Some("/x".into()),
            home: Some("/h".into()),
            ..EnvView::default()
        };
        assert_eq!(env.config_dir(), Some(PathBuf::from("/x/ktriage")));
        let env = EnvView {
            home: Some("/h".into()),
            ..EnvView::default()
        };
        assert_eq!(env.config_dir(), Some(PathBuf::from("/h/.config/ktriage")));
    }
}
