//! The restarts section: pods whose containers restarted, ranked worst first, then by restart
//! rate and count, with the last termination's reason and exit code.
//!
//! The rate is the honest one: restarts per hour over the pod's life, and, when the last run
//! of a container lasted only moments, how often it restarts *now* (its last run plus the
//! kubelet's back-off); below [`MIN_OBSERVATION_SECS`] of life the count is said, not a rate.
//! CrashLoopBackOff is critical; a restart within the last hour is a warning; restarts that
//! all lie more than an hour back, the container running since, are history (ok). Every pod
//! of a node restarting at the same instant is one item, the node's reboot or runtime restart
//! (a warning at most), not one item a pod. Capped at [`MAX_ITEMS`] items.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};

use super::common::{
    CurrentRate, MIN_OBSERVATION_SECS, RECENT_SECS, RestartMark, age_secs, ago, backoff_in_message,
    current_rate, human, kubelet_backoff_secs, lifetime_rate, one_line, pb, pod_object,
    restarted_together, unavailable,
};
use super::{HealthItem, Severity};
use crate::cluster::lean::{ContainerStatus, MetaExt, Pod};
use crate::cluster::state::ClusterState;

/// The most items the section holds (the rest are summarised in one line).
pub const MAX_ITEMS: usize = 50;
/// The most pods a reboot item names in its detail.
const MAX_NAMED_PODS: usize = 12;

struct Candidate<'a> {
    pod: &'a Pod,
    severity: Severity,
    restarts: i64,
    rate: Rate,
}

/// What can honestly be said of how often a pod restarts.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rate {
    /// Seconds since the pod started (`None` without a start time).
    life_secs: Option<i64>,
    /// Restarts per hour over its life; `None` below the observation window.
    lifetime: Option<f64>,
    /// The fastest-cycling container and how often it restarts now.
    current: Option<(String, CurrentRate)>,
}

