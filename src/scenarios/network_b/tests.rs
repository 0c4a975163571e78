//! The acceptance checks of the `network_b` scenarios, through the playbook engine on the
//! scenario's snapshot: each scenario's own playbook is the first finding; on the healthy
//! cluster and the negative controls this group's playbooks raise no warning or critical.

use crate::playbooks::FindingSeverity;
use crate::playbooks::engine::run_all;
use crate::playbooks::source::SnapshotSource;
use crate::scenarios::builder::epoch;

async fn findings(id: &str) -> Vec<(&'static str, FindingSeverity, f32)> {
    let sc = crate::scenarios::find(id).unwrap();
    let src = SnapshotSource {
        snapshot: sc.snapshot,
    };
    run_all(&src, epoch())
        .await
        .into_iter()
        .filter_map(|r| r.finding.map(|f| (r.playbook.id, f.severity, f.confidence)))
        .collect()
}

#[tokio::test]
async fn each_scenario_puts_its_playbook_first() {
    for (id, build) in super::SCENARIOS {
        let sc = build();
        let Some(pb) = sc.playbook else { continue };
        assert_eq!(pb, *id);
        let f = findings(id).await;
        assert_eq!(f.first().map(|x| x.0), Some(pb), "{id}: {f:?}");
        assert!(f[0].1 >= FindingSeverity::Warning, "{id}: {f:?}");
    }
}

#[tokio::test]
async fn healthy_and_controls_raise_no_warning_from_this_group() {
    let ours: Vec<&str> = crate::playbooks::network_b::PLAYBOOKS
        .iter()
        .map(|p| p.id)
        .collect();
    let mut ids = vec!["healthy"];
    ids.extend(
        super::SCENARIOS
            .iter()
            .filter(|(_, b)| b().playbook.is_none())
            .map(|(id, _)| *id),
    );
    for id in ids {
        let f = findings(id).await;
        let loud: Vec<_> = f
            .iter()
            .filter(|x| ours.contains(&x.0) && x.1 >= FindingSeverity::Warning)
            .collect();
        assert!(loud.is_empty(), "{id}: {loud:?}");
    }
}
