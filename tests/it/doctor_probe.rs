//! The doctor against the embedded server with kubeconfigs broken by hand, the way users
//! break them: a failing exec credential plugin (its stderr kept), a token the server does
//! not know (401), client certificate and key swapped, a key from another pair, and
//! insecure-skip-tls-verify (allowed, warned). All on 127.0.0.1.

use crate::common;

use std::collections::BTreeMap;

use ktriage::cluster::doctor::{self, Options, Target, Verdict};

fn replace_user(kubeconfig: &str, user_body: &str) -> String {
    let start = kubeconfig.find("  user:\n").expect("user stanza") + "  user:\n".len();
    let end = kubeconfig.find("contexts:").expect("contexts");
    format!(
        "{}{}{}",
        &kubeconfig[..start],
        user_body,
        &kubeconfig[end..]
    )
}

fn user_data(kubeconfig: &str, key: &str) -> String {
    kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .expect("field present")
        .to_string()
}

async fn examine(yaml: &str) -> doctor::Observation {
    let kc = kube::config::Kubeconfig::from_yaml(yaml).unwrap();
    let target = Target::from_kubeconfig(&kc, None).unwrap();
    doctor::examine(&target, &BTreeMap::new(), &Options::default()).await
}

async fn first(obs: &doctor::Observation) -> (String, String) {
    let runs = ktriage::playbooks::connection::diagnose(obs, chrono::Utc::now()).await;
    let r = runs
        .first()
        .unwrap_or_else(|| panic!("no finding for {obs:#?}"));
    let f = r.finding.as_ref().unwrap();
    let text = format!(
        "{}\n{}",
        f.summary,
        f.evidence
            .iter()
            .map(|e| format!("{} {} = {}", e.object, e.field, e.value))
            .collect::<Vec<_>>()
            .join("\n")
    );
    (r.playbook.id.to_string(), text)
}

#[tokio::test]
async fn a_failing_exec_plugin_is_named_with_its_stderr() {
    let handle = common::serve(common::scenario("healthy")).await;
    let yaml = replace_user(
        &handle.kubeconfig,
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [\"-c\", \"echo 'error: token expired, run: corp-login' >&2; exit 1\"]\n      interactiveMode: Never\n",
    );
    let obs = examine(&yaml).await;
    assert_eq!(obs.verdict(), Verdict::Blocked, "{obs:#?}");
    assert!(
        obs.exec_stderr
            .as_deref()
            .unwrap_or("")
            .contains("corp-login"),
        "{obs:#?}"
    );
    let (id, text) = first(&obs).await;
    assert_eq!(id, "wrong-identity");
    assert!(text.contains("exec credential plugin fails"), "{text}");
}

#[tokio::test]
async fn an_unknown_token_is_a_401() {
    let handle = common::serve(common::scenario("healthy")).await;
    let yaml = replace_user(
        &handle.kubeconfig,
        "    token: not-a-token-this-server-knows\n",
    );
    let obs = examine(&yaml).await;
    assert_eq!(obs.http_status, Some(401), "{obs:#?}");
    let (id, text) = first(&obs).await;
    assert_eq!(id, "wrong-identity");
    assert!(text.contains("401"), "{text}");
}

#[tokio::test]
async fn swapped_and_mismatched_client_material_is_caught_before_any_request() {
    let handle = common::serve(common::scenario("healthy")).await;
    let cert = user_data(&handle.kubeconfig, "client-certificate-data");
    let key = user_data(&handle.kubeconfig, "client-key-data");
    let swapped = replace_user(
        &handle.kubeconfig,
        &format!("    client-certificate-data: {key}\n    client-key-data: {cert}\n"),
    );
    let obs = examine(&swapped).await;
    assert_eq!(obs.verdict(), Verdict::Blocked);
    let (id, text) = first(&obs).await;
    assert_eq!(id, "wrong-identity");
    assert!(text.contains("swapped"), "{text}");

    let other = common::serve(common::scenario("healthy")).await;
    let other_key = user_data(&other.kubeconfig, "client-key-data");
    let mismatched = replace_user(
        &handle.kubeconfig,
        &format!("    client-certificate-data: {cert}\n    client-key-data: {other_key}\n"),
    );
    let obs = examine(&mismatched).await;
    let (id, text) = first(&obs).await;
    assert_eq!(id, "wrong-identity");
    assert!(text.contains("not the private key"), "{text}");
    assert_eq!(
        obs.error.as_deref(),
        Some("tls: private key does not match public key")
    );
}

#[tokio::test]
async fn insecure_skip_tls_verify_works_and_is_warned_about() {
    let handle = common::serve(common::scenario("kubeconfig-ca-mismatch")).await;
    let yaml = handle
        .kubeconfig
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("certificate-authority-data:") {
                "    insecure-skip-tls-verify: true".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let obs = examine(&yaml).await;
    assert_eq!(obs.verdict(), Verdict::Ok, "{obs:#?}");
    assert!(
        obs.warnings
            .iter()
            .any(|w| w.contains("insecure-skip-tls-verify"))
    );
    assert_eq!(obs.user.as_deref(), Some("kubernetes-admin"));
}

/// Inserts `line` into the cluster stanza (after `server:`).
fn with_cluster_field(kubeconfig: &str, line: &str) -> String {
    kubeconfig
        .lines()
        .flat_map(|l| {
            if l.trim_start().starts_with("server:") {
                vec![l.to_string(), format!("    {line}")]
            } else {
                vec![l.to_string()]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn tls_server_name_makes_the_missing_san_scenario_work() {
    let handle = common::serve(common::scenario("apiserver-cert-missing-san")).await;
    let broken = examine(&handle.kubeconfig).await;
    assert_eq!(broken.verdict(), Verdict::Blocked);
    let yaml = with_cluster_field(&handle.kubeconfig, "tls-server-name: kubernetes");
    let obs = examine(&yaml).await;
    assert_eq!(obs.verdict(), Verdict::Ok, "{obs:#?}");
    assert_eq!(obs.requested_name.as_deref(), Some("kubernetes"));
    assert_eq!(obs.user.as_deref(), Some("kubernetes-admin"));
}

#[tokio::test]
async fn a_kubeconfig_proxy_url_is_followed_even_when_no_proxy_matches() {
    let handle = common::serve(common::scenario("client-proxy-intercepts-apiserver")).await;
    let proxy = handle.client_env["HTTPS_PROXY"].clone();
    let yaml = with_cluster_field(&handle.kubeconfig, &format!("proxy-url: {proxy}"));
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let target = Target::from_kubeconfig(&kc, None).unwrap();
    // NO_PROXY=* would bypass an environment proxy; proxy-url ignores it, as kubectl does.
    let env = BTreeMap::from([("NO_PROXY".to_string(), "*".to_string())]);
    let obs = doctor::examine(&target, &env, &Options::default()).await;
    assert_eq!(
        obs.proxy_status.as_deref(),
        Some("HTTP/1.1 504 Gateway Timeout")
    );
    let (id, text) = first(&obs).await;
    assert_eq!(id, "client-proxy-intercepts-apiserver");
    assert!(text.contains("kubeconfig proxy-url"), "{text}");
}
