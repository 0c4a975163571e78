//! Training scenarios: a snapshot plus metadata (id, title, summary, the playbook it
//! demonstrates), a timeline of live changes, and the server behaviour (who the generated
//! kubeconfig logs in as, faults). Scenarios are built in code on top of a kubeadm-style
//! cluster (`builder`) and embedded in the binary; `registry()` lists them.

pub mod builder;
pub mod connection;
mod controlplane;
mod healthy;
mod identity_storage;
pub mod network_a;
pub mod network_b;
mod node_notready_demo;
pub mod scale;
#[cfg(test)]
mod tests;
pub mod workloads;

use std::time::Duration;

use serde_json::Value;

use ktriage_snapshot::Snapshot;

/// The instant every scenario is authored at: its `SnapshotInfo.capturedAt`. The embedded
/// server shifts every timestamp by `now - SCENARIO_EPOCH` when it loads a scenario, so a
/// served scenario always looks current, while a snapshot of it stays judged at its own clock.
pub const SCENARIO_EPOCH: &str = "2026-01-15T10:00:00Z";

/// How often a Lease's holder renews it, in seconds, by its `leaseDurationSeconds`:
/// client-go's retry period of 2 s for the control plane's 15 s leader leases, 5 s for 30 s
/// leases (ingress-nginx); kubelets (40 s) and apiserver identities renew every 10 s. The
/// scenarios' heartbeats and the server's clock both renew at this pace.
pub fn lease_renew_secs(lease_duration_secs: Option<i64>) -> u64 {
    match lease_duration_secs {
        Some(15) => 2,
        Some(30) => 5,
        _ => 10,
    }
}

/// How often a kubelet refreshes its node conditions' `lastHeartbeatTime` when nothing
/// changed (its nodeStatusReportFrequency, 5 min; the Lease says it is alive meanwhile).
pub const NODE_STATUS_REPORT_SECS: u64 = 300;

/// One training scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Equals the id of the playbook it demonstrates (or `healthy`, or a negative control id).
    pub id: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    /// The playbook this scenario demonstrates, `None` for healthy clusters and controls.
    pub playbook: Option<&'static str>,
    pub snapshot: Snapshot,
    pub timeline: Vec<TimelineStep>,
    pub behavior: ServerBehavior,
}

/// A change applied live by the server at an offset from its start.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineStep {
    /// First application, from server start.
    pub at: Duration,
    /// Repeat period, `None` for a one-shot change.
    pub every: Option<Duration>,
    /// Stop repeating after this offset (a lease that stops being renewed).
    pub until: Option<Duration>,
    pub change: Change,
}

/// Names one object of the scenario.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjRef {
    /// Kubernetes kind, e.g. `Node`, `Pod`, `Lease`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        ObjRef {
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// What a timeline step does. Paths are JSON pointers (`/status/containerStatuses/0/restartCount`)
/// where a segment may also select an array element by a field: `/status/conditions/[type=Ready]/status`.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Set the value at `path`.
    Set {
        target: ObjRef,
        path: String,
        value: Value,
    },
    /// Add `by` to the integer at `path` (a growing restartCount).
    Increment {
        target: ObjRef,
        path: String,
        by: i64,
    },
    /// Set the value at `path` to the server's current time, RFC 3339 (lease renewTime uses
    /// microseconds, like the real API server).
    Now { target: ObjRef, path: String },
    /// JSON merge patch (RFC 7386) onto the object.
    Merge { target: ObjRef, patch: Value },
    /// Create an object (an Event is stamped with the current time where its timestamps are absent).
    Create { object: Value },
    /// Delete an object.
    Delete { target: ObjRef },
}

