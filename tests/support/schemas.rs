//! Offline validation of rendered Kubernetes documents against the real upstream schemas.
//!
//! The integration tests use it as `crate::support::schemas::Schemas`.
//!
//! Data: `tests/external-schemas/` (see its `PROVENANCE.md`), read through
//! `env!("CARGO_MANIFEST_DIR")`; nothing outside the repository is read and nothing is fetched.
//!
//! * Core kinds use the Kubernetes v1.31.0 *strict* JSON Schemas as they are. Their `$ref`s point
//!   at `/api/_definitions.json#/$defs/...`, relative to their `$id`s under
//!   `https://kubernetes.io/api/`; `_definitions.json` is registered in a `jsonschema::Registry`
//!   under its own `$id` (`https://kubernetes.io/api/_definitions.json`) and validators are built
//!   `offline()`, so references resolve in memory.
//! * CRD kinds use `spec.versions[name == version].schema.openAPIV3Schema` of the CRD (served
//!   versions only), converted from Kubernetes "structural" OpenAPI v3 to JSON Schema 2020-12 by
//!   [`convert`] (the reason for each rewrite is given there).
//! * XR kinds (Crossplane), Constraint kinds (Gatekeeper) and kinds of CRDs Paved renders are
//!   known only after [`Schemas::register_rendered`] has seen the XRD / ConstraintTemplate / CRD
//!   that Paved rendered: call it on every rendered document first, then [`Schemas::validate`]
//!   each one.
//!
//! Validators are compiled lazily: once per test binary for the bundled schemas (a process-wide
//! `OnceLock`), once per `Schemas` value for registered ones; `load()` after the first call is
//! cheap. Not checked: `format` (Kubernetes formats such as `int32`, `int64`, `byte`,
//! `int-or-string` or Go-style `duration` are not the JSON Schema ones), CEL rules
//! (`x-kubernetes-validations`), key uniqueness of `x-kubernetes-list-type: map` lists.
//!
//! Upstream quirks to know: the strict Kubernetes schemas type every field as `[<type>, "null"]`,
//! so an explicit `null` in a core kind passes (the API server reads it as the zero value), except
//! for IntOrString fields, whose `oneOf` of `string|null` and `integer|null` matches `null` twice
//! and so rejects it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{json, Map, Value};

/// `$id` of `_definitions.json`; the strict kind files reach it as `/api/_definitions.json`.
const DEFS_URI: &str = "https://kubernetes.io/api/_definitions.json";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const LABEL_SELECTOR: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector";

const K8S_DIR: &str = "kubernetes/v1.31.0-strict";

/// CRD files (under `tests/external-schemas/`) whose served versions are known kinds.
const CRD_FILES: &[&str] = &[
    "crds/argo-cd/application-crd.yaml",
    "crds/argo-cd/appproject-crd.yaml",
    "crds/external-secrets/external-secrets.io_externalsecrets.yaml",
    "crds/crossplane/apiextensions.crossplane.io_compositeresourcedefinitions.yaml",
    "crds/crossplane/apiextensions.crossplane.io_compositions.yaml",
    "crds/gatekeeper/constrainttemplate-customresourcedefinition.yaml",
    "crds/prometheus-operator/monitoring.coreos.com_alertmanagerconfigs.yaml",
    "crds/prometheus-operator/monitoring.coreos.com_prometheusrules.yaml",
    "crds/prometheus-operator/monitoring.coreos.com_servicemonitors.yaml",
    "crds/grafana-operator/grafana.integreatly.org_grafanadashboards.yaml",
    "crds/argo-rollouts/rollout-crd.yaml",
    "crds/argo-rollouts/analysis-template-crd.yaml",
];

/// Gatekeeper serves every Constraint kind under these versions.
const CONSTRAINT_VERSIONS: &[&str] = &["v1beta1", "v1", "v1alpha1"];

/// Messages longer than this (a `Display` can print a whole sub-document) are cut.
const MAX_MESSAGE: usize = 300;

/// `tests/external-schemas` of this crate.
pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("external-schemas")
}

