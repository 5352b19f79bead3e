//! The smallest text edit of a spec: set `spec.environments.<env>.<field>`
//! in a `platform.yaml` by splicing its text at the places the span-aware
//! loader found, so that comments, key order, quoting and every other byte
//! stay as they were. A value already there is replaced in place (in its own
//! quoting style); a missing field, environment or `environments:` block is
//! inserted in the file's own indentation (block style) or before the
//! closing brace (flow style). The result is parsed again and must differ
//! from the original only at the field set, so no value can change the
//! document's structure.
//!
//! Inserted lines end with the file's own line break (`\r\n` or `\n`); a
//! block scalar (`|`, `>`) ends at its last line of content (and, kept with
//! `+`, its blank lines), so a line is inserted after it, not inside it, and
//! a block scalar that is the value set is replaced whole. An alias (`*a`)
//! as the value set is replaced by the value; an anchored value (`&a`) keeps
//! its anchor, and is refused when an alias repeats it (changing it would
//! change every alias), naming the aliases' lines.
//!
//! [`move_to_secrets`] (in `edit::secrets`) is the other edit: a literal
//! secret taken out of `env` and declared in `spec.secrets`, checked the
//! same way.
//!
//! Architecture invariant: pure text in, text out; knows no file, no
//! platform and no diagnostics (a refusal is a plain message and, where one
//! value is the reason, its span).

use serde_json::Value as Json;

use crate::load::{self, Documents, Entry, Node, Value};
use crate::source::{Source, Span};

/// Why an edit cannot be made: in plain words, and where in the text when
/// one value is the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub message: String,
    pub span: Option<Span>,
    /// The value is anchored and an alias repeats it: writing the value out
    /// where the alias is would make the edit possible.
    pub anchored: bool,
}

