//! Renders a `check` report (the cluster it is about and its health report) as text for a
//! terminal, JSON for machines, and Markdown ready to paste into an incident ticket; and maps
//! it to the exit code (0 ok, 1 warnings, 2 critical, 3 could not run). Owns the wording of
//! the report: the summary first, counts in proper singular/plural, confidences rounded, and
//! the `--min-severity` filter of what is shown (never of the exit code); and, after the
//! findings, the playbooks that could not check, with the queries that went unanswered.

use serde_json::{Value, json};

use crate::health::{HealthItem, HealthReport, Severity};
use crate::playbooks::engine::{FailedQuery, FindingReport, Run};
use crate::playbooks::{Finding, FindingSeverity};

/// What the report is about.
#[derive(Debug, Clone, Default)]
pub struct ClusterInfo {
    /// `scenario`, `snapshot` or `context`.
    pub source: String,
    /// Scenario id, snapshot path or context name.
    pub name: String,
    pub server: Option<String>,
    pub version: Option<String>,
    /// The instant the report was judged at (RFC 3339).
    pub judged_at: String,
    /// Resources that could not be read, as `resource: reason` lines.
    pub problems: Vec<String>,
}

/// A full `check` report.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub cluster: ClusterInfo,
    pub health: HealthReport,
    /// Playbooks whose cause is present, most severe and most certain first.
    pub findings: Vec<Run>,
    /// Playbooks that could not check (their queries went unanswered), in registry order:
    /// listed after the findings whatever `min_severity` says, since their cause may be
    /// present.
    pub could_not_check: Vec<Run>,
    /// Why the check could not run (the cluster cannot be reached or read, the input cannot
    /// be loaded): the report then says so instead of an overall health, and exits 3.
    pub could_not_run: Option<String>,
    /// The least severe item and finding shown; the exit code still counts everything.
    pub min_severity: MinSeverity,
}

/// `check --min-severity`: what is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum MinSeverity {
    /// Everything, ok items and informational findings included.
    #[default]
    Info,
    /// Warnings (and unknowns) and critical ones.
    Warning,
    /// Only critical ones.
    Critical,
}

impl MinSeverity {
    fn shows_item(self, s: Severity) -> bool {
        match self {
            MinSeverity::Info => true,
            MinSeverity::Warning => s >= Severity::Unknown,
            MinSeverity::Critical => s == Severity::Critical,
        }
    }

    fn shows_finding(self, s: FindingSeverity) -> bool {
        match self {
            MinSeverity::Info => true,
            MinSeverity::Warning => s >= FindingSeverity::Warning,
            MinSeverity::Critical => s == FindingSeverity::Critical,
        }
    }

    fn word(self) -> &'static str {
        match self {
            MinSeverity::Info => "info",
            MinSeverity::Warning => "warning",
            MinSeverity::Critical => "critical",
        }
    }
}

