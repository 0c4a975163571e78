//! WL-04 `quota-or-admission-blocked`: a controller cannot create its pods (a Deployment with
//! 0 pods, a ReplicaSet with `ReplicaFailure`/`FailedCreate`). The API server's refusal names
//! the gate: `exceeded quota` / `must specify` (ResourceQuota), a LimitRange maximum,
//! `violates PodSecurity` (the namespace's Pod Security Admission level), or `admission
//! webhook … denied the request` (a policy engine). A webhook that cannot be called at all
//! is `admission-webhook-unavailable` (WL-10) and is left to it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    ev, event_count, event_time, events_all, name, name_of, namespace, ns_of, s, st,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "quota-or-admission-blocked",
    code: "WL-04",
    title: "Pods refused by quota or admission",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["exceeded quota"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["violates podsecurity"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["admission webhook", "denied the request"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["failedcreate"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["error creating", "forbidden"],
            weight: 0.75,
        },
    ],
    queries,
    diagnose,
};

fn replicasets() -> Query {
    q::list("apps", "replicasets", None, None, None)
}
fn quotas() -> Query {
    q::core("resourcequotas", None)
}
fn limitranges() -> Query {
    q::core("limitranges", None)
}
fn namespaces() -> Query {
    q::core("namespaces", None)
}

fn queries(_: &Results) -> Vec<Query> {
    vec![
        replicasets(),
        events_all(),
        quotas(),
        limitranges(),
        namespaces(),
    ]
}

#[derive(Debug, Clone, PartialEq)]
enum Gate {
    Quota(String),
    QuotaNeedsRequests(String),
    LimitRange,
    PodSecurity(String),
    WebhookDenied(String),
}

fn gate(msg: &str) -> Option<Gate> {
    let after = |pat: &str| -> String {
        msg.split(pat)
            .nth(1)
            .map(|r| {
                r.split([',', ':', ' '])
                    .find(|x| !x.is_empty())
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string()
            })
            .unwrap_or_default()
    };
    if msg.contains("failed calling webhook") {
        return None;
    }
    if msg.contains("exceeded quota") {
        return Some(Gate::Quota(after("exceeded quota: ")));
    }
    if msg.contains("failed quota") && msg.contains("must specify") {
        return Some(Gate::QuotaNeedsRequests(after("failed quota: ")));
    }
    if msg.contains("violates PodSecurity") {
        let level = msg
            .split("violates PodSecurity \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_string();
        return Some(Gate::PodSecurity(level));
    }
    if msg.contains("admission webhook") && msg.contains("denied the request") {
        return Some(Gate::WebhookDenied(after("admission webhook ")));
    }
    if msg.contains("usage per Container") || msg.contains("usage per Pod") {
        return Some(Gate::LimitRange);
    }
    None
}

/// A refusal: the controller object, the message, how often, when.
struct Refusal<'a> {
    object: String,
    ns: &'a str,
    owner_name: &'a str,
    owner_kind: &'a str,
    message: &'a str,
    count: i64,
    gate: Gate,
    source: String,
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let events = r.events();
    let mut refusals: Vec<(Option<DateTime<Utc>>, Refusal)> = Vec::new();
    for e in events.iter().filter(|e| st(&e.reason) == "FailedCreate") {
        let msg = st(&e.message);
        let o = &e.involved_object;
        let Some(g) = gate(msg) else { continue };
        refusals.push((
            event_time(e),
            Refusal {
                object: format!("{}/{}/{}", st(&o.kind), st(&o.namespace), st(&o.name)),
                ns: st(&o.namespace),
                owner_name: st(&o.name),
                owner_kind: st(&o.kind),
                message: msg,
                count: event_count(e),
                gate: g,
                source: format!("Event/{}/{}", ns_of(&**e), name_of(&**e)),
            },
        ));
    }
    for rs in r.objects(&replicasets()) {
        let Some(c) = rs
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| s(c, "/type") == "ReplicaFailure" && s(c, "/status") == "True")
        else {
            continue;
        };
        let msg = s(c, "/message");
        let Some(g) = gate(msg) else { continue };
        let object = format!("ReplicaSet/{}/{}", namespace(rs), name(rs));
        if refusals.iter().any(|(_, x)| x.object == object) {
            continue;
        }
        refusals.push((
            None,
            Refusal {
                object: object.clone(),
                ns: namespace(rs),
                owner_name: name(rs),
                owner_kind: "ReplicaSet",
                message: msg,
                count: 1,
                gate: g,
                source: object,
            },
        ));
    }
    refusals.sort_by_key(|x| std::cmp::Reverse(x.0));
    let (_, first) = refusals.first()?;
    let ns = first.ns;
    let mut evidence: Vec<Evidence> = vec![ev(
        &first.source,
        "FailedCreate",
        format!("{} (x{})", first.message, first.count),
    )];
    // The controller's pod counts.
    let rs = r.objects(&replicasets()).iter().find(|x| {
        first.owner_kind == "ReplicaSet" && namespace(x) == ns && name(x) == first.owner_name
    });
    let desired = rs
        .and_then(|x| x.pointer("/spec/replicas"))
        .and_then(Value::as_i64);
    let current = rs
        .and_then(|x| x.pointer("/status/replicas"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(d) = desired {
        evidence.push(ev(
            &first.object,
            "spec.replicas / status.replicas",
            format!("{d} / {current}"),
        ));
    }
    let deployment = rs
        .and_then(|x| x.pointer("/metadata/ownerReferences/0/name"))
        .and_then(Value::as_str);
    let target = match deployment {
        Some(d) => format!("deployment/{d}"),
        None => format!("{}/{}", first.owner_kind.to_lowercase(), first.owner_name),
    };
    let others: Vec<String> = refusals[1..]
        .iter()
        .map(|(_, x)| x.object.clone())
        .filter(|o| *o != first.object)
        .take(5)
        .collect();
    if !others.is_empty() {
        evidence.push(ev("Event", "other refused controllers", others.join(", ")));
    }
    let mut ruled_out = vec![
        "Not the scheduler or the nodes: the API server refused to create the pods, so none exists to schedule.".to_string(),
    ];
    let (summary, explanation, commands) = match &first.gate {
        Gate::Quota(qname) | Gate::QuotaNeedsRequests(qname) => {
            if let Some(qo) = r
                .objects(&quotas())
                .iter()
                .find(|x| namespace(x) == ns && name(x) == qname)
            {
                evidence.push(ev(
                    format!("ResourceQuota/{ns}/{qname}"),
                    "status.hard",
                    qo.pointer("/status/hard")
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ));
                evidence.push(ev(
                    format!("ResourceQuota/{ns}/{qname}"),
                    "status.used",
                    qo.pointer("/status/used")
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ));
            }
            ruled_out.push("Not Pod Security or a webhook: the refusal comes from the ResourceQuota admission plugin.".into());
            if matches!(first.gate, Gate::Quota(_)) {
                (
                    format!(
                        "{target} in {ns} cannot create pods: ResourceQuota {qname} is exhausted (exceeded quota)."
                    ),
                    format!(
                        "The namespace's quota {qname} counts the requests/limits of every pod; the new pods would go over it. Raise the quota, lower the requests of {target}, or free quota by scaling down something else in {ns}."
                    ),
                    vec![
                        format!("kubectl describe resourcequota -n {ns} {qname}"),
                        format!("kubectl -n {ns} edit resourcequota {qname}   # raise spec.hard"),
                        format!(
                            "kubectl -n {ns} set resources {target} --requests=cpu=<less>,memory=<less>"
                        ),
                    ],
                )
            } else {
                (
                    format!(
                        "{target} in {ns} cannot create pods: ResourceQuota {qname} requires requests/limits the pod template does not set."
                    ),
                    format!(
                        "A quota on requests/limits rejects pods that do not declare them. Set resources on {target}, or add a LimitRange with defaults in {ns}."
                    ),
                    vec![
                        format!(
                            "kubectl -n {ns} set resources {target} --requests=cpu=100m,memory=128Mi --limits=memory=256Mi"
                        ),
                        format!("kubectl describe resourcequota -n {ns} {qname}"),
                    ],
                )
            }
        }
        Gate::LimitRange => {
            let names: Vec<&str> = r
                .objects(&limitranges())
                .iter()
                .filter(|x| namespace(x) == ns)
                .map(name)
                .collect();
            evidence.push(ev(
                format!("Namespace/{ns}"),
                "limitranges",
                names.join(", "),
            ));
            (
                format!(
                    "{target} in {ns} cannot create pods: they exceed the namespace's LimitRange."
                ),
                format!(
                    "A LimitRange in {ns} caps per-container/pod resources; the pod template asks for more. Lower the limits of {target} or change the LimitRange."
                ),
                vec![
                    format!("kubectl describe limitrange -n {ns}"),
                    format!(
                        "kubectl -n {ns} set resources {target} --limits=cpu=<within max>,memory=<within max>"
                    ),
                ],
            )
        }
        Gate::PodSecurity(level) => {
            let labels = r
                .objects(&namespaces())
                .iter()
                .find(|n| name(n) == ns)
                .and_then(|n| n.pointer("/metadata/labels"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            evidence.push(ev(
                format!("Namespace/{ns}"),
                "metadata.labels[pod-security.kubernetes.io/*]",
                if labels.is_empty() {
                    "none".into()
                } else {
                    labels.join(", ")
                },
            ));
            ruled_out.push("Not a quota: the refusal comes from Pod Security Admission.".into());
            (
                format!(
                    "{target} in {ns} cannot create pods: they violate the namespace's Pod Security level {level}."
                ),
                format!(
                    "Namespace {ns} enforces Pod Security {level}; the pod template lacks the settings the message lists. Add them to the template's securityContext (the preferred fix), or relax the namespace's enforce label if the workload really needs more privileges."
                ),
                vec![
                    format!("kubectl -n {ns} get {target} -o yaml | grep -A8 securityContext"),
                    format!(
                        "kubectl -n {ns} patch {target} --type=strategic -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"securityContext\":{{\"runAsNonRoot\":true,\"seccompProfile\":{{\"type\":\"RuntimeDefault\"}}}}}}}}}}}}'   # plus per container: allowPrivilegeEscalation=false, capabilities.drop=[ALL]"
                    ),
                    format!(
                        "kubectl label --dry-run=server --overwrite ns {ns} pod-security.kubernetes.io/enforce=baseline   # shows what a lower level would admit"
                    ),
                ],
            )
        }
        Gate::WebhookDenied(hook) => {
            ruled_out.push("Not an unavailable webhook: the webhook answered and denied (see admission-webhook-unavailable for call failures).".into());
            (
                format!("{target} in {ns} cannot create pods: admission webhook {hook} denies them."),
                "A policy engine (Gatekeeper, Kyverno, an in-house webhook) rejects the pods; the message carries its reason. Change the template to satisfy the policy, or get an exception for it.".into(),
                vec![
                    "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations".into(),
                    format!("kubectl get events -n {ns} --field-selector reason=FailedCreate"),
                ],
            )
        }
    };
    let severity = if current == 0 {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    Some(Finding {
        severity,
        confidence: 0.95,
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
    use super::super::common::testing::set_events;
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn results(msg: &str) -> Results {
        let e = json!({"kind": "Event", "metadata": {"namespace": "shop", "name": "reports-h.1"}, "reason": "FailedCreate", "type": "Warning", "count": 7,
            "involvedObject": {"kind": "ReplicaSet", "namespace": "shop", "name": "reports-h"}, "message": msg, "lastTimestamp": "2026-01-15T09:59:00Z"});
        let rs = json!({"kind": "ReplicaSet", "metadata": {"namespace": "shop", "name": "reports-h", "ownerReferences": [{"kind": "Deployment", "name": "reports"}]},
            "spec": {"replicas": 2}, "status": {"replicas": 0}});
        let ns = json!({"kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}});
        let quota = json!({"kind": "ResourceQuota", "metadata": {"namespace": "shop", "name": "shop-quota"}, "status": {"hard": {"requests.cpu": "1"}, "used": {"requests.cpu": "700m"}}});
        let mut r = Results::default();
        set_events(&mut r, &[e]);
        r.by_query.insert(replicasets(), Outcome::Objects(vec![rs]));
        r.by_query.insert(namespaces(), Outcome::Objects(vec![ns]));
        r.by_query.insert(quotas(), Outcome::Objects(vec![quota]));
        r.by_query.insert(limitranges(), Outcome::Objects(vec![]));
        r
    }

    #[test]
    fn pod_security_names_the_level_and_the_namespace_label() {
        let f = diagnose(&results("Error creating: pods \"reports-h-x\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true"), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("restricted:latest") && f.summary.contains("deployment/reports"),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value == "pod-security.kubernetes.io/enforce=restricted")
        );
    }

    #[test]
    fn an_exhausted_quota_shows_hard_and_used() {
        let f = diagnose(&results("Error creating: pods \"reports-h-x\" is forbidden: exceeded quota: shop-quota, requested: requests.cpu=500m, used: requests.cpu=700m, limited: requests.cpu=1"), Utc::now()).unwrap();
        assert!(f.summary.contains("shop-quota"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "status.used" && e.value.contains("700m"))
        );
    }

    #[test]
    fn webhook_call_failures_and_other_errors_are_not_this_playbook() {
        assert!(diagnose(&results("Internal error occurred: failed calling webhook \"validate.gatekeeper.sh\": failed to call webhook: service \"x\" not found"), Utc::now()).is_none());
        assert!(diagnose(&results("Error creating: some transient error"), Utc::now()).is_none());
        let f = diagnose(&results("admission webhook \"validation.gatekeeper.sh\" denied the request: [no-latest] image tag latest is not allowed"), Utc::now()).unwrap();
        assert!(
            f.summary.contains("validation.gatekeeper.sh"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn the_symptoms_rank_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Error creating: pods \"x\" is forbidden: exceeded quota: compute",
        );
        assert_eq!(
            r.first().map(|x| x.0.id),
            Some("quota-or-admission-blocked")
        );
    }
}
