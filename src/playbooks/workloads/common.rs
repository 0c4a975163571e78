//! Helpers the workload playbooks share: reading the typed pods and events of the
//! `Watched` queries (`kubectl get pods/events -A`, the lean model the watchers hold) —
//! container statuses, events of an object, owners — timestamps, the full pod of a few
//! suspects (`kubectl get pod NAME`, for the fields the lean model does not keep), and the
//! classification of why a container keeps restarting (OOMKilled, an application error in
//! its log, a bad command, liveness kills) that `crashloop` and `addon-restart-storm` both use,
//! and how often a container restarts now (its last run plus the kubelet's back-off) and which
//! pods of a node restarted together (a reboot or a runtime restart, not a storm).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::cluster::lean::{ContainerStatus, Event, MetaExt, Pod, StateTerminated};
use crate::playbooks::engine::q;
pub use crate::playbooks::engine::q::nodes;
use crate::playbooks::{Query, Results, Watched};

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

/// `kubectl get pods -A -o yaml`, read in the lean model ([`Results::pods`]).
pub fn pods_all() -> Query {
    q::watched(Watched::Pods)
}

/// `kubectl get events -A -o yaml`, read in the lean model ([`Results::events`]).
pub fn events_all() -> Query {
    q::watched(Watched::Events)
}

/// `kubectl get pod NAME -n NS -o yaml`: one pod in full, for the fields the lean model does
/// not keep (env, volumes, probes, pull secrets): asked for a few suspect pods only.
pub fn pod_get(ns: &str, pod: &str) -> Query {
    q::get("", "pods", Some(ns), pod)
}

/// The full pod a [`pod_get`] returned, when it was asked and answered.
pub fn pod_detail<'a>(r: &'a Results, ns: &str, pod: &str) -> Option<&'a Value> {
    r.objects(&pod_get(ns, pod)).first()
}

/// `metadata.name` of a pod or an event, `""` when absent.
pub fn name_of<T: kube::Resource>(o: &T) -> &str {
    o.meta().name_str()
}

/// `metadata.namespace` of a pod or an event, `""` when absent.
pub fn ns_of<T: kube::Resource>(o: &T) -> &str {
    o.meta().namespace_str()
}

