//! Add-ons as kubeadm and the usual manifests install them: CoreDNS, kube-proxy, the CNI
//! (Calico or flannel), metrics-server and ingress-nginx, with their ServiceAccounts,
//! ConfigMaps and Services.

use serde_json::{Value, json};

use super::{
    CLUSTER_AGE, Cluster, Cni, ContainerDef, PodDef, ServiceDef, SvcPort, UPGRADE_AGE, WorkloadDef,
    http_probe, kv, object,
};

/// When the CNI manifest was applied, right after `kubeadm init`.
pub(super) const CNI_AGE: i64 = CLUSTER_AGE - 1500;

pub(super) fn build(c: &mut Cluster) {
    coredns(c);
    kube_proxy(c);
    match c.opts.cni {
        Cni::Calico => calico(c),
        Cni::Flannel => flannel(c),
        Cni::None => {}
    }
    metrics_server(c);
    ingress_nginx(c);
}

fn service_account(c: &mut Cluster, ns: &str, name: &str, age: i64) {
    c.push(object("v1", "ServiceAccount", Some(ns), name, age));
}

fn exec_probe(cmd: &[&str], failure: i64, initial: i64, period: i64, timeout: i64) -> Value {
    json!({"exec": {"command": cmd}, "failureThreshold": failure, "initialDelaySeconds": initial, "periodSeconds": period, "successThreshold": 1, "timeoutSeconds": timeout})
}

fn field_env(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
}

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn config_map(c: &mut Cluster, ns: &str, name: &str, age: i64, labels: Value, data: Value) {
    let mut o = object("v1", "ConfigMap", Some(ns), name, age);
    if labels.is_object() {
        o["metadata"]["labels"] = labels;
    }
    o["data"] = data;
    c.push(o);
}

fn all_nodes(c: &Cluster) -> Vec<String> {
    c.nodes.iter().map(|n| n.name.clone()).collect()
}

fn first_cp(c: &Cluster) -> String {
    c.nodes
        .iter()
        .find(|n| n.control_plane)
        .map(|n| n.name.clone())
        .unwrap_or_default()
}

fn worker_or_cp(c: &Cluster, i: usize) -> String {
    let w = c.worker_nodes();
    if w.is_empty() {
        first_cp(c)
    } else {
        w[i % w.len()].name.clone()
    }
}

pub(super) const COREFILE: &str = ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30 {\n       disable success cluster.local\n       disable denial cluster.local\n    }\n    loop\n    reload\n    loadbalance\n}\n";

fn coredns(c: &mut Cluster) {
    service_account(c, "kube-system", "coredns", CLUSTER_AGE);
    config_map(
        c,
        "kube-system",
        "coredns",
        CLUSTER_AGE,
        Value::Null,
        json!({"Corefile": COREFILE}),
    );
    let mut ctr = ContainerDef::new("coredns", "registry.k8s.io/coredns/coredns:v1.11.3");
    ctr.args = vec!["-conf".into(), "/etc/coredns/Corefile".into()];
    ctr.ports = vec![
        json!({"containerPort": 53, "name": "dns", "protocol": "UDP"}),
        json!({"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"}),
        json!({"containerPort": 9153, "name": "metrics", "protocol": "TCP"}),
    ];
    ctr.resources =
        json!({"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}});
    ctr.liveness = Some(http_probe(
        None,
        "/health",
        json!(8080),
        "HTTP",
        [5, 60, 10, 5],
    ));
    ctr.readiness = Some(http_probe(
        None,
        "/ready",
        json!(8181),
        "HTTP",
        [3, 0, 10, 1],
    ));
    ctr.security_context = Some(
        json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "readOnlyRootFilesystem": true}),
    );
    ctr.volume_mounts =
        vec![json!({"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": true})];
    let cp = first_cp(c);
    let template = PodDef {
        containers: vec![ctr],
        service_account: Some("coredns".into()),
        priority_class: Some("system-cluster-critical".into()),
        dns_policy: Some("Default".into()),
        node_selector: kv(&[("kubernetes.io/os", "linux")]),
        tolerations: vec![
            json!({"key": "CriticalAddonsOnly", "operator": "Exists"}),
            json!({"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}),
        ],
        affinity: Some(
            json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]}, "topologyKey": "kubernetes.io/hostname"}, "weight": 100}]}}),
        ),
        volumes: vec![
            json!({"configMap": {"defaultMode": 420, "items": [{"key": "Corefile", "path": "Corefile"}], "name": "coredns"}, "name": "config-volume"}),
        ],
        ..Default::default()
    };
    // Both replicas landed on the first control-plane node: it was the only node when the
    // CNI came up (a common sight on kubeadm clusters).
    c.add_deployment(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "coredns".into(),
        selector: kv(&[("k8s-app", "kube-dns")]),
        labels: kv(&[("k8s-app", "kube-dns")]),
        template,
        created_ago: CLUSTER_AGE,
        revision: 1,
        nodes: vec![cp.clone(), cp],
        pods_created_ago: CNI_AGE - 70,
        annotations: Value::Null,
    });
    let dns_ip = c.dns_ip();
    c.add_service(&ServiceDef {
        labels: kv(&[
            ("k8s-app", "kube-dns"),
            ("kubernetes.io/cluster-service", "true"),
            ("kubernetes.io/name", "CoreDNS"),
        ]),
        cluster_ip: Some(dns_ip),
        ..ServiceDef::new(
            "kube-system",
            "kube-dns",
            kv(&[("k8s-app", "kube-dns")]),
            vec![
                SvcPort {
                    name: "dns",
                    port: 53,
                    target: 53,
                    protocol: "UDP",
                    node_port: None,
                },
                SvcPort::tcp("dns-tcp", 53, 53),
                SvcPort::tcp("metrics", 9153, 9153),
            ],
            CLUSTER_AGE,
        )
    });
    if let Some(svc) = c.find_mut("Service", Some("kube-system"), "kube-dns") {
        svc["metadata"]["annotations"] = kv(&[
            ("prometheus.io/port", "9153"),
            ("prometheus.io/scrape", "true"),
        ]);
    }
}

