//! Renders the Overview on a TestBackend through the public API and drives the app with
//! messages: what a user at an 80x24 or 160x45 terminal would see and do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ktriage::app::{App, Effect, Model, Msg, Overlay, Pane};
use ktriage::cluster::{ResourceSync, SyncState};
use ktriage::findings::Findings;
use ktriage::health::{HealthItem, HealthReport, Severity};
use ktriage::ui::{buffer_lines, render_to_buffer};
use ratatui::buffer::Buffer;
use ratatui::style::Color;

// ---- fake model builder -------------------------------------------------------------

fn item(severity: Severity, title: &str, reason: &str, object: &str, pbs: &[&str]) -> HealthItem {
    HealthItem {
        severity,
        title: title.to_string(),
        reason: reason.to_string(),
        object: Some(object.to_string()),
        playbooks: pbs.iter().map(|p| p.to_string()).collect(),
        details: vec![],
    }
}

fn synced(resource: &str) -> ResourceSync {
    ResourceSync {
        resource: resource.to_string(),
        state: SyncState::Synced,
    }
}

/// A small cluster with one finding of each kind, items in all four panes.
fn report() -> HealthReport {
    HealthReport {
        control_plane: vec![
            item(
                Severity::Ok,
                "kube-scheduler lease",
                "held by master-1, renewed 2s ago",
                "Lease/kube-system/kube-scheduler",
                &[],
            ),
            item(
                Severity::Warning,
                "kube-controller-manager lease",
                "12 transitions in the last hour",
                "Lease/kube-system/kube-controller-manager",
                &["leader-election-lease"],
            ),
        ],
        nodes: vec![
            item(
                Severity::Ok,
                "master-1",
                "Ready, kubelet v1.33.1",
                "Node/master-1",
                &[],
            ),
            HealthItem {
                details: vec![
                    ("Ready".into(), "False since 12m".into()),
                    ("Runtime".into(), "containerd://1.7.27".into()),
                ],
                ..item(
                    Severity::Critical,
                    "worker-2",
                    "NotReady: container runtime network not ready: cni plugin not initialized",
                    "Node/worker-2",
                    &["node-notready-no-cni"],
                )
            },
            item(
                Severity::Ok,
                "worker-3",
                "Ready, kubelet v1.33.1",
                "Node/worker-3",
                &[],
            ),
        ],
        addons: vec![
            item(
                Severity::Ok,
                "coredns",
                "2/2 ready",
                "Deployment/kube-system/coredns",
                &[],
            ),
            item(
                Severity::Unknown,
                "kube-proxy",
                "forbidden: cannot list daemonsets in kube-system",
                "DaemonSet/kube-system/kube-proxy",
                &["component-rbac-forbidden"],
            ),
        ],
        restarts: vec![item(
            Severity::Critical,
            "kube-system/calico-node-x7k2p",
            "CrashLoopBackOff, 41 restarts (9.5/h), last exit 1 Error",
            "Pod/kube-system/calico-node-x7k2p",
            &["crashloop-exit-code"],
        )],
    }
}

fn model() -> Arc<Model> {
    Arc::new(Model {
        report: report(),
        sync: [
            "nodes",
            "pods",
            "leases",
            "events",
            "daemonsets",
            "deployments",
            "statefulsets",
        ]
        .into_iter()
        .map(synced)
        .collect(),
        context: "kind-training".into(),
        server: "https://127.0.0.1:6443".into(),
        server_version: Some("v1.33.1".into()),
        updated_at: Some(Instant::now() - Duration::from_secs(3)),
        notice: None,
        ..Default::default()
    })
}

