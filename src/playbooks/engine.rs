//! Runs playbooks: rounds of queries through a `QuerySource` (answers shared between
//! playbooks, so a list is fetched once per run), then the pure diagnosis; decides each
//! run's verdict (found, not present, could not check: [`Run::verdict`] is the one place);
//! ranks playbooks for a pasted error text; orders findings; and the query builders
//! playbooks use.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::source::QuerySource;
use super::{Finding, Outcome, Playbook, Query, QueryKind, Results};

/// At most this many query rounds per playbook.
const MAX_ROUNDS: usize = 4;

/// One executed query, as the runner view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub query: Query,
    /// What came back, without a list's objects (the run's results held them while the
    /// diagnosis read them; a step of 150,000 pods kept per playbook was the memory of
    /// `check` at scale): `objects` says how many there were.
    pub outcome: Outcome,
    /// How many objects the query returned.
    pub objects: usize,
}

impl Step {
    /// The step of a query and what it returned, keeping the count of a list, not its objects.
    pub fn new(query: Query, outcome: &Outcome) -> Step {
        let (outcome, objects) = match outcome {
            Outcome::Objects(v) => (Outcome::Objects(Vec::new()), v.len()),
            Outcome::Lean(v) => (
                Outcome::Lean(match v {
                    super::LeanObjects::Pods(_) => super::LeanObjects::empty(super::Watched::Pods),
                    super::LeanObjects::Events(_) => {
                        super::LeanObjects::empty(super::Watched::Events)
                    }
                }),
                v.len(),
            ),
            other => (other.clone(), 0),
        };
        Step {
            query,
            outcome,
            objects,
        }
    }

