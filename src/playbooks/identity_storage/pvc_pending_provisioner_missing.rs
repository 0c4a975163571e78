//! ST-02 `pvc-pending-provisioner-missing`: a claim of a StorageClass stays Pending with
//! `waiting for a volume to be created, either by external provisioner "X" or manually
//! created by system administrator` (or `ProvisioningFailed`): the class's provisioner has no
//! CSIDriver and no controller running here, or an in-tree provisioner has no cloud provider,
//! or the provisioner runs and reports why it fails.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    Event, MetaExt, Pod, age_secs, arr, detail, ev, event_ref, event_text, flag, flags, human,
    name, namespace, pod_detail, running, s,
};
use super::storage::{claim_events, classes, consumers, default_class, events, pods, pvcs};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "pvc-pending-provisioner-missing",
    code: "ST-02",
    title: "PVC Pending: the StorageClass's provisioner is missing or failing",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["waiting for a volume to be created", "external provisioner"],
            weight: 0.97,
        },
        Symptom {
            all_of: &["provisioningfailed"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["failed to provision volume with storageclass"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["externalprovisioning"],
            weight: 0.85,
        },
    ],
    queries,
    diagnose,
};

fn csidrivers() -> Query {
    q::list("storage.k8s.io", "csidrivers", None, None, None)
}
fn csinodes() -> Query {
    q::list("storage.k8s.io", "csinodes", None, None, None)
}
fn kcm() -> Query {
    q::list(
        "",
        "pods",
        Some("kube-system"),
        Some("component=kube-controller-manager"),
        None,
    )
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        pvcs(),
        classes(),
        events(),
        pods(),
        csidrivers(),
        csinodes(),
        kcm(),
    ];
    // With a claim waiting, the possible provisioner controllers are read whole (their args
    // name the provisioner they serve).
    if r.objects(&pvcs())
        .iter()
        .any(|c| s(c, "/status/phase") == "Pending")
    {
        out.extend(candidates(r).0.into_iter().map(pod_detail));
    }
    out
}

/// How many possible provisioner controllers are read whole.
const CANDIDATES: usize = 10;

/// The running pods that may be a provisioner's controller, read whole in the second round:
/// those with a `csi-provisioner` sidecar first, then those whose name or an image names CSI
/// or a provisioner. At most [`CANDIDATES`]; `true` when there were more.
fn candidates(r: &Results) -> (Vec<&Pod>, bool) {
    let looks = |p: &Pod, what: &str| {
        p.metadata.name_str().contains(what)
            || p.spec
                .containers
                .iter()
                .any(|c| c.image.as_deref().is_some_and(|i| i.contains(what)))
    };
    let running: Vec<&Pod> = r
        .pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| running(p))
        .collect();
    let mut out: Vec<&Pod> = running
        .iter()
        .copied()
        .filter(|p| looks(p, "csi-provisioner"))
        .collect();
    for p in &running {
        if (looks(p, "csi") || looks(p, "provisioner")) && !out.iter().any(|o| std::ptr::eq(*o, *p))
        {
            out.push(p);
        }
    }
    let capped = out.len() > CANDIDATES;
    out.truncate(CANDIDATES);
    (out, capped)
}

/// Running pods that look like the provisioner's controller: a `csi-provisioner` sidecar, or
/// a name/argument naming the provisioner (read whole). `true` when not every possible
/// controller was read.
fn controllers<'a>(r: &'a Results, provisioner: &str) -> (Vec<&'a Pod>, bool) {
    let short = provisioner
        .split(['.', '/'])
        .find(|p| !p.is_empty())
        .unwrap_or(provisioner);
    let (candidates, capped) = candidates(r);
    let found = candidates
        .into_iter()
        .filter(|p| {
            let n = p.metadata.name_str();
            let by_args = detail(r, p).is_some_and(|whole| {
                arr(whole, "/spec/containers").iter().any(|c| {
                    let image = s(c, "/image");
                    let args = c.to_string();
                    (image.contains("csi-provisioner") && args.contains(provisioner))
                        || args.contains(&format!("={provisioner}"))
                        || args.contains(&format!("\"{provisioner}\""))
                })
            });
            by_args || (short.len() > 3 && n.contains(short) && n.contains("provisioner"))
        })
        .collect();
    (found, capped)
}

