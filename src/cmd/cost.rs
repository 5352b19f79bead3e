//! `paved cost`: the monthly estimate of the selected services, per
//! environment, team and service (or summed `--by` one of them), as text,
//! markdown, JSON or CSV (docs/cost.md). Figures come from `cost::estimate`;
//! this module groups, sorts, rounds and prints them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::json;

use crate::app::{self, Fault, Inputs, Output};
use crate::cost::{self, Estimate, Range};
use crate::diag::Format;
use crate::model::CostConfig;

/// What one row of the table stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum By {
    /// A service in an environment (its team beside it).
    Instance,
    Team,
    Service,
    Environment,
}

impl By {
    /// The columns that name a row.
    fn keys(self) -> &'static [&'static str] {
        match self {
            By::Instance => &["environment", "team", "service"],
            By::Team => &["team"],
            By::Service => &["service", "team"],
            By::Environment => &["environment"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            By::Instance => "instance",
            By::Team => "team",
            By::Service => "service",
            By::Environment => "environment",
        }
    }
}

/// One row: exact figures, rounded when printed.
#[derive(Debug, Clone, Default)]
struct Row<'e> {
    key: Vec<String>,
    /// The estimates it sums (one for `By::Instance`).
    parts: Vec<&'e Estimate>,
    workload: Range,
    resources: Decimal,
    monthly: Range,
}

/// The table: rows sorted by cost, then by name, and their total.
struct Table<'e> {
    by: By,
    rows: Vec<Row<'e>>,
    total: Range,
}

fn table<'e>(estimates: &[&'e Estimate], by: By) -> Table<'e> {
    let mut groups: BTreeMap<Vec<String>, Row<'e>> = BTreeMap::new();
    for e in estimates {
        let key: Vec<String> = by
            .keys()
            .iter()
            .map(|k| match *k {
                "environment" => e.environment.clone(),
                "team" => e.team.clone(),
                _ => e.service.clone(),
            })
            .collect();
        let row = groups.entry(key.clone()).or_default();
        row.key = key;
        row.parts.push(e);
        row.workload = row.workload.add(e.workload.monthly);
        row.resources += e
            .resources
            .iter()
            .filter_map(|r| r.monthly)
            .sum::<Decimal>();
        row.monthly = row.monthly.add(e.monthly);
    }
    let mut rows: Vec<Row<'e>> = groups.into_values().collect();
    rows.sort_by(|a, b| {
        (b.monthly.max, b.monthly.min)
            .cmp(&(a.monthly.max, a.monthly.min))
            .then_with(|| a.key.cmp(&b.key))
    });
    let total = rows.iter().fold(Range::default(), |t, r| t.add(r.monthly));
    Table { by, rows, total }
}

/// A figure rounded once, to cents.
fn money(v: Decimal) -> String {
    format!("{:.2}", cost::round(v))
}

fn range(r: Range) -> String {
    let (min, max) = (money(r.min), money(r.max));
    if min == max {
        min
    } else {
        format!("{min}–{max}")
    }
}

/// Replicas of a row for one instance: `3`, `2–5`.
fn replicas(row: &Row) -> String {
    match row.parts.as_slice() {
        [e] if e.workload.replicas_min == e.workload.replicas_max => {
            e.workload.replicas_min.to_string()
        }
        [e] => format!("{}–{}", e.workload.replicas_min, e.workload.replicas_max),
        _ => String::new(),
    }
}

/// The resources no price covers: `orders/db (postgresql)`, once each.
fn not_priced(estimates: &[&Estimate]) -> Vec<String> {
    let set: BTreeSet<String> = estimates
        .iter()
        .flat_map(|e| {
            e.resources
                .iter()
                .filter(|r| r.monthly.is_none())
                .map(|r| format!("{}/{} ({})", e.service, r.name, r.kind))
        })
        .collect();
    set.into_iter().collect()
}

/// The header and cells of every row, and the total's cells, for people.
fn cells(t: &Table) -> (Vec<String>, Vec<Vec<String>>, Vec<String>) {
    let mut header: Vec<String> = t.by.keys().iter().map(|k| k.to_string()).collect();
    let instance = t.by == By::Instance;
    if instance {
        header.push("replicas".into());
    }
    header.extend(["workload", "resources", "monthly"].map(String::from));
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let mut c = r.key.clone();
            if instance {
                c.push(replicas(r));
            }
            c.extend([range(r.workload), money(r.resources), range(r.monthly)]);
            c
        })
        .collect();
    let mut total = vec![String::new(); header.len()];
    total[0] = "total".into();
    if let Some(last) = total.last_mut() {
        *last = range(t.total);
    }
    (header, rows, total)
}

fn preamble(price: &CostConfig) -> String {
    format!(
        "Monthly estimate in {} ({} × {} h; an estimate, not a bill: docs/cost.md)",
        price.currency,
        price.basis.as_str(),
        cost::HOURS_PER_MONTH
    )
}

fn text(t: &Table, price: &CostConfig, unpriced: &[String]) -> String {
    let (header, rows, total) = cells(t);
    let n = header.len();
    let mut width = vec![0usize; n];
    for line in std::iter::once(&header).chain(&rows).chain([&total]) {
        for (w, c) in width.iter_mut().zip(line) {
            *w = (*w).max(c.chars().count());
        }
    }
    // Names left, figures right.
    let figures = n - 3;
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if i >= figures {
                s.push_str(&pad);
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&pad);
            }
        }
        s.trim_end().to_string()
    };
    let mut s = preamble(price);
    s.push_str("\n\n");
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let _ = writeln!(s, "{}", line(&upper));
    for r in &rows {
        let _ = writeln!(s, "{}", line(r));
    }
    let _ = writeln!(s, "{}", line(&total));
    if !unpriced.is_empty() {
        let _ = writeln!(
            s,
            "\nNot priced (no price for their type in paved.yaml `cost.resources`): {}",
            unpriced.join(", ")
        );
    }
    s
}

