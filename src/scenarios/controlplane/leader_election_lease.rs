//! `leader-election-lease` (CP-04): etcd on these small masters sits on a slow shared disk;
//! for the last 5 minutes lease updates time out. The leaders of kube-controller-manager and
//! kube-scheduler (cp-1) missed their renew deadline, lost their leases and restarted, and no
//! candidate has managed to write the locks since: both leases are stale, every instance logs
//! "attempting to acquire leader lease" followed by `context deadline exceeded`.

use serde_json::json;

use super::common::{LostLeader, append_log, lost_lease_and_restarted, repeat_klog, take_log, us};
use crate::builder::{ClusterBuilder, MIN, klog};
use crate::{Scenario, ServerBehavior};

/// When the lease updates started timing out.
const SINCE: i64 = 5 * MIN;

pub fn scenario() -> Scenario {
    let mut c = ClusterBuilder::kubeadm().build();
    let cps = c.control_plane_nodes();
    for (i, n) in cps.iter().enumerate() {
        for comp in ["kube-controller-manager", "kube-scheduler"] {
            let pod = format!("{comp}-{}", n.name);
            let lock = format!(
                "error retrieving resource lock kube-system/{comp}: Get \"https://{}:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{comp}?timeout=5s\": context deadline exceeded",
                n.ip
            );
            if i == 0 {
                let mut prev = take_log(&mut c, &pod, comp);
                prev.push_str(&klog(
                    'E',
                    us(SINCE + 9, &pod),
                    "leaderelection.go:429",
                    &format!("Failed to update lock optimitically: Put \"https://{}:6443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{comp}?timeout=5s\": context deadline exceeded, falling back to slow path", n.ip),
                ));
                prev.push_str(&klog(
                    'E',
                    us(SINCE + 4, &pod),
                    "leaderelection.go:436",
                    &lock,
                ));
                lost_lease_and_restarted(
                    &mut c,
                    prev,
                    &LostLeader {
                        pod: &pod,
                        comp,
                        lost_ago: SINCE,
                        retry_error: &lock,
                        attempt_after_us: 700,
                        retries: (7, 3, 7),
                    },
                );
            } else {
                let text = repeat_klog(
                    'E',
                    SINCE - 3 - i as i64,
                    2 + i as i64,
                    7,
                    "leaderelection.go:436",
                    &lock,
                );
                append_log(&mut c, &pod, comp, &text);
            }
        }
    }
    // etcd: the disk cannot keep up.
    for n in &cps {
        let pod = format!("etcd-{}", n.name);
        let mut t = String::new();
        let mut k = SINCE + 20;
        let mut j = 0;
        while k > 5 {
            let at = crate::builder::epoch() - chrono::Duration::microseconds(us(k, &pod));
            let ts = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            let line = if j % 3 == 0 {
                json!({"level": "warn", "ts": ts, "caller": "wal/wal.go:805", "msg": "slow fdatasync", "took": format!("{}.{:03}s", 2 + j % 3, 100 + j * 37 % 900), "expected-duration": "1s"})
            } else {
                json!({"level": "warn", "ts": ts, "caller": "etcdserver/util.go:170", "msg": "apply request took too long", "took": format!("{}.{:06}s", 4 + j % 2, 123_456 + j * 7919 % 800_000), "expected-duration": "100ms", "prefix": "", "request": "header:<ID:7587883447384229890 > lease_revoke:<id:694d8b2ff4b3c2a1>", "response": "size:29"})
            };
            t.push_str(&line.to_string());
            t.push('\n');
            k -= 17;
            j += 1;
        }
        append_log(&mut c, &pod, "etcd", &t);
    }
    for lease in ["kube-controller-manager", "kube-scheduler"] {
        c.stale_lease("kube-system", lease, SINCE + 10);
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "leader-election-lease",
        title: "Nobody leads: stale leader leases",
        summary: "etcd's disk is too slow, lease updates time out: the kube-controller-manager and kube-scheduler leaders lost their leases 5 minutes ago and no instance has acquired them since. Every instance logs `attempting to acquire leader lease` and `context deadline exceeded`; the leases stay stale.",
        playbook: Some("leader-election-lease"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
