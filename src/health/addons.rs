//! The add-ons section: cluster DNS (CoreDNS/kube-dns), kube-proxy, the CNI (found by its
//! DaemonSet), metrics-server, ingress controllers and CSI drivers, each with desired / ready /
//! available and the restarts of its pods. A cluster without a CNI DaemonSet gets an item
//! saying so.
//!
//! Pods are matched to add-ons in one pass: by controller owner (a ReplicaSet owner maps to its
//! Deployment by stripping the `pod-template-hash`), else by name prefix.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::common::{RECENT_SECS, age_secs, pb, sort_items, unavailable};

/// An add-on pod restarting this often (restarts per hour since it started, with a restart
/// in the last hour) is in a restart storm: the add-on is effectively down (popeye 205).
const STORM_PER_HOUR: f64 = 5.0;
use super::{HealthItem, Severity};
use crate::cluster::lean::{MetaExt, Pod};
use crate::cluster::state::ClusterState;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    Dns,
    KubeProxy,
    Cni,
    MetricsServer,
    Ingress,
    Csi,
}

impl Category {
    fn title(self, name: &str) -> String {
        match self {
            Category::Dns => format!("DNS: {name}"),
            Category::KubeProxy if name == "kube-proxy" => name.to_string(),
            Category::KubeProxy => format!("kube-proxy: {name}"),
            Category::Cni => format!("CNI: {name}"),
            Category::MetricsServer if name == "metrics-server" => name.to_string(),
            Category::MetricsServer => format!("metrics-server: {name}"),
            Category::Ingress => format!("Ingress: {name}"),
            Category::Csi => format!("CSI: {name}"),
        }
    }

    /// The playbook that explains this add-on not being ready.
    fn playbook(self) -> &'static str {
        match self {
            Category::Dns => pb::DNS,
            Category::KubeProxy => pb::SERVICE_REACH,
            Category::Cni => pb::OVERLAY,
            Category::MetricsServer => pb::KUBELET_PORT,
            Category::Ingress => pb::INGRESS,
            Category::Csi => pb::CSI,
        }
    }
}

/// DaemonSet names (and `k8s-app`/`app` label values) of CNI agents.
const CNI_NAMES: &[&str] = &[
    "calico-node",
    "canal",
    "cilium",
    "weave-net",
    "antrea-agent",
    "kube-router",
    "kindnet",
    "flannel",
    "kube-flannel",
    "kube-ovn-cni",
    "ovnkube-node",
    "aws-node",
];

const INGRESS_NAMES: &[&str] = &[
    "traefik",
    "haproxy-ingress",
    "contour",
    "kong",
    "ingress-nginx",
    "nginx-ingress",
];

fn classify(kind: &str, meta: &ObjectMeta) -> Option<Category> {
    let name = meta.name_str();
    let k8s_app = meta.label("k8s-app").unwrap_or("");
    let app = meta.label("app").unwrap_or("");
    let app_name = meta.label("app.kubernetes.io/name").unwrap_or("");
    let ds = kind == "DaemonSet";
    if kind == "Deployment" && (name == "coredns" || name == "kube-dns" || k8s_app == "kube-dns") {
        return Some(Category::Dns);
    }
    if ds && (name == "kube-proxy" || k8s_app == "kube-proxy") {
        return Some(Category::KubeProxy);
    }
    if ds
        && (CNI_NAMES.contains(&name)
            || name.starts_with("kube-flannel-ds")
            || CNI_NAMES.contains(&k8s_app)
            || app == "flannel")
    {
        return Some(Category::Cni);
    }
    if kind == "Deployment"
        && (name == "metrics-server" || k8s_app == "metrics-server" || app_name == "metrics-server")
    {
        return Some(Category::MetricsServer);
    }
    let ingress_by_name =
        (name.contains("ingress") && name.contains("controller")) || INGRESS_NAMES.contains(&name);
    let ingress_by_label = INGRESS_NAMES.contains(&app_name)
        && meta
            .label("app.kubernetes.io/component")
            .is_none_or(|c| c == "controller");
    if ingress_by_name || ingress_by_label {
        return Some(Category::Ingress);
    }
    if name.contains("csi") {
        return Some(Category::Csi);
    }
    None
}

