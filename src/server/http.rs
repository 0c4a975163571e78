//! Request handling: authentication, routing of Kubernetes REST paths, RBAC, faults,
//! get/list/watch (JSON or Table), scale, logs, node proxy, health and OpenAPI v3 endpoints,
//! access reviews (bodies read only once authorized and within the size limit), the refusal
//! of every write before its body is read — or, on a training server, the write itself
//! (see `writes`) — and the request log.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};

use super::rbac::{Attributes, Authorizer, User};
use super::store::{ListError, WatchEvent, WatchStart};
use super::table::{self, IncludeObject};
use super::writes::{self, Op, PatchKind, WriteRequest};
use super::{RequestRecord, Shared, discovery};
use ktriage_api::select::{FieldSelector, LabelSelector};
use ktriage_scenarios::FaultKind;

pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Returned by the service to make hyper drop the connection (the `Drop` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub struct DropConnection;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    let mut resp = Response::new(full(v.to_string()));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn text_response(code: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(full(text));
    *resp.status_mut() = code;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// A `Status` failure body as the API server writes it.
pub fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

fn status_response(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Response<Body> {
    json_response(
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &status(code, reason, message, details),
    )
}

fn not_found(plural: &str, name: &str) -> Response<Body> {
    status_response(
        404,
        "NotFound",
        &format!("{plural} \"{name}\" not found"),
        Some(json!({"name": name, "kind": plural})),
    )
}

fn page_not_found() -> Response<Body> {
    status_response(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

/// Query parameters, decoded.
struct Query(Vec<(String, String)>);

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    fn parse(q: Option<&str>) -> Self {
        Query(
            q.unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }
}

/// A Kubernetes REST path, parsed.
#[derive(Debug)]
struct ResourcePath {
    group: String,
    version: String,
    namespace: Option<String>,
    plural: String,
    name: Option<String>,
    subresource: Vec<String>,
}

/// Parses `/api/v1/...` and `/apis/G/V/...` resource paths (not the discovery roots).
fn parse_resource_path(
    segs: &[&str],
    is_plural: impl Fn(&str, &str, &str) -> bool,
) -> Option<ResourcePath> {
    let (group, version, rest) = match segs {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return None,
    };
    let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let p = match rest {
        ["namespaces", ns, plural, tail @ ..] if is_plural(group, version, plural) => {
            ResourcePath {
                group: group.into(),
                version: version.into(),
                namespace: Some(ns.to_string()),
                plural: plural.to_string(),
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1..).map(owned).unwrap_or_default(),
            }
        }
        [plural, tail @ ..] => ResourcePath {
            group: group.into(),
            version: version.into(),
            namespace: None,
            plural: plural.to_string(),
            name: tail.first().map(|s| s.to_string()),
            subresource: tail.get(1..).map(owned).unwrap_or_default(),
        },
        [] => return None,
    };
    Some(p)
}

fn verb_for(method: &Method, named: bool, watch: bool) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if watch => "watch",
        Method::GET | Method::HEAD if named => "get",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if named => "delete",
        Method::DELETE => "deletecollection",
        _ => "unknown",
    }
}

/// A request body not read yet, with the length its client announced.
struct PendingBody {
    body: Incoming,
    declared: Option<u64>,
    limit: usize,
}

impl PendingBody {
    /// Reads the body, refusing one larger than the limit (413, as kube-apiserver) before
    /// reading it when its length is announced, and as soon as it passes the limit when not.
    async fn read(self) -> Result<Bytes, Response<Body>> {
        let too_large = || {
            status_response(
                413,
                "RequestEntityTooLarge",
                &format!("Request entity too large: limit is {}", self.limit),
                None,
            )
        };
        if self.declared.is_some_and(|n| n > self.limit as u64) {
            return Err(too_large());
        }
        match http_body_util::Limited::new(self.body, self.limit)
            .collect()
            .await
        {
            Ok(b) => Ok(b.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Err(e) => Err(status_response(
                400,
                "BadRequest",
                &format!("the request body could not be read: {e}"),
                None,
            )),
        }
    }
}

/// Handles one request. Never panics on input; records the request.
pub async fn handle(
    shared: Arc<Shared>,
    cert_user: Option<User>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let query = Query::parse(req.uri().query());
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();

    // Authentication: client certificate, else bearer token, else anonymous.
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let user = match (cert_user, bearer) {
        (Some(u), _) => Some(u),
        (None, Some(token)) => shared.tokens.get(&token).cloned(),
        (None, None) => Some(User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
        }),
    };
    let mut record = RequestRecord {
        method: method.to_string(),
        path: path_and_query.clone(),
        user: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        verb: String::new(),
        resource: String::new(),
        code: 0,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        writable: shared.writable,
    };
    let Some(user) = user else {
        // Recorded with what was asked, so the audit can tell a refused review from a write.
        let segs: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let store = shared.lock_store();
        if let Some(rp) = parse_resource_path(&segs, |g, v, p| store.resource(g, v, p).is_some()) {
            record.verb = verb_for(&method, rp.name.is_some(), query.flag("watch")).to_string();
            record.resource = rp.plural;
        }
        drop(store);
        record.code = 401;
        shared.record(record);
        return Ok(status_response(401, "Unauthorized", "Unauthorized", None));
    };

    // The body stays unread until a request that may have one (an access review) has been
    // authorized: a refused write or an anonymous upload costs nothing to refuse.
    let body = PendingBody {
        declared: req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok()),
        body: req.into_body(),
        limit: shared.limits.max_body_bytes,
    };

    let resp = route(
        &shared,
        &user,
        &method,
        &path,
        &path_and_query,
        &query,
        (&accept, &content_type),
        body,
        &mut record,
    )
    .await;
    match resp {
        Ok(r) => {
            record.code = r.status().as_u16();
            shared.record(record);
            Ok(r)
        }
        Err(e) => {
            record.code = 0;
            shared.record(record);
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn route(
    shared: &Arc<Shared>,
    user: &User,
    method: &Method,
    path: &str,
    path_and_query: &str,
    query: &Query,
    (accept, content_type): (&str, &str),
    body: PendingBody,
    record: &mut RequestRecord,
) -> Result<Response<Body>, DropConnection> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let watch = query.flag("watch");

    // Authorization attributes.
    let (store_defs_known, rp) = {
        let store = shared.lock_store();
        let rp = parse_resource_path(&segs, |g, v, p| store.resource(g, v, p).is_some());
        (store.defs().to_vec(), rp)
    };
    let attrs = match &rp {
        Some(rp) => Attributes {
            verb: verb_for(method, rp.name.is_some(), watch).to_string(),
            api_group: rp.group.clone(),
            resource: rp.plural.clone(),
            subresource: rp.subresource.first().cloned().unwrap_or_default(),
            namespace: rp.namespace.clone(),
            name: rp.name.clone(),
            path: None,
        },
        None => Attributes {
            verb: method.as_str().to_ascii_lowercase(),
            path: Some(path.to_string()),
            ..Default::default()
        },
    };
    record.verb = attrs.verb.clone();
    record.resource = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    let allowed = shared.authz().allowed(user, &attrs);
    if !allowed {
        return Ok(json_response(
            StatusCode::FORBIDDEN,
            &shared.authz().forbidden_status_for(user, &attrs),
        ));
    }

    // Injected faults.
    for (fault, used) in &shared.faults {
        if !path.starts_with(&fault.path_prefix) || (fault.watch_only && !watch) {
            continue;
        }
        if let Some(times) = fault.times
            && used.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= times
        {
            continue;
        }
        match &fault.kind {
            FaultKind::Latency { millis } => {
                tokio::time::sleep(Duration::from_millis(*millis)).await
            }
            FaultKind::Drop => return Err(DropConnection),
            FaultKind::Status {
                code,
                reason,
                message,
            } => return Ok(status_response(*code, reason, message, None)),
            FaultKind::TooManyRequests { retry_after_secs } => {
                let mut r = status_response(
                    429,
                    "TooManyRequests",
                    "the server has received too many requests and has asked us to try again later",
                    Some(json!({"retryAfterSeconds": retry_after_secs})),
                );
                if let Ok(v) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return Ok(r);
            }
            FaultKind::Gone => {
                let st = status(
                    410,
                    "Expired",
                    "too old resource version: injected fault",
                    None,
                );
                if watch {
                    let line = json!({"type": "ERROR", "object": st}).to_string() + "\n";
                    return Ok(stream_response(
                        futures::stream::iter([Bytes::from(line)]).boxed(),
                    ));
                }
                return Ok(json_response(StatusCode::GONE, &st));
            }
        }
    }

    // Raw answers the scenario holds for exactly this request.
    if let Some(r) = shared.responses.iter().find(|r| {
        r.method.eq_ignore_ascii_case(method.as_str())
            && normalize_request(&r.path) == normalize_request(path_and_query)
    }) {
        let code = StatusCode::from_u16(r.code).unwrap_or(StatusCode::OK);
        let looks_json = r.body.trim_start().starts_with('{');
        return Ok(if looks_json {
            let mut resp = text_response(code, r.body.clone());
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            resp
        } else {
            text_response(code, r.body.clone())
        });
    }

    // Access reviews: the only POSTs answered.
    if *method == Method::POST
        && let Some(rp) = &rp
    {
        let review = matches!(
            (rp.group.as_str(), rp.plural.as_str()),
            ("authorization.k8s.io", "selfsubjectaccessreviews")
                | ("authorization.k8s.io", "selfsubjectrulesreviews")
                | ("authentication.k8s.io", "selfsubjectreviews")
        );
        if review {
            let bytes = match body.read().await {
                Ok(b) => b,
                Err(refusal) => return Ok(refusal),
            };
            let review: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let answer = match rp.plural.as_str() {
                "selfsubjectaccessreviews" => {
                    shared.authz().self_subject_access_review(user, &review)
                }
                "selfsubjectrulesreviews" => {
                    shared.authz().self_subject_rules_review(user, &review)
                }
                _ => Authorizer::self_subject_review(user, &format!("{}/{}", rp.group, rp.version)),
            };
            return Ok(json_response(StatusCode::CREATED, &answer));
        }
    }
    if *method != Method::GET && *method != Method::HEAD {
        if shared.writable
            && let Some(rp) = &rp
            && matches!(
                *method,
                Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            )
        {
            return Ok(write_request(shared, rp, method, query, content_type, body).await);
        }
        let what = if attrs.resource.is_empty() {
            path.to_string()
        } else {
            attrs.resource.clone()
        };
        return Ok(status_response(
            405,
            "MethodNotAllowed",
            &format!(
                "{} {} is refused: the ktriage training API server is read-only",
                attrs.verb, what
            ),
            Some(json!({"kind": attrs.resource})),
        ));
    }

    // Non-resource endpoints.
    match segs.as_slice() {
        ["version"] => {
            return Ok(json_response(
                StatusCode::OK,
                &discovery::version(&shared.git_version),
            ));
        }
        ["api"] => {
            return Ok(json_response(
                StatusCode::OK,
                &discovery::core_versions(&shared.addr.to_string()),
            ));
        }
        ["apis"] => {
            return Ok(json_response(
                StatusCode::OK,
                &discovery::group_list(&store_defs_known),
            ));
        }
        ["api", v] => {
            return Ok(match discovery::resource_list(&store_defs_known, "", v) {
                Some(l) => json_response(StatusCode::OK, &l),
                None => page_not_found(),
            });
        }
        ["apis", g] => {
            return Ok(match discovery::group(&store_defs_known, g) {
                Some(l) => json_response(StatusCode::OK, &l),
                None => page_not_found(),
            });
        }
        ["apis", g, v] => {
            return Ok(match discovery::resource_list(&store_defs_known, g, v) {
                Some(l) => json_response(StatusCode::OK, &l),
                None => page_not_found(),
            });
        }
        ["openapi", "v3"] => {
            return Ok(json_response(
                StatusCode::OK,
                &discovery::openapi_v3_root(&store_defs_known),
            ));
        }
        ["openapi", "v3", rest @ ..] => {
            let gv = rest.join("/");
            return Ok(match discovery::openapi_v3_doc(&store_defs_known, &gv) {
                Some(d) => json_response(StatusCode::OK, &d),
                None => page_not_found(),
            });
        }
        [probe] | [probe, _] if matches!(*probe, "healthz" | "livez" | "readyz") => {
            return Ok(health_probe(
                probe,
                segs.get(1).copied(),
                query.has("verbose"),
            ));
        }
        _ => {}
    }

    let Some(rp) = rp else {
        return Ok(page_not_found());
    };
    resource_request(shared, &rp, query, accept, watch).await
}

/// A write in training mode: the body read (within the size limit), parsed (JSON, or YAML for
/// server-side apply), and done under the store's lock with the controllers' reaction.
async fn write_request(
    shared: &Arc<Shared>,
    rp: &ResourcePath,
    method: &Method,
    query: &Query,
    content_type: &str,
    body: PendingBody,
) -> Response<Body> {
    let res = shared
        .lock_store()
        .resource(&rp.group, &rp.version, &rp.plural);
    let Some(res) = res else {
        return page_not_found();
    };
    let op = match *method {
        Method::POST => Op::Create,
        Method::PUT => Op::Replace,
        Method::PATCH => match PatchKind::from_content_type(content_type) {
            Some(k) => Op::Patch(k),
            None => {
                return status_response(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type:?})"
                    ),
                    None,
                );
            }
        },
        _ if rp.name.is_some() => Op::Delete,
        _ => Op::DeleteCollection,
    };
    let bytes = match body.read().await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let parsed: Result<Value, String> = if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(json!({}))
    } else {
        serde_json::from_slice(&bytes).or_else(|e| {
            if op == Op::Patch(PatchKind::Apply) {
                serde_yaml_ng::from_slice::<Value>(&bytes).map_err(|e| e.to_string())
            } else {
                Err(e.to_string())
            }
        })
    };
    let body = match parsed {
        Ok(v) => v,
        Err(e) => {
            return status_response(
                400,
                "BadRequest",
                &format!("the request body could not be decoded: {e}"),
                None,
            );
        }
    };
    let labels = match LabelSelector::parse(query.get("labelSelector").unwrap_or("")) {
        Ok(l) => l,
        Err(e) => return status_response(400, "BadRequest", &e.to_string(), None),
    };
    let req = WriteRequest {
        op,
        res,
        namespace: rp.namespace.as_deref(),
        name: rp.name.as_deref(),
        subresource: rp.subresource.first().map(String::as_str),
        body,
        dry_run: query.get("dryRun") == Some("All"),
        label_selector: labels,
    };
    let mut store = shared.lock_store();
    match writes::write(&mut store, &shared.facts, req) {
        Ok(done) => {
            if done.rbac_changed {
                shared.reload_rbac(&store);
            }
            drop(store);
            shared
                .writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json_response(
                StatusCode::from_u16(done.code).unwrap_or(StatusCode::OK),
                &done.body,
            )
        }
        Err(f) => status_response(f.code, f.reason, &f.message, f.details),
    }
}

