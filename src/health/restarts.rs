//! The restarts section: pods whose containers restarted, ranked worst first, then by restart
//! rate (restarts per hour since the pod started) and count, with the last termination's
//! reason and exit code. CrashLoopBackOff is critical; a restart within the last hour is a
//! warning; restarts that all lie more than an hour back are shown as ok (a pod that restarted
//! long ago and has run quietly since is healthy). Capped at [`MAX_ITEMS`] items.

use chrono::{DateTime, Utc};

use super::common::{RECENT_SECS, age_secs, ago, human, one_line, pb, pod_object, unavailable};
use super::{HealthItem, Severity};
use crate::cluster::lean::{MetaExt, Pod};
use crate::cluster::state::ClusterState;

/// The most items the section holds (the rest are summarised in one line).
pub const MAX_ITEMS: usize = 50;
/// The shortest uptime a rate is computed over, so a pod started a minute ago with one restart
/// is not reported at 60 restarts an hour.
const MIN_RATE_HOURS: f64 = 0.1;

struct Candidate<'a> {
    pod: &'a Pod,
    severity: Severity,
    restarts: i64,
    rate: Option<f64>,
}

pub(super) fn section(state: &ClusterState, now: DateTime<Utc>) -> Vec<HealthItem> {
    if let Some(item) = unavailable(state, "pods") {
        return vec![item];
    }
    // One pass; nothing is formatted for pods that are not shown.
    let mut candidates: Vec<Candidate> = state
        .pods
        .iter()
        .filter_map(|p| {
            let restarts = p.restarts();
            (restarts > 0).then(|| Candidate {
                pod: p,
                severity: judge(p, now),
                restarts,
                rate: rate(p, restarts, now),
            })
        })
        .collect();
    if candidates.is_empty() {
        let reason = if state.pods.is_empty() {
            "the pod list is empty".to_string()
        } else {
            format!("no container has restarted ({} pods)", state.pods.len())
        };
        return vec![HealthItem::new(Severity::Ok, "No restarts", reason)];
    }
    candidates.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.rate.unwrap_or(0.0).total_cmp(&a.rate.unwrap_or(0.0)))
            .then_with(|| b.restarts.cmp(&a.restarts))
            .then_with(|| title(a.pod).cmp(&title(b.pod)))
    });
    let hidden = candidates.len().saturating_sub(MAX_ITEMS);
    let hidden_worst = candidates
        .get(MAX_ITEMS..)
        .and_then(|rest| rest.iter().map(|c| c.severity).max());
    let mut items: Vec<HealthItem> = candidates
        .iter()
        .take(MAX_ITEMS)
        .map(|c| item(c, now))
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

/// Restarts per hour since the pod started (`None` without a start time).
fn rate(p: &Pod, restarts: i64, now: DateTime<Utc>) -> Option<f64> {
    let start = p.status.start_time.or_else(|| p.metadata.created())?;
    let hours = (age_secs(now, start) as f64 / 3600.0).max(MIN_RATE_HOURS);
    Some(restarts as f64 / hours)
}

fn judge(p: &Pod, now: DateTime<Utc>) -> Severity {
    if p.waiting_with("CrashLoopBackOff").is_some() {
        return Severity::Critical;
    }
    let recent = p
        .last_termination()
        .and_then(|(_, t)| t.finished_at)
        .is_some_and(|f| age_secs(now, f) < RECENT_SECS);
    if recent {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

fn item(c: &Candidate, now: DateTime<Utc>) -> HealthItem {
    let p = c.pod;
    let n = c.restarts;
    let plural = if n == 1 { "restart" } else { "restarts" };
    let rate_text = c.rate.map(|r| format!(" ({r:.1}/h)")).unwrap_or_default();
    let last = p.last_termination();
    let exit_text = last
        .map(|(_, t)| {
            format!("exit {} {}", t.exit_code, t.reason.as_deref().unwrap_or(""))
                .trim_end()
                .to_string()
        })
        .unwrap_or_default();
    let last_age = last.and_then(|(_, t)| t.finished_at).map(|f| ago(now, f));
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
    if let Some(r) = c.rate {
        item = item.with_detail("Rate", format!("{r:.1} restarts/hour"));
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

    #[test]
    fn crashloop_is_critical_with_rate_exit_code_and_reason() {
        // Started 2 days ago: 96 restarts → 2.0/h.
        let p = crashlooping(pod("shop", "cart-1", "w-1"), 96, 30, 137, "OOMKilled");
        let items = section(&healthy_with(|_| false, vec![p]), now());
        let i = &items[0];
        assert_eq!(i.severity, Severity::Critical);
        assert_eq!(i.title, "shop/cart-1");
        assert_eq!(
            i.reason,
            "CrashLoopBackOff: 96 restarts (2.0/h), last exit 137 OOMKilled"
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
            "3 restarts (0.1/h), last 10m ago: exit 1 Error"
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
                    pod("load", &format!("p-{i:02}"), "w-1"),
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
}
