//! Soak: the real TUI in tmux over a scenario with a steady stream of changes (node
//! heartbeats, pod annotations, events created and deleted, several a second through the
//! scenario timeline) for `KTRIAGE_SOAK_SECS` (20 s in CI; 600 for the ten-minute soak):
//! the view keeps up, and the TUI's memory stays bounded.

use std::time::{Duration, Instant};

use ktriage::scenarios::{Change, ObjRef, TimelineStep};
use serde_json::{Value, json};

use crate::common::{self, tmux::Tmux};

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn soak_secs() -> u64 {
    std::env::var("KTRIAGE_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}

fn refs(objects: &[Value], kind: &str) -> Vec<ObjRef> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .filter_map(|o| {
            Some(ObjRef::new(
                kind,
                o.pointer("/metadata/namespace").and_then(Value::as_str),
                o.pointer("/metadata/name")?.as_str()?,
            ))
        })
        .collect()
}

fn every(ms: u64, change: Change) -> TimelineStep {
    TimelineStep {
        at: Duration::from_millis(ms),
        every: Some(Duration::from_millis(ms)),
        until: None,
        change,
    }
}

/// The healthy scenario with a steady stream of changes added to its timeline.
fn streaming_scenario() -> ktriage::scenarios::Scenario {
    let mut s = common::scenario("healthy");
    let objects = &s.snapshot.objects;
    let nodes = refs(objects, "Node");
    let pods = refs(objects, "Pod");
    let mut steps = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        steps.push(every(
            200 + 37 * i as u64,
            Change::Now {
                target: node.clone(),
                path: "/status/conditions/[type=Ready]/lastHeartbeatTime".into(),
            },
        ));
    }
    for (i, pod) in pods.iter().take(40).enumerate() {
        steps.push(every(
            150 + 13 * i as u64,
            Change::Now {
                target: pod.clone(),
                path: "/metadata/annotations/ktriage.io~1soak".into(),
            },
        ));
    }
    // Events that come and go: created every 100 ms, each deleted 10 s later (one name per
    // slot of 100, reused), so the cluster's event count stays level as a real one's does.
    for slot in 0..100u64 {
        let name = format!("soak-{slot}");
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "soak"},
            "reason": "Soak", "message": "a steady stream of changes", "type": "Normal",
            "count": 1,
        });
        steps.push(TimelineStep {
            at: Duration::from_millis(100 * slot + 100),
            every: Some(Duration::from_secs(10)),
            until: None,
            change: Change::Create { object: event },
        });
        steps.push(TimelineStep {
            at: Duration::from_millis(100 * slot + 5_100),
            every: Some(Duration::from_secs(10)),
            until: None,
            change: Change::Delete {
                target: ObjRef::new("Event", Some("default"), &name),
            },
        });
    }
    s.timeline.extend(steps);
    s
}

/// Resident memory of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The ktriage process running in the pane (a child of the pane's shell).
fn tui_pid(t: &Tmux) -> u32 {
    let shell = t.tmux(&["list-panes", "-F", "#{pane_pid}"]);
    let shell = shell.trim();
    let out = std::process::Command::new("pgrep")
        .args(["-P", shell, "-f", "ktriage"])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ktriage under the pane's shell {shell}"))
}

fn synced(screen: &str) -> bool {
    let status = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    status.contains("synced 9/9") && !status.contains("failing") && !status.contains("stale")
}

#[test]
fn the_tui_keeps_up_with_a_steady_stream_of_changes_in_bounded_memory() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(ktriage::server::start(ktriage::server::ServerConfig::new(
            streaming_scenario(),
        )))
        .expect("server starts");
    let (_dir, kubeconfig) = common::kubeconfig_file(&server);
    let t = Tmux::start(
        140,
        40,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8"))],
    );
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(BIN, &["--log-file", &log]);
    t.wait_until("a synced view", Duration::from_secs(60), synced);
    let pid = tui_pid(&t);
    // Warm up: the first findings run and the first rounds of the stream.
    let rv0 = server.resource_version();
    t.wait_until("the stream to flow", Duration::from_secs(60), |_| {
        server.resource_version() > rv0 + 300
    });
    let start_rss = rss_kib(pid);
    let soak = Duration::from_secs(soak_secs());
    let started = Instant::now();
    let mut peak = start_rss;
    let mut samples: Vec<u64> = Vec::new();
    let rv_start = server.resource_version();
    while started.elapsed() < soak {
        let screen = t.capture();
        assert!(
            !screen.contains("[CRIT]") && !screen.contains("[WARN]"),
            "a healthy cluster under a stream of changes:\n{screen}"
        );
        let rss = rss_kib(pid);
        peak = peak.max(rss);
        // One sample per tenth of the run, to tell a plateau from a leak.
        let tenth = (started.elapsed().as_secs_f64() / soak.as_secs_f64() * 10.0) as usize;
        if samples.len() <= tenth && samples.len() < 10 {
            samples.push(rss / 1024);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let changes = server.resource_version() - rv_start;
    // Still live at the end: synced, and the view shows the newest heartbeats.
    t.wait_until("synced at the end", Duration::from_secs(10), synced);
    let end_rss = rss_kib(pid);
    eprintln!("soak: TUI RSS by tenths of the run (MiB): {samples:?}");
    eprintln!(
        "soak {:?}: {changes} changes ({:.0}/s); TUI RSS {} KiB at start, {} KiB at the end, peak {} KiB; server kept {} requests, forgot {}",
        soak,
        changes as f64 / soak.as_secs_f64(),
        start_rss,
        end_rss,
        peak,
        server.requests().len(),
        server.requests_forgotten()
    );
    assert!(
        changes as f64 > 20.0 * soak.as_secs_f64(),
        "the stream flowed: {changes}"
    );
    // Bounded: a view over a cluster whose size stays level must not grow with time.
    let growth = peak.saturating_sub(start_rss);
    assert!(
        growth < 64 * 1024 && peak < start_rss * 2 + 32 * 1024,
        "TUI memory grew from {start_rss} KiB to a peak of {peak} KiB over {soak:?}"
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}
