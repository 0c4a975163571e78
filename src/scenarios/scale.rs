//! `scale`: a cluster at the Kubernetes envelope (5,000 nodes, 150,000 pods by default),
//! generated, never stored. The base is a kubeadm cluster with two known faults taken from
//! their own scenarios (`crashloop`: one checkout replica panics at every start;
//! `image-pull-failure`: a Deployment whose tag does not exist), so the playbooks find the
//! same causes at any size. Around it, generated one object at a time as the server stores
//! them ([`Scale::bulk`]): nodes with their leases (renewed live, every 30 s), a calico-node
//! and a kube-proxy pod on each (the DaemonSets count them), 200 team namespaces of
//! Deployments, ReplicaSets and pods of about 5 KB of JSON (a small managedFields block,
//! a last-applied annotation, probes and resources; some restarted days ago) and a few
//! thousand events. `--churn N` adds N changes a second on the watch path: readiness flips,
//! restarts and events.

use std::time::Duration;

use serde_json::{Value, json};

use super::builder::{DAY, HOUR, MIN, ago, hex, suffix, uid};
use super::{Change, ObjRef, Scenario, TimelineStep};

/// The id the scale scenario answers to, alone or with parameters (`scale:nodes=500,pods=15000`).
pub const ID: &str = "scale";

/// Team namespaces the application pods spread over.
pub const NAMESPACES: usize = 200;
/// Deployments per team namespace.
const APPS_PER_NS: usize = 5;
/// Normal events generated (Scheduled, Pulled, Started of recent pods), at most.
const EVENTS: usize = 3_000;
/// How often a generated node's kubelet renews its lease (its duration is 40 s).
const LEASE_RENEW_SECS: u64 = 30;

/// The size of the generated cluster and its churn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Nodes in all (3 control-plane nodes and 3 workers of the base included).
    pub nodes: usize,
    /// Pods in all (the base's control plane, add-ons and apps included).
    pub pods: usize,
    /// Changes a second on the watch path (0: none besides lease renewals).
    pub churn: u32,
}

impl Default for Scale {
    fn default() -> Self {
        Scale {
            nodes: 5_000,
            pods: 150_000,
            churn: 0,
        }
    }
}

/// Why a scale id does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: expected scale or scale:nodes=N,pods=M,churn=R")]
pub struct BadScaleId(String);

impl Scale {
    /// The id naming this size: `scale` for the defaults, else `scale:nodes=N,pods=M,churn=R`.
    pub fn id(&self) -> String {
        if *self == Scale::default() {
            ID.to_string()
        } else {
            format!(
                "{ID}:nodes={},pods={},churn={}",
                self.nodes, self.pods, self.churn
            )
        }
    }

    /// `None` when `id` is not a scale id at all; an error when it is one but malformed.
    pub fn parse_id(id: &str) -> Option<Result<Scale, BadScaleId>> {
        let rest = id.strip_prefix(ID)?;
        if rest.is_empty() {
            return Some(Ok(Scale::default()));
        }
        let params = rest.strip_prefix(':')?;
        let mut s = Scale::default();
        for kv in params.split(',').filter(|p| !p.is_empty()) {
            let bad = || BadScaleId(id.to_string());
            let (k, v) = kv.split_once('=').ok_or_else(bad).ok()?;
            let parsed = match k {
                "nodes" => v.parse().map(|n| s.nodes = n).is_ok(),
                "pods" => v.parse().map(|n| s.pods = n).is_ok(),
                "churn" => v.parse().map(|n| s.churn = n).is_ok(),
                _ => false,
            };
            if !parsed {
                return Some(Err(bad()));
            }
        }
        Some(Ok(s))
    }

