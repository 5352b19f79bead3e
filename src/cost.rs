//! The monthly cost estimate of each service in each environment, from
//! paved.yaml's price table (`cost`) and the resolved instances
//! (docs/cost.md).
//!
//! For one instance: the workload's CPU cores × `cpuPerCoreHour` plus its
//! memory GiB × `memoryPerGiBHour` (requests or limits, as `basis` says),
//! × 730 hours × replicas; with an autoscaler, its minimum and its maximum
//! give a range. Plus each managed resource: its class price (and
//! `storageGB` × `storagePerGBMonth`), or for a bucket `assumedGiB` ×
//! `perGiBMonth`. A cronjob runs one pod at a time (`concurrencyPolicy:
//! Forbid`) for an unknowable share of the month: from 0 to one pod all month.
//!
//! Every figure is exact decimal arithmetic (`rust_decimal`): quantities are
//! read exactly (`250m`, `1.5`, `512Mi`, `1G`), prices are the decimals
//! written in paved.yaml, and nothing is rounded here; [`round`] rounds a
//! figure once, when it is shown. Each estimate keeps the inputs that drove
//! it (the quantities, the replica range and where it came from, each
//! resource's class), so a later check can name the spec line to change.
//!
//! The same prices apply to the facts read from rendered objects
//! ([`rendered_facts`]: a workload's containers, its replicas or its
//! autoscaler's range, the composite resources), through one function
//! ([`price_facts`]), so `paved diff` of two folders prices a change as
//! `paved cost` does; [`review`] is the delta between two sides.
//!
//! Architecture invariant: a pure function of the platform and its
//! instances (or of rendered objects handed to it as values); knows nothing
//! of files, diagnostics or output formats.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{
    CostBasis, CostConfig, CostThreshold, Instance, Platform, ResolvedAutoscaling, ResolvedCompute,
    Service, Sizing,
};

/// The hours of a month, as the price table counts them.
pub(crate) const HOURS_PER_MONTH: u32 = 730;

/// A monthly figure: `min` = `max` unless an autoscaler (or a schedule) lets
/// the number of pods vary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Range {
    pub min: Decimal,
    pub max: Decimal,
}

impl Range {
    pub(crate) fn fixed(v: Decimal) -> Range {
        Range { min: v, max: v }
    }

    pub(crate) fn add(self, other: Range) -> Range {
        Range {
            min: self.min + other.min,
            max: self.max + other.max,
        }
    }
}

/// Where the replica range of a workload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplicasFrom {
    /// `replicas: N` (or the default, 1).
    Fixed,
    /// `replicas: auto`: the autoscaler's `min` and `max`.
    Autoscaling,
    /// A cronjob: 0 to one pod all month.
    Schedule,
}

impl ReplicasFrom {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReplicasFrom::Fixed => "replicas",
            ReplicasFrom::Autoscaling => "autoscaling",
            ReplicasFrom::Schedule => "schedule",
        }
    }
}

/// The pods of an instance and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workload {
    /// CPU and memory of one pod, as Kubernetes reads them (per `basis`).
    pub cpu: String,
    pub memory: String,
    pub cpu_cores: Decimal,
    pub memory_gib: Decimal,
    pub replicas_min: u32,
    pub replicas_max: u32,
    pub replicas_from: ReplicasFrom,
    /// The platform size the quantities came from, if any.
    pub size: Option<String>,
    /// One pod for a month.
    pub pod_month: Decimal,
    pub monthly: Range,
}

/// One managed resource and what it costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceCost {
    pub name: String,
    pub kind: String,
    pub class: String,
    /// `storageGB` of a database or cache, or the bucket's assumed GiB.
    pub storage: Option<u32>,
    /// `None`: the price table has no price for this type.
    pub monthly: Option<Decimal>,
}

/// The estimate of one service in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Estimate {
    pub service: String,
    /// `metadata.owner`.
    pub team: String,
    pub environment: String,
    /// The spec file, relative to the workspace root.
    pub source: String,
    pub workload: Workload,
    pub resources: Vec<ResourceCost>,
    /// The workload and every priced resource.
    pub monthly: Range,
}

/// The estimates, one per instance in the instances' order; `None` when
/// paved.yaml has no price table.
///
/// An instance that cannot be priced ([`priceable`]: a quantity too large)
/// has no estimate: validation refuses it first
/// (`paved::semantic::unpriceable-quantity`), so no command reaches here
/// with one.
pub(crate) fn estimate(platform: &Platform, instances: &[Instance]) -> Option<Vec<Estimate>> {
    let table = platform.cost.as_ref()?;
    Some(
        instances
            .iter()
            .filter_map(|i| of_instance(table, i))
            .collect(),
    )
}

/// The largest monthly figure the estimate prices (10¹⁵ in the currency):
/// any sum of figures up to it over any fleet stays exact in a decimal.
pub(crate) const MAX_MONTHLY: i64 = 1_000_000_000_000_000;

/// Whether one pod of this CPU alone, or this memory alone, can be priced
/// for a month: which quantity of an unpriceable instance is at fault.
pub(crate) fn pod_priceable(table: &CostConfig, cpu: Option<&str>, memory: Option<&str>) -> bool {
    let (Some(cpu_cores), Some(memory_gib)) = (
        cpu.map_or(Some(Decimal::ZERO), cpu_cores),
        memory.map_or(Some(Decimal::ZERO), memory_gib),
    ) else {
        return false;
    };
    let pods = vec![Pods {
        cpu_cores,
        memory_gib,
        min: 1,
        max: 1,
    }];
    price_facts(
        table,
        &Facts {
            pods,
            resources: Vec::new(),
        },
    )
    .is_some()
}

fn of_instance(table: &CostConfig, i: &Instance) -> Option<Estimate> {
    of_parts(
        table,
        Parts {
            service: &i.name,
            team: &i.owner,
            environment: &i.environment.name,
            source: &i.source,
            kind: i.kind,
            compute: &i.compute,
            replicas: i.replicas,
            autoscaling: i.autoscaling.as_ref(),
            min_replicas: i.min_replicas,
            resources: i
                .resources
                .iter()
                .map(|r| {
                    (
                        r.name.as_str(),
                        r.kind.as_str(),
                        r.class.as_str(),
                        r.storage_gb,
                    )
                })
                .collect(),
        },
    )
}

/// The estimate of `service` in `environment` from its [`Sizing`] alone,
/// without resolving the whole instance (budgets under `paved validate`);
/// the same figures as [`estimate`] of the instance.
pub(crate) fn estimate_sizing(
    table: &CostConfig,
    service: &Service,
    environment: &str,
    sizing: &Sizing,
) -> Option<Estimate> {
    of_parts(
        table,
        Parts {
            service: service.name(),
            team: &service.meta.owner,
            environment,
            source: &service.origin,
            kind: sizing.kind,
            compute: &sizing.compute,
            replicas: sizing.replicas,
            autoscaling: sizing.autoscaling.as_ref(),
            min_replicas: sizing.min_replicas,
            resources: sizing
                .resources
                .iter()
                .map(|r| (r.name, r.kind, r.class, r.storage_gb))
                .collect(),
        },
    )
}

