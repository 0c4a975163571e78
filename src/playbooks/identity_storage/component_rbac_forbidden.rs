//! AUTH-02 `component-rbac-forbidden`: kube-proxy, CoreDNS, the CNI, the kubelets or the
//! controllers log `… is forbidden: User "system:…" cannot list …`. The playbook reads their
//! logs, evaluates the cluster's RBAC for each denied component identity (a static access
//! review over the ClusterRoleBindings and ClusterRoles), and names the bootstrap binding that
//! is missing or was emptied (`system:coredns`, `kubeadm:node-proxier`, the CNI's), or the
//! API server's `--authorization-mode` that lacks `Node`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Denial, MetaExt, Pod, arr, denials, detail, ev, flag, flags, journal_records, name, pod_detail,
    pod_ref, running, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, QueryKind, Results,
    Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "component-rbac-forbidden",
    code: "AUTH-02",
    title: "Cluster components are forbidden by RBAC (bootstrap bindings missing or emptied)",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["forbidden", "user \"system:serviceaccount:kube-system:"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["forbidden", "user \"system:node:"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["forbidden", "user \"system:kube-"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["failed to list", "is forbidden"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["forbidden", "system:serviceaccount:"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

const RBAC: &str = "rbac.authorization.k8s.io";
/// Pod name prefixes of the components whose logs are read, with their namespace.
const COMPONENTS: &[(&str, &str)] = &[
    ("kube-system", "kube-proxy-"),
    ("kube-system", "coredns-"),
    ("kube-system", "calico-node-"),
    ("kube-system", "calico-kube-controllers-"),
    ("kube-flannel", "kube-flannel-ds-"),
    ("kube-system", "kube-flannel-ds-"),
    ("kube-system", "cilium-"),
    ("kube-system", "weave-net-"),
    ("kube-system", "kube-controller-manager-"),
    ("kube-system", "kube-scheduler-"),
];
/// Pods read per component.
const PER_COMPONENT: usize = 2;

fn crbs() -> Query {
    q::list(RBAC, "clusterrolebindings", None, None, None)
}
fn cluster_roles() -> Query {
    q::list(RBAC, "clusterroles", None, None, None)
}
fn pods() -> Query {
    q::watched(Watched::Pods)
}

fn component_pods(r: &Results) -> Vec<&Pod> {
    let mut out = Vec::new();
    for (ns, prefix) in COMPONENTS {
        out.extend(
            r.pods()
                .iter()
                .map(|p| &**p)
                .filter(|p| {
                    p.metadata.namespace_str() == *ns
                        && p.metadata.name_str().starts_with(prefix)
                        && running(p)
                })
                .take(PER_COMPONENT),
        );
    }
    out
}

/// A pod's first container.
fn first_container(p: &Pod) -> Option<&crate::cluster::lean::Container> {
    p.spec.containers.first()
}

fn log_of(p: &Pod) -> Query {
    q::logs(
        p.metadata.namespace_str(),
        p.metadata.name_str(),
        Some(first_container(p).map_or("", |c| c.name.as_str())),
        false,
        Some(200),
    )
}

/// The kubelets' journals: a kubelet that cannot list its Node or Pods logs the denial on the
/// node, not in any pod (a snapshot's `NodeLog`; on a live cluster, read on the node).
fn kubelet_journal() -> Query {
    q::node_log(None, "kubelet")
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![crbs(), cluster_roles(), pods(), kubelet_journal()];
    out.extend(component_pods(r).into_iter().map(log_of));
    // Once a log shows a denial, the API server read whole: its --authorization-mode is in
    // its command line.
    if logged_denial(r) {
        out.extend(apiserver_pod(r).map(pod_detail));
    }
    out
}

/// Whether a component's log or a kubelet's journal read so far shows an RBAC denial.
fn logged_denial(r: &Results) -> bool {
    let in_logs = component_pods(r).into_iter().any(|p| {
        r.text(&log_of(p)).is_some_and(|t| {
            t.lines()
                .any(|l| denials(l).iter().any(|d| d.user.starts_with("system:")))
        })
    });
    in_logs
        || r.text(&kubelet_journal()).is_some_and(|t| {
            journal_records(t)
                .iter()
                .any(|(_, line)| !denials(line).is_empty())
        })
}

/// The kube-apiserver pod, whatever labels its installer gives it (kubeadm
/// `component=kube-apiserver`, kops `k8s-app=kube-apiserver`, or only its name).
fn apiserver_pod(r: &Results) -> Option<&Pod> {
    r.pods().iter().map(|p| &**p).find(|p| {
        p.metadata.namespace_str() == "kube-system"
            && (p.label("component") == Some("kube-apiserver")
                || p.label("k8s-app") == Some("kube-apiserver")
                || p.metadata.name_str().starts_with("kube-apiserver-")
                || first_container(p).is_some_and(|c| c.name == "kube-apiserver"))
    })
}

/// `(major, minor)` of the image tag of a pod's first container (`…:v1.8.0` → `(1, 8)`).
fn image_version(pod: &Pod) -> Option<(u32, u32)> {
    let image = first_container(pod)
        .and_then(|c| c.image.as_deref())
        .unwrap_or_default();
    let tag = image.rsplit_once(':')?.1;
    let mut parts = tag.trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The groups the authenticator gives an identity.
fn groups_of(user: &str) -> Vec<String> {
    let mut g = vec!["system:authenticated".to_string()];
    if let Some(rest) = user.strip_prefix("system:serviceaccount:") {
        g.push("system:serviceaccounts".into());
        if let Some((ns, _)) = rest.split_once(':') {
            g.push(format!("system:serviceaccounts:{ns}"));
        }
    }
    if user.starts_with("system:node:") {
        g.push("system:nodes".into());
    }
    g
}

fn subject_matches(sub: &Value, user: &str, groups: &[String]) -> bool {
    match s(sub, "/kind") {
        "User" => s(sub, "/name") == user,
        "Group" => groups.iter().any(|g| g == s(sub, "/name")),
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

fn rule_allows(rule: &Value, d: &Denial) -> bool {
    let has = |key: &str, want: &str| {
        arr(rule, key)
            .iter()
            .filter_map(Value::as_str)
            .any(|v| v == "*" || v == want)
    };
    has("/apiGroups", &d.group)
        && has("/resources", &d.resource)
        && has("/verbs", &d.verb)
        && arr(rule, "/resourceNames").is_empty()
}

/// A static SubjectAccessReview over the cluster-wide bindings.
fn allowed(r: &Results, d: &Denial) -> bool {
    let groups = groups_of(&d.user);
    r.objects(&crbs()).iter().any(|b| {
        arr(b, "/subjects")
            .iter()
            .any(|sub| subject_matches(sub, &d.user, &groups))
            && r.objects(&cluster_roles())
                .iter()
                .filter(|cr| name(cr) == s(b, "/roleRef/name"))
                .any(|cr| arr(cr, "/rules").iter().any(|rule| rule_allows(rule, d)))
    })
}

/// The binding a kubeadm cluster (or the add-on's manifest) creates for an identity:
/// (binding, cluster role, subject kind, subject for kubectl).
fn expected(user: &str) -> Option<(String, String, &'static str, String)> {
    let sa = |binding: &str, role: &str, sa: &str| {
        Some((
            binding.to_string(),
            role.to_string(),
            "ServiceAccount",
            sa.to_string(),
        ))
    };
    match user {
        "system:serviceaccount:kube-system:coredns" => {
            sa("system:coredns", "system:coredns", "kube-system:coredns")
        }
        "system:serviceaccount:kube-system:kube-proxy" => sa(
            "kubeadm:node-proxier",
            "system:node-proxier",
            "kube-system:kube-proxy",
        ),
        "system:kube-proxy" => Some((
            "system:node-proxier".into(),
            "system:node-proxier".into(),
            "User",
            user.into(),
        )),
        "system:kube-controller-manager" | "system:kube-scheduler" => {
            Some((user.into(), user.into(), "User", user.into()))
        }
        _ => {
            let rest = user.strip_prefix("system:serviceaccount:")?;
            let (ns, n) = rest.split_once(':')?;
            sa(n, n, &format!("{ns}:{n}"))
        }
    }
}

fn subject_json(kind: &str, who: &str) -> String {
    match kind {
        "ServiceAccount" => {
            let (ns, n) = who.split_once(':').unwrap_or(("kube-system", who));
            format!("{{\"kind\":\"ServiceAccount\",\"name\":\"{n}\",\"namespace\":\"{ns}\"}}")
        }
        k => format!(
            "{{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"{k}\",\"name\":\"{who}\"}}"
        ),
    }
}

/// Why a kubelet identity is denied, the commands that fix it, and whether the API server's
/// authorization mode was read (else the cause is the likely one, not a certain one). The
/// rule is the running API server's: since 1.8 the bootstrap `system:node`
/// ClusterRoleBinding has no subjects and the Node authorizer authorizes kubelets, which it
/// does only for `system:node:NAME` identities in group `system:nodes`.
fn kubelet_cause(
    r: &Results,
    user: &str,
    authz_mode: Option<&(String, String)>,
    version: Option<(u32, u32)>,
) -> (String, Vec<String>, bool) {
    let per_node = user.starts_with("system:node:");
    let binding = r.objects(&crbs()).iter().find(|b| name(b) == "system:node");
    let emptied = binding.is_some_and(|b| arr(b, "/subjects").is_empty());
    let since_18 = version.is_some_and(|v| v >= (1, 8));
    let ver = version
        .map(|(a, b)| format!(" v{a}.{b}"))
        .unwrap_or_default();
    let mut commands = Vec::new();
    let interim = if per_node {
        "kubectl patch clusterrolebinding system:node --type=json -p '[{\"op\":\"add\",\"path\":\"/subjects\",\"value\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:nodes\"}]}]'   # interim only".to_string()
    } else {
        format!(
            "kubectl create clusterrolebinding kubelet-system-node --clusterrole=system:node --user={user}   # interim only: every kubelet shares this identity"
        )
    };
    match authz_mode {
        Some((_, mode)) if !mode.split(',').any(|m| m == "Node") => {
            let why = if since_18 && emptied {
                format!(
                    " (it is{ver}: since 1.8 the system:node ClusterRoleBinding carries no subjects, the Node authorizer is meant to authorize kubelets)"
                )
            } else if emptied {
                "; and the system:node ClusterRoleBinding was emptied".to_string()
            } else {
                String::new()
            };
            commands.push("# on every control-plane node: add Node to --authorization-mode (kubeadm: /etc/kubernetes/manifests/kube-apiserver.yaml; kops: spec.authorization / kubeAPIServer.authorizationMode) and enable the NodeRestriction admission plugin".into());
            commands.push("sudo sed -i 's/--authorization-mode=.*/--authorization-mode=Node,RBAC/' /etc/kubernetes/manifests/kube-apiserver.yaml".into());
            if !per_node {
                commands.push(format!("# the Node authorizer needs per-node kubelet credentials: user system:node:<node-name>, group system:nodes (not the shared {user:?})"));
            }
            commands.push(interim);
            (
                format!(
                    "the API server runs --authorization-mode={mode} without Node{why}, so nothing authorizes the kubelet identity {user}"
                ),
                commands,
                true,
            )
        }
        Some(_) if !per_node => {
            commands.push(format!("# give each kubelet its own credential: user system:node:<node-name>, group system:nodes (not the shared {user:?}); kubeadm join / TLS bootstrapping does this"));
            commands.push(interim);
            (
                format!(
                    "the Node authorizer authorizes only identities system:node:<name> in group system:nodes, and the kubelets log in as {user}"
                ),
                commands,
                true,
            )
        }
        Some(_) => {
            commands.push(
                "# on the node: the kubelet's client certificate must carry O=system:nodes".into(),
            );
            commands.push("sudo openssl x509 -noout -subject -in /var/lib/kubelet/pki/kubelet-client-current.pem".into());
            (
                format!(
                    "{user} is denied although the Node authorizer is on: its credential likely lacks group system:nodes"
                ),
                commands,
                false,
            )
        }
        None => {
            let b = match binding {
                Some(_) if emptied => "the system:node ClusterRoleBinding has no subjects",
                Some(_) => "the system:node ClusterRoleBinding does not include it",
                None => "no ClusterRoleBinding read grants it system:node",
            };
            commands.push("kubectl -n kube-system get pods -l component=kube-apiserver -o yaml | grep -- --authorization-mode   # must include Node".into());
            commands.push(interim);
            (
                format!(
                    "nothing authorizes the kubelet identity {user}: {b}, and the API server's --authorization-mode was not captured (it must include Node)"
                ),
                commands,
                false,
            )
        }
    }
}

struct Denied {
    denial: Denial,
    evidence: Evidence,
}

/// Files a denial under its user, once per (verb, resource): the first line seen is the
/// evidence.
fn record(by_user: &mut BTreeMap<String, Vec<Denied>>, denial: Denial, evidence: Evidence) {
    let seen = by_user.entry(denial.user.clone()).or_default();
    if !seen
        .iter()
        .any(|x| x.denial.resource == denial.resource && x.denial.verb == denial.verb)
    {
        seen.push(Denied { denial, evidence });
    }
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let mut by_user: BTreeMap<String, Vec<Denied>> = BTreeMap::new();
    for p in component_pods(r) {
        let qq = log_of(p);
        let Some(text) = r.text(&qq) else { continue };
        let ctr = match &qq.kind {
            QueryKind::Logs { container, .. } => container.clone().unwrap_or_default(),
            _ => String::new(),
        };
        for line in text.lines().rev() {
            for d in denials(line) {
                if !d.user.starts_with("system:") {
                    continue;
                }
                let evidence = ev(pod_ref(p), format!("log[{ctr}]"), line.trim());
                record(&mut by_user, d, evidence);
            }
        }
    }
    // The kubelets' own journals: the identity there is a kubelet's, whatever its name (kops
    // and hand-made clusters give kubelets a shared user such as `kubelet`).
    let mut kubelet_users: Vec<String> = Vec::new();
    if let Some(text) = r.text(&kubelet_journal()) {
        for (node, line) in journal_records(text) {
            for d in denials(&line) {
                if !kubelet_users.contains(&d.user) {
                    kubelet_users.push(d.user.clone());
                }
                let evidence = ev(
                    format!("Node/{}", if node.is_empty() { "?" } else { &node }),
                    "journal[kubelet]",
                    line.trim(),
                );
                record(&mut by_user, d, evidence);
            }
        }
    }
    // Only identities the RBAC still denies (a binding restored since makes the lines stale).
    by_user.retain(|_, ds| ds.iter().any(|d| !allowed(r, &d.denial)));
    if by_user.is_empty() {
        return None;
    }
    let apiserver = apiserver_pod(r);
    let authz_mode = apiserver.and_then(|p| {
        let whole = detail(r, p)?;
        flag(&flags(whole), "--authorization-mode")
            .map(|m| (p.metadata.name_str().to_string(), m.to_string()))
    });
    let version = apiserver.and_then(image_version);
    // Whether the RBAC objects were read in full: only then can "allowed" be decided.
    let rbac_read = matches!(r.outcome(&crbs()), Some(Outcome::Objects(_)))
        && matches!(r.outcome(&cluster_roles()), Some(Outcome::Objects(_)));
    let mut confidence: f32 = 0.95;
    let mut evidence = Vec::new();
    let mut commands = Vec::new();
    let mut causes = Vec::new();
    for (user, ds) in &by_user {
        evidence.extend(ds.iter().take(3).map(|d| d.evidence.clone()));
        if user.starts_with("system:node:") || kubelet_users.contains(user) {
            let (c, cmds, sure) = kubelet_cause(r, user, authz_mode.as_ref(), version);
            if let Some((pod, mode)) = &authz_mode {
                evidence.push(ev(
                    format!("Pod/kube-system/{pod}"),
                    "spec.containers[kube-apiserver].command",
                    format!("--authorization-mode={mode}"),
                ));
            }
            if let Some(b) = r.objects(&crbs()).iter().find(|b| name(b) == "system:node") {
                evidence.push(ev(
                    "ClusterRoleBinding/system:node",
                    "subjects",
                    if arr(b, "/subjects").is_empty() {
                        "empty: the binding grants nobody".to_string()
                    } else {
                        format!(
                            "{} subject(s), none of them {user}",
                            arr(b, "/subjects").len()
                        )
                    },
                ));
            }
            causes.push(c);
            commands.extend(cmds);
            if !sure {
                confidence = confidence.min(0.85);
            }
            continue;
        }
        let Some((binding, role, kind, who)) = expected(user) else {
            causes.push(format!("no ClusterRoleBinding grants {user} what it needs"));
            continue;
        };
        let existing = r.objects(&crbs()).iter().find(|b| name(b) == binding);
        let role_exists = r.objects(&cluster_roles()).iter().any(|c| name(c) == role);
        match existing {
            None => {
                evidence.push(ev(
                    format!("ClusterRoleBinding/{binding}"),
                    "metadata",
                    format!("missing: nothing binds {user} to ClusterRole {role}"),
                ));
                causes.push(format!("ClusterRoleBinding {binding} is missing"));
                let flag = match kind {
                    "ServiceAccount" => format!("--serviceaccount={who}"),
                    "Group" => format!("--group={who}"),
                    _ => format!("--user={who}"),
                };
                commands.push(format!(
                    "kubectl create clusterrolebinding {binding} --clusterrole={role} {flag}"
                ));
            }
            Some(b) => {
                let subs = arr(b, "/subjects");
                evidence.push(ev(
                    format!("ClusterRoleBinding/{binding}"),
                    "subjects",
                    if subs.is_empty() {
                        "empty: the binding grants nobody".to_string()
                    } else {
                        format!("{} subject(s), none of them {user}", subs.len())
                    },
                ));
                causes.push(format!(
                    "ClusterRoleBinding {binding} {}",
                    if subs.is_empty() {
                        "was emptied"
                    } else {
                        "does not include it"
                    }
                ));
                let op = if subs.is_empty() {
                    format!(
                        "[{{\"op\":\"add\",\"path\":\"/subjects\",\"value\":[{}]}}]",
                        subject_json(kind, &who)
                    )
                } else {
                    format!(
                        "[{{\"op\":\"add\",\"path\":\"/subjects/-\",\"value\":{}}}]",
                        subject_json(kind, &who)
                    )
                };
                commands.push(format!(
                    "kubectl patch clusterrolebinding {binding} --type=json -p '{op}'"
                ));
            }
        }
        if !role_exists {
            evidence.push(ev(format!("ClusterRole/{role}"), "metadata", "missing"));
            causes.push(format!("ClusterRole {role} is missing too"));
        }
        let d = &ds[0].denial;
        commands.push(format!(
            "kubectl auth can-i {} {}{} --as={user}   # must say yes",
            d.verb,
            d.resource,
            if d.group.is_empty() {
                String::new()
            } else {
                format!(".{}", d.group)
            }
        ));
    }
    if !rbac_read {
        // Not every binding was read: the denial is the log's word, not re-checked.
        confidence = confidence.min(0.85);
    }
    let cp = apiserver
        .map(|p| p.spec.node_name.clone().unwrap_or_default())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "a control-plane node".into());
    if by_user
        .keys()
        .any(|u| u.ends_with(":kube-proxy") || u.ends_with(":coredns"))
    {
        commands.push(format!(
            "# or, on {cp}: let kubeadm re-create the add-ons' RBAC"
        ));
        commands.push("sudo kubeadm init phase addon all --config <(kubectl -n kube-system get cm kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')".into());
    }
    let users: Vec<&str> = by_user.keys().map(String::as_str).collect();
    let effect = if by_user
        .keys()
        .any(|u| u.starts_with("system:node:") || kubelet_users.contains(u))
    {
        "Kubelets that cannot list their Node and Pods never register their node nor start its pods"
    } else {
        "Their informers cannot list what they serve (Services, EndpointSlices…), so Service routing and DNS go stale"
    };
    let summary = format!(
        "{} {} forbidden by RBAC: {}. {effect}.",
        users.join(", "),
        if users.len() == 1 { "is" } else { "are" },
        causes.join("; ")
    );
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not the user's own RBAC (AUTH-01): the denied identities are the components' service accounts and system users, not the person running kubectl.".into(),
            "Not stale log lines: evaluating today's ClusterRoleBindings and ClusterRoles still denies the same verb and resource.".into(),
            "Not an API server outage: the API server answers these components at once, with Forbidden.".into(),
        ],
        fix: Fix {
            explanation: "Restore the bootstrap bindings exactly as kubeadm or the add-on manifest creates them (binding name, ClusterRole and subject below), then check with `kubectl auth can-i … --as=IDENTITY`. The components retry on their own; restart them if their caches stay stale (`kubectl -n kube-system rollout restart ds/kube-proxy deploy/coredns`). Keep Node,RBAC authorization and the NodeRestriction admission plugin for kubelets.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    const LINE: &str = "E0115 09:58:31.402114       1 reflector.go:158] \"Unhandled Error\" err=\"k8s.io/client-go/informers/factory.go:160: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \\\"system:serviceaccount:kube-system:kube-proxy\\\" cannot list resource \\\"endpointslices\\\" in API group \\\"discovery.k8s.io\\\" at the cluster scope\" logger=\"UnhandledError\"";

    fn pod() -> Value {
        json!({"metadata": {"name": "kube-proxy-abcde", "namespace": "kube-system"}, "spec": {"nodeName": "worker-1", "containers": [{"name": "kube-proxy"}]}, "status": {"phase": "Running"}})
    }
    fn results(bindings: Vec<Value>) -> Results {
        let mut r = Results::default();
        super::super::common::set_pods(&mut r, &[pod()]);
        r.by_query.insert(crbs(), Outcome::Objects(bindings));
        r.by_query.insert(
            cluster_roles(),
            Outcome::Objects(vec![json!({"metadata": {"name": "system:node-proxier"}, "rules": [{"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]}]})]),
        );
        r.by_query.insert(
            log_of(&serde_json::from_value(pod()).unwrap()),
            Outcome::Text {
                code: 200,
                body: format!("{LINE}\n"),
            },
        );
        r
    }

    #[test]
    fn missing_kube_proxy_binding_is_recreated() {
        let f = diagnose(&results(vec![]), Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("kubeadm:node-proxier is missing"));
        assert!(f.fix.commands.contains(&"kubectl create clusterrolebinding kubeadm:node-proxier --clusterrole=system:node-proxier --serviceaccount=kube-system:kube-proxy".to_string()));
        assert!(f.evidence.iter().any(|e| e.field == "log[kube-proxy]"));
    }

    #[test]
    fn emptied_binding_is_patched() {
        let f = diagnose(&results(vec![json!({"metadata": {"name": "kubeadm:node-proxier"}, "roleRef": {"kind": "ClusterRole", "name": "system:node-proxier"}})]), Utc::now()).expect("finding");
        assert!(f.summary.contains("was emptied"));
        assert!(f.fix.commands.iter().any(|c| {
            c.starts_with("kubectl patch clusterrolebinding kubeadm:node-proxier")
                && c.contains("\"path\":\"/subjects\"")
        }));
    }

    /// A v1.8 cluster (kops `--authorization rbac`): kubelets share the user `kubelet`, their
    /// denials are only in the node's journal, the API server pod carries kops' labels, and
    /// the ClusterRoles were not captured.
    fn kubelet_results(mode: Option<&str>, image: &str) -> Results {
        let mut cmd = vec!["/usr/local/bin/kube-apiserver".to_string()];
        if let Some(m) = mode {
            cmd.push(format!("--authorization-mode={m}"));
        }
        let apiserver = json!({"metadata": {"name": "kube-apiserver-m1", "namespace": "kube-system", "labels": {"k8s-app": "kube-apiserver"}}, "spec": {"nodeName": "m1", "containers": [{"name": "kube-apiserver", "image": image, "command": cmd}]}, "status": {"phase": "Running"}});
        let mut r = Results::default();
        super::super::common::set_pods(&mut r, &[apiserver]);
        r.by_query.insert(
            crbs(),
            Outcome::Objects(vec![json!({"metadata": {"name": "system:node"}, "roleRef": {"kind": "ClusterRole", "name": "system:node"}, "subjects": null})]),
        );
        r.by_query.insert(
            cluster_roles(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        r.by_query.insert(
            kubelet_journal(),
            Outcome::Text {
                code: 200,
                body: "-- m1 --\n[reflector.go:205] k8s.io/kubernetes/pkg/kubelet/kubelet.go:422: Failed to list *v1.Node: nodes is forbidden: User \"kubelet\" cannot list nodes at the cluster scope\n".into(),
            },
        );
        r
    }

    #[test]
    fn kubelet_denials_in_the_journal_name_the_missing_node_authorizer() {
        let f = diagnose(
            &kubelet_results(
                Some("RBAC"),
                "gcr.io/google_containers/kube-apiserver:v1.8.0",
            ),
            Utc::now(),
        )
        .expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("--authorization-mode=RBAC without Node"),
            "{}",
            f.summary
        );
        assert!(f.summary.contains("since 1.8"), "{}", f.summary);
        // The ClusterRoles were not read: the denial is not re-checked, so not 0.95.
        assert!(f.confidence < 0.9);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.object == "Node/m1" && e.field == "journal[kubelet]")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("--clusterrole=system:node --user=kubelet"))
        );
        // A 1.7 API server still binds system:nodes: the empty binding is the cause named.
        let f = diagnose(
            &kubelet_results(
                Some("RBAC"),
                "gcr.io/google_containers/kube-apiserver:v1.7.5",
            ),
            Utc::now(),
        )
        .expect("finding");
        assert!(f.summary.contains("was emptied"), "{}", f.summary);
        // Without the API server's flags the cause is the likely one, said so.
        let mut r = kubelet_results(None, "k8s.gcr.io/kube-apiserver:v1.8.0");
        r.set_watched(Watched::Pods, &[]);
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert!(f.summary.contains("was not captured"), "{}", f.summary);
        assert!(f.confidence <= 0.85);
    }

    #[test]
    fn lines_the_current_rbac_allows_are_stale() {
        let ok = json!({"metadata": {"name": "kubeadm:node-proxier"}, "roleRef": {"kind": "ClusterRole", "name": "system:node-proxier"}, "subjects": [{"kind": "ServiceAccount", "name": "kube-proxy", "namespace": "kube-system"}]});
        assert!(diagnose(&results(vec![ok]), Utc::now()).is_none());
    }
}
