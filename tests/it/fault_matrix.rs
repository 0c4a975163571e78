//! The fault matrix: the fault proxy (`common::faultproxy`) between ktriage and the embedded
//! server drives resets at and after connect, stalls and truncation mid-response, latency,
//! 429 with Retry-After, 5xx bursts, 410 Gone on watches, a server that came back with a new
//! CA and an outage. For each, `check` gives the right answer within `--timeout` or names the
//! fault (never a false finding, never a hang, never "not present" for a query that failed),
//! and the TUI's view recovers within 10 s of the fault ending.
//!
//! Each test prints one `MATRIX |` line (fault, outcome, time); `cargo test --test it
//! fault_matrix:: -- --nocapture 2>&1 | grep MATRIX` gives the table.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::faultproxy::{Fault, FaultProxy};
use crate::common::tmux::Tmux;
use crate::common::{self};

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");
/// `check --timeout` in the matrix.
const TIMEOUT: u64 = 10;

struct Bench {
    proxy: FaultProxy,
    _server: ktriage::server::ServerHandle,
    dir: tempfile::TempDir,
    // Last: the runtime the server and proxy run on outlives them.
    _rt: tokio::runtime::Runtime,
}

fn bench(id: &str) -> Bench {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(common::serve(common::scenario(id)));
    let proxy = FaultProxy::start(rt.handle(), &server);
    Bench {
        proxy,
        _server: server,
        dir: tempfile::tempdir().expect("tempdir"),
        _rt: rt,
    }
}

/// How `check` ended.
#[derive(Debug)]
struct Checked {
    code: i32,
    report: Value,
    secs: f64,
}

impl Checked {
    /// Warning or critical findings or health items: on a healthy cluster, all false.
    fn false_findings(&self) -> Vec<String> {
        let mut bad = Vec::new();
        for f in self.report["findings"].as_array().into_iter().flatten() {
            let sev = f["finding"]["severity"].as_str().unwrap_or("");
            if sev == "warning" || sev == "critical" {
                bad.push(format!("{} {}", f["code"], f["finding"]["summary"]));
            }
        }
        for section in ["control_plane", "nodes", "addons", "restarts"] {
            for i in self.report["health"][section]
                .as_array()
                .into_iter()
                .flatten()
            {
                let sev = i["severity"].as_str().unwrap_or("");
                if sev == "warning" || sev == "critical" {
                    bad.push(format!("{section}: {} {}", i["name"], i["reason"]));
                }
            }
        }
        bad
    }

    /// What the report says could not be done: could not run, problems, could not check,
    /// unknown items.
    fn named(&self) -> Vec<String> {
        let mut named: Vec<String> = Vec::new();
        if let Some(s) = self.report["could_not_run"].as_str() {
            named.push(s.to_string());
        }
        for p in self.report["cluster"]["problems"]
            .as_array()
            .into_iter()
            .flatten()
        {
            named.push(p.as_str().unwrap_or("").to_string());
        }
        for c in self.report["could_not_check"]
            .as_array()
            .into_iter()
            .flatten()
        {
            named.push(format!("could not check {}: {}", c["code"], c["failed"]));
        }
        named
    }

    /// `right` (exit 0, nothing wrong, nothing unchecked) or `named: …` (exit 3 saying why);
    /// panics on a false finding, a hang or an unexplained result.
    fn verdict(&self, fault: &str) -> String {
        let bad = self.false_findings();
        assert!(
            bad.is_empty(),
            "{fault}: false findings on a healthy cluster: {bad:#?}\n{:#}",
            self.report
        );
        assert!(
            self.secs < (TIMEOUT + 3) as f64,
            "{fault}: check took {:.1} s with --timeout {TIMEOUT}",
            self.secs
        );
        let named = self.named();
        match self.code {
            0 if named.is_empty() => "right answer (exit 0)".into(),
            3 if !named.is_empty() => format!("exit 3: {}", first_line(&named[0], 90)),
            // Some of it could not be read, said so; nothing judged wrong.
            1 if !named.is_empty() => format!("incomplete, exit 1: {}", first_line(&named[0], 90)),
            _ => panic!(
                "{fault}: exit {} with {named:#?}\n{:#}",
                self.code, self.report
            ),
        }
    }
}

