//! `static-pod-liveness-mismatch` (CP-06): 16 minutes ago someone restored the
//! kube-controller-manager and kube-scheduler manifests on cp-2 from an old (1.19) backup
//! template: their liveness probes ask `http://127.0.0.1:10252/healthz` and
//! `http://127.0.0.1:10251/healthz`, the insecure ports both components dropped long ago,
//! while they serve HTTPS on 10257 / 10259. The kubelet kills them every ~90 s plus back-off:
//! `Liveness probe failed: ... connect: connection refused`, restartCount climbing live.

use std::time::Duration;

use serde_json::json;

use crate::builder::{ClusterBuilder, EventDef, MIN, Terminated, ago};
use crate::{Change, ObjRef, Scenario, ServerBehavior};

const NODE: &str = "cp-2";
const RESTORED_AGO: i64 = 16 * MIN;
const RESTARTS: i64 = 6;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    for (comp, old_port) in [
        ("kube-controller-manager", 10252),
        ("kube-scheduler", 10251),
    ] {
        let pod = format!("{comp}-{NODE}");
        if let Some(p) = c.find_mut("Pod", Some("kube-system"), &pod) {
            p["metadata"]["creationTimestamp"] = json!(ago(RESTORED_AGO));
            p["status"]["startTime"] = json!(ago(RESTORED_AGO));
            if let Some(ctr) = p["spec"]["containers"].get_mut(0) {
                for probe in ["livenessProbe", "startupProbe"] {
                    if ctr.get(probe).is_some() {
                        ctr[probe]["httpGet"]["port"] = json!(old_port);
                        ctr[probe]["httpGet"]["scheme"] = json!("HTTP");
                        ctr[probe]["initialDelaySeconds"] = json!(15);
                    }
                }
            }
        }
        c.set_restarts(
            "kube-system",
            &pod,
            comp,
            RESTARTS,
            Terminated {
                reason: "Error".into(),
                exit_code: 2,
                started_ago: 40 + 300 + 95,
                finished_ago: 40,
            },
        );
        let target = ObjRef::new("Pod", Some("kube-system"), &pod);
        let field = format!("spec.containers{{{comp}}}");
        let probe_msg = format!(
            "Liveness probe failed: Get \"http://127.0.0.1:{old_port}/healthz\": dial tcp 127.0.0.1:{old_port}: connect: connection refused"
        );
        c.event(
            EventDef::normal(target.clone(), "Unhealthy", probe_msg, "kubelet", 12)
                .warning()
                .on_host(NODE)
                .repeated(48, RESTORED_AGO - 25)
                .field(&field),
        );
        c.event(
            EventDef::normal(
                target.clone(),
                "Killing",
                format!("Container {comp} failed liveness probe, will be restarted"),
                "kubelet",
                40,
            )
            .on_host(NODE)
            .repeated(RESTARTS, RESTORED_AGO - 95)
            .field(&field),
        );
        c.event(
            EventDef::normal(
                target.clone(),
                "Pulled",
                format!(
                    "Container image \"registry.k8s.io/{comp}:v1.31.4\" already present on machine"
                ),
                "kubelet",
                39,
            )
            .on_host(NODE)
            .repeated(RESTARTS + 1, RESTORED_AGO - 1)
            .field(&field),
        );
        // Live: another probe failure every 10 s, another kill every 6.5 minutes (90 s of
        // probing plus the 5-minute back-off).
        let status = format!("/status/containerStatuses/[name={comp}]");
        c.every(
            Duration::from_secs(350),
            Duration::from_secs(390),
            Change::Increment {
                target: target.clone(),
                path: format!("{status}/restartCount"),
                by: 1,
            },
        );
        c.every(
            Duration::from_secs(350),
            Duration::from_secs(390),
            Change::Now {
                target: target.clone(),
                path: format!("{status}/lastState/terminated/finishedAt"),
            },
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "static-pod-liveness-mismatch",
        title: "Control-plane liveness probes on the removed insecure ports",
        summary: "kube-controller-manager and kube-scheduler on cp-2 run manifests from an old template: liveness probes on http://127.0.0.1:10252 and :10251 while they serve HTTPS on 10257/10259. `Liveness probe failed: ... connection refused`, restartCount climbing.",
        playbook: Some("static-pod-liveness-mismatch"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