fn app_for(model: &Arc<Model>, width: u16, height: u16) -> App {
    let mut app = App::new();
    app.update(Msg::Resize(width, height));
    app.update(Msg::ModelChanged(model.clone()));
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn lines(buf: &Buffer) -> Vec<String> {
    buffer_lines(buf)
}

fn screen(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// Row and column of the first occurrence of `needle` (column in cells).
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    lines(buf).iter().enumerate().find_map(|(y, line)| {
        line.find(needle).map(|byte| {
            let col = line[..byte].chars().count();
            (y as u16, col as u16)
        })
    })
}

// ---- layout and content -------------------------------------------------------------

#[test]
fn at_80x24_the_four_panes_stack_and_show_every_item() {
    let model = model();
    let buf = render_to_buffer(&app_for(&model, 80, 24), &model, 80, 24);
    let text = screen(&buf);

    let titles = [
        "Control plane (2)",
        "Nodes (3)",
        "Add-ons (2)",
        "Restarts (1)",
    ];
    let rows: Vec<u16> = titles
        .iter()
        .map(|t| {
            find(&buf, t)
                .unwrap_or_else(|| panic!("{t} missing:\n{text}"))
                .0
        })
        .collect();
    // Stacked: one column, each title on its own row, in order, at the left border.
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}\n{text}");
    for t in titles {
        assert!(
            find(&buf, t).unwrap().1 <= 2,
            "{t} not at the left:\n{text}"
        );
    }

    for needle in [
        "kube-scheduler lease",
        "worker-2",
        "worker-3",
        "coredns",
        "kube-proxy",
        "calico-node-x7k2p",
        "[CRIT]",
        "[WARN]",
        "[ OK ]",
        "[UNKN]",
        "→ node-notready-no-cni",
        "→ crashloop-exit-code",
        "forbidden: cannot list",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // The long reason is cut with an ellipsis instead of running off the pane.
    assert!(text.contains('…'), "{text}");
    // Status line on the last row.
    let status = &lines(&buf)[23];
    for needle in [
        "kind-training",
        "synced 7/7",
        "updated 3s ago",
        "? help  q quit",
    ] {
        assert!(status.contains(needle), "{needle} not in status: {status}");
    }
}

#[test]
fn at_160x45_the_panes_form_a_two_by_two_grid() {
    let model = model();
    let buf = render_to_buffer(&app_for(&model, 160, 45), &model, 160, 45);
    let text = screen(&buf);
    let cp = find(&buf, "Control plane (2)").unwrap();
    let nodes = find(&buf, "Nodes (3)").unwrap();
    let addons = find(&buf, "Add-ons (2)").unwrap();
    let restarts = find(&buf, "Restarts (1)").unwrap();
    assert_eq!(cp.0, nodes.0, "top row:\n{text}");
    assert_eq!(addons.0, restarts.0, "bottom row:\n{text}");
    assert!(addons.0 > cp.0);
    assert!(nodes.1 >= 80 && restarts.1 >= 80, "right column:\n{text}");
    assert!(cp.1 < 80 && addons.1 < 80, "left column:\n{text}");
    for needle in [
        "held by master-1, renewed 2s ago",
        "[CRIT] worker-2",
        "→ node-notready-no-cni",
        "→ component-rbac-forbidden",
        "calico-node-x7k2p",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let status = &lines(&buf)[44];
    assert!(
        status.contains("https://127.0.0.1:6443 │ v1.33.1"),
        "{status}"
    );
}

#[test]
fn below_the_minimum_size_a_message_asks_for_a_larger_terminal() {
    let model = model();
    let buf = render_to_buffer(&app_for(&model, 50, 10), &model, 50, 10);
    let text = lines(&buf)
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        text,
        "Terminal too small: 50x10. ktriage needs at least 60x15 (80x24 recommended). \
         Resize or press q to quit."
    );
    assert!(!screen(&buf).contains("Nodes"));
    // At exactly the minimum the Overview is back.
    let buf = render_to_buffer(&app_for(&model, 60, 15), &model, 60, 15);
    assert!(screen(&buf).contains("Restarts (1)"), "{}", screen(&buf));
}

#[test]
fn a_critical_marker_is_red_and_an_ok_marker_green() {
    let model = model();
    let buf = render_to_buffer(&app_for(&model, 80, 24), &model, 80, 24);
    let (y, x) = find(&buf, "[CRIT] worker-2").unwrap();
    for dx in 0..6 {
        assert_eq!(buf[(x + dx, y)].fg, Color::Red, "cell {dx} of [CRIT]");
    }
    let (y, x) = find(&buf, "[ OK ] master-1").unwrap();
    assert_eq!(buf[(x + 2, y)].fg, Color::Green);
    let (y, x) = find(&buf, "[WARN]").unwrap();
    assert_eq!(buf[(x, y)].fg, Color::Yellow);
}

#[test]
fn a_forbidden_section_shows_what_is_forbidden_and_the_status_line_says_so() {
    let mut m = (*model()).clone();
    m.report.nodes = vec![item(
        Severity::Unknown,
        "nodes",
        "forbidden: list nodes (User \"trainee\" cannot list resource \"nodes\")",
        "Node",
        &[],
    )];
    m.sync[0].state = SyncState::Forbidden {
        verb: "list".into(),
        resource: "nodes".into(),
        message: "nope".into(),
    };
    let model = Arc::new(m);
    let buf = render_to_buffer(&app_for(&model, 120, 30), &model, 120, 30);
    let text = screen(&buf);
    assert!(text.contains("[UNKN] nodes"), "{text}");
    assert!(text.contains("forbidden: list nodes"), "{text}");
    assert!(
        lines(&buf)[29].contains("synced 6/7 · forbidden: nodes"),
        "{}",
        lines(&buf)[29]
    );
}

#[test]
fn the_notice_is_shown_above_the_status_line() {
    let mut m = (*model()).clone();
    m.notice = Some("connection lost, retrying in 5s".into());
    let model = Arc::new(m);
    let buf = render_to_buffer(&app_for(&model, 80, 24), &model, 80, 24);
    assert!(lines(&buf)[22].contains("connection lost, retrying in 5s"));
    let mut app = app_for(&model, 80, 24);
    app.update(Msg::SourceClosed);
    let plain = Arc::new((*self::model()).clone());
    app.update(Msg::ModelChanged(plain.clone()));
    let buf = render_to_buffer(&app, &plain, 80, 24);
    assert!(
        lines(&buf)[22].contains("data source stopped"),
        "{}",
        screen(&buf)
    );
}

// ---- keys ---------------------------------------------------------------------------

#[test]
fn j_k_and_arrows_move_the_selection_and_clamp_at_the_ends() {
    let model = model();
    let mut app = app_for(&model, 80, 24);
    app.update(key(KeyCode::Char('2')));
    assert_eq!(app.focus(), Pane::Nodes);
    assert_eq!(app.cursor(Pane::Nodes).selected, 0);
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.cursor(Pane::Nodes).selected, 0, "clamped at the top");
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Down));
    assert_eq!(app.cursor(Pane::Nodes).selected, 2);
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.cursor(Pane::Nodes).selected, 2, "clamped at the bottom");
    app.update(key(KeyCode::Up));
    assert_eq!(app.cursor(Pane::Nodes).selected, 1);
    // Other panes keep their own selection.
    assert_eq!(app.cursor(Pane::ControlPlane).selected, 0);

    // The selected row of the focused pane carries the cursor.
    let buf = render_to_buffer(&app, &model, 80, 24);
    let (y, x) = find(&buf, "[CRIT] worker-2").unwrap();
    assert_eq!(buf[(x - 1, y)].symbol(), ">");
}

#[test]
fn tab_backtab_and_digits_change_the_focused_pane() {
    let model = model();
    let mut app = app_for(&model, 80, 24);
    assert_eq!(app.focus(), Pane::ControlPlane);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Nodes);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::Restarts);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.focus(), Pane::ControlPlane, "wraps around");
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.focus(), Pane::Restarts);
    app.update(key(KeyCode::Char('3')));
    assert_eq!(app.focus(), Pane::Addons);
    // h and l stay free for the vim keymap.
    app.update(key(KeyCode::Char('l')));
    assert_eq!(app.focus(), Pane::Addons);
    // Focus is visible without colour: the focused pane has a double border.
    let buf = render_to_buffer(&app, &model, 80, 24);
    let corner = |title: &str| {
        let (y, x) = find(&buf, title).unwrap();
        buf[(x - 1, y)].symbol().to_string()
    };
    assert_eq!(corner("Add-ons (2)"), "╔");
    assert_eq!(corner("Nodes (3)"), "┌");
    assert_eq!(corner("Control plane (2)"), "┌");
}

#[test]
fn enter_opens_the_detail_of_the_selected_item_and_esc_closes_it() {
    let model = model();
    let mut app = app_for(&model, 80, 24);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Enter));
    let detail = app.detail().expect("detail open");
    assert_eq!(detail.item.title, "worker-2");
    assert_eq!(detail.pane, Pane::Nodes);

    let buf = render_to_buffer(&app, &model, 80, 24);
    let text = screen(&buf);
    for needle in [
        "Node/worker-2",
        "[CRIT] critical",
        "cni plugin not",
        "False since 12m",
        "containerd://1.7.27",
        "→ node-notready-no-cni",
        "Esc close",
    ] {
        assert!(
            text.contains(needle),
            "{needle} missing from the popup:\n{text}"
        );
    }

    // While open, j/k scroll the popup, not the pane.
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.cursor(Pane::Nodes).selected, 1);

    assert!(app.update(key(KeyCode::Esc)).is_empty());
    assert_eq!(app.overlay(), &Overlay::None);
    assert!(!screen(&render_to_buffer(&app, &model, 80, 24)).contains("Esc close"));
}

#[test]
fn q_and_ctrl_c_quit() {
    let model = model();
    let mut app = app_for(&model, 80, 24);
    assert_eq!(app.update(key(KeyCode::Char('q'))), vec![Effect::Quit]);
    assert!(app.should_quit());
    let mut app = app_for(&model, 80, 24);
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), vec![Effect::Quit]);
    // Below the minimum size q still quits.
    let mut app = app_for(&model, 40, 10);
    assert!(app.too_small());
    assert_eq!(app.update(key(KeyCode::Char('q'))), vec![Effect::Quit]);
}

