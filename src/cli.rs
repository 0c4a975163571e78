//! The command line (clap): subcommands, kubectl-style global flags, logging set-up and exit
//! codes (0 healthy, 1 warnings, 2 critical findings, 3 could not run, 64 usage error), and
//! standard output (a reader that goes away, as in `ktriage check | head -1`, ends the
//! command quietly).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::playbooks::{self, engine};
use crate::report::CheckReport;
use crate::scenarios;
use crate::server::{self, ServerConfig};
use crate::snapshot::Snapshot;
use crate::source::{self, SourceSpec};

/// Exit code when ktriage could not do what was asked.
pub const EXIT_COULD_NOT_RUN: i32 = 3;
/// Exit code of a usage error (an unknown command, flag or value), as sysexits' EX_USAGE:
/// distinct from the health codes 0-3.
pub const EXIT_USAGE: i32 = 64;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   ok (check: nothing to report)
  1   warnings (check: a warning or unknown item, or a warning finding)
  2   critical (check: a critical item or finding)
  3   could not run (the cluster cannot be reached or read, the input cannot be loaded)
  64  usage error (unknown command, flag or value)
`check --min-severity` only hides items: the exit code still counts everything.";

/// Writes to standard output. A reader that went away (a closed pipe) comes back as an error
/// that [`main`] ends quietly on.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing to standard output")
}

/// True when `e` comes from writing to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `print!` to standard output through [`emit`] (returns the error with `?`).
macro_rules! out {
    ($($arg:tt)*) => { emit(&format!($($arg)*))? };
}

/// `println!` to standard output through [`emit`] (returns the error with `?`).
macro_rules! outln {
    ($($arg:tt)*) => { emit(&format!("{}\n", format_args!($($arg)*)))? };
}

/// Live Kubernetes cluster health and guided troubleshooting playbooks, in the terminal.
#[derive(Debug, Parser)]
#[command(
    name = "ktriage",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags that mean what they mean to kubectl.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace the TUI's lists start in (`:ns NAME` changes it; default: all).
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Capture the mouse in the TUI (the wheel scrolls). Off by default: capturing the mouse
    /// stops the terminal's own text selection.
    #[arg(long, global = true, env = "KTRIAGE_MOUSE")]
    pub mouse: bool,
    /// Colour theme: a file in themes/ or $XDG_CONFIG_HOME/ktriage/themes/ (`ktriage theme list`).
    #[arg(long, global = true, value_name = "NAME", env = "KTRIAGE_THEME")]
    pub theme: Option<String>,
    /// Key bindings: `default` (k9s-style) or `vim`, plus $XDG_CONFIG_HOME/ktriage/keymap.toml.
    #[arg(long, global = true, value_name = "NAME", env = "KTRIAGE_KEYMAP")]
    pub keymap: Option<String>,
    /// Write logs to this file (default: $XDG_STATE_HOME/ktriage/ktriage.log).
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on the embedded training cluster and print a kubeconfig for kubectl.
    Demo(DemoArgs),
    /// Practise troubleshooting: briefed exercises on the embedded cluster, hints, an answer
    /// among plausible causes, the reveal and a scored report (`train --list` shows them).
    Train(TrainArgs),
    /// Print the health report headlessly (exit 0 ok, 1 warnings, 2 critical, 3 could not run).
    #[command(after_help = EXIT_CODES_HELP)]
    Check(CheckArgs),
    /// Run only the embedded API server on 127.0.0.1, for kubectl practice, tests and benchmarks.
    Serve(ServeArgs),
    /// Capture the cluster state the health model and playbooks read into one snapshot file.
    Snapshot(SnapshotArgs),
    /// Generate configuration for outside the cluster from its state.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Match a pasted error message to playbooks and run the best ones.
    Explain(ExplainArgs),
    /// List the playbooks: id, code, title, access level.
    Playbooks(ScenariosArgs),
    /// List the embedded training scenarios.
    Scenarios(ScenariosArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these command definitions.
    Man,
    /// List the colour themes, or import a k9s skin as a theme.
    #[command(subcommand)]
    Theme(ThemeCommand),
}

