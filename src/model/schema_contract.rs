//! The JSON Schemas and the model cannot drift apart.
//!
//! - Every property a schema allows is read by the model: for each one, a
//!   document that passes the schema and sets it deserialises, and the
//!   model's input structs deny unknown fields, so a property the model lacks
//!   fails here rather than being dropped in silence.
//! - Every field the model reads is a property of the schema: the model's
//!   field names come from serde itself, through a deserializer that records
//!   what each `Deserialize` impl asks for (the names after renames).
//!
//! Paths read like YAML: `spec.resources.*.type`, `spec.ports[].name`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};
use serde_json::{Map, Value as Json};

use super::{AppFile, PlatformFile, ProbeSpec};
use crate::validate::schema::{schema_json, Kind};

/// One step from a value to a value inside it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// An object's property.
    Field(String),
    /// An array's items.
    Item,
    /// A map's values (`additionalProperties`).
    Entry,
    /// A branch of an `anyOf`: schemas only, the model does not see it.
    Alt(usize),
}

type Path = Vec<Step>;

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Field(f) if s.is_empty() => s.push_str(f),
            Step::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Step::Item => s.push_str("[]"),
            Step::Entry => s.push_str(".*"),
            Step::Alt(i) => s.push_str(&format!("<anyOf {i}>")),
        }
    }
    s
}

fn without_alts(path: &[Step]) -> Path {
    path.iter()
        .filter(|s| !matches!(s, Step::Alt(_)))
        .cloned()
        .collect()
}

fn field(name: &str) -> Step {
    Step::Field(name.to_string())
}

// ---------------------------------------------------------------------------
// The schema side: property routes and documents that set them
// ---------------------------------------------------------------------------

struct Schema {
    kind: Kind,
    root: &'static Json,
    validator: jsonschema::Validator,
    /// A sample string for each string schema met, by its address.
    strings: RefCell<BTreeMap<*const Json, String>>,
}

fn compile(s: &Json) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(s)
        .expect("the schema compiles")
}

impl Schema {
    fn of(kind: Kind) -> Schema {
        let root = schema_json(kind);
        Schema {
            kind,
            root,
            validator: compile(root),
            strings: RefCell::default(),
        }
    }

    /// Follows local `$ref`s (`#/$defs/NAME`, the only kind the schemas use).
    fn resolve<'a>(&'a self, mut s: &'a Json) -> &'a Json {
        while let Some(r) = s.get("$ref").and_then(Json::as_str) {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            s = self.root.pointer(pointer).expect("the $ref resolves");
        }
        s
    }

    /// Every route from the root to a value, each with the schema found there.
    fn routes(&self) -> Vec<(Path, &Json)> {
        let mut out = Vec::new();
        self.walk(self.root, Vec::new(), &mut out);
        out
    }

