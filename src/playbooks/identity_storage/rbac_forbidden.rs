//! AUTH-01 `rbac-forbidden`: `Error from server (Forbidden): nodes is forbidden: User "X"
//! cannot list resource "nodes" … at the cluster scope`. The playbook runs as whoever is
//! logged in: the 403 answers it gets are the evidence (the user and the denied verb,
//! resource, group and scope are parsed from the API server's message); where the RBAC
//! objects are readable it also finds bindings of the wrong scope (a RoleBinding cannot grant
//! a cluster-scoped resource). The fix is a minimal ClusterRole + ClusterRoleBinding (or Role
//! + RoleBinding) generated from the denied attributes.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{Denial, arr, denials, ev, name, namespace, s, status_message};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, QueryKind, Results,
    Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "rbac-forbidden",
    code: "AUTH-01",
    title: "Forbidden: the user's RBAC does not allow the request",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["error from server (forbidden)"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["forbidden", "cannot list", "at the cluster scope"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["is forbidden: user", "cannot"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["forbidden", "user \"", "cannot"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

const RBAC: &str = "rbac.authorization.k8s.io";

/// `kubectl get nodes`, as a raw request so a snapshot can carry its 403 answer.
fn nodes() -> Query {
    Query {
        kubectl: "kubectl get nodes".into(),
        kind: QueryKind::Raw {
            path: "/api/v1/nodes?limit=1".into(),
        },
    }
}
/// The same as a list: shared with other playbooks, and the form a snapshot's recorded
/// `GET /api/v1/nodes` Status answers.
fn node_list() -> Query {
    q::core("nodes", None)
}
fn namespaces() -> Query {
    q::core("namespaces", None)
}
fn crbs() -> Query {
    q::list(RBAC, "clusterrolebindings", None, None, None)
}
fn cluster_roles() -> Query {
    q::list(RBAC, "clusterroles", None, None, None)
}
fn rbs() -> Query {
    q::list(RBAC, "rolebindings", None, None, None)
}
fn roles() -> Query {
    q::list(RBAC, "roles", None, None, None)
}

fn queries(_r: &Results) -> Vec<Query> {
    vec![
        nodes(),
        namespaces(),
        crbs(),
        cluster_roles(),
        rbs(),
        roles(),
    ]
}

/// The denials in one answer, with the query that got it.
fn denied(r: &Results, qq: &Query) -> Vec<(Denial, String)> {
    let msg = match r.outcome(qq) {
        Some(Outcome::Failed { code: 403, message }) => status_message(message),
        Some(Outcome::Text { code: 403, body }) => status_message(body),
        _ => return Vec::new(),
    };
    denials(&msg)
        .into_iter()
        .map(|d| (d, msg.clone()))
        .collect()
}

fn rule_grants(rule: &Value, d: &Denial) -> bool {
    let has = |key: &str, want: &str| {
        arr(rule, key)
            .iter()
            .filter_map(Value::as_str)
            .any(|v| v == "*" || v == want)
    };
    has("/apiGroups", &d.group) && has("/resources", &d.resource) && has("/verbs", &d.verb)
}

fn subject_is(sub: &Value, user: &str) -> bool {
    match s(sub, "/kind") {
        "User" => s(sub, "/name") == user,
        "ServiceAccount" => {
            format!(
                "system:serviceaccount:{}:{}",
                s(sub, "/namespace"),
                s(sub, "/name")
            ) == user
        }
        _ => false,
    }
}

/// RoleBindings of the user whose role would grant a cluster-scoped denial: wrong scope.
fn wrong_scope(r: &Results, d: &Denial) -> Vec<Evidence> {
    let mut out = Vec::new();
    for b in r.objects(&rbs()) {
        if !arr(b, "/subjects")
            .iter()
            .any(|sub| subject_is(sub, &d.user))
        {
            continue;
        }
        let (kind, role) = (s(b, "/roleRef/kind"), s(b, "/roleRef/name"));
        let rules: Vec<&Value> = if kind == "Role" {
            r.objects(&roles())
                .iter()
                .filter(|x| name(x) == role && namespace(x) == namespace(b))
                .flat_map(|x| arr(x, "/rules"))
                .collect()
        } else {
            r.objects(&cluster_roles())
                .iter()
                .filter(|x| name(x) == role)
                .flat_map(|x| arr(x, "/rules"))
                .collect()
        };
        if rules.iter().any(|rule| rule_grants(rule, d)) {
            out.push(ev(
                format!("RoleBinding/{}/{}", namespace(b), name(b)),
                "roleRef",
                format!(
                    "{kind} {role} allows {} {}, but a RoleBinding grants only inside namespace {}; {} is cluster-scoped",
                    d.verb,
                    d.resource,
                    namespace(b),
                    d.resource
                ),
            ));
        }
    }
    out
}

fn resource_arg(d: &Denial) -> String {
    if d.group.is_empty() {
        d.resource.clone()
    } else {
        format!("{}.{}", d.resource, d.group)
    }
}

fn safe(user: &str) -> String {
    user.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn subject_flag(user: &str) -> String {
    match user.strip_prefix("system:serviceaccount:") {
        Some(sa) => format!("--serviceaccount={sa}"),
        None => format!("--user={user}"),
    }
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    // What an engineer needs to read; the RBAC reads are this playbook's own checks.
    let mut primary: Vec<(Denial, String, String)> = [nodes(), node_list(), namespaces()]
        .iter()
        .flat_map(|qq| {
            denied(r, qq)
                .into_iter()
                .map(|(d, m)| (d, m, qq.kubectl.clone()))
        })
        .collect();
    // `kubectl get nodes` asked twice (raw and as a list) is one denial.
    let mut seen = BTreeSet::new();
    primary.retain(|(d, _, _)| seen.insert(d.clone()));
    let checks: Vec<(Denial, String, String)> = [crbs(), cluster_roles(), rbs(), roles()]
        .iter()
        .flat_map(|qq| {
            denied(r, qq)
                .into_iter()
                .map(|(d, m)| (d, m, qq.kubectl.clone()))
        })
        .collect();
    let first = primary.first().or(checks.first())?;
    let user = first.0.user.clone();
    let mut evidence: Vec<Evidence> = primary
        .iter()
        .chain(checks.iter())
        .map(|(_, m, k)| {
            ev(
                format!("User/{user}"),
                format!("{k} → 403 Forbidden"),
                m.clone(),
            )
        })
        .collect();
    if user == "system:anonymous" {
        return Some(Finding {
            severity: FindingSeverity::Critical,
            confidence: 0.85,
            summary: "The API server sees these requests as system:anonymous: the kubeconfig presents no credentials it accepts (AUTH-04), so no RBAC grant is the answer.".into(),
            evidence,
            ruled_out: vec!["Not missing RBAC for a real user: granting permissions to system:anonymous would open the cluster to everyone.".into()],
            fix: Fix {
                explanation: "Check which identity the API server sees and repair the kubeconfig's user (client certificate, token or exec plugin).".into(),
                commands: vec!["kubectl auth whoami".into(), "kubectl config view --minify".into()],
            },
        });
    }
    let wanted: Vec<&Denial> = if primary.is_empty() {
        checks.iter().map(|(d, _, _)| d).collect()
    } else {
        primary.iter().map(|(d, _, _)| d).collect()
    };
    let mut scope_ev = Vec::new();
    for d in wanted.iter().filter(|d| d.namespace.is_none()) {
        scope_ev.extend(wrong_scope(r, d));
    }
    evidence.extend(scope_ev.iter().cloned());
    let cluster: Vec<&&Denial> = wanted.iter().filter(|d| d.namespace.is_none()).collect();
    let verbs: BTreeSet<&str> = cluster.iter().map(|d| d.verb.as_str()).collect();
    let resources: BTreeSet<String> = cluster.iter().map(|d| resource_arg(d)).collect();
    let mut commands = Vec::new();
    let mut names = Vec::new();
    if !cluster.is_empty() {
        let role = format!(
            "{}-{}-{}",
            safe(&user),
            resources
                .iter()
                .map(|r| r.split('.').next().unwrap_or(r))
                .collect::<Vec<_>>()
                .join("-"),
            if verbs.iter().all(|v| matches!(*v, "get" | "list" | "watch")) {
                "reader"
            } else {
                "access"
            }
        );
        commands.push("# as a cluster admin:".into());
        commands.push(format!(
            "kubectl create clusterrole {role} --verb={} {}",
            verbs.iter().copied().collect::<Vec<_>>().join(","),
            resources
                .iter()
                .map(|r| format!("--resource={r}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        commands.push(format!(
            "kubectl create clusterrolebinding {role} --clusterrole={role} {}",
            subject_flag(&user)
        ));
        names.push(role);
    }
    let ns_denials: Vec<&&Denial> = wanted.iter().filter(|d| d.namespace.is_some()).collect();
    for d in &ns_denials {
        let ns = d.namespace.clone().unwrap_or_default();
        let role = format!(
            "{}-{}-{}",
            safe(&user),
            d.resource.replace('/', "-"),
            d.verb
        );
        commands.push(format!(
            "kubectl create role {role} -n {ns} --verb={} --resource={}",
            d.verb,
            resource_arg(d)
        ));
        commands.push(format!(
            "kubectl create rolebinding {role} -n {ns} --role={role} {}",
            subject_flag(&user)
        ));
    }
    for d in wanted.iter().take(3) {
        let ns = d
            .namespace
            .as_ref()
            .map(|n| format!(" -n {n}"))
            .unwrap_or_default();
        commands.push(format!(
            "kubectl auth can-i {} {}{ns} --as={user}   # as the admin: must say yes",
            d.verb,
            resource_arg(d)
        ));
    }
    commands.push("kubectl auth can-i --list   # as the user: what you may do now".into());
    let d0 = wanted.first().copied().unwrap_or(&first.0);
    let summary = format!(
        "User \"{user}\" may not {} {}{}: no ClusterRoleBinding grants it{}; the request is refused by RBAC, the cluster itself is fine.",
        d0.verb,
        d0.resource,
        match &d0.namespace {
            Some(n) => format!(" in namespace {n}"),
            None => " at the cluster scope".into(),
        },
        if scope_ev.is_empty() {
            String::new()
        } else {
            " (a RoleBinding tries to, but RoleBindings cannot grant cluster-scoped resources)"
                .into()
        }
    );
    let mut ruled_out = vec![
        format!("Not a missing or wrong identity (AUTH-04): the API server names the user \"{user}\", so the credentials were accepted."),
        "Not an API server or network fault: the server answered at once with a Forbidden status; only authorization said no.".into(),
    ];
    if checks.is_empty() {
        ruled_out.push("The RBAC objects were readable, and none binds this user to a role that allows the request at the cluster scope.".into());
    } else {
        ruled_out.push(format!("This identity cannot read ClusterRoleBindings either, so a cluster admin must confirm with `kubectl get clusterrolebindings -o wide | grep {user}`."));
    }
    let severity = if primary.is_empty() {
        FindingSeverity::Warning
    } else {
        FindingSeverity::Critical
    };
    Some(Finding {
        severity,
        confidence: if primary.is_empty() { 0.7 } else { 0.93 },
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: format!(
                "A cluster admin grants exactly what was denied: a ClusterRole with the denied verbs on the denied cluster-scoped resources, bound to {user} with a ClusterRoleBinding (a Role/RoleBinding only works inside one namespace and never for nodes, namespaces or other cluster-scoped resources). Prefer binding a group the user belongs to if several people need it. Then `kubectl auth can-i` must answer yes."
            ),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NODES_DENIED: &str = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"nodes is forbidden: User \\\"jane\\\" cannot list resource \\\"nodes\\\" in API group \\\"\\\" at the cluster scope\",\"reason\":\"Forbidden\",\"details\":{\"kind\":\"nodes\"},\"code\":403}";

    fn admin_view() -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            nodes(),
            Outcome::Text {
                code: 200,
                body: "{\"kind\":\"NodeList\",\"items\":[]}".into(),
            },
        );
        for qq in [namespaces(), crbs(), cluster_roles(), rbs(), roles()] {
            r.by_query.insert(qq, Outcome::Objects(vec![]));
        }
        r
    }

    #[test]
    fn denied_node_list_yields_a_cluster_role_for_that_user() {
        let mut r = admin_view();
        r.by_query.insert(
            nodes(),
            Outcome::Text {
                code: 403,
                body: NODES_DENIED.into(),
            },
        );
        r.by_query.insert(rbs(), Outcome::Objects(vec![json!({"kind": "RoleBinding", "metadata": {"name": "jane-node-viewer", "namespace": "shop"}, "roleRef": {"kind": "Role", "name": "node-viewer"}, "subjects": [{"kind": "User", "name": "jane"}]})]));
        r.by_query.insert(roles(), Outcome::Objects(vec![json!({"kind": "Role", "metadata": {"name": "node-viewer", "namespace": "shop"}, "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]})]));
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("\"jane\"") && f.summary.contains("list nodes"));
        assert!(
            f.fix.commands.contains(
                &"kubectl create clusterrole jane-nodes-reader --verb=list --resource=nodes"
                    .to_string()
            )
        );
        assert!(f.fix.commands.contains(&"kubectl create clusterrolebinding jane-nodes-reader --clusterrole=jane-nodes-reader --user=jane".to_string()));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "RoleBinding/shop/jane-node-viewer")
        );
    }

    #[test]
    fn live_failures_of_rbac_reads_alone_are_a_warning() {
        let mut r = admin_view();
        r.by_query.insert(crbs(), Outcome::Failed { code: 403, message: "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"clusterrolebindings\" in API group \"rbac.authorization.k8s.io\" at the cluster scope".into() });
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("--serviceaccount=ci:deployer"))
        );
    }

    #[test]
    fn an_admin_sees_nothing_and_anonymous_is_not_granted_rbac() {
        assert!(diagnose(&admin_view(), Utc::now()).is_none());
        let mut r = admin_view();
        r.by_query.insert(nodes(), Outcome::Failed { code: 403, message: "nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"\" at the cluster scope".into() });
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("AUTH-04"));
        assert!(
            !f.fix
                .commands
                .iter()
                .any(|c| c.contains("create clusterrole"))
        );
    }
}
