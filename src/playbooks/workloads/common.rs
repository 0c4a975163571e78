//! Helpers the workload playbooks share: reading pods, container statuses, events and owners
//! out of query results (JSON values, any field may be missing), timestamps, and the
//! classification of why a container keeps restarting (OOMKilled, an application error in
//! its log, a bad command, liveness kills) that `crashloop` and `addon-restart-storm` both use,
//! and how often a container restarts now (its last run plus the kubelet's back-off) and which
//! pods of a node restarted together (a reboot or a runtime restart, not a storm).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::playbooks::engine::q;
pub use crate::playbooks::engine::q::nodes;
use crate::playbooks::{Query, Results};

use crate::playbooks::util::arr;
pub use crate::playbooks::util::{ev, name, namespace, obj, parse_time, s};

/// Namespaces whose pods are cluster add-ons (DNS, proxy, CNI, ingress controllers, ...):
/// `addon-restart-storm` watches them, `crashloop` leaves them to it.
pub const ADDON_NAMESPACES: &[&str] = &[
    "kube-system",
    "ingress-nginx",
    "kube-flannel",
    "calico-system",
    "tigera-operator",
    "metallb-system",
    "cert-manager",
    "traefik",
    "haproxy-controller",
];

/// Whether `ns` holds cluster add-ons.
pub fn is_addon_namespace(ns: &str) -> bool {
    ADDON_NAMESPACES.contains(&ns)
}

/// `kubectl get pods -A -o yaml`.
pub fn pods_all() -> Query {
    q::core("pods", None)
}

/// `kubectl get events -A -o yaml`.
pub fn events_all() -> Query {
    q::core("events", None)
}

/// An integer field, 0 when absent.
pub fn i(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `Pod/ns/name`.
pub fn pod_ref(ns: &str, pod: &str) -> String {
    format!("Pod/{ns}/{pod}")
}

/// Seconds from `t` to `now` (negative when `t` is in the future).
pub fn secs_since(t: &str, now: DateTime<Utc>) -> Option<i64> {
    parse_time(t).map(|t| (now - t).num_seconds())
}

/// `42s`, `7m`, `3h12m`, `6d` (the workload findings' wording; the other groups print ages
/// differently, see `identity_storage::common::human`).
pub fn human(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=119 => format!("{secs}s"),
        120..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => match (secs % 3600) / 60 {
            0 => format!("{}h", secs / 3600),
            m => format!("{}h{m}m", secs / 3600),
        },
        _ => format!("{}d", secs / 86_400),
    }
}

/// The container statuses of a pod (init containers excluded).
pub fn container_statuses(pod: &Value) -> &[Value] {
    arr(pod, "/status/containerStatuses")
}

/// The container spec named `c` in a pod.
pub fn container_spec<'a>(pod: &'a Value, c: &str) -> Option<&'a Value> {
    ["/spec/containers", "/spec/initContainers"]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .find(|x| x.get("name").and_then(Value::as_str) == Some(c))
}