#[test]
fn question_mark_opens_help_listing_the_keys() {
    let model = model();
    let mut app = app_for(&model, 80, 24);
    app.update(key(KeyCode::Char('?')));
    let text = screen(&render_to_buffer(&app, &model, 80, 24));
    for needle in ["Help", "next / previous item", "details", "quit"] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay(), &Overlay::None);
}

#[test]
fn a_long_list_scrolls_so_the_selected_row_stays_visible() {
    let mut m = (*model()).clone();
    m.report.restarts = (0..500)
        .map(|i| {
            item(
                Severity::Warning,
                &format!("default/app-{i:03}"),
                &format!("{i} restarts"),
                &format!("Pod/default/app-{i:03}"),
                &["crashloop-exit-code"],
            )
        })
        .collect();
    let model = Arc::new(m);
    for (w, h) in [(80, 24), (160, 45)] {
        let mut app = app_for(&model, w, h);
        app.update(key(KeyCode::Char('4')));
        for _ in 0..40 {
            app.update(key(KeyCode::Char('j')));
        }
        assert_eq!(app.cursor(Pane::Restarts).selected, 40);
        let buf = render_to_buffer(&app, &model, w, h);
        let text = screen(&buf);
        let (y, x) = find(&buf, "default/app-040").unwrap_or_else(|| panic!("{text}"));
        assert_eq!(
            buf[(x - 8, y)].symbol(),
            ">",
            "selected row marked:\n{text}"
        );
        assert!(
            !text.contains("default/app-000"),
            "scrolled past the top:\n{text}"
        );
        assert!(text.contains(" 41/500 "), "position shown:\n{text}");

        app.update(key(KeyCode::End));
        let text = screen(&render_to_buffer(&app, &model, w, h));
        assert!(text.contains("default/app-499"), "{text}");
        app.update(key(KeyCode::Home));
        let text = screen(&render_to_buffer(&app, &model, w, h));
        assert!(text.contains("default/app-000"), "{text}");
    }
}

#[test]
fn selection_is_kept_visible_after_a_resize() {
    let mut m = (*model()).clone();
    m.report.nodes = (0..60)
        .map(|i| {
            item(
                Severity::Ok,
                &format!("node-{i:02}"),
                "Ready",
                &format!("Node/node-{i:02}"),
                &[],
            )
        })
        .collect();
    let model = Arc::new(m);
    let mut app = app_for(&model, 160, 45);
    app.update(key(KeyCode::Char('2')));
    for _ in 0..30 {
        app.update(key(KeyCode::Down));
    }
    app.update(Msg::Resize(80, 24));
    let text = screen(&render_to_buffer(&app, &model, 80, 24));
    assert!(text.contains(">[ OK ] node-30"), "{text}");
}

#[test]
fn an_empty_report_says_it_is_waiting_for_data() {
    let model = Arc::new(Model::default());
    let buf = render_to_buffer(&app_for(&model, 80, 24), &model, 80, 24);
    let text = screen(&buf);
    assert!(text.contains("waiting for data…"), "{text}");
    assert!(text.contains("Control plane (0)"), "{text}");
}

#[test]
fn the_last_of_300000_items_is_reachable_and_drawn() {
    // Frame cost against item count is measured in the benchmark (tests/bench/ktriage.rs); here only
    // the behaviour: End reaches the last item and the window scrolls to show it.
    let mut m = (*model()).clone();
    m.report.restarts = (0..300_000)
        .map(|i| {
            item(
                Severity::Warning,
                &format!("ns-{}/pod-{i}", i % 1000),
                "CrashLoopBackOff, 3 restarts in the last hour, last exit 137 OOMKilled",
                "Pod",
                &["crashloop-exit-code"],
            )
        })
        .collect();
    let model = Arc::new(m);
    let mut app = app_for(&model, 160, 45);
    app.update(key(KeyCode::Char('4')));
    app.update(key(KeyCode::End));
    assert_eq!(app.cursor(Pane::Restarts).selected, 299_999);
    let buf = render_to_buffer(&app, &model, 160, 45);
    assert!(screen(&buf).contains("pod-299999"));
}

#[test]
fn the_selected_row_stays_readable_on_the_selection_background() {
    let model = model();
    let app = app_for(&model, 80, 24);
    // The first control-plane item (ok, muted reason) is selected in the focused pane.
    let buf = render_to_buffer(&app, &model, 80, 24);
    let (y, x) = find(&buf, "held by master-1").unwrap();
    let cell = &buf[(x, y)];
    assert_ne!(cell.bg, Color::Reset, "selected row has a background");
    assert_ne!(cell.fg, cell.bg, "reason text visible on the selection");
    // Unselected ok rows keep the muted reason on the normal background.
    let (y, x) = find(&buf, "Ready, kubelet").unwrap();
    assert_eq!(buf[(x, y)].bg, Color::Reset);
}

#[test]
fn text_from_the_cluster_cannot_put_control_characters_on_screen() {
    let mut m = (*model()).clone();
    m.report.nodes[1].reason = "NotReady\x1b[2J\x1b]52;c;ZXZpbA==\x07\nsecond line\ttab".into();
    m.report.nodes[1].details = vec![("Message\r".into(), "a\x1b[31mred\x1b[0m".into())];
    let model = Arc::new(m);
    let mut app = app_for(&model, 80, 24);
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('j')));
    for with_popup in [false, true] {
        if with_popup {
            app.update(key(KeyCode::Enter));
        }
        let buf = render_to_buffer(&app, &model, 80, 24);
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(char::is_control),
                "control character on screen: {:?}",
                cell.symbol()
            );
        }
        assert!(screen(&buf).contains("NotReady [2J"), "{}", screen(&buf));
    }
}

#[test]
fn the_detail_popup_aligns_long_detail_labels() {
    let mut m = (*model()).clone();
    m.report.nodes[1].details = vec![
        ("Heartbeat age".into(), "4m12s".into()),
        ("Container runtime".into(), "containerd://1.7.27".into()),
    ];
    let model = Arc::new(m);
    let mut app = app_for(&model, 80, 24);
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Enter));
    let buf = render_to_buffer(&app, &model, 80, 24);
    let text = screen(&buf);
    let value_col = |needle: &str| find(&buf, needle).unwrap_or_else(|| panic!("{text}")).1;
    assert_eq!(
        value_col("Container runtime") + 18,
        value_col("containerd://")
    );
    assert_eq!(value_col("4m12s"), value_col("containerd://"));
    assert_eq!(value_col("Node/worker-2"), value_col("containerd://"));
}

