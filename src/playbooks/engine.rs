//! Runs playbooks: rounds of queries through a `QuerySource` (answers shared between
//! playbooks, so a list is fetched once per run), then the pure diagnosis; ranks playbooks
//! for a pasted error text; orders findings; and the query builders playbooks use.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::source::QuerySource;
use super::{Finding, Outcome, Playbook, Query, QueryKind, Results};

/// At most this many query rounds per playbook.
const MAX_ROUNDS: usize = 4;

/// One executed query, as the runner view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub query: Query,
    pub outcome: Outcome,
}

impl Step {
    /// A one-line summary of what came back: `3 objects`, `200: 42 lines`, `403: …`.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Outcome::Objects(v) if v.len() == 1 => "1 object".into(),
            Outcome::Objects(v) => format!("{} objects", v.len()),
            Outcome::Text { code, body } => format!("{code}: {} lines", body.lines().count()),
            Outcome::Failed { code: 0, message } => format!("failed: {message}"),
            Outcome::Failed { code, message } => format!("{code}: {message}"),
        }
    }
}

/// A playbook after it ran: its steps and its finding (`None`: its cause is not present).
#[derive(Debug, Clone)]
pub struct Run {
    pub playbook: &'static Playbook,
    pub steps: Vec<Step>,
    pub finding: Option<Finding>,
}

/// The JSON shape of a finding in `check` and `explain` output.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport<'a> {
    pub playbook: &'static str,
    pub code: &'static str,
    pub title: &'static str,
    #[serde(flatten)]
    pub finding: &'a Finding,
}

/// Caches answers so playbooks that ask the same query share one request.
#[derive(Default)]
pub struct Cache {
    answers: BTreeMap<Query, Outcome>,
}

/// Runs one playbook.
pub async fn run(
    playbook: &'static Playbook,
    source: &dyn QuerySource,
    cache: &mut Cache,
    now: DateTime<Utc>,
) -> Run {
    let mut results = Results::default();
    let mut steps = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let wanted: Vec<Query> = (playbook.queries)(&results)
            .into_iter()
            .filter(|q| !results.by_query.contains_key(q))
            .collect();
        if wanted.is_empty() {
            break;
        }
        for q in wanted {
            if source.partial(&q) {
                results.partial.insert(q.clone());
            }
            let outcome = match cache.answers.get(&q) {
                Some(o) => o.clone(),
                None => {
                    let o = source.run(&q).await;
                    cache.answers.insert(q.clone(), o.clone());
                    o
                }
            };
            steps.push(Step {
                query: q.clone(),
                outcome: outcome.clone(),
            });
            results.by_query.insert(q, outcome);
        }
    }
    let finding = (playbook.diagnose)(&results, now);
    Run {
        playbook,
        steps,
        finding,
    }
}

/// Runs every playbook of the registry and returns the runs whose cause is present,
/// ordered by severity, then confidence (both descending), then id.
pub async fn run_all(source: &dyn QuerySource, now: DateTime<Utc>) -> Vec<Run> {
    let mut cache = Cache::default();
    let mut runs = Vec::new();
    for pb in super::registry() {
        let r = run(pb, source, &mut cache, now).await;
        if r.finding.is_some() {
            runs.push(r);
        }
    }
    sort_runs(&mut runs);
    runs
}

/// Orders runs with findings: severity, then confidence (descending), then id.
pub fn sort_runs(runs: &mut [Run]) {
    runs.sort_by(|a, b| {
        let (fa, fb) = (a.finding.as_ref(), b.finding.as_ref());
        let sev = fb.map(|f| f.severity).cmp(&fa.map(|f| f.severity));
        let conf = fb
            .map(|f| f.confidence)
            .unwrap_or(0.0)
            .total_cmp(&fa.map(|f| f.confidence).unwrap_or(0.0));
        sev.then(conf).then(a.playbook.id.cmp(b.playbook.id))
    });
}

/// Playbooks of the registry whose symptoms match `text`, best first, with their score.
pub fn rank_symptoms(text: &str) -> Vec<(&'static Playbook, f32)> {
    rank_symptoms_in(&super::registry(), text)
}

