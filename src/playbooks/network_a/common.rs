//! Helpers the `network_a` playbooks share: reading names, conditions and addresses from
//! objects as the API returns them, recognising CNI DaemonSets and their agent pods (found in
//! the lean pod list, read whole when their DaemonSet was not captured), IPv4 CIDR arithmetic,
//! the kubeadm ClusterConfiguration, and version comparison. All pure, none panics on odd
//! input.

use std::fmt;
use std::net::Ipv4Addr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

pub use crate::cluster::lean::{MetaExt, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::{Query, Results, Watched};

pub use crate::playbooks::util::{
    condition, ev, internal_ip, is_control_plane, name, namespace, obj_as as obj,
    ready as node_ready, ready as pod_ready,
};

/// A string field of a condition.
pub fn cond_str<'a>(c: &'a Value, field: &str) -> &'a str {
    c.get(field).and_then(Value::as_str).unwrap_or("")
}

/// An integer status field of a workload (`desiredNumberScheduled`), 0 when absent.
pub fn status_int(v: &Value, field: &str) -> i64 {
    v.pointer(&format!("/status/{field}"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The containers of a pod spec or a workload's pod template.
pub fn containers(v: &Value) -> Vec<&Value> {
    let spec = v
        .pointer("/spec/template/spec")
        .or_else(|| v.get("spec"))
        .unwrap_or(&Value::Null);
    spec.get("containers")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// A container's literal env value (`valueFrom` entries are not resolved).
pub fn env_value<'a>(container: &'a Value, var: &str) -> Option<&'a str> {
    container
        .get("env")
        .and_then(Value::as_array)?
        .iter()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(var))
        .and_then(|e| e.get("value").and_then(Value::as_str))
}

/// The command and args of a container, as one list.
pub fn command_line(container: &Value) -> Vec<&str> {
    ["command", "args"]
        .iter()
        .filter_map(|k| container.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The value of `--flag=value` in a command line.
pub fn flag<'a>(cmd: &[&'a str], flag: &str) -> Option<&'a str> {
    let prefix = format!("--{flag}=");
    cmd.iter().find_map(|a| a.strip_prefix(prefix.as_str()))
}

/// The image tag of the first container whose image contains `repo_part`.
pub fn image_tag<'a>(v: &'a Value, repo_part: &str) -> Option<&'a str> {
    containers(v)
        .into_iter()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .find(|i| i.contains(repo_part))
        .and_then(|i| i.rsplit_once(':').map(|(_, t)| t))
}

/// A CNI plugin's DaemonSet: the name it is usually installed under and the plugin.
pub struct CniDaemonSet {
    pub prefix: &'static str,
    pub plugin: &'static str,
}

/// The DaemonSets of the usual CNI manifests and operators.
pub const CNI_DAEMONSETS: &[CniDaemonSet] = &[
    CniDaemonSet {
        prefix: "calico-node",
        plugin: "Calico",
    },
    CniDaemonSet {
        prefix: "kube-flannel-ds",
        plugin: "flannel",
    },
    CniDaemonSet {
        prefix: "kube-flannel",
        plugin: "flannel",
    },
    CniDaemonSet {
        prefix: "weave-net",
        plugin: "Weave Net",
    },
    CniDaemonSet {
        prefix: "cilium",
        plugin: "Cilium",
    },
    CniDaemonSet {
        prefix: "canal",
        plugin: "Canal",
    },
    CniDaemonSet {
        prefix: "antrea-agent",
        plugin: "Antrea",
    },
    CniDaemonSet {
        prefix: "kube-router",
        plugin: "kube-router",
    },
    CniDaemonSet {
        prefix: "kube-ovn-cni",
        plugin: "Kube-OVN",
    },
    CniDaemonSet {
        prefix: "ovnkube-node",
        plugin: "OVN-Kubernetes",
    },
    CniDaemonSet {
        prefix: "aws-node",
        plugin: "Amazon VPC CNI",
    },
    CniDaemonSet {
        prefix: "azure-cns",
        plugin: "Azure CNI",
    },
    CniDaemonSet {
        prefix: "kindnet",
        plugin: "kindnet",
    },
];

