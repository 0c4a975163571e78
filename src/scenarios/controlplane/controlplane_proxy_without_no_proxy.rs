//! `controlplane-proxy-without-no-proxy` (CP-01): kubeadm copied the hosts' proxy variables
//! into the static pod manifests with a NO_PROXY of `localhost,127.0.0.1,.corp.example` — no
//! node IPs, no service or pod CIDR. It worked while the corporate proxy still tunnelled to
//! 10.0.0.0/24; 12 minutes ago the proxy team closed that, and since then every leader-election
//! call of kube-controller-manager and kube-scheduler comes back `Gateway Timeout`: the leader
//! lost its leases, restarted, and nobody holds them.

use serde_json::json;

use super::common::{LostLeader, append_log, lost_lease_and_restarted, repeat_klog, take_log, us};
use crate::builder::{ClusterBuilder, MIN, klog};
use crate::{Scenario, ServerBehavior};

pub const PROXY: &str = "http://proxy.corp.example:3128";
pub const NO_PROXY: &str = "localhost,127.0.0.1,.corp.example";
/// When the proxy started refusing the tunnels.
const BROKEN_AGO: i64 = 12 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let cps = c.control_plane_nodes();
    let env = json!([
        {"name": "HTTP_PROXY", "value": PROXY},
        {"name": "HTTPS_PROXY", "value": PROXY},
        {"name": "NO_PROXY", "value": NO_PROXY},
    ]);
    for n in &cps {
        for comp in [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            if let Some(ctr) = super::common::container_mut(&mut c, comp, &n.name) {
                ctr["env"] = env.clone();
            }
        }
    }
    for (i, n) in cps.iter().enumerate() {
        for comp in ["kube-controller-manager", "kube-scheduler"] {
            let pod = format!("{comp}-{}", n.name);
            let get = format!(
                "Get \"https://{}:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{comp}?timeout=5s\": Gateway Timeout",
                n.ip
            );
            let retrieving = format!("error retrieving resource lock kube-system/{comp}: {get}");
            if i == 0 {
                // The leader: renewals fail, it loses the lease and exits; the kubelet restarts it.
                let mut prev = take_log(&mut c, &pod, comp);
                prev.push_str(&klog(
                    'E',
                    us(BROKEN_AGO + 8, &pod),
                    "leaderelection.go:429",
                    &format!(
                        "Failed to update lock optimitically: Put \"https://{}:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{comp}?timeout=5s\": Gateway Timeout, falling back to slow path",
                        n.ip
                    ),
                ));
                prev.push_str(&repeat_klog(
                    'E',
                    BROKEN_AGO + 6,
                    BROKEN_AGO + 2,
                    2,
                    "leaderelection.go:436",
                    &retrieving,
                ));
                lost_lease_and_restarted(
                    &mut c,
                    prev,
                    &LostLeader {
                        pod: &pod,
                        comp,
                        lost_ago: BROKEN_AGO,
                        retry_error: &retrieving,
                        attempt_after_us: 500,
                        retries: (6, 1, 6),
                    },
                );
            } else {
                let text = repeat_klog(
                    'E',
                    BROKEN_AGO - i as i64,
                    1 + i as i64,
                    6,
                    "leaderelection.go:436",
                    &retrieving,
                );
                append_log(&mut c, &pod, comp, &text);
            }
        }
    }
    // The API servers reach metrics-server through the proxy as well.
    let ms_ip = c.cluster_ip_for("kube-system", "metrics-server");
    for n in &cps {
        let pod = format!("kube-apiserver-{}", n.name);
        let msg = format!(
            "\"Unhandled Error\" err=\"v1beta1.metrics.k8s.io failed with: failing or missing response from https://{ms_ip}:443/apis/metrics.k8s.io/v1beta1: Get \\\"https://{ms_ip}:443/apis/metrics.k8s.io/v1beta1\\\": Gateway Timeout\" logger=\"UnhandledError\""
        );
        let text = repeat_klog(
            'E',
            BROKEN_AGO - 20,
            30,
            60,
            "remote_available_controller.go:448",
            &msg,
        );
        append_log(&mut c, &pod, "kube-apiserver", &text);
    }
    for lease in ["kube-controller-manager", "kube-scheduler"] {
        c.stale_lease("kube-system", lease, BROKEN_AGO + 9);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "controlplane-proxy-without-no-proxy",
        title: "Control plane behind an enterprise proxy without NO_PROXY",
        summary: "The static control-plane pods carry HTTPS_PROXY with NO_PROXY=localhost,127.0.0.1,.corp.example. Since the proxy stopped tunnelling to the node network, kube-controller-manager and kube-scheduler log `error retrieving resource lock ...: Gateway Timeout`; nobody holds the leader leases.",
        playbook: Some("controlplane-proxy-without-no-proxy"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
