//! Training scenarios of the `identity_storage` playbook group: one per playbook, with the
//! playbook's id, plus negative controls. Built on `super::builder`. Add each scenario to
//! `SCENARIOS`. The helpers here build the objects several of them need (CSRs, API error
//! Status bodies, flags on static pods).

mod component_rbac_forbidden;
mod component_rbac_restored;
mod csr_pending_node_cannot_join;
mod invalid_pem_material;
mod kubelet_serving_cert_untrusted;
mod loadbalancer_pending_no_cloud_provider;
mod node_uninitialized_cloud_taint;
mod pvc_pending_no_storageclass_or_pv;
mod pvc_pending_provisioner_missing;
mod pvc_waiting_for_first_consumer;
mod rbac_forbidden;
mod volume_attach_mount_failure;

use base64::Engine;
use serde_json::{Value, json};

use super::Constructor;
use super::ObjRef;
use super::builder::{Cluster, ContainerDef, EventDef, ago, hex, http_probe, object};

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    (
        "kubelet-serving-cert-untrusted",
        kubelet_serving_cert_untrusted::scenario,
    ),
    ("invalid-pem-material", invalid_pem_material::scenario),
    ("rbac-forbidden", rbac_forbidden::scenario),
    (
        "component-rbac-forbidden",
        component_rbac_forbidden::scenario,
    ),
    (
        "csr-pending-node-cannot-join",
        csr_pending_node_cannot_join::scenario,
    ),
    (
        "pvc-pending-no-storageclass-or-pv",
        pvc_pending_no_storageclass_or_pv::scenario,
    ),
    (
        "pvc-pending-provisioner-missing",
        pvc_pending_provisioner_missing::scenario,
    ),
    (
        "pvc-waiting-for-first-consumer",
        pvc_waiting_for_first_consumer::scenario,
    ),
    (
        "loadbalancer-pending-no-cloud-provider",
        loadbalancer_pending_no_cloud_provider::scenario,
    ),
    (
        "node-uninitialized-cloud-taint",
        node_uninitialized_cloud_taint::scenario,
    ),
    (
        "volume-attach-mount-failure",
        volume_attach_mount_failure::scenario,
    ),
    ("component-rbac-restored", component_rbac_restored::scenario),
];

/// Base64 of a PEM block of `label` with deterministic filler (not parseable DER: it only
/// fills fields that carry one).
pub(crate) fn pem_b64(label: &str, seed: &str) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(hex(seed, 120).as_bytes());
    let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
    base64::engine::general_purpose::STANDARD.encode(pem)
}

/// A CertificateSigningRequest as `kubectl get csr -o yaml` prints it. `approved`: the
/// approval condition's (reason, message, seconds ago); an approved CSR is also issued.
pub(crate) struct CsrDef<'a> {
    pub name: &'a str,
    pub signer: &'a str,
    pub username: &'a str,
    pub groups: &'a [&'a str],
    pub usages: &'a [&'a str],
    pub created_ago: i64,
    pub approved: Option<(&'a str, &'a str, i64)>,
}

pub(crate) fn csr(d: &CsrDef) -> Value {
    let mut o = object(
        "certificates.k8s.io/v1",
        "CertificateSigningRequest",
        None,
        d.name,
        d.created_ago,
    );
    o["spec"] = json!({
        "groups": d.groups,
        "request": pem_b64("CERTIFICATE REQUEST", d.name),
        "signerName": d.signer,
        "usages": d.usages,
        "username": d.username,
    });
    o["status"] = match d.approved {
        Some((reason, message, at)) => json!({
            "certificate": pem_b64("CERTIFICATE", &format!("{}/issued", d.name)),
            "conditions": [{
                "lastTransitionTime": ago(at),
                "lastUpdateTime": ago(at),
                "message": message,
                "reason": reason,
                "status": "True",
                "type": "Approved",
            }],
        }),
        None => json!({}),
    };
    o
}

/// The Status body the API server answers a failed request with.
pub(crate) fn status_body(code: u16, reason: &str, message: &str) -> String {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "code": code,
    });
    if !reason.is_empty() {
        v["reason"] = json!(reason);
    }
    v.to_string()
}

/// Adds a flag to the first container's command of every pod whose name starts with
/// `prefix` in kube-system (static control-plane pods), keeping the flags sorted as kubeadm does.
pub(crate) fn add_static_flag(c: &mut Cluster, prefix: &str, flag: &str) {
    for pod in c.pods_named("kube-system", prefix) {
        if let Some(cmd) = c
            .find_mut("Pod", Some("kube-system"), &pod)
            .and_then(|p| p["spec"]["containers"][0]["command"].as_array_mut())
        {
            let at = cmd
                .iter()
                .skip(1)
                .position(|f| f.as_str().is_some_and(|f| f > flag))
                .map_or(cmd.len(), |i| i + 1);
            cmd.insert(at, json!(flag));
        }
    }
}

