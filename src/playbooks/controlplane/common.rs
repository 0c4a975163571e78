//! Shared readers for the control-plane playbooks: the queries they have in common (mirror
//! pods, leases, nodes, kubeadm-config), static-pod flag parsing, kubeadm ClusterConfiguration
//! fields, klog timestamps and lease freshness. Pure functions only. (NO_PROXY matching is
//! `cluster::proxy`'s, the one Go-faithful matcher.)

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde_json::Value;

use crate::playbooks::engine::q;
use crate::playbooks::{Query, Results};

pub use crate::playbooks::util::{ev, internal_ip, is_control_plane, name, obj, parse_time, s};

/// `kubectl get pods -n kube-system -o yaml`: the kube-system pods, among them the mirror
/// pods of the control plane. Listed without a label selector: kubeadm labels them
/// `tier=control-plane` and `component=NAME`, kops and older installers `k8s-app=NAME`,
/// hand-made clusters nothing at all. Read them with [`mirror_pods`].
pub fn mirror_pods_query() -> Query {
    q::list("", "pods", Some("kube-system"), None, None)
}

/// The control-plane pods among the answer of [`mirror_pods_query`]: those whose component
/// (label or name, see [`component`]) is a control-plane component.
pub fn mirror_pods(results: &Results) -> Vec<&Value> {
    results
        .objects(&mirror_pods_query())
        .iter()
        .filter(|p| !component(p).is_empty())
        .collect()
}

/// `kubectl get leases -n kube-system -o yaml`.
pub fn leases_query() -> Query {
    q::list(
        "coordination.k8s.io",
        "leases",
        Some("kube-system"),
        None,
        None,
    )
}

/// `kubectl get nodes -o yaml`.
pub fn nodes_query() -> Query {
    q::core("nodes", None)
}

/// `kubectl get cm kubeadm-config -n kube-system -o yaml`.
pub fn kubeadm_config_query() -> Query {
    q::get("", "configmaps", Some("kube-system"), "kubeadm-config")
}

/// The log of one container, the last `tail` lines.
pub fn log_query(pod: &str, container: &str) -> Query {
    q::logs("kube-system", pod, Some(container), false, Some(300))
}

/// The control-plane components.
const COMPONENTS: [&str; 5] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "cloud-controller-manager",
];

/// The control-plane component a pod runs (`kube-apiserver`, `etcd`, ...), `""` for any
/// other pod: its `component` label (kubeadm), else its `k8s-app` label (kops), else the
/// prefix of a static pod's name (`kube-scheduler-NODE`).
pub fn component(pod: &Value) -> &str {
    for label in ["/metadata/labels/component", "/metadata/labels/k8s-app"] {
        let c = s(pod, label);
        if let Some(known) = COMPONENTS.iter().find(|k| **k == c) {
            return known;
        }
    }
    let name = s(pod, "/metadata/name");
    COMPONENTS
        .iter()
        .find(|k| {
            name.strip_prefix(*k)
                .is_some_and(|rest| rest.starts_with('-'))
        })
        .copied()
        .unwrap_or("")
}

pub fn node_of(pod: &Value) -> &str {
    s(pod, "/spec/nodeName")
}

/// The containers of a pod spec.
pub fn containers(pod: &Value) -> &[Value] {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The container named like the pod's component (or the first one).
pub fn main_container(pod: &Value) -> Option<&Value> {
    let comp = component(pod);
    let cs = containers(pod);
    cs.iter().find(|c| s(c, "/name") == comp).or(cs.first())
}

/// `--key=value` flags of a container's command and args, in order (`--flag` alone has "").
pub fn flags(container: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in ["command", "args"] {
        let Some(items) = container.get(key).and_then(Value::as_array) else {
            continue;
        };
        for a in items.iter().filter_map(Value::as_str) {
            if let Some(f) = a.strip_prefix("--") {
                match f.split_once('=') {
                    Some((k, v)) => out.push((k.to_string(), v.to_string())),
                    None => out.push((f.to_string(), String::new())),
                }
            }
        }
    }
    out
}

/// The last value of a flag of the pod's main container.
pub fn flag(pod: &Value, key: &str) -> Option<String> {
    let c = main_container(pod)?;
    flags(c)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// The (major, minor) release of a control-plane pod's component, read from its main
/// container's image tag (`registry.k8s.io/kube-scheduler:v1.14.0` -> (1, 14)).
pub fn component_version(pod: &Value) -> Option<(u32, u32)> {
    let image = s(main_container(pod)?, "/image");
    let tag = image.rsplit_once(':')?.1;
    crate::health::major_minor(tag)
}

/// Whether a leader-electing component keeps its lock in a coordination.k8s.io Lease.
/// Until 1.17 the default lock was an Endpoints object (`endpoints`), 1.17–1.19 wrote both
/// (`endpointsleases`), from 1.20 a Lease; `--leader-elect-resource-lock` overrides. An
/// unknown version counts as current.
pub fn locks_in_lease(pod: &Value) -> bool {
    if let Some(lock) = flag(pod, "leader-elect-resource-lock") {
        return lock.contains("lease");
    }
    component_version(pod).is_none_or(|v| v >= (1, 17))
}

/// `restartCount` of the pod's main container.
pub fn restarts(pod: &Value) -> i64 {
    let comp = component(pod);
    pod.pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .find(|c| s(c, "/name") == comp)
                .or_else(|| a.first())
        })
        .and_then(|c| c.get("restartCount"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Phase Running and condition Ready=True.
pub fn running_ready(pod: &Value) -> bool {
    s(pod, "/status/phase") == "Running"
        && pod
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
            })
}

/// Fields of kubeadm's ClusterConfiguration (from the kubeadm-config ConfigMap).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubeadmConfig {
    pub control_plane_endpoint: String,
    pub pod_subnet: String,
    pub service_subnet: String,
    pub kubernetes_version: String,
}

