//! Builds kubeadm-style clusters as snapshot objects, for scenarios.
//!
//! `ClusterBuilder::kubeadm()` (with options: node counts, CNI, version, subnets) builds a
//! [`Cluster`]: every object as `kubectl get -o yaml` prints it (JSON values), pod logs,
//! raw responses (`/readyz?verbose`, node healthz) and the live timeline that keeps leases
//! renewing. A broken scenario mutates the cluster (`find_mut`, `remove`, `push`, the
//! `add_*` helpers, `stop_renewing`) and turns it into a snapshot with `into_parts`.
//!
//! Every timestamp is authored relative to [`SCENARIO_EPOCH`] with [`ago`] / [`ago_micros`];
//! identifiers (uids, container ids, name suffixes) are derived from hashes of names, so a
//! scenario is identical on every build.

mod addons;
mod apps;
mod control_plane;
mod faults;
mod logs;
mod rbac;
mod workloads;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Change, ObjRef, SCENARIO_EPOCH, TimelineStep};
use ktriage_snapshot::{NodeLog, PodLog, RawResponse, Snapshot, SnapshotInfo};

pub use control_plane::{apiserver_lease_name, leader_holder};
pub use logs::{klog, readyz_body};
pub use rbac::{group, named_rule, rule, service_account, url_rule, user};
pub use workloads::{ServiceDef, WorkloadDef};

pub const MIN: i64 = 60;
pub const HOUR: i64 = 3600;
pub const DAY: i64 = 86400;

/// Age of the cluster (kubeadm init) at the epoch.
pub const CLUSTER_AGE: i64 = 40 * DAY;
/// When `kubeadm upgrade apply v1.31.4` rewrote the control plane (static pods recreated,
/// leader leases moved twice and came back to cp-1).
pub const UPGRADE_AGE: i64 = 6 * DAY;

/// The scenario epoch as a `DateTime`.
pub fn epoch() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(SCENARIO_EPOCH)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

/// RFC 3339 (seconds) timestamp `secs` before the epoch, as object timestamps are printed.
pub fn ago(secs: i64) -> String {
    (epoch() - chrono::Duration::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// RFC 3339 timestamp with microseconds, `micros` before the epoch (lease renewTime).
pub fn ago_micros(micros: i64) -> String {
    (epoch() - chrono::Duration::microseconds(micros))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// A 64-bit FNV-1a hash of the parts, finalised with splitmix64.
pub fn hash64(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xffu8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A deterministic UUID (version-4 layout) derived from the parts.
pub fn uid(parts: &[&str]) -> String {
    let a = hash64(&[parts, &["uid-a"]].concat());
    let b = hash64(&[parts, &["uid-b"]].concat());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// `len` deterministic characters of `alphabet` derived from the seed.
fn chars_from(seed: &str, len: usize, alphabet: &[u8]) -> String {
    let mut out = String::with_capacity(len);
    let mut i = 0u64;
    while out.len() < len {
        let mut h = hash64(&[seed, &i.to_string()]);
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[(h % alphabet.len() as u64) as usize]));
            h /= alphabet.len() as u64;
        }
        i += 1;
    }
    out
}

/// Lowercase hex digits (container ids, image digests, event name suffixes).
pub fn hex(seed: &str, len: usize) -> String {
    chars_from(seed, len, b"0123456789abcdef")
}

/// A name suffix in Kubernetes' safe alphabet (pod-template-hash, generated pod names).
pub fn suffix(seed: &str, len: usize) -> String {
    chars_from(seed, len, b"bcdfghjklmnpqrstvwxz2456789")
}

/// Which CNI the cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cni {
    /// calico-node DaemonSet and calico-kube-controllers in kube-system (manifest install).
    Calico,
    /// kube-flannel-ds in namespace kube-flannel.
    Flannel,
    /// No CNI installed: nodes NotReady (`cni plugin not initialized`), pod-network pods Pending.
    None,
}

/// Options of a kubeadm cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub control_planes: usize,
    pub workers: usize,
    pub cni: Cni,
    /// Kubernetes version of every component, e.g. `v1.31.4`.
    pub version: String,
    /// A /16, e.g. `10.244.0.0/16`; node N gets `A.B.N.0/24`.
    pub pod_subnet: String,
    pub service_subnet: String,
    /// Node IPs: control-plane N = `{prefix}1N`, worker N = `{prefix}2N`.
    pub node_ip_prefix: String,
    /// kubeadm `controlPlaneEndpoint` (host:port of the load balancer in front of the apiservers).
    pub control_plane_endpoint: String,
    /// The application namespaces (`shop`, `monitoring`).
    pub apps: bool,
    /// `NodePort` (bare metal, the default) or `LoadBalancer` for ingress-nginx's Service.
    pub ingress_service_type: String,
}

/// Builds a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    pub opts: ClusterOptions,
}