    /// The base scenario (kubeadm cluster, its two faults, the DaemonSets counting every
    /// node) with the lease renewals and churn of the generated part in its timeline. Serve
    /// it with [`Scale::bulk`] as the server's generated objects.
    pub fn scenario(&self) -> Scenario {
        let mut base = super::find("crashloop").unwrap_or_else(healthy_fallback);
        // The image-pull-failure scenario's own objects (its Deployment, ReplicaSet, pods
        // and events): everything it holds that a healthy cluster does not.
        let healthy = super::find("healthy")
            .map(|s| s.snapshot)
            .unwrap_or_default();
        if let Some(pull) = super::find("image-pull-failure") {
            let key = |o: &Value| {
                (
                    o["kind"].as_str().unwrap_or("").to_string(),
                    o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    o["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            };
            let known: std::collections::HashSet<_> = healthy
                .objects
                .iter()
                .chain(&base.snapshot.objects)
                .map(key)
                .collect();
            base.snapshot.objects.extend(
                pull.snapshot
                    .objects
                    .into_iter()
                    .filter(|o| !known.contains(&key(o))),
            );
        }
        let plan = self.plan(&base.snapshot.objects);
        // The DaemonSets that run on every node count the generated nodes too.
        for o in &mut base.snapshot.objects {
            if o["kind"] == "DaemonSet"
                && plan
                    .daemon_pods
                    .iter()
                    .any(|p| owner_name(p) == o["metadata"]["name"].as_str())
            {
                let total = json!(self.nodes.max(plan.base_nodes));
                for f in [
                    "currentNumberScheduled",
                    "desiredNumberScheduled",
                    "numberAvailable",
                    "numberReady",
                    "updatedNumberScheduled",
                ] {
                    if o["status"].get(f).is_some() {
                        o["status"][f] = total.clone();
                    }
                }
            }
        }
        let mut timeline = base.timeline;
        timeline.extend(self.lease_renewals(&plan));
        timeline.extend(self.churn_steps(&plan));
        Scenario {
            id: ID,
            title: "A cluster at the Kubernetes envelope",
            summary: "5,000 nodes and 150,000 pods in 200 namespaces by default (--nodes, --pods), generated as the server stores them; a crash-looping checkout replica and an image that does not exist; --churn adds changes a second on the watch path.",
            playbook: None,
            snapshot: base.snapshot,
            timeline,
            behavior: base.behavior,
        }
    }

    /// The generated objects, made one at a time: nodes, node leases, DaemonSet pods,
    /// namespaces, Deployments, ReplicaSets, application pods, events. `base` is the
    /// scenario's snapshot objects (templates are cloned from them).
    pub fn bulk(&self, base: &[Value]) -> impl Iterator<Item = Value> + Send + 'static {
        let plan = self.plan(base);
        let extra_nodes = self.nodes.saturating_sub(plan.base_nodes);
        let apps = plan.app_pods;
        let per_app = apps.div_ceil(NAMESPACES * APPS_PER_NS).max(1);
        let node_plan = plan.clone();
        let nodes = (0..extra_nodes).flat_map(move |i| {
            let p = &node_plan;
            let name = node_name(i);
            let mut out = Vec::with_capacity(2 + p.daemon_pods.len());
            if let Some(t) = &p.node {
                out.push(node(t, i, &name));
            }
            if let Some(t) = &p.lease {
                out.push(lease(t, &name));
            }
            for d in &p.daemon_pods {
                out.push(daemon_pod(d, i, &name));
            }
            out
        });
        let namespaces = (0..NAMESPACES.min(apps)).flat_map(move |n| {
            let ns = team(n);
            let mut out = vec![json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "creationTimestamp": ago(90 * DAY), "labels": {"kubernetes.io/metadata.name": ns, "team": ns}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})];
            for a in 0..APPS_PER_NS {
                let replicas = (0..per_app)
                    .filter(|r| app_index(n, a, *r) < apps)
                    .count();
                if replicas > 0 {
                    out.extend(workload(&ns, a, replicas));
                }
            }
            out
        });
        let total_nodes = self.nodes.max(1);
        let base_workers: Vec<String> = plan.workers.clone();
        let pods = (0..apps).map(move |i| {
            let (n, a, r) = app_coords(i);
            let node = match i % total_nodes {
                k if k < extra_nodes => node_name(k),
                k => base_workers
                    .get(k % base_workers.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| node_name(0)),
            };
            app_pod(&team(n), a, r, &node, i)
        });
        let events = (0..EVENTS.min(apps)).flat_map(move |k| {
            // Spread over the pods, the most recent first.
            let i = k * (apps / EVENTS.min(apps)).max(1);
            let (n, a, r) = app_coords(i);
            events_of(&team(n), &pod_name(a, r), i)
        });
        nodes.chain(namespaces).chain(pods).chain(events)
    }

    /// The changes `--churn` applies, `rate` a second (each step repeats every second), for
    /// a driver of its own (a benchmark that starts and stops the churn). `base` is the
    /// scenario's snapshot objects.
    pub fn churn(&self, base: &[Value], rate: u32) -> Vec<TimelineStep> {
        Scale {
            churn: rate,
            ..*self
        }
        .churn_steps(&self.plan(base))
    }

