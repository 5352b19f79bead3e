//! Moving a literal secret out of `spec.env` into `spec.secrets` (an
//! environment's `env` is refused: it has no `secrets` of its own, and a
//! spec-level secret would reach every environment; so is a variable an
//! environment also sets): the `env` entry is removed (with `env` itself
//! when it was the only one, or left as `env: {}` when `spec` holds nothing
//! else), and an entry
//! `{env: NAME, ref: "…"}` is added to `spec.secrets` in the spec's own
//! style: after the last item of a block list, at its indentation, as a flow
//! or block mapping like the first item; inside the brackets of a flow list;
//! and when there is no `secrets:` yet, as a new block list indented like
//! the spec's other lists (a flow mapping per item, unless those lists hold
//! block mappings). The value is never copied: only the variable's name and
//! the reference are written. The result is parsed again and must be the
//! original tree with only those two changes.

use serde_json::{json, Value as Json};

use super::{column, key, parse, scalar, scalar_span, splice};
use crate::load::{Entry, Node, Value};
use crate::source::Span;

/// What [`move_to_secrets`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Moved {
    pub text: String,
    /// `false` when `spec.secrets` already had an entry for the variable:
    /// only the literal was removed.
    pub declared: bool,
}

/// How the `env` entry was taken out.
enum Removed {
    /// The variable, from an `env` with other variables.
    Variable,
    /// The whole `env`, whose only variable it was.
    Env,
    /// `env: {}`: its parent holds nothing else.
    Emptied,
}

/// `text` with the `env` entry at `from` (`/spec/env/NAME` or
/// `/spec/environments/ENV/env/NAME`) removed and `{env, ref: reference}`
/// declared in `spec.secrets`. `Err` says in plain words why not. A file
/// whose every line ends in `\r\n` keeps them.
pub(crate) fn move_to_secrets(
    text: &str,
    from: &str,
    env: &str,
    reference: &str,
) -> Result<Moved, String> {
    let crlf = text.contains("\r\n") && !text.replace("\r\n", "").contains('\n');
    if !crlf {
        return move_lf(text, from, env, reference);
    }
    let m = move_lf(&text.replace("\r\n", "\n"), from, env, reference)?;
    Ok(Moved {
        text: m.text.replace('\n', "\r\n"),
        ..m
    })
}

fn move_lf(text: &str, from: &str, env: &str, reference: &str) -> Result<Moved, String> {
    let steps: Vec<String> = from
        .strip_prefix('/')
        .ok_or("not a JSON pointer")?
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let [holder_path @ .., env_key, var] = steps.as_slice() else {
        return Err("the pointer does not name an `env` entry".into());
    };
    if env_key != "env" || holder_path != ["spec"] {
        return Err("the pointer does not name an entry of `spec.env`".into());
    }
    let doc = parse(text)?;
    // An environment that sets the variable too would then override a secret.
    let overridden = doc
        .get("spec")
        .and_then(|s| s.get("environments"))
        .is_some_and(|envs| match &envs.value {
            Value::Map(entries) => entries
                .iter()
                .any(|e| e.value.get("env").and_then(|v| v.get(var)).is_some()),
            _ => false,
        });
    if overridden {
        return Err("an environment sets the variable too".into());
    }
    let mut holder = &doc;
    for step in holder_path {
        holder = holder.get(step).ok_or("the `env` entry is not there")?;
    }
    let (Value::Map(holder_entries), Some(env_node)) = (&holder.value, holder.get("env")) else {
        return Err("the `env` entry is not there".into());
    };
    let Value::Map(vars) = &env_node.value else {
        return Err("`env` is not a mapping".into());
    };
    let var_at = vars
        .iter()
        .position(|e| &e.key == var)
        .ok_or("the variable is not in `env`")?;
    let (removed, how) = if vars.len() > 1 {
        (remove_entry(text, env_node, var_at)?, Removed::Variable)
    } else if holder_entries.len() > 1 {
        let at = holder_entries
            .iter()
            .position(|e| e.key == "env")
            .ok_or("the `env` entry is not there")?;
        (remove_entry(text, holder, at)?, Removed::Env)
    } else {
        let entry = holder.entry("env").ok_or("the `env` entry is not there")?;
        (empty_value(text, entry)?, Removed::Emptied)
    };

    let doc1 = parse(&removed)?;
    let spec = doc1
        .get("spec")
        .filter(|s| matches!(s.value, Value::Map(_)))
        .ok_or("the spec has no `spec` mapping")?;
    let already = spec.get("secrets").is_some_and(|s| match &s.value {
        Value::Seq(items) => items
            .iter()
            .any(|i| i.get("env").and_then(Node::as_str) == Some(env)),
        _ => false,
    });
    let edited = if already {
        removed
    } else {
        declare(&removed, spec, env, reference)?
    };

    // The tree must be the original's with only those changes.
    let mut want = doc.to_json();
    let parent = holder_path
        .iter()
        .try_fold(&mut want, |v, step| v.get_mut(step))
        .and_then(Json::as_object_mut)
        .ok_or("the `env` entry is not there")?;
    match how {
        Removed::Variable => {
            if let Some(vars) = parent.get_mut("env").and_then(Json::as_object_mut) {
                vars.shift_remove(var.as_str());
            }
        }
        Removed::Env => {
            parent.shift_remove("env");
        }
        Removed::Emptied => {
            parent.insert("env".into(), json!({}));
        }
    }
    if !already {
        let spec = want
            .get_mut("spec")
            .and_then(Json::as_object_mut)
            .ok_or("the spec has no `spec` mapping")?;
        let secrets = spec.entry("secrets").or_insert_with(|| json!([]));
        if secrets.is_null() {
            *secrets = json!([]);
        }
        secrets
            .as_array_mut()
            .ok_or("`secrets` is not a list")?
            .push(json!({"env": env, "ref": reference}));
    }
    let got = parse(&edited)
        .map_err(|_| "the edited spec would not be valid YAML".to_string())?
        .to_json();
    if got != want {
        return Err("the edit would change more than the secret".into());
    }
    Ok(Moved {
        text: edited,
        declared: !already,
    })
}