/// `(apiVersion, kind)`.
type Key = (String, String);

/// One schema, compiled on first use.
struct Entry {
    /// Where the schema comes from, for messages.
    origin: String,
    schema: Value,
    compiled: OnceLock<Result<Validator, String>>,
}

impl Entry {
    fn new(origin: String, schema: Value) -> Arc<Entry> {
        Arc::new(Entry {
            origin,
            schema,
            compiled: OnceLock::new(),
        })
    }

    fn validator(&self, registry: &Registry<'static>) -> Result<&Validator, &str> {
        self.compiled
            .get_or_init(|| {
                jsonschema::options()
                    .with_draft(Draft::Draft202012)
                    .with_registry(registry)
                    .offline()
                    .should_validate_formats(false)
                    .build(&self.schema)
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Everything read from `tests/external-schemas`, shared by the whole test binary.
struct Base {
    registry: Registry<'static>,
    entries: HashMap<Key, Arc<Entry>>,
}

static BASE: OnceLock<Base> = OnceLock::new();

/// The validators of every known kind. See the module documentation.
#[derive(Clone)]
pub struct Schemas {
    base: &'static Base,
    /// Kinds registered by [`Schemas::register_rendered`]; they shadow bundled ones.
    rendered: HashMap<Key, Arc<Entry>>,
}

impl Schemas {
    /// Loads (once per process) the schemas under `tests/external-schemas`. Panics on missing or
    /// malformed data: the harness must not silently check less.
    pub fn load() -> Schemas {
        Schemas {
            base: BASE.get_or_init(load_base),
            rendered: HashMap::new(),
        }
    }

    /// `"<apiVersion> <kind>"` of every kind this value can validate, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .base
            .entries
            .keys()
            .chain(self.rendered.keys())
            .map(|(a, k)| format!("{a} {k}"))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Whether `doc`'s apiVersion and kind are served by every Kubernetes
    /// 1.31 API server (a bundled core schema, not a CRD's nor one registered
    /// from a rendered definition): the kinds that never wait for a CRD.
    pub fn is_builtin(&self, doc: &Value) -> bool {
        let field = |name: &str| doc.get(name).and_then(Value::as_str).unwrap_or_default();
        let key = (field("apiVersion").to_string(), field("kind").to_string());
        !self.rendered.contains_key(&key)
            && self
                .base
                .entries
                .get(&key)
                .is_some_and(|e| e.origin.starts_with(K8S_DIR))
    }

    /// Compiles every known schema now; `Err` lists those that do not compile.
    pub fn compile_all(&self) -> Result<(), Vec<String>> {
        let mut errors: Vec<String> = Vec::new();
        for ((api_version, kind), entry) in self.base.entries.iter().chain(self.rendered.iter()) {
            if let Err(e) = entry.validator(&self.base.registry) {
                errors.push(format!(
                    "schema for {api_version} {kind} ({}) does not compile: {e}",
                    entry.origin
                ));
            }
        }
        errors.sort();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Validates one rendered document (already parsed to `serde_json::Value`).
    ///
    /// `Err` holds plain messages `"<json pointer>: <error>"` (the pointer of the offending
    /// value, `/` for the document itself; for an unknown or missing field, the field's own
    /// path). An apiVersion/kind without a schema is an error: `"no schema for <apiVersion>
    /// <kind>"`. Besides the schema, `metadata.name` is required (kubectl apply needs it).
    pub fn validate(&self, doc: &Value) -> Result<(), Vec<String>> {
        let Some(object) = doc.as_object() else {
            return Err(vec![
                "/: a Kubernetes document must be a mapping".to_string()
            ]);
        };
        let field = |name: &str| object.get(name).and_then(Value::as_str);
        let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
            return Err(vec![
                "/: apiVersion and kind must both be present as strings".to_string(),
            ]);
        };
        let key = (api_version.to_string(), kind.to_string());
        let Some(entry) = self
            .rendered
            .get(&key)
            .or_else(|| self.base.entries.get(&key))
        else {
            return Err(vec![format!("no schema for {api_version} {kind}")]);
        };
        let validator = entry.validator(&self.base.registry).map_err(|e| {
            vec![format!(
                "schema for {api_version} {kind} ({}) does not compile: {e}",
                entry.origin
            )]
        })?;

        let mut errors: Vec<String> = Vec::new();
        let name = object
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str);
        if name.is_none_or(str::is_empty) {
            errors.push("/metadata/name: required field \"name\" is missing".to_string());
        }
        if !validator.is_valid(doc) {
            for error in validator.iter_errors(doc) {
                for message in messages(&error) {
                    if !errors.contains(&message) {
                        errors.push(message);
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Registers the schemas of kinds that Paved itself defines, from the rendered document that
    /// defines them; any other document is ignored, so this can be called on every document.
    ///
    /// * `apiextensions.crossplane.io` `CompositeResourceDefinition`: the XR kind
    ///   `spec.group`/`<served version>` `spec.names.kind`, with the version's
    ///   `schema.openAPIV3Schema` plus the fields Crossplane adds to every XR (`spec.crossplane`
    ///   for `Namespaced`/`Cluster` scope, the same fields directly under `spec` for
    ///   `LegacyCluster`; `spec` is required, as in the CRD Crossplane generates).
    /// * `templates.gatekeeper.sh` `ConstraintTemplate`: the Constraint kind
    ///   `constraints.gatekeeper.sh/{v1beta1,v1,v1alpha1}` `spec.crd.spec.names.kind`, whose
    ///   `spec.parameters` must match `spec.crd.spec.validation.openAPIV3Schema`, with
    ///   `spec.enforcementAction` (string), `spec.scopedEnforcementActions` and `spec.match`
    ///   (Gatekeeper's match schema) beside it.
    ///
    /// * `apiextensions.k8s.io` `CustomResourceDefinition`: its served versions, as for the
    ///   bundled CRDs.
    ///
    /// A later registration of the same apiVersion/kind replaces the earlier one (and shadows a
    /// bundled schema). Panics when such a document lacks what names the kind (a broken
    /// definition).
    pub fn register_rendered(&mut self, doc: &Value) {
        let api_version = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
        let group = api_version.split('/').next().unwrap_or("");
        match (group, kind) {
            ("apiextensions.crossplane.io", "CompositeResourceDefinition") => {
                self.register_xrd(doc, api_version)
            }
            ("templates.gatekeeper.sh", "ConstraintTemplate") => {
                self.register_constraint_template(doc, api_version)
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                let origin = format!("rendered CRD {}", doc_name(doc));
                self.rendered.extend(crd_entries(doc, &origin));
            }
            _ => {}
        }
    }

    fn register_xrd(&mut self, doc: &Value, api_version: &str) {
        let name = doc_name(doc);
        let spec = &doc["spec"];
        let what = format!("rendered XRD {name}");
        let group = required_str(doc, "/spec/group", &what);
        let kind = required_str(doc, "/spec/names/kind", &what);
        // apiextensions.crossplane.io/v1 XRDs default to the legacy (claimable) scope, v2 ones to
        // Namespaced (defaults of the XRD CRD).
        let default_scope = if api_version == "apiextensions.crossplane.io/v1" {
            "LegacyCluster"
        } else {
            "Namespaced"
        };
        let scope = spec["scope"].as_str().unwrap_or(default_scope);
        let versions = spec["versions"].as_array().cloned().unwrap_or_default();
        for version in versions.iter().filter(|v| v["served"] == json!(true)) {
            let version_name = required_str(version, "/name", &what);
            let user = version
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            let schema = xr_schema(user, scope);
            let xr_api_version = format!("{group}/{version_name}");
            let root = resource_root(convert(&schema, false), &xr_api_version, &kind);
            self.rendered.insert(
                (xr_api_version, kind.clone()),
                Entry::new(what.clone(), root),
            );
        }
    }

    fn register_constraint_template(&mut self, doc: &Value, api_version: &str) {
        let name = doc_name(doc);
        let crd_spec = &doc["spec"]["crd"]["spec"];
        let what = format!("rendered ConstraintTemplate {name}");
        let kind = required_str(doc, "/spec/crd/spec/names/kind", &what);
        let validation = &crd_spec["validation"];
        // Gatekeeper defaults legacySchema to false for templates.gatekeeper.sh/v1 and to true for
        // v1beta1/v1alpha1 (defaults in the ConstraintTemplate CRD).
        let legacy = validation["legacySchema"]
            .as_bool()
            .unwrap_or(api_version != "templates.gatekeeper.sh/v1");
        let parameters = match validation.get("openAPIV3Schema") {
            // A legacy schema is made to keep unknown fields at every level by Gatekeeper, so
            // only the declared fields' types are checked.
            Some(schema) if legacy => preserve_everywhere(schema.clone()),
            Some(schema) => schema.clone(),
            // No schema: parameters are free-form.
            None => json!({"x-kubernetes-preserve-unknown-fields": true}),
        };
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "match": gatekeeper_match_schema(),
                        "enforcementAction": {"type": "string"},
                        "scopedEnforcementActions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "action": {"type": "string"},
                                    "enforcementPoints": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {"name": {"type": "string"}}
                                        }
                                    }
                                }
                            }
                        },
                        "parameters": parameters
                    }
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        });
        let converted = convert(&schema, false);
        for version in CONSTRAINT_VERSIONS {
            let constraint_api_version = format!("constraints.gatekeeper.sh/{version}");
            let root = resource_root(converted.clone(), &constraint_api_version, &kind);
            self.rendered.insert(
                (constraint_api_version, kind.clone()),
                Entry::new(what.clone(), root),
            );
        }
    }
}