    fn walk<'a>(&'a self, s: &'a Json, route: Path, out: &mut Vec<(Path, &'a Json)>) {
        assert!(route.len() < 32, "a $ref cycle at {}", show(&route));
        let s = self.resolve(s);
        out.push((route.clone(), s));
        let step = |extra: Step| {
            let mut r = route.clone();
            r.push(extra);
            r
        };
        if let Some(props) = s.get("properties").and_then(Json::as_object) {
            for (name, p) in props {
                self.walk(p, step(field(name)), out);
            }
        }
        if let Some(items) = s.get("items").filter(|i| i.is_object()) {
            self.walk(items, step(Step::Item), out);
        }
        if let Some(values) = s.get("additionalProperties").filter(|v| v.is_object()) {
            self.walk(values, step(Step::Entry), out);
        }
        if let Some(alts) = s.get("anyOf").and_then(Json::as_array) {
            for (i, alt) in alts.iter().enumerate() {
                self.walk(alt, step(Step::Alt(i)), out);
            }
        }
    }

    /// Paths (without `anyOf` branches) of every property the schema allows.
    fn property_paths(&self) -> BTreeSet<Path> {
        self.routes()
            .into_iter()
            .filter(|(r, _)| matches!(r.last(), Some(Step::Field(_))))
            .map(|(r, _)| without_alts(&r))
            .collect()
    }

    /// The smallest document the schema accepts that holds a value at `route`.
    /// With `unknown`, the object found there also gets a property no schema
    /// or model has.
    fn document(&self, route: &[Step], unknown: bool) -> Json {
        self.build(self.root, route, unknown)
    }

    fn build(&self, s: &Json, route: &[Step], unknown: bool) -> Json {
        let s = self.resolve(s);
        let Some((first, rest)) = route.split_first() else {
            let mut v = self.minimal(s);
            if unknown {
                v.as_object_mut()
                    .expect("an object at the end of the route")
                    .insert("notAField".into(), Json::Bool(true));
            }
            return v;
        };
        match first {
            Step::Alt(i) => self.build(&s["anyOf"][*i], rest, unknown),
            Step::Field(name) => {
                let mut obj = self.minimal_object(s);
                obj.insert(
                    name.clone(),
                    self.build(&s["properties"][name], rest, unknown),
                );
                // `maxProperties` (one of several, e.g. a receiver): the
                // field on the route takes the place of the fillers.
                if let Some(max) = s.get("maxProperties").and_then(Json::as_u64) {
                    let required: Vec<&str> = s
                        .get("required")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Json::as_str)
                        .collect();
                    let fillers: Vec<String> = obj
                        .keys()
                        .filter(|k| *k != name && !required.contains(&k.as_str()))
                        .cloned()
                        .collect();
                    for k in fillers {
                        if obj.len() as u64 <= max {
                            break;
                        }
                        obj.remove(&k);
                    }
                }
                Json::Object(obj)
            }
            Step::Item => Json::Array(vec![self.build(&s["items"], rest, unknown)]),
            Step::Entry => {
                let mut obj = Map::new();
                obj.insert(
                    self.key(s),
                    self.build(&s["additionalProperties"], rest, unknown),
                );
                Json::Object(obj)
            }
        }
    }

    /// The smallest value `s` accepts.
    fn minimal(&self, s: &Json) -> Json {
        let s = self.resolve(s);
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if let Some(first) = s.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        if let Some(first) = s.get("anyOf").and_then(|a| a.get(0)) {
            return self.minimal(first);
        }
        let ty = match &s["type"] {
            Json::Array(types) => types[0].as_str().unwrap(),
            t => t.as_str().unwrap_or_else(|| panic!("no type in {s}")),
        };
        let bound = |lo: &str, ex: &str| {
            s.get(lo)
                .cloned()
                .or_else(|| s.get(ex).and_then(Json::as_i64).map(|m| Json::from(m + 1)))
                .unwrap_or(Json::from(1))
        };
        match ty {
            "object" => Json::Object(self.minimal_object(s)),
            "array" if s.get("minItems").and_then(Json::as_u64).unwrap_or(0) > 0 => {
                Json::Array(vec![self.minimal(&s["items"])])
            }
            "array" => Json::Array(Vec::new()),
            "string" => Json::String(self.string(s)),
            "integer" | "number" => bound("minimum", "exclusiveMinimum"),
            "boolean" => Json::Bool(false),
            other => panic!("no sample for type {other}"),
        }
    }

    /// An object with its required properties, and enough more for `minProperties`.
    fn minimal_object(&self, s: &Json) -> Map<String, Json> {
        let mut obj = Map::new();
        let props = s.get("properties").and_then(Json::as_object);
        for name in s
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            obj.insert(name.into(), self.minimal(&props.unwrap()[name]));
        }
        let wanted = s.get("minProperties").and_then(Json::as_u64).unwrap_or(0) as usize;
        for (name, p) in props.into_iter().flatten() {
            if obj.len() >= wanted {
                break;
            }
            if !obj.contains_key(name) {
                obj.insert(name.clone(), self.minimal(p));
            }
        }
        if obj.len() < wanted {
            obj.insert(self.key(s), self.minimal(&s["additionalProperties"]));
        }
        obj
    }

    /// A key the map's `propertyNames` accepts.
    fn key(&self, s: &Json) -> String {
        match s.get("propertyNames") {
            Some(names) => match self.minimal(names) {
                Json::String(k) => k,
                other => panic!("a map key that is not a string: {other}"),
            },
            None => "a".into(),
        }
    }

    /// A short string `s` accepts (its pattern and lengths), from a few samples.
    fn string(&self, s: &Json) -> String {
        const SAMPLES: &[&str] = &[
            "a",
            "1",
            "/a",
            "a#b",
            "1h",
            "@daily",
            "component:a",
            "https://a",
            "10.0.0.0/8",
            "a@b",
            "#a",
            "a:1",
        ];
        let mut known = self.strings.borrow_mut();
        let sample = known.entry(s as *const Json).or_insert_with(|| {
            let check = compile(s);
            SAMPLES
                .iter()
                .find(|v| check.is_valid(&Json::from(**v)))
                .unwrap_or_else(|| panic!("no sample string fits {s}; add one"))
                .to_string()
        });
        sample.clone()
    }

    /// Deserialises `doc` the way `Platform::from_json` and `Service::from_json` do.
    fn model_reads(&self, doc: Json) -> Result<(), String> {
        match self.kind {
            Kind::Platform => super::Platform::from_json(doc).map(drop),
            Kind::Application => serde_json::from_value::<AppFile>(doc)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    fn accepts(&self, doc: &Json) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator
            .iter_errors(doc)
            .map(|e| e.to_string())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

// ---------------------------------------------------------------------------
// The model side: what serde's derived impls ask for
// ---------------------------------------------------------------------------

/// What a `Deserialize` impl asked of the deserializer at one path.
#[derive(Debug, Clone, PartialEq)]
enum Asked {
    Struct(&'static [&'static str]),
    Seq,
    Map,
    Enum(&'static [&'static str]),
    /// `deserialize_any`: an untagged enum (or anything that reads whatever
    /// it finds). Its variants cannot be seen from outside.
    Any,
    Scalar,
}

