//! The training curriculum: one exercise per embedded scenario that demonstrates a playbook
//! (a few listed in [`EXCLUDED`] with the reason). What the registry knows is derived: the
//! playbook (from the scenario), the track (from the playbook's catalog code), the order
//! (track, then level, then registry order) and the exercise id (`net-3`: the track's
//! prefix and the place in it — never the scenario id, which names the answer). What it
//! cannot know is written here per scenario: the level, a briefing that says only what a
//! user would report, two or three hints from vague to specific, and where the fix is made.

use crate::playbooks::{self, Playbook};
use crate::scenarios;

/// A track of the curriculum, in teaching order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    Connection,
    ControlPlane,
    NodesNetworking,
    Workloads,
    StorageCloud,
}

impl Track {
    pub const ALL: [Track; 5] = [
        Track::Connection,
        Track::ControlPlane,
        Track::NodesNetworking,
        Track::Workloads,
        Track::StorageCloud,
    ];

    /// The track's name as the list and handout show it.
    pub fn title(self) -> &'static str {
        match self {
            Track::Connection => "Connection",
            Track::ControlPlane => "Control plane",
            Track::NodesNetworking => "Nodes and networking",
            Track::Workloads => "Workloads",
            Track::StorageCloud => "Storage and cloud",
        }
    }

    /// The prefix of its exercise ids.
    pub fn prefix(self) -> &'static str {
        match self {
            Track::Connection => "conn",
            Track::ControlPlane => "cp",
            Track::NodesNetworking => "net",
            Track::Workloads => "wl",
            Track::StorageCloud => "st",
        }
    }

    /// The track of a playbook, from its catalog code (PLAYBOOKS.md): the code's family,
    /// with the few families that span tracks split by what the trainee would be doing.
    pub fn of_code(code: &str) -> Track {
        match code {
            // Kubelet serving certificates and node bootstrap are node problems.
            "TLS-03" | "AUTH-03" => Track::NodesNetworking,
            // A webhook's caBundle blocks workloads.
            "TLS-04" => Track::Workloads,
            // The components' own RBAC is the control plane's.
            "AUTH-02" => Track::ControlPlane,
            _ => match code.split('-').next().unwrap_or("") {
                "CONN" | "TLS" | "AUTH" => Track::Connection,
                "CP" => Track::ControlPlane,
                "NET" => Track::NodesNetworking,
                "ST" | "CL" => Track::StorageCloud,
                _ => Track::Workloads,
            },
        }
    }
}

/// Where the fix of an exercise is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAt {
    /// An API change the trainee makes with kubectl: the exercise is fixed when the
    /// playbook's verdict on the training server turns to "not present".
    Cluster,
    /// On a host or the client (firewall, sysctl, kubelet flags, kubeconfig): the exercise
    /// ends at the answer and the fix commands.
    Host,
}

/// What is written by hand for one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Authored {
    pub scenario: &'static str,
    /// 1 (one object tells) to 3 (several layers to correlate).
    pub level: u8,
    /// The symptom as a user would report it: never the cause or the playbook.
    pub briefing: &'static str,
    /// From vague to specific; the last may name the area to look at.
    pub hints: &'static [&'static str],
    pub fix: FixAt,
}

/// One exercise of the curriculum.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// `net-3`: track prefix and position.
    pub id: String,
    pub track: Track,
    pub level: u8,
    /// The scenario served (never shown to the trainee before the reveal).
    pub scenario: &'static str,
    /// The playbook whose cause is the answer.
    pub playbook: &'static Playbook,
    pub briefing: &'static str,
    pub hints: &'static [&'static str],
    pub fix: FixAt,
}

/// Scenarios with a playbook that get no exercise, and why.
pub const EXCLUDED: &[(&str, &str)] = &[(
    "node-notready-demo",
    "the demo's variant of node-status-unknown: same cause, same playbook, same evidence",
)];

use FixAt::{Cluster, Host};

