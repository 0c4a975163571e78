//! The TUI's actions and state: keys become messages, the keymap turns them into actions,
//! actions and messages update the [`App`] state (synchronously, returning [`Effect`]s as
//! data), and the newest [`Model`] published by a producer is drawn.
//!
//! - [`cursor`]: the list cursor every list moves with.
//! - [`doctor`]: the connection doctor's screen state.
//! - [`model`]: what the UI draws ([`Model`]), published through a `tokio::sync::watch`.
//! - [`state`]: the [`App`] state machine ([`Msg`] in, [`Effect`]s out); no terminal needed.
//! - [`views`]: the screens over the Overview (runner, playbook list, paste box, matches)
//!   and the `:` command line.
//! - [`layout`] and [`runner_lines`]: the screen geometry and the runner's rows, which the
//!   state needs to keep selections in view and `ui` draws.
//!
//! The terminal loop that drives all this is `crate::tui`.

pub mod clipboard;
pub mod cursor;
pub mod doctor;
pub mod fleet;
pub mod layout;
pub mod model;
pub mod resources;
pub mod runner_lines;
pub mod sgr;
pub mod state;
pub mod train;
pub mod views;

pub use cursor::{Cursor, Move};
pub use model::Model;
pub use state::{App, Detail, Effect, Msg, Overlay, Pane, PaneCursor, Problems};
pub use views::{
    CommandLine, MatchList, PasteBox, Pasted, PlaybookList, RunState, RunnerFocus, RunnerView,
    Screen,
};
