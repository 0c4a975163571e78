//! WL-02 `image-pull-failure`: containers waiting in `ErrImagePull` / `ImagePullBackOff` /
//! `InvalidImageName`. The kubelet's `Failed to pull image …` event carries the runtime's
//! error, which tells the class: `not found` / `manifest unknown` (name or tag), 401/403 /
//! `pull access denied` (missing or wrong imagePullSecret), `i/o timeout` / `proxyconnect` /
//! `no such host` / x509 (the node cannot reach the registry: runtime proxy, NO_PROXY, DNS,
//! firewall, registry CA), `toomanyrequests` (registry rate limit).
//! The stuck pods are found in the typed pod list; the first few are read in full (`kubectl
//! get pod`) for what the list does not keep: the image each container status reports, the
//! pull secrets and the service account.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::common::{
    all_ready, ev, event_count, events_all, events_for, name_of, ns_of, owner_workload, pod_detail,
    pod_get, pod_ref, pods_all, s, st, waiting_message, waiting_reason, workload_arg,
};
use crate::cluster::lean::Pod;
use crate::playbooks::util::arr;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "image-pull-failure",
    code: "WL-02",
    title: "Image cannot be pulled",
    access: Access::ApiPlus,
    symptoms: &[
        Symptom {
            all_of: &["errimagepull"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["imagepullbackoff"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["failed to pull image"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["back-off pulling image"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["manifest unknown"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["pull access denied"],
            weight: 0.8,
        },
        Symptom {
            all_of: &["invalidimagename"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

/// The stuck containers named in a finding (the first is its subject).
const MAX_NAMED: usize = 6;

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![pods_all(), events_all()];
    let found: Vec<Stuck> = r.pods().iter().flat_map(|p| stuck(p)).collect();
    for x in found.iter().take(MAX_NAMED) {
        let q = pod_get(ns_of(x.pod), name_of(x.pod));
        if !out.contains(&q) {
            out.push(q);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PullCause {
    NotFound,
    Auth,
    Unreachable,
    RateLimited,
    InvalidName,
    Unknown,
}

fn classify(text: &str) -> PullCause {
    let t = text.to_lowercase();
    let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
    if has(&["invalidimagename", "invalid reference format"]) {
        PullCause::InvalidName
    } else if has(&["toomanyrequests", "rate limit"]) {
        PullCause::RateLimited
    } else if has(&[
        "401 unauthorized",
        "403 forbidden",
        "unauthorized",
        "authorization failed",
        "no basic auth credentials",
        "pull access denied",
        "denied:",
        "authentication required",
    ]) {
        PullCause::Auth
    } else if has(&[
        "not found",
        "manifest unknown",
        "name unknown",
        "repository does not exist",
    ]) {
        PullCause::NotFound
    } else if has(&[
        "i/o timeout",
        "proxyconnect",
        "no such host",
        "connection refused",
        "tls handshake timeout",
        "x509:",
        "network is unreachable",
        "context deadline exceeded",
        "dial tcp",
    ]) {
        PullCause::Unreachable
    } else {
        PullCause::Unknown
    }
}

struct Stuck<'a> {
    pod: &'a Pod,
    container: String,
    /// Where its status is: `/status/initContainerStatuses` or `/status/containerStatuses`.
    statuses: &'static str,
    reason: String,
    message: String,
}

impl Stuck<'_> {
    /// The image its status reports, read from the full pod (the spec's image when the pod
    /// could not be read).
    fn image(&self, r: &Results) -> String {
        match pod_detail(r, ns_of(self.pod), name_of(self.pod)) {
            Some(full) => arr(full, self.statuses)
                .iter()
                .find(|c| s(c, "/name") == self.container)
                .map(|c| s(c, "/image").to_string())
                .unwrap_or_default(),
            None => self
                .pod
                .spec
                .containers
                .iter()
                .find(|c| c.name == self.container)
                .map(|c| st(&c.image).to_string())
                .unwrap_or_default(),
        }
    }
}

fn stuck(p: &Pod) -> Vec<Stuck<'_>> {
    let mut out = Vec::new();
    for (statuses, list) in [
        (
            "/status/initContainerStatuses",
            &p.status.init_container_statuses,
        ),
        ("/status/containerStatuses", &p.status.container_statuses),
    ] {
        for cs in list {
            let reason = waiting_reason(cs);
            if matches!(
                reason,
                "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName"
            ) {
                out.push(Stuck {
                    pod: p,
                    container: cs.name.clone(),
                    statuses,
                    reason: reason.to_string(),
                    message: waiting_message(cs).to_string(),
                });
            }
        }
    }
    out
}

fn registry_of(image: &str) -> String {
    let first = image.split('/').next().unwrap_or("");
    if image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost") {
        first.to_string()
    } else {
        "docker.io".to_string()
    }
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let pods = r.pods();
    let events = r.events();
    let found: Vec<Stuck> = pods.iter().flat_map(|p| stuck(p)).collect();
    let first = found.first()?;
    let (ns, pod_name) = (ns_of(first.pod), name_of(first.pod));
    let full = pod_detail(r, ns, pod_name).unwrap_or(&Value::Null);
    let pod_events = events_for(events, "Pod", ns, pod_name);
    let pull_error = pod_events
        .iter()
        .find(|e| st(&e.reason) == "Failed" && st(&e.message).starts_with("Failed to pull image"))
        .copied();
    let detail = pull_error
        .map(|e| st(&e.message).to_string())
        .unwrap_or_else(|| first.message.clone());
    let cause = classify(&format!("{} {detail}", first.reason));
    let pref = pod_ref(ns, pod_name);
    let mut evidence: Vec<Evidence> = vec![ev(
        &pref,
        format!(
            "status.containerStatuses[{}].state.waiting",
            first.container
        ),
        format!("{}: {}", first.reason, first.message),
    )];
    if let Some(e) = pull_error {
        evidence.push(ev(
            format!("Event/{ns}/{}", name_of(e)),
            "Failed",
            format!("{} (x{})", st(&e.message), event_count(e)),
        ));
    }
    let image = &first.image(r);
    evidence.push(ev(
        &pref,
        format!("spec.containers[{}].image", first.container),
        image.clone(),
    ));
    let secrets: Vec<&str> = full
        .pointer("/spec/imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|x| s(x, "/name"))
        .collect();
    let sa = match s(full, "/spec/serviceAccountName") {
        "" => "default",
        x => x,
    };
    evidence.push(ev(
        &pref,
        "spec.imagePullSecrets",
        if secrets.is_empty() {
            "none".to_string()
        } else {
            secrets.join(", ")
        },
    ));
    let wl = workload_arg(first.pod);
    let ready = pods
        .iter()
        .filter(|p| ns_of(&***p) == ns && workload_arg(p) == wl && all_ready(p, true))
        .count();
    let affected = found.len();
    if affected > 1 {
        evidence.push(ev(
            "Pod",
            "pods that cannot pull",
            found
                .iter()
                .take(MAX_NAMED)
                .map(|x| format!("{}/{} ({})", ns_of(x.pod), name_of(x.pod), x.image(r)))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let who = if owner_workload(first.pod).is_some() {
        format!("{ns}/{pod_name} (of {wl})")
    } else {
        format!("{ns}/{pod_name}")
    };
    let registry = registry_of(image);
    let node = st(&first.pod.spec.node_name);
    let describe = format!("kubectl describe pod -n {ns} {pod_name}");
    let mut ruled_out = Vec::new();
    let (summary, explanation, commands, confidence): (String, String, Vec<String>, f32) = match cause {
        PullCause::NotFound => {
            ruled_out.push("Not credentials: the registry answered and said the reference does not exist (not 401/403).".into());
            ruled_out.push("Not registry reachability: the node reached the registry.".into());
            (
                format!("{who} cannot start: image {image} does not exist in {registry} (wrong name or tag)."),
                format!("The registry answered `not found` for {image}. Check the exact repository and tag that were pushed (a `v` prefix, a typo, an unpushed build) and set the right one on {wl}."),
                vec![
                    describe.clone(),
                    format!("crane ls {}   # or: skopeo list-tags docker://{}", image.rsplit_once(':').map(|x| x.0).unwrap_or(image), image.rsplit_once(':').map(|x| x.0).unwrap_or(image)),
                    format!("kubectl -n {ns} set image {wl} {}=<existing image:tag>", first.container),
                ],
                0.92,
            )
        }
        PullCause::Auth => {
            ruled_out.push("Not a missing tag: the registry refused access before resolving the image (401/403 / pull access denied).".into());
            (
                format!("{who} cannot pull {image}: {registry} refuses the pull without valid credentials (imagePullSecret {}).", if secrets.is_empty() { "missing".to_string() } else { format!("{} rejected", secrets.join(", ")) }),
                format!("The registry needs authentication. Create a docker-registry Secret in {ns} and reference it from the pod spec or the ServiceAccount {sa} (ktriage does not read Secrets: check the credentials yourself)."),
                vec![
                    format!("kubectl -n {ns} create secret docker-registry regcred --docker-server={registry} --docker-username=<user> --docker-password=<token>"),
                    format!("kubectl -n {ns} patch serviceaccount {sa} -p '{{\"imagePullSecrets\":[{{\"name\":\"regcred\"}}]}}'"),
                    format!("kubectl -n {ns} rollout restart {wl}"),
                ],
                0.88,
            )
        }
        PullCause::Unreachable => {
            ruled_out.push("Not a wrong tag or credentials: the node never got an answer from the registry.".into());
            (
                format!("{who} cannot pull {image}: node {node} cannot reach {registry} (network, proxy or registry CA)."),
                format!("containerd on {node} pulls the image itself, with its own proxy settings (not the shell's). Behind an enterprise proxy it needs HTTP(S)_PROXY and a NO_PROXY that covers the cluster ranges in a systemd drop-in; a TLS-inspecting proxy needs its CA in the node trust store. On the node, try the pull by hand and read the error."),
                vec![
                    format!("# on {node}:"),
                    format!("sudo crictl pull {image}"),
                    "systemctl show containerd --property=Environment".into(),
                    format!("curl -sv https://{registry}/v2/ -o /dev/null"),
                    "# add /etc/systemd/system/containerd.service.d/http-proxy.conf with HTTPS_PROXY and NO_PROXY, then: sudo systemctl daemon-reload && sudo systemctl restart containerd".into(),
                ],
                0.85,
            )
        }
        PullCause::RateLimited => (
            format!("{who} cannot pull {image}: {registry} rate-limits the pulls (toomanyrequests)."),
            "Anonymous pulls are rate-limited per IP. Authenticate with an imagePullSecret, or mirror the image to your registry.".into(),
            vec![
                format!("kubectl -n {ns} create secret docker-registry regcred --docker-server={registry} --docker-username=<user> --docker-password=<token>"),
                describe.clone(),
            ],
            0.85,
        ),
        PullCause::InvalidName => (
            format!("{who} cannot start: image reference {image} is not valid."),
            "The image field is not a valid reference (upper case, spaces, a stray colon). Fix it in the manifest.".into(),
            vec![format!("kubectl -n {ns} set image {wl} {}=<valid reference>", first.container)],
            0.9,
        ),
        PullCause::Unknown => (
            format!("{who} cannot pull {image} ({}).", first.reason),
            "The runtime's error is in the pod's events; pull the image by hand on the node to see it in full.".into(),
            vec![describe.clone(), format!("# on {node}:"), format!("sudo crictl pull {image}")],
            0.6,
        ),
    };
    let severity = if ready == 0 {
        FindingSeverity::Critical
    } else {
        FindingSeverity::Warning
    };
    ruled_out.push(if ready == 0 {
        format!(
            "Nothing of {wl} runs: no replica is ready, so this is an outage, not a stuck rollout."
        )
    } else {
        format!("{wl} still serves from {ready} ready replica(s): a stuck rollout, not an outage.")
    });
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
    use super::super::common::testing::{answer_gets, lean_results};
    use super::*;

    use serde_json::json;

    fn pod(reason: &str) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "shop", "name": "reco-h-1", "labels": {"pod-template-hash": "h"},
                "ownerReferences": [{"kind": "ReplicaSet", "name": "reco-h", "controller": true}]},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "reco", "image": "ghcr.io/acme/reco:v1.4.0"}]},
            "status": {"phase": "Pending", "containerStatuses": [{"name": "reco", "image": "ghcr.io/acme/reco:v1.4.0", "ready": false,
                "state": {"waiting": {"reason": reason, "message": "Back-off pulling image \"ghcr.io/acme/reco:v1.4.0\""}}}]}})
    }

    fn results(pods: Vec<Value>, msg: &str) -> Results {
        let e = json!({"kind": "Event", "metadata": {"namespace": "shop", "name": "reco-h-1.1"}, "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "reco-h-1"},
            "reason": "Failed", "type": "Warning", "count": 6, "message": msg, "lastTimestamp": "2026-01-15T09:59:00Z"});
        let mut r = lean_results(&pods, &[e]);
        // The second round: the stuck pods in full.
        let next = queries(&r);
        answer_gets(&mut r, next, &pods);
        r
    }

    #[test]
    fn the_event_message_tells_the_class() {
        let nf = "Failed to pull image \"ghcr.io/acme/reco:v1.4.0\": rpc error: code = NotFound desc = failed to pull and unpack image \"ghcr.io/acme/reco:v1.4.0\": failed to resolve reference \"ghcr.io/acme/reco:v1.4.0\": ghcr.io/acme/reco:v1.4.0: not found";
        let f = diagnose(&results(vec![pod("ImagePullBackOff")], nf), Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(
            f.summary.contains("does not exist in ghcr.io"),
            "{}",
            f.summary
        );
        // The pull secret and the service account are read from the pod in full.
        let mut with_secret = pod("ErrImagePull");
        with_secret["spec"]["imagePullSecrets"] = json!([{"name": "ghcr"}]);
        with_secret["spec"]["serviceAccountName"] = json!("reco");
        let f = diagnose(
            &results(
                vec![with_secret],
                "Failed to pull image \"ghcr.io/acme/reco:v1.4.0\": 401 Unauthorized",
            ),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.summary.contains("imagePullSecret ghcr rejected"),
            "{}",
            f.summary
        );
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("patch serviceaccount reco")),
            "{:#?}",
            f.fix.commands
        );
        let auth = "Failed to pull image \"ghcr.io/acme/reco:v1.4.0\": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token: 401 Unauthorized";
        let f = diagnose(&results(vec![pod("ErrImagePull")], auth), Utc::now()).unwrap();
        assert!(f.summary.contains("credentials"), "{}", f.summary);
        assert!(
            f.fix
                .commands
                .iter()
                .any(|c| c.contains("patch serviceaccount default"))
        );
        let net = "Failed to pull image \"ghcr.io/acme/reco:v1.4.0\": failed to do request: Head \"https://ghcr.io/v2/acme/reco/manifests/v1.4.0\": proxyconnect tcp: dial tcp 10.1.1.1:3128: i/o timeout";
        let f = diagnose(&results(vec![pod("ErrImagePull")], net), Utc::now()).unwrap();
        assert!(
            f.fix.commands.iter().any(|c| c == "# on worker-1:"),
            "{:#?}",
            f.fix.commands
        );
    }

    #[test]
    fn a_stuck_rollout_is_a_warning_and_running_pods_are_nothing() {
        let mut ok = pod("x");
        ok["metadata"]["name"] = json!("reco-h-2");
        ok["status"]["containerStatuses"][0] =
            json!({"name": "reco", "ready": true, "state": {"running": {}}});
        let f = diagnose(
            &results(vec![pod("ImagePullBackOff"), ok.clone()], "not found"),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(diagnose(&results(vec![ok], "not found"), Utc::now()).is_none());
        assert_eq!(registry_of("nginx:1.27"), "docker.io");
        assert_eq!(registry_of("registry.k8s.io/pause:3.10"), "registry.k8s.io");
    }

    #[test]
    fn the_symptom_ranks_here() {
        let r = crate::playbooks::engine::rank_symptoms(
            "Warning Failed kubelet Error: ImagePullBackOff",
        );
        assert_eq!(r.first().map(|x| x.0.id), Some("image-pull-failure"));
    }
}
