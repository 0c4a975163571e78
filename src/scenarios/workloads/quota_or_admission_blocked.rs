//! `quota-or-admission-blocked` (WL-04): the platform team labelled namespace `shop`
//! `pod-security.kubernetes.io/enforce=restricted` 30 minutes ago. Running pods are not
//! re-checked, but the new `shop/reports` Deployment (12 minutes old) has 0 pods: its
//! ReplicaSet's creates are refused, `violates PodSecurity "restricted:latest"`.

use serde_json::json;

use super::common::add_app;
use crate::builder::{ClusterBuilder, ContainerDef, EventDef, MIN, ago};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const AGE: i64 = 12 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(n) = c.find_mut("Namespace", None, NS) {
        n["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("restricted");
        n["metadata"]["labels"]["pod-security.kubernetes.io/enforce-version"] = json!("latest");
    }
    let mut ctr = ContainerDef::new("reports", "ghcr.io/acme/shop-reports:2.0.0");
    ctr.ports = vec![json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "512Mi"}, "requests": {"cpu": "200m", "memory": "256Mi"}});
    add_app(&mut c, NS, "reports", ctr, &[], AGE);
    let rs = c
        .of_kind("ReplicaSet", Some(NS))
        .find(|r| r["metadata"]["ownerReferences"][0]["name"] == "reports")
        .and_then(|r| r["metadata"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let pod = format!("{rs}-x8k2p");
    let message = format!(
        "pods \"{pod}\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"reports\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"reports\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"reports\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"reports\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    if let Some(r) = c.find_mut("ReplicaSet", Some(NS), &rs) {
        r["spec"]["replicas"] = json!(2);
        r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!("2");
        r["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = json!("3");
        r["status"] = json!({
            "conditions": [{"lastTransitionTime": ago(AGE - 1), "message": message, "reason": "FailedCreate", "status": "True", "type": "ReplicaFailure"}],
            "observedGeneration": 1,
            "replicas": 0,
        });
    }
    if let Some(d) = c.find_mut("Deployment", Some(NS), "reports") {
        d["spec"]["replicas"] = json!(2);
        d["status"] = json!({
            "conditions": [
                {"lastTransitionTime": ago(AGE), "lastUpdateTime": ago(AGE), "message": "Deployment does not have minimum availability.", "reason": "MinimumReplicasUnavailable", "status": "False", "type": "Available"},
                {"lastTransitionTime": ago(AGE - 1), "lastUpdateTime": ago(AGE - 1), "message": message, "reason": "FailedCreate", "status": "True", "type": "ReplicaFailure"},
                {"lastTransitionTime": ago(AGE), "lastUpdateTime": ago(AGE), "message": format!("ReplicaSet \"{rs}\" is progressing."), "reason": "ReplicaSetUpdated", "status": "True", "type": "Progressing"},
            ],
            "observedGeneration": 1,
            "unavailableReplicas": 2,
        });
    }
    c.event(EventDef::normal(
        ObjRef::new("Deployment", Some(NS), "reports"),
        "ScalingReplicaSet",
        format!("Scaled up replica set {rs} to 2"),
        "deployment-controller",
        AGE,
    ));
    c.event(
        EventDef::normal(
            ObjRef::new("ReplicaSet", Some(NS), &rs),
            "FailedCreate",
            format!("Error creating: {message}"),
            "replicaset-controller",
            3 * MIN + 20,
        )
        .warning()
        .repeated(9, AGE - 1),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "quota-or-admission-blocked",
        title: "Deployment without pods: Pod Security refuses them",
        summary: "Namespace shop now enforces Pod Security restricted. The new shop/reports Deployment has 0 of 2 pods: its ReplicaSet's creates fail with violates PodSecurity \"restricted:latest\" (allowPrivilegeEscalation, capabilities, runAsNonRoot, seccompProfile).",
        playbook: Some("quota-or-admission-blocked"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
