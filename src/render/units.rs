//! The unit driver: rendering split into independent units of work.
//!
//! A unit is one service in one environment, one environment, the platform,
//! or one service's catalog entry. Each unit's output depends only on the
//! resolved model, so units render in parallel (both cores) and in any order,
//! and the result is assembled in unit order, which keeps output
//! deterministic.
//!
//! Units also let `render` and `check` work without holding the whole output
//! in memory: a first pass renders and checks every unit but keeps only a
//! [`Digest`] (path, length, hash) of each file — and the content itself while
//! it fits a fixed budget. A folder that is already up to date is then
//! confirmed from the digests alone; otherwise only the units whose files
//! differ are rendered again to be written or shown. Memory stays flat
//! however large the fleet.
//!
//! Architecture invariant: no file system access; `emit` writes.

use crate::codes;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;
use serde::Serialize;

use super::env::{Blueprints, Scope};
use super::layout;
use crate::diag::Diagnostic;
use crate::emit::{digest, Digest, OutFile, Planned};
use crate::model::{Instance, Platform, Service};
use crate::normalize::{self, Doc};
use crate::source::{SourceRef, Span};

/// Per-team facts for platform-wide blueprints (Argo CD projects).
#[derive(Serialize)]
struct Team {
    name: String,
    /// The team's SSO group (paved.yaml `teams.<name>.group`, else its name).
    group: String,
    /// The team's namespaces, sorted, each once.
    namespaces: Vec<String>,
    /// Where its instances run, in instance order: what an Argo CD project
    /// allows. Platform blueprints read this instead of looping over every
    /// instance once per team.
    destinations: Vec<Destination>,
}

/// A Backstage Group or System for the platform-wide catalog file.
#[derive(Serialize)]
struct CatalogEntity {
    name: String,
    /// The owning team (Systems).
    owner: String,
    /// The services it owns or groups, in name order.
    services: Vec<String>,
    /// The team with its paved.yaml settings (Groups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<crate::model::ResolvedTeam>,
}

/// What a service's catalog file links to, computed from the workspace.
#[derive(Serialize)]
struct ServiceCatalog {
    /// `providesApis`, then the `apis` names it does not list.
    provides: Vec<String>,
    /// The APIs its dependencies provide, in dependency order.
    consumes: Vec<String>,
    /// One per provided API.
    apis: Vec<CatalogApi>,
    /// `backstage.io/source-location`, when the repository is known.
    source_location: Option<String>,
    /// `backstage.io/techdocs-ref`, when docs sit beside the spec.
    techdocs_ref: Option<String>,
}

/// What the portal's template needs to know of the repository.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScaffoldContext {
    /// The folder most specs sit in, relative to the workspace root (empty:
    /// the root): where a new service's folder goes.
    folder: String,
    /// The specs' repository (`catalog.sourceURL`, else `gitops.repoURL`)
    /// as a RepoUrlPicker value (`github.com?owner=O&repo=R`), when it is
    /// on GitHub.
    repo_url: Option<String>,
}

impl ScaffoldContext {
    fn new<'s>(p: &Platform, services: impl Iterator<Item = &'s &'s Service>) -> ScaffoldContext {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for s in services {
            let folder = crate::model::spec_folder(&s.origin);
            let parent = folder.rsplit_once('/').map_or("", |(p, _)| p);
            *count.entry(parent.to_string()).or_default() += 1;
        }
        // The most common parent folder; the first by name on a tie.
        let folder = count
            .iter()
            .fold((String::new(), 0), |best, (f, n)| {
                if *n > best.1 {
                    (f.clone(), *n)
                } else {
                    best
                }
            })
            .0;
        // The repository holding the specs: `catalog.sourceURL` when they
        // have their own, else the GitOps one (docs/catalog.md).
        let specs_repo = p
            .catalog
            .source_url
            .as_deref()
            .unwrap_or(&p.gitops.repo_url);
        let repo_url = specs_repo
            .strip_prefix("https://github.com/")
            .map(|r| r.trim_end_matches('/').trim_end_matches(".git"))
            .and_then(|r| r.split_once('/'))
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .map(|(o, r)| format!("github.com?owner={o}&repo={r}"));
        // A folder name the scaffolder would read as an expression or a
        // template tag is not offered: the new service goes to the root.
        let folder = if ["${{", "{{", "{%", "{#"].iter().any(|m| folder.contains(m)) {
            String::new()
        } else {
            folder
        };
        ScaffoldContext { folder, repo_url }
    }
}

#[derive(Serialize)]
struct CatalogApi {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    /// The `$text` placeholder's target; `None`: no definition file.
    definition: Option<String>,
}

/// One environment as the platform's bootstrap sees it.
#[derive(Serialize)]
struct EnvironmentSummary {
    name: String,
    cluster: String,
    /// How many services run there: an environment without any has no
    /// `DIR/<env>/argocd/` folder to sync.
    services: usize,
}

/// One cluster the environments run on, with the environments there in
/// config order: the cluster-wide platform objects are synced once per
/// cluster, however many environments share it.
#[derive(Serialize)]
struct Cluster {
    cluster: String,
    environments: Vec<String>,
}

