//! Semantic checks: rules a JSON Schema cannot express, across fields and files.
//!
//! Runs on services that passed their schema. Every finding points at the
//! value it is about, through the loaded tree's spans. The `paved::policy::*`
//! findings are the compile-time half of the Gatekeeper rules (see
//! `docs/policies.md`): what admission would reject is caught here first, by
//! the spec-level checks of `policy`'s rule table.
//!
//! Architecture invariant: pure; reads the typed model and the trees, writes
//! only diagnostics.

use crate::codes;
use crate::credentials::{self, is_credential_name};
use std::collections::{BTreeMap, HashMap};

use crate::cost;
use crate::diag::Diagnostic;
use crate::load::Node;
use crate::model::{
    namespace_of, BudgetEnforcement, EnvironmentConfig, Platform, ProbeOrOff, Replicas, Service,
    ServiceType,
};
use crate::placeholder::{self, Piece};
use crate::resource_types;
use crate::source::{SourceRef, Span};
use crate::validate::schema::did_you_mean;
use rust_decimal::Decimal;

mod fixes;

/// The checks of one service on its own: its fields against the platform
/// (sizes, environments, policies, ports, secrets, …), its name and team
/// against the reserved ones. Nothing here looks at another service.
///
/// The semantic checks of the services that loaded come in two parts, and
/// a caller runs both, in this order: each service's own ([`Own::check`]),
/// then the cross-file ones ([`across`]). A caller that keeps each spec's
/// own findings while the spec and the platform are the same
/// (`app::SpecCache`, for `paved lsp`) gets the list of one that runs them
/// all. `blueprints` holds the relative paths of the platform's blueprint
/// overrides (`service/mesh/gateway.yaml`); with the built-in ones they
/// tell which folders each environment's output folder holds besides the
/// services'.
pub(crate) struct Own<'p> {
    platform: &'p Platform,
    reserved: Reserved,
}

impl<'p> Own<'p> {
    pub(crate) fn new(platform: &'p Platform, blueprints: &[&str]) -> Own<'p> {
        Own {
            platform,
            reserved: Reserved::new(platform, blueprints),
        }
    }

    /// The findings of `s` alone.
    pub(crate) fn check(&self, s: &Service) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_reserved(self.platform, &self.reserved, s, &mut out);
        check_team(self.platform, s, &mut out);
        Check {
            s,
            platform: self.platform,
            out: &mut out,
        }
        .run();
        out
    }
}

/// Adds to each `no-latest-tag` finding among `diags` its `pin-tag` fix:
/// the tags the workspace's `services` use for the same repository (docs of
/// `fixes`). Run over the own checks' findings, after them: the fix reads
/// every service, so it is never kept with one spec's cached findings.
pub(crate) fn pin_tag_fixes(services: &[Service], diags: &mut [Diagnostic]) {
    for d in diags
        .iter_mut()
        .filter(|d| d.code == codes::POLICY_NO_LATEST_TAG)
    {
        let Some(label) = &d.primary else { continue };
        let Some(s) = services.iter().find(|s| s.source.path == label.source.path) else {
            continue;
        };
        // The image at the finding: `spec.image` or an override's.
        let overrides = s.spec.environments.iter().flatten();
        let image = std::iter::once(("/spec/image".to_string(), Some(&s.spec.image)))
            .chain(overrides.map(|(e, o)| {
                (
                    format!("/spec/environments/{}/image", esc(e)),
                    o.image.as_ref(),
                )
            }))
            .find_map(|(ptr, image)| image.filter(|_| at(s, &ptr).0 == label.span));
        if let Some(fix) = image.and_then(|i| fixes::pin_tag(i, s, services.iter())) {
            d.fields.retain(|(k, _)| *k != "fix");
            d.fields.push(("fix", fix));
        }
    }
}

/// The checks across services: unique names, joined names that collide,
/// each dependency against the other services, and dependency cycles.
/// `broken` names the services whose spec did not load (service name → the
/// spec's path as shown), so that a reference to one is reported as a
/// reference to a spec with errors, not to a service that does not exist.
pub(crate) fn across(
    platform: &Platform,
    services: &[Service],
    broken: &BTreeMap<String, String>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_unique_names(services, &mut out);
    check_collisions(platform, services, &mut out);
    check_preview_separator(platform, services, &mut out);
    let names: Vec<&str> = services.iter().map(Service::name).collect();
    let index: HashMap<&str, &Service> = services.iter().map(|s| (s.name(), s)).collect();
    for s in services {
        let mut c = Check {
            s,
            platform,
            out: &mut out,
        };
        c.dependencies(&names, &index, broken);
    }
    check_cycles(services, &mut out);
    out
}

/// With previews on, no service name holds `--`: it separates the preview's
/// name from the service's in preview namespaces (`model::preview`).
fn check_preview_separator(platform: &Platform, services: &[Service], out: &mut Vec<Diagnostic>) {
    let Some(cfg) = &platform.previews else {
        return;
    };
    let sep = crate::model::preview::SEPARATOR;
    for s in services.iter().filter(|s| s.name().contains(sep)) {
        let (span, _) = at(s, "/metadata/name");
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_PREVIEW_SEPARATOR,
                format!("the service name `{}` holds `{sep}`, which preview namespaces use as a separator", s.name()),
            )
            .at(&s.source, span, format!("`{sep}` in the name"))
            .help(format!(
                "A preview namespace is `{}<NAME>{sep}<service>`, and each team's Argo CD project admits `{}*{sep}<service>`: with `{sep}` in a service name, one namespace could belong to two services. Use single hyphens, e.g. `{}`.",
                cfg.namespace_prefix,
                cfg.namespace_prefix,
                collapse_hyphens(s.name())
            )),
        );
    }
}

/// `a--b---c` → `a-b-c`.
fn collapse_hyphens(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

/// The service name a spec that did not load was meant to declare: its
/// `metadata.name` when the YAML was read and that is a string, else the name
/// of the spec's folder; `None` when neither is known.
pub(crate) fn intended_name(path: &std::path::Path, doc: Option<&Node>) -> Option<String> {
    doc.and_then(|d| d.pointer("/metadata/name"))
        .and_then(|(n, _)| n.as_str())
        .or_else(|| path.parent()?.file_name()?.to_str())
        .map(str::to_string)
}

/// The namespaces every Kubernetes cluster has.
pub(crate) const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The output folder's own top-level folders, next to one folder per
/// environment (the layout is `units`'): `DIR/platform/` for platform-wide
/// objects, `DIR/catalog/` for Backstage entries and `DIR/previews/` for
/// preview environments. No environment may be named like one of them.
pub(crate) const OUTPUT_FOLDERS: &[&str] = &["platform", "catalog", "previews"];

/// Names a service may not have, each with the reason.
struct Reserved {
    /// Namespaces of the cluster and of the platform's own components,
    /// compared with a service's name and with its namespace in each
    /// environment (after the environment's `namespacePrefix`).
    namespaces: BTreeMap<String, String>,
    /// The `*` patterns of `policy.excludedNamespaces`.
    patterns: Vec<String>,
    /// Names of folders and files of the output, compared with the name.
    names: BTreeMap<String, String>,
}

impl Reserved {
    fn new(platform: &Platform, blueprints: &[&str]) -> Reserved {
        let mut namespaces = BTreeMap::new();
        let mut add = |ns: &str, why: String| {
            if !ns.is_empty() {
                namespaces.entry(ns.to_string()).or_insert(why);
            }
        };
        for ns in SYSTEM_NAMESPACES {
            add(
                ns,
                format!("`{ns}` is a namespace of every Kubernetes cluster."),
            );
        }
        // The policies' exempt namespaces: the platform components' own and
        // `policy.excludedNamespaces` (patterns are matched in `exempt`).
        let components = platform.component_namespaces();
        for (ns, fields) in platform.exempt_namespaces() {
            if ns.contains('*') {
                continue;
            }
            let what: Vec<String> = fields
                .iter()
                .map(|f| match components.iter().find(|c| c.2 == *f) {
                    Some((_, what, field)) => format!("{what} (`{field}` in paved.yaml)"),
                    None => format!("listed in `{f}` in paved.yaml"),
                })
                .collect();
            add(
                &ns,
                format!(
                    "`{ns}` is {}, so exempt from the platform's policies: a service there would escape them.",
                    what.join(" and ")
                ),
            );
        }
        let patterns = platform
            .policy
            .excluded_namespaces
            .iter()
            .filter(|p| p.contains('*'))
            .cloned()
            .collect();
        let mut names = BTreeMap::new();
        let spec = crate::workspace::SPEC_FILE;
        if let Some(stem) = spec.strip_suffix(".yaml") {
            names.insert(
                stem.to_string(),
                format!("The service's Backstage entry would be written to `catalog/{spec}`, a file Paved reads as a spec when it walks a folder that holds the output."),
            );
        }
        for (folder, blueprint) in crate::render::layout::environment_folders(blueprints) {
            names.entry(folder.clone()).or_insert(format!(
                "Each environment's output folder holds the folder `{folder}/`, written by the blueprint `{blueprint}`, where this service's own folder would go."
            ));
        }
        Reserved {
            namespaces,
            patterns,
            names,
        }
    }

    /// Why the namespace `ns` is reserved, if it is: by name, or by a
    /// pattern of `policy.excludedNamespaces`.
    fn namespace(&self, ns: &str) -> Option<String> {
        if let Some(why) = self.namespaces.get(ns) {
            return Some(why.clone());
        }
        let p = self
            .patterns
            .iter()
            .find(|p| crate::policy::namespace_matches(p, ns))?;
        Some(format!("`{ns}` matches `{p}` in `policy.excludedNamespaces` in paved.yaml, so it is exempt from the platform's policies: a service there would escape them."))
    }

    /// Why `name` is reserved as such (every reason), if it is.
    fn bare(&self, name: &str) -> Vec<String> {
        [self.namespace(name), self.names.get(name).cloned()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The first environment where `name`'s namespace is reserved, with it.
    fn prefixed<'e>(
        &self,
        name: &str,
        envs: &[&'e EnvironmentConfig],
    ) -> Option<(&'e EnvironmentConfig, String, String)> {
        envs.iter().find_map(|env| {
            let ns = namespace_of(env, name);
            let why = self.namespace(&ns)?;
            Some((*env, ns, why))
        })
    }

    /// A name to suggest instead of `name`: one that is free and valid.
    fn suggestion(&self, s: &Service, platform: &Platform) -> Option<String> {
        let envs = s.environments(platform);
        [
            format!("{}-app", s.name()),
            format!("{}-{}", s.meta.owner, s.name()),
        ]
        .into_iter()
        .find(|n| n.len() <= 52 && self.bare(n).is_empty() && self.prefixed(n, &envs).is_none())
    }
}

/// With `policy.requireDeclaredTeams`, every `metadata.owner` is a key of
/// paved.yaml `teams` (docs/access.md).
fn check_team(platform: &Platform, s: &Service, out: &mut Vec<Diagnostic>) {
    if !platform.policy.require_declared_teams {
        return;
    }
    let owner = &s.meta.owner;
    if platform.teams.contains_key(owner) {
        return;
    }
    let known: Vec<&str> = platform.teams.keys().map(String::as_str).collect();
    let (span, _) = at(s, "/metadata/owner");
    let help = match did_you_mean(owner, &known) {
        Some(m) => format!("did you mean `{m}`?"),
        None if known.is_empty() => "paved.yaml declares no team yet: the platform team adds this one under `teams` (its SSO group and alert receivers)".to_string(),
        None => format!("the declared teams are {}; a new team is added under `teams` in paved.yaml by the platform team", known.join(", ")),
    };
    out.push(
        Diagnostic::error(
            codes::SEMANTIC_UNDECLARED_TEAM,
            format!("the team `{owner}` is not declared in paved.yaml"),
        )
        .at(&s.source, span, "undeclared team")
        .help(help),
    );
}

/// The first environment where the service's Application `<service>-<env>`
/// would have a root Application's name, with that name.
fn root_application(platform: &Platform, s: &Service) -> Option<(String, String)> {
    if platform.gitops.repo_url.is_empty() {
        return None;
    }
    let mut roots = vec!["paved-bootstrap".to_string(), "paved-projects".to_string()];
    for env in platform.environments.keys() {
        roots.push(format!("paved-{env}"));
        roots.push(format!("{PLATFORM_PROJECT}-{env}"));
    }
    s.environments(platform).into_iter().find_map(|env| {
        let app = format!("{}-{}", s.name(), env.name);
        roots.contains(&app).then(|| (env.name.clone(), app))
    })
}

/// The Argo CD project of the root Applications (`platform/bootstrap/`), the
/// one project with cluster-wide rights: no team may be called so, since
/// each team's project is named after it.
pub(crate) const PLATFORM_PROJECT: &str = "paved-platform";

/// Service names that are namespaces of the cluster or of the platform's own
/// components, or folders and files of the output. One finding per service.
fn check_reserved(
    platform: &Platform,
    reserved: &Reserved,
    s: &Service,
    out: &mut Vec<Diagnostic>,
) {
    out.extend(reserved_name(platform, reserved, s));
    if !platform.gitops.repo_url.is_empty() && s.meta.owner == PLATFORM_PROJECT {
        let (span, _) = at(s, "/metadata/owner");
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_RESERVED_NAME,
                format!("`{PLATFORM_PROJECT}` is a reserved team name"),
            )
            .at(&s.source, span, "reserved name")
            .help(format!("Each team's Argo CD project is named after it, and `{PLATFORM_PROJECT}` is the project of the root Applications in `platform/bootstrap/`, the only one with cluster-wide rights: this team's Applications would get them. Use the team's own name.")),
        );
    }
}

/// The finding about a service's own name, when it is reserved.
fn reserved_name(platform: &Platform, reserved: &Reserved, s: &Service) -> Option<Diagnostic> {
    let name = s.name();
    let why = reserved.bare(name);
    let (message, label, why) = if !why.is_empty() {
        (
            format!("`{name}` is a reserved name"),
            "reserved name".to_string(),
            why.join(" "),
        )
    } else if let Some((env, ns, why)) = reserved.prefixed(name, &s.environments(platform)) {
        (
            format!(
                "in {}, `{name}` would get the namespace `{ns}`, which is reserved",
                env.name
            ),
            format!("`{}` + `{name}` in {}", env.namespace_prefix, env.name),
            format!("{why} A service's namespace is its environment's `namespacePrefix` followed by its name."),
        )
    } else if let Some((env, app)) = root_application(platform, s) {
        (
            format!("in {env}, `{name}` would make the Argo CD Application `{app}`, the name of a root Application"),
            format!("`{app}` in {env}"),
            format!("Services' Applications are named `<service>-<environment>` and live in `{}` beside the root Applications of `platform/bootstrap/` (`paved-bootstrap`, `paved-projects`, `paved-<environment>`, `paved-platform-<environment>`), so one would replace the other.", platform.gitops.argocd_namespace),
        )
    } else {
        return None;
    };
    let rename = match reserved.suggestion(s, platform) {
        Some(n) => format!("Rename the service, e.g. `name: {n}`."),
        None => "Rename the service.".to_string(),
    };
    let (span, _) = at(s, "/metadata/name");
    Some(
        Diagnostic::error(codes::SEMANTIC_RESERVED_NAME, message)
            .at(&s.source, span, label)
            .help(format!("{why} {rename}")),
    )
}

/// A name Paved builds by joining names, of which two must never be equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Joined {
    /// `<namespacePrefix><service>`, per cluster.
    Namespace,
    /// `<service>-<environment>`: the Argo CD Application and the Grafana dashboard uid.
    Application,
    /// `<service>-<resource>` (fitted to 63): the Backstage Resource entity.
    Entity,
    /// A `providesApis` or `apis` name: the Backstage API entity.
    Api,
}

