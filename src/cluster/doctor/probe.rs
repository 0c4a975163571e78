//! The live probes, each with its own short timeout and no retries: DNS, TCP, the proxy's
//! answer to `CONNECT`, a direct connection for comparison, the TLS handshake read without
//! verification (a verifier that records the chain and accepts it), the chain judged
//! against the kubeconfig's CA as kubectl would judge it, and the first authenticated
//! requests (SelfSubjectReview, a few list calls, SelfSubjectRulesReview).
//!
//! Names under the reserved `.invalid` TLD (RFC 6761) are never looked up: they are reported
//! as "no such host" without a DNS query.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::certs::{self, CertInfo};
use super::{Denied, Observation, Probe, Target};
use crate::cluster::{client, proxy};

/// Timeouts of the examination.
#[derive(Debug, Clone)]
pub struct Options {
    /// Per network step (DNS, TCP, CONNECT, TLS).
    pub step_timeout: Duration,
    /// Per authenticated request.
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            step_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
        }
    }
}

fn elapsed(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Whether a name is under the reserved `.invalid` TLD (never resolvable, never queried).
pub fn is_reserved_invalid(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "invalid" || h.ends_with(".invalid")
}

/// Examines `target` with the given proxy environment.
pub async fn examine(
    target: &Target,
    env: &BTreeMap<String, String>,
    opts: &Options,
) -> Observation {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut obs = Observation {
        context: Some(target.context.clone()),
        server: target.server.clone(),
        environment: env.clone(),
        kubeconfig_proxy_url: target.proxy_url.clone(),
        material: target.material.clone(),
        insecure_skip_tls_verify: target.insecure_skip_tls_verify,
        ..Default::default()
    };
    if let Some(ca) = &target.ca_pem {
        obs.kubeconfig_ca = certs::pem_certs(ca)
            .iter()
            .filter_map(|d| certs::parse_der(d))
            .collect();
    }
    if let Some(c) = &target.client_cert_pem {
        obs.client_certificate = certs::pem_certs(c)
            .first()
            .and_then(|d| certs::parse_der(d));
    }
    if target.insecure_skip_tls_verify {
        obs.warnings.push(
            "insecure-skip-tls-verify is set: the server's certificate is not checked, so anyone in the path can read the credentials".into(),
        );
    }
    if let Some(p) = obs.material.first() {
        obs.error = Some(p.kubectl_error.clone());
    }
    let Some((scheme, host, port)) = proxy::split_url(&target.server) else {
        obs.error = Some(format!(
            "the server URL {:?} cannot be parsed",
            target.server
        ));
        return obs;
    };
    obs.requested_name = Some(target.tls_server_name.clone().unwrap_or(host.clone()));
    let route = proxy::decide(&target.server, target.proxy_url.as_deref(), env);
    obs.route = Some(route.clone());

    let stream = match &route.proxy {
        Some(proxy_url) => match through_proxy(&mut obs, proxy_url, &host, port, opts).await {
            Some(s) => s,
            None => {
                direct_comparison(&mut obs, &host, port, opts).await;
                return obs;
            }
        },
        None => match direct(&mut obs, &host, port, opts, "").await {
            Some(s) => s,
            None => return obs,
        },
    };
    if scheme == "http" {
        obs.warnings
            .push("the server URL is plain http: nothing is encrypted".into());
        return obs;
    }
    let (chain, tls) = match handshake(&mut obs, stream, target, &host, opts).await {
        Some(c) => c,
        None => return obs,
    };
    judge_chain(&mut obs, &chain, target, &host);
    if obs.error.is_some() {
        return obs;
    }
    if let Some(tls) = tls {
        client_certificate_step(&mut obs, tls, &host, opts).await;
        if obs.error.is_some() {
            return obs;
        }
    }
    authenticated_steps(&mut obs, target, &route, opts).await;
    obs
}

/// DNS then TCP, directly. `label` prefixes the step names (`direct `).
async fn direct(
    obs: &mut Observation,
    host: &str,
    port: u16,
    opts: &Options,
    label: &str,
) -> Option<TcpStream> {
    let t = Instant::now();
    let addrs: Vec<SocketAddr> = if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        obs.steps.push(Probe {
            step: format!("{label}dns"),
            ok: true,
            millis: 0,
            detail: format!("{host} is an IP address: no lookup"),
        });
        vec![SocketAddr::new(ip, port)]
    } else if is_reserved_invalid(host) {
        obs.steps.push(Probe {
            step: format!("{label}dns"),
            ok: false,
            millis: 0,
            detail: format!(
                "{host} is under the reserved .invalid domain: no such host (not looked up)"
            ),
        });
        set_error(obs, label, format!("dial tcp: lookup {host}: no such host"));
        return None;
    } else {
        match tokio::time::timeout(opts.step_timeout, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(a)) => {
                let a: Vec<SocketAddr> = a.collect();
                obs.steps.push(Probe {
                    step: format!("{label}dns"),
                    ok: !a.is_empty(),
                    millis: elapsed(t),
                    detail: format!(
                        "{host} resolves to {}",
                        a.iter()
                            .map(|s| s.ip().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
                a
            }
            Ok(Err(e)) => {
                obs.steps.push(Probe {
                    step: format!("{label}dns"),
                    ok: false,
                    millis: elapsed(t),
                    detail: format!("lookup {host}: {e}"),
                });
                set_error(obs, label, format!("dial tcp: lookup {host}: no such host"));
                return None;
            }
            Err(_) => {
                obs.steps.push(Probe {
                    step: format!("{label}dns"),
                    ok: false,
                    millis: elapsed(t),
                    detail: format!("lookup {host}: no answer within {:?}", opts.step_timeout),
                });
                set_error(obs, label, format!("dial tcp: lookup {host}: i/o timeout"));
                return None;
            }
        }
    };
    let addr = addrs.first().copied()?;
    let (stream, detail, err) = connect(addr, opts.step_timeout).await;
    obs.steps.push(Probe {
        step: format!("{label}tcp"),
        ok: stream.is_some(),
        millis: detail.1,
        detail: detail.0,
    });
    if let Some(e) = err {
        set_error(obs, label, e);
    }
    stream
}

fn set_error(obs: &mut Observation, label: &str, e: String) {
    if label.is_empty() {
        obs.error.get_or_insert(e);
    } else {
        obs.direct = Some(e);
    }
}

/// TCP connect with a timeout: the stream, a detail line with millis, and kubectl's error.
async fn connect(
    addr: SocketAddr,
    timeout: Duration,
) -> (Option<TcpStream>, (String, u64), Option<String>) {
    let t = Instant::now();
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => (Some(s), (format!("connected to {addr}"), elapsed(t)), None),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => (
            None,
            (
                format!("{addr}: connection refused (nothing listens on that port)"),
                elapsed(t),
            ),
            Some(format!("dial tcp {addr}: connect: connection refused")),
        ),
        Ok(Err(e)) => (
            None,
            (format!("{addr}: {e}"), elapsed(t)),
            Some(format!("dial tcp {addr}: connect: {e}")),
        ),
        Err(_) => (
            None,
            (
                format!("{addr}: no answer within {timeout:?} (filtered or wrong address)"),
                elapsed(t),
            ),
            Some(format!("dial tcp {addr}: i/o timeout")),
        ),
    }
}

/// Connects to the proxy and asks it for a tunnel. `Some(stream)` when the tunnel is open.
async fn through_proxy(
    obs: &mut Observation,
    proxy_url: &str,
    host: &str,
    port: u16,
    opts: &Options,
) -> Option<TcpStream> {
    let Some((pscheme, phost, pport)) = proxy::split_url(proxy_url) else {
        obs.error = Some(format!("proxyconnect tcp: invalid proxy URL {proxy_url:?}"));
        return None;
    };
    if pscheme != "http" {
        obs.steps.push(Probe {
            step: "proxy connect".into(),
            ok: false,
            millis: 0,
            detail: format!("{pscheme}:// proxies are not probed; only http:// CONNECT proxies"),
        });
        obs.error = Some(format!("proxy {proxy_url} ({pscheme}) not probed"));
        return None;
    }
    let paddr: Option<SocketAddr> = if let Ok(ip) = phost.parse::<std::net::IpAddr>() {
        Some(SocketAddr::new(ip, pport))
    } else if is_reserved_invalid(&phost) {
        None
    } else {
        tokio::time::timeout(
            opts.step_timeout,
            tokio::net::lookup_host((phost.as_str(), pport)),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|mut a| a.next())
    };
    let Some(paddr) = paddr else {
        obs.steps.push(Probe {
            step: "proxy tcp".into(),
            ok: false,
            millis: 0,
            detail: format!("the proxy's name {phost} does not resolve"),
        });
        obs.error = Some(format!(
            "proxyconnect tcp: dial tcp: lookup {phost}: no such host"
        ));
        return None;
    };
    let (stream, (detail, millis), err) = connect(paddr, opts.step_timeout).await;
    obs.steps.push(Probe {
        step: "proxy tcp".into(),
        ok: stream.is_some(),
        millis,
        detail: format!("proxy {detail}"),
    });
    let Some(mut stream) = stream else {
        obs.error = Some(format!("proxyconnect tcp: {}", err.unwrap_or_default()));
        return None;
    };
    let t = Instant::now();
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {}\r\n\r\n",
        crate::cluster::client::USER_AGENT
    );
    let answer = tokio::time::timeout(opts.step_timeout, async {
        stream.write_all(request.as_bytes()).await?;
        let mut reader = BufReader::new(&mut stream);
        let mut status = String::new();
        reader.read_line(&mut status).await?;
        // Read the headers up to the blank line, so the tunnel starts clean.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                break;
            }
        }
        Ok::<_, std::io::Error>(status.trim().to_string())
    })
    .await;
    match answer {
        Ok(Ok(status)) => {
            let code = status.split_whitespace().nth(1).unwrap_or("");
            let ok = code == "200";
            obs.steps.push(Probe {
                step: "proxy connect".into(),
                ok,
                millis: elapsed(t),
                detail: format!("CONNECT {authority} → {status}"),
            });
            obs.proxy_status = Some(status.clone());
            if ok {
                Some(stream)
            } else {
                // Go reports the status text after the code, e.g. "Gateway Timeout".
                let text = status
                    .splitn(3, ' ')
                    .nth(2)
                    .unwrap_or("unknown status code")
                    .to_string();
                obs.error = Some(text);
                None
            }
        }
        Ok(Err(e)) => {
            obs.steps.push(Probe {
                step: "proxy connect".into(),
                ok: false,
                millis: elapsed(t),
                detail: format!("CONNECT {authority}: {e}"),
            });
            obs.error = Some(format!("proxyconnect tcp: {e}"));
            None
        }
        Err(_) => {
            obs.steps.push(Probe {
                step: "proxy connect".into(),
                ok: false,
                millis: elapsed(t),
                detail: format!(
                    "CONNECT {authority}: no answer within {:?}",
                    opts.step_timeout
                ),
            });
            obs.error = Some("proxyconnect tcp: i/o timeout".into());
            None
        }
    }
}

