//! The screens that replace the Overview until Esc: the playbook runner, the list of
//! playbooks with its `/` filter, the paste box for an error text and the list of playbooks
//! that match it; and the `:` command line. Each is plain state that [`super::App`] updates
//! and the UI draws.

use std::sync::Arc;

use ratatui_textarea::TextArea;

use super::cursor::Cursor;
use crate::playbooks::engine::Run;
use crate::playbooks::{Playbook, Query, Results};

/// A score from [`crate::playbooks::engine::rank_symptoms`] at or above this is a strong
/// match: when exactly one playbook matches this strongly, the paste box opens it directly.
pub const STRONG_MATCH: f32 = 0.8;

/// Which column of the runner the scroll keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerFocus {
    /// The steps and the evidence (left, or below when stacked).
    Steps,
    /// The diagnosis and the fix (right, or on top when stacked).
    Diagnosis,
}

/// Where a playbook run stands.
#[derive(Debug, Clone)]
pub enum RunState {
    /// Queries are in flight; the first round of queries is known.
    Running,
    /// The run finished.
    Done(Arc<Run>),
    /// The playbook could not run (no query source, or the run failed).
    Failed(String),
}

/// The runner view of one playbook.
#[derive(Debug, Clone)]
pub struct RunnerView {
    pub playbook: &'static Playbook,
    /// The queries of the first round, known before anything returns.
    pub planned: Vec<Query>,
    pub state: RunState,
    pub focus: RunnerFocus,
    /// First visible row of the steps column.
    pub steps_scroll: u16,
    /// First visible row of the diagnosis column (see `follow_selection`).
    pub diagnosis_scroll: u16,
    /// The selected fix command.
    pub selected_command: usize,
    /// The diagnosis column scrolls to keep the selected command in view (after j/k);
    /// PgUp/PgDn scroll freely. Off until the first j/k, so the cause is seen first.
    pub follow_selection: bool,
}

impl RunnerView {
    /// A runner for `playbook` that has just started running.
    pub fn new(playbook: &'static Playbook) -> RunnerView {
        RunnerView {
            playbook,
            planned: (playbook.queries)(&Results::default()),
            state: RunState::Running,
            focus: RunnerFocus::Diagnosis,
            steps_scroll: 0,
            diagnosis_scroll: 0,
            selected_command: 0,
            // The top (severity, cause) is shown first; j/k then bring the commands in view.
            follow_selection: false,
        }
    }

    /// The finished run, if any.
    pub fn run(&self) -> Option<&Run> {
        match &self.state {
            RunState::Done(run) => Some(run),
            _ => None,
        }
    }

    /// The number of fix commands of the finding (0 without a finding).
    pub fn command_count(&self) -> usize {
        self.run()
            .and_then(|r| r.finding.as_ref())
            .map_or(0, |f| f.fix.commands.len())
    }

    /// The selected fix command, if the run found a cause.
    pub fn selected_command(&self) -> Option<&str> {
        self.run()
            .and_then(|r| r.finding.as_ref())
            .and_then(|f| f.fix.commands.get(self.selected_command))
            .map(String::as_str)
    }
}

/// Whether `pb` matches a `/` filter (case-insensitive, on code, id and title).
fn matches_filter(pb: &Playbook, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    pb.code.to_lowercase().contains(&f)
        || pb.id.to_lowercase().contains(&f)
        || pb.title.to_lowercase().contains(&f)
}

/// The `:playbooks` list.
#[derive(Debug, Clone)]
pub struct PlaybookList {
    /// Every registered playbook, in registry order.
    pub all: Vec<&'static Playbook>,
    /// Indices into `all` that pass the filter (recomputed on each filter change, not per
    /// frame).
    pub shown: Vec<usize>,
    pub filter: String,
    /// `/` was pressed: typed characters go to the filter.
    pub filtering: bool,
    /// Selected row (an index into `shown`) and first visible row.
    pub cursor: Cursor,
}

impl PlaybookList {
    pub fn new(all: Vec<&'static Playbook>) -> PlaybookList {
        let shown = (0..all.len()).collect();
        PlaybookList {
            all,
            shown,
            filter: String::new(),
            filtering: false,
            cursor: Cursor::default(),
        }
    }

    /// Re-applies the filter; keeps the selection on the same playbook if it still shows.
    pub fn refilter(&mut self) {
        let previous = self.shown.get(self.cursor.selected).copied();
        self.shown = (0..self.all.len())
            .filter(|&i| matches_filter(self.all[i], &self.filter))
            .collect();
        self.cursor.selected = 0;
        let shown = &self.shown;
        self.cursor
            .keep(previous, shown.len(), |p| shown.iter().position(|i| i == p));
    }