/// One detected add-on workload and what its pods say.
struct Addon<'a> {
    category: Category,
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    desired: i32,
    ready: i32,
    available: i32,
    updated: Option<i32>,
    pods: usize,
    restarts: i64,
    crashlooping: Vec<&'a str>,
    restarted_recently: usize,
    /// Pods that restarted recently at a storm rate (>= STORM_PER_HOUR since they started).
    storming: usize,
}

pub(super) fn section(state: &ClusterState, now: DateTime<Utc>) -> Vec<HealthItem> {
    let mut items = Vec::new();
    let ds_blocked = unavailable(state, "daemonsets");
    let deploy_blocked = unavailable(state, "deployments");
    let sts_blocked = unavailable(state, "statefulsets");
    let pods_blocked = unavailable(state, "pods");

    let mut addons: Vec<Addon> = Vec::new();
    if ds_blocked.is_none() {
        for d in &state.daemonsets {
            if let Some(c) = classify("DaemonSet", &d.metadata) {
                let s = &d.status;
                addons.push(Addon {
                    category: c,
                    kind: "DaemonSet",
                    namespace: d.metadata.namespace_str(),
                    name: d.metadata.name_str(),
                    desired: s.desired_number_scheduled.unwrap_or(0),
                    ready: s.number_ready.unwrap_or(0),
                    available: s.number_available.unwrap_or(0),
                    updated: s.updated_number_scheduled,
                    pods: 0,
                    restarts: 0,
                    crashlooping: Vec::new(),
                    restarted_recently: 0,
                    storming: 0,
                });
            }
        }
    }
    let replica_workloads = state
        .deployments
        .iter()
        .filter(|_| deploy_blocked.is_none())
        .map(|d| ("Deployment", &d.metadata, &d.spec, &d.status))
        .chain(
            state
                .statefulsets
                .iter()
                .filter(|_| sts_blocked.is_none())
                .map(|s| ("StatefulSet", &s.metadata, &s.spec, &s.status)),
        );
    for (kind, meta, spec, status) in replica_workloads {
        if let Some(c) = classify(kind, meta) {
            addons.push(Addon {
                category: c,
                kind,
                namespace: meta.namespace_str(),
                name: meta.name_str(),
                desired: spec.replicas.unwrap_or(1),
                ready: status.ready_replicas.unwrap_or(0),
                available: status.available_replicas.unwrap_or(0),
                updated: status.updated_replicas,
                pods: 0,
                restarts: 0,
                crashlooping: Vec::new(),
                restarted_recently: 0,
                storming: 0,
            });
        }
    }

    if pods_blocked.is_none() {
        attach_pods(&mut addons, &state.pods, now);
    }

    for a in &addons {
        items.push(addon_item(a, pods_blocked.is_none()));
    }

    // A missing CNI, truthfully.
    match &ds_blocked {
        Some(item) => items.push(item.clone()),
        None if !addons.iter().any(|a| a.category == Category::Cni) => {
            items.push(missing_cni(state));
        }
        None => {}
    }
    match &deploy_blocked {
        Some(item) => items.push(item.clone()),
        None if !addons.iter().any(|a| a.category == Category::Dns) => {
            items.push(missing_dns(state))
        }
        None => {}
    }
    if let Some(item) = pods_blocked {
        items.push(item);
    }
    sort_items(&mut items);
    items
}

/// One pass over the pods: owner lookups through a hash map, name-prefix fallback for pods
/// without owner references.
fn attach_pods<'a>(addons: &mut [Addon<'a>], pods: &'a [std::sync::Arc<Pod>], now: DateTime<Utc>) {
    if addons.is_empty() {
        return;
    }
    let index: HashMap<(&str, &str, &str), usize> = addons
        .iter()
        .enumerate()
        .map(|(i, a)| ((a.kind, a.namespace, a.name), i))
        .collect();
    for p in pods {
        let ns = p.metadata.namespace_str();
        let slot = match p.metadata.controller_owner() {
            Some(o) => {
                let (kind, name) = match o.kind.as_str() {
                    "ReplicaSet" => ("Deployment", deployment_of(&o.name, p)),
                    k => (k, o.name.as_str()),
                };
                index.get(&(kind, ns, name)).copied()
            }
            None => {
                let name = p.metadata.name_str();
                addons.iter().position(|a| {
                    a.namespace == ns
                        && name.len() > a.name.len()
                        && name.starts_with(a.name)
                        && name.as_bytes()[a.name.len()] == b'-'
                })
            }
        };
        let Some(i) = slot else { continue };
        let a = &mut addons[i];
        a.pods += 1;
        a.restarts += p.restarts();
        if p.waiting_with("CrashLoopBackOff").is_some() {
            a.crashlooping.push(p.metadata.name_str());
        }
        if p.last_termination()
            .and_then(|(_, t)| t.finished_at)
            .is_some_and(|f| age_secs(now, f) < RECENT_SECS)
        {
            a.restarted_recently += 1;
            let started = p.status.start_time.or_else(|| p.metadata.created());
            let hours = started.map(|s| (age_secs(now, s) as f64 / 3600.0).max(0.25));
            if hours.is_some_and(|h| p.restarts() as f64 / h >= STORM_PER_HOUR) {
                a.storming += 1;
            }
        }
    }
}