/// A deserializer that records what it is asked for at each path. It holds no
/// data: it follows `focus`, one struct field, sequence item or map value at
/// a time, and fails everywhere else. [`explore`] runs a type through it once
/// per path until every path has been asked about.
struct Recorder<'a> {
    at: Path,
    focus: &'a [Step],
    log: &'a RefCell<BTreeMap<Path, Asked>>,
}

type Error = de::value::Error;

impl<'a> Recorder<'a> {
    fn note(&self, asked: Asked) {
        self.log.borrow_mut().insert(self.at.clone(), asked);
    }

    fn inner(&self, step: Step) -> Recorder<'a> {
        let mut at = self.at.clone();
        at.push(step);
        Recorder {
            at,
            focus: &self.focus[1..],
            log: self.log,
        }
    }

    fn stop<T>(&self) -> Result<T, Error> {
        Err(de::Error::custom("recorded"))
    }
}

macro_rules! scalars {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            self.note(Asked::Scalar);
            self.stop()
        })*
    };
}

impl<'de> de::Deserializer<'de> for Recorder<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        self.note(Asked::Any);
        self.stop()
    }

    scalars!(deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier deserialize_ignored_any);

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Error> {
        self.note(Asked::Scalar);
        self.stop()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.note(Asked::Seq);
        match self.focus.first() {
            Some(Step::Item) => visitor.visit_seq(One(Some(self.inner(Step::Item)))),
            _ => self.stop(),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.note(Asked::Map);
        match self.focus.first() {
            Some(Step::Entry) => visitor.visit_map(Entry {
                key: Some("a"),
                value: Some(self.inner(Step::Entry)),
            }),
            _ => self.stop(),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.note(Asked::Struct(fields));
        match self.focus.first() {
            Some(Step::Field(f)) => match fields.iter().copied().find(|k| *k == f.as_str()) {
                Some(key) => visitor.visit_map(Entry {
                    key: Some(key),
                    value: Some(self.inner(field(key))),
                }),
                None => self.stop(),
            },
            _ => self.stop(),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        self.note(Asked::Enum(variants));
        self.stop()
    }
}

/// A sequence of one item.
struct One<'a>(Option<Recorder<'a>>);

impl<'de> de::SeqAccess<'de> for One<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.take().map(|r| seed.deserialize(r)).transpose()
    }
}

/// A map (or struct) of one entry.
struct Entry<'a> {
    key: Option<&'static str>,
    value: Option<Recorder<'a>>,
}

impl<'de> de::MapAccess<'de> for Entry<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        self.key
            .take()
            .map(|k| seed.deserialize(de::value::StrDeserializer::<Error>::new(k)))
            .transpose()
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.value.take().expect("a value after its key"))
    }
}