/// After the proxied route failed: does a direct connection work?
async fn direct_comparison(obs: &mut Observation, host: &str, port: u16, opts: &Options) {
    if let Some(_s) = direct(obs, host, port, opts, "direct ").await {
        obs.direct = Some(format!(
            "a direct TCP connection to {host}:{port} works (bypassing the proxy)"
        ));
    }
}

/// Records the chain and accepts it: the handshake is for reading, not for trusting.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(|p| p.into_inner());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn server_name(target: &Target, host: &str) -> Option<ServerName<'static>> {
    let name = target.tls_server_name.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_string()).ok()
}

/// The kubeconfig's client certificate chain and key, when both parse.
fn client_identity(
    target: &Target,
) -> Option<(
    Vec<CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
)> {
    use rustls::pki_types::pem::PemObject;
    let chain = certs::pem_certs(target.client_cert_pem.as_deref()?);
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(target.client_key_pem.as_deref()?).ok()?;
    (!chain.is_empty()).then_some((chain, key))
}

/// A TLS connection that presented the kubeconfig's client certificate.
type ClientTls = tokio_rustls::client::TlsStream<TcpStream>;

/// The handshake, presenting the kubeconfig's client certificate when it has one: the
/// served chain, and the open connection when a client certificate went with it (so the
/// server's verdict on that certificate can be read next).
async fn handshake(
    obs: &mut Observation,
    stream: TcpStream,
    target: &Target,
    host: &str,
    opts: &Options,
) -> Option<(Vec<CertificateDer<'static>>, Option<ClientTls>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => {
            let b = b
                .dangerous()
                .with_custom_certificate_verifier(recorder.clone());
            // A certificate and key that do not belong together are the material check's
            // finding; the handshake then goes without them.
            match client_identity(target).map(|(c, k)| b.clone().with_client_auth_cert(c, k)) {
                Some(Ok(cfg)) => (cfg, true),
                _ => (b.with_no_client_auth(), false),
            }
        }
        Err(e) => {
            obs.error = Some(format!("TLS set-up failed: {e}"));
            return None;
        }
    };
    let (config, with_identity) = config;
    let Some(name) = server_name(target, host) else {
        obs.error = Some(format!("{host:?} is not a valid TLS server name"));
        return None;
    };
    let t = Instant::now();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(opts.step_timeout, connector.connect(name, stream)).await;
    let chain = recorder
        .chain
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let (ok, detail) = match &result {
        Ok(Ok(_)) => (true, format!("{} certificates served", chain.len())),
        Ok(Err(e)) => (false, e.to_string()),
        Err(_) => (
            false,
            format!("no handshake within {:?}", opts.step_timeout),
        ),
    };
    obs.steps.push(Probe {
        step: "tls handshake".into(),
        ok: ok || !chain.is_empty(),
        millis: elapsed(t),
        detail,
    });
    obs.served_chain = chain.iter().filter_map(|d| certs::parse_der(d)).collect();
    if chain.is_empty() {
        obs.error.get_or_insert_with(|| match result {
            Ok(Err(e)) => format!("tls: {e}"),
            _ => "net/http: TLS handshake timeout".into(),
        });
        return None;
    }
    let tls = match result {
        Ok(Ok(tls)) if with_identity => Some(tls),
        _ => None,
    };
    Some((chain, tls))
}

