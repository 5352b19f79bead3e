//! The starter `platform.yaml`, written once as pieces and printed two ways:
//! filled with answers (what `paved init` writes) or as the Backstage
//! scaffolder's skeleton, with `${{ values.x }}` placeholders and nunjucks
//! conditions (what the portal's Software Template fills in,
//! docs/catalog.md). One source, so the portal and `paved init` cannot drift.
//!
//! Architecture invariant: pure text from answers; knows no files, no
//! diagnostics, no template engine.

/// The kind of workload a starter spec describes (`spec.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Service,
    Worker,
    Cronjob,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Worker => "worker",
            Kind::Cronjob => "cronjob",
        }
    }
}

/// Where editors fetch the schema for completion and inline errors (the
/// schema's `$id`); `paved schema` prints the same file for offline use.
pub(crate) const SCHEMA_URL: &str = "https://paved.dev/schemas/platform.v1.schema.json";

/// The answers a starter spec is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answers {
    pub name: String,
    pub kind: Kind,
    pub owner: String,
    pub image: String,
    /// The first port (services).
    pub port: u16,
    /// `spec.size`; `None` when the platform has no sizes.
    pub size: Option<String>,
    /// Cron syntax (cron jobs).
    pub schedule: String,
    /// `component:NAME` entries.
    pub depends_on: Vec<String>,
}

/// The answers `paved init NAME --type KIND` uses: the platform's first
/// allowed registry and first size.
pub(crate) fn defaults(name: &str, kind: Kind, registry: &str, size: Option<&str>) -> Answers {
    Answers {
        name: name.to_string(),
        kind,
        owner: DEFAULT_OWNER.to_string(),
        image: format!("{}/{name}:{DEFAULT_TAG}", registry.trim_end_matches('/')),
        port: DEFAULT_PORT,
        size: size.map(str::to_string),
        schedule: DEFAULT_SCHEDULE.to_string(),
        depends_on: Vec::new(),
    }
}

pub(crate) const DEFAULT_OWNER: &str = "my-team";
pub(crate) const DEFAULT_TAG: &str = "0.1.0";
pub(crate) const DEFAULT_PORT: u16 = 8080;
pub(crate) const DEFAULT_SCHEDULE: &str = "0 3 * * *";

/// A value of the answers.
#[derive(Debug, Clone, Copy)]
enum Field {
    Name,
    Kind,
    Owner,
    Image,
    Port,
    Size,
    /// As a JSON string (nunjucks `dump`).
    Schedule,
    /// `a, b` inside the brackets of a flow list.
    DependsOn,
}

#[derive(Debug, Clone, Copy)]
enum Cond {
    Kind(Kind),
    HasDependencies,
}

/// A piece of the text. Conditional pieces hold whole lines.
enum Piece {
    Text(String),
    Value(Field),
    If(Cond, Vec<Piece>),
}

fn t(s: &str) -> Piece {
    Piece::Text(s.to_string())
}

fn v(f: Field) -> Piece {
    Piece::Value(f)
}

