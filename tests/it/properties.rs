//! Property tests: generated specs, compiled in-process.
//!
//! 1. Valid fleets (types, ports, env, resources, placeholders, dependencies
//!    among the generated services, environments with overrides) always
//!    compile; every output file starts with the generated header and parses
//!    as YAML with an independent reader (serde_yaml); compiling again, and
//!    from a copy whose folders were created in the other order and named so
//!    that discovery visits them in the other order, gives the same bytes.
//! 2. Arbitrary text (newlines, `---`, `{{ }}`, `: `, `#`, quotes, control
//!    characters, Unicode) in every free-text field never changes the
//!    output's structure: the same files, the same documents, the same keys
//!    and types as with a plain marker value, and each string leaf is exactly
//!    the plain one with the marker replaced by the text (so the text
//!    round-trips byte for byte).
//!
//! Case counts are modest (CI has two cores); `PROPTEST_CASES` raises them.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

use paved::testing::app::{self, Inputs};

// ---------------------------------------------------------------------------
// Compiling a folder of specs in-process
// ---------------------------------------------------------------------------

/// The rendered plan: path → bytes.
type Tree = BTreeMap<String, String>;

/// Writes `specs` (folder name → spec) under `root` in the given order, with
/// the default platform config pinned as `paved.yaml` (so no `paved.yaml`
/// above the temp folder can leak in).
fn write_specs(root: &Path, specs: &[(String, Json)]) {
    std::fs::write(root.join("paved.yaml"), app::DEFAULT_CONFIG).unwrap();
    for (folder, spec) in specs {
        let dir = root.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("platform.yaml"), yaml_text(spec)).unwrap();
    }
}

fn compile(root: &Path) -> Result<Tree, String> {
    let inputs = Inputs {
        paths: vec![root.to_path_buf()],
        config: Some(root.join("paved.yaml")),
        ..Inputs::default()
    };
    let c = app::compile(&inputs, true).map_err(|f| f.0)?;
    let (files, diags) = app::render_in_memory(&c);
    if paved::testing::diag::count_errors(&diags) > 0 {
        let shown: Vec<String> = diags
            .iter()
            .map(|d| {
                let file = d.file().map(|s| s.name.clone()).unwrap_or_default();
                let (l, col) = d.line_col();
                format!("{} {file}:{l}:{col}: {}", d.code, d.message)
            })
            .collect();
        return Err(shown.join("\n"));
    }
    Ok(files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone()))
        .collect())
}

fn compile_specs(specs: &[(String, Json)]) -> (tempfile::TempDir, Result<Tree, String>) {
    let dir = tempfile::tempdir().unwrap();
    write_specs(dir.path(), specs);
    let tree = compile(dir.path());
    (dir, tree)
}