/// An optional string field, `""` when absent.
pub fn st(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

/// `Pod/ns/name`.
pub fn pod_ref(ns: &str, pod: &str) -> String {
    format!("Pod/{ns}/{pod}")
}

/// Seconds from `t` to `now` (negative when `t` is in the future).
pub fn secs_since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    t.map(|t| (now - t).num_seconds())
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
pub fn container_statuses(pod: &Pod) -> &[ContainerStatus] {
    &pod.status.container_statuses
}

/// The reason a container waits with (`CrashLoopBackOff`), `""` when it does not wait.
pub fn waiting_reason(cs: &ContainerStatus) -> &str {
    cs.state
        .waiting
        .as_ref()
        .and_then(|w| w.reason.as_deref())
        .unwrap_or("")
}

/// The message of a waiting container, `""` when none.
pub fn waiting_message(cs: &ContainerStatus) -> &str {
    cs.state
        .waiting
        .as_ref()
        .and_then(|w| w.message.as_deref())
        .unwrap_or("")
}

/// When a running container started.
pub fn running_since(cs: &ContainerStatus) -> Option<DateTime<Utc>> {
    cs.state.running.as_ref().and_then(|r| r.started_at)
}

/// `restartCount`.
pub fn restarts(cs: &ContainerStatus) -> i64 {
    i64::from(cs.restart_count)
}

/// The memory limit of the pod's container named `c` (`spec.containers[c]`).
pub fn memory_limit(pod: &Pod, c: &str) -> Option<String> {
    pod.spec
        .containers
        .iter()
        .find(|x| x.name == c)
        .and_then(|x| x.resources.limits.memory.clone())
}

/// Events whose involvedObject is this kind/namespace/name, newest first (`ns` empty: any).
/// Kept apart from `identity_storage::common::events_for`, which orders by a different
/// timestamp precedence (see `event_time` here: the series before `eventTime`, then
/// `firstTimestamp`).
pub fn events_for<'a>(events: &'a [Arc<Event>], kind: &str, ns: &str, nm: &str) -> Vec<&'a Event> {
    let mut out: Vec<&Event> = events
        .iter()
        .map(|e| &**e)
        .filter(|e| {
            let o = &e.involved_object;
            st(&o.kind) == kind && st(&o.name) == nm && (ns.is_empty() || st(&o.namespace) == ns)
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    out
}

/// The newest timestamp of an event (lastTimestamp, series, eventTime, firstTimestamp).
pub fn event_time(e: &Event) -> Option<DateTime<Utc>> {
    e.last_timestamp
        .or_else(|| e.series.as_ref().and_then(|s| s.last_observed_time))
        .or(e.event_time)
        .or(e.first_timestamp)
        .or_else(|| e.metadata.created())
}

/// The event count (1 when absent).
pub fn event_count(e: &Event) -> i64 {
    e.count
        .or_else(|| e.series.as_ref().and_then(|s| s.count))
        .map_or(1, i64::from)
}

/// The workload that owns a pod, as `(kind, name)`: a ReplicaSet's Deployment is derived
/// from the ReplicaSet name (its `pod-template-hash` suffix removed).
pub fn owner_workload(pod: &Pod) -> Option<(String, String)> {
    let o = pod.metadata.controller_owner()?;
    let (kind, nm) = (o.kind.as_str(), o.name.as_str());
    if kind == "ReplicaSet" {
        let hash = pod.label("pod-template-hash").unwrap_or("");
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
pub fn workload_arg(pod: &Pod) -> String {
    match owner_workload(pod) {
        Some((k, n)) => format!("{}/{n}", k.to_lowercase()),
        None => format!("pod/{}", name_of(pod)),
    }
}

/// Whether every container of the pod says `ready` (false for a pod without statuses when
/// `need_one`).
pub fn all_ready(pod: &Pod, need_one: bool) -> bool {
    let cs = container_statuses(pod);
    !(need_one && cs.is_empty()) && cs.iter().all(|c| c.ready)
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

/// The last termination of a container status (`lastState.terminated`).
pub fn last_terminated(cs: &ContainerStatus) -> Option<&StateTerminated> {
    cs.last_state.terminated.as_deref()
}

/// Pods younger than this get no restarts-per-hour over their life (one restart in the first
/// minute is not 60/h): the health model's figure.
pub use crate::health::restart::MIN_OBSERVATION_SECS;
pub use crate::health::restart::{
    CurrentRate, backoff_in_message, kubelet_backoff_secs, lifetime_rate,
};

/// The [`CurrentRate`] of container status `cs` at `now` (health's arithmetic): its last run
/// (`lastState.terminated.startedAt`..`finishedAt`), the back-off it waits or waited, and the
/// time since it ended.
pub fn current_rate(cs: &ContainerStatus, now: DateTime<Utc>) -> Option<CurrentRate> {
    let rc = restarts(cs);
    let t = last_terminated(cs)?;
    let (started, finished) = (t.started_at?, t.finished_at?);
    let gap = if waiting_reason(cs) == "CrashLoopBackOff" {
        backoff_in_message(waiting_message(cs)).unwrap_or_else(|| kubelet_backoff_secs(rc))
    } else if let Some(r) = running_since(cs) {
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
pub fn last_restart_at(cs: &ContainerStatus) -> Option<DateTime<Utc>> {
    if restarts(cs) <= 0 {
        return None;
    }
    last_terminated(cs)
        .and_then(|t| t.finished_at)
        .or_else(|| running_since(cs))
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
pub fn restarted_together(pods: &[Arc<Pod>]) -> Vec<RestartedTogether> {
    use crate::health::restart::RestartMark;
    let mut by_node: std::collections::BTreeMap<&str, Vec<RestartMark<(String, String)>>> =
        std::collections::BTreeMap::new();
    for p in pods {
        let node = st(&p.spec.node_name);
        let restarted: Vec<&ContainerStatus> = container_statuses(p)
            .iter()
            .filter(|c| c.restart_count > 0)
            .collect();
        let running_again = restarted.iter().all(|c| c.state.running.is_some());
        if node.is_empty() || restarted.is_empty() || !running_again {
            continue;
        }
        if let Some(at) = restarted.iter().filter_map(|c| last_restart_at(c)).max() {
            by_node.entry(node).or_default().push(RestartMark {
                key: (ns_of(&**p).to_string(), name_of(&**p).to_string()),
                at,
                owner: workload_arg(p),
            });
        }
    }
    let mut out = Vec::new();
    for (node, marks) in by_node {
        let alive = |t: DateTime<Utc>| {
            pods.iter()
                .filter(|p| st(&p.spec.node_name) == node)
                .filter(|p| !matches!(st(&p.status.phase), "Succeeded" | "Failed"))
                .filter(|p| {
                    p.status
                        .start_time
                        .or_else(|| p.metadata.created())
                        .is_some_and(|s| s <= t)
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
pub fn liveness_message(events: &[&Event], container: &str) -> Option<String> {
    let killed = events.iter().any(|e| {
        st(&e.reason) == "Killing"
            && st(&e.message).contains("failed liveness probe")
            && (container.is_empty() || st(&e.message).contains(container))
    });
    let unhealthy = events.iter().find(|e| {
        st(&e.reason) == "Unhealthy" && st(&e.message).starts_with("Liveness probe failed")
    });
    match (killed, unhealthy) {
        (_, Some(u)) => Some(st(&u.message).to_string()),
        (true, None) => Some(format!(
            "Container {container} failed liveness probe, will be restarted"
        )),
        _ => None,
    }
}

/// Classifies the restarts of container status `cs` of `pod`, with the pod's events and the
/// previous run's log when available.
pub fn classify(
    pod: &Pod,
    cs: &ContainerStatus,
    events: &[&Event],
    log: Option<&str>,
) -> RestartCause {
    let cname = cs.name.as_str();
    let (reason, exit, message) = match last_terminated(cs) {
        Some(t) => (st(&t.reason), i64::from(t.exit_code), st(&t.message)),
        None => ("", 0, ""),
    };
    let limit = memory_limit(pod, cname);
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

/// The JSON readers `pending-unschedulable` still uses: it sums the resource requests of every
/// pod of a node, which the lean model does not keep, so it reads the pods as JSON.
pub mod json {
    use chrono::{DateTime, Utc};
    use serde_json::Value;

    use crate::playbooks::Query;
    use crate::playbooks::engine::q;
    use crate::playbooks::util::arr;
    pub use crate::playbooks::util::{name, parse_time, s};

    /// `kubectl get pods -A -o yaml` as JSON.
    pub fn pods_all() -> Query {
        q::core("pods", None)
    }

    /// `kubectl get events -A -o yaml` as JSON.
    pub fn events_all() -> Query {
        q::core("events", None)
    }

    /// Seconds from `t` to `now` (negative when `t` is in the future).
    pub fn secs_since(t: &str, now: DateTime<Utc>) -> Option<i64> {
        parse_time(t).map(|t| (now - t).num_seconds())
    }

    /// The container statuses of a pod (init containers excluded).
    pub fn container_statuses(pod: &Value) -> &[Value] {
        arr(pod, "/status/containerStatuses")
    }

    /// Events whose involvedObject is this kind/namespace/name, newest first (`ns` empty:
    /// any), dated as [`super::event_time`] dates the typed ones.
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

    /// The newest timestamp of an event (lastTimestamp, series, eventTime, firstTimestamp).
    fn event_time(e: &Value) -> Option<DateTime<Utc>> {
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

    /// `deployment/cart` style reference for kubectl, or `pod/NAME` when unowned (see
    /// [`super::workload_arg`]).
    pub fn workload_arg(pod: &Value) -> String {
        let owners = arr(pod, "/metadata/ownerReferences");
        let Some(o) = owners
            .iter()
            .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| owners.first())
        else {
            return format!("pod/{}", name(pod));
        };
        let (kind, nm) = (s(o, "/kind"), s(o, "/name"));
        if kind == "ReplicaSet" {
            let hash = s(pod, "/metadata/labels/pod-template-hash");
            if !hash.is_empty()
                && let Some(d) = nm.strip_suffix(&format!("-{hash}"))
            {
                return format!("deployment/{d}");
            }
            return format!("replicaset/{nm}");
        }
        format!("{}/{nm}", kind.to_lowercase())
    }
}

/// Test helpers: results whose pods and events are the lean answers of the `Watched` queries,
/// built from JSON as the API returns them.
#[cfg(test)]
pub mod testing {
    use serde_json::Value;

    use super::{events_all, pods_all};
    use crate::playbooks::{LeanObjects, Outcome, Results, Watched};

    /// Results holding `pods` and `events` as the typed queries answer them.
    pub fn lean_results(pods: &[Value], events: &[Value]) -> Results {
        let mut r = Results::default();
        set_pods(&mut r, pods);
        set_events(&mut r, events);
        r
    }

    /// Sets the pods of `r`.
    pub fn set_pods(r: &mut Results, pods: &[Value]) {
        r.by_query.insert(
            pods_all(),
            Outcome::Lean(LeanObjects::decode(Watched::Pods, pods)),
        );
    }

    /// Sets the events of `r`.
    pub fn set_events(r: &mut Results, events: &[Value]) {
        r.by_query.insert(
            events_all(),
            Outcome::Lean(LeanObjects::decode(Watched::Events, events)),
        );
    }

    /// Answers the pod gets among `queries` (a playbook's next round) from `pods`: the
    /// suspects read in full.
    pub fn answer_gets(r: &mut Results, queries: Vec<crate::playbooks::Query>, pods: &[Value]) {
        for q in queries {
            if let crate::playbooks::QueryKind::Get { name, .. } = &q.kind {
                let full = pods
                    .iter()
                    .find(|p| p["metadata"]["name"] == *name)
                    .cloned();
                r.by_query
                    .insert(q, Outcome::Objects(full.into_iter().collect()));
            }
        }
    }

    /// One pod decoded into the lean model.
    pub fn lean_pod(v: &Value) -> crate::cluster::lean::Pod {
        serde_json::from_value(v.clone()).expect("a pod")
    }

    /// One event decoded into the lean model.
    pub fn lean_event(v: &Value) -> crate::cluster::lean::Event {
        serde_json::from_value(v.clone()).expect("an event")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{lean_event, lean_pod};
    use super::*;
    use serde_json::json;

    fn pod_with(limit: Option<&str>) -> Pod {
        let mut c = json!({"name": "app", "image": "x"});
        if let Some(l) = limit {
            c["resources"] = json!({"limits": {"memory": l}});
        }
        lean_pod(
            &json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [c]}}),
        )
    }

    fn cs(reason: &str, exit: i64) -> ContainerStatus {
        serde_json::from_value(json!({"name": "app", "restartCount": 5, "lastState": {"terminated": {"reason": reason, "exitCode": exit, "finishedAt": "2026-01-15T09:59:00Z"}}})).unwrap()
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
        let e = lean_event(
            &json!({"reason": "Unhealthy", "message": "Liveness probe failed: Get \"http://10.244.3.4:8080/healthz\": context deadline exceeded"}),
        );
        let c = classify(&pod_with(None), &cs("Error", 137), &[&e], None);
        assert!(matches!(c, RestartCause::LivenessKilled { .. }));
        assert!(!classify(&pod_with(None), &cs("Error", 1), &[], None).is_classified());
    }

    #[test]
    fn owners_resolve_to_deployments() {
        let p = lean_pod(
            &json!({"metadata": {"name": "cart-abc12-xyz", "labels": {"pod-template-hash": "abc12"}, "ownerReferences": [{"kind": "ReplicaSet", "name": "cart-abc12", "controller": true}]}}),
        );
        assert_eq!(workload_arg(&p), "deployment/cart");
        let p = lean_pod(&json!({"metadata": {"name": "solo"}}));
        assert_eq!(workload_arg(&p), "pod/solo");
        assert_eq!(human(4000), "1h6m");
        assert!(is_error_line("E0115 09:59:01.000000       1 x.go:1] boom"));
        assert!(!is_error_line("I0115 09:59:01.000000       1 x.go:1] fine"));
    }

    /// A repeated event is dated and counted by its series when it has no lastTimestamp/count.
    #[test]
    fn events_are_dated_and_counted_by_their_series() {
        let e = lean_event(
            &json!({"metadata": {"name": "e", "creationTimestamp": "2026-01-15T09:00:00Z"},
            "eventTime": "2026-01-15T09:10:00Z",
            "series": {"count": 12, "lastObservedTime": "2026-01-15T09:50:00Z"}}),
        );
        assert_eq!(event_count(&e), 12);
        assert_eq!(event_time(&e), parse_time("2026-01-15T09:50:00Z"));
        let e = lean_event(&json!({"metadata": {"name": "e"}}));
        assert_eq!((event_count(&e), event_time(&e)), (1, None));
    }
}
