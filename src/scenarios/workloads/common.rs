//! Small helpers the workload scenarios share on top of the builder: finding a pod by name
//! prefix, editing container specs in a pod and in its workload templates, putting a
//! container into a waiting state the kubelet reports, and marking a workload unavailable.

use serde_json::{Value, json};

use crate::builder::{Cluster, ContainerDef, PodDef, WorkloadDef, ago, kv};

/// The first pod in `ns` whose name starts with `prefix`.
pub fn pod_named(c: &Cluster, ns: &str, prefix: &str) -> Option<String> {
    let mut names = c.pods_named(ns, prefix);
    names.sort();
    names.into_iter().next()
}

/// Applies `f` to container `container` of a Pod (`spec.containers`) or of a workload
/// (`spec.template.spec.containers`).
pub fn edit_container(
    c: &mut Cluster,
    kind: &str,
    ns: &str,
    name: &str,
    container: &str,
    f: impl Fn(&mut Value),
) {
    let Some(o) = c.find_mut(kind, Some(ns), name) else {
        return;
    };
    let path = if kind == "Pod" {
        "/spec/containers"
    } else {
        "/spec/template/spec/containers"
    };
    if let Some(cs) = o.pointer_mut(path).and_then(Value::as_array_mut)
        && let Some(ctr) = cs.iter_mut().find(|x| x["name"] == container)
    {
        f(ctr);
    }
}

/// Applies `f` to the container in the pod, its ReplicaSet (or other owner) and Deployment.
pub fn edit_everywhere(
    c: &mut Cluster,
    ns: &str,
    pod: &str,
    container: &str,
    f: impl Fn(&mut Value),
) {
    edit_container(c, "Pod", ns, pod, container, &f);
    let owner = c
        .find("Pod", Some(ns), pod)
        .and_then(|p| p["metadata"]["ownerReferences"][0].as_object().cloned());
    if let Some(o) = owner {
        let kind = o
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        edit_container(c, &kind, ns, &name, container, &f);
        if kind == "ReplicaSet" {
            let dep = c
                .find("ReplicaSet", Some(ns), &name)
                .and_then(|rs| rs["metadata"]["ownerReferences"][0]["name"].as_str())
                .map(str::to_string);
            if let Some(d) = dep {
                edit_container(c, "Deployment", ns, &d, container, &f);
            }
        }
    }
}

/// Makes a pod younger: created (and started) `secs` before the epoch.
pub fn set_pod_age(c: &mut Cluster, ns: &str, pod: &str, secs: i64) {
    if let Some(p) = c.find_mut("Pod", Some(ns), pod) {
        p["metadata"]["creationTimestamp"] = json!(ago(secs));
        p["status"]["startTime"] = json!(ago(secs));
        if let Some(conds) = p["status"]["conditions"].as_array_mut() {
            for cond in conds {
                let t = cond["type"].as_str().unwrap_or("");
                if t == "PodScheduled" {
                    cond["lastTransitionTime"] = json!(ago(secs + 1));
                } else if t == "Initialized" || t == "PodReadyToStartContainers" {
                    cond["lastTransitionTime"] = json!(ago(secs - 2));
                }
            }
        }
    }
}

/// Puts a container in a waiting state (`ErrImagePull`, `CreateContainerConfigError`…):
/// never started, not ready, the pod not ready.
pub fn set_waiting(
    c: &mut Cluster,
    ns: &str,
    pod: &str,
    container: &str,
    reason: &str,
    message: &str,
    since_ago: i64,
) {
    let Some(p) = c.find_mut("Pod", Some(ns), pod) else {
        return;
    };
    if let Some(st) = p["status"]["containerStatuses"]
        .as_array_mut()
        .and_then(|a| a.iter_mut().find(|x| x["name"] == container))
    {
        st["ready"] = json!(false);
        st["started"] = json!(false);
        st["restartCount"] = json!(0);
        st["lastState"] = json!({});
        if let Some(m) = st.as_object_mut() {
            m.remove("containerID");
        }
        if reason == "ErrImagePull" || reason == "ImagePullBackOff" {
            st["imageID"] = json!("");
        }
        st["state"] = json!({"waiting": {"reason": reason, "message": message}});
    }
    set_unready(p, container, since_ago);
}

/// Marks a pod's Ready/ContainersReady conditions False for `container`.
pub fn set_unready(p: &mut Value, container: &str, since_ago: i64) {
    if let Some(conds) = p["status"]["conditions"].as_array_mut() {
        for cond in conds
            .iter_mut()
            .filter(|x| x["type"] == "Ready" || x["type"] == "ContainersReady")
        {
            cond["status"] = json!("False");
            cond["reason"] = json!("ContainersNotReady");
            cond["message"] = json!(format!("containers with unready status: [{container}]"));
            cond["lastTransitionTime"] = json!(ago(since_ago));
        }
    }
}

