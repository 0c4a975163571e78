//! Workload helpers: Deployments (with their ReplicaSets), DaemonSets, StatefulSets and
//! Services (with Endpoints and EndpointSlices), their status computed from the pods built.

use serde_json::{Value, json};

use super::{Cluster, PodDef, SvcPort, Terminated, ago, hex, kv, object, owner_ref, put, suffix};

/// A Service to build with [`Cluster::add_service`].
#[derive(Debug, Clone, Default)]
pub struct ServiceDef {
    pub namespace: String,
    pub name: String,
    pub labels: Value,
    /// `spec.selector`; Null for a Service without selector (no Endpoints are built).
    pub selector: Value,
    pub ports: Vec<SvcPort>,
    /// `ClusterIP` (when empty), `NodePort` or `LoadBalancer`.
    pub type_: String,
    /// `None`: a stable address from the service subnet; `Some("None")`: headless.
    pub cluster_ip: Option<String>,
    pub created_ago: i64,
}

impl ServiceDef {
    /// A ClusterIP Service labelled and selecting with `selector`.
    pub fn new(
        ns: &str,
        name: &str,
        selector: Value,
        ports: Vec<SvcPort>,
        created_ago: i64,
    ) -> Self {
        ServiceDef {
            namespace: ns.into(),
            name: name.into(),
            labels: selector.clone(),
            selector,
            ports,
            created_ago,
            ..Default::default()
        }
    }
}

/// A Deployment, DaemonSet or StatefulSet to build.
#[derive(Debug, Clone, Default)]
pub struct WorkloadDef {
    pub namespace: String,
    pub name: String,
    /// `spec.selector.matchLabels`; also on every pod.
    pub selector: Value,
    /// The workload object's own labels.
    pub labels: Value,
    /// Containers, volumes, service account, tolerations, extra pod labels (`labels`).
    pub template: PodDef,
    pub created_ago: i64,
    /// Deployment revision; revisions before it remain as ReplicaSets scaled to 0.
    pub revision: i64,
    /// One entry per pod (Deployment / StatefulSet), or the nodes a DaemonSet runs on.
    pub nodes: Vec<String>,
    /// Age of the pods (the current ReplicaSet's creation for Deployments).
    pub pods_created_ago: i64,
    pub annotations: Value,
}

fn merged(a: &Value, b: &Value) -> Value {
    let mut out = a.clone();
    if let Some(m) = b.as_object() {
        for (k, v) in m {
            put(&mut out, k, v.clone());
        }
    }
    if out.is_null() { json!({}) } else { out }
}

fn template(labels: &Value, def: &PodDef) -> Value {
    json!({"metadata": {"creationTimestamp": null, "labels": labels}, "spec": def.spec()})
}

/// Ready / available counts of the pods just built.
fn count_ready(pods: &[Value]) -> i64 {
    pods.iter()
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count() as i64
}

/// Inserts `key: n` unless n is 0 (the API server omits zero counts).
fn put_count(v: &mut Value, key: &str, n: i64) {
    if n > 0 {
        put(v, key, json!(n));
    }
}

