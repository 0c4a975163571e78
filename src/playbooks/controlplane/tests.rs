//! The group's acceptance on its scenarios: each scenario's playbook is the first finding
//! of a full run over the scenario's snapshot, and the healthy cluster and the negative
//! controls give no warning or critical finding from this group.

use crate::playbooks::FindingSeverity;
use crate::playbooks::engine;
use crate::playbooks::source::SnapshotSource;
use crate::scenarios::{self, SCENARIO_EPOCH};

fn now() -> chrono::DateTime<chrono::Utc> {
    super::common::parse_time(SCENARIO_EPOCH).unwrap()
}

fn run(id: &str) -> Vec<engine::Run> {
    let s = scenarios::find(id).unwrap_or_else(|| panic!("no scenario {id}"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let src = SnapshotSource {
        snapshot: s.snapshot,
    };
    rt.block_on(engine::run_all(&src, now()))
}

fn ours(id: &str) -> bool {
    super::PLAYBOOKS.iter().any(|p| p.id == id)
}

/// Scenario ids of this group that demonstrate a playbook.
const BROKEN: &[&str] = &[
    "controlplane-proxy-without-no-proxy",
    "leader-election-lease",
    "ha-apiserver-endpoints-flap",
    "static-pod-liveness-mismatch",
    "control-plane-topology",
    "apiserver-not-ready",
];
/// The healthy cluster and this group's negative controls.
const CLEAN: &[&str] = &["healthy", "leader-election-lease-control"];

#[test]
fn each_scenario_puts_its_playbook_first() {
    for id in BROKEN {
        let runs = run(id);
        let got: Vec<(&str, FindingSeverity, f32)> = runs
            .iter()
            .filter_map(|r| {
                r.finding
                    .as_ref()
                    .map(|f| (r.playbook.id, f.severity, f.confidence))
            })
            .collect();
        assert_eq!(got.first().map(|g| g.0), Some(*id), "{id}: {got:?}");
        assert!(got[0].1 >= FindingSeverity::Warning, "{id}: {got:?}");
    }
}

#[test]
fn healthy_and_controls_raise_nothing() {
    for id in CLEAN {
        for r in run(id) {
            let f = r.finding.as_ref().unwrap();
            assert!(
                !ours(r.playbook.id) || f.severity == FindingSeverity::Info,
                "{id}: {} fired: {}",
                r.playbook.id,
                f.summary
            );
        }
    }
}

/// `DUMP=id cargo test --lib playbooks::controlplane::tests::dump -- --ignored --nocapture`
#[test]
#[ignore]
fn dump() {
    let id = std::env::var("DUMP").unwrap_or_else(|_| "healthy".into());
    for r in run(&id) {
        let report = engine::FindingReport {
            playbook: r.playbook.id,
            code: r.playbook.code,
            title: r.playbook.title,
            finding: r.finding.as_ref().unwrap(),
        };
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    }
}
