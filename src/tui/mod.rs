//! The terminal loop, above `app` (state) and `ui` (drawing), the only one: the connection
//! doctor is one of its screens. It sets the terminal up (raw mode, alternate screen, bracketed paste,
//! mouse only on request), restores it on every exit path (a guard's `Drop`, a panic hook,
//! SIGTERM/SIGHUP/SIGINT), and runs one `select!` over terminal input, model changes and a
//! one-second tick. Every queued input is handled before a frame is drawn; frames are drawn
//! only when something changed, at most `max_fps` a second.

use std::io::{self, IsTerminal, Stdout};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream, KeyCode, KeyEvent, KeyModifiers, MouseEventKind,
};
use crossterm::{cursor, execute, terminal};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::sgr::Ansi16Writer;
use crate::playbooks::engine::{self, Cache};
use crate::playbooks::{self, source::QuerySource};
use crate::ui;

use crate::app::model::Model;
use crate::app::state::{App, Effect, Msg};

/// How the loop runs.
#[derive(Clone)]
pub struct RunOptions {
    /// Capture the mouse (wheel scrolls the focused pane). Off by default: capturing breaks
    /// text selection in most terminals.
    pub mouse: bool,
    /// Frame cap.
    pub max_fps: u32,
    /// Where playbooks send their queries (the live cluster). `None`: playbooks cannot run
    /// and the runner says so.
    pub queries: Option<Arc<dyn QuerySource>>,
    /// Colours by role (themes/*.toml after NO_COLOR and the terminal's colour support).
    pub theme: crate::config::palette::Theme,
    /// Key bindings (keymaps/*.toml plus the user's; the shipped default unless told).
    pub keymap: crate::config::keymap::Keymap,
    /// Connects to another kubeconfig context for `:ctx NAME`; `None`: this session
    /// watches one cluster only (a scenario).
    pub switcher: Option<Switcher>,
    /// The contexts `:ctx` offers.
    pub contexts: Vec<String>,
    /// Examines a context for `:fleet`; `None`: this session has no kubeconfig.
    pub fleet: Option<FleetProbe>,
    /// The namespace the list views start in (`-n`); `None`: all namespaces.
    pub namespace: Option<String>,
    /// What keeps the first source running (its watchers, producer, embedded server); the
    /// loop drops it when `:ctx` switches away, so the old cluster is no longer watched.
    pub keep_alive: Option<Arc<dyn Send + Sync>>,
    /// An exercise of `ktriage train`: its panel, and the request log it reads.
    pub training: Option<crate::app::train::TrainingHooks>,
    /// The cluster could not be used at start: the loop opens on the connection doctor's
    /// screen, checks again every [`DOCTOR_RETRY_SECS`] (and on `r`), and connects when the
    /// cluster answers.
    pub doctor: Option<DoctorStart>,
}

/// Seconds between the doctor screen's automatic re-checks.
pub const DOCTOR_RETRY_SECS: u32 = 5;

/// Connects to a source: the new model channel and query source, or why not (one line).
pub type Connector =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, Result<Switched, String>> + Send + Sync>;

/// Runs the connection doctor's checks again.
pub type Recheck = Arc<
    dyn Fn() -> futures::future::BoxFuture<'static, crate::app::doctor::Examination> + Send + Sync,
>;

/// What the doctor screen starts from and can do.
#[derive(Clone)]
pub struct DoctorStart {
    /// The first examination (the one that found the cluster unusable).
    pub first: crate::app::doctor::Examination,
    pub recheck: Recheck,
    /// Connects to the cluster once it answers.
    pub connect: Connector,
    /// Opens the embedded demo cluster instead (`d`); `None`: no demo offered.
    pub demo: Option<Connector>,
}

/// How the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The user quit (or the terminal closed) with a cluster on screen.
    Quit,
    /// The user quit from the doctor screen: no cluster could be used.
    Unconnected,
}

/// Connects to the named context: the new model channel and query source, or why not (in
/// one line, for the status line).
pub type Switcher = Arc<
    dyn Fn(String) -> futures::future::BoxFuture<'static, Result<Switched, String>> + Send + Sync,
>;

/// Examines one context for the fleet view (`:fleet`).
pub type FleetProbe = Arc<
    dyn Fn(String) -> futures::future::BoxFuture<'static, crate::app::fleet::FleetLine>
        + Send
        + Sync,
>;

/// How many contexts the fleet view examines at once.
const FLEET_PARALLEL: usize = 4;