/// What an estimate reads of a service in an environment, from an
/// [`Instance`] or a [`Sizing`]: one path to the figures for both.
struct Parts<'a> {
    service: &'a str,
    team: &'a str,
    environment: &'a str,
    source: &'a str,
    kind: &'a str,
    compute: &'a ResolvedCompute,
    replicas: Option<u32>,
    autoscaling: Option<&'a ResolvedAutoscaling>,
    min_replicas: u32,
    /// Each resource's name, type, class and `storageGB`.
    resources: Vec<(&'a str, &'a str, &'a str, Option<u32>)>,
}

fn of_parts(table: &CostConfig, i: Parts) -> Option<Estimate> {
    let q = match table.basis {
        CostBasis::Requests => &i.compute.requests,
        CostBasis::Limits => &i.compute.limits,
    };
    let cpu_cores = cpu_cores(&q.cpu)?;
    let memory_gib = memory_gib(&q.memory)?;
    let (replicas_min, replicas_max, replicas_from) = match (i.autoscaling, i.replicas) {
        (Some(a), _) => (a.min, a.max, ReplicasFrom::Autoscaling),
        (None, Some(n)) => (n, n, ReplicasFrom::Fixed),
        (None, None) if i.kind == "cronjob" => (0, 1, ReplicasFrom::Schedule),
        (None, None) => (i.min_replicas, i.min_replicas, ReplicasFrom::Fixed),
    };
    // The arithmetic has one home, shared with the rendered objects of a diff.
    let priced = price_facts(
        table,
        &Facts {
            pods: vec![Pods {
                cpu_cores,
                memory_gib,
                min: replicas_min,
                max: replicas_max,
            }],
            resources: i
                .resources
                .iter()
                .map(|&(_, kind, class, storage_gb)| Managed {
                    kind: kind.to_string(),
                    class: class.to_string(),
                    storage_gb,
                })
                .collect(),
        },
    )?;
    let workload = Workload {
        cpu: q.cpu.clone(),
        memory: q.memory.clone(),
        cpu_cores,
        memory_gib,
        replicas_min,
        replicas_max,
        replicas_from,
        size: i.compute.size.clone(),
        pod_month: priced.pod_months.first().copied().unwrap_or_default(),
        monthly: priced.workload,
    };
    let resources: Vec<ResourceCost> = i
        .resources
        .iter()
        .zip(&priced.resources)
        .map(
            |(&(name, kind, class, _), &(storage, monthly))| ResourceCost {
                name: name.to_string(),
                kind: kind.to_string(),
                class: class.to_string(),
                storage,
                monthly,
            },
        )
        .collect();
    Some(Estimate {
        service: i.service.to_string(),
        team: i.team.to_string(),
        environment: i.environment.to_string(),
        source: i.source.to_string(),
        workload,
        resources,
        monthly: priced.monthly,
    })
}

/// A price from paved.yaml as the decimal it was written as: YAML gives the
/// nearest double, whose shortest decimal text is what was written (for up
/// to 15 significant digits). The schema bounds prices, so this never fails;
/// if it did, the price would count as 0.
pub(crate) fn price(v: f64) -> Decimal {
    Decimal::from_str(&v.to_string()).unwrap_or_default()
}

/// Rounds a figure to cents, halves away from zero (0.125 → 0.13): the one
/// rounding of the estimate, applied when a figure is shown.
pub(crate) fn round(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A figure as shown: rounded once, to cents, two decimals (`36.50`).
pub(crate) fn money(v: Decimal) -> String {
    format!("{:.2}", round(v))
}

/// Cores in a Kubernetes CPU quantity: `250m` → 0.25, `1.5` → 1.5, `2` → 2.
pub(crate) fn cpu_cores(q: &str) -> Option<Decimal> {
    match q.strip_suffix('m') {
        Some(milli) => Some(whole(milli)? / Decimal::from(1000)),
        None => {
            let d = Decimal::from_str(q).ok()?;
            (d >= Decimal::ZERO && q.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then_some(d)
        }
    }
}

/// GiB in a Kubernetes memory quantity: `512Mi` → 0.5, `1Gi` → 1, `1G` →
/// 10⁹ / 2³⁰ = 0.931322574615478515625, a plain byte count ÷ 2³⁰.
pub(crate) fn memory_gib(q: &str) -> Option<Decimal> {
    const UNITS: [(&str, u64, u64); 8] = [
        // suffix, bytes per unit: multiplier, divisor of 2^30
        ("Ki", 1, 1 << 20),
        ("Mi", 1, 1 << 10),
        ("Gi", 1, 1),
        ("Ti", 1 << 10, 1),
        ("K", 1_000, 1 << 30),
        ("M", 1_000_000, 1 << 30),
        ("G", 1_000_000_000, 1 << 30),
        ("T", 1_000_000_000_000, 1 << 30),
    ];
    let (num, mul, div) = UNITS
        .iter()
        .find_map(|(u, m, d)| q.strip_suffix(u).map(|n| (n, *m, *d)))
        .unwrap_or((q, 1, 1 << 30));
    let n = whole(num)?;
    n.checked_mul(Decimal::from(mul))?
        .checked_div(Decimal::from(div))
}

/// Whether a CPU (`memory: false`) or memory quantity is a whole number
/// of digits with one of its unit suffixes that [`cpu_cores`] or
/// [`memory_gib`] still cannot read: one too large for a decimal, which
/// cannot be priced (text Paved does not read at all counts as 0).
pub(crate) fn too_large(q: &str, memory: bool) -> bool {
    let units: &[&str] = if memory {
        &["Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T"]
    } else {
        &["m"]
    };
    let digits = units.iter().find_map(|u| q.strip_suffix(u)).unwrap_or(q);
    let read = if memory { memory_gib(q) } else { cpu_cores(q) };
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && read.is_none()
}

/// A whole number written in digits only.
fn whole(s: &str) -> Option<Decimal> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Decimal::from_str(s).ok()
}

// ---------------------------------------------------------------------------
// The facts a price applies to, from the model or from rendered objects, and
// the cost delta of a review (`paved diff`, docs/cost.md "In review").

/// The pods of one workload: one pod's CPU cores and memory GiB (per
/// `basis`), and the range of their number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pods {
    pub cpu_cores: Decimal,
    pub memory_gib: Decimal,
    pub min: u32,
    pub max: u32,
}

/// A managed resource as the price table sees it: its type as platform.yaml
/// names it (`postgresql`), its class and `storageGB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Managed {
    pub kind: String,
    pub class: String,
    pub storage_gb: Option<u32>,
}

/// What an instance runs and holds: the facts the price table applies to,
/// whether they come from the model (`paved cost`) or from rendered objects
/// (`paved diff` of two folders).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    pub pods: Vec<Pods>,
    pub resources: Vec<Managed>,
}

/// The facts priced: a month of one pod of each workload, the workloads'
/// range, each resource's storage and price (`None`: not priced) in the
/// facts' order, and the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Priced {
    pub pod_months: Vec<Decimal>,
    pub workload: Range,
    pub resources: Vec<(Option<u32>, Option<Decimal>)>,
    pub monthly: Range,
}

