//! Small pure helpers the identity and storage playbooks share: reading fields of JSON
//! objects and of the lean pods and events, naming objects in evidence, container flags,
//! events about an object, ages, and parsing the API server's "forbidden" messages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::playbooks::util::parse_time;

pub use crate::cluster::lean::{Event, MetaExt, Pod};
pub use crate::playbooks::util::{arr, ev, name, namespace, s};

/// A timestamp field parsed as UTC.
pub fn time(v: &Value, ptr: &str) -> Option<DateTime<Utc>> {
    parse_time(s(v, ptr))
}

/// Seconds since the object was created (0 when unknown).
pub fn age_secs(v: &Value, now: DateTime<Utc>) -> i64 {
    time(v, "/metadata/creationTimestamp")
        .map(|t| (now - t).num_seconds())
        .unwrap_or(0)
}

/// A human age: `45s`, `12m`, `3h`, `6d`. Not `controlplane::common::human` (`3m12s`) nor
/// `workloads::common::human` (`3h12m`): each group's findings print ages their own way.
pub fn human(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The command line (command + args) of a pod's first container. (`controlplane::common`
/// reads the named component's container into `--key=value` pairs, `network_a::common` only
/// the `--flag=value` form: three different readers, not one.)
pub fn flags(pod: &Value) -> Vec<String> {
    let c = pod.pointer("/spec/containers/0");
    let mut out = Vec::new();
    for key in ["command", "args"] {
        if let Some(a) = c.and_then(|c| c.get(key)).and_then(Value::as_array) {
            out.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }
    out
}

/// The value of `--flag=value` (or `--flag value`) on a command line.
pub fn flag<'a>(cmd: &'a [String], name: &str) -> Option<&'a str> {
    let eq = format!("{name}=");
    for (i, a) in cmd.iter().enumerate() {
        if let Some(v) = a.strip_prefix(&eq) {
            return Some(v);
        }
        if a == name {
            return cmd.get(i + 1).map(String::as_str);
        }
    }
    None
}

/// Events whose involvedObject is `kind`/`name` (and namespace, when given), newest first.
/// Kept apart from `workloads::common::events_for`: this one dates an event by
/// `lastTimestamp`, `eventTime`, then its creation (see `event_time`), and counts only `count`.
pub fn events_for<'a>(
    events: &'a [Arc<Event>],
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Vec<&'a Event> {
    let mut out: Vec<&Event> = events
        .iter()
        .map(|e| &**e)
        .filter(|e| {
            let o = &e.involved_object;
            o.kind.as_deref().unwrap_or_default() == kind
                && o.name.as_deref().unwrap_or_default() == name
                && ns.is_none_or(|n| o.namespace.as_deref().unwrap_or_default() == n)
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    out
}

/// The last time an event was seen: `lastTimestamp`, else `eventTime`, else its creation.
pub fn event_time(e: &Event) -> Option<DateTime<Utc>> {
    e.last_timestamp
        .or(e.event_time)
        .or_else(|| e.metadata.created())
}

/// `reason (xN): message` of an event, for evidence.
pub fn event_text(e: &Event) -> String {
    let count = e.count.map_or(1, i64::from);
    let times = if count > 1 {
        format!(" (x{count})")
    } else {
        String::new()
    };
    format!(
        "{}{times}: {}",
        e.reason.as_deref().unwrap_or_default(),
        e.message.as_deref().unwrap_or_default()
    )
}

/// `Event/ns/name` for evidence.
pub fn event_ref(e: &Event) -> String {
    format!(
        "Event/{}/{}",
        e.metadata.namespace_str(),
        e.metadata.name_str()
    )
}

/// Whether a pod's phase is Running.
pub fn running(pod: &Pod) -> bool {
    pod.status.phase.as_deref() == Some("Running")
}

/// Whether a pod's containers crashed before (restarts, a last termination, or waiting in
/// CrashLoopBackOff): its previous log holds why. A capture may leave `restartCount` out.
pub fn crashed(p: &Pod) -> bool {
    p.status.container_statuses.iter().any(|c| {
        c.restart_count > 0
            || c.last_state.terminated.is_some()
            || c.state.waiting.as_ref().and_then(|w| w.reason.as_deref())
                == Some("CrashLoopBackOff")
    })
}

#[cfg(test)]
pub use crate::playbooks::util::set_pods;
pub use crate::playbooks::util::{detail, pod_detail};

/// The claims a pod's volumes mount.
pub fn claims(p: &Pod) -> impl Iterator<Item = &str> {
    p.spec
        .volumes
        .iter()
        .filter_map(|v| v.persistent_volume_claim.as_ref()?.claim_name.as_deref())
}

/// Seconds since a pod was created (0 when its creationTimestamp is not captured).
pub fn pod_age_secs(p: &Pod, now: DateTime<Utc>) -> i64 {
    p.metadata
        .created()
        .map(|t| (now - t).num_seconds())
        .unwrap_or(0)
}

/// `Pod/ns/name` for evidence.
pub fn pod_ref(p: &Pod) -> String {
    format!(
        "Pod/{}/{}",
        p.metadata.namespace_str(),
        p.metadata.name_str()
    )
}

/// The signer a v1beta1 CSR without one was read with (`snapshot::normalize` fills it in).
pub const LEGACY_SIGNER: &str = "kubernetes.io/legacy-unknown";
/// The kubelet client certificate signer.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The kubelet serving certificate signer.
pub const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";

/// The signer a CSR is for. A CSR from before signer names (v1beta1, Kubernetes < 1.18; read
/// as `kubernetes.io/legacy-unknown` or without one) is classified the way the 1.18 API server
/// defaults it: a kubelet's request (user `system:node:*` / `system:bootstrap:*`, or group
/// `system:nodes` / `system:bootstrappers`) with `client auth` is a kubelet client CSR, one
/// from a node with `server auth` a kubelet serving CSR.
pub fn csr_signer(csr: &Value) -> &str {
    let signer = s(csr, "/spec/signerName");
    if !(signer.is_empty() || signer == LEGACY_SIGNER) {
        return signer;
    }
    let user = s(csr, "/spec/username");
    let groups: Vec<&str> = arr(csr, "/spec/groups")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let usages: Vec<&str> = arr(csr, "/spec/usages")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let node = user.starts_with("system:node:") || groups.contains(&"system:nodes");
    let bootstrap =
        user.starts_with("system:bootstrap:") || groups.contains(&"system:bootstrappers");
    if usages.contains(&"server auth") && node {
        KUBELET_SERVING_SIGNER
    } else if (node || bootstrap) && (usages.is_empty() || usages.contains(&"client auth")) {
        KUBELET_CLIENT_SIGNER
    } else if signer.is_empty() {
        LEGACY_SIGNER
    } else {
        signer
    }
}

/// Whether a log line starts a record: a klog header (`E0115 09:58:31.402114`), a journald
/// prefix (`Jan 15 09:58:31 host unit[pid]:`), an RFC 3339 timestamp, `time=`/`level=`, or a
/// JSON object.
fn starts_record(line: &str) -> bool {
    let b = line.as_bytes();
    let klog = b.len() > 5
        && matches!(b[0], b'I' | b'W' | b'E' | b'F')
        && b[1..5].iter().all(u8::is_ascii_digit);
    let journald = b.len() > 15
        && b[0].is_ascii_uppercase()
        && b[1..3].iter().all(u8::is_ascii_lowercase)
        && b[3] == b' '
        && line[4..]
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit());
    let rfc3339 = b.len() > 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    klog || journald
        || rfc3339
        || line.starts_with("time=")
        || line.starts_with("level=")
        || line.starts_with('{')
}

