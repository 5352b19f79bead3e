//! The managed resource types a service can ask for in `spec.resources`
//! (`postgresql`, `redis`, `bucket`): one table, [`RESOURCE_TYPES`], that
//! every stage reads.
//!
//! - `validate::semantic` refuses a parameter a type does not take, and a
//!   `${resources.NAME.KEY}` placeholder naming a key the type does not have;
//! - `placeholder` and `model` turn those placeholders into references to the
//!   connection Secret's keys, and `model` gives each type its default egress;
//! - tests keep both JSON Schemas (`type` in platform.yaml, the keys of
//!   paved.yaml `networkPolicy.resources`), the model's `ResourceSpec` fields
//!   and the built-in blueprint `_partials/crossplane.yaml` (which adds the
//!   Crossplane kind, plural, catalog type and XRD defaults, and no keys of
//!   its own) equal to it; platform blueprints read the keys as
//!   `connection_keys` (`model::connection_keys_by_type`).
//!
//! Adding a type is a row here, its name in the two schemas' enums, its entry
//! in `_partials/crossplane.yaml`, and its line in the pages that restate the
//! table (docs/spec.md, docs/resources.md, docs/resources-infrastructure.md);
//! the tests below name whichever is missing (docs/change-recipes.md).
//!
//! Architecture invariant: data only; knows nothing of files, YAML or diagnostics.

/// One kind of managed resource.
#[derive(Debug)]
pub(crate) struct ResourceType {
    /// The `type` value in platform.yaml, and the key in paved.yaml
    /// `networkPolicy.resources`.
    pub name: &'static str,
    /// What it is, in a word or two, as the schema's description of `type`
    /// puts it in parentheses: "postgresql (database)".
    #[allow(
        dead_code,
        reason = "the docs' word for the type; tests hold the schemas and docs to it"
    )]
    pub summary: &'static str,
    /// The `spec.resources` fields it takes besides `type`, in the order its
    /// Crossplane XR carries them. Any other field is the error
    /// `paved::semantic::not-for-resource-type`, never silently dropped.
    pub parameters: &'static [&'static str],
    /// The keys of its connection Secret (`NAME-connection`): the contract the
    /// platform's Compositions fulfil (docs/resources-infrastructure.md) and
    /// what `${resources.NAME.KEY}` may name.
    pub connection_keys: &'static [&'static str],
    /// The port its default egress allowance opens, when paved.yaml does not
    /// set `networkPolicy.resources`.
    pub egress_port: u16,
    /// The networks its default egress allowance opens. None for a bucket:
    /// an object store's endpoint is wherever the platform's provider puts
    /// it (often a public address), so the platform must name it.
    pub default_egress_cidrs: &'static [&'static str],
}

/// Every resource type, in the order the schemas list them.
pub(crate) static RESOURCE_TYPES: &[ResourceType] = &[
    ResourceType {
        name: "postgresql",
        summary: "database",
        parameters: &["version", "storageGB", "class"],
        connection_keys: &["host", "port", "username", "password", "database", "url"],
        egress_port: 5432,
        default_egress_cidrs: &[DEFAULT_EGRESS_CIDR],
    },
    ResourceType {
        name: "redis",
        summary: "cache",
        parameters: &["version", "storageGB", "class"],
        connection_keys: &["host", "port", "password", "url"],
        egress_port: 6379,
        default_egress_cidrs: &[DEFAULT_EGRESS_CIDR],
    },
    ResourceType {
        // A bucket has no engine version and grows without a size.
        name: "bucket",
        summary: "object storage",
        parameters: &["class"],
        connection_keys: &[
            "endpoint",
            "bucket",
            "region",
            "accessKeyId",
            "secretAccessKey",
        ],
        egress_port: 443,
        default_egress_cidrs: &[],
    },
];

/// The network the default egress allowance of a database or cache opens.
pub(crate) const DEFAULT_EGRESS_CIDR: &str = "10.0.0.0/8";

/// The type named `name`, if there is one. Validated input always names one:
/// both schemas enumerate the names of [`RESOURCE_TYPES`].
pub(crate) fn get(name: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES.iter().find(|t| t.name == name)
}

/// The parameters of the type named `name` (none for an unknown type).
pub fn parameters(name: &str) -> &'static [&'static str] {
    get(name).map_or(&[], |t| t.parameters)
}

