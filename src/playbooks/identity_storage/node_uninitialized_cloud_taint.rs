//! CL-02 `node-uninitialized-cloud-taint`: new nodes keep the taint
//! `node.cloudprovider.kubernetes.io/uninitialized` and ordinary pods never schedule there,
//! because their kubelets run with `--cloud-provider=external` (they register tainted, with
//! the `alpha.kubernetes.io/provided-node-ip` annotation) and no cloud-controller-manager is
//! running to initialise them (set providerID, addresses, zone) and lift the taint.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Event, MetaExt, Pod, age_secs, arr, crashed, detail, ev, event_ref, event_text, human, name,
    pod_detail, pod_ref, running, s,
};
use super::loadbalancer_pending_no_cloud_provider::ccm_pods;
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
    Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "node-uninitialized-cloud-taint",
    code: "CL-02",
    title: "New nodes stay tainted uninitialized: no cloud-controller-manager",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["node.cloudprovider.kubernetes.io/uninitialized"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["cloud-provider=external"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["cloud-controller-manager"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

const TAINT: &str = "node.cloudprovider.kubernetes.io/uninitialized";

fn pods() -> Query {
    q::watched(Watched::Pods)
}
fn events() -> Query {
    q::watched(Watched::Events)
}
fn ccm_log(p: &Pod, previous: bool) -> Query {
    q::logs(
        p.metadata.namespace_str(),
        p.metadata.name_str(),
        Some(p.spec.containers.first().map_or("", |c| c.name.as_str())),
        previous,
        Some(100),
    )
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::nodes(), pods(), events()];
    for p in ccm_pods(r).into_iter().take(3) {
        out.push(ccm_log(p, false));
        if crashed(p) {
            out.push(ccm_log(p, true));
        }
    }
    // The first crashing controller read whole: its --cloud-config is in its args.
    out.extend(ccm_pods(r).into_iter().find(|p| crashed(p)).map(pod_detail));
    out
}

/// The line of a cloud-controller-manager's log that says why it fails: the last fatal
/// (`F…` klog) line, else the last error line.
fn failure_line(text: &str) -> Option<&str> {
    let fatal = |l: &&str| {
        let l = l.trim_start();
        l.starts_with('F') && l.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
    };
    let error = |l: &&str| {
        let low = l.to_lowercase();
        l.trim_start().starts_with('E')
            || low.contains("error")
            || low.contains("failed")
            || low.contains("could not")
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .rev()
        .find(|l| fatal(l))
        .or_else(|| lines.iter().rev().find(|l| error(l)))
        .map(|l| l.trim())
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    // A node joining right now carries the taint for a few seconds; one without a
    // creationTimestamp (a pasted fragment) is of unknown age, not new.
    let known_age = |n: &Value| !s(n, "/metadata/creationTimestamp").is_empty();
    let tainted: Vec<&Value> = r
        .objects(&q::nodes())
        .iter()
        .filter(|n| {
            arr(n, "/spec/taints").iter().any(|t| s(t, "/key") == TAINT)
                && (!known_age(n) || age_secs(n, now) > 120)
        })
        .collect();
    if tainted.is_empty() {
        return None;
    }
    let pods_listed = matches!(r.outcome(&pods()), Some(Outcome::Lean(_)));
    let ccm = ccm_pods(r);
    let healthy_ccm = ccm
        .iter()
        .any(|p| running(p) && p.status.container_statuses.iter().all(|c| c.ready));
    let mut evidence: Vec<Evidence> = Vec::new();
    for n in &tainted {
        evidence.push(ev(
            format!("Node/{}", name(n)),
            "spec.taints",
            if known_age(n) {
                format!("{TAINT}=true:NoSchedule, for {}", human(age_secs(n, now)))
            } else {
                format!("{TAINT}=true:NoSchedule (node age not captured)")
            },
        ));
        let provided = s(
            n,
            "/metadata/annotations/alpha.kubernetes.io~1provided-node-ip",
        );
        if !provided.is_empty() {
            evidence.push(ev(
                format!("Node/{}", name(n)),
                "metadata.annotations[alpha.kubernetes.io/provided-node-ip]",
                format!("{provided}: set by a kubelet running --cloud-provider=external"),
            ));
        }
        evidence.push(ev(
            format!("Node/{}", name(n)),
            "spec.providerID",
            if s(n, "/spec/providerID").is_empty() {
                "empty: no cloud-controller-manager initialised it".to_string()
            } else {
                s(n, "/spec/providerID").to_string()
            },
        ));
    }
    evidence.push(ev(
        "Pods",
        "cloud-controller-manager",
        if ccm.is_empty() && !pods_listed {
            "not captured (`kubectl get pods -A | grep cloud-controller`)".to_string()
        } else if ccm.is_empty() {
            "none in any namespace".to_string()
        } else {
            ccm.iter()
                .map(|p| {
                    format!(
                        "{}/{} {}",
                        p.metadata.namespace_str(),
                        p.metadata.name_str(),
                        p.status
                            .container_statuses
                            .first()
                            .and_then(|c| c.state.waiting.as_ref())
                            .and_then(|w| w.reason.as_deref())
                            .filter(|x| !x.is_empty())
                            .or(p.status.phase.as_deref())
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    // Why the cloud-controller-manager fails, in its own words (the previous container's
    // log for one that crashed).
    let mut ccm_failure: Option<String> = None;
    for p in ccm.iter().take(3) {
        for previous in [true, false] {
            if let Some(text) = r.text(&ccm_log(p, previous))
                && let Some(line) = failure_line(text)
            {
                evidence.push(ev(
                    pod_ref(p),
                    if previous { "log (previous)" } else { "log" },
                    line,
                ));
                ccm_failure.get_or_insert_with(|| line.to_string());
                break;
            }
        }
    }
    let ccm_crashing = ccm.iter().any(|p| crashed(p));
    let blocked: Vec<&Arc<Event>> = r
        .events()
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("FailedScheduling")
                && e.message.as_deref().is_some_and(|m| m.contains(TAINT))
        })
        .collect();
    for e in blocked.iter().take(3) {
        evidence.push(ev(
            event_ref(e),
            format!(
                "Pod/{}/{} event",
                e.involved_object.namespace.as_deref().unwrap_or_default(),
                e.involved_object.name.as_deref().unwrap_or_default()
            ),
            event_text(e),
        ));
    }
    let names: Vec<&str> = tainted.iter().map(|n| name(n)).collect();
    let mut commands = Vec::new();
    if let Some(p) = ccm.iter().find(|p| crashed(p)) {
        let whole = detail(r, p);
        let config = whole
            .map(|w| {
                arr(w, "/spec/containers/0/command")
                    .iter()
                    .chain(arr(w, "/spec/containers/0/args"))
            })
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|a| a.strip_prefix("--cloud-config="))
            .unwrap_or("its --cloud-config file");
        commands.push(format!(
            "kubectl -n {} logs {} --previous | tail -20   # why it exits",
            p.metadata.namespace_str(),
            p.metadata.name_str()
        ));
        commands.push(format!(
            "# on {}: fix what the log names in {config} (an auth URL the node cannot resolve or reach, credentials), then restart the controller; it initialises the nodes and removes the taint itself (do not remove the taint by hand: providerID and addresses would stay unset)",
            p.spec.node_name.as_deref().unwrap_or_default()
        ));
    }
    commands.push("# in a cloud: deploy the provider's cloud-controller-manager (it initialises the nodes and removes the taint), e.g.".to_string());
    commands.push("kubectl get pods -A -o wide | grep -i cloud-controller".into());
    for n in &names {
        commands.push(format!("# on {n} (no cloud here): drop --cloud-provider=external from the kubelet flags, restart it, lift the taint"));
        commands.push("sudo grep -n cloud-provider /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet 2>/dev/null".into());
        commands.push("sudo sed -i 's/ *--cloud-provider=external//' /var/lib/kubelet/kubeadm-flags.env && sudo systemctl restart kubelet".into());
        commands.push(format!("kubectl taint nodes {n} {TAINT}-"));
    }
    commands.push("kubectl get nodes -o custom-columns=NAME:.metadata.name,PROVIDER:.spec.providerID,TAINTS:.spec.taints[*].key".into());
    // What shows that no controller lifts the taint: pending pods naming it, a crashing
    // controller, or a pod list without any controller. A tainted node of unknown age with
    // none of those could be one that is joining right now.
    let ccm_absent = ccm.is_empty() && pods_listed;
    let shown = !blocked.is_empty() || ccm_crashing || ccm_absent;
    let aged = tainted.iter().any(|n| known_age(n));
    let (severity, confidence) = if healthy_ccm {
        (FindingSeverity::Warning, 0.6)
    } else if !blocked.is_empty() {
        (FindingSeverity::Critical, 0.94)
    } else if shown && (aged || ccm_crashing) {
        (FindingSeverity::Critical, 0.9)
    } else {
        (FindingSeverity::Warning, 0.6)
    };
    let summary = format!(
        "{} {} tainted {TAINT} ({}), so no ordinary pod is scheduled there{}: {}.",
        names.join(", "),
        if names.len() == 1 { "is" } else { "are" },
        "the kubelet registered with --cloud-provider=external",
        if blocked.is_empty() {
            String::new()
        } else {
            format!(" and {} pod(s) wait", blocked.len())
        },
        if ccm.is_empty() && !pods_listed {
            "no running cloud-controller-manager was seen (the pods were not captured)".to_string()
        } else if ccm.is_empty() {
            "no cloud-controller-manager runs to initialise the node and remove the taint"
                .to_string()
        } else if let (true, Some(line)) = (ccm_crashing, &ccm_failure) {
            format!(
                "the cloud-controller-manager crash-loops and never initialises the node: {line}"
            )
        } else if healthy_ccm {
            "the cloud-controller-manager runs but does not initialise these nodes (check its log and the nodes' cloud identity)".to_string()
        } else {
            "the cloud-controller-manager is not running".to_string()
        }
    );
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not a NotReady node (NET-01): the kubelet reports Ready; only the cloud initialisation taint keeps pods off.".into(),
            "Not resources: the scheduler names the untolerated taint, not Insufficient cpu/memory, for these nodes.".into(),
            "Not the control-plane taint: that one is expected on control-plane nodes; this taint is set only by kubelets with an external cloud provider.".into(),
        ],
        fix: Fix {
            explanation: "A kubelet started with --cloud-provider=external taints its node until a cloud-controller-manager initialises it. Either run the platform's cloud-controller-manager (with its credentials), or — on bare metal — remove the flag from the node's kubelet (kubeadm keeps it in /var/lib/kubelet/kubeadm-flags.env, or in KUBELET_EXTRA_ARGS in /etc/default/kubelet), restart the kubelet and remove the taint by hand. Reading the node output: a line with --cloud-provider=external confirms the cause; after the restart the kubelet must not add the taint again.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn results(taint: bool, ccm: Vec<Value>) -> Results {
        let mut n = json!({"metadata": {"name": "worker-3", "creationTimestamp": "2026-01-15T09:10:00Z", "annotations": {"alpha.kubernetes.io/provided-node-ip": "10.0.0.23"}}, "spec": {}});
        if taint {
            n["spec"]["taints"] = json!([{"key": TAINT, "value": "true", "effect": "NoSchedule"}]);
        }
        let mut r = Results::default();
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![n]));
        super::super::common::set_pods(&mut r, &ccm);
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e", "namespace": "shop"}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "frontend-x"}, "reason": "FailedScheduling", "message": "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}, 2 Insufficient cpu."})]);
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn tainted_node_without_ccm_is_critical_with_node_steps() {
        let f = diagnose(&results(true, vec![]), now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("worker-3"));
        assert!(
            f.fix.commands.iter().any(|c| c
                == "kubectl taint nodes worker-3 node.cloudprovider.kubernetes.io/uninitialized-")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on worker-3"))
        );
    }

    #[test]
    fn a_crash_looping_ccm_on_a_node_without_timestamps_is_found_from_its_previous_log() {
        let n = json!({"metadata": {"name": "master-1"}, "spec": {"taints": [{"key": TAINT, "value": "true", "effect": "NoSchedule"}]}});
        let ccm = json!({"metadata": {"name": "openstack-cloud-controller-manager-master-1", "namespace": "kube-system"},
            "spec": {"nodeName": "master-1", "containers": [{"name": "occm", "command": ["/bin/occm", "--cloud-config=/etc/kubernetes/cloud-config"]}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "occm", "ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let mut r = Results::default();
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![n]));
        super::super::common::set_pods(&mut r, std::slice::from_ref(&ccm));
        let ccm: Pod = serde_json::from_value(ccm).unwrap();
        r.by_query.insert(
            events(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        assert!(queries(&r).contains(&ccm_log(&ccm, true)));
        r.by_query.insert(ccm_log(&ccm, true), Outcome::Text { code: 200, body: "W0821 11:13:36.966119       1 plugins.go:112] WARNING: deprecated\nF0821 11:13:37.034060       1 controllermanager.go:100] Cloud provider could not be initialized: could not init cloud provider \"openstack\": dial tcp: lookup controller on 8.8.8.8:53: no such host\n".into() });
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("crash-loops"), "{}", f.summary);
        assert!(f.summary.contains("no such host"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("age not captured"))
        );
        assert!(f.fix.commands[0].contains("--previous"));
        assert!(f.fix.commands[1].contains("/etc/kubernetes/cloud-config"));
    }

    #[test]
    fn a_tainted_node_of_unknown_age_without_other_signs_stays_a_warning() {
        let n = json!({"metadata": {"name": "worker-9"}, "spec": {"taints": [{"key": TAINT, "value": "true", "effect": "NoSchedule"}]}});
        let mut r = Results::default();
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![n]));
        for qq in [pods(), events()] {
            r.by_query.insert(
                qq,
                Outcome::Failed {
                    code: 0,
                    message: "not captured".into(),
                },
            );
        }
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("not captured"), "{}", f.summary);
    }

    #[test]
    fn untainted_nodes_are_fine_and_a_running_ccm_lowers_it_to_a_warning() {
        assert!(diagnose(&results(false, vec![]), now()).is_none());
        let ccm = json!({"metadata": {"name": "openstack-cloud-controller-manager-x", "namespace": "kube-system"}, "spec": {"containers": [{"name": "ccm"}]}, "status": {"phase": "Running", "containerStatuses": [{"ready": true}]}});
        let f = diagnose(&results(true, vec![ccm]), now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
    }
}