/// One place that makes a joined name.
struct Part {
    /// Index of the service in name order.
    service: usize,
    /// The spec value the label points at.
    pointer: String,
    /// Who makes it, for the message: "`api` in prod".
    who: String,
    /// How, for the label: "`api` + `-` + `prod`".
    how: String,
    /// Whether the service has a Grafana dashboard.
    dashboard: bool,
}

/// One name made twice: the name, and who makes it and how (the first
/// place, then the other).
struct Clash {
    name: String,
    first: (String, String),
    other: (String, String),
}

/// Two services (or two resources) whose joined names would be equal: the
/// same namespace on one cluster, the same Argo CD Application, the same
/// Backstage entity. One finding per pair and kind, at the later service
/// in name order, whatever order the specs were found in.
fn check_collisions(platform: &Platform, services: &[Service], out: &mut Vec<Diagnostic>) {
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| {
        a.name()
            .cmp(b.name())
            .then_with(|| a.source.name.cmp(&b.source.name))
    });
    // A repeated name is reported on its own; its copies would collide everywhere.
    sorted.dedup_by(|a, b| a.name() == b.name());
    let gitops = !platform.gitops.repo_url.is_empty();
    // The places that make each name: (kind, cluster, name) → places.
    let mut seen: HashMap<(Joined, String, String), Vec<Part>> = HashMap::new();
    // (kind, first service, its pointer, other service, its pointer) → the
    // names both make.
    type Pair = (Joined, usize, String, usize, String);
    let mut found: BTreeMap<Pair, Vec<Clash>> = BTreeMap::new();
    let mut add = |kind: Joined, scope: String, name: String, part: Part| {
        let places = seen.entry((kind, scope, name.clone())).or_default();
        // The first earlier place that really makes the same object: not this
        // very value again, and for a name that is only a dashboard uid, one
        // with a dashboard too.
        let clash = places.iter().find(|f| {
            let same = f.service == part.service && f.pointer == part.pointer;
            let made = kind != Joined::Application || gitops || (f.dashboard && part.dashboard);
            !same && made
        });
        if let Some(f) = clash {
            found
                .entry((
                    kind,
                    f.service,
                    f.pointer.clone(),
                    part.service,
                    part.pointer.clone(),
                ))
                .or_default()
                .push(Clash {
                    name,
                    first: (f.who.clone(), f.how.clone()),
                    other: (part.who.clone(), part.how.clone()),
                });
        }
        places.push(part);
    };
    for (i, s) in sorted.iter().enumerate() {
        let name = s.name();
        let dashboard = s
            .spec
            .observability
            .as_ref()
            .is_none_or(|o| o.dashboard != "none");
        let part = |pointer: &str, who: String, how: String| Part {
            service: i,
            pointer: pointer.to_string(),
            who,
            how,
            dashboard,
        };
        for env in s.environments(platform) {
            let e = &env.name;
            let how = if env.namespace_prefix.is_empty() {
                format!("`{name}` in {e}, which has no prefix")
            } else {
                format!("`{}` + `{name}` in {e}", env.namespace_prefix)
            };
            add(
                Joined::Namespace,
                cluster_id(&env.cluster).to_string(),
                namespace_of(env, name),
                part("/metadata/name", format!("`{name}` in {e}"), how),
            );
            add(
                Joined::Application,
                String::new(),
                format!("{name}-{e}"),
                part(
                    "/metadata/name",
                    format!("`{name}` in {e}"),
                    format!("`{name}` + `-` + `{e}`"),
                ),
            );
        }
        for (i, api) in s.spec.provides_apis.iter().enumerate() {
            add(
                Joined::Api,
                String::new(),
                api.clone(),
                part(
                    &format!("/spec/providesApis/{i}"),
                    format!("`{name}`"),
                    format!("`{api}` provided here"),
                ),
            );
        }
        for (i, api) in s.spec.apis.iter().enumerate() {
            if s.spec.provides_apis.contains(&api.name) {
                continue;
            }
            add(
                Joined::Api,
                String::new(),
                api.name.clone(),
                part(
                    &format!("/spec/apis/{i}/name"),
                    format!("`{name}`"),
                    format!("`{}` provided here", api.name),
                ),
            );
        }
        let prefix = format!("{name}-");
        for r in s.spec.resources.keys() {
            let (entity, how) = if r.starts_with(&prefix) {
                (r.clone(), format!("`{r}`, which starts with `{prefix}`"))
            } else {
                (format!("{prefix}{r}"), format!("`{name}` + `-` + `{r}`"))
            };
            add(
                Joined::Entity,
                String::new(),
                crate::render::layout::fit(&entity, 63),
                part(
                    &format!("/spec/resources/{}", esc(r)),
                    format!("resource `{r}` of `{name}`"),
                    how,
                ),
            );
        }
    }
    for ((kind, fi, fp, oi, op), names) in found {
        let (f, o) = (sorted[fi], sorted[oi]);
        let Clash {
            name: joined,
            first: (fwho, fhow),
            other: (owho, ohow),
        } = &names[0];
        let more = match names.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        let (message, help) = match kind {
            Joined::Namespace => (
                format!("{fwho} and {owho} would get the same namespace `{joined}` on one cluster{more}"),
                "A service's namespace is its environment's `namespacePrefix` followed by its name, and environments on one cluster share its namespaces: every object of the two services there (Deployment, Secrets, Crossplane resources, …) would be written to the same place. Rename one of the services, or give these environments prefixes that cannot overlap.".to_string(),
            ),
            Joined::Application if gitops => (
                format!("{fwho} and {owho} would make the same Argo CD Application `{joined}`{more}"),
                format!("Argo CD Applications are named `<service>-<environment>` and all live in Argo CD's namespace `{}`, so one would deploy over the other (Grafana dashboard uids are named the same way). Rename one of the services.", platform.gitops.argocd_namespace),
            ),
            Joined::Application => (
                format!("{fwho} and {owho} would make the same Grafana dashboard uid `{joined}`{more}"),
                "Grafana dashboard uids are named `<service>-<environment>`, so one dashboard would replace the other. Rename one of the services.".to_string(),
            ),
            Joined::Api if fi == oi => (
                format!("{owho} lists the API `{joined}` twice in `apis`{more}"),
                "Each API is one Backstage API entity with one definition. Keep one entry.".to_string(),
            ),
            Joined::Api => (
                format!("{fwho} and {owho} both provide the API `{joined}`{more}"),
                "Each API is one Backstage API entity, owned by the team of the service that provides it, so two providers would define it twice. Rename one of the APIs, or let the other service list it in `dependsOn` on the provider.".to_string(),
            ),
            Joined::Entity => (
                format!("{fwho} and {owho} would be the same Backstage Resource `{joined}`{more}"),
                "A resource's catalog entity is named `<service>-<resource>` (the resource's own name when it already starts with `<service>-`), and every service shares the catalog, so one entry would replace the other. Rename one of the resources.".to_string(),
            ),
        };
        let place = |s: &Service, p: &str| {
            let (v, k) = at(s, p);
            if kind == Joined::Entity {
                k.unwrap_or(v)
            } else {
                v
            }
        };
        out.push(
            Diagnostic::error(codes::SEMANTIC_NAME_COLLISION, message)
                .at(&o.source, place(o, &op), ohow.clone())
                .also(&f.source, place(f, &fp), fhow.clone())
                .help(help),
        );
    }
}

/// One name for each cluster: `in-cluster` is Argo CD's name for the cluster
/// it runs in, which is also `https://kubernetes.default.svc`.
fn cluster_id(cluster: &str) -> &str {
    match cluster.trim_end_matches('/') {
        "in-cluster" => "https://kubernetes.default.svc",
        c => c,
    }
}

/// Checks of paved.yaml that its schema cannot express: an environment
/// whose default promotion it forbids; environment names that are folders
/// of the output. `doc` is the loaded paved.yaml in `src`.
/// The images the reference Compositions pull, under paved.yaml
/// `crossplane.imageRegistry` (`blueprints/_partials/compositions/`; a test
/// holds the two together).
const REFERENCE_IMAGES: &[&str] = &[
    "library/postgres",
    "library/redis",
    "minio/minio",
    "minio/mc",
];

/// With `crossplane.compositions: reference`, the composed pods run in the
/// services' namespaces, where Gatekeeper's `allowed-registries` reviews
/// them: their images must come from an allowed registry.
fn reference_images(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let xp = &platform.crossplane;
    if xp.compositions != "reference" {
        return Vec::new();
    }
    let refused: Vec<String> = REFERENCE_IMAGES
        .iter()
        .map(|i| format!("{}/{i}", xp.image_registry))
        .filter(|i| !crate::policy::image_allowed(i, &platform.allowed_registries))
        .collect();
    if refused.is_empty() {
        return Vec::new();
    }
    let (span, label) = match doc.pointer("/spec/crossplane/imageRegistry") {
        Some((n, _)) => (n.span, "not an allowed registry"),
        None => (
            doc.pointer("/spec/crossplane/compositions")
                .map_or(doc.span, |(n, _)| n.span),
            "pulls from docker.io (the default `imageRegistry`)",
        ),
    };
    vec![Diagnostic::error(
        codes::POLICY_ALLOWED_REGISTRIES,
        format!(
            "the reference Compositions would pull {} from a registry `allowedRegistries` does not list",
            refused.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
        ),
    )
    .at(src, span, label)
    .help(format!(
        "Their pods run in the services' namespaces, where Gatekeeper refuses images outside {}. Mirror the images under an allowed prefix and set `crossplane.imageRegistry` to it (e.g. `{}mirror`).",
        platform.allowed_registries.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
        platform.allowed_registries.first().map(String::as_str).unwrap_or_default()
    ))]
}

/// `observability.logs.errorPattern` goes into every dashboard's LogQL line
/// filter (`|~`), which Loki compiles as an RE2 expression: one that does not
/// compile would break the error-log panel of every service.
fn log_error_pattern(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let Some(logs) = &platform.observability.logs else {
        return Vec::new();
    };
    let Err(e) = regex::Regex::new(&logs.error_pattern) else {
        return Vec::new();
    };
    // The library's report spans lines (the pattern, a caret); keep its reason.
    let text = e.to_string();
    let why = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("it does not compile");
    let span = doc
        .pointer("/spec/observability/logs/errorPattern")
        .map_or(doc.span, |(n, _)| n.span);
    vec![Diagnostic::error(
        codes::SEMANTIC_INVALID_LOG_PATTERN,
        format!("`errorPattern` is not a regular expression Loki can compile: {why}"),
    )
    .at(src, span, "not an RE2 expression")
    .help("write an RE2 expression, as LogQL's `|~` filter takes it, e.g. `(?i)error` or `level=(error|fatal)`; escape a literal `(`, `[` or `.` with `\\`")]
}