impl ClusterBuilder {
    /// 3 control-plane + 3 worker nodes, Calico, v1.31.4, 10.244.0.0/16 and 10.96.0.0/12.
    pub fn kubeadm() -> Self {
        ClusterBuilder {
            opts: ClusterOptions {
                control_planes: 3,
                workers: 3,
                cni: Cni::Calico,
                version: "v1.31.4".into(),
                pod_subnet: "10.244.0.0/16".into(),
                service_subnet: "10.96.0.0/12".into(),
                node_ip_prefix: "10.0.0.".into(),
                control_plane_endpoint: "k8s-api.lab.internal:6443".into(),
                apps: true,
                ingress_service_type: "NodePort".into(),
            },
        }
    }
    pub fn control_planes(mut self, n: usize) -> Self {
        self.opts.control_planes = n.clamp(1, 9);
        self
    }
    pub fn workers(mut self, n: usize) -> Self {
        self.opts.workers = n.min(9);
        self
    }
    pub fn cni(mut self, cni: Cni) -> Self {
        self.opts.cni = cni;
        self
    }
    pub fn version(mut self, v: &str) -> Self {
        self.opts.version = v.into();
        self
    }
    pub fn pod_subnet(mut self, s: &str) -> Self {
        self.opts.pod_subnet = s.into();
        self
    }
    pub fn service_subnet(mut self, s: &str) -> Self {
        self.opts.service_subnet = s.into();
        self
    }
    pub fn apps(mut self, on: bool) -> Self {
        self.opts.apps = on;
        self
    }
    pub fn ingress_service_type(mut self, t: &str) -> Self {
        self.opts.ingress_service_type = t.into();
        self
    }

    /// Builds every object, log, response and the lease-renewal timeline.
    pub fn build(self) -> Cluster {
        let mut c = Cluster::new(self.opts);
        control_plane::build(&mut c);
        rbac::build(&mut c);
        addons::build(&mut c);
        if c.opts.apps {
            apps::build(&mut c);
        }
        logs::build(&mut c);
        c.heartbeats();
        c
    }
}

/// One node of the cluster.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub ip: String,
    pub control_plane: bool,
    pub zone: String,
    /// Join order (0 = the `kubeadm init` node): the third octet of its podCIDR.
    pub index: usize,
    pub created_ago: i64,
    pub pod_cidr: String,
}

/// A built cluster, mutable by scenarios before it becomes a snapshot.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub opts: ClusterOptions,
    pub nodes: Vec<NodeInfo>,
    pub objects: Vec<Value>,
    pub pod_logs: Vec<PodLog>,
    pub node_logs: Vec<NodeLog>,
    pub responses: Vec<RawResponse>,
    pub timeline: Vec<TimelineStep>,
    next_ip: HashMap<String, u32>,
}

/// Whether a kind is namespaced (for the kinds scenarios use).
pub fn is_namespaced(kind: &str) -> bool {
    // One table of kinds for the server and the scenarios; unknown kinds count as namespaced.
    ktriage_api::resources::RESOURCES
        .iter()
        .find(|d| d.kind == kind)
        .is_none_or(|d| d.namespaced)
}

/// The `ObjRef` naming an object.
pub fn obj_ref(obj: &Value) -> ObjRef {
    ObjRef::new(
        obj["kind"].as_str().unwrap_or_default(),
        obj["metadata"]["namespace"].as_str(),
        obj["metadata"]["name"].as_str().unwrap_or_default(),
    )
}

fn matches(obj: &Value, kind: &str, ns: Option<&str>, name: &str) -> bool {
    obj["kind"].as_str() == Some(kind)
        && obj["metadata"]["name"].as_str() == Some(name)
        && obj["metadata"]["namespace"].as_str() == ns
}

/// `metadata` for a new object: name, namespace, deterministic uid, creationTimestamp.
pub fn meta(kind: &str, ns: Option<&str>, name: &str, created_ago: i64) -> Value {
    let mut m = json!({
        "name": name,
        "uid": uid(&[kind, ns.unwrap_or(""), name]),
        "creationTimestamp": ago(created_ago),
    });
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    m
}

/// A whole object with `apiVersion`, `kind` and `metadata` (labels added when non-empty).
pub fn object(
    api_version: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    created_ago: i64,
) -> Value {
    json!({"apiVersion": api_version, "kind": kind, "metadata": meta(kind, ns, name, created_ago)})
}

/// An ownerReference pointing at `owner` (a built object).
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Sets `key` in a JSON object value, creating the object when it is null.
fn put(v: &mut Value, key: &str, val: Value) {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    if let Some(m) = v.as_object_mut() {
        m.insert(key.to_string(), val);
    }
}

/// Labels/annotations from pairs.
pub fn kv(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect(),
    )
}

/// How a container's previous instance ended.
#[derive(Debug, Clone)]
pub struct Terminated {
    pub reason: String,
    pub exit_code: i64,
    pub started_ago: i64,
    pub finished_ago: i64,
}

