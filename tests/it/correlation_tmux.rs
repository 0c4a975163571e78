//! Issue 12, "Correlation": in the real binary, in a real terminal (tmux), a health item a
//! finding explains says so in its Overview row (`— because … → NET-01`) and Enter in its
//! detail opens that finding; an item no finding explains lists its candidate playbooks with
//! their verdicts instead of opening one guess. On `node-notready-no-cni` the CoreDNS and
//! metrics-server items open NET-01 (not the DNS or kubelet-port playbooks they link); on
//! `node-notready-demo` worker-2 opens NET-13, which names the stopped kubelet.

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");
const WAIT: Duration = Duration::from_secs(60);

fn start(scenario: &str) -> Tmux {
    let t = Tmux::start(160, 45, &[]);
    t.run(
        BIN,
        &[
            "demo",
            "--scenario",
            scenario,
            "--log-file",
            &t.dir().join("ktriage.log").display().to_string(),
        ],
    );
    t
}

/// The row of a pane that starts with `title` after its marker, from the marker to the
/// pane's right border.
fn row<'a>(screen: &'a str, title: &str) -> Option<&'a str> {
    screen.lines().find_map(|l| {
        let at = l.find(&format!("] {title}"))?;
        let start = l[..at].rfind('[')?;
        let rest = &l[start..];
        let end = rest.find(['│', '║']).unwrap_or(rest.len());
        Some(&rest[..end])
    })
}

/// The selected row (`>[`) of the focused pane.
fn selected(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        let i = l.find(">[")?;
        let rest = &l[i..];
        let end = rest.find(['│', '║']).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    })
}

/// Focuses pane `pane` (its number key) and moves down until the selected row is `title`.
fn select(t: &Tmux, pane: &str, title: &str) {
    t.send_keys(&[pane, "g"]);
    t.wait_until("the pane focused on its first row", WAIT, |s| {
        selected(s).is_some()
    });
    for _ in 0..40 {
        let current = selected(&t.capture()).unwrap_or_default();
        if current.contains(&format!("] {title}")) {
            return;
        }
        // Rows re-sort as the model changes: at the end of the list, start again at the top.
        t.send_keys(&["j"]);
        let moved = std::time::Instant::now();
        while selected(&t.capture()).unwrap_or_default() == current
            && moved.elapsed() < Duration::from_secs(3)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        if selected(&t.capture()).unwrap_or_default() == current {
            t.send_keys(&["g"]);
        }
    }
    panic!("{title} never selected:\n{}", t.capture());
}

/// Selects `title` in pane `pane` and opens its detail. Rows move while the model changes
/// (a restart count grows, a node turns NotReady): a detail of another item is closed and
/// the selection made again.
fn open_detail(t: &Tmux, pane: &str, title: &str) {
    for _ in 0..5 {
        select(t, pane, title);
        t.send_keys(&["Enter"]);
        let screen = t.wait_until("a detail", WAIT, |s| s.contains("Esc close"));
        let heading = screen
            .lines()
            .find(|l| l.contains("╔ "))
            .unwrap_or_default();
        if heading.contains(title) {
            return;
        }
        t.send_keys(&["Escape"]);
        t.wait_until("the detail closed", WAIT, |s| !s.contains("Esc close"));
    }
    panic!("the detail of {title} never opened:\n{}", t.capture());
}

/// Enter on `title` in pane `pane`, Enter again in its detail: the runner of `code id` with a
/// cause that contains `cause`; Esc back to the Overview.
fn enter_opens_finding(t: &Tmux, pane: &str, title: &str, code: &str, id: &str, cause: &str) {
    open_detail(t, pane, title);
    let detail = t.wait_until("the detail with its cause", WAIT, |s| {
        s.contains("Because") && s.contains("Enter its finding")
    });
    assert!(
        detail
            .lines()
            .any(|l| l.contains("Because") && l.contains(code)),
        "the detail names {code}:\n{detail}"
    );
    t.send_keys(&["Enter"]);
    let runner = t.wait_until(&format!("the runner of {code}"), WAIT, |s| {
        s.contains(&format!("{code} {id}")) && s.contains("Cause") && s.contains(cause)
    });
    assert!(!runner.contains("Cause not present"), "{runner}");
    t.send_keys(&["Escape"]);
    t.wait_until("the Overview again", WAIT, |s| {
        s.contains("Control plane (")
    });
}

#[test]
fn no_cni_coredns_and_metrics_server_open_the_net01_finding() {
    let t = start("node-notready-no-cni");
    let screen = t.wait_until("the add-ons explained by NET-01", WAIT, |s| {
        ["DNS: coredns", "metrics-server"]
            .iter()
            .all(|title| row(s, title).is_some_and(|r| r.contains("→ NET-01")))
    });
    let dns = row(&screen, "DNS: coredns").unwrap_or_default();
    assert!(dns.contains("— because"), "{dns}\n{screen}");
    for title in ["DNS: coredns", "metrics-server"] {
        enter_opens_finding(
            &t,
            "3",
            title,
            "NET-01",
            "node-notready-no-cni",
            "No CNI plugin",
        );
    }
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn notready_demo_worker2_opens_the_stopped_kubelet_and_an_unexplained_item_its_candidates() {
    let t = start("node-notready-demo");
    t.wait_until("worker-2 explained by NET-13", WAIT, |s| {
        row(s, "worker-2").is_some_and(|r| r.contains("→ NET-13") && r.contains("because"))
    });
    enter_opens_finding(
        &t,
        "2",
        "worker-2",
        "NET-13",
        "node-status-unknown",
        "kubelet on worker-2",
    );

    // The crash-looping checkout pod: no finding explains it (one restart is no loop yet),
    // so Enter lists its candidates with their verdicts instead of opening one.
    let screen = t.wait_until("the checkout restarts", WAIT, |s| {
        row(s, "checkout").is_some_and(|r| r.contains("[WARN]"))
    });
    let checkout = row(&screen, "checkout").unwrap_or_default().to_string();
    assert!(!checkout.contains("because"), "{checkout}");
    open_detail(&t, "4", "checkout");
    let detail = t.capture();
    assert!(detail.contains("no finding explains it"), "{detail}");
    t.send_keys(&["Enter"]);
    let list = t.wait_until("the candidate playbooks", WAIT, |s| {
        s.contains("No finding explains") && s.contains("VERDICT")
    });
    let crashloop = list
        .lines()
        .find(|l| l.contains("WL-01") && l.contains("crashloop"))
        .unwrap_or_else(|| panic!("crashloop is a candidate:\n{list}"));
    assert!(crashloop.contains("not present"), "{list}");
    assert!(
        !list.contains("Cause"),
        "no runner opened on a guess:\n{list}"
    );
    t.send_keys(&["Escape", "q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}
