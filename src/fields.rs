//! The fields of `platform.yaml` and `paved.yaml` described from the
//! embedded JSON Schema (the same one that validates input): type, default,
//! allowed values, the rule behind a pattern in words, the description and
//! the children of a mapping. `paved explain FIELD.PATH` prints it, and
//! `paved lsp` shows it on hover and offers the children as completions.
//!
//! Architecture invariant: the schema only; no files, no diagnostics.

use serde_json::Value as Json;

use crate::validate::schema::{self, did_you_mean, Kind};

/// What `explain` found about one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// As asked, normalised: `spec.ports[].port`.
    pub path: String,
    pub type_name: String,
    pub description: String,
    pub required: bool,
    pub default: Option<Json>,
    pub allowed: Vec<Json>,
    pub rule: Option<String>,
    pub range: Option<String>,
    /// Child fields of a mapping (or of a list's items): name, type, required, first sentence.
    pub children: Vec<(String, String, bool, String)>,
    /// For maps keyed by user names (`env`, `resources`, `environments`): what the keys are.
    pub keys: Option<String>,
}

/// Follows a local `$ref` chain.
pub(crate) fn resolve<'a>(root: &'a Json, mut s: &'a Json) -> &'a Json {
    for _ in 0..16 {
        match s.get("$ref").and_then(Json::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(t) => s = t,
                None => break,
            },
            None => break,
        }
    }
    s
}

/// A property's own keywords win over those of the definition it refers to
/// (a property can carry its own `description` next to a `$ref`).
pub(crate) fn get<'a>(root: &'a Json, s: &'a Json, key: &str) -> Option<&'a Json> {
    s.get(key).or_else(|| resolve(root, s).get(key))
}

pub(crate) fn first_sentence(s: &str) -> String {
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => s.to_string(),
    }
}

/// A type in words: `string`, `integer`, `[]object`, `map[string]object`,
/// `"auto" | integer`.
pub(crate) fn type_name(root: &Json, s: &Json) -> String {
    let r = resolve(root, s);
    if let Some(c) = get(root, s, "const") {
        return c.to_string();
    }
    if let Some(alts) = r.get("anyOf").or(r.get("oneOf")).and_then(Json::as_array) {
        return alts
            .iter()
            .map(|a| type_name(root, a))
            .collect::<Vec<_>>()
            .join(" | ");
    }
    match r.get("type") {
        Some(Json::String(t)) if t == "array" => match r.get("items") {
            Some(items) => format!("[]{}", type_name(root, items)),
            None => "[]any".into(),
        },
        Some(Json::String(t)) if t == "object" => match r.get("additionalProperties") {
            Some(a @ Json::Object(_)) if r.get("properties").is_none() => {
                format!("map[string]{}", type_name(root, a))
            }
            _ => "object".into(),
        },
        Some(Json::String(t)) => t.clone(),
        Some(Json::Array(ts)) => ts
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    }
}

/// The schema of a list's items, or the value itself: what a path step goes into.
fn items<'a>(root: &'a Json, s: &'a Json) -> &'a Json {
    let r = resolve(root, s);
    if r.get("type").and_then(Json::as_str) == Some("array") {
        if let Some(items) = r.get("items") {
            return resolve(root, items);
        }
    }
    r
}

/// The schema of the items of lists, the values of maps, or the mapping itself:
/// where the children of a field live.
fn container<'a>(root: &'a Json, s: &'a Json) -> &'a Json {
    let r = items(root, s);
    // A map of user-named entries: the fields are those of each entry.
    if let (Some(v @ Json::Object(_)), None) = (r.get("additionalProperties"), r.get("properties"))
    {
        let v = resolve(root, v);
        if v.get("properties").is_some() {
            return v;
        }
    }
    r
}

