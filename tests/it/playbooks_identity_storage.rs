//! The identity/storage playbooks on their scenarios: each scenario's own playbook is the
//! first finding, through the embedded API server (live queries, as the scenario's user) and
//! through the scenario's snapshot; healthy and the negative controls raise no warning or
//! critical finding of this group; `explain` ranks the seed error texts to the right playbook.

use crate::common;

use chrono::Utc;
use ktriage::playbooks::engine::{self, Run};
use ktriage::playbooks::source::{LiveSource, SnapshotSource};
use ktriage::playbooks::{FindingSeverity, identity_storage};

/// Scenario id → the playbook that must come first.
const CASES: &[&str] = &[
    "kubelet-serving-cert-untrusted",
    "invalid-pem-material",
    "rbac-forbidden",
    "component-rbac-forbidden",
    "csr-pending-node-cannot-join",
    "pvc-pending-no-storageclass-or-pv",
    "pvc-pending-provisioner-missing",
    "loadbalancer-pending-no-cloud-provider",
    "node-uninitialized-cloud-taint",
    "volume-attach-mount-failure",
];
/// Scenarios where no playbook of this group may warn.
const QUIET: &[&str] = &[
    "healthy",
    "pvc-waiting-for-first-consumer",
    "component-rbac-restored",
];

fn ours(runs: &[Run]) -> Vec<&Run> {
    let ids: Vec<&str> = identity_storage::PLAYBOOKS.iter().map(|p| p.id).collect();
    runs.iter()
        .filter(|r| ids.contains(&r.playbook.id))
        .collect()
}

fn describe(runs: &[Run]) -> String {
    runs.iter()
        .map(|r| {
            let f = r.finding.as_ref().unwrap();
            format!(
                "{} {:?} {:.2}: {}",
                r.playbook.id, f.severity, f.confidence, f.summary
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn on_snapshot(id: &str) -> Vec<Run> {
    let s = common::scenario(id);
    let now = s.snapshot.clock().expect("scenario clock");
    engine::run_all(
        &SnapshotSource {
            snapshot: s.snapshot,
        },
        now,
    )
    .await
}

async fn live(id: &str) -> Vec<Run> {
    let handle = common::serve(common::scenario(id)).await;
    let client = common::client(&handle).await;
    let runs = engine::run_all(&LiveSource { client }, Utc::now()).await;
    common::assert_read_only(&handle);
    if std::env::var_os("SHOW_REQUESTS").is_some() {
        for r in handle.requests() {
            eprintln!("REQ {} {} {}", r.code, r.method, r.path);
        }
    }
    runs
}

#[tokio::test]
async fn each_scenario_puts_its_playbook_first_on_its_snapshot() {
    for id in CASES {
        let runs = on_snapshot(id).await;
        assert_eq!(
            runs.first().map(|r| r.playbook.id),
            Some(*id),
            "{id}:\n{}",
            describe(&runs)
        );
    }
}

#[tokio::test]
async fn each_scenario_puts_its_playbook_first_when_served() {
    for id in CASES {
        let runs = live(id).await;
        assert_eq!(
            runs.first().map(|r| r.playbook.id),
            Some(*id),
            "{id}:\n{}",
            describe(&runs)
        );
        let f = runs[0].finding.as_ref().unwrap();
        if std::env::var_os("SHOW_FINDINGS").is_some() {
            eprintln!("{id}: {}", serde_json::to_string_pretty(f).unwrap());
            for s in &runs[0].steps {
                eprintln!("  {} -> {}", s.query.kubectl, s.summary());
            }
        }
        assert!(
            f.severity >= FindingSeverity::Warning
                && !f.evidence.is_empty()
                && !f.fix.commands.is_empty()
        );
    }
}

#[tokio::test]
async fn healthy_and_controls_raise_nothing_from_this_group() {
    for id in QUIET {
        for runs in [on_snapshot(id).await, live(id).await] {
            let loud: Vec<&Run> = ours(&runs)
                .into_iter()
                .filter(|r| r.finding.as_ref().unwrap().severity >= FindingSeverity::Warning)
                .collect();
            assert!(loud.is_empty(), "{id}: {}", describe(&runs));
        }
    }
}

#[test]
fn explain_ranks_the_seed_texts() {
    for (text, want) in [
        (
            "x509: certificate signed by unknown authority",
            "kubelet-serving-cert-untrusted",
        ),
        (
            "Error from server: Get \"https://10.0.0.22:10250/containerLogs/shop/web-1/web\": x509: certificate signed by unknown authority",
            "kubelet-serving-cert-untrusted",
        ),
        (
            "tls: failed to find any PEM data in certificate input",
            "invalid-pem-material",
        ),
        (
            "Internal error occurred: failed calling webhook \"x\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block",
            "invalid-pem-material",
        ),
        (
            "Error from server (Forbidden): User \"kubernetes-admin\" cannot list nodes at the cluster scope",
            "rbac-forbidden",
        ),
        (
            "E0115 reflector.go:158] failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \"system:serviceaccount:kube-system:coredns\" cannot list resource \"endpointslices\"",
            "component-rbac-forbidden",
        ),
        (
            "Normal FailedBinding persistentvolume-controller no persistent volumes available for this claim and no storage class is set",
            "pvc-pending-no-storageclass-or-pv",
        ),
        (
            "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator",
            "pvc-pending-provisioner-missing",
        ),
        (
            "W0329 core.go:105] no cloud provider provided, services of type LoadBalancer will fail",
            "loadbalancer-pending-no-cloud-provider",
        ),
        (
            "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}",
            "node-uninitialized-cloud-taint",
        ),
        (
            "Warning FailedAttachVolume Multi-Attach error for volume \"pvc-1\" Volume is already used by pod(s) db-0",
            "volume-attach-mount-failure",
        ),
    ] {
        let ranked = engine::rank_symptoms(text);
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(want), "{text}");
    }
}
