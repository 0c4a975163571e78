//! NET-01 `node-notready-no-cni`: nodes NotReady because no CNI plugin runs on them. Follows
//! the chain an expert follows: CoreDNS Pending → FailedScheduling on the
//! `node.kubernetes.io/not-ready` taint → Node Ready=False with `NetworkPluginNotReady` → no
//! CNI DaemonSet in any namespace (or one that does not cover those nodes).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    and_list, cni_plugin, cond_str, condition, ev, kubeadm_networking, name, namespace, node_ready,
    obj, status_int,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "node-notready-no-cni",
    code: "NET-01",
    title: "Nodes NotReady: no CNI plugin installed",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["network plugin is not ready", "cni config uninitialized"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["cni plugin not initialized"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["networkpluginnotready"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["container runtime network not ready"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["untolerated taint", "node.kubernetes.io/not-ready"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["no networks found in /etc/cni/net.d"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

fn scheduling_events() -> Query {
    q::list(
        "",
        "events",
        Some("kube-system"),
        None,
        Some("reason=FailedScheduling"),
    )
}
/// The pods of a CNI DaemonSet, by its selector.
fn ds_pods(ds: &Value) -> Option<Query> {
    let labels = ds.pointer("/spec/selector/matchLabels")?.as_object()?;
    let sel: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    if sel.is_empty() {
        return None;
    }
    Some(q::list(
        "",
        "pods",
        Some(namespace(ds)),
        Some(&sel.join(",")),
        None,
    ))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        q::nodes(),
        q::daemonsets(),
        q::dns_pods(),
        scheduling_events(),
        q::kubeadm_config(),
    ];
    // Round 2: the pods of each CNI DaemonSet, to see which nodes they cover.
    out.extend(
        r.objects(&q::daemonsets())
            .iter()
            .filter(|d| cni_plugin(d).is_some())
            .filter_map(ds_pods),
    );
    out
}

/// The kubelet's words for "no CNI configuration / plugin".
fn network_not_ready(msg: &str) -> bool {
    let m = msg.to_lowercase();
    m.contains("networkpluginnotready")
        || m.contains("cni plugin not initialized")
        || m.contains("cni config uninitialized")
        || m.contains("network plugin is not ready")
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let nodes = r.objects(&q::nodes());
    let not_ready: Vec<&Value> = nodes
        .iter()
        .filter(|n| !node_ready(n))
        .filter(|n| {
            condition(n, "Ready").is_some_and(|c| network_not_ready(cond_str(c, "message")))
        })
        .collect();
    if not_ready.is_empty() {
        return None;
    }
    let not_ready_names: Vec<String> = not_ready.iter().map(|n| name(n).to_string()).collect();

    // The CNI DaemonSets, and which of the NotReady nodes they have a pod on.
    let all_ds = r.objects(&q::daemonsets());
    let cni_ds: Vec<&Value> = all_ds.iter().filter(|d| cni_plugin(d).is_some()).collect();
    let mut uncovered: Vec<String> = not_ready_names.clone();
    for ds in &cni_ds {
        if let Some(q) = ds_pods(ds) {
            for p in r.objects(&q) {
                let node = p.pointer("/spec/nodeName").and_then(Value::as_str);
                uncovered.retain(|n| Some(n.as_str()) != node);
            }
        }
    }
    // A CNI DaemonSet with a pod on every NotReady node: the plugin is there but failing
    // (flannel without podCIDR, blocked overlay...) — another playbook's cause.
    if !cni_ds.is_empty() && uncovered.is_empty() {
        return None;
    }

    let mut evidence: Vec<Evidence> = Vec::new();
    // 1. CoreDNS Pending on the not-ready taint.
    let dns = r.objects(&q::dns_pods());
    let pending_dns: Vec<&Value> = dns
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending"))
        .collect();
    if let Some(p) = pending_dns.first() {
        let of = format!(
            "{} of {} CoreDNS pods Pending",
            pending_dns.len(),
            dns.len()
        );
        match condition(p, "PodScheduled").filter(|c| cond_str(c, "status") == "False") {
            Some(c) => evidence.push(ev(
                obj("Pod", p),
                "status.conditions[PodScheduled].message",
                format!("{} ({of})", cond_str(c, "message")),
            )),
            None => evidence.push(ev(obj("Pod", p), "status.phase", format!("Pending ({of})"))),
        }
    }
    let taint_events: Vec<&Value> = r
        .objects(&scheduling_events())
        .iter()
        .filter(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains("node.kubernetes.io/not-ready"))
        })
        .collect();
    if let Some(e) = taint_events.first() {
        let involved = e
            .pointer("/involvedObject/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
        evidence.push(ev(
            format!("Event/{}/{}", namespace(e), name(e)),
            "reason, message",
            format!(
                "FailedScheduling (pod {involved}, x{count}): {}",
                e.get("message").and_then(Value::as_str).unwrap_or("")
            ),
        ));
    }
    // 2. The taint and the Ready condition on the nodes.
    let first = not_ready[0];
    let tainted: Vec<&&Value> = not_ready
        .iter()
        .filter(|n| {
            n.pointer("/spec/taints")
                .and_then(Value::as_array)
                .is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t.get("key").and_then(Value::as_str) == Some("node.kubernetes.io/not-ready")
                    })
                })
        })
        .collect();
    if let Some(n) = tainted.first() {
        evidence.push(ev(
            obj("Node", n),
            "spec.taints",
            format!(
                "node.kubernetes.io/not-ready:NoSchedule (on {} of {} nodes)",
                tainted.len(),
                nodes.len()
            ),
        ));
    }
    if let Some(c) = condition(first, "Ready") {
        evidence.push(ev(
            obj("Node", first),
            "status.conditions[Ready]",
            format!(
                "{} {}: {}",
                cond_str(c, "status"),
                cond_str(c, "reason"),
                cond_str(c, "message")
            ),
        ));
    }
    if not_ready.len() > 1 {
        evidence.push(ev(
            "Node/*",
            "status.conditions[Ready].message",
            format!(
                "the same network-not-ready message on {} of {} nodes: {}",
                not_ready.len(),
                nodes.len(),
                and_list(&not_ready_names)
            ),
        ));
    }
    // 3. The DaemonSets: no CNI among them, or one that misses these nodes.
    let ds_names: Vec<String> = all_ds
        .iter()
        .map(|d| format!("{}/{}", namespace(d), name(d)))
        .collect();
    let no_cni = cni_ds.is_empty();
    if no_cni {
        evidence.push(ev(
            "DaemonSet/* (all namespaces)",
            "metadata.name",
            if ds_names.is_empty() {
                "no DaemonSet at all: no calico-node, kube-flannel-ds, weave-net, cilium, canal, antrea-agent".to_string()
            } else {
                format!(
                    "{} — none is a CNI agent (calico-node, kube-flannel-ds, weave-net, cilium, canal, antrea-agent…)",
                    ds_names.join(", ")
                )
            },
        ));
    } else {
        for ds in &cni_ds {
            evidence.push(ev(
                obj("DaemonSet", ds),
                "status.desiredNumberScheduled, numberReady",
                format!(
                    "{} desired, {} ready; no pod on {}",
                    status_int(ds, "desiredNumberScheduled"),
                    status_int(ds, "numberReady"),
                    and_list(&uncovered)
                ),
            ));
        }
    }

    let net = r
        .objects(&q::kubeadm_config())
        .first()
        .and_then(kubeadm_networking);
    let pod_subnet = net.as_ref().and_then(|n| n.pod_subnet.clone());
    if let Some(ps) = &pod_subnet {
        evidence.push(ev(
            "ConfigMap/kube-system/kubeadm-config",
            "data.ClusterConfiguration.networking.podSubnet",
            ps.clone(),
        ));
    }

    let all_nodes = not_ready.len() == nodes.len();
    let summary = if no_cni {
        format!(
            "No CNI plugin is installed: {} of {} nodes are NotReady with NetworkPluginNotReady (`cni plugin not initialized`), keep the not-ready taint, and so CoreDNS and every other pod-network pod stay Pending.",
            not_ready.len(),
            nodes.len()
        )
    } else {
        format!(
            "The CNI DaemonSet does not run on {}: without a CNI plugin there the kubelet reports NetworkPluginNotReady and the node keeps the not-ready taint.",
            and_list(&uncovered)
        )
    };

    let mut ruled_out = vec![
        "Kubelet down or node unreachable: the kubelet is posting status (Ready=False with reason KubeletNotReady and a network message, not Unknown/NodeStatusUnknown).".to_string(),
        "Resource pressure: MemoryPressure, DiskPressure and PIDPressure are not what the Ready condition names; only the container runtime network is not ready.".to_string(),
    ];
    if no_cni {
        ruled_out.push("A failing CNI agent (pod cidr not assigned, blocked overlay ports): there is no CNI agent pod at all to fail.".to_string());
    } else {
        ruled_out.push("A crashing CNI agent: the NotReady nodes have no CNI pod at all, so nothing there could crash.".to_string());
    }
    if !pending_dns.is_empty() {
        ruled_out.push("A CoreDNS problem: CoreDNS is Pending only because every node carries the not-ready taint; it has not run yet.".to_string());
    }

    let subnet = pod_subnet.clone().unwrap_or_else(|| "10.244.0.0/16".into());
    let first_name = name(first).to_string();
    let mut commands = vec![
        "kubectl get daemonsets -A".to_string(),
        format!("# on {first_name}: the kubelet finds no network config here"),
        "ls -l /etc/cni/net.d/ /opt/cni/bin/".to_string(),
        "journalctl -u kubelet --since -10min | grep -i 'network plugin\\|cni'".to_string(),
    ];
    if no_cni {
        commands.extend([
            format!("# install ONE CNI whose pool matches podSubnet {subnet}; Calico:"),
            "curl -fsSLO https://raw.githubusercontent.com/projectcalico/calico/v3.28.2/manifests/calico.yaml".to_string(),
            format!("sed -i 's|# - name: CALICO_IPV4POOL_CIDR|- name: CALICO_IPV4POOL_CIDR|; s|#   value: \"192.168.0.0/16\"|  value: \"{subnet}\"|' calico.yaml"),
            "kubectl apply -f calico.yaml".to_string(),
        ]);
        if subnet == "10.244.0.0/16" {
            commands.extend([
                "# or flannel (its default Network is 10.244.0.0/16, the same as podSubnet):"
                    .to_string(),
                "kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml".to_string(),
            ]);
        }
    } else {
        for ds in &cni_ds {
            commands.push(format!(
                "kubectl get ds {} -n {} -o jsonpath='{{.spec.template.spec.nodeSelector}}{{\"\\n\"}}{{.spec.template.spec.tolerations}}'",
                name(ds),
                namespace(ds)
            ));
        }
        commands.push(format!(
            "kubectl get node {first_name} --show-labels; kubectl describe node {first_name} | grep -i taint"
        ));
    }
    commands.extend([
        "kubectl get nodes -w".to_string(),
        "kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide".to_string(),
    ]);
    let explanation = if no_cni {
        format!(
            "kubeadm does not install a pod network: until a CNI plugin writes its config to /etc/cni/net.d on every node, the kubelet reports NetworkReady=false and the node lifecycle controller keeps the not-ready taint, so CoreDNS cannot be scheduled. Apply one CNI manifest whose IP pool equals the cluster's podSubnet ({subnet}). On the node, an empty /etc/cni/net.d confirms it; after the CNI DaemonSet's pod starts there, a *.conflist appears, the node turns Ready within a minute, and CoreDNS is scheduled."
        )
    } else {
        format!(
            "The CNI DaemonSet exists but has no pod on {}: its nodeSelector, affinity or tolerations exclude those nodes (or it is scaled to no nodes). Compare the DaemonSet's nodeSelector and tolerations with the nodes' labels and taints, and fix the DaemonSet so it schedules everywhere; on the node, /etc/cni/net.d stays empty until it does.",
            and_list(&uncovered)
        )
    };

    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: match (no_cni, all_nodes) {
            (true, true) => 0.97,
            (true, false) => 0.9,
            (false, _) => 0.85,
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
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn node(n: &str, ready: bool) -> Value {
        let cond = if ready {
            json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"})
        } else {
            json!({"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"})
        };
        let mut v = json!({"kind": "Node", "metadata": {"name": n}, "status": {"conditions": [cond], "addresses": [{"type": "InternalIP", "address": "10.0.0.21"}]}});
        if !ready {
            v["spec"] = json!({"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]});
        }
        v
    }

    fn ds(ns: &str, n: &str, label: &str) -> Value {
        json!({"kind": "DaemonSet", "metadata": {"name": n, "namespace": ns}, "spec": {"selector": {"matchLabels": {"k8s-app": label}}}, "status": {"desiredNumberScheduled": 2, "numberReady": 2}})
    }

    fn results(nodes: Vec<Value>, dss: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q::nodes(), Outcome::Objects(nodes));
        r.by_query.insert(q::daemonsets(), Outcome::Objects(dss));
        r.by_query.insert(
            q::dns_pods(),
            Outcome::Objects(vec![json!({"kind": "Pod", "metadata": {"name": "coredns-7c65d6cfc9-abcde", "namespace": "kube-system"}, "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."}]}})]),
        );
        r.by_query
            .insert(scheduling_events(), Outcome::Objects(vec![]));
        r.by_query.insert(
            q::kubeadm_config(),
            Outcome::Objects(vec![json!({"data": {"ClusterConfiguration": "networking:\n  podSubnet: 10.244.0.0/16\n"}})]),
        );
        r
    }

    #[test]
    fn no_cni_daemonset_and_network_not_ready_nodes_is_the_cause() {
        let r = results(
            vec![node("cp-1", false), node("worker-1", false)],
            vec![ds("kube-system", "kube-proxy", "kube-proxy")],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.95);
        assert!(f.summary.contains("No CNI plugin"));
        // The whole chain is in the evidence: CoreDNS → taint → Ready message → DaemonSets.
        let all: String = f
            .evidence
            .iter()
            .map(|e| format!("{} {} {}\n", e.object, e.field, e.value))
            .collect();
        assert!(
            all.contains("Pod/kube-system/coredns-7c65d6cfc9-abcde"),
            "{all}"
        );
        assert!(all.contains("untolerated taint {node.kubernetes.io/not-ready: }"));
        assert!(all.contains("Node/cp-1 spec.taints"));
        assert!(all.contains("cni plugin not initialized"));
        assert!(all.contains("kube-system/kube-proxy — none is a CNI agent"));
        assert!(f.fix.commands.iter().any(|c| c.contains("calico.yaml")));
        assert!(f.fix.commands.iter().any(|c| c.contains("10.244.0.0/16")));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "# on cp-1: the kubelet finds no network config here")
        );
    }

    #[test]
    fn cni_daemonset_missing_one_node_is_found() {
        let mut r = results(
            vec![node("cp-1", true), node("worker-1", false)],
            vec![ds("kube-system", "calico-node", "calico-node")],
        );
        let pods_q = ds_pods(&ds("kube-system", "calico-node", "calico-node")).unwrap();
        assert_eq!(
            queries(&Results::default()).len(),
            5,
            "round 2 waits for the DaemonSets"
        );
        r.by_query.insert(
            pods_q.clone(),
            Outcome::Objects(vec![
                json!({"metadata": {"name": "calico-node-x"}, "spec": {"nodeName": "cp-1"}}),
            ]),
        );
        assert!(queries(&r).contains(&pods_q));
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary.contains("does not run on worker-1"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_cni_pod_on_every_notready_node_is_not_this_cause() {
        let mut r = results(
            vec![node("worker-1", false)],
            vec![ds("kube-system", "calico-node", "calico-node")],
        );
        let pods_q = ds_pods(&ds("kube-system", "calico-node", "calico-node")).unwrap();
        r.by_query.insert(
            pods_q,
            Outcome::Objects(vec![
                json!({"metadata": {"name": "calico-node-x"}, "spec": {"nodeName": "worker-1"}}),
            ]),
        );
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn ready_nodes_or_a_stopped_kubelet_are_not_this_cause() {
        let r = results(vec![node("cp-1", true)], vec![]);
        assert_eq!(diagnose(&r, Utc::now()), None);
        let mut stopped = node("worker-2", false);
        stopped["status"]["conditions"][0] = json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown", "message": "Kubelet stopped posting node status."});
        let r = results(vec![stopped], vec![]);
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn the_kubelet_message_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "network plugin is not ready: cni config uninitialized",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("node-notready-no-cni")
        );
        let ranked = crate::playbooks::engine::rank_symptoms(
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("node-notready-no-cni")
        );
    }
}