/// The CNI plugin a DaemonSet belongs to, by its name (`cilium-envoy` and `cilium-operator`
/// are not agents; only the agent DaemonSet counts).
pub fn cni_plugin(ds: &Value) -> Option<&'static str> {
    cni_plugin_named(name(ds))
}

/// The CNI plugin whose agent DaemonSet has this name.
fn cni_plugin_named(n: &str) -> Option<&'static str> {
    if n.starts_with("cilium-") {
        return None;
    }
    CNI_DAEMONSETS
        .iter()
        .find(|c| n == c.prefix || n.starts_with(&format!("{}-", c.prefix)))
        .map(|c| c.plugin)
}

/// Every pod in the lean model (one list per run, shared with the other playbooks and the
/// watchers).
pub fn all_pods() -> Query {
    q::watched(Watched::Pods)
}

/// `Pod/namespace/name`, as evidence names a pod.
pub fn pod_obj(p: &Pod) -> String {
    match p.metadata.namespace_str() {
        "" => format!("Pod/{}", p.metadata.name_str()),
        ns => format!("Pod/{ns}/{}", p.metadata.name_str()),
    }
}

/// The pods of a DaemonSet, by its selector's matchLabels.
pub fn ds_pods(ds: &Value) -> Option<Query> {
    let labels = ds.pointer("/spec/selector/matchLabels")?.as_object()?;
    let sel: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!sel.is_empty()).then(|| q::list("", "pods", Some(namespace(ds)), Some(&sel.join(",")), None))
}

/// The CNI plugin whose agent a pod is: by its owning DaemonSet's name, else (a pod
/// captured without its owner reference) by its own name minus the generated suffix.
pub fn agent_pod_plugin(pod: &Pod) -> Option<&'static str> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.kind == "DaemonSet")
        .map(|o| o.name.as_str());
    let name = pod.metadata.name_str();
    cni_plugin_named(owner.unwrap_or_else(|| name.rsplit_once('-').map_or(name, |(head, _)| head)))
}

/// How many agent pods found without their DaemonSet are read whole, per plugin and
/// namespace (only when the DaemonSets were not listed: a partial capture, a pasted pod list).
const LONE_AGENTS: usize = 20;

/// The agent pods whose DaemonSet the capture does not hold, by plugin and namespace, at
/// most [`LONE_AGENTS`] each: the pod list finds them, their containers are read whole.
fn lone_agent_pods(r: &Results) -> Vec<(&'static str, &Pod)> {
    let dss = r.objects(&q::daemonsets());
    let mut out: Vec<(&'static str, &Pod)> = Vec::new();
    for p in r.pods() {
        let Some(plugin) = agent_pod_plugin(p) else {
            continue;
        };
        let ns = p.metadata.namespace_str();
        if dss
            .iter()
            .any(|d| cni_plugin(d) == Some(plugin) && namespace(d) == ns)
        {
            continue;
        }
        let same = out
            .iter()
            .filter(|(pl, o)| *pl == plugin && o.metadata.namespace_str() == ns)
            .count();
        if same < LONE_AGENTS {
            out.push((plugin, p));
        }
    }
    out
}

pub use crate::playbooks::util::pod_detail;
#[cfg(test)]
pub use crate::playbooks::util::set_pods;

/// A CNI plugin's agents in one namespace: its DaemonSet when the capture holds it, and
/// its pods (the DaemonSet's, or those recognised by name when only pods were captured).
pub struct CniAgents<'a> {
    pub plugin: &'static str,
    pub namespace: String,
    pub ds: Option<&'a Value>,
    pub pods: Vec<&'a Value>,
}

impl CniAgents<'_> {
    /// The DaemonSet if captured, else the first pod: what carries the agent's containers.
    pub fn spec(&self) -> Option<&Value> {
        self.ds.or_else(|| self.pods.first().copied())
    }

    /// `-l key=value` for the agents' pods: the DaemonSet's selector, else a label the pods
    /// carry (`app`, `k8s-app`, `name`).
    pub fn selector(&self) -> Option<String> {
        if let Some(ds) = self.ds {
            return ds
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .and_then(|m| m.iter().next())
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")));
        }
        let p = self.pods.first()?;
        ["app", "k8s-app", "name"].iter().find_map(|k| {
            p.pointer(&format!("/metadata/labels/{k}"))
                .and_then(Value::as_str)
                .map(|v| format!("{k}={v}"))
        })
    }
}