/// `coredns-5d8c7b9f6d` (with pod-template-hash `5d8c7b9f6d`) → `coredns`.
fn deployment_of<'a>(rs_name: &'a str, pod: &Pod) -> &'a str {
    if let Some(hash) = pod.label("pod-template-hash")
        && let Some(base) = rs_name.strip_suffix(hash)
        && let Some(base) = base.strip_suffix('-')
    {
        return base;
    }
    rs_name.rsplit_once('-').map_or(rs_name, |(base, _)| base)
}

fn addon_item(a: &Addon, pods_known: bool) -> HealthItem {
    let counts = format!(
        "{}/{} ready, {} available, {} restarts",
        a.ready, a.desired, a.available, a.restarts
    );
    let (severity, reason, playbooks): (Severity, String, Vec<&str>) = if !a.crashlooping.is_empty()
    {
        let n = a.crashlooping.len();
        let mut shown: Vec<&str> = a.crashlooping.iter().take(3).copied().collect();
        if n > 3 {
            shown.push("…");
        }
        (
            Severity::Critical,
            format!(
                "{n} pod{} in CrashLoopBackOff ({}); {counts}",
                if n == 1 { "" } else { "s" },
                shown.join(", ")
            ),
            vec![pb::ADDON_STORM, pb::CRASHLOOP, a.category.playbook()],
        )
    } else if a.desired > 0 && a.ready == 0 {
        (
            Severity::Critical,
            format!("none ready: {counts}"),
            vec![a.category.playbook()],
        )
    } else if a.ready < a.desired {
        (
            Severity::Warning,
            format!("not all ready: {counts}"),
            vec![a.category.playbook()],
        )
    } else if a.desired == 0 {
        let what = if a.kind == "DaemonSet" {
            "scheduled on no node"
        } else {
            "scaled to 0 replicas"
        };
        (
            Severity::Warning,
            format!("{what}: {counts}"),
            vec![a.category.playbook()],
        )
    } else if a.storming > 0 {
        (
            Severity::Critical,
            format!(
                "{} pod{} restarting at {STORM_PER_HOUR:.0}+ restarts/h; {counts}",
                a.storming,
                if a.storming == 1 { "" } else { "s" }
            ),
            vec![pb::ADDON_STORM, pb::CRASHLOOP],
        )
    } else if a.restarted_recently > 0 {
        (
            Severity::Warning,
            format!(
                "{} pod{} restarted in the last hour; {counts}",
                a.restarted_recently,
                if a.restarted_recently == 1 { "" } else { "s" }
            ),
            vec![pb::ADDON_STORM],
        )
    } else {
        (Severity::Ok, counts, vec![])
    };
    let mut item = HealthItem::new(severity, a.category.title(a.name), reason)
        .with_object(format!("{}/{}/{}", a.kind, a.namespace, a.name))
        .with_playbooks(&playbooks)
        .with_detail("Kind", a.kind)
        .with_detail("Namespace", a.namespace)
        .with_detail("Desired", a.desired.to_string())
        .with_detail("Ready", a.ready.to_string())
        .with_detail("Available", a.available.to_string());
    if let Some(u) = a.updated {
        item = item.with_detail("Up-to-date", u.to_string());
    }
    if pods_known {
        item = item
            .with_detail("Pods", a.pods.to_string())
            .with_detail("Restarts", a.restarts.to_string());
    } else {
        item = item.with_detail("Pods", "unknown (cannot list pods)");
    }
    if !a.crashlooping.is_empty() {
        item = item.with_detail("CrashLoopBackOff", a.crashlooping.join(", "));
    }
    item
}

