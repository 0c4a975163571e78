//! Objects in legacy API versions, normalised once as they are read, so every rule asks the
//! modern question only: `extensions/v1beta1` and `apps/v1beta1|2` workloads become
//! `apps/v1`, `certificates.k8s.io/v1beta1` CSRs `v1` (with the signer a v1beta1 CSR
//! implied), `extensions`/`networking.k8s.io/v1beta1` Ingresses `networking.k8s.io/v1`
//! (backend fields rewritten), and the other served beta versions of RBAC, storage,
//! admission, policy, batch and coordination their v1. The version read is kept in the
//! annotation `ktriage.io/original-api-version`, so evidence can still quote it.

use serde_json::{Map, Value, json};

/// The annotation that keeps the apiVersion an object was read in.
pub const ORIGINAL_API_VERSION: &str = "ktriage.io/original-api-version";

/// The modern apiVersion of a legacy `(apiVersion, kind)`, when there is one.
fn modern(api_version: &str, kind: &str) -> Option<&'static str> {
    let (group, _) = api_version.split_once('/')?;
    Some(match (group, kind) {
        (
            "extensions" | "apps",
            "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" | "ControllerRevision",
        ) => "apps/v1",
        ("extensions" | "networking.k8s.io", "Ingress") => "networking.k8s.io/v1",
        ("networking.k8s.io", "IngressClass") => "networking.k8s.io/v1",
        ("extensions" | "networking.k8s.io" | "policy", "NetworkPolicy") => "networking.k8s.io/v1",
        ("certificates.k8s.io", _) => "certificates.k8s.io/v1",
        ("rbac.authorization.k8s.io", _) => "rbac.authorization.k8s.io/v1",
        ("storage.k8s.io", "StorageClass" | "CSIDriver" | "CSINode" | "VolumeAttachment") => {
            "storage.k8s.io/v1"
        }
        ("admissionregistration.k8s.io", _) => "admissionregistration.k8s.io/v1",
        ("apiregistration.k8s.io", _) => "apiregistration.k8s.io/v1",
        ("policy", "PodDisruptionBudget") => "policy/v1",
        ("batch", "CronJob") => "batch/v1",
        ("coordination.k8s.io", "Lease") => "coordination.k8s.io/v1",
        ("events.k8s.io", "Event") => "events.k8s.io/v1",
        ("discovery.k8s.io", "EndpointSlice") => "discovery.k8s.io/v1",
        ("scheduling.k8s.io", "PriorityClass") => "scheduling.k8s.io/v1",
        _ => return None,
    })
}

/// Normalises one object read from a snapshot (see the module doc). Objects in a current
/// version, and objects of kinds this does not know, come back unchanged.
pub fn object(value: Value) -> Value {
    let Value::Object(mut obj) = value else {
        return value;
    };
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(to) = modern(api_version, kind) else {
        return Value::Object(obj);
    };
    if to == api_version {
        return Value::Object(obj);
    }
    let from = api_version.to_string();
    let kind = kind.to_string();
    obj.insert("apiVersion".into(), Value::String(to.into()));
    match kind.as_str() {
        "CertificateSigningRequest" => csr_v1beta1(&mut obj),
        "Ingress" => ingress_v1beta1(&mut obj),
        _ => {}
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        let notes = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(notes) = notes.as_object_mut() {
            notes.insert(ORIGINAL_API_VERSION.into(), Value::String(from));
        }
    }
    Value::Object(obj)
}

/// A v1beta1 CSR without `signerName` was signed by the legacy signer (v1 requires one).
fn csr_v1beta1(obj: &mut Map<String, Value>) {
    let spec = obj
        .entry("spec")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(spec) = spec.as_object_mut()
        && !spec.contains_key("signerName")
    {
        spec.insert(
            "signerName".into(),
            Value::String("kubernetes.io/legacy-unknown".into()),
        );
    }
}

/// `backend.serviceName`/`servicePort` (v1beta1) become `backend.service.{name,port}`.
fn ingress_v1beta1(obj: &mut Map<String, Value>) {
    fn backend(b: &mut Value) {
        let Some(b) = b.as_object_mut() else { return };
        let Some(name) = b.remove("serviceName") else {
            return;
        };
        let port = match b.remove("servicePort") {
            Some(Value::Number(n)) => json!({ "number": n }),
            Some(Value::String(s)) => match s.parse::<u64>() {
                Ok(n) => json!({ "number": n }),
                Err(_) => json!({ "name": s }),
            },
            _ => json!({}),
        };
        b.insert("service".into(), json!({ "name": name, "port": port }));
    }
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(b) = spec.remove("backend") {
        let mut b = b;
        backend(&mut b);
        spec.insert("defaultBackend".into(), b);
    }
    if let Some(rules) = spec.get_mut("rules").and_then(Value::as_array_mut) {
        for rule in rules {
            if let Some(paths) = rule
                .pointer_mut("/http/paths")
                .and_then(Value::as_array_mut)
            {
                for p in paths {
                    if let Some(b) = p.get_mut("backend") {
                        backend(b);
                    }
                    if let Some(p) = p.as_object_mut() {
                        p.entry("pathType")
                            .or_insert_with(|| Value::String("ImplementationSpecific".into()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_workloads_csrs_and_ingresses_read_as_their_v1() {
        let d = object(
            json!({"apiVersion": "extensions/v1beta1", "kind": "DaemonSet",
            "metadata": {"name": "calico-node"}}),
        );
        assert_eq!(d["apiVersion"], "apps/v1");
        assert_eq!(
            d["metadata"]["annotations"][ORIGINAL_API_VERSION],
            "extensions/v1beta1"
        );
        let csr = object(json!({"apiVersion": "certificates.k8s.io/v1beta1",
            "kind": "CertificateSigningRequest", "metadata": {"name": "csr-1"}, "spec": {}}));
        assert_eq!(csr["apiVersion"], "certificates.k8s.io/v1");
        assert_eq!(csr["spec"]["signerName"], "kubernetes.io/legacy-unknown");
        let ing = object(
            json!({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
            "metadata": {"name": "web"}, "spec": {"rules": [{"http": {"paths": [
                {"path": "/", "backend": {"serviceName": "web", "servicePort": 80}}]}}]}}),
        );
        assert_eq!(ing["apiVersion"], "networking.k8s.io/v1");
        assert_eq!(
            ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"],
            json!({"name": "web", "port": {"number": 80}})
        );
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert_eq!(object(pod.clone()), pod);
    }
}
