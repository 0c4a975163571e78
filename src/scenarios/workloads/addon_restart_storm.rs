//! `addon-restart-storm` (WL-07): metrics-server, recreated 2 h 10 min ago, is OOMKilled every
//! few minutes at its 200Mi limit (17 restarts: 7.8 an hour), between kills it serves and is
//! Ready, so only the restart count and rate give it away (seed: "a high restart count
//! indicates that a service is continually failing"). Live, its restartCount grows every 15 s.
//!
//! `addon-restart-storm-control`: the negative control. A CoreDNS pod restarted 9 times, all
//! 12 days ago (during an upstream DNS outage), and kube-proxy on worker-1 3 times 5 days ago;
//! both have run quietly since. A high count alone is not a storm: no finding.

use std::time::Duration;

use serde_json::json;

use super::common::{edit_everywhere, pod_named, set_pod_age};
use crate::builder::{ClusterBuilder, DAY, EventDef, HOUR, Terminated, klog};
use crate::{Change, ObjRef, Scenario, ServerBehavior};

const NS: &str = "kube-system";
/// The pod was recreated this long before the epoch.
const POD_AGE: i64 = 2 * HOUR + 10 * 60;
/// The last OOM kill, before the epoch.
const LAST_KILL: i64 = 71;
const RESTARTS: i64 = 17;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let pod = pod_named(&c, NS, "metrics-server-").unwrap_or_default();
    let node = c
        .find("Pod", Some(NS), &pod)
        .and_then(|p| p["spec"]["nodeName"].as_str())
        .unwrap_or("worker-1")
        .to_string();
    edit_everywhere(&mut c, NS, &pod, "metrics-server", |ctr| {
        ctr["resources"] =
            json!({"limits": {"memory": "200Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}});
    });
    set_pod_age(&mut c, NS, &pod, POD_AGE);
    c.set_restarts(
        NS,
        &pod,
        "metrics-server",
        RESTARTS,
        Terminated {
            reason: "OOMKilled".into(),
            exit_code: 137,
            started_ago: LAST_KILL + 236,
            finished_ago: LAST_KILL,
        },
    );
    // The container restarted 70 s ago; the log is the new run's, the previous run ended
    // mid-scrape without a word (the OOM killer sends SIGKILL).
    c.pod_logs.retain(|l| l.pod != pod);
    let run = |started: i64| {
        let us = started * 1_000_000;
        let mut t = klog(
            'I',
            us,
            "serving.go:374",
            "Generated self-signed cert (/tmp/apiserver.crt, /tmp/apiserver.key)",
        );
        t.push_str(&klog(
            'I',
            us - 812_000,
            "handler.go:275",
            "Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager",
        ));
        t.push_str(&klog(
            'I',
            us - 918_000,
            "requestheader_controller.go:169",
            "Starting RequestHeaderAuthRequestController",
        ));
        t.push_str(&klog(
            'I',
            us - 921_000,
            "secure_serving.go:213",
            "Serving securely on [::]:10250",
        ));
        t.push_str(&klog(
            'I',
            us - 1_120_000,
            "shared_informer.go:320",
            "Caches are synced for RequestHeaderAuthRequestController",
        ));
        t
    };
    c.add_log(NS, &pod, "metrics-server", run(LAST_KILL - 1));
    c.add_previous_log(NS, &pod, "metrics-server", run(LAST_KILL + 236));
    let target = ObjRef::new("Pod", Some(NS), &pod);
    c.event(
        EventDef::normal(
            target.clone(),
            "Pulled",
            "Container image \"registry.k8s.io/metrics-server/metrics-server:v0.7.2\" already present on machine",
            "kubelet",
            LAST_KILL - 1,
        )
        .on_host(&node)
        .repeated(RESTARTS, POD_AGE - 30)
        .field("spec.containers{metrics-server}"),
    );
    c.event(
        EventDef::normal(
            target.clone(),
            "Created",
            "Created container metrics-server",
            "kubelet",
            LAST_KILL - 1,
        )
        .on_host(&node)
        .repeated(RESTARTS, 55 * 60)
        .field("spec.containers{metrics-server}"),
    );
    c.event(
        EventDef::normal(
            target.clone(),
            "Started",
            "Started container metrics-server",
            "kubelet",
            LAST_KILL - 1,
        )
        .on_host(&node)
        .repeated(RESTARTS, 55 * 60)
        .field("spec.containers{metrics-server}"),
    );
    let pod_uid = c
        .find("Pod", Some(NS), &pod)
        .and_then(|p| p["metadata"]["uid"].as_str())
        .unwrap_or_default()
        .to_string();
    c.event(
        EventDef::normal(
            target.clone(),
            "BackOff",
            format!(
                "Back-off restarting failed container metrics-server in pod {pod}_{NS}({pod_uid})"
            ),
            "kubelet",
            LAST_KILL + 2,
        )
        .warning()
        .on_host(&node)
        .repeated(23, 50 * 60)
        .field("spec.containers{metrics-server}"),
    );
    c.event(
        EventDef::normal(
            ObjRef::new("Node", None, &node),
            "SystemOOM",
            "System OOM encountered, victim process: metrics-server, pid: 1184203",
            "kubelet",
            LAST_KILL,
        )
        .warning()
        .on_host(&node)
        .repeated(RESTARTS - 6, 52 * 60),
    );
    // Live: another OOM kill every 15 s.
    let cpath = "/status/containerStatuses/[name=metrics-server]";
    c.every(
        Duration::from_secs(15),
        Duration::from_secs(15),
        Change::Increment {
            target: target.clone(),
            path: format!("{cpath}/restartCount"),
            by: 1,
        },
    );
    c.every(
        Duration::from_secs(15),
        Duration::from_secs(15),
        Change::Now {
            target,
            path: format!("{cpath}/lastState/terminated/finishedAt"),
        },
    );
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "addon-restart-storm",
        title: "metrics-server OOMKilled over and over",
        summary: "kube-system/metrics-server was recreated 2h10m ago and has restarted 17 times since (7.8/h), each time OOMKilled (exit 137) at its 200Mi limit. Between kills it is Running and Ready: only the restart count, its rate and lastState tell. The count grows every 15 s.",
        playbook: Some("addon-restart-storm"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}

pub fn control() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    if let Some(pod) = pod_named(&c, NS, "coredns-") {
        c.set_restarts(
            NS,
            &pod,
            "coredns",
            9,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 12 * DAY + 300,
                finished_ago: 12 * DAY + 240,
            },
        );
    }
    let kube_proxy = c.pods_named(NS, "kube-proxy-").into_iter().find(|p| {
        c.find("Pod", Some(NS), p)
            .is_some_and(|o| o["spec"]["nodeName"] == "worker-1")
    });
    if let Some(pod) = kube_proxy {
        c.set_restarts(
            NS,
            &pod,
            "kube-proxy",
            3,
            Terminated {
                reason: "Error".into(),
                exit_code: 255,
                started_ago: 5 * DAY + 100,
                finished_ago: 5 * DAY + 40,
            },
        );
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "addon-restart-storm-control",
        title: "Control: add-ons that restarted long ago",
        summary: "A CoreDNS pod shows 9 restarts and kube-proxy on worker-1 3, all 5 to 12 days old; both have run quietly since. A high restart count with no recent restart is not a storm.",
        playbook: None,
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