/// Reads the server's verdict on the client certificate. With TLS 1.3 the client's side of
/// the handshake ends before the server has judged its certificate, so a refusal arrives as
/// an alert on the first read; an HTTP client may see only a closed connection ("connection
/// was not ready"). One plain request on this connection gets the alert itself.
async fn client_certificate_step(
    obs: &mut Observation,
    mut tls: ClientTls,
    host: &str,
    opts: &Options,
) {
    use tokio::io::AsyncReadExt;
    let t = Instant::now();
    let request = format!(
        "GET /version HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nConnection: close\r\n\r\n",
        crate::cluster::client::USER_AGENT
    );
    let exchange = async {
        // A refused certificate may close the connection before the request is written;
        // the alert is still waiting to be read.
        let written = match tls.write_all(request.as_bytes()).await {
            Ok(()) => tls.flush().await,
            Err(e) => Err(e),
        };
        let mut buf = [0u8; 64];
        match tls.read(&mut buf).await {
            Ok(0) => written.map(|_| 0),
            other => other,
        }
    };
    let detail = match tokio::time::timeout(opts.step_timeout, exchange).await {
        Ok(Ok(n)) if n > 0 => {
            obs.steps.push(Probe {
                step: "client certificate".into(),
                ok: true,
                millis: elapsed(t),
                detail: "the server accepted the client certificate".into(),
            });
            return;
        }
        Ok(Ok(_)) => {
            "the server closed the connection after the handshake without saying why".to_string()
        }
        Ok(Err(e)) => {
            let text = error_chain(&e);
            if text.to_lowercase().contains("alert") {
                obs.error = Some(transport_text(&text));
                format!("the server refused the client certificate: {text}")
            } else {
                text
            }
        }
        // No answer says nothing about the certificate; the requests that follow will tell.
        Err(_) => return,
    };
    obs.steps.push(Probe {
        step: "client certificate".into(),
        ok: false,
        millis: elapsed(t),
        detail,
    });
}