/// The pieces; `sizes` (the platform's, in order) decides whether a size
/// line exists and what its comment lists.
fn pieces(sizes: &[String]) -> Vec<Piece> {
    let mut p = vec![
        t(&format!("# yaml-language-server: $schema={SCHEMA_URL}\n#\n# ")),
        v(Field::Name),
        t(": what the platform needs to know to build, run and operate it.\n# Paved turns this file into every manifest "),
        v(Field::Name),
        t(" needs, in each environment.
#   paved explain FIELD     describes any field, e.g. `paved explain spec.ports`
#   paved validate          checks this file
#   paved render --out DIR  writes the manifests
apiVersion: paved.dev/v1
kind: Application
metadata:
  name: "),
        v(Field::Name),
        t("\n  description: What "),
        v(Field::Name),
        t(" does, in one sentence   # change me: shown in the developer portal\n  owner: "),
        v(Field::Owner),
        t("  # the owning team: labels, access, alerts and the catalog
  costCenter: cc-0000         # change me: billed cost center (the platform requires it)
  lifecycle: experimental     # experimental | production | deprecated
spec:
  type: "),
        v(Field::Kind),
        t("\n  image: "),
        v(Field::Image),
        t("  # change me: a tag or @sha256 digest, never `latest`\n"),
        Piece::If(
            Cond::Kind(Kind::Service),
            vec![
                t("  ports:                      # the first port is the default
    - name: http
      port: "),
                v(Field::Port),
                t("
  replicas: auto              # auto: scaled on CPU between autoscaling.min and max; or a fixed number
  probes:                     # health checks on the first port
    liveness: {path: /healthz}
    readiness: {path: /ready}
"),
            ],
        ),
        Piece::If(
            Cond::Kind(Kind::Worker),
            vec![t(
                "  replicas: 1                 # a worker serves no traffic; a fixed number of copies\n",
            )],
        ),
        Piece::If(
            Cond::Kind(Kind::Cronjob),
            vec![
                t("  schedule: "),
                v(Field::Schedule),
                t("  # cron syntax (minute hour day-of-month month day-of-week), UTC\n"),
            ],
        ),
    ];
    if !sizes.is_empty() {
        p.push(t("  size: "));
        p.push(v(Field::Size));
        p.push(t(&format!(
            "  # CPU and memory: {}; or `compute: {{cpu: 500m, memory: 512Mi}}`\n",
            sizes.join(" | ")
        )));
    }
    p.push(Piece::If(
        Cond::HasDependencies,
        vec![
            t("  dependsOn: ["),
            v(Field::DependsOn),
            t("]  # other services it calls: egress and the catalog\n"),
        ],
    ));
    p.push(t("  env:
    LOG_LEVEL: info
  # secrets:                  # values from the platform's secret store; never write a secret here
  #   - {env: API_KEY, ref: \"my-team/api#key\"}
"));
    p.push(Piece::If(
        Cond::Kind(Kind::Service),
        vec![
            t("  # ingress:                  # reachable at "),
            v(Field::Name),
            t(".<environment domain>\n  #   host: "),
            v(Field::Name),
            t("\n  #   public: false\n  # dependsOn: [component:other-service]\n"),
        ],
    ));
    p.push(t(
        "  # resources:                # infrastructure provisioned for ",
    ));
    p.push(v(Field::Name));
    p.push(t("
  #   db: {type: postgresql, version: \"16\", storageGB: 10}
  # Runs in every platform environment unless you list them:
  # environments:
  #   staging: {promote: auto}
  #   production: {promote: manual}
"));
    p
}

/// The starter spec for `a`, with the platform's `sizes` (in order).
pub(crate) fn text(a: &Answers, sizes: &[String]) -> String {
    let mut out = String::with_capacity(2048);
    fill(&pieces(sizes), a, &mut out);
    out
}

fn fill(pieces: &[Piece], a: &Answers, out: &mut String) {
    for p in pieces {
        match p {
            Piece::Text(s) => out.push_str(s),
            Piece::Value(f) => match f {
                Field::Name => out.push_str(&a.name),
                Field::Kind => out.push_str(a.kind.as_str()),
                Field::Owner => out.push_str(&a.owner),
                Field::Image => out.push_str(&a.image),
                Field::Port => out.push_str(&a.port.to_string()),
                Field::Size => out.push_str(a.size.as_deref().unwrap_or_default()),
                Field::Schedule => {
                    out.push_str(&serde_json::Value::from(a.schedule.as_str()).to_string())
                }
                Field::DependsOn => out.push_str(&a.depends_on.join(", ")),
            },
            Piece::If(cond, inner) => {
                let holds = match cond {
                    Cond::Kind(k) => a.kind == *k,
                    Cond::HasDependencies => !a.depends_on.is_empty(),
                };
                if holds {
                    fill(inner, a, out);
                }
            }
        }
    }
}

/// The prefix the catalog's entity refs of Components carry, removed from
/// the picker's answers: `component:default/orders` → `orders`.
pub(crate) const COMPONENT_REF_PREFIX: &str = "component:default/";

/// The scaffolder skeleton: the same text, each answer a `${{ values.x }}`
/// placeholder and each condition a nunjucks `{% if %}` (Backstage's
/// `fetch:template` renders it). The values the Template passes: `name`,
/// `type`, `owner`, `image`, `port`, `size`, `schedule`, `dependsOn` (entity
/// refs of Components).
pub(crate) fn skeleton(sizes: &[String]) -> String {
    let mut out = String::with_capacity(2048);
    placeholders(&pieces(sizes), &mut out);
    out
}

fn placeholders(pieces: &[Piece], out: &mut String) {
    for p in pieces {
        match p {
            Piece::Text(s) => out.push_str(s),
            Piece::Value(f) => out.push_str(&match f {
                Field::Name => "${{ values.name }}".to_string(),
                Field::Kind => "${{ values.type }}".to_string(),
                Field::Owner => "${{ values.owner }}".to_string(),
                Field::Image => "${{ values.image }}".to_string(),
                Field::Port => "${{ values.port }}".to_string(),
                Field::Size => "${{ values.size }}".to_string(),
                Field::Schedule => "${{ values.schedule | dump }}".to_string(),
                Field::DependsOn => format!(
                    "{{% for d in values.dependsOn %}}{{% if not loop.first %}}, {{% endif %}}component:${{{{ d | replace(\"{COMPONENT_REF_PREFIX}\", \"\") }}}}{{% endfor %}}"
                ),
            }),
            Piece::If(cond, inner) => {
                // The tags sit inline, at the start of the condition's first
                // line and the end of its last: no line break of the text is
                // inside a tag, so the result does not depend on the
                // engine's whitespace settings (trimBlocks, lstripBlocks).
                match cond {
                    Cond::Kind(k) => {
                        out.push_str(&format!("{{% if values.type == \"{}\" %}}", k.as_str()))
                    }
                    Cond::HasDependencies => out.push_str("{% if values.dependsOn | length %}"),
                }
                placeholders(inner, out);
                out.push_str("{% endif %}");
            }
        }
    }
}
