//! CONN-01 client-proxy-intercepts-apiserver: a proxy variable applies to the API server
//! (NO_PROXY does not match it by host, suffix, IP or CIDR) and the proxy refuses the tunnel,
//! or a direct connection works while the proxied one does not.

use chrono::{DateTime, Utc};

use super::{ev, kubeconfig_object, observation, queries};
use crate::playbooks::{Access, Finding, FindingSeverity, Fix, Playbook, Results, Symptom};

pub static PLAYBOOK: Playbook = Playbook {
    id: "client-proxy-intercepts-apiserver",
    code: "CONN-01",
    title: "A client proxy sits between kubectl and the API server",
    access: Access::Client,
    symptoms: &[
        Symptom {
            all_of: &["unable to connect to the server", "gateway timeout"],
            weight: 0.95,
        },
        // A bare "Gateway Timeout" also ends control-plane logs (CP playbooks).
        Symptom {
            all_of: &["gateway timeout"],
            weight: 0.4,
        },
        Symptom {
            all_of: &["proxyconnect tcp"],
            weight: 0.95,
        },
        Symptom {
            all_of: &["unable to connect to the server", "tunnel error"],
            weight: 0.9,
        },
        // Squid-style refusals of CONNECT ("Tunnel or SSL Forbidden").
        Symptom {
            all_of: &["unable to connect to the server", "tunnel or ssl forbidden"],
            weight: 0.9,
        },
        Symptom {
            all_of: &["unable to connect to the server", "bad gateway"],
            weight: 0.8,
        },
        Symptom {
            all_of: &[
                "unable to connect to the server",
                "proxy authentication required",
            ],
            weight: 0.9,
        },
    ],
    queries,
    diagnose,
};

/// Whether Go's NO_PROXY matching before `golang.org/x/net/http/httpproxy` (Go ≤ 1.10, so
/// kubectl ≤ 1.12) sends a request for `host` directly: `*` alone, the host itself, `.suffix`
/// (the domain too) or `domain` (its subdomains), ports ignored; no `*.` wildcards, no CIDR
/// blocks (an entry such as `*.corp` or `10.0.0.0/8` matches nothing there).
pub(crate) fn legacy_go_bypass(no_proxy: &str, host: &str) -> bool {
    let host = host.trim().to_lowercase();
    if host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
    {
        return true;
    }
    if no_proxy.trim() == "*" {
        return true;
    }
    no_proxy.split(',').any(|p| {
        let p = p.trim().to_lowercase();
        // Go 1.10 cut a trailing `:port` (the last colon) off the entry.
        let p = match p.rsplit_once(':') {
            Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
                h.to_string()
            }
            _ => p,
        };
        if p.is_empty() {
            return false;
        }
        if host == p {
            return true;
        }
        if let Some(bare) = p.strip_prefix('.') {
            return host.ends_with(&p) || host == bare;
        }
        host.len() > p.len()
            && host.ends_with(&p)
            && host.as_bytes()[host.len() - p.len() - 1] == b'.'
    })
}