/// Whether a collection is written in flow style (`{…}`, `[…]`). An
/// indentless block list (`key:` then `- item` at the key's column) starts
/// where its first item does, which may be a bracket: that is block style.
fn flow(text: &str, node: &Node) -> bool {
    let at = text.as_bytes().get(node.span.start);
    match &node.value {
        Value::Seq(items) => {
            at == Some(&b'[')
                && items
                    .first()
                    .is_none_or(|i| i.span.start != node.span.start)
        }
        _ => at == Some(&b'{'),
    }
}

/// The start of the line `at` is on.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just after the line break that ends the line `at` is on (or the end).
fn next_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// Where a block mapping entry's text ends: after its key's line and every
/// following line indented deeper than the key (or, for a list written at
/// the key's own indentation, starting with `- `); blank lines count only
/// when more of the entry follows. A flow value ends with the line of its
/// closing bracket.
fn block_entry_end(text: &str, entry: &Entry) -> usize {
    // A flow collection ends at its closing bracket, wherever that is.
    if flow(text, &entry.value) {
        if let Some(close) = flow_close(text, &entry.value) {
            return next_line(text, close);
        }
    }
    let col = entry.key_span.start - line_start(text, entry.key_span.start);
    let seq = matches!(entry.value.value, Value::Seq(_)) && !flow(text, &entry.value);
    let mut end = next_line(text, entry.key_span.start);
    let mut pos = end;
    while pos < text.len() {
        let next = next_line(text, pos);
        let line = text[pos..next].trim_end_matches(['\n', '\r']);
        pos = next;
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        let dash = &line[indent..] == "-" || line[indent..].starts_with("- ");
        if indent > col || (seq && indent == col && dash) {
            end = next;
        } else {
            break;
        }
    }
    end
}

/// The closing bracket of a flow collection (its span may end at its last
/// item): past white space, commas and comments.
fn flow_close(text: &str, node: &Node) -> Option<usize> {
    let mut at = node.span.end.max(node.span.start + 1);
    if matches!(text.as_bytes().get(at - 1), Some(b'}' | b']')) {
        return Some(at - 1);
    }
    while let Some(&b) = text.as_bytes().get(at) {
        match b {
            b'}' | b']' => return Some(at),
            b' ' | b'\t' | b'\n' | b'\r' | b',' => at += 1,
            b'#' => at = next_line(text, at),
            _ => return None,
        }
    }
    None
}

/// Where a value's own text ends (a scalar without the comment after it).
fn value_end(text: &str, node: &Node) -> usize {
    match node.value {
        Value::Map(_) | Value::Seq(_) => node.span.end,
        _ => scalar_span(text, node.span).end,
    }
}