/// `n` and the noun, singular for one: `1 restart`, `2 restarts`, `0 contexts`. Nouns whose
/// plural is not `+s` give it after a `|`: `plural(2, "match|matches")`.
pub fn plural(n: usize, noun: &str) -> String {
    let (one, many) = match noun.split_once('|') {
        Some((one, many)) => (one.to_string(), many.to_string()),
        None => (noun.to_string(), format!("{noun}s")),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A confidence (0..1, an `f32`) as JSON with two decimals: `0.9`, not `0.8999999761581421`.
pub fn round2(x: f64) -> Value {
    serde_json::Number::from_f64((x * 100.0).round() / 100.0)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// Rounds every `confidence` (and `score`) in a JSON document to two decimals.
pub fn round_confidences(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if (k == "confidence" || k == "score")
                    && let Some(f) = x.as_f64()
                {
                    *x = round2(f);
                } else {
                    round_confidences(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(round_confidences),
        _ => {}
    }
}

impl CheckReport {
    /// A report for a check that could not run, and why.
    pub fn could_not_run(cluster: ClusterInfo, why: impl Into<String>) -> CheckReport {
        CheckReport {
            cluster,
            could_not_run: Some(why.into()),
            ..Default::default()
        }
    }

    /// 0 all ok, 1 warnings (or unknowns), 2 critical — over health and findings, whatever
    /// `min_severity` hides; 3 when the check could not run.
    pub fn exit_code(&self) -> i32 {
        if self.could_not_run.is_some() {
            return 3;
        }
        use crate::findings::Level;
        let findings = self
            .findings()
            .map(|(_, f)| Level::of_finding(f.severity))
            .max()
            .unwrap_or(Level::Ok);
        Level::of_health(self.health.worst())
            .max(findings)
            .exit_code()
    }

    /// The findings with the run they came from.
    pub fn findings(&self) -> impl Iterator<Item = (&Run, &Finding)> {
        self.findings
            .iter()
            .filter_map(|r| r.finding.as_ref().map(|f| (r, f)))
    }

    /// The runs that could not check, with the queries that went unanswered.
    pub fn could_not_check(&self) -> Vec<(&Run, Vec<FailedQuery>)> {
        self.could_not_check
            .iter()
            .filter_map(|r| r.could_not_check().map(|f| (r, f)))
            .collect()
    }

    /// The findings `min_severity` shows.
    fn shown_findings(&self) -> impl Iterator<Item = (&Run, &Finding)> {
        self.findings()
            .filter(|(_, f)| self.min_severity.shows_finding(f.severity))
    }

    /// The health sections with only the items `min_severity` shows.
    fn shown_sections(&self) -> Vec<(&'static str, Vec<&HealthItem>)> {
        self.health
            .sections()
            .into_iter()
            .map(|(t, items)| {
                (
                    t,
                    items
                        .iter()
                        .filter(|i| self.min_severity.shows_item(i.severity))
                        .collect(),
                )
            })
            .collect()
    }

    /// The sections as text and Markdown print them: every item that is not OK, and the OK
    /// items only while a section has at most [`OK_ITEMS_SHOWN`] of them (a 5,000-node cluster
    /// printed 5,000 OK lines); the count of OK items folded away. JSON keeps every item.
    fn printed_sections(&self) -> Vec<(&'static str, Vec<&HealthItem>, usize)> {
        if self.could_not_run.is_some() {
            return Vec::new();
        }
        self.shown_sections()
            .into_iter()
            .map(|(title, items)| {
                let ok = items.iter().filter(|i| i.severity == Severity::Ok).count();
                if ok <= OK_ITEMS_SHOWN {
                    return (title, items, 0);
                }
                let kept = items
                    .into_iter()
                    .filter(|i| i.severity != Severity::Ok)
                    .collect();
                (title, kept, ok)
            })
            .collect()
    }

    /// `ok`, `warning`, `critical` or `could not run`.
    pub fn overall(&self) -> &'static str {
        match self.exit_code() {
            0 => "ok",
            1 => "warning",
            2 => "critical",
            _ => "could not run",
        }
    }

    /// The one summary line: overall, then counts over everything judged.
    pub fn summary(&self) -> String {
        match &self.could_not_run {
            Some(why) => format!("Overall: could not run: {why}"),
            None => format!("Overall: {} ({})", self.overall(), self.counts()),
        }
    }

    /// Health items by severity and the number of findings, over everything judged.
    fn counts(&self) -> String {
        let mut counts = [0usize; 4];
        for (_, items) in self.health.sections() {
            for i in items.iter() {
                counts[i.severity as usize] += 1;
            }
        }
        let mut parts = Vec::new();
        if counts[Severity::Critical as usize] > 0 {
            parts.push(format!("{} critical", counts[Severity::Critical as usize]));
        }
        if counts[Severity::Warning as usize] > 0 {
            parts.push(plural(counts[Severity::Warning as usize], "warning"));
        }
        if counts[Severity::Unknown as usize] > 0 {
            parts.push(format!("{} unknown", counts[Severity::Unknown as usize]));
        }
        parts.push(format!("{} ok", counts[Severity::Ok as usize]));
        let mut line = format!(
            "{}; {}",
            parts.join(", "),
            plural(self.findings().count(), "finding")
        );
        let unchecked = self.could_not_check().len();
        if unchecked > 0 {
            line.push_str(&format!(", {unchecked} could not check"));
        }
        if self.min_severity != MinSeverity::Info {
            line.push_str(&format!("; showing {} and above", self.min_severity.word()));
        }
        line
    }

    pub fn to_json(&self) -> Value {
        let sections = self.shown_sections();
        let items =
            |i: usize| -> Vec<Value> { sections[i].1.iter().map(|x| item_json(x)).collect() };
        let mut v = json!({
            "overall": self.overall(),
            "exit_code": self.exit_code(),
            "could_not_run": self.could_not_run,
            "min_severity": self.min_severity.word(),
            "cluster": {
                "source": self.cluster.source,
                "name": self.cluster.name,
                "server": self.cluster.server,
                "version": self.cluster.version,
                "judged_at": self.cluster.judged_at,
                "problems": self.cluster.problems,
            },
            "health": {
                "control_plane": items(0),
                "nodes": items(1),
                "addons": items(2),
                "restarts": items(3),
            },
            "findings": self.shown_findings().map(|(r, f)| FindingReport {
                playbook: r.playbook.id,
                code: r.playbook.code,
                title: r.playbook.title,
                finding: f,
            }).collect::<Vec<_>>(),
            "could_not_check": self.could_not_check().into_iter().map(|(r, failed)| json!({
                "playbook": r.playbook.id,
                "code": r.playbook.code,
                "title": r.playbook.title,
                "failed": failed,
            })).collect::<Vec<_>>(),
        });
        round_confidences(&mut v);
        v
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "ktriage check: {} {}{}{}\njudged at {}\n",
            self.cluster.source,
            self.cluster.name,
            self.cluster
                .server
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            self.cluster
                .version
                .as_deref()
                .map(|v| format!(", {v}"))
                .unwrap_or_default(),
            self.cluster.judged_at
        ));
        out.push_str(&self.summary());
        out.push('\n');
        for p in &self.cluster.problems {
            out.push_str(&format!("! {p}\n"));
        }
        for (title, items, folded) in self.printed_sections() {
            out.push_str(&format!("\n{title}\n"));
            if items.is_empty() && folded == 0 {
                out.push_str("  (nothing to report)\n");
            }
            if folded > 0 {
                out.push_str(&format!(
                    "  [{:<8}] {} (listed one by one with --output json)\n",
                    Severity::Ok.label().to_uppercase(),
                    folded_line(title, folded)
                ));
            }
            for i in items {
                let playbooks = if i.playbooks.is_empty() || i.severity == Severity::Ok {
                    String::new()
                } else {
                    format!("  -> {}", i.playbooks.join(", "))
                };
                out.push_str(&format!(
                    "  [{:<8}] {}: {}{}\n",
                    i.severity.label().to_uppercase(),
                    i.title,
                    i.reason,
                    playbooks
                ));
            }
        }
        out.push_str("\nFindings\n");
        if self.findings().next().is_none() {
            out.push_str("  (no playbook found its cause)\n");
        } else if self.shown_findings().next().is_none() {
            out.push_str(&format!(
                "  (none at {} or above)\n",
                self.min_severity.word()
            ));
        }
        for (r, f) in self.shown_findings() {
            out.push_str(&format!(
                "\n  [{}] {} {} — {} (confidence {:.0}%)\n    cause: {}\n",
                severity_word(f.severity).to_uppercase(),
                r.playbook.code,
                r.playbook.id,
                r.playbook.title,
                f.confidence * 100.0,
                f.summary
            ));
            for e in &f.evidence {
                out.push_str(&format!(
                    "    evidence: {} {} = {}\n",
                    e.object, e.field, e.value
                ));
            }
            for n in &f.ruled_out {
                out.push_str(&format!("    ruled out: {n}\n"));
            }
            out.push_str(&format!("    fix: {}\n", f.fix.explanation));
            for c in &f.fix.commands {
                out.push_str(&format!("      $ {c}\n"));
            }
        }
        let unchecked = self.could_not_check();
        if !unchecked.is_empty() {
            out.push_str("\nCould not check\n");
        }
        for (r, failed) in unchecked {
            out.push_str(&format!(
                "  {} {} — {}\n",
                r.playbook.code, r.playbook.id, r.playbook.title
            ));
            for f in failed {
                out.push_str(&format!("    {}: {}\n", f.query, f.error));
            }
        }
        out
    }

    pub fn to_markdown(&self) -> String {
        let mut out = format!(
            "## ktriage check: {} `{}`\n\n",
            self.cluster.source, self.cluster.name
        );
        if let Some(s) = &self.cluster.server {
            out.push_str(&format!("- Server: `{s}`\n"));
        }
        if let Some(v) = &self.cluster.version {
            out.push_str(&format!("- Version: {v}\n"));
        }
        out.push_str(&format!("- Judged at: {}\n", self.cluster.judged_at));
        match &self.could_not_run {
            Some(why) => out.push_str(&format!("- Overall: **could not run**: {}\n", md_cell(why))),
            None => out.push_str(&format!(
                "- Overall: **{}** ({})\n",
                self.overall(),
                self.counts()
            )),
        }
        for p in &self.cluster.problems {
            out.push_str(&format!("- Could not read: {p}\n"));
        }
        for (title, items, folded) in self.printed_sections() {
            out.push_str(&format!("\n### {title}\n\n"));
            if items.is_empty() && folded == 0 {
                out.push_str("Nothing to report.\n");
                continue;
            }
            out.push_str("| Severity | Item | Reason | Playbooks |\n|---|---|---|---|\n");
            if folded > 0 {
                out.push_str(&format!(
                    "| {} | {} | listed one by one with `--output json` | |\n",
                    Severity::Ok.label(),
                    folded_line(title, folded)
                ));
            }
            for i in items {
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    i.severity.label(),
                    md_cell(&i.title),
                    md_cell(&i.reason),
                    i.playbooks
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        md_findings(&mut out, self);
        md_could_not_check(&mut out, self);
        out
    }
}

/// A section prints its OK items one by one up to this many.
const OK_ITEMS_SHOWN: usize = 12;

/// `4,997 nodes OK` for a section's folded OK items.
fn folded_line(section: &str, n: usize) -> String {
    format!(
        "{} {} OK",
        crate::text::thousands(n as u64),
        match section {
            "Nodes" => "nodes",
            _ => "items",
        }
    )
}

fn severity_word(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Info => "info",
        FindingSeverity::Warning => "warning",
        FindingSeverity::Critical => "critical",
    }
}

fn md_findings(out: &mut String, report: &CheckReport) {
    out.push_str("\n### Findings\n\n");
    if report.findings().next().is_none() {
        out.push_str("No playbook found its cause.\n");
    }
    for (r, f) in report.shown_findings() {
        out.push_str(&format!(
            "#### {} `{}` {}: {}\n\n- Severity: **{}**, confidence {:.0}%\n- Cause: {}\n",
            r.playbook.code,
            r.playbook.id,
            r.playbook.title,
            severity_word(f.severity),
            severity_word(f.severity),
            f.confidence * 100.0,
            md_cell(&f.summary)
        ));
        if !f.evidence.is_empty() {
            out.push_str("\n| Object | Field | Value |\n|---|---|---|\n");
            for e in &f.evidence {
                out.push_str(&format!(
                    "| `{}` | `{}` | {} |\n",
                    e.object,
                    e.field,
                    md_cell(&e.value)
                ));
            }
        }
        for n in &f.ruled_out {
            out.push_str(&format!("- Ruled out: {}\n", md_cell(n)));
        }
        out.push_str(&format!("\n**Fix:** {}\n", f.fix.explanation));
        if !f.fix.commands.is_empty() {
            out.push_str("\n```sh\n");
            for c in &f.fix.commands {
                out.push_str(c);
                out.push('\n');
            }
            out.push_str("```\n");
        }
        out.push_str("\n<details><summary>Queries run</summary>\n\n");
        for s in &r.steps {
            out.push_str(&format!(
                "- `{}` → {}\n",
                s.query.kubectl,
                md_cell(&s.summary())
            ));
        }
        out.push_str("\n</details>\n\n");
    }
}

fn md_could_not_check(out: &mut String, report: &CheckReport) {
    let unchecked = report.could_not_check();
    if unchecked.is_empty() {
        return;
    }
    out.push_str("\n### Could not check\n\n| Playbook | Query | Error |\n|---|---|---|\n");
    for (r, failed) in unchecked {
        for f in failed {
            out.push_str(&format!(
                "| {} `{}` | `{}` | {} |\n",
                r.playbook.code,
                r.playbook.id,
                md_cell(&f.query).replace('`', "'"),
                md_cell(&f.error)
            ));
        }
    }
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn item_json(i: &HealthItem) -> Value {
    let details: serde_json::Map<String, Value> = i
        .details
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "severity": i.severity,
        "title": i.title,
        "reason": i.reason,
        "object": i.object,
        "playbooks": i.playbooks,
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sev: Severity, title: &str) -> HealthItem {
        HealthItem {
            severity: sev,
            title: title.into(),
            reason: "because | reasons".into(),
            object: Some(format!("Node/{title}")),
            playbooks: vec!["node-notready-no-cni".into()],
            details: vec![("kubelet".into(), "v1.31.4".into())],
        }
    }

    fn report(sev: Severity) -> CheckReport {
        CheckReport {
            cluster: ClusterInfo {
                source: "scenario".into(),
                name: "healthy".into(),
                ..Default::default()
            },
            health: HealthReport {
                nodes: vec![item(sev, "worker-2"), item(Severity::Ok, "cp-1")],
                ..Default::default()
            },
            findings: Vec::new(),
            ..Default::default()
        }
    }

    /// A 5,000-node cluster's text report lists its problems, not 5,000 OK lines: the OK
    /// items of a long section fold into one count; JSON keeps them all.
    #[test]
    fn long_sections_fold_their_ok_items() {
        let mut r = report(Severity::Ok);
        r.health.nodes = (0..5000)
            .map(|n| item(Severity::Ok, &format!("node-{n:05}")))
            .collect();
        r.health.nodes.push(item(Severity::Critical, "node-bad"));
        let text = r.to_text();
        assert!(text.contains("5,000 nodes OK"), "{text}");
        assert!(text.contains("node-bad"));
        assert!(!text.contains("node-00042"));
        assert!(text.lines().count() < 40, "{} lines", text.lines().count());
        let md = r.to_markdown();
        assert!(
            md.contains("5,000 nodes OK") && md.contains("node-bad") && !md.contains("node-00042")
        );
        let json = r.to_json().to_string();
        assert!(json.contains("node-00042"));
        // A short section still lists each OK item.
        r.health.nodes.truncate(3);
        assert!(r.to_text().contains("node-00002"));
    }

    #[test]
    fn exit_codes_follow_the_worst_item() {
        assert_eq!(report(Severity::Ok).exit_code(), 0);
        assert_eq!(report(Severity::Warning).exit_code(), 1);
        assert_eq!(report(Severity::Critical).exit_code(), 2);
    }

    #[test]
    fn json_has_the_four_sections_and_item_fields() {
        let v = report(Severity::Critical).to_json();
        for s in ["control_plane", "nodes", "addons", "restarts"] {
            assert!(v["health"][s].is_array(), "{s}");
        }
        let n = &v["health"]["nodes"][0];
        assert_eq!(n["severity"], "critical");
        assert_eq!(n["object"], "Node/worker-2");
        assert_eq!(n["playbooks"][0], "node-notready-no-cni");
        assert_eq!(n["details"]["kubelet"], "v1.31.4");
    }

    fn refused_run() -> Run {
        use crate::playbooks::engine::{Step, q};
        let pb = crate::playbooks::find("node-notready-no-cni").expect("NET-01");
        let steps = (pb.queries)(&Default::default())
            .into_iter()
            .map(|query| {
                Step::new(
                    query,
                    &crate::playbooks::Outcome::Failed {
                        code: 403,
                        message: "forbidden | by RBAC".into(),
                    },
                )
            })
            .collect::<Vec<_>>();
        assert!(steps.iter().any(|s| s.query == q::nodes()));
        Run {
            playbook: pb,
            steps,
            finding: None,
        }
    }

    #[test]
    fn could_not_check_follows_the_findings_in_every_format() {
        let mut r = report(Severity::Ok);
        r.could_not_check = vec![refused_run()];
        let v = r.to_json();
        let e = &v["could_not_check"][0];
        assert_eq!(e["playbook"], "node-notready-no-cni");
        assert_eq!(e["code"], "NET-01");
        assert_eq!(e["failed"][0]["query"], "kubectl get nodes -o yaml");
        assert_eq!(e["failed"][0]["error"], "403: forbidden | by RBAC");
        let t = r.to_text();
        let (findings, rest) = t.split_once("\nFindings\n").unwrap();
        assert!(!findings.contains("Could not check"), "{t}");
        assert!(
            rest.contains("\nCould not check\n  NET-01 node-notready-no-cni"),
            "{t}"
        );
        assert!(
            rest.contains("    kubectl get nodes -o yaml: 403: forbidden | by RBAC\n"),
            "{t}"
        );
        assert!(t.contains("0 findings, 1 could not check"), "{t}");
        let m = r.to_markdown();
        assert!(
            m.contains("| NET-01 `node-notready-no-cni` | `kubectl get nodes -o yaml` | 403: forbidden \\| by RBAC |"),
            "{m}"
        );
        // Exit codes are unchanged: nothing was found.
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn text_and_markdown_show_severity_in_words() {
        let r = report(Severity::Critical);
        let t = r.to_text();
        assert!(t.contains("[CRITICAL] worker-2"), "{t}");
        assert!(t.contains("-> node-notready-no-cni"), "{t}");
        let m = r.to_markdown();
        assert!(
            m.contains("| critical | worker-2 | because \\| reasons |"),
            "{m}"
        );
    }
}
