//! The kubeadm core: namespaces, nodes, node leases, static control-plane pods, leader and
//! apiserver identity leases, the `default/kubernetes` Service and kubeadm's ConfigMaps.

use base64::Engine;
use serde_json::{Value, json};

use super::{
    CLUSTER_AGE, Cluster, Cni, ContainerDef, NodeInfo, PodDef, UPGRADE_AGE, ago, ago_micros,
    hash64, hex, http_probe, kv, object, uid,
};

pub(super) fn build(c: &mut Cluster) {
    namespaces(c);
    priority_classes(c);
    let nodes = c.nodes.clone();
    for n in &nodes {
        node(c, n);
    }
    for n in &nodes {
        node_lease(c, n);
    }
    for n in nodes.iter().filter(|n| n.control_plane) {
        static_pods(c, n);
    }
    leader_leases(c);
    for n in nodes.iter().filter(|n| n.control_plane) {
        apiserver_lease(c, n);
    }
    kubernetes_service(c);
    config_maps(c);
}

/// The namespaces of the cluster, with a `default` ServiceAccount each.
fn namespaces(c: &mut Cluster) {
    let mut list = vec![
        ("default", CLUSTER_AGE),
        ("kube-node-lease", CLUSTER_AGE),
        ("kube-public", CLUSTER_AGE),
        ("kube-system", CLUSTER_AGE),
        ("ingress-nginx", CLUSTER_AGE - 2 * 3600),
    ];
    if c.opts.cni == Cni::Flannel {
        list.push(("kube-flannel", CLUSTER_AGE - 1500));
    }
    if c.opts.apps {
        list.push(("monitoring", CLUSTER_AGE - 3 * 3600));
        list.push(("shop", CLUSTER_AGE - 4 * 3600));
    }
    for (ns, age) in list {
        let mut o = object("v1", "Namespace", None, ns, age);
        o["metadata"]["labels"] = kv(&[("kubernetes.io/metadata.name", ns)]);
        o["spec"] = json!({"finalizers": ["kubernetes"]});
        o["status"] = json!({"phase": "Active"});
        c.push(o);
        c.push(object("v1", "ServiceAccount", Some(ns), "default", age));
        let mut ca = object("v1", "ConfigMap", Some(ns), "kube-root-ca.crt", age);
        ca["metadata"]["annotations"] = kv(&[(
            "kubernetes.io/description",
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
        )]);
        ca["data"] = json!({"ca.crt": fake_ca_pem()});
        c.push(ca);
    }
}

fn priority_classes(c: &mut Cluster) {
    for (name, value, desc) in [
        (
            "system-cluster-critical",
            2_000_000_000,
            "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
        ),
        (
            "system-node-critical",
            2_000_001_000,
            "Used for system critical pods that must not be moved from their current node.",
        ),
    ] {
        let mut o = object(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            None,
            name,
            CLUSTER_AGE,
        );
        o["description"] = json!(desc);
        o["preemptionPolicy"] = json!("PreemptLowerPriority");
        o["value"] = json!(value);
        c.push(o);
    }
}

/// Seconds since the kubelet last posted node status (it does every 5 minutes when nothing changed).
pub(super) fn heartbeat_age(node: &str) -> i64 {
    40 + (hash64(&[node, "heartbeat"]) % 200) as i64
}

