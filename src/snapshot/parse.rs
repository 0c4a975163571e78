//! Reading one snapshot text: multi-document YAML split on `---`/`...` lines (so every error
//! knows its document index and file line), JSON (one value, a stream of values, or the stdout
//! of `kubectl cluster-info dump` with its `==== START logs ...` sections), `*List` flattening,
//! and the mapping of `ktriage/v1` documents to the typed evidence.

use serde_json::{Map, Value};

use super::evidence::{Connection, NodeLog, PodLog, RawResponse, SnapshotInfo};
use super::{EVIDENCE_API_VERSION, Snapshot, SnapshotError};

/// Parses `text` (named `file` in errors) into a snapshot.
pub(crate) fn parse(text: &str, file: &str) -> Result<Snapshot, SnapshotError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.trim_start().chars().next();
    if matches!(first, Some('{') | Some('[')) {
        let mut json = Reader::new(file);
        match json.json_stream(text) {
            Ok(()) => Ok(json.snapshot),
            // YAML flow syntax (`{kind: Pod, ...}`) also starts with `{`, and shows itself
            // by an unquoted key; any other JSON error is the precise one, reported without
            // a second (and, for deep nesting, very slow) attempt as YAML.
            Err(json_err) if json_err.to_string().contains("key must be a string") => {
                if nesting_depth(text) > MAX_FLOW_DEPTH {
                    return Err(json_err);
                }
                let mut yaml = Reader::new(file);
                match yaml.yaml_documents(text) {
                    Ok(()) => Ok(yaml.snapshot),
                    Err(_) => Err(json_err),
                }
            }
            Err(json_err) => Err(json_err),
        }
    } else {
        let mut yaml = Reader::new(file);
        yaml.yaml_documents(text)?;
        Ok(yaml.snapshot)
    }
}

/// Deepest flow-style YAML read back (serde_json's own limit for JSON is 128).
const MAX_FLOW_DEPTH: usize = 128;

/// The deepest bracket nesting of `text`, counted outside quoted strings (an estimate that
/// is exact for JSON and flow YAML).
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut quote, mut escaped) = (0usize, 0usize, None, false);
    for c in text.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '{' | '[' => {
                    depth += 1;
                    max = max.max(depth);
                }
                '}' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    max
}

/// Where a document sits in its file.
#[derive(Debug, Clone, Copy)]
struct Loc {
    document: usize,
    line: usize,
}

struct Reader<'f> {
    file: &'f str,
    snapshot: Snapshot,
}

impl<'f> Reader<'f> {
    fn new(file: &'f str) -> Self {
        Reader {
            file,
            snapshot: Snapshot::default(),
        }
    }

    /// Leaves out one document that cannot be read as what it claims to be (no `kind`, an
    /// evidence document without its required fields): the rest of the snapshot still counts,
    /// and the dropped document is named with its file, index, line and reason.
    fn drop_document(&mut self, loc: Loc, message: String) -> Result<(), SnapshotError> {
        let why = self.malformed(loc, message).to_string();
        self.snapshot.dropped.push(why);
        Ok(())
    }

    fn malformed(&self, loc: Loc, message: impl Into<String>) -> SnapshotError {
        SnapshotError::Malformed {
            file: self.file.to_string(),
            document: loc.document,
            line: loc.line,
            message: message.into(),
        }
    }

    // ---------------------------------------------------------------- YAML

