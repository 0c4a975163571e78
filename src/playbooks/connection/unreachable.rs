//! CONN-02 apiserver-unreachable: DNS resolution, TCP connect and the TLS handshake, each
//! timed: refused = nothing listens; timeout = filtered or wrong address; no such host = DNS.

use chrono::{DateTime, Utc};

use super::{ev, kubeconfig_object, observation, queries};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "apiserver-unreachable",
    code: "CONN-02",
    title: "The API server cannot be reached",
    access: Access::Client,
    symptoms: &[
        // Bare fragments also appear in probes and in-cluster DNS errors: they weigh little unless the text is kubectl's own or names the API server port.
        Symptom {
            all_of: &["connect: connection refused"],
            weight: 0.45,
        },
        Symptom {
            all_of: &["unable to connect to the server", "connection refused"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["was refused - did you specify the right host or port"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["dial tcp", ":6443", "connection refused"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["unable to connect to the server", "i/o timeout"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["dial tcp", ":6443", "i/o timeout"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["i/o timeout"],
            weight: 0.4,
        },
        Symptom {
            all_of: &["unable to connect to the server", "no such host"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["no such host"],
            weight: 0.45,
        },
        Symptom {
            all_of: &["unable to connect to the server", "tls handshake timeout"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

enum Cause {
    Refused,
    Timeout,
    Dns,
}

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let error = obs.error_lower();
    if error.contains("proxyconnect") || obs.proxy_status.is_some() {
        return None; // the proxy's problem: CONN-01
    }
    let cause = if error.contains("connection refused") {
        Cause::Refused
    } else if error.contains("no such host") {
        Cause::Dns
    } else if error.contains("i/o timeout") || error.contains("handshake timeout") {
        Cause::Timeout
    } else {
        return None;
    };
    let host = obs.host().unwrap_or_default();
    let port = obs.port().unwrap_or(6443);
    let mut evidence = vec![ev(
        kubeconfig_object(&obs),
        "cluster.server",
        obs.server.clone(),
    )];
    for s in &obs.steps {
        evidence.push(ev(
            format!("probe/{}", s.step),
            if s.ok { "ok" } else { "failed" },
            format!("{} ({} ms)", s.detail, s.millis),
        ));
    }
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    let (summary, explanation, commands) = match cause {
        Cause::Refused => (
            format!("Nothing listens on {host}:{port}: the connection is refused (the API server is down, or the kubeconfig names the wrong port)."),
            "Start or repair the API server on that host (on a kubeadm node: the kube-apiserver static pod), or fix the port in the kubeconfig's server URL.".to_string(),
            vec![
                format!("# on the control-plane node {host}:"),
                "sudo crictl ps -a --name kube-apiserver".into(),
                "sudo ss -ltnp | grep -E ':6443|kube-apiserver'".into(),
                "sudo journalctl -u kubelet --since -15min | grep -i apiserver".into(),
            ],
        ),
        Cause::Timeout => (
            format!("{host}:{port} does not answer: the packets are dropped (a firewall or security group filters the port) or the address is wrong."),
            format!("Open TCP {port} from this host to the API server (firewall, security group, network ACL), or fix the kubeconfig's server address."),
            vec![
                format!("nc -vz -w 3 {host} {port}"),
                format!("# on the control-plane node: sudo firewall-cmd --add-port={port}/tcp --permanent && sudo firewall-cmd --reload"),
            ],
        ),
        Cause::Dns => (
            format!("The API server name {host} does not resolve (no such host)."),
            "Fix the name in the kubeconfig's server URL, or add it to DNS (or /etc/hosts on this machine).".to_string(),
            vec![
                format!("getent hosts {host}"),
                "kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}'".into(),
            ],
        ),
    };
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: if obs.steps.is_empty() { 0.75 } else { 0.95 },
        summary,
        evidence,
        ruled_out: if obs.route().proxy.is_none() && !obs.server.is_empty() {
            vec![format!("No proxy is in the way: {}.", obs.route().reason)]
        } else {
            Vec::new()
        },
        fix: Fix {
            explanation,
            commands,
        },
    })
}
