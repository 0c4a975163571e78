//! Building a kube client from a kubeconfig the way kubectl reads it (`--kubeconfig`,
//! `KUBECONFIG`, `--context`), with ktriage's user agent and short connect timeouts for
//! interactive use. The proxy is decided here with kubectl's rules (`cluster::proxy`) and set
//! explicitly: kube 5 alone checks NO_PROXY against the proxy's address, not the server's.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error("kubeconfig is not usable: {0}")]
    Config(#[source] kube::config::KubeconfigError),
    #[error("cannot create the client: {0}")]
    Client(#[source] kube::Error),
}

/// A connected client with the names the status line shows.
pub struct Connection {
    pub client: kube::Client,
    pub context: String,
    pub server: String,
}

/// Loads the kubeconfig (`path`, else `$KUBECONFIG` merged, else `~/.kube/config`).
pub fn load_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, ClientError> {
    match path {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(ClientError::Kubeconfig)
}

/// Parses a kubeconfig held in memory (the embedded server's).
pub fn parse_kubeconfig(yaml: &str) -> Result<Kubeconfig, ClientError> {
    Kubeconfig::from_yaml(yaml).map_err(ClientError::Kubeconfig)
}

/// Builds a client for `context` (the kubeconfig's current context when `None`).
pub async fn connect(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> Result<Connection, ClientError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    let context_name = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let kubeconfig_for_proxy = kubeconfig.clone();
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(ClientError::Config)?;
    let proxy_url = kubeconfig_proxy_url(&kubeconfig_for_proxy, &context_name);
    let route = crate::cluster::proxy::decide(
        config.cluster_url.to_string().as_str(),
        proxy_url.as_deref(),
        &crate::cluster::proxy::process_environment(),
    );
    config.proxy_url = route.proxy.as_deref().and_then(|p| p.parse().ok());
    tracing::info!(proxy = ?route.proxy, reason = %route.reason, "route to the API server");
    if config.accept_invalid_certs {
        tracing::warn!(
            context = %context_name,
            "insecure-skip-tls-verify is set: the API server's certificate is not verified"
        );
    }
    config.connect_timeout = Some(Duration::from_secs(5));
    if let Ok(ua) = http::HeaderValue::from_str(&format!("ktriage/{}", env!("CARGO_PKG_VERSION"))) {
        config.headers.push((http::header::USER_AGENT, ua));
    }
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(ClientError::Client)?;
    Ok(Connection {
        client,
        context: context_name,
        server,
    })
}

/// The `proxy-url` of the context's cluster, when set.
fn kubeconfig_proxy_url(kc: &Kubeconfig, context: &str) -> Option<String> {
    let cluster = kc
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())?;
    kc.clusters
        .iter()
        .find(|c| c.name == cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.proxy_url.clone())
        .filter(|p| !p.trim().is_empty())
}