    /// The selected playbook, if any passes the filter.
    pub fn selected(&self) -> Option<&'static Playbook> {
        self.shown.get(self.cursor.selected).map(|&i| self.all[i])
    }

    /// The playbooks that pass the filter, in order.
    pub fn visible(&self) -> impl Iterator<Item = &'static Playbook> + '_ {
        self.shown.iter().map(|&i| self.all[i])
    }
}

/// The paste box: a multi-line editor for an error text.
#[derive(Debug, Clone)]
pub struct PasteBox {
    pub textarea: TextArea<'static>,
}

impl PasteBox {
    pub fn new() -> PasteBox {
        let mut textarea = TextArea::default();
        textarea.set_placeholder_text("Paste or type the error message you saw…");
        PasteBox { textarea }
    }

    /// The text typed or pasted so far.
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }
}

impl Default for PasteBox {
    fn default() -> Self {
        PasteBox::new()
    }
}

/// The playbooks whose symptoms match a pasted text, best first; or the candidate playbooks
/// of a health item no finding explains, with their verdicts.
#[derive(Debug, Clone)]
pub struct MatchList {
    pub matches: Vec<(&'static Playbook, f32)>,
    pub cursor: Cursor,
    /// The health item the candidates are for (`None`: a pasted text).
    pub about: Option<String>,
    /// Each candidate's verdict in the last evaluation (`found`, `not present`, `could not
    /// check`; `None`: not evaluated yet), by index into `matches`.
    pub verdicts: Vec<Option<&'static str>>,
    /// What the pasted text says, shown above the matches.
    pub pasted: Option<Box<Pasted>>,
}

/// What the paste box read from the text: its subjects, what the message means, and for a
/// Forbidden the access review of the user it names (RBAC lists fetched, then evaluated).
#[derive(Debug, Clone, Default)]
pub struct Pasted {
    /// `user: jane`, `address: 10.0.0.10:6443`…
    pub read: Vec<String>,
    pub meaning: Option<crate::playbooks::paste::Meaning>,
    /// The first denial of the text, while its review is wanted.
    pub denial: Option<crate::playbooks::identity_storage::Denial>,
    /// The RBAC lists fetched for the review, by query.
    pub rbac: Vec<(crate::playbooks::Query, crate::playbooks::Outcome)>,
    /// The review, once every list answered (`Err`: a list could not be read).
    pub review: Option<Result<crate::playbooks::paste::AccessReview, String>>,
}

/// The RBAC lists an access review reads: ClusterRoles, ClusterRoleBindings, Roles,
/// RoleBindings.
pub fn rbac_queries() -> [crate::playbooks::Query; 4] {
    let q = |r: &str| {
        crate::playbooks::engine::q::list("rbac.authorization.k8s.io", r, None, None, None)
    };
    [
        q("clusterroles"),
        q("clusterrolebindings"),
        q("roles"),
        q("rolebindings"),
    ]
}

impl Pasted {
    /// Reads a pasted text.
    pub fn read(text: &str) -> Pasted {
        let subjects = crate::playbooks::paste::subjects(text);
        Pasted {
            read: subjects.lines(),
            meaning: crate::playbooks::paste::meaning(text),
            denial: subjects.denials.first().cloned(),
            rbac: Vec::new(),
            review: None,
        }
    }

    /// Whether there is anything to show beside the matches.
    pub fn says_something(&self) -> bool {
        !self.read.is_empty() || self.meaning.is_some()
    }

    /// Takes a fetched RBAC list; once all four are in, reviews the denial.
    pub fn fetched(
        &mut self,
        query: &crate::playbooks::Query,
        outcome: &crate::playbooks::Outcome,
    ) {
        let Some(denial) = &self.denial else { return };
        let wanted = rbac_queries();
        if !wanted.contains(query) || self.rbac.iter().any(|(q, _)| q == query) {
            return;
        }
        self.rbac.push((query.clone(), outcome.clone()));
        if self.rbac.len() < wanted.len() {
            return;
        }
        let mut lists: Vec<&[serde_json::Value]> = Vec::new();
        let mut errors = Vec::new();
        for q in &wanted {
            match self.rbac.iter().find(|(x, _)| x == q).map(|(_, o)| o) {
                Some(crate::playbooks::Outcome::Objects(v)) => lists.push(v),
                Some(crate::playbooks::Outcome::Failed { code, message }) => {
                    errors.push(format!("{}: {code}: {message}", q.kubectl))
                }
                _ => errors.push(format!("{}: no list", q.kubectl)),
            }
        }
        self.review = Some(if errors.is_empty() {
            Ok(crate::playbooks::paste::review(
                denial, lists[0], lists[1], lists[2], lists[3],
            ))
        } else {
            Err(errors.join("; "))
        });
    }
}

impl MatchList {
    pub fn selected(&self) -> Option<&'static Playbook> {
        self.matches.get(self.cursor.selected).map(|(pb, _)| *pb)
    }
}