/// The records of a journal or container log, with the node each came from: `-- NODE --`
/// lines (several nodes' journals in one answer) name the node; a line that continues the
/// record above it (indented, or without a header after a line that had one: a klog line
/// wrapped over two lines) is joined to it.
pub fn journal_records(text: &str) -> Vec<(String, String)> {
    let mut node = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut last_had_header = false;
    for raw in text.lines() {
        let line = raw.trim_end();
        if let Some(n) = line
            .strip_prefix("-- ")
            .and_then(|l| l.strip_suffix(" --"))
            .filter(|n| !n.contains(' '))
        {
            node = n.to_string();
            last_had_header = false;
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let header = starts_record(line);
        let continues = !header
            && out.last().is_some_and(|(n, _)| *n == node)
            && (line.starts_with(char::is_whitespace) || last_had_header);
        if continues && let Some((_, prev)) = out.last_mut() {
            // A pasted log is wrapped at a space more often than inside a word.
            prev.push(' ');
            prev.push_str(line.trim_start());
            continue;
        }
        last_had_header = header;
        out.push((node.clone(), line.to_string()));
    }
    out
}

/// What the API server says when it refuses a request: the parts of
/// `User "X" cannot VERB resource "R" in API group "G" (at the cluster scope | in the namespace "N")`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Denial {
    pub user: String,
    pub verb: String,
    pub resource: String,
    pub group: String,
    /// `None` at the cluster scope.
    pub namespace: Option<String>,
}

fn quoted(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let s = s.strip_prefix('"').or_else(|| s.strip_prefix("\\\""))?;
    // Either a plain quote or an escaped one (a log line quoting a quoted error) ends it.
    let end_plain = s.find('"');
    let end_esc = s.find("\\\"");
    let (end, skip) = match (end_plain, end_esc) {
        (Some(p), Some(e)) if e < p => (e, 2),
        (Some(p), _) => (p, 1),
        (None, Some(e)) => (e, 2),
        (None, None) => return None,
    };
    Some((s[..end].to_string(), &s[end + skip..]))
}