fn kube_proxy(c: &mut Cluster) {
    service_account(c, "kube-system", "kube-proxy", CLUSTER_AGE);
    let config = format!(
        "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\nbindAddressHardFail: false\nclientConnection:\n  acceptContentTypes: \"\"\n  burst: 0\n  contentType: \"\"\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n  qps: 0\nclusterCIDR: {}\nconfigSyncPeriod: 0s\nconntrack:\n  maxPerCore: null\n  min: null\n  tcpBeLiberal: false\n  tcpCloseWaitTimeout: null\n  tcpEstablishedTimeout: null\n  udpStreamTimeout: 0s\n  udpTimeout: 0s\ndetectLocal:\n  bridgeInterface: \"\"\n  interfaceNamePrefix: \"\"\ndetectLocalMode: \"\"\nenableProfiling: false\nhealthzBindAddress: \"\"\nhostnameOverride: \"\"\niptables:\n  localhostNodePorts: null\n  masqueradeAll: false\n  masqueradeBit: null\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs:\n  excludeCIDRs: null\n  minSyncPeriod: 0s\n  scheduler: \"\"\n  strictARP: false\n  syncPeriod: 0s\n  tcpFinTimeout: 0s\n  tcpTimeout: 0s\n  udpTimeout: 0s\nkind: KubeProxyConfiguration\nlogging:\n  flushFrequency: 0\n  options:\n    json:\n      infoBufferSize: \"0\"\n    text:\n      infoBufferSize: \"0\"\n  verbosity: 0\nmetricsBindAddress: \"\"\nmode: \"\"\nnftables:\n  masqueradeAll: false\n  masqueradeBit: null\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nnodePortAddresses: null\noomScoreAdj: null\nportRange: \"\"\nshowHiddenMetricsForVersion: \"\"\nwinkernel:\n  enableDSR: false\n  forwardHealthCheckVip: false\n  networkName: \"\"\n  rootHnsEndpointName: \"\"\n  sourceVip: \"\"",
        c.opts.pod_subnet
    );
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt\n    server: https://{}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    namespace: default\n    user: default\n  name: default\ncurrent-context: default\nusers:\n- name: default\n  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token",
        c.opts.control_plane_endpoint
    );
    config_map(
        c,
        "kube-system",
        "kube-proxy",
        CLUSTER_AGE,
        kv(&[("app", "kube-proxy")]),
        json!({"config.conf": config, "kubeconfig.conf": kubeconfig}),
    );
    let mut ctr = ContainerDef::new(
        "kube-proxy",
        &format!("registry.k8s.io/kube-proxy:{}", c.opts.version),
    );
    ctr.command = vec![
        "/usr/local/bin/kube-proxy".into(),
        "--config=/var/lib/kube-proxy/config.conf".into(),
        "--hostname-override=$(NODE_NAME)".into(),
    ];
    ctr.env = vec![field_env("NODE_NAME", "spec.nodeName")];
    ctr.security_context = Some(json!({"privileged": true}));
    ctr.volume_mounts = vec![
        json!({"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"}),
        json!({"mountPath": "/run/xtables.lock", "name": "xtables-lock"}),
        json!({"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": true}),
    ];
    let template = PodDef {
        containers: vec![ctr],
        host_network: true,
        service_account: Some("kube-proxy".into()),
        priority_class: Some("system-node-critical".into()),
        node_selector: kv(&[("kubernetes.io/os", "linux")]),
        tolerations: vec![json!({"operator": "Exists"})],
        volumes: vec![
            json!({"configMap": {"defaultMode": 420, "name": "kube-proxy"}, "name": "kube-proxy"}),
            json!({"hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}, "name": "xtables-lock"}),
            json!({"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"}),
        ],
        ..Default::default()
    };
    let nodes = all_nodes(c);
    // The upgrade to the current version rolled the DaemonSet (revision 2).
    c.add_daemonset(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "kube-proxy".into(),
        selector: kv(&[("k8s-app", "kube-proxy")]),
        labels: kv(&[("k8s-app", "kube-proxy")]),
        template,
        created_ago: CLUSTER_AGE,
        revision: 2,
        nodes,
        pods_created_ago: UPGRADE_AGE - 600,
        annotations: Value::Null,
    });
}

