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

fn diagnose(results: &Results, _now: DateTime<Utc>) -> Option<Finding> {
    let obs = observation(results)?;
    let route = obs.route();
    let proxy = route.proxy.clone()?;
    let error = obs.error_lower();
    let refused = obs
        .proxy_status
        .as_deref()
        .is_some_and(|s| s.split_whitespace().nth(1) != Some("200"));
    let proxy_error = [
        "gateway timeout",
        "proxyconnect",
        "tunnel",
        "bad gateway",
        "service unavailable",
        "proxy authentication",
    ]
    .iter()
    .any(|f| error.contains(f));
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
    Some(Finding {
        severity: FindingSeverity::Critical,
        confidence: if refused { 0.95 } else { 0.8 },
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
