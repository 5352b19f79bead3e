//! `paved graph`: services, their `dependsOn` edges and the resources they
//! declare, as Mermaid (renders in GitHub markdown), Graphviz DOT, or JSON.
//! Built from the validated specs; nothing is rendered.

use std::fmt::Write as _;

use crate::app::{self, Fault, Inputs, Output};
use crate::diag::Format;
use crate::model::Service;

/// The graph as data: sorted, so the drawing is the same on every run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Graph {
    /// name, type, owner
    pub services: Vec<(String, String, String)>,
    /// service, resource name, resource type
    pub resources: Vec<(String, String, String)>,
    /// from service, to service
    pub depends: Vec<(String, String)>,
}

pub(crate) fn build(services: &[Service]) -> Graph {
    let mut g = Graph::default();
    for s in services {
        g.services.push((
            s.name().to_string(),
            s.spec.kind.as_str().to_string(),
            s.meta.owner.clone(),
        ));
        for (name, r) in &s.spec.resources {
            g.resources
                .push((s.name().to_string(), name.clone(), r.kind.clone()));
        }
        for d in &s.spec.depends_on {
            if let Some(t) = d.strip_prefix("component:") {
                g.depends.push((s.name().to_string(), t.to_string()));
            }
        }
    }
    g.services.sort();
    g.resources.sort();
    g.depends.sort();
    g.depends.dedup();
    g
}

/// Draws the graph in `format`: `mermaid`, `dot` or `json`.
pub(crate) fn run(inputs: &Inputs, format: Format, out: &Output) -> Result<bool, Fault> {
    let c = app::compile(inputs, false)?;
    let diags = c.selected_diags();
    app::report(&diags, out);
    if crate::diag::count_errors(&diags) > 0 {
        return Ok(false);
    }
    // The selected services, and the services they depend on.
    let selected: Vec<Service> = c.selected().cloned().collect();
    let g = build(&selected);
    app::print_stdout(&match format {
        Format::Dot => dot(&g),
        Format::Json => json(&g),
        _ => mermaid(&g),
    })?;
    Ok(true)
}

/// Service names are DNS labels, so `-` is the only character Mermaid ids reject.
fn id(prefix: &str, parts: &[&str]) -> String {
    format!("{prefix}_{}", parts.join("__").replace('-', "_"))
}

pub(crate) fn mermaid(g: &Graph) -> String {
    let mut s = String::from("flowchart LR\n");
    for (name, kind, owner) in &g.services {
        let _ = writeln!(
            s,
            "  {}[\"{name}<br/><small>{kind} · {owner}</small>\"]",
            id("svc", &[name])
        );
    }
    for (svc, name, kind) in &g.resources {
        let _ = writeln!(
            s,
            "  {}[(\"{name}<br/><small>{kind}</small>\")]",
            id("res", &[svc, name])
        );
    }
    for (from, to) in &g.depends {
        let _ = writeln!(
            s,
            "  {} -->|dependsOn| {}",
            id("svc", &[from]),
            id("svc", &[to])
        );
    }
    for (svc, name, _) in &g.resources {
        let _ = writeln!(
            s,
            "  {} -.-> {}",
            id("svc", &[svc]),
            id("res", &[svc, name])
        );
    }
    s
}

pub(crate) fn dot(g: &Graph) -> String {
    let mut s = String::from(
        "digraph paved {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    for (name, kind, owner) in &g.services {
        let _ = writeln!(
            s,
            "  \"{name}\" [shape=box, style=rounded, label=\"{name}\\n{kind} · {owner}\"];"
        );
    }
    for (svc, name, kind) in &g.resources {
        let _ = writeln!(
            s,
            "  \"{svc}/{name}\" [shape=cylinder, label=\"{name}\\n{kind}\"];"
        );
    }
    for (from, to) in &g.depends {
        let _ = writeln!(s, "  \"{from}\" -> \"{to}\" [label=\"dependsOn\"];");
    }
    for (svc, name, _) in &g.resources {
        let _ = writeln!(
            s,
            "  \"{svc}\" -> \"{svc}/{name}\" [style=dashed, arrowhead=none];"
        );
    }
    s.push_str("}\n");
    s
}

pub(crate) fn json(g: &Graph) -> String {
    let v = serde_json::json!({
        "services": g.services.iter().map(|(n, t, o)| serde_json::json!({"name": n, "type": t, "owner": o})).collect::<Vec<_>>(),
        "resources": g.resources.iter().map(|(s, n, t)| serde_json::json!({"service": s, "name": n, "type": t})).collect::<Vec<_>>(),
        "dependsOn": g.depends.iter().map(|(f, t)| serde_json::json!({"from": f, "to": t})).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        Graph {
            services: vec![
                ("inventory".into(), "service".into(), "team-a".into()),
                ("orders".into(), "service".into(), "team-a".into()),
            ],
            resources: vec![("orders".into(), "orders-db".into(), "postgresql".into())],
            depends: vec![("orders".into(), "inventory".into())],
        }
    }

    #[test]
    fn mermaid_and_dot_draw_nodes_and_edges() {
        let m = mermaid(&sample());
        assert_eq!(
            m,
            "flowchart LR\n  svc_inventory[\"inventory<br/><small>service · team-a</small>\"]\n  svc_orders[\"orders<br/><small>service · team-a</small>\"]\n  res_orders__orders_db[(\"orders-db<br/><small>postgresql</small>\")]\n  svc_orders -->|dependsOn| svc_inventory\n  svc_orders -.-> res_orders__orders_db\n"
        );
        let d = dot(&sample());
        assert!(
            d.contains("  \"orders\" -> \"inventory\" [label=\"dependsOn\"];\n"),
            "{d}"
        );
        assert!(d.contains("  \"orders/orders-db\" [shape=cylinder"), "{d}");
        assert!(d.ends_with("}\n"));
    }
}