    fn yaml_documents(&mut self, text: &str) -> Result<(), SnapshotError> {
        for chunk in split_yaml(text) {
            let loc = Loc {
                document: chunk.index,
                line: chunk.content_line,
            };
            // Merge keys (`<<: *defaults`) are resolved, but only where a plain `<<` key
            // appears: a quoted '<<' key (as written by `to_yaml`) is data.
            let has_merge_key = chunk.text.contains("<<:") || chunk.text.contains("<< :");
            let parsed =
                serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&chunk.text).and_then(|mut v| {
                    if has_merge_key {
                        v.apply_merge()?;
                    }
                    Ok(v)
                });
            let yaml = match parsed {
                Ok(v) => v,
                Err(e) => {
                    let line = e
                        .location()
                        .map(|l| chunk.start_line + l.line() - 1)
                        .unwrap_or(chunk.content_line);
                    let message = shift_line_numbers(&e.to_string(), chunk.start_line - 1);
                    return Err(self.malformed(
                        Loc {
                            document: chunk.index,
                            line,
                        },
                        message,
                    ));
                }
            };
            let value = yaml_to_json(yaml);
            self.document(value, loc, "")?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- JSON

    /// One JSON value, or several one after another (as `kubectl cluster-info dump` prints
    /// them), possibly with `==== START logs for container ... ====` sections between them.
    fn json_stream(&mut self, text: &str) -> Result<(), SnapshotError> {
        let mut lines = LineCounter::new(text);
        let mut pos = 0;
        let mut document = 0;
        loop {
            let rest = &text[pos..];
            let trimmed = rest.trim_start();
            pos += rest.len() - trimmed.len();
            if trimmed.is_empty() {
                return Ok(());
            }
            let line = lines.line_at(pos);
            if trimmed.starts_with(LOG_START) {
                let (logs, consumed) = read_log_section(trimmed);
                self.snapshot.pod_logs.extend(logs);
                pos += consumed;
                continue;
            }
            let mut stream = serde_json::Deserializer::from_str(trimmed).into_iter::<Value>();
            let loc = Loc { document, line };
            match stream.next() {
                Some(Ok(value)) => {
                    pos += stream.byte_offset();
                    self.document(value, loc, "")?;
                    document += 1;
                }
                Some(Err(e)) => {
                    let mut message = shift_line_numbers(&e.to_string(), line - 1);
                    if message.starts_with("recursion limit exceeded") {
                        message.push_str(" (nested more than 128 levels deep)");
                    }
                    let at = Loc {
                        document,
                        line: line + e.line().saturating_sub(1),
                    };
                    return Err(self.malformed(at, message));
                }
                None => return Ok(()),
            }
        }
    }

    // ---------------------------------------------------------------- documents

    /// Files one parsed document (or one item of a List; `path` then says which).
    fn document(&mut self, value: Value, loc: Loc, path: &str) -> Result<(), SnapshotError> {
        let at = |msg: String| {
            if path.is_empty() {
                msg
            } else {
                format!("{path}: {msg}")
            }
        };
        let mut obj = match value {
            Value::Null => return Ok(()),
            Value::Object(obj) => obj,
            Value::Array(items) => {
                // A bare sequence of objects reads like the items of a List.
                return self.items(items, loc, path, None);
            }
            other => {
                return self.drop_document(
                    loc,
                    at(format!(
                        "expected a mapping (a Kubernetes object or ktriage/v1 evidence), found {}",
                        describe(&other)
                    )),
                );
            }
        };
        let kind = match obj.get("kind") {
            Some(Value::String(k)) if !k.is_empty() => k.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return self.drop_document(
                    loc,
                    at(
                        "missing `kind`: every document must be a Kubernetes object \
                        (apiVersion, kind, metadata) or ktriage/v1 evidence"
                            .to_string(),
                    ),
                );
            }
            Some(other) => {
                let message = at(format!(
                    "`kind` must be a string, found {}",
                    describe(other)
                ));
                return self.drop_document(loc, message);
            }
        };
        let api_version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        if api_version.as_deref() == Some(EVIDENCE_API_VERSION) {
            return match self.evidence(&kind, obj) {
                Ok(()) => Ok(()),
                Err(msg) => self.drop_document(loc, at(format!("{kind}: {msg}"))),
            };
        }
        // Only take `items` out when it is a sequence: anything else stays in the object.
        if kind.ends_with("List")
            && matches!(obj.get("items"), Some(Value::Array(_)))
            && let Some(Value::Array(items)) = obj.remove("items")
        {
            let item_kind = kind
                .strip_suffix("List")
                .filter(|k| !k.is_empty())
                .map(|k| (k.to_string(), api_version));
            // A list of a kind is all of it there was: absence among its items is real.
            if let Some((k, _)) = &item_kind {
                let info = self.snapshot.info.get_or_insert_with(Default::default);
                if !info.captured.contains(k) {
                    info.captured.push(k.clone());
                }
            }
            return self.items(items, loc, path, item_kind);
        }
        self.snapshot
            .objects
            .push(super::normalize::object(Value::Object(obj)));
        Ok(())
    }

