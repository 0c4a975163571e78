//! `kubelet-serving-cert-untrusted` (TLS-03): the cluster was hardened (CIS 1.2.5): every
//! kube-apiserver verifies kubelet serving certificates with the cluster CA, kubelet-config
//! got `serverTLSBootstrap: true` and metrics-server lost `--kubelet-insecure-tls`. The
//! control-plane nodes and worker-1 were reconfigured and their kubelet-serving CSRs approved,
//! but worker-2 still runs its old /var/lib/kubelet/config.yaml (self-signed certificate) and
//! worker-3, which joined 50 minutes ago, waits for a kubelet-serving CSR nobody approves.
//! `kubectl logs` for pods on worker-2/worker-3 fails with x509 / TLS errors.

use serde_json::json;

use super::{CsrDef, add_static_flag, csr, pods_on, status_body};
use crate::builder::{ClusterBuilder, MIN, klog};
use crate::{Fault, FaultKind, Scenario, ServerBehavior};

const SERVING: &str = "kubernetes.io/kubelet-serving";
const USAGES: &[&str] = &["digital signature", "server auth"];
const NODE_GROUPS: &[&str] = &["system:nodes", "system:authenticated"];

fn configz(node: &str, dns: &str, bootstrap: bool) -> String {
    json!({"kubeletconfig": {
        "enableServer": true,
        "staticPodPath": "/etc/kubernetes/manifests",
        "syncFrequency": "1m0s",
        "address": "0.0.0.0",
        "port": 10250,
        "rotateCertificates": true,
        "serverTLSBootstrap": bootstrap,
        "authentication": {"x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}, "webhook": {"enabled": true, "cacheTTL": "2m0s"}, "anonymous": {"enabled": false}},
        "authorization": {"mode": "Webhook", "webhook": {"cacheAuthorizedTTL": "5m0s", "cacheUnauthorizedTTL": "30s"}},
        "clusterDomain": "cluster.local",
        "clusterDNS": [dns],
        "cgroupDriver": "systemd",
        "hairpinMode": "promiscuous-bridge",
        "maxPods": 110,
        "providerID": "",
        "tlsCertFile": if bootstrap { "" } else { "/var/lib/kubelet/pki/kubelet.crt" },
        "containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
        "nodeName": node,
    }})
    .to_string()
}

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    add_static_flag(
        &mut c,
        "kube-apiserver-",
        "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
    );
    if let Some(cm) = c.find_mut("ConfigMap", Some("kube-system"), "kubelet-config")
        && let Some(text) = cm["data"]["kubelet"].as_str()
    {
        let text = text.replace(
            "shutdownGracePeriod: 0s\n",
            "serverTLSBootstrap: true\nshutdownGracePeriod: 0s\n",
        );
        cm["data"]["kubelet"] = json!(text);
    }
    // metrics-server verifies kubelets now.
    for pod in c.pods_named("kube-system", "metrics-server-") {
        if let Some(args) = c
            .find_mut("Pod", Some("kube-system"), &pod)
            .and_then(|p| p["spec"]["containers"][0]["args"].as_array_mut())
        {
            args.retain(|a| a != "--kubelet-insecure-tls");
        }
    }
    if let Some(args) = c
        .find_mut("Deployment", Some("kube-system"), "metrics-server")
        .and_then(|d| d["spec"]["template"]["spec"]["containers"][0]["args"].as_array_mut())
    {
        args.retain(|a| a != "--kubelet-insecure-tls");
    }
    let dns = c.dns_ip();
    let ip =
        |c: &crate::builder::Cluster, n: &str| c.node(n).map(|n| n.ip.clone()).unwrap_or_default();
    let broken: Vec<(String, String, String)> = vec![
        (
            "worker-2".into(),
            ip(&c, "worker-2"),
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
                .into(),
        ),
        (
            "worker-3".into(),
            ip(&c, "worker-3"),
            "remote error: tls: internal error".into(),
        ),
    ];
    // Serving CSRs: rotated/approved ones for the reconfigured nodes (approved by hand 40 min
    // ago, before the cleaner's hour), worker-3's still Pending; worker-3's client CSR was
    // auto-approved when it joined.
    let good: Vec<String> = c
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .filter(|n| broken.iter().all(|(b, _, _)| b != n))
        .collect();
    for (i, n) in good.iter().enumerate() {
        let user = format!("system:node:{n}");
        let name = format!("csr-{}", crate::builder::suffix(&format!("serving/{n}"), 5));
        c.push(csr(&CsrDef {
            name: &name,
            signer: SERVING,
            username: &user,
            groups: NODE_GROUPS,
            usages: USAGES,
            created_ago: 42 * MIN + 20 * i as i64,
            approved: Some((
                "KubectlApprove",
                "This CSR was approved by kubectl certificate approve.",
                40 * MIN,
            )),
        }));
        c.add_response(
            &format!("/api/v1/nodes/{n}/proxy/configz"),
            200,
            configz(n, &dns, true),
        );
    }
    let w3_name = format!("csr-{}", crate::builder::suffix("serving/worker-3", 5));
    c.push(csr(&CsrDef {
        name: &w3_name,
        signer: SERVING,
        username: "system:node:worker-3",
        groups: NODE_GROUPS,
        usages: USAGES,
        created_ago: 49 * MIN,
        approved: None,
    }));
    let client_name = format!("node-csr-{}", crate::builder::hex("client/worker-3", 43));
    c.push(csr(&CsrDef {
        name: &client_name,
        signer: "kubernetes.io/kube-apiserver-client-kubelet",
        username: "system:bootstrap:abcdef",
        groups: &[
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token",
            "system:authenticated",
        ],
        usages: &["digital signature", "client auth"],
        created_ago: 50 * MIN,
        approved: Some((
            "AutoApproved",
            "Auto approving kubelet client certificate after SubjectAccessReview.",
            50 * MIN - 1,
        )),
    }));
    // What the API server answers for requests it forwards to the broken kubelets: every
    // node-proxy and log request (any query) fails live; the snapshot keeps the answers to
    // the usual requests.
    let mut faults = Vec::new();
    for (node, node_ip, err) in &broken {
        faults.push(Fault {
            path_prefix: format!("/api/v1/nodes/{node}/proxy/"),
            watch_only: false,
            times: None,
            kind: FaultKind::Status {
                code: 500,
                reason: String::new(),
                message: format!("error trying to reach service: {err}"),
            },
        });
        for (ns, pod, containers) in pods_on(&c, node) {
            let ctr = containers.first().cloned().unwrap_or_default();
            faults.push(Fault {
                path_prefix: format!("/api/v1/namespaces/{ns}/pods/{pod}/log"),
                watch_only: false,
                times: None,
                kind: FaultKind::Status {
                    code: 500,
                    reason: String::new(),
                    message: format!(
                        "Get \"https://{node_ip}:10250/containerLogs/{ns}/{pod}/{ctr}\": {err}"
                    ),
                },
            });
        }
    }
    for (node, node_ip, err) in &broken {
        for what in ["healthz", "configz"] {
            c.add_response(
                &format!("/api/v1/nodes/{node}/proxy/{what}"),
                500,
                status_body(500, "", &format!("error trying to reach service: {err}")),
            );
        }
        for (ns, pod, containers) in pods_on(&c, node) {
            for ctr in &containers {
                let base = format!("/api/v1/namespaces/{ns}/pods/{pod}/log");
                let kubelet = format!("https://{node_ip}:10250/containerLogs/{ns}/{pod}/{ctr}");
                let mut variants = vec![
                    (format!("{base}?container={ctr}"), kubelet.clone()),
                    (
                        format!("{base}?container={ctr}&tailLines=1"),
                        format!("{kubelet}?tailLines=1"),
                    ),
                    (
                        format!("{base}?container={ctr}&tailLines=300"),
                        format!("{kubelet}?tailLines=300"),
                    ),
                ];
                if containers.len() == 1 {
                    variants.push((base.clone(), kubelet.clone()));
                }
                for (path, url) in variants {
                    let body = status_body(500, "", &format!("Get \"{url}\": {err}"));
                    // kube-rs clients send `log?&container=…`: the server matches exactly.
                    if let Some((p, q)) = path.split_once('?') {
                        c.add_response(&format!("{p}?&{q}"), 500, body.clone());
                    }
                    c.add_response(&path, 500, body);
                }
            }
            c.pod_logs.retain(|l| !(l.namespace == ns && l.pod == pod));
        }
    }
    // metrics-server cannot scrape them either.
    for pod in c.pods_named("kube-system", "metrics-server-") {
        let mut extra = String::new();
        for cycle in (0..4).rev() {
            for (k, (node, node_ip, err)) in broken.iter().enumerate() {
                let at = (cycle * 15 + 3) * 1_000_000 - 20_417 * k as i64;
                extra.push_str(&klog(
                    'E',
                    at,
                    "scraper.go:149",
                    &format!(
                        "\"Failed to scrape node\" err=\"Get \\\"https://{node_ip}:10250/metrics/resource\\\": {err}\" node=\"{node}\""
                    ),
                ));
            }
        }
        if let Some(l) = c
            .pod_logs
            .iter_mut()
            .find(|l| l.namespace == "kube-system" && l.pod == pod)
        {
            l.text.push_str(&extra);
        }
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "kubelet-serving-cert-untrusted",
        title: "kubectl logs: x509 from the kubelets on worker-2 and worker-3",
        summary: "The API servers verify kubelet serving certificates with the cluster CA (--kubelet-certificate-authority), but worker-2 serves a self-signed certificate (serverTLSBootstrap off) and worker-3's kubelet-serving CSR is still Pending: kubectl logs/exec to their pods fail.",
        playbook: Some("kubelet-serving-cert-untrusted"),
        snapshot,
        timeline,
        behavior: ServerBehavior {
            faults,
            ..Default::default()
        },
    }
}