    fn plan(&self, base: &[Value]) -> Plan {
        let kind = |o: &&Value, k: &str| o["kind"] == k;
        let worker = "worker-1";
        let base_nodes: Vec<&Value> = base.iter().filter(|o| kind(o, "Node")).collect();
        let workers: Vec<String> = base_nodes
            .iter()
            .filter(|n| {
                n["metadata"]["labels"]
                    .get("node-role.kubernetes.io/control-plane")
                    .is_none()
            })
            .filter_map(|n| n["metadata"]["name"].as_str().map(str::to_string))
            .collect();
        let node = base_nodes
            .iter()
            .find(|n| n["metadata"]["name"] == worker)
            .map(|n| (*n).clone());
        let lease = base
            .iter()
            .find(|o| {
                kind(o, "Lease")
                    && o["metadata"]["namespace"] == "kube-node-lease"
                    && o["metadata"]["name"] == worker
            })
            .cloned();
        let daemon_pods: Vec<Value> = base
            .iter()
            .filter(|o| kind(o, "Pod") && o["spec"]["nodeName"] == worker)
            .filter(|o| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|r| r["kind"] == "DaemonSet"))
            })
            .cloned()
            .collect();
        let base_pods = base.iter().filter(|o| kind(o, "Pod")).count();
        let extra_nodes = self.nodes.saturating_sub(base_nodes.len());
        let app_pods = self
            .pods
            .saturating_sub(base_pods + extra_nodes * daemon_pods.len());
        Plan {
            base_nodes: base_nodes.len(),
            workers,
            node,
            lease,
            daemon_pods,
            app_pods,
        }
    }

    fn lease_renewals(&self, plan: &Plan) -> Vec<TimelineStep> {
        let extra = self.nodes.saturating_sub(plan.base_nodes);
        if plan.lease.is_none() {
            return Vec::new();
        }
        (0..extra)
            .map(|i| TimelineStep {
                // Staggered over the period, as kubelets that started at different times.
                at: Duration::from_millis((i as u64 * LEASE_RENEW_SECS * 1000) / extra as u64),
                every: Some(Duration::from_secs(LEASE_RENEW_SECS)),
                until: None,
                change: Change::Now {
                    target: ObjRef::new("Lease", Some("kube-node-lease"), &node_name(i)),
                    path: "/spec/renewTime".into(),
                },
            })
            .collect()
    }

    /// `churn` steps, each repeating every second: `churn` changes a second on the watch
    /// path. In turn: a restart of one pod, its readiness going false, the readiness of the
    /// pod before coming back half a second later, and a kubelet event.
    fn churn_steps(&self, plan: &Plan) -> Vec<TimelineStep> {
        let rate = u64::from(self.churn);
        if rate == 0 || plan.app_pods == 0 {
            return Vec::new();
        }
        let ready = "/status/conditions/[type=Ready]/status".to_string();
        (0..rate)
            .map(|k| {
                let at = Duration::from_micros(k * 1_000_000 / rate);
                // One pod per step, spread over the cluster; a readiness flip's two steps
                // share theirs.
                let slot = if k % 4 == 2 { k - 1 } else { k };
                let i = usize::try_from(slot).unwrap_or(0).wrapping_mul(7919) % plan.app_pods;
                let (n, a, r) = app_coords(i);
                let ns = team(n);
                let name = pod_name(a, r);
                let target = ObjRef::new("Pod", Some(&ns), &name);
                let change = match k % 4 {
                    0 => Change::Increment {
                        target,
                        path: "/status/containerStatuses/0/restartCount".into(),
                        by: 1,
                    },
                    1 => Change::Set {
                        target,
                        path: ready.clone(),
                        value: json!("False"),
                    },
                    2 => Change::Set {
                        target,
                        path: ready.clone(),
                        value: json!("True"),
                    },
                    _ => {
                        let mut ev = event(
                            &ns,
                            &name,
                            "Pulled",
                            "Container image already present on machine",
                            "kubelet",
                            0,
                        );
                        ev["metadata"]["name"] = json!(format!("{name}.churn{k:x}"));
                        if let Some(o) = ev.as_object_mut() {
                            // Stamped with the time of each change.
                            o.remove("firstTimestamp");
                            o.remove("lastTimestamp");
                        }
                        Change::Create { object: ev }
                    }
                };
                TimelineStep {
                    at,
                    every: Some(Duration::from_secs(1)),
                    until: None,
                    change,
                }
            })
            .collect()
    }
}