/// Every document of a generated file, parsed by serde_yaml (not Paved's reader).
fn documents(path: &str, text: &str) -> Result<Vec<Json>, String> {
    let mut out = Vec::new();
    // The portal template's skeleton is a nunjucks template, not YAML
    // (tests/it/portal_template.rs fills it in and checks the result).
    if text.starts_with(paved::testing::emit::header::TEMPLATE_MARK) {
        return Ok(out);
    }
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v: Json = serde::Deserialize::deserialize(doc)
            .map_err(|e| format!("{path} is not valid YAML: {e}\n{text}"))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Writing specs: JSON is YAML 1.2, with YAML's escapes for what it cannot hold
// ---------------------------------------------------------------------------

/// YAML text for a JSON value, in flow (JSON) style. Strings are written
/// double-quoted; characters YAML does not allow raw in a file (C0/C1
/// controls, DEL, U+FEFF, U+FFFE/U+FFFF, line/paragraph separators) are
/// escaped, everything else (é, 中, 😀) is written as is.
fn yaml_text(v: &Json) -> String {
    let mut out = String::new();
    write_value(v, &mut out);
    out.push('\n');
    out
}

fn write_value(v: &Json, out: &mut String) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => write_string(s, out),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(k, out);
                out.push_str(": ");
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(
                    c,
                    '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}'
                ) =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------
// Valid fleets
// ---------------------------------------------------------------------------

const RESOURCE_TYPES: &[&str] = &["postgresql", "redis", "bucket"];
const SIZES: &[&str] = &["small", "medium", "large"];
const ENVIRONMENTS: &[&str] = &["staging", "production"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Service,
    Worker,
    Cronjob,
}

#[derive(Debug, Clone)]
struct Resource {
    name: String,
    kind: &'static str,
    storage: Option<u32>,
}

#[derive(Debug, Clone)]
enum Env {
    Text(String),
    Int(i64),
    Bool(bool),
    /// `${resources.<resource>.<key>}` of the n-th resource, if there is one.
    Resource(usize, usize),
    /// `prefix-${metadata.name}.${environment.domain}`
    Interpolated(String),
}

#[derive(Debug, Clone)]
enum Replicas {
    Unset,
    Auto(Option<(u32, u32)>),
    Fixed(u32),
}

#[derive(Debug, Clone)]
struct Override {
    promote: bool,
    replicas: Option<u32>,
    size: Option<&'static str>,
    env: Vec<(String, String)>,
    storage: Option<u32>,
    host: Option<String>,
    image_tag: Option<String>,
}

#[derive(Debug, Clone)]
struct Svc {
    word: String,
    kind: Kind,
    ports: Vec<u16>,
    env: Vec<Env>,
    secrets: usize,
    resources: Vec<Resource>,
    replicas: Replicas,
    size: Option<&'static str>,
    compute: Option<(u32, u32)>,
    deps: Vec<usize>,
    environments: Option<Vec<(usize, Override)>>,
    ingress: Option<(String, bool)>,
    tag: String,
    slo: Option<(f64, u64)>,
    waiver: bool,
}

fn word() -> impl Strategy<Value = String> {
    "[a-z]{1,10}"
}

fn resource() -> impl Strategy<Value = Resource> {
    (word(), prop::sample::select(RESOURCE_TYPES), 1u32..500).prop_map(|(w, kind, storage)| {
        Resource {
            name: format!("{w}-{kind}"),
            kind,
            storage: (kind != "bucket").then_some(storage),
        }
    })
}

/// Whether `text` assigns something to a name that may be a credential
/// (`PW=a`, `db.token: x`): Paved refuses those as literal secrets, so a
/// valid fleet cannot hold them. Wider than Paved's own rule on purpose.
fn assigns_a_credential(text: &str) -> bool {
    const PARTS: [&str; 8] = [
        "pw", "pass", "pat", "cred", "secret", "token", "key", "phrase",
    ];
    text.match_indices(['=', ':']).any(|(at, _)| {
        let name: String = text[..at]
            .trim_end()
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect::<String>()
            .to_ascii_lowercase();
        PARTS
            .iter()
            .any(|p| name.contains(&p.chars().rev().collect::<String>()))
    })
}

fn env_value() -> impl Strategy<Value = Env> {
    prop_oneof![
        "[A-Za-z0-9 ./:=_-]{0,30}"
            .prop_filter("a valid fleet holds no credential", |t| {
                !assigns_a_credential(t)
            })
            .prop_map(Env::Text),
        any::<i64>().prop_map(Env::Int),
        any::<bool>().prop_map(Env::Bool),
        (0usize..4, 0usize..8).prop_map(|(r, k)| Env::Resource(r, k)),
        "[a-z]{1,8}".prop_map(Env::Interpolated),
    ]
}

fn replicas() -> impl Strategy<Value = Replicas> {
    prop_oneof![
        Just(Replicas::Unset),
        Just(Replicas::Auto(None)),
        (1u32..20, 0u32..20).prop_map(|(min, extra)| Replicas::Auto(Some((min, min + extra)))),
        (0u32..=1000).prop_map(Replicas::Fixed),
    ]
}

fn overrides() -> impl Strategy<Value = Override> {
    (
        any::<bool>(),
        prop::option::of(0u32..50),
        prop::option::of(prop::sample::select(SIZES)),
        prop::collection::vec(("[A-Z]{1,6}", "[a-z0-9]{0,10}"), 0..3),
        prop::option::of(1u32..1000),
        prop::option::of("[a-z]{1,8}"),
        prop::option::of("[0-9]\\.[0-9]{1,2}\\.[0-9]"),
    )
        .prop_map(
            |(promote, replicas, size, env, storage, host, image_tag)| Override {
                promote,
                replicas,
                size,
                env,
                storage,
                host,
                image_tag,
            },
        )
}

fn svc() -> impl Strategy<Value = Svc> {
    let shape = (
        word(),
        prop_oneof![
            3 => Just(Kind::Service),
            1 => Just(Kind::Worker),
            1 => Just(Kind::Cronjob)
        ],
        prop::collection::btree_set(1u16..=65535, 1..4),
        prop::collection::vec(env_value(), 0..6),
        0usize..3,
        prop::collection::vec(resource(), 0..3),
        replicas(),
    );
    let rest = (
        prop::option::of(prop::sample::select(SIZES)),
        prop::option::of((1u32..4000, 16u32..8192)),
        prop::collection::vec(0usize..6, 0..3),
        prop::option::of(prop::collection::vec((0usize..2, overrides()), 1..3)),
        prop::option::of(("[a-z]{1,10}(\\.[a-z]{2,5})?", any::<bool>())),
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,3}",
        prop::option::of((
            prop::sample::select(&[99.0, 99.5, 99.9, 99.99][..]),
            1u64..5000,
        )),
        any::<bool>(),
    );
    (shape, rest).prop_map(
        |(
            (word, kind, ports, env, secrets, resources, replicas),
            (size, compute, deps, environments, ingress, tag, slo, waiver),
        )| Svc {
            word,
            kind,
            ports: ports.into_iter().collect(),
            env,
            secrets,
            resources,
            replicas,
            size,
            compute,
            deps,
            environments,
            ingress,
            tag,
            slo,
            waiver,
        },
    )
}