#[test]
fn a_problem_below_the_visible_rows_is_announced_in_the_pane_title() {
    let mut m = (*model()).clone();
    m.report.nodes = (0..30)
        .map(|i| {
            let name = format!("node-{i:02}");
            item(Severity::Ok, &name, "Ready", &format!("Node/{name}"), &[])
        })
        .collect();
    m.report.nodes.push(item(
        Severity::Critical,
        "node-30",
        "NotReady",
        "Node/node-30",
        &["node-notready-no-cni"],
    ));
    m.report.nodes.push(item(
        Severity::Warning,
        "node-31",
        "DiskPressure",
        "Node/node-31",
        &["node-pressure-evictions"],
    ));
    let model = Arc::new(m);
    let buf = render_to_buffer(&app_for(&model, 80, 24), &model, 80, 24);
    let text = screen(&buf);
    assert!(
        !text.contains("node-30"),
        "the item itself is below the fold:\n{text}"
    );
    let (y, x) = find(&buf, "Nodes (32) 1 crit 1 warn").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(buf[(x + 11, y)].fg, Color::Red, "crit count is red");
    assert!(text.contains("Add-ons (2) 1 unkn"), "{text}");
    assert!(text.contains("Restarts (1) 1 crit"), "{text}");
}

// ---- playbook runner, command mode, playbook list, paste box ----------------------------

use ktriage::app::{RunState, Screen};
use ktriage::playbooks::engine::{Run, Step, q};
use ktriage::playbooks::{
    Access, Evidence, Finding, FindingSeverity, Fix, Outcome, Playbook, Query, Results, Symptom,
};

fn cni_queries(_: &Results) -> Vec<Query> {
    vec![
        q::core("nodes", None),
        q::list("apps", "daemonsets", Some("kube-system"), None, None),
    ]
}

fn no_diagnosis(_: &Results, _: chrono::DateTime<chrono::Utc>) -> Option<Finding> {
    None
}

static CNI: Playbook = Playbook {
    id: "node-notready-no-cni",
    code: "NET-01",
    title: "Node NotReady: no CNI plugin installed",
    access: Access::Api,
    symptoms: &[
        Symptom {
            all_of: &["network plugin is not ready", "cni config uninitialized"],
            weight: 1.0,
        },
        Symptom {
            all_of: &["notready"],
            weight: 0.3,
        },
    ],
    queries: cni_queries,
    diagnose: no_diagnosis,
};

static DNS: Playbook = Playbook {
    id: "coredns-pending",
    code: "NET-03",
    title: "CoreDNS Pending",
    access: Access::ApiPlus,
    symptoms: &[Symptom {
        all_of: &["coredns"],
        weight: 0.5,
    }],
    queries: cni_queries,
    diagnose: no_diagnosis,
};

static KUBELET: Playbook = Playbook {
    id: "node-notready-kubelet",
    code: "CP-09",
    title: "Node NotReady: kubelet stopped",
    access: Access::Node,
    symptoms: &[Symptom {
        all_of: &["notready"],
        weight: 0.4,
    }],
    queries: cni_queries,
    diagnose: no_diagnosis,
};

fn catalog() -> Vec<&'static Playbook> {
    vec![&CNI, &DNS, &KUBELET]
}

const CAUSE: &str = "No CNI plugin is installed: the kubelet reports the network plugin as not ready on every node.";
const FIX_CMD: &str = "kubectl apply -f https://raw.githubusercontent.com/projectcalico/calico/v3.28.0/manifests/calico.yaml";

fn cni_run(found: bool) -> Run {
    let queries = cni_queries(&Results::default());
    let finding = found.then(|| Finding {
        severity: FindingSeverity::Critical,
        confidence: 0.9,
        summary: CAUSE.into(),
        evidence: vec![Evidence {
            object: "Node/worker-1".into(),
            field: "status.conditions[Ready].message".into(),
            value: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized".into(),
        }],
        ruled_out: vec![
            "The kubelet is running: worker-1 posts its status every 10s.".into(),
            "Not a taint problem: the nodes carry only the not-ready taint.".into(),
        ],
        fix: Fix {
            explanation: "Install a CNI plugin (Calico, Flannel, Cilium); the nodes turn Ready once its pods run.".into(),
            commands: vec![FIX_CMD.into(), "kubectl get nodes -w".into()],
        },
    });
    Run {
        playbook: &CNI,
        steps: vec![
            Step::new(
                queries[0].clone(),
                &Outcome::Objects(vec![serde_json::json!({}); 3]),
            ),
            Step::new(
                queries[1].clone(),
                &Outcome::Failed {
                    code: 403,
                    message: "forbidden".into(),
                },
            ),
        ],
        finding,
    }
}

fn catalog_app(width: u16, height: u16) -> App {
    let mut app = App::new().with_catalog(catalog());
    app.update(Msg::Resize(width, height));
    app.update(Msg::ModelChanged(model()));
    app
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(app.update(key(KeyCode::Char(c))));
    }
    effects
}

/// `:` + the command + Enter; returns the effects of Enter.
fn command(app: &mut App, cmd: &str) -> Vec<Effect> {
    app.update(key(KeyCode::Char(':')));
    type_text(app, cmd);
    app.update(key(KeyCode::Enter))
}

/// An app showing the runner of the CNI playbook with a finished run.
fn runner_app(width: u16, height: u16, found: bool) -> App {
    let mut app = catalog_app(width, height);
    let effects = command(&mut app, "playbook node-notready-no-cni");
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("node-notready-no-cni".into())]
    );
    app.update(Msg::PlaybookRan(Arc::new(cni_run(found))));
    app
}

