//! The end-to-end benchmark at the Kubernetes envelope (issue 11; run:
//! `cargo bench --bench scale`): the scale scenario (5,000 nodes, 150,000 pods) served
//! in-process, then, each as a ratio to the floor:
//!
//! - server: bytes held against the JSON it serves, load time, a page's time first vs last;
//! - floor: the raw paginated GET of pods and nodes (pages of 500, bodies not decoded);
//! - `kubectl get pods -A` when kubectl is on PATH;
//! - `ktriage check` (the real binary): wall time, peak RSS, and its findings against a
//!   small cluster with the same faults;
//! - the TUI model: launch to every watcher synced, to the first findings, heap held;
//! - frames: p50/p99 of the Overview and of `:pods` at 160x45;
//! - churn: CPU of the TUI model while 1,000 watch events a second arrive (the process's
//!   CPU with the model live, less the same churn with no model).
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) the cluster is tiny, so the
//! harness stays tested; the figures then mean nothing.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ktriage::scenarios::scale::Scale;
use ktriage::server::ServerHandle;
use ktriage::source::{self, SourceSpec};

mod alloc;

use alloc::{live_bytes, mb};

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs a command to its end: wall time, its peak RSS in bytes, its stdout.
// The child is reaped by wait4 (which also reports its peak RSS), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command) -> (Duration, u64, String, i32) {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the command starts");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let mut status = 0;
    // SAFETY: wait4 on our own child, writing into the structs we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = start.elapsed();
    let out = reader.join().unwrap_or_default();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (wall, ru.ru_maxrss as u64 * 1024, out, code)
}

/// A served scale cluster and a kubeconfig file for it.
struct Served {
    handle: ServerHandle,
    kubeconfig: std::path::PathBuf,
}

async fn serve(scale: Scale, dir: &Path, name: &str) -> Served {
    let config = source::scenario_config(&scale.id()).expect("the scale scenario builds");
    let handle = ktriage::server::start(config)
        .await
        .expect("the server starts");
    let kubeconfig = dir.join(format!("{name}.kubeconfig"));
    handle
        .write_kubeconfig(&kubeconfig)
        .expect("the kubeconfig is written");
    Served { handle, kubeconfig }
}

