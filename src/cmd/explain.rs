//! `paved explain FIELD.PATH`, `paved explain CODE` and `paved schema`.
//!
//! Fields are described from the embedded JSON Schema (the same one that
//! validates input), so the explanation can never disagree with validation:
//! type, default, allowed values, the rule behind a pattern in words, the
//! description, and the children of a mapping, like `kubectl explain`. Codes
//! come from the registry in `codes.rs`, like `rustc --explain`.

use serde_json::Value as Json;

use crate::app::{self, Fault};
use crate::codes;
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

/// Prints the explanation of a field or a code. Unknown ones are usage
/// errors (exit 2) with a suggestion.
pub(crate) fn run(topic: Option<&str>, platform: bool, json: bool) -> Result<bool, Fault> {
    let topic = topic.unwrap_or("").trim();
    if topic.contains("::") {
        let Some(c) = codes::lookup(topic) else {
            let all: Vec<&str> = codes::CODES.iter().map(|c| c.code).collect();
            let guess = did_you_mean(topic, &all)
                .or_else(|| did_you_mean(&format!("paved::{topic}"), &all));
            return Err(Fault(format!(
                "no diagnostic code `{topic}`{}",
                guess
                    .map(|g| format!("; did you mean `{g}`?"))
                    .unwrap_or_default()
            )));
        };
        app::print_stdout(&if json { code_json(c) } else { code_text(c) })?;
        return Ok(true);
    }
    let kind = if platform {
        Kind::Platform
    } else {
        Kind::Application
    };
    let f = field(kind, topic).map_err(Fault)?;
    app::print_stdout(&if json {
        field_json(&f)
    } else {
        field_text(&f, kind)
    })?;
    Ok(true)
}

/// Prints every registered code with its title (`paved explain --list`), in
/// the registry's order (by stage), or as a JSON array of full entries.
pub(crate) fn list(json: bool) -> Result<bool, Fault> {
    app::print_stdout(&list_text(json))?;
    Ok(true)
}

fn list_text(json: bool) -> String {
    if json {
        let all: Vec<Json> = codes::CODES.iter().map(|c| code_value(c)).collect();
        let mut s = serde_json::to_string(&all).expect("codes serialise");
        s.push('\n');
        s
    } else {
        let width = codes::CODES.iter().map(|c| c.code.len()).max().unwrap_or(0);
        codes::CODES
            .iter()
            .map(|c| format!("{:width$}  {}\n", c.code, c.title))
            .collect()
    }
}

