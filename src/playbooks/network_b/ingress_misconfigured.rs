//! NET-11 `ingress-misconfigured`: an Ingress answers 404/503 ("default backend") because
//! its class names no IngressClass (and none is default), a backend Service or Service port
//! does not exist, the TLS Secret is missing (seen in the controller's log: Secrets are never
//! read), no controller pod of its class is running, or the controller's LoadBalancer Service
//! has no external address.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::util::{
    Pod, arr, detail, endpoint_counts, ev, name, namespace, obj, pod_detail, pod_ready, s,
};
use crate::playbooks::engine::q;
use crate::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Playbook, Query, Results, Symptom, Watched,
};

pub static PLAYBOOK: Playbook = Playbook {
    id: "ingress-misconfigured",
    code: "NET-11",
    title: "Ingress misconfigured or its controller missing",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["default backend", "404"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["ingress", "503 service temporarily unavailable"],
            weight: 0.85,
        },
        Symptom {
            all_of: &["error obtaining endpoints for service"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["ingress", "404 not found"],
            weight: 0.7,
        },
        Symptom {
            all_of: &["ingress", "503"],
            weight: 0.6,
        },
        Symptom {
            all_of: &["ingressclass", "not found"],
            weight: 0.8,
        },
    ],
    queries,
    diagnose,
};

const NET: &str = "networking.k8s.io";

fn q_ingresses() -> Query {
    q::list(NET, "ingresses", None, None, None)
}
fn q_classes() -> Query {
    q::list(NET, "ingressclasses", None, None, None)
}
fn q_services() -> Query {
    q::core("services", None)
}
fn q_endpoints() -> Query {
    q::core("endpoints", None)
}
fn q_pods() -> Query {
    q::watched(Watched::Pods)
}
fn q_log(ns: &str, pod: &str) -> Query {
    q::logs(ns, pod, None, false, Some(200))
}

/// Whether a pod is labelled as an ingress-nginx/traefik/haproxy controller.
fn labelled_controller(p: &Pod) -> bool {
    p.label("app.kubernetes.io/component") == Some("controller")
        && [
            "ingress-nginx",
            "traefik",
            "haproxy-ingress",
            "kubernetes-ingress",
        ]
        .contains(&p.label("app.kubernetes.io/name").unwrap_or_default())
}

/// How many possible controller pods are read whole (their args are not in the pod list).
const CANDIDATES: usize = 10;

/// The pods that may be ingress controllers, read whole in the second round: labelled as
/// one, or running an image or container with `ingress` in its name (the controllers whose
/// args carry `--controller-class`/`--ingress-class` do).
fn candidates(r: &Results) -> impl Iterator<Item = &Pod> {
    r.pods()
        .iter()
        .map(|p| &**p)
        .filter(|p| {
            labelled_controller(p)
                || p.spec.containers.iter().any(|c| {
                    c.name.contains("ingress")
                        || c.image.as_deref().is_some_and(|i| i.contains("ingress"))
                })
        })
        .take(CANDIDATES)
}

/// The ingress controller pods (of any class), as read whole: labelled as one, or their
/// args carry a controller or ingress class flag.
fn controllers(r: &Results) -> Vec<&Value> {
    candidates(r)
        .filter_map(|p| {
            let whole = detail(r, p)?;
            (labelled_controller(p) || has_class_flag(whole)).then_some(whole)
        })
        .collect()
}

/// Whether a pod's args carry a controller or ingress class flag.
fn has_class_flag(p: &Value) -> bool {
    arr(p, "/spec/containers").iter().any(|c| {
        arr(c, "/args").iter().chain(arr(c, "/command")).any(|a| {
            a.as_str().is_some_and(|a| {
                a.starts_with("--controller-class=") || a.starts_with("--ingress-class=")
            })
        })
    })
}