/// Name prefixes of CNI agent pods: their pods prove a CNI when its DaemonSet was not captured.
const CNI_AGENT_PODS: [&str; 9] = [
    "calico-node",
    "kube-flannel",
    "weave-net",
    "cilium",
    "canal",
    "antrea-agent",
    "kube-router",
    "kindnet",
    "aws-node",
];

/// No DNS Deployment among the add-ons: the DNS pods (CoreDNS, or kube-dns with its
/// kubedns/dnsmasq/sidecar containers) prove DNS when the Deployment was not captured, and a
/// fragment of the Deployments proves nothing.
fn missing_dns(state: &ClusterState) -> HealthItem {
    let pod = state.pods.iter().find(|p| {
        p.metadata.namespace_str() == "kube-system"
            && (p.label("k8s-app") == Some("kube-dns")
                || ["coredns-", "kube-dns-"]
                    .iter()
                    .any(|n| p.metadata.name_str().starts_with(n)))
    });
    if let Some(p) = pod {
        return HealthItem::new(
            Severity::Unknown,
            "DNS",
            format!(
                "DNS pod {} found, its Deployment was not captured: `kubectl get deploy -n kube-system -o yaml`",
                p.metadata.name_str()
            ),
        );
    }
    if !state.fully_listed("deployments") {
        return HealthItem::new(
            Severity::Unknown,
            "DNS",
            "no coredns or kube-dns Deployment among the Deployments captured, but the snapshot \
             did not list them all: `kubectl get deploy -n kube-system -o yaml`",
        );
    }
    HealthItem::new(
        Severity::Warning,
        "DNS",
        "no cluster DNS add-on (a coredns or kube-dns Deployment) found",
    )
    .with_playbooks(&[pb::DNS])
}