/// The floor: every page of pods and nodes fetched raw (pages of 500, the body read but not
/// decoded; the continue token is cut out of the list's metadata, which comes first).
/// Returns the time and each page's time.
async fn floor(client: &kube::Client) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let mut pages = Vec::new();
    for path in ["/api/v1/pods", "/api/v1/nodes"] {
        let mut token: Option<String> = None;
        loop {
            let url = match &token {
                Some(t) => format!("{path}?limit=500&continue={t}"),
                None => format!("{path}?limit=500"),
            };
            let t = Instant::now();
            let req = http::Request::get(url).body(Vec::new()).expect("a request");
            let body = client.request_text(req).await.expect("a page");
            if path.ends_with("pods") {
                pages.push(t.elapsed());
            }
            let head = &body[..body.len().min(2048)];
            token = head
                .split("\"continue\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    (start.elapsed(), pages)
}

/// `ktriage check -o json` against a kubeconfig: wall, peak RSS, the playbook ids found.
fn check(kubeconfig: &Path) -> (Duration, u64, Vec<String>, i32) {
    let (wall, rss, out, code) = run_measured(
        Command::new(env!("CARGO_BIN_EXE_ktriage"))
            .args(["check", "-o", "json", "--timeout", "1800", "--kubeconfig"])
            .arg(kubeconfig)
            .env("XDG_STATE_HOME", std::env::temp_dir()),
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["playbook"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    (wall, rss, ids, code)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// p50 and p99 of `n` renders of the app's current screen.
fn frame_times(
    app: &ktriage::app::App,
    model: &ktriage::app::Model,
    n: usize,
) -> (Duration, Duration) {
    let _ = ktriage::ui::render_to_buffer(app, model, 160, 45);
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(ktriage::ui::render_to_buffer(app, model, 160, 45));
            t.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn key(app: &mut ktriage::app::App, code: crossterm::event::KeyCode) {
    use crossterm::event::{KeyEvent, KeyModifiers};
    app.update(ktriage::app::Msg::Key(KeyEvent::new(
        code,
        KeyModifiers::NONE,
    )));
}

/// Applies the scale scenario's churn steps at their rate for `for_how_long`, from this task.
async fn drive_churn(
    handle: &ServerHandle,
    steps: &[ktriage::scenarios::TimelineStep],
    for_how_long: Duration,
) -> usize {
    let start = tokio::time::Instant::now();
    let mut applied = 0;
    let mut round = Duration::ZERO;
    while round < for_how_long {
        for s in steps {
            tokio::time::sleep_until(start + round + s.at).await;
            if handle.apply(&s.change).is_ok() {
                applied += 1;
            }
        }
        round += Duration::from_secs(1);
    }
    applied
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full {
        Scale::default()
    } else {
        Scale {
            nodes: 12,
            pods: 700,
            churn: 0,
        }
    };
    // The small cluster with the same faults that check's findings are compared with.
    let small = Scale {
        nodes: 8,
        pods: 400,
        churn: 0,
    };
    let churn_rate: u32 = if full { 1_000 } else { 40 };
    let churn_secs = if full { 10 } else { 2 };
    println!(
        "ktriage scale benchmark ({}): {} nodes, {} pods",
        if full {
            "full size"
        } else {
            "smoke run, tiny size; use cargo bench --bench scale"
        },
        size.nodes,
        size.pods
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temp dir");

    // The server.
    let before = live_bytes();
    let t = Instant::now();
    let served = rt.block_on(serve(size, dir.path(), "scale"));
    let load = t.elapsed();
    let held = (live_bytes() - before) as f64;
    let (objects, json) = served.handle.stored();
    println!(
        "server   {objects} objects, {:.0} MB of JSON held in {:.0} MB ({:.2}x the JSON), loaded in {:.1} s",
        mb(json as f64),
        mb(held),
        held / json as f64,
        secs(load)
    );

    let client = rt.block_on(async {
        let kc = ktriage::cluster::client::load_kubeconfig(Some(&served.kubeconfig))
            .expect("the kubeconfig parses");
        ktriage::cluster::client::connect(kc, None)
            .await
            .expect("the client connects")
            .client
    });

    // The floor, best of 2 (the pages' times are the second run's: connections are open).
    let (floor1, _) = rt.block_on(floor(&client));
    let (floor2, pages) = rt.block_on(floor(&client));
    let floor_t = floor1.min(floor2);
    let f = secs(floor_t);
    let mid = pages.get(pages.len() / 2).copied().unwrap_or_default();
    println!(
        "floor    raw paginated GET of pods + nodes: {:.2} s ({} pod pages; first {:.1} ms, middle {:.1} ms, last {:.1} ms)",
        f,
        pages.len(),
        pages.first().map_or(0.0, |d| secs(*d) * 1000.0),
        secs(mid) * 1000.0,
        pages.last().map_or(0.0, |d| secs(*d) * 1000.0),
    );

    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        let (wall, rss, out, _) = run_measured(
            Command::new("kubectl")
                .args(["get", "pods", "-A", "--kubeconfig"])
                .arg(&served.kubeconfig),
        );
        println!(
            "kubectl  get pods -A: {:.2} s ({:.2}x the floor), peak RSS {:.0} MB, {} lines",
            secs(wall),
            secs(wall) / f,
            mb(rss as f64),
            out.lines().count()
        );
    }

    // check, then the small cluster with the same faults.
    let (wall, rss, ids, code) = check(&served.kubeconfig);
    let small_ids = {
        let s = rt.block_on(serve(small, dir.path(), "small"));
        let (_, _, ids, _) = check(&s.kubeconfig);
        ids
    };
    println!(
        "check    {:.2} s ({:.2}x the floor), peak RSS {:.0} MB, exit {code}, findings {:?}: {} those of a {}-pod cluster with the same faults",
        secs(wall),
        secs(wall) / f,
        mb(rss as f64),
        ids,
        if ids == small_ids {
            "the same as"
        } else {
            "NOT the same as"
        },
        small.pods
    );

    // The TUI model.
    let spec = SourceSpec::Context {
        kubeconfig: Some(served.kubeconfig.clone()),
        context: None,
    };
    let before = live_bytes();
    let start = Instant::now();
    let (model, synced, first_findings, keep) = rt.block_on(async {
        let live = source::connect_live(&spec).await.expect("the TUI connects");
        let cadence = ktriage::findings::Cadence {
            limit: Duration::from_secs(1800),
            ..Default::default()
        };
        let (mut rx, producer) = source::spawn_producer_with(&live, cadence);
        let keep = source::KeepAlive::new(live, producer);
        let mut synced = None;
        loop {
            let model = rx.borrow_and_update().clone();
            let all_synced = !model.sync.is_empty()
                && model
                    .sync
                    .iter()
                    .all(|s| matches!(s.state, ktriage::cluster::SyncState::Synced));
            if all_synced && synced.is_none() {
                synced = Some(start.elapsed());
            }
            if let (Some(s), Some(_)) = (synced, model.findings.evaluated_at) {
                return (model, s, start.elapsed(), keep);
            }
            if rx.changed().await.is_err() {
                panic!("the model producer stopped");
            }
        }
    });
    let tui_held = (live_bytes() - before) as f64;
    println!(
        "tui      synced {:.2} s ({:.2}x the floor), first findings {:.2} s ({:.2}x; {} findings), heap held {:.0} MB",
        secs(synced),
        secs(synced) / f,
        secs(first_findings),
        secs(first_findings) / f,
        model.findings.len(),
        mb(tui_held)
    );

    // Frames.
    let mut app = ktriage::app::App::new();
    app.update(ktriage::app::Msg::Resize(160, 45));
    app.update(ktriage::app::Msg::ModelChanged(model.clone()));
    let n = if full { 200 } else { 20 };
    let (o50, o99) = frame_times(&app, &model, n);
    key(&mut app, crossterm::event::KeyCode::Char(':'));
    for c in "pods".chars() {
        key(&mut app, crossterm::event::KeyCode::Char(c));
    }
    key(&mut app, crossterm::event::KeyCode::Enter);
    let (p50, p99) = frame_times(&app, &model, n);
    println!(
        "frames   160x45 Overview p50 {:.2} ms p99 {:.2} ms; :pods p50 {:.2} ms p99 {:.2} ms",
        secs(o50) * 1000.0,
        secs(o99) * 1000.0,
        secs(p50) * 1000.0,
        secs(p99) * 1000.0
    );
    drop(app);
    drop(model);

    // Churn: the process's CPU with the TUI model live, less the same churn without it.
    let base = size.scenario().snapshot.objects;
    let steps = size.churn(&base, churn_rate);
    let window = Duration::from_secs(churn_secs);
    let measure = |label: &str| {
        let cpu = cpu_time();
        let t = Instant::now();
        let applied = rt.block_on(drive_churn(&served.handle, &steps, window));
        // The last events reach the model.
        std::thread::sleep(Duration::from_millis(500));
        let used = cpu_time() - cpu;
        let share = secs(used) / secs(t.elapsed());
        println!(
            "churn    {label}: {applied} changes in {:.1} s, {:.1}% of one core",
            secs(t.elapsed()),
            share * 100.0
        );
        share
    };
    let with_tui = measure("with the TUI model live");
    drop(keep);
    std::thread::sleep(Duration::from_secs(1));
    let without = measure("server alone");
    println!(
        "churn    the TUI model at {churn_rate} watch events/s: {:.1}% of one core (findings re-evaluated as they change)",
        (with_tui - without).max(0.0) * 100.0
    );
}
