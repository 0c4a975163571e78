//! Which proxy a request to the API server goes through, decided the way kubectl decides it
//! (Go's `net/http.ProxyFromEnvironment`, i.e. `golang.org/x/net/http/httpproxy`): a
//! kubeconfig `proxy-url` wins; otherwise `HTTPS_PROXY`/`https_proxy` for an `https` server
//! (`HTTP_PROXY` only for `http`), unless the host is loopback or matches `NO_PROXY`/`no_proxy`
//! (host, `.suffix`, bare domain with its subdomains, `*.domain`, IP, CIDR, `host:port`, `*`).
//! This is ktriage's only NO_PROXY matcher: the playbooks that read a NO_PROXY out of a pod's
//! environment (CP-01) ask [`no_proxy_covers`].
//!
//! kube 5 checks NO_PROXY against the proxy's address instead of the server's, so ktriage
//! decides here and sets the client's `proxy_url` explicitly.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// The proxy and the NO_PROXY a Go client takes for a request out of a set of variables (the
/// process environment, a container's `env`), each with the variable that held it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyVars {
    /// `HTTPS_PROXY`, else `https_proxy` (`HTTP_PROXY`/`http_proxy` for an `http` request).
    pub proxy: Option<(String, String)>,
    /// `NO_PROXY`, else `no_proxy`.
    pub no_proxy: Option<(String, String)>,
}

/// Go's precedence: for each, the first spelling with a non-empty value wins and the other is
/// not read at all (two NO_PROXY lists are never merged). A request that is not `http` is
/// treated as `https`.
pub fn proxy_vars(env: &BTreeMap<String, String>, scheme: &str) -> ProxyVars {
    let vars: &[&str] = if scheme.eq_ignore_ascii_case("http") {
        &["HTTP_PROXY", "http_proxy"]
    } else {
        &["HTTPS_PROXY", "https_proxy"]
    };
    let owned = |(k, v): (String, &str)| (k, v.to_string());
    ProxyVars {
        proxy: env_any(env, vars).map(owned),
        no_proxy: env_any(env, &["NO_PROXY", "no_proxy"]).map(owned),
    }
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
    let no_proxy = proxy_vars(env, "https").no_proxy;
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
    let Some((var, proxy)) = proxy_vars(env, &scheme).proxy else {
        let extra = if scheme == "https" && env_any(env, &["HTTP_PROXY", "http_proxy"]).is_some() {
            " (HTTP_PROXY is set but applies only to http:// servers)"
        } else {
            ""
        };
        return ProxyDecision {
            proxy: None,
            source: None,
            no_proxy,
            reason: format!(
                "no {} is set{extra}",
                if scheme == "http" {
                    "HTTP_PROXY"
                } else {
                    "HTTPS_PROXY"
                }
            ),
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
                proxy: Some(normalize_proxy(&proxy)),
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
    /// An IP address, with the port as written when the entry names one (`192.168.1.3:80`,
    /// `[2001:db8::1]:443`).
    Ip { ip: IpAddr, port: Option<String> },
    /// A CIDR block; it matches every port.
    Cidr { net: IpAddr, prefix: u8 },
    /// `.suffix` and `*.suffix` (subdomains only, `match_host` false) or `domain` (itself and
    /// its subdomains), with the port as written when the entry names one.
    Domain {
        suffix: String,
        port: Option<String>,
        match_host: bool,
    },
}

/// Parsed NO_PROXY rules, Go's httpproxy semantics:
///
/// - entries are split at `,`, trimmed and lower-cased; empty ones are skipped, and so are
///   malformed ones (`:1`), without an error;
/// - `*` alone means "never proxy";
/// - `a.b.c.d/n` and `v6/n` are CIDR blocks; they match an IP host on any port;
/// - an IP address, optionally `ip:port` or `[v6]:port`, matches that address (an IPv4 address
///   and its IPv4-mapped IPv6 form are the same address);
/// - any other entry is a domain, optionally with `:port`: `foo.com` matches `foo.com` and
///   `x.foo.com`; `.foo.com` and `*.foo.com` match `x.foo.com` only, never `foo.com` itself;
///   a domain entry never matches a host given as an IP address;
/// - a port is compared as text: `foo.com:6443` matches port 6443 only, `foo.com:06443` or
///   `foo.com:https` match no request at all;
/// - `localhost` and loopback addresses are never proxied, whatever NO_PROXY says.
///
/// Go also converts internationalized names to punycode on both sides; ktriage compares them
/// as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NoProxy {
    rules: Vec<(String, Rule)>,
}

/// `host:port` or `[host]:port` split the way Go's `net.SplitHostPort` splits it, the brackets
/// dropped: `None` when there is no colon, for a bare IPv6 address (more than one colon outside
/// brackets), when the port's colon does not follow the closing bracket, and for stray
/// brackets. The port is returned as written; it may be empty or not a number.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let colon = s.rfind(':')?;
    let (host, after_host) = if let Some(inner) = s.strip_prefix('[') {
        let close = 1 + inner.find(']')?;
        if close + 1 != colon {
            return None;
        }
        (&s[1..close], close + 1)
    } else {
        let host = &s[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0)
    };
    let opened = usize::from(s.starts_with('['));
    if s[opened..].contains('[') || s[after_host..].contains(']') {
        return None;
    }
    Some((host, &s[colon + 1..]))
}

