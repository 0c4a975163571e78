//! The one place colours live: a palette of semantic roles (ok, warning, critical, unknown,
//! muted, accent, selection, border, title, text) that every widget uses. Themes loaded
//! from files come later; they will fill the same roles.
//!
//! Severity never relies on colour alone: [`Theme::marker`] gives a text marker too.

use ratatui::style::{Color, Modifier, Style};

use crate::health::Severity;
use crate::playbooks::FindingSeverity;

/// Styles by semantic role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub ok: Style,
    pub warning: Style,
    pub critical: Style,
    pub unknown: Style,
    /// Secondary text: ok reasons, hints, counts.
    pub muted: Style,
    /// Playbook ids, the focused pane's border, keys in hints.
    pub accent: Style,
    /// The selected row of the focused pane.
    pub selection: Style,
    pub border: Style,
    pub title: Style,
    pub text: Style,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::default_dark()
    }
}

impl Theme {
    /// The style of a pane's title: accented when the pane has the focus.
    pub fn pane_title(&self, focused: bool) -> Style {
        if focused {
            self.title.patch(self.accent)
        } else {
            self.title
        }
    }

    /// A pane's frame: double accented border with the focus, a plain one without.
    pub fn pane_block<'a>(&self, focused: bool) -> ratatui::widgets::Block<'a> {
        use ratatui::widgets::{Block, BorderType};
        Block::bordered()
            .border_type(if focused {
                BorderType::Double
            } else {
                BorderType::Plain
            })
            .border_style(if focused { self.accent } else { self.border })
    }

    /// The default theme: the 16 ANSI colours only, so it works in any terminal.
    pub fn default_dark() -> Theme {
        Theme {
            ok: Style::new().fg(Color::Green),
            warning: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            critical: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            unknown: Style::new().fg(Color::Gray),
            muted: Style::new().fg(Color::DarkGray),
            accent: Style::new().fg(Color::Cyan),
            selection: Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::Gray),
            title: Style::new().add_modifier(Modifier::BOLD),
            text: Style::new(),
        }
    }

    /// The style of a severity.
    pub fn severity(&self, severity: Severity) -> Style {
        match severity {
            Severity::Ok => self.ok,
            Severity::Unknown => self.unknown,
            Severity::Warning => self.warning,
            Severity::Critical => self.critical,
        }
    }

    /// A fixed-width ASCII text marker, readable without colour and in any terminal font.
    pub fn marker(severity: Severity) -> &'static str {
        match severity {
            Severity::Ok => "[ OK ]",
            Severity::Unknown => "[UNKN]",
            Severity::Warning => "[WARN]",
            Severity::Critical => "[CRIT]",
        }
    }

    /// The style of a playbook finding's severity (info uses the accent role).
    pub fn finding(&self, severity: FindingSeverity) -> Style {
        match severity {
            FindingSeverity::Info => self.accent,
            FindingSeverity::Warning => self.warning,
            FindingSeverity::Critical => self.critical,
        }
    }

    /// A text marker for a finding's severity, the same width as [`Theme::marker`].
    pub fn finding_marker(severity: FindingSeverity) -> &'static str {
        match severity {
            FindingSeverity::Info => "[INFO]",
            FindingSeverity::Warning => "[WARN]",
            FindingSeverity::Critical => "[CRIT]",
        }
    }
}
