//! `volume-attach-mount-failure` (ST-03): `orders-db` is a Deployment (strategy
//! RollingUpdate) with a ReadWriteOnce Longhorn volume. Its image was updated 18 minutes
//! ago: the new pod was scheduled on worker-2, but the volume is still attached to worker-1
//! for the old pod, which RollingUpdate keeps until the new one is ready. The new pod sits in
//! ContainerCreating with `Multi-Attach error for volume "pvc-…" Volume is already used by
//! pod(s) orders-db-…` and `Unable to attach or mount volumes`. The rollout never finishes.

use serde_json::json;

use super::{container_creating, server_container};
use crate::builder::{
    ClusterBuilder, ContainerDef, DAY, EventDef, MIN, PodDef, WorkloadDef, ago, hex, kv, object,
    uid,
};
use crate::{ObjRef, Scenario, ServerBehavior};

const DRIVER: &str = "driver.longhorn.io";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 15 * DAY;
    let labels = kv(&[("app.kubernetes.io/name", "orders-db")]);
    let mut ctr: ContainerDef =
        server_container("db", "docker.io/library/postgres:16.4", 5432, "HTTP");
    ctr.readiness = None;
    ctr.ports = vec![json!({"containerPort": 5432, "name": "postgres", "protocol": "TCP"})];
    ctr.volume_mounts = vec![json!({"mountPath": "/var/lib/postgresql/data", "name": "data"})];
    let template = PodDef {
        containers: vec![ctr],
        volumes: vec![
            json!({"name": "data", "persistentVolumeClaim": {"claimName": "orders-db-data"}}),
        ],
        ..Default::default()
    };
    let new_pods = c.add_deployment(&WorkloadDef {
        namespace: "shop".into(),
        name: "orders-db".into(),
        selector: labels.clone(),
        labels: labels.clone(),
        template: template.clone(),
        created_ago: age,
        revision: 2,
        nodes: vec!["worker-2".into()],
        pods_created_ago: 18 * MIN,
        annotations: serde_json::Value::Null,
    });
    let new_pod = new_pods
        .first()
        .and_then(|p| p["metadata"]["name"].as_str())
        .unwrap_or_default()
        .to_string();
    container_creating(&mut c, "shop", &new_pod);
    // The old ReplicaSet still runs its pod on worker-1 (maxUnavailable 0 for one replica).
    let old_rs = c
        .of_kind("ReplicaSet", Some("shop"))
        .filter(|r| {
            r["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("orders-db-"))
        })
        .find(|r| r["spec"]["replicas"] == 0)
        .cloned();
    let mut old_pod_name = String::new();
    if let Some(rs) = old_rs {
        let rs_name = rs["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let hash = rs["metadata"]["labels"]["pod-template-hash"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        old_pod_name = format!(
            "{rs_name}-{}",
            crate::builder::suffix(&format!("{rs_name}/old"), 5)
        );
        let mut def = template.clone();
        def.namespace = "shop".into();
        def.name = old_pod_name.clone();
        def.node = "worker-1".into();
        def.labels = kv(&[
            ("app.kubernetes.io/name", "orders-db"),
            ("pod-template-hash", &hash),
        ]);
        def.owner = Some(rs.clone());
        def.created_ago = 9 * DAY;
        if let Some(img) = rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str() {
            def.containers[0].image = img.to_string();
        }
        c.add_pod(&def);
        if let Some(o) = c.find_mut("ReplicaSet", Some("shop"), &rs_name) {
            o["spec"]["replicas"] = json!(1);
            o["status"] = json!({"availableReplicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": o["metadata"]["generation"], "readyReplicas": 1, "replicas": 1});
        }
        c.add_log(
            "shop",
            &old_pod_name,
            "db",
            format!(
                "{} UTC [1] LOG:  database system is ready to accept connections\n",
                ago(9 * DAY - 4).replace('T', " ").trim_end_matches('Z')
            ),
        );
    }
    if let Some(d) = c.find_mut("Deployment", Some("shop"), "orders-db") {
        d["status"] = json!({
            "availableReplicas": 1, "observedGeneration": 2, "readyReplicas": 1, "replicas": 2,
            "unavailableReplicas": 1, "updatedReplicas": 1,
            "conditions": [
                {"lastTransitionTime": ago(age - 30), "lastUpdateTime": ago(age - 30), "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"},
                {"lastTransitionTime": ago(18 * MIN), "lastUpdateTime": ago(18 * MIN), "message": format!("ReplicaSet \"{}\" is progressing.", new_pods.first().and_then(|p| p["metadata"]["ownerReferences"][0]["name"].as_str()).unwrap_or_default()), "reason": "ReplicaSetUpdated", "status": "True", "type": "Progressing"},
            ],
        });
    }
    // Storage: Longhorn's class, driver, node registrations, the volume and its attachment.
    let mut sc = object(
        "storage.k8s.io/v1",
        "StorageClass",
        None,
        "longhorn",
        30 * DAY,
    );
    sc["provisioner"] = json!(DRIVER);
    sc["reclaimPolicy"] = json!("Delete");
    sc["volumeBindingMode"] = json!("Immediate");
    sc["allowVolumeExpansion"] = json!(true);
    sc["parameters"] = json!({"numberOfReplicas": "3", "staleReplicaTimeout": "30"});
    c.push(sc);
    let mut drv = object("storage.k8s.io/v1", "CSIDriver", None, DRIVER, 30 * DAY);
    drv["spec"] = json!({"attachRequired": true, "fsGroupPolicy": "ReadWriteOnceWithFSType", "podInfoOnMount": true, "requiresRepublish": false, "seLinuxMount": false, "storageCapacity": false, "volumeLifecycleModes": ["Persistent"]});
    c.push(drv);
    let nodes: Vec<(String, i64)> = c
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.created_ago))
        .collect();
    for (n, created) in nodes {
        let mut cn = object(
            "storage.k8s.io/v1",
            "CSINode",
            None,
            &n,
            created.min(30 * DAY),
        );
        cn["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": "Node", "name": n, "uid": uid(&["Node", "", &n])}]);
        cn["spec"] = json!({"drivers": [{"name": DRIVER, "nodeID": n, "topologyKeys": null}]});
        c.push(cn);
    }
    let pv_name = format!(
        "pvc-{}",
        uid(&["PersistentVolumeClaim", "shop", "orders-db-data"])
    );
    let mut claim = object(
        "v1",
        "PersistentVolumeClaim",
        Some("shop"),
        "orders-db-data",
        age,
    );
    claim["metadata"]["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes", "volume.beta.kubernetes.io/storage-provisioner": DRIVER, "volume.kubernetes.io/storage-provisioner": DRIVER});
    claim["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
    claim["spec"] = json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}, "storageClassName": "longhorn", "volumeMode": "Filesystem", "volumeName": pv_name});
    claim["status"] = json!({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}, "phase": "Bound"});
    c.push(claim);
    let mut pv = object("v1", "PersistentVolume", None, &pv_name, age);
    pv["metadata"]["annotations"] = json!({"pv.kubernetes.io/provisioned-by": DRIVER, "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""});
    pv["metadata"]["finalizers"] = json!([
        "kubernetes.io/pv-protection",
        "external-attacher/driver-longhorn-io"
    ]);
    pv["spec"] = json!({
        "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"},
        "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "orders-db-data", "namespace": "shop", "uid": uid(&["PersistentVolumeClaim", "shop", "orders-db-data"])},
        "csi": {"driver": DRIVER, "fsType": "ext4", "volumeAttributes": {"numberOfReplicas": "3", "staleReplicaTimeout": "30"}, "volumeHandle": pv_name},
        "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "longhorn", "volumeMode": "Filesystem",
    });
    pv["status"] = json!({"lastPhaseTransitionTime": ago(age - 5), "phase": "Bound"});
    c.push(pv);
    let va_name = format!("csi-{}", hex(&format!("{pv_name}/worker-1"), 64));
    let mut va = object(
        "storage.k8s.io/v1",
        "VolumeAttachment",
        None,
        &va_name,
        9 * DAY,
    );
    va["metadata"]["annotations"] = json!({"csi.alpha.kubernetes.io/node-id": "worker-1"});
    va["metadata"]["finalizers"] = json!(["external-attacher/driver-longhorn-io"]);
    va["spec"] = json!({"attacher": DRIVER, "nodeName": "worker-1", "source": {"persistentVolumeName": pv_name}});
    va["status"] = json!({"attached": true});
    c.push(va);
    let pod_ref = ObjRef::new("Pod", Some("shop"), &new_pod);
    c.event(
        EventDef::normal(
            pod_ref.clone(),
            "FailedAttachVolume",
            format!("Multi-Attach error for volume \"{pv_name}\" Volume is already used by pod(s) {old_pod_name}"),
            "attachdetach-controller",
            18 * MIN - 2,
        )
        .warning(),
    );
    c.event(
        EventDef::normal(
            pod_ref,
            "FailedMount",
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition",
            "kubelet",
            75,
        )
        .warning()
        .on_host("worker-2")
        .repeated(8, 16 * MIN),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "volume-attach-mount-failure",
        title: "orders-db rollout stuck: Multi-Attach of a ReadWriteOnce volume",
        summary: "A Deployment with a ReadWriteOnce Longhorn volume rolls out with RollingUpdate: the new pod on worker-2 waits in ContainerCreating (Multi-Attach error) while the old pod on worker-1 keeps the volume attached.",
        playbook: Some("volume-attach-mount-failure"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