#[derive(Serialize)]
struct Destination {
    cluster: String,
    namespace: String,
}

/// One independent piece of rendering work.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    /// `service/` blueprints for one instance (index into the instances).
    Instance(usize),
    /// `environment/` blueprints for one environment (index into the platform's).
    Environment(usize),
    /// `platform/` blueprints.
    Platform,
    /// `catalog/` blueprints for one service (index into the catalog groups).
    Catalog(usize),
    /// `catalog/<sub>/` blueprints: the platform-wide entities (Groups,
    /// Systems), in `DIR/catalog/_platform.yaml`.
    CatalogPlatform,
}

/// The units of one render, with what they share computed once.
pub struct Units<'a> {
    platform: &'a Platform,
    services: &'a [Service],
    instances: &'a [Instance],
    bps: &'a Blueprints,
    /// The blueprints with line marks (`trace`), made on the first policy
    /// finding in an instance, to point findings at the line that wrote
    /// the field.
    marked: OnceLock<Blueprints>,
    /// Each blueprint's text by name, where policy findings point.
    texts: BTreeMap<&'a str, &'a SourceRef>,
    platform_v: minijinja::Value,
    /// paved.yaml's prices as PromQL literals (`cost::Prices`), or none:
    /// `cost` in `service/` blueprints (the dashboards' cost panels).
    prices_v: minijinja::Value,
    /// Argo CD teams and resource types, for the platform unit.
    teams: Vec<Team>,
    environments: Vec<EnvironmentSummary>,
    clusters: Vec<Cluster>,
    resource_types: Vec<&'a str>,
    /// Service name → its instances, in name order.
    catalog: Vec<(&'a str, Vec<&'a Instance>)>,
    by_name: HashMap<&'a str, &'a Service>,
    /// Owner teams and systems, for the platform-wide catalog unit.
    groups: Vec<CatalogEntity>,
    systems: Vec<CatalogEntity>,
    pub list: Vec<Unit>,
}

/// The first pass's result for one unit: its digests, and its files while
/// they fitted the memory budget. As [`Planned`] output, it gives its files
/// from the cache or renders the unit again.
pub struct Rendered<'u> {
    units: &'u Units<'u>,
    pub unit: Unit,
    pub digests: Vec<Digest>,
    cached: Mutex<Option<Vec<OutFile>>>,
}

impl Planned for Rendered<'_> {
    fn digests(&self) -> &[Digest] {
        &self.digests
    }

    fn files(&self) -> Vec<OutFile> {
        let cached = self.cached.lock().ok().and_then(|mut c| c.take());
        cached.unwrap_or_else(|| self.units.render(self.unit).0)
    }
}

/// Which services and environments a run renders; platform-wide units
/// always render, since they reflect the whole workspace.
#[derive(Debug, Clone, Default)]
pub struct Select {
    /// Names of the selected services; `None`: all.
    pub services: Option<std::collections::BTreeSet<String>>,
    /// Names of the selected environments; `None`: all.
    pub envs: Option<std::collections::BTreeSet<String>>,
    /// A preview (`render --preview`): its services and environment only,
    /// no platform-wide or catalog units (the main render has those).
    pub preview: bool,
}

impl Select {
    fn service(&self, name: &str) -> bool {
        self.services.as_ref().is_none_or(|s| s.contains(name))
    }

    fn env(&self, name: &str) -> bool {
        self.envs.as_ref().is_none_or(|e| e.contains(name))
    }
}

/// Any serialisable model value as a template value.
/// What blueprints see as `platform`: paved.yaml with its defaults, and what
/// is computed from it (`exemptNamespaces`, `Platform::exempt_namespaces`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlatformView<'a> {
    #[serde(flatten)]
    platform: &'a Platform,
    exempt_namespaces: Vec<String>,
}

fn val<T: Serialize>(v: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(v))
}

/// A list of instances that becomes template values one item at a time, as
/// a blueprint reaches it. Platform and environment blueprints get every
/// instance as `services`; converted all at once, 5000 services took more
/// than 150 MB of template values, most of which no blueprint ever reads.
#[derive(Debug)]
struct InstanceList(Vec<Instance>);

impl minijinja::value::Object for InstanceList {
    fn repr(self: &std::sync::Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Seq
    }

    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        self.0.get(key.as_usize()?).map(val)
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Seq(self.0.len())
    }
}

fn lazy_list<'i>(instances: impl IntoIterator<Item = &'i Instance>) -> minijinja::Value {
    minijinja::Value::from_object(InstanceList(instances.into_iter().cloned().collect()))
}