/// Every price of the estimate: pods × replicas at the CPU and memory
/// prices × 730 hours, each resource by class and storage (a bucket at
/// `assumedGiB`), summed. Exact; nothing rounded. `None` when a figure
/// would exceed [`MAX_MONTHLY`] (or a decimal): such facts cannot be priced.
pub(crate) fn price_facts(table: &CostConfig, f: &Facts) -> Option<Priced> {
    let cap = Decimal::from(MAX_MONTHLY);
    let capped = |v: Option<Decimal>| v.filter(|v| *v <= cap);
    let add = |a: Range, b: Range| -> Option<Range> {
        Some(Range {
            min: capped(a.min.checked_add(b.min))?,
            max: capped(a.max.checked_add(b.max))?,
        })
    };
    let mut pod_months = Vec::with_capacity(f.pods.len());
    let mut workload = Range::default();
    for p in &f.pods {
        let hourly = p
            .cpu_cores
            .checked_mul(price(table.cpu_per_core_hour))?
            .checked_add(p.memory_gib.checked_mul(price(table.memory_per_gib_hour))?)?;
        let pod_month = capped(hourly.checked_mul(Decimal::from(HOURS_PER_MONTH)))?;
        pod_months.push(pod_month);
        workload = add(
            workload,
            Range {
                min: capped(pod_month.checked_mul(Decimal::from(p.min)))?,
                max: capped(pod_month.checked_mul(Decimal::from(p.max)))?,
            },
        )?;
    }
    let mut resources: Vec<(Option<u32>, Option<Decimal>)> = Vec::with_capacity(f.resources.len());
    for r in &f.resources {
        resources.push(if r.kind == "bucket" {
            let b = table.resources.bucket.as_ref();
            let monthly = match b {
                Some(b) => Some(capped(
                    price(b.per_gib_month).checked_mul(Decimal::from(b.assumed_gib)),
                )?),
                None => None,
            };
            (b.map(|b| b.assumed_gib), monthly)
        } else {
            let c = table.resources.classes(&r.kind);
            let monthly = match c.and_then(|c| Some((price(c.of(&r.class)?), c))) {
                Some((class, c)) => {
                    let gb = Decimal::from(r.storage_gb.unwrap_or(0));
                    Some(capped(
                        gb.checked_mul(price(c.storage_per_gb_month))?
                            .checked_add(class),
                    )?)
                }
                None => None,
            };
            (r.storage_gb, monthly)
        });
    }
    let mut monthly = workload;
    for m in resources.iter().filter_map(|r| r.1) {
        monthly = add(monthly, Range::fixed(m))?;
    }
    Some(Priced {
        pod_months,
        workload,
        resources,
        monthly,
    })
}

/// The estimates of `instances` at `table`'s prices (a side of a review
/// priced with the other side's table when it has none).
pub(crate) fn estimate_with(table: &CostConfig, instances: &[Instance]) -> Vec<Estimate> {
    instances
        .iter()
        .filter_map(|i| of_instance(table, i))
        .collect()
}

/// The composite resource kinds of Paved's infrastructure API (under
/// paved.yaml `crossplane.apiGroup`), by resource type: the kinds
/// `blueprints/_partials/crossplane.yaml` renders.
pub(crate) const RENDERED_KINDS: [(&str, &str); 3] = [
    ("PostgreSQLInstance", "postgresql"),
    ("RedisInstance", "redis"),
    ("Bucket", "bucket"),
];

/// The workload kinds the estimate prices, as rendered: (API group, kind,
/// the pointer to their pod spec). One home for `rendered_facts` and the
/// review's risk rules ([`is_priced_kind`]).
pub(crate) const WORKLOAD_KINDS: [(&str, &str, &str); 4] = [
    ("apps", "Deployment", "/spec/template/spec"),
    ("apps", "StatefulSet", "/spec/template/spec"),
    ("argoproj.io", "Rollout", "/spec/template/spec"),
    ("batch", "CronJob", "/spec/jobTemplate/spec/template/spec"),
];

/// Whether the estimate prices the replicas or requests of `kind`: a
/// workload of [`WORKLOAD_KINDS`] or the HorizontalPodAutoscaler that
/// scales one. With a price table and `review.costThreshold`, their changes
/// are judged by the estimate, not by the factor rule.
pub(crate) fn is_priced_kind(kind: &str) -> bool {
    kind == "HorizontalPodAutoscaler" || WORKLOAD_KINDS.iter().any(|(_, k, _)| *k == kind)
}

/// A quantity of a rendered object as text (`"1"`, `100m`, or a number).
fn quantity_text(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The facts of one service in one environment, read from its rendered
/// objects: each workload of [`WORKLOAD_KINDS`] (Deployment, StatefulSet,
/// Argo Rollout, CronJob) with its containers' requests or limits summed per pod, its replicas
/// from the HorizontalPodAutoscaler that scales it (`minReplicas`, default
/// 1, to `maxReplicas`), else `spec.replicas` (default 1), a CronJob 0 to 1;
/// and each composite resource of `api_group` by its class and `storageGB`.
/// A quantity Paved cannot read counts as 0; `None` when the quantities
/// are too large to sum (they cannot be priced).
pub(crate) fn rendered_facts<'a>(
    objects: impl IntoIterator<Item = &'a serde_json::Value>,
    basis: CostBasis,
    api_group: &str,
) -> Option<Facts> {
    let objects: Vec<&serde_json::Value> = objects.into_iter().collect();
    let text = |v: &serde_json::Value, p: &str| -> String {
        v.pointer(p)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let count = |v: &serde_json::Value, p: &str| -> Option<u32> {
        v.pointer(p)
            .and_then(serde_json::Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    };
    let group_of = |v: &serde_json::Value| -> String {
        let api = text(v, "/apiVersion");
        match api.split_once('/') {
            Some((g, _)) => g.to_string(),
            None => String::new(),
        }
    };
    // (namespace, kind, name) a HorizontalPodAutoscaler scales → (min, max).
    let mut scaled: std::collections::BTreeMap<(String, String, String), (u32, u32)> =
        std::collections::BTreeMap::new();
    for v in &objects {
        if text(v, "/kind") == "HorizontalPodAutoscaler" && group_of(v) == "autoscaling" {
            let min = count(v, "/spec/minReplicas").unwrap_or(1);
            let max = count(v, "/spec/maxReplicas").unwrap_or(min);
            scaled.insert(
                (
                    text(v, "/metadata/namespace"),
                    text(v, "/spec/scaleTargetRef/kind"),
                    text(v, "/spec/scaleTargetRef/name"),
                ),
                (min, max.max(min)),
            );
        }
    }
    let which = match basis {
        CostBasis::Requests => "requests",
        CostBasis::Limits => "limits",
    };
    let mut facts = Facts::default();
    for v in &objects {
        let kind = text(v, "/kind");
        let group = group_of(v);
        let pod = WORKLOAD_KINDS
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
            .and_then(|(_, _, at)| v.pointer(at));
        if let Some(pod) = pod {
            let (mut cpu, mut memory) = (Decimal::ZERO, Decimal::ZERO);
            for c in pod
                .get("containers")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                let q = c.get("resources").and_then(|r| r.get(which));
                let (c, m) = (
                    quantity_text(q.and_then(|q| q.get("cpu"))),
                    quantity_text(q.and_then(|q| q.get("memory"))),
                );
                // Unreadable text counts as 0; digits too many to read cannot be priced.
                let read = |v: Option<Decimal>, t: &str, memory: bool| match v {
                    Some(v) => Some(v),
                    None if too_large(t, memory) => None,
                    None => Some(Decimal::ZERO),
                };
                cpu = cpu.checked_add(read(cpu_cores(&c), &c, false)?)?;
                memory = memory.checked_add(read(memory_gib(&m), &m, true)?)?;
            }
            let (min, max) = if kind == "CronJob" {
                (0, 1)
            } else {
                let target = (
                    text(v, "/metadata/namespace"),
                    kind.clone(),
                    text(v, "/metadata/name"),
                );
                match scaled.get(&target) {
                    Some(&range) => range,
                    None => {
                        let n = count(v, "/spec/replicas").unwrap_or(1);
                        (n, n)
                    }
                }
            };
            facts.pods.push(Pods {
                cpu_cores: cpu,
                memory_gib: memory,
                min,
                max,
            });
        } else if group == api_group {
            if let Some((_, t)) = RENDERED_KINDS.iter().find(|(k, _)| *k == kind) {
                facts.resources.push(Managed {
                    kind: t.to_string(),
                    class: text(v, "/spec/parameters/class"),
                    storage_gb: count(v, "/spec/parameters/storageGB"),
                });
            }
        }
    }
    Some(facts)
}

/// Rendered objects, as (environment, service, object), priced per
/// (environment, service); objects of no environment or service (the
/// platform's, the catalog's) are left out. `Err`: the (environment,
/// service) whose quantities cannot be priced.
pub(crate) fn rendered_monthly<'a>(
    table: &CostConfig,
    api_group: &str,
    objects: impl IntoIterator<Item = (&'a str, &'a str, &'a serde_json::Value)>,
) -> Result<std::collections::BTreeMap<(String, String), Range>, (String, String)> {
    let mut by: std::collections::BTreeMap<(String, String), Vec<&serde_json::Value>> =
        std::collections::BTreeMap::new();
    for (env, service, v) in objects {
        if !env.is_empty() && !service.is_empty() {
            by.entry((env.to_string(), service.to_string()))
                .or_default()
                .push(v);
        }
    }
    by.into_iter()
        .map(|(k, objects)| {
            match rendered_facts(objects, table.basis, api_group)
                .and_then(|f| price_facts(table, &f))
            {
                Some(p) => Ok((k, p.monthly)),
                None => Err(k),
            }
        })
        .collect()
}

/// The change of one service's monthly estimate in one environment:
/// `None` on the side where it does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delta {
    pub environment: String,
    pub service: String,
    pub old: Option<Range>,
    pub new: Option<Range>,
}