/// Everything `T`'s `Deserialize` impl asks for, by path below `prefix`.
fn explore<T: DeserializeOwned>(prefix: &[Step]) -> BTreeMap<Path, Asked> {
    let log = RefCell::new(BTreeMap::new());
    let mut queue: Vec<Path> = vec![Vec::new()];
    let mut seen = BTreeSet::new();
    while let Some(focus) = queue.pop() {
        if !seen.insert(focus.clone()) {
            continue;
        }
        // Every run fails once it has walked `focus`: what it asked is the result.
        let _ = T::deserialize(Recorder {
            at: Vec::new(),
            focus: &focus,
            log: &log,
        });
        let below = |step: Step| {
            let mut p = focus.clone();
            p.push(step);
            p
        };
        match log.borrow().get(&focus) {
            Some(Asked::Struct(fields)) => queue.extend(fields.iter().map(|f| below(field(f)))),
            Some(Asked::Seq) => queue.push(below(Step::Item)),
            Some(Asked::Map) => queue.push(below(Step::Entry)),
            _ => {}
        }
    }
    log.into_inner()
        .into_iter()
        .map(|(p, a)| ([prefix, &p].concat(), a))
        .collect()
}

/// The untagged enums of the input model whose variants include a struct,
/// which serde asks for only through `deserialize_any`: where they are, and
/// that struct's fields explored on their own.
fn behind_untagged(kind: Kind) -> BTreeMap<Path, Asked> {
    let mut out = BTreeMap::new();
    if kind == Kind::Application {
        for probe in ["liveness", "readiness"] {
            let at = [field("spec"), field("probes"), field(probe)];
            out.extend(explore::<ProbeSpec>(&at));
        }
    }
    out
}

fn model_of(kind: Kind) -> BTreeMap<Path, Asked> {
    let mut asked = match kind {
        Kind::Application => explore::<AppFile>(&[]),
        Kind::Platform => explore::<PlatformFile>(&[]),
    };
    for (path, a) in behind_untagged(kind) {
        // The struct replaces the opaque `Any` recorded at the enum.
        asked.insert(path, a);
    }
    asked
}

fn field_paths(asked: &BTreeMap<Path, Asked>) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    for (path, a) in asked {
        if let Asked::Struct(fields) = a {
            for f in *fields {
                let mut p = path.clone();
                p.push(field(f));
                out.insert(p);
            }
        }
    }
    out
}

struct Listing<'a>(&'a BTreeSet<Path>);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in self.0 {
            write!(f, "\n  {}", show(p))?;
        }
        Ok(())
    }
}

const KINDS: [Kind; 2] = [Kind::Application, Kind::Platform];

fn file_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Application => "platform.v1.schema.json",
        Kind::Platform => "paved.v1.schema.json",
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