/// The hand-written part, one entry per scenario (order here does not matter).
pub const AUTHORED: &[Authored] = &[
    // Connection
    Authored {
        scenario: "apiserver-unreachable",
        level: 1,
        briefing: "kubectl cannot talk to the cluster at all: every command fails at once.",
        hints: &[
            "Read kubectl's whole error message: what does it try to reach?",
            "Is anything answering at that address and port?",
            "Compare the server URL in the kubeconfig with where the API server really listens.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "certificate-expiry",
        level: 1,
        briefing: "Since this morning every kubectl command fails. Yesterday all was fine and nobody changed anything.",
        hints: &[
            "Read the error to the end: it is about time.",
            "Something issued about a year ago is no longer valid.",
            "Look at the dates of the API server's serving certificate (kubeadm certs check-expiration).",
        ],
        fix: Host,
    },
    Authored {
        scenario: "restricted-user",
        level: 1,
        briefing: "A developer can list pods in every namespace, but `kubectl get nodes` fails for them.",
        hints: &[
            "Read who the server thinks you are and what it refuses.",
            "`kubectl auth can-i --list` shows what you may do.",
            "Look at the Roles and ClusterRoles bound to this user.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "kubeconfig-ca-mismatch",
        level: 2,
        briefing: "The cluster was rebuilt over the weekend. Since then kubectl fails before it shows anything, while a colleague's freshly issued credentials work.",
        hints: &[
            "Run a command with -v=6 and read the last words of the error.",
            "The error is about trust: whom does your kubeconfig trust, and who signed what the server presents?",
            "Compare certificate-authority-data in the kubeconfig with the cluster's /etc/kubernetes/pki/ca.crt.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "kubeconfig-corrupted-ca",
        level: 2,
        briefing: "The cluster access file a colleague pasted into the wiki works for nobody: kubectl fails at once, before any request.",
        hints: &[
            "Does kubectl reach the network at all? Read the error.",
            "Decode the kubeconfig's certificate-authority-data once: does it look like a PEM block?",
            "Try decoding it twice.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "apiserver-cert-missing-san",
        level: 2,
        briefing: "kubectl works when run on the control-plane node, but with this kubeconfig from your laptop it refuses to go on.",
        hints: &[
            "Read kubectl's error to the end: it lists names.",
            "Which names and IPs does the server present, and which one does your kubeconfig use?",
            "Look at the Subject Alternative Names of the API server's serving certificate.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "certificate-expiry-client",
        level: 2,
        briefing: "The admin kubeconfig the team has shared for months stopped working this week; kubectl is turned away.",
        hints: &[
            "Does the request reach the server? What does the server say about you?",
            "Something in your kubeconfig has a date on it.",
            "Look at the notAfter of the client certificate in the kubeconfig's user entry.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "client-proxy-intercepts-apiserver",
        level: 2,
        briefing: "From the office network kubectl answers Gateway Timeout; the same kubeconfig works from home.",
        hints: &[
            "Who answers with a Gateway Timeout? The API server never does that itself.",
            "Look at the environment kubectl runs with.",
            "Compare HTTPS_PROXY and NO_PROXY with the API server's address.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "wrong-identity",
        level: 2,
        briefing: "kubectl reaches the cluster, but every request is refused, even listing pods in your own namespace.",
        hints: &[
            "Read the refusal: which user does it name?",
            "`kubectl auth whoami` tells who the server thinks you are.",
            "Look at the kubeconfig's users entry: what credential does it carry?",
        ],
        fix: Host,
    },
    Authored {
        scenario: "rbac-forbidden",
        level: 2,
        briefing: "jane works in the shop namespace and was given a node viewer role last week, but `kubectl get nodes` still fails for her.",
        hints: &[
            "Read the refusal: at which scope is the request made?",
            "Where do jane's Role and RoleBinding live, and what can a namespaced Role grant?",
            "Nodes are cluster-scoped: compare with ClusterRoles and ClusterRoleBindings.",
        ],
        fix: Cluster,
    },
    // Control plane
    Authored {
        scenario: "static-pod-liveness-mismatch",
        level: 2,
        briefing: "On one control-plane node the controller-manager and the scheduler restart over and over.",
        hints: &[
            "Describe the restarting pods: why does the kubelet kill them?",
            "What do their probes check, and what do the components actually serve?",
            "Compare the probe ports in the static pod manifests with the ports the components listen on.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "leader-election-lease",
        level: 2,
        briefing: "Scaling a deployment does nothing and new pods are never scheduled, although kubectl itself works.",
        hints: &[
            "Which components turn a scaled deployment into scheduled pods, and are they working?",
            "Look at the Leases in kube-system.",
            "Who holds the controller-manager and scheduler leases, and when were they last renewed? What slows their updates?",
        ],
        fix: Host,
    },
    Authored {
        scenario: "apiserver-not-ready",
        level: 2,
        briefing: "kubectl is slow and its requests often time out, although every control-plane pod is running.",
        hints: &[
            "Ask the API server how it feels: `kubectl get --raw '/readyz?verbose'`.",
            "Which of its checks fails?",
            "Look at the store the API server keeps its data in, and that store's disk.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "etcd-quorum-membership",
        level: 2,
        briefing: "After a power cut one control-plane node never fully came back. The cluster still works.",
        hints: &[
            "Which control-plane pods are not ready on that node?",
            "Read the log of the one that keeps failing.",
            "Look at the etcd members: how many are healthy and how many can be lost?",
        ],
        fix: Host,
    },
    Authored {
        scenario: "component-rbac-forbidden",
        level: 2,
        briefing: "After a security cleanup, pods can no longer reach Services by name and new Service IPs do not work.",
        hints: &[
            "Read the logs of the pods that make Services and DNS work (kube-system).",
            "What are those components refused, and as which user?",
            "Look at the ClusterRoleBindings kubeadm created for them.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "controlplane-proxy-without-no-proxy",
        level: 3,
        briefing: "Deployments no longer create pods and new pods are not scheduled, though the API server answers every kubectl command.",
        hints: &[
            "Are the controller-manager and scheduler doing their work? Look at their leases.",
            "Read the controller-manager's log: what fails when it tries to take its lock?",
            "Look at the environment variables of the static control-plane pods.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "ha-apiserver-endpoints-flap",
        level: 3,
        briefing: "Clients inside the cluster keep losing their connection to the API every few seconds; kubectl from outside works.",
        hints: &[
            "Where do in-cluster clients send their API requests? Watch that object for a minute.",
            "How many API servers are there, and what does each one write?",
            "Look at the kube-apiserver flags --endpoint-reconciler-type and --apiserver-count.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "control-plane-topology",
        level: 3,
        briefing: "An auditor asks whether the cluster survives losing one machine or one zone. Everything looks green.",
        hints: &[
            "Where do the control-plane nodes run? Look at their labels.",
            "Which address do nodes and clients use to reach the API?",
            "Look at topology.kubernetes.io/zone and at controlPlaneEndpoint in the kubeadm-config ConfigMap.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "kubeadm-preflight-host",
        level: 3,
        briefing: "A worker added last week behaves a little differently from the others; its join only went through with an extra flag.",
        hints: &[
            "Compare the nodes side by side (`kubectl get nodes -o wide`).",
            "Which differences between a kubelet and the API server are allowed?",
            "Look at the kubelet version of worker-3.",
        ],
        fix: Host,
    },
    // Nodes and networking
    Authored {
        scenario: "node-notready-no-cni",
        level: 1,
        briefing: "A brand-new cluster: no node becomes ready and DNS never starts.",
        hints: &[
            "Describe a node: what condition keeps it from being ready?",
            "What does every node need before pods can get an address?",
            "Look for the pod network add-on in kube-system.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "node-status-unknown",
        level: 1,
        briefing: "The pods on one worker stopped answering and that worker looks odd in the node list.",
        hints: &[
            "`kubectl get nodes`, then describe the odd one.",
            "Who posts a node's status and renews its lease, and when did that last happen?",
            "Look at the kubelet on worker-2.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "ingress-misconfigured",
        level: 1,
        briefing: "shop.lab.internal answers 503 since this morning's change.",
        hints: &[
            "Follow a request from the outside in: what routes shop.lab.internal?",
            "Does everything that route names exist?",
            "Compare the backend in the shop's Ingress with the Services in shop.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "service-no-endpoints",
        level: 1,
        briefing: "checkout's calls to payments are refused, although the payments pods are running and healthy.",
        hints: &[
            "Which address does checkout call, and what stands behind it?",
            "`kubectl get endpoints -n shop`: who is behind payments?",
            "Compare the payments Service's selector with the labels of the payments pods.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "service-port-mismatch",
        level: 1,
        briefing: "Every call to the cart fails with connection refused, although both cart pods are up and ready.",
        hints: &[
            "What stands behind the address the callers use?",
            "Which port do the calls arrive on at the pods?",
            "Compare the cart Service's targetPort with the port the container listens on.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "kubelet-serving-cert-untrusted",
        level: 2,
        briefing: "`kubectl logs` fails for pods on two of the workers; on the others it works.",
        hints: &[
            "Read the error kubectl logs prints: who refuses whom?",
            "The API server talks to the kubelets for logs: what does it check about them?",
            "Look at the kubelets' serving certificates and the kubelet-serving CSRs.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "csr-pending-node-cannot-join",
        level: 2,
        briefing: "A new worker was joined three times and still does not appear in `kubectl get nodes`.",
        hints: &[
            "What does a joining kubelet ask the cluster for first?",
            "`kubectl get csr`: what happened to worker-4's requests?",
            "Who approves bootstrap requests? Look at the ClusterRoleBindings kubeadm made for it.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "kubelet-port-unreachable",
        level: 2,
        briefing: "`kubectl top nodes` shows nothing and `kubectl exec` fails for pods on two workers, which otherwise look fine.",
        hints: &[
            "What do exec, logs and metrics have in common on the way to a pod?",
            "Can the control plane reach those two nodes on the kubelet's port?",
            "Look at the firewalls of worker-2 and worker-3 (port 10250/tcp).",
        ],
        fix: Host,
    },
    Authored {
        scenario: "cni-podcidr-not-assigned",
        level: 2,
        briefing: "Pods sent to the newest worker fail to start; the same pods run on the other workers.",
        hints: &[
            "Which pod on that node is unhappy besides the applications?",
            "Read the network add-on's log on worker-3.",
            "Compare spec.podCIDR across the nodes, and the controller-manager's flags.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "dns-addon-degraded",
        level: 2,
        briefing: "Name lookups inside the cluster fail, and the DNS pods keep restarting.",
        hints: &[
            "Read the previous log of a DNS pod.",
            "Where does CoreDNS forward the names it does not know?",
            "Look at the node's /etc/resolv.conf and the kubelet's resolvConf setting.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "nodeport-needs-external-lb",
        level: 2,
        briefing: "The guestbook is only reachable by typing a worker's IP and a high port; users want one stable address.",
        hints: &[
            "How is the guestbook exposed, and on which nodes does it answer?",
            "What gives a Service an address outside the cluster on bare metal?",
            "Look at the Service type, its externalTrafficPolicy and what sits in front of the nodes.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "pod-cannot-reach-apiserver-service",
        level: 3,
        briefing: "After the network add-on was replaced, DNS inside the cluster stopped working; the API server itself is healthy.",
        hints: &[
            "Read the DNS pods' log: what can't they reach?",
            "Which address ranges do the nodes, the pods and the Services use?",
            "Compare the network add-on's IP allocation range with the node network.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "forward-policy-drop",
        level: 3,
        briefing: "The shop's website answers only sometimes: about two requests in three time out.",
        hints: &[
            "Which frontend pods does the ingress controller reach, and on which nodes do they run?",
            "Same node works, another node does not: what on the hosts forwards pod traffic?",
            "Look at the iptables FORWARD chain's policy on the nodes.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "overlay-port-blocked",
        level: 3,
        briefing: "The network add-on's pods are never ready, and traffic to pods on two of the workers fails.",
        hints: &[
            "Read the network add-on's readiness failures: whom can't it talk to?",
            "How do the nodes exchange pod routes and pod traffic?",
            "Look at the firewalls of worker-2 and worker-3 (BGP 179/tcp, IP-in-IP).",
        ],
        fix: Host,
    },
    Authored {
        scenario: "ipv6-disabled-cni-sandbox",
        level: 3,
        briefing: "Pods sent to the newest worker stay in ContainerCreating, while the node itself is Ready.",
        hints: &[
            "Read the events of a stuck pod.",
            "The failing path is under /proc/sys: what is missing on that host?",
            "Look at how worker-3 was booted (the kernel command line).",
        ],
        fix: Host,
    },
    // Workloads
    Authored {
        scenario: "crashloop",
        level: 1,
        briefing: "One checkout pod keeps restarting; the other one is fine.",
        hints: &[
            "How often, and how, does it end?",
            "The log of the current container may be empty: ask for the previous one.",
            "`kubectl logs --previous` and lastState.terminated of the checkout pod.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "image-pull-failure",
        level: 1,
        briefing: "The recommendations deployment was applied ten minutes ago and none of its pods has started.",
        hints: &[
            "What state are the new pods in?",
            "Read the events of one of them.",
            "Compare the tag in the deployment with the tags the registry has.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "pending-unschedulable",
        level: 1,
        briefing: "The search pods were created a while ago and have not started on any node.",
        hints: &[
            "Read the events of a search pod: what does the scheduler say?",
            "What does each search pod ask for, and what do the nodes have left?",
            "Compare the pods' CPU requests with the nodes' allocatable CPU.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "running-not-ready",
        level: 1,
        briefing: "The reviews pods have been up for 18 minutes but show 0/1, and the reviews page is empty.",
        hints: &[
            "Describe a reviews pod: what keeps it at 0/1?",
            "What does the kubelet check before sending it traffic?",
            "Compare the readiness probe's port with the port the app serves.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "container-config-error",
        level: 1,
        briefing: "The payments pods never start since the deployment was changed to read the Stripe API key.",
        hints: &[
            "What state are the payments pods in, and what do their events say?",
            "Does everything the pod spec refers to exist where the pod looks for it?",
            "Look for Secret payments-stripe, in shop and elsewhere.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "quota-or-admission-blocked",
        level: 2,
        briefing: "The new reports deployment shows 0/2 and there are no reports pods at all.",
        hints: &[
            "No pods at all: who creates them, and did it try?",
            "Describe the ReplicaSet of reports and read its events.",
            "Look at the namespace's labels and what they enforce on new pods.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "addon-restart-storm",
        level: 2,
        briefing: "`kubectl top` works only now and then, and the dashboards have gaps every few minutes.",
        hints: &[
            "Which pod serves the numbers kubectl top shows? Look at it closely.",
            "Its restart count and how its last container ended.",
            "Look at lastState.terminated of metrics-server and its memory limit.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "node-pressure-evictions",
        level: 2,
        briefing: "Some cart and checkout pods show Failed in the pod list, and worker-2 seems to turn new pods away.",
        hints: &[
            "Why did the failed pods end? Read their status message.",
            "Describe worker-2: its conditions and taints.",
            "Look at worker-2's disk.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "admission-webhook-unavailable",
        level: 2,
        briefing: "Scaling the cart deployment to 3 fails with an error from the API server.",
        hints: &[
            "Read the whole error: who is the API server calling on your behalf?",
            "Does what it calls still exist?",
            "Look at the ValidatingWebhookConfigurations and their failurePolicy.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "apparmor-seccomp-blocked",
        level: 3,
        briefing: "Some frontend pods fail right after they are placed on a node; the same pods run on other workers.",
        hints: &[
            "On which node do the failing pods land? Read their status reason.",
            "What does the frontend now ask of the node's kernel?",
            "Look at the security profile in the pod spec and at how worker-3 was booted.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "invalid-pem-material",
        level: 3,
        briefing: "No pod can be created in namespace shop any more; other namespaces are fine.",
        hints: &[
            "Read the error a create in shop gets: who is consulted?",
            "Can the API server even talk to that party? What does it need to trust it?",
            "Decode the caBundle of the ValidatingWebhookConfiguration: is it PEM?",
        ],
        fix: Cluster,
    },
    // Storage and cloud
    Authored {
        scenario: "pvc-pending-no-storageclass-or-pv",
        level: 1,
        briefing: "postgres-0 has never started since the StatefulSet was created.",
        hints: &[
            "Why is postgres-0 not scheduled? Read its events.",
            "What does it wait for before it can run, and who would provide it?",
            "Look at the claim's storageClassName, the StorageClasses and the PersistentVolumes.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "loadbalancer-pending-no-cloud-provider",
        level: 1,
        briefing: "frontend-public has had no external address for three days.",
        hints: &[
            "Look at the Service and its events.",
            "Who hands out external addresses on this cluster?",
            "Look for a cloud controller, a --cloud-provider flag or MetalLB.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "pvc-pending-provisioner-missing",
        level: 2,
        briefing: "redis-0 has been waiting to be scheduled since it was created.",
        hints: &[
            "What does redis-0 wait for? Follow its claim.",
            "Read the claim's events: who is expected to act?",
            "Look at the StorageClass's provisioner and the CSIDrivers installed.",
        ],
        fix: Host,
    },
    Authored {
        scenario: "volume-attach-mount-failure",
        level: 2,
        briefing: "The orders-db rollout has been stuck for 20 minutes: the new pod never starts and the old one keeps serving.",
        hints: &[
            "Read the events of the new orders-db pod.",
            "Where is the old pod, where is the new one, and what do they share?",
            "Look at the claim's access mode and the deployment's update strategy.",
        ],
        fix: Cluster,
    },
    Authored {
        scenario: "node-uninitialized-cloud-taint",
        level: 2,
        briefing: "One frontend replica has never been scheduled since worker-3 was added.",
        hints: &[
            "What does the scheduler say about the waiting replica?",
            "What keeps pods off worker-3?",
            "Look at worker-3's taints and who is supposed to remove them.",
        ],
        fix: Host,
    },
];

/// The curriculum: every authored scenario that is registered with a playbook, in order
/// (track, level, registry order), with ids assigned per track. Built once per process
/// (reading the playbooks builds every scenario).
pub fn curriculum() -> Vec<Exercise> {
    static CURRICULUM: std::sync::OnceLock<Vec<Exercise>> = std::sync::OnceLock::new();
    CURRICULUM.get_or_init(build).clone()
}

fn build() -> Vec<Exercise> {
    let mut out: Vec<Exercise> = Vec::new();
    for (pos, s) in scenarios::registry().iter().enumerate() {
        let Some(pb_id) = s.playbook else { continue };
        let (Some(a), Some(pb)) = (
            AUTHORED.iter().find(|a| a.scenario == s.id),
            playbooks::find(pb_id),
        ) else {
            continue;
        };
        out.push(Exercise {
            id: format!("{pos}"),
            track: Track::of_code(pb.code),
            level: a.level,
            scenario: s.id,
            playbook: pb,
            briefing: a.briefing,
            hints: a.hints,
            fix: a.fix,
        });
    }
    // Stable sort keeps the registry order within a track and level.
    out.sort_by_key(|e| (e.track, e.level));
    for track in Track::ALL {
        for (n, e) in out.iter_mut().filter(|e| e.track == track).enumerate() {
            e.id = format!("{}-{}", track.prefix(), n + 1);
        }
    }
    out
}

/// Looks an exercise up by id (case-insensitive).
pub fn find(id: &str) -> Option<Exercise> {
    curriculum()
        .into_iter()
        .find(|e| e.id.eq_ignore_ascii_case(id))
}

/// The plausible causes offered for an exercise: its playbook and up to four others of the
/// same track (then neighbouring tracks when the track is small), shuffled by a seed taken
/// from the exercise id, so the same exercise always offers the same order.
pub fn choices(ex: &Exercise) -> Vec<&'static Playbook> {
    let mut seed = ex.id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut next = move || {
        // xorshift64*: enough to shuffle a handful of entries the same way every time.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut pool: Vec<&'static Playbook> = playbooks::registry()
        .into_iter()
        .filter(|p| p.id != ex.playbook.id && Track::of_code(p.code) == ex.track)
        .collect();
    let mut picked = vec![ex.playbook];
    while picked.len() < 5 && !pool.is_empty() {
        let i = (next() % pool.len() as u64) as usize;
        picked.push(pool.swap_remove(i));
    }
    for i in (1..picked.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        picked.swap(i, j);
    }
    picked
}

/// The playbook a typed answer names: its code (`NET-08`), its id, or the title that shares
/// the most words with the text (at least two, or the one word of a short answer).
pub fn match_answer(text: &str) -> Option<&'static Playbook> {
    let t = text.trim().to_lowercase();
    if t.is_empty() {
        return None;
    }
    let all = playbooks::registry();
    if let Some(p) = all
        .iter()
        .find(|p| p.code.eq_ignore_ascii_case(&t) || p.id == t)
    {
        return Some(p);
    }
    let words = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2 && !STOP.contains(w))
            .map(str::to_string)
            .collect()
    };
    let said = words(&t);
    let need = if said.len() <= 1 { 1 } else { 2 };
    all.into_iter()
        .map(|p| {
            let mine = words(&format!("{} {}", p.title, p.id.replace('-', " ")));
            let n = said.iter().filter(|w| mine.contains(w)).count();
            (n, p)
        })
        .filter(|(n, _)| *n >= need)
        .max_by_key(|(n, p)| (*n, std::cmp::Reverse(p.id)))
        .map(|(_, p)| p)
}

/// Words too common to tell playbooks apart.
const STOP: &[&str] = &[
    "the", "and", "not", "for", "its", "pod", "pods", "does", "with", "from", "cannot", "that",
    "into", "has", "are", "was",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_with_a_playbook_is_an_exercise_or_excluded_with_a_reason() {
        let ex = curriculum();
        for s in scenarios::registry() {
            let Some(pb) = s.playbook else { continue };
            let covered = ex.iter().any(|e| e.scenario == s.id);
            let excluded = EXCLUDED
                .iter()
                .any(|(id, why)| *id == s.id && !why.is_empty());
            assert!(
                covered ^ excluded,
                "scenario {} (playbook {pb}) must be an exercise or excluded with a reason, not both",
                s.id
            );
            if let Some(e) = ex.iter().find(|e| e.scenario == s.id) {
                assert_eq!(e.playbook.id, pb);
            }
        }
        // Nothing authored for a scenario that is not there (a renamed one would be lost).
        for a in AUTHORED {
            assert!(
                ex.iter().any(|e| e.scenario == a.scenario),
                "authored exercise for unknown scenario {}",
                a.scenario
            );
        }
    }

    #[test]
    fn exercises_have_levels_hints_and_every_track() {
        let ex = curriculum();
        for e in &ex {
            assert!((1..=3).contains(&e.level), "{}", e.id);
            assert!((2..=3).contains(&e.hints.len()), "{}: 2-3 hints", e.id);
        }
        for t in Track::ALL {
            assert!(ex.iter().any(|e| e.track == t), "track {t:?} is empty");
        }
        // Order: track, then level; ids count per track.
        for w in ex.windows(2) {
            assert!((w[0].track, w[0].level) <= (w[1].track, w[1].level));
        }
        assert_eq!(ex[0].id, "conn-1");
        let ids: std::collections::HashSet<_> = ex.iter().map(|e| &e.id).collect();
        assert_eq!(ids.len(), ex.len(), "ids are unique");
    }

    /// The words of the answer a briefing must not say: the playbook's id words of five
    /// letters or more, its code, its title, and the scenario id.
    fn answer_words(e: &Exercise) -> Vec<String> {
        let mut out: Vec<String> = e
            .playbook
            .id
            .split('-')
            .chain(e.scenario.split('-'))
            .filter(|w| w.len() >= 5)
            .map(str::to_string)
            .collect();
        out.push(e.playbook.code.to_lowercase());
        out.push(e.playbook.title.to_lowercase());
        out.push(e.playbook.id.to_string());
        out.push(e.scenario.to_string());
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn no_briefing_names_its_answer() {
        let mut told = Vec::new();
        for e in curriculum() {
            let b = e.briefing.to_lowercase();
            for w in answer_words(&e) {
                if b.contains(&w) {
                    told.push(format!("{} ({}) says {w:?}", e.id, e.scenario));
                }
            }
        }
        assert!(
            told.is_empty(),
            "briefings that name their answer:\n{}",
            told.join("\n")
        );
    }

    #[test]
    fn choices_hold_the_answer_among_distractors_in_a_fixed_order() {
        for e in curriculum() {
            let c = choices(&e);
            assert!(c.len() >= 4, "{}: {} choices", e.id, c.len());
            assert_eq!(c.iter().filter(|p| p.id == e.playbook.id).count(), 1);
            let ids: std::collections::HashSet<_> = c.iter().map(|p| p.id).collect();
            assert_eq!(ids.len(), c.len(), "no duplicate choice");
            assert_eq!(
                c.iter().map(|p| p.id).collect::<Vec<_>>(),
                choices(&e).iter().map(|p| p.id).collect::<Vec<_>>()
            );
        }
        // The answer is not always first.
        let firsts = curriculum()
            .iter()
            .filter(|e| choices(e)[0].id == e.playbook.id)
            .count();
        assert!(
            firsts < curriculum().len() / 2,
            "answer first {firsts} times"
        );
    }

    #[test]
    fn typed_answers_match_by_code_id_or_title_words() {
        assert_eq!(
            match_answer("NET-08").map(|p| p.id),
            Some("service-no-endpoints")
        );
        assert_eq!(match_answer("crashloop").map(|p| p.id), Some("crashloop"));
        assert_eq!(
            match_answer("service targetPort does not match container port").map(|p| p.id),
            Some("service-port-mismatch")
        );
        assert!(match_answer("   ").is_none());
        assert!(match_answer("bananas everywhere").is_none());
    }
}