impl Delta {
    /// New minus old (a side where it does not run counts as 0), exact.
    pub(crate) fn change(&self) -> Range {
        let (o, n) = (self.old.unwrap_or_default(), self.new.unwrap_or_default());
        Range {
            min: n.min - o.min,
            max: n.max - o.max,
        }
    }
}

/// The cost section of a review: the currency and basis of the (new side's)
/// price table, and each (environment, service) whose change, as shown
/// (rounded once, to cents), is not 0.00, by environment then service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Review {
    pub currency: String,
    pub basis: &'static str,
    pub changes: Vec<Delta>,
}

impl Review {
    /// The old, new and change summed over the changed rows, exact.
    pub(crate) fn total(&self) -> (Range, Range, Range) {
        self.changes.iter().fold(
            (Range::default(), Range::default(), Range::default()),
            |(o, n, c), d| {
                (
                    o.add(d.old.unwrap_or_default()),
                    n.add(d.new.unwrap_or_default()),
                    c.add(d.change()),
                )
            },
        )
    }
}

/// The review of two sides' estimates, per (environment, service): the
/// pairs whose change, rounded to cents, is not 0.00 at the minimum or the
/// maximum (a side where one does not run counts as 0).
pub(crate) fn review(
    table: &CostConfig,
    old: &std::collections::BTreeMap<(String, String), Range>,
    new: &std::collections::BTreeMap<(String, String), Range>,
) -> Review {
    let keys: std::collections::BTreeSet<&(String, String)> =
        old.keys().chain(new.keys()).collect();
    // A row is kept when its change, as shown (rounded once, to cents), is
    // not 0.00 at either bound: the row and its delta always agree.
    let changes = keys
        .into_iter()
        .map(|k| Delta {
            environment: k.0.clone(),
            service: k.1.clone(),
            old: old.get(k).copied(),
            new: new.get(k).copied(),
        })
        .filter(|d| {
            let c = d.change();
            !round(c.min).is_zero() || !round(c.max).is_zero()
        })
        .collect();
    Review {
        currency: table.currency.clone(),
        basis: table.basis.as_str(),
        changes,
    }
}

/// paved.yaml `review.costThreshold` as decimals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Threshold {
    pub percent: Option<Decimal>,
    pub monthly: Option<Decimal>,
}

impl Threshold {
    pub(crate) fn of(t: &CostThreshold) -> Threshold {
        Threshold {
            percent: t.percent.map(price),
            monthly: t.monthly.map(price),
        }
    }

    /// When `d`'s ceiling (its maximum) or its floor (its minimum) rises
    /// by more than the percent or the amount: the rise, its percentage of
    /// the old figure when that was above 0, and the bound that rose (the
    /// ceiling when both did).
    pub(crate) fn exceeded(&self, d: &Delta) -> Option<Rise> {
        let (old, change) = (d.old.unwrap_or_default(), d.change());
        [
            (old.max, change.max, Bound::Max),
            (old.min, change.min, Bound::Min),
        ]
        .into_iter()
        .find_map(|(old, rise, at)| {
            if rise <= Decimal::ZERO {
                return None;
            }
            let pct = (old > Decimal::ZERO).then(|| rise * Decimal::from(100) / old);
            let by_percent = matches!((pct, self.percent), (Some(p), Some(t)) if p > t);
            let by_amount = self.monthly.is_some_and(|m| rise > m);
            (by_percent || by_amount).then_some(Rise {
                rise,
                percent: pct,
                at,
            })
        })
    }
}

/// Which bound of a range a threshold judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// The ceiling: what can be spent.
    Max,
    /// The floor: what is spent at the least.
    Min,
}

/// A rise over `review.costThreshold`: by how much, its percentage of the
/// old figure (none from 0), and at which bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rise {
    pub rise: Decimal,
    pub percent: Option<Decimal>,
    pub at: Bound,
}

/// A percentage as shown: one decimal, halves away from zero (`191.7`).
pub(crate) fn percent(v: Decimal) -> String {
    format!(
        "{:.1}",
        v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
    )
}

/// A signed figure as shown: `+3.38`, `-60.00`, `0.00`.
pub(crate) fn signed(v: Decimal) -> String {
    let m = money(v);
    if round(v) > Decimal::ZERO {
        format!("+{m}")
    } else {
        m
    }
}

/// paved.yaml's prices as blueprints see them (`cost` in the `service/` and
/// `catalog/` contexts, docs/blueprints.md): each price the decimal written
/// in paved.yaml, as text (`0.04`, `30`), so a dashboard writes it into
/// PromQL as a literal, the same characters on every machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Prices {
    pub currency: String,
    /// `requests` or `limits`: what the estimate prices.
    pub basis: &'static str,
    pub cpu_per_core_hour: String,
    pub memory_per_gib_hour: String,
    pub hours_per_month: u32,
}