/// cert-manager's HTTP-01 solver runs in the namespace of each service with
/// an ingress, where Gatekeeper's `allowed-registries` reviews it.
fn solver_image(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let image = &platform.ingress.http01_solver_image;
    if image.is_empty() || crate::policy::image_allowed(image, &platform.allowed_registries) {
        return Vec::new();
    }
    // An image the platform wrote is an error; the default one a warning
    // (a platform whose issuer uses DNS-01 says so with an empty value).
    let (span, label, error) = match doc.pointer("/spec/ingress/http01SolverImage") {
        Some((n, _)) => (n.span, "not from an allowed registry", true),
        None => (
            doc.pointer("/spec/allowedRegistries")
                .map_or(doc.span, |(n, _)| n.span),
            "does not allow the default solver image",
            false,
        ),
    };
    let new = if error {
        Diagnostic::error
    } else {
        Diagnostic::warning
    };
    vec![new(
        codes::POLICY_ALLOWED_REGISTRIES,
        format!("cert-manager's HTTP-01 solver image `{image}` is not from a registry `allowedRegistries` lists"),
    )
    .at(src, span, label)
    .help(format!(
        "cert-manager runs the solver as a pod in the namespace of each service with an ingress while a certificate is issued, and Gatekeeper refuses images outside {}. Mirror the image under an allowed prefix and set both cert-manager's `--acme-http01-solver-image` and `ingress.http01SolverImage` to it; or, if the cluster issuer uses DNS-01, set `ingress.http01SolverImage: \"\"`.",
        platform.allowed_registries.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
    ))]
}

/// ClusterRoles an environment's `teamRole` may not name: bound in a
/// namespace, they let a team rewrite its own access (docs/access.md).
const FORBIDDEN_TEAM_ROLES: &[&str] = &["cluster-admin"];

/// `environments.<env>.teamRole` never grants a team control of RBAC.
fn team_roles(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, env) in &platform.environments {
        let role = env.team_role();
        if !FORBIDDEN_TEAM_ROLES.contains(&role) {
            continue;
        }
        let base = format!("/spec/environments/{}", esc(name));
        let span = doc
            .pointer(&format!("{base}/teamRole"))
            .or_else(|| doc.pointer(&base))
            .map_or(doc.span, |(n, _)| n.span);
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_FORBIDDEN_TEAM_ROLE,
                format!("teams must not get `{role}` in `{name}`"),
            )
            .at(src, span, "forbidden for teams")
            .help(format!(
                "Bound in a service's namespace, `{role}` allows every verb on every object there, Roles and RoleBindings included (`escalate`, `bind`), so the team could grant anyone any permission there, outside GitOps. Use `teamRole: edit` (or `view`, `admin`, or a ClusterRole the platform team writes) for `{name}`."
            )),
        );
    }
    out
}

/// `previews.from` names an environment of paved.yaml.
fn preview_from(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let Some(p) = &platform.previews else {
        return Vec::new();
    };
    if platform.environments.contains_key(&p.from) {
        return Vec::new();
    }
    let envs: Vec<&str> = platform.environments.keys().map(String::as_str).collect();
    // The value when written; the `previews` key when `from` is the default.
    let span = match doc.pointer("/spec/previews/from") {
        Some((n, _)) => n.span,
        None => doc
            .pointer("/spec/previews")
            .map_or(doc.span, |(n, k)| k.unwrap_or(n.span)),
    };
    let help = match did_you_mean(&p.from, &envs) {
        Some(m) => format!("did you mean `{m}`?"),
        None => format!(
            "a preview is derived from one of the environments: {}",
            envs.join(", ")
        ),
    };
    vec![Diagnostic::error(
        codes::SEMANTIC_UNKNOWN_PREVIEW_ENVIRONMENT,
        format!(
            "previews are derived from `{}`, which is not an environment",
            p.from
        ),
    )
    .at(src, span, "unknown environment")
    .help(help)]
}

/// `budgets.<team>.<environment>` names a declared team and environment.
fn budget_names(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let teams: Vec<&str> = platform.teams.keys().map(String::as_str).collect();
    let envs: Vec<&str> = platform.environments.keys().map(String::as_str).collect();
    let key_span = |pointer: &str| {
        doc.pointer(pointer)
            .map(|(n, k)| k.unwrap_or(n.span))
            .unwrap_or(doc.span)
    };
    let budgets = platform
        .budgets
        .iter()
        .map(|(n, e)| ("budgets", n, e, true))
        .chain(
            platform
                .service_budgets
                .iter()
                .map(|(n, e)| ("serviceBudgets", n, e, false)),
        );
    for (field, team, per_env, is_team) in budgets {
        let base = format!("/spec/{field}/{}", esc(team));
        if is_team && !platform.teams.contains_key(team) {
            let help = match did_you_mean(team, &teams) {
                Some(m) => format!("did you mean `{m}`?"),
                None if teams.is_empty() => {
                    "paved.yaml declares no team: a budget is for a team declared under `teams`"
                        .to_string()
                }
                None => format!(
                    "a budget is for a team declared under `teams`: {}",
                    teams.join(", ")
                ),
            };
            out.push(
                Diagnostic::error(
                    codes::SEMANTIC_UNKNOWN_BUDGET_NAME,
                    format!("the budget's team `{team}` is not declared in paved.yaml"),
                )
                .at(src, key_span(&base), "unknown team")
                .help(help),
            );
        }
        for env in per_env.keys() {
            if platform.environments.contains_key(env) {
                continue;
            }
            let help = match did_you_mean(env, &envs) {
                Some(m) => format!("did you mean `{m}`?"),
                None => format!("the environments are {}", envs.join(", ")),
            };
            out.push(
                Diagnostic::error(
                    codes::SEMANTIC_UNKNOWN_BUDGET_NAME,
                    format!("the budget of `{team}` names `{env}`, which is not an environment"),
                )
                .at(
                    src,
                    key_span(&format!("{base}/{}", esc(env))),
                    "unknown environment",
                )
                .help(help),
            );
        }
    }
    out
}

/// `serviceBudgets.<service>` names a service of the workspace (a
/// `metadata.name`; a spec that did not load still counts by the name it
/// meant, so its own error is not doubled by this one). Workspace-wide: it
/// needs every spec, so it runs with them, after paved.yaml's own checks.
pub(crate) fn service_budget_names(
    platform: &Platform,
    services: &[Service],
    broken: &BTreeMap<String, String>,
    src: &SourceRef,
    doc: &Node,
) -> Vec<Diagnostic> {
    let names: Vec<&str> = services.iter().map(Service::name).collect();
    platform
        .service_budgets
        .keys()
        .filter(|n| !names.contains(&n.as_str()) && !broken.contains_key(n.as_str()))
        .map(|name| {
            let span = doc
                .pointer(&format!("/spec/serviceBudgets/{}", esc(name)))
                .map(|(n, k)| k.unwrap_or(n.span))
                .unwrap_or(doc.span);
            let help = match did_you_mean(name, &names) {
                Some(m) => format!("did you mean `{m}`?"),
                None => "a service budget is for a service of the workspace, the `metadata.name` of a platform.yaml under its root (`paved cost --by service` lists them); remove the budget or name a service".to_string(),
            };
            Diagnostic::error(
                codes::SEMANTIC_UNKNOWN_BUDGET_NAME,
                format!("the budget's service `{name}` is not a service of the workspace"),
            )
            .at(src, span, "unknown service")
            .help(help)
        })
        .collect()
}

/// `promotion.order` names environments of the platform.
fn promotion_order(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let names: Vec<&str> = platform.environments.keys().map(String::as_str).collect();
    platform
        .promotion
        .order
        .iter()
        .enumerate()
        .filter(|(_, e)| !platform.environments.contains_key(e.as_str()))
        .map(|(i, e)| {
            let span = doc
                .pointer(&format!("/spec/promotion/order/{i}"))
                .map_or(doc.span, |(n, _)| n.span);
            let hint = crate::validate::schema::did_you_mean(e, &names)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            Diagnostic::error(
                codes::SEMANTIC_UNKNOWN_PROMOTION_ENVIRONMENT,
                format!(
                    "`promotion.order` names `{e}`, which is not an environment of the platform"
                ),
            )
            .at(src, span, "unknown environment")
            .help(format!(
                "{hint}the order lists environments of `environments`, earliest first: {}",
                names.join(", ")
            ))
        })
        .collect()
}

/// `paved::semantic::unpriceable-quantity`: with a price table, each
/// service whose quantities in an environment are too large to price
/// ([`cost::estimate_sizing`] gives none; sized with [`model::sizing`], not
/// resolved, as budgets are),
/// located at the quantity that sets it: the environment's `compute` or
/// `size`, else the spec's (the memory or cpu value when written), else the
/// replicas. One finding per service (its first such environment).
pub(crate) fn unpriceable(platform: &Platform, services: &[Service]) -> Vec<Diagnostic> {
    let Some(table) = &platform.cost else {
        return Vec::new();
    };
    // In the order `model::resolve` gives instances: environments as the
    // platform lists them, services by name.
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for environment in platform.environments.values() {
        for s in sorted.iter().filter(|s| s.runs_in(&environment.name)) {
            let i = crate::model::sizing(platform, environment, s);
            if seen.contains(s.name())
                || cost::estimate_sizing(table, s, &environment.name, &i).is_some()
            {
                continue;
            }
            seen.insert(s.name());
            let env = format!("/spec/environments/{}", esc(&environment.name));
            let pointers = [
                format!("{env}/compute/memory"),
                format!("{env}/compute/cpu"),
                format!("{env}/compute"),
                format!("{env}/size"),
                "/spec/compute/memory".to_string(),
                "/spec/compute/cpu".to_string(),
                "/spec/compute".to_string(),
                "/spec/size".to_string(),
                format!("{env}/autoscaling/max"),
                "/spec/autoscaling/max".to_string(),
                format!("{env}/replicas"),
                "/spec/replicas".to_string(),
            ];
            let q = &i.compute.requests;
            let (span, label) = pointers
                .iter()
                .find_map(|p| {
                    let (n, _) = s.doc.pointer(p)?;
                    let bad = if p.ends_with("/memory") {
                        !cost::pod_priceable(table, None, Some(&q.memory))
                    } else if p.ends_with("/cpu") {
                        !cost::pod_priceable(table, Some(&q.cpu), None)
                    } else {
                        true
                    };
                    bad.then_some((n.span, "too large to price"))
                })
                .unwrap_or((at(s, "/spec").0, "too large to price"));
            out.push(
            Diagnostic::error(
                codes::SEMANTIC_UNPRICEABLE_QUANTITY,
                format!(
                    "`{}` in {} cannot be priced: {} CPU and {} memory × up to {} replicas is more than the estimate can price",
                    s.name(),
                    environment.name,
                    q.cpu,
                    q.memory,
                    i.autoscaling.as_ref().map_or(i.replicas.unwrap_or(i.min_replicas), |a| a.max),
                ),
            )
            .at(&s.source, span, label)
            .help(format!(
                "paved.yaml `cost` prices every instance; a figure above {} {} a month is refused rather than counted as 0. Write the quantity the service needs (e.g. `memory: 512Mi`).",
                cost::MAX_MONTHLY,
                table.currency
            )),
        );
        }
    }
    out
}

