//! The control-plane section: leader leases of kube-controller-manager and kube-scheduler,
//! apiserver identity leases against apiserver pods, `/readyz?verbose`, and the readiness and
//! restarts of the control-plane static pods.
//!
//! A fresh leader lease is healthy whatever the standbys log ("attempting to acquire leader
//! lease" is what a standby is supposed to say).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::common::{
    RECENT_SECS, age_secs, ago, human, one_line, pb, pod_object, sort_items, unavailable,
};
use super::{HealthItem, Severity};
use crate::cluster::lean::{Lease, MetaExt, Pod};
use crate::cluster::state::ClusterState;

/// The leader-elected components, by lease name (also the static pod's name prefix).
const LEADERS: [&str; 2] = ["kube-controller-manager", "kube-scheduler"];
/// Default `leaseDurationSeconds` of kcm/scheduler leader election.
const LEADER_DEFAULT_DURATION: i64 = 15;
/// Default `leaseDurationSeconds` of apiserver identity leases.
const IDENTITY_DEFAULT_DURATION: i64 = 3600;
/// Leadership changes at or above this count, with the last one within the hour, are a flap.
const TRANSITIONS_WARN: i32 = 5;
const IDENTITY_LABEL: &str = "apiserver.kubernetes.io/identity";

pub(super) fn section(state: &ClusterState, now: DateTime<Utc>) -> Vec<HealthItem> {
    let mut items = Vec::new();
    let pods_blocked = unavailable(state, "pods");
    let leases_blocked = unavailable(state, "leases");

    // One pass over kube-system pods: control-plane pods grouped by component.
    let mut cp_pods: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    if pods_blocked.is_none() {
        for p in &state.pods {
            if p.metadata.namespace_str() != "kube-system" {
                continue;
            }
            let component = p.label("component");
            let tier = p.label("tier");
            if tier != Some("control-plane") && component.is_none_or(|c| !is_cp_component(c)) {
                continue;
            }
            let component = component
                .map(str::to_string)
                .unwrap_or_else(|| component_from_name(p));
            cp_pods.entry(component).or_default().push(p);
        }
    }

    match leases_blocked {
        Some(item) => items.push(item),
        None => {
            let kube_system: HashMap<&str, &Lease> = state
                .leases
                .iter()
                .filter(|l| l.metadata.namespace_str() == "kube-system")
                .map(|l| (l.metadata.name_str(), l.as_ref()))
                .collect();
            for name in LEADERS {
                items.push(leader_item(
                    name,
                    kube_system.get(name).copied(),
                    kube_system.is_empty() && cp_pods.is_empty(),
                    cp_pods.get(name).map(Vec::as_slice),
                    now,
                ));
            }
            if pods_blocked.is_none()
                && let Some(item) = apiservers_item(state, cp_pods.get("kube-apiserver"), now)
            {
                items.push(item);
            }
        }
    }

    if let Some(item) = readyz_item(state) {
        items.push(item);
    }

    match pods_blocked {
        Some(item) => items.push(item),
        None => {
            for (component, pods) in &cp_pods {
                static_pod_items(component, pods, now, &mut items);
            }
        }
    }

    sort_items(&mut items);
    items
}

fn is_cp_component(c: &str) -> bool {
    matches!(
        c,
        "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "etcd"
    )
}

/// `kube-scheduler-cp-1` on node `cp-1` → `kube-scheduler`.
fn component_from_name(p: &Pod) -> String {
    let name = p.metadata.name_str();
    p.spec
        .node_name
        .as_deref()
        .and_then(|n| name.strip_suffix(n))
        .and_then(|s| s.strip_suffix('-'))
        .unwrap_or(name)
        .to_string()
}

