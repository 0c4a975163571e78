//! The group's acceptance on its scenarios: each scenario's playbook is the first finding
//! of a full run over the scenario's snapshot, and the healthy cluster and the negative
//! controls give no warning or critical finding from this group.

use crate::playbooks::FindingSeverity;
use crate::playbooks::engine;
use crate::playbooks::source::SnapshotSource;
use crate::scenarios::{self, SCENARIO_EPOCH};
use crate::snapshot::Snapshot;

fn now() -> chrono::DateTime<chrono::Utc> {
    super::common::parse_time(SCENARIO_EPOCH).unwrap()
}

fn run(id: &str) -> Vec<engine::Run> {
    let s = scenarios::find(id).unwrap_or_else(|| panic!("no scenario {id}"));
    run_on(s.snapshot)
}

fn run_on(snapshot: Snapshot) -> Vec<engine::Run> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let src = SnapshotSource { snapshot };
    rt.block_on(engine::run_all(&src, now()))
}

fn first(runs: &[engine::Run]) -> Option<(&str, FindingSeverity)> {
    runs.first()
        .and_then(|r| r.finding.as_ref().map(|f| (r.playbook.id, f.severity)))
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
    "etcd-quorum-membership",
    "kubeadm-preflight-host",
];
/// The healthy cluster and this group's negative controls.
const CLEAN: &[&str] = &[
    "healthy",
    "leader-election-lease-control",
    "controlplane-proxy-with-no-proxy-control",
    "ha-apiserver-master-count-control",
];

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
fn the_result_survives_a_snapshot_file() {
    for id in BROKEN {
        let s = scenarios::find(id).unwrap();
        let yaml = s.snapshot.to_yaml();
        let back = Snapshot::parse_str(&yaml, "scenario.yaml").unwrap();
        let runs = run_on(back);
        assert_eq!(first(&runs).map(|f| f.0), Some(*id), "{id} through YAML");
    }
}

#[test]
fn metadata_matches_the_catalog() {
    let want = [
        ("CP-01", "controlplane-proxy-without-no-proxy"),
        ("CP-02", "apiserver-not-ready"),
        ("CP-03", "etcd-quorum-membership"),
        ("CP-04", "leader-election-lease"),
        ("CP-05", "ha-apiserver-endpoints-flap"),
        ("CP-06", "static-pod-liveness-mismatch"),
        ("CP-07", "control-plane-topology"),
        ("CP-08", "kubeadm-preflight-host"),
    ];
    let got: Vec<(&str, &str)> = super::PLAYBOOKS.iter().map(|p| (p.code, p.id)).collect();
    assert_eq!(got, want);
    for p in super::PLAYBOOKS {
        let s = scenarios::find(p.id).unwrap_or_else(|| panic!("no scenario for {}", p.id));
        assert_eq!(s.playbook, Some(p.id));
        assert!(!p.symptoms.is_empty());
        for sym in p.symptoms {
            for frag in sym.all_of {
                assert_eq!(
                    *frag,
                    frag.to_lowercase(),
                    "{}: symptom must be lower-case",
                    p.id
                );
            }
        }
        assert!(
            BROKEN.contains(&p.id),
            "{} not in the acceptance list",
            p.id
        );
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

/// The objects the control-plane scenarios change still decode as their Kubernetes types.
#[test]
fn changed_objects_decode_as_kubernetes_types() {
    use k8s_openapi::api::coordination::v1::Lease;
    use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Event, Node, Pod};
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    fn check<K: serde::de::DeserializeOwned>(id: &str, o: &serde_json::Value) {
        if let Err(e) = serde_json::from_value::<K>(o.clone()) {
            panic!("{id}: {} {}: {e}", o["kind"], o["metadata"]["name"]);
        }
    }
    for id in BROKEN.iter().chain(CLEAN) {
        let s = scenarios::find(id).unwrap();
        for o in &s.snapshot.objects {
            match o["kind"].as_str().unwrap_or_default() {
                "Pod" => check::<Pod>(id, o),
                "Event" => check::<Event>(id, o),
                "Endpoints" => check::<Endpoints>(id, o),
                "EndpointSlice" => check::<EndpointSlice>(id, o),
                "Node" => check::<Node>(id, o),
                "Lease" => check::<Lease>(id, o),
                "ConfigMap" => check::<ConfigMap>(id, o),
                _ => {}
            }
        }
    }
}
