//! `node-pressure-evictions` (WL-08): a nightly backup job on worker-2's host writes into
//! /var, which shares the disk with /var/lib/containerd. The node has had DiskPressure for 24
//! minutes (taint node.kubernetes.io/disk-pressure); the kubelet evicted a cart and a
//! checkout pod ("The node was low on resource: ephemeral-storage"), their replacements run
//! on other workers, image garbage collection cannot free enough and the disk stays full.
//!
//! `node-pressure-evictions-control`: two pods evicted from worker-2 three days ago; the
//! pressure ended long since and the Failed pods were never deleted. Info at most.

use serde_json::{Value, json};

use super::common::endpoint_remove;
use crate::builder::{Cluster, ClusterBuilder, DAY, EventDef, MIN, ago, suffix, uid};
use crate::{ObjRef, Scenario, ServerBehavior};

const NODE: &str = "worker-2";
const NS: &str = "shop";
const THRESHOLD: &str = "Threshold quantity: 9347877258";

/// Evicts the pod of `prefix` on `NODE` `ago_secs` ago; its replacement runs on `to` (a
/// clone with a new name, uid and address). Returns the evicted pod's name.
fn evict(
    c: &mut Cluster,
    prefix: &str,
    container: &str,
    using: &str,
    ago_secs: i64,
    to: &str,
    ip: &str,
) -> Option<String> {
    let pod = c.pods_named(NS, prefix).into_iter().find(|p| {
        c.find("Pod", Some(NS), p)
            .is_some_and(|o| o["spec"]["nodeName"] == NODE)
    })?;
    let original = c.find("Pod", Some(NS), &pod)?.clone();
    let message = format!(
        "The node was low on resource: ephemeral-storage. {THRESHOLD}, available: 8871212Ki. Container {container} was using {using}, request is 0, has larger consumption of ephemeral-storage. "
    );
    endpoint_remove(c, NS, &pod);
    if let Some(p) = c.find_mut("Pod", Some(NS), &pod) {
        let started = p["status"]["startTime"].clone();
        let image = p["spec"]["containers"][0]["image"].clone();
        p["status"] = json!({
            "conditions": [
                {"lastProbeTime": null, "lastTransitionTime": ago(ago_secs), "message": message, "reason": "TerminationByKubelet", "status": "True", "type": "DisruptionTarget"},
                {"lastProbeTime": null, "lastTransitionTime": ago(ago_secs), "status": "False", "type": "Ready", "reason": "PodFailed"},
            ],
            "containerStatuses": [{"image": image, "imageID": "", "lastState": {}, "name": container, "ready": false, "restartCount": 0, "started": false,
                "state": {"terminated": {"exitCode": 137, "finishedAt": ago(ago_secs), "message": "The container could not be located when the pod was terminated", "reason": "ContainerStatusUnknown", "startedAt": started}}}],
            "hostIP": original["status"]["hostIP"],
            "message": message,
            "phase": "Failed",
            "qosClass": original["status"]["qosClass"],
            "reason": "Evicted",
            "startTime": started,
        });
    }
    let rs = original["metadata"]["ownerReferences"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = format!("{rs}-{}", suffix(&format!("{rs}/evicted/{pod}"), 5));
    let mut repl: Value = original.clone();
    repl["metadata"]["name"] = json!(name);
    repl["metadata"]["uid"] = json!(uid(&["Pod", NS, &name]));
    repl["metadata"]["creationTimestamp"] = json!(ago(ago_secs - 1));
    if let Some(m) = repl["metadata"].as_object_mut() {
        m.remove("resourceVersion");
    }
    repl["spec"]["nodeName"] = json!(to);
    let host = c.node(to).map(|n| n.ip.clone()).unwrap_or_default();
    repl["status"]["hostIP"] = json!(host);
    repl["status"]["hostIPs"] = json!([{"ip": host}]);
    repl["status"]["podIP"] = json!(ip);
    repl["status"]["podIPs"] = json!([{"ip": ip}]);
    repl["status"]["startTime"] = json!(ago(ago_secs - 2));
    if let Some(cs) = repl["status"]["containerStatuses"][0].as_object_mut() {
        cs.insert("restartCount".into(), json!(0));
        cs.insert("lastState".into(), json!({}));
        cs.insert(
            "state".into(),
            json!({"running": {"startedAt": ago(ago_secs - 4)}}),
        );
        cs.insert(
            "containerID".into(),
            json!(format!("containerd://{}", crate::builder::hex(&name, 64))),
        );
    }
    if let Some(conds) = repl["status"]["conditions"].as_array_mut() {
        for cond in conds {
            let t = if cond["type"] == "PodScheduled" {
                ago_secs - 1
            } else {
                ago_secs - 12
            };
            cond["lastTransitionTime"] = json!(ago(t));
        }
    }
    c.push(repl);
    // The Service's endpoints follow the replacement.
    let node_name = to.to_string();
    for o in c
        .objects
        .iter_mut()
        .filter(|o| o["kind"] == "Endpoints" && o["metadata"]["namespace"] == NS)
    {
        let selects = o["metadata"]["name"]
            .as_str()
            .is_some_and(|svc| prefix.starts_with(svc));
        if !selects {
            continue;
        }
        if let Some(addrs) = o["subsets"][0]["addresses"].as_array_mut() {
            addrs.push(json!({"ip": ip, "nodeName": node_name, "targetRef": {"kind": "Pod", "name": name, "namespace": NS, "uid": uid(&["Pod", NS, &name])}}));
        }
    }
    for o in c
        .objects
        .iter_mut()
        .filter(|o| o["kind"] == "EndpointSlice" && o["metadata"]["namespace"] == NS)
    {
        if o["metadata"]["labels"]["kubernetes.io/service-name"]
            .as_str()
            .is_some_and(|svc| prefix.starts_with(svc))
            && let Some(eps) = o["endpoints"].as_array_mut()
        {
            eps.push(json!({"addresses": [ip], "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": node_name,
                "targetRef": {"kind": "Pod", "name": name, "namespace": NS, "uid": uid(&["Pod", NS, &name])}}));
        }
    }
    let target = ObjRef::new("Pod", Some(NS), &pod);
    c.event(
        EventDef::normal(
            target.clone(),
            "Evicted",
            message.trim_end().to_string(),
            "kubelet",
            ago_secs,
        )
        .warning()
        .on_host(NODE),
    );
    c.event(
        EventDef::normal(
            target,
            "Killing",
            format!("Stopping container {container}"),
            "kubelet",
            ago_secs,
        )
        .on_host(NODE)
        .field(&format!("spec.containers{{{container}}}")),
    );
    Some(pod)
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let since = 24 * MIN;
    c.set_node_condition(
        NODE,
        "DiskPressure",
        "True",
        "KubeletHasDiskPressure",
        "kubelet has disk pressure",
        since,
    );
    if let Some(n) = c.find_mut("Node", None, NODE) {
        n["spec"]["taints"] = json!([{"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "timeAdded": ago(since)}]);
    }
    evict(
        &mut c,
        "cart-",
        "cart",
        "412Ki",
        21 * MIN,
        "worker-1",
        "10.244.3.201",
    );
    evict(
        &mut c,
        "checkout-",
        "checkout",
        "388Ki",
        17 * MIN,
        "worker-3",
        "10.244.5.202",
    );
    let node = ObjRef::new("Node", None, NODE);
    c.event(
        EventDef::normal(
            node.clone(),
            "NodeHasDiskPressure",
            format!("Node {NODE} status is now: NodeHasDiskPressure"),
            "kubelet",
            since,
        )
        .on_host(NODE),
    );
    c.event(
        EventDef::normal(
            node.clone(),
            "EvictionThresholdMet",
            "Attempting to reclaim ephemeral-storage",
            "kubelet",
            60,
        )
        .warning()
        .on_host(NODE)
        .repeated(9, since),
    );
    c.event(
        EventDef::normal(
            node,
            "ImageGCFailed",
            "Failed to garbage collect required amount of images. Attempted to free 12094712217 bytes, but only found 1288490188 bytes eligible to free.",
            "kubelet",
            300,
        )
        .warning()
        .on_host(NODE)
        .repeated(5, since - 10),
    );
    let gib = 1024u64.pow(3);
    let summary = json!({
        "node": {
            "nodeName": NODE,
            "fs": {"availableBytes": 9_084_121_088u64, "capacityBytes": 93 * gib + 478_772_582 % gib, "usedBytes": 84 * gib, "inodesFree": 5_812_311u64, "inodes": 6_225_920u64},
            "runtime": {"imageFs": {"availableBytes": 9_084_121_088u64, "capacityBytes": 93 * gib + 478_772_582 % gib, "usedBytes": 7 * gib}},
        },
        "pods": [],
    });
    c.add_response(
        &format!("/api/v1/nodes/{NODE}/proxy/stats/summary"),
        200,
        summary.to_string(),
    );
    finish(
        c,
        "node-pressure-evictions",
        Some("node-pressure-evictions"),
    )
}

pub fn control() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    evict(
        &mut c,
        "cart-",
        "cart",
        "412Ki",
        3 * DAY,
        "worker-1",
        "10.244.3.201",
    );
    evict(
        &mut c,
        "checkout-",
        "checkout",
        "388Ki",
        3 * DAY - 240,
        "worker-3",
        "10.244.5.202",
    );
    // Events expire after an hour: only the Failed pods remain.
    c.objects.retain(|o| {
        !(o["kind"] == "Event"
            && matches!(o["reason"].as_str(), Some("Evicted") | Some("Killing"))
            && o["involvedObject"]["namespace"] == NS
            && o["involvedObject"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("cart-") || n.starts_with("checkout-")))
    });
    finish(c, "node-pressure-evictions-control", None)
}

fn finish(c: Cluster, id: &'static str, playbook: Option<&'static str>) -> Scenario {
    let (snapshot, timeline) = c.into_parts();
    let (title, summary) = if playbook.is_some() {
        (
            "Evictions on a worker with a full disk",
            "worker-2's disk is filled by a host backup job: DiskPressure for 24 minutes, a disk-pressure taint, a cart and a checkout pod evicted (\"The node was low on resource: ephemeral-storage\"), image GC unable to free enough. The replacements run on worker-1 and worker-3.",
        )
    } else {
        (
            "Control: evicted pods from days ago",
            "A cart and a checkout pod were evicted from worker-2 three days ago; the pressure ended and nothing is wrong now, only the Failed pods were never deleted.",
        )
    };
    Scenario {
        id,
        title,
        summary,
        playbook,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
