//! Helpers shared by the health rules: playbook ids, ages, version parsing, ordering, the
//! `unknown` items that stand in for resources the model cannot read, and the arithmetic of
//! restart rates (the kubelet's back-off, the cycle of a container that keeps dying, the
//! shortest life a rate means something over).

use chrono::{DateTime, Utc};

use super::{HealthItem, Severity};
use crate::cluster::SyncState;
use crate::cluster::lean::Pod;
use crate::cluster::state::ClusterState;

/// Playbook ids (shared/PLAYBOOKS.md) the health rules point at.
pub mod pb {
    pub const LEADER_LEASE: &str = "leader-election-lease";
    pub const CP_PROXY: &str = "controlplane-proxy-without-no-proxy";
    pub const HA_ENDPOINTS: &str = "ha-apiserver-endpoints-flap";
    pub const APISERVER_NOT_READY: &str = "apiserver-not-ready";
    pub const ETCD: &str = "etcd-quorum-membership";
    pub const STATIC_POD: &str = "static-pod-liveness-mismatch";
    pub const NO_CNI: &str = "node-notready-no-cni";
    pub const PRESSURE: &str = "node-pressure-evictions";
    pub const CLOUD_TAINT: &str = "node-uninitialized-cloud-taint";
    pub const PREFLIGHT: &str = "kubeadm-preflight-host";
    pub const NODE_JOIN: &str = "csr-pending-node-cannot-join";
    pub const CRASHLOOP: &str = "crashloop";
    pub const ADDON_STORM: &str = "addon-restart-storm";
    pub const DNS: &str = "dns-addon-degraded";
    pub const OVERLAY: &str = "overlay-port-blocked";
    pub const KUBELET_PORT: &str = "kubelet-port-unreachable";
    pub const SERVICE_REACH: &str = "pod-cannot-reach-apiserver-service";
    pub const INGRESS: &str = "ingress-misconfigured";
    pub const CSI: &str = "pvc-pending-provisioner-missing";
    pub const RBAC: &str = "rbac-forbidden";
    pub const NODE_STATUS_UNKNOWN: &str = "node-status-unknown";
}

/// A window within which a restart counts as "recent".
pub const RECENT_SECS: i64 = 3600;

/// The shortest pod life over which "restarts per hour" means something: below it a pod with
/// one restart in its first minute would read as 60/h, so the count is said instead.
pub const MIN_OBSERVATION_SECS: i64 = 1800;
/// A previous run shorter than this makes a "current" rate (the container dies soon after it
/// starts); a longer one says nothing about how often it restarts now.
pub const SHORT_RUN_SECS: i64 = 3600;

/// The kubelet's crash back-off before restart number `restart_count + 1`: 10 s, doubling,
/// capped at 5 min.
pub fn kubelet_backoff_secs(restart_count: i64) -> i64 {
    let doublings = u32::try_from((restart_count - 1).clamp(0, 5)).unwrap_or(5);
    (10_i64 << doublings).min(300)
}

/// Seconds of a Go duration as the kubelet prints it: `5m0s`, `40s`, `2m40s`, `1h0m0s`.
pub fn go_duration_secs(s: &str) -> Option<i64> {
    let mut total = 0_i64;
    let mut num = String::new();
    let mut any = false;
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        total = total.checked_add(num.parse::<i64>().ok()?.checked_mul(unit)?)?;
        num.clear();
        any = true;
    }
    (any && num.is_empty()).then_some(total)
}

/// The back-off the kubelet announced in a CrashLoopBackOff message
/// (`back-off 5m0s restarting failed container=…`).
pub fn backoff_in_message(message: &str) -> Option<i64> {
    let rest = message.split("back-off ").nth(1)?;
    go_duration_secs(rest.split_whitespace().next()?)
}

/// How often a container restarts now, from its last run: it lived `run_secs`, then waited
/// `gap_secs` (the back-off) before starting again. The cycle is never shorter than the time
/// since the last termination (`since_secs`): a container that has run for ten minutes since
/// does not restart every 15 s any more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurrentRate {
    pub run_secs: i64,
    pub gap_secs: i64,
    pub cycle_secs: i64,
    pub per_hour: f64,
}

