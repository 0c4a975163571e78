//! `node-notready-no-cni` (NET-01): `kubeadm init`, five `kubeadm join`s and the application
//! manifests, but the pod-network step of the install automation failed and no CNI was
//! applied. Every kubelet reports `NetworkPluginNotReady` (`cni plugin not initialized`),
//! every node keeps the `node.kubernetes.io/not-ready` taint, and CoreDNS, metrics-server
//! and every application pod stay Pending with FailedScheduling events. The only DaemonSet
//! is kube-proxy.

use super::super::builder::{ClusterBuilder, Cni, EventDef, MIN};
use super::super::{ObjRef, Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().cni(Cni::None).build();
    // No pod is ready anywhere: EndpointSlices list no endpoints (`endpoints: []` once read).
    for es in c
        .objects
        .iter_mut()
        .filter(|o| o["kind"] == "EndpointSlice")
    {
        if es.get("endpoints").is_none_or(|e| e.is_null())
            && let Some(m) = es.as_object_mut()
        {
            m.insert("endpoints".into(), serde_json::json!([]));
        }
    }
    let n = c.nodes.len();
    let message = format!(
        "0/{n} nodes are available: {n} node(s) had untolerated taint {{node.kubernetes.io/not-ready: }}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
    );
    // The scheduler retries every unschedulable pod and records FailedScheduling.
    let unscheduled: Vec<(String, String)> = c
        .of_kind("Pod", None)
        .filter(|p| p["status"]["phase"] == "Pending" && p["spec"].get("nodeName").is_none())
        .map(crate::builder::ns_name)
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
        summary: "A kubeadm cluster of 3 control-plane and 3 worker nodes (and its applications) where no pod network was applied: every node is NotReady with `cni plugin not initialized` and the not-ready taint, and CoreDNS is Pending (`had untolerated taint {node.kubernetes.io/not-ready: }`).",
        playbook: Some("node-notready-no-cni"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
