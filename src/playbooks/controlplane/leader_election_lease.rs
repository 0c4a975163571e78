//! CP-04 leader-election-lease: is anybody leading kube-controller-manager and
//! kube-scheduler? A standby's "attempting to acquire leader lease" is normal while the
//! holder renews; the alarm is a lease whose renewTime + leaseDurationSeconds lies in the
//! past (nobody leads: controllers and scheduling stand still), a missing lease, or a leader
//! that keeps losing its lease (renew deadline misses: API server / etcd latency).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::common::{
    self, LeaseState, ev, flag, klog_time, leases_query, log_query, mirror_pods_query, obj, s,
};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "leader-election-lease",
    code: "CP-04",
    title: "Leader election: is a controller-manager and a scheduler leading?",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["attempting to acquire leader lease"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failed to renew lease"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["leaderelection lost"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["successfully acquired lease"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["lock is held by", "has not yet expired"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["error retrieving resource lock"],
            weight: 0.7,
        },
    ],
    queries,
    diagnose,
};

const COMPONENTS: &[&str] = &["kube-controller-manager", "kube-scheduler"];

/// Texts an HTTP proxy answers with (then CP-01 names the cause).
const PROXY_TEXTS: &[&str] = &["Gateway Timeout", "Bad Gateway", "proxyconnect tcp"];

fn queries(results: &Results) -> Vec<Query> {
    let mut out = vec![leases_query(), mirror_pods_query()];
    for p in common::mirror_pods(results) {
        let comp = common::component(p);
        if COMPONENTS.contains(&comp) {
            out.push(log_query(common::name(p), comp));
        }
    }
    out
}

/// What one component's logs say in the last hour.
#[derive(Default)]
struct LogSignals<'a> {
    /// Failed renewals and lost leadership (`failed to renew lease`, `leaderelection lost`).
    lost: Vec<(&'a Value, &'a str)>,
    /// Errors reading or writing the lock.
    lock_errors: Vec<(&'a Value, &'a str)>,
    /// Lines showing a proxy answering.
    proxy: bool,
}

fn log_signals<'a>(
    results: &'a Results,
    pods: &[&'a Value],
    comp: &str,
    now: DateTime<Utc>,
) -> LogSignals<'a> {
    let mut sig = LogSignals::default();
    for p in pods
        .iter()
        .copied()
        .filter(|p| common::component(p) == comp)
    {
        let Some(text) = results.text(&log_query(common::name(p), comp)) else {
            continue;
        };
        for line in text.lines() {
            let recent = klog_time(line, now).is_some_and(|t| now - t < Duration::hours(1));
            if !recent {
                continue;
            }
            let l = line.to_ascii_lowercase();
            if l.contains("failed to renew lease") || l.contains("leaderelection lost") {
                sig.lost.push((p, line));
            }
            if line.contains("error retrieving resource lock")
                || line.contains("Failed to update lock")
            {
                sig.lock_errors.push((p, line));
                if PROXY_TEXTS.iter().any(|t| line.contains(t)) {
                    sig.proxy = true;
                }
            }
        }
    }
    sig
}

