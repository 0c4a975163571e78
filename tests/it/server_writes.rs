//! Training mode's write path, with real kubectl against a writable embedded server: apply
//! (client- and server-side) is idempotent, stale versions conflict, duplicates and invalid
//! objects get kubectl's usual messages, patches of each kind, scale, rollout restart and
//! undo with their revisions, a fixed Service selector filling its Endpoints, images that
//! cannot be pulled, Secrets refused; and the default (`serve`, `demo`) still refuses every
//! write.

use std::path::{Path, PathBuf};

use crate::common;
use ktriage::scenarios::Scenario;
use ktriage::server::{self, ServerConfig, ServerHandle};
use serde_json::Value;

/// kubectl with a server's kubeconfig and its own cache dir.
pub struct Kubectl {
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Kubectl {
    pub fn new(server: &ServerHandle) -> Self {
        let (dir, kubeconfig) = common::kubeconfig_file(server);
        let cache = dir.path().join("cache");
        Kubectl {
            _dir: dir,
            kubeconfig,
            cache,
        }
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with_editor(args, "false").await
    }

    /// kubectl with `EDITOR` set (for `kubectl edit`).
    pub async fn run_with_editor(&self, args: &[&str], editor: &str) -> Output {
        let out = tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env("EDITOR", editor)
            .env_remove("KUBE_EDITOR")
            .output()
            .await
            .expect("kubectl runs");
        Output {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// kubectl that must fail; returns its stderr.
    pub async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(!out.ok, "kubectl {args:?} should fail:\n{}", out.stdout);
        out.stderr
    }

    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all).await).expect("kubectl prints JSON")
    }

    /// Writes a manifest into the temp dir and returns its path.
    pub fn manifest(&self, name: &str, yaml: &str) -> String {
        let path = self.dir().join(name);
        std::fs::write(&path, yaml).expect("manifest written");
        path.display().to_string()
    }
}

