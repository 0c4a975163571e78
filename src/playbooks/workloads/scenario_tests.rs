//! Each workload scenario, run through every registered playbook on its snapshot (also after a
//! YAML round trip): its own playbook is the first finding; healthy and the negative controls
//! get no warning or critical finding from this group's playbooks.

use crate::playbooks::engine::run_all;
use crate::playbooks::source::SnapshotSource;
use crate::playbooks::{FindingSeverity, workloads};
use crate::scenarios::builder::epoch;
use crate::scenarios::{Scenario, find};
use crate::snapshot::Snapshot;

fn runs(s: &Scenario) -> Vec<(String, FindingSeverity, f32, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let yaml = s.snapshot.to_yaml();
    let snapshot = Snapshot::parse_str(&yaml, "round-trip.yaml").unwrap();
    let source = SnapshotSource { snapshot };
    rt.block_on(run_all(&source, epoch()))
        .into_iter()
        .filter_map(|r| {
            r.finding.map(|f| {
                (
                    r.playbook.id.to_string(),
                    f.severity,
                    f.confidence,
                    f.summary,
                )
            })
        })
        .collect()
}

fn ours(id: &str) -> bool {
    workloads::PLAYBOOKS.iter().any(|p| p.id == id)
}

#[test]
fn each_scenario_ranks_its_playbook_first() {
    for (id, build) in crate::scenarios::workloads::SCENARIOS {
        let s = build();
        let Some(pb) = s.playbook else { continue };
        assert_eq!(pb, *id, "scenario {id} names another playbook");
        let found = runs(&s);
        assert!(
            found.first().is_some_and(|f| f.0 == pb),
            "{id}: findings {found:#?}"
        );
        assert!(found[0].1 >= FindingSeverity::Warning, "{id}: {found:#?}");
    }
}

#[test]
fn healthy_and_controls_raise_nothing_from_this_group() {
    let mut checked = 0;
    let healthy = find("healthy").unwrap();
    let controls = crate::scenarios::workloads::SCENARIOS
        .iter()
        .map(|(_, b)| b())
        .filter(|s| s.playbook.is_none());
    for s in std::iter::once(healthy).chain(controls) {
        let bad: Vec<_> = runs(&s)
            .into_iter()
            .filter(|f| ours(&f.0) && f.1 >= FindingSeverity::Warning)
            .collect();
        assert!(bad.is_empty(), "{}: {bad:#?}", s.id);
        checked += 1;
    }
    assert!(checked >= 2);
}

#[test]
fn metadata_follows_the_catalog_and_every_playbook_has_its_scenario() {
    let want = [
        ("WL-01", "crashloop"),
        ("WL-02", "image-pull-failure"),
        ("WL-03", "pending-unschedulable"),
        ("WL-04", "quota-or-admission-blocked"),
        ("WL-05", "running-not-ready"),
        ("WL-06", "container-config-error"),
        ("WL-07", "addon-restart-storm"),
        ("WL-08", "node-pressure-evictions"),
        ("WL-09", "apparmor-seccomp-blocked"),
        ("WL-10", "admission-webhook-unavailable"),
    ];
    let got: Vec<(&str, &str)> = workloads::PLAYBOOKS
        .iter()
        .map(|p| (p.code, p.id))
        .collect();
    assert_eq!(got, want);
    for p in workloads::PLAYBOOKS {
        let s = find(p.id).unwrap_or_else(|| panic!("no scenario {}", p.id));
        assert_eq!(s.playbook, Some(p.id));
        for sym in p.symptoms {
            assert!(sym.weight > 0.0 && sym.weight <= 1.0);
            for frag in sym.all_of {
                assert_eq!(
                    *frag,
                    frag.to_lowercase(),
                    "{}: symptoms are lower-case",
                    p.id
                );
            }
        }
    }
}