/// Judges the served chain as kubectl would, against the kubeconfig's CA.
fn judge_chain(
    obs: &mut Observation,
    chain: &[CertificateDer<'static>],
    target: &Target,
    host: &str,
) {
    if target.insecure_skip_tls_verify || obs.error.is_some() {
        return;
    }
    let t = Instant::now();
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &target.ca_pem {
        for c in certs::pem_certs(ca) {
            let _ = roots.add(c);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verdict = if roots.is_empty() {
        Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ))
    } else {
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))
            .and_then(|v| {
                let name = server_name(target, host)
                    .ok_or_else(|| rustls::Error::General("invalid server name".into()))?;
                v.verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            })
    };
    let leaf = obs.served_chain.first().cloned().unwrap_or_default();
    let requested = obs.requested_name.clone().unwrap_or(host.to_string());
    let error = match verdict {
        Ok(_) => None,
        Err(rustls::Error::InvalidCertificate(e)) => Some(go_x509_text(&e, &leaf, &requested)),
        Err(e) => Some(format!("tls: {e}")),
    };
    obs.steps.push(Probe {
        step: "verify".into(),
        ok: error.is_none(),
        millis: elapsed(t),
        detail: error
            .clone()
            .unwrap_or_else(|| "the chain verifies against the kubeconfig's CA".into()),
    });
    obs.error = error;
}