impl<'a> Units<'a> {
    pub fn new(
        platform: &'a Platform,
        services: &'a [Service],
        instances: &'a [Instance],
        bps: &'a Blueprints,
        select: &Select,
    ) -> Units<'a> {
        let platform_v = val(PlatformView {
            platform,
            exempt_namespaces: platform.exempt_namespaces().into_keys().collect(),
        });
        let prices_v = val(crate::cost::prices(platform));
        let mut teams: BTreeMap<&str, Team> = BTreeMap::new();
        for i in instances {
            let team = teams.entry(&i.owner).or_insert_with(|| Team {
                name: i.owner.clone(),
                group: i.team.group.clone(),
                namespaces: Vec::new(),
                destinations: Vec::new(),
            });
            team.namespaces.push(i.namespace.clone());
            team.destinations.push(Destination {
                cluster: i.environment.cluster.clone(),
                namespace: i.namespace.clone(),
            });
        }
        // Each service's namespaces in any preview (`paved render --preview`),
        // so the team's project accepts the preview's Applications.
        if let Some(cfg) = &platform.previews {
            let cluster = cfg.cluster.clone().or_else(|| {
                platform
                    .environments
                    .get(&cfg.from)
                    .map(|e| e.cluster.clone())
            });
            let mut seen = std::collections::BTreeSet::new();
            for (i, cluster) in instances
                .iter()
                .filter(|i| i.environment.name == cfg.from && i.environment.preview.is_none())
                .filter_map(|i| cluster.as_ref().map(|c| (i, c)))
            {
                if !seen.insert(&i.name) {
                    continue;
                }
                if let Some(team) = teams.get_mut(i.owner.as_str()) {
                    team.destinations.push(Destination {
                        cluster: cluster.clone(),
                        namespace: crate::model::preview::namespace_glob(cfg, &i.name),
                    });
                }
            }
        }
        let teams: Vec<Team> = teams
            .into_values()
            .map(|mut team| {
                team.namespaces.sort();
                team.namespaces.dedup();
                team
            })
            .collect();
        let environments: Vec<EnvironmentSummary> = platform
            .environments
            .values()
            .map(|e| EnvironmentSummary {
                name: e.name.clone(),
                cluster: e.cluster.clone(),
                services: instances
                    .iter()
                    .filter(|i| i.environment.name == e.name)
                    .count(),
            })
            .collect();
        let mut clusters: Vec<Cluster> = Vec::new();
        for e in platform.environments.values() {
            match clusters.iter_mut().find(|c| c.cluster == e.cluster) {
                Some(c) => c.environments.push(e.name.clone()),
                None => clusters.push(Cluster {
                    cluster: e.cluster.clone(),
                    environments: vec![e.name.clone()],
                }),
            }
        }
        let mut resource_types: Vec<&str> = services
            .iter()
            .flat_map(|s| s.spec.resources.values().map(|r| r.kind.as_str()))
            .collect();
        resource_types.sort_unstable();
        resource_types.dedup();
        let mut by_service: BTreeMap<&str, Vec<&Instance>> = BTreeMap::new();
        for i in instances {
            by_service.entry(i.name.as_str()).or_default().push(i);
        }
        let catalog: Vec<(&str, Vec<&Instance>)> = by_service.into_iter().collect();
        // The platform unit first: its context (every instance) is the largest
        // of a run and is freed before the first pass's cache fills up.
        let mut list: Vec<Unit> = match select.preview {
            true => Vec::new(),
            false => vec![Unit::Platform],
        };
        list.extend(
            instances
                .iter()
                .enumerate()
                .filter(|(_, i)| select.service(&i.name) && select.env(&i.environment.name))
                .map(|(n, _)| Unit::Instance(n)),
        );
        list.extend(
            platform
                .environments
                .values()
                .enumerate()
                .filter(|(_, e)| select.env(&e.name))
                .map(|(n, _)| Unit::Environment(n)),
        );
        if !select.preview {
            list.extend(
                catalog
                    .iter()
                    .enumerate()
                    .filter(|(_, (name, _))| select.service(name))
                    .map(|(n, _)| Unit::Catalog(n)),
            );
            list.push(Unit::CatalogPlatform);
        }
        let by_name = services.iter().map(|s| (s.name(), s)).collect();
        let (groups, systems) = catalog_entities(platform, services);
        let texts = bps
            .files
            .iter()
            .map(|b| (b.name.as_str(), &b.source))
            .collect();
        Units {
            platform,
            services,
            marked: OnceLock::new(),
            by_name,
            instances,
            bps,
            texts,
            platform_v,
            prices_v,
            teams,
            environments,
            clusters,
            resource_types,
            catalog,
            groups,
            systems,
            list,
        }
    }

    /// The catalog links of one service (docs/catalog.md).
    fn service_catalog(&self, insts: &[&Instance]) -> Option<ServiceCatalog> {
        let s = self.by_name.get(insts.first()?.name.as_str())?;
        let provides = provided_apis(s);
        let mut consumes: Vec<String> = Vec::new();
        for i in insts {
            for d in &i.dependencies {
                if let Some(dep) = self.by_name.get(d.name.as_str()) {
                    for api in provided_apis(dep) {
                        if !consumes.contains(&api) {
                            consumes.push(api);
                        }
                    }
                }
            }
        }
        let links = SourceLinks::new(self.platform);
        let folder = crate::model::spec_folder(&s.origin);
        let apis = provides
            .iter()
            .map(|name| {
                let entry = s.spec.apis.iter().find(|a| &a.name == name);
                CatalogApi {
                    name: name.clone(),
                    kind: entry.map_or_else(|| "unspecified".to_string(), |a| a.kind.clone()),
                    definition: entry
                        .and_then(|a| a.definition.as_deref())
                        .and_then(|d| crate::model::definition_path(&s.origin, d))
                        .map(|rel| links.file(&rel)),
                }
            })
            .collect();
        Some(ServiceCatalog {
            provides,
            consumes,
            apis,
            source_location: links.source_location(folder),
            techdocs_ref: s.beside.techdocs.then(|| links.folder(folder)),
        })
    }

    /// The portal's Software Templates (docs/catalog.md): each
    /// `catalog/templates/<name>.yaml` blueprint to
    /// `DIR/catalog/templates/<name>.yaml`, and the skeleton its steps fetch,
    /// the starter spec of `paved init` with placeholders, to
    /// `DIR/catalog/templates/<name>/skeleton/platform.yaml`.
    fn catalog_templates(&self) -> (Vec<OutFile>, Vec<Diagnostic>) {
        let sizes: Vec<String> = self.platform.sizes.keys().cloned().collect();
        let ctx = minijinja::context! {
            platform => self.platform_v.clone(),
            teams => val(self.platform.teams.keys().collect::<Vec<_>>()),
            sizes => val(&sizes),
            scaffold => val(ScaffoldContext::new(self.platform, self.by_name.values())),
        };
        let origin = crate::emit::header::PLATFORM_WIDE;
        let mut files = Vec::new();
        let mut diags = Vec::new();
        for bp in self
            .bps
            .of_scope(Scope::Catalog)
            .filter(|b| b.sub_folder() == layout::CATALOG_TEMPLATES)
        {
            let (docs, d) = render_one(
                self.bps,
                bp,
                &ctx,
                "the portal's templates",
                self.xr_group(),
            );
            diags.extend(d);
            if docs.is_empty() {
                continue;
            }
            let Some(stem) = bp
                .name
                .rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".yaml"))
            else {
                continue;
            };
            let values: Vec<&serde_json::Value> = docs.iter().map(|d| &d.value).collect();
            files.push(OutFile {
                path: layout::catalog_template_file(stem),
                content: layout::file_text(origin, &values),
            });
            files.push(OutFile {
                path: layout::catalog_skeleton_file(stem),
                content: crate::emit::header::template_line(origin)
                    + &crate::scaffold::skeleton(&sizes),
            });
        }
        (files, diags)
    }

    /// The API group of the platform's composite resources (their sync wave).
    fn xr_group(&self) -> &'a str {
        &self.platform.crossplane.api_group
    }

    /// What a `service/` blueprint sees for one instance.
    fn instance_context(&self, inst: &Instance) -> minijinja::Value {
        minijinja::context! {
            service => val(inst),
            environment => val(&inst.environment),
            platform => self.platform_v.clone(),
            cost => self.prices_v.clone(),
        }
    }

    /// Where a policy finding on the field at `pointer` of `doc`, rendered
    /// for instance `i`, points: the blueprint line that wrote the field and
    /// the spec line of its value (`trace::locate`). The instance is
    /// rendered once with marked blueprints, on its first finding
    /// (`objects` keeps it); a unit without findings never is.
    fn traced_location(
        &self,
        i: usize,
        objects: &mut Option<Vec<(String, super::trace::Traced)>>,
        doc: &Doc,
        pointer: &str,
    ) -> Option<crate::policy::Located> {
        let inputs = super::trace::Inputs {
            platform: self.platform,
            services: self.services,
            instances: self.instances,
            blueprints: self.bps,
            config: None,
            builtin: None,
        };
        let objects = objects.get_or_insert_with(|| {
            let marked = self.marked.get_or_init(|| self.bps.instrumented(false));
            super::trace::objects(&inputs, self, marked, i)
        });
        let (_, t) = objects.iter().find(|(bp, t)| {
            *bp == doc.blueprint
                && t.resource.kind == doc.kind
                && t.resource.name == doc.name
                && t.resource.namespace == doc.namespace
        })?;
        let (at, value) = super::trace::locate(&inputs, t, pointer)?;
        Some(crate::policy::Located {
            blueprint: (at.0, at.1),
            value: value.map(|v| (v.0, v.1)),
        })
    }

    /// The text every `service/` blueprint renders for instance `i` with
    /// `bps` (the instrumented set, for `trace`), before it is read back.
    pub(crate) fn raw_instance<'b>(
        &self,
        bps: &'b Blueprints,
        i: usize,
    ) -> Vec<(&'b super::env::Blueprint, Result<String, Box<Diagnostic>>)> {
        let Some(inst) = self.instances.get(i) else {
            return vec![];
        };
        let ctx = self.instance_context(inst);
        let what = format!("service `{}` in {}", inst.name, inst.environment.name);
        bps.of_scope(Scope::Service)
            .map(|bp| (bp, bps.render(bp, &ctx, &what)))
            .collect()
    }

    /// Renders one unit into files (sorted by path), with its findings.
    pub fn render(&self, unit: Unit) -> (Vec<OutFile>, Vec<Diagnostic>) {
        let (bps, platform) = (self.bps, self.platform);
        let (mut files, diags) = match unit {
            Unit::Instance(i) => {
                let inst = &self.instances[i];
                let what = format!("service `{}` in {}", inst.name, inst.environment.name);
                let ctx = self.instance_context(inst);
                let folder = layout::service_folder(&inst.environment.folder, &inst.name);
                // `service/*.yaml` goes to the service's folder; `service/<sub>/*.yaml`
                // (e.g. the Argo CD Application) to `DIR/<env>/<sub>/`, outside
                // the folder that Application syncs.
                let (docs, mut d) = render_scope(
                    bps,
                    bps.of_scope(Scope::Service)
                        .filter(|b| b.sub_folder().is_empty()),
                    true,
                    &ctx,
                    &what,
                    self.xr_group(),
                );
                let rendered =
                    self.by_name
                        .get(inst.name.as_str())
                        .map(|service| crate::policy::Rendered {
                            service,
                            environment: &inst.environment.name,
                        });
                // The Gatekeeper rules at compile time; pointed at the spec or
                // blueprint: the traced line that wrote the field at fault.
                let mut traced = None;
                let mut locate =
                    |doc: &Doc, pointer: &str| self.traced_location(i, &mut traced, doc, pointer);
                let policy = crate::policy::check_located(
                    platform,
                    &docs,
                    &self.texts,
                    rendered,
                    &mut locate,
                );
                let mut out = layout::files(&folder, &inst.source, docs);
                if d.is_empty() && !out.is_empty() {
                    out.push(layout::kustomization(&folder, &inst.source, &out));
                }
                d.extend(policy);
                for bp in bps
                    .of_scope(Scope::Service)
                    .filter(|b| !b.sub_folder().is_empty())
                {
                    let (docs, e) = render_one(bps, bp, &ctx, &what, self.xr_group());
                    d.extend(e);
                    d.extend(crate::policy::check_located(
                        platform,
                        &docs,
                        &self.texts,
                        rendered,
                        &mut locate,
                    ));
                    let folder = layout::join(&inst.environment.folder, &bp.sub_folder());
                    out.extend(layout::files(&folder, &inst.source, docs));
                }
                (out, d)
            }
            Unit::Environment(e) => {
                let Some((_, env)) = platform.environments.get_index(e) else {
                    return (vec![], vec![]);
                };
                let here = self
                    .instances
                    .iter()
                    .filter(|i| i.environment.name == env.name);
                let ctx = minijinja::context! {
                    environment => val(env),
                    services => lazy_list(here),
                    platform => self.platform_v.clone(),
                };
                let what = format!("environment {}", env.name);
                let mut files = Vec::new();
                let mut diags = Vec::new();
                for bp in bps.of_scope(Scope::Environment) {
                    let (docs, d) = render_one(bps, bp, &ctx, &what, self.xr_group());
                    diags.extend(d);
                    diags.extend(crate::policy::check(platform, &docs, &self.texts, None));
                    let folder =
                        layout::join(env.folder.as_deref().unwrap_or(&env.name), &bp.sub_folder());
                    files.extend(layout::files(
                        &folder,
                        crate::emit::header::PLATFORM_WIDE,
                        docs,
                    ));
                }
                (files, diags)
            }
            Unit::Platform => {
                // Built here, not kept: every instance as template values is
                // the largest context of a run, and only this unit needs it.
                let ctx = minijinja::context! {
                    platform => self.platform_v.clone(),
                    services => lazy_list(self.instances),
                    teams => val(&self.teams),
                    environments => val(&self.environments),
                    clusters => val(&self.clusters),
                    resource_types => val(&self.resource_types),
                    connection_keys => val(crate::model::connection_keys_by_type()),
                };
                let mut files = Vec::new();
                let mut diags = Vec::new();
                for bp in bps.of_scope(Scope::Platform) {
                    let (docs, d) = render_one(bps, bp, &ctx, "the platform", self.xr_group());
                    diags.extend(d);
                    diags.extend(crate::policy::check(platform, &docs, &self.texts, None));
                    files.extend(layout::files(
                        &layout::join(layout::PLATFORM, &bp.sub_folder()),
                        crate::emit::header::PLATFORM_WIDE,
                        docs,
                    ));
                }
                if diags.is_empty() {
                    let kustomizations =
                        layout::platform_kustomizations(crate::emit::header::PLATFORM_WIDE, &files);
                    files.extend(kustomizations);
                }
                (files, diags)
            }
            Unit::Catalog(c) => {
                let (name, insts) = &self.catalog[c];
                let ctx = minijinja::context! {
                    service => val(insts[0]),
                    instances => val(insts),
                    platform => self.platform_v.clone(),
                };
                let ctx = minijinja::context! {
                    catalog => val(self.service_catalog(insts)),
                    cost => val(crate::cost::catalog(platform, insts)),
                    ..ctx
                };
                let what = format!("service `{name}`");
                let (docs, d) = render_scope(
                    bps,
                    bps.of_scope(Scope::Catalog)
                        .filter(|b| b.sub_folder().is_empty()),
                    false,
                    &ctx,
                    &what,
                    self.xr_group(),
                );
                let mut files = Vec::new();
                if !docs.is_empty() {
                    let values: Vec<&serde_json::Value> = docs.iter().map(|d| &d.value).collect();
                    files.push(OutFile {
                        path: layout::catalog_file(name),
                        content: layout::file_text(&insts[0].source, &values),
                    });
                }
                (files, d)
            }
            Unit::CatalogPlatform => {
                let ctx = minijinja::context! {
                    platform => self.platform_v.clone(),
                    groups => val(&self.groups),
                    systems => val(&self.systems),
                };
                let (docs, mut d) = render_scope(
                    bps,
                    bps.of_scope(Scope::Catalog).filter(|b| {
                        let sub = b.sub_folder();
                        !sub.is_empty() && sub != layout::CATALOG_TEMPLATES
                    }),
                    false,
                    &ctx,
                    "the platform's catalog",
                    self.xr_group(),
                );
                let mut files = Vec::new();
                if !docs.is_empty() {
                    let values: Vec<&serde_json::Value> = docs.iter().map(|d| &d.value).collect();
                    files.push(OutFile {
                        path: layout::CATALOG_PLATFORM_FILE.to_string(),
                        content: layout::file_text(crate::emit::header::PLATFORM_WIDE, &values),
                    });
                }
                let (templates, e) = self.catalog_templates();
                files.extend(templates);
                d.extend(e);
                (files, d)
            }
        };
        files.sort_by(|a, b| a.path.cmp(&b.path));
        (files, diags)
    }

    /// The first pass: renders and checks every unit (in parallel), keeping
    /// digests, and the files themselves while their total size stays within
    /// `budget` bytes (`usize::MAX`: keep everything, for `diff` and stdout).
    pub fn first_pass(&'a self, budget: usize) -> (Vec<Rendered<'a>>, Vec<Diagnostic>) {
        let used = AtomicUsize::new(0);
        let results: Vec<(Rendered, Vec<Diagnostic>)> = self
            .list
            .par_iter()
            .map(|u| {
                let (files, d) = self.render(*u);
                let digests: Vec<Digest> = files.iter().map(digest).collect();
                let size: usize = digests.iter().map(|x| x.len).sum();
                let keep = used.fetch_add(size, Ordering::Relaxed).saturating_add(size) <= budget;
                let cached = Mutex::new(keep.then_some(files));
                (
                    Rendered {
                        units: self,
                        unit: *u,
                        digests,
                        cached,
                    },
                    d,
                )
            })
            .collect();
        let mut rendered = Vec::with_capacity(results.len());
        let mut diags = Vec::new();
        for (r, d) in results {
            rendered.push(r);
            diags.extend(d);
        }
        let mut paths: Vec<&str> = rendered
            .iter()
            .flat_map(|r| r.digests.iter().map(|d| d.path.as_str()))
            .collect();
        paths.sort_unstable();
        diags.extend(duplicate_paths(paths.into_iter()));
        (rendered, diags)
    }
}