fn leader_item(
    name: &str,
    lease: Option<&Lease>,
    nothing_visible: bool,
    component_pods: Option<&[&Pod]>,
    now: DateTime<Utc>,
) -> HealthItem {
    let title = format!("{name} leader");
    let object = format!("Lease/kube-system/{name}");
    let Some(lease) = lease else {
        if nothing_visible {
            return HealthItem::new(
                Severity::Unknown,
                title,
                "no leases or control-plane pods in kube-system are visible \
                 (a managed control plane, or not captured)",
            )
            .with_object(object);
        }
        return HealthItem::new(
            Severity::Critical,
            title,
            format!(
                "lease kube-system/{name} does not exist: no {name} has ever become leader \
                 (is it running and able to reach the API server?)"
            ),
        )
        .with_object(object)
        .with_playbooks(&[pb::LEADER_LEASE, pb::CP_PROXY]);
    };

    let spec = &lease.spec;
    let duration = spec
        .lease_duration_seconds
        .map_or(LEADER_DEFAULT_DURATION, i64::from);
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
    // holderIdentity is `NODE_uuid`; node names cannot contain '_'.
    let holder_node = holder.map(|h| h.split('_').next().unwrap_or(h));
    let transitions = spec.lease_transitions.unwrap_or(0);
    let renewed = spec.renew_time.or(spec.acquire_time);

    let mut item = HealthItem::new(Severity::Ok, title, "").with_object(object);
    item = item
        .with_detail("Holder", holder.unwrap_or("(none)"))
        .with_detail(
            "Renewed",
            renewed.map_or("never".into(), |t| format!("{} ago", ago(now, t))),
        )
        .with_detail("Lease duration", format!("{duration}s"))
        .with_detail("Transitions", transitions.to_string());
    if let Some(t) = spec.acquire_time {
        item = item.with_detail("Acquired", format!("{} ago", ago(now, t)));
    }

    let stale = |reason: String, item: HealthItem| HealthItem {
        severity: Severity::Critical,
        reason,
        ..item.with_playbooks(&[pb::LEADER_LEASE, pb::CP_PROXY])
    };
    let Some(holder_node) = holder_node else {
        return stale(
            format!("no holder: leadership was released and no {name} took it"),
            item,
        );
    };
    let Some(renewed) = renewed else {
        return stale(format!("held by {holder_node} but never renewed"), item);
    };
    let age = age_secs(now, renewed);
    if age > duration {
        return stale(
            format!(
                "not renewed for {} (lease {duration}s): {holder_node} stopped leading and no \
                 standby took over",
                human(age)
            ),
            item,
        );
    }

    // Fresh. Is the holder a running pod? Only judged when the component's pods are visible.
    if let Some(pods) = component_pods.filter(|p| !p.is_empty()) {
        let expected = format!("{name}-{holder_node}");
        let running = pods
            .iter()
            .any(|p| p.metadata.name_str() == expected && p.is_running());
        if !running {
            item.severity = Severity::Warning;
            item.reason = format!(
                "held by {holder_node}, but no running {expected} pod: the holder may be a \
                 process outside the cluster's view or a stuck leader"
            );
            return item.with_playbooks(&[pb::LEADER_LEASE]);
        }
    }

    if transitions >= TRANSITIONS_WARN
        && let Some(acquired) = spec.acquire_time
        && age_secs(now, acquired) < RECENT_SECS
    {
        item.severity = Severity::Warning;
        item.reason = format!(
            "leadership changed {transitions} times, last {} ago (now {holder_node}): renew \
             deadlines are being missed",
            ago(now, acquired)
        );
        return item.with_playbooks(&[pb::LEADER_LEASE]);
    }

    item.reason = format!(
        "held by {holder_node}, renewed {} ago (lease {duration}s), {transitions} transitions",
        human(age)
    );
    item
}