fn calico(c: &mut Cluster) {
    let v = "v3.28.2";
    for sa in [
        "calico-node",
        "calico-kube-controllers",
        "calico-cni-plugin",
    ] {
        service_account(c, "kube-system", sa, CNI_AGE);
    }
    config_map(
        c,
        "kube-system",
        "calico-config",
        CNI_AGE,
        Value::Null,
        json!({
            "calico_backend": "bird",
            "cni_network_config": "{\n  \"name\": \"k8s-pod-network\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"calico\",\n      \"log_level\": \"info\",\n      \"log_file_path\": \"/var/log/calico/cni/cni.log\",\n      \"datastore_type\": \"kubernetes\",\n      \"nodename\": \"__KUBERNETES_NODE_NAME__\",\n      \"mtu\": __CNI_MTU__,\n      \"ipam\": {\n          \"type\": \"calico-ipam\"\n      },\n      \"policy\": {\n          \"type\": \"k8s\"\n      },\n      \"kubernetes\": {\n          \"kubeconfig\": \"__KUBECONFIG_FILEPATH__\"\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"snat\": true,\n      \"capabilities\": {\"portMappings\": true}\n    },\n    {\n      \"type\": \"bandwidth\",\n      \"capabilities\": {\"bandwidth\": true}\n    }\n  ]\n}",
            "typha_service_name": "none",
            "veth_mtu": "0",
        }),
    );
    let mut node = ContainerDef::new("calico-node", &format!("docker.io/calico/node:{v}"));
    node.env = vec![
        env("DATASTORE_TYPE", "kubernetes"),
        env("WAIT_FOR_DATASTORE", "true"),
        field_env("NODENAME", "spec.nodeName"),
        json!({"name": "CALICO_NETWORKING_BACKEND", "valueFrom": {"configMapKeyRef": {"key": "calico_backend", "name": "calico-config"}}}),
        env("CLUSTER_TYPE", "k8s,bgp"),
        env("IP", "autodetect"),
        env("CALICO_IPV4POOL_IPIP", "Always"),
        env("CALICO_IPV4POOL_VXLAN", "Never"),
        env("CALICO_IPV4POOL_CIDR", &c.opts.pod_subnet),
        env("CALICO_DISABLE_FILE_LOGGING", "true"),
        env("FELIX_DEFAULTENDPOINTTOHOSTACTION", "ACCEPT"),
        env("FELIX_IPV6SUPPORT", "false"),
        env("FELIX_HEALTHENABLED", "true"),
    ];
    node.resources = json!({"requests": {"cpu": "250m"}});
    node.liveness = Some(exec_probe(
        &["/bin/calico-node", "-felix-live", "-bird-live"],
        6,
        10,
        10,
        10,
    ));
    node.readiness = Some(exec_probe(
        &["/bin/calico-node", "-felix-ready", "-bird-ready"],
        3,
        0,
        10,
        10,
    ));
    node.security_context = Some(json!({"privileged": true}));
    node.volume_mounts = [
        "/host/etc/cni/net.d",
        "/lib/modules",
        "/run/xtables.lock",
        "/var/run/calico",
        "/var/lib/calico",
        "/var/run/nodeagent",
        "/sys/fs/bpf",
        "/var/log/calico/cni",
    ]
    .iter()
    .zip([
        "cni-net-dir",
        "lib-modules",
        "xtables-lock",
        "var-run-calico",
        "var-lib-calico",
        "policysync",
        "bpffs",
        "cni-log-dir",
    ])
    .map(|(p, n)| json!({"mountPath": p, "name": n}))
    .collect();
    let init = |name: &str, image: &str, cmd: &[&str]| {
        let mut ic = ContainerDef::new(name, image);
        ic.command = cmd.iter().map(|s| s.to_string()).collect();
        ic.security_context = Some(json!({"privileged": true}));
        ic
    };
    let template = PodDef {
        containers: vec![node],
        init_containers: vec![
            init(
                "upgrade-ipam",
                &format!("docker.io/calico/cni:{v}"),
                &["/opt/cni/bin/calico-ipam", "-upgrade"],
            ),
            init(
                "install-cni",
                &format!("docker.io/calico/cni:{v}"),
                &["/opt/cni/bin/install"],
            ),
            init(
                "mount-bpffs",
                &format!("docker.io/calico/node:{v}"),
                &["calico-node", "-init", "-best-effort"],
            ),
        ],
        host_network: true,
        service_account: Some("calico-node".into()),
        priority_class: Some("system-node-critical".into()),
        node_selector: kv(&[("kubernetes.io/os", "linux")]),
        tolerations: vec![
            json!({"effect": "NoSchedule", "operator": "Exists"}),
            json!({"key": "CriticalAddonsOnly", "operator": "Exists"}),
            json!({"effect": "NoExecute", "operator": "Exists"}),
        ],
        volumes: [
            ("lib-modules", "/lib/modules"),
            ("var-run-calico", "/var/run/calico"),
            ("var-lib-calico", "/var/lib/calico"),
            ("xtables-lock", "/run/xtables.lock"),
            ("bpffs", "/sys/fs/bpf"),
            ("cni-bin-dir", "/opt/cni/bin"),
            ("cni-net-dir", "/etc/cni/net.d"),
            ("cni-log-dir", "/var/log/calico/cni"),
            ("policysync", "/var/run/nodeagent"),
        ]
        .iter()
        .map(|(n, p)| json!({"hostPath": {"path": p, "type": ""}, "name": n}))
        .collect(),
        ..Default::default()
    };
    let nodes = all_nodes(c);
    c.add_daemonset(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "calico-node".into(),
        selector: kv(&[("k8s-app", "calico-node")]),
        labels: kv(&[("k8s-app", "calico-node")]),
        template,
        created_ago: CNI_AGE,
        revision: 1,
        nodes,
        pods_created_ago: CNI_AGE - 5,
        annotations: Value::Null,
    });
    let mut kc = ContainerDef::new(
        "calico-kube-controllers",
        &format!("docker.io/calico/kube-controllers:{v}"),
    );
    kc.env = vec![
        env("ENABLED_CONTROLLERS", "node"),
        env("DATASTORE_TYPE", "kubernetes"),
    ];
    kc.liveness = Some(exec_probe(&["/usr/bin/check-status", "-l"], 6, 10, 10, 10));
    kc.readiness = Some(exec_probe(&["/usr/bin/check-status", "-r"], 3, 0, 10, 1));
    let cp = first_cp(c);
    c.add_deployment(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "calico-kube-controllers".into(),
        selector: kv(&[("k8s-app", "calico-kube-controllers")]),
        labels: kv(&[("k8s-app", "calico-kube-controllers")]),
        template: PodDef {
            containers: vec![kc],
            service_account: Some("calico-kube-controllers".into()),
            priority_class: Some("system-cluster-critical".into()),
            node_selector: kv(&[("kubernetes.io/os", "linux")]),
            tolerations: vec![
                json!({"key": "CriticalAddonsOnly", "operator": "Exists"}),
                json!({"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}),
            ],
            ..Default::default()
        },
        created_ago: CNI_AGE,
        revision: 1,
        nodes: vec![cp],
        pods_created_ago: CNI_AGE - 30,
        annotations: Value::Null,
    });
}