#[test]
fn at_160x45_the_runner_shows_steps_left_and_cause_and_fix_right() {
    let app = runner_app(160, 45, true);
    let buf = render_to_buffer(&app, &model(), 160, 45);
    let text = screen(&buf);
    let title = &lines(&buf)[0];
    assert!(
        title.contains("NET-01 node-notready-no-cni — Node NotReady: no CNI plugin installed"),
        "{text}"
    );
    assert!(title.contains("[CRIT]"), "{text}");
    let steps = find(&buf, "Steps").expect("steps column");
    let kubectl = find(&buf, "kubectl get nodes -o yaml").expect("first query");
    let cause = find(&buf, "No CNI plugin is installed").expect("cause");
    let fix = find(&buf, "▶ kubectl apply -f").expect("selected fix command");
    let evidence = find(&buf, "Node/worker-1").expect("evidence object");
    // Side by side: the steps and evidence on the left half, cause and fix on the right.
    assert!(steps.1 < 80 && kubectl.1 < 80 && evidence.1 < 80, "{text}");
    assert!(cause.1 >= 80 && fix.1 >= 80, "{text}");
    assert!(cause.0 < 10, "the cause is near the top:\n{text}");
    for needle in [
        "GET /api/v1/nodes → 3 objects",
        "403: forbidden",
        "status.conditions[Ready].message",
        "NetworkPluginNotReady",
        "critical · confidence 90%",
        "Why not the others",
        "The kubelet is running",
        "Install a CNI plugin",
        "kubectl get nodes -w",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    // The long fix command is wrapped, not cut: its end is on screen.
    assert!(text.contains("ico.yaml"), "{text}");
}

#[test]
fn at_80x24_the_runner_stacks_diagnosis_above_steps() {
    let app = runner_app(80, 24, true);
    let buf = render_to_buffer(&app, &model(), 80, 24);
    let text = screen(&buf);
    let diagnosis = find(&buf, "Diagnosis").expect("diagnosis column");
    let steps = find(&buf, "Steps").expect("steps column");
    assert!(diagnosis.0 < steps.0, "diagnosis first:\n{text}");
    let cause = find(&buf, "No CNI plugin is installed").expect("cause visible");
    let fix = find(&buf, "▶ kubectl apply -f").expect("fix visible");
    assert!(cause.0 < fix.0 && fix.0 < steps.0, "{text}");
    assert!(cause.1 < 4 && fix.1 < 4, "one column:\n{text}");
    assert!(text.contains("kubectl get nodes -o yaml"), "{text}");
}

#[test]
fn j_and_k_select_the_fix_command_and_r_runs_again() {
    let mut app = runner_app(160, 45, true);
    app.update(key(KeyCode::Char('j')));
    assert_eq!(
        app.runner().unwrap().selected_command(),
        Some("kubectl get nodes -w")
    );
    let buf = render_to_buffer(&app, &model(), 160, 45);
    assert!(
        find(&buf, "▶ kubectl get nodes -w").is_some(),
        "{}",
        screen(&buf)
    );
    assert!(find(&buf, "▶ kubectl apply").is_none());
    app.update(key(KeyCode::Char('j')));
    assert_eq!(
        app.runner().unwrap().selected_command(),
        Some("kubectl get nodes -w"),
        "stays on the last command"
    );
    app.update(key(KeyCode::Char('k')));
    assert_eq!(app.runner().unwrap().selected_command(), Some(FIX_CMD));

    let effects = app.update(key(KeyCode::Char('r')));
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("node-notready-no-cni".into())]
    );
    let buf = render_to_buffer(&app, &model(), 160, 45);
    let text = screen(&buf);
    assert!(lines(&buf)[0].contains("running…"), "{text}");
    // While running, the planned queries are listed.
    assert!(
        text.contains("kubectl get daemonsets -n kube-system -o yaml"),
        "{text}"
    );
    app.update(Msg::PlaybookRan(Arc::new(cni_run(true))));
    assert!(matches!(app.runner().unwrap().state, RunState::Done(_)));
    // Esc goes back to the Overview.
    app.update(key(KeyCode::Esc));
    assert!(app.screen().is_none());
    let buf = render_to_buffer(&app, &model(), 160, 45);
    assert!(screen(&buf).contains("Control plane"));
}

#[test]
fn a_run_without_finding_says_the_cause_is_not_present_and_what_was_checked() {
    let app = runner_app(120, 36, false);
    let buf = render_to_buffer(&app, &model(), 120, 36);
    let text = screen(&buf);
    assert!(text.contains("Cause not present on this cluster"), "{text}");
    assert!(text.contains("What was checked"), "{text}");
    assert!(
        text.contains("• kubectl get nodes -o yaml → 3 objects"),
        "{text}"
    );
    assert!(!text.contains("Fix"), "{text}");
}

/// The runner after the CNI playbook ran against a user who may list neither nodes nor
/// daemonsets.
fn forbidden_runner_app(width: u16, height: u16) -> App {
    let mut app = catalog_app(width, height);
    command(&mut app, "playbook node-notready-no-cni");
    let queries = cni_queries(&Results::default());
    let refused = |what: &str| Outcome::Failed {
        code: 403,
        message: format!(
            "{what} is forbidden: User \"jane\" cannot list resource \"{what}\" at the cluster scope"
        ),
    };
    let run = Run {
        playbook: &CNI,
        steps: vec![
            Step::new(queries[0].clone(), &refused("nodes")),
            Step::new(queries[1].clone(), &refused("daemonsets")),
        ],
        finding: None,
    };
    app.update(Msg::PlaybookRan(Arc::new(run)));
    app
}

#[test]
fn a_run_whose_queries_were_refused_says_it_could_not_check_and_why() {
    let app = forbidden_runner_app(160, 45);
    let buf = render_to_buffer(&app, &model(), 160, 45);
    let text = screen(&buf);
    assert!(lines(&buf)[0].contains("could not check"), "{text}");
    assert!(
        text.contains("Could not check: kubectl get nodes -o yaml — 403: nodes is forbidden:"),
        "{text}"
    );
    assert!(
        text.contains("Could not check: kubectl get daemonsets -n kube-system -o yaml — 403:"),
        "{text}"
    );
    assert!(
        text.contains("User \"jane\" cannot list resource \"nodes\" at the cluster scope"),
        "{text}"
    );
    assert!(!text.contains("not present"), "{text}");
    // The verdict is drawn in the warning colour, not the green of "not present".
    let (y, x) = find(&buf, "[UNKN] Could not check").expect("verdict line");
    assert_eq!(buf[(x, y)].fg, Color::Yellow, "{text}");
    assert_eq!(buf[(x + 7, y)].fg, Color::Yellow, "{text}");

    // Stacked at 80x24 the verdict leads the diagnosis, wrapped, nothing cut.
    let app = forbidden_runner_app(80, 24);
    let buf = render_to_buffer(&app, &model(), 80, 24);
    let text = screen(&buf);
    assert!(
        text.contains("Could not check: kubectl get nodes -o yaml"),
        "{text}"
    );
    assert!(text.contains("nodes is forbidden"), "{text}");
}

#[test]
fn without_a_query_source_the_runner_says_it_cannot_run() {
    let mut app = catalog_app(120, 36);
    command(&mut app, "playbook node-notready-no-cni");
    app.update(Msg::PlaybookFailed {
        id: "node-notready-no-cni".into(),
        message: "no cluster connection for playbook queries".into(),
    });
    let text = screen(&render_to_buffer(&app, &model(), 120, 36));
    assert!(text.contains("cannot run"), "{text}");
    assert!(text.contains("no cluster connection"), "{text}");
}

#[test]
fn colon_playbook_with_an_unknown_id_gives_a_clear_notice() {
    let mut app = catalog_app(80, 24);
    let effects = command(&mut app, "playbook no-such-thing");
    assert!(effects.is_empty());
    assert!(app.screen().is_none(), "still on the Overview");
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(
        text.contains("no playbook with id \"no-such-thing\""),
        "{text}"
    );
    // An unknown command is named too, and the next key clears the notice.
    command(&mut app, "frobnicate");
    assert!(app.notice().unwrap().contains(":frobnicate"));
    app.update(key(KeyCode::Char('j')));
    assert!(app.notice().is_none());
}

#[test]
fn tab_completes_in_command_mode_and_esc_cancels() {
    let mut app = catalog_app(80, 24);
    app.update(key(KeyCode::Char(':')));
    type_text(&mut app, "playbook node-notready-n");
    app.update(key(KeyCode::Tab));
    assert_eq!(
        app.command().unwrap().input,
        "playbook node-notready-no-cni"
    );
    let buf = render_to_buffer(&app, &model(), 80, 24);
    assert!(
        lines(&buf)[23].starts_with(":playbook node-notready-no-cni"),
        "{}",
        screen(&buf)
    );
    app.update(key(KeyCode::Esc));
    assert!(app.command().is_none());
    assert!(app.screen().is_none());
    // `q` typed into the command line is a character, not quit.
    app.update(key(KeyCode::Char(':')));
    assert!(app.update(key(KeyCode::Char('q'))).is_empty());
    assert_eq!(app.update(key(KeyCode::Enter)), vec![Effect::Quit]);
}

