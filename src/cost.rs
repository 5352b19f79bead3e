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
//! Architecture invariant: a pure function of the platform and its
//! instances; knows nothing of files, diagnostics or output formats.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{CostBasis, CostConfig, Instance, Platform};

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
pub(crate) fn estimate(platform: &Platform, instances: &[Instance]) -> Option<Vec<Estimate>> {
    let table = platform.cost.as_ref()?;
    Some(instances.iter().map(|i| of_instance(table, i)).collect())
}

fn of_instance(table: &CostConfig, i: &Instance) -> Estimate {
    let q = match table.basis {
        CostBasis::Requests => &i.compute.requests,
        CostBasis::Limits => &i.compute.limits,
    };
    let cpu_cores = cpu_cores(&q.cpu).unwrap_or_default();
    let memory_gib = memory_gib(&q.memory).unwrap_or_default();
    let hourly =
        cpu_cores * price(table.cpu_per_core_hour) + memory_gib * price(table.memory_per_gib_hour);
    let pod_month = hourly * Decimal::from(HOURS_PER_MONTH);
    let (replicas_min, replicas_max, replicas_from) = match (&i.autoscaling, i.replicas) {
        (Some(a), _) => (a.min, a.max, ReplicasFrom::Autoscaling),
        (None, Some(n)) => (n, n, ReplicasFrom::Fixed),
        (None, None) if i.kind == "cronjob" => (0, 1, ReplicasFrom::Schedule),
        (None, None) => (i.min_replicas, i.min_replicas, ReplicasFrom::Fixed),
    };
    let workload = Workload {
        cpu: q.cpu.clone(),
        memory: q.memory.clone(),
        cpu_cores,
        memory_gib,
        replicas_min,
        replicas_max,
        replicas_from,
        size: i.compute.size.clone(),
        pod_month,
        monthly: Range {
            min: pod_month * Decimal::from(replicas_min),
            max: pod_month * Decimal::from(replicas_max),
        },
    };
    let resources: Vec<ResourceCost> = i
        .resources
        .iter()
        .map(|r| {
            let (storage, monthly) = if r.kind == "bucket" {
                let b = table.resources.bucket.as_ref();
                (
                    b.map(|b| b.assumed_gib),
                    b.map(|b| price(b.per_gib_month) * Decimal::from(b.assumed_gib)),
                )
            } else {
                let c = table.resources.classes(&r.kind);
                let monthly = c.and_then(|c| {
                    let class = price(c.of(&r.class)?);
                    let gb = Decimal::from(r.storage_gb.unwrap_or(0));
                    Some(class + gb * price(c.storage_per_gb_month))
                });
                (r.storage_gb, monthly)
            };
            ResourceCost {
                name: r.name.clone(),
                kind: r.kind.clone(),
                class: r.class.clone(),
                storage,
                monthly,
            }
        })
        .collect();
    let monthly = resources
        .iter()
        .filter_map(|r| r.monthly)
        .fold(workload.monthly, |acc, m| acc.add(Range::fixed(m)));
    Estimate {
        service: i.name.clone(),
        team: i.owner.clone(),
        environment: i.environment.name.clone(),
        source: i.source.clone(),
        workload,
        resources,
        monthly,
    }
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

/// The estimate of one instance; `None` without a price table.
pub(crate) fn estimate_one(platform: &Platform, instance: &Instance) -> Option<Estimate> {
    Some(of_instance(platform.cost.as_ref()?, instance))
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

/// A whole number written in digits only.
fn whole(s: &str) -> Option<Decimal> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Decimal::from_str(s).ok()
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
        .map(|i| {
            let e = of_instance(table, i);
            let (min, max) = (money(e.monthly.min), money(e.monthly.max));
            let text = if min == max {
                format!("{max} {}", prices.currency)
            } else {
                format!("{min} to {max} {}", prices.currency)
            };
            CatalogFigure {
                environment: e.environment,
                min,
                max,
                text,
            }
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
}
