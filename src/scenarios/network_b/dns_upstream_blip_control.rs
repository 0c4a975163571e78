//! `dns-upstream-blip-control`: a negative control of NET-12. The healthy cluster, where one
//! CoreDNS pod logged a single upstream timeout (a blip of the site's resolver) and restarted
//! once twelve days ago during node maintenance (a clean SIGTERM). DNS is healthy: kube-dns
//! has its ready endpoints, no loop, and one timeout is noise.

use super::common::append_log;
use crate::builder::{ClusterBuilder, DAY, Terminated};
use crate::{Scenario, ServerBehavior};

const NS: &str = "kube-system";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(pod) = c.pods_named(NS, "coredns-").into_iter().next() {
        let ip = c
            .find("Pod", Some(NS), &pod)
            .and_then(|p| p["status"]["podIP"].as_str())
            .unwrap_or("10.244.0.2")
            .to_string();
        append_log(
            &mut c,
            NS,
            &pod,
            "coredns",
            &format!(
                "[ERROR] plugin/errors: 2 registry-1.docker.io. AAAA: read udp {ip}:43187->10.0.0.2:53: i/o timeout\n"
            ),
        );
        c.set_restarts(
            NS,
            &pod,
            "coredns",
            1,
            Terminated {
                reason: "Completed".into(),
                exit_code: 0,
                started_ago: 39 * DAY,
                finished_ago: 12 * DAY,
            },
        );
        c.add_previous_log(
            NS,
            &pod,
            "coredns",
            ".:53\n[INFO] plugin/reload: Running configuration SHA512 = 6d9bf2a0\nCoreDNS-1.11.3\nlinux/amd64, go1.21.11, a6338e9\n[INFO] SIGTERM: Shutting down servers then terminating\n[INFO] plugin/health: Going into lameduck mode for 5s\n".into(),
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "dns-upstream-blip-control",
        title: "Control: one upstream DNS timeout and a CoreDNS restart twelve days ago",
        summary: "The healthy cluster, where a CoreDNS pod logged a single upstream i/o timeout and restarted cleanly twelve days ago: DNS is fine, nothing to alarm about.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