/// `paved::policy::over-budget`: each team's services in an environment, and
/// each service, against paved.yaml's `budgets` and `serviceBudgets`
/// (docs/cost.md, "Budgets"). Computes nothing without a price table and a
/// budget, and estimates only the instances a budget covers. The ceiling of
/// a range is what is compared: what can be spent.
pub(crate) fn over_budget(platform: &Platform, services: &[Service]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(table) = &platform.cost else {
        return out;
    };
    if platform.budgets.is_empty() && platform.service_budgets.is_empty() {
        return out;
    }
    let budget_of = |m: &indexmap::IndexMap<String, indexmap::IndexMap<String, f64>>,
                     key: &str,
                     env: &str| m.get(key).and_then(|e| e.get(env)).copied();
    let index: HashMap<&str, &Service> = services.iter().map(|s| (s.name(), s)).collect();
    // In the order `model::resolve` gives instances: environments as the
    // platform lists them, services by name. Only the (service,
    // environment) pairs under a budget are sized and estimated, and only
    // what the estimate reads is resolved (`model::sizing`, not the whole
    // instance): `paved validate` never resolves instances otherwise.
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.name().cmp(b.name()));
    // (team, environment) → the estimates of its services, in instance order.
    let mut teams: BTreeMap<(&str, &str), Vec<cost::Estimate>> = BTreeMap::new();
    let mut alone: Vec<(cost::Estimate, f64)> = Vec::new();
    for environment in platform.environments.values() {
        let env = environment.name.as_str();
        for s in sorted.iter().filter(|s| s.runs_in(env)) {
            let team = budget_of(&platform.budgets, &s.meta.owner, env);
            let service = budget_of(&platform.service_budgets, s.name(), env);
            if team.is_none() && service.is_none() {
                continue;
            }
            let sizing = crate::model::sizing(platform, environment, s);
            // An unpriceable one is `unpriceable-quantity`, found first.
            let Some(e) = cost::estimate_sizing(table, s, env, &sizing) else {
                continue;
            };
            if let Some(b) = service {
                alone.push((e.clone(), b));
            }
            if team.is_some() {
                teams.entry((&s.meta.owner, env)).or_default().push(e);
            }
        }
    }
    let currency = &table.currency;
    let mut report = |what: String, field: String, budget: f64, group: &[&cost::Estimate]| {
        let budget = cost::price(budget);
        let total = group.iter().fold(Decimal::ZERO, |t, e| t + e.monthly.max);
        if total <= budget {
            return;
        }
        // The service that costs the most carries the finding.
        let Some(top) = group.iter().copied().max_by(|a, b| {
            a.monthly
                .max
                .cmp(&b.monthly.max)
                .then_with(|| b.service.cmp(&a.service))
        }) else {
            return;
        };
        let Some(s) = index.get(top.service.as_str()) else {
            return;
        };
        let (span, label) = budget_line(s, top);
        let env = &top.environment;
        let message = format!(
            "{what} is estimated at {} {currency} a month in {env}, {} {currency} over its budget of {} {currency}",
            cost::money(total),
            cost::money(total - budget),
            cost::money(budget),
        );
        let mut d = match platform.budget_enforcement {
            BudgetEnforcement::Warn => Diagnostic::warning(codes::POLICY_OVER_BUDGET, message),
            BudgetEnforcement::Error => Diagnostic::error(codes::POLICY_OVER_BUDGET, message),
        }
        .at(&s.source, span, label);
        for other in group.iter().filter(|e| e.service != top.service) {
            if let Some(o) = index.get(other.service.as_str()) {
                let (span, _) = at(o, "/metadata/name");
                d = d.also(
                    &o.source,
                    span,
                    format!(
                        "{} {currency} a month in {env}",
                        cost::money(other.monthly.max)
                    ),
                );
            }
        }
        out.push(d.help(format!(
            "paved.yaml `{field}` is {} {currency} a month; the estimate prices the specs' {} at the price table (the ceiling of an autoscaler's range), an estimate, not a bill. Lower the line shown{}, or raise the budget; `paved cost --env {env}` shows every figure (docs/cost.md).",
            cost::money(budget),
            table.basis.as_str(),
            if group.len() > 1 { " (or another of the team's services)" } else { "" },
        )));
    };
    for ((team, env), group) in &teams {
        if let Some(b) = budget_of(&platform.budgets, team, env) {
            let group: Vec<&cost::Estimate> = group.iter().collect();
            report(
                format!("team `{team}`"),
                format!("budgets.{team}.{env}"),
                b,
                &group,
            );
        }
    }
    for (e, b) in &alone {
        report(
            format!("service `{}`", e.service),
            format!("serviceBudgets.{}.{}", e.service, e.environment),
            *b,
            &[e],
        );
    }
    out
}

/// The spec line that costs the most in an estimate, and its label: the
/// class of a resource that costs more than the pods, else the replicas (or
/// the autoscaler's maximum) when more than one pod runs, else the compute
/// or size; an environment's override before the spec's own line.
fn budget_line(s: &Service, e: &cost::Estimate) -> (Span, String) {
    let env = format!("/spec/environments/{}", esc(&e.environment));
    let written = |pointers: &[String]| {
        pointers
            .iter()
            .find_map(|p| s.doc.pointer(p).map(|(n, _)| n.span))
    };
    let w = &e.workload;
    let top_resource = e
        .resources
        .iter()
        .filter_map(|r| r.monthly.map(|m| (r, m)))
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.name.cmp(&a.0.name)));
    if let Some((r, m)) = top_resource.filter(|(_, m)| *m > w.monthly.max) {
        let base = format!("/spec/resources/{}", esc(&r.name));
        let label = format!(
            "`{}` ({}, {}): {} a month",
            r.name,
            r.kind,
            r.class,
            cost::money(m)
        );
        if let Some(span) = written(&[format!("{base}/class"), base]) {
            return (span, label);
        }
    }
    let pod = cost::money(w.pod_month);
    if w.replicas_max > 1 {
        let pointers = match w.replicas_from {
            cost::ReplicasFrom::Autoscaling => vec![
                format!("{env}/autoscaling/max"),
                "/spec/autoscaling/max".to_string(),
                format!("{env}/replicas"),
                "/spec/replicas".to_string(),
            ],
            _ => vec![format!("{env}/replicas"), "/spec/replicas".to_string()],
        };
        if let Some(span) = written(&pointers) {
            return (
                span,
                if w.replicas_min == w.replicas_max {
                    format!("{} pods × {pod} a month", w.replicas_max)
                } else {
                    format!("up to {} pods × {pod} a month", w.replicas_max)
                },
            );
        }
    }
    let pointers = [
        format!("{env}/compute"),
        format!("{env}/size"),
        "/spec/compute".to_string(),
        "/spec/size".to_string(),
    ];
    let label = format!("{} CPU, {} memory: {pod} a pod a month", w.cpu, w.memory);
    match written(&pointers) {
        Some(span) => (span, label),
        None => (at(s, "/spec").0, label),
    }
}

pub(crate) fn check_platform(platform: &Platform, src: &SourceRef, doc: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, env) in &platform.environments {
        if env.allow_auto_promote || env.default_promote() != "auto" {
            continue;
        }
        let base = format!("/spec/environments/{}", esc(name));
        let span = doc
            .pointer(&format!("{base}/promote"))
            .or_else(|| doc.pointer(&base))
            .map_or(doc.span, |(n, _)| n.span);
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_AUTO_PROMOTE_FORBIDDEN,
                format!("`{name}` promotes automatically by default, but forbids automatic promotion"),
            )
            .at(src, span, "automatic sync")
            .help(format!(
                "`environments.{name}.allowAutoPromote: false` forbids `promote: auto` in {name}, so its default cannot be `auto`. Write `promote: manual`, or leave `promote` out (it then defaults to `manual`)."
            )),
        );
    }
    out.extend(promotion_order(platform, src, doc));
    out.extend(team_roles(platform, src, doc));
    out.extend(budget_names(platform, src, doc));
    out.extend(preview_from(platform, src, doc));
    out.extend(reference_images(platform, src, doc));
    out.extend(log_error_pattern(platform, src, doc));
    out.extend(solver_image(platform, src, doc));
    for name in platform.environments.keys() {
        if !OUTPUT_FOLDERS.contains(&name.as_str()) {
            continue;
        }
        let span = environment_key(doc, name);
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_RESERVED_NAME,
                format!("`{name}` is a reserved environment name"),
            )
            .at(src, span, "reserved name")
            .help(format!(
                "The output folder holds one folder per environment next to `platform/` (platform-wide objects), `catalog/` (Backstage entries) and `previews/` (preview environments), so an environment cannot be named {}. Rename the environment, e.g. `{name}-env`.",
                {
                    let names: Vec<String> = OUTPUT_FOLDERS.iter().map(|f| format!("`{f}`")).collect();
                    match names.split_last() {
                        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                        _ => names.concat(),
                    }
                }
            )),
        );
    }
    out.extend(preview_prefixed_environments(platform, src, doc));
    let obs = &platform.observability;
    let (buckets, declared) = obs.latency_buckets();
    let threshold = doc.pointer("/spec/observability/latencyP99ThresholdMs");
    // The default threshold (1000 ms) is a default boundary; it can only miss
    // buckets the platform declared, and then the list is the place to show.
    let at = threshold.or_else(|| doc.pointer("/spec/observability/latencyBuckets"));
    if let (Some((node, _)), Err(near)) = (at, bucket_of(obs.latency_p99_threshold_ms, buckets)) {
        out.push(latency_not_a_bucket(
            obs.latency_p99_threshold_ms,
            false,
            "`observability.latencyP99ThresholdMs`",
            &near,
            declared,
            src,
            node.span,
        ));
    }
    out
}

/// The key of environment `name` in paved.yaml (the document when absent).
fn environment_key(doc: &Node, name: &str) -> Span {
    doc.pointer(&format!("/spec/environments/{}", esc(name)))
        .map(|(n, k)| k.unwrap_or(n.span))
        .unwrap_or(doc.span)
}

/// With `previews` set, an environment named like a preview's environment
/// (`preview-<NAME>`) would share that preview's Argo CD Applications and
/// labels: the prefix is reserved for previews.
fn preview_prefixed_environments(
    platform: &Platform,
    src: &SourceRef,
    doc: &Node,
) -> Vec<Diagnostic> {
    use crate::model::preview::ENVIRONMENT_PREFIX;
    if platform.previews.is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for name in platform.environments.keys() {
        let Some(rest) = name.strip_prefix(ENVIRONMENT_PREFIX) else {
            continue;
        };
        let span = environment_key(doc, name);
        out.push(
            Diagnostic::error(
                codes::SEMANTIC_RESERVED_NAME,
                format!("`{name}` is a reserved environment name: names starting with `{ENVIRONMENT_PREFIX}` are the previews'"),
            )
            .at(src, span, "reserved name")
            .help(format!(
                "With `previews` set, `paved render --preview {rest}` renders an environment named `{name}`, whose Argo CD Applications and labels would be this environment's. Rename the environment so it does not start with `{ENVIRONMENT_PREFIX}`, e.g. `pv-{rest}`."
            )),
        );
    }
    out
}

/// Whether `ms` milliseconds is one of `buckets` (seconds): `Ok` if it is,
/// else the nearest boundaries below and above it.
///
/// Compared exactly, as Prometheus will compare them: an exporter writes a
/// bound as the shortest decimal of its double, and the rule's `le` is the
/// shortest decimal of `ms / 1000`, itself the double nearest to the exact
/// quotient (the same double YAML gives for that decimal), so the two texts
/// are equal exactly when the doubles are. 300 ms matches 0.3 s although
/// neither is exact in binary; 0.30000000000000004 s matches nothing.
pub(crate) fn bucket_of(ms: u64, buckets: &[f64]) -> Result<(), (Option<f64>, Option<f64>)> {
    let s = ms as f64 / 1000.0;
    if buckets.contains(&s) {
        return Ok(());
    }
    let below = buckets.iter().copied().filter(|b| *b < s).reduce(f64::max);
    let above = buckets.iter().copied().filter(|b| *b > s).reduce(f64::min);
    Err((below, above))
}

/// A bound in seconds, written in milliseconds: its shortest decimal with
/// the point moved three places (0.075 → `75`, 2.5 → `2500`), so the text
/// is exact where `b * 1000.0` could print 74.99999999999999.
pub(crate) fn ms_text(b: f64) -> String {
    let text = format!("{b}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = format!("{frac:0<3}");
    let (head, tail) = frac.split_at(3);
    let int = format!("{int}{head}");
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if tail.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{tail}")
    }
}

fn latency_not_a_bucket(
    ms: u64,
    slo: bool,
    field: &str,
    near: &(Option<f64>, Option<f64>),
    declared: bool,
    src: &SourceRef,
    span: Span,
) -> Diagnostic {
    let seconds = ms as f64 / 1000.0;
    let nearest = match near {
        (Some(b), Some(a)) => format!(
            "the nearest boundaries are {} ms and {} ms",
            ms_text(*b),
            ms_text(*a)
        ),
        (Some(b), None) => format!("the largest boundary is {} ms", ms_text(*b)),
        (None, Some(a)) => format!("the smallest boundary is {} ms", ms_text(*a)),
        (None, None) => "there are no boundaries".to_string(),
    };
    let message =
        format!("{field} is {ms} ms, which is not a bucket boundary of the latency histogram");
    let whose = if declared {
        "those of paved.yaml `observability.latencyBuckets`"
    } else {
        "OpenTelemetry's defaults, assumed because paved.yaml declares no `observability.latencyBuckets`"
    };
    let d = if declared {
        Diagnostic::error(codes::SEMANTIC_LATENCY_NOT_A_BUCKET, message)
    } else {
        Diagnostic::warning(codes::SEMANTIC_LATENCY_NOT_A_BUCKET, message)
    };
    let why = if slo {
        format!("The latency SLO counts the requests in the bucket `le=\"{seconds}\"`, so without that bucket its rules select no series and its burn-rate alerts never fire")
    } else {
        "The latency alert compares a p99 that `histogram_quantile` interpolates inside a bucket, so between two boundaries it alerts on a guess".to_string()
    };
    d.at(src, span, format!("no bucket ends at {seconds}s"))
        .help(format!(
            "{why}. The histogram's boundaries are {whose}; {nearest}. Use one of them, or add {seconds} to `observability.latencyBuckets` in paved.yaml (and to the applications' histogram)."
        ))
}