/// Builds the fleet's specs, making each generated service valid: names are
/// unique (`s<i>-<word>`), rules for each type are followed, dependencies
/// point only at other services of type `service`.
fn fleet_specs(fleet: &[Svc]) -> Vec<(String, Json)> {
    let names: Vec<String> = fleet
        .iter()
        .enumerate()
        .map(|(i, s)| format!("s{i}-{}", s.word))
        .collect();
    let mut out = Vec::new();
    for (i, s) in fleet.iter().enumerate() {
        let name = &names[i];
        let mut spec = Map::new();
        let kind = match s.kind {
            Kind::Service => "service",
            Kind::Worker => "worker",
            Kind::Cronjob => "cronjob",
        };
        spec.insert("type".into(), json!(kind));
        spec.insert(
            "image".into(),
            json!(format!("ghcr.io/acme/{name}:{}", s.tag)),
        );
        if s.kind == Kind::Cronjob {
            spec.insert("schedule".into(), json!("*/15 * * * *"));
        }
        if s.kind == Kind::Service {
            let ports: Vec<Json> = s
                .ports
                .iter()
                .enumerate()
                .map(|(j, p)| json!({"name": format!("p{j}"), "port": p}))
                .collect();
            spec.insert("ports".into(), Json::Array(ports));
            if let Some((host, public)) = &s.ingress {
                spec.insert(
                    "ingress".into(),
                    json!({"host": host, "path": "/", "public": public}),
                );
            }
        }
        if s.kind != Kind::Cronjob {
            match &s.replicas {
                Replicas::Unset => {}
                Replicas::Auto(bounds) => {
                    spec.insert("replicas".into(), json!("auto"));
                    if let Some((min, max)) = bounds {
                        spec.insert("autoscaling".into(), json!({"min": min, "max": max}));
                    }
                }
                Replicas::Fixed(n) => {
                    spec.insert("replicas".into(), json!(n));
                }
            }
        }
        match (s.size, s.compute) {
            (_, Some((cpu, mem))) => {
                spec.insert(
                    "compute".into(),
                    json!({"cpu": format!("{cpu}m"), "memory": format!("{mem}Mi")}),
                );
            }
            (Some(size), None) => {
                spec.insert("size".into(), json!(size));
            }
            _ => {}
        }
        let resources: Map<String, Json> = s
            .resources
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let mut m = Map::new();
                m.insert("type".into(), json!(r.kind));
                if let Some(g) = r.storage {
                    m.insert("storageGB".into(), json!(g));
                }
                (format!("r{j}-{}", r.name), Json::Object(m))
            })
            .collect();
        let resource_names: Vec<(&String, &str)> = resources
            .iter()
            .zip(&s.resources)
            .map(|((n, _), r)| (n, r.kind))
            .collect();
        let mut env = Map::new();
        for (j, e) in s.env.iter().enumerate() {
            let value = match e {
                Env::Text(t) => json!(t),
                Env::Int(n) => json!(n),
                Env::Bool(b) => json!(b),
                Env::Resource(r, k) => match resource_names.get(*r % resource_names.len().max(1)) {
                    Some((rname, rkind)) => {
                        let keys = paved::testing::placeholder::connection_keys(rkind);
                        json!(format!("${{resources.{rname}.{}}}", keys[k % keys.len()]))
                    }
                    None => json!("no-resource"),
                },
                Env::Interpolated(p) => {
                    json!(format!("{p}-${{metadata.name}}.${{environment.domain}}"))
                }
            };
            env.insert(format!("E{j}_VALUE"), value);
        }
        if !env.is_empty() {
            spec.insert("env".into(), Json::Object(env));
        }
        if s.secrets > 0 {
            let secrets: Vec<Json> = (0..s.secrets)
                .map(|j| json!({"env": format!("S{j}_API_KEY"), "ref": format!("{name}/s{j}#key-{j}")}))
                .collect();
            spec.insert("secrets".into(), Json::Array(secrets));
        }
        if !resources.is_empty() {
            spec.insert("resources".into(), Json::Object(resources.clone()));
        }
        if s.kind == Kind::Service {
            let deps: Vec<String> = s
                .deps
                .iter()
                .map(|d| d % fleet.len())
                .filter(|d| *d != i && fleet[*d].kind == Kind::Service)
                .map(|d| format!("component:{}", names[d]))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !deps.is_empty() {
                spec.insert("dependsOn".into(), json!(deps));
            }
        }
        // An SLO is about HTTP requests: only services may have one.
        if let (Some((availability, latency)), Kind::Service) = (s.slo, s.kind) {
            spec.insert(
                "observability".into(),
                json!({"slo": {"availability": availability, "latencyP99Ms": latency}}),
            );
        }
        if s.waiver {
            spec.insert(
                "security".into(),
                json!({"readOnlyRootFilesystem": false, "reason": "the runtime writes a cache"}),
            );
        }
        if let Some(envs) = &s.environments {
            let mut m = Map::new();
            for (e, o) in envs {
                let mut ov = Map::new();
                if o.promote {
                    ov.insert("promote".into(), json!("manual"));
                }
                // A fixed count in an environment while the base autoscales is
                // allowed; a cronjob takes neither.
                if let (Some(n), false) = (o.replicas, s.kind == Kind::Cronjob) {
                    ov.insert("replicas".into(), json!(n));
                }
                if let Some(size) = o.size {
                    ov.insert("size".into(), json!(size));
                }
                if !o.env.is_empty() {
                    let env: Map<String, Json> = o
                        .env
                        .iter()
                        // `_V` last: never a secret-like name such as `O_TOKEN`.
                        .map(|(k, v)| (format!("O_{k}_V"), json!(v)))
                        .collect();
                    ov.insert("env".into(), Json::Object(env));
                }
                if let Some(g) = o.storage {
                    let db: Map<String, Json> = resources
                        .iter()
                        .zip(&s.resources)
                        .filter(|(_, r)| r.kind != "bucket")
                        .map(|((n, _), _)| (n.clone(), json!({"storageGB": g})))
                        .collect();
                    if !db.is_empty() {
                        ov.insert("resources".into(), Json::Object(db));
                    }
                }
                if let (Some(h), true) = (&o.host, spec.contains_key("ingress")) {
                    ov.insert("ingress".into(), json!({"host": h}));
                }
                if let Some(t) = &o.image_tag {
                    ov.insert("image".into(), json!(format!("ghcr.io/acme/{name}:{t}")));
                }
                m.insert(ENVIRONMENTS[*e].to_string(), Json::Object(ov));
            }
            spec.insert("environments".into(), Json::Object(m));
        }
        let doc = json!({
            "apiVersion": "paved.dev/v1",
            "kind": "Application",
            "metadata": {
                "name": name,
                "description": format!("Service number {i}"),
                "owner": format!("team-{}", s.word),
                "costCenter": "cc-1234",
                "tags": [s.word.clone()],
            },
            "spec": Json::Object(spec),
        });
        out.push((name.clone(), doc));
    }
    out
}

