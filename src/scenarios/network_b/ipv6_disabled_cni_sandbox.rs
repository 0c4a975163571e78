//! `ipv6-disabled-cni-sandbox` (NET-07): a flannel cluster where worker-3, joined 50 minutes
//! ago from the enterprise's hardened RHEL image, boots with `ipv6.disable=1`. The node is
//! Ready (flannel and kube-proxy run in the host network), but every pod scheduled there
//! stays in ContainerCreating: the flannel CNI delegates to the bridge plugin, which fails on
//! `open /proc/sys/net/ipv6/conf/eth0/accept_dad: no such file or directory`.

use serde_json::json;

use super::common::{pod_on, stuck_creating};
use crate::builder::{ClusterBuilder, ContainerDef, EventDef, MIN, PodDef, hex, klog, kv};
use crate::{ObjRef, Scenario, ServerBehavior};
use ktriage_snapshot::NodeLog;

const NODE: &str = "worker-3";

fn sandbox_error(seed: &str) -> String {
    format!(
        "failed to setup network for sandbox \"{}\": plugin type=\"flannel\" failed (add): failed to delegate add: open /proc/sys/net/ipv6/conf/eth0/accept_dad: no such file or directory",
        hex(seed, 64)
    )
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm()
        .cni(crate::builder::Cni::Flannel)
        .build();
    if let Some(n) = c.find_mut("Node", None, NODE) {
        n["status"]["nodeInfo"]["kernelVersion"] = json!("4.18.0-553.27.1.el8_10.x86_64");
        n["status"]["nodeInfo"]["osImage"] = json!("Red Hat Enterprise Linux 8.10 (Ootpa)");
    }
    // A kubectl-run debug pod someone started on the node to investigate.
    c.add_pod(&PodDef {
        namespace: "default".into(),
        name: "netshoot".into(),
        node: NODE.into(),
        labels: kv(&[("run", "netshoot")]),
        containers: vec![{
            let mut ctr = ContainerDef::new("netshoot", "docker.io/nicolaka/netshoot:v0.13");
            ctr.command = vec!["sleep".into(), "infinity".into()];
            ctr
        }],
        created_ago: 9 * MIN,
        ..Default::default()
    });
    c.event(EventDef::normal(
        ObjRef::new("Pod", Some("default"), "netshoot"),
        "Scheduled",
        format!("Successfully assigned default/netshoot to {NODE}"),
        "default-scheduler",
        9 * MIN,
    ));
    let mut stuck = vec![("default".to_string(), "netshoot".to_string(), 9 * MIN)];
    if let Some(p) = pod_on(&c, "shop", "frontend-", NODE) {
        stuck.push(("shop".into(), p, 25 * MIN));
    }
    let mut kubelet = String::new();
    for (ns, pod, since) in &stuck {
        stuck_creating(&mut c, ns, pod, *since);
        // The kubelet retries the sandbox with a back-off: about every 15-20 s.
        let count = since / 17;
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some(ns), pod),
                "FailedCreatePodSandBox",
                format!(
                    "Failed to create pod sandbox: rpc error: code = Unknown desc = {}",
                    sandbox_error(&format!("{pod}/{count}"))
                ),
                "kubelet",
                11,
            )
            .on_host(NODE)
            .warning()
            .repeated(count, since - 2),
        );
        for k in 0..3i64 {
            let at = (40 - 17 * k) * 1_000_000 + 4_321 * (k + 1);
            let err = sandbox_error(&format!("{pod}/{}", count - k));
            kubelet.push_str(&klog('E', at, "log.go:32", &format!("\"RunPodSandbox from runtime service failed\" err=\"rpc error: code = Unknown desc = {}\"", err.replace('"', "\\\""))));
            kubelet.push_str(&klog('E', at - 200, "kuberuntime_sandbox.go:72", &format!("\"Failed to create sandbox for pod\" err=\"rpc error: code = Unknown desc = {}\" pod=\"{ns}/{pod}\"", err.replace('"', "\\\""))));
        }
    }
    c.node_logs.push(NodeLog {
        node: NODE.into(),
        unit: "kubelet".into(),
        text: kubelet,
    });
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "ipv6-disabled-cni-sandbox",
        title: "NET-07: IPv6 disabled at boot breaks pod sandboxes on a new node",
        summary: "worker-3 joined from a hardened image booted with ipv6.disable=1: it is Ready, but every pod scheduled there stays in ContainerCreating with FailedCreatePodSandBox `open /proc/sys/net/ipv6/conf/eth0/accept_dad: no such file or directory`.",
        playbook: Some("ipv6-disabled-cni-sandbox"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
