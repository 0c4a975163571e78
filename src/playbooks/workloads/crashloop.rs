//! WL-01 `crashloop`: an application pod in `CrashLoopBackOff`. The cause is read from the
//! last termination (`OOMKilled`/137: the memory limit; 127/126 or `exec format error`: the
//! command or the image's architecture), the previous run's log or termination message (an
//! application or configuration error, quoted), and the pod's events (liveness kills).
//! Add-on namespaces are left to `addon-restart-storm`, which rates restarts there.

use chrono::{DateTime, Utc};

use super::common::{
    RestartCause, all_ready, classify, container_statuses, ev, event_count, events_all, events_for,
    human, is_addon_namespace, last_terminated, name_of, ns_of, pod_ref, pods_all, restarts,
    secs_since, st, waiting_message, waiting_reason, workload_arg,
};
use crate::cluster::lean::{ContainerStatus, Pod};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, QueryKind, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "crashloop",
    code: "WL-01",
    title: "Pod in CrashLoopBackOff",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["crashloopbackoff"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["back-off restarting failed container"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["oomkilled"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["exec format error"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

const MAX_LOGS: usize = 5;
const LOG_TAIL: i64 = 50;

fn crashlooping(p: &Pod) -> impl Iterator<Item = &ContainerStatus> {
    container_statuses(p)
        .iter()
        .filter(|cs| waiting_reason(cs) == "CrashLoopBackOff")
}

fn log_query(ns: &str, pod: &str, c: &str) -> Query {
    q::logs(ns, pod, Some(c), true, Some(LOG_TAIL))
}

/// While a container waits out its back-off, its current log is the run that just died.
fn current_log_query(ns: &str, pod: &str, c: &str) -> Query {
    q::logs(ns, pod, Some(c), false, Some(LOG_TAIL))
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all()];
    let mut logs: Vec<(i64, Query)> = r
        .pods()
        .iter()
        .filter(|p| !is_addon_namespace(ns_of(&***p)))
        .flat_map(|p| {
            crashlooping(p).map(move |cs| {
                (
                    restarts(cs),
                    log_query(ns_of(&**p), name_of(&**p), &cs.name),
                )
            })
        })
        .collect();
    logs.sort_by_key(|x| std::cmp::Reverse(x.0));
    for (_, prev) in logs.into_iter().take(MAX_LOGS) {
        if let (
            Some(Outcome::Failed { .. }),
            QueryKind::Logs {
                namespace,
                pod,
                container,
                ..
            },
        ) = (r.outcome(&prev), &prev.kind)
        {
            out.push(current_log_query(
                namespace,
                pod,
                container.as_deref().unwrap_or(""),
            ));
        }
        out.push(prev);
    }
    out
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let events = r.events();
    let mut found: Vec<(&Pod, &ContainerStatus)> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| !is_addon_namespace(ns_of(*p)))
        .flat_map(|p| crashlooping(p).map(move |cs| (p, cs)))
        .collect();
    if found.is_empty() {
        return None;
    }
    found.sort_by_key(|x| std::cmp::Reverse(restarts(x.1)));
    let (pod, cs) = found[0];
    let (ns, pod_name, cname) = (ns_of(pod), name_of(pod), cs.name.as_str());
    let pod_events = events_for(events, "Pod", ns, pod_name);
    let log = r
        .text(&log_query(ns, pod_name, cname))
        .or_else(|| r.text(&current_log_query(ns, pod_name, cname)));
    let cause = classify(pod, cs, &pod_events, log);
    let pref = pod_ref(ns, pod_name);
    let cpath = format!("status.containerStatuses[{cname}]");
    let restarts = restarts(cs);
    let mut evidence = vec![
        ev(
            &pref,
            format!("{cpath}.state.waiting"),
            format!("CrashLoopBackOff: {}", waiting_message(cs)),
        ),
        ev(&pref, format!("{cpath}.restartCount"), restarts.to_string()),
    ];
    if let Some(t) = last_terminated(cs) {
        let when = secs_since(t.finished_at, now)
            .map(|a| format!(", {} ago", human(a)))
            .unwrap_or_default();
        evidence.push(ev(
            &pref,
            format!("{cpath}.lastState.terminated"),
            format!("reason={} exitCode={}{when}", st(&t.reason), t.exit_code),
        ));
    }
    if let Some(b) = pod_events.iter().find(|e| st(&e.reason) == "BackOff") {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(*b)),
            "BackOff",
            format!("{} (x{})", st(&b.message), event_count(b)),
        ));
    }
    let wl = workload_arg(pod);
    let siblings: Vec<&Pod> = pods
        .iter()
        .map(|p| &**p)
        .filter(|p| ns_of(*p) == ns && workload_arg(p) == wl && name_of(*p) != pod_name)
        .collect();
    let ready_siblings = siblings.iter().filter(|p| all_ready(p, false)).count();
    if !siblings.is_empty() {
        evidence.push(ev(
            format!("{wl} in {ns}"),
            "other replicas ready",
            format!("{ready_siblings}/{}", siblings.len()),
        ));
    }
    if found.len() > 1 {
        let others: Vec<String> = found[1..]
            .iter()
            .take(5)
            .map(|(p, c)| format!("{}/{} ({})", ns_of(*p), name_of(*p), c.name))
            .collect();
        evidence.push(ev("Pod", "also in CrashLoopBackOff", others.join(", ")));
    }
    let logs_cmd =
        format!("kubectl logs -n {ns} {pod_name} -c {cname} --previous --tail {LOG_TAIL}");
    let describe = format!("kubectl describe pod -n {ns} {pod_name}");
    let mut ruled_out: Vec<String> = Vec::new();
    let (summary, explanation, commands, confidence): (String, String, Vec<String>, f32) =
        match &cause {
            RestartCause::OomKilled { limit } => {
                let lim = limit.clone().unwrap_or_else(|| "none".into());
                evidence.push(ev(
                    &pref,
                    format!("spec.containers[{cname}].resources.limits.memory"),
                    lim.clone(),
                ));
                ruled_out.push("Not an application error: the kernel killed the process at its memory limit (OOMKilled, exit 137).".into());
                ruled_out.push("Not a liveness kill: the termination reason is OOMKilled.".into());
                (
                    format!("{ns}/{pod_name} ({cname}) is OOMKilled at its memory limit {lim} and crash-loops ({restarts} restarts)."),
                    format!("The container uses more memory than its limit ({lim}); the kernel kills it with exit 137. Measure its real usage and raise the limit on {wl} (or fix the leak)."),
                    vec![
                        format!("kubectl top pod -n {ns} {pod_name} --containers"),
                        format!("kubectl -n {ns} set resources {wl} -c {cname} --limits=memory=<above the measured peak>"),
                        describe.clone(),
                    ],
                    0.92,
                )
            }
            RestartCause::AppError { exit_code, line } => {
                evidence.push(ev(&pref, format!("log[{cname}] (previous run)"), line.clone()));
                ruled_out.push("Not OOMKilled: the process exited on its own with an error code.".into());
                ruled_out.push("Not a liveness kill: there are no failed liveness probe events for this pod.".into());
                ruled_out.push(format!("Not a wrong command or architecture: exit code {exit_code} comes from the running application, not 126/127."));
                (
                    format!("{ns}/{pod_name} ({cname}) exits with code {exit_code} and crash-loops ({restarts} restarts): the application fails with `{}`.", short(line)),
                    format!("The application starts, fails and exits {exit_code}; the error it printed is the cause. Fix what it names (configuration, environment, a dependency, or the code: roll back if it started with a new version), then the back-off resets on the next start."),
                    vec![
                        logs_cmd.clone(),
                        describe.clone(),
                        format!("kubectl -n {ns} rollout history {wl}"),
                        format!("kubectl -n {ns} rollout undo {wl}   # if the crashes began with the last rollout"),
                    ],
                    0.9,
                )
            }
            RestartCause::BadCommand { exit_code, detail } => {
                evidence.push(ev(&pref, format!("{cpath}.lastState.terminated"), detail.clone()));
                ruled_out.push("Not an application error or OOM: the command never ran.".into());
                (
                    format!("{ns}/{pod_name} ({cname}) cannot run its command (exit {exit_code}): wrong command/entrypoint or an image built for another architecture."),
                    "Exit 127 = command not found, 126 = not executable, `exec format error` = binary for another CPU architecture. Check command/args against the image, and that the image has a variant for the node's architecture.".into(),
                    vec![
                        logs_cmd.clone(),
                        format!("kubectl -n {ns} get {wl} -o jsonpath='{{.spec.template.spec.containers[?(@.name==\"{cname}\")].command}}'"),
                        "kubectl get nodes -o custom-columns=NAME:.metadata.name,ARCH:.status.nodeInfo.architecture".into(),
                    ],
                    0.88,
                )
            }
            RestartCause::LivenessKilled { message } => {
                evidence.push(ev(format!("Event/{ns}"), "Unhealthy", message.clone()));
                ruled_out.push("Not OOMKilled and not an application exit: the kubelet killed the container after liveness failures.".into());
                (
                    format!("{ns}/{pod_name} ({cname}) is killed by its liveness probe and crash-loops ({restarts} restarts): {}", short(message)),
                    "The liveness probe fails (wrong port/path/scheme, or too tight timeouts for a slow start), so the kubelet restarts a container that may be fine. Fix the probe (or add a startupProbe); see also running-not-ready (WL-05) for the readiness side.".into(),
                    vec![
                        describe.clone(),
                        format!("kubectl -n {ns} get {wl} -o jsonpath='{{.spec.template.spec.containers[?(@.name==\"{cname}\")].livenessProbe}}'"),
                        logs_cmd.clone(),
                    ],
                    0.85,
                )
            }
            RestartCause::Unknown { exit_code, reason } => (
                format!("{ns}/{pod_name} ({cname}) crash-loops ({restarts} restarts, last exit {exit_code} {reason}); the log did not name the cause."),
                "Read the previous run's log and the pod's events; set terminationMessagePolicy: FallbackToLogsOnError so the last lines show in the pod status.".into(),
                vec![logs_cmd.clone(), describe.clone()],
                0.65,
            ),
        };
    if ready_siblings > 0 {
        ruled_out.push(format!(
            "Not the whole {wl}: {ready_siblings} other replica(s) run ready with the same spec, so the failure is in what this pod hits (its input or node), not only in the manifest."
        ));
    }
    Some(Finding {
        severity: FindingSeverity::Critical,
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

/// The first line of a message (a termination message can hold a whole stack trace), cut
/// to 160 characters: what a one-sentence cause can quote.
fn short(line: &str) -> String {
    let t = line
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if t.chars().count() > 160 {
        format!("{}…", t.chars().take(160).collect::<String>())
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::lean_results;
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::{Value, json};

    fn pod(ns: &str, name: &str, waiting: &str, last: (&str, i64, &str)) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": ns, "name": name, "labels": {"pod-template-hash": "h"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "checkout-h", "controller": true}]},
            "spec": {"containers": [{"name": "checkout", "resources": {"limits": {"memory": "256Mi"}}}]},
            "status": {"containerStatuses": [{"name": "checkout", "ready": false, "restartCount": 9,
                "state": {"waiting": {"reason": waiting, "message": "back-off 5m0s restarting failed container"}},
                "lastState": {"terminated": {"reason": last.0, "exitCode": last.1, "message": last.2, "finishedAt": "2026-01-15T09:58:00Z"}}}]}})
    }

    fn results(pods: Vec<Value>) -> Results {
        lean_results(&pods, &[])
    }

    fn now() -> DateTime<Utc> {
        super::super::common::parse_time("2026-01-15T10:00:00Z").unwrap_or_default()
    }

    #[test]
    fn an_app_error_is_quoted_from_the_termination_message_or_log() {
        let p = pod(
            "shop",
            "checkout-h-1",
            "CrashLoopBackOff",
            (
                "Error",
                2,
                "panic: runtime error: invalid memory address or nil pointer dereference\n",
            ),
        );
        let f = diagnose(&results(vec![p.clone()]), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("nil pointer"), "{}", f.summary);
        assert!(f.fix.commands.iter().any(|c| c == "kubectl -n shop rollout undo deployment/checkout   # if the crashes began with the last rollout"));
        // The previous log is read in the second round and preferred when present.
        let mut r = results(vec![p]);
        let qs = queries(&r);
        assert!(qs.contains(&log_query("shop", "checkout-h-1", "checkout")));
        r.by_query.insert(
            log_query("shop", "checkout-h-1", "checkout"),
            Outcome::Text {
                code: 200,
                body: "{\"level\":\"fatal\",\"msg\":\"config: STRIPE_URL missing\"}\n".into(),
            },
        );
        let f = diagnose(&r, now()).unwrap();
        assert!(f.summary.contains("STRIPE_URL"), "{}", f.summary);
    }

    #[test]
    fn oom_and_bad_commands_are_told_apart() {
        let f = diagnose(
            &results(vec![pod(
                "shop",
                "a",
                "CrashLoopBackOff",
                ("OOMKilled", 137, ""),
            )]),
            now(),
        )
        .unwrap();
        assert!(
            f.summary.contains("OOMKilled") && f.summary.contains("256Mi"),
            "{}",
            f.summary
        );
        let f = diagnose(
            &results(vec![pod(
                "shop",
                "a",
                "CrashLoopBackOff",
                ("Error", 1, "exec /app/checkout: exec format error"),
            )]),
            now(),
        )
        .unwrap();
        assert!(f.summary.contains("architecture"), "{}", f.summary);
    }

    #[test]
    fn no_crashloop_or_an_addon_crashloop_is_not_this_playbook() {
        assert!(
            diagnose(
                &results(vec![pod(
                    "shop",
                    "a",
                    "ContainerCreating",
                    ("Error", 1, "")
                )]),
                now()
            )
            .is_none()
        );
        assert!(
            diagnose(
                &results(vec![pod(
                    "kube-system",
                    "coredns-1",
                    "CrashLoopBackOff",
                    ("Error", 1, "")
                )]),
                now()
            )
            .is_none()
        );
        assert!(diagnose(&results(vec![]), now()).is_none());
    }

    #[test]
    fn a_multi_line_message_is_quoted_by_its_first_line() {
        assert_eq!(
            short("\npanic: nil map\n\ngoroutine 1 [running]:\nmain.main()"),
            "panic: nil map"
        );
        assert_eq!(short(&"x".repeat(200)).chars().count(), 161);
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Back-off restarting failed container checkout in pod checkout-1",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("crashloop"));
    }
}
