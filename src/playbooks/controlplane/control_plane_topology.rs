//! CP-07 control-plane-topology: HA that isn't. One control-plane node (popeye 712), all
//! control-plane nodes in one zone (one network area: its outage takes the whole control
//! plane), an even number of stacked etcd members (4 tolerate one failure, like 3; 2 tolerate
//! none), or a `controlPlaneEndpoint` that is one node's address instead of a load balancer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    self, ev, host_of, internal_ip, kubeadm_config, kubeadm_config_query, nodes_query, obj, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "control-plane-topology",
    code: "CP-07",
    title: "Control-plane topology: single master, one zone, even etcd count",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["single master"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["masters", "same", "zone"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["control plane", "one zone"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["etcd", "even number"],
            weight: 0.75,
        },
        Symptom {
            all_of: &["controlplaneendpoint"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

fn etcd_query() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=etcd"),
        None,
    )
}

fn cluster_info_query() -> Query {
    q::get("", "configmaps", Some("kube-public"), "cluster-info")
}

fn queries(_: &Results) -> Vec<Query> {
    vec![
        nodes_query(),
        etcd_query(),
        kubeadm_config_query(),
        cluster_info_query(),
    ]
}

fn zone(node: &Value) -> Option<&str> {
    let labels = node.pointer("/metadata/labels")?;
    labels
        .get("topology.kubernetes.io/zone")
        .or_else(|| labels.get("failure-domain.beta.kubernetes.io/zone"))
        .and_then(Value::as_str)
}

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let nodes = results.objects(&nodes_query());
    let cps: Vec<&Value> = nodes
        .iter()
        .filter(|n| common::is_control_plane(n))
        .collect();
    if cps.is_empty() {
        // A managed control plane (EKS, GKE, AKS): its topology is not visible here.
        return None;
    }
    let names: Vec<&str> = cps.iter().map(|n| common::name(n)).collect();
    let mut issues: Vec<(String, f32)> = Vec::new();
    let mut evidence = Vec::new();
    let mut ruled_out = Vec::new();
    let mut commands = vec![
        "kubectl get nodes -l node-role.kubernetes.io/control-plane -L topology.kubernetes.io/zone -o wide".to_string(),
    ];

    evidence.push(ev(
        "Node (node-role.kubernetes.io/control-plane)",
        "count",
        format!("{} ({})", cps.len(), names.join(", ")),
    ));
    // Counting control-plane nodes needs the whole node list; a one-node cluster (a lab, a
    // dev box) is not meant to be highly available.
    let nodes_listed = results.listed(&nodes_query()).is_some();
    if cps.len() == 1 && !nodes_listed {
        ruled_out.push(format!(
            "Only some nodes were captured ({} of them): how many control-plane nodes there are is not known (`kubectl get nodes -o wide`).",
            nodes.len()
        ));
    } else if cps.len() == 1 && nodes.len() == 1 {
        ruled_out.push(format!(
            "{} is the cluster's only node: a single-node cluster is not meant to be highly available.",
            names[0]
        ));
    } else if cps.len() == 1 {
        issues.push((
            format!("the cluster has a single control-plane node ({}): when it fails, nothing can be scheduled, scaled or healed", names[0]),
            0.7,
        ));
    }

    let mut zones: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in &cps {
        if let Some(z) = zone(n) {
            zones.entry(z).or_default().push(common::name(n));
        }
    }
    if cps.len() > 1 && zones.len() == 1 && zones.values().all(|v| v.len() == cps.len()) {
        let (z, _) = zones.iter().next()?;
        for n in &cps {
            evidence.push(ev(
                obj(n),
                "metadata.labels[topology.kubernetes.io/zone]",
                zone(n).unwrap_or_default(),
            ));
        }
        let worker_zones: std::collections::BTreeSet<&str> = nodes
            .iter()
            .filter(|n| !common::is_control_plane(n))
            .filter_map(|n| zone(n))
            .collect();
        issues.push((
            format!(
                "all {} control-plane nodes are in {z}{}: an outage of that zone or its network takes the whole control plane (and etcd quorum) down",
                cps.len(),
                if worker_zones.len() > 1 {
                    format!(" although the workers span {}", worker_zones.into_iter().collect::<Vec<_>>().join(", "))
                } else {
                    String::new()
                }
            ),
            0.75,
        ));
    } else if zones.len() > 1 {
        ruled_out.push(format!(
            "The control-plane nodes span {} zones ({}).",
            zones.len(),
            zones.keys().copied().collect::<Vec<_>>().join(", ")
        ));
    }

    let etcd = results.objects(&etcd_query());
    if !etcd.is_empty() {
        let members = etcd.len();
        evidence.push(ev(
            "Pod/kube-system (component=etcd)",
            "count",
            format!(
                "{members} stacked etcd members ({})",
                etcd.iter()
                    .map(|p| common::node_of(p as &Value))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        if members.is_multiple_of(2) {
            issues.push((
                format!(
                    "etcd has an even number of members ({members}): quorum is {}, so it tolerates {} failure(s) — no more than {} members would",
                    members / 2 + 1,
                    (members - 1) / 2,
                    members - 1
                ),
                0.8,
            ));
        } else {
            ruled_out.push(format!(
                "etcd has an odd member count ({members}), tolerating {} failure(s).",
                (members - 1) / 2
            ));
        }
    }

    let cfg = kubeadm_config(results).unwrap_or_default();
    let cp_ips: Vec<(&str, &str)> = cps
        .iter()
        .filter_map(|n| Some((common::name(n), internal_ip(n)?)))
        .collect();
    let cluster_info_server = results
        .objects(&cluster_info_query())
        .first()
        .map(|cm| s(cm, "/data/kubeconfig"))
        .and_then(|k| {
            k.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("server:")
                    .map(|v| v.trim().to_string())
            })
        })
        .unwrap_or_default();
    let endpoint_host = if cfg.control_plane_endpoint.is_empty() {
        host_of(&cluster_info_server).to_string()
    } else {
        host_of(&cfg.control_plane_endpoint).to_string()
    };
    if cps.len() > 1 {
        if let Some((node, ip)) = cp_ips.iter().find(|(_, ip)| *ip == endpoint_host) {
            evidence.push(ev(
                "ConfigMap/kube-system/kubeadm-config",
                "ClusterConfiguration.controlPlaneEndpoint",
                if cfg.control_plane_endpoint.is_empty() {
                    "(not set)".to_string()
                } else {
                    cfg.control_plane_endpoint.clone()
                },
            ));
            if !cluster_info_server.is_empty() {
                evidence.push(ev(
                    "ConfigMap/kube-public/cluster-info",
                    "data.kubeconfig clusters[0].cluster.server",
                    &cluster_info_server,
                ));
            }
            issues.push((
                format!(
                    "the control-plane endpoint is {ip}, the address of {node} alone: kubelets, kube-proxy and kubeconfigs lose the API when {node} fails, whatever the other masters do"
                ),
                0.6,
            ));
        } else if !endpoint_host.is_empty() {
            ruled_out.push(format!(
                "The control-plane endpoint ({endpoint_host}) is not a single node's address."
            ));
        }
    }

    if issues.is_empty() {
        return None;
    }
    let top = issues.iter().map(|(_, c)| *c).fold(0.0f32, f32::max);
    let confidence = (top + 0.05 * (issues.len() as f32 - 1.0)).min(0.9);
    let summary = format!(
        "The control plane is not highly available: {}.",
        issues
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if cps.len() == 1 || cps.len().is_multiple_of(2) {
        commands.push("# add control-plane nodes so that there are 3 (or 5), one per zone:".into());
    } else {
        commands.push("# move control-plane nodes into other zones one at a time (remove, then re-join in the new zone):".into());
    }
    commands.push(
        "# on a current control-plane node: print a join command with a fresh certificate key"
            .into(),
    );
    commands.push("sudo kubeadm init phase upload-certs --upload-certs".into());
    commands.push(
        "kubeadm token create --print-join-command --certificate-key <key printed above>".into(),
    );
    commands.push("# on the new node (another zone): run the printed `kubeadm join ... --control-plane --certificate-key ...`".into());
    if cps.len() > 1 {
        commands.push(format!(
            "# to move a member: kubectl drain <node> --ignore-daemonsets; on it: sudo kubeadm reset; then re-join in the new zone ({} are today's control-plane nodes)",
            names.join(", ")
        ));
    }
    commands.push("# etcd membership as etcd sees it (on a control-plane node):".into());
    commands.push("sudo crictl exec $(sudo crictl ps --name etcd -q) etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/server.crt --key /etc/kubernetes/pki/etcd/server.key member list -w table".into());
    if issues
        .iter()
        .any(|(t, _)| t.contains("control-plane endpoint"))
    {
        commands.push("# put a load balancer or VIP (kube-vip, keepalived+haproxy) in front of all API servers on :6443, add its name/IP to apiServer.certSANs, then point controlPlaneEndpoint, cluster-info and every kubeconfig at it".into());
        commands.push("kubectl -n kube-system edit cm kubeadm-config".into());
    }
    ruled_out.push("Nothing is failing right now: this is a design risk, not an outage; other playbooks cover current failures.".into());
    Some(Finding {
        severity: FindingSeverity::Warning,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "High availability needs three (or five) control-plane nodes with stacked etcd, one per zone or network area, behind a load balancer or VIP that kubeadm knows as controlPlaneEndpoint. An even etcd count adds a failure point without adding tolerance; masters in one zone fail together. Add or move members one at a time and check `etcdctl member list` after each step (all members `started`).".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn node(name: &str, ip: &str, zone: &str, cp: bool) -> Value {
        let mut labels = json!({"topology.kubernetes.io/zone": zone});
        if cp {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
        }
        json!({"kind": "Node", "metadata": {"name": name, "labels": labels}, "status": {"addresses": [{"type": "InternalIP", "address": ip}]}})
    }

    fn etcd(node: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"name": format!("etcd-{node}"), "namespace": "kube-system", "labels": {"component": "etcd"}}, "spec": {"nodeName": node}})
    }

    fn results(nodes: Vec<Value>, endpoint: &str) -> Results {
        let mut r = Results::default();
        let etcds: Vec<Value> = nodes
            .iter()
            .filter(|n| common::is_control_plane(n))
            .map(|n| etcd(common::name(n)))
            .collect();
        r.by_query.insert(nodes_query(), Outcome::Objects(nodes));
        r.by_query.insert(etcd_query(), Outcome::Objects(etcds));
        r.by_query.insert(
            kubeadm_config_query(),
            Outcome::Objects(vec![json!({"kind": "ConfigMap", "data": {"ClusterConfiguration": format!("controlPlaneEndpoint: {endpoint}\n")}})]),
        );
        r
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn three_masters_in_three_zones_behind_a_name_is_fine() {
        let nodes = vec![
            node("cp-1", "10.0.0.11", "a", true),
            node("cp-2", "10.0.0.12", "b", true),
            node("cp-3", "10.0.0.13", "c", true),
        ];
        assert!(diagnose(&results(nodes, "k8s-api.lab.internal:6443"), now()).is_none());
    }

    #[test]
    fn masters_in_one_zone_behind_a_node_ip_is_a_warning() {
        let nodes = vec![
            node("cp-1", "10.0.0.11", "a", true),
            node("cp-2", "10.0.0.12", "a", true),
            node("cp-3", "10.0.0.13", "a", true),
            node("worker-1", "10.0.0.21", "b", false),
        ];
        let f = diagnose(&results(nodes, "10.0.0.11:6443"), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("all 3 control-plane nodes are in a"));
        assert!(f.summary.contains("the address of cp-1 alone"));
        assert!(f.confidence > 0.75);
    }

    #[test]
    fn single_master_and_even_etcd() {
        let f = diagnose(
            &results(
                vec![
                    node("cp-1", "10.0.0.11", "a", true),
                    node("worker-1", "10.0.0.21", "a", false),
                ],
                "",
            ),
            now(),
        )
        .unwrap();
        assert!(f.summary.contains("single control-plane node (cp-1)"));
        // A one-node cluster (a lab, a dev box) is not meant to be highly available.
        assert!(
            diagnose(
                &results(vec![node("cp-1", "10.0.0.11", "a", true)], ""),
                now()
            )
            .is_none()
        );
        let nodes = vec![
            node("cp-1", "10.0.0.11", "a", true),
            node("cp-2", "10.0.0.12", "b", true),
        ];
        let f = diagnose(&results(nodes, "lb:6443"), now()).unwrap();
        assert!(f.summary.contains("even number of members (2)"));
        assert!(f.summary.contains("tolerates 0 failure"));
    }

    #[test]
    fn managed_clusters_without_control_plane_nodes_are_not_judged() {
        let nodes = vec![node("worker-1", "10.0.0.21", "a", false)];
        assert!(diagnose(&results(nodes, ""), now()).is_none());
    }
}
