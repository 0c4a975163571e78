//! NET-04 `forward-policy-drop`: Docker ≥ 1.13 sets the iptables FORWARD policy to DROP, and a
//! CNI that does not add its own FORWARD accept rules (flannel before v0.9.1) then loses every
//! forwarded pod packet: pod-to-pod traffic across nodes and pod-to-internet fail while pods
//! on the same node still talk. The API shows the runtime and CNI versions and where traffic
//! fails (the ingress controller's upstream timeouts by node); the node confirms it with
//! `iptables -S FORWARD`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    and_list, cni_plugin, ev, image_tag, name, namespace, obj, version, version_lt,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "forward-policy-drop",
    code: "NET-04",
    title: "iptables FORWARD policy DROP breaks cross-node pod traffic",
    access: Access::Node,
    symptoms: &[
        Symptom {
            all_of: &["-p forward drop"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["forward", "policy drop"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["-a forward -i docker0 ! -o docker0 -j drop"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["pods on different nodes", "cannot"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["upstream timed out", "while connecting to upstream"],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

fn pods() -> Query {
    q::watched(Watched::Pods)
}
fn ingress_pods() -> Query {
    q::list(
        "",
        "pods",
        Some("ingress-nginx"),
        Some("app.kubernetes.io/component=controller"),
        None,
    )
}
fn ingress_logs(pod: &str) -> Query {
    q::logs("ingress-nginx", pod, Some("controller"), false, Some(300))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::nodes(), q::daemonsets(), pods(), ingress_pods()];
    out.extend(
        r.objects(&ingress_pods())
            .iter()
            .map(|p| ingress_logs(name(p))),
    );
    out
}

/// Docker versions from 1.13 on set `iptables -P FORWARD DROP` at start.
fn docker_drops_forward(runtime: &str) -> bool {
    runtime.starts_with("docker://") && version(runtime).is_some_and(|v| !version_lt(&v, &[1, 13]))
}

/// One upstream connection the ingress controller reported.
struct Upstream {
    ip: String,
    ok: bool,
    line: String,
}

/// Upstream results from an ingress-nginx log: error lines (`upstream timed out … upstream:
/// "http://IP:PORT/"`) and access lines (`… [] IP:PORT LEN TIME STATUS …`).
fn upstreams(log: &str) -> Vec<Upstream> {
    let mut out = Vec::new();
    for line in log.lines() {
        if line.contains("upstream timed out")
            || line.contains("No route to host) while connecting to upstream")
        {
            if let Some(rest) = line.split("upstream: \"http://").nth(1)
                && let Some((ip, _)) = rest.split_once(':')
            {
                out.push(Upstream {
                    ip: ip.to_string(),
                    ok: false,
                    line: line.trim().to_string(),
                });
            }
        } else if let Some(rest) = line.split(" [] ").nth(1) {
            let t: Vec<&str> = rest.split_whitespace().collect();
            if let (Some(addr), Some(status)) = (t.first(), t.get(3))
                && let Some((ip, _)) = addr.split_once(':')
            {
                out.push(Upstream {
                    ip: ip.to_string(),
                    ok: status.starts_with('2') || status.starts_with('3'),
                    line: line.trim().to_string(),
                });
            }
        }
    }
    out
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let nodes = r.objects(&q::nodes());
    let docker_nodes: Vec<(&str, &str)> = nodes
        .iter()
        .filter_map(|n| {
            let rt = n
                .pointer("/status/nodeInfo/containerRuntimeVersion")
                .and_then(Value::as_str)?;
            docker_drops_forward(rt).then_some((name(n), rt))
        })
        .collect();
    if docker_nodes.is_empty() {
        return None;
    }
    // A CNI that does not install FORWARD accept rules.
    let (ds, tag) = r.objects(&q::daemonsets()).iter().find_map(|d| {
        if cni_plugin(d) != Some("flannel") {
            return None;
        }
        let tag = image_tag(d, "flannel")?;
        let v = version(tag)?;
        version_lt(&v, &[0, 9, 1]).then_some((d, tag))
    })?;

    // Where traffic fails: the ingress controller's upstreams, by the node of the pod.
    let ip_node: BTreeMap<&str, &str> = r
        .pods()
        .iter()
        .filter(|p| !p.spec.host_network)
        .filter_map(|p| Some((p.status.pod_ip.as_deref()?, p.spec.node_name.as_deref()?)))
        .collect();
    let mut cross_fail: Vec<(String, Upstream, String)> = Vec::new();
    let mut same_ok: Vec<(String, Upstream)> = Vec::new();
    let mut same_fail = 0;
    for ing in r.objects(&ingress_pods()) {
        let Some(from) = ing.pointer("/spec/nodeName").and_then(Value::as_str) else {
            continue;
        };
        let Some(log) = r.text(&ingress_logs(name(ing))) else {
            continue;
        };
        for u in upstreams(log) {
            let Some(to) = ip_node.get(u.ip.as_str()) else {
                continue;
            };
            match (u.ok, *to == from) {
                (false, false) => cross_fail.push((obj("Pod", ing), u, format!("{from} -> {to}"))),
                (true, true) => same_ok.push((obj("Pod", ing), u)),
                (false, true) => same_fail += 1,
                (true, false) => {}
            }
        }
    }
    let cross_only = !cross_fail.is_empty() && same_fail == 0;

    let mut evidence = vec![ev(
        format!("Node/{}", docker_nodes[0].0),
        "status.nodeInfo.containerRuntimeVersion",
        format!(
            "{} (Docker >= 1.13 sets the FORWARD policy to DROP; {} of {} nodes run Docker)",
            docker_nodes[0].1,
            docker_nodes.len(),
            nodes.len()
        ),
    )];
    evidence.push(ev(
        obj("DaemonSet", ds),
        "spec.template.spec.containers[].image",
        format!("flannel {tag} (FORWARD accept rules for the pod network arrived in v0.9.1)"),
    ));
    // One error line per unreachable upstream (the access line of the same request adds nothing).
    let mut shown: Vec<&str> = Vec::new();
    for (pod, u, path) in cross_fail
        .iter()
        .filter(|(_, u, _)| u.line.contains("while connecting to upstream"))
    {
        if shown.len() == 2 || shown.contains(&u.ip.as_str()) {
            continue;
        }
        shown.push(&u.ip);
        evidence.push(ev(
            pod.clone(),
            "log[controller]",
            format!("{path}: {}", u.line),
        ));
    }
    if let Some((pod, u)) = same_ok.first() {
        evidence.push(ev(
            pod.clone(),
            "log[controller]",
            format!("same node, answered: {}", u.line),
        ));
    }
    let failing_nodes: Vec<String> = {
        let mut v: Vec<String> = cross_fail
            .iter()
            .filter_map(|(_, _, p)| p.split(" -> ").nth(1).map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let summary = if cross_only {
        format!(
            "Docker ({}) sets the iptables FORWARD policy to DROP and flannel {tag} adds no FORWARD accept rules, so forwarded pod traffic is dropped: the ingress controller times out on pods on {} while pods on its own node answer.",
            docker_nodes[0].1.trim_start_matches("docker://"),
            and_list(&failing_nodes)
        )
    } else {
        format!(
            "Docker ({}) sets the iptables FORWARD policy to DROP and flannel {tag} adds no FORWARD accept rules: pod traffic between nodes and to the internet is dropped (confirm with `iptables -S FORWARD` on a node).",
            docker_nodes[0].1.trim_start_matches("docker://")
        )
    };
    let node_list: Vec<String> = docker_nodes.iter().map(|(n, _)| n.to_string()).collect();
    // The node to look at first: the one the failing traffic leaves from.
    let first = cross_fail
        .first()
        .and_then(|(_, _, p)| p.split(" -> ").next())
        .map(str::to_string)
        .or_else(|| node_list.first().cloned())
        .unwrap_or_default();
    let commands = vec![
        format!(
            "# on {first} (then on every node: {}):",
            and_list(&node_list)
        ),
        "sudo iptables -S FORWARD | head -5".to_string(),
        "sudo iptables -P FORWARD ACCEPT".to_string(),
        "# keep it across Docker restarts:".to_string(),
        "sudo mkdir -p /etc/systemd/system/docker.service.d && printf '[Service]\\nExecStartPost=/usr/sbin/iptables -P FORWARD ACCEPT\\n' | sudo tee /etc/systemd/system/docker.service.d/10-forward-accept.conf && sudo systemctl daemon-reload".to_string(),
        "# or, lasting: upgrade flannel (>= v0.9.1 adds FORWARD accept rules for the pod network)".to_string(),
        "kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml".to_string(),
        format!(
            "kubectl -n {} delete ds {}   # the old DaemonSet, if the new manifest uses another name or namespace",
            namespace(ds),
            name(ds)
        ),
    ];
    let explanation = format!(
        "Only the node shows the rule: on {first}, `iptables -S FORWARD` printing `-P FORWARD DROP` as its first line, with no ACCEPT rule for the pod network, confirms it — packets from a pod to a pod on another node, or to the internet, are forwarded by the host and hit that policy, while pods on one bridge still reach each other. `iptables -P FORWARD ACCEPT` fixes it at once (cross-node requests answer immediately) but Docker sets DROP again when it restarts: persist it with the systemd drop-in, or upgrade flannel, which installs its own ACCEPT rules."
    );
    let mut ruled_out = vec![
        "Overlay ports blocked (NET-06): the flannel agents are Ready and no peer is reported unreachable; the drop happens in the FORWARD chain of each node.".to_string(),
        "The application: requests to pods on the controller's own node succeed with the same pods' image and configuration.".to_string(),
    ];
    if !cross_only {
        ruled_out.push("Could not be confirmed from traffic: no cross-node failures are visible in the ingress controller's log; node access decides.".to_string());
    }
    Some(Finding {
        severity: if cross_only {
            FindingSeverity::Critical
        } else {
            FindingSeverity::Warning
        },
        confidence: if cross_only { 0.85 } else { 0.5 },
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
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn node(n: &str, rt: &str) -> Value {
        json!({"metadata": {"name": n}, "status": {"nodeInfo": {"containerRuntimeVersion": rt}}})
    }
    fn pod(ns: &str, n: &str, node: &str, ip: &str) -> Value {
        json!({"metadata": {"name": n, "namespace": ns}, "spec": {"nodeName": node}, "status": {"podIP": ip}})
    }
    fn flannel(tag: &str) -> Value {
        json!({"metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel"}, "spec": {"template": {"spec": {"containers": [{"name": "kube-flannel", "image": format!("quay.io/coreos/flannel:{tag}")}]}}}})
    }
    const LOG: &str = "10.0.0.50 - - [15/Jan/2026:09:58:00 +0000] \"GET / HTTP/1.1\" 200 4120 \"-\" \"curl\" 412 0.003 [shop-frontend-80] [] 10.244.3.5:8080 4120 0.003 200 abc\n2026/01/15 09:58:30 [error] 31#31: *48213 upstream timed out (110: Connection timed out) while connecting to upstream, client: 10.0.0.50, server: shop.lab.internal, request: \"GET / HTTP/1.1\", upstream: \"http://10.244.4.7:8080/\", host: \"shop.lab.internal\"\n";

    fn results(rt: &str, tag: &str) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            q::nodes(),
            Outcome::Objects(vec![node("worker-1", rt), node("worker-2", rt)]),
        );
        r.by_query
            .insert(q::daemonsets(), Outcome::Objects(vec![flannel(tag)]));
        r.set_watched(
            Watched::Pods,
            &[
                pod(
                    "ingress-nginx",
                    "ingress-nginx-controller-a",
                    "worker-1",
                    "10.244.3.2",
                ),
                pod("shop", "frontend-a", "worker-1", "10.244.3.5"),
                pod("shop", "frontend-b", "worker-2", "10.244.4.7"),
            ],
        );
        r.by_query.insert(
            ingress_pods(),
            Outcome::Objects(vec![pod(
                "ingress-nginx",
                "ingress-nginx-controller-a",
                "worker-1",
                "10.244.3.2",
            )]),
        );
        r.by_query.insert(
            ingress_logs("ingress-nginx-controller-a"),
            Outcome::Text {
                code: 200,
                body: LOG.into(),
            },
        );
        r
    }

    #[test]
    fn docker_with_old_flannel_and_cross_node_timeouts_is_found() {
        let f =
            diagnose(&results("docker://20.10.24", "v0.9.0-amd64"), Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("times out on pods on worker-2"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.starts_with("worker-1 -> worker-2: "))
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.starts_with("same node, answered"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "sudo iptables -P FORWARD ACCEPT")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on worker-1 (then on every node"))
        );
    }

    #[test]
    fn containerd_old_docker_or_new_flannel_are_not_this_cause() {
        assert_eq!(
            diagnose(&results("containerd://1.7.22", "v0.9.0"), Utc::now()),
            None
        );
        assert_eq!(
            diagnose(&results("docker://1.12.6", "v0.9.0"), Utc::now()),
            None
        );
        assert_eq!(
            diagnose(&results("docker://20.10.24", "v0.26.1"), Utc::now()),
            None
        );
    }

    #[test]
    fn without_visible_failures_it_is_only_a_warning() {
        let mut r = results("docker://20.10.24", "v0.9.0");
        r.by_query.insert(
            ingress_logs("ingress-nginx-controller-a"),
            Outcome::Text {
                code: 200,
                body: String::new(),
            },
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.confidence <= 0.5);
    }

    #[test]
    fn the_iptables_policy_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("forward-policy-drop")
        );
    }
}
