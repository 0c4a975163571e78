//! `pod-cannot-reach-apiserver-service` (NET-03), after seed 000: an enterprise cluster whose
//! nodes live in 10.32.0.0/24 (kubeadm podSubnet 10.244.0.0/16) switched its pod network from
//! Calico to Weave Net three hours ago. Weave ignores podSubnet and, without `IPALLOC_RANGE`,
//! allocates from its default 10.32.0.0/12 — the node network is inside it. Since then CoreDNS cannot reach the `kubernetes` Service: its log
//! fills with `dial tcp 10.96.0.1:443: i/o timeout` and it never turns Ready, while the API
//! server is healthy and its endpoints are the control-plane nodes.

use serde_json::{Value, json};

use super::super::builder::{
    Cluster, ClusterBuilder, ContainerDef, EventDef, HOUR, MIN, PodDef, WorkloadDef, ago, hex,
    http_probe, kv,
};
use super::super::{ObjRef, Scenario, ServerBehavior};
use super::overlay_port_blocked::set_not_ready;

/// When Weave replaced Calico.
const SWITCH_AGO: i64 = 3 * HOUR;

fn is_calico(o: &Value) -> bool {
    let n = o["metadata"]["name"].as_str().unwrap_or_default();
    let involved = o["involvedObject"]["name"].as_str().unwrap_or_default();
    n.starts_with("calico") || involved.starts_with("calico") || n.ends_with("projectcalico.org")
}