#[test]
fn colon_playbooks_lists_all_and_slash_filters_as_you_type_then_enter_runs() {
    let mut app = catalog_app(100, 30);
    command(&mut app, "playbooks");
    let text = screen(&render_to_buffer(&app, &model(), 100, 30));
    for needle in [
        "NET-01",
        "NET-03",
        "CP-09",
        "coredns-pending",
        "API+",
        "NODE",
        "(3/3)",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    app.update(key(KeyCode::Char('/')));
    type_text(&mut app, "kubelet");
    let text = screen(&render_to_buffer(&app, &model(), 100, 30));
    assert!(text.contains("(1/3)"), "{text}");
    assert!(text.contains("node-notready-kubelet"), "{text}");
    assert!(!text.contains("coredns-pending"), "{text}");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("node-notready-kubelet".into())]
    );
    assert_eq!(app.runner().unwrap().playbook.id, "node-notready-kubelet");
    // Esc from the runner goes back to the list.
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.screen(), Some(Screen::Playbooks(_))));
    // j moves in the list; Enter runs the selected playbook.
    app.update(key(KeyCode::Char('/')));
    app.update(key(KeyCode::Esc)); // clears the filter, the selection stays on its playbook
    app.update(key(KeyCode::Char('g')));
    app.update(key(KeyCode::Char('j')));
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::RunPlaybook("coredns-pending".into())]);
}

#[test]
fn enter_in_the_detail_opens_the_finding_that_explains_the_item_else_its_candidates() {
    let mut m = (*model()).clone();
    m.report.nodes[1].playbooks = vec!["node-notready-no-cni".into()];
    let m = Arc::new(m);
    let mut app = App::new().with_catalog(catalog());
    app.update(Msg::Resize(80, 24));
    app.update(Msg::ModelChanged(m.clone()));
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Enter));
    assert!(app.detail().is_some());
    // No evaluation yet: no finding explains it, so its candidates are listed, not run.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert!(app.detail().is_none());
    let Some(Screen::Matches(list)) = app.screen() else {
        panic!("expected the candidates, got {:?}", app.screen());
    };
    assert_eq!(list.about.as_deref(), Some("worker-2"));
    assert_eq!(list.matches[0].0.id, "node-notready-no-cni");
    assert_eq!(list.verdicts[0], None);
    let text = screen(&render_to_buffer(&app, &m, 120, 36));
    assert!(text.contains("No finding explains worker-2"), "{text}");
    assert!(text.contains("not checked yet"), "{text}");
    // The user picks one.
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::RunPlaybook("node-notready-no-cni".into())]
    );
    assert_eq!(app.runner().unwrap().playbook.code, "NET-01");

    // With the finding present, the row links it and Enter in the detail opens it.
    let mut found = (*m).clone();
    found.findings = Findings {
        runs: Arc::new(vec![cni_run(true)]),
        evaluated_at: Some(Instant::now()),
        ..Default::default()
    };
    let found = Arc::new(found);
    let mut app = App::new().with_catalog(catalog());
    app.update(Msg::Resize(120, 36));
    app.update(Msg::ModelChanged(found.clone()));
    let text = screen(&render_to_buffer(&app, &found, 120, 36));
    let row = text
        .lines()
        .find(|l| l.contains("] worker-2"))
        .unwrap_or_default();
    assert!(
        row.contains("NotReady — because no CNI") && row.contains("→ NET-01"),
        "{text}"
    );
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Enter));
    let text = screen(&render_to_buffer(&app, &found, 120, 36));
    assert!(
        text.contains("Because") && text.contains("Enter its finding"),
        "{text}"
    );
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::RunPlaybook("node-notready-no-cni".into())]
    );
    assert!(app.detail().is_none());

    // An item without a finding or a candidate says so and stays open.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('k')));
    app.update(key(KeyCode::Enter));
    assert!(app.update(key(KeyCode::Char('p'))).is_empty());
    assert!(app.detail().is_some());
    assert!(
        app.notice().unwrap().contains("no finding explains"),
        "{:?}",
        app.notice()
    );
}

#[test]
fn a_pasted_error_with_one_strong_match_opens_its_playbook() {
    let mut app = catalog_app(80, 24);
    // A bracketed paste on the Overview opens the paste box with the text.
    app.update(Msg::Paste(
        "E1123 kubelet.go:2862] \"Container runtime network not ready\" networkReady=\"NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: network plugin is not ready: cni config uninitialized\"\r".into(),
    ));
    assert!(matches!(app.screen(), Some(Screen::Paste(_))));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(text.contains("Paste the error message"), "{text}");
    assert!(text.contains("Ctrl-S"), "the submit hint is shown:\n{text}");
    assert!(text.contains("E1123 kubelet.go"), "{text}");
    let effects = app.update(ctrl('s'));
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("node-notready-no-cni".into())]
    );
}

#[test]
fn a_typed_error_with_weak_matches_lists_them_ranked() {
    let mut app = catalog_app(100, 30);
    app.update(key(KeyCode::Char('e')));
    // `q` and `:` are text in the paste box.
    let effects = type_text(&mut app, "q: coredns pending, node NotReady");
    assert!(effects.is_empty());
    assert!(!app.should_quit());
    let effects = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    assert!(effects.is_empty());
    let Some(Screen::Matches(list)) = app.screen() else {
        panic!("matches listed: {:?}", app.screen());
    };
    let ids: Vec<&str> = list.matches.iter().map(|(pb, _)| pb.id).collect();
    assert_eq!(
        ids,
        vec![
            "coredns-pending",
            "node-notready-kubelet",
            "node-notready-no-cni"
        ]
    );
    let buf = render_to_buffer(&app, &model(), 100, 30);
    let text = screen(&buf);
    let first = find(&buf, "coredns-pending").expect("listed");
    let second = find(&buf, "node-notready-kubelet").expect("listed");
    assert!(first.0 < second.0, "{text}");
    assert!(text.contains("MATCH") && text.contains("51%"), "{text}");
    app.update(key(KeyCode::Char('j')));
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("node-notready-kubelet".into())]
    );
    // Esc: back to the list, again to the text, again to the Overview.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.screen(), Some(Screen::Paste(_))));
    app.update(key(KeyCode::Esc));
    assert!(app.screen().is_none());
}

#[test]
fn a_pasted_text_without_match_says_so() {
    let mut app = catalog_app(80, 24);
    command(&mut app, "explain");
    type_text(&mut app, "everything is fine");
    assert!(app.update(ctrl('s')).is_empty());
    assert!(matches!(app.screen(), Some(Screen::Paste(_))));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(text.contains("no playbook matches this text"), "{text}");
}