#[derive(Debug, Subcommand)]
pub enum ThemeCommand {
    /// List the shipped themes and the user's ($XDG_CONFIG_HOME/ktriage/themes/*.toml).
    List,
    /// Convert a k9s skin (k9s's YAML format, anchors included) into a ktriage theme.
    Import {
        /// The k9s skin file.
        skin: PathBuf,
        /// Write the theme here, e.g. ~/.config/ktriage/themes/dracula.toml (default: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The scenario to serve (see `ktriage scenarios`).
    #[arg(long, default_value = "healthy", conflicts_with = "snapshot")]
    pub scenario: String,
    /// Serve a snapshot file or `kubectl cluster-info dump` directory instead of a scenario.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where to write the kubeconfig for this server.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Append every request (method, path, user, status) to this file as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub request_log: Option<PathBuf>,
    /// Client connections open at once; at the cap, the connection idle longest is closed
    /// for a new one [default: 1024, or 3/4 of the open-files limit when that is lower].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<std::num::NonZeroUsize>,
    #[command(flatten)]
    pub size: ScaleArgs,
}

/// The size of `--scenario scale` (a generated cluster at the Kubernetes envelope).
#[derive(Debug, Args, Default)]
pub struct ScaleArgs {
    /// Nodes of `--scenario scale` [default: 5000].
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,
    /// Pods of `--scenario scale` [default: 150000].
    #[arg(long, value_name = "M")]
    pub pods: Option<usize>,
    /// Changes a second on the watch path of `--scenario scale`: pod restarts, readiness
    /// flips and events [default: 0].
    #[arg(long, value_name = "EVENTS_PER_S")]
    pub churn: Option<u32>,
}

impl ScaleArgs {
    /// The scenario id with the size applied: `scale:nodes=N,pods=M,churn=R` for the scale
    /// scenario; any other scenario refuses a size.
    pub fn apply(&self, id: &str) -> Result<String> {
        if self.nodes.is_none() && self.pods.is_none() && self.churn.is_none() {
            return Ok(id.to_string());
        }
        let Some(scale) = scenarios::scale::Scale::parse_id(id) else {
            anyhow::bail!(
                "--nodes, --pods and --churn size the scale scenario (--scenario scale), not {id:?}"
            );
        };
        let mut scale = scale?;
        scale.nodes = self.nodes.unwrap_or(scale.nodes);
        scale.pods = self.pods.unwrap_or(scale.pods);
        scale.churn = self.churn.unwrap_or(scale.churn);
        Ok(scale.id())
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The scenario to open (see `ktriage scenarios`).
    #[arg(long, default_value = "healthy")]
    pub scenario: String,
    /// Where to write the kubeconfig for kubectl (default: a file in the temp dir).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    #[command(flatten)]
    pub size: ScaleArgs,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The exercise to start, e.g. `net-4` (see `--list`).
    #[arg(value_name = "EXERCISE", conflicts_with_all = ["list", "handout", "next"])]
    pub exercise: Option<String>,
    /// Print the curriculum: track, level, id and briefing; ✓ marks solved exercises.
    #[arg(long, conflicts_with_all = ["handout", "next"])]
    pub list: bool,
    /// Write the curriculum as Markdown for a trainer (briefings, hints, answer key).
    #[arg(long, value_name = "FILE", conflicts_with = "next")]
    pub handout: Option<PathBuf>,
    /// Start the first exercise not solved yet.
    #[arg(long)]
    pub next: bool,
    /// Port of the training cluster on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where to write the kubeconfig for kubectl (default: a file in the temp dir, removed
    /// when the exercise ends).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Write the scored report here as Markdown when the exercise ends.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: ReportFormat,
    /// Judge an embedded scenario (served in-process over HTTPS).
    #[arg(long, value_name = "ID", conflicts_with = "snapshot")]
    pub scenario: Option<String>,
    /// Judge a snapshot file or `kubectl cluster-info dump` directory at its own clock.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// Give up after this many seconds: covers every step (connecting, exec credential
    /// plugins and token files, the first sync, the playbooks); exit 3 when it passes.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
    /// Show only items and findings at least this severe (the exit code still counts all).
    #[arg(long, value_enum, default_value = "info", value_name = "LEVEL")]
    pub min_severity: crate::report::MinSeverity,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// HAProxy frontends and backends for every NodePort/LoadBalancer Service: one backend
    /// server per Ready node (only nodes with a ready endpoint for externalTrafficPolicy
    /// Local), skipping nodes labelled exclude-from-external-load-balancers (NET-10).
    Haproxy {
        /// Read an embedded scenario.
        #[arg(long, value_name = "ID", conflicts_with = "snapshot")]
        scenario: Option<String>,
        /// Read a snapshot.
        #[arg(long, value_name = "PATH")]
        snapshot: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The error text as seen (quote it).
    pub text: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: ListFormat,
    /// Run the matches against an embedded scenario.
    #[arg(long, value_name = "ID", conflicts_with = "snapshot")]
    pub scenario: Option<String>,
    /// Run the matches against a snapshot.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// How many of the best matches to show and run.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    /// Give up after this many seconds (connecting, credentials, the first sync, the runs).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The file to write (YAML, readable back with `--snapshot`); `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Capture an embedded scenario (served in-process) instead of a kubeconfig context.
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,
    /// Before writing, remove what should not be shared: ConfigMap values (except the
    /// cluster's own configuration in kube-system), env values, annotation values (except
    /// kubernetes.io ones), and secret-like values (passwords, tokens, keys) in args and
    /// logs. Says what it removed.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: ListFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // Help and version go to stdout and exit 0; a usage error has its own code,
            // never one of the health codes (2 would read as "critical").
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let _log_guard = init_logging(cli.global.log_file.clone());
    match preflight(&cli).and_then(|()| run(cli)) {
        Ok(code) => code,
        // The reader of our output went away: nothing more to say, and nobody to say it to.
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("ktriage: {e:#}");
            EXIT_COULD_NOT_RUN
        }
    }
}

/// `--scenario ID` of any command names a scenario that exists, else the error suggests the
/// nearest ids and lists them all, one per line.
fn preflight(cli: &Cli) -> Result<()> {
    let id = match &cli.command {
        Some(Command::Demo(a)) => Some(&a.scenario),
        Some(Command::Check(a)) => a.scenario.as_ref(),
        Some(Command::Serve(a)) if a.snapshot.is_none() => Some(&a.scenario),
        Some(Command::Snapshot(a)) => a.scenario.as_ref(),
        Some(Command::Explain(a)) => a.scenario.as_ref(),
        Some(Command::Export(ExportCommand::Haproxy { scenario, .. })) => scenario.as_ref(),
        _ => None,
    };
    match id {
        Some(id) => match scenarios::scale::Scale::parse_id(id) {
            Some(scale) => scale.map(|_| ()).map_err(anyhow::Error::from),
            None if scenarios::find(id).is_none() => Err(anyhow::anyhow!(unknown_scenario(id))),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// "no scenario named X", the nearest ids ("did you mean …?") and every id, one per line.
pub fn unknown_scenario(id: &str) -> String {
    let ids = scenarios::ids();
    let mut near: Vec<(f64, &str)> = ids
        .iter()
        .map(|k| (strsim::jaro_winkler(id, k), *k))
        .filter(|(score, _)| *score >= 0.85)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut msg = format!("no scenario named {id:?}");
    if !near.is_empty() {
        let names: Vec<&str> = near.iter().take(3).map(|(_, k)| *k).collect();
        msg.push_str(&format!("; did you mean {}?", names.join(" or ")));
    }
    msg.push_str("\nknown scenarios (`ktriage scenarios` describes them):");
    for k in ids {
        msg.push_str("\n  ");
        msg.push_str(k);
    }
    msg
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Demo(args)) => demo(args, &cli.global),
        Some(Command::Train(args)) => train(args, &cli.global),
        Some(Command::Check(args)) => check(args, &cli.global),
        Some(Command::Scenarios(args)) => list_scenarios(args),
        Some(Command::Playbooks(args)) => list_playbooks(args),
        Some(Command::Completions { shell }) => {
            // Generated into memory: clap_complete panics when its writer fails.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "ktriage", &mut buf);
            emit(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .context("rendering the man page")?;
            emit(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Some(Command::Explain(args)) => explain(args, &cli.global),
        Some(Command::Export(ExportCommand::Haproxy { scenario, snapshot })) => {
            export_haproxy(source_spec(&scenario, &snapshot, &cli.global))
        }
        Some(Command::Snapshot(args)) => snapshot(args, &cli.global),
        Some(Command::Theme(cmd)) => theme_command(cmd),
        None => tui(
            SourceSpec::Context {
                kubeconfig: cli.global.kubeconfig.clone(),
                context: cli.global.context.clone(),
            },
            None,
            &cli.global,
        ),
    }
}

/// Log to a file (never to the terminal the TUI draws on). Level from `KTRIAGE_LOG`
/// (default `info`).
fn init_logging(path: Option<PathBuf>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = path.or_else(|| {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(base.join("ktriage").join("ktriage.log"))
    })?;
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("KTRIAGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Loads a scenario by id, or wraps a snapshot file as an ad-hoc scenario.
pub fn load_scenario(id: &str, snapshot: Option<&PathBuf>) -> Result<scenarios::Scenario> {
    if let Some(path) = snapshot {
        let snap =
            Snapshot::load(path).with_context(|| format!("reading snapshot {}", path.display()))?;
        return Ok(scenarios::Scenario {
            id: "snapshot",
            title: "Served snapshot",
            summary: "A snapshot file served as a cluster",
            playbook: None,
            snapshot: snap,
            timeline: Vec::new(),
            behavior: Default::default(),
        });
    }
    scenarios::find(id).with_context(|| unknown_scenario(id))
}

fn serve(args: ServeArgs) -> Result<i32> {
    let mut config = match &args.snapshot {
        Some(path) => ServerConfig::new(load_scenario(&args.scenario, Some(path))?),
        None => source::scenario_config(&args.size.apply(&args.scenario)?)?,
    };
    let id = config.scenario.id;
    let rt = runtime()?;
    rt.block_on(async move {
        config.port = args.port;
        config.request_log = args.request_log.clone();
        if let Some(n) = args.max_connections {
            config.limits.max_connections = n.get();
        }
        let handle = server::start(config)
            .await
            .context("starting the embedded API server")?;
        let kubeconfig_path = args.kubeconfig_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ktriage-{id}-{}.kubeconfig", handle.addr.port()))
        });
        handle.write_kubeconfig(&kubeconfig_path)?;
        outln!("ktriage: serving scenario {id:?} at {}", handle.url());
        outln!("kubeconfig: {}", kubeconfig_path.display());
        outln!(
            "try:        kubectl --kubeconfig {} get nodes",
            kubeconfig_path.display()
        );
        outln!("Stop with Ctrl-C.");
        wait_for_signal().await;
        handle.stop();
        Ok(0)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn source_spec(
    scenario: &Option<String>,
    snapshot: &Option<PathBuf>,
    global: &GlobalArgs,
) -> SourceSpec {
    match (scenario, snapshot) {
        (Some(id), _) => SourceSpec::Scenario(id.clone()),
        (None, Some(path)) => SourceSpec::Snapshot(path.clone()),
        (None, None) => SourceSpec::Context {
            kubeconfig: global.kubeconfig.clone(),
            context: global.context.clone(),
        },
    }
}

fn check(args: CheckArgs, global: &GlobalArgs) -> Result<i32> {
    let spec = source_spec(&args.scenario, &args.snapshot, global);
    let rt = runtime()?;
    let limit = std::time::Duration::from_secs(args.timeout);
    let started = std::time::Instant::now();
    // What is under way, for the message when the deadline passes.
    let stage = std::cell::Cell::new("connecting");
    let outcome = rt.block_on(async {
        let work = async {
            // The connection doctor first: a cluster that cannot be reached (or refuses the
            // credentials) gets the doctor's findings and exit code 3 instead of a report
            // of nothing.
            let gate = doctor_gate(&spec, limit / 2).await?;
            if let DoctorGate::Blocked(report) = gate {
                return Ok::<_, anyhow::Error>(*report);
            }
            stage.set("waiting for the first sync");
            let settle = limit.saturating_sub(started.elapsed());
            let judged = source::judge_once(&spec, settle).await?;
            stage.set("running the playbooks");
            // Pods and events the watchers already hold are read from their stores: each
            // kind is listed once per run.
            let source = crate::playbooks::source::StoreBacked {
                inner: judged.queries.as_ref(),
                stores: &judged.state,
            };
            let checked = engine::check_all(&source, judged.now).await;
            let mut findings = checked.findings;
            if let DoctorGate::Partial(runs) = gate {
                findings.extend(runs);
                engine::sort_runs(&mut findings);
            }
            drop(judged.server);
            Ok(CheckReport {
                health: crate::health::build(&judged.state, judged.now),
                cluster: judged.info,
                findings,
                could_not_check: checked.could_not_check,
                ..Default::default()
            })
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Ok(CheckReport::could_not_run(
                spec_info(&spec),
                format!(
                    "no answer within {} s (--timeout) while {}",
                    args.timeout,
                    stage.get()
                ),
            )),
        }
    });
    let mut report = match outcome {
        Ok(r) => r,
        Err(e) => {
            // Said on stderr for a person, and in the report's own format for a machine.
            eprintln!("ktriage: {e:#}");
            if matches!(args.output, ReportFormat::Text) {
                return Ok(EXIT_COULD_NOT_RUN);
            }
            CheckReport::could_not_run(spec_info(&spec), format!("{e:#}"))
        }
    };
    report.min_severity = args.min_severity;
    let code = report.exit_code();
    match print_report(&report, args.output) {
        Err(e) if is_broken_pipe(&e) => Ok(code),
        other => other.map(|()| code),
    }
}

/// What a report is about before anything could be read.
fn spec_info(spec: &SourceSpec) -> crate::report::ClusterInfo {
    let (source, name) = match spec {
        SourceSpec::Scenario(id) => ("scenario", id.clone()),
        SourceSpec::Snapshot(p) => ("snapshot", p.display().to_string()),
        SourceSpec::Context { context, .. } => (
            "context",
            context.clone().unwrap_or_else(|| "(current)".into()),
        ),
    };
    crate::report::ClusterInfo {
        source: source.into(),
        name,
        judged_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ..Default::default()
    }
}

/// What the connection doctor says before `check` reads anything.
enum DoctorGate {
    /// Reachable and readable.
    Open,
    /// Reachable, some reads refused: the doctor's findings join the report.
    Partial(Vec<engine::Run>),
    /// Nothing can be read: the doctor's report.
    Blocked(Box<CheckReport>),
}

/// Whether the doctor's blocking error may pass by itself (a reset, a refused or dropped
/// connection, a 5xx, no answer in time): worth asking again while the budget lasts. A
/// certificate, a credential or a refusal by RBAC will not change by waiting.
fn transient_block(obs: &crate::cluster::doctor::Observation) -> bool {
    if obs
        .http_status
        .is_some_and(|c| !matches!(c, 429 | 500 | 502 | 503 | 504))
    {
        return false;
    }
    let text = obs.error.as_deref().unwrap_or("").to_ascii_lowercase();
    let lasting = [
        "x509",
        "certificate",
        "unauthorized",
        "forbidden",
        "no such host",
    ];
    !lasting.iter().any(|w| text.contains(w))
}

async fn doctor_gate(spec: &SourceSpec, budget: std::time::Duration) -> Result<DoctorGate> {
    use crate::cluster::doctor::{self, Verdict};
    if matches!(spec, SourceSpec::Snapshot(_)) {
        return Ok(DoctorGate::Open);
    }
    // A transient fault (one reset, a restart under way, a 5xx burst) is asked again within
    // half of `--timeout`, so it does not become the answer.
    let deadline = tokio::time::Instant::now() + budget;
    let mut pause = std::time::Duration::from_millis(250);
    let examined = loop {
        let examined =
            crate::source::examine::examine_spec(spec, &doctor::Options::default()).await?;
        let obs = &examined.observation;
        if obs.verdict() != Verdict::Blocked
            || !transient_block(obs)
            || tokio::time::Instant::now() + pause >= deadline
        {
            break examined;
        }
        tracing::info!(error = ?obs.error, "connection check failed; asking again");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(std::time::Duration::from_secs(2));
    };
    let obs = &examined.observation;
    let now = chrono::Utc::now();
    match obs.verdict() {
        Verdict::Ok => Ok(DoctorGate::Open),
        Verdict::Partial => Ok(DoctorGate::Partial(
            crate::playbooks::connection::diagnose(obs, now).await,
        )),
        Verdict::Blocked => {
            let findings = crate::playbooks::connection::diagnose(obs, now).await;
            let mut problems: Vec<String> = obs.error.iter().cloned().collect();
            problems.extend(obs.denied.iter().map(|d| d.message.clone()));
            problems.extend(obs.warnings.iter().cloned());
            // Why, in one line: the doctor's own words, else its first finding's cause.
            let why = obs
                .error
                .clone()
                .or_else(|| {
                    findings
                        .iter()
                        .find_map(|r| r.finding.as_ref().map(|f| f.summary.clone()))
                })
                .unwrap_or_else(|| "the cluster cannot be read".into());
            Ok(DoctorGate::Blocked(Box::new(CheckReport {
                could_not_run: Some(format!("the cluster cannot be used: {why}")),
                cluster: crate::report::ClusterInfo {
                    source: examined.source.clone(),
                    name: examined.name.clone(),
                    server: Some(obs.server.clone()),
                    version: None,
                    judged_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    problems,
                },
                health: Default::default(),
                findings,
                could_not_check: Vec::new(),
                min_severity: Default::default(),
            })))
        }
    }
}

fn print_report(report: &CheckReport, output: ReportFormat) -> Result<()> {
    match output {
        ReportFormat::Text => out!("{}", report.to_text()),
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(&report.to_json())?),
        ReportFormat::Markdown => out!("{}", report.to_markdown()),
    }
    Ok(())
}

fn export_haproxy(spec: SourceSpec) -> Result<i32> {
    use crate::playbooks::Outcome;
    use crate::playbooks::engine::q;
    let rt = runtime()?;
    let (services, nodes, slices) = rt.block_on(async {
        let (source, _server) = source::query_source(&spec).await?;
        let mut lists = Vec::new();
        for query in [
            q::core("services", None),
            q::core("nodes", None),
            q::list("discovery.k8s.io", "endpointslices", None, None, None),
        ] {
            match source.run(&query).await {
                Outcome::Objects(items) => lists.push(items),
                Outcome::Failed { code, message } => {
                    anyhow::bail!("{} failed ({code}): {message}", query.kubectl)
                }
                Outcome::Text { code, .. } => {
                    anyhow::bail!("{} answered {code} without objects", query.kubectl)
                }
                Outcome::Lean(_) => anyhow::bail!("{} answered in the lean model", query.kubectl),
            }
        }
        Ok::<_, anyhow::Error>((lists.remove(0), lists.remove(0), lists.remove(0)))
    })?;
    out!(
        "{}",
        crate::playbooks::network_b::haproxy::haproxy_config(&services, &nodes, &slices)
    );
    Ok(0)
}

fn list_playbooks(args: ScenariosArgs) -> Result<i32> {
    let all = playbooks::registry();
    match args.output {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = all
                .iter()
                .map(|p| serde_json::json!({"id": p.id, "code": p.code, "title": p.title, "access": p.access}))
                .collect();
            outln!("{}", serde_json::to_string_pretty(&rows)?);
        }
        ListFormat::Text => {
            let width = all.iter().map(|p| p.id.len()).max().unwrap_or(2).max(2);
            outln!("{:7}  {:width$}  {:18}  TITLE", "CODE", "ID", "ACCESS");
            for p in &all {
                let access = serde_json::to_value(p.access)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                outln!("{:7}  {:width$}  {:18}  {}", p.code, p.id, access, p.title);
            }
        }
    }
    Ok(0)
}

fn explain(args: ExplainArgs, global: &GlobalArgs) -> Result<i32> {
    use crate::playbooks::paste;
    let ranked = engine::rank_symptoms(&args.text);
    // What the text itself says: its subjects, and what it means without a cluster.
    let subjects = paste::subjects(&args.text);
    let meaning = paste::meaning(&args.text);
    let explicit = args.scenario.is_some()
        || args.snapshot.is_some()
        || global.context.is_some()
        || global.kubeconfig.is_some();
    if ranked.is_empty() && (meaning.is_none() || explicit) {
        outln!(
            "No playbook matches this text. Try `ktriage check` for a full report, or `ktriage playbooks` for the list."
        );
        return Ok(0);
    }
    let best: Vec<_> = ranked.iter().take(args.top).collect();
    let (report, reviews) = if explicit {
        let spec = source_spec(&args.scenario, &args.snapshot, global);
        let rt = runtime()?;
        let (runs, reviews) = rt.block_on(async {
            let judged =
                source::judge_once(&spec, std::time::Duration::from_secs(args.timeout)).await?;
            let mut cache = engine::Cache::default();
            let mut runs = Vec::new();
            for (pb, _) in &best {
                runs.push(engine::run(pb, judged.queries.as_ref(), &mut cache, judged.now).await);
            }
            // The denied user of the text, reviewed against the cluster's RBAC objects.
            let mut reviews = Vec::new();
            if !subjects.denials.is_empty() {
                let rbac = "rbac.authorization.k8s.io";
                let mut lists = Vec::new();
                for resource in [
                    "clusterroles",
                    "clusterrolebindings",
                    "roles",
                    "rolebindings",
                ] {
                    let q = engine::q::list(rbac, resource, None, None, None);
                    lists.push(match judged.queries.run(&q).await {
                        crate::playbooks::Outcome::Objects(v) => Ok(v),
                        crate::playbooks::Outcome::Failed { code, message } => {
                            Err(format!("{}: {code}: {message}", q.kubectl))
                        }
                        crate::playbooks::Outcome::Text { code, body } => {
                            Err(format!("{}: {code}: {body}", q.kubectl))
                        }
                        crate::playbooks::Outcome::Lean(_) => {
                            Err(format!("{}: answered in the lean model", q.kubectl))
                        }
                    });
                }
                for d in &subjects.denials {
                    reviews.push(match (&lists[0], &lists[1], &lists[2], &lists[3]) {
                        (Ok(crs), Ok(crbs), Ok(rs), Ok(rbs)) => {
                            Ok(paste::review(d, crs, crbs, rs, rbs))
                        }
                        _ => Err(lists
                            .iter()
                            .filter_map(|l| l.as_ref().err().cloned())
                            .collect::<Vec<_>>()
                            .join("; ")),
                    });
                }
            }
            drop(judged.server);
            Ok::<_, anyhow::Error>((runs, reviews))
        })?;
        (Some(runs), reviews)
    } else {
        (None, Vec::new())
    };
    match args.output {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = best
                .iter()
                .enumerate()
                .map(|(i, (pb, score))| {
                    let run = report.as_ref().map(|runs| &runs[i]);
                    let finding = run.and_then(|r| r.finding.as_ref());
                    let verdict = run.map(|r| r.verdict());
                    let could_not_check = match &verdict {
                        Some(engine::Verdict::CouldNotCheck { failed }) => Some(failed),
                        _ => None,
                    };
                    serde_json::json!({
                        "playbook": pb.id, "code": pb.code, "title": pb.title,
                        "score": score, "ran": report.is_some(), "finding": finding,
                        "verdict": verdict.as_ref().map(engine::Verdict::label),
                        "could_not_check": could_not_check,
                    })
                })
                .collect();
            let reviews: Vec<serde_json::Value> = reviews
                .iter()
                .map(|r| match r {
                    Ok(r) => serde_json::to_value(r).unwrap_or_default(),
                    Err(e) => serde_json::json!({"could_not_check": e}),
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "subjects": subjects,
                    "meaning": if explicit { None } else { meaning.as_ref() },
                    "access_reviews": reviews,
                    "matches": rows,
                }))?
            );
        }
        ListFormat::Text => {
            let lines = subjects.lines();
            if !lines.is_empty() {
                outln!("Read from the text: {}", lines.join("; "));
            }
            for r in &reviews {
                match r {
                    Ok(r) if r.allowed => outln!(
                        "Access review for {}: {} is allowed by the cluster's RBAC now (a binding was added since, or the request came with other groups).",
                        r.user,
                        r.missing
                    ),
                    Ok(r) => {
                        outln!(
                            "Access review for {}: not allowed to {} — no binding grants it.",
                            r.user,
                            r.missing
                        );
                        if r.granted_by.is_empty() {
                            outln!("   no existing Role or ClusterRole grants it: create one");
                        } else {
                            outln!(
                                "   existing roles that include it: {}",
                                r.granted_by.join(", ")
                            );
                        }
                        for c in &r.commands {
                            outln!("     $ {c}");
                        }
                    }
                    Err(e) => outln!("Access review: could not check: {e}"),
                }
            }
            if !explicit && let Some(m) = &meaning {
                outln!("What it means: {}", m.meaning);
                outln!("Likely causes, most likely first:");
                for (i, c) in m.causes.iter().enumerate() {
                    outln!("   {}. {c}", i + 1);
                }
                outln!("Commands that tell them apart:");
                for c in &m.commands {
                    outln!("     $ {c}");
                }
                if !best.is_empty() {
                    outln!("");
                }
            }
            for (i, (pb, score)) in best.iter().enumerate() {
                outln!(
                    "{}. {} {} — {} (match {:.0}%)",
                    i + 1,
                    pb.code,
                    pb.id,
                    pb.title,
                    score.min(1.0) * 100.0
                );
                if let Some(run) = report.as_ref().map(|runs| &runs[i]) {
                    for s in &run.steps {
                        outln!("     $ {}  → {}", s.query.kubectl, s.summary());
                    }
                    match run.verdict() {
                        engine::Verdict::Found(f) => {
                            outln!(
                                "   cause: {} (confidence {:.0}%)",
                                f.summary,
                                f.confidence * 100.0
                            );
                            for e in &f.evidence {
                                outln!("   evidence: {} {} = {}", e.object, e.field, e.value);
                            }
                            outln!("   fix: {}", f.fix.explanation);
                            for c in &f.fix.commands {
                                outln!("     $ {c}");
                            }
                        }
                        engine::Verdict::NotPresent
                            if pb.id == "rbac-forbidden"
                                && reviews.iter().any(|r| r.as_ref().is_ok_and(|r| !r.allowed)) =>
                        {
                            outln!(
                                "   the logged-in user is not refused; the refusal in the text is {}'s: see the access review above",
                                subjects.users.join(", ")
                            )
                        }
                        engine::Verdict::NotPresent => outln!("   not present on this cluster"),
                        engine::Verdict::CouldNotCheck { failed } => {
                            for f in failed {
                                outln!("   could not check: {}: {}", f.query, f.error);
                            }
                        }
                    }
                }
            }
            if report.is_none() {
                outln!(
                    "\nRun them against a cluster with --scenario ID, --snapshot PATH or --context NAME."
                );
            }
        }
    }
    Ok(0)
}

/// Writes to a file, or to standard output for `-`.
fn write_output(path: &std::path::Path, text: &str) -> Result<()> {
    if path.as_os_str() == "-" {
        out!("{text}");
        Ok(())
    } else {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

fn snapshot(args: SnapshotArgs, global: &GlobalArgs) -> Result<i32> {
    let rt = runtime()?;
    rt.block_on(async move {
        let (conn, _server) = match &args.scenario {
            Some(id) => {
                let handle = source::serve_scenario(id).await?;
                let kc = crate::cluster::client::parse_kubeconfig(&handle.kubeconfig)?;
                (
                    crate::cluster::client::connect(kc, None).await?,
                    Some(handle),
                )
            }
            None => {
                let kc = crate::cluster::client::load_kubeconfig(global.kubeconfig.as_deref())?;
                (
                    crate::cluster::client::connect(kc, global.context.as_deref()).await?,
                    None,
                )
            }
        };
        let (snap, report) =
            crate::cluster::capture::capture(&conn.client, &conn.context, &conn.server).await;
        // A signed-in user whose lists were refused is a finding of its own (RBAC): the
        // refusals are kept as evidence. No answer at all, 401s, or refusals of
        // `system:anonymous` mean the credentials never got through: then capture what the
        // connection doctor sees instead, so the snapshot explains why.
        let refused_user = snap
            .responses
            .iter()
            .any(|r| r.code == 403 && !r.body.contains("system:anonymous"));
        if report.objects == 0 && !refused_user {
            drop(_server);
            let spec = match &args.scenario {
                Some(id) => SourceSpec::Scenario(id.clone()),
                None => SourceSpec::Context {
                    kubeconfig: global.kubeconfig.clone(),
                    context: global.context.clone(),
                },
            };
            let examined = crate::source::examine::examine_spec(
                &spec,
                &crate::cluster::doctor::Options::default(),
            )
            .await?;
            let snap = crate::source::examine::evidence_snapshot(&examined);
            write_output(&args.output, &snap.to_yaml())?;
            eprintln!(
                "ktriage: the cluster cannot be read ({}); wrote the connection evidence instead",
                examined.observation.to_evidence().error.unwrap_or_default()
            );
            return Ok(0);
        }
        let mut snap = snap;
        let redaction = args
            .redact
            .then(|| crate::snapshot::redact::redact(&mut snap));
        write_output(&args.output, &snap.to_yaml())?;
        if let Some(r) = redaction {
            eprintln!("ktriage: redacted {}", r.summary());
        }
        if args.output.as_os_str() != "-" {
            eprintln!(
                "ktriage: wrote {} objects and {} logs to {}",
                report.objects,
                report.logs,
                args.output.display()
            );
        }
        for s in &report.skipped {
            eprintln!("ktriage: not captured: {s}");
        }
        Ok(0)
    })
}

fn demo(args: DemoArgs, global: &GlobalArgs) -> Result<i32> {
    tui(
        SourceSpec::Scenario(args.size.apply(&args.scenario)?),
        Some(args.kubeconfig_out),
        global,
    )
}

/// Runs the TUI on a live source. For a scenario, writes its kubeconfig (to `kubeconfig_out`
/// or the temp dir) and prints where, before and after the TUI.
fn tui(
    spec: SourceSpec,
    mut kubeconfig_out: Option<Option<PathBuf>>,
    global: &GlobalArgs,
) -> Result<i32> {
    // Configuration is read and checked before the terminal is touched, so its problems
    // print normally; ktriage then runs on with the defaults for what was wrong.
    let env = crate::config::EnvView::from_process();
    let config = crate::config::load(global.theme.as_deref(), global.keymap.as_deref(), &env);
    for w in &config.warnings {
        eprintln!("ktriage: {w}");
    }
    // The shipped default keymap (or the one asked for) plus the user's overrides, always.
    let keymap = config.keymap;
    let theme = config.theme.theme;
    let rt = runtime()?;
    // The connection doctor first: a cluster that cannot be used opens the app on the
    // doctor's screen (which checks again until it answers, or opens the demo) rather than
    // watchers that fail forever. Kubeconfig errors print before the terminal is touched.
    let doctor = rt.block_on(doctor_start(&spec))?;
    rt.block_on(async move {
        let mut kubeconfig_note = None;
        // The kubeconfig ktriage chose itself (it holds a client key) goes when the demo
        // ends, on every exit path; one the user asked for with --kubeconfig-out stays.
        let mut written: Option<TempKubeconfig> = None;
        let (model_rx, queries, first_source, current) = if doctor.is_none() {
            let live = source::connect_live(&spec).await?;
            if let (Some(server), Some(out)) = (&live.server, kubeconfig_out.take()) {
                let chosen = out.is_some();
                let path = out.unwrap_or_else(|| {
                    std::env::temp_dir()
                        .join(format!("ktriage-demo-{}.kubeconfig", server.addr.port()))
                });
                server.write_kubeconfig(&path)?;
                written = Some(TempKubeconfig {
                    path: path.clone(),
                    remove: !chosen,
                });
                let note = format!(
                    "ktriage demo: {} at {}\nkubeconfig for kubectl: {}\n  kubectl --kubeconfig {} get nodes",
                    live.source,
                    server.url(),
                    path.display(),
                    path.display()
                );
                outln!("{note}");
                kubeconfig_note = Some(server.url());
            }
            let (model_rx, producer) = source::spawn_producer(&live);
            let queries: std::sync::Arc<dyn crate::playbooks::source::QuerySource> =
                std::sync::Arc::new(crate::playbooks::source::LiveSource {
                    client: live.client.clone(),
                });
            let current = live.context.clone();
            let keep: std::sync::Arc<dyn Send + Sync> =
                std::sync::Arc::new(source::KeepAlive::new(live, producer));
            (model_rx, Some(queries), keep, current)
        } else {
            // No cluster yet: an empty model until the doctor's screen connects.
            let (tx, rx) =
                tokio::sync::watch::channel(std::sync::Arc::new(crate::app::Model::default()));
            let keep: std::sync::Arc<dyn Send + Sync> = std::sync::Arc::new(tx);
            (rx, None, keep, String::new())
        };
        // A kubeconfig session can switch contexts (`:ctx NAME`); a scenario cannot.
        let (contexts, switcher, fleet) = match &spec {
            SourceSpec::Context { kubeconfig, .. } => {
                let (contexts, switcher) = source::context_switcher(kubeconfig.clone());
                let fleet = source::fleet_probe(kubeconfig.clone());
                (contexts, Some(switcher), Some(fleet))
            }
            _ => (
                Some(current).filter(|c| !c.is_empty()).into_iter().collect(),
                None,
                None,
            ),
        };
        let opts = crate::tui::RunOptions {
            queries,
            theme,
            keymap,
            switcher,
            contexts,
            keep_alive: Some(first_source),
            doctor,
            mouse: global.mouse,
            fleet,
            namespace: global.namespace.clone(),
            ..Default::default()
        };
        let result = crate::tui::run(model_rx, opts).await;
        if let (Some(url), Some(file)) = (kubeconfig_note, written.take()) {
            let what = if file.remove {
                format!("removed {}", file.path.display())
            } else {
                format!("{} now points at nothing", file.path.display())
            };
            drop(file);
            outln!("ktriage demo: server {url} stopped; {what}");
        }
        result.map(|ending| match ending {
            crate::tui::Ending::Quit => 0,
            crate::tui::Ending::Unconnected => EXIT_COULD_NOT_RUN,
        })
    })
}

/// `ktriage train`: the curriculum (`--list`, `--handout`) or one exercise.
fn train(args: TrainArgs, global: &GlobalArgs) -> Result<i32> {
    use crate::train::{self, progress::Progress};
    let all = train::curriculum();
    let progress_path = train::progress::path_from_env();
    let progress = match &progress_path {
        Some(p) => Progress::load(p)?,
        None => Progress::default(),
    };
    if args.list {
        out!("{}", train::list_text(&all, |id| progress.solved(id)));
        return Ok(0);
    }
    if let Some(file) = &args.handout {
        write_output(file, &train::handout_markdown(&all))?;
        if file.as_os_str() != "-" {
            eprintln!(
                "ktriage: wrote the curriculum ({} exercises) to {}",
                all.len(),
                file.display()
            );
        }
        return Ok(0);
    }
    let exercise = match (&args.exercise, args.next) {
        (Some(id), _) => train::find(id).with_context(|| {
            format!("no exercise named {id:?}: `ktriage train --list` shows them (ids like conn-1, net-4)")
        })?,
        (None, true) => match all.iter().find(|e| !progress.solved(&e.id)) {
            Some(e) => e.clone(),
            None => {
                outln!("Every exercise is solved. `ktriage train --list` shows them; start one again by id.");
                return Ok(0);
            }
        },
        (None, false) => {
            out!("{}", train::list_text(&all, |id| progress.solved(id)));
            outln!("\nStart one with `ktriage train ID` or `ktriage train --next`.");
            return Ok(0);
        }
    };
    let summary = run_exercise(&exercise, &args, global)?;
    let Some(summary) = summary else {
        return Ok(0);
    };
    if let Some(path) = &args.report {
        write_output(path, &summary.markdown())?;
    }
    if let Some(path) = &progress_path {
        let mut progress = progress;
        progress.record(&summary);
        if let Err(e) = progress.save(path) {
            eprintln!("ktriage: progress not saved: {e}");
        }
    }
    outln!(
        "exercise {}: score {} / 100 · {} · {} · hints {} of {} · {} kubectl commands",
        summary.exercise,
        summary.score(),
        summary.answer_text(),
        summary.elapsed_text(),
        summary.hints_used,
        summary.hints_total,
        summary.commands.len()
    );
    if let Some(path) = &args.report {
        outln!("report: {}", path.display());
    }
    Ok(0)
}

/// Serves an exercise under the neutral name, writes its kubeconfig, runs the TUI with the
/// training panel; the summary when the TUI ends.
fn run_exercise(
    exercise: &crate::train::Exercise,
    args: &TrainArgs,
    global: &GlobalArgs,
) -> Result<Option<crate::train::summary::Summary>> {
    use crate::train;
    let env = crate::config::EnvView::from_process();
    let config = crate::config::load(global.theme.as_deref(), global.keymap.as_deref(), &env);
    for w in &config.warnings {
        eprintln!("ktriage: {w}");
    }
    let keymap = config.keymap;
    let theme = config.theme.theme;
    let scenario = train::neutral_scenario(exercise)
        .with_context(|| format!("exercise {} has no cluster", exercise.id))?;
    let rt = runtime()?;
    rt.block_on(async move {
        // The trainee's kubectl writes take effect (ServerConfig::training): a fix applied in
        // the other window turns the playbook's verdict to "not present".
        let mut server_config = ServerConfig::training(scenario);
        server_config.port = args.port;
        let handle = server::start(server_config)
            .await
            .context("starting the training cluster")?;
        let handle = std::sync::Arc::new(handle);
        let kubeconfig = train::neutral_kubeconfig(&handle.kubeconfig);
        let chosen = args.kubeconfig_out.is_some();
        let path = args.kubeconfig_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!(
                "{}-{}.kubeconfig",
                train::CLUSTER_NAME,
                handle.addr.port()
            ))
        });
        train::write_private(&path, &kubeconfig)
            .with_context(|| format!("writing the kubeconfig {}", path.display()))?;
        let file = TempKubeconfig {
            path: path.clone(),
            remove: !chosen,
        };
        outln!(
            "ktriage train: exercise {} ({}, level {})\n  {}\n",
            exercise.id,
            exercise.track.title(),
            exercise.level,
            exercise.briefing
        );
        // Where the kubeconfig points elsewhere than the server (nothing listens there, a
        // proxy is in the way), the real address is part of the answer.
        if kubeconfig.contains(&handle.url()) {
            outln!(
                "training cluster at {} (port {}); use kubectl in another window:",
                handle.url(),
                handle.addr.port()
            );
        } else {
            outln!("training cluster started; use kubectl in another window:");
        }
        outln!("  export KUBECONFIG={}", path.display());
        for (k, v) in &handle.client_env {
            outln!("  export {k}={v}");
        }
        outln!("  kubectl get nodes");
        let kc = crate::cluster::client::parse_kubeconfig(&kubeconfig)?;
        let doctor = crate::cluster::doctor::Target::from_kubeconfig(&kc, None)
            .ok()
            .map(|t| crate::findings::doctor_probe(t, handle.client_env.clone()));
        let conn = crate::cluster::client::connect(kc, None).await?;
        let live = source::Live {
            watchers: crate::cluster::watch::Watchers::start(conn.client.clone()),
            client: conn.client,
            context: conn.context,
            server_url: conn.server,
            server: None,
            source: "training cluster".into(),
            doctor,
        };
        let (model_rx, producer) = source::spawn_producer(&live);
        let log = handle.clone();
        let hooks = crate::app::train::TrainingHooks::new(
            exercise.clone(),
            path.display().to_string(),
            std::sync::Arc::new(move || log.requests()),
        );
        let opts = crate::tui::RunOptions {
            queries: Some(std::sync::Arc::new(crate::playbooks::source::LiveSource {
                client: live.client.clone(),
            })),
            theme,
            keymap,
            contexts: vec![live.context.clone()],
            keep_alive: Some(std::sync::Arc::new(source::KeepAlive::new(live, producer))),
            mouse: global.mouse,
            namespace: global.namespace.clone(),
            training: Some(hooks.clone()),
            ..Default::default()
        };
        let result = crate::tui::run(model_rx, opts).await;
        handle.stop();
        drop(file);
        result?;
        Ok(hooks.outcome())
    })
}

/// A demo's kubeconfig: removed when dropped if ktriage chose its path.
struct TempKubeconfig {
    path: PathBuf,
    remove: bool,
}

impl Drop for TempKubeconfig {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Examines the source once: `None` when it can be used; otherwise what the app's doctor
/// screen starts from — the examination, how to run it again, how to connect once the
/// cluster answers, and the demo to open instead.
async fn doctor_start(spec: &SourceSpec) -> Result<Option<crate::tui::DoctorStart>> {
    use crate::app::doctor::{self, Examination};
    use crate::cluster::doctor::{self as doc, Verdict};
    if matches!(spec, SourceSpec::Snapshot(_)) {
        return Ok(None);
    }
    async fn examination(spec: &SourceSpec) -> Result<Examination> {
        let examined = crate::source::examine::examine_spec(spec, &doc::Options::default()).await?;
        let runs =
            crate::playbooks::connection::diagnose(&examined.observation, chrono::Utc::now()).await;
        Ok(Examination {
            observation: examined.observation,
            runs,
            at: doctor::clock(),
        })
    }
    let first = examination(spec)
        .await
        .context("no cluster to examine (`ktriage demo` opens the embedded training cluster)")?;
    if first.observation.verdict() != Verdict::Blocked {
        return Ok(None);
    }
    let recheck_spec = spec.clone();
    let recheck: crate::tui::Recheck = std::sync::Arc::new(move || {
        let spec = recheck_spec.clone();
        Box::pin(async move {
            match examination(&spec).await {
                Ok(e) => e,
                Err(e) => Examination {
                    observation: doc::Observation {
                        error: Some(format!("{e:#}")),
                        ..Default::default()
                    },
                    runs: Vec::new(),
                    at: doctor::clock(),
                },
            }
        })
    });
    let connect_spec = spec.clone();
    let connect: crate::tui::Connector = std::sync::Arc::new(move || {
        let spec = connect_spec.clone();
        Box::pin(async move { connect_to(&spec, false).await })
    });
    let demo: crate::tui::Connector = std::sync::Arc::new(|| {
        Box::pin(async { connect_to(&SourceSpec::Scenario("healthy".into()), true).await })
    });
    Ok(Some(crate::tui::DoctorStart {
        first,
        recheck,
        connect,
        demo: Some(demo),
    }))
}

/// Connects the app to `spec` from its doctor screen. For the demo, writes a kubeconfig for
/// kubectl to the temp dir (named in the notice, removed when the session ends).
async fn connect_to(
    spec: &SourceSpec,
    demo: bool,
) -> std::result::Result<crate::tui::Switched, String> {
    let live = source::connect_live(spec)
        .await
        .map_err(|e| format!("cannot connect: {e:#}"))?;
    let mut context = live.context.clone();
    let mut file = None;
    if demo && let Some(server) = &live.server {
        let path =
            std::env::temp_dir().join(format!("ktriage-demo-{}.kubeconfig", server.addr.port()));
        if server.write_kubeconfig(&path).is_ok() {
            context = format!("{context} (kubeconfig for kubectl: {})", path.display());
            file = Some(TempKubeconfig { path, remove: true });
        }
    }
    let (model_rx, producer) = source::spawn_producer(&live);
    let queries: std::sync::Arc<dyn crate::playbooks::source::QuerySource> =
        std::sync::Arc::new(crate::playbooks::source::LiveSource {
            client: live.client.clone(),
        });
    Ok(crate::tui::Switched {
        context,
        model_rx,
        queries,
        keep_alive: Box::new((source::KeepAlive::new(live, producer), file)),
    })
}

fn list_scenarios(args: ScenariosArgs) -> Result<i32> {
    let all = scenarios::registry();
    match args.output {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = all
                .iter()
                .map(|s| {
                    serde_json::json!({"id": s.id, "title": s.title, "summary": s.summary, "playbook": s.playbook})
                })
                .collect();
            outln!("{}", serde_json::to_string_pretty(&rows)?);
        }
        ListFormat::Text => {
            let width = all.iter().map(|s| s.id.len()).max().unwrap_or(2).max(2);
            outln!("{:width$}  {:24}  TITLE", "ID", "PLAYBOOK");
            for s in &all {
                outln!(
                    "{:width$}  {:24}  {}",
                    s.id,
                    s.playbook.unwrap_or("-"),
                    s.title
                );
            }
        }
    }
    Ok(0)
}

/// `ktriage theme list` and `ktriage theme import SKIN.yaml [-o FILE]`.
fn theme_command(cmd: ThemeCommand) -> Result<i32> {
    use crate::config::{self, EnvView};
    let env = EnvView::from_process();
    match cmd {
        ThemeCommand::List => {
            let all = config::theme::list(&env);
            let width = all.iter().map(|t| t.name.len()).max().unwrap_or(4).max(4);
            outln!("{:width$}  {:9}  DESCRIPTION", "NAME", "SOURCE");
            for t in &all {
                let source = if t.source == "shipped" {
                    "shipped"
                } else {
                    "user"
                };
                outln!("{:width$}  {:9}  {}", t.name, source, t.description);
            }
            if let Some(dir) = env.config_dir() {
                outln!("\nUser themes: {}", dir.join("themes").display());
            }
            Ok(0)
        }
        ThemeCommand::Import { skin, output } => {
            let yaml = std::fs::read_to_string(&skin)
                .with_context(|| format!("reading {}", skin.display()))?;
            let name = output
                .as_ref()
                .unwrap_or(&skin)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "imported".to_string());
            let imported = config::skin::import(&yaml, &name)
                .with_context(|| format!("converting {}", skin.display()))?;
            // The result must load like any theme file.
            config::theme::parse(&format!("{name}.toml"), &imported.toml)
                .context("the converted theme does not load (this is a ktriage bug)")?;
            for w in &imported.warnings {
                eprintln!("ktriage: {}: {w}", skin.display());
            }
            match output {
                Some(path) => {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("creating {}", dir.display()))?;
                    }
                    std::fs::write(&path, &imported.toml)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("ktriage: wrote theme {name:?} to {}", path.display());
                }
                None => out!("{}", imported.toml),
            }
            Ok(0)
        }
    }
}