fn check_unique_names(services: &[Service], out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Service> = HashMap::new();
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.source.name.cmp(&b.source.name));
    for s in sorted {
        if let Some(prev) = first.get(s.name()) {
            let (span, _) = at(s, "/metadata/name");
            let (pspan, _) = at(prev, "/metadata/name");
            out.push(
                Diagnostic::error(
                    codes::SEMANTIC_DUPLICATE_SERVICE,
                    format!("two services are named `{}`", s.name()),
                )
                .at(&s.source, span, "this name is taken")
                .also(&prev.source, pspan, "first used here")
                .help("service names must be unique across the repository; rename one of them"),
            );
        } else {
            first.insert(s.name(), s);
        }
    }
}

/// Dependency cycles are allowed (two services may call each other; the
/// NetworkPolicies simply allow both directions) but are worth knowing about.
///
/// One warning per group of services that can all reach each other (a
/// strongly connected component), showing the shortest cycle through the
/// group's first service. Listing every cycle instead grows exponentially: a
/// mesh of 40 services that all call each other has millions of cycles, and
/// took minutes to enumerate. This is O(services + dependencies).
fn check_cycles(services: &[Service], out: &mut Vec<Diagnostic>) {
    let by_name: BTreeMap<&str, &Service> = services.iter().map(|s| (s.name(), s)).collect();
    let names: Vec<&str> = by_name.keys().copied().collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    // Edges to other services that exist; a self-dependency is its own error.
    let adj: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            let mut next: Vec<usize> = by_name[n]
                .dependency_names()
                .filter_map(|d| index.get(d).copied())
                .filter(|&j| names[j] != *n)
                .collect();
            next.dedup();
            next
        })
        .collect();
    for group in strongly_connected(&adj) {
        if group.len() < 2 {
            continue;
        }
        let first = *group.iter().min().unwrap_or(&group[0]);
        let Some(cycle) = shortest_cycle(&adj, &group, first) else {
            continue;
        };
        let mut shown: Vec<&str> = cycle.iter().map(|&i| names[i]).collect();
        shown.push(names[first]);
        let mut message = format!(
            "services depend on each other in a cycle: {}",
            shown.join(" → ")
        );
        if group.len() > cycle.len() {
            let mut all: Vec<&str> = group.iter().map(|&i| names[i]).collect();
            all.sort_unstable();
            let more = all.len().saturating_sub(8);
            all.truncate(8);
            message.push_str(&format!(
                " ({} services all reach each other: {}{})",
                group.len(),
                all.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        let s = by_name[names[first]];
        let (span, _) = dep_span(s, names[cycle[1]]);
        out.push(
            Diagnostic::warning(codes::SEMANTIC_DEPENDENCY_CYCLE, message)
                .at(&s.source, span, "the cycle starts here")
                .help("a cycle is allowed (traffic is permitted both ways) but often means two services should be one, or talk through a queue"),
        );
    }
}

/// Strongly connected components (Kosaraju), iteratively so that a long
/// chain of dependencies cannot overflow the stack.
fn strongly_connected(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adj.len();
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for root in 0..n {
        if visited[root] {
            continue;
        }
        visited[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, i)) = stack.pop() {
            if let Some(&w) = adj[v].get(i) {
                stack.push((v, i + 1));
                if !visited[w] {
                    visited[w] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(v);
            }
        }
    }
    let mut rev = vec![Vec::new(); n];
    for (v, next) in adj.iter().enumerate() {
        for &w in next {
            rev[w].push(v);
        }
    }
    let mut group_of = vec![usize::MAX; n];
    let mut groups = Vec::new();
    for &root in order.iter().rev() {
        if group_of[root] != usize::MAX {
            continue;
        }
        let id = groups.len();
        let mut members = vec![root];
        group_of[root] = id;
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            for &w in &rev[v] {
                if group_of[w] == usize::MAX {
                    group_of[w] = id;
                    members.push(w);
                    stack.push(w);
                }
            }
        }
        groups.push(members);
    }
    groups
}

/// The shortest cycle from `start` back to it inside `group` (breadth-first),
/// as the services in order, beginning with `start`.
fn shortest_cycle(adj: &[Vec<usize>], group: &[usize], start: usize) -> Option<Vec<usize>> {
    let inside: std::collections::HashSet<usize> = group.iter().copied().collect();
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if w == start {
                let mut path = vec![v];
                let mut cur = v;
                while cur != start {
                    cur = parent[&cur];
                    path.push(cur);
                }
                path.reverse();
                return Some(path);
            }
            if inside.contains(&w) && w != start && !parent.contains_key(&w) {
                parent.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    None
}

fn dep_span(s: &Service, target: &str) -> (Span, Option<Span>) {
    let i = s
        .spec
        .depends_on
        .iter()
        .position(|d| d.strip_prefix("component:") == Some(target))
        .unwrap_or(0);
    at(s, &format!("/spec/dependsOn/{i}"))
}

/// The value span (and key span) at a JSON pointer, falling back to parents.
fn at(s: &Service, pointer: &str) -> (Span, Option<Span>) {
    let mut p = pointer.to_string();
    loop {
        if let Some((n, k)) = s.doc.pointer(&p) {
            return (n.span, k);
        }
        match p.rfind('/') {
            Some(i) => p.truncate(i),
            None => return (s.doc.span, None),
        }
    }
}

/// An IPv4 or IPv6 network in CIDR notation, its host bits zero.
struct Cidr {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = text.split_once('/').ok_or("the `/PREFIX` is missing")?;
        let addr: std::net::IpAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not an IPv4 or IPv6 address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or(format!("the prefix must be a number from 0 to {max}"))?;
        let cidr = Cidr { addr, prefix };
        let network = cidr.network_bits();
        if network != cidr.bits() {
            let first = match addr {
                std::net::IpAddr::V4(_) => std::net::IpAddr::from((network as u32).to_be_bytes()),
                std::net::IpAddr::V6(_) => std::net::IpAddr::from(network.to_be_bytes()),
            };
            return Err(format!(
                "bits are set after the prefix; the network is `{first}/{prefix}`"
            ));
        }
        Ok(cidr)
    }

    fn bits(&self) -> u128 {
        match self.addr {
            std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
            std::net::IpAddr::V6(a) => u128::from(a),
        }
    }

    fn width(&self) -> u8 {
        if self.addr.is_ipv4() {
            32
        } else {
            128
        }
    }

    /// The address with every bit after the prefix cleared.
    fn network_bits(&self) -> u128 {
        let host = u32::from(self.width() - self.prefix);
        let mask = if host >= 128 { 0 } else { u128::MAX << host };
        self.bits() & mask & (u128::MAX >> (128 - u32::from(self.width())))
    }

    /// Whether `other` lies wholly inside this network.
    fn contains(&self, other: &Cidr) -> bool {
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && self.prefix <= other.prefix
            && Cidr {
                addr: other.addr,
                prefix: self.prefix,
            }
            .network_bits()
                == self.network_bits()
    }
}

fn esc(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

struct Check<'a> {
    s: &'a Service,
    platform: &'a Platform,
    out: &'a mut Vec<Diagnostic>,
}

impl Check<'_> {
    fn span(&self, pointer: &str) -> Span {
        at(self.s, pointer).0
    }

    fn key(&self, pointer: &str) -> Span {
        let (v, k) = at(self.s, pointer);
        k.unwrap_or(v)
    }

    fn err(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// The service's own checks (its dependencies are checked [`across`]).
    fn run(mut self) {
        self.policy_rules();
        self.type_rules();
        self.ports();
        self.replicas(
            "/spec",
            self.s.spec.replicas.clone(),
            self.s.spec.autoscaling.clone(),
        );
        self.sizes(
            "/spec",
            self.s.spec.size.as_deref(),
            self.s.spec.compute.is_some(),
        );
        self.environments();
        self.rollout();
        self.env(
            "/spec/env",
            &self.s.spec.env.keys().cloned().collect::<Vec<_>>(),
        );
        self.secrets();
        self.free_text();
        self.waivers();
        self.resource_parameters();
        self.api_definitions();
        self.egress();
        self.resource_networks();
        self.latency_threshold();
    }

    /// Each `apis` definition names a regular file inside the workspace
    /// (the scan in `app` recorded which exist).
    fn api_definitions(&mut self) {
        let s = self.s;
        for (i, api) in s.spec.apis.iter().enumerate() {
            let Some(def) = api.definition.as_deref() else {
                continue;
            };
            let span = self.span(&format!("/spec/apis/{i}/definition"));
            let d = match crate::model::definition_path(&s.origin, def) {
                None => Diagnostic::error(
                    codes::SEMANTIC_API_DEFINITION,
                    format!("the definition of API `{}` is outside the workspace", api.name),
                )
                .at(&s.source, span, "this path climbs out of the workspace")
                .help("keep the definition in the repository, e.g. in the service's folder (`api/openapi.yaml`), and write its path relative to this platform.yaml's folder"),
                Some(rel) if !s.beside.definitions.contains(&rel) => Diagnostic::error(
                    codes::SEMANTIC_API_DEFINITION,
                    format!("the definition of API `{}` is not a file: `{rel}` does not exist (or is a folder or a symlink)", api.name),
                )
                .at(&s.source, span, "no such file")
                .help("write the path relative to this platform.yaml's folder, to a regular file that is committed with it; or remove `definition` to render a placeholder"),
                Some(_) => continue,
            };
            self.err(d);
        }
    }

    /// `spec.egress`: each network well-formed and inside one the platform
    /// allows (`networkPolicy.allowedEgressCidrs`).
    fn egress(&mut self) {
        let s = self.s;
        let allowed: Vec<Cidr> = self
            .platform
            .network_policy
            .allowed_egress_cidrs
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .collect();
        for (i, rule) in s.spec.egress.iter().enumerate() {
            let span = self.span(&format!("/spec/egress/{i}/cidr"));
            let cidr = match Cidr::parse(&rule.cidr) {
                Ok(c) => c,
                Err(why) => {
                    self.err(
                        Diagnostic::error(
                            codes::SEMANTIC_INVALID_CIDR,
                            format!("`{}` is not a network in CIDR notation: {why}", rule.cidr),
                        )
                        .at(&s.source, span, "not ADDRESS/PREFIX")
                        .help("write the network's first address and its prefix length, e.g. `203.0.113.0/24`, `2001:db8::/32`, or `203.0.113.7/32` for one address"),
                    );
                    continue;
                }
            };
            if allowed.iter().any(|a| a.contains(&cidr)) {
                continue;
            }
            let list = &self.platform.network_policy.allowed_egress_cidrs;
            let (label, help) = if list.is_empty() {
                (
                    "the platform allows no external egress".to_string(),
                    "this platform allows no egress out of the cluster (paved.yaml `networkPolicy.allowedEgressCidrs` is empty); ask the platform team to allow the network".to_string(),
                )
            } else {
                (
                    "not inside an allowed network".to_string(),
                    format!(
                        "the platform allows egress inside {} (paved.yaml `networkPolicy.allowedEgressCidrs`); use a network inside one of them, or ask the platform team to add it",
                        list.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
            };
            self.err(
                Diagnostic::error(
                    codes::SEMANTIC_EGRESS_NOT_ALLOWED,
                    format!("egress to `{}` is not allowed by the platform", rule.cidr),
                )
                .at(&s.source, span, label)
                .help(help),
            );
        }
    }

    /// A resource whose type the platform gives no network: nothing may reach it.
    /// With the reference Compositions the backends run beside the service,
    /// which reaches them by label, so no network is needed.
    fn resource_networks(&mut self) {
        let s = self.s;
        if self.platform.crossplane.compositions == "reference" {
            return;
        }
        for (name, r) in &s.spec.resources {
            let open = self
                .platform
                .network_policy
                .resources
                .get(&r.kind)
                .is_some_and(|a| !a.cidrs.is_empty());
            if open {
                continue;
            }
            let span = self.key(&format!("/spec/resources/{}", esc(name)));
            self.err(
                Diagnostic::warning(
                    codes::SEMANTIC_RESOURCE_WITHOUT_NETWORK,
                    format!(
                        "no network is configured for {} resources, so `{name}` cannot be reached",
                        r.kind
                    ),
                )
                .at(&s.source, span, "the NetworkPolicy opens nothing for this")
                .help(format!(
                    "the platform team sets its network in paved.yaml: `networkPolicy.resources.{}: {{cidrs: [...], ports: [...]}}`",
                    r.kind
                )),
            );
        }
    }

    /// `slo.latencyP99Ms` must be a bucket boundary of the duration
    /// histogram (`check_platform` does the same for paved.yaml's threshold).
    fn latency_threshold(&mut self) {
        let s = self.s;
        if s.spec.kind != ServiceType::Service {
            return; // an `slo` there is `not-for-type` already
        }
        let Some(ms) = s
            .spec
            .observability
            .as_ref()
            .and_then(|o| o.slo.as_ref())
            .and_then(|slo| slo.latency_p99_ms)
        else {
            return;
        };
        let (buckets, declared) = self.platform.observability.latency_buckets();
        if let Err(near) = bucket_of(ms, buckets) {
            let span = self.span("/spec/observability/slo/latencyP99Ms");
            self.err(latency_not_a_bucket(
                ms,
                true,
                "`slo.latencyP99Ms`",
                &near,
                declared,
                &s.source,
                span,
            ));
        }
    }

    /// The spec-level checks of the platform's policy rules (`no-latest-tag`,
    /// `allowed-registries`, `required-labels`), defined with the rules in
    /// `policy`.
    /// (The `pin-tag` fix of `no-latest-tag` reads the other services'
    /// images, so [`pin_tag_fixes`] adds it after the own checks.)
    fn policy_rules(&mut self) {
        self.out
            .extend(crate::policy::check_spec(self.platform, self.s));
    }

    fn type_rules(&mut self) {
        let s = self.s;
        let spec = &s.spec;
        let kind = spec.kind.as_str();
        let type_span = self.span("/spec/type");
        match (spec.kind, &spec.schedule) {
            (ServiceType::Cronjob, None) => {
                let span = if s.doc.pointer("/spec/type").is_some() {
                    type_span
                } else {
                    self.key("/spec")
                };
                self.err(
                    Diagnostic::error(codes::SEMANTIC_MISSING_SCHEDULE, "a cronjob needs a `schedule`")
                        .at(&s.source, span, "this is a cronjob")
                        .help("add `schedule: \"*/5 * * * *\"` (minute hour day-of-month month day-of-week) under `spec`"),
                );
            }
            (ServiceType::Service | ServiceType::Worker, Some(_)) => {
                let span = self.key("/spec/schedule");
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        format!("`schedule` is only for cronjobs, and this is a {kind}"),
                    )
                    .at(&s.source, span, "not used by this type")
                    .help("remove `schedule`, or set `type: cronjob`"),
                );
            }
            _ => {}
        }
        if spec.kind != ServiceType::Service {
            for (field, present) in [
                ("ports", !spec.ports.is_empty()),
                ("ingress", spec.ingress.is_some()),
            ] {
                if present {
                    let span = self.key(&format!("/spec/{field}"));
                    self.err(
                        Diagnostic::error(
                            codes::SEMANTIC_NOT_FOR_TYPE,
                            format!("`{field}` is only for services, and this is a {kind}"),
                        )
                        .at(&s.source, span, format!("a {kind} does not serve traffic"))
                        .help(format!("remove `{field}`, or set `type: service`")),
                    );
                }
            }
            self.probes_of_non_service(kind);
            // The SLO's objectives are about HTTP requests, which only a
            // service answers: its rules and alerts would never be written.
            if spec.observability.as_ref().is_some_and(|o| o.slo.is_some()) {
                let span = self.key("/spec/observability/slo");
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        format!("`observability.slo` is only for services, and this is a {kind}"),
                    )
                    .at(&s.source, span, format!("a {kind} answers no requests to measure"))
                    .help("remove `slo`; the crash-looping alert and the dashboard's resource panels still cover this workload"),
                );
            }
        } else if spec.ports.is_empty() {
            let span = self.key("/spec");
            self.err(
                Diagnostic::error(codes::SEMANTIC_MISSING_PORTS, "a service needs at least one port")
                    .at(&s.source, span, "no `ports` under this `spec`")
                    .help("add `ports: [{name: http, port: 8080}]`, or set `type: worker` for a service that takes no traffic"),
            );
        }
        if spec.kind == ServiceType::Cronjob {
            for field in ["replicas", "autoscaling"] {
                if s.doc.pointer(&format!("/spec/{field}")).is_some() {
                    let span = self.key(&format!("/spec/{field}"));
                    self.err(
                        Diagnostic::error(
                            codes::SEMANTIC_NOT_FOR_TYPE,
                            format!("`{field}` is not used by cronjobs"),
                        )
                        .at(&s.source, span, "a cronjob runs one job per schedule")
                        .help(format!("remove `{field}`")),
                    );
                }
            }
        }
    }

    /// A worker's or cronjob's checks: `exec` or `tcpPort` (there is no
    /// HTTP port to request), no readiness on a cronjob (a job takes no
    /// traffic to hold back), and a liveness check on every worker when the
    /// platform requires one.
    fn probes_of_non_service(&mut self, kind: &str) {
        let s = self.s;
        let probes = s.spec.probes.clone().unwrap_or_default();
        for (name, p) in [
            ("liveness", &probes.liveness),
            ("readiness", &probes.readiness),
        ] {
            let Some(ProbeOrOff::Probe(p)) = p else {
                continue;
            };
            if s.spec.kind == ServiceType::Cronjob && name == "readiness" {
                let span = self.key("/spec/probes/readiness");
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        "`probes.readiness` is not used by cronjobs",
                    )
                    .at(&s.source, span, "a job takes no traffic to hold back")
                    .help("remove `readiness`; a `liveness` check restarts a run that hangs"),
                );
                continue;
            }
            if p.exec.is_none() && p.tcp_port.is_none() {
                let (ptr, label) = if p.path.is_some() {
                    (
                        format!("/spec/probes/{name}/path"),
                        format!("a {kind} has no HTTP port"),
                    )
                } else {
                    (
                        format!("/spec/probes/{name}"),
                        "no `exec` or `tcpPort`".to_string(),
                    )
                };
                let span = self.key(&ptr);
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        format!("a {kind}'s {name} check must be an `exec` command or a `tcpPort`"),
                    )
                    .at(&s.source, span, label)
                    .help(format!("write `{name}: {{exec: [/app/healthcheck]}}` or `{name}: {{tcpPort: 9000}}`; HTTP `path` checks are for services")),
                );
            }
        }
        let has_liveness = matches!(probes.liveness, Some(ProbeOrOff::Probe(_)));
        if s.spec.kind == ServiceType::Worker
            && self.platform.policy.require_worker_probes
            && !has_liveness
        {
            let (span, label) = if s.doc.pointer("/spec/probes/liveness").is_some() {
                (self.span("/spec/probes/liveness"), "turned off here")
            } else {
                (self.span("/spec/type"), "this worker has no liveness check")
            };
            self.err(
                Diagnostic::error(
                    codes::POLICY_WORKER_WITHOUT_PROBE,
                    "this platform requires a liveness probe on every worker",
                )
                .at(&s.source, span, label)
                .help("add under `spec`:\n  probes:\n    liveness: {exec: [/app/healthcheck]}   # or {tcpPort: 9000}\n(paved.yaml `policy.requireWorkerProbes` asks for it, so that a worker that hangs is restarted)"),
            );
        }
    }

    fn ports(&mut self) {
        let s = self.s;
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut numbers: HashMap<u16, usize> = HashMap::new();
        for (i, p) in s.spec.ports.iter().enumerate() {
            if let Some(first) = names.insert(&p.name, i) {
                let span = self.span(&format!("/spec/ports/{i}/name"));
                let fspan = self.span(&format!("/spec/ports/{first}/name"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_DUPLICATE_PORT,
                        format!("the port name `{}` is used twice", p.name),
                    )
                    .at(&s.source, span, "duplicate name")
                    .also(&s.source, fspan, "first used here")
                    .help("give each port its own name"),
                );
            }
            if let Some(first) = numbers.insert(p.port, i) {
                let span = self.span(&format!("/spec/ports/{i}/port"));
                let fspan = self.span(&format!("/spec/ports/{first}/port"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_DUPLICATE_PORT,
                        format!("the port number {} is used twice", p.port),
                    )
                    .at(&s.source, span, "duplicate port")
                    .also(&s.source, fspan, "first used here")
                    .help("each port needs its own number"),
                );
            }
        }
        let port_names: Vec<&str> = s.spec.ports.iter().map(|p| p.name.as_str()).collect();
        for (probe, field) in [
            ("liveness", "port"),
            ("readiness", "port"),
            ("liveness", "tcpPort"),
            ("readiness", "tcpPort"),
        ] {
            let ptr = format!("/spec/probes/{probe}/{field}");
            if let Some((node, _)) = s.doc.pointer(&ptr) {
                if let Some(name) = node.as_str() {
                    if !port_names.contains(&name) {
                        self.err(
                            Diagnostic::error(
                                codes::SEMANTIC_UNKNOWN_PORT,
                                format!(
                                    "the {probe} probe uses port `{name}`, which is not declared"
                                ),
                            )
                            .at(&s.source, node.span, "no port with this name")
                            .help(
                                match did_you_mean(name, &port_names) {
                                    Some(m) => format!("did you mean `{m}`?"),
                                    None => format!("declared ports: {}", port_names.join(", ")),
                                },
                            ),
                        );
                    }
                }
            }
        }
    }

    fn replicas(
        &mut self,
        base: &str,
        replicas: Option<Replicas>,
        autoscaling: Option<crate::model::AutoscalingSpec>,
    ) {
        let s = self.s;
        if let Some(a) = &autoscaling {
            if let (Some(min), Some(max)) = (a.min, a.max) {
                if min > max {
                    let span = self.span(&format!("{base}/autoscaling/min"));
                    let mspan = self.span(&format!("{base}/autoscaling/max"));
                    self.err(
                        Diagnostic::error(codes::SEMANTIC_AUTOSCALING_RANGE, format!("`autoscaling.min` ({min}) is greater than `autoscaling.max` ({max})"))
                            .at(&s.source, span, "minimum")
                            .also(&s.source, mspan, "maximum")
                            .help("set `min` at most `max`"),
                    );
                }
            }
            if let Some(Replicas::Fixed(n)) = replicas {
                let span = self.key(&format!("{base}/autoscaling"));
                let rspan = self.span(&format!("{base}/replicas"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_AUTOSCALING_WITHOUT_AUTO,
                        format!("`autoscaling` is set but `replicas` is fixed at {n}"),
                    )
                    .at(&s.source, span, "autoscaling needs `replicas: auto`")
                    .also(&s.source, rspan, "fixed here")
                    .help("set `replicas: auto` to autoscale, or remove `autoscaling`"),
                );
            }
        }
    }

    fn sizes(&mut self, base: &str, size: Option<&str>, compute: bool) {
        let s = self.s;
        if size.is_some() && compute {
            let span = self.key(&format!("{base}/compute"));
            let sspan = self.key(&format!("{base}/size"));
            self.err(
                Diagnostic::error(
                    codes::SEMANTIC_SIZE_AND_COMPUTE,
                    "`size` and `compute` are both set",
                )
                .at(&s.source, span, "explicit compute")
                .also(&s.source, sspan, "a platform size")
                .help("use one: a platform `size`, or explicit `compute: {cpu, memory}`"),
            );
        }
        if let Some(size) = size {
            if !self.platform.sizes.contains_key(size) {
                let known: Vec<&str> = self.platform.sizes.keys().map(String::as_str).collect();
                let span = self.span(&format!("{base}/size"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_UNKNOWN_SIZE,
                        format!("this platform has no size `{size}`"),
                    )
                    .at(&s.source, span, "unknown size")
                    .help(match did_you_mean(size, &known) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("the platform's sizes are {}", known.join(", ")),
                    }),
                );
            }
        }
    }

    fn environments(&mut self) {
        let s = self.s;
        let Some(envs) = &s.spec.environments else {
            return;
        };
        let known: Vec<&str> = self
            .platform
            .environments
            .keys()
            .map(String::as_str)
            .collect();
        for (name, o) in envs {
            let base = format!("/spec/environments/{}", esc(name));
            if !self.platform.environments.contains_key(name) {
                let span = self.key(&base);
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_UNKNOWN_ENVIRONMENT,
                        format!("the platform has no environment `{name}`"),
                    )
                    .at(&s.source, span, "unknown environment")
                    .help(match did_you_mean(name, &known) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("the platform's environments are {}", known.join(", ")),
                    }),
                );
            }
            self.replicas(
                &base,
                o.replicas.clone().or(s.spec.replicas.clone()),
                o.autoscaling.clone(),
            );
            if s.spec.kind == ServiceType::Cronjob
                && (o.replicas.is_some() || o.autoscaling.is_some())
            {
                let span = self.key(&base);
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        "`replicas` and `autoscaling` are not used by cronjobs",
                    )
                    .at(&s.source, span, "in this environment")
                    .help("remove them from the environment"),
                );
            }
            self.sizes(&base, o.size.as_deref(), o.compute.is_some());
            if o.ingress.is_some() && s.spec.ingress.is_none() {
                let span = self.key(&format!("{base}/ingress"));
                self.err(
                    Diagnostic::error(codes::SEMANTIC_OVERRIDE_WITHOUT_BASE, "this environment overrides `ingress.host`, but the service has no `ingress`")
                        .at(&s.source, span, "nothing to override")
                        .help("declare `ingress` under `spec` first"),
                );
            }
            for r in o.resources.keys() {
                if !s.spec.resources.contains_key(r) {
                    let declared: Vec<&str> = s.spec.resources.keys().map(String::as_str).collect();
                    let span = self.key(&format!("{base}/resources/{}", esc(r)));
                    self.err(
                        Diagnostic::error(
                            codes::SEMANTIC_OVERRIDE_WITHOUT_BASE,
                            format!(
                                "this environment overrides resource `{r}`, which is not declared"
                            ),
                        )
                        .at(&s.source, span, "no such resource")
                        .help(match did_you_mean(r, &declared) {
                            Some(m) => format!("did you mean `{m}`?"),
                            None if declared.is_empty() => {
                                "declare the resource under `spec.resources` first".to_string()
                            }
                            None => format!("this service's resources are {}", declared.join(", ")),
                        }),
                    );
                }
            }
            let keys: Vec<String> = o.env.keys().cloned().collect();
            self.env(&format!("{base}/env"), &keys);
            let platform_env = self.platform.environments.get(name);
            if o.promote.as_deref() == Some("auto")
                && platform_env.is_some_and(|e| !e.allow_auto_promote)
            {
                let span = self.span(&format!("{base}/promote"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_AUTO_PROMOTE_FORBIDDEN,
                        format!("`promote: auto` is not allowed in {name}"),
                    )
                    .at(&s.source, span, "automatic sync")
                    .help(format!(
                        "The platform sets `environments.{name}.allowAutoPromote: false` in paved.yaml: a person syncs every change to {name}. Write `promote: manual`, or leave `promote` out (the environment's default is `{}`).",
                        platform_env.map_or("manual", |e| e.default_promote())
                    )),
                );
            }
        }
    }

    /// `rollout` only for services, and the strategy each environment's
    /// `requireRollout` asks for.
    fn rollout(&mut self) {
        let s = self.s;
        let spec = &s.spec;
        let kind = spec.kind.as_str();
        if spec.kind != ServiceType::Service {
            let mut at: Vec<String> = Vec::new();
            if spec.rollout.is_some() {
                at.push("/spec/rollout".into());
            }
            for (env, o) in spec.environments.iter().flatten() {
                if o.rollout.is_some() {
                    at.push(format!("/spec/environments/{}/rollout", esc(env)));
                }
            }
            for p in at {
                let span = self.key(&p);
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_NOT_FOR_TYPE,
                        format!("`rollout` is only for services, and this is a {kind}"),
                    )
                    .at(&s.source, span, format!("a {kind} has no Deployment to replace"))
                    .help("remove `rollout`; it replaces a service's Deployment and judges a release by its HTTP requests"),
                );
            }
            return;
        }
        for env in self.platform.environments.values() {
            let need = env.require_rollout;
            if !s.runs_in(&env.name) {
                continue;
            }
            let r = spec.rollout_in(&env.name);
            if need.allows(r.map(|r| r.strategy)) {
                continue;
            }
            let base = format!("/spec/environments/{}", esc(&env.name));
            let overridden = s.doc.pointer(&format!("{base}/rollout")).is_some();
            let wanted = match need {
                crate::model::RequireRollout::Any => {
                    "a `rollout` (canary or blueGreen)".to_string()
                }
                other => format!("`rollout: {{strategy: {}}}`", other.as_str()),
            };
            let (span, label) = match r {
                Some(r) if overridden => (
                    self.span(&format!("{base}/rollout/strategy")),
                    format!("{} here", r.strategy.as_str()),
                ),
                Some(r) => (
                    self.span("/spec/rollout/strategy"),
                    format!("{} in every environment", r.strategy.as_str()),
                ),
                None if s.doc.pointer(&base).is_some() => {
                    (self.key(&base), "no `rollout` here".to_string())
                }
                None => (self.key("/spec"), "no `rollout` in this spec".to_string()),
            };
            let name = &env.name;
            self.err(
                Diagnostic::error(
                    codes::SEMANTIC_ROLLOUT_REQUIRED,
                    match r {
                        Some(r) => format!(
                            "{name} requires {wanted}, and `{}` rolls out with {} there",
                            s.name(),
                            r.strategy.as_str()
                        ),
                        None => format!("{name} requires {wanted}, and `{}` has none", s.name()),
                    },
                )
                .at(&s.source, span, label)
                .help(format!(
                    "The platform sets `environments.{name}.requireRollout: {}` in paved.yaml: releases there go through Argo Rollouts, watched by the service's SLO. Use `rollout: {{strategy: {}}}` under `spec` (or under `environments.{name}` for {name} alone).",
                    need.as_str(),
                    if need == crate::model::RequireRollout::BlueGreen { "blueGreen" } else { "canary" },
                )),
            );
        }
    }

    fn dependencies(
        &mut self,
        names: &[&str],
        index: &HashMap<&str, &Service>,
        broken: &BTreeMap<String, String>,
    ) {
        let s = self.s;
        for (i, dep) in s.spec.depends_on.iter().enumerate() {
            let Some(target) = dep.strip_prefix("component:") else {
                continue;
            };
            let span = self.span(&format!("/spec/dependsOn/{i}"));
            if target == s.name() {
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_SELF_DEPENDENCY,
                        format!("`{target}` depends on itself"),
                    )
                    .at(&s.source, span, "this is the service's own name")
                    .help("remove this entry; a service can always reach itself"),
                );
                continue;
            }
            let Some(other) = index.get(target).copied() else {
                if let Some(path) = broken.get(target) {
                    self.err(
                        Diagnostic::error(
                            codes::SEMANTIC_DEPENDENCY_HAS_ERRORS,
                            format!("`{target}` has errors"),
                        )
                        .at(&s.source, span, "its spec did not load")
                        .help(format!("fix the errors in {path} first; this dependency is checked once `{target}` loads")),
                    );
                    continue;
                }
                let others: Vec<&str> = names.iter().copied().filter(|n| *n != s.name()).collect();
                let guess = did_you_mean(target, &others);
                let mut d = Diagnostic::error(codes::SEMANTIC_UNKNOWN_DEPENDENCY, format!("no service named `{target}` exists in this repository"))
                    .at(&s.source, span, "unknown service")
                    .help(match guess {
                        Some(m) => format!("did you mean `component:{m}`?"),
                        None => "`dependsOn` lists `component:NAME` where NAME is another service's `metadata.name`".to_string(),
                    });
                if let Some(m) = guess {
                    // The quick fix of an editor: the text that replaces the span.
                    d = d.field("replacement", format!("component:{m}"));
                }
                self.err(d);
                continue;
            };
            if other.spec.kind != ServiceType::Service {
                self.err(
                    Diagnostic::error(codes::SEMANTIC_DEPENDENCY_WITHOUT_PORTS, format!("`{target}` is a {} and serves no traffic", other.spec.kind.as_str()))
                        .at(&s.source, span, "nothing to connect to")
                        .also(&other.source, other.doc.pointer("/spec/type").map(|(n, _)| n.span).unwrap_or(other.doc.span), "declared here")
                        .help("`dependsOn` is for services this one calls; talk to workers through a queue or a resource"),
                );
                continue;
            }
            let mine: Vec<&str> = s
                .environments(self.platform)
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            let theirs: Vec<&str> = other
                .environments(self.platform)
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            let missing: Vec<&str> = mine
                .iter()
                .copied()
                .filter(|e| !theirs.contains(e))
                .collect();
            if !missing.is_empty() {
                self.err(
                    Diagnostic::warning(
                        codes::SEMANTIC_DEPENDENCY_NOT_IN_ENVIRONMENT,
                        format!(
                            "`{target}` does not run in {}, where `{}` runs",
                            missing.join(", "),
                            s.name()
                        ),
                    )
                    .at(&s.source, span, "missing in some environments")
                    .help(format!(
                        "add those environments to `{target}`, or remove them from this service"
                    )),
                );
            }
        }
    }

    fn env(&mut self, base: &str, keys: &[String]) {
        let s = self.s;
        for key in keys {
            let ptr = format!("{base}/{}", esc(key));
            let Some((node, key_span)) = s.doc.pointer(&ptr) else {
                continue;
            };
            let Some(value) = node.as_str() else {
                if is_credential_name(key) && !matches!(node.value, crate::load::Value::Null) {
                    self.literal_secret(&ptr, key, node.span);
                }
                continue;
            };
            // Offsets inside the string map to the file when the scalar is written
            // plainly or in quotes without escapes, which is how env values are written.
            let raw = &s.source.text[node.span.start..node.span.end];
            let map = offset_map(raw);
            // A form the map does not model (a block scalar) has a map of another
            // length; then a finding points at the whole value, never at a wrong column.
            let exact = map.len() == value.len() + 1;
            let at = |i: usize| node.span.start + map.get(i).copied().unwrap_or(raw.len());
            let inner = |a: usize, b: usize| {
                if exact {
                    Span::new(at(a), at(b))
                } else {
                    node.span
                }
            };
            let pieces = match placeholder::parse(value) {
                Ok(p) => p,
                Err(e) => {
                    self.err(
                        Diagnostic::error(codes::PLACEHOLDER_SYNTAX, e.message)
                            .at(&s.source, inner(e.start, e.end), "placeholder starts here")
                            .help("placeholders look like `${resources.NAME.KEY}`, `${metadata.name}`, `${environment.name}` or `${environment.domain}`; write `$${` for a literal `${`"),
                    );
                    continue;
                }
            };
            let whole = pieces.len() == 1;
            let mut all_literal = true;
            for p in &pieces {
                let Piece::Ref { path, start, end } = p else {
                    continue;
                };
                all_literal = false;
                let span = inner(*start, *end);
                let segs: Vec<&str> = path.iter().map(String::as_str).collect();
                match segs.as_slice() {
                    ["metadata", "name"] | ["environment", "name"] | ["environment", "domain"] => {}
                    ["resources", rname, rkey] => {
                        let Some(r) = s.spec.resources.get(*rname) else {
                            let declared: Vec<&str> =
                                s.spec.resources.keys().map(String::as_str).collect();
                            self.err(
                                Diagnostic::error(codes::PLACEHOLDER_UNKNOWN_RESOURCE, format!("`{rname}` is not a resource of this service"))
                                    .at(&s.source, span, "unknown resource")
                                    .help(match did_you_mean(rname, &declared) {
                                        Some(m) => format!("did you mean `{m}`?"),
                                        None if declared.is_empty() => format!("declare it under `spec.resources`, e.g. `{rname}: {{type: postgresql}}`"),
                                        None => format!("this service's resources are {}", declared.join(", ")),
                                    }),
                            );
                            continue;
                        };
                        let keys = resource_types::connection_keys(&r.kind);
                        if !keys.contains(rkey) {
                            self.err(
                                Diagnostic::error(
                                    codes::PLACEHOLDER_UNKNOWN_KEY,
                                    format!("a {} resource has no key `{rkey}`", r.kind),
                                )
                                .at(&s.source, span, "unknown key")
                                .help(
                                    match did_you_mean(rkey, keys) {
                                        Some(m) => format!(
                                            "did you mean `{m}`? a {} provides {}",
                                            r.kind,
                                            keys.join(", ")
                                        ),
                                        None => {
                                            format!("a {} provides {}", r.kind, keys.join(", "))
                                        }
                                    },
                                ),
                            );
                            continue;
                        }
                        if !whole {
                            self.err(
                                Diagnostic::error(codes::PLACEHOLDER_PARTIAL, "a resource placeholder must be the whole value")
                                    .at(&s.source, span, "read from a Secret, so it cannot be joined with text")
                                    .help(if keys.contains(&"url") {
                                        format!("use `${{resources.{rname}.url}}`, which holds the full connection string")
                                    } else {
                                        "give each key its own env variable".to_string()
                                    }),
                            );
                        }
                    }
                    _ => {
                        self.err(
                            Diagnostic::error(codes::PLACEHOLDER_UNKNOWN, format!("`${{{}}}` is not a known placeholder", path.join(".")))
                                .at(&s.source, span, "unknown placeholder")
                                .help("placeholders are `${resources.NAME.KEY}`, `${metadata.name}`, `${environment.name}` and `${environment.domain}`; write `$${` for a literal `${`"),
                        );
                    }
                }
            }
            // A value with a credential's shape is reported by `free_text`.
            if all_literal
                && is_credential_name(key)
                && !value.is_empty()
                && credentials::find_in_text(value).is_none()
            {
                self.literal_secret(&ptr, key, node.span);
            }
            let _ = key_span;
        }
    }

    fn literal_secret(&mut self, pointer: &str, key: &str, span: Span) {
        let s = self.s;
        let mut d = Diagnostic::error(codes::SECRETS_LITERAL, format!("`{key}` looks like a secret but has a literal value"))
            .at(&s.source, span, "a secret in plain text ends up in Git and in the cluster")
            .help(format!(
                "read it from the platform's secret store instead:\n  secrets:\n    - {{env: {key}, ref: \"{}\"}}\nand remove it from `env`",
                fixes::secret_ref(s.name(), key),
            ));
        if fixes::movable(s, pointer, key) {
            d = d.field("fix", fixes::move_to_secrets(s.name(), pointer, key));
        }
        self.err(d);
    }

    /// A credential by its shape anywhere a user writes text: env values,
    /// `args` and `command`, the description, links, a waiver's reason. The
    /// finding points at the credential itself inside the value.
    fn free_text(&mut self) {
        let s = self.s;
        let mut found = Vec::new();
        strings(&s.doc, &mut String::new(), &mut found);
        for (path, node, value) in found {
            let Some((range, kind)) = credentials::find_in_text(value) else {
                continue;
            };
            let raw = &s.source.text[node.span.start..node.span.end];
            let map = offset_map(raw);
            let span = if map.len() == value.len() + 1 {
                Span::new(
                    node.span.start + map[range.start],
                    node.span.start + map[range.end],
                )
            } else {
                node.span
            };
            let env = path.starts_with("spec.env.") || path.contains(".env.");
            let mut d = Diagnostic::error(
                codes::SECRETS_LITERAL,
                format!("`{path}` holds {} in plain text", kind.describe()),
            )
            .at(&s.source, span, "a credential in plain text ends up in Git and in the cluster")
            .help(if env {
                "read it from the platform's secret store with `spec.secrets` (`{env: NAME, ref: \"path#key\"}`) and remove it from `env`".to_string()
            } else {
                "remove it and rotate it; credentials come from the platform's secret store through `spec.secrets`, and `args` and `command` can read one as `$(NAME)`".to_string()
            });
            if let Some((pointer, var)) =
                fixes::env_entry(&path).filter(|(p, v)| fixes::movable(s, p, v))
            {
                d = d.field("fix", fixes::move_to_secrets(s.name(), &pointer, &var));
            }
            self.err(d);
        }
    }

    fn secrets(&mut self) {
        let s = self.s;
        for (i, sec) in s.spec.secrets.iter().enumerate() {
            if s.spec.env.contains_key(&sec.env) {
                let span = self.span(&format!("/spec/secrets/{i}/env"));
                let espan = self.key(&format!("/spec/env/{}", esc(&sec.env)));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_DUPLICATE_ENV,
                        format!("`{}` is set both in `env` and in `secrets`", sec.env),
                    )
                    .at(&s.source, span, "from the secret store")
                    .also(&s.source, espan, "and as a value")
                    .help("keep one of them"),
                );
            }
            if let Some(j) = s.spec.secrets[..i].iter().position(|o| o.env == sec.env) {
                let span = self.span(&format!("/spec/secrets/{i}/env"));
                let fspan = self.span(&format!("/spec/secrets/{j}/env"));
                self.err(
                    Diagnostic::error(
                        codes::SEMANTIC_DUPLICATE_ENV,
                        format!("`{}` is listed twice in `secrets`", sec.env),
                    )
                    .at(&s.source, span, "again here")
                    .also(&s.source, fspan, "first here")
                    .help("keep one of them"),
                );
            }
        }
    }

    fn resource_parameters(&mut self) {
        let s = self.s;
        let mut found: Vec<(String, &str, &str)> = Vec::new();
        for (name, r) in &s.spec.resources {
            for field in r.parameters_set() {
                found.push((
                    format!("/spec/resources/{}/{field}", esc(name)),
                    field,
                    &r.kind,
                ));
            }
        }
        if let Some(envs) = &s.spec.environments {
            for (env, o) in envs {
                for name in o.resources.keys() {
                    if let Some(r) = s.spec.resources.get(name) {
                        found.push((
                            format!(
                                "/spec/environments/{}/resources/{}/storageGB",
                                esc(env),
                                esc(name)
                            ),
                            "storageGB",
                            &r.kind,
                        ));
                    }
                }
            }
        }
        for (ptr, field, kind) in found {
            let allowed = resource_types::parameters(kind);
            if allowed.contains(&field) {
                continue;
            }
            let span = self.key(&ptr);
            self.err(
                Diagnostic::error(
                    codes::SEMANTIC_NOT_FOR_RESOURCE_TYPE,
                    format!("`{field}` does not apply to a {kind} resource"),
                )
                .at(&s.source, span, format!("a {kind} has no {field}"))
                .help(format!(
                    "remove `{field}`; a {kind} takes {}",
                    allowed.join(", ")
                )),
            );
        }
    }

    fn waivers(&mut self) {
        let s = self.s;
        let Some(sec) = &s.spec.security else { return };
        for field in sec.relaxed_fields() {
            if self.platform.waivers.forbid.iter().any(|f| f == field) {
                let span = self.key(&format!("/spec/security/{field}"));
                self.err(
                    Diagnostic::error(codes::POLICY_WAIVER_FORBIDDEN, format!("this platform does not allow waiving `{field}`"))
                        .at(&s.source, span, "waiver forbidden by paved.yaml")
                        .help("fix the image instead (see docs/resources.md for the hardening defaults), or ask the platform team"),
                );
            }
        }
    }
}