impl<'a> Units<'a> {
    /// Renders and checks every unit (in parallel) like [`first_pass`](Units::first_pass),
    /// but hands each file to `keep` as it is made and holds only what
    /// that returns: per unit (by its place in [`list`](Units::list)), the
    /// kept values. For sinks that need less than the files.
    pub fn map_pass<T: Send>(
        &'a self,
        keep: impl Fn(OutFile) -> Option<T> + Sync,
    ) -> (Vec<(usize, Vec<T>)>, Vec<Diagnostic>) {
        // Per unit: its place, what was kept, its paths, its findings.
        type One<T> = (usize, Vec<T>, Vec<String>, Vec<Diagnostic>);
        let results: Vec<One<T>> = self
            .list
            .par_iter()
            .enumerate()
            .map(|(i, u)| {
                let (files, d) = self.render(*u);
                let paths = files.iter().map(|f| f.path.clone()).collect();
                let kept = files.into_iter().filter_map(&keep).collect();
                (i, kept, paths, d)
            })
            .collect();
        let mut kept = Vec::with_capacity(results.len());
        let mut diags = Vec::new();
        let mut paths = Vec::new();
        for (i, k, p, d) in results {
            kept.push((i, k));
            paths.extend(p);
            diags.extend(d);
        }
        paths.sort_unstable();
        diags.extend(duplicate_paths(paths.iter().map(String::as_str)));
        (kept, diags)
    }

