//! WL-09 `apparmor-seccomp-blocked`: pods the kubelet refuses because the AppArmor (or
//! seccomp) profile they ask for cannot be enforced on their node: status `Failed` with
//! reason `AppArmor` ("Cannot enforce AppArmor: AppArmor is not enabled on the host"), or a
//! container stuck in `CreateContainerError` whose message names apparmor_parser, an
//! AppArmor profile or a seccomp profile. The API shows which nodes refuse and which profile
//! is asked for; the node shows why (AppArmor disabled at boot, profile not loaded, seccomp
//! file missing), so the fix says what to run there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    container_statuses, ev, events_all, events_for, name, name_of, nodes, ns_of, pod_detail,
    pod_get, pod_ref, pods_all, s, st, waiting_message, waiting_reason, workload_arg,
};
use crate::cluster::lean::Pod;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "apparmor-seccomp-blocked",
    code: "WL-09",
    title: "AppArmor or seccomp profile blocks the pod",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["cannot enforce apparmor"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["apparmor is not enabled on the host"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["createcontainererror", "apparmor"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["apparmor_parser"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["apparmor profile", "not found"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["seccomp", "profile"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["apparmor"],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all(), nodes()];
    // The first blocked pod in full: the profiles its security contexts ask for.
    let found: Vec<Blocked> = r.pods().iter().filter_map(|p| blocked(p)).collect();
    if let Some(b) = first(&found) {
        out.push(pod_get(ns_of(b.pod), name_of(b.pod)));
    }
    out
}

/// The blocked pod a finding is about: the first of the most telling kind.
fn first<'a, 'b>(found: &'b [Blocked<'a>]) -> Option<&'b Blocked<'a>> {
    let kind = found.iter().map(|b| b.kind).min()?;
    found.iter().find(|b| b.kind == kind)
}

/// What kind of refusal a pod shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Block {
    /// Rejected at admission: AppArmor not enabled on the host (or not supported).
    AppArmorHost,
    /// The runtime could not apply the AppArmor profile (not loaded on the node).
    AppArmorProfile,
    /// The runtime could not load the seccomp profile.
    Seccomp,
}

struct Blocked<'a> {
    pod: &'a Pod,
    kind: Block,
    field: String,
    message: String,
}

fn blocked(pod: &Pod) -> Option<Blocked<'_>> {
    let reason = st(&pod.status.reason);
    let message = st(&pod.status.message);
    if reason == "AppArmor"
        || (st(&pod.status.phase) == "Failed" && message.contains("Cannot enforce AppArmor"))
    {
        return Some(Blocked {
            pod,
            kind: Block::AppArmorHost,
            field: "status.reason/status.message".into(),
            message: format!("reason={reason}: {message}"),
        });
    }
    for cs in container_statuses(pod) {
        let w = waiting_reason(cs);
        if !matches!(
            w,
            "CreateContainerError" | "RunContainerError" | "CreateContainerConfigError"
        ) {
            continue;
        }
        let m = waiting_message(cs);
        let lower = m.to_lowercase();
        let kind = if lower.contains("apparmor") {
            Block::AppArmorProfile
        } else if lower.contains("seccomp") {
            Block::Seccomp
        } else {
            continue;
        };
        return Some(Blocked {
            pod,
            kind,
            field: format!("status.containerStatuses[{}].state.waiting", cs.name),
            message: format!("{w}: {m}"),
        });
    }
    None
}