/// Address `ip` with every bit past `prefix` cleared.
fn masked(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

fn bit_len(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// `addr/prefix` as Go's `net.ParseCIDR` reads it (no zone, a prefix of decimal digits only,
/// at most the address length), the block's own address masked. An IPv4-mapped IPv6 block of
/// /96 or longer behaves in Go as the IPv4 block it maps, so it is stored as that.
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = bits.parse().ok().filter(|b| *b <= bit_len(ip))?;
    Some(canonical_block(ip, bits))
}

/// The block `ip/prefix` with its address masked; an IPv4-mapped block (only /96 and longer
/// keep the mapping bits) as the IPv4 block it maps.
fn canonical_block(ip: IpAddr, prefix: u8) -> (IpAddr, u8) {
    let net = masked(ip, prefix);
    if let IpAddr::V6(v6) = net
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        return (IpAddr::V4(v4), prefix - 96);
    }
    (net, prefix)
}

fn in_cidr(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    ip.is_ipv4() == net.is_ipv4() && masked(ip, prefix) == net
}

/// The two halves of the block `net/prefix` (`prefix` shorter than the address).
fn halves(net: IpAddr, prefix: u8) -> (IpAddr, IpAddr) {
    let hi = match net {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) | (1u32 << (31 - u32::from(prefix)))).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) | (1u128 << (127 - u32::from(prefix)))).into()),
    };
    (net, hi)
}

/// A request host as an address: IPv4-mapped IPv6 read as IPv4, and an IPv6 address with a
/// zone (`fe80::1%eth0`) is an address too, not a name (Go since CVE-2025-22870).
fn host_ip(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (addr, zone) = host.split_once('%')?;
    if zone.is_empty() {
        return None;
    }
    addr.parse::<Ipv6Addr>()
        .ok()
        .map(|a| IpAddr::V6(a).to_canonical())
}

/// Whether an entry's port allows `port`; `None` asks for every port at once.
fn port_ok(entry_port: &Option<String>, port: Option<u16>) -> bool {
    match entry_port {
        None => true,
        Some(p) => port.is_some_and(|port| *p == port.to_string()),
    }
}

