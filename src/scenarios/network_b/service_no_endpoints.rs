//! `service-no-endpoints` (NET-08): the shop's new payments service went out 35 minutes ago
//! with a Service whose selector says `app.kubernetes.io/name: payment` while the pods are
//! labelled `payments`. The pods run and are ready, the Service has `Endpoints: <none>`, and
//! checkout's calls are refused by kube-proxy's reject rule.

use serde_json::{Value, json};

use super::common::{append_log, json_line, pod_on};
use crate::builder::{
    ClusterBuilder, ContainerDef, MIN, PodDef, ServiceDef, SvcPort, WorkloadDef, http_probe, kv,
};
use crate::{Scenario, ServerBehavior};

const NS: &str = "shop";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let labels = kv(&[
        ("app.kubernetes.io/name", "payments"),
        ("app.kubernetes.io/part-of", "shop"),
    ]);
    let mut ctr = ContainerDef::new("payments", "ghcr.io/acme/shop-payments:1.0.0");
    ctr.ports = vec![json!({"containerPort": 8080, "name": "http", "protocol": "TCP"})];
    ctr.resources =
        json!({"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
    ctr.readiness = Some(http_probe(
        None,
        "/ready",
        json!("http"),
        "HTTP",
        [3, 5, 5, 1],
    ));
    c.add_deployment(&WorkloadDef {
        namespace: NS.into(),
        name: "payments".into(),
        selector: kv(&[("app.kubernetes.io/name", "payments")]),
        labels: labels.clone(),
        template: PodDef {
            labels: labels.clone(),
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: 35 * MIN,
        revision: 1,
        nodes: vec!["worker-1".into(), "worker-2".into()],
        pods_created_ago: 35 * MIN,
        annotations: Value::Null,
    });
    c.add_service(&ServiceDef {
        labels,
        ..ServiceDef::new(
            NS,
            "payments",
            kv(&[("app.kubernetes.io/name", "payment")]),
            vec![SvcPort::tcp("http", 8080, 8080)],
            35 * MIN,
        )
    });
    // An empty slice: `endpoints: []` (k8s-openapi's form of the API server's null).
    for o in c.objects.iter_mut() {
        if o["kind"] == "EndpointSlice"
            && o["metadata"]["labels"]["kubernetes.io/service-name"] == "payments"
        {
            o["endpoints"] = json!([]);
        }
    }
    let ip = c.cluster_ip_for(NS, "payments");
    if let Some(pod) =
        pod_on(&c, NS, "checkout-", "worker-1").or_else(|| pod_on(&c, NS, "checkout-", "worker-2"))
    {
        let mut lines = String::new();
        for k in 0..4 {
            lines.push_str(&json_line(
                600 - 150 * k,
                "error",
                "payment authorization failed",
                &format!(",\"order\":\"A-{}\",\"error\":\"Post \\\"http://payments.shop.svc.cluster.local:8080/v1/authorize\\\": dial tcp {ip}:8080: connect: connection refused\"", 73_100 + 17 * k),
            ));
        }
        append_log(&mut c, NS, &pod, "checkout", &lines);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "service-no-endpoints",
        title: "NET-08: a Service selector that matches no pod",
        summary: "shop/payments' Service selects app.kubernetes.io/name=payment but its pods are labelled payments: Endpoints <none>, checkout gets `connection refused` from the Service IP.",
        playbook: Some("service-no-endpoints"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
