//! `pvc-pending-provisioner-missing` (ST-02): a kubeadm cluster on EC2 got the `gp3`
//! StorageClass copied from the team's EKS cluster (provisioner `ebs.csi.aws.com`, default,
//! WaitForFirstConsumer), but the EBS CSI driver was never installed. The scheduler picked
//! worker-1 for `redis-0`, the PV controller handed the claim to the external provisioner,
//! and nothing answers: `waiting for a volume to be created, either by external provisioner
//! "ebs.csi.aws.com" or manually created by system administrator`.

use serde_json::json;

use super::{pvc, server_container, unschedule};
use crate::builder::{ClusterBuilder, EventDef, MIN, PodDef, WorkloadDef, kv, object};
use crate::{ObjRef, Scenario, ServerBehavior};

pub(crate) fn storage_class(
    name: &str,
    provisioner: &str,
    default: bool,
    age: i64,
) -> serde_json::Value {
    let mut sc = object("storage.k8s.io/v1", "StorageClass", None, name, age);
    if default {
        sc["metadata"]["annotations"] =
            json!({"storageclass.kubernetes.io/is-default-class": "true"});
    }
    sc["provisioner"] = json!(provisioner);
    sc["reclaimPolicy"] = json!("Delete");
    sc["volumeBindingMode"] = json!("WaitForFirstConsumer");
    sc
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 38 * MIN;
    let mut sc = storage_class("gp3", "ebs.csi.aws.com", true, 3 * 3600);
    sc["allowVolumeExpansion"] = json!(true);
    sc["parameters"] = json!({"type": "gp3", "encrypted": "true"});
    c.push(sc);
    let labels = kv(&[("app.kubernetes.io/name", "redis")]);
    let mut ctr = server_container("redis", "docker.io/library/redis:7.4", 6379, "HTTP");
    ctr.readiness = None;
    ctr.ports = vec![json!({"containerPort": 6379, "name": "redis", "protocol": "TCP"})];
    ctr.volume_mounts = vec![json!({"mountPath": "/data", "name": "data"})];
    c.add_statefulset(&WorkloadDef {
        namespace: "shop".into(),
        name: "redis".into(),
        selector: labels.clone(),
        labels: labels.clone(),
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
    if let Some(sts) = c.find_mut("StatefulSet", Some("shop"), "redis") {
        sts["spec"]["volumeClaimTemplates"] = json!([{
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"creationTimestamp": null, "name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}, "storageClassName": "gp3", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }]);
        if let Some(st) = sts["status"].as_object_mut() {
            st.remove("readyReplicas");
            st.remove("availableReplicas");
        }
    }
    if let Some(p) = c.find_mut("Pod", Some("shop"), "redis-0") {
        p["spec"]["volumes"] =
            json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data-redis-0"}}]);
    }
    let msg =
        "running PreBind plugin \"VolumeBinding\": binding volumes: context deadline exceeded";
    unschedule(&mut c, "shop", "redis-0", msg, 3, age - 2);
    if let Some(cond) = c
        .find_mut("Pod", Some("shop"), "redis-0")
        .and_then(|p| p["status"]["conditions"].get_mut(0))
    {
        cond["reason"] = json!("SchedulerError");
    }
    let mut claim = pvc(
        "shop",
        "data-redis-0",
        Some("gp3"),
        "8Gi",
        &["ReadWriteOnce"],
        age - 1,
        labels,
    );
    claim["metadata"]["annotations"] = json!({
        "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
        "volume.kubernetes.io/selected-node": "worker-1",
        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
    });
    c.push(claim);
    let pvc_ref = ObjRef::new("PersistentVolumeClaim", Some("shop"), "data-redis-0");
    c.event(EventDef::normal(
        pvc_ref.clone(),
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
        "persistentvolume-controller",
        age - 2,
    ));
    c.event(
        EventDef::normal(
            pvc_ref,
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
            "persistentvolume-controller",
            6,
        )
        .repeated(142, age - 3),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "pvc-pending-provisioner-missing",
        title: "redis-0 Pending: StorageClass gp3's EBS CSI driver is not installed",
        summary: "The default StorageClass gp3 names provisioner ebs.csi.aws.com, but there is no CSIDriver, no CSINode entry and no controller: data-redis-0 waits for the external provisioner and redis-0 cannot be scheduled.",
        playbook: Some("pvc-pending-provisioner-missing"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