impl NoProxy {
    /// Parses a NO_PROXY value; malformed entries are skipped as Go skips them.
    pub fn parse(value: &str) -> NoProxy {
        let mut rules = Vec::new();
        for raw in value.split(',') {
            let p = raw.trim().to_lowercase();
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
            let (host, port) = split_host_port(&p).unwrap_or((p.as_str(), ""));
            if host.is_empty() {
                continue;
            }
            let port = (!port.is_empty()).then(|| port.to_string());
            if let Ok(ip) = host.parse::<IpAddr>() {
                let ip = ip.to_canonical();
                rules.push((p.clone(), Rule::Ip { ip, port }));
                continue;
            }
            let (suffix, match_host) = match host.strip_prefix("*.") {
                Some(rest) => (format!(".{rest}"), false),
                None if host.starts_with('.') => (host.to_string(), false),
                None => (format!(".{host}"), true),
            };
            rules.push((
                p.clone(),
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
        self.check(host, Some(port))
    }

    /// `Some(reason)` when connections to `host` bypass the proxy whatever their port: entries
    /// restricted to a port do not count.
    pub fn bypass_every_port(&self, host: &str) -> Option<String> {
        self.check(host, None)
    }

    fn check(&self, host: &str, port: Option<u16>) -> Option<String> {
        let at = port.map(|p| format!(":{p}")).unwrap_or_default();
        let raw = host.trim_start_matches('[').trim_end_matches(']');
        // Go compares the host as the URL spells it here, before lower-casing it.
        if raw == "localhost" {
            return Some("localhost is never proxied".into());
        }
        let ip = host_ip(raw);
        if ip.is_some_and(|ip| ip.is_loopback()) {
            return Some(format!("{raw} is a loopback address, never proxied"));
        }
        let name = raw.trim().to_lowercase();
        for (entry, rule) in &self.rules {
            let hit = match (rule, ip) {
                (Rule::All, _) => true,
                (Rule::Ip { ip: r, port: p }, Some(ip)) => *r == ip && port_ok(p, port),
                (Rule::Cidr { net, prefix }, Some(ip)) => in_cidr(ip, *net, *prefix),
                (
                    Rule::Domain {
                        suffix,
                        port: p,
                        match_host,
                    },
                    None,
                ) => {
                    (name.ends_with(suffix.as_str()) || (*match_host && name == suffix[1..]))
                        && port_ok(p, port)
                }
                _ => false,
            };
            if hit {
                return Some(format!("NO_PROXY entry {entry:?} matches {name}{at}"));
            }
        }
        None
    }

    /// Whether the proxy applies to `host:port`.
    pub fn use_proxy(&self, host: &str, port: u16) -> bool {
        self.bypass(host, port).is_none()
    }

    /// Whether every address of the block `net/prefix` bypasses the proxy on every port: the
    /// block lies inside what `*`, the CIDR entries, the IP entries without a port and the
    /// loopback range cover together. `None` when `prefix` is longer than the address.
    pub fn bypass_block(&self, net: IpAddr, prefix: u8) -> Option<bool> {
        if prefix > bit_len(net) {
            return None;
        }
        if self.rules.iter().any(|(_, r)| *r == Rule::All) {
            return Some(true);
        }
        let (net, prefix) = canonical_block(net, prefix);
        let mut direct: Vec<(IpAddr, u8)> = vec![
            (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        ];
        for (_, rule) in &self.rules {
            match rule {
                Rule::Cidr { net, prefix } => direct.push((*net, *prefix)),
                Rule::Ip { ip, port: None } => direct.push((*ip, bit_len(*ip))),
                _ => {}
            }
        }
        direct.retain(|(n, _)| n.is_ipv4() == net.is_ipv4());
        Some(block_covered(net, prefix, &direct))
    }
}

/// Whether the union of `direct` contains `net/prefix`: one block holds it whole, or blocks
/// inside it cover both of its halves.
fn block_covered(net: IpAddr, prefix: u8, direct: &[(IpAddr, u8)]) -> bool {
    if direct
        .iter()
        .any(|(d, dp)| *dp <= prefix && in_cidr(net, *d, *dp))
    {
        return true;
    }
    let inner = direct
        .iter()
        .any(|(d, dp)| *dp > prefix && in_cidr(*d, net, prefix));
    if !inner || prefix >= bit_len(net) {
        return false;
    }
    let (lo, hi) = halves(net, prefix);
    block_covered(lo, prefix + 1, direct) && block_covered(hi, prefix + 1, direct)
}

/// The question CP-01 and anything else holding a NO_PROXY value from outside the process
/// (a static pod's `env`) asks: does a Go client with this NO_PROXY reach `target` directly?
/// `target` is a host name or an IP address, checked at `port`, or with `port` `None` on every
/// port (entries restricted to a port then do not count); or a CIDR block, direct only when
/// every address in it is, on every port.
pub fn no_proxy_covers(no_proxy: &str, target: &str, port: Option<u16>) -> bool {
    let rules = NoProxy::parse(no_proxy);
    let target = target.trim();
    if let Some((net, prefix)) = parse_cidr(target) {
        return rules.bypass_block(net, prefix).unwrap_or(false);
    }
    match port {
        Some(port) => rules.bypass(target, port).is_some(),
        None => rules.bypass_every_port(target).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's `noProxy` value and `UseProxyTests` table (x/net/http/httpproxy/proxy_test.go,
    /// used by `TestUseProxy` and `TestAllNoProxy`): host, whether the proxy applies. Go asks
    /// each at port 80.
    const GO_NO_PROXY: &str = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64";
    const GO_USE_PROXY: &[(&str, bool)] = &[
        // Never proxy localhost or loopback.
        ("localhost", false),
        ("127.0.0.1", false),
        ("127.0.0.2", false),
        ("[::1]", false),
        ("[::2]", true),
        // IP entries, with and without a port; CIDR entries.
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
        // Domains: `.x` and `*.x` match subdomains only, `x` itself too; no partial labels.
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

    #[test]
    fn go_use_proxy_cases() {
        let np = NoProxy::parse(GO_NO_PROXY);
        for (host, want) in GO_USE_PROXY {
            assert_eq!(np.use_proxy(host, 80), *want, "{host}:80");
        }
    }

    #[test]
    fn go_all_and_invalid_no_proxy() {
        // TestAllNoProxy: `*` sends every host of the table direct.
        let all = NoProxy::parse("*");
        for (host, _) in GO_USE_PROXY {
            assert!(!all.use_proxy(host, 80), "{host}");
        }
        // TestInvalidNoProxy: ":1" has no host part and is ignored, without panicking.
        assert!(NoProxy::parse(":1").use_proxy("example.com", 80));
    }

    /// The NoProxy rows of Go's `proxyForURLTests` (same file, `TestProxyForURL`): NO_PROXY,
    /// request URL, whether the proxy applies. The three internationalized-name rows are left
    /// out: ktriage does not convert names to punycode.
    #[test]
    fn go_proxy_for_url_no_proxy_rows() {
        let rows = [
            ("example.com", "http://example.com/", false),
            (".example.com", "http://example.com/", true),
            ("ample.com", "http://example.com/", true),
            ("example.com", "http://foo.example.com/", false),
            (".foo.com", "http://example.com/", true),
            // CVE-2025-22870: an IPv6 zone is no host name to match a domain against.
            ("example.com", "http://[1000::%25.example.com]:123", true),
        ];
        for (no_proxy, url, want) in rows {
            let (host, port) = match split_url(url) {
                Some((_, h, p)) => (h, p),
                // The zone URL is beyond http::Uri; Go's url.Hostname() gives this host.
                None => ("1000::%.example.com".to_string(), 123),
            };
            assert_eq!(
                NoProxy::parse(no_proxy).use_proxy(&host, port),
                want,
                "NO_PROXY={no_proxy} {url}"
            );
        }
    }

    /// Rules read off httpproxy's proxy.go that Go's tables do not exercise.
    #[test]
    fn go_source_rules_beyond_the_tables() {
        let cases: &[(&str, &str, u16, bool)] = &[
            // Ports are compared as text: an odd spelling matches no request at all, an empty
            // port matches every port.
            ("api.example.com:6443", "api.example.com", 6443, false),
            ("api.example.com:6443", "api.example.com", 443, true),
            ("api.example.com:06443", "api.example.com", 6443, true),
            ("api.example.com:https", "api.example.com", 443, true),
            ("api.example.com:99999", "api.example.com", 443, true),
            ("api.example.com:", "api.example.com", 443, false),
            ("10.1.2.3:6443", "10.1.2.3", 443, true),
            // A CIDR prefix is decimal digits only; `+8` makes the entry a (useless) name.
            ("10.0.0.0/+8", "10.1.2.3", 443, true),
            ("10.0.0.0/8", "10.1.2.3", 443, false),
            // A CIDR entry need not be the block's first address.
            ("10.1.2.3/8", "10.200.0.1", 443, false),
            // A domain entry never matches a host given as an address.
            ("0.0.1", "10.0.0.1", 443, true),
            // IPv4-mapped IPv6 is the IPv4 address, for loopback, IP and CIDR entries alike.
            ("", "::ffff:127.0.0.1", 443, false),
            ("10.0.0.5", "::ffff:10.0.0.5", 443, false),
            ("::ffff:10.0.0.5", "10.0.0.5", 443, false),
            ("10.0.0.0/30", "::ffff:10.0.0.2", 443, false),
            ("::ffff:10.0.0.0/104", "10.9.9.9", 443, false),
            // `[v6]` without a port is no address entry (and matches nothing).
            ("[2001:db8::1]", "2001:db8::1", 443, true),
            // localhost is recognized as spelled, before lower-casing.
            ("", "LOCALHOST", 443, true),
            ("localhost", "LOCALHOST", 443, false),
            // Entries and hosts compare case-insensitively.
            ("API.Example.COM", "api.EXAMPLE.com", 443, false),
            // `*` only alone; `*foo.com` is a name nobody has.
            ("*foo.com", "x.foo.com", 443, true),
            ("*.foo.com", "foo.com", 443, true),
        ];
        for (no_proxy, host, port, want) in cases {
            assert_eq!(
                NoProxy::parse(no_proxy).use_proxy(host, *port),
                *want,
                "NO_PROXY={no_proxy:?} {host}:{port}"
            );
        }
    }

    #[test]
    fn split_host_port_follows_go() {
        assert_eq!(split_host_port("a.b:80"), Some(("a.b", "80")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("a.b:"), Some(("a.b", "")));
        assert_eq!(split_host_port("a.b"), None);
        assert_eq!(split_host_port("2001:db8::1"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("[::1]x:80"), None);
        assert_eq!(split_host_port("a]:80"), None);
        assert_eq!(split_host_port("[a[b]:80"), None);
    }

    /// CP-01's question: a NO_PROXY out of a static pod's env, a target that is a host (at a
    /// port or on every port) or a CIDR block. Host rows mirror Go's `UseProxyTests` and
    /// `proxyForURLTests` rules.
    #[test]
    fn no_proxy_covers_hosts_ports_and_blocks() {
        let np = "localhost,127.0.0.1,.corp.example,k8s-api.lab.internal:6443,10.0.0.11,10.0.0.12:6443,10.96.0.0/13,10.104.0.0/13,fd00:10:96::/112";
        let cases: &[(&str, Option<u16>, bool)] = &[
            // `.corp.example` matches subdomains only (Go: ".foo.com" vs "example.com" row).
            ("api.corp.example", Some(443), true),
            ("corp.example", Some(443), false),
            // A port-restricted entry covers that port, and not "every port".
            ("k8s-api.lab.internal", Some(6443), true),
            ("k8s-api.lab.internal", Some(443), false),
            ("k8s-api.lab.internal", None, false),
            ("10.0.0.11", None, true),
            ("10.0.0.12", Some(6443), true),
            ("10.0.0.12", None, false),
            ("10.0.0.13", None, false),
            // Blocks: covered by the union of CIDR entries, not only by one of them.
            ("10.96.0.0/12", None, true),
            ("10.96.0.1/12", None, true),
            ("10.96.0.0/11", None, false),
            ("10.244.0.0/16", None, false),
            ("fd00:10:96::/112", None, true),
            ("fd00:10:96::/108", None, false),
            // Loopback is always direct, as a host and as a block.
            ("127.0.0.0/8", None, true),
            ("::1", None, true),
        ];
        for (target, port, want) in cases {
            assert_eq!(
                no_proxy_covers(np, target, *port),
                *want,
                "{target} {port:?}"
            );
        }
        assert!(no_proxy_covers("*", "10.0.0.0/8", None));
        assert!(!no_proxy_covers("", "10.0.0.1", None));
        // A block tiled by single addresses, ports not restricted.
        let quad = "10.0.0.0,10.0.0.1,10.0.0.2,10.0.0.3";
        assert!(no_proxy_covers(quad, "10.0.0.0/30", None));
        assert!(!no_proxy_covers(quad, "10.0.0.0/29", None));
        assert!(!no_proxy_covers(
            "10.0.0.0,10.0.0.1:80",
            "10.0.0.0/31",
            None
        ));
    }

    #[test]
    fn proxy_vars_take_the_first_non_empty_spelling_only() {
        let v = proxy_vars(
            &env(&[
                ("HTTPS_PROXY", ""),
                ("https_proxy", "http://lower:3128"),
                ("HTTP_PROXY", "http://plain:3128"),
                ("NO_PROXY", "localhost"),
                ("no_proxy", "localhost,10.0.0.0/8"),
            ]),
            "https",
        );
        assert_eq!(
            v.proxy,
            Some(("https_proxy".into(), "http://lower:3128".into()))
        );
        assert_eq!(v.no_proxy, Some(("NO_PROXY".into(), "localhost".into())));
        let v = proxy_vars(&env(&[("HTTP_PROXY", "http://plain:3128")]), "https");
        assert_eq!(v.proxy, None);
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