fn check_tree(tree: &Tree) -> Result<(), String> {
    if tree.is_empty() {
        return Err("nothing was rendered".into());
    }
    for (path, text) in tree {
        if !text.starts_with("# Generated by paved")
            && !text.starts_with(paved::testing::emit::header::TEMPLATE_MARK)
        {
            return Err(format!("{path} does not start with the generated header"));
        }
        if !text.ends_with('\n') {
            return Err(format!("{path} does not end with a newline"));
        }
        let docs = documents(path, text)?;
        if docs.is_empty() && !text.starts_with(paved::testing::emit::header::TEMPLATE_MARK) {
            return Err(format!("{path} holds no document"));
        }
    }
    Ok(())
}

/// 64 cases per property. Integration tests have no lib.rs for proptest to
/// file regressions next to; a failure prints its minimal input instead.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_fleets_render_deterministically(fleet in prop::collection::vec(svc(), 1..5)) {
        let specs = fleet_specs(&fleet);
        let (dir, tree) = compile_specs(&specs);
        let tree = tree.map_err(|e| TestCaseError::fail(format!("a valid fleet failed:\n{e}\nspecs:\n{}", show(&specs))))?;
        check_tree(&tree).map_err(TestCaseError::fail)?;

        // The same folder again: the same bytes.
        let again = compile(dir.path()).map_err(TestCaseError::fail)?;
        prop_assert!(again == tree, "a second compile of the same folder differs");

        // The same folder names, created in the other order.
        let reversed: Vec<(String, Json)> = specs.iter().rev().cloned().collect();
        let (_d2, tree2) = compile_specs(&reversed);
        prop_assert!(tree2.map_err(TestCaseError::fail)? == tree, "creation order changed the output");

        // Folder names that sort the other way round: discovery visits the
        // specs in the opposite order. Only the header (which names the folder) may differ.
        let n = specs.len();
        let renamed: Vec<(String, Json)> = specs
            .iter()
            .enumerate()
            .map(|(i, (f, s))| (format!("z{:02}-{f}", n - i), s.clone()))
            .collect();
        let (_d3, tree3) = compile_specs(&renamed);
        let tree3 = tree3.map_err(TestCaseError::fail)?;
        prop_assert_eq!(tree3.keys().collect::<Vec<_>>(), tree.keys().collect::<Vec<_>>());
        for (path, text) in &tree {
            // Outputs name their spec's file and folder (headers, catalog
            // annotations and source links); map the renamed folders back
            // before comparing.
            let mut got = tree3[path].clone();
            for ((new, _), (old, _)) in renamed.iter().zip(&specs) {
                got = got.replace(&format!("{new}/"), &format!("{old}/"));
            }
            prop_assert!(&got == text, "discovery order changed {}:\n{}\nvs\n{}", path, got, text);
        }
    }
}