#[test]
fn help_lists_the_runner_and_command_keys() {
    let mut app = catalog_app(80, 24);
    app.update(key(KeyCode::Char('?')));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    for needle in [
        "pods nodes events leases playbooks",
        "paste an error",
        "re-run",
        "pick a fix command",
        "filter as you type",
        "sort by next column",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn a_linked_playbook_not_in_this_build_is_no_candidate() {
    let mut m = (*model()).clone();
    m.report.nodes[1].playbooks = vec!["not-in-this-build".into()];
    let m = Arc::new(m);
    let mut app = App::new().with_catalog(catalog());
    app.update(Msg::Resize(80, 24));
    app.update(Msg::ModelChanged(m.clone()));
    app.update(key(KeyCode::Char('2')));
    app.update(key(KeyCode::Char('j')));
    app.update(key(KeyCode::Enter));
    let text = screen(&render_to_buffer(&app, &m, 80, 24));
    assert!(text.contains("not-in-this-build"), "{text}");
    // The candidates are the playbooks of this build its reason matches.
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    let Some(Screen::Matches(list)) = app.screen() else {
        panic!("expected the candidates, got {:?}", app.screen());
    };
    let ids: Vec<&str> = list.matches.iter().map(|(p, _)| p.id).collect();
    assert!(ids.contains(&"node-notready-no-cni"), "{ids:?}");
    assert!(!ids.contains(&"not-in-this-build"));
}

#[test]
fn at_80x24_a_long_diagnosis_shows_the_cause_first_and_j_brings_the_fix_commands_in_view() {
    let mut app = catalog_app(80, 24);
    command(&mut app, "playbook node-notready-no-cni");
    let mut run = cni_run(true);
    if let Some(f) = &mut run.finding {
        f.fix.explanation = "A long explanation of the fix. ".repeat(20);
    }
    app.update(Msg::PlaybookRan(Arc::new(run)));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(text.contains("critical · confidence 90%"), "{text}");
    assert!(text.contains("No CNI plugin is installed"), "{text}");
    assert!(!text.contains("▶ kubectl apply"), "{text}");
    app.update(key(KeyCode::Char('j')));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(
        text.contains("▶ kubectl apply -f"),
        "the first command, in view:\n{text}"
    );
    app.update(key(KeyCode::Char('j')));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(text.contains("▶ kubectl get nodes -w"), "{text}");
    // PgUp scrolls back to the cause.
    app.update(key(KeyCode::PageUp));
    app.update(key(KeyCode::PageUp));
    let text = screen(&render_to_buffer(&app, &model(), 80, 24));
    assert!(text.contains("No CNI plugin is installed"), "{text}");
}

// ---- list views -------------------------------------------------------------------------

/// A model over the `healthy` scenario's objects, judged at its clock.
fn cluster_model() -> Arc<Model> {
    let scenario = ktriage::scenarios::find("healthy").unwrap();
    let state = ktriage::cluster::state::ClusterState::from_snapshot(&scenario.snapshot);
    let now = scenario.snapshot.clock().unwrap();
    Arc::new(Model {
        report: ktriage::health::build(&state, now),
        context: "ktriage-healthy".into(),
        objects: ktriage::app::model::Objects(Arc::new(state)),
        judged_at: Some(now),
        ..Default::default()
    })
}

fn type_command(app: &mut App, cmd: &str) -> Vec<Effect> {
    app.update(key(KeyCode::Char(':')));
    for c in cmd.chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter))
}

#[test]
fn pods_list_is_readable_at_80x24_and_ns_drops_the_namespace_column() {
    let model = cluster_model();
    let mut app = app_for(&model, 80, 24);
    type_command(&mut app, "pods");
    let text = screen(&render_to_buffer(&app, &model, 80, 24));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("Pods(all)["), "{text}");
    // Every column is in view: long names lose their middle, not the columns after them.
    for header in [
        "NAMESPACE",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "NODE",
    ] {
        assert!(lines[1].contains(header), "{header}: {text}");
    }
    assert!(
        lines[2].contains("Running") && lines[2].contains("worker-2"),
        "{text}"
    );
    assert!(
        lines[23].contains("/ filter"),
        "the keys are on the bottom line: {text}"
    );

    type_command(&mut app, "ns kube-system");
    let text = screen(&render_to_buffer(&app, &model, 80, 24));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("Pods(kube-system)["), "{text}");
    assert!(
        !lines[1].contains("NAMESPACE"),
        "one namespace needs no column: {text}"
    );
    // With the column gone, names show whole.
    assert!(lines[1].contains("RESTARTS"), "{text}");
    assert!(text.contains("kube-apiserver-cp-1"), "{text}");
    assert!(!text.contains("shop"), "{text}");
}

#[test]
fn enter_on_a_list_row_fetches_the_object_and_esc_walks_back() {
    let model = cluster_model();
    let mut app = app_for(&model, 120, 36);
    type_command(&mut app, "nodes");
    app.update(key(KeyCode::Char('/')));
    for c in "worker-2".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter));
    let effects = app.update(key(KeyCode::Enter));
    match effects.as_slice() {
        [Effect::Fetch(q)] => assert_eq!(q.kubectl, "kubectl get nodes worker-2 -o yaml"),
        other => panic!("Enter asked for {other:?}"),
    }
    let text = screen(&render_to_buffer(&app, &model, 120, 36));
    assert!(text.contains("Node worker-2"), "{text}");
    assert!(text.contains("fetching the full object"), "{text}");
    assert!(
        text.contains("kind: Node"),
        "the stored fields show at once: {text}"
    );
    assert_eq!(
        app.update(key(KeyCode::Char('y'))),
        vec![Effect::Copy("worker-2".into())]
    );
    // Esc: YAML → filtered list → whole list → Overview.
    app.update(key(KeyCode::Esc));
    let text = screen(&render_to_buffer(&app, &model, 120, 36));
    assert!(text.contains("Nodes[1/6] /worker-2"), "{text}");
    app.update(key(KeyCode::Esc));
    let text = screen(&render_to_buffer(&app, &model, 120, 36));
    assert!(text.contains("Nodes[6]"), "{text}");
    app.update(key(KeyCode::Esc));
    assert!(app.screen().is_none(), "back on the Overview");
}

#[test]
fn unknown_commands_and_contexts_say_what_exists() {
    let model = cluster_model();
    let mut app = app_for(&model, 120, 36)
        .with_choices(vec!["prod".into(), "staging".into()], vec!["mono".into()]);
    app.update(Msg::Resize(120, 36));
    type_command(&mut app, "podz");
    assert!(
        app.notice().unwrap().contains("try :pods"),
        "{:?}",
        app.notice()
    );
    assert!(type_command(&mut app, "ctx nowhere").is_empty());
    assert!(
        app.notice().unwrap().contains("contexts: prod, staging"),
        "{:?}",
        app.notice()
    );
    assert_eq!(
        type_command(&mut app, "ctx staging"),
        vec![Effect::SwitchContext("staging".into())]
    );
    assert_eq!(
        type_command(&mut app, "theme mono"),
        vec![Effect::SetTheme("mono".into())]
    );
}

// ---- live findings (issue 12) -------------------------------------------------------