    /// The files of the units at these places in [`list`](Units::list),
    /// rendered again (in parallel), in place order.
    pub fn render_again(&self, places: &[usize]) -> Vec<OutFile> {
        places
            .par_iter()
            .filter_map(|i| self.list.get(*i))
            .flat_map_iter(|u| self.render(*u).0)
            .collect()
    }
}

/// The APIs a service provides: `providesApis`, then the `apis` names it
/// does not list.
fn provided_apis(s: &Service) -> Vec<String> {
    let mut out = s.spec.provides_apis.clone();
    for a in &s.spec.apis {
        if !out.contains(&a.name) {
            out.push(a.name.clone());
        }
    }
    out
}

/// The Groups (every team paved.yaml declares and every owner team) and
/// Systems (every `metadata.system`) of the workspace, in name order. A
/// System's owner is the team owning most of its services, the first by
/// name on a tie.
fn catalog_entities(
    platform: &Platform,
    services: &[Service],
) -> (Vec<CatalogEntity>, Vec<CatalogEntity>) {
    let mut groups: BTreeMap<&str, Vec<String>> = platform
        .teams
        .keys()
        .map(|t| (t.as_str(), Vec::new()))
        .collect();
    let mut systems: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for s in services {
        groups
            .entry(&s.meta.owner)
            .or_default()
            .push(s.name().to_string());
        if let Some(sys) = &s.meta.system {
            systems.entry(sys).or_default().push(s);
        }
    }
    let groups = groups
        .into_iter()
        .map(|(name, mut services)| {
            services.sort();
            services.dedup();
            CatalogEntity {
                name: name.to_string(),
                owner: name.to_string(),
                services,
                team: Some(platform.team(name)),
            }
        })
        .collect();
    let systems = systems
        .into_iter()
        .map(|(name, members)| {
            let mut count: BTreeMap<&str, usize> = BTreeMap::new();
            for m in &members {
                *count.entry(&m.meta.owner).or_default() += 1;
            }
            // Most services first; BTreeMap order breaks ties by name.
            let owner = count
                .iter()
                .fold(
                    ("", 0),
                    |best, (team, n)| if *n > best.1 { (*team, *n) } else { best },
                )
                .0;
            let mut services: Vec<String> = members.iter().map(|m| m.name().to_string()).collect();
            services.sort();
            services.dedup();
            CatalogEntity {
                name: name.to_string(),
                owner: owner.to_string(),
                services,
                team: None,
            }
        })
        .collect();
    (groups, systems)
}

