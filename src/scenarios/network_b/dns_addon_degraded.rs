//! `dns-addon-degraded` (NET-12): the seed's DNS add-on failure. The nodes' kubelet config
//! (templated by the enterprise's configuration management) says `resolvConf:
//! /etc/resolv.conf`, which on these Ubuntu hosts is systemd-resolved's stub (`nameserver
//! 127.0.0.53`). After the control-plane node was rebooted 50 minutes ago, both CoreDNS pods
//! start, forward `.` to 127.0.0.53, see their own query come back and exit with
//! `[FATAL] plugin/loop: Loop (127.0.0.1:53 -> :53) detected for zone "."`; kube-dns has no
//! ready endpoint and every lookup in the cluster fails.

use serde_json::json;

use super::common::{deployment_ready, endpoints_not_ready};
use crate::builder::{ClusterBuilder, EventDef, MIN, Terminated, hex};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "kube-system";

fn coredns_log(seed: &str) -> String {
    format!(
        ".:53\n[INFO] plugin/reload: Running configuration SHA512 = {}\nCoreDNS-1.11.3\nlinux/amd64, go1.21.11, a6338e9\n[FATAL] plugin/loop: Loop (127.0.0.1:53 -> :53) detected for zone \".\", see https://coredns.io/plugins/loop#troubleshooting. Query: \"HINFO {}.{}.\"\n",
        hex("corefile", 128),
        u64::from_str_radix(&hex(seed, 15), 16).unwrap_or(4547991504243258144),
        u64::from_str_radix(&hex(&format!("{seed}/2"), 15), 16).unwrap_or(3688648895315093531),
    )
}

/// The kubelet's `/configz` answer as the API server proxies it.
fn configz(dns_ip: &str) -> String {
    json!({"kubeletconfig": {
        "enableServer": true,
        "staticPodPath": "/etc/kubernetes/manifests",
        "syncFrequency": "1m0s",
        "fileCheckFrequency": "20s",
        "httpCheckFrequency": "20s",
        "address": "0.0.0.0",
        "port": 10250,
        "rotateCertificates": true,
        "authentication": {"x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}, "webhook": {"enabled": true, "cacheTTL": "2m0s"}, "anonymous": {"enabled": false}},
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}},
        "healthzPort": 10248,
        "healthzBindAddress": "127.0.0.1",
        "clusterDomain": "cluster.local",
        "clusterDNS": [dns_ip],
        "streamingConnectionIdleTimeout": "4h0m0s",
        "nodeStatusUpdateFrequency": "10s",
        "nodeStatusReportFrequency": "5m0s",
        "nodeLeaseDurationSeconds": 40,
        "cgroupDriver": "systemd",
        "cpuManagerPolicy": "none",
        "maxPods": 110,
        "podPidsLimit": -1,
        "resolvConf": "/etc/resolv.conf",
        "evictionHard": {"imagefs.available": "15%", "memory.available": "100Mi", "nodefs.available": "10%", "nodefs.inodesFree": "5%"},
        "containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
        "volumePluginDir": "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/",
        "logging": {"format": "text", "flushFrequency": "5s", "verbosity": 0},
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
    }})
    .to_string()
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let pods = c.pods_named(NS, "coredns-");
    let mut ips = Vec::new();
    for (i, pod) in pods.iter().enumerate() {
        let i = i as i64;
        if let Some(ip) = c
            .find("Pod", Some(NS), pod)
            .and_then(|p| p["status"]["podIP"].as_str())
        {
            ips.push(ip.to_string());
        }
        c.crash_loop(
            NS,
            pod,
            "coredns",
            12 + i,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 3 * MIN + 20 - 7 * i,
                finished_ago: 3 * MIN + 19 - 7 * i,
            },
        );
        c.add_log(NS, pod, "coredns", coredns_log(pod));
        c.add_previous_log(NS, pod, "coredns", coredns_log(&format!("{pod}/prev")));
        let node = c
            .find("Pod", Some(NS), pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        let uid = c
            .find("Pod", Some(NS), pod)
            .and_then(|p| p["metadata"]["uid"].as_str())
            .unwrap_or_default()
            .to_string();
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some(NS), pod),
                "BackOff",
                format!("Back-off restarting failed container coredns in pod {pod}_{NS}({uid})"),
                "kubelet",
                25 + 9 * i,
            )
            .on_host(&node)
            .warning()
            .field("spec.containers{coredns}")
            .repeated(190 + 11 * i, 48 * MIN),
        );
    }
    // The existing log of CoreDNS (the healthy start-up banner) is replaced by the loop.
    c.pod_logs.retain(|l| {
        !(l.namespace == NS && l.pod.starts_with("coredns-") && !l.text.contains("plugin/loop"))
    });
    endpoints_not_ready(&mut c, NS, &ips);
    deployment_ready(&mut c, NS, "coredns", 0);
    let dns_ip = c.dns_ip();
    let nodes: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
    for n in nodes {
        c.add_response(
            &format!("/api/v1/nodes/{n}/proxy/configz"),
            200,
            configz(&dns_ip),
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "dns-addon-degraded",
        title: "NET-12: CoreDNS detects a forwarding loop through the systemd-resolved stub",
        summary: "Both CoreDNS pods crash-loop with `[FATAL] plugin/loop: Loop (127.0.0.1:53 -> :53) detected for zone \".\"`: the kubelet's resolvConf is /etc/resolv.conf, the systemd-resolved stub 127.0.0.53, so CoreDNS forwards to itself. kube-dns has no ready endpoint.",
        playbook: Some("dns-addon-degraded"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