/// Sets a Deployment's and its current ReplicaSet's ready/available counts.
pub fn set_ready_replicas(c: &mut Cluster, ns: &str, deployment: &str, ready: i64, since_ago: i64) {
    let rs_names: Vec<String> = c
        .of_kind("ReplicaSet", Some(ns))
        .filter(|rs| rs["metadata"]["ownerReferences"][0]["name"] == deployment)
        .filter(|rs| rs["spec"]["replicas"].as_i64().unwrap_or(0) > 0)
        .filter_map(|rs| rs["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    for rs in rs_names {
        if let Some(o) = c.find_mut("ReplicaSet", Some(ns), &rs) {
            put_count(&mut o["status"], "readyReplicas", ready);
            put_count(&mut o["status"], "availableReplicas", ready);
        }
    }
    if let Some(d) = c.find_mut("Deployment", Some(ns), deployment) {
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(0);
        put_count(&mut d["status"], "readyReplicas", ready);
        put_count(&mut d["status"], "availableReplicas", ready);
        put_count(&mut d["status"], "unavailableReplicas", replicas - ready);
        let max_unavailable = replicas / 4;
        if ready < replicas - max_unavailable
            && let Some(conds) = d["status"]["conditions"].as_array_mut()
            && let Some(a) = conds.iter_mut().find(|x| x["type"] == "Available")
        {
            *a = json!({"lastTransitionTime": ago(since_ago), "lastUpdateTime": ago(since_ago), "message": "Deployment does not have minimum availability.", "reason": "MinimumReplicasUnavailable", "status": "False", "type": "Available"});
        }
    }
}

fn put_count(v: &mut Value, key: &str, n: i64) {
    if let Some(m) = v.as_object_mut() {
        if n > 0 {
            m.insert(key.into(), json!(n));
        } else {
            m.remove(key);
        }
    }
}

/// Moves a pod's address to `notReadyAddresses` in every Endpoints and EndpointSlice of `ns`.
pub fn endpoint_not_ready(c: &mut Cluster, ns: &str, pod: &str) {
    for o in c.objects.iter_mut().filter(|o| {
        (o["kind"] == "Endpoints" || o["kind"] == "EndpointSlice")
            && o["metadata"]["namespace"] == ns
    }) {
        if o["kind"] == "Endpoints" {
            if let Some(subsets) = o["subsets"].as_array_mut() {
                for sub in subsets {
                    let Some(addrs) = sub["addresses"].as_array_mut() else {
                        continue;
                    };
                    let (moved, kept): (Vec<Value>, Vec<Value>) =
                        addrs.drain(..).partition(|a| a["targetRef"]["name"] == pod);
                    *addrs = kept;
                    if moved.is_empty() {
                        continue;
                    }
                    let mut nr = sub["notReadyAddresses"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default();
                    nr.extend(moved);
                    sub["notReadyAddresses"] = json!(nr);
                    if sub["addresses"].as_array().is_some_and(Vec::is_empty)
                        && let Some(m) = sub.as_object_mut()
                    {
                        m.remove("addresses");
                    }
                }
            }
        } else if let Some(eps) = o["endpoints"].as_array_mut() {
            for e in eps.iter_mut().filter(|e| e["targetRef"]["name"] == pod) {
                e["conditions"] = json!({"ready": false, "serving": false, "terminating": false});
            }
        }
    }
}

/// Removes a pod's address from every Endpoints and EndpointSlice of `ns` (a pod that never ran).
pub fn endpoint_remove(c: &mut Cluster, ns: &str, pod: &str) {
    for o in c.objects.iter_mut().filter(|o| {
        (o["kind"] == "Endpoints" || o["kind"] == "EndpointSlice")
            && o["metadata"]["namespace"] == ns
    }) {
        if let Some(subsets) = o["subsets"].as_array_mut() {
            for sub in subsets.iter_mut() {
                for key in ["addresses", "notReadyAddresses"] {
                    if let Some(a) = sub[key].as_array_mut() {
                        a.retain(|x| x["targetRef"]["name"] != pod);
                    }
                }
            }
        }
        if let Some(eps) = o["endpoints"].as_array_mut() {
            eps.retain(|e| e["targetRef"]["name"] != pod);
        }
    }
}

/// A new application Deployment in `ns` (no Service), one pod per node of `nodes`, created
/// `age` seconds ago; `ctr` is its only container. Returns the pod names.
pub fn add_app(
    c: &mut Cluster,
    ns: &str,
    name: &str,
    ctr: ContainerDef,
    nodes: &[&str],
    age: i64,
) -> Vec<String> {
    let labels = kv(&[
        ("app.kubernetes.io/name", name),
        ("app.kubernetes.io/part-of", ns),
    ]);
    let pods = c.add_deployment(&WorkloadDef {
        namespace: ns.into(),
        name: name.into(),
        selector: kv(&[("app.kubernetes.io/name", name)]),
        labels: labels.clone(),
        template: PodDef {
            labels,
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        pods_created_ago: age - 1,
        annotations: Value::Null,
    });
    pods.iter()
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}
