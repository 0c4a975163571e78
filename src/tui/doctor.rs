//! The doctor screen's loop: shows [`DoctorApp`] until the user decides (`r` runs the
//! checks again in the background, `d` opens the demo, `q` quits), under the main loop's
//! terminal guard, so the terminal is restored on every path (return, error, panic).

use std::io::{self, IsTerminal};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use futures::future::BoxFuture;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::app::doctor::{Action, Choice, DoctorApp, Examination};

/// Shows the doctor screen for `first` until the user decides; `recheck` runs the checks
/// again (on `r`).
pub async fn run<F>(first: Examination, recheck: F) -> anyhow::Result<Choice>
where
    F: Fn() -> BoxFuture<'static, Examination>,
{
    if !io::stdout().is_terminal() {
        anyhow::bail!("the doctor screen needs a terminal (use `ktriage check` for a report)");
    }
    let guard = super::TerminalGuard::enter(false)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(crate::app::sgr::Ansi16Writer::new(
        io::stdout(),
    )))?;
    let mut app = DoctorApp::new(first);
    let mut events = EventStream::new();
    let mut pending: Option<BoxFuture<'static, Examination>> = None;
    let mut dirty = true;
    let choice = loop {
        if dirty {
            terminal.draw(|f| crate::ui::doctor::draw(f, &app))?;
            dirty = false;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => match app.key(k) {
                    Action::Done(c) => break c,
                    Action::Retry => {
                        pending = Some(recheck());
                        dirty = true;
                    }
                    Action::Redraw => dirty = true,
                    Action::Nothing => {}
                },
                Some(Ok(Event::Resize(..))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break Choice::Quit,
            },
            exam = async { match pending.as_mut() { Some(f) => f.await, None => std::future::pending().await } } => {
                pending = None;
                dirty = true;
                if let Some(c) = app.examined(exam) {
                    break c;
                }
            }
        }
    };
    drop(terminal);
    drop(guard);
    Ok(choice)
}
