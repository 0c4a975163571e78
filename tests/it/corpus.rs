//! Real captures: the incidents of tests/fixtures/corpus (public issue threads converted to
//! snapshots: partial, old, legacy-versioned, untimed; each file's header names its source
//! and `# expect: PLAYBOOK-ID` or `none`). `ktriage check --snapshot F -o json`, run as a
//! user runs it, must rank the expected playbook first; on a `none` control (a healthy but
//! noisy cluster) no finding and no health item may be critical. And a snapshot that holds a
//! fragment of one namespace is judged on what it holds: the kinds it lacks are "not
//! captured", never warnings or critical items.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// Cases the rules do not get right yet, each with the reason. The list may only shrink:
/// a listed case that passes fails the test, so it is taken off when it is fixed.
const KNOWN_MISSES: &[(&str, &str)] = &[];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

fn check(file: &Path) -> (i32, Value) {
    let out = Command::new(BIN)
        .args(["check", "-o", "json", "--snapshot"])
        .arg(file)
        .env("KTRIAGE_LOG", "warn")
        .output()
        .expect("ktriage runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: no JSON ({e}):\n{}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn expectation(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("# expect:"))
        .map(|e| e.trim().to_string())
}

/// Health items of a given severity, as `section: title — reason`.
fn health_items(report: &Value, severity: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(sections) = report["health"].as_object() {
        for (section, items) in sections {
            for i in items.as_array().into_iter().flatten() {
                if i["severity"] == severity {
                    out.push(format!("{section}: {} — {}", i["title"], i["reason"]));
                }
            }
        }
    }
    out
}

/// What is wrong with one case's report, or `None` when it holds.
fn judge(expect: &str, report: &Value) -> Option<String> {
    let findings: Vec<(String, String)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["playbook"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    if expect == "none" {
        let mut critical: Vec<String> = findings
            .iter()
            .filter(|(_, s)| s == "critical")
            .map(|(id, _)| format!("finding {id}"))
            .collect();
        critical.extend(health_items(report, "critical"));
        return (!critical.is_empty())
            .then(|| format!("critical on a healthy capture: {critical:?}"));
    }
    match findings.first() {
        Some((id, _)) if id == expect => None,
        _ => Some(format!("expected {expect} first, got {findings:?}")),
    }
}

#[test]
fn every_real_capture_ranks_its_cause_first_and_healthy_ones_raise_nothing_critical() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/fixtures/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus holds {} files", files.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(file).unwrap();
        let expect = expectation(&text).unwrap_or_else(|| panic!("{name} has no `# expect:`"));
        let (code, report) = check(file);
        assert!(
            (0..=2).contains(&code),
            "{name}: check could not judge the snapshot (exit {code})"
        );
        let known = KNOWN_MISSES.iter().find(|(f, _)| name.starts_with(f));
        match (judge(&expect, &report), known) {
            (None, None) => passed += 1,
            (None, Some((_, why))) => failures.push(format!(
                "{name} passes now: take it off KNOWN_MISSES (was: {why})"
            )),
            (Some(_), Some(_)) => {}
            (Some(problem), None) => failures.push(format!("{name}: {problem}")),
        }
    }
    println!("corpus: {passed}/{} hold", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_fragment_of_one_namespace_is_judged_on_what_it_holds_and_names_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fragment.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1\n  namespace: shop\n  \
         creationTimestamp: '2024-03-01T10:00:00Z'\nspec:\n  nodeName: worker-1\n  \
         containers: [{name: web, image: nginx:1.25}]\nstatus:\n  phase: Running\n  \
         containerStatuses: [{name: web, ready: true, restartCount: 0, image: nginx:1.25, \
         imageID: '', state: {running: {startedAt: '2024-03-01T10:00:05Z'}}}]\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n\
         spec: {selector: {app: web}, ports: [{port: 80}]}\n",
    )
    .unwrap();
    let (code, report) = check(&file);
    let serious: Vec<String> = health_items(&report, "critical")
        .into_iter()
        .chain(health_items(&report, "warning"))
        .collect();
    assert!(serious.is_empty(), "absence judged as a fault: {serious:?}");
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    assert!(
        findings.iter().all(|f| f["severity"] != "critical"),
        "{findings:?}"
    );
    assert!(code <= 1, "exit {code}");
    let problems: Vec<&str> = report["cluster"]["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for kind in ["nodes", "daemonsets", "leases"] {
        assert!(
            problems.iter().any(|p| p.starts_with(kind)
                && p.contains("not captured")
                && p.contains("kubectl get")),
            "{kind} is not named as not captured: {problems:?}"
        );
    }
    let unknown = health_items(&report, "unknown");
    assert!(
        unknown.iter().any(|i| i.contains("not captured")),
        "no health item says what was not captured: {unknown:?}"
    );
}
