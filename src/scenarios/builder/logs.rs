//! Evidence that is not an object: container logs in each component's real format (klog,
//! etcd's JSON, CoreDNS, Calico, nginx), the raw `/readyz?verbose`, `/livez?verbose` and node
//! healthz answers, and the Events of the last hour (worker-3 joining, a frontend rollout).

use serde_json::{Value, json};

use super::control_plane::{leader_acquired_ago, leader_holder, static_pod_command};
use super::{Cluster, Cni, EventDef, HOUR, apps::FRONTEND_ROLLOUT_AGO, epoch, hash64, hex};
use crate::ObjRef;

/// One klog line (`I0115 09:58:01.123456       1 file.go:123] msg`), `micros_ago` before the epoch.
pub fn klog(level: char, micros_ago: i64, source: &str, msg: &str) -> String {
    let t = epoch() - chrono::Duration::microseconds(micros_ago);
    format!(
        "{level}{}       1 {source}] {msg}\n",
        t.format("%m%d %H:%M:%S%.6f")
    )
}

/// Seconds to microseconds with a deterministic sub-second part.
/// (Below 0.4 s, so lines a caller offsets by less than 0.6 s within a second stay in order.)
fn us(secs: i64, seed: &str) -> i64 {
    secs * 1_000_000 - (hash64(&[seed, &secs.to_string()]) % 400_000) as i64
}

