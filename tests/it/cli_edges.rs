//! The command-line and input edges of reviews 13 and 15, driven through the real binary:
//! a closed pipe, an unreachable cluster, kubeconfig merging and its errors, deadlines on
//! exec plugins and token files, snapshot input limits, exit codes and report wording.

use crate::common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("KTRIAGE_LOG", "warn")
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    for v in ktriage::cluster::proxy::PROXY_VARIABLES {
        cmd.env_remove(v);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("ktriage runs")
}

fn ktriage(args: &[&str]) -> Output {
    run(&mut command(args))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn snapshot_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snapshot/list.yaml")
        .display()
        .to_string()
}

/// A kubeconfig whose only context points at `server` with `user` (YAML under `user:`).
fn kubeconfig(dir: &Path, server: &str, user: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n{user}contexts:\n- name: first\n  context: {{cluster: c, user: u}}\n- name: second\n  context: {{cluster: c, user: u}}\ncurrent-context: first\n"
        ),
    )
    .unwrap();
    path
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The server's kubeconfig with its user stanza replaced.
fn with_user(handle_kubeconfig: &str, user_body: &str) -> String {
    let start = handle_kubeconfig.find("  user:\n").expect("user stanza") + "  user:\n".len();
    let end = handle_kubeconfig.find("contexts:").expect("contexts");
    format!(
        "{}{}{}",
        &handle_kubeconfig[..start],
        user_body,
        &handle_kubeconfig[end..]
    )
}