impl From<String> for Refusal {
    fn from(message: String) -> Refusal {
        Refusal {
            message,
            span: None,
            anchored: false,
        }
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Refusal {
        Refusal::from(message.to_string())
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

mod secrets;
pub(crate) use secrets::move_to_secrets;

/// The text of `text` with `spec.environments.<env>.<field>` set to `value`
/// (a string or a number). `Err` says in plain words why it cannot be done.
pub(crate) fn set_override(
    text: &str,
    env: &str,
    field: &str,
    value: &Json,
) -> Result<String, Refusal> {
    let doc = parse(text)?;
    let spec = doc
        .get("spec")
        .filter(|s| matches!(s.value, Value::Map(_)))
        .ok_or("the spec has no `spec` mapping")?;
    let unit = indent_unit(text, &doc, spec);
    let nl = line_break(text);
    let edited = match spec.get("environments") {
        None => insert_entry(
            text,
            spec,
            "environments",
            &Tree::Map(vec![(env, Tree::Map(vec![(field, Tree::Leaf(value))]))]),
            (unit, nl),
        )?,
        Some(envs) => match envs.get(env) {
            None if envs.value == Value::Null => {
                let key_end = spec
                    .entry("environments")
                    .map_or(envs.span.start, |e| e.key_span.end);
                fill_null(
                    text,
                    key_end,
                    env,
                    &Tree::Map(vec![(field, Tree::Leaf(value))]),
                )?
            }
            None => insert_entry(
                text,
                envs,
                env,
                &Tree::Map(vec![(field, Tree::Leaf(value))]),
                (unit, nl),
            )?,
            Some(over) => match over.entry(field) {
                Some(old) => {
                    let edited = replace_scalar(text, old, value)?;
                    if let Err(why) = check(text, &edited, env, field, value) {
                        return Err(anchored(text, old).unwrap_or(why));
                    }
                    return Ok(edited);
                }
                None if over.value == Value::Null => {
                    let key_end = envs.entry(env).map_or(over.span.start, |e| e.key_span.end);
                    fill_null(text, key_end, field, &Tree::Leaf(value))?
                }
                None => insert_entry(text, over, field, &Tree::Leaf(value), (unit, nl))?,
            },
        },
    };
    check(text, &edited, env, field, value)?;
    Ok(edited)
}

/// What is inserted: a scalar, or a mapping of them.
enum Tree<'a> {
    Leaf(&'a Json),
    Map(Vec<(&'a str, Tree<'a>)>),
}

fn parse(text: &str) -> Result<Node, String> {
    let src = Source::virtual_file("platform.yaml", text.to_string());
    let (mut docs, diags) = load::parse(&src, Documents::One);
    if !diags.is_empty() || docs.len() != 1 {
        return Err("the spec is not one valid YAML document".into());
    }
    docs.pop().ok_or_else(|| "the spec is empty".into())
}

/// Whether a mapping or sequence node is written in flow style (`{…}`, `[…]`).
fn is_flow(text: &str, node: &Node) -> bool {
    matches!(
        text.as_bytes().get(node.span.start),
        Some(b'{') | Some(b'[')
    )
}

/// The column a byte offset is at.
fn column(text: &str, at: usize) -> usize {
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..at.min(text.len())].chars().count()
}

/// The file's indentation step: how far `spec`'s keys sit from the top
/// level's (2 when `spec` is written in flow style or is empty).
fn indent_unit(text: &str, doc: &Node, spec: &Node) -> usize {
    if let (Value::Map(top), Value::Map(inner)) = (&doc.value, &spec.value) {
        if let (Some(a), Some(b)) = (top.first(), inner.first()) {
            if !is_flow(text, spec) {
                let step =
                    column(text, b.key_span.start).saturating_sub(column(text, a.key_span.start));
                if step > 0 {
                    return step;
                }
            }
        }
    }
    2
}

/// The file's line break: `\r\n` when its first line ends so, else `\n`.
fn line_break(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The start of the line holding byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// The leading spaces of the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> usize {
    let start = line_start(text, at);
    text[start..].len() - text[start..].trim_start_matches(' ').len()
}

/// Where a node's text ends: its last scalar's end for a block collection
/// (a block collection's own span may reach into the next line), a block
/// scalar's last line of content. `parent` is the column of the key (or
/// `-`) that holds the node: a block scalar's lines are indented further.
fn deep_end(text: &str, node: &Node, parent: usize) -> usize {
    match &node.value {
        Value::Map(entries) if !is_flow(text, node) => {
            entries.last().map_or(node.span.end, |e| entry_end(text, e))
        }
        Value::Seq(items) if !is_flow(text, node) => items.last().map_or(node.span.end, |n| {
            deep_end(text, n, line_indent(text, n.span.start))
        }),
        Value::Map(_) | Value::Seq(_) => node.span.end,
        _ => block_scalar(text, node.span.start, parent).map_or(node.span.end, |b| b.end),
    }
}

/// Where a mapping entry's text ends (see [`deep_end`]).
fn entry_end(text: &str, e: &Entry) -> usize {
    match e.value.value {
        Value::Map(_) | Value::Seq(_) => {
            deep_end(text, &e.value, column(text, e.key_span.start)).max(e.key_span.end)
        }
        _ => scalar_end(text, e).max(e.key_span.end),
    }
}

/// The start of a value's own text: after its anchor (`&name`) and tag
/// (`!tag`), if it has them.
fn after_properties(text: &str, mut at: usize) -> usize {
    while matches!(text.as_bytes().get(at), Some(b'&') | Some(b'!')) {
        let rest = &text[at..];
        let word = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
        let gap = rest[word..].len() - rest[word..].trim_start_matches([' ', '\t']).len();
        if gap == 0 {
            break;
        }
        at += word + gap;
    }
    at
}

/// A block scalar (`|`, `>`, with their indicators) whose indicator is at or
/// after `at` (past its anchor and tag): from the indicator to the end of its
/// last line of content, and, with keep chomping (`+`), of the blank lines
/// after it, which are part of its value. `parent`: the column of its key;
/// the scalar's lines are the blank ones and those indented further.
fn block_scalar(text: &str, at: usize, parent: usize) -> Option<Span> {
    let start = after_properties(text, at);
    if !matches!(text.as_bytes().get(start), Some(b'|') | Some(b'>')) {
        return None;
    }
    let header_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let header = &text[start..header_end];
    let indicators = header.split([' ', '\t', '#']).next().unwrap_or("");
    let keep = indicators.contains('+');
    let mut end = text[start..header_end].trim_end().len() + start;
    let mut line = header_end + 1;
    while line < text.len() {
        let stop = text[line..].find('\n').map_or(text.len(), |i| line + i);
        let content = text[line..stop].trim_end_matches('\r');
        if content.trim().is_empty() {
            if keep {
                end = line + content.len();
            }
        } else if content.len() - content.trim_start_matches(' ').len() > parent {
            end = line + content.len();
        } else {
            break;
        }
        line = stop + 1;
    }
    Some(Span::new(start, end))
}

/// When the value at `entry` carries an anchor (`&name`) that an alias
/// elsewhere refers to, the refusal that says so (changing the anchored
/// value would change every alias of it).
fn anchored(text: &str, entry: &Entry) -> Option<Refusal> {
    let at = value_start(text, entry);
    let rest = text[at..].strip_prefix('&')?;
    let name_len = rest
        .find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}'])
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    let alias = format!("*{name}");
    let lines: Vec<String> = text
        .match_indices(&alias)
        .filter(|(i, _)| {
            let after = text[i + alias.len()..].chars().next();
            after.is_none_or(|c| c.is_whitespace() || ",]}".contains(c))
        })
        .map(|(i, _)| format!("line {}", text[..i].matches('\n').count() + 1))
        .collect();
    let used = match lines.as_slice() {
        [] => "other values may refer to it".to_string(),
        some => format!("`{alias}` at {} refers to it", some.join(", ")),
    };
    let own = Span::new(at, scalar_end(text, entry));
    Some(Refusal {
        message: format!(
            "the value is anchored as `&{name}` and {used}: changing it here would change that too"
        ),
        span: Some(own),
        anchored: true,
    })
}

/// Where the value of `entry` is written: after the key's colon and spaces.
fn value_start(text: &str, entry: &Entry) -> usize {
    let after_key = entry.key_span.end;
    let colon = text[after_key..]
        .find(':')
        .map_or(entry.value.span.start, |i| after_key + i + 1);
    let gap = text[colon..].len() - text[colon..].trim_start_matches([' ', '\t']).len();
    let at = colon + gap;
    // A value on a later line: where the loader found it.
    match text.get(at..entry.value.span.start) {
        Some(between) if !between.is_empty() && between.trim().is_empty() => entry.value.span.start,
        _ => at,
    }
}

/// The end of a scalar value's own text.
fn scalar_end(text: &str, entry: &Entry) -> usize {
    let col = column(text, entry.key_span.start);
    let start = after_properties(text, value_start(text, entry));
    match block_scalar(text, start, col) {
        Some(b) => b.end,
        None => scalar_span(text, Span::new(start, entry.value.span.end.max(start))).end,
    }
}

/// A scalar as YAML text: plain when it cannot be read as anything but this
/// string (by YAML 1.1 or 1.2 readers), else double-quoted (a JSON string is
/// a YAML double-quoted scalar).
pub(crate) fn scalar(value: &Json) -> String {
    match value {
        Json::String(s) => {
            let safe = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/@+-:".contains(c))
                && !s.ends_with(':')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
                );
            if safe {
                s.clone()
            } else {
                Json::String(s.clone()).to_string()
            }
        }
        other => other.to_string(),
    }
}