/// The class controller strings a controller pod serves (`k8s.io/ingress-nginx`), and the
/// class names it watches.
fn controller_classes(p: &Value) -> (Vec<String>, Vec<String>) {
    let (mut ctl, mut names) = (Vec::new(), Vec::new());
    for c in arr(p, "/spec/containers") {
        for a in arr(c, "/args").iter().chain(arr(c, "/command")) {
            let a = a.as_str().unwrap_or_default();
            if let Some(v) = a.strip_prefix("--controller-class=") {
                ctl.push(v.to_string());
            }
            if let Some(v) = a.strip_prefix("--ingress-class=") {
                names.push(v.to_string());
            }
        }
    }
    (ctl, names)
}

fn queries(r: &Results) -> Vec<Query> {
    let mut out = vec![
        q_ingresses(),
        q_classes(),
        q_services(),
        q_endpoints(),
        q_pods(),
    ];
    out.extend(candidates(r).map(pod_detail));
    if !r.objects(&q_ingresses()).is_empty() {
        for p in controllers(r).into_iter().take(2) {
            out.push(q_log(namespace(p), name(p)));
        }
    }
    out
}

/// One problem of one Ingress.
/// What a problem is about, so "why not the others" never rules out what was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProblemKind {
    Backend,
    Class,
    Controller,
    Unexposed,
    TlsSecret,
}

struct Problem {
    kind: ProblemKind,
    severity: FindingSeverity,
    confidence: f32,
    sentence: String,
    evidence: Vec<Evidence>,
    commands: Vec<String>,
}

fn backend_problems(
    ing: &Value,
    backend: &Value,
    where_: &str,
    route: &str,
    services: &[Value],
    endpoints: &[Value],
    logs: &[(String, String)],
) -> Option<Problem> {
    let ns = namespace(ing);
    let ing_name = name(ing);
    let svc_name = s(backend, "/service/name");
    if svc_name.is_empty() {
        return None; // a resource backend
    }
    let port_num = backend
        .pointer("/service/port/number")
        .and_then(Value::as_i64);
    let port_name = s(backend, "/service/port/name");
    let port_text = port_num
        .map(|n| n.to_string())
        .unwrap_or_else(|| port_name.to_string());
    let log_line = |needle: &str| -> Option<(String, String)> {
        logs.iter().find_map(|(pod, text)| {
            text.lines()
                .find(|l| l.contains(needle))
                .map(|l| (pod.clone(), l.to_string()))
        })
    };
    let Some(svc) = services
        .iter()
        .find(|v| namespace(v) == ns && name(v) == svc_name)
    else {
        let mut evidence = vec![ev(
            obj(ing),
            format!("{where_}.service.name"),
            format!("{svc_name} (no such Service in {ns})"),
        )];
        if let Some((pod, line)) = log_line(&format!("\"{ns}/{svc_name}\"")) {
            evidence.push(ev(format!("Pod/{pod}"), "log[controller]", line));
        }
        let same_ns: Vec<&str> = services
            .iter()
            .filter(|v| namespace(v) == ns)
            .map(name)
            .collect();
        let guess = same_ns
            .iter()
            .find(|n| svc_name.starts_with(**n) || n.starts_with(svc_name))
            .copied();
        let mut commands = vec![format!("kubectl get services -n {ns}")];
        if let Some(g) = guess {
            commands.push(format!(
                "kubectl edit ingress {ing_name} -n {ns}   # {where_}.service.name: {svc_name} -> {g}"
            ));
        }
        return Some(Problem {
            kind: ProblemKind::Backend,
            severity: FindingSeverity::Warning,
            confidence: 0.92,
            sentence: format!(
                "Ingress {ns}/{ing_name} routes {route} to Service {svc_name}, which does not exist in {ns}{} (the controller answers 503)",
                guess
                    .map(|g| format!(" (did you mean {g}?)"))
                    .unwrap_or_default()
            ),
            evidence,
            commands,
        });
    };
    let ports = arr(svc, "/spec/ports");
    let port_ok = ports.iter().any(|p| match port_num {
        Some(n) => p.get("port").and_then(Value::as_i64) == Some(n),
        None => s(p, "/name") == port_name,
    });
    if !port_ok {
        let have: Vec<String> = ports
            .iter()
            .map(|p| {
                let n = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                match s(p, "/name") {
                    "" => n.to_string(),
                    pn => format!("{n} ({pn})"),
                }
            })
            .collect();
        return Some(Problem {
            kind: ProblemKind::Backend,
            severity: FindingSeverity::Warning,
            confidence: 0.9,
            sentence: format!(
                "Ingress {ns}/{ing_name} routes {route} to port {port_text} of Service {svc_name}, which only has port(s) {}",
                have.join(", ")
            ),
            evidence: vec![
                ev(
                    obj(ing),
                    format!("{where_}.service.port"),
                    port_text.clone(),
                ),
                ev(obj(svc), "spec.ports", have.join(", ")),
            ],
            commands: vec![format!(
                "kubectl edit ingress {ing_name} -n {ns}   # {where_}.service.port: one of {}",
                have.join(", ")
            )],
        });
    }
    if svc.pointer("/spec/selector").is_some()
        && let Some(e) = endpoints
            .iter()
            .find(|e| namespace(e) == ns && name(e) == svc_name)
        && endpoint_counts(e).0 == 0
    {
        return Some(Problem {
            kind: ProblemKind::Backend,
            severity: FindingSeverity::Warning,
            confidence: 0.55,
            sentence: format!(
                "Ingress {ns}/{ing_name}'s backend Service {svc_name} has no ready endpoints (the controller answers 503; see NET-08)"
            ),
            evidence: vec![ev(obj(e), "subsets[*].addresses", "<none>")],
            commands: vec![format!("kubectl describe service {svc_name} -n {ns}")],
        });
    }
    None
}