/// A path with its query as clients send it, made comparable: percent-decoded parameters,
/// empty ones dropped (kube-rs sends `log?&container=x`), order kept.
fn normalize_request(path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let params: Vec<String> = Query::parse(Some(query))
        .0
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if params.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

/// The checks the real API server lists under `/readyz?verbose` and `/livez?verbose`.
const CHECKS: &[&str] = &[
    "ping",
    "log",
    "etcd",
    "etcd-readiness",
    "informer-sync",
    "poststarthook/start-apiserver-admission-initializer",
    "poststarthook/generic-apiserver-start-informers",
    "poststarthook/priority-and-fairness-config-consumer",
    "poststarthook/start-apiextensions-informers",
    "poststarthook/crd-informer-synced",
    "poststarthook/rbac/bootstrap-roles",
    "poststarthook/scheduling/bootstrap-system-priority-classes",
    "poststarthook/bootstrap-controller",
    "poststarthook/aggregator-reload-proxy-client-cert",
    "poststarthook/apiservice-registration-controller",
    "shutdown",
];

fn health_probe(probe: &str, check: Option<&str>, verbose: bool) -> Response<Body> {
    let checks: Vec<&str> = CHECKS
        .iter()
        .copied()
        .filter(|c| {
            probe == "readyz" || !matches!(*c, "informer-sync" | "shutdown" | "etcd-readiness")
        })
        .collect();
    if let Some(c) = check {
        return if checks.contains(&c) {
            text_response(StatusCode::OK, "ok")
        } else {
            page_not_found()
        };
    }
    if verbose {
        let mut body: String = checks.iter().map(|c| format!("[+]{c} ok\n")).collect();
        body.push_str(&format!("{probe} check passed\n"));
        text_response(StatusCode::OK, body)
    } else {
        text_response(StatusCode::OK, "ok")
    }
}

fn wants_table(accept: &str) -> bool {
    accept.contains("as=Table")
}

fn include_object(query: &Query) -> IncludeObject {
    match query.get("includeObject") {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

async fn resource_request(
    shared: &Arc<Shared>,
    rp: &ResourcePath,
    query: &Query,
    accept: &str,
    watch: bool,
) -> Result<Response<Body>, DropConnection> {
    let res = {
        let store = shared.lock_store();
        store.resource(&rp.group, &rp.version, &rp.plural)
    };
    let Some(res) = res else {
        return Ok(page_not_found());
    };
    let labels = match LabelSelector::parse(query.get("labelSelector").unwrap_or("")) {
        Ok(l) => l,
        Err(e) => return Ok(status_response(400, "BadRequest", &e.to_string(), None)),
    };
    let fields = match FieldSelector::parse(query.get("fieldSelector").unwrap_or("")) {
        Ok(f) => f,
        Err(e) => return Ok(status_response(400, "BadRequest", &e.to_string(), None)),
    };
    let ns = rp.namespace.as_deref().unwrap_or("");

    // Named object, with or without subresource.
    if let Some(name) = &rp.name {
        let (def, obj) = {
            let store = shared.lock_store();
            (*store.def(res), store.get(res, ns, name))
        };
        if def.kind == "Secret" {
            // Secrets are never served: ktriage must not read Secret data, and the training
            // server holds none worth reading.
            return Ok(not_found(def.plural, name));
        }
        let Some(obj) = obj else {
            return Ok(not_found(def.plural, name));
        };
        let sub: Vec<&str> = rp.subresource.iter().map(String::as_str).collect();
        return Ok(match (def.plural, sub.as_slice()) {
            (_, []) | (_, ["status"]) => {
                if wants_table(accept) {
                    let t = table::table(
                        &def,
                        &[obj.as_ref()],
                        json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null)}),
                        include_object(query),
                        shared.now(),
                    );
                    json_response(StatusCode::OK, &t)
                } else {
                    json_response(StatusCode::OK, &obj)
                }
            }
            ("deployments" | "replicasets" | "statefulsets", ["scale"]) => {
                json_response(StatusCode::OK, &writes::scale_of(&obj))
            }
            ("pods", ["log"]) => pod_log(shared, &obj, ns, name, query),
            ("nodes", ["proxy", rest @ ..]) => node_proxy(&obj, name, rest),
            _ => page_not_found(),
        });
    }

    // Collections.
    let ns_filter = rp.namespace.as_deref();
    if watch {
        return Ok(watch_response(
            shared.clone(),
            res,
            ns_filter.map(str::to_string),
            labels,
            fields,
            query,
            wants_table(accept),
        ));
    }
    let limit = query.get("limit").and_then(|l| l.parse::<usize>().ok());
    let (def, page) = {
        let store = shared.lock_store();
        let def = *store.def(res);
        (
            def,
            store.list(
                res,
                ns_filter,
                &labels,
                &fields,
                limit,
                query.get("continue"),
            ),
        )
    };
    let page = match page {
        Ok(p) => p,
        Err(ListError::BadContinue) => {
            return Ok(status_response(
                400,
                "BadRequest",
                "continue key is not valid",
                None,
            ));
        }
        Err(ListError::ContinueExpired) => {
            return Ok(status_response(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                None,
            ));
        }
    };
    let mut meta = json!({"resourceVersion": page.resource_version.to_string()});
    if let Some(c) = &page.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(r) = page.remaining {
        meta["remainingItemCount"] = json!(r);
    }
    if def.kind == "Secret" {
        // Listed with their metadata only: no data, no stringData.
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|s| json!({"metadata": s.get("metadata").cloned().unwrap_or(Value::Null), "type": s.get("type").cloned().unwrap_or(Value::Null)}))
            .collect();
        return Ok(json_response(
            StatusCode::OK,
            &json!({"kind": "SecretList", "apiVersion": "v1", "metadata": meta, "items": items}),
        ));
    }
    if wants_table(accept) {
        let objs: Vec<&Value> = page.items.iter().map(|a| a.as_ref()).collect();
        let t = table::table(&def, &objs, meta, include_object(query), shared.now());
        return Ok(json_response(StatusCode::OK, &t));
    }
    // The items as the store holds them: their JSON, never decoded.
    let mut out = String::with_capacity(256 + page.items.len() * 1024);
    out.push_str(&format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        def.kind,
        def.api_version(),
        meta
    ));
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.json());
    }
    out.push_str("]}");
    let mut resp = Response::new(full(out));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn container_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn pod_log(shared: &Shared, pod: &Value, ns: &str, name: &str, query: &Query) -> Response<Body> {
    let containers = container_names(pod);
    let container = match query.get("container") {
        Some(c) if !c.is_empty() => c.to_string(),
        _ => match containers.as_slice() {
            [only] => only.clone(),
            [] => String::new(),
            many => {
                return status_response(
                    400,
                    "BadRequest",
                    &format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        many.join(" ")
                    ),
                    None,
                );
            }
        },
    };
    if !containers.is_empty() && !containers.contains(&container) {
        return status_response(
            400,
            "BadRequest",
            &format!("container {container} is not valid for pod {name}"),
            None,
        );
    }
    let previous = query.flag("previous");
    let single = containers.len() <= 1;
    let log = shared.logs.iter().find(|l| {
        l.namespace == ns
            && l.pod == name
            && l.previous == previous
            && match &l.container {
                Some(c) => *c == container,
                None => single,
            }
    });
    let text = match (log, previous) {
        (Some(l), _) => l.text.clone(),
        (None, true) => {
            return status_response(
                400,
                "BadRequest",
                &format!(
                    "previous terminated container \"{container}\" in pod \"{name}\" not found"
                ),
                None,
            );
        }
        (None, false) => String::new(),
    };
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if let Some(n) = query.get("tailLines").and_then(|t| t.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut body: String = lines.concat();
    if let Some(limit) = query
        .get("limitBytes")
        .and_then(|t| t.parse::<usize>().ok())
    {
        let mut cut = limit.min(body.len());
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
    }
    if query.flag("follow") {
        let first = futures::stream::iter([Bytes::from(body)]);
        return stream_response_text(first.chain(futures::stream::pending()).boxed());
    }
    text_response(StatusCode::OK, body)
}