fn ts_json(micros_ago: i64) -> String {
    (epoch() - chrono::Duration::microseconds(micros_ago))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// The API server's checks, in the order `/readyz?verbose` prints them.
const READYZ_CHECKS: &[&str] = &[
    "ping",
    "log",
    "etcd",
    "etcd-readiness",
    "informer-sync",
    "poststarthook/start-apiserver-admission-initializer",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/priority-and-fairness-config-consumer",
    "poststarthook/priority-and-fairness-filter",
    "poststarthook/storage-object-count-tracker-hook",
    "poststarthook/start-apiextensions-informers",
    "poststarthook/start-apiextensions-controllers",
    "poststarthook/crd-informer-synced",
    "poststarthook/start-system-namespaces-controller",
    "poststarthook/start-cluster-authentication-info-controller",
    "poststarthook/start-kube-apiserver-identity-lease-controller",
    "poststarthook/start-kube-apiserver-identity-lease-garbage-collector",
    "poststarthook/start-legacy-token-tracking-controller",
    "poststarthook/start-service-ip-repair-controllers",
    "poststarthook/rbac/bootstrap-roles",
    "poststarthook/scheduling/bootstrap-system-priority-classes",
    "poststarthook/priority-and-fairness-config-producer",
    "poststarthook/bootstrap-controller",
    "poststarthook/aggregator-reload-proxy-client-cert",
    "poststarthook/start-kube-aggregator-informers",
    "poststarthook/apiservice-status-local-available-controller",
    "poststarthook/apiservice-status-remote-available-controller",
    "poststarthook/apiservice-registration-controller",
    "poststarthook/apiservice-discovery-controller",
    "poststarthook/kube-apiserver-autoregistration",
    "autoregister-completion",
    "poststarthook/apiservice-openapi-controller",
    "poststarthook/apiservice-openapiv3-controller",
    "shutdown",
];

/// The body of `/readyz?verbose` (`livez: false`) or `/livez?verbose` (`livez: true`) with
/// the named checks failing, and the status code the API server answers with.
pub fn readyz_body(livez: bool, failing: &[&str]) -> (u16, String) {
    let mut out = String::new();
    for check in READYZ_CHECKS {
        if livez && matches!(*check, "etcd-readiness" | "informer-sync" | "shutdown") {
            continue;
        }
        if failing.contains(check) {
            out.push_str(&format!("[-]{check} failed: reason withheld\n"));
        } else {
            out.push_str(&format!("[+]{check} ok\n"));
        }
    }
    let what = if livez { "livez" } else { "readyz" };
    if failing.is_empty() {
        out.push_str(&format!("{what} check passed\n"));
        (200, out)
    } else {
        out.push_str(&format!("{what} check failed\n"));
        (500, out)
    }
}

pub(super) fn build(c: &mut Cluster) {
    let (code, body) = readyz_body(false, &[]);
    c.add_response("/readyz?verbose", code, body);
    let (code, body) = readyz_body(true, &[]);
    c.add_response("/livez?verbose", code, body);
    let names: Vec<String> = c.nodes.iter().map(|n| n.name.clone()).collect();
    for n in &names {
        c.add_response(
            &format!("/api/v1/nodes/{n}/proxy/healthz"),
            200,
            "ok".into(),
        );
    }
    control_plane_logs(c);
    addon_logs(c);
    app_logs(c);
    events(c);
    // Only running containers have logs (pods left Pending by a scenario's options have none).
    let running: std::collections::HashSet<(String, String)> = c
        .of_kind("Pod", None)
        .filter(|p| p["status"]["phase"] == "Running")
        .map(crate::builder::ns_name)
        .collect();
    c.pod_logs
        .retain(|l| running.contains(&(l.namespace.clone(), l.pod.clone())));
}

fn pod_age(c: &Cluster, ns: &str, pod: &str) -> i64 {
    c.find("Pod", Some(ns), pod)
        .and_then(|p| p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| (epoch() - t.with_timezone(&chrono::Utc)).num_seconds())
        .unwrap_or(HOUR)
}

fn control_plane_logs(c: &mut Cluster) {
    let cps = c.control_plane_nodes();
    let v = c.opts.version.clone();
    let Some(leader) = cps.first().cloned() else {
        return;
    };
    for n in &cps {
        // kube-apiserver
        let pod = format!("kube-apiserver-{}", n.name);
        let s = pod_age(c, "kube-system", &pod);
        let mut t = String::new();
        let lines: &[(&str, String)] = &[
            ("options.go:228", format!("external host was not specified, using {}", n.ip)),
            ("server.go:142", format!("Version: {v}")),
            ("server.go:144", "\"Golang settings\" GOGC=\"\" GOMAXPROCS=\"\" GOTRACEBACK=\"\"".into()),
            ("shared_informer.go:313", "Waiting for caches to sync for node_authorizer".into()),
            ("plugins.go:157", "Loaded 12 mutating admission controller(s) successfully in the following order: NamespaceLifecycle,LimitRanger,ServiceAccount,NodeRestriction,TaintNodesByCondition,Priority,DefaultTolerationSeconds,DefaultStorageClass,StorageObjectInUseProtection,RuntimeClass,DefaultIngressClass,MutatingAdmissionWebhook.".into()),
            ("plugins.go:160", "Loaded 13 validating admission controller(s) successfully in the following order: LimitRanger,ServiceAccount,PodSecurity,Priority,PersistentVolumeClaimResize,RuntimeClass,CertificateApproval,CertificateSigning,ClusterTrustBundleAttest,CertificateSubjectRestriction,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,ResourceQuota.".into()),
            ("secure_serving.go:213", "Serving securely on [::]:6443".into()),
            ("dynamic_cafile_content.go:160", "\"Starting controller\" name=\"client-ca-bundle::/etc/kubernetes/pki/ca.crt\"".into()),
            ("apf_controller.go:377", "Starting API Priority and Fairness config controller".into()),
            ("cache.go:39", "Caches are synced for APIServiceRegistrationController controller".into()),
            ("shared_informer.go:320", "Caches are synced for node_authorizer".into()),
            ("cache.go:39", "Caches are synced for RemoteAvailability controller".into()),
            ("shared_informer.go:320", "Caches are synced for crd-autoregister".into()),
            ("handler_discovery.go:450", "Starting ResourceDiscoveryManager".into()),
            ("storage_scheduling.go:111", "all system priority classes are created successfully or already exist.".into()),
            ("handler.go:286", "Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager".into()),
        ];
        for (i, (src, msg)) in lines.iter().enumerate() {
            t.push_str(&klog(
                'I',
                us(s - i as i64 / 4, &pod) - 1_234 * i as i64,
                src,
                msg,
            ));
        }
        t.push_str(&klog(
            'I',
            us(s - 9, &pod),
            "controller.go:615",
            "quota admission added evaluator for: leases.coordination.k8s.io",
        ));
        if n.index == 0 {
            t.push_str(&klog(
                'I',
                us(FRONTEND_ROLLOUT_AGO, &pod),
                "controller.go:615",
                "quota admission added evaluator for: replicasets.apps",
            ));
        }
        c.add_log("kube-system", &pod, "kube-apiserver", t);

        // etcd
        let pod = format!("etcd-{}", n.name);
        let s = pod_age(c, "kube-system", &pod);
        let args: Vec<String> = static_pod_command(c, "etcd", n);
        let member = hex(&format!("member/{}", n.name), 16);
        let cluster_id = hex("etcd-cluster", 16);
        let mut t = String::new();
        let mut j = |micros: i64, caller: &str, msg: &str, extra: Value| {
            let mut line =
                json!({"level": "info", "ts": ts_json(micros), "caller": caller, "msg": msg});
            if let (Some(m), Some(e)) = (line.as_object_mut(), extra.as_object()) {
                for (k, v) in e {
                    m.insert(k.clone(), v.clone());
                }
            }
            t.push_str(&line.to_string());
            t.push('\n');
        };
        j(
            us(s, &pod),
            "etcdmain/etcd.go:73",
            "Running: ",
            json!({"args": args}),
        );
        j(
            us(s, &pod) - 1200,
            "embed/etcd.go:128",
            "configuring peer listeners",
            json!({"listen-peer-urls": [format!("https://{}:2380", n.ip)]}),
        );
        j(
            us(s, &pod) - 2400,
            "embed/etcd.go:311",
            "starting an etcd server",
            json!({"etcd-version": "3.5.15", "git-sha": "9a5533382", "go-version": "go1.21.12", "go-os": "linux", "go-arch": "amd64", "name": n.name, "data-dir": "/var/lib/etcd"}),
        );
        j(
            us(s - 1, &pod),
            "etcdserver/server.go:2118",
            "published local member to cluster through raft",
            json!({"local-member-id": member, "local-member-attributes": format!("{{Name:{} ClientURLs:[https://{}:2379]}}", n.name, n.ip), "request-path": format!("/0/members/{member}/attributes"), "cluster-id": cluster_id, "publish-timeout": "7s"}),
        );
        j(
            us(s - 1, &pod) - 3000,
            "embed/serve.go:250",
            "serving client traffic securely",
            json!({"traffic": "grpc+http", "address": format!("{}:2379", n.ip)}),
        );
        j(
            us(s - 1, &pod) - 3100,
            "embed/serve.go:250",
            "serving client traffic securely",
            json!({"traffic": "grpc+http", "address": "127.0.0.1:2379"}),
        );
        for k in (0..4).rev() {
            let at = 95 + k * 300;
            let rev = 4_812_331 - k * 1_190;
            j(
                us(at, &pod),
                "mvcc/index.go:214",
                "compact tree index",
                json!({"revision": rev}),
            );
            j(
                us(at, &pod) - 6_000,
                "mvcc/kvstore_compaction.go:69",
                "finished scheduled compaction",
                json!({"compact-revision": rev, "took": format!("{}.{}ms", 3 + k % 3, 100 + k * 37), "hash": hash64(&[&rev.to_string()]) % 4_294_967_295, "current-db-size-bytes": 9_191_424, "current-db-size": "9.2 MB", "current-db-size-in-use-bytes": 3_674_112, "current-db-size-in-use": "3.7 MB"}),
            );
        }
        c.add_log("kube-system", &pod, "etcd", t);

        // kube-controller-manager and kube-scheduler: the leader on the first node, standbys elsewhere.
        for component in ["kube-controller-manager", "kube-scheduler"] {
            let pod = format!("{component}-{}", n.name);
            let s = pod_age(c, "kube-system", &pod);
            let mut t = klog(
                'I',
                us(s, &pod),
                "serving.go:386",
                "Generated self-signed cert in-memory",
            );
            if component == "kube-scheduler" {
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod),
                    "server.go:167",
                    &format!("\"Starting Kubernetes Scheduler\" version=\"{v}\""),
                ));
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod) - 400,
                    "server.go:169",
                    "\"Golang settings\" GOGC=\"\" GOMAXPROCS=\"\" GOTRACEBACK=\"\"",
                ));
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod) - 900,
                    "secure_serving.go:213",
                    "Serving securely on 127.0.0.1:10259",
                ));
            } else {
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod),
                    "controllermanager.go:197",
                    &format!("\"Starting\" version=\"{v}\""),
                ));
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod) - 300,
                    "controllermanager.go:199",
                    "\"Golang settings\" GOGC=\"\" GOMAXPROCS=\"\" GOTRACEBACK=\"\"",
                ));
                t.push_str(&klog(
                    'I',
                    us(s - 1, &pod) - 900,
                    "secure_serving.go:213",
                    "Serving securely on 127.0.0.1:10257",
                ));
            }
            t.push_str(&klog(
                'I',
                us(s - 2, &pod),
                "leaderelection.go:250",
                &format!("attempting to acquire leader lease kube-system/{component}..."),
            ));
            if n.name == leader.name {
                let acq = leader_acquired_ago(component);
                let holder = leader_holder(component, &n.name);
                t.push_str(&klog(
                    'I',
                    us(acq, &pod),
                    "leaderelection.go:258",
                    &format!("successfully acquired lease kube-system/{component}"),
                ));
                t.push_str(&klog('I', us(acq, &pod) - 600, "event.go:389", &format!("\"Event occurred\" object=\"kube-system/{component}\" fieldPath=\"\" kind=\"Lease\" apiVersion=\"coordination.k8s.io/v1\" type=\"Normal\" reason=\"LeaderElection\" message=\"{holder} became leader\"")));
                if component == "kube-controller-manager" {
                    for (i, ctl) in [
                        "serviceaccount-token-controller",
                        "endpoints-controller",
                        "endpointslice-controller",
                        "replicaset-controller",
                        "deployment-controller",
                        "daemonset-controller",
                        "statefulset-controller",
                        "node-ipam-controller",
                        "node-lifecycle-controller",
                        "garbage-collector-controller",
                    ]
                    .iter()
                    .enumerate()
                    {
                        t.push_str(&klog(
                            'I',
                            us(acq - 1, &pod) - 20_000 * i as i64,
                            "controllermanager.go:797",
                            &format!("\"Started controller\" controller=\"{ctl}\""),
                        ));
                    }
                    t.push_str(&klog(
                        'I',
                        us(acq - 2, &pod),
                        "shared_informer.go:320",
                        "Caches are synced for garbage collector",
                    ));
                    t.push_str(&klog('I', us(acq - 2, &pod) - 100, "node_lifecycle_controller.go:1050", "\"Controller detected that some Nodes are Ready. Exiting master disruption mode\""));
                    if let Some(w3) = c.node("worker-3").cloned().filter(|w| w.created_ago < HOUR) {
                        t.push_str(&klog(
                            'I',
                            us(w3.created_ago - 1, &pod),
                            "range_allocator.go:422",
                            &format!(
                                "\"Set node PodCIDR\" node=\"{}\" podCIDRs=[\"{}\"]",
                                w3.name, w3.pod_cidr
                            ),
                        ));
                        t.push_str(&klog('I', us(w3.created_ago - 2, &pod), "node_lifecycle_controller.go:884", &format!("\"Missing timestamp for Node. Assuming now as a timestamp\" node=\"{}\"", w3.name)));
                        t.push_str(&klog('I', us(w3.created_ago - 2, &pod) - 300, "event.go:389", &format!("\"Event occurred\" object=\"{0}\" fieldPath=\"\" kind=\"Node\" apiVersion=\"v1\" type=\"Normal\" reason=\"RegisteredNode\" message=\"Node {0} event: Registered Node {0} in Controller\"", w3.name)));
                    }
                    if c.opts.apps {
                        let new_rs = c
                            .of_kind("ReplicaSet", Some("shop"))
                            .find(|r| {
                                r["metadata"]["ownerReferences"][0]["name"] == "frontend"
                                    && r["spec"]["replicas"].as_i64().unwrap_or(0) > 0
                            })
                            .and_then(|r| r["metadata"]["name"].as_str())
                            .map(str::to_string)
                            .unwrap_or_default();
                        t.push_str(&klog('I', us(FRONTEND_ROLLOUT_AGO + 1, &pod), "event.go:389", &format!("\"Event occurred\" object=\"shop/frontend\" fieldPath=\"\" kind=\"Deployment\" apiVersion=\"apps/v1\" type=\"Normal\" reason=\"ScalingReplicaSet\" message=\"Scaled up replica set {new_rs} from 0 to 1\"")));
                    }
                } else {
                    if let Some(w3) = c.node("worker-3").cloned().filter(|w| w.created_ago < HOUR) {
                        t.push_str(&klog('I', us(w3.created_ago - 30, &pod), "schedule_one.go:314", &format!("\"Successfully bound pod to node\" pod=\"kube-system/kube-proxy\" node=\"{}\" evaluatedNodes=1 feasibleNodes=1", w3.name)));
                    }
                }
            }
            c.add_log("kube-system", &pod, component, t);
        }
    }
}