/// Replaces a scalar's text, in the quoting style it had when that style
/// can hold the new value; its anchor stays; an alias or a block scalar is
/// replaced whole by the value.
fn replace_scalar(text: &str, entry: &Entry, value: &Json) -> Result<String, Refusal> {
    let old = &entry.value;
    if matches!(old.value, Value::Map(_) | Value::Seq(_)) {
        return Err(Refusal {
            message: "the field holds a collection, not a single value".into(),
            span: Some(old.span),
            anchored: false,
        });
    }
    let start = after_properties(text, value_start(text, entry));
    let span = Span::new(start, scalar_end(text, entry));
    let written = &text[span.start..span.end];
    let new = match (written.as_bytes().first(), value) {
        (Some(b'\''), Json::String(s)) => format!("'{}'", s.replace('\'', "''")),
        (Some(b'"'), Json::String(s)) => Json::String(s.clone()).to_string(),
        _ => scalar(value),
    };
    Ok(splice(text, span, &new))
}

/// A scalar's own text: the loader's span may run on over the spaces and
/// the comment after it.
fn scalar_span(text: &str, span: Span) -> Span {
    let raw = &text[span.start..span.end];
    let len = match raw.as_bytes().first() {
        Some(b'"') => {
            let mut escaped = false;
            raw.char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })
                .map_or(raw.len(), |(i, _)| i + 1)
        }
        Some(b'\'') => {
            let b = raw.as_bytes();
            let mut i = 1;
            loop {
                match b.get(i) {
                    None => break raw.len(),
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                    Some(b'\'') => break i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        _ => {
            let cut = raw.find(" #").unwrap_or(raw.len());
            let line = raw[..cut].find('\n').unwrap_or(cut);
            raw[..line].trim_end().len()
        }
    };
    Span::new(span.start, span.start + len)
}

fn splice(text: &str, span: Span, new: &str) -> String {
    let mut out = String::with_capacity(text.len() + new.len());
    out.push_str(&text[..span.start]);
    out.push_str(new);
    out.push_str(&text[span.end..]);
    out
}

/// A tree in flow style: `{image: x}`.
fn flow(tree: &Tree<'_>) -> String {
    match tree {
        Tree::Leaf(v) => scalar(v),
        Tree::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", key(k), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `key: value` lines in block style, each line after the first at `indent`.
/// Lines end with `nl`, the file's own line break.
fn block(key_text: &str, tree: &Tree<'_>, indent: usize, (unit, nl): (usize, &str)) -> String {
    match tree {
        Tree::Leaf(v) => format!("{}: {}", key(key_text), scalar(v)),
        Tree::Map(entries) => {
            let mut out = format!("{}:", key(key_text));
            for (k, v) in entries {
                out.push_str(nl);
                out.push_str(&" ".repeat(indent + unit));
                out.push_str(&block(k, v, indent + unit, (unit, nl)));
            }
            out
        }
    }
}

fn key(k: &str) -> String {
    scalar(&Json::String(k.to_string()))
}

/// Adds `name: tree` to the mapping `map`, in its style.
fn insert_entry(
    text: &str,
    map: &Node,
    name: &str,
    tree: &Tree<'_>,
    (unit, nl): (usize, &str),
) -> Result<String, Refusal> {
    match &map.value {
        Value::Map(entries) if is_flow(text, map) => {
            // After the last value (a trailing comma stays after the new
            // entry), or, when empty, before the closing brace.
            let item = format!("{}: {}", key(name), flow(tree));
            if let Some(last) = entries.last() {
                let end = last.value.span.end.max(last.key_span.end);
                return Ok(splice(text, Span::new(end, end), &format!(", {item}")));
            }
            let close = text[..map.span.end]
                .rfind('}')
                .filter(|&i| i >= map.span.start)
                .ok_or("cannot find the end of a flow mapping")?;
            Ok(splice(text, Span::new(close, close), &item))
        }
        Value::Map(entries) => {
            let Some(first) = entries.first() else {
                return Err("cannot insert into an empty block mapping".into());
            };
            let indent = column(text, first.key_span.start);
            let last: &Entry = entries.last().unwrap_or(first);
            let end = entry_end(text, last);
            // Before the line break that ends the last value's line.
            let at = text[end..]
                .find(['\r', '\n'])
                .map_or(text.len(), |i| end + i);
            let line = format!(
                "{nl}{}{}",
                " ".repeat(indent),
                block(name, tree, indent, (unit, nl))
            );
            Ok(splice(text, Span::new(at, at), &line))
        }
        _ => Err(format!(
            "cannot add `{name}`: its parent is {}, not a mapping",
            map.type_name()
        )
        .into()),
    }
}

/// `production:` with nothing after it: the value becomes a flow mapping,
/// written right after the key's colon.
fn fill_null(text: &str, key_end: usize, name: &str, tree: &Tree<'_>) -> Result<String, Refusal> {
    let colon = text[key_end..]
        .find(':')
        .map(|i| key_end + i + 1)
        .ok_or("cannot find the key's colon")?;
    Ok(splice(
        text,
        Span::new(colon, colon),
        &format!(" {{{}: {}}}", key(name), flow(tree)),
    ))
}

/// The edited text must parse, and its tree must be the original's with
/// only the one field set.
fn check(before: &str, after: &str, env: &str, field: &str, value: &Json) -> Result<(), Refusal> {
    let mut want = parse(before)?.to_json();
    let got = parse(after)
        .map_err(|_| "the edited spec would not be valid YAML".to_string())?
        .to_json();
    let spec = want
        .get_mut("spec")
        .and_then(Json::as_object_mut)
        .ok_or("the spec has no `spec` mapping")?;
    let envs = spec
        .entry("environments")
        .or_insert_with(|| Json::Object(Default::default()));
    if envs.is_null() {
        *envs = Json::Object(Default::default());
    }
    let over = envs
        .as_object_mut()
        .ok_or("`environments` is not a mapping")?
        .entry(env)
        .or_insert_with(|| Json::Object(Default::default()));
    if over.is_null() {
        *over = Json::Object(Default::default());
    }
    over.as_object_mut()
        .ok_or("the environment's override is not a mapping")?
        .insert(field.to_string(), value.clone());
    if got != want {
        return Err("the edit would change more than the promoted field".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(text: &str, env: &str, field: &str, value: Json) -> String {
        match set_override(text, env, field, &value) {
            Ok(t) => t,
            Err(e) => format!("ERROR: {e}"),
        }
    }

    const BLOCK: &str = "apiVersion: paved.dev/v1\nspec:\n  image: a:1   # base\n  environments:\n    production:\n      image: \"a:0\"  # pinned\n      replicas: 3\n";

    #[test]
    fn replaces_a_value_in_its_own_quoting() {
        assert_eq!(
            set(BLOCK, "production", "image", json!("a:2")),
            BLOCK.replace("\"a:0\"", "\"a:2\"")
        );
        let single = "spec:\n  environments:\n    production: {image: 'a:0'}\n";
        assert_eq!(
            set(single, "production", "image", json!("it's")),
            single.replace("'a:0'", "'it''s'")
        );
    }

    #[test]
    fn inserts_a_missing_field_environment_or_block() {
        assert_eq!(
            set(BLOCK, "production", "size", json!("large")),
            BLOCK.replace("replicas: 3\n", "replicas: 3\n      size: large\n")
        );
        assert_eq!(
            set(BLOCK, "staging", "image", json!("a:1")),
            BLOCK.replace(
                "replicas: 3\n",
                "replicas: 3\n    staging:\n      image: a:1\n"
            )
        );
        let bare =
            "spec:\n    image: a:1 # four\n    ports:\n      - {name: http, port: 80}\n# end\n";
        assert_eq!(
            set(bare, "production", "image", json!("a:1")),
            bare.replace(
                "port: 80}\n",
                "port: 80}\n    environments:\n        production:\n            image: a:1\n"
            )
        );
    }

    #[test]
    fn flow_style_gets_flow_insertions() {
        let text = "spec:\n  image: a:1\n  environments: {staging: {image: a:2}, production: {replicas: 2}}\n";
        assert_eq!(
            set(text, "production", "image", json!("a:2")),
            text.replace("{replicas: 2}", "{replicas: 2, image: a:2}")
        );
        let empty = "spec:\n  image: a:1\n  environments: {production: {}}\n";
        assert_eq!(
            set(empty, "production", "image", json!("a:2")),
            empty.replace("{}", "{image: a:2}")
        );
        let null = "spec:\n  image: a:1\n  environments:\n    production:\n";
        assert_eq!(
            set(null, "production", "image", json!("a:2")),
            null.replace("production:\n", "production: {image: a:2}\n")
        );
    }

    #[test]
    fn a_crlf_file_keeps_its_line_endings() {
        let crlf = BLOCK.replace('\n', "\r\n");
        assert_eq!(
            set(&crlf, "production", "size", json!("large")),
            crlf.replace("replicas: 3\r\n", "replicas: 3\r\n      size: large\r\n")
        );
        assert_eq!(
            set(&crlf, "staging", "image", json!("a:1")),
            crlf.replace(
                "replicas: 3\r\n",
                "replicas: 3\r\n    staging:\r\n      image: a:1\r\n"
            )
        );
        assert_eq!(
            set(&crlf, "production", "image", json!("a:2")),
            crlf.replace("\"a:0\"", "\"a:2\"")
        );
        // No line break at the end of the file: the inserted line still
        // starts with the file's own.
        let bare = "spec:\r\n  image: a:1\r\n  ports: [{name: http, port: 80}]";
        assert_eq!(
            set(bare, "production", "image", json!("a:1")),
            format!("{bare}\r\n  environments:\r\n    production:\r\n      image: a:1")
        );
    }

    #[test]
    fn a_block_scalar_last_in_the_block_is_kept_whole() {
        let next = "spec:\n  environments:\n    production:\n      notes: |\n        first\n    staging:\n      replicas: 1\n";
        assert_eq!(
            set(next, "production", "image", json!("a:2")),
            next.replace("first\n", "first\n      image: a:2\n")
        );
        let text = "spec:\n  image: a:1\n  environments:\n    production:\n      notes: |\n        first\n\n          more # not a comment\n    # a comment after\n  ports: []\n";
        assert_eq!(
            set(text, "production", "image", json!("a:2")),
            text.replace(
                "more # not a comment\n",
                "more # not a comment\n      image: a:2\n"
            )
        );
        // Keep chomping: the blank lines at its end are its value too.
        let keep = "spec:\n  environments:\n    production:\n      notes: >+\n        folded\n\n  image: a:1\n";
        assert_eq!(
            set(keep, "production", "image", json!("a:2")),
            keep.replace("folded\n\n", "folded\n\n      image: a:2\n")
        );
        // A block scalar as the value replaced: the whole of it.
        let target = "spec:\n  environments:\n    production:\n      image: >-\n        a:0\n      replicas: 2\n  image: a:1\n";
        assert_eq!(
            set(target, "production", "image", json!("a:2")),
            target.replace(">-\n        a:0\n", "a:2\n")
        );
    }

    #[test]
    fn anchors_and_aliases() {
        // An alias as the value: replaced by the literal.
        let alias = "spec:\n  image: &base a:1\n  environments:\n    production:\n      image: *base # same\n";
        assert_eq!(
            set(alias, "production", "image", json!("a:2")),
            alias.replace("*base # same", "a:2 # same")
        );
        // An anchor nothing refers to: the value changes, the anchor stays.
        let lone = "spec:\n  environments:\n    production:\n      image: &img \"a:0\"\n";
        assert_eq!(
            set(lone, "production", "image", json!("a:2")),
            lone.replace("\"a:0\"", "\"a:2\"")
        );
        // An anchor other values refer to: changing it would change them.
        let shared = "spec:\n  environments:\n    production:\n      image: &img a:0\n    canary:\n      image: *img\n";
        let err = set_override(shared, "production", "image", &json!("a:2")).unwrap_err();
        assert!(err.message.contains("`&img`"), "{}", err.message);
        assert!(err.message.contains("line 6"), "{}", err.message);
        let at = err.span.expect("located");
        assert_eq!(&shared[at.start..at.end], "&img a:0");
    }

    #[test]
    fn a_value_cannot_change_the_structure() {
        let out = set(BLOCK, "production", "size", json!("x\nkind: Evil"));
        assert!(out.contains("size: \"x\\nkind: Evil\""), "{out}");
        assert_eq!(scalar(&json!("no")), "\"no\"");
        assert_eq!(scalar(&json!("12:30")), "\"12:30\"");
        assert_eq!(scalar(&json!("ghcr.io/a/b:1.2")), "ghcr.io/a/b:1.2");
        assert_eq!(scalar(&json!("a #b")), "\"a #b\"");
        assert_eq!(scalar(&json!(3)), "3");
    }
}
