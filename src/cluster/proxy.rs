//! Which proxy a request to the API server goes through, decided the way kubectl decides it
//! (Go's `net/http.ProxyFromEnvironment`, i.e. `golang.org/x/net/http/httpproxy`): a
//! kubeconfig `proxy-url` wins; otherwise `HTTPS_PROXY`/`https_proxy` for an `https` server
//! (`HTTP_PROXY` only for `http`), unless the host is loopback or matches `NO_PROXY`/`no_proxy`
//! (host, `.suffix`, bare domain with its subdomains, `*.domain`, IP, CIDR, `host:port`, `*`).
//!
//! kube 5 checks NO_PROXY against the proxy's address instead of the server's, so ktriage
//! decides here and sets the client's `proxy_url` explicitly.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The proxy variables a client reads, upper case first (Go's precedence).
pub const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The proxy variables present in the process environment.
pub fn process_environment() -> BTreeMap<String, String> {
    PROXY_VARIABLES
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

/// What decides the route to the server, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyDecision {
    /// The proxy URL, `None` for a direct connection.
    pub proxy: Option<String>,
    /// Where the proxy came from: `kubeconfig proxy-url`, `HTTPS_PROXY`, `https_proxy`…
    pub source: Option<String>,
    /// The NO_PROXY value in force (and which variable held it).
    pub no_proxy: Option<(String, String)>,
    /// One sentence: why this route.
    pub reason: String,
}

/// The first non-empty value of `names` in `env` with the name that held it.
fn env_any<'a>(env: &'a BTreeMap<String, String>, names: &[&str]) -> Option<(String, &'a str)> {
    names.iter().find_map(|n| {
        env.get(*n)
            .filter(|v| !v.is_empty())
            .map(|v| (n.to_string(), v.as_str()))
    })
}

/// Splits `https://host:port/path` into scheme, host (IPv6 without brackets) and port
/// (the scheme's default when absent).
pub fn split_url(url: &str) -> Option<(String, String, u16)> {
    let uri: http::Uri = url.trim().parse().ok()?;
    let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .to_string();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "http" { 80 } else { 443 });
    Some((scheme, host, port))
}

/// Decides the route to `server` given the kubeconfig's `proxy-url` and the environment.
pub fn decide(
    server: &str,
    kubeconfig_proxy_url: Option<&str>,
    env: &BTreeMap<String, String>,
) -> ProxyDecision {
    let no_proxy = env_any(env, &["NO_PROXY", "no_proxy"]).map(|(k, v)| (k, v.to_string()));
    if let Some(p) = kubeconfig_proxy_url.filter(|p| !p.trim().is_empty()) {
        return ProxyDecision {
            proxy: Some(normalize_proxy(p)),
            source: Some("kubeconfig proxy-url".into()),
            no_proxy,
            reason: "the kubeconfig's proxy-url applies to every request of this cluster; NO_PROXY is not consulted".into(),
        };
    }
    let Some((scheme, host, port)) = split_url(server) else {
        return ProxyDecision {
            proxy: None,
            source: None,
            no_proxy,
            reason: format!("the server URL {server:?} cannot be parsed"),
        };
    };
    let vars: &[&str] = if scheme == "http" {
        &["HTTP_PROXY", "http_proxy"]
    } else {
        &["HTTPS_PROXY", "https_proxy"]
    };
    let Some((var, proxy)) = env_any(env, vars) else {
        let extra = if scheme == "https" && env_any(env, &["HTTP_PROXY", "http_proxy"]).is_some() {
            " (HTTP_PROXY is set but applies only to http:// servers)"
        } else {
            ""
        };
        return ProxyDecision {
            proxy: None,
            source: None,
            no_proxy,
            reason: format!("no {} is set{extra}", vars[0]),
        };
    };
    let rules = NoProxy::parse(no_proxy.as_ref().map(|(_, v)| v.as_str()).unwrap_or(""));
    match rules.bypass(&host, port) {
        Some(why) => ProxyDecision {
            proxy: None,
            source: Some(var),
            no_proxy,
            reason: why,
        },
        None => {
            let reason = match &no_proxy {
                None => format!("{var} is set and no NO_PROXY is set"),
                Some((k, v)) => format!(
                    "{var} is set and {k}={v:?} matches neither the host {host} (by name, suffix, IP or CIDR) nor {host}:{port}"
                ),
            };
            ProxyDecision {
                proxy: Some(normalize_proxy(proxy)),
                source: Some(var),
                no_proxy,
                reason,
            }
        }
    }
}