fn show(specs: &[(String, Json)]) -> String {
    specs
        .iter()
        .map(|(f, s)| format!("# {f}/platform.yaml\n{}", yaml_text(s)))
        .collect()
}

// ---------------------------------------------------------------------------
// Free text never changes the structure
// ---------------------------------------------------------------------------

/// Snippets that break naive templating or YAML emitters.
const NASTY: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    "---",
    "...",
    "\n---\n",
    "{{ x }}",
    "{% if %}",
    "{#",
    ": ",
    ":",
    "#",
    " #",
    "'",
    "\"",
    "''",
    "\\",
    "\\n",
    "kind: ClusterRole",
    "\nkind: ClusterRole\n",
    "- a",
    "[",
    "]",
    "{",
    "}",
    ",",
    "?",
    "&a",
    "*a",
    "!tag",
    "!!str",
    "%",
    "@",
    "`",
    "|",
    ">",
    "|-",
    ">+",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "0755",
    "0x1F",
    "1e3",
    ".inf",
    ".nan",
    "12:30",
    "2024-01-01",
    "-1",
    "+1",
    "0",
    " ",
    "  ",
    "\t",
    " leading",
    "trailing ",
    "é",
    "中文",
    "😀",
    "\u{0}",
    "\u{7}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{feff}",
    "\u{fffe}",
    "${",
    "$${x}",
    "<script>",
    "&amp;",
    "%2F",
    "../",
    "C:\\",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(NASTY).prop_map(String::from),
        2 => any::<char>().prop_map(String::from),
        1 => "[a-zA-Z0-9 ]{1,8}",
    ];
    prop::collection::vec(piece, 1..8)
        .prop_map(|v| v.concat())
        // Placeholders are a feature of env values (tested elsewhere); the
        // markers below must not occur by chance.
        .prop_map(|s| s.replace("${", "$_{"))
        .prop_filter("contains a marker", |s| !s.contains("qq"))
}