/// Go's wording for a certificate error, as kubectl prints it.
fn go_x509_text(e: &CertificateError, leaf: &CertInfo, requested: &str) -> String {
    match e {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            "x509: certificate signed by unknown authority".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            go_name_error(leaf, requested)
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
            "x509: certificate has expired or is not yet valid: current time {} is after {}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            leaf.not_after.as_deref().unwrap_or("?")
        ),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => format!(
            "x509: certificate has expired or is not yet valid: current time {} is before {}",
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            leaf.not_before.as_deref().unwrap_or("?")
        ),
        other => format!("x509: {other:?}"),
    }
}

/// Go's `x509.HostnameError` text: for an IP only the IP SANs count, for a name only the
/// DNS names.
pub fn go_name_error(leaf: &CertInfo, requested: &str) -> String {
    if requested.parse::<std::net::IpAddr>().is_ok() {
        if leaf.ip_addresses.is_empty() {
            return format!(
                "x509: cannot validate certificate for {requested} because it doesn't contain any IP SANs"
            );
        }
        return format!(
            "x509: certificate is valid for {}, not {requested}",
            leaf.ip_addresses.join(", ")
        );
    }
    if leaf.dns_names.is_empty() {
        return format!(
            "x509: certificate is not valid for any names, but wanted to match {requested}"
        );
    }
    format!(
        "x509: certificate is valid for {}, not {requested}",
        leaf.dns_names.join(", ")
    )
}

