//! The connection doctor: when ktriage cannot talk to a cluster, find out why, step by step
//! and each step timed — the kubeconfig's credential material, the route (proxy or direct,
//! decided with kubectl's rules), DNS, TCP, the proxy's answer to CONNECT, the TLS handshake
//! read without verification and then judged against the kubeconfig's CA, and the first
//! authenticated requests (who am I, what may I read). The result is an [`Observation`]:
//! plain data that the connection playbooks (`playbooks::connection::diagnose`) judge, exactly as
//! they diagnose a snapshot's `Connection` evidence.

pub mod certs;
pub mod probe;
pub mod target;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cluster::proxy::{self, ProxyDecision};
use crate::snapshot::Connection;

pub use certs::{CertInfo, MaterialProblem};
pub use probe::{Options, examine};
pub use target::{DoctorError, Target};

/// One timed step of the examination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// `dns`, `tcp`, `proxy connect`, `direct tcp`, `tls handshake`, `verify`, `whoami`…
    pub step: String,
    pub ok: bool,
    pub millis: u64,
    pub detail: String,
}

/// A read the user was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Denied {
    pub verb: String,
    /// API group, `""` for core.
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub message: String,
}

/// What the doctor saw. Every field but `server` may be missing (a snapshot's `Connection`
/// evidence fills only a few).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Observation {
    pub context: Option<String>,
    pub server: String,
    /// The proxy variables of the client's environment.
    pub environment: BTreeMap<String, String>,
    /// The kubeconfig's `proxy-url`, when set.
    pub kubeconfig_proxy_url: Option<String>,
    /// The route: proxy or direct, and why.
    pub route: Option<ProxyDecision>,
    pub steps: Vec<Probe>,
    /// The error a client (kubectl) sees, in kubectl's words.
    pub error: Option<String>,
    /// The proxy's status line to `CONNECT host:port`.
    pub proxy_status: Option<String>,
    /// What a direct connection (bypassing the proxy) did.
    pub direct: Option<String>,
    /// The certificates the server presented, leaf first.
    pub served_chain: Vec<CertInfo>,
    /// The kubeconfig's certificate authority.
    pub kubeconfig_ca: Vec<CertInfo>,
    pub client_certificate: Option<CertInfo>,
    /// Credential material that cannot be used as it is.
    pub material: Vec<MaterialProblem>,
    /// The name the served certificate must be valid for (`tls-server-name` or the host).
    pub requested_name: Option<String>,
    pub insecure_skip_tls_verify: bool,
    /// Who the server says we are (SelfSubjectReview).
    pub user: Option<String>,
    pub groups: Vec<String>,
    /// 401 or 403 on the first requests.
    pub http_status: Option<u16>,
    /// The exec credential plugin's error output, when it failed.
    pub exec_stderr: Option<String>,
    pub denied: Vec<Denied>,
    /// Reads that worked (`list pods -A`…).
    pub allowed: Vec<String>,
    /// What SelfSubjectRulesReview says this user may do, one line a rule.
    pub rules: Vec<String>,
    pub warnings: Vec<String>,
}

/// How usable the cluster is, after the examination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Reached and readable.
    Ok,
    /// Reached, but some reads are refused (a restricted user).
    Partial,
    /// Nothing can be read.
    Blocked,
}

impl Observation {
    pub fn verdict(&self) -> Verdict {
        if self.error.is_some() || self.http_status == Some(401) {
            Verdict::Blocked
        } else if !self.denied.is_empty() {
            if self.allowed.is_empty() {
                Verdict::Blocked
            } else {
                Verdict::Partial
            }
        } else {
            Verdict::Ok
        }
    }

    /// The host of the server URL (IPv6 without brackets).
    pub fn host(&self) -> Option<String> {
        proxy::split_url(&self.server).map(|(_, h, _)| h)
    }

    pub fn port(&self) -> Option<u16> {
        proxy::split_url(&self.server).map(|(_, _, p)| p)
    }

    /// The route, recomputed from the environment when the observation does not carry it.
    pub fn route(&self) -> ProxyDecision {
        self.route.clone().unwrap_or_else(|| {
            proxy::decide(
                &self.server,
                self.kubeconfig_proxy_url.as_deref(),
                &self.environment,
            )
        })
    }

    /// The error text in lower case ("" when none).
    pub fn error_lower(&self) -> String {
        self.error.as_deref().unwrap_or("").to_lowercase()
    }

    /// The step named `name`, if it ran.
    pub fn step(&self, name: &str) -> Option<&Probe> {
        self.steps.iter().find(|p| p.step == name)
    }

    /// Builds an observation from a snapshot's `Connection` evidence.
    pub fn from_evidence(c: &Connection) -> Observation {
        let served = c.served_certificate.as_ref().map(|s| {
            let mut info = CertInfo {
                subject: s.subject.clone(),
                issuer: s.issuer.clone(),
                dns_names: s.dns_names.clone(),
                ip_addresses: s.ip_addresses.clone(),
                not_before: s.not_before.clone(),
                not_after: s.not_after.clone(),
                ..Default::default()
            };
            if let Some(pem) = &s.pem
                && let Some(der) = certs::pem_certs(pem.as_bytes()).first()
                && let Some(parsed) = certs::parse_der(der)
            {
                info = parsed;
            }
            info
        });
        let mut obs = Observation {
            server: c.server.clone(),
            environment: c.environment.clone(),
            error: c.error.clone(),
            served_chain: served.into_iter().collect(),
            ..Default::default()
        };
        obs.requested_name = obs.host();
        obs.route = Some(obs.route());
        obs
    }

