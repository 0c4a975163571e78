//! Scenarios of the connection doctor: each breaks the way a client reaches the embedded
//! server (`ServerBehavior::tls_fault`) on a healthy kubeadm cluster. Ids equal the playbook
//! ids where one scenario shows one playbook; the second scenario of a playbook carries a
//! suffix (`certificate-expiry-client`), and the corrupted kubeconfig and the restricted user
//! have their own ids (their playbooks belong to other groups).

pub mod fake_proxy;

use serde_json::json;

use super::builder::ClusterBuilder;
use super::{Constructor, Identity, Scenario, ServerBehavior};
use crate::TlsFault;

/// This group's scenarios: id and constructor.
pub const SCENARIOS: &[(&str, Constructor)] = &[
    ("client-proxy-intercepts-apiserver", proxy),
    ("apiserver-unreachable", closed_port),
    ("kubeconfig-ca-mismatch", wrong_ca),
    ("apiserver-cert-missing-san", missing_san),
    ("certificate-expiry", expired_serving),
    ("certificate-expiry-client", expired_client),
    ("kubeconfig-corrupted-ca", corrupted),
    ("wrong-identity", anonymous),
    ("restricted-user", restricted),
];

/// The status line the fake proxy answers CONNECT with.
pub const PROXY_STATUS: &str = "HTTP/1.1 504 Gateway Timeout";
/// The API server name of the proxy scenario: under `.invalid`, so nothing ever resolves it.
pub const PROXY_SCENARIO_HOST: &str = "kube-apiserver.corp.invalid";

fn scenario(
    id: &'static str,
    playbook: Option<&'static str>,
    title: &'static str,
    summary: &'static str,
    fault: TlsFault,
) -> Scenario {
    let (snapshot, timeline) = ClusterBuilder::kubeadm().build().into_parts();
    Scenario {
        id,
        title,
        summary,
        playbook,
        snapshot,
        timeline,
        behavior: ServerBehavior {
            tls_fault: Some(fault),
            ..Default::default()
        },
    }
}

fn proxy() -> Scenario {
    scenario(
        "client-proxy-intercepts-apiserver",
        Some("client-proxy-intercepts-apiserver"),
        "A corporate proxy answers 504 for the API server",
        "HTTPS_PROXY points at a proxy that cannot reach the API server and NO_PROXY lists only localhost, 127.0.0.1 and .cluster.local: kubectl says `Unable to connect to the server: Gateway Timeout`.",
        TlsFault::ProxyRefuses {
            host: PROXY_SCENARIO_HOST.into(),
            status: PROXY_STATUS.into(),
            no_proxy: "localhost,127.0.0.1,.cluster.local".into(),
        },
    )
}

fn closed_port() -> Scenario {
    scenario(
        "apiserver-unreachable",
        Some("apiserver-unreachable"),
        "Nothing listens on the API server port",
        "The kubeconfig points at a port where nothing listens: `connect: connection refused`.",
        TlsFault::ClosedPort,
    )
}

fn wrong_ca() -> Scenario {
    scenario(
        "kubeconfig-ca-mismatch",
        Some("kubeconfig-ca-mismatch"),
        "The kubeconfig trusts another CA",
        "The cluster was re-initialised: its CA has the same name but a new key, and the old kubeconfig says `x509: certificate signed by unknown authority`.",
        TlsFault::WrongCa,
    )
}

fn missing_san() -> Scenario {
    scenario(
        "apiserver-cert-missing-san",
        Some("apiserver-cert-missing-san"),
        "The serving certificate lacks the address used",
        "The kubeconfig uses 127.0.0.1 while the serving certificate names only kubernetes, kubernetes.default, cp-1.internal, 10.96.0.1 and the node's NAT address 10.0.2.15: `x509: certificate is valid for 10.96.0.1, 10.0.2.15, not 127.0.0.1`.",
        TlsFault::MissingSan {
            dns_names: vec![
                "kubernetes".into(),
                "kubernetes.default".into(),
                "cp-1.internal".into(),
            ],
            ip_addresses: vec![
                std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 96, 0, 1)),
                std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 2, 15)),
            ],
        },
    )
}

fn expired_serving() -> Scenario {
    scenario(
        "certificate-expiry",
        Some("certificate-expiry"),
        "The API server's certificate expired",
        "The serving certificate expired 12 days ago (nobody ran `kubeadm certs renew`): `x509: certificate has expired or is not yet valid`.",
        TlsFault::ExpiredServingCert { days_ago: 12 },
    )
}

fn expired_client() -> Scenario {
    scenario(
        "certificate-expiry-client",
        Some("certificate-expiry"),
        "The kubeconfig's client certificate expired",
        "admin.conf was copied a year ago and its client certificate expired 3 days ago.",
        TlsFault::ExpiredClientCert { days_ago: 3 },
    )
}

fn corrupted() -> Scenario {
    scenario(
        "kubeconfig-corrupted-ca",
        Some("kubeconfig-ca-mismatch"),
        "certificate-authority-data encoded twice",
        "The kubeconfig's certificate-authority-data is base64 of base64 (`LS0tLS1CRUdJTi…` once decoded): kubectl cannot load the CA.",
        TlsFault::DoubleBase64Ca,
    )
}

fn anonymous() -> Scenario {
    scenario(
        "wrong-identity",
        Some("wrong-identity"),
        "No credentials: the server sees system:anonymous",
        "The kubeconfig's user has only a username (basic auth, removed in Kubernetes 1.19): no credential reaches the server, which sees system:anonymous: `User \"system:anonymous\" cannot list resource …`.",
        TlsFault::NoCredentials,
    )
}

fn restricted() -> Scenario {
    let (mut snapshot, timeline) = ClusterBuilder::kubeadm().build().into_parts();
    snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "pod-reader", "resourceVersion": "1", "uid": "c0ffee00-0000-4000-8000-000000000001", "creationTimestamp": "2026-01-10T10:00:00Z"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}],
    }));
    snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "dev-alice-pod-reader", "resourceVersion": "1", "uid": "c0ffee00-0000-4000-8000-000000000002", "creationTimestamp": "2026-01-10T10:00:00Z"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dev-alice"}],
    }));
    Scenario {
        id: "restricted-user",
        title: "A user who may read pods and nothing else",
        summary: "dev-alice can list pods in every namespace but not nodes or namespaces: `nodes is forbidden: User \"dev-alice\" cannot list resource \"nodes\"`.",
        playbook: Some("rbac-forbidden"),
        snapshot,
        timeline,
        behavior: ServerBehavior {
            user: Some(Identity {
                name: "dev-alice".into(),
                groups: vec!["developers".into()],
            }),
            ..Default::default()
        },
    }
}
