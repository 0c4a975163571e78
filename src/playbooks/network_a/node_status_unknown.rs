//! NET-13 `node-status-unknown`: a node's kubelet stopped posting status. Its node lease in
//! `kube-node-lease` is no longer renewed (the kubelet renews it every quarter of
//! `leaseDurationSeconds`, 10 s by default) and, once the lease is older than the node
//! monitor grace period, the node lifecycle controller sets every condition to `Unknown`
//! (`NodeStatusUnknown`, "Kubelet stopped posting node status."), taints the node
//! `node.kubernetes.io/unreachable` and marks its pods not ready.
//!
//! The API tells three causes apart by asking the API server to open the other direction,
//! a connection to the kubelet's port through the node proxy (`/api/v1/nodes/N/proxy/healthz`):
//! refused — the machine is up and nothing listens on 10250: the kubelet is down; timed out or
//! no route — the machine is down or cut off from the control plane; `ok` — the kubelet runs
//! and is reachable, but its own connections to the API server fail (its credentials, the API
//! server address seen from the node, a one-way partition). The node's pods say what is at
//! stake and when the controller starts evicting them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{MetaExt, Pod, cond_str, condition, ev, internal_ip, is_control_plane, name};
use crate::playbooks::engine::q;
use crate::playbooks::util::parse_time;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "node-status-unknown",
    code: "NET-13",
    title: "Node stopped posting status (kubelet down, node down or partitioned)",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["kubelet stopped posting node status"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["nodestatusunknown"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["node.kubernetes.io/unreachable"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["nodenotready", "status is now"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["node", "not ready", "unknown"],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

/// The default `leaseDurationSeconds` of a node lease (the kubelet's nodeLeaseDurationSeconds).
const LEASE_DURATION: i64 = 40;

/// `kubectl get leases -n kube-node-lease -o yaml`: one lease per node, renewed by its kubelet.
pub(super) fn node_leases() -> Query {
    q::list(
        "coordination.k8s.io",
        "leases",
        Some("kube-node-lease"),
        None,
        None,
    )
}

fn healthz(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/healthz"))
}

fn pods() -> Query {
    super::common::all_pods()
}

/// How long ago a node's kubelet last renewed its lease, and the lease's duration.
fn lease_age(leases: &[Value], node: &str, now: DateTime<Utc>) -> Option<(i64, i64)> {
    let lease = leases.iter().find(|l| name(l) == node)?;
    let renewed = lease
        .pointer("/spec/renewTime")
        .and_then(Value::as_str)
        .and_then(parse_time)?;
    let duration = lease
        .pointer("/spec/leaseDurationSeconds")
        .and_then(Value::as_i64)
        .filter(|d| *d > 0)
        .unwrap_or(LEASE_DURATION);
    Some(((now - renewed).num_seconds().max(0), duration))
}

/// Whether the node's kubelet stopped renewing its lease: more than half the lease duration
/// (two missed renewals) without one. `None` when the leases were not listed or the node has
/// no renewed lease.
pub(super) fn lease_stale(r: &Results, node: &str, now: DateTime<Utc>) -> Option<bool> {
    let leases = r.listed(&node_leases())?;
    let (age, duration) = lease_age(leases, node, now)?;
    Some(age * 2 > duration)
}

/// Nodes whose kubelet stopped posting status: a lease past half its duration, or Ready
/// `Unknown` without a lease renewed since (a lease renewed in time means the kubelet is back).
fn silent(r: &Results, now: DateTime<Utc>) -> Vec<&Value> {
    r.objects(&q::nodes())
        .iter()
        .filter(|n| match lease_stale(r, name(n), now) {
            Some(stale) => stale,
            None => condition(n, "Ready").is_some_and(|c| cond_str(c, "status") == "Unknown"),
        })
        .collect()
}

/// At most this many silent nodes get a node-proxy probe.
const MAX_PROBES: usize = 10;

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::nodes(), node_leases(), pods()];
    if r.outcome(&q::nodes()).is_some() && r.outcome(&node_leases()).is_some() {
        // Queries know no clock: the newest renewal stands in for it, and a node whose lease
        // is a renewal interval behind it (or that is Ready Unknown) is probed; `diagnose`
        // judges at `now`.
        let newest = newest_renewal(r);
        let leases = r.objects(&node_leases());
        out.extend(
            r.objects(&q::nodes())
                .iter()
                .filter(|n| {
                    let behind = newest
                        .and_then(|t| lease_age(leases, name(n), t))
                        .is_some_and(|(age, duration)| age * 4 > duration);
                    behind
                        || condition(n, "Ready").is_some_and(|c| cond_str(c, "status") == "Unknown")
                })
                .take(MAX_PROBES)
                .map(|n| healthz(name(n))),
        );
    }
    out
}

/// The newest renewal of any node lease: the queries' stand-in for the clock.
fn newest_renewal(r: &Results) -> Option<DateTime<Utc>> {
    r.objects(&node_leases())
        .iter()
        .filter_map(|l| {
            l.pointer("/spec/renewTime")
                .and_then(Value::as_str)
                .and_then(parse_time)
        })
        .max()
}

/// What the API server's dial to the kubelet port said.
#[derive(Debug, Clone, PartialEq)]
enum Reach {
    /// `ok`: the kubelet serves on 10250.
    Answers,
    /// Connection refused: the host is up, nothing listens on 10250.
    Refused(String),
    /// Timed out or no route: the host is down or the path is cut.
    Unreachable(String),
    /// No answer that says either (not captured, refused to us, another error).
    Unknown(Option<String>),
}

fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

fn reach(r: &Results, node: &str) -> Reach {
    match r.outcome(&healthz(node)) {
        Some(Outcome::Text { code: 200, body }) if body.trim() == "ok" => Reach::Answers,
        Some(Outcome::Text { body, .. } | Outcome::Failed { message: body, .. }) => {
            let msg = message_of(body);
            let low = msg.to_lowercase();
            if !low.contains("dial tcp") {
                Reach::Unknown(Some(msg))
            } else if low.contains("connection refused") {
                Reach::Refused(msg)
            } else if low.contains("i/o timeout")
                || low.contains("no route to host")
                || low.contains("connection timed out")
                || low.contains("network is unreachable")
            {
                Reach::Unreachable(msg)
            } else {
                Reach::Unknown(Some(msg))
            }
        }
        Some(Outcome::Objects(_) | Outcome::Lean(_)) | None => Reach::Unknown(None),
    }
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// One silent node, read.
struct Silent<'a> {
    node: &'a Value,
    lease: Option<(i64, i64)>,
    ready_unknown: bool,
    reach: Reach,
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let nodes = r.objects(&q::nodes());
    let leases = r.objects(&node_leases());
    let mut silent: Vec<Silent> = silent(r, now)
        .into_iter()
        .map(|n| Silent {
            node: n,
            lease: lease_age(leases, name(n), now),
            ready_unknown: condition(n, "Ready")
                .is_some_and(|c| cond_str(c, "status") == "Unknown"),
            reach: reach(r, name(n)),
        })
        .collect();
    if silent.is_empty() {
        return None;
    }
    // The longest silent first.
    silent.sort_by_key(|s| std::cmp::Reverse(s.lease.map_or(i64::MAX, |l| l.0)));
    let first = &silent[0];
    let node = name(first.node);
    let ip = internal_ip(first.node).unwrap_or(node).to_string();
    let names: Vec<String> = silent.iter().map(|s| name(s.node).to_string()).collect();

    let mut evidence = Vec::new();
    for s in &silent {
        let n = name(s.node);
        if let Some((age, duration)) = s.lease {
            evidence.push(ev(
                format!("Lease/kube-node-lease/{n}"),
                "spec.renewTime",
                format!(
                    "last renewed {} ago (renewed every {}s; NotReady after {duration}s)",
                    human(age),
                    duration / 4
                ),
            ));
        }
        if let Some(c) = condition(s.node, "Ready") {
            let heartbeat = parse_time(cond_str(c, "lastHeartbeatTime"))
                .map(|t| format!(", last heartbeat {} ago", human((now - t).num_seconds())))
                .unwrap_or_default();
            let message = cond_str(c, "message");
            evidence.push(ev(
                format!("Node/{n}"),
                "status.conditions[Ready]",
                format!(
                    "{} {}{heartbeat}{}",
                    cond_str(c, "status"),
                    cond_str(c, "reason"),
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ),
            ));
        }
        match &s.reach {
            Reach::Answers => evidence.push(ev(
                format!("Node/{n}"),
                format!("GET /api/v1/nodes/{n}/proxy/healthz"),
                "ok (the kubelet serves on 10250)",
            )),
            Reach::Refused(m) | Reach::Unreachable(m) | Reach::Unknown(Some(m)) => {
                evidence.push(ev(
                    format!("Node/{n}"),
                    format!("GET /api/v1/nodes/{n}/proxy/healthz"),
                    m.clone(),
                ))
            }
            Reach::Unknown(None) => {}
        }
    }
    // Renewals of the other nodes: the clock and the lease controller work.
    let fresh: Vec<String> = nodes
        .iter()
        .map(|n| name(n).to_string())
        .filter(|n| !names.contains(n))
        .filter(|n| lease_age(leases, n, now).is_some_and(|(a, d)| a * 2 <= d))
        .collect();
    if !fresh.is_empty() {
        evidence.push(ev(
            "Lease/kube-node-lease/*",
            "spec.renewTime",
            format!(
                "{} of {} other nodes renewed within their interval",
                fresh.len(),
                nodes.len() - silent.len()
            ),
        ));
    }
    // The node's pods.
    let on_node: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| p.spec.node_name.as_deref() == Some(node))
        .collect();
    if !on_node.is_empty() {
        let not_ready = on_node.iter().filter(|p| !p.is_ready()).count();
        let daemons = on_node
            .iter()
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|o| o.kind == "DaemonSet")
            })
            .count();
        evidence.push(ev(
            format!("Pod/*/* (spec.nodeName={node})"),
            "status.conditions[Ready]",
            format!(
                "{} pods there, {not_ready} not ready, {daemons} of them DaemonSet pods (they stay; the others are evicted 300s after the NoExecute unreachable taint)",
                on_node.len()
            ),
        ));
        let mut names: Vec<String> = on_node
            .iter()
            .map(|p| format!("{}/{}", p.metadata.namespace_str(), p.metadata.name_str()))
            .collect();
        names.sort();
        evidence.push(ev("Pod", format!("on {node}"), names.join(", ")));
    }

    let lease_words = first
        .lease
        .map(|(age, _)| format!("its node lease was last renewed {} ago", human(age)))
        .unwrap_or_else(|| "its Ready condition is Unknown".into());
    let (cause, confidence, ruled_out) = match &first.reach {
        Reach::Refused(_) => (
            format!(
                "the kubelet on {node} is stopped while the machine is up: {lease_words}, and the API server's connection to {ip}:10250 is refused (nothing listens on the kubelet port)"
            ),
            0.92,
            vec![
                format!("{node} down or cut off: a host that is down or unreachable does not refuse a connection, the dial would time out."),
                "The kubelet port blocked by a firewall (NET-05): that node would still renew its lease and stay Ready.".to_string(),
            ],
        ),
        Reach::Unreachable(_) => (
            format!(
                "the node {node} is down or cut off from the control plane: {lease_words}, and the API server cannot reach {ip}:10250 at all (no answer, not even a refusal), so the kubelet stopped posting status"
            ),
            0.8,
            vec![format!(
                "The kubelet alone stopped: the host would refuse the connection on 10250 instead of not answering."
            )],
        ),
        Reach::Answers => (
            format!(
                "the kubelet on {node} runs and the API server reaches it on 10250, but the kubelet's own requests to the API server fail: {lease_words} (its client certificate, the API server address it uses, or a one-way partition)"
            ),
            0.75,
            vec![format!(
                "The kubelet or {node} down: the API server's node proxy reaches the kubelet."
            )],
        ),
        Reach::Unknown(_) => (
            format!(
                "the kubelet on {node} stopped posting node status: {lease_words}; the node proxy gave no answer that tells a stopped kubelet from a node that is down or cut off"
            ),
            0.65,
            Vec::new(),
        ),
    };
    let critical = silent
        .iter()
        .any(|s| s.ready_unknown || s.lease.is_some_and(|(a, d)| a > d));
    let mut ruled_out = ruled_out;
    if !critical {
        ruled_out.push(format!(
            "Already NotReady: {node} still shows Ready; the node lifecycle controller marks it Unknown once the lease is older than its duration."
        ));
    }
    let more = if silent.len() > 1 {
        format!(" ({} nodes silent: {})", silent.len(), names.join(", "))
    } else {
        String::new()
    };
    let cp_note = if is_control_plane(first.node) {
        " It is a control-plane node: its static pods (API server, etcd member) are not watched by a kubelet either."
    } else {
        ""
    };
    let summary = format!("{}{more}.{cp_note}", upper_first(&cause));

    let cp = nodes
        .iter()
        .find(|n| is_control_plane(n) && !names.iter().any(|x| x == name(n)))
        .map(|n| name(n).to_string())
        .unwrap_or_else(|| "a control-plane node".into());
    let mut commands = vec![
        format!(
            "kubectl get lease -n kube-node-lease {node} -o jsonpath='{{.spec.renewTime}}{{\"\\n\"}}'"
        ),
        format!("kubectl get --raw /api/v1/nodes/{node}/proxy/healthz"),
        format!("kubectl get pods -A -o wide --field-selector spec.nodeName={node}"),
        format!("# on {cp}: is the machine there, and does anything listen on 10250?"),
        format!("ping -c 3 {ip}; nc -vz -w 3 {ip} 10250"),
        format!("# on {node} (console or ssh): is the kubelet running, and why did it stop?"),
        "systemctl status kubelet --no-pager".into(),
        "journalctl -u kubelet --no-pager | tail -50".into(),
    ];
    match &first.reach {
        Reach::Answers => {
            commands.push("sudo openssl x509 -noout -enddate -in /var/lib/kubelet/pki/kubelet-client-current.pem".into());
            commands.push(
                "grep server: /etc/kubernetes/kubelet.conf   # then: curl -k THAT/healthz".into(),
            );
        }
        Reach::Unreachable(_) => {
            commands.push(format!(
                "# from outside the cluster network: the cloud console or BMC of {node}"
            ));
        }
        _ => {}
    }
    commands.push("sudo systemctl restart kubelet".into());
    let explanation = format!(
        "A kubelet renews its node lease every {}s and posts node status; when both stop, the node lifecycle controller marks the node Unknown and taints it unreachable. Tell the causes apart from {cp}: `ping` answering while `nc -vz {ip} 10250` prints `Connection refused` means the machine is up and the kubelet is down (`systemctl status kubelet` and its journal say why: a crash, a config or certificate error, swap, the container runtime); no answer to either means the machine is down or the network between it and the control plane is cut; `ok` from the node proxy means the kubelet runs but cannot reach the API server (its client certificate or the server address in /etc/kubernetes/kubelet.conf). Once the kubelet renews its lease the node turns Ready again and the taint goes.",
        first.lease.map_or(10, |(_, d)| d / 4)
    );
    Some(Finding {
        severity: if critical {
            FindingSeverity::Critical
        } else {
            FindingSeverity::Warning
        },
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation,
            commands,
        },
    })
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        parse_time("2026-01-15T10:00:00Z").unwrap()
    }

    fn at(secs_ago: i64) -> String {
        (now() - chrono::Duration::seconds(secs_ago))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    }

    fn node(n: &str, ip: &str, ready: &str) -> Value {
        json!({"kind": "Node", "metadata": {"name": n},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": ready, "reason": if ready == "True" {"KubeletReady"} else {"NodeStatusUnknown"}, "message": if ready == "True" {""} else {"Kubelet stopped posting node status."}}]}})
    }

    fn lease(n: &str, ago: i64) -> Value {
        json!({"metadata": {"name": n, "namespace": "kube-node-lease"}, "spec": {"holderIdentity": n, "leaseDurationSeconds": 40, "renewTime": at(ago)}})
    }

    fn proxy_says(r: &mut Results, node: &str, err: &str) {
        r.by_query.insert(
            healthz(node),
            Outcome::Text {
                code: 500,
                body: json!({"kind": "Status", "message": format!("error dialing backend: dial tcp 10.0.0.22:10250: {err}"), "code": 500}).to_string(),
            },
        );
    }

    fn cluster(w2_ready: &str, w2_lease_ago: i64) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                node("worker-1", "10.0.0.21", "True"),
                node("worker-2", "10.0.0.22", w2_ready),
            ]),
        );
        r.by_query.insert(
            node_leases(),
            Outcome::Objects(vec![lease("worker-1", 4), lease("worker-2", w2_lease_ago)]),
        );
        r.set_watched(
            crate::playbooks::Watched::Pods,
            &[
                json!({"metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"nodeName": "worker-2"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
            ],
        );
        r
    }

    #[test]
    fn a_refused_kubelet_port_on_a_silent_node_is_a_stopped_kubelet() {
        let mut r = cluster("Unknown", 65);
        proxy_says(&mut r, "worker-2", "connect: connection refused");
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.starts_with("The kubelet on worker-2 is stopped"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("last renewed 65s ago"), "{}", f.summary);
        assert!(f.confidence > 0.9);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("1 pods there, 1 not ready"))
        );
        assert!(f.ruled_out.iter().any(|x| x.contains("NET-05")));
    }

    #[test]
    fn a_dial_that_times_out_is_a_node_down_or_cut_off() {
        let mut r = cluster("Unknown", 300);
        proxy_says(&mut r, "worker-2", "i/o timeout");
        let f = diagnose(&r, now()).expect("finding");
        assert!(
            f.summary
                .starts_with("The node worker-2 is down or cut off"),
            "{}",
            f.summary
        );
        assert!(f.ruled_out[0].contains("refuse"));
    }

    #[test]
    fn a_kubelet_the_proxy_reaches_cannot_reach_the_api_server() {
        let mut r = cluster("Unknown", 90);
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Text {
                code: 200,
                body: "ok".into(),
            },
        );
        let f = diagnose(&r, now()).expect("finding");
        assert!(f.summary.contains("requests to the API server fail"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("kubelet-client-current.pem"))
        );
    }

    #[test]
    fn a_late_lease_on_a_ready_node_warns_before_the_controller_does() {
        let mut r = cluster("True", 25);
        proxy_says(&mut r, "worker-2", "connect: connection refused");
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.ruled_out.iter().any(|x| x.contains("still shows Ready")));
        // The probe is asked for the late node only.
        let wanted = queries(&r);
        assert!(wanted.contains(&healthz("worker-2")));
        assert!(!wanted.contains(&healthz("worker-1")));
    }

    #[test]
    fn fresh_leases_or_a_kubelet_back_are_not_this_cause() {
        assert_eq!(diagnose(&cluster("True", 9), now()), None);
        // Ready Unknown from a while ago, but the lease is renewed again: the kubelet is back.
        assert_eq!(diagnose(&cluster("Unknown", 3), now()), None);
    }

    #[test]
    fn without_leases_a_ready_unknown_node_is_still_read() {
        let mut r = cluster("Unknown", 65);
        r.by_query.insert(
            node_leases(),
            Outcome::Failed {
                code: 403,
                message: "leases is forbidden".into(),
            },
        );
        let f = diagnose(&r, now()).expect("finding");
        assert!(
            f.summary.contains("its Ready condition is Unknown"),
            "{}",
            f.summary
        );
        assert_eq!(f.severity, FindingSeverity::Critical);
    }

    #[test]
    fn the_controllers_message_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Ready Unknown NodeStatusUnknown Kubelet stopped posting node status.",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("node-status-unknown")
        );
    }
}