pub(crate) fn code_text(c: &codes::Code) -> String {
    let indent = |s: &str| {
        s.lines()
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("    {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "{}: {}\n\n{}\n\nExample:\n\n{}\n\nFix:\n\n{}\n",
        c.code,
        c.title,
        wrap(c.explanation, "", 100).trim_end(),
        indent(c.example.trim_end()),
        indent(c.fix.trim_end())
    )
}

fn code_value(c: &codes::Code) -> Json {
    serde_json::json!({
        "code": c.code,
        "title": c.title,
        "explanation": c.explanation,
        "example": c.example,
        "fix": c.fix,
    })
}

fn code_json(c: &codes::Code) -> String {
    let mut s = code_value(c).to_string();
    s.push('\n');
    s
}

/// Follows a local `$ref` chain.
fn resolve<'a>(root: &'a Json, mut s: &'a Json) -> &'a Json {
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
fn get<'a>(root: &'a Json, s: &'a Json, key: &str) -> Option<&'a Json> {
    s.get(key).or_else(|| resolve(root, s).get(key))
}

fn first_sentence(s: &str) -> String {
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
fn wrap(text: &str, indent: &str, width: usize) -> String {
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

fn yaml_value(v: &Json) -> String {
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

fn field_json(f: &Field) -> String {
    let children: Vec<Json> = f
        .children
        .iter()
        .map(|(n, t, r, d)| serde_json::json!({"name": n, "type": t, "required": r, "description": d}))
        .collect();
    let mut s = serde_json::json!({
        "field": f.path,
        "type": f.type_name,
        "required": f.required,
        "default": f.default,
        "values": f.allowed,
        "range": f.range,
        "rule": f.rule,
        "keys": f.keys,
        "description": f.description,
        "fields": children,
    })
    .to_string();
    s.push('\n');
    s
}

/// `paved schema`: the embedded schema, byte for byte.
pub(crate) fn schema(platform: bool) -> Result<bool, Fault> {
    app::print_stdout(if platform {
        schema::PAVED_SCHEMA
    } else {
        schema::PLATFORM_SCHEMA
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_names_every_registered_code_once_with_its_title() {
        let text = super::list_text(false);
        assert_eq!(text.lines().count(), codes::CODES.len());
        for (line, c) in text.lines().zip(codes::CODES) {
            let (code, title) = line.split_once("  ").unwrap();
            assert_eq!((code, title.trim_start()), (c.code, c.title));
        }
        let json: Vec<Json> = serde_json::from_str(&super::list_text(true)).unwrap();
        assert_eq!(json.len(), codes::CODES.len());
        assert_eq!(json[0]["code"], codes::CODES[0].code);
    }

    use super::*;

    #[test]
    fn a_leaf_field_has_type_default_and_values() {
        let f = field(Kind::Application, "spec.type").unwrap();
        assert_eq!(f.path, "spec.type");
        assert_eq!(f.type_name, "string");
        assert_eq!(f.default, Some(Json::from("service")));
        assert_eq!(
            f.allowed,
            [
                Json::from("service"),
                Json::from("worker"),
                Json::from("cronjob")
            ]
        );
        assert!(
            f.description.starts_with("Kind of workload"),
            "{}",
            f.description
        );
        assert!(f.children.is_empty());
    }

    #[test]
    fn lists_and_maps_are_walked_into() {
        let f = field(Kind::Application, "spec.ports[0].port").unwrap();
        assert_eq!(f.path, "spec.ports[].port");
        assert_eq!(f.type_name, "integer");
        assert!(f.required);
        assert_eq!(f.range.as_deref(), Some("1 to 65535"));
        let f = field(Kind::Application, "spec.ports").unwrap();
        assert_eq!(f.type_name, "[]object");
        assert!(f.children.iter().any(|c| c.0 == "protocol"));
        let f = field(Kind::Application, "spec.resources.orders-db.type").unwrap();
        assert_eq!(f.path, "spec.resources.<orders-db>.type");
        assert!(f.allowed.contains(&Json::from("postgresql")));
        let f = field(Kind::Application, "spec.replicas").unwrap();
        assert_eq!(f.type_name, "\"auto\" | integer");
        assert_eq!(f.range.as_deref(), Some("0 to 1000"));
        let f = field(Kind::Application, "spec.env").unwrap();
        assert_eq!(f.type_name, "map[string]string | number | boolean");
        assert!(f.keys.is_some());
        // A map's entries list their fields, and paths go through the map.
        let f = field(Kind::Application, "spec.environments").unwrap();
        assert!(f.children.iter().any(|c| c.0 == "promote"), "{f:?}");
        let f = field(Kind::Application, "spec.environments.staging.size").unwrap();
        assert_eq!(f.path, "spec.environments.<staging>.size");
    }

    #[test]
    fn the_root_lists_the_top_level_fields() {
        let f = field(Kind::Application, "").unwrap();
        let names: Vec<&str> = f.children.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, ["apiVersion", "kind", "metadata", "spec"]);
        let p = field(Kind::Platform, "spec.environments").unwrap();
        assert!(p.description.contains("nvironment"), "{}", p.description);
    }

    #[test]
    fn unknown_fields_suggest_the_closest() {
        let e = field(Kind::Application, "spec.replica").unwrap_err();
        assert_eq!(
            e,
            "platform.yaml has no field `replica` under `spec`; did you mean `replicas`?"
        );
        assert!(field(Kind::Application, "metadata.name.x").is_err());
    }

    #[test]
    fn code_text_has_every_part() {
        let t = code_text(codes::SCHEMA_UNKNOWN_FIELD);
        assert!(t.starts_with(
            "paved::schema::unknown-field: a field that the format does not have\n\n"
        ));
        assert!(
            t.contains("\nExample:\n\n    apiVersion: paved.dev/v1\n"),
            "{t}"
        );
        assert!(t.contains("\nFix:\n\n      replicas: 2\n"), "{t}");
    }
}
