//! CP-02 apiserver-not-ready: `/readyz?verbose` lists the API server's checks; the first
//! `[-]` decides where to look — `etcd`/`etcd-readiness` → etcd (CP-03 when members are
//! down), `informer-sync`/`poststarthook/*` → the API server's own start-up, `shutdown` → a
//! rolling restart in progress.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{self, ev, mirror_pods_query, obj, s};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "apiserver-not-ready",
    code: "CP-02",
    title: "API server not ready: which /readyz check fails",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["etcdserver: request timed out"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["readyz check failed"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["livez check failed"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["[-]etcd failed"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["[-]poststarthook"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["etcdserver: leader changed"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

fn readyz_query() -> Query {
    q::raw("/readyz?verbose")
}

fn livez_query() -> Query {
    q::raw("/livez?verbose")
}

fn warning_events_query() -> Query {
    q::list(
        "",
        "events",
        Some("kube-system"),
        None,
        Some("type=Warning"),
    )
}

fn apiserver_log_query(pod: &str) -> Query {
    q::logs("kube-system", pod, Some("kube-apiserver"), false, Some(300))
}

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![
        readyz_query(),
        livez_query(),
        mirror_pods_query(),
        warning_events_query(),
    ];
    for p in common::mirror_pods(results) {
        if common::component(p) == "kube-apiserver" {
            out.push(apiserver_log_query(common::name(p)));
        }
    }
    out
}

/// The body of a health answer, whether it came back as text or as an error status.
fn health_body(results: &Results, query: &Query) -> Option<(u16, String)> {
    match results.outcome(query)? {
        Outcome::Text { code, body } => Some((*code, body.clone())),
        Outcome::Failed { code, message } if message.contains("[+]") || message.contains("[-]") => {
            Some((*code, message.clone()))
        }
        _ => None,
    }
}

fn failing(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| l.starts_with("[-]"))
        .map(str::trim_end)
        .collect()
}

fn check_name(line: &str) -> &str {
    line.trim_start_matches("[-]")
        .split_whitespace()
        .next()
        .unwrap_or_default()
}

fn diagnose(results: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let (code, body) = health_body(results, &readyz_query())?;
    let failed = failing(&body);
    if failed.is_empty() {
        return None;
    }
    let first = check_name(failed[0]).to_string();
    let pods = common::mirror_pods(results);
    let etcd: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| common::component(p) == "etcd")
        .collect();
    let apiservers: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| common::component(p) == "kube-apiserver")
        .collect();
    let mut evidence = vec![ev(
        "GET /readyz?verbose",
        format!("HTTP {code}"),
        failed.join("; "),
    )];
    if let Some((lcode, lbody)) = health_body(results, &livez_query()) {
        let lf = failing(&lbody);
        evidence.push(ev(
            "GET /livez?verbose",
            format!("HTTP {lcode}"),
            if lf.is_empty() {
                "all checks pass".to_string()
            } else {
                lf.join("; ")
            },
        ));
    }
    let mut ruled_out = Vec::new();
    let mut commands = vec![
        "kubectl get --raw '/readyz?verbose' | grep -v '^\\[+\\]'".to_string(),
        "kubectl get --raw '/livez?verbose' | grep -v '^\\[+\\]'".to_string(),
    ];

    let (severity, confidence, summary, explanation);
    if first == "etcd" || first == "etcd-readiness" {
        let down: Vec<&&Value> = etcd.iter().filter(|p| !common::running_ready(p)).collect();
        for p in &etcd {
            evidence.push(ev(
                obj(p),
                "status",
                format!(
                    "phase {}, ready {}, restarts {}",
                    s(p, "/status/phase"),
                    common::running_ready(p),
                    common::restarts(p)
                ),
            ));
        }
        let mut timeouts = 0;
        for p in &apiservers {
            if let Some(text) = results.text(&apiserver_log_query(common::name(p))) {
                let hits: Vec<&str> = text
                    .lines()
                    .filter(|l| {
                        l.contains("etcdserver: request timed out")
                            || l.contains("context deadline exceeded")
                            || l.contains("etcdserver: leader changed")
                    })
                    .collect();
                if let Some(last) = hits.last() {
                    timeouts += hits.len();
                    if evidence
                        .iter()
                        .filter(|e| e.field.starts_with("log"))
                        .count()
                        < 2
                    {
                        evidence.push(ev(obj(p), "log[kube-apiserver]", last.trim_end()));
                    }
                }
            }
        }
        if down.is_empty() {
            ruled_out.push(format!(
                "Not a lost etcd member (CP-03): all {} etcd pods are Running and Ready, so the members are up but too slow or cut off from each other.",
                etcd.len()
            ));
        }
        severity = FindingSeverity::Critical;
        confidence = if down.is_empty() { 0.9 } else { 0.75 };
        summary = format!(
            "The API server is not ready because its etcd check fails ({}){}: reads and writes time out, so kubectl is slow or answers 500 and controllers cannot renew their leases.",
            failed
                .iter()
                .map(|l| check_name(l))
                .collect::<Vec<_>>()
                .join(", "),
            if !down.is_empty() {
                format!(
                    " — {} of {} etcd pods are not ready, see CP-03",
                    down.len(),
                    etcd.len()
                )
            } else if timeouts > 0 {
                format!(" — the API servers log {timeouts} etcd timeouts")
            } else {
                String::new()
            }
        );
        commands.push("kubectl logs -n kube-system -l component=etcd --tail 100 --prefix | grep -E 'took too long|slow fdatasync|leader changed|lost leader'".into());
        let nodes: Vec<&str> = etcd.iter().map(|p| common::node_of(p)).collect();
        commands.push(format!(
            "# on {}: etcd's own view of its health and latency",
            if nodes.is_empty() {
                "a control-plane node".to_string()
            } else {
                nodes.join(", ")
            }
        ));
        commands.push("sudo crictl exec $(sudo crictl ps --name etcd -q) etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/server.crt --key /etc/kubernetes/pki/etcd/server.key endpoint status --cluster -w table".into());
        commands.push("# healthy: every endpoint listed, one IS LEADER true, RAFT TERM not climbing between runs; then check the disk: iostat -x 1 5 (await of the etcd disk < 10 ms)".into());
        explanation = "The API server answers readiness only when a quorum read from etcd succeeds within its timeout. With every etcd pod up, the cause is latency: a slow or shared disk (fdatasync), CPU starvation, or packet loss between members (leader elections). Read the etcd warnings, run `etcdctl endpoint status` on a member, and move etcd to a dedicated low-latency disk; defragment if the DB is large.".to_string();
    } else if first == "informer-sync"
        || first.starts_with("poststarthook/")
        || first == "autoregister-completion"
    {
        let youngest = apiservers
            .iter()
            .filter_map(|p| {
                common::parse_time(s(p, "/status/containerStatuses/0/state/running/startedAt"))
            })
            .max();
        let age = youngest.map(|t| (now - t).num_seconds());
        for p in &apiservers {
            evidence.push(ev(
                obj(p),
                "status.containerStatuses[0]",
                format!(
                    "started {}, restarts {}",
                    s(p, "/status/containerStatuses/0/state/running/startedAt"),
                    common::restarts(p)
                ),
            ));
        }
        let starting = age.is_some_and(|a| a < 300);
        severity = if starting {
            FindingSeverity::Warning
        } else {
            FindingSeverity::Critical
        };
        confidence = if starting { 0.7 } else { 0.85 };
        summary = format!(
            "The API server has not finished starting: {first} fails{}.",
            if starting {
                " — it started less than 5 minutes ago; wait for it, or check it is not restarting in a loop".to_string()
            } else {
                format!(
                    " {} after the youngest API server started: a start-up hook is stuck",
                    age.map(common::human).unwrap_or_else(|| "long".into())
                )
            }
        );
        ruled_out.push("Not etcd: the etcd checks pass.".into());
        commands.push("kubectl logs -n kube-system -l component=kube-apiserver --tail 100 --prefix | grep -E '^E|poststarthook|informer'".into());
        commands.push(
            "# restart a stuck API server from its node: move the manifest out and back".into(),
        );
        commands.push("sudo mv /etc/kubernetes/manifests/kube-apiserver.yaml /tmp/ && sleep 20 && sudo mv /tmp/kube-apiserver.yaml /etc/kubernetes/manifests/".into());
        explanation = "informer-sync and poststarthook checks pass once the API server has filled its caches and run its start-up hooks (RBAC bootstrap roles, priority classes, CRD and APIService registration). Right after a restart this takes seconds to a minute; if it lasts, the logs name the hook that fails (often a webhook or an aggregated API that does not answer, or etcd throttling).".to_string();
    } else if first == "shutdown" {
        severity = FindingSeverity::Info;
        confidence = 0.6;
        summary = "The answering API server is shutting down (the shutdown check fails): a rolling restart or upgrade is in progress.".into();
        ruled_out.push("Not etcd or start-up: only the shutdown check fails.".into());
        commands.push("kubectl get pods -n kube-system -l component=kube-apiserver -o wide".into());
        explanation = "During graceful termination an API server fails /readyz so load balancers drain it. If this persists, the load balancer keeps sending traffic to a stopping server: check its health-check path is /readyz.".to_string();
    } else {
        severity = FindingSeverity::Critical;
        confidence = 0.7;
        summary = format!("The API server is not ready: its {first} check fails.");
        commands.push(
            "kubectl logs -n kube-system -l component=kube-apiserver --tail 100 --prefix".into(),
        );
        explanation = "Follow the failing check in the API server's logs.".to_string();
    }
    for e in results
        .objects(&warning_events_query())
        .iter()
        .filter(|e| {
            let name = s(e, "/involvedObject/name");
            name.starts_with("etcd-") || name.starts_with("kube-apiserver-")
        })
        .take(2)
    {
        evidence.push(ev(obj(e), s(e, "/reason"), s(e, "/message")));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        common::parse_time("2026-01-15T10:00:00Z").unwrap()
    }

    fn results(readyz: &str, code: u16, etcd_ready: bool) -> Results {
        let mut r = Results::default();
        r.by_query.insert(
            readyz_query(),
            Outcome::Text {
                code,
                body: readyz.into(),
            },
        );
        let st = if etcd_ready { "True" } else { "False" };
        r.by_query.insert(
            mirror_pods_query(),
            Outcome::Objects(vec![json!({"kind": "Pod", "metadata": {"name": "etcd-cp-1", "namespace": "kube-system", "labels": {"component": "etcd"}},
                "spec": {"nodeName": "cp-1"}, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": st}]}})]),
        );
        r
    }

    #[test]
    fn passing_readyz_is_fine() {
        assert!(
            diagnose(
                &results("[+]ping ok\n[+]etcd ok\nreadyz check passed\n", 200, true),
                now()
            )
            .is_none()
        );
    }

    #[test]
    fn failing_etcd_check_is_critical() {
        let f = diagnose(&results("[+]ping ok\n[-]etcd failed: reason withheld\n[-]etcd-readiness failed: reason withheld\nreadyz check failed\n", 500, true), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.summary.contains("etcd, etcd-readiness"));
        assert!(f.ruled_out.iter().any(|r| r.contains("CP-03")));
        assert!(f.confidence >= 0.9);
        // With an etcd member down, CP-03 is the better explanation.
        let f = diagnose(
            &results("[-]etcd failed: reason withheld\n", 500, false),
            now(),
        )
        .unwrap();
        assert!(f.confidence < 0.8 && f.summary.contains("see CP-03"));
    }

    #[test]
    fn shutdown_is_only_info() {
        let f = diagnose(
            &results(
                "[+]etcd ok\n[-]shutdown failed: reason withheld\n",
                500,
                true,
            ),
            now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Info);
    }

    #[test]
    fn failed_status_with_the_verbose_body_is_read() {
        let mut r = results("", 200, true);
        r.by_query.insert(readyz_query(), Outcome::Failed { code: 500, message: "[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\nreadyz check failed".into() });
        let f = diagnose(&r, now()).unwrap();
        assert!(f.summary.contains("poststarthook/rbac/bootstrap-roles"));
    }
}
