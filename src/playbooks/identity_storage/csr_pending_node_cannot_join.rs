//! AUTH-03 `csr-pending-node-cannot-join`: `kubeadm join` printed success but the node never
//! appears; its kubelet waits for a client certificate. Kubelet client CSRs from
//! `system:bootstrap:*` / `system:node:*` stay Pending while older ones were approved: the
//! auto-approval broke — kubeadm's `kubeadm:node-autoapprove-bootstrap` /
//! `…-certificate-rotation` bindings missing or emptied, or kube-controller-manager (which
//! approves and signs) down, not leading, without its signing flags or its csrapproving
//! controller.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    KUBELET_CLIENT_SIGNER, age_secs, arr, csr_signer, ev, flag, flags, human, name, s, time,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "csr-pending-node-cannot-join",
    code: "AUTH-03",
    title: "Node cannot join: kubelet client CSRs stay Pending",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["waiting for client certificate"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["csr", "pending"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["waiting for the kubelet to perform the tls bootstrap"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["certificate request was not signed"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["kubeadm join", "node", "not"],
            weight: 0.5,
        },
    ],
    queries,
    diagnose,
};

const CLIENT_SIGNER: &str = KUBELET_CLIENT_SIGNER;
const NODECLIENT: &str = "system:certificates.k8s.io:certificatesigningrequests:nodeclient";
const SELFNODECLIENT: &str = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient";
/// A CSR Pending longer than this is stuck (kcm approves within seconds).
const STUCK_SECS: i64 = 300;

fn csrs() -> Query {
    q::list(
        "certificates.k8s.io",
        "certificatesigningrequests",
        None,
        None,
        None,
    )
}
fn crbs() -> Query {
    q::list(
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        None,
        None,
        None,
    )
}
fn kcm() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-controller-manager"),
        None,
    )
}
fn lease() -> Query {
    q::get(
        "coordination.k8s.io",
        "leases",
        Some("kube-system"),
        "kube-controller-manager",
    )
}

fn queries(_r: &Results) -> Vec<Query> {
    vec![csrs(), crbs(), q::nodes(), kcm(), lease()]
}

/// A kubelet client CSR, including the v1beta1 ones from before signer names.
fn is_client_csr(c: &Value) -> bool {
    csr_signer(c) == CLIENT_SIGNER
}

fn decided(c: &Value) -> bool {
    arr(c, "/status/conditions")
        .iter()
        .any(|x| matches!(s(x, "/type"), "Approved" | "Denied" | "Failed"))
}
fn approved(c: &Value) -> bool {
    arr(c, "/status/conditions")
        .iter()
        .any(|x| s(x, "/type") == "Approved")
}

