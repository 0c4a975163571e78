//! The list views of the real binary in a real terminal (tmux): `:pods` lists the demo
//! cluster's pods, `/` narrows the list as you type, Enter shows the object's YAML fetched
//! from the API server without managedFields, `y` copies the name through OSC 52 into
//! tmux's buffer, `:ns` limits the lists to a namespace, `:ctx` switches between the
//! contexts of a kubeconfig (refusing, with the doctor's cause, one that cannot be used), and
//! `:fleet` shows every context's health on one screen.

use crate::common;

use std::time::Duration;

use common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_ktriage");

/// The data rows of a list screen: lines between the header and the bottom border.
fn rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .skip_while(|l| !l.contains("NAME"))
        .skip(1)
        .take_while(|l| !l.starts_with('╚'))
        .map(|l| {
            l.trim_matches(|c| c == '║' || c == ' ' || c == '▶')
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// The number in the list title's `[N]` or `[shown/N]`.
fn title_counts(screen: &str) -> (usize, usize) {
    let title = screen.lines().next().unwrap_or_default();
    let inside = title
        .split_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(c, _)| c)
        .unwrap_or_else(|| panic!("no count in the title: {title}"));
    match inside.split_once('/') {
        Some((shown, total)) => (shown.parse().unwrap(), total.parse().unwrap()),
        None => {
            let n = inside.parse().unwrap();
            (n, n)
        }
    }
}

fn demo(t: &Tmux) {
    demo_with(t, &[]);
}

fn demo_with(t: &Tmux, extra: &[&str]) {
    let log = t.dir().join("ktriage.log").display().to_string();
    let mut args = vec!["demo", "--log-file", &log];
    args.extend_from_slice(extra);
    t.run(BIN, &args);
    t.wait_for("Restarts", Duration::from_secs(30));
}

#[test]
fn dash_n_starts_the_lists_in_a_namespace() {
    let t = Tmux::start(120, 36, &[]);
    demo_with(&t, &["-n", "shop"]);
    command(&t, "pods");
    let pods = t.wait_until("the shop pods", Duration::from_secs(10), |s| {
        s.contains("Pods(shop)[") && !rows(s).is_empty()
    });
    assert!(
        rows(&pods).iter().all(|r| !r.contains("kube-")),
        "only the shop namespace: {pods}"
    );
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

fn command(t: &Tmux, cmd: &str) {
    t.send_keys(&[":"]);
    t.send_literal(cmd);
    t.send_keys(&["Enter"]);
}

#[test]
fn slash_narrows_the_pods_list_and_enter_shows_the_full_yaml() {
    let t = Tmux::start(140, 45, &[]);
    t.tmux(&["set-option", "-g", "set-clipboard", "on"]);
    demo(&t);
    command(&t, "pods");
    let all = t.wait_until("the pods list", Duration::from_secs(10), |s| {
        s.contains("Pods(all)[") && rows(s).len() > 20
    });
    let (_, total) = title_counts(&all);
    assert!(total > 20, "{all}");
    assert!(rows(&all).iter().any(|r| r.contains("kube-apiserver-cp-1")));

    // Typing narrows at each key: "core" already leaves only the CoreDNS pods.
    t.send_keys(&["/"]);
    t.send_literal("core");
    let narrowed = t.wait_until("the filtered list", Duration::from_secs(10), |s| {
        s.contains("/core") && title_counts(s).0 < total
    });
    let shown = rows(&narrowed);
    assert_eq!(shown.len(), title_counts(&narrowed).0, "{narrowed}");
    assert!(!shown.is_empty(), "{narrowed}");
    assert!(shown.iter().all(|r| r.contains("coredns")), "{narrowed}");
    t.send_keys(&["Enter"]); // keep the filter
    let name = shown[0]
        .split_whitespace()
        .find(|w| w.starts_with("coredns-"))
        .unwrap()
        .to_string();

    // y copies the selected pod's name.
    t.send_keys(&["y"]);
    t.wait_for("Copied (OSC 52)", Duration::from_secs(5));
    assert_eq!(t.tmux(&["show-buffer"]).trim_end(), name);

    // Enter: the whole object from the API server, without managedFields.
    t.send_keys(&["Enter"]);
    let yaml = t.wait_for("from the API server", Duration::from_secs(10));
    assert!(yaml.contains(&format!("Pod kube-system/{name}")), "{yaml}");
    assert!(yaml.contains("kind: Pod"), "{yaml}");
    assert!(!yaml.contains("managedFields"), "{yaml}");
    t.send_keys(&["G"]);
    let end = t.wait_until("the end of the YAML", Duration::from_secs(5), |s| {
        s.contains("from the API server") && !s.contains("apiVersion: v1")
    });
    assert!(!end.contains("managedFields"), "{end}");

    // Esc closes the YAML, Esc clears the filter, Esc goes back to the Overview.
    t.send_keys(&["Escape"]);
    t.wait_until("the filtered list again", Duration::from_secs(5), |s| {
        s.contains("/core") && s.contains("Pods(all)")
    });
    t.send_keys(&["Escape"]);
    t.wait_until("the whole list again", Duration::from_secs(5), |s| {
        title_counts(s) == (total, total)
    });
    t.send_keys(&["Escape"]);
    t.wait_for("Control plane", Duration::from_secs(5));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

#[test]
fn ns_limits_the_lists_and_sort_reorders_them() {
    let t = Tmux::start(140, 45, &[]);
    demo(&t);
    command(&t, "ns kube-system");
    t.wait_for("namespace: kube-system", Duration::from_secs(5));
    command(&t, "leases");
    // Wait for the leases themselves, not for the list: under load the view can open before
    // the leases' first list arrived ("no leases in namespace kube-system").
    let leases = t.wait_until("the leases list", Duration::from_secs(30), |s| {
        s.contains("Leases(kube-system)[")
            && !s.contains("Leases(kube-system)[0]")
            && !rows(s).is_empty()
    });
    // One namespace: no NAMESPACE column, the name comes first.
    assert!(!leases.contains("NAMESPACE"), "{leases}");
    let shown = rows(&leases);
    let names: Vec<&str> = shown
        .iter()
        .filter_map(|r| r.split_whitespace().next())
        .map(|n| {
            if n.starts_with("kube-") || n.starts_with("apiserver-") {
                n
            } else {
                "other"
            }
        })
        .collect();
    assert!(names.contains(&"kube-controller-manager"), "{leases}");
    assert!(
        !names.contains(&"other"),
        "node heartbeats (kube-node-lease) are not in kube-system: {leases}"
    );

    // Events, newest first; `s` moves the sort to the next column (TYPE after LAST SEEN).
    command(&t, "ns all");
    command(&t, "events");
    let events = t.wait_until("the events list", Duration::from_secs(10), |s| {
        s.contains("Events(all)[") && s.contains("LAST SEEN↑")
    });
    assert!(!rows(&events).is_empty(), "{events}");
    t.send_keys(&["s"]);
    t.wait_for("TYPE↑", Duration::from_secs(5));
    t.send_keys(&["S"]);
    let by_type = t.wait_for("TYPE↓", Duration::from_secs(5));
    let types: Vec<String> = rows(&by_type)
        .iter()
        .filter_map(|r| {
            r.split_whitespace()
                .find(|w| *w == "Normal" || *w == "Warning")
                .map(str::to_string)
        })
        .collect();
    let mut sorted = types.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(types, sorted, "{by_type}");
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
}

/// Two served clusters and a closed port, as three kubeconfig files merged by KUBECONFIG
/// the way kubectl merges them: contexts `prod`, `staging` and `down`.
struct Clusters {
    _rt: tokio::runtime::Runtime,
    first: ktriage::server::ServerHandle,
    second: ktriage::server::ServerHandle,
    _dir: tempfile::TempDir,
    kubeconfig: String,
}

fn clusters() -> Clusters {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let first = rt.block_on(common::serve(common::scenario("healthy")));
    let second = rt.block_on(common::serve(common::scenario("node-notready-demo")));
    let dir = tempfile::tempdir().unwrap();
    // Each user keeps its own name; a third context points at a closed port.
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        first
            .kubeconfig
            .replace("ktriage-healthy", "prod")
            .replace("kubernetes-admin", "prod-admin"),
    )
    .unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let second_kc = second
        .kubeconfig
        .replace("ktriage-node-notready-demo", "staging")
        .replace("kubernetes-admin", "staging-admin");
    let down = second_kc
        .replace("staging", "down")
        .replace(&second.url(), &format!("https://127.0.0.1:{closed}"));
    std::fs::write(&b, &second_kc).unwrap();
    let c = dir.path().join("c.yaml");
    std::fs::write(&c, down).unwrap();
    let kubeconfig = format!("{}:{}:{}", a.display(), b.display(), c.display());
    Clusters {
        _rt: rt,
        first,
        second,
        _dir: dir,
        kubeconfig,
    }
}

#[test]
fn fleet_shows_every_context_and_enter_switches() {
    let c = clusters();
    let t = Tmux::start(140, 45, &[("KUBECONFIG", c.kubeconfig.as_str())]);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(BIN, &["--log-file", &log]);
    t.wait_until("the first context", Duration::from_secs(30), |s| {
        s.contains("Restarts") && s.contains("prod")
    });
    command(&t, "fleet");
    let fleet = t.wait_until("every context examined", Duration::from_secs(60), |s| {
        s.contains("Fleet (3 contexts)") && !s.contains("examining")
    });
    let line = |name: &str| {
        fleet
            .lines()
            .find(|l| l.contains(&format!(" {name} ")) || l.contains(&format!("*{name} ")))
            .unwrap_or_else(|| panic!("no line for {name}:\n{fleet}"))
            .to_string()
    };
    assert!(
        line("prod").contains("*prod"),
        "the current context is marked: {fleet}"
    );
    assert!(line("prod").contains("6/6"), "{fleet}");
    assert!(line("staging").contains("/6"), "{fleet}");
    assert!(
        line("down").contains("cannot be used") && line("down").contains("refused"),
        "{fleet}"
    );
    // j selects staging (the lines keep the kubeconfig's order), Enter switches to it.
    t.send_keys(&["j", "Enter"]);
    t.wait_for("context: staging", Duration::from_secs(30));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    drop(c);
}

#[test]
fn ctx_switches_context_and_refuses_one_that_cannot_be_used() {
    let c = clusters();
    let (first, second) = (&c.first, &c.second);
    let joined = c.kubeconfig.clone();
    let t = Tmux::start(140, 45, &[("KUBECONFIG", joined.as_str())]);
    let log = t.dir().join("ktriage.log").display().to_string();
    t.run(BIN, &["--log-file", &log]);
    t.wait_until("the first context", Duration::from_secs(30), |s| {
        s.contains("Restarts") && s.contains("prod")
    });

    let watched = |handle: &ktriage::server::ServerHandle| {
        handle
            .requests()
            .iter()
            .any(|r| r.resource == "pods" && r.verb == "watch")
    };
    assert!(
        !watched(second),
        "nothing reads the second cluster before :ctx"
    );
    // Tab completes the context name.
    t.send_keys(&[":"]);
    t.send_literal("ctx sta");
    t.send_keys(&["Tab", "Enter"]);
    let switched = t.wait_for("context: staging", Duration::from_secs(30));
    let status = switched.lines().last().unwrap_or_default();
    assert!(
        status.contains("staging") && !status.contains("prod"),
        "the status line names the new context: {switched}"
    );
    // The watchers now read the second cluster, and the first one is left alone: its
    // readiness poll (every 10 s) stops with its watchers.
    t.wait_until(
        "pods watched on the second cluster",
        Duration::from_secs(20),
        |_| watched(second),
    );
    std::thread::sleep(Duration::from_secs(1));
    let before = first.requests().len();
    std::thread::sleep(Duration::from_secs(11));
    assert_eq!(
        first.requests().len(),
        before,
        "the first cluster is still read after :ctx"
    );

    command(&t, "ctx down");
    let refused = t.wait_for("staying on the current context", Duration::from_secs(30));
    assert!(refused.contains("down cannot be used"), "{refused}");
    assert!(refused.contains("staging"), "still on staging: {refused}");

    command(&t, "ctx nowhere");
    t.wait_for("no context named \"nowhere\"", Duration::from_secs(5));
    t.send_keys(&["q"]);
    assert_eq!(t.exit_code(Duration::from_secs(10)), 0);
    drop(c);
}
