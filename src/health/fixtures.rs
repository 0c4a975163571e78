//! Hand-made objects for the health rules' tests, written as API JSON and decoded through the
//! lean types (so the tests also exercise decoding). Everything is judged at [`now`].

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::cluster::state::ClusterState;

pub const NOW: &str = "2026-01-15T10:00:00Z";

pub const READYZ_OK: &str = "[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n\
[+]informer-sync ok\n[+]poststarthook/start-apiextensions-controllers ok\n[+]shutdown ok\n\
readyz check passed\n";

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .map(|t| t.with_timezone(&Utc))
        .unwrap()
}

/// RFC 3339 time `secs` before [`now`] (microseconds, like the API server's MicroTime).
pub fn before(secs: i64) -> String {
    (now() - Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// JSON merge (objects merge recursively, anything else replaces).
pub fn merge(v: &mut Value, patch: Value) {
    match (v, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, pv) in b {
                merge(a.entry(k).or_insert(Value::Null), pv);
            }
        }
        (slot, p) => *slot = p,
    }
}

pub fn with(mut v: Value, patch: Value) -> Value {
    merge(&mut v, patch);
    v
}

pub fn node(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name},
            "creationTimestamp": before(30 * 86_400)},
        "spec": {"podCIDR": "10.244.1.0/24"},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "kubelet is posting ready status",
                 "lastHeartbeatTime": before(60), "lastTransitionTime": before(29 * 86_400)}
            ],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.10"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.31.4",
                "containerRuntimeVersion": "containerd://1.7.22",
                "osImage": "Ubuntu 24.04.1 LTS", "kernelVersion": "6.8.0-49-generic"},
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}
        }
    })
}

pub fn cp_node(name: &str) -> Value {
    with(
        node(name),
        json!({"metadata": {"labels": {"node-role.kubernetes.io/control-plane": ""}},
               "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane",
                                    "effect": "NoSchedule"}]}}),
    )
}

/// Replaces a node's condition of `type_`.
pub fn node_condition(mut n: Value, type_: &str, status: &str, reason: &str, msg: &str) -> Value {
    if let Some(conds) = n["status"]["conditions"].as_array_mut() {
        conds.retain(|c| c["type"] != type_);
        conds.push(
            json!({"type": type_, "status": status, "reason": reason, "message": msg,
            "lastHeartbeatTime": before(60), "lastTransitionTime": before(600)}),
        );
    }
    n
}

pub fn node_lease(name: &str, renewed_secs_ago: i64) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                 "renewTime": before(renewed_secs_ago)}
    })
}

/// A kube-system leader lease.
pub fn leader_lease(name: &str, holder: &str, renewed_secs_ago: i64, transitions: i64) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {"holderIdentity": format!("{holder}_6f1d2c3b-0a9e-4f5b-8c7d-123456789abc"),
                 "leaseDurationSeconds": 15, "acquireTime": before(5 * 86_400),
                 "renewTime": before(renewed_secs_ago), "leaseTransitions": transitions}
    })
}

pub fn identity_lease(name: &str, renewed_secs_ago: i64) -> Value {
    json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-system",
                     "labels": {"apiserver.kubernetes.io/identity": "kube-apiserver",
                                "kubernetes.io/hostname": name}},
        "spec": {"holderIdentity": format!("{name}_uuid"), "leaseDurationSeconds": 3600,
                 "renewTime": before(renewed_secs_ago)}
    })
}

/// A Running, Ready pod with one container, started two days ago.
pub fn pod(ns: &str, name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"),
                     "creationTimestamp": before(2 * 86_400)},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "example:1"}]},
        "status": {
            "phase": "Running", "startTime": before(2 * 86_400),
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0,
                "started": true, "state": {"running": {"startedAt": before(2 * 86_400)}}}]
        }
    })
}

/// A control-plane static (mirror) pod `COMPONENT-NODE`.
pub fn static_pod(component: &str, node: &str) -> Value {
    with(
        pod("kube-system", &format!("{component}-{node}"), node),
        json!({"metadata": {"labels": {"component": component, "tier": "control-plane"},
               "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node,
                                    "uid": "n", "controller": true}]}}),
    )
}

/// Sets a controller owner reference.
pub fn owned(v: Value, kind: &str, owner: &str) -> Value {
    with(
        v,
        json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": kind,
               "name": owner, "uid": "o", "controller": true}]}}),
    )
}

/// The first container restarted `count` times; its last run ended `secs_ago` with `exit`.
pub fn restarted(mut v: Value, count: i64, secs_ago: i64, exit: i64, reason: &str) -> Value {
    let cs = &mut v["status"]["containerStatuses"][0];
    cs["restartCount"] = json!(count);
    cs["lastState"] = json!({"terminated": {"exitCode": exit, "reason": reason,
        "startedAt": before(secs_ago + 30), "finishedAt": before(secs_ago)}});
    cs["state"] = json!({"running": {"startedAt": before(secs_ago)}});
    v
}