/// How the catalog links into the specs' repository (docs/catalog.md): into
/// `catalog.sourceURL` when set, else relative to the catalog file (the
/// rendered folder at `gitops.path` in the repository holding the specs),
/// with `source-location` into `gitops.repoURL` when that is set.
struct SourceLinks {
    /// `<sourceURL>`, `<revision>`, when the specs have their own repository.
    source: Option<(String, String)>,
    /// The web address of the GitOps repository and its revision.
    gitops: Option<(String, String)>,
    /// From `DIR/catalog/` to the root.
    to_root: String,
}

impl SourceLinks {
    fn new(p: &Platform) -> SourceLinks {
        let gitops_rev = if p.gitops.target_revision.is_empty() {
            "main".to_string()
        } else {
            p.gitops.target_revision.clone()
        };
        let rev = p
            .catalog
            .source_revision
            .clone()
            .unwrap_or_else(|| gitops_rev.clone());
        SourceLinks {
            source: p.catalog.source_url.clone().map(|u| (u, rev)),
            gitops: web_url(&p.gitops.repo_url).map(|u| (u, gitops_rev)),
            to_root: layout::catalog_to_root(if p.gitops.path.is_empty() {
                "rendered"
            } else {
                &p.gitops.path
            }),
        }
    }

    /// `url:<repository>/tree/<revision>/<folder>/`, if a repository is known.
    fn source_location(&self, folder: &str) -> Option<String> {
        let (url, rev) = self.source.as_ref().or(self.gitops.as_ref())?;
        Some(format!("url:{url}/tree/{rev}/{}", slash_after(folder)))
    }

