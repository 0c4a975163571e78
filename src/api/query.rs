//! The read-only requests ktriage makes, as data: a [`Query`] is what a playbook (or a
//! snapshot capture) asks, with the kubectl command it stands for; [`request_path`] turns it
//! into the API request; [`q`] builds the common ones. Answering them is the business of the
//! query sources above this crate (live client, snapshot, watch stores).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// One request a playbook makes. Every query is read-only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKind {
    /// List objects: `resource` is the plural (`pods`), `group` `""` for core.
    List {
        group: String,
        resource: String,
        namespace: Option<String>,
        label_selector: Option<String>,
        field_selector: Option<String>,
    },
    /// Every object of a kind the watch layer holds, across the cluster (`kubectl get pods
    /// -A`), read in the lean typed model: answered from the watch stores when the source
    /// already holds that kind (a live `check` and the TUI list each kind once), else listed
    /// and decoded once. The request is the plain list's.
    Watched { kind: Watched },
    /// Get one object.
    Get {
        group: String,
        resource: String,
        namespace: Option<String>,
        name: String,
    },
    /// A container's log.
    Logs {
        namespace: String,
        pod: String,
        container: Option<String>,
        previous: bool,
        tail_lines: Option<i64>,
    },
    /// A raw GET (`/readyz?verbose`, `/api/v1/nodes/N/proxy/healthz`).
    Raw { path: String },
    /// A node's journal for one systemd unit (`kubelet`, `containerd`, `kubeadm`…): read on
    /// the node (`journalctl -u UNIT`), so only a snapshot's `NodeLog` evidence answers it;
    /// `node: None` takes the unit's journal of every node the snapshot holds.
    NodeLog { node: Option<String>, unit: String },
    /// How the client reaches the API server: route, DNS, TCP, TLS chain, identity. Answered
    /// with one object, the connection doctor's `Observation` (live: a probe of the connection;
    /// snapshot: its `Connection` evidence).
    Connection,
}

/// The kinds a [`QueryKind::Watched`] query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Watched {
    Pods,
    Events,
}

impl Watched {
    /// The resource's plural (`pods`).
    pub fn resource(self) -> &'static str {
        match self {
            Watched::Pods => "pods",
            Watched::Events => "events",
        }
    }

    /// The same objects as a plain list query (`kubectl get pods -A`): its request, and what a
    /// snapshot recorded for it.
    pub fn as_list(self) -> QueryKind {
        QueryKind::List {
            group: String::new(),
            resource: self.resource().into(),
            namespace: None,
            label_selector: None,
            field_selector: None,
        }
    }
}

/// A query with the kubectl command it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Query {
    /// What an engineer would type, e.g. `kubectl get leases -n kube-system`.
    pub kubectl: String,
    pub kind: QueryKind,
}

impl Query {
    /// The API request path the query stands for (`GET /api/v1/namespaces/x/pods?labelSelector=…`).
    pub fn request(&self) -> String {
        request_path(&self.kind)
    }
}

/// RFC 3986 unreserved characters stay; everything else in a query value is escaped.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

fn base(group: &str) -> String {
    let def = crate::resources::RESOURCES
        .iter()
        .find(|d| d.group == group);
    match (group, def) {
        ("", _) => "/api/v1".into(),
        (g, Some(d)) => format!("/apis/{g}/{}", d.version),
        (g, None) => format!("/apis/{g}/v1"),
    }
}

/// The API request a query stands for, as `GET /path?query`.
pub fn request_path(kind: &QueryKind) -> String {
    match kind {
        QueryKind::List {
            group,
            resource,
            namespace,
            label_selector,
            field_selector,
        } => {
            let mut p = base(group);
            if let Some(ns) = namespace {
                p.push_str(&format!("/namespaces/{ns}"));
            }
            p.push_str(&format!("/{resource}"));
            let mut q = Vec::new();
            if let Some(l) = label_selector {
                q.push(format!("labelSelector={}", enc(l)));
            }
            if let Some(f) = field_selector {
                q.push(format!("fieldSelector={}", enc(f)));
            }
            if !q.is_empty() {
                p.push('?');
                p.push_str(&q.join("&"));
            }
            format!("GET {p}")
        }
        QueryKind::Get {
            group,
            resource,
            namespace,
            name,
        } => {
            let mut p = base(group);
            if let Some(ns) = namespace {
                p.push_str(&format!("/namespaces/{ns}"));
            }
            format!("GET {p}/{resource}/{name}")
        }
        QueryKind::Logs {
            namespace,
            pod,
            container,
            previous,
            tail_lines,
        } => {
            let mut q = Vec::new();
            if let Some(c) = container {
                q.push(format!("container={}", enc(c)));
            }
            if *previous {
                q.push("previous=true".into());
            }
            if let Some(t) = tail_lines {
                q.push(format!("tailLines={t}"));
            }
            let qs = if q.is_empty() {
                String::new()
            } else {
                format!("?{}", q.join("&"))
            };
            format!("GET /api/v1/namespaces/{namespace}/pods/{pod}/log{qs}")
        }
        QueryKind::Watched { kind } => request_path(&kind.as_list()),
        QueryKind::Raw { path } => format!("GET {path}"),
        QueryKind::NodeLog { node, unit } => format!(
            "on {}: journalctl -u {unit}",
            node.as_deref().unwrap_or("each node")
        ),
        QueryKind::Connection => "route, DNS, TCP, TLS handshake, GET /version".into(),
    }
}

