//! Helpers the control-plane scenarios share: editing a component's log, repeating klog
//! lines at an interval, and setting flags and env on the static pods' mirror pods.

use serde_json::{Value, json};

use crate::builder::{Cluster, Terminated, UPGRADE_AGE, hash64, klog};

/// Seconds to microseconds before the epoch with a deterministic sub-second part.
pub fn us(secs: i64, seed: &str) -> i64 {
    secs * 1_000_000 - (hash64(&[seed, &secs.to_string()]) % 999_999) as i64
}

/// Appends text to a container's current log (creates the log when absent).
pub fn append_log(c: &mut Cluster, pod: &str, container: &str, text: &str) {
    match c.pod_logs.iter_mut().find(|l| {
        l.namespace == "kube-system"
            && l.pod == pod
            && !l.previous
            && l.container.as_deref() == Some(container)
    }) {
        Some(l) => l.text.push_str(text),
        None => c.add_log("kube-system", pod, container, text.to_string()),
    }
}

/// Takes a container's current log out (it becomes the previous instance's log, say).
pub fn take_log(c: &mut Cluster, pod: &str, container: &str) -> String {
    let Some(i) = c.pod_logs.iter().position(|l| {
        l.namespace == "kube-system"
            && l.pod == pod
            && !l.previous
            && l.container.as_deref() == Some(container)
    }) else {
        return String::new();
    };
    c.pod_logs.remove(i).text
}

/// klog lines of `msg` from `from_secs` down to `to_secs` before the epoch, one every
/// `every_secs` with a deterministic jitter of up to a second.
pub fn repeat_klog(
    level: char,
    from_secs: i64,
    to_secs: i64,
    every_secs: i64,
    source: &str,
    msg: &str,
) -> String {
    let mut out = String::new();
    let mut t = from_secs;
    while t >= to_secs {
        out.push_str(&klog(level, us(t, msg), source, msg));
        t -= every_secs.max(1);
    }
    out
}

/// The main container of a mirror pod (`kube-system/{component}-{node}`).
pub fn container_mut<'a>(c: &'a mut Cluster, component: &str, node: &str) -> Option<&'a mut Value> {
    let pod = c.find_mut("Pod", Some("kube-system"), &format!("{component}-{node}"))?;
    pod["spec"]["containers"]
        .as_array_mut()?
        .iter_mut()
        .find(|x| x["name"] == component)
}

/// Sets (or adds) `--key=value` in a mirror pod's command; `None` removes the flag.
pub fn set_flag(c: &mut Cluster, component: &str, node: &str, key: &str, value: Option<&str>) {
    let Some(ctr) = container_mut(c, component, node) else {
        return;
    };
    let Some(cmd) = ctr["command"].as_array_mut() else {
        return;
    };
    let prefix = format!("--{key}=");
    cmd.retain(|a| !a.as_str().is_some_and(|s| s.starts_with(&prefix)));
    if let Some(v) = value {
        cmd.push(json!(format!("{prefix}{v}")));
        // kubeadm writes the flags sorted after the binary name.
        if let Some((first, rest)) = cmd.split_first_mut() {
            let _ = first;
            rest.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
}

/// A leader that missed its renew deadline: how its log ends and how it comes back.
pub struct LostLeader<'a> {
    pub pod: &'a str,
    /// `kube-controller-manager` or `kube-scheduler` (also the container and the lease).
    pub comp: &'a str,
    /// When it lost the lease and exited, in seconds before the epoch.
    pub lost_ago: i64,
    /// The error its acquire attempts keep logging after the restart.
    pub retry_error: &'a str,
    /// Microseconds between "Serving securely" and its first acquire attempt.
    pub attempt_after_us: i64,
    /// The retries after the restart: (seconds after start-up of the first, seconds
    /// before the epoch of the last, seconds between two).
    pub retries: (i64, i64, i64),
}

/// Ends the previous instance's log `prev` with the lost lease (klog as the components
/// print it), records the restart (exit 1), and writes the new instance's log: start-up,
/// then acquire attempts failing with `retry_error`.
pub fn lost_lease_and_restarted(c: &mut Cluster, mut prev: String, l: &LostLeader) {
    let (pod, comp) = (l.pod, l.comp);
    prev.push_str(&klog(
        'I',
        us(l.lost_ago + 1, pod),
        "leaderelection.go:297",
        &format!("failed to renew lease kube-system/{comp}: context deadline exceeded"),
    ));
    let (src, msg) = if comp == "kube-controller-manager" {
        ("controllermanager.go:340", "\"leaderelection lost\"")
    } else {
        ("server.go:263", "\"Leaderelection lost\"")
    };
    prev.push_str(&klog('E', us(l.lost_ago, pod), src, msg));
    c.add_previous_log("kube-system", pod, comp, prev);
    c.set_restarts(
        "kube-system",
        pod,
        comp,
        1,
        Terminated {
            reason: "Error".into(),
            exit_code: 1,
            started_ago: UPGRADE_AGE - 300,
            finished_ago: l.lost_ago,
        },
    );
    let port = if comp == "kube-controller-manager" {
        10257
    } else {
        10259
    };
    let start = l.lost_ago - 2;
    let mut now = klog(
        'I',
        us(start, pod),
        "serving.go:386",
        "Generated self-signed cert in-memory",
    );
    now.push_str(&klog(
        'I',
        us(start - 1, pod),
        "secure_serving.go:213",
        &format!("Serving securely on 127.0.0.1:{port}"),
    ));
    now.push_str(&klog(
        'I',
        us(start - 1, pod) - l.attempt_after_us,
        "leaderelection.go:254",
        &format!("attempting to acquire leader lease kube-system/{comp}..."),
    ));
    let (first, last, every) = l.retries;
    now.push_str(&repeat_klog(
        'E',
        start - first,
        last,
        every,
        "leaderelection.go:436",
        l.retry_error,
    ));
    c.add_log("kube-system", pod, comp, now);
}