    /// A folder of the workspace for `backstage.io/techdocs-ref`.
    fn folder(&self, folder: &str) -> String {
        match &self.source {
            Some((url, rev)) => format!("url:{url}/tree/{rev}/{folder}")
                .trim_end_matches('/')
                .to_string(),
            None => format!("dir:{}{folder}", self.to_root)
                .trim_end_matches('/')
                .to_string(),
        }
    }

    /// A file of the workspace for a `$text` placeholder.
    fn file(&self, rel: &str) -> String {
        match &self.source {
            Some((url, rev)) => format!("{url}/blob/{rev}/{rel}"),
            None => format!("{}{rel}", self.to_root),
        }
    }
}

fn slash_after(folder: &str) -> String {
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

/// The web address of a Git remote: `https://host/path` without `.git`, from
/// an https, ssh or scp-style address (`git@github.com:acme/deploy.git`).
fn web_url(remote: &str) -> Option<String> {
    let rest = if let Some(r) = remote.strip_prefix("https://") {
        r.to_string()
    } else if let Some(r) = remote.strip_prefix("ssh://") {
        let r = r.split_once('@').map_or(r, |(_, h)| h);
        // ssh://host:port/path: the web server has no port of its own.
        match r.split_once('/') {
            Some((host, path)) => format!("{}/{path}", host.split(':').next().unwrap_or(host)),
            None => return None,
        }
    } else {
        let (_, r) = remote.split_once('@')?;
        r.replacen(':', "/", 1)
    };
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    (!rest.is_empty()).then(|| format!("https://{rest}"))
}

/// Two blueprints must never write the same file. `paths` must be sorted.
fn duplicate_paths<'p>(paths: impl Iterator<Item = &'p str>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut prev: Option<&str> = None;
    for p in paths {
        if prev == Some(p) {
            out.push(
                Diagnostic::error(
                    codes::RENDER_DUPLICATE_OUTPUT,
                    format!("two documents would be written to `{p}`"),
                )
                .help("each object needs its own kind and name within a folder; check blueprints that render the same kind and name"),
            );
        }
        prev = Some(p);
    }
    out
}