fn diagnose(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let ingresses = r.objects(&q_ingresses());
    if ingresses.is_empty() {
        return None;
    }
    let classes = r.objects(&q_classes());
    let services = r.objects(&q_services());
    let endpoints = r.objects(&q_endpoints());
    let controllers = controllers(r);
    let logs: Vec<(String, String)> = controllers
        .iter()
        .filter_map(|p| {
            r.text(&q_log(namespace(p), name(p)))
                .map(|t| (format!("{}/{}", namespace(p), name(p)), t.to_string()))
        })
        .collect();
    let default_class = classes.iter().find(|c| {
        s(
            c,
            "/metadata/annotations/ingressclass.kubernetes.io~1is-default-class",
        ) == "true"
    });
    let mut problems: Vec<Problem> = Vec::new();
    for ing in ingresses {
        let (ns, ing_name) = (namespace(ing), name(ing));
        let class_name = match s(ing, "/spec/ingressClassName") {
            "" => s(ing, "/metadata/annotations/kubernetes.io~1ingress.class"),
            c => c,
        };
        let class = if class_name.is_empty() {
            default_class
        } else {
            classes.iter().find(|c| name(c) == class_name)
        };
        let Some(class) = class else {
            let known: Vec<&str> = classes.iter().map(name).collect();
            let sentence = if class_name.is_empty() {
                format!(
                    "Ingress {ns}/{ing_name} names no ingress class and no IngressClass is marked default, so no controller serves it"
                )
            } else {
                format!(
                    "Ingress {ns}/{ing_name} asks for ingress class {class_name}, which does not exist (known: {})",
                    if known.is_empty() {
                        "none".into()
                    } else {
                        known.join(", ")
                    }
                )
            };
            let target = known.first().copied().unwrap_or("CLASS");
            problems.push(Problem {
                kind: ProblemKind::Class,
                severity: FindingSeverity::Warning,
                confidence: 0.9,
                sentence,
                evidence: vec![ev(obj(ing), "spec.ingressClassName", if class_name.is_empty() { "<unset>" } else { class_name })],
                commands: vec![format!(
                    "kubectl patch ingress {ing_name} -n {ns} -p '{{\"spec\":{{\"ingressClassName\":\"{target}\"}}}}'"
                )],
            });
            continue;
        };
        // The controller of the class.
        let ctl = s(class, "/spec/controller");
        let serving: Vec<&&Value> = controllers
            .iter()
            .filter(|p| {
                let (c, n) = controller_classes(p);
                (c.is_empty() && n.is_empty())
                    || c.iter().any(|x| x == ctl)
                    || n.iter().any(|x| x == name(class))
            })
            .collect();
        if !serving.iter().any(|p| pod_ready(p)) {
            let mut evidence = vec![ev(obj(class), "spec.controller", ctl)];
            for p in serving.iter().take(3) {
                evidence.push(ev(
                    obj(p),
                    "status.phase, status.conditions[Ready]",
                    format!("{}, not ready", s(p, "/status/phase")),
                ));
            }
            // Controller pods that exist but are Pending are a consequence (scheduling, CNI).
            let pending =
                !serving.is_empty() && serving.iter().all(|p| s(p, "/status/phase") == "Pending");
            problems.push(Problem {
                kind: ProblemKind::Controller,
                severity: if pending {
                    FindingSeverity::Warning
                } else {
                    FindingSeverity::Critical
                },
                confidence: if pending { 0.5 } else { 0.85 },
                sentence: format!(
                    "No ready controller pod serves ingress class {} ({ctl}): Ingress {ns}/{ing_name} is not served at all{}",
                    name(class),
                    if pending { " (its controller pods are Pending: see why they cannot start)" } else { "" }
                ),
                evidence,
                commands: vec![
                    "kubectl get pods -A -l app.kubernetes.io/component=controller -o wide".into(),
                    "# install or repair the controller, e.g. ingress-nginx:".into(),
                    "kubectl apply -f https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.11.3/deploy/static/provider/baremetal/deploy.yaml".into(),
                ],
            });
            continue;
        }
        // Its exposure: a LoadBalancer Service without an address.
        for p in serving.iter().take(1) {
            let pending = services.iter().find(|v| {
                namespace(v) == namespace(p)
                    && s(v, "/spec/type") == "LoadBalancer"
                    && arr(v, "/status/loadBalancer/ingress").is_empty()
                    && v.pointer("/spec/selector").is_some_and(|sel| {
                        <Pod as serde::Deserialize>::deserialize(**p)
                            .is_ok_and(|p| super::util::labels_match(sel, &p))
                    })
            });
            if let Some(v) = pending {
                problems.push(Problem {
                    kind: ProblemKind::Unexposed,
                    severity: FindingSeverity::Warning,
                    confidence: 0.7,
                    sentence: format!(
                        "The ingress controller's Service {} is a LoadBalancer without an external address, so Ingress {ns}/{ing_name} is unreachable from outside (see NET-10/CL-01)",
                        obj(v)
                    ),
                    evidence: vec![ev(obj(v), "status.loadBalancer.ingress", "<pending>")],
                    commands: vec![format!(
                        "kubectl patch service {} -n {} -p '{{\"spec\":{{\"type\":\"NodePort\"}}}}'   # or install MetalLB",
                        name(v),
                        namespace(v)
                    )],
                });
            }
        }
        // Backends.
        let mut backends: Vec<(String, String, &Value)> = Vec::new();
        if let Some(d) = ing.pointer("/spec/defaultBackend") {
            backends.push((
                "spec.defaultBackend".into(),
                "its default backend".into(),
                d,
            ));
        }
        for (i, rule) in arr(ing, "/spec/rules").iter().enumerate() {
            for (j, path) in arr(rule, "/http/paths").iter().enumerate() {
                if let Some(b) = path.get("backend") {
                    let host = match s(rule, "/host") {
                        "" => "*",
                        h => h,
                    };
                    backends.push((
                        format!("spec.rules[{i}].http.paths[{j}].backend"),
                        format!("{host}{}", s(path, "/path")),
                        b,
                    ));
                }
            }
        }
        for (where_, route, b) in backends {
            if let Some(p) = backend_problems(ing, b, &where_, &route, services, endpoints, &logs) {
                problems.push(p);
            }
        }
        // TLS Secrets the controller could not find (its log; Secrets are never read).
        for t in arr(ing, "/spec/tls") {
            let secret = s(t, "/secretName");
            if secret.is_empty() {
                continue;
            }
            let key = format!("{ns}/{secret}");
            if let Some((pod, line)) = logs.iter().find_map(|(pod, text)| {
                text.lines()
                    .find(|l| {
                        l.contains(&key)
                            && (l.contains("not found") || l.contains("no object matching"))
                    })
                    .map(|l| (pod.clone(), l.to_string()))
            }) {
                problems.push(Problem {
                    kind: ProblemKind::TlsSecret,
                    severity: FindingSeverity::Warning,
                    confidence: 0.85,
                    sentence: format!(
                        "Ingress {ns}/{ing_name}'s TLS Secret {secret} is missing: the controller serves its default (fake) certificate"
                    ),
                    evidence: vec![
                        ev(obj(ing), "spec.tls[*].secretName", secret),
                        ev(format!("Pod/{pod}"), "log[controller]", line),
                    ],
                    commands: vec![format!(
                        "kubectl create secret tls {secret} -n {ns} --cert=tls.crt --key=tls.key"
                    )],
                });
            }
        }
    }
    if problems.is_empty() {
        return None;
    }
    problems.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.total_cmp(&a.confidence))
    });
    let (severity, confidence) = (problems[0].severity, problems[0].confidence);
    let summary = format!(
        "{}.",
        problems
            .iter()
            .take(4)
            .map(|p| p.sentence.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    let mut evidence = Vec::new();
    let mut commands = Vec::new();
    for p in problems.iter().take(6) {
        evidence.extend(p.evidence.iter().cloned());
        commands.extend(p.commands.iter().cloned());
    }
    let found = |k: ProblemKind| problems.iter().any(|p| p.kind == k);
    let ready_controllers = controllers.iter().filter(|p| pod_ready(p)).count();
    let mut ruled_out = Vec::new();
    if problems[0].kind == ProblemKind::Controller && !found(ProblemKind::Backend) {
        ruled_out.push(
            "A routing error in one Ingress: no controller is serving the class at all.".into(),
        );
    }
    if !found(ProblemKind::Controller) && ready_controllers > 0 {
        ruled_out.push(format!(
            "The controller being down: {ready_controllers} controller pod(s) are ready."
        ));
    }
    if !found(ProblemKind::Class) && !found(ProblemKind::Controller) {
        ruled_out
            .push("An unknown ingress class: the class exists and its controller runs.".into());
    }
    Some(Finding {
        severity,
        confidence,
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: "An Ingress is served only by a controller of its class, and routes only to Services (and ports) that exist in its own namespace with ready endpoints; otherwise the controller answers 404 (no matching rule/class) or 503 (backend missing). Fix the spec as the commands show; `kubectl describe ingress NAME` then lists the backends with their endpoint addresses instead of `<error: endpoints \"…\" not found>`.".into(),
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbooks::Outcome;
    use serde_json::json;

    fn ingress(class: &str, svc: &str, port: i64) -> Value {
        json!({"kind": "Ingress", "metadata": {"namespace": "shop", "name": "frontend"},
            "spec": {"ingressClassName": class, "rules": [{"host": "shop.lab.internal", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": svc, "port": {"number": port}}}}]}}]}})
    }
    fn controller(ready: bool) -> Value {
        json!({"kind": "Pod", "metadata": {"namespace": "ingress-nginx", "name": "ingress-nginx-controller-abc",
                "labels": {"app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx"}},
            "spec": {"containers": [{"name": "controller", "args": ["/nginx-ingress-controller", "--controller-class=k8s.io/ingress-nginx", "--ingress-class=nginx"]}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }
    fn results(ing: Value, pods: Vec<Value>) -> Results {
        let mut r = Results::default();
        r.by_query
            .insert(q_ingresses(), Outcome::Objects(vec![ing]));
        r.by_query.insert(q_classes(), Outcome::Objects(vec![json!({"kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}})]));
        r.by_query.insert(
            q_services(),
            Outcome::Objects(vec![
                json!({"kind": "Service", "metadata": {"namespace": "shop", "name": "frontend"},
            "spec": {"selector": {"app": "frontend"}, "ports": [{"name": "http", "port": 80}]}}),
            ]),
        );
        r.by_query.insert(q_endpoints(), Outcome::Objects(vec![json!({"kind": "Endpoints", "metadata": {"namespace": "shop", "name": "frontend"}, "subsets": [{"addresses": [{"ip": "10.244.3.3"}]}]})]));
        super::super::util::set_pods(&mut r, &pods);
        r
    }

    #[test]
    fn a_missing_backend_service_is_named_with_the_controller_log() {
        let mut r = results(ingress("nginx", "frontend-svc", 80), vec![controller(true)]);
        assert!(queries(&r).contains(&q_log("ingress-nginx", "ingress-nginx-controller-abc")));
        r.by_query.insert(q_log("ingress-nginx", "ingress-nginx-controller-abc"), Outcome::Text { code: 200,
            body: "W0115 09:52:11.123456       7 controller.go:1214] Error obtaining Endpoints for Service \"shop/frontend-svc\": no object matching key \"shop/frontend-svc\" in local store\n".into() });
        let f = diagnose(&r, Utc::now()).unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        assert!(
            f.summary.contains(
                "Service frontend-svc, which does not exist in shop (did you mean frontend?)"
            ),
            "{}",
            f.summary
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.field == "log[controller]"
                    && e.value.contains("Error obtaining Endpoints"))
        );
    }

    /// "Why not the others" never rules out what the finding names: Pending controller pods
    /// are not "ready", and a class without a controller is not "the controller runs".
    #[test]
    fn ruled_out_never_contradicts_the_cause() {
        let mut pending = controller(false);
        pending["status"] = json!({"phase": "Pending"});
        let f = diagnose(
            &results(ingress("nginx", "frontend", 80), vec![pending]),
            Utc::now(),
        )
        .unwrap();
        assert!(f.summary.contains("Pending"), "{}", f.summary);
        for r in &f.ruled_out {
            assert!(!r.contains("controller pod(s) are ready"), "{r}");
            assert!(!r.contains("its controller runs"), "{r}");
        }
        // With a ready controller and only a wrong backend, the controller is ruled out.
        let f = diagnose(
            &results(ingress("nginx", "frontend-svc", 80), vec![controller(true)]),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.ruled_out
                .iter()
                .any(|r| r.contains("1 controller pod(s) are ready")),
            "{:?}",
            f.ruled_out
        );
    }

    #[test]
    fn wrong_port_unknown_class_and_dead_controller() {
        let f = diagnose(
            &results(ingress("nginx", "frontend", 8080), vec![controller(true)]),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.summary.contains("only has port(s) 80 (http)"),
            "{}",
            f.summary
        );
        let f = diagnose(
            &results(ingress("traefik", "frontend", 80), vec![controller(true)]),
            Utc::now(),
        )
        .unwrap();
        assert!(
            f.summary
                .contains("ingress class traefik, which does not exist"),
            "{}",
            f.summary
        );
        let f = diagnose(
            &results(ingress("nginx", "frontend", 80), vec![controller(false)]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
    }

    #[test]
    fn pending_controller_pods_are_only_a_warning() {
        let mut c = controller(false);
        c["status"]["phase"] = json!("Pending");
        let f = diagnose(
            &results(ingress("nginx", "frontend", 80), vec![c]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Warning);
        let f = diagnose(
            &results(ingress("nginx", "frontend", 80), vec![]),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(f.severity, FindingSeverity::Critical);
    }

    #[test]
    fn a_correct_ingress_is_no_finding() {
        assert!(
            diagnose(
                &results(ingress("nginx", "frontend", 80), vec![controller(true)]),
                Utc::now()
            )
            .is_none()
        );
    }
}