/// Templates and counts derived from the base cluster.
#[derive(Debug, Clone)]
struct Plan {
    base_nodes: usize,
    workers: Vec<String>,
    node: Option<Value>,
    lease: Option<Value>,
    daemon_pods: Vec<Value>,
    app_pods: usize,
}

fn healthy_fallback() -> Scenario {
    super::healthy::scenario()
}

fn owner_name(pod: &Value) -> Option<&str> {
    pod["metadata"]["ownerReferences"][0]["name"].as_str()
}

fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

fn team(n: usize) -> String {
    format!("team-{n:03}")
}

fn app_name(a: usize) -> String {
    ["api", "web", "worker", "cache", "search"][a % 5].to_string()
}

fn rs_hash(a: usize) -> String {
    suffix(&format!("rs-{a}"), 10)
}

fn pod_name(a: usize, r: usize) -> String {
    format!(
        "{}-{}-{}",
        app_name(a),
        rs_hash(a),
        suffix(&format!("{a}-{r}"), 5)
    )
}

/// The pod index of replica `r` of app `a` in namespace `n`: pods fill replica 0 of every
/// app of every namespace first, so a small cluster still spans every namespace.
fn app_index(n: usize, a: usize, r: usize) -> usize {
    r * NAMESPACES * APPS_PER_NS + n * APPS_PER_NS + a
}

fn app_coords(i: usize) -> (usize, usize, usize) {
    let r = i / (NAMESPACES * APPS_PER_NS);
    let rest = i % (NAMESPACES * APPS_PER_NS);
    (rest / APPS_PER_NS, rest % APPS_PER_NS, r)
}

fn ip(prefix: u8, i: usize) -> String {
    format!(
        "{prefix}.{}.{}.{}",
        (i >> 16) & 255,
        (i >> 8) & 255,
        (i & 255).max(1)
    )
}

/// A generated node: worker-1's object renamed, readdressed, with its own podCIDR.
fn node(template: &Value, i: usize, name: &str) -> Value {
    let mut n = template.clone();
    let m = &mut n["metadata"];
    m["name"] = json!(name);
    if let Some(o) = m.as_object_mut() {
        o.remove("uid");
        o.remove("resourceVersion");
    }
    m["labels"]["kubernetes.io/hostname"] = json!(name);
    m["labels"]["topology.kubernetes.io/zone"] = json!(format!("zone-{}", ["a", "b", "c"][i % 3]));
    let addr = ip(10, 0x1_0000 + i);
    if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
        for v in a.values_mut() {
            if let Some(s) = v.as_str()
                && s.contains('/')
                && s.split('/')
                    .next()
                    .is_some_and(|h| h.parse::<std::net::Ipv4Addr>().is_ok())
            {
                *v = json!(format!("{addr}/24"));
            }
        }
    }
    let cidr = format!("10.{}.{}.0/24", 64 + (i >> 8), i & 255);
    n["spec"]["podCIDR"] = json!(cidr);
    n["spec"]["podCIDRs"] = json!([cidr]);
    n["status"]["addresses"] =
        json!([{"address": addr, "type": "InternalIP"}, {"address": name, "type": "Hostname"}]);
    n["status"]["nodeInfo"]["machineID"] = json!(hex(&format!("machine-{name}"), 32));
    n["status"]["nodeInfo"]["systemUUID"] = json!(uid(&["system", name]));
    n["status"]["nodeInfo"]["bootID"] = json!(uid(&["boot", name]));
    n
}

fn lease(template: &Value, name: &str) -> Value {
    let mut l = template.clone();
    l["metadata"]["name"] = json!(name);
    if let Some(o) = l["metadata"].as_object_mut() {
        o.remove("uid");
        o.remove("resourceVersion");
        o.remove("ownerReferences");
    }
    l["spec"]["holderIdentity"] = json!(name);
    l
}