fn apiservers_item(
    state: &ClusterState,
    pods: Option<&Vec<&Pod>>,
    now: DateTime<Utc>,
) -> Option<HealthItem> {
    let mut fresh = Vec::new();
    let mut stale = Vec::new();
    for l in &state.leases {
        if l.metadata.label(IDENTITY_LABEL) != Some("kube-apiserver") {
            continue;
        }
        let duration = l
            .spec
            .lease_duration_seconds
            .map_or(IDENTITY_DEFAULT_DURATION, i64::from);
        let who = l
            .metadata
            .label("kubernetes.io/hostname")
            .unwrap_or(l.metadata.name_str());
        match l.spec.renew_time {
            Some(t) if age_secs(now, t) <= duration => {
                fresh.push(format!("{who} (renewed {} ago)", ago(now, t)))
            }
            Some(t) => stale.push(format!("{who} (renewed {} ago)", ago(now, t))),
            None => stale.push(format!("{who} (never renewed)")),
        }
    }
    let pods: &[&Pod] = pods.map_or(&[], Vec::as_slice);
    let running = pods.iter().filter(|p| p.is_running()).count();
    if fresh.is_empty() && stale.is_empty() && pods.is_empty() {
        return None;
    }
    let (f, r) = (fresh.len(), running);
    let mut item = if pods.is_empty() {
        HealthItem::new(
            Severity::Ok,
            "API servers",
            format!("{f} API server(s) heartbeating (identity leases; no apiserver pods visible)"),
        )
    } else if f == 0 && stale.is_empty() {
        HealthItem::new(
            Severity::Ok,
            "API servers",
            format!(
                "{r}/{} kube-apiserver pods running (no identity leases to compare)",
                pods.len()
            ),
        )
    } else if f != r {
        HealthItem::new(
            Severity::Warning,
            "API servers",
            format!(
                "{r} kube-apiserver pods running but {f} fresh identity leases: an API server \
                 is not heartbeating or is not the one you think"
            ),
        )
        .with_playbooks(&[pb::HA_ENDPOINTS])
    } else {
        HealthItem::new(
            Severity::Ok,
            "API servers",
            format!("{r} API server(s): pods running and identity leases fresh"),
        )
    };
    for p in pods {
        item = item.with_detail(
            "Pod",
            format!(
                "{} ({})",
                p.metadata.name_str(),
                p.status.phase.as_deref().unwrap_or("phase unknown")
            ),
        );
    }
    for l in fresh {
        item = item.with_detail("Identity lease", l);
    }
    for l in stale {
        item = item.with_detail("Stale identity lease", l);
    }
    Some(item)
}

/// The last `/readyz` answer, once the server stopped answering, is history: unknown, with
/// its age, never still "all checks pass".
pub(super) fn readyz_staleness(
    state: &ClusterState,
    item: HealthItem,
    now: DateTime<Utc>,
) -> HealthItem {
    if item.object.as_deref() != Some(READYZ_OBJECT) {
        return item;
    }
    let Some(crate::cluster::SyncState::Stale { error, since, .. }) = state.sync_of("readyz")
    else {
        return item;
    };
    let age = super::common::ago(now, *since);
    let mut stale = HealthItem::new(
        Severity::Unknown,
        item.title.clone(),
        format!(
            "{}; no answer for {age}, last answer: {}",
            super::common::headline(error),
            item.reason
        ),
    );
    stale.object = item.object.clone();
    stale.playbooks = item.playbooks.clone();
    stale.details = item.details.clone();
    stale.with_detail(
        "Stale since",
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

const READYZ_OBJECT: &str = "/readyz?verbose";

fn readyz_item(state: &ClusterState) -> Option<HealthItem> {
    let Some(body) = state.readyz.as_deref() else {
        return unavailable(state, "readyz");
    };
    let title = "API server readiness";
    let object = READYZ_OBJECT;
    let mut failing = Vec::new();
    let mut passing = 0usize;
    for line in body.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("[-]") {
            failing.push(rest);
        } else if line.starts_with("[+]") {
            passing += 1;
        }
    }
    let names: Vec<&str> = failing
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or(l))
        .collect();
    if !failing.is_empty() || body.contains("readyz check failed") {
        let etcd = names.iter().any(|n| n.contains("etcd"));
        let playbooks: &[&str] = if etcd {
            &[pb::ETCD, pb::APISERVER_NOT_READY]
        } else {
            &[pb::APISERVER_NOT_READY]
        };
        let reason = if names.is_empty() {
            "/readyz check failed".to_string()
        } else {
            format!("/readyz failing: {}", names.join(", "))
        };
        let mut item = HealthItem::new(Severity::Critical, title, reason)
            .with_object(object)
            .with_playbooks(playbooks);
        for f in failing {
            item = item.with_detail("Failing", one_line(f, 200));
        }
        return Some(item.with_detail("Passing checks", passing.to_string()));
    }
    let item = if passing > 0 {
        HealthItem::new(
            Severity::Ok,
            title,
            format!("/readyz: all {passing} checks pass"),
        )
    } else if body.trim() == "ok" {
        HealthItem::new(Severity::Ok, title, "/readyz: ok")
    } else {
        HealthItem::new(
            Severity::Unknown,
            title,
            format!("unrecognised /readyz answer: {}", one_line(body, 100)),
        )
        .with_playbooks(&[pb::APISERVER_NOT_READY])
    };
    Some(item.with_object(object))
}

