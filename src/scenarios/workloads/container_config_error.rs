//! `container-config-error` (WL-06): a new `shop/payments` Deployment reads its Stripe key
//! from Secret `payments-stripe`, which was created in `default` instead of `shop`. Both
//! pods wait in CreateContainerConfigError: `secret "payments-stripe" not found`.

use serde_json::json;

use super::common::{add_app, set_ready_replicas, set_waiting};
use crate::builder::{ClusterBuilder, ContainerDef, EventDef, MIN};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const AGE: i64 = 6 * MIN;
const MESSAGE: &str = "secret \"payments-stripe\" not found";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let mut ctr = ContainerDef::new("payments", "ghcr.io/acme/shop-payments:0.9.2");
    ctr.ports = vec![json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
    ctr.env = vec![
        json!({"name": "STRIPE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "payments-stripe", "key": "api-key"}}}),
        json!({"name": "LOG_FORMAT", "value": "json"}),
    ];
    let nodes = ["worker-2", "worker-1"];
    let pods = add_app(&mut c, NS, "payments", ctr, &nodes, AGE);
    for (pod, node) in pods.iter().zip(nodes) {
        set_waiting(
            &mut c,
            NS,
            pod,
            "payments",
            "CreateContainerConfigError",
            MESSAGE,
            AGE - 4,
        );
        if let Some(p) = c.find_mut("Pod", Some(NS), pod) {
            p["status"]["phase"] = json!("Pending");
        }
        let target = ObjRef::new("Pod", Some(NS), pod);
        let f = "spec.containers{payments}";
        c.event(EventDef::normal(
            target.clone(),
            "Scheduled",
            format!("Successfully assigned {NS}/{pod} to {node}"),
            "default-scheduler",
            AGE - 1,
        ));
        c.event(
            EventDef::normal(
                target.clone(),
                "Pulled",
                "Container image \"ghcr.io/acme/shop-payments:0.9.2\" already present on machine",
                "kubelet",
                14,
            )
            .on_host(node)
            .repeated(29, AGE - 3)
            .field(f),
        );
        c.event(
            EventDef::normal(target, "Failed", format!("Error: {MESSAGE}"), "kubelet", 14)
                .warning()
                .on_host(node)
                .repeated(29, AGE - 3)
                .field(f),
        );
    }
    set_ready_replicas(&mut c, NS, "payments", 0, AGE - 20);
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "container-config-error",
        title: "Pods reference a Secret in the wrong namespace",
        summary: "shop/payments reads STRIPE_API_KEY from Secret payments-stripe, which was created in namespace default. Both pods wait in CreateContainerConfigError: secret \"payments-stripe\" not found.",
        playbook: Some("container-config-error"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
