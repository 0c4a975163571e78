//! One acceptance test over the registry, for every playbook at once (it replaces the
//! per-group copies): on the scenario that claims it (`Scenario::playbook`), a playbook is the
//! first finding, at warning or worse, on the scenario's snapshot and after a YAML round trip;
//! on the healthy cluster and every negative control no playbook warns. The registry is also
//! held together here: every scenario names a registered playbook, every playbook has a
//! scenario that shows it, and every playbook a health item of any scenario links to is
//! registered; a scenario whose cause is in the connection is judged by the doctor instead. The same pairs are held live and through the real
//! binary's `snapshot` in `tests/it/playbooks_scenarios.rs`; ids, codes and titles against the
//! catalog in `tests/it/playbooks_catalog.rs`.

use std::collections::BTreeMap;

use crate::cluster::state::ClusterState;
use crate::playbooks::engine::run_all;
use crate::playbooks::source::SnapshotSource;
use crate::playbooks::{FindingSeverity, registry};
use crate::scenarios::{self, Scenario, builder::epoch};
use crate::snapshot::Snapshot;

/// (playbook id, severity, summary) of every finding, best first.
type Findings = Vec<(&'static str, FindingSeverity, String)>;

fn findings(snapshot: Snapshot) -> Findings {
    let now = snapshot.clock().unwrap_or_else(epoch);
    let source = SnapshotSource { snapshot };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(run_all(&source, now))
        .into_iter()
        .filter_map(|r| {
            let f = r.finding?;
            Some((r.playbook.id, f.severity, f.summary))
        })
        .collect()
}

/// The findings on the scenario's snapshot and on the same snapshot written to YAML and read
/// back (what a trainer shares and `check --snapshot` reads).
fn both_ways(s: &Scenario) -> [(&'static str, Findings); 2] {
    let yaml = s.snapshot.to_yaml();
    let back = Snapshot::parse_str(&yaml, "round-trip.yaml").expect("own YAML parses");
    [
        ("snapshot", findings(s.snapshot.clone())),
        ("YAML round trip", findings(back)),
    ]
}

/// Whether a scenario's cause is in the connection (kubeconfig, TLS, identity) rather than
/// in its objects: its snapshot cannot show it; the doctor judges it live (held by the
/// `doctor_*` tests of `tests/it`).
fn in_the_connection(s: &Scenario) -> bool {
    scenarios::connection::SCENARIOS
        .iter()
        .any(|(id, _)| *id == s.id)
}

#[test]
fn every_playbook_is_first_on_the_scenario_that_claims_it() {
    let mut problems = Vec::new();
    let mut held = 0;
    for s in scenarios::registry() {
        let Some(id) = s.playbook else { continue };
        if in_the_connection(&s) {
            continue;
        }
        held += 1;
        for (via, f) in both_ways(&s) {
            match f.first() {
                Some((first, sev, _)) if *first == id && *sev >= FindingSeverity::Warning => {}
                _ => problems.push(format!(
                    "{} via {via}: expected {id} first, got {f:#?}",
                    s.id
                )),
            }
        }
    }
    assert!(
        held >= 40,
        "only {held} scenarios were judged from their snapshot"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_playbook_warns_on_the_healthy_cluster_or_a_negative_control() {
    let mut problems = Vec::new();
    let quiet: Vec<Scenario> = scenarios::registry()
        .into_iter()
        .filter(|s| s.playbook.is_none())
        .collect();
    assert!(
        quiet.iter().any(|s| s.id == "healthy") && quiet.len() >= 5,
        "the healthy cluster and the controls: {:?}",
        quiet.iter().map(|s| s.id).collect::<Vec<_>>()
    );
    for s in &quiet {
        for (via, f) in both_ways(s) {
            let loud: Vec<_> = f
                .iter()
                .filter(|x| x.1 >= FindingSeverity::Warning)
                .collect();
            if !loud.is_empty() {
                problems.push(format!("{} via {via}: {loud:#?}", s.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn scenarios_health_links_and_playbooks_point_at_each_other() {
    let registered: Vec<&str> = registry().iter().map(|p| p.id).collect();
    let mut claimed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut problems = Vec::new();
    for s in scenarios::registry() {
        if let Some(id) = s.playbook {
            claimed.entry(id).or_default().push(s.id);
            if !registered.contains(&id) {
                problems.push(format!(
                    "scenario {} names {id}, which is not registered",
                    s.id
                ));
            }
        }
        let state = ClusterState::from_snapshot(&s.snapshot);
        let now = s.snapshot.clock().unwrap_or_else(epoch);
        let report = crate::health::build(&state, now);
        let items = [
            &report.control_plane,
            &report.nodes,
            &report.addons,
            &report.restarts,
        ];
        for item in items.into_iter().flatten() {
            for pb in &item.playbooks {
                if !registered.contains(&pb.as_str()) {
                    problems.push(format!(
                        "on {}, health item {:?} links to {pb}, which is not registered",
                        s.id, item.title
                    ));
                }
            }
        }
    }
    for p in registry() {
        if !claimed.contains_key(p.id) {
            problems.push(format!("{} ({}) has no scenario", p.id, p.code));
        }
        for sym in p.symptoms {
            if !(sym.weight > 0.0 && sym.weight <= 1.0) {
                problems.push(format!(
                    "{}: symptom weight {} outside (0, 1]",
                    p.id, sym.weight
                ));
            }
        }
        for frag in p.symptoms.iter().flat_map(|s| s.all_of) {
            if *frag != frag.to_lowercase() {
                problems.push(format!("{}: symptom {frag:?} must be lower-case", p.id));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `KTRIAGE_SCENARIO=ID cargo test --lib print_findings -- --ignored --nocapture` prints the
/// findings of a scenario's snapshot with the queries behind them.
#[test]
#[ignore]
fn print_findings() {
    let id = std::env::var("KTRIAGE_SCENARIO").unwrap_or_else(|_| "healthy".into());
    let s = scenarios::find(&id).expect("a scenario id");
    let now = s.snapshot.clock().unwrap_or_else(epoch);
    let source = SnapshotSource {
        snapshot: s.snapshot,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for r in rt.block_on(run_all(&source, now)) {
        let Some(f) = r.finding.as_ref() else {
            continue;
        };
        for st in &r.steps {
            println!("  $ {}  -> {}", st.query.kubectl, st.summary());
        }
        println!("{} {:?}: {}", r.playbook.id, f.severity, f.summary);
    }
}
