//! Training mode (`ktriage train`): a curriculum of briefed exercises built from the
//! embedded scenarios ([`curriculum`]), the trainee's kubectl requests read back as commands
//! ([`kubectl`]), the scored summary ([`summary`]) and the progress kept between sessions
//! ([`progress`]). An exercise is served under a neutral cluster and context name
//! ([`CLUSTER_NAME`]): nothing the trainee sees names the scenario, whose id is the answer.
//!
//! This module sits below `app` (which draws the training panel) and knows nothing of the
//! terminal; `cli` starts the server and the TUI.

pub mod curriculum;
pub mod kubectl;
pub mod progress;
pub mod summary;

pub use curriculum::{Exercise, FixAt, Track, curriculum, find};

use crate::scenarios::{self, Scenario};

/// The cluster, context and kubeconfig name of every exercise.
pub const CLUSTER_NAME: &str = "training";

/// The exercise's scenario, renamed so the server and its kubeconfig carry no trace of it.
pub fn neutral_scenario(ex: &Exercise) -> Option<Scenario> {
    let mut s = scenarios::find(ex.scenario)?;
    s.id = CLUSTER_NAME;
    s.title = "Training cluster";
    s.summary = "A training exercise";
    Some(s)
}

/// The server's kubeconfig with its cluster, context and user entry names set to
/// [`CLUSTER_NAME`] (the server names them `ktriage-<scenario id>`, which for a
/// [`neutral_scenario`] is `ktriage-training`).
pub fn neutral_kubeconfig(yaml: &str) -> String {
    yaml.replace(&format!("ktriage-{CLUSTER_NAME}"), CLUSTER_NAME)
}

/// Writes a file only its owner can read (a kubeconfig holds a client key).
pub fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// `train --list`: track, level, id and briefing per exercise, solved ones marked.
pub fn list_text(exercises: &[Exercise], solved: impl Fn(&str) -> bool) -> String {
    let mut out = format!(
        "{:3} {:20} {:5} {:7} BRIEFING\n",
        "", "TRACK", "LEVEL", "ID"
    );
    for e in exercises {
        let mark = if solved(&e.id) { "✓" } else { " " };
        out.push_str(&format!(
            "{mark:3} {:20} {:5} {:7} {}\n",
            e.track.title(),
            e.level,
            e.id,
            e.briefing
        ));
    }
    out
}

/// `train --handout FILE`: the curriculum as Markdown for a trainer, with the hints and,
/// per track, an answer key at the end (a trainer can cut it off).
pub fn handout_markdown(exercises: &[Exercise]) -> String {
    let mut md = String::from(
        "# ktriage training: exercises\n\n\
         Start one with `ktriage train ID` (or `ktriage train --next`); use kubectl in another \
         window with the kubeconfig it prints. In the TUI: `H` reveals a hint, `A` answers, `q` \
         shows the report.\n\n",
    );
    for track in Track::ALL {
        let of: Vec<&Exercise> = exercises.iter().filter(|e| e.track == track).collect();
        if of.is_empty() {
            continue;
        }
        md.push_str(&format!("## {}\n\n", track.title()));
        for e in &of {
            md.push_str(&format!(
                "### {} (level {})\n\n{}\n\n",
                e.id, e.level, e.briefing
            ));
            for (i, h) in e.hints.iter().enumerate() {
                md.push_str(&format!("{}. Hint: {h}\n", i + 1));
            }
            md.push('\n');
        }
    }
    md.push_str("## Answer key\n\n| Exercise | Cause | Fix made |\n|---|---|---|\n");
    for e in exercises {
        let at = match e.fix {
            FixAt::Cluster => "in the cluster (kubectl)",
            FixAt::Host => "on a host or the client",
        };
        md.push_str(&format!(
            "| {} | {} {} | {at} |\n",
            e.id, e.playbook.code, e.playbook.title
        ));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kubeconfig_and_scenario_carry_no_scenario_id() {
        let ex = find("net-1").unwrap();
        let s = neutral_scenario(&ex).unwrap();
        assert_eq!(s.id, "training");
        let kc = neutral_kubeconfig(
            "clusters:\n- name: ktriage-training\ncontexts:\n- name: ktriage-training\n  context:\n    cluster: ktriage-training\ncurrent-context: ktriage-training\n",
        );
        assert!(!kc.contains("ktriage-"), "{kc}");
        assert!(kc.contains("current-context: training"));
    }

    #[test]
    fn list_and_handout_cover_the_curriculum() {
        let all = curriculum();
        let list = list_text(&all, |id| id == "wl-1");
        let md = handout_markdown(&all);
        for e in &all {
            assert!(list.contains(&format!(" {} ", e.id)), "{} not listed", e.id);
            assert!(
                md.contains(&format!("### {} ", e.id)),
                "{} not in handout",
                e.id
            );
            assert!(md.contains(e.hints[0]));
        }
        assert!(
            list.lines()
                .any(|l| l.starts_with('✓') && l.contains(" wl-1 "))
        );
        assert_eq!(list.lines().filter(|l| l.starts_with('✓')).count(), 1);
    }
}