fn first_line(s: &str, max: usize) -> String {
    let l = s.lines().next().unwrap_or("");
    if l.chars().count() > max {
        format!("{}…", l.chars().take(max).collect::<String>())
    } else {
        l.to_string()
    }
}

fn check(b: &Bench) -> Checked {
    let kc = b.proxy.write_kubeconfig(b.dir.path());
    check_with(&kc)
}

fn check_with(kc: &std::path::Path) -> Checked {
    check_within(kc, TIMEOUT)
}

fn check_within(kc: &std::path::Path, timeout: u64) -> Checked {
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["--kubeconfig"])
        .arg(kc)
        .args([
            "check",
            "--output",
            "json",
            "--timeout",
            &timeout.to_string(),
        ])
        .env("KTRIAGE_LOG", "warn")
        .env_remove("KUBECONFIG")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("ktriage runs");
    let secs = started.elapsed().as_secs_f64();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}) after {secs:.1} s:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Checked {
        code: out.status.code().unwrap_or(-1),
        report,
        secs,
    }
}

fn matrix_line(fault: &str, what: &str, secs: f64) {
    eprintln!("MATRIX | {fault} | check: {what} | {secs:.1} s |");
}

/// Runs `check` with `fault` in force as `set` puts it; returns the verdict.
fn check_under(fault: &str, set: impl FnOnce(&FaultProxy)) -> (String, Checked) {
    let b = bench("healthy");
    set(&b.proxy);
    let c = check(&b);
    let v = c.verdict(fault);
    matrix_line(fault, &v, c.secs);
    (v, c)
}