fn node_proxy(node: &Value, name: &str, rest: &[&str]) -> Response<Body> {
    let ready = node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        })
        .and_then(|c| c.get("status").and_then(Value::as_str))
        == Some("True");
    match rest {
        ["healthz"] if ready => text_response(StatusCode::OK, "ok"),
        ["healthz"] => {
            let ip = node
                .pointer("/status/addresses")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .find(|x| x.get("type").and_then(Value::as_str) == Some("InternalIP"))
                })
                .and_then(|x| x.get("address").and_then(Value::as_str))
                .unwrap_or(name);
            status_response(
                500,
                "InternalError",
                &format!(
                    "Internal error occurred: error dialing backend: dial tcp {ip}:10250: i/o timeout"
                ),
                None,
            )
        }
        _ => page_not_found(),
    }
}

fn stream_response(stream: futures::stream::BoxStream<'static, Bytes>) -> Response<Body> {
    let body = StreamBody::new(stream.map(|b| Ok::<_, Infallible>(Frame::data(b))));
    let mut resp = Response::new(BodyExt::boxed_unsync(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn stream_response_text(stream: futures::stream::BoxStream<'static, Bytes>) -> Response<Body> {
    let mut resp = stream_response(stream);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Parameters of one watch, moved into its stream.
struct WatchFilter {
    res: usize,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    table: bool,
}

impl WatchFilter {
    fn matches(&self, ev: &WatchEvent) -> bool {
        if ev.res != self.res {
            return false;
        }
        if let Some(ns) = &self.namespace {
            let obj_ns = ev
                .object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            if obj_ns != ns {
                return false;
            }
        }
        self.labels.matches(&ev.object) && self.fields.matches(&ev.object)
    }
}

fn encode_event(shared: &Shared, filter: &WatchFilter, ev: &WatchEvent) -> Bytes {
    let object = if filter.table {
        let def = *shared.lock_store().def(filter.res);
        table::table(
            &def,
            &[ev.object.as_ref()],
            json!({"resourceVersion": ev.rv.to_string()}),
            IncludeObject::Metadata,
            shared.now(),
        )
    } else {
        (*ev.object).clone()
    };
    Bytes::from(json!({"type": ev.kind.as_str(), "object": object}).to_string() + "\n")
}

fn bookmark(shared: &Shared, filter: &WatchFilter, rv: u64, initial_end: bool) -> Bytes {
    let def = *shared.lock_store().def(filter.res);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let obj = json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta});
    Bytes::from(json!({"type": "BOOKMARK", "object": obj}).to_string() + "\n")
}

#[allow(clippy::too_many_arguments)]
fn watch_response(
    shared: Arc<Shared>,
    res: usize,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    query: &Query,
    table: bool,
) -> Response<Body> {
    let filter = WatchFilter {
        res,
        namespace,
        labels,
        fields,
        table,
    };
    let send_initial = query.flag("sendInitialEvents");
    let bookmarks = query.flag("allowWatchBookmarks");
    let from_rv = match query.get("resourceVersion") {
        None | Some("") | Some("0") => None,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return status_response(
                    400,
                    "BadRequest",
                    &format!("invalid resource version: {v}"),
                    None,
                );
            }
        },
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let (start, mut rx, current_rv) = {
        let store = shared.lock_store();
        let (start, rx) = store.watch(res, if send_initial { None } else { from_rv });
        (start, rx, store.resource_version())
    };
    let mut shutdown = shared.shutdown.clone();
    let (tx, out_rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let task_shared = shared.clone();
    tokio::spawn(async move {
        let shared = task_shared;
        let mut last_rv = current_rv;
        match start {
            WatchStart::Gone { requested, oldest } => {
                let st = status(
                    410,
                    "Expired",
                    &format!("too old resource version: {requested} ({oldest})"),
                    None,
                );
                let _ = tx
                    .send(Bytes::from(
                        json!({"type": "ERROR", "object": st}).to_string() + "\n",
                    ))
                    .await;
                return;
            }
            WatchStart::Events(evs) => {
                for ev in evs.iter().filter(|e| filter.matches(e)) {
                    last_rv = last_rv.max(ev.rv);
                    if tx.send(encode_event(&shared, &filter, ev)).await.is_err() {
                        return;
                    }
                }
                if send_initial
                    && tx
                        .send(bookmark(&shared, &filter, current_rv, true))
                        .await
                        .is_err()
                {
                    return;
                }
            }
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = tick.tick(), if bookmarks => {
                    if tx.send(bookmark(&shared, &filter, last_rv, false)).await.is_err() {
                        return;
                    }
                }
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= current_rv || !filter.matches(&ev) {
                            continue;
                        }
                        last_rv = ev.rv;
                        if tx.send(encode_event(&shared, &filter, &ev)).await.is_err() {
                            return;
                        }
                    }
                    // Fell behind or the store is gone: end the watch; the client resumes
                    // from its last resourceVersion (or relists on 410).
                    Err(_) => return,
                },
            }
        }
    });
    let stream =
        futures::stream::unfold(
            out_rx,
            |mut rx| async move { rx.recv().await.map(|b| (b, rx)) },
        );
    stream_response(stream.boxed())
}

#[cfg(test)]
mod tests {
    use super::normalize_request;

    #[test]
    fn requests_compare_without_empty_or_encoded_differences() {
        assert_eq!(
            normalize_request("/api/v1/namespaces/a/pods/p/log?&container=c&tailLines=1"),
            normalize_request("/api/v1/namespaces/a/pods/p/log?container=c&tailLines=1")
        );
        assert_eq!(
            normalize_request("/api/v1/pods?labelSelector=tier%3Dcontrol-plane"),
            normalize_request("/api/v1/pods?labelSelector=tier=control-plane")
        );
        assert_eq!(normalize_request("/readyz?verbose"), "/readyz?verbose=");
        assert_ne!(
            normalize_request("/readyz?verbose"),
            normalize_request("/readyz")
        );
    }
}