impl Rate {
    /// The rate to rank and judge by: the larger of the two.
    fn honest(&self) -> Option<f64> {
        let now = self.current.as_ref().map(|(_, c)| c.per_hour);
        match (self.lifetime, now) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The current rate, when it says more than the lifetime one.
    fn current_if_higher(&self) -> Option<&CurrentRate> {
        let (_, c) = self.current.as_ref()?;
        (self.lifetime.is_none_or(|l| c.per_hour > l * 1.5)).then_some(c)
    }

    /// ` (2.0/h)`, ` (~144/h now, 2.0/h over 2d)`, ` (in its first 45s)`, or nothing.
    fn short(&self) -> String {
        match (self.current_if_higher(), self.lifetime, self.life_secs) {
            (Some(c), Some(l), Some(life)) => format!(
                " (~{}/h now, {}/h over {})",
                per_hour(c.per_hour),
                per_hour(l),
                human(life)
            ),
            (Some(c), _, _) => format!(" (~{}/h now)", per_hour(c.per_hour)),
            (None, Some(l), _) => format!(" ({}/h)", per_hour(l)),
            (None, None, Some(life)) => format!(" (in its first {})", human(life)),
            (None, None, None) => String::new(),
        }
    }

    /// The detail line: both rates and where the current one comes from.
    fn detail(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some((name, c)) = &self.current {
            parts.push(format!(
                "~{} restarts/hour now: {name} restarts every ~{} (its last run lasted {}, then a back-off of {})",
                per_hour(c.per_hour),
                human(c.cycle_secs),
                human(c.run_secs),
                human(c.gap_secs)
            ));
        }
        match (self.lifetime, self.life_secs) {
            (Some(l), Some(life)) => parts.push(format!(
                "{} restarts/hour over its {} of life",
                per_hour(l),
                human(life)
            )),
            (None, Some(life)) => parts.push(format!(
                "no rate over its life: it started {} ago (under {})",
                human(life),
                human(MIN_OBSERVATION_SECS)
            )),
            _ => {}
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// `144` for large rates, `10.9` for small ones, `<0.1` (never `0.0`: it restarted).
fn per_hour(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 0.05 {
        format!("{r:.1}")
    } else {
        "<0.1".to_string()
    }
}

/// A node whose pods all restarted at one instant.
struct Together<'a> {
    node: &'a str,
    at: DateTime<Utc>,
    pods: Vec<&'a Pod>,
    severity: Severity,
}

impl Together<'_> {
    fn containers(&self) -> usize {
        self.pods
            .iter()
            .flat_map(|p| p.all_container_statuses())
            .filter(|c| c.restart_count > 0)
            .count()
    }
}

enum Entry<'a> {
    Pod(Candidate<'a>),
    Node(Together<'a>),
}

impl Entry<'_> {
    fn severity(&self) -> Severity {
        match self {
            Entry::Pod(c) => c.severity,
            Entry::Node(t) => t.severity,
        }
    }
    fn rate(&self) -> f64 {
        match self {
            Entry::Pod(c) => c.rate.honest().unwrap_or(0.0),
            Entry::Node(_) => 0.0,
        }
    }
    fn restarts(&self) -> i64 {
        match self {
            Entry::Pod(c) => c.restarts,
            Entry::Node(t) => i64::try_from(t.pods.len()).unwrap_or(i64::MAX),
        }
    }
    fn title(&self) -> String {
        match self {
            Entry::Pod(c) => title(c.pod),
            Entry::Node(t) => format!("node {}", t.node),
        }
    }
}

pub(super) fn section(state: &ClusterState, now: DateTime<Utc>) -> Vec<HealthItem> {
    if let Some(item) = unavailable(state, "pods") {
        return vec![item];
    }
    let restarted: Vec<&Pod> = state
        .pods
        .iter()
        .map(|p| &**p)
        .filter(|p| p.restarts() > 0)
        .collect();
    if restarted.is_empty() {
        let reason = if state.pods.is_empty() {
            "the pod list is empty".to_string()
        } else {
            format!("no container has restarted ({} pods)", state.pods.len())
        };
        return vec![HealthItem::new(Severity::Ok, "No restarts", reason)];
    }
    let together = restarted_together_by_node(&state.pods, &restarted, now);
    let grouped: HashSet<*const Pod> = together
        .iter()
        .flat_map(|t| t.pods.iter().map(|p| std::ptr::from_ref(*p)))
        .collect();
    // One pass; nothing is formatted for pods that are not shown.
    let mut entries: Vec<Entry> = restarted
        .iter()
        .filter(|p| !grouped.contains(&std::ptr::from_ref(**p)))
        .map(|p| {
            Entry::Pod(Candidate {
                pod: p,
                severity: judge(p, now),
                restarts: p.restarts(),
                rate: rate(p, now),
            })
        })
        .chain(together.into_iter().map(Entry::Node))
        .collect();
    entries.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| b.rate().total_cmp(&a.rate()))
            .then_with(|| b.restarts().cmp(&a.restarts()))
            .then_with(|| a.title().cmp(&b.title()))
    });
    let hidden = entries.len().saturating_sub(MAX_ITEMS);
    let hidden_worst = entries
        .get(MAX_ITEMS..)
        .and_then(|rest| rest.iter().map(Entry::severity).max());
    let mut items: Vec<HealthItem> = entries
        .iter()
        .take(MAX_ITEMS)
        .map(|e| match e {
            Entry::Pod(c) => item(c, now),
            Entry::Node(t) => together_item(t, now),
        })
        .collect();
    if let Some(worst) = hidden_worst {
        items.push(HealthItem::new(
            worst,
            format!("+{hidden} more"),
            format!(
                "{hidden} more pods with restarts not shown (the worst of them: {})",
                worst.label()
            ),
        ));
    }
    items
}

fn title(p: &Pod) -> String {
    format!("{}/{}", p.metadata.namespace_str(), p.metadata.name_str())
}

fn pod_start(p: &Pod) -> Option<DateTime<Utc>> {
    p.status.start_time.or_else(|| p.metadata.created())
}

fn is_crashloop(c: &ContainerStatus) -> bool {
    c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) == Some("CrashLoopBackOff")
}

/// When a restarted container last restarted: its last termination, else (a capture without
/// `lastState`) when its current run started.
fn container_last_restart(c: &ContainerStatus) -> Option<DateTime<Utc>> {
    if c.restart_count <= 0 {
        return None;
    }
    [
        c.last_state.terminated.as_ref().and_then(|t| t.finished_at),
        c.state.terminated.as_ref().and_then(|t| t.finished_at),
    ]
    .into_iter()
    .flatten()
    .max()
    .or_else(|| c.state.running.as_ref().and_then(|r| r.started_at))
}

fn last_restart(p: &Pod) -> Option<DateTime<Utc>> {
    p.all_container_statuses()
        .filter_map(container_last_restart)
        .max()
}