#[test]
fn check_survives_resets_at_connect() {
    let (v, _) = check_under("reset at connect (3 connections)", |p| {
        p.set_for(Fault::ResetAtConnect, 3)
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_survives_resets_after_connect() {
    let (v, _) = check_under("reset after connect (3 requests)", |p| {
        p.set_for(Fault::ResetAfterConnect, 3)
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_survives_a_stall_mid_response() {
    check_under("stall after 20 KB (2 responses)", |p| {
        p.set_for(Fault::Stall { after: 20_000 }, 2)
    });
}

#[test]
fn check_under_latency_is_right() {
    let (v, _) = check_under("latency 300 ms on every request", |p| {
        p.set(Fault::Latency(Duration::from_millis(300)))
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_survives_truncated_responses() {
    check_under("truncation after 20 KB (3 responses)", |p| {
        p.set_for(Fault::Truncate { after: 20_000 }, 3)
    });
}

#[test]
fn check_honours_429_retry_after() {
    let (v, _) = check_under("429 Retry-After: 1 (5 requests)", |p| {
        p.set_for(
            Fault::Status {
                code: 429,
                retry_after: Some(1),
            },
            5,
        )
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_survives_a_5xx_burst() {
    let (v, _) = check_under("503 burst (6 requests)", |p| {
        p.set_for(
            Fault::Status {
                code: 503,
                retry_after: None,
            },
            6,
        )
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_names_a_server_that_answers_only_5xx() {
    let (v, c) = check_under("503 on every request", |p| {
        p.set(Fault::Status {
            code: 503,
            retry_after: None,
        })
    });
    assert!(v.starts_with("exit 3"), "{v}");
    // Said as it was (kube's own retries had turned it into "no answer within 5s").
    assert!(c.named().join("\n").contains("503"), "{:#?}", c.named());
}

/// On a broken cluster, a transient fault never turns the finding into "not present": the
/// finding stands (the queries were asked again), or the playbook could not check.
#[test]
fn a_finding_survives_transient_faults() {
    for (fault, set) in [
        (
            "truncation after 20 KB (3 responses)",
            Box::new(|p: &FaultProxy| p.set_for(Fault::Truncate { after: 20_000 }, 3))
                as Box<dyn Fn(&FaultProxy)>,
        ),
        (
            "reset after connect (3 requests)",
            Box::new(|p: &FaultProxy| p.set_for(Fault::ResetAfterConnect, 3)),
        ),
        (
            "503 burst (6 requests)",
            Box::new(|p: &FaultProxy| {
                p.set_for(
                    Fault::Status {
                        code: 503,
                        retry_after: None,
                    },
                    6,
                )
            }),
        ),
    ] {
        let b = bench("ingress-misconfigured");
        set(&b.proxy);
        let c = check(&b);
        assert!(c.secs < (TIMEOUT + 3) as f64, "{fault}: {:.1} s", c.secs);
        let found = c.report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["playbook"] == "ingress-misconfigured");
        let unchecked = c.report["could_not_check"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["playbook"] == "ingress-misconfigured");
        assert!(
            found || unchecked,
            "{fault}: NET-11 neither found nor could-not-check:\n{:#}",
            c.report
        );
        let what = if found {
            "finding stands"
        } else {
            "could not check"
        };
        matrix_line(&format!("{fault}, NET-11 scenario"), what, c.secs);
    }
}

#[test]
fn check_survives_410_gone_on_watches() {
    let (v, _) = check_under("410 Gone on watches (8)", |p| {
        p.set_for(Fault::GoneOnWatch, 8)
    });
    assert!(v.starts_with("right"), "{v}");
}

#[test]
fn check_names_a_server_with_a_new_ca() {
    let b = bench("healthy");
    let kc = b.proxy.write_kubeconfig(b.dir.path());
    b.proxy.new_ca();
    let c = check_with(&kc);
    let v = c.verdict("server restarted with a new CA");
    matrix_line("server restarted with a new CA", &v, c.secs);
    assert!(v.starts_with("exit 3"), "{v}");
    let named = c.named().join("\n");
    assert!(named.contains("certificate"), "{named}");
}

#[test]
fn check_names_an_outage() {
    let (v, _) = check_under("outage (connection refused)", |p| p.set(Fault::Outage));
    assert!(v.starts_with("exit 3"), "{v}");
}

// ---- The TUI: the real binary in tmux through the proxy. ----

/// The status line reads "synced N/N" with nothing failing or stale and no [UNKN] row.
fn recovered(screen: &str) -> bool {
    let status = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let synced = status.split("synced ").nth(1).and_then(|s| {
        let (a, rest) = s.split_once('/')?;
        let b: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some(a == b)
    });
    synced == Some(true)
        && !status.contains("failing")
        && !status.contains("stale")
        && !screen.contains("[UNKN]")
}

/// A healthy cluster has nothing to warn about, whatever the link does.
fn assert_nothing_false(fault: &str, screen: &str) {
    assert!(
        !screen.contains("[CRIT]") && !screen.contains("[WARN]"),
        "{fault}: a false finding on a healthy cluster:\n{screen}"
    );
}

struct Tui {
    t: Tmux,
    _b: Bench,
}

fn tui(b: Bench) -> Tui {
    let kc = b.proxy.write_kubeconfig(b.dir.path());
    let t = Tmux::start(140, 40, &[("KUBECONFIG", kc.to_str().expect("utf-8 path"))]);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(BIN, &["--log-file", &log]);
    t.wait_until("a synced view", Duration::from_secs(60), recovered);
    Tui { t, _b: b }
}

impl Tui {
    fn proxy(&self) -> &FaultProxy {
        &self._b.proxy
    }
}

/// Puts the fault in force for `hold` (or until `until` holds on the screen), ends it, and
/// returns the seconds until the view has recovered; panics past 10 s.
fn recovery(
    ui: &Tui,
    fault: &str,
    start: impl FnOnce(&FaultProxy),
    until: impl Fn(&str) -> bool,
) -> (f64, String) {
    start(ui.proxy());
    let during =
        ui.t.wait_until(&format!("{fault} to show"), Duration::from_secs(120), |s| {
            assert_nothing_false(fault, s);
            until(s)
        });
    ui.proxy().clear();
    let ended = Instant::now();
    let screen = ui.t.wait_until(
        &format!("recovery within 10 s after {fault}"),
        Duration::from_secs(10),
        |s| {
            assert_nothing_false(fault, s);
            recovered(s)
        },
    );
    let secs = ended.elapsed().as_secs_f64();
    eprintln!("MATRIX | {fault} | TUI recovered in {secs:.1} s |");
    let _ = screen;
    (secs, during)
}

fn quit(ui: &Tui) {
    ui.t.send_keys(&["q"]);
    assert_eq!(ui.t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn tui_keeps_the_last_view_through_a_15_s_outage_and_recovers() {
    let ui = tui(bench("healthy"));
    ui.proxy().set(Fault::Outage);
    let outage = Instant::now();
    // The rows stay (marked stale with their age), never collapse to [UNKN].
    let screen =
        ui.t.wait_until("the outage to show", Duration::from_secs(30), |s| {
            s.contains("stale")
        });
    assert!(screen.contains("worker-1"), "node rows kept:\n{screen}");
    assert!(screen.contains("nodes: stale"), "marked stale:\n{screen}");
    // readyz no longer claims the server is fine.
    ui.t.wait_until("readyz goes stale", Duration::from_secs(30), |s| {
        !s.contains("[ OK ] API server read")
    });
    while outage.elapsed() < Duration::from_secs(15) {
        let s = ui.t.capture();
        assert!(s.contains("worker-1"), "node rows kept:\n{s}");
        assert!(
            !s.contains("[CRIT]") && !s.contains("[WARN]"),
            "nothing judged from a stale view:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    ui.proxy().clear();
    let ended = Instant::now();
    ui.t.wait_until(
        "recovery within 10 s of a 15 s outage",
        Duration::from_secs(10),
        recovered,
    );
    eprintln!(
        "MATRIX | outage 15 s | TUI recovered in {:.1} s |",
        ended.elapsed().as_secs_f64()
    );
    quit(&ui);
}

#[test]
fn tui_recovers_from_resets_stalls_and_http_faults() {
    let ui = tui(bench("healthy"));
    let failing = |s: &str| !recovered(s);
    // Each fault until the view shows it, then the recovery after it ends.
    recovery(
        &ui,
        "reset at connect",
        |p| p.set(Fault::ResetAtConnect),
        failing,
    );
    recovery(
        &ui,
        "reset after connect",
        |p| p.set(Fault::ResetAfterConnect),
        failing,
    );
    recovery(
        &ui,
        "503 on every request",
        |p| {
            p.set(Fault::Status {
                code: 503,
                retry_after: None,
            })
        },
        failing,
    );
    recovery(
        &ui,
        "429 Retry-After: 1",
        |p| {
            p.set(Fault::Status {
                code: 429,
                retry_after: Some(1),
            })
        },
        failing,
    );
    recovery(
        &ui,
        "truncation after 2 KB",
        |p| p.set(Fault::Truncate { after: 2_000 }),
        failing,
    );
    // Watches answered 410 relist: the view may never look failing; wait until the proxy
    // answered some.
    let before = ui.proxy().injected();
    recovery(
        &ui,
        "410 Gone on watches",
        |p| p.set(Fault::GoneOnWatch),
        |_| ui.proxy().injected() > before + 8,
    );
    recovery(
        &ui,
        "latency 500 ms",
        |p| p.set(Fault::Latency(Duration::from_millis(500))),
        |_| true,
    );
    // The server stalls every answer mid-way, on the open connections too: nothing errs,
    // the answers stop coming. The view is marked stale (readyz, the heartbeat, within
    // seconds; the watches at the client's read timeout) and never judged meanwhile.
    recovery(
        &ui,
        "stall after 500 B of every answer",
        |p| p.set_quietly(Fault::Stall { after: 500 }),
        |s| s.contains("nodes: stale"),
    );
    quit(&ui);
}

#[test]
fn tui_names_a_server_that_came_back_with_a_new_ca() {
    let ui = tui(bench("healthy"));
    ui.proxy().new_ca();
    let changed = Instant::now();
    let screen =
        ui.t.wait_until("the new CA named", Duration::from_secs(30), |s| {
            s.contains("certificate changed")
        });
    // The playbooks that could not check list their failed query with its raw error; the
    // cause is named once, where the rows went stale, and nothing is called absent.
    assert!(!screen.contains("not present"), "{screen}");
    eprintln!(
        "MATRIX | server restarted with a new CA | TUI names it in {:.1} s |",
        changed.elapsed().as_secs_f64()
    );
    quit(&ui);
}
