//! Helpers shared by the health rules: playbook ids, ages, version parsing, ordering, and
//! the `unknown` items that stand in for resources the model cannot read.

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
}

/// A window within which a restart counts as "recent".
pub const RECENT_SECS: i64 = 3600;

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
        SyncState::Synced => None,
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