/// Events whose involvedObject is this kind/namespace/name, newest first (`ns` empty: any).
/// Kept apart from `identity_storage::common::events_for`, which orders by a different
/// timestamp precedence (see `event_time` here: the series before `eventTime`, then
/// `firstTimestamp`).
pub fn events_for<'a>(events: &'a [Value], kind: &str, ns: &str, nm: &str) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = events
        .iter()
        .filter(|e| {
            s(e, "/involvedObject/kind") == kind
                && s(e, "/involvedObject/name") == nm
                && (ns.is_empty() || s(e, "/involvedObject/namespace") == ns)
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    out
}

/// The newest timestamp of an event (lastTimestamp, eventTime, series, firstTimestamp).
pub fn event_time(e: &Value) -> Option<DateTime<Utc>> {
    [
        "/lastTimestamp",
        "/series/lastObservedTime",
        "/eventTime",
        "/firstTimestamp",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| parse_time(s(e, p)))
}

/// The event count (1 when absent).
pub fn event_count(e: &Value) -> i64 {
    e.get("count")
        .and_then(Value::as_i64)
        .or_else(|| e.pointer("/series/count").and_then(Value::as_i64))
        .unwrap_or(1)
}

/// The workload that owns a pod, as `(kind, name)`: a ReplicaSet's Deployment is derived
/// from the ReplicaSet name (its `pod-template-hash` suffix removed).
pub fn owner_workload(pod: &Value) -> Option<(String, String)> {
    let owners = pod.pointer("/metadata/ownerReferences")?.as_array()?;
    let o = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .or_else(|| owners.first())?;
    let kind = s(o, "/kind");
    let nm = s(o, "/name");
    if kind == "ReplicaSet" {
        let hash = s(pod, "/metadata/labels/pod-template-hash");
        if !hash.is_empty()
            && let Some(d) = nm.strip_suffix(&format!("-{hash}"))
        {
            return Some(("Deployment".into(), d.into()));
        }
        return Some(("ReplicaSet".into(), nm.into()));
    }
    Some((kind.to_string(), nm.to_string()))
}

/// `deployment/cart` style reference for kubectl, or `pod/NAME` when unowned.
pub fn workload_arg(pod: &Value) -> String {
    match owner_workload(pod) {
        Some((k, n)) => format!("{}/{n}", k.to_lowercase()),
        None => format!("pod/{}", name(pod)),
    }
}

/// Pods of the results of `pods_all()` (or any pod list query).
pub fn pods<'a>(r: &'a Results, query: &Query) -> &'a [Value] {
    r.objects(query)
}

/// Why a container keeps restarting, judged from its last termination, its log and events.
#[derive(Debug, Clone, PartialEq)]
pub enum RestartCause {
    /// Killed by the kernel OOM killer (reason OOMKilled / exit 137 with a memory limit).
    OomKilled { limit: Option<String> },
    /// Exited 127/126 or `exec format error`: wrong command or image architecture.
    BadCommand { exit_code: i64, detail: String },
    /// The kubelet killed it for failing its liveness probe.
    LivenessKilled { message: String },
    /// The application exited with an error it logged.
    AppError { exit_code: i64, line: String },
    /// Exited with this code; nothing more is known.
    Unknown { exit_code: i64, reason: String },
}

impl RestartCause {
    /// Whether the cause is known well enough to act on.
    pub fn is_classified(&self) -> bool {
        !matches!(self, RestartCause::Unknown { .. })
    }
}

/// The last termination of a container status: (reason, exitCode, finishedAt, message).
pub fn last_terminated(cs: &Value) -> Option<(&str, i64, &str, &str)> {
    let t = cs.pointer("/lastState/terminated")?;
    Some((
        s(t, "/reason"),
        i(t, "/exitCode"),
        s(t, "/finishedAt"),
        s(t, "/message"),
    ))
}

/// Pods younger than this get no restarts-per-hour over their life (one restart in the first
/// minute is not 60/h): the health model's figure.
pub use crate::health::restart::MIN_OBSERVATION_SECS;
pub use crate::health::restart::{
    CurrentRate, backoff_in_message, kubelet_backoff_secs, lifetime_rate,
};

/// The [`CurrentRate`] of container status `cs` at `now` (health's arithmetic over the JSON
/// fields): its last run (`lastState.terminated.startedAt`..`finishedAt`), the back-off it
/// waits or waited, and the time since it ended.
pub fn current_rate(cs: &Value, now: DateTime<Utc>) -> Option<CurrentRate> {
    let rc = i(cs, "/restartCount");
    let started = parse_time(s(cs, "/lastState/terminated/startedAt"))?;
    let finished = parse_time(s(cs, "/lastState/terminated/finishedAt"))?;
    let gap = if s(cs, "/state/waiting/reason") == "CrashLoopBackOff" {
        backoff_in_message(s(cs, "/state/waiting/message"))
            .unwrap_or_else(|| kubelet_backoff_secs(rc))
    } else if let Some(r) = parse_time(s(cs, "/state/running/startedAt")) {
        (r - finished).num_seconds()
    } else {
        kubelet_backoff_secs(rc)
    };
    crate::health::restart::current_rate(
        rc,
        (finished - started).num_seconds(),
        gap,
        (now - finished).num_seconds().max(0),
    )
}

/// When a restarted container last restarted: its last termination, else when its current
/// run started.
pub fn last_restart_at(cs: &Value) -> Option<DateTime<Utc>> {
    if i(cs, "/restartCount") <= 0 {
        return None;
    }
    parse_time(s(cs, "/lastState/terminated/finishedAt"))
        .or_else(|| parse_time(s(cs, "/state/running/startedAt")))
}