/// A container of a pod built by [`Cluster::add_pod`].
#[derive(Debug, Clone, Default)]
pub struct ContainerDef {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub ports: Vec<Value>,
    pub env: Vec<Value>,
    /// `{"requests": {...}, "limits": {...}}`, or Null.
    pub resources: Value,
    pub liveness: Option<Value>,
    pub readiness: Option<Value>,
    pub startup: Option<Value>,
    pub volume_mounts: Vec<Value>,
    pub security_context: Option<Value>,
    pub restart_count: i64,
    pub last_terminated: Option<Terminated>,
    /// `false`: running but not ready.
    pub not_ready: bool,
}

impl ContainerDef {
    pub fn new(name: &str, image: &str) -> Self {
        ContainerDef {
            name: name.into(),
            image: image.into(),
            ..Default::default()
        }
    }
    fn spec(&self) -> Value {
        let mut c = json!({
            "name": self.name,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "resources": if self.resources.is_null() { json!({}) } else { self.resources.clone() },
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        });
        let lists = [
            (
                "command",
                self.command.iter().map(|s| json!(s)).collect::<Vec<_>>(),
            ),
            ("args", self.args.iter().map(|s| json!(s)).collect()),
            ("ports", self.ports.clone()),
            ("env", self.env.clone()),
            ("volumeMounts", self.volume_mounts.clone()),
        ];
        for (k, v) in lists {
            if !v.is_empty() {
                put(&mut c, k, Value::Array(v));
            }
        }
        let probes = [
            ("livenessProbe", &self.liveness),
            ("readinessProbe", &self.readiness),
            ("startupProbe", &self.startup),
            ("securityContext", &self.security_context),
        ];
        for (k, v) in probes {
            if let Some(v) = v {
                put(&mut c, k, v.clone());
            }
        }
        c
    }
}

/// An HTTP probe as kubeadm and the add-on manifests write them; `timing` is
/// `[failureThreshold, initialDelaySeconds, periodSeconds, timeoutSeconds]`.
pub fn http_probe(
    host: Option<&str>,
    path: &str,
    port: Value,
    scheme: &str,
    timing: [i64; 4],
) -> Value {
    let [failure, initial, period, timeout] = timing;
    let mut get = json!({"path": path, "port": port, "scheme": scheme});
    if let Some(h) = host {
        put(&mut get, "host", json!(h));
    }
    json!({
        "httpGet": get,
        "failureThreshold": failure,
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "successThreshold": 1,
        "timeoutSeconds": timeout,
    })
}

/// A pod built by [`Cluster::add_pod`] (also the template of workloads).
#[derive(Debug, Clone, Default)]
pub struct PodDef {
    pub namespace: String,
    pub name: String,
    pub node: String,
    pub labels: Value,
    pub annotations: Value,
    /// Its controller (a built object), for ownerReferences.
    pub owner: Option<Value>,
    pub containers: Vec<ContainerDef>,
    pub init_containers: Vec<ContainerDef>,
    pub host_network: bool,
    pub created_ago: i64,
    pub service_account: Option<String>,
    pub priority_class: Option<String>,
    pub tolerations: Vec<Value>,
    pub volumes: Vec<Value>,
    pub node_selector: Value,
    pub affinity: Option<Value>,
    pub security_context: Option<Value>,
    pub dns_policy: Option<String>,
}

impl PodDef {
    /// The pod spec without `nodeName` (workload templates use it as is).
    pub fn spec(&self) -> Value {
        let mut s = json!({
            "containers": self.containers.iter().map(ContainerDef::spec).collect::<Vec<_>>(),
            "dnsPolicy": self.dns_policy.clone().unwrap_or_else(|| if self.host_network { "ClusterFirstWithHostNet".into() } else { "ClusterFirst".into() }),
            "enableServiceLinks": true,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": self.security_context.clone().unwrap_or_else(|| json!({})),
            "terminationGracePeriodSeconds": 30,
        });
        if !self.init_containers.is_empty() {
            put(
                &mut s,
                "initContainers",
                json!(
                    self.init_containers
                        .iter()
                        .map(ContainerDef::spec)
                        .collect::<Vec<_>>()
                ),
            );
        }
        if self.host_network {
            put(&mut s, "hostNetwork", json!(true));
        }
        if let Some(sa) = &self.service_account {
            put(&mut s, "serviceAccount", json!(sa));
            put(&mut s, "serviceAccountName", json!(sa));
        }
        if let Some(pc) = &self.priority_class {
            put(&mut s, "priorityClassName", json!(pc));
        }
        if !self.tolerations.is_empty() {
            put(&mut s, "tolerations", json!(self.tolerations));
        }
        if !self.volumes.is_empty() {
            put(&mut s, "volumes", json!(self.volumes));
        }
        if self.node_selector.is_object() {
            put(&mut s, "nodeSelector", self.node_selector.clone());
        }
        if let Some(a) = &self.affinity {
            put(&mut s, "affinity", a.clone());
        }
        s
    }
}

/// The default tolerations the admission plugin adds to every pod.
pub fn default_tolerations() -> Vec<Value> {
    ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        .iter()
        .map(|k| json!({"effect": "NoExecute", "key": k, "operator": "Exists", "tolerationSeconds": 300}))
        .collect()
}