/// Maps each byte offset of a scalar's value to its byte offset in the
/// scalar's source text, through quotes and escapes, so a placeholder error
/// points at the exact column even after `\n` or `''` in the string.
fn offset_map(raw: &str) -> Vec<usize> {
    let mut map = Vec::with_capacity(raw.len() + 1);
    let quote = raw.chars().next().filter(|c| *c == '"' || *c == '\'');
    if quote.is_none() && !raw.contains(['\n', '\r']) {
        map.extend(0..=raw.len());
        return map;
    }
    // Quoted text starts after its quote; plain text at 0.
    let skip = usize::from(quote.is_some());
    let body = &raw[skip..];
    let mut chars = body.char_indices().peekable();
    let push = |map: &mut Vec<usize>, src: usize, decoded_len: usize| {
        for _ in 0..decoded_len {
            map.push(skip + src);
        }
    };
    // After a line break YAML folds: trailing blanks go, the next line's
    // indentation goes, and the break becomes one space (or `\n` per empty line).
    let fold = |map: &mut Vec<usize>,
                chars: &mut std::iter::Peekable<std::str::CharIndices>,
                at: usize| {
        while map
            .last()
            .is_some_and(|&m| matches!(raw.as_bytes().get(m), Some(b' ' | b'\t')))
        {
            map.pop();
        }
        let mut empty_lines = 0;
        while let Some(&(j, c)) = chars.peek() {
            match c {
                ' ' | '\t' | '\r' => {
                    chars.next();
                }
                '\n' => {
                    chars.next();
                    push(map, j, 1);
                    empty_lines += 1;
                }
                _ => break,
            }
        }
        if empty_lines == 0 {
            push(map, at, 1);
        }
    };
    while let Some((i, c)) = chars.next() {
        if Some(c) == quote && c == '\'' && chars.peek().map(|p| p.1) == Some('\'') {
            chars.next();
            push(&mut map, i, 1);
        } else if Some(c) == quote {
            break;
        } else if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek().map(|p| p.1) == Some('\n') {
                chars.next();
            }
            fold(&mut map, &mut chars, i);
        } else if c == '\\' && quote == Some('"') {
            let Some((_, e)) = chars.next() else { break };
            let decoded = match e {
                // An escaped line break joins the lines with nothing between.
                '\n' | '\r' => {
                    while chars
                        .peek()
                        .is_some_and(|p| matches!(p.1, ' ' | '\t' | '\n' | '\r'))
                    {
                        chars.next();
                    }
                    continue;
                }
                'x' => char_from_hex(&mut chars, 2),
                'u' => char_from_hex(&mut chars, 4),
                'U' => char_from_hex(&mut chars, 8),
                _ => '?',
            };
            push(&mut map, i, decoded.len_utf8());
        } else {
            push(&mut map, i, c.len_utf8());
        }
    }
    map.push(raw.len().saturating_sub(skip));
    map
}