    /// Items of a List. `typed`: the item kind and apiVersion of a typed list (`PodList`),
    /// whose items come without `kind` when printed by `kubectl cluster-info dump` or
    /// returned by the API server.
    fn items(
        &mut self,
        items: Vec<Value>,
        loc: Loc,
        path: &str,
        typed: Option<(String, Option<String>)>,
    ) -> Result<(), SnapshotError> {
        for (i, item) in items.into_iter().enumerate() {
            let item_path = if path.is_empty() {
                format!("items[{i}]")
            } else {
                format!("{path}.items[{i}]")
            };
            let item = match (item, &typed) {
                (Value::Object(mut obj), Some((kind, api_version))) => {
                    if !obj.contains_key("kind") {
                        obj.insert("kind".into(), Value::String(kind.clone()));
                        if let (false, Some(v)) = (obj.contains_key("apiVersion"), api_version) {
                            obj.insert("apiVersion".into(), Value::String(v.clone()));
                        }
                    }
                    Value::Object(obj)
                }
                (Value::Object(obj), None) => Value::Object(obj),
                (other, _) => {
                    self.drop_document(
                        loc,
                        format!(
                            "{item_path}: expected an object, found {}",
                            describe(&other)
                        ),
                    )?;
                    continue;
                }
            };
            self.document(item, loc, &item_path)?;
        }
        Ok(())
    }

    /// A `ktriage/v1` document. Errors are messages naming the field.
    fn evidence(&mut self, kind: &str, obj: Map<String, Value>) -> Result<(), String> {
        let snap = &mut self.snapshot;
        match kind {
            "PodLog" => snap.pod_logs.push(PodLog {
                namespace: opt_str(&obj, "metadata.namespace")?
                    .unwrap_or_else(|| "default".to_string()),
                pod: req_str(&obj, "metadata.name")?,
                container: opt_str(&obj, "container")?,
                previous: opt_bool(&obj, "previous")?.unwrap_or(false),
                text: req_str(&obj, "text")?,
            }),
            "NodeLog" => snap.node_logs.push(NodeLog {
                node: req_str(&obj, "metadata.name")?,
                unit: opt_str(&obj, "unit")?.unwrap_or_default(),
                text: req_str(&obj, "text")?,
            }),
            "Response" => {
                let code = match get(&obj, "code") {
                    None => return Err("missing field `code`".into()),
                    Some(v) => v
                        .as_u64()
                        .and_then(|c| u16::try_from(c).ok())
                        .filter(|c| (100..=599).contains(c))
                        .ok_or_else(|| {
                            format!("`code` must be an HTTP status code, found {}", describe(v))
                        })?,
                };
                let body = match get(&obj, "body") {
                    None => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                snap.responses.push(RawResponse {
                    method: opt_str(&obj, "method")?.unwrap_or_else(|| "GET".to_string()),
                    path: req_str(&obj, "path")?,
                    code,
                    body,
                });
            }
            "Connection" => {
                let conn: Connection = serde_json::from_value(Value::Object(without_nulls(obj)))
                    .map_err(|e| e.to_string())?;
                snap.connections.push(conn);
            }
            "SnapshotInfo" => {
                let info: SnapshotInfo = serde_json::from_value(Value::Object(without_nulls(obj)))
                    .map_err(|e| e.to_string())?;
                match &mut snap.info {
                    None => snap.info = Some(info),
                    Some(existing) => super::fill_info(existing, info),
                }
            }
            _ => snap.unknown_evidence.push(Value::Object(obj)),
        }
        Ok(())
    }
}

/// Drops top-level `null` fields so that `field: ~` reads as an absent field.
fn without_nulls(mut obj: Map<String, Value>) -> Map<String, Value> {
    obj.retain(|_, v| !v.is_null());
    obj
}

/// The value at a dotted path; `null` counts as absent.
fn get<'v>(obj: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    let mut parts = path.split('.');
    let mut cur = obj.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_object()?.get(part)?;
    }
    (!cur.is_null()).then_some(cur)
}

fn opt_str(obj: &Map<String, Value>, path: &str) -> Result<Option<String>, String> {
    match get(obj, path) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`{path}` must be a string, found {} (quote it)",
            describe(other)
        )),
    }
}

fn req_str(obj: &Map<String, Value>, path: &str) -> Result<String, String> {
    opt_str(obj, path)?.ok_or_else(|| format!("missing field `{path}`"))
}