/// The prices of paved.yaml's `cost`; `None` without a price table.
pub(crate) fn prices(platform: &Platform) -> Option<Prices> {
    let table = platform.cost.as_ref()?;
    Some(Prices {
        currency: table.currency.clone(),
        basis: table.basis.as_str(),
        cpu_per_core_hour: literal(table.cpu_per_core_hour),
        memory_per_gib_hour: literal(table.memory_per_gib_hour),
        hours_per_month: HOURS_PER_MONTH,
    })
}

/// A price as the shortest decimal text of its value: no exponent, no
/// trailing zeros (`0.04`, `30`, `0.0000001`), a literal PromQL reads.
fn literal(v: f64) -> String {
    price(v).normalize().to_string()
}

/// A service's monthly estimate as its catalog entry shows it (the
/// `paved.dev/monthly-cost` annotation, docs/cost.md).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Catalog {
    #[serde(flatten)]
    pub prices: Prices,
    /// One per environment the service runs in, in the instances' order.
    pub environments: Vec<CatalogFigure>,
    /// Every environment's figure on one line:
    /// `staging: 58.43 to 124.13 EUR; production: 147.70 to 410.50 EUR`.
    pub summary: String,
}

/// One environment's monthly figure, each bound rounded once to cents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct CatalogFigure {
    pub environment: String,
    pub min: String,
    pub max: String,
    /// `58.43 to 124.13 EUR`, or `26.75 EUR` when both bounds show the same.
    pub text: String,
}

