//! Runs playbooks: rounds of queries through a `QuerySource` (answers shared between
//! playbooks, so a list is fetched once per run), then the pure diagnosis; decides each
//! run's verdict (found, not present, could not check: [`Run::verdict`] is the one place);
//! ranks playbooks for a pasted error text; orders findings; and the query builders
//! playbooks use.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use futures::StreamExt;
use futures::future::BoxFuture;

use super::source::QuerySource;
use super::{Finding, Outcome, Playbook, Query, Results};

/// At most this many query rounds per playbook.
const MAX_ROUNDS: usize = 4;

/// One executed query, as the runner view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub query: Query,
    pub outcome: Outcome,
}

impl Step {
    /// A one-line summary of what came back: `3 objects`, `200: 42 lines`, `403: …`.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Outcome::Objects(v) if v.len() == 1 => "1 object".into(),
            Outcome::Objects(v) => format!("{} objects", v.len()),
            Outcome::Text { code, body } => format!("{code}: {} lines", body.lines().count()),
            Outcome::Failed { code: 0, message } => format!("failed: {message}"),
            Outcome::Failed { code, message } => format!("{code}: {message}"),
        }
    }

    /// Why the query got no answer, when it got none: a refusal (401, 403), a transport
    /// error or timeout, a throttled or failing server (429, 5xx), or a snapshot that did not
    /// capture it. `None` when the cluster answered, a 404 ("no such object") and a 400
    /// ("no previous container") included: those are answers a diagnosis reads.
    pub fn unanswered(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Objects(_) => None,
            Outcome::Text { code, body } if matches!(code, 401 | 403) => {
                Some(format!("{code}: {}", first_line(body)))
            }
            Outcome::Text { .. } => None,
            Outcome::Failed {
                code: 400 | 404, ..
            } => None,
            Outcome::Failed { code: 0, message } => Some(message.clone()),
            Outcome::Failed { code, message } => Some(format!("{code}: {message}")),
        }
    }
}

/// The first non-empty line of a response body, for a one-line error.
fn first_line(body: &str) -> &str {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// A query that got no answer: the kubectl command and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedQuery {
    /// The kubectl command the query stands for.
    pub query: String,
    /// Why it got no answer (`403: nodes is forbidden: …`, `not captured: …`).
    pub error: String,
}

/// What a run concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The playbook's cause is present.
    Found(Finding),
    /// The queries the playbook needs were answered and its cause is not there.
    NotPresent,
    /// The queries the playbook needs got no answer: absence proves nothing.
    CouldNotCheck { failed: Vec<FailedQuery> },
}

impl Verdict {
    /// `found`, `not present` or `could not check`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Found(_) => "found",
            Verdict::NotPresent => "not present",
            Verdict::CouldNotCheck { .. } => "could not check",
        }
    }
}

/// A playbook after it ran: its steps and its finding (`None`: its cause is not present).
#[derive(Debug, Clone)]
pub struct Run {
    pub playbook: &'static Playbook,
    pub steps: Vec<Step>,
    pub finding: Option<Finding>,
}

impl Run {
    /// The run's verdict. Without a finding, the run could not check when no query it made
    /// was answered, when every query of its first round (the ones it starts from: the
    /// playbook's `queries` over no results) went unanswered, or when more of its queries
    /// went unanswered than were answered; otherwise its cause is not present.
    pub fn verdict(&self) -> Verdict {
        if let Some(f) = &self.finding {
            return Verdict::Found(f.clone());
        }
        let failed: Vec<FailedQuery> = self
            .steps
            .iter()
            .filter_map(|s| {
                s.unanswered().map(|error| FailedQuery {
                    query: s.query.kubectl.clone(),
                    error,
                })
            })
            .collect();
        if failed.is_empty() {
            return Verdict::NotPresent;
        }
        let answered = self.steps.len() - failed.len();
        let first_round = (self.playbook.queries)(&Results::default());
        let first_round_failed = !first_round.is_empty()
            && first_round.iter().all(|q| {
                self.steps
                    .iter()
                    .any(|s| s.query == *q && s.unanswered().is_some())
            });
        if answered == 0 || first_round_failed || failed.len() > answered {
            Verdict::CouldNotCheck { failed }
        } else {
            Verdict::NotPresent
        }
    }

    /// The queries that went unanswered when the run could not check, else nothing.
    pub fn could_not_check(&self) -> Option<Vec<FailedQuery>> {
        match self.verdict() {
            Verdict::CouldNotCheck { failed } => Some(failed),
            _ => None,
        }
    }
}

/// Every playbook of the registry, run once: the runs whose cause is present (ordered as
/// [`sort_runs`] orders them) and the runs that could not check (in registry order).
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub findings: Vec<Run>,
    pub could_not_check: Vec<Run>,
}