fn opt_bool(obj: &Map<String, Value>, path: &str) -> Result<Option<bool>, String> {
    match get(obj, path) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!(
            "`{path}` must be true or false, found {}",
            describe(other)
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a sequence".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// YAML value to JSON value: non-string keys become their text, tags are dropped, and
/// non-finite floats (`.inf`, `.nan`), which JSON cannot hold, are kept as their YAML text.
fn yaml_to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(n.to_string()))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(yaml_key(k), yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_key(k: serde_yaml_ng::Value) -> String {
    use serde_yaml_ng::Value as Y;
    match k {
        Y::String(s) => s,
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        other => yaml_to_json(other).to_string(),
    }
}

/// Rewrites every `line N` in a parser message so that it counts from the start of the file.
fn shift_line_numbers(message: &str, offset: usize) -> String {
    if offset == 0 {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len() + 8);
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        let (before, after) = rest.split_at(i + "line ".len());
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// 1-based line of a byte offset, for offsets visited in increasing order.
struct LineCounter<'t> {
    text: &'t str,
    pos: usize,
    line: usize,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, pos: usize) -> usize {
        if pos < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        let end = pos.min(self.text.len());
        self.line += self.text.as_bytes()[self.pos..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos = end;
        self.line
    }
}

// -------------------------------------------------------------------- YAML splitting

/// One YAML document of a multi-document file.
#[derive(Debug)]
struct Chunk {
    /// 0-based among the documents that hold anything but comments.
    index: usize,
    /// 1-based file line of the chunk's first text line.
    start_line: usize,
    /// 1-based file line of its first line with content (for errors about the whole document).
    content_line: usize,
    text: String,
}

/// `---` (optionally followed by a space and more) or `...` at column 0.
fn marker(line: &str, m: &str) -> Option<String> {
    let rest = line.strip_prefix(m)?;
    if rest.is_empty() {
        return Some(String::new());
    }
    rest.starts_with([' ', '\t']).then(|| rest.to_string())
}

fn is_blank_line(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// Splits on document markers at column 0, which the YAML spec forbids inside any scalar,
/// so a split never cuts a value. Content after `---` on the marker line stays on that line
/// (the marker itself is blanked out) so column and line numbers still match the file.
fn split_yaml(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut index = 0;
    let mut current = String::new();
    let mut start_line = 1;
    let mut content_line: Option<usize> = None;
    let mut in_preamble = true;

    let mut flush = |current: &mut String,
                     start_line: usize,
                     content_line: &mut Option<usize>,
                     chunks: &mut Vec<Chunk>| {
        if let Some(cl) = content_line.take() {
            chunks.push(Chunk {
                index,
                start_line,
                content_line: cl,
                text: std::mem::take(current),
            });
            index += 1;
        } else {
            current.clear();
        }
    };

    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = marker(line, "---") {
            flush(&mut current, start_line, &mut content_line, &mut chunks);
            in_preamble = false;
            start_line = n;
            current.push_str("   ");
            current.push_str(&rest);
            current.push('\n');
            if !is_blank_line(&rest) {
                content_line = Some(n);
            }
            continue;
        }
        if marker(line, "...").is_some() {
            flush(&mut current, start_line, &mut content_line, &mut chunks);
            in_preamble = true;
            start_line = n + 1;
            continue;
        }
        if in_preamble && content_line.is_none() && line.starts_with('%') {
            // A directive (`%YAML 1.2`) before the document's `---`: keep the line count.
            current.push('\n');
            continue;
        }
        current.push_str(raw);
        current.push('\n');
        if content_line.is_none() && !is_blank_line(line) {
            content_line = Some(n);
            in_preamble = false;
        }
    }
    flush(&mut current, start_line, &mut content_line, &mut chunks);
    chunks
}

// -------------------------------------------------------------------- cluster-info dump logs

pub(crate) const LOG_START: &str = "==== START logs for container ";
const LOG_END: &str = "==== END logs for container ";

/// Parses `==== START logs for container C of pod NS/P ====` header text after the prefix.
fn parse_log_header(rest: &str) -> Option<(String, String, String)> {
    let rest = rest.trim_end().strip_suffix("====")?.trim_end();
    let (container, pod_ref) = rest.split_once(" of pod ")?;
    let (ns, pod) = pod_ref.split_once('/')?;
    Some((container.to_string(), ns.to_string(), pod.to_string()))
}

/// Reads one log section starting at `text` (which begins with [`LOG_START`]). Returns the
/// log and the bytes consumed (through the END line, or all of `text` when it is missing).
fn read_log_section(text: &str) -> (Vec<PodLog>, usize) {
    let header_end = text.find('\n').unwrap_or(text.len());
    let header = &text[LOG_START.len().min(header_end)..header_end];
    let body_start = (header_end + 1).min(text.len());
    let end_marker = format!("{LOG_END}{}", header.trim_end());
    let body = &text[body_start..];
    // kubectl writes the END line right after the log, which need not end with a newline.
    let (log_text, consumed) = match body.find(&end_marker) {
        Some(i) => {
            let after = body[i..]
                .find('\n')
                .map(|j| i + j + 1)
                .unwrap_or(body.len());
            (&body[..i], body_start + after)
        }
        None => (body, text.len()),
    };
    let logs = match parse_log_header(header) {
        Some((container, namespace, pod)) => vec![PodLog {
            namespace,
            pod,
            container: Some(container),
            previous: false,
            text: log_text.to_string(),
        }],
        None => Vec::new(),
    };
    (logs, consumed)
}

/// Byte offset of the first line of `text` that starts with `prefix`.
fn find_line(text: &str, prefix: &str) -> Option<usize> {
    if text.starts_with(prefix) {
        return Some(0);
    }
    text.match_indices(prefix)
        .map(|(i, _)| i)
        .find(|&i| text.as_bytes()[i - 1] == b'\n')
}

/// The logs in a `NS/POD/logs.txt` of a cluster-info dump directory: one per
/// `==== START logs ... ====` section, or the whole text as the pod's log when it has none.
pub(crate) fn pod_logs_file(text: &str, namespace: &str, pod: &str) -> Vec<PodLog> {
    let Some(first) = find_line(text, LOG_START) else {
        return vec![PodLog {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: None,
            previous: false,
            text: text.to_string(),
        }];
    };
    let mut logs = Vec::new();
    let mut pos = first;
    while pos < text.len() {
        let rest = &text[pos..];
        if rest.starts_with(LOG_START) {
            let (section, consumed) = read_log_section(rest);
            logs.extend(section);
            pos += consumed.max(1);
        } else {
            match find_line(rest, LOG_START) {
                Some(i) => pos += i,
                None => break,
            }
        }
    }
    logs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_counts_documents_and_lines() {
        let text =
            "# leading comment\n---\na: 1\n---\n# only a comment\n---\n\nb: 2\n...\n---\nc: 3\n";
        let chunks = split_yaml(text);
        let got: Vec<(usize, usize, usize)> = chunks
            .iter()
            .map(|c| (c.index, c.start_line, c.content_line))
            .collect();
        assert_eq!(got, vec![(0, 2, 3), (1, 6, 8), (2, 10, 11)]);
    }

    #[test]
    fn content_after_marker_stays_on_its_line() {
        let chunks = split_yaml("--- {kind: A}\n--- # c\nkind: B\n");
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].content_line, 1);
        assert_eq!(chunks[1].content_line, 3);
        assert!(chunks[0].text.starts_with("    {kind: A}"));
    }

    #[test]
    fn dashes_inside_a_value_do_not_split() {
        let chunks = split_yaml("a: |\n  ---\n  x\nb: ---x\n----\n");
        assert_eq!(chunks.len(), 1);
    }

    #[test]
    fn shifts_line_numbers_in_messages() {
        assert_eq!(
            shift_line_numbers("bad at line 3 column 4, while x at line 1 column 1", 10),
            "bad at line 13 column 4, while x at line 11 column 1"
        );
    }

    #[test]
    fn log_sections_split_even_without_final_newline() {
        let text = "==== START logs for container a of pod ns/p ====\n\
                    no newline at end==== END logs for container a of pod ns/p ====\n\
                    ==== START logs for container b of pod ns/p ====\n\
                    b1\n==== END logs for container b of pod ns/p ====\n";
        let logs = pod_logs_file(text, "ns", "p");
        let got: Vec<(Option<&str>, &str)> = logs
            .iter()
            .map(|l| (l.container.as_deref(), l.text.as_str()))
            .collect();
        assert_eq!(got, [(Some("a"), "no newline at end"), (Some("b"), "b1\n")]);
    }

    #[test]
    fn log_header_parses() {
        assert_eq!(
            parse_log_header("etcd of pod kube-system/etcd-cp-1 ===="),
            Some(("etcd".into(), "kube-system".into(), "etcd-cp-1".into()))
        );
    }

    #[test]
    fn yaml_keys_and_specials_convert() {
        let y: serde_yaml_ng::Value = serde_yaml_ng::from_str("1: a\ntrue: b\nx: .inf\n").unwrap();
        let j = yaml_to_json(y);
        assert_eq!(j["1"], "a");
        assert_eq!(j["true"], "b");
        assert_eq!(j["x"], ".inf");
    }
}