/// The catalog's figures of one service, from its instances (one per
/// environment); `None` without a price table.
pub(crate) fn catalog(platform: &Platform, instances: &[&Instance]) -> Option<Catalog> {
    let prices = prices(platform)?;
    let table = platform.cost.as_ref()?;
    let environments: Vec<CatalogFigure> = instances
        .iter()
        .filter_map(|i| {
            let e = of_instance(table, i)?;
            let (min, max) = (money(e.monthly.min), money(e.monthly.max));
            let text = if min == max {
                format!("{max} {}", prices.currency)
            } else {
                format!("{min} to {max} {}", prices.currency)
            };
            Some(CatalogFigure {
                environment: e.environment,
                min,
                max,
                text,
            })
        })
        .collect();
    let summary = environments
        .iter()
        .map(|f| format!("{}: {}", f.environment, f.text))
        .collect::<Vec<_>>()
        .join("; ");
    Some(Catalog {
        prices,
        environments,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The issue's price table, with 0.1 a month per GB of database storage.
    const PRICES: &str = r#"{
        "currency": "EUR", "cpuPerCoreHour": 0.04, "memoryPerGiBHour": 0.005,
        "resources": {
            "postgresql": {"small": 30, "standard": 60, "large": 120, "storagePerGBMonth": 0.1},
            "redis": {"small": 10, "standard": 20, "large": 40},
            "bucket": {"perGiBMonth": 0.02, "assumedGiB": 100}
        }
    }"#;

    fn platform(cost: Option<&str>) -> Platform {
        let mut spec = serde_json::json!({
            "environments": {
                "staging": {"cluster": "in-cluster", "domain": "s.dev"},
                "production": {"cluster": "in-cluster", "domain": "p.dev"}
            }
        });
        if let Some(c) = cost {
            spec["cost"] = serde_json::from_str(c).unwrap();
        }
        Platform::from_json(serde_json::json!({"metadata": {"name": "t"}, "spec": spec})).unwrap()
    }

    fn service(name: &str, spec: &str) -> Service {
        let yaml = format!(
            "apiVersion: paved.dev/v1\nkind: Application\nmetadata:\n  name: {name}\n  owner: team-orders\nspec:\n  image: ghcr.io/acme/{name}:1.0.0\n{spec}"
        );
        let src = crate::source::Source::virtual_file("platform.yaml", yaml.clone());
        let (node, diags) = crate::load::load_mapping(&src, "a spec");
        assert!(diags.is_empty(), "{yaml}");
        let node = node.unwrap();
        let json = node.to_json();
        Service::from_json(src, node, json, format!("{name}/platform.yaml")).unwrap()
    }

    /// The estimate of `spec` in staging, with the issue's prices.
    fn staging(spec: &str) -> Estimate {
        staging_with(PRICES, spec)
    }

    fn staging_with(prices: &str, spec: &str) -> Estimate {
        let p = platform(Some(prices));
        let instances = crate::model::resolve(&p, &[service("orders", spec)]);
        estimate(&p, &instances)
            .unwrap()
            .into_iter()
            .find(|e| e.environment == "staging")
            .unwrap()
    }

    #[test]
    fn quantities_are_read_exactly() {
        assert_eq!(cpu_cores("250m"), Some(d("0.25")));
        assert_eq!(cpu_cores("1"), Some(d("1")));
        assert_eq!(cpu_cores("1.5"), Some(d("1.5")));
        assert_eq!(cpu_cores("0.125"), Some(d("0.125")));
        assert_eq!(cpu_cores("-1"), None);
        assert_eq!(cpu_cores("m"), None);
        assert_eq!(memory_gib("512Mi"), Some(d("0.5")));
        assert_eq!(memory_gib("1Gi"), Some(d("1")));
        assert_eq!(memory_gib("3Ti"), Some(d("3072")));
        assert_eq!(memory_gib("1024Ki"), Some(d("0.0009765625")));
        // 10^9 / 2^30, a finite decimal.
        assert_eq!(memory_gib("1G"), Some(d("0.931322574615478515625")));
        // 5 × 10^8 / 2^30
        assert_eq!(memory_gib("500M"), Some(d("0.4656612873077392578125")));
        assert_eq!(memory_gib("1073741824"), Some(d("1")));
        assert_eq!(memory_gib("Gi"), None);
        assert_eq!(memory_gib("1.5Gi"), None);
    }

    #[test]
    fn a_quantity_too_large_is_not_priced_never_priced_at_0() {
        let p = platform(Some(PRICES));
        let t = p.cost.as_ref().unwrap();
        for memory in [
            "9999999999999999999999999Ti",
            "999999999999999999999999999999Ti",
        ] {
            let spec = format!("  replicas: 2\n  compute: {{cpu: 250m, memory: \"{memory}\"}}\n");
            let instances = crate::model::resolve(&p, &[service("orders", &spec)]);
            assert!(of_instance(t, &instances[0]).is_none(), "{memory}");
            assert_eq!(estimate(&p, &instances).unwrap(), Vec::new(), "{memory}");
            assert!(!pod_priceable(t, None, Some(memory)), "{memory}");
            assert!(pod_priceable(t, Some("250m"), None));
        }
        assert!(too_large("999999999999999999999999999999Ti", true));
        assert!(!too_large("1.5Gi", true));
        assert!(!too_large("250m", false));
    }

    #[test]
    fn prices_are_the_decimals_written() {
        assert_eq!(price(0.04), d("0.04"));
        assert_eq!(price(0.005), d("0.005"));
        assert_eq!(price(0.1) + price(0.2), d("0.3"));
        assert_eq!(price(30.0), d("30"));
    }

    #[test]
    fn rounding_is_once_and_half_away_from_zero() {
        assert_eq!(round(d("0.125")), d("0.13"));
        assert_eq!(round(d("0.135")), d("0.14"));
        assert_eq!(round(d("0.1249999")), d("0.12"));
        assert_eq!(round(d("27.375")), d("27.38"));
    }

    #[test]
    fn fixed_replicas() {
        let e = staging("  replicas: 3\n  compute: {cpu: 250m, memory: 512Mi}\n");
        // one pod an hour: 0.25 × 0.04 + 0.5 × 0.005 = 0.01 + 0.0025 = 0.0125
        // a month: 0.0125 × 730 = 9.125; three pods: 27.375
        assert_eq!(e.workload.pod_month, d("9.125"));
        assert_eq!(e.workload.replicas_from, ReplicasFrom::Fixed);
        assert_eq!(e.monthly, Range::fixed(d("27.375")));
        // rounded once, half up: 27.38
        assert_eq!(round(e.monthly.max), d("27.38"));
        assert_eq!(
            (e.team.as_str(), e.service.as_str()),
            ("team-orders", "orders")
        );
        assert_eq!(e.source, "orders/platform.yaml");
    }

    #[test]
    fn one_pod_at_a_half_cent_rounds_up() {
        let e = staging("  replicas: 1\n  compute: {cpu: 250m, memory: 512Mi}\n");
        // 9.125 for one pod: 9.13, not 9.12 (banker's)
        assert_eq!(e.monthly, Range::fixed(d("9.125")));
        assert_eq!(round(e.monthly.min), d("9.13"));
    }

    #[test]
    fn autoscaling_is_a_range_from_min_to_max() {
        let e = staging(
            "  replicas: auto\n  autoscaling: {min: 2, max: 5}\n  compute: {cpu: 500m, memory: 1Gi}\n",
        );
        // one pod a month: (0.5 × 0.04 + 1 × 0.005) × 730 = 0.025 × 730 = 18.25
        // 2 pods: 36.50; 5 pods: 91.25
        assert_eq!(e.workload.replicas_from, ReplicasFrom::Autoscaling);
        assert_eq!((e.workload.replicas_min, e.workload.replicas_max), (2, 5));
        assert_eq!(e.monthly.min, d("36.5"));
        assert_eq!(e.monthly.max, d("91.25"));
    }

    #[test]
    fn mixed_units() {
        let e = staging("  replicas: 1\n  compute: {cpu: 1.5, memory: 1G}\n");
        // 1.5 × 0.04 = 0.06; 1G = 0.931322574615478515625 GiB × 0.005
        //   = 0.004656612873077392578125; an hour 0.064656612873077392578125
        // × 730 = 47.19932739734649658203125 → 47.20
        assert_eq!(e.workload.cpu_cores, d("1.5"));
        assert_eq!(e.monthly.max, d("47.19932739734649658203125"));
        assert_eq!(round(e.monthly.max), d("47.20"));
    }

    #[test]
    fn limits_basis_prices_the_limits() {
        let prices = PRICES.replace("\"EUR\",", "\"EUR\", \"basis\": \"limits\",");
        let e = staging_with(
            &prices,
            "  replicas: 1\n  compute: {cpu: 250m, memory: 512Mi}\n",
        );
        // limits: cpu × 2 = 500m, memory × 1 = 512Mi (the default factors)
        // (0.5 × 0.04 + 0.5 × 0.005) × 730 = 0.0225 × 730 = 16.425 → 16.43
        assert_eq!(e.workload.cpu, "500m");
        assert_eq!(e.monthly, Range::fixed(d("16.425")));
        assert_eq!(round(e.monthly.max), d("16.43"));
    }

    #[test]
    fn resources_by_class_and_storage() {
        let e = staging(concat!(
            "  replicas: 1\n",
            "  compute: {cpu: 250m, memory: 512Mi}\n",
            "  resources:\n",
            "    db: {type: postgresql, class: standard, storageGB: 20}\n",
            "    cache: {type: redis, class: small}\n",
            "    files: {type: bucket}\n",
        ));
        // db: 60 + 20 GB × 0.1 = 62; cache: 10; files: 100 GiB × 0.02 = 2
        let monthly: Vec<_> = e
            .resources
            .iter()
            .map(|r| (r.name.as_str(), r.monthly))
            .collect();
        assert_eq!(
            monthly,
            [
                ("db", Some(d("62"))),
                ("cache", Some(d("10"))),
                ("files", Some(d("2")))
            ]
        );
        assert_eq!(e.resources[2].storage, Some(100));
        // 9.125 + 62 + 10 + 2 = 83.125 → 83.13
        assert_eq!(e.monthly, Range::fixed(d("83.125")));
        assert_eq!(round(e.monthly.max), d("83.13"));
    }

    #[test]
    fn a_type_without_prices_is_not_priced() {
        let prices = r#"{"currency": "EUR", "cpuPerCoreHour": 0.04, "memoryPerGiBHour": 0.005}"#;
        let e = staging_with(
            prices,
            "  replicas: 1\n  compute: {cpu: 250m, memory: 512Mi}\n  resources:\n    db: {type: postgresql}\n",
        );
        assert_eq!(e.resources[0].monthly, None);
        assert_eq!(e.monthly, Range::fixed(d("9.125")));
    }

    #[test]
    fn a_cronjob_is_zero_to_one_pod_all_month() {
        let e = staging(
            "  type: cronjob\n  schedule: \"0 3 * * *\"\n  compute: {cpu: 250m, memory: 512Mi}\n",
        );
        assert_eq!(e.workload.replicas_from, ReplicasFrom::Schedule);
        assert_eq!(e.monthly.min, Decimal::ZERO);
        assert_eq!(e.monthly.max, d("9.125"));
    }

    #[test]
    fn one_estimate_per_instance() {
        let p = platform(Some(PRICES));
        let instances = crate::model::resolve(&p, &[service("orders", "")]);
        let e = estimate(&p, &instances).unwrap();
        let envs: Vec<&str> = e.iter().map(|e| e.environment.as_str()).collect();
        assert_eq!(envs, ["staging", "production"]);
    }

    /// The rendered objects of one service in one environment.
    fn objects(yaml: &str) -> Vec<serde_json::Value> {
        yaml.split("---\n")
            .map(|d| serde_yaml::from_str(d).unwrap())
            .collect()
    }

    const RENDERED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: orders}
spec:
  template:
    spec:
      containers:
        - name: orders
          resources:
            requests: {cpu: 250m, memory: 512Mi}
            limits: {cpu: 500m, memory: 512Mi}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: orders, namespace: orders}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: orders}
  minReplicas: 2
  maxReplicas: 5
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: orders}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: nightly
              resources:
                requests: {cpu: "1", memory: 1Gi}
---
apiVersion: platform.acme.dev/v1alpha1
kind: PostgreSQLInstance
metadata: {name: db, namespace: orders}
spec:
  parameters: {version: "16", storageGB: 20, class: standard}
---
apiVersion: platform.acme.dev/v1alpha1
kind: Bucket
metadata: {name: files, namespace: orders}
spec:
  parameters: {class: standard}
