//! NET-07 `ipv6-disabled-cni-sandbox`: pods stuck in ContainerCreating because the CNI
//! plugin writes an IPv6 sysctl (`/proc/sys/net/ipv6/conf/eth0/accept_dad`) on a node booted
//! with `ipv6.disable=1`, where that tree does not exist. Read from the kubelet's
//! `FailedCreatePodSandBox` events, grouped by node.

use std::collections::{BTreeMap, BTreeSet};

use super::util::{
    Event, MetaExt, Pod, ev, event_obj, name, obj, phase, pod_obj, s, waiting_reason,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};
use chrono::{DateTime, Utc};

pub static PLAYBOOK: Playbook = Playbook {
    id: "ipv6-disabled-cni-sandbox",
    code: "NET-07",
    title: "IPv6 disabled on the host breaks the CNI's pod sandbox setup",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &[
                "/proc/sys/net/ipv6/conf",
                "accept_dad",
                "no such file or directory",
            ],
            weight: 0.97,
        },
        Symptom {
            all_of: &["/proc/sys/net/ipv6/", "no such file"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failedcreatepodsandbox", "ipv6"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["ipv6", "disabled", "kubeadm"],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

fn q_events() -> Query {
    q::watched(Watched::Events)
}
fn q_pods() -> Query {
    q::watched(Watched::Pods)
}
fn q_nodes() -> Query {
    q::core("nodes", None)
}

fn queries(_: &Results) -> Vec<Query> {
    vec![q_events(), q_pods(), q_nodes()]
}

/// The message says the CNI could not open an IPv6 sysctl because the tree is absent.
fn is_ipv6_sysctl_error(msg: &str) -> bool {
    msg.contains("/proc/sys/net/ipv6/") && msg.contains("no such file or directory")
}

/// `plugin type="flannel"` → `flannel`.
fn plugin_type(msg: &str) -> Option<&str> {
    let rest = msg.split("plugin type=\"").nth(1)?;
    rest.split('"').next().filter(|t| !t.is_empty())
}

/// The sysctl path the plugin tried to open.
fn sysctl_path(msg: &str) -> &str {
    msg.find("/proc/sys/net/ipv6/")
        .map(|i| &msg[i..])
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("/proc/sys/net/ipv6/…")
}

#[derive(Default)]
struct NodeGroup<'a> {
    pods: BTreeSet<(String, String)>,
    count: i64,
    example: Option<&'a Event>,
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let events = r.events();
    let pending: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| phase(p) == "Pending")
        .collect();
    let nodes = r.objects(&q_nodes());
    let pod_node = |ns: &str, pod: &str| -> String {
        pending
            .iter()
            .find(|p| p.metadata.namespace_str() == ns && p.metadata.name_str() == pod)
            .and_then(|p| p.spec.node_name.clone())
            .unwrap_or_default()
    };
    let mut groups: BTreeMap<String, NodeGroup> = BTreeMap::new();
    for e in events.iter().filter(|e| {
        e.reason.as_deref() == Some("FailedCreatePodSandBox")
            && is_ipv6_sysctl_error(e.message.as_deref().unwrap_or_default())
    }) {
        let pod_ns = e.involved_object.namespace.as_deref().unwrap_or_default();
        let pod = e.involved_object.name.as_deref().unwrap_or_default();
        let mut node = e.source.host.clone().unwrap_or_default();
        if node.is_empty() {
            node = pod_node(pod_ns, pod);
        }
        if node.is_empty() {
            node = "(unknown node)".into();
        }
        let g = groups.entry(node).or_default();
        g.pods.insert((pod_ns.to_string(), pod.to_string()));
        g.count += e.count.map_or(1, i64::from);
        if g.example.is_none() {
            g.example = Some(e);
        }
    }
    if groups.is_empty() {
        return None;
    }
    // Pods of those nodes still waiting for their sandbox now.
    let stuck: Vec<&Pod> = pending
        .iter()
        .copied()
        .filter(|p| groups.contains_key(p.spec.node_name.as_deref().unwrap_or_default()))
        .filter(|p| {
            let key = (
                p.metadata.namespace_str().to_string(),
                p.metadata.name_str().to_string(),
            );
            groups.values().any(|g| g.pods.contains(&key))
        })
        .collect();
    let node_names: Vec<&str> = groups.keys().map(String::as_str).collect();
    let mut evidence = Vec::new();
    let mut plugin = None;
    for (node, g) in &groups {
        if let Some(e) = g.example {
            let msg = e.message.as_deref().unwrap_or_default();
            plugin = plugin.or_else(|| plugin_type(msg).map(str::to_string));
            evidence.push(ev(event_obj(e), "message", msg));
            evidence.push(ev(
                format!("Node/{node}"),
                "events[reason=FailedCreatePodSandBox]",
                format!(
                    "{} event(s) for {} pod(s): {}",
                    g.count,
                    g.pods.len(),
                    g.pods
                        .iter()
                        .map(|(ns, p)| format!("{ns}/{p}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if let Some(n) = nodes.iter().find(|n| name(n) == node) {
            evidence.push(ev(
                obj(n),
                "status.nodeInfo",
                format!(
                    "kernel {}, {}, {}",
                    s(n, "/status/nodeInfo/kernelVersion"),
                    s(n, "/status/nodeInfo/osImage"),
                    s(n, "/status/nodeInfo/containerRuntimeVersion")
                ),
            ));
        }
    }
    for p in stuck.iter().take(5) {
        let waiting = waiting_reason(p).unwrap_or("Pending");
        evidence.push(ev(
            pod_obj(p),
            "status.containerStatuses[*].state.waiting.reason",
            waiting,
        ));
    }
    let path = groups
        .values()
        .find_map(|g| g.example)
        .map(|e| sysctl_path(e.message.as_deref().unwrap_or_default()).to_string())
        .unwrap_or_default();
    let plugin = plugin.unwrap_or_else(|| "the CNI".into());
    let healthy_nodes: Vec<&str> = nodes
        .iter()
        .map(name)
        .filter(|n| !groups.contains_key(*n))
        .collect();
    let mut ruled_out = vec![
        format!(
            "CNI not installed or not ready (NET-01): the runtime did call the {plugin} plugin, which failed inside its ADD on the missing IPv6 sysctl, not on a missing CNI config."
        ),
        "IP address exhaustion or IPAM errors: the message names an IPv6 sysctl path, not an allocation failure.".to_string(),
    ];
    if !healthy_nodes.is_empty() {
        ruled_out.push(format!(
            "A cluster-wide CNI fault: no such sandbox failure on {}, so the CNI manifest is fine and the difference is on {}.",
            healthy_nodes.join(", "),
            node_names.join(", ")
        ));
    }
    let severity = if stuck.is_empty() {
        FindingSeverity::Warning
    } else {
        FindingSeverity::Critical
    };
    let confidence = if stuck.is_empty() { 0.7 } else { 0.95 };
    let mut commands = Vec::new();
    for node in &node_names {
        commands.push(format!(
            "# on {node}: was IPv6 disabled at boot? (ipv6.disable=1 in the output = yes)"
        ));
        commands.push("cat /proc/cmdline".into());
        commands.push(
            "ls /proc/sys/net/ipv6/conf/ >/dev/null && echo 'IPv6 sysctls present' || echo 'IPv6 sysctl tree missing'".into(),
        );
        commands.push(format!("# on {node}: which CNI plugin binaries are installed (old releases write IPv6 sysctls unconditionally)"));
        commands.push("ls -l /opt/cni/bin/ && /opt/cni/bin/bridge 2>&1 | head -1".into());
    }
    for node in &node_names {
        commands.push(format!(
            "kubectl drain {node} --ignore-daemonsets --delete-emptydir-data"
        ));
        commands.push(format!("# on {node}: boot with IPv6 loaded but switched off by sysctl (keeps the /proc/sys/net/ipv6 tree)"));
        commands.push(
            "sudo sed -i 's/ *ipv6.disable=1//g' /etc/default/grub && (sudo update-grub || sudo grub2-mkconfig -o /boot/grub2/grub.cfg)".into(),
        );
        commands.push(
            "printf 'net.ipv6.conf.all.disable_ipv6 = 1\\nnet.ipv6.conf.default.disable_ipv6 = 1\\n' | sudo tee /etc/sysctl.d/90-disable-ipv6.conf".into(),
        );
        commands.push("sudo reboot".into());
        commands.push(format!("kubectl uncordon {node}"));
    }
    let pods_total: usize = groups.values().map(|g| g.pods.len()).sum();
    Some(Finding {
        severity,
        confidence,
        summary: format!(
            "{} cannot set up pod sandboxes: the {plugin} CNI plugin fails with `open {path}: no such file or directory` because IPv6 is disabled at boot on {} ({pods_total} pod(s) affected).",
            node_names.join(", "),
            if node_names.len() == 1 {
                "that node"
            } else {
                "those nodes"
            },
        ),
        evidence,
        ruled_out,
        fix: Fix {
            explanation: format!(
                "On {nodes}, `cat /proc/cmdline` shows `ipv6.disable=1` and the `ls` prints `IPv6 sysctl tree missing`: /proc/sys/net/ipv6 does not exist, so every pod sandbox fails in the {plugin} plugin's ADD (`/opt/cni/bin/bridge` prints its release, `CNI bridge plugin vX.Y.Z`, on its first line). Either upgrade the CNI plugins in /opt/cni/bin to a release that skips IPv6 settings when IPv6 is absent, or (what kubeadm and the CNIs expect) boot without `ipv6.disable=1` and disable IPv6 with the `disable_ipv6` sysctls instead: the tree then exists and the plugin's write succeeds. Drain each node first; after the reboot the stuck pods' sandboxes are created and they leave ContainerCreating.",
                nodes = node_names.join(", ")
            ),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::Value;
    use serde_json::json;

    const MSG: &str = "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"4f1c\": plugin type=\"flannel\" failed (add): failed to delegate add: open /proc/sys/net/ipv6/conf/eth0/accept_dad: no such file or directory";

    fn results(events: Vec<Value>, pending: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.set_watched(Watched::Events, &events);
        r.set_watched(Watched::Pods, &pending);
        r.by_query.insert(
            q_nodes(),
            Outcome::Objects(vec![
                json!({"kind": "Node", "metadata": {"name": "worker-1"}, "status": {"nodeInfo": {"kernelVersion": "5.15"}}}),
                json!({"kind": "Node", "metadata": {"name": "worker-3"}, "status": {"nodeInfo": {"kernelVersion": "4.18.0-513.el8.x86_64"}}}),
            ]),
        );
        r
    }

    fn event(pod: &str, msg: &str) -> Value {
        json!({"kind": "Event", "metadata": {"namespace": "shop", "name": format!("{pod}.1")},
            "reason": "FailedCreatePodSandBox", "message": msg, "count": 12,
            "source": {"component": "kubelet", "host": "worker-3"},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": pod}})
    }

    fn stuck(pod: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": pod}, "spec": {"nodeName": "worker-3"},
            "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}})
    }

    #[test]
    fn ipv6_sysctl_failures_are_grouped_by_node() {
        let r = results(
            vec![event("frontend-a", MSG), event("debug", MSG)],
            vec![stuck("frontend-a"), stuck("debug")],
        );
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("worker-3"), "{}", f.summary);
        assert!(f.summary.contains("accept_dad"), "{}", f.summary);
        assert!(f.summary.contains("flannel"));
        assert!(f.summary.contains("2 pod(s)"));
        assert!(f.evidence.iter().any(|e| e.value.contains("4.18.0-513")));
        assert!(f.fix.commands.iter().any(|c| c
            == "# on worker-3: was IPv6 disabled at boot? (ipv6.disable=1 in the output = yes)"));
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c == "kubectl drain worker-3 --ignore-daemonsets --delete-emptydir-data")
        );
        assert!(f.ruled_out.iter().any(|s| s.contains("worker-1")));
    }

    #[test]
    fn other_sandbox_failures_are_not_this_cause() {
        let other = "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"9a\": plugin type=\"calico\" failed (add): error getting ClusterInformation: connection is unauthorized";
        let r = results(vec![event("frontend-a", other)], vec![stuck("frontend-a")]);
        assert!(diagnose(&r, Utc::now()).is_none());
        assert!(diagnose(&results(vec![], vec![]), Utc::now()).is_none());
    }

    #[test]
    fn past_failures_without_stuck_pods_are_only_a_warning() {
        let r = results(vec![event("frontend-a", MSG)], vec![]);
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
    }

    #[test]
    fn the_seed_text_ranks_this_playbook() {
        let text = "open /proc/sys/net/ipv6/conf/eth0/accept_dad: no such file or directory";
        let ranked = crate::playbooks::engine::rank_symptoms(text);
        assert_eq!(
            ranked.first().map(|(p, _)| p.id),
            Some("ipv6-disabled-cni-sandbox")
        );
    }
}
