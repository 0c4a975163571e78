//! ST-03 `volume-attach-mount-failure`: a pod stays ContainerCreating with `FailedAttachVolume`
//! / `FailedMount` / `Multi-Attach error`. From the API: a ReadWriteOnce volume still attached
//! (VolumeAttachment) to another node for another pod, a PV whose node affinity excludes the
//! pod's zone, or a CSI driver missing from the node's CSINode. What the API cannot show (the
//! mount itself) is checked on the node with the commands given.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Event, MetaExt, Pod, arr, claims, ev, event_ref, event_text, events_for, human, name,
    namespace, pod_age_secs, s,
};
use super::storage::{events, pods, pvcs, pvs};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "volume-attach-mount-failure",
    code: "ST-03",
    title: "Pod stuck ContainerCreating: volume cannot be attached or mounted",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["multi-attach error"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["failedattachvolume"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["unable to attach or mount volumes"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failedmount"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["not found in the list of registered csi drivers"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["volume node affinity conflict"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

fn attachments() -> Query {
    q::list("storage.k8s.io", "volumeattachments", None, None, None)
}
fn csinodes() -> Query {
    q::list("storage.k8s.io", "csinodes", None, None, None)
}

fn queries(_r: &Results) -> Vec<Query> {
    vec![
        pods(),
        events(),
        attachments(),
        csinodes(),
        pvs(),
        pvcs(),
        q::nodes(),
    ]
}

fn creating(p: &Pod) -> bool {
    p.spec.node_name.as_deref().is_some_and(|n| !n.is_empty())
        && p.status.phase.as_deref() == Some("Pending")
        && p.status
            .container_statuses
            .iter()
            .chain(&p.status.init_container_statuses)
            .any(|c| {
                matches!(
                    c.state.waiting.as_ref().and_then(|w| w.reason.as_deref()),
                    Some("ContainerCreating" | "PodInitializing")
                )
            })
}

fn claim_pv<'a>(r: &'a Results, ns: &str, claim: &str) -> Option<&'a Value> {
    let pvc = r
        .objects(&pvcs())
        .iter()
        .find(|c| namespace(c) == ns && name(c) == claim)?;
    let vol = s(pvc, "/spec/volumeName");
    r.objects(&pvs()).iter().find(|v| name(v) == vol)
}

fn zone_of<'a>(r: &'a Results, node: &str) -> &'a str {
    r.objects(&q::nodes())
        .iter()
        .find(|n| name(n) == node)
        .map(|n| s(n, "/metadata/labels/topology.kubernetes.io~1zone"))
        .unwrap_or("")
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let stuck: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| creating(p) && pod_age_secs(p, now) > 120)
        .collect();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut causes: Vec<String> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    let mut confidence: f32 = 0.0;
    for p in stuck {
        let (ns, pn) = (p.metadata.namespace_str(), p.metadata.name_str());
        let node = p.spec.node_name.as_deref().unwrap_or_default();
        let evs = events_for(r.events(), "Pod", Some(ns), pn);
        let volume_evs: Vec<&Event> = evs
            .iter()
            .copied()
            .filter(|e| {
                matches!(
                    e.reason.as_deref(),
                    Some("FailedAttachVolume" | "FailedMount")
                )
            })
            .collect();
        if volume_evs.is_empty() {
            continue;
        }
        let obj = format!("Pod/{ns}/{pn}");
        evidence.push(ev(
            obj.clone(),
            "status.containerStatuses[*].state.waiting.reason",
            format!(
                "ContainerCreating on {node} for {}",
                human(pod_age_secs(p, now))
            ),
        ));
        for e in volume_evs.iter().take(2) {
            evidence.push(ev(event_ref(e), format!("{obj} event"), event_text(e)));
        }
        let mounted: Vec<&str> = claims(p).filter(|c| !c.is_empty()).collect();
        let mut explained = false;
        for claim in mounted {
            let Some(pv) = claim_pv(r, ns, claim) else {
                continue;
            };
            let pv_name = name(pv);
            let rwo = arr(pv, "/spec/accessModes").iter().any(|m| {
                m.as_str() == Some("ReadWriteOnce") || m.as_str() == Some("ReadWriteOncePod")
            });
            // Multi-attach: the volume is attached to another node.
            let elsewhere: Vec<&Value> = r
                .objects(&attachments())
                .iter()
                .filter(|a| {
                    s(a, "/spec/source/persistentVolumeName") == pv_name
                        && s(a, "/spec/nodeName") != node
                        && a.pointer("/status/attached") == Some(&Value::Bool(true))
                })
                .collect();
            if rwo && !elsewhere.is_empty() {
                let other_node = s(elsewhere[0], "/spec/nodeName");
                evidence.push(ev(
                    format!("VolumeAttachment/{}", name(elsewhere[0])),
                    "spec.nodeName / status.attached",
                    format!(
                        "{other_node} / true: {pv_name} ({}) is attached there",
                        arr(pv, "/spec/accessModes")
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                ));
                let holders: Vec<&Pod> = r
                    .pods()
                    .iter()
                    .map(|o| &**o)
                    .filter(|o| {
                        o.metadata.namespace_str() == ns
                            && o.metadata.name_str() != pn
                            && o.spec.node_name.as_deref().unwrap_or_default() == other_node
                            && claims(o).any(|c| c == claim)
                    })
                    .collect();
                for h in &holders {
                    evidence.push(ev(
                        format!("Pod/{ns}/{}", h.metadata.name_str()),
                        "spec.nodeName / status.phase",
                        format!(
                            "{other_node} / {}: still uses claim {claim}",
                            h.status.phase.as_deref().unwrap_or_default()
                        ),
                    ));
                }
                let first_owner = p.metadata.owner_references.as_ref().and_then(|o| o.first());
                let rs_new = first_owner.map(|o| o.name.clone()).unwrap_or_default();
                let deployment = rs_new
                    .rsplit_once('-')
                    .map(|(d, _)| d.to_string())
                    .filter(|_| first_owner.is_some_and(|o| o.kind == "ReplicaSet"));
                causes.push(format!(
                    "{pv_name} is ReadWriteOnce and still attached to {other_node}{}, so it cannot be attached to {node} (Multi-Attach)",
                    if holders.is_empty() { String::new() } else { format!(" for pod {}", holders.iter().map(|h| h.metadata.name_str()).collect::<Vec<_>>().join(", ")) }
                ));
                if let Some(d) = &deployment {
                    commands.push(format!("kubectl patch deployment {d} -n {ns} --type=merge -p '{{\"spec\":{{\"strategy\":{{\"type\":\"Recreate\",\"rollingUpdate\":null}}}}}}'   # a RWO volume cannot be shared by old and new pods"));
                }
                for h in &holders {
                    commands.push(format!("kubectl delete pod -n {ns} {}   # frees the volume; the attach to {node} follows", h.metadata.name_str()));
                }
                if holders.is_empty() {
                    commands.push(format!("# on {other_node}: make sure nothing uses the volume any more, then remove the stale attachment"));
                    commands.push(format!("findmnt | grep {pv_name}"));
                    commands.push(format!(
                        "kubectl delete volumeattachment {}",
                        name(elsewhere[0])
                    ));
                }
                confidence = confidence.max(0.93);
                explained = true;
                continue;
            }
            // Zone: the PV's node affinity excludes the pod's node.
            let zone = zone_of(r, node);
            let allowed: Vec<&str> = arr(pv, "/spec/nodeAffinity/required/nodeSelectorTerms")
                .iter()
                .flat_map(|t| arr(t, "/matchExpressions"))
                .filter(|m| s(m, "/key").ends_with("zone"))
                .flat_map(|m| arr(m, "/values"))
                .filter_map(Value::as_str)
                .collect();
            if !zone.is_empty() && !allowed.is_empty() && !allowed.contains(&zone) {
                evidence.push(ev(
                    format!("PersistentVolume/{pv_name}"),
                    "spec.nodeAffinity (zone)",
                    format!("{} — node {node} is in {zone}", allowed.join(",")),
                ));
                causes.push(format!(
                    "{pv_name} lives in zone {} but the pod runs on {node} in {zone}",
                    allowed.join(",")
                ));
                commands.push("# use volumeBindingMode: WaitForFirstConsumer so volumes are created in the pod's zone, or pin the pod to the volume's zone".into());
                confidence = confidence.max(0.9);
                explained = true;
                continue;
            }
            // CSI node plugin missing on the node.
            let driver = s(pv, "/spec/csi/driver");
            if !driver.is_empty() {
                let on_node = r
                    .objects(&csinodes())
                    .iter()
                    .find(|c| name(c) == node)
                    .map(|c| {
                        arr(c, "/spec/drivers")
                            .iter()
                            .any(|d| s(d, "/name") == driver)
                    });
                if on_node != Some(true) {
                    evidence.push(ev(
                        format!("CSINode/{node}"),
                        format!("spec.drivers[name={driver}]"),
                        "missing: the driver's node plugin is not registered on this node",
                    ));
                    causes.push(format!(
                        "the CSI driver {driver} has no node plugin on {node}"
                    ));
                    commands.push(format!("kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i csi   # the driver's node DaemonSet pod must run here"));
                    confidence = confidence.max(0.9);
                    explained = true;
                }
            }
        }
        if !explained {
            let msg = volume_evs
                .first()
                .map(|e| e.message.clone().unwrap_or_default())
                .unwrap_or_default();
            causes.push(format!(
                "the kubelet on {node} cannot mount a volume of {pn}: {}",
                msg.chars().take(200).collect::<String>()
            ));
            commands.push(format!(
                "# on {node}: the kubelet's own account of the mount"
            ));
            commands.push(format!("sudo journalctl -u kubelet --since '-30 min' | grep -e {} -e 'MountVolume' | tail -20", p.metadata.uid.as_deref().unwrap_or_default()));
            commands.push("findmnt -t nfs,nfs4,ext4,xfs | tail -20; dmesg | tail -20".into());
            confidence = confidence.max(0.6);
        }
        commands.push(format!(
            "kubectl get pod -n {ns} {pn} -w   # Running once the volume is attached and mounted"
        ));
    }
    if causes.is_empty() {
        return None;
    }
    let summary = format!(
        "A pod waits in ContainerCreating because its volume cannot be attached or mounted: {}.",
        causes.join("; ")
    );
    Some(Finding {
        severity: if confidence >= 0.9 { FindingSeverity::Critical } else { FindingSeverity::Warning },
        confidence,
        summary,
        evidence,
        ruled_out: vec![
            "Not a Pending claim (ST-01/ST-02): the claim is Bound; the failure is attaching/mounting the existing volume.".into(),
            "Not image pulling or the CNI: the kubelet has not got past the volume step (FailedAttachVolume/FailedMount events, no image pull, no sandbox error).".into(),
        ],
        fix: Fix {
            explanation: "A ReadWriteOnce volume can be attached to one node at a time: the old pod must go before the new one can start (Deployments with such volumes need strategy Recreate, or a StatefulSet). A stale VolumeAttachment of a dead node may be deleted once the node is confirmed down. Zonal disks need the pod in the disk's zone; every node needs the CSI driver's node plugin. For other mount errors, the kubelet's log on the node names the exact mount command that failed.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::{Outcome, Watched};
    use serde_json::json;

    fn pod(name: &str, node: &str, phase: &str, waiting: bool) -> Value {
        let st = if waiting {
            json!([{"name": "db", "state": {"waiting": {"reason": "ContainerCreating"}}}])
        } else {
            json!([{"name": "db", "state": {"running": {}}}])
        };
        json!({"metadata": {"name": name, "namespace": "shop", "uid": "u-1", "creationTimestamp": "2026-01-15T09:40:00Z", "ownerReferences": [{"kind": "ReplicaSet", "name": "orders-db-7c9d8f6b5"}]}, "spec": {"nodeName": node, "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "orders-db-data"}}]}, "status": {"phase": phase, "containerStatuses": st}})
    }
    fn results(attached_elsewhere: bool) -> Results {
        let mut r = Results::default();
        r.set_watched(
            Watched::Pods,
            &[
                pod("orders-db-new", "worker-2", "Pending", true),
                pod("orders-db-old", "worker-1", "Running", false),
            ],
        );
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e", "namespace": "shop"}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "orders-db-new"}, "reason": "FailedAttachVolume", "message": "Multi-Attach error for volume \"pvc-1\" Volume is already used by pod(s) orders-db-old", "lastTimestamp": "2026-01-15T09:59:00Z"})]);
        let node = if attached_elsewhere {
            "worker-1"
        } else {
            "worker-2"
        };
        r.by_query.insert(attachments(), Outcome::Objects(vec![json!({"metadata": {"name": "csi-abc"}, "spec": {"nodeName": node, "source": {"persistentVolumeName": "pvc-1"}}, "status": {"attached": true}})]));
        r.by_query.insert(csinodes(), Outcome::Objects(vec![json!({"metadata": {"name": "worker-2"}, "spec": {"drivers": [{"name": "driver.longhorn.io"}]}})]));
        r.by_query.insert(pvs(), Outcome::Objects(vec![json!({"metadata": {"name": "pvc-1"}, "spec": {"accessModes": ["ReadWriteOnce"], "csi": {"driver": "driver.longhorn.io"}}})]));
        r.by_query.insert(pvcs(), Outcome::Objects(vec![json!({"metadata": {"name": "orders-db-data", "namespace": "shop"}, "spec": {"volumeName": "pvc-1"}, "status": {"phase": "Bound"}})]));
        r.by_query.insert(q::nodes(), Outcome::Objects(vec![]));
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn multi_attach_names_the_holder_and_the_strategy_fix() {
        let f = diagnose(&results(true), now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary
                .contains("attached to worker-1 for pod orders-db-old")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("kubectl patch deployment orders-db -n shop"))
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("kubectl delete pod -n shop orders-db-old"))
        );
    }

    #[test]
    fn running_pods_are_not_this_and_unknown_mount_errors_are_a_node_check() {
        let mut r = results(false);
        r.set_watched(
            Watched::Pods,
            &[pod("orders-db-old", "worker-1", "Running", false)],
        );
        assert!(diagnose(&r, now()).is_none());
        let f = diagnose(&results(false), now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.starts_with("# on worker-2"))
        );
    }
}
