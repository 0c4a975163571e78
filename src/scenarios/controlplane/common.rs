//! Helpers the control-plane scenarios share: editing a component's log, repeating klog
//! lines at an interval, and setting flags and env on the static pods' mirror pods.

use serde_json::{Value, json};

use crate::scenarios::builder::{Cluster, hash64, klog};

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