fn daemon_pod(template: &Value, i: usize, node: &str) -> Value {
    let mut p = template.clone();
    let owner = owner_name(template).unwrap_or("daemon").to_string();
    let name = format!("{owner}-{}", suffix(&format!("{owner}-{node}"), 5));
    let m = &mut p["metadata"];
    m["name"] = json!(name);
    if let Some(o) = m.as_object_mut() {
        o.remove("uid");
        o.remove("resourceVersion");
    }
    p["spec"]["nodeName"] = json!(node);
    let addr = ip(10, 0x1_0000 + i);
    p["status"]["hostIP"] = json!(addr);
    p["status"]["hostIPs"] = json!([{"ip": addr}]);
    p["status"]["podIP"] = json!(addr);
    p["status"]["podIPs"] = json!([{"ip": addr}]);
    if let Some(cs) = p["status"]["containerStatuses"].as_array_mut() {
        for c in cs {
            c["containerID"] = json!(format!(
                "containerd://{}",
                hex(&format!("{name}-{}", c["name"]), 64)
            ));
        }
    }
    p
}

fn workload(ns: &str, a: usize, replicas: usize) -> Vec<Value> {
    let app = app_name(a);
    let hash = rs_hash(a);
    let labels = json!({"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns});
    let mut pod_labels = labels.clone();
    pod_labels["pod-template-hash"] = json!(hash);
    let created = ago(30 * DAY + (a as i64) * HOUR);
    let dep_uid = uid(&["deploy", ns, &app]);
    let status = json!({"availableReplicas": replicas, "readyReplicas": replicas, "replicas": replicas, "updatedReplicas": replicas, "observedGeneration": 3,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastTransitionTime": created, "lastUpdateTime": created},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{app}-{hash}\" has successfully progressed."), "lastTransitionTime": created, "lastUpdateTime": created}]});
    let template =
        json!({"metadata": {"labels": pod_labels}, "spec": {"containers": [container(ns, &app)]}});
    vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": ns, "uid": dep_uid, "generation": 3, "creationTimestamp": created, "labels": labels,
                "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
            "status": status}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{app}-{hash}"), "namespace": ns, "uid": uid(&["rs", ns, &app]), "creationTimestamp": created, "labels": pod_labels,
                "annotations": {"deployment.kubernetes.io/desired-replicas": replicas.to_string(), "deployment.kubernetes.io/revision": "3"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": app, "uid": dep_uid, "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"replicas": replicas, "selector": {"matchLabels": pod_labels}, "template": template},
            "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas, "fullyLabeledReplicas": replicas, "observedGeneration": 1}}),
    ]
}

fn container(ns: &str, app: &str) -> Value {
    json!({"name": app, "image": format!("registry.example.com/{ns}/{app}:1.4.2"), "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}, {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"}, "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access", "readOnly": true}]})
}

/// An application pod of about 5 KB: a ReplicaSet's replica with probes, resources, a
/// projected service-account volume, a last-applied annotation and a small managedFields
/// block. One pod in 40 restarted (days ago, OOMKilled): history, not trouble.
fn app_pod(ns: &str, a: usize, r: usize, node: &str, i: usize) -> Value {
    let app = app_name(a);
    let hash = rs_hash(a);
    let name = pod_name(a, r);
    let created = ago(2 * DAY + (i % 997) as i64 * 60);
    let started = ago(2 * DAY + (i % 997) as i64 * 60 - 8);
    let restarts = if i % 40 == 7 { 1 + (i % 3) as i64 } else { 0 };
    let pod_ip = ip(172, 0x10_0000 + i);
    let last_state = if restarts > 0 {
        json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": created, "finishedAt": ago(DAY + 3 * HOUR)}})
    } else {
        json!({})
    };
    let running_since = if restarts > 0 {
        ago(DAY + 3 * HOUR - 2)
    } else {
        started.clone()
    };
    let last_applied = format!(
        "{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{{\"name\":\"{app}\",\"namespace\":\"{ns}\"}},\"spec\":{{\"replicas\":3,\"template\":{{\"spec\":{{\"containers\":[{{\"name\":\"{app}\",\"image\":\"registry.example.com/{ns}/{app}:1.4.2\"}}]}}}}}}}}\n"
    );
    let mut c = container(ns, &app);
    c["volumeMounts"][0]["name"] = json!(format!("kube-api-access-{}", suffix(&name, 5)));
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns, "uid": uid(&["pod", ns, &name]), "creationTimestamp": created,
            "generateName": format!("{app}-{hash}-"),
            "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns, "pod-template-hash": hash},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied,
                            "prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-{hash}"),
                                 "uid": uid(&["rs", ns, &app]), "controller": true, "blockOwnerDeletion": true}],
            "managedFields": [
                {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": created, "fieldsType": "FieldsV1",
                 "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
                     "f:ownerReferences": {".": {}, "k:{\"uid\":\"0\"}": {}}},
                     "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}}},
                {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": started, "fieldsType": "FieldsV1", "subresource": "status",
                 "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:startTime": {}}}}
            ]
        },
        "spec": {
            "nodeName": node, "restartPolicy": "Always", "schedulerName": "default-scheduler", "serviceAccountName": "default",
            "serviceAccount": "default", "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "priority": 0,
            "preemptionPolicy": "PreemptLowerPriority", "securityContext": {}, "terminationGracePeriodSeconds": 30,
            "containers": [c],
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}],
            "volumes": [{"name": format!("kube-api-access-{}", suffix(&name, 5)), "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}]
        },
        "status": {
            "phase": "Running", "qosClass": "Burstable", "hostIP": ip(10, 0x1_0000 + i), "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": started,
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": started},
                {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": started},
                {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": running_since},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": running_since},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": created}],
            "containerStatuses": [{"name": app, "ready": true, "started": true, "restartCount": restarts,
                "image": format!("registry.example.com/{ns}/{app}:1.4.2"),
                "imageID": format!("registry.example.com/{ns}/{app}@sha256:{}", hex(&format!("img-{ns}-{app}"), 64)),
                "containerID": format!("containerd://{}", hex(&name, 64)),
                "state": {"running": {"startedAt": running_since}}, "lastState": last_state}]
        }
    })
}