/// A context switched to.
pub struct Switched {
    pub context: String,
    pub model_rx: watch::Receiver<Arc<Model>>,
    pub queries: Arc<dyn QuerySource>,
    /// Keeps the new context's watchers and producer running; dropped when the session
    /// ends or switches again.
    pub keep_alive: Box<dyn Send>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            mouse: false,
            max_fps: 30,
            queries: None,
            theme: crate::config::palette::Theme::default(),
            keymap: crate::config::keymap::Keymap::default(),
            switcher: None,
            contexts: Vec::new(),
            keep_alive: None,
            namespace: None,
            fleet: None,
            training: None,
            doctor: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("mouse", &self.mouse)
            .field("max_fps", &self.max_fps)
            .field("queries", &self.queries.is_some())
            .finish()
    }
}

/// Why a playbook cannot run without a query source.
pub const NO_QUERY_SOURCE: &str = "no cluster connection for playbook queries in this session (run `ktriage check` or `ktriage explain` instead)";

/// Runs playbook `id` in a task; its result comes back on `tx` as a message.
fn spawn_playbook(
    id: &str,
    queries: Option<&Arc<dyn QuerySource>>,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let fail = |message: String| Msg::PlaybookFailed {
        id: id.to_string(),
        message,
    };
    let Some(playbook) = playbooks::find(id) else {
        let _ = tx.send(fail(format!("no playbook with id {id}")));
        return;
    };
    let Some(source) = queries.cloned() else {
        let _ = tx.send(fail(NO_QUERY_SOURCE.to_string()));
        return;
    };
    let tx = tx.clone();
    tokio::spawn(async move {
        let mut cache = Cache::default();
        let run = engine::run(playbook, source.as_ref(), &mut cache, Utc::now()).await;
        let _ = tx.send(Msg::PlaybookRan(Arc::new(run)));
    });
}

/// The terminal is in raw mode / alternate screen and must be restored.
static TERMINAL_ACTIVE: AtomicBool = AtomicBool::new(false);
/// Mouse capture is on.
static MOUSE_ACTIVE: AtomicBool = AtomicBool::new(false);
/// A thread panicked while the terminal was set up (the hook restored it).
static PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Puts the terminal back: leaves raw mode and the alternate screen, turns bracketed paste
/// and mouse capture off, shows the cursor. Does nothing if it is not set up.
fn restore_terminal() {
    if !TERMINAL_ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE_ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        DisableBracketedPaste,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

/// A panic anywhere restores the terminal first, so the message is readable and the shell
/// usable. The loop then stops (the screen is no longer ours).
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if TERMINAL_ACTIVE.load(Ordering::SeqCst) {
                PANICKED.store(true, Ordering::SeqCst);
                restore_terminal();
            }
            previous(info);
        }));
    });
}

