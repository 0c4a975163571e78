//! The resource types the embedded server knows: group, version, kind, plural, scope, short
//! names. Discovery documents and request routing are derived from this table.

/// One served resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group, `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Lower-case plural used in paths, e.g. `pods`.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Discovery categories (`all` makes `kubectl get all` include it).
    pub categories: &'static [&'static str],
}

impl ResourceDef {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const fn def(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        categories,
    }
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];

/// Every resource type the server serves, core group first.
pub static RESOURCES: &[ResourceDef] = &[
    def("", "v1", "Namespace", "namespaces", "namespace", false, &["ns"], NONE),
    def("", "v1", "Node", "nodes", "node", false, &["no"], NONE),
    def("", "v1", "Pod", "pods", "pod", true, &["po"], ALL),
    def("", "v1", "Service", "services", "service", true, &["svc"], ALL),
    def("", "v1", "Endpoints", "endpoints", "endpoints", true, &["ep"], NONE),
    def("", "v1", "Event", "events", "event", true, &["ev"], NONE),
    def("", "v1", "ConfigMap", "configmaps", "configmap", true, &["cm"], NONE),
    def("", "v1", "Secret", "secrets", "secret", true, NONE, NONE),
    def("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, &["sa"], NONE),
    def("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, &["pv"], NONE),
    def("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", true, &["pvc"], NONE),
    def("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, &["quota"], NONE),
    def("", "v1", "LimitRange", "limitranges", "limitrange", true, &["limits"], NONE),
    def("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", true, &["rc"], ALL),
    def("apps", "v1", "Deployment", "deployments", "deployment", true, &["deploy"], ALL),
    def("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, &["ds"], ALL),
    def("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, &["sts"], ALL),
    def("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, &["rs"], ALL),
    def("batch", "v1", "Job", "jobs", "job", true, NONE, ALL),
    def("batch", "v1", "CronJob", "cronjobs", "cronjob", true, &["cj"], ALL),
    def("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, NONE, NONE),
    def("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, NONE, NONE),
    def("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, &["ing"], NONE),
    def("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", false, NONE, NONE),
    def("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true, &["netpol"], NONE),
    def("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, NONE, NONE),
    def("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, NONE, NONE),
    def("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, NONE, NONE),
    def("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", false, NONE, NONE),
    def("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, &["sc"], NONE),
    def("storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", false, NONE, NONE),
    def("storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", false, NONE, NONE),
    def("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", false, NONE, NONE),
    def("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", false, &["csr"], NONE),
    def("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "validatingwebhookconfiguration", false, NONE, NONE),
    def("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", false, NONE, NONE),
    def("apiregistration.k8s.io", "v1", "APIService", "apiservices", "apiservice", false, NONE, NONE),
    def("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition", false, &["crd", "crds"], NONE),
    def("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, &["pc"], NONE),
    def("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", true, &["pdb"], NONE),
];

/// Finds the served resource by group, version and plural.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds the resource an object of `apiVersion`/`kind` is stored under.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}
