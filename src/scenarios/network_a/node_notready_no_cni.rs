//! `node-notready-no-cni` (NET-01): `kubeadm init` and five `kubeadm join`s, but no pod
//! network was ever applied. Every kubelet reports `NetworkPluginNotReady` (`cni plugin not
//! initialized`), every node keeps the `node.kubernetes.io/not-ready` taint, and CoreDNS and
//! metrics-server stay Pending with FailedScheduling events. The only DaemonSet is kube-proxy.

use super::super::builder::{ClusterBuilder, Cni, EventDef, MIN};
use super::super::{ObjRef, Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().cni(Cni::None).apps(false).build();
    let n = c.nodes.len();
    let message = format!(
        "0/{n} nodes are available: {n} node(s) had untolerated taint {{node.kubernetes.io/not-ready: }}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
    );
    // The scheduler retries every unschedulable pod and records FailedScheduling.
    let unscheduled: Vec<(String, String)> = c
        .of_kind("Pod", None)
        .filter(|p| p["status"]["phase"] == "Pending" && p["spec"].get("nodeName").is_none())
        .map(|p| {
            (
                p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for (ns, pod) in unscheduled {
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some(&ns), &pod),
                "FailedScheduling",
                message.clone(),
                "default-scheduler",
                3 * MIN + 12,
            )
            .warning()
            .repeated(37, 58 * MIN),
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "node-notready-no-cni",
        title: "Nodes NotReady: no CNI plugin installed",
        summary: "A kubeadm cluster of 3 control-plane and 3 worker nodes where no pod network was applied: every node is NotReady with `cni plugin not initialized` and the not-ready taint, and CoreDNS is Pending (`had untolerated taint {node.kubernetes.io/not-ready: }`).",
        playbook: Some("node-notready-no-cni"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
