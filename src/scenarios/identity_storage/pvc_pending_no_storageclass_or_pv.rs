//! `pvc-pending-no-storageclass-or-pv` (ST-01): the shop team deployed a `postgres`
//! StatefulSet whose claim template names no StorageClass, on a bare-metal kubeadm cluster
//! with no provisioner and no default class. The only PersistentVolume is an NFS archive
//! volume of class `nfs` (ReadWriteMany). `data-postgres-0` stays Pending (`no persistent
//! volumes available for this claim and no storage class is set`) and `postgres-0` is
//! unschedulable.

use serde_json::json;

use super::{pvc, server_container, unschedule};
use crate::builder::{ClusterBuilder, DAY, EventDef, MIN, PodDef, WorkloadDef, kv, object};
use crate::{ObjRef, Scenario, ServerBehavior};

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 47 * MIN;
    let labels = kv(&[("app.kubernetes.io/name", "postgres")]);
    let mut ctr = server_container("postgres", "docker.io/library/postgres:16.4", 5432, "HTTP");
    ctr.readiness = None;
    ctr.ports = vec![json!({"containerPort": 5432, "name": "postgres", "protocol": "TCP"})];
    ctr.volume_mounts = vec![json!({"mountPath": "/var/lib/postgresql/data", "name": "data"})];
    let workers: Vec<String> = c.worker_nodes().into_iter().map(|n| n.name).collect();
    c.add_statefulset(&WorkloadDef {
        namespace: "shop".into(),
        name: "postgres".into(),
        selector: labels.clone(),
        labels: labels.clone(),
        template: PodDef {
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: workers.iter().take(1).cloned().collect(),
        pods_created_ago: age,
        annotations: serde_json::Value::Null,
    });
    if let Some(sts) = c.find_mut("StatefulSet", Some("shop"), "postgres") {
        sts["spec"]["volumeClaimTemplates"] = json!([{
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"creationTimestamp": null, "name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"},
        }]);
        if let Some(st) = sts["status"].as_object_mut() {
            st.remove("readyReplicas");
            st.remove("availableReplicas");
        }
    }
    if let Some(p) = c.find_mut("Pod", Some("shop"), "postgres-0") {
        let vol =
            json!({"name": "data", "persistentVolumeClaim": {"claimName": "data-postgres-0"}});
        match p["spec"]["volumes"].as_array_mut() {
            Some(v) => v.insert(0, vol),
            None => p["spec"]["volumes"] = json!([vol]),
        }
    }
    unschedule(
        &mut c,
        "shop",
        "postgres-0",
        "0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/6 nodes are available: 6 Preemption is not helpful for scheduling.",
        9,
        age - 1,
    );
    let mut claim = pvc(
        "shop",
        "data-postgres-0",
        None,
        "10Gi",
        &["ReadWriteOnce"],
        age - 1,
        labels,
    );
    claim["metadata"]["labels"]["app.kubernetes.io/name"] = json!("postgres");
    c.push(claim);
    c.event(
        EventDef::normal(
            ObjRef::new("PersistentVolumeClaim", Some("shop"), "data-postgres-0"),
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
            "persistentvolume-controller",
            4,
        )
        .repeated(187, age - 1),
    );
    // The one volume there is: an NFS archive share of another team.
    let mut pv = object("v1", "PersistentVolume", None, "nfs-archive", 30 * DAY);
    pv["metadata"]["finalizers"] = json!(["kubernetes.io/pv-protection"]);
    pv["spec"] = json!({
        "accessModes": ["ReadWriteMany"],
        "capacity": {"storage": "50Gi"},
        "nfs": {"path": "/exports/archive", "server": "10.0.0.5"},
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "nfs",
        "volumeMode": "Filesystem",
    });
    pv["status"] =
        json!({"lastPhaseTransitionTime": crate::builder::ago(30 * DAY), "phase": "Available"});
    c.push(pv);
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "pvc-pending-no-storageclass-or-pv",
        title: "postgres-0 Pending: its claim has no StorageClass and no PV to bind",
        summary: "A StatefulSet claim without storageClassName on a cluster with no default StorageClass and only an unrelated NFS volume: data-postgres-0 stays Pending and postgres-0 cannot be scheduled.",
        playbook: Some("pvc-pending-no-storageclass-or-pv"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