/// The [`CurrentRate`] of a container that restarted `restart_count` times, whose last run
/// lasted `run_secs` and ended `since_secs` ago; `gap_secs` is the back-off it waited (or
/// waits). `None` when it does not apply: fewer than two restarts (one is an event, not a
/// rate), the last run was long, or the last restart is not recent.
pub fn current_rate(
    restart_count: i64,
    run_secs: i64,
    gap_secs: i64,
    since_secs: i64,
) -> Option<CurrentRate> {
    if restart_count < 2 || !(0..SHORT_RUN_SECS).contains(&run_secs) || since_secs > RECENT_SECS {
        return None;
    }
    let gap_secs = gap_secs.max(0);
    let cycle_secs = (run_secs + gap_secs).max(since_secs).max(1);
    Some(CurrentRate {
        run_secs,
        gap_secs,
        cycle_secs,
        per_hour: 3600.0 / cycle_secs as f64,
    })
}

/// Restarts per hour over a life of `life_secs`; `None` below [`MIN_OBSERVATION_SECS`].
pub fn lifetime_rate(restarts: i64, life_secs: i64) -> Option<f64> {
    (life_secs >= MIN_OBSERVATION_SECS).then(|| restarts as f64 * 3600.0 / life_secs as f64)
}

/// Containers restarted "at the same instant" when their last terminations lie within this.
pub const TOGETHER_SECS: i64 = 60;
/// The fewest pods of one node restarted together that read as a reboot / runtime restart.
pub const MIN_TOGETHER_PODS: usize = 3;

/// One pod's last restart on a node, for [`restarted_together`].
#[derive(Debug, Clone)]
pub struct RestartMark<K> {
    pub key: K,
    /// When its containers last terminated.
    pub at: DateTime<Utc>,
    /// Its owning workload (`kind/name`, or the pod itself), so one workload crashing on its
    /// own is not taken for a reboot.
    pub owner: String,
}

/// Groups of marks (of one node) that lie within [`TOGETHER_SECS`] of each other: at least
/// [`MIN_TOGETHER_PODS`] pods of at least two workloads, and at least half of the `alive`
/// pods (those the node ran at that instant). Every container of a node restarting at once is
/// a host reboot or a container-runtime restart, not each pod failing.
pub fn restarted_together<K: Clone>(
    marks: &[RestartMark<K>],
    alive_at: impl Fn(DateTime<Utc>) -> usize,
) -> Vec<(DateTime<Utc>, Vec<K>)> {
    let mut sorted: Vec<&RestartMark<K>> = marks.iter().collect();
    sorted.sort_by_key(|m| m.at);
    let mut groups = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i].at;
        let j = sorted[i..]
            .iter()
            .take_while(|m| (m.at - start).num_seconds() <= TOGETHER_SECS)
            .count()
            + i;
        let window = &sorted[i..j];
        let owners: std::collections::HashSet<&str> =
            window.iter().map(|m| m.owner.as_str()).collect();
        let alive = alive_at(start).max(window.len());
        if window.len() >= MIN_TOGETHER_PODS && owners.len() >= 2 && window.len() * 2 >= alive {
            groups.push((start, window.iter().map(|m| m.key.clone()).collect()));
            i = j;
        } else {
            i += 1;
        }
    }
    groups
}

/// Sorts worst first, then by title.
pub fn sort_items(items: &mut [HealthItem]) {
    items.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.title.cmp(&b.title))
    });
}

/// `now - t` in seconds, clamped at 0 (a timestamp in the future, from clock skew, is "now").
pub fn age_secs(now: DateTime<Utc>, t: DateTime<Utc>) -> i64 {
    (now - t).num_seconds().max(0)
}

/// A kubectl-like short duration: `42s`, `3m12s`, `47m`, `5h`, `3d`.
pub fn human(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..600 => format!("{}m{}s", s / 60, s % 60),
        600..10_800 => format!("{}m", s / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `human(age_secs(now, t))`.
pub fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    human(age_secs(now, t))
}

/// `(major, minor)` of a Kubernetes version string: `v1.31.4`, `1.29.3-eks-1`, `v1.30.0+k3s1`.
pub fn major_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_raw = parts.next()?;
    let digits: String = minor_raw.chars().take_while(char::is_ascii_digit).collect();
    Some((major, digits.parse().ok()?))
}