/// Playbooks of `catalog` whose symptoms match `text`, best first: a symptom matches when all
/// its fragments appear (case-insensitively); its weight counts, plus a little for longer
/// (more specific) fragments.
pub fn rank_symptoms_in(
    catalog: &[&'static Playbook],
    text: &str,
) -> Vec<(&'static Playbook, f32)> {
    let lower = text.to_lowercase();
    let mut ranked: Vec<(&'static Playbook, f32)> = catalog
        .iter()
        .filter_map(|pb| {
            pb.symptoms
                .iter()
                .filter(|s| s.all_of.iter().all(|frag| lower.contains(frag)))
                .map(|s| {
                    let len: usize = s.all_of.iter().map(|f| f.len()).sum();
                    s.weight + (len.min(80) as f32) / 1000.0
                })
                .reduce(f32::max)
                .map(|best| (*pb, best))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(b.0.id)));
    ranked
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn base(group: &str) -> String {
    let def = crate::server::resources::RESOURCES
        .iter()
        .find(|d| d.group == group);
    match (group, def) {
        ("", _) => "/api/v1".into(),
        (g, Some(d)) => format!("/apis/{g}/{}", d.version),
        (g, None) => format!("/apis/{g}/v1"),
    }
}

/// The API request a query stands for, as `GET /path?query`.
pub fn request_path(kind: &QueryKind) -> String {
    match kind {
        QueryKind::List {
            group,
            resource,
            namespace,
            label_selector,
            field_selector,
        } => {
            let mut p = base(group);
            if let Some(ns) = namespace {
                p.push_str(&format!("/namespaces/{ns}"));
            }
            p.push_str(&format!("/{resource}"));
            let mut q = Vec::new();
            if let Some(l) = label_selector {
                q.push(format!("labelSelector={}", enc(l)));
            }
            if let Some(f) = field_selector {
                q.push(format!("fieldSelector={}", enc(f)));
            }
            if !q.is_empty() {
                p.push('?');
                p.push_str(&q.join("&"));
            }
            format!("GET {p}")
        }
        QueryKind::Get {
            group,
            resource,
            namespace,
            name,
        } => {
            let mut p = base(group);
            if let Some(ns) = namespace {
                p.push_str(&format!("/namespaces/{ns}"));
            }
            format!("GET {p}/{resource}/{name}")
        }
        QueryKind::Logs {
            namespace,
            pod,
            container,
            previous,
            tail_lines,
        } => {
            let mut q = Vec::new();
            if let Some(c) = container {
                q.push(format!("container={}", enc(c)));
            }
            if *previous {
                q.push("previous=true".into());
            }
            if let Some(t) = tail_lines {
                q.push(format!("tailLines={t}"));
            }
            let qs = if q.is_empty() {
                String::new()
            } else {
                format!("?{}", q.join("&"))
            };
            format!("GET /api/v1/namespaces/{namespace}/pods/{pod}/log{qs}")
        }
        QueryKind::Raw { path } => format!("GET {path}"),
        QueryKind::NodeLog { node, unit } => format!(
            "on {}: journalctl -u {unit}",
            node.as_deref().unwrap_or("each node")
        ),
        QueryKind::Connection => "route, DNS, TCP, TLS handshake, GET /version".into(),
    }
}

/// Builders for the queries playbooks declare, each with its kubectl command.
pub mod q {
    use super::super::{Query, QueryKind};

    fn kubectl_ns(ns: Option<&str>) -> String {
        match ns {
            Some(ns) => format!(" -n {ns}"),
            None => " -A".into(),
        }
    }

    /// `kubectl get RESOURCE [-n NS | -A] [-l SEL] [--field-selector SEL] -o yaml`.
    pub fn list(
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Query {
        let cluster_scoped = crate::server::resources::RESOURCES
            .iter()
            .find(|d| d.group == group && d.plural == resource)
            .is_some_and(|d| !d.namespaced);
        let mut kubectl = format!("kubectl get {resource}");
        if !cluster_scoped {
            kubectl.push_str(&kubectl_ns(namespace));
        }
        if let Some(l) = labels {
            kubectl.push_str(&format!(" -l '{l}'"));
        }
        if let Some(f) = fields {
            kubectl.push_str(&format!(" --field-selector '{f}'"));
        }
        kubectl.push_str(" -o yaml");
        Query {
            kubectl,
            kind: QueryKind::List {
                group: group.into(),
                resource: resource.into(),
                namespace: if cluster_scoped {
                    None
                } else {
                    namespace.map(str::to_string)
                },
                label_selector: labels.map(str::to_string),
                field_selector: fields.map(str::to_string),
            },
        }
    }

    /// A core-group list in a namespace (all namespaces for `None`).
    pub fn core(resource: &str, namespace: Option<&str>) -> Query {
        list("", resource, namespace, None, None)
    }

    /// `kubectl get nodes -o yaml`: many playbooks start from the nodes.
    pub fn nodes() -> Query {
        core("nodes", None)
    }

    /// `kubectl get daemonsets -A -o yaml` (the CNI, kube-proxy, CSI node plugins).
    pub fn daemonsets() -> Query {
        list("apps", "daemonsets", None, None, None)
    }

    /// kubeadm's ClusterConfiguration (`kubectl get configmap kubeadm-config -n kube-system`).
    pub fn kubeadm_config() -> Query {
        get("", "configmaps", Some("kube-system"), "kubeadm-config")
    }

    /// The cluster DNS pods (`k8s-app=kube-dns` in kube-system: CoreDNS or kube-dns).
    pub fn dns_pods() -> Query {
        list(
            "",
            "pods",
            Some("kube-system"),
            Some("k8s-app=kube-dns"),
            None,
        )
    }

    /// `kubectl get RESOURCE NAME [-n NS] -o yaml`.
    pub fn get(group: &str, resource: &str, namespace: Option<&str>, name: &str) -> Query {
        let ns = namespace.map(|n| format!(" -n {n}")).unwrap_or_default();
        Query {
            kubectl: format!("kubectl get {resource} {name}{ns} -o yaml"),
            kind: QueryKind::Get {
                group: group.into(),
                resource: resource.into(),
                namespace: namespace.map(str::to_string),
                name: name.into(),
            },
        }
    }

    /// `kubectl logs -n NS POD [-c C] [--previous] [--tail N]`.
    pub fn logs(
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        previous: bool,
        tail: Option<i64>,
    ) -> Query {
        let mut kubectl = format!("kubectl logs -n {namespace} {pod}");
        if let Some(c) = container {
            kubectl.push_str(&format!(" -c {c}"));
        }
        if previous {
            kubectl.push_str(" --previous");
        }
        if let Some(t) = tail {
            kubectl.push_str(&format!(" --tail {t}"));
        }
        Query {
            kubectl,
            kind: QueryKind::Logs {
                namespace: namespace.into(),
                pod: pod.into(),
                container: container.map(str::to_string),
                previous,
                tail_lines: tail,
            },
        }
    }

    /// `kubectl get --raw 'PATH'`.
    pub fn node_log(node: Option<&str>, unit: &str) -> Query {
        Query {
            kubectl: format!(
                "# on {}: journalctl -u {unit} --no-pager | tail -200",
                node.unwrap_or("each node")
            ),
            kind: QueryKind::NodeLog {
                node: node.map(str::to_string),
                unit: unit.to_string(),
            },
        }
    }

    pub fn raw(path: &str) -> Query {
        Query {
            kubectl: format!("kubectl get --raw '{path}'"),
            kind: QueryKind::Raw { path: path.into() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_match_the_rest_api() {
        let q = q::list(
            "",
            "pods",
            Some("kube-system"),
            Some("tier=control-plane"),
            None,
        );
        assert_eq!(
            q.request(),
            "GET /api/v1/namespaces/kube-system/pods?labelSelector=tier%3Dcontrol-plane"
        );
        assert_eq!(
            q.kubectl,
            "kubectl get pods -n kube-system -l 'tier=control-plane' -o yaml"
        );
        let q = q::list(
            "coordination.k8s.io",
            "leases",
            Some("kube-system"),
            None,
            None,
        );
        assert_eq!(
            q.request(),
            "GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        );
        let q = q::list("", "nodes", Some("ignored"), None, None);
        assert_eq!(q.kubectl, "kubectl get nodes -o yaml");
        assert_eq!(q.request(), "GET /api/v1/nodes");
        let q = q::logs("kube-system", "kube-scheduler-cp-1", None, true, Some(100));
        assert_eq!(
            q.request(),
            "GET /api/v1/namespaces/kube-system/pods/kube-scheduler-cp-1/log?previous=true&tailLines=100"
        );
        assert_eq!(q::raw("/readyz?verbose").request(), "GET /readyz?verbose");
    }
}
