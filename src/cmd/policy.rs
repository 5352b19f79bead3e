//! `paved policy`: the rules of the workspace's platform config with their
//! parameters, on stdout (`--format json`: one object per rule).

use std::fmt::Write as _;

use crate::app::{self, Fault, Inputs, Output};
use crate::diag::Format;
use crate::policy::Listing;

pub(crate) fn run(inputs: &Inputs, out: &Output) -> Result<bool, Fault> {
    for p in &inputs.paths {
        if std::fs::metadata(p).is_err() {
            return Err(Fault(format!(
                "no such file or folder: `{}`",
                crate::workspace::escape(&p.display().to_string())
            )));
        }
    }
    // Only the config is read, so a repository without specs has policies too.
    let config = match &inputs.config {
        Some(c) => Some(c.clone()),
        None => {
            let first = inputs
                .paths
                .first()
                .map_or(std::path::Path::new("."), |p| p.as_path());
            let dir = if first.is_file() {
                first.parent().unwrap_or(std::path::Path::new("."))
            } else {
                first
            };
            crate::workspace::config_for(dir)
        }
    };
    let (platform, diags) = app::load_config(config.as_deref())?;
    if out.format == Format::Sarif {
        // One log: the config's findings, and every policy rule as a rule
        // of the log (disabled when the platform turns it off).
        let rules: Vec<_> = platform
            .as_ref()
            .map(|p| crate::policy::listing(p).rules)
            .unwrap_or_default()
            .iter()
            .map(|r| (r.code, r.enabled))
            .chain(platform.as_ref().map(|p| {
                let b = crate::policy::listing(p).budgets;
                (b.code, b.enabled)
            }))
            .collect();
        app::print_stdout(&crate::diag::sarif::log(&diags, &rules))?;
        return Ok(platform.is_some());
    }
    app::report(&diags, out);
    let Some(platform) = platform else {
        return Ok(false);
    };
    app::print_stdout(&shown(&crate::policy::listing(&platform), out.format))?;
    Ok(true)
}

/// The listing as text (`human`), or as one JSON object per rule (`json`,
/// `github`), each with the platform's enforcement action and excluded
/// namespaces.
fn shown(listing: &Listing, format: Format) -> String {
    let action = &listing.enforcement_action;
    let excluded = &listing.excluded_namespaces;
    let mut out = String::new();
    if format != Format::Human {
        for r in &listing.rules {
            let mut line = serde_json::to_value(r).unwrap_or_default();
            if let Some(line) = line.as_object_mut() {
                line.insert("enforcementAction".into(), action.as_str().into());
                line.insert("excludedNamespaces".into(), excluded.clone().into());
            }
            let _ = writeln!(out, "{line}");
        }
        let line = serde_json::to_value(&listing.budgets).unwrap_or_default();
        let _ = writeln!(out, "{line}");
        return out;
    }
    let _ = writeln!(
        out,
        "Policies of platform `{}`: checked by `paved render`, enforced by Gatekeeper ({action}).",
        listing.platform
    );
    if listing.exemptions.is_empty() {
        let _ = writeln!(out, "Excluded namespaces: none");
    } else {
        let _ = writeln!(
            out,
            "Excluded namespaces (the platform's own components, and policy.excludedNamespaces):"
        );
        let width = listing.exemptions.iter().map(|(n, _)| n.len()).max();
        for (ns, fields) in &listing.exemptions {
            let _ = writeln!(
                out,
                "  {ns:<width$}  {}",
                fields.join(", "),
                width = width.unwrap_or(0)
            );
        }
    }
    if !listing.promotion.is_empty() {
        let _ = writeln!(
            out,
            "Promotion (environments.<env>.promote, allowAutoPromote):"
        );
        let width = listing.promotion.iter().map(|p| p.environment.len()).max();
        for p in &listing.promotion {
            let allowed = if p.allow_auto {
                "a service may say auto"
            } else {
                "auto is not allowed"
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {} by default; {allowed}",
                p.environment,
                p.default,
                width = width.unwrap_or(0)
            );
        }
    }
    out.push('\n');
    for r in &listing.rules {
        let state = if r.enabled { "" } else { " (off)" };
        let _ = writeln!(out, "{}{state}\n  {}", r.id, r.description);
        let _ = writeln!(out, "  code: {}  constraint: {}", r.code, r.kind);
        for (name, values) in r.parameters.iter().flatten() {
            let shown = if values.is_empty() {
                "[] (empty: the rule is off)".to_string()
            } else {
                format!("[{}]", values.join(", "))
            };
            let _ = writeln!(out, "  {name}: {shown}");
        }
        out.push('\n');
    }
    let b = &listing.budgets;
    let state = if b.enabled { "" } else { " (off)" };
    let _ = writeln!(out, "{}{state}\n  {}", b.id, b.description);
    let _ = writeln!(
        out,
        "  code: {}  severity: {} (budgetEnforcement)",
        b.code, b.enforcement
    );
    let currency = b.currency.as_deref().unwrap_or("(no price table)");
    for budget in &b.budgets {
        let _ = writeln!(
            out,
            "  {} {} in {}: {} {currency}",
            budget.scope, budget.name, budget.environment, budget.monthly
        );
    }
    out
}