/// The connection Secret keys of the type named `name` (none for an unknown type).
pub fn connection_keys(name: &str) -> &'static [&'static str] {
    get(name).map_or(&[], |t| t.connection_keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::schema::{schema_json, Kind};
    use serde_json::Value as Json;
    use std::collections::BTreeSet;

    fn names() -> Vec<&'static str> {
        RESOURCE_TYPES.iter().map(|t| t.name).collect()
    }

    fn strings(v: &Json) -> Vec<&str> {
        v.as_array()
            .unwrap_or_else(|| panic!("not an array: {v}"))
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect()
    }

    #[test]
    fn names_are_unique_and_lookups_find_each_row() {
        let unique: BTreeSet<&str> = names().into_iter().collect();
        assert_eq!(unique.len(), RESOURCE_TYPES.len());
        for t in RESOURCE_TYPES {
            assert_eq!(get(t.name).map(|r| r.name), Some(t.name));
            assert_eq!(parameters(t.name), t.parameters);
            assert_eq!(connection_keys(t.name), t.connection_keys);
        }
        assert!(get("no-such-type").is_none());
        assert!(
            parameters("no-such-type").is_empty() && connection_keys("no-such-type").is_empty()
        );
    }

    /// platform.yaml's `spec.resources.*.type` and paved.yaml's
    /// `networkPolicy.resources` keys enumerate exactly the table's names, and
    /// the descriptions name each one.
    #[test]
    fn both_schemas_enumerate_the_table() {
        let app = schema_json(Kind::Application);
        let ty = &app["$defs"]["resource"]["properties"]["type"];
        assert_eq!(strings(&ty["enum"]), names(), "platform.v1 resource.type");
        let said = ty["description"].as_str().unwrap();
        for t in RESOURCE_TYPES {
            let phrase = format!("{} ({})", t.name, t.summary);
            assert!(
                said.contains(&phrase),
                "resource.type description lacks `{phrase}`: {said}"
            );
        }
        let platform = schema_json(Kind::Platform);
        let ty = &platform["$defs"]["resourceType"];
        assert_eq!(strings(&ty["enum"]), names(), "paved.v1 resourceType");
        let said = ty["description"].as_str().unwrap();
        for t in RESOURCE_TYPES {
            assert!(
                said.contains(t.name),
                "resourceType description lacks {}: {said}",
                t.name
            );
        }
    }

    /// The schema's `resource` takes `type` and every parameter of some type,
    /// nothing else (which parameter suits which type is a semantic check); an
    /// environment override may only set parameters some type takes.
    #[test]
    fn the_schema_offers_every_parameter_and_no_other_field() {
        let app = schema_json(Kind::Application);
        let fields = |def: &str| -> BTreeSet<String> {
            app["$defs"][def]["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect()
        };
        let mut want: BTreeSet<String> = RESOURCE_TYPES
            .iter()
            .flat_map(|t| t.parameters.iter().map(|p| p.to_string()))
            .collect();
        let overridable = fields("environmentResource");
        assert!(overridable.is_subset(&want), "{overridable:?} ⊄ {want:?}");
        want.insert("type".into());
        assert_eq!(fields("resource"), want);
    }

    /// The built-in blueprints' type table (`_partials/crossplane.yaml`) has a
    /// row for every type, with the same parameters, in the same order, and no
    /// connection keys of its own: this table is their one home, and reaches
    /// blueprints as `resource.keys` and `connection_keys[type]`. The XRD it
    /// renders accepts exactly what the spec allows and documents the Secret
    /// the placeholders read.
    #[test]
    fn the_crossplane_partial_agrees_with_the_table() {
        let partial = crate::render::builtin()
            .into_iter()
            .find(|(name, _)| name == "_partials/crossplane.yaml")
            .map(|(_, text)| text)
            .expect("the built-in blueprints have _partials/crossplane.yaml");
        let mut env = minijinja::Environment::new();
        env.add_template_owned("_partials/crossplane.yaml", partial)
            .unwrap();
        let types: Json = serde_json::from_str(
            &env.render_str(
                "{% import '_partials/crossplane.yaml' as xp %}{{ xp.types | tojson }}",
                (),
            )
            .unwrap(),
        )
        .unwrap();
        let listed: Vec<&str> = types
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(listed, names(), "the partial's types");
        for t in RESOURCE_TYPES {
            let row = &types[t.name];
            assert_eq!(strings(&row["parameters"]), t.parameters, "{}", t.name);
            assert!(
                row.get("keys").is_none(),
                "{}: the partial restates the connection keys; they live in RESOURCE_TYPES",
                t.name
            );
        }
    }

    /// The pages that restate the table agree with it, word for word where
    /// they list keys, parameters and default ports.
    #[test]
    fn the_docs_restate_the_table() {
        let flat = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let spec = flat(include_str!("../docs/spec.md"));
        let resources = flat(include_str!("../docs/resources.md"));
        let infrastructure = include_str!("../docs/resources-infrastructure.md");
        let quoted = |words: &[&str]| {
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for t in RESOURCE_TYPES {
            let n = t.name;
            let keys = format!("{n} `{}`", t.connection_keys.join(" "));
            assert!(spec.contains(&keys), "docs/spec.md must say {keys}");
            let row = format!("| {n} | {} |", quoted(t.connection_keys));
            assert!(
                resources.contains(&row),
                "docs/resources.md must have {row}"
            );
            let port = format!("{} for {n}", t.egress_port);
            assert!(
                resources.contains(&port),
                "docs/resources.md must say {port}"
            );
            // | `type` | XR kind | plural | parameters | defaults (XRD) | catalog type |
            let cells: Vec<&str> = infrastructure
                .lines()
                .find(|l| l.starts_with(&format!("| `{n}` |")))
                .unwrap_or_else(|| panic!("docs/resources-infrastructure.md has no `{n}` row"))
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(
                cells[4],
                quoted(t.parameters),
                "docs/resources-infrastructure.md, `{n}`"
            );
        }
    }
}
