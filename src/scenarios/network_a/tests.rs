//! The acceptance rule of issue 4 for this group, on the scenarios themselves: on each
//! scenario every registered playbook runs, and this group's playbook is the first finding —
//! directly on the scenario's snapshot and on the snapshot written to YAML and read back; on
//! `healthy` and the negative controls none of this group's playbooks warns.

use crate::playbooks::engine::run_all;
use crate::playbooks::source::SnapshotSource;
use crate::playbooks::{FindingSeverity, network_a};
use crate::scenarios::{builder::epoch, find};
use crate::snapshot::Snapshot;

fn findings(snapshot: Snapshot) -> Vec<(&'static str, FindingSeverity, f32, String)> {
    let now = snapshot.clock().unwrap_or_else(epoch);
    let source = SnapshotSource { snapshot };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(run_all(&source, now))
        .into_iter()
        .filter_map(|r| {
            let f = r.finding?;
            Some((r.playbook.id, f.severity, f.confidence, f.summary))
        })
        .collect()
}

/// The findings on the scenario, on its YAML written and read back, and on what `ktriage
/// snapshot` keeps of it (raw answers only for `/readyz?verbose` and `/livez?verbose`, logs
/// only of the system namespaces).
fn both_ways(id: &str) -> [Vec<(&'static str, FindingSeverity, f32, String)>; 3] {
    let s = find(id).unwrap_or_else(|| panic!("scenario {id}"));
    let yaml = s.snapshot.to_yaml();
    let back = Snapshot::parse_str(&yaml, "test.yaml").unwrap();
    let mut captured = back.clone();
    captured
        .responses
        .retain(|r| r.path == "/readyz?verbose" || r.path == "/livez?verbose");
    captured.pod_logs.retain(|l| {
        [
            "kube-system",
            "kube-flannel",
            "calico-system",
            "tigera-operator",
            "ingress-nginx",
        ]
        .contains(&l.namespace.as_str())
    });
    [findings(s.snapshot), findings(back), findings(captured)]
}

pub(super) fn assert_first(id: &str) {
    for (i, f) in both_ways(id).iter().enumerate() {
        let via = ["scenario", "snapshot file", "captured snapshot"][i];
        assert_eq!(f.first().map(|x| x.0), Some(id), "{id} via {via}: {f:#?}");
        assert!(f[0].1 >= FindingSeverity::Warning, "{id}: {f:#?}");
    }
}

pub(super) fn assert_quiet(id: &str) {
    let ours: Vec<&str> = network_a::PLAYBOOKS.iter().map(|p| p.id).collect();
    for f in both_ways(id) {
        let loud: Vec<_> = f
            .iter()
            .filter(|x| ours.contains(&x.0) && x.1 >= FindingSeverity::Warning)
            .collect();
        assert!(loud.is_empty(), "{id}: {loud:#?}");
    }
}

#[test]
fn each_scenario_shows_its_playbook_first() {
    for (id, _) in super::SCENARIOS {
        if find(id).is_some_and(|s| s.playbook == Some(id)) {
            assert_first(id);
        }
    }
}

#[test]
fn healthy_and_controls_raise_nothing_from_this_group() {
    assert_quiet("healthy");
    for (id, _) in super::SCENARIOS {
        if find(id).is_some_and(|s| s.playbook.is_none()) {
            assert_quiet(id);
        }
    }
}

#[test]
fn the_demo_whose_kubelet_stops_shows_the_stopped_kubelet_first() {
    // The third way keeps no node-proxy answer: it still names the kubelet, without saying
    // whether the machine is up.
    for (i, f) in both_ways("node-notready-demo").iter().enumerate() {
        assert_eq!(
            f.first().map(|x| x.0),
            Some("node-status-unknown"),
            "{f:#?}"
        );
        let words = if i < 2 {
            "kubelet on worker-2 is stopped while the machine is up"
        } else {
            "kubelet on worker-2 stopped posting node status"
        };
        assert!(f[0].3.contains(words), "{}", f[0].3);
    }
}

/// `KTRIAGE_SCENARIO=ID cargo test --lib print_findings -- --ignored --nocapture` prints the
/// findings of a scenario as `check` would report them.
#[test]
#[ignore]
fn print_findings() {
    let id = std::env::var("KTRIAGE_SCENARIO").unwrap_or_else(|_| "healthy".into());
    let s = find(&id).unwrap();
    let now = s.snapshot.clock().unwrap_or_else(epoch);
    let source = SnapshotSource {
        snapshot: s.snapshot,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for r in rt.block_on(run_all(&source, now)) {
        for st in &r.steps {
            println!("  $ {}  -> {}", st.query.kubectl, st.summary());
        }
        let report = crate::playbooks::engine::FindingReport {
            playbook: r.playbook.id,
            code: r.playbook.code,
            title: r.playbook.title,
            finding: r.finding.as_ref().unwrap(),
        };
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    }
}

#[test]
fn the_new_node_control_shows_the_look_alike_symptom() {
    let s = find("cni-starting-on-new-node").unwrap();
    let node = s
        .snapshot
        .object("Node", None, "worker-4")
        .expect("worker-4");
    let ready = node["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap();
    assert_eq!(ready["status"], "False");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("cni plugin not initialized")
    );
    let calico_on_new = s.snapshot.objects.iter().any(|o| {
        o["kind"] == "Pod"
            && o["spec"]["nodeName"] == "worker-4"
            && o["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("calico-node-")
            && o["status"]["phase"] == "Pending"
    });
    assert!(calico_on_new, "calico-node is starting on worker-4");
}

/// `cargo test --lib network_a::tests::cross_check -- --ignored --nocapture`: where this group's
/// playbooks fire (warning or worse) on other scenarios, and whether they outrank the
/// scenario's own playbook.
#[test]
#[ignore]
fn cross_check() {
    let ours: Vec<&str> = network_a::PLAYBOOKS.iter().map(|p| p.id).collect();
    for s in crate::scenarios::registry() {
        let id = s.id;
        let own = s.playbook;
        let f = findings(s.snapshot);
        let first = f.first().map(|x| x.0);
        for (i, x) in f.iter().enumerate() {
            if ours.contains(&x.0) && x.1 >= FindingSeverity::Warning && Some(x.0) != own {
                println!(
                    "{id}: {} #{i} {:?} {:.2} (first: {first:?}) {}",
                    x.0, x.1, x.2, x.3
                );
            }
        }
    }
}