/// The queries `cni_agents` reads: the DaemonSets, every pod, each CNI DaemonSet's pods, and
/// the agent pods found without their DaemonSet, whole.
pub fn cni_agent_queries(r: &Results) -> Vec<Query> {
    let mut out = vec![q::daemonsets(), all_pods()];
    out.extend(
        r.objects(&q::daemonsets())
            .iter()
            .filter(|d| cni_plugin(d).is_some())
            .filter_map(ds_pods),
    );
    out.extend(lone_agent_pods(r).into_iter().map(|(_, p)| pod_detail(p)));
    out
}

/// The CNI agents the capture shows: one per CNI DaemonSet, plus one per plugin and
/// namespace for agent pods whose DaemonSet was not captured (a partial capture, a pasted
/// pod list; each such pod as read whole, at most 20 per plugin and namespace): absence of
/// the DaemonSet is not absence of the CNI.
pub fn cni_agents(r: &Results) -> Vec<CniAgents<'_>> {
    let mut out: Vec<CniAgents> = r
        .objects(&q::daemonsets())
        .iter()
        .filter_map(|d| {
            let plugin = cni_plugin(d)?;
            Some(CniAgents {
                plugin,
                namespace: namespace(d).to_string(),
                ds: Some(d),
                pods: ds_pods(d)
                    .map(|pq| r.objects(&pq).iter().collect())
                    .unwrap_or_default(),
            })
        })
        .collect();
    for (plugin, lean) in lone_agent_pods(r) {
        let Some(p) = r.objects(&pod_detail(lean)).first() else {
            continue;
        };
        let ns = lean.metadata.namespace_str();
        match out
            .iter_mut()
            .find(|a| a.ds.is_none() && a.plugin == plugin && a.namespace == ns)
        {
            Some(a) => a.pods.push(p),
            None => out.push(CniAgents {
                plugin,
                namespace: ns.to_string(),
                ds: None,
                pods: vec![p],
            }),
        }
    }
    out
}

/// Whether a pod's containers failed before: restarts, a last termination, or waiting in
/// CrashLoopBackOff (a capture may leave `restartCount` out): its previous log says why.
pub fn crashed(pod: &Value) -> bool {
    crate::playbooks::util::arr(pod, "/status/containerStatuses")
        .iter()
        .any(|c| {
            c.get("restartCount").and_then(Value::as_i64).unwrap_or(0) > 0
                || c.pointer("/lastState/terminated").is_some()
                || c.pointer("/state/waiting/reason").and_then(Value::as_str)
                    == Some("CrashLoopBackOff")
        })
}

/// An IPv4 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub net: u32,
    pub len: u8,
}

impl Cidr {
    /// Parses `10.244.0.0/16` (a bare address is a /32); `None` for anything else (IPv6 too).
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (ip, len) = match s.split_once('/') {
            Some((ip, len)) => (ip, len.parse::<u8>().ok()?),
            None => (s, 32),
        };
        if len > 32 {
            return None;
        }
        let ip: Ipv4Addr = ip.parse().ok()?;
        let mask = Self::mask(len);
        Some(Cidr {
            net: u32::from(ip) & mask,
            len,
        })
    }

    fn mask(len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(len))
        }
    }

    /// Whether the address is inside this network.
    pub fn contains(&self, ip: &str) -> bool {
        ip.parse::<Ipv4Addr>()
            .is_ok_and(|a| u32::from(a) & Self::mask(self.len) == self.net)
    }

    /// Whether the two networks share an address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        let len = self.len.min(other.len);
        let m = Self::mask(len);
        self.net & m == other.net & m
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.net), self.len)
    }
}

