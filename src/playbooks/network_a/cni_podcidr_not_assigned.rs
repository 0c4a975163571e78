//! NET-02 `cni-podcidr-not-assigned`: a CNI that takes each node's subnet from
//! `spec.podCIDR` (flannel's kube subnet manager, Canal) finds none on some nodes, because
//! kube-controller-manager does not allocate node CIDRs (`--allocate-node-cidrs`/
//! `--cluster-cidr` missing — kubeadm without `podSubnet`) or allocates from another range.
//! flannel crash-loops with `pod cidr not assigned`; pods there fail with `open
//! /run/flannel/subnet.env: no such file or directory`.

use std::sync::Arc;

use crate::cluster::lean::Event;
use crate::playbooks::util::pod_restarts;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Cidr, CniAgents, and_list, cni_agent_queries, cni_agents, command_line, containers, crashed,
    ev, flag, kubeadm_networking, name, namespace, obj,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
    Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "cni-podcidr-not-assigned",
    code: "NET-02",
    title: "Nodes without podCIDR: the CNI cannot get a subnet",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["pod cidr not assigned"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["open /run/flannel/subnet.env", "no such file or directory"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["loadflannelsubnetenv failed"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failed to acquire lease", "flannel"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

fn controller_managers() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-controller-manager"),
        None,
    )
}
fn flannel_cfg(ns: &str) -> Query {
    q::get("", "configmaps", Some(ns), "kube-flannel-cfg")
}
fn agent_logs(pod: &Value, previous: bool) -> Option<Query> {
    let c = containers(pod).first()?.get("name")?.as_str()?.to_string();
    Some(q::logs(
        namespace(pod),
        name(pod),
        Some(&c),
        previous,
        Some(50),
    ))
}
fn sandbox_events() -> Query {
    q::watched(Watched::Events)
}

/// The CNI agents that read `spec.podCIDR`: flannel with `--kube-subnet-mgr`, Canal; from
/// their DaemonSet, or from their pods when the capture holds only those.
fn subnet_mgr_agents(r: &Results) -> Vec<CniAgents<'_>> {
    cni_agents(r)
        .into_iter()
        .filter(|a| match a.plugin {
            "flannel" => a.spec().is_some_and(|s| {
                containers(s)
                    .iter()
                    .any(|c| command_line(c).contains(&"--kube-subnet-mgr"))
            }),
            "Canal" => true,
            _ => false,
        })
        .collect()
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        q::nodes(),
        controller_managers(),
        q::kubeadm_config(),
        sandbox_events(),
    ];
    out.extend(cni_agent_queries(r));
    for a in subnet_mgr_agents(r) {
        out.push(flannel_cfg(&a.namespace));
        // Round 3: the logs of agents that restart or crash-loop (a capture may carry the
        // waiting reason or last termination without a restart count).
        for p in a.pods.iter().filter(|p| pod_restarts(p) > 0 || crashed(p)) {
            out.extend(agent_logs(p, false));
            out.extend(agent_logs(p, true));
        }
    }
    out
}

