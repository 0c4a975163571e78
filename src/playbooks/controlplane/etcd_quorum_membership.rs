//! CP-03 etcd-quorum-membership: counts the stacked etcd members (from the mirror pods'
//! `--initial-cluster`) against those Running and Ready on Ready nodes. Below quorum
//! (n/2+1) the cluster is read-only or down; at exactly quorum one more failure takes it down;
//! an even count adds a failure point without adding tolerance; a member listed without a
//! pod still counts toward quorum.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{self, ev, flag, nodes_query, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "etcd-quorum-membership",
    code: "CP-03",
    title: "etcd quorum and membership",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["etcdserver: leader changed"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["etcdserver: no leader"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["etcd cluster is unavailable or misconfigured"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["has already been removed"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["etcd", "quorum"],
            weight: 0.8,
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

fn apiservers_query() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-apiserver"),
        None,
    )
}

fn etcd_log_query(pod: &str, previous: bool) -> Query {
    q::logs("kube-system", pod, Some("etcd"), previous, Some(50))
}

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![etcd_query(), apiservers_query(), nodes_query()];
    for p in results.objects(&etcd_query()) {
        if !common::running_ready(p) {
            out.push(etcd_log_query(common::name(p), common::restarts(p) > 0));
        }
    }
    out
}

/// Member names with their peer URLs from `--initial-cluster` (`cp-1=https://10.0.0.11:2380`).
fn initial_cluster(pod: &Value) -> Vec<(String, String)> {
    flag(pod, "initial-cluster")
        .unwrap_or_default()
        .split(',')
        .filter_map(|m| m.split_once('='))
        .map(|(n, u)| (n.trim().to_string(), u.trim().to_string()))
        .collect()
}

/// Whether the node still reports: a Ready condition of `Unknown` means the kubelet stopped
/// posting status, so its pods' status is stale. (Ready=False for other reasons — no CNI,
/// pressure — does not stop host-network static pods like etcd.)
fn node_reporting(nodes: &[Value], name: &str) -> bool {
    nodes
        .iter()
        .find(|n| common::name(n) == name)
        .and_then(|n| n.pointer("/status/conditions").and_then(Value::as_array))
        .is_none_or(|cs| {
            !cs.iter()
                .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "Unknown")
        })
}

