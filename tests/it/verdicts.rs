//! A playbook's three verdicts as a user of the real binary sees them: against the
//! `restricted-user` scenario (dev-alice may read pods and nothing else), the playbooks
//! whose queries were refused are listed as "could not check" with the refused query and
//! the API server's answer, in every `check --output`, instead of vanishing as if their
//! cause were not present; `explain` says the same instead of "not present".

use std::process::Output;

use serde_json::Value;

use crate::common::ktriage;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `could_not_check` entry of a playbook in a JSON report.
fn unchecked<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["could_not_check"]
        .as_array()?
        .iter()
        .find(|e| e["playbook"] == id)
}

#[test]
fn check_json_lists_the_playbooks_whose_queries_were_refused() {
    let out = ktriage(&["check", "--scenario", "restricted-user", "-o", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", stdout(&out)));
    assert!(report["could_not_run"].is_null(), "{report:#}");

    // NET-01 starts from the nodes and the daemonsets, which dev-alice may not list.
    let cni = unchecked(&report, "node-notready-no-cni")
        .unwrap_or_else(|| panic!("NET-01 is not in could_not_check: {report:#}"));
    assert_eq!(cni["code"], "NET-01");
    let failed = cni["failed"].as_array().expect("failed queries");
    let nodes = failed
        .iter()
        .find(|f| f["query"] == "kubectl get nodes -o yaml")
        .unwrap_or_else(|| panic!("the nodes query is not named: {cni:#}"));
    let error = nodes["error"].as_str().unwrap();
    assert!(error.starts_with("403: "), "{error}");
    assert!(
        error.contains("User \"dev-alice\" cannot list resource \"nodes\""),
        "{error}"
    );
    assert!(
        failed
            .iter()
            .any(|f| f["query"] == "kubectl get daemonsets -A -o yaml"),
        "{cni:#}"
    );

    // Every entry names what failed; none is also a finding.
    let entries = report["could_not_check"].as_array().unwrap();
    for e in entries {
        let failed = e["failed"].as_array().unwrap();
        assert!(!failed.is_empty(), "{e:#}");
        for f in failed {
            assert!(f["query"].as_str().is_some_and(|q| !q.is_empty()), "{e:#}");
            assert!(f["error"].as_str().is_some_and(|q| !q.is_empty()), "{e:#}");
        }
        let id = e["playbook"].as_str().unwrap();
        assert!(
            !report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["playbook"] == id),
            "{id} is both a finding and could not check"
        );
    }
}

#[test]
fn a_cluster_that_answers_everything_has_nothing_it_could_not_check() {
    let out = ktriage(&["check", "--scenario", "healthy", "-o", "json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", stdout(&out)));
    assert_eq!(
        report["could_not_check"],
        serde_json::json!([]),
        "{report:#}"
    );
}

#[test]
fn check_text_and_markdown_list_them_after_the_findings() {
    let out = ktriage(&["check", "--scenario", "restricted-user"]);
    let text = stdout(&out);
    let findings = text.find("\nFindings\n").expect("findings section");
    let unchecked = text
        .find("\nCould not check\n")
        .expect("could not check section");
    assert!(findings < unchecked, "{text}");
    let section = &text[unchecked..];
    assert!(section.contains("NET-01 node-notready-no-cni"), "{section}");
    assert!(
        section.contains("    kubectl get nodes -o yaml: 403: nodes is forbidden"),
        "{section}"
    );
    let summary = text.lines().find(|l| l.starts_with("Overall:")).unwrap();
    assert!(summary.contains("could not check"), "{summary}");

    let out = ktriage(&["check", "--scenario", "restricted-user", "-o", "markdown"]);
    let md = stdout(&out);
    let findings = md.find("### Findings").expect("findings section");
    let unchecked = md
        .find("### Could not check")
        .expect("could not check section");
    assert!(findings < unchecked, "{md}");
    assert!(
        md[unchecked..].contains("| NET-01 `node-notready-no-cni` | `kubectl get nodes -o yaml` | 403: nodes is forbidden"),
        "{md}"
    );
}

#[test]
fn explain_says_could_not_check_with_the_refused_query() {
    let out = ktriage(&[
        "explain",
        "network plugin is not ready: cni config uninitialized",
        "--scenario",
        "restricted-user",
        "--top",
        "1",
    ]);
    let text = stdout(&out);
    assert!(text.contains("NET-01 node-notready-no-cni"), "{text}");
    assert!(
        text.contains("   could not check: kubectl get nodes -o yaml: 403: nodes is forbidden"),
        "{text}"
    );
    assert!(!text.contains("not present"), "{text}");
}
