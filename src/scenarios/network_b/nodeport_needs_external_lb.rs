//! `nodeport-needs-external-lb` (NET-10): the bare-metal kubeadm cluster runs the guestbook
//! (the seed's example) exposed as a NodePort Service on 30197 with
//! `externalTrafficPolicy: Local`, and Prometheus on NodePort 31890: nothing implements load
//! balancers here (no MetalLB, no kube-vip, no cloud controller), so users are handed one
//! node's address. The guestbook's pods run on worker-1 and worker-2 only; whoever was given
//! worker-3's address has their connections dropped by kube-proxy. (No LoadBalancer Service
//! here: a pending one is CL-01's scenario.)

use serde_json::{Value, json};

use crate::builder::{
    ClusterBuilder, ContainerDef, DAY, PodDef, ServiceDef, SvcPort, WorkloadDef, http_probe, kv,
    object,
};
use crate::{Scenario, ServerBehavior};

const NS: &str = "guestbook";
const AGE: i64 = 12 * DAY;

fn app(
    c: &mut crate::builder::Cluster,
    name: &str,
    image: &str,
    port: i64,
    nodes: &[&str],
    probe: bool,
) {
    let mut ctr = ContainerDef::new(name, image);
    ctr.ports = vec![json!({"containerPort": port, "protocol": "TCP"})];
    ctr.resources = json!({"requests": {"cpu": "100m", "memory": "100Mi"}});
    if probe {
        ctr.readiness = Some(http_probe(None, "/", json!(port), "HTTP", [3, 5, 10, 1]));
        ctr.env = vec![json!({"name": "GET_HOSTS_FROM", "value": "dns"})];
    }
    let labels = kv(&[("app", "guestbook"), ("tier", name)]);
    c.add_deployment(&WorkloadDef {
        namespace: NS.into(),
        name: name.into(),
        selector: labels.clone(),
        labels: labels.clone(),
        template: PodDef {
            labels: labels.clone(),
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: AGE,
        revision: 1,
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        pods_created_ago: AGE - 120,
        annotations: Value::Null,
    });
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let mut ns = object("v1", "Namespace", None, NS, AGE);
    ns["metadata"]["labels"] = kv(&[("kubernetes.io/metadata.name", NS)]);
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    ns["status"] = json!({"phase": "Active"});
    c.push(ns);
    c.push(object("v1", "ServiceAccount", Some(NS), "default", AGE));
    app(
        &mut c,
        "redis-leader",
        "docker.io/redis:6.0.5",
        6379,
        &["worker-2"],
        false,
    );
    app(
        &mut c,
        "frontend",
        "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5",
        80,
        &["worker-1", "worker-2"],
        true,
    );
    c.add_service(&ServiceDef::new(
        NS,
        "redis-leader",
        kv(&[("app", "guestbook"), ("tier", "redis-leader")]),
        vec![SvcPort::tcp("", 6379, 6379)],
        AGE,
    ));
    c.add_service(&ServiceDef {
        type_: "NodePort".into(),
        ..ServiceDef::new(
            NS,
            "frontend",
            kv(&[("app", "guestbook"), ("tier", "frontend")]),
            vec![SvcPort {
                name: "",
                port: 80,
                target: 80,
                protocol: "TCP",
                node_port: Some(30197),
            }],
            AGE,
        )
    });
    if let Some(svc) = c.find_mut("Service", Some(NS), "frontend") {
        // Keep the visitors' source IPs in the guestbook's access log.
        svc["spec"]["externalTrafficPolicy"] = json!("Local");
    }
    // Prometheus too is reached by NodePort, on whichever node IP the team remembers.
    c.add_service(&ServiceDef {
        type_: "NodePort".into(),
        labels: kv(&[("app.kubernetes.io/name", "prometheus")]),
        ..ServiceDef::new(
            "monitoring",
            "prometheus-web",
            kv(&[("app.kubernetes.io/name", "prometheus")]),
            vec![SvcPort {
                name: "web",
                port: 9090,
                target: 9090,
                protocol: "TCP",
                node_port: Some(31890),
            }],
            3 * DAY,
        )
    });
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "nodeport-needs-external-lb",
        title: "NET-10: NodePort services on bare metal without a load balancer",
        summary: "An on-prem kubeadm cluster with no load-balancer implementation: the guestbook is exposed as NodePort 30197 with externalTrafficPolicy Local (served only on worker-1 and worker-2), Prometheus as NodePort 31890. The fix is an HAProxy in front of the Ready nodes.",
        playbook: Some("nodeport-needs-external-lb"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
