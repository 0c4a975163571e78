//! The nodes section: one item per node. Ready, pressure and NetworkUnavailable conditions,
//! the heartbeat from the node's lease in kube-node-lease, cordon, notable taints, kubelet
//! version skew against the API server, and the container runtime.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::common::{age_secs, ago, human, major_minor, one_line, pb, sort_items, unavailable};
use super::{HealthItem, Severity};
use crate::cluster::lean::{Lease, MetaExt, Node};
use crate::cluster::state::ClusterState;

/// Default `leaseDurationSeconds` of a node lease (kubelet's nodeLeaseDurationSeconds).
const NODE_LEASE_DEFAULT_DURATION: i64 = 40;
const CLOUD_TAINT: &str = "node.cloudprovider.kubernetes.io/uninitialized";
/// Kubelets may be at most this many minor versions older than the API server.
const MAX_KUBELET_LAG: u32 = 3;

pub(super) fn section(state: &ClusterState, now: DateTime<Utc>) -> Vec<HealthItem> {
    if let Some(item) = unavailable(state, "nodes") {
        return vec![item];
    }
    if state.nodes.is_empty() {
        return vec![
            HealthItem::new(
                Severity::Warning,
                "No nodes",
                "the node list is empty: no kubelet has registered with this API server",
            )
            .with_playbooks(&[pb::NODE_JOIN, pb::PREFLIGHT]),
        ];
    }
    let leases_blocked = unavailable(state, "leases").is_some();
    let node_leases: HashMap<&str, &Lease> = state
        .leases
        .iter()
        .filter(|l| l.metadata.namespace_str() == "kube-node-lease")
        .map(|l| (l.metadata.name_str(), l.as_ref()))
        .collect();
    let ctx = Ctx {
        now,
        leases: if leases_blocked {
            None
        } else {
            Some(&node_leases)
        },
        server: state.server_version.as_deref(),
    };
    let mut items: Vec<HealthItem> = state.nodes.iter().map(|n| node_item(n, &ctx)).collect();
    sort_items(&mut items);
    items
}

struct Ctx<'a> {
    now: DateTime<Utc>,
    /// `None` when leases cannot be read.
    leases: Option<&'a HashMap<&'a str, &'a Lease>>,
    server: Option<&'a str>,
}

/// One finding about a node.
struct Finding {
    severity: Severity,
    text: String,
    playbook: Option<&'static str>,
}

fn finding(severity: Severity, text: String, playbook: Option<&'static str>) -> Finding {
    Finding {
        severity,
        text,
        playbook,
    }
}

fn is_cni_message(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("networkpluginnotready")
        || t.contains("cni config uninitialized")
        || t.contains("cni plugin not initialized")
        || t.contains("network plugin is not ready")
}

/// `containerd://1.7.22` → `containerd 1.7.22`.
fn runtime_label(v: &str) -> String {
    v.replacen("://", " ", 1)
}