/// `text` without entry `at` of the mapping `map`.
fn remove_entry(text: &str, map: &Node, at: usize) -> Result<String, String> {
    let Value::Map(entries) = &map.value else {
        return Err("not a mapping".into());
    };
    let e = entries.get(at).ok_or("no such entry")?;
    let end_of = |e: &Entry| value_end(text, &e.value).max(e.key_span.end);
    if flow(text, map) {
        let span = match (
            at.checked_sub(1).and_then(|i| entries.get(i)),
            entries.get(at + 1),
        ) {
            (Some(prev), _) => Span::new(end_of(prev), end_of(e)),
            (None, Some(next)) => Span::new(e.key_span.start, next.key_span.start),
            (None, None) => Span::new(e.key_span.start, end_of(e)),
        };
        return Ok(splice(text, span, ""));
    }
    let start = line_start(text, e.key_span.start);
    if !text[start..e.key_span.start].bytes().all(|b| b == b' ') {
        return Err("the entry does not start its line".into());
    }
    Ok(splice(text, Span::new(start, block_entry_end(text, e)), ""))
}

/// `env: {}` in place of the entry's value.
fn empty_value(text: &str, entry: &Entry) -> Result<String, String> {
    let colon = text[entry.key_span.end..]
        .find(':')
        .map(|i| entry.key_span.end + i + 1)
        .ok_or("cannot find the key's colon")?;
    let end = if flow(text, &entry.value) {
        flow_close(text, &entry.value).map_or(entry.value.span.end, |c| c + 1)
    } else {
        block_entry_end(text, entry).min(text.len()).max(colon)
    };
    let keep_break = text[colon..end].ends_with('\n');
    Ok(splice(
        text,
        Span::new(colon, end),
        if keep_break { " {}\n" } else { " {}" },
    ))
}

/// The column of the `-` of the list item whose content starts at `at`.
fn dash_column(text: &str, at: usize) -> Option<usize> {
    let before = text[line_start(text, at)..at].trim_end_matches(' ');
    before
        .ends_with('-')
        .then(|| column(text, line_start(text, at) + before.len() - 1))
}

/// `{env: NAME, ref: "…"}`.
fn flow_item(env: &str, reference: &str) -> String {
    format!(
        "{{env: {}, ref: {}}}",
        key(env),
        scalar(&Json::String(reference.into()))
    )
}

/// The list item as lines: `- ITEM`, its dash at `dash`; block style puts
/// `ref` under `env` at `keys`.
fn item_lines(env: &str, reference: &str, dash: usize, keys: Option<usize>) -> String {
    match keys.filter(|k| *k > dash) {
        Some(k) => format!(
            "{}-{}env: {}\n{}ref: {}\n",
            " ".repeat(dash),
            " ".repeat(k - dash - 1),
            key(env),
            " ".repeat(k),
            scalar(&Json::String(reference.into()))
        ),
        None => format!("{}- {}\n", " ".repeat(dash), flow_item(env, reference)),
    }
}

/// The first block list of mappings among `spec`'s values: its dash column
/// relative to its key, and the column of its first item's keys when they
/// are written in block style.
fn list_style(text: &str, spec: &Node) -> Option<(usize, Option<usize>)> {
    let Value::Map(entries) = &spec.value else {
        return None;
    };
    entries.iter().find_map(|e| match &e.value.value {
        Value::Seq(items) if !flow(text, &e.value) => {
            let first = items.first()?;
            let dash = dash_column(text, first.span.start)?;
            let rel = dash.checked_sub(column(text, e.key_span.start))?;
            let keys = match &first.value {
                Value::Map(m) if !flow(text, first) => {
                    m.first().map(|k| column(text, k.key_span.start) - dash)
                }
                _ => None,
            };
            Some((rel, keys))
        }
        _ => None,
    })
}