impl Cluster {
    /// A Deployment, its ReplicaSet(s) and one pod per `def.nodes` entry. Returns the pods.
    pub fn add_deployment(&mut self, def: &WorkloadDef) -> Vec<Value> {
        let ns = def.namespace.as_str();
        let replicas = def.nodes.len() as i64;
        let revision = def.revision.max(1);
        let pod_labels = merged(&def.selector, &def.template.labels);
        let mut dep = object(
            "apps/v1",
            "Deployment",
            Some(ns),
            &def.name,
            def.created_ago,
        );
        let mut annotations = merged(&def.annotations, &kv(&[]));
        put(
            &mut annotations,
            "deployment.kubernetes.io/revision",
            json!(revision.to_string()),
        );
        dep["metadata"]["annotations"] = annotations;
        dep["metadata"]["generation"] = json!(revision);
        if def.labels.is_object() {
            dep["metadata"]["labels"] = def.labels.clone();
        }
        dep["spec"] = json!({
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": def.selector},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
            "template": template(&pod_labels, &def.template),
        });
        let max_surge = (replicas + 3) / 4;
        let max_unavailable = replicas / 4;
        let mut current_rs = None;
        for rev in 1..=revision {
            let hash = suffix(&format!("{ns}/{}/template/{rev}", def.name), 10);
            let rs_name = format!("{}-{hash}", def.name);
            let current = rev == revision;
            let created = if current {
                def.pods_created_ago + 1
            } else {
                def.created_ago - (rev - 1) * 86_400 * 3
            };
            let mut rs = object(
                "apps/v1",
                "ReplicaSet",
                Some(ns),
                &rs_name,
                created.min(def.created_ago),
            );
            let mut labels = pod_labels.clone();
            put(&mut labels, "pod-template-hash", json!(hash));
            rs["metadata"]["labels"] = labels.clone();
            rs["metadata"]["annotations"] = kv(&[
                (
                    "deployment.kubernetes.io/desired-replicas",
                    &replicas.to_string(),
                ),
                (
                    "deployment.kubernetes.io/max-replicas",
                    &(replicas + max_surge).to_string(),
                ),
                ("deployment.kubernetes.io/revision", &rev.to_string()),
            ]);
            rs["metadata"]["generation"] = json!(if current { 1 } else { 2 });
            rs["metadata"]["ownerReferences"] = json!([owner_ref(&dep)]);
            let mut selector = def.selector.clone();
            put(&mut selector, "pod-template-hash", json!(hash));
            let mut old_template = def.template.clone();
            for c in old_template.containers.iter_mut() {
                c.image = older_image(&c.image, revision - rev);
            }
            rs["spec"] = json!({
                "replicas": if current { replicas } else { 0 },
                "selector": {"matchLabels": selector},
                "template": template(&labels, &old_template),
            });
            rs["status"] =
                json!({"observedGeneration": rs["metadata"]["generation"], "replicas": 0});
            if current {
                current_rs = Some((rs_name.clone(), labels));
            }
            self.push(rs);
        }
        let Some((rs_name, labels)) = current_rs else {
            return Vec::new();
        };
        let owner = self.find("ReplicaSet", Some(ns), &rs_name).cloned();
        let mut pods = Vec::new();
        for (i, node) in def.nodes.iter().enumerate() {
            let mut p = def.template.clone();
            p.namespace = ns.into();
            p.name = format!("{rs_name}-{}", suffix(&format!("{rs_name}/{i}"), 5));
            p.node = node.clone();
            p.labels = labels.clone();
            p.owner = owner.clone();
            p.created_ago = def.pods_created_ago - i as i64;
            pods.push(self.add_pod(&p));
        }
        let ready = count_ready(&pods);
        if let Some(rs) = self.find_mut("ReplicaSet", Some(ns), &rs_name) {
            let mut st = json!({"fullyLabeledReplicas": replicas, "observedGeneration": 1, "replicas": replicas});
            put_count(&mut st, "readyReplicas", ready);
            put_count(&mut st, "availableReplicas", ready);
            rs["status"] = st;
        }
        let available = ready >= replicas - max_unavailable;
        let mut st = json!({
            "conditions": [
                if available {
                    json!({"lastTransitionTime": ago(def.pods_created_ago - 20), "lastUpdateTime": ago(def.pods_created_ago - 20), "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"})
                } else {
                    json!({"lastTransitionTime": ago(def.pods_created_ago - 20), "lastUpdateTime": ago(def.pods_created_ago - 20), "message": "Deployment does not have minimum availability.", "reason": "MinimumReplicasUnavailable", "status": "False", "type": "Available"})
                },
                json!({"lastTransitionTime": ago(def.created_ago), "lastUpdateTime": ago(def.pods_created_ago - 20), "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."), "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}),
            ],
            "observedGeneration": revision,
            "replicas": replicas,
            "updatedReplicas": replicas,
        });
        put_count(&mut st, "readyReplicas", ready);
        put_count(&mut st, "availableReplicas", ready);
        put_count(&mut st, "unavailableReplicas", replicas - ready);
        dep["status"] = st;
        self.push(dep);
        pods
    }

    /// A DaemonSet and one pod on each of `def.nodes`. Returns the pods.
    pub fn add_daemonset(&mut self, def: &WorkloadDef) -> Vec<Value> {
        let ns = def.namespace.as_str();
        let mut ds = object("apps/v1", "DaemonSet", Some(ns), &def.name, def.created_ago);
        let mut annotations = merged(&def.annotations, &kv(&[]));
        put(
            &mut annotations,
            "deprecated.daemonset.template.generation",
            json!(def.revision.max(1).to_string()),
        );
        ds["metadata"]["annotations"] = annotations;
        ds["metadata"]["generation"] = json!(def.revision.max(1));
        if def.labels.is_object() {
            ds["metadata"]["labels"] = def.labels.clone();
        }
        let pod_labels = merged(&def.selector, &def.template.labels);
        ds["spec"] = json!({
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": def.selector},
            "template": template(&pod_labels, &def.template),
            "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}, "type": "RollingUpdate"},
        });
        self.push(ds.clone());
        let hash = suffix(&format!("{ns}/{}/rev/{}", def.name, def.revision), 10);
        let mut labels = pod_labels;
        put(&mut labels, "controller-revision-hash", json!(hash));
        put(
            &mut labels,
            "pod-template-generation",
            json!(def.revision.max(1).to_string()),
        );
        let mut pods = Vec::new();
        for node in &def.nodes {
            let mut p = def.template.clone();
            p.namespace = ns.into();
            p.name = format!(
                "{}-{}",
                def.name,
                suffix(&format!("{ns}/{}/{node}", def.name), 5)
            );
            p.node = node.clone();
            p.labels = labels.clone();
            p.owner = Some(ds.clone());
            let node_age = self
                .node(node)
                .map(|n| n.created_ago)
                .unwrap_or(def.pods_created_ago);
            p.created_ago = def.pods_created_ago.min(node_age - 20);
            p.affinity = Some(
                json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}),
            );
            let mut tolerations = p.tolerations.clone();
            let extra = [
                ("node.kubernetes.io/not-ready", "NoExecute"),
                ("node.kubernetes.io/unreachable", "NoExecute"),
                ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                ("node.kubernetes.io/unschedulable", "NoSchedule"),
            ];
            for (k, e) in extra {
                tolerations.push(json!({"effect": e, "key": k, "operator": "Exists"}));
            }
            if p.host_network {
                tolerations.push(json!({"effect": "NoSchedule", "key": "node.kubernetes.io/network-unavailable", "operator": "Exists"}));
            }
            p.tolerations = tolerations;
            pods.push(self.add_pod(&p));
        }
        let n = def.nodes.len() as i64;
        let ready = count_ready(&pods);
        if let Some(ds) = self.find_mut("DaemonSet", Some(ns), &def.name) {
            let mut st = json!({
                "currentNumberScheduled": n,
                "desiredNumberScheduled": n,
                "numberMisscheduled": 0,
                "numberReady": ready,
                "observedGeneration": def.revision.max(1),
                "updatedNumberScheduled": n,
            });
            put_count(&mut st, "numberAvailable", ready);
            put_count(&mut st, "numberUnavailable", n - ready);
            ds["status"] = st;
        }
        pods
    }

    /// A StatefulSet with pods `NAME-0..` on `def.nodes` (serviceName = its name).
    pub fn add_statefulset(&mut self, def: &WorkloadDef) -> Vec<Value> {
        let ns = def.namespace.as_str();
        let mut sts = object(
            "apps/v1",
            "StatefulSet",
            Some(ns),
            &def.name,
            def.created_ago,
        );
        sts["metadata"]["generation"] = json!(1);
        if def.labels.is_object() {
            sts["metadata"]["labels"] = def.labels.clone();
        }
        let pod_labels = merged(&def.selector, &def.template.labels);
        let n = def.nodes.len() as i64;
        sts["spec"] = json!({
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "podManagementPolicy": "OrderedReady",
            "replicas": n,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": def.selector},
            "serviceName": def.name,
            "template": template(&pod_labels, &def.template),
            "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
        });
        self.push(sts.clone());
        let revision = format!(
            "{}-{}",
            def.name,
            suffix(&format!("{ns}/{}/sts", def.name), 10)
        );
        let mut pods = Vec::new();
        for (i, node) in def.nodes.iter().enumerate() {
            let name = format!("{}-{i}", def.name);
            let mut labels = pod_labels.clone();
            put(
                &mut labels,
                "apps.kubernetes.io/pod-index",
                json!(i.to_string()),
            );
            put(&mut labels, "controller-revision-hash", json!(revision));
            put(
                &mut labels,
                "statefulset.kubernetes.io/pod-name",
                json!(name),
            );
            let mut p = def.template.clone();
            p.namespace = ns.into();
            p.name = name;
            p.node = node.clone();
            p.labels = labels;
            p.owner = Some(sts.clone());
            p.created_ago = def.pods_created_ago - 30 * i as i64;
            let pod = self.add_pod(&p);
            if let Some(obj) = self.find_mut("Pod", Some(ns), &p.name) {
                put(&mut obj["spec"], "hostname", json!(p.name));
                put(&mut obj["spec"], "subdomain", json!(def.name));
            }
            pods.push(pod);
        }
        let ready = count_ready(&pods);
        if let Some(sts) = self.find_mut("StatefulSet", Some(ns), &def.name) {
            let mut st = json!({
                "collisionCount": 0,
                "currentReplicas": n,
                "currentRevision": revision,
                "observedGeneration": 1,
                "replicas": n,
                "updateRevision": revision,
                "updatedReplicas": n,
            });
            put_count(&mut st, "readyReplicas", ready);
            put_count(&mut st, "availableReplicas", ready);
            sts["status"] = st;
        }
        pods
    }

    /// A Service (ClusterIP unless `type_` says otherwise; `cluster_ip` None picks a stable
    /// address, `Some("None")` makes it headless) plus its Endpoints and EndpointSlice, filled
    /// from the pods matching the selector.
    pub fn add_service(&mut self, def: &ServiceDef) {
        let (ns, name, labels, selector, ports) = (
            def.namespace.as_str(),
            def.name.as_str(),
            &def.labels,
            &def.selector,
            &def.ports,
        );
        let created_ago = def.created_ago;
        let type_ = if def.type_.is_empty() {
            "ClusterIP"
        } else {
            def.type_.as_str()
        };
        let ip = def
            .cluster_ip
            .clone()
            .unwrap_or_else(|| self.cluster_ip_for(ns, name));
        let mut svc = object("v1", "Service", Some(ns), name, created_ago);
        if labels.is_object() {
            svc["metadata"]["labels"] = labels.clone();
        }
        let mut spec = json!({
            "clusterIP": ip,
            "clusterIPs": [ip],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": ports.iter().map(|p| {
                let mut v = json!({"name": p.name, "port": p.port, "protocol": p.protocol, "targetPort": p.target});
                if let Some(np) = p.node_port { put(&mut v, "nodePort", json!(np)); }
                v
            }).collect::<Vec<_>>(),
            "sessionAffinity": "None",
            "type": type_,
        });
        if selector.is_object() {
            put(&mut spec, "selector", selector.clone());
        }
        if type_ == "NodePort" || type_ == "LoadBalancer" {
            put(&mut spec, "externalTrafficPolicy", json!("Cluster"));
        }
        if type_ == "LoadBalancer" {
            put(&mut spec, "allocateLoadBalancerNodePorts", json!(true));
        }
        svc["spec"] = spec;
        svc["status"] = json!({"loadBalancer": {}});
        self.push(svc.clone());
        if !selector.is_object() {
            return;
        }
        let sel = selector.as_object().cloned().unwrap_or_default();
        let pods: Vec<Value> = self
            .of_kind("Pod", Some(ns))
            .filter(|p| sel.iter().all(|(k, v)| p["metadata"]["labels"][k] == *v))
            .cloned()
            .collect();
        let (mut ready, mut not_ready, mut slice_eps) = (Vec::new(), Vec::new(), Vec::new());
        let mut newest = created_ago;
        for p in &pods {
            let Some(ip) = p["status"]["podIP"].as_str() else {
                continue;
            };
            let node = p["spec"]["nodeName"].as_str().unwrap_or_default();
            let is_ready = count_ready(std::slice::from_ref(p)) == 1;
            let target = json!({"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": p["metadata"]["uid"]});
            let addr = json!({"ip": ip, "nodeName": node, "targetRef": target});
            if is_ready {
                ready.push(addr)
            } else {
                not_ready.push(addr)
            }
            let zone = self.node(node).map(|n| n.zone.clone()).unwrap_or_default();
            slice_eps.push(json!({"addresses": [ip], "conditions": {"ready": is_ready, "serving": is_ready, "terminating": false}, "nodeName": node, "targetRef": target, "zone": zone}));
            newest = newest.min(pod_age(p));
        }
        let trigger = ago((newest - 15).max(0));
        let mut ep = object("v1", "Endpoints", Some(ns), name, created_ago);
        ep["metadata"]["annotations"] =
            kv(&[("endpoints.kubernetes.io/last-change-trigger-time", &trigger)]);
        if labels.is_object() {
            ep["metadata"]["labels"] = labels.clone();
        }
        if !ready.is_empty() || !not_ready.is_empty() {
            let mut subset = json!({"ports": ports.iter().map(|p| json!({"name": p.name, "port": p.target, "protocol": p.protocol})).collect::<Vec<_>>()});
            if !ready.is_empty() {
                put(&mut subset, "addresses", json!(ready));
            }
            if !not_ready.is_empty() {
                put(&mut subset, "notReadyAddresses", json!(not_ready));
            }
            ep["subsets"] = json!([subset]);
        }
        self.push(ep);
        let slice_name = format!("{name}-{}", suffix(&format!("{ns}/{name}/slice"), 5));
        let mut es = object(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            Some(ns),
            &slice_name,
            created_ago,
        );
        let mut es_labels = labels.clone();
        put(
            &mut es_labels,
            "endpointslice.kubernetes.io/managed-by",
            json!("endpointslice-controller.k8s.io"),
        );
        put(&mut es_labels, "kubernetes.io/service-name", json!(name));
        es["metadata"]["labels"] = es_labels;
        es["metadata"]["annotations"] =
            kv(&[("endpoints.kubernetes.io/last-change-trigger-time", &trigger)]);
        es["metadata"]["generateName"] = json!(format!("{name}-"));
        es["metadata"]["ownerReferences"] = json!([owner_ref(&svc)]);
        es["addressType"] = json!("IPv4");
        es["endpoints"] = if slice_eps.is_empty() {
            Value::Null
        } else {
            json!(slice_eps)
        };
        es["ports"] = json!(
            ports
                .iter()
                .map(|p| json!({"name": p.name, "port": p.target, "protocol": p.protocol}))
                .collect::<Vec<_>>()
        );
        self.push(es);
    }

    /// Gives a pod's container `restarts` restarts, the last one ending as `last`
    /// (restartCount, lastState.terminated, a new containerID and state.running.startedAt).
    pub fn set_restarts(
        &mut self,
        ns: &str,
        pod: &str,
        container: &str,
        restarts: i64,
        last: Terminated,
    ) {
        let Some(p) = self.find_mut("Pod", Some(ns), pod) else {
            return;
        };
        let pod_uid = p["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(st) = p["status"]["containerStatuses"]
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|c| c["name"] == container))
        else {
            return;
        };
        st["restartCount"] = json!(restarts);
        st["lastState"] = json!({"terminated": {
            "containerID": format!("containerd://{}", hex(&format!("{pod_uid}/{container}/{}", restarts - 1), 64)),
            "exitCode": last.exit_code,
            "finishedAt": ago(last.finished_ago),
            "reason": last.reason,
            "startedAt": ago(last.started_ago),
        }});
        st["containerID"] = json!(format!(
            "containerd://{}",
            hex(&format!("{pod_uid}/{container}/{restarts}"), 64)
        ));
        st["state"] = json!({"running": {"startedAt": ago(last.finished_ago - 1)}});
        if let Some(conds) = p["status"]["conditions"].as_array_mut() {
            for c in conds
                .iter_mut()
                .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
            {
                c["lastTransitionTime"] = json!(ago(last.finished_ago - 12));
            }
        }
    }
}

/// The image `steps` releases earlier: the last numeric part of a dotted tag decremented
/// (`app:2.14.1` one step back is `app:2.14.0`), so older ReplicaSets differ from the current.
fn older_image(image: &str, steps: i64) -> String {
    let Some((repo, tag)) = image.rsplit_once(':') else {
        return image.to_string();
    };
    let mut parts: Vec<String> = tag.split('.').map(str::to_string).collect();
    let Some(last) = parts.last_mut() else {
        return image.to_string();
    };
    match last.parse::<i64>() {
        Ok(n) if steps > 0 => {
            *last = (n - steps).max(0).to_string();
            format!("{repo}:{}", parts.join("."))
        }
        _ => image.to_string(),
    }
}

fn pod_age(p: &Value) -> i64 {
    p["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| (super::epoch() - t.with_timezone(&chrono::Utc)).num_seconds())
        .unwrap_or(0)
}