/// Sets the terminal up; restores it when dropped.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        install_panic_hook();
        PANICKED.store(false, Ordering::SeqCst);
        terminal::enable_raw_mode()?;
        TERMINAL_ACTIVE.store(true, Ordering::SeqCst);
        // From here on, an early return drops the guard, which restores the terminal.
        let guard = TerminalGuard;
        let mut out = io::stdout();
        execute!(out, terminal::EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            MOUSE_ACTIVE.store(true, Ordering::SeqCst);
            execute!(out, EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the TUI until the user quits, the terminal input ends or a termination signal
/// arrives. `model_rx` carries the newest model; the last one stays on screen if the
/// producer stops.
pub async fn run(
    mut model_rx: watch::Receiver<Arc<Model>>,
    mut opts: RunOptions,
) -> anyhow::Result<Ending> {
    let first_source = opts.keep_alive.take();
    if !io::stdout().is_terminal() {
        bail!(
            "the TUI needs a terminal, but standard output is not one (use `ktriage check` for a report)"
        );
    }
    let mut signals = Signals::new().context("cannot install signal handlers")?;
    let guard = TerminalGuard::enter(opts.mouse).context("cannot set up the terminal")?;
    let result = match Terminal::new(CrosstermBackend::new(Ansi16Writer::new(io::stdout()))) {
        Ok(mut terminal) => {
            event_loop(
                &mut terminal,
                &mut model_rx,
                &opts,
                first_source,
                &mut signals,
            )
            .await
        }
        Err(e) => Err(e).context("cannot set up the terminal"),
    };
    drop(guard);
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Ansi16Writer<Stdout>>>,
    model_rx: &mut watch::Receiver<Arc<Model>>,
    opts: &RunOptions,
    first_source: Option<Arc<dyn Send + Sync>>,
    signals: &mut Signals,
) -> anyhow::Result<Ending> {
    // Clear by escape sequence, not `Terminal::clear`: that one asks the terminal for the
    // cursor position first, and the answer can be lost (another input reader, a slow SSH
    // link), failing the start after two seconds.
    execute!(
        terminal.backend_mut(),
        terminal::Clear(terminal::ClearType::All)
    )
    .context("cannot clear the terminal")?;
    let size = terminal.size().context("cannot read the terminal size")?;
    let env = crate::config::EnvView::from_process();
    let themes = crate::config::theme::list(&env)
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut app = App::new()
        .with_theme(opts.theme.clone())
        .with_keymap(opts.keymap.clone())
        .with_choices(opts.contexts.clone(), themes)
        .with_namespace(opts.namespace.clone());
    if let Some(t) = &opts.training {
        app = app.with_training(crate::app::train::Training::new(
            t.exercise.clone(),
            t.kubeconfig.clone(),
            std::time::Instant::now(),
        ));
    }
    app.update(Msg::Resize(size.width, size.height));
    app.update(Msg::ModelChanged(model_rx.borrow_and_update().clone()));
    if let Some(doctor) = &opts.doctor {
        app.open_doctor(doctor.first.clone(), DOCTOR_RETRY_SECS);
    }
    let ending = |app: &App| {
        if app.doctor_open() {
            Ending::Unconnected
        } else {
            Ending::Quit
        }
    };

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval_at(
        Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let frame_time = Duration::from_secs(1) / opts.max_fps.max(1);
    let mut next_frame = Instant::now();
    let mut source_open = true;
    let mut msgs = Vec::new();
    // Results of playbook runs and fetches, from their tasks.
    let (results_tx, mut results_rx) = mpsc::unbounded_channel::<Msg>();
    // Context switches, from their tasks.
    let (switch_tx, mut switch_rx) = mpsc::unbounded_channel::<Result<Switched, String>>();
    let mut queries = opts.queries.clone();
    let mut keep_alive: Option<Box<dyn Send>> = first_source.map(|s| Box::new(s) as Box<dyn Send>);

    loop {
        if let Some(t) = &opts.training {
            t.publish(app.training_summary());
        }
        if PANICKED.load(Ordering::SeqCst) {
            bail!("ktriage stopped after an internal error (the panic message is above)");
        }
        if app.is_dirty() && Instant::now() >= next_frame {
            let model = app.model().clone();
            terminal
                .draw(|frame| ui::draw(frame, &app, &model))
                .context("cannot draw to the terminal")?;
            app.mark_drawn();
            next_frame = Instant::now() + frame_time;
        }
        let frame_due = app.is_dirty();

        tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => {
                    msgs.extend(translate(event, opts.mouse));
                    // Take everything else already queued before drawing.
                    while let Poll::Ready(Some(event)) = futures::poll!(events.next()) {
                        let event = event.context("cannot read terminal input")?;
                        msgs.extend(translate(event, opts.mouse));
                    }
                }
                Some(Err(e)) => return Err(e).context("cannot read terminal input"),
                None => return Ok(ending(&app)),
            },
            changed = model_rx.changed(), if source_open => match changed {
                Ok(()) => msgs.push(Msg::ModelChanged(model_rx.borrow_and_update().clone())),
                Err(_) => {
                    source_open = false;
                    msgs.push(Msg::SourceClosed);
                }
            },
            Some(msg) = results_rx.recv() => msgs.push(msg),
            Some(switched) = switch_rx.recv() => match switched {
                Ok(s) => {
                    *model_rx = s.model_rx;
                    source_open = true;
                    queries = Some(s.queries);
                    keep_alive = Some(s.keep_alive);
                    app.notify(format!("context: {}", s.context));
                    msgs.push(Msg::ModelChanged(model_rx.borrow_and_update().clone()));
                    msgs.push(Msg::Connected(s.context));
                }
                Err(why) => app.notify(why),
            },
            _ = tick.tick() => {
                msgs.push(Msg::Tick);
                if let Some(t) = &opts.training {
                    msgs.push(Msg::Train(t.poll()));
                }
            }
            _ = tokio::time::sleep_until(next_frame), if frame_due => {}
            _ = signals.recv() => return Ok(ending(&app)),
        }

        let mut quit = false;
        for msg in msgs.drain(..) {
            for effect in app.update(msg) {
                match effect {
                    Effect::Quit => quit = true,
                    Effect::RunPlaybook(id) => {
                        spawn_playbook(&id, queries.as_ref(), &results_tx);
                    }
                    Effect::Fetch(query) => match queries.clone() {
                        Some(source) => {
                            let tx = results_tx.clone();
                            tokio::spawn(async move {
                                let outcome = source.run(&query).await;
                                let _ = tx.send(Msg::Fetched { query, outcome });
                            });
                        }
                        None => {
                            let outcome = playbooks::Outcome::Failed {
                                code: 0,
                                message: NO_QUERY_SOURCE.into(),
                            };
                            let _ = results_tx.send(Msg::Fetched { query, outcome });
                        }
                    },
                    Effect::SetTheme(name) => {
                        let known = crate::config::theme::list(&env);
                        if known.iter().any(|t| t.name == name) {
                            let (theme, warnings) =
                                crate::config::theme::load(Some(&name), &env);
                            app.set_theme(theme);
                            match warnings.first() {
                                Some(w) => app.notify(w.to_string()),
                                None => app.notify(format!("theme: {name}")),
                            }
                        } else {
                            let names: Vec<String> = known.into_iter().map(|t| t.name).collect();
                            app.notify(format!(
                                "no theme named \"{name}\" (themes: {})",
                                names.join(", ")
                            ));
                        }
                    }
                    Effect::ScanFleet(contexts) => match &opts.fleet {
                        Some(probe) => {
                            let limit = Arc::new(tokio::sync::Semaphore::new(FLEET_PARALLEL));
                            for context in contexts {
                                let (probe, tx, limit) =
                                    (probe.clone(), results_tx.clone(), limit.clone());
                                tokio::spawn(async move {
                                    let _permit = limit.acquire_owned().await;
                                    let line = probe(context).await;
                                    let _ = tx.send(Msg::FleetLine(line));
                                });
                            }
                        }
                        None => app.notify(
                            "the fleet view needs a kubeconfig: this session watches one scenario",
                        ),
                    },
                    Effect::SwitchContext(name) => match &opts.switcher {
                        Some(switch) => {
                            let fut = switch(name);
                            let tx = switch_tx.clone();
                            tokio::spawn(async move {
                                let _ = tx.send(fut.await);
                            });
                        }
                        None => app.notify(
                            "this session watches one cluster (a scenario): start ktriage with a kubeconfig to switch contexts",
                        ),
                    },
                    Effect::Recheck => match &opts.doctor {
                        Some(doctor) => {
                            let fut = (doctor.recheck)();
                            let tx = results_tx.clone();
                            tokio::spawn(async move {
                                let _ = tx.send(Msg::Examined(Box::new(fut.await)));
                            });
                        }
                        None => app.notify("no connection doctor in this session"),
                    },
                    Effect::Connect | Effect::OpenDemo => {
                        let connector = match (&effect, &opts.doctor) {
                            (Effect::Connect, Some(d)) => Some(d.connect.clone()),
                            (_, Some(d)) => d.demo.clone(),
                            _ => None,
                        };
                        match connector {
                            Some(connect) => {
                                let fut = connect();
                                let tx = switch_tx.clone();
                                tokio::spawn(async move {
                                    let _ = tx.send(fut.await);
                                });
                            }
                            None => app.notify("nothing to connect to in this session"),
                        }
                    }
                    Effect::Copy(text) => {
                        let env = crate::app::clipboard::ClipboardEnv::from_process();
                        let result = crate::app::clipboard::copy(&text, &env, terminal.backend_mut())
                            .map(|via| match via {
                                crate::app::clipboard::Via::System => "system clipboard",
                                crate::app::clipboard::Via::Osc52 => "OSC 52",
                            })
                            .map_err(|e| e.to_string());
                        app.copied(&text, result);
                    }
                }
            }
            if quit {
                if let Some(t) = &opts.training {
                    t.publish(app.training_summary());
                }
                drop(keep_alive);
                return Ok(ending(&app));
            }
        }
    }
}

/// Turns a terminal event into a message; `None` for events the app does not use.
fn translate(event: Event, mouse: bool) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Mouse(m) if mouse => match m.kind {
            MouseEventKind::ScrollDown => {
                Some(Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)))
            }
            MouseEventKind::ScrollUp => {
                Some(Msg::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE)))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Signals that end the loop cleanly (so the guard restores the terminal).
#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> io::Result<Signals> {
        Ok(Signals)
    }

    async fn recv(&mut self) {
        std::future::pending::<()>().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mouse_events_are_ignored_unless_the_mouse_is_on() {
        let wheel = Event::Mouse(crossterm::event::MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        });
        assert!(translate(wheel.clone(), false).is_none());
        assert!(matches!(
            translate(wheel, true),
            Some(Msg::Key(KeyEvent {
                code: KeyCode::Down,
                ..
            }))
        ));
    }

    #[test]
    fn paste_and_resize_become_messages() {
        assert!(matches!(
            translate(Event::Paste("x509".into()), false),
            Some(Msg::Paste(t)) if t == "x509"
        ));
        assert!(matches!(
            translate(Event::Resize(100, 30), false),
            Some(Msg::Resize(100, 30))
        ));
    }
}
