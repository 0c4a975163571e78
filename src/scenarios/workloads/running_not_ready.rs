//! `running-not-ready` (WL-05): a new `shop/reviews` Deployment and Service, applied 18
//! minutes ago from a manifest copied from another team: its readiness probe targets port
//! 8081 (their admin port), but reviews serves only 8080. Both pods are `0/1 Running`, the
//! kubelet reports `connect: connection refused` on 8081, and the Service has no ready
//! endpoints: the service-side symptom is the consequence.

use serde_json::json;

use super::common::{add_app, set_ready_replicas, set_unready};
use crate::builder::{
    ClusterBuilder, ContainerDef, EventDef, MIN, ServiceDef, SvcPort, http_probe, kv,
};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "shop";
const AGE: i64 = 18 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let mut ctr = ContainerDef::new("reviews", "ghcr.io/acme/shop-reviews:1.2.0");
    ctr.ports = vec![json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
    ctr.readiness = Some(http_probe(
        None,
        "/ready",
        json!(8081),
        "HTTP",
        [3, 5, 5, 1],
    ));
    ctr.not_ready = true;
    let nodes = ["worker-1", "worker-2"];
    let pods = add_app(&mut c, NS, "reviews", ctr, &nodes, AGE);
    for (pod, node) in pods.iter().zip(nodes) {
        let ip = c
            .find_mut("Pod", Some(NS), pod)
            .map(|p| {
                set_unready(p, "reviews", AGE - 3);
                p["status"]["podIP"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default();
        let target = ObjRef::new("Pod", Some(NS), pod);
        let f = "spec.containers{reviews}";
        c.event(EventDef::normal(
            target.clone(),
            "Scheduled",
            format!("Successfully assigned {NS}/{pod} to {node}"),
            "default-scheduler",
            AGE - 1,
        ));
        for (reason, msg) in [
            ("Pulling", "Pulling image \"ghcr.io/acme/shop-reviews:1.2.0\"".to_string()),
            ("Pulled", "Successfully pulled image \"ghcr.io/acme/shop-reviews:1.2.0\" in 2.114s (2.114s including waiting). Image size: 48213442 bytes.".to_string()),
            ("Created", "Created container reviews".to_string()),
            ("Started", "Started container reviews".to_string()),
        ] {
            c.event(
                EventDef::normal(target.clone(), reason, msg, "kubelet", AGE - 3)
                    .on_host(node)
                    .field(f),
            );
        }
        c.event(
            EventDef::normal(
                target,
                "Unhealthy",
                format!("Readiness probe failed: Get \"http://{ip}:8081/ready\": dial tcp {ip}:8081: connect: connection refused"),
                "kubelet",
                3,
            )
            .warning()
            .on_host(node)
            .repeated(212, AGE - 10)
            .field(f),
        );
    }
    set_ready_replicas(&mut c, NS, "reviews", 0, AGE - 20);
    let labels = kv(&[
        ("app.kubernetes.io/name", "reviews"),
        ("app.kubernetes.io/part-of", NS),
    ]);
    c.add_service(&ServiceDef {
        labels,
        ..ServiceDef::new(
            NS,
            "reviews",
            kv(&[("app.kubernetes.io/name", "reviews")]),
            vec![SvcPort::tcp("http", 8080, 8080)],
            AGE,
        )
    });
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "running-not-ready",
        title: "Pods running but never ready (probe on the wrong port)",
        summary: "shop/reviews was applied 18 minutes ago with a readiness probe on port 8081; the app serves 8080 only. Both pods are 0/1 Running, the kubelet reports connection refused on 8081, and Service reviews has no ready endpoints as a consequence.",
        playbook: Some("running-not-ready"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