---
apiVersion: s3.services.k8s.aws/v1alpha1
kind: Bucket
metadata: {name: elsewhere, namespace: orders}
spec: {name: elsewhere}
"#;

    #[test]
    fn rendered_objects_give_the_facts_the_model_would() {
        let objs = objects(RENDERED);
        let f = rendered_facts(&objs, CostBasis::Requests, "platform.acme.dev").unwrap();
        assert_eq!(
            f.pods,
            [
                Pods {
                    cpu_cores: d("0.25"),
                    memory_gib: d("0.5"),
                    min: 2,
                    max: 5
                },
                Pods {
                    cpu_cores: d("1"),
                    memory_gib: d("1"),
                    min: 0,
                    max: 1
                },
            ]
        );
        // The bucket of another API group is not Paved's.
        let kinds: Vec<(&str, &str, Option<u32>)> = f
            .resources
            .iter()
            .map(|r| (r.kind.as_str(), r.class.as_str(), r.storage_gb))
            .collect();
        assert_eq!(
            kinds,
            [
                ("postgresql", "standard", Some(20)),
                ("bucket", "standard", None)
            ]
        );
        let p = platform(Some(PRICES));
        let priced = price_facts(p.cost.as_ref().unwrap(), &f).unwrap();
        // orders: 9.125 a pod, 2–5 pods: 18.25–45.625; nightly: 0–32.85;
        // db: 60 + 20 × 0.1 = 62; files: 2. Whole: 82.25–142.475.
        assert_eq!(priced.pod_months, [d("9.125"), d("32.85")]);
        assert_eq!(
            priced.monthly,
            Range {
                min: d("82.25"),
                max: d("142.475")
            }
        );
        // Limits: 500m and 512Mi a pod.
        let f = rendered_facts(&objs, CostBasis::Limits, "platform.acme.dev").unwrap();
        assert_eq!(
            (f.pods[0].cpu_cores, f.pods[1].cpu_cores),
            (d("0.5"), d("0"))
        );
        // Without an autoscaler: `spec.replicas`, else 1.
        let alone: Vec<serde_json::Value> = objs[..1].to_vec();
        assert_eq!(
            rendered_facts(&alone, CostBasis::Requests, "x")
                .unwrap()
                .pods[0]
                .max,
            1
        );
    }

    #[test]
    fn an_argo_rollout_is_priced_as_a_deployment_and_its_kinds_are_priced() {
        let objs = objects(
            &RENDERED
                .replacen(
                    "apiVersion: apps/v1\nkind: Deployment",
                    "apiVersion: argoproj.io/v1alpha1\nkind: Rollout",
                    1,
                )
                .replacen(
                    "{apiVersion: apps/v1, kind: Deployment, name: orders}",
                    "{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: orders}",
                    1,
                ),
        );
        let f = rendered_facts(&objs, CostBasis::Requests, "platform.acme.dev").unwrap();
        assert_eq!(
            f.pods[0],
            Pods {
                cpu_cores: d("0.25"),
                memory_gib: d("0.5"),
                min: 2,
                max: 5
            }
        );
        for kind in [
            "Rollout",
            "Deployment",
            "StatefulSet",
            "CronJob",
            "HorizontalPodAutoscaler",
        ] {
            assert!(is_priced_kind(kind), "{kind}");
        }
        assert!(!is_priced_kind("Service"));
    }

    #[test]
    fn the_rendered_kinds_are_the_blueprints() {
        let partial = include_str!("../blueprints/_partials/crossplane.yaml");
        for (kind, t) in RENDERED_KINDS {
            let at = partial
                .find(&format!("\"{t}\": {{"))
                .unwrap_or_else(|| panic!("{t} in the partial"));
            assert!(
                partial[at..].contains(&format!("\"kind\": \"{kind}\"")),
                "{t}: {kind}"
            );
            let next = partial[at..].find("\"kind\": ").unwrap();
            assert!(
                partial[at + next..].starts_with(&format!("\"kind\": \"{kind}\"")),
                "{t}: {kind}"
            );
        }
    }

    #[test]
    fn a_review_keeps_the_rows_whose_shown_figure_changed() {
        let p = platform(Some(PRICES));
        let table = p.cost.as_ref().unwrap();
        let k = |e: &str, s: &str| (e.to_string(), s.to_string());
        let old: std::collections::BTreeMap<_, _> = [
            (k("production", "same"), Range::fixed(d("10.001"))),
            (k("production", "orders"), Range::fixed(d("9.125"))),
            (k("staging", "gone"), Range::fixed(d("5"))),
        ]
        .into_iter()
        .collect();
        let new: std::collections::BTreeMap<_, _> = [
            // 10.001 → 10.004: both shown as 10.00, not a change.
            (k("production", "same"), Range::fixed(d("10.004"))),
            (
                k("production", "orders"),
                Range {
                    min: d("18.25"),
                    max: d("45.625"),
                },
            ),
            (k("staging", "new"), Range::fixed(d("2"))),
        ]
        .into_iter()
        .collect();
        let r = review(table, &old, &new);
        let rows: Vec<(&str, &str)> = r
            .changes
            .iter()
            .map(|d| (d.environment.as_str(), d.service.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                ("production", "orders"),
                ("staging", "gone"),
                ("staging", "new")
            ]
        );
        assert_eq!((r.currency.as_str(), r.basis), ("EUR", "requests"));
        let (o, n, c) = r.total();
        assert_eq!(o, Range::fixed(d("14.125")));
        assert_eq!(
            n,
            Range {
                min: d("20.25"),
                max: d("47.625")
            }
        );
        assert_eq!(
            c,
            Range {
                min: d("6.125"),
                max: d("33.5")
            }
        );
        assert_eq!(signed(d("-5")), "-5.00");
        assert_eq!(signed(d("0.125")), "+0.13");
        assert_eq!(percent(d("191.68")), "191.7");
        assert_eq!(percent(d("0.05")), "0.1");
    }

    #[test]
    fn a_row_is_kept_when_its_rounded_delta_is_not_zero() {
        let p = platform(Some(PRICES));
        let table = p.cost.as_ref().unwrap();
        let k = |s: &str| ("staging".to_string(), s.to_string());
        let old: std::collections::BTreeMap<_, _> = [
            (k("edge"), Range::fixed(d("10.004"))),
            (k("half"), Range::fixed(d("10"))),
        ]
        .into_iter()
        .collect();
        let new: std::collections::BTreeMap<_, _> = [
            // Shown 10.00 → 10.01, but the change is 0.002: 0.00, no row.
            (k("edge"), Range::fixed(d("10.006"))),
            // A change of half a cent: +0.01, a row.
            (k("half"), Range::fixed(d("10.005"))),
        ]
        .into_iter()
        .collect();
        let r = review(table, &old, &new);
        let rows: Vec<(&str, String)> = r
            .changes
            .iter()
            .map(|d| (d.service.as_str(), signed(d.change().max)))
            .collect();
        assert_eq!(rows, [("half", "+0.01".to_string())]);
    }

    #[test]
    fn a_threshold_is_exceeded_by_percent_or_amount_on_the_maximum() {
        let delta = |old: Option<&str>, new: &str| Delta {
            environment: "production".into(),
            service: "orders".into(),
            old: old.map(|o| Range::fixed(d(o))),
            new: Some(Range::fixed(d(new))),
        };
        let t = |p: Option<&str>, m: Option<&str>| Threshold {
            percent: p.map(d),
            monthly: m.map(d),
        };
        // +25 %, +25.
        let up = delta(Some("100"), "125");
        assert_eq!(
            t(Some("20"), None).exceeded(&up),
            Some(Rise {
                rise: d("25"),
                percent: Some(d("25")),
                at: Bound::Max
            })
        );
        assert_eq!(t(Some("25"), None).exceeded(&up), None);
        assert!(t(None, Some("24.99")).exceeded(&up).is_some());
        assert_eq!(t(None, Some("25")).exceeded(&up), None);
        assert!(t(Some("50"), Some("10")).exceeded(&up).is_some());
        // From nothing: no percentage, the amount alone decides.
        let new = delta(None, "600");
        assert_eq!(t(Some("1"), None).exceeded(&new), None);
        assert_eq!(
            t(None, Some("500")).exceeded(&new),
            Some(Rise {
                rise: d("600"),
                percent: None,
                at: Bound::Max
            })
        );
        // Down: never.
        assert_eq!(
            t(Some("1"), Some("1")).exceeded(&delta(Some("600"), "1")),
            None
        );
    }

    #[test]
    fn a_threshold_judges_the_rise_of_the_floor_too() {
        // The autoscaler 2–10 → 10–10: the ceiling does not move, the floor
        // rises 5× (6.7525 → 33.7625).
        let floor = Delta {
            environment: "production".into(),
            service: "payments".into(),
            old: Some(Range {
                min: d("6.7525"),
                max: d("33.7625"),
            }),
            new: Some(Range::fixed(d("33.7625"))),
        };
        let t = |p: Option<&str>, m: Option<&str>| Threshold {
            percent: p.map(d),
            monthly: m.map(d),
        };
        let got = t(Some("20"), Some("500")).exceeded(&floor);
        assert_eq!(
            got,
            Some(Rise {
                rise: d("27.01"),
                percent: Some(d("400")),
                at: Bound::Min
            })
        );
        assert_eq!(
            t(None, Some("27")).exceeded(&floor).map(|r| r.at),
            Some(Bound::Min)
        );
        assert_eq!(t(Some("400"), Some("28")).exceeded(&floor), None);
    }

    #[test]
    fn no_table_no_estimate() {
        let p = platform(None);
        let instances = crate::model::resolve(&p, &[service("orders", "")]);
        assert_eq!(estimate(&p, &instances), None);
    }

    #[test]
    fn prices_are_promql_literals_as_written() {
        assert_eq!(literal(0.04), "0.04");
        assert_eq!(literal(0.005), "0.005");
        assert_eq!(literal(30.0), "30");
        assert_eq!(literal(0.0000001), "0.0000001");
        assert_eq!(literal(0.0), "0");
        let p = prices(&platform(Some(PRICES))).unwrap();
        assert_eq!(
            (p.cpu_per_core_hour.as_str(), p.memory_per_gib_hour.as_str()),
            ("0.04", "0.005")
        );
        assert_eq!((p.basis, p.hours_per_month), ("requests", 730));
        assert_eq!(prices(&platform(None)), None);
    }

    #[test]
    fn the_catalog_shows_each_environment_rounded_once() {
        let p = platform(Some(PRICES));
        let fixed = crate::model::resolve(
            &p,
            &[service(
                "orders",
                "  replicas: 3\n  compute: {cpu: 250m, memory: 512Mi}\n",
            )],
        );
        let refs: Vec<&Instance> = fixed.iter().collect();
        // 3 × 9.125 = 27.375 → 27.38 in both environments.
        let c = catalog(&p, &refs).unwrap();
        assert_eq!(c.summary, "staging: 27.38 EUR; production: 27.38 EUR");
        assert_eq!(
            (
                c.environments[0].min.as_str(),
                c.environments[0].max.as_str()
            ),
            ("27.38", "27.38")
        );
        let auto = crate::model::resolve(
            &p,
            &[service(
                "orders",
                "  replicas: auto\n  autoscaling: {min: 2, max: 5}\n  compute: {cpu: 500m, memory: 1Gi}\n",
            )],
        );
        let refs: Vec<&Instance> = auto.iter().take(1).collect();
        // 18.25 a pod: 36.50 to 91.25.
        assert_eq!(
            catalog(&p, &refs).unwrap().summary,
            "staging: 36.50 to 91.25 EUR"
        );
        assert_eq!(catalog(&platform(None), &refs), None);
    }

    /// A YAML file of the repository as JSON, and its tree.
    fn yaml_file(
        path: &std::path::Path,
    ) -> (
        crate::source::SourceRef,
        crate::load::Node,
        serde_json::Value,
    ) {
        let text = std::fs::read_to_string(path).unwrap();
        let src = crate::source::Source::virtual_file("platform.yaml", text);
        let (node, diags) = crate::load::load_mapping(&src, "a spec");
        assert!(diags.is_empty(), "{}", path.display());
        let node = node.unwrap();
        let json = node.to_json();
        (src, node, json)
    }

    /// The budget check estimates from `model::sizing` alone (what
    /// `paved validate` resolves); `paved cost`, the catalog and render from
    /// the whole instance. Over every service and environment of the
    /// `commerce` fixture (sizes, compute, fixed and autoscaled replicas, a
    /// cronjob, environment overrides of size and storage, databases, caches
    /// and a bucket), and a few more shapes, both give the same estimate,
    /// with either basis.
    #[test]
    fn the_sizing_path_agrees_with_the_instance_path() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/commerce/input");
        let (_, _, mut config) = yaml_file(&root.join("paved.yaml"));
        let mut services = Vec::new();
        for entry in std::fs::read_dir(&root).unwrap() {
            let spec = entry.unwrap().path().join("platform.yaml");
            if spec.is_file() {
                let (src, node, json) = yaml_file(&spec);
                services
                    .push(Service::from_json(src, node, json, spec.display().to_string()).unwrap());
            }
        }
        assert!(services.len() >= 5, "{}", services.len());
        services.push(service(
            "scaled",
            "  replicas: auto\n  autoscaling: {min: 2, max: 6}\n  compute: {cpu: 250m, memory: 1G}\n  resources:\n    cache: {type: redis, class: large}\n  environments:\n    staging: {autoscaling: {max: 3}}\n    production: {replicas: 4, compute: {cpu: 1.5, memory: 3Gi}, resources: {cache: {storageGB: 5}}}\n",
        ));
        services.push(service("plain", "  type: worker\n"));
        for basis in ["requests", "limits"] {
            config["spec"]["cost"]["basis"] = serde_json::Value::from(basis);
            let platform = Platform::from_json(config.clone()).unwrap();
            let table = platform.cost.as_ref().unwrap();
            let instances = crate::model::resolve(&platform, &services);
            assert!(instances.len() >= 10, "{}", instances.len());
            let mut autoscaled = 0;
            for i in &instances {
                let s = services.iter().find(|s| s.name() == i.name).unwrap();
                let env = &platform.environments[&i.environment.name];
                let sizing = crate::model::sizing(&platform, env, s);
                let from_sizing = estimate_sizing(table, s, &env.name, &sizing);
                assert_eq!(
                    from_sizing,
                    of_instance(table, i),
                    "{} in {}",
                    i.name,
                    env.name
                );
                let w = from_sizing.expect("priced").workload;
                autoscaled += usize::from(w.replicas_min < w.replicas_max);
            }
            assert!(autoscaled > 2, "{autoscaled}");
        }
    }
}