/// `text` with `{env, ref}` added to `spec.secrets`.
fn declare(text: &str, spec: &Node, env: &str, reference: &str) -> Result<String, String> {
    let Value::Map(entries) = &spec.value else {
        return Err("the spec has no `spec` mapping".into());
    };
    let Some(entry) = spec.entry("secrets") else {
        if flow(text, spec) {
            let last = entries.last().ok_or("an empty `spec`")?;
            let end = value_end(text, &last.value).max(last.key_span.end);
            let new = format!(", secrets: [{}]", flow_item(env, reference));
            return Ok(splice(text, Span::new(end, end), &new));
        }
        let first = entries.first().ok_or("an empty `spec`")?;
        let last = entries.last().unwrap_or(first);
        let indent = column(text, first.key_span.start);
        let (rel, keys) = list_style(text, spec).unwrap_or((2, None));
        let dash = indent + rel;
        let end = block_entry_end(text, last);
        let lead = if text[..end].ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let new = format!(
            "{lead}{}secrets:\n{}",
            " ".repeat(indent),
            item_lines(env, reference, dash, keys.map(|k| dash + k))
        );
        return Ok(splice(text, Span::new(end, end), &new));
    };
    let secrets = &entry.value;
    match &secrets.value {
        Value::Null => {
            let colon = text[entry.key_span.end..]
                .find(':')
                .map(|i| entry.key_span.end + i + 1)
                .ok_or("cannot find the key's colon")?;
            let new = format!(" [{}]", flow_item(env, reference));
            Ok(splice(text, Span::new(colon, colon), &new))
        }
        Value::Seq(items) if flow(text, secrets) => match items.last() {
            Some(last) => {
                let end = value_end(text, last);
                let new = format!(", {}", flow_item(env, reference));
                Ok(splice(text, Span::new(end, end), &new))
            }
            None => {
                let close = text[..secrets.span.end]
                    .rfind(']')
                    .filter(|&i| i >= secrets.span.start)
                    .ok_or("cannot find the end of a flow list")?;
                Ok(splice(
                    text,
                    Span::new(close, close),
                    &flow_item(env, reference),
                ))
            }
        },
        Value::Seq(items) => {
            let first = items.first().ok_or("an empty list")?;
            let dash = dash_column(text, first.span.start).ok_or("cannot find a list item")?;
            let keys = match &first.value {
                Value::Map(m) if !flow(text, first) => {
                    m.first().map(|k| column(text, k.key_span.start))
                }
                _ => None,
            };
            let end = block_entry_end(text, entry);
            let lead = if text[..end].ends_with('\n') {
                ""
            } else {
                "\n"
            };
            let new = format!("{lead}{}", item_lines(env, reference, dash, keys));
            Ok(splice(text, Span::new(end, end), &new))
        }
        _ => Err("`secrets` is not a list".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: paved.dev/v1\nkind: Application\nmetadata: {name: orders}\nspec:\n  image: a:1\n  ports:\n    - {name: http, port: 80}\n";

    fn moved(extra: &str, from: &str) -> String {
        match move_to_secrets(&format!("{HEAD}{extra}"), from, "DB_PASSWORD", "o/db#value") {
            Ok(m) => m.text.strip_prefix(HEAD).unwrap_or(&m.text).to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    const FROM: &str = "/spec/env/DB_PASSWORD";

    #[test]
    fn a_new_secrets_list_follows_the_specs_lists() {
        assert_eq!(
            moved("  env:\n    A: b\n    DB_PASSWORD: x # c\n    C: d\n", FROM),
            "  env:\n    A: b\n    C: d\n  secrets:\n    - {env: DB_PASSWORD, ref: \"o/db#value\"}\n"
        );
        // An indentless list of block mappings sets the style.
        let head = "spec:\n  image: a:1\n  ports:\n  - name: http\n    port: 80\n  env:\n    DB_PASSWORD: x\n";
        let m = move_to_secrets(head, FROM, "DB_PASSWORD", "o/db#value").unwrap();
        assert_eq!(
            m.text,
            "spec:\n  image: a:1\n  ports:\n  - name: http\n    port: 80\n  secrets:\n  - env: DB_PASSWORD\n    ref: \"o/db#value\"\n"
        );
        // No line break at the end of the file.
        assert_eq!(
            moved("  env:\n    DB_PASSWORD: x", FROM),
            "  secrets:\n    - {env: DB_PASSWORD, ref: \"o/db#value\"}\n"
        );
    }

    #[test]
    fn existing_lists_grow_in_their_style() {
        assert_eq!(
            moved("  secrets:\n  - {env: A, ref: a#b}\n  env: {DB_PASSWORD: x, B: c}\n", FROM),
            "  secrets:\n  - {env: A, ref: a#b}\n  - {env: DB_PASSWORD, ref: \"o/db#value\"}\n  env: {B: c}\n"
        );
        assert_eq!(
            moved("  env: {B: c, DB_PASSWORD: x}\n  secrets: []\n", FROM),
            "  env: {B: c}\n  secrets: [{env: DB_PASSWORD, ref: \"o/db#value\"}]\n"
        );
        assert_eq!(
            moved("  env: {B: c, DB_PASSWORD: x}\n  secrets:\n", FROM),
            "  env: {B: c}\n  secrets: [{env: DB_PASSWORD, ref: \"o/db#value\"}]\n"
        );
    }

    #[test]
    fn a_declared_secret_only_loses_its_literal() {
        let m = move_to_secrets(
            &format!("{HEAD}  env:\n    DB_PASSWORD: x\n    B: c\n  secrets: [{{env: DB_PASSWORD, ref: a#b}}]\n"),
            FROM,
            "DB_PASSWORD",
            "o/db#value",
        )
        .unwrap();
        assert!(!m.declared);
        assert_eq!(
            m.text,
            format!("{HEAD}  env:\n    B: c\n  secrets: [{{env: DB_PASSWORD, ref: a#b}}]\n")
        );
    }

    #[test]
    fn an_environments_env_is_refused_and_block_scalars_move() {
        // The environment has no `secrets`: a spec-level secret would reach
        // every environment (and clash with a `spec.env` of the same name).
        assert!(moved(
            "  environments:\n    production:\n      env:\n        DB_PASSWORD: x\n",
            "/spec/environments/production/env/DB_PASSWORD"
        )
        .starts_with("ERROR"));
        assert!(moved(
            "  env:\n    DB_PASSWORD: ${resources.db.password}\n  environments:\n    production: {env: {DB_PASSWORD: x}}\n",
            "/spec/environments/production/env/DB_PASSWORD"
        )
        .starts_with("ERROR"));
        // A spec-level literal that an environment overrides stays put.
        assert!(moved(
            "  env:\n    DB_PASSWORD: x\n  environments:\n    production: {env: {DB_PASSWORD: y}}\n",
            FROM
        )
        .starts_with("ERROR"));
        assert_eq!(
            moved("  env:\n    DB_PASSWORD: |\n      x\n      y\n", FROM),
            "  secrets:\n    - {env: DB_PASSWORD, ref: \"o/db#value\"}\n"
        );
    }

    #[test]
    fn wide_list_items_and_multi_line_flow_env() {
        // `-   name:`: the new item's keys line up with the first item's.
        let text = "spec:\n    image: a:1\n    ports:\n        -   name: http\n            port: 8080\n    env:\n        DB_PASSWORD: x\n        LOG: info\n";
        let m = move_to_secrets(text, FROM, "DB_PASSWORD", "o/db#value").unwrap();
        assert_eq!(
            m.text,
            "spec:\n    image: a:1\n    ports:\n        -   name: http\n            port: 8080\n    env:\n        LOG: info\n    secrets:\n        -   env: DB_PASSWORD\n            ref: \"o/db#value\"\n"
        );
        // A flow `env` over several lines, its `}` at the key's column.
        assert_eq!(
            moved("  env: {\n    LOG: info,\n    DB_PASSWORD: \"x\",\n  }\n", FROM),
            "  env: {\n    LOG: info,\n  }\n  secrets:\n    - {env: DB_PASSWORD, ref: \"o/db#value\"}\n"
        );
    }

    #[test]
    fn crlf_line_ends_are_kept() {
        let text = format!("{HEAD}  env:\n    DB_PASSWORD: x\n    B: c\n").replace('\n', "\r\n");
        let m = move_to_secrets(&text, FROM, "DB_PASSWORD", "o/db#value").unwrap();
        assert_eq!(
            m.text,
            format!("{HEAD}  env:\n    B: c\n  secrets:\n    - {{env: DB_PASSWORD, ref: \"o/db#value\"}}\n")
                .replace('\n', "\r\n")
        );
    }

    #[test]
    fn what_is_not_there_is_refused() {
        assert!(moved("  env:\n    B: c\n", FROM).starts_with("ERROR"));
        assert!(moved("  env: [a]\n", FROM).starts_with("ERROR"));
        assert!(move_to_secrets("a: [", FROM, "X", "a#b").is_err());
        assert!(
            moved("  env:\n    DB_PASSWORD: x\n", "/metadata/env/DB_PASSWORD").starts_with("ERROR")
        );
    }
}