/// A proxy URL without its `user:password@`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Error texts a proxy, not the API server, produces.
const PROXY_ANSWERS: [&str; 7] = [
    "gateway timeout",
    "proxyconnect",
    "tunnel",
    "bad gateway",
    "service unavailable",
    "proxy authentication",
    "ssl forbidden",
];

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let mut route = obs.route();
    let error = obs.error_lower();
    // NO_PROXY exempts the server only under today's Go rules, and the client's error is a
    // proxy's answer: this client is an older build that matched NO_PROXY the old way.
    let mut legacy: Option<String> = None;
    if route.proxy.is_none()
        && route.source.as_deref() != Some("kubeconfig proxy-url")
        && PROXY_ANSWERS.iter().any(|f| error.contains(f))
        && let Some((scheme, host, _)) = crate::cluster::proxy::split_url(&obs.server)
        && let Some((var, p)) = crate::cluster::proxy::proxy_vars(&obs.environment, &scheme).proxy
        && let Some((_, np)) = route.no_proxy.clone()
        && !legacy_go_bypass(&np, &host)
    {
        legacy = Some(route.reason.clone());
        route.proxy = Some(if p.contains("://") {
            p
        } else {
            format!("http://{p}")
        });
        route.source = Some(var);
        route.reason = format!(
            "{} only under Go 1.11+ rules; kubectl built with Go 1.10 or older (kubectl 1.12 and older) knows no `*.` wildcards nor CIDR entries and proxies {host}",
            route.reason
        );
    }
    let proxy = redact(&route.proxy.clone()?);
    let refused = obs
        .proxy_status
        .as_deref()
        .is_some_and(|s| s.split_whitespace().nth(1) != Some("200"));
    let proxy_error = PROXY_ANSWERS.iter().any(|f| error.contains(f));
    let direct_works = obs.direct.as_deref().is_some_and(|d| d.contains("works"));
    if !(refused || proxy_error || (direct_works && obs.error.is_some())) {
        return None;
    }
    let host = obs.host().unwrap_or_default();
    let source = route.source.clone().unwrap_or_else(|| "HTTPS_PROXY".into());
    let mut evidence = vec![
        ev("environment", &source, proxy.clone()),
        match &route.no_proxy {
            Some((k, v)) => ev("environment", k, v.clone()),
            None => ev("environment", "NO_PROXY", "(not set)"),
        },
        ev(
            kubeconfig_object(&obs),
            "cluster.server",
            obs.server.clone(),
        ),
        ev("route", "why the proxy applies", route.reason.clone()),
    ];
    if let Some(s) = &obs.proxy_status {
        evidence.push(ev("proxy", "answer to CONNECT", s.clone()));
    }
    if let Some(e) = &obs.error {
        evidence.push(ev("client", "error", e.clone()));
    }
    if let Some(d) = &obs.direct {
        evidence.push(ev("direct connection", "result", d.clone()));
    }
    let via_kubeconfig = source == "kubeconfig proxy-url";
    let answer = obs
        .proxy_status
        .as_deref()
        .map(|s| format!("; the proxy answered CONNECT with \"{s}\""))
        .unwrap_or_else(|| {
            obs.error
                .as_deref()
                .map(|e| format!("; the client saw \"{e}\""))
                .unwrap_or_default()
        });
    let summary = format!(
        "Requests to the API server {host} go through the proxy {proxy} ({source}){}{answer}.",
        if via_kubeconfig {
            String::new()
        } else if legacy.is_some() {
            match &route.no_proxy {
                Some((k, v)) => format!(
                    ": {k}={v:?} matches {host} only under the NO_PROXY rules of Go 1.11 and later, so an older kubectl (Go 1.10 or older: kubectl 1.12 and older) sends it to the proxy"
                ),
                None => String::new(),
            }
        } else {
            match &route.no_proxy {
                Some((k, v)) => format!(" because {k}={v:?} does not match {host}"),
                None => " and NO_PROXY is not set".into(),
            }
        }
    );
    let no_proxy_now = route
        .no_proxy
        .as_ref()
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // The host itself is matched by every Go version's rules.
    let new_no_proxy = if no_proxy_now.is_empty() {
        host.clone()
    } else {
        format!("{no_proxy_now},{host}")
    };
    let commands = if via_kubeconfig {
        vec![format!(
            "kubectl config unset clusters.$(kubectl config view --minify -o jsonpath='{{.clusters[0].name}}').proxy-url"
        )]
    } else {
        vec![
            format!("export NO_PROXY='{new_no_proxy}' no_proxy='{new_no_proxy}'"),
            "# add the cluster's internal ranges too (pod and service CIDRs), e.g. ,10.96.0.0/12"
                .into(),
            "kubectl version   # retry".into(),
        ]
    };
    let mut ruled_out = Vec::new();
    if obs.direct.is_none() {
        ruled_out.push("A direct connection was not compared (snapshot evidence or a name that only the proxy resolves).".into());
    }
    if legacy.is_some() {
        ruled_out.push("Today's NO_PROXY rules exempt the host, but the client's error is a proxy's answer, not the API server's: the client that failed matched NO_PROXY the old way.".into());
    }
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: if refused && legacy.is_none() {
            0.95
        } else {
            0.8
        },
        summary,
        evidence,
        ruled_out,
        fix: Fix {
            explanation: if via_kubeconfig {
                "The kubeconfig's proxy-url sends every request through that proxy: remove it, or fix the proxy so it can reach the API server.".into()
            } else {
                format!(
                    "Add the API server host {host} (and the cluster's internal ranges) to NO_PROXY and no_proxy, or set proxy-url in the kubeconfig deliberately when the proxy is required."
                )
            },
            commands,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::connection_query;
    use super::*;
    use crate::cluster::doctor::Observation;
    use crate::playbooks::Outcome;

    fn results(server: &str, error: &str, env: &[(&str, &str)]) -> Results {
        let obs = Observation {
            server: server.into(),
            error: Some(error.into()),
            environment: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        let mut r = Results::default();
        r.by_query
            .insert(connection_query(), Outcome::Objects(vec![obs.to_value()]));
        r
    }

    #[test]
    fn old_go_no_proxy_rules_know_no_wildcards_nor_cidrs() {
        let np = "localhost,10.*,*.corp.example,192.168.0.0/16,.svc,cluster.local:6443";
        assert!(!legacy_go_bypass(np, "api.dev.corp.example"));
        assert!(!legacy_go_bypass(np, "192.168.1.5"));
        assert!(legacy_go_bypass(np, "x.svc"));
        assert!(legacy_go_bypass(np, "svc"));
        assert!(legacy_go_bypass(np, "api.cluster.local"));
        assert!(!legacy_go_bypass(np, "notcluster.local"));
        assert!(legacy_go_bypass("*", "anything"));
        assert!(legacy_go_bypass("", "127.0.0.1"));
    }

    #[test]
    fn a_proxy_answer_despite_a_wildcard_no_proxy_is_an_old_client_proxying() {
        let env = [
            ("https_proxy", "http://user:secret@proxy.corp.example:8080/"),
            ("no_proxy", "localhost,10.*,*.corp.example"),
        ];
        let r = results(
            "https://api.dev.corp.example:6443",
            "Unable to connect to the server: Tunnel or SSL Forbidden",
            &env,
        );
        let f = diagnose(&r, Utc::now()).expect("finding");
        assert_eq!(f.severity, FindingSeverity::Critical);
        assert!(f.confidence < 0.9);
        assert!(f.summary.contains("Go 1.11"), "{}", f.summary);
        assert!(
            !format!("{f:?}").contains("secret"),
            "credentials leak: {f:?}"
        );
        assert!(f.fix.commands[0].contains(",api.dev.corp.example'"));
        // The same environment with an error that is not a proxy's: no finding.
        let r = results(
            "https://api.dev.corp.example:6443",
            "dial tcp 10.0.0.5:6443: connect: connection refused",
            &env,
        );
        assert!(diagnose(&r, Utc::now()).is_none());
        // An entry every Go version reads exempts the host: a proxy-like error is not ours.
        let r = results(
            "https://api.dev.corp.example:6443",
            "Unable to connect to the server: Tunnel or SSL Forbidden",
            &[
                ("https_proxy", "http://proxy.corp.example:8080/"),
                ("no_proxy", ".corp.example"),
            ],
        );
        assert!(diagnose(&r, Utc::now()).is_none());
    }
}
