//! `overlay-port-blocked` (NET-06): worker-2 and worker-3 were rebuilt from a hardened image
//! whose firewalld zone opens the kubelet port but neither BGP (179/tcp) nor IP-in-IP
//! (protocol 4). Calico's BIRD cannot peer with them: every calico-node pod fails its
//! readiness probe with `BIRD is not ready: BGP not established with 10.0.0.22,10.0.0.23`
//! (theirs name every other node), while all nodes stay Ready.

use serde_json::json;

use super::super::builder::{ClusterBuilder, EventDef, MIN, hash64};
use super::super::{ObjRef, Scenario, ServerBehavior};

/// The nodes whose firewall filters BGP and IP-in-IP.
pub const BLOCKED: &[&str] = &["worker-2", "worker-3"];

/// Marks a running pod's container not ready since `since_ago` (readiness probe failing).
pub(super) fn set_not_ready(
    c: &mut super::super::builder::Cluster,
    ns: &str,
    pod: &str,
    container: &str,
    since: &str,
) {
    let Some(p) = c.find_mut("Pod", Some(ns), pod) else {
        return;
    };
    if let Some(st) = p["status"]["containerStatuses"]
        .as_array_mut()
        .and_then(|a| a.iter_mut().find(|s| s["name"] == container))
    {
        st["ready"] = json!(false);
    }
    if let Some(conds) = p["status"]["conditions"].as_array_mut() {
        for cond in conds
            .iter_mut()
            .filter(|x| x["type"] == "Ready" || x["type"] == "ContainersReady")
        {
            cond["status"] = json!("False");
            cond["reason"] = json!("ContainersNotReady");
            cond["message"] = json!(format!("containers with unready status: [{container}]"));
            cond["lastTransitionTime"] = json!(since);
        }
    }
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let since_secs = 42 * MIN;
    let since = super::super::builder::ago(since_secs);
    let ips: Vec<(String, String)> = c
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.ip.clone()))
        .collect();
    let blocked_ips: Vec<String> = ips
        .iter()
        .filter(|(n, _)| BLOCKED.contains(&n.as_str()))
        .map(|(_, ip)| ip.clone())
        .collect();
    let pods = c.pods_named("kube-system", "calico-node-");
    let total = pods.len();
    for pod in &pods {
        let node = c
            .find("Pod", Some("kube-system"), pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        set_not_ready(&mut c, "kube-system", pod, "calico-node", &since);
        // A blocked node reaches no peer; the others reach each other but not the blocked ones.
        let unreachable: Vec<String> = if BLOCKED.contains(&node.as_str()) {
            ips.iter()
                .filter(|(n, _)| *n != node)
                .map(|(_, ip)| ip.clone())
                .collect()
        } else {
            blocked_ips.clone()
        };
        let established = ips.len() - 1 - unreachable.len();
        let message = format!(
            "Readiness probe failed: 2026-01-15 09:59:51.{:03} [INFO][{}] confd/health.go 180: Number of node(s) with BGP peering established = {established}\ncalico/node is not ready: BIRD is not ready: BGP not established with {}\n",
            hash64(&[pod, "ms"]) % 1000,
            3000 + hash64(&[pod, "pid"]) % 2000,
            unreachable.join(",")
        );
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some("kube-system"), pod),
                "Unhealthy",
                message,
                "kubelet",
                4,
            )
            .warning()
            .on_host(&node)
            .repeated(251, since_secs)
            .field("spec.containers{calico-node}"),
        );
    }
    if let Some(ds) = c.find_mut("DaemonSet", Some("kube-system"), "calico-node") {
        ds["status"]["numberReady"] = json!(0);
        ds["status"]["numberUnavailable"] = json!(total);
        if let Some(m) = ds["status"].as_object_mut() {
            m.remove("numberAvailable");
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "overlay-port-blocked",
        title: "Calico BGP blocked by a firewall on two workers",
        summary: "The healthy Calico cluster, but worker-2 and worker-3 run firewalld without 179/tcp and IP-in-IP: every calico-node is 0/1 with `BIRD is not ready: BGP not established with 10.0.0.22,10.0.0.23`, and pod traffic to those nodes fails.",
        playbook: Some("overlay-port-blocked"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