/// Replaces the Calico install by Weave Net 2.8.1 as its manifest deploys it.
fn calico_to_weave(c: &mut Cluster) {
    c.objects.retain(|o| !is_calico(o));
    c.pod_logs.retain(|l| !l.pod.starts_with("calico"));
    for node in c.objects.iter_mut().filter(|o| o["kind"] == "Node") {
        if let Some(a) = node["metadata"]["annotations"].as_object_mut() {
            a.retain(|k, _| !k.starts_with("projectcalico.org/"));
        }
        if let Some(conds) = node["status"]["conditions"].as_array_mut()
            && let Some(nu) = conds.iter_mut().find(|x| x["type"] == "NetworkUnavailable")
        {
            nu["reason"] = json!("WeaveIsUp");
            nu["message"] = json!("Weave pod has set this");
            nu["lastTransitionTime"] = json!(ago(SWITCH_AGO - 40));
            nu["lastHeartbeatTime"] = json!(ago(SWITCH_AGO - 40));
        }
    }
    let age = SWITCH_AGO + 30;
    c.push(super::super::builder::object(
        "v1",
        "ServiceAccount",
        Some("kube-system"),
        "weave-net",
        age,
    ));
    let rule = super::super::builder::rule;
    c.add_cluster_role(
        "weave-net",
        vec![
            rule(
                &[""],
                &["pods", "namespaces", "nodes"],
                &["get", "list", "watch"],
            ),
            rule(
                &["extensions"],
                &["networkpolicies"],
                &["get", "list", "watch"],
            ),
            rule(
                &["networking.k8s.io"],
                &["networkpolicies"],
                &["get", "list", "watch"],
            ),
            rule(&[""], &["nodes/status"], &["patch", "update"]),
        ],
        age,
    );
    c.add_cluster_role_binding(
        "weave-net",
        "weave-net",
        vec![json!({"kind": "ServiceAccount", "name": "weave-net", "namespace": "kube-system"})],
        age,
    );
    let mut weave = ContainerDef::new("weave", "weaveworks/weave-kube:latest");
    weave.command = vec!["/home/weave/launch.sh".into()];
    weave.env = vec![
        json!({"name": "INIT_CONTAINER", "value": "true"}),
        json!({"name": "HOSTNAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}),
    ];
    weave.readiness = Some(http_probe(
        Some("127.0.0.1"),
        "/status",
        json!(6784),
        "HTTP",
        [3, 0, 10, 1],
    ));
    weave.resources = json!({"requests": {"cpu": "50m"}});
    weave.security_context = Some(json!({"privileged": true}));
    weave.volume_mounts = vec![
        json!({"mountPath": "/weavedb", "name": "weavedb"}),
        json!({"mountPath": "/host/var/lib/dbus", "name": "dbus", "readOnly": true}),
        json!({"mountPath": "/host/etc/machine-id", "name": "cni-machine-id", "readOnly": true}),
        json!({"mountPath": "/run/xtables.lock", "name": "xtables-lock"}),
    ];
    let mut npc = ContainerDef::new("weave-npc", "weaveworks/weave-npc:latest");
    npc.env = vec![
        json!({"name": "HOSTNAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}),
    ];
    npc.resources = json!({"requests": {"cpu": "50m"}});
    npc.security_context = Some(json!({"privileged": true}));
    let mut init = ContainerDef::new("weave-init", "weaveworks/weave-kube:latest");
    init.command = vec!["/home/weave/init.sh".into()];
    init.security_context = Some(json!({"privileged": true}));
    let nodes: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
    c.add_daemonset(&WorkloadDef {
        namespace: "kube-system".into(),
        name: "weave-net".into(),
        selector: kv(&[("name", "weave-net")]),
        labels: kv(&[("name", "weave-net")]),
        template: PodDef {
            containers: vec![weave, npc],
            init_containers: vec![init],
            host_network: true,
            service_account: Some("weave-net".into()),
            priority_class: Some("system-node-critical".into()),
            tolerations: vec![
                json!({"effect": "NoSchedule", "operator": "Exists"}),
                json!({"effect": "NoExecute", "operator": "Exists"}),
            ],
            volumes: [
                "weavedb:/var/lib/weave",
                "dbus:/var/lib/dbus",
                "cni-machine-id:/etc/machine-id",
                "xtables-lock:/run/xtables.lock",
            ]
            .iter()
            .filter_map(|s| s.split_once(':'))
            .map(|(n, p)| json!({"hostPath": {"path": p, "type": ""}, "name": n}))
            .collect(),
            ..Default::default()
        },
        created_ago: age,
        revision: 1,
        nodes,
        pods_created_ago: SWITCH_AGO,
        annotations: Value::Null,
    });
    // Weave's own log states the range it allocates from.
    let peers: Vec<String> = c.nodes.iter().map(|n| n.ip.clone()).collect();
    for pod in c.pods_named("kube-system", "weave-net-") {
        let node = c
            .find("Pod", Some("kube-system"), &pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        let mac = hex(&format!("weave/{node}"), 12);
        let mac = (0..6)
            .map(|i| &mac[2 * i..2 * i + 2])
            .collect::<Vec<_>>()
            .join(":");
        let t = |secs: i64| {
            (super::super::builder::epoch() - chrono::Duration::seconds(secs))
                .format("%Y/%m/%d %H:%M:%S%.6f")
                .to_string()
        };
        let s = SWITCH_AGO - 8;
        let mut log = format!(
            "INFO: {} Command line options: map[conn-limit:200 datapath:datapath db-prefix:/weavedb/weave-net docker-api: expect-npc:true http-addr:127.0.0.1:6784 ipalloc-init:consensus=6 ipalloc-range:10.32.0.0/12 metrics-addr:0.0.0.0:6782 name:{mac} nickname:{node} no-dns:true no-masq-local:true port:6783]\n",
            t(s)
        );
        log.push_str(&format!("INFO: {} weave  2.8.1\n", t(s)));
        log.push_str(&format!("INFO: {} Bridge type is bridged_fastdp\n", t(s)));
        log.push_str(&format!(
            "INFO: {} Communication between peers is unencrypted.\n",
            t(s)
        ));
        log.push_str(&format!("INFO: {} Our name is {mac}({node})\n", t(s)));
        log.push_str(&format!(
            "INFO: {} Launch detected - using supplied peer list: [{}]\n",
            t(s - 1),
            peers.join(" ")
        ));
        log.push_str(&format!(
            "INFO: {} Using \"no-masq-local\" LocalRangeTracker\n",
            t(s - 1)
        ));
        log.push_str(&format!(
            "INFO: {} [allocator {mac}] Initialising via deferred consensus\n",
            t(s - 1)
        ));
        for ip in peers
            .iter()
            .filter(|ip| Some(ip.as_str()) != c.node(&node).map(|n| n.ip.as_str()))
        {
            log.push_str(&format!(
                "INFO: {} ->[{ip}:6783] connection ready; using protocol version 2\n",
                t(s - 2)
            ));
        }
        log.push_str(&format!(
            "INFO: {} [kube-peers] Added myself to peer list &{{[{}]}}\n",
            t(s - 3),
            peers.join(" ")
        ));
        log.push_str(&format!(
            "DEBU: {} [kube-peers] Nodes that have disappeared: map[]\n",
            t(s - 3)
        ));
        log.push_str(&format!("INFO: {} Weave is ready\n", t(s - 5)));
        c.add_log("kube-system", &pod, "weave", log);
        c.add_log(
            "kube-system",
            &pod,
            "weave-npc",
            format!("INFO: {} Starting Weaveworks NPC 2.8.1; node name \"{node}\"\nINFO: {} Serving /metrics on :6781\n", t(s), t(s - 1)),
        );
    }
}

pub fn scenario() -> Scenario {
    let mut b = ClusterBuilder::kubeadm();
    b.opts.node_ip_prefix = "10.32.0.".into();
    let mut c = b.build();
    calico_to_weave(&mut c);

    // CoreDNS: cannot list from the API since the switch; readiness fails ("kubernetes" not synced).
    let since = SWITCH_AGO - 2 * MIN;
    for pod in c.pods_named("kube-system", "coredns-") {
        set_not_ready(&mut c, "kube-system", &pod, "coredns", &ago(since));
        let node = c
            .find("Pod", Some("kube-system"), &pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        let mut log = format!(
            "[INFO] plugin/kubernetes: waiting for Kubernetes API before starting server\n[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API\n.:53\n[INFO] plugin/reload: Running configuration SHA512 = {}\nCoreDNS-1.11.3\nlinux/amd64, go1.21.11, a6338e9\n",
            hex("corefile", 128)
        );
        for (kind, path) in [
            ("*v1.Namespace", "namespaces"),
            ("*v1.Service", "services"),
            (
                "*v1.EndpointSlice",
                "apis/discovery.k8s.io/v1/endpointslices",
            ),
        ]
        .iter()
        .cycle()
        .take(12)
        {
            let path = if path.starts_with("apis/") {
                format!("/{path}")
            } else {
                format!("/api/v1/{path}")
            };
            log.push_str("[INFO] plugin/ready: Still waiting on: \"kubernetes\"\n");
            log.push_str(&format!(
                "[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.29.3/tools/cache/reflector.go:229: Failed to watch {kind}: failed to list {kind}: Get \"https://10.96.0.1:443{path}?limit=500&resourceVersion=0\": dial tcp 10.96.0.1:443: i/o timeout\n"
            ));
        }
        c.pod_logs
            .retain(|l| !(l.namespace == "kube-system" && l.pod == pod && !l.previous));
        c.add_log("kube-system", &pod, "coredns", log);
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some("kube-system"), &pod),
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                "kubelet",
                7,
            )
            .warning()
            .on_host(&node)
            .repeated(1046, since)
            .field("spec.containers{coredns}"),
        );
    }
    if let Some(d) = c.find_mut("Deployment", Some("kube-system"), "coredns") {
        if let Some(m) = d["status"].as_object_mut() {
            m.remove("readyReplicas");
            m.remove("availableReplicas");
        }
        let n = d["status"]["replicas"].clone();
        d["status"]["unavailableReplicas"] = n;
    }
    let (snapshot, timeline) = c.into_parts();
    Scenario {
        id: "pod-cannot-reach-apiserver-service",
        title: "CoreDNS times out on 10.96.0.1: Weave's range covers the node network",
        summary: "Nodes in 10.32.0.0/24 switched to Weave Net without IPALLOC_RANGE (default 10.32.0.0/12, over the node network): CoreDNS logs `dial tcp 10.96.0.1:443: i/o timeout` and stays 0/1 while the API server is healthy.",
        playbook: Some("pod-cannot-reach-apiserver-service"),
        snapshot,
        timeline,
        behavior: ServerBehavior::default(),
    }
}