pub async fn training(scenario: Scenario) -> ServerHandle {
    server::start(ServerConfig::training(scenario))
        .await
        .expect("training server starts")
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  namespace: default
  labels: {app: demo}
spec:
  replicas: 2
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
          name: http
";

fn pod_lines(pods: &str) -> Vec<&str> {
    pods.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_twice_is_unchanged_and_stale_duplicate_or_invalid_writes_are_refused() {
    let server = training(common::scenario("healthy")).await;
    let k = Kubectl::new(&server);
    let file = k.manifest("demo.yaml", DEPLOYMENT);

    let first = k.ok(&["apply", "-f", &file]).await;
    assert_eq!(first.trim(), "deployment.apps/demo created");
    let before = k.json(&["get", "deployment", "demo"]).await;
    let second = k.ok(&["apply", "-f", &file]).await;
    assert_eq!(second.trim(), "deployment.apps/demo unchanged");
    let after = k.json(&["get", "deployment", "demo"]).await;
    assert_eq!(before, after, "a second apply must change nothing");
    assert!(
        before["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    // Server-side apply, twice.
    let ssa = k.ok(&["apply", "--server-side", "-f", &file]).await;
    assert_eq!(ssa.trim(), "deployment.apps/demo serverside-applied");
    let ssa_obj = k.json(&["get", "deployment", "demo"]).await;
    k.ok(&["apply", "--server-side", "-f", &file]).await;
    assert_eq!(
        ssa_obj["metadata"]["resourceVersion"],
        k.json(&["get", "deployment", "demo"]).await["metadata"]["resourceVersion"]
    );

    // A replace from a stale copy conflicts, as on a real cluster.
    let stale = k.dir().join("stale.json");
    std::fs::write(&stale, after.to_string()).unwrap();
    k.ok(&["label", "deployment", "demo", "team=web"]).await;
    let conflict = k
        .fails(&["replace", "-f", &stale.display().to_string()])
        .await;
    assert!(
        conflict.contains("Error from server (Conflict)")
            && conflict.contains("Operation cannot be fulfilled on deployments.apps \"demo\": the object has been modified; please apply your changes to the latest version and try again"),
        "{conflict}"
    );

    let exists = k.fails(&["create", "-f", &file]).await;
    assert!(
        exists.contains("Error from server (AlreadyExists)")
            && exists.contains("deployments.apps \"demo\" already exists"),
        "{exists}"
    );

    let bad = k.manifest(
        "bad.yaml",
        &DEPLOYMENT
            .replace("name: demo\n", "name: broken\n")
            .replace("replicas: 2", "replicas: -1")
            .replace("containerPort: 80", "containerPort: 70000"),
    );
    let invalid = k.fails(&["apply", "-f", &bad]).await;
    assert!(
        invalid.contains("The Deployment \"broken\" is invalid")
            && invalid.contains("spec.replicas: Invalid value: -1: must be greater than or equal to 0")
            && invalid.contains("spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        "{invalid}"
    );
    assert!(
        k.run(&["get", "deployment", "broken"])
            .await
            .stderr
            .contains("NotFound"),
        "an invalid object is not stored"
    );

    // Secrets are never written: the server holds no Secret data.
    let secret = k
        .fails(&[
            "create",
            "secret",
            "generic",
            "db",
            "--from-literal=password=hunter2",
        ])
        .await;
    assert!(
        secret.contains("secrets is forbidden") && secret.contains("does not write Secrets"),
        "{secret}"
    );
    for r in server.requests() {
        assert!(
            !(r.resource.starts_with("secrets") && r.is_write() && r.code < 300),
            "a Secret was written: {r:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_scale_and_rollouts_take_effect() {
    let server = training(common::scenario("healthy")).await;
    let k = Kubectl::new(&server);
    let file = k.manifest("demo.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", &file]).await;
    let running = |pods: &str| {
        pod_lines(pods)
            .iter()
            .filter(|l| l.contains("Running") && l.contains("1/1"))
            .count()
    };
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(running(&pods), 2, "{pods}");

    // Strategic merge: the container is merged by name, its ports kept.
    k.ok(&[
        "patch",
        "deployment",
        "demo",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27.1"}]}}}}"#,
    ])
    .await;
    let d = k.json(&["get", "deployment", "demo"]).await;
    let web = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(web["image"], "nginx:1.27.1");
    assert_eq!(web["ports"][0]["containerPort"], 80);
    // Merge patch: a label added, another removed.
    k.ok(&[
        "patch",
        "deployment",
        "demo",
        "--type",
        "merge",
        "-p",
        r#"{"metadata":{"labels":{"tier":"web","app":null}}}"#,
    ])
    .await;
    let d = k.json(&["get", "deployment", "demo"]).await;
    assert_eq!(d["metadata"]["labels"], serde_json::json!({"tier": "web"}));
    // JSON patch.
    k.ok(&[
        "patch",
        "deployment",
        "demo",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":3}]"#,
    ])
    .await;
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(running(&pods), 3, "{pods}");
    assert!(
        pod_lines(&pods).iter().all(|l| !l.contains("Terminating")),
        "{pods}"
    );

    // Scale: the ReplicaSet's pods follow.
    let scaled = k.ok(&["scale", "deployment", "demo", "--replicas=5"]).await;
    assert_eq!(scaled.trim(), "deployment.apps/demo scaled");
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(running(&pods), 5, "{pods}");
    let status = k
        .ok(&["rollout", "status", "deployment/demo", "--timeout=20s"])
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
    k.ok(&["scale", "deployment", "demo", "--replicas=1"]).await;
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(pod_lines(&pods).len(), 1, "{pods}");

    // Restart, then undo: revisions as a real cluster numbers them (the undone template's
    // ReplicaSet becomes the newest revision).
    k.ok(&["rollout", "restart", "deployment/demo"]).await;
    let restarted = k.json(&["get", "deployment", "demo"]).await;
    assert!(
        restarted["spec"]["template"]["metadata"]["annotations"]
            ["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
    let undo = k.ok(&["rollout", "undo", "deployment/demo"]).await;
    assert_eq!(undo.trim(), "deployment.apps/demo rolled back");
    let history = k.ok(&["rollout", "history", "deployment/demo"]).await;
    let revisions: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "3", "4"], "{history}");
    let d = k.json(&["get", "deployment", "demo"]).await;
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_null(),
        "{d}"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27.1"
    );
    let rs = k
        .ok(&["get", "replicasets", "-l", "app=demo", "--no-headers"])
        .await;
    let desired: Vec<i64> = pod_lines(&rs)
        .iter()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    assert_eq!(desired.iter().sum::<i64>(), 1, "{rs}");

    // An image that does not exist: the new pod waits in ImagePullBackOff and the old one
    // keeps serving.
    k.ok(&[
        "set",
        "image",
        "deployment/demo",
        "web=nginx:does-not-exist",
    ])
    .await;
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert!(
        pods.contains("ImagePullBackOff") && running(&pods) == 1,
        "{pods}"
    );

    // Deleting the Deployment deletes its ReplicaSets and pods; watches see it.
    k.ok(&["delete", "deployment", "demo"]).await;
    // The controllers ran before the delete was answered: nothing is left to wait for.
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    let rs = k.ok(&["get", "rs", "-l", "app=demo", "--no-headers"]).await;
    assert!(
        pod_lines(&pods).is_empty() && pod_lines(&rs).is_empty(),
        "{pods}{rs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixing_a_service_selector_fills_its_endpoints() {
    let server = training(common::scenario("service-no-endpoints")).await;
    let k = Kubectl::new(&server);
    let endpoints = k.ok(&["-n", "shop", "get", "endpoints", "payments"]).await;
    assert!(endpoints.contains("<none>"), "{endpoints}");

    // A wrong fix changes nothing.
    k.ok(&[
        "-n",
        "shop",
        "patch",
        "service",
        "payments",
        "-p",
        r#"{"spec":{"selector":{"app.kubernetes.io/name":"paymentz"}}}"#,
    ])
    .await;
    let endpoints = k.ok(&["-n", "shop", "get", "endpoints", "payments"]).await;
    assert!(endpoints.contains("<none>"), "{endpoints}");

    k.ok(&[
        "-n",
        "shop",
        "patch",
        "service",
        "payments",
        "-p",
        r#"{"spec":{"selector":{"app.kubernetes.io/name":"payments"}}}"#,
    ])
    .await;
    let ep = k
        .json(&["-n", "shop", "get", "endpoints", "payments"])
        .await;
    let addresses = ep["subsets"][0]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(addresses.len(), 2, "{ep}");
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 8080, "{ep}");
    let table = k.ok(&["-n", "shop", "get", "endpoints", "payments"]).await;
    assert!(table.contains(":8080"), "{table}");
    let slices = k
        .json(&[
            "-n",
            "shop",
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=payments",
        ])
        .await;
    let endpoints = slices["items"][0]["endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(endpoints.len(), 2, "{slices}");
    assert!(endpoints.iter().all(|e| e["conditions"]["ready"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_storage_class_binds_the_waiting_claim() {
    let server = training(common::scenario("pvc-pending-no-storageclass-or-pv")).await;
    let k = Kubectl::new(&server);
    let pvcs = k.json(&["get", "pvc", "-A"]).await;
    let pending: Vec<(String, String)> = pvcs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"]["phase"] == "Pending")
        .map(|p| {
            (
                p["metadata"]["namespace"].as_str().unwrap().to_string(),
                p["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!pending.is_empty(), "{pvcs}");
    let sc = k.manifest(
        "sc.yaml",
        "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}
provisioner: rancher.io/local-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
",
    );
    k.ok(&["apply", "-f", &sc]).await;
    for (ns, name) in &pending {
        let pvc = k.json(&["-n", ns, "get", "pvc", name]).await;
        assert_eq!(pvc["status"]["phase"], "Bound", "{pvc}");
        let volume = pvc["spec"]["volumeName"].as_str().unwrap();
        let pv = k.json(&["get", "pv", volume]).await;
        assert_eq!(pv["spec"]["claimRef"]["name"], name.as_str());
    }
    // The pod that waited for its claim is scheduled and runs.
    let pod = k.json(&["-n", "shop", "get", "pod", "postgres-0"]).await;
    assert_eq!(pod["status"]["phase"], "Running", "{pod}");
    assert!(pod["spec"]["nodeName"].is_string(), "{pod}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_fit_get_the_pods_scheduled_and_too_big_ones_do_not() {
    let server = training(common::scenario("pending-unschedulable")).await;
    let k = Kubectl::new(&server);
    let pods = || async {
        k.ok(&[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=search",
            "--no-headers",
        ])
        .await
    };
    assert!(pods().await.contains("Pending"));
    // Still more than a worker has: the new pods stay Pending, with the scheduler's reason.
    k.ok(&[
        "-n",
        "shop",
        "set",
        "resources",
        "deployment/search",
        "--requests=cpu=9",
    ])
    .await;
    let big = pods().await;
    assert!(!big.contains("Running"), "{big}");
    let events = k
        .ok(&[
            "-n",
            "shop",
            "get",
            "events",
            "--field-selector",
            "reason=FailedScheduling",
        ])
        .await;
    assert!(events.contains("Insufficient cpu"), "{events}");

    k.ok(&[
        "-n",
        "shop",
        "set",
        "resources",
        "deployment/search",
        "--requests=cpu=500m,memory=1Gi",
    ])
    .await;
    let fixed = pods().await;
    let lines = pod_lines(&fixed);
    assert_eq!(lines.len(), 2, "{fixed}");
    assert!(lines.iter().all(|l| l.contains("Running")), "{fixed}");
    let nodes: Vec<String> = k
        .json(&[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=search",
        ])
        .await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_string())
        .collect();
    assert!(nodes.iter().all(|n| n.starts_with("worker-")), "{nodes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_servers_refuse_every_write() {
    let server = common::serve(common::scenario("healthy")).await;
    assert!(!server.writable());
    let k = Kubectl::new(&server);
    let file = k.manifest("demo.yaml", DEPLOYMENT);
    for args in [
        vec!["apply", "-f", file.as_str()],
        vec!["apply", "--server-side", "-f", file.as_str()],
        vec![
            "scale",
            "-n",
            "kube-system",
            "deployment",
            "coredns",
            "--replicas=3",
        ],
        vec!["label", "node", "worker-1", "x=y"],
        vec!["delete", "-n", "kube-system", "pod", "kube-scheduler-cp-1"],
        vec![
            "rollout",
            "restart",
            "-n",
            "kube-system",
            "deployment/coredns",
        ],
    ] {
        let err = k.fails(&args).await;
        assert!(err.contains("read-only"), "{args:?}: {err}");
    }
    let writes: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect();
    assert!(writes.len() >= 6, "{writes:?}");
    assert!(
        writes.iter().all(|r| r.code == 405 || r.code == 403),
        "{writes:?}"
    );
    assert_eq!(server.writes_accepted(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_label_annotate_and_delete_behave_as_on_a_cluster() {
    let server = training(common::scenario("healthy")).await;
    let k = Kubectl::new(&server);
    let file = k.manifest("demo.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", &file]).await;

    // kubectl edit: GET, the editor, then a patch of what changed.
    let edited = k
        .run_with_editor(
            &["edit", "deployment", "demo"],
            "sed -i -e 's/replicas: 2/replicas: 3/'",
        )
        .await;
    assert!(edited.ok, "{}{}", edited.stdout, edited.stderr);
    assert_eq!(edited.stdout.trim(), "deployment.apps/demo edited");
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(pod_lines(&pods).len(), 3, "{pods}");

    k.ok(&["label", "deployment", "demo", "owner=shop"]).await;
    k.ok(&["annotate", "deployment", "demo", "note=fixed in training"])
        .await;
    let d = k.json(&["get", "deployment", "demo"]).await;
    assert_eq!(d["metadata"]["labels"]["owner"], "shop");
    assert_eq!(d["metadata"]["annotations"]["note"], "fixed in training");
    let relabel = k.fails(&["label", "deployment", "demo", "owner=web"]).await;
    assert!(relabel.contains("already has a value (shop)"), "{relabel}");

    // A deleted pod comes back under a new name; the Endpoints follow.
    let svc = k.manifest(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: demo, namespace: default}\nspec:\n  selector: {app: demo}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n",
    );
    k.ok(&["apply", "-f", &svc]).await;
    let ep = k.json(&["get", "endpoints", "demo"]).await;
    assert_eq!(ep["subsets"][0]["addresses"].as_array().unwrap().len(), 3);
    let victim = pod_lines(&pods)[0]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let deleted = k.ok(&["delete", "pod", &victim]).await;
    assert_eq!(deleted.trim(), format!("pod \"{victim}\" deleted"));
    let pods = k
        .ok(&["get", "pods", "-l", "app=demo", "--no-headers"])
        .await;
    assert_eq!(pod_lines(&pods).len(), 3, "{pods}");
    assert!(!pods.contains(&victim), "{pods}");
    let ep = k.json(&["get", "endpoints", "demo"]).await;
    let targets: Vec<&str> = ep["subsets"][0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["targetRef"]["name"].as_str())
        .collect();
    assert_eq!(targets.len(), 3, "{ep}");
    assert!(!targets.contains(&victim.as_str()), "{ep}");
    // apply, edit, label, annotate, apply, delete (the refused relabel never left kubectl).
    assert_eq!(server.writes_accepted(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rbac_change_applies_to_the_next_request() {
    let mut scenario = common::scenario("healthy");
    scenario.behavior.user = Some(ktriage::scenarios::Identity {
        name: "jane".into(),
        groups: vec!["developers".into()],
    });
    // Jane may manage the role bindings of shop, nothing else.
    scenario.snapshot.objects.extend([
        serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "binder", "namespace": "shop"},
            "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"],
                       "verbs": ["get", "list", "create", "delete"]}]
        }),
        serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "jane-binder", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "binder"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]
        }),
    ]);
    let server = training(scenario).await;
    let k = Kubectl::new(&server);
    let refused = k.fails(&["-n", "shop", "get", "pods"]).await;
    assert!(refused.contains("Forbidden"), "{refused}");
    assert_eq!(
        k.run(&["-n", "shop", "auth", "can-i", "list", "pods"])
            .await
            .stdout
            .trim(),
        "no"
    );
    k.ok(&[
        "-n",
        "shop",
        "create",
        "rolebinding",
        "jane-view",
        "--clusterrole=view",
        "--user=jane",
    ])
    .await;
    let pods = k.ok(&["-n", "shop", "get", "pods"]).await;
    assert!(pods.contains("NAME"), "{pods}");
    assert_eq!(
        k.ok(&["-n", "shop", "auth", "can-i", "list", "pods"])
            .await
            .trim(),
        "yes"
    );
    k.ok(&["-n", "shop", "delete", "rolebinding", "jane-view"])
        .await;
    let refused = k.fails(&["-n", "shop", "get", "pods"]).await;
    assert!(refused.contains("Forbidden"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pushed_tag_fixes_an_image_pull_failure_and_another_does_not() {
    let server = training(common::scenario("image-pull-failure")).await;
    let k = Kubectl::new(&server);
    let pods = || async {
        k.ok(&[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=recommendations",
            "--no-headers",
        ])
        .await
    };
    let before = pods().await;
    assert!(before.contains("ImagePullBackOff"), "{before}");
    let repo = "ghcr.io/acme/shop-recommendations";

    k.ok(&[
        "-n",
        "shop",
        "set",
        "image",
        "deployment/recommendations",
        &format!("recommendations={repo}:v1.4.1"),
    ])
    .await;
    let wrong = pods().await;
    assert!(
        wrong.contains("ImagePullBackOff") && !wrong.contains("Running"),
        "{wrong}"
    );

    k.ok(&[
        "-n",
        "shop",
        "set",
        "image",
        "deployment/recommendations",
        &format!("recommendations={repo}:1.4.0"),
    ])
    .await;
    let fixed = pods().await;
    let lines = pod_lines(&fixed);
    assert_eq!(lines.len(), 2, "{fixed}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("1/1") && l.contains("Running")),
        "{fixed}"
    );
    let status = k
        .ok(&[
            "-n",
            "shop",
            "rollout",
            "status",
            "deployment/recommendations",
            "--timeout=10s",
        ])
        .await;
    assert!(status.contains("successfully rolled out"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_see_the_writes() {
    use futures::StreamExt;
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, WatchEvent, WatchParams};

    let server = training(common::scenario("healthy")).await;
    let client = common::client(&server).await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let mut events = api
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch starts")
        .boxed();
    let k = Kubectl::new(&server);
    let file = k.manifest("demo.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", &file]).await;
    k.ok(&["scale", "deployment", "demo", "--replicas=3"]).await;
    k.ok(&["delete", "deployment", "demo"]).await;
    let mut seen = Vec::new();
    while !seen.contains(&"DELETED") {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("an event within 10 s")
            .expect("the watch goes on")
            .expect("a valid event");
        seen.push(match ev {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            _ => "OTHER",
        });
    }
    assert_eq!(seen.first(), Some(&"ADDED"), "{seen:?}");
    assert!(seen.contains(&"MODIFIED"), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_security_admission_refuses_until_the_namespace_allows() {
    let server = training(common::scenario("quota-or-admission-blocked")).await;
    let k = Kubectl::new(&server);
    let pods = || async {
        k.ok(&[
            "-n",
            "shop",
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/name=reports",
            "--no-headers",
        ])
        .await
    };
    assert!(pod_lines(&pods().await).is_empty());

    let run = k
        .fails(&["-n", "shop", "run", "probe", "--image=nginx:1.27"])
        .await;
    assert!(
        run.contains("Error from server (Forbidden)")
            && run.contains("violates PodSecurity \"restricted:latest\"")
            && run.contains("runAsNonRoot != true"),
        "{run}"
    );

    // Restarting the rollout does not help: its pods are refused as well.
    k.ok(&["-n", "shop", "rollout", "restart", "deployment/reports"])
        .await;
    assert!(pod_lines(&pods().await).is_empty());
    let d = k
        .json(&["-n", "shop", "get", "deployment", "reports"])
        .await;
    let failure = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "ReplicaFailure")
        .cloned()
        .unwrap_or_default();
    assert!(
        failure["message"]
            .as_str()
            .is_some_and(|m| m.contains("violates PodSecurity")),
        "{d}"
    );

    // The namespace's level relaxed: the ReplicaSets' creates go through at once.
    k.ok(&[
        "label",
        "namespace",
        "shop",
        "pod-security.kubernetes.io/enforce=baseline",
        "--overwrite",
    ])
    .await;
    let running = pods().await;
    let lines = pod_lines(&running);
    assert_eq!(lines.len(), 2, "{running}");
    assert!(lines.iter().all(|l| l.contains("Running")), "{running}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_cannot_be_called_blocks_pods_until_it_may_fail_open() {
    let server = training(common::scenario("admission-webhook-unavailable")).await;
    let k = Kubectl::new(&server);
    let pods = || async {
        let out = k.ok(&["-n", "shop", "get", "pods", "--no-headers"]).await;
        pod_lines(&out)
            .iter()
            .filter(|l| l.starts_with("cart-") && l.contains("Running"))
            .count()
    };
    assert_eq!(pods().await, 2);
    let run = k
        .fails(&["-n", "shop", "run", "probe", "--image=nginx:1.27"])
        .await;
    assert!(
        run.contains("failed calling webhook \"validate.kyverno.svc-fail\"")
            && run.contains("service \"kyverno-svc\" not found"),
        "{run}"
    );
    // The leftover configuration fails open: the third cart replica is created at once.
    k.ok(&[
        "patch",
        "validatingwebhookconfiguration",
        "kyverno-resource-validating-webhook-cfg",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"}]"#,
    ])
    .await;
    assert_eq!(pods().await, 3);
    k.ok(&["-n", "shop", "run", "probe", "--image=nginx:1.27"])
        .await;
}