fn doc_name(doc: &Value) -> String {
    doc.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string()
}

/// The non-empty string at `pointer`; panics naming `what` (a document or file) otherwise.
fn required_str(value: &Value, pointer: &str, what: &str) -> String {
    match value.pointer(pointer).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => panic!("{what}: no string at {pointer}"),
    }
}

fn load_base() -> Base {
    let dir = schema_dir();
    let defs = read_json(&dir.join(K8S_DIR).join("_definitions.json"));
    assert_eq!(
        defs["$id"], DEFS_URI,
        "_definitions.json must carry the $id the kind files refer to"
    );
    let registry = Registry::new()
        .add(DEFS_URI, defs)
        .and_then(|b| b.prepare())
        .unwrap_or_else(|e| panic!("registering _definitions.json: {e}"));

    let mut entries: HashMap<Key, Arc<Entry>> = HashMap::new();

    // Core kinds: every `<kind>[-<group>]-<version>.json`; the kind is taken from the file's own
    // x-kubernetes-group-version-kind rather than from its name.
    let k8s_dir = dir.join(K8S_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&k8s_dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", k8s_dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "_definitions.json"))
        .collect();
    files.sort();
    for path in files {
        let schema = read_json(&path);
        let gvk = &schema["x-kubernetes-group-version-kind"][0];
        let (Some(group), Some(version), Some(kind)) = (
            gvk["group"].as_str(),
            gvk["version"].as_str(),
            gvk["kind"].as_str(),
        ) else {
            panic!("{}: no x-kubernetes-group-version-kind", path.display());
        };
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let origin = format!(
            "{K8S_DIR}/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        );
        entries.insert((api_version, kind.to_string()), Entry::new(origin, schema));
    }

    // CRD kinds: served versions only.
    for file in CRD_FILES {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for document in serde_yaml::Deserializer::from_str(&text) {
            let crd: Value = serde::Deserialize::deserialize(document)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
            if crd["kind"] == "CustomResourceDefinition" {
                entries.extend(crd_entries(&crd, file));
            }
        }
    }
    Base { registry, entries }
}

/// One entry per served version of a CustomResourceDefinition.
fn crd_entries(crd: &Value, origin: &str) -> Vec<(Key, Arc<Entry>)> {
    let crd_name = doc_name(crd);
    let group = required_str(crd, "/spec/group", origin);
    let kind = required_str(crd, "/spec/names/kind", origin);
    let versions = crd["spec"]["versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut entries = Vec::new();
    for version in versions.iter().filter(|v| v["served"] == json!(true)) {
        let name = required_str(version, "/name", origin);
        let Some(schema) = version.pointer("/schema/openAPIV3Schema") else {
            panic!("{origin}: CRD {crd_name} version {name} has no openAPIV3Schema");
        };
        let api_version = format!("{group}/{name}");
        let root = resource_root(convert(schema, false), &api_version, &kind);
        entries.push((
            (api_version, kind.clone()),
            Entry::new(format!("{origin} ({name})"), root),
        ));
    }
    entries
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn defs_ref(definition: &str) -> Value {
    json!({"$ref": format!("{DEFS_URI}#/$defs/{definition}")})
}

/// Converts a Kubernetes structural OpenAPI v3 schema (a CRD version's `openAPIV3Schema`, an XRD
/// version schema, a ConstraintTemplate parameters schema) into JSON Schema 2020-12 with the
/// API server's semantics. `in_junctor` is true below `allOf`/`anyOf`/`oneOf`/`not`, where a
/// structural schema only adds value checks to what the surrounding schema declares.
pub fn convert(schema: &Value, in_junctor: bool) -> Value {
    let Some(source) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in source {
        let converted = match key.as_str() {
            "properties" => Value::Object(
                value
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(name, prop)| (name.clone(), convert(prop, in_junctor)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "items" | "additionalProperties" if value.is_object() => convert(value, in_junctor),
            "not" => convert(value, true),
            "allOf" | "anyOf" | "oneOf" => Value::Array(
                value
                    .as_array()
                    .map(|branches| branches.iter().map(|b| convert(b, true)).collect())
                    .unwrap_or_default(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    let flag = |name: &str| source.get(name).and_then(Value::as_bool).unwrap_or(false);
    let preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");

    // OpenAPI v3.0 (and so Kubernetes) writes exclusiveMinimum/exclusiveMaximum as booleans that
    // modify minimum/maximum; JSON Schema 2020-12 wants the limit itself there.
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(flag) = out.get(exclusive).and_then(Value::as_bool) {
            out.remove(exclusive);
            if flag {
                if let Some(limit) = out.remove(bound) {
                    out.insert(exclusive.to_string(), limit);
                }
            }
        }
    }

    // x-kubernetes-int-or-string: the value may be an integer or a string (ports, percentages);
    // such a schema carries no `type` of its own (an upstream `anyOf` of the two, if any, stays).
    if flag("x-kubernetes-int-or-string") && !out.contains_key("type") {
        out.insert("type".into(), json!(["integer", "string"]));
    }

    // nullable: true is OpenAPI's way to admit null, which JSON Schema expresses in `type`
    // (and in `enum`, which must list null too).
    if flag("nullable") {
        if let Some(ty) = out.get("type").cloned() {
            let mut types = match ty {
                Value::Array(types) => types,
                other => vec![other],
            };
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            out.insert("type".into(), Value::Array(types));
        }
        if let Some(Value::Array(options)) = out.get_mut("enum") {
            if !options.contains(&Value::Null) {
                options.push(Value::Null);
            }
        }
    }

    // x-kubernetes-embedded-resource: the value is a whole object (TypeMeta + ObjectMeta); the
    // API server requires apiVersion and kind and validates metadata whatever the schema says.
    if flag("x-kubernetes-embedded-resource") {
        let props = out
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties is a mapping");
        props.insert(
            "apiVersion".into(),
            json!({"type": "string", "minLength": 1}),
        );
        props.insert("kind".into(), json!({"type": "string", "minLength": 1}));
        props.insert("metadata".into(), defs_ref(OBJECT_META));
        require(&mut out, &["apiVersion", "kind"]);
    }

    // Pruning: the API server drops (with kubectl's default --validate=strict: rejects) fields a
    // structural schema does not declare, unless x-kubernetes-preserve-unknown-fields says to keep
    // them. JSON Schema allows unknown properties by default, so close every object that declares
    // no additionalProperties of its own. Not inside allOf/anyOf/oneOf/not, whose branches only
    // restate a subset of the fields declared beside them.
    let is_object = out.get("type") == Some(&json!("object")) || out.contains_key("properties");
    if is_object && !in_junctor && !preserve_unknown && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }

    // x-kubernetes-list-type: set means the items must be unique (the API server rejects
    // duplicates).
    if source.get("x-kubernetes-list-type") == Some(&json!("set")) {
        out.insert("uniqueItems".into(), Value::Bool(true));
    }
    Value::Object(out)
}

fn require(schema: &mut Map<String, Value>, fields: &[&str]) {
    let required = schema
        .entry("required")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .expect("required is a list");
    for field in fields {
        if !required.contains(&json!(field)) {
            required.push(json!(field));
        }
    }
}

/// The top of a custom resource: apiVersion and kind fixed to the ones being validated (a CRD
/// schema only says "string"), metadata validated as ObjectMeta (the API server ignores what a
/// CRD schema says about metadata beyond name), all three required.
fn resource_root(converted: Value, api_version: &str, kind: &str) -> Value {
    let Value::Object(mut root) = converted else {
        panic!("the schema of {api_version} {kind} is not a mapping");
    };
    root.insert("type".into(), json!("object"));
    let props = root
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties is a mapping");
    props.insert(
        "apiVersion".into(),
        json!({"type": "string", "enum": [api_version]}),
    );
    props.insert("kind".into(), json!({"type": "string", "enum": [kind]}));
    props.insert("metadata".into(), defs_ref(OBJECT_META));
    let preserve = root
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !preserve {
        root.entry("additionalProperties")
            .or_insert(Value::Bool(false));
    }
    require(&mut root, &["apiVersion", "kind", "metadata"]);
    Value::Object(root)
}

/// Gatekeeper's legacySchema: x-kubernetes-preserve-unknown-fields on every object level.
fn preserve_everywhere(schema: Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "properties" => match v {
                            Value::Object(props) => Value::Object(
                                props
                                    .into_iter()
                                    .map(|(n, p)| (n, preserve_everywhere(p)))
                                    .collect(),
                            ),
                            other => other,
                        },
                        "items" | "additionalProperties" => preserve_everywhere(v),
                        _ => v,
                    };
                    (k, v)
                })
                .collect();
            if out.get("type") == Some(&json!("object")) || out.contains_key("properties") {
                out.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
            }
            Value::Object(out)
        }
        other => other,
    }
}

/// The fields Crossplane adds to every XR's spec and status (crossplane/crossplane
/// `internal/xcrd/schemas.go`), merged over the XRD's schema as Crossplane does.
fn xr_schema(user: Value, scope: &str) -> Value {
    let legacy = scope == "LegacyCluster";
    let match_labels = json!({
        "type": "object",
        "required": ["matchLabels"],
        "properties": {
            "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    });
    let name_ref = json!({
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}}
    });
    let mut resource_ref = json!({
        "type": "object",
        "required": ["apiVersion", "kind"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "name": {"type": "string"}
        }
    });
    if scope == "Cluster" || legacy {
        resource_ref["properties"]["namespace"] = json!({"type": "string"});
    }
    let mut machinery: BTreeMap<&str, Value> = BTreeMap::from([
        ("compositionRef", name_ref.clone()),
        ("compositionSelector", match_labels.clone()),
        ("compositionRevisionRef", name_ref),
        ("compositionRevisionSelector", match_labels),
        (
            "compositionUpdatePolicy",
            json!({"type": "string", "enum": ["Automatic", "Manual"]}),
        ),
        (
            "resourceRefs",
            json!({"type": "array", "items": resource_ref, "x-kubernetes-list-type": "atomic"}),
        ),
    ]);
    let condition = json!({
        "type": "object",
        "required": ["lastTransitionTime", "reason", "status", "type"],
        "properties": {
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "message": {"type": "string"},
            "reason": {"type": "string"},
            "status": {"type": "string"},
            "type": {"type": "string"},
            "observedGeneration": {"type": "integer", "format": "int64"}
        }
    });
    let connection_details = json!({
        "type": "object",
        "properties": {"lastPublishedTime": {"type": "string", "format": "date-time"}}
    });
    let mut status_props: BTreeMap<&str, Value> =
        BTreeMap::from([("conditions", json!({"type": "array", "items": condition}))]);
    let spec_props: BTreeMap<&str, Value> = if legacy {
        machinery.insert(
            "claimRef",
            json!({
                "type": "object",
                "required": ["apiVersion", "kind", "namespace", "name"],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "namespace": {"type": "string"},
                    "name": {"type": "string"}
                }
            }),
        );
        machinery.insert(
            "writeConnectionSecretToRef",
            json!({
                "type": "object",
                "required": ["name", "namespace"],
                "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}}
            }),
        );
        status_props.insert("connectionDetails", connection_details);
        status_props.insert(
            "claimConditionTypes",
            json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}),
        );
        machinery
    } else {
        status_props.insert(
            "crossplane",
            json!({"type": "object", "properties": {"connectionDetails": connection_details}}),
        );
        BTreeMap::from([(
            "crossplane",
            json!({"type": "object", "properties": machinery}),
        )])
    };

    let Value::Object(mut root) = user else {
        panic!("an XRD version schema is not a mapping");
    };
    root.insert("type".into(), json!("object"));
    let props = root
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties is a mapping");
    for (field, extra) in [("spec", spec_props), ("status", status_props)] {
        let part = props
            .entry(field)
            .or_insert_with(|| json!({"type": "object"}));
        part["type"] = json!("object");
        let part_props = part
            .as_object_mut()
            .expect("spec/status is a mapping")
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("properties is a mapping");
        for (name, schema) in extra {
            part_props.insert(name.to_string(), schema);
        }
    }
    require(&mut root, &["spec"]);
    Value::Object(root)
}

/// `spec.match` of every Constraint (Gatekeeper `pkg/target/matchcrd_constant.go`,
/// `embeddedMatch`).
fn gatekeeper_match_schema() -> Value {
    let glob_list = json!({
        "type": "array",
        "items": {"type": "string", "pattern": "^\\*?[-:a-z0-9]*\\*?$"}
    });
    json!({
        "type": "object",
        "properties": {
            "kinds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "apiGroups": {"type": "array", "items": {"type": "string"}},
                        "kinds": {"type": "array", "items": {"type": "string"}}
                    }
                }
            },
            "namespaces": glob_list.clone(),
            "excludedNamespaces": glob_list,
            "labelSelector": defs_ref(LABEL_SELECTOR),
            "namespaceSelector": defs_ref(LABEL_SELECTOR),
            "name": {"type": "string", "pattern": "^\\*?[-:a-z0-9]*\\*?$"},
            "processes": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["audit", "webhook", "sync", "mutation-webhook", "*"]
                }
            },
            "scope": {"type": "string"},
            "source": {"type": "string", "enum": ["All", "Generated", "Original"]}
        }
    })
}

/// Plain messages for one validation error.
fn messages(error: &ValidationError<'_>) -> Vec<String> {
    let path = error.instance_path().as_str();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|field| {
                format!(
                    "{path}/{}: unknown field {field:?} (not in the schema)",
                    escape_pointer(field)
                )
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let field = property.as_str().unwrap_or_default();
            vec![format!(
                "{path}/{}: required field {field:?} is missing",
                escape_pointer(field)
            )]
        }
        _ => {
            let mut text = error.to_string();
            if text.len() > MAX_MESSAGE {
                let mut cut = MAX_MESSAGE;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push_str("...");
            }
            let path = if path.is_empty() { "/" } else { path };
            vec![format!("{path}: {text}")]
        }
    }
}

/// RFC 6901 escaping of one reference token.
fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
