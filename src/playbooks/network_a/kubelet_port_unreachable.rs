//! NET-05 `kubelet-port-unreachable`: the control plane cannot open TCP connections to the
//! kubelet port (10250) of some Ready nodes. `kubectl logs/exec/port-forward` and metrics
//! fail there with `error dialing backend: dial tcp NODE:10250: …`; the nodes stay Ready
//! because the kubelet's own connections to the API server are outbound. Decided from the
//! apiserver's node proxy (`/api/v1/nodes/N/proxy/healthz`) and metrics-server's scrape errors.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    MetaExt, Pod, and_list, command_line, containers, ev, flag, internal_ip, klog_time, name,
    node_ready, obj, pod_obj,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "kubelet-port-unreachable",
    code: "NET-05",
    title: "Kubelet port 10250 unreachable from the control plane",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["error dialing backend", ":10250", "no route to host"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["error dialing backend", ":10250", "i/o timeout"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["dial tcp", ":10250", "no route to host"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["dial tcp", ":10250", "i/o timeout"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["unable to fetch", "kubelet", "dial tcp"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["failed to scrape node", ":10250"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["error dialing backend"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

fn healthz(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/healthz"))
}
fn metrics_pods() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("k8s-app=metrics-server"),
        None,
    )
}
fn metrics_logs(pod: &str) -> Query {
    q::logs("kube-system", pod, Some("metrics-server"), false, Some(200))
}
fn apiservers() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-apiserver"),
        None,
    )
}

/// At most this many nodes get a log probe (one pod log each).
const MAX_LOG_PROBES: usize = 10;

/// At most this many nodes are probed through the node proxy (one request each): every
/// node of a small cluster, an even spread of a big one; metrics-server's scrape errors
/// still name any node. The finding says when the probe was a sample.
const MAX_NODE_PROBES: usize = 50;

/// The nodes whose `/proxy/healthz` is asked.
fn probed_nodes(r: &Results) -> Vec<&Value> {
    crate::playbooks::util::spread(r.objects(&q::nodes()), MAX_NODE_PROBES)
}

/// A pod's log: the API server fetches it from the pod's kubelet on :10250, so a failed
/// fetch names the dial error like the node proxy does (`kubectl logs` is how most people
/// meet this failure, and what a capture records).
fn log_probe(pod: &Pod) -> Option<Query> {
    let c = &pod.spec.containers.first()?.name;
    Some(q::logs(
        pod.metadata.namespace_str(),
        pod.metadata.name_str(),
        Some(c),
        false,
        Some(1),
    ))
}

/// For each Ready node whose proxy did not answer `ok` (unknown or failed): one pod there
/// to probe through its log, a kube-system one first.
fn probes(r: &Results) -> Vec<(String, &Pod)> {
    let pods: Vec<&Pod> = r.pods().iter().map(|p| &**p).collect();
    probed_nodes(r)
        .into_iter()
        .filter(|n| node_ready(n))
        .filter(|n| {
            !matches!(r.outcome(&healthz(name(n))), Some(Outcome::Text { code: 200, body }) if body.trim() == "ok")
        })
        .filter_map(|n| {
            let on_node = |p: &&&Pod| p.spec.node_name.as_deref() == Some(name(n));
            let pod = pods
                .iter()
                .filter(on_node)
                .find(|p| p.metadata.namespace_str() == "kube-system")
                .or_else(|| pods.iter().find(on_node))?;
            Some((name(n).to_string(), *pod))
        })
        .take(MAX_LOG_PROBES)
        .collect()
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        q::nodes(),
        super::node_status_unknown::node_leases(),
        metrics_pods(),
        apiservers(),
        super::common::all_pods(),
    ];
    out.extend(probed_nodes(r).into_iter().map(|n| healthz(name(n))));
    out.extend(
        r.objects(&metrics_pods())
            .iter()
            .map(|p| metrics_logs(name(p))),
    );
    // Round 3, once the proxy answered: a log probe where it did not say `ok`.
    if probed_nodes(r)
        .into_iter()
        .all(|n| r.outcome(&healthz(name(n))).is_some())
    {
        out.extend(probes(r).into_iter().filter_map(|(_, p)| log_probe(p)));
    }
    out
}

/// What a failed dial says about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DialError {
    /// ICMP host/admin prohibited: a host firewall REJECT rule.
    NoRoute,
    /// SYN unanswered: a DROP rule, a security group, or an address that is not reachable.
    Timeout,
    /// RST: nothing listens on 10250 at that address.
    Refused,
}

impl DialError {
    fn of(text: &str) -> Option<DialError> {
        let t = text.to_lowercase();
        if t.contains("no route to host") {
            Some(DialError::NoRoute)
        } else if t.contains("i/o timeout") || t.contains("connection timed out") {
            Some(DialError::Timeout)
        } else if t.contains("connection refused") {
            Some(DialError::Refused)
        } else {
            None
        }
    }
    fn words(self) -> &'static str {
        match self {
            DialError::NoRoute => "no route to host",
            DialError::Timeout => "i/o timeout",
            DialError::Refused => "connection refused",
        }
    }
}

