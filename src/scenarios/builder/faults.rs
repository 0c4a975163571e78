//! Helpers that break a built cluster the way real failures look, so broken scenarios stay
//! short: a crash-looping container, a node condition, a stale lease, failing readyz checks.

use serde_json::json;

use super::{Cluster, Terminated, ago, ago_micros, hex, logs::readyz_body};
use crate::ObjRef;

impl Cluster {
    /// Puts a pod's container in CrashLoopBackOff: `restarts` restarts, the last run ended
    /// as `last` says, the kubelet waiting out the back-off, the pod not ready. Returns false
    /// when the pod or container does not exist.
    pub fn crash_loop(
        &mut self,
        ns: &str,
        pod: &str,
        container: &str,
        restarts: i64,
        last: Terminated,
    ) -> bool {
        let last_exit_ago = last.finished_ago;
        self.set_restarts(ns, pod, container, restarts, last);
        let Some(p) = self.find_mut("Pod", Some(ns), pod) else {
            return false;
        };
        let pod_uid = p["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some(st) = p["status"]["containerStatuses"]
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|c| c["name"] == container))
        else {
            return false;
        };
        // Back-off doubles from 10 s up to 5 min.
        let backoff = if restarts >= 6 {
            "5m0s".to_string()
        } else {
            format!("{}s", 10 * (1 << (restarts - 1).clamp(0, 5)))
        };
        st["ready"] = json!(false);
        st["started"] = json!(false);
        if let Some(m) = st.as_object_mut() {
            m.remove("containerID");
        }
        st["state"] = json!({"waiting": {
            "message": format!("back-off {backoff} restarting failed container={container} pod={pod}_{ns}({})", pod_uid),
            "reason": "CrashLoopBackOff",
        }});
        if let Some(conds) = p["status"]["conditions"].as_array_mut() {
            for c in conds
                .iter_mut()
                .filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady")
            {
                c["status"] = json!("False");
                c["reason"] = json!("ContainersNotReady");
                c["message"] = json!(format!("containers with unready status: [{container}]"));
                c["lastTransitionTime"] = json!(ago(last_exit_ago));
            }
        }
        true
    }

    /// Sets a node condition (`Ready`, `MemoryPressure`, `NetworkUnavailable`...) as the
    /// kubelet or the node lifecycle controller would, transitioned `since_ago` seconds ago.
    pub fn set_node_condition(
        &mut self,
        node: &str,
        type_: &str,
        status: &str,
        reason: &str,
        message: &str,
        since_ago: i64,
    ) -> bool {
        let Some(n) = self.find_mut("Node", None, node) else {
            return false;
        };
        let Some(conds) = n["status"]["conditions"].as_array_mut() else {
            return false;
        };
        let heartbeat = conds
            .iter()
            .find(|c| c["type"] == "Ready")
            .map(|c| c["lastHeartbeatTime"].clone())
            .unwrap_or_else(|| json!(ago(since_ago)));
        let cond = json!({"lastHeartbeatTime": heartbeat, "lastTransitionTime": ago(since_ago), "message": message, "reason": reason, "status": status, "type": type_});
        match conds.iter_mut().find(|c| c["type"] == type_) {
            Some(c) => *c = cond,
            None => conds.push(cond),
        }
        true
    }

    /// Makes a lease stale: last renewed `age_secs` before the epoch and never again.
    pub fn stale_lease(&mut self, ns: &str, name: &str, age_secs: i64) -> bool {
        let Some(l) = self.find_mut("Lease", Some(ns), name) else {
            return false;
        };
        l["spec"]["renewTime"] = json!(ago_micros(age_secs * 1_000_000 + 381_207));
        self.stop_renewing(
            &ObjRef::new("Lease", Some(ns), name),
            std::time::Duration::ZERO,
        );
        true
    }

    /// `/readyz?verbose` and `/livez?verbose` answer with these checks failing (`livez`
    /// fails only for checks it has: `etcd`, `log`, `ping`, post-start hooks).
    pub fn fail_health_checks(&mut self, failing: &[&str]) {
        let (code, body) = readyz_body(false, failing);
        self.add_response("/readyz?verbose", code, body);
        let (code, body) = readyz_body(true, failing);
        self.add_response("/livez?verbose", code, body);
    }

    /// A unique Event name suffix for events a scenario adds (`NAME.<16 hex>`).
    pub fn event_name(&self, involved: &str, seed: &str) -> String {
        format!("{involved}.{}", hex(seed, 16))
    }
}