/// Pods of one node whose containers all restarted at one instant and run again: a host
/// reboot or a container-runtime restart, not each pod failing.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartedTogether {
    pub node: String,
    pub at: DateTime<Utc>,
    /// `(namespace, name)` of the pods.
    pub pods: Vec<(String, String)>,
}

/// The [`RestartedTogether`] groups among `pods`, grouped by health's rule
/// (`health::restart::restarted_together`) per node.
pub fn restarted_together(pods: &[Value]) -> Vec<RestartedTogether> {
    use crate::health::restart::RestartMark;
    let mut by_node: std::collections::BTreeMap<&str, Vec<RestartMark<(String, String)>>> =
        std::collections::BTreeMap::new();
    for p in pods {
        let node = s(p, "/spec/nodeName");
        let restarted: Vec<&Value> = container_statuses(p)
            .iter()
            .filter(|c| i(c, "/restartCount") > 0)
            .collect();
        let running_again = restarted
            .iter()
            .all(|c| c.pointer("/state/running").is_some());
        if node.is_empty() || restarted.is_empty() || !running_again {
            continue;
        }
        if let Some(at) = restarted.iter().filter_map(|c| last_restart_at(c)).max() {
            by_node.entry(node).or_default().push(RestartMark {
                key: (namespace(p).to_string(), name(p).to_string()),
                at,
                owner: workload_arg(p),
            });
        }
    }
    let mut out = Vec::new();
    for (node, marks) in by_node {
        let alive = |t: DateTime<Utc>| {
            pods.iter()
                .filter(|p| s(p, "/spec/nodeName") == node)
                .filter(|p| !matches!(s(p, "/status/phase"), "Succeeded" | "Failed"))
                .filter(|p| {
                    parse_time(s(p, "/status/startTime"))
                        .or_else(|| parse_time(s(p, "/metadata/creationTimestamp")))
                        .is_some_and(|st| st <= t)
                })
                .count()
        };
        for (at, pods) in crate::health::restart::restarted_together(&marks, alive) {
            out.push(RestartedTogether {
                node: node.to_string(),
                at,
                pods,
            });
        }
    }
    out
}