/// How often container `c` restarts now (see [`current_rate`]).
fn container_current(c: &ContainerStatus, now: DateTime<Utc>) -> Option<CurrentRate> {
    let t = c.last_state.terminated.as_ref()?;
    let (started, finished) = (t.started_at?, t.finished_at?);
    let rc = i64::from(c.restart_count);
    let gap = if let Some(w) = c.state.waiting.as_ref().filter(|_| is_crashloop(c)) {
        w.message
            .as_deref()
            .and_then(backoff_in_message)
            .unwrap_or_else(|| kubelet_backoff_secs(rc))
    } else if let Some(s) = c.state.running.as_ref().and_then(|r| r.started_at) {
        (s - finished).num_seconds()
    } else {
        kubelet_backoff_secs(rc)
    };
    current_rate(
        rc,
        (finished - started).num_seconds(),
        gap,
        age_secs(now, finished),
    )
}

fn rate(p: &Pod, now: DateTime<Utc>) -> Rate {
    let life_secs = pod_start(p).map(|s| age_secs(now, s));
    let current = p
        .all_container_statuses()
        .filter_map(|c| container_current(c, now).map(|r| (c.name.clone(), r)))
        .max_by(|a, b| a.1.per_hour.total_cmp(&b.1.per_hour));
    Rate {
        life_secs,
        lifetime: life_secs.and_then(|l| lifetime_rate(p.restarts(), l)),
        current,
    }
}

