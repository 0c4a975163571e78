//! `pending-unschedulable` (WL-03): a new `shop/search` Deployment was applied 14 minutes
//! ago with requests copied from a sizing sheet for dedicated nodes (8 CPUs, 16Gi). The
//! workers have 8 allocatable CPUs each, some already requested: both pods stay Pending,
//! `0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint
//! {node-role.kubernetes.io/control-plane: }`.

use serde_json::json;

use super::common::{add_app, set_ready_replicas};
use crate::builder::{ClusterBuilder, ContainerDef, EventDef, MIN, ago};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const AGE: i64 = 14 * MIN;
const MESSAGE: &str = "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/6 nodes are available: 3 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let mut ctr = ContainerDef::new("search", "ghcr.io/acme/shop-search:4.0.1");
    ctr.ports = vec![json!({"containerPort": 9200, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "16Gi"}, "requests": {"cpu": "8", "memory": "16Gi"}});
    let pods = add_app(&mut c, NS, "search", ctr, &["worker-1", "worker-2"], AGE);
    for pod in &pods {
        if let Some(p) = c.find_mut("Pod", Some(NS), pod) {
            if let Some(spec) = p["spec"].as_object_mut() {
                spec.remove("nodeName");
            }
            p["status"] = json!({
                "conditions": [{"lastProbeTime": null, "lastTransitionTime": ago(AGE - 1), "message": MESSAGE, "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
                "phase": "Pending",
                "qosClass": "Burstable",
            });
        }
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some(NS), pod),
                "FailedScheduling",
                MESSAGE,
                "default-scheduler",
                2 * MIN + 11,
            )
            .warning()
            .repeated(4, AGE - 1),
        );
    }
    set_ready_replicas(&mut c, NS, "search", 0, AGE - 20);
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "pending-unschedulable",
        title: "Pods pending: requests larger than any node",
        summary: "shop/search asks for 8 CPUs per pod; each worker has 8 allocatable and some already requested. Both pods are Pending: 0/6 nodes are available: 3 Insufficient cpu, 3 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.",
        playbook: Some("pending-unschedulable"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
