//! Server-side Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the
//! columns the real API server prints for each kind, so `kubectl get` output looks the same.
//!
//! The printers follow kube-apiserver's `pkg/printers/internalversion` (v1.31): same column
//! names, types, priorities and cell rules, including the pod status logic
//! (`CrashLoopBackOff`, `Init:0/1`, `Terminating`…) and the `5 (2m ago)` restart cell. Objects
//! are read as loose JSON: a missing or oddly shaped field renders like the zero value the
//! real server would have printed, never a panic. Values the real server would have
//! defaulted at creation (a Service's type, a Deployment's replicas…) are defaulted here too.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use ktriage_api::resources::{RESOURCES, ResourceDef};

/// What each row carries in `object` (the `includeObject` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    /// PartialObjectMetadata (the default): kubectl needs it for the NAMESPACE column of `-A`.
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query value (`None`, `Metadata`, `Object`); anything else
    /// gives the default, as the real server does for an empty value.
    pub fn from_query(value: &str) -> Self {
        match value {
            "None" => IncludeObject::None,
            "Object" => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// Renders `objects` (already filtered and paginated) as a `meta.k8s.io/v1` Table whose
/// columns match the real API server's for `def` (falling back to Name and Age). `list_meta`
/// is the list's metadata (resourceVersion, continue) and is copied to the Table. Ages are
/// computed against `now`.
pub fn table(
    def: &ResourceDef,
    objects: &[&Value],
    list_meta: Value,
    include: IncludeObject,
    now: DateTime<Utc>,
) -> Value {
    let printer = Printer::for_def(def);
    let columns: Vec<Value> = printer
        .columns()
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.ty,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|obj| {
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(printer.cells(obj, now)));
            if let Some(conditions) = printer.row_conditions(obj) {
                row.insert("conditions".into(), conditions);
            }
            row.insert("object".into(), row_object(obj, include));
            Value::Object(row)
        })
        .collect();
    let metadata = match list_meta {
        Value::Object(m) => Value::Object(m),
        _ => json!({}),
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn row_object(obj: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata").filter(|m| m.is_object()).cloned().unwrap_or_else(|| json!({})),
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Column definitions

struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    description: &'static str,
    priority: u8,
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const CREATED_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const CONTAINERS_DOC: &str = "Names of each container in the template.";
const IMAGES_DOC: &str = "Images referenced by each container in the template.";

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    description: NAME_DOC,
    priority: 0,
};
const AGE: Col = s("Age", CREATED_DOC);
const CREATED_AT: Col = Col {
    name: "Created At",
    ty: "date",
    format: "",
    description: CREATED_DOC,
    priority: 0,
};
/// The Age column of a custom resource without printer columns (type date).
const CR_AGE: Col = Col {
    name: "Age",
    ty: "date",
    format: "",
    description: CREATED_DOC,
    priority: 0,
};

const fn s(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        ty: "string",
        format: "",
        description,
        priority: 0,
    }
}
const fn int(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        ty: "integer",
        format: "",
        description,
        priority: 0,
    }
}
const fn boolean(name: &'static str, description: &'static str) -> Col {
    Col {
        name,
        ty: "boolean",
        format: "",
        description,
        priority: 0,
    }
}
/// A column only `-o wide` shows.
const fn wide(c: Col) -> Col {
    Col { priority: 1, ..c }
}

const POD_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Ready",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    s(
        "Status",
        "The aggregate status of the containers in this pod.",
    ),
    s(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(s(
        "IP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    )),
    wide(s(
        "Node",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.",
    )),
    wide(s(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
    )),
    wide(s(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    )),
];

const NODE_COLUMNS: &[Col] = &[
    NAME,
    s("Status", "The status of the node"),
    s("Roles", "The roles of the node"),
    AGE,
    s("Version", "Kubelet Version reported by the node."),
    wide(s("Internal-IP", "List of addresses reachable to the node.")),
    wide(s("External-IP", "List of addresses reachable to the node.")),
    wide(s(
        "OS-Image",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    )),
    wide(s(
        "Kernel-Version",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    )),
    wide(s(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    )),
];

const NAMESPACE_COLUMNS: &[Col] = &[NAME, s("Status", "The status of the namespace"), AGE];

const SERVICE_COLUMNS: &[Col] = &[
    NAME,
    s("Type", "type determines how the Service is exposed."),
    s(
        "Cluster-IP",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    s(
        "External-IP",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    s(
        "Port(s)",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(s(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector.",
    )),
];

const ENDPOINTS_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Endpoints",
        "The set of all endpoints is the union of all subsets.",
    ),
    AGE,
];

const EVENT_COLUMNS: &[Col] = &[
    s(
        "Last Seen",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    s(
        "Type",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    s(
        "Reason",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    s("Object", "The object that this event is about."),
    wide(s(
        "Subobject",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
    )),
    wide(s(
        "Source",
        "The component reporting this event. Should be a short machine understandable string.",
    )),
    s(
        "Message",
        "A human-readable description of the status of this operation.",
    ),
    wide(s(
        "First Seen",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    )),
    wide(s("Count", "The number of times this event has occurred.")),
    wide(NAME),
];

const CONFIGMAP_COLUMNS: &[Col] = &[
    NAME,
    s("Data", "Data contains the configuration data."),
    AGE,
];

const SECRET_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Type",
        "Used to facilitate programmatic handling of secret data.",
    ),
    s("Data", "Data contains the secret data."),
    AGE,
];

const SERVICE_ACCOUNT_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Secrets",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];

const PV_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Capacity",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    s(
        "Access Modes",
        "accessModes contains all ways the volume can be mounted.",
    ),
    s(
        "Reclaim Policy",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    s(
        "Status",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    s(
        "Claim",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    s("StorageClass", "StorageClass of the pv"),
    s("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    s(
        "Reason",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide(s(
        "VolumeMode",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    )),
];

const PVC_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Status",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    s(
        "Volume",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    s(
        "Capacity",
        "capacity represents the actual resources of the underlying volume.",
    ),
    s(
        "Access Modes",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    s("StorageClass", "StorageClass of the pvc"),
    s("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    AGE,
    wide(s(
        "VolumeMode",
        "volumeMode defines what type of volume is required by the claim.",
    )),
];

const RESOURCE_QUOTA_COLUMNS: &[Col] = &[
    NAME,
    AGE,
    s(
        "Request",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    s(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
];

const RC_COLUMNS: &[Col] = &[
    NAME,
    int("Desired", "Replicas is the number of desired replicas."),
    int(
        "Current",
        "Replicas is the most recently observed number of replicas.",
    ),
    int(
        "Ready",
        "The number of ready replicas for this replication controller.",
    ),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "Selector is a label query over pods that should match the Replicas count.",
    )),
];

const DEPLOYMENT_COLUMNS: &[Col] = &[
    NAME,
    s("Ready", "Number of the pod with ready state"),
    s(
        "Up-to-date",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    s(
        "Available",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    )),
];

const DAEMONSET_COLUMNS: &[Col] = &[
    NAME,
    int(
        "Desired",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).",
    ),
    int(
        "Current",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    int(
        "Ready",
        "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    int(
        "Up-to-date",
        "The total number of nodes that are running updated daemon pod",
    ),
    int(
        "Available",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    s(
        "Node Selector",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "A label query over pods that are managed by the daemon set.",
    )),
];

const STATEFULSET_COLUMNS: &[Col] = &[
    NAME,
    s("Ready", "Number of the pod with ready state"),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
];

const REPLICASET_COLUMNS: &[Col] = &[
    NAME,
    int("Desired", "Replicas is the number of desired pods."),
    int(
        "Current",
        "Replicas is the most recently observed number of non-terminating pods.",
    ),
    int(
        "Ready",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "Selector is a label query over pods that should match the replica count.",
    )),
];

const JOB_COLUMNS: &[Col] = &[
    NAME,
    s("Status", "Status of the job."),
    s(
        "Completions",
        "The number of pods which reached phase Succeeded.",
    ),
    s("Duration", "Time required to complete the job."),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "A label query over pods that should match the pod count.",
    )),
];

const CRONJOB_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Schedule",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    s(
        "Timezone",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    boolean(
        "Suspend",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
    ),
    int("Active", "A list of pointers to currently running jobs."),
    s(
        "Last Schedule",
        "Information when was the last time the job was successfully scheduled.",
    ),
    AGE,
    wide(s("Containers", CONTAINERS_DOC)),
    wide(s("Images", IMAGES_DOC)),
    wide(s(
        "Selector",
        "A label query over pods that should match the pod count.",
    )),
];

const LEASE_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Holder",
        "holderIdentity contains the identity of the holder of a current lease.",
    ),
    AGE,
];

const ENDPOINT_SLICE_COLUMNS: &[Col] = &[
    NAME,
    s(
        "AddressType",
        "addressType specifies the type of address carried by this EndpointSlice.",
    ),
    s(
        "Ports",
        "ports specifies the list of network ports exposed by each endpoint in this slice.",
    ),
    s(
        "Endpoints",
        "endpoints is a list of unique endpoints in this slice.",
    ),
    AGE,
];

const INGRESS_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Class",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    s(
        "Hosts",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    s(
        "Address",
        "Address is a list containing ingress points for the load-balancer",
    ),
    s("Ports", "Ports of TLS configurations that open"),
    AGE,
];