/// A screen that replaces the Overview until Esc.
#[derive(Debug, Clone)]
pub enum Screen {
    Runner(Box<RunnerView>),
    /// `:nodes`, `:pods`, `:leases`, `:events`.
    Resources(Box<super::resources::ResourceList>),
    /// `:fleet`: every context of the kubeconfig, one health line each.
    Fleet(super::fleet::FleetView),
    Playbooks(PlaybookList),
    Paste(Box<PasteBox>),
    Matches(MatchList),
    /// The connection doctor: the cluster cannot be used (the app opens on it).
    Doctor(Box<super::doctor::DoctorApp>),
}

/// The names `:` completes, in the order Tab offers them.
pub const COMMANDS: &[&str] = &[
    "overview",
    "nodes",
    "pods",
    "leases",
    "events",
    "playbooks",
    "playbook",
    "ctx",
    "fleet",
    "ns",
    "theme",
    "explain",
    "quit",
    "q",
];

/// The commands that take an argument (Tab adds the space after them).
pub const COMMANDS_WITH_ARGUMENT: &[&str] = &["playbook", "ctx", "ns", "theme"];

/// The `:` command line at the bottom of the screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// What was typed after the `:`.
    pub input: String,
    /// The candidates of the last Tab that did not decide (shown after the input).
    pub candidates: Vec<String>,
}

impl CommandLine {
    /// Completes a command name, or a playbook id after `playbook ` (see
    /// [`CommandLine::complete_with`]).
    pub fn complete(&mut self, ids: &[&str]) {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        self.complete_with(|cmd| (cmd == "playbook").then(|| ids.clone()));
    }

    /// Completes the input: a command name, or the argument of a command after its space
    /// (`arguments(command)` gives the candidates: playbook ids, contexts, namespaces,
    /// themes). One candidate completes fully (a command that takes an argument gets its
    /// space); several complete to their common prefix and are listed.
    pub fn complete_with(&mut self, arguments: impl Fn(&str) -> Option<Vec<String>>) {
        let owned: Vec<String>;
        let (prefix, word, options): (String, String, Vec<&str>) = match self.input.split_once(' ')
        {
            Some((cmd, arg)) => match arguments(cmd) {
                Some(list) => {
                    owned = list;
                    (
                        format!("{cmd} "),
                        arg.trim_start().to_string(),
                        owned.iter().map(String::as_str).collect(),
                    )
                }
                None => return,
            },
            None => (String::new(), self.input.clone(), COMMANDS.to_vec()),
        };
        let found: Vec<&str> = options
            .into_iter()
            .filter(|o| o.starts_with(word.as_str()))
            .collect();
        match found.as_slice() {
            [] => self.candidates.clear(),
            [one] => {
                let suffix = if prefix.is_empty() && COMMANDS_WITH_ARGUMENT.contains(one) {
                    " "
                } else {
                    ""
                };
                self.input = format!("{prefix}{one}{suffix}");
                self.candidates.clear();
            }
            many => {
                let common = common_prefix(many);
                if common.len() > word.len() {
                    self.input = format!("{prefix}{common}");
                }
                self.candidates = many.iter().map(|s| s.to_string()).collect();
            }
        }
    }
}

fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let Some(first) = words.first() else {
        return "";
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_commands_and_playbook_ids() {
        let ids = [
            "node-notready-no-cni",
            "node-notready-kubelet",
            "dns-pending",
        ];
        let mut c = CommandLine {
            input: "playb".into(),
            ..Default::default()
        };
        c.complete(&ids);
        assert_eq!(c.input, "playbook");
        assert_eq!(c.candidates, vec!["playbooks", "playbook"]);
        c.input = "ov".into();
        c.complete(&ids);
        assert_eq!(c.input, "overview");
        c.input = "playbook node".into();
        c.complete(&ids);
        assert_eq!(c.input, "playbook node-notready-");
        assert_eq!(c.candidates.len(), 2);
        c.input.push('n');
        c.complete(&ids);
        assert_eq!(c.input, "playbook node-notready-no-cni");
        assert!(c.candidates.is_empty());
        c.input = "zzz".into();
        c.complete(&ids);
        assert_eq!(c.input, "zzz", "no candidate: unchanged");
    }

    #[test]
    fn common_prefix_of_words() {
        assert_eq!(common_prefix(&["playbooks", "playbook"]), "playbook");
        assert_eq!(common_prefix(&["abc", "x"]), "");
        assert_eq!(common_prefix(&["abc"]), "abc");
    }
}