/// Whether the tolerations let a pod onto a node tainted `node.kubernetes.io/not-ready:NoSchedule`.
fn tolerates_not_ready(tolerations: &[Value]) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t.get("effect").is_none_or(|e| e == "NoSchedule");
        let key_ok = match t.get("key").and_then(Value::as_str) {
            None => t["operator"] == "Exists",
            Some(k) => k == "node.kubernetes.io/not-ready",
        };
        effect_ok && key_ok
    })
}

fn qos_class(containers: &[ContainerDef]) -> &'static str {
    let any = containers
        .iter()
        .any(|c| c.resources.get("requests").is_some() || c.resources.get("limits").is_some());
    let guaranteed = !containers.is_empty()
        && containers.iter().all(|c| {
            let l = &c.resources["limits"];
            l["cpu"].is_string()
                && l["memory"].is_string()
                && (c.resources["requests"].is_null() || c.resources["requests"] == *l)
        });
    if guaranteed {
        "Guaranteed"
    } else if any {
        "Burstable"
    } else {
        "BestEffort"
    }
}

/// A Service port: name, port, targetPort, protocol, nodePort.
#[derive(Debug, Clone)]
pub struct SvcPort {
    pub name: &'static str,
    pub port: i64,
    pub target: i64,
    pub protocol: &'static str,
    pub node_port: Option<i64>,
}

impl SvcPort {
    pub fn tcp(name: &'static str, port: i64, target: i64) -> Self {
        SvcPort {
            name,
            port,
            target,
            protocol: "TCP",
            node_port: None,
        }
    }
}

/// Fields of an Event; [`Cluster::event`] looks the involved object up.
#[derive(Debug, Clone)]
pub struct EventDef {
    pub involved: ObjRef,
    pub reason: &'static str,
    pub message: String,
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// source.component / reportingComponent, e.g. `kubelet`, `default-scheduler`.
    pub component: &'static str,
    /// source.host (kubelet events).
    pub host: Option<String>,
    pub count: i64,
    pub first_ago: i64,
    pub last_ago: i64,
    pub field_path: Option<String>,
}

impl EventDef {
    pub fn normal(
        involved: ObjRef,
        reason: &'static str,
        message: impl Into<String>,
        component: &'static str,
        ago_secs: i64,
    ) -> Self {
        EventDef {
            involved,
            reason,
            message: message.into(),
            type_: "Normal",
            component,
            host: None,
            count: 1,
            first_ago: ago_secs,
            last_ago: ago_secs,
            field_path: None,
        }
    }
    pub fn warning(mut self) -> Self {
        self.type_ = "Warning";
        self
    }
    pub fn on_host(mut self, host: &str) -> Self {
        self.host = Some(host.into());
        self
    }
    pub fn repeated(mut self, count: i64, first_ago: i64) -> Self {
        self.count = count;
        self.first_ago = first_ago;
        self
    }
    pub fn field(mut self, path: &str) -> Self {
        self.field_path = Some(path.into());
        self
    }
}

impl Cluster {
    fn new(opts: ClusterOptions) -> Self {
        let zones = ["a", "b", "c"];
        let octets: Vec<&str> = opts.pod_subnet.split('.').collect();
        let pod_prefix = format!(
            "{}.{}",
            octets.first().unwrap_or(&"10"),
            octets.get(1).unwrap_or(&"244")
        );
        let mut nodes = Vec::new();
        for i in 0..opts.control_planes {
            nodes.push(NodeInfo {
                name: format!("cp-{}", i + 1),
                ip: format!("{}1{}", opts.node_ip_prefix, i + 1),
                control_plane: true,
                zone: format!("zone-{}", zones[i % 3]),
                index: i,
                created_ago: CLUSTER_AGE - 600 * i as i64,
                pod_cidr: format!("{pod_prefix}.{i}.0/24"),
            });
        }
        for i in 0..opts.workers {
            let index = opts.control_planes + i;
            // worker-3 joined 50 minutes ago (a scale-out): its recent events are in the scenario.
            let created_ago = if i == 2 {
                50 * MIN
            } else {
                CLUSTER_AGE - HOUR - 300 * i as i64
            };
            nodes.push(NodeInfo {
                name: format!("worker-{}", i + 1),
                ip: format!("{}2{}", opts.node_ip_prefix, i + 1),
                control_plane: false,
                zone: format!("zone-{}", zones[i % 3]),
                index,
                created_ago,
                pod_cidr: format!("{pod_prefix}.{index}.0/24"),
            });
        }
        Cluster {
            opts,
            nodes,
            objects: Vec::new(),
            pod_logs: Vec::new(),
            node_logs: Vec::new(),
            responses: Vec::new(),
            timeline: Vec::new(),
            next_ip: HashMap::new(),
        }
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.iter().find(|n| n.name == name)
    }
    pub fn control_plane_nodes(&self) -> Vec<NodeInfo> {
        self.nodes
            .iter()
            .filter(|n| n.control_plane)
            .cloned()
            .collect()
    }
    pub fn worker_nodes(&self) -> Vec<NodeInfo> {
        self.nodes
            .iter()
            .filter(|n| !n.control_plane)
            .cloned()
            .collect()
    }
    /// The kube-dns Service IP (10th address of the service subnet).
    pub fn dns_ip(&self) -> String {
        self.service_ip(10)
    }
    /// The `n`th address of the service subnet.
    pub fn service_ip(&self, n: u32) -> String {
        let o: Vec<u32> = self
            .opts
            .service_subnet
            .split(['.', '/'])
            .filter_map(|s| s.parse().ok())
            .collect();
        let base = o
            .iter()
            .take(4)
            .fold(0u32, |acc, x| (acc << 8) | (x & 0xff));
        let ip = base.wrapping_add(n);
        format!(
            "{}.{}.{}.{}",
            ip >> 24,
            (ip >> 16) & 0xff,
            (ip >> 8) & 0xff,
            ip & 0xff
        )
    }
    /// A stable ClusterIP for a named Service (within the first /16 of the subnet).
    pub fn cluster_ip_for(&self, ns: &str, name: &str) -> String {
        let h = hash64(&[ns, name, "clusterip"]);
        self.service_ip(256 + (h % 60000) as u32)
    }