fn install_hint(p: &str) -> Vec<String> {
    match p {
        "ebs.csi.aws.com" => vec![
            "helm repo add aws-ebs-csi-driver https://kubernetes-sigs.github.io/aws-ebs-csi-driver".into(),
            "helm upgrade --install aws-ebs-csi-driver aws-ebs-csi-driver/aws-ebs-csi-driver -n kube-system   # the nodes' IAM role (or IRSA) needs the AmazonEBSCSIDriverPolicy".into(),
        ],
        "pd.csi.storage.gke.io" => vec!["kubectl apply -k 'github.com/kubernetes-sigs/gcp-compute-persistent-disk-csi-driver/deploy/kubernetes/overlays/stable-master'".into()],
        "disk.csi.azure.com" => vec!["helm upgrade --install azuredisk-csi-driver azuredisk-csi-driver/azuredisk-csi-driver -n kube-system --repo https://raw.githubusercontent.com/kubernetes-sigs/azuredisk-csi-driver/master/charts".into()],
        "nfs.csi.k8s.io" => vec!["helm upgrade --install csi-driver-nfs csi-driver-nfs -n kube-system --repo https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts".into()],
        "rancher.io/local-path" => vec!["kubectl apply -f https://raw.githubusercontent.com/rancher/local-path-provisioner/v0.0.30/deploy/local-path-storage.yaml".into()],
        "driver.longhorn.io" => vec!["helm upgrade --install longhorn longhorn -n longhorn-system --create-namespace --repo https://charts.longhorn.io".into()],
        other => vec![format!("# install the CSI driver / provisioner that implements {other} (its controller with the csi-provisioner sidecar, and its node plugin)")],
    }
}

/// Whether a query answered with objects (a list that was captured), not a failure or
/// "not captured": only then does absence in it mean anything.
fn listed(r: &Results, q: &Query) -> bool {
    matches!(r.outcome(q), Some(Outcome::Objects(_) | Outcome::Lean(_)))
}

/// The provisioner the PV controller handed the claim to: its `storage-provisioner`
/// annotation (which names the CSI driver when an in-tree class is migrated to CSI, as on
/// EKS/GKE/AKS from 1.23), else the class's.
fn claim_provisioner<'a>(claim: &'a Value, class_provisioner: &'a str) -> &'a str {
    [
        "/metadata/annotations/volume.kubernetes.io~1storage-provisioner",
        "/metadata/annotations/volume.beta.kubernetes.io~1storage-provisioner",
    ]
    .iter()
    .map(|p| s(claim, p))
    .find(|p| !p.is_empty())
    .unwrap_or(class_provisioner)
}

/// Claims Pending for over two minutes; a claim without a creationTimestamp (a pasted
/// fragment) is of unknown age and kept: its events tell whether it waits.
fn pending(r: &Results, now: DateTime<Utc>) -> Vec<&Value> {
    r.objects(&pvcs())
        .iter()
        .filter(|c| s(c, "/status/phase") == "Pending")
        .filter(|c| s(c, "/metadata/creationTimestamp").is_empty() || age_secs(c, now) > 120)
        .collect()
}