fn finding_run(id: &str, severity: FindingSeverity, summary: &str) -> Run {
    Run {
        playbook: ktriage::playbooks::find(id).expect("playbook in the registry"),
        steps: Vec::new(),
        finding: Some(Finding {
            severity,
            confidence: 0.9,
            summary: summary.into(),
            evidence: Vec::new(),
            ruled_out: Vec::new(),
            fix: Fix {
                explanation: "fix it".into(),
                commands: Vec::new(),
            },
        }),
    }
}

fn model_with_findings() -> Arc<Model> {
    Arc::new(Model {
        findings: Findings {
            runs: Arc::new(vec![
                finding_run(
                    "kubelet-port-unreachable",
                    FindingSeverity::Critical,
                    "kubelet port unreachable",
                ),
                finding_run(
                    "leader-election-lease",
                    FindingSeverity::Warning,
                    "the kube-scheduler lease is stale",
                ),
            ]),
            evaluated_at: Some(Instant::now() - Duration::from_secs(12)),
            running: false,
            note: None,
            could_not_check: 0,
            unchecked: Default::default(),
        },
        ..(*model()).clone()
    })
}

#[test]
fn at_80x24_the_findings_collapse_to_one_line_above_the_panes() {
    let model = model_with_findings();
    let app = app_for(&model, 80, 24);
    let buf = render_to_buffer(&app, &model, 80, 24);
    let rows = lines(&buf);
    assert!(
        rows[0].starts_with(">2 findings: NET-05 kubelet port unreachable (critical) …"),
        "{}",
        screen(&buf)
    );
    assert!(
        rows[0].trim_end().ends_with("findings 12s ago"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains("Control plane"), "{}", screen(&buf));
    // The status line counts the findings as check does: critical, though no item is.
    assert!(
        rows[23].starts_with(" CRITICAL │ kind-training"),
        "{}",
        rows[23]
    );
}

#[test]
fn at_120x36_the_findings_get_a_pane_with_a_row_each() {
    let model = model_with_findings();
    let app = app_for(&model, 120, 36);
    let buf = render_to_buffer(&app, &model, 120, 36);
    let text = screen(&buf);
    let (y, _) = find(&buf, "Findings (2)").expect("a findings pane");
    assert_eq!(y, 0, "{text}");
    let rows = lines(&buf);
    assert!(rows[1].contains("[CRIT] NET-05"), "{text}");
    assert!(rows[1].contains("kubelet port unreachable"), "{text}");
    assert!(rows[1].contains("→ kubelet-port-unreachable"), "{text}");
    assert!(rows[2].contains("[WARN] CP-"), "{text}");
    assert!(rows[0].contains("findings 12s ago"), "{text}");
    assert!(!rows[0].contains("could not check"), "{text}");

    // Playbooks whose queries were refused are counted in the title: their absence among
    // the findings proves nothing.
    let mut refused = (*model_with_findings()).clone();
    refused.findings.could_not_check = 3;
    let refused = Arc::new(refused);
    let buf = render_to_buffer(&app_for(&refused, 120, 36), &refused, 120, 36);
    let rows = lines(&buf);
    assert!(
        rows[0].contains("Findings (2) · 3 could not check"),
        "{}",
        screen(&buf)
    );

    // The playbooks that could not check are listed under the findings, each with its
    // failed query and error.
    let mut listed = (*model_with_findings()).clone();
    let nodes = q::nodes();
    listed.findings.could_not_check = 1;
    listed.findings.unchecked = Arc::new(vec![Run {
        playbook: ktriage::playbooks::find("node-status-unknown").expect("NET-13"),
        steps: vec![Step::new(
            nodes,
            &Outcome::Failed {
                code: 403,
                message: "nodes is forbidden: User \"jane\" cannot list resource \"nodes\"".into(),
            },
        )],
        finding: None,
    }]);
    let listed = Arc::new(listed);
    let buf = render_to_buffer(&app_for(&listed, 120, 36), &listed, 120, 36);
    let rows = lines(&buf);
    assert!(rows[3].contains("NET-13"), "{}", screen(&buf));
    assert!(
        rows[3].contains("could not check: kubectl get nodes -o yaml — 403: nodes is forbidden"),
        "{}",
        screen(&buf)
    );
    assert!(
        rows[3].contains("→ node-status-unknown"),
        "{}",
        screen(&buf)
    );
    // At 80x24, with no finding, the line says what could not check instead of "no findings".
    let mut none = (*listed).clone();
    none.findings.runs = Arc::new(Vec::new());
    let none = Arc::new(none);
    let buf = render_to_buffer(&app_for(&none, 80, 24), &none, 80, 24);
    assert!(
        lines(&buf)[0].contains("no findings, but 1 could not check: NET-13 (403: nodes is"),
        "{}",
        screen(&buf)
    );
}

#[test]
fn the_first_findings_take_the_focus_and_enter_opens_the_playbook() {
    let mut app = app_for(&model(), 120, 36);
    assert!(!app.findings_focused());
    let model = model_with_findings();
    app.update(Msg::ModelChanged(model.clone()));
    assert!(app.findings_focused(), "root cause first");
    app.update(key(KeyCode::Char('j')));
    assert_eq!(app.findings_cursor().selected, 1);
    // Re-ranked findings keep the selection on its playbook.
    let mut swapped = (*model).clone();
    let mut runs = (*swapped.findings.runs).clone();
    runs.reverse();
    swapped.findings.runs = Arc::new(runs);
    app.update(Msg::ModelChanged(Arc::new(swapped)));
    assert_eq!(app.findings_cursor().selected, 0);
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::RunPlaybook("leader-election-lease".into())]
    );
    assert!(app.runner().is_some());
}

#[test]
fn tab_walks_from_the_findings_through_the_panes_and_back() {
    let mut app = app_for(&model_with_findings(), 80, 24);
    assert!(app.findings_focused());
    app.update(key(KeyCode::Tab));
    assert!(!app.findings_focused());
    assert_eq!(app.focus(), Pane::ControlPlane);
    for _ in 0..3 {
        app.update(key(KeyCode::Tab));
    }
    assert_eq!(app.focus(), Pane::Restarts);
    app.update(key(KeyCode::Tab));
    assert!(app.findings_focused());
    app.update(key(KeyCode::Char('2')));
    assert_eq!(app.focus(), Pane::Nodes);
    assert!(!app.findings_focused());
    // Once the user moved the focus, new findings do not take it.
    app.update(Msg::ModelChanged(model()));
    app.update(Msg::ModelChanged(model_with_findings()));
    assert!(!app.findings_focused());
    app.update(key(KeyCode::Char('0')));
    assert!(app.findings_focused());
}

#[test]
fn before_the_first_evaluation_the_header_says_findings_are_being_looked_for() {
    let model = model();
    let app = app_for(&model, 80, 24);
    let rows = lines(&render_to_buffer(&app, &model, 80, 24));
    assert!(rows[0].contains("looking for root causes…"), "{}", rows[0]);
    assert!(rows[0].contains("findings: evaluating…"), "{}", rows[0]);
}