/// The networking section of kubeadm's ClusterConfiguration (`kube-system/kubeadm-config`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KubeadmNetworking {
    pub pod_subnet: Option<String>,
    pub service_subnet: Option<String>,
    pub control_plane_endpoint: Option<String>,
}

/// Reads the networking fields of the kubeadm-config ConfigMap (`None` if it is not one).
pub fn kubeadm_networking(cm: &Value) -> Option<KubeadmNetworking> {
    let text = cm.pointer("/data/ClusterConfiguration")?.as_str()?;
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).ok()?;
    let s = |v: Option<&serde_yaml_ng::Value>| v.and_then(|x| x.as_str()).map(str::to_string);
    let net = doc.get("networking");
    Some(KubeadmNetworking {
        pod_subnet: s(net.and_then(|n| n.get("podSubnet"))),
        service_subnet: s(net.and_then(|n| n.get("serviceSubnet"))),
        control_plane_endpoint: s(doc.get("controlPlaneEndpoint")),
    })
}

/// A dotted version (`v0.9.1`, `docker://1.13.1`, `17.03.2-ce`) as numbers; `None` if the
/// first part is not a number.
pub fn version(s: &str) -> Option<Vec<u64>> {
    let s = s.rsplit("://").next().unwrap_or(s);
    let s = s.trim_start_matches('v');
    let core = s.split(['-', '+', ' ']).next().unwrap_or("");
    let parts: Vec<u64> = core
        .split('.')
        .map_while(|p| p.parse::<u64>().ok())
        .collect();
    if parts.is_empty() { None } else { Some(parts) }
}

/// Whether version `a` is lower than `b` (missing parts count as 0).
pub fn version_lt(a: &[u64], b: &[u64]) -> bool {
    let n = a.len().max(b.len());
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    for i in 0..n {
        match at(a, i).cmp(&at(b, i)) {
            std::cmp::Ordering::Less => return true,
            std::cmp::Ordering::Greater => return false,
            std::cmp::Ordering::Equal => {}
        }
    }
    false
}

/// The time of a klog line (`E0115 09:59:42.123456 …`), in the year of `now` (the previous
/// year when that would put it more than a day ahead of `now`). Not
/// `controlplane::common::klog_time`, which takes the previous year only when the month lies
/// after now's and reads only lines that start with a klog level: the network findings'
/// "seen N ago" rests on this rule, so the two stay apart.
pub fn klog_time(line: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let head = line.trim_start().get(1..21)?;
    let (month, day) = (
        head.get(0..2)?.parse::<u32>().ok()?,
        head.get(2..4)?.parse::<u32>().ok()?,
    );
    let time = NaiveTime::parse_from_str(head.get(5..)?, "%H:%M:%S%.f").ok()?;
    let at =
        |year: i32| NaiveDate::from_ymd_opt(year, month, day).map(|d| d.and_time(time).and_utc());
    let t = at(now.year())?;
    if t > now + chrono::Duration::days(1) {
        at(now.year() - 1)
    } else {
        Some(t)
    }
}