fn diagnose(results: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let leases = results.objects(&leases_query());
    // A missing lease means something only when the leases were listed in full.
    let leases_listed = results.listed(&leases_query()).is_some();
    let pods = common::mirror_pods(results);
    let mut evidence = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut stale_components: Vec<&str> = Vec::new();
    let mut flapping: Vec<&str> = Vec::new();
    let mut any_proxy = false;
    let mut latency = false;
    let mut holder_nodes: Vec<(&str, String)> = Vec::new();
    let mut healthy_notes: Vec<String> = Vec::new();

    for comp in COMPONENTS {
        let comp_pods: Vec<&Value> = pods
            .iter()
            .copied()
            .filter(|p| common::component(p) == *comp)
            .collect();
        let elects = comp_pods
            .iter()
            .any(|p| flag(p, "leader-elect").as_deref() != Some("false"));
        // Components older than 1.17 lock in an Endpoints object: no Lease is expected.
        let lease_expected = comp_pods.iter().any(|p| common::locks_in_lease(p));
        let sig = log_signals(results, &pods, comp, now);
        any_proxy |= sig.proxy;
        let lease = leases.iter().find(|l| common::name(l) == *comp);
        match lease {
            None if !comp_pods.is_empty() && elects && lease_expected && leases_listed => {
                evidence.push(ev(
                    format!("Lease/kube-system/{comp}"),
                    "(object)",
                    "not found",
                ));
                problems.push(format!(
                    "no {comp} lease exists although {} instance(s) run with --leader-elect",
                    comp_pods.len()
                ));
                stale_components.push(comp);
            }
            None => {
                if !comp_pods.is_empty() && elects && !lease_expected {
                    healthy_notes.push(format!(
                        "{comp} {} locks leadership in an Endpoints object, not a Lease (Leases are the default from 1.17/1.20)",
                        comp_pods
                            .iter()
                            .find_map(|p| common::component_version(p))
                            .map(|(a, b)| format!("v{a}.{b}"))
                            .unwrap_or_default()
                    ));
                } else if !comp_pods.is_empty() && !leases_listed {
                    healthy_notes.push(format!(
                        "{comp}: the leases of kube-system were not captured (`kubectl get leases -n kube-system -o yaml`)"
                    ));
                }
            }
            Some(lease) => {
                let st = LeaseState::read(lease, now);
                let holder_pod = format!("{comp}-{}", st.holder_node());
                let holder = comp_pods.iter().find(|p| common::name(p) == holder_pod);
                if st.expired() {
                    let age = st.age.map(common::human).unwrap_or_else(|| "never".into());
                    evidence.push(ev(
                        obj(lease),
                        "spec.renewTime",
                        format!(
                            "{} — {age} ago, leaseDurationSeconds {}: expired",
                            s(lease, "/spec/renewTime"),
                            st.duration
                        ),
                    ));
                    evidence.push(ev(obj(lease), "spec.holderIdentity", &st.holder));
                    match holder {
                        Some(p) => evidence.push(ev(
                            obj(p),
                            "status",
                            format!(
                                "phase {}, ready {}, restarts {}",
                                s(p, "/status/phase"),
                                common::running_ready(p),
                                common::restarts(p)
                            ),
                        )),
                        None if !st.holder.is_empty() => evidence.push(ev(
                            format!("Pod/kube-system/{holder_pod}"),
                            "(object)",
                            "not found: the holder is not running",
                        )),
                        None => {}
                    }
                    problems.push(format!(
                        "the {comp} lease was last renewed {age} ago (lease {}s): nobody leads",
                        st.duration
                    ));
                    stale_components.push(comp);
                    if !st.holder.is_empty() {
                        holder_nodes.push((comp, st.holder_node().to_string()));
                    }
                } else {
                    healthy_notes.push(format!(
                        "{comp}: held by {} and renewed {}s ago",
                        st.holder,
                        st.age.unwrap_or(0)
                    ));
                    if sig.lost.len() >= 2 {
                        flapping.push(comp);
                        evidence.push(ev(
                            obj(lease),
                            "spec.leaseTransitions",
                            format!(
                                "{} (acquired {})",
                                st.transitions,
                                s(lease, "/spec/acquireTime")
                            ),
                        ));
                        problems.push(format!(
                            "the {comp} leader lost its lease {} times in the last hour",
                            sig.lost.len()
                        ));
                    }
                }
            }
        }
        let relevant = stale_components.contains(comp) || flapping.contains(comp);
        if relevant {
            for (p, line) in sig
                .lost
                .iter()
                .rev()
                .take(1)
                .chain(sig.lock_errors.iter().rev().take(1))
            {
                evidence.push(ev(obj(p), format!("log[{comp}]"), line.trim_end()));
                let l = line.to_ascii_lowercase();
                if l.contains("deadline exceeded")
                    || l.contains("timeout")
                    || l.contains("timed out")
                {
                    latency = true;
                }
            }
        }
    }

    if problems.is_empty() {
        return None;
    }
    let stale = !stale_components.is_empty();
    let (severity, confidence) = if stale {
        // A proxy in the path is CP-01's cause; this finding then only reports its effect.
        (
            FindingSeverity::Critical,
            if any_proxy { 0.7 } else { 0.92 },
        )
    } else {
        (FindingSeverity::Warning, 0.75)
    };
    let what = if stale {
        "no leader: controllers (Deployments, endpoints, node lifecycle, CSR approval) and/or scheduling stand still"
    } else {
        "leadership keeps moving: renewals miss their deadline"
    };
    let summary = format!(
        "Leader election is broken — {}; {what}{}.",
        problems.join("; "),
        if any_proxy {
            " (the lock requests are answered by a proxy: see CP-01)"
        } else if latency {
            " (the lock requests time out: API server / etcd latency)"
        } else {
            ""
        }
    );

    let mut ruled_out = vec![
        "Not the normal standby message: \"attempting to acquire leader lease\" only alarms when the lease is not renewed; here the lease itself is stale or keeps changing hands.".to_string(),
    ];
    if !healthy_notes.is_empty() {
        ruled_out.push(format!(
            "The other lock is fine ({}).",
            healthy_notes.join("; ")
        ));
    }
    if !any_proxy {
        ruled_out.push("Not a proxy between the components and the API server (CP-01): no proxy status (Gateway Timeout, Bad Gateway) in the lock errors.".into());
    }
    ruled_out.push("Not a stopped control plane: the component pods exist; the problem is that none of them holds a valid lease.".into());

    let mut commands = vec![
        "kubectl get leases -n kube-system kube-controller-manager kube-scheduler -o custom-columns=NAME:.metadata.name,HOLDER:.spec.holderIdentity,RENEWED:.spec.renewTime,TRANSITIONS:.spec.leaseTransitions".to_string(),
    ];
    for comp in &stale_components {
        commands.push(format!(
            "kubectl logs -n kube-system -l component={comp} --tail 20 --prefix"
        ));
    }
    // A leader that stopped renewing on its own (no lock errors) is stuck: restart it.
    if !latency && !any_proxy {
        for (comp, node) in &holder_nodes {
            commands.push(format!(
                "# on {node}: restart the stuck {comp} (the kubelet starts it again from its manifest)"
            ));
            commands.push(format!(
                "sudo crictl ps --name {comp} -q | xargs -r sudo crictl stop"
            ));
        }
    }
    if latency || !flapping.is_empty() {
        commands.push("kubectl get --raw '/readyz?verbose' | grep -v '+'".into());
        commands.push("kubectl logs -n kube-system -l component=etcd --tail 200 | grep -E 'took too long|slow fdatasync|heartbeat'".into());
        commands.push(
            "# on each control-plane node: etcd wants a disk with fdatasync p99 < 10 ms".into(),
        );
        commands.push("sudo fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd --size=22m --bs=2300 --name=etcd-disk-check".into());
        commands.push("# on overloaded small masters, lengthen the election timings in /etc/kubernetes/manifests/kube-{controller-manager,scheduler}.yaml:".into());
        commands.push("#   --leader-elect-lease-duration=60s --leader-elect-renew-deadline=40s --leader-elect-retry-period=5s".into());
    }
    commands.push("# healthy again when the RENEWED column is a few seconds old and the logs show \"successfully acquired lease\"".into());

    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "A leader renews its lease every 2 s (retry period) and must succeed within the renew deadline (10 s); standbys take over once renewTime + leaseDurationSeconds has passed. A lease that stays stale means no candidate can write it: read the lock errors in the logs — timeouts point at API server/etcd latency (check /readyz and etcd's `took too long`/`slow fdatasync` warnings, then the disk), a proxy status at CP-01, Forbidden at RBAC. Restart a stuck leader from its node with crictl; lengthen the lease timings only on masters that are overloaded by design.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        common::parse_time("2026-01-15T10:00:00Z").unwrap()
    }

    fn pod(comp: &str, node: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"name": format!("{comp}-{node}"), "namespace": "kube-system", "labels": {"component": comp, "tier": "control-plane"}},
            "spec": {"nodeName": node, "containers": [{"name": comp, "command": [comp, "--leader-elect=true"]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [{"name": comp, "restartCount": 0}]}})
    }

    fn lease(name: &str, renew: &str) -> Value {
        json!({"kind": "Lease", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"holderIdentity": "cp-1_abc", "leaseDurationSeconds": 15, "leaseTransitions": 2, "renewTime": renew, "acquireTime": "2026-01-09T09:00:00.000000Z"}})
    }

    fn results(sched_renew: &str, standby_log: &str) -> Results {
        let mut r = Results::default();
        let mut pods = Vec::new();
        for n in ["cp-1", "cp-2"] {
            for c in COMPONENTS {
                pods.push(pod(c, n));
            }
        }
        r.by_query
            .insert(mirror_pods_query(), Outcome::Objects(pods));
        r.by_query.insert(
            leases_query(),
            Outcome::Objects(vec![
                lease("kube-controller-manager", "2026-01-15T09:59:59.100000Z"),
                lease("kube-scheduler", sched_renew),
            ]),
        );
        r.by_query.insert(
            log_query("kube-scheduler-cp-2", "kube-scheduler"),
            Outcome::Text {
                code: 200,
                body: standby_log.into(),
            },
        );
        r
    }

    const STANDBY: &str = "I0115 09:52:00.000001       1 leaderelection.go:254] attempting to acquire leader lease kube-system/kube-scheduler...\n";

    #[test]
    fn standby_waiting_while_the_holder_renews_is_normal() {
        assert!(diagnose(&results("2026-01-15T09:59:58.500000Z", STANDBY), now()).is_none());
    }

    #[test]
    fn stale_lease_is_critical_and_names_the_holder() {
        let log = format!(
            "{STANDBY}E0115 09:59:50.000001       1 leaderelection.go:436] error retrieving resource lock kube-system/kube-scheduler: Get \"https://10.0.0.12:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler?timeout=5s\": context deadline exceeded\n"
        );
        let f = diagnose(&results("2026-01-15T09:56:00.000000Z", &log), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(
            f.summary
                .contains("kube-scheduler lease was last renewed 4m0s ago")
        );
        assert!(f.summary.contains("latency"));
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "spec.holderIdentity" && e.value == "cp-1_abc")
        );
        assert!(f.fix.commands.iter().any(|c| c.contains("fdatasync")));
        // Without lock errors the holder itself is stuck: restart it on its node.
        let f = diagnose(&results("2026-01-15T09:56:00.000000Z", STANDBY), now()).unwrap();
        assert!(f.fix.commands.iter().any(|c| c == "# on cp-1: restart the stuck kube-scheduler (the kubelet starts it again from its manifest)"));
    }

    #[test]
    fn proxy_answers_lower_the_confidence_in_favour_of_cp01() {
        let log = "E0115 09:59:50.000001       1 leaderelection.go:436] error retrieving resource lock kube-system/kube-scheduler: Get \"https://10.0.0.12:6443/x\": Gateway Timeout\n";
        let f = diagnose(&results("2026-01-15T09:50:00.000000Z", log), now()).unwrap();
        assert!(f.confidence < 0.9);
        assert!(f.summary.contains("CP-01"));
    }

    #[test]
    fn repeated_lost_leadership_is_a_warning() {
        let log = "I0115 09:40:00.000001       1 leaderelection.go:297] failed to renew lease kube-system/kube-scheduler: context deadline exceeded\nE0115 09:40:00.100000       1 server.go:263] \"Leaderelection lost\"\nI0115 09:20:00.000001       1 leaderelection.go:297] failed to renew lease kube-system/kube-scheduler: context deadline exceeded\n";
        let f = diagnose(&results("2026-01-15T09:59:59.000000Z", log), now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        // An hour-old loss does not count.
        let old = "I0115 08:40:00.000001       1 leaderelection.go:297] failed to renew lease kube-system/kube-scheduler: x\nI0115 08:41:00.000001       1 leaderelection.go:297] failed to renew lease kube-system/kube-scheduler: x\n";
        assert!(diagnose(&results("2026-01-15T09:59:59.000000Z", old), now()).is_none());
    }

    #[test]
    fn seed_text_ranks_this_playbook() {
        let ranked = crate::playbooks::engine::rank_symptoms(
            "attempting to acquire leader lease kube-system/kube-scheduler...",
        );
        assert_eq!(ranked.first().map(|(p, _)| p.id), Some(PLAYBOOK.id));
    }
}
