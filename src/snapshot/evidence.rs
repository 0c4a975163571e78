//! Evidence documents under `apiVersion: ktriage/v1` that are not Kubernetes objects:
//! container logs, node journal lines, raw API answers, connection attempts, capture info.

use serde::{Deserialize, Serialize};

/// `kind: PodLog`: one container's log (`previous: true` for the last terminated instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodLog {
    pub namespace: String,
    pub pod: String,
    /// `None`: the pod's only (or first) container.
    pub container: Option<String>,
    pub previous: bool,
    pub text: String,
}

/// `kind: NodeLog`: journal lines pasted from a node (`unit`: kubelet, containerd, kubeadm…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeLog {
    pub node: String,
    pub unit: String,
    pub text: String,
}

/// `kind: Response`: a raw API answer for a request path (with its query), such as
/// `/readyz?verbose`, `/api/v1/nodes/N/proxy/healthz`, or the error Status returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawResponse {
    /// Defaults to GET.
    pub method: String,
    pub path: String,
    pub code: u16,
    pub body: String,
}

/// What the TLS handshake showed about the served certificate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServedCertificate {
    /// Empty when the capture did not show it (a pasted fragment of the handshake).
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub dns_names: Vec<String>,
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub pem: Option<String>,
}

/// `kind: Connection`: what happened when a client tried to connect.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[serde(default)]
    pub server: String,
    pub error: Option<String>,
    /// The client's proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY in either case).
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
    pub served_certificate: Option<ServedCertificate>,
}

/// `kind: SnapshotInfo`: when and where the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    pub captured_at: Option<String>,
    pub context: Option<String>,
    pub server: Option<String>,
    pub version: Option<String>,
    /// The kinds the capture listed (`Pod`, `DaemonSet`…): for these, what the snapshot
    /// holds is all the cluster held. Written by `ktriage snapshot`; absent in a hand-made
    /// or pasted snapshot, where only the kinds present count as captured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captured: Vec<String>,
    /// What `ktriage snapshot --redact` removed (`12 env values, …`): a value reading
    /// `REDACTED` was removed on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}