/// The causes of a kube error joined (`client error (Connect): … : received fatal alert`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Who am I, what can I read, and (when refused) what may I do.
async fn authenticated_steps(
    obs: &mut Observation,
    target: &Target,
    route: &proxy::ProxyDecision,
    opts: &Options,
) {
    let options = kube::config::KubeConfigOptions {
        context: Some(target.context.clone()),
        ..Default::default()
    };
    let mut config =
        match kube::Config::from_custom_kubeconfig(target.kubeconfig.clone(), &options).await {
            Ok(c) => c,
            Err(e) => {
                obs.error = Some(error_chain(&e));
                return;
            }
        };
    config.proxy_url = route.proxy.as_deref().and_then(|p| p.parse().ok());
    config.connect_timeout = Some(opts.step_timeout);
    config.read_timeout = Some(opts.request_timeout);
    // The doctor reports what the server answered: kube's own retries of 429/503/504 ran
    // into the request timeout and a 503 read "no answer within 5s". (`check` asks again
    // itself, within its --timeout.)
    config.default_retry = false;
    // Credentials within the deadline (an exec plugin that hangs is killed); a token file is
    // blamed on itself, never on an exec plugin.
    let client = match client::build_client(config, client::CREDENTIAL_DEADLINE).await {
        Ok(c) => c,
        Err(client::ClientError::Credentials(e)) => {
            let detail = e.to_string();
            obs.steps.push(Probe {
                step: "credentials".into(),
                ok: false,
                millis: 0,
                detail: detail.clone(),
            });
            match e {
                client::CredentialError::TokenFile { .. } => {
                    obs.error = Some(format!("getting credentials: {detail}"));
                }
                client::CredentialError::ExecFailed { stderr, .. } => {
                    obs.error = Some(format!("getting credentials: exec: {stderr}"));
                    obs.exec_stderr = Some(stderr);
                    obs.http_status = Some(401);
                }
                _ => {
                    obs.error = Some(format!("getting credentials: exec: {detail}"));
                    obs.exec_stderr = Some(detail);
                    obs.http_status = Some(401);
                }
            }
            return;
        }
        Err(e) => {
            obs.error = Some(e.to_string());
            return;
        }
    };
    let t = Instant::now();
    let review = post(
        &client,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
        opts,
    )
    .await;
    match review {
        Ok(v) => {
            obs.user = v
                .pointer("/status/userInfo/username")
                .and_then(Value::as_str)
                .map(str::to_string);
            obs.groups = v
                .pointer("/status/userInfo/groups")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|g| g.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            obs.steps.push(Probe {
                step: "whoami".into(),
                ok: true,
                millis: elapsed(t),
                detail: format!(
                    "the server knows this client as {:?} (groups {})",
                    obs.user.as_deref().unwrap_or("?"),
                    obs.groups.join(", ")
                ),
            });
        }
        Err(RequestError::Status(401, msg)) => {
            obs.http_status = Some(401);
            obs.steps.push(Probe {
                step: "whoami".into(),
                ok: false,
                millis: elapsed(t),
                detail: format!("401 Unauthorized: {msg}"),
            });
            obs.error = Some("error: You must be logged in to the server (Unauthorized)".into());
            return;
        }
        Err(RequestError::Status(code, msg)) => obs.steps.push(Probe {
            step: "whoami".into(),
            ok: false,
            millis: elapsed(t),
            detail: format!("{code}: {msg}"),
        }),
        Err(RequestError::Exec(msg)) => {
            obs.exec_stderr = Some(msg.clone());
            obs.steps.push(Probe {
                step: "whoami".into(),
                ok: false,
                millis: elapsed(t),
                detail: format!("the exec credential plugin failed: {msg}"),
            });
            obs.http_status = Some(401);
            obs.error = Some(format!("getting credentials: exec: {msg}"));
            return;
        }
        Err(RequestError::Transport(msg)) => {
            obs.steps.push(Probe {
                step: "whoami".into(),
                ok: false,
                millis: elapsed(t),
                detail: msg.clone(),
            });
            obs.error = Some(transport_text(&msg));
            return;
        }
    }
    let ns = target.namespace.clone();
    let ns_pods = format!("/api/v1/namespaces/{ns}/pods?limit=1");
    let mut server_error: Option<(u16, String)> = None;
    for (group, resource, namespace, path) in [
        ("", "namespaces", None, "/api/v1/namespaces?limit=1"),
        ("", "nodes", None, "/api/v1/nodes?limit=1"),
        ("", "pods", None, "/api/v1/pods?limit=1"),
        // A namespace-scoped user can still work in their namespace.
        ("", "pods", Some(ns.as_str()), ns_pods.as_str()),
    ] {
        if namespace.is_some() && obs.allowed.iter().any(|a| a.starts_with("list pods")) {
            continue;
        }
        let where_ = match namespace {
            Some(n) => format!("in {n}"),
            None => "(all namespaces)".into(),
        };
        let t = Instant::now();
        let answer = get(&client, path, opts).await;
        let (ok, detail) = match answer {
            Ok(_) => {
                obs.allowed.push(format!("list {resource} {where_}"));
                (true, "allowed".to_string())
            }
            Err(RequestError::Status(403, msg)) => {
                obs.http_status.get_or_insert(403);
                obs.denied.push(Denied {
                    verb: "list".into(),
                    group: group.into(),
                    resource: resource.into(),
                    namespace: namespace.map(str::to_string),
                    message: msg.clone(),
                });
                (false, format!("403 Forbidden: {msg}"))
            }
            Err(RequestError::Status(code, msg)) => {
                if code >= 500 {
                    server_error = Some((code, msg.clone()));
                }
                (false, format!("{code}: {msg}"))
            }
            Err(RequestError::Exec(msg) | RequestError::Transport(msg)) => (false, msg),
        };
        obs.steps.push(Probe {
            step: format!("list {resource} {where_}"),
            ok,
            millis: elapsed(t),
            detail,
        });
    }
    // Nothing listed and nothing refused: the server failed every read (a 503 from an
    // overloaded or starting API server). That is why it cannot be used, said as it was.
    if obs.allowed.is_empty()
        && obs.denied.is_empty()
        && let Some((code, msg)) = server_error
    {
        obs.http_status = Some(code);
        obs.error = Some(format!(
            "the API server answers {code} to every read: {}",
            msg.lines().next().unwrap_or("")
        ));
        return;
    }
    if obs.denied.is_empty() {
        return;
    }
    for ns in [ns.as_str()] {
        let t = Instant::now();
        let body = json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": ns},
        });
        if let Ok(v) = post(
            &client,
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            body,
            opts,
        )
        .await
        {
            let rules = v
                .pointer("/status/resourceRules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for r in rules {
                let list = |k: &str| {
                    r.get(k)
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                };
                obs.rules.push(format!(
                    "in {ns}: {} {}{}",
                    list("verbs"),
                    list("resources"),
                    match list("apiGroups").as_str() {
                        "" => String::new(),
                        g => format!(" (apiGroups {g})"),
                    }
                ));
            }
            obs.steps.push(Probe {
                step: "rules".into(),
                ok: true,
                millis: elapsed(t),
                detail: format!("SelfSubjectRulesReview in {ns}: {} rules", obs.rules.len()),
            });
        }
    }
}