#[test]
fn writing_to_a_closed_pipe_ends_quietly() {
    let snap = snapshot_fixture();
    let cases: Vec<Vec<&str>> = vec![
        vec!["scenarios"],
        vec!["playbooks"],
        vec!["playbooks", "-o", "json"],
        vec!["check", "--snapshot", &snap],
        vec!["check", "--snapshot", &snap, "-o", "json"],
        vec!["check", "--snapshot", &snap, "-o", "markdown"],
        vec!["explain", "x509: certificate signed by unknown authority"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["theme", "list"],
        vec!["--help"],
    ];
    for args in cases {
        // The reader is gone before ktriage writes a byte.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = run(command(&args).stdout(writer));
        let err = text(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn an_unreachable_cluster_says_the_check_could_not_run_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let server = format!("https://127.0.0.1:{}", closed_port());
    let kc = kubeconfig(dir.path(), &server, "    token: abc\n");
    let kc = kc.to_str().unwrap();
    let out = ktriage(&["--kubeconfig", kc, "check"]);
    assert_eq!(out.status.code(), Some(3));
    let t = text(&out.stdout);
    let summary = t.lines().nth(2).unwrap_or_default();
    assert!(
        summary.starts_with("Overall: could not run:") && summary.contains("connection refused"),
        "{t}"
    );
    assert!(
        !t.contains("Overall: ok") && !t.contains("Overall: critical"),
        "{t}"
    );

    let out = ktriage(&["--kubeconfig", kc, "check", "-o", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"], "could not run");
    assert_eq!(v["exit_code"], 3);
    assert!(
        v["could_not_run"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{v:#}"
    );

    let out = ktriage(&["--kubeconfig", kc, "check", "-o", "markdown"]);
    assert_eq!(out.status.code(), Some(3));
    let md = text(&out.stdout);
    assert!(md.contains("- Overall: **could not run**: "), "{md}");
    assert!(md.contains("connection refused"), "{md}");
}

#[test]
fn a_snapshot_that_cannot_be_loaded_is_could_not_run_in_json() {
    let out = ktriage(&["check", "--snapshot", "/no/such/snapshot", "-o", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overall"], "could not run");
    assert!(
        v["could_not_run"]
            .as_str()
            .unwrap()
            .contains("/no/such/snapshot")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_merges_like_kubectl_and_names_what_is_wrong() {
    let handle = common::serve(common::scenario("healthy")).await;
    let (_dir, real) = common::kubeconfig_file(&handle);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    // A file of KUBECONFIG that does not exist is skipped, as kubectl does.
    let joined = std::env::join_paths([&missing, &real]).unwrap();
    let mut cmd = command(&["check", "-o", "json"]);
    cmd.env("KUBECONFIG", &joined);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A file that cannot be parsed is named.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "clusters: [\n  - name: x\n").unwrap();
    let joined = std::env::join_paths([&real, &bad]).unwrap();
    let mut cmd = command(&["check"]);
    cmd.env("KUBECONFIG", &joined);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains(&bad.display().to_string()), "{err}");

    // A read error says its cause once.
    let out = ktriage(&["--kubeconfig", missing.to_str().unwrap(), "check"]);
    let err = text(&out.stderr);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");

    // A missing token file is blamed on itself, never on an exec plugin.
    let token = dir.path().join("no-token");
    let kc = dir.path().join("token.kubeconfig");
    std::fs::write(
        &kc,
        with_user(
            &handle.kubeconfig,
            &format!("    tokenFile: {}\n", token.display()),
        ),
    )
    .unwrap();
    let mut cmd = command(&["--kubeconfig", kc.to_str().unwrap(), "check"]);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(all.contains(&token.display().to_string()), "{all}");
    assert!(!all.contains("exec"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_covers_a_hanging_exec_plugin_and_a_fifo_token_file() {
    let handle = common::serve(common::scenario("healthy")).await;
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("plugin.pid");
    let kc = dir.path().join("exec.kubeconfig");
    std::fs::write(
        &kc,
        with_user(
            &handle.kubeconfig,
            &format!(
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [\"-c\", \"echo $$ > {}; exec sleep 300\"]\n      interactiveMode: Never\n",
                pid_file.display()
            ),
        ),
    )
    .unwrap();
    let mut cmd = command(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "check",
        "--timeout",
        "3",
    ]);
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let t = text(&out.stdout);
    assert!(t.contains("no answer within 3 s"), "{t}");
    // The plugin was killed, not left behind.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    let until = Instant::now() + Duration::from_secs(10);
    while Path::new(&proc_dir).exists()
        && !std::fs::read_to_string(format!("{proc_dir}/stat")).is_ok_and(|s| s.contains(") Z "))
    {
        assert!(Instant::now() < until, "the exec plugin {pid} still runs");
        std::thread::yield_now();
    }

    // A FIFO as tokenFile is refused at once, naming it.
    let fifo = dir.path().join("token-fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let kc = dir.path().join("fifo.kubeconfig");
    std::fs::write(
        &kc,
        with_user(
            &handle.kubeconfig,
            &format!("    tokenFile: {}\n", fifo.display()),
        ),
    )
    .unwrap();
    let mut cmd = command(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "check",
        "--timeout",
        "5",
    ]);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let t = text(&out.stdout);
    assert!(
        t.contains(&fifo.display().to_string()) && t.contains("FIFO"),
        "{t}"
    );
}

#[test]
fn snapshot_inputs_are_limited() {
    let dir = tempfile::tempdir().unwrap();
    // A device and a FIFO are refused at once.
    let out = ktriage(&["check", "--snapshot", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("not a regular file"),
        "{}",
        text(&out.stderr)
    );
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = ktriage(&["check", "--snapshot", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("FIFO"), "{}", text(&out.stderr));

    // A file over the cap (sparse: no disk used) is refused, the limit named.
    let big = dir.path().join("big.yaml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(ktriage::snapshot::SNAPSHOT_LIMIT + 1).unwrap();
    let out = ktriage(&["check", "--snapshot", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("limit of 2 GiB"),
        "{}",
        text(&out.stderr)
    );

    // Deeply nested JSON: the JSON error with its line, fast, without a YAML attempt.
    let deep = dir.path().join("deep.json");
    std::fs::write(&deep, "{\"a\":".repeat(100_000)).unwrap();
    let started = Instant::now();
    let out = ktriage(&["check", "--snapshot", deep.to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("line 1") && err.contains("nested"), "{err}");

    // Broken JSON reports the JSON error, not a YAML one.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"kind\": \"List\",\n \"items\": [1,]}\n").unwrap();
    let err = text(&ktriage(&["check", "--snapshot", broken.to_str().unwrap()]).stderr);
    assert!(err.contains("line 2"), "{err}");

    // Nothing in it: an error, not a report.
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing\n---\n").unwrap();
    let out = ktriage(&["check", "--snapshot", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("empty snapshot"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_have_their_own_exit_code_and_help_lists_the_codes() {
    assert_eq!(ktriage(&["chek"]).status.code(), Some(64));
    let out = ktriage(&["check", "--output", "yaml"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).contains("yaml"));
    for args in [&["--help"][..], &["check", "--help"][..]] {
        let help = text(&ktriage(args).stdout);
        assert!(
            help.contains("Exit codes:") && help.contains("64  usage error"),
            "{help}"
        );
    }
}

#[test]
fn a_misspelt_scenario_gets_a_suggestion_and_a_list() {
    for args in [
        &["check", "--scenario", "crashlop"][..],
        &["demo", "--scenario", "crashlop"][..],
    ] {
        let out = ktriage(args);
        assert_eq!(out.status.code(), Some(3));
        let err = text(&out.stderr);
        assert!(err.contains("did you mean crashloop?"), "{err}");
        assert!(err.lines().any(|l| l.trim() == "healthy"), "{err}");
        assert!(!err.contains("ktriage demo"), "{err}");
    }
}

#[test]
fn an_unknown_context_lists_the_kubeconfigs_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let server = format!("https://127.0.0.1:{}", closed_port());
    let kc = kubeconfig(dir.path(), &server, "    token: abc\n");
    let out = ktriage(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--context",
        "nope",
        "check",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("\"nope\""), "{err}");
    assert!(err.lines().any(|l| l.trim() == "first"), "{err}");
    assert!(err.lines().any(|l| l.trim() == "second"), "{err}");
}

#[test]
fn reports_lead_with_the_summary_round_confidences_and_filter_by_severity() {
    let out = ktriage(&["check", "--scenario", "crashloop"]);
    let code = out.status.code();
    let t = text(&out.stdout);
    let summary = t.lines().nth(2).unwrap_or_default();
    assert!(summary.starts_with("Overall: critical ("), "{t}");
    assert!(
        !t.contains(" 1 findings") && !t.contains(" 1 warnings"),
        "{t}"
    );
    assert!(t.contains("[OK      ]"), "{t}");

    let json = ktriage(&["check", "--scenario", "crashloop", "-o", "json"]);
    let raw = text(&json.stdout);
    let v: Value = serde_json::from_str(&raw).unwrap();
    for f in v["findings"].as_array().unwrap() {
        let c = f["confidence"].as_f64().unwrap();
        assert_eq!(c, (c * 100.0).round() / 100.0, "{c}");
    }
    assert!(!raw.contains("99999"), "{raw}");

    // Only critical shown; the exit code still counts everything.
    let out = ktriage(&[
        "check",
        "--scenario",
        "crashloop",
        "--min-severity",
        "critical",
    ]);
    assert_eq!(out.status.code(), code);
    let t = text(&out.stdout);
    assert!(!t.contains("[OK      ]") && t.contains("[CRITICAL]"), "{t}");
    assert!(t.contains("showing critical and above"), "{t}");
}
