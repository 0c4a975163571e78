//! Real kubectl against the embedded server: the commands an on-call engineer types must work
//! and print the scenario's data, and a restricted user sees kubectl's usual Forbidden line.

use crate::common;

use std::path::Path;

use ktriage::scenarios::Identity;
use serde_json::json;

struct Kubectl<'a> {
    kubeconfig: &'a Path,
    cache: &'a Path,
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl<'_> {
    async fn run(&self, args: &[&str]) -> Output {
        let out = tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .output()
            .await
            .expect("kubectl runs");
        Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_the_healthy_scenario() {
    let server = common::serve(common::scenario("healthy")).await;
    let (dir, kubeconfig) = common::kubeconfig_file(&server);
    let cache = dir.path().join("cache");
    let k = Kubectl {
        kubeconfig: &kubeconfig,
        cache: &cache,
    };

    let nodes = k.ok(&["get", "nodes"]).await;
    let header = nodes.lines().next().unwrap_or("");
    for col in ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] {
        assert!(header.contains(col), "header {header:?}");
    }
    for node in ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"] {
        assert!(nodes.contains(node), "{node} missing:\n{nodes}");
    }
    assert!(nodes.contains("control-plane"), "roles column:\n{nodes}");
    assert!(
        nodes.lines().skip(1).all(|l| l.contains(" Ready ")),
        "{nodes}"
    );

    let pods = k.ok(&["get", "pods", "-A"]).await;
    assert!(
        pods.lines().next().unwrap_or("").starts_with("NAMESPACE"),
        "{pods}"
    );
    assert!(
        pods.lines()
            .any(|l| l.starts_with("kube-system") && l.contains("coredns-")),
        "{pods}"
    );
    assert!(pods.contains("kube-apiserver-cp-1"), "{pods}");

    let leases = k.ok(&["get", "leases", "-n", "kube-system"]).await;
    assert!(
        leases.contains("kube-scheduler") && leases.contains("HOLDER"),
        "{leases}"
    );

    let events = k.ok(&["get", "events", "-A"]).await;
    assert!(events.lines().count() > 1, "{events}");

    let describe = k.ok(&["describe", "node", "worker-1"]).await;
    for want in [
        "Name:               worker-1",
        "Conditions:",
        "Non-terminated Pods:",
        "Lease:",
        "kubelet is posting ready status",
    ] {
        assert!(
            describe.contains(want),
            "describe lacks {want:?}:\n{describe}"
        );
    }

    let logs = k
        .ok(&["logs", "-n", "kube-system", "kube-scheduler-cp-1"])
        .await;
    assert!(logs.contains("leaderelection"), "{logs}");

    assert_eq!(
        k.ok(&["auth", "can-i", "list", "nodes"]).await.trim(),
        "yes"
    );
    let whoami = k.ok(&["auth", "whoami"]).await;
    assert!(
        whoami.contains("kubernetes-admin") && whoami.contains("system:masters"),
        "{whoami}"
    );

    let readyz = k.ok(&["get", "--raw", "/readyz?verbose"]).await;
    assert!(
        readyz.contains("[+]etcd ok") && readyz.contains("readyz check passed"),
        "{readyz}"
    );

    // A write is refused and recorded.
    let create = k.run(&["create", "namespace", "x"]).await;
    assert!(!create.ok, "create must fail: {}", create.stdout);
    assert!(create.stderr.contains("read-only"), "{}", create.stderr);
    let writes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "POST");
    assert_eq!(writes[0].resource, "namespaces");
    assert_eq!(writes[0].code, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_as_restricted_user_is_forbidden() {
    let mut scenario = common::scenario("healthy");
    scenario.behavior.user = Some(Identity {
        name: "jane".into(),
        groups: vec!["developers".into()],
    });
    scenario.snapshot.objects.push(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "jane-view", "namespace": "shop"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]
    }));
    let server = common::serve(scenario).await;
    let (dir, kubeconfig) = common::kubeconfig_file(&server);
    let cache = dir.path().join("cache");
    let k = Kubectl {
        kubeconfig: &kubeconfig,
        cache: &cache,
    };

    let out = k.run(&["get", "nodes"]).await;
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "Error from server (Forbidden): nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        k.ok(&["auth", "can-i", "list", "pods", "-n", "shop"])
            .await
            .trim(),
        "yes"
    );
    let no = k.run(&["auth", "can-i", "list", "nodes"]).await;
    assert_eq!(no.stdout.trim(), "no");
    let pods = k.ok(&["get", "pods", "-n", "shop"]).await;
    assert!(pods.contains("frontend"), "{pods}");
}
