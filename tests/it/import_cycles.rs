//! No import cycle between the crate's top-level modules (`src/X.rs` or `src/X/`): every
//! `crate::X…` path (also inside `use crate::{X, Y}` groups) and every `super::…` path that
//! climbs to the crate root is an edge from the module of the file it is written in to `X`.
//! Comments, strings and `$crate` are ignored; inline `mod name { … }` blocks count for
//! `super::`. `src/lib.rs` (only declarations) and `src/main.rs` (another crate) are skipped.
//!
//! An edge that takes part in a cycle (its target reaches its source again) fails the test,
//! unless it is in [`ALLOWED`], the cyclic edges there were when this test was written. An
//! allow-listed edge that no longer exists or no longer closes a cycle fails too, so the list
//! only shrinks. Run with `--nocapture` to see the current cycles with files and lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Edges allowed to close a cycle. Empty since 2026-12-07: the last ones (cluster ↔
/// playbooks, app ↔ ui, config ↔ ui) went when the query types moved to the API crate, the
/// connection diagnosis to `playbooks::connection`, the theme to `config::palette`, the
/// geometry to `app`, and the terminal loops to `tui`. Keep it empty: move the shared piece
/// down to the module that owns it instead of reaching back up.
const ALLOWED: &[(&str, &str)] = &[];

/// Where a reference was written: file relative to the repository, 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: String,
    line: usize,
    /// Written inside a `tests` module (a `tests.rs` file or an inline `mod tests`).
    test: bool,
}

