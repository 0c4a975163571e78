//! Issue 4's acceptance: for every playbook, the real binary's `check --scenario ID --output
//! json` lists that id as the first finding, and so does `check --snapshot` on a snapshot of
//! the served scenario written by `ktriage snapshot`; the healthy scenario and the negative
//! controls (`*-control`) produce no warning or critical finding.

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