/// Joins names as `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cidrs_contain_and_overlap() {
        let weave = Cidr::parse("10.32.0.0/12").unwrap();
        assert!(weave.contains("10.40.1.5"));
        assert!(!weave.contains("10.96.0.1"));
        assert!(!weave.contains("not an ip"));
        let pods = Cidr::parse("10.244.0.0/16").unwrap();
        assert!(!pods.overlaps(&Cidr::parse("10.96.0.0/12").unwrap()));
        assert!(
            Cidr::parse("192.168.0.0/16")
                .unwrap()
                .overlaps(&Cidr::parse("192.168.1.0/24").unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.7/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(Cidr::parse("fd00::/64"), None);
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
    }

    #[test]
    fn versions_compare_like_releases() {
        let v = |s| version(s).unwrap();
        assert!(version_lt(&v("v0.9.0"), &v("0.9.1")));
        assert!(!version_lt(&v("v0.10.0"), &v("0.9.1")));
        assert!(!version_lt(&v("docker://1.13.1"), &v("1.13")));
        assert!(version_lt(&v("docker://1.12.6"), &v("1.13")));
        assert!(!version_lt(&v("docker://17.3.2-ce"), &v("1.13")));
        assert_eq!(version("containerd://abc"), None);
    }

    #[test]
    fn klog_times_are_read_in_the_clock_year() {
        let now = DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t = klog_time("E0115 09:59:42.123456       1 scraper.go:149] x", now).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-15T09:59:42.123456+00:00");
        let t = klog_time("I1231 23:00:00.000000       1 a.go:1] x", now).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-31T23:00:00+00:00");
        assert_eq!(klog_time("[INFO] plugin/reload", now), None);
    }

    #[test]
    fn cni_daemonsets_are_recognised_by_name() {
        let ds = |n: &str| json!({"metadata": {"name": n}});
        assert_eq!(cni_plugin(&ds("calico-node")), Some("Calico"));
        assert_eq!(cni_plugin(&ds("kube-flannel-ds-amd64")), Some("flannel"));
        assert_eq!(cni_plugin(&ds("cilium")), Some("Cilium"));
        assert_eq!(cni_plugin(&ds("cilium-envoy")), None);
        assert_eq!(cni_plugin(&ds("kube-proxy")), None);
    }

    #[test]
    fn cni_agents_are_found_from_pods_when_their_daemonset_was_not_captured() {
        use crate::playbooks::Outcome;
        let mut r = Results::default();
        r.by_query.insert(
            q::daemonsets(),
            Outcome::Failed {
                code: 0,
                message: "not captured".into(),
            },
        );
        let flannel = json!({"metadata": {"name": "kube-flannel-ds-x7k2p", "namespace": "kube-system", "labels": {"app": "flannel"}}});
        let calico = json!({"metadata": {"name": "calico-node-gcsmd", "namespace": "kube-system", "ownerReferences": [{"kind": "DaemonSet", "name": "calico-node"}]}});
        let other = json!({"metadata": {"name": "calico-kube-controllers-5d8f-abcde", "namespace": "kube-system"}});
        let operator =
            json!({"metadata": {"name": "cilium-operator-6d9c-qwert", "namespace": "kube-system"}});
        set_pods(&mut r, &[flannel, calico, other, operator]);
        // The agents found in the pod list are read whole; the others are not.
        let asked = cni_agent_queries(&r);
        let details: Vec<&str> = asked
            .iter()
            .filter_map(|q| match &q.kind {
                crate::playbooks::QueryKind::Get { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(details, ["kube-flannel-ds-x7k2p", "calico-node-gcsmd"]);
        let agents = cni_agents(&r);
        let found: Vec<(&str, usize, bool)> = agents
            .iter()
            .map(|a| (a.plugin, a.pods.len(), a.ds.is_some()))
            .collect();
        assert_eq!(found, [("flannel", 1, false), ("Calico", 1, false)]);
        assert_eq!(agents[0].selector().as_deref(), Some("app=flannel"));
        // With the DaemonSet captured, its pods come from its selector, once.
        let ds = json!({"metadata": {"name": "calico-node", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels": {"k8s-app": "calico-node"}}}});
        r.by_query
            .insert(q::daemonsets(), Outcome::Objects(vec![ds.clone()]));
        r.by_query
            .insert(ds_pods(&ds).unwrap(), Outcome::Objects(vec![]));
        let agents = cni_agents(&r);
        assert_eq!(agents.len(), 2);
        assert!(
            agents
                .iter()
                .any(|a| a.plugin == "Calico" && a.ds.is_some())
        );
        assert!(cni_agent_queries(&r).contains(&ds_pods(&ds).unwrap()));
    }

    #[test]
    fn kubeadm_config_networking_is_read() {
        let cm = json!({"data": {"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\ncontrolPlaneEndpoint: lb:6443\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n"}});
        let n = kubeadm_networking(&cm).unwrap();
        assert_eq!(n.pod_subnet.as_deref(), Some("10.244.0.0/16"));
        assert_eq!(n.service_subnet.as_deref(), Some("10.96.0.0/12"));
        assert_eq!(n.control_plane_endpoint.as_deref(), Some("lb:6443"));
        assert_eq!(kubeadm_networking(&json!({"data": {}})), None);
    }
}