/// A Calico log line: `2026-01-15 09:58:12.345 [INFO][71] felix/summary.go 100: msg`.
fn calico_line(micros_ago: i64, pid: u32, src: &str, msg: &str) -> String {
    let t = epoch() - chrono::Duration::microseconds(micros_ago);
    format!(
        "{} [INFO][{pid}] {src}: {msg}\n",
        t.format("%Y-%m-%d %H:%M:%S%.3f")
    )
}

fn addon_logs(c: &mut Cluster) {
    for pod in c.pods_named("kube-system", "coredns-") {
        c.add_log(
            "kube-system",
            &pod,
            "coredns",
            format!(".:53\n[INFO] plugin/reload: Running configuration SHA512 = {}\nCoreDNS-1.11.3\nlinux/amd64, go1.21.11, a6338e9\n", hex("corefile", 128)),
        );
    }
    let v = c.opts.version.clone();
    for pod in c.pods_named("kube-system", "kube-proxy-") {
        let s = pod_age(c, "kube-system", &pod);
        let node = c
            .find("Pod", Some("kube-system"), &pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        let ip = c.node(&node).map(|n| n.ip.clone()).unwrap_or_default();
        let mut t = String::new();
        for (i, (src, msg)) in [
            ("server_linux.go:66", "\"Using iptables proxy\"".to_string()),
            ("server.go:677", format!("\"Successfully retrieved node IP(s)\" IPs=[\"{ip}\"]")),
            ("conntrack.go:60", "\"Setting nf_conntrack_max\" nfConntrackMax=262144".into()),
            ("server.go:234", "\"kube-proxy running in dual-stack mode\" primary ipFamily=\"IPv4\"".into()),
            ("server_linux.go:169", "\"Using iptables Proxier\"".into()),
            ("proxier.go:255", "\"Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses\" ipFamily=\"IPv4\"".into()),
            ("server.go:483", format!("\"Version info\" version=\"{v}\"")),
            ("config.go:199", "\"Starting service config controller\"".into()),
            ("shared_informer.go:313", "Waiting for caches to sync for service config".into()),
            ("config.go:105", "\"Starting endpoint slice config controller\"".into()),
            ("shared_informer.go:313", "Waiting for caches to sync for endpoint slice config".into()),
            ("config.go:328", "\"Starting node config controller\"".into()),
            ("shared_informer.go:320", "Caches are synced for node config".into()),
            ("shared_informer.go:320", "Caches are synced for service config".into()),
            ("shared_informer.go:320", "Caches are synced for endpoint slice config".into()),
        ]
        .iter()
        .enumerate()
        {
            t.push_str(&klog('I', us(s, &pod) - 15_000 * i as i64, src, msg));
        }
        c.add_log("kube-system", &pod, "kube-proxy", t);
    }
    if c.opts.cni == Cni::Calico {
        for pod in c.pods_named("kube-system", "calico-node-") {
            let s = pod_age(c, "kube-system", &pod);
            let node = c
                .find("Pod", Some("kube-system"), &pod)
                .and_then(|p| p["spec"]["nodeName"].as_str())
                .unwrap_or_default()
                .to_string();
            let ip = c.node(&node).map(|n| n.ip.clone()).unwrap_or_default();
            let cal = calico_line;
            let mut t = String::new();
            t.push_str(&cal(
                us(s - 4, &pod),
                9,
                "startup/startup.go 432",
                "Early log level set to info",
            ));
            t.push_str(&cal(
                us(s - 4, &pod) - 3000,
                9,
                "startup/utils.go 126",
                &format!("Using NODENAME environment for node name {node}"),
            ));
            t.push_str(&cal(
                us(s - 4, &pod) - 9000,
                9,
                "startup/autodetection_methods.go 103",
                &format!("Using autodetected IPv4 address on interface ens3: {ip}/24"),
            ));
            t.push_str(&cal(
                us(s - 5, &pod),
                9,
                "startup/startup.go 713",
                "No pool changes required",
            ));
            t.push_str(&cal(
                us(s - 6, &pod),
                70,
                "felix/daemon.go 399",
                "Successfully loaded configuration.",
            ));
            t.push_str(&cal(
                us(s - 9, &pod),
                71,
                "felix/int_dataplane.go 2028",
                "Completed first update to dataplane.",
            ));
            for k in (0..3).rev() {
                t.push_str(&cal(us(50 + k * 300, &pod), 71, "felix/summary.go 100", &format!("Summarising {} dataplane reconciliation loops over 5m0s: avg=4ms longest=17ms (resync-filter-v4)", 11 + k)));
            }
            c.add_log("kube-system", &pod, "calico-node", t);
        }
        for pod in c.pods_named("kube-system", "calico-kube-controllers-") {
            let s = pod_age(c, "kube-system", &pod);
            let mut t = String::new();
            for (i, (src, msg)) in [
                ("main.go 107", "Loaded configuration from environment config=&config.Config{LogLevel:\"info\", WorkloadEndpointWorkers:1, ProfileWorkers:1, PolicyWorkers:1, NodeWorkers:1, Kubeconfig:\"\", DatastoreType:\"kubernetes\"}"),
                ("main.go 131", "Ensuring Calico datastore is initialized"),
                ("main.go 157", "Calico datastore is initialized"),
                ("main.go 194", "Getting initial config snapshot from datastore"),
                ("main.go 197", "Got initial config snapshot"),
                ("watchersyncer.go 89", "Start called"),
                ("main.go 211", "Starting status report routine"),
                ("main.go 220", "Starting Prometheus metrics server on port 9094"),
                ("node_controller.go 133", "Starting Node controller"),
                ("node_controller.go 142", "Node controller is now running"),
            ]
            .iter()
            .enumerate()
            {
                t.push_str(&calico_line(us(s, &pod) - 40_000 * i as i64, 1, src, msg));
            }
            c.add_log("kube-system", &pod, "calico-kube-controllers", t);
        }
    }
    if c.opts.cni == Cni::Flannel {
        for pod in c.pods_named("kube-flannel", "kube-flannel-ds-") {
            let s = pod_age(c, "kube-flannel", &pod);
            let node = c
                .find("Pod", Some("kube-flannel"), &pod)
                .and_then(|p| p["spec"]["nodeName"].as_str())
                .unwrap_or_default()
                .to_string();
            let (ip, cidr) = c
                .node(&node)
                .map(|n| (n.ip.clone(), n.pod_cidr.clone()))
                .unwrap_or_default();
            let mut t = String::new();
            t.push_str(&klog('I', us(s, &pod), "main.go:211", "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 etcdPrefix:/coreos.com/network etcdKeyfile: etcdCertfile: etcdCAFile: etcdUsername: etcdPassword: version:false kubeSubnetMgr:true kubeApiUrl: kubeAnnotationPrefix:flannel.alpha.coreos.com kubeConfigFile: iface:[] ifaceRegex:[] ipMasq:true ifaceCanReach: subnetFile:/run/flannel/subnet.env publicIP: publicIPv6: subnetLeaseRenewMargin:60 healthzIP:0.0.0.0 healthzPort:0 iptablesResyncSeconds:5 iptablesForwardRules:true netConfPath:/etc/kube-flannel/net-conf.json setNodeNetworkUnavailable:true}"));
            t.push_str(&klog(
                'I',
                us(s, &pod) - 40_000,
                "kube.go:139",
                "Waiting 10m0s for node controller to sync",
            ));
            t.push_str(&klog(
                'I',
                us(s - 1, &pod),
                "kube.go:469",
                "Starting kube subnet manager",
            ));
            t.push_str(&klog(
                'I',
                us(s - 1, &pod) - 2_000,
                "kube.go:490",
                &format!("Creating the node lease for IPv4. This is the n.Spec.PodCIDRs: [{cidr}]"),
            ));
            t.push_str(&klog(
                'I',
                us(s - 1, &pod) - 9_000,
                "main.go:439",
                &format!("Using interface with name ens3 and address {ip}"),
            ));
            t.push_str(&klog(
                'I',
                us(s - 2, &pod),
                "main.go:386",
                "Wrote subnet file to /run/flannel/subnet.env",
            ));
            t.push_str(&klog(
                'I',
                us(s - 2, &pod) - 500,
                "main.go:390",
                "Running backend.",
            ));
            c.add_log("kube-flannel", &pod, "kube-flannel", t);
        }
    }
    for pod in c.pods_named("kube-system", "metrics-server-") {
        let s = pod_age(c, "kube-system", &pod);
        let mut t = klog(
            'I',
            us(s, &pod),
            "serving.go:374",
            "Generated self-signed cert (/tmp/apiserver.crt, /tmp/apiserver.key)",
        );
        t.push_str(&klog(
            'I',
            us(s - 1, &pod),
            "handler.go:275",
            "Adding GroupVersion metrics.k8s.io v1beta1 to ResourceManager",
        ));
        t.push_str(&klog(
            'I',
            us(s - 1, &pod) - 5_000,
            "requestheader_controller.go:169",
            "Starting RequestHeaderAuthRequestController",
        ));
        t.push_str(&klog(
            'I',
            us(s - 1, &pod) - 6_000,
            "secure_serving.go:213",
            "Serving securely on [::]:10250",
        ));
        t.push_str(&klog(
            'I',
            us(s - 1, &pod) - 9_000,
            "shared_informer.go:320",
            "Caches are synced for RequestHeaderAuthRequestController",
        ));
        c.add_log("kube-system", &pod, "metrics-server", t);
    }
    for pod in c.pods_named("ingress-nginx", "ingress-nginx-controller-") {
        let s = pod_age(c, "ingress-nginx", &pod);
        let mut t = String::from(
            "-------------------------------------------------------------------------------\nNGINX Ingress controller\n  Release:       v1.11.3\n  Build:         0106de65cfccb74405a6dfa7d9daffc6f0a6ef1a\n  Repository:    https://github.com/kubernetes/ingress-nginx\n  nginx version: nginx/1.25.5\n\n-------------------------------------------------------------------------------\n\n",
        );
        t.push_str(&klog(
            'I',
            us(s, &pod),
            "main.go:205",
            "\"Creating API client\" host=\"https://10.96.0.1:443\"",
        ));
        t.push_str(&klog('I', us(s, &pod) - 30_000, "main.go:248", &format!("\"Running in Kubernetes cluster\" major=\"1\" minor=\"31\" git=\"{v}\" state=\"clean\" commit=\"a78aa47129b8539636eb86a9d00e31b2720fe06b\" platform=\"linux/amd64\"")));
        t.push_str(&klog(
            'I',
            us(s - 1, &pod),
            "nginx.go:271",
            "\"Starting NGINX Ingress controller\"",
        ));
        t.push_str(&klog(
            'I',
            us(s - 2, &pod),
            "leaderelection.go:250",
            "attempting to acquire leader lease ingress-nginx/ingress-nginx-leader...",
        ));
        t.push_str(&klog(
            'I',
            us(s - 3, &pod),
            "leaderelection.go:260",
            "successfully acquired lease ingress-nginx/ingress-nginx-leader",
        ));
        t.push_str(&klog(
            'I',
            us(s - 3, &pod) - 200,
            "status.go:85",
            "\"New leader elected\" identity=\"ingress-nginx-controller\"",
        ));
        if c.opts.apps {
            let upstream: Vec<String> = c
                .of_kind("Pod", Some("shop"))
                .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "frontend")
                .filter_map(|p| p["status"]["podIP"].as_str().map(str::to_string))
                .collect();
            for (k, ip) in upstream.iter().cycle().take(6).enumerate() {
                let ago = 40 + 90 * (5 - k as i64);
                let when =
                    (epoch() - chrono::Duration::seconds(ago)).format("%d/%b/%Y:%H:%M:%S +0000");
                t.push_str(&format!(
                    "10.0.0.{} - - [{when}] \"GET / HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" 412 0.00{} [shop-frontend-80] [] {ip}:8080 {} 0.00{} 200 {}\n",
                    50 + k,
                    4120 + k * 3,
                    3 + k % 5,
                    4120 + k * 3,
                    3 + k % 5,
                    hex(&format!("req/{k}"), 32)
                ));
            }
        }
        c.add_log("ingress-nginx", &pod, "controller", t);
    }
}

