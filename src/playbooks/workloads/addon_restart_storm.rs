//! WL-07 `addon-restart-storm`: cluster add-ons (kube-system, ingress controllers, CNI
//! namespaces) whose containers keep restarting. A high restart count alone is not a failure
//! (a pod that restarted long ago and has run quietly since is healthy): the rule looks at
//! the restart rate (over the pod's life, and how often it restarts now from its last run and
//! back-off) and at how recent the last restart is, leaves out the pods of a node that all
//! restarted at one instant (a reboot or a runtime restart, not a storm), then
//! classifies the cause from `lastState.terminated`, the previous run's log and the events
//! (OOMKilled, an error the add-on logged, liveness kills, a bad command). Causes another
//! playbook owns (the API service VIP unreachable, control-plane probes, DNS loops, RBAC)
//! are named and left to it at a lower severity.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::common::{
    CurrentRate, RestartCause, classify, container_statuses, current_rate, ev, event_count,
    events_all, events_for, human, is_addon_namespace, last_terminated, lifetime_rate, name_of,
    ns_of, pod_ref, pods_all, restarted_together, restarts, running_since, secs_since, st,
    waiting_message, waiting_reason, workload_arg,
};
use crate::cluster::lean::{ContainerStatus, MetaExt, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "addon-restart-storm",
    code: "WL-07",
    title: "Add-on pods restarting at a high rate",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["kube-system", "restarts"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["high restart count"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["kube-system", "crashloopbackoff"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["add-on", "restart"],
            weight: 0.5,
        },
        Symptom {
            all_of: &["ingress-nginx", "crashloopbackoff"],
            weight: 0.6,
        },
    ],
    queries,
    diagnose,
};

/// Restarts below this never make a storm.
const MIN_RESTARTS: i64 = 3;
/// This many restarts with a recent one is a storm whatever the pod's age.
const HIGH_RESTARTS: i64 = 5;
/// Restarts per hour (over the pod's life, or now) that make a storm (popeye 205 counts, we
/// rate).
const RATE_PER_HOUR: f64 = 5.0;
/// A restart within this window means the container is still failing.
const RECENT_SECS: i64 = 3600;
/// A previous run at least this long says the container does not die soon after it starts.
const LONG_RUN_SECS: i64 = 3600;
/// At most this many previous logs are read.
const MAX_LOGS: usize = 5;
const LOG_TAIL: i64 = 50;

/// Add-on containers that restarted often enough to be worth a log read (no clock here).
fn candidates(pods: &[Arc<Pod>]) -> Vec<(String, String, String, i64)> {
    let mut out: Vec<(String, String, String, i64)> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| is_addon_namespace(ns_of(*p)))
        .flat_map(|p| {
            container_statuses(p).iter().filter_map(move |cs| {
                let rc = restarts(cs);
                (rc >= MIN_RESTARTS).then(|| {
                    (
                        ns_of(p).to_string(),
                        name_of(p).to_string(),
                        cs.name.clone(),
                        rc,
                    )
                })
            })
        })
        .collect();
    out.sort_by(|a, b| b.3.cmp(&a.3).then(a.1.cmp(&b.1)));
    out.truncate(MAX_LOGS);
    out
}

fn log_query(ns: &str, pod: &str, c: &str) -> Query {
    q::logs(ns, pod, Some(c), true, Some(LOG_TAIL))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all()];
    for (ns, pod, c, _) in candidates(r.pods()) {
        let prev = log_query(&ns, &pod, &c);
        // No previous log (rotated, or a snapshot without it): the current one.
        if matches!(r.outcome(&prev), Some(Outcome::Failed { .. })) {
            out.push(current_log_query(&ns, &pod, &c));
        }
        out.push(prev);
    }
    out
}

fn current_log_query(ns: &str, pod: &str, c: &str) -> Query {
    q::logs(ns, pod, Some(c), false, Some(LOG_TAIL))
}

/// One restarting add-on container, judged at `now`.
struct Storm<'a> {
    pod: &'a Pod,
    cs: &'a ContainerStatus,
    restarts: i64,
    /// The honest rate: the larger of the lifetime and the current one (0 when neither).
    rate: f64,
    /// Restarts per hour over the pod's life (`None` for a pod too young for a rate).
    lifetime: Option<f64>,
    current: Option<CurrentRate>,
    age_secs: i64,
    last_restart_ago: Option<i64>,
    crashloop: bool,
}