/// (from, to) top-level module -> the places that reference `to` from inside `from`.
type Graph = BTreeMap<(String, String), Vec<Site>>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Rust source as tokens with their line, without comments, string and char literals.
fn tokens(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let is_ident_start = |ch: char| ch == '_' || ch.is_alphabetic();
    let is_ident = |ch: char| ch == '_' || ch.is_alphanumeric();
    // Skips a string body from the opening quote at `i` (escapes honoured); counts lines.
    let skip_str = |i: &mut usize, line: &mut usize| {
        *i += 1;
        while *i < c.len() && c[*i] != '"' {
            if c[*i] == '\\' {
                *i += 1;
            }
            if *i < c.len() && c[*i] == '\n' {
                *line += 1;
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            skip_str(&mut i, &mut line);
        } else if ch == '\'' {
            if next == Some('\\') {
                // An escaped char literal: '\n', '\'', '\u{..}'.
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3; // a char literal such as '{'
            } else {
                i += 1; // a lifetime: the identifier follows
            }
        } else if is_ident_start(ch) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if raw_prefix
                && c.get(i) == Some(&'#')
                && c.get(i + 1).is_some_and(|&n| is_ident_start(n))
            {
                i += 1; // r#ident: the identifier follows
            } else if raw_prefix && matches!(c.get(i), Some('"') | Some('#')) {
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1; // the opening quote
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '\n' {
                        line += 1;
                    }
                    if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
            } else if matches!(word.as_str(), "b" | "c") && c.get(i) == Some(&'"') {
                skip_str(&mut i, &mut line);
            } else if word == "b" && c.get(i) == Some(&'\'') {
                // b'x' or b'\n': leave the quote to the char literal branch.
            } else {
                out.push((Tok::Ident(word), line));
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
        } else if ch == ':' && next == Some(':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

/// The first path segment of each item of a `{ … }` group opening at `open`.
fn group_heads(toks: &[(Tok, usize)], open: usize) -> Vec<(String, usize)> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for (t, line) in &toks[open..] {
        match t {
            Tok::Punct('{') => {
                depth += 1;
                if depth == 1 {
                    expect_head = true;
                    continue;
                }
            }
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Punct(',') if depth == 1 => {
                expect_head = true;
                continue;
            }
            Tok::Ident(s) if depth == 1 && expect_head => heads.push((s.clone(), *line)),
            _ => {}
        }
        expect_head = false;
    }
    heads
}

/// A top-level module named from a file: (module, line, whether inside a `tests` module).
type Reference = (String, usize, bool);

/// The top-level modules that `src`, the file of module `module_path`, names through
/// `crate::` or a `super::` chain that reaches the crate root.
fn root_references(src: &str, module_path: &[String]) -> Vec<Reference> {
    let toks = tokens(src);
    let mut refs = Vec::new();
    let mut depth = 0usize;
    // Inline modules we are in: (name, brace depth inside them).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut pending_mod: Option<String> = None;
    // Reads what follows a path that reached the crate root at token `at`.
    let file_in_tests = module_path.iter().any(|m| m == "tests");
    let after_root = |at: usize, inline: &[(String, usize)], refs: &mut Vec<Reference>| {
        let test = file_in_tests || inline.iter().any(|(m, _)| m == "tests");
        match toks.get(at) {
            Some((Tok::Ident(s), line)) => refs.push((s.clone(), *line, test)),
            Some((Tok::Punct('{'), _)) => refs.extend(
                group_heads(&toks, at)
                    .into_iter()
                    .map(|(m, line)| (m, line, test)),
            ),
            _ => {}
        }
    };
    let mut i = 0;
    while i < toks.len() {
        let prev = if i > 0 { Some(&toks[i - 1].0) } else { None };
        match &toks[i].0 {
            Tok::Punct('{') => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((name, depth));
                }
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Punct(';') => pending_mod = None,
            Tok::Ident(w) if w == "mod" => {
                if let Some(name) = ident(toks.get(i + 1))
                    && toks.get(i + 2).map(|t| &t.0) == Some(&Tok::Punct('{'))
                {
                    pending_mod = Some(name.to_string());
                }
            }
            Tok::Ident(w)
                if w == "crate"
                    && prev != Some(&Tok::Punct('$'))
                    && prev != Some(&Tok::PathSep)
                    && toks.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep) =>
            {
                after_root(i + 2, &inline, &mut refs);
            }
            Tok::Ident(w) if w == "super" && prev != Some(&Tok::PathSep) => {
                let mut j = i;
                let mut climbs = 0;
                while ident(toks.get(j)) == Some("super")
                    && toks.get(j + 1).map(|t| &t.0) == Some(&Tok::PathSep)
                {
                    climbs += 1;
                    j += 2;
                }
                let here = module_path.len() + inline.len();
                if climbs > 0 && climbs == here {
                    after_root(j, &inline, &mut refs);
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The workspace's crates, bottom up: the directory of each (relative to the repository)
/// and its package name. A crate may depend (also as a dev-dependency) only on crates listed
/// before it; `.` is the root package (the app, the core and the binary).
const LAYERS: &[(&str, &str)] = &[
    ("src/api", "ktriage-api"),
    ("src/snapshot", "ktriage-snapshot"),
    ("src/scenarios", "ktriage-scenarios"),
    ("src/server", "ktriage-server"),
    (".", "ktriage"),
];

/// The module graph of one crate: its sources under `src_dir`, without the directories of
/// other crates (`skip`). The crate root (`lib.rs`, `main.rs`, or a `mod.rs` at the top) only
/// declares modules and is left out.
fn graph(root: &Path, src_dir: &Path, skip: &[PathBuf]) -> (BTreeSet<String>, Graph) {
    let mut files = Vec::new();
    rust_files(src_dir, &mut files);
    files.retain(|f| !skip.iter().any(|s| f.starts_with(s)));
    files.sort();
    let mut modules = BTreeSet::new();
    let mut parsed = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(src_dir)
            .expect("under the crate's directory");
        let mut path: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if path.last().is_some_and(|l| l == "mod") {
            path.pop();
        }
        if path.is_empty() || path == ["lib"] || path == ["main"] {
            continue;
        }
        modules.insert(path[0].clone());
        parsed.push((file, path));
    }
    let mut g = Graph::new();
    for (file, path) in parsed {
        let text = std::fs::read_to_string(&file).expect("source file reads");
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (to, line, test) in root_references(&text, &path) {
            if to != path[0] && modules.contains(&to) {
                g.entry((path[0].clone(), to)).or_default().push(Site {
                    file: shown.clone(),
                    line,
                    test,
                });
            }
        }
    }
    (modules, g)
}

/// The member crates' directories (absolute), to leave out of the root crate's graph.
fn member_dirs(root: &Path) -> Vec<PathBuf> {
    LAYERS
        .iter()
        .filter(|(dir, _)| *dir != ".")
        .map(|(dir, _)| root.join(dir))
        .collect()
}

/// Which modules each module reaches through one or more edges.
fn reach(modules: &BTreeSet<String>, g: &Graph) -> BTreeMap<String, BTreeSet<String>> {
    let mut reach: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in modules {
        let mut seen = BTreeSet::new();
        let mut stack = vec![m.clone()];
        while let Some(n) = stack.pop() {
            for (from, to) in g.keys() {
                if *from == n && seen.insert(to.clone()) {
                    stack.push(to.clone());
                }
            }
        }
        reach.insert(m.clone(), seen);
    }
    reach
}

/// Edges that take part in a cycle: their target reaches their source.
fn cyclic_edges(modules: &BTreeSet<String>, g: &Graph) -> BTreeSet<(String, String)> {
    let reach = reach(modules, g);
    g.keys()
        .filter(|(from, to)| reach[to].contains(from))
        .cloned()
        .collect()
}

/// Every elementary cycle, each once, starting at its smallest module.
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    fn walk(g: &Graph, start: &str, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let last = path.last().expect("non-empty path").clone();
        for (from, to) in g.keys() {
            if *from != last {
                continue;
            }
            if to == start {
                out.push(path.clone());
            } else if to.as_str() > start && !path.contains(to) {
                path.push(to.clone());
                walk(g, start, path, out);
                path.pop();
            }
        }
    }
    let starts: BTreeSet<&String> = g.keys().map(|(from, _)| from).collect();
    let mut out = Vec::new();
    for s in starts {
        walk(g, s, &mut vec![s.clone()], &mut out);
    }
    out
}

fn describe(g: &Graph) -> String {
    let mut s = String::new();
    let all = cycles(g);
    let _ = writeln!(s, "{} cycle(s) between top-level modules:", all.len());
    for c in &all {
        let _ = writeln!(s, "  {} -> {}", c.join(" -> "), c[0]);
    }
    let modules: BTreeSet<String> = g.keys().flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
    let _ = writeln!(s, "edges in cycles, with the references that make them:");
    for edge in cyclic_edges(&modules, g) {
        let sites = &g[&edge];
        let _ = writeln!(s, "  {} -> {} ({} references)", edge.0, edge.1, sites.len());
        for site in sites {
            let test = if site.test { " (test code)" } else { "" };
            let _ = writeln!(s, "      {}:{}{test}", site.file, site.line);
        }
    }
    s
}

#[test]
fn no_new_import_cycle_between_the_root_crates_top_level_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (modules, g) = graph(root, &root.join("src"), &member_dirs(root));
    assert!(
        modules.len() >= 10 && g.len() >= 10,
        "the module graph looks empty: {modules:?}, {} edges",
        g.len()
    );
    let cyclic = cyclic_edges(&modules, &g);
    let allowed: BTreeSet<(String, String)> = ALLOWED
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let report = describe(&g);
    println!("{report}");
    let new: Vec<_> = cyclic.difference(&allowed).collect();
    let gone: Vec<_> = allowed.difference(&cyclic).collect();
    let mut problems = String::new();
    for (a, b) in &new {
        let _ = writeln!(
            problems,
            "new edge {a} -> {b} closes a cycle ({}); break it instead of allow-listing it",
            g[&(a.clone(), b.clone())]
                .iter()
                .map(|s| format!("{}:{}", s.file, s.line))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (a, b) in &gone {
        let what = if g.contains_key(&(a.clone(), b.clone())) {
            "no longer closes a cycle"
        } else {
            "no longer exists"
        };
        let _ = writeln!(
            problems,
            "allow-listed edge {a} -> {b} {what}: delete it from ALLOWED in {}",
            file!()
        );
    }
    assert!(problems.is_empty(), "{problems}\n{report}");
}

#[test]
fn no_import_cycle_inside_the_member_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = String::new();
    for (dir, name) in LAYERS.iter().filter(|(dir, _)| *dir != ".") {
        let (modules, g) = graph(root, &root.join(dir), &[]);
        assert!(!modules.is_empty(), "{name}: no modules found under {dir}");
        if !cyclic_edges(&modules, &g).is_empty() {
            let _ = writeln!(problems, "{name} ({dir}):\n{}", describe(&g));
        }
    }
    assert!(problems.is_empty(), "{problems}");
}

/// The `ktriage-*` crates a manifest depends on, in any dependency table.
fn workspace_deps(manifest: &str) -> BTreeSet<String> {
    let doc: toml::Table = manifest.parse().expect("manifest parses");
    let mut out = BTreeSet::new();
    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = doc.get(table).and_then(|t| t.as_table()) {
            out.extend(deps.keys().filter(|k| k.starts_with("ktriage")).cloned());
        }
    }
    out
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = String::new();
    for (i, (dir, name)) in LAYERS.iter().enumerate() {
        let manifest = std::fs::read_to_string(root.join(dir).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{dir}/Cargo.toml: {e}"));
        let below: BTreeSet<&str> = LAYERS[..i].iter().map(|(_, n)| *n).collect();
        for dep in workspace_deps(&manifest) {
            if !below.contains(dep.as_str()) {
                let _ = writeln!(
                    problems,
                    "{name} depends on {dep}, which is not a layer below it (layers: {LAYERS:?})"
                );
            }
        }
    }
    // Every member the workspace declares is a layer here, so none escapes the check.
    let top: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("Cargo.toml reads")
        .parse()
        .expect("Cargo.toml parses");
    let members: Vec<&str> = top["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    for m in members {
        if !LAYERS.iter().any(|(dir, _)| *dir == m) {
            let _ = writeln!(problems, "workspace member {m} is not in LAYERS");
        }
    }
    assert!(problems.is_empty(), "{problems}");
}

#[test]
fn a_dependency_on_a_higher_layer_is_caught() {
    let manifest = "[package]\nname = \"x\"\n[dependencies]\nktriage-server = { path = \"../server\" }\nserde = \"1\"\n[dev-dependencies]\nktriage-api = { path = \"../api\" }\n";
    assert_eq!(
        workspace_deps(manifest),
        BTreeSet::from(["ktriage-api".to_string(), "ktriage-server".to_string()])
    );
}

// ---- the parser on small inputs -----------------------------------------------------

fn refs(src: &str, module: &[&str]) -> Vec<String> {
    let path: Vec<String> = module.iter().map(|s| s.to_string()).collect();
    root_references(src, &path)
        .into_iter()
        .map(|(m, line, test)| format!("{m}:{line}{}", if test { " test" } else { "" }))
        .collect()
}

#[test]
fn crate_paths_and_groups_are_edges_but_comments_strings_and_dollar_crate_are_not() {
    let src = r##"use crate::health::Severity;
use crate::{report, snapshot::{self, Snapshot}};
// use crate::ui;
/* crate::app */
const S: &str = "crate::server { ";
const R: &str = r#"crate::source"#;
const C: char = '{';
fn f<'a>(x: &'a str) -> crate::cluster::Thing { todo!() }
macro_rules! m { () => { $crate::config::x() } }
"##;
    assert_eq!(
        refs(src, &["playbooks", "engine"]),
        ["health:1", "report:2", "snapshot:2", "cluster:8"]
    );
}

#[test]
fn super_counts_only_when_it_climbs_to_the_crate_root() {
    // From src/cli.rs one `super` is the crate root; from src/server/http.rs it takes two,
    // and three inside its inline `mod tests { … }`.
    assert_eq!(refs("use super::report;", &["cli"]), ["report:1"]);
    assert_eq!(
        refs("use super::store;", &["server", "http"]),
        Vec::<String>::new()
    );
    assert_eq!(refs("use super::super::ui;", &["server", "http"]), ["ui:1"]);
    let src = "fn a() { let s = \"}\"; }\nmod tests {\n    use super::super::store;\n    use super::super::super::{app, ui};\n}\nuse super::super::health;\n";
    assert_eq!(
        refs(src, &["server", "http"]),
        ["app:4 test", "ui:4 test", "health:6"]
    );
}
