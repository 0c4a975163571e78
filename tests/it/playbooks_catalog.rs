//! The playbook ids are a contract: every registered playbook matches a row of the catalog
//! (code, id, title), ids are unique, every playbook has a scenario with the same id, and
//! every row outside the connection group has a playbook. The catalog is read from
//! tests/fixtures/PLAYBOOKS.md, a copy of the design's shared/PLAYBOOKS.md, so a plain
//! clone tests on its own.

use std::collections::{BTreeMap, BTreeSet};

use ktriage::playbooks;
use ktriage::scenarios;

/// Rows of the catalog: id → (code, title words).
fn catalog() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/PLAYBOOKS.md");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let Some(first) = line.strip_prefix("| ").and_then(|l| l.split(" |").next()) else {
            continue;
        };
        let mut parts = first.split_whitespace();
        let (Some(code), Some(id)) = (parts.next(), parts.next()) else {
            continue;
        };
        let is_code = code.split_once('-').is_some_and(|(g, n)| {
            g.chars().all(|c| c.is_ascii_uppercase()) && n.chars().all(|c| c.is_ascii_digit())
        });
        if is_code {
            rows.insert(id.to_string(), code.to_string());
        }
    }
    rows
}

/// The connection group, covered by the connection doctor (issue 5), not by playbooks here.
const CONNECTION_GROUP: &[&str] = &[
    "CONN-01", "CONN-02", "TLS-01", "TLS-02", "TLS-05", "AUTH-04",
];

#[test]
fn registered_playbooks_match_the_catalog() {
    let rows = catalog();
    assert!(rows.len() >= 46, "catalog parsed: {} rows", rows.len());
    let mut seen = BTreeSet::new();
    for pb in playbooks::registry() {
        assert!(seen.insert(pb.id), "duplicate id {}", pb.id);
        let code = rows
            .get(pb.id)
            .unwrap_or_else(|| panic!("{} is not an id of tests/fixtures/PLAYBOOKS.md", pb.id));
        assert_eq!(code, pb.code, "code of {}", pb.id);
        assert!(
            !pb.title.is_empty() && !pb.symptoms.is_empty(),
            "{} needs a title and symptoms",
            pb.id
        );
    }
}

#[test]
fn every_playbook_has_a_scenario_with_its_id() {
    let ids: BTreeSet<&str> = scenarios::ids().into_iter().collect();
    for pb in playbooks::registry() {
        assert!(ids.contains(pb.id), "no scenario named {}", pb.id);
        let s = scenarios::find(pb.id).unwrap();
        assert_eq!(
            s.playbook,
            Some(pb.id),
            "scenario {} names its playbook",
            pb.id
        );
    }
}

#[test]
fn every_cluster_side_row_has_a_playbook() {
    let registered: BTreeSet<&str> = playbooks::registry().iter().map(|p| p.id).collect();
    let missing: Vec<String> = catalog()
        .into_iter()
        .filter(|(_, code)| !CONNECTION_GROUP.contains(&code.as_str()))
        .filter(|(id, _)| !registered.contains(id.as_str()))
        .map(|(id, code)| format!("{code} {id}"))
        .collect();
    assert!(
        missing.is_empty(),
        "catalog rows without a playbook: {missing:?}"
    );
}