/// Names of the pods on `node`, as (namespace, name, first container, all containers).
pub(crate) fn pods_on(c: &Cluster, node: &str) -> Vec<(String, String, Vec<String>)> {
    c.of_kind("Pod", None)
        .filter(|p| p["spec"]["nodeName"] == node)
        .map(|p| {
            (
                p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["spec"]["containers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c["name"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// A namespace as the API server and kube-controller-manager leave it: the Namespace, its
/// `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap.
pub(crate) fn add_namespace(c: &mut Cluster, ns: &str, age: i64) {
    let mut o = object("v1", "Namespace", None, ns, age);
    o["metadata"]["labels"] = json!({"kubernetes.io/metadata.name": ns});
    o["spec"] = json!({"finalizers": ["kubernetes"]});
    o["status"] = json!({"phase": "Active"});
    c.push(o);
    c.push(object("v1", "ServiceAccount", Some(ns), "default", age));
    let mut ca = object("v1", "ConfigMap", Some(ns), "kube-root-ca.crt", age);
    let pem = base64::engine::general_purpose::STANDARD
        .decode(pem_b64("CERTIFICATE", "ktriage-scenario-ca"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    ca["data"] = json!({"ca.crt": pem});
    c.push(ca);
}

/// A web server container with a port, requests and an HTTP(S) readiness probe.
pub(crate) fn server_container(name: &str, image: &str, port: i64, scheme: &str) -> ContainerDef {
    let mut ctr = ContainerDef::new(name, image);
    ctr.ports = vec![json!({"containerPort": port, "name": "https", "protocol": "TCP"})];
    ctr.resources = json!({"requests": {"cpu": "50m", "memory": "64Mi"}});
    ctr.readiness = Some(http_probe(
        None,
        "/readyz",
        json!(port),
        scheme,
        [3, 5, 10, 1],
    ));
    ctr
}

/// Leaves a built pod unscheduled: no node, phase Pending, `PodScheduled=False
/// (Unschedulable)` with the scheduler's message, no container statuses; adds the scheduler's
/// FailedScheduling event (`count` times since `first_ago`).
pub(crate) fn unschedule(
    c: &mut Cluster,
    ns: &str,
    pod: &str,
    message: &str,
    count: i64,
    first_ago: i64,
) {
    let Some(p) = c.find_mut("Pod", Some(ns), pod) else {
        return;
    };
    let created = p["metadata"]["creationTimestamp"].clone();
    if let Some(spec) = p["spec"].as_object_mut() {
        spec.remove("nodeName");
    }
    p["status"] = json!({
        "conditions": [{"lastProbeTime": null, "lastTransitionTime": created, "message": message, "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
        "phase": "Pending",
        "qosClass": p["status"]["qosClass"].clone(),
    });
    c.pod_logs.retain(|l| !(l.namespace == ns && l.pod == pod));
    c.event(
        EventDef::normal(
            ObjRef::new("Pod", Some(ns), pod),
            "FailedScheduling",
            message,
            "default-scheduler",
            (first_ago / count.max(1)).max(5),
        )
        .warning()
        .repeated(count, first_ago),
    );
}

/// Leaves a built pod on its node in ContainerCreating (volumes not ready): phase Pending,
/// containers waiting, not ready, no pod IP.
pub(crate) fn container_creating(c: &mut Cluster, ns: &str, pod: &str) {
    let Some(p) = c.find_mut("Pod", Some(ns), pod) else {
        return;
    };
    let created = p["metadata"]["creationTimestamp"].clone();
    let names: Vec<String> = p["spec"]["containers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let statuses: Vec<Value> = names
        .iter()
        .zip(
            p["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        )
        .map(|(n, st)| json!({"image": st["image"], "imageID": "", "lastState": {}, "name": n, "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": "ContainerCreating"}}}))
        .collect();
    let host_ip = p["status"]["hostIP"].clone();
    let msg = format!("containers with unready status: [{}]", names.join(" "));
    p["status"] = json!({
        "conditions": [
            {"lastProbeTime": null, "lastTransitionTime": created, "status": "False", "type": "PodReadyToStartContainers"},
            {"lastProbeTime": null, "lastTransitionTime": created, "status": "True", "type": "Initialized"},
            {"lastProbeTime": null, "lastTransitionTime": created, "message": msg, "reason": "ContainersNotReady", "status": "False", "type": "Ready"},
            {"lastProbeTime": null, "lastTransitionTime": created, "message": msg, "reason": "ContainersNotReady", "status": "False", "type": "ContainersReady"},
            {"lastProbeTime": null, "lastTransitionTime": created, "status": "True", "type": "PodScheduled"},
        ],
        "containerStatuses": statuses,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "phase": "Pending",
        "qosClass": p["status"]["qosClass"].clone(),
        "startTime": created,
    });
    c.pod_logs.retain(|l| !(l.namespace == ns && l.pod == pod));
}

/// A Pending PersistentVolumeClaim as the API server prints it.
pub(crate) fn pvc(
    ns: &str,
    name: &str,
    class: Option<&str>,
    size: &str,
    modes: &[&str],
    created_ago: i64,
    labels: Value,
) -> Value {
    let mut o = object("v1", "PersistentVolumeClaim", Some(ns), name, created_ago);
    if labels.is_object() {
        o["metadata"]["labels"] = labels;
    }
    o["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
    o["spec"] = json!({
        "accessModes": modes,
        "resources": {"requests": {"storage": size}},
        "volumeMode": "Filesystem",
    });
    if let Some(c) = class {
        o["spec"]["storageClassName"] = json!(c);
    }
    o["status"] = json!({"phase": "Pending"});
    o
}

/// Inserts klog lines into a pod's log in time order (klog lines sort by their
/// `Lmmdd hh:mm:ss.uuuuuu` prefix within a year).
pub(crate) fn insert_log_lines(c: &mut Cluster, ns: &str, pod: &str, lines: &[String]) {
    let Some(log) = c
        .pod_logs
        .iter_mut()
        .find(|l| l.namespace == ns && l.pod == pod && !l.previous)
    else {
        return;
    };
    let key = |l: &str| l.get(1..21).unwrap_or("").to_string();
    let mut all: Vec<String> = log.text.lines().map(str::to_string).collect();
    for line in lines {
        let line = line.trim_end().to_string();
        let at = all
            .iter()
            .position(|l| key(l) > key(&line))
            .unwrap_or(all.len());
        all.insert(at, line);
    }
    log.text = all.join("\n") + "\n";
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::admissionregistration::v1 as adm;
    use k8s_openapi::api::certificates::v1 as cert;
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::api::storage::v1 as storage;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    /// Decodes as the Kubernetes type and back, without losing a field.
    fn round_trip<T: DeserializeOwned + Serialize>(o: &Value) -> Result<(), String> {
        let typed: T = serde_json::from_value(o.clone()).map_err(|e| e.to_string())?;
        let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
        if strip_nulls(&back) == strip_nulls(o) {
            Ok(())
        } else {
            Err(format!("changed by a round trip:\n{o}\n{back}"))
        }
    }

    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }

    /// The kinds this group's scenarios add to the kubeadm cluster are valid API objects.
    #[test]
    fn added_kinds_decode_as_their_kubernetes_types() {
        let mut seen = std::collections::BTreeSet::new();
        for (id, build) in super::SCENARIOS {
            for o in &build().snapshot.objects {
                let kind = o["kind"].as_str().unwrap_or_default();
                let r = match kind {
                    "CertificateSigningRequest" => round_trip::<cert::CertificateSigningRequest>(o),
                    "PersistentVolume" => round_trip::<core::PersistentVolume>(o),
                    "PersistentVolumeClaim" => round_trip::<core::PersistentVolumeClaim>(o),
                    "StorageClass" => round_trip::<storage::StorageClass>(o),
                    "CSIDriver" => round_trip::<storage::CSIDriver>(o),
                    "CSINode" => round_trip::<storage::CSINode>(o),
                    "VolumeAttachment" => round_trip::<storage::VolumeAttachment>(o),
                    "ValidatingWebhookConfiguration" => {
                        round_trip::<adm::ValidatingWebhookConfiguration>(o)
                    }
                    "Pod" => round_trip::<core::Pod>(o),
                    "Event" => round_trip::<core::Event>(o),
                    _ => continue,
                };
                seen.insert(kind.to_string());
                if let Err(e) = r {
                    panic!("{id} {kind}/{}: {e}", o["metadata"]["name"]);
                }
            }
        }
        for k in [
            "CertificateSigningRequest",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "VolumeAttachment",
        ] {
            assert!(seen.contains(k), "no scenario has a {k}");
        }
    }
}
