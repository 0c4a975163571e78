//! Bad input through the real binary: certificate files that are FIFOs, and arbitrary bytes
//! fed to the snapshot parser and the kubeconfig loader (a seeded generator in-tree: the
//! same inputs on every run, bounded in time) — nothing hangs, nothing panics, every refusal
//! names the file.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// A kubeconfig whose `certificate-authority` is a FIFO nobody writes to: kube's loader
/// opened it and waited forever (`check --timeout 5` hung with no output); now the file is
/// refused at once, by name.
#[test]
fn a_fifo_as_certificate_authority_is_refused_not_waited_on() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(common::serve(common::scenario("healthy")));
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("ca.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    let kc: String = server
        .kubeconfig
        .lines()
        .map(|l| match l.split_once("certificate-authority-data:") {
            Some((indent, _)) => format!("{indent}certificate-authority: {}", fifo.display()),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, kc).expect("kubeconfig written");
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("--kubeconfig")
        .arg(&path)
        .args(["check", "--timeout", "5"])
        .env("KTRIAGE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ktriage runs");
    // Never a hang: past the timeout and a margin, the child is killed and the test fails.
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("check --timeout 5 still running after 15 s with a FIFO as CA file");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("ca.fifo") && text.contains("FIFO"),
        "the FIFO is named:\n{text}"
    );
}

// ---- Property tests with arbitrary input: a seeded generator, bounded in time. ----

/// xorshift64*: the same inputs for the same seed, on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that steer mutations into the parsers' corners: YAML and JSON structure,
/// document separators, anchors and aliases, tags, numbers and timestamps at their limits.
const TOKENS: &[&str] = &[
    "---\n",
    "...\n",
    "{",
    "}",
    "[",
    "]",
    ": ",
    ", ",
    "- ",
    "\"",
    "'",
    "\n",
    "  ",
    "\t",
    "&a ",
    "*a",
    "!!binary ",
    "!!str ",
    "<<: *a\n",
    "kind: ",
    "apiVersion: v1\n",
    "kind: List\n",
    "items:\n",
    "metadata:\n",
    "name: ",
    "namespace: ",
    "creationTimestamp: ",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "1e999",
    "-0",
    "18446744073709551616",
    "null",
    "~",
    "true",
    "\u{feff}",
    "\u{0}",
    "\u{fffd}",
    "ktriage/v1",
    "PodLog",
    "Response",
    "SnapshotInfo",
    "Connection",
    "NodeLog",
    "capturedAt: ",
    "captured: [",
    "text: |\n  ",
    "body: {",
    "code: 99999",
    "%YAML 1.2\n",
    "? ",
    "|-\n",
    ">\n",
];

/// One input: a mutation of a seed document, or structure from scratch.
fn arbitrary(rng: &mut Rng, seeds: &[String]) -> String {
    match rng.below(6) {
        // Deep nesting, which recursion-happy parsers die on.
        0 => {
            let depth = 1 + rng.below(200_000);
            let open = *rng.pick(&["[", "{\"a\":", "- ", "a:\n ", "{a: "]);
            open.repeat(depth)
        }
        // Tokens strung together.
        1 => (0..rng.below(400))
            .map(|_| *rng.pick(TOKENS))
            .collect::<String>(),
        // Random bytes (lossy UTF-8, as the reader refuses invalid UTF-8 before parsing).
        2 => {
            let bytes: Vec<u8> = (0..rng.below(4096)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // A seed with bytes flipped, cut, tokens spliced in, or spans repeated.
        _ => {
            let mut s: Vec<u8> = rng.pick(seeds).as_bytes().to_vec();
            for _ in 0..1 + rng.below(12) {
                if s.is_empty() {
                    break;
                }
                let at = rng.below(s.len());
                match rng.below(5) {
                    0 => s[at] = rng.next() as u8,
                    1 => s.truncate(at),
                    2 => {
                        let t = rng.pick(TOKENS).as_bytes();
                        s.splice(at..at, t.iter().copied());
                    }
                    3 => {
                        let end = (at + rng.below(200)).min(s.len());
                        let span = s[at..end].to_vec();
                        for _ in 0..rng.below(50) {
                            s.splice(at..at, span.iter().copied());
                        }
                    }
                    _ => {
                        let end = (at + rng.below(100)).min(s.len());
                        s.drain(at..end);
                    }
                }
            }
            String::from_utf8_lossy(&s).into_owned()
        }
    }
}

fn fixture_texts(dir: &str, ext: &[&str]) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ext.contains(&x))
                && let Ok(t) = std::fs::read_to_string(&p)
                && t.len() < 512 * 1024
            {
                out.push(t);
            }
        }
    }
    out.sort();
    out
}