    /// What a snapshot without `Connection` evidence still says about the connection: the
    /// API server's recorded refusals that name who it saw (`401`, or a `403` Status whose
    /// message reads `User "X" cannot …`). The request reached the server and was
    /// authenticated as X, so the route and TLS worked; `None` when no recorded answer names
    /// an identity. (For `SnapshotSource` to answer a `Connection` query with when the
    /// snapshot holds no `Connection` document.)
    pub fn from_responses(
        server: &str,
        responses: &[crate::snapshot::RawResponse],
    ) -> Option<Observation> {
        let mut obs = Observation {
            server: server.to_string(),
            ..Default::default()
        };
        for r in responses.iter().filter(|r| r.code == 401 || r.code == 403) {
            let message = serde_json::from_str::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| {
                    v.get("message")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| r.body.trim().to_string());
            let user = message
                .split_once("User \"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(u, _)| u.to_string());
            if r.code == 403 && user.is_none() {
                continue;
            }
            if obs.error.is_none() {
                let method = if r.method.is_empty() {
                    "GET"
                } else {
                    &r.method
                };
                obs.error = Some(format!("{method} {}: {message}", r.path));
                obs.http_status = Some(r.code);
                obs.user = user.clone();
            }
            if r.code == 403 {
                let path = r.path.split('?').next().unwrap_or("");
                let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
                let namespace = segs
                    .iter()
                    .position(|s| *s == "namespaces")
                    .and_then(|i| segs.get(i + 1))
                    .filter(|_| segs.len() > 4)
                    .map(|s| s.to_string());
                obs.denied.push(Denied {
                    verb: message
                        .split_once("\" cannot ")
                        .and_then(|(_, rest)| rest.split_whitespace().next())
                        .unwrap_or("get")
                        .to_string(),
                    group: String::new(),
                    resource: message
                        .split_once(" resource \"")
                        .and_then(|(_, rest)| rest.split_once('"'))
                        .map(|(r, _)| r.to_string())
                        .unwrap_or_default(),
                    namespace,
                    message: message.clone(),
                });
            }
        }
        obs.error.is_some().then(|| {
            obs.requested_name = obs.host();
            obs.route = Some(obs.route());
            obs
        })
    }

    /// The observation as a snapshot's `Connection` evidence (what `ktriage snapshot` writes
    /// when the cluster cannot be read): the error (or the first refusal), the proxy
    /// variables and the served leaf certificate.
    pub fn to_evidence(&self) -> Connection {
        Connection {
            server: self.server.clone(),
            error: self
                .error
                .clone()
                .or_else(|| self.denied.first().map(|d| d.message.clone())),
            environment: self.environment.clone(),
            served_certificate: self.served_chain.first().map(|c| {
                crate::snapshot::ServedCertificate {
                    subject: c.subject.clone(),
                    issuer: c.issuer.clone(),
                    dns_names: c.dns_names.clone(),
                    ip_addresses: c.ip_addresses.clone(),
                    not_before: c.not_before.clone(),
                    not_after: c.not_after.clone(),
                    pem: None,
                }
            }),
        }
    }

    /// The observation as the object a `Connection` query returns.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// kubectl's wording for an error chain from kube/hyper/rustls (`client error (Connect):
/// invalid peer certificate: UnknownIssuer` → `x509: certificate signed by unknown
/// authority`), so playbooks read one vocabulary whoever saw the error. Unknown texts pass
/// through unchanged.
pub fn kubectl_wording(chain: &str) -> String {
    let pairs: &[(&str, &str)] = &[
        (
            "UnknownIssuer",
            "x509: certificate signed by unknown authority",
        ),
        (
            "BadSignature",
            "x509: certificate signed by unknown authority",
        ),
        (
            "NotValidForName",
            "x509: certificate is valid for other names (certificate is not valid for the requested name)",
        ),
        (
            "CertificateExpired",
            "remote error: tls: expired certificate",
        ),
        (
            "Expired",
            "x509: certificate has expired or is not yet valid",
        ),
        (
            "NotValidYet",
            "x509: certificate has expired or is not yet valid",
        ),
        ("Connection refused", "connect: connection refused"),
        ("connection refused", "connect: connection refused"),
        ("timed out", "i/o timeout"),
        ("failed to lookup address", "no such host"),
        ("Name or service not known", "no such host"),
        (
            "tunnel error",
            "proxyconnect tcp: tunnel error: unsuccessful",
        ),
    ];
    match pairs.iter().find(|(k, _)| chain.contains(k)) {
        Some((_, go)) => format!("{go} ({chain})"),
        None => chain.to_string(),
    }
}