/// The AppArmor / seccomp profile a pod (read in full) asks for, as `(where, value)`.
fn profiles(pod: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(a) = pod
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in a {
            if k.starts_with("container.apparmor.security.beta.kubernetes.io/")
                || k.starts_with("seccomp.security.alpha.kubernetes.io/")
            {
                out.push((
                    format!("metadata.annotations[{k}]"),
                    v.as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    let show = |p: &Value| {
        let t = s(p, "/type");
        match s(p, "/localhostProfile") {
            "" => t.to_string(),
            l => format!("{t} ({l})"),
        }
    };
    for key in ["appArmorProfile", "seccompProfile"] {
        if let Some(p) = pod.pointer(&format!("/spec/securityContext/{key}")) {
            out.push((format!("spec.securityContext.{key}"), show(p)));
        }
        for c in pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(p) = c.pointer(&format!("/securityContext/{key}")) {
                out.push((
                    format!("spec.containers[{}].securityContext.{key}", s(c, "/name")),
                    show(p),
                ));
            }
        }
    }
    out
}

/// The Localhost profile name a pod asks for, if any.
fn localhost_profile(pod: &Value) -> Option<String> {
    profiles(pod).into_iter().find_map(|(_, v)| {
        v.strip_prefix("localhost/")
            .map(str::to_string)
            .or_else(|| {
                v.strip_prefix("Localhost (")
                    .and_then(|x| x.strip_suffix(')'))
                    .map(str::to_string)
            })
    })
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let events = r.events();
    let node_objs = r.objects(&nodes());
    let found: Vec<Blocked> = pods.iter().filter_map(|p| blocked(p)).collect();
    let first = first(&found)?;
    let kind = first.kind;
    let mut by_node: BTreeMap<&str, Vec<&Blocked>> = BTreeMap::new();
    for b in &found {
        by_node
            .entry(st(&b.pod.spec.node_name))
            .or_default()
            .push(b);
    }
    let (ns, pod_name) = (ns_of(first.pod), name_of(first.pod));
    let full = pod_detail(r, ns, pod_name).unwrap_or(&Value::Null);
    let wl = workload_arg(first.pod);
    let mut evidence: Vec<Evidence> = Vec::new();
    for b in found.iter().take(4) {
        evidence.push(ev(
            pod_ref(ns_of(b.pod), name_of(b.pod)),
            b.field.clone(),
            b.message.clone(),
        ));
    }
    if found.len() > 4 {
        evidence.push(ev(
            "Pod",
            "more blocked pods",
            format!("{} more", found.len() - 4),
        ));
    }
    for (field, value) in profiles(full) {
        evidence.push(ev(pod_ref(ns, pod_name), field, value));
    }
    for (node, list) in &by_node {
        let info = node_objs
            .iter()
            .find(|n| name(n) == *node)
            .map(|n| {
                format!(
                    "{}, kernel {}, {}",
                    s(n, "/status/nodeInfo/osImage"),
                    s(n, "/status/nodeInfo/kernelVersion"),
                    s(n, "/status/nodeInfo/containerRuntimeVersion")
                )
            })
            .unwrap_or_default();
        evidence.push(ev(
            format!("Node/{node}"),
            "blocked pods on this node",
            format!("{} ({info})", list.len()),
        ));
    }
    if let Some(e) = events_for(events, "Pod", ns, pod_name)
        .into_iter()
        .find(|e| st(&e.type_) == "Warning")
    {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(e)),
            st(&e.reason),
            st(&e.message),
        ));
    }
    // The same workload running elsewhere proves the profile works on other nodes.
    let owner = workload_arg(first.pod);
    let healthy_elsewhere: Vec<&str> = pods
        .iter()
        .filter(|p| ns_of(&***p) == ns && workload_arg(p) == owner && blocked(p).is_none())
        .filter(|p| st(&p.status.phase) == "Running")
        .map(|p| st(&p.spec.node_name))
        .filter(|n| !by_node.contains_key(n))
        .collect();
    if !healthy_elsewhere.is_empty() {
        evidence.push(ev(
            format!("{owner} in {ns}"),
            "running on",
            healthy_elsewhere.join(", "),
        ));
    }
    let node_list: Vec<&str> = by_node.keys().copied().collect();
    let nodes_txt = node_list.join(", ");
    let profile = localhost_profile(full);
    let mut commands = Vec::new();
    let (summary, explanation, confidence);
    let mut ruled_out = Vec::new();
    match kind {
        Block::AppArmorHost => {
            summary = format!(
                "The kubelet on {nodes_txt} rejects {} pod(s) of {ns}/{} because they ask for an AppArmor profile and AppArmor is not enabled on that host.",
                found.len(),
                wl.split('/').nth(1).unwrap_or(pod_name)
            );
            explanation = format!(
                "AppArmor is disabled in the kernel of {nodes_txt} (booted with apparmor=0, the apparmor service masked, or a distribution without AppArmor), so the kubelet refuses any pod whose profile is not Unconfined and marks it Failed. On the node, `/sys/module/apparmor/parameters/enabled` must print Y and `aa-status` must list the profile; if it prints N, remove apparmor=0 from the kernel command line, enable the service and reboot. Until then, keep the pods off the node (cordon) or set the profile to Unconfined for this workload. Delete the Failed pods afterwards; they are not retried."
            );
            for n in &node_list {
                commands.push(format!("# on {n}:"));
                commands.push("cat /sys/module/apparmor/parameters/enabled   # Y = enabled, N or no such file = disabled".into());
                commands.push("grep -o 'apparmor=[01]\\|security=[a-z,]*' /proc/cmdline   # apparmor=0 disables it at boot".into());
                commands
                    .push("sudo systemctl enable --now apparmor && sudo aa-status | head".into());
                commands.push("# remove apparmor=0 from GRUB_CMDLINE_LINUX in /etc/default/grub, then: sudo update-grub && sudo reboot".into());
                if let Some(p) = &profile {
                    commands.push(format!("sudo apparmor_parser -r -W /etc/apparmor.d/{p}"));
                }
                commands.push(format!("kubectl cordon {n}   # until AppArmor is back"));
            }
            commands.push(format!(
                "kubectl delete pod -n {ns} --field-selector=status.phase=Failed"
            ));
            ruled_out.push("Not a missing profile on an AppArmor-enabled node: the kubelet reports that AppArmor itself is not enabled on the host.".into());
            ruled_out.push("Not a scheduling or image problem: the pods were scheduled and rejected by the node's admission before any container was created.".into());
            confidence = 0.95;
        }
        Block::AppArmorProfile => {
            let p = profile.clone().unwrap_or_else(|| "<profile>".into());
            summary = format!(
                "Containers of {ns}/{pod_name} cannot be created on {nodes_txt}: the AppArmor profile {p} they ask for is not loaded there."
            );
            explanation = format!(
                "The runtime asks the kernel for AppArmor profile {p} and the node does not have it loaded (or apparmor_parser failed). Load the profile on every node that may run the pod (a DaemonSet or your node provisioning usually does it), or use RuntimeDefault."
            );
            for n in &node_list {
                commands.push(format!("# on {n}:"));
                commands.push(format!(
                    "sudo aa-status | grep {p}   # no line = not loaded"
                ));
                commands.push(format!("sudo apparmor_parser -r -W /etc/apparmor.d/{p}"));
            }
            commands.push(format!(
                "kubectl -n {ns} patch {wl} --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/template/spec/securityContext/appArmorProfile\",\"value\":{{\"type\":\"RuntimeDefault\"}}}}]'   # or keep Localhost once loaded"
            ));
            ruled_out.push("Not AppArmor disabled on the host: the kubelet admitted the pod; the runtime failed on the profile itself.".into());
            confidence = 0.85;
        }
        Block::Seccomp => {
            summary = format!(
                "Containers of {ns}/{pod_name} cannot be created on {nodes_txt}: the seccomp profile they ask for cannot be loaded there."
            );
            explanation = "A Localhost seccomp profile is read from the kubelet's seccomp directory (/var/lib/kubelet/seccomp/) of the node; the file is missing or invalid. Copy the profile to every node, or use RuntimeDefault.".into();
            for n in &node_list {
                commands.push(format!("# on {n}:"));
                commands.push(
                    "ls -l /var/lib/kubelet/seccomp/ /var/lib/kubelet/seccomp/profiles/".into(),
                );
            }
            commands.push(format!(
                "kubectl -n {ns} get {wl} -o yaml | grep -A3 seccompProfile"
            ));
            ruled_out.push("Not AppArmor: the runtime error names the seccomp profile.".into());
            confidence = 0.8;
        }
    }
    if !healthy_elsewhere.is_empty() {
        ruled_out.push(format!(
            "Not a broken profile in the manifest: the same {owner} runs on {} with it.",
            healthy_elsewhere.join(", ")
        ));
    }
    Some(Finding {
        severity: FindingSeverity::Critical,
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
    use super::super::common::testing::{answer_gets, set_events, set_pods};
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn results(pods: Vec<Value>) -> Results {
        let mut r = Results::default();
        set_pods(&mut r, &pods);
        set_events(&mut r, &[]);
        r.by_query.insert(nodes(), Outcome::Objects(vec![json!({"kind": "Node", "metadata": {"name": "worker-3"}, "status": {"nodeInfo": {"osImage": "RHEL 9.4", "kernelVersion": "5.14.0"}}})]));
        let next = queries(&r);
        answer_gets(&mut r, next, &pods);
        r
    }

    fn pod(name: &str, node: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": name, "labels": {"pod-template-hash": "h1"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "frontend-h1", "controller": true}]},
            "spec": {"nodeName": node, "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "frontend"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "frontend", "ready": true, "state": {"running": {}}}]}})
    }

    #[test]
    fn rejected_pods_name_the_node_and_what_to_run_there() {
        let mut bad = pod("frontend-h1-a", "worker-3");
        bad["status"] = json!({"phase": "Failed", "reason": "AppArmor", "message": "Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host"});
        let f = diagnose(
            &results(vec![bad, pod("frontend-h1-b", "worker-1")]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("worker-3") && f.summary.contains("frontend"),
            "{}",
            f.summary
        );
        assert!(f.fix.commands.iter().any(|c| c == "# on worker-3:"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("AppArmor is not enabled on the host"))
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field.contains("appArmorProfile") && e.value == "RuntimeDefault")
        );
        assert!(
            f.ruled_out.iter().any(|r| r.contains("worker-1")),
            "{:#?}",
            f.ruled_out
        );
    }

    #[test]
    fn a_missing_localhost_profile_is_a_create_container_error() {
        let mut bad = pod("frontend-h1-a", "worker-2");
        bad["spec"]["securityContext"] =
            json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "k8s-deny-write"}});
        bad["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "CreateContainerError", "message": "failed to generate apparmor spec opts: apparmor profile not found k8s-deny-write"}});
        let f = diagnose(&results(vec![bad]), Utc::now()).unwrap();
        assert!(f.summary.contains("k8s-deny-write"), "{}", f.summary);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("apparmor_parser -r -W /etc/apparmor.d/k8s-deny-write"))
        );
    }

    #[test]
    fn running_pods_with_profiles_and_other_errors_are_not_blocked() {
        let mut other = pod("x", "worker-1");
        other["status"]["containerStatuses"][0]["state"] = json!({"waiting": {"reason": "CreateContainerError", "message": "failed to create containerd container: no such file"}});
        assert!(diagnose(&results(vec![pod("a", "worker-1"), other]), Utc::now()).is_none());
    }

    #[test]
    fn the_seed_text_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Cannot enforce AppArmor: AppArmor is not enabled on the host",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("apparmor-seccomp-blocked"));
    }
}