/// One item per unhealthy control-plane pod, plus one item for the healthy pods of the component.
fn static_pod_items(component: &str, pods: &[&Pod], now: DateTime<Utc>, out: &mut Vec<HealthItem>) {
    let mut healthy = Vec::new();
    for p in pods {
        match judge_static_pod(p, now) {
            None => healthy.push(p.metadata.name_str()),
            Some((severity, reason)) => {
                let mut playbooks = vec![pb::STATIC_POD];
                match component {
                    "etcd" => playbooks.push(pb::ETCD),
                    "kube-apiserver" => playbooks.push(pb::APISERVER_NOT_READY),
                    _ => {}
                }
                let mut item = HealthItem::new(severity, p.metadata.name_str(), reason)
                    .with_object(pod_object(p))
                    .with_playbooks(&playbooks)
                    .with_detail("Component", component)
                    .with_detail("Node", p.spec.node_name.as_deref().unwrap_or("(none)"))
                    .with_detail("Restarts", p.restarts().to_string());
                if let Some((c, t)) = p.last_termination() {
                    item = item.with_detail(
                        "Last termination",
                        format!(
                            "{}: exit {} {}{}",
                            c.name,
                            t.exit_code,
                            t.reason.as_deref().unwrap_or(""),
                            t.finished_at
                                .map(|f| format!(", {} ago", ago(now, f)))
                                .unwrap_or_default()
                        ),
                    );
                }
                out.push(item);
            }
        }
    }
    if !healthy.is_empty() {
        let n = healthy.len();
        let mut item = HealthItem::new(
            Severity::Ok,
            component,
            format!(
                "{n} pod{} Running and Ready, no restarts in the last hour",
                if n == 1 { "" } else { "s" }
            ),
        );
        for name in healthy {
            item = item.with_detail("Pod", name);
        }
        out.push(item);
    }
}

