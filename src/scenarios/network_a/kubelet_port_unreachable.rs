//! `kubelet-port-unreachable` (NET-05): worker-2 and worker-3 were rebuilt from a hardened
//! image with firewalld on; its zone opens the CNI ports but not 10250/tcp and rejects the
//! rest with icmp-host-prohibited. Their kubelets still post status (outbound), so the nodes
//! stay Ready, but the API server's node proxy answers `error dialing backend: dial tcp
//! 10.0.0.22:10250: connect: no route to host` and metrics-server fails to scrape them.

use serde_json::json;

use super::super::builder::{ClusterBuilder, klog};
use super::super::{Scenario, ServerBehavior};

/// The nodes whose firewall rejects 10250/tcp.
pub const BLOCKED: &[&str] = &["worker-2", "worker-3"];

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let blocked: Vec<(String, String)> = BLOCKED
        .iter()
        .filter_map(|n| c.node(n).map(|i| (i.name.clone(), i.ip.clone())))
        .collect();
    for (node, ip) in &blocked {
        let status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("error dialing backend: dial tcp {ip}:10250: connect: no route to host"),
            "reason": "InternalError",
            "code": 500,
        });
        c.add_response(
            &format!("/api/v1/nodes/{node}/proxy/healthz"),
            500,
            status.to_string(),
        );
    }
    // metrics-server scrapes every 15 s; the two nodes fail each round.
    let mut lines = String::new();
    for round in (0..24).rev() {
        let at = round * 15_000_000 + 2_481_330;
        for (i, (node, ip)) in blocked.iter().enumerate() {
            lines.push_str(&klog(
                'E',
                at - 1_000_013 * i as i64,
                "scraper.go:149",
                &format!(
                    "\"Failed to scrape node\" err=\"unable to fetch metrics from node {node}: Get \\\"https://{ip}:10250/metrics/resource\\\": dial tcp {ip}:10250: connect: no route to host\" node=\"{node}\""
                ),
            ));
        }
    }
    if let Some(log) = c
        .pod_logs
        .iter_mut()
        .find(|l| l.namespace == "kube-system" && l.pod.starts_with("metrics-server-"))
    {
        log.text.push_str(&lines);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "kubelet-port-unreachable",
        title: "Kubelet port 10250 blocked on two workers",
        summary: "The healthy cluster, but worker-2 and worker-3 run firewalld without 10250/tcp: they stay Ready, while `kubectl logs/exec` there and metrics-server fail with `dial tcp 10.0.0.22:10250: connect: no route to host`.",
        playbook: Some("kubelet-port-unreachable"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