const INGRESS_CLASS_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Controller",
        "Controller that is responsible for handling this class",
    ),
    s(
        "Parameters",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

const NETWORK_POLICY_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Pod-Selector",
        "podSelector selects the pods to which this NetworkPolicy object applies.",
    ),
    AGE,
];

const ROLE_COLUMNS: &[Col] = &[NAME, CREATED_AT];

const ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Role",
        "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.",
    ),
    AGE,
    wide(s("Users", "Users in the roleBinding")),
    wide(s("Groups", "Groups in the roleBinding")),
    wide(s("ServiceAccounts", "ServiceAccounts in the roleBinding")),
];

const CLUSTER_ROLE_BINDING_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Role",
        "RoleRef can only reference a ClusterRole in the global namespace.",
    ),
    AGE,
    wide(s("Users", "Users in the clusterRoleBinding")),
    wide(s("Groups", "Groups in the clusterRoleBinding")),
    wide(s(
        "ServiceAccounts",
        "ServiceAccounts in the clusterRoleBinding",
    )),
];

const STORAGE_CLASS_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Provisioner",
        "provisioner indicates the type of the provisioner.",
    ),
    s(
        "ReclaimPolicy",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.",
    ),
    s(
        "VolumeBindingMode",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.",
    ),
    s(
        "AllowVolumeExpansion",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    AGE,
];

const CSI_DRIVER_COLUMNS: &[Col] = &[
    NAME,
    boolean(
        "AttachRequired",
        "attachRequired indicates this CSI volume driver requires an attach operation.",
    ),
    boolean(
        "PodInfoOnMount",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations.",
    ),
    boolean(
        "StorageCapacity",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report.",
    ),
    s(
        "TokenRequests",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication.",
    ),
    boolean(
        "RequiresRepublish",
        "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume.",
    ),
    s(
        "Modes",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports.",
    ),
    AGE,
];

