//! `apparmor-seccomp-blocked` (WL-09): the frontend's current revision asks for the
//! RuntimeDefault AppArmor profile (a hardening change). worker-3, joined 50 minutes ago from
//! the enterprise image that boots with AppArmor disabled (seed: "appArmor to be disabled"),
//! rejects every frontend pod the scheduler sends it: `Failed`, reason `AppArmor`, "Cannot
//! enforce AppArmor: AppArmor is not enabled on the host". The pods on worker-1 and
//! worker-2 run with the same profile.

use serde_json::json;

use super::common::{endpoint_remove, set_ready_replicas};
use crate::builder::{ClusterBuilder, EventDef, MIN, ago, suffix, uid};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const NODE: &str = "worker-3";
const MESSAGE: &str = "Cannot enforce AppArmor: AppArmor is not enabled on the host";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    // The hardening: every frontend pod and template asks for RuntimeDefault.
    for o in c.objects.iter_mut().filter(|o| {
        o["metadata"]["namespace"] == NS
            && o["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("frontend"))
    }) {
        match o["kind"].as_str() {
            Some("Pod") => {
                o["spec"]["securityContext"] =
                    json!({"appArmorProfile": {"type": "RuntimeDefault"}})
            }
            Some("Deployment") | Some("ReplicaSet") => {
                o["spec"]["template"]["spec"]["securityContext"] =
                    json!({"appArmorProfile": {"type": "RuntimeDefault"}})
            }
            _ => {}
        }
    }
    let on_node: Option<serde_json::Value> = c
        .of_kind("Pod", Some(NS))
        .find(|p| {
            p["spec"]["nodeName"] == NODE
                && p["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("frontend-"))
        })
        .cloned();
    let Some(template) = on_node else {
        return finish(c);
    };
    let first = template["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rs = template["metadata"]["ownerReferences"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    endpoint_remove(&mut c, NS, &first);
    c.remove("Pod", Some(NS), &first);
    // Its image was never pulled nor its container started.
    c.objects
        .retain(|o| !(o["kind"] == "Event" && o["involvedObject"]["name"] == first.as_str()));
    // The first rejection and two replacements the scheduler sent to the same empty node.
    let mut names = vec![first.clone()];
    for i in 1..=2 {
        names.push(format!("{rs}-{}", suffix(&format!("{rs}/apparmor/{i}"), 5)));
    }
    let ages = [25 * MIN, 24 * MIN, 24 * MIN - 40];
    for (name, age) in names.iter().zip(ages) {
        let mut p = template.clone();
        p["metadata"]["name"] = json!(name);
        p["metadata"]["uid"] = json!(uid(&["Pod", NS, name]));
        p["metadata"]["creationTimestamp"] = json!(ago(age));
        if let Some(m) = p["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        p["status"] = json!({
            "message": format!("Pod was rejected: {MESSAGE}"),
            "phase": "Failed",
            "reason": "AppArmor",
            "startTime": ago(age - 1),
        });
        c.push(p);
        let target = ObjRef::new("Pod", Some(NS), name);
        c.event(EventDef::normal(
            target.clone(),
            "Scheduled",
            format!("Successfully assigned {NS}/{name} to {NODE}"),
            "default-scheduler",
            age - 1,
        ));
        c.event(
            EventDef::normal(target, "AppArmor", MESSAGE, "kubelet", age - 1)
                .warning()
                .on_host(NODE),
        );
        c.event(EventDef::normal(
            ObjRef::new("ReplicaSet", Some(NS), &rs),
            "SuccessfulCreate",
            format!("Created pod: {name}"),
            "replicaset-controller",
            age,
        ));
    }
    set_ready_replicas(&mut c, NS, "frontend", 2, 25 * MIN);
    finish(c)
}

fn finish(c: crate::builder::Cluster) -> Scenario {
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "apparmor-seccomp-blocked",
        title: "AppArmor disabled on a new node",
        summary: "The frontend now asks for the RuntimeDefault AppArmor profile. worker-3, joined 50 minutes ago from an image booted with AppArmor disabled, rejects each frontend pod sent to it: Failed, reason AppArmor, \"Cannot enforce AppArmor: AppArmor is not enabled on the host\". The same pods run on worker-1 and worker-2.",
        playbook: Some("apparmor-seccomp-blocked"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