/// The first line of a message, shortened to `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// `Pod/namespace/name`.
pub fn pod_object(p: &Pod) -> String {
    format!(
        "Pod/{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    )
}

/// An `unknown` item when `resource` cannot be read (forbidden, failing, still syncing);
/// `None` when it is synced or not tracked.
pub fn unavailable(state: &ClusterState, resource: &str) -> Option<HealthItem> {
    match state.sync_of(resource)? {
        // The last view the store holds is judged; `stale_marker` says how old it is.
        SyncState::Synced | SyncState::Stale { .. } => None,
        SyncState::Syncing => Some(HealthItem::new(
            Severity::Unknown,
            format!("{resource}: loading"),
            format!("waiting for the first list of {resource}"),
        )),
        SyncState::Forbidden {
            verb,
            resource: res,
            message,
        } => {
            let res = if res.is_empty() { resource } else { res };
            let verb = if verb.is_empty() { "list" } else { verb };
            let mut reason = format!("cannot {verb} {res}: forbidden");
            if !message.is_empty() {
                reason.push_str(&format!(" ({})", one_line(message, 160)));
            }
            Some(
                HealthItem::new(Severity::Unknown, format!("{resource}: forbidden"), reason)
                    .with_playbooks(&[pb::RBAC])
                    .with_detail("Verb", verb)
                    .with_detail("Resource", res),
            )
        }
        SyncState::NotCaptured { capture } => Some(
            HealthItem::new(
                Severity::Unknown,
                format!("{resource}: not captured"),
                format!("the snapshot holds no {resource}, so nothing can be said about them: `{capture}`"),
            )
            .with_detail("Capture", capture.clone()),
        ),
        SyncState::Failing {
            error,
            retry_in_secs,
        } => Some(
            HealthItem::new(
                Severity::Unknown,
                format!("{resource}: failing"),
                format!(
                    "cannot list {resource}: {} (retrying in {})",
                    one_line(error, 140),
                    human(i64::try_from(*retry_in_secs).unwrap_or(i64::MAX))
                ),
            )
            .with_detail("Error", error.clone()),
        ),
    }
}

/// What a connection error comes down to, short enough for a pane: a changed certificate in
/// its own words, else the innermost cause (`Connection refused (os error 111)`).
pub fn headline(error: &str) -> String {
    if error.starts_with("the server's certificate") {
        let sentence = error.split(" (").next().unwrap_or(error);
        return sentence.to_string();
    }
    let last = error.rsplit(": ").next().unwrap_or(error).trim();
    one_line(if last.is_empty() { error } else { last }, 100)
}

/// An `unknown` item saying the view of `resource` is the last one known, and how old, when
/// the server stopped answering after it had synced; `None` otherwise.
pub fn stale_marker(
    state: &ClusterState,
    resource: &str,
    now: DateTime<Utc>,
) -> Option<HealthItem> {
    let SyncState::Stale {
        error,
        retry_in_secs,
        since,
    } = state.sync_of(resource)?
    else {
        return None;
    };
    let age = ago(now, *since);
    Some(
        HealthItem::new(
            Severity::Unknown,
            format!("{resource}: stale {age}"),
            format!(
                "{}; last known view, {age} old (retrying in {})",
                headline(error),
                human(i64::try_from(*retry_in_secs).unwrap_or(i64::MAX))
            ),
        )
        .with_detail(
            "Since",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .with_detail("Error", error.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_read_like_kubectl() {
        assert_eq!(human(4), "4s");
        assert_eq!(human(133), "2m13s");
        assert_eq!(human(47 * 60), "47m");
        assert_eq!(human(5 * 3600), "5h");
        assert_eq!(human(3 * 86_400 + 5), "3d");
        assert_eq!(human(-5), "0s");
    }

    #[test]
    fn versions_parse_with_vendor_suffixes() {
        assert_eq!(major_minor("v1.31.4"), Some((1, 31)));
        assert_eq!(major_minor("1.29.3-eks-abc"), Some((1, 29)));
        assert_eq!(major_minor("v1.30+k3s1"), Some((1, 30)));
        assert_eq!(major_minor("garbage"), None);
    }

    #[test]
    fn one_line_takes_the_first_line_and_shortens() {
        assert_eq!(one_line("\nfirst\nsecond", 80), "first");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
