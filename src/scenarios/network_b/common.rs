//! Helpers shared by the `network_b` scenarios: a pod whose sandbox never comes up (and so
//! leaves its Service's endpoints and its workload's ready counts), and the events of a pod.

use serde_json::{Value, json};

use crate::builder::{Cluster, ago};

/// Puts a built pod in `Pending` / `ContainerCreating` since `since_ago` seconds (its sandbox
/// was never created): no IP, no container ids, conditions false. Drops its kubelet events
/// after `Scheduled` (it never pulled or started anything), its addresses from Endpoints and
/// EndpointSlices, and one ready replica from its ReplicaSet and Deployment.
pub fn stuck_creating(c: &mut Cluster, ns: &str, pod: &str, since_ago: i64) {
    let Some(p) = c.find_mut("Pod", Some(ns), pod) else {
        return;
    };
    let ip = p["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let owner = p["metadata"]["ownerReferences"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    p["metadata"]["creationTimestamp"] = json!(ago(since_ago));
    p["status"]["phase"] = json!("Pending");
    p["status"]["startTime"] = json!(ago(since_ago));
    if let Some(m) = p["status"].as_object_mut() {
        m.remove("podIP");
        m.remove("podIPs");
    }
    let names: Vec<String> = p["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(sts) = p["status"]["containerStatuses"].as_array_mut() {
        for st in sts {
            if let Some(m) = st.as_object_mut() {
                m.remove("containerID");
            }
            st["imageID"] = json!("");
            st["lastState"] = json!({});
            st["ready"] = json!(false);
            st["restartCount"] = json!(0);
            st["started"] = json!(false);
            st["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
        }
    }
    if let Some(conds) = p["status"]["conditions"].as_array_mut() {
        for cond in conds.iter_mut() {
            let t = cond["type"].as_str().unwrap_or_default().to_string();
            cond["lastTransitionTime"] = json!(ago(since_ago));
            if matches!(
                t.as_str(),
                "Ready" | "ContainersReady" | "PodReadyToStartContainers"
            ) {
                cond["status"] = json!("False");
                if t != "PodReadyToStartContainers" {
                    cond["reason"] = json!("ContainersNotReady");
                    cond["message"] = json!(format!(
                        "containers with unready status: [{}]",
                        names.join(" ")
                    ));
                }
            }
        }
    }
    let pod_name = pod.to_string();
    c.objects.retain(|o| {
        !(o["kind"] == "Event"
            && o["involvedObject"]["name"] == pod_name.as_str()
            && o["involvedObject"]["kind"] == "Pod"
            && o["reason"] != "Scheduled")
    });
    if !ip.is_empty() {
        for o in c.objects.iter_mut() {
            if o["metadata"]["namespace"] != ns {
                continue;
            }
            if o["kind"] == "Endpoints" {
                if let Some(subsets) = o["subsets"].as_array_mut() {
                    for s in subsets.iter_mut() {
                        if let Some(a) = s["addresses"].as_array_mut() {
                            a.retain(|x| x["ip"] != ip.as_str());
                        }
                    }
                }
            } else if o["kind"] == "EndpointSlice"
                && let Some(eps) = o["endpoints"].as_array_mut()
            {
                eps.retain(|e| e["addresses"][0] != ip.as_str());
            }
        }
    }
    // One ready replica fewer on the ReplicaSet and its Deployment.
    let mut deployment = None;
    if let Some(rs) = c.find_mut("ReplicaSet", Some(ns), &owner) {
        deployment = rs["metadata"]["ownerReferences"][0]["name"]
            .as_str()
            .map(str::to_string);
        dec(&mut rs["status"], "readyReplicas");
        dec(&mut rs["status"], "availableReplicas");
    }
    if let Some(d) = deployment.and_then(|d| c.find_mut("Deployment", Some(ns), &d)) {
        dec(&mut d["status"], "readyReplicas");
        dec(&mut d["status"], "availableReplicas");
        let un = d["status"]["unavailableReplicas"].as_i64().unwrap_or(0) + 1;
        d["status"]["unavailableReplicas"] = json!(un);
    }
}

fn dec(v: &mut Value, key: &str) {
    let n = v[key].as_i64().unwrap_or(0) - 1;
    if let Some(m) = v.as_object_mut() {
        if n > 0 {
            m.insert(key.into(), json!(n));
        } else {
            m.remove(key);
        }
    }
}

/// The first pod of `ns` whose name starts with `prefix` and that runs on `node`.
pub fn pod_on(c: &Cluster, ns: &str, prefix: &str, node: &str) -> Option<String> {
    c.pods_named(ns, prefix).into_iter().find(|p| {
        c.find("Pod", Some(ns), p)
            .is_some_and(|o| o["spec"]["nodeName"] == node)
    })
}

/// Moves the addresses `ips` of every Endpoints object in `ns` to `notReadyAddresses` and
/// marks them not ready/serving in the EndpointSlices (pods that run but fail readiness).
pub fn endpoints_not_ready(c: &mut Cluster, ns: &str, ips: &[String]) {
    for o in c.objects.iter_mut() {
        if o["metadata"]["namespace"] != ns {
            continue;
        }
        if o["kind"] == "Endpoints" {
            let Some(subsets) = o["subsets"].as_array_mut() else {
                continue;
            };
            for s in subsets.iter_mut() {
                let moved: Vec<Value> = s["addresses"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter(|x| ips.iter().any(|ip| x["ip"] == ip.as_str()))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                if moved.is_empty() {
                    continue;
                }
                if let Some(a) = s["addresses"].as_array_mut() {
                    a.retain(|x| !ips.iter().any(|ip| x["ip"] == ip.as_str()));
                }
                let mut nr = s["notReadyAddresses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                nr.extend(moved);
                s["notReadyAddresses"] = json!(nr);
                if s["addresses"].as_array().is_some_and(Vec::is_empty)
                    && let Some(m) = s.as_object_mut()
                {
                    m.remove("addresses");
                }
            }
        } else if o["kind"] == "EndpointSlice"
            && let Some(eps) = o["endpoints"].as_array_mut()
        {
            for e in eps.iter_mut() {
                if ips.iter().any(|ip| e["addresses"][0] == ip.as_str()) {
                    e["conditions"] =
                        json!({"ready": false, "serving": false, "terminating": false});
                }
            }
        }
    }
}

/// Sets a Deployment's (and its current ReplicaSet's) ready/available counts to `ready`.
pub fn deployment_ready(c: &mut Cluster, ns: &str, name: &str, ready: i64) {
    let mut targets = vec![("Deployment".to_string(), name.to_string())];
    for rs in c.of_kind("ReplicaSet", Some(ns)) {
        if rs["metadata"]["ownerReferences"][0]["name"] == name
            && rs["spec"]["replicas"].as_i64().unwrap_or(0) > 0
        {
            targets.push((
                "ReplicaSet".into(),
                rs["metadata"]["name"].as_str().unwrap_or_default().into(),
            ));
        }
    }
    for (kind, n) in targets {
        let Some(o) = c.find_mut(&kind, Some(ns), &n) else {
            continue;
        };
        let replicas = o["spec"]["replicas"].as_i64().unwrap_or(0);
        let st = &mut o["status"];
        for key in ["readyReplicas", "availableReplicas"] {
            if let Some(m) = st.as_object_mut() {
                if ready > 0 {
                    m.insert(key.into(), json!(ready));
                } else {
                    m.remove(key);
                }
            }
        }
        if kind == "Deployment" && replicas > ready {
            st["unavailableReplicas"] = json!(replicas - ready);
            if let Some(conds) = st["conditions"].as_array_mut() {
                for cond in conds.iter_mut().filter(|c| c["type"] == "Available") {
                    cond["status"] = json!("False");
                    cond["reason"] = json!("MinimumReplicasUnavailable");
                    cond["message"] = json!("Deployment does not have minimum availability.");
                }
            }
        }
    }
}

/// Appends `lines` to a container's current log (creating it when absent).
pub fn append_log(c: &mut Cluster, ns: &str, pod: &str, container: &str, lines: &str) {
    match c.pod_logs.iter_mut().find(|l| {
        l.namespace == ns
            && l.pod == pod
            && !l.previous
            && l.container.as_deref().is_none_or(|x| x == container)
    }) {
        Some(l) => l.text.push_str(lines),
        None => c.add_log(ns, pod, container, lines.to_string()),
    }
}

/// A JSON log line as the shop's services print them, `secs_ago` before the epoch.
pub fn json_line(secs_ago: i64, level: &str, msg: &str, extra: &str) -> String {
    let t = crate::builder::epoch() - chrono::Duration::milliseconds(secs_ago * 1000 + 137);
    format!(
        "{{\"level\":\"{level}\",\"ts\":\"{}\",\"msg\":\"{msg}\"{extra}}}\n",
        t.format("%Y-%m-%dT%H:%M:%S%.6fZ")
    )
}