    pub fn find(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.iter().find(|o| matches(o, kind, ns, name))
    }
    pub fn find_mut(&mut self, kind: &str, ns: Option<&str>, name: &str) -> Option<&mut Value> {
        self.objects.iter_mut().find(|o| matches(o, kind, ns, name))
    }
    /// Removes an object; returns it when it existed.
    pub fn remove(&mut self, kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
        let i = self
            .objects
            .iter()
            .position(|o| matches(o, kind, ns, name))?;
        Some(self.objects.remove(i))
    }
    pub fn push(&mut self, obj: Value) {
        self.objects.push(obj);
    }
    /// All objects of a kind (optionally in one namespace).
    pub fn of_kind<'a>(
        &'a self,
        kind: &'a str,
        ns: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects.iter().filter(move |o| {
            o["kind"] == kind && (ns.is_none() || o["metadata"]["namespace"].as_str() == ns)
        })
    }
    /// Pod names whose name starts with `prefix` in `ns`.
    pub fn pods_named(&self, ns: &str, prefix: &str) -> Vec<String> {
        self.of_kind("Pod", Some(ns))
            .filter_map(|p| p["metadata"]["name"].as_str())
            .filter(|n| n.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    pub fn add_log(&mut self, ns: &str, pod: &str, container: &str, text: String) {
        self.pod_logs.push(PodLog {
            namespace: ns.into(),
            pod: pod.into(),
            container: Some(container.into()),
            previous: false,
            text,
        });
    }
    pub fn add_previous_log(&mut self, ns: &str, pod: &str, container: &str, text: String) {
        self.pod_logs.push(PodLog {
            namespace: ns.into(),
            pod: pod.into(),
            container: Some(container.into()),
            previous: true,
            text,
        });
    }
    pub fn add_response(&mut self, path: &str, code: u16, body: String) {
        self.responses.retain(|r| r.path != path);
        self.responses.push(RawResponse {
            method: "GET".into(),
            path: path.into(),
            code,
            body,
        });
    }

    fn pod_ip(&mut self, node: &str) -> String {
        let Some(info) = self.node(node) else {
            return String::new();
        };
        let base = info.pod_cidr.trim_end_matches(".0/24").to_string();
        let n = self.next_ip.entry(node.to_string()).or_insert(2);
        let ip = format!("{base}.{n}");
        *n += 1;
        ip
    }

    /// Builds a pod (status included: Running and Ready unless a container says otherwise,
    /// Pending without a CNI for pod-network pods) and pushes it. Returns the pod.
    pub fn add_pod(&mut self, def: &PodDef) -> Value {
        let ns = def.namespace.as_str();
        let node_ip = self
            .node(&def.node)
            .map(|n| n.ip.clone())
            .unwrap_or_default();
        let no_network = self.opts.cni == Cni::None && !def.host_network;
        let pod_ip = if def.host_network {
            node_ip.clone()
        } else if no_network {
            String::new()
        } else {
            self.pod_ip(&def.node)
        };
        let mut pod = object("v1", "Pod", Some(ns), &def.name, def.created_ago);
        let pod_uid = pod["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if def.labels.is_object() {
            put(&mut pod["metadata"], "labels", def.labels.clone());
        }
        if def.annotations.is_object() {
            put(&mut pod["metadata"], "annotations", def.annotations.clone());
        }
        if let Some(owner) = &def.owner {
            put(
                &mut pod["metadata"],
                "ownerReferences",
                json!([owner_ref(owner)]),
            );
            if def.owner.as_ref().is_some_and(|o| o["kind"] == "Node") {
                // Mirror pods: the kubelet sets controller but not blockOwnerDeletion.
                pod["metadata"]["ownerReferences"][0]
                    .as_object_mut()
                    .map(|m| m.remove("blockOwnerDeletion"));
            }
        }
        let mut spec = def.spec();
        // What admission adds to a pod but not to templates: its priority, and the default
        // ServiceAccount (mirror pods of static manifests get none).
        let mirror = def.owner.as_ref().is_some_and(|o| o["kind"] == "Node");
        put(&mut spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        let priority = match def.priority_class.as_deref() {
            Some("system-node-critical") => 2_000_001_000,
            Some("system-cluster-critical") => 2_000_000_000,
            _ => 0,
        };
        put(&mut spec, "priority", json!(priority));
        if def.service_account.is_none() && !mirror {
            put(&mut spec, "serviceAccount", json!("default"));
            put(&mut spec, "serviceAccountName", json!("default"));
        }
        let mut tolerations = def.tolerations.clone();
        if !def.host_network
            || !tolerations
                .iter()
                .any(|t| t["operator"] == "Exists" && t.get("key").is_none())
        {
            for t in default_tolerations() {
                if !tolerations.iter().any(|x| x["key"] == t["key"]) {
                    tolerations.push(t);
                }
            }
        }
        put(&mut spec, "tolerations", json!(tolerations));
        put(&mut spec, "nodeName", json!(def.node));
        pod["spec"] = spec;

        let created = def.created_ago;
        let scheduled = created;
        let image_id = |image: &str| {
            let repo = image.split(':').next().unwrap_or(image);
            format!("{repo}@sha256:{}", hex(image, 64))
        };
        let mut init_statuses = Vec::new();
        for (i, c) in def.init_containers.iter().enumerate() {
            init_statuses.push(json!({
                "containerID": format!("containerd://{}", hex(&format!("{pod_uid}/{}/0", c.name), 64)),
                "image": c.image,
                "imageID": image_id(&c.image),
                "lastState": {},
                "name": c.name,
                "ready": true,
                "restartCount": 0,
                "started": false,
                "state": {"terminated": {
                    "containerID": format!("containerd://{}", hex(&format!("{pod_uid}/{}/0", c.name), 64)),
                    "exitCode": 0,
                    "finishedAt": ago(created - 3 - 2 * i as i64),
                    "reason": "Completed",
                    "startedAt": ago(created - 2 - 2 * i as i64),
                }},
            }));
        }
        let init_done = created - 2 - 2 * def.init_containers.len() as i64;
        let mut statuses = Vec::new();
        let mut all_ready = true;
        let mut ready_at = init_done;
        for c in &def.containers {
            let cid = format!(
                "containerd://{}",
                hex(&format!("{pod_uid}/{}/{}", c.name, c.restart_count), 64)
            );
            let started_ago = c
                .last_terminated
                .as_ref()
                .map(|t| t.finished_ago - 1)
                .unwrap_or(init_done - 1);
            ready_at = ready_at.min(started_ago - if c.readiness.is_some() { 5 } else { 0 });
            let last_state = match &c.last_terminated {
                Some(t) => json!({"terminated": {
                    "containerID": format!("containerd://{}", hex(&format!("{pod_uid}/{}/{}", c.name, c.restart_count - 1), 64)),
                    "exitCode": t.exit_code,
                    "finishedAt": ago(t.finished_ago),
                    "reason": t.reason,
                    "startedAt": ago(t.started_ago),
                }}),
                None => json!({}),
            };
            let ready = !c.not_ready && !no_network;
            all_ready &= ready;
            let mut st = json!({
                "image": c.image,
                "imageID": image_id(&c.image),
                "lastState": last_state,
                "name": c.name,
                "ready": ready,
                "restartCount": c.restart_count,
            });
            if no_network {
                put(&mut st, "started", json!(false));
                put(
                    &mut st,
                    "state",
                    json!({"waiting": {"reason": "ContainerCreating"}}),
                );
                st["imageID"] = json!("");
            } else {
                put(&mut st, "containerID", json!(cid));
                put(&mut st, "started", json!(true));
                put(
                    &mut st,
                    "state",
                    json!({"running": {"startedAt": ago(started_ago)}}),
                );
            }
            statuses.push(st);
        }
        let cond = |t: &str, ok: bool, at: i64| {
            let mut c = json!({"lastProbeTime": null, "lastTransitionTime": ago(at), "status": if ok {"True"} else {"False"}, "type": t});
            if !ok && (t == "Ready" || t == "ContainersReady") {
                put(&mut c, "reason", json!("ContainersNotReady"));
                let names: Vec<&str> = def
                    .containers
                    .iter()
                    .filter(|c| c.not_ready || no_network)
                    .map(|c| c.name.as_str())
                    .collect();
                put(
                    &mut c,
                    "message",
                    json!(format!(
                        "containers with unready status: [{}]",
                        names.join(" ")
                    )),
                );
            }
            c
        };
        let mut status = json!({
            "conditions": [
                cond("PodReadyToStartContainers", !no_network, init_done),
                cond("Initialized", true, init_done),
                cond("Ready", all_ready, ready_at),
                cond("ContainersReady", all_ready, ready_at),
                cond("PodScheduled", true, scheduled),
            ],
            "containerStatuses": statuses,
            "hostIP": node_ip,
            "hostIPs": [{"ip": node_ip}],
            "phase": if no_network { "Pending" } else { "Running" },
            "qosClass": qos_class(&def.containers),
            "startTime": ago(created),
        });
        if !pod_ip.is_empty() {
            put(&mut status, "podIP", json!(pod_ip));
            put(&mut status, "podIPs", json!([{"ip": pod_ip}]));
        }
        if !init_statuses.is_empty() {
            put(&mut status, "initContainerStatuses", json!(init_statuses));
        }
        pod["status"] = status;
        if no_network && !mirror && !tolerates_not_ready(&tolerations) {
            // Without a CNI every node keeps the not-ready taint: the scheduler cannot place it.
            let n = self.nodes.len();
            if let Some(m) = pod["spec"].as_object_mut() {
                m.remove("nodeName");
            }
            pod["status"] = json!({
                "conditions": [{
                    "lastProbeTime": null,
                    "lastTransitionTime": ago(created),
                    "message": format!("0/{n} nodes are available: {n} node(s) had untolerated taint {{node.kubernetes.io/not-ready: }}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."),
                    "reason": "Unschedulable",
                    "status": "False",
                    "type": "PodScheduled",
                }],
                "phase": "Pending",
                "qosClass": qos_class(&def.containers),
            });
        }
        self.objects.push(pod.clone());
        pod
    }

    /// Builds and pushes an Event about an existing (or deleted) object.
    pub fn event(&mut self, e: EventDef) {
        let target = self
            .find(
                &e.involved.kind,
                e.involved.namespace.as_deref(),
                &e.involved.name,
            )
            .cloned();
        let ns = e
            .involved
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let api_version = target
            .as_ref()
            .map(|t| t["apiVersion"].clone())
            .unwrap_or_else(|| json!("v1"));
        let uid_val = match (&target, e.involved.kind.as_str(), e.component) {
            // The kubelet names the node by name in its events' uid.
            (_, "Node", "kubelet") => json!(e.involved.name),
            (Some(t), _, _) => t["metadata"]["uid"].clone(),
            (None, k, _) => json!(uid(&[
                k,
                e.involved.namespace.as_deref().unwrap_or(""),
                &e.involved.name
            ])),
        };
        let seed = format!(
            "{}/{}/{}/{}",
            e.involved.name, e.reason, e.first_ago, e.message
        );
        let name = format!("{}.{}", e.involved.name, hex(&seed, 16));
        let mut involved = json!({"apiVersion": api_version, "kind": e.involved.kind, "name": e.involved.name, "uid": uid_val});
        if let Some(n) = &e.involved.namespace {
            put(&mut involved, "namespace", json!(n));
        }
        if let Some(fp) = &e.field_path {
            put(&mut involved, "fieldPath", json!(fp));
        }
        if let Some(rv) = target
            .as_ref()
            .and_then(|t| t["metadata"].get("resourceVersion"))
        {
            put(&mut involved, "resourceVersion", rv.clone());
        }
        let mut source = json!({"component": e.component});
        if let Some(h) = &e.host {
            put(&mut source, "host", json!(h));
        }
        let mut ev = object("v1", "Event", Some(&ns), &name, e.first_ago);
        ev["count"] = json!(e.count);
        ev["eventTime"] = Value::Null;
        ev["firstTimestamp"] = json!(ago(e.first_ago));
        ev["lastTimestamp"] = json!(ago(e.last_ago));
        ev["involvedObject"] = involved;
        ev["message"] = json!(e.message);
        ev["reason"] = json!(e.reason);
        ev["reportingComponent"] = json!(e.component);
        ev["reportingInstance"] = json!(e.host.clone().unwrap_or_default());
        ev["source"] = source;
        ev["type"] = json!(e.type_);
        self.objects.push(ev);
    }

    /// A `LeaderElection` event on a leader Lease (`HOLDER became leader`).
    pub fn leader_election_event(&mut self, component: &'static str, holder: &str, ago_secs: i64) {
        self.event(EventDef::normal(
            ObjRef::new("Lease", Some("kube-system"), component),
            "LeaderElection",
            format!("{holder} became leader"),
            component,
            ago_secs,
        ));
    }

    /// Adds a timeline step.
    pub fn at(&mut self, at: Duration, change: Change) {
        self.timeline.push(TimelineStep {
            at,
            every: None,
            until: None,
            change,
        });
    }
    /// Adds a repeating timeline step.
    pub fn every(&mut self, at: Duration, every: Duration, change: Change) {
        self.timeline.push(TimelineStep {
            at,
            every: Some(every),
            until: None,
            change,
        });
    }

    /// Renews a timestamp field (`path`, e.g. `/spec/renewTime`) every `every_secs`, keeping
    /// the phase of the value the snapshot holds (a lease renewed 3 s before the epoch every
    /// 10 s is next renewed at +7 s).
    pub fn renew_every(&mut self, target: ObjRef, path: &str, every_secs: u64) {
        let current = self
            .find(&target.kind, target.namespace.as_deref(), &target.name)
            .and_then(|o| resolve(o, path))
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let period = (every_secs.max(1) * 1000) as i64;
        let age_ms = current
            .map(|t| (epoch() - t.with_timezone(&Utc)).num_milliseconds())
            .unwrap_or(0);
        let first = period - age_ms.rem_euclid(period);
        self.every(
            Duration::from_millis(first.max(1) as u64),
            Duration::from_secs(every_secs.max(1)),
            Change::Now {
                target,
                path: path.into(),
            },
        );
    }

    /// Renews a Lease's `/spec/renewTime` every `every_secs` (see [`Cluster::renew_every`]).
    pub fn renew_lease_every(&mut self, ns: &str, name: &str, every_secs: u64) {
        self.renew_every(
            ObjRef::new("Lease", Some(ns), name),
            "/spec/renewTime",
            every_secs,
        );
    }

    /// Stops every repeating step that targets `target` at offset `at` (a kubelet that dies,
    /// a leader that stops renewing).
    pub fn stop_renewing(&mut self, target: &ObjRef, at: Duration) {
        for s in &mut self.timeline {
            let t = match &s.change {
                Change::Set { target, .. }
                | Change::Increment { target, .. }
                | Change::Now { target, .. }
                | Change::Merge { target, .. }
                | Change::Delete { target } => Some(target),
                Change::Create { .. } => None,
            };
            if s.every.is_some() && t == Some(target) {
                s.until = Some(at);
            }
        }
    }

    /// The healthy heartbeats: node leases every 10 s, leader leases every 2 s, apiserver
    /// identity leases every 10 s, node conditions' lastHeartbeatTime every 5 min.
    fn heartbeats(&mut self) {
        let leases: Vec<(String, String, u64)> = self
            .of_kind("Lease", None)
            .map(|l| {
                let ns = l["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let name = l["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let every = super::lease_renew_secs(l["spec"]["leaseDurationSeconds"].as_i64());
                (ns, name, every)
            })
            .collect();
        for (ns, name, every) in leases {
            self.renew_lease_every(&ns, &name, every);
        }
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.name.clone()).collect();
        for n in nodes {
            for t in ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"] {
                self.renew_every(
                    ObjRef::new("Node", None, &n),
                    &format!("/status/conditions/[type={t}]/lastHeartbeatTime"),
                    super::NODE_STATUS_REPORT_SECS,
                );
            }
        }
    }

    /// The snapshot and the timeline; every object gets a resourceVersion.
    pub fn into_parts(mut self) -> (Snapshot, Vec<TimelineStep>) {
        for (i, o) in self.objects.iter_mut().enumerate() {
            if o["metadata"].get("resourceVersion").is_none() {
                put(
                    &mut o["metadata"],
                    "resourceVersion",
                    json!((40_000 + i * 7).to_string()),
                );
            }
        }
        let snapshot = Snapshot {
            objects: self.objects,
            pod_logs: self.pod_logs,
            node_logs: self.node_logs,
            responses: self.responses,
            connections: Vec::new(),
            info: Some(SnapshotInfo {
                captured_at: Some(SCENARIO_EPOCH.to_string()),
                context: Some("kubernetes-admin@kubernetes".into()),
                server: Some(format!("https://{}", self.opts.control_plane_endpoint)),
                version: Some(self.opts.version.clone()),
                // A scenario is a whole cluster: every kind was "listed".
                captured: ktriage_api::resources::RESOURCES
                    .iter()
                    .filter(|d| d.kind != "Secret")
                    .map(|d| d.kind.to_string())
                    .collect(),
                redacted: None,
            }),
            unknown_evidence: Vec::new(),
            dropped: Vec::new(),
        };
        (snapshot, self.timeline)
    }

    /// The snapshot alone (the timeline is dropped).
    pub fn into_snapshot(self) -> Snapshot {
        self.into_parts().0
    }
}

/// Resolves a path of the timeline syntax: JSON-pointer segments, where `[field=value]`
/// selects the array element whose `field` equals `value`.
pub fn resolve<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        cur = if let Some(sel) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (f, val) = sel.split_once('=')?;
            cur.as_array()?
                .iter()
                .find(|e| e[f].as_str() == Some(val))?
        } else if let Some(a) = cur.as_array() {
            a.get(seg.parse::<usize>().ok()?)?
        } else {
            cur.get(seg.as_str())?
        };
    }
    Some(cur)
}

/// Mutable [`resolve`].
pub fn resolve_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut cur = v;
    for seg in path.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        cur = if let Some(sel) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let (f, val) = sel.split_once('=')?;
            cur.as_array_mut()?
                .iter_mut()
                .find(|e| e[f].as_str() == Some(val))?
        } else if cur.is_array() {
            cur.get_mut(seg.parse::<usize>().ok()?)?
        } else {
            cur.get_mut(seg.as_str())?
        };
    }
    Some(cur)
}

/// An object's (namespace, name), empty strings when absent.
pub fn ns_name(o: &Value) -> (String, String) {
    let field = |f: &str| o["metadata"][f].as_str().unwrap_or_default().to_string();
    (field("namespace"), field("name"))
}