/// Why a pod is not serving: waiting reason, or readiness.
fn pod_state(p: &Value) -> String {
    let st = p.pointer("/status/containerStatuses/0");
    let waiting = st
        .map(|c| s(c, "/state/waiting/reason"))
        .unwrap_or_default();
    let last = st
        .map(|c| {
            format!(
                "{} (exit {})",
                s(c, "/lastState/terminated/reason"),
                c.pointer("/lastState/terminated/exitCode")
                    .and_then(Value::as_i64)
                    .unwrap_or(0)
            )
        })
        .unwrap_or_default();
    if !waiting.is_empty() {
        format!(
            "{waiting}, restarts {}, last termination {last}",
            common::restarts(p)
        )
    } else {
        format!(
            "phase {}, ready {}, restarts {}",
            s(p, "/status/phase"),
            common::running_ready(p),
            common::restarts(p)
        )
    }
}

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = results.objects(&etcd_query());
    if pods.is_empty() {
        // External or managed etcd: membership is not visible through the API.
        return None;
    }
    let nodes = results.objects(&nodes_query());
    let mut members: BTreeSet<String> = BTreeSet::new();
    for p in pods {
        for (n, _) in initial_cluster(p) {
            members.insert(n);
        }
        if let Some(n) = flag(p, "name") {
            members.insert(n);
        }
    }
    let member_of = |p: &Value| flag(p, "name").unwrap_or_else(|| common::node_of(p).to_string());
    let healthy: Vec<&Value> = pods
        .iter()
        .filter(|p| common::running_ready(p) && node_reporting(nodes, common::node_of(p)))
        .collect();
    let unhealthy: Vec<&Value> = pods
        .iter()
        .filter(|p| !healthy.iter().any(|h| common::name(h) == common::name(p)))
        .collect();
    let without_pod: Vec<&String> = members
        .iter()
        .filter(|m| !pods.iter().any(|p| member_of(p) == **m))
        .collect();
    let m = members.len().max(pods.len());
    let h = healthy.len();
    let quorum = m / 2 + 1;

    let mut evidence = vec![ev(
        "Pod/kube-system (component=etcd)",
        "--initial-cluster members",
        format!(
            "{m} members ({}); {h} Running and Ready; quorum {quorum}",
            members.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    )];
    for p in &unhealthy {
        evidence.push(ev(obj(p), "status", pod_state(p)));
        if !node_reporting(nodes, common::node_of(p)) {
            evidence.push(ev(
                format!("Node/{}", common::node_of(p)),
                "status.conditions[Ready]",
                "Unknown: the kubelet stopped posting status, the pod's status is stale",
            ));
        }
        for previous in [true, false] {
            let text = results
                .text(&etcd_log_query(common::name(p), previous))
                .unwrap_or_default();
            let bad = text.lines().rev().find(|l| {
                l.contains("\"level\":\"fatal\"")
                    || l.contains("\"level\":\"panic\"")
                    || l.contains("\"level\":\"error\"")
            });
            if let Some(line) = bad {
                let field = if previous {
                    "log[etcd] (previous)"
                } else {
                    "log[etcd]"
                };
                evidence.push(ev(obj(p), field, line.trim_end()));
                break;
            }
        }
    }
    for w in &without_pod {
        evidence.push(ev(
            format!("etcd member {w}"),
            "--initial-cluster",
            "listed as a member, but no etcd pod runs under that name: it still counts toward quorum",
        ));
    }

    let mut problems: Vec<String> = Vec::new();
    let (mut severity, mut confidence) = (FindingSeverity::Info, 0.0f32);
    let mut raise = |sev: FindingSeverity, conf: f32| {
        if sev > severity || (sev == severity && conf > confidence) {
            severity = sev;
            confidence = conf;
        }
    };
    if h < quorum {
        problems.push(format!(
            "only {h} of {m} etcd members are up, below the quorum of {quorum}: etcd refuses writes and the API server fails"
        ));
        raise(FindingSeverity::Critical, 0.96);
    } else if h < m {
        let tolerance = h - quorum;
        problems.push(format!(
            "{} of {m} etcd members {} down ({}); {h} keep quorum {quorum}{}",
            m - h,
            if m - h == 1 { "is" } else { "are" },
            unhealthy
                .iter()
                .map(|p| common::name(p))
                .chain(without_pod.iter().map(|s| s.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            if tolerance == 0 {
                " — one more failure and the whole control plane stops".to_string()
            } else {
                format!(", tolerating {tolerance} more failure(s)")
            }
        ));
        raise(
            if tolerance == 0 {
                FindingSeverity::Critical
            } else {
                FindingSeverity::Warning
            },
            if unhealthy.is_empty() { 0.8 } else { 0.95 },
        );
    }
    if m.is_multiple_of(2) {
        problems.push(format!(
            "the member count is even ({m}): it tolerates {} failure(s), no more than {} members would",
            (m - 1) / 2,
            m - 1
        ));
        raise(FindingSeverity::Warning, 0.7);
    }
    if problems.is_empty() {
        return None;
    }

    let cp_nodes: Vec<&str> = healthy.iter().map(|p| common::node_of(p)).collect();
    let probe_node = cp_nodes.first().copied().unwrap_or("a control-plane node");
    let etcdctl = "sudo crictl exec $(sudo crictl ps --name etcd -q) etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/server.crt --key /etc/kubernetes/pki/etcd/server.key";
    let mut commands = vec![
        "kubectl get pods -n kube-system -l component=etcd -o wide".to_string(),
        format!("# on {probe_node}: the membership and health as etcd sees it"),
        format!("{etcdctl} member list -w table"),
        format!("{etcdctl} endpoint health --cluster -w table"),
        "# healthy: every member `started` and every endpoint `true`; a member that is listed but unhealthy is the one to repair".into(),
    ];
    for p in &unhealthy {
        let node = common::node_of(p);
        commands.push(format!(
            "kubectl logs -n kube-system {} --previous --tail 30",
            common::name(p)
        ));
        commands.push(format!(
            "# if {node}'s member cannot recover (corrupt WAL/data dir): remove it on {probe_node}, then rejoin {node}"
        ));
        commands.push(format!(
            "{etcdctl} member remove $({etcdctl} member list | awk -F', ' '$3==\"{}\" {{print $1}}')",
            member_of(p)
        ));
        commands.push(format!(
            "# on {node}: sudo kubeadm reset -f && sudo rm -rf /var/lib/etcd, then run `kubeadm join ... --control-plane --certificate-key ...` (print it on {probe_node} with `kubeadm token create --print-join-command` and `kubeadm init phase upload-certs --upload-certs`)"
        ));
    }
    for w in &without_pod {
        commands.push(format!(
            "# member {w} has no pod: if that node is gone for good, remove it so it stops counting toward quorum"
        ));
        commands.push(format!(
            "{etcdctl} member remove $({etcdctl} member list | awk -F', ' '$3==\"{w}\" {{print $1}}')"
        ));
    }
    let summary = format!("etcd is at risk: {}.", problems.join("; "));
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not an API server problem alone: the count is taken from the etcd pods themselves and their --initial-cluster.".into(),
            "The member list here comes from the manifests; `etcdctl member list` on a node (API+) confirms it — a member added or removed by hand would differ.".into(),
        ],
        fix: Fix {
            explanation: format!(
                "etcd needs a majority (quorum {quorum} of {m}) to accept writes. Repair or replace the missing member(s) one at a time: read its log (a corrupt WAL or data dir will not heal), remove it with `etcdctl member remove` from a healthy member, wipe and re-join the node with `kubeadm join --control-plane`. Keep an odd number of members (3 or 5) spread over zones. Check `member list` and `endpoint health` after each step."
            ),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn etcd(node: &str, members: &[&str], ready: bool) -> Value {
        let ic: Vec<String> = members
            .iter()
            .map(|m| format!("{m}=https://{m}:2380"))
            .collect();
        let st = if ready { "True" } else { "False" };
        json!({"kind": "Pod", "metadata": {"name": format!("etcd-{node}"), "namespace": "kube-system", "labels": {"component": "etcd"}},
            "spec": {"nodeName": node, "containers": [{"name": "etcd", "command": ["etcd", format!("--name={node}"), format!("--initial-cluster={}", ic.join(","))]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": st}], "containerStatuses": [{"name": "etcd", "restartCount": if ready {0} else {9},
                "state": if ready { json!({"running": {}}) } else { json!({"waiting": {"reason": "CrashLoopBackOff"}}) }}]}})
    }

    fn results(pods: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(etcd_query(), Outcome::Objects(pods));
        r
    }

    #[test]
    fn three_healthy_members_are_fine() {
        let all = ["cp-1", "cp-2", "cp-3"];
        let pods = vec![
            etcd("cp-1", &all[..1], true),
            etcd("cp-2", &all[..2], true),
            etcd("cp-3", &all, true),
        ];
        assert!(diagnose(&results(pods), Utc::now()).is_none());
    }

    #[test]
    fn one_of_three_down_is_critical_with_zero_tolerance() {
        let all = ["cp-1", "cp-2", "cp-3"];
        let pods = vec![
            etcd("cp-1", &all[..1], true),
            etcd("cp-2", &all[..2], true),
            etcd("cp-3", &all, false),
        ];
        let f = diagnose(&results(pods), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary
                .contains("1 of 3 etcd members is down (etcd-cp-3)")
        );
        assert!(f.summary.contains("one more failure"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("member remove") && c.contains("\"cp-3\""))
        );
    }

    #[test]
    fn two_of_three_down_loses_quorum() {
        let all = ["cp-1", "cp-2", "cp-3"];
        let pods = vec![
            etcd("cp-1", &all[..1], true),
            etcd("cp-2", &all[..2], false),
            etcd("cp-3", &all, false),
        ];
        let f = diagnose(&results(pods), Utc::now()).unwrap();
        assert!(f.summary.contains("below the quorum of 2"));
    }

    #[test]
    fn a_node_not_ready_for_lack_of_cni_does_not_stop_etcd() {
        let all = ["cp-1", "cp-2", "cp-3"];
        let pods = vec![
            etcd("cp-1", &all[..1], true),
            etcd("cp-2", &all[..2], true),
            etcd("cp-3", &all, true),
        ];
        let mut r = results(pods);
        let node = |n: &str, st: &str| json!({"kind": "Node", "metadata": {"name": n}, "status": {"conditions": [{"type": "Ready", "status": st, "reason": "KubeletNotReady"}]}});
        r.by_query.insert(
            nodes_query(),
            Outcome::Objects(vec![
                node("cp-1", "False"),
                node("cp-2", "False"),
                node("cp-3", "False"),
            ]),
        );
        assert!(diagnose(&r, Utc::now()).is_none());
        r.by_query.insert(
            nodes_query(),
            Outcome::Objects(vec![
                node("cp-1", "True"),
                node("cp-2", "True"),
                node("cp-3", "Unknown"),
            ]),
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert!(f.evidence.iter().any(|e| e.object == "Node/cp-3"));
    }

    #[test]
    fn a_listed_member_without_a_pod_counts() {
        let all = ["cp-1", "cp-2", "cp-3", "cp-4"];
        let pods = vec![
            etcd("cp-1", &all, true),
            etcd("cp-2", &all, true),
            etcd("cp-3", &all, true),
        ];
        let f = diagnose(&results(pods), Utc::now()).unwrap();
        assert!(f.summary.contains("even (4)"));
        assert!(f.evidence.iter().any(|e| e.object == "etcd member cp-4"));
    }
}