/// `None` when the pod is Running, Ready and has not restarted within the hour.
fn judge_static_pod(p: &Pod, now: DateTime<Utc>) -> Option<(Severity, String)> {
    let restarts = p.restarts();
    let last = p.last_termination();
    let last_text = last
        .map(|(_, t)| {
            format!(
                ", last exit {} {}",
                t.exit_code,
                t.reason.as_deref().unwrap_or("")
            )
            .trim_end()
            .to_string()
        })
        .unwrap_or_default();
    if p.waiting_with("CrashLoopBackOff").is_some() {
        return Some((
            Severity::Critical,
            format!("CrashLoopBackOff: {restarts} restarts{last_text}"),
        ));
    }
    if !p.is_running() {
        let phase = p.status.phase.as_deref().unwrap_or("unknown");
        return Some((Severity::Critical, format!("not running (phase {phase})")));
    }
    if !p.is_ready() {
        return Some((
            Severity::Warning,
            format!("Running but not Ready, {restarts} restarts{last_text}"),
        ));
    }
    if let Some((_, t)) = last
        && let Some(f) = t.finished_at
        && age_secs(now, f) < RECENT_SECS
    {
        return Some((
            Severity::Warning,
            format!(
                "restarted {} ago ({restarts} restarts{last_text})",
                ago(now, f)
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::fixtures::*;
    use serde_json::json;

    fn cp(state: &ClusterState) -> Vec<HealthItem> {
        section(state, now())
    }

    fn find<'a>(items: &'a [HealthItem], title: &str) -> &'a HealthItem {
        items
            .iter()
            .find(|i| i.title == title)
            .unwrap_or_else(|| panic!("no item {title} in {items:#?}"))
    }

    #[test]
    fn fresh_leader_lease_is_ok_even_with_standbys() {
        let items = cp(&healthy_cluster());
        let kcm = find(&items, "kube-controller-manager leader");
        assert_eq!(kcm.severity, Severity::Ok, "{kcm:#?}");
        assert_eq!(
            kcm.reason,
            "held by cp-1, renewed 2s ago (lease 15s), 1 transitions"
        );
        assert_eq!(
            kcm.object.as_deref(),
            Some("Lease/kube-system/kube-controller-manager")
        );
        assert!(
            items.iter().all(|i| i.severity == Severity::Ok),
            "{items:#?}"
        );
    }

    #[test]
    fn stale_leader_lease_is_critical() {
        let state = healthy_with(
            |v| is(v, "Lease", "kube-scheduler"),
            vec![leader_lease("kube-scheduler", "cp-1", 133, 1)],
        );
        let items = cp(&state);
        let s = find(&items, "kube-scheduler leader");
        assert_eq!(s.severity, Severity::Critical);
        assert!(
            s.reason.starts_with("not renewed for 2m13s (lease 15s)"),
            "{}",
            s.reason
        );
        assert_eq!(s.playbooks[0], "leader-election-lease");
        assert_eq!(items[0].title, "kube-scheduler leader", "worst first");
    }

    #[test]
    fn missing_leader_lease_is_critical_but_unknown_when_nothing_is_visible() {
        let state = healthy_with(|v| is(v, "Lease", "kube-controller-manager"), vec![]);
        let kcm = find(&cp(&state), "kube-controller-manager leader").clone();
        assert_eq!(kcm.severity, Severity::Critical);
        assert!(kcm.reason.contains("does not exist"));

        // A managed control plane: no kube-system leases and no control-plane pods.
        let state = state_of(&[node("w-1")]);
        let kcm = find(&cp(&state), "kube-controller-manager leader").clone();
        assert_eq!(kcm.severity, Severity::Unknown);
    }

    #[test]
    fn lease_held_by_a_node_without_a_running_pod_warns() {
        let state = healthy_with(
            |v| is(v, "Lease", "kube-scheduler"),
            vec![leader_lease("kube-scheduler", "cp-2", 1, 1)],
        );
        let s = find(&cp(&state), "kube-scheduler leader").clone();
        assert_eq!(s.severity, Severity::Warning);
        assert!(
            s.reason.contains("no running kube-scheduler-cp-2 pod"),
            "{}",
            s.reason
        );
    }

    #[test]
    fn many_recent_transitions_warn_but_old_ones_do_not() {
        let mut recent = leader_lease("kube-controller-manager", "cp-1", 1, 9);
        recent["spec"]["acquireTime"] = json!(before(720));
        let state = healthy_with(|v| is(v, "Lease", "kube-controller-manager"), vec![recent]);
        let kcm = find(&cp(&state), "kube-controller-manager leader").clone();
        assert_eq!(kcm.severity, Severity::Warning);
        assert!(
            kcm.reason
                .starts_with("leadership changed 9 times, last 12m ago")
        );

        // Same count, last change five days ago: a long-lived cluster, ok.
        let state = healthy_with(
            |v| is(v, "Lease", "kube-controller-manager"),
            vec![leader_lease("kube-controller-manager", "cp-1", 1, 9)],
        );
        let kcm = find(&cp(&state), "kube-controller-manager leader").clone();
        assert_eq!(kcm.severity, Severity::Ok);
    }

    #[test]
    fn apiserver_identity_leases_must_match_running_apiservers() {
        // Two apiserver pods, one identity lease fresh.
        let state = healthy_with(
            |_| false,
            vec![
                cp_node("cp-2"),
                static_pod("kube-apiserver", "cp-2"),
                identity_lease("apiserver-def456", 7200),
            ],
        );
        let api = find(&cp(&state), "API servers").clone();
        assert_eq!(api.severity, Severity::Warning, "{api:#?}");
        assert_eq!(api.playbooks, ["ha-apiserver-endpoints-flap"]);
        assert!(api.details.iter().any(|(k, _)| k == "Stale identity lease"));

        let ok = find(&cp(&healthy_cluster()), "API servers").clone();
        assert_eq!(ok.severity, Severity::Ok);
    }

    #[test]
    fn failing_readyz_checks_are_critical_and_etcd_points_at_quorum() {
        let mut state = healthy_cluster();
        state.readyz = Some(
            "[+]ping ok\n[-]etcd failed: reason withheld\n[+]informer-sync ok\nreadyz check failed"
                .into(),
        );
        let r = find(&cp(&state), "API server readiness").clone();
        assert_eq!(r.severity, Severity::Critical);
        assert_eq!(r.reason, "/readyz failing: etcd");
        assert_eq!(
            r.playbooks,
            ["etcd-quorum-membership", "apiserver-not-ready"]
        );

        state.readyz = Some("[+]ping ok\n[-]poststarthook/rbac/bootstrap-roles failed\n".into());
        let r = find(&cp(&state), "API server readiness").clone();
        assert_eq!(r.playbooks, ["apiserver-not-ready"]);

        let ok = find(&cp(&healthy_cluster()), "API server readiness").clone();
        assert_eq!(ok.reason, "/readyz: all 7 checks pass");
    }

    #[test]
    fn control_plane_pods_restarting_or_not_ready_are_flagged() {
        let sched = crashlooping(static_pod("kube-scheduler", "cp-1"), 12, 60, 1, "Error");
        let etcd = restarted(static_pod("etcd", "cp-1"), 3, 300, 137, "Error");
        let state = healthy_with(
            |v| is(v, "Pod", "kube-scheduler-cp-1") || is(v, "Pod", "etcd-cp-1"),
            vec![sched, etcd],
        );
        let items = cp(&state);
        let s = find(&items, "kube-scheduler-cp-1");
        assert_eq!(s.severity, Severity::Critical);
        assert_eq!(s.reason, "CrashLoopBackOff: 12 restarts, last exit 1 Error");
        assert_eq!(
            s.object.as_deref(),
            Some("Pod/kube-system/kube-scheduler-cp-1")
        );
        assert_eq!(s.playbooks, ["static-pod-liveness-mismatch"]);
        let e = find(&items, "etcd-cp-1");
        assert_eq!(e.severity, Severity::Warning);
        assert!(
            e.reason.starts_with("restarted 5m0s ago (3 restarts"),
            "{}",
            e.reason
        );
        assert!(e.playbooks.contains(&"etcd-quorum-membership".to_string()));
        // Healthy components stay one ok line each.
        assert_eq!(find(&items, "kube-apiserver").severity, Severity::Ok);
    }

    #[test]
    fn old_restarts_of_a_control_plane_pod_are_ok() {
        let etcd = restarted(static_pod("etcd", "cp-1"), 4, 3 * 86_400, 137, "Error");
        let state = healthy_with(|v| is(v, "Pod", "etcd-cp-1"), vec![etcd]);
        assert_eq!(find(&cp(&state), "etcd").severity, Severity::Ok);
    }

    #[test]
    fn forbidden_leases_say_so() {
        use crate::cluster::{ResourceSync, SyncState};
        let mut state = healthy_cluster();
        state.sync.push(ResourceSync {
            resource: "leases".into(),
            state: SyncState::Forbidden {
                verb: "list".into(),
                resource: "leases".into(),
                message: String::new(),
            },
        });
        let items = cp(&state);
        assert!(items.iter().any(
            |i| i.severity == Severity::Unknown && i.reason == "cannot list leases: forbidden"
        ));
        assert!(!items.iter().any(|i| i.title.ends_with(" leader")));
    }
}
