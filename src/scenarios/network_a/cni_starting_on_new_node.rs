//! `cni-starting-on-new-node`, a negative control for NET-01: worker-4 joined 40 seconds ago.
//! Its kubelet reports `cni plugin not initialized` and the node still has the not-ready
//! taint, but the calico-node pod on it is running its init containers: in a few seconds the
//! CNI config is written and the node turns Ready. Nothing is wrong; NET-01 must stay quiet.

use serde_json::{Value, json};

use super::super::builder::{ClusterBuilder, ago, ago_micros, hex, uid};
use super::super::{Scenario, ServerBehavior};

const NEW: &str = "worker-4";
const JOINED: i64 = 40;

fn renamed(mut v: Value, from: &str, to: &str) -> Value {
    let text = v.to_string().replace(from, to);
    if let Ok(n) = serde_json::from_str(&text) {
        v = n;
    }
    v
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let Some(w3) = c.find("Node", None, "worker-3").cloned() else {
        return empty(c);
    };
    let w3_ip = c.node("worker-3").map(|n| n.ip.clone()).unwrap_or_default();
    let new_ip = w3_ip.replace(".23", ".24");
    // The Node: registered, network not ready yet, not-ready taint.
    let mut node = renamed(w3, "worker-3", NEW);
    node = renamed(node, &format!("\"{w3_ip}"), &format!("\"{new_ip}"));
    node["metadata"]["uid"] = json!(uid(&["Node", "", NEW]));
    node["metadata"]["creationTimestamp"] = json!(ago(JOINED));
    node["spec"]["podCIDR"] = json!("10.244.6.0/24");
    node["spec"]["podCIDRs"] = json!(["10.244.6.0/24"]);
    node["spec"]["taints"] =
        json!([{"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}]);
    if let Some(a) = node["metadata"]["annotations"].as_object_mut() {
        a.retain(|k, _| !k.starts_with("projectcalico.org/"));
    }
    if let Some(conds) = node["status"]["conditions"].as_array_mut() {
        conds.retain(|x| x["type"] != "NetworkUnavailable");
        for x in conds.iter_mut() {
            x["lastTransitionTime"] = json!(ago(JOINED - 2));
            x["lastHeartbeatTime"] = json!(ago(3));
            if x["type"] == "Ready" {
                x["status"] = json!("False");
                x["reason"] = json!("KubeletNotReady");
                x["message"] = json!(
                    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
                );
            }
        }
    }
    node["status"]["nodeInfo"]["bootID"] = json!(uid(&["boot", NEW]));
    node["status"]["nodeInfo"]["machineID"] = json!(hex(&format!("machine/{NEW}"), 32));
    node["status"]["nodeInfo"]["systemUUID"] = json!(uid(&["system", NEW]));
    c.push(node);
    let mut lease = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": NEW, "namespace": "kube-node-lease", "creationTimestamp": ago(JOINED - 1), "uid": uid(&["Lease", "kube-node-lease", NEW]), "resourceVersion": "1",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": NEW, "uid": uid(&["Node", "", NEW])}]},
        "spec": {"holderIdentity": NEW, "leaseDurationSeconds": 40, "renewTime": ago_micros(2_318_004)},
    });
    if let Some(l) = c.find("Lease", Some("kube-node-lease"), "worker-3") {
        lease["metadata"]["resourceVersion"] = l["metadata"]["resourceVersion"].clone();
    }
    c.push(lease);
    // The DaemonSet pods created for it: kube-proxy running, calico-node still initialising.
    for (ds, prefix) in [
        ("kube-proxy", "kube-proxy-"),
        ("calico-node", "calico-node-"),
    ] {
        let Some(pod) = c
            .of_kind("Pod", Some("kube-system"))
            .find(|p| {
                p["spec"]["nodeName"] == "worker-3"
                    && p["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| n.starts_with(prefix))
            })
            .cloned()
        else {
            continue;
        };
        let old = pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let new = format!(
            "{prefix}{}",
            super::super::builder::suffix(&format!("{ds}/{NEW}"), 5)
        );
        let mut p = renamed(pod, &old, &new);
        p = renamed(p, "\"worker-3\"", &format!("\"{NEW}\""));
        p = renamed(p, &format!("\"{w3_ip}\""), &format!("\"{new_ip}\""));
        p["metadata"]["uid"] = json!(uid(&["Pod", "kube-system", &new]));
        p["metadata"]["creationTimestamp"] = json!(ago(JOINED - 3));
        p["status"]["startTime"] = json!(ago(JOINED - 3));
        if ds == "calico-node" {
            p["status"]["phase"] = json!("Pending");
            p["status"]["conditions"] = json!([
                {"lastProbeTime": null, "lastTransitionTime": ago(JOINED - 3), "status": "True", "type": "PodReadyToStartContainers"},
                {"lastProbeTime": null, "lastTransitionTime": ago(JOINED - 3), "message": "containers with incomplete status: [install-cni mount-bpffs]", "reason": "ContainersNotInitialized", "status": "False", "type": "Initialized"},
                {"lastProbeTime": null, "lastTransitionTime": ago(JOINED - 3), "message": "containers with unready status: [calico-node]", "reason": "ContainersNotReady", "status": "False", "type": "Ready"},
                {"lastProbeTime": null, "lastTransitionTime": ago(JOINED - 3), "message": "containers with unready status: [calico-node]", "reason": "ContainersNotReady", "status": "False", "type": "ContainersReady"},
                {"lastProbeTime": null, "lastTransitionTime": ago(JOINED - 3), "status": "True", "type": "PodScheduled"},
            ]);
            if let Some(inits) = p["status"]["initContainerStatuses"].as_array_mut() {
                for (i, s) in inits.iter_mut().enumerate() {
                    if i == 1 {
                        s["ready"] = json!(false);
                        s["started"] = json!(true);
                        s["state"] = json!({"running": {"startedAt": ago(JOINED - 25)}});
                    } else if i > 1 {
                        s["ready"] = json!(false);
                        s["started"] = json!(false);
                        s["state"] = json!({"waiting": {"reason": "PodInitializing"}});
                        if let Some(m) = s.as_object_mut() {
                            m.remove("containerID");
                        }
                    }
                }
            }
            if let Some(cs) = p["status"]["containerStatuses"].as_array_mut() {
                for s in cs {
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["state"] = json!({"waiting": {"reason": "PodInitializing"}});
                    if let Some(m) = s.as_object_mut() {
                        m.remove("containerID");
                    }
                }
            }
        }
        c.push(p);
        if let Some(d) = c.find_mut("DaemonSet", Some("kube-system"), ds) {
            for k in [
                "currentNumberScheduled",
                "desiredNumberScheduled",
                "updatedNumberScheduled",
            ] {
                let n = d["status"][k].as_i64().unwrap_or(0);
                d["status"][k] = json!(n + 1);
            }
            if ds == "calico-node" {
                d["status"]["numberUnavailable"] = json!(1);
            } else {
                for k in ["numberReady", "numberAvailable"] {
                    let n = d["status"][k].as_i64().unwrap_or(0);
                    d["status"][k] = json!(n + 1);
                }
            }
        }
    }
    empty(c)
}

fn empty(c: super::super::builder::Cluster) -> Scenario {
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "cni-starting-on-new-node",
        title: "Control: a new node waits for its CNI pod",
        summary: "The healthy cluster plus worker-4, joined 40 seconds ago: NotReady with `cni plugin not initialized` while its calico-node pod runs install-cni. A normal start-up, not a missing CNI.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