/// Text for fields that forbid whitespace (URLs, paths, refs, cron fields).
fn word_text(forbid: &'static [char]) -> impl Strategy<Value = String> {
    text().prop_map(move |s| {
        let w: String = s
            .chars()
            // The schema's `\S` is ECMA-262's, which also counts U+FEFF as space.
            .filter(|c| !c.is_whitespace() && *c != '\u{feff}' && !forbid.contains(c))
            .collect();
        if w.is_empty() {
            "x".to_string()
        } else {
            w
        }
    })
}

/// One value per free-text field; `markers()` gives the plain ones.
#[derive(Debug, Clone)]
struct Texts {
    description: String,
    title: String,
    url: String,
    icon: String,
    greeting: String,
    command: String,
    arg: String,
    path: String,
    probe: String,
    reason: String,
    ref_path: String,
    ref_key: String,
    cron: [String; 5],
}

impl Texts {
    fn markers() -> Texts {
        Texts {
            description: "qqdescriptionqq".into(),
            title: "qqtitleqq".into(),
            url: "qqurlqq".into(),
            icon: "qqiconqq".into(),
            greeting: "qqgreetingqq".into(),
            command: "qqcommandqq".into(),
            arg: "qqargqq".into(),
            path: "qqpathqq".into(),
            probe: "qqprobeqq".into(),
            reason: "qqreasonqq".into(),
            ref_path: "qqrefpathqq".into(),
            ref_key: "qqrefkeyqq".into(),
            cron: [
                "qqcronaqq".into(),
                "qqcronbqq".into(),
                "qqcroncqq".into(),
                "qqcrondqq".into(),
                "qqcroneqq".into(),
            ],
        }
    }