/// Whether some ClusterRoleBinding grants `role` to one of `groups`.
fn bound(r: &Results, role: &str, groups: &[String], user: &str) -> Option<bool> {
    let b: Vec<&Value> = r
        .objects(&crbs())
        .iter()
        .filter(|b| s(b, "/roleRef/name") == role)
        .collect();
    if r.objects(&crbs()).is_empty() {
        return None;
    }
    Some(b.iter().any(|b| {
        arr(b, "/subjects").iter().any(|sub| match s(sub, "/kind") {
            "Group" => groups.iter().any(|g| g == s(sub, "/name")),
            "User" => s(sub, "/name") == user,
            _ => false,
        })
    }))
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let all: Vec<&Value> = r
        .objects(&csrs())
        .iter()
        .filter(|c| is_client_csr(c))
        .collect();
    let pending: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|c| !decided(c) && age_secs(c, now) > STUCK_SECS)
        .collect();
    if pending.is_empty() {
        return None;
    }
    let approved_before: Vec<&Value> = all.iter().copied().filter(|c| approved(c)).collect();
    let unsigned: Vec<&Value> = approved_before
        .iter()
        .copied()
        .filter(|c| s(c, "/status/certificate").is_empty() && age_secs(c, now) > STUCK_SECS)
        .collect();
    let mut by_requestor: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for c in &pending {
        by_requestor
            .entry(s(c, "/spec/username").to_string())
            .or_default()
            .push(c);
    }
    let mut evidence: Vec<Evidence> = Vec::new();
    for (user, cs) in &by_requestor {
        let oldest = cs.iter().map(|c| age_secs(c, now)).max().unwrap_or(0);
        evidence.push(ev(
            format!("CertificateSigningRequest/{}", name(cs[0])),
            "status.conditions",
            format!(
                "Pending: {} CSR(s) from {user} (signer {}), the oldest {} old, none approved",
                cs.len(),
                csr_signer(cs[0]),
                human(oldest)
            ),
        ));
    }
    if let Some(c) = approved_before
        .iter()
        .max_by_key(|c| time(c, "/metadata/creationTimestamp"))
    {
        let cond = arr(c, "/status/conditions")
            .iter()
            .find(|x| s(x, "/type") == "Approved")
            .cloned()
            .unwrap_or(Value::Null);
        evidence.push(ev(
            format!("CertificateSigningRequest/{}", name(c)),
            "status.conditions[Approved]",
            if s(&cond, "/reason") == "AutoApproved" {
                format!(
                    "AutoApproved by {} {} ago: auto-approval used to work",
                    s(c, "/spec/username"),
                    human(age_secs(c, now))
                )
            } else {
                format!(
                    "Approved{} for {} {} ago",
                    match s(&cond, "/reason") {
                        "" => String::new(),
                        r => format!(" ({r})"),
                    },
                    s(c, "/spec/username"),
                    human(age_secs(c, now))
                )
            },
        ));
    }
    let mut causes: Vec<String> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    let mut confidence: f32 = 0.6;
    // Bindings that let kcm auto-approve.
    for (user, cs) in &by_requestor {
        let groups: Vec<String> = arr(cs[0], "/spec/groups")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let (role, binding, group) = if user.starts_with("system:bootstrap:") {
            (
                NODECLIENT,
                "kubeadm:node-autoapprove-bootstrap",
                "system:bootstrappers:kubeadm:default-node-token",
            )
        } else {
            (
                SELFNODECLIENT,
                "kubeadm:node-autoapprove-certificate-rotation",
                "system:nodes",
            )
        };
        if bound(r, role, &groups, user) == Some(false) {
            let existing = r.objects(&crbs()).iter().find(|b| name(b) == binding);
            evidence.push(ev(
                format!("ClusterRoleBinding/{binding}"),
                if existing.is_some() { "subjects" } else { "metadata" },
                match existing {
                    Some(_) => format!("does not include group {group}: no binding grants {role} to {user}'s groups"),
                    None => format!("missing: no binding grants {role} to {user}'s groups, so kube-controller-manager never auto-approves"),
                },
            ));
            causes.push(format!(
                "ClusterRoleBinding {binding} is {}",
                if existing.is_some() {
                    "emptied"
                } else {
                    "missing"
                }
            ));
            if existing.is_some() {
                commands.push(format!("kubectl delete clusterrolebinding {binding}"));
            }
            commands.push(format!(
                "kubectl create clusterrolebinding {binding} --clusterrole={role} --group={group}"
            ));
            confidence = confidence.max(0.93);
        }
    }
    // The controller manager that approves and signs.
    let kcm_pods = r.objects(&kcm());
    let cmd = kcm_pods.first().map(flags).unwrap_or_default();
    let kcm_name = kcm_pods
        .first()
        .map(|p| name(p).to_string())
        .unwrap_or_default();
    if !cmd.is_empty() {
        if let Some(ctrls) = flag(&cmd, "--controllers")
            && (ctrls.split(',').any(|c| c == "-csrapproving")
                || !ctrls.split(',').any(|c| c == "*" || c == "csrapproving"))
        {
            evidence.push(ev(
                format!("Pod/kube-system/{kcm_name}"),
                "spec.containers[kube-controller-manager].command",
                format!("--controllers={ctrls}"),
            ));
            causes.push("the csrapproving controller is disabled".into());
            confidence = confidence.max(0.9);
        }
        if flag(&cmd, "--cluster-signing-cert-file").is_none() && !unsigned.is_empty() {
            evidence.push(ev(format!("Pod/kube-system/{kcm_name}"), "spec.containers[kube-controller-manager].command", "no --cluster-signing-cert-file/--cluster-signing-key-file: approved CSRs are never signed"));
            causes.push("kube-controller-manager has no signing CA".into());
            confidence = confidence.max(0.85);
        }
    }
    if cmd.is_empty()
        && let Some(c) = unsigned
            .iter()
            .max_by_key(|c| time(c, "/metadata/creationTimestamp"))
    {
        // The controller manager's flags were not read, but its work was: an approved CSR
        // nobody issued means its signer is not running either.
        evidence.push(ev(
            format!("CertificateSigningRequest/{}", name(c)),
            "status.certificate",
            format!(
                "empty: approved {} ago and never issued",
                human(age_secs(c, now))
            ),
        ));
        causes.push("nothing signs approved CSRs either (kube-controller-manager not running, not leading, or without --cluster-signing-cert-file/--cluster-signing-key-file)".into());
        confidence = confidence.max(0.85);
    }
    if let Some(l) = r.objects(&lease()).first() {
        let dur = l
            .pointer("/spec/leaseDurationSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(15);
        if let Some(renew) = time(l, "/spec/renewTime")
            && (now - renew).num_seconds() > dur * 4
        {
            evidence.push(ev(
                "Lease/kube-system/kube-controller-manager",
                "spec.renewTime",
                format!(
                    "{} old (leaseDurationSeconds {dur}): no controller manager is leading",
                    human((now - renew).num_seconds())
                ),
            ));
            causes.push("no kube-controller-manager holds the leader lease".into());
            confidence = confidence.max(0.85);
        }
    }
    let node_names: Vec<&str> = r.objects(&q::nodes()).iter().map(name).collect();
    let absent: Vec<String> = by_requestor
        .keys()
        .filter_map(|u| u.strip_prefix("system:node:"))
        .filter(|n| !node_names.contains(n))
        .map(str::to_string)
        .collect();
    if causes.is_empty() {
        causes.push(
            "no approver acted on them (kube-controller-manager's approver or an external one)"
                .into(),
        );
    }
    let newest: Vec<String> = by_requestor
        .values()
        .filter_map(|cs| {
            cs.iter()
                .max_by_key(|c| time(c, "/metadata/creationTimestamp"))
                .map(|c| name(c).to_string())
        })
        .collect();
    let requestors: Vec<&str> = by_requestor.keys().map(String::as_str).collect();
    let summary = format!(
        "{} kubelet client CSR(s) from {} have been Pending for more than {}{}: {}. The joining kubelet never gets a client certificate, so its node never registers{}.",
        pending.len(),
        requestors.join(", "),
        human(STUCK_SECS),
        if approved_before.is_empty() {
            ""
        } else {
            " while earlier ones were approved"
        },
        causes.join("; "),
        if absent.is_empty() {
            String::new()
        } else {
            format!(" ({} absent)", absent.join(", "))
        }
    );
    let cp = kcm_pods
        .first()
        .map(|p| s(p, "/spec/nodeName").to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "a control-plane node".into());
    commands.insert(
        0,
        format!(
            "kubectl certificate approve {}   # unblocks the waiting kubelet now",
            newest.join(" ")
        ),
    );
    commands.push(format!(
        "# on {cp}: or let kubeadm restore its bootstrap RBAC, and check the join token"
    ));
    commands.push("sudo kubeadm init phase bootstrap-token".into());
    commands.push("sudo kubeadm token list   # EXPIRES <invalid> = expired token: the kubelet cannot even create a CSR".into());
    commands.push("sudo kubeadm token create --print-join-command".into());
    commands
        .push("kubectl get csr -w   # new CSRs must turn Approved,Issued within seconds".into());
    commands.push("kubectl get nodes -w".into());
    // Persistence: the kubelets kept asking for an hour and more and nobody answered.
    let span = pending
        .iter()
        .filter_map(|c| time(c, "/metadata/creationTimestamp"))
        .fold(None::<(DateTime<Utc>, DateTime<Utc>)>, |acc, t| match acc {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })
        .map(|(lo, hi)| (hi - lo).num_seconds())
        .unwrap_or(0);
    if pending.len() >= 3 && span >= 3600 {
        confidence = confidence.max(0.75);
    }
    // A node list that was read and holds no node: nothing joined at all.
    let no_nodes = matches!(r.outcome(&q::nodes()), Some(Outcome::Objects(v)) if v.is_empty());
    if no_nodes {
        evidence.push(ev("NodeList", "items", "empty: no node has registered"));
    }
    let severity = if confidence >= 0.85 || (no_nodes && confidence >= 0.75) {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not bootstrap authentication (expired or unknown token): the CSRs were created, so the API server accepted the bootstrap token.".into(),
            "Not the node network or CNI (NET-01): a node that has no client certificate never registers at all; NotReady comes later.".into(),
            "Not the kubelet serving certificate (TLS-03): these CSRs use the kube-apiserver-client-kubelet signer, the client certificate the kubelet needs to log in.".into(),
        ],
        fix: Fix {
            explanation: "Approving the newest Pending CSR per requestor unblocks the waiting kubelet at once (older duplicates can be left to the cleaner). Then restore auto-approval so the next join and every certificate rotation work: kubeadm binds the bootstrap token group to the nodeclient role (kubeadm:node-autoapprove-bootstrap) and system:nodes to selfnodeclient (kubeadm:node-autoapprove-certificate-rotation); kube-controller-manager must be running, leading, with --cluster-signing-cert-file/--cluster-signing-key-file and the csrapproving controller. `kubeadm token list` on a control-plane node shows whether the join token is still valid.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn csr(name: &str, created: &str, user: &str, approved: bool) -> Value {
        let status = if approved {
            json!({"certificate": "LS0t", "conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved"}]})
        } else {
            json!({})
        };
        json!({"metadata": {"name": name, "creationTimestamp": created}, "spec": {"signerName": CLIENT_SIGNER, "username": user, "groups": ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"]}, "status": status})
    }
    fn results(csrs_: Vec<Value>, bindings: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query.insert(csrs(), Outcome::Objects(csrs_));
        r.by_query.insert(crbs(), Outcome::Objects(bindings));
        for qq in [q::nodes(), kcm(), lease()] {
            r.by_query.insert(qq, Outcome::Objects(vec![]));
        }
        r
    }
    fn other_binding() -> Value {
        json!({"metadata": {"name": "cluster-admin"}, "roleRef": {"name": "cluster-admin"}, "subjects": [{"kind": "Group", "name": "system:masters"}]})
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn pending_bootstrap_csrs_without_autoapprove_binding() {
        let r = results(
            vec![
                csr(
                    "node-csr-old",
                    "2026-01-15T09:10:00Z",
                    "system:bootstrap:abcdef",
                    true,
                ),
                csr(
                    "node-csr-a",
                    "2026-01-15T09:34:00Z",
                    "system:bootstrap:abcdef",
                    false,
                ),
                csr(
                    "node-csr-b",
                    "2026-01-15T09:51:00Z",
                    "system:bootstrap:abcdef",
                    false,
                ),
            ],
            vec![other_binding()],
        );
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary
                .contains("kubeadm:node-autoapprove-bootstrap is missing")
        );
        assert_eq!(
            f.fix.commands[0],
            "kubectl certificate approve node-csr-b   # unblocks the waiting kubelet now"
        );
        assert!(f.fix.commands.iter().any(|c| c == "kubectl create clusterrolebinding kubeadm:node-autoapprove-bootstrap --clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient --group=system:bootstrappers:kubeadm:default-node-token"));
    }

    /// v1beta1 CSRs (no signerName, read as legacy-unknown), nothing else captured: the
    /// bindings, kcm and its lease are "not captured", the node list is empty.
    #[test]
    fn legacy_csrs_pending_for_hours_with_an_unissued_approval() {
        let legacy = |n: &str, created: &str, user: &str, approved: bool| {
            let mut c = csr(n, created, user, false);
            c["spec"]["signerName"] = json!("kubernetes.io/legacy-unknown");
            c["spec"]["groups"] = json!(["system:bootstrappers", "system:authenticated"]);
            c["spec"]["usages"] = json!(["digital signature", "key encipherment", "client auth"]);
            if approved {
                c["status"] = json!({"conditions": [{"type": "Approved"}]});
            }
            c
        };
        let not_captured = || Outcome::Failed {
            code: 0,
            message: "not captured".into(),
        };
        let mut r = Results::default();
        r.by_query.insert(
            csrs(),
            Outcome::Objects(vec![
                legacy(
                    "node-csr-a",
                    "2026-01-14T16:00:00Z",
                    "system:bootstrap:aaaaaa",
                    true,
                ),
                legacy(
                    "node-csr-b",
                    "2026-01-14T18:00:00Z",
                    "system:bootstrap:bbbbbb",
                    false,
                ),
                legacy(
                    "node-csr-c",
                    "2026-01-15T01:00:00Z",
                    "system:bootstrap:cccccc",
                    false,
                ),
                legacy(
                    "node-csr-d",
                    "2026-01-15T08:00:00Z",
                    "system:bootstrap:cccccc",
                    false,
                ),
            ]),
        );
        for qq in [crbs(), kcm(), lease()] {
            r.by_query.insert(qq, not_captured());
        }
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![]));
        let f = diagnose(&r, now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("nothing signs approved CSRs"),
            "{}",
            f.summary
        );
        // Nothing about the bindings: they were not captured.
        assert!(!f.summary.contains("ClusterRoleBinding"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.contains("no node has registered"))
        );
        // Without the unissued approval: persistence alone, a warning-strength cause.
        let mut r2 = r.clone();
        let Some(Outcome::Objects(cs)) = r2.by_query.get_mut(&csrs()) else {
            panic!()
        };
        cs.remove(0);
        let f = diagnose(&r2, now()).expect("finding");
        assert!((0.7..0.85).contains(&f.confidence), "{}", f.confidence);
        assert_eq!(f.severity, FindingSeverity::Critical);
        r2.by_query.insert(q::nodes(), not_captured());
        assert_eq!(
            diagnose(&r2, now()).unwrap().severity,
            FindingSeverity::Warning
        );
    }

    #[test]
    fn a_csr_seconds_old_or_all_approved_is_normal() {
        let binding = json!({"metadata": {"name": "kubeadm:node-autoapprove-bootstrap"}, "roleRef": {"name": NODECLIENT}, "subjects": [{"kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]});
        let r = results(
            vec![
                csr(
                    "node-csr-old",
                    "2026-01-15T09:10:00Z",
                    "system:bootstrap:abcdef",
                    true,
                ),
                csr(
                    "node-csr-new",
                    "2026-01-15T09:59:50Z",
                    "system:bootstrap:abcdef",
                    false,
                ),
            ],
            vec![binding],
        );
        assert!(diagnose(&r, now()).is_none());
    }
}