/// Schema → model: a document setting any one property passes the schema and
/// deserialises into the model.
#[test]
fn every_schema_property_deserialises_into_the_model() {
    let mut report = Vec::new();
    for kind in KINDS {
        let schema = Schema::of(kind);
        let mut failures = Vec::new();
        let mut tried = 0;
        for (route, _) in schema.routes() {
            if !matches!(route.last(), Some(Step::Field(_))) {
                continue;
            }
            tried += 1;
            let doc = schema.document(&route, false);
            let at = show(&route);
            if let Err(e) = schema.accepts(&doc) {
                failures.push(format!(
                    "{at}: the sample document fails the schema: {e}\n    {doc}"
                ));
            } else if let Err(e) = schema.model_reads(doc) {
                failures.push(format!("{at}: {e}"));
            }
        }
        assert!(tried > 20, "{kind:?}: only {tried} properties found");
        if !failures.is_empty() {
            report.push(format!(
                "{}: properties the model cannot read (add the field to src/model.rs, or remove the property):\n  {}",
                file_of(kind),
                failures.join("\n  ")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// The model refuses what the schema refuses: at every object the schema
/// describes, one property more fails deserialisation, so a property added to
/// a schema and not to the model is an error, not a value silently dropped.
#[test]
fn every_input_struct_denies_unknown_fields() {
    let mut report = Vec::new();
    for kind in KINDS {
        let schema = Schema::of(kind);
        let mut lenient = Vec::new();
        for (route, s) in schema.routes() {
            if s.get("properties").is_none() {
                continue;
            }
            let doc = schema.document(&route, true);
            if schema.model_reads(doc).is_ok() {
                lenient.push(show(&route));
            }
        }
        if !lenient.is_empty() {
            report.push(format!(
                "{}: the model ignores an unknown property at these objects (add #[serde(deny_unknown_fields)]):\n  {}",
                file_of(kind),
                lenient.join("\n  ")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Model → schema: every field the model reads is a property of the schema,
/// at the same path; and every property of the schema is a field.
#[test]
fn every_model_field_is_a_schema_property() {
    let mut report = Vec::new();
    for kind in KINDS {
        let model = field_paths(&model_of(kind));
        let schema = Schema::of(kind).property_paths();
        let only_model: BTreeSet<Path> = model.difference(&schema).cloned().collect();
        let only_schema: BTreeSet<Path> = schema.difference(&model).cloned().collect();
        if !only_model.is_empty() || !only_schema.is_empty() {
            report.push(format!(
                "{}: the model and the schema disagree.\nFields of the model the schema does not allow:{}\nProperties of the schema the model does not read:{}",
                file_of(kind),
                Listing(&only_model),
                Listing(&only_schema),
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Where serde reads a value through `deserialize_any` (an untagged enum),
/// the fields behind it cannot be recorded; each such place is either listed
/// in `behind_untagged` or holds no object in the schema.
#[test]
fn untagged_values_hide_no_schema_object() {
    for kind in KINDS {
        let schema = Schema::of(kind);
        let objects: BTreeSet<Path> = schema
            .routes()
            .into_iter()
            .filter(|(_, s)| s.get("properties").is_some())
            .map(|(r, _)| without_alts(&r))
            .collect();
        let explained: BTreeSet<Path> = behind_untagged(kind).into_keys().collect();
        let explore_from = match kind {
            Kind::Application => explore::<AppFile>(&[]),
            Kind::Platform => explore::<PlatformFile>(&[]),
        };
        let hidden: BTreeSet<Path> = explore_from
            .into_iter()
            .filter(|(p, a)| *a == Asked::Any && objects.contains(p) && !explained.contains(p))
            .map(|(p, _)| p)
            .collect();
        assert!(
            hidden.is_empty(),
            "{}: untagged enums hide these objects; list them in behind_untagged:{}",
            file_of(kind),
            Listing(&hidden)
        );
    }
}

/// A model enum takes exactly the values the schema's `enum` lists.
#[test]
fn model_enums_take_the_schemas_values() {
    for kind in KINDS {
        let schema = Schema::of(kind);
        let by_path: BTreeMap<Path, &Json> = schema
            .routes()
            .into_iter()
            .map(|(r, s)| (without_alts(&r), s))
            .collect();
        for (path, asked) in model_of(kind) {
            let Asked::Enum(variants) = asked else {
                continue;
            };
            let allowed: Vec<&str> = by_path[&path]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: no enum in the schema", show(&path)))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(variants, allowed.as_slice(), "{}", show(&path));
        }
    }
}

/// The recorder itself: it sees renamed fields, options, sequences and maps.
#[test]
fn the_recorder_sees_through_options_lists_and_maps() {
    let asked = explore::<AppFile>(&[]);
    let paths = field_paths(&asked);
    let has = |p: &[Step]| paths.contains(p);
    assert!(has(&[field("spec"), field("type")]), "a renamed field");
    assert!(has(&[
        field("spec"),
        field("ports"),
        Step::Item,
        field("port")
    ]));
    assert!(has(&[
        field("spec"),
        field("resources"),
        Step::Entry,
        field("storageGB")
    ]));
    assert!(
        has(&[field("spec"), field("security"), field("reason")]),
        "through an Option"
    );
    assert_eq!(
        asked[&vec![field("spec"), field("type")]],
        Asked::Enum(&["service", "worker", "cronjob"])
    );
    assert_eq!(asked[&vec![field("spec"), field("replicas")]], Asked::Any);
}

/// `ResourceSpec::parameters_set`, which the not-for-resource-type check
/// reads, reports each parameter of the resource-type table when a spec sets
/// it; and those parameters are all `ResourceSpec` holds besides `type`.
#[test]
fn resource_parameters_are_the_tables() {
    let schema = Schema::of(Kind::Application);
    let resource = [field("spec"), field("resources"), Step::Entry];
    let mut table: BTreeSet<&str> = crate::resource_types::RESOURCE_TYPES
        .iter()
        .flat_map(|t| t.parameters.iter().copied())
        .collect();
    for p in &table {
        let doc = schema.document(&[&resource[..], &[field(p)]].concat(), false);
        let file: AppFile = serde_json::from_value(doc).unwrap();
        let r = file.spec.resources.values().next().unwrap();
        assert_eq!(r.parameters_set().collect::<Vec<_>>(), [*p], "{p}");
    }
    table.insert("type");
    let Asked::Struct(fields) = &model_of(Kind::Application)[&resource.to_vec()] else {
        panic!("spec.resources.* is not a struct");
    };
    assert_eq!(fields.iter().copied().collect::<BTreeSet<_>>(), table);
}