fn flannel(c: &mut Cluster) {
    let ns = "kube-flannel";
    service_account(c, ns, "flannel", CNI_AGE);
    let net_conf = format!(
        "{{\n  \"Network\": \"{}\",\n  \"EnableNFTables\": false,\n  \"Backend\": {{\n    \"Type\": \"vxlan\"\n  }}\n}}\n",
        c.opts.pod_subnet
    );
    config_map(
        c,
        ns,
        "kube-flannel-cfg",
        CNI_AGE,
        kv(&[("app", "flannel"), ("k8s-app", "flannel"), ("tier", "node")]),
        json!({
            "cni-conf.json": "{\n  \"name\": \"cbr0\",\n  \"cniVersion\": \"0.3.1\",\n  \"plugins\": [\n    {\n      \"type\": \"flannel\",\n      \"delegate\": {\n        \"hairpinMode\": true,\n        \"isDefaultGateway\": true\n      }\n    },\n    {\n      \"type\": \"portmap\",\n      \"capabilities\": {\n        \"portMappings\": true\n      }\n    }\n  ]\n}\n",
            "net-conf.json": net_conf,
        }),
    );
    let mut ctr = ContainerDef::new("kube-flannel", "docker.io/flannel/flannel:v0.26.1");
    ctr.command = vec!["/opt/bin/flanneld".into()];
    ctr.args = vec!["--ip-masq".into(), "--kube-subnet-mgr".into()];
    ctr.env = vec![
        field_env("POD_NAME", "metadata.name"),
        field_env("POD_NAMESPACE", "metadata.namespace"),
        env("EVENT_QUEUE_DEPTH", "5000"),
    ];
    ctr.resources = json!({"requests": {"cpu": "100m", "memory": "50Mi"}});
    ctr.security_context =
        Some(json!({"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}, "privileged": false}));
    ctr.volume_mounts = vec![
        json!({"mountPath": "/run/flannel", "name": "run"}),
        json!({"mountPath": "/etc/kube-flannel/", "name": "flannel-cfg"}),
        json!({"mountPath": "/run/xtables.lock", "name": "xtables-lock"}),
    ];
    let mut plugin = ContainerDef::new(
        "install-cni-plugin",
        "docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2",
    );
    plugin.command = vec!["cp".into()];
    plugin.args = vec![
        "-f".into(),
        "/flannel".into(),
        "/opt/cni/bin/flannel".into(),
    ];
    let mut cni = ContainerDef::new("install-cni", "docker.io/flannel/flannel:v0.26.1");
    cni.command = vec!["cp".into()];
    cni.args = vec![
        "-f".into(),
        "/etc/kube-flannel/cni-conf.json".into(),
        "/etc/cni/net.d/10-flannel.conflist".into(),
    ];
    let nodes = all_nodes(c);
    c.add_daemonset(&WorkloadDef {
        namespace: ns.into(),
        name: "kube-flannel-ds".into(),
        selector: kv(&[("app", "flannel"), ("k8s-app", "flannel")]),
        labels: kv(&[("app", "flannel"), ("k8s-app", "flannel"), ("tier", "node")]),
        template: PodDef {
            labels: kv(&[("tier", "node")]),
            containers: vec![ctr],
            init_containers: vec![plugin, cni],
            host_network: true,
            service_account: Some("flannel".into()),
            priority_class: Some("system-node-critical".into()),
            tolerations: vec![json!({"effect": "NoSchedule", "operator": "Exists"})],
            volumes: vec![
                json!({"hostPath": {"path": "/run/flannel", "type": ""}, "name": "run"}),
                json!({"hostPath": {"path": "/opt/cni/bin", "type": ""}, "name": "cni-plugin"}),
                json!({"hostPath": {"path": "/etc/cni/net.d", "type": ""}, "name": "cni"}),
                json!({"configMap": {"defaultMode": 420, "name": "kube-flannel-cfg"}, "name": "flannel-cfg"}),
                json!({"hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}, "name": "xtables-lock"}),
            ],
            ..Default::default()
        },
        created_ago: CNI_AGE,
        revision: 1,
        nodes,
        pods_created_ago: CNI_AGE - 5,
        annotations: Value::Null,
    });
}

fn metrics_server(c: &mut Cluster) {
    let age = CLUSTER_AGE - 2 * 3600;
    service_account(c, "kube-system", "metrics-server", age);
    let mut ctr = ContainerDef::new(
        "metrics-server",
        "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
    );
    ctr.args = [
        "--cert-dir=/tmp",
        "--secure-port=10250",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--kubelet-use-node-status-port",
        "--metric-resolution=15s",
        "--kubelet-insecure-tls",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ctr.ports = vec![json!({"containerPort": 10250, "name": "https", "protocol": "TCP"})];
    ctr.resources = json!({"requests": {"cpu": "100m", "memory": "200Mi"}});
    ctr.liveness = Some(http_probe(
        None,
        "/livez",
        json!("https"),
        "HTTPS",
        [3, 0, 10, 1],
    ));
    ctr.readiness = Some(http_probe(
        None,
        "/readyz",
        json!("https"),
        "HTTPS",
        [3, 20, 10, 1],
    ));
    ctr.security_context = Some(
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}),
    );
    ctr.volume_mounts = vec![json!({"mountPath": "/tmp", "name": "tmp-dir"})];
    let node = worker_or_cp(c, 0);
    c.add_deployment(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "metrics-server".into(),
        selector: kv(&[("k8s-app", "metrics-server")]),
        labels: kv(&[("k8s-app", "metrics-server")]),
        template: PodDef {
            containers: vec![ctr],
            service_account: Some("metrics-server".into()),
            priority_class: Some("system-cluster-critical".into()),
            node_selector: kv(&[("kubernetes.io/os", "linux")]),
            volumes: vec![json!({"emptyDir": {}, "name": "tmp-dir"})],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: vec![node],
        pods_created_ago: age - 10,
        annotations: Value::Null,
    });
    c.add_service(&ServiceDef::new(
        "kube-system",
        "metrics-server",
        kv(&[("k8s-app", "metrics-server")]),
        vec![SvcPort::tcp("https", 443, 10250)],
        age,
    ));
    let mut api = object(
        "apiregistration.k8s.io/v1",
        "APIService",
        None,
        "v1beta1.metrics.k8s.io",
        age,
    );
    api["metadata"]["labels"] = kv(&[("k8s-app", "metrics-server")]);
    api["spec"] = json!({"group": "metrics.k8s.io", "groupPriorityMinimum": 100, "insecureSkipTLSVerify": true, "service": {"name": "metrics-server", "namespace": "kube-system", "port": 443}, "version": "v1beta1", "versionPriority": 100});
    api["status"] = json!({"conditions": [{"lastTransitionTime": super::ago(age - 60), "message": "all checks passed", "reason": "Passed", "status": "True", "type": "Available"}]});
    c.push(api);
}

fn ingress_nginx(c: &mut Cluster) {
    let ns = "ingress-nginx";
    let age = CLUSTER_AGE - 2 * 3600;
    let labels = kv(&[
        ("app.kubernetes.io/component", "controller"),
        ("app.kubernetes.io/instance", "ingress-nginx"),
        ("app.kubernetes.io/name", "ingress-nginx"),
        ("app.kubernetes.io/part-of", "ingress-nginx"),
        ("app.kubernetes.io/version", "1.11.3"),
    ]);
    let selector = kv(&[
        ("app.kubernetes.io/component", "controller"),
        ("app.kubernetes.io/instance", "ingress-nginx"),
        ("app.kubernetes.io/name", "ingress-nginx"),
    ]);
    service_account(c, ns, "ingress-nginx", age);
    service_account(c, ns, "ingress-nginx-admission", age);
    config_map(
        c,
        ns,
        "ingress-nginx-controller",
        age,
        labels.clone(),
        json!({"allow-snippet-annotations": "false"}),
    );
    let mut ctr = ContainerDef::new(
        "controller",
        "registry.k8s.io/ingress-nginx/controller:v1.11.3",
    );
    ctr.args = [
        "/nginx-ingress-controller",
        "--election-id=ingress-nginx-leader",
        "--controller-class=k8s.io/ingress-nginx",
        "--ingress-class=nginx",
        "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
        "--validating-webhook=:8443",
        "--validating-webhook-certificate=/usr/local/certificates/cert",
        "--validating-webhook-key=/usr/local/certificates/key",
        "--enable-metrics=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ctr.env = vec![
        field_env("POD_NAME", "metadata.name"),
        field_env("POD_NAMESPACE", "metadata.namespace"),
        env("LD_PRELOAD", "/usr/local/lib/libmimalloc.so"),
    ];
    ctr.ports = vec![
        json!({"containerPort": 80, "name": "http", "protocol": "TCP"}),
        json!({"containerPort": 443, "name": "https", "protocol": "TCP"}),
        json!({"containerPort": 8443, "name": "webhook", "protocol": "TCP"}),
    ];
    ctr.resources = json!({"requests": {"cpu": "100m", "memory": "90Mi"}});
    ctr.liveness = Some(http_probe(
        None,
        "/healthz",
        json!(10254),
        "HTTP",
        [5, 10, 10, 1],
    ));
    ctr.readiness = Some(http_probe(
        None,
        "/healthz",
        json!(10254),
        "HTTP",
        [3, 10, 10, 1],
    ));
    ctr.security_context = Some(
        json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "readOnlyRootFilesystem": false, "runAsNonRoot": true, "runAsUser": 101, "seccompProfile": {"type": "RuntimeDefault"}}),
    );
    ctr.volume_mounts = vec![
        json!({"mountPath": "/usr/local/certificates/", "name": "webhook-cert", "readOnly": true}),
    ];
    let node = worker_or_cp(c, 1);
    c.add_deployment(&WorkloadDef {
        namespace: ns.into(),
        name: "ingress-nginx-controller".into(),
        selector: selector.clone(),
        labels: labels.clone(),
        template: PodDef {
            labels: labels.clone(),
            containers: vec![ctr],
            service_account: Some("ingress-nginx".into()),
            node_selector: kv(&[("kubernetes.io/os", "linux")]),
            volumes: vec![json!({"name": "webhook-cert", "secret": {"defaultMode": 420, "secretName": "ingress-nginx-admission"}})],
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes: vec![node],
        pods_created_ago: age - 30,
        annotations: Value::Null,
    });
    // The controller's leader-election lease (client-go defaults: 30 s, renewed every 5 s).
    if let Some(pod) = c
        .pods_named(ns, "ingress-nginx-controller-")
        .first()
        .cloned()
    {
        let mut lease = object(
            "coordination.k8s.io/v1",
            "Lease",
            Some(ns),
            "ingress-nginx-leader",
            age - 40,
        );
        lease["spec"] = json!({
            "acquireTime": super::ago_micros((age - 43) * 1_000_000 - 215_330),
            "holderIdentity": pod,
            "leaseDurationSeconds": 30,
            "leaseTransitions": 0,
            "renewTime": super::ago_micros(super::control_plane::renew_lag("ingress-nginx-leader", 300, 4000)),
        });
        c.push(lease);
    }
    c.add_service(&ServiceDef {
        labels: labels.clone(),
        type_: c.opts.ingress_service_type.clone(),
        ..ServiceDef::new(
            ns,
            "ingress-nginx-controller",
            selector.clone(),
            vec![
                SvcPort {
                    name: "http",
                    port: 80,
                    target: 80,
                    protocol: "TCP",
                    node_port: Some(30080),
                },
                SvcPort {
                    name: "https",
                    port: 443,
                    target: 443,
                    protocol: "TCP",
                    node_port: Some(30443),
                },
            ],
            age,
        )
    });
    c.add_service(&ServiceDef {
        labels: labels.clone(),
        ..ServiceDef::new(
            ns,
            "ingress-nginx-controller-admission",
            selector,
            vec![SvcPort::tcp("https-webhook", 443, 8443)],
            age,
        )
    });
    let mut class = object("networking.k8s.io/v1", "IngressClass", None, "nginx", age);
    class["metadata"]["labels"] = labels.clone();
    class["spec"] = json!({"controller": "k8s.io/ingress-nginx"});
    c.push(class);
    let mut hook = object(
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        None,
        "ingress-nginx-admission",
        age,
    );
    hook["metadata"]["labels"] = labels;
    hook["webhooks"] = json!([{
        "admissionReviewVersions": ["v1"],
        "clientConfig": {"caBundle": super::control_plane::fake_ca_data(), "service": {"name": "ingress-nginx-controller-admission", "namespace": ns, "path": "/networking/v1/ingresses", "port": 443}},
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "name": "validate.nginx.ingress.kubernetes.io",
        "namespaceSelector": {},
        "objectSelector": {},
        "rules": [{"apiGroups": ["networking.k8s.io"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["ingresses"], "scope": "*"}],
        "sideEffects": "None",
        "timeoutSeconds": 10,
    }]);
    c.push(hook);
}