    /// A one-line summary of what came back: `3 objects`, `200: 42 lines`, `403: …`.
    pub fn summary(&self) -> String {
        match &self.outcome {
            Outcome::Objects(_) | Outcome::Lean(_) if self.objects == 1 => "1 object".into(),
            Outcome::Objects(_) | Outcome::Lean(_) => format!("{} objects", self.objects),
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
            Outcome::Objects(_) | Outcome::Lean(_) => None,
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

    /// Whether a list or get went unanswered because of the link or the server's state (no
    /// answer, 429, 5xx): what the playbook concluded without it is not a finding. A failed
    /// log or node-proxy request is left out: that failure is the evidence some playbooks read.
    pub fn lost_to_a_fault(&self) -> bool {
        matches!(
            self.query.kind,
            QueryKind::List { .. } | QueryKind::Get { .. } | QueryKind::Watched { .. }
        ) && matches!(self.outcome, Outcome::Failed { code, .. } if code == 0 || code == 429 || code >= 500)
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

/// Caches answers so playbooks that ask the same query share one request, and one copy of
/// its answer: a run borrows the answers it reads (moved into its results, moved back after
/// its diagnosis), so memory follows the cluster, not the number of playbooks.
/// Answers are keyed by the request, not by the kubectl text a playbook shows: groups that
/// spell `kubectl get pods -A` differently share one list (each held a copy of 150,000 pods).
#[derive(Default)]
pub struct Cache {
    answers: BTreeMap<QueryKind, Outcome>,
}

impl Cache {
    /// Asks `queries` (each request once), [`PREFETCH`] at a time, and keeps the answers.
    async fn ask_all(
        &mut self,
        source: &dyn QuerySource,
        queries: impl IntoIterator<Item = Query>,
    ) {
        use futures::StreamExt;
        let mut queries: Vec<Query> = queries.into_iter().collect();
        queries.sort_by(|a, b| a.kind.cmp(&b.kind));
        queries.dedup_by(|a, b| a.kind == b.kind);
        let answers: Vec<(QueryKind, Outcome)> = futures::stream::iter(queries)
            .map(|q| async move {
                let o = source.run(&q).await;
                (q.kind, o)
            })
            .buffer_unordered(PREFETCH)
            .collect()
            .await;
        self.answers.extend(answers);
    }

    /// Puts a run's answers back.
    fn restore(&mut self, results: Results) {
        self.answers
            .extend(results.by_query.into_iter().map(|(q, o)| (q.kind, o)));
    }
}

/// Runs one playbook.
pub async fn run(
    playbook: &'static Playbook,
    source: &dyn QuerySource,
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
        let missing: Vec<Query> = wanted
            .iter()
            .filter(|q| !cache.answers.contains_key(&q.kind))
            .cloned()
            .collect();
        cache.ask_all(source, missing).await;
        for q in wanted {
            if source.partial(&q) {
                results.partial.insert(q.clone());
            }
            let outcome = match cache.answers.remove(&q.kind) {
                Some(o) => o,
                None => source.run(&q).await,
            };
            steps.push(Step::new(q.clone(), &outcome));
            results.by_query.insert(q, outcome);
        }
    }
    // On a live cluster, a list that a reset, a stall or a 5xx kept away reads as empty to a
    // diagnosis ("no ready controller pod"): such a run could not check, it found nothing.
    let finding = if source.live() && steps.iter().any(Step::lost_to_a_fault) {
        None
    } else {
        (playbook.diagnose)(&results, now)
    };
    cache.restore(results);
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
    let mut cache = Cache::default();
    prefetch(playbooks, source, &mut cache).await;
    let mut checked = Checked::default();
    for pb in playbooks {
        let r = run(pb, source, &mut cache, now).await;
        if r.finding.is_some() {
            checked.findings.push(r);
        } else if matches!(r.verdict(), Verdict::CouldNotCheck { .. }) {
            checked.could_not_check.push(r);
        }
    }
    sort_runs(&mut checked.findings);
    checked
}

/// How many queries are asked at once: the first rounds of every playbook, and a round's
/// unanswered queries (over a 300 ms link, one after another did not fit in `--timeout`;
/// 8 at a time took 9.9 s of a 10 s `check` once playbooks read suspect pods one by one in a
/// later round, 16 take 8.4 s).
const PREFETCH: usize = 16;

/// Fetches what every playbook asks first (each query once), a few at a time, into the
/// cache: the lists of pods, events and nodes arrive side by side instead of one after
/// another as the playbooks that first ask them run.
async fn prefetch(playbooks: &[&'static Playbook], source: &dyn QuerySource, cache: &mut Cache) {
    let first: Vec<Query> = playbooks
        .iter()
        .flat_map(|pb| (pb.queries)(&Results::default()))
        .filter(|q| !cache.answers.contains_key(&q.kind))
        .collect();
    cache.ask_all(source, first).await;
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

    /// Finds "no nodes" whenever the nodes list is empty or missing: what a naive diagnosis
    /// concludes from a list a fault kept away.
    fn no_nodes(r: &Results, _now: DateTime<Utc>) -> Option<Finding> {
        r.objects(&q::nodes()).is_empty().then(|| Finding {
            severity: crate::playbooks::FindingSeverity::Critical,
            confidence: 0.9,
            summary: "the cluster has no nodes".into(),
            evidence: Vec::new(),
            ruled_out: Vec::new(),
            fix: crate::playbooks::Fix {
                explanation: String::new(),
                commands: Vec::new(),
            },
        })
    }

    fn nodes_only(_: &Results) -> Vec<Query> {
        vec![q::nodes()]
    }

    static NO_NODES: Playbook = Playbook {
        id: "test-no-nodes",
        code: "TEST-02",
        title: "a playbook that reads an absent list as empty",
        access: crate::playbooks::Access::Api,
        symptoms: &[],
        queries: nodes_only,
        diagnose: no_nodes,
    };

    /// [`Fixed`] as a live cluster, whose failures can be transient.
    struct LiveFixed(Fixed);

    impl QuerySource for LiveFixed {
        fn run<'a>(&'a self, query: &'a Query) -> BoxFuture<'a, Outcome> {
            self.0.run(query)
        }
        fn live(&self) -> bool {
            true
        }
    }

    #[test]
    fn a_list_lost_to_a_fault_is_no_evidence_of_absence() {
        let on = |outcome: Outcome| {
            let mut cache = Cache::default();
            let source = LiveFixed(Fixed {
                default: outcome,
                answers: Vec::new(),
            });
            futures::executor::block_on(run(&NO_NODES, &source, &mut cache, Utc::now()))
        };
        // A reset, a stall or a 5xx: could not check, never "no nodes".
        for code in [0, 429, 503] {
            let r = on(Outcome::Failed {
                code,
                message: "connection reset".into(),
            });
            assert!(r.finding.is_none(), "{code}: {:?}", r.finding);
            assert!(
                matches!(r.verdict(), Verdict::CouldNotCheck { .. }),
                "{code}"
            );
        }
        // An answered empty list is evidence.
        assert!(on(Outcome::Objects(Vec::new())).finding.is_some());
        // A snapshot that did not capture the kind is judged on what it holds.
        let source = Fixed {
            default: Outcome::Failed {
                code: 0,
                message: "not captured: the snapshot holds no nodes".into(),
            },
            answers: Vec::new(),
        };
        let mut cache = Cache::default();
        let r = futures::executor::block_on(run(&NO_NODES, &source, &mut cache, Utc::now()));
        assert!(r.finding.is_some());
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