fn diagnose(r: &Results, now: DateTime<Utc>) -> Option<Finding> {
    let default = default_class(r).map(|c| name(c).to_string());
    // The controller manager's flags, when its pod is visible (not on managed control
    // planes: EKS, GKE, AKS run it out of sight, and its absence says nothing).
    let kcm_pod = r.objects(&kcm()).first();
    let kcm_cmd = kcm_pod.map(flags).unwrap_or_default();
    let cloud = flag(&kcm_cmd, "--cloud-provider").map(str::to_string);
    let drivers_listed = listed(r, &csidrivers());
    let pods_listed = listed(r, &pods());
    struct Hit<'a> {
        claim: &'a Value,
        class: String,
        provisioner: String,
        cause: String,
        missing: bool,
        /// How many independent observations show the provisioner absent.
        proofs: usize,
        evidence: Vec<crate::playbooks::Evidence>,
    }
    let mut hits: Vec<Hit> = Vec::new();
    for claim in pending(r, now) {
        let class = match claim
            .pointer("/spec/storageClassName")
            .and_then(Value::as_str)
        {
            Some("") => continue,
            Some(c) => c.to_string(),
            None => match &default {
                Some(d) => d.clone(),
                None => continue,
            },
        };
        let obj = format!("PersistentVolumeClaim/{}/{}", namespace(claim), name(claim));
        let evs = claim_events(r, claim);
        let Some(sc) = r.objects(&classes()).iter().find(|c| name(c) == class) else {
            let mut evidence = vec![ev(
                obj.clone(),
                "spec.storageClassName",
                format!("{class}: no such StorageClass"),
            )];
            evidence.extend(
                evs.iter()
                    .take(1)
                    .map(|e| ev(event_ref(e), format!("{obj} event"), event_text(e))),
            );
            if !listed(r, &classes()) {
                continue; // the classes were not captured: "no such class" cannot be said
            }
            hits.push(Hit {
                claim,
                class: class.clone(),
                provisioner: String::new(),
                cause: format!("StorageClass {class} does not exist"),
                missing: true,
                proofs: 2,
                evidence,
            });
            continue;
        };
        let class_provisioner = s(sc, "/provisioner");
        let provisioner = claim_provisioner(claim, class_provisioner).to_string();
        let selected = s(
            claim,
            "/metadata/annotations/volume.kubernetes.io~1selected-node",
        );
        let failed: Vec<&&Event> = evs
            .iter()
            .filter(|e| e.reason.as_deref() == Some("ProvisioningFailed"))
            .collect();
        let waiting: Vec<&&Event> = evs
            .iter()
            .filter(|e| e.reason.as_deref() == Some("ExternalProvisioning"))
            .collect();
        // Past WaitForFirstConsumer: a node was selected, or the PV controller already
        // handed the claim to a provisioner (its events, its storage-provisioner annotation).
        let provisioning = !selected.is_empty()
            || !waiting.is_empty()
            || !failed.is_empty()
            || provisioner != class_provisioner
            || !s(
                claim,
                "/metadata/annotations/volume.kubernetes.io~1storage-provisioner",
            )
            .is_empty();
        if s(sc, "/volumeBindingMode") == "WaitForFirstConsumer" && !provisioning {
            continue; // waiting for a pod: normal
        }
        if provisioner == "kubernetes.io/no-provisioner" {
            continue; // static local volumes: ST-01's business
        }
        let mut evidence = vec![
            ev(
                obj.clone(),
                "spec.storageClassName",
                format!(
                    "{class}{}; Pending for {}",
                    if claim.pointer("/spec/storageClassName").is_none() {
                        " (default)"
                    } else {
                        ""
                    },
                    if s(claim, "/metadata/creationTimestamp").is_empty() {
                        "an unknown time (no creationTimestamp captured)".to_string()
                    } else {
                        human(age_secs(claim, now))
                    }
                ),
            ),
            ev(
                format!("StorageClass/{class}"),
                "provisioner / volumeBindingMode",
                format!(
                    "{class_provisioner} / {}",
                    match s(sc, "/volumeBindingMode") {
                        "" => "Immediate",
                        m => m,
                    }
                ),
            ),
        ];
        if provisioner != class_provisioner {
            evidence.push(ev(
                obj.clone(),
                "metadata.annotations[volume.kubernetes.io/storage-provisioner]",
                format!(
                    "{provisioner}: the in-tree {class_provisioner} is migrated to this CSI driver, which must be installed"
                ),
            ));
        }
        if !selected.is_empty() {
            evidence.push(ev(
                obj.clone(),
                "metadata.annotations[volume.kubernetes.io/selected-node]",
                selected,
            ));
        }
        for e in waiting.iter().take(1).chain(failed.iter().take(2)) {
            evidence.push(ev(event_ref(e), format!("{obj} event"), event_text(e)));
        }
        let (cause, missing, proofs) = if let Some(rest) =
            provisioner.strip_prefix("kubernetes.io/")
        {
            match &cloud {
                None if kcm_pod.is_none() => match failed.first() {
                    // The controller manager is out of sight: only its own words count.
                    Some(e) => (
                        format!(
                            "the in-tree provisioner kubernetes.io/{rest} fails: {}",
                            e.message.as_deref().unwrap_or_default()
                        ),
                        false,
                        1,
                    ),
                    None => continue,
                },
                None => {
                    evidence.push(ev(
                        "Pod/kube-system/kube-controller-manager",
                        "spec.containers[kube-controller-manager].command",
                        "no --cloud-provider",
                    ));
                    (
                        format!(
                            "the in-tree provisioner kubernetes.io/{rest} needs a cloud provider, and kube-controller-manager runs without one (CL-01)"
                        ),
                        true,
                        2,
                    )
                }
                Some(c) => match failed.first() {
                    Some(e) => (
                        format!(
                            "the in-tree provisioner (cloud provider {c}) fails: {}",
                            e.message.as_deref().unwrap_or_default()
                        ),
                        false,
                        1,
                    ),
                    None => continue,
                },
            }
        } else {
            let driver = r
                .objects(&csidrivers())
                .iter()
                .any(|d| name(d) == provisioner);
            let (ctrls, capped) = controllers(r, &provisioner);
            let nodes_with: Vec<&str> = r
                .objects(&csinodes())
                .iter()
                .filter(|n| {
                    arr(n, "/spec/drivers")
                        .iter()
                        .any(|d| s(d, "/name") == provisioner)
                })
                .map(name)
                .collect();
            evidence.push(ev(
                format!("CSIDriver/{provisioner}"),
                "metadata",
                if driver {
                    "registered".to_string()
                } else if drivers_listed {
                    "not registered: no CSIDriver object".to_string()
                } else {
                    "not captured (`kubectl get csidrivers`)".to_string()
                },
            ));
            if listed(r, &csinodes()) {
                evidence.push(ev(
                    "CSINodes",
                    format!("spec.drivers[name={provisioner}]"),
                    if nodes_with.is_empty() {
                        "on no node".to_string()
                    } else {
                        format!("on {}", nodes_with.join(", "))
                    },
                ));
            }
            evidence.push(ev(
                "Pods",
                format!("controller of {provisioner}"),
                if ctrls.is_empty() && !pods_listed {
                    "not captured (`kubectl get pods -A | grep -e csi -e provisioner`)".to_string()
                } else if ctrls.is_empty() {
                    "none running (no csi-provisioner sidecar serving it)".to_string()
                } else {
                    ctrls
                        .iter()
                        .map(|p| {
                            format!("{}/{}", p.metadata.namespace_str(), p.metadata.name_str())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ));
            // Absence counts only where it was looked at: a captured CSIDriver list without
            // the driver, a captured pod list without its controller.
            let no_driver = drivers_listed && !driver;
            let no_ctrl = pods_listed && ctrls.is_empty() && !capped;
            let proofs = usize::from(no_driver) + usize::from(no_ctrl);
            if ctrls.is_empty()
                && proofs > 0
                && (!driver || !waiting.is_empty() || failed.is_empty())
            {
                (
                    format!(
                        "nothing in the cluster implements provisioner {provisioner}: {}no controller pod runs for it",
                        if no_driver {
                            "no CSIDriver is registered and "
                        } else {
                            ""
                        }
                    ),
                    true,
                    proofs,
                )
            } else if let Some(e) = failed.first() {
                (
                    format!(
                        "provisioner {provisioner} runs but fails: {}",
                        e.message.as_deref().unwrap_or_default()
                    ),
                    false,
                    1,
                )
            } else {
                continue;
            }
        };
        hits.push(Hit {
            claim,
            class,
            provisioner,
            cause,
            missing,
            proofs,
            evidence,
        });
    }
    let first = hits.first()?;
    let mut evidence: Vec<crate::playbooks::Evidence> =
        hits.iter().flat_map(|h| h.evidence.clone()).collect();
    let mut blocked = Vec::new();
    for h in &hits {
        for p in consumers(r, h.claim) {
            if p.status.phase.as_deref() == Some("Pending") {
                blocked.push(format!(
                    "{}/{}",
                    p.metadata.namespace_str(),
                    p.metadata.name_str()
                ));
            }
        }
    }
    if !blocked.is_empty() {
        evidence.push(ev(
            "Pods",
            "status.phase",
            format!("Pending, waiting for the claim: {}", blocked.join(", ")),
        ));
    }
    let (ns, n) = (namespace(first.claim), name(first.claim));
    let mut commands = vec![
        "kubectl get storageclass".to_string(),
        "kubectl get csidrivers; kubectl get pods -A -o wide | grep -i -e csi -e provisioner"
            .into(),
    ];
    if first.missing
        && !first.provisioner.is_empty()
        && !first.provisioner.starts_with("kubernetes.io/")
    {
        commands.extend(install_hint(&first.provisioner));
    }
    if first.provisioner.starts_with("kubernetes.io/") {
        commands.push("# in-tree cloud provisioners are gone in current releases: install the cloud's CSI driver and point the StorageClass at it".into());
    }
    commands.push(format!("# or use a class whose provisioner runs here: kubectl delete pvc -n {ns} {n} and recreate it with storageClassName set to it"));
    commands.push(format!(
        "kubectl describe pvc -n {ns} {n}   # Bound once the provisioner created the volume"
    ));
    let summary = format!(
        "PersistentVolumeClaim {ns}/{n} (StorageClass {}) is Pending: {}{}.",
        first.class,
        first.cause,
        if hits.len() > 1 {
            format!("; {} more claims wait the same way", hits.len() - 1)
        } else {
            String::new()
        }
    );
    let missing = hits.iter().any(|h| h.missing);
    // Both the CSIDriver list and the pods show it absent: sure; one of them: likely.
    let proofs = hits.iter().map(|h| h.proofs).max().unwrap_or(0);
    Some(Finding {
        severity: if missing || !blocked.is_empty() { FindingSeverity::Critical } else { FindingSeverity::Warning },
        confidence: match (missing, proofs) {
            (true, p) if p >= 2 => 0.93,
            (true, _) => 0.85,
            _ => 0.75,
        },
        summary,
        evidence,
        ruled_out: vec![
            "Not a claim without any StorageClass (ST-01): the claim has a class, and the PV controller handed it to that class's provisioner.".into(),
            "Not WaitForFirstConsumer: a consumer exists and a node was selected, or the class binds immediately.".into(),
            "Not a matching pre-created PV: dynamic claims of a class only bind PVs of that class, and the controller waits for the provisioner.".into(),
        ],
        fix: Fix {
            explanation: "Install the CSI driver that implements the class's provisioner (its controller with the csi-provisioner sidecar, its node DaemonSet and its CSIDriver object, plus the cloud credentials it needs), or switch the workload to a StorageClass whose provisioner runs in this cluster. Once the controller runs, the Pending claim is provisioned without being recreated. For zonal disks keep volumeBindingMode: WaitForFirstConsumer.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::{Outcome, Watched};
    use serde_json::json;

    fn results(mode: &str, annotated: bool, objects_ctrl: Vec<Value>, reason: &str) -> Results {
        let mut claim = json!({"metadata": {"name": "data-redis-0", "namespace": "shop", "creationTimestamp": "2026-01-15T09:00:00Z"}, "spec": {"storageClassName": "gp3", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}}, "status": {"phase": "Pending"}});
        if annotated {
            claim["metadata"]["annotations"] =
                json!({"volume.kubernetes.io/selected-node": "worker-1"});
        }
        let mut r = Results::default();
        r.by_query.insert(pvcs(), Outcome::Objects(vec![claim]));
        r.by_query.insert(classes(), Outcome::Objects(vec![json!({"metadata": {"name": "gp3"}, "provisioner": "ebs.csi.aws.com", "volumeBindingMode": mode})]));
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e", "namespace": "shop"}, "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data-redis-0"}, "reason": reason, "message": "waiting for a volume to be created, either by external provisioner \"ebs.csi.aws.com\" or manually created by system administrator", "count": 120})]);
        super::super::common::set_pods(&mut r, &objects_ctrl);
        for qq in [csidrivers(), csinodes(), kcm()] {
            r.by_query.insert(qq, Outcome::Objects(vec![]));
        }
        r
    }
    fn now() -> DateTime<Utc> {
        crate::scenarios::builder::epoch()
    }

    #[test]
    fn csi_provisioner_not_installed_is_critical() {
        let f = diagnose(
            &results("WaitForFirstConsumer", true, vec![], "ExternalProvisioning"),
            now(),
        )
        .expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary
                .contains("nothing in the cluster implements provisioner ebs.csi.aws.com")
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("aws-ebs-csi-driver"))
        );
    }

    fn not_captured() -> Outcome {
        Outcome::Failed {
            code: 0,
            message: "not captured".into(),
        }
    }

    /// An in-tree class on a release that migrated it to CSI (EKS 1.23+): the claim names the
    /// CSI driver, the PV controller waits for it, and no timestamps or controller-manager
    /// pods were captured.
    fn migrated(drivers: Outcome, pods_: Outcome) -> Results {
        let claim = json!({"metadata": {"name": "data", "namespace": "cost", "annotations": {"volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}}, "spec": {"storageClassName": "gp2"}, "status": {"phase": "Pending"}});
        let mut r = Results::default();
        r.by_query.insert(pvcs(), Outcome::Objects(vec![claim]));
        r.by_query.insert(classes(), Outcome::Objects(vec![json!({"metadata": {"name": "gp2"}, "provisioner": "kubernetes.io/aws-ebs", "volumeBindingMode": "WaitForFirstConsumer"})]));
        r.set_watched(Watched::Events, &[json!({"metadata": {"name": "e", "namespace": "cost"}, "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "cost", "name": "data"}, "reason": "ExternalProvisioning", "message": "waiting for a volume to be created, either by external provisioner \"ebs.csi.aws.com\" or manually created by system administrator", "count": 2222})]);
        match pods_ {
            Outcome::Objects(v) => super::super::common::set_pods(&mut r, &v),
            other => {
                r.by_query.insert(pods(), other);
            }
        }
        r.by_query.insert(csidrivers(), drivers);
        r.by_query.insert(csinodes(), not_captured());
        r.by_query.insert(kcm(), Outcome::Objects(vec![]));
        r
    }

    #[test]
    fn a_migrated_in_tree_class_waits_for_its_missing_csi_driver() {
        let f = diagnose(
            &migrated(Outcome::Objects(vec![]), Outcome::Objects(vec![])),
            now(),
        )
        .expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence > 0.9);
        assert!(
            f.summary
                .contains("nothing in the cluster implements provisioner ebs.csi.aws.com"),
            "{}",
            f.summary
        );
        assert!(f.evidence.iter().any(|e| e.value.contains("migrated")));
        assert!(f.evidence.iter().any(|e| e.value.contains("unknown time")));
        assert!(!f.evidence.iter().any(|e| e.object == "CSINodes"));
        // The CSIDriver list not captured: only the pods show the absence, less sure.
        let f =
            diagnose(&migrated(not_captured(), Outcome::Objects(vec![])), now()).expect("finding");
        assert!(f.confidence < 0.9);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.value.starts_with("not captured"))
        );
    }

    #[test]
    fn nothing_captured_about_the_driver_proves_nothing() {
        assert!(diagnose(&migrated(not_captured(), not_captured()), now()).is_none());
    }

    #[test]
    fn waiting_for_first_consumer_and_a_running_driver_are_not_this() {
        assert!(
            diagnose(
                &results(
                    "WaitForFirstConsumer",
                    false,
                    vec![],
                    "WaitForFirstConsumer"
                ),
                now()
            )
            .is_none()
        );
        let ctrl = json!({"metadata": {"name": "ebs-csi-controller-7d9f-abcde", "namespace": "kube-system"}, "spec": {"containers": [{"name": "csi-provisioner", "image": "registry.k8s.io/sig-storage/csi-provisioner:v5.0.1", "args": ["--csi-address=$(ADDRESS)"]}, {"name": "ebs-plugin", "image": "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.35.0", "args": ["controller", "--driver-name=ebs.csi.aws.com"]}]}, "status": {"phase": "Running"}});
        assert!(
            diagnose(
                &results("Immediate", false, vec![ctrl], "Provisioning"),
                now()
            )
            .is_none()
        );
    }
}
