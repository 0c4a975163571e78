//! `pvc-waiting-for-first-consumer`: a negative control for ST-01/ST-02. The cluster runs
//! local-path-provisioner (default StorageClass `local-path`, WaitForFirstConsumer). A claim
//! `scratch` in `shop` was created half an hour ago for a Job that has not been started yet:
//! it is Pending with `waiting for first consumer to be created before binding`, which is
//! exactly how WaitForFirstConsumer works. Nothing to fix.

use serde_json::json;

use super::pvc_pending_provisioner_missing::storage_class;
use super::{add_namespace, pvc};
use crate::builder::{ClusterBuilder, ContainerDef, DAY, EventDef, MIN, PodDef, WorkloadDef, kv};
use crate::{ObjRef, Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 12 * DAY;
    let ns = "local-path-storage";
    add_namespace(&mut c, ns, age);
    c.push(storage_class(
        "local-path",
        "rancher.io/local-path",
        true,
        age,
    ));
    let labels = kv(&[("app", "local-path-provisioner")]);
    let mut ctr = ContainerDef::new(
        "local-path-provisioner",
        "rancher/local-path-provisioner:v0.0.30",
    );
    ctr.command = vec![
        "local-path-provisioner".into(),
        "--debug".into(),
        "start".into(),
        "--config".into(),
        "/etc/config/config.json".into(),
    ];
    ctr.env = vec![
        json!({"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}),
    ];
    let pods = c.add_deployment(&WorkloadDef {
        namespace: ns.into(),
        name: "local-path-provisioner".into(),
        selector: labels.clone(),
        labels,
        template: PodDef {
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: vec!["worker-1".into()],
        pods_created_ago: age,
        annotations: serde_json::Value::Null,
    });
    for p in pods {
        if let Some(n) = p["metadata"]["name"].as_str() {
            c.add_log(ns, n, "local-path-provisioner", "time=\"2026-01-03T10:00:04Z\" level=info msg=\"Start provisioner local-path-provisioner\"\n".into());
        }
    }
    c.push(pvc(
        "shop",
        "scratch",
        Some("local-path"),
        "5Gi",
        &["ReadWriteOnce"],
        31 * MIN,
        serde_json::Value::Null,
    ));
    c.event(
        EventDef::normal(
            ObjRef::new("PersistentVolumeClaim", Some("shop"), "scratch"),
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
            "persistentvolume-controller",
            14,
        )
        .repeated(124, 31 * MIN),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "pvc-waiting-for-first-consumer",
        title: "Control: a claim waits for its first consumer (normal)",
        summary: "local-path-provisioner runs; claim shop/scratch is Pending with WaitForFirstConsumer because no pod uses it yet. Storage playbooks must stay quiet.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