fn event(ns: &str, pod: &str, reason: &str, message: &str, component: &str, age: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{pod}.{}", hex(&format!("{pod}-{reason}"), 16)), "namespace": ns, "creationTimestamp": ago(age)},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns, "uid": uid(&["pod", ns, pod])},
        "reason": reason, "message": message, "type": "Normal", "count": 1,
        "firstTimestamp": ago(age), "lastTimestamp": ago(age),
        "source": {"component": component}, "reportingComponent": component, "reportingInstance": ""})
}

/// Scheduled, Pulled and Started of one pod, a few minutes to a few hours old.
fn events_of(ns: &str, pod: &str, i: usize) -> Vec<Value> {
    let age = 5 * MIN + (i % 500) as i64 * 20;
    vec![
        event(
            ns,
            pod,
            "Scheduled",
            &format!("Successfully assigned {ns}/{pod}"),
            "default-scheduler",
            age,
        ),
        event(
            ns,
            pod,
            "Pulled",
            "Container image already present on machine",
            "kubelet",
            age - 2,
        ),
        event(ns, pod, "Started", "Started container", "kubelet", age - 3),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let s = Scale {
            nodes: 10,
            pods: 700,
            churn: 5,
        };
        assert_eq!(Scale::parse_id(&s.id()), Some(Ok(s)));
        assert_eq!(Scale::parse_id("scale"), Some(Ok(Scale::default())));
        assert_eq!(Scale::default().id(), "scale");
        assert!(matches!(Scale::parse_id("scale:nodes=x"), Some(Err(_))));
        assert_eq!(Scale::parse_id("healthy"), None);
        assert_eq!(Scale::parse_id("scaled"), None);
    }

    #[test]
    fn a_small_scale_cluster_has_the_asked_counts() {
        let s = Scale {
            nodes: 20,
            pods: 900,
            churn: 0,
        };
        let sc = s.scenario();
        let all: Vec<Value> = sc
            .snapshot
            .objects
            .iter()
            .cloned()
            .chain(s.bulk(&sc.snapshot.objects))
            .collect();
        let count = |k: &str| all.iter().filter(|o| o["kind"] == k).count();
        assert_eq!(count("Node"), 20);
        assert_eq!(count("Pod"), 900);
        let names: std::collections::HashSet<_> = all
            .iter()
            .map(|o| {
                (
                    o["kind"].to_string(),
                    o["metadata"]["namespace"].to_string(),
                    o["metadata"]["name"].to_string(),
                )
            })
            .collect();
        assert_eq!(names.len(), all.len(), "every object has its own name");
        let app = all
            .iter()
            .find(|o| o["kind"] == "Pod" && o["metadata"]["namespace"] == "team-000")
            .unwrap();
        let size = serde_json::to_string(app).unwrap().len();
        assert!(
            (4_000..6_500).contains(&size),
            "an application pod is {size} bytes"
        );
    }
}