/// How long a fuzz run lasts: `KTRIAGE_FUZZ_SECS` (CI's default is short; run it for hours
/// locally), and the seed `KTRIAGE_FUZZ_SEED` (printed, so a failure can be replayed).
fn fuzz_budget() -> (Duration, u64) {
    let secs = std::env::var("KTRIAGE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let seed = std::env::var("KTRIAGE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x006b_7472_6961_6765);
    (Duration::from_secs(secs), seed)
}

/// Runs `property` over arbitrary inputs until the budget is spent; on a panic or an input
/// slower than `slow`, saves the input under `target/fuzz-crashes/` and fails naming it.
fn fuzz(name: &str, seeds: &[String], slow: Duration, property: impl Fn(&str)) {
    let (budget, seed) = fuzz_budget();
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget {
        let input = arbitrary(&mut rng, seeds);
        let t = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&input)));
        let took = t.elapsed();
        runs += 1;
        if result.is_err() || took > slow {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{name}-{seed}-{runs}.txt"));
            let _ = std::fs::write(&file, &input);
            panic!(
                "{name}: input {runs} (seed {seed}) {} after {took:?}; saved to {}",
                if result.is_err() {
                    "panicked"
                } else {
                    "was too slow"
                },
                file.display()
            );
        }
    }
    eprintln!(
        "{name}: {runs} arbitrary inputs in {:?} (seed {seed})",
        started.elapsed()
    );
    assert!(runs > 20, "{name}: only {runs} inputs in the budget");
}

/// The snapshot parser and what reads its result (the clock, the cluster state, the health
/// model) never panic and answer in bounded time, whatever the text.
#[test]
fn the_snapshot_parser_survives_arbitrary_input() {
    let mut seeds = fixture_texts("tests/fixtures/snapshot", &["yaml", "yml", "json"]);
    seeds.extend(
        fixture_texts("tests/fixtures/corpus", &["yaml"])
            .into_iter()
            .take(6),
    );
    assert!(!seeds.is_empty(), "snapshot fixtures found");
    fuzz("snapshot", &seeds, Duration::from_secs(10), |text| {
        if let Ok(snap) = ktriage::snapshot::Snapshot::parse_str(text, "fuzz.yaml") {
            let now = snap.clock().unwrap_or_else(chrono::Utc::now);
            let state = ktriage::cluster::state::ClusterState::from_snapshot(&snap);
            let _ = ktriage::health::build(&state, now);
        }
    });
}

/// The kubeconfig loader (parse, the doctor's target, the client's configuration) never
/// panics and answers in bounded time, whatever the text. Nothing is run: inputs with an
/// exec plugin or an auth provider are only parsed.
#[test]
fn the_kubeconfig_loader_survives_arbitrary_input() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(common::serve(common::scenario("healthy")));
    let mut seeds = vec![server.kubeconfig.clone()];
    seeds.push(
        server
            .kubeconfig
            .replace("current-context:", "preferences: {}\ncurrent-context:"),
    );
    fuzz("kubeconfig", &seeds, Duration::from_secs(10), |text| {
        let Ok(kc) = ktriage::cluster::client::parse_kubeconfig(text) else {
            return;
        };
        let _ = ktriage::cluster::doctor::Target::from_kubeconfig(&kc, None);
        let runs_something = kc.auth_infos.iter().any(|a| {
            a.auth_info
                .as_ref()
                .is_some_and(|i| i.exec.is_some() || i.auth_provider.is_some())
        });
        if !runs_something {
            let _ = rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    ktriage::cluster::client::connect(kc, None),
                )
                .await
            });
        }
    });
}
