//! `admission-webhook-unavailable` (WL-10): Kyverno was removed by deleting its namespace,
//! but its ValidatingWebhookConfiguration stayed behind (failurePolicy Fail, every pod
//! CREATE/UPDATE). The cart HorizontalPodAutoscaler asked for a third replica 11 minutes
//! ago: the ReplicaSet's creates fail with `failed calling webhook
//! "validate.kyverno.svc-fail": … service "kyverno-svc" not found`.

use serde_json::json;

use crate::builder::{ClusterBuilder, EventDef, MIN, ago, object};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    // The CA bundle Kyverno's cert controller had written (same shape as the others here).
    let ca_bundle = c
        .find(
            "ValidatingWebhookConfiguration",
            None,
            "ingress-nginx-admission",
        )
        .map(|w| w["webhooks"][0]["clientConfig"]["caBundle"].clone())
        .unwrap_or_default();
    let mut cfg = object(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        None,
        "kyverno-resource-validating-webhook-cfg",
        9 * 86_400,
    );
    cfg["metadata"]["labels"] = json!({"webhook.kyverno.io/managed-by": "kyverno"});
    cfg["webhooks"] = json!([{
        "admissionReviewVersions": ["v1"],
        "clientConfig": {
            "caBundle": ca_bundle,
            "service": {"name": "kyverno-svc", "namespace": "kyverno", "path": "/validate/fail", "port": 443}
        },
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "name": "validate.kyverno.svc-fail",
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "kyverno"]}]},
        "objectSelector": {},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"], "scope": "Namespaced"}],
        "sideEffects": "NoneOnDryRun",
        "timeoutSeconds": 10
    }]);
    c.push(cfg);
    let rs = c
        .of_kind("ReplicaSet", Some(NS))
        .find(|r| {
            r["metadata"]["ownerReferences"][0]["name"] == "cart"
                && r["spec"]["replicas"].as_i64().unwrap_or(0) > 0
        })
        .and_then(|r| r["metadata"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let message = "Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s\": service \"kyverno-svc\" not found";
    if let Some(r) = c.find_mut("ReplicaSet", Some(NS), &rs) {
        r["spec"]["replicas"] = json!(3);
        r["metadata"]["generation"] = json!(2);
        r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!("3");
        r["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = json!("4");
        r["status"]["observedGeneration"] = json!(2);
        r["status"]["conditions"] = json!([{"lastTransitionTime": ago(11 * MIN), "message": message, "reason": "FailedCreate", "status": "True", "type": "ReplicaFailure"}]);
    }
    if let Some(d) = c.find_mut("Deployment", Some(NS), "cart") {
        d["spec"]["replicas"] = json!(3);
        d["metadata"]["generation"] = json!(2);
        d["status"]["observedGeneration"] = json!(2);
        d["status"]["unavailableReplicas"] = json!(1);
        if let Some(conds) = d["status"]["conditions"].as_array_mut() {
            conds.push(json!({"lastTransitionTime": ago(11 * MIN), "lastUpdateTime": ago(11 * MIN), "message": message, "reason": "FailedCreate", "status": "True", "type": "ReplicaFailure"}));
        }
    }
    c.event(EventDef::normal(
        ObjRef::new("Deployment", Some(NS), "cart"),
        "ScalingReplicaSet",
        format!("Scaled up replica set {rs} to 3 from 2"),
        "deployment-controller",
        11 * MIN,
    ));
    c.event(
        EventDef::normal(
            ObjRef::new("ReplicaSet", Some(NS), &rs),
            "FailedCreate",
            format!("Error creating: {message}"),
            "replicaset-controller",
            4 * MIN + 7,
        )
        .warning()
        .repeated(10, 11 * MIN),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "admission-webhook-unavailable",
        title: "Leftover policy webhook blocks pod creation",
        summary: "Kyverno's namespace was deleted but its ValidatingWebhookConfiguration (failurePolicy Fail, pods CREATE/UPDATE) remained. Scaling cart to 3 fails: failed calling webhook \"validate.kyverno.svc-fail\": service \"kyverno-svc\" not found.",
        playbook: Some("admission-webhook-unavailable"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
