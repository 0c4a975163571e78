//! `invalid-pem-material` (TLS-04): the security team installed a policy admission webhook
//! in namespace `policy` by hand and pasted `cat ca.crt | base64 | base64` into its
//! ValidatingWebhookConfiguration's caBundle. The API server cannot build a TLS client for
//! it (`unable to load root certificates: unable to parse bytes as PEM block`), so with
//! `failurePolicy: Fail` pod creation in `shop` fails; and the rotated serving Secret, encoded
//! the same way, makes the webhook's certificate reloader log `tls: failed to find any PEM
//! data in certificate input` (it keeps serving the old certificate).

use base64::Engine;
use serde_json::json;

use super::{add_namespace, pem_b64, server_container};
use crate::builder::{
    ClusterBuilder, DAY, EventDef, MIN, PodDef, ServiceDef, SvcPort, WorkloadDef, epoch, klog, kv,
    object,
};
use crate::{ObjRef, Scenario, ServerBehavior};

const NS: &str = "policy";
const HOOK: &str = "validate.policy.acme.io";

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let age = 2 * DAY;
    add_namespace(&mut c, NS, age);
    let labels = kv(&[("app.kubernetes.io/name", "policy-webhook")]);
    let mut ctr = server_container(
        "webhook",
        "ghcr.io/acme/policy-webhook:0.8.2",
        9443,
        "HTTPS",
    );
    ctr.args = vec![
        "--cert-dir=/tmp/k8s-webhook-server/serving-certs".into(),
        "--port=9443".into(),
    ];
    ctr.volume_mounts = vec![
        json!({"mountPath": "/tmp/k8s-webhook-server/serving-certs", "name": "cert", "readOnly": true}),
    ];
    let workers: Vec<String> = c.worker_nodes().into_iter().map(|n| n.name).collect();
    let pods = c.add_deployment(&WorkloadDef {
        namespace: NS.into(),
        name: "policy-webhook".into(),
        selector: labels.clone(),
        labels: labels.clone(),
        template: PodDef {
            containers: vec![ctr],
            volumes: vec![json!({"name": "cert", "secret": {"defaultMode": 420, "secretName": "policy-webhook-tls"}})],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: workers.iter().take(2).cloned().collect(),
        pods_created_ago: age,
        annotations: serde_json::Value::Null,
    });
    c.add_service(&ServiceDef::new(
        NS,
        "policy-webhook",
        labels,
        vec![SvcPort::tcp("https", 443, 9443)],
        age,
    ));
    // The caBundle: base64 of base64 of the PEM.
    let double =
        base64::engine::general_purpose::STANDARD.encode(pem_b64("CERTIFICATE", "policy-ca"));
    let mut hook = object(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        None,
        "policy-webhook",
        age,
    );
    hook["metadata"]["generation"] = json!(1);
    hook["webhooks"] = json!([{
        "admissionReviewVersions": ["v1"],
        "clientConfig": {"caBundle": double, "service": {"name": "policy-webhook", "namespace": NS, "path": "/validate-pods", "port": 443}},
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "name": HOOK,
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}},
        "objectSelector": {},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"], "scope": "*"}],
        "sideEffects": "None",
        "timeoutSeconds": 10,
    }]);
    c.push(hook);
    let failure = format!(
        "failed calling webhook \"{HOOK}\": could not get REST client: unable to load root certificates: unable to parse bytes as PEM block"
    );
    // The ReplicaSet of checkout tried to replace a pod evicted from worker-1 at 09:17.
    let rs = c
        .of_kind("ReplicaSet", Some("shop"))
        .filter(|r| {
            r["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("checkout-"))
        })
        .filter(|r| r["spec"]["replicas"].as_i64().unwrap_or(0) > 0)
        .find_map(|r| r["metadata"]["name"].as_str().map(str::to_string));
    if let Some(rs) = rs {
        c.event(
            EventDef::normal(
                ObjRef::new("ReplicaSet", Some("shop"), &rs),
                "FailedCreate",
                format!("Error creating: Internal error occurred: {failure}"),
                "replicaset-controller",
                40,
            )
            .warning()
            .repeated(14, 43 * MIN),
        );
    }
    // The API servers reject it, failing closed.
    for pod in c.pods_named("kube-system", "kube-apiserver-") {
        if let Some(l) = c
            .pod_logs
            .iter_mut()
            .find(|l| l.namespace == "kube-system" && l.pod == pod)
        {
            for (i, secs) in [2580i64, 1290, 640, 300, 41].iter().enumerate() {
                l.text.push_str(&klog(
                    'W',
                    secs * 1_000_000 - 118_211 - 7 * i as i64,
                    "dispatcher.go:225",
                    &format!("Failed calling webhook, failing closed {HOOK}: {failure}"),
                ));
            }
        }
    }
    // The webhook's certificate reloader, since the Secret was rotated 45 minutes ago.
    for p in &pods {
        let name = p["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let t = |secs: i64| {
            (epoch() - chrono::Duration::seconds(secs))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let mut text = format!(
            "{}\tINFO\tsetup\tstarting manager\n{}\tINFO\tcontroller-runtime.webhook\tRegistering webhook\t{{\"path\": \"/validate-pods\"}}\n{}\tINFO\tcontroller-runtime.certwatcher\tUpdated current TLS certificate\n{}\tINFO\tcontroller-runtime.webhook\tServing webhook server\t{{\"host\": \"\", \"port\": 9443}}\n",
            t(age - 5),
            t(age - 5),
            t(age - 6),
            t(age - 6)
        );
        for secs in [45 * MIN, 30 * MIN, 15 * MIN, 2 * MIN] {
            text.push_str(&format!(
                "{}\tERROR\tcontroller-runtime.certwatcher\terror re-reading certificate\t{{\"error\": \"tls: failed to find any PEM data in certificate input\"}}\n",
                t(secs)
            ));
        }
        c.add_log(NS, &name, "webhook", text);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "invalid-pem-material",
        title: "Webhook caBundle encoded twice: pods cannot be created in shop",
        summary: "The policy-webhook ValidatingWebhookConfiguration's caBundle is base64 of base64 (decodes to LS0tLS1CRUdJTi…): the API server cannot load it, pod creation in shop fails closed, and the webhook's own rotated certificate does not parse as PEM.",
        playbook: Some("invalid-pem-material"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