/// Go prefixes a proxy without a scheme with `http://`.
fn normalize_proxy(p: &str) -> String {
    let p = p.trim();
    if p.contains("://") {
        p.to_string()
    } else {
        format!("http://{p}")
    }
}

/// One NO_PROXY entry after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `*`: never proxy.
    All,
    /// An IP address with an optional port.
    Ip { ip: IpAddr, port: Option<u16> },
    /// A CIDR block.
    Cidr { net: IpAddr, prefix: u8 },
    /// `.suffix` (with `match_host` false) or `domain` (matches itself and subdomains).
    Domain {
        suffix: String,
        port: Option<u16>,
        match_host: bool,
    },
}

/// Parsed NO_PROXY rules, Go's httpproxy semantics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoProxy {
    rules: Vec<(String, Rule)>,
}

fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once("]:")?;
        return Some((h, p));
    }
    let (h, p) = s.rsplit_once(':')?;
    if h.contains(':') {
        return None; // a bare IPv6 address
    }
    Some((h, p))
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl NoProxy {
    /// Parses a NO_PROXY value; malformed entries are skipped as Go skips them.
    pub fn parse(value: &str) -> NoProxy {
        let mut rules = Vec::new();
        for raw in value.split(',') {
            let p = raw.trim().to_ascii_lowercase();
            if p.is_empty() {
                continue;
            }
            if p == "*" {
                return NoProxy {
                    rules: vec![(p, Rule::All)],
                };
            }
            if let Some((net, prefix)) = parse_cidr(&p) {
                rules.push((p, Rule::Cidr { net, prefix }));
                continue;
            }
            let (host, port) = match split_host_port(&p) {
                Some((h, port)) => {
                    if h.is_empty() {
                        continue;
                    }
                    (h.to_string(), port.parse::<u16>().ok())
                }
                None => (p.clone(), None),
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                rules.push((p, Rule::Ip { ip, port }));
                continue;
            }
            let mut suffix = match host.strip_prefix("*.") {
                Some(rest) => format!(".{rest}"),
                None => host.clone(),
            };
            let match_host = !suffix.starts_with('.');
            if match_host {
                suffix.insert(0, '.');
            }
            rules.push((
                p,
                Rule::Domain {
                    suffix,
                    port,
                    match_host,
                },
            ));
        }
        NoProxy { rules }
    }

    /// `Some(reason)` when a connection to `host:port` bypasses the proxy, `None` when the
    /// proxy applies.
    pub fn bypass(&self, host: &str, port: u16) -> Option<String> {
        let host = host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host == "localhost" {
            return Some("localhost is never proxied".into());
        }
        let ip = host.parse::<IpAddr>().ok();
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return Some(format!("{host} is a loopback address, never proxied"));
        }
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        for (entry, rule) in &self.rules {
            let hit = match (rule, ip) {
                (Rule::All, _) => true,
                (Rule::Ip { ip: r, port: p }, Some(ip)) => *r == ip && port_ok(p),
                (Rule::Cidr { net, prefix }, Some(ip)) => in_cidr(ip, *net, *prefix),
                (
                    Rule::Domain {
                        suffix,
                        port: p,
                        match_host,
                    },
                    _,
                ) => {
                    (host.ends_with(suffix.as_str()) || (*match_host && host == suffix[1..]))
                        && port_ok(p)
                }
                _ => false,
            };
            if hit {
                return Some(format!("NO_PROXY entry {entry:?} matches {host}:{port}"));
            }
        }
        None
    }

    /// Whether the proxy applies to `host:port`.
    pub fn use_proxy(&self, host: &str, port: u16) -> bool {
        self.bypass(host, port).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `httpproxy` test `TestUseProxy` (x/net/http/httpproxy/proxy_test.go).
    const GO_NO_PROXY: &str = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64";

    #[test]
    fn go_use_proxy_cases() {
        let cases = [
            ("localhost", false),
            ("127.0.0.1", false),
            ("127.0.0.2", false),
            ("[::1]", false),
            ("[::2]", true),
            ("192.168.1.1", false),
            ("192.168.1.2", true),
            ("192.168.1.3", false),
            ("192.168.1.4", true),
            ("10.0.0.2", false),
            ("[2001:db8::52:0:1]", false),
            ("[2001:db8::52:0:2]", true),
            ("[2001:db8::52:0:3]", false),
            ("[2002:db8:a::123]", false),
            ("[fe80::424b:c8be:1643:a1b6]", true),
            ("barbaz.net", true),
            ("www.barbaz.net", false),
            ("foobar.com", false),
            ("www.foobar.com", false),
            ("foofoobar.com", true),
            ("baz.com", true),
            ("localhost.net", true),
            ("local.localhost", true),
            ("barbarbaz.net", true),
            ("wildcard.io", true),
            ("nested.wildcard.io", false),
            ("awildcard.io", true),
        ];
        let np = NoProxy::parse(GO_NO_PROXY);
        for (host, want) in cases {
            assert_eq!(np.use_proxy(host, 80), want, "{host}:80");
        }
    }

    #[test]
    fn go_all_and_invalid_no_proxy() {
        let all = NoProxy::parse("*");
        for h in ["example.com", "10.1.2.3", "[2001:db8::1]"] {
            assert!(!all.use_proxy(h, 443), "{h}");
        }
        // TestInvalidNoProxy: ":1" has no host part and is ignored, without panicking.
        assert!(NoProxy::parse(":1").use_proxy("example.com", 80));
    }

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn go_proxy_for_url_cases() {
        // HTTPS_PROXY applies to https; a scheme-less proxy gets http://.
        let d = decide(
            "https://example.com",
            None,
            &env(&[("HTTPS_PROXY", "cache.corp.example.com:1234")]),
        );
        assert_eq!(
            d.proxy.as_deref(),
            Some("http://cache.corp.example.com:1234")
        );
        // HTTP_PROXY does not apply to an https server.
        let d = decide(
            "https://secure.tld/",
            None,
            &env(&[("HTTP_PROXY", "http.proxy.tld")]),
        );
        assert_eq!(d.proxy, None);
        assert!(d.reason.contains("only to http://"), "{}", d.reason);
        // Upper case wins over lower case.
        let d = decide(
            "https://example.com",
            None,
            &env(&[
                ("HTTPS_PROXY", "http://upper"),
                ("https_proxy", "http://lower"),
            ]),
        );
        assert_eq!(d.proxy.as_deref(), Some("http://upper"));
        // no_proxy in lower case is honoured.
        let d = decide(
            "https://example.com:6443",
            None,
            &env(&[
                ("https_proxy", "http://p:3128"),
                ("no_proxy", "example.com"),
            ]),
        );
        assert_eq!(d.proxy, None);
        // Never for localhost, even with a proxy set.
        let d = decide(
            "https://localhost:6443",
            None,
            &env(&[("HTTPS_PROXY", "http://p:3128")]),
        );
        assert_eq!(d.proxy, None);
    }

    #[test]
    fn reasons_name_the_no_proxy_value_that_did_not_match() {
        let d = decide(
            "https://10.20.0.5:6443",
            None,
            &env(&[
                ("HTTPS_PROXY", "http://proxy.corp:3128"),
                ("NO_PROXY", "localhost,.corp,10.10.0.0/16"),
            ]),
        );
        assert_eq!(d.proxy.as_deref(), Some("http://proxy.corp:3128"));
        assert!(d.reason.contains("10.10.0.0/16"), "{}", d.reason);
        assert!(d.reason.contains("10.20.0.5"), "{}", d.reason);
        let d = decide(
            "https://10.10.3.4:6443",
            None,
            &env(&[
                ("HTTPS_PROXY", "http://proxy.corp:3128"),
                ("NO_PROXY", "localhost,.corp,10.10.0.0/16"),
            ]),
        );
        assert_eq!(d.proxy, None);
        assert!(d.reason.contains("10.10.0.0/16"), "{}", d.reason);
    }

    #[test]
    fn kubeconfig_proxy_url_wins_over_no_proxy() {
        let d = decide(
            "https://api.example.com",
            Some("socks5://127.0.0.1:1080"),
            &env(&[("NO_PROXY", "*")]),
        );
        assert_eq!(d.proxy.as_deref(), Some("socks5://127.0.0.1:1080"));
        assert_eq!(d.source.as_deref(), Some("kubeconfig proxy-url"));
    }

    #[test]
    fn ports_must_match_when_given() {
        let np = NoProxy::parse("api.example.com:6443");
        assert!(!np.use_proxy("api.example.com", 6443));
        assert!(np.use_proxy("api.example.com", 443));
    }
}
