//! WL-03 `pending-unschedulable`: pods the scheduler cannot place (`PodScheduled=False`,
//! `Unschedulable`, `0/N nodes are available: …`). The scheduler's message is parsed into
//! its per-node reasons: insufficient resources (checked against node allocatable and what
//! is already requested there), untolerated taints, node affinity/selector, pod
//! (anti-)affinity, cordoned nodes. Reasons another playbook owns are named and left to it:
//! the not-ready taint (NET-01), the cloud provider's uninitialized taint (CL-02), unbound
//! PVCs and volume node affinity (ST-*).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::json::{
    container_statuses, events_all, events_for, name, pods_all, s, secs_since, workload_arg,
};
use super::common::{ev, human, namespace, nodes, pod_ref};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "pending-unschedulable",
    code: "WL-03",
    title: "Pod pending: no node fits",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["nodes are available"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["failedscheduling"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["insufficient cpu"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["insufficient memory"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["untolerated taint"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["didn't match pod's node affinity/selector"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

/// A pod pending for less than this may just be waiting for the scheduler.
const GRACE_SECS: i64 = 60;

fn pvcs() -> Query {
    q::core("persistentvolumeclaims", None)
}

/// First every pod in the lean model (the watch stores' own); the pods and events as JSON
/// (what the diagnosis reads: requests of every container on every node) only when a pod
/// waits unscheduled, so a cluster without one never lists its pods twice.
fn queries(r: &Results) -> Vec<Query> {
    let mut qs = vec![q::watched(Watched::Pods), nodes(), pvcs()];
    let unscheduled = r.pods().iter().any(|p| {
        p.status.phase.as_deref() == Some("Pending")
            && p.spec.node_name.as_deref().unwrap_or("").is_empty()
    });
    if unscheduled {
        qs.extend([pods_all(), events_all()]);
    }
    qs
}

/// The scheduler's message: condition message, else the newest FailedScheduling event.
fn message<'a>(pod: &'a Value, events: &'a [Value]) -> Option<(&'a str, &'a str)> {
    let cond = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|c| s(c, "/type") == "PodScheduled" && s(c, "/status") == "False")?;
    let reason = s(cond, "/reason");
    let m = s(cond, "/message");
    if !m.is_empty() {
        return Some((reason, m));
    }
    events_for(events, "Pod", namespace(pod), name(pod))
        .into_iter()
        .find(|e| s(e, "/reason") == "FailedScheduling")
        .map(|e| (reason, s(e, "/message")))
        .or(Some((reason, "")))
}

/// `0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {…}.
/// preemption: …` -> [(3, "Insufficient cpu"), (3, "node(s) had untolerated taint {…}")].
fn reasons(msg: &str) -> Vec<(i64, String)> {
    let Some(rest) = msg.split("nodes are available: ").nth(1) else {
        return Vec::new();
    };
    let rest = rest.split(". preemption:").next().unwrap_or(rest);
    let rest = rest.trim_end_matches('.');
    let mut out = Vec::new();
    // Split on ", " followed by a count, so taints with commas stay whole.
    let mut cur = String::new();
    for part in rest.split(", ") {
        let starts_with_count = part
            .split_whitespace()
            .next()
            .is_some_and(|w| w.parse::<i64>().is_ok());
        if starts_with_count && !cur.is_empty() {
            out.push(cur.clone());
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push_str(", ");
        }
        cur.push_str(part);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // `0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims.` has no
    // per-node count: it applies to all N nodes.
    let total: i64 = msg
        .split("nodes are available")
        .next()
        .and_then(|x| x.trim().rsplit('/').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    out.into_iter()
        .map(|x| match x.split_once(' ') {
            Some((n, r)) if n.parse::<i64>().is_ok() => (n.parse().unwrap_or(0), r.to_string()),
            _ => (total, x),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Class {
    Resources(Vec<String>),
    Taint(String),
    Affinity,
    PodAffinity,
    Cordoned,
    /// Owned by another playbook: (code, why).
    Elsewhere(&'static str, &'static str),
    ControlPlaneTaint,
    Other(String),
}

fn class(reason: &str) -> Class {
    let r = reason.to_lowercase();
    if let Some(res) = r.strip_prefix("insufficient ") {
        return Class::Resources(vec![res.to_string()]);
    }
    if r.contains("too many pods") {
        return Class::Resources(vec!["pods".into()]);
    }
    if r.contains("untolerated taint") || r.contains("had taint") {
        let taint = reason
            .split('{')
            .nth(1)
            .and_then(|t| t.split('}').next())
            .unwrap_or("")
            .to_string();
        let key = taint.split(':').next().unwrap_or("").trim().to_string();
        return match key.as_str() {
            "node.kubernetes.io/not-ready" | "node.kubernetes.io/network-unavailable" => {
                Class::Elsewhere(
                    "NET-01",
                    "the nodes are NotReady (no CNI): they carry the not-ready taint",
                )
            }
            "node.cloudprovider.kubernetes.io/uninitialized" => Class::Elsewhere(
                "CL-02",
                "the nodes wait for the cloud controller manager to initialise them",
            ),
            "node-role.kubernetes.io/control-plane" | "node-role.kubernetes.io/master" => {
                Class::ControlPlaneTaint
            }
            _ => Class::Taint(taint),
        };
    }
    if r.contains("unbound immediate persistentvolumeclaims") || r.contains("persistentvolumeclaim")
    {
        return Class::Elsewhere("ST-01", "its PersistentVolumeClaim is not bound");
    }
    if r.contains("volumebinding") || r.contains("binding volumes") {
        return Class::Elsewhere(
            "ST-02",
            "its volume is still waiting to be provisioned (the VolumeBinding step timed out)",
        );
    }
    if r.contains("volume node affinity conflict") {
        return Class::Elsewhere("ST-03", "its volume is pinned to other nodes (zone)");
    }
    if r.contains("node affinity/selector") {
        return Class::Affinity;
    }
    if r.contains("pod affinity") || r.contains("pod anti-affinity") {
        return Class::PodAffinity;
    }
    if r.contains("unschedulable") {
        return Class::Cordoned;
    }
    Class::Other(reason.to_string())
}

/// CPU in millicores, memory in bytes, from a quantity string.
fn quantity(q: &str, cpu: bool) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (n, unit) = q.split_at(split);
    let n: f64 = n.parse().ok()?;
    let mult = match unit {
        "" => {
            if cpu {
                1000.0
            } else {
                1.0
            }
        }
        "m" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        _ => return None,
    };
    Some(n * mult)
}

fn requests(pod: &Value, res: &str) -> f64 {
    let cpu = res == "cpu";
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c.pointer(&format!("/resources/requests/{res}"))
                .and_then(Value::as_str)
        })
        .filter_map(|q| quantity(q, cpu))
        .sum()
}

fn show(v: f64, res: &str) -> String {
    if res == "cpu" {
        format!("{}m", v.round() as i64)
    } else if res == "memory" {
        format!("{:.1}Gi", v / 1024f64.powi(3))
    } else {
        format!("{v}")
    }
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.objects(&pods_all());
    let events = r.objects(&events_all());
    let node_objs = r.objects(&nodes());
    let pending: Vec<(&Value, &str, &str)> = pods
        .iter()
        .filter(|p| s(p, "/status/phase") == "Pending" && s(p, "/spec/nodeName").is_empty())
        .filter(|p| {
            secs_since(s(p, "/metadata/creationTimestamp"), now).is_some_and(|a| a > GRACE_SECS)
        })
        .filter_map(|p| message(p, events).map(|(reason, m)| (p, reason, m)))
        .collect();
    let (pod, reason, msg) = *pending.first()?;
    let (ns, pod_name) = (namespace(pod), name(pod));
    let pref = pod_ref(ns, pod_name);
    let age = secs_since(s(pod, "/metadata/creationTimestamp"), now).unwrap_or(0);
    let mut evidence: Vec<Evidence> = vec![ev(
        &pref,
        "status.conditions[PodScheduled]",
        format!("False {reason}: {msg}"),
    )];
    evidence.push(ev(&pref, "pending for", human(age)));
    if pending.len() > 1 {
        evidence.push(ev(
            "Pod",
            "also pending",
            pending[1..]
                .iter()
                .take(5)
                .map(|(p, _, _)| format!("{}/{}", namespace(p), name(p)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let wl = workload_arg(pod);
    let ready = pods
        .iter()
        .filter(|p| namespace(p) == ns && workload_arg(p) == wl)
        .filter(|p| {
            let c = container_statuses(p);
            !c.is_empty()
                && c.iter()
                    .all(|x| x.get("ready").and_then(Value::as_bool) == Some(true))
        })
        .count();
    if reason == "SchedulingGated" {
        let gates: Vec<&str> = pod
            .pointer("/spec/schedulingGates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|g| s(g, "/name"))
            .collect();
        evidence.push(ev(&pref, "spec.schedulingGates", gates.join(", ")));
        return Some(Finding {
            severity: FindingSeverity::Info,
            confidence: 0.9,
            summary: format!("{ns}/{pod_name} is held by scheduling gates ({}) and waits for the controller that removes them.", gates.join(", ")),
            evidence,
            ruled_out: vec!["Not a lack of nodes: the scheduler has not tried yet.".into()],
            fix: Fix {
                explanation: "A scheduling gate is removed by the controller that added it (a queue, an autoscaler); check that controller.".into(),
                commands: vec![format!("kubectl -n {ns} get pod {pod_name} -o jsonpath='{{.spec.schedulingGates}}'")],
            },
        });
    }
    let parsed = reasons(msg);
    let mut by_class: BTreeMap<String, (i64, Class)> = BTreeMap::new();
    for (n, rsn) in &parsed {
        let c = class(rsn);
        let key = match &c {
            Class::Resources(_) => "resources".to_string(),
            other => format!("{other:?}"),
        };
        let e = by_class.entry(key).or_insert((0, c.clone()));
        e.0 += n;
        if let (Class::Resources(list), Class::Resources(new)) = (&mut e.1, &c)
            && !list.contains(&new[0])
        {
            list.push(new[0].clone());
        }
    }
    // A node excluded only because it is broken (not ready, uninitialized) or a volume that
    // is not there explains the pod even when other nodes are also full: the owner of that
    // cause comes first.
    let elsewhere = by_class
        .values()
        .find(|(_, c)| matches!(c, Class::Elsewhere(..)))
        .map(|x| x.1.clone());
    let main = elsewhere
        .or_else(|| {
            by_class
                .values()
                .filter(|(_, c)| *c != Class::ControlPlaneTaint)
                .max_by_key(|(n, _)| *n)
                .map(|x| x.1.clone())
        })
        .unwrap_or_else(|| class(msg));
    let own_severity = if ready == 0 {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    let mut ruled_out = Vec::new();
    if by_class
        .values()
        .any(|(_, c)| *c == Class::ControlPlaneTaint)
    {
        ruled_out.push("The control-plane nodes are excluded by their NoSchedule taint, as intended: not the cause.".into());
    }
    let describe = format!("kubectl describe pod -n {ns} {pod_name}");
    let (severity, confidence, summary, explanation, commands) = match &main {
        Class::Resources(list) => {
            for res in list {
                let want = requests(pod, res);
                evidence.push(ev(&pref, format!("spec.containers[*].resources.requests.{res}"), show(want, res)));
                for n in node_objs.iter().filter(|n| {
                    n.pointer("/spec/taints").and_then(Value::as_array).is_none_or(|t| {
                        !t.iter().any(|x| s(x, "/effect") == "NoSchedule" && s(x, "/key").starts_with("node-role.kubernetes.io/"))
                    })
                }) {
                    let alloc = n
                        .pointer(&format!("/status/allocatable/{res}"))
                        .and_then(Value::as_str)
                        .and_then(|q| quantity(q, res == "cpu"))
                        .unwrap_or(0.0);
                    let used: f64 = pods
                        .iter()
                        .filter(|p| s(p, "/spec/nodeName") == name(n))
                        .filter(|p| !matches!(s(p, "/status/phase"), "Succeeded" | "Failed"))
                        .map(|p| requests(p, res))
                        .sum();
                    evidence.push(ev(
                        format!("Node/{}", name(n)),
                        format!("status.allocatable.{res} / requested"),
                        format!("{} / {} (free {})", show(alloc, res), show(used, res), show((alloc - used).max(0.0), res)),
                    ));
                }
            }
            ruled_out.push("Not taints or affinity on the worker nodes: the scheduler reports only insufficient resources there.".into());
            (
                own_severity,
                0.93,
                format!("{ns}/{pod_name} ({wl}) stays Pending: no node has enough free {} for its requests.", list.join(" and ")),
                format!("The scheduler places a pod only where allocatable minus the requests of the pods already there covers its requests. Lower the requests of {wl} to what it really needs, or add nodes (or bigger ones); requests are reservations, not usage."),
                vec![
                    describe.clone(),
                    "kubectl describe nodes | grep -A9 'Allocated resources'".into(),
                    format!("kubectl -n {ns} set resources {wl} --requests={}", list.iter().map(|r| format!("{r}=<less>")).collect::<Vec<_>>().join(",")),
                ],
            )
        }
        Class::Taint(t) => {
            let key = t.split(':').next().unwrap_or("").trim();
            (
                own_severity,
                0.9,
                format!("{ns}/{pod_name} stays Pending: the nodes carry taint {{{t}}} and the pod does not tolerate it."),
                format!("Nodes tainted {key} accept only pods that tolerate the taint. Add a toleration to {wl} if it should run there, or remove the taint from nodes that should take general workloads."),
                vec![
                    "kubectl get nodes -o custom-columns=NAME:.metadata.name,TAINTS:.spec.taints".into(),
                    format!("kubectl taint nodes <node> {key}-   # only if the taint is not wanted"),
                    describe.clone(),
                ],
            )
        }
        Class::Affinity => {
            let sel = pod.pointer("/spec/nodeSelector").map(|v| v.to_string()).unwrap_or_else(|| "none".into());
            evidence.push(ev(&pref, "spec.nodeSelector", sel));
            if let Some(a) = pod.pointer("/spec/affinity/nodeAffinity") {
                evidence.push(ev(&pref, "spec.affinity.nodeAffinity", a.to_string()));
            }
            (
                own_severity,
                0.9,
                format!("{ns}/{pod_name} stays Pending: no node matches its node selector / node affinity."),
                "The pod asks for node labels no schedulable node has. Fix the selector (a typo, a label never applied) or label the nodes meant for it.".into(),
                vec!["kubectl get nodes --show-labels".into(), format!("kubectl label node <node> <key>=<value>"), describe.clone()],
            )
        }
        Class::PodAffinity => (
            own_severity,
            0.85,
            format!("{ns}/{pod_name} stays Pending: its pod (anti-)affinity rules leave no node (e.g. more replicas than nodes with required anti-affinity)."),
            "Required pod anti-affinity allows one replica per topology domain: more replicas than domains stay Pending. Use preferred anti-affinity or topologySpreadConstraints, or add nodes.".into(),
            vec![format!("kubectl -n {ns} get {wl} -o jsonpath='{{.spec.template.spec.affinity}}'"), describe.clone()],
        ),
        Class::Cordoned => (
            own_severity,
            0.85,
            format!("{ns}/{pod_name} stays Pending: the nodes that could run it are cordoned (unschedulable)."),
            "Cordoned nodes take no new pods. Uncordon them when their maintenance is over.".into(),
            vec!["kubectl get nodes".into(), "kubectl uncordon <node>".into()],
        ),
        Class::Elsewhere(code, why) => {
            // The claims the pod mounts, with their phase (the storage playbooks take it from there).
            for v in pod
                .pointer("/spec/volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let claim = s(v, "/persistentVolumeClaim/claimName");
                if claim.is_empty() {
                    continue;
                }
                let phase = r
                    .objects(&pvcs())
                    .iter()
                    .find(|c| namespace(c) == ns && name(c) == claim)
                    .map(|c| s(c, "/status/phase").to_string())
                    .unwrap_or_else(|| "not found".into());
                evidence.push(ev(
                    format!("PersistentVolumeClaim/{ns}/{claim}"),
                    "status.phase",
                    phase,
                ));
            }
            ruled_out.push(format!("Not a capacity or manifest problem of {wl}: the scheduler's reason points at {code}."));
            (
                FindingSeverity::Info,
                0.5,
                format!("{ns}/{pod_name} stays Pending because {why}: see {code}."),
                format!("The Pending pod is a symptom; {code} diagnoses the cause."),
                vec![describe.clone()],
            )
        }
        Class::ControlPlaneTaint | Class::Other(_) => (
            FindingSeverity::Warning,
            0.6,
            format!("{ns}/{pod_name} stays Pending: {msg}"),
            "Read the scheduler's reasons per node in the FailedScheduling event.".into(),
            vec![describe.clone(), format!("kubectl get events -n {ns} --field-selector reason=FailedScheduling")],
        ),
    };
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
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    const MSG: &str = "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.";

    fn now() -> DateTime<Utc> {
        super::super::common::parse_time("2026-01-15T10:00:00Z").unwrap_or_default()
    }

    fn pending(msg: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": "search-h-1", "creationTimestamp": "2026-01-15T09:50:00Z"},
            "spec": {"containers": [{"name": "search", "resources": {"requests": {"cpu": "8", "memory": "16Gi"}}}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg}]}})
    }

    fn results(pods: Vec<Value>) -> Results {
        let node = json!({"kind": "Node", "metadata": {"name": "worker-1"}, "status": {"allocatable": {"cpu": "8", "memory": "32760676Ki"}}});
        let running = json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": "cart-1"}, "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "resources": {"requests": {"cpu": "250m"}}}]}, "status": {"phase": "Running"}});
        let mut all = pods;
        all.push(running);
        let mut r = Results::default();
        r.by_query.insert(pods_all(), Outcome::Objects(all));
        r.by_query.insert(events_all(), Outcome::Objects(vec![]));
        r.by_query.insert(nodes(), Outcome::Objects(vec![node]));
        r
    }

    #[test]
    fn insufficient_cpu_shows_requests_against_free_capacity() {
        assert_eq!(
            reasons(MSG),
            vec![
                (3, "Insufficient cpu".to_string()),
                (
                    3,
                    "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
                        .to_string()
                )
            ]
        );
        let f = diagnose(&results(vec![pending(MSG)]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("free cpu"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "Node/worker-1" && e.value == "8000m / 250m (free 7750m)"),
            "{:#?}",
            f.evidence
        );
        assert!(f.ruled_out.iter().any(|r| r.contains("control-plane")));
    }

    #[test]
    fn a_broken_node_explains_the_pod_even_when_others_are_full() {
        let m = "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}, 2 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are available: 2 No preemption victims found for incoming pod, 4 Preemption is not helpful for scheduling.";
        let f = diagnose(&results(vec![pending(m)]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        assert!(f.summary.contains("CL-02"), "{}", f.summary);
        let m =
            "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded";
        let mut p = pending(m);
        p["status"]["conditions"][0]["reason"] = json!("SchedulerError");
        let f = diagnose(&results(vec![p]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        assert!(f.summary.contains("ST-02"), "{}", f.summary);
    }

    #[test]
    fn unbound_pvcs_are_left_to_storage() {
        let m = "0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.";
        assert_eq!(
            reasons(m),
            vec![(
                6,
                "pod has unbound immediate PersistentVolumeClaims".to_string()
            )]
        );
        let f = diagnose(&results(vec![pending(m)]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        assert!(f.summary.contains("ST-01"), "{}", f.summary);
    }

    #[test]
    fn the_not_ready_taint_is_left_to_net_01() {
        let m = "0/3 nodes are available: 3 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
        let f = diagnose(&results(vec![pending(m)]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
        assert!(f.summary.contains("NET-01"), "{}", f.summary);
    }

    #[test]
    fn fresh_or_scheduled_pods_are_not_reported() {
        let mut fresh = pending(MSG);
        fresh["metadata"]["creationTimestamp"] = json!("2026-01-15T09:59:50Z");
        assert!(diagnose(&results(vec![fresh]), now()).is_none());
        assert!(diagnose(&results(vec![]), now()).is_none());
        assert_eq!(quantity("32760676Ki", false), Some(32760676.0 * 1024.0));
        assert_eq!(quantity("250m", true), Some(250.0));
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(MSG);
        assert_eq!(r.first().map(|x| x.0.id), Some("pending-unschedulable"));
    }
}