fn node_item(node: &Node, ctx: &Ctx) -> HealthItem {
    let name = node.metadata.name_str();
    let now = ctx.now;
    let mut findings = Vec::new();

    // Ready.
    let ready = node.ready_condition();
    match ready {
        None => findings.push(finding(
            Severity::Unknown,
            "no Ready condition reported yet".into(),
            None,
        )),
        Some(c) if c.is_true() => {}
        Some(c) => {
            let reason = c.reason.as_deref().unwrap_or("");
            let message = c.message.as_deref().unwrap_or("");
            let cni = is_cni_message(reason) || is_cni_message(message);
            let what = if c.status == "False" {
                "NotReady"
            } else {
                "Ready Unknown"
            };
            let detail = match (reason.is_empty(), message.is_empty()) {
                (_, false) => one_line(message, 140),
                (false, true) => reason.to_string(),
                (true, true) if c.status == "False" => "kubelet reports NotReady".into(),
                (true, true) => "kubelet stopped posting node status".into(),
            };
            let since = c
                .last_transition_time
                .map(|t| format!(" (for {})", ago(now, t)))
                .unwrap_or_default();
            let playbook = if cni {
                Some(pb::NO_CNI)
            } else if c.status == "Unknown" {
                Some(pb::NODE_STATUS_UNKNOWN)
            } else {
                None
            };
            findings.push(finding(
                Severity::Critical,
                format!("{what}{since}: {detail}"),
                playbook,
            ));
        }
    }

    // Pressure and network conditions.
    for c in &node.status.conditions {
        if !c.is_true() {
            continue;
        }
        match c.type_.as_str() {
            "MemoryPressure" | "DiskPressure" | "PIDPressure" => findings.push(finding(
                Severity::Warning,
                format!(
                    "{}{}",
                    c.type_,
                    c.message
                        .as_deref()
                        .map(|m| format!(": {}", one_line(m, 100)))
                        .unwrap_or_default()
                ),
                Some(pb::PRESSURE),
            )),
            "NetworkUnavailable" => findings.push(finding(
                Severity::Critical,
                format!(
                    "NetworkUnavailable: {}",
                    c.reason
                        .as_deref()
                        .or(c.message.as_deref())
                        .unwrap_or("pod network not set up")
                ),
                Some(pb::NO_CNI),
            )),
            _ => {}
        }
    }

    // Heartbeat.
    let mut heartbeat = None;
    match ctx.leases {
        None => {}
        Some(leases) => match leases.get(name) {
            Some(l) => {
                let duration = l
                    .spec
                    .lease_duration_seconds
                    .map_or(NODE_LEASE_DEFAULT_DURATION, i64::from);
                match l.spec.renew_time {
                    Some(t) => {
                        let age = age_secs(now, t);
                        heartbeat = Some(age);
                        if age > duration {
                            findings.push(finding(
                                Severity::Critical,
                                format!("kubelet stopped renewing its lease {} ago", human(age)),
                                Some(pb::NODE_STATUS_UNKNOWN),
                            ));
                        }
                    }
                    None => findings.push(finding(
                        Severity::Warning,
                        "its node lease was never renewed".into(),
                        None,
                    )),
                }
            }
            None if !leases.is_empty() => findings.push(finding(
                Severity::Warning,
                "no lease in kube-node-lease: heartbeat unknown".into(),
                None,
            )),
            None => {}
        },
    }

    // Cordon and taints.
    if node.spec.unschedulable {
        findings.push(finding(
            Severity::Warning,
            "cordoned (SchedulingDisabled)".into(),
            None,
        ));
    }
    let ready_true = ready.is_some_and(|c| c.is_true());
    for t in &node.spec.taints {
        match t.key.as_str() {
            CLOUD_TAINT => findings.push(finding(
                Severity::Warning,
                format!("tainted {CLOUD_TAINT}: the cloud controller has not initialised it"),
                Some(pb::CLOUD_TAINT),
            )),
            "node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable" if ready_true => {
                findings.push(finding(
                    Severity::Warning,
                    format!("Ready but still tainted {}:{}", t.key, t.effect),
                    None,
                ))
            }
            _ => {}
        }
    }

    // Version skew.
    let kubelet = node.status.node_info.kubelet_version.as_deref();
    if let (Some(k), Some(s)) = (kubelet, ctx.server)
        && let (Some((kmaj, kmin)), Some((smaj, smin))) = (major_minor(k), major_minor(s))
        && kmaj == smaj
    {
        if kmin > smin {
            findings.push(finding(
                Severity::Critical,
                format!("kubelet {k} is newer than the API server {s} (unsupported skew)"),
                Some(pb::PREFLIGHT),
            ));
        } else if smin - kmin > MAX_KUBELET_LAG {
            findings.push(finding(
                Severity::Warning,
                format!(
                    "kubelet {k} is {} minor versions behind the API server {s} (supported: {MAX_KUBELET_LAG})",
                    smin - kmin
                ),
                Some(pb::PREFLIGHT),
            ));
        }
    }

    let runtime = node
        .status
        .node_info
        .container_runtime_version
        .as_deref()
        .map(runtime_label);
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Ok);
    let reason = if findings.is_empty() {
        let mut parts = vec!["Ready".to_string()];
        if let Some(h) = heartbeat {
            parts.push(format!("heartbeat {} ago", human(h)));
        }
        parts.extend(kubelet.map(str::to_string));
        parts.extend(runtime.clone());
        parts.join(", ")
    } else {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        findings
            .iter()
            .map(|f| f.text.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let playbooks: Vec<&str> = findings.iter().filter_map(|f| f.playbook).collect();

    let mut item = HealthItem::new(severity, name, reason)
        .with_object(format!("Node/{name}"))
        .with_playbooks(&playbooks);
    let roles = node.roles();
    if !roles.is_empty() {
        item = item.with_detail("Roles", roles.join(","));
    }
    if let Some(ip) = node.address("InternalIP") {
        item = item.with_detail("InternalIP", ip);
    }
    if let Some(c) = ready {
        let since = c
            .last_transition_time
            .map(|t| format!(" for {}", ago(now, t)))
            .unwrap_or_default();
        item = item.with_detail("Ready", format!("{}{since}", c.status));
    }
    item = item.with_detail(
        "Heartbeat",
        match (heartbeat, ctx.leases.is_none()) {
            (Some(h), _) => format!("{} ago (kube-node-lease)", human(h)),
            (None, true) => "unknown (cannot list leases)".into(),
            (None, false) => "unknown (no node lease)".into(),
        },
    );
    if let Some(k) = kubelet {
        item = item.with_detail("Kubelet", k);
    }
    if let Some(r) = runtime {
        item = item.with_detail("Runtime", r);
    }
    let info = &node.status.node_info;
    if let Some(os) = &info.os_image {
        item = item.with_detail("OS", os.clone());
    }
    if let Some(k) = &info.kernel_version {
        item = item.with_detail("Kernel", k.clone());
    }
    if !node.spec.taints.is_empty() {
        let taints: Vec<String> = node
            .spec
            .taints
            .iter()
            .map(|t| match &t.value {
                Some(v) if !v.is_empty() => format!("{}={}:{}", t.key, v, t.effect),
                _ => format!("{}:{}", t.key, t.effect),
            })
            .collect();
        item = item.with_detail("Taints", taints.join(", "));
    }
    if let Some(cidr) = &node.spec.pod_cidr {
        item = item.with_detail("Pod CIDR", cidr.clone());
    }
    if let Some(p) = &node.spec.provider_id {
        item = item.with_detail("Provider ID", p.clone());
    }
    for key in ["cpu", "memory", "pods"] {
        if let Some(v) = node.status.allocatable.get(key) {
            item = item.with_detail(format!("Allocatable {key}"), v.clone());
        }
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::fixtures::*;
    use serde_json::{Value, json};

    fn with_node(name: &str, node: Value) -> ClusterState {
        healthy_with(|v| is(v, "Node", name), vec![node])
    }

    fn item(state: &ClusterState, name: &str) -> HealthItem {
        section(state, now())
            .into_iter()
            .find(|i| i.title == name)
            .unwrap_or_else(|| panic!("no node item {name}"))
    }

    #[test]
    fn ready_node_reads_like_a_status_line() {
        let i = item(&healthy_cluster(), "w-1");
        assert_eq!(i.severity, Severity::Ok);
        assert_eq!(
            i.reason,
            "Ready, heartbeat 4s ago, v1.31.4, containerd 1.7.22"
        );
        assert_eq!(i.object.as_deref(), Some("Node/w-1"));
        assert!(
            i.details
                .contains(&("Runtime".into(), "containerd 1.7.22".into()))
        );
        assert!(i.playbooks.is_empty());
    }

    #[test]
    fn notready_without_cni_is_critical_and_names_the_cni_playbook() {
        let n = node_condition(
            node("w-1"),
            "Ready",
            "False",
            "KubeletNotReady",
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady \
             message:Network plugin returns error: cni plugin not initialized",
        );
        let i = item(&with_node("w-1", n), "w-1");
        assert_eq!(i.severity, Severity::Critical);
        assert!(
            i.reason
                .starts_with("NotReady (for 10m): container runtime network not ready")
        );
        assert_eq!(i.playbooks, ["node-notready-no-cni"]);
    }

    #[test]
    fn a_node_that_stopped_posting_status_links_the_node_status_playbook() {
        let n = node_condition(
            node("w-1"),
            "Ready",
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        );
        let i = item(&with_node("w-1", n), "w-1");
        assert_eq!(i.severity, Severity::Critical);
        assert!(i.reason.starts_with("Ready Unknown"));
        assert_eq!(i.playbooks, ["node-status-unknown"]);
    }

    #[test]
    fn pressure_warns_and_network_unavailable_is_critical() {
        let n = node_condition(
            node("w-1"),
            "DiskPressure",
            "True",
            "KubeletHasDiskPressure",
            "",
        );
        let i = item(&with_node("w-1", n), "w-1");
        assert_eq!(i.severity, Severity::Warning);
        assert_eq!(i.playbooks, ["node-pressure-evictions"]);

        let n = node_condition(
            node("w-1"),
            "NetworkUnavailable",
            "True",
            "NoRouteCreated",
            "",
        );
        let i = item(&with_node("w-1", n), "w-1");
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(i.reason, "NetworkUnavailable: NoRouteCreated");

        // NetworkUnavailable False (what calico sets) is fine.
        let n = node_condition(node("w-1"), "NetworkUnavailable", "False", "CalicoIsUp", "");
        assert_eq!(item(&with_node("w-1", n), "w-1").severity, Severity::Ok);
    }

    #[test]
    fn a_stale_node_lease_is_critical_even_while_ready() {
        let state = healthy_with(|v| is(v, "Lease", "w-1"), vec![node_lease("w-1", 330)]);
        let i = item(&state, "w-1");
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(i.reason, "kubelet stopped renewing its lease 5m30s ago");
        assert_eq!(i.playbooks, ["node-status-unknown"]);
    }

    #[test]
    fn cordon_and_cloud_taint_warn() {
        let n = with(
            node("w-1"),
            json!({"spec": {"unschedulable": true, "taints": [
                {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true",
                 "effect": "NoSchedule"}]}}),
        );
        let i = item(&with_node("w-1", n), "w-1");
        assert_eq!(i.severity, Severity::Warning);
        assert!(i.reason.contains("cordoned"));
        assert_eq!(i.playbooks, ["node-uninitialized-cloud-taint"]);
        assert!(
            i.details
                .iter()
                .any(|(k, v)| k == "Taints" && v.contains("=true:NoSchedule"))
        );

        // The control-plane NoSchedule taint is normal.
        assert_eq!(item(&healthy_cluster(), "cp-1").severity, Severity::Ok);
    }

    #[test]
    fn kubelet_skew_against_the_api_server() {
        let newer = with(
            node("w-1"),
            json!({"status": {"nodeInfo": {"kubeletVersion": "v1.32.1"}}}),
        );
        let i = item(&with_node("w-1", newer), "w-1");
        assert_eq!(i.severity, Severity::Critical);
        assert!(i.reason.contains("newer than the API server v1.31.4"));

        let old = with(
            node("w-1"),
            json!({"status": {"nodeInfo": {"kubeletVersion": "v1.27.9"}}}),
        );
        assert_eq!(
            item(&with_node("w-1", old), "w-1").severity,
            Severity::Warning
        );

        let supported = with(
            node("w-1"),
            json!({"status": {"nodeInfo": {"kubeletVersion": "v1.28.0"}}}),
        );
        assert_eq!(
            item(&with_node("w-1", supported), "w-1").severity,
            Severity::Ok
        );
    }

    #[test]
    fn worst_node_comes_first() {
        let n = node_condition(
            node("w-1"),
            "Ready",
            "False",
            "KubeletNotReady",
            "PLEG is not healthy",
        );
        let items = section(&with_node("w-1", n), now());
        assert_eq!(items[0].title, "w-1");
        assert_eq!(items[1].title, "cp-1");
    }
}