    fn pairs(&self) -> Vec<&String> {
        let mut v = vec![
            &self.description,
            &self.title,
            &self.url,
            &self.icon,
            &self.greeting,
            &self.command,
            &self.arg,
            &self.path,
            &self.probe,
            &self.reason,
            &self.ref_path,
            &self.ref_key,
        ];
        v.extend(self.cron.iter());
        v
    }

    /// The spec of a service and a cronjob holding every free-text field.
    fn specs(&self) -> Vec<(String, Json)> {
        let service = json!({
            "apiVersion": "paved.dev/v1",
            "kind": "Application",
            "metadata": {
                "name": "orders",
                "description": self.description,
                "owner": "team-orders",
                "costCenter": "cc-1234",
                "tags": ["orders", "c++", "team:orders", "#1"],
                "links": [{"title": self.title, "url": format!("https://{}", self.url), "icon": self.icon}],
            },
            "spec": {
                "image": "ghcr.io/acme/orders:1.4.2",
                "command": [self.command],
                "args": [self.arg, "--port", "8080"],
                "ports": [{"name": "http", "port": 8080}],
                "probes": {"liveness": {"path": format!("/{}", self.probe)}},
                "env": {"GREETING": self.greeting, "LOG_LEVEL": "info"},
                "secrets": [{"env": "STRIPE_API_KEY", "ref": format!("{}#{}", self.ref_path, self.ref_key)}],
                "ingress": {"host": "orders", "path": format!("/{}", self.path)},
                "security": {"readOnlyRootFilesystem": false, "reason": self.reason},
                "resources": {"orders-db": {"type": "postgresql"}},
            },
        });
        let cron = json!({
            "apiVersion": "paved.dev/v1",
            "kind": "Application",
            "metadata": {"name": "nightly", "owner": "team-orders", "costCenter": "cc-1234"},
            "spec": {
                "type": "cronjob",
                "image": "ghcr.io/acme/nightly:1.0.0",
                "schedule": self.cron.join(" "),
            },
        });
        vec![("orders".into(), service), ("nightly".into(), cron)]
    }
}

fn texts() -> impl Strategy<Value = Texts> {
    (
        (
            text(),
            text(),
            // No `@`: `https://user:secret@…` is a password in a URL, which
            // validation refuses as a credential.
            word_text(&['@']),
            text(),
            text(),
            text(),
            text(),
        ),
        (
            word_text(&[]),
            word_text(&[]),
            text(),
            word_text(&['#']),
            word_text(&['#']),
            prop::array::uniform5(word_text(&[])),
        ),
    )
        .prop_map(
            |(
                (description, title, url, icon, greeting, command, arg),
                (path, probe, reason, ref_path, ref_key, cron),
            )| Texts {
                description,
                title,
                url,
                icon,
                greeting,
                command,
                arg,
                path,
                probe,
                reason,
                ref_path,
                ref_key,
                cron,
            },
        )
        // A cron field may not start a `@keyword` form by accident, and a
        // schedule of exactly five fields stays five.
        .prop_filter("schedule starts with @", |t| !t.cron[0].starts_with('@'))
}