/// Like [`restarted`], but the container now waits in CrashLoopBackOff.
pub fn crashlooping(v: Value, count: i64, secs_ago: i64, exit: i64, reason: &str) -> Value {
    let mut v = restarted(v, count, secs_ago, exit, reason);
    let cs = &mut v["status"]["containerStatuses"][0];
    cs["ready"] = json!(false);
    cs["state"] = json!({"waiting": {"reason": "CrashLoopBackOff",
        "message": "back-off 5m0s restarting failed container"}});
    v["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
    v
}

pub fn daemonset(ns: &str, name: &str, desired: i64, ready: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": ns, "labels": {"k8s-app": name}},
        "status": {"desiredNumberScheduled": desired, "currentNumberScheduled": desired,
                   "numberReady": ready, "numberAvailable": ready,
                   "updatedNumberScheduled": desired}
    })
}

pub fn deployment(ns: &str, name: &str, replicas: i64, ready: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready,
                   "updatedReplicas": replicas}
    })
}

/// A pod of deployment `deploy` (through its ReplicaSet `deploy-5d8c7b9f6d`).
pub fn deploy_pod(ns: &str, deploy: &str, suffix: &str, node: &str) -> Value {
    with(
        owned(
            pod(ns, &format!("{deploy}-5d8c7b9f6d-{suffix}"), node),
            "ReplicaSet",
            &format!("{deploy}-5d8c7b9f6d"),
        ),
        json!({"metadata": {"labels": {"pod-template-hash": "5d8c7b9f6d"}}}),
    )
}

pub fn ds_pod(ns: &str, ds: &str, suffix: &str, node: &str) -> Value {
    owned(pod(ns, &format!("{ds}-{suffix}"), node), "DaemonSet", ds)
}

/// A small kubeadm cluster where everything is well: cp-1 and w-1, calico, CoreDNS,
/// kube-proxy, one app pod that restarted twice three days ago (a negative control).
pub fn healthy_objects() -> Vec<Value> {
    let mut objs = vec![cp_node("cp-1"), node("w-1")];
    for n in ["cp-1", "w-1"] {
        objs.push(node_lease(n, 4));
        objs.push(ds_pod("kube-system", "kube-proxy", &format!("p{n}"), n));
        objs.push(ds_pod("kube-system", "calico-node", &format!("c{n}"), n));
    }
    for c in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ] {
        objs.push(static_pod(c, "cp-1"));
    }
    objs.push(leader_lease("kube-controller-manager", "cp-1", 2, 1));
    objs.push(leader_lease("kube-scheduler", "cp-1", 3, 1));
    objs.push(identity_lease("apiserver-abc123", 10));
    objs.push(daemonset("kube-system", "kube-proxy", 2, 2));
    objs.push(daemonset("kube-system", "calico-node", 2, 2));
    objs.push(with(
        deployment("kube-system", "coredns", 2, 2),
        json!({"metadata": {"labels": {"k8s-app": "kube-dns"}}}),
    ));
    objs.push(deploy_pod("kube-system", "coredns", "aaaaa", "w-1"));
    objs.push(deploy_pod("kube-system", "coredns", "bbbbb", "cp-1"));
    objs.push(deployment("default", "web", 1, 1));
    objs.push(restarted(
        deploy_pod("default", "web", "ccccc", "w-1"),
        2,
        3 * 86_400,
        1,
        "Error",
    ));
    objs
}

/// Decodes objects into a state with a v1.31.4 server whose /readyz passes.
pub fn state_of(objects: &[Value]) -> ClusterState {
    let mut s = ClusterState::from_objects(objects);
    s.server_version = Some("v1.31.4".into());
    s.readyz = Some(READYZ_OK.into());
    assert!(
        s.dropped.is_empty(),
        "a fixture did not decode: {:?}",
        s.dropped
    );
    s
}

pub fn healthy_cluster() -> ClusterState {
    state_of(&healthy_objects())
}

/// `healthy_objects()` with the objects matching `drop` removed and `extra` added.
pub fn healthy_with(drop: impl Fn(&Value) -> bool, extra: Vec<Value>) -> ClusterState {
    let mut objs: Vec<Value> = healthy_objects().into_iter().filter(|v| !drop(v)).collect();
    objs.extend(extra);
    state_of(&objs)
}

/// True for the object of this kind and name.
pub fn is(v: &Value, kind: &str, name: &str) -> bool {
    v["kind"] == kind && v["metadata"]["name"] == name
}
