//! Application workloads: `shop` (frontend, cart, checkout, with an Ingress) and
//! `monitoring/prometheus`. Two pods restarted once, days ago: a negative control.

use serde_json::{Value, json};

use super::{
    CLUSTER_AGE, Cluster, ContainerDef, DAY, MIN, PodDef, ServiceDef, SvcPort, Terminated,
    WorkloadDef, http_probe, kv, object,
};

/// When the frontend's current revision rolled out.
pub(super) const FRONTEND_ROLLOUT_AGO: i64 = 25 * MIN;
pub(super) const SHOP_AGE: i64 = CLUSTER_AGE - 4 * 3600;

fn web_container(name: &str, image: &str, port: i64) -> ContainerDef {
    let mut c = ContainerDef::new(name, image);
    c.ports = vec![json!({"containerPort": port, "name": "http", "protocol": "TCP"})];
    c.resources =
        json!({"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}});
    c.liveness = Some(http_probe(
        None,
        "/healthz",
        json!("http"),
        "HTTP",
        [3, 10, 10, 1],
    ));
    c.readiness = Some(http_probe(
        None,
        "/ready",
        json!("http"),
        "HTTP",
        [3, 5, 5, 1],
    ));
    c.env = vec![json!({"name": "LOG_FORMAT", "value": "json"})];
    c
}

/// Worker `i` modulo the worker count (a control-plane node when there is no worker).
pub(super) fn worker(c: &Cluster, i: usize) -> String {
    let w = c.worker_nodes();
    if w.is_empty() {
        c.nodes.first().map(|n| n.name.clone()).unwrap_or_default()
    } else {
        w[i % w.len()].name.clone()
    }
}

fn app(
    c: &mut Cluster,
    name: &str,
    image: &str,
    nodes: Vec<String>,
    revision: i64,
    pods_age: i64,
) -> Vec<Value> {
    let labels = kv(&[
        ("app.kubernetes.io/name", name),
        ("app.kubernetes.io/part-of", "shop"),
    ]);
    let mut ctr = web_container(name, image, 8080);
    if name == "frontend" {
        ctr.env
            .push(json!({"name": "CART_URL", "value": "http://cart.shop.svc.cluster.local:8080"}));
        ctr.env.push(
            json!({"name": "CHECKOUT_URL", "value": "http://checkout.shop.svc.cluster.local:8080"}),
        );
    }
    let pods = c.add_deployment(&WorkloadDef {
        namespace: "shop".into(),
        name: name.into(),
        selector: kv(&[("app.kubernetes.io/name", name)]),
        labels: labels.clone(),
        template: PodDef {
            labels: labels.clone(),
            containers: vec![ctr],
            ..Default::default()
        },
        created_ago: SHOP_AGE,
        revision,
        nodes,
        pods_created_ago: pods_age,
        annotations: Value::Null,
    });
    let port = if name == "frontend" { 80 } else { 8080 };
    c.add_service(&ServiceDef {
        labels,
        ..ServiceDef::new(
            "shop",
            name,
            kv(&[("app.kubernetes.io/name", name)]),
            vec![SvcPort::tcp("http", port, 8080)],
            SHOP_AGE,
        )
    });
    pods
}

pub(super) fn build(c: &mut Cluster) {
    let (w0, w1, w2) = (worker(c, 0), worker(c, 1), worker(c, 2));
    app(
        c,
        "frontend",
        "ghcr.io/acme/shop-frontend:2.14.1",
        vec![w0.clone(), w1.clone(), w2],
        2,
        FRONTEND_ROLLOUT_AGO,
    );
    let cart = app(
        c,
        "cart",
        "ghcr.io/acme/shop-cart:1.9.0",
        vec![w0.clone(), w1.clone()],
        1,
        20 * DAY,
    );
    app(
        c,
        "checkout",
        "ghcr.io/acme/shop-checkout:3.2.4",
        vec![w1.clone(), w0],
        1,
        20 * DAY - 300,
    );
    // Benign: cart restarted once, 6 days ago (redis was briefly down), none since.
    if let Some(name) = cart
        .first()
        .and_then(|p| p["metadata"]["name"].as_str())
        .map(str::to_string)
    {
        c.set_restarts(
            "shop",
            &name,
            "cart",
            1,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 20 * DAY - 60,
                finished_ago: 6 * DAY + 1800,
            },
        );
    }
    let mut ing = object(
        "networking.k8s.io/v1",
        "Ingress",
        Some("shop"),
        "frontend",
        SHOP_AGE,
    );
    ing["metadata"]["labels"] = kv(&[
        ("app.kubernetes.io/name", "frontend"),
        ("app.kubernetes.io/part-of", "shop"),
    ]);
    ing["metadata"]["generation"] = json!(1);
    ing["spec"] = json!({
        "ingressClassName": "nginx",
        "rules": [{"host": "shop.lab.internal", "http": {"paths": [{"backend": {"service": {"name": "frontend", "port": {"number": 80}}}, "path": "/", "pathType": "Prefix"}]}}],
    });
    let controller_ip = c.node(&w1).map(|n| n.ip.clone()).unwrap_or_default();
    ing["status"] = json!({"loadBalancer": {"ingress": [{"ip": controller_ip}]}});
    c.push(ing);

    let labels = kv(&[("app.kubernetes.io/name", "prometheus")]);
    let mut prom = ContainerDef::new("prometheus", "quay.io/prometheus/prometheus:v2.54.1");
    prom.args = [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=15d",
        "--web.enable-lifecycle",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    prom.ports = vec![json!({"containerPort": 9090, "name": "web", "protocol": "TCP"})];
    prom.resources =
        json!({"limits": {"memory": "2Gi"}, "requests": {"cpu": "250m", "memory": "1Gi"}});
    prom.liveness = Some(http_probe(
        None,
        "/-/healthy",
        json!("web"),
        "HTTP",
        [3, 0, 10, 3],
    ));
    prom.readiness = Some(http_probe(
        None,
        "/-/ready",
        json!("web"),
        "HTTP",
        [3, 0, 5, 3],
    ));
    prom.volume_mounts = vec![
        json!({"mountPath": "/etc/prometheus", "name": "config"}),
        json!({"mountPath": "/prometheus", "name": "data"}),
    ];
    let mon_age = CLUSTER_AGE - 3 * 3600;
    let mut cm = object("v1", "ConfigMap", Some("monitoring"), "prometheus", mon_age);
    cm["data"] = json!({"prometheus.yml": "global:\n  scrape_interval: 30s\nscrape_configs:\n- job_name: kubernetes-pods\n  kubernetes_sd_configs:\n  - role: pod\n"});
    c.push(cm);
    c.push(object(
        "v1",
        "ServiceAccount",
        Some("monitoring"),
        "prometheus",
        mon_age,
    ));
    let pods = c.add_statefulset(&WorkloadDef {
        namespace: "monitoring".into(),
        name: "prometheus".into(),
        selector: labels.clone(),
        labels: labels.clone(),
        template: PodDef {
            containers: vec![prom],
            service_account: Some("prometheus".into()),
            volumes: vec![
                json!({"configMap": {"defaultMode": 420, "name": "prometheus"}, "name": "config"}),
                json!({"emptyDir": {}, "name": "data"}),
            ],
            ..Default::default()
        },
        created_ago: mon_age,
        revision: 1,
        nodes: vec![w1],
        pods_created_ago: 14 * DAY,
        annotations: Value::Null,
    });
    // Benign: restarted once 9 days ago during a config reload gone wrong, fine since.
    if let Some(name) = pods
        .first()
        .and_then(|p| p["metadata"]["name"].as_str())
        .map(str::to_string)
    {
        c.set_restarts(
            "monitoring",
            &name,
            "prometheus",
            1,
            Terminated {
                reason: "Error".into(),
                exit_code: 1,
                started_ago: 14 * DAY - 20,
                finished_ago: 9 * DAY,
            },
        );
    }
    c.add_service(&ServiceDef {
        cluster_ip: Some("None".into()),
        ..ServiceDef::new(
            "monitoring",
            "prometheus",
            labels,
            vec![SvcPort::tcp("web", 9090, 9090)],
            mon_age,
        )
    });
    // Cluster RBAC for Prometheus' pod discovery.
    c.add_cluster_role(
        "prometheus",
        vec![
            super::rbac::rule(
                &[""],
                &["nodes", "nodes/metrics", "services", "endpoints", "pods"],
                &["get", "list", "watch"],
            ),
            super::rbac::url_rule(&["/metrics"], &["get"]),
        ],
        mon_age,
    );
    c.add_cluster_role_binding(
        "prometheus",
        "prometheus",
        vec![super::rbac::service_account("monitoring", "prometheus")],
        mon_age,
    );
}