const CSI_NODE_COLUMNS: &[Col] = &[
    NAME,
    int(
        "Drivers",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

const VOLUME_ATTACHMENT_COLUMNS: &[Col] = &[
    NAME,
    Col {
        name: "Attacher",
        ty: "string",
        format: "name",
        description: "attacher indicates the name of the volume driver that MUST handle this request.",
        priority: 0,
    },
    s(
        "PV",
        "persistentVolumeName represents the name of the persistent volume to attach.",
    ),
    s(
        "Node",
        "nodeName represents the node that the volume should be attached to.",
    ),
    boolean(
        "Attached",
        "attached indicates the volume is successfully attached.",
    ),
    AGE,
];

const CSR_COLUMNS: &[Col] = &[
    NAME,
    AGE,
    s(
        "SignerName",
        "signerName indicates the requested signer, and is a qualified name.",
    ),
    s(
        "Requestor",
        "request contains an x509 certificate signing request encoded in a \"CERTIFICATE REQUEST\" PEM block.",
    ),
    s(
        "RequestedDuration",
        "expirationSeconds is the requested duration of validity of the issued certificate.",
    ),
    s(
        "Condition",
        "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\".",
    ),
];

const WEBHOOK_COLUMNS: &[Col] = &[
    NAME,
    int(
        "Webhooks",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

const APISERVICE_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Service",
        "The reference to the service that hosts this API endpoint.",
    ),
    s("Available", "Whether this service is available."),
    AGE,
];

const PRIORITY_CLASS_COLUMNS: &[Col] = &[
    NAME,
    int(
        "Value",
        "value represents the integer value of this priority class.",
    ),
    boolean(
        "Global-Default",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    AGE,
    s(
        "PreemptionPolicy",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];

const PDB_COLUMNS: &[Col] = &[
    NAME,
    s(
        "Min Available",
        "The minimum number of pods that must be available.",
    ),
    s(
        "Max Unavailable",
        "The maximum number of pods that may be unavailable.",
    ),
    int(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

const DEFAULT_COLUMNS: &[Col] = &[NAME, CREATED_AT];
const CUSTOM_COLUMNS: &[Col] = &[NAME, CR_AGE];

// ---------------------------------------------------------------------------------------
// Printers

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printer {
    Pod,
    Node,
    Namespace,
    Service,
    Endpoints,
    Event,
    ConfigMap,
    Secret,
    ServiceAccount,
    PersistentVolume,
    PersistentVolumeClaim,
    ResourceQuota,
    ReplicationController,
    Deployment,
    DaemonSet,
    StatefulSet,
    ReplicaSet,
    Job,
    CronJob,
    Lease,
    EndpointSlice,
    Ingress,
    IngressClass,
    NetworkPolicy,
    Role,
    RoleBinding,
    ClusterRoleBinding,
    StorageClass,
    CsiDriver,
    CsiNode,
    VolumeAttachment,
    Csr,
    Webhook,
    ApiService,
    PriorityClass,
    Pdb,
    /// A built-in kind without a printer: Name and Created At.
    Default,
    /// A custom resource: Name and Age.
    Custom,
}

impl Printer {
    fn for_def(def: &ResourceDef) -> Self {
        match (def.group, def.kind) {
            ("", "Pod") => Printer::Pod,
            ("", "Node") => Printer::Node,
            ("", "Namespace") => Printer::Namespace,
            ("", "Service") => Printer::Service,
            ("", "Endpoints") => Printer::Endpoints,
            ("", "Event") => Printer::Event,
            ("", "ConfigMap") => Printer::ConfigMap,
            ("", "Secret") => Printer::Secret,
            ("", "ServiceAccount") => Printer::ServiceAccount,
            ("", "PersistentVolume") => Printer::PersistentVolume,
            ("", "PersistentVolumeClaim") => Printer::PersistentVolumeClaim,
            ("", "ResourceQuota") => Printer::ResourceQuota,
            ("", "ReplicationController") => Printer::ReplicationController,
            ("apps", "Deployment") => Printer::Deployment,
            ("apps", "DaemonSet") => Printer::DaemonSet,
            ("apps", "StatefulSet") => Printer::StatefulSet,
            ("apps", "ReplicaSet") => Printer::ReplicaSet,
            ("batch", "Job") => Printer::Job,
            ("batch", "CronJob") => Printer::CronJob,
            ("coordination.k8s.io", "Lease") => Printer::Lease,
            ("discovery.k8s.io", "EndpointSlice") => Printer::EndpointSlice,
            ("networking.k8s.io", "Ingress") => Printer::Ingress,
            ("networking.k8s.io", "IngressClass") => Printer::IngressClass,
            ("networking.k8s.io", "NetworkPolicy") => Printer::NetworkPolicy,
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => Printer::Role,
            ("rbac.authorization.k8s.io", "RoleBinding") => Printer::RoleBinding,
            ("rbac.authorization.k8s.io", "ClusterRoleBinding") => Printer::ClusterRoleBinding,
            ("storage.k8s.io", "StorageClass") => Printer::StorageClass,
            ("storage.k8s.io", "CSIDriver") => Printer::CsiDriver,
            ("storage.k8s.io", "CSINode") => Printer::CsiNode,
            ("storage.k8s.io", "VolumeAttachment") => Printer::VolumeAttachment,
            ("certificates.k8s.io", "CertificateSigningRequest") => Printer::Csr,
            (
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
            ) => Printer::Webhook,
            ("apiregistration.k8s.io", "APIService") => Printer::ApiService,
            ("scheduling.k8s.io", "PriorityClass") => Printer::PriorityClass,
            ("policy", "PodDisruptionBudget") => Printer::Pdb,
            _ => {
                let built_in = RESOURCES
                    .iter()
                    .any(|r| r.group == def.group && r.plural == def.plural);
                if built_in {
                    Printer::Default
                } else {
                    Printer::Custom
                }
            }
        }
    }

    fn columns(self) -> &'static [Col] {
        match self {
            Printer::Pod => POD_COLUMNS,
            Printer::Node => NODE_COLUMNS,
            Printer::Namespace => NAMESPACE_COLUMNS,
            Printer::Service => SERVICE_COLUMNS,
            Printer::Endpoints => ENDPOINTS_COLUMNS,
            Printer::Event => EVENT_COLUMNS,
            Printer::ConfigMap => CONFIGMAP_COLUMNS,
            Printer::Secret => SECRET_COLUMNS,
            Printer::ServiceAccount => SERVICE_ACCOUNT_COLUMNS,
            Printer::PersistentVolume => PV_COLUMNS,
            Printer::PersistentVolumeClaim => PVC_COLUMNS,
            Printer::ResourceQuota => RESOURCE_QUOTA_COLUMNS,
            Printer::ReplicationController => RC_COLUMNS,
            Printer::Deployment => DEPLOYMENT_COLUMNS,
            Printer::DaemonSet => DAEMONSET_COLUMNS,
            Printer::StatefulSet => STATEFULSET_COLUMNS,
            Printer::ReplicaSet => REPLICASET_COLUMNS,
            Printer::Job => JOB_COLUMNS,
            Printer::CronJob => CRONJOB_COLUMNS,
            Printer::Lease => LEASE_COLUMNS,
            Printer::EndpointSlice => ENDPOINT_SLICE_COLUMNS,
            Printer::Ingress => INGRESS_COLUMNS,
            Printer::IngressClass => INGRESS_CLASS_COLUMNS,
            Printer::NetworkPolicy => NETWORK_POLICY_COLUMNS,
            Printer::Role => ROLE_COLUMNS,
            Printer::RoleBinding => ROLE_BINDING_COLUMNS,
            Printer::ClusterRoleBinding => CLUSTER_ROLE_BINDING_COLUMNS,
            Printer::StorageClass => STORAGE_CLASS_COLUMNS,
            Printer::CsiDriver => CSI_DRIVER_COLUMNS,
            Printer::CsiNode => CSI_NODE_COLUMNS,
            Printer::VolumeAttachment => VOLUME_ATTACHMENT_COLUMNS,
            Printer::Csr => CSR_COLUMNS,
            Printer::Webhook => WEBHOOK_COLUMNS,
            Printer::ApiService => APISERVICE_COLUMNS,
            Printer::PriorityClass => PRIORITY_CLASS_COLUMNS,
            Printer::Pdb => PDB_COLUMNS,
            Printer::Default => DEFAULT_COLUMNS,
            Printer::Custom => CUSTOM_COLUMNS,
        }
    }

    fn cells(self, o: &Value, now: DateTime<Utc>) -> Vec<Value> {
        let cells = match self {
            Printer::Pod => pod_cells(o, now),
            Printer::Node => node_cells(o, now),
            Printer::Namespace => vec![
                name(o),
                str_or(o, "/status/phase", "Active").into(),
                age(o, now),
            ],
            Printer::Service => service_cells(o, now),
            Printer::Endpoints => vec![name(o), format_endpoints(o).into(), age(o, now)],
            Printer::Event => event_cells(o, now),
            Printer::ConfigMap => vec![
                name(o),
                (obj_len(o, "/data") + obj_len(o, "/binaryData")).into(),
                age(o, now),
            ],
            Printer::Secret => vec![
                name(o),
                str_or(o, "/type", "Opaque").into(),
                obj_len(o, "/data").into(),
                age(o, now),
            ],
            Printer::ServiceAccount => {
                vec![name(o), arr(o, "/secrets").len().into(), age(o, now)]
            }
            Printer::PersistentVolume => pv_cells(o, now),
            Printer::PersistentVolumeClaim => pvc_cells(o, now),
            Printer::ResourceQuota => resource_quota_cells(o, now),
            Printer::ReplicationController => {
                let (names, images) = container_cells(o, "/spec/template/spec/containers");
                vec![
                    name(o),
                    int_or(o, "/spec/replicas", 1).into(),
                    int_at(o, "/status/replicas").into(),
                    int_at(o, "/status/readyReplicas").into(),
                    age(o, now),
                    names.into(),
                    images.into(),
                    format_labels(o.pointer("/spec/selector")).into(),
                ]
            }
            Printer::Deployment => {
                let (names, images) = container_cells(o, "/spec/template/spec/containers");
                vec![
                    name(o),
                    format!(
                        "{}/{}",
                        int_at(o, "/status/readyReplicas"),
                        int_or(o, "/spec/replicas", 1)
                    )
                    .into(),
                    int_at(o, "/status/updatedReplicas").into(),
                    int_at(o, "/status/availableReplicas").into(),
                    age(o, now),
                    names.into(),
                    images.into(),
                    selector_string(o.pointer("/spec/selector")).into(),
                ]
            }
            Printer::DaemonSet => {
                let (names, images) = container_cells(o, "/spec/template/spec/containers");
                vec![
                    name(o),
                    int_at(o, "/status/desiredNumberScheduled").into(),
                    int_at(o, "/status/currentNumberScheduled").into(),
                    int_at(o, "/status/numberReady").into(),
                    int_at(o, "/status/updatedNumberScheduled").into(),
                    int_at(o, "/status/numberAvailable").into(),
                    format_labels(o.pointer("/spec/template/spec/nodeSelector")).into(),
                    age(o, now),
                    names.into(),
                    images.into(),
                    format_label_selector(o.pointer("/spec/selector")).into(),
                ]
            }
            Printer::StatefulSet => {
                let (names, images) = container_cells(o, "/spec/template/spec/containers");
                vec![
                    name(o),
                    format!(
                        "{}/{}",
                        int_at(o, "/status/readyReplicas"),
                        int_or(o, "/spec/replicas", 1)
                    )
                    .into(),
                    age(o, now),
                    names.into(),
                    images.into(),
                ]
            }
            Printer::ReplicaSet => {
                let (names, images) = container_cells(o, "/spec/template/spec/containers");
                vec![
                    name(o),
                    int_or(o, "/spec/replicas", 1).into(),
                    int_at(o, "/status/replicas").into(),
                    int_at(o, "/status/readyReplicas").into(),
                    age(o, now),
                    names.into(),
                    images.into(),
                    format_label_selector(o.pointer("/spec/selector")).into(),
                ]
            }
            Printer::Job => job_cells(o, now),
            Printer::CronJob => cronjob_cells(o, now),
            Printer::Lease => vec![
                name(o),
                str_at(o, "/spec/holderIdentity").into(),
                age(o, now),
            ],
            Printer::EndpointSlice => vec![
                name(o),
                str_at(o, "/addressType").into(),
                format_discovery_ports(o).into(),
                format_discovery_endpoints(o).into(),
                age(o, now),
            ],
            Printer::Ingress => ingress_cells(o, now),
            Printer::IngressClass => {
                let parameters = match o.pointer("/spec/parameters").filter(|p| p.is_object()) {
                    None => "<none>".to_string(),
                    Some(p) => {
                        let mut s = str_at(p, "/kind").to_string();
                        if let Some(g) = p.get("apiGroup").and_then(Value::as_str) {
                            s = format!("{s}.{g}");
                        }
                        format!("{s}/{}", str_at(p, "/name"))
                    }
                };
                vec![
                    name(o),
                    str_at(o, "/spec/controller").into(),
                    parameters.into(),
                    age(o, now),
                ]
            }
            Printer::NetworkPolicy => vec![
                name(o),
                // An absent podSelector is the empty selector (select all).
                format_label_selector(Some(o.pointer("/spec/podSelector").unwrap_or(&json!({}))))
                    .into(),
                age(o, now),
            ],
            Printer::Role | Printer::Default => vec![name(o), created_at(o).into()],
            Printer::RoleBinding | Printer::ClusterRoleBinding => binding_cells(o, now),
            Printer::StorageClass => storage_class_cells(o, now),
            Printer::CsiDriver => csi_driver_cells(o, now),
            Printer::CsiNode => vec![name(o), arr(o, "/spec/drivers").len().into(), age(o, now)],
            Printer::VolumeAttachment => vec![
                name(o),
                str_at(o, "/spec/attacher").into(),
                str_at(o, "/spec/source/persistentVolumeName").into(),
                str_at(o, "/spec/nodeName").into(),
                bool_at(o, "/status/attached").into(),
                age(o, now),
            ],
            Printer::Csr => csr_cells(o, now),
            Printer::Webhook => vec![name(o), arr(o, "/webhooks").len().into(), age(o, now)],
            Printer::ApiService => apiservice_cells(o, now),
            Printer::PriorityClass => vec![
                name(o),
                int_at(o, "/value").into(),
                bool_at(o, "/globalDefault").into(),
                age(o, now),
                str_or(o, "/preemptionPolicy", "PreemptLowerPriority").into(),
            ],
            Printer::Pdb => vec![
                name(o),
                int_or_string(o.pointer("/spec/minAvailable")).into(),
                int_or_string(o.pointer("/spec/maxUnavailable")).into(),
                int_at(o, "/status/disruptionsAllowed").into(),
                age(o, now),
            ],
            Printer::Custom => vec![name(o), age(o, now)],
        };
        debug_assert_eq!(cells.len(), self.columns().len(), "{self:?}");
        cells
    }

    /// Row conditions: the real server marks finished pods `Completed`.
    fn row_conditions(self, o: &Value) -> Option<Value> {
        if self != Printer::Pod {
            return None;
        }
        let (reason, message) = match str_at(o, "/status/phase") {
            "Succeeded" => ("Succeeded", "The pod has completed successfully."),
            "Failed" => ("Failed", "The pod failed."),
            _ => return None,
        };
        Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
    }
}

// ---------------------------------------------------------------------------------------
// Loose JSON access

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn str_or<'a>(v: &'a Value, ptr: &str, default: &'a str) -> &'a str {
    match str_at(v, ptr) {
        "" => default,
        s => s,
    }
}

fn int_at(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(as_int).unwrap_or(0)
}

fn int_or(v: &Value, ptr: &str, default: i64) -> i64 {
    v.pointer(ptr).and_then(as_int).unwrap_or(default)
}

/// An integer, also when a hand-written scenario spelled it as a float or a string.
fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn bool_at(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn obj_len(v: &Value, ptr: &str) -> usize {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(Map::len)
        .unwrap_or(0)
}

fn time_at(v: &Value, ptr: &str) -> Option<DateTime<Utc>> {
    let s = v.pointer(ptr)?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn name(o: &Value) -> Value {
    str_at(o, "/metadata/name").into()
}

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` when it is missing.
fn since(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match t {
        Some(t) => ktriage_api::printer::human_duration(now - t),
        None => "<unknown>".into(),
    }
}

fn age(o: &Value, now: DateTime<Utc>) -> Value {
    since(time_at(o, "/metadata/creationTimestamp"), now).into()
}

/// The `Created At` cell: RFC 3339 in UTC (Go's zero time when missing).
fn created_at(o: &Value) -> String {
    match time_at(o, "/metadata/creationTimestamp") {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => "0001-01-01T00:00:00Z".into(),
    }
}

/// IntOrString as Go prints it; `N/A` when unset (the PDB printer).
fn int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => "N/A".into(),
    }
}

/// `labels.FormatLabels`: `k=v,k2=v2` sorted by key, `<none>` when empty.
fn format_labels(map: Option<&Value>) -> String {
    let Some(map) = map.and_then(Value::as_object) else {
        return "<none>".into();
    };
    let sorted: BTreeMap<&String, String> = map
        .iter()
        .map(|(k, v)| {
            (
                k,
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string()),
            )
        })
        .collect();
    let s = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    if s.is_empty() { "<none>".into() } else { s }
}

/// `LabelSelectorAsSelector(sel).String()`: requirements sorted by key, `""` for an empty
/// or missing selector, `<invalid>` for an unknown operator.
fn selector_string(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| s.is_object()) else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(labels) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            reqs.push((k.clone(), format!("{k}={}", v.as_str().unwrap_or(""))));
        }
    }
    for expr in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = str_at(expr, "/key");
        let values: BTreeSet<&str> = arr(expr, "/values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let values = values.into_iter().collect::<Vec<_>>().join(",");
        let req = match str_at(expr, "/operator") {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<invalid>".into(),
        };
        reqs.push((key.to_string(), req));
    }
    reqs.sort();
    reqs.into_iter()
        .map(|(_, r)| r)
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: like [`selector_string`] but `<none>` when empty.
fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        s if s.is_empty() => "<none>".into(),
        s => s,
    }
}

/// `layoutContainerCells`: container names and images, comma separated.
fn container_cells(o: &Value, ptr: &str) -> (String, String) {
    let containers = arr(o, ptr);
    let names = containers
        .iter()
        .map(|c| str_at(c, "/name"))
        .collect::<Vec<_>>()
        .join(",");
    let images = containers
        .iter()
        .map(|c| str_at(c, "/image"))
        .collect::<Vec<_>>()
        .join(",");
    (names, images)
}

// ---------------------------------------------------------------------------------------
// Pods

fn pod_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let init_specs = arr(o, "/spec/initContainers");
    let restartable_init = |name: &str| {
        init_specs
            .iter()
            .any(|c| str_at(c, "/name") == name && str_at(c, "/restartPolicy") == "Always")
    };
    let mut total = arr(o, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| str_at(c, "/restartPolicy") == "Always")
            .count();
    // Pasted fragments may lack the spec: count the statuses instead.
    if total == 0 {
        total = arr(o, "/status/containerStatuses").len();
    }
    let mut ready = 0usize;
    let mut restarts = 0i64;
    let mut restartable_restarts = 0i64;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut last_restartable_restart: Option<DateTime<Utc>> = None;
    let later = |a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };

    let phase = str_at(o, "/status/phase");
    let mut reason = str_or(o, "/status/reason", phase).to_string();
    for c in arr(o, "/status/conditions") {
        if str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated" {
            reason = "SchedulingGated".into();
        }
    }

    let init_statuses = arr(o, "/status/initContainerStatuses");
    let mut initializing = false;
    for (i, c) in init_statuses.iter().enumerate() {
        let cname = str_at(c, "/name");
        let count = int_at(c, "/restartCount");
        let finished = time_at(c, "/lastState/terminated/finishedAt");
        restarts += count;
        last_restart = later(last_restart, finished);
        let restartable = restartable_init(cname);
        if restartable {
            restartable_restarts += count;
            last_restartable_restart = later(last_restartable_restart, finished);
        }
        let terminated = c.pointer("/state/terminated").filter(|t| t.is_object());
        let waiting_reason = str_at(c, "/state/waiting/reason");
        if let Some(t) = terminated
            && int_at(t, "/exitCode") == 0
        {
            continue;
        }
        if restartable && bool_at(c, "/started") {
            if bool_at(c, "/ready") {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match str_at(t, "/reason") {
                "" if int_at(t, "/signal") != 0 => format!("Init:Signal:{}", int_at(t, "/signal")),
                "" => format!("Init:ExitCode:{}", int_at(t, "/exitCode")),
                r => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }

    let initialized = arr(o, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == "Initialized" && str_at(c, "/status") == "True");
    if !initializing || initialized {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for c in arr(o, "/status/containerStatuses").iter().rev() {
            restarts += int_at(c, "/restartCount");
            last_restart = later(last_restart, time_at(c, "/lastState/terminated/finishedAt"));
            let waiting_reason = str_at(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated").filter(|t| t.is_object());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = match str_at(t, "/reason") {
                    "" if int_at(t, "/signal") != 0 => format!("Signal:{}", int_at(t, "/signal")),
                    "" => format!("ExitCode:{}", int_at(t, "/exitCode")),
                    r => r.to_string(),
                };
            } else if bool_at(c, "/ready")
                && c.pointer("/state/running").is_some_and(Value::is_object)
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = arr(o, "/status/conditions")
                .iter()
                .any(|c| str_at(c, "/type") == "Ready" && str_at(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    let deleting = !str_at(o, "/metadata/deletionTimestamp").is_empty();
    if deleting && str_at(o, "/status/reason") == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            ktriage_api::printer::human_duration(now - t)
        ),
        _ => restarts.to_string(),
    };

    let mut ip = arr(o, "/status/podIPs")
        .first()
        .map(|p| str_at(p, "/ip"))
        .unwrap_or("");
    if ip.is_empty() {
        ip = str_at(o, "/status/podIP");
    }
    let none_if_empty = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let gates = arr(o, "/spec/readinessGates");
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = arr(o, "/status/conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                let ty = str_at(g, "/conditionType");
                conditions
                    .iter()
                    .find(|c| str_at(c, "/type") == ty)
                    .is_some_and(|c| str_at(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    vec![
        name(o),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts_cell.into(),
        age(o, now),
        none_if_empty(ip).into(),
        none_if_empty(str_at(o, "/spec/nodeName")).into(),
        none_if_empty(str_at(o, "/status/nominatedNodeName")).into(),
        readiness_gates.into(),
    ]
}

// ---------------------------------------------------------------------------------------
// Nodes

fn node_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // The last Ready condition wins, as in the Go map.
    let ready = arr(o, "/status/conditions")
        .iter()
        .rev()
        .find(|c| str_at(c, "/type") == "Ready");
    let mut status: Vec<&str> = vec![match ready {
        Some(c) if str_at(c, "/status") == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if bool_at(o, "/spec/unschedulable") {
        status.push("SchedulingDisabled");
    }

    let mut roles = BTreeSet::new();
    if let Some(labels) = o.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role"
                && let Some(v) = v.as_str().filter(|v| !v.is_empty())
            {
                roles.insert(v.to_string());
            }
        }
    }
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };

    let address = |ty: &str| {
        arr(o, "/status/addresses")
            .iter()
            .find(|a| str_at(a, "/type") == ty)
            .map(|a| str_at(a, "/address").to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    let info =
        |field: &str| str_or(o, &format!("/status/nodeInfo/{field}"), "<unknown>").to_string();

    vec![
        name(o),
        status.join(",").into(),
        roles.into(),
        age(o, now),
        str_at(o, "/status/nodeInfo/kubeletVersion").into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        info("osImage").into(),
        info("kernelVersion").into(),
        info("containerRuntimeVersion").into(),
    ]
}

// ---------------------------------------------------------------------------------------
// Services and endpoints

fn load_balancer_ips(o: &Value, ptr: &str) -> Vec<String> {
    let mut seen = Vec::<String>::new();
    for ing in arr(o, ptr) {
        let v = match (str_at(ing, "/ip"), str_at(ing, "/hostname")) {
            ("", "") => continue,
            ("", h) => h,
            (ip, _) => ip,
        };
        if !seen.iter().any(|s| s == v) {
            seen.push(v.to_string());
        }
    }
    seen
}

fn service_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let ty = str_or(o, "/spec/type", "ClusterIP");
    let mut cluster_ip = arr(o, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or("");
    if cluster_ip.is_empty() {
        cluster_ip = str_at(o, "/spec/clusterIP");
    }
    let cluster_ip = if cluster_ip.is_empty() {
        "<none>"
    } else {
        cluster_ip
    };
    let external_ips: Vec<&str> = arr(o, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external = match ty {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let mut all = load_balancer_ips(o, "/status/loadBalancer/ingress");
            all.extend(external_ips.iter().map(|s| s.to_string()));
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => str_at(o, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let port = int_at(p, "/port");
            let proto = str_or(p, "/protocol", "TCP");
            match int_at(p, "/nodePort") {
                np if np > 0 => format!("{port}:{np}/{proto}"),
                _ => format!("{port}/{proto}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports
    };
    vec![
        name(o),
        ty.into(),
        cluster_ip.into(),
        external.into(),
        ports.into(),
        age(o, now),
        format_labels(o.pointer("/spec/selector")).into(),
    ]
}

fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `listWithMoreString` with three shown entries.
fn list_with_more(list: Vec<String>, count: usize, empty: &str) -> String {
    const MAX: usize = 3;
    let ret = list.join(",");
    if count > MAX {
        format!("{ret} + {} more...", count - MAX)
    } else if ret.is_empty() {
        empty.to_string()
    } else {
        ret
    }
}

fn format_endpoints(o: &Value) -> String {
    let subsets = arr(o, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let mut list = Vec::new();
    let mut count = 0;
    for ss in subsets {
        let addresses = arr(ss, "/addresses");
        let ports = arr(ss, "/ports");
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    break;
                }
                list.push(str_at(a, "/ip").to_string());
            }
            continue;
        }
        for p in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    break;
                }
                list.push(join_host_port(str_at(a, "/ip"), int_at(p, "/port")));
            }
        }
    }
    // Go prints "" for subsets without addresses; keep that.
    let ret = list.join(",");
    if count > MAX && list.len() == MAX {
        format!("{ret} + {} more...", count - MAX)
    } else {
        ret
    }
}

fn format_discovery_ports(o: &Value) -> String {
    let ports = arr(o, "/ports");
    let list = ports
        .iter()
        .take(3)
        .map(|p| match p.get("port").and_then(as_int) {
            Some(n) => n.to_string(),
            None => p
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| "*".into()),
        })
        .collect();
    list_with_more(list, ports.len(), "<unset>")
}

fn format_discovery_endpoints(o: &Value) -> String {
    let all: Vec<&str> = arr(o, "/endpoints")
        .iter()
        .flat_map(|e| arr(e, "/addresses").iter().filter_map(Value::as_str))
        .collect();
    let list = all.iter().take(3).map(|s| s.to_string()).collect();
    list_with_more(list, all.len(), "<unset>")
}

fn ingress_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let class = str_or(o, "/spec/ingressClassName", "<none>");
    let rules = arr(o, "/spec/rules");
    const MAX: usize = 3;
    let mut hosts = Vec::new();
    let mut more = false;
    for r in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = str_at(r, "/host");
        if !more && !host.is_empty() {
            hosts.push(host);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let address = load_balancer_ips(o, "/status/loadBalancer/ingress").join(",");
    let ports = if arr(o, "/spec/tls").is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        name(o),
        class.into(),
        hosts.into(),
        address.into(),
        ports.into(),
        age(o, now),
    ]
}

// ---------------------------------------------------------------------------------------
// Events

fn event_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let first = match time_at(o, "/firstTimestamp") {
        Some(t) => since(Some(t), now),
        None => since(time_at(o, "/eventTime"), now),
    };
    let mut last = match time_at(o, "/lastTimestamp") {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = int_at(o, "/count");
    if o.get("series").is_some_and(Value::is_object) {
        last = since(time_at(o, "/series/lastObservedTime"), now);
        count = int_at(o, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = str_at(o, "/involvedObject/kind").to_lowercase();
    let target = match str_at(o, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let component = str_or(o, "/source/component", str_at(o, "/reportingComponent"));
    let host = str_or(o, "/source/host", str_at(o, "/reportingInstance"));
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    vec![
        last.into(),
        str_at(o, "/type").into(),
        str_at(o, "/reason").into(),
        target.into(),
        str_at(o, "/involvedObject/fieldPath").into(),
        source.into(),
        str_at(o, "/message").trim().into(),
        first.into(),
        count.into(),
        name(o),
    ]
}

// ---------------------------------------------------------------------------------------
// Storage

fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

fn storage_class_of(o: &Value) -> String {
    let beta = o
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str);
    beta.unwrap_or_else(|| str_at(o, "/spec/storageClassName"))
        .to_string()
}

fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".into(),
    }
}

fn pv_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let claim = match o.pointer("/spec/claimRef").filter(|c| c.is_object()) {
        Some(c) => format!("{}/{}", str_at(c, "/namespace"), str_at(c, "/name")),
        None => String::new(),
    };
    let phase = if str_at(o, "/metadata/deletionTimestamp").is_empty() {
        str_at(o, "/status/phase")
    } else {
        "Terminating"
    };
    vec![
        name(o),
        quantity(o.pointer("/spec/capacity/storage")).into(),
        access_modes(arr(o, "/spec/accessModes")).into(),
        str_or(o, "/spec/persistentVolumeReclaimPolicy", "Retain").into(),
        phase.into(),
        claim.into(),
        storage_class_of(o).into(),
        str_or(o, "/spec/volumeAttributesClassName", "<unset>").into(),
        str_at(o, "/status/reason").into(),
        age(o, now),
        str_or(o, "/spec/volumeMode", "<unset>").into(),
    ]
}

fn pvc_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if str_at(o, "/metadata/deletionTimestamp").is_empty() {
        str_at(o, "/status/phase")
    } else {
        "Terminating"
    };
    let volume = str_at(o, "/spec/volumeName");
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(o.pointer("/status/capacity/storage")),
            access_modes(arr(o, "/status/accessModes")),
        )
    };
    vec![
        name(o),
        phase.into(),
        volume.into(),
        capacity.into(),
        modes.into(),
        storage_class_of(o).into(),
        str_or(o, "/spec/volumeAttributesClassName", "<unset>").into(),
        age(o, now),
        str_or(o, "/spec/volumeMode", "<unset>").into(),
    ]
}

fn storage_class_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let annotations = o.pointer("/metadata/annotations");
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| annotations.and_then(|a| a.get(*k)).and_then(Value::as_str) == Some("true"));
    let mut n = str_at(o, "/metadata/name").to_string();
    if is_default {
        n.push_str(" (default)");
    }
    vec![
        n.into(),
        str_at(o, "/provisioner").into(),
        str_or(o, "/reclaimPolicy", "Delete").into(),
        str_or(o, "/volumeBindingMode", "Immediate").into(),
        bool_at(o, "/allowVolumeExpansion").into(),
        age(o, now),
    ]
}

fn csi_driver_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let modes: Vec<&str> = arr(o, "/spec/volumeLifecycleModes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_string()
    } else {
        modes.join(",")
    };
    let token_requests = match o.pointer("/spec/tokenRequests").and_then(Value::as_array) {
        None => "<unset>".to_string(),
        Some(t) => t
            .iter()
            .map(|r| str_at(r, "/audience"))
            .collect::<Vec<_>>()
            .join(","),
    };
    vec![
        name(o),
        o.pointer("/spec/attachRequired")
            .and_then(Value::as_bool)
            .unwrap_or(true)
            .into(),
        bool_at(o, "/spec/podInfoOnMount").into(),
        bool_at(o, "/spec/storageCapacity").into(),
        token_requests.into(),
        bool_at(o, "/spec/requiresRepublish").into(),
        modes.into(),
        age(o, now),
    ]
}

fn resource_quota_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let hard = o
        .pointer("/status/hard")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let names: BTreeSet<&String> = hard.keys().collect();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for r in names {
        let used = quantity(o.pointer("/status/used").and_then(|u| u.get(r)));
        let entry = format!("{r}: {used}/{}", quantity(hard.get(r)));
        let mut pieces = r.split('.');
        if pieces.next() == Some("limits") && pieces.next().is_some() {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        name(o),
        age(o, now),
        requests.join(", ").into(),
        limits.join(", ").into(),
    ]
}

// ---------------------------------------------------------------------------------------
// Batch, RBAC, certificates, aggregation

fn job_condition(o: &Value, ty: &str) -> bool {
    arr(o, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == ty)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

fn job_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let succeeded = int_at(o, "/status/succeeded");
    let completions = match o.pointer("/spec/completions").and_then(as_int) {
        Some(c) => format!("{succeeded}/{c}"),
        None => match int_at(o, "/spec/parallelism") {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let duration = match (
        time_at(o, "/status/startTime"),
        time_at(o, "/status/completionTime"),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => ktriage_api::printer::human_duration(now - start),
        (Some(start), Some(end)) => ktriage_api::printer::human_duration(end - start),
    };
    let status = if job_condition(o, "Complete") {
        "Complete"
    } else if job_condition(o, "Failed") {
        "Failed"
    } else if !str_at(o, "/metadata/deletionTimestamp").is_empty() {
        "Terminating"
    } else if job_condition(o, "Suspended") {
        "Suspended"
    } else if job_condition(o, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = container_cells(o, "/spec/template/spec/containers");
    vec![
        name(o),
        status.into(),
        completions.into(),
        duration.into(),
        age(o, now),
        names.into(),
        images.into(),
        format_label_selector(o.pointer("/spec/selector")).into(),
    ]
}

fn cronjob_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let last_schedule = match time_at(o, "/status/lastScheduleTime") {
        Some(t) => since(Some(t), now),
        None => "<none>".into(),
    };
    let suspend = if bool_at(o, "/spec/suspend") {
        "True"
    } else {
        "False"
    };
    let (names, images) = container_cells(o, "/spec/jobTemplate/spec/template/spec/containers");
    vec![
        name(o),
        str_at(o, "/spec/schedule").into(),
        str_or(o, "/spec/timeZone", "<none>").into(),
        suspend.into(),
        arr(o, "/status/active").len().into(),
        last_schedule.into(),
        age(o, now),
        names.into(),
        images.into(),
        format_label_selector(o.pointer("/spec/jobTemplate/spec/selector")).into(),
    ]
}

fn binding_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let role = format!(
        "{}/{}",
        str_at(o, "/roleRef/kind"),
        str_at(o, "/roleRef/name")
    );
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for s in arr(o, "/subjects") {
        match str_at(s, "/kind") {
            "ServiceAccount" => sas.push(format!(
                "{}/{}",
                str_at(s, "/namespace"),
                str_at(s, "/name")
            )),
            "User" => users.push(str_at(s, "/name").to_string()),
            "Group" => groups.push(str_at(s, "/name").to_string()),
            _ => {}
        }
    }
    vec![
        name(o),
        role.into(),
        age(o, now),
        users.join(", ").into(),
        groups.join(", ").into(),
        sas.join(", ").into(),
    ]
}

fn csr_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (mut approved, mut denied, mut failed) = (false, false, false);
    for c in arr(o, "/status/conditions") {
        match str_at(c, "/type") {
            "Approved" => approved = true,
            "Denied" => denied = true,
            "Failed" => failed = true,
            _ => {}
        }
    }
    let mut status = if denied {
        "Denied"
    } else if approved {
        "Approved"
    } else {
        "Pending"
    }
    .to_string();
    if failed {
        status.push_str(",Failed");
    }
    if !str_at(o, "/status/certificate").is_empty() {
        status.push_str(",Issued");
    }
    let duration = match o.pointer("/spec/expirationSeconds").and_then(as_int) {
        Some(s) => ktriage_api::printer::human_duration(chrono::TimeDelta::seconds(s)),
        None => "<none>".into(),
    };
    vec![
        name(o),
        age(o, now),
        str_or(o, "/spec/signerName", "<none>").into(),
        str_at(o, "/spec/username").into(),
        duration.into(),
        status.into(),
    ]
}

fn apiservice_cells(o: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let service = match o.pointer("/spec/service").filter(|s| s.is_object()) {
        Some(s) => format!("{}/{}", str_at(s, "/namespace"), str_at(s, "/name")),
        None => "Local".into(),
    };
    let available = match arr(o, "/status/conditions")
        .iter()
        .find(|c| str_at(c, "/type") == "Available")
    {
        Some(c) if str_at(c, "/status") == "True" => "True".to_string(),
        Some(c) => format!("{} ({})", str_at(c, "/status"), str_at(c, "/reason")),
        None => "Unknown".into(),
    };
    vec![name(o), service.into(), available.into(), age(o, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktriage_api::resources::{by_kind, by_path};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-10T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn render(kind_api: (&str, &str), obj: Value) -> Value {
        let def = by_kind(kind_api.0, kind_api.1).unwrap();
        table(
            def,
            &[&obj],
            json!({"resourceVersion": "42"}),
            IncludeObject::Metadata,
            now(),
        )
    }

    fn cells(t: &Value) -> Vec<Value> {
        t["rows"][0]["cells"].as_array().unwrap().clone()
    }

    fn column_names(t: &Value) -> Vec<String> {
        t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// The columns `kubectl get` shows (priority 0) with their cells.
    fn shown(t: &Value) -> Vec<(String, Value)> {
        let cols = t["columnDefinitions"].as_array().unwrap();
        cols.iter()
            .zip(cells(t))
            .filter(|(c, _)| c["priority"] == 0)
            .map(|(c, v)| (c["name"].as_str().unwrap().to_string(), v))
            .collect()
    }

    #[test]
    fn metadata_mode_carries_namespace_and_other_modes() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1"}, "spec": {"containers": []}});
        let def = by_path("", "v1", "pods").unwrap();
        let t = table(def, &[&pod], json!({}), IncludeObject::Metadata, now());
        let object = &t["rows"][0]["object"];
        assert_eq!(object["kind"], "PartialObjectMetadata");
        assert_eq!(object["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(object["metadata"]["namespace"], "shop");
        assert_eq!(object["metadata"]["name"], "web-1");
        assert!(object.get("spec").is_none());

        let t = table(def, &[&pod], json!({}), IncludeObject::Object, now());
        assert_eq!(t["rows"][0]["object"], pod);
        let t = table(def, &[&pod], json!({}), IncludeObject::None, now());
        assert_eq!(t["rows"][0]["object"], Value::Null);
        assert_eq!(IncludeObject::from_query("None"), IncludeObject::None);
        assert_eq!(IncludeObject::from_query(""), IncludeObject::Metadata);
    }

    #[test]
    fn crashlooping_pod_shows_reason_and_last_restart() {
        let pod = json!({
            "metadata": {"name": "api-7d9f", "namespace": "shop", "creationTimestamp": "2024-05-09T12:00:00Z"},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "api", "image": "shop/api:1.2"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.1.7",
                "podIPs": [{"ip": "10.244.1.7"}],
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{
                    "name": "api", "ready": false, "restartCount": 14,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2024-05-10T11:59:30Z"}}
                }]
            }
        });
        let t = render(("v1", "Pod"), pod);
        assert_eq!(
            column_names(&t),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(
            cells(&t),
            vec![
                json!("api-7d9f"),
                json!("0/1"),
                json!("CrashLoopBackOff"),
                json!("14 (30s ago)"),
                json!("24h"),
                json!("10.244.1.7"),
                json!("worker-1"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn pod_status_variants() {
        let status_of = |pod: Value| cells(&render(("v1", "Pod"), pod))[2].clone();
        // Running and ready.
        let running = json!({"metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2024-05-10T00:00:00Z"}}}]}});
        let t = render(("v1", "Pod"), running.clone());
        assert_eq!(cells(&t)[1], "1/1");
        assert_eq!(cells(&t)[2], "Running");
        assert_eq!(cells(&t)[3], "0");
        // Being deleted.
        let mut deleting = running.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2024-05-10T11:59:00Z");
        assert_eq!(status_of(deleting.clone()), "Terminating");
        // On a lost node.
        deleting["status"]["reason"] = json!("NodeLost");
        assert_eq!(status_of(deleting), "Unknown");
        // Waiting on the second of two init containers.
        let init = json!({"metadata": {"name": "b"}, "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "i2", "state": {"running": {}}}]}});
        assert_eq!(status_of(init), "Init:1/2");
        let init_crash = json!({"metadata": {"name": "b"}, "spec": {"initContainers": [{"name": "i1"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i1", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let t = render(("v1", "Pod"), init_crash);
        assert_eq!(cells(&t)[2], "Init:CrashLoopBackOff");
        assert_eq!(cells(&t)[3], "3");
        // Finished job pod.
        let done = json!({"metadata": {"name": "c"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Succeeded", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        let t = render(("v1", "Pod"), done);
        assert_eq!(cells(&t)[2], "Completed");
        assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
        // OOMKilled without a waiting state, and a killed container with no reason.
        let oom = json!({"metadata": {"name": "d"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}});
        assert_eq!(status_of(oom), "OOMKilled");
        let sig = json!({"metadata": {"name": "d"}, "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"terminated": {"exitCode": 0, "signal": 9}}}]}});
        assert_eq!(status_of(sig), "Signal:9");
        // Pending with no statuses, and an evicted pod.
        assert_eq!(
            status_of(json!({"metadata": {"name": "e"}, "status": {"phase": "Pending"}})),
            "Pending"
        );
        assert_eq!(
            status_of(
                json!({"metadata": {"name": "e"}, "status": {"phase": "Failed", "reason": "Evicted"}})
            ),
            "Evicted"
        );
    }

    #[test]
    fn partial_or_garbage_objects_never_panic() {
        for def in RESOURCES {
            for obj in [
                json!({}),
                json!(null),
                json!("text"),
                json!({"metadata": "x", "spec": [], "status": 3}),
                json!({"metadata": {"name": 5, "creationTimestamp": "yesterday"}, "spec": {"containers": "x", "ports": [1, null]}, "status": {"conditions": [null], "containerStatuses": [{"state": {"terminated": "x"}}]}}),
            ] {
                let t = table(def, &[&obj], json!(null), IncludeObject::Metadata, now());
                let n_cols = t["columnDefinitions"].as_array().unwrap().len();
                assert_eq!(
                    t["rows"][0]["cells"].as_array().unwrap().len(),
                    n_cols,
                    "{}",
                    def.kind
                );
            }
        }
    }

    #[test]
    fn node_columns_status_roles_and_wide() {
        let node = json!({
            "metadata": {"name": "cp-1", "creationTimestamp": "2024-04-10T12:00:00Z",
                "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp-1"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "Unknown"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.56.10"}, {"type": "Hostname", "address": "cp-1"}],
                "nodeInfo": {"kubeletVersion": "v1.31.2", "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-105-generic", "containerRuntimeVersion": "containerd://1.7.13"}
            }
        });
        let t = render(("v1", "Node"), node);
        assert_eq!(
            cells(&t),
            vec![
                json!("cp-1"),
                json!("NotReady,SchedulingDisabled"),
                json!("control-plane"),
                json!("30d"),
                json!("v1.31.2"),
                json!("192.168.56.10"),
                json!("<none>"),
                json!("Ubuntu 22.04.4 LTS"),
                json!("5.15.0-105-generic"),
                json!("containerd://1.7.13"),
            ]
        );
        let bare = render(("v1", "Node"), json!({"metadata": {"name": "w"}}));
        assert_eq!(cells(&bare)[1], "Unknown");
        assert_eq!(cells(&bare)[2], "<none>");
        assert_eq!(cells(&bare)[3], "<unknown>");
        assert_eq!(cells(&bare)[7], "<unknown>");
    }

    #[test]
    fn event_columns_like_kubectl_get_events() {
        let ev = json!({
            "metadata": {"name": "api-7d9f.17c1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "api-7d9f", "namespace": "shop", "fieldPath": "spec.containers{api}"},
            "reason": "BackOff", "type": "Warning",
            "message": "Back-off restarting failed container api in pod api-7d9f_shop(uid)\n",
            "source": {"component": "kubelet", "host": "worker-1"},
            "firstTimestamp": "2024-05-10T10:00:00Z", "lastTimestamp": "2024-05-10T11:58:00Z", "count": 212
        });
        let t = render(("v1", "Event"), ev);
        assert_eq!(
            shown(&t),
            vec![
                ("Last Seen".to_string(), json!("2m")),
                ("Type".to_string(), json!("Warning")),
                ("Reason".to_string(), json!("BackOff")),
                ("Object".to_string(), json!("pod/api-7d9f")),
                (
                    "Message".to_string(),
                    json!("Back-off restarting failed container api in pod api-7d9f_shop(uid)")
                ),
            ]
        );
        let c = cells(&t);
        assert_eq!(c[4], "spec.containers{api}");
        assert_eq!(c[5], "kubelet, worker-1");
        assert_eq!(c[7], "120m");
        assert_eq!(c[8], 212);
        assert_eq!(c[9], "api-7d9f.17c1");
        // events.k8s.io-style event: eventTime, series, reporting controller.
        let new_style = json!({"metadata": {"name": "x"}, "involvedObject": {"kind": "Node", "name": "cp-1"},
            "eventTime": "2024-05-10T11:00:00.000000Z", "series": {"count": 4, "lastObservedTime": "2024-05-10T11:59:50.123456Z"},
            "reportingComponent": "kubelet", "reportingInstance": "cp-1", "type": "Normal", "reason": "Starting"});
        let c = cells(&render(("v1", "Event"), new_style));
        assert_eq!(c[0], "9s");
        assert_eq!(c[7], "60m");
        assert_eq!(c[8], 4);
        assert_eq!(c[5], "kubelet, cp-1");
    }

    #[test]
    fn deployment_ready_and_wide_selector() {
        let d = json!({
            "metadata": {"name": "shop-api", "creationTimestamp": "2024-05-10T11:15:00Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "shop-api", "tier": "backend"}},
                "template": {"spec": {"containers": [{"name": "api", "image": "shop/api:1.2"}, {"name": "proxy", "image": "envoy:1.30"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        let t = render(("apps/v1", "Deployment"), d);
        assert_eq!(
            column_names(&t),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(
            cells(&t),
            vec![
                json!("shop-api"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("45m"),
                json!("api,proxy"),
                json!("shop/api:1.2,envoy:1.30"),
                json!("app=shop-api,tier=backend"),
            ]
        );
        // A fresh deployment without status: replicas defaulted to 1 as the server would.
        let c = cells(&render(
            ("apps/v1", "Deployment"),
            json!({"metadata": {"name": "x"}}),
        ));
        assert_eq!(c[1], "0/1");
    }

    #[test]
    fn daemonset_counts_and_node_selector() {
        let ds = json!({
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "creationTimestamp": "2024-04-10T12:00:00Z"},
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.31.2"}]}}},
            "status": {"desiredNumberScheduled": 6, "currentNumberScheduled": 6, "numberReady": 5, "updatedNumberScheduled": 6, "numberAvailable": 5}
        });
        let t = render(("apps/v1", "DaemonSet"), ds);
        assert_eq!(
            shown(&t),
            vec![
                ("Name".to_string(), json!("kube-proxy")),
                ("Desired".to_string(), json!(6)),
                ("Current".to_string(), json!(6)),
                ("Ready".to_string(), json!(5)),
                ("Up-to-date".to_string(), json!(6)),
                ("Available".to_string(), json!(5)),
                ("Node Selector".to_string(), json!("kubernetes.io/os=linux")),
                ("Age".to_string(), json!("30d")),
            ]
        );
        assert_eq!(cells(&t)[10], "k8s-app=kube-proxy");
    }

    #[test]
    fn lease_holder() {
        let l = json!({"metadata": {"name": "kube-scheduler", "namespace": "kube-system", "creationTimestamp": "2024-05-10T11:59:48Z"},
            "spec": {"holderIdentity": "cp-1_3f1c", "leaseDurationSeconds": 15, "renewTime": "2024-05-10T11:59:58.000000Z"}});
        let t = render(("coordination.k8s.io/v1", "Lease"), l);
        assert_eq!(column_names(&t), ["Name", "Holder", "Age"]);
        assert_eq!(
            cells(&t),
            vec![json!("kube-scheduler"), json!("cp-1_3f1c"), json!("12s")]
        );
        let c = cells(&render(
            ("coordination.k8s.io/v1", "Lease"),
            json!({"metadata": {"name": "x"}, "spec": {}}),
        ));
        assert_eq!(c[1], "");
    }

    #[test]
    fn service_types_ports_and_external_ip() {
        let np = json!({"metadata": {"name": "web", "creationTimestamp": "2024-05-10T11:00:00Z"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.12.5", "clusterIPs": ["10.96.12.5"], "selector": {"app": "web"},
                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
        let t = render(("v1", "Service"), np);
        assert_eq!(
            column_names(&t),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector"
            ]
        );
        assert_eq!(
            cells(&t),
            vec![
                json!("web"),
                json!("NodePort"),
                json!("10.96.12.5"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP"),
                json!("60m"),
                json!("app=web")
            ]
        );
        let lb = json!({"metadata": {"name": "ingress"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.20", "ports": [{"port": 443, "nodePort": 31443}]}});
        let c = cells(&render(("v1", "Service"), lb.clone()));
        assert_eq!(c[3], "<pending>");
        assert_eq!(c[4], "443:31443/TCP");
        assert_eq!(c[6], "<none>");
        let mut lb_ready = lb;
        lb_ready["status"] = json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}});
        assert_eq!(
            cells(&render(("v1", "Service"), lb_ready))[3],
            "203.0.113.10"
        );
        let headless = json!({"metadata": {"name": "db"}, "spec": {"clusterIP": "None"}});
        let c = cells(&render(("v1", "Service"), headless));
        assert_eq!(c[1], "ClusterIP");
        assert_eq!(c[2], "None");
        assert_eq!(c[4], "<none>");
        let ext = json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        assert_eq!(cells(&render(("v1", "Service"), ext))[3], "db.example.com");
    }

    #[test]
    fn endpoints_and_slices_truncate_after_three() {
        let ep = json!({"metadata": {"name": "kubernetes"}, "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "10.0.0.4"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]});
        assert_eq!(
            cells(&render(("v1", "Endpoints"), ep))[1],
            "10.0.0.1:6443,10.0.0.2:6443,10.0.0.3:6443 + 1 more..."
        );
        assert_eq!(
            cells(&render(
                ("v1", "Endpoints"),
                json!({"metadata": {"name": "x"}})
            ))[1],
            "<none>"
        );
        let slice = json!({"metadata": {"name": "kubernetes"}, "addressType": "IPv4", "ports": [{"name": "https", "port": 6443}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}]});
        let c = cells(&render(("discovery.k8s.io/v1", "EndpointSlice"), slice));
        assert_eq!(
            c[1..4],
            [json!("IPv4"), json!("6443"), json!("10.0.0.1,10.0.0.2")]
        );
        let empty = json!({"metadata": {"name": "x"}, "addressType": "IPv4"});
        assert_eq!(
            cells(&render(("discovery.k8s.io/v1", "EndpointSlice"), empty))[3],
            "<unset>"
        );
    }

    #[test]
    fn simple_kinds() {
        let cm = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
        assert_eq!(cells(&render(("v1", "ConfigMap"), cm))[1], 3);
        let secret = json!({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}});
        assert_eq!(
            cells(&render(("v1", "Secret"), secret))[1..3],
            [json!("kubernetes.io/tls"), json!(2)]
        );
        let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 1}});
        assert_eq!(cells(&render(("apps/v1", "StatefulSet"), sts))[1], "1/3");
        let rs = json!({"metadata": {"name": "api-5d"}, "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 1}});
        assert_eq!(
            cells(&render(("apps/v1", "ReplicaSet"), rs))[1..4],
            [json!(2), json!(2), json!(1)]
        );
        let role =
            json!({"metadata": {"name": "view", "creationTimestamp": "2024-04-10T12:00:00Z"}});
        let t = render(("rbac.authorization.k8s.io/v1", "ClusterRole"), role);
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(
            cells(&t),
            vec![json!("view"), json!("2024-04-10T12:00:00Z")]
        );
        let rb = json!({"metadata": {"name": "dev"}, "roleRef": {"kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "User", "name": "jane"}, {"kind": "Group", "name": "devs"}, {"kind": "ServiceAccount", "name": "ci", "namespace": "shop"}]});
        let c = cells(&render(("rbac.authorization.k8s.io/v1", "RoleBinding"), rb));
        assert_eq!(c[1], "ClusterRole/edit");
        assert_eq!(c[3..6], [json!("jane"), json!("devs"), json!("shop/ci")]);
        let job = json!({"metadata": {"name": "backup"}, "spec": {"completions": 1},
            "status": {"succeeded": 1, "startTime": "2024-05-10T11:00:00Z", "completionTime": "2024-05-10T11:00:42Z",
                "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            cells(&render(("batch/v1", "Job"), job))[1..4],
            [json!("Complete"), json!("1/1"), json!("42s")]
        );
        let sc = json!({"metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "rancher.io/local-path", "volumeBindingMode": "WaitForFirstConsumer"});
        assert_eq!(
            cells(&render(("storage.k8s.io/v1", "StorageClass"), sc))[0..5],
            [
                json!("standard (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false)
            ]
        );
    }

    #[test]
    fn fallback_columns() {
        // A built-in kind without a printer: Name and Created At, like the real server.
        let lr = by_kind("v1", "LimitRange").unwrap();
        let obj =
            json!({"metadata": {"name": "limits", "creationTimestamp": "2024-05-01T00:00:00Z"}});
        let t = table(lr, &[&obj], json!({}), IncludeObject::None, now());
        assert_eq!(column_names(&t), ["Name", "Created At"]);
        assert_eq!(cells(&t)[1], "2024-05-01T00:00:00Z");
        // A custom resource: Name and Age.
        let cr = ResourceDef {
            group: "cert-manager.io",
            version: "v1",
            kind: "Certificate",
            plural: "certificates",
            singular: "certificate",
            namespaced: true,
            short_names: &[],
            categories: &[],
        };
        let t = table(&cr, &[&obj], json!({}), IncludeObject::None, now());
        assert_eq!(column_names(&t), ["Name", "Age"]);
        assert_eq!(cells(&t)[1], "9d");
    }

    #[test]
    fn table_envelope_and_column_definitions() {
        let t = render(
            ("v1", "Namespace"),
            json!({"metadata": {"name": "shop", "creationTimestamp": "2024-05-05T10:00:00Z"}, "status": {"phase": "Active"}}),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"]["resourceVersion"], "42");
        assert_eq!(
            t["columnDefinitions"][0],
            json!({"name": "Name", "type": "string", "format": "name", "description": NAME_DOC, "priority": 0})
        );
        assert_eq!(
            cells(&t),
            vec![json!("shop"), json!("Active"), json!("5d2h")]
        );
    }
}