fn markdown(t: &Table, price: &CostConfig, unpriced: &[String]) -> String {
    let (header, rows, total) = cells(t);
    let figures = header.len() - 3;
    let mut s = format!("{}\n\n", preamble(price));
    let _ = writeln!(s, "| {} |", header.join(" | "));
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i >= figures { "---:" } else { "---" })
        .collect();
    let _ = writeln!(s, "| {} |", align.join(" | "));
    for r in &rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    let bold: Vec<String> = total
        .iter()
        .map(|c| {
            if c.is_empty() {
                String::new()
            } else {
                format!("**{c}**")
            }
        })
        .collect();
    let _ = writeln!(s, "| {} |", bold.join(" | "));
    if !unpriced.is_empty() {
        let _ = writeln!(
            s,
            "\nNot priced (no price for their type in paved.yaml `cost.resources`): {}",
            unpriced.join(", ")
        );
    }
    s
}

fn range_json(r: Range) -> serde_json::Value {
    json!({"min": money(r.min), "max": money(r.max)})
}

fn json_doc(t: &Table, price: &CostConfig, unpriced: &[String]) -> String {
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for (k, v) in t.by.keys().iter().zip(&r.key) {
                o.insert((*k).to_string(), json!(v));
            }
            if let [e] = r.parts.as_slice() {
                if t.by == By::Instance {
                    o.insert("source".into(), json!(e.source));
                    o.insert(
                        "pod".into(),
                        json!({
                            "cpu": e.workload.cpu,
                            "memory": e.workload.memory,
                            "size": e.workload.size,
                            "monthly": money(e.workload.pod_month),
                        }),
                    );
                    o.insert(
                        "replicas".into(),
                        json!({
                            "min": e.workload.replicas_min,
                            "max": e.workload.replicas_max,
                            "from": e.workload.replicas_from.as_str(),
                        }),
                    );
                    let res: Vec<serde_json::Value> = e
                        .resources
                        .iter()
                        .map(|x| {
                            json!({
                                "name": x.name,
                                "type": x.kind,
                                "class": x.class,
                                "storage": x.storage,
                                "monthly": x.monthly.map(money),
                            })
                        })
                        .collect();
                    o.insert("resourceDetails".into(), json!(res));
                }
            }
            o.insert("workload".into(), range_json(r.workload));
            o.insert("resources".into(), json!(money(r.resources)));
            o.insert("monthly".into(), range_json(r.monthly));
            serde_json::Value::Object(o)
        })
        .collect();
    let doc = json!({
        "currency": price.currency,
        "basis": price.basis.as_str(),
        "hoursPerMonth": cost::HOURS_PER_MONTH,
        "by": t.by.name(),
        "rows": rows,
        "total": range_json(t.total),
        "notPriced": unpriced,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One line per row, the range in two columns, no total (a spreadsheet sums it).
fn csv(t: &Table, price: &CostConfig) -> String {
    let mut header: Vec<String> = t.by.keys().iter().map(|k| k.to_string()).collect();
    let instance = t.by == By::Instance;
    if instance {
        header.extend(["replicas_min", "replicas_max"].map(String::from));
    }
    header.extend(
        [
            "workload_min",
            "workload_max",
            "resources",
            "monthly_min",
            "monthly_max",
            "currency",
        ]
        .map(String::from),
    );
    let mut s = header.join(",");
    s.push('\n');
    for r in &t.rows {
        let mut c: Vec<String> = r.key.iter().map(|k| field(k)).collect();
        if let ([e], true) = (r.parts.as_slice(), instance) {
            c.push(e.workload.replicas_min.to_string());
            c.push(e.workload.replicas_max.to_string());
        }
        c.extend([
            money(r.workload.min),
            money(r.workload.max),
            money(r.resources),
            money(r.monthly.min),
            money(r.monthly.max),
            field(&price.currency),
        ]);
        s.push_str(&c.join(","));
        s.push('\n');
    }
    s
}

/// Prints the estimate of the selected services in `inputs.envs` (every
/// environment when empty). Exit 0 with a note on stderr and nothing on
/// stdout when paved.yaml has no price table.
pub(crate) fn run(inputs: &Inputs, by: By, format: Format, out: &Output) -> Result<bool, Fault> {
    let c = app::compile(inputs, true)?;
    let diags = c.selected_diags();
    app::report(&diags, out);
    if crate::diag::count_errors(&diags) > 0 {
        return Ok(false);
    }
    let Some(platform) = &c.platform else {
        return Ok(false);
    };
    let (Some(price), Some(all)) = (&platform.cost, cost::estimate(platform, &c.instances)) else {
        eprintln!(
            "paved: paved.yaml has no `cost` price table, so there is no estimate (docs/cost.md)"
        );
        return Ok(true);
    };
    let selected: BTreeSet<&str> = c.selected().map(|s| s.name()).collect();
    let estimates: Vec<&Estimate> = all
        .iter()
        .filter(|e| selected.contains(e.service.as_str()))
        .filter(|e| {
            c.envs
                .as_ref()
                .is_none_or(|envs| envs.contains(&e.environment))
        })
        .collect();
    let t = table(&estimates, by);
    let unpriced = not_priced(&estimates);
    app::print_stdout(&match format {
        Format::Json => json_doc(&t, price, &unpriced),
        Format::Markdown => markdown(&t, price, &unpriced),
        Format::Csv => csv(&t, price),
        _ => text(&t, price, &unpriced),
    })?;
    Ok(true)
}
