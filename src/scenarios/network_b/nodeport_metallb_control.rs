//! `nodeport-metallb-control`: the negative control of NET-10. The same bare-metal kubeadm
//! cluster, but MetalLB (layer 2) is installed: ingress-nginx is a LoadBalancer Service that
//! received 10.0.0.240 from MetalLB's pool, and the ingress routes the shop. NodePorts exist
//! (every LoadBalancer Service has them), yet nothing needs an external HAProxy.

use serde_json::{Value, json};

use crate::builder::{
    ClusterBuilder, ContainerDef, DAY, EventDef, PodDef, WorkloadDef, kv, object,
};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "metallb-system";
const AGE: i64 = 30 * DAY;
const VIP: &str = "10.0.0.240";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm()
        .ingress_service_type("LoadBalancer")
        .build();
    let mut ns = object("v1", "Namespace", None, NS, AGE);
    ns["metadata"]["labels"] = kv(&[
        ("kubernetes.io/metadata.name", NS),
        ("pod-security.kubernetes.io/enforce", "privileged"),
    ]);
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    ns["status"] = json!({"phase": "Active"});
    c.push(ns);
    for sa in ["default", "controller", "speaker"] {
        c.push(object("v1", "ServiceAccount", Some(NS), sa, AGE));
    }
    let mut ctl = ContainerDef::new("controller", "quay.io/metallb/controller:v0.14.8");
    ctl.args = vec!["--port=7472".into(), "--log-level=info".into()];
    ctl.ports = vec![json!({"containerPort": 7472, "name": "monitoring", "protocol": "TCP"})];
    c.add_deployment(&WorkloadDef {
        namespace: NS.into(),
        name: "controller".into(),
        selector: kv(&[("app", "metallb"), ("component", "controller")]),
        labels: kv(&[("app", "metallb"), ("component", "controller")]),
        template: PodDef {
            containers: vec![ctl],
            service_account: Some("controller".into()),
            node_selector: kv(&[("kubernetes.io/os", "linux")]),
            ..Default::default()
        },
        created_ago: AGE,
        revision: 1,
        nodes: vec!["worker-1".into()],
        pods_created_ago: AGE - 60,
        annotations: Value::Null,
    });
    let mut speaker = ContainerDef::new("speaker", "quay.io/metallb/speaker:v0.14.8");
    speaker.args = vec!["--port=7472".into(), "--log-level=info".into()];
    speaker.env = vec![
        json!({"name": "METALLB_NODE_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}),
        json!({"name": "METALLB_ML_BIND_PORT", "value": "7946"}),
    ];
    speaker.security_context = Some(
        json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]}, "readOnlyRootFilesystem": true}),
    );
    let nodes: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
    c.add_daemonset(&WorkloadDef {
        namespace: NS.into(),
        name: "speaker".into(),
        selector: kv(&[("app", "metallb"), ("component", "speaker")]),
        labels: kv(&[("app", "metallb"), ("component", "speaker")]),
        template: PodDef {
            containers: vec![speaker],
            service_account: Some("speaker".into()),
            host_network: true,
            node_selector: kv(&[("kubernetes.io/os", "linux")]),
            tolerations: vec![
                json!({"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}),
            ],
            ..Default::default()
        },
        created_ago: AGE,
        revision: 1,
        nodes,
        pods_created_ago: AGE - 60,
        annotations: Value::Null,
    });
    if let Some(svc) = c.find_mut("Service", Some("ingress-nginx"), "ingress-nginx-controller") {
        svc["metadata"]["annotations"] =
            kv(&[("metallb.universe.tf/ip-allocated-from-pool", "lab-pool")]);
        svc["status"] = json!({"loadBalancer": {"ingress": [{"ip": VIP, "ipMode": "VIP"}]}});
    }
    if let Some(ing) = c.find_mut("Ingress", Some("shop"), "frontend") {
        ing["status"] = json!({"loadBalancer": {"ingress": [{"ip": VIP}]}});
    }
    let svc = ObjRef::new("Service", Some("ingress-nginx"), "ingress-nginx-controller");
    c.event(EventDef::normal(
        svc.clone(),
        "IPAllocated",
        format!("Assigned IP [\"{VIP}\"]"),
        "metallb-controller",
        40 * 60,
    ));
    c.event(EventDef::normal(
        svc,
        "nodeAssigned",
        "announcing from node \"worker-2\" with protocol \"layer2\"",
        "metallb-speaker",
        40 * 60 - 2,
    ));
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "nodeport-metallb-control",
        title: "Control: bare metal with MetalLB handing out LoadBalancer addresses",
        summary: "The bare-metal cluster with MetalLB installed: ingress-nginx's LoadBalancer Service has 10.0.0.240 from MetalLB's pool. NodePorts exist, but no external HAProxy is needed.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