/// A transport failure after a good handshake (typically the client certificate refused).
fn transport_text(msg: &str) -> String {
    let lower = msg.to_lowercase();
    if lower.contains("certificateexpired") || lower.contains("expired") {
        "remote error: tls: expired certificate".into()
    } else if lower.contains("decrypterror") {
        "remote error: tls: error decrypting message".into()
    } else if lower.contains("unknownca") {
        "remote error: tls: unknown certificate authority".into()
    } else if lower.contains("badcertificate") {
        "remote error: tls: bad certificate".into()
    } else {
        msg.to_string()
    }
}

enum RequestError {
    Status(u16, String),
    Exec(String),
    Transport(String),
}

/// The exec plugin's error output, when `e` is its failure (else its whole message).
fn exec_stderr(e: &kube::Error) -> Option<String> {
    match e {
        kube::Error::Auth(kube::client::AuthError::AuthExecRun { out, .. }) => {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Some(if stderr.is_empty() {
                format!("exited with {} and no error output", out.status)
            } else {
                stderr
            })
        }
        kube::Error::Auth(a) => Some(error_chain(a)),
        _ => None,
    }
}

fn classify(e: kube::Error) -> RequestError {
    if let Some(stderr) = exec_stderr(&e) {
        return RequestError::Exec(stderr);
    }
    match e {
        kube::Error::Api(s) => RequestError::Status(s.code, s.message),
        other => RequestError::Transport(error_chain(&other)),
    }
}

async fn get(client: &kube::Client, path: &str, opts: &Options) -> Result<Value, RequestError> {
    let req = http::Request::get(path)
        .body(Vec::new())
        .map_err(|e| RequestError::Transport(e.to_string()))?;
    match tokio::time::timeout(opts.request_timeout, client.request::<Value>(req)).await {
        Ok(r) => r.map_err(classify),
        Err(_) => Err(RequestError::Transport(format!(
            "no answer within {:?}",
            opts.request_timeout
        ))),
    }
}

async fn post(
    client: &kube::Client,
    path: &str,
    body: Value,
    opts: &Options,
) -> Result<Value, RequestError> {
    let req = http::Request::post(path)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).unwrap_or_default())
        .map_err(|e| RequestError::Transport(e.to_string()))?;
    match tokio::time::timeout(opts.request_timeout, client.request::<Value>(req)).await {
        Ok(r) => r.map_err(classify),
        Err(_) => Err(RequestError::Transport(format!(
            "no answer within {:?}",
            opts.request_timeout
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_invalid_names_are_recognised() {
        assert!(is_reserved_invalid("does-not-exist.invalid"));
        assert!(is_reserved_invalid("API.Corp.INVALID."));
        assert!(!is_reserved_invalid("invalid.example.com"));
    }

    #[tokio::test]
    async fn an_invalid_name_is_no_such_host_without_a_lookup() {
        let mut obs = Observation::default();
        let s = direct(
            &mut obs,
            "does-not-exist.invalid",
            6443,
            &Options::default(),
            "",
        )
        .await;
        assert!(s.is_none());
        assert_eq!(
            obs.error.as_deref(),
            Some("dial tcp: lookup does-not-exist.invalid: no such host")
        );
        assert_eq!(obs.steps[0].millis, 0);
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut obs = Observation::default();
        let s = direct(&mut obs, "127.0.0.1", port, &Options::default(), "").await;
        assert!(s.is_none());
        assert_eq!(
            obs.error.unwrap(),
            format!("dial tcp 127.0.0.1:{port}: connect: connection refused")
        );
    }
}
