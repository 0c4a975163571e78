//! Issue 4's acceptance: for every playbook, the real binary's `check --scenario ID --output
//! json` lists that id as the first finding, and so does `check --snapshot` on a snapshot of
//! the served scenario written by `ktriage snapshot`; the healthy scenario and the negative
//! controls (`*-control`) produce no warning or critical finding; a snapshot keeps the logs
//! the offline diagnosis quotes.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn check(args: &[&str]) -> Value {
    let out = Command::new(BIN)
        .args(["check", "--output", "json"])
        .args(args)
        .env("KTRIAGE_LOG", "warn")
        .output()
        .expect("ktriage runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "check {args:?} printed no JSON ({e}), exit {:?}:\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn first_finding(report: &Value) -> Option<&str> {
    report["findings"].get(0)?.get("playbook")?.as_str()
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| format!("{} ({})", f["playbook"], f["severity"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The first finding's evidence as `object field` keys (values carry ages and ports that
/// differ between two runs).
fn evidence_keys(report: &Value) -> Vec<String> {
    report["findings"][0]["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{} {}", e["object"], e["field"]))
        .collect()
}

fn snapshot_of(id: &str, dir: &Path) -> Result<String, String> {
    let path = dir.join(format!("{id}.yaml"));
    let out = Command::new(BIN)
        .args(["snapshot", "--scenario", id, "-o"])
        .arg(&path)
        .output()
        .expect("ktriage snapshot runs");
    if !out.status.success() {
        return Err(format!(
            "snapshot of {id} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(path.display().to_string())
}

/// Runs `f` over `items` on a few threads, collecting failures instead of stopping at the first.
fn for_each_parallel(
    items: Vec<String>,
    f: impl Fn(&str) -> Result<(), String> + Sync,
) -> Vec<String> {
    let queue = Mutex::new(items);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let Some(id) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    if let Err(e) = f(&id) {
                        failures.lock().unwrap().push(e);
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

#[test]
fn each_playbook_is_first_on_its_scenario_live_and_through_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = ktriage::playbooks::registry()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    let failures = for_each_parallel(ids, |id| {
        let live = check(&["--scenario", id]);
        if first_finding(&live) != Some(id) {
            return Err(format!(
                "--scenario {id}: findings {:?}",
                finding_ids(&live)
            ));
        }
        let snap = snapshot_of(id, dir.path())?;
        let offline = check(&["--snapshot", &snap]);
        if first_finding(&offline) != Some(id) {
            return Err(format!(
                "--snapshot of {id}: findings {:?}",
                finding_ids(&offline)
            ));
        }
        // The snapshot holds the evidence the live diagnosis showed. Connection playbooks
        // probe the connection live (timed steps a snapshot cannot replay), and a restricted
        // user's live report starts with the connection doctor's view of the refusals.
        let client_side = ktriage::playbooks::find(id)
            .is_some_and(|p| p.access == ktriage::playbooks::Access::Client);
        if !client_side && id != "rbac-forbidden" {
            let missing: Vec<String> = evidence_keys(&live)
                .into_iter()
                .filter(|k| !evidence_keys(&offline).contains(k))
                .collect();
            if !missing.is_empty() {
                return Err(format!("--snapshot of {id} lacks evidence {missing:?}"));
            }
        }
        Ok(())
    });
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn healthy_and_negative_controls_raise_no_alarm() {
    let mut ids: Vec<String> = ktriage::scenarios::ids()
        .into_iter()
        .filter(|id| *id == "healthy" || id.ends_with("-control"))
        .map(str::to_string)
        .collect();
    ids.sort();
    let failures = for_each_parallel(ids, |id| {
        let report = check(&["--scenario", id]);
        let alarms: Vec<String> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["severity"] != "info")
            .map(|f| format!("{} ({}): {}", f["playbook"], f["severity"], f["summary"]))
            .collect();
        if alarms.is_empty() {
            Ok(())
        } else {
            Err(format!("{id}: {alarms:?}"))
        }
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A snapshot keeps the logs of application pods in trouble, so an offline diagnosis quotes
/// the same log line as the live one (not only the pod's termination message).
#[test]
fn a_snapshot_keeps_the_crashing_applications_log() {
    let dir = tempfile::tempdir().unwrap();
    let live = check(&["--scenario", "crashloop"]);
    let snap = snapshot_of("crashloop", dir.path()).unwrap();
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(
        text.contains("kind: PodLog") && text.contains("namespace: shop"),
        "the shop pod's log is in the snapshot"
    );
    let offline = check(&["--snapshot", &snap]);
    let log_evidence = |report: &Value| -> Option<String> {
        report["findings"][0]["evidence"]
            .as_array()?
            .iter()
            .find(|e| e["field"].as_str().is_some_and(|f| f.starts_with("log[")))
            .map(|e| e["value"].to_string())
    };
    assert!(log_evidence(&live).is_some(), "{live:#}");
    assert_eq!(log_evidence(&offline), log_evidence(&live), "{offline:#}");
    assert_eq!(
        offline["findings"][0]["summary"], live["findings"][0]["summary"],
        "the same one-line cause"
    );
}