fn missing_cni(state: &ClusterState) -> HealthItem {
    let agent = state.pods.iter().find(|p| {
        let name = p.metadata.name_str();
        CNI_AGENT_PODS.iter().any(|a| name.starts_with(a))
    });
    if let Some(p) = agent {
        return HealthItem::new(
            Severity::Unknown,
            "CNI",
            format!(
                "CNI agent pod {} found, its DaemonSet was not captured: `kubectl get ds -A -o yaml`",
                p.metadata.name_str()
            ),
        );
    }
    if !state.fully_listed("daemonsets") {
        return HealthItem::new(
            Severity::Unknown,
            "CNI",
            "no CNI DaemonSet among the DaemonSets captured, but the snapshot did not list              them all: `kubectl get ds -A -o yaml`",
        )
        .with_detail("Capture", "kubectl get ds -A -o yaml");
    }
    let all_ready = !state.nodes.is_empty()
        && state
            .nodes
            .iter()
            .all(|n| n.ready_condition().is_some_and(|c| c.is_true()));
    let base = "No CNI plugin installed: no CNI DaemonSet (calico, flannel, cilium, weave, \
                canal, antrea, kube-router, kindnet…) found";
    let item = if all_ready {
        HealthItem::new(
            Severity::Warning,
            "CNI",
            format!("{base}; every node is Ready, so the platform may provide the pod network"),
        )
    } else {
        HealthItem::new(Severity::Critical, "CNI", base)
    };
    item.with_playbooks(&[pb::NO_CNI])
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_fragment_proves_no_missing_add_on_and_agent_pods_prove_one() {
        use crate::cluster::state::ClusterState;
        let pod = |ns: &str, name: &str| {
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": name, "namespace": ns},
                   "status": {"phase": "Running",
                              "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0,
                                                     "image": "x", "imageID": "", "state": {"running": {}}}]}})
        };
        let mut fragment = ClusterState::from_objects(&[
            pod("kube-system", "calico-node-x7k2p"),
            pod("kube-system", "coredns-5d78c9869d-abcde"),
        ]);
        fragment.partial = vec!["daemonsets".into(), "deployments".into()];
        let report = section(&fragment, now());
        let cni = find(&report, "CNI");
        let dns = find(&report, "DNS");
        assert_eq!(cni.severity, Severity::Unknown, "{cni:?}");
        assert!(cni.reason.contains("calico-node-x7k2p"), "{}", cni.reason);
        assert_eq!(dns.severity, Severity::Unknown, "{dns:?}");
        assert!(
            dns.reason.contains("coredns-5d78c9869d-abcde"),
            "{}",
            dns.reason
        );
        // Without any such pod, a fragment still proves nothing.
        let mut bare = ClusterState::from_objects(&[pod("shop", "web-1")]);
        bare.partial = vec!["daemonsets".into(), "deployments".into()];
        let report = section(&bare, now());
        assert_eq!(find(&report, "CNI").severity, Severity::Unknown);
        assert_eq!(find(&report, "DNS").severity, Severity::Unknown);
        // A pod without conditions is ready when its containers are.
        assert!(bare.pods[0].is_ready());
    }

    use super::*;
    use crate::health::fixtures::*;
    use serde_json::json;

    fn find(items: &[HealthItem], title: &str) -> HealthItem {
        items
            .iter()
            .find(|i| i.title == title)
            .cloned()
            .unwrap_or_else(|| panic!("no item {title} in {items:#?}"))
    }

    #[test]
    fn healthy_addons_are_detected_with_counts() {
        let items = section(&healthy_cluster(), now());
        let dns = find(&items, "DNS: coredns");
        assert_eq!(dns.severity, Severity::Ok);
        assert_eq!(dns.reason, "2/2 ready, 2 available, 0 restarts");
        assert_eq!(
            dns.object.as_deref(),
            Some("Deployment/kube-system/coredns")
        );
        assert!(
            dns.details.contains(&("Pods".into(), "2".into())),
            "pods matched via RS owner"
        );
        let cni = find(&items, "CNI: calico-node");
        assert_eq!(
            cni.object.as_deref(),
            Some("DaemonSet/kube-system/calico-node")
        );
        assert_eq!(find(&items, "kube-proxy").severity, Severity::Ok);
        // The app deployment `web` is not an add-on.
        assert!(!items.iter().any(|i| i.title.contains("web")));
        assert!(
            items.iter().all(|i| i.severity == Severity::Ok),
            "{items:#?}"
        );
    }

    #[test]
    fn no_cni_daemonset_is_critical_when_nodes_are_not_ready() {
        let notready = node_condition(
            node("w-1"),
            "Ready",
            "False",
            "KubeletNotReady",
            "cni plugin not initialized",
        );
        let state = healthy_with(
            |v| {
                v["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("calico"))
                    || is(v, "Node", "w-1")
            },
            vec![notready],
        );
        let cni = find(&section(&state, now()), "CNI");
        assert_eq!(cni.severity, Severity::Critical);
        assert!(cni.reason.starts_with("No CNI plugin installed"));
        assert_eq!(cni.playbooks, ["node-notready-no-cni"]);
    }

    #[test]
    fn no_cni_daemonset_with_all_nodes_ready_is_only_a_warning() {
        let state = healthy_with(
            |v| {
                v["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("calico"))
            },
            vec![],
        );
        assert_eq!(
            find(&section(&state, now()), "CNI").severity,
            Severity::Warning
        );
    }

    #[test]
    fn crashlooping_addon_pod_is_critical_with_restart_storm_playbook() {
        let bad = crashlooping(
            deploy_pod("kube-system", "coredns", "bbbbb", "cp-1"),
            14,
            40,
            1,
            "Error",
        );
        let state = healthy_with(
            |v| is(v, "Pod", "coredns-5d8c7b9f6d-bbbbb") || is(v, "Deployment", "coredns"),
            vec![
                bad,
                with(deployment("kube-system", "coredns", 2, 1), json!({})),
            ],
        );
        let items = section(&state, now());
        let dns = find(&items, "DNS: coredns");
        assert_eq!(dns.severity, Severity::Critical);
        assert_eq!(
            dns.reason,
            "1 pod in CrashLoopBackOff (coredns-5d8c7b9f6d-bbbbb); 1/2 ready, 1 available, 14 restarts"
        );
        assert_eq!(
            dns.playbooks,
            ["addon-restart-storm", "crashloop", "dns-addon-degraded"]
        );
        assert_eq!(items[0].title, "DNS: coredns", "worst first");
    }

    #[test]
    fn partially_ready_warns_and_zero_ready_is_critical() {
        let state = healthy_with(
            |v| is(v, "DaemonSet", "calico-node"),
            vec![daemonset("kube-system", "calico-node", 2, 1)],
        );
        let cni = find(&section(&state, now()), "CNI: calico-node");
        assert_eq!(cni.severity, Severity::Warning);
        assert_eq!(cni.playbooks, ["overlay-port-blocked"]);

        let state = healthy_with(
            |v| is(v, "DaemonSet", "calico-node"),
            vec![daemonset("kube-system", "calico-node", 2, 0)],
        );
        let cni = find(&section(&state, now()), "CNI: calico-node");
        assert_eq!(cni.severity, Severity::Critical);
        assert!(cni.reason.starts_with("none ready"));
    }

    #[test]
    fn old_restarts_of_an_addon_are_ok_recent_ones_warn() {
        let old = restarted(
            ds_pod("kube-system", "kube-proxy", "pw-1", "w-1"),
            5,
            2 * 86_400,
            2,
            "Error",
        );
        let state = healthy_with(|v| is(v, "Pod", "kube-proxy-pw-1"), vec![old]);
        let kp = find(&section(&state, now()), "kube-proxy");
        assert_eq!(kp.severity, Severity::Ok);
        assert_eq!(kp.reason, "2/2 ready, 2 available, 5 restarts");

        let recent = restarted(
            ds_pod("kube-system", "kube-proxy", "pw-1", "w-1"),
            5,
            600,
            2,
            "Error",
        );
        let state = healthy_with(|v| is(v, "Pod", "kube-proxy-pw-1"), vec![recent]);
        let kp = find(&section(&state, now()), "kube-proxy");
        assert_eq!(kp.severity, Severity::Warning);
        assert_eq!(kp.playbooks, ["addon-restart-storm"]);
    }

    #[test]
    fn a_restart_storm_of_a_running_addon_pod_is_critical() {
        // 60 restarts in the 2 days since it started (1.25/h) with one 10 min ago: a warning.
        let slow = restarted(
            ds_pod("kube-system", "kube-proxy", "pw-1", "w-1"),
            60,
            600,
            137,
            "OOMKilled",
        );
        let state = healthy_with(|v| is(v, "Pod", "kube-proxy-pw-1"), vec![slow]);
        assert_eq!(
            find(&section(&state, now()), "kube-proxy").severity,
            Severity::Warning
        );
        // 300 restarts in 2 days (6.25/h), the last 2 min ago, Running between kills: critical.
        let storm = restarted(
            ds_pod("kube-system", "kube-proxy", "pw-1", "w-1"),
            300,
            120,
            137,
            "OOMKilled",
        );
        let state = healthy_with(|v| is(v, "Pod", "kube-proxy-pw-1"), vec![storm]);
        let kp = find(&section(&state, now()), "kube-proxy");
        assert_eq!(kp.severity, Severity::Critical, "{kp:?}");
        assert!(
            kp.reason.contains("restarting at 5+ restarts/h"),
            "{}",
            kp.reason
        );
        assert_eq!(kp.playbooks[0], "addon-restart-storm");
    }

    #[test]
    fn detects_other_addons_by_name_and_label() {
        let extra = vec![
            deployment("kube-system", "metrics-server", 1, 1),
            deployment("ingress-nginx", "ingress-nginx-controller", 1, 1),
            daemonset("kube-system", "ebs-csi-node", 2, 2),
            daemonset("kube-flannel", "kube-flannel-ds", 2, 2),
            with(
                daemonset("kube-system", "cilium-agent-x", 2, 2),
                json!({"metadata": {"labels": {"k8s-app": "cilium"}}}),
            ),
            deployment("default", "my-app", 1, 1),
        ];
        let items = section(&healthy_with(|_| false, extra), now());
        for t in [
            "metrics-server",
            "Ingress: ingress-nginx-controller",
            "CSI: ebs-csi-node",
            "CNI: kube-flannel-ds",
            "CNI: cilium-agent-x",
        ] {
            find(&items, t);
        }
        assert!(!items.iter().any(|i| i.title.contains("my-app")));
    }

    #[test]
    fn deployment_name_from_replicaset() {
        let pod: Pod = serde_json::from_value(
            json!({"metadata": {"labels": {"pod-template-hash": "7db6d8ff4d"}}}),
        )
        .unwrap();
        assert_eq!(deployment_of("my-app-v2-7db6d8ff4d", &pod), "my-app-v2");
        assert_eq!(
            deployment_of("my-app-v2-7db6d8ff4d", &Pod::default()),
            "my-app-v2"
        );
    }
}