/// How the embedded server behaves for this scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerBehavior {
    /// The identity the generated kubeconfig logs in as. Default: `kubernetes-admin` in
    /// group `system:masters` (kubeadm's admin.conf).
    pub user: Option<Identity>,
    /// How the kubeconfig authenticates that user.
    pub auth: AuthMethod,
    /// Injected faults, evaluated in order; the first that matches a request applies.
    pub faults: Vec<Fault>,
    /// A connection fault: certificates, kubeconfig or route broken on purpose (the
    /// connection doctor's scenarios).
    pub tls_fault: Option<TlsFault>,
    /// Images the registry holds besides those the scenario's containers run: in a training
    /// session, the tags a fix may switch to in a repository whose image fails to pull (any
    /// other tag of that repository does not exist).
    pub images: Vec<String>,
}

/// A user name with its groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// A client certificate with CN = user and O = groups.
    #[default]
    ClientCertificate,
    /// A bearer token the server maps to the user.
    BearerToken,
}

/// A fault injected into matching requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Applies to requests whose path (without query) starts with this prefix.
    pub path_prefix: String,
    /// Only to watch requests (`watch=true`), when set.
    pub watch_only: bool,
    /// Apply to at most this many matching requests; `None` = all of them.
    pub times: Option<u32>,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer with this status code and a Status body carrying the message.
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    /// 429 Too Many Requests with Retry-After seconds.
    TooManyRequests { retry_after_secs: u32 },
    /// 410 Gone "too old resource version" for watches.
    Gone,
    /// Delay the answer.
    Latency { millis: u64 },
    /// Close the connection without an answer.
    Drop,
}

type Constructor = fn() -> Scenario;

/// The base scenarios' ids and constructors, healthy first.
const BASE: &[(&str, Constructor)] = &[
    ("healthy", healthy::scenario),
    ("node-notready-demo", node_notready_demo::scenario),
];

/// Every scenario's id and constructor: the base ones, then each playbook group's.
fn all() -> impl Iterator<Item = &'static (&'static str, Constructor)> {
    BASE.iter()
        .chain(connection::SCENARIOS)
        .chain(controlplane::SCENARIOS)
        .chain(identity_storage::SCENARIOS)
        .chain(network_a::SCENARIOS)
        .chain(network_b::SCENARIOS)
        .chain(workloads::SCENARIOS)
}

/// Every embedded scenario, healthy first.
pub fn registry() -> Vec<Scenario> {
    all().map(|(_, build)| build()).collect()
}

/// The ids of the embedded scenarios, without building them.
pub fn ids() -> Vec<&'static str> {
    all().map(|(id, _)| *id).collect()
}

/// Looks a scenario up by id.
pub fn find(id: &str) -> Option<Scenario> {
    all().find(|(sid, _)| *sid == id).map(|(_, build)| build())
}

/// A connection fault a scenario asks the server (and the kubeconfig it writes) for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFault {
    /// The kubeconfig trusts another CA (same name, other key) than the one that signed the
    /// serving certificate: a re-initialised cluster.
    WrongCa,
    /// The serving certificate names only these DNS names and IPs: the kubeconfig's
    /// `https://127.0.0.1:PORT` is not among its SANs.
    MissingSan {
        dns_names: Vec<String>,
        ip_addresses: Vec<std::net::IpAddr>,
    },
    /// The serving certificate expired this many days ago.
    ExpiredServingCert { days_ago: i64 },
    /// The kubeconfig's client certificate expired this many days ago.
    ExpiredClientCert { days_ago: i64 },
    /// `certificate-authority-data` base64-encoded twice.
    DoubleBase64Ca,
    /// The kubeconfig's user presents no credential, only a username (the server sees
    /// system:anonymous).
    NoCredentials,
    /// The kubeconfig points at a closed port on 127.0.0.1.
    ClosedPort,
    /// The kubeconfig names `host` (a `.invalid` name: never looked up); the client's
    /// environment sets HTTPS_PROXY to a loopback fake proxy that answers CONNECT with
    /// `status` (e.g. `HTTP/1.1 504 Gateway Timeout`), and NO_PROXY to `no_proxy`.
    ProxyRefuses {
        host: String,
        status: String,
        no_proxy: String,
    },
}
