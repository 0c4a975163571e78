//! CL-02 `node-uninitialized-cloud-taint`: new nodes keep the taint
//! `node.cloudprovider.kubernetes.io/uninitialized` and ordinary pods never schedule there,
//! because their kubelets run with `--cloud-provider=external` (they register tainted, with
//! the `alpha.kubernetes.io/provided-node-ip` annotation) and no cloud-controller-manager is
//! running to initialise them (set providerID, addresses, zone) and lift the taint.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{age_secs, arr, ev, event_ref, event_text, human, name, namespace, s};
use super::loadbalancer_pending_no_cloud_provider::ccm_pods;
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
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
    q::core("pods", None)
}
fn events() -> Query {
    q::core("events", None)
}
fn ccm_log(p: &Value) -> Query {
    q::logs(
        namespace(p),
        name(p),
        Some(s(p, "/spec/containers/0/name")),
        false,
        Some(100),
    )
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::nodes(), pods(), events()];
    out.extend(ccm_pods(r).into_iter().take(3).map(ccm_log));
    out
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let tainted: Vec<&Value> = r
        .objects(&q::nodes())
        .iter()
        .filter(|n| {
            arr(n, "/spec/taints").iter().any(|t| s(t, "/key") == TAINT) && age_secs(n, now) > 120
        })
        .collect();
    if tainted.is_empty() {
        return None;
    }
    let ccm = ccm_pods(r);
    let healthy_ccm = ccm.iter().any(|p| {
        s(p, "/status/phase") == "Running"
            && arr(p, "/status/containerStatuses")
                .iter()
                .all(|c| c.get("ready") == Some(&Value::Bool(true)))
    });
    let mut evidence: Vec<Evidence> = Vec::new();
    for n in &tainted {
        evidence.push(ev(
            format!("Node/{}", name(n)),
            "spec.taints",
            format!("{TAINT}=true:NoSchedule, for {}", human(age_secs(n, now))),
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
        if ccm.is_empty() {
            "none in any namespace".to_string()
        } else {
            ccm.iter()
                .map(|p| {
                    format!(
                        "{}/{} {}",
                        namespace(p),
                        name(p),
                        arr(p, "/status/containerStatuses")
                            .first()
                            .map(|c| s(c, "/state/waiting/reason").to_string())
                            .filter(|x| !x.is_empty())
                            .unwrap_or_else(|| s(p, "/status/phase").to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
    for p in ccm.iter().take(3) {
        if let Some(text) = r.text(&ccm_log(p))
            && let Some(line) = text
                .lines()
                .rev()
                .find(|l| l.starts_with('E') || l.contains("error") || l.contains("failed"))
        {
            evidence.push(ev(
                format!("Pod/{}/{}", namespace(p), name(p)),
                "log",
                line.trim(),
            ));
        }
    }
    let blocked: Vec<&Value> = r
        .objects(&events())
        .iter()
        .filter(|e| s(e, "/reason") == "FailedScheduling" && s(e, "/message").contains(TAINT))
        .collect();
    for e in blocked.iter().take(3) {
        evidence.push(ev(
            event_ref(e),
            format!(
                "Pod/{}/{} event",
                s(e, "/involvedObject/namespace"),
                s(e, "/involvedObject/name")
            ),
            event_text(e),
        ));
    }
    let names: Vec<&str> = tainted.iter().map(|n| name(n)).collect();
    let mut commands = vec![
        "# in a cloud: deploy the provider's cloud-controller-manager (it initialises the nodes and removes the taint), e.g.".to_string(),
        "kubectl get pods -A -o wide | grep -i cloud-controller".into(),
    ];
    for n in &names {
        commands.push(format!("# on {n} (no cloud here): drop --cloud-provider=external from the kubelet flags, restart it, lift the taint"));
        commands.push("sudo grep -n cloud-provider /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet 2>/dev/null".into());
        commands.push("sudo sed -i 's/ *--cloud-provider=external//' /var/lib/kubelet/kubeadm-flags.env && sudo systemctl restart kubelet".into());
        commands.push(format!("kubectl taint nodes {n} {TAINT}-"));
    }
    commands.push("kubectl get nodes -o custom-columns=NAME:.metadata.name,PROVIDER:.spec.providerID,TAINTS:.spec.taints[*].key".into());
    let (severity, confidence) = if healthy_ccm {
        (FindingSeverity::Warning, 0.6)
    } else {
        (
            FindingSeverity::Critical,
            if blocked.is_empty() { 0.9 } else { 0.94 },
        )
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
        if ccm.is_empty() {
            "no cloud-controller-manager runs to initialise the node and remove the taint"
                .to_string()
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
        r.by_query.insert(pods(), Outcome::Objects(ccm));
        r.by_query.insert(events(), Outcome::Objects(vec![json!({"metadata": {"name": "e", "namespace": "shop"}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "frontend-x"}, "reason": "FailedScheduling", "message": "0/6 nodes are available: 1 node(s) had untolerated taint {node.cloudprovider.kubernetes.io/uninitialized: true}, 2 Insufficient cpu."})]));
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
    fn untainted_nodes_are_fine_and_a_running_ccm_lowers_it_to_a_warning() {
        assert!(diagnose(&results(false, vec![]), now()).is_none());
        let ccm = json!({"metadata": {"name": "openstack-cloud-controller-manager-x", "namespace": "kube-system"}, "spec": {"containers": [{"name": "ccm"}]}, "status": {"phase": "Running", "containerStatuses": [{"ready": true}]}});
        let f = diagnose(&results(true, vec![ccm]), now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
    }
}