fn char_from_hex(chars: &mut std::iter::Peekable<std::str::CharIndices>, n: usize) -> char {
    let hex: String = (0..n).filter_map(|_| chars.next().map(|c| c.1)).collect();
    u32::from_str_radix(&hex, 16)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('?')
}

/// The `spec.resources` fields each resource type takes besides `type`; the
/// table is `resource_types::RESOURCE_TYPES` (kept here under its old name
/// for the integration tests that call it).
pub use crate::resource_types::parameters as resource_parameters;

/// Every string of a tree, with its path as shown (`spec.args[1]`).
fn strings<'n>(node: &'n Node, path: &mut String, out: &mut Vec<(String, &'n Node, &'n str)>) {
    match &node.value {
        crate::load::Value::Str(v) => out.push((path.clone(), node, v)),
        crate::load::Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                strings(item, path, out);
                path.truncate(len);
            }
        }
        crate::load::Value::Map(entries) => {
            for e in entries {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&e.key);
                strings(&e.value, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both parts over every service, as `app` runs them.
    fn check(
        platform: &Platform,
        services: &[Service],
        broken: &BTreeMap<String, String>,
        blueprints: &[&str],
    ) -> Vec<Diagnostic> {
        let own = Own::new(platform, blueprints);
        let mut out: Vec<Diagnostic> = services.iter().flat_map(|s| own.check(s)).collect();
        pin_tag_fixes(services, &mut out);
        out.extend(across(platform, services, broken));
        out
    }

    #[test]
    fn latency_thresholds_are_compared_with_buckets_exactly() {
        use crate::model::OTEL_HTTP_BUCKETS as otel;
        for ms in [5, 75, 100, 250, 500, 750, 1000, 2500, 7500, 10000] {
            assert_eq!(bucket_of(ms, &otel), Ok(()), "{ms}");
        }
        // 0.3 and 300/1000 are the same double, although neither is exact.
        assert_eq!(bucket_of(300, &[0.1, 0.3]), Ok(()));
        assert_eq!(bucket_of(1, &[0.001]), Ok(()));
        // A bound a hair away is another `le` text: no match.
        assert_eq!(
            bucket_of(300, &[0.30000000000000004]),
            Err((None, Some(0.30000000000000004)))
        );
        assert_eq!(bucket_of(400, &otel), Err((Some(0.25), Some(0.5))));
        assert_eq!(bucket_of(1, &otel), Err((None, Some(0.005))));
        assert_eq!(bucket_of(20000, &otel), Err((Some(10.0), None)));
        let ms: Vec<String> = otel.iter().map(|b| ms_text(*b)).collect();
        assert_eq!(
            ms,
            [
                "5", "10", "25", "50", "75", "100", "250", "500", "750", "1000", "2500", "5000",
                "7500", "10000"
            ]
        );
        assert_eq!(ms_text(0.0001), "0.1");
        assert_eq!(ms_text(0.0125), "12.5");
        assert_eq!(ms_text(86400.0), "86400000");
    }

    #[test]
    fn offsets_follow_escapes() {
        // value `a<LF>b${x}`: `$` is value byte 3, source byte 5 (after `"a\nb`).
        assert_eq!(offset_map(r#""a\nb${x}""#)[3], 5);
        assert_eq!(offset_map("'it''s ${x}'")[5], 7);
        assert_eq!(offset_map("plain ${x}")[6], 6);
    }

    /// A bad-input case's services and platform, as `app::compile` loads
    /// them from a copy of the case (a workspace of its own).
    fn load(case: &str) -> (Platform, Vec<Service>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/invalid")
            .join(case);
        let copy = tempfile::tempdir().unwrap();
        for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
            let dest = copy.path().join(e.path().strip_prefix(&dir).unwrap());
            if e.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(e.path(), &dest).unwrap();
            }
        }
        let inputs = crate::app::Inputs {
            paths: vec![copy.path().to_path_buf()],
            ..Default::default()
        };
        let c = crate::app::compile(&inputs, false).unwrap();
        (c.platform.unwrap(), c.services)
    }

    /// Everything a finding says, for comparing two runs.
    fn shown(mut d: Vec<Diagnostic>) -> Vec<String> {
        crate::diag::sort(&mut d);
        d.iter()
            .map(|d| {
                let also: Vec<String> = d
                    .secondary
                    .iter()
                    .map(|l| format!("{} {:?} {}", l.source.name, l.span, l.text))
                    .collect();
                format!(
                    "{} {:?} {:?} {} {:?} {also:?}",
                    d.code,
                    d.file().map(|f| &f.name),
                    d.line_col(),
                    d.message,
                    d.primary.as_ref().map(|l| &l.text)
                )
            })
            .collect()
    }

    #[test]
    fn collisions_do_not_depend_on_the_order_specs_are_found_in() {
        for case in [
            "collision-argocd-application",
            "collision-namespace",
            "collision-catalog-resource",
        ] {
            let (platform, mut services) = load(case);
            assert_eq!(services.len(), 2, "{case}");
            let none = BTreeMap::new();
            let one = shown(check(&platform, &services, &none, &[]));
            services.reverse();
            let other = shown(check(&platform, &services, &none, &[]));
            assert_eq!(one.len(), 1, "{case}: {one:?}");
            assert_eq!(one, other, "{case}");
        }
    }

    #[test]
    fn reference_images_are_the_ones_the_compositions_pull() {
        let texts: String = crate::render::builtin()
            .iter()
            .filter(|(p, _)| p.starts_with("_partials/compositions/"))
            .map(|(_, t)| t.to_string())
            .collect();
        let pulled = texts.matches("image: {{ printf \"%s/").count();
        assert_eq!(
            pulled,
            REFERENCE_IMAGES.len(),
            "an image was added or removed"
        );
        for image in REFERENCE_IMAGES {
            assert!(
                texts.contains(&format!("\"%s/{image}:")),
                "the reference Compositions no longer pull {image}"
            );
        }
    }

    #[test]
    fn reserved_folders_come_from_the_blueprints() {
        let folders = crate::render::layout::environment_folders(&[
            "environment/mesh/gateway.yaml",
            "service/_x/y.yaml",
            "service/z.yaml",
        ]);
        let names: Vec<&str> = folders.keys().map(String::as_str).collect();
        assert_eq!(names, ["argocd", "mesh"]);
        assert_eq!(folders["argocd"], "service/argocd/application.yaml");
    }
}