/// The `IP:port` after `dial tcp ` in a message.
fn dial_target(text: &str) -> Option<(String, String)> {
    let rest = text.split("dial tcp ").nth(1)?;
    let target: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\\')
        .collect();
    let target = target.trim_end_matches(':');
    let (host, port) = target.rsplit_once(':')?;
    Some((host.to_string(), port.to_string()))
}

/// The message of a raw answer: a Status body's `message`, or the text itself.
fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

/// One node's failure, with where it was seen.
struct Failure {
    node: String,
    dialed: String,
    error: DialError,
    object: String,
    field: String,
    text: String,
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let nodes = r.objects(&q::nodes());
    // A node whose kubelet stopped renewing its lease is NET-13's (the kubelet is down, not
    // its port blocked), even while the controller has not marked it NotReady yet.
    let ready: Vec<&Value> = nodes
        .iter()
        .filter(|n| node_ready(n))
        .filter(|n| super::node_status_unknown::lease_stale(r, name(n), now) != Some(true))
        .collect();
    let by_ip: BTreeMap<&str, &str> = nodes
        .iter()
        .flat_map(|n| {
            n.pointer("/status/addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("address").and_then(Value::as_str))
                .map(move |a| (a, name(n)))
        })
        .collect();

    let mut failures: Vec<Failure> = Vec::new();
    let mut healthy_proxy: Vec<String> = Vec::new();
    for n in &ready {
        let node = name(n);
        match r.outcome(&healthz(node)) {
            Some(Outcome::Text { code: 200, body }) if body.trim() == "ok" => {
                healthy_proxy.push(node.to_string());
            }
            Some(Outcome::Text { body, .. } | Outcome::Failed { message: body, .. }) => {
                let msg = message_of(body);
                if let (Some(error), Some((host, port))) = (DialError::of(&msg), dial_target(&msg))
                    && port == "10250"
                {
                    failures.push(Failure {
                        node: node.to_string(),
                        dialed: host,
                        error,
                        object: format!("Node/{node}"),
                        field: format!("GET /api/v1/nodes/{node}/proxy/healthz"),
                        text: msg,
                    });
                }
            }
            _ => {}
        }
    }
    // A pod log the API server could not fetch from the node's kubelet.
    for (node, pod) in probes(r) {
        if failures.iter().any(|f| f.node == node) || !ready.iter().any(|n| name(n) == node) {
            continue;
        }
        let Some(lq) = log_probe(pod) else { continue };
        let Some(Outcome::Failed { message, .. }) = r.outcome(&lq) else {
            continue;
        };
        let msg = message_of(message);
        if let (Some(error), Some((host, port))) = (DialError::of(&msg), dial_target(&msg))
            && port == "10250"
        {
            failures.push(Failure {
                node,
                dialed: host,
                error,
                object: pod_obj(pod),
                field: format!("{} (kubectl logs)", lq.request()),
                text: msg,
            });
        }
    }
    // metrics-server's scrape errors name the node address it dialed.
    let mut scrape_lines = 0;
    let mut first_scrape: Option<(String, String)> = None;
    for p in r.objects(&metrics_pods()) {
        let Some(log) = r.text(&metrics_logs(name(p))) else {
            continue;
        };
        for line in log.lines() {
            let low = line.to_lowercase();
            if !(low.contains("failed to scrape node") || low.contains("unable to fetch")) {
                continue;
            }
            let (Some(error), Some((host, port))) = (DialError::of(line), dial_target(line)) else {
                continue;
            };
            if port != "10250" {
                continue;
            }
            let Some(node) = by_ip.get(host.as_str()).map(|s| s.to_string()) else {
                continue;
            };
            // Only Ready nodes the proxy did not answer for, and only recent errors: a node
            // that rebooted an hour ago left old scrape errors behind.
            if !ready.iter().any(|n| name(n) == node) || healthy_proxy.contains(&node) {
                continue;
            }
            if klog_time(line, now).is_some_and(|t| now - t > chrono::Duration::minutes(15)) {
                continue;
            }
            scrape_lines += 1;
            if first_scrape.is_none() {
                first_scrape = Some((obj("Pod", p), line.trim().to_string()));
            }
            if !failures.iter().any(|f| f.node == node) {
                failures.push(Failure {
                    node,
                    dialed: host,
                    error,
                    object: obj("Pod", p),
                    field: "log[metrics-server]".into(),
                    text: line.trim().to_string(),
                });
            }
        }
    }
    if failures.is_empty() {
        return None;
    }
    failures.sort_by(|a, b| a.node.cmp(&b.node));
    let failing: Vec<String> = failures.iter().map(|f| f.node.clone()).collect();

    let mut evidence = Vec::new();
    for f in &failures {
        evidence.push(ev(f.object.clone(), f.field.clone(), f.text.clone()));
    }
    for f in &failures {
        if let Some(n) = nodes.iter().find(|n| name(n) == f.node)
            && let Some(c) = super::common::condition(n, "Ready")
        {
            evidence.push(ev(
                format!("Node/{}", f.node),
                "status.conditions[Ready]",
                format!(
                    "{} {} (the kubelet reaches the API server; the way back to :10250 is closed)",
                    super::common::cond_str(c, "status"),
                    super::common::cond_str(c, "reason")
                ),
            ));
            break;
        }
    }
    if let Some((pod, line)) = &first_scrape
        && failures.iter().all(|f| f.object.starts_with("Node/"))
    {
        evidence.push(ev(
            pod.clone(),
            "log[metrics-server]",
            format!("{line} ({scrape_lines} such lines)"),
        ));
    }
    if !healthy_proxy.is_empty() {
        evidence.push(ev(
            "Node/*",
            "GET /api/v1/nodes/N/proxy/healthz",
            format!("ok from {}", and_list(&healthy_proxy)),
        ));
    }
    if nodes.len() > MAX_NODE_PROBES {
        evidence.push(ev(
            "Node/*",
            "GET /api/v1/nodes/N/proxy/healthz",
            format!(
                "a sample: {MAX_NODE_PROBES} of {} nodes probed, spread over them; other nodes may fail too",
                nodes.len()
            ),
        ));
    }
    // Which address the apiserver uses to reach kubelets.
    let preferred = r
        .objects(&apiservers())
        .iter()
        .flat_map(|p| containers(p))
        .find_map(|c| {
            flag(&command_line(c), "kubelet-preferred-address-types").map(str::to_string)
        });
    if let Some(p) = &preferred {
        evidence.push(ev(
            "Pod/kube-system/kube-apiserver-*",
            "spec.containers[kube-apiserver].command --kubelet-preferred-address-types",
            p.clone(),
        ));
    }

    // Wrong address: the dialed address is not the node's InternalIP.
    let wrong_address: Vec<&Failure> = failures
        .iter()
        .filter(|f| {
            nodes
                .iter()
                .find(|n| name(n) == f.node)
                .and_then(internal_ip)
                .is_some_and(|ip| ip != f.dialed)
        })
        .collect();
    let main_error = failures[0].error;
    let all_ready_fail = failures.len() == ready.len();

    let cause = if !wrong_address.is_empty() {
        format!(
            "the API server dials {} for {} instead of its InternalIP (address type order {})",
            wrong_address[0].dialed,
            wrong_address[0].node,
            preferred
                .as_deref()
                .unwrap_or("Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP")
        )
    } else {
        match main_error {
            DialError::NoRoute => "a host firewall on those nodes rejects TCP 10250 (`no route to host` is the ICMP host-prohibited answer of a REJECT rule such as firewalld's default zone)".to_string(),
            DialError::Timeout => "TCP 10250 to those nodes is dropped on the way (host firewall DROP rule or a security group / network ACL)".to_string(),
            DialError::Refused => "nothing listens on TCP 10250 at those addresses (kubelet bound to another address or port)".to_string(),
        }
    };
    let summary = format!(
        "The control plane cannot reach the kubelet port 10250 on {} ({}): {}; kubectl logs/exec/port-forward and metrics fail for pods there while the node{} stay{} Ready.",
        and_list(&failing),
        main_error.words(),
        cause,
        if failing.len() > 1 { "s" } else { "" },
        if failing.len() > 1 { "" } else { "s" },
    );

    let mut ruled_out = vec![
        "Kubelet down: the nodes' Ready condition is True (KubeletReady), so the kubelet runs and reaches the API server.".to_string(),
        "Kubelet serving certificate (x509): the proxy error is a TCP dial failure, before any TLS handshake.".to_string(),
    ];
    if healthy_proxy.is_empty() {
        ruled_out.push("A node-specific fault could not be told apart from a control-plane egress block: no node answered the proxy (all Ready nodes fail).".to_string());
    } else {
        ruled_out.push(format!(
            "An API server or RBAC problem: the same proxy request succeeds for {}.",
            and_list(&healthy_proxy)
        ));
    }
    if wrong_address.is_empty() {
        ruled_out.push(
            "A wrong address chosen by the API server: it dials each node's InternalIP."
                .to_string(),
        );
    }

    let cp = nodes
        .iter()
        .find(|n| super::common::is_control_plane(n))
        .map(|n| name(n).to_string())
        .unwrap_or_else(|| "a control-plane node".into());
    let mut commands = vec![format!(
        "for n in {}; do echo \"$n: $(kubectl get --raw /api/v1/nodes/$n/proxy/healthz 2>&1)\"; done",
        failing.join(" ")
    )];
    let ips: Vec<&str> = failures.iter().map(|f| f.dialed.as_str()).collect();
    commands.push(format!("# on {cp}: test the port from the control plane"));
    commands.push(format!(
        "for ip in {}; do nc -vz -w 3 $ip 10250; done",
        ips.join(" ")
    ));
    commands.push(format!(
        "# on {}: is the kubelet listening, and which firewall rule rejects it?",
        and_list(&failing)
    ));
    commands.push("sudo ss -ltnp | grep 10250".into());
    commands.push("sudo firewall-cmd --state && sudo firewall-cmd --list-all".into());
    commands.push("sudo iptables -S INPUT | grep -E 'REJECT|DROP'".into());
    commands.push(
        "sudo firewall-cmd --permanent --add-port=10250/tcp && sudo firewall-cmd --reload".into(),
    );
    if !wrong_address.is_empty() {
        commands.push("# on each control-plane node: prefer the InternalIP in /etc/kubernetes/manifests/kube-apiserver.yaml".into());
        commands.push("- --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname".into());
    }
    commands.push("kubectl top nodes".into());
    let explanation = format!(
        "Every `kubectl logs/exec/port-forward`, the node proxy and metrics-server open a TCP connection from the control plane to the kubelet on port 10250; the kubelet's own heartbeats go the other way, so the node stays Ready. On {cp}, `nc -vz` printing `No route to host` means the node answered with an ICMP reject (a firewall REJECT rule), a timeout means packets are dropped (DROP rule, security group), `Connection refused` means nothing listens. On the node, `ss -ltnp` must show the kubelet on *:10250; `firewall-cmd --list-all` lists the open ports of the active zone — add 10250/tcp (or the kubeadm port list) on every node, then the healthz loop prints `ok` and `kubectl top nodes` shows numbers again."
    );
    // Log lines of metrics-server are indirect; the API server's own answer to a proxied
    // request (node proxy, pod log) is direct.
    let only_logs = failures.iter().all(|f| f.field.starts_with("log["));
    Some(Finding {
        severity: FindingSeverity::Critical,
        // Repeated scrape errors for a subset of Ready nodes are nearly as decisive as the
        // proxy's own answer.
        confidence: if only_logs {
            if scrape_lines >= 3 && !all_ready_fail {
                0.88
            } else {
                0.75
            }
        } else if all_ready_fail {
            0.8
        } else {
            0.93
        },
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation,
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(n: &str, ip: &str, ready: bool) -> Value {
        json!({"kind": "Node", "metadata": {"name": n, "labels": if n.starts_with("cp") {json!({"node-role.kubernetes.io/control-plane": ""})} else {json!({})}},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": n}],
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"Unknown"}, "reason": if ready {"KubeletReady"} else {"NodeStatusUnknown"}}]}})
    }

    fn status_body(ip: &str, err: &str) -> String {
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": format!("error dialing backend: dial tcp {ip}:10250: {err}"), "reason": "InternalError", "code": 500}).to_string()
    }

    fn base() -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                node("cp-1", "10.0.0.11", true),
                node("worker-1", "10.0.0.21", true),
                node("worker-2", "10.0.0.22", true),
            ]),
        );
        r.by_query.insert(metrics_pods(), Outcome::Objects(vec![]));
        r.by_query.insert(apiservers(), Outcome::Objects(vec![]));
        for n in ["cp-1", "worker-1", "worker-2"] {
            r.by_query.insert(
                healthz(n),
                Outcome::Text {
                    code: 200,
                    body: "ok".into(),
                },
            );
        }
        r
    }

    /// The base cluster, captured without node proxy answers (a snapshot that has none).
    fn base_without_proxy_answers() -> Results {
        let mut r = base();
        for n in ["cp-1", "worker-1", "worker-2"] {
            r.by_query.insert(
                healthz(n),
                Outcome::Failed {
                    code: 404,
                    message: "no answer in this snapshot".into(),
                },
            );
        }
        r
    }

    #[test]
    fn a_recorded_pod_log_failure_names_the_unreachable_kubelet() {
        // A capture without node proxy answers, where `kubectl logs` for a pod on worker-2
        // failed with the API server's dial error.
        let mut r = base_without_proxy_answers();
        let pod = json!({"kind": "Pod", "metadata": {"name": "kube-proxy-w2", "namespace": "kube-system"}, "spec": {"nodeName": "worker-2", "containers": [{"name": "kube-proxy"}]}});
        let app = json!({"kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {"nodeName": "cp-1", "containers": [{"name": "web"}]}});
        r.set_watched(crate::playbooks::Watched::Pods, &[app.clone(), pod.clone()]);
        let (pod, app): (Pod, Pod) = (
            serde_json::from_value(pod).unwrap(),
            serde_json::from_value(app).unwrap(),
        );
        let wanted = queries(&r);
        let probe = log_probe(&pod).unwrap();
        assert!(wanted.contains(&probe));
        assert!(wanted.contains(&log_probe(&app).unwrap()));
        r.by_query.insert(
            probe,
            Outcome::Failed {
                code: 500,
                message: "Get https://10.0.0.22:10250/containerLogs/kube-system/kube-proxy-w2/kube-proxy: dial tcp 10.0.0.22:10250: i/o timeout".into(),
            },
        );
        // The other probe answered: that node's kubelet is reachable.
        r.by_query.insert(
            log_probe(&app).unwrap(),
            Outcome::Text {
                code: 200,
                body: "GET / 200".into(),
            },
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("on worker-2 (i/o timeout)"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("security group"), "{}", f.summary);
        assert!(f.evidence[0].object == "Pod/kube-system/kube-proxy-w2");
        assert!(f.confidence >= 0.9, "{}", f.confidence);
        // Without a failed request, nodes without proxy answers are not a finding.
        let mut r2 = r.clone();
        r2.by_query.insert(
            log_probe(&pod).unwrap(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        assert_eq!(diagnose(&r2, Utc::now()), None);
    }

    #[test]
    fn a_ready_node_whose_kubelet_port_rejects_is_found() {
        let mut r = base();
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Text {
                code: 500,
                body: status_body("10.0.0.22", "connect: no route to host"),
            },
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("worker-2"), "{}", f.summary);
        assert!(f.summary.contains("firewall"));
        assert!(f.confidence > 0.9);
        assert!(
            f.evidence[0]
                .value
                .contains("dial tcp 10.0.0.22:10250: connect: no route to host")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "for ip in 10.0.0.22; do nc -vz -w 3 $ip 10250; done")
        );
        assert!(
            f.fix.commands.iter().any(|c| c
                == "# on worker-2: is the kubelet listening, and which firewall rule rejects it?")
        );
        assert!(f.ruled_out.iter().any(|x| x.contains("cp-1 and worker-1")));
    }

    #[test]
    fn metrics_server_scrape_errors_alone_are_enough() {
        let mut r = base_without_proxy_answers();
        r.by_query.insert(
            metrics_pods(),
            Outcome::Objects(vec![
                json!({"metadata": {"name": "metrics-server-abc", "namespace": "kube-system"}}),
            ]),
        );
        r.by_query.insert(metrics_logs("metrics-server-abc"), Outcome::Text { code: 200, body: "E0115 09:59:42.123456       1 scraper.go:149] \"Failed to scrape node\" err=\"Get \\\"https://10.0.0.22:10250/metrics/resource\\\": dial tcp 10.0.0.22:10250: i/o timeout\" node=\"worker-2\"\n".into() });
        let now = DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let f = diagnose(&r, now).expect("finding");
        assert!(
            f.summary.contains("worker-2 (i/o timeout)"),
            "{}",
            f.summary
        );
        assert_eq!(f.evidence[0].field, "log[metrics-server]");
    }

    #[test]
    fn a_notready_node_failing_the_proxy_is_not_this_cause() {
        let mut r = base();
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![
                node("cp-1", "10.0.0.11", true),
                node("worker-2", "10.0.0.22", false),
            ]),
        );
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Text {
                code: 500,
                body: status_body("10.0.0.22", "i/o timeout"),
            },
        );
        assert_eq!(diagnose(&r, Utc::now()), None);
        assert_eq!(diagnose(&base(), Utc::now()), None);
    }

    #[test]
    fn the_dial_error_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Error from server: error dialing backend: dial tcp 10.0.0.22:10250: connect: no route to host",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("kubelet-port-unreachable")
        );
    }

    #[test]
    fn dialing_an_address_that_is_not_the_internal_ip_is_a_wrong_address() {
        let mut r = base();
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Text {
                code: 500,
                body: status_body("203.0.113.22", "i/o timeout"),
            },
        );
        r.by_query.insert(
            apiservers(),
            Outcome::Objects(vec![json!({"spec": {"containers": [{"name": "kube-apiserver", "command": ["kube-apiserver", "--kubelet-preferred-address-types=ExternalIP,InternalIP,Hostname"]}]}})]),
        );
        // The node's addresses include the external one the apiserver dials.
        let mut n = node("worker-2", "10.0.0.22", true);
        n["status"]["addresses"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "ExternalIP", "address": "203.0.113.22"}));
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![node("cp-1", "10.0.0.11", true), n]),
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary
                .contains("dials 203.0.113.22 for worker-2 instead of its InternalIP"),
            "{}",
            f.summary
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "- --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname")
        );
    }

    #[test]
    fn old_scrape_errors_or_nodes_the_proxy_reaches_are_not_this_cause() {
        let mut r = base();
        r.by_query.insert(
            metrics_pods(),
            Outcome::Objects(vec![
                json!({"metadata": {"name": "metrics-server-abc", "namespace": "kube-system"}}),
            ]),
        );
        let line = "E0115 08:59:42.123456       1 scraper.go:149] \"Failed to scrape node\" err=\"unable to fetch metrics from node worker-2: Get \\\"https://10.0.0.22:10250/metrics/resource\\\": dial tcp 10.0.0.22:10250: connect: no route to host\" node=\"worker-2\"\n";
        r.by_query.insert(
            metrics_logs("metrics-server-abc"),
            Outcome::Text {
                code: 200,
                body: line.into(),
            },
        );
        let now = DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // The proxy reaches worker-2 now: the log line is history.
        assert_eq!(diagnose(&r, now), None);
        // Without a proxy answer, an hour-old line is still history.
        r.by_query.insert(
            healthz("worker-2"),
            Outcome::Failed {
                code: 404,
                message: "no answer in this snapshot".into(),
            },
        );
        assert_eq!(diagnose(&r, now), None);
        // A recent one is not.
        let recent = line.replace("08:59:42", "09:59:42");
        r.by_query.insert(
            metrics_logs("metrics-server-abc"),
            Outcome::Text {
                code: 200,
                body: recent,
            },
        );
        assert!(diagnose(&r, now).is_some());
    }

    #[test]
    fn dial_targets_are_parsed() {
        assert_eq!(
            dial_target(
                "error dialing backend: dial tcp 10.0.0.22:10250: connect: no route to host"
            ),
            Some(("10.0.0.22".into(), "10250".into()))
        );
        assert_eq!(dial_target("nothing here"), None);
    }
}