fn render_scope<'b>(
    bps: &'b Blueprints,
    list: impl Iterator<Item = &'b super::env::Blueprint>,
    dedupe: bool,
    ctx: &minijinja::Value,
    what: &str,
    xr_group: &str,
) -> (Vec<Doc>, Vec<Diagnostic>) {
    let mut docs: Vec<Doc> = Vec::new();
    let mut diags = Vec::new();
    // Which blueprint produced each file name, so two blueprints writing the
    // same file are both named (catalog documents all share one file).
    let mut made_by: HashMap<String, &super::env::Blueprint> = HashMap::new();
    for bp in list {
        let (d, e) = render_one(bps, bp, ctx, what, xr_group);
        for doc in d {
            if dedupe {
                if let Some(first) = made_by.insert(layout::file_name(&doc), bp) {
                    // Point at the platform team's file, which they can change.
                    let (here, other) = if bp.source.name.starts_with("<built-in>") {
                        (first, bp)
                    } else {
                        (bp, first)
                    };
                    diags.push(
                        Diagnostic::error(
                            codes::RENDER_DUPLICATE_OUTPUT,
                            format!(
                                "blueprints `{}` and `{}` both produce {} `{}` for {what}",
                                first.name, bp.name, doc.kind, doc.name
                            ),
                        )
                        .at(&here.source, Span::point(0), "this blueprint")
                        .also(&other.source, Span::point(0), "and this one")
                        .help("each object needs its own kind and name within a folder; an override replaces a built-in blueprint only when it has the same path"),
                    );
                    continue;
                }
            }
            docs.push(doc);
        }
        diags.extend(e);
    }
    (docs, diags)
}

fn render_one(
    bps: &Blueprints,
    bp: &crate::render::Blueprint,
    ctx: &minijinja::Value,
    what: &str,
    xr_group: &str,
) -> (Vec<Doc>, Vec<Diagnostic>) {
    match bps.render(bp, ctx, what) {
        Err(d) => (vec![], vec![*d]),
        Ok(text) => match normalize::documents(
            text,
            normalize::Blueprint {
                name: &bp.name,
                source: &bp.source,
            },
            what,
        ) {
            Ok(mut docs) => {
                // Sync waves and sync options for Argo CD, on every object a
                // cluster receives (catalog entities go to Backstage).
                if bp.scope != Scope::Catalog {
                    for doc in &mut docs {
                        super::ordering::annotate(doc, xr_group);
                    }
                }
                // The same set `diff` hides: never rendered outside a Secret reference.
                let d = docs
                    .iter()
                    .flat_map(|doc| literal_credentials(bp, doc, what))
                    .collect();
                (docs, d)
            }
            Err(d) => (vec![], d),
        },
    }
}

/// A credential a blueprint wrote into a rendered object in plain text (or a
/// Secret with data), pointed at the blueprint line holding it when there is one.
fn literal_credentials(bp: &crate::render::Blueprint, doc: &Doc, what: &str) -> Vec<Diagnostic> {
    use crate::credentials::{self, Why};
    credentials::in_object(&doc.value)
        .into_iter()
        .map(|f| {
            let value = doc.value.pointer(&f.pointer).and_then(|v| v.as_str()).unwrap_or("");
            let shown: Vec<String> = f
                .pointer
                .split('/')
                .skip(1)
                .map(|k| k.replace("~1", "/").replace("~0", "~"))
                .collect();
            let shown = shown.join(".");
            let (needle, problem) = match f.why {
                Why::SecretData => (String::new(), "a Secret with data".to_string()),
                Why::LastApplied => (String::new(), "a last-applied configuration holding a credential".to_string()),
                Why::Name => (value.to_string(), format!("a literal value in `{shown}`")),
                Why::Value(kind) => {
                    let part = credentials::find_in_text(value).map_or(value, |(r, _)| &value[r]);
                    (part.to_string(), format!("{} in `{shown}`", kind.describe()))
                }
            };
            let text = &bp.source.text;
            let key = f.pointer.rsplit('/').next().unwrap_or("").replace("~1", "/").replace("~0", "~");
            let span = [needle, format!("{key}:")]
                .iter()
                .filter(|n| !n.is_empty() && !n.starts_with(char::is_numeric))
                .find_map(|n| text.find(n.as_str()).map(|at| Span::new(at, at + n.len())))
                .unwrap_or(Span::point(0));
            Diagnostic::error(
                codes::SECRETS_LITERAL,
                format!("blueprint `{}` renders {problem} of {} `{}` for {what}", bp.name, doc.kind, doc.name),
            )
            .at(&bp.source, span, "a credential in plain text ends up in Git and in the cluster")
            .help("render a reference instead: an ExternalSecret for the platform's secret store, and `valueFrom.secretKeyRef` where a container reads it")
        })
        .collect()
}
