//! `apiserver-not-ready` (CP-02): for the last 40 seconds the SAN volume under all three etcd
//! members stalls (fdatasync takes seconds). Every etcd pod is still Running and Ready, but
//! the API servers' etcd checks fail: `/readyz?verbose` answers 500 with `[-]etcd` and
//! `[-]etcd-readiness`, the API servers log `etcdserver: request timed out`, and their
//! readiness probes fail.

use serde_json::json;

use super::common::{append_log, us};
use crate::builder::{ClusterBuilder, EventDef, epoch, klog};
use crate::{ObjRef, Scenario, ServerBehavior};

const SINCE: i64 = 40;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    c.fail_health_checks(&["etcd", "etcd-readiness"]);
    let cps = c.control_plane_nodes();
    for n in &cps {
        let pod = format!("etcd-{}", n.name);
        let mut t = String::new();
        let mut k = SINCE + 2;
        let mut j = 0i64;
        while k > 1 {
            let ts = (epoch() - chrono::Duration::microseconds(us(k, &pod)))
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            let line = match j % 3 {
                0 => {
                    json!({"level": "warn", "ts": ts, "caller": "wal/wal.go:805", "msg": "slow fdatasync", "took": format!("{}.{:03}s", 3 + j % 4, 211 + j * 53 % 700), "expected-duration": "1s"})
                }
                1 => {
                    json!({"level": "warn", "ts": ts, "caller": "etcdserver/v3_server.go:920", "msg": "waiting for ReadIndex response took too long, retrying", "sent-request-id": 7587883447384230000_i64 + j, "retry-timeout": "500ms"})
                }
                _ => {
                    json!({"level": "warn", "ts": ts, "caller": "etcdserver/util.go:170", "msg": "apply request took too long", "took": format!("{}.{:06}s", 6 + j % 2, 401_223 + j * 7919 % 500_000), "expected-duration": "100ms", "prefix": "read-only range ", "request": "key:\"/registry/health\" ", "response": "", "error": "context canceled"})
                }
            };
            t.push_str(&line.to_string());
            t.push('\n');
            k -= 4;
            j += 1;
        }
        append_log(&mut c, &pod, "etcd", &t);

        let pod = format!("kube-apiserver-{}", n.name);
        let mut t = String::new();
        let mut k = SINCE - 3;
        while k > 1 {
            t.push_str(&klog('E', us(k, &pod), "status.go:71", "\"Unhandled Error\" err=\"apiserver received an error that is not an metav1.Status: &errors.errorString{s:\\\"etcdserver: request timed out\\\"}: etcdserver: request timed out\" logger=\"UnhandledError\""));
            if k % 3 == 0 {
                t.push_str(&klog(
                    'E',
                    us(k, &pod) - 2000,
                    "controller.go:195",
                    "\"Failed to update lease\" err=\"etcdserver: request timed out\"",
                ));
            }
            k -= 5;
        }
        append_log(&mut c, &pod, "kube-apiserver", &t);
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some("kube-system"), &pod),
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 500",
                "kubelet",
                2,
            )
            .warning()
            .on_host(&n.name)
            .repeated(36, SINCE - 4)
            .field("spec.containers{kube-apiserver}"),
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "apiserver-not-ready",
        title: "API server not ready: etcd check failing",
        summary: "etcd's disk stalls: all etcd pods are up, but /readyz?verbose fails [-]etcd and [-]etcd-readiness, the API servers log `etcdserver: request timed out` and fail their readiness probes.",
        playbook: Some("apiserver-not-ready"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