fn range_of(root: &Json, s: &Json) -> Option<String> {
    let r = resolve(root, s);
    // `"auto" | integer`: the range is the integer branch's.
    if let Some(alts) = r.get("anyOf").and_then(Json::as_array) {
        if let Some(found) = alts.iter().find_map(|a| range_of(root, a)) {
            return Some(found);
        }
    }
    let lo = get(root, s, "minimum").or(get(root, s, "exclusiveMinimum"));
    let hi = get(root, s, "maximum").or(get(root, s, "exclusiveMaximum"));
    let len_lo = r.get("minLength").or(r.get("minItems"));
    let len_hi = r.get("maxLength").or(r.get("maxItems"));
    let mut parts = Vec::new();
    match (lo, hi) {
        (Some(lo), Some(hi)) => parts.push(format!("{lo} to {hi}")),
        (Some(lo), None) => parts.push(format!("at least {lo}")),
        (None, Some(hi)) => parts.push(format!("at most {hi}")),
        _ => {}
    }
    let unit = if r.get("minItems").or(r.get("maxItems")).is_some() {
        "items"
    } else {
        "characters"
    };
    match (len_lo, len_hi) {
        (Some(a), Some(b)) => parts.push(format!("{a} to {b} {unit}")),
        (Some(a), None) if a.as_u64() != Some(0) => parts.push(format!("at least {a} {unit}")),
        (None, Some(b)) => parts.push(format!("at most {b} {unit}")),
        _ => {}
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Parses `spec.ports[0].port`, `spec.ports[].port` or `spec.ports.port`
/// into names.
fn segments(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(|s| match s.find('[') {
            Some(i) => s[..i].to_string(),
            None => s.to_string(),
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Looks a field up in the schema of `kind`.
pub(crate) fn field(kind: Kind, path: &str) -> Result<Field, String> {
    let root = schema::schema_json(kind);
    let file = match kind {
        Kind::Application => "platform.yaml",
        Kind::Platform => "paved.yaml (use --platform)",
    };
    let mut cur: &Json = root;
    let mut required = false;
    let mut shown: Vec<String> = Vec::new();
    for seg in segments(path) {
        let parent = items(root, cur);
        let props = parent.get("properties").and_then(Json::as_object);
        if let Some(child) = props.and_then(|p| p.get(&seg)) {
            required = parent
                .get("required")
                .and_then(Json::as_array)
                .is_some_and(|r| r.iter().any(|x| x == seg.as_str()));
            cur = child;
            let list = resolve(root, child).get("type").and_then(Json::as_str) == Some("array");
            shown.push(if list {
                format!("{seg}[]")
            } else {
                seg.clone()
            });
            continue;
        }
        // A map keyed by the user's own names (env, resources, environments).
        if let Some(value @ Json::Object(_)) = parent.get("additionalProperties") {
            if props.is_none() {
                cur = value;
                required = false;
                shown.push(format!("<{seg}>"));
                continue;
            }
        }
        let here = if shown.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{}`", shown.join("."))
        };
        let known: Vec<&str> = props
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let hint = match did_you_mean(&seg, &known) {
            Some(m) => format!("; did you mean `{m}`?"),
            None if known.is_empty() => format!("; {here} has no fields"),
            None => format!("; {here} has {}", known.join(", ")),
        };
        return Err(format!("{file} has no field `{seg}` under {here}{hint}"));
    }
    let r = resolve(root, cur);
    let c = container(root, cur);
    let mut children = Vec::new();
    if let Some(props) = c.get("properties").and_then(Json::as_object) {
        let req: Vec<&str> = c
            .get("required")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        for (name, s) in props {
            children.push((
                name.clone(),
                type_name(root, s),
                req.contains(&name.as_str()),
                first_sentence(
                    get(root, s, "description")
                        .and_then(Json::as_str)
                        .unwrap_or(""),
                ),
            ));
        }
    }
    let keys = match (r.get("additionalProperties"), r.get("properties")) {
        (Some(Json::Object(_)), None) => Some(
            r.get("propertyNames")
                .map(|n| resolve(root, n))
                .and_then(|n| n.get("x-paved-rule").or(n.get("description")))
                .and_then(Json::as_str)
                .unwrap_or("any name")
                .to_string(),
        ),
        _ => None,
    };
    let mut allowed: Vec<Json> = get(root, cur, "enum")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(alts) = r.get("anyOf").and_then(Json::as_array) {
        for a in alts {
            if let Some(v) = resolve(root, a).get("const") {
                allowed.push(v.clone());
            }
        }
    }
    let rule = get(root, cur, "x-paved-rule")
        .or_else(|| {
            r.get("items")
                .map(|i| resolve(root, i))
                .and_then(|i| i.get("x-paved-rule"))
        })
        .and_then(Json::as_str)
        .map(str::to_string);
    Ok(Field {
        // `[]` marks stepping into a list's items, so the field asked for last has none.
        path: shown
            .join(".")
            .strip_suffix("[]")
            .map(str::to_string)
            .unwrap_or_else(|| shown.join(".")),
        type_name: if shown.is_empty() {
            "object".into()
        } else {
            type_name(root, cur)
        },
        description: get(root, cur, "description")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        required,
        default: get(root, cur, "default").cloned(),
        allowed,
        rule,
        range: range_of(root, cur),
        children,
        keys,
    })
}

/// Wraps text at `width` columns with an indent.
pub(crate) fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub(crate) fn yaml_value(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn field_text(f: &Field, kind: Kind) -> String {
    let file = match kind {
        Kind::Application => "platform.yaml",
        Kind::Platform => "paved.yaml",
    };
    let mut s = String::new();
    if f.path.is_empty() {
        s.push_str(&format!("FILE:    {file}\n"));
    } else {
        s.push_str(&format!(
            "FIELD:   {} <{}>{}\n",
            f.path,
            f.type_name,
            if f.required { " -required-" } else { "" }
        ));
        s.push_str(&format!("FILE:    {file}\n"));
    }
    if let Some(d) = &f.default {
        s.push_str(&format!("DEFAULT: {}\n", yaml_value(d)));
    }
    if !f.allowed.is_empty() {
        let vals: Vec<String> = f.allowed.iter().map(yaml_value).collect();
        s.push_str(&format!("VALUES:  {}\n", vals.join(", ")));
    }
    if let Some(r) = &f.range {
        s.push_str(&format!("RANGE:   {r}\n"));
    }
    if let Some(r) = &f.rule {
        s.push_str(&format!("RULE:    {r}\n"));
    }
    if let Some(k) = &f.keys {
        s.push_str(&format!("KEYS:    {k}\n"));
    }
    s.push_str("\nDESCRIPTION:\n");
    s.push_str(&wrap(&f.description, "    ", 100));
    if !f.children.is_empty() {
        s.push_str("\nFIELDS:\n");
        for (name, t, req, desc) in &f.children {
            s.push_str(&format!(
                "  {name}\t<{t}>{}\n",
                if *req { " -required-" } else { "" }
            ));
            s.push_str(&wrap(desc, "    ", 100));
            s.push('\n');
        }
    }
    s
}