/// Builders for the queries playbooks declare, each with its kubectl command.
pub mod q {
    use super::{Query, QueryKind};

    fn kubectl_ns(ns: Option<&str>) -> String {
        match ns {
            Some(ns) => format!(" -n {ns}"),
            None => " -A".into(),
        }
    }

    /// `kubectl get RESOURCE [-n NS | -A] [-l SEL] [--field-selector SEL] -o yaml`.
    pub fn list(
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Query {
        let cluster_scoped = crate::resources::RESOURCES
            .iter()
            .find(|d| d.group == group && d.plural == resource)
            .is_some_and(|d| !d.namespaced);
        let mut kubectl = format!("kubectl get {resource}");
        if !cluster_scoped {
            kubectl.push_str(&kubectl_ns(namespace));
        }
        if let Some(l) = labels {
            kubectl.push_str(&format!(" -l '{l}'"));
        }
        if let Some(f) = fields {
            kubectl.push_str(&format!(" --field-selector '{f}'"));
        }
        kubectl.push_str(" -o yaml");
        Query {
            kubectl,
            kind: QueryKind::List {
                group: group.into(),
                resource: resource.into(),
                namespace: if cluster_scoped {
                    None
                } else {
                    namespace.map(str::to_string)
                },
                label_selector: labels.map(str::to_string),
                field_selector: fields.map(str::to_string),
            },
        }
    }

    /// A core-group list in a namespace (all namespaces for `None`).
    pub fn core(resource: &str, namespace: Option<&str>) -> Query {
        list("", resource, namespace, None, None)
    }

    /// `kubectl get pods -A -o yaml`, read in the lean model (see [`QueryKind::Watched`]).
    pub fn watched(kind: super::Watched) -> Query {
        Query {
            kubectl: format!("kubectl get {} -A -o yaml", kind.resource()),
            kind: QueryKind::Watched { kind },
        }
    }

    /// `kubectl get nodes -o yaml`: many playbooks start from the nodes.
    pub fn nodes() -> Query {
        core("nodes", None)
    }

    /// `kubectl get daemonsets -A -o yaml` (the CNI, kube-proxy, CSI node plugins).
    pub fn daemonsets() -> Query {
        list("apps", "daemonsets", None, None, None)
    }

    /// kubeadm's ClusterConfiguration (`kubectl get configmap kubeadm-config -n kube-system`).
    pub fn kubeadm_config() -> Query {
        get("", "configmaps", Some("kube-system"), "kubeadm-config")
    }

    /// The cluster DNS pods (`k8s-app=kube-dns` in kube-system: CoreDNS or kube-dns).
    pub fn dns_pods() -> Query {
        list(
            "",
            "pods",
            Some("kube-system"),
            Some("k8s-app=kube-dns"),
            None,
        )
    }

    /// `kubectl get RESOURCE NAME [-n NS] -o yaml`.
    pub fn get(group: &str, resource: &str, namespace: Option<&str>, name: &str) -> Query {
        let ns = namespace.map(|n| format!(" -n {n}")).unwrap_or_default();
        Query {
            kubectl: format!("kubectl get {resource} {name}{ns} -o yaml"),
            kind: QueryKind::Get {
                group: group.into(),
                resource: resource.into(),
                namespace: namespace.map(str::to_string),
                name: name.into(),
            },
        }
    }

    /// `kubectl logs -n NS POD [-c C] [--previous] [--tail N]`.
    pub fn logs(
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        previous: bool,
        tail: Option<i64>,
    ) -> Query {
        let mut kubectl = format!("kubectl logs -n {namespace} {pod}");
        if let Some(c) = container {
            kubectl.push_str(&format!(" -c {c}"));
        }
        if previous {
            kubectl.push_str(" --previous");
        }
        if let Some(t) = tail {
            kubectl.push_str(&format!(" --tail {t}"));
        }
        Query {
            kubectl,
            kind: QueryKind::Logs {
                namespace: namespace.into(),
                pod: pod.into(),
                container: container.map(str::to_string),
                previous,
                tail_lines: tail,
            },
        }
    }

    /// `kubectl get --raw 'PATH'`.
    pub fn node_log(node: Option<&str>, unit: &str) -> Query {
        Query {
            kubectl: format!(
                "# on {}: journalctl -u {unit} --no-pager | tail -200",
                node.unwrap_or("each node")
            ),
            kind: QueryKind::NodeLog {
                node: node.map(str::to_string),
                unit: unit.to_string(),
            },
        }
    }

    pub fn raw(path: &str) -> Query {
        Query {
            kubectl: format!("kubectl get --raw '{path}'"),
            kind: QueryKind::Raw { path: path.into() },
        }
    }
}
