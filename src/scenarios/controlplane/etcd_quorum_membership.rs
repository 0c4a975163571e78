//! `etcd-quorum-membership` (CP-03): cp-3 lost power 35 minutes ago; after the reboot its
//! etcd member finds a torn write in its WAL (`wal: crc mismatch`) and exits on every start:
//! etcd-cp-3 is in CrashLoopBackOff, kube-apiserver-cp-3 (which talks to its local member
//! only) is not ready. cp-1 and cp-2 keep the quorum of 2 — with no failure left to spare.

use serde_json::json;

use super::common::us;
use crate::builder::{ClusterBuilder, EventDef, MIN, Terminated, epoch};
use crate::{ObjRef, Scenario, ServerBehavior};

const NODE: &str = "cp-3";
const REBOOT_AGO: i64 = 35 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let ip = c.node(NODE).map(|n| n.ip.clone()).unwrap_or_default();
    let pod = format!("etcd-{NODE}");
    c.crash_loop(
        "kube-system",
        &pod,
        "etcd",
        11,
        Terminated {
            reason: "Error".into(),
            exit_code: 1,
            started_ago: 96,
            finished_ago: 95,
        },
    );
    let ts = |secs: i64, seed: &str| {
        (epoch() - chrono::Duration::microseconds(us(secs, seed)))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    };
    let mut prev = String::new();
    for (i, (caller, msg, extra)) in [
        (
            "etcdmain/etcd.go:73",
            "Running: ",
            json!({"args": ["etcd", format!("--name={NODE}"), "--data-dir=/var/lib/etcd"]}),
        ),
        (
            "etcdmain/etcd.go:116",
            "server has been already initialized",
            json!({"data-dir": "/var/lib/etcd", "dir-type": "member"}),
        ),
        (
            "embed/etcd.go:128",
            "configuring peer listeners",
            json!({"listen-peer-urls": [format!("https://{ip}:2380")]}),
        ),
        (
            "embed/etcd.go:311",
            "starting an etcd server",
            json!({"etcd-version": "3.5.15", "name": NODE, "data-dir": "/var/lib/etcd"}),
        ),
        (
            "etcdserver/backend.go:81",
            "opened backend db",
            json!({"path": "/var/lib/etcd/member/snap/db", "took": "6.41ms"}),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut line =
            json!({"level": "info", "ts": ts(96, &format!("{i}")), "caller": caller, "msg": msg});
        if let (Some(m), Some(e)) = (line.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        prev.push_str(&line.to_string());
        prev.push('\n');
    }
    prev.push_str(&json!({"level": "fatal", "ts": ts(95, "fatal"), "caller": "etcdserver/storage.go:95", "msg": "failed to read WAL", "error": "wal: crc mismatch", "stacktrace": "go.etcd.io/etcd/server/v3/etcdserver.readWAL\n\tgo.etcd.io/etcd/server/v3/etcdserver/storage.go:95\ngo.etcd.io/etcd/server/v3/etcdserver.restartNode\n\tgo.etcd.io/etcd/server/v3/etcdserver/raft.go:481\ngo.etcd.io/etcd/server/v3/etcdserver.NewServer\n\tgo.etcd.io/etcd/server/v3/etcdserver/server.go:533"}).to_string());
    prev.push('\n');
    c.add_previous_log("kube-system", &pod, "etcd", prev);
    let target = ObjRef::new("Pod", Some("kube-system"), &pod);
    c.event(
        EventDef::normal(
            target.clone(),
            "BackOff",
            "Back-off restarting failed container etcd in pod etcd-cp-3_kube-system(".to_string()
                + c.find("Pod", Some("kube-system"), &pod)
                    .and_then(|p| p["metadata"]["uid"].as_str())
                    .unwrap_or_default()
                + ")",
            "kubelet",
            20,
        )
        .warning()
        .on_host(NODE)
        .repeated(140, REBOOT_AGO - 60)
        .field("spec.containers{etcd}"),
    );
    // The local API server cannot reach its etcd.
    let api = format!("kube-apiserver-{NODE}");
    if let Some(p) = c.find_mut("Pod", Some("kube-system"), &api) {
        if let Some(st) = p["status"]["containerStatuses"].get_mut(0) {
            st["ready"] = json!(false);
        }
        if let Some(conds) = p["status"]["conditions"].as_array_mut() {
            for cond in conds
                .iter_mut()
                .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
            {
                cond["status"] = json!("False");
                cond["reason"] = json!("ContainersNotReady");
                cond["message"] = json!("containers with unready status: [kube-apiserver]");
                cond["lastTransitionTime"] = json!(crate::builder::ago(REBOOT_AGO - 90));
            }
        }
    }
    c.event(
        EventDef::normal(
            ObjRef::new("Pod", Some("kube-system"), &api),
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 500",
            "kubelet",
            3,
        )
        .warning()
        .on_host(NODE)
        .repeated(210, REBOOT_AGO - 90)
        .field("spec.containers{kube-apiserver}"),
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "etcd-quorum-membership",
        title: "etcd down to quorum: one member crash-looping",
        summary: "etcd-cp-3 crash-loops on `wal: crc mismatch` after a power loss; kube-apiserver-cp-3 is not ready. Two of three members keep quorum, with no failure left to spare.",
        playbook: Some("etcd-quorum-membership"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