impl Storm<'_> {
    /// `7.8 restarts/h over its 2h of age`, or how often it restarts now.
    fn rate_text(&self) -> String {
        let life = match self.lifetime {
            Some(l) => format!("{l:.1} restarts/h over its {} of age", human(self.age_secs)),
            None => format!(
                "{} restarts in its first {} (too young for a rate)",
                self.restarts,
                human(self.age_secs)
            ),
        };
        match self.current {
            Some(c) if self.lifetime.is_none_or(|l| c.per_hour > l * 1.5) => format!(
                "~{:.0} restarts/h now (restarting every ~{}: its last run lasted {}); {life}",
                c.per_hour,
                human(c.cycle_secs),
                human(c.run_secs)
            ),
            _ => life,
        }
    }
}

fn storm<'a>(pod: &'a Pod, cs: &'a ContainerStatus, now: DateTime<Utc>) -> Option<Storm<'a>> {
    let restarts = restarts(cs);
    if restarts < MIN_RESTARTS {
        return None;
    }
    let started = secs_since(
        pod.status.start_time.or_else(|| pod.metadata.created()),
        now,
    )?;
    let lifetime = lifetime_rate(restarts, started.max(0));
    let current = current_rate(cs, now);
    let rate = lifetime
        .unwrap_or(0.0)
        .max(current.map_or(0.0, |c| c.per_hour));
    let crashloop = waiting_reason(cs) == "CrashLoopBackOff";
    let last_restart_ago = last_terminated(cs)
        .and_then(|t| secs_since(t.finished_at, now))
        .or_else(|| secs_since(running_since(cs), now));
    let recent = crashloop || last_restart_ago.is_some_and(|a| a <= RECENT_SECS);
    // Many restarts and a recent one, but the last run lasted hours: one restart after a long
    // healthy run, not a storm.
    let last_run = last_terminated(cs).map_or([None, None], |t| [t.started_at, t.finished_at]);
    let last_run_long =
        matches!(last_run, [Some(a), Some(b)] if (b - a).num_seconds() >= LONG_RUN_SECS);
    let many = restarts >= HIGH_RESTARTS && (crashloop || !last_run_long);
    (recent && (many || rate >= RATE_PER_HOUR)).then_some(Storm {
        pod,
        cs,
        restarts,
        rate,
        lifetime,
        current,
        age_secs: started,
        last_restart_ago,
        crashloop,
    })
}