/// The JSON shape of a finding in `check` and `explain` output.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport<'a> {
    pub playbook: &'static str,
    pub code: &'static str,
    pub title: &'static str,
    #[serde(flatten)]
    pub finding: &'a Finding,
}

/// Caches answers so playbooks that ask the same query share one request.
#[derive(Default)]
pub struct Cache {
    answers: BTreeMap<Query, Outcome>,
}

/// Runs one playbook.
pub async fn run(
    playbook: &'static Playbook,
    source: &dyn QuerySource,
    cache: &mut Cache,
    now: DateTime<Utc>,
) -> Run {
    run_cached(playbook, source, None, cache, now).await
}

/// [`run`] reading answers from `shared` (answers asked ahead for every playbook) before
/// its own `cache`.
async fn run_cached(
    playbook: &'static Playbook,
    source: &dyn QuerySource,
    shared: Option<&Cache>,
    cache: &mut Cache,
    now: DateTime<Utc>,
) -> Run {
    let mut results = Results::default();
    let mut steps = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let wanted: Vec<Query> = (playbook.queries)(&results)
            .into_iter()
            .filter(|q| !results.by_query.contains_key(q))
            .collect();
        if wanted.is_empty() {
            break;
        }
        // The round's unanswered queries, a few at a time (one after another, a slow link
        // made a playbook asking for a dozen logs take seconds).
        let missing: Vec<&Query> = wanted
            .iter()
            .filter(|q| {
                shared.is_none_or(|c| !c.answers.contains_key(*q))
                    && !cache.answers.contains_key(*q)
            })
            .collect();
        let asked: Vec<BoxFuture<'_, (Query, Outcome)>> = missing
            .into_iter()
            .map(|q| Box::pin(ask(source, q)) as _)
            .collect();
        let answered: Vec<(Query, Outcome)> = futures::stream::iter(asked)
            .buffered(PREFETCH_PARALLEL)
            .collect()
            .await;
        cache.answers.extend(answered);
        for q in wanted {
            if source.partial(&q) {
                results.partial.insert(q.clone());
            }
            let outcome = match shared
                .and_then(|c| c.answers.get(&q))
                .or_else(|| cache.answers.get(&q))
            {
                Some(o) => o.clone(),
                None => {
                    let o = source.run(&q).await;
                    cache.answers.insert(q.clone(), o.clone());
                    o
                }
            };
            steps.push(Step {
                query: q.clone(),
                outcome: outcome.clone(),
            });
            results.by_query.insert(q, outcome);
        }
    }
    let finding = (playbook.diagnose)(&results, now);
    Run {
        playbook,
        steps,
        finding,
    }
}

/// Runs every playbook of the registry and returns the runs whose cause is present,
/// ordered by severity, then confidence (both descending), then id.
pub async fn run_all(source: &dyn QuerySource, now: DateTime<Utc>) -> Vec<Run> {
    check_all(source, now).await.findings
}

/// Runs every playbook of the registry: the runs whose cause is present, ordered as
/// [`run_all`] orders them, and the runs that could not check, in registry order.
pub async fn check_all(source: &dyn QuerySource, now: DateTime<Utc>) -> Checked {
    check_these(&super::registry(), source, now).await
}

