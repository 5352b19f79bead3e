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
use crate::fields::{field, field_text, wrap, Field};
use crate::validate::schema::{self, did_you_mean, Kind};

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