fn judge(p: &Pod, now: DateTime<Utc>) -> Severity {
    if p.waiting_with("CrashLoopBackOff").is_some() {
        return Severity::Critical;
    }
    if last_restart(p).is_some_and(|f| age_secs(now, f) < RECENT_SECS) {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// Pods of one node that restarted at one instant (a host reboot or a runtime restart), found
/// among `restarted` pods that run again now; `all` gives how many pods each node ran then.
fn restarted_together_by_node<'a>(
    all: &'a [std::sync::Arc<Pod>],
    restarted: &[&'a Pod],
    now: DateTime<Utc>,
) -> Vec<Together<'a>> {
    let mut marks: HashMap<&str, Vec<RestartMark<&'a Pod>>> = HashMap::new();
    for p in restarted {
        let Some(node) = p.spec.node_name.as_deref() else {
            continue;
        };
        let running_again = p
            .all_container_statuses()
            .filter(|c| c.restart_count > 0)
            .all(|c| c.state.running.is_some() && !is_crashloop(c));
        if let (true, Some(at)) = (running_again, last_restart(p)) {
            let owner = p
                .metadata
                .controller_owner()
                .map(|o| format!("{}/{}", o.kind, o.name))
                .unwrap_or_else(|| title(p));
            marks
                .entry(node)
                .or_default()
                .push(RestartMark { key: *p, at, owner });
        }
    }
    if marks.is_empty() {
        return Vec::new();
    }
    // Pods that ran on each node (not finished), by start time.
    let mut starts: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for p in all {
        let finished = matches!(p.status.phase.as_deref(), Some("Succeeded" | "Failed"));
        if let (Some(node), Some(s), false) = (p.spec.node_name.as_deref(), pod_start(p), finished)
            && marks.contains_key(node)
        {
            starts.entry(node).or_default().push(s);
        }
    }
    let mut out = Vec::new();
    for (node, node_marks) in &marks {
        let node_starts = starts.get(node).map(Vec::as_slice).unwrap_or_default();
        let alive = |t: DateTime<Utc>| node_starts.iter().filter(|s| **s <= t).count();
        for (at, pods) in restarted_together(node_marks, alive) {
            let severity = if age_secs(now, at) < RECENT_SECS {
                Severity::Warning
            } else {
                Severity::Ok
            };
            out.push(Together {
                node,
                at,
                pods,
                severity,
            });
        }
    }
    out
}

fn together_item(t: &Together, now: DateTime<Utc>) -> HealthItem {
    let n = t.containers();
    let when = t.at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let since = if t.severity == Severity::Ok {
        ", all running since (history)"
    } else {
        ""
    };
    let reason = format!(
        "node {} rebooted or its container runtime restarted {} ago ({when}): {n} containers in {} pods restarted together{since}",
        t.node,
        ago(now, t.at),
        t.pods.len()
    );
    let mut names: Vec<String> = t.pods.iter().map(|p| title(p)).collect();
    names.sort();
    let more = names.len().saturating_sub(MAX_NAMED_PODS);
    names.truncate(MAX_NAMED_PODS);
    let mut pods = names.join(", ");
    if more > 0 {
        pods.push_str(&format!(" and {more} more"));
    }
    HealthItem::new(t.severity, format!("node {}", t.node), reason)
        .with_object(format!("Node/{}", t.node))
        .with_detail("Node", t.node)
        .with_detail("Restarted at", when)
        .with_detail("Pods", pods)
        .with_detail(
            "Why one item",
            "every container of the node terminated within a minute of the others and runs again: \
             one host reboot or container-runtime restart, not each pod failing \
             (check `journalctl -b -1` / `last reboot` on the node)",
        )
}

fn item(c: &Candidate, now: DateTime<Utc>) -> HealthItem {
    let p = c.pod;
    let n = c.restarts;
    let plural = if n == 1 { "restart" } else { "restarts" };
    let rate_text = c.rate.short();
    let last = p.last_termination();
    let exit_text = last
        .map(|(_, t)| {
            format!("exit {} {}", t.exit_code, t.reason.as_deref().unwrap_or(""))
                .trim_end()
                .to_string()
        })
        .unwrap_or_default();
    let last_age = last_restart(p).map(|f| ago(now, f));
    let reason = match c.severity {
        Severity::Critical => {
            let mut r = format!("CrashLoopBackOff: {n} {plural}{rate_text}");
            if !exit_text.is_empty() {
                r.push_str(&format!(", last {exit_text}"));
            }
            r
        }
        Severity::Warning => format!(
            "{n} {plural}{rate_text}, last {} ago: {}",
            last_age.as_deref().unwrap_or("?"),
            if exit_text.is_empty() {
                "exit unknown"
            } else {
                &exit_text
            }
        ),
        _ => match &last_age {
            Some(a) => format!("{n} {plural}, none in the last hour (last {a} ago)"),
            None => format!("{n} {plural}, last termination time unknown"),
        },
    };

    let mut item = HealthItem::new(c.severity, title(p), reason).with_object(pod_object(p));
    if c.severity >= Severity::Warning {
        let ns = p.metadata.namespace_str();
        let mut playbooks = vec![pb::CRASHLOOP];
        if p.label("tier") == Some("control-plane") {
            playbooks.push(pb::STATIC_POD);
        }
        if ns == "kube-system" || ns.contains("ingress") {
            playbooks.push(pb::ADDON_STORM);
        }
        item = item.with_playbooks(&playbooks);
    }
    item = item
        .with_detail("Namespace", p.metadata.namespace_str())
        .with_detail("Node", p.spec.node_name.as_deref().unwrap_or("(none)"))
        .with_detail("Restarts", n.to_string());
    if let Some(r) = c.rate.detail() {
        item = item.with_detail("Rate", r);
    }
    if let Some(s) = p.status.start_time {
        item = item.with_detail("Started", format!("{} ago", ago(now, s)));
    }
    if let Some((cs, t)) = last {
        let when = t
            .finished_at
            .map(|f| format!(", {} ago", human(age_secs(now, f))))
            .unwrap_or_default();
        item = item.with_detail(
            "Last termination",
            format!("{}: {exit_text}{when}", cs.name),
        );
        if let Some(m) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
            item = item.with_detail("Termination message", one_line(m, 200));
        }
    }
    if let Some(cs) = p.waiting_with("CrashLoopBackOff")
        && let Some(m) = cs.state.waiting.as_ref().and_then(|w| w.message.as_deref())
    {
        item = item.with_detail("Waiting", format!("{}: {}", cs.name, one_line(m, 200)));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::fixtures::*;
    use serde_json::{Value, json};

    #[test]
    fn crashloop_is_critical_with_rate_exit_code_and_reason() {
        // Started 2 days ago: 96 restarts → 2.0/h over its life; its last run lasted 30 s and
        // the kubelet now backs off 5 min, so it restarts every 5m30s → ~10.9/h now.
        let p = crashlooping(pod("shop", "cart-1", "w-1"), 96, 30, 137, "OOMKilled");
        let items = section(&healthy_with(|_| false, vec![p]), now());
        let i = &items[0];
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(i.title, "shop/cart-1");
        assert_eq!(
            i.reason,
            "CrashLoopBackOff: 96 restarts (~10.9/h now, 2.0/h over 2d), last exit 137 OOMKilled"
        );
        assert_eq!(i.object.as_deref(), Some("Pod/shop/cart-1"));
        assert_eq!(i.playbooks, ["crashloop"]);
    }

    #[test]
    fn restarts_long_ago_are_ok_negative_control() {
        let items = section(&healthy_cluster(), now());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].severity, Severity::Ok);
        assert_eq!(
            items[0].reason,
            "2 restarts, none in the last hour (last 3d ago)"
        );
        assert!(items[0].playbooks.is_empty());
    }

    #[test]
    fn a_recent_restart_warns_and_ranks_by_rate() {
        let slow = restarted(pod("a", "slow", "w-1"), 3, 600, 1, "Error");
        let fast = restarted(pod("b", "fast", "w-1"), 30, 120, 1, "Error");
        let items = section(&healthy_with(|_| false, vec![slow, fast]), now());
        assert_eq!(items[0].title, "b/fast");
        assert_eq!(items[1].title, "a/slow");
        assert_eq!(items[1].severity, Severity::Warning);
        assert_eq!(
            items[1].reason,
            "3 restarts (~6.0/h now, 0.1/h over 2d), last 10m ago: exit 1 Error"
        );
        assert_eq!(
            items[2].severity,
            Severity::Ok,
            "the old restart comes last"
        );
    }

    #[test]
    fn system_and_control_plane_pods_point_at_their_playbooks() {
        let dns = crashlooping(
            deploy_pod("kube-system", "coredns", "x", "w-1"),
            5,
            10,
            1,
            "Error",
        );
        let api = restarted(static_pod("kube-apiserver", "cp-1"), 7, 100, 137, "Error");
        let state = healthy_with(|v| is(v, "Pod", "kube-apiserver-cp-1"), vec![dns, api]);
        let items = section(&state, now());
        let api = items
            .iter()
            .find(|i| i.title == "kube-system/kube-apiserver-cp-1")
            .unwrap();
        assert_eq!(
            api.playbooks,
            [
                "crashloop",
                "static-pod-liveness-mismatch",
                "addon-restart-storm"
            ]
        );
        let dns = items
            .iter()
            .find(|i| i.title.starts_with("kube-system/coredns"))
            .unwrap();
        assert_eq!(dns.playbooks, ["crashloop", "addon-restart-storm"]);
    }

    #[test]
    fn no_restarts_and_no_pods_are_both_said() {
        let state = healthy_with(|v| is(v, "Pod", "web-5d8c7b9f6d-ccccc"), vec![]);
        let items = section(&state, now());
        assert_eq!(items.len(), 1);
        assert!(items[0].reason.starts_with("no container has restarted"));
        let items = section(&ClusterState::default(), now());
        assert_eq!(items[0].reason, "the pod list is empty");
    }

    #[test]
    fn the_section_is_capped_with_a_summary_line() {
        let pods: Vec<_> = (0..60)
            .map(|i| {
                restarted(
                    // One a node: not a node's pods restarting together.
                    pod("load", &format!("p-{i:02}"), &format!("w-{i}")),
                    1 + i,
                    300,
                    1,
                    "Error",
                )
            })
            .collect();
        let items = section(&state_of(&pods), now());
        assert_eq!(items.len(), MAX_ITEMS + 1);
        assert_eq!(items[0].title, "load/p-59", "highest rate first");
        let last = items.last().unwrap();
        assert_eq!(last.title, "+10 more");
        assert_eq!(last.severity, Severity::Warning);
    }

    /// A container of a pod started `life` seconds ago that restarted `count` times; its last
    /// run lasted `run` seconds and ended `ended` seconds ago; `state` is its state now.
    fn cycling(name: &str, life: i64, count: i64, run: i64, ended: i64, state: Value) -> Value {
        let mut v = pod("shop", name, "w-1");
        v["metadata"]["creationTimestamp"] = json!(before(life));
        v["status"]["startTime"] = json!(before(life));
        let cs = &mut v["status"]["containerStatuses"][0];
        cs["restartCount"] = json!(count);
        cs["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
            "startedAt": before(ended + run), "finishedAt": before(ended)}});
        cs["state"] = state;
        v
    }

    fn crashloop_state(backoff: &str) -> Value {
        json!({"waiting": {"reason": "CrashLoopBackOff",
            "message": format!("back-off {backoff} restarting failed container=main pod=x")}})
    }

    #[test]
    fn a_container_dying_every_15s_is_rated_by_its_cycle_not_its_life() {
        // 30 days old, restarted 20 times; the last run lasted 15 s, the kubelet waits 10 s.
        let p = cycling("fast", 30 * 86_400, 20, 15, 5, crashloop_state("10s"));
        let items = section(&state_of(&[p]), now());
        let i = &items[0];
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(
            i.reason,
            "CrashLoopBackOff: 20 restarts (~144/h now, <0.1/h over 30d), last exit 1 Error"
        );
        assert!(!i.reason.contains(" 0.0/h"));
        let rate = &i.details.iter().find(|(k, _)| k == "Rate").unwrap().1;
        assert!(
            rate.starts_with("~144 restarts/hour now: main restarts every ~25s (its last run lasted 15s, then a back-off of 10s)"),
            "{rate}"
        );
        // Running again for 2 s after a back-off of 10 s, the same cycle: never 0.0/h.
        let running = json!({"running": {"startedAt": before(2)}});
        let p = cycling("fast", 30 * 86_400, 20, 15, 12, running);
        let items = section(&state_of(&[p]), now());
        assert_eq!(items[0].severity, Severity::Warning);
        assert!(
            items[0]
                .reason
                .starts_with("20 restarts (~144/h now, <0.1/h over 30d), last 12s ago"),
            "{}",
            items[0].reason
        );
    }

    #[test]
    fn a_young_pod_gets_a_count_not_an_inflated_rate() {
        // One restart 40 s into a pod's life: not "10.0/h", not "60/h".
        let running = json!({"running": {"startedAt": before(10)}});
        let p = cycling("young", 60, 1, 40, 15, running);
        let items = section(&state_of(&[p]), now());
        assert_eq!(items[0].severity, Severity::Warning);
        assert_eq!(
            items[0].reason,
            "1 restart (in its first 60s), last 15s ago: exit 1 Error"
        );
        // Past the observation window, the same count over the pod's life is a rate.
        let running = json!({"running": {"startedAt": before(10 * 60)}});
        let p = cycling("older", 2 * 3600, 1, 3000, 10 * 60, running);
        let items = section(&state_of(&[p]), now());
        assert!(
            items[0].reason.starts_with("1 restart (0.5/h)"),
            "{}",
            items[0].reason
        );
    }

    /// Pods of several workloads on `node`, each restarted once `secs_ago` (give or take a few
    /// seconds) and running since.
    fn rebooted(node: &str, n: usize, secs_ago: i64) -> Vec<Value> {
        (0..n)
            .map(|i| {
                let p = owned(
                    pod("apps", &format!("{node}-app-{i}"), node),
                    "ReplicaSet",
                    &format!("app-{i}"),
                );
                let offset = i64::try_from(i % 7).unwrap_or(0) * 4;
                restarted(
                    p,
                    1 + i64::try_from(i).unwrap_or(0),
                    secs_ago + offset,
                    255,
                    "Unknown",
                )
            })
            .collect()
    }

    #[test]
    fn a_node_whose_pods_all_restarted_at_once_is_one_reboot_item() {
        let mut objs = rebooted("w-2", 9, 12 * 60);
        objs.push(ds_pod("kube-system", "kube-proxy", "pw2", "w-2"));
        let items = section(&state_of(&objs), now());
        // kube-proxy did not restart: 9 of 10 pods is still the node.
        assert_eq!(items.len(), 1, "{items:#?}");
        let i = &items[0];
        assert_eq!(i.severity, Severity::Warning, "a warning at most");
        assert_eq!(i.title, "node w-2");
        assert_eq!(i.object.as_deref(), Some("Node/w-2"));
        assert!(
            i.reason.starts_with(
                "node w-2 rebooted or its container runtime restarted 12m ago (2026-01-15T09:47:36Z): 9 containers in 9 pods restarted together"
            ),
            "{}",
            i.reason
        );
        // Days ago, running since: history.
        let items = section(&state_of(&rebooted("w-3", 5, 3 * 86_400)), now());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].severity, Severity::Ok);
        assert!(
            items[0].reason.ends_with("(history)"),
            "{}",
            items[0].reason
        );
    }

    #[test]
    fn restarts_at_one_instant_that_are_not_a_whole_node_stay_pod_items() {
        // Negative controls. Three replicas of one workload crashing together: a bug in it.
        let same: Vec<Value> = (0..3)
            .map(|i| {
                let p = deploy_pod("shop", "cart", &format!("r{i}"), "w-1");
                restarted(p, 4, 300 + i, 1, "Error")
            })
            .collect();
        let items = section(&state_of(&same), now());
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.title.starts_with("shop/cart")));
        // Three pods of a node of ten restarting together: not the node.
        let mut objs = rebooted("w-4", 3, 300);
        objs.extend((0..7).map(|i| pod("apps", &format!("calm-{i}"), "w-4")));
        let items = section(&state_of(&objs), now());
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.title.starts_with("apps/w-4-app")));
        // One of them crash-looping is not running again: it is its own item.
        let mut objs = rebooted("w-5", 5, 300);
        objs.push(crashlooping(
            owned(pod("apps", "loop", "w-5"), "ReplicaSet", "loop"),
            9,
            302,
            1,
            "Error",
        ));
        let items = section(&state_of(&objs), now());
        assert_eq!(items.len(), 2, "{items:#?}");
        assert_eq!(items[0].title, "apps/loop");
        assert_eq!(items[0].severity, Severity::Critical);
        assert_eq!(items[1].title, "node w-5");
    }

    #[test]
    fn old_restarts_then_a_long_run_are_history() {
        // The corpus control: hundreds of restarts, the last 3 days ago, running since.
        let p = with(
            static_pod("kube-scheduler", "cp-1"),
            json!({"status": {"containerStatuses": [{"name": "main", "ready": true,
                "restartCount": 279, "state": {"running": {"startedAt": before(3 * 86_400)}},
                "lastState": {"terminated": {"finishedAt": before(3 * 86_400)}}}]}}),
        );
        let items = section(&state_of(&[p]), now());
        assert_eq!(items[0].severity, Severity::Ok);
        assert_eq!(
            items[0].reason,
            "279 restarts, none in the last hour (last 3d ago)"
        );
        assert!(items[0].playbooks.is_empty());
        // Without lastState, the current run's start is the last restart.
        let p = with(
            pod("shop", "web", "w-1"),
            json!({"status": {"containerStatuses": [{"name": "main", "ready": true,
                "restartCount": 4, "state": {"running": {"startedAt": before(86_400)}}}]}}),
        );
        let items = section(&state_of(&[p]), now());
        assert_eq!(items[0].severity, Severity::Ok);
        assert!(
            items[0].reason.ends_with("(last 24h ago)"),
            "{}",
            items[0].reason
        );
        let p = with(
            pod("shop", "web", "w-1"),
            json!({"status": {"containerStatuses": [{"name": "main", "ready": true,
                "restartCount": 4, "state": {"running": {"startedAt": before(120)}}}]}}),
        );
        let items = section(&state_of(&[p]), now());
        assert_eq!(items[0].severity, Severity::Warning);
    }

    #[test]
    fn restart_arithmetic_follows_the_kubelet() {
        use crate::health::common::{
            backoff_in_message, current_rate, go_duration_secs, kubelet_backoff_secs, lifetime_rate,
        };
        assert_eq!(
            (1..=7).map(kubelet_backoff_secs).collect::<Vec<_>>(),
            [10, 20, 40, 80, 160, 300, 300]
        );
        assert_eq!(go_duration_secs("5m0s"), Some(300));
        assert_eq!(go_duration_secs("2m40s"), Some(160));
        assert_eq!(go_duration_secs("1h0m0s"), Some(3600));
        assert_eq!(go_duration_secs("5x"), None);
        assert_eq!(go_duration_secs("40"), None);
        assert_eq!(go_duration_secs(""), None);
        assert_eq!(
            backoff_in_message("back-off 2m40s restarting failed container=a pod=b"),
            Some(160)
        );
        assert_eq!(backoff_in_message("nothing here"), None);
        assert_eq!(current_rate(1, 15, 10, 5), None, "one restart is no rate");
        assert_eq!(
            current_rate(5, 2 * 3600, 10, 5),
            None,
            "a long run is no cycle"
        );
        assert_eq!(current_rate(5, 15, 10, 2 * 3600), None, "not recent");
        assert_eq!(current_rate(5, 15, 10, 5).map(|c| c.cycle_secs), Some(25));
        assert_eq!(
            current_rate(5, 15, 10, 600).map(|c| c.cycle_secs),
            Some(600)
        );
        assert_eq!(lifetime_rate(1, 60), None);
        assert_eq!(lifetime_rate(2, 3600), Some(2.0));
    }
}
