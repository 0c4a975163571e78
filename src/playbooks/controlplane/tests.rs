//! Checks of this group's scenarios beyond the registry-wide acceptance test
//! (`playbooks::acceptance`): the objects a scenario's timeline changes decode as their
//! Kubernetes types, and an ignored dump of a scenario's runs.

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