fn app_logs(c: &mut Cluster) {
    let pods: Vec<(String, String, String)> = c
        .of_kind("Pod", Some("shop"))
        .chain(c.of_kind("Pod", Some("monitoring")))
        .map(|p| {
            (
                p["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["spec"]["containers"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for (ns, pod, container) in pods {
        let s = pod_age(c, &ns, &pod);
        let line = |micros: i64, level: &str, msg: &str, extra: &str| {
            format!(
                "{{\"level\":\"{level}\",\"ts\":\"{}\",\"msg\":\"{msg}\"{extra}}}\n",
                ts_json(micros)
            )
        };
        if ns == "monitoring" {
            let mut t = String::new();
            for (i, (caller, msg)) in [
                (
                    "main.go:601",
                    "No time or size retention was set so using the default time retention",
                ),
                ("main.go:645", "Starting Prometheus Server"),
                ("web.go:571", "Start listening for connections"),
                ("main.go:1144", "TSDB started"),
                ("main.go:1331", "Completed loading of configuration file"),
                ("main.go:1105", "Server is ready to receive web requests."),
            ]
            .iter()
            .enumerate()
            {
                let t0 = epoch() - chrono::Duration::microseconds(us(s, &pod) - 200_000 * i as i64);
                t.push_str(&format!(
                    "ts={} caller={caller} level=info msg=\"{msg}\"\n",
                    t0.format("%Y-%m-%dT%H:%M:%S%.3fZ")
                ));
            }
            c.add_log(&ns, &pod, &container, t);
            continue;
        }
        let mut t = line(
            us(s, &pod),
            "info",
            "starting",
            &format!(
                ",\"service\":\"{container}\",\"version\":\"{}\"",
                c.find("Pod", Some(&ns), &pod)
                    .and_then(|p| p["spec"]["containers"][0]["image"].as_str())
                    .and_then(|i| i.rsplit(':').next())
                    .unwrap_or("")
            ),
        );
        t.push_str(&line(
            us(s, &pod) - 150_000,
            "info",
            "listening",
            ",\"addr\":\":8080\"",
        ));
        for k in (0..4).rev() {
            t.push_str(&line(
                us(30 + 120 * k, &pod),
                "info",
                "request served",
                &format!(
                    ",\"method\":\"GET\",\"path\":\"/\",\"status\":200,\"duration_ms\":{}",
                    3 + k
                ),
            ));
        }
        c.add_log(&ns, &pod, &container, t);
        let restarted = c.find("Pod", Some(&ns), &pod).is_some_and(|p| {
            p["status"]["containerStatuses"][0]["restartCount"]
                .as_i64()
                .unwrap_or(0)
                > 0
        });
        if restarted {
            let finished = pod_age(c, &ns, &pod) + 1;
            let mut prev = line(
                us(20 * 86_400 - 60, &pod),
                "info",
                "starting",
                &format!(",\"service\":\"{container}\""),
            );
            prev.push_str(&line(
                us(finished + 2, &pod),
                "error",
                "redis ping failed",
                ",\"err\":\"dial tcp 10.101.88.14:6379: connect: connection refused\"",
            ));
            prev.push_str(&line(
                us(finished, &pod),
                "fatal",
                "cannot reach session store, exiting",
                "",
            ));
            c.add_previous_log(&ns, &pod, &container, prev);
        }
    }
}

/// Events of the last hour: worker-3 joining (50 min ago) and the frontend rollout (25 min ago).
fn events(c: &mut Cluster) {
    if let Some(w3) = c.node("worker-3").cloned().filter(|w| w.created_ago < HOUR) {
        let node = ObjRef::new("Node", None, &w3.name);
        let t = w3.created_ago + 8;
        c.event(
            EventDef::normal(node.clone(), "Starting", "Starting kubelet.", "kubelet", t)
                .on_host(&w3.name),
        );
        c.event(
            EventDef::normal(
                node.clone(),
                "InvalidDiskCapacity",
                "invalid capacity 0 on image filesystem",
                "kubelet",
                t,
            )
            .on_host(&w3.name)
            .warning(),
        );
        for (reason, status) in [
            ("NodeHasSufficientMemory", "NodeHasSufficientMemory"),
            ("NodeHasNoDiskPressure", "NodeHasNoDiskPressure"),
            ("NodeHasSufficientPID", "NodeHasSufficientPID"),
        ] {
            c.event(
                EventDef::normal(
                    node.clone(),
                    reason,
                    format!("Node {} status is now: {status}", w3.name),
                    "kubelet",
                    t - 1,
                )
                .on_host(&w3.name)
                .repeated(2, t),
            );
        }
        c.event(
            EventDef::normal(
                node.clone(),
                "NodeAllocatableEnforced",
                "Updated Node Allocatable limit across pods",
                "kubelet",
                t - 1,
            )
            .on_host(&w3.name),
        );
        c.event(EventDef::normal(
            node.clone(),
            "RegisteredNode",
            format!("Node {0} event: Registered Node {0} in Controller", w3.name),
            "node-controller",
            w3.created_ago - 2,
        ));
        if c.opts.cni != Cni::None {
            c.event(
                EventDef::normal(
                    node.clone(),
                    "NodeReady",
                    format!("Node {} status is now: NodeReady", w3.name),
                    "kubelet",
                    w3.created_ago - 65,
                )
                .on_host(&w3.name),
            );
        }
        let mut daemons: Vec<(String, String, String)> = Vec::new();
        for (ns, prefix, container) in [
            ("kube-system", "kube-proxy-", "kube-proxy"),
            ("kube-system", "calico-node-", "calico-node"),
            ("kube-flannel", "kube-flannel-ds-", "kube-flannel"),
        ] {
            for p in c.of_kind("Pod", Some(ns)) {
                let name = p["metadata"]["name"].as_str().unwrap_or_default();
                if name.starts_with(prefix) && p["spec"]["nodeName"] == w3.name.as_str() {
                    daemons.push((ns.into(), name.into(), container.into()));
                }
            }
        }
        for (ns, pod, container) in daemons {
            let s = w3.created_ago - 20;
            let image = c
                .find("Pod", Some(&ns), &pod)
                .and_then(|p| p["spec"]["containers"][0]["image"].as_str())
                .unwrap_or_default()
                .to_string();
            let pref = ObjRef::new("Pod", Some(&ns), &pod);
            let fp = format!("spec.containers{{{container}}}");
            c.event(EventDef::normal(
                pref.clone(),
                "Scheduled",
                format!("Successfully assigned {ns}/{pod} to {}", w3.name),
                "default-scheduler",
                s,
            ));
            c.event(
                EventDef::normal(
                    pref.clone(),
                    "Pulling",
                    format!("Pulling image \"{image}\""),
                    "kubelet",
                    s - 1,
                )
                .on_host(&w3.name)
                .field(&fp),
            );
            c.event(EventDef::normal(pref.clone(), "Pulled", format!("Successfully pulled image \"{image}\" in 6.412s (6.412s including waiting). Image size: {} bytes.", 30_000_000 + hash64(&[&image]) % 90_000_000), "kubelet", s - 8).on_host(&w3.name).field(&fp));
            c.event(
                EventDef::normal(
                    pref.clone(),
                    "Created",
                    format!("Created container {container}"),
                    "kubelet",
                    s - 8,
                )
                .on_host(&w3.name)
                .field(&fp),
            );
            c.event(
                EventDef::normal(
                    pref.clone(),
                    "Started",
                    format!("Started container {container}"),
                    "kubelet",
                    s - 9,
                )
                .on_host(&w3.name)
                .field(&fp),
            );
            if container == "calico-node" {
                c.event(
                    EventDef::normal(pref.clone(), "Unhealthy", "Readiness probe failed: calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket: dial unix /var/run/calico/bird.ctl: connect: connection refused", "kubelet", s - 20)
                        .on_host(&w3.name)
                        .field(&fp)
                        .warning()
                        .repeated(2, s - 10),
                );
            }
            if container == "kube-proxy" {
                c.event(EventDef::normal(
                    node.clone(),
                    "Starting",
                    "",
                    "kube-proxy",
                    s - 10,
                ));
            }
        }
    }
    if c.opts.apps {
        frontend_rollout_events(c);
    }
}

fn frontend_rollout_events(c: &mut Cluster) {
    let rs: Vec<(String, i64)> = c
        .of_kind("ReplicaSet", Some("shop"))
        .filter(|r| r["metadata"]["ownerReferences"][0]["name"] == "frontend")
        .map(|r| {
            (
                r["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["spec"]["replicas"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let Some(new_rs) = rs.iter().find(|(_, n)| *n > 0).map(|(n, _)| n.clone()) else {
        return;
    };
    let Some(old_rs) = rs.iter().find(|(_, n)| *n == 0).map(|(n, _)| n.clone()) else {
        return;
    };
    let new_pods = c.pods_named("shop", &format!("{new_rs}-"));
    let dep = ObjRef::new("Deployment", Some("shop"), "frontend");
    let total = new_pods.len() as i64;
    let t0 = FRONTEND_ROLLOUT_AGO + 1;
    for (i, pod) in new_pods.iter().enumerate() {
        let i = i as i64;
        let step = t0 - 22 * i;
        let node = c
            .find("Pod", Some("shop"), pod)
            .and_then(|p| p["spec"]["nodeName"].as_str())
            .unwrap_or_default()
            .to_string();
        let image = c
            .find("Pod", Some("shop"), pod)
            .and_then(|p| p["spec"]["containers"][0]["image"].as_str())
            .unwrap_or_default()
            .to_string();
        c.event(EventDef::normal(
            dep.clone(),
            "ScalingReplicaSet",
            format!("Scaled up replica set {new_rs} from {i} to {}", i + 1),
            "deployment-controller",
            step,
        ));
        c.event(EventDef::normal(
            ObjRef::new("ReplicaSet", Some("shop"), &new_rs),
            "SuccessfulCreate",
            format!("Created pod: {pod}"),
            "replicaset-controller",
            step,
        ));
        let pref = ObjRef::new("Pod", Some("shop"), pod);
        let fp = "spec.containers{frontend}";
        c.event(EventDef::normal(
            pref.clone(),
            "Scheduled",
            format!("Successfully assigned shop/{pod} to {node}"),
            "default-scheduler",
            step,
        ));
        c.event(
            EventDef::normal(
                pref.clone(),
                "Pulling",
                format!("Pulling image \"{image}\""),
                "kubelet",
                step - 1,
            )
            .on_host(&node)
            .field(fp),
        );
        c.event(EventDef::normal(pref.clone(), "Pulled", format!("Successfully pulled image \"{image}\" in 2.837s (2.837s including waiting). Image size: 48213645 bytes."), "kubelet", step - 4).on_host(&node).field(fp));
        c.event(
            EventDef::normal(
                pref.clone(),
                "Created",
                "Created container frontend",
                "kubelet",
                step - 4,
            )
            .on_host(&node)
            .field(fp),
        );
        c.event(
            EventDef::normal(
                pref.clone(),
                "Started",
                "Started container frontend",
                "kubelet",
                step - 5,
            )
            .on_host(&node)
            .field(fp),
        );
        let old_pod = format!("{old_rs}-{}", super::suffix(&format!("{old_rs}/{i}"), 5));
        let old_node = super::apps::worker(c, i as usize);
        c.event(EventDef::normal(
            dep.clone(),
            "ScalingReplicaSet",
            format!(
                "Scaled down replica set {old_rs} from {} to {}",
                total - i,
                total - i - 1
            ),
            "deployment-controller",
            step - 12,
        ));
        c.event(EventDef::normal(
            ObjRef::new("ReplicaSet", Some("shop"), &old_rs),
            "SuccessfulDelete",
            format!("Deleted pod: {old_pod}"),
            "replicaset-controller",
            step - 12,
        ));
        c.event(
            EventDef::normal(
                ObjRef::new("Pod", Some("shop"), &old_pod),
                "Killing",
                "Stopping container frontend",
                "kubelet",
                step - 12,
            )
            .on_host(&old_node)
            .field(fp),
        );
    }
}