/// Parses the ClusterConfiguration out of the kubeadm-config ConfigMap; `None` when absent or
/// unreadable.
pub fn kubeadm_config(results: &Results) -> Option<KubeadmConfig> {
    let cm = results.objects(&kubeadm_config_query()).first()?;
    let text = s(cm, "/data/ClusterConfiguration");
    let v: Value = serde_yaml_ng::from_str(text).ok()?;
    let get = |p: &str| s(&v, p).to_string();
    Some(KubeadmConfig {
        control_plane_endpoint: get("/controlPlaneEndpoint"),
        pod_subnet: get("/networking/podSubnet"),
        service_subnet: get("/networking/serviceSubnet"),
        kubernetes_version: get("/kubernetesVersion"),
    })
}

/// The time of a klog line (`E0329 17:47:54.136036 ...`), the year taken from `now` (the
/// previous year when the month lies after now's). Not `network_a::common::klog_time`, which
/// also reads lines that do not start with a klog level and moves a line to the previous year
/// only when it would be more than a day ahead: the two disagree on a line dated later in the
/// current month, and the playbooks' findings depend on which they use.
pub fn klog_time(line: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let b = line.as_bytes();
    if b.len() < 21 || !b"IWEF".contains(&b[0]) {
        return None;
    }
    let month: u32 = line.get(1..3)?.parse().ok()?;
    let year = if month > now.month() {
        now.year() - 1
    } else {
        now.year()
    };
    let text = format!(
        "{year}-{}-{} {}",
        line.get(1..3)?,
        line.get(3..5)?,
        line.get(6..21)?
    );
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// Lines of `text` containing `fragment` (case-sensitive).
pub fn lines_with<'a>(text: &'a str, fragment: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(fragment)).collect()
}

/// Seconds as `3m12s` / `45s` / `2h5m` (the control-plane findings' wording; the other groups
/// print ages differently, see `identity_storage::common::human`).
pub fn human(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else if secs < 86400 {
        format!("{}h{}m", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{}d{}h", secs / 86400, (secs % 86400) / 3600)
    }
}

/// A lease read at `now`.
#[derive(Debug, Clone)]
pub struct LeaseState {
    pub holder: String,
    pub duration: i64,
    pub transitions: i64,
    pub renew: Option<DateTime<Utc>>,
    pub acquire: Option<DateTime<Utc>>,
    /// Seconds since renewTime (None without renewTime).
    pub age: Option<i64>,
}

impl LeaseState {
    pub fn read(lease: &Value, now: DateTime<Utc>) -> Self {
        let renew = parse_time(s(lease, "/spec/renewTime"));
        LeaseState {
            holder: s(lease, "/spec/holderIdentity").to_string(),
            duration: lease
                .pointer("/spec/leaseDurationSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(15),
            transitions: lease
                .pointer("/spec/leaseTransitions")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            renew,
            acquire: parse_time(s(lease, "/spec/acquireTime")),
            age: renew.map(|r| (now - r).num_seconds()),
        }
    }
    /// renewTime + leaseDurationSeconds is in the past (or there is no renewTime).
    pub fn expired(&self) -> bool {
        self.age.is_none_or(|a| a > self.duration)
    }
    /// The node part of a leader-election holder identity (`cp-1_0f3c…` → `cp-1`).
    pub fn holder_node(&self) -> &str {
        self.holder.split('_').next().unwrap_or_default()
    }
}

/// The host part of `host:port` / `https://host:port/`.
pub fn host_of(endpoint: &str) -> &str {
    let e = endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let e = e.split('/').next().unwrap_or_default();
    e.rsplit_once(':').map(|(h, _)| h).unwrap_or(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klog_time_takes_the_year_from_now() {
        let now = parse_time("2026-01-15T10:00:00Z").unwrap();
        let t = klog_time("E0115 09:58:01.123456       1 x.go:1] m", now).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-15T09:58:01.123456+00:00");
        let t = klog_time("I1231 23:59:59.000000       1 x.go:1] m", now).unwrap();
        assert_eq!(t.format("%Y").to_string(), "2025");
        assert!(klog_time("garbage", now).is_none());
    }

    #[test]
    fn flags_and_hosts() {
        let c = serde_json::json!({"command": ["kube-apiserver", "--secure-port=6443", "--leader-elect"]});
        assert_eq!(
            flags(&c),
            vec![
                ("secure-port".to_string(), "6443".to_string()),
                ("leader-elect".to_string(), String::new())
            ]
        );
        assert_eq!(host_of("https://10.0.0.7:6443/api"), "10.0.0.7");
        assert_eq!(host_of("k8s-api.lab.internal:6443"), "k8s-api.lab.internal");
    }
}