/// Compares two renders leaf by leaf: same structure, and every string of
/// `hostile` is the `plain` string with each marker replaced by its text.
fn same_shape(
    plain: &Json,
    hostile: &Json,
    swaps: &[(&String, &String)],
    at: &str,
    exact: &mut std::collections::BTreeSet<String>,
) -> Result<(), String> {
    match (plain, hostile) {
        (Json::Object(a), Json::Object(b)) => {
            let ka: Vec<&String> = a.keys().collect();
            let kb: Vec<&String> = b.keys().collect();
            if ka != kb {
                return Err(format!("{at}: keys {ka:?} became {kb:?}"));
            }
            for (k, v) in a {
                same_shape(v, &b[k], swaps, &format!("{at}.{k}"), exact)?;
            }
            Ok(())
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("{at}: {} items became {}", a.len(), b.len()));
            }
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same_shape(x, y, swaps, &format!("{at}[{i}]"), exact)?;
            }
            Ok(())
        }
        (Json::String(a), Json::String(b)) => {
            // A document embedded as JSON text (a Grafana dashboard in a
            // ConfigMap) escapes the text once more: compare it parsed.
            if a.starts_with('{') || a.starts_with('[') {
                if let (Ok(x), Ok(y)) = (
                    serde_json::from_str::<Json>(a),
                    serde_json::from_str::<Json>(b),
                ) {
                    return same_shape(&x, &y, swaps, &format!("{at}(json)"), exact);
                }
            }
            let mut want = a.clone();
            let mut holds = Vec::new();
            for (marker, value) in swaps {
                if want.contains(marker.as_str()) {
                    holds.push(marker.to_string());
                }
                want = want.replace(marker.as_str(), value);
            }
            if &want == b {
                exact.extend(holds);
                return Ok(());
            }
            // A blueprint may transform a text (shorten it, escape it for
            // another tool); that is no injection as long as the structure
            // holds. A string with no free text in it must not change at all.
            if holds.is_empty() {
                return Err(format!("{at}: expected {want:?}, found {b:?}"));
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{at}: {a} became {b}")),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn free_text_never_changes_the_structure(t in texts()) {
        let plain = Texts::markers();
        let (_d1, base) = compile_specs(&plain.specs());
        let base = base.map_err(|e| TestCaseError::fail(format!("the plain spec failed:\n{e}")))?;
        let (_d2, got) = compile_specs(&t.specs());
        let got = got.map_err(|e| TestCaseError::fail(format!("free text made the compile fail:\n{e}\ntexts: {t:?}")))?;

        prop_assert_eq!(base.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>());
        let swaps: Vec<(&String, &String)> = plain.pairs().into_iter().zip(t.pairs()).collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut exact = std::collections::BTreeSet::new();
        for (path, text) in &base {
            let a = documents(path, text).map_err(TestCaseError::fail)?;
            let b = documents(path, &got[path]).map_err(TestCaseError::fail)?;
            prop_assert_eq!(a.len(), b.len(), "{}: the number of documents changed", path);
            for (x, y) in a.iter().zip(&b) {
                same_shape(x, y, &swaps, path, &mut exact).map_err(TestCaseError::fail)?;
            }
            for m in plain.pairs() {
                if text.contains(m.as_str()) {
                    seen.insert(m.clone());
                }
            }
        }
        // Every text that reaches the output comes out exactly somewhere.
        for m in &seen {
            prop_assert!(exact.contains(m), "no output holds the text of {} exactly", m);
        }
        // The fields that reach the output today must keep reaching it; a
        // blueprint that stops using one is fine, but then this list shrinks
        // on purpose, not by accident.
        for must in ["qqdescriptionqq", "qqgreetingqq", "qqcommandqq", "qqargqq", "qqpathqq", "qqprobeqq", "qqreasonqq", "qqrefpathqq", "qqrefkeyqq"] {
            prop_assert!(seen.contains(must), "marker {} is not in any output file", must);
        }
    }
}

/// Not a property: the marker render itself must show the markers where they
/// belong, or the property above tests nothing.
#[test]
fn markers_reach_the_output() {
    let (_d, tree) = compile_specs(&Texts::markers().specs());
    let tree = tree.unwrap();
    let all: String = tree.values().cloned().collect();
    for m in Texts::markers().pairs() {
        if all.contains(m.as_str()) {
            continue;
        }
        // Icons, titles and URLs only reach the catalog; cron fields the CronJob.
        println!("note: `{m}` is not used by any blueprint");
    }
    assert!(all.contains("qqdescriptionqq"));
}