/// Whether a log line reads like an error (klog E/F, JSON level, common words).
pub fn is_error_line(line: &str) -> bool {
    let l = line.trim();
    if l.is_empty() {
        return false;
    }
    let bytes = l.as_bytes();
    let klog_err = (bytes[0] == b'E' || bytes[0] == b'F')
        && bytes.len() > 5
        && bytes[1..5].iter().all(u8::is_ascii_digit);
    let lower = l.to_lowercase();
    klog_err
        || [
            "panic:",
            "fatal",
            "[error]",
            "error:",
            "\"level\":\"error\"",
            "level=error",
            "exception",
            "traceback",
            "exec format error",
            "no such file or directory",
            "permission denied",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// The most telling error line of a log: the last error-looking line.
pub fn error_line(log: &str) -> Option<&str> {
    log.lines().rev().find(|l| is_error_line(l)).map(str::trim)
}

/// Liveness-probe kill events of a pod's container (`Killing … failed liveness probe`,
/// `Unhealthy Liveness probe failed: …`): the most informative message.
pub fn liveness_message(events: &[&Value], container: &str) -> Option<String> {
    let killed = events.iter().any(|e| {
        s(e, "/reason") == "Killing"
            && s(e, "/message").contains("failed liveness probe")
            && (container.is_empty() || s(e, "/message").contains(container))
    });
    let unhealthy = events.iter().find(|e| {
        s(e, "/reason") == "Unhealthy" && s(e, "/message").starts_with("Liveness probe failed")
    });
    match (killed, unhealthy) {
        (_, Some(u)) => Some(s(u, "/message").to_string()),
        (true, None) => Some(format!(
            "Container {container} failed liveness probe, will be restarted"
        )),
        _ => None,
    }
}

/// Classifies the restarts of container status `cs` of `pod`, with the pod's events and the
/// previous run's log when available.
pub fn classify(pod: &Value, cs: &Value, events: &[&Value], log: Option<&str>) -> RestartCause {
    let cname = s(cs, "/name");
    let (reason, exit, _, message) = last_terminated(cs).unwrap_or(("", 0, "", ""));
    let limit = container_spec(pod, cname)
        .and_then(|c| c.pointer("/resources/limits/memory"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if reason == "OOMKilled"
        || (exit == 137 && limit.is_some() && liveness_message(events, cname).is_none())
    {
        return RestartCause::OomKilled { limit };
    }
    let exec_err = log
        .and_then(|l| l.lines().find(|x| x.contains("exec format error")))
        .or_else(|| message.contains("exec format error").then_some(message));
    if exit == 127 || exit == 126 || exec_err.is_some() || reason == "ContainerCannotRun" {
        let detail = exec_err
            .map(str::to_string)
            .or_else(|| (!message.is_empty()).then(|| message.to_string()))
            .unwrap_or_else(|| match exit {
                127 => "exit code 127: command not found".into(),
                126 => "exit code 126: command not executable".into(),
                _ => format!("exit code {exit}"),
            });
        return RestartCause::BadCommand {
            exit_code: exit,
            detail: detail.trim().to_string(),
        };
    }
    if let Some(m) = liveness_message(events, cname)
        && (exit == 137
            || exit == 143
            || exit == 2
            || exit == 0
            || reason == "Error"
            || reason == "Completed")
    {
        return RestartCause::LivenessKilled { message: m };
    }
    if exit != 0
        && let Some(line) = log.and_then(error_line).or_else(|| {
            let m = message.trim();
            (!m.is_empty()).then_some(m)
        })
    {
        return RestartCause::AppError {
            exit_code: exit,
            line: line.to_string(),
        };
    }
    RestartCause::Unknown {
        exit_code: exit,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_with(limit: Option<&str>) -> Value {
        let mut c = json!({"name": "app", "image": "x"});
        if let Some(l) = limit {
            c["resources"] = json!({"limits": {"memory": l}});
        }
        json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [c]}})
    }

    fn cs(reason: &str, exit: i64) -> Value {
        json!({"name": "app", "restartCount": 5, "lastState": {"terminated": {"reason": reason, "exitCode": exit, "finishedAt": "2026-01-15T09:59:00Z"}}})
    }

    #[test]
    fn classification_follows_the_termination_and_the_log() {
        let p = pod_with(Some("128Mi"));
        assert_eq!(
            classify(&p, &cs("OOMKilled", 137), &[], None),
            RestartCause::OomKilled {
                limit: Some("128Mi".into())
            }
        );
        let c = classify(
            &pod_with(None),
            &cs("Error", 1),
            &[],
            Some("starting\npanic: config: missing DATABASE_URL\n"),
        );
        assert!(
            matches!(c, RestartCause::AppError { exit_code: 1, ref line } if line.contains("DATABASE_URL"))
        );
        let c = classify(
            &pod_with(None),
            &cs("Error", 1),
            &[],
            Some("exec /app/server: exec format error"),
        );
        assert!(matches!(c, RestartCause::BadCommand { .. }));
        let e = json!({"reason": "Unhealthy", "message": "Liveness probe failed: Get \"http://10.244.3.4:8080/healthz\": context deadline exceeded"});
        let c = classify(&pod_with(None), &cs("Error", 137), &[&e], None);
        assert!(matches!(c, RestartCause::LivenessKilled { .. }));
        assert!(!classify(&pod_with(None), &cs("Error", 1), &[], None).is_classified());
    }

    #[test]
    fn owners_resolve_to_deployments() {
        let p = json!({"metadata": {"name": "cart-abc12-xyz", "labels": {"pod-template-hash": "abc12"}, "ownerReferences": [{"kind": "ReplicaSet", "name": "cart-abc12", "controller": true}]}});
        assert_eq!(workload_arg(&p), "deployment/cart");
        let p = json!({"metadata": {"name": "solo"}});
        assert_eq!(workload_arg(&p), "pod/solo");
        assert_eq!(human(4000), "1h6m");
        assert!(is_error_line("E0115 09:59:01.000000       1 x.go:1] boom"));
        assert!(!is_error_line("I0115 09:59:01.000000       1 x.go:1] fine"));
    }
}
