//! AUTH-01 rbac-forbidden, seen from the client: the user is who the kubeconfig says, but
//! reads are refused with 403. Who am I (SelfSubjectReview), what may I do
//! (SelfSubjectRulesReview), and the minimal ClusterRole and binding that would allow what
//! was denied. Not registered (the cluster-side AUTH-01 lives in `identity_storage`): the
//! doctor runs it from its own path only.

use chrono::{DateTime, Utc};

use super::{ev, observation, queries};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results};

pub static CLIENT_SIDE: Playbook = Playbook {
    id: "rbac-forbidden",
    code: "AUTH-01",
    title: "RBAC forbids what ktriage needs to read",
    access: Access::Api,
    symptoms: &[],
    queries,
    diagnose,
};

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    if obs.denied.is_empty() {
        return None;
    }
    let user = obs.user.clone().unwrap_or_else(|| "?".into());
    let anonymous = user == "system:anonymous"
        || obs
            .denied
            .iter()
            .any(|d| d.message.contains("system:anonymous"));
    if anonymous {
        return None; // no credential reached the server: AUTH-04
    }
    let mut evidence = vec![ev(
        "SelfSubjectReview",
        "status.userInfo.username",
        user.clone(),
    )];
    if !obs.groups.is_empty() {
        evidence.push(ev(
            "SelfSubjectReview",
            "status.userInfo.groups",
            obs.groups.join(", "),
        ));
    }
    for d in &obs.denied {
        evidence.push(ev(
            "server",
            format!("{} {}", d.verb, d.resource),
            d.message.clone(),
        ));
    }
    for a in &obs.allowed {
        evidence.push(ev("server", "allowed", a.clone()));
    }
    for r in obs.rules.iter().take(8) {
        evidence.push(ev("SelfSubjectRulesReview", "rule", r.clone()));
    }
    let mut resources: Vec<&str> = obs.denied.iter().map(|d| d.resource.as_str()).collect();
    resources.dedup();
    let verbs = "get,list,watch";
    let subject = if user.starts_with("system:serviceaccount:") {
        let parts: Vec<&str> = user.split(':').collect();
        format!(
            "--serviceaccount={}:{}",
            parts.get(2).unwrap_or(&"NS"),
            parts.get(3).unwrap_or(&"NAME")
        )
    } else {
        format!("--user={user}")
    };
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: 0.95,
        summary: format!(
            "{user} may not {} (403 Forbidden){}: ktriage shows only what this user can read.",
            obs.denied
                .iter()
                .map(|d| format!("{} {}", d.verb, d.resource))
                .collect::<Vec<_>>()
                .join(", "),
            if obs.allowed.is_empty() {
                String::new()
            } else {
                format!("; it may {}", obs.allowed.join(", "))
            }
        ),
        evidence,
        ruled_out: vec![
            "The credentials work: the server knows the user (not system:anonymous, no 401)."
                .into(),
        ],
        fix: Fix {
            explanation: format!(
                "Grant read access with a ClusterRole (nodes and all-namespace lists are cluster-scoped, so a Role and RoleBinding cannot allow them) and bind it to {user}."
            ),
            commands: vec![
                format!(
                    "kubectl create clusterrole ktriage-read --verb={verbs} --resource={}",
                    resources.join(",")
                ),
                format!(
                    "kubectl create clusterrolebinding ktriage-read --clusterrole=ktriage-read {subject}"
                ),
                format!(
                    "kubectl auth can-i list {} --as={user}",
                    resources.first().unwrap_or(&"pods")
                ),
            ],
        },
    })
}
