//! WL-08 `node-pressure-evictions`: the kubelet evicts pods because its node runs low on
//! disk (ephemeral-storage, imagefs), memory or PIDs. Evicted pods (`Failed`, reason
//! `Evicted`, "The node was low on resource: …") clustered on nodes whose
//! DiskPressure/MemoryPressure/PIDPressure condition is True are the signature; the node's
//! `/proxy/stats/summary` shows how full its filesystems are. Evicted pods left over from a
//! pressure that has since ended are only reported for cleanup (info).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    ev, event_count, events_all, events_for, human, name, name_of, nodes, ns_of, parse_time,
    pod_ref, pods_all, s, secs_since, st,
};
use crate::cluster::lean::{Pod, condition};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "node-pressure-evictions",
    code: "WL-08",
    title: "Pods evicted by node pressure",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["the node was low on resource"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["evicted"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["diskpressure"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["disk-pressure"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["evictionthresholdmet"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["memorypressure"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

/// Evictions newer than this with no pressure left are still worth a warning.
const RECENT_SECS: i64 = 24 * 3600;

fn summary_query(node: &str) -> Query {
    q::raw(&format!("/api/v1/nodes/{node}/proxy/stats/summary"))
}

fn pressures(n: &Value) -> Vec<(&str, &str)> {
    n.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| {
            matches!(
                s(c, "/type"),
                "DiskPressure" | "MemoryPressure" | "PIDPressure"
            ) && s(c, "/status") == "True"
        })
        .map(|c| (s(c, "/type"), s(c, "/lastTransitionTime")))
        .collect()
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), nodes(), events_all()];
    for n in r.objects(&nodes()) {
        if !pressures(n).is_empty() {
            out.push(summary_query(name(n)));
        }
    }
    out
}

fn evicted(p: &Pod) -> bool {
    st(&p.status.phase) == "Failed" && st(&p.status.reason) == "Evicted"
}

/// When the pod was evicted: its DisruptionTarget condition, else its start time.
fn evicted_at(p: &Pod) -> Option<DateTime<Utc>> {
    match condition(&p.status.conditions, "DisruptionTarget") {
        Some(c) => c.last_transition_time,
        None => p.status.start_time,
    }
}

/// `The node was low on resource: ephemeral-storage. …` -> `ephemeral-storage`.
fn resource(message: &str) -> &str {
    message
        .split("low on resource: ")
        .nth(1)
        .and_then(|r| r.split(['.', ' ']).next())
        .unwrap_or("")
}

fn gib(bytes: f64) -> String {
    format!("{:.1}Gi", bytes / 1024f64.powi(3))
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let node_objs = r.objects(&nodes());
    let events = r.events();
    let ev_pods: Vec<&Pod> = pods.iter().map(|p| &**p).filter(|p| evicted(p)).collect();
    let pressured: Vec<&Value> = node_objs
        .iter()
        .filter(|n| !pressures(n).is_empty())
        .collect();
    if ev_pods.is_empty() && pressured.is_empty() {
        return None;
    }
    let mut by_node: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for p in &ev_pods {
        by_node.entry(st(&p.spec.node_name)).or_default().push(p);
    }
    // The worst node: under pressure and with the most evictions.
    let target = pressured
        .iter()
        .max_by_key(|n| by_node.get(name(n)).map_or(0, Vec::len))
        .map(|n| name(n).to_string())
        .or_else(|| {
            by_node
                .iter()
                .max_by_key(|(_, v)| v.len())
                .map(|(k, _)| k.to_string())
        })?;
    let node = node_objs.iter().find(|n| name(n) == target);
    let here: Vec<&Pod> = by_node.get(target.as_str()).cloned().unwrap_or_default();
    let newest = ev_pods
        .iter()
        .filter_map(|p| secs_since(evicted_at(p), now))
        .min();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    if let Some(n) = node {
        for (t, since) in pressures(n) {
            kinds.push(t);
            evidence.push(ev(
                format!("Node/{target}"),
                format!("status.conditions[{t}]"),
                format!(
                    "True since {} ago",
                    secs_since(parse_time(since), now)
                        .map(human)
                        .unwrap_or_else(|| since.to_string())
                ),
            ));
        }
        let taints: Vec<&str> = n
            .pointer("/spec/taints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|t| s(t, "/key"))
            .filter(|k| k.ends_with("-pressure"))
            .collect();
        if !taints.is_empty() {
            evidence.push(ev(
                format!("Node/{target}"),
                "spec.taints",
                taints.join(", "),
            ));
        }
    }
    for p in here.iter().take(4) {
        evidence.push(ev(
            pod_ref(ns_of(*p), name_of(*p)),
            "status.reason/message",
            format!("Evicted: {}", st(&p.status.message)),
        ));
    }
    if here.len() > 4 {
        evidence.push(ev(
            "Pod",
            "more evicted pods on this node",
            (here.len() - 4).to_string(),
        ));
    }
    let mut res: Vec<&str> = here
        .iter()
        .map(|p| resource(st(&p.status.message)))
        .filter(|x| !x.is_empty())
        .collect();
    res.sort();
    res.dedup();
    for e in events_for(events, "Node", "", &target)
        .into_iter()
        .filter(|e| {
            matches!(
                st(&e.reason),
                "EvictionThresholdMet" | "ImageGCFailed" | "FreeDiskSpaceFailed" | "SystemOOM"
            )
        })
        .take(3)
    {
        evidence.push(ev(
            format!("Event/{}/{}", ns_of(e), name_of(e)),
            st(&e.reason),
            format!("{} (x{})", st(&e.message), event_count(e)),
        ));
    }
    if let Some(body) = r.text(&summary_query(&target))
        && let Ok(v) = serde_json::from_str::<Value>(body)
    {
        for (label, ptr) in [
            ("node fs", "/node/fs"),
            ("image fs", "/node/runtime/imageFs"),
        ] {
            let cap = v
                .pointer(&format!("{ptr}/capacityBytes"))
                .and_then(Value::as_f64);
            let avail = v
                .pointer(&format!("{ptr}/availableBytes"))
                .and_then(Value::as_f64);
            if let (Some(c), Some(a)) = (cap, avail) {
                evidence.push(ev(
                    format!("Node/{target}"),
                    format!("stats/summary {label}"),
                    format!(
                        "{} free of {} ({:.0}% used)",
                        gib(a),
                        gib(c),
                        100.0 * (c - a) / c.max(1.0)
                    ),
                ));
            }
        }
    }
    let others: Vec<String> = by_node
        .iter()
        .filter(|(n, _)| **n != target)
        .map(|(n, v)| format!("{n}: {}", v.len()))
        .collect();
    if !others.is_empty() {
        evidence.push(ev("Pod", "evicted pods on other nodes", others.join(", ")));
    }
    let disk = kinds.contains(&"DiskPressure")
        || res
            .iter()
            .any(|r| r.contains("storage") || r.contains("nodefs") || r.contains("imagefs"));
    let memory = kinds.contains(&"MemoryPressure") || res.contains(&"memory");
    let under_pressure = node.is_some_and(|n| !pressures(n).is_empty());
    let recent = newest.is_some_and(|a| a <= RECENT_SECS);
    let (severity, confidence) = match (under_pressure, here.is_empty(), recent) {
        (true, false, _) => (FindingSeverity::Critical, 0.95),
        (true, true, _) => (FindingSeverity::Warning, 0.8),
        (false, _, true) => (FindingSeverity::Warning, 0.75),
        (false, _, false) => (FindingSeverity::Info, 0.6),
    };
    let what = if disk {
        "disk (ephemeral-storage)"
    } else if memory {
        "memory"
    } else if kinds.contains(&"PIDPressure") {
        "process IDs"
    } else {
        "resources"
    };
    let summary = match (under_pressure, here.len()) {
        (true, 0) => format!(
            "Node {target} is under {what} pressure: the kubelet will evict pods and refuses new ones."
        ),
        (true, n) => format!(
            "Node {target} is low on {what}: the kubelet evicted {n} pod(s) there and keeps the node tainted."
        ),
        (false, n) => format!(
            "{n} pod(s) were evicted from {target} for low {what}, the last {} ago; the pressure is over, the Failed pods remain.",
            newest.map(human).unwrap_or_else(|| "some time".into())
        ),
    };
    let mut commands = Vec::new();
    let explanation;
    if under_pressure && disk {
        explanation = format!(
            "The kubelet evicts pods when the node's filesystem (or image filesystem) falls below its eviction threshold (nodefs.available<10%, imagefs.available<15% by default) and taints the node until it recovers. Evicting pods only helps if they were the consumers: find what fills the disk on {target} (container logs, images, the writable layer of a pod, files outside Kubernetes), free it, and give pods ephemeral-storage requests/limits so the kubelet can pick the right victim."
        );
        commands.push(format!("# on {target}:"));
        commands.push(
            "df -h /var/lib/kubelet /var/lib/containerd /var/log   # which filesystem is full"
                .into(),
        );
        commands.push(
            "sudo du -xh --max-depth=2 /var 2>/dev/null | sort -h | tail -15   # what fills it"
                .into(),
        );
        commands.push("sudo crictl rmi --prune   # unused images".into());
        commands.push("sudo journalctl --vacuum-size=500M".into());
        commands.push(format!("kubectl get --raw /api/v1/nodes/{target}/proxy/stats/summary | jq '.node.fs, .node.runtime.imageFs'"));
    } else if under_pressure && memory {
        explanation = format!(
            "The node's available memory is below the kubelet's eviction threshold (memory.available<100Mi by default). Pods without memory requests (BestEffort) or above their requests are evicted first: set requests close to real usage and limits, or move load off {target}."
        );
        commands.push("kubectl top pods -A --sort-by=memory | head".into());
        commands.push(format!(
            "kubectl describe node {target} | grep -A12 'Allocated resources'"
        ));
    } else {
        explanation = "Evicted pods stay as Failed objects until deleted (or garbage-collected at --terminated-pod-gc-threshold); they hold no resources. Delete them once the cause is understood.".into();
    }
    commands.push(format!(
        "kubectl get pods -A --field-selector=status.phase=Failed,spec.nodeName={target}"
    ));
    commands.push(
        "kubectl delete pods -A --field-selector=status.phase=Failed   # clean up evicted pods"
            .into(),
    );
    let mut ruled_out = Vec::new();
    if under_pressure {
        ruled_out.push(format!(
            "Not a preemption or a drain: the pods' reason is Evicted with the kubelet's low-resource message, and {target} reports pressure now."
        ));
    }
    if !others.is_empty() {
        ruled_out.push(format!(
            "Not cluster-wide: the evictions cluster on {target}."
        ));
    }
    Some(Finding {
        severity,
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

#[cfg(test)]
mod tests {
    use super::super::common::testing::{set_events, set_pods};
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        super::super::common::parse_time("2026-01-15T10:00:00Z").unwrap_or_default()
    }

    fn evicted_pod(name: &str, at: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": name}, "spec": {"nodeName": "worker-2"},
            "status": {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: ephemeral-storage. Threshold quantity: 9347877258, available: 8871212Ki.",
                "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet", "lastTransitionTime": at}]}})
    }

    fn node(pressure: bool) -> Value {
        json!({"kind": "Node", "metadata": {"name": "worker-2"}, "spec": if pressure { json!({"taints": [{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}]}) } else { json!({}) },
            "status": {"conditions": [{"type": "DiskPressure", "status": if pressure { "True" } else { "False" }, "lastTransitionTime": "2026-01-15T09:36:00Z"}]}})
    }

    fn results(pods: Vec<Value>, pressure: bool) -> Results {
        let mut r = Results::default();
        set_pods(&mut r, &pods);
        r.by_query
            .insert(nodes(), Outcome::Objects(vec![node(pressure)]));
        set_events(&mut r, &[]);
        r
    }

    #[test]
    fn evictions_on_a_node_under_disk_pressure_are_critical_with_node_commands() {
        let mut r = results(vec![evicted_pod("cart-1", "2026-01-15T09:39:00Z")], true);
        assert!(queries(&r).contains(&summary_query("worker-2")));
        r.by_query.insert(summary_query("worker-2"), Outcome::Text { code: 200, body: json!({"node": {"fs": {"capacityBytes": 100.0 * 1024f64.powi(3), "availableBytes": 8.0 * 1024f64.powi(3)}}}).to_string() });
        let f = diagnose(&r, now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("worker-2") && f.summary.contains("disk"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value == "8.0Gi free of 100.0Gi (92% used)"),
            "{:#?}",
            f.evidence
        );
        assert!(f.fix.commands.iter().any(|c| c == "# on worker-2:"));
    }

    #[test]
    fn old_evictions_without_pressure_are_only_info() {
        let f = diagnose(
            &results(vec![evicted_pod("cart-1", "2026-01-12T09:00:00Z")], false),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        let f = diagnose(
            &results(vec![evicted_pod("cart-1", "2026-01-15T08:00:00Z")], false),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(diagnose(&results(vec![], false), now()).is_none());
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Evicted: The node was low on resource: ephemeral-storage.",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("node-pressure-evictions"));
    }
}