fn pod_cidr(node: &Value) -> Option<&str> {
    node.pointer("/spec/podCIDR")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let agents = subnet_mgr_agents(r);
    let agent = agents.first()?;
    let ns = agent.namespace.as_str();
    let nodes = r.objects(&q::nodes());
    let missing: Vec<&Value> = nodes.iter().filter(|n| pod_cidr(n).is_none()).collect();
    if missing.is_empty() {
        return None;
    }
    let missing_names: Vec<String> = missing.iter().map(|n| name(n).to_string()).collect();

    // What kube-controller-manager is told, when its pod is visible.
    let kcm = r.objects(&controller_managers());
    let kcm_cmd: Option<(String, Vec<String>)> = kcm.first().map(|p| {
        (
            obj("Pod", p),
            containers(p)
                .first()
                .map(|c| command_line(c).iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
        )
    });
    let (allocate, cluster_cidr) = match &kcm_cmd {
        Some((_, cmd)) => {
            let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
            (
                flag(&refs, "allocate-node-cidrs").map(str::to_string),
                flag(&refs, "cluster-cidr").map(str::to_string),
            )
        }
        None => (None, None),
    };
    let kubeadm = r
        .objects(&q::kubeadm_config())
        .first()
        .and_then(kubeadm_networking);
    let pod_subnet = kubeadm.as_ref().and_then(|n| n.pod_subnet.clone());
    let network = r
        .objects(&flannel_cfg(ns))
        .first()
        .and_then(|c| c.pointer("/data/net-conf.json"))
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| v.get("Network").and_then(Value::as_str).map(str::to_string));

    // Whether the controller allocates node CIDRs: from its flags, else from kubeadm's
    // ClusterConfiguration (kubeadm sets --allocate-node-cidrs only with a podSubnet); with
    // neither captured it is unknown, not "no".
    let not_allocating = if kcm_cmd.is_some() {
        Some(allocate.as_deref() != Some("true") || cluster_cidr.is_none())
    } else {
        kubeadm.as_ref().map(|k| k.pod_subnet.is_none())
    };
    let mismatch = match (&cluster_cidr, &network) {
        (Some(c), Some(n)) => match (Cidr::parse(c), Cidr::parse(n)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        },
        _ => false,
    };

    let mut evidence: Vec<Evidence> = Vec::new();
    // The agents' own words.
    let mut agent_line = None;
    {
        for p in &agent.pods {
            for prev in [true, false] {
                let line = agent_logs(p, prev)
                    .and_then(|lq| r.text(&lq))
                    .and_then(|t| {
                        t.lines()
                            .rev()
                            .find(|l| l.contains("pod cidr not assigned"))
                    });
                if let Some(l) = line {
                    let node = p
                        .pointer("/spec/nodeName")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    agent_line = Some(ev(
                        obj("Pod", p),
                        if prev { "log (previous)" } else { "log" },
                        format!("on {node}, {} restarts: {}", pod_restarts(p), l.trim()),
                    ));
                    break;
                }
            }
            if agent_line.is_some() {
                break;
            }
        }
    }
    let agent_found = agent_line.is_some();
    evidence.extend(agent_line);
    for n in missing.iter().take(3) {
        evidence.push(ev(obj("Node", n), "spec.podCIDR", "<empty>"));
    }
    let assigned: Vec<String> = nodes
        .iter()
        .filter_map(|n| pod_cidr(n).map(|c| format!("{}={c}", name(n))))
        .collect();
    if !assigned.is_empty() {
        evidence.push(ev(
            "Node/*",
            "spec.podCIDR",
            format!("assigned on the others: {}", assigned.join(", ")),
        ));
    }
    if let Some((o, _)) = &kcm_cmd {
        evidence.push(ev(
            o.clone(),
            "spec.containers[kube-controller-manager].command",
            format!(
                "--allocate-node-cidrs={}, --cluster-cidr={}",
                allocate.as_deref().unwrap_or("<absent, default false>"),
                cluster_cidr.as_deref().unwrap_or("<absent>")
            ),
        ));
    }
    let kubeadm_captured = matches!(r.outcome(&q::kubeadm_config()), Some(Outcome::Objects(_)));
    evidence.push(ev(
        "ConfigMap/kube-system/kubeadm-config",
        "data.ClusterConfiguration.networking.podSubnet",
        match (&pod_subnet, kubeadm_captured) {
            (Some(s), _) => s.clone(),
            (None, true) => "<absent>".into(),
            (None, false) => "<not captured>".into(),
        },
    ));
    if kcm_cmd.is_none() {
        evidence.push(ev(
            "Pod/kube-system/kube-controller-manager-*",
            "spec.containers[kube-controller-manager].command",
            "<not captured>: --allocate-node-cidrs/--cluster-cidr unknown",
        ));
    }
    if let Some(n) = &network {
        evidence.push(ev(
            format!("ConfigMap/{ns}/kube-flannel-cfg"),
            "data[net-conf.json].Network",
            n.clone(),
        ));
    }
    let sandbox: Vec<&Arc<Event>> = r
        .events()
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedCreatePodSandBox")
                && e.message
                    .as_deref()
                    .is_some_and(|m| m.contains("/run/flannel/subnet.env"))
        })
        .collect();
    if let Some(e) = sandbox.first() {
        evidence.push(ev(
            format!(
                "Pod/{}/{}",
                e.involved_object.namespace.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or("")
            ),
            "events[FailedCreatePodSandBox].message",
            e.message.clone().unwrap_or_default(),
        ));
    }
    if not_allocating != Some(true) && !mismatch && !agent_found && sandbox.is_empty() {
        // Empty podCIDR with a well-configured allocator and no symptom: nothing to say yet.
        return None;
    }

    let network_s = network
        .clone()
        .or(pod_subnet.clone())
        .unwrap_or_else(|| "10.244.0.0/16".into());
    let cause = if not_allocating == Some(true) && kcm_cmd.is_none() {
        "kubeadm's ClusterConfiguration has no networking.podSubnet (kubeadm init without --pod-network-cidr), so kube-controller-manager runs without --allocate-node-cidrs/--cluster-cidr".to_string()
    } else if not_allocating == Some(true) {
        format!(
            "kube-controller-manager does not allocate node CIDRs (--allocate-node-cidrs={}, --cluster-cidr {})",
            allocate.as_deref().unwrap_or("absent"),
            cluster_cidr.as_deref().unwrap_or("absent")
        )
    } else if mismatch {
        format!(
            "kube-controller-manager allocates from {} but flannel's Network is {}",
            cluster_cidr.as_deref().unwrap_or(""),
            network.as_deref().unwrap_or("")
        )
    } else if not_allocating.is_none() {
        "kube-controller-manager's flags were not captured; most often it does not allocate node CIDRs (kubeadm init without --pod-network-cidr leaves out --allocate-node-cidrs/--cluster-cidr)".to_string()
    } else {
        "the allocator has not assigned one (range exhausted or kube-controller-manager not running)".to_string()
    };
    let summary = format!(
        "{} {} no spec.podCIDR, so flannel (kube subnet manager) cannot take a subnet there and crash-loops with `pod cidr not assigned`; pods on {} cannot get an address: {cause}.",
        and_list(&missing_names),
        if missing.len() == 1 { "has" } else { "have" },
        if missing.len() == 1 { "it" } else { "them" }
    );
    let cps: Vec<String> = kcm
        .iter()
        .filter_map(|p| {
            p.pointer("/spec/nodeName")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let mut commands = vec![
        "kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDR:.spec.podCIDR".to_string(),
        format!(
            "# on each control-plane node ({}): add to the command of /etc/kubernetes/manifests/kube-controller-manager.yaml",
            and_list(&cps)
        ),
        "    - --allocate-node-cidrs=true".to_string(),
        format!("    - --cluster-cidr={network_s}"),
        format!(
            "kubectl -n kube-system edit cm kubeadm-config   # networking.podSubnet: {network_s}, so the next kubeadm upgrade keeps the flags"
        ),
    ];
    // Only when the field is empty (it is immutable once set): the next free /24.
    let used: Vec<Cidr> = nodes
        .iter()
        .filter_map(|n| pod_cidr(n).and_then(Cidr::parse))
        .collect();
    if let Some(base) = Cidr::parse(&network_s).filter(|b| b.len <= 24) {
        let mut next = base.net;
        for n in &missing_names {
            while used.iter().any(|u| u.net == next)
                && base.contains(&std::net::Ipv4Addr::from(next).to_string())
            {
                next = next.saturating_add(256);
            }
            commands.push(format!(
                "kubectl patch node {n} -p '{{\"spec\":{{\"podCIDR\":\"{c}\",\"podCIDRs\":[\"{c}\"]}}}}'   # or let the fixed controller assign it",
                c = Cidr { net: next, len: 24 }
            ));
            next = next.saturating_add(256);
        }
    }
    commands.push(match agent.selector() {
        Some(sel) => format!(
            "kubectl -n {ns} delete pod -l {sel} --field-selector spec.nodeName={}",
            missing_names.first().cloned().unwrap_or_default()
        ),
        None => format!(
            "kubectl -n {ns} delete pod {}",
            agent
                .pods
                .iter()
                .map(|p| name(p))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    });
    let explanation = format!(
        "flannel in kube-subnet-mgr mode reads each node's spec.podCIDR and writes /run/flannel/subnet.env; the flannel CNI plugin needs that file for every pod. kube-controller-manager fills spec.podCIDR only with --allocate-node-cidrs=true and a --cluster-cidr equal to flannel's Network ({network_s}); kubeadm sets both from networking.podSubnet (kubeadm init --pod-network-cidr). Fix the flags on every control-plane node (the kubelet restarts the static pod), and the controller assigns a /24 to each node without one; podCIDR is immutable, so patch it by hand only while empty. Then restart the flannel pod on the node: subnet.env appears and the pods there get addresses."
    );
    let mut ruled_out = vec![
        "No CNI installed (NET-01): the flannel DaemonSet runs on every node; it only lacks a subnet on some.".to_string(),
        "Flannel RBAC: flannel lists nodes and reads its own node (the message names the missing podCIDR, not a forbidden request).".to_string(),
    ];
    if !assigned.is_empty() {
        ruled_out.push(format!(
            "A wrong flannel Network for the whole cluster: nodes with a podCIDR ({}) work.",
            assigned.len()
        ));
    }
    Some(Finding {
        severity: FindingSeverity::Critical,
        // The agent's own error naming the node, with the node's empty podCIDR, proves the
        // symptom; the controller's flags (or kubeadm's podSubnet) prove the cause.
        confidence: match (not_allocating, agent_found) {
            (Some(true), true) => 0.95,
            (Some(true), false) => 0.85,
            _ if mismatch => 0.85,
            (None, true) => 0.85,
            _ => 0.6,
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
    use super::super::common::ds_pods as agent_pods;
    use super::*;
    use crate::playbooks::LeanObjects;
    use serde_json::json;

    fn node(n: &str, cidr: Option<&str>) -> Value {
        let mut v = json!({"metadata": {"name": n}, "spec": {}});
        if let Some(c) = cidr {
            v["spec"]["podCIDR"] = json!(c);
        }
        v
    }
    fn flannel_ds() -> Value {
        json!({"metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel"}, "spec": {"selector": {"matchLabels": {"app": "flannel"}}, "template": {"spec": {"containers": [{"name": "kube-flannel", "image": "docker.io/flannel/flannel:v0.26.1", "command": ["/opt/bin/flanneld"], "args": ["--ip-masq", "--kube-subnet-mgr"]}]}}}})
    }
    fn kcm(flags: &[&str]) -> Value {
        let mut cmd = vec![
            "kube-controller-manager",
            "--use-service-account-credentials=true",
        ];
        cmd.extend_from_slice(flags);
        json!({"metadata": {"name": "kube-controller-manager-cp-1", "namespace": "kube-system"}, "spec": {"nodeName": "cp-1", "containers": [{"name": "kube-controller-manager", "command": cmd}]}})
    }

    fn results(flags: &[&str], nodes_: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(q::nodes(), Outcome::Objects(nodes_));
        r.by_query
            .insert(q::daemonsets(), Outcome::Objects(vec![flannel_ds()]));
        r.by_query
            .insert(controller_managers(), Outcome::Objects(vec![kcm(flags)]));
        r.by_query.insert(q::kubeadm_config(), Outcome::Objects(vec![json!({"data": {"ClusterConfiguration": "networking:\n  serviceSubnet: 10.96.0.0/12\n"}})]));
        r.by_query.insert(
            sandbox_events(),
            Outcome::Lean(LeanObjects::empty(Watched::Events)),
        );
        r.by_query.insert(flannel_cfg("kube-flannel"), Outcome::Objects(vec![json!({"data": {"net-conf.json": "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}"}})]));
        let p = json!({"metadata": {"name": "kube-flannel-ds-x", "namespace": "kube-flannel"}, "spec": {"nodeName": "worker-3", "containers": [{"name": "kube-flannel"}]}, "status": {"containerStatuses": [{"name": "kube-flannel", "restartCount": 14}]}});
        r.by_query.insert(
            agent_pods(&flannel_ds()).unwrap(),
            Outcome::Objects(vec![p.clone()]),
        );
        r.by_query.insert(agent_logs(&p, true).unwrap(), Outcome::Text { code: 200, body: "E0115 09:58:01.123456       1 main.go:333] Error registering network: failed to acquire lease: node \"worker-3\" pod cidr not assigned\n".into() });
        r
    }

    #[test]
    fn a_node_without_podcidr_and_no_allocation_is_found() {
        let r = results(
            &[],
            vec![node("cp-1", Some("10.244.0.0/24")), node("worker-3", None)],
        );
        assert!(queries(&r).contains(
            &agent_logs(&r.objects(&agent_pods(&flannel_ds()).unwrap())[0], true).unwrap()
        ));
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary.starts_with("worker-3 has no spec.podCIDR"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("--allocate-node-cidrs=absent"));
        assert!(f.confidence > 0.9);
        assert!(f.evidence[0].value.contains("pod cidr not assigned"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "    - --cluster-cidr=10.244.0.0/16")
        );
        assert!(
            f.fix.commands.iter().any(|c| c.starts_with(
                "kubectl patch node worker-3 -p '{\"spec\":{\"podCIDR\":\"10.244.1.0/24\""
            )),
            "{:?}",
            f.fix.commands
        );
    }

    #[test]
    fn all_nodes_with_podcidr_or_no_subnet_manager_cni_are_not_this_cause() {
        let r = results(&[], vec![node("cp-1", Some("10.244.0.0/24"))]);
        assert_eq!(diagnose(&r, Utc::now()), None);
        let mut r = results(&[], vec![node("worker-3", None)]);
        r.by_query.insert(
            q::daemonsets(),
            Outcome::Objects(vec![
                json!({"metadata": {"name": "calico-node", "namespace": "kube-system"}}),
            ]),
        );
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn a_cluster_cidr_unlike_flannels_network_is_named() {
        let r = results(
            &[
                "--allocate-node-cidrs=true",
                "--cluster-cidr=192.168.0.0/16",
            ],
            vec![node("worker-3", None)],
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(
            f.summary
                .contains("allocates from 192.168.0.0/16 but flannel's Network is 10.244.0.0/16"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_crash_looping_flannel_pod_without_its_daemonset_or_controller_flags_is_found() {
        let not_captured = || Outcome::Failed {
            code: 0,
            message: "not captured".into(),
        };
        let pod = json!({"metadata": {"name": "kube-flannel-ds-k1", "namespace": "kube-system", "labels": {"app": "flannel"}},
            "spec": {"nodeName": "k1", "containers": [{"name": "kube-flannel", "args": ["--ip-masq", "--kube-subnet-mgr"]}]},
            "status": {"containerStatuses": [{"name": "kube-flannel", "ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1}}}]}});
        let mut r = Results::default();
        r.by_query
            .insert(q::nodes(), Outcome::Objects(vec![node("k1", None)]));
        r.by_query.insert(q::daemonsets(), not_captured());
        super::super::common::set_pods(&mut r, std::slice::from_ref(&pod));
        r.by_query
            .insert(controller_managers(), Outcome::Objects(vec![]));
        r.by_query.insert(q::kubeadm_config(), not_captured());
        r.by_query.insert(sandbox_events(), not_captured());
        let wanted = queries(&r);
        assert!(wanted.contains(&agent_logs(&pod, true).unwrap()));
        assert!(wanted.contains(&flannel_cfg("kube-system")));
        r.by_query.insert(
            agent_logs(&pod, true).unwrap(),
            Outcome::Text {
                code: 200,
                body: "Error registering network: failed to acquire lease: node \"k1\" pod cidr not assigned\n".into(),
            },
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        // The symptom is proven, the controller's flags are not known: not the top confidence.
        assert!((f.confidence - 0.85).abs() < 1e-6, "{}", f.confidence);
        assert!(f.summary.contains("were not captured"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value == "<not captured>" && e.field.ends_with("podSubnet"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "kubectl -n kube-system delete pod -l app=flannel --field-selector spec.nodeName=k1")
        );
        // kubeadm's ClusterConfiguration without podSubnet decides the cause.
        r.by_query.insert(q::kubeadm_config(), Outcome::Objects(vec![json!({"data": {"ClusterConfiguration": "networking:\n  serviceSubnet: 10.96.0.0/12\n"}})]));
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.confidence > 0.9);
        assert!(
            f.summary.contains("no networking.podSubnet"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn a_node_without_podcidr_and_unknown_flags_but_no_symptom_is_not_reported() {
        let mut r = results(&[], vec![node("worker-3", None)]);
        r.by_query
            .insert(controller_managers(), Outcome::Objects(vec![]));
        r.by_query.insert(
            q::kubeadm_config(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        let pq = agent_pods(&flannel_ds()).unwrap();
        let p = r.objects(&pq)[0].clone();
        r.by_query.remove(&agent_logs(&p, true).unwrap());
        assert_eq!(diagnose(&r, Utc::now()), None);
    }

    #[test]
    fn the_flannel_error_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "Error registering network: failed to acquire lease: node \"worker-3\" pod cidr not assigned",
        );
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("cni-podcidr-not-assigned")
        );
    }
}