fn node(c: &mut Cluster, n: &NodeInfo) {
    let mut o = object("v1", "Node", None, &n.name, n.created_ago);
    let mut labels = kv(&[
        ("beta.kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", &n.name),
        ("kubernetes.io/os", "linux"),
        ("topology.kubernetes.io/zone", &n.zone),
    ]);
    let mut annotations = kv(&[
        (
            "kubeadm.alpha.kubernetes.io/cri-socket",
            "unix:///var/run/containerd/containerd.sock",
        ),
        ("node.alpha.kubernetes.io/ttl", "0"),
        (
            "volumes.kubernetes.io/controller-managed-attach-detach",
            "true",
        ),
    ]);
    if n.control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
    }
    // The CNI came up a minute after the node joined, or when its manifest was applied.
    let cni_up = (n.created_ago - 60).min(super::addons::CNI_AGE - 60);
    let network = match c.opts.cni {
        Cni::Calico => {
            annotations["projectcalico.org/IPv4Address"] = json!(format!("{}/24", n.ip));
            annotations["projectcalico.org/IPv4IPIPTunnelAddr"] =
                json!(n.pod_cidr.replace(".0/24", ".1"));
            Some(("CalicoIsUp", "Calico is running on this node"))
        }
        Cni::Flannel => {
            annotations["flannel.alpha.coreos.com/backend-data"] =
                json!(format!("{{\"VNI\":1,\"VtepMAC\":\"{}\"}}", mac(&n.name)));
            annotations["flannel.alpha.coreos.com/backend-type"] = json!("vxlan");
            annotations["flannel.alpha.coreos.com/kube-subnet-manager"] = json!("true");
            annotations["flannel.alpha.coreos.com/public-ip"] = json!(n.ip);
            Some(("FlannelIsUp", "Flannel is running on this node"))
        }
        Cni::None => None,
    };
    o["metadata"]["labels"] = labels;
    o["metadata"]["annotations"] = annotations;
    let mut spec = json!({"podCIDR": n.pod_cidr, "podCIDRs": [n.pod_cidr]});
    let mut taints = Vec::new();
    if n.control_plane {
        taints
            .push(json!({"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}));
    }
    if c.opts.cni == Cni::None {
        taints.push(json!({"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}));
    }
    if !taints.is_empty() {
        spec["taints"] = json!(taints);
    }
    o["spec"] = spec;

    let hb = ago(heartbeat_age(&n.name));
    let since = ago(n.created_ago - 5);
    let cond = |t: &str, status: &str, reason: &str, msg: &str, trans: &str| json!({"lastHeartbeatTime": hb, "lastTransitionTime": trans, "message": msg, "reason": reason, "status": status, "type": t});
    let mut conditions = Vec::new();
    if let Some((reason, msg)) = network {
        conditions.push(json!({"lastHeartbeatTime": ago(cni_up), "lastTransitionTime": ago(cni_up), "message": msg, "reason": reason, "status": "False", "type": "NetworkUnavailable"}));
    }
    conditions.push(cond(
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
        &since,
    ));
    conditions.push(cond(
        "DiskPressure",
        "False",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
        &since,
    ));
    conditions.push(cond(
        "PIDPressure",
        "False",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
        &since,
    ));
    conditions.push(if c.opts.cni == Cni::None {
        cond("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", &since)
    } else {
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status", &ago(cni_up - 5))
    });
    let (cpu, mem, mem_alloc) = if n.control_plane {
        ("4", "8131548Ki", "8029148Ki")
    } else {
        ("8", "32863076Ki", "32760676Ki")
    };
    o["status"] = json!({
        "addresses": [{"address": n.ip, "type": "InternalIP"}, {"address": n.name, "type": "Hostname"}],
        "allocatable": {"cpu": cpu, "ephemeral-storage": "93478772582", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": mem_alloc, "pods": "110"},
        "capacity": {"cpu": cpu, "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": mem, "pods": "110"},
        "conditions": conditions,
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "bootID": uid(&["boot", &n.name]),
            "containerRuntimeVersion": "containerd://1.7.22",
            "kernelVersion": "5.15.0-126-generic",
            "kubeProxyVersion": "",
            "kubeletVersion": c.opts.version,
            "machineID": hex(&format!("machine/{}", n.name), 32),
            "operatingSystem": "linux",
            "osImage": "Ubuntu 22.04.5 LTS",
            "systemUUID": uid(&["system", &n.name]),
        },
        "runtimeHandlers": [
            {"features": {"recursiveReadOnlyMounts": true}, "name": "runc"},
            {"features": {"recursiveReadOnlyMounts": true}, "name": ""},
        ],
    });
    c.push(o);
}

fn mac(seed: &str) -> String {
    let h = hex(&format!("mac/{seed}"), 10);
    format!(
        "be:{}:{}:{}:{}:{}",
        &h[0..2],
        &h[2..4],
        &h[4..6],
        &h[6..8],
        &h[8..10]
    )
}

/// Microseconds a renewTime lags behind the epoch: `base_ms` plus a per-name jitter.
pub(super) fn renew_lag(name: &str, base_ms: i64, spread_ms: i64) -> i64 {
    (base_ms + (hash64(&[name, "renew"]) % spread_ms.max(1) as u64) as i64) * 1000
        + (hash64(&[name, "us"]) % 1000) as i64
}

fn node_lease(c: &mut Cluster, n: &NodeInfo) {
    let mut o = object(
        "coordination.k8s.io/v1",
        "Lease",
        Some("kube-node-lease"),
        &n.name,
        n.created_ago - 2,
    );
    let node_uid = uid(&["Node", "", &n.name]);
    o["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "Node", "name": n.name, "uid": node_uid}]);
    o["spec"] = json!({
        "holderIdentity": n.name,
        "leaseDurationSeconds": 40,
        "renewTime": ago_micros(renew_lag(&n.name, 500, 9000)),
    });
    c.push(o);
}

fn host_path(name: &str, path: &str, type_: &str, read_only: bool) -> (Value, Value) {
    let mut mount = json!({"mountPath": path, "name": name});
    if read_only {
        mount["readOnly"] = json!(true);
    }
    (
        json!({"hostPath": {"path": path, "type": type_}, "name": name}),
        mount,
    )
}

fn cert_volumes() -> Vec<(Value, Value)> {
    vec![
        host_path("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate", true),
        host_path(
            "etc-ca-certificates",
            "/etc/ca-certificates",
            "DirectoryOrCreate",
            true,
        ),
        host_path(
            "k8s-certs",
            "/etc/kubernetes/pki",
            "DirectoryOrCreate",
            true,
        ),
        host_path(
            "usr-local-share-ca-certificates",
            "/usr/local/share/ca-certificates",
            "DirectoryOrCreate",
            true,
        ),
        host_path(
            "usr-share-ca-certificates",
            "/usr/share/ca-certificates",
            "DirectoryOrCreate",
            true,
        ),
    ]
}

/// The flags kubeadm writes into /etc/kubernetes/manifests, per component.
pub(super) fn static_pod_command(c: &Cluster, component: &str, n: &NodeInfo) -> Vec<String> {
    let flags: Vec<String> = match component {
        "kube-apiserver" => vec![
            format!("--advertise-address={}", n.ip),
            "--allow-privileged=true".into(),
            "--authorization-mode=Node,RBAC".into(),
            "--client-ca-file=/etc/kubernetes/pki/ca.crt".into(),
            "--enable-admission-plugins=NodeRestriction".into(),
            "--enable-bootstrap-token-auth=true".into(),
            "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt".into(),
            "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt".into(),
            "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key".into(),
            "--etcd-servers=https://127.0.0.1:2379".into(),
            "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt".into(),
            "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key".into(),
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname".into(),
            "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt".into(),
            "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key".into(),
            "--requestheader-allowed-names=front-proxy-client".into(),
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt".into(),
            "--requestheader-extra-headers-prefix=X-Remote-Extra-".into(),
            "--requestheader-group-headers=X-Remote-Group".into(),
            "--requestheader-username-headers=X-Remote-User".into(),
            "--secure-port=6443".into(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            "--service-account-key-file=/etc/kubernetes/pki/sa.pub".into(),
            "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key".into(),
            format!("--service-cluster-ip-range={}", c.opts.service_subnet),
            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt".into(),
            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key".into(),
        ],
        "kube-controller-manager" => vec![
            "--allocate-node-cidrs=true".into(),
            "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf".into(),
            "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf".into(),
            "--bind-address=127.0.0.1".into(),
            "--client-ca-file=/etc/kubernetes/pki/ca.crt".into(),
            format!("--cluster-cidr={}", c.opts.pod_subnet),
            "--cluster-name=kubernetes".into(),
            "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt".into(),
            "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key".into(),
            "--controllers=*,bootstrapsigner,tokencleaner".into(),
            "--kubeconfig=/etc/kubernetes/controller-manager.conf".into(),
            "--leader-elect=true".into(),
            "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt".into(),
            "--root-ca-file=/etc/kubernetes/pki/ca.crt".into(),
            "--service-account-private-key-file=/etc/kubernetes/pki/sa.key".into(),
            format!("--service-cluster-ip-range={}", c.opts.service_subnet),
            "--use-service-account-credentials=true".into(),
        ],
        "kube-scheduler" => vec![
            "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf".into(),
            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf".into(),
            "--bind-address=127.0.0.1".into(),
            "--kubeconfig=/etc/kubernetes/scheduler.conf".into(),
            "--leader-elect=true".into(),
        ],
        _ => {
            // etcd: the first member bootstraps the cluster, the others join it in order.
            let members: Vec<String> = c
                .nodes
                .iter()
                .filter(|m| m.control_plane && m.index <= n.index)
                .map(|m| format!("{}=https://{}:2380", m.name, m.ip))
                .collect();
            let mut f = vec![
                format!("--advertise-client-urls=https://{}:2379", n.ip),
                "--cert-file=/etc/kubernetes/pki/etcd/server.crt".into(),
                "--client-cert-auth=true".into(),
                "--data-dir=/var/lib/etcd".into(),
                "--experimental-initial-corrupt-check=true".into(),
                "--experimental-watch-progress-notify-interval=5s".into(),
                format!("--initial-advertise-peer-urls=https://{}:2380", n.ip),
                format!("--initial-cluster={}", members.join(",")),
            ];
            if n.index > 0 {
                f.push("--initial-cluster-state=existing".into());
            }
            f.extend([
                "--key-file=/etc/kubernetes/pki/etcd/server.key".into(),
                format!(
                    "--listen-client-urls=https://127.0.0.1:2379,https://{}:2379",
                    n.ip
                ),
                "--listen-metrics-urls=http://127.0.0.1:2381".into(),
                format!("--listen-peer-urls=https://{}:2380", n.ip),
                format!("--name={}", n.name),
                "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt".into(),
                "--peer-client-cert-auth=true".into(),
                "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key".into(),
                "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt".into(),
                "--snapshot-count=10000".into(),
                "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt".into(),
            ]);
            f
        }
    };
    std::iter::once(component.to_string())
        .chain(flags)
        .collect()
}

/// Image, CPU and memory requests, [liveness, readiness, startup], volumes, age.
type StaticPodParts = (
    String,
    &'static str,
    Option<&'static str>,
    [Option<Value>; 3],
    Vec<(Value, Value)>,
    i64,
);

/// kube-apiserver, kube-controller-manager, kube-scheduler and etcd mirror pods of one node.
fn static_pods(c: &mut Cluster, n: &NodeInfo) {
    let node_obj = c.find("Node", None, &n.name).cloned();
    // `kubeadm upgrade apply` rewrote the manifests node by node, 6 days ago; etcd kept its
    // version, so its pod dates from the node's join.
    let upgraded = UPGRADE_AGE - 240 * n.index as i64;
    let v = c.opts.version.clone();
    for component in [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        let (image, cpu, mem, probes, vols, created): StaticPodParts = match component {
            "kube-apiserver" => (
                format!("registry.k8s.io/kube-apiserver:{v}"),
                "250m",
                None,
                [
                    Some(http_probe(
                        Some(&n.ip),
                        "/livez",
                        json!(6443),
                        "HTTPS",
                        [8, 10, 10, 15],
                    )),
                    Some(http_probe(
                        Some(&n.ip),
                        "/readyz",
                        json!(6443),
                        "HTTPS",
                        [3, 0, 1, 15],
                    )),
                    Some(http_probe(
                        Some(&n.ip),
                        "/livez",
                        json!(6443),
                        "HTTPS",
                        [24, 10, 10, 15],
                    )),
                ],
                cert_volumes(),
                upgraded,
            ),
            "kube-controller-manager" => {
                let mut vols = cert_volumes();
                vols.insert(
                    2,
                    host_path(
                        "flexvolume-dir",
                        "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                        "DirectoryOrCreate",
                        false,
                    ),
                );
                vols.push(host_path(
                    "kubeconfig",
                    "/etc/kubernetes/controller-manager.conf",
                    "FileOrCreate",
                    true,
                ));
                (
                    format!("registry.k8s.io/kube-controller-manager:{v}"),
                    "200m",
                    None,
                    [
                        Some(http_probe(
                            Some("127.0.0.1"),
                            "/healthz",
                            json!(10257),
                            "HTTPS",
                            [8, 10, 10, 15],
                        )),
                        None,
                        Some(http_probe(
                            Some("127.0.0.1"),
                            "/healthz",
                            json!(10257),
                            "HTTPS",
                            [24, 10, 10, 15],
                        )),
                    ],
                    vols,
                    upgraded - 60,
                )
            }
            "kube-scheduler" => (
                format!("registry.k8s.io/kube-scheduler:{v}"),
                "100m",
                None,
                [
                    Some(http_probe(
                        Some("127.0.0.1"),
                        "/healthz",
                        json!(10259),
                        "HTTPS",
                        [8, 10, 10, 15],
                    )),
                    None,
                    Some(http_probe(
                        Some("127.0.0.1"),
                        "/healthz",
                        json!(10259),
                        "HTTPS",
                        [24, 10, 10, 15],
                    )),
                ],
                vec![host_path(
                    "kubeconfig",
                    "/etc/kubernetes/scheduler.conf",
                    "FileOrCreate",
                    true,
                )],
                upgraded - 90,
            ),
            _ => (
                "registry.k8s.io/etcd:3.5.15-0".into(),
                "100m",
                Some("100Mi"),
                [
                    Some(http_probe(
                        Some("127.0.0.1"),
                        "/livez",
                        json!(2381),
                        "HTTP",
                        [8, 10, 10, 15],
                    )),
                    Some(http_probe(
                        Some("127.0.0.1"),
                        "/readyz",
                        json!(2381),
                        "HTTP",
                        [3, 0, 1, 15],
                    )),
                    Some(http_probe(
                        Some("127.0.0.1"),
                        "/readyz",
                        json!(2381),
                        "HTTP",
                        [24, 10, 10, 15],
                    )),
                ],
                vec![
                    host_path(
                        "etcd-certs",
                        "/etc/kubernetes/pki/etcd",
                        "DirectoryOrCreate",
                        false,
                    ),
                    host_path("etcd-data", "/var/lib/etcd", "DirectoryOrCreate", false),
                ],
                n.created_ago - 30,
            ),
        };
        let mut requests = json!({"cpu": cpu});
        if let Some(m) = mem {
            requests["memory"] = json!(m);
        }
        let [liveness, readiness, startup] = probes;
        let mut container = ContainerDef::new(component, &image);
        container.command = static_pod_command(c, component, n);
        container.resources = json!({"requests": requests});
        container.liveness = liveness;
        container.readiness = readiness;
        container.startup = startup;
        container.volume_mounts = vols.iter().map(|(_, m)| m.clone()).collect();
        let hash = hex(&format!("{component}/{}/{v}", n.name), 32);
        let seen = format!(
            "{}.{:09}Z",
            &ago(created + 2)[..19],
            hash64(&[&hash]) % 1_000_000_000
        );
        let mut annotations = kv(&[
            ("kubernetes.io/config.hash", &hash),
            ("kubernetes.io/config.mirror", &hash),
            ("kubernetes.io/config.seen", &seen),
            ("kubernetes.io/config.source", "file"),
        ]);
        if component == "kube-apiserver" {
            annotations["kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] =
                json!(format!("{}:6443", n.ip));
        }
        if component == "etcd" {
            annotations["kubeadm.kubernetes.io/etcd.advertise-client-urls"] =
                json!(format!("https://{}:2379", n.ip));
        }
        let def = PodDef {
            namespace: "kube-system".into(),
            name: format!("{component}-{}", n.name),
            node: n.name.clone(),
            labels: kv(&[("component", component), ("tier", "control-plane")]),
            annotations,
            owner: node_obj.clone(),
            containers: vec![container],
            host_network: true,
            created_ago: created,
            priority_class: Some("system-node-critical".into()),
            tolerations: vec![json!({"effect": "NoExecute", "operator": "Exists"})],
            volumes: vols.into_iter().map(|(v, _)| v).collect(),
            security_context: Some(json!({"seccompProfile": {"type": "RuntimeDefault"}})),
            ..Default::default()
        };
        c.add_pod(&def);
    }
}

/// When cp-1 took the leader lease of `component` back: the upgrade restarted cp-1's
/// instance first (the lease went to cp-2), then cp-2's, and 17 s later the lease expired
/// into cp-1's hands (`leaseTransitions: 2`).
pub(super) fn leader_acquired_ago(component: &str) -> i64 {
    let restart = if component == "kube-scheduler" {
        90
    } else {
        60
    };
    UPGRADE_AGE - 240 - restart - 17
}

/// The holder identity a leader-elected component on `node` uses.
pub fn leader_holder(component: &str, node: &str) -> String {
    format!("{node}_{}", uid(&[component, node, "holder"]))
}

fn leader_leases(c: &mut Cluster) {
    let Some(leader) = c.nodes.iter().find(|n| n.control_plane).cloned() else {
        return;
    };
    for component in ["kube-controller-manager", "kube-scheduler"] {
        let mut o = object(
            "coordination.k8s.io/v1",
            "Lease",
            Some("kube-system"),
            component,
            CLUSTER_AGE - 40,
        );
        o["spec"] = json!({
            "acquireTime": ago_micros(leader_acquired_ago(component) * 1_000_000 - 412_345),
            "holderIdentity": leader_holder(component, &leader.name),
            "leaseDurationSeconds": 15,
            "leaseTransitions": if c.opts.control_planes > 1 { 2 } else { 0 },
            "renewTime": ago_micros(renew_lag(component, 100, 1800)),
        });
        c.push(o);
    }
}

/// The identity lease name the apiserver on `node` uses (`apiserver-` + 26 base32 chars).
pub fn apiserver_lease_name(node: &str) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let h = hex(&format!("apiserver-identity/{node}"), 52);
    let s: String = h
        .as_bytes()
        .chunks(2)
        .map(|p| char::from(alphabet[(usize::from(p[0]) * 7 + usize::from(p[1])) % 32]))
        .collect();
    format!("apiserver-{s}")
}

fn apiserver_lease(c: &mut Cluster, n: &NodeInfo) {
    let name = apiserver_lease_name(&n.name);
    let mut o = object(
        "coordination.k8s.io/v1",
        "Lease",
        Some("kube-system"),
        &name,
        n.created_ago - 20,
    );
    o["metadata"]["labels"] = kv(&[
        ("apiserver.kubernetes.io/identity", "kube-apiserver"),
        ("kubernetes.io/hostname", &n.name),
    ]);
    o["spec"] = json!({
        "holderIdentity": format!("{name}_{}", uid(&["apiserver-holder", &n.name])),
        "leaseDurationSeconds": 3600,
        "renewTime": ago_micros(renew_lag(&name, 200, 9000)),
    });
    c.push(o);
}

fn kubernetes_service(c: &mut Cluster) {
    let ip = c.service_ip(1);
    let mut svc = object("v1", "Service", Some("default"), "kubernetes", CLUSTER_AGE);
    svc["metadata"]["labels"] = kv(&[("component", "apiserver"), ("provider", "kubernetes")]);
    svc["spec"] = json!({
        "clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        "sessionAffinity": "None", "type": "ClusterIP",
    });
    svc["status"] = json!({"loadBalancer": {}});
    c.push(svc);
    let ips: Vec<String> = c
        .nodes
        .iter()
        .filter(|n| n.control_plane)
        .map(|n| n.ip.clone())
        .collect();
    let mut ep = object(
        "v1",
        "Endpoints",
        Some("default"),
        "kubernetes",
        CLUSTER_AGE,
    );
    ep["metadata"]["labels"] = kv(&[("endpointslice.kubernetes.io/skip-mirror", "true")]);
    ep["subsets"] = json!([{
        "addresses": ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>(),
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
    }]);
    c.push(ep);
    let mut es = object(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        Some("default"),
        "kubernetes",
        CLUSTER_AGE,
    );
    es["metadata"]["labels"] = kv(&[("kubernetes.io/service-name", "kubernetes")]);
    es["addressType"] = json!("IPv4");
    es["endpoints"] = json!(
        ips.iter()
            .map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}}))
            .collect::<Vec<_>>()
    );
    es["ports"] = json!([{"name": "https", "port": 6443, "protocol": "TCP"}]);
    c.push(es);
}

/// A stand-in cluster CA certificate in PEM (not a parseable certificate: the embedded
/// server serves its own CA; this only fills the fields that carry one).
pub(super) fn fake_ca_pem() -> String {
    let body =
        base64::engine::general_purpose::STANDARD.encode(hex("ktriage-scenario-ca", 96).as_bytes());
    format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
}

/// [`fake_ca_pem`] base64-encoded, as kubeconfigs and caBundles carry it.
pub(super) fn fake_ca_data() -> String {
    base64::engine::general_purpose::STANDARD.encode(fake_ca_pem())
}

fn config_map(c: &mut Cluster, ns: &str, name: &str, age: i64, data: Value) {
    let mut o = object("v1", "ConfigMap", Some(ns), name, age);
    o["data"] = data;
    c.push(o);
}

fn config_maps(c: &mut Cluster) {
    let endpoint = c.opts.control_plane_endpoint.clone();
    let host = endpoint.split(':').next().unwrap_or_default().to_string();
    let cluster_config = format!(
        "apiServer:\n  certSANs:\n  - {host}\n  - 10.0.0.10\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\ncertificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrolPlaneEndpoint: {endpoint}\ncontrollerManager: {{}}\ndns: {{}}\nencryptionAlgorithm: RSA-2048\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: {}\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: {}\n  serviceSubnet: {}\nproxy: {{}}\nscheduler: {{}}\n",
        c.opts.version, c.opts.pod_subnet, c.opts.service_subnet
    );
    config_map(
        c,
        "kube-system",
        "kubeadm-config",
        CLUSTER_AGE,
        json!({"ClusterConfiguration": cluster_config}),
    );
    let kubelet = format!(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n    enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\nauthorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 0s\n    cacheUnauthorizedTTL: 0s\ncgroupDriver: systemd\nclusterDNS:\n- {}\nclusterDomain: cluster.local\ncontainerRuntimeEndpoint: \"\"\ncpuManagerReconcilePeriod: 0s\nevictionPressureTransitionPeriod: 0s\nfileCheckFrequency: 0s\nhealthzBindAddress: 127.0.0.1\nhealthzPort: 10248\nhttpCheckFrequency: 0s\nimageMaximumGCAge: 0s\nimageMinimumGCAge: 0s\nkind: KubeletConfiguration\nlogging:\n  flushFrequency: 0\n  options:\n    json:\n      infoBufferSize: \"0\"\n    text:\n      infoBufferSize: \"0\"\n  verbosity: 0\nmemorySwap: {{}}\nnodeStatusReportFrequency: 0s\nnodeStatusUpdateFrequency: 0s\nrotateCertificates: true\nruntimeRequestTimeout: 0s\nshutdownGracePeriod: 0s\nshutdownGracePeriodCriticalPods: 0s\nstaticPodPath: /etc/kubernetes/manifests\nstreamingConnectionIdleTimeout: 0s\nsyncFrequency: 0s\nvolumeStatsAggPeriod: 0s\n",
        c.dns_ip()
    );
    config_map(
        c,
        "kube-system",
        "kubelet-config",
        CLUSTER_AGE,
        json!({"kubelet": kubelet}),
    );
    let kubeconfig = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: https://{endpoint}\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {{}}\nusers: null\n",
        fake_ca_data()
    );
    config_map(
        c,
        "kube-public",
        "cluster-info",
        CLUSTER_AGE,
        json!({"kubeconfig": kubeconfig}),
    );
    config_map(
        c,
        "kube-system",
        "extension-apiserver-authentication",
        CLUSTER_AGE,
        json!({
            "client-ca-file": fake_ca_pem(),
            "requestheader-allowed-names": "[\"front-proxy-client\"]",
            "requestheader-client-ca-file": fake_ca_pem(),
            "requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]",
            "requestheader-group-headers": "[\"X-Remote-Group\"]",
            "requestheader-username-headers": "[\"X-Remote-User\"]",
        }),
    );
}