/// Another playbook that owns the cause, recognised from the log line or the pod.
fn owned_elsewhere(pod: &Pod, cause: &RestartCause) -> Option<(&'static str, &'static str)> {
    let line = match cause {
        RestartCause::AppError { line, .. } => line.to_lowercase(),
        RestartCause::LivenessKilled { message } => message.to_lowercase(),
        _ => String::new(),
    };
    let pod_name = name_of(pod);
    let control_plane = pod.label("tier") == Some("control-plane")
        || [
            "kube-apiserver-",
            "kube-controller-manager-",
            "kube-scheduler-",
            "etcd-",
        ]
        .iter()
        .any(|p| pod_name.starts_with(p));
    if control_plane {
        return Some(if matches!(cause, RestartCause::LivenessKilled { .. }) {
            (
                "CP-06",
                "the kubelet kills a control-plane static pod for failing its liveness probe (probe host/port/scheme)",
            )
        } else if line.contains("gateway timeout") || line.contains("proxyconnect") {
            (
                "CP-01",
                "a control-plane component reaches the API server through a proxy (no NO_PROXY)",
            )
        } else if line.contains("leaderelection lost")
            || line.contains("failed to renew lease")
            || line.contains("error retrieving resource lock")
        {
            (
                "CP-04",
                "a control-plane component loses its leader-election lease",
            )
        } else if pod_name.starts_with("etcd-") {
            ("CP-03", "an etcd member keeps failing")
        } else {
            (
                "CP-02",
                "a control-plane component keeps failing (the control-plane playbooks diagnose it)",
            )
        });
    }
    if line.contains("bird is not ready") || line.contains("bgp not established") {
        return Some((
            "NET-06",
            "the CNI agent cannot reach its peers (overlay/BGP ports blocked)",
        ));
    }
    if line.contains(":443: i/o timeout") || line.contains("10.96.0.1:443") {
        return Some((
            "NET-03",
            "the add-on cannot reach the API server through the kubernetes Service VIP",
        ));
    }
    if line.contains("plugin/loop") || line.contains("loop detected") {
        return Some((
            "NET-12",
            "CoreDNS detected a forwarding loop (resolv.conf points at a local stub resolver)",
        ));
    }
    if line.contains("pod cidr not assigned") {
        return Some(("NET-02", "the node has no podCIDR for the CNI"));
    }
    if line.contains("is forbidden: user \"system:") {
        return Some((
            "AUTH-02",
            "the add-on's identity is denied by RBAC (its bootstrap binding is missing)",
        ));
    }
    None
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let events = r.events();
    // A node's pods that all restarted at one instant and run again: a reboot, not a storm.
    let together = restarted_together(pods);
    let rebooted = |p: &Pod| {
        together.iter().any(|t| {
            t.pods
                .iter()
                .any(|(ns, n)| ns == ns_of(p) && n == name_of(p))
        })
    };
    let mut storms: Vec<Storm> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| is_addon_namespace(ns_of(*p)) && !rebooted(p))
        .flat_map(|p| {
            container_statuses(p)
                .iter()
                .filter_map(move |cs| storm(p, cs, now))
        })
        .collect();
    if storms.is_empty() {
        return None;
    }
    storms.sort_by(|a, b| {
        b.crashloop
            .cmp(&a.crashloop)
            .then(b.rate.total_cmp(&a.rate))
            .then(b.restarts.cmp(&a.restarts))
    });
    let worst = &storms[0];
    let (ns, pod_name, cname) = (ns_of(worst.pod), name_of(worst.pod), worst.cs.name.as_str());
    let pod_events = events_for(events, "Pod", ns, pod_name);
    let log = r
        .text(&log_query(ns, pod_name, cname))
        .or_else(|| r.text(&current_log_query(ns, pod_name, cname)));
    let cause = classify(worst.pod, worst.cs, &pod_events, log);
    let pref = pod_ref(ns, pod_name);
    let cpath = format!("status.containerStatuses[{cname}]");
    let mut evidence = vec![
        ev(
            &pref,
            format!("{cpath}.restartCount"),
            worst.restarts.to_string(),
        ),
        ev(&pref, "restart rate", worst.rate_text()),
    ];
    if let Some(a) = worst.last_restart_ago {
        evidence.push(ev(
            &pref,
            format!("{cpath}.lastState.terminated.finishedAt"),
            format!("{} ago", human(a)),
        ));
    }
    if let Some(t) = last_terminated(worst.cs) {
        evidence.push(ev(
            &pref,
            format!("{cpath}.lastState.terminated"),
            format!("reason={} exitCode={}", st(&t.reason), t.exit_code),
        ));
    }
    if worst.crashloop {
        evidence.push(ev(
            &pref,
            format!("{cpath}.state.waiting"),
            format!("CrashLoopBackOff: {}", waiting_message(worst.cs)),
        ));
    }
    if let Some(b) = pod_events.iter().find(|e| st(&e.reason) == "BackOff") {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(*b)),
            "BackOff",
            format!("{} (x{})", st(&b.message), event_count(b)),
        ));
    }
    let image = worst
        .pod
        .spec
        .containers
        .iter()
        .find(|c| c.name == cname)
        .map(|c| st(&c.image))
        .unwrap_or("");
    let wl = workload_arg(worst.pod);
    let others: Vec<String> = storms[1..]
        .iter()
        .map(|o| {
            format!(
                "{}/{} ({} restarts, {}/h)",
                ns_of(o.pod),
                name_of(o.pod),
                o.restarts,
                per_hour(o.rate)
            )
        })
        .collect();
    if !others.is_empty() {
        evidence.push(ev("Pod", "other restarting add-ons", others.join(", ")));
    }
    let logs_cmd =
        format!("kubectl logs -n {ns} {pod_name} -c {cname} --previous --tail {LOG_TAIL}");
    let describe = format!("kubectl describe pod -n {ns} {pod_name}");
    let mut ruled_out: Vec<String> = Vec::new();
    let severity;
    let confidence;
    let summary;
    let explanation: String;
    let mut commands: Vec<String>;
    if let Some((code, why)) = owned_elsewhere(worst.pod, &cause) {
        let line = match &cause {
            RestartCause::AppError { line, .. } => line.clone(),
            RestartCause::LivenessKilled { message } => message.clone(),
            _ => String::new(),
        };
        evidence.push(ev(&pref, format!("log[{cname}] (previous)"), line));
        summary = format!(
            "Add-on {ns}/{pod_name} keeps restarting ({} restarts) because {why}: see {code}.",
            worst.restarts
        );
        explanation = format!(
            "The restarts are a symptom; {code} diagnoses the cause. Read the previous run's log to confirm, then follow {code}."
        );
        commands = vec![logs_cmd.clone(), describe.clone()];
        ruled_out.push("Not OOMKilled: the last termination was not reported as OOMKilled.".into());
        severity = FindingSeverity::Warning;
        confidence = 0.5;
    } else {
        match &cause {
            RestartCause::OomKilled { limit } => {
                let lim = limit.clone().unwrap_or_else(|| "none".into());
                evidence.push(ev(
                    &pref,
                    format!("spec.containers[{cname}].resources.limits.memory"),
                    lim.clone(),
                ));
                let raised = limit
                    .as_deref()
                    .and_then(double_quantity)
                    .unwrap_or_else(|| "512Mi".into());
                summary = format!(
                    "Add-on {ns}/{pod_name} ({cname}) is killed by the OOM killer over and over ({} restarts, last exit 137 OOMKilled): its memory limit {lim} is too small for its load.",
                    worst.restarts
                );
                explanation = format!(
                    "The container exceeds its memory limit ({lim}) and the kernel kills it (exit 137, reason OOMKilled); the kubelet restarts it with a growing back-off, so the add-on is down most of the time. Check its usage with `kubectl top`, then raise the limit on the owning {wl} (and its request if the node is tight). If usage grows without bound, it is a leak: upgrade the add-on."
                );
                // `kubectl top` needs metrics-server: when it is the victim, ask the runtime.
                let usage = if pod_name.starts_with("metrics-server") {
                    format!(
                        "# on {}: sudo crictl stats --name {cname}   # the metrics API is down with it",
                        st(&worst.pod.spec.node_name)
                    )
                } else {
                    format!("kubectl top pod -n {ns} {pod_name} --containers")
                };
                commands = vec![
                    usage,
                    format!(
                        "kubectl -n {ns} set resources {wl} -c {cname} --limits=memory={raised}"
                    ),
                    format!("kubectl -n {ns} rollout status {wl}"),
                ];
                ruled_out.push("Not a liveness-probe kill: the last termination is OOMKilled, which only the kernel reports.".into());
                ruled_out.push("Not an application error: the container did not exit on its own; it was killed at its memory limit.".into());
                severity = FindingSeverity::Critical;
                confidence = 0.92;
            }
            RestartCause::AppError { exit_code, line } => {
                evidence.push(ev(&pref, format!("log[{cname}] (previous)"), line.clone()));
                summary = format!(
                    "Add-on {ns}/{pod_name} ({cname}) exits with code {exit_code} and restarts over and over ({} restarts): it logs `{}`.",
                    worst.restarts,
                    short(line)
                );
                explanation = "The add-on starts, hits the error in its log and exits; fix what the error names (its flags or ConfigMap, a dependency, its RBAC) and the restarts stop. The previous run's log holds the full context.".into();
                commands = vec![
                    logs_cmd.clone(),
                    format!("kubectl -n {ns} get {wl} -o yaml"),
                    format!("kubectl -n {ns} rollout restart {wl}"),
                ];
                ruled_out.push(
                    "Not OOMKilled: the container exited on its own with an error code.".into(),
                );
                ruled_out.push(
                    "Not a liveness kill: no failed liveness probe events for this pod.".into(),
                );
                severity = FindingSeverity::Critical;
                confidence = 0.85;
            }
            RestartCause::LivenessKilled { message } => {
                evidence.push(ev(format!("Event/{ns}"), "Unhealthy", message.clone()));
                summary = format!(
                    "Add-on {ns}/{pod_name} ({cname}) is restarted by the kubelet for failing its liveness probe ({} restarts): {}",
                    worst.restarts,
                    short(message)
                );
                explanation = "The kubelet kills the container whenever its liveness probe fails. Check that the probe's host, port, path and scheme match what the add-on serves, and that timeoutSeconds/failureThreshold leave room for slow starts; if the endpoint really hangs, the add-on is overloaded.".into();
                commands = vec![
                    describe.clone(),
                    format!(
                        "kubectl -n {ns} get {wl} -o jsonpath='{{.spec.template.spec.containers[?(@.name==\"{cname}\")].livenessProbe}}'"
                    ),
                    logs_cmd.clone(),
                ];
                ruled_out.push("Not OOMKilled: the last termination is not OOMKilled.".into());
                severity = FindingSeverity::Critical;
                confidence = 0.85;
            }
            RestartCause::BadCommand { exit_code, detail } => {
                evidence.push(ev(
                    &pref,
                    format!("{cpath}.lastState.terminated.message"),
                    detail.clone(),
                ));
                summary = format!(
                    "Add-on {ns}/{pod_name} ({cname}) cannot start its command (exit {exit_code}): the image {image} does not run here (wrong command or architecture)."
                );
                explanation = "Exit 127/126 or `exec format error` means the entrypoint is missing, not executable, or built for another CPU architecture. Use an image (or tag) built for the nodes' architecture and check command/args.".into();
                commands = vec![
                    logs_cmd.clone(),
                    "kubectl get nodes -o custom-columns=NAME:.metadata.name,ARCH:.status.nodeInfo.architecture".into(),
                    format!("kubectl -n {ns} set image {wl} {cname}=<image built for the node architecture>"),
                ];
                ruled_out
                    .push("Not OOMKilled and not a liveness kill: the process never ran.".into());
                severity = FindingSeverity::Critical;
                confidence = 0.85;
            }
            RestartCause::Unknown { exit_code, reason } => {
                summary = format!(
                    "Add-on {ns}/{pod_name} ({cname}) restarts at {}/h ({} restarts, last exit {exit_code} {reason}); its previous log did not name a cause.",
                    per_hour(worst.rate),
                    worst.restarts
                );
                explanation = "The add-on keeps failing but neither its termination nor the log it left names the cause. Read the previous log in full and the pod's events; check the node it runs on.".into();
                commands = vec![logs_cmd.clone(), describe.clone()];
                ruled_out.push("Not OOMKilled: the last termination is not OOMKilled.".into());
                severity = FindingSeverity::Warning;
                confidence = 0.6;
            }
        }
    }
    commands.push(format!(
        "kubectl get pods -n {ns} -o custom-columns=NAME:.metadata.name,RESTARTS:.status.containerStatuses[*].restartCount,LAST:.status.containerStatuses[*].lastState.terminated.reason"
    ));
    for t in &together {
        ruled_out.push(format!(
            "Not counted: {} pods on node {} restarted together at {} (a reboot or a container-runtime restart, not a storm).",
            t.pods.len(),
            t.node,
            t.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    ruled_out.push(format!(
        "Not an old, settled restart count: the last restart was {} ago and the rate is {}/h (a pod that restarted long ago and has run since is ignored).",
        worst.last_restart_ago.map(human).unwrap_or_else(|| "moments".into()),
        per_hour(worst.rate)
    ));
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation,
            commands,
        },
    })
}