/// Parses every "User ... cannot ..." denial in a text (a Status message or a log line).
pub fn denials(text: &str) -> Vec<Denial> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("User ") {
        rest = &rest[i + 5..];
        let Some((user, after)) = quoted(rest) else {
            continue;
        };
        let Some(after) = after.trim_start().strip_prefix("cannot ") else {
            continue;
        };
        let verb: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
        let after = after[verb.len()..].trim_start();
        // The old form: `cannot list nodes at the cluster scope`.
        let (resource, group, after) = if let Some(a) = after.strip_prefix("resource ") {
            let Some((resource, a)) = quoted(a) else {
                continue;
            };
            let (group, a) = match a.trim_start().strip_prefix("in API group ") {
                Some(g) => match quoted(g) {
                    Some((g, a)) => (g, a),
                    None => (String::new(), a),
                },
                None => (String::new(), a),
            };
            (resource, group, a)
        } else if after.starts_with("path ") {
            continue;
        } else {
            let r: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
            let a = &after[r.len()..];
            (r, String::new(), a)
        };
        let a = after.trim_start();
        let namespace = a
            .strip_prefix("in the namespace ")
            .and_then(quoted)
            .map(|(n, _)| n);
        if resource.is_empty() {
            continue;
        }
        out.push(Denial {
            user,
            verb,
            resource,
            group,
            namespace,
        });
    }
    out
}

/// The message of a Status JSON body, or the text itself.
pub fn status_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_parse_status_messages_log_lines_and_the_old_form() {
        let d = denials(
            "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        );
        assert_eq!(
            d,
            vec![Denial {
                user: "jane".into(),
                verb: "list".into(),
                resource: "nodes".into(),
                group: "".into(),
                namespace: None
            }]
        );
        let d = denials(
            "err=\"failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User \\\"system:serviceaccount:kube-system:kube-proxy\\\" cannot list resource \\\"endpointslices\\\" in API group \\\"discovery.k8s.io\\\" at the cluster scope\"",
        );
        assert_eq!(d[0].user, "system:serviceaccount:kube-system:kube-proxy");
        assert_eq!(d[0].resource, "endpointslices");
        assert_eq!(d[0].group, "discovery.k8s.io");
        let d = denials(
            "Error from server (Forbidden): User \"kubernetes-admin\" cannot list nodes at the cluster scope. (get nodes)",
        );
        assert_eq!(d[0].resource, "nodes");
        assert_eq!(d[0].verb, "list");
        let d = denials(
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\"",
        );
        assert_eq!(d[0].namespace.as_deref(), Some("kube-system"));
        assert!(denials("all good").is_empty());
    }

    #[test]
    fn journal_records_join_wrapped_klog_lines_and_name_nodes() {
        let text = "-- cp-1 --\nE0115 09:58:31.402114 1 reflector.go:158] pods is forbidden: User \"system:node:cp-1\" cannot list resource \"pods\" in API\ngroup \"\" at the cluster scope\nI0115 09:58:32.000000 1 x.go:1] ok\n-- w-1 --\n[reflector.go:205] nodes is forbidden: User \"kubelet\" cannot list nodes at the cluster scope\n[reflector.go:205] second\n";
        let recs = journal_records(text);
        assert_eq!(recs.len(), 4, "{recs:?}");
        assert_eq!(recs[0].0, "cp-1");
        assert!(recs[0].1.ends_with("at the cluster scope"));
        assert_eq!(denials(&recs[0].1)[0].resource, "pods");
        assert!(recs[0].1.contains("in API group"));
        // Lines without any header are records of their own, never glued together.
        assert_eq!(recs[2], ("w-1".to_string(), "[reflector.go:205] nodes is forbidden: User \"kubelet\" cannot list nodes at the cluster scope".to_string()));
        assert_eq!(denials(&recs[2].1)[0].user, "kubelet");
    }

    #[test]
    fn legacy_csrs_are_classified_by_requestor_and_usages() {
        use serde_json::json;
        let client = json!({"spec": {"signerName": LEGACY_SIGNER, "username": "system:bootstrap:abc", "groups": ["system:bootstrappers"], "usages": ["digital signature", "key encipherment", "client auth"]}});
        assert_eq!(csr_signer(&client), KUBELET_CLIENT_SIGNER);
        let serving = json!({"spec": {"username": "system:node:w1", "groups": ["system:nodes"], "usages": ["key encipherment", "server auth"]}});
        assert_eq!(csr_signer(&serving), KUBELET_SERVING_SIGNER);
        let other = json!({"spec": {"signerName": LEGACY_SIGNER, "username": "jane", "usages": ["client auth"]}});
        assert_eq!(csr_signer(&other), LEGACY_SIGNER);
        let modern = json!({"spec": {"signerName": "example.com/x", "username": "system:node:w1"}});
        assert_eq!(csr_signer(&modern), "example.com/x");
    }

    #[test]
    fn flags_read_both_forms() {
        let cmd: Vec<String> = ["kube-apiserver", "--a=1", "--b", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flag(&cmd, "--a"), Some("1"));
        assert_eq!(flag(&cmd, "--b"), Some("2"));
        assert_eq!(flag(&cmd, "--c"), None);
    }
}
