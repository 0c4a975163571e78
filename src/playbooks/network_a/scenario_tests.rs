//! Checks of this group's scenarios beyond the registry-wide acceptance test
//! (`playbooks::acceptance`): the demo whose kubelet stops names the stopped kubelet in all
//! three ways a snapshot reaches ktriage, the new-node control shows the look-alike symptom, and an
//! ignored cross-check that prints where this group's playbooks fire on other scenarios.

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