/// `11.1`, or `<0.1` (never `0.0` for a container that restarted).
fn per_hour(r: f64) -> String {
    if r >= 0.05 {
        format!("{r:.1}")
    } else {
        "<0.1".into()
    }
}

fn short(line: &str) -> String {
    let t = line.trim();
    if t.chars().count() > 160 {
        format!("{}…", t.chars().take(160).collect::<String>())
    } else {
        t.to_string()
    }
}

/// Twice a memory quantity (`256Mi` -> `512Mi`), for the suggested new limit.
fn double_quantity(q: &str) -> Option<String> {
    let split = q.find(|c: char| !c.is_ascii_digit()).unwrap_or(q.len());
    let (n, unit) = q.split_at(split);
    let n: u64 = n.parse().ok()?;
    Some(format!("{}{unit}", n * 2))
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::lean_results;
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::{Value, json};

    fn now() -> DateTime<Utc> {
        crate::playbooks::workloads::common::parse_time("2026-01-15T10:00:00Z").unwrap_or_default()
    }

    fn pod(
        ns: &str,
        name: &str,
        created: &str,
        restarts: i64,
        last: Option<(&str, i64, &str)>,
        waiting: bool,
    ) -> Value {
        let mut cs = json!({"name": "c", "restartCount": restarts, "ready": !waiting,
            "state": if waiting { json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}) } else { json!({"running": {"startedAt": "2026-01-15T09:58:00Z"}}) }});
        if let Some((reason, exit, finished)) = last {
            cs["lastState"] =
                json!({"terminated": {"reason": reason, "exitCode": exit, "finishedAt": finished}});
        }
        json!({"kind": "Pod", "metadata": {"namespace": ns, "name": name, "creationTimestamp": created,
                "labels": {"pod-template-hash": "abc"}, "ownerReferences": [{"kind": "ReplicaSet", "name": "x-abc", "controller": true}]},
            "spec": {"containers": [{"name": "c", "image": "img:1", "resources": {"limits": {"memory": "128Mi"}}}]},
            "status": {"startTime": created, "containerStatuses": [cs]}})
    }

    fn results(pods: Vec<Value>, events: Vec<Value>) -> Results {
        lean_results(&pods, &events)
    }

    #[test]
    fn an_oom_storm_in_kube_system_is_critical_with_the_limit_to_raise() {
        let p = pod(
            "kube-system",
            "metrics-server-abc-1",
            "2026-01-15T07:50:00Z",
            17,
            Some(("OOMKilled", 137, "2026-01-15T09:58:49Z")),
            false,
        );
        let f = diagnose(&results(vec![p], vec![]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(f.summary.contains("OOM"), "{}", f.summary);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "restart rate" && e.value.starts_with("7.8 restarts/h")),
            "{:#?}",
            f.evidence
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("set resources deployment/x -c c --limits=memory=256Mi")),
            "{:#?}",
            f.fix.commands
        );
    }

    #[test]
    fn old_restarts_and_workload_namespaces_are_not_a_storm() {
        // Negative control: many restarts, the last 12 days ago, running since.
        let old = pod(
            "kube-system",
            "coredns-1",
            "2025-12-01T00:00:00Z",
            9,
            Some(("Error", 1, "2026-01-03T10:00:00Z")),
            false,
        );
        assert!(diagnose(&results(vec![old], vec![]), now()).is_none());
        // A crash-looping application pod belongs to crashloop, not here.
        let app = pod(
            "shop",
            "cart-1",
            "2026-01-15T09:00:00Z",
            12,
            Some(("Error", 1, "2026-01-15T09:59:00Z")),
            true,
        );
        assert!(diagnose(&results(vec![app], vec![]), now()).is_none());
        // Two restarts are not a storm.
        let few = pod(
            "kube-system",
            "coredns-2",
            "2026-01-15T09:30:00Z",
            2,
            Some(("Error", 1, "2026-01-15T09:59:00Z")),
            false,
        );
        assert!(diagnose(&results(vec![few], vec![]), now()).is_none());
        assert!(diagnose(&results(vec![], vec![]), now()).is_none());
    }

    #[test]
    fn causes_owned_by_other_playbooks_are_named_and_left_to_them() {
        let p = pod(
            "kube-system",
            "coredns-1",
            "2025-12-01T00:00:00Z",
            30,
            Some(("Error", 1, "2026-01-15T09:59:30Z")),
            true,
        );
        let mut r = results(vec![p], vec![]);
        r.by_query.insert(
            log_query("kube-system", "coredns-1", "c"),
            Outcome::Text { code: 200, body: "[ERROR] plugin/kubernetes: Failed to watch *v1.Namespace: failed to list *v1.Namespace: Get \"https://10.96.0.1:443/api/v1/namespaces?limit=500\": dial tcp 10.96.0.1:443: i/o timeout\n".into() },
        );
        let f = diagnose(&r, now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("NET-03"), "{}", f.summary);
        // A liveness kill of an ordinary add-on is diagnosed here.
        let p = pod(
            "ingress-nginx",
            "ingress-nginx-controller-1",
            "2026-01-15T09:00:00Z",
            8,
            Some(("Error", 137, "2026-01-15T09:59:30Z")),
            true,
        );
        let e = json!({"kind": "Event", "metadata": {"name": "e1", "namespace": "ingress-nginx"}, "involvedObject": {"kind": "Pod", "namespace": "ingress-nginx", "name": "ingress-nginx-controller-1"},
            "reason": "Unhealthy", "message": "Liveness probe failed: HTTP probe failed with statuscode: 500", "lastTimestamp": "2026-01-15T09:59:20Z"});
        let f = diagnose(&results(vec![p], vec![e]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("liveness"), "{}", f.summary);
    }

    #[test]
    fn control_plane_restarts_are_left_to_the_control_plane_playbooks() {
        let mut p = pod(
            "kube-system",
            "kube-controller-manager-cp-1",
            "2026-01-09T10:00:00Z",
            12,
            Some(("Error", 1, "2026-01-15T09:59:00Z")),
            true,
        );
        p["metadata"]["labels"]["tier"] = json!("control-plane");
        let mut r = results(vec![p], vec![]);
        // No previous log: the current one is asked for and read.
        let prev = log_query("kube-system", "kube-controller-manager-cp-1", "c");
        r.by_query.insert(
            prev,
            Outcome::Failed {
                code: 400,
                message: "previous terminated container not found".into(),
            },
        );
        let cur = current_log_query("kube-system", "kube-controller-manager-cp-1", "c");
        assert!(queries(&r).contains(&cur));
        r.by_query.insert(cur, Outcome::Text { code: 200, body: "E0115 09:58:59.000000       1 leaderelection.go:429] error retrieving resource lock kube-system/kube-controller-manager: Get \"https://10.0.0.7:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager\": Gateway Timeout\n".into() });
        let f = diagnose(&r, now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(f.summary.contains("CP-01"), "{}", f.summary);
    }

    #[test]
    fn previous_logs_are_read_for_restarting_addons_only() {
        let p = pod(
            "kube-system",
            "coredns-1",
            "2025-12-01T00:00:00Z",
            30,
            None,
            true,
        );
        let q = pod("shop", "cart-1", "2025-12-01T00:00:00Z", 30, None, true);
        let r = results(vec![p, q], vec![]);
        let qs = queries(&r);
        assert!(qs.contains(&log_query("kube-system", "coredns-1", "c")));
        assert_eq!(qs.len(), 3, "{qs:#?}");
        assert_eq!(
            qs[2].kubectl,
            "kubectl logs -n kube-system coredns-1 -c c --previous --tail 50"
        );
    }

    #[test]
    fn symptoms_point_here() {
        let ranked =
            crate::playbooks::engine::rank_symptoms("kube-system pods with high restart counts");
        assert_eq!(ranked.first().map(|r| r.0.id), Some("addon-restart-storm"));
    }

    /// A kube-system pod on `node`, started `created`, whose container restarted `restarts`
    /// times; the last run went from `run` to `finished`, and it runs again since `since`.
    fn ran(
        name: &str,
        node: &str,
        created: &str,
        restarts: i64,
        run: (Option<&str>, &str),
        since: &str,
    ) -> Value {
        let mut p = pod("kube-system", name, created, restarts, None, false);
        let mut t = json!({"reason": "Unknown", "exitCode": 255, "finishedAt": run.1});
        if let Some(started) = run.0 {
            t["startedAt"] = json!(started);
        }
        p["status"]["containerStatuses"][0]["lastState"] = json!({ "terminated": t });
        p["status"]["containerStatuses"][0]["state"] = json!({"running": {"startedAt": since}});
        p["spec"]["nodeName"] = json!(node);
        p["metadata"]["ownerReferences"][0]["name"] = json!(format!("{name}-abc"));
        p
    }

    #[test]
    fn a_container_dying_every_15s_in_an_old_pod_is_a_storm() {
        // 30 days old, only 4 restarts over its life (0.0/h), but the last run lasted 15 s and
        // it started again 10 s later: ~144/h now.
        let p = ran(
            "kube-proxy-x",
            "w-1",
            "2025-12-16T10:00:00Z",
            4,
            (Some("2026-01-15T09:59:30Z"), "2026-01-15T09:59:45Z"),
            "2026-01-15T09:59:55Z",
        );
        let f = diagnose(&results(vec![p], vec![]), now()).expect("a storm");
        let rate = f
            .evidence
            .iter()
            .find(|e| e.field == "restart rate")
            .unwrap();
        assert!(
            rate.value.starts_with(
                "~144 restarts/h now (restarting every ~25s: its last run lasted 15s)"
            ),
            "{}",
            rate.value
        );
        // The same counts with a last run of three days: one restart after a long run.
        let p = ran(
            "kube-proxy-x",
            "w-1",
            "2025-12-16T10:00:00Z",
            9,
            (Some("2026-01-12T09:00:00Z"), "2026-01-15T09:59:45Z"),
            "2026-01-15T09:59:55Z",
        );
        assert!(diagnose(&results(vec![p], vec![]), now()).is_none());
    }

    #[test]
    fn a_young_pod_is_not_rated_over_its_first_minutes() {
        // 4 minutes old, 3 restarts, run lengths unknown: a count, not "45/h".
        let p = ran(
            "coredns-young",
            "w-1",
            "2026-01-15T09:56:00Z",
            3,
            (None, "2026-01-15T09:58:00Z"),
            "2026-01-15T09:58:10Z",
        );
        assert!(diagnose(&results(vec![p], vec![]), now()).is_none());
    }

    #[test]
    fn a_node_whose_pods_all_restarted_at_once_is_no_storm() {
        // Every pod of w-2 terminated within 20 s of 09:48 and runs again: a reboot. Run
        // lengths unknown, 7 restarts each: without the grouping each would be a storm.
        let at = [
            "2026-01-15T09:48:00Z",
            "2026-01-15T09:48:09Z",
            "2026-01-15T09:48:20Z",
        ];
        let pods: Vec<Value> = ["kube-proxy-w2", "calico-node-w2", "coredns-w2", "csi-w2"]
            .iter()
            .enumerate()
            .map(|(k, n)| {
                ran(
                    n,
                    "w-2",
                    "2025-12-01T00:00:00Z",
                    7,
                    (None, at[k % 3]),
                    "2026-01-15T09:49:00Z",
                )
            })
            .collect();
        assert!(diagnose(&results(pods.clone(), vec![]), now()).is_none());
        // A real storm elsewhere still fires, and says the reboot was left out.
        let mut all = pods;
        all.push(pod(
            "kube-system",
            "metrics-server-abc-1",
            "2026-01-15T07:50:00Z",
            17,
            Some(("OOMKilled", 137, "2026-01-15T09:58:49Z")),
            true,
        ));
        let f = diagnose(&results(all, vec![]), now()).expect("the OOM storm");
        assert!(f.summary.contains("metrics-server"), "{}", f.summary);
        assert!(
            f.ruled_out.iter().any(|r| r.starts_with(
                "Not counted: 4 pods on node w-2 restarted together at 2026-01-15T09:48:00Z"
            )),
            "{:#?}",
            f.ruled_out
        );
        assert!(
            !f.evidence.iter().any(|e| e.value.contains("kube-proxy-w2")),
            "{:#?}",
            f.evidence
        );
    }

    #[test]
    fn the_kubelet_backoff_is_read_from_the_message_or_the_count() {
        use crate::playbooks::workloads::common::{backoff_in_message, kubelet_backoff_secs};
        assert_eq!(
            backoff_in_message("back-off 5m0s restarting failed container"),
            Some(300)
        );
        assert_eq!(backoff_in_message("back-off 2m40s restarting"), Some(160));
        assert_eq!(backoff_in_message("back-off soon"), None);
        assert_eq!(kubelet_backoff_secs(1), 10);
        assert_eq!(kubelet_backoff_secs(4), 80);
        assert_eq!(kubelet_backoff_secs(40), 300);
    }
}