/// [`check_all`] over the given playbooks.
pub async fn check_these(
    playbooks: &[&'static Playbook],
    source: &dyn QuerySource,
    now: DateTime<Utc>,
) -> Checked {
    let mut shared = Cache::default();
    prefetch(playbooks, source, &mut shared).await;
    let shared = &shared;
    // A few playbooks at a time, each asking its later rounds itself, in registry order.
    let runs: Vec<BoxFuture<'_, Run>> = playbooks
        .iter()
        .map(|&pb| Box::pin(run_shared(pb, source, shared, now)) as _)
        .collect();
    let runs: Vec<Run> = futures::stream::iter(runs)
        .buffered(PREFETCH_PARALLEL)
        .collect()
        .await;
    let mut checked = Checked::default();
    for r in runs {
        if r.finding.is_some() {
            checked.findings.push(r);
        } else if matches!(r.verdict(), Verdict::CouldNotCheck { .. }) {
            checked.could_not_check.push(r);
        }
    }
    sort_runs(&mut checked.findings);
    checked
}

/// One query and its answer.
async fn ask(source: &dyn QuerySource, q: &Query) -> (Query, Outcome) {
    (q.clone(), source.run(q).await)
}

/// One playbook over the answers asked ahead, with its own cache for the rest.
async fn run_shared(
    playbook: &'static Playbook,
    source: &dyn QuerySource,
    shared: &Cache,
    now: DateTime<Utc>,
) -> Run {
    let mut own = Cache::default();
    run_cached(playbook, source, Some(shared), &mut own, now).await
}

/// How many first-round queries (and playbooks) are asked at once.
const PREFETCH_PARALLEL: usize = 8;

/// Asks the playbooks' first-round queries (those asked before any answer) a few at a time
/// into the cache: over a slow link, a hundred queries one after another would not fit in
/// `check --timeout`. The runs then read them from the cache, in their own order.
async fn prefetch(playbooks: &[&'static Playbook], source: &dyn QuerySource, cache: &mut Cache) {
    let first = Results::default();
    let mut wanted: Vec<Query> = playbooks
        .iter()
        .flat_map(|pb| (pb.queries)(&first))
        .filter(|q| !cache.answers.contains_key(q))
        .collect();
    wanted.sort();
    wanted.dedup();
    let answers: Vec<(Query, Outcome)> = futures::stream::iter(wanted)
        .map(|q| async move {
            let o = source.run(&q).await;
            (q, o)
        })
        .buffer_unordered(PREFETCH_PARALLEL)
        .collect()
        .await;
    cache.answers.extend(answers);
}

/// Orders runs with findings: severity, then confidence (descending), then id.
pub fn sort_runs(runs: &mut [Run]) {
    runs.sort_by(|a, b| {
        let (fa, fb) = (a.finding.as_ref(), b.finding.as_ref());
        let sev = fb.map(|f| f.severity).cmp(&fa.map(|f| f.severity));
        let conf = fb
            .map(|f| f.confidence)
            .unwrap_or(0.0)
            .total_cmp(&fa.map(|f| f.confidence).unwrap_or(0.0));
        sev.then(conf).then(a.playbook.id.cmp(b.playbook.id))
    });
}

/// Playbooks of the registry whose symptoms match `text`, best first, with their score.
pub fn rank_symptoms(text: &str) -> Vec<(&'static Playbook, f32)> {
    rank_symptoms_in(&super::registry(), text)
}

/// Playbooks of `catalog` whose symptoms match `text`, best first: a symptom matches when all
/// its fragments appear (case-insensitively); its weight counts, plus a little for longer
/// (more specific) fragments.
pub fn rank_symptoms_in(
    catalog: &[&'static Playbook],
    text: &str,
) -> Vec<(&'static Playbook, f32)> {
    let lower = text.to_lowercase();
    let mut ranked: Vec<(&'static Playbook, f32)> = catalog
        .iter()
        .filter_map(|pb| {
            pb.symptoms
                .iter()
                .filter(|s| s.all_of.iter().all(|frag| lower.contains(frag)))
                .map(|s| {
                    let len: usize = s.all_of.iter().map(|f| f.len()).sum();
                    s.weight + (len.min(80) as f32) / 1000.0
                })
                .reduce(f32::max)
                .map(|best| (*pb, best))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(b.0.id)));
    ranked
}

pub use crate::api::query::{q, request_path};

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;

    /// Answers every query with the same outcome, or a chosen one for some queries.
    struct Fixed {
        default: Outcome,
        answers: Vec<(Query, Outcome)>,
    }

    impl QuerySource for Fixed {
        fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
            let out = self
                .answers
                .iter()
                .find(|(q, _)| q == query)
                .map(|(_, o)| o.clone())
                .unwrap_or_else(|| self.default.clone());
            Box::pin(async move { out })
        }
    }

    fn forbidden() -> Outcome {
        Outcome::Failed {
            code: 403,
            message: "nodes is forbidden: User \"jane\" cannot list resource \"nodes\"".into(),
        }
    }

    fn log_of_first_pod() -> Query {
        q::logs("kube-system", "coredns-1", None, false, Some(50))
    }

    /// Nodes and pods first; then the log of a pod it found.
    fn two_rounds(r: &Results) -> Vec<Query> {
        let mut out = vec![q::nodes(), q::core("pods", None)];
        if !r.objects(&q::core("pods", None)).is_empty() {
            out.push(log_of_first_pod());
        }
        out
    }

    fn never(_: &Results, _: DateTime<Utc>) -> Option<Finding> {
        None
    }

    static TWO_ROUNDS: Playbook = Playbook {
        id: "test-two-rounds",
        code: "TEST-01",
        title: "a playbook that never finds its cause",
        access: crate::playbooks::Access::Api,
        symptoms: &[],
        queries: two_rounds,
        diagnose: never,
    };

    fn run_on(source: &Fixed) -> Run {
        let mut cache = Cache::default();
        futures::executor::block_on(run(&TWO_ROUNDS, source, &mut cache, Utc::now()))
    }

    #[test]
    fn a_source_that_fails_every_query_could_not_check() {
        let r = run_on(&Fixed {
            default: forbidden(),
            answers: Vec::new(),
        });
        assert!(r.finding.is_none());
        let Verdict::CouldNotCheck { failed } = r.verdict() else {
            panic!("expected could not check, got {:?}", r.verdict());
        };
        assert_eq!(
            failed,
            vec![
                FailedQuery {
                    query: "kubectl get nodes -o yaml".into(),
                    error: "403: nodes is forbidden: User \"jane\" cannot list resource \"nodes\""
                        .into(),
                },
                FailedQuery {
                    query: "kubectl get pods -A -o yaml".into(),
                    error: "403: nodes is forbidden: User \"jane\" cannot list resource \"nodes\""
                        .into(),
                },
            ]
        );
        assert_eq!(r.verdict().label(), "could not check");
    }

    #[test]
    fn every_registry_playbook_on_a_failing_source_finds_or_could_not_check() {
        for default in [
            forbidden(),
            Outcome::Failed {
                code: 0,
                message: "operation timed out".into(),
            },
        ] {
            let source = Fixed {
                default,
                answers: Vec::new(),
            };
            let checked = futures::executor::block_on(check_all(&source, Utc::now()));
            let listed: std::collections::BTreeSet<&str> = checked
                .findings
                .iter()
                .chain(&checked.could_not_check)
                .map(|r| r.playbook.id)
                .collect();
            let silent: Vec<&str> = crate::playbooks::registry()
                .iter()
                .map(|p| p.id)
                .filter(|id| !listed.contains(id))
                .collect();
            assert!(silent.is_empty(), "said not present: {silent:?}");
            assert!(checked.could_not_check.iter().all(|r| r.finding.is_none()));
        }
    }

    #[test]
    fn answered_queries_without_a_cause_are_not_present() {
        let pod = serde_json::json!({"kind": "Pod", "metadata": {"name": "coredns-1"}});
        let r = run_on(&Fixed {
            default: Outcome::Objects(vec![pod]),
            answers: vec![(
                log_of_first_pod(),
                Outcome::Text {
                    code: 200,
                    body: "ready".into(),
                },
            )],
        });
        assert_eq!(r.steps.len(), 3);
        assert_eq!(r.verdict(), Verdict::NotPresent);
    }

    #[test]
    fn a_missing_object_is_an_answer_and_one_refusal_among_answers_is_not_enough() {
        let pod = serde_json::json!({"kind": "Pod", "metadata": {"name": "coredns-1"}});
        // Nodes refused, pods listed, the pod's log gone (404): mostly answered.
        let r = run_on(&Fixed {
            default: Outcome::Objects(vec![pod]),
            answers: vec![
                (q::nodes(), forbidden()),
                (
                    log_of_first_pod(),
                    Outcome::Failed {
                        code: 404,
                        message: "pods \"coredns-1\" not found".into(),
                    },
                ),
            ],
        });
        assert_eq!(r.verdict(), Verdict::NotPresent);
    }

    #[test]
    fn a_failed_first_round_could_not_check_even_when_later_queries_answer() {
        let r = run_on(&Fixed {
            default: Outcome::Failed {
                code: 0,
                message: "not captured: the snapshot holds no nodes".into(),
            },
            answers: Vec::new(),
        });
        assert!(
            matches!(r.verdict(), Verdict::CouldNotCheck { failed } if failed.len() == 2
            && failed[0].error == "not captured: the snapshot holds no nodes")
        );
    }

    #[test]
    fn request_paths_match_the_rest_api() {
        let q = q::list(
            "",
            "pods",
            Some("kube-system"),
            Some("tier=control-plane"),
            None,
        );
        assert_eq!(
            q.request(),
            "GET /api/v1/namespaces/kube-system/pods?labelSelector=tier%3Dcontrol-plane"
        );
        assert_eq!(
            q.kubectl,
            "kubectl get pods -n kube-system -l 'tier=control-plane' -o yaml"
        );
        let q = q::list(
            "coordination.k8s.io",
            "leases",
            Some("kube-system"),
            None,
            None,
        );
        assert_eq!(
            q.request(),
            "GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        );
        let q = q::list("", "nodes", Some("ignored"), None, None);
        assert_eq!(q.kubectl, "kubectl get nodes -o yaml");
        assert_eq!(q.request(), "GET /api/v1/nodes");
        let q = q::logs("kube-system", "kube-scheduler-cp-1", None, true, Some(100));
        assert_eq!(
            q.request(),
            "GET /api/v1/namespaces/kube-system/pods/kube-scheduler-cp-1/log?previous=true&tailLines=100"
        );
        assert_eq!(q::raw("/readyz?verbose").request(), "GET /readyz?verbose");
    }
}
